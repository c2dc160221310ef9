//! Leaky integrate-and-fire neurons with exponential synapses, current- or conductance-based.
//!
//! ```text
//! current:      τ_m dv/dt = -(v - E_L) + g_e + g_i + bias            (g in mV)
//! conductance:  τ_m dv/dt = -(v - E_L) + g_e (E_e - v) + g_i (E_i - v) + bias   (g in units of g_L)
//! synapses:     τ_e dg_e/dt = -g_e,  τ_i dg_i/dt = -g_i,  g += deposit at arrival
//! spike:        v ≥ v_thresh  →  v ← v_reset, held there for `refractory` steps
//! ```
//!
//! ## One step, in this order
//! 1. This step's deposits are added: `g_e += exc`, `g_i += inh` (saturating). With conductance-based
//!    synapses the sums are then clamped at 0: a deposit is a conductance jump and must be
//!    non-negative to mean anything; a negative one can at most remove the conductance there is.
//! 2. `v` is integrated with the conductances held constant over the step — unless the neuron is
//!    refractory, in which case `v` is held at `v_reset` and the counter decrements:
//!    - current-based, **exponential Euler** (exact for piecewise-constant input):
//!      `v ← E_L + (v - E_L)·e^{-dt/τ_m} + (1 - e^{-dt/τ_m})·(g_e + g_i + bias)`;
//!    - conductance-based, **forward Euler**:
//!      `v ← v + dt/τ_m · [(E_L - v) + g_e(E_e - v) + g_i(E_i - v) + bias]`.
//! 3. If `v ≥ v_thresh` (never while refractory): spike, `v ← v_reset`, counter ← refractory steps.
//! 4. The conductances decay: `g ← g·e^{-dt/τ}` (exact).
//!
//! So a deposit made by the spikes of step n (delivered by a projection before step n+1) acts on `v`
//! from step n+1 on, which is the order of Brian2's schedule (state update, threshold, reset, then
//! synaptic propagation). Brian2's `method='exact'` lets `g` decay *within* the step while `v`
//! integrates it; here `g` is piecewise constant, so the charge of one postsynaptic current is larger by
//! `(dt/τ)/(1 - e^{-dt/τ}) ≈ 1 + dt/2τ` (1 % for τ_e = 5 ms at dt = 0.1 ms).
//!
//! After a spike `v` is held for `R = round(refractory_ms / dt)` steps and integrated again on step
//! R + 1, so with constant input the period is `R·dt` plus the free integration time rounded up to
//! whole steps.
//!
//! ## Whole populations
//! [`LifPopulation`] stores the neurons as one array per variable and steps them with a branch-free
//! kernel on raw bits (the same operations as `step`, in the same order) that the compiler vectorises
//! (4 neurons per SSE2 vector, 8 with AVX2) on targets with vector instructions; on scalar
//! microcontrollers it runs `step` neuron by neuron (cheaper there). Each block of 64
//! neurons is first checked against bounds under which no addition can overflow and no product
//! needs its clamp; such a block (in a running network: every block) runs with plain wrapping
//! arithmetic, any other exactly as `step`. The bounds and their proof are on `Kernel` below; tests
//! compare both paths with `step` on random, extreme and boundary states.
//!
//! ## Conductance-based stability
//! Forward Euler on `dv/dt = -(1 + g_e + g_i)/τ_m · v + ...` is monotone while
//! `dt/τ_m · (1 + g_e + g_i) < 1` and stable while it is `< 2`. [`Lif::new`] refuses `dt ≥ τ_m/2` (then a
//! total conductance of one leak conductance already overshoots); the user keeps
//! `g_e + g_i < τ_m/dt - 1` (199 for COBA at dt = 0.1 ms; COBA stays far below). Beyond that `v`
//! oscillates around the reversal potential and, at worst, saturates at the [`Fix`] range: it never
//! panics.
//!
//! ## Fixed point
//! `v`, `g` are [`Fix`] (Q16.16). Decay factors and gains are [`Frac`] (Q0.32, rounded to nearest;
//! `1 - e^{-dt/τ_m}` is the exact complement of the stored decay factor). The current-based update is
//! computed in the algebraically equal one-product form `v ← v + (1 - e^{-dt/τ_m})·(E_L + I - v)`
//! (`I = g_e + g_i + bias`): one rounding per step. Each product rounds to nearest; every addition
//! saturates. The leak contracts errors, so rounding cannot accumulate beyond `0.5 LSB / g` where `g` is
//! the per-step gain (`1 - e^{-dt/τ_m}` or `dt/τ_m`): 100 LSB = 1.5e-3 mV for τ_m = 20 ms at
//! dt = 0.1 ms. That is also the dead band around a fixed point (a step smaller than half an LSB rounds
//! to zero); tests measure ≤ 1e-3 mV against the `f64` reference.

use super::{MAX_NEURONS, NeuronModel, Spikes};
use crate::error::{ConfigError, check_len};
use crate::num::{Fix, Frac, fix_from_f32, mul, steps};

/// How synaptic input acts on the membrane.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Synapses {
    /// Current-based: `g_e`, `g_i` are currents in mV (input resistance folded in); the sign of an
    /// inhibitory current is carried by its (negative) weights.
    Current,
    /// Conductance-based: `g_e`, `g_i` are conductances in units of the leak conductance `g_L`
    /// (dimensionless, non-negative), pulling `v` toward the reversal potentials.
    Conductance {
        /// Excitatory reversal potential `E_e` (mV).
        e_exc: f32,
        /// Inhibitory reversal potential `E_i` (mV).
        e_inh: f32,
    },
}

/// LIF configuration (floats, ms and mV), validated by [`Lif::new`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifParams {
    /// Membrane time constant τ_m (ms).
    pub tau_m_ms: f32,
    /// Leak reversal (resting) potential E_L (mV).
    pub e_leak: f32,
    /// Spike threshold (mV).
    pub v_thresh: f32,
    /// Reset potential (mV); must be below `v_thresh`.
    pub v_reset: f32,
    /// Absolute refractory period (ms), rounded to whole steps.
    pub refractory_ms: f32,
    /// Excitatory synaptic time constant τ_e (ms).
    pub tau_exc_ms: f32,
    /// Inhibitory synaptic time constant τ_i (ms).
    pub tau_inh_ms: f32,
    /// Constant input (mV, i.e. `I/g_L`), 0 by default.
    pub bias: f32,
    /// Current- or conductance-based input.
    pub synapses: Synapses,
}

impl LifParams {
    /// The neuron of Brian2's CUBA benchmark (Vogels & Abbott 2005, as in Brette et al. 2007):
    /// `dv/dt = (ge + gi - (v - El))/taum`, τ_m 20 ms, τ_e 5 ms, τ_i 10 ms, V_t −50 mV, V_r −60 mV,
    /// E_L −49 mV, refractory 5 ms. (Its weights: `we = 1.62` mV, `wi = −9` mV. E_L lies above threshold,
    /// so an isolated neuron fires regularly.)
    pub const fn cuba() -> LifParams {
        LifParams {
            tau_m_ms: 20.0,
            e_leak: -49.0,
            v_thresh: -50.0,
            v_reset: -60.0,
            refractory_ms: 5.0,
            tau_exc_ms: 5.0,
            tau_inh_ms: 10.0,
            bias: 0.0,
            synapses: Synapses::Current,
        }
    }

    /// The neuron of Brian2's COBA benchmark: `dv/dt = (ge(Ee - v) + gi(Ei - v) - (v - El))/taum`,
    /// τ_m 20 ms, τ_e 5 ms, τ_i 10 ms, V_t −50 mV, V_r −60 mV, E_L −60 mV, E_e 0 mV, E_i −80 mV,
    /// refractory 5 ms; conductances in units of g_L = 10 nS (its weights: `we = 0.6`, `wi = 6.7`).
    pub const fn coba() -> LifParams {
        LifParams {
            tau_m_ms: 20.0,
            e_leak: -60.0,
            v_thresh: -50.0,
            v_reset: -60.0,
            refractory_ms: 5.0,
            tau_exc_ms: 5.0,
            tau_inh_ms: 10.0,
            bias: 0.0,
            synapses: Synapses::Conductance {
                e_exc: 0.0,
                e_inh: -80.0,
            },
        }
    }
}

/// State of one LIF neuron.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LifState {
    /// Membrane potential (mV).
    pub v: Fix,
    /// Excitatory synaptic variable: current (mV) or conductance (units of g_L).
    pub g_exc: Fix,
    /// Inhibitory synaptic variable: current (mV) or conductance (units of g_L).
    pub g_inh: Fix,
    /// Remaining refractory steps (0: integrating).
    pub refractory: u16,
}

/// The fixed-point input kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Input {
    Current,
    Conductance { e_exc: Fix, e_inh: Fix },
}

/// A validated LIF model in fixed point (see the module doc for the step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Lif {
    /// Current-based: `e^{-dt/τ_m}`. Conductance-based: unused (zero).
    decay_m: Frac,
    /// Current-based: `1 - e^{-dt/τ_m}`. Conductance-based: `dt/τ_m`.
    gain_m: Frac,
    decay_exc: Frac,
    decay_inh: Frac,
    e_leak: Fix,
    v_thresh: Fix,
    v_reset: Fix,
    bias: Fix,
    refractory_steps: u16,
    input: Input,
}

/// Voltages must stay well inside the Q16.16 range so that differences of two of them cannot saturate.
const MAX_MV: f32 = 16_000.0;

fn voltage(what: &'static str, value: f32) -> Result<Fix, ConfigError> {
    if !value.is_finite() || value.abs() > MAX_MV {
        return Err(ConfigError::OutOfRange { what, value });
    }
    fix_from_f32(what, value)
}

impl Lif {
    /// Validates `p` for time step `dt_ms`.
    ///
    /// Refuses: non-positive, non-finite or `≤ dt` time constants; `dt ≥ τ_m/2` with conductance-based
    /// synapses (see the module doc); voltages that are not finite or exceed ±16 000 mV;
    /// `v_reset ≥ v_thresh`; a negative or non-finite refractory period or one over 65 535 steps.
    pub fn new(p: LifParams, dt_ms: f32) -> Result<Lif, ConfigError> {
        let decay_m = Frac::decay("LIF tau_m", p.tau_m_ms, dt_ms)?;
        let decay_exc = Frac::decay("LIF tau_exc", p.tau_exc_ms, dt_ms)?;
        let decay_inh = Frac::decay("LIF tau_inh", p.tau_inh_ms, dt_ms)?;
        let e_leak = voltage("LIF e_leak", p.e_leak)?;
        let v_thresh = voltage("LIF v_thresh", p.v_thresh)?;
        let v_reset = voltage("LIF v_reset", p.v_reset)?;
        let bias = voltage("LIF bias", p.bias)?;
        if v_reset >= v_thresh {
            return Err(ConfigError::Invalid {
                what: "LIF v_reset must be below v_thresh",
            });
        }
        let refractory_steps = steps("LIF refractory_ms", p.refractory_ms, dt_ms)?;
        let (decay_m, gain_m, input) = match p.synapses {
            Synapses::Current => (
                decay_m,
                // Exact complement of the stored factor (decay > 0 since dt < τ).
                Frac(0u32.wrapping_sub(decay_m.0)),
                Input::Current,
            ),
            Synapses::Conductance { e_exc, e_inh } => {
                if dt_ms >= 0.5 * p.tau_m_ms {
                    return Err(ConfigError::TimeStepTooLarge {
                        what: "conductance-based LIF tau_m (forward Euler needs dt < tau_m/2)",
                        dt_ms,
                        tau_ms: p.tau_m_ms,
                    });
                }
                (
                    Frac::ZERO,
                    Frac::gain("LIF tau_m", p.tau_m_ms, dt_ms)?,
                    Input::Conductance {
                        e_exc: voltage("LIF e_exc", e_exc)?,
                        e_inh: voltage("LIF e_inh", e_inh)?,
                    },
                )
            }
        };
        Ok(Lif {
            decay_m,
            gain_m,
            decay_exc,
            decay_inh,
            e_leak,
            v_thresh,
            v_reset,
            bias,
            refractory_steps,
            input,
        })
    }

    /// The resting state: `v = E_L`, no synaptic input, not refractory. (A fixed point only if
    /// `E_L + bias < v_thresh`; in CUBA, E_L is above threshold.)
    pub fn rest_state(&self) -> LifState {
        LifState {
            v: self.e_leak,
            ..LifState::default()
        }
    }

    /// The spike threshold `v_thresh` (mV).
    #[inline]
    pub fn v_thresh(&self) -> Fix {
        self.v_thresh
    }

    /// The reset potential (mV).
    #[inline]
    pub fn v_reset(&self) -> Fix {
        self.v_reset
    }

    /// The leak reversal potential E_L (mV).
    #[inline]
    pub fn e_leak(&self) -> Fix {
        self.e_leak
    }

    /// The membrane decay factor `e^{-dt/τ_m}` of the current-based model (zero for conductance-based,
    /// which uses forward Euler).
    #[inline]
    pub fn decay_m(&self) -> Frac {
        self.decay_m
    }

    /// Steps a spike holds the neuron at `v_reset`.
    #[inline]
    pub fn refractory_steps(&self) -> u16 {
        self.refractory_steps
    }

    /// Steps 1–4 of the module doc for any threshold `thresh ≥ v_thresh` (the adaptive LIF passes its
    /// moving threshold). Returns whether the neuron spiked.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn advance(
        &self,
        v: &mut Fix,
        g_exc: &mut Fix,
        g_inh: &mut Fix,
        refractory: &mut u16,
        exc: Fix,
        inh: Fix,
        thresh: Fix,
    ) -> bool {
        let mut ge = g_exc.saturating_add(exc);
        let mut gi = g_inh.saturating_add(inh);
        let integrated = match self.input {
            Input::Current => {
                // E_L + (v - E_L)·d + (1 - d)·I  ==  v + (1 - d)·(E_L + I - v): one product.
                let target = self
                    .e_leak
                    .saturating_add(ge)
                    .saturating_add(gi)
                    .saturating_add(self.bias);
                v.saturating_add(self.gain_m.mul(target.saturating_sub(*v)))
            }
            Input::Conductance { e_exc, e_inh } => {
                ge = ge.max(Fix::ZERO);
                gi = gi.max(Fix::ZERO);
                let drive = self
                    .e_leak
                    .saturating_sub(*v)
                    .saturating_add(mul(ge, e_exc.saturating_sub(*v)))
                    .saturating_add(mul(gi, e_inh.saturating_sub(*v)))
                    .saturating_add(self.bias);
                v.saturating_add(self.gain_m.mul(drive))
            }
        };
        let held = *refractory != 0;
        let v_new = if held { self.v_reset } else { integrated };
        let spike = !held && v_new >= thresh;
        *v = if spike { self.v_reset } else { v_new };
        *refractory = if spike {
            self.refractory_steps
        } else {
            refractory.saturating_sub(1)
        };
        *g_exc = self.decay_exc.mul(ge);
        *g_inh = self.decay_inh.mul(gi);
        spike
    }
}

impl NeuronModel for Lif {
    type State = LifState;

    /// One step (module doc: deposit, integrate or hold, threshold and reset, decay).
    #[inline]
    fn step(&self, s: &mut LifState, exc: Fix, inh: Fix) -> bool {
        self.advance(
            &mut s.v,
            &mut s.g_exc,
            &mut s.g_inh,
            &mut s.refractory,
            exc,
            inh,
            self.v_thresh,
        )
    }

    #[inline]
    fn potential(s: &LifState) -> Fix {
        s.v
    }
}

/// The arrays of a [`LifPopulation`], each one entry per neuron.
#[derive(Debug)]
pub struct LifStorage<'a> {
    /// Membrane potentials.
    pub v: &'a mut [Fix],
    /// Excitatory synaptic variables.
    pub g_exc: &'a mut [Fix],
    /// Inhibitory synaptic variables.
    pub g_inh: &'a mut [Fix],
    /// Refractory counters.
    pub refractory: &'a mut [u16],
    /// Excitatory-channel deposits.
    pub exc: &'a mut [Fix],
    /// Inhibitory-channel deposits.
    pub inh: &'a mut [Fix],
    /// Spike list buffer.
    pub spikes: &'a mut [u16],
}

/// N LIF neurons stored as one array per state variable (structure of arrays), on caller storage.
///
/// The same model and the same bits as a [`Population`](super::Population)`<Lif>` — neuron `j` is the
/// [`LifState`] `{ v[j], g_exc[j], g_inh[j], refractory[j] }` — but laid out so that a step loads
/// several neurons of one variable with one vector load: the layout for large networks on the host
/// (the Brette 2007 benchmarks). Fields are public for the same reason as `Population`'s.
#[derive(Debug)]
pub struct LifPopulation<'a> {
    /// The model's parameters.
    pub model: Lif,
    /// Membrane potentials (mV).
    pub v: &'a mut [Fix],
    /// Excitatory synaptic variables.
    pub g_exc: &'a mut [Fix],
    /// Inhibitory synaptic variables.
    pub g_inh: &'a mut [Fix],
    /// Refractory counters (steps left).
    pub refractory: &'a mut [u16],
    /// This step's excitatory-channel deposits (zeroed by `step`).
    pub exc: &'a mut [Fix],
    /// This step's inhibitory-channel deposits (zeroed by `step`).
    pub inh: &'a mut [Fix],
    /// Who spiked in the last `step`.
    pub spikes: Spikes<'a>,
}

impl<'a> LifPopulation<'a> {
    /// A population on `st`; every array must have the same length N ≤ [`MAX_NEURONS`]. Every
    /// neuron starts in [`Lif::rest_state`], with no deposits.
    pub fn new(model: Lif, st: LifStorage<'a>) -> Result<Self, ConfigError> {
        let n = st.v.len();
        if n > MAX_NEURONS {
            return Err(ConfigError::TooLarge {
                what: "population size",
                got: n,
                max: MAX_NEURONS,
            });
        }
        check_len("LIF g_exc", n, st.g_exc.len())?;
        check_len("LIF g_inh", n, st.g_inh.len())?;
        check_len("LIF refractory", n, st.refractory.len())?;
        check_len("excitatory input", n, st.exc.len())?;
        check_len("inhibitory input", n, st.inh.len())?;
        check_len("spike buffer", n, st.spikes.len())?;
        let mut p = LifPopulation {
            model,
            v: st.v,
            g_exc: st.g_exc,
            g_inh: st.g_inh,
            refractory: st.refractory,
            exc: st.exc,
            inh: st.inh,
            spikes: Spikes::new(st.spikes),
        };
        for j in 0..n {
            p.set(j, model.rest_state());
        }
        p.exc.fill(Fix::ZERO);
        p.inh.fill(Fix::ZERO);
        Ok(p)
    }

    /// Number of neurons.
    #[inline]
    pub fn len(&self) -> usize {
        self.v.len()
    }

    /// An empty population.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.v.is_empty()
    }

    /// The state of neuron `j`, if it exists.
    pub fn get(&self, j: usize) -> Option<LifState> {
        Some(LifState {
            v: *self.v.get(j)?,
            g_exc: *self.g_exc.get(j)?,
            g_inh: *self.g_inh.get(j)?,
            refractory: *self.refractory.get(j)?,
        })
    }

    /// Sets the state of neuron `j` (nothing happens if there is no neuron `j`).
    pub fn set(&mut self, j: usize, s: LifState) {
        if let (Some(v), Some(ge), Some(gi), Some(r)) = (
            self.v.get_mut(j),
            self.g_exc.get_mut(j),
            self.g_inh.get_mut(j),
            self.refractory.get_mut(j),
        ) {
            (*v, *ge, *gi, *r) = (s.v, s.g_exc, s.g_inh, s.refractory);
        }
    }

    /// Every neuron's state, in order.
    pub fn states(&self) -> impl Iterator<Item = LifState> + '_ {
        (0..self.len()).filter_map(|j| self.get(j))
    }

    /// Advances every neuron by one step (the LIF step of the module doc), consuming this step's
    /// deposits and recording spikes.
    ///
    /// On targets with vector instructions this is the block kernel (`Kernel`); on the scalar
    /// microcontrollers (Cortex-M: `qadd` saturates in one instruction, and there is nothing to
    /// vectorise) the plain per-neuron step, which costs less there. Same bits either way.
    pub fn step(&mut self) {
        if VECTOR {
            self.spikes.clear();
            let k = Kernel::new(&self.model);
            match self.model.input {
                Input::Current => k.run_arrays::<false>(self),
                Input::Conductance { .. } => k.run_arrays::<true>(self),
            }
        } else {
            self.step_scalar();
        }
    }

    /// The per-neuron step ([`Lif::advance`]) over the arrays.
    fn step_scalar(&mut self) {
        self.spikes.clear();
        let it = self
            .v
            .iter_mut()
            .zip(self.g_exc.iter_mut())
            .zip(self.g_inh.iter_mut())
            .zip(self.refractory.iter_mut())
            .zip(self.exc.iter_mut().zip(self.inh.iter_mut()));
        for (j, ((((v, ge), gi), r), (e, i))) in it.enumerate() {
            let thresh = self.model.v_thresh;
            if self.model.advance(v, ge, gi, r, *e, *i, thresh) {
                // j < MAX_NEURONS (checked in `new`), one slot per neuron
                self.spikes.push(j as u16);
            }
            *e = Fix::ZERO;
            *i = Fix::ZERO;
        }
    }
}

/// Whether the target has vector instructions the block kernel is written for (x86 SSE2/AVX,
/// AArch64 and Arm NEON, WebAssembly SIMD); elsewhere [`LifPopulation::step`] steps neuron by neuron.
const VECTOR: bool = cfg!(any(
    target_arch = "x86",
    target_arch = "x86_64",
    target_arch = "aarch64",
    all(target_arch = "arm", target_feature = "neon"),
    all(target_arch = "wasm32", target_feature = "simd128")
));

/// Neurons per block of the population kernel: the range check and the spike scan are per block.
const BLOCK: usize = 64;

/// The LIF step on raw bits (`Fix` as `i32`, `Frac` as `u32`), for a whole population.
///
/// [`Kernel::neuron`] computes exactly what [`Lif::advance`] computes — the same additions, the same
/// products rounded to nearest, in the same order — without branches on per-neuron data, so that the
/// compiler vectorises the loop over the neurons of a block: on structure-of-arrays storage
/// ([`LifPopulation`]) every variable of 4–8 neurons is one vector load.
///
/// **Two instantiations, one text.** With `FAST = false` every addition saturates and every product
/// is clamped, as in `advance`. Saturating 32-bit additions and 64-bit clamps have no vector
/// instruction on most targets and cost several each; they change nothing unless a value is huge.
/// So each block of [`LifPopulation`] is first checked ([`Kernel::in_range`]): if every potential,
/// synaptic variable and deposit of the block lies in the bounds below, no addition can overflow and
/// no product needs its clamp, and the block runs with `FAST = true` (plain wrapping operations, the
/// same bits); otherwise it runs exactly as `advance`.
/// - current-based: `v, g_e, g_i, exc, inh ∈ [-2^27, 2^27)` (±2048 mV) and `|E_L|, |bias| < 2^27`:
///   every sum has at most six such terms (or fractions of them), `< 2^30`.
/// - conductance-based: `v ∈ [v_thresh − 2^22, v_thresh)` (the 64 mV below threshold, where the
///   potentials of a running network are; the window bounds `|E_L − v|` by `A` and `|E − v|` by
///   `L_e`, `L_i`), and every `g` and deposit non-negative. The block's synaptic variables and
///   deposits are OR-ed per channel; if the OR has `b` bits, each is `< 2^b`, so `g + dep < 2^(b+1)`
///   and `|g·(E − v)/2^16| ≤ 2^(b+1)·L/2^16 + 1`. The block is fast if
///   `2^(b_e+1)·L_e + 2^(b_i+1)·L_i ≤ 2^16·(2^31 − 4 − A − |bias|)`: then no partial sum of the drive
///   reaches `2^31` and no product needs its clamp; `dt/τ_m < 1/2` bounds the step
///   `v + drive·dt/τ_m`. The bound adapts to each block: small excitatory conductances leave room
///   for large inhibitory ones.
///
/// The spike flags of a block go to a small array that is scanned after the block (spikes are rare:
/// almost every block has none). Tests compare both instantiations with `advance` on random, edge and
/// realistic states.
#[derive(Debug, Clone, Copy)]
struct Kernel {
    e_leak: i32,
    bias: i32,
    v_thresh: i32,
    v_reset: i32,
    e_exc: i32,
    e_inh: i32,
    gain_m: u32,
    decay_exc: u32,
    decay_inh: u32,
    refractory_steps: u16,
    /// The parameters allow the fast path (see the type doc).
    fast: bool,
    /// Conductance-based: lower end of the fast window of `v`.
    v_lo: i32,
    /// Conductance-based: `L_e`, `L_i`, the largest `|E − v|` over the window.
    l_exc: u64,
    l_inh: u64,
    /// Conductance-based: the bound on `2^(b_e+1)·L_e + 2^(b_i+1)·L_i`.
    limit: u64,
}

/// One neuron's variables as raw bits.
#[derive(Debug, Clone, Copy)]
struct Raw {
    v: i32,
    ge: i32,
    gi: i32,
    refractory: u16,
}

/// Current-based fast bound: `|x| < 2^27` (as a shift).
const CUBA_BITS: u32 = 27;
/// Conductance-based fast window of `v`: `[v_thresh − 2^22, v_thresh)`.
const COBA_V_BITS: u32 = 22;

impl Kernel {
    fn new(m: &Lif) -> Kernel {
        let (e_exc, e_inh, cond) = match m.input {
            Input::Current => (0, 0, false),
            Input::Conductance { e_exc, e_inh } => (e_exc.to_bits(), e_inh.to_bits(), true),
        };
        let (e_leak, bias) = (m.e_leak.to_bits(), m.bias.to_bits());
        let within = |x: i32, bits: u32| x.unsigned_abs() < 1 << bits;
        let v_thresh = m.v_thresh.to_bits();
        // conductance-based: the window of v and the bounds it implies (i64: no overflow)
        let v_lo = v_thresh as i64 - (1 << COBA_V_BITS);
        let v_hi = v_thresh as i64 - 1;
        let dist = |e: i32| (e as i64 - v_lo).abs().max((e as i64 - v_hi).abs()) as u64;
        let a = dist(e_leak) + (bias as i64).unsigned_abs();
        let limit = ((1u64 << 31) - 4).saturating_sub(a) << 16;
        let fast = if cond {
            v_lo > -(1 << 30) && a < 1 << 30 && m.gain_m.0 < 1 << 31
        } else {
            within(e_leak, CUBA_BITS) && within(bias, CUBA_BITS)
        };
        Kernel {
            e_leak,
            bias,
            v_thresh,
            v_reset: m.v_reset.to_bits(),
            e_exc,
            e_inh,
            gain_m: m.gain_m.0,
            decay_exc: m.decay_exc.0,
            decay_inh: m.decay_inh.0,
            refractory_steps: m.refractory_steps,
            fast,
            v_lo: v_lo as i32,
            l_exc: dist(e_exc),
            l_inh: dist(e_inh),
            limit,
        }
    }

    /// One neuron (`COND`: conductance-based input; `FAST`: the block is in range, see the type
    /// doc): [`Lif::advance`] on raw bits, branch-free. Returns the new state and whether it spiked.
    #[inline(always)]
    fn neuron<const COND: bool, const FAST: bool>(
        &self,
        s: Raw,
        exc: i32,
        inh: i32,
    ) -> (Raw, bool) {
        let v = s.v;
        let mut ge = add::<FAST>(s.ge, exc);
        let mut gi = add::<FAST>(s.gi, inh);
        let integrated = if COND {
            if !FAST {
                // (on the fast path g and the deposits are non-negative: nothing to clamp)
                ge = ge.max(0);
                gi = gi.max(0);
            }
            let mut drive = sub::<FAST>(self.e_leak, v);
            drive = add::<FAST>(drive, fix_mul::<FAST>(ge, sub::<FAST>(self.e_exc, v)));
            drive = add::<FAST>(drive, fix_mul::<FAST>(gi, sub::<FAST>(self.e_inh, v)));
            drive = add::<FAST>(drive, self.bias);
            add::<FAST>(v, frac_mul(self.gain_m, drive))
        } else {
            let target = add::<FAST>(add::<FAST>(add::<FAST>(self.e_leak, ge), gi), self.bias);
            add::<FAST>(v, frac_mul(self.gain_m, sub::<FAST>(target, v)))
        };
        let held = s.refractory != 0;
        let v_new = if held { self.v_reset } else { integrated };
        let spike = !held & (v_new >= self.v_thresh);
        let next = Raw {
            v: if spike { self.v_reset } else { v_new },
            ge: frac_mul(self.decay_exc, ge),
            gi: frac_mul(self.decay_inh, gi),
            refractory: if spike {
                self.refractory_steps
            } else {
                s.refractory.saturating_sub(1)
            },
        };
        (next, spike)
    }

    /// Whether every neuron of a block is within the fast bounds (see the type doc).
    #[inline(always)]
    fn in_range<const COND: bool>(&self, b: &Lanes<'_>) -> bool {
        if !self.fast {
            return false;
        }
        // `(x - lo) as u32 >> k` is zero exactly when x ∈ [lo, lo + 2^k).
        let vars =
            b.ge.iter()
                .zip(b.gi.iter())
                .zip(b.exc.iter())
                .zip(b.inh.iter());
        if COND {
            let (mut or_e, mut or_i, mut v_out) = (0u32, 0u32, 0u32);
            for (&v, (((ge, gi), exc), inh)) in b.v.iter().zip(vars) {
                or_e |= ge.to_bits() as u32 | exc.to_bits() as u32;
                or_i |= gi.to_bits() as u32 | inh.to_bits() as u32;
                v_out |= (v.to_bits().wrapping_sub(self.v_lo) as u32) >> COBA_V_BITS;
            }
            // 2^(b+1) > g + dep (a negative value has b = 32 and fails below)
            let bound = |or: u32| 2u64 << (32 - or.leading_zeros());
            let products = bound(or_e)
                .saturating_mul(self.l_exc)
                .saturating_add(bound(or_i).saturating_mul(self.l_inh));
            v_out == 0 && (or_e | or_i) >> 30 == 0 && products <= self.limit
        } else {
            const H: i32 = 1 << CUBA_BITS;
            let mut out = 0u32;
            for (&v, (((ge, gi), exc), inh)) in b.v.iter().zip(vars) {
                for x in [v, *ge, *gi, *exc, *inh] {
                    out |= (x.to_bits().wrapping_add(H) as u32) >> (CUBA_BITS + 1);
                }
            }
            out == 0
        }
    }

    /// Steps the neurons of one block; returns their spike flags (`BLOCK` bits, lowest first).
    #[inline(always)]
    fn lanes<const COND: bool, const FAST: bool>(&self, b: Lanes<'_>) -> u64 {
        let mut fired = [0u8; BLOCK];
        let lanes =
            b.v.iter_mut()
                .zip(b.ge.iter_mut())
                .zip(b.gi.iter_mut())
                .zip(b.refr.iter_mut())
                .zip(b.exc.iter_mut())
                .zip(b.inh.iter_mut())
                .zip(fired.iter_mut());
        for ((((((v, ge), gi), refr), exc), inh), fired) in lanes {
            let raw = Raw {
                v: v.to_bits(),
                ge: ge.to_bits(),
                gi: gi.to_bits(),
                refractory: *refr,
            };
            let (r, spike) = self.neuron::<COND, FAST>(raw, exc.to_bits(), inh.to_bits());
            *v = Fix::from_bits(r.v);
            *ge = Fix::from_bits(r.ge);
            *gi = Fix::from_bits(r.gi);
            *refr = r.refractory;
            *exc = Fix::ZERO;
            *inh = Fix::ZERO;
            *fired = spike as u8;
        }
        let mut mask = 0u64;
        for (k, &f) in fired.iter().enumerate() {
            mask |= (f as u64) << k;
        }
        mask
    }

    /// Steps a structure-of-arrays population, [`BLOCK`] neurons at a time: the range check, a loop
    /// over the block that the compiler vectorises, then a scan of the block's spike flags.
    #[inline(always)]
    fn run_arrays<const COND: bool>(&self, p: &mut LifPopulation<'_>) {
        let blocks =
            p.v.chunks_mut(BLOCK)
                .zip(p.g_exc.chunks_mut(BLOCK))
                .zip(p.g_inh.chunks_mut(BLOCK))
                .zip(p.refractory.chunks_mut(BLOCK))
                .zip(p.exc.chunks_mut(BLOCK))
                .zip(p.inh.chunks_mut(BLOCK));
        for (n, (((((v, ge), gi), refr), exc), inh)) in blocks.enumerate() {
            let b = Lanes {
                v,
                ge,
                gi,
                refr,
                exc,
                inh,
            };
            let mut mask = if self.in_range::<COND>(&b) {
                self.lanes::<COND, true>(b)
            } else {
                self.lanes::<COND, false>(b)
            };
            while mask != 0 {
                p.spikes
                    .push((n * BLOCK + mask.trailing_zeros() as usize) as u16);
                mask &= mask - 1;
            }
        }
    }
}

/// The slices of one block of a [`LifPopulation`].
struct Lanes<'b> {
    v: &'b mut [Fix],
    ge: &'b mut [Fix],
    gi: &'b mut [Fix],
    refr: &'b mut [u16],
    exc: &'b mut [Fix],
    inh: &'b mut [Fix],
}

/// `a + b`: saturating, or wrapping where the caller has shown it cannot overflow (`FAST`).
#[inline(always)]
fn add<const FAST: bool>(a: i32, b: i32) -> i32 {
    if FAST {
        a.wrapping_add(b)
    } else {
        a.saturating_add(b)
    }
}

/// `a - b`: saturating, or wrapping where the caller has shown it cannot overflow (`FAST`).
#[inline(always)]
fn sub<const FAST: bool>(a: i32, b: i32) -> i32 {
    if FAST {
        a.wrapping_sub(b)
    } else {
        a.saturating_sub(b)
    }
}

/// [`Frac::mul`] on raw bits: `x·f / 2^32`, rounded to nearest (cannot overflow).
///
/// Computed as an unsigned 32×32→64 product (one `pmuludq` per two lanes on x86-64, `umull` on
/// Cortex-M4) with a sign correction: for `x < 0`, `x = x_u - 2^32`, so `x·f = x_u·f - f·2^32` and the
/// high word drops by exactly `f`. Equal to `((x as i64 * f as i64 + 2^31) >> 32) as i32` for every
/// input (tested on the edges and on random words).
#[inline(always)]
fn frac_mul(f: u32, x: i32) -> i32 {
    let hi = ((x as u32 as u64 * f as u64 + (1 << 31)) >> 32) as u32;
    let fix = if x < 0 { f } else { 0 };
    hi.wrapping_sub(fix) as i32
}

/// [`mul`] on raw bits: `a·b / 2^16`, rounded to nearest, saturated to `i32`.
///
/// `FAST`: the caller has shown that `a ≥ 0` and that the result fits `i32`. Then the clamp is
/// skipped and the product is unsigned 32×32→64 with a sign correction, as in [`frac_mul`]: for
/// `b < 0`, `a·b = a·b_u - a·2^32`, which lowers the result by exactly `a·2^16` (mod 2^32).
#[inline(always)]
fn fix_mul<const FAST: bool>(a: i32, b: i32) -> i32 {
    if FAST {
        let p = ((a as u32 as u64 * b as u32 as u64 + (1 << 15)) >> 16) as u32;
        let fix = if b < 0 { (a as u32) << 16 } else { 0 };
        p.wrapping_sub(fix) as i32
    } else {
        let p = (a as i64 * b as i64 + (1 << 15)) >> 16;
        p.clamp(i32::MIN as i64, i32::MAX as i64) as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neuron::Population;

    fn f(x: f64) -> Fix {
        Fix::from_num(x)
    }

    fn quiet() -> LifParams {
        LifParams {
            tau_m_ms: 20.0,
            e_leak: -65.0,
            v_thresh: -50.0,
            v_reset: -70.0,
            refractory_ms: 2.0,
            tau_exc_ms: 5.0,
            tau_inh_ms: 10.0,
            bias: 0.0,
            synapses: Synapses::Current,
        }
    }

    #[test]
    fn rest_stays_at_rest() {
        for p in [quiet(), LifParams::coba()] {
            let m = Lif::new(p, 0.1).unwrap();
            let mut s = m.rest_state();
            for _ in 0..10_000 {
                assert!(!m.step(&mut s, Fix::ZERO, Fix::ZERO));
            }
            assert_eq!(s, m.rest_state());
        }
    }

    /// Constant suprathreshold input I (mV): the period is `t_ref + τ ln((I - (V_r - E_L)) / (I - (V_t - E_L)))`;
    /// the discrete model holds R steps and then needs the free time rounded up to whole steps, so
    /// its period lies in [T, T + dt] (asserted within one step).
    #[test]
    fn constant_input_fires_with_analytic_period() {
        for (dt, i_mv, refr) in [
            (0.1, 20.0, 2.0),
            (0.1, 40.0, 5.0),
            (0.05, 16.0, 0.0),
            (1.0, 30.0, 3.0),
        ] {
            let p = LifParams {
                bias: i_mv,
                refractory_ms: refr,
                ..quiet()
            };
            let m = Lif::new(p, dt).unwrap();
            let mut s = m.rest_state();
            let mut spikes = std::vec::Vec::new();
            for k in 0..20_000u32 {
                if m.step(&mut s, Fix::ZERO, Fix::ZERO) {
                    spikes.push(k);
                }
            }
            let (el, vr, vt) = (p.e_leak as f64, p.v_reset as f64, p.v_thresh as f64);
            let i = i_mv as f64;
            let t = refr as f64 + 20.0 * ((i - (vr - el)) / (i - (vt - el))).ln();
            let periods: std::vec::Vec<u32> = spikes.windows(2).map(|w| w[1] - w[0]).collect();
            assert!(periods.len() > 10);
            for &n in &periods {
                let got = n as f64 * dt as f64;
                assert!(
                    got >= t - 1e-9 && got <= t + dt as f64 + 1e-9,
                    "dt {dt} I {i}: period {got} ms, analytic {t} ms"
                );
            }
        }
    }

    /// Brian2's CUBA neuron alone: E_L = −49 mV lies above V_t = −50 mV, so it fires regularly with
    /// period `t_ref + τ_m ln((E_L − V_r)/(E_L − V_t)) = 5 + 20 ln 11 = 52.96 ms` (within one step).
    #[test]
    fn cuba_neuron_alone_fires_with_brian_period() {
        let m = Lif::new(LifParams::cuba(), 0.1).unwrap();
        let mut s = LifState {
            v: m.v_reset(),
            ..m.rest_state()
        };
        let mut spikes = std::vec::Vec::new();
        for k in 0..10_000u32 {
            if m.step(&mut s, Fix::ZERO, Fix::ZERO) {
                spikes.push(k);
            }
        }
        let t = 5.0 + 20.0 * 11f64.ln();
        assert_eq!(spikes.len(), 18);
        for w in spikes.windows(2) {
            let got = (w[1] - w[0]) as f64 * 0.1;
            assert!(got >= t - 1e-9 && got <= t + 0.1 + 1e-9, "{got} vs {t}");
        }
    }

    #[test]
    fn refractory_holds_v_at_reset_for_the_configured_steps() {
        let p = LifParams {
            refractory_ms: 2.0,
            ..quiet()
        };
        let m = Lif::new(p, 0.1).unwrap();
        assert_eq!(m.refractory_steps(), 20);
        let mut s = LifState {
            v: f(-50.5),
            ..m.rest_state()
        };
        // a big kick makes it spike now (+0.005·500 mV = +2.5 mV)
        assert!(m.step(&mut s, f(500.0), Fix::ZERO));
        assert_eq!(s.v, m.v_reset());
        assert_eq!(s.refractory, 20);
        // 20 steps held at reset although the kick's current (≈ 335–500 mV) keeps flowing; the 21st
        // integrates it.
        for k in 0..20 {
            assert!(!m.step(&mut s, Fix::ZERO, Fix::ZERO), "step {k}");
            assert_eq!(s.v, m.v_reset(), "step {k}");
        }
        assert_eq!(s.refractory, 0);
        assert!(!m.step(&mut s, Fix::ZERO, Fix::ZERO));
        assert!(s.v > m.v_reset() + f(1.0), "{}", s.v);
    }

    #[test]
    fn current_synapse_psp_matches_exponential_euler() {
        // One deposit of 1 mV: the synaptic current decays with τ_e and v follows the
        // piecewise-constant exponential-Euler solution, computed here in f64.
        let dt = 0.1f64;
        let m = Lif::new(quiet(), dt as f32).unwrap();
        let mut s = m.rest_state();
        let (dm, de) = ((-dt / 20.0).exp(), (-dt / 5.0).exp());
        let (mut v, mut g) = (-65.0f64, 0.0f64);
        let mut peak = 0.0f64;
        for k in 0..1000 {
            let dep = if k == 0 { 1.0 } else { 0.0 };
            m.step(&mut s, f(dep), Fix::ZERO);
            g += dep;
            v = -65.0 + (v + 65.0) * dm + (1.0 - dm) * g;
            g *= de;
            assert!((s.v.to_num::<f64>() - v).abs() < 1e-3, "step {k}");
            peak = peak.max(v + 65.0);
        }
        // Continuous-time PSP peak of a 1 mV current with τ_m = 20, τ_e = 5: (τe/τm)^(τm/(τm-τe))
        // ≈ 0.157 mV. The piecewise-constant current carries ≈ 1 % more charge (module doc).
        let analytic = (5.0f64 / 20.0).powf(20.0 / 15.0);
        assert!(
            peak > analytic && peak < 1.02 * analytic,
            "{peak} vs {analytic}"
        );
    }

    #[test]
    fn conductances_pull_toward_reversal_potentials() {
        let p = LifParams {
            v_thresh: 100.0, // never spikes: watch v settle
            ..LifParams::coba()
        };
        let m = Lif::new(p, 0.1).unwrap();
        // Excitatory conductance held at 3 g_L (re-deposit what decays): v → (E_L + 3·E_e)/4 = −15 mV.
        let mut s = m.rest_state();
        for _ in 0..5000 {
            let top = f(3.0).saturating_sub(s.g_exc);
            m.step(&mut s, top, Fix::ZERO);
        }
        assert!((s.v.to_num::<f64>() + 15.0).abs() < 0.05, "{}", s.v);
        // Inhibitory conductance 1 g_L from v = −40: v → (E_L + E_i)/2 = −70, below rest.
        let mut s = LifState {
            v: f(-40.0),
            ..m.rest_state()
        };
        for _ in 0..5000 {
            let top = f(1.0).saturating_sub(s.g_inh);
            m.step(&mut s, Fix::ZERO, top);
        }
        assert!((s.v.to_num::<f64>() + 70.0).abs() < 0.05, "{}", s.v);
        // Shunting: at v = E_i an inhibitory conductance does nothing.
        let mut s = LifState {
            v: f(-80.0),
            ..m.rest_state()
        };
        let mut s2 = s;
        m.step(&mut s, Fix::ZERO, f(5.0));
        m.step(&mut s2, Fix::ZERO, Fix::ZERO);
        assert_eq!(s.v, s2.v);
        // negative conductance deposits are clamped at zero
        let mut s = m.rest_state();
        m.step(&mut s, f(-2.0), f(-2.0));
        assert_eq!((s.g_exc, s.g_inh), (Fix::ZERO, Fix::ZERO));
        assert_eq!(s.v, m.e_leak());
    }

    #[test]
    fn synaptic_variables_decay_with_their_time_constants() {
        let m = Lif::new(quiet(), 0.1).unwrap();
        let mut s = m.rest_state();
        m.step(&mut s, f(10.0), f(-10.0));
        for _ in 0..49 {
            m.step(&mut s, Fix::ZERO, Fix::ZERO);
        }
        // after 50 steps = 5 ms: exc 10·e^-1, inh −10·e^-0.5
        assert!((s.g_exc.to_num::<f64>() - 10.0 * (-1f64).exp()).abs() < 1e-3);
        assert!((s.g_inh.to_num::<f64>() + 10.0 * (-0.5f64).exp()).abs() < 1e-3);
    }

    #[test]
    fn config_errors_are_refused() {
        let ok = quiet();
        let bad = [
            LifParams {
                tau_m_ms: 0.0,
                ..ok
            },
            LifParams {
                tau_m_ms: -5.0,
                ..ok
            },
            LifParams {
                tau_m_ms: f32::NAN,
                ..ok
            },
            LifParams {
                tau_m_ms: 0.1,
                ..ok
            }, // dt ≥ τ
            LifParams {
                tau_exc_ms: 0.05,
                ..ok
            },
            LifParams {
                tau_inh_ms: f32::INFINITY,
                ..ok
            },
            LifParams {
                v_reset: -50.0,
                ..ok
            }, // reset = thresh
            LifParams {
                v_reset: -40.0,
                ..ok
            },
            LifParams {
                v_thresh: f32::NAN,
                ..ok
            },
            LifParams { e_leak: 1e6, ..ok },
            LifParams {
                bias: f32::NAN,
                ..ok
            },
            LifParams {
                refractory_ms: -1.0,
                ..ok
            },
            LifParams {
                refractory_ms: 1e9,
                ..ok
            },
            LifParams {
                refractory_ms: f32::NAN,
                ..ok
            },
            LifParams {
                synapses: Synapses::Conductance {
                    e_exc: f32::NAN,
                    e_inh: -80.0,
                },
                ..ok
            },
            // forward Euler with dt = τ_m/2
            LifParams {
                tau_m_ms: 0.2,
                synapses: Synapses::Conductance {
                    e_exc: 0.0,
                    e_inh: -80.0,
                },
                ..ok
            },
        ];
        for p in bad {
            assert!(Lif::new(p, 0.1).is_err(), "{p:?}");
        }
        for dt in [0.0, -0.1, f32::NAN, f32::INFINITY] {
            assert!(Lif::new(ok, dt).is_err(), "dt {dt}");
        }
        assert!(Lif::new(ok, 0.1).is_ok());
        assert!(Lif::new(LifParams::cuba(), 0.1).is_ok());
        assert!(Lif::new(LifParams::coba(), 0.1).is_ok());
    }

    #[test]
    fn extreme_inputs_saturate_without_panicking() {
        for p in [quiet(), LifParams::coba(), LifParams::cuba()] {
            let m = Lif::new(p, 0.1).unwrap();
            for (e, i) in [
                (Fix::MAX, Fix::MAX),
                (Fix::MIN, Fix::MIN),
                (Fix::MAX, Fix::MIN),
                (Fix::MIN, Fix::MAX),
            ] {
                let mut s = m.rest_state();
                for _ in 0..200 {
                    m.step(&mut s, e, i);
                }
                let mut s = LifState {
                    v: Fix::MIN,
                    g_exc: Fix::MAX,
                    g_inh: Fix::MIN,
                    refractory: 0,
                };
                for _ in 0..200 {
                    m.step(&mut s, e, i);
                }
                let mut s = LifState {
                    v: Fix::MAX,
                    g_exc: Fix::MAX,
                    g_inh: Fix::MAX,
                    refractory: u16::MAX,
                };
                m.step(&mut s, e, i);
            }
        }
    }

    #[test]
    fn population_steps_all_and_consumes_deposits() {
        let m = Lif::new(quiet(), 0.1).unwrap();
        let mut state = [m.rest_state(); 4];
        let mut exc = [Fix::ZERO, f(4000.0), Fix::ZERO, f(4000.0)]; // +20 mV in one step
        let mut inh = [Fix::ZERO; 4];
        let mut buf = [0u16; 4];
        let mut pop = Population::new(m, &mut state, &mut exc, &mut inh, &mut buf).unwrap();
        pop.step();
        assert_eq!(pop.spikes.as_slice(), &[1, 3]);
        assert!(pop.exc.iter().all(|&x| x == Fix::ZERO));
        pop.step();
        assert!(pop.spikes.is_empty());
    }

    /// How the equivalence test draws values.
    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Draw {
        /// Mostly realistic, often the edges of the `i32` range (blocks run exactly).
        Mixed,
        /// Realistic only (blocks run on the fast path).
        Realistic,
        /// At and around the fast bounds: in range, rarely just outside.
        Bounds,
    }

    /// A random state word around `mv` millivolts (or g_L); `lo..lo + span` is the fast interval.
    fn word(rng: &mut crate::num::Rng, draw: Draw, mv: i32, lo: i32, span: i64) -> i32 {
        let realistic = (rng.below(2 * mv as u32 * 65536) as i32).wrapping_sub(mv * 65536);
        match draw {
            Draw::Realistic => realistic,
            Draw::Mixed => match rng.below(8) {
                0 => i32::MAX - rng.below(3) as i32,
                1 => i32::MIN + rng.below(3) as i32,
                2 => rng.next_u32() as i32,
                3 => 0,
                _ => realistic,
            },
            Draw::Bounds => {
                let hi = (lo as i64 + span - 1) as i32;
                let d = rng.below(3) as i32;
                match rng.below(400) {
                    0 => lo.wrapping_sub(1),
                    1 => hi.wrapping_add(1),
                    k if k % 2 == 0 => lo.wrapping_add(d),
                    _ => hi.wrapping_sub(d),
                }
            }
        }
    }

    /// A population step on `init` (array of states, structure of arrays) against one
    /// `Lif::advance` per neuron.
    fn check_kernels(m: &Lif, init: &[LifState], exc: &[Fix], inh: &[Fix]) {
        use crate::neuron::{LifPopulation, LifStorage};
        let n = init.len();
        let mut want = init.to_vec();
        let mut want_spikes = Vec::new();
        for (j, s) in want.iter_mut().enumerate() {
            if m.step(s, exc[j], inh[j]) {
                want_spikes.push(j as u16);
            }
        }
        // array of states
        let (mut st, mut e, mut i, mut buf) =
            (init.to_vec(), exc.to_vec(), inh.to_vec(), vec![0u16; n]);
        let mut pop = Population::new(*m, &mut st, &mut e, &mut i, &mut buf).unwrap();
        pop.step();
        assert_eq!(pop.spikes.as_slice(), &want_spikes[..]);
        assert!(
            pop.exc
                .iter()
                .chain(pop.inh.iter())
                .all(|&x| x == Fix::ZERO)
        );
        assert_eq!(pop.state, &want[..]);
        // structure of arrays
        let (mut v, mut ge, mut gi, mut r) = (
            vec![Fix::ZERO; n],
            vec![Fix::ZERO; n],
            vec![Fix::ZERO; n],
            vec![0u16; n],
        );
        let (mut e, mut i, mut buf) = (vec![Fix::ZERO; n], vec![Fix::ZERO; n], vec![0u16; n]);
        let st = LifStorage {
            v: &mut v,
            g_exc: &mut ge,
            g_inh: &mut gi,
            refractory: &mut r,
            exc: &mut e,
            inh: &mut i,
            spikes: &mut buf,
        };
        let mut pop = LifPopulation::new(*m, st).unwrap();
        // the block path, then the scalar path of the microcontrollers
        for scalar in [false, true] {
            for (j, s) in init.iter().enumerate() {
                pop.set(j, *s);
            }
            pop.exc.copy_from_slice(exc);
            pop.inh.copy_from_slice(inh);
            if scalar {
                pop.step_scalar();
            } else {
                pop.step();
            }
            assert_eq!(pop.spikes.as_slice(), &want_spikes[..], "scalar: {scalar}");
            assert!(
                pop.exc
                    .iter()
                    .chain(pop.inh.iter())
                    .all(|&x| x == Fix::ZERO)
            );
            assert!(pop.states().eq(want.iter().copied()), "scalar: {scalar}");
        }
    }

    /// `LifPopulation` (its fast and exact block paths, and its scalar path) and `Population<Lif>`
    /// give the bits of `Lif::advance`, neuron by neuron, on random, extreme, realistic and
    /// boundary states and deposits.
    #[test]
    fn population_kernels_match_the_per_neuron_step() {
        let mut rng = crate::num::Rng::new(7);
        let params = [
            quiet(),
            LifParams::cuba(),
            LifParams::coba(),
            LifParams {
                bias: 3.0,
                ..LifParams::coba()
            },
            LifParams {
                e_leak: 2100.0, // beyond the current-based fast bound: always exact
                v_thresh: 2200.0,
                v_reset: 2000.0,
                ..quiet()
            },
        ];
        for (case, p) in params.into_iter().enumerate() {
            let mut fast_blocks = 0;
            let m = Lif::new(p, 0.1).unwrap();
            let k = Kernel::new(&m);
            let cond = matches!(p.synapses, Synapses::Conductance { .. });
            for n in [0usize, 1, 7, 63, 64, 65, 200] {
                for draw in [Draw::Mixed, Draw::Realistic, Draw::Bounds] {
                    for _ in 0..20 {
                        // the fast intervals (v; g and deposits), as lower end and length
                        let (v_iv, g_iv) = if cond {
                            // g: around a random power of two (the adaptive bound)
                            let top = 1i64 << (14 + rng.below(12));
                            ((k.v_lo, 1i64 << COBA_V_BITS), (0, top))
                        } else {
                            let h = 1i32 << CUBA_BITS;
                            ((-h, 2 * h as i64), (-h, 2 * h as i64))
                        };
                        let g = |rng: &mut crate::num::Rng, mv: i32| {
                            let x = word(rng, draw, mv, g_iv.0, g_iv.1);
                            // conductances are non-negative in realistic runs
                            if cond && draw == Draw::Realistic {
                                x.wrapping_abs()
                            } else {
                                x
                            }
                        };
                        let init: Vec<LifState> = (0..n)
                            .map(|_| LifState {
                                v: Fix::from_bits(word(&mut rng, draw, 90, v_iv.0, v_iv.1)),
                                g_exc: Fix::from_bits(g(&mut rng, 50)),
                                g_inh: Fix::from_bits(g(&mut rng, 50)),
                                refractory: match rng.below(4) {
                                    0 if draw == Draw::Mixed => u16::MAX,
                                    1 => rng.below(m.refractory_steps() as u32 + 2) as u16,
                                    _ => 0,
                                },
                            })
                            .collect();
                        let exc: Vec<Fix> =
                            (0..n).map(|_| Fix::from_bits(g(&mut rng, 10))).collect();
                        let inh: Vec<Fix> =
                            (0..n).map(|_| Fix::from_bits(g(&mut rng, 10))).collect();
                        // count the blocks that take the fast path, so the test knows it covers it
                        for c in 0..n.div_ceil(BLOCK) {
                            let r = c * BLOCK..((c + 1) * BLOCK).min(n);
                            let (mut v, mut ge, mut gi) = (
                                init[r.clone()].iter().map(|s| s.v).collect::<Vec<_>>(),
                                init[r.clone()].iter().map(|s| s.g_exc).collect::<Vec<_>>(),
                                init[r.clone()].iter().map(|s| s.g_inh).collect::<Vec<_>>(),
                            );
                            let mut refr = vec![0u16; r.len()];
                            let (mut e, mut i) = (exc[r.clone()].to_vec(), inh[r].to_vec());
                            let lanes = Lanes {
                                v: &mut v,
                                ge: &mut ge,
                                gi: &mut gi,
                                refr: &mut refr,
                                exc: &mut e,
                                inh: &mut i,
                            };
                            let fast = if cond {
                                k.in_range::<true>(&lanes)
                            } else {
                                k.in_range::<false>(&lanes)
                            };
                            fast_blocks += fast as usize;
                        }
                        check_kernels(&m, &init, &exc, &inh);
                    }
                }
            }
            // every case but the last (outside the fast bounds) covers the fast path
            assert_eq!(
                fast_blocks > 20,
                case < 4,
                "case {case}: {fast_blocks} fast blocks"
            );
        }
    }

    #[test]
    fn lif_population_starts_at_rest_and_refuses_mismatched_storage() {
        use crate::neuron::{LifPopulation, LifStorage};
        let m = Lif::new(quiet(), 0.1).unwrap();
        let (mut v, mut ge, mut gi, mut r) = ([f(1.0); 3], [f(1.0); 3], [f(1.0); 3], [5u16; 3]);
        let (mut e, mut i, mut buf) = ([f(1.0); 3], [f(1.0); 3], [0u16; 3]);
        let pop = LifPopulation::new(
            m,
            LifStorage {
                v: &mut v,
                g_exc: &mut ge,
                g_inh: &mut gi,
                refractory: &mut r,
                exc: &mut e,
                inh: &mut i,
                spikes: &mut buf,
            },
        )
        .unwrap();
        assert_eq!(pop.len(), 3);
        assert!(pop.states().all(|s| s == m.rest_state()));
        assert!(pop.exc.iter().all(|&x| x == Fix::ZERO));
        assert_eq!(pop.get(3), None);
        let (mut v, mut ge, mut gi, mut r) = ([f(1.0); 3], [f(1.0); 2], [f(1.0); 3], [5u16; 3]);
        let (mut e, mut i, mut buf) = ([f(1.0); 3], [f(1.0); 3], [0u16; 3]);
        let st = LifStorage {
            v: &mut v,
            g_exc: &mut ge,
            g_inh: &mut gi,
            refractory: &mut r,
            exc: &mut e,
            inh: &mut i,
            spikes: &mut buf,
        };
        assert!(LifPopulation::new(m, st).is_err());
    }

    #[test]
    fn raw_products_match_the_fixed_point_ones() {
        let mut rng = crate::num::Rng::new(3);
        let edges = [
            0,
            1,
            -1,
            2,
            -2,
            i32::MAX,
            i32::MIN,
            i32::MAX - 1,
            i32::MIN + 1,
        ];
        let fracs = [0u32, 1, 2, u32::MAX, u32::MAX - 1, 1 << 31, (1 << 31) - 1];
        let check = |x: i32, f: u32, y: i32| {
            let want = Frac(f).mul(Fix::from_bits(x)).to_bits();
            assert_eq!(frac_mul(f, x), want, "{x} · {f}");
            assert_eq!(
                fix_mul::<false>(x, y),
                mul(Fix::from_bits(x), Fix::from_bits(y)).to_bits(),
                "{x} · {y}"
            );
        };
        for &x in &edges {
            for &f in &fracs {
                for &y in &edges {
                    check(x, f, y);
                }
            }
        }
        for _ in 0..100_000 {
            let (x, f, y) = (rng.next_u32() as i32, rng.next_u32(), rng.next_u32() as i32);
            check(x, f, y);
        }
        // the fast product, where its preconditions hold (a ≥ 0, result in range)
        let fast = |a: i32, b: i32| {
            let p = a as i64 * b as i64;
            if a >= 0 && (p + (1 << 15)) >> 16 == ((p + (1 << 15)) >> 16) as i32 as i64 {
                assert_eq!(fix_mul::<true>(a, b), fix_mul::<false>(a, b), "{a} · {b}");
            }
        };
        for &a in &edges {
            for &b in &edges {
                fast(a, b);
            }
        }
        for _ in 0..100_000 {
            let a = (rng.next_u32() >> (1 + rng.below(31))) as i32;
            let b = (rng.next_u32() as i32) >> rng.below(32);
            fast(a, b);
            fast(a, -b);
        }
    }
}
