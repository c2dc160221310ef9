//! Objective functions: the value a user logs every step **and** the signal that reaches the rules.
//!
//! Following Richards et al. (2019), a model is an architecture, a learning rule and an objective. An
//! objective here is a small fixed-point type updated once per step (or per trial) from what the
//! network did and what the environment said. It keeps two things:
//! - a **value**: the scalar being optimised, for logging and learning curves, with a running
//!   **average** of it (an exponential average, see [`RunningMean`]);
//! - a **signal**: what a learning rule reads — a global third factor (a reward-prediction error, the
//!   "dopamine" of three-factor rules) or a per-neuron error written into caller storage (the third
//!   factor of PES / the delta rule and of the e-prop readout, the rate error of homeostasis).
//!
//! | objective | file | value (units) | direction | signal | drives |
//! | --- | --- | --- | --- | --- | --- |
//! | [`RewardPrediction`] | `reward.rs` | reward r; average = baseline b | maximised | global δ = r − b | reward-modulated STDP, any three-factor rule |
//! | [`Neuromodulator`] (not an objective: a carrier) | `reward.rs` | concentration d | — | global d (+ tonic) | Izhikevich (2007) dopamine-modulated STDP |
//! | [`MeanSquaredError`] | `squared.rs` | mean (y − y*)² (output units²) | minimised | per neuron e = y − y* | PES / delta rule, e-prop readout |
//! | [`Reconstruction`] | `squared.rs` | mean (x − x̂)² (input units²) | minimised | per input r = x − x̂ | Oja subspace / autoencoder rules |
//! | [`RateTarget`] | `activity.rs` | mean (r − r*)² (Hz²) | minimised | per neuron r* − r (Hz) | synaptic scaling, intrinsic plasticity |
//! | [`Sparsity`] | `activity.rs` | mean \|y\| or fraction active | minimised | per neuron ā − p | Földiák-style threshold adaptation |
//! | [`Variance`] | `activity.rs` | mean y² (output units²) | maximised | per neuron E[y²] | Oja (ascends it), BCM (θ = E[y²]) |
//!
//! All of them implement [`Objective`], so a logger or the agent can treat them alike: [`Objective::value`],
//! [`Objective::average`], [`Objective::signal`] and the associated [`Objective::DIRECTION`].
//!
//! ## Where it sits in the loop
//! The environment returns a [`Feedback`](crate::env::Feedback); an objective turns it (or the network's
//! outputs and a target) into a signal; [`Brain::modulate`](crate::agent::Brain::modulate) and the
//! rules read the signal. [`RewardPrediction::modulation`] builds the
//! [`Modulation`](crate::agent::Modulation) the agent hands to the brain, with the reward-prediction
//! error as the third factor.
//!
//! ## Numbers
//! Values, signals and per-neuron states are [`Fix`] (Q16.16). Averaging gains are [`Frac`]
//! (Q0.32). Every difference saturates; every square is computed exactly in 64 bits (a square of a
//! [`Fix`] has 32 fractional bits and at most 62 integer-and-fraction bits) and summed with saturation,
//! so a mean of squares is exact up to one final rounding to nearest and saturates at `Fix::MAX`
//! (≈ 32768) instead of wrapping. Scalar running averages keep 32 fractional bits (see
//! [`RunningMean`]); per-neuron running averages live in caller [`Fix`] storage and round to nearest,
//! which leaves a dead band of at most `0.5 LSB / α` around the true average (α the averaging gain;
//! e.g. 0.0076 for α = 0.001) — each type states its bound.
//!
//! ## Sizes
//! Per-neuron objectives borrow their storage from the caller (like [`Population`](crate::neuron::Population))
//! and refuse, at construction, empty storage, storage of different lengths and more than
//! [`MAX_NEURONS`](crate::neuron::MAX_NEURONS) neurons. The slices passed to `update` should have the
//! configured length N; if one is shorter, the missing entries count as zero error (their signal is
//! set to zero) and the mean is still taken over N, so the step path stays total.

mod activity;
mod average;
mod reward;
mod squared;

pub use activity::{
    RateTarget, RateTargetParams, Sparsity, SparsityParams, Variance, VarianceParams,
};
pub use average::{Averaging, RunningMean};
pub use reward::{Neuromodulator, NeuromodulatorParams, RewardPrediction, RewardPredictionParams};
pub use squared::{MeanSquaredError, MeanSquaredErrorParams, Reconstruction, ReconstructionParams};

use crate::num::Fix;

/// Whether an objective is meant to go down or up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Direction {
    /// Lower is better (errors, penalties).
    Minimise,
    /// Higher is better (reward, variance).
    Maximise,
}

impl Direction {
    /// `true` if going from `before` to `after` is an improvement (strictly).
    #[inline]
    pub fn improves(self, before: Fix, after: Fix) -> bool {
        match self {
            Direction::Minimise => after < before,
            Direction::Maximise => after > before,
        }
    }
}

/// What an objective hands to the learning rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Signal<'a> {
    /// One value broadcast to every synapse (a neuromodulator, a reward-prediction error).
    Global(Fix),
    /// One value per neuron, indexed like the population it belongs to (an error, a rate deviation).
    PerNeuron(&'a [Fix]),
}

impl<'a> Signal<'a> {
    /// The signal for neuron `j`: the global value for every `j`, or the `j`-th entry (0 beyond the
    /// end, so a rule can index without a panic path).
    #[inline]
    pub fn at(&self, j: usize) -> Fix {
        match *self {
            Signal::Global(x) => x,
            Signal::PerNeuron(xs) => xs.get(j).copied().unwrap_or(Fix::ZERO),
        }
    }
}

/// A first-class objective: a value to log and a signal for the rules.
///
/// `value` and `signal` describe the last `update` (each type's own method, whose arguments differ:
/// a reward, outputs and targets, spikes); `average` is the running (exponential) average of `value`,
/// the learning curve to log.
pub trait Objective {
    /// Whether the rules driven by this objective should make `value` go down or up.
    const DIRECTION: Direction;

    /// The objective's value at the last update.
    fn value(&self) -> Fix;

    /// The running average of [`Objective::value`].
    fn average(&self) -> Fix;

    /// The signal the rules read.
    fn signal(&self) -> Signal<'_>;
}

/// Validates a per-neuron size: `1 ≤ n ≤ MAX_NEURONS`.
fn neuron_count(what: &'static str, n: usize) -> Result<core::num::NonZeroU64, crate::ConfigError> {
    if n > crate::neuron::MAX_NEURONS {
        return Err(crate::ConfigError::TooLarge {
            what,
            got: n,
            max: crate::neuron::MAX_NEURONS,
        });
    }
    core::num::NonZeroU64::new(n as u64).ok_or(crate::ConfigError::Invalid {
        what: "an objective needs at least one neuron",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_and_signal() {
        let (a, b) = (Fix::from_num(1), Fix::from_num(2));
        assert!(Direction::Minimise.improves(b, a));
        assert!(!Direction::Minimise.improves(a, b));
        assert!(Direction::Maximise.improves(a, b));
        assert!(!Direction::Maximise.improves(a, a));
        let xs = [a, b];
        assert_eq!(Signal::PerNeuron(&xs).at(1), b);
        assert_eq!(Signal::PerNeuron(&xs).at(2), Fix::ZERO);
        assert_eq!(Signal::Global(a).at(1000), a);
        assert!(neuron_count("n", 0).is_err());
        assert!(neuron_count("n", 65_536).is_err());
        assert_eq!(neuron_count("n", 3).unwrap().get(), 3);
    }
}
