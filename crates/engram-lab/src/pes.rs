//! PES — prescribed error sensitivity (MacNeil & Eliasmith 2011, "Fine-tuning and the stability of
//! recurrent neural networks", PLoS ONE 6:e22885; the learning rule of Nengo, Bekolay et al. 2013):
//! an ensemble of spiking LIF neurons learns, online and from zero decoders, to decode a function of
//! the value it represents.
//!
//! | part | here |
//! | --- | --- |
//! | architecture | `n` current-based LIF neurons encoding a scalar `x(t)` NEF-style (current `J_i = α_i·e_i·x + β_i`, encoders `e_i = ±1`); a dense `n → 1` projection (the decoders `d_i`, `i16`, all zero at the start) into one linear (identity) rate unit whose state is the decoded estimate `ŷ = Σ_i d_i·a_i`, `a_i` the spike train filtered by the synapse τ_syn |
//! | learning rule | PES, [`RuleParams::pes`]: `Δd_i = −κ·a_i·e·dt` every step, `a_i` the presynaptic trace (τ_syn) and `e` the error ([`Post::Signal`](engram::rule::Post::Signal)) |
//! | objective | mean squared error `(ŷ − y*)²` ([`MeanSquaredError`]), whose per-neuron error `e = ŷ − y*` is the rule's signal; PES descends it |
//! | environment | `x(t)` a quasi-periodic sum of two sinusoids in `[−0.95, 0.95]` ([`SineSum`]); the target `y* = f(x)`, `f(x) = x` (communication channel) or `x²` ([`Task`]), low-pass filtered by the same synapse as `ŷ` so that both carry the same delay |
//!
//! Parameters are Nengo's defaults: τ_rc = 20 ms, τ_ref = 2 ms, maximum rates `U(200, 400)` Hz,
//! intercepts `U(−1, 1)` (here `U(−0.95, 0.95)`: an intercept at 1 needs an infinite gain), gains
//! and biases from the rate formula `r(J) = 1/(τ_ref − τ_rc·ln(1 − 1/J))` so that neuron `i` starts
//! firing at `x = c_i` and fires at `r_max,i` at `e_i·x = 1`; the voltage is Nengo's normalised one
//! (rest and reset 0, threshold 1). Nengo runs at dt = 1 ms with sub-step spike timing; engram's LIF
//! fires on the step grid, so this runs at dt = 0.1 ms, where the 2.5–5 ms inter-spike intervals are
//! resolved to 2–4 %. The learned connection and the rule's presynaptic filter share τ_syn = 10 ms
//! (Nengo's default PES `pre_synapse` is 5 ms; 10 ms halves the spike noise on `ŷ`). The learning rate
//! is κ per ms in weight units (Nengo's `learning_rate` additionally divides by `n`). Nengo clamps the
//! voltage at 0 from below; engram's LIF does not, so below threshold the voltage of a neuron
//! follows its current (down to −1 600) with a lag of ≈ τ_rc, and the neuron resumes firing ≈ 20 ms
//! late when `x` comes back into its range — a small lag at the 0.5 and 1.3 Hz of the input, which
//! the learned decoders absorb.
//!
//! ## Step (0.1 ms)
//! 1. The environment advances: `x`, and `y* = f(x)`.
//! 2. Each neuron receives `(1 − e^{−dt/τ_in})·J_i(x)` into its excitatory (current) channel, so its
//!    synaptic current follows `J_i` with the input synapse τ_in = 1 ms (an exact steady state: see
//!    [`Lif`]'s step).
//! 3. The neurons step; their spikes cross the decoders into the readout unit, which integrates them
//!    with τ_syn: `ŷ ← ŷ + (1 − e^{−dt/τ_syn})·(Σ_{i spiking} d_i − ŷ)`. The target is filtered by the
//!    same unit: `ȳ* ← ȳ* + (1 − e^{−dt/τ_syn})·(y* − ȳ*)`.
//! 4. The objective compares: `e = ŷ − ȳ*`, value `e²`.
//! 5. If learning is on, the rule takes this step's spikes into its traces `a_i` (impulse 1, τ_syn)
//!    and updates every decoder by `−κ·dt·a_i·e` (stochastically rounded to weight steps).
//!
//! With this order `ŷ = (1 − e^{−dt/τ_syn})·Σ_i d_i·a_i` exactly (up to rounding) while the decoders
//! are constant, so the rule's `a_i·e` is the gradient of `e²/2` with respect to `d_i` up to a positive
//! factor: PES is the delta rule on the filtered spike trains.
//!
//! ## Numbers
//! Decoders are `i16` steps of `8/32767` (range ±8 in units of `x` per spike); a decoder change of a
//! small error is a fraction of a step, so rounding is [`Rounding::Stochastic`] (unbiased; seeded).
//! Encoding gains and biases are Q16.16 (gain ≤ 790 at an intercept of ±0.95, so |J| ≤ 1 600);
//! the environment's oscillators are integer (see [`SineSum`]). Everything in [`Network::step`] is integer arithmetic.

use crate::Simulation;
use engram::hash::{Fnv64, StateHash};
use engram::neuron::{
    Lif, LifParams, LifState, Nonlinearity, Population, RateParams, RateUnit, Synapses,
};
use engram::num::{Fix, Frac, Rng, Rounding, exp_f64, fix_from_f32, fix_to_f32, mul};
use engram::objective::{Averaging, MeanSquaredError, MeanSquaredErrorParams, Objective};
use engram::projection::Dense;
use engram::rule::{Plastic, Pre, Rule, RuleParams, RuleStorage, Signals, WeightFormat};
use engram::trace::{TraceMode, TraceParams};
use engram::{ConfigError, error::check_len};

/// Time step (ms).
pub const DT_MS: f32 = 0.1;
/// Membrane time constant τ_rc (ms; Nengo's default).
pub const TAU_RC_MS: f32 = 20.0;
/// Refractory period τ_ref (ms; Nengo's default).
pub const TAU_REF_MS: f32 = 2.0;
/// Input synapse (ms): the neurons' currents follow `J(x)` with this lag.
pub const TAU_IN_MS: f32 = 1.0;
/// Largest decoder magnitude (units of `x` per spike).
pub const DECODER_MAX: f32 = 8.0;

/// The function the decoders learn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Task {
    /// `y* = x`: the communication channel.
    Identity,
    /// `y* = x²`: a nonlinear function.
    Square,
}

impl Task {
    /// `f(x)` in fixed point.
    #[inline]
    pub fn apply(self, x: Fix) -> Fix {
        match self {
            Task::Identity => x,
            Task::Square => mul(x, x),
        }
    }
}

/// Ensemble, rule and environment configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct Config {
    /// Neurons in the ensemble.
    pub n: usize,
    /// The decoded function.
    pub task: Task,
    /// PES learning rate κ (decoder units per ms, per unit of trace and error).
    pub kappa: f32,
    /// Synapse of the learned connection and of the rule's presynaptic trace (ms).
    pub tau_syn_ms: f32,
    /// Lowest maximum firing rate (Hz; Nengo: 200).
    pub max_rate_lo_hz: f32,
    /// Highest maximum firing rate (Hz; Nengo: 400).
    pub max_rate_hi_hz: f32,
    /// Intercepts are drawn from `U(−c, c)` (Nengo: 1; here < 1).
    pub intercept_max: f32,
    /// Seed for encoders, gains, biases and stochastic rounding.
    pub seed: u64,
}

impl Default for Config {
    /// The configuration `engram run pes` runs: [`Config::check`] at 100 neurons, seed 1.
    fn default() -> Self {
        Config::check(100, 1)
    }
}

impl Config {
    /// 100 neurons with Nengo's defaults (see the module docs) and κ = 3·10⁻³ per ms.
    pub fn new(task: Task) -> Config {
        Config {
            n: 100,
            task,
            kappa: 3e-3,
            tau_syn_ms: 10.0,
            max_rate_lo_hz: 200.0,
            max_rate_hi_hz: 400.0,
            intercept_max: 0.95,
            seed: 1,
        }
    }

    /// The configuration of the host ↔ chip bit-exactness check (`engram run pes --hash` and the
    /// emulated-Cortex-M firmware): `n` neurons learning `x²` (the decoders change from the first
    /// spikes on: they start at zero and the error is never zero).
    pub fn check(n: usize, seed: u64) -> Config {
        Config {
            n,
            seed,
            ..Config::new(Task::Square)
        }
    }

    /// Decoder format: 16 bits in `[−8, 8]`, stochastic rounding.
    pub fn weight_format() -> WeightFormat {
        WeightFormat {
            rounding: Rounding::Stochastic,
            ..WeightFormat::new(16, -DECODER_MAX, DECODER_MAX)
        }
    }

    /// The rule: PES on the presynaptic traces (impulse 1, τ_syn).
    pub fn rule(&self) -> RuleParams {
        RuleParams::pes(
            self.kappa,
            Pre::Trace(0),
            Some(TraceParams {
                tau_ms: self.tau_syn_ms,
                impulse: 1.0,
                mode: TraceMode::Accumulate,
            }),
        )
    }

    /// The LIF neuron in Nengo's normalised units.
    pub fn neuron() -> LifParams {
        LifParams {
            tau_m_ms: TAU_RC_MS,
            e_leak: 0.0,
            v_thresh: 1.0,
            v_reset: 0.0,
            refractory_ms: TAU_REF_MS,
            tau_exc_ms: TAU_IN_MS,
            tau_inh_ms: TAU_IN_MS,
            bias: 0.0,
            synapses: Synapses::Current,
        }
    }

    /// Bytes of model state (neurons, encoding, decoders, traces).
    pub fn ram_bytes(&self) -> usize {
        self.n * (core::mem::size_of::<LifState>() + 4 * 4 + 2 + 2 + 4) + 4 + 4
    }
}

/// A sinusoid `s(t) = A·sin(2π·f·t)` from a Minsky oscillator in Q16.16: `c ← c − ε·s; s ← s + ε·c`
/// with `ε = 2π·f·dt` rounded to the nearest Q16.16 step (so `f` is exact to `2^-17/ε` relative:
/// 1.5 % at 0.5 Hz and dt = 0.1 ms).
///
/// Each half-update is a shear, and a shear of integers with a rounded product is invertible, so the
/// map is a bijection of the integer grid: the orbit is periodic and its amplitude cannot drift,
/// however long it runs. It is an ellipse rather than a circle: `s` peaks at `A·(1 ± ε/2)`, and the
/// angle per step is `ε·(1 + ε²/24)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Oscillator {
    eps: Fix,
    c: Fix,
    s: Fix,
}

impl Oscillator {
    /// Amplitude `amplitude`, frequency `freq_hz`, sampled every `dt_ms`, at phase 0 (`s = 0`,
    /// rising). Refuses an amplitude outside ±16 000 and a step `ε` that is zero in Q16.16 or ≥ 1.
    pub fn new(amplitude: f32, freq_hz: f32, dt_ms: f32) -> Result<Oscillator, ConfigError> {
        let eps = 2.0 * core::f32::consts::PI * freq_hz * dt_ms * 1e-3;
        let e = fix_from_f32("oscillator step", eps)?;
        if e <= Fix::ZERO || e >= Fix::ONE {
            return Err(ConfigError::OutOfRange {
                what: "oscillator step 2π·f·dt (0 < ε < 1 in Q16.16)",
                value: eps,
            });
        }
        if !amplitude.is_finite() || amplitude.abs() > 16_000.0 {
            return Err(ConfigError::OutOfRange {
                what: "oscillator amplitude",
                value: amplitude,
            });
        }
        Ok(Oscillator {
            eps: e,
            c: fix_from_f32("oscillator amplitude", amplitude)?,
            s: Fix::ZERO,
        })
    }

    /// Advances one step and returns `s`.
    #[inline]
    pub fn advance(&mut self) -> Fix {
        self.c = self.c.saturating_sub(mul(self.eps, self.s));
        self.s = self.s.saturating_add(mul(self.eps, self.c));
        self.s
    }
}

/// A sum of two sinusoids, `x(t) = 0.55·sin(2π·0.5 Hz·t) + 0.4·sin(2π·1.3 Hz·t)`, in `[−0.95, 0.95]`:
/// quasi-periodic (the frequencies are incommensurate on the step grid), visiting the whole range
/// with both signs. Integer arithmetic only ([`Oscillator`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SineSum {
    osc: [Oscillator; 2],
}

/// Amplitudes and frequencies (Hz) of [`SineSum`].
pub const SINES: [(f32, f32); 2] = [(0.55, 0.5), (0.4, 1.3)];

impl SineSum {
    /// The signal at `t = 0` for time step `dt_ms`.
    pub fn new(dt_ms: f32) -> Result<SineSum, ConfigError> {
        let [(a0, f0), (a1, f1)] = SINES;
        Ok(SineSum {
            osc: [
                Oscillator::new(a0, f0, dt_ms)?,
                Oscillator::new(a1, f1, dt_ms)?,
            ],
        })
    }

    /// Advances one step and returns `x`.
    #[inline]
    pub fn advance(&mut self) -> Fix {
        self.osc
            .iter_mut()
            .fold(Fix::ZERO, |x, o| x.saturating_add(o.advance()))
    }
}

/// Caller storage for `n` neurons.
#[derive(Debug)]
pub struct Storage<'a> {
    /// Neuron states.
    pub state: &'a mut [LifState],
    /// Excitatory (input current) deposits.
    pub exc: &'a mut [Fix],
    /// Inhibitory deposits (unused, zero).
    pub inh: &'a mut [Fix],
    /// Spike slots.
    pub spikes: &'a mut [u16],
    /// Per-neuron `(1 − e^{−dt/τ_in})·α_i·e_i`.
    pub enc_gain: &'a mut [Fix],
    /// Per-neuron `(1 − e^{−dt/τ_in})·β_i`.
    pub enc_bias: &'a mut [Fix],
    /// Decoders (`n`), raw steps.
    pub decoders: &'a mut [i16],
    /// The rule's presynaptic traces `a_i` (`n`).
    pub traces: &'a mut [Fix],
    /// The readout's accumulator (1).
    pub acc: &'a mut [i32],
    /// The objective's error (1).
    pub error: &'a mut [Fix],
}

/// The running ensemble, its learned decoders and the objective.
#[derive(Debug)]
pub struct Network<'a> {
    /// The ensemble.
    pub pop: Population<'a, Lif>,
    enc_gain: &'a [Fix],
    enc_bias: &'a [Fix],
    /// The decoders under PES.
    pub decoders: Plastic<'a, i16, Dense<'a, i16>>,
    readout: RateUnit,
    y_hat: Fix,
    y_star: Fix,
    x: Fix,
    /// The objective: squared error of `ŷ` against the filtered target.
    pub mse: MeanSquaredError<'a>,
    /// The environment.
    pub input: SineSum,
    task: Task,
    /// Whether the rule runs (off: the decoders are frozen).
    pub learning: bool,
    /// Steps taken.
    pub t: u64,
}

/// `(gain, bias)` of a Nengo LIF neuron with maximum rate `r_max` (Hz) and intercept `c`: the current
/// `J = gain·(e·x) + bias` is 1 (threshold) at `e·x = c` and `J_max` at `e·x = 1`, with
/// `r(J_max) = r_max`, i.e. `J_max = 1/(1 − e^{(τ_ref − 1/r_max)/τ_rc})`.
pub fn gain_bias(r_max_hz: f32, intercept: f32) -> (f32, f32) {
    let x = (TAU_REF_MS as f64 - 1000.0 / r_max_hz as f64) / TAU_RC_MS as f64;
    let j_max = 1.0 / (1.0 - exp_f64(x));
    let gain = (j_max - 1.0) / (1.0 - intercept as f64);
    (gain as f32, (1.0 - gain * intercept as f64) as f32)
}

impl<'a> Network<'a> {
    /// Builds the ensemble on `st`; encoders, rates and intercepts are drawn from `cfg.seed`.
    ///
    /// Refuses: `n` of 0 or above 65 535, storage of the wrong sizes, rates outside
    /// `(0, 1/τ_ref)` or reversed, an intercept bound outside `(0, 1)`, and whatever the neuron, the
    /// readout, the rule and the objective refuse (e.g. τ_syn ≤ dt, κ out of range).
    pub fn new(cfg: &Config, st: Storage<'a>) -> Result<Network<'a>, ConfigError> {
        let n = cfg.n;
        if n == 0 {
            return Err(ConfigError::Invalid {
                what: "PES ensemble needs at least one neuron",
            });
        }
        let max_rate = 1000.0 / TAU_REF_MS;
        if !(cfg.max_rate_lo_hz > 0.0
            && cfg.max_rate_lo_hz <= cfg.max_rate_hi_hz
            && cfg.max_rate_hi_hz < max_rate)
        {
            return Err(ConfigError::OutOfRange {
                what: "PES maximum rates (0 < lo ≤ hi < 1/τ_ref)",
                value: cfg.max_rate_hi_hz,
            });
        }
        if !(cfg.intercept_max > 0.0 && cfg.intercept_max < 1.0) {
            return Err(ConfigError::OutOfRange {
                what: "PES intercept bound (0 < c < 1)",
                value: cfg.intercept_max,
            });
        }
        check_len("encoder gains", n, st.enc_gain.len())?;
        check_len("encoder biases", n, st.enc_bias.len())?;
        let lif = Lif::new(Config::neuron(), DT_MS)?;
        let pop = Population::new(lif, st.state, st.exc, st.inh, st.spikes)?;
        pop.state.fill(lif.rest_state());
        let d_in = Frac::decay("input synapse", TAU_IN_MS, DT_MS)?.to_f32();
        let mut rng = Rng::new(cfg.seed);
        for (g, b) in st.enc_gain.iter_mut().zip(st.enc_bias.iter_mut()) {
            let u = |rng: &mut Rng| fix_to_f32(rng.uniform());
            let r_max =
                cfg.max_rate_lo_hz + (cfg.max_rate_hi_hz - cfg.max_rate_lo_hz) * u(&mut rng);
            let c = cfg.intercept_max * (2.0 * u(&mut rng) - 1.0);
            let e = if rng.next_u32() & 1 == 0 { 1.0 } else { -1.0 };
            let (gain, bias) = gain_bias(r_max, c);
            *g = fix_from_f32("encoder gain", (1.0 - d_in) * gain * e)?;
            *b = fix_from_f32("encoder bias", (1.0 - d_in) * bias)?;
        }
        let fmt = Config::weight_format();
        let scale = fmt.scale()?;
        let rule = Rule::new::<i16>(&cfg.rule(), &fmt, scale, DT_MS)?;
        st.decoders.fill(0);
        let proj = Dense::new(n, 1, st.decoders, st.acc, scale)?;
        let decoders = Plastic::new(
            proj,
            rule,
            RuleStorage {
                pre_traces: st.traces,
                post_traces: &mut [],
                eligibility: &mut [],
                theta: &mut [],
            },
            cfg.seed,
        )?;
        let readout = RateUnit::new(
            RateParams {
                tau_ms: cfg.tau_syn_ms,
                nonlinearity: Nonlinearity::Identity,
                bias: 0.0,
                gain: 1.0,
            },
            DT_MS,
        )?;
        let mse = MeanSquaredError::new(
            MeanSquaredErrorParams {
                average: Averaging::TimeConstant { tau_ms: 1000.0 },
            },
            DT_MS,
            st.error,
        )?;
        Ok(Network {
            pop,
            enc_gain: st.enc_gain,
            enc_bias: st.enc_bias,
            decoders,
            readout,
            y_hat: Fix::ZERO,
            y_star: Fix::ZERO,
            x: Fix::ZERO,
            mse,
            input: SineSum::new(DT_MS)?,
            task: cfg.task,
            learning: true,
            t: 0,
        })
    }

    /// One step of 0.1 ms (see the module docs); returns the squared error `(ŷ − ȳ*)²`.
    pub fn step(&mut self) -> Fix {
        self.x = self.input.advance();
        let it = self
            .pop
            .exc
            .iter_mut()
            .zip(self.enc_gain.iter())
            .zip(self.enc_bias.iter());
        for ((j, g), b) in it {
            *j = j.saturating_add(mul(*g, self.x)).saturating_add(*b);
        }
        self.pop.step();
        let spikes = self.pop.spikes.as_slice();
        let mut sum = [Fix::ZERO];
        self.decoders.propagate(spikes, &mut sum, &Signals::NONE);
        let [sum] = sum;
        let y_hat = self.readout.step(&mut self.y_hat, sum);
        let y_star = self.readout.step(&mut self.y_star, self.task.apply(self.x));
        let loss = self.mse.update(&[y_hat], &[y_star]);
        if self.learning {
            let sig = self.mse.signal().route(Signals::NONE);
            self.decoders.learn(spikes, &[], &sig);
        }
        self.t += 1;
        loss
    }

    /// The represented value `x` of the last step.
    pub fn x(&self) -> Fix {
        self.x
    }

    /// The decoded estimate `ŷ` of the last step.
    pub fn decoded(&self) -> Fix {
        self.y_hat
    }

    /// The filtered target `ȳ*` of the last step.
    pub fn target(&self) -> Fix {
        self.y_star
    }

    /// The decoders in units of `x` per spike.
    pub fn decoder(&self, i: usize) -> Option<f32> {
        let scale = self.decoders.proj.scale();
        self.decoders
            .proj
            .weight(i, 0)
            .map(|w| scale.to_f32(w as i32))
    }
}

/// `eps, c, s`.
impl StateHash for Oscillator {
    fn hash_into(&self, h: &mut Fnv64) {
        for x in [self.eps, self.c, self.s] {
            x.hash_into(h);
        }
    }
}

/// Both oscillators.
impl StateHash for SineSum {
    fn hash_into(&self, h: &mut Fnv64) {
        self.osc.hash_into(h);
    }
}

impl Simulation for Network<'_> {
    fn step(&mut self) {
        Network::step(self);
    }

    fn steps(&self) -> u64 {
        self.t
    }

    fn spike_count(&self) -> usize {
        self.pop.spikes.len()
    }

    fn spikes_hash(&self) -> u64 {
        self.pop.spikes.as_slice().state_hash()
    }

    /// Parts: `population` (states, pending input, spikes), `encoding` (gains, biases),
    /// `decoders` (weights, accumulator), `rule` (presynaptic traces, rounding generator, tick
    /// phase), `readout` (`ŷ`, filtered `ȳ*`, `x`), `objective` (error, value, running mean),
    /// `environment` (the oscillators), `t` (with the learning switch).
    fn hash_parts(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        visit("population", self.pop.state_hash());
        let mut h = Fnv64::new();
        self.enc_gain.hash_into(&mut h);
        self.enc_bias.hash_into(&mut h);
        visit("encoding", h.finish());
        crate::visit_plastic(&self.decoders, ["decoders", "rule"], visit);
        visit("readout", [self.y_hat, self.y_star, self.x].state_hash());
        visit("objective", self.mse.state_hash());
        visit("environment", self.input.state_hash());
        let mut h = Fnv64::new();
        self.learning.hash_into(&mut h);
        self.t.hash_into(&mut h);
        visit("t", h.finish());
    }
}

/// Reports: population `neurons`; metrics `objective` (running mean of the squared error), `x`,
/// `decoded` (ŷ) and `target` (ȳ*); plastic weights `decoders` (units of `x` per spike).
impl crate::Observe for Network<'_> {
    fn spikes(&self, visit: &mut dyn FnMut(&'static str, usize, &[u16])) {
        visit("neurons", self.pop.len(), self.pop.spikes.as_slice());
    }

    fn metrics(&self, visit: &mut dyn FnMut(&'static str, f32)) {
        visit("objective", self.mse.average().to_num::<f32>());
        visit("x", self.x.to_num::<f32>());
        visit("decoded", self.y_hat.to_num::<f32>());
        visit("target", self.y_star.to_num::<f32>());
    }

    fn weights(&self, visit: &mut crate::WeightVisitor<'_>) {
        crate::visit_weights(
            "decoders",
            self.decoders.proj.scale(),
            self.decoders.rule().bounds(),
            self.decoders.proj.weights(),
            visit,
        );
    }
}

/// Heap-owned storage for the host.
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct Buffers {
    state: Vec<LifState>,
    fix: [Vec<Fix>; 5],
    spikes: Vec<u16>,
    decoders: Vec<i16>,
    acc: [i32; 1],
    error: [Fix; 1],
}

#[cfg(feature = "std")]
impl Buffers {
    /// Buffers sized for `cfg`.
    pub fn new(cfg: &Config) -> Buffers {
        let n = cfg.n;
        Buffers {
            state: vec![LifState::default(); n],
            fix: core::array::from_fn(|_| vec![Fix::ZERO; n]),
            spikes: vec![0; n],
            decoders: vec![0; n],
            acc: [0],
            error: [Fix::ZERO],
        }
    }

    /// The storage view for [`Network::new`].
    pub fn storage(&mut self) -> Storage<'_> {
        let [exc, inh, enc_gain, enc_bias, traces] = &mut self.fix;
        Storage {
            state: &mut self.state,
            exc,
            inh,
            spikes: &mut self.spikes,
            enc_gain,
            enc_bias,
            decoders: &mut self.decoders,
            traces,
            acc: &mut self.acc,
            error: &mut self.error,
        }
    }
}
