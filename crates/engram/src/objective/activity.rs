//! Activity objectives: a target firing rate (homeostasis), sparsity, and output variance.

use core::num::NonZeroU64;

use super::average::{Averaging, RunningMean, SquareSum, ema, mean_fix, square};
use super::{Direction, Objective, Signal, neuron_count};
use crate::error::{ConfigError, check_len};
use crate::num::{Fix, Frac, exp_f64, fix_from_f32, round_f64};
use crate::trace::{Trace, TraceMode};

/// Configuration of a [`RateTarget`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateTargetParams {
    /// The rate every neuron should fire at (Hz), `0 ≤ r* ≤ 1000/dt`.
    pub target_hz: f32,
    /// Time constant of the rate estimate (ms); homeostasis is slow: hundreds of ms to seconds.
    pub tau_ms: f32,
    /// Averaging of the logged value (updated every step).
    pub average: Averaging,
}

/// A target firing rate for every neuron of a population: the objective of homeostatic plasticity.
///
/// ```text
/// τ dr_j/dt = −r_j + Σ_k δ(t − t_j^k)·1000 ms/s    (rate estimate, Hz)
/// s_j = r* − r_j                                     (per-neuron rate error, Hz)
/// L   = (1/N) Σ_j (r_j − r*)²                        (Hz²)
/// ```
/// - **Value**: L; **average**: its running mean. **Direction**: minimised.
/// - **Signal**: [`Signal::PerNeuron`]`(s)` in the caller's `errors` storage. s > 0: the neuron fires
///   too little — scale its input weights up (synaptic scaling, Turrigiano 1998; van Rossum et al.
///   2000) or lower its threshold (intrinsic plasticity); s < 0: the reverse.
///
/// Discretisation: an exponential trace per neuron in the caller's `rates` storage (a [`Trace`] in
/// accumulate mode): each step `r_j ← r_j·e^{−dt/τ}`, then every neuron that spiked adds
/// `(1 − e^{−dt/τ})·1000/dt` Hz. With that impulse the stationary mean of `r_j` is *exactly* the
/// spike probability per step times `1000/dt`, i.e. the true rate of a Poisson (Bernoulli) train; its
/// standard deviation is about `√(rate·1000 Hz/(2τ))` (3.2 Hz for 20 Hz at τ = 1 s).
///
/// Fixed point: rates and errors are [`Fix`] in Hz (up to `1000/dt`, so `dt ≥ 0.031 ms`); the decay
/// rounds to nearest, which biases `r_j` by at most `0.5 LSB / (1 − e^{−dt/τ})` (0.0076 Hz for
/// τ = 1000 dt); the impulse is rounded once (relative error ≤ 2^-17 / impulse). L is computed exactly
/// and saturates at `Fix::MAX` (RMS deviation ≥ 181 Hz). Rates start at the target (no homeostatic
/// push before there is evidence); [`RateTarget::reset`] restores that.
#[derive(Debug)]
pub struct RateTarget<'a> {
    trace: Trace,
    target: Fix,
    rates: &'a mut [Fix],
    errors: &'a mut [Fix],
    n: NonZeroU64,
    value: Fix,
    average: RunningMean,
}

impl<'a> RateTarget<'a> {
    /// N = `rates.len()` neurons (1 ≤ N ≤ 65 535, `errors` of the same length), time step `dt_ms`.
    pub fn new(
        p: RateTargetParams,
        dt_ms: f32,
        rates: &'a mut [Fix],
        errors: &'a mut [Fix],
    ) -> Result<Self, ConfigError> {
        let n = neuron_count("rate target neurons", rates.len())?;
        check_len("rate target errors", rates.len(), errors.len())?;
        let decay = Frac::decay("rate estimate tau", p.tau_ms, dt_ms)?;
        let max_hz = 1000.0 / dt_ms as f64;
        if max_hz >= 32767.0 {
            return Err(ConfigError::InvalidTimeStep { dt_ms });
        }
        if !(p.target_hz >= 0.0 && p.target_hz as f64 <= max_hz) {
            return Err(ConfigError::OutOfRange {
                what: "target rate (Hz): needs 0 ≤ r* ≤ 1000/dt",
                value: p.target_hz,
            });
        }
        let impulse = (1.0 - exp_f64(-(dt_ms as f64) / p.tau_ms as f64)) * max_hz;
        let impulse = Fix::from_bits(round_f64(impulse * 65536.0) as i32);
        if impulse == Fix::ZERO {
            return Err(ConfigError::OutOfRange {
                what: "rate estimate tau (ms): the per-spike increment rounds to zero",
                value: p.tau_ms,
            });
        }
        let target = fix_from_f32("target rate", p.target_hz)?;
        let average = RunningMean::new(p.average, "rate target average", dt_ms)?;
        rates.fill(target);
        errors.fill(Fix::ZERO);
        Ok(RateTarget {
            trace: Trace {
                decay,
                impulse,
                mode: TraceMode::Accumulate,
            },
            target,
            rates,
            errors,
            n,
            value: Fix::ZERO,
            average,
        })
    }

    /// One time step: `spikes` are the indices of the neurons that spiked (each at most once; indices
    /// ≥ N are ignored). Updates the rates and errors, returns L.
    pub fn update(&mut self, spikes: &[u16]) -> Fix {
        self.trace.step(self.rates, spikes);
        let mut sum = SquareSum::default();
        for (e, &r) in self.errors.iter_mut().zip(self.rates.iter()) {
            *e = self.target.saturating_sub(r);
            sum.add(*e);
        }
        self.value = sum.mean(self.n);
        self.average.update(self.value);
        self.value
    }

    /// The rate estimates (Hz).
    #[inline]
    pub fn rates(&self) -> &[Fix] {
        self.rates
    }

    /// The rate errors `r* − r_j` (Hz) of the last update.
    #[inline]
    pub fn errors(&self) -> &[Fix] {
        self.errors
    }

    /// The target rate r* (Hz).
    #[inline]
    pub fn target(&self) -> Fix {
        self.target
    }

    /// The running average of the value (its unrounded state: [`RunningMean::raw`]).
    #[inline]
    pub fn running_mean(&self) -> &RunningMean {
        &self.average
    }

    /// Rates back to the target, errors and average cleared.
    pub fn reset(&mut self) {
        self.rates.fill(self.target);
        self.errors.fill(Fix::ZERO);
        self.value = Fix::ZERO;
        self.average.reset();
    }
}

impl Objective for RateTarget<'_> {
    const DIRECTION: Direction = Direction::Minimise;

    fn value(&self) -> Fix {
        self.value
    }

    fn average(&self) -> Fix {
        self.average.value()
    }

    fn signal(&self) -> Signal<'_> {
        Signal::PerNeuron(self.errors)
    }
}

/// Configuration of a [`Sparsity`] objective.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SparsityParams {
    /// The mean activity each neuron is allowed, p ≥ 0: a fraction of steps active for spikes (e.g.
    /// 0.05), an activity level for rate units. 0 gives a plain activity penalty.
    pub target: f32,
    /// Averaging of each neuron's activity ā_j (per step, at `dt_ms`).
    pub activity: Averaging,
    /// Averaging of the logged value (per step).
    pub average: Averaging,
}

/// Sparsity: how much of a population is active, and which neurons exceed their share.
///
/// ```text
/// a_j = |y_j|                     (or 1 if neuron j spiked this step, else 0)
/// L   = (1/N) Σ_j a_j             (mean activity; for spikes: the fraction of neurons active)
/// ā_j ← ā_j + α·(a_j − ā_j)       (each neuron's running activity)
/// s_j = ā_j − p                   (per-neuron excess activity)
/// ```
/// - **Value**: L, an L1 activity penalty (activity units; fraction for spikes); **average**: its
///   running mean. **Direction**: minimised.
/// - **Signal**: [`Signal::PerNeuron`]`(s)` in the caller's `errors` storage. s > 0: the neuron is
///   more active than the target sparseness p allows — raise its threshold (Földiák 1990;
///   SAILnet, Zylberberg et al. 2011: Δθ_j ∝ a_j − p) or strengthen its lateral inhibition.
///
/// Fixed point: activities and errors are [`Fix`]; |y_j| saturates (|Fix::MIN| → Fix::MAX); ā_j is
/// an exponential average in the caller's `activity` storage with the documented dead band
/// `|a − ā| < 0.5 LSB / α`. [`Sparsity::update`] and [`Sparsity::update_spikes`] use the same
/// recursion in two algebraically equal forms (`ā + α(a − ā)` vs `(1 − α)ā + α·a`) and may differ by
/// one LSB. L is exact up to one rounding to nearest.
#[derive(Debug)]
pub struct Sparsity<'a> {
    gain: Frac,
    /// `1 − α`.
    keep: Frac,
    /// `α` as a [`Fix`]: what one spike adds.
    bump: Fix,
    target: Fix,
    activity: &'a mut [Fix],
    errors: &'a mut [Fix],
    n: NonZeroU64,
    value: Fix,
    average: RunningMean,
}

impl<'a> Sparsity<'a> {
    /// N = `activity.len()` neurons (1 ≤ N ≤ 65 535, `errors` of the same length), time step
    /// `dt_ms`. Activities start at the target p.
    pub fn new(
        p: SparsityParams,
        dt_ms: f32,
        activity: &'a mut [Fix],
        errors: &'a mut [Fix],
    ) -> Result<Self, ConfigError> {
        let n = neuron_count("sparsity neurons", activity.len())?;
        check_len("sparsity errors", activity.len(), errors.len())?;
        if p.target.is_nan() || p.target < 0.0 {
            return Err(ConfigError::OutOfRange {
                what: "sparsity target (must be ≥ 0)",
                value: p.target,
            });
        }
        let target = fix_from_f32("sparsity target", p.target)?;
        let gain = p.activity.gain("sparsity activity averaging", dt_ms)?;
        let average = RunningMean::new(p.average, "sparsity average", dt_ms)?;
        activity.fill(target);
        errors.fill(Fix::ZERO);
        Ok(Sparsity {
            gain,
            keep: Frac(0u32.wrapping_sub(gain.0)), // gain ≥ 1, so this is exactly 2^32 − gain
            bump: gain.mul(Fix::ONE),
            target,
            activity,
            errors,
            n,
            value: Fix::ZERO,
            average,
        })
    }

    /// One step from graded activities `y` (length N; missing entries count as 0). Returns L.
    pub fn update(&mut self, y: &[Fix]) -> Fix {
        let mut sum: u64 = 0;
        let mut y = y.iter();
        for (m, e) in self.activity.iter_mut().zip(self.errors.iter_mut()) {
            let a = y.next().map_or(Fix::ZERO, |v| v.saturating_abs());
            sum += a.to_bits() as u64; // ≤ 2^31 · 2^16: no overflow
            *m = ema(*m, a, self.gain);
            *e = m.saturating_sub(self.target);
        }
        self.finish(sum)
    }

    /// One step from spikes (indices of the neurons that spiked, each at most once; indices ≥ N are
    /// ignored). Returns L, the fraction of neurons that spiked.
    pub fn update_spikes(&mut self, spikes: &[u16]) -> Fix {
        for m in self.activity.iter_mut() {
            *m = self.keep.mul(*m);
        }
        let mut count: u64 = 0;
        for &j in spikes {
            if let Some(m) = self.activity.get_mut(j as usize) {
                *m = m.saturating_add(self.bump);
                count += 1;
            }
        }
        for (e, m) in self.errors.iter_mut().zip(self.activity.iter()) {
            *e = m.saturating_sub(self.target);
        }
        self.finish(count << 16)
    }

    fn finish(&mut self, sum_bits: u64) -> Fix {
        self.value = mean_fix(sum_bits, self.n);
        self.average.update(self.value);
        self.value
    }

    /// Each neuron's running activity ā_j.
    #[inline]
    pub fn activity(&self) -> &[Fix] {
        self.activity
    }

    /// The excess activities ā_j − p of the last update.
    #[inline]
    pub fn errors(&self) -> &[Fix] {
        self.errors
    }

    /// Activities back to the target, errors and average cleared.
    pub fn reset(&mut self) {
        self.activity.fill(self.target);
        self.errors.fill(Fix::ZERO);
        self.value = Fix::ZERO;
        self.average.reset();
    }
}

impl Objective for Sparsity<'_> {
    const DIRECTION: Direction = Direction::Minimise;

    fn value(&self) -> Fix {
        self.value
    }

    fn average(&self) -> Fix {
        self.average.value()
    }

    fn signal(&self) -> Signal<'_> {
        Signal::PerNeuron(self.errors)
    }
}

/// Configuration of a [`Variance`] objective.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VarianceParams {
    /// Averaging of each output's second moment (per update, at `dt_ms`): BCM's τ_θ.
    pub averaging: Averaging,
}

/// The variance of each output: what Oja's rule ascends and what BCM's sliding threshold tracks.
///
/// ```text
/// L      = (1/N) Σ_j y_j²                 (this update; output units²)
/// m_j   ← m_j + α·(y_j² − m_j)           (running second moment E[y_j²])
/// average = (1/N) Σ_j m_j
/// ```
/// For zero-mean outputs (Oja's setting: centred inputs, y = w·x) E\[y²\] *is* the variance; otherwise
/// it is the second moment (variance + mean²), which is what BCM's θ = E\[y²\] needs.
/// - **Value**: L; **average**: the mean of the m_j. **Direction**: maximised (Oja's rule finds the
///   unit-norm weight vector of maximum output variance, the first principal component).
/// - **Signal**: [`Signal::PerNeuron`]`(m)` — BCM's sliding threshold θ_j = E\[y_j²\].
///
/// Fixed point: y_j² is rounded to nearest [`Fix`] and saturates at `Fix::MAX` for `|y_j| ≥ 181`;
/// m_j lives in the caller's `moments` storage with the dead band `|y² − m| < 0.5 LSB / α` (0.0038
/// for α = 1/500); L is exact up to one rounding; the average is the rounded mean of the m_j.
/// Moments start at 0.
#[derive(Debug)]
pub struct Variance<'a> {
    gain: Frac,
    moments: &'a mut [Fix],
    n: NonZeroU64,
    value: Fix,
    average: Fix,
}

impl<'a> Variance<'a> {
    /// N = `moments.len()` outputs (1 ≤ N ≤ 65 535), updated every `dt_ms`. Clears `moments`.
    pub fn new(p: VarianceParams, dt_ms: f32, moments: &'a mut [Fix]) -> Result<Self, ConfigError> {
        let n = neuron_count("variance outputs", moments.len())?;
        let gain = p.averaging.gain("variance averaging", dt_ms)?;
        moments.fill(Fix::ZERO);
        Ok(Variance {
            gain,
            moments,
            n,
            value: Fix::ZERO,
            average: Fix::ZERO,
        })
    }

    /// One update from the outputs `y` (length N; missing entries count as 0). Returns L.
    pub fn update(&mut self, y: &[Fix]) -> Fix {
        let mut squares = SquareSum::default();
        let mut moments: u64 = 0;
        let mut y = y.iter();
        for m in self.moments.iter_mut() {
            let v = y.next().copied().unwrap_or(Fix::ZERO);
            squares.add(v);
            *m = ema(*m, square(v), self.gain);
            moments += m.to_bits().max(0) as u64; // ≤ 2^31 · 2^16: no overflow
        }
        self.value = squares.mean(self.n);
        self.average = mean_fix(moments, self.n);
        self.value
    }

    /// The running second moments E\[y_j²\].
    #[inline]
    pub fn moments(&self) -> &[Fix] {
        self.moments
    }

    /// Moments back to 0.
    pub fn reset(&mut self) {
        self.moments.fill(Fix::ZERO);
        self.value = Fix::ZERO;
        self.average = Fix::ZERO;
    }
}

impl Objective for Variance<'_> {
    const DIRECTION: Direction = Direction::Maximise;

    fn value(&self) -> Fix {
        self.value
    }

    fn average(&self) -> Fix {
        self.average
    }

    fn signal(&self) -> Signal<'_> {
        Signal::PerNeuron(self.moments)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::Rng;

    fn f(x: f64) -> Fix {
        Fix::from_num(x)
    }

    const LOG: Averaging = Averaging::TimeConstant { tau_ms: 1000.0 };

    fn poisson_step(rng: &mut Rng, probs: &[Frac], out: &mut Vec<u16>) {
        out.clear();
        for (j, &p) in probs.iter().enumerate() {
            if rng.bernoulli(p) {
                out.push(j as u16);
            }
        }
    }

    #[test]
    fn rate_estimate_converges_to_poisson_rate() {
        // 40 neurons at 2..80 Hz, dt = 1 ms, τ = 1 s. Burn-in 5 s, then average the estimate over 60 s.
        let (dt, tau, n) = (1.0f32, 1000.0f32, 40usize);
        let true_hz: Vec<f64> = (1..=n).map(|j| 2.0 * j as f64).collect();
        let probs: Vec<Frac> = true_hz
            .iter()
            .map(|r| Frac::from_f32("p", (r * dt as f64 / 1000.0) as f32).unwrap())
            .collect();
        let (mut rates, mut errors) = (vec![Fix::ZERO; n], vec![Fix::ZERO; n]);
        let p = RateTargetParams {
            target_hz: 20.0,
            tau_ms: tau,
            average: LOG,
        };
        let mut rt = RateTarget::new(p, dt, &mut rates, &mut errors).unwrap();
        assert!(rt.rates().iter().all(|&r| r == f(20.0)));
        let mut rng = Rng::new(99);
        let mut spikes = Vec::new();
        // float reference of the same trace, to bound the fixed-point bias
        let decay = (-(dt as f64) / tau as f64).exp();
        let impulse = (1.0 - decay) * 1000.0 / dt as f64;
        let mut reference = vec![20.0f64; n];
        let mut worst_ref = 0.0f64;
        let (burn, steps) = (5_000, 60_000);
        let mut sum = vec![0.0f64; n];
        let mut counts = vec![0u32; n];
        for t in 0..burn + steps {
            poisson_step(&mut rng, &probs, &mut spikes);
            rt.update(&spikes);
            for r in reference.iter_mut() {
                *r *= decay;
            }
            for &j in &spikes {
                reference[j as usize] += impulse;
            }
            for (j, (&r, &want)) in rt.rates().iter().zip(&reference).enumerate() {
                worst_ref = worst_ref.max((r.to_num::<f64>() - want).abs());
                if t >= burn {
                    sum[j] += r.to_num::<f64>();
                }
            }
            if t >= burn {
                for &j in &spikes {
                    counts[j as usize] += 1;
                }
            }
        }
        // Documented bias bound: 0.5 LSB / (1 − e^{−dt/τ}) ≈ 500 LSB = 0.0076 Hz.
        assert!(worst_ref < 0.008, "fixed vs float trace {worst_ref}");
        let (mut pooled_est, mut pooled_true) = (0.0, 0.0);
        for j in 0..n {
            let est = sum[j] / steps as f64;
            let r = true_hz[j];
            // Binomial tolerance: the time-averaged trace follows the spike count over the window, whose
            // sd is √(p(1−p)·T)/T·1000 Hz; 4.5 σ plus the edge term (one τ of lag: ≤ r·τ/T).
            let pr = r * dt as f64 / 1000.0;
            let sd = (pr * (1.0 - pr) * steps as f64).sqrt() / steps as f64 * 1000.0 / dt as f64;
            let tol = 4.5 * sd + r * tau as f64 / (steps as f64 * dt as f64);
            assert!((est - r).abs() < tol, "neuron {j}: {est} Hz vs {r} ± {tol}");
            // The estimate also agrees with the empirical count rate much more tightly.
            let empirical = counts[j] as f64 / (steps as f64 * dt as f64 / 1000.0);
            assert!(
                (est - empirical).abs() < 0.05 * r + 1.0,
                "{est} vs {empirical}"
            );
            pooled_est += est;
            pooled_true += r;
        }
        assert!((pooled_est / pooled_true - 1.0).abs() < 0.01, "pooled");
        // Signal: r* − r, positive for the neurons slower than 20 Hz.
        for (j, (&e, &r)) in rt.errors().iter().zip(rt.rates()).enumerate() {
            assert_eq!(e, f(20.0) - r, "neuron {j}");
        }
        assert!(rt.errors()[0] > Fix::ZERO && rt.errors()[n - 1] < Fix::ZERO);
        // Value: mean squared deviation, ≈ mean (r_j − 20)² + trace variance.
        let want: f64 = rt
            .rates()
            .iter()
            .map(|r| (r.to_num::<f64>() - 20.0).powi(2))
            .sum::<f64>()
            / n as f64;
        assert!((rt.value().to_num::<f64>() - want).abs() < 1e-4);
        assert_eq!(RateTarget::DIRECTION, Direction::Minimise);
        rt.reset();
        assert!(rt.rates().iter().all(|&r| r == f(20.0)));
    }

    #[test]
    fn rate_target_refuses_bad_config() {
        let p = RateTargetParams {
            target_hz: 10.0,
            tau_ms: 1000.0,
            average: LOG,
        };
        let (mut r2, mut e2, mut e3) = ([Fix::ZERO; 2], [Fix::ZERO; 2], [Fix::ZERO; 3]);
        let mut none: [Fix; 0] = [];
        let mut none2: [Fix; 0] = [];
        assert!(RateTarget::new(p, 1.0, &mut r2, &mut e2).is_ok());
        assert!(matches!(
            RateTarget::new(p, 1.0, &mut r2, &mut e3),
            Err(ConfigError::SizeMismatch { .. })
        ));
        assert!(RateTarget::new(p, 1.0, &mut none, &mut none2).is_err());
        let bad = |p: RateTargetParams, dt: f32, r: &mut [Fix], e: &mut [Fix]| {
            RateTarget::new(p, dt, r, e).is_err()
        };
        assert!(bad(
            RateTargetParams { tau_ms: 1.0, ..p },
            1.0,
            &mut r2,
            &mut e2
        ));
        assert!(bad(
            RateTargetParams { tau_ms: 0.5, ..p },
            1.0,
            &mut r2,
            &mut e2
        ));
        assert!(bad(
            RateTargetParams {
                tau_ms: f32::NAN,
                ..p
            },
            1.0,
            &mut r2,
            &mut e2
        ));
        assert!(bad(
            RateTargetParams {
                target_hz: -1.0,
                ..p
            },
            1.0,
            &mut r2,
            &mut e2
        ));
        assert!(bad(
            RateTargetParams {
                target_hz: 1001.0,
                ..p
            },
            1.0,
            &mut r2,
            &mut e2
        ));
        assert!(bad(
            RateTargetParams {
                target_hz: f32::NAN,
                ..p
            },
            1.0,
            &mut r2,
            &mut e2
        ));
        assert!(bad(p, 0.01, &mut r2, &mut e2)); // 100 kHz does not fit Fix
        assert!(bad(p, 0.0, &mut r2, &mut e2));
    }

    #[test]
    fn rate_target_saturates_with_extreme_rates() {
        // dt = 0.05 ms: 20 kHz full scale. Every neuron fires every step with a short τ.
        let p = RateTargetParams {
            target_hz: 0.0,
            tau_ms: 0.5,
            average: Averaging::Rate { alpha: 1.0 },
        };
        let (mut r, mut e) = ([Fix::ZERO; 3], [Fix::ZERO; 3]);
        let mut rt = RateTarget::new(p, 0.05, &mut r, &mut e).unwrap();
        for _ in 0..500 {
            rt.update(&[0, 1, 2, 2, 9]);
        }
        // neuron 2 listed twice: rate up to 40 kHz > Fix range → saturates, no wrap
        assert!(rt.rates()[2] > f(30_000.0));
        assert_eq!(rt.value(), Fix::MAX);
        assert!(rt.errors().iter().all(|&x| x < f(-19_000.0)));
    }

    #[test]
    fn sparsity_from_spikes_and_activities() {
        let n = 20;
        let (mut act, mut err) = (vec![Fix::ZERO; n], vec![Fix::ZERO; n]);
        let p = SparsityParams {
            target: 0.05,
            activity: Averaging::TimeConstant { tau_ms: 200.0 },
            average: LOG,
        };
        let mut sp = Sparsity::new(p, 1.0, &mut act, &mut err).unwrap();
        // neuron j fires with probability 0.01·j per step
        let probs: Vec<Frac> = (0..n)
            .map(|j| Frac::from_f32("p", 0.01 * j as f32).unwrap())
            .collect();
        let mut rng = Rng::new(4);
        let mut spikes = Vec::new();
        let (burn, steps) = (2_000, 40_000);
        let mut mean_act = vec![0.0f64; n];
        let mut sum_value = 0.0;
        for t in 0..burn + steps {
            poisson_step(&mut rng, &probs, &mut spikes);
            let v = sp.update_spikes(&spikes);
            assert_eq!(v, Fix::from_num(spikes.len() as f64 / n as f64));
            if t >= burn {
                sum_value += v.to_num::<f64>();
                for (m, a) in mean_act.iter_mut().zip(sp.activity()) {
                    *m += a.to_num::<f64>();
                }
            }
        }
        for (j, m) in mean_act.iter().enumerate() {
            let p = 0.01 * j as f64;
            let est = m / steps as f64;
            let sd = (p * (1.0 - p) / steps as f64).sqrt();
            assert!(
                (est - p).abs() < 4.5 * sd + 0.002,
                "neuron {j}: {est} vs {p}"
            );
        }
        // mean fraction active: Σ p_j / N = 0.095
        assert!((sum_value / steps as f64 - 0.095).abs() < 0.003);
        assert!((sp.average().to_num::<f64>() - 0.095).abs() < 0.02);
        // signal: ā − p, negative for the quiet neurons, positive for the busy ones
        assert!(sp.errors()[0] < Fix::ZERO && sp.errors()[n - 1] > Fix::ZERO);
        for (e, a) in sp.errors().iter().zip(sp.activity()) {
            assert_eq!(*e, *a - f(0.05));
        }
        // graded activities: value = mean |y|, ā follows |y|
        sp.reset();
        let y: Vec<Fix> = (0..n)
            .map(|j| f(if j % 2 == 0 { -0.5 } else { 0.25 }))
            .collect();
        for _ in 0..3000 {
            assert_eq!(sp.update(&y), f(0.375));
        }
        // ā settles within the documented dead band 0.5 LSB / α (α = 1 − e^{−1/200}: 100 LSB).
        let band = 0.5 / 65536.0 / (1.0 - (-1.0f64 / 200.0).exp()) + 1.0 / 65536.0;
        for (j, want) in [(0, 0.5), (1, 0.25)] {
            let got = sp.activity()[j].to_num::<f64>();
            assert!((got - want).abs() <= band, "{j}: {got} vs {want} ± {band}");
            assert_eq!(sp.errors()[j], sp.activity()[j] - f(0.05));
        }
        // extremes saturate
        let big = vec![Fix::MIN; n];
        assert_eq!(sp.update(&big), Fix::MAX);
        assert_eq!(Sparsity::DIRECTION, Direction::Minimise);
    }

    #[test]
    fn sparsity_refuses_bad_config() {
        let p = SparsityParams {
            target: 0.1,
            activity: Averaging::Rate { alpha: 0.01 },
            average: LOG,
        };
        let (mut a, mut e, mut e1) = ([Fix::ZERO; 2], [Fix::ZERO; 2], [Fix::ZERO; 1]);
        assert!(Sparsity::new(p, 1.0, &mut a, &mut e).is_ok());
        assert!(Sparsity::new(p, 1.0, &mut a, &mut e1).is_err());
        let bad = [
            SparsityParams { target: -0.1, ..p },
            SparsityParams {
                target: f32::NAN,
                ..p
            },
            SparsityParams {
                activity: Averaging::TimeConstant { tau_ms: 1.0 },
                ..p
            },
            SparsityParams {
                average: Averaging::TimeConstant { tau_ms: 0.1 },
                ..p
            },
        ];
        for q in bad {
            assert!(Sparsity::new(q, 1.0, &mut a, &mut e).is_err(), "{q:?}");
        }
    }

    #[test]
    fn variance_converges() {
        // Three outputs with sd 0.5, 1, 2 (zero mean): E[y²] = 0.25, 1, 4.
        let sds = [0.5f64, 1.0, 2.0];
        let mut moments = [Fix::ZERO; 3];
        let p = VarianceParams {
            averaging: Averaging::TimeConstant { tau_ms: 500.0 },
        };
        let mut var = Variance::new(p, 1.0, &mut moments).unwrap();
        let alpha = 1.0 - (-1.0f64 / 500.0).exp();
        let mut rng = Rng::new(21);
        let mut reference = [0.0f64; 3];
        let mut worst = 0.0f64;
        let (burn, steps) = (5_000, 100_000);
        let mut mean_m = [0.0f64; 3];
        for t in 0..burn + steps {
            let y = [rng.normal() / 2, rng.normal(), rng.normal() * 2];
            let v = var.update(&y);
            let want_v = y.iter().map(|x| x.to_num::<f64>().powi(2)).sum::<f64>() / 3.0;
            assert!((v.to_num::<f64>() - want_v).abs() <= 0.5 / 65536.0 + 1e-12);
            for j in 0..3 {
                let y2 = y[j].to_num::<f64>().powi(2);
                reference[j] += alpha * (y2 - reference[j]);
                worst = worst.max((var.moments()[j].to_num::<f64>() - reference[j]).abs());
                if t >= burn {
                    mean_m[j] += var.moments()[j].to_num::<f64>();
                }
            }
        }
        // Fixed vs float EMA: the dead band 0.5 LSB/α ≈ 250 LSB = 0.0038, plus the rounding of y².
        assert!(worst < 0.005, "fixed vs float {worst}");
        for j in 0..3 {
            let est = mean_m[j] / steps as f64;
            let want = sds[j].powi(2);
            // sd of the time-averaged y² over 100 000 samples: √2·σ²/√T ≈ 0.0045·σ²; 5 σ.
            assert!(
                (est - want).abs() < 0.025 * want,
                "output {j}: {est} vs {want}"
            );
        }
        let avg = var.average().to_num::<f64>();
        let want_avg = var.moments().iter().map(|m| m.to_num::<f64>()).sum::<f64>() / 3.0;
        assert!((avg - want_avg).abs() <= 0.5 / 65536.0 + 1e-12);
        assert_eq!(var.signal(), Signal::PerNeuron(var.moments()));
        assert_eq!(Variance::DIRECTION, Direction::Maximise);
    }

    #[test]
    fn variance_saturates_and_checks_sizes() {
        let mut moments = [Fix::ZERO; 2];
        let p = VarianceParams {
            averaging: Averaging::Rate { alpha: 0.5 },
        };
        let mut var = Variance::new(p, 1.0, &mut moments).unwrap();
        for _ in 0..40 {
            var.update(&[Fix::MIN, Fix::MAX]);
        }
        assert_eq!(var.value(), Fix::MAX);
        assert!(
            var.moments()
                .iter()
                .all(|&m| m >= Fix::MAX - Fix::from_bits(1))
        );
        assert!(var.average() >= Fix::MAX - Fix::from_bits(1));
        var.reset();
        assert_eq!(var.moments(), &[Fix::ZERO; 2]);
        // missing outputs count as zero
        assert_eq!(var.update(&[f(2.0)]), f(2.0));
        let mut none: [Fix; 0] = [];
        assert!(Variance::new(p, 1.0, &mut none).is_err());
        let bad = VarianceParams {
            averaging: Averaging::TimeConstant { tau_ms: 0.0 },
        };
        assert!(Variance::new(bad, 1.0, &mut moments).is_err());
    }
}
