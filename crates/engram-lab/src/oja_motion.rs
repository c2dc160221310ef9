//! Oja's rule on a movement stream (the micro:bit v2 `oja-motion` demo): a linear neuron learns the
//! principal axis of the user's movement from the accelerometer.
//!
//! | part | here |
//! | --- | --- |
//! | architecture | gravity removed by a high-pass (`x = a − m`, `m` a running mean of the accelerometer with time constant `tau_mean_ms`), then one linear rate neuron `y = w·x` ([`Dense::propagate_rates`] of a 3 → 1 projection, `i16` weights in `[−2, 2]`, stochastic rounding) |
//! | learning rule | Oja's rule, [`RuleParams::oja`]: `dw/dt = η·(x·y − y²·w)` every step |
//! | objective | the output variance `E[y²]` on the unit sphere, maximal at `w = ±u`, `u` the principal axis of the movement ([`Variance`]) |
//! | environment | [`Shaker`]: gravity (1 g, fixed board orientation) + movement along a seed-drawn unit axis `u` (amplitude `N(0, amplitude_g²)` each step) + isotropic noise (σ = `noise_g`), with missing reads (probability `p_missing`) that give the neuron no input |
//!
//! The board (`boards/microbit-v2`, bin `oja-motion`) runs the same [`Learner`] on the real
//! accelerometer at 50 Hz and shows `(w_x, w_y)` on the LED matrix as a line through the centre.
//!
//! **Numbers.** dt = 20 ms; `η = 2⁻⁹` per ms (so `η·dt·λ₁ ≈ 0.005` per step for 0.35 g movement:
//! converged in ~10 s). Accelerations and `x` are Q16.16 g; the high-pass gain `dt/τ` is a [`Frac`].
//!
//! **Measured** (`tests/tests/oja_motion.rs`, 3000 steps = 60 s of simulated shaking, seeds 1–8): the
//! angle between `w` and the movement axis is 0.2–0.9° and `|w|` = 1.000 on every seed (the test
//! asserts < 10° and within 10 %); with `eta = 0` (the no-learning control) the initial random `w` is
//! 15–73° off, 47° on average (the test asserts a mean above 30°).

use crate::{Simulation, visit_plastic};
use engram::ConfigError;
use engram::error::check_len;
use engram::hash::{Fnv64, StateHash};
use engram::num::{Fix, Frac, Rng, Rounding, fix_from_f32, fix_to_f32, mul};
use engram::objective::{Averaging, Objective, Variance, VarianceParams};
use engram::projection::Dense;
use engram::rule::{Plastic, Rule, RuleParams, RuleStorage, Signals, WeightFormat};

/// Time step (ms): the board's 50 Hz control loop.
pub const DT_MS: f32 = 20.0;
/// Input dimension: the accelerometer's x, y, z.
pub const DIM: usize = 3;
/// Weight bound: weights live in `[−W_MAX, W_MAX]`.
pub const W_MAX: f32 = 2.0;
/// Bytes of learned state ([`Learner::save`]): the weights, `i16` little-endian.
pub const STATE_BYTES: usize = 2 * DIM;

/// The experiment's configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct Config {
    /// Seed of the movement axis, the initial weights and the sensor stream.
    pub seed: u64,
    /// Learning rate η (per ms). 0 freezes the weights (the control).
    pub eta: f32,
    /// Standard deviation of each initial weight.
    pub w_init_sd: f32,
    /// Time constant of the running mean that removes gravity (ms).
    pub tau_mean_ms: f32,
    /// Time constant of the running mean of `y²` (ms).
    pub variance_tau_ms: f32,
    /// Simulated movement amplitude along the axis (g, standard deviation).
    pub amplitude_g: f32,
    /// Simulated isotropic accelerometer noise (g, standard deviation per axis).
    pub noise_g: f32,
    /// Simulated probability that a read is missing (an I2C fault).
    pub p_missing: f32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 1,
            eta: 1.0 / 512.0,
            w_init_sd: 0.5,
            tau_mean_ms: 1000.0,
            variance_tau_ms: 2000.0,
            amplitude_g: 0.35,
            noise_g: 0.05,
            p_missing: 0.01,
        }
    }
}

use crate::oja_pca::sqrt;

impl Config {
    /// The simulated movement axis (unit vector, drawn from the seed).
    pub fn axis(&self) -> [f32; DIM] {
        let mut rng = Rng::stream(self.seed, 0xA815);
        loop {
            let v = [(); DIM].map(|_| fix_to_f32(rng.normal()) as f64);
            let n = sqrt(v.iter().map(|x| x * x).sum());
            if n > 0.1 {
                return v.map(|x| (x / n) as f32);
            }
        }
    }
}

/// Caller storage.
#[derive(Debug)]
pub struct Storage<'a> {
    /// [`DIM`] weights.
    pub weights: &'a mut [i16],
    /// One accumulator.
    pub acc: &'a mut [i32],
    /// One running second moment (the [`Variance`] objective's).
    pub moments: &'a mut [Fix],
}

/// The learning agent, independent of where the accelerometer samples come from.
#[derive(Debug)]
pub struct Learner<'a> {
    /// The plastic 3 → 1 projection (its weights are `w`).
    pub plastic: Plastic<'a, i16, Dense<'a, i16>>,
    /// Running mean of the accelerometer (gravity and slow tilt), g.
    pub mean: [Fix; DIM],
    mean_gain: Frac,
    primed: bool,
    /// This step's input `x = a − m` (0 when the sensor is missing).
    pub x: [Fix; DIM],
    /// This step's output `y = w·x`.
    pub y: Fix,
    /// The objective: running `E[y²]`.
    pub variance: Variance<'a>,
}

impl<'a> Learner<'a> {
    /// Builds the learner on `st`: weights `~ N(0, w_init_sd²)` from the seed.
    pub fn new(cfg: &Config, st: Storage<'a>) -> Result<Learner<'a>, ConfigError> {
        check_len("Oja weights", DIM, st.weights.len())?;
        if !(cfg.eta.is_finite() && cfg.eta >= 0.0) {
            return Err(ConfigError::OutOfRange {
                what: "Oja learning rate (>= 0)",
                value: cfg.eta,
            });
        }
        let fmt = WeightFormat {
            rounding: Rounding::Stochastic,
            ..WeightFormat::new(16, -W_MAX, W_MAX)
        };
        let scale = fmt.scale()?;
        let params = if cfg.eta > 0.0 {
            RuleParams::oja(cfg.eta)
        } else {
            RuleParams::empty()
        };
        let rule = Rule::new::<i16>(&params, &fmt, scale, DT_MS)?;
        let mut rng = Rng::stream(cfg.seed, 0x0A_1A);
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
        Ok(Learner {
            plastic: Plastic::new(proj, rule, storage, cfg.seed)?,
            mean: [Fix::ZERO; DIM],
            mean_gain: Frac::gain("gravity high-pass", cfg.tau_mean_ms, DT_MS)?,
            primed: false,
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
        })
    }

    /// One 20 ms step on the observation `[x, y, z, presence]` (g). A missing reading (presence 0)
    /// gives the neuron no input (`x = 0`: Oja's rule leaves `w` unchanged) and leaves the running
    /// mean as it was.
    pub fn step(&mut self, obs: &[Fix]) {
        let present = obs.get(3).is_some_and(|&p| p != Fix::ZERO);
        self.x = [Fix::ZERO; DIM];
        if present {
            for ((m, x), &a) in self.mean.iter_mut().zip(&mut self.x).zip(obs) {
                if !self.primed {
                    *m = a;
                }
                *m = m.saturating_add(self.mean_gain.mul(a.saturating_sub(*m)));
                *x = a.saturating_sub(*m);
            }
            self.primed = true;
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

    /// The weights as `Fix` (g-free units; `|w| → 1`), for display.
    pub fn weights_fix(&self) -> [Fix; DIM] {
        let scale = self.plastic.proj.scale();
        let mut out = [Fix::ZERO; DIM];
        for (o, &w) in out.iter_mut().zip(self.plastic.proj.weights()) {
            *o = scale.apply(w as i32);
        }
        out
    }

    /// Writes the weights ([`STATE_BYTES`]) into `out`; returns the bytes written (0 if too short).
    pub fn save(&self, out: &mut [u8]) -> usize {
        crate::save_dense_i16(&self.plastic, out)
    }

    /// Restores the weights from [`Learner::save`]'s bytes (clamped to the bounds); `false` (nothing
    /// changed) unless `bytes` is exactly [`STATE_BYTES`] long.
    pub fn load(&mut self, bytes: &[u8]) -> bool {
        crate::load_dense_i16(&mut self.plastic, bytes)
    }

    /// A fingerprint of the model for checkpoints.
    pub fn model_hash() -> u64 {
        let mut h = Fnv64::new();
        for b in b"engram-lab::oja_motion v1" {
            h.write_u64(u64::from(*b));
        }
        (DIM as u64).hash_into(&mut h);
        h.finish()
    }
}

/// The simulated user shaking the board (see the module doc).
#[derive(Debug, Clone)]
pub struct Shaker {
    axis: [Fix; DIM],
    amplitude: Fix,
    noise: Fix,
    p_missing: Frac,
    rng: Rng,
}

impl Shaker {
    /// Movement along [`Config::axis`].
    pub fn new(cfg: &Config) -> Result<Shaker, ConfigError> {
        let mut axis = [Fix::ZERO; DIM];
        for (a, v) in axis.iter_mut().zip(cfg.axis()) {
            *a = fix_from_f32("movement axis", v)?;
        }
        Ok(Shaker {
            axis,
            amplitude: fix_from_f32("movement amplitude (g)", cfg.amplitude_g)?,
            noise: fix_from_f32("accelerometer noise (g)", cfg.noise_g)?,
            p_missing: Frac::from_f32("missing-read probability", cfg.p_missing)?,
            rng: Rng::stream(cfg.seed, 0x5A4E),
        })
    }

    /// This step's observation `[x, y, z, presence]` (g): gravity on −z plus movement plus noise.
    pub fn observe(&mut self, obs: &mut [Fix; 4]) {
        let s = mul(self.amplitude, self.rng.normal());
        let gravity = [Fix::ZERO, Fix::ZERO, -Fix::ONE];
        let missing = self.rng.bernoulli(self.p_missing);
        for ((o, &u), g) in obs.iter_mut().zip(&self.axis).zip(gravity) {
            let n = mul(self.noise, self.rng.normal());
            let v = g.saturating_add(mul(s, u)).saturating_add(n);
            *o = if missing { Fix::ZERO } else { v };
        }
        obs[3] = if missing { Fix::ZERO } else { Fix::ONE };
    }
}

/// The running experiment: a [`Learner`] on a [`Shaker`]'s stream.
#[derive(Debug)]
pub struct Network<'a> {
    /// The agent.
    pub learner: Learner<'a>,
    /// The simulated user.
    pub shaker: Shaker,
    axis: [f32; DIM],
    obs: [Fix; 4],
    t: u64,
}

impl<'a> Network<'a> {
    /// Builds the experiment on `st`.
    pub fn new(cfg: &Config, st: Storage<'a>) -> Result<Network<'a>, ConfigError> {
        Ok(Network {
            learner: Learner::new(cfg, st)?,
            shaker: Shaker::new(cfg)?,
            axis: cfg.axis(),
            obs: [Fix::ZERO; 4],
            t: 0,
        })
    }

    /// One 20 ms step.
    pub fn step(&mut self) {
        self.shaker.observe(&mut self.obs);
        self.learner.step(&self.obs);
        self.t += 1;
    }

    /// The angle (degrees, 0..=90) between the learned axis `±w` and the movement axis (90 for `w = 0`).
    pub fn angle_deg(&self) -> f32 {
        let w = self.learner.weights();
        let n: f32 = w.iter().map(|x| x * x).sum::<f32>();
        if n == 0.0 {
            return 90.0;
        }
        let d: f32 = w.iter().zip(&self.axis).map(|(a, b)| a * b).sum();
        let cos = (d * d / n).min(1.0); // cos²
        // acos(√cos²) via atan2-free series would need libm: use the identity
        // angle = atan(√(1−c²)/c), computed in f64 by bisection on cos (reports only).
        let c = sqrt(cos as f64);
        let (mut lo, mut hi) = (0.0f64, core::f64::consts::FRAC_PI_2);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            // cos is decreasing on [0, π/2]; cos(mid) by its Taylor series (enough terms for < 1e-9).
            let (mut term, mut sum, x2) = (1.0f64, 1.0f64, mid * mid);
            for k in 1..20 {
                term *= -x2 / ((2 * k - 1) as f64 * (2 * k) as f64);
                sum += term;
            }
            if sum > c { lo = mid } else { hi = mid }
        }
        (0.5 * (lo + hi) * 180.0 / core::f64::consts::PI) as f32
    }

    /// `|w|`.
    pub fn norm(&self) -> f32 {
        sqrt(
            self.learner
                .weights()
                .iter()
                .map(|&x| (x as f64) * (x as f64))
                .sum(),
        ) as f32
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
        0
    }

    /// A rate neuron: its output `y` stands for its spikes.
    fn spikes_hash(&self) -> u64 {
        self.learner.y.state_hash()
    }

    /// Parts: `synapses`, `rule`, `mean` (the high-pass), `x`, `y`, `objective`, `shaker` (its
    /// generator), `t`.
    fn hash_parts(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        visit_plastic(&self.learner.plastic, ["synapses", "rule"], visit);
        visit("mean", self.learner.mean.state_hash());
        visit("x", self.learner.x.state_hash());
        visit("y", self.learner.y.state_hash());
        visit("objective", self.learner.variance.state_hash());
        let mut h = Fnv64::new();
        self.shaker.rng.hash_into(&mut h);
        visit("shaker", h.finish());
        visit("t", self.t.state_hash());
    }
}

/// Reports: metrics `objective` (running `E[y²]`), `y`, `norm2` (`|w|²`, → 1), `angle_deg` (to the
/// movement axis, → 0); plastic weights `w`.
impl crate::Observe for Network<'_> {
    fn spikes(&self, _visit: &mut dyn FnMut(&'static str, usize, &[u16])) {}

    fn metrics(&self, visit: &mut dyn FnMut(&'static str, f32)) {
        visit("objective", self.learner.variance.average().to_num::<f32>());
        visit("y", self.learner.y.to_num::<f32>());
        let n = self.norm();
        visit("norm2", n * n);
        visit("angle_deg", self.angle_deg());
    }

    fn weights(&self, visit: &mut crate::WeightVisitor<'_>) {
        crate::visit_weights(
            "w",
            self.learner.plastic.proj.scale(),
            self.learner.plastic.rule().bounds(),
            self.learner.plastic.proj.weights(),
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

    /// The storage view for [`Network::new`] / [`Learner::new`].
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
