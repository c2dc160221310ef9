//! Intrinsic plasticity: a per-neuron excitability that moves each neuron's firing rate toward a
//! target (homeostatic threshold adaptation; Desai, Rutherford & Turrigiano 1999; the "intrinsic"
//! half of Turrigiano's homeostasis, next to synaptic scaling).
//!
//! ```text
//! τ_r dr_j/dt = −r_j + Σ_k δ(t − t_j^k)·1000 ms/s      (rate estimate, Hz)
//! dϑ_j/dt     = η·(r_j − r*)                          (threshold offset, clamped to ±ϑ_max)
//! b_j         = −ϑ_j                                   (the bias the neuron receives)
//! ```
//!
//! A neuron that fires above the target raises its threshold offset `ϑ_j`; one below lowers it. The
//! offset acts as a **bias** `−ϑ_j` added to the neuron's input. For a LIF neuron
//! `τ_m dv/dt = −(v − E_L) + I`, spiking at `v ≥ V_th` and resetting to `V_r`, the substitution
//! `u = v − ϑ` shows that a threshold raised by `ϑ` is *exactly* a bias `−ϑ` together with a reset
//! lowered by `ϑ`. Here the reset stays where it is, so a bias `−ϑ` keeps the reset-to-threshold
//! distance while a true threshold shift would lengthen it: the bias is the slightly weaker of the
//! two per mV, with the same sign and the same fixed point (the loop integrates the rate error until
//! it vanishes, whatever the gain). A bias, unlike a threshold, needs no change to the neuron model,
//! so this works with every model whose input channel carries a current.
//!
//! ## Discretisation, one [`Intrinsic::step`]
//! Call it after the population has stepped, with that step's spikes, and before the next step:
//! 1. [`update`](Intrinsic::update): `r_j ← r_j·e^{−dt/τ_r}`, plus `(1 − e^{−dt/τ_r})·1000/dt` Hz if
//!    neuron `j` spiked (an exponential [`Trace`]; its stationary mean is exactly the spike
//!    probability per step times `1000/dt`, the rate of the train); then
//!    `ϑ_j ← clamp(ϑ_j + η·dt·(r_j − r*), ±ϑ_max)`.
//! 2. [`deposit`](Intrinsic::deposit): adds `−ϑ_j`, converted by the channel's [`BiasInput`], to the
//!    input channel of the population (e.g. `pop.exc` of a current-based LIF); the next population
//!    step consumes it. A [`BiasInput::Synaptic`] channel is an exponentially decaying current
//!    (`g ← (g + deposit)·e^{−dt/τ}` as in [`Lif`](crate::neuron::Lif)): depositing
//!    `−ϑ·(1 − e^{−dt/τ})` every step holds the current the membrane sees at exactly `−ϑ` in steady
//!    state (it follows a change of `ϑ` with the synapse's τ, a few ms, far faster than homeostasis).
//!    A [`BiasInput::Direct`] channel is this step's input current (rate units, Izhikevich neurons):
//!    the deposit is `−ϑ`.
//!
//! Not for conductance-based channels: a deposit there is a non-negative conductance jump and cannot
//! carry a negative bias.
//!
//! ## Fixed point
//! Rates, rate errors and offsets are [`Fix`] (Hz and the channel's unit, mV for LIF). `η·dt` and the
//! channel gain `1 − e^{−dt/τ}` are [`Frac`] (U0.32: `η·dt` must be below 1 unit per Hz per step),
//! multiplied with one rounding to nearest each; so the offset has a dead band of rate errors below
//! `0.5 LSB / (η·dt)` (0.08 Hz for η·dt = 10⁻⁴ mV/Hz), and while it moves each step's increment is
//! off by at most 0.5 LSB (a drift of at most `2^-17` per step, equivalent to the same 0.08 Hz of
//! rate error: the loop settles within it of the target). The rate trace decays with rounding to nearest
//! (bias at most `0.5 LSB / (1 − e^{−dt/τ_r})`, 0.008 Hz for τ_r = 1000 dt). Every addition saturates
//! and the offset is clamped to `±ϑ_max`, so a neuron that never fires stops at `−ϑ_max`.
//!
//! ## State
//! Offsets are learned state and live in the caller's storage with the rates: [`Intrinsic::new`] keeps
//! the offsets it is given (zeros for a fresh start, or a checkpoint; clamped to `±ϑ_max`) and starts
//! every rate estimate at the target, so nothing moves before there is evidence.

use crate::error::{ConfigError, check_len};
use crate::num::{Fix, Frac, exp_f64, fix_from_f32, round_f64};
use crate::trace::{Trace, TraceMode};

/// How a bias becomes a deposit into the population's input channel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BiasInput {
    /// The deposit is this step's input current (rate units, Izhikevich neurons): deposit `b`.
    Direct,
    /// The deposit is a jump of an exponentially decaying synaptic current with time constant
    /// `tau_ms` (current-based LIF: that channel's τ): deposit `b·(1 − e^{−dt/τ})` to hold `b`.
    Synaptic {
        /// The channel's synaptic time constant (ms).
        tau_ms: f32,
    },
}

/// Configuration of [`Intrinsic`] (floats: the edge).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntrinsicParams {
    /// Target rate r* (Hz), `0 ≤ r* ≤ 1000/dt`.
    pub target_hz: f32,
    /// Learning rate η: offset units (mV for LIF) per ms per Hz of rate error; `0 < η·dt < 1`.
    pub eta: f32,
    /// Time constant τ_r of the rate estimate (ms); homeostasis is slow: hundreds of ms to seconds.
    pub tau_ms: f32,
    /// Largest offset magnitude ϑ_max (offset units), `0 < ϑ_max ≤ 16 000`.
    pub max_offset: f32,
    /// How the bias reaches the neurons.
    pub input: BiasInput,
}

/// Caller storage for [`Intrinsic`]: one of each per neuron.
#[derive(Debug)]
pub struct IntrinsicStorage<'a> {
    /// Threshold offsets ϑ_j (learned state, kept by [`Intrinsic::new`]).
    pub offsets: &'a mut [Fix],
    /// Rate estimates r_j (Hz; set to the target by [`Intrinsic::new`]).
    pub rates: &'a mut [Fix],
}

/// The channel gain of a [`BiasInput`], compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gain {
    Direct,
    Synaptic(Frac),
}

/// Homeostatic threshold adaptation for one population (see the module doc).
#[derive(Debug)]
pub struct Intrinsic<'a> {
    trace: Trace,
    target: Fix,
    eta_dt: Frac,
    max_offset: Fix,
    gain: Gain,
    offsets: &'a mut [Fix],
    rates: &'a mut [Fix],
}

impl<'a> Intrinsic<'a> {
    /// Validates `p` for time step `dt_ms` on `storage` (both slices of the population's length).
    ///
    /// Refuses: a bad `τ_r` or synaptic τ (non-positive, non-finite, `≤ dt`), `dt` with
    /// `1000/dt ≥ 32 767` Hz, a target outside `[0, 1000/dt]`, `η` that is not positive or with
    /// `η·dt ≥ 1` or below the U0.32 resolution, `ϑ_max` not in `(0, 16 000]`, slices of different
    /// lengths.
    pub fn new(
        p: IntrinsicParams,
        dt_ms: f32,
        storage: IntrinsicStorage<'a>,
    ) -> Result<Self, ConfigError> {
        let decay = Frac::decay("intrinsic rate tau", p.tau_ms, dt_ms)?;
        let max_hz = 1000.0 / dt_ms as f64;
        if max_hz >= 32767.0 {
            return Err(ConfigError::InvalidTimeStep { dt_ms });
        }
        if !(p.target_hz >= 0.0 && p.target_hz as f64 <= max_hz) {
            return Err(ConfigError::OutOfRange {
                what: "intrinsic target rate (Hz): needs 0 ≤ r* ≤ 1000/dt",
                value: p.target_hz,
            });
        }
        let impulse = (1.0 - exp_f64(-(dt_ms as f64) / p.tau_ms as f64)) * max_hz;
        let impulse = Fix::from_bits(round_f64(impulse * 65536.0) as i32);
        if impulse == Fix::ZERO {
            return Err(ConfigError::OutOfRange {
                what: "intrinsic rate tau (ms): the per-spike increment rounds to zero",
                value: p.tau_ms,
            });
        }
        let eta_dt = p.eta * dt_ms;
        if !(p.eta > 0.0 && eta_dt < 1.0) {
            return Err(ConfigError::OutOfRange {
                what: "intrinsic eta: needs 0 < eta·dt < 1",
                value: p.eta,
            });
        }
        let eta_dt = Frac::from_f32("intrinsic eta·dt", eta_dt)?;
        if eta_dt == Frac::ZERO {
            return Err(ConfigError::OutOfRange {
                what: "intrinsic eta (below U0.32 resolution)",
                value: p.eta,
            });
        }
        if !(p.max_offset > 0.0 && p.max_offset <= 16_000.0) {
            return Err(ConfigError::OutOfRange {
                what: "intrinsic max_offset: needs 0 < max ≤ 16000",
                value: p.max_offset,
            });
        }
        let gain = match p.input {
            BiasInput::Direct => Gain::Direct,
            BiasInput::Synaptic { tau_ms } => {
                let d = Frac::decay("intrinsic synaptic tau", tau_ms, dt_ms)?;
                // Exact complement of the decay factor, as the LIF's own gain (d > 0 since dt < τ).
                Gain::Synaptic(Frac(0u32.wrapping_sub(d.0)))
            }
        };
        check_len(
            "intrinsic rates",
            storage.offsets.len(),
            storage.rates.len(),
        )?;
        let target = fix_from_f32("intrinsic target rate", p.target_hz)?;
        let max_offset = fix_from_f32("intrinsic max_offset", p.max_offset)?;
        storage.rates.fill(target);
        for o in storage.offsets.iter_mut() {
            *o = (*o).clamp(-max_offset, max_offset);
        }
        Ok(Intrinsic {
            trace: Trace {
                decay,
                impulse,
                mode: TraceMode::Accumulate,
            },
            target,
            eta_dt,
            max_offset,
            gain,
            offsets: storage.offsets,
            rates: storage.rates,
        })
    }

    /// Step 1 of the module doc: the rate estimates take this step's `spikes` (indices ≥ N are
    /// ignored), then every offset moves by `η·dt·(r_j − r*)`, clamped to `±ϑ_max`.
    pub fn update(&mut self, spikes: &[u16]) {
        self.trace.step(self.rates, spikes);
        for (o, &r) in self.offsets.iter_mut().zip(self.rates.iter()) {
            let d = self.eta_dt.mul(r.saturating_sub(self.target));
            // (`max`/`min`: `clamp` panics on crossed bounds, which the step path must not reach)
            *o = o
                .saturating_add(d)
                .max(-self.max_offset)
                .min(self.max_offset);
        }
    }

    /// Step 2 of the module doc: adds each neuron's bias `−ϑ_j` (converted for the channel) to
    /// `input[j]`, saturating. Entries beyond either length are left alone.
    pub fn deposit(&self, input: &mut [Fix]) {
        for (x, &o) in input.iter_mut().zip(self.offsets.iter()) {
            let b = match self.gain {
                Gain::Direct => -o,
                // |o| ≤ ϑ_max ≤ 16 000: negation cannot overflow.
                Gain::Synaptic(g) => g.mul(-o),
            };
            *x = x.saturating_add(b);
        }
    }

    /// [`update`](Self::update) with this step's spikes, then [`deposit`](Self::deposit) into the
    /// input channel for the next step.
    pub fn step(&mut self, spikes: &[u16], input: &mut [Fix]) {
        self.update(spikes);
        self.deposit(input);
    }

    /// The threshold offsets ϑ_j (the bias each neuron receives is `−ϑ_j`).
    #[inline]
    pub fn offsets(&self) -> &[Fix] {
        self.offsets
    }

    /// The rate estimates r_j (Hz).
    #[inline]
    pub fn rates(&self) -> &[Fix] {
        self.rates
    }

    /// The target rate r* (Hz).
    #[inline]
    pub fn target(&self) -> Fix {
        self.target
    }

    /// Rates back to the target; offsets kept (they are the learned state).
    pub fn reset_rates(&mut self) {
        self.rates.fill(self.target);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neuron::{Lif, LifParams, LifState, Population, Synapses};

    fn params() -> IntrinsicParams {
        IntrinsicParams {
            target_hz: 10.0,
            eta: 1e-3,
            tau_ms: 500.0,
            max_offset: 20.0,
            input: BiasInput::Synaptic { tau_ms: 5.0 },
        }
    }

    fn lif_current() -> LifParams {
        LifParams {
            tau_m_ms: 20.0,
            e_leak: -65.0,
            v_thresh: -50.0,
            v_reset: -65.0,
            refractory_ms: 2.0,
            tau_exc_ms: 5.0,
            tau_inh_ms: 10.0,
            bias: 0.0,
            synapses: Synapses::Current,
        }
    }

    #[test]
    fn bad_configuration_is_refused() {
        let ok = |p: IntrinsicParams, n_o: usize, n_r: usize| {
            let (mut o, mut r) = (vec![Fix::ZERO; n_o], vec![Fix::ZERO; n_r]);
            Intrinsic::new(
                p,
                1.0,
                IntrinsicStorage {
                    offsets: &mut o,
                    rates: &mut r,
                },
            )
            .is_ok()
        };
        assert!(ok(params(), 3, 3));
        assert!(!ok(params(), 3, 2), "length mismatch");
        assert!(
            !ok(
                IntrinsicParams {
                    tau_ms: 0.5,
                    ..params()
                },
                1,
                1
            ),
            "dt ≥ τ"
        );
        assert!(!ok(
            IntrinsicParams {
                eta: 0.0,
                ..params()
            },
            1,
            1
        ));
        assert!(!ok(
            IntrinsicParams {
                eta: -1e-3,
                ..params()
            },
            1,
            1
        ));
        assert!(
            !ok(
                IntrinsicParams {
                    eta: 2.0,
                    ..params()
                },
                1,
                1
            ),
            "η·dt ≥ 1"
        );
        assert!(!ok(
            IntrinsicParams {
                eta: f32::NAN,
                ..params()
            },
            1,
            1
        ));
        assert!(!ok(
            IntrinsicParams {
                target_hz: -1.0,
                ..params()
            },
            1,
            1
        ));
        assert!(!ok(
            IntrinsicParams {
                target_hz: 1001.0,
                ..params()
            },
            1,
            1
        ));
        assert!(!ok(
            IntrinsicParams {
                max_offset: 0.0,
                ..params()
            },
            1,
            1
        ));
        assert!(!ok(
            IntrinsicParams {
                max_offset: 1e6,
                ..params()
            },
            1,
            1
        ));
        let bad_syn = BiasInput::Synaptic { tau_ms: -5.0 };
        assert!(!ok(
            IntrinsicParams {
                input: bad_syn,
                ..params()
            },
            1,
            1
        ));
    }

    #[test]
    fn rate_estimate_is_the_spike_rate_and_offsets_follow_the_error() {
        // Neuron 0 fires every 50 steps (20 Hz at dt = 1 ms), neuron 1 never.
        let p = IntrinsicParams {
            eta: 1e-4,
            ..params()
        };
        let (mut o, mut r) = ([Fix::ZERO; 2], [Fix::ZERO; 2]);
        let mut ip = Intrinsic::new(
            p,
            1.0,
            IntrinsicStorage {
                offsets: &mut o,
                rates: &mut r,
            },
        )
        .unwrap();
        assert_eq!(ip.rates(), &[Fix::from_num(10); 2], "rates start at target");
        let mut mean = 0.0f64;
        for t in 0..10_000 {
            let spikes: &[u16] = if t % 50 == 0 { &[0] } else { &[] };
            ip.update(spikes);
            if t >= 5000 {
                mean += ip.rates()[0].to_num::<f64>() / 5000.0;
            }
        }
        assert!((mean - 20.0).abs() < 0.1, "mean rate estimate {mean} Hz");
        assert!(ip.rates()[1] < Fix::from_num(0.01));
        // offset ≈ η·∫(r − r*)dt: for neuron 0 ≈ 1e-4·(10 Hz·10 s − transient) > 0; neuron 1 < 0.
        let (o0, o1) = (
            ip.offsets()[0].to_num::<f64>(),
            ip.offsets()[1].to_num::<f64>(),
        );
        // exact integral of the error of neuron 1: −10·(10 000 − 500·(1 − e^{−20})) ms·Hz
        let want1 = -1e-4 * 10.0 * (10_000.0 - 500.0);
        // each step's increment rounds to nearest: at most 0.5 LSB of drift per step
        let bound = 10_000.0 * 0.5 / 65536.0 + 1e-3;
        assert!(
            (o1 - want1).abs() < bound,
            "silent neuron offset {o1} vs {want1}"
        );
        assert!(o0 > 8.0 && o0 < 10.0, "fast neuron offset {o0}");
    }

    #[test]
    fn offsets_saturate_at_the_bound() {
        let p = IntrinsicParams {
            eta: 0.5,
            max_offset: 3.0,
            ..params()
        };
        let (mut o, mut r) = ([Fix::from_num(100); 2], [Fix::ZERO; 2]);
        let mut ip = Intrinsic::new(
            p,
            1.0,
            IntrinsicStorage {
                offsets: &mut o,
                rates: &mut r,
            },
        )
        .unwrap();
        assert_eq!(ip.offsets()[0], Fix::from_num(3), "clamped at new()");
        for _ in 0..2000 {
            ip.update(&[0]);
        }
        assert_eq!(ip.offsets(), &[Fix::from_num(3), Fix::from_num(-3)]);
        // bias −ϑ through a 5 ms synapse at dt = 1 ms: ∓3·(1 − e^{−0.2}); sums saturate, never wrap
        let mut input = [Fix::ZERO, Fix::ZERO, Fix::MIN, Fix::MAX];
        ip.deposit(&mut input[..2]);
        ip.deposit(&mut input[2..]);
        let g = 3.0 * (1.0 - (-0.2f64).exp());
        assert!((input[0].to_num::<f64>() + g).abs() < 1e-4, "{input:?}");
        assert!((input[1].to_num::<f64>() - g).abs() < 1e-4, "{input:?}");
        assert_eq!(&input[2..], &[Fix::MIN, Fix::MAX]);
    }

    #[test]
    fn synaptic_deposit_holds_a_bias_of_minus_the_offset() {
        // Current-based LIF far below threshold: v settles at E_L − ϑ when the deposit goes into a
        // channel with the deposit's τ; a direct deposit is exactly −ϑ.
        let dt = 0.1;
        let lif = Lif::new(lif_current(), dt).unwrap();
        let p = IntrinsicParams {
            tau_ms: 1000.0,
            eta: 1e-6,
            ..params()
        };
        let (mut o, mut r) = ([Fix::from_num(2), Fix::from_num(-3)], [Fix::ZERO; 2]);
        let ip = Intrinsic::new(
            p,
            dt,
            IntrinsicStorage {
                offsets: &mut o,
                rates: &mut r,
            },
        )
        .unwrap();
        let mut state = [lif.rest_state(); 2];
        let (mut exc, mut inh, mut spk) = ([Fix::ZERO; 2], [Fix::ZERO; 2], [0u16; 2]);
        let mut pop = Population::new(lif, &mut state, &mut exc, &mut inh, &mut spk).unwrap();
        for _ in 0..3000 {
            ip.deposit(pop.exc);
            pop.step();
        }
        let v: Vec<f64> = pop.state.iter().map(|s: &LifState| s.v.to_num()).collect();
        assert!((v[0] - (-67.0)).abs() < 0.01, "{v:?}");
        assert!((v[1] - (-62.0)).abs() < 0.01, "{v:?}");
        let (mut o, mut r) = ([Fix::from_num(2)], [Fix::ZERO]);
        let direct = Intrinsic::new(
            IntrinsicParams {
                input: BiasInput::Direct,
                ..p
            },
            dt,
            IntrinsicStorage {
                offsets: &mut o,
                rates: &mut r,
            },
        )
        .unwrap();
        let mut input = [Fix::ONE];
        direct.deposit(&mut input);
        assert_eq!(input[0], Fix::from_num(-1));
    }

    #[test]
    fn closed_loop_brings_a_lif_neuron_to_the_target_rate() {
        // A LIF neuron with a constant drive of 20 mV fires at ≈ 33 Hz (period 2 ms refractory +
        // 20 ln(20/5) ms, rounded up to whole steps); one with 14 mV stays below threshold (silent).
        // Intrinsic plasticity brings both to 10 Hz.
        let dt = 1.0;
        for (bias, start_lo, start_hi) in [(20.0f32, 30.0, 36.0), (14.0, 0.0, 0.0)] {
            let lif = Lif::new(
                LifParams {
                    bias,
                    ..lif_current()
                },
                dt,
            )
            .unwrap();
            let (mut o, mut r) = ([Fix::ZERO], [Fix::ZERO]);
            let mut ip = Intrinsic::new(
                IntrinsicParams {
                    tau_ms: 1000.0,
                    eta: 1e-4,
                    ..params()
                },
                dt,
                IntrinsicStorage {
                    offsets: &mut o,
                    rates: &mut r,
                },
            )
            .unwrap();
            let mut state = [lif.rest_state()];
            let (mut exc, mut inh, mut spk) = ([Fix::ZERO], [Fix::ZERO], [0u16]);
            let mut pop = Population::new(lif, &mut state, &mut exc, &mut inh, &mut spk).unwrap();
            let count = |pop: &mut Population<'_, Lif>, ip: &mut Intrinsic<'_>, steps, learn| {
                let mut n = 0u32;
                for _ in 0..steps {
                    pop.step();
                    n += pop.spikes.len() as u32;
                    if learn {
                        ip.step(pop.spikes.as_slice(), pop.exc);
                    } else {
                        ip.deposit(pop.exc);
                    }
                }
                n as f64 / (steps as f64 * dt as f64 / 1000.0)
            };
            let r0 = count(&mut pop, &mut ip, 2000, false);
            assert!(
                (start_lo..=start_hi).contains(&r0),
                "bias {bias}: start {r0} Hz"
            );
            count(&mut pop, &mut ip, 60_000, true);
            let r1 = count(&mut pop, &mut ip, 10_000, true);
            println!(
                "bias {bias} mV: {r0} Hz → {r1} Hz, offset {}",
                ip.offsets()[0]
            );
            assert!((r1 - 10.0).abs() < 0.5, "bias {bias}: {r0} Hz → {r1} Hz");
        }
    }
}
