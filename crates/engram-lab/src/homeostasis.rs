//! Homeostatic plasticity: synaptic scaling (Turrigiano et al. 1998, "Activity-dependent scaling of
//! quantal amplitude in neocortical neurons", Nature 391:892; the model of van Rossum, Bi &
//! Turrigiano 2000) and intrinsic threshold adaptation (Desai, Rutherford & Turrigiano 1999) bring
//! every neuron of a population to a target firing rate, from a start far above or below it.
//!
//! | part | here |
//! | --- | --- |
//! | architecture | `n_neurons` current-based LIF neurons, each driven by `in_degree` of the `n_inputs` Poisson inputs (drawn at random, [`fixed_indegree`]) through a sparse excitatory projection (`i16` weights in `[0, w_max]`); no recurrence |
//! | learning rule | [`Mechanism::Scaling`]: [`RuleParams::synaptic_scaling`], `dw_ij/dt = η_s·(r* − r_j)·w_ij` (a tick every 100 ms); [`Mechanism::Intrinsic`]: [`Intrinsic`], a threshold offset `dϑ_j/dt = η_i·(r_j − r*)` applied as the bias `−ϑ_j`; [`Mechanism::None`]: the control, nothing learns |
//! | objective | [`RateTarget`]: `L = mean_j (r_j − r*)²` with rate estimates `r_j` (exponential traces of the spikes, τ_r); its per-neuron error `r* − r_j` is the scaling rule's [`Post::Signal`](engram::rule::Post::Signal) |
//! | environment | `n_inputs` independent Poisson trains at `input_hz` ([`PoissonEncoder`]) |
//!
//! The published outcome: chronic changes in drive are compensated — each neuron's rate returns to
//! its set point, through multiplicative scaling of all its excitatory synapses (which keeps their
//! relative strengths) or through its excitability.
//!
//! Neurons: τ_m = 20 ms, E_L = −70 mV, V_th = −54 mV, V_reset = −60 mV, refractory 2 ms, τ_e = 5 ms
//! (the neuron of Song, Miller & Abbott 2000 with current-based synapses), dt = 1 ms. Weights are
//! current jumps (mV) `w_ij = w_start·g_j·u_ij`, `u_ij ~ U(0.5, 1.5)` and a per-neuron gain
//! `g_j ~ U(1 − gain_spread, 1 + gain_spread)`, so neurons start at different rates and each must find
//! its own correction. `w_start` sets where the population starts: with 100 of 500 inputs at 10 Hz,
//! 2.2 mV gives ≈ 2.5 Hz (individual neurons 0–10 Hz) and 3.5 mV ≈ 40 Hz (20–60 Hz), for a target of
//! 10 Hz. Inputs are drawn from a pool so that two neurons share about a fifth of them: with fully
//! shared inputs the population rate would follow every fluctuation of the common drive.
//!
//! Scaled down from a cortical neuron's thousands of inputs to keep the test fast, and the homeostatic
//! time constants are seconds here instead of the hours to days of the slice experiments (τ_r =
//! 500 ms, η_s = 10⁻⁵ /(ms·Hz), η_i = 10⁻⁴ mV/(ms·Hz)): the loop is the same, only faster. The rate
//! estimate's τ_r is short against the loop's few seconds, so the loop is well damped.
//!
//! Fixed point: see [`RateTarget`], [`Intrinsic`] and the rule module; weights change by stochastic
//! rounding, so the small scaling steps near the target still accumulate.

use crate::{Simulation, visit_plastic};
use engram::ConfigError;
use engram::env::{Encoder, PoissonEncoder};
use engram::error::check_len;
use engram::hash::StateHash;
use engram::neuron::{Lif, LifParams, LifState, Population, Spikes, Synapses};
use engram::num::{Fix, Frac, Rng, Rounding, fix_from_f32, mul};
use engram::objective::{Averaging, Objective, RateTarget, RateTargetParams};
use engram::projection::{Csr, Sparse, fixed_indegree};
use engram::rule::{
    BiasInput, Intrinsic, IntrinsicParams, IntrinsicStorage, Plastic, Rule, RuleParams,
    RuleStorage, Signals, WeightFormat,
};

/// Time step (ms).
pub const DT_MS: f32 = 1.0;
/// Steps between two synaptic-scaling sweeps (100 ms).
pub const SCALING_PERIOD: u16 = 100;

/// Which homeostatic mechanism runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Mechanism {
    /// None: the control.
    None,
    /// Synaptic scaling of the excitatory input weights.
    Scaling,
    /// Intrinsic threshold adaptation.
    Intrinsic,
}

/// The experiment's configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct Config {
    /// Poisson inputs (the pool).
    pub n_inputs: usize,
    /// Inputs per neuron, drawn from the pool.
    pub in_degree: usize,
    /// LIF neurons.
    pub n_neurons: usize,
    /// Rate of every input (Hz).
    pub input_hz: f32,
    /// Mean initial weight (mV per input spike): sets the starting rate.
    pub w_start: f32,
    /// Per-neuron gain spread of the initial weights (0 ≤ s < 1).
    pub gain_spread: f32,
    /// Upper weight bound (mV).
    pub w_max: f32,
    /// Target rate r* (Hz).
    pub target_hz: f32,
    /// Time constant of the rate estimates τ_r (ms).
    pub rate_tau_ms: f32,
    /// Synaptic-scaling rate η_s (per ms per Hz).
    pub scaling_eta: f32,
    /// Intrinsic-plasticity rate η_i (mV per ms per Hz).
    pub intrinsic_eta: f32,
    /// Largest threshold offset (mV).
    pub max_offset: f32,
    /// Which mechanism.
    pub mechanism: Mechanism,
    /// Seed of the weights, the input trains and the rounding.
    pub seed: u64,
}

impl Default for Config {
    /// The configuration `engram run homeostasis-scaling` runs: [`Config::check`] with synaptic
    /// scaling, 50 neurons, seed 1.
    fn default() -> Self {
        Config::check(Mechanism::Scaling, 50, 1)
    }
}

impl Config {
    /// 50 neurons with 100 inputs each from a pool of 500 at 10 Hz, target 10 Hz.
    pub fn new(mechanism: Mechanism) -> Config {
        Config {
            n_inputs: 500,
            in_degree: 100,
            n_neurons: 50,
            input_hz: 10.0,
            w_start: 2.9,
            gain_spread: 0.15,
            w_max: 16.0,
            target_hz: 10.0,
            rate_tau_ms: 500.0,
            scaling_eta: 1e-5,
            intrinsic_eta: 1e-4,
            max_offset: 30.0,
            mechanism,
            seed: 1,
        }
    }

    /// The configuration of the host ↔ chip bit-exactness check (`engram run homeostasis-scaling
    /// --hash` / `homeostasis-intrinsic`, and the emulated-Cortex-M firmware): `n` neurons, each
    /// with `2n` inputs from a pool of `10n` (n = 50 is [`Config::new`]'s network), the input rate
    /// `500/n` Hz so that every size gets the same mean drive, and a start far above the target
    /// (`w_start` 3.5 mV: near 40 Hz), so that both mechanisms act from the first seconds.
    pub fn check(mechanism: Mechanism, n: usize, seed: u64) -> Config {
        Config {
            n_inputs: 10 * n,
            in_degree: 2 * n,
            n_neurons: n,
            input_hz: 500.0 / n.max(1) as f32,
            w_start: 3.5,
            seed,
            ..Config::new(mechanism)
        }
    }

    /// The neuron (see the module doc).
    pub fn neuron() -> LifParams {
        LifParams {
            tau_m_ms: 20.0,
            e_leak: -70.0,
            v_thresh: -54.0,
            v_reset: -60.0,
            refractory_ms: 2.0,
            tau_exc_ms: 5.0,
            tau_inh_ms: 5.0,
            bias: 0.0,
            synapses: Synapses::Current,
        }
    }

    fn rule(&self) -> RuleParams {
        match self.mechanism {
            Mechanism::Scaling => {
                let mut r = RuleParams::synaptic_scaling(self.scaling_eta);
                r.period = SCALING_PERIOD;
                r
            }
            Mechanism::None | Mechanism::Intrinsic => RuleParams::empty(),
        }
    }
}

/// Caller storage (`n_in = n_inputs`, `n = n_neurons`).
#[derive(Debug)]
pub struct Storage<'a> {
    /// `n_in` observation channels (the environment: every input at its full rate, 1).
    pub obs: &'a mut [Fix],
    /// `n_in` spike probabilities (the Poisson encoder's).
    pub prob: &'a mut [Frac],
    /// `n_in` input spike slots.
    pub input_spikes: &'a mut [u16],
    /// `n_in` row ends of the connectivity.
    pub row_end: &'a mut [u32],
    /// `in_degree · n` column indices.
    pub cols: &'a mut [u16],
    /// `in_degree · n` weights.
    pub weights: &'a mut [i16],
    /// `n` accumulators.
    pub acc: &'a mut [i32],
    /// `n` neuron states.
    pub state: &'a mut [LifState],
    /// `n` excitatory inputs.
    pub exc: &'a mut [Fix],
    /// `n` inhibitory inputs.
    pub inh: &'a mut [Fix],
    /// `n` spike slots.
    pub spikes: &'a mut [u16],
    /// `n` rate estimates of the objective.
    pub rates: &'a mut [Fix],
    /// `n` rate errors `r* − r_j` of the objective.
    pub errors: &'a mut [Fix],
    /// `n` threshold offsets (used by [`Mechanism::Intrinsic`]).
    pub offsets: &'a mut [Fix],
    /// `n` rate estimates of [`Intrinsic`] (used by [`Mechanism::Intrinsic`]).
    pub intrinsic_rates: &'a mut [Fix],
}

/// The running experiment.
#[derive(Debug)]
pub struct Network<'a> {
    encoder: PoissonEncoder<'a>,
    input: Spikes<'a>,
    rng: Rng,
    /// The plastic input projection (static for [`Mechanism::None`] and [`Mechanism::Intrinsic`]).
    pub plastic: Plastic<'a, i16, Sparse<'a, i16>>,
    /// The LIF population.
    pub pop: Population<'a, Lif>,
    /// The objective: rate estimates and the per-neuron error.
    pub objective: RateTarget<'a>,
    /// Threshold adaptation ([`Mechanism::Intrinsic`] only).
    pub intrinsic: Option<Intrinsic<'a>>,
    /// Steps taken.
    pub t: u64,
}

impl<'a> Network<'a> {
    /// Builds the experiment on `st`.
    pub fn new(cfg: &Config, st: Storage<'a>) -> Result<Network<'a>, ConfigError> {
        let (n_in, n) = (cfg.n_inputs, cfg.n_neurons);
        check_len("homeostasis input spikes", n_in, st.input_spikes.len())?;
        if !(0.0..1.0).contains(&cfg.gain_spread) {
            return Err(ConfigError::OutOfRange {
                what: "gain spread (0 ≤ s < 1)",
                value: cfg.gain_spread,
            });
        }
        let mut encoder = PoissonEncoder::new(0.0, 1.0, cfg.input_hz, DT_MS, st.prob)?;
        check_len("homeostasis observation", n_in, st.obs.len())?;
        st.obs.fill(Fix::ONE);
        encoder.load(st.obs);
        let fmt = WeightFormat {
            rounding: Rounding::Stochastic,
            ..WeightFormat::new(16, 0.0, cfg.w_max)
        };
        let scale = fmt.scale()?;
        let rule = Rule::new::<i16>(&cfg.rule(), &fmt, scale, DT_MS)?;
        let mut rng = Rng::stream(cfg.seed, 0x0401_1E05);
        let nnz = fixed_indegree(n_in, n, cfg.in_degree, true, &mut rng, st.row_end, st.cols)?;
        check_len("homeostasis weights", nnz, st.weights.len())?;
        let cols: &'a [u16] = st.cols;
        let cols = cols.get(..nnz).unwrap_or_default();
        let w0 = fix_from_f32("initial weight", cfg.w_start)?;
        let spread = fix_from_f32("gain spread", cfg.gain_spread)?;
        // Neuron j's gain 1 − s + 2s·U(0, 1), from its own stream (no scratch storage needed).
        let gain = |j: usize| {
            Fix::ONE - spread
                + mul(
                    spread * 2,
                    Rng::stream(cfg.seed ^ 0x6A1, j as u64).uniform(),
                )
        };
        let (lo, hi) = rule.bounds();
        for (w, &j) in st.weights.iter_mut().zip(cols) {
            let u = Fix::ONE / 2 + rng.uniform();
            let v = mul(mul(w0, gain(j as usize)), u).to_num::<f32>();
            *w = scale.raw_from_f32(v).clamp(lo, hi) as i16;
        }
        let csr = Csr::new(n, st.row_end, cols)?;
        let proj = Sparse::new(csr, st.weights, st.acc, scale)?;
        let storage = RuleStorage {
            pre_traces: &mut [],
            post_traces: &mut [],
            eligibility: &mut [],
            theta: &mut [],
        };
        let plastic = Plastic::new(proj, rule, storage, cfg.seed)?;
        let lif = Lif::new(Config::neuron(), DT_MS)?;
        st.state.fill(lif.rest_state());
        let pop = Population::new(lif, st.state, st.exc, st.inh, st.spikes)?;
        let objective = RateTarget::new(
            RateTargetParams {
                target_hz: cfg.target_hz,
                tau_ms: cfg.rate_tau_ms,
                average: Averaging::TimeConstant { tau_ms: 1000.0 },
            },
            DT_MS,
            st.rates,
            st.errors,
        )?;
        let intrinsic = match cfg.mechanism {
            Mechanism::Intrinsic => {
                check_len("homeostasis offsets", n, st.offsets.len())?;
                st.offsets.fill(Fix::ZERO);
                Some(Intrinsic::new(
                    IntrinsicParams {
                        target_hz: cfg.target_hz,
                        eta: cfg.intrinsic_eta,
                        tau_ms: cfg.rate_tau_ms,
                        max_offset: cfg.max_offset,
                        input: BiasInput::Synaptic {
                            tau_ms: Config::neuron().tau_exc_ms,
                        },
                    },
                    DT_MS,
                    IntrinsicStorage {
                        offsets: st.offsets,
                        rates: st.intrinsic_rates,
                    },
                )?)
            }
            Mechanism::None | Mechanism::Scaling => None,
        };
        Ok(Network {
            encoder,
            input: Spikes::new(st.input_spikes),
            rng: Rng::stream(cfg.seed, 0x1_9075),
            plastic,
            pop,
            objective,
            intrinsic,
            t: 0,
        })
    }

    /// One step of 1 ms: input spikes → projection → neurons → objective → homeostasis.
    pub fn step(&mut self) {
        self.input.clear();
        self.encoder.encode(&mut self.rng, &mut self.input);
        let input = self.input.as_slice();
        self.plastic.propagate(input, self.pop.exc, &Signals::NONE);
        self.pop.step();
        let spikes = self.pop.spikes.as_slice();
        self.objective.update(spikes);
        if let Some(ip) = self.intrinsic.as_mut() {
            ip.step(spikes, self.pop.exc);
        }
        let sig = self.objective.signal().route(Signals::NONE);
        self.plastic.learn(input, spikes, &sig);
        self.t += 1;
    }

    /// The objective's value `mean_j (r_j − r*)²` (Hz²) at the last step.
    pub fn loss(&self) -> Fix {
        self.objective.value()
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
        self.input.as_slice().len() + self.pop.spikes.len()
    }

    /// The input spikes, then the neurons'.
    fn spikes_hash(&self) -> u64 {
        let mut h = engram::hash::Fnv64::new();
        self.input.as_slice().hash_into(&mut h);
        self.pop.spikes.as_slice().hash_into(&mut h);
        h.finish()
    }

    /// Parts: `encoder` (spike probabilities), `input` (last step's input spikes), `rng` (input
    /// trains), `synapses` (topology, weights, accumulators), `rule` (rounding generator, tick
    /// phase), `population` (states, pending input, spikes), `objective` (rate estimates, errors,
    /// value, running mean), `intrinsic` (offsets, rate estimates; empty without it), `t`.
    fn hash_parts(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        visit("encoder", self.encoder.probabilities().state_hash());
        visit("input", self.input.as_slice().state_hash());
        visit("rng", self.rng.state_hash());
        visit_plastic(&self.plastic, ["synapses", "rule"], visit);
        visit("population", self.pop.state_hash());
        visit("objective", self.objective.state_hash());
        let intrinsic = self.intrinsic.as_ref();
        visit("intrinsic", intrinsic.map_or(0, |i| i.state_hash()));
        visit("t", self.t.state_hash());
    }
}

/// Reports: population `neurons`; metrics `objective` (the running mean of `mean_j (r_j − r*)²`,
/// Hz²) and `rate_estimate` (mean of the objective's per-neuron rate estimates, Hz); plastic weights
/// `input`.
impl crate::Observe for Network<'_> {
    fn spikes(&self, visit: &mut dyn FnMut(&'static str, usize, &[u16])) {
        visit("neurons", self.pop.len(), self.pop.spikes.as_slice());
    }

    fn metrics(&self, visit: &mut dyn FnMut(&'static str, f32)) {
        visit("objective", self.objective.average().to_num::<f32>());
        let rates = self.objective.rates();
        let sum: f32 = rates.iter().map(|r| r.to_num::<f32>()).sum();
        visit("rate_estimate", sum / rates.len().max(1) as f32);
    }

    fn weights(&self, visit: &mut crate::WeightVisitor<'_>) {
        crate::visit_weights(
            "input",
            self.plastic.proj.scale(),
            self.plastic.rule().bounds(),
            self.plastic.proj.weights(),
            visit,
        );
    }
}

/// Heap storage for the host.
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct Buffers {
    obs: Vec<Fix>,
    prob: Vec<Frac>,
    input_spikes: Vec<u16>,
    row_end: Vec<u32>,
    cols: Vec<u16>,
    weights: Vec<i16>,
    acc: Vec<i32>,
    state: Vec<LifState>,
    fix: [Vec<Fix>; 6],
    spikes: Vec<u16>,
}

#[cfg(feature = "std")]
impl Buffers {
    /// Buffers sized for `cfg`.
    pub fn new(cfg: &Config) -> Buffers {
        // Counts beyond what `u16` spike indices name cannot be valid: sized at that limit, the
        // constructor's length checks refuse them instead of the host allocating the mistake.
        let cap = |x: usize| x.min(u16::MAX as usize + 1);
        let (n_in, n) = (cap(cfg.n_inputs), cap(cfg.n_neurons));
        Buffers {
            obs: vec![Fix::ZERO; n_in],
            prob: vec![Frac::ZERO; n_in],
            input_spikes: vec![0; n_in],
            row_end: vec![0; n_in],
            cols: vec![0; cap(cfg.in_degree) * n],
            weights: vec![0; cap(cfg.in_degree) * n],
            acc: vec![0; n],
            state: vec![LifState::default(); n],
            fix: core::array::from_fn(|_| vec![Fix::ZERO; n]),
            spikes: vec![0; n],
        }
    }

    /// The storage view for [`Network::new`].
    pub fn storage(&mut self) -> Storage<'_> {
        let [exc, inh, rates, errors, offsets, intrinsic_rates] = &mut self.fix;
        Storage {
            obs: &mut self.obs,
            prob: &mut self.prob,
            input_spikes: &mut self.input_spikes,
            row_end: &mut self.row_end,
            cols: &mut self.cols,
            weights: &mut self.weights,
            acc: &mut self.acc,
            state: &mut self.state,
            exc,
            inh,
            spikes: &mut self.spikes,
            rates,
            errors,
            offsets,
            intrinsic_rates,
        }
    }
}
