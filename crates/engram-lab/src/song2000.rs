//! Song, Miller & Abbott (2000), "Competitive Hebbian learning through spike-timing-dependent synaptic
//! plasticity", Nature Neuroscience 3:919 — Fig. 1 (bimodal weights) and Fig. 2 (rate stabilisation).
//!
//! | part | here |
//! | --- | --- |
//! | architecture | one conductance-based LIF neuron; `n_exc` = 1000 excitatory inputs through a plastic [`Dense`] projection (weights in `[0, g_max]`, `W` = `i16` or `i8`), `n_inh` = 200 inhibitory inputs through a static one (ḡ_in = 0.05 each) |
//! | learning rule | additive all-to-all pair STDP, [`RuleParams::song2000`]: τ₊ = τ₋ = 20 ms, `A₊ = 0.005·g_max`, `A₋/A₊ = 1.05`, hard bounds `[0, g_max]` ([`Config::speedup`] multiplies both amplitudes) |
//! | objective | none explicit. STDP with `A₋τ₋ > A₊τ₊` is competitive: inputs compete to control the output spike times. The published outcomes are emergent: the weights split into a bimodal distribution at the bounds, and the output rate becomes nearly independent of the input rate (the neuron is kept in a balanced, fluctuation-driven regime); [`Network::output_hz`] measures it |
//! | environment | independent Poisson trains: every excitatory input at `input_hz` (10–40 Hz), every inhibitory input at `inh_hz` = 10 Hz |
//!
//! **Neuron** (Song et al.): τ_m = 20 ms, V_rest = −70 mV, threshold −54 mV, reset −60 mV, no refractory
//! period, E_exc = 0 mV, E_inh = −70 mV, τ_exc = τ_inh = 5 ms; conductances in units of the leak
//! conductance: a presynaptic spike adds its weight `g_a ∈ [0, g_max]`, g_max = 0.015, to `g_exc`, an
//! inhibitory one adds ḡ_in = 0.05 to `g_inh` ([`Lif`] with [`Synapses::Conductance`], forward Euler).
//!
//! **Time step.** [`Config::dt_ms`] is 0.1 ms. Every exponential (synapses, traces) decays by its
//! exact factor; `v` is forward Euler with the conductances held over the step. A 1 ms step is
//! accepted (and stable) but is a different neuron here: holding a fresh conductance for a whole
//! 1 ms step makes each PSP ≈ 10 % larger, which in this fluctuation-driven regime triples the
//! initial output rate (measured: 6.9 Hz against 2.1 Hz at 10 Hz input), and a pre spike and the
//! post spike it causes then often share a step, where the applier counts the pair as causal with a
//! full-size trace. With those two biases potentiation wins and the rate runs away (measured: 95 Hz
//! after 300 s at 10 Hz input, weights drifting up). So the tests use 0.1 ms.
//!
//! **Order in a step.** Input spikes are drawn (excitatory then inhibitory, from one seeded [`Rng`]), transmitted (the STDP depression of each presynaptic
//! spike is applied in the same pass, [`Plastic::propagate`]), the neuron steps, then
//! [`Plastic::learn`] applies the potentiation of a postsynaptic spike and advances the traces (see
//! `engram::rule`). Input spikes of step n act on `v` in step n.
//!
//! **Inputs.** Every input of a population spikes in a step with probability `p = rate·dt`,
//! independently ([`PoissonGroup`]). Rather than one Bernoulli draw per input and step (what
//! [`engram::env::PoissonEncoder`] does: 1200 draws per step here, most of the run time at
//! dt = 0.1 ms), the group draws how many inputs spike — Binomial(N, p), by inverting a cumulative
//! table computed once — and then which: that many distinct indices, uniformly. That is the same
//! distribution (independent Bernoulli trials conditioned on their count are a uniform subset) at
//! about `1 + N·p` draws per step. All inputs of a population share one rate, so no per-input table
//! is needed either (4 KB for 1000 inputs on a board).
//!
//! **Numbers.** Weights are stored as `bits`-bit steps of `g_max / (2^(bits−1) − 1)`
//! ([`WeightFormat::scale`]); the STDP amplitudes are in weight units, so they mean the same at every
//! precision (at 16 bits `A₊` is 164 steps; at 8 bits 0.63 of a step, so nearest rounding distorts the
//! rule and stochastic rounding keeps it unbiased on average — the precision study measures it). The
//! conductances are [`Fix`] (1.5·10⁻⁵ of g_L per LSB, 1/1000 of g_max).
//!
//! **Speed-up.** The paper's amplitudes need many minutes of simulated time to converge;
//! [`Config::speedup`] multiplies `A₊` and `A₋` alike (ratio and bounds unchanged), which shortens the
//! convergence time by the same factor and makes the final distribution noisier (each jump is larger).
//! The tests say which factor they use.

//! **Measured** (seed 1, paper amplitudes, 16 bits): from uniform weights (20 % within 10 % of a
//! bound) and 1.4 Hz / 540 Hz output with those weights frozen at 10 / 40 Hz input, learning for
//! 1500 s at 10 Hz gives 68 % near a bound (29 % at 0, 39 % at g_max) and 15.0 Hz; 600 s at 40 Hz
//! gives 83 % (76 % / 7 %) and 19.0 Hz: the output rate ratio falls from ≈ 370 to 1.3. Longer runs
//! (4000 s / 2000 s) give 80 % / 82 % and 13.9 / 22.3 Hz. Precision: `tests/song2000_precision.rs`.
//!
//! This experiment exposed a trace dead band in the core (fixed in `engram::trace`): with decay
//! rounded to nearest, a post trace below 100 LSB never decayed, so every presynaptic spike kept
//! depressing after the neuron fell silent and (with a doubled amplitude) silenced it for good.

use crate::Simulation;
use engram::hash::{Fnv64, StateHash};
use engram::neuron::{Lif, LifParams, LifState, Population, Spikes, Synapses};
use engram::num::{Fix, Rng, Rounding, Scale, Weight};
use engram::projection::{Dense, SpikeProjection};
use engram::rule::{Plastic, Rule, RuleParams, RuleStorage, Signals, WeightFormat};
use engram::{ConfigError, error::check_len};

/// Maximal excitatory conductance ḡ_max (units of the leak conductance).
pub const G_MAX: f32 = 0.015;
/// Conductance of one inhibitory synapse ḡ_in (units of the leak conductance).
pub const G_INH: f32 = 0.05;

/// The experiment's configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct Config {
    /// Excitatory inputs (1000).
    pub n_exc: usize,
    /// Inhibitory inputs (200).
    pub n_inh: usize,
    /// Rate of every excitatory input (Hz; 10–40 in the paper).
    pub input_hz: f32,
    /// Rate of every inhibitory input (Hz; 10).
    pub inh_hz: f32,
    /// Upper weight bound ḡ_max (0.015).
    pub g_max: f32,
    /// Inhibitory conductance per spike ḡ_in (0.05).
    pub g_inh: f32,
    /// Weight bits, rounding (the bounds are set to `[0, g_max]` and hard: `w_min`, `w_max`, `soft`
    /// are ignored).
    pub weights: WeightFormat,
    /// Factor on both STDP amplitudes (1: the paper's).
    pub speedup: f32,
    /// Initial weights are uniform in `[init_lo, init_hi] · g_max`.
    pub init_lo: f32,
    /// See `init_lo`.
    pub init_hi: f32,
    /// Time step (ms).
    pub dt_ms: f32,
    /// Seed of the initial weights, the input trains and the stochastic rounding.
    pub seed: u64,
}

impl Default for Config {
    /// The configuration `engram run song2000` runs: [`Config::check`] with seed 1 (20 Hz input,
    /// 16-bit weights, stochastic rounding).
    fn default() -> Self {
        Config::check(1)
    }
}

impl Config {
    /// The paper's network at `input_hz`, 16-bit weights (nearest rounding), uniform initial weights
    /// in `[0, g_max]`, dt = 0.1 ms, no speed-up.
    pub fn new(input_hz: f32) -> Config {
        Config {
            n_exc: 1000,
            n_inh: 200,
            input_hz,
            inh_hz: 10.0,
            g_max: G_MAX,
            g_inh: G_INH,
            weights: WeightFormat::new(16, 0.0, G_MAX),
            speedup: 1.0,
            init_lo: 0.0,
            init_hi: 1.0,
            dt_ms: 0.1,
            seed: 1,
        }
    }

    /// The bit-exactness check's configuration (`cargo xtask qemu`, `engram run song2000 --hash`): the
    /// paper's network, neuron and rule (no speed-up) at 20 Hz input, 16-bit weights with stochastic
    /// rounding. At the paper's lower 10 Hz the neuron does not fire within a short run (0 output
    /// spikes in 5000 steps, seed 3), so no pair is ever formed and no weight moves; at 20 Hz it fires
    /// ≈ 180 Hz with the uniform initial weights and STDP changes almost every weight within 5000
    /// steps (0.5 s; `tests/tests/check_configs.rs`). Stochastic rounding makes the check cover the
    /// rule's rounding generator too.
    pub fn check(seed: u64) -> Config {
        Config {
            weights: WeightFormat {
                rounding: Rounding::Stochastic,
                ..WeightFormat::new(16, 0.0, G_MAX)
            },
            seed,
            ..Config::new(20.0)
        }
    }

    /// The neuron of Song et al. (2000) (see the module doc).
    pub const fn neuron() -> LifParams {
        LifParams {
            tau_m_ms: 20.0,
            e_leak: -70.0,
            v_thresh: -54.0,
            v_reset: -60.0,
            refractory_ms: 0.0,
            tau_exc_ms: 5.0,
            tau_inh_ms: 5.0,
            bias: 0.0,
            synapses: Synapses::Conductance {
                e_exc: 0.0,
                e_inh: -70.0,
            },
        }
    }

    /// The weight format actually used: `weights`'s bits and rounding, hard bounds `[0, g_max]`.
    pub fn weight_format(&self) -> WeightFormat {
        WeightFormat {
            w_min: 0.0,
            w_max: self.g_max,
            soft: false,
            ..self.weights
        }
    }

    /// The learning rule: [`RuleParams::song2000`] with both amplitudes times `speedup`.
    pub fn rule(&self) -> RuleParams {
        RuleParams::song2000(self.g_max * self.speedup)
    }
}

/// Caller storage (`W`: the excitatory weight type, `i16` for more than 8 bits, `i8` for up to 8).
#[derive(Debug)]
pub struct Storage<'a, W: Weight> {
    /// `n_exc` excitatory weights.
    pub exc_weights: &'a mut [W],
    /// `n_inh` inhibitory weights (set to one step of ḡ_in here).
    pub inh_weights: &'a mut [i8],
    /// Accumulators: 1 each.
    pub exc_acc: &'a mut [i32],
    /// See `exc_acc`.
    pub inh_acc: &'a mut [i32],
    /// `n_exc` presynaptic STDP traces.
    pub pre_traces: &'a mut [Fix],
    /// 1 postsynaptic STDP trace.
    pub post_traces: &'a mut [Fix],
    /// `n_exc` excitatory input spike slots.
    pub exc_spikes: &'a mut [u16],
    /// `n_inh` inhibitory input spike slots.
    pub inh_spikes: &'a mut [u16],
    /// The neuron: 1 state, 1 excitatory and 1 inhibitory deposit, 1 spike slot.
    pub state: &'a mut [LifState],
    /// See `state`.
    pub exc: &'a mut [Fix],
    /// See `state`.
    pub inh: &'a mut [Fix],
    /// See `state`.
    pub spikes: &'a mut [u16],
}

/// The running experiment.
#[derive(Debug)]
pub struct Network<'a, W: Weight> {
    /// The plastic excitatory projection (`n_exc → 1`).
    pub plastic: Plastic<'a, W, Dense<'a, W>>,
    /// The static inhibitory projection (`n_inh → 1`).
    pub inh_proj: Dense<'a, i8>,
    /// The neuron.
    pub neuron: Population<'a, Lif>,
    exc_in: Spikes<'a>,
    inh_in: Spikes<'a>,
    exc_group: PoissonGroup,
    inh_group: PoissonGroup,
    dt_ms: f32,
    rng: Rng,
    /// Whether STDP is on (off: the weights are frozen and the traces are not updated).
    pub learning: bool,
    /// Output spikes since construction.
    pub output_spikes: u64,
    /// Steps taken.
    pub t: u64,
}

/// Most spikes a [`PoissonGroup`] emits in one step (the size of its cumulative table).
pub const MAX_SPIKES_PER_STEP: usize = 32;

/// `n` independent inputs that each spike with probability `p` per step, drawn as a Binomial(n, p)
/// count and a uniform subset of that size (see the module doc).
///
/// The cumulative distribution `F(k)`, `k < 32`, is computed once in `f64` and stored as `u32`
/// thresholds (`⌊F(k)·2³²⌉`); a draw `u` gives the smallest `k` with `u < F(k)`. Counts of 32 or more
/// are folded into 31: [`PoissonGroup::new`] requires a mean `n·p ≤ 8`, where `P(k ≥ 32) < 10⁻⁹`.
/// The indices are drawn with [`Rng::below`] (bias < n/2³²), a repeated index is drawn again, and the
/// list is sorted, so a step costs `1 + k` draws (plus the rare repeats) and `O(k²)` compares.
/// Written here because the usual binomial samplers (`rand_distr`) need floating point at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoissonGroup {
    n: u16,
    cdf: [u32; MAX_SPIKES_PER_STEP],
}

impl PoissonGroup {
    /// `n` inputs at `hz` with time step `dt_ms`. Refuses a negative or non-finite rate or step,
    /// `n > 65 535`, `n·p > 8`.
    pub fn new(n: usize, hz: f32, dt_ms: f32) -> Result<PoissonGroup, ConfigError> {
        const WHAT: &str = "Poisson group rate (Hz)";
        if !dt_ms.is_finite() || dt_ms <= 0.0 {
            return Err(ConfigError::InvalidTimeStep { dt_ms });
        }
        if !hz.is_finite() || hz < 0.0 {
            return Err(ConfigError::OutOfRange {
                what: WHAT,
                value: hz,
            });
        }
        let n16 = u16::try_from(n).map_err(|_| ConfigError::TooLarge {
            what: "Poisson group size",
            got: n,
            max: u16::MAX as usize,
        })?;
        let p = hz as f64 * dt_ms as f64 / 1000.0;
        if n as f64 * p > 8.0 {
            return Err(ConfigError::OutOfRange {
                what: "Poisson group rate (at most 8 spikes per step on average)",
                value: hz,
            });
        }
        // P(0) = (1 − p)^n by squaring; P(k + 1) = P(k)·(n − k)/(k + 1)·p/(1 − p); p ≤ 8/n < 1 here
        // unless n ≤ 8, where p may reach 1 (then 1 − p = 0: every input spikes).
        let q = 1.0 - p;
        let (mut pk, mut base, mut e) = (1.0f64, q, n);
        while e > 0 {
            if e & 1 == 1 {
                pk *= base;
            }
            base *= base;
            e >>= 1;
        }
        let mut cdf = [u32::MAX; MAX_SPIKES_PER_STEP];
        let mut acc = 0.0f64;
        for (k, c) in cdf.iter_mut().enumerate() {
            if q == 0.0 {
                // Degenerate: exactly n spikes.
                acc = if k >= n { 1.0 } else { 0.0 };
            } else {
                acc += pk;
                pk *= (n as f64 - k as f64).max(0.0) / (k as f64 + 1.0) * p / q;
            }
            let t = acc * 4_294_967_296.0 + 0.5;
            *c = if t >= u32::MAX as f64 {
                u32::MAX
            } else {
                t as u32
            };
        }
        Ok(PoissonGroup { n: n16, cdf })
    }

    /// Number of inputs.
    pub fn len(&self) -> usize {
        self.n as usize
    }

    /// An empty group.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Draws this step's spikes into `out` (cleared first), in increasing order.
    pub fn draw(&self, rng: &mut Rng, out: &mut Spikes<'_>) {
        out.clear();
        let u = rng.next_u32();
        let k = self
            .cdf
            .iter()
            .position(|&c| u < c)
            .unwrap_or(MAX_SPIKES_PER_STEP - 1)
            .min(self.n as usize);
        let mut idx = [0u16; MAX_SPIKES_PER_STEP];
        let mut len = 0;
        // k ≤ n distinct values exist in 0..n, so this ends (almost surely; repeats are rare for k ≪ n).
        while len < k {
            let j = rng.below(self.n as u32) as u16;
            let Some(pos) = idx.get(..len).map(|s| s.partition_point(|&x| x < j)) else {
                break;
            };
            if idx.get(pos) == Some(&j) && pos < len {
                continue;
            }
            // Insert j at pos (len < k ≤ 31 < 32: room for one more).
            // (by carrying `j` along rather than `rotate_right`, whose length assertion the step
            // must not reach)
            if let Some(tail) = idx.get_mut(pos..=len) {
                let mut carry = j;
                for slot in tail.iter_mut() {
                    core::mem::swap(slot, &mut carry);
                }
            }
            len += 1;
        }
        for &j in idx.get(..len).unwrap_or_default() {
            out.push(j);
        }
    }
}

impl<'a, W: Weight> Network<'a, W> {
    /// Builds the experiment on `st` (learning on).
    pub fn new(cfg: &Config, st: Storage<'a, W>) -> Result<Network<'a, W>, ConfigError> {
        let fmt = cfg.weight_format();
        let scale = fmt.scale()?;
        let rule = Rule::new::<W>(&cfg.rule(), &fmt, scale, cfg.dt_ms)?;
        if !(0.0..=1.0).contains(&cfg.init_lo) || !(cfg.init_lo..=1.0).contains(&cfg.init_hi) {
            return Err(ConfigError::Invalid {
                what: "initial weights need 0 <= init_lo <= init_hi <= 1",
            });
        }
        check_len("Song excitatory weights", cfg.n_exc, st.exc_weights.len())?;
        let (_, top) = rule.bounds();
        let (lo, hi) = (
            (cfg.init_lo * top as f32) as u32,
            (cfg.init_hi * top as f32) as u32,
        );
        let mut rng = Rng::stream(cfg.seed, 0x5016_2000);
        for w in st.exc_weights.iter_mut() {
            *w = W::saturate((lo + rng.below(hi - lo + 1)) as i32);
        }
        let exc = Dense::new(cfg.n_exc, 1, st.exc_weights, st.exc_acc, scale)?;
        let plastic = Plastic::new(
            exc,
            rule,
            RuleStorage {
                pre_traces: st.pre_traces,
                post_traces: st.post_traces,
                eligibility: &mut [],
                theta: &mut [],
            },
            cfg.seed,
        )?;
        st.inh_weights.fill(1);
        let inh_proj = Dense::new(
            cfg.n_inh,
            1,
            st.inh_weights,
            st.inh_acc,
            Scale::new(cfg.g_inh)?,
        )?;
        let lif = Lif::new(Config::neuron(), cfg.dt_ms)?;
        st.state.fill(lif.rest_state());
        let neuron = Population::new(lif, st.state, st.exc, st.inh, st.spikes)?;
        check_len(
            "Song excitatory input spikes",
            cfg.n_exc,
            st.exc_spikes.len(),
        )?;
        check_len(
            "Song inhibitory input spikes",
            cfg.n_inh,
            st.inh_spikes.len(),
        )?;
        Ok(Network {
            plastic,
            inh_proj,
            neuron,
            exc_in: Spikes::new(st.exc_spikes),
            inh_in: Spikes::new(st.inh_spikes),
            exc_group: PoissonGroup::new(cfg.n_exc, cfg.input_hz, cfg.dt_ms)?,
            inh_group: PoissonGroup::new(cfg.n_inh, cfg.inh_hz, cfg.dt_ms)?,
            dt_ms: cfg.dt_ms,
            rng: Rng::stream(cfg.seed, 0x1_9075),
            learning: true,
            output_spikes: 0,
            t: 0,
        })
    }

    /// Sets the rate of every excitatory input (Hz).
    pub fn set_input_hz(&mut self, hz: f32) -> Result<(), ConfigError> {
        self.exc_group = PoissonGroup::new(self.exc_group.len(), hz, self.dt_ms)?;
        Ok(())
    }

    /// One step: draw the inputs, transmit (with STDP depression), step the neuron, STDP
    /// potentiation and traces (see the module doc).
    pub fn step(&mut self) {
        self.exc_group.draw(&mut self.rng, &mut self.exc_in);
        self.inh_group.draw(&mut self.rng, &mut self.inh_in);
        let exc = self.exc_in.as_slice();
        if self.learning {
            self.plastic.propagate(exc, self.neuron.exc, &Signals::NONE);
        } else {
            self.plastic.proj.propagate(exc, self.neuron.exc);
        }
        self.inh_proj
            .propagate(self.inh_in.as_slice(), self.neuron.inh);
        self.neuron.step();
        let out = self.neuron.spikes.as_slice();
        self.output_spikes += out.len() as u64;
        if self.learning {
            self.plastic.learn(exc, out, &Signals::NONE);
        }
        self.t += 1;
    }

    /// Runs `steps` steps and returns the output rate over them (Hz).
    pub fn output_hz(&mut self, steps: u64) -> f32 {
        let before = self.output_spikes;
        for _ in 0..steps {
            self.step();
        }
        let n = self.output_spikes - before;
        if steps == 0 {
            return 0.0;
        }
        n as f32 * 1000.0 / (steps as f32 * self.dt_ms)
    }

    /// The raw excitatory weights.
    pub fn weights(&self) -> &[W] {
        self.plastic.proj.weights()
    }

    /// Summary of the excitatory weights.
    pub fn weight_stats(&self) -> WeightStats {
        WeightStats::of(self.weights(), self.plastic.rule().bounds().1)
    }
}

/// Summary of a weight distribution in `[0, w_max]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightStats {
    /// Fraction of weights within 10 % of the range from 0 (`w ≤ 0.1·w_max`).
    pub near_zero: f32,
    /// Fraction of weights within 10 % of the range from `w_max` (`w ≥ 0.9·w_max`).
    pub near_max: f32,
    /// Mean weight as a fraction of `w_max`.
    pub mean: f32,
}

impl WeightStats {
    /// Of raw weights `ws` with upper bound `w_max` (raw steps; lower bound 0). Counted in integers:
    /// `10·w ≤ w_max` and `10·w ≥ 9·w_max`.
    pub fn of<W: Weight>(ws: &[W], w_max: i32) -> WeightStats {
        let n = ws.len().max(1) as f32;
        let (mut z, mut m, mut sum) = (0usize, 0usize, 0i64);
        for w in ws {
            let w = w.get() as i64;
            z += (10 * w <= w_max as i64) as usize;
            m += (10 * w >= 9 * w_max as i64) as usize;
            sum += w;
        }
        WeightStats {
            near_zero: z as f32 / n,
            near_max: m as f32 / n,
            mean: sum as f32 / n / w_max.max(1) as f32,
        }
    }

    /// Fraction within 10 % of either bound.
    pub fn near_bounds(&self) -> f32 {
        self.near_zero + self.near_max
    }
}

impl<W: Weight + StateHash> Simulation for Network<'_, W> {
    fn step(&mut self) {
        Network::step(self);
    }

    fn steps(&self) -> u64 {
        self.t
    }

    fn spike_count(&self) -> usize {
        self.neuron.spikes.len()
    }

    fn spikes_hash(&self) -> u64 {
        let mut h = Fnv64::new();
        self.exc_in.as_slice().hash_into(&mut h);
        self.inh_in.as_slice().hash_into(&mut h);
        self.neuron.spikes.as_slice().hash_into(&mut h);
        h.finish()
    }

    /// Parts: `neuron` (state, deposits, last spikes), `exc` (weights, accumulator), `inh`,
    /// `pre_traces`, `post_traces`, `rule_rng` (stochastic rounding), `rng` (inputs), `t`.
    fn hash_parts(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        visit("neuron", self.neuron.state_hash());
        visit("exc", self.plastic.proj.state_hash());
        visit("inh", self.inh_proj.state_hash());
        visit("pre_traces", self.plastic.pre_trace(0).state_hash());
        visit("post_traces", self.plastic.post_trace(0).state_hash());
        visit("rule_rng", self.plastic.rng().state_hash());
        visit("rng", self.rng.state_hash());
        visit("t", self.t.state_hash());
    }
}

/// Reports: population `output` (the neuron) and `inputs` (the excitatory Poisson inputs); metrics
/// `objective` (fraction of weights within 10 % of a bound: the bimodality STDP builds), `w_mean`
/// (mean weight / g_max); plastic weights `exc`.
impl<W: Weight> crate::Observe for Network<'_, W> {
    fn spikes(&self, visit: &mut dyn FnMut(&'static str, usize, &[u16])) {
        visit("output", self.neuron.len(), self.neuron.spikes.as_slice());
        visit("inputs", self.exc_group.len(), self.exc_in.as_slice());
    }

    fn metrics(&self, visit: &mut dyn FnMut(&'static str, f32)) {
        let s = self.weight_stats();
        visit("objective", s.near_bounds());
        visit("w_mean", s.mean);
    }

    fn weights(&self, visit: &mut crate::WeightVisitor<'_>) {
        crate::visit_weights(
            "exc",
            self.plastic.proj.scale(),
            self.plastic.rule().bounds(),
            self.plastic.proj.weights(),
            visit,
        );
    }
}

/// What one learning run measured (host only): see [`run`].
#[cfg(feature = "std")]
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The excitatory input rate (Hz).
    pub input_hz: f32,
    /// The initial weights.
    pub initial: WeightStats,
    /// The weights after learning.
    pub learned: WeightStats,
    /// Output rate with the initial weights frozen (Hz).
    pub initial_hz: f32,
    /// Output rate during learning, per window (Hz): the learning curve.
    pub curve: Vec<f32>,
    /// Output rate with the learned weights frozen (Hz).
    pub learned_hz: f32,
}

/// One run of the protocol (host only): build `cfg`'s network; measure the output rate for
/// `measure_s` with the initial weights frozen; learn for `learn_s`, recording the output rate in
/// `windows` equal windows; freeze the weights and measure the output rate for `measure_s` again.
#[cfg(feature = "std")]
pub fn run<W: Weight>(
    cfg: &Config,
    learn_s: f32,
    windows: usize,
    measure_s: f32,
) -> Result<Outcome, ConfigError> {
    let mut buf = Buffers::<W>::new(cfg);
    let mut net = Network::new(cfg, buf.storage())?;
    let steps = |s: f32| (s * 1000.0 / cfg.dt_ms) as u64;
    let initial = net.weight_stats();
    net.learning = false;
    let initial_hz = net.output_hz(steps(measure_s));
    net.learning = true;
    let windows = windows.max(1);
    let curve = (0..windows)
        .map(|_| net.output_hz(steps(learn_s / windows as f32)))
        .collect();
    let learned = net.weight_stats();
    net.learning = false;
    let learned_hz = net.output_hz(steps(measure_s));
    Ok(Outcome {
        input_hz: cfg.input_hz,
        initial,
        learned,
        initial_hz,
        curve,
        learned_hz,
    })
}

/// Heap storage for the host.
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct Buffers<W: Weight> {
    exc_weights: Vec<W>,
    inh_weights: Vec<i8>,
    acc: [Vec<i32>; 2],
    pre_traces: Vec<Fix>,
    fix: [Vec<Fix>; 3],
    input_spikes: [Vec<u16>; 2],
    state: Vec<LifState>,
    spikes: Vec<u16>,
}

#[cfg(feature = "std")]
impl<W: Weight> Buffers<W> {
    /// Buffers sized for `cfg`.
    pub fn new(cfg: &Config) -> Buffers<W> {
        Buffers {
            exc_weights: vec![W::default(); cfg.n_exc],
            inh_weights: vec![0; cfg.n_inh],
            acc: [vec![0; 1], vec![0; 1]],
            pre_traces: vec![Fix::ZERO; cfg.n_exc],
            fix: core::array::from_fn(|_| vec![Fix::ZERO; 1]),
            input_spikes: [vec![0; cfg.n_exc], vec![0; cfg.n_inh]],
            state: vec![LifState::default(); 1],
            spikes: vec![0; 1],
        }
    }

    /// The storage view for [`Network::new`].
    pub fn storage(&mut self) -> Storage<'_, W> {
        let [exc_acc, inh_acc] = &mut self.acc;
        let [post_traces, exc, inh] = &mut self.fix;
        let [exc_spikes, inh_spikes] = &mut self.input_spikes;
        Storage {
            exc_weights: &mut self.exc_weights,
            inh_weights: &mut self.inh_weights,
            exc_acc,
            inh_acc,
            pre_traces: &mut self.pre_traces,
            post_traces,
            exc_spikes,
            inh_spikes,
            state: &mut self.state,
            exc,
            inh,
            spikes: &mut self.spikes,
        }
    }
}
