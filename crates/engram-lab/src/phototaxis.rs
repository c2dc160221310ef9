//! Phototaxis: a 2-D Braitenberg vehicle with two light sensors and two wheels learns, from reward
//! alone, to drive to a light that jumps to a new random place whenever it is reached.
//!
//! | part | here |
//! | --- | --- |
//! | architecture | two sensor populations of `cells` Poisson cells each ([`RateGroups`]: rate `sensor_hz · I` for the sensed intensity `I ∈ [0, 1]`) → two motor pools of `motor` current-based LIF neurons each (left wheel, right wheel), all-to-all through one plastic [`Dense`] projection (weights in `[0, weights.w_max]` mV, initially uniform in `w_init ± w_jitter`: no side preference, so the vehicle does not steer); the motor neurons have a tonic bias (`motor_bias_mv`, below threshold) and an exploration input shared within each pool (Gaussian, σ = `motor_noise_mv` per step, independent between the pools); each wheel's speed is its pool's rate over the control period, `v = v_max · min(rate / motor_full_hz, 1)` ([`RateDecoder`]) |
//! | learning rule | reward-modulated Hebbian plasticity with a node-perturbation eligibility (three factors): a presynaptic trace `x_i` (τ = `tau_pre_ms`), each motor neuron's running rate `ȳ_j` (τ = `tau_rate_ms`); `e_ij += a·x_i` at a spike of `j`, `e_ij −= a·x_i·ȳ_j·1 ms` every step (so `e` follows `x_i·(s_j − ȳ_j)`: how much *more than usual* `j` fired while `i` was active), `e` decays with τ_e = `tau_eligibility_ms`; the step after each control step `Δw = lr · 1 ms · δ · e`. Plus homeostatic synaptic scaling `Δw = scaling · 1 ms · (target − ȳ_j) · w` toward `target_hz`, which keeps both pools equally active (without it a constant turn, an orbit, is an absorbing state of the learning). All terms are [`RuleParams`] terms of one rule ([`Config::rule`]) |
//! | objective | the reward per control step, `r = reward_gain · (ΔI_L + ΔI_R)` (the increase of the sensed light), plus `target_bonus` when the light is reached; the [`RewardPrediction`] critic sends `δ = r − b` (b: running mean, rate `baseline_rate` per control step); `objective` is b |
//! | environment | [`Arena`]: a square arena of side `arena` m with walls, a differential-drive vehicle (axle `axle` m, wheel speeds in `[0, v_max]` m/s), a light; an episode ends when the vehicle's centre is within `radius` m of the light (success) or after `timeout` control steps; either way the light then jumps to a new uniform place at least `min_jump` m away, and the vehicle stays where it is |
//!
//! **Kinematics** (one control step of `T = period_ms` ms, integer arithmetic in Q16.16 metres):
//! `ω = (v_r − v_l)/axle`; the heading (a unit vector `h`) turns by `Δθ = ω·T` (rotation with
//! `cos ≈ 1 − Δθ²/2`, `sin ≈ Δθ − Δθ³/6`, error < Δθ⁴/24 ≈ 3·10⁻⁶ at the largest Δθ = 0.4, then
//! renormalised with an integer square root); then the centre moves by `T · (v_l + v_r)/2 · h`
//! (forward Euler with the new heading) and is clamped to the arena: a wall stops the normal
//! component and the vehicle slides along it.
//!
//! **Sensors.** Two sensors at the vehicle's centre, their axes at `±sensor_angle_deg` from the
//! heading (left +, counter-clockwise). With `u` the vector to the light, `d = |u|` and `a` a
//! sensor's axis, the sensed intensity is `I = g(d) · (1 + cos φ)/2` with `cos φ = u·a/d`
//! (directional sensitivity) and `g(d) = 1/(1 + (d/falloff)²)` (distance falloff).
//! Observation: `[I_L, I_R]`. Turning toward the light raises `I_L + I_R` at first order in Δθ,
//! so the reward credits steering within one control step; driving toward it raises `g`.
//!
//! **What is learned.** Braitenberg's vehicle 2b ("aggression": left sensor → right wheel, right
//! sensor → left wheel) approaches a light; the uncrossed one (2a) turns away. The exploration
//! input makes one wheel's pool fire more than usual now and then; when the light is on the left
//! and the right pool happened to fire more, the vehicle turned toward the light, δ > 0, and the
//! left-sensor → right-motor synapses were the eligible ones (`x_L` high, `s_R − ȳ_R > 0`). So
//! `E[Δw] ∝ Cov(δ, x_i·(s_j − ȳ_j))` grows the crossed weights and shrinks the uncrossed ones: a
//! REINFORCE / node-perturbation estimate of the reward gradient with a spiking eligibility.
//! Geometric limit: with forward-only wheels the tightest turn has radius ≥ axle/2, so the target
//! radius must exceed that (a crossed vehicle otherwise orbits the light; default 0.1 m vs 0.05 m
//! axle).
//!
//! **Control loop** ([`Agent`], dt = 1 ms, control period `period_ms`): the arena's observation is
//! loaded at the start of a period, the sensor cells spike every step, the motor spikes of the whole
//! period set the wheel speeds at its end; then the arena moves and pays, and the critic's δ reaches
//! the brain as the modulator of the next step only (the rule ticks every step, the modulator is 0
//! otherwise). Neurons are reset to rest at each episode start; weights, eligibilities and rates are
//! kept. [`Network::set_learning`] freezes all plasticity (for before/after measurements).
//!
//! **Numbers.** Positions, speeds, intensities and rewards are [`Fix`] (Q16.16: 15 µm resolution);
//! products round to nearest ([`engram::num::mul`]); divisions widen to `i64` and truncate toward
//! zero; square roots are `u64::isqrt` (floor) of exact `i64` sums of squares. Positions saturate
//! at the walls; every other quantity is bounded by construction. The light's new place uses
//! [`Rng::below`] on a 2^16 grid over the arena (at most 8 tries for `min_jump`, then the last
//! draw stays). Floats appear only in the constructors (`sin`/`cos` of the sensor angle by a
//! Taylor series, since `core` has none) and in the report methods. One [`Rng`] (seeded with `seed`)
//! drives the sensor cells, the exploration input and the light, in the agent's order; the rule's
//! stochastic rounding has its own; the initial weights come from a third, used only at
//! construction. Motor rates are spikes per ms in [`Fix`], updated by `ȳ += α·(s − ȳ)`, α = dt/τ.
//!
//! **Measured** (`tests/tests/phototaxis.rs`, default configuration; time to target in control
//! steps of 20 ms, a timeout counts as 500; 10 episodes with plasticity off before, then 30 of
//! learning, then 10 with plasticity off): seeds 1–8 take 500 before (every episode a timeout: the
//! side-neutral vehicle drives into a wall and stays there) and 60–126 after (mean 79; 79 of 80
//! episodes reach the light); the learned steering weight (mean crossed − mean uncrossed) is
//! +0.75…+1.30 mV. Learning is fast: on seeds 1–3 the first learning episode takes 148–321 steps,
//! the third 49–64. Without reward (`reward_gain = 0`) nothing improves (500 → 500). Storage
//! for the default (= [`Config::check`]) configuration: about 7.6 KiB (4 KiB of it eligibilities).
//!
//! **On a real robot** ([`SensedLight`], used by `boards/rp-pico`): the same [`Network`] (same brain,
//! rule, critic, initial weights and random streams for a given [`Config`]) runs in a world whose
//! intensities are measured by two light sensors instead of computed from the geometry, and whose
//! wheel speeds drive motors: [`Network::with_world`]. The reward is the same increase of
//! `I_L + I_R` per control step; a sensor the board cannot trust reads 0 and earns no reward.
//!
//! [`RateGroups`] (the sensor cells) lives here and is also used by [`crate::bandit`].

use crate::{Simulation, WeightVisitor};
use engram::ConfigError;
use engram::agent::{Agent, Brain, Buffers as AgentBuffers, Modulation};
use engram::env::{Encoder, Environment, Feedback, RateDecoder, RateDecoderParams};
use engram::error::check_len;
use engram::hash::{Fnv64, StateHash, hash_rule_state};
use engram::neuron::{
    Lif, LifParams, LifState, MAX_NEURONS, Population, Spikes, Synapses as Input,
};
use engram::num::{Fix, Frac, Rng, fix_from_f32};
use engram::objective::{Averaging, RewardPrediction, RewardPredictionParams};
use engram::projection::Dense;
use engram::rule::{
    Factor, Plastic, Post, Pre, Rule, RuleParams, RuleStorage, Signals, TermParams, WeightFormat,
};
use engram::trace::{TraceMode, TraceParams};

/// Rate coding by groups: observation channel `c` (a value in `[0, 1]`, clamped) drives the `G`
/// input neurons `c·G .. (c+1)·G`, each of which spikes independently in a step with probability
/// `p = x · max_rate · dt` (a Bernoulli approximation of a Poisson process of rate `x·max_rate`).
///
/// [`engram::env::PoissonEncoder`] has one neuron per channel; a sensor seen through a *population*
/// of independent Poisson cells (so that a downstream neuron sums `G` noisy inputs) needs `G` per
/// channel. The channel's probability is computed at [`Encoder::load`] as
/// `p = round(p_max · x)` in U0.32 (`p_max = max_rate·dt`, rounded to nearest at construction), one
/// per channel (caller storage `prob`, length = channels); each step draws one `u32` per input
/// neuron, in neuron order, whether or not it spikes.
#[derive(Debug)]
pub struct RateGroups<'a> {
    prob: &'a mut [Frac],
    per_channel: usize,
    p_max: Frac,
}

impl<'a> RateGroups<'a> {
    /// `prob.len()` channels of `per_channel` neurons at up to `max_rate_hz` with time step `dt_ms`.
    /// Refuses no channel, an empty group, more than [`MAX_NEURONS`] neurons and a `max_rate·dt`
    /// outside `(0, 1]`.
    pub fn new(
        per_channel: usize,
        max_rate_hz: f32,
        dt_ms: f32,
        prob: &'a mut [Frac],
    ) -> Result<Self, ConfigError> {
        let n = prob.len().saturating_mul(per_channel);
        if n == 0 {
            return Err(ConfigError::Invalid {
                what: "rate-group encoder with no input neurons",
            });
        }
        if n > MAX_NEURONS {
            return Err(ConfigError::TooLarge {
                what: "rate-group encoder input neurons",
                got: n,
                max: MAX_NEURONS,
            });
        }
        let p = max_rate_hz * dt_ms / 1000.0;
        if !(p.is_finite() && p > 0.0 && p <= 1.0) {
            return Err(ConfigError::OutOfRange {
                what: "input max rate · dt (probability in (0, 1])",
                value: p,
            });
        }
        prob.fill(Frac::ZERO);
        Ok(RateGroups {
            prob,
            per_channel,
            p_max: Frac::from_f32("input max rate · dt", p)?,
        })
    }

    /// The spike probability per step of each channel's neurons.
    pub fn probabilities(&self) -> &[Frac] {
        self.prob
    }
}

impl Encoder for RateGroups<'_> {
    fn observation_len(&self) -> usize {
        self.prob.len()
    }

    fn input_len(&self) -> usize {
        self.prob.len() * self.per_channel
    }

    fn load(&mut self, obs: &[Fix]) {
        for (p, &x) in self.prob.iter_mut().zip(obs) {
            // x in [0, 1] as Q16.16 bits in [0, 2^16]; p_max·x < 2^48, rounded to nearest U0.32.
            let x = x.to_bits().clamp(0, 1 << 16) as u64;
            let v = (self.p_max.0 as u64 * x + (1 << 15)) >> 16;
            *p = Frac(v.min(u32::MAX as u64) as u32);
        }
    }

    fn encode(&mut self, rng: &mut Rng, out: &mut Spikes<'_>) {
        let mut j: u16 = 0;
        for &p in self.prob.iter() {
            for _ in 0..self.per_channel {
                if rng.bernoulli(p) {
                    out.push(j);
                }
                // j < MAX_NEURONS ≤ 65 535: checked at construction.
                j = j.wrapping_add(1);
            }
        }
    }
}

/// Time step (ms).
pub const DT_MS: f32 = 1.0;

/// The experiment's configuration (the host reads it from TOML; see the module docs for each part).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct Config {
    /// Seed of the sensor cells, light jumps, initial weights and rounding.
    pub seed: u64,
    /// Precision and bounds of the plastic sensor→motor weights (mV).
    pub weights: WeightFormat,
    /// Poisson cells per sensor.
    pub cells: usize,
    /// LIF neurons per wheel.
    pub motor: usize,
    /// A sensor cell's rate at intensity 1 (Hz).
    pub sensor_hz: f32,
    /// Motor rate that gives `v_max` (Hz).
    pub motor_full_hz: f32,
    /// Tonic input of the motor neurons (mV above rest; 15 mV is the threshold).
    pub motor_bias_mv: f32,
    /// Exploration: each step every neuron of a wheel's pool receives the same Gaussian input of
    /// this standard deviation (mV), drawn independently per wheel and step.
    pub motor_noise_mv: f32,
    /// Mean initial weight (mV).
    pub w_init: f32,
    /// Initial weights are uniform in `w_init ± w_jitter` (mV).
    pub w_jitter: f32,
    /// Control period (ms = network steps).
    pub period_ms: u32,
    /// Eligibility per motor spike per unit of presynaptic trace (mV): `e += a·x_i` at a spike of
    /// `j`, `e −= a·x_i·ȳ_j·1 ms` every step.
    pub a: f32,
    /// Presynaptic trace time constant τ_x (ms).
    pub tau_pre_ms: f32,
    /// Time constant of each motor neuron's running rate ȳ_j (ms).
    pub tau_rate_ms: f32,
    /// Homeostatic synaptic scaling: every step `Δw = scaling · 1 ms · (target − ȳ_j) · w` (per ms
    /// per spike/ms; 0 disables it).
    pub scaling: f32,
    /// The motor neurons' target rate for the scaling (Hz).
    pub target_hz: f32,
    /// Eligibility time constant τ_e (ms).
    pub tau_eligibility_ms: f32,
    /// Learning rate (per ms). 0 freezes the weights (the control).
    pub lr: f32,
    /// The critic's baseline rate per control step (in (0, 1)).
    pub baseline_rate: f32,
    /// Reward per unit increase of `I_L + I_R`.
    pub reward_gain: f32,
    /// Extra reward when the light is reached.
    pub target_bonus: f32,
    /// Side of the square arena (m).
    pub arena: f32,
    /// Distance between the wheels (m).
    pub axle: f32,
    /// Top wheel speed (m/s).
    pub v_max: f32,
    /// Sensor axes at ± this angle from the heading (degrees, 0..=90).
    pub sensor_angle_deg: f32,
    /// Distance at which the light's intensity halves (m).
    pub falloff: f32,
    /// The light is reached within this distance (m).
    pub radius: f32,
    /// A jumping light lands at least this far from the vehicle (m; fewer if 8 draws fail).
    pub min_jump: f32,
    /// Control steps before an episode times out.
    pub timeout: u32,
    /// Plasticity stays off for the first this-many episodes, so a single run measures the time to
    /// target before learning and then learns (0: learning from the start; `engram run` uses 5).
    pub baseline_episodes: u32,
}

impl Default for Config {
    /// The standard run.
    fn default() -> Self {
        Config {
            seed: 1,
            weights: WeightFormat::new(16, 0.0, 8.0),
            cells: 16,
            motor: 16,
            sensor_hz: 200.0,
            motor_full_hz: 100.0,
            motor_bias_mv: 12.0,
            motor_noise_mv: 4.0,
            w_init: 2.5,
            w_jitter: 0.5,
            period_ms: 20,
            a: 0.1,
            tau_pre_ms: 20.0,
            tau_rate_ms: 200.0,
            scaling: 0.01,
            target_hz: 40.0,
            tau_eligibility_ms: 20.0,
            lr: 0.1,
            baseline_rate: 0.05,
            reward_gain: 50.0,
            target_bonus: 0.0,
            arena: 1.0,
            axle: 0.05,
            v_max: 1.0,
            sensor_angle_deg: 45.0,
            falloff: 0.5,
            radius: 0.1,
            min_jump: 0.4,
            timeout: 500,
            baseline_episodes: 0,
        }
    }
}

impl Config {
    /// The configuration of the host ↔ chip check: the default (about 7.6 KiB of storage).
    pub fn check(seed: u64) -> Config {
        Config {
            seed,
            ..Config::default()
        }
    }

    /// The rule (see the module docs): two eligibility terms and the modulated tick.
    pub fn rule(&self) -> RuleParams {
        let mut r = RuleParams::empty();
        let _ = r.pre_traces.push(TraceParams {
            tau_ms: self.tau_pre_ms,
            impulse: 1.0,
            mode: TraceMode::Accumulate,
        });
        let hebb = TermParams::new(self.a, Pre::Trace(0), [Post::One, Post::One]);
        let _ = r.on_post.push(hebb.into_eligibility());
        let mean = TermParams::new(-self.a, Pre::Trace(0), [Post::Rate, Post::One]);
        let _ = r.tick.push(mean.into_eligibility());
        if self.scaling != 0.0 {
            let scale = TermParams::new(self.scaling, Pre::One, [Post::Signal, Post::One]);
            let _ = r.tick.push(scale.times(Factor::Weight));
        }
        if self.lr != 0.0 {
            let learn = TermParams::new(self.lr, Pre::One, [Post::Modulator, Post::One]);
            let _ = r.tick.push(learn.times(Factor::Eligibility));
        }
        r.eligibility_tau_ms = Some(self.tau_eligibility_ms);
        r.period = 1;
        r
    }

    /// The motor neuron: τ_m 20 ms, E_L −65 mV, threshold −50 mV, reset −65 mV, refractory 2 ms,
    /// τ_exc 5 ms, τ_inh 10 ms, current-based, bias `motor_bias_mv`.
    pub fn neuron(&self) -> LifParams {
        LifParams {
            tau_m_ms: 20.0,
            e_leak: -65.0,
            v_thresh: -50.0,
            v_reset: -65.0,
            refractory_ms: 2.0,
            tau_exc_ms: 5.0,
            tau_inh_ms: 10.0,
            bias: self.motor_bias_mv,
            synapses: Input::Current,
        }
    }
}

/// `(sin x, cos x)` for `|x| ≤ π/2` by their Taylor series to x¹¹ (error < 6e-8; configuration time
/// only: `core` has no `f32::sin` without `std`).
fn sin_cos(x: f32) -> (f32, f32) {
    let x2 = x * x;
    let s = x
        * (1.0
            - x2 / 6.0
                * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0 * (1.0 - x2 / 110.0)))));
    let c = 1.0
        - x2 / 2.0 * (1.0 - x2 / 12.0 * (1.0 - x2 / 30.0 * (1.0 - x2 / 56.0 * (1.0 - x2 / 90.0))));
    (s, c)
}

/// `atan2(y, x)` in f32 for reports (no `std` maths in `no_std`): octant reduction and a
/// rational approximation, |error| < 0.005 rad.
fn atan2_approx(y: f32, x: f32) -> f32 {
    use core::f32::consts::{FRAC_PI_2, PI};
    if x == 0.0 && y == 0.0 {
        return 0.0;
    }
    let (ax, ay) = (x.abs(), y.abs());
    let (t, swap) = if ay > ax {
        (ax / ay, true)
    } else {
        (ay / ax, false)
    };
    // atan(t) for t in [0, 1]: t·(π/4 + 0.273·(1 − t)) (max error ≈ 0.004 rad).
    let mut r = t * (core::f32::consts::FRAC_PI_4 + 0.273 * (1.0 - t));
    if swap {
        r = FRAC_PI_2 - r;
    }
    if x < 0.0 {
        r = PI - r;
    }
    if y < 0.0 { -r } else { r }
}

/// `a·b` rounded to nearest (Q16.16, saturating).
fn mul(a: Fix, b: Fix) -> Fix {
    engram::num::mul(a, b)
}

/// `a/b` truncated toward zero, saturating; `b = 0` gives 0.
fn div(a: Fix, b: Fix) -> Fix {
    if b == Fix::ZERO {
        return Fix::ZERO;
    }
    let q = ((a.to_bits() as i64) << 16) / b.to_bits() as i64;
    Fix::from_bits(q.clamp(i32::MIN as i64, i32::MAX as i64) as i32)
}

/// `√(x² + y²)` (floor of the exact root of the exact Q32.32 sum of squares).
fn hypot(x: Fix, y: Fix) -> Fix {
    let (x, y) = (x.to_bits() as i64, y.to_bits() as i64);
    let s = (x * x) as u64 + (y * y) as u64; // each < 2^62
    Fix::from_bits(s.isqrt().min(i32::MAX as u64) as i32)
}

/// The world: a walled square arena, a differential-drive vehicle with two directional light
/// sensors, and a light (see the module docs for the physics). Observation `[I_L, I_R]` in `[0, 1]`;
/// action `[v_l, v_r]` in m/s (clamped to `[0, v_max]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arena {
    /// Vehicle centre (m).
    pub x: Fix,
    /// Vehicle centre (m).
    pub y: Fix,
    /// Heading, a unit vector.
    pub hx: Fix,
    /// Heading, a unit vector.
    pub hy: Fix,
    /// Light (m).
    pub light_x: Fix,
    /// Light (m).
    pub light_y: Fix,
    /// Control steps in the current episode.
    pub steps: u32,
    /// The last action reached the light (kept through the `reset` that follows).
    pub reached: bool,
    sensed: Fix,
    size: Fix,
    t: Fix,
    turn: Fix,
    v_max: Fix,
    cos_a: Fix,
    sin_a: Fix,
    inv_falloff: Fix,
    radius: Fix,
    min_jump: Fix,
    timeout: u32,
    gain: Fix,
    bonus: Fix,
}

impl Arena {
    /// The arena of `cfg`, the vehicle in its centre heading along +x, the light placed by the first
    /// `reset`.
    pub fn new(cfg: &Config) -> Result<Arena, ConfigError> {
        let pos = |what: &'static str, v: f32| {
            if v.is_finite() && v > 0.0 {
                fix_from_f32(what, v)
            } else {
                Err(ConfigError::OutOfRange { what, value: v })
            }
        };
        let size = pos("arena side (m, > 0)", cfg.arena)?;
        if cfg.arena > 100.0 {
            return Err(ConfigError::OutOfRange {
                what: "arena side (m, <= 100)",
                value: cfg.arena,
            });
        }
        if !(0.0..=90.0).contains(&cfg.sensor_angle_deg) {
            return Err(ConfigError::OutOfRange {
                what: "sensor angle (degrees, 0..=90)",
                value: cfg.sensor_angle_deg,
            });
        }
        if cfg.timeout == 0 || cfg.period_ms == 0 {
            return Err(ConfigError::Invalid {
                what: "timeout and control period must be at least 1",
            });
        }
        if !(cfg.radius > 0.0 && cfg.radius < cfg.arena / 2.0 && cfg.min_jump < cfg.arena) {
            return Err(ConfigError::Invalid {
                what: "radius must be in (0, arena/2) and min_jump below the arena side",
            });
        }
        let t_s = cfg.period_ms as f32 * DT_MS / 1000.0;
        // The small-angle rotation is accurate (and no product can overflow) for |Δθ| ≤ 0.5 rad.
        let max_turn = cfg.v_max * t_s / cfg.axle;
        if !(max_turn.is_finite() && max_turn > 0.0 && max_turn <= 0.5) {
            return Err(ConfigError::OutOfRange {
                what: "largest turn per control step v_max·T/axle (rad, in (0, 0.5])",
                value: max_turn,
            });
        }
        let (s, c) = sin_cos(cfg.sensor_angle_deg.to_radians());
        let half = size / 2;
        Ok(Arena {
            x: half,
            y: half,
            hx: Fix::ONE,
            hy: Fix::ZERO,
            light_x: half,
            light_y: half,
            steps: 0,
            reached: false,
            sensed: Fix::ZERO,
            size,
            t: pos("control period (s)", t_s)?,
            turn: pos(
                "control period / axle (s/m)",
                t_s / pos("axle (m)", cfg.axle)?.to_num::<f32>(),
            )?,
            v_max: pos("top wheel speed (m/s)", cfg.v_max)?,
            cos_a: fix_from_f32("cos sensor angle", c)?,
            sin_a: fix_from_f32("sin sensor angle", s)?,
            inv_falloff: pos(
                "1 / light falloff (1/m)",
                1.0 / pos("light falloff (m)", cfg.falloff)?.to_num::<f32>(),
            )?,
            radius: pos("target radius (m)", cfg.radius)?,
            min_jump: fix_from_f32("light jump distance (m)", cfg.min_jump.max(0.0))?,
            timeout: cfg.timeout,
            gain: fix_from_f32("reward gain", cfg.reward_gain)?,
            bonus: fix_from_f32("target bonus", cfg.target_bonus)?,
        })
    }

    /// Distance from the vehicle's centre to the light (m).
    pub fn distance(&self) -> Fix {
        hypot(self.light_x - self.x, self.light_y - self.y)
    }

    /// The sensed intensities `(I_L, I_R)`.
    pub fn sense(&self) -> (Fix, Fix) {
        let (ux, uy) = (
            self.light_x.saturating_sub(self.x),
            self.light_y.saturating_sub(self.y),
        );
        let d = hypot(ux, uy);
        let q = mul(d, self.inv_falloff);
        let g = div(Fix::ONE, Fix::ONE.saturating_add(mul(q, q)));
        let (c, s, hx, hy) = (self.cos_a, self.sin_a, self.hx, self.hy);
        let left = (mul(hx, c) - mul(hy, s), mul(hx, s) + mul(hy, c));
        let right = (mul(hx, c) + mul(hy, s), mul(hy, c) - mul(hx, s));
        let see = |(ax, ay): (Fix, Fix)| {
            let cos = if d == Fix::ZERO {
                Fix::ONE
            } else {
                div(mul(ux, ax).saturating_add(mul(uy, ay)), d).clamp(-Fix::ONE, Fix::ONE)
            };
            mul(g, Fix::ONE.saturating_add(cos)) / 2
        };
        (see(left), see(right))
    }

    fn sensed_sum(&self) -> Fix {
        let (l, r) = self.sense();
        l + r
    }

    /// Places the light uniformly (on a 2^16 grid) at least `min_jump` from the vehicle, keeping a
    /// margin of `radius` from the walls; after 8 failed draws the last one stays.
    fn jump(&mut self, rng: &mut Rng) {
        let span = self.size.saturating_sub(self.radius * 2);
        for _ in 0..8 {
            let ux = Fix::from_bits(rng.below(1 << 16) as i32);
            let uy = Fix::from_bits(rng.below(1 << 16) as i32);
            self.light_x = self.radius + mul(span, ux);
            self.light_y = self.radius + mul(span, uy);
            if self.distance() >= self.min_jump {
                break;
            }
        }
    }
}

impl Environment for Arena {
    fn observation_len(&self) -> usize {
        2
    }

    fn action_len(&self) -> usize {
        2
    }

    /// The light jumps (up to 16 [`Rng::below`] draws); the vehicle stays where it is.
    fn reset(&mut self, rng: &mut Rng) {
        self.jump(rng);
        self.steps = 0;
        self.sensed = self.sensed_sum();
    }

    fn observe(&self, obs: &mut [Fix]) {
        let (l, r) = self.sense();
        for (o, v) in obs.iter_mut().zip([l, r]) {
            *o = v;
        }
    }

    /// One control step of the kinematics (module docs); draws nothing.
    fn act(&mut self, action: &[Fix], _rng: &mut Rng) -> Feedback {
        let speed = |i: usize| {
            action
                .get(i)
                .copied()
                .unwrap_or(Fix::ZERO)
                .max(Fix::ZERO)
                .min(self.v_max) // not `clamp`, which can panic
        };
        let (vl, vr) = (speed(0), speed(1));
        // Turn: Δθ = (v_r − v_l)·T/axle, |Δθ| ≤ v_max·T/axle.
        let a = mul(vr - vl, self.turn);
        let a2 = mul(a, a);
        let c = Fix::ONE - a2 / 2;
        let s = a - mul(a2, a) / 6;
        let (hx, hy) = (
            mul(self.hx, c) - mul(self.hy, s),
            mul(self.hx, s) + mul(self.hy, c),
        );
        let n = hypot(hx, hy);
        if n > Fix::ZERO {
            self.hx = div(hx, n);
            self.hy = div(hy, n);
        }
        // Move with the new heading, then the walls.
        let step = mul(self.t, (vl + vr) / 2);
        self.x = self
            .x
            .saturating_add(mul(step, self.hx))
            .max(Fix::ZERO) // not `clamp`, which can panic
            .min(self.size);
        self.y = self
            .y
            .saturating_add(mul(step, self.hy))
            .max(Fix::ZERO)
            .min(self.size);
        let now = self.sensed_sum();
        let mut reward = mul(self.gain, now.saturating_sub(self.sensed));
        self.sensed = now;
        self.steps = self.steps.saturating_add(1);
        self.reached = self.distance() <= self.radius;
        if self.reached {
            reward = reward.saturating_add(self.bonus);
        }
        Feedback {
            reward,
            done: self.reached || self.steps >= self.timeout,
        }
    }
}

impl StateHash for Arena {
    fn hash_into(&self, h: &mut Fnv64) {
        for v in [
            self.x,
            self.y,
            self.hx,
            self.hy,
            self.light_x,
            self.light_y,
            self.sensed,
        ] {
            v.hash_into(h);
        }
        self.steps.hash_into(h);
        self.reached.hash_into(h);
    }
}

/// The brain: sensor cells → motor neurons, plastic (see the module docs).
#[derive(Debug)]
pub struct MotorNet<'a> {
    /// Motor neurons: `0..motor` the left wheel, `motor..2·motor` the right.
    pub pop: Population<'a, Lif>,
    /// Sensor cells (`0..cells` left sensor, then right) → motor neurons, plastic.
    pub input: Plastic<'a, i16, Dense<'a, i16>>,
    /// Running rate ȳ_j of each motor neuron (spikes per ms, Q16.16).
    pub rates: &'a mut [Fix],
    /// `target − ȳ_j` per motor neuron (spikes per ms), the scaling's signal.
    pub deficit: &'a mut [Fix],
    target: Fix,
    rate_gain: Frac,
    noise: Fix,
    n_in: usize,
    modulator: Fix,
    learning: bool,
}

impl Brain for MotorNet<'_> {
    fn input_len(&self) -> usize {
        self.n_in
    }

    fn output_len(&self) -> usize {
        self.pop.len()
    }

    fn step(&mut self, input: &[u16], rng: &mut Rng) {
        for (d, &y) in self.deficit.iter_mut().zip(self.rates.iter()) {
            *d = if self.learning {
                self.target.saturating_sub(y)
            } else {
                Fix::ZERO
            };
        }
        let sig = Signals {
            modulator: self.modulator,
            post_rate: self.rates,
            post_signal: self.deficit,
            ..Signals::NONE
        };
        self.input.propagate(input, self.pop.exc, &sig);
        // Exploration: one Gaussian draw per wheel pool (left, then right), shared by its neurons.
        let pool = (self.pop.len() / 2).max(1);
        for group in self.pop.exc.chunks_mut(pool) {
            let eta = mul(self.noise, rng.normal());
            for e in group {
                *e = e.saturating_add(eta);
            }
        }
        self.pop.step();
        self.input.learn(input, self.pop.spikes.as_slice(), &sig);
        self.modulator = Fix::ZERO;
        // ȳ ← ȳ + α·(s − ȳ), s = 1 spike/ms for a neuron that fired (dt = 1 ms), else 0.
        let mut fired = self.pop.spikes.as_slice().iter().peekable();
        for (j, y) in self.rates.iter_mut().enumerate() {
            let s = if fired.next_if(|&&k| k as usize == j).is_some() {
                Fix::ONE
            } else {
                Fix::ZERO
            };
            *y = y.saturating_add(self.rate_gain.mul(s.saturating_sub(*y)));
        }
    }

    fn output(&self) -> &[u16] {
        self.pop.spikes.as_slice()
    }

    /// Holds δ for the next step, or 0 while reward learning is switched off
    /// ([`Network::set_learning`]).
    fn modulate(&mut self, signal: Modulation) {
        self.modulator = if self.learning {
            signal.third_factor
        } else {
            Fix::ZERO
        };
    }

    /// Neurons to rest, pending input and spikes cleared; weights, traces, eligibilities and rates
    /// kept.
    fn reset(&mut self) {
        let rest = self.pop.model.rest_state();
        self.pop.state.fill(rest);
        self.pop.exc.fill(Fix::ZERO);
        self.pop.inh.fill(Fix::ZERO);
        self.pop.spikes.clear();
    }
}

/// Caller-provided storage; sizes from [`Config`]: `N = 2·cells`, `M = 2·motor`.
#[derive(Debug)]
pub struct Storage<'a> {
    /// `M` neuron states.
    pub neurons: &'a mut [LifState],
    /// `M` excitatory inputs.
    pub exc: &'a mut [Fix],
    /// `M` inhibitory inputs.
    pub inh: &'a mut [Fix],
    /// `M` spike slots.
    pub spikes: &'a mut [u16],
    /// `N · M` weights.
    pub w: &'a mut [i16],
    /// `M` accumulators.
    pub acc: &'a mut [i32],
    /// `N` presynaptic traces.
    pub pre_traces: &'a mut [Fix],
    /// `N · M` eligibilities.
    pub eligibility: &'a mut [Fix],
    /// `M` running motor rates.
    pub rates: &'a mut [Fix],
    /// `M` rate deficits (the scaling's signal).
    pub deficit: &'a mut [Fix],
    /// 2 encoder probabilities.
    pub prob: &'a mut [Frac],
    /// 2 decoder counts.
    pub counts: &'a mut [u32],
    /// 2 observations.
    pub observation: &'a mut [Fix],
    /// 2 actions.
    pub action: &'a mut [Fix],
    /// `N` input spike slots.
    pub input_spikes: &'a mut [u16],
}

/// Sensor cells of the default configuration, both sides (`2 · cells`).
pub const DEFAULT_INPUTS: usize = 32;
/// Motor neurons of the default configuration, both sides (`2 · motor`).
pub const DEFAULT_MOTORS: usize = 32;

/// Storage of the default configuration ([`DEFAULT_INPUTS`] → [`DEFAULT_MOTORS`]) in plain arrays: a
/// `static` on a board (`const fn new`), a local in tests.
#[derive(Debug)]
pub struct Arrays {
    neurons: [LifState; DEFAULT_MOTORS],
    exc: [Fix; DEFAULT_MOTORS],
    inh: [Fix; DEFAULT_MOTORS],
    spikes: [u16; DEFAULT_MOTORS],
    w: [i16; DEFAULT_INPUTS * DEFAULT_MOTORS],
    acc: [i32; DEFAULT_MOTORS],
    pre_traces: [Fix; DEFAULT_INPUTS],
    eligibility: [Fix; DEFAULT_INPUTS * DEFAULT_MOTORS],
    rates: [Fix; DEFAULT_MOTORS],
    deficit: [Fix; DEFAULT_MOTORS],
    prob: [Frac; 2],
    counts: [u32; 2],
    observation: [Fix; 2],
    action: [Fix; 2],
    input_spikes: [u16; DEFAULT_INPUTS],
}

impl Arrays {
    /// Zeroed storage (the network sets its starting state when built).
    pub const fn new() -> Arrays {
        const REST: LifState = LifState {
            v: Fix::ZERO,
            g_exc: Fix::ZERO,
            g_inh: Fix::ZERO,
            refractory: 0,
        };
        Arrays {
            neurons: [REST; DEFAULT_MOTORS],
            exc: [Fix::ZERO; DEFAULT_MOTORS],
            inh: [Fix::ZERO; DEFAULT_MOTORS],
            spikes: [0; DEFAULT_MOTORS],
            w: [0; DEFAULT_INPUTS * DEFAULT_MOTORS],
            acc: [0; DEFAULT_MOTORS],
            pre_traces: [Fix::ZERO; DEFAULT_INPUTS],
            eligibility: [Fix::ZERO; DEFAULT_INPUTS * DEFAULT_MOTORS],
            rates: [Fix::ZERO; DEFAULT_MOTORS],
            deficit: [Fix::ZERO; DEFAULT_MOTORS],
            prob: [Frac::ZERO; 2],
            counts: [0; 2],
            observation: [Fix::ZERO; 2],
            action: [Fix::ZERO; 2],
            input_spikes: [0; DEFAULT_INPUTS],
        }
    }

    /// The storage view for [`Network::new`].
    pub fn storage(&mut self) -> Storage<'_> {
        Storage {
            neurons: &mut self.neurons,
            exc: &mut self.exc,
            inh: &mut self.inh,
            spikes: &mut self.spikes,
            w: &mut self.w,
            acc: &mut self.acc,
            pre_traces: &mut self.pre_traces,
            eligibility: &mut self.eligibility,
            rates: &mut self.rates,
            deficit: &mut self.deficit,
            prob: &mut self.prob,
            counts: &mut self.counts,
            observation: &mut self.observation,
            action: &mut self.action,
            input_spikes: &mut self.input_spikes,
        }
    }
}

impl Default for Arrays {
    fn default() -> Self {
        Arrays::new()
    }
}

/// The loop's type: the same agent whatever its world (the simulated [`Arena`] by default, the
/// [`SensedLight`] of a real robot on a board).
pub type VehicleAgent<'a, W = Arena> =
    Agent<'a, W, MotorNet<'a>, RateGroups<'a>, RateDecoder<'a>, RewardPrediction>;

/// What a [`Network`] needs of its world besides [`Environment`] (observation `[I_L, I_R]` in
/// `[0, 1]`, action `[v_l, v_r]` in m/s): whether the last action reached the light, an episode's
/// success.
pub trait LightWorld: Environment {
    /// The last action reached the light (read right after an episode ends).
    fn reached(&self) -> bool;
}

impl LightWorld for Arena {
    fn reached(&self) -> bool {
        self.reached
    }
}

/// The world of a real vehicle: the board reads its two light sensors and hands the intensities in
/// with [`SensedLight::set_sensors`] before each network step; the agent's wheel speeds come back in
/// [`SensedLight::wheels`] after each control step. Observation and reward are the [`Arena`]'s,
/// computed from measured instead of simulated intensities:
///
/// - observation `[I_L, I_R]`, each clamped to `[0, 1]`; a **missing** sensor (the board could not
///   trust its reading) reads 0, "no light", as `engram-board`'s fault policy prescribes;
/// - reward per control step `reward_gain · (ΔI_L + ΔI_R)` (the increase of the sensed light since the
///   previous control step), plus `target_bonus` when the light is reached; the reward is **0** when a
///   sensor is missing now or was at the previous control step (a fault is not light lost or gained);
/// - the light is reached when `I_L + I_R ≥ reach_level` (if set, [`SensedLight::set_reach_level`]);
///   an episode ends then or after `timeout` control steps. The world draws nothing from the [`Rng`]
///   (there is no light to move: a person moves the lamp).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SensedLight {
    left: Option<Fix>,
    right: Option<Fix>,
    /// `I_L + I_R` at the previous control step, `None` if a sensor was missing then.
    sensed: Option<Fix>,
    wheels: (Fix, Fix),
    steps: u32,
    reached: bool,
    reach: Option<Fix>,
    v_max: Fix,
    gain: Fix,
    bonus: Fix,
    timeout: u32,
}

impl SensedLight {
    /// The world of `cfg` (uses `v_max`, `reward_gain`, `target_bonus`, `timeout`); sensors missing
    /// until the first [`SensedLight::set_sensors`], wheels stopped, no reach level.
    pub fn new(cfg: &Config) -> Result<SensedLight, ConfigError> {
        if cfg.timeout == 0 {
            return Err(ConfigError::Invalid {
                what: "timeout must be at least 1",
            });
        }
        if !(cfg.v_max.is_finite() && cfg.v_max > 0.0) {
            return Err(ConfigError::OutOfRange {
                what: "top wheel speed (m/s, > 0)",
                value: cfg.v_max,
            });
        }
        Ok(SensedLight {
            left: None,
            right: None,
            sensed: None,
            wheels: (Fix::ZERO, Fix::ZERO),
            steps: 0,
            reached: false,
            reach: None,
            v_max: fix_from_f32("top wheel speed (m/s)", cfg.v_max)?,
            gain: fix_from_f32("reward gain", cfg.reward_gain)?,
            bonus: fix_from_f32("target bonus", cfg.target_bonus)?,
            timeout: cfg.timeout,
        })
    }

    /// The latest readings, `None` for a missing sensor; values are clamped to `[0, 1]`.
    pub fn set_sensors(&mut self, left: Option<Fix>, right: Option<Fix>) {
        let unit = |v: Fix| v.clamp(Fix::ZERO, Fix::ONE);
        self.left = left.map(unit);
        self.right = right.map(unit);
    }

    /// The latest readings as set.
    pub fn sensors(&self) -> (Option<Fix>, Option<Fix>) {
        (self.left, self.right)
    }

    /// Both sensors are present.
    pub fn sensors_present(&self) -> bool {
        self.left.is_some() && self.right.is_some()
    }

    /// The light counts as reached when `I_L + I_R ≥ level` (`None`: never; episodes end by timeout).
    pub fn set_reach_level(&mut self, level: Option<Fix>) {
        self.reach = level;
    }

    /// The wheel speeds of the last action (m/s, each in `[0, v_max]`; 0 before the first).
    pub fn wheels(&self) -> (Fix, Fix) {
        self.wheels
    }

    /// The top wheel speed (m/s): a wheel's speed over this is its motor's duty cycle.
    pub fn v_max(&self) -> Fix {
        self.v_max
    }

    /// Control steps in the current episode.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    fn sum(&self) -> Option<Fix> {
        Some(self.left?.saturating_add(self.right?))
    }
}

impl Environment for SensedLight {
    fn observation_len(&self) -> usize {
        2
    }

    fn action_len(&self) -> usize {
        2
    }

    /// A new episode: the step count restarts, the reward's reference is the current reading.
    fn reset(&mut self, _rng: &mut Rng) {
        self.steps = 0;
        self.sensed = self.sum();
    }

    fn observe(&self, obs: &mut [Fix]) {
        let values = [
            self.left.unwrap_or(Fix::ZERO),
            self.right.unwrap_or(Fix::ZERO),
        ];
        for (o, v) in obs.iter_mut().zip(values) {
            *o = v;
        }
    }

    /// Stores the wheel speeds for the board and pays for the light gained; draws nothing.
    fn act(&mut self, action: &[Fix], _rng: &mut Rng) -> Feedback {
        let speed = |i: usize| {
            action
                .get(i)
                .copied()
                .unwrap_or(Fix::ZERO)
                .clamp(Fix::ZERO, self.v_max)
        };
        self.wheels = (speed(0), speed(1));
        let now = self.sum();
        let mut reward = match (now, self.sensed) {
            (Some(now), Some(before)) => mul(self.gain, now.saturating_sub(before)),
            _ => Fix::ZERO,
        };
        self.sensed = now;
        self.steps = self.steps.saturating_add(1);
        self.reached = matches!((now, self.reach), (Some(now), Some(level)) if now >= level);
        if self.reached {
            reward = reward.saturating_add(self.bonus);
        }
        Feedback {
            reward,
            done: self.reached || self.steps >= self.timeout,
        }
    }
}

impl LightWorld for SensedLight {
    fn reached(&self) -> bool {
        self.reached
    }
}

/// One finished episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Episode index (0-based).
    pub index: u64,
    /// Control steps it lasted (the time to target when `success`).
    pub steps: u32,
    /// Sum of its rewards.
    pub reward: Fix,
    /// The light was reached (not a timeout).
    pub success: bool,
}

/// The running experiment.
#[derive(Debug)]
pub struct Network<'a, W = Arena> {
    /// The closed loop (world, brain, encoder, decoder, critic).
    pub agent: VehicleAgent<'a, W>,
    rng: Rng,
    episodes: u64,
    episode_steps: u32,
    episode_reward: Fix,
    last_reward: Fix,
    baseline_episodes: u32,
    last: Option<Outcome>,
}

impl<'a> Network<'a, Arena> {
    /// Validates `cfg` and builds the experiment on `st`, in the simulated [`Arena`].
    pub fn new(cfg: &Config, st: Storage<'a>) -> Result<Network<'a>, ConfigError> {
        Self::build(cfg, st, Arena::new)
    }
}

impl<'a, W: LightWorld> Network<'a, W> {
    /// Validates `cfg` and builds the same agent as [`Network::new`] on `st`, in `world` (a board's
    /// [`SensedLight`]). The brain, its initial weights and the random streams are those of
    /// [`Network::new`] with the same `cfg`.
    pub fn with_world(cfg: &Config, st: Storage<'a>, world: W) -> Result<Self, ConfigError> {
        Self::build(cfg, st, |_| Ok(world))
    }

    /// The shared constructor: `make_world` is called where the arena used to be built, so the order
    /// of validation (and the first error reported) is unchanged.
    fn build(
        cfg: &Config,
        st: Storage<'a>,
        make_world: impl FnOnce(&Config) -> Result<W, ConfigError>,
    ) -> Result<Self, ConfigError> {
        if cfg.cells == 0 || cfg.motor == 0 {
            return Err(ConfigError::Invalid {
                what: "phototaxis needs sensor cells and motor neurons",
            });
        }
        let nonneg = |what: &'static str, v: f32| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(ConfigError::OutOfRange { what, value: v })
            }
        };
        nonneg("learning rate (>= 0)", cfg.lr)?;
        nonneg("weight jitter (mV, >= 0)", cfg.w_jitter)?;
        nonneg("eligibility amplitude a (mV, >= 0)", cfg.a)?;
        nonneg("motor exploration noise (mV, >= 0)", cfg.motor_noise_mv)?;
        nonneg("synaptic scaling rate (>= 0)", cfg.scaling)?;
        nonneg("reward gain (>= 0)", cfg.reward_gain)?;
        if !(cfg.baseline_rate.is_finite() && cfg.baseline_rate > 0.0 && cfg.baseline_rate < 1.0) {
            return Err(ConfigError::OutOfRange {
                what: "critic baseline rate (in (0, 1))",
                value: cfg.baseline_rate,
            });
        }
        let lo = cfg.w_init - cfg.w_jitter;
        let hi = cfg.w_init + cfg.w_jitter;
        if !(lo >= cfg.weights.w_min && hi <= cfg.weights.w_max) {
            return Err(ConfigError::OutOfRange {
                what: "initial weights w_init ± w_jitter (within the weight bounds)",
                value: cfg.w_init,
            });
        }
        let (n, m) = (2 * cfg.cells, 2 * cfg.motor);
        check_len("motor neurons", m, st.neurons.len())?;
        check_len("sensor->motor weights", n * m, st.w.len())?;
        check_len("encoder probabilities", 2, st.prob.len())?;
        let env = make_world(cfg)?;
        let fmt = cfg.weights;
        let scale = fmt.scale()?;
        let mut init = Rng::stream(cfg.seed, 0x9407_07A5);
        let (rlo, rhi) = (scale.raw_from_f32(lo), scale.raw_from_f32(hi));
        let span = (rhi - rlo) as u32 + 1;
        for w in st.w.iter_mut() {
            *w = (rlo + init.below(span) as i32) as i16;
        }
        let lif = Lif::new(cfg.neuron(), DT_MS)?;
        st.neurons.fill(lif.rest_state());
        let pop = Population::new(lif, st.neurons, st.exc, st.inh, st.spikes)?;
        let rule = Rule::new::<i16>(&cfg.rule(), &fmt, scale, DT_MS)?;
        let input = Plastic::new(
            Dense::new(n, m, st.w, st.acc, scale)?,
            rule,
            RuleStorage {
                pre_traces: st.pre_traces,
                post_traces: &mut [],
                eligibility: st.eligibility,
                theta: &mut [],
            },
            cfg.seed ^ 0x70,
        )?;
        check_len("motor rates", m, st.rates.len())?;
        check_len("motor rate deficits", m, st.deficit.len())?;
        st.rates.fill(Fix::ZERO);
        st.deficit.fill(Fix::ZERO);
        if !(cfg.target_hz.is_finite() && cfg.target_hz >= 0.0 && cfg.target_hz <= 1000.0 / DT_MS) {
            return Err(ConfigError::OutOfRange {
                what: "motor target rate (Hz, 0..=1000)",
                value: cfg.target_hz,
            });
        }
        let brain = MotorNet {
            pop,
            input,
            rates: st.rates,
            deficit: st.deficit,
            target: fix_from_f32(
                "motor target rate (spikes/ms)",
                cfg.target_hz * DT_MS / 1000.0,
            )?,
            rate_gain: Frac::gain("motor rate tau", cfg.tau_rate_ms, DT_MS)?,
            noise: fix_from_f32("motor noise (mV)", cfg.motor_noise_mv)?,
            n_in: n,
            modulator: Fix::ZERO,
            learning: cfg.baseline_episodes == 0,
        };
        let encoder = RateGroups::new(cfg.cells, cfg.sensor_hz, DT_MS, st.prob)?;
        let decoder = RateDecoder::new(
            RateDecoderParams {
                neurons_per_channel: cfg.motor,
                window_steps: cfg.period_ms,
                full_scale_hz: cfg.motor_full_hz,
                lo: 0.0,
                hi: cfg.v_max,
            },
            DT_MS,
            st.counts,
        )?;
        let critic = RewardPrediction::new(
            RewardPredictionParams {
                baseline: Averaging::Rate {
                    alpha: cfg.baseline_rate,
                },
                initial_baseline: 0.0,
            },
            cfg.period_ms as f32 * DT_MS,
        )?;
        let agent = Agent::new(
            env,
            brain,
            encoder,
            decoder,
            AgentBuffers {
                observation: st.observation,
                action: st.action,
                input_spikes: st.input_spikes,
            },
            cfg.period_ms,
        )?
        .with_critic(critic);
        Ok(Network {
            agent,
            rng: Rng::new(cfg.seed),
            episodes: 0,
            episode_steps: 0,
            episode_reward: Fix::ZERO,
            last_reward: Fix::ZERO,
            last: None,
            baseline_episodes: cfg.baseline_episodes,
        })
    }

    /// One 1-ms step of the loop.
    pub fn step(&mut self) {
        let report = self.agent.step(&mut self.rng);
        if let Some(fb) = report.feedback {
            self.last_reward = fb.reward;
            self.episode_reward = self.episode_reward.saturating_add(fb.reward);
            self.episode_steps = self.episode_steps.saturating_add(1);
            if fb.done {
                // The agent has already reset the arena (the light jumped); `reached` is kept.
                self.last = Some(Outcome {
                    index: self.episodes,
                    steps: self.episode_steps,
                    reward: self.episode_reward,
                    success: self.agent.env().reached(),
                });
                self.episodes += 1;
                if self.episodes == u64::from(self.baseline_episodes) {
                    self.set_learning(true);
                }
                self.episode_steps = 0;
                self.episode_reward = Fix::ZERO;
            }
        }
    }

    /// Switches plasticity on (the default) or off. Off, the brain receives δ = 0 and the scaling's
    /// signal is 0, so the weights stay exactly as they are (traces and eligibilities still run):
    /// how the tests measure the time to target before and after learning.
    pub fn set_learning(&mut self, on: bool) {
        self.agent.brain_mut().learning = on;
    }

    /// Episodes finished.
    pub fn episodes(&self) -> u64 {
        self.episodes
    }

    /// The last finished episode.
    pub fn last_outcome(&self) -> Option<Outcome> {
        self.last
    }

    /// The world.
    pub fn world(&self) -> &W {
        self.agent.env()
    }

    /// The world, mutable (a board hands in its sensor readings through it).
    pub fn world_mut(&mut self) -> &mut W {
        self.agent.env_mut()
    }

    /// Whether plasticity is on ([`Network::set_learning`]).
    pub fn learning(&self) -> bool {
        self.agent.brain().learning
    }

    /// The last control step's reward.
    pub fn last_reward(&self) -> Fix {
        self.last_reward
    }

    /// The spikes of the last step per population, for the host's recorder: `sensors` (the sensor
    /// cells, left then right) and `motor` (left wheel then right), each with its size.
    pub fn visit_spikes(&self, visit: &mut dyn FnMut(&'static str, usize, &[u16])) {
        let b = self.agent.brain();
        visit("sensors", b.n_in, self.agent.input_spikes());
        visit("motor", b.pop.len(), b.pop.spikes.as_slice());
    }

    /// The plastic weights (mV) with their bounds: `sensor->motor`, row-major by sensor cell.
    pub fn visit_weights(&self, visit: &mut WeightVisitor<'_>) {
        let p = &self.agent.brain().input;
        let scale = p.proj.scale();
        let (lo, hi) = p.rule().bounds();
        let mut it = p.proj.weights().iter().map(|&w| scale.to_f32(w as i32));
        visit(
            "sensor->motor",
            (scale.to_f32(lo), scale.to_f32(hi)),
            &mut it,
        );
    }

    /// Mean weight (mV) of the four sensor→motor blocks: `[L→L, L→R, R→L, R→R]` (crossed: the middle
    /// two). A report.
    pub fn block_weights(&self) -> [f32; 4] {
        let proj = &self.agent.brain().input.proj;
        let (n, m) = (proj.n_pre(), proj.n_post());
        let (cells, motor) = (n / 2, m / 2);
        let mut sum = [0i64; 4];
        for (i, row) in proj.weights().chunks_exact(m.max(1)).enumerate() {
            for (j, &w) in row.iter().enumerate() {
                let b = 2 * usize::from(i >= cells) + usize::from(j >= motor);
                if let Some(s) = sum.get_mut(b) {
                    *s += w as i64;
                }
            }
        }
        let lsb = proj.scale().to_f32(1);
        sum.map(|s| lsb * s as f32 / (cells * motor).max(1) as f32)
    }
}

impl Network<'_, Arena> {
    /// The world.
    pub fn arena(&self) -> &Arena {
        self.agent.env()
    }

    /// The metrics, in this fixed order: `objective` (the critic's running mean reward), `reward`
    /// (last control step), `x`, `y` (m), `heading` (rad, `atan2` of the heading vector), `light_x`,
    /// `light_y` (m), `distance` (m), `sensor_left`, `sensor_right` (last observation),
    /// `steering` (mean crossed minus mean uncrossed weight, mV: > 0 is Braitenberg's
    /// "aggression" wiring), `episodes`. Floats: reports only.
    pub fn visit_metrics(&self, visit: &mut dyn FnMut(&'static str, f32)) {
        let a = self.arena();
        let f = |x: Fix| x.to_num::<f32>();
        let w = self.block_weights();
        let obs = self.agent.observation();
        visit("objective", f(self.agent.critic().baseline()));
        visit("reward", f(self.last_reward));
        visit("x", f(a.x));
        visit("y", f(a.y));
        visit("heading", atan2_approx(f(a.hy), f(a.hx)));
        visit("light_x", f(a.light_x));
        visit("light_y", f(a.light_y));
        visit("distance", f(a.distance()));
        visit("sensor_left", obs.first().copied().map_or(0.0, f));
        visit("sensor_right", obs.get(1).copied().map_or(0.0, f));
        visit("steering", (w[1] + w[2] - w[0] - w[3]) / 2.0);
        visit("episodes", self.episodes as f32);
    }
}

/// Each run to the light (or timeout) is an episode; success = the light was reached.
impl crate::Observe for Network<'_> {
    fn spikes(&self, visit: &mut dyn FnMut(&'static str, usize, &[u16])) {
        self.visit_spikes(visit);
    }

    fn metrics(&self, visit: &mut dyn FnMut(&'static str, f32)) {
        self.visit_metrics(visit);
    }

    fn weights(&self, visit: &mut WeightVisitor<'_>) {
        self.visit_weights(visit);
    }

    fn last_episode(&self) -> Option<crate::Episode> {
        self.last.map(|o| crate::Episode {
            index: o.index as u32,
            steps: o.steps,
            reward: o.reward.to_num(),
            success: o.success,
        })
    }
}

impl Simulation for Network<'_> {
    fn step(&mut self) {
        Network::step(self);
    }

    fn steps(&self) -> u64 {
        self.agent.steps()
    }

    fn spike_count(&self) -> usize {
        self.agent.brain().pop.spikes.len()
    }

    fn spikes_hash(&self) -> u64 {
        self.agent.brain().pop.spikes.as_slice().state_hash()
    }

    /// Parts: `arena` (vehicle, light, sensed light, episode step, reached), `neurons`, `exc`, `inh`,
    /// `spikes` (motor population), `input.synapses` (weights, accumulators), `input.rule` (traces,
    /// eligibilities, rounding generator, tick phase), `modulator` (pending δ), `encoder` (sensor
    /// cells' probabilities), `decoder` (counts), `critic` (baseline, reward, δ), `agent` (step,
    /// episode, observation, action), `rng`, `stats` (episodes, episode steps and reward, last reward).
    fn hash_parts(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        let a = &self.agent;
        let b = a.brain();
        visit("arena", a.env().state_hash());
        visit("neurons", (*b.pop.state).state_hash());
        visit("exc", (*b.pop.exc).state_hash());
        visit("inh", (*b.pop.inh).state_hash());
        visit("spikes", b.pop.spikes.as_slice().state_hash());
        visit("input.synapses", b.input.proj.state_hash());
        let mut h = Fnv64::new();
        hash_rule_state(&b.input, &mut h);
        visit("input.rule", h.finish());
        visit("rates", (*b.rates).state_hash());
        visit("deficit", (*b.deficit).state_hash());
        let mut h = Fnv64::new();
        b.modulator.hash_into(&mut h);
        b.learning.hash_into(&mut h);
        visit("modulator", h.finish());
        visit("encoder", a.encoder().probabilities().state_hash());
        visit("decoder", a.decoder().counts().state_hash());
        visit("critic", a.critic().state_hash());
        let mut h = Fnv64::new();
        a.steps().hash_into(&mut h);
        a.episode().hash_into(&mut h);
        a.observation().hash_into(&mut h);
        a.action().hash_into(&mut h);
        visit("agent", h.finish());
        visit("rng", self.rng.state_hash());
        let mut h = Fnv64::new();
        self.episodes.hash_into(&mut h);
        self.episode_steps.hash_into(&mut h);
        self.episode_reward.hash_into(&mut h);
        self.last_reward.hash_into(&mut h);
        visit("stats", h.finish());
    }
}

/// Heap-owned storage for the host.
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct Buffers {
    neurons: Vec<LifState>,
    exc: Vec<Fix>,
    inh: Vec<Fix>,
    spikes: Vec<u16>,
    w: Vec<i16>,
    acc: Vec<i32>,
    pre_traces: Vec<Fix>,
    eligibility: Vec<Fix>,
    rates: Vec<Fix>,
    deficit: Vec<Fix>,
    prob: Vec<Frac>,
    counts: Vec<u32>,
    observation: Vec<Fix>,
    action: Vec<Fix>,
    input_spikes: Vec<u16>,
}

#[cfg(feature = "std")]
impl Buffers {
    /// Buffers sized for `cfg`.
    pub fn new(cfg: &Config) -> Buffers {
        let (n, m) = (2 * cfg.cells, 2 * cfg.motor);
        Buffers {
            neurons: vec![LifState::default(); m],
            exc: vec![Fix::ZERO; m],
            inh: vec![Fix::ZERO; m],
            spikes: vec![0; m],
            w: vec![0; n * m],
            acc: vec![0; m],
            pre_traces: vec![Fix::ZERO; n],
            eligibility: vec![Fix::ZERO; n * m],
            rates: vec![Fix::ZERO; m],
            deficit: vec![Fix::ZERO; m],
            prob: vec![Frac::ZERO; 2],
            counts: vec![0; 2],
            observation: vec![Fix::ZERO; 2],
            action: vec![Fix::ZERO; 2],
            input_spikes: vec![0; n],
        }
    }

    /// The storage view for [`Network::new`].
    pub fn storage(&mut self) -> Storage<'_> {
        Storage {
            neurons: &mut self.neurons,
            exc: &mut self.exc,
            inh: &mut self.inh,
            spikes: &mut self.spikes,
            w: &mut self.w,
            acc: &mut self.acc,
            pre_traces: &mut self.pre_traces,
            eligibility: &mut self.eligibility,
            rates: &mut self.rates,
            deficit: &mut self.deficit,
            prob: &mut self.prob,
            counts: &mut self.counts,
            observation: &mut self.observation,
            action: &mut self.action,
            input_spikes: &mut self.input_spikes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(x: f32) -> Fix {
        Fix::from_num(x)
    }

    #[test]
    fn sensed_light_pays_the_increase_and_nothing_across_a_fault() {
        let cfg = Config::default();
        let mut w = SensedLight::new(&cfg).unwrap();
        let mut rng = Rng::new(1);
        w.set_sensors(Some(fix(0.25)), Some(fix(0.25)));
        w.reset(&mut rng);
        let mut obs = [Fix::ZERO; 2];
        w.observe(&mut obs);
        assert_eq!(obs, [fix(0.25), fix(0.25)]);
        w.set_sensors(Some(fix(0.5)), Some(fix(0.25)));
        let fb = w.act(&[fix(0.5), fix(9.0)], &mut rng);
        // reward_gain 50 · ΔI 0.25
        assert_eq!(fb.reward, fix(12.5));
        assert!(!fb.done);
        assert_eq!(w.wheels(), (fix(0.5), fix(1.0)), "clamped to v_max");
        // A missing sensor: observation 0 on that side, no reward now nor on its return.
        w.set_sensors(None, Some(fix(0.25)));
        w.observe(&mut obs);
        assert_eq!(obs, [Fix::ZERO, fix(0.25)]);
        assert!(!w.sensors_present());
        assert_eq!(w.act(&[Fix::ZERO; 2], &mut rng).reward, Fix::ZERO);
        w.set_sensors(Some(fix(1.0)), Some(fix(1.0)));
        assert_eq!(w.act(&[Fix::ZERO; 2], &mut rng).reward, Fix::ZERO);
        w.set_sensors(Some(fix(0.75)), Some(fix(1.5)));
        assert_eq!(
            w.act(&[Fix::ZERO; 2], &mut rng).reward,
            fix(-12.5),
            "values clamped to [0, 1]"
        );
    }

    #[test]
    fn sensed_light_episodes_end_at_the_reach_level_or_the_timeout() {
        let cfg = Config {
            timeout: 3,
            target_bonus: 2.0,
            ..Config::default()
        };
        let mut w = SensedLight::new(&cfg).unwrap();
        let mut rng = Rng::new(1);
        w.set_sensors(Some(fix(0.5)), Some(fix(0.5)));
        w.reset(&mut rng);
        assert!(!w.act(&[Fix::ZERO; 2], &mut rng).done);
        assert!(!w.act(&[Fix::ZERO; 2], &mut rng).done);
        assert!(w.act(&[Fix::ZERO; 2], &mut rng).done, "timeout");
        assert!(!w.reached());
        w.reset(&mut rng);
        w.set_reach_level(Some(fix(1.5)));
        w.set_sensors(Some(fix(0.75)), Some(fix(0.75)));
        let fb = w.act(&[Fix::ZERO; 2], &mut rng);
        assert!(fb.done && w.reached());
        assert_eq!(fb.reward, fix(50.0 * 0.5 + 2.0));
        assert!(SensedLight::new(&Config { timeout: 0, ..cfg }).is_err());
    }

    #[test]
    fn the_board_agent_is_the_simulated_one() {
        let cfg = Config::check(3);
        let (mut a, mut b) = (Arrays::new(), Arrays::new());
        let sim = Network::new(&cfg, a.storage()).unwrap();
        let world = SensedLight::new(&cfg).unwrap();
        let board = Network::with_world(&cfg, b.storage(), world).unwrap();
        assert_eq!(
            sim.agent.brain().input.proj.weights(),
            board.agent.brain().input.proj.weights()
        );
        assert_eq!(sim.block_weights(), board.block_weights());
        drop((sim, board));
        // The board's network learns from measured light: a light on the left, brighter whenever the
        // vehicle turned left (the right wheel faster), runs without panicking and pays rewards.
        let mut board =
            Network::with_world(&cfg, b.storage(), SensedLight::new(&cfg).unwrap()).unwrap();
        let mut paid = false;
        let mut heading = 0.0f32;
        for _ in 0..2000 {
            let (vl, vr) = board.world().wheels();
            heading += (vr - vl).to_num::<f32>() * 0.02 / 0.05 / 20.0;
            let seen = (0.5 + heading.clamp(-0.5, 0.5)).clamp(0.0, 1.0);
            board
                .world_mut()
                .set_sensors(Some(fix(seen)), Some(fix(1.0 - seen / 2.0)));
            board.step();
            paid |= board.last_reward() != Fix::ZERO;
        }
        assert!(paid);
        assert_eq!(board.agent.steps(), 2000);
    }
}
