//! Triplet vs pair STDP on the pairing-frequency protocol of Sjöström, Turrigiano & Nelson (2001),
//! as modelled by Pfister & Gerstner (2006), "Triplets of spikes in a model of spike timing-dependent
//! plasticity", J. Neurosci. 26(38):9673, Fig. 5–6.
//!
//! | part | here |
//! | --- | --- |
//! | architecture | one synapse: a presynaptic and a postsynaptic neuron whose spike times are imposed (no neuron dynamics: the spikes are handed to [`Plastic::propagate`] / [`Plastic::learn`] directly) |
//! | learning rule | triplet STDP ([`RuleParams::triplet`] with [`TripletParams::visual_cortex_all_to_all`] or [`TripletParams::visual_cortex_nearest`]) or a pair rule ([`pair_rule`]) |
//! | objective | none explicit: the published outcome is the weight change. (Pfister & Gerstner show that the all-to-all triplet rule with `A₃⁻ ≈ 0` is a BCM rule, whose objective is the BCM selectivity; not tested here.) |
//! | environment | the pairing protocol ([`Protocol`]): 60 pre/post pairs with the post spike `lag_ms` after (`+10`) or before (`−10`) the pre spike, repeated at `freq_hz` |
//!
//! The result is the total weight change over the 60 pairings, which the paper compares with
//! [`SJOSTROM_2001`] (the experimental points, normalised EPSP change: `+0.56` means +56 %). The triplet
//! amplitudes are fractions of the initial weight, so the synapse starts at `w₀ = 1` in `[0, 2]`
//! ([`weight_format`]): mid-range, no bound is reached by any protocol here (|Δw| < 0.8), and the
//! change in weight units is the relative change of the paper.
//!
//! **Time.** One step is [`DT_MS`] = 1 ms; spike times are whole steps. Pairing `k` has its pre spike
//! at `start + round(k·T/dt)` (`T = 1000/f` ms, kept in Q16 so 30 Hz alternates 33/34/33 ms
//! intervals, a jitter of at most half a step) and its post spike `lag` steps later (earlier for a negative lag);
//! `start = max(0, −lag)`. The run ends one step after the last spike, so every spike's update has
//! been applied. With the applier's ordering (`rule/apply.rs`) a pre spike reads the post traces
//! `o₁(t)` and the slow pre trace `r₂(t − ε)` before its own increment, and a post spike reads `r₁(t)`
//! and `o₂(t − ε)`: exactly Pfister & Gerstner's equations for spike times on the grid.
//!
//! **Numbers.** 16-bit weights in `[0, 2]`: one step is `2/32767 ≈ 6.1e-5`, 2.6 % of the smallest
//! amplitude (`A₃⁻ = 2.3e-4`). Each update is rounded to the nearest step, so the total over 120 spikes
//! is within `120 · 0.5 · 6.1e-5 ≈ 4e-3` of the exact model (tests measure it against an `f64`
//! event-driven reference).
//!
//! **Two ways to run it.** [`Experiment`] runs one protocol on one synapse ([`weight_change`] is
//! the one-call form the tests use); [`Network`] runs all [`PROTOCOLS`] one after the other, each on
//! its own synapse, as `engram run triplet-frequency` does (its [`Config`] picks the rule with
//! [`Model`], and the weight format, so the precision study is a `--grid weights.bits=...`). Nothing
//! depends on run-time sizes: the caller provides a [`Storage`] (a few words) per synapse, or
//! [`Buffers`] (one per protocol).

use engram::ConfigError;
use engram::num::Fix;
use engram::projection::Dense;
use engram::rule::{
    MAX_TRACES, Pairing, Plastic, Rule, RuleParams, RuleStorage, Signals, TripletParams,
    WeightFormat,
};

/// Time step (ms).
pub const DT_MS: f32 = 1.0;
/// Pairings per protocol (Sjöström et al. 2001).
pub const PAIRINGS: u16 = 60;
/// Pairing frequencies of the protocol (Hz): the five of the experiment plus 1 and 30 Hz.
pub const FREQUENCIES_HZ: [f32; 7] = [0.1, 1.0, 10.0, 20.0, 30.0, 40.0, 50.0];
/// |Δt| between the pre and the post spike of a pair (ms).
pub const LAG_MS: i32 = 10;
/// The initial weight (weight units): the amplitudes are fractions of it.
pub const W0: f32 = 1.0;

/// One experimental point of Sjöström et al. (2001), as tabulated by Pfister & Gerstner (2006):
/// normalised weight change after 60 pairings (mean ± s.e.m.).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DataPoint {
    /// Pairing frequency (Hz).
    pub freq_hz: f32,
    /// Change with the post spike 10 ms after the pre spike.
    pub pre_post: f32,
    /// Its standard error.
    pub pre_post_sem: f32,
    /// Change with the post spike 10 ms before the pre spike.
    pub post_pre: f32,
    /// Its standard error.
    pub post_pre_sem: f32,
}

/// The experimental points (Sjöström et al. 2001, Fig. 1D / 7; the data Pfister & Gerstner fit).
pub const SJOSTROM_2001: [DataPoint; 5] = [
    DataPoint::new(0.1, -0.04, 0.05, -0.29, 0.08),
    DataPoint::new(10.0, 0.14, 0.10, -0.41, 0.11),
    DataPoint::new(20.0, 0.29, 0.14, -0.34, 0.10),
    DataPoint::new(40.0, 0.53, 0.11, 0.56, 0.32),
    DataPoint::new(50.0, 0.56, 0.26, 0.75, 0.19),
];

impl DataPoint {
    const fn new(freq_hz: f32, pp: f32, pp_sem: f32, ppr: f32, ppr_sem: f32) -> DataPoint {
        DataPoint {
            freq_hz,
            pre_post: pp,
            pre_post_sem: pp_sem,
            post_pre: ppr,
            post_pre_sem: ppr_sem,
        }
    }
}

/// The triplet rule of Pfister & Gerstner's visual-cortex fit: all-to-all or nearest-spike (full
/// models, `A₂⁺ ≈ 0` dropped, see [`TripletParams`]).
pub fn triplet_rule(pairing: Pairing) -> RuleParams {
    let p = match pairing {
        Pairing::AllToAll => TripletParams::visual_cortex_all_to_all(),
        Pairing::Nearest => TripletParams::visual_cortex_nearest(),
    };
    RuleParams::triplet(p, pairing)
}

/// The pair rule: all-to-all pair STDP with Bi & Poo's time constants as fixed by Pfister & Gerstner
/// (τ₊ = 16.8 ms, τ₋ = 33.7 ms), its amplitudes fitted to the low-frequency points: `A₋ = 7·10⁻³` (the
/// triplet rule's pair depression, which alone gives the 0.1 Hz post-before-pre point,
/// `60·A₋·e^{−10/33.7} = 0.31` vs 0.29) and `A₊ = 5·10⁻³` (from the lowest frequency with measurable
/// potentiation: 10 Hz pre-before-post, `60·(0.55·A₊ − 0.07·A₋) = 0.14`).
pub fn pair_rule() -> RuleParams {
    RuleParams::pair_stdp(5e-3, 7e-3, 16.8, 33.7, Pairing::AllToAll)
}

/// 16-bit weights in `[0, 2]`, hard bounds, nearest rounding: `w₀ = 1` is mid-range.
pub const fn weight_format() -> WeightFormat {
    WeightFormat::new(16, 0.0, 2.0)
}

/// The pairing protocol.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Protocol {
    /// Repetition frequency of the pairs (Hz), in `[0.01, 500]`.
    pub freq_hz: f32,
    /// Post spike time minus pre spike time (ms): `+10` pre before post, `−10` post before pre.
    pub lag_ms: i32,
    /// Number of pairs.
    pub pairings: u16,
}

impl Protocol {
    /// Sjöström's protocol: 60 pairings at `freq_hz` with lag `lag_ms`.
    pub const fn sjostrom(freq_hz: f32, lag_ms: i32) -> Protocol {
        Protocol {
            freq_hz,
            lag_ms,
            pairings: PAIRINGS,
        }
    }
}

/// A protocol on the step grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Step of the first pre spike.
    start: u64,
    /// Period in steps, Q48.16.
    period_q16: u64,
    /// Post minus pre, in steps.
    lag: i64,
    pairings: u16,
}

impl Schedule {
    /// Validates `p` for time step `dt_ms`: a frequency in `[0.01, 500]` Hz whose period is at
    /// least one step, a lag shorter than the period, at least one pairing.
    pub fn new(p: &Protocol, dt_ms: f32) -> Result<Schedule, ConfigError> {
        if !(dt_ms.is_finite() && dt_ms > 0.0) {
            return Err(ConfigError::InvalidTimeStep { dt_ms });
        }
        if !(p.freq_hz.is_finite() && (0.01..=500.0).contains(&p.freq_hz)) {
            return Err(ConfigError::OutOfRange {
                what: "pairing frequency (0.01..=500 Hz)",
                value: p.freq_hz,
            });
        }
        let period_steps = 1000.0 / p.freq_hz / dt_ms;
        // to the nearest step (no `f32::round` in `core`): `as` truncates toward zero
        let lag = p.lag_ms as f32 / dt_ms;
        let lag = (lag + 0.5f32.copysign(lag)) as i64;
        if period_steps < 1.0 || lag.unsigned_abs() as f32 >= period_steps {
            return Err(ConfigError::Invalid {
                what: "pairing lag must be shorter than the period, and the period at least one step",
            });
        }
        if p.pairings == 0 {
            return Err(ConfigError::Invalid {
                what: "at least one pairing",
            });
        }
        Ok(Schedule {
            start: (-lag).max(0) as u64,
            period_q16: (period_steps as f64 * 65536.0 + 0.5) as u64,
            lag,
            pairings: p.pairings,
        })
    }

    /// Step of the pre spike of pairing `k`.
    #[inline]
    pub fn pre_step(&self, k: u16) -> u64 {
        self.start + ((k as u64 * self.period_q16 + 0x8000) >> 16)
    }

    /// Step of the post spike of pairing `k`.
    #[inline]
    pub fn post_step(&self, k: u16) -> u64 {
        self.pre_step(k).saturating_add_signed(self.lag)
    }

    /// Steps the protocol takes: one past the last spike.
    pub fn steps(&self) -> u64 {
        let last = self.pairings.saturating_sub(1);
        self.pre_step(last).max(self.post_step(last)) + 1
    }
}

/// Caller storage of one plastic synapse: its weight, the accumulator, the traces.
#[derive(Debug, Clone, PartialEq)]
pub struct Storage {
    weight: [i16; 1],
    acc: [i32; 1],
    pre: [Fix; MAX_TRACES],
    post: [Fix; MAX_TRACES],
    target: [Fix; 1],
}

impl Storage {
    /// Zeroed storage.
    pub const fn new() -> Storage {
        Storage {
            weight: [0],
            acc: [0],
            pre: [Fix::ZERO; MAX_TRACES],
            post: [Fix::ZERO; MAX_TRACES],
            target: [Fix::ZERO],
        }
    }
}

impl Default for Storage {
    fn default() -> Self {
        Storage::new()
    }
}

/// One run of the protocol on one synapse.
#[derive(Debug)]
pub struct Experiment<'a> {
    /// The plastic synapse (a 1×1 dense projection).
    pub syn: Plastic<'a, i16, Dense<'a, i16>>,
    target: &'a mut [Fix; 1],
    sched: Schedule,
    w0: i32,
    next_pre: u16,
    next_post: u16,
    /// Whether the pre and the post neuron spiked in the last step.
    spiked: [bool; 2],
    /// Steps taken.
    pub t: u64,
}

impl<'a> Experiment<'a> {
    /// Compiles `rule` for `fmt` at [`DT_MS`], sets the weight to `w0` (weight units) and schedules
    /// `protocol`.
    pub fn new(
        rule: &RuleParams,
        fmt: &WeightFormat,
        w0: f32,
        protocol: &Protocol,
        st: &'a mut Storage,
    ) -> Result<Experiment<'a>, ConfigError> {
        Experiment::with_seed(rule, fmt, w0, protocol, 1, st)
    }

    /// [`Experiment::new`] with `seed` for the stochastic-rounding generator (used only by
    /// [`Rounding::Stochastic`](engram::num::Rounding::Stochastic) formats; `new` uses 1).
    pub fn with_seed(
        rule: &RuleParams,
        fmt: &WeightFormat,
        w0: f32,
        protocol: &Protocol,
        seed: u64,
        st: &'a mut Storage,
    ) -> Result<Experiment<'a>, ConfigError> {
        let scale = fmt.scale()?;
        let rule = Rule::new::<i16>(rule, fmt, scale, DT_MS)?;
        let (lo, hi) = rule.bounds();
        let w0 = scale.raw_from_f32(w0);
        if !(lo..=hi).contains(&w0) {
            return Err(ConfigError::OutOfRange {
                what: "initial weight (within the format's bounds)",
                value: scale.to_f32(w0),
            });
        }
        let sched = Schedule::new(protocol, DT_MS)?;
        let (tp, tq) = rule.traces();
        let Storage {
            weight,
            acc,
            pre,
            post,
            target,
        } = st;
        weight[0] = w0 as i16; // within bounds, which fit 16 bits
        let proj = Dense::new(1, 1, weight, acc, scale)?;
        let storage = RuleStorage {
            pre_traces: pre.get_mut(..tp).ok_or(too_many_traces())?,
            post_traces: post.get_mut(..tq).ok_or(too_many_traces())?,
            eligibility: &mut [],
            theta: &mut [],
        };
        let syn = Plastic::new(proj, rule, storage, seed)?;
        Ok(Experiment {
            syn,
            target,
            sched,
            w0,
            next_pre: 0,
            next_post: 0,
            spiked: [false; 2],
            t: 0,
        })
    }

    /// One step: the pre spike (if due) is propagated, then the pre and post spikes of this step are
    /// learned from. Returns `false` once the protocol is over (and then does nothing).
    pub fn step(&mut self) -> bool {
        if self.t >= self.sched.steps() {
            self.spiked = [false; 2];
            return false;
        }
        let n = self.sched.pairings;
        let pre_now = self.next_pre < n && self.sched.pre_step(self.next_pre) == self.t;
        let post_now = self.next_post < n && self.sched.post_step(self.next_post) == self.t;
        self.next_pre += u16::from(pre_now);
        self.next_post += u16::from(post_now);
        self.spiked = [pre_now, post_now];
        let pre: &[u16] = if pre_now { &[0] } else { &[] };
        let post: &[u16] = if post_now { &[0] } else { &[] };
        self.syn.propagate(pre, self.target, &Signals::NONE);
        self.target[0] = Fix::ZERO; // nobody listens: the post spikes are imposed
        self.syn.learn(pre, post, &Signals::NONE);
        self.t += 1;
        true
    }

    /// Whether the protocol is over (its last spike's update applied).
    pub fn done(&self) -> bool {
        self.t >= self.sched.steps()
    }

    /// Runs the protocol to its end.
    pub fn run(&mut self) {
        while self.step() {}
    }

    /// Weight change since the start, in raw steps.
    pub fn raw_change(&self) -> i32 {
        self.syn.proj.weights()[0] as i32 - self.w0
    }

    /// Weight change since the start, in weight units (the relative change for `w₀ = 1`). A report.
    pub fn weight_change(&self) -> f32 {
        self.syn.proj.scale().to_f32(self.raw_change())
    }
}

fn too_many_traces() -> ConfigError {
    ConfigError::Invalid {
        what: "rule has more traces than the storage holds",
    }
}

/// Runs `protocol` on a fresh synapse at [`W0`] with [`weight_format`] and returns the total weight
/// change (weight units).
pub fn weight_change(rule: &RuleParams, protocol: &Protocol) -> Result<f32, ConfigError> {
    let mut st = Storage::new();
    let mut e = Experiment::new(rule, &weight_format(), W0, protocol, &mut st)?;
    e.run();
    Ok(e.weight_change())
}

/// Which rule the frequency experiment ([`Network`]) runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Model {
    /// Triplet STDP, all-to-all interactions ([`triplet_rule`]`(Pairing::AllToAll)`).
    TripletAllToAll,
    /// Triplet STDP, nearest-spike interactions ([`triplet_rule`]`(Pairing::Nearest)`).
    TripletNearest,
    /// Pair STDP ([`pair_rule`]): the control that cannot fit the data.
    Pair,
}

impl Model {
    /// The rule's parameters.
    pub fn rule(self) -> RuleParams {
        match self {
            Model::TripletAllToAll => triplet_rule(Pairing::AllToAll),
            Model::TripletNearest => triplet_rule(Pairing::Nearest),
            Model::Pair => pair_rule(),
        }
    }
}

/// Protocols of the frequency experiment: every frequency of [`FREQUENCIES_HZ`] at `+LAG_MS` then
/// `−LAG_MS`.
pub const PROTOCOLS: usize = 2 * FREQUENCIES_HZ.len();

/// The `i`-th protocol of [`Network`] (`i < PROTOCOLS`) with `pairings` pairs.
pub const fn protocol(i: usize, pairings: u16) -> Protocol {
    let lag = if i.is_multiple_of(2) { LAG_MS } else { -LAG_MS };
    Protocol {
        freq_hz: FREQUENCIES_HZ[i / 2],
        lag_ms: lag,
        pairings,
    }
}

/// Metric names of each protocol's weight change, in [`protocol`] order.
const DW_NAMES: [&str; PROTOCOLS] = [
    "dw_pre_post_0.1hz",
    "dw_post_pre_0.1hz",
    "dw_pre_post_1hz",
    "dw_post_pre_1hz",
    "dw_pre_post_10hz",
    "dw_post_pre_10hz",
    "dw_pre_post_20hz",
    "dw_post_pre_20hz",
    "dw_pre_post_30hz",
    "dw_post_pre_30hz",
    "dw_pre_post_40hz",
    "dw_post_pre_40hz",
    "dw_pre_post_50hz",
    "dw_post_pre_50hz",
];

/// Configuration of the frequency experiment (`engram run triplet-frequency`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct Config {
    /// The rule.
    pub model: Model,
    /// Weight storage: bits, rounding, bounds (the synapse starts at [`W0`], so the bounds must hold
    /// it; the default, [`weight_format`], is `[0, 2]` with 16 bits).
    pub weights: WeightFormat,
    /// Pairs per protocol (Sjöström: 60).
    pub pairings: u16,
    /// Seed of the stochastic-rounding generators (no other randomness: the protocol is exact).
    pub seed: u64,
}

impl Default for Config {
    /// The paper's experiment: the all-to-all triplet rule, 60 pairings, 16-bit weights.
    fn default() -> Self {
        Config {
            model: Model::TripletAllToAll,
            weights: weight_format(),
            pairings: PAIRINGS,
            seed: 1,
        }
    }
}

/// Caller storage of [`Network`]: one synapse per protocol.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Buffers {
    synapses: [Storage; PROTOCOLS],
}

impl Buffers {
    /// Zeroed storage.
    pub fn new() -> Buffers {
        Buffers::default()
    }
}

/// Sjöström's frequency experiment as one run: the [`PROTOCOLS`] protocols one after the other,
/// each on its own fresh synapse at [`W0`] (as in the slice experiments, where each point is a
/// different cell). Each protocol's result is bit for bit what [`weight_change`] returns for it with
/// the same weight format and seed. After the last protocol, steps do nothing but count.
#[derive(Debug)]
pub struct Network<'a> {
    runs: heapless::Vec<Experiment<'a>, PROTOCOLS>,
    current: usize,
    /// The protocol the last step ran (`None` once all are done): whose spikes it reports.
    last: Option<usize>,
    t: u64,
}

impl<'a> Network<'a> {
    /// Builds every protocol's synapse.
    pub fn new(cfg: &Config, st: &'a mut Buffers) -> Result<Network<'a>, ConfigError> {
        let rule = cfg.model.rule();
        let mut runs = heapless::Vec::new();
        for (i, s) in st.synapses.iter_mut().enumerate() {
            let p = protocol(i, cfg.pairings);
            let e = Experiment::with_seed(&rule, &cfg.weights, W0, &p, cfg.seed, s)?;
            // PROTOCOLS storages, PROTOCOLS places: cannot fail
            let _ = runs.push(e);
        }
        Ok(Network {
            runs,
            current: 0,
            last: None,
            t: 0,
        })
    }

    /// Steps of the whole experiment: the sum of the protocols' lengths.
    pub fn total_steps(cfg: &Config) -> Result<u64, ConfigError> {
        (0..PROTOCOLS).try_fold(0, |sum, i| {
            Ok(sum + Schedule::new(&protocol(i, cfg.pairings), DT_MS)?.steps())
        })
    }

    /// One step of the running protocol (moving on to the next one once it has ended).
    pub fn step(&mut self) {
        self.last = None;
        if let Some(run) = self.runs.get_mut(self.current) {
            run.step();
            self.last = Some(self.current);
            self.current += usize::from(run.done());
        }
        self.t += 1;
    }

    /// Whether the pre and the post neuron spiked in the last step.
    fn spiked(&self) -> [bool; 2] {
        self.last
            .and_then(|i| self.runs.get(i))
            .map_or([false; 2], |r| r.spiked)
    }

    /// The protocol running now (`PROTOCOLS` once all are done).
    pub fn current(&self) -> usize {
        self.current
    }

    /// Weight change of protocol `i` so far (weight units; its final value once `i < current()`).
    pub fn weight_change(&self, i: usize) -> f32 {
        self.runs.get(i).map_or(0.0, Experiment::weight_change)
    }

    /// χ² of the finished protocols against [`SJOSTROM_2001`]: the sum of squared deviations in
    /// units of the s.e.m., over the data points whose protocol has finished (10 points in all). A
    /// report.
    pub fn chi2(&self) -> f32 {
        let mut sum = 0.0;
        for i in 0..self.current.min(PROTOCOLS) {
            let p = protocol(i, PAIRINGS);
            if let Some(d) = SJOSTROM_2001.iter().find(|d| d.freq_hz == p.freq_hz) {
                let (want, sem) = if p.lag_ms > 0 {
                    (d.pre_post, d.pre_post_sem)
                } else {
                    (d.post_pre, d.post_pre_sem)
                };
                let z = (self.weight_change(i) - want) / sem;
                sum += z * z;
            }
        }
        sum
    }
}

impl crate::Simulation for Network<'_> {
    fn step(&mut self) {
        Network::step(self);
    }

    fn steps(&self) -> u64 {
        self.t
    }

    fn spike_count(&self) -> usize {
        self.spiked().iter().filter(|&&s| s).count()
    }

    fn spikes_hash(&self) -> u64 {
        let [pre, post] = self.spiked();
        let mut h = engram::hash::Fnv64::new();
        h.write_u64(u64::from(pre) | u64::from(post) << 1);
        h.finish()
    }

    /// Parts: `synapses` and `rule` of each protocol's synapse in order, then `current`, `last` and `t`.
    fn hash_parts(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        use engram::hash::StateHash;
        for r in &self.runs {
            crate::visit_plastic(&r.syn, ["synapses", "rule"], visit);
        }
        visit("current", (self.current as u64).state_hash());
        visit(
            "last",
            self.last.map_or(u64::MAX, |i| i as u64).state_hash(),
        );
        visit("t", self.t.state_hash());
    }
}

/// Reports: populations `pre` and `post` (one neuron each, the running protocol's spikes); metrics
/// `objective` (χ² against the data of the finished protocols, [`Network::chi2`]), `protocol` (the
/// running one's index), `dw` (its weight change so far) and one `dw_<order>_<f>hz` per protocol;
/// weights `w` (one synapse per protocol).
impl crate::Observe for Network<'_> {
    fn spikes(&self, visit: &mut dyn FnMut(&'static str, usize, &[u16])) {
        for (name, s) in ["pre", "post"].into_iter().zip(self.spiked()) {
            visit(name, 1, if s { &[0] } else { &[] });
        }
    }

    fn metrics(&self, visit: &mut dyn FnMut(&'static str, f32)) {
        visit("objective", self.chi2());
        visit("protocol", self.current as f32);
        visit("dw", self.weight_change(self.current));
        for (i, name) in DW_NAMES.into_iter().enumerate() {
            visit(name, self.weight_change(i));
        }
    }

    fn weights(&self, visit: &mut crate::WeightVisitor<'_>) {
        let Some(first) = self.runs.first() else {
            return;
        };
        let scale = first.syn.proj.scale();
        let (lo, hi) = first.syn.rule().bounds();
        let mut it = self
            .runs
            .iter()
            .map(|r| scale.to_f32(r.syn.proj.weights().first().map_or(0, |&w| w as i32)));
        visit("w", (scale.to_f32(lo), scale.to_f32(hi)), &mut it);
    }
}
