//! The demos behind one interface: the engram-lab learners, their LED pictures and their learned
//! state.

use engram::Fix;
use engram::num::Scale;
pub use engram_board::actuator::Pattern;
use engram_lab::{oja_motion, tilt};
use engram_link::{Sizes, WeightStats};

/// Most bytes of learned state a demo may have (the runner's checkpoint buffer).
pub const MAX_STATE_BYTES: usize = 64;

/// What the runner needs from a demo.
pub trait Demo {
    /// Experiment name (in `Hello`).
    const NAME: &'static str;
    /// Bytes of learned state.
    const STATE_BYTES: usize;
    /// Fingerprint of the model: a checkpoint of another model is refused.
    fn model_hash(&self) -> u64;
    /// Sizes announced in `Hello`.
    fn sizes(&self) -> Sizes;
    /// One step on the accelerometer observation `[x, y, z, presence]` (g) and the user's feedback
    /// (+1, −1, 0); returns the picture to show.
    fn step(&mut self, obs: &[Fix], feedback: Fix) -> Pattern;
    /// The objective's current value.
    fn objective(&self) -> Fix;
    /// Statistics of the plastic weights.
    fn weight_stats(&self) -> WeightStats;
    /// Writes the learned state; returns the bytes written.
    fn save(&self, out: &mut [u8]) -> usize;
    /// Restores the learned state; `false` if the bytes do not fit.
    fn load(&mut self, bytes: &[u8]) -> bool;
}

/// Weight statistics of raw weights in steps of `scale`, `bounds` the rule's raw bounds.
pub fn weight_stats(raw: &[i16], scale: Scale, bounds: (i32, i32)) -> WeightStats {
    if raw.is_empty() {
        return WeightStats::default();
    }
    let (mut sum, mut lo, mut hi, mut sat) = (0i64, i32::MAX, i32::MIN, 0u32);
    for &w in raw {
        let w = i32::from(w);
        sum += i64::from(w);
        lo = lo.min(w);
        hi = hi.max(w);
        sat += u32::from(w <= bounds.0 || w >= bounds.1);
    }
    let mean = (sum / raw.len() as i64) as i32;
    WeightStats {
        mean: scale.apply(mean),
        min: scale.apply(lo),
        max: scale.apply(hi),
        saturated: sat,
    }
}

/// Arrows up, down, left, right: the four patterns `tilt` chooses from.
pub const ARROWS: [Pattern; tilt::PATTERNS] = [
    Pattern::from_rows([0b00100, 0b01110, 0b10101, 0b00100, 0b00100]),
    Pattern::from_rows([0b00100, 0b00100, 0b10101, 0b01110, 0b00100]),
    Pattern::from_rows([0b00100, 0b01000, 0b11111, 0b01000, 0b00100]),
    Pattern::from_rows([0b00100, 0b00010, 0b11111, 0b00010, 0b00100]),
];
/// Shown while the accelerometer is missing (a cross).
pub const MISSING: Pattern = Pattern::from_rows([0b10001, 0b01010, 0b00100, 0b01010, 0b10001]);
/// Shown while the board lies flat (`tilt`: nothing to decide).
pub const FLAT: Pattern = Pattern::from_rows([0, 0, 0b00100, 0, 0]);

fn present(obs: &[Fix]) -> bool {
    obs.get(3).is_some_and(|&p| p != Fix::ZERO)
}

/// `tilt`: tilt conditioning from reward and punishment (see [`engram_lab::tilt`]).
#[derive(Debug)]
pub struct TiltDemo<'a> {
    /// The learner.
    pub learner: tilt::Learner<'a>,
    hash: u64,
    /// Bit i: the feedback i feedbacks ago was a reward.
    recent: u64,
    feedbacks: u32,
}

impl<'a> TiltDemo<'a> {
    /// The demo on `st` with `cfg` (the board uses `tilt::Config::default()`, whose user-simulation
    /// fields are unused here).
    pub fn new(cfg: &tilt::Config, st: tilt::Storage<'a>) -> Result<Self, engram::ConfigError> {
        Ok(Self {
            learner: tilt::Learner::new(cfg, st)?,
            hash: tilt::Learner::model_hash(cfg),
            recent: 0,
            feedbacks: 0,
        })
    }
}

impl Demo for TiltDemo<'_> {
    const NAME: &'static str = "tilt";
    const STATE_BYTES: usize = tilt::STATE_BYTES;

    fn model_hash(&self) -> u64 {
        self.hash
    }

    fn sizes(&self) -> Sizes {
        Sizes {
            observation_len: 4,
            action_len: tilt::PATTERNS as u16,
            populations: 1,
            projections: 1,
            neurons: tilt::PATTERNS as u32,
            synapses: tilt::SYNAPSES as u32,
            state_bytes: tilt::STATE_BYTES as u32,
            step_us: (tilt::DT_MS * 1000.0) as u32,
        }
    }

    fn step(&mut self, obs: &[Fix], feedback: Fix) -> Pattern {
        if feedback != Fix::ZERO {
            self.recent = (self.recent << 1) | u64::from(feedback > Fix::ZERO);
            self.feedbacks = self.feedbacks.saturating_add(1);
        }
        let choice = self.learner.step(obs, feedback);
        match choice.pattern {
            Some(p) => ARROWS.get(p).copied().unwrap_or(MISSING),
            None if present(obs) => FLAT,
            None => MISSING,
        }
    }

    /// Fraction of the last `min(64, n)` feedbacks that were rewards.
    fn objective(&self) -> Fix {
        let n = self.feedbacks.min(64);
        if n == 0 {
            return Fix::ZERO;
        }
        let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
        Fix::from_num((self.recent & mask).count_ones()) / Fix::from_num(n)
    }

    fn weight_stats(&self) -> WeightStats {
        let p = &self.learner.plastic;
        weight_stats(p.proj.weights(), p.proj.scale(), p.rule().bounds())
    }

    fn save(&self, out: &mut [u8]) -> usize {
        self.learner.save(out)
    }

    fn load(&mut self, bytes: &[u8]) -> bool {
        self.learner.load(bytes)
    }
}

/// The learned axis `(w_x, w_y)` as a line through the centre: the LEDs at `±w` and `±w/2` and the
/// centre (the sign of `w` is arbitrary: the line is symmetric). A unit axis in the board's plane
/// spans the matrix edge to edge; an axis mostly along z (through the screen) shrinks to the centre.
pub fn axis_line(wx: Fix, wy: Fix) -> Pattern {
    let (hx, hy) = (wx / 2, wy / 2);
    Pattern(
        Pattern::dot(wx, wy).0
            | Pattern::dot(hx, hy).0
            | FLAT.0
            | Pattern::dot(-hx, -hy).0
            | Pattern::dot(-wx, -wy).0,
    )
}

/// `oja-motion`: Oja's rule finds the axis of movement (see [`engram_lab::oja_motion`]).
#[derive(Debug)]
pub struct OjaDemo<'a> {
    /// The learner.
    pub learner: oja_motion::Learner<'a>,
}

impl<'a> OjaDemo<'a> {
    /// The demo on `st` with `cfg` (the board uses `oja_motion::Config::default()`).
    pub fn new(
        cfg: &oja_motion::Config,
        st: oja_motion::Storage<'a>,
    ) -> Result<Self, engram::ConfigError> {
        Ok(Self {
            learner: oja_motion::Learner::new(cfg, st)?,
        })
    }
}

impl Demo for OjaDemo<'_> {
    const NAME: &'static str = "oja-motion";
    const STATE_BYTES: usize = oja_motion::STATE_BYTES;

    fn model_hash(&self) -> u64 {
        oja_motion::Learner::model_hash()
    }

    fn sizes(&self) -> Sizes {
        Sizes {
            observation_len: 4,
            action_len: 0,
            populations: 1,
            projections: 1,
            neurons: 1,
            synapses: oja_motion::DIM as u32,
            state_bytes: oja_motion::STATE_BYTES as u32,
            step_us: (oja_motion::DT_MS * 1000.0) as u32,
        }
    }

    fn step(&mut self, obs: &[Fix], _feedback: Fix) -> Pattern {
        self.learner.step(obs);
        if !present(obs) {
            return MISSING;
        }
        let [wx, wy, _] = self.learner.weights_fix();
        axis_line(wx, wy)
    }

    /// The running output variance `E[y²]` (g²).
    fn objective(&self) -> Fix {
        use engram::objective::Objective;
        self.learner.variance.average()
    }

    fn weight_stats(&self) -> WeightStats {
        let p = &self.learner.plastic;
        weight_stats(p.proj.weights(), p.proj.scale(), p.rule().bounds())
    }

    fn save(&self, out: &mut [u8]) -> usize {
        self.learner.save(out)
    }

    fn load(&mut self, bytes: &[u8]) -> bool {
        self.learner.load(bytes)
    }
}
