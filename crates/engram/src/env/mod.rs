//! The world the agent lives in, and the translation between it and spikes.
//!
//! | item | file | what it does |
//! | --- | --- | --- |
//! | [`Environment`], [`Feedback`] | `mod.rs` | a task: observations out, actions in, reward and episode end back |
//! | [`Encoder`] | `mod.rs` | observation → input spikes, one network step at a time |
//! | [`PoissonEncoder`] | `encode.rs` | one neuron per channel, Bernoulli spikes with p ∝ the value (rate coding) |
//! | [`PopulationEncoder`] | `encode.rs` | K neurons per channel with Gaussian tuning curves (population coding) |
//! | [`DeltaEncoder`] | `encode.rs` | ON/OFF spikes when a channel moves by a threshold (event-camera style) |
//! | [`Decoder`] | `mod.rs` | output spikes, counted over a window → action |
//! | [`RateDecoder`] | `decode.rs` | spike counts → continuous action values in `[lo, hi]` |
//! | [`WinnerTakeAll`] | `decode.rs` | the most active output group → a one-hot discrete action |
//!
//! The loop that drives all of these at a fixed time step is [`crate::agent`].
//!
//! ## Timing
//! The network runs at its time step `dt` (e.g. 1 ms); the environment is advanced once per *control
//! period* of K network steps (e.g. every 20 ms). At the start of a period the environment's
//! observation is handed to the encoder ([`Encoder::load`]); every network step the encoder emits that
//! step's input spikes ([`Encoder::encode`]); during the last W steps of the period the decoder counts
//! the output spikes ([`Decoder::record`]); at the end of the period it turns the counts into an action
//! ([`Decoder::decode`]), which also starts a new window.
//!
//! ## Why traits and not enums
//! Encoders and decoders are traits used through generics: an [`crate::agent::Agent`] is monomorphised
//! for the encoder and decoder it holds, so a board pays neither `dyn` nor a `match` per step, holds
//! only the code it uses, and a user can add an encoder without editing this crate. An enum would have
//! to list every variant here and would carry the largest variant's storage.
//!
//! ## Number formats
//! Observations and actions are [`Fix`] (Q16.16). Spike probabilities are [`Frac`] (Q0.32), computed
//! when an observation is loaded (integer arithmetic, rounded to nearest) and drawn with
//! [`Rng::bernoulli`] each step. Floats appear only in the constructors.

mod decode;
mod encode;

pub use decode::{RateDecoder, RateDecoderParams, Silence, WinnerTakeAll};
pub use encode::{DeltaEncoder, PoissonEncoder, PopulationEncoder, PopulationEncoderParams};

use crate::error::ConfigError;
use crate::neuron::Spikes;
use crate::num::{Fix, Frac, Rng, fix_from_f32, round_f64};

/// What the environment returns for an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Feedback {
    /// Reward for the action (task units; [`Fix`], so |r| < 32768).
    pub reward: Fix,
    /// The episode ended with this action; the agent resets the environment before the next
    /// observation.
    pub done: bool,
}

/// A task the agent acts in: pure simulation, a sensor/actuator pair on a board, or the far end of a
/// serial link.
///
/// The environment is advanced once per control period by [`Environment::act`]; it keeps whatever
/// notion of time it needs from its own configuration (e.g. "one `act` is 20 ms"). Nothing here reads a
/// clock, and all randomness comes from the [`Rng`] passed in, so a run is a pure function of the seed.
///
/// Conventions (documented per environment):
/// - observations are [`Fix`] values, normalised to `[0, 1]` per channel unless the environment says
///   otherwise (encoders take the range they expect and clamp);
/// - actions are [`Fix`] values; a discrete choice among n options is a one-hot vector of length n
///   (what [`WinnerTakeAll`] produces; read it back with [`one_hot_index`]). An all-zero action means
///   "no choice" and every environment must accept it.
///
/// Lengths are fixed for the lifetime of the environment: the agent checks them once.
pub trait Environment {
    /// Number of observation channels.
    fn observation_len(&self) -> usize;

    /// Number of action channels.
    fn action_len(&self) -> usize;

    /// Starts a new episode (called before the first observation and after every `done`).
    fn reset(&mut self, rng: &mut Rng);

    /// Writes the current observation into `obs` (length [`Environment::observation_len`]).
    fn observe(&self, obs: &mut [Fix]);

    /// Applies an action (length [`Environment::action_len`]), advances the world by one control period
    /// and returns the reward and whether the episode ended.
    fn act(&mut self, action: &[Fix], rng: &mut Rng) -> Feedback;
}

/// The chosen option of a one-hot action: the index of the first channel ≥ 1/2, or `None` when no
/// channel is (the "no choice" action).
pub fn one_hot_index(action: &[Fix]) -> Option<usize> {
    action.iter().position(|&a| a >= Fix::from_bits(1 << 15))
}

/// Turns an observation into input spikes, one network step at a time.
///
/// Input neurons are numbered `0..input_len()`; each encoder documents which neuron codes what.
pub trait Encoder {
    /// Number of observation channels it reads.
    fn observation_len(&self) -> usize;

    /// Number of input neurons it drives.
    fn input_len(&self) -> usize;

    /// Takes a new observation (length [`Encoder::observation_len`]; extra channels are ignored,
    /// missing ones keep their last value). Called once per control period, before `encode`.
    fn load(&mut self, obs: &[Fix]);

    /// Emits this step's input spikes into `out`, in increasing neuron order. `out` is not cleared
    /// first (the caller does that); with room for [`Encoder::input_len`] spikes nothing is dropped.
    fn encode(&mut self, rng: &mut Rng, out: &mut Spikes<'_>);

    /// Forgets history at an episode boundary (only encoders with memory, like [`DeltaEncoder`], care).
    fn reset(&mut self) {}
}

/// Turns output spikes, counted over a window of network steps, into an action.
pub trait Decoder {
    /// Number of output neurons it reads (spikes of higher indices are ignored).
    fn output_len(&self) -> usize;

    /// Number of action channels it writes.
    fn action_len(&self) -> usize;

    /// Window length W in network steps: the decoder expects `record` W times per `decode`, and its
    /// scaling assumes exactly that.
    fn window(&self) -> u32;

    /// Counts one step's output spikes.
    fn record(&mut self, spikes: &[u16]);

    /// Writes the action for the counts so far into `action` (length [`Decoder::action_len`]) and
    /// starts a new window. The generator is used only by decoders that document it.
    fn decode(&mut self, action: &mut [Fix], rng: &mut Rng);

    /// Discards the counts of the current window.
    fn reset(&mut self);
}

/// A validated value range `[lo, hi]` with `lo < hi` and `hi - lo` representable in [`Fix`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Range {
    lo: Fix,
    span: Fix,
}

impl Range {
    /// Validates `lo < hi`, both finite and representable, `hi - lo < 32768`.
    pub fn new(what: &'static str, lo: f32, hi: f32) -> Result<Range, ConfigError> {
        let lo_f = fix_from_f32(what, lo)?;
        let hi_f = fix_from_f32(what, hi)?;
        if hi_f <= lo_f {
            return Err(ConfigError::Invalid {
                what: "range: lo must be below hi",
            });
        }
        let span = hi_f.checked_sub(lo_f).ok_or(ConfigError::OutOfRange {
            what,
            value: hi - lo,
        })?;
        Ok(Range { lo: lo_f, span })
    }

    /// Lower end.
    #[inline]
    pub fn lo(self) -> Fix {
        self.lo
    }

    /// Upper end (`lo + span`, cannot overflow: checked in `new`).
    #[inline]
    pub fn hi(self) -> Fix {
        self.lo.saturating_add(self.span)
    }

    /// `hi - lo`, positive.
    #[inline]
    pub fn span(self) -> Fix {
        self.span
    }

    /// Where `x` lies in the range, as `(x - lo)` clamped to `[0, span]`, in [`Fix`] bits (≥ 0).
    #[inline]
    fn offset_bits(self, x: Fix) -> u32 {
        let d = x.to_bits() as i64 - self.lo.to_bits() as i64;
        // `max`/`min`, not `clamp`, which panics on crossed bounds (the span is validated ≥ 0 at
        // construction, but the step path must not reach a panic)
        d.max(0).min(self.span.to_bits() as i64) as u32
    }

    /// `frac · p`: the fraction `(x - lo)/(hi - lo)` of `x`, clamped to `[0, 1]`, times `p`, rounded to
    /// nearest. One `u64` division (software on Cortex-M0; called once per channel per observation).
    #[inline]
    fn scale_frac(self, x: Fix, p: Frac) -> Frac {
        let num = self.offset_bits(x) as u64 * p.0 as u64; // < 2^31 · 2^32
        let den = self.span.to_bits() as u64; // > 0
        // ≤ p.0 because offset ≤ span, so the cast cannot truncate.
        Frac(((num + den / 2) / den) as u32)
    }
}

/// Spike probability per step of a neuron firing at `rate_hz` with time step `dt_ms`: `rate·dt`,
/// refused unless it lies in [0, 1].
pub(crate) fn rate_to_prob(
    what: &'static str,
    rate_hz: f32,
    dt_ms: f32,
) -> Result<Frac, ConfigError> {
    if !dt_ms.is_finite() || dt_ms <= 0.0 {
        return Err(ConfigError::InvalidTimeStep { dt_ms });
    }
    if !rate_hz.is_finite() || rate_hz < 0.0 {
        return Err(ConfigError::OutOfRange {
            what,
            value: rate_hz,
        });
    }
    // In f64 so that e.g. 200 Hz · 1 ms is 0.2 to within the Q0.32 rounding, not 0.2f32.
    let p = rate_hz as f64 * dt_ms as f64 / 1000.0;
    if p > 1.0 {
        return Err(ConfigError::OutOfRange {
            what,
            value: rate_hz,
        });
    }
    // Nearest Q0.32; p = 1 becomes the largest value below 1, as in `Frac::from_f32`.
    Ok(Frac(
        round_f64(p * 4_294_967_296.0).clamp(0, u32::MAX as i64) as u32,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_checks_and_scaling() {
        assert!(Range::new("r", 1.0, 1.0).is_err());
        assert!(Range::new("r", 2.0, 1.0).is_err());
        assert!(Range::new("r", f32::NAN, 1.0).is_err());
        assert!(Range::new("r", -30000.0, 30000.0).is_err());
        let r = Range::new("r", -1.0, 3.0).unwrap();
        assert_eq!(r.hi(), Fix::from_num(3));
        let p = Frac(1 << 31); // 0.5
        assert_eq!(r.scale_frac(Fix::from_num(1), p), Frac(1 << 30)); // half-way → 0.25
        assert_eq!(r.scale_frac(Fix::from_num(-5), p), Frac(0)); // clamped low
        assert_eq!(r.scale_frac(Fix::from_num(9), p), p); // clamped high
    }

    #[test]
    fn rate_to_prob_refuses_impossible_rates() {
        assert_eq!(rate_to_prob("rate", 250.0, 1.0).unwrap(), Frac(1 << 30));
        // 0.2 to the nearest Q0.32 value, not 0.2f32
        assert_eq!(rate_to_prob("rate", 200.0, 1.0).unwrap(), Frac(858_993_459));
        assert!(rate_to_prob("rate", 1000.0, 1.0).is_ok());
        assert!(rate_to_prob("rate", 1001.0, 1.0).is_err());
        assert!(rate_to_prob("rate", -1.0, 1.0).is_err());
        assert!(rate_to_prob("rate", f32::NAN, 1.0).is_err());
        assert!(rate_to_prob("rate", 10.0, 0.0).is_err());
    }

    #[test]
    fn one_hot_reads_choice() {
        let z = Fix::ZERO;
        assert_eq!(one_hot_index(&[z, Fix::ONE, z]), Some(1));
        assert_eq!(one_hot_index(&[z, z]), None);
    }
}
