//! Bienenstock, Cooper & Munro (1982), "Theory for the development of neuron selectivity", J Neurosci
//! 2:32; in the objective-function form of Intrator & Cooper (1992), Neural Networks 5:3. A rate
//! neuron with the BCM rule and a sliding threshold becomes selective: it responds to one of its input
//! patterns and not to the others.
//!
//! | part | here |
//! | --- | --- |
//! | architecture | one rate neuron `y = [w·x]₊` (ReLU of [`Dense::propagate_rates`]) with `K·m` inputs, non-negative `i16` weights in `[0, w_max]` |
//! | learning rule | BCM, [`RuleParams::bcm`]: `dw/dt = η·x·y·(y − θ)`, `τ_θ dθ/dt = y² − θ` (every step) |
//! | objective | Intrator & Cooper's `R = E[y³]/3 − E[y²]²/4`, which BCM ascends ([`Network::objective`]); θ follows `E[y²]`, which the [`Variance`] objective also keeps, with a slower average ([`Network::mean_y2`]) |
//! | environment | `K` orthogonal patterns (pattern `k` sets inputs `k·m … k·m + m − 1` to `a`, the rest to 0), each drawn uniformly at random and held for `hold` steps |
//!
//! The published outcome: with orthogonal, equiprobable patterns the stable fixed points of BCM are
//! the selective ones — the response to one pattern is `y* = θ = E[y²] = y*²/K`, i.e. `y* = K`, and
//! the responses to all others are 0 — while the non-selective fixed point (all responses equal) is
//! unstable. Which pattern wins depends on the initial weights and the order of presentation (the seed).
//! A plain Hebbian rule ([`Learning::Hebbian`], the control) grows every response until the weight
//! bounds stop it and selects nothing.
//!
//! Parameters (dimensionless in the papers; chosen here): `K = 10` patterns of `m = 10` inputs with
//! `a = 1`, held 2 steps of 1 ms; `τ_θ = 1000` ms, so θ averages about 500 presentations. Stability
//! of the selective state needs `ε·τ_θ < 1` with `ε = η·a²·m` the rate at which responses change
//! (linearising `dr/dt = (ε/K)·r·(r − θ)` and θ around `r = θ = K`); `η = 2·10⁻⁵` per ms gives
//! `ε·τ_θ = 0.2`. Symmetry breaking then takes a few `K/ε = 50 000` steps: the test runs 300 000
//! steps (5 simulated minutes). Weights `i16` in `[0, 2]` (step 6.1·10⁻⁵) with stochastic rounding;
//! at the selective state the winning weights average `K/(a·m) = 1`.

use crate::{Simulation, visit_plastic};
use engram::ConfigError;
use engram::error::check_len;
use engram::hash::{Fnv64, StateHash};
use engram::num::{Fix, Rng, Rounding, fix_from_f32, mul};
use engram::objective::{Averaging, Objective, Variance, VarianceParams};
use engram::projection::Dense;
use engram::rule::{Plastic, Rule, RuleParams, RuleStorage, Signals, WeightFormat};

/// Time step (ms).
pub const DT_MS: f32 = 1.0;

/// Which rule learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Learning {
    /// BCM with the sliding threshold θ = ⟨y²⟩ (the experiment).
    Bcm,
    /// Plain Hebbian learning `dw/dt = η·x·y` with the same η (the control).
    Hebbian,
}

/// The experiment's configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct Config {
    /// Number of patterns K (1..=64).
    pub patterns: usize,
    /// Inputs per pattern m (1..=64).
    pub inputs_per_pattern: usize,
    /// Input value `a` of an active input.
    pub amplitude: f32,
    /// Steps each presented pattern is held (≥ 1).
    pub hold: u16,
    /// Learning rate η (weight units per ms per unit of `x·y²`).
    pub eta: f32,
    /// τ_θ (ms).
    pub tau_theta_ms: f32,
    /// Time constant of the slower running mean of `y²` ([`Network::mean_y2`], ms).
    pub mean_tau_ms: f32,
    /// Upper weight bound (the lower is 0).
    pub w_max: f32,
    /// Initial weights are uniform in `[0, w_init_max]`.
    pub w_init_max: f32,
    /// BCM or the Hebbian control.
    pub learning: Learning,
    /// Seed of the initial weights and the presentation order.
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            patterns: 10,
            inputs_per_pattern: 10,
            amplitude: 1.0,
            hold: 2,
            eta: 2e-5,
            tau_theta_ms: 1000.0,
            mean_tau_ms: 5000.0,
            w_max: 2.0,
            w_init_max: 0.2,
            learning: Learning::Bcm,
            seed: 1,
        }
    }
}

impl Config {
    /// Number of inputs `K·m`.
    pub fn n_inputs(&self) -> usize {
        self.patterns * self.inputs_per_pattern
    }

    fn rule(&self) -> RuleParams {
        match self.learning {
            Learning::Bcm => RuleParams::bcm(self.eta, self.tau_theta_ms),
            Learning::Hebbian => RuleParams::hebbian(self.eta, 0.0),
        }
    }
}

/// Caller storage.
#[derive(Debug)]
pub struct Storage<'a> {
    /// `K·m` weights.
    pub weights: &'a mut [i16],
    /// One accumulator.
    pub acc: &'a mut [i32],
    /// `K·m` inputs (this step's `x`).
    pub x: &'a mut [Fix],
    /// One sliding threshold (empty for the Hebbian control).
    pub theta: &'a mut [Fix],
    /// One running second moment (the [`Variance`] objective's).
    pub moments: &'a mut [Fix],
}

/// The running experiment.
#[derive(Debug)]
pub struct Network<'a> {
    /// The plastic `K·m → 1` projection.
    pub plastic: Plastic<'a, i16, Dense<'a, i16>>,
    x: &'a mut [Fix],
    rng: Rng,
    amplitude: Fix,
    m: usize,
    k: usize,
    hold: u16,
    left: u16,
    /// The pattern being presented.
    pub pattern: usize,
    /// This step's output `y` (with the weights before this step's update).
    pub y: Fix,
    /// `E[y²]` as the [`Variance`] objective (time constant `mean_tau_ms`).
    pub variance: Variance<'a>,
    /// Steps taken.
    pub t: u64,
}

impl<'a> Network<'a> {
    /// Builds the experiment on `st`; initial weights uniform in `[0, w_init_max]`.
    pub fn new(cfg: &Config, st: Storage<'a>) -> Result<Network<'a>, ConfigError> {
        if !(1..=64).contains(&cfg.patterns) || !(1..=64).contains(&cfg.inputs_per_pattern) {
            return Err(ConfigError::Invalid {
                what: "BCM: 1..=64 patterns of 1..=64 inputs",
            });
        }
        if cfg.hold == 0 {
            return Err(ConfigError::Invalid {
                what: "BCM: patterns are held at least one step",
            });
        }
        let n = cfg.n_inputs();
        check_len("BCM weights", n, st.weights.len())?;
        check_len("BCM inputs", n, st.x.len())?;
        let fmt = WeightFormat {
            rounding: Rounding::Stochastic,
            ..WeightFormat::new(16, 0.0, cfg.w_max)
        };
        let scale = fmt.scale()?;
        let rule = Rule::new::<i16>(&cfg.rule(), &fmt, scale, DT_MS)?;
        let mut rng = Rng::stream(cfg.seed, 0xBC_3A);
        let w_init = fix_from_f32("BCM initial weight", cfg.w_init_max)?;
        let (lo, hi) = rule.bounds();
        for w in st.weights.iter_mut() {
            let v = mul(rng.uniform(), w_init).to_num::<f32>();
            *w = scale.raw_from_f32(v).clamp(lo, hi) as i16;
        }
        let proj = Dense::new(n, 1, st.weights, st.acc, scale)?;
        let storage = RuleStorage {
            pre_traces: &mut [],
            post_traces: &mut [],
            eligibility: &mut [],
            theta: st.theta,
        };
        let plastic = Plastic::new(proj, rule, storage, cfg.seed)?;
        st.x.fill(Fix::ZERO);
        Ok(Network {
            plastic,
            x: st.x,
            rng,
            amplitude: fix_from_f32("BCM amplitude", cfg.amplitude)?,
            m: cfg.inputs_per_pattern,
            k: cfg.patterns,
            hold: cfg.hold,
            left: 0,
            pattern: 0,
            y: Fix::ZERO,
            variance: Variance::new(
                VarianceParams {
                    averaging: Averaging::TimeConstant {
                        tau_ms: cfg.mean_tau_ms,
                    },
                },
                DT_MS,
                st.moments,
            )?,
            t: 0,
        })
    }

    /// One step: a new random pattern every `hold` steps, `y = [w·x]₊`, the BCM update.
    pub fn step(&mut self) {
        if self.left == 0 {
            self.left = self.hold;
            self.pattern = self.rng.below(self.k as u32) as usize;
            let (m, p, a) = (self.m, self.pattern, self.amplitude);
            for (i, x) in self.x.iter_mut().enumerate() {
                // `checked_div`: `m ≥ 1` is validated, but the step must not reach a panic
                *x = if i.checked_div(m) == Some(p) {
                    a
                } else {
                    Fix::ZERO
                };
            }
        }
        self.left -= 1;
        let mut y = [Fix::ZERO];
        self.plastic.proj.propagate_rates(self.x, &mut y);
        y[0] = y[0].max(Fix::ZERO);
        let sig = Signals {
            pre_rate: self.x,
            post_rate: &y,
            ..Signals::NONE
        };
        self.plastic.learn(&[], &[], &sig);
        self.y = y[0];
        self.variance.update(&y);
        self.t += 1;
    }

    /// The response `[a·Σ_{i∈S_k} w_i]₊` to each pattern `k`, written to `out` (up to K entries).
    pub fn responses(&self, out: &mut [Fix]) {
        let scale = self.plastic.proj.scale();
        let w = self.plastic.proj.weights();
        for (r, ws) in out.iter_mut().zip(w.chunks(self.m.max(1))) {
            let raw: i32 = ws.iter().map(|&x| x as i32).sum(); // ≤ 64·2^15: fits
            *r = mul(scale.apply(raw), self.amplitude).max(Fix::ZERO);
        }
    }

    /// Intrator & Cooper's objective `R = E[y³]/3 − E[y²]²/4` over equiprobable patterns, from the
    /// current responses (a report: floats).
    pub fn objective(&self) -> f32 {
        let (mut m2, mut m3) = (0.0f32, 0.0f32);
        let mut r = [Fix::ZERO; 64];
        self.responses(&mut r);
        for &y in r.iter().take(self.k) {
            let y = y.to_num::<f32>();
            m2 += y * y;
            m3 += y * y * y;
        }
        let k = self.k as f32;
        (m3 / k) / 3.0 - (m2 / k) * (m2 / k) / 4.0
    }

    /// The sliding threshold θ (zero for the Hebbian control).
    pub fn theta(&self) -> Fix {
        self.plastic.theta().first().copied().unwrap_or(Fix::ZERO)
    }

    /// The running mean of `y²` with time constant `mean_tau_ms` (the [`Variance`] objective's).
    pub fn mean_y2(&self) -> Fix {
        self.variance.average()
    }
}

impl Simulation for Network<'_> {
    fn step(&mut self) {
        Network::step(self);
    }

    fn steps(&self) -> u64 {
        self.t
    }

    /// A rate neuron: no spikes.
    fn spike_count(&self) -> usize {
        0
    }

    /// A rate neuron: the output `y` of the last step stands for its spikes (the history chains it).
    fn spikes_hash(&self) -> u64 {
        self.y.state_hash()
    }

    /// Parts: `synapses` (weights, accumulator), `rule` (θ, rounding generator, tick phase), `x`,
    /// `y`, `rng` (presentation order), `presentation` (pattern and steps left), `objective`
    /// (running `E[y²]`), `t`.
    fn hash_parts(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        visit_plastic(&self.plastic, ["synapses", "rule"], visit);
        visit("x", (*self.x).state_hash());
        visit("y", self.y.state_hash());
        visit("rng", self.rng.state_hash());
        let mut h = Fnv64::new();
        h.write_len(self.pattern);
        self.left.hash_into(&mut h);
        visit("presentation", h.finish());
        visit("objective", self.variance.state_hash());
        visit("t", self.t.state_hash());
    }
}

/// Reports: no spiking populations; metrics `objective` (Intrator & Cooper's `E[y³]/3 − E[y²]²/4`
/// from the current responses), `theta` (θ), `mean_y2` and `pattern` (the pattern shown); plastic
/// weights `w`.
impl crate::Observe for Network<'_> {
    fn spikes(&self, _visit: &mut dyn FnMut(&'static str, usize, &[u16])) {}

    fn metrics(&self, visit: &mut dyn FnMut(&'static str, f32)) {
        visit("objective", self.objective());
        visit("theta", self.theta().to_num::<f32>());
        visit("mean_y2", self.mean_y2().to_num::<f32>());
        visit("pattern", self.pattern as f32);
    }

    fn weights(&self, visit: &mut crate::WeightVisitor<'_>) {
        crate::visit_weights(
            "w",
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
    weights: Vec<i16>,
    acc: Vec<i32>,
    x: Vec<Fix>,
    theta: Vec<Fix>,
    moments: Vec<Fix>,
}

#[cfg(feature = "std")]
impl Buffers {
    /// Buffers sized for `cfg`.
    pub fn new(cfg: &Config) -> Buffers {
        let n = cfg.n_inputs();
        let n_theta = if cfg.learning == Learning::Bcm { 1 } else { 0 };
        Buffers {
            weights: vec![0; n],
            acc: vec![0; 1],
            x: vec![Fix::ZERO; n],
            theta: vec![Fix::ZERO; n_theta],
            moments: vec![Fix::ZERO; 1],
        }
    }

    /// The storage view for [`Network::new`].
    pub fn storage(&mut self) -> Storage<'_> {
        Storage {
            weights: &mut self.weights,
            acc: &mut self.acc,
            x: &mut self.x,
            theta: &mut self.theta,
            moments: &mut self.moments,
        }
    }
}
