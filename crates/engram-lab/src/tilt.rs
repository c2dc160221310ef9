//! Tilt conditioning (the micro:bit v2 `tilt` demo): the agent learns which LED pattern to show for
//! each tilt direction from a user's reward and punishment, with a reward-modulated (three-factor)
//! Hebbian rule.
//!
//! | part | here |
//! | --- | --- |
//! | architecture | [`DIRECTIONS`] = 4 direction cells (one-hot rates from the accelerometer, all 0 when the board is flat or the sensor is missing) → [`PATTERNS`] = 4 linear action units (`y = W·x`, [`Dense::propagate_rates`], `i16` weights in `[−1, 1]`); the shown pattern is `argmax(y + ξ)`, `ξ` uniform in `±explore` per unit, re-chosen when the direction changes, after every feedback and every `rechoose_steps` |
//! | learning rule | reward-modulated Hebbian ([`Config::rule`]): the eligibility `e_ij` (τ_e = `tau_eligibility_ms`) integrates `c·x_i·a_j` (`a` = one-hot of the shown pattern, `c = 1/(τ_e·(1 − e^{−react/τ_e}))` so that `e ≈ 1` when a user reacts after `react_ms`), and `Δw_ij = lr · dt · M · e_ij` with `M` the feedback: +1 (button A, reward), −1 (button B, punishment), 0 otherwise |
//! | objective | expected feedback: the fraction of the last 64 feedbacks that were rewards ([`Network::accuracy`]); the rule ascends it because `E[Δw_ij] ∝ E[M·e_ij]` is positive exactly for the (direction, pattern) pairs the user rewards |
//! | environment | [`ScriptedUser`]: holds the board tilted 30° in a random direction (or flat) for `hold_steps`, with accelerometer noise (σ = `noise_g`) and missing reads (probability `p_missing`); `react_steps` after a pattern appears it presses A if the pattern is its target for that direction (a seed-drawn permutation), else B |
//!
//! The board (`boards/microbit-v2`, bin `tilt`) runs the same [`Learner`] at the same 50 Hz step with
//! the real LSM303AGR and the real buttons in place of the scripted user.
//!
//! **Numbers.** dt = 20 ms. Observations are `Fix` (Q16.16, g); the direction cell is 1 when the
//! larger of |a_x|, |a_y| exceeds `threshold_g` (0.35 g ≈ 20°). Weights are 16-bit steps of
//! `1/32767`, nearest rounding; `c`, `lr` are converted once by the core's rule compiler.
//!
//! **Measured** (`tests/tests/tilt.rs`, 12 000 steps = 4 min of simulated use, seeds 1–8): with
//! learning, the last 64 feedbacks are 100 % rewards and the strongest weight of every direction is
//! the user's target on every seed (the test asserts ≥ 90 %); with `lr = 0` (the no-learning
//! control) 20–34 %, chance being 25 % (the test asserts ≤ 50 %).

use crate::{Simulation, visit_plastic};
use engram::ConfigError;
use engram::error::check_len;
use engram::hash::{Fnv64, StateHash};
use engram::num::{Fix, Frac, Rng, fix_from_f32, mul};
use engram::projection::Dense;
use engram::rule::{
    Factor, Plastic, Post, Pre, Rule, RuleParams, RuleStorage, Signals, TermParams, WeightFormat,
};

/// Time step (ms): the board's 50 Hz control loop.
pub const DT_MS: f32 = 20.0;
/// Tilt directions (input cells).
pub const DIRECTIONS: usize = 4;
/// LED patterns to choose from (action units).
pub const PATTERNS: usize = 4;
/// Plastic synapses.
pub const SYNAPSES: usize = DIRECTIONS * PATTERNS;
/// Bytes of learned state ([`Learner::save`]): the weights, `i16` little-endian, row-major by direction.
pub const STATE_BYTES: usize = 2 * SYNAPSES;

/// A tilt direction, by the sign of the accelerometer's dominant horizontal axis (the chip's axes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Direction {
    /// +x.
    XPos,
    /// −x.
    XNeg,
    /// +y.
    YPos,
    /// −y.
    YNeg,
}

impl Direction {
    /// All four, in input-cell order.
    pub const ALL: [Direction; DIRECTIONS] = [
        Direction::XPos,
        Direction::XNeg,
        Direction::YPos,
        Direction::YNeg,
    ];

    /// The input cell.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The direction of an accelerometer observation `[x, y, z, presence]` (g): the sign of the
    /// larger of |x|, |y| when it exceeds `threshold`; `None` when the board is (nearly) flat or the
    /// sensor is missing (presence 0, or fewer than 4 channels).
    pub fn classify(obs: &[Fix], threshold: Fix) -> Option<Direction> {
        let [x, y, _, present] = *obs.first_chunk::<4>()?;
        if present == Fix::ZERO {
            return None;
        }
        let (ax, ay) = (x.saturating_abs(), y.saturating_abs());
        if ax.max(ay) <= threshold {
            None
        } else if ax >= ay {
            Some(if x > Fix::ZERO {
                Direction::XPos
            } else {
                Direction::XNeg
            })
        } else {
            Some(if y > Fix::ZERO {
                Direction::YPos
            } else {
                Direction::YNeg
            })
        }
    }
}

/// The experiment's configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct Config {
    /// Seed of the exploration noise, the user's target mapping and the sensor stream.
    pub seed: u64,
    /// Learning rate (per ms): `Δw = lr · dt · M · e`. 0 freezes the weights (the control).
    pub lr: f32,
    /// Eligibility time constant τ_e (ms).
    pub tau_eligibility_ms: f32,
    /// The user's typical reaction time (ms): sets the eligibility gain `c` so that `e ≈ 1` then.
    pub react_ms: f32,
    /// Exploration: uniform noise `±explore` added to each action unit before the argmax.
    pub explore: f32,
    /// Re-choose the pattern at least every this many steps while the direction is unchanged.
    pub rechoose_steps: u32,
    /// Tilt (g, on the larger horizontal axis) from which a direction is seen.
    pub threshold_g: f32,
    /// Simulated user: steps a tilt is held.
    pub hold_steps: u32,
    /// Simulated user: steps from a pattern appearing to the button press.
    pub react_steps: u32,
    /// Simulated accelerometer noise (g, standard deviation per axis).
    pub noise_g: f32,
    /// Simulated probability that a read is missing (an I2C fault).
    pub p_missing: f32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 1,
            lr: 0.015,
            tau_eligibility_ms: 100.0,
            react_ms: 200.0,
            explore: 0.5,
            rechoose_steps: 100,
            threshold_g: 0.35,
            hold_steps: 100,
            react_steps: 10,
            noise_g: 0.05,
            p_missing: 0.01,
        }
    }
}

/// `e^x` for configuration-time use (no `libm` in this crate).
fn exp(x: f32) -> f32 {
    engram::num::exp_f64(x as f64) as f32
}

impl Config {
    /// The rule: a reward-modulated Hebbian rule on rates (see the module doc). Tick terms, in order:
    /// the eligibility takes `c·x·a`, then the weight takes `lr·M·e`.
    pub fn rule(&self) -> RuleParams {
        let tau = self.tau_eligibility_ms;
        let c = 1.0 / (tau * (1.0 - exp(-self.react_ms / tau)));
        let mut r = RuleParams::empty();
        r.eligibility_tau_ms = Some(tau);
        // At most MAX_TERMS (4) tick terms: two always fit.
        let _ = r
            .tick
            .push(TermParams::new(c, Pre::Rate, [Post::Rate, Post::One]).into_eligibility());
        let _ = r.tick.push(
            TermParams::new(self.lr, Pre::One, [Post::Modulator, Post::One])
                .times(Factor::Eligibility),
        );
        r
    }
}

/// Caller storage.
#[derive(Debug)]
pub struct Storage<'a> {
    /// [`SYNAPSES`] weights, row-major by direction.
    pub weights: &'a mut [i16],
    /// [`PATTERNS`] accumulators.
    pub acc: &'a mut [i32],
    /// [`SYNAPSES`] eligibilities.
    pub eligibility: &'a mut [Fix],
}

/// What the learner did this step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// The direction it saw (`None`: flat or sensor missing).
    pub direction: Option<Direction>,
    /// The pattern it shows (`None`: nothing to show, the display is blank).
    pub pattern: Option<usize>,
    /// The pattern was chosen afresh this step.
    pub new: bool,
}

/// The learning agent, independent of where observations and feedback come from (the board feeds it
/// the real accelerometer and buttons; [`Network`] feeds it a [`ScriptedUser`]).
#[derive(Debug)]
pub struct Learner<'a> {
    /// Direction cells → action units, plastic.
    pub plastic: Plastic<'a, i16, Dense<'a, i16>>,
    rng: Rng,
    explore: Fix,
    threshold: Fix,
    rechoose_steps: u32,
    since_choice: u32,
    last: Choice,
    /// The action units' values of the last step (`W·x`, before the noise).
    pub y: [Fix; PATTERNS],
}

impl<'a> Learner<'a> {
    /// Validates `cfg` and builds the learner on `st` (weights 0: no preference).
    pub fn new(cfg: &Config, st: Storage<'a>) -> Result<Learner<'a>, ConfigError> {
        check_len("tilt weights", SYNAPSES, st.weights.len())?;
        check_len("tilt eligibilities", SYNAPSES, st.eligibility.len())?;
        let pos = |what: &'static str, v: f32| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(ConfigError::OutOfRange { what, value: v })
            }
        };
        pos(
            "eligibility time constant (ms, > 0)",
            cfg.tau_eligibility_ms,
        )?;
        pos("reaction time (ms, > 0)", cfg.react_ms)?;
        if !(cfg.lr.is_finite() && cfg.lr >= 0.0) {
            return Err(ConfigError::OutOfRange {
                what: "learning rate (>= 0)",
                value: cfg.lr,
            });
        }
        if cfg.rechoose_steps == 0 {
            return Err(ConfigError::Invalid {
                what: "rechoose_steps must be at least 1",
            });
        }
        let fmt = WeightFormat::new(16, -1.0, 1.0);
        let scale = fmt.scale()?;
        let rule = Rule::new::<i16>(&cfg.rule(), &fmt, scale, DT_MS)?;
        st.weights.fill(0);
        let proj = Dense::new(DIRECTIONS, PATTERNS, st.weights, st.acc, scale)?;
        let storage = RuleStorage {
            pre_traces: &mut [],
            post_traces: &mut [],
            eligibility: st.eligibility,
            theta: &mut [],
        };
        Ok(Learner {
            plastic: Plastic::new(proj, rule, storage, cfg.seed ^ 0x7117)?,
            rng: Rng::stream(cfg.seed, 0x7117_C401),
            explore: fix_from_f32("exploration noise", cfg.explore)?,
            threshold: fix_from_f32("tilt threshold (g)", cfg.threshold_g)?,
            rechoose_steps: cfg.rechoose_steps,
            since_choice: 0,
            last: Choice {
                direction: None,
                pattern: None,
                new: false,
            },
            y: [Fix::ZERO; PATTERNS],
        })
    }

    /// One 20 ms step: `obs` is the accelerometer observation `[x, y, z, presence]` (g), `feedback`
    /// the user's verdict on what was shown until now (+1 reward, −1 punishment, 0 none). Learns from
    /// the feedback, then chooses (or keeps) the pattern to show.
    pub fn step(&mut self, obs: &[Fix], feedback: Fix) -> Choice {
        let direction = Direction::classify(obs, self.threshold);
        let mut x = [Fix::ZERO; DIRECTIONS];
        if let Some(d) = direction
            && let Some(c) = x.get_mut(d.index())
        {
            *c = Fix::ONE;
        }
        // The action the agent was taking when the feedback came: the pattern shown up to now, for the
        // direction seen up to now.
        let mut a = [Fix::ZERO; PATTERNS];
        let mut x_prev = [Fix::ZERO; DIRECTIONS];
        if let (Some(d), Some(p)) = (self.last.direction, self.last.pattern) {
            if let Some(c) = x_prev.get_mut(d.index()) {
                *c = Fix::ONE;
            }
            if let Some(c) = a.get_mut(p) {
                *c = Fix::ONE;
            }
        }
        let sig = Signals {
            pre_rate: &x_prev,
            post_rate: &a,
            modulator: feedback,
            ..Signals::NONE
        };
        self.plastic.learn(&[], &[], &sig);

        let mut y = [Fix::ZERO; PATTERNS];
        self.plastic.proj.propagate_rates(&x, &mut y);
        self.y = y;
        self.since_choice = self.since_choice.saturating_add(1);
        let rechoose = direction != self.last.direction
            || feedback != Fix::ZERO
            || self.since_choice >= self.rechoose_steps;
        let pattern = match direction {
            None => None,
            Some(_) if !rechoose => self.last.pattern,
            Some(_) => {
                let mut best = (0usize, Fix::MIN);
                for (j, &v) in y.iter().enumerate() {
                    // ξ uniform in [−explore, explore).
                    let xi = mul(self.explore, self.rng.uniform() * 2 - Fix::ONE);
                    let v = v.saturating_add(xi);
                    if v > best.1 {
                        best = (j, v);
                    }
                }
                Some(best.0)
            }
        };
        if rechoose {
            self.since_choice = 0;
        }
        self.last = Choice {
            direction,
            pattern,
            new: rechoose && pattern.is_some(),
        };
        self.last
    }

    /// The last step's choice.
    pub fn last(&self) -> Choice {
        self.last
    }

    /// The learned preference: for each direction, the pattern with the largest weight (ties: the
    /// first) — what the agent shows once exploration is negligible.
    pub fn preferred(&self) -> [usize; DIRECTIONS] {
        let mut out = [0; DIRECTIONS];
        for (o, row) in out
            .iter_mut()
            .zip(self.plastic.proj.weights().chunks_exact(PATTERNS))
        {
            let mut best = (0usize, i16::MIN);
            for (j, &w) in row.iter().enumerate() {
                if w > best.1 {
                    best = (j, w);
                }
            }
            *o = best.0;
        }
        out
    }

    /// Writes the learned state (the weights, [`STATE_BYTES`]) into `out`; returns the bytes written
    /// (0 if `out` is too short).
    pub fn save(&self, out: &mut [u8]) -> usize {
        crate::save_dense_i16(&self.plastic, out)
    }

    /// Restores the weights from [`Learner::save`]'s bytes, clamped to the rule's bounds; `false`
    /// (nothing changed) unless `bytes` is exactly [`STATE_BYTES`] long.
    pub fn load(&mut self, bytes: &[u8]) -> bool {
        crate::load_dense_i16(&mut self.plastic, bytes)
    }

    /// A fingerprint of the model (sizes, rule, weight format) for checkpoints: a checkpoint of
    /// another model is refused.
    pub fn model_hash(cfg: &Config) -> u64 {
        let mut h = Fnv64::new();
        for b in b"engram-lab::tilt v1" {
            h.write_u64(u64::from(*b));
        }
        (DIRECTIONS as u64).hash_into(&mut h);
        (PATTERNS as u64).hash_into(&mut h);
        cfg.tau_eligibility_ms.to_bits().hash_into(&mut h);
        h.finish()
    }
}

/// The simulated user (see the module doc).
#[derive(Debug, Clone)]
pub struct ScriptedUser {
    /// The pattern the user wants for each direction (a permutation).
    pub target: [usize; DIRECTIONS],
    /// The current tilt (`None`: flat).
    pub tilt: Option<Direction>,
    held: u32,
    shown_for: u32,
    hold_steps: u32,
    react_steps: u32,
    noise: Fix,
    p_missing: Frac,
    rng: Rng,
}

impl ScriptedUser {
    /// A user with a seed-drawn target mapping.
    pub fn new(cfg: &Config) -> Result<ScriptedUser, ConfigError> {
        if cfg.hold_steps == 0 || cfg.react_steps == 0 {
            return Err(ConfigError::Invalid {
                what: "hold_steps and react_steps must be at least 1",
            });
        }
        let mut rng = Rng::stream(cfg.seed, 0x05E2);
        let mut target = [0, 1, 2, 3];
        for i in (1..DIRECTIONS).rev() {
            let j = rng.below(i as u32 + 1) as usize;
            target.swap(i, j);
        }
        Ok(ScriptedUser {
            target,
            tilt: None,
            held: 0,
            shown_for: 0,
            hold_steps: cfg.hold_steps,
            react_steps: cfg.react_steps,
            noise: fix_from_f32("accelerometer noise (g)", cfg.noise_g)?,
            p_missing: Frac::from_f32("missing-read probability", cfg.p_missing)?,
            rng,
        })
    }

    /// The accelerometer observation `[x, y, z, presence]` for this step; changes the tilt every
    /// `hold_steps` (one of the four directions or flat, uniformly).
    pub fn observe(&mut self, obs: &mut [Fix; 4]) {
        if self.held == 0 {
            let k = self.rng.below(DIRECTIONS as u32 + 1) as usize;
            self.tilt = Direction::ALL.get(k).copied();
            self.held = self.hold_steps;
        }
        self.held -= 1;
        // 30°: sin = 0.5, cos ≈ 0.866.
        let (s, c) = (Fix::from_bits(32_768), Fix::from_bits(56_756));
        let g = match self.tilt {
            None => [Fix::ZERO, Fix::ZERO, -Fix::ONE],
            Some(Direction::XPos) => [s, Fix::ZERO, -c],
            Some(Direction::XNeg) => [-s, Fix::ZERO, -c],
            Some(Direction::YPos) => [Fix::ZERO, s, -c],
            Some(Direction::YNeg) => [Fix::ZERO, -s, -c],
        };
        let missing = self.rng.bernoulli(self.p_missing);
        for (o, v) in obs.iter_mut().zip(g) {
            let n = mul(self.noise, self.rng.normal());
            *o = if missing {
                Fix::ZERO
            } else {
                v.saturating_add(n)
            };
        }
        obs[3] = if missing { Fix::ZERO } else { Fix::ONE };
    }

    /// The user's feedback on the choice shown: `react_steps` after a pattern appears, +1 if it is the
    /// target for the current tilt, else −1; 0 otherwise.
    pub fn judge(&mut self, choice: &Choice) -> Fix {
        if choice.new || choice.pattern.is_none() {
            self.shown_for = 0;
        }
        let Some(p) = choice.pattern else {
            return Fix::ZERO;
        };
        self.shown_for += 1;
        if self.shown_for != self.react_steps {
            return Fix::ZERO;
        }
        let right = self
            .tilt
            .is_some_and(|d| self.target.get(d.index()) == Some(&p));
        if right { Fix::ONE } else { -Fix::ONE }
    }
}

/// The running experiment: a [`Learner`] taught by a [`ScriptedUser`].
#[derive(Debug)]
pub struct Network<'a> {
    /// The agent.
    pub learner: Learner<'a>,
    /// The world and the teacher.
    pub user: ScriptedUser,
    obs: [Fix; 4],
    feedback: Fix,
    feedbacks: u64,
    rewards: u64,
    /// Bit i: the feedback i feedbacks ago was a reward.
    recent: u64,
    t: u64,
}

impl<'a> Network<'a> {
    /// Builds the experiment on `st`.
    pub fn new(cfg: &Config, st: Storage<'a>) -> Result<Network<'a>, ConfigError> {
        Ok(Network {
            learner: Learner::new(cfg, st)?,
            user: ScriptedUser::new(cfg)?,
            obs: [Fix::ZERO; 4],
            feedback: Fix::ZERO,
            feedbacks: 0,
            rewards: 0,
            recent: 0,
            t: 0,
        })
    }

    /// One 20 ms step: the user tilts, the learner learns from the last feedback and shows a
    /// pattern, the user judges it.
    pub fn step(&mut self) {
        self.user.observe(&mut self.obs);
        let choice = self.learner.step(&self.obs, self.feedback);
        self.feedback = self.user.judge(&choice);
        if self.feedback != Fix::ZERO {
            let good = self.feedback > Fix::ZERO;
            self.feedbacks += 1;
            self.rewards += good as u64;
            self.recent = (self.recent << 1) | good as u64;
        }
        self.t += 1;
    }

    /// Fraction of the last `min(64, feedbacks)` feedbacks that were rewards (0 before any).
    pub fn accuracy(&self) -> f32 {
        let n = self.feedbacks.min(64);
        if n == 0 {
            return 0.0;
        }
        let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
        (self.recent & mask).count_ones() as f32 / n as f32
    }

    /// Feedbacks given so far.
    pub fn feedbacks(&self) -> u64 {
        self.feedbacks
    }

    /// Directions whose learned preference is the user's target.
    pub fn correct_preferences(&self) -> usize {
        self.learner
            .preferred()
            .iter()
            .zip(&self.user.target)
            .filter(|(a, b)| a == b)
            .count()
    }
}

impl Simulation for Network<'_> {
    fn step(&mut self) {
        Network::step(self);
    }

    fn steps(&self) -> u64 {
        self.t
    }

    /// Rate units: no spikes.
    fn spike_count(&self) -> usize {
        0
    }

    /// The shown pattern stands for the output spikes.
    fn spikes_hash(&self) -> u64 {
        let p = self.learner.last.pattern;
        (p.map_or(u64::MAX, |p| p as u64)).state_hash()
    }

    /// Parts: `synapses`, `rule` (eligibilities, rounding generator), `y`, `rng` (exploration),
    /// `user` (tilt, generator), `stats`.
    fn hash_parts(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        visit_plastic(&self.learner.plastic, ["synapses", "rule"], visit);
        visit("y", self.learner.y.state_hash());
        visit("rng", self.learner.rng.state_hash());
        let mut h = Fnv64::new();
        self.user.rng.hash_into(&mut h);
        self.user
            .tilt
            .map_or(u64::MAX, |d| d as u64)
            .hash_into(&mut h);
        visit("user", h.finish());
        let mut h = Fnv64::new();
        self.t.hash_into(&mut h);
        self.feedbacks.hash_into(&mut h);
        self.rewards.hash_into(&mut h);
        self.recent.hash_into(&mut h);
        visit("stats", h.finish());
    }
}

/// Reports: metrics `objective` (fraction of the last 64 feedbacks that were rewards), `reward`
/// (this step's feedback), `pattern` (shown, −1 none), `direction` (seen, −1 none),
/// `correct_preferences` (directions whose strongest weight is the user's target), `feedbacks`;
/// plastic weights `direction->pattern`.
impl crate::Observe for Network<'_> {
    fn spikes(&self, _visit: &mut dyn FnMut(&'static str, usize, &[u16])) {}

    fn metrics(&self, visit: &mut dyn FnMut(&'static str, f32)) {
        let c = self.learner.last;
        visit("objective", self.accuracy());
        visit("reward", self.feedback.to_num());
        visit("pattern", c.pattern.map_or(-1.0, |p| p as f32));
        visit("direction", c.direction.map_or(-1.0, |d| d as usize as f32));
        visit("correct_preferences", self.correct_preferences() as f32);
        visit("feedbacks", self.feedbacks as f32);
    }

    fn weights(&self, visit: &mut crate::WeightVisitor<'_>) {
        crate::visit_weights(
            "direction->pattern",
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
    eligibility: Vec<Fix>,
}

#[cfg(feature = "std")]
impl Buffers {
    /// Buffers for the 4 × 4 learner.
    pub fn new() -> Buffers {
        Buffers {
            weights: vec![0; SYNAPSES],
            acc: vec![0; PATTERNS],
            eligibility: vec![Fix::ZERO; SYNAPSES],
        }
    }

    /// The storage view for [`Network::new`] / [`Learner::new`].
    pub fn storage(&mut self) -> Storage<'_> {
        Storage {
            weights: &mut self.weights,
            acc: &mut self.acc,
            eligibility: &mut self.eligibility,
        }
    }
}

#[cfg(feature = "std")]
impl Default for Buffers {
    fn default() -> Self {
        Buffers::new()
    }
}
