//! Running averages and the exact mean-of-squares arithmetic every objective shares.
//!
//! [`RunningMean`] is written here rather than taken from a crate because it must be integer-only,
//! `no_std`, bit-identical on every target and cheap on a Cortex-M0; no published crate offers an
//! exponential average in a chosen fixed-point format.

use core::num::NonZeroU64;

use crate::error::ConfigError;
use crate::num::{Fix, Frac, exp_f64, round_f64, sat_i32, shr_round};

/// How fast a running average forgets: the gain α of `m ← m + α·(x − m)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Averaging {
    /// An exponential average with time constant τ (ms), updated every `dt` ms (the `dt_ms` given to
    /// the constructor: the network step, or the control period for once-per-trial updates):
    /// α = 1 − e^{−dt/τ}, so a step in `x` is followed as `1 − e^{−t/τ}` exactly. Needs `dt < τ`.
    TimeConstant {
        /// τ in ms.
        tau_ms: f32,
    },
    /// A fixed gain per update, α ∈ (0, 1] (e.g. "per trial, α = 0.05"); α = 1 keeps only the last
    /// value. The time step is not used.
    Rate {
        /// α.
        alpha: f32,
    },
}

impl Averaging {
    /// The gain α as a [`Frac`], rounded to nearest (α = 1 is stored as `1 − 2^-32`). Refuses
    /// `τ ≤ dt`, non-finite or non-positive τ, dt or α, α > 1, and gains that round to zero.
    pub fn gain(self, what: &'static str, dt_ms: f32) -> Result<Frac, ConfigError> {
        let alpha = match self {
            Averaging::TimeConstant { tau_ms } => {
                Frac::decay(what, tau_ms, dt_ms)?; // validates τ and dt
                1.0 - exp_f64(-(dt_ms as f64) / tau_ms as f64)
            }
            Averaging::Rate { alpha } => {
                if !(alpha > 0.0 && alpha <= 1.0) {
                    return Err(ConfigError::OutOfRange { what, value: alpha });
                }
                alpha as f64
            }
        };
        let bits = round_f64(alpha * 4_294_967_296.0).clamp(0, u32::MAX as i64);
        if bits == 0 {
            return Err(ConfigError::OutOfRange {
                what,
                value: alpha as f32,
            });
        }
        Ok(Frac(bits as u32))
    }
}

/// An exponential running average of a scalar, `m ← m + α·(x − m)`, kept with 32 fractional bits.
///
/// State: `m` as `i64` in Q32.32 (a [`Fix`] shifted left by 16), so slow averages (small α) still move
/// on small differences. Update: `d = x − m` rounded to nearest [`Fix`] and saturated to its range,
/// then `m += α·d` rounded to nearest in Q32.32. Since `d` is rounded to [`Fix`], `m` settles within
/// 0.5 LSB (2^-17) of a constant input, for any α; a float EMA on the same inputs stays within about
/// one LSB of `m` (test `running_mean_tracks_float_ema`). Read out ([`RunningMean::value`]) rounded
/// to nearest [`Fix`], saturating. No product overflows: `|d·α| < 2^31·2^32 = 2^63`.
///
/// An average built with [`RunningMean::new`] starts *unprimed*: its first update sets `m = x`, so a
/// logged learning curve does not rise from zero. [`RunningMean::starting_at`] primes it with a value
/// instead (a reward baseline with a known prior).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RunningMean {
    gain: Frac,
    /// m in Q32.32.
    acc: i64,
    primed: bool,
}

impl RunningMean {
    /// An unprimed average with the gain of `averaging` at update interval `dt_ms`.
    pub fn new(averaging: Averaging, what: &'static str, dt_ms: f32) -> Result<Self, ConfigError> {
        Ok(Self::with_gain(averaging.gain(what, dt_ms)?))
    }

    /// An unprimed average with gain α = `gain`.
    pub const fn with_gain(gain: Frac) -> Self {
        RunningMean {
            gain,
            acc: 0,
            primed: false,
        }
    }

    /// The same average, primed at `value` (the first update then moves it by α as usual).
    pub const fn starting_at(self, value: Fix) -> Self {
        RunningMean {
            gain: self.gain,
            acc: (value.to_bits() as i64) << 16,
            primed: true,
        }
    }

    /// Folds in one sample.
    #[inline]
    pub fn update(&mut self, x: Fix) {
        let target = (x.to_bits() as i64) << 16;
        if !self.primed {
            self.acc = target;
            self.primed = true;
            return;
        }
        // |target - acc| < 2^48 (both within Fix range in Q32.32, up to rounding).
        let d = sat_i32(shr_round(target - self.acc, 16)) as i64;
        self.acc += shr_round(d * self.gain.0 as i64, 16);
    }

    /// The average, rounded to nearest [`Fix`] (0 before the first sample of an unprimed average).
    #[inline]
    pub fn value(&self) -> Fix {
        Fix::from_bits(sat_i32(shr_round(self.acc, 16)))
    }

    /// The average in Q32.32, unrounded: with [`RunningMean::is_primed`], the complete state (for
    /// state hashes and checkpoints; [`RunningMean::value`] rounds it).
    #[inline]
    pub fn raw(&self) -> i64 {
        self.acc
    }

    /// Whether a sample (or a starting value) has been seen.
    #[inline]
    pub fn is_primed(&self) -> bool {
        self.primed
    }

    /// The gain α.
    #[inline]
    pub fn gain(&self) -> Frac {
        self.gain
    }

    /// Forgets everything: the next sample primes the average again.
    pub fn reset(&mut self) {
        self.acc = 0;
        self.primed = false;
    }

    /// Sets the average to `value` (primed).
    pub fn set(&mut self, value: Fix) {
        *self = self.starting_at(value);
    }
}

/// One step of a per-neuron exponential average in [`Fix`] storage: `m + α·(x − m)`, the difference
/// saturated, the product rounded to nearest (dead band: `|x − m| < 0.5 LSB / α` leaves `m` unchanged).
#[inline]
pub(super) fn ema(m: Fix, x: Fix, gain: Frac) -> Fix {
    m.saturating_add(gain.mul(x.saturating_sub(m)))
}

/// `x²` in [`Fix`], rounded to nearest, saturating at `Fix::MAX` (for `|x| ≥ 181.02`).
#[inline]
pub(super) fn square(x: Fix) -> Fix {
    let b = x.to_bits() as i64;
    Fix::from_bits(sat_i32(shr_round(b * b, 16)))
}

/// A sum of exact squares of [`Fix`] values, in Q32 units (2^-32), saturating at `u64::MAX`.
///
/// One square is at most 2^62, so the sum is exact until it passes 2^64; a saturated sum means a
/// mean of at least 2^64 / N Q32 units ≥ 2^16 (N ≤ 65 535): beyond `Fix::MAX`, where the mean
/// saturates anyway, so saturation never changes a reported value.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct SquareSum(u64);

impl SquareSum {
    #[inline]
    pub(super) fn add(&mut self, x: Fix) {
        let b = x.to_bits() as i64;
        self.0 = self.0.saturating_add((b * b) as u64); // b·b ≤ 2^62, non-negative
    }

    /// The mean over `n`, rounded to nearest [`Fix`], saturating.
    #[inline]
    pub(super) fn mean(self, n: NonZeroU64) -> Fix {
        q32_to_fix(div_round(self.0, n))
    }
}

/// `sum / n` rounded to nearest (ties up), without overflow for any `sum`.
#[inline]
pub(super) fn div_round(sum: u64, n: NonZeroU64) -> u64 {
    let (q, r) = (sum / n, sum % n);
    q + (r >= n.get() - r) as u64
}

/// A non-negative Q32 value to [`Fix`], rounded to nearest, saturating at `Fix::MAX`.
#[inline]
pub(super) fn q32_to_fix(q: u64) -> Fix {
    let bits = (q >> 16) + ((q >> 15) & 1);
    Fix::from_bits(bits.min(i32::MAX as u64) as i32)
}

/// A non-negative sum of [`Fix`] bits, averaged over `n` and rounded to nearest.
#[inline]
pub(super) fn mean_fix(sum_bits: u64, n: NonZeroU64) -> Fix {
    Fix::from_bits(div_round(sum_bits, n).min(i32::MAX as u64) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::Rng;

    fn f(x: f64) -> Fix {
        Fix::from_num(x)
    }

    #[test]
    fn gains() {
        let g = Averaging::TimeConstant { tau_ms: 100.0 }
            .gain("avg", 1.0)
            .unwrap();
        assert!((g.to_f32() as f64 - (1.0 - (-0.01f64).exp())).abs() < 1e-9);
        let g = Averaging::Rate { alpha: 0.25 }.gain("avg", 1.0).unwrap();
        assert_eq!(g, Frac(1 << 30));
        assert_eq!(
            Averaging::Rate { alpha: 1.0 }.gain("avg", 1.0).unwrap(),
            Frac(u32::MAX)
        );
        for bad in [0.0, -0.1, 1.01, f32::NAN, 1e-12] {
            assert!(
                Averaging::Rate { alpha: bad }.gain("avg", 1.0).is_err(),
                "{bad}"
            );
        }
        for (tau, dt) in [
            (1.0, 1.0),
            (0.5, 1.0),
            (0.0, 1.0),
            (f32::NAN, 1.0),
            (10.0, 0.0),
        ] {
            assert!(
                Averaging::TimeConstant { tau_ms: tau }
                    .gain("avg", dt)
                    .is_err(),
                "tau {tau} dt {dt}"
            );
        }
    }

    #[test]
    fn running_mean_tracks_float_ema() {
        // Slow average (α ≈ 0.001): a Fix-only EMA would have a dead band of 500 LSB; this one
        // follows the float EMA to about an LSB.
        let mut m = RunningMean::new(Averaging::TimeConstant { tau_ms: 1000.0 }, "m", 1.0).unwrap();
        let alpha = m.gain().to_f32() as f64;
        let mut rng = Rng::new(5);
        let mut reference = 0.0f64;
        let mut worst = 0.0f64;
        for i in 0..50_000 {
            let x = f(0.3) + rng.normal() / 8; // mean 0.3, sd 0.125
            m.update(x);
            let xf = x.to_num::<f64>();
            reference = if i == 0 {
                xf
            } else {
                reference + alpha * (xf - reference)
            };
            worst = worst.max((m.value().to_num::<f64>() - reference).abs());
        }
        assert!(worst < 2.0 / 65536.0, "worst {worst}");
        assert!((m.value().to_num::<f64>() - 0.3).abs() < 0.02);
    }

    #[test]
    fn running_mean_primes_and_settles_on_constants() {
        let mut m = RunningMean::new(Averaging::Rate { alpha: 0.01 }, "m", 1.0).unwrap();
        assert!(!m.is_primed());
        assert_eq!(m.value(), Fix::ZERO);
        m.update(f(7.0));
        assert_eq!(m.value(), f(7.0));
        for _ in 0..5000 {
            m.update(f(-3.25));
        }
        assert_eq!(m.value(), f(-3.25));
        let mut p = m.starting_at(f(1.0));
        p.update(f(2.0));
        assert!((p.value().to_num::<f64>() - 1.01).abs() < 2e-5);
        p.reset();
        assert!(!p.is_primed());
    }

    #[test]
    fn running_mean_saturates_instead_of_overflowing() {
        let mut m = RunningMean::new(Averaging::Rate { alpha: 1.0 }, "m", 1.0).unwrap();
        // The difference MAX − MIN does not fit Fix: it saturates, so one update covers half the gap.
        for i in 0..100 {
            m.update(if i % 2 == 0 { Fix::MAX } else { Fix::MIN });
        }
        for _ in 0..3 {
            m.update(Fix::MIN);
        }
        assert!(m.value() <= Fix::MIN + Fix::from_bits(1));
        for _ in 0..3 {
            m.update(Fix::MAX);
        }
        assert!(m.value() >= Fix::MAX - Fix::from_bits(1));
        let mut slow = RunningMean::new(Averaging::Rate { alpha: 0.5 }, "m", 1.0)
            .unwrap()
            .starting_at(Fix::MIN);
        for _ in 0..100 {
            slow.update(Fix::MAX);
        }
        assert!(slow.value() >= Fix::MAX - Fix::from_bits(1));
    }

    #[test]
    fn square_sum_is_exact_and_saturates() {
        let mut s = SquareSum::default();
        for x in [f(0.5), f(-1.5), Fix::from_bits(1)] {
            s.add(x);
        }
        let n = NonZeroU64::new(3).unwrap();
        // (0.25 + 2.25 + 2^-32) / 3 rounded to Fix
        assert_eq!(s.mean(n), Fix::from_num(2.5 / 3.0));
        let mut big = SquareSum::default();
        for _ in 0..10 {
            big.add(Fix::MIN);
        }
        assert_eq!(big.mean(NonZeroU64::new(10).unwrap()), Fix::MAX);
        assert_eq!(square(f(-3.0)), f(9.0));
        assert_eq!(square(Fix::MIN), Fix::MAX);
        assert_eq!(div_round(u64::MAX, NonZeroU64::new(1).unwrap()), u64::MAX);
        assert_eq!(div_round(5, NonZeroU64::new(2).unwrap()), 3);
        assert_eq!(div_round(4, NonZeroU64::new(3).unwrap()), 1);
    }
}
