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
//! | [`Variance`] | `activity.rs` | mean y² (output units²) | maximised | per neuron E\[y²\] | Oja (ascends it), BCM (θ = E\[y²\]) |
//!
//! All of them implement [`Objective`], so a logger or the agent can treat them alike: [`Objective::value`],
//! [`Objective::average`], [`Objective::signal`] and the associated [`Objective::DIRECTION`].
//!
//! ## Where it sits in the loop
//! The environment returns a [`Feedback`](crate::env::Feedback); an objective turns it (or the network's
//! outputs and a target) into a signal; [`Brain::modulate`](crate::agent::Brain::modulate) and the
//! rules read the signal. [`RewardPrediction::modulation`] builds the
//! [`Modulation`](crate::agent::Modulation) the agent hands to the brain, with the reward-prediction
//! error as the third factor. Inside the brain, [`Signal::route`] places an objective's signal in the
//! rules' [`Signals`]: a global signal as the broadcast modulator, a per-neuron
//! one as the post-synaptic signal. The sign conventions match the rule presets: PES and e-prop
//! descend with `−e`, e = y − y*; synaptic scaling grows weights with `r* − r`.
//!
//! ## Numbers
//! Values, signals and per-neuron states are [`Fix`] (Q16.16). Averaging gains are [`Frac`](crate::num::Frac)
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
//! configured length N; so that the step path stays total, extra entries are ignored and missing ones
//! read as 0 (a squared-error objective writes a zero error for them), and means are still taken
//! over N.

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
use crate::rule::Signals;

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

    /// Puts the signal where a rule reads it: a global value becomes the broadcast
    /// [`Signals::modulator`] ([`Post::Modulator`](crate::rule::Post::Modulator)), a per-neuron one
    /// the [`Signals::post_signal`] ([`Post::Signal`](crate::rule::Post::Signal)); the other fields
    /// of `signals` are kept.
    #[inline]
    pub fn route(self, signals: Signals<'a>) -> Signals<'a> {
        match self {
            Signal::Global(m) => Signals {
                modulator: m,
                ..signals
            },
            Signal::PerNeuron(e) => Signals {
                post_signal: e,
                ..signals
            },
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
        let e = [a, b];
        let s = Signal::PerNeuron(&e).route(Signals::NONE);
        assert_eq!((s.post_signal, s.modulator), (&e[..], Fix::ZERO));
        let s = Signal::Global(b).route(s);
        assert_eq!((s.post_signal, s.modulator), (&e[..], b));
    }

    /// End to end: the mean-squared-error objective's per-neuron error, routed to the PES preset,
    /// makes the objective fall (signs agree: a flipped error would make it grow).
    #[test]
    fn mse_signal_drives_pes_downhill() {
        use crate::num::{Rng, Scale};
        use crate::projection::Dense;
        use crate::rule::{Plastic, Pre, Rule, RuleParams, RuleStorage, WeightFormat};

        let fmt = WeightFormat::new(16, -1.0, 1.0);
        let scale: Scale = fmt.scale().unwrap();
        let rule =
            Rule::new::<i16>(&RuleParams::pes(0.05, Pre::Rate, None), &fmt, scale, 1.0).unwrap();
        let (mut w, mut acc) = ([0i16; 3], [0i32; 1]);
        let proj = Dense::new(3, 1, &mut w, &mut acc, scale).unwrap();
        let storage = RuleStorage {
            pre_traces: &mut [],
            post_traces: &mut [],
            eligibility: &mut [],
            theta: &mut [],
        };
        let mut pes = Plastic::new(proj, rule, storage, 1).unwrap();
        let mut errors = [Fix::ZERO; 1];
        let p = MeanSquaredErrorParams {
            average: Averaging::TimeConstant { tau_ms: 50.0 },
        };
        let mut mse = MeanSquaredError::new(p, 1.0, &mut errors).unwrap();
        let w_star = [0.5, -0.3, 0.2];
        let mut rng = Rng::new(12);
        // Before learning (w = 0) the expected MSE is Σw*²/12 + (Σw*/2)² = 0.0717; measure the first
        // 10 steps, when the weights have barely moved.
        let mut start = 0.0;
        for step in 0..3000 {
            let x = [rng.uniform(), rng.uniform(), rng.uniform()];
            let y: f64 = pes
                .proj
                .weights()
                .iter()
                .zip(&x)
                .map(|(&wi, xi)| scale.to_f32(wi as i32) as f64 * xi.to_num::<f64>())
                .sum();
            let t: f64 = w_star
                .iter()
                .zip(&x)
                .map(|(wi, xi)| wi * xi.to_num::<f64>())
                .sum();
            mse.update(&[Fix::from_num(y)], &[Fix::from_num(t)]);
            if step < 10 {
                start += mse.value().to_num::<f64>() / 10.0;
            }
            let sig = mse.signal().route(Signals {
                pre_rate: &x,
                ..Signals::NONE
            });
            pes.learn(&[], &[], &sig);
        }
        let end = mse.average().to_num::<f64>();
        assert!(start > 0.03, "{start}");
        assert!(end < start / 100.0, "MSE {start} -> {end}");
        for (&wi, ws) in pes.proj.weights().iter().zip(w_star) {
            assert!((scale.to_f32(wi as i32) as f64 - ws).abs() < 0.02);
        }
    }
}
