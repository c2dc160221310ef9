//! `cartpole`: the cart-pole of Barto, Sutton & Anderson (1983), balanced by a spiking actor-critic
//! learning online from a failure signal alone.
//!
//! | part | here |
//! | --- | --- |
//! | environment | [`CartPole`]: Barto et al.'s equations in fixed point, τ = 0.02 s forward Euler, failure at \|θ\| > 12° or \|x\| > 2.4 m, reward −1 on failure and 0 otherwise; an episode (one balance attempt) also ends, as a success, at [`Config::max_steps`] |
//! | architecture | 4 state variables → [`PopulationEncoder`] (K Gaussian receptive fields each, Poisson spikes) → two action populations of M stochastic spiking neurons (left, right); the population with more spikes in the control period pushes the cart ([`MoreSpikes`]). A critic reads the same input spikes |
//! | learning rule | actor: a three-factor rule on the [`Plastic`] applier, eligibility `e_ij` fed every step by `x_i·(y_j − p_j)` (presynaptic PSP trace × the neuron's spike minus its firing probability), weight change `Δw_ij = η·δ·e_ij`; critic: linear TD(λ) on the input rates (spike counts per control period / K) |
//! | objective | expected discounted return (γ = 0.95): the critic's TD error δ is the third factor. Logged as `objective`: the running mean episode length (env steps, α = 1/8) |
//!
//! ## The world ([`CartPole`])
//! Barto, Sutton & Anderson (1983), with both friction terms zero (μ_c = μ_p = 0, the common
//! formulation, e.g. OpenAI Gym's `CartPole`), force `F = ±10 N`:
//! ```text
//! θ̈ = [g sinθ + cosθ · (−F − m_p l θ̇² sinθ)/(m_c + m_p)] / [l (4/3 − m_p cos²θ/(m_c + m_p))]
//! ẍ = [F + m_p l (θ̇² sinθ − θ̈ cosθ)] / (m_c + m_p)
//! ```
//! g = 9.8 m/s², m_c = 1.0 kg, m_p = 0.1 kg, l = 0.5 m (half the pole), τ = 0.02 s; forward Euler
//! from the old state (`x += τẋ, ẋ += τẍ, θ += τθ̇, θ̇ += τθ̈`). A new episode starts from each state
//! variable uniform in ±0.05 (as Gym; Barto et al. restarted from 0). The all-zero action (no choice)
//! applies no force.
//!
//! **Fixed point.** The state is [`Fix`] (Q16.16: 1.5·10⁻⁵ m, rad). Every product is rounded to
//! nearest and saturates ([`mul`]); the physical constants g, m_p·l, 1/(m_c + m_p) and τ are kept in
//! Q40.24 so their own rounding stays below 2·10⁻⁶ relative (τ = 0.02 in Q16.16 alone would be off
//! by 2·10⁻⁴); `θ̈` is one `i64` division rounded to nearest (its denominator is at least
//! `l·(4/3 − m_p/(m_c + m_p)) > 0`). `sin` and `cos` come from [`sin_cos`]: range reduction and an
//! odd Taylor polynomial to x¹¹ in Q2.30. Measured against `f64` (unit tests): `sin_cos` within
//! 7.6·10⁻⁶ (half an LSB) over ±20 rad; one Euler step from 2000 random states within 8.2·10⁻⁶ in
//! x, ẋ, θ and 2.0·10⁻⁵ rad/s in θ̇ (bounds asserted: 3·10⁻⁵); a 25-step (0.5 s) trajectory of the
//! unstable system under a push pattern within 3.4·10⁻⁵ (asserted: 10⁻⁴).
//!
//! **Observations** are the four variables scaled to `[0, 1]`: `x` over ±2.4 m, `θ` over ±12°, `ẋ`
//! over ±[`Config::v_range`], `θ̇` over ±[`Config::omega_range`] (clamped).
//!
//! ## The brain ([`ActorCritic`]; it sees only observations and feedback)
//! **Actor.** Output neuron j is an escape-noise (SRM₀-like) unit: `u_j = b + Σ_i w_ij x_i`, where
//! `x_i` is input i's spike train filtered with τ_u ([`Config::tau_psp_ms`]), and it spikes in a step
//! with probability `p_j = σ(u_j)` ([`SIGMOID`] table). For this neuron `∂ ln P(spike train)/∂w_ij =
//! Σ_t x_i (y_j − p_j)`, so the eligibility `e_ij` (decaying with τ_e, [`Config::actor_tau_e_ms`]) is
//! the REINFORCE eligibility of spiking policy-gradient rules (Pfister et al. 2006; Frémaux,
//! Sprekeler & Gerstner 2013 use the same actor with a TD third factor). Why this and not e-prop: the
//! actor is feed-forward, so e-prop would reduce to the same eligibility, and the ASE/ACE pairing of
//! Barto et al. is kept: a stochastic actor whose eligibility is modulated by the critic's TD error.
//! A population's spikes are centred (`y − p` has zero mean given the past), so the eligibility of
//! actions taken after the TD error's transition only adds variance, not bias.
//!
//! **Critic (ACE, rate form).** `V_n = Σ_i v_i c_i(n)`, `c_i(n)` the spikes of input i in control
//! period n divided by the period K (a rate in `[0, 1]`, truncated to Q16.16). At the end of period n (the brain's [`Brain::modulate`]) the TD error of the previous
//! transition is `δ = r_{n−1} + γ V_n − V_{n−1}`; `v += β δ ē`, then `ē ← λ ē + c(n)` (ē: the
//! accumulating TD(λ) trace). On failure the terminal error `r − V_n` follows at once (`ē` now
//! including period n). The actor's third factor is the sum of both. The critic is written here, not
//! with [`Plastic`], because exact TD(λ) needs the trace *before* the current period's spikes, while
//! the applier's eligibility takes every step's input as it happens.
//!
//! **Numbers.** Actor weights are `i16` steps of [`Config::weights`] (bounds `±w_max`, hard), the
//! eligibility and traces [`Fix`]; critic weights and traces are [`Fix`], the critic update is one
//! `i64` triple product `β·δ·ē` rounded to nearest and saturated. Spike counts are `u16` (saturating).
//!
//! ## Time
//! The network steps at [`Config::dt_ms`] = 1 ms; the world advances once per control period of
//! τ/dt = 20 steps, so the loop runs in simulated real time. The decision counts the last
//! [`Config::window_steps`] of the period.
//!
//! ## Measured
//! `tests/tests/cartpole.rs`, default config, seed 1: the mean episode length per block of 20
//! episodes grows from 19.7 env steps (0.4 s, a random policy) to 46, 45, 74, 85, 138, 220, 254, 298
//! and 238 (≈ 5–6 s of balance) over 200 episodes (≈ 28 000 env steps, 9.4 min of simulated time);
//! seeds 2 and 3 reach 250 and 343 in the last block. With learning off the blocks stay at 17–26.
//! No episode reached the 1000-step limit within 200 episodes. The run (570 000 network steps)
//! takes ≈ 4 s of CPU in the test profile (opt-level 2, overflow checks) on the shared 2-core
//! machine, ≈ 7 µs per network step (32 Bernoulli inputs, 16 stochastic neurons, the 512-synapse
//! tick sweep of the rule).
//!
//! Tuning that mattered (measured): the critic must read rates (`c/K`), not raw counts — with
//! counts, `β·‖c‖²` was ≈ 1 and the TD error was dominated by the critic's own overshoot; and the
//! actor's weight bound must keep `b + Σ w x` within the sigmoid's useful range (±0.25 here: with ±4
//! the PSPs reached ±100, every `p` saturated to 0 or 1, `y − p` vanished and the policy froze
//! on one side).

use crate::{Episode, Observe, Simulation};
use engram::agent::{Agent, Brain, Buffers as AgentBuffers, Critic, Modulation, RawReward};
use engram::env::{
    Decoder, Environment, Feedback, PopulationEncoder, PopulationEncoderParams, one_hot_index,
};
use engram::hash::{Fnv64, StateHash};
use engram::neuron::Spikes;
use engram::num::{Fix, Frac, Rng, SIGMOID, fix_from_f32, fix_to_f32, mul, sat_i32};
use engram::projection::{Dense, SpikeProjection};
use engram::rule::{
    Factor, Plastic, Post, Pre, Rule, RuleParams, RuleStorage, Signals, TermParams, WeightFormat,
};
use engram::trace::{TraceMode, TraceParams};
use engram::{ConfigError, error::check_len};

/// Observation channels: x, ẋ, θ, θ̇.
pub const CHANNELS: usize = 4;

/// The physics of the world (floats; validated by [`CartPole::new`]).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct Physics {
    /// Gravity g (m/s², 9.8).
    pub gravity: f32,
    /// Cart mass m_c (kg, 1.0).
    pub cart_mass: f32,
    /// Pole mass m_p (kg, 0.1).
    pub pole_mass: f32,
    /// Half the pole length l (m, 0.5).
    pub half_length: f32,
    /// Magnitude of the push (N, 10).
    pub force: f32,
    /// Euler time step τ (s, 0.02).
    pub tau_s: f32,
    /// Failure angle (degrees, 12).
    pub theta_limit_deg: f32,
    /// Failure position (m, 2.4).
    pub x_limit: f32,
}

impl Default for Physics {
    /// Barto, Sutton & Anderson (1983).
    fn default() -> Physics {
        Physics {
            gravity: 9.8,
            cart_mass: 1.0,
            pole_mass: 0.1,
            half_length: 0.5,
            force: 10.0,
            tau_s: 0.02,
            theta_limit_deg: 12.0,
            x_limit: 2.4,
        }
    }
}

/// The experiment's configuration (see the module doc for what each part does).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct Config {
    /// Seed of the one generator (encoder, actor spikes, ties, restarts) and of stochastic rounding.
    pub seed: u64,
    /// Actor weight precision and bounds (`w_min` must be `−w_max`; `soft` is ignored).
    pub weights: WeightFormat,
    /// Learning on (off: the control, weights frozen at 0, a random policy).
    pub learning: bool,
    /// The world.
    pub physics: Physics,
    /// An episode that lasts this many env steps ends as a success (1000 = 20 s).
    pub max_steps: u32,
    /// Network time step (ms); τ/dt must be a whole number of steps.
    pub dt_ms: f32,
    /// Decision window: the last W network steps of each control period.
    pub window_steps: u32,
    /// ẋ range coded by the encoder (± m/s).
    pub v_range: f32,
    /// θ̇ range coded by the encoder (± rad/s).
    pub omega_range: f32,
    /// Receptive fields per state variable, K.
    pub fields: usize,
    /// Receptive-field width σ in units of the field spacing.
    pub sigma_spacing: f32,
    /// Rate of an input neuron at its field centre (Hz).
    pub input_hz: f32,
    /// Neurons per action population, M.
    pub actor_neurons: usize,
    /// Actor input filter τ_u (ms): the PSP and the presynaptic trace of the rule.
    pub tau_psp_ms: f32,
    /// Actor bias b (σ(b) is the firing probability per step with zero weights).
    pub actor_bias: f32,
    /// Actor eligibility time constant τ_e (ms).
    pub actor_tau_e_ms: f32,
    /// Actor learning rate η (weight units per unit of δ and of `Σ x (y − p)`).
    pub actor_lr: f32,
    /// Critic learning rate β.
    pub critic_lr: f32,
    /// Critic trace decay λ per env step.
    pub critic_lambda: f32,
    /// Discount γ per env step.
    pub gamma: f32,
}

impl Default for Config {
    /// The standard run: Barto et al.'s world, 8 fields per variable, 2 × 8 actor neurons.
    fn default() -> Config {
        Config {
            seed: 1,
            weights: WeightFormat::new(16, -0.25, 0.25),
            learning: true,
            physics: Physics::default(),
            max_steps: 1000,
            dt_ms: 1.0,
            window_steps: 20,
            v_range: 1.5,
            omega_range: 2.0,
            fields: 8,
            sigma_spacing: 1.0,
            input_hz: 200.0,
            actor_neurons: 8,
            tau_psp_ms: 10.0,
            actor_bias: -2.0,
            actor_tau_e_ms: 200.0,
            actor_lr: 0.001,
            critic_lr: 0.2,
            critic_lambda: 0.8,
            gamma: 0.95,
        }
    }
}

impl Config {
    /// The bit-exactness check's configuration: the default (≈ 4 KB of state: 512 `i16` weights,
    /// 512 eligibilities, a few hundred bytes more; see [`Storage`]),
    /// with stochastic rounding so the rule's rounding generator is covered too.
    pub fn check(seed: u64) -> Config {
        Config {
            seed,
            weights: WeightFormat {
                rounding: engram::num::Rounding::Stochastic,
                ..Config::default().weights
            },
            ..Config::default()
        }
    }

    /// Input neurons: 4·K.
    pub fn inputs(&self) -> usize {
        CHANNELS * self.fields
    }

    /// Actor neurons: 2·M (left first).
    pub fn outputs(&self) -> usize {
        2 * self.actor_neurons
    }

    /// Network steps per env step, τ/dt (refused unless whole).
    pub fn period_steps(&self) -> Result<u32, ConfigError> {
        let k = self.physics.tau_s as f64 * 1000.0 / self.dt_ms as f64;
        // Round half up by hand (no `f64::round` in `core`); out-of-range `k` is refused below.
        let r = if k.is_finite() && k > 0.0 && k < 1e6 {
            (k + 0.5) as u32 as f64
        } else {
            0.0
        };
        if !k.is_finite() || !(1.0..=10_000.0).contains(&r) || (k - r).abs() > 1e-6 {
            return Err(ConfigError::Invalid {
                what: "cartpole: tau_s / dt must be a whole number of steps (1..=10000)",
            });
        }
        Ok(r as u32)
    }

    /// The actor's rule: tick every step; eligibility `+= x_i·(y_j − p_j)` (in units of
    /// `w_max/`[`ELIG_PER_WMAX`]), weight `+= η · δ · e` (η in weight units per unit of `δ·Σx(y − p)`).
    pub fn rule(&self) -> RuleParams {
        let unit = self.weights.w_max / ELIG_PER_WMAX;
        let mut r = RuleParams::empty();
        let _ = r.pre_traces.push(TraceParams {
            tau_ms: self.tau_psp_ms,
            impulse: 1.0,
            mode: TraceMode::Accumulate,
        });
        let _ = r.tick.push(
            TermParams::new(unit / self.dt_ms, Pre::Trace(0), [Post::Signal, Post::One])
                .into_eligibility(),
        );
        let _ = r.tick.push(
            TermParams::new(
                self.actor_lr / unit / self.dt_ms,
                Pre::One,
                [Post::Modulator, Post::One],
            )
            .times(Factor::Eligibility),
        );
        r.eligibility_tau_ms = Some(self.actor_tau_e_ms);
        r.period = 1;
        r
    }

    fn weight_format(&self) -> Result<WeightFormat, ConfigError> {
        let w = self.weights;
        if w.w_max.is_nan() || w.w_max <= 0.0 || w.w_min != -w.w_max {
            return Err(ConfigError::Invalid {
                what: "cartpole: actor weights need w_min = -w_max < 0",
            });
        }
        Ok(WeightFormat { soft: false, ..w })
    }
}

/// The eligibility holds `Σ x (y − p)` in units of `w_max / ELIG_PER_WMAX` weight units (in raw
/// weight steps, as the applier stores it): at 16 bits one unit of `x (y − p)` is 32 steps, so a
/// τ_e-long sum stays far inside [`Fix`]; at 8 bits it is 1/8 step, still 8192 LSB of [`Fix`].
pub const ELIG_PER_WMAX: f32 = 1024.0;

// ---------------------------------------------------------------------------------------------
// sin / cos

/// Fractional bits of the polynomial's internal format.
const Q: u32 = 30;
const PI_Q: i64 = 3_373_259_426; // round(π·2³⁰)
const HALF_PI_Q: i64 = 1_686_629_713; // round(π/2·2³⁰)
const TWO_PI_Q: i64 = 6_746_518_852; // round(2π·2³⁰)

/// `sin x` for x in Q2.30 within `[−π/2, π/2]`: `x(1 − x²/6(1 − x²/20(1 − x²/42(1 − x²/72(1 −
/// x²/110)))))`, the Taylor series to x¹¹ (truncation < 6·10⁻⁸ at π/2), Horner in Q2.30 with
/// truncating products and divisions (rounding error < 10 · 2⁻³⁰).
fn sin_q30(x: i64) -> i64 {
    const ONE: i64 = 1 << Q;
    let x2 = (x * x) >> Q;
    let mut t = ONE - x2 / 110;
    for d in [72, 42, 20, 6] {
        t = ONE - ((x2 * t) >> Q) / d;
    }
    (x * t) >> Q
}

/// Reduces a Q2.30-or-wider angle to `[−π/2, π/2]` with the same sine.
fn fold_q30(x: i64) -> i64 {
    // To [−π, π]: subtract the nearest multiple of 2π.
    let k = (x + if x >= 0 { PI_Q } else { -PI_Q }) / TWO_PI_Q;
    let x = x - k * TWO_PI_Q;
    if x > HALF_PI_Q {
        PI_Q - x
    } else if x < -HALF_PI_Q {
        -PI_Q - x
    } else {
        x
    }
}

/// `(sin θ, cos θ)` in [`Fix`], for any θ: range reduction by 2π and folding into `[−π/2, π/2]` in
/// Q2.30 (`i64`), then the Taylor polynomial (for the cosine at `θ + π/2`), rounded to nearest Q16.16. Error
/// below 1 LSB (1.5·10⁻⁵; unit test). Written here because the usual crates (`libm`,
/// `micromath`) work in floats and the step path has none; a Q16.16 table would need 2 KB for
/// the same accuracy.
pub fn sin_cos(theta: Fix) -> (Fix, Fix) {
    let x = (theta.to_bits() as i64) << (Q - 16);
    let to_fix = |v: i64| Fix::from_bits(((v + (1 << (Q - 17))) >> (Q - 16)) as i32);
    (
        to_fix(sin_q30(fold_q30(x))),
        to_fix(sin_q30(fold_q30(x + HALF_PI_Q))),
    )
}

// ---------------------------------------------------------------------------------------------
// The world

/// A physical constant in Q40.24 (`i64`, |value| < 128), so that e.g. τ = 0.02 carries a relative
/// error of 1.5·10⁻⁶ rather than Q16.16's 2·10⁻⁴ (which alone gave 6·10⁻⁵ rad/s per step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Coef(i64);

impl Coef {
    const SHIFT: u32 = 24;

    fn new(what: &'static str, v: f64) -> Result<Coef, ConfigError> {
        if !v.is_finite() || v.abs() >= 128.0 {
            return Err(ConfigError::OutOfRange {
                what,
                value: v as f32,
            });
        }
        // Round half away from zero (`f64` → `i64` casts truncate; same bits on every target).
        let x = v * (1u64 << Coef::SHIFT) as f64;
        Ok(Coef(if x >= 0.0 { x + 0.5 } else { x - 0.5 } as i64))
    }

    /// `k·x`, rounded to nearest, saturating (`|x| < 2³¹`, `|k| < 2³¹`: the product fits `i64`).
    fn mul(self, x: Fix) -> Fix {
        Fix::from_bits(sat_i32(engram::num::shr_round(
            x.to_bits() as i64 * self.0,
            Coef::SHIFT,
        )))
    }
}

/// The cart-pole world (see the module doc): state `[x, ẋ, θ, θ̇]` in [`Fix`].
#[derive(Debug, Clone, PartialEq)]
pub struct CartPole {
    /// `[x (m), ẋ (m/s), θ (rad), θ̇ (rad/s)]`.
    pub state: [Fix; 4],
    /// Env steps in the current episode.
    pub t: u32,
    max_steps: u32,
    g: Coef,
    force: Fix,
    /// m_p·l.
    ml: Coef,
    /// 1/(m_c + m_p).
    inv_m: Coef,
    /// 4l/3.
    l43: Fix,
    tau: Coef,
    theta_lim: Fix,
    x_lim: Fix,
    /// 1/(2·range) per channel, for the observation scaling.
    inv_span: [Fix; 4],
}

impl CartPole {
    /// Validates `p` (every parameter positive and finite, τ ≤ 0.1 s, limits representable) and the
    /// observation ranges; episodes end as a success after `max_steps ≥ 1` env steps.
    pub fn new(
        p: &Physics,
        max_steps: u32,
        v_range: f32,
        omega_range: f32,
    ) -> Result<CartPole, ConfigError> {
        let pos = |what: &'static str, v: f32, max: f32| {
            if v.is_finite() && v > 0.0 && v <= max {
                fix_from_f32(what, v)
            } else {
                Err(ConfigError::OutOfRange { what, value: v })
            }
        };
        pos("cartpole gravity", p.gravity, 100.0)?;
        pos("cartpole cart mass", p.cart_mass, 100.0)?;
        pos("cartpole pole mass", p.pole_mass, 100.0)?;
        pos("cartpole half length", p.half_length, 10.0)?;
        let force = pos("cartpole force", p.force, 1000.0)?;
        pos("cartpole tau_s", p.tau_s, 0.1)?;
        pos("cartpole theta limit (deg)", p.theta_limit_deg, 90.0)?;
        let x_lim = pos("cartpole x limit", p.x_limit, 1000.0)?;
        pos("cartpole v range", v_range, 1000.0)?;
        pos("cartpole omega range", omega_range, 1000.0)?;
        if max_steps == 0 {
            return Err(ConfigError::Invalid {
                what: "cartpole: max_steps must be at least 1",
            });
        }
        let theta_lim_f = p.theta_limit_deg as f64 * core::f64::consts::PI / 180.0;
        let m = p.cart_mass as f64 + p.pole_mass as f64;
        let fix64 = |what, v: f64| fix_from_f32(what, v as f32);
        let inv = |r: f64| fix64("cartpole observation scale", 0.5 / r);
        Ok(CartPole {
            state: [Fix::ZERO; 4],
            t: 0,
            max_steps,
            g: Coef::new("cartpole gravity", p.gravity as f64)?,
            force,
            ml: Coef::new("cartpole m_p l", p.pole_mass as f64 * p.half_length as f64)?,
            inv_m: Coef::new("cartpole 1/(m_c+m_p)", 1.0 / m)?,
            l43: fix64("cartpole 4l/3", 4.0 / 3.0 * p.half_length as f64)?,
            tau: Coef::new("cartpole tau_s", p.tau_s as f64)?,
            theta_lim: fix64("cartpole theta limit", theta_lim_f)?,
            x_lim,
            inv_span: [
                inv(p.x_limit as f64)?,
                inv(v_range as f64)?,
                inv(theta_lim_f)?,
                inv(omega_range as f64)?,
            ],
        })
    }

    /// Accelerations `(ẍ, θ̈)` in the current state under force `f` (N).
    pub fn accelerations(&self, f: Fix) -> (Fix, Fix) {
        let [_, _, th, om] = self.state;
        let (s, c) = sin_cos(th);
        // temp = (F + m_p l θ̇² sinθ)/(m_c + m_p)
        let temp = self
            .inv_m
            .mul(f.saturating_add(self.ml.mul(mul(mul(om, om), s))));
        let num = self.g.mul(s).saturating_sub(mul(c, temp));
        // den = l(4/3 − m_p cos²θ/M) = 4l/3 − m_p l cos²θ / M ≥ l(4/3 − m_p/M) > 0
        let den = self
            .l43
            .saturating_sub(self.inv_m.mul(self.ml.mul(mul(c, c))));
        let th_acc = div_round(num, den);
        // ẍ = temp − m_p l θ̈ cosθ / M
        let x_acc = temp.saturating_sub(self.inv_m.mul(self.ml.mul(mul(th_acc, c))));
        (x_acc, th_acc)
    }

    /// One Euler step of τ under force `f` (N).
    pub fn advance(&mut self, f: Fix) {
        let (xa, tha) = self.accelerations(f);
        let [x, v, th, om] = self.state;
        self.state = [
            x.saturating_add(self.tau.mul(v)),
            v.saturating_add(self.tau.mul(xa)),
            th.saturating_add(self.tau.mul(om)),
            om.saturating_add(self.tau.mul(tha)),
        ];
    }

    /// `|θ| > θ_lim` or `|x| > x_lim`.
    pub fn failed(&self) -> bool {
        let [x, _, th, _] = self.state;
        th.saturating_abs() > self.theta_lim || x.saturating_abs() > self.x_lim
    }
}

/// `a / b` rounded to nearest (ties away from zero), saturating; 0 if `b` is 0.
fn div_round(a: Fix, b: Fix) -> Fix {
    let (n, d) = ((a.to_bits() as i64) << 16, b.to_bits() as i64);
    if d == 0 {
        return Fix::ZERO;
    }
    let half = d.abs() / 2;
    let q = if (n >= 0) == (d > 0) {
        (n + half * d.signum()) / d
    } else {
        (n - half * d.signum()) / d
    };
    Fix::from_bits(sat_i32(q))
}

impl Environment for CartPole {
    fn observation_len(&self) -> usize {
        CHANNELS
    }

    fn action_len(&self) -> usize {
        2
    }

    /// Each variable uniform in `[−0.05, 0.05)` (four draws).
    fn reset(&mut self, rng: &mut Rng) {
        let tenth = Fix::from_bits(6554); // 0.1
        let half = Fix::from_bits(3277); // 0.05
        for s in self.state.iter_mut() {
            *s = mul(rng.uniform(), tenth) - half;
        }
        self.t = 0;
    }

    /// `[x, ẋ, θ, θ̇]` each mapped from `±range` to `[0, 1]`, clamped.
    fn observe(&self, obs: &mut [Fix]) {
        let half = Fix::from_bits(1 << 15);
        for ((o, &s), &k) in obs.iter_mut().zip(&self.state).zip(&self.inv_span) {
            *o = mul(s, k).saturating_add(half).clamp(Fix::ZERO, Fix::ONE);
        }
    }

    /// Action channel 0 pushes left (−F), channel 1 right (+F), none: no force.
    fn act(&mut self, action: &[Fix], _rng: &mut Rng) -> Feedback {
        let f = match one_hot_index(action) {
            Some(0) => -self.force,
            Some(_) => self.force,
            None => Fix::ZERO,
        };
        self.advance(f);
        self.t = self.t.saturating_add(1);
        let failed = self.failed();
        Feedback {
            reward: if failed { -Fix::ONE } else { Fix::ZERO },
            done: failed || self.t >= self.max_steps,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The readout

/// Two-action readout: the half of the outputs (`0..M` left, `M..2M` right) with more spikes in the
/// window wins; a tie (silence included) is broken by one [`Rng::below`] draw (unlike
/// [`engram::env::WinnerTakeAll`], whose deterministic tie-break to the lower index would bias the
/// untrained policy to the left).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoreSpikes {
    per_action: u16,
    window: u32,
    counts: [u32; 2],
}

impl MoreSpikes {
    /// M neurons per action, a window of W steps.
    pub fn new(per_action: usize, window: u32) -> Result<MoreSpikes, ConfigError> {
        if per_action == 0 || per_action > engram::neuron::MAX_NEURONS / 2 || window == 0 {
            return Err(ConfigError::Invalid {
                what: "two-action readout needs 1..=32767 neurons per action and a window",
            });
        }
        Ok(MoreSpikes {
            per_action: per_action as u16,
            window,
            counts: [0; 2],
        })
    }

    /// Spikes counted so far in this window (left, right).
    pub fn counts(&self) -> [u32; 2] {
        self.counts
    }
}

impl Decoder for MoreSpikes {
    fn output_len(&self) -> usize {
        2 * self.per_action as usize
    }

    fn action_len(&self) -> usize {
        2
    }

    fn window(&self) -> u32 {
        self.window
    }

    fn record(&mut self, spikes: &[u16]) {
        for &j in spikes {
            if j < self.per_action {
                self.counts[0] += 1;
            } else if j < 2 * self.per_action {
                self.counts[1] += 1;
            }
        }
    }

    fn decode(&mut self, action: &mut [Fix], rng: &mut Rng) {
        let [l, r] = self.counts;
        let right = match l.cmp(&r) {
            core::cmp::Ordering::Less => true,
            core::cmp::Ordering::Greater => false,
            core::cmp::Ordering::Equal => rng.below(2) == 1,
        };
        for (i, a) in action.iter_mut().enumerate() {
            *a = if (i == 1) == right {
                Fix::ONE
            } else {
                Fix::ZERO
            };
        }
        self.counts = [0; 2];
    }

    fn reset(&mut self) {
        self.counts = [0; 2];
    }
}

// ---------------------------------------------------------------------------------------------
// The brain

/// Caller storage for the brain and the loop (`n` = 4·K inputs, `m` = 2·M actor neurons).
#[derive(Debug)]
pub struct Storage<'a> {
    /// Actor weights, `n·m`, row-major by input.
    pub weights: &'a mut [i16],
    /// Actor accumulators, `m`.
    pub acc: &'a mut [i32],
    /// Presynaptic traces, `n`.
    pub pre_traces: &'a mut [Fix],
    /// Actor eligibility, `n·m`.
    pub eligibility: &'a mut [Fix],
    /// Actor PSPs, `m`.
    pub psp: &'a mut [Fix],
    /// `y − p` of the last step, `m`.
    pub signal: &'a mut [Fix],
    /// Actor spikes, `m`.
    pub out_spikes: &'a mut [u16],
    /// Copy of the last step's input spikes, `n`.
    pub in_copy: &'a mut [u16],
    /// Input spike counts of the current period, `n`.
    pub counts: &'a mut [u16],
    /// Critic weights, `n`.
    pub critic_w: &'a mut [Fix],
    /// Critic traces ē, `n`.
    pub critic_e: &'a mut [Fix],
    /// Encoder probabilities, `n`.
    pub enc_prob: &'a mut [Frac],
    /// The loop's input spike buffer, `n`.
    pub input_spikes: &'a mut [u16],
    /// Observation buffer, 4.
    pub observation: &'a mut [Fix],
    /// Action buffer, 2.
    pub action: &'a mut [Fix],
}

/// The actor-critic (see the module doc).
#[derive(Debug)]
pub struct ActorCritic<'a> {
    /// The actor's plastic projection (inputs → 2·M neurons).
    pub actor: Plastic<'a, i16, Dense<'a, i16>>,
    psp: &'a mut [Fix],
    signal: &'a mut [Fix],
    out: Spikes<'a>,
    input: Spikes<'a>,
    counts: &'a mut [u16],
    critic_w: &'a mut [Fix],
    critic_e: &'a mut [Fix],
    decay_psp: Frac,
    /// Network steps per control period K (> 0).
    period: u32,
    bias: Fix,
    beta: Fix,
    gamma: Frac,
    lambda: Frac,
    /// V of the previous period and the reward that followed it, if this episode has one.
    prev: Option<(Fix, Fix)>,
    /// δ waiting for the next step's tick.
    pending: Fix,
    last_delta: Fix,
    last_value: Fix,
    /// Learning on (off: no weight, eligibility or trace changes).
    pub learning: bool,
}

impl ActorCritic<'_> {
    /// Input i's spikes this period as a fraction of the period, `c_i/K` (Q16.16, truncated).
    fn rate(&self, c: u16) -> Fix {
        // `checked_div`: the period is validated ≥ 1, but the step must not reach a panic
        let r = ((c as i64) << 16).checked_div(self.period as i64);
        Fix::from_bits(sat_i32(r.unwrap_or(0)))
    }

    /// `V` of the current period's counts so far: `Σ v_i c_i/K`, saturating.
    pub fn value(&self) -> Fix {
        self.critic_w
            .iter()
            .zip(self.counts.iter())
            .fold(Fix::ZERO, |acc, (&w, &c)| {
                acc.saturating_add(mul(w, self.rate(c)))
            })
    }

    /// The last TD error (the actor's third factor).
    pub fn last_delta(&self) -> Fix {
        self.last_delta
    }

    /// V of the last completed period.
    pub fn last_value(&self) -> Fix {
        self.last_value
    }

    /// The critic's weights.
    pub fn critic_weights(&self) -> &[Fix] {
        self.critic_w
    }

    /// `v += β·δ·ē` (one `i64` product, rounded to nearest, saturating).
    fn critic_update(&mut self, delta: Fix) {
        let bd = self.beta.to_bits() as i64 * delta.to_bits() as i64; // Q32
        for (w, &e) in self.critic_w.iter_mut().zip(self.critic_e.iter()) {
            let d = engram::num::shr_round(bd.saturating_mul(e.to_bits() as i64), 32);
            *w = Fix::from_bits(sat_i32(w.to_bits() as i64 + d));
        }
    }
}

impl Brain for ActorCritic<'_> {
    fn input_len(&self) -> usize {
        self.counts.len()
    }

    fn output_len(&self) -> usize {
        self.psp.len()
    }

    /// Counts the inputs, filters them into the PSPs, draws each neuron's spike with `σ(b + PSP)`,
    /// then (learning) the rule's tick: eligibility `+= x·(y − p)`, weights `+= η·δ·e` with the δ
    /// that arrived since the last step (0 otherwise).
    fn step(&mut self, input: &[u16], rng: &mut Rng) {
        self.input.clear();
        for &i in input {
            self.input.push(i);
            if let Some(c) = self.counts.get_mut(i as usize) {
                *c = c.saturating_add(1);
            }
        }
        for u in self.psp.iter_mut() {
            *u = self.decay_psp.mul(*u);
        }
        self.actor.proj.propagate(input, self.psp);
        self.out.clear();
        for (j, (u, s)) in self.psp.iter().zip(self.signal.iter_mut()).enumerate() {
            let p = SIGMOID.eval(self.bias.saturating_add(*u));
            // p ∈ [0, 1] in Q16.16 → Q0.32 (1 saturates just below 1).
            let pf = Frac((p.to_bits() as u32).saturating_mul(1 << 16));
            let y = rng.bernoulli(pf);
            if y {
                // j < 2·M ≤ 65 535: checked at construction.
                self.out.push(j as u16);
            }
            *s = if y { Fix::ONE - p } else { -p };
        }
        if self.learning {
            let sig = Signals {
                post_signal: self.signal,
                modulator: self.pending,
                ..Signals::NONE
            };
            self.actor.learn(input, self.out.as_slice(), &sig);
        }
        self.pending = Fix::ZERO;
    }

    fn output(&self) -> &[u16] {
        self.out.as_slice()
    }

    /// The critic's TD step at the end of a control period (see the module doc).
    fn modulate(&mut self, m: Modulation) {
        let v = self.value();
        self.last_value = v;
        let mut delta = Fix::ZERO;
        if self.learning
            && let Some((v_prev, r_prev)) = self.prev
        {
            delta = r_prev
                .saturating_add(self.gamma.mul(v))
                .saturating_sub(v_prev);
            self.critic_update(delta);
        }
        let k = self.period.max(1) as i64;
        for (e, &c) in self.critic_e.iter_mut().zip(self.counts.iter()) {
            let rate = Fix::from_bits(sat_i32(((c as i64) << 16) / k));
            *e = self.lambda.mul(*e).saturating_add(rate);
        }
        if m.done {
            let terminal = m.reward.saturating_sub(v);
            if self.learning {
                self.critic_update(terminal);
            }
            delta = delta.saturating_add(terminal);
            self.prev = None;
        } else {
            self.prev = Some((v, m.reward));
        }
        self.counts.fill(0);
        if self.learning {
            self.pending = delta;
            self.last_delta = delta;
        }
    }

    /// A new balance attempt: PSPs, counts and critic traces cleared (the actor's eligibility and
    /// the δ of the failure are kept: the next step's tick still credits the failed episode).
    fn reset(&mut self) {
        self.psp.fill(Fix::ZERO);
        self.counts.fill(0);
        self.critic_e.fill(Fix::ZERO);
        self.prev = None;
    }
}

// ---------------------------------------------------------------------------------------------
// The experiment

type Loop<'a> = Agent<'a, CartPole, ActorCritic<'a>, PopulationEncoder<'a>, MoreSpikes, RawReward>;

/// The running experiment: the closed loop and its generator.
#[derive(Debug)]
pub struct Network<'a> {
    /// The loop (world, brain, encoder, readout).
    pub agent: Loop<'a>,
    rng: Rng,
    w_max: f32,
    lsb: f32,
    ep_steps: u64,
    ep_reward: Fix,
    /// The last finished episode: index, steps, summed reward, success (converted to
    /// [`Episode`] only when asked, so the step path has no float).
    last: Option<(u32, u64, Fix, bool)>,
    /// Running mean episode length (env steps), α = 1/8.
    mean_len: Fix,
    last_reward: Fix,
}

impl<'a> Network<'a> {
    /// Builds the experiment on `st`.
    pub fn new(cfg: &Config, st: Storage<'a>) -> Result<Network<'a>, ConfigError> {
        let (n, m) = (cfg.inputs(), cfg.outputs());
        if cfg.fields < 2 {
            return Err(ConfigError::Invalid {
                what: "cartpole: at least 2 receptive fields per variable",
            });
        }
        let period = cfg.period_steps()?;
        let unit = |what: &'static str, v: f32| {
            if v.is_finite() && (0.0..=1.0).contains(&v) {
                Ok(v)
            } else {
                Err(ConfigError::OutOfRange { what, value: v })
            }
        };
        let gamma = Frac::from_f32("cartpole gamma", unit("cartpole gamma", cfg.gamma)?)?;
        let lambda = Frac::from_f32(
            "cartpole critic lambda",
            unit("cartpole critic lambda", cfg.critic_lambda)?,
        )?;
        let rate_ok = |x: f32| x.is_finite() && x >= 0.0;
        if !rate_ok(cfg.critic_lr) || !rate_ok(cfg.actor_lr) {
            return Err(ConfigError::OutOfRange {
                what: "cartpole learning rates",
                value: cfg.critic_lr.min(cfg.actor_lr),
            });
        }
        let beta = fix_from_f32("cartpole critic lr", cfg.critic_lr)?;
        let bias = fix_from_f32("cartpole actor bias", cfg.actor_bias)?;
        let env = CartPole::new(&cfg.physics, cfg.max_steps, cfg.v_range, cfg.omega_range)?;
        let spacing = 1.0 / (cfg.fields as f32 - 1.0);
        let encoder = PopulationEncoder::new(
            PopulationEncoderParams {
                channels: CHANNELS,
                neurons_per_channel: cfg.fields,
                lo: 0.0,
                hi: 1.0,
                sigma: cfg.sigma_spacing * spacing,
                max_rate_hz: cfg.input_hz,
            },
            cfg.dt_ms,
            st.enc_prob,
        )?;
        let decoder = MoreSpikes::new(cfg.actor_neurons, cfg.window_steps)?;
        let fmt = cfg.weight_format()?;
        let scale = fmt.scale()?;
        let rule = Rule::new::<i16>(&cfg.rule(), &fmt, scale, cfg.dt_ms)?;
        st.weights.fill(0);
        let proj = Dense::new(n, m, st.weights, st.acc, scale)?;
        let actor = Plastic::new(
            proj,
            rule,
            RuleStorage {
                pre_traces: st.pre_traces,
                post_traces: &mut [],
                eligibility: st.eligibility,
                theta: &mut [],
            },
            cfg.seed,
        )?;
        check_len("cartpole psp", m, st.psp.len())?;
        check_len("cartpole signal", m, st.signal.len())?;
        check_len("cartpole actor spikes", m, st.out_spikes.len())?;
        check_len("cartpole input copy", n, st.in_copy.len())?;
        check_len("cartpole counts", n, st.counts.len())?;
        check_len("cartpole critic weights", n, st.critic_w.len())?;
        check_len("cartpole critic traces", n, st.critic_e.len())?;
        st.psp.fill(Fix::ZERO);
        st.signal.fill(Fix::ZERO);
        st.counts.fill(0);
        st.critic_w.fill(Fix::ZERO);
        st.critic_e.fill(Fix::ZERO);
        let brain = ActorCritic {
            actor,
            decay_psp: Frac::decay("cartpole tau_psp", cfg.tau_psp_ms, cfg.dt_ms)?,
            period,
            psp: st.psp,
            signal: st.signal,
            out: Spikes::new(st.out_spikes),
            input: Spikes::new(st.in_copy),
            counts: st.counts,
            critic_w: st.critic_w,
            critic_e: st.critic_e,
            bias,
            beta,
            gamma,
            lambda,
            prev: None,
            pending: Fix::ZERO,
            last_delta: Fix::ZERO,
            last_value: Fix::ZERO,
            learning: cfg.learning,
        };
        let buffers = AgentBuffers {
            observation: st.observation,
            action: st.action,
            input_spikes: st.input_spikes,
        };
        let agent = Agent::new(env, brain, encoder, decoder, buffers, period)?;
        Ok(Network {
            agent,
            rng: Rng::stream(cfg.seed, 0xCA27_901E),
            w_max: fmt.w_max,
            lsb: scale.lsb(),
            ep_steps: 0,
            ep_reward: Fix::ZERO,
            last: None,
            mean_len: Fix::ZERO,
            last_reward: Fix::ZERO,
        })
    }

    /// One network step (and, every 20th, one env step).
    pub fn step(&mut self) {
        let r = self.agent.step(&mut self.rng);
        if let Some(fb) = r.feedback {
            self.ep_steps += 1;
            self.ep_reward = self.ep_reward.saturating_add(fb.reward);
            self.last_reward = fb.reward;
            if fb.done {
                let len = Fix::from_bits(sat_i32((self.ep_steps as i64) << 16));
                self.mean_len = if self.last.is_none() {
                    len
                } else {
                    self.mean_len
                        .saturating_add((len.saturating_sub(self.mean_len)) >> 3)
                };
                self.last = Some((
                    r.episode,
                    self.ep_steps,
                    self.ep_reward,
                    fb.reward >= Fix::ZERO,
                ));
                self.ep_steps = 0;
                self.ep_reward = Fix::ZERO;
            }
        }
    }

    /// The world.
    pub fn world(&self) -> &CartPole {
        self.agent.env()
    }

    /// The brain.
    pub fn brain(&self) -> &ActorCritic<'a> {
        self.agent.brain()
    }

    /// Turns learning on or off.
    pub fn set_learning(&mut self, on: bool) {
        self.agent.brain_mut().learning = on;
    }

    /// Running mean episode length (env steps).
    pub fn mean_episode_len(&self) -> f32 {
        fix_to_f32(self.mean_len)
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
        let b = self.agent.brain();
        b.input.len() + b.out.len()
    }

    fn spikes_hash(&self) -> u64 {
        let b = self.agent.brain();
        let mut h = Fnv64::new();
        b.input.as_slice().hash_into(&mut h);
        b.out.as_slice().hash_into(&mut h);
        h.finish()
    }

    /// Parts: `world` (state, episode step), `encoder` (probabilities), `io` (observation, action),
    /// `decoder` (counts), `actor`, `actor_rule` (traces, eligibility, rounding generator), `actor_state`
    /// (PSPs, y − p, spikes), `critic` (weights, traces, counts, previous V and reward, pending δ),
    /// `agent` (step, episode, loop critic), `episodes` (running statistics, the last episode), `rng`.
    fn hash_parts(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        let a = &self.agent;
        let b = a.brain();
        let w = a.env();
        let mut h = Fnv64::new();
        w.state.hash_into(&mut h);
        h.write_u32(w.t);
        visit("world", h.finish());
        visit("encoder", a.encoder().probabilities().state_hash());
        let mut h = Fnv64::new();
        a.observation().hash_into(&mut h);
        a.action().hash_into(&mut h);
        visit("io", h.finish());
        let mut h = Fnv64::new();
        let [l, r] = a.decoder().counts();
        h.write_u32(l);
        h.write_u32(r);
        visit("decoder", h.finish());
        crate::visit_plastic(&b.actor, ["actor", "actor_rule"], visit);
        let mut h = Fnv64::new();
        b.psp.hash_into(&mut h);
        b.signal.hash_into(&mut h);
        b.out.as_slice().hash_into(&mut h);
        b.input.as_slice().hash_into(&mut h);
        visit("actor_state", h.finish());
        let mut h = Fnv64::new();
        b.critic_w.hash_into(&mut h);
        b.critic_e.hash_into(&mut h);
        b.counts.hash_into(&mut h);
        let (pv, pr, has) = match b.prev {
            Some((v, r)) => (v, r, true),
            None => (Fix::ZERO, Fix::ZERO, false),
        };
        for x in [pv, pr, b.pending, b.last_delta, b.last_value] {
            x.hash_into(&mut h);
        }
        has.hash_into(&mut h);
        b.learning.hash_into(&mut h);
        visit("critic", h.finish());
        let mut h = Fnv64::new();
        h.write_u64(a.steps());
        h.write_u32(a.episode());
        a.critic().value().hash_into(&mut h);
        visit("agent", h.finish());
        let mut h = Fnv64::new();
        h.write_u64(self.ep_steps);
        self.ep_reward.hash_into(&mut h);
        self.mean_len.hash_into(&mut h);
        self.last_reward.hash_into(&mut h);
        if let Some((index, steps, reward, success)) = self.last {
            h.write_u32(index);
            h.write_u64(steps);
            reward.hash_into(&mut h);
            success.hash_into(&mut h);
        }
        visit("episodes", h.finish());
        visit("rng", self.rng.state_hash());
    }
}

impl Observe for Network<'_> {
    /// `input` (4·K) and `actor` (2·M: left then right).
    fn spikes(&self, visit: &mut dyn FnMut(&'static str, usize, &[u16])) {
        let b = self.agent.brain();
        visit("input", b.input_len(), b.input.as_slice());
        visit("actor", b.output_len(), b.out.as_slice());
    }

    /// `objective` (running mean episode length, env steps), `reward` (last env step's), `x` (m),
    /// `theta` (rad), `value` (critic V of the last period), `td_error` (last δ), `episode_steps`
    /// (steps so far in the current episode).
    fn metrics(&self, visit: &mut dyn FnMut(&'static str, f32)) {
        let [x, _, th, _] = self.agent.env().state;
        let b = self.agent.brain();
        visit("objective", fix_to_f32(self.mean_len));
        visit("reward", fix_to_f32(self.last_reward));
        visit("x", fix_to_f32(x));
        visit("theta", fix_to_f32(th));
        visit("value", fix_to_f32(b.last_value));
        visit("td_error", fix_to_f32(b.last_delta));
        visit("episode_steps", self.ep_steps as f32);
    }

    /// `actor` (4·K × 2·M, weight units, bounds ±w_max).
    fn weights(&self, visit: &mut crate::WeightVisitor<'_>) {
        let lsb = self.lsb;
        let mut it = self
            .agent
            .brain()
            .actor
            .proj
            .weights()
            .iter()
            .map(|&w| w as f32 * lsb);
        visit("actor", (-self.w_max, self.w_max), &mut it);
    }

    /// Each balance attempt is an episode; success = it reached [`Config::max_steps`].
    fn last_episode(&self) -> Option<Episode> {
        self.last.map(|(index, steps, reward, success)| Episode {
            index,
            steps: u32::try_from(steps).unwrap_or(u32::MAX),
            reward: fix_to_f32(reward),
            success,
        })
    }
}

/// Heap storage for the host.
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct Buffers {
    weights: Vec<i16>,
    acc: Vec<i32>,
    n_fix: [Vec<Fix>; 4],
    m_fix: [Vec<Fix>; 2],
    eligibility: Vec<Fix>,
    n_u16: [Vec<u16>; 3],
    out_spikes: Vec<u16>,
    enc_prob: Vec<Frac>,
    observation: Vec<Fix>,
    action: Vec<Fix>,
}

#[cfg(feature = "std")]
impl Buffers {
    /// Buffers sized for `cfg`.
    pub fn new(cfg: &Config) -> Buffers {
        let (n, m) = (cfg.inputs(), cfg.outputs());
        Buffers {
            weights: vec![0; n * m],
            acc: vec![0; m],
            n_fix: core::array::from_fn(|_| vec![Fix::ZERO; n]),
            m_fix: core::array::from_fn(|_| vec![Fix::ZERO; m]),
            eligibility: vec![Fix::ZERO; n * m],
            n_u16: core::array::from_fn(|_| vec![0; n]),
            out_spikes: vec![0; m],
            enc_prob: vec![Frac::ZERO; n],
            observation: vec![Fix::ZERO; CHANNELS],
            action: vec![Fix::ZERO; 2],
        }
    }

    /// The storage view for [`Network::new`].
    pub fn storage(&mut self) -> Storage<'_> {
        let [pre_traces, critic_w, critic_e, _spare] = &mut self.n_fix;
        let [psp, signal] = &mut self.m_fix;
        let [in_copy, counts, input_spikes] = &mut self.n_u16;
        Storage {
            weights: &mut self.weights,
            acc: &mut self.acc,
            pre_traces,
            eligibility: &mut self.eligibility,
            psp,
            signal,
            out_spikes: &mut self.out_spikes,
            in_copy,
            counts,
            critic_w,
            critic_e,
            enc_prob: &mut self.enc_prob,
            input_spikes,
            observation: &mut self.observation,
            action: &mut self.action,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The f64 reference of one Euler step (same equations, no rounding).
    fn step_f64(s: [f64; 4], f: f64) -> [f64; 4] {
        let (g, mc, mp, l, tau) = (9.8, 1.0, 0.1, 0.5, 0.02);
        let [x, v, th, om] = s;
        let m = mc + mp;
        let temp = (f + mp * l * om * om * th.sin()) / m;
        let tha = (g * th.sin() - th.cos() * temp) / (l * (4.0 / 3.0 - mp * th.cos().powi(2) / m));
        let xa = temp - mp * l * tha * th.cos() / m;
        [x + tau * v, v + tau * xa, th + tau * om, om + tau * tha]
    }

    fn world() -> CartPole {
        CartPole::new(&Physics::default(), 1000, 1.5, 2.0).unwrap()
    }

    #[test]
    fn sin_cos_within_one_lsb() {
        let mut worst = 0.0f64;
        for i in -4000..=4000 {
            let th = i as f64 * 0.005; // ±20 rad
            let (s, c) = sin_cos(Fix::from_num(th));
            let t = Fix::from_num(th).to_num::<f64>();
            worst = worst
                .max((s.to_num::<f64>() - t.sin()).abs())
                .max((c.to_num::<f64>() - t.cos()).abs());
        }
        eprintln!("sin/cos worst |error|: {worst}");
        assert!(worst <= 0.51 / 65536.0, "worst {worst}");
    }

    #[test]
    fn one_step_matches_f64_reference() {
        let mut rng = Rng::new(3);
        let mut worst = [0.0f64; 4];
        let mut w = world();
        for k in 0..2000 {
            let s: [f64; 4] = core::array::from_fn(|i| {
                let r = rng.uniform().to_num::<f64>() * 2.0 - 1.0;
                r * [2.4, 2.0, 0.21, 3.0][i]
            });
            w.state = s.map(Fix::from_num);
            let s_exact = w.state.map(|x| x.to_num::<f64>());
            let f = if k % 2 == 0 { 10.0 } else { -10.0 };
            w.advance(Fix::from_num(f));
            let r = step_f64(s_exact, f);
            for ((e, x), r) in worst.iter_mut().zip(&w.state).zip(&r) {
                *e = e.max((x.to_num::<f64>() - r).abs());
            }
        }
        eprintln!("one step, worst |error| per variable: {worst:?}");
        for e in worst {
            assert!(e < 3e-5, "{worst:?}");
        }
    }

    #[test]
    fn trajectory_tracks_f64_reference() {
        // Half a second of an unstable system under a fixed push pattern.
        let mut w = world();
        let s0 = [0.1, -0.2, 0.05, 0.3];
        w.state = s0.map(Fix::from_num);
        let mut r = w.state.map(|x| x.to_num::<f64>());
        let mut worst = 0.0f64;
        for k in 0..25 {
            let f = if (k / 3) % 2 == 0 { 10.0 } else { -10.0 };
            w.advance(Fix::from_num(f));
            r = step_f64(r, f);
            for (x, r) in w.state.iter().zip(&r) {
                worst = worst.max((x.to_num::<f64>() - r).abs());
            }
        }
        eprintln!("25 steps, worst |error|: {worst}");
        assert!(worst < 1e-4, "{worst}");
    }

    #[test]
    fn pole_falls_without_control_and_episode_ends() {
        let mut w = world();
        let mut rng = Rng::new(1);
        w.reset(&mut rng);
        w.state = [Fix::ZERO, Fix::ZERO, Fix::from_num(0.01), Fix::ZERO];
        let none = [Fix::ZERO; 2];
        let mut n = 0;
        loop {
            n += 1;
            let fb = w.act(&none, &mut rng);
            if fb.done {
                assert_eq!(fb.reward, -Fix::ONE);
                assert!(w.state[2] > Fix::from_num(0.2));
                break;
            }
            assert!(n < 200);
        }
        // Falls from 0.01 rad in well under 2 s (f64: ≈ 1.1 s).
        assert!((40..100).contains(&n), "{n}");
    }

    #[test]
    fn config_refused_when_invalid() {
        let d = Config::default();
        let bad = [
            Config { dt_ms: 0.3, ..d },
            Config {
                physics: Physics {
                    pole_mass: -1.0,
                    ..d.physics
                },
                ..d
            },
            Config {
                weights: WeightFormat {
                    w_min: 0.0,
                    ..d.weights
                },
                ..d
            },
            Config { gamma: 1.5, ..d },
            Config {
                critic_lr: f32::NAN,
                ..d
            },
        ];
        for c in bad {
            let mut b = Buffers::new(&c);
            assert!(Network::new(&c, b.storage()).is_err(), "{c:?}");
        }
        let c = Config::default();
        let mut b = Buffers::new(&c);
        assert!(Network::new(&c, b.storage()).is_ok());
    }
}
