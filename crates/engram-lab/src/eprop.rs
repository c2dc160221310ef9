//! e-prop (Bellec et al. 2020, "A solution to the learning dilemma for recurrent networks of spiking
//! neurons", Nat Commun 11:3625), the pattern-generation task (their Fig. 2): a recurrent network of
//! LIF neurons driven by a frozen Poisson input learns, online and with local eligibility traces, to
//! make its leaky readout draw a fixed sum of sinusoids, trial after trial.
//!
//! | part | here |
//! | --- | --- |
//! | architecture | `n_in` input neurons → `n_rec` current-based LIF neurons (dense input weights, all-to-all recurrent weights without self-connections) → one leaky linear readout `y^t = κ·y^{t−1} + (1 − κ)·Σ_j W^out_j·z_j^t`, κ = e^{−dt/τ_out} |
//! | learning rule | input and recurrent weights: e-prop, [`RuleParams::eprop`] (η, τ_m, τ_out, dt) — eligibility `e_ji = ψ_j·z̄_i` (z̄_i the presynaptic trace, τ_m), filtered with τ_out, times the learning signal `L_j`; readout weights: the delta rule, [`RuleParams::pes`] on the presynaptic trace with τ_out (`ΔW^out_j = −η_out·(y − y*)·z̄_j`) |
//! | objective | mean squared error of the readout against the target, `(y − y*)²` ([`MeanSquaredError`]), logged per step and per trial; its error `y − y*` is the readout rule's signal and, through the feedback weights, the learning signal `L_j = B_j·(y − y*)` |
//! | environment | frozen Poisson input (each input neuron a fixed spike train at `input_rate_hz`, the same every trial) and a target pattern, a sum of four sinusoids of 1, 2, 3 and 5 cycles per trial (1, 2, 3, 5 Hz for 1 s trials) with random amplitudes `U(0.5, 2)·amplitude` and random phases, identical every trial |
//!
//! ## Locality
//! Every quantity a synapse `i → j` uses is local to it — its weight, its eligibility, the trace `z̄_i`
//! of its presynaptic neuron, the pseudo-derivative `ψ_j` of its postsynaptic neuron — except the
//! learning signal `L_j`, one number per postsynaptic neuron broadcast from the readout error. That is
//! the only non-local quantity, by construction: the applier's tick reads `ψ_j` as
//! [`Post::Gate`](engram::rule::Post::Gate) and `L_j` as [`Post::Signal`](engram::rule::Post::Signal)
//! and nothing else from outside the synapse. With [`Feedback::Symmetric`] the feedback weights
//! `B_j` are the current readout weights `W^out_j` (symmetric e-prop); with [`Feedback::Random`]
//! they are fixed random numbers (random e-prop, no weight transport).
//!
//! ## Step (1 ms)
//! 1. The input's spikes of this step (frozen: drawn from a generator reseeded at every trial) and
//!    the recurrent spikes of the previous step `z^{t−1}` cross into the neurons' current.
//! 2. The neurons step: spikes `z^t`, potentials `v^t`.
//! 3. `z^t` crosses the readout weights into the readout unit, which integrates it with τ_out: `y^t`.
//!    The objective compares `y^t` with the target `y*^t`.
//! 4. The pseudo-derivative `ψ_j^t = γ·max(0, 1 − |v_j^t − v_th|/v_th)` (`v_th` measured from rest),
//!    0 while refractory and `γ` at a spike (engram's LIF resets within the step, so the potential
//!    at the spike — at or just above threshold, where Bellec's ψ is ≈ γ — is not kept);
//!    `L_j^t = B_j·(y^t − y*^t)`.
//! 5. If learning is on: the input and recurrent projections learn (their presynaptic traces take the
//!    spikes that crossed them in step 1, so `z̄_i` at `t` holds `z_i^{≤t−1}`, as in e-prop's
//!    `e^t_ji = ψ^t_j·z̄^{t−1}_i`; the eligibility `ē ← κ·ē + η·dt·ψ·z̄`; the weight
//!    `w ← w − L·ē`); the readout learns with the error and `z^t`.
//!
//! Trials follow each other without a reset: the network runs on, and each trial restarts the input
//! generator and the target oscillators, so input and target repeat exactly while the network's
//! state carries over (the rule's traces cannot be cleared from outside, and the target's four
//! frequencies are whole multiples of 1/trial for the published 1 s trial, so it is continuous).
//!
//! ## Departures from the paper
//! - Size and optimiser: the paper's network has 600 LIF neurons, 1 s trials, and applies the
//!   summed updates of a trial through an optimiser; the test uses `n_rec = 50`, one output, plain
//!   online gradient descent (weights change every step) and 500 ms trials (target frequencies 2, 4,
//!   6 and 10 Hz) so that it runs in a few seconds; [`Config::bellec2020`] keeps the paper's sizes (600 neurons, 1 s trials at 1, 2, 3,
//!   5 Hz) for the ignored full test, with the same learning rates.
//! - Cost: the rule's tick runs every step (period 1, so the eligibility filter and the weight update
//!   are e-prop's exactly); at 50 neurons that is ≈ 3 500 synapses, ≈ 55 µs per step in the test
//!   profile; at 600, ≈ 372 000 synapses, ≈ 6 ms per step.
//! - Synapses: engram's current-based LIF filters its input through a synaptic current (τ_e, here
//!   2 ms), so the exact eligibility of `v` is a double-exponential filter of the presynaptic spikes;
//!   e-prop's single trace with τ_m is kept, an approximation of order τ_e/τ_m (10 %).
//! - No firing-rate regularisation and no ALIF neurons (the task needs neither).
//!
//! ## Numbers
//! Input and recurrent weights are `i16` steps of `W_MAX/32767` (±8, threshold = 1; the initial
//! input weights, sd 2.2, are clipped only beyond 3.5 sd); readout weights `i16` steps of
//! `OUT_MAX/32767`. All weight changes are stochastically rounded (they are
//! mostly below one step). The eligibility `ē` is Q16.16 in weight steps (`η·dt` folded in, see
//! [`RuleParams::eprop`]). ψ, L, the target and the readout are Q16.16.

use crate::pes::Oscillator;
use crate::{Simulation, visit_plastic};
use engram::hash::{Fnv64, StateHash};
use engram::neuron::{
    Lif, LifParams, LifState, Nonlinearity, Population, RateParams, RateUnit, Synapses,
};
use engram::num::{Fix, Frac, Rng, Rounding, Scale, fix_from_f32, fix_to_f32, mul};
use engram::objective::{Averaging, MeanSquaredError, MeanSquaredErrorParams, Objective};
use engram::projection::{Csr, Dense, Sparse, fixed_indegree};
use engram::rule::{Plastic, Pre, Rule, RuleParams, RuleStorage, Signals, WeightFormat};
use engram::trace::{TraceMode, TraceParams};
use engram::{ConfigError, error::check_len};

/// Time step (ms).
pub const DT_MS: f32 = 1.0;
/// Largest input or recurrent weight magnitude (threshold units).
pub const W_MAX: f32 = 8.0;
/// Largest readout weight magnitude.
pub const OUT_MAX: f32 = 4.0;
/// Synaptic current time constant of the recurrent neurons (ms).
pub const TAU_SYN_MS: f32 = 2.0;

/// Where the learning signal's feedback weights come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Feedback {
    /// `B_j = W^out_j`, the current readout weights (symmetric e-prop).
    Symmetric,
    /// `B_j` fixed, drawn once from `N(0, feedback_sd²)` (random e-prop).
    Random,
}

/// Network, rule and task configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct Config {
    /// Input neurons.
    pub n_in: usize,
    /// Recurrent LIF neurons (paper: 600).
    pub n_rec: usize,
    /// Rate of the frozen Poisson inputs (Hz).
    pub input_rate_hz: f32,
    /// Steps per trial (dt = 1 ms; paper: 1000).
    pub trial_steps: u32,
    /// The target's four frequencies, per trial (cycles in one trial; paper: 1, 2, 3, 5 per second).
    pub cycles: [u8; 4],
    /// Target amplitude scale: each sinusoid's amplitude is `U(0.5, 2)` times this.
    pub amplitude: f32,
    /// Membrane time constant τ_m (ms).
    pub tau_m_ms: f32,
    /// Readout time constant τ_out (ms).
    pub tau_out_ms: f32,
    /// Refractory period (ms).
    pub refractory_ms: f32,
    /// Pseudo-derivative dampening γ (paper: 0.3).
    pub gamma: f32,
    /// e-prop learning rate η (weight units per ms).
    pub eta: f32,
    /// Readout learning rate (weight units per ms).
    pub eta_out: f32,
    /// Standard deviation of the initial input weights, times `1/√n_in`.
    pub w_in_sd: f32,
    /// Standard deviation of the initial recurrent weights, times `1/√n_rec`.
    pub w_rec_sd: f32,
    /// Symmetric or random feedback.
    pub feedback: Feedback,
    /// Standard deviation of random feedback weights (readout-weight units).
    pub feedback_sd: f32,
    /// Whether input and recurrent weights learn (off: only the readout does, a control).
    pub plastic_network: bool,
    /// Seed for weights, input pattern, target, feedback and rounding.
    pub seed: u64,
}

impl Default for Config {
    /// The configuration `engram run eprop` runs: [`Config::check`] at 50 recurrent neurons, seed 1.
    fn default() -> Self {
        Config::check(50, 1)
    }
}

impl Config {
    /// The scaled-down task the test runs: 20 inputs at 50 Hz, 50 LIF neurons, 500 ms trials whose
    /// target has 1, 2, 3 and 5 cycles (2, 4, 6, 10 Hz), τ_m = τ_out = 20 ms, symmetric feedback.
    pub fn small() -> Config {
        Config {
            n_in: 20,
            n_rec: 50,
            input_rate_hz: 50.0,
            trial_steps: 500,
            cycles: [1, 2, 3, 5],
            amplitude: 0.25,
            tau_m_ms: 20.0,
            tau_out_ms: 20.0,
            refractory_ms: 2.0,
            gamma: 0.3,
            eta: 1e-3,
            eta_out: 3e-3,
            w_in_sd: 10.0,
            w_rec_sd: 2.0,
            feedback: Feedback::Symmetric,
            feedback_sd: 0.3,
            plastic_network: true,
            seed: 1,
        }
    }

    /// The paper's sizes: 600 LIF neurons, 1 s trials, 1, 2, 3 and 5 Hz.
    pub fn bellec2020() -> Config {
        Config {
            n_rec: 600,
            trial_steps: 1000,
            ..Config::small()
        }
    }

    /// The configuration of the host ↔ chip bit-exactness check (`engram run eprop --hash` and the
    /// emulated-Cortex-M firmware): [`Config::small`] with `n` recurrent neurons.
    pub fn check(n: usize, seed: u64) -> Config {
        Config {
            n_rec: n,
            seed,
            ..Config::small()
        }
    }

    /// Recurrent synapses (no self-connections).
    pub fn n_rec_synapses(&self) -> usize {
        self.n_rec * self.n_rec.saturating_sub(1)
    }

    /// Input and recurrent weight format: 16 bits in ±[`W_MAX`], stochastic rounding.
    pub fn weight_format() -> WeightFormat {
        WeightFormat {
            rounding: Rounding::Stochastic,
            ..WeightFormat::new(16, -W_MAX, W_MAX)
        }
    }

    /// Readout weight format: 16 bits in ±[`OUT_MAX`], stochastic rounding.
    pub fn out_format() -> WeightFormat {
        WeightFormat {
            rounding: Rounding::Stochastic,
            ..WeightFormat::new(16, -OUT_MAX, OUT_MAX)
        }
    }

    /// The e-prop rule of the input and recurrent weights.
    pub fn rule(&self) -> RuleParams {
        RuleParams::eprop(self.eta, self.tau_m_ms, self.tau_out_ms, DT_MS)
    }

    /// The readout's delta rule: PES on the presynaptic trace with τ_out.
    pub fn out_rule(&self) -> RuleParams {
        RuleParams::pes(
            self.eta_out,
            Pre::Trace(0),
            Some(TraceParams {
                tau_ms: self.tau_out_ms,
                impulse: 1.0,
                mode: TraceMode::Accumulate,
            }),
        )
    }

    /// The recurrent neuron (normalised units: rest and reset 0, threshold 1).
    pub fn neuron(&self) -> LifParams {
        LifParams {
            tau_m_ms: self.tau_m_ms,
            e_leak: 0.0,
            v_thresh: 1.0,
            v_reset: 0.0,
            refractory_ms: self.refractory_ms,
            tau_exc_ms: TAU_SYN_MS,
            tau_inh_ms: TAU_SYN_MS,
            bias: 0.0,
            synapses: Synapses::Current,
        }
    }
}

/// The frozen environment: input spike trains and target, both restarted at every trial.
#[derive(Debug, Clone)]
pub struct Pattern {
    seed: u64,
    p_spike: Frac,
    rng: Rng,
    start: [Oscillator; 4],
    osc: [Oscillator; 4],
}

impl Pattern {
    /// Input at `rate_hz` per neuron; target `Σ_k A_k·sin(2π·c_k·t/T + φ_k)` with `A_k ~ U(0.5, 2)·amp`
    /// and `φ_k` uniform (the oscillator is advanced a random number of steps of its period).
    fn new(cfg: &Config, rng: &mut Rng) -> Result<Pattern, ConfigError> {
        let p_spike = Frac::from_f32("input spike probability", cfg.input_rate_hz * DT_MS * 1e-3)?;
        let trial_ms = cfg.trial_steps as f32 * DT_MS;
        let mut osc = [Oscillator::new(0.0, 1.0, DT_MS)?; 4];
        for (o, &c) in osc.iter_mut().zip(&cfg.cycles) {
            let a = (0.5 + 1.5 * fix_to_f32(rng.uniform())) * cfg.amplitude;
            *o = Oscillator::new(a, c as f32 * 1000.0 / trial_ms, DT_MS)?;
            let period = cfg.trial_steps / (c as u32).max(1);
            for _ in 0..rng.below(period) {
                o.advance();
            }
        }
        Ok(Pattern {
            seed: rng.next_u32() as u64 | ((rng.next_u32() as u64) << 32),
            p_spike,
            rng: Rng::new(0),
            start: osc,
            osc,
        })
    }

    /// Restarts input and target.
    fn restart(&mut self) {
        self.rng = Rng::new(self.seed);
        self.osc = self.start;
    }

    /// This step's input spikes into `out` (returns how many) and the target.
    fn advance(&mut self, out: &mut [u16]) -> (usize, Fix) {
        let mut k = 0;
        for i in 0..out.len() {
            // k ≤ i: the list is written in increasing order without overtaking the draws.
            if self.rng.bernoulli(self.p_spike)
                && let Some(slot) = out.get_mut(k)
            {
                *slot = i as u16;
                k += 1;
            }
        }
        let y = self
            .osc
            .iter_mut()
            .fold(Fix::ZERO, |y, o| y.saturating_add(o.advance()));
        (k, y)
    }
}

/// Caller storage.
#[derive(Debug)]
pub struct Storage<'a> {
    /// Recurrent neuron states (`n_rec`).
    pub state: &'a mut [LifState],
    /// Excitatory (current) deposits (`n_rec`).
    pub exc: &'a mut [Fix],
    /// Inhibitory deposits (`n_rec`, unused).
    pub inh: &'a mut [Fix],
    /// Spike slots (`n_rec`).
    pub spikes: &'a mut [u16],
    /// Last step's recurrent spikes (`n_rec`).
    pub prev_spikes: &'a mut [u16],
    /// This step's input spikes (`n_in`).
    pub in_spikes: &'a mut [u16],
    /// Input weights (`n_in·n_rec`), their eligibilities and accumulators (`n_rec`).
    pub w_in: &'a mut [i16],
    /// Eligibility of the input weights (`n_in·n_rec`).
    pub e_in: &'a mut [Fix],
    /// Input-projection accumulators (`n_rec`).
    pub acc_in: &'a mut [i32],
    /// Input traces `z̄` (`n_in`).
    pub tr_in: &'a mut [Fix],
    /// Recurrent CSR row ends (`n_rec`).
    pub row_end: &'a mut [u32],
    /// Recurrent CSR columns ([`Config::n_rec_synapses`]).
    pub cols: &'a mut [u16],
    /// Recurrent weights ([`Config::n_rec_synapses`]).
    pub w_rec: &'a mut [i16],
    /// Recurrent eligibilities ([`Config::n_rec_synapses`]).
    pub e_rec: &'a mut [Fix],
    /// Recurrent accumulators (`n_rec`).
    pub acc_rec: &'a mut [i32],
    /// Recurrent presynaptic traces (`n_rec`).
    pub tr_rec: &'a mut [Fix],
    /// Readout weights (`n_rec`).
    pub w_out: &'a mut [i16],
    /// Readout presynaptic traces (`n_rec`).
    pub tr_out: &'a mut [Fix],
    /// Readout accumulator (1).
    pub acc_out: &'a mut [i32],
    /// Pseudo-derivatives ψ (`n_rec`).
    pub psi: &'a mut [Fix],
    /// Learning signals L (`n_rec`).
    pub signal: &'a mut [Fix],
    /// Random feedback weights B (`n_rec`; written for both kinds, read for random feedback).
    pub feedback: &'a mut [Fix],
    /// The objective's error (1).
    pub error: &'a mut [Fix],
}

/// The running network.
#[derive(Debug)]
pub struct Network<'a> {
    /// Recurrent LIF neurons.
    pub rec: Population<'a, Lif>,
    prev: &'a mut [u16],
    n_prev: usize,
    in_spikes: &'a mut [u16],
    /// Input → recurrent weights under e-prop.
    pub w_in: Plastic<'a, i16, Dense<'a, i16>>,
    /// Recurrent weights under e-prop.
    pub w_rec: Plastic<'a, i16, Sparse<'a, i16>>,
    /// Readout weights under the delta rule.
    pub w_out: Plastic<'a, i16, Dense<'a, i16>>,
    readout: RateUnit,
    y: Fix,
    y_star: Fix,
    psi: &'a mut [Fix],
    signal: &'a mut [Fix],
    feedback: &'a mut [Fix],
    kind: Feedback,
    v_th: Fix,
    gamma: Fix,
    /// The objective.
    pub mse: MeanSquaredError<'a>,
    pattern: Pattern,
    trial_steps: u32,
    /// Step within the trial.
    pub k: u32,
    /// Whether the network (input and recurrent weights) learns.
    pub learn_network: bool,
    /// Whether the readout learns.
    pub learn_readout: bool,
    /// Steps taken.
    pub t: u64,
}

fn normal_weights(w: &mut [i16], sd: f32, scale: Scale, rng: &mut Rng) -> Result<(), ConfigError> {
    let sd = fix_from_f32("initial weight sd", sd / scale.lsb())?;
    for x in w {
        // |N| ≤ 6, so |sd·N| in raw steps fits i32; saturate to i16.
        *x = mul(sd, rng.normal()).to_num::<i32>().clamp(-32767, 32767) as i16;
    }
    Ok(())
}

impl<'a> Network<'a> {
    /// Builds the network on `st` from `cfg.seed`.
    ///
    /// Refuses: empty populations or more than 65 535 neurons, storage of the wrong sizes, a trial
    /// shorter than 2 steps, target cycles of 0, and whatever the neuron, the rules, the readout, the
    /// objective and the connectivity builder refuse.
    pub fn new(cfg: &Config, st: Storage<'a>) -> Result<Network<'a>, ConfigError> {
        let (n_in, n_rec) = (cfg.n_in, cfg.n_rec);
        if n_in == 0 || n_rec < 2 || cfg.trial_steps < 2 || cfg.cycles.contains(&0) {
            return Err(ConfigError::Invalid {
                what: "e-prop needs inputs, ≥ 2 neurons, ≥ 2 steps per trial and non-zero cycles",
            });
        }
        check_len("previous spikes", n_rec, st.prev_spikes.len())?;
        check_len("input spikes", n_in, st.in_spikes.len())?;
        check_len("pseudo-derivatives", n_rec, st.psi.len())?;
        check_len("learning signals", n_rec, st.signal.len())?;
        check_len("feedback weights", n_rec, st.feedback.len())?;
        let lif = Lif::new(cfg.neuron(), DT_MS)?;
        let rec = Population::new(lif, st.state, st.exc, st.inh, st.spikes)?;
        rec.state.fill(lif.rest_state());
        let mut rng = Rng::new(cfg.seed);

        let fmt = Config::weight_format();
        let scale = fmt.scale()?;
        let rule = Rule::new::<i16>(&cfg.rule(), &fmt, scale, DT_MS)?;
        normal_weights(st.w_in, cfg.w_in_sd / sqrt(n_in as f32), scale, &mut rng)?;
        let w_in = Plastic::new(
            Dense::new(n_in, n_rec, st.w_in, st.acc_in, scale)?,
            rule.clone(),
            RuleStorage {
                pre_traces: st.tr_in,
                post_traces: &mut [],
                eligibility: st.e_in,
                theta: &mut [],
            },
            cfg.seed ^ 1,
        )?;
        let nnz = fixed_indegree(
            n_rec,
            n_rec,
            n_rec - 1,
            false,
            &mut rng,
            st.row_end,
            st.cols,
        )?;
        let cols: &'a [u16] = st.cols;
        let cols = cols.get(..nnz).unwrap_or_default();
        check_len("recurrent weights", nnz, st.w_rec.len())?;
        normal_weights(st.w_rec, cfg.w_rec_sd / sqrt(n_rec as f32), scale, &mut rng)?;
        let csr = Csr::new(n_rec, st.row_end, cols)?;
        let w_rec = Plastic::new(
            Sparse::new(csr, st.w_rec, st.acc_rec, scale)?,
            rule,
            RuleStorage {
                pre_traces: st.tr_rec,
                post_traces: &mut [],
                eligibility: st.e_rec,
                theta: &mut [],
            },
            cfg.seed ^ 2,
        )?;

        let out_fmt = Config::out_format();
        let out_scale = out_fmt.scale()?;
        let out_rule = Rule::new::<i16>(&cfg.out_rule(), &out_fmt, out_scale, DT_MS)?;
        st.w_out.fill(0);
        let w_out = Plastic::new(
            Dense::new(n_rec, 1, st.w_out, st.acc_out, out_scale)?,
            out_rule,
            RuleStorage {
                pre_traces: st.tr_out,
                post_traces: &mut [],
                eligibility: &mut [],
                theta: &mut [],
            },
            cfg.seed ^ 3,
        )?;
        let b_sd = fix_from_f32("feedback sd", cfg.feedback_sd)?;
        for b in st.feedback.iter_mut() {
            *b = mul(b_sd, rng.normal());
        }
        let readout = RateUnit::new(
            RateParams {
                tau_ms: cfg.tau_out_ms,
                nonlinearity: Nonlinearity::Identity,
                bias: 0.0,
                gain: 1.0,
            },
            DT_MS,
        )?;
        let mse = MeanSquaredError::new(
            MeanSquaredErrorParams {
                average: Averaging::Rate { alpha: 1.0 },
            },
            DT_MS,
            st.error,
        )?;
        let mut pattern = Pattern::new(cfg, &mut rng)?;
        pattern.restart();
        st.psi.fill(Fix::ZERO);
        st.signal.fill(Fix::ZERO);
        Ok(Network {
            rec,
            prev: st.prev_spikes,
            n_prev: 0,
            in_spikes: st.in_spikes,
            w_in,
            w_rec,
            w_out,
            readout,
            y: Fix::ZERO,
            y_star: Fix::ZERO,
            psi: st.psi,
            signal: st.signal,
            feedback: st.feedback,
            kind: cfg.feedback,
            v_th: fix_from_f32("threshold", 1.0)?,
            gamma: fix_from_f32("gamma", cfg.gamma)?,
            mse,
            pattern,
            trial_steps: cfg.trial_steps,
            k: 0,
            learn_network: cfg.plastic_network,
            learn_readout: true,
            t: 0,
        })
    }

    /// One step of 1 ms (see the module docs); returns the squared error `(y − y*)²`.
    pub fn step(&mut self) -> Fix {
        if self.k == 0 {
            self.pattern.restart();
        }
        let (n_in, y_star) = self.pattern.advance(self.in_spikes);
        let in_spikes = self.in_spikes.get(..n_in).unwrap_or_default();
        let prev = self.prev.get(..self.n_prev).unwrap_or_default();
        self.w_in.propagate(in_spikes, self.rec.exc, &Signals::NONE);
        self.w_rec.propagate(prev, self.rec.exc, &Signals::NONE);
        self.rec.step();
        let z = self.rec.spikes.as_slice();
        let mut sum = [Fix::ZERO];
        self.w_out.propagate(z, &mut sum, &Signals::NONE);
        let [sum] = sum;
        self.y = self.readout.step(&mut self.y, sum);
        self.y_star = y_star;
        let loss = self.mse.update(&[self.y], &[y_star]);
        let err = self.mse.errors().first().copied().unwrap_or(Fix::ZERO);

        if self.learn_network {
            // ψ_j from the state after the step; γ at a spike (module docs).
            for (p, s) in self.psi.iter_mut().zip(self.rec.state.iter()) {
                *p = if s.refractory > 0 {
                    Fix::ZERO
                } else {
                    let d = (s.v - self.v_th).abs(); // v_th − v_rest = 1: no division
                    mul(self.gamma, (Fix::ONE - d).max(Fix::ZERO))
                };
            }
            for &j in z {
                if let Some(p) = self.psi.get_mut(j as usize) {
                    *p = self.gamma;
                }
            }
            let out_scale = self.w_out.proj.scale();
            let w_out = self.w_out.proj.weights();
            for ((l, b), w) in self.signal.iter_mut().zip(self.feedback.iter()).zip(w_out) {
                let b = match self.kind {
                    Feedback::Symmetric => out_scale.apply(*w as i32),
                    Feedback::Random => *b,
                };
                *l = mul(b, err);
            }
            let sig = Signals {
                post_signal: self.signal,
                post_gate: self.psi,
                ..Signals::NONE
            };
            self.w_in.learn(in_spikes, z, &sig);
            self.w_rec.learn(prev, z, &sig);
        }
        if self.learn_readout {
            let sig = self.mse.signal().route(Signals::NONE);
            self.w_out.learn(z, &[], &sig);
        }
        // Keep z^t for the next step's recurrent input.
        self.n_prev = z.len();
        for (d, s) in self.prev.iter_mut().zip(z) {
            *d = *s;
        }
        self.k += 1;
        if self.k >= self.trial_steps {
            self.k = 0;
        }
        self.t += 1;
        loss
    }

    /// Runs the rest of the current trial (a whole trial if called at its start); returns the mean
    /// squared error over the steps run (exact mean of the per-step values, rounded to nearest).
    pub fn trial(&mut self) -> Fix {
        let mut sum: i64 = 0;
        let mut n: i64 = 0;
        loop {
            sum = sum.saturating_add(self.step().to_bits() as i64);
            n += 1;
            if self.k == 0 {
                break;
            }
        }
        Fix::from_bits(((sum + n / 2) / n).clamp(0, i32::MAX as i64) as i32)
    }

    /// The readout `y` of the last step.
    pub fn output(&self) -> Fix {
        self.y
    }

    /// The target `y*` of the last step.
    pub fn target(&self) -> Fix {
        self.y_star
    }

    /// Spikes of the recurrent neurons in the last step.
    pub fn spikes(&self) -> &[u16] {
        self.rec.spikes.as_slice()
    }
}

/// Generator seed, spike probability, generator, oscillators at the trial start and now.
impl StateHash for Pattern {
    fn hash_into(&self, h: &mut Fnv64) {
        self.seed.hash_into(h);
        self.p_spike.hash_into(h);
        self.rng.hash_into(h);
        self.start.hash_into(h);
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
        self.rec.spikes.len()
    }

    fn spikes_hash(&self) -> u64 {
        self.rec.spikes.as_slice().state_hash()
    }

    /// Parts: `population` (states, pending input, spikes), `prev` (spikes still to cross the
    /// recurrent weights), `in.synapses`/`in.rule`, `rec.synapses`/`rec.rule`,
    /// `out.synapses`/`out.rule` (weights, accumulators; traces, eligibilities, rounding
    /// generators, tick phases), `readout` (`y`, `y*`), `learning` (ψ, L, feedback weights),
    /// `objective` (error, value, running mean), `pattern` (input generator and target
    /// oscillators), `t` (with the trial step and the learning switches).
    fn hash_parts(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        visit("population", self.rec.state_hash());
        let prev = self.prev.get(..self.n_prev).unwrap_or_default();
        visit("prev", prev.state_hash());
        visit_plastic(&self.w_in, ["in.synapses", "in.rule"], visit);
        visit_plastic(&self.w_rec, ["rec.synapses", "rec.rule"], visit);
        visit_plastic(&self.w_out, ["out.synapses", "out.rule"], visit);
        visit("readout", [self.y, self.y_star].state_hash());
        let mut h = Fnv64::new();
        self.psi.hash_into(&mut h);
        self.signal.hash_into(&mut h);
        self.feedback.hash_into(&mut h);
        visit("learning", h.finish());
        visit("objective", self.mse.state_hash());
        visit("pattern", self.pattern.state_hash());
        let mut h = Fnv64::new();
        self.t.hash_into(&mut h);
        self.k.hash_into(&mut h);
        self.learn_network.hash_into(&mut h);
        self.learn_readout.hash_into(&mut h);
        visit("t", h.finish());
    }
}

/// Square root for configuration (Newton's iteration; `core` has no `f32::sqrt` without `std`).
fn sqrt(x: f32) -> f32 {
    if x <= 0.0 {
        return 0.0;
    }
    let mut r = if x > 1.0 { x / 2.0 } else { 1.0 };
    for _ in 0..40 {
        r = 0.5 * (r + x / r);
    }
    r
}

/// Reports: population `recurrent`; metrics `objective` (running mean of the squared error),
/// `output` (y) and `target` (y*); plastic weights `input`, `recurrent` and `readout`.
impl crate::Observe for Network<'_> {
    fn spikes(&self, visit: &mut dyn FnMut(&'static str, usize, &[u16])) {
        visit("recurrent", self.rec.len(), self.rec.spikes.as_slice());
    }

    fn metrics(&self, visit: &mut dyn FnMut(&'static str, f32)) {
        visit("objective", self.mse.average().to_num::<f32>());
        visit("output", self.y.to_num::<f32>());
        visit("target", self.y_star.to_num::<f32>());
    }

    fn weights(&self, visit: &mut crate::WeightVisitor<'_>) {
        crate::visit_weights(
            "input",
            self.w_in.proj.scale(),
            self.w_in.rule().bounds(),
            self.w_in.proj.weights(),
            visit,
        );
        crate::visit_weights(
            "recurrent",
            self.w_rec.proj.scale(),
            self.w_rec.rule().bounds(),
            self.w_rec.proj.weights(),
            visit,
        );
        crate::visit_weights(
            "readout",
            self.w_out.proj.scale(),
            self.w_out.rule().bounds(),
            self.w_out.proj.weights(),
            visit,
        );
    }
}

/// Heap-owned storage for the host.
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct Buffers {
    state: Vec<LifState>,
    per_rec: [Vec<Fix>; 8],
    spikes: [Vec<u16>; 3],
    e_in: Vec<Fix>,
    e_rec: Vec<Fix>,
    w: [Vec<i16>; 3],
    acc: [Vec<i32>; 3],
    row_end: Vec<u32>,
    cols: Vec<u16>,
    error: [Fix; 1],
}

#[cfg(feature = "std")]
impl Buffers {
    /// Buffers sized for `cfg`.
    pub fn new(cfg: &Config) -> Buffers {
        let (ni, nr, ns) = (cfg.n_in, cfg.n_rec, cfg.n_rec_synapses());
        Buffers {
            state: vec![LifState::default(); nr],
            per_rec: core::array::from_fn(|k| vec![Fix::ZERO; if k == 7 { ni } else { nr }]),
            spikes: [vec![0; nr], vec![0; nr], vec![0; ni]],
            e_in: vec![Fix::ZERO; ni * nr],
            e_rec: vec![Fix::ZERO; ns],
            w: [vec![0; ni * nr], vec![0; ns], vec![0; nr]],
            acc: [vec![0; nr], vec![0; nr], vec![0; 1]],
            row_end: vec![0; nr],
            cols: vec![0; ns],
            error: [Fix::ZERO],
        }
    }

    /// The storage view for [`Network::new`].
    pub fn storage(&mut self) -> Storage<'_> {
        let [exc, inh, tr_rec, tr_out, psi, signal, feedback, tr_in] = &mut self.per_rec;
        let [spikes, prev_spikes, in_spikes] = &mut self.spikes;
        let [w_in, w_rec, w_out] = &mut self.w;
        let [acc_in, acc_rec, acc_out] = &mut self.acc;
        Storage {
            state: &mut self.state,
            exc,
            inh,
            spikes,
            prev_spikes,
            in_spikes,
            w_in,
            e_in: &mut self.e_in,
            acc_in,
            tr_in,
            row_end: &mut self.row_end,
            cols: &mut self.cols,
            w_rec,
            e_rec: &mut self.e_rec,
            acc_rec,
            tr_rec,
            w_out,
            tr_out,
            acc_out,
            psi,
            signal,
            feedback,
            error: &mut self.error,
        }
    }
}
