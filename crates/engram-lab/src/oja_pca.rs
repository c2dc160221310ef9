//! Oja (1982), "Simplified neuron model as a principal component analyzer", J Math Biol 15:267: a
//! linear neuron with Oja's rule finds the first principal component of its input.
//!
//! | part | here |
//! | --- | --- |
//! | architecture | one linear rate neuron `y = w·x` ([`Dense::propagate_rates`] of a 10 → 1 projection, `i16` weights in `[−2, 2]`) |
//! | learning rule | Oja's rule, [`RuleParams::oja`]: `dw/dt = η·(x·y − y²·w)`, applied every step |
//! | objective | the output variance `E[y²]` on the unit sphere (Oja's rule ascends it; its maximum, `λ₁`, is reached at `w = ±v₁`): the [`Variance`] objective, a running mean of `y²` ([`Network::variance`]) |
//! | environment | zero-mean Gaussian input `x = L·z`, `z ~ N(0, I)` ([`Rng::normal`]), `L` the Cholesky factor of a fixed covariance `C = Q·diag(λ)·Qᵀ` with a random orthonormal `Q` (from the seed) and a clear gap `λ₁/λ₂ = 2` |
//!
//! The published result: `w` converges to `±v₁`, the unit eigenvector of `C` with the largest
//! eigenvalue, so `|w| → 1` and `y²` averages `λ₁`. A Hebbian rule without Oja's normalisation
//! ([`Learning::Hebbian`], the control) grows `w` until the weight bounds clamp it.
//!
//! Parameters: the paper states the rule, not numbers; here `η = 2⁻¹¹` per ms (a power of two, so
//! both of Oja's coefficients are exact in Q16.16 and the fixed point of `|w|` is exactly 1), one
//! step per ms, weights `i16` in `[−2, 2]` (step 6.1·10⁻⁵) with stochastic rounding. With this
//! spectrum the stationary jitter of `w` around `v₁` is `sin²∠(w, v₁) ≈ 6η` (0.3 %).
//!
//! Configuration-time arithmetic (the covariance, its Cholesky factor) is `f64`; `L` is stored as
//! [`Fix`] (Q16.16), so the covariance the neuron sees differs from `C` by about 10⁻⁵. The step path
//! is integer only: 55 products for `x = L·z`, one [`Dense::propagate_rates`], one rule tick.

use crate::{Simulation, visit_plastic};
use engram::ConfigError;
use engram::error::check_len;
use engram::hash::StateHash;
use engram::num::{Fix, Rng, Rounding, fix_from_f32, fix_to_f32, mul};
use engram::objective::{Averaging, Objective, Variance, VarianceParams};
use engram::projection::Dense;
use engram::rule::{Plastic, Rule, RuleParams, RuleStorage, Signals, WeightFormat};

/// Input dimension.
pub const DIM: usize = 10;
/// Time step (ms).
pub const DT_MS: f32 = 1.0;
/// Weight bound: weights live in `[−W_MAX, W_MAX]`.
pub const W_MAX: f32 = 2.0;

/// Which rule learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Learning {
    /// Oja's rule (the experiment).
    Oja,
    /// Plain Hebbian learning `dw/dt = η·x·y` with the same η (the control: unbounded but for the
    /// weight bounds).
    Hebbian,
}

/// The experiment's configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct Config {
    /// Eigenvalues `λ₁ ≥ … ≥ λ₁₀ > 0` of the input covariance.
    pub eigenvalues: [f32; DIM],
    /// Learning rate η (per ms).
    pub eta: f32,
    /// Standard deviation of each initial weight (weights `~ N(0, σ²)`, clamped to the bounds).
    pub w_init_sd: f32,
    /// Time constant of the running mean of `y²` (ms).
    pub variance_tau_ms: f32,
    /// Oja or the Hebbian control.
    pub learning: Learning,
    /// Seed of the covariance's eigenbasis, the initial weights and the input stream.
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            eigenvalues: [4.0, 2.0, 1.6, 1.3, 1.0, 0.8, 0.6, 0.5, 0.4, 0.3],
            eta: 1.0 / 2048.0,
            w_init_sd: 0.1,
            variance_tau_ms: 1000.0,
            learning: Learning::Oja,
            seed: 1,
        }
    }
}

/// Square root by Newton's iteration (configuration time only): `core` has no `f64::sqrt` without
/// `std`, and this crate takes no `libm` for two uses.
pub(crate) fn sqrt(x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let mut r = if x > 1.0 { x } else { 1.0 };
    for _ in 0..80 {
        r = 0.5 * (r + x / r);
    }
    r
}

impl Config {
    /// The input covariance `C = Q·diag(λ)·Qᵀ`, `Q` orthonormal: Gram–Schmidt on a Gaussian matrix
    /// drawn from the seed (row `k` of the returned basis is the eigenvector of `λ_k`).
    pub fn eigenbasis(&self) -> [[f64; DIM]; DIM] {
        let mut rng = Rng::stream(self.seed, 0xC0_7A21);
        let mut q = [[0.0f64; DIM]; DIM];
        for k in 0..DIM {
            let mut v = [0.0f64; DIM];
            for x in v.iter_mut() {
                *x = fix_to_f32(rng.normal()) as f64;
            }
            // Twice for numerical orthogonality.
            for _ in 0..2 {
                for prev in q.iter().take(k) {
                    let d: f64 = prev.iter().zip(&v).map(|(a, b)| a * b).sum();
                    for (x, p) in v.iter_mut().zip(prev) {
                        *x -= d * p;
                    }
                }
            }
            let n = sqrt(v.iter().map(|x| x * x).sum());
            for (dst, x) in q[k].iter_mut().zip(v) {
                *dst = x / n;
            }
        }
        q
    }

    /// The input covariance `C` (see [`Config::eigenbasis`]).
    pub fn covariance(&self) -> [[f64; DIM]; DIM] {
        let q = self.eigenbasis();
        let mut c = [[0.0f64; DIM]; DIM];
        for (i, row) in c.iter_mut().enumerate() {
            for (j, cij) in row.iter_mut().enumerate() {
                *cij = (0..DIM)
                    .map(|k| self.eigenvalues[k] as f64 * q[k][i] * q[k][j])
                    .sum();
            }
        }
        c
    }

    /// The Cholesky factor `L` (lower triangular, `L·Lᵀ = C`). Refuses a covariance that is not
    /// positive definite (an eigenvalue ≤ 0 or not finite) or entries beyond Q16.16.
    pub fn cholesky(&self) -> Result<[[Fix; DIM]; DIM], ConfigError> {
        for &l in &self.eigenvalues {
            if !(l.is_finite() && l > 0.0) {
                return Err(ConfigError::OutOfRange {
                    what: "covariance eigenvalue (must be positive)",
                    value: l,
                });
            }
        }
        let c = self.covariance();
        let mut l = [[0.0f64; DIM]; DIM];
        for i in 0..DIM {
            for j in 0..=i {
                let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
                if i == j {
                    let d = c[i][i] - s;
                    if d <= 0.0 {
                        return Err(ConfigError::Invalid {
                            what: "covariance is not positive definite",
                        });
                    }
                    l[i][i] = sqrt(d);
                } else {
                    l[i][j] = (c[i][j] - s) / l[j][j];
                }
            }
        }
        let mut out = [[Fix::ZERO; DIM]; DIM];
        for (o, r) in out.iter_mut().zip(&l) {
            for (x, &v) in o.iter_mut().zip(r) {
                *x = fix_from_f32("Cholesky factor entry", v as f32)?;
            }
        }
        Ok(out)
    }

    fn rule(&self) -> RuleParams {
        match self.learning {
            Learning::Oja => RuleParams::oja(self.eta),
            Learning::Hebbian => RuleParams::hebbian(self.eta, 0.0),
        }
    }
}

/// Caller storage: the weights, the projection's accumulator, the objective's running moment.
#[derive(Debug)]
pub struct Storage<'a> {
    /// [`DIM`] weights.
    pub weights: &'a mut [i16],
    /// One accumulator.
    pub acc: &'a mut [i32],
    /// One running second moment (the [`Variance`] objective's).
    pub moments: &'a mut [Fix],
}

/// The running experiment.
#[derive(Debug)]
pub struct Network<'a> {
    /// The plastic 10 → 1 projection (its weights are `w`).
    pub plastic: Plastic<'a, i16, Dense<'a, i16>>,
    chol: [[Fix; DIM]; DIM],
    rng: Rng,
    /// This step's input `x`.
    pub x: [Fix; DIM],
    /// This step's output `y = w·x` (with the weights before this step's update).
    pub y: Fix,
    /// The objective: `E[y²]`, running mean with time constant `variance_tau_ms`.
    pub variance: Variance<'a>,
    /// Steps taken.
    pub t: u64,
}

impl<'a> Network<'a> {
    /// Builds the experiment on `st`: `L` from the covariance, weights `~ N(0, w_init_sd²)`.
    pub fn new(cfg: &Config, st: Storage<'a>) -> Result<Network<'a>, ConfigError> {
        check_len("Oja weights", DIM, st.weights.len())?;
        let chol = cfg.cholesky()?;
        let fmt = WeightFormat {
            rounding: Rounding::Stochastic,
            ..WeightFormat::new(16, -W_MAX, W_MAX)
        };
        let scale = fmt.scale()?;
        let rule = Rule::new::<i16>(&cfg.rule(), &fmt, scale, DT_MS)?;
        let mut rng = Rng::stream(cfg.seed, 0x1A_9075);
        let sd = fix_from_f32("initial weight sd", cfg.w_init_sd)?;
        let (lo, hi) = rule.bounds();
        for w in st.weights.iter_mut() {
            let v = fix_to_f32(mul(rng.normal(), sd));
            *w = scale.raw_from_f32(v).clamp(lo, hi) as i16;
        }
        let proj = Dense::new(DIM, 1, st.weights, st.acc, scale)?;
        let storage = RuleStorage {
            pre_traces: &mut [],
            post_traces: &mut [],
            eligibility: &mut [],
            theta: &mut [],
        };
        let plastic = Plastic::new(proj, rule, storage, cfg.seed)?;
        Ok(Network {
            plastic,
            chol,
            rng,
            x: [Fix::ZERO; DIM],
            y: Fix::ZERO,
            variance: Variance::new(
                VarianceParams {
                    averaging: Averaging::TimeConstant {
                        tau_ms: cfg.variance_tau_ms,
                    },
                },
                DT_MS,
                st.moments,
            )?,
            t: 0,
        })
    }

    /// One step: draw `x = L·z`, compute `y = w·x`, apply the rule, update the running `E[y²]`.
    pub fn step(&mut self) {
        let mut z = [Fix::ZERO; DIM];
        for v in z.iter_mut() {
            *v = self.rng.normal();
        }
        for (x, row) in self.x.iter_mut().zip(&self.chol) {
            *x = row
                .iter()
                .zip(&z)
                .fold(Fix::ZERO, |acc, (&l, &zk)| acc.saturating_add(mul(l, zk)));
        }
        let mut y = [Fix::ZERO];
        self.plastic.proj.propagate_rates(&self.x, &mut y);
        let sig = Signals {
            pre_rate: &self.x,
            post_rate: &y,
            ..Signals::NONE
        };
        self.plastic.learn(&[], &[], &sig);
        self.y = y[0];
        self.variance.update(&y);
        self.t += 1;
    }

    /// The objective's running mean of `y²` (time constant `variance_tau_ms`; starts at 0).
    pub fn variance(&self) -> Fix {
        self.variance.average()
    }

    /// The weights `w` (reports).
    pub fn weights(&self) -> [f32; DIM] {
        let scale = self.plastic.proj.scale();
        let mut out = [0.0; DIM];
        for (o, &w) in out.iter_mut().zip(self.plastic.proj.weights()) {
            *o = scale.to_f32(w as i32);
        }
        out
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

    /// Parts: `synapses` (weights, accumulator), `rule` (rounding generator, tick phase), `x`, `y`,
    /// `rng` (input stream), `covariance` (the Cholesky factor, configuration drawn from the seed),
    /// `objective` (running `E[y²]`), `t`.
    fn hash_parts(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        visit_plastic(&self.plastic, ["synapses", "rule"], visit);
        visit("x", self.x.state_hash());
        visit("y", self.y.state_hash());
        visit("rng", self.rng.state_hash());
        let mut h = engram::hash::Fnv64::new();
        for row in &self.chol {
            row.hash_into(&mut h);
        }
        visit("covariance", h.finish());
        visit("objective", self.variance.state_hash());
        visit("t", self.t.state_hash());
    }
}

/// Reports: no spiking populations; metrics `objective` (the running mean of `y²`, which Oja's
/// rule ascends), `y` and `norm2` (`|w|²`, → 1); plastic weights `w`.
impl crate::Observe for Network<'_> {
    fn spikes(&self, _visit: &mut dyn FnMut(&'static str, usize, &[u16])) {}

    fn metrics(&self, visit: &mut dyn FnMut(&'static str, f32)) {
        visit("objective", self.variance().to_num::<f32>());
        visit("y", self.y.to_num::<f32>());
        let norm: f32 = self.weights().iter().map(|w| w * w).sum();
        visit("norm2", norm);
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
    moments: Vec<Fix>,
}

#[cfg(feature = "std")]
impl Buffers {
    /// Buffers for one neuron with [`DIM`] inputs.
    pub fn new() -> Buffers {
        Buffers {
            weights: vec![0; DIM],
            acc: vec![0; 1],
            moments: vec![Fix::ZERO; 1],
        }
    }

    /// The storage view for [`Network::new`].
    pub fn storage(&mut self) -> Storage<'_> {
        Storage {
            weights: &mut self.weights,
            acc: &mut self.acc,
            moments: &mut self.moments,
        }
    }
}

#[cfg(feature = "std")]
impl Default for Buffers {
    fn default() -> Self {
        Buffers::new()
    }
}
