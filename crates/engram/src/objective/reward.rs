//! Reward: a running baseline and the reward-prediction error, and a dopamine-like neuromodulator.

use super::average::{Averaging, RunningMean};
use super::{Direction, Objective, Signal};
use crate::agent::Modulation;
use crate::env::Feedback;
use crate::error::ConfigError;
use crate::num::{Fix, Frac, fix_from_f32};

/// Configuration of a [`RewardPrediction`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RewardPredictionParams {
    /// How the baseline follows the reward: per trial ([`Averaging::Rate`]) or with a time constant
    /// over the update interval `dt_ms` ([`Averaging::TimeConstant`]).
    pub baseline: Averaging,
    /// The baseline before the first reward (reward units; usually 0).
    pub initial_baseline: f32,
}

/// Expected reward and reward-prediction error: the global third factor of reward-modulated rules.
///
/// ```text
/// δ = r − b          (the prediction error of this reward: b is the baseline *before* seeing r)
/// b ← b + α·(r − b)  (α = 1 − e^{−dt/τ_b}, or a per-trial rate; see [`Averaging`])
/// ```
/// - **Value**: the reward r of the last update; **average**: the baseline b, i.e. the running mean
///   reward — the learning curve to log. **Direction**: maximised.
/// - **Signal**: [`Signal::Global`]`(δ)`. δ > 0 when the reward beats expectation, δ < 0 when it falls
///   short, and E\[δ\] → 0 once b has converged on a stationary reward stream: rules that multiply an
///   eligibility trace by δ (reward-modulated STDP in the Frémaux & Gerstner 2016 form, any
///   three-factor rule) then follow the covariance of reward and activity rather than the reward
///   itself. Feed δ (or a gain times δ) to a [`Neuromodulator`] for a slow dopamine-like signal.
///
/// `dt_ms` is the interval between updates (for the agent: the control period). Units are the
/// environment's reward units; |r| and |b| < 32768. δ saturates at the [`Fix`] range; b is a
/// [`RunningMean`] (32 fractional bits, settles within 2^-17 of a constant reward).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RewardPrediction {
    baseline: RunningMean,
    initial: Fix,
    reward: Fix,
    delta: Fix,
}

impl RewardPrediction {
    /// Validates `p` for an update interval of `dt_ms`.
    pub fn new(p: RewardPredictionParams, dt_ms: f32) -> Result<Self, ConfigError> {
        let initial = fix_from_f32("initial reward baseline", p.initial_baseline)?;
        let baseline = RunningMean::new(p.baseline, "reward baseline", dt_ms)?.starting_at(initial);
        Ok(RewardPrediction {
            baseline,
            initial,
            reward: Fix::ZERO,
            delta: Fix::ZERO,
        })
    }

    /// Takes a reward: computes δ = r − b with the current baseline, then moves the baseline toward
    /// r. Returns δ.
    #[inline]
    pub fn update(&mut self, reward: Fix) -> Fix {
        self.reward = reward;
        self.delta = reward.saturating_sub(self.baseline.value());
        self.baseline.update(reward);
        self.delta
    }

    /// Takes the environment's feedback and returns what the brain should receive: the reward, δ as
    /// the third factor, and the episode flag. This is the hook between
    /// [`Environment::act`](crate::env::Environment::act) and
    /// [`Brain::modulate`](crate::agent::Brain::modulate).
    #[inline]
    pub fn modulation(&mut self, feedback: Feedback) -> Modulation {
        let delta = self.update(feedback.reward);
        Modulation {
            reward: feedback.reward,
            third_factor: delta,
            done: feedback.done,
        }
    }

    /// The reward-prediction error δ of the last update.
    #[inline]
    pub fn prediction_error(&self) -> Fix {
        self.delta
    }

    /// The baseline b: the running mean reward (after the last update).
    #[inline]
    pub fn baseline(&self) -> Fix {
        self.baseline.value()
    }

    /// The last reward.
    #[inline]
    pub fn reward(&self) -> Fix {
        self.reward
    }

    /// Restores the initial baseline and clears δ.
    pub fn reset(&mut self) {
        self.baseline.set(self.initial);
        self.reward = Fix::ZERO;
        self.delta = Fix::ZERO;
    }
}

/// The complete state, for state hashes ([`crate::hash`]): the baseline's unrounded
/// running mean (and whether it is primed), the last reward and the last δ; the averaging gain and
/// the initial baseline are configuration.
impl crate::hash::StateHash for RewardPrediction {
    fn hash_into(&self, h: &mut crate::hash::Fnv64) {
        self.baseline.hash_into(h);
        self.reward.hash_into(h);
        self.delta.hash_into(h);
    }
}

impl Objective for RewardPrediction {
    const DIRECTION: Direction = Direction::Maximise;

    fn value(&self) -> Fix {
        self.reward
    }

    fn average(&self) -> Fix {
        self.baseline()
    }

    fn signal(&self) -> Signal<'_> {
        Signal::Global(self.delta)
    }
}

/// Configuration of a [`Neuromodulator`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NeuromodulatorParams {
    /// Decay time constant τ_d (ms).
    pub tau_ms: f32,
    /// Amount one [`Neuromodulator::pulse`] adds (concentration units, e.g. μM).
    pub pulse: f32,
    /// Constant tonic level added to the concentration in [`Neuromodulator::level`].
    pub tonic: f32,
}

impl NeuromodulatorParams {
    /// Dopamine in Izhikevich (2007), "Solving the distal reward problem through linkage of STDP and
    /// dopamine signaling": τ_d = 200 ms, a reward adds 0.5 μM, and a tonic 0.002 is added to the
    /// concentration where it gates plasticity (the constant of the published MATLAB code,
    /// `(0.002 + DA)·sd`).
    pub const IZHIKEVICH_2007: NeuromodulatorParams = NeuromodulatorParams {
        tau_ms: 200.0,
        pulse: 0.5,
        tonic: 0.002,
    };
}

/// Smallest and largest concentration in Q32.32 (the [`Fix`] range shifted by 16).
const Q32_MIN: i64 = (i32::MIN as i64) << 16;
const Q32_MAX: i64 = (i32::MAX as i64) << 16;

/// A decaying neuromodulator concentration: a trace of reward pulses (dopamine in Izhikevich 2007).
///
/// ```text
/// τ_d dd/dt = −d + Σ_k A_k δ(t − t_k)      level = tonic + d
/// ```
/// Discretisation: exact decay `d ← d·e^{−dt/τ_d}` per [`Neuromodulator::step`], then releases add
/// `A_k` ([`Neuromodulator::pulse`] adds the configured amount, [`Neuromodulator::release`] any amount,
/// e.g. a gain times a reward-prediction error; negative amounts are dips). A release made in a step
/// is seen at full strength by the rules in that step.
///
/// Not an objective (it has no direction): it is a carrier that turns sparse reward events into the
/// slow, global third factor of dopamine-modulated STDP, read with [`Neuromodulator::level`].
///
/// Fixed point: d is kept in Q32.32 (`i64`), so a pulse decays to (numerically) zero instead of
/// sticking at the `0.5 LSB / (1 − e^{−dt/τ})` floor a [`Fix`] trace has (0.0015 for τ = 200 dt);
/// the product with the [`Frac`] decay is split into 32-bit halves so it fits `i64`, rounded to
/// nearest. Releases saturate at the [`Fix`] range; [`Neuromodulator::level`] rounds to nearest
/// [`Fix`] and saturates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Neuromodulator {
    decay: Frac,
    pulse: Fix,
    tonic: Fix,
    /// d in Q32.32, within `[Q32_MIN, Q32_MAX]`.
    acc: i64,
}

impl Neuromodulator {
    /// Validates `p` for time step `dt_ms` (τ > dt, amounts within the [`Fix`] range).
    pub fn new(p: NeuromodulatorParams, dt_ms: f32) -> Result<Self, ConfigError> {
        Ok(Neuromodulator {
            decay: Frac::decay("neuromodulator tau", p.tau_ms, dt_ms)?,
            pulse: fix_from_f32("neuromodulator pulse", p.pulse)?,
            tonic: fix_from_f32("neuromodulator tonic level", p.tonic)?,
            acc: 0,
        })
    }

    /// One time step of decay.
    #[inline]
    pub fn step(&mut self) {
        // acc = hi·2^32 + lo with lo in [0, 2^32): acc·a / 2^32 = hi·a + lo·a / 2^32.
        // |hi| ≤ 2^15, so |hi·a| < 2^47; lo·a ≤ (2^32 − 1)² leaves room for the rounding half.
        let a = self.decay.0 as u64;
        let hi = self.acc >> 32;
        let lo = self.acc as u64 & 0xFFFF_FFFF;
        let lo_part = ((lo * a + (1 << 31)) >> 32) as i64;
        self.acc = hi * a as i64 + lo_part;
    }

    /// Adds the configured pulse (a reward event).
    #[inline]
    pub fn pulse(&mut self) {
        self.release(self.pulse);
    }

    /// Adds `amount` (negative for a dip), saturating at the [`Fix`] range.
    #[inline]
    pub fn release(&mut self, amount: Fix) {
        self.acc = (self.acc + ((amount.to_bits() as i64) << 16)).clamp(Q32_MIN, Q32_MAX);
    }

    /// The phasic concentration d in Q32.32, unrounded: the complete state (for state hashes and
    /// checkpoints; [`Neuromodulator::concentration`] rounds it).
    #[inline]
    pub fn raw(&self) -> i64 {
        self.acc
    }

    /// The phasic concentration d, rounded to nearest [`Fix`].
    #[inline]
    pub fn concentration(&self) -> Fix {
        Fix::from_bits(crate::num::sat_i32(crate::num::shr_round(self.acc, 16)))
    }

    /// What the rules read: `tonic + d`, saturating.
    #[inline]
    pub fn level(&self) -> Fix {
        self.tonic.saturating_add(self.concentration())
    }

    /// Clears the phasic concentration (the tonic level stays).
    pub fn reset(&mut self) {
        self.acc = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::Rng;

    fn f(x: f64) -> Fix {
        Fix::from_num(x)
    }

    fn per_trial(alpha: f32) -> RewardPrediction {
        RewardPrediction::new(
            RewardPredictionParams {
                baseline: Averaging::Rate { alpha },
                initial_baseline: 0.0,
            },
            20.0,
        )
        .unwrap()
    }

    #[test]
    fn baseline_converges_to_mean_reward_and_rpe_is_centred() {
        // Rewards: 1 with probability 0.3, else 0, plus N(0, 0.25²) noise: mean 0.3.
        let mut rpe = per_trial(0.02);
        let mut rng = Rng::new(17);
        let p = Frac::from_f32("p", 0.3).unwrap();
        let draw = |rng: &mut Rng| {
            let hit = if rng.bernoulli(p) {
                Fix::ONE
            } else {
                Fix::ZERO
            };
            hit + rng.normal() / 4
        };
        for _ in 0..2000 {
            rpe.update(draw(&mut rng));
        }
        let n = 40_000;
        let (mut sum_b, mut sum_d, mut sum_r) = (0.0, 0.0, 0.0);
        for _ in 0..n {
            let d = rpe.update(draw(&mut rng)).to_num::<f64>();
            sum_d += d;
            sum_r += rpe.reward().to_num::<f64>();
            sum_b += rpe.baseline().to_num::<f64>();
        }
        let (mean_b, mean_d, mean_r) = (sum_b / n as f64, sum_d / n as f64, sum_r / n as f64);
        // sd of one reward ≈ 0.52; of a 40 000-sample mean ≈ 0.0026. Tolerance ±0.012 (≈ 4.5 σ).
        assert!((mean_r - 0.3).abs() < 0.012, "rewards {mean_r}");
        assert!((mean_b - 0.3).abs() < 0.012, "baseline {mean_b}");
        // Σδ = (b_end − b_start)/α exactly up to rounding, so the mean δ is tiny: |Δb| ≤ 2 gives
        // |mean δ| ≤ 2/(0.02·40 000) = 0.0025.
        assert!(mean_d.abs() < 0.003, "mean δ {mean_d}");
        // Without a baseline (δ = r) the mean would be 0.3: the test sees the subtraction.
        assert_eq!(RewardPrediction::DIRECTION, Direction::Maximise);
        assert_eq!(rpe.value(), rpe.reward());
        assert_eq!(rpe.average(), rpe.baseline());
    }

    #[test]
    fn rpe_sign_follows_surprise() {
        let mut rpe = per_trial(0.1);
        for _ in 0..400 {
            rpe.update(f(0.5));
        }
        assert_eq!(rpe.baseline(), f(0.5));
        assert_eq!(rpe.prediction_error(), Fix::ZERO);
        // Better than expected: δ = r − b before the update.
        assert_eq!(rpe.update(f(1.0)), f(0.5));
        assert_eq!(rpe.signal(), Signal::Global(f(0.5)));
        assert!(rpe.baseline() > f(0.5));
        // Worse than expected.
        let d = rpe.update(f(0.0));
        assert!(d < Fix::ZERO && d > f(-0.6), "{d}");
        // Time-constant form: α = 1 − e^{−20/200} ≈ 0.0952 per 20-ms trial.
        let mut tc = RewardPrediction::new(
            RewardPredictionParams {
                baseline: Averaging::TimeConstant { tau_ms: 200.0 },
                initial_baseline: 1.0,
            },
            20.0,
        )
        .unwrap();
        assert_eq!(tc.baseline(), f(1.0));
        assert_eq!(tc.update(f(2.0)), f(1.0));
        let want = 1.0 + (1.0 - (-0.1f64).exp());
        assert!((tc.baseline().to_num::<f64>() - want).abs() < 2e-5);
        tc.reset();
        assert_eq!(tc.baseline(), f(1.0));
        assert_eq!(tc.prediction_error(), Fix::ZERO);
    }

    #[test]
    fn modulation_carries_the_prediction_error() {
        let mut rpe = per_trial(0.5);
        let m = rpe.modulation(Feedback {
            reward: f(2.0),
            done: true,
        });
        assert_eq!(
            m,
            Modulation {
                reward: f(2.0),
                third_factor: f(2.0),
                done: true
            }
        );
        let m = rpe.modulation(Feedback {
            reward: f(2.0),
            done: false,
        });
        assert_eq!(m.third_factor, f(1.0)); // b = 1 after the first trial
        assert!(!m.done);
    }

    #[test]
    fn reward_prediction_refuses_bad_config_and_saturates() {
        let bad = |baseline, initial_baseline, dt| {
            RewardPrediction::new(
                RewardPredictionParams {
                    baseline,
                    initial_baseline,
                },
                dt,
            )
            .is_err()
        };
        assert!(bad(Averaging::TimeConstant { tau_ms: 20.0 }, 0.0, 20.0));
        assert!(bad(Averaging::TimeConstant { tau_ms: 10.0 }, 0.0, 20.0));
        assert!(bad(Averaging::Rate { alpha: 0.0 }, 0.0, 20.0));
        assert!(bad(Averaging::Rate { alpha: 0.1 }, 1e6, 20.0));
        assert!(bad(Averaging::Rate { alpha: 0.1 }, f32::NAN, 20.0));
        let mut rpe = RewardPrediction::new(
            RewardPredictionParams {
                baseline: Averaging::Rate { alpha: 0.001 },
                initial_baseline: -30000.0,
            },
            1.0,
        )
        .unwrap();
        assert_eq!(rpe.update(Fix::MAX), Fix::MAX);
        rpe.reset();
        let mut rpe2 = rpe;
        rpe2.baseline.set(Fix::MAX);
        assert_eq!(rpe2.update(Fix::MIN), Fix::MIN);
    }

    #[test]
    fn neuromodulator_pulse_decays_with_tau() {
        let dt = 1.0;
        let mut da = Neuromodulator::new(NeuromodulatorParams::IZHIKEVICH_2007, dt).unwrap();
        assert_eq!(da.level(), f(0.002));
        da.pulse();
        assert_eq!(da.concentration(), f(0.5));
        let mut checked = 0;
        for t in 1..=2000u32 {
            da.step();
            let want = 0.5 * (-(t as f64) * dt as f64 / 200.0).exp();
            let got = da.concentration().to_num::<f64>();
            // Q32.32 state: the only visible error is the final rounding to Fix (+ the decay factor's
            // 2^-33 relative rounding, accumulated over ≤ 2000 steps).
            assert!(
                (got - want).abs() <= 1.0 / 65536.0,
                "t={t}: {got} vs {want}"
            );
            if t == 200 {
                // one time constant: 1/e of the pulse
                assert!((got / 0.5 - (-1f64).exp()).abs() < 1e-4);
                checked += 1;
            }
        }
        assert_eq!(checked, 1);
        // After 10 τ the pulse is gone (0.5·e^-10 = 2.3e-5); a Fix trace would stick near 0.0015.
        assert!(da.concentration().to_num::<f64>() < 3e-5);
        assert_eq!(da.level(), f(0.002) + da.concentration());
        // Dips decay the same way.
        da.reset();
        da.release(f(-1.0));
        for _ in 0..200 {
            da.step();
        }
        assert!((da.concentration().to_num::<f64>() + (-1f64).exp()).abs() < 2e-5);
    }

    #[test]
    fn neuromodulator_refuses_bad_config_and_saturates() {
        let p = NeuromodulatorParams::IZHIKEVICH_2007;
        assert!(Neuromodulator::new(p, 200.0).is_err());
        assert!(Neuromodulator::new(p, 0.0).is_err());
        assert!(Neuromodulator::new(NeuromodulatorParams { tau_ms: -1.0, ..p }, 1.0).is_err());
        assert!(Neuromodulator::new(NeuromodulatorParams { pulse: 1e9, ..p }, 1.0).is_err());
        let mut da = Neuromodulator::new(p, 1.0).unwrap();
        for _ in 0..10 {
            da.release(Fix::MAX);
            da.step();
        }
        da.release(Fix::MAX);
        assert_eq!(da.concentration(), Fix::MAX);
        assert_eq!(da.level(), Fix::MAX);
        for _ in 0..30 {
            da.release(Fix::MIN);
        }
        assert_eq!(da.concentration(), Fix::MIN);
        da.step();
        assert!(da.concentration() > Fix::MIN);
    }
}
