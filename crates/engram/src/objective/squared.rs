//! Squared errors: output vs target (supervised) and input vs reconstruction (unsupervised).

use core::num::NonZeroU64;

use super::average::{Averaging, RunningMean, SquareSum};
use super::{Direction, Objective, Signal, neuron_count};
use crate::error::ConfigError;
use crate::num::Fix;

/// Writes `out_j = a_j − b_j` (saturating; 0 where `a` or `b` is too short) and returns Σ out_j².
#[inline]
fn differences(out: &mut [Fix], a: &[Fix], b: &[Fix]) -> SquareSum {
    let mut sum = SquareSum::default();
    let mut a = a.iter();
    let mut b = b.iter();
    for e in out.iter_mut() {
        *e = match (a.next(), b.next()) {
            (Some(&x), Some(&y)) => x.saturating_sub(y),
            _ => Fix::ZERO,
        };
        sum.add(*e);
    }
    sum
}

/// Configuration of a [`MeanSquaredError`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanSquaredErrorParams {
    /// Averaging of the logged value (over updates, at interval `dt_ms`).
    pub average: Averaging,
}

/// Mean squared error of N outputs against a target: the objective of supervised, error-driven rules.
///
/// ```text
/// e_j = y_j − y*_j                     (per-neuron error, output units)
/// L   = (1/N) Σ_j e_j²                  (output units²)
/// ```
/// - **Value**: L of the last update; **average**: its running mean ([`RunningMean`], primed by the
///   first update). **Direction**: minimised.
/// - **Signal**: [`Signal::PerNeuron`]`(e)`, written into the caller's `errors` storage — the sign
///   convention of Nengo's PES (error = actual − target), so a rule descends L with
///   `Δw_ij ∝ −e_j·a_i`. Drives PES / the delta rule and the readout of e-prop (whose learning signal
///   is a feedback-weighted sum of these errors).
///
/// Outputs are whatever the rule compares: rates, filtered spikes, a leaky readout — [`Fix`] in the
/// target's units. Fixed point: e_j saturates at the [`Fix`] range (|y − y*| ≥ 32768); squares are
/// exact in 64 bits, so L is exact up to one rounding to nearest (≤ 2^-17) and saturates at
/// `Fix::MAX` once the RMS error passes ≈ 181. Cost: one subtraction, one 32×32→64 multiply and one
/// 64-bit add per neuron, one 64-bit division per update.
#[derive(Debug)]
pub struct MeanSquaredError<'a> {
    errors: &'a mut [Fix],
    n: NonZeroU64,
    value: Fix,
    average: RunningMean,
}

impl<'a> MeanSquaredError<'a> {
    /// N = `errors.len()` outputs (1 ≤ N ≤ 65 535), updated every `dt_ms`. Clears `errors`.
    pub fn new(
        p: MeanSquaredErrorParams,
        dt_ms: f32,
        errors: &'a mut [Fix],
    ) -> Result<Self, ConfigError> {
        let n = neuron_count("mean squared error outputs", errors.len())?;
        let average = RunningMean::new(p.average, "mean squared error average", dt_ms)?;
        errors.fill(Fix::ZERO);
        Ok(MeanSquaredError {
            errors,
            n,
            value: Fix::ZERO,
            average,
        })
    }

    /// Compares `output` with `target` (both of length N): writes the per-neuron errors, returns L.
    #[inline]
    pub fn update(&mut self, output: &[Fix], target: &[Fix]) -> Fix {
        self.value = differences(self.errors, output, target).mean(self.n);
        self.average.update(self.value);
        self.value
    }

    /// The per-neuron errors `y − y*` of the last update.
    #[inline]
    pub fn errors(&self) -> &[Fix] {
        self.errors
    }

    /// Number of outputs N.
    #[inline]
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// The running average of the value (its unrounded state: [`RunningMean::raw`]).
    #[inline]
    pub fn running_mean(&self) -> &RunningMean {
        &self.average
    }

    /// Always false (N ≥ 1).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Clears the errors and the average.
    pub fn reset(&mut self) {
        self.errors.fill(Fix::ZERO);
        self.value = Fix::ZERO;
        self.average.reset();
    }
}

impl Objective for MeanSquaredError<'_> {
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

/// Configuration of a [`Reconstruction`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReconstructionParams {
    /// Averaging of the logged value (over updates, at interval `dt_ms`).
    pub average: Averaging,
}

/// Reconstruction error of an input from a representation: the objective of autoencoder-like and
/// subspace-learning rules.
///
/// ```text
/// r_i = x_i − x̂_i                       (per-input residual, input units; x̂ = Wᵀy for a linear code)
/// L   = (1/M) Σ_i r_i²                   (input units²; M·L = ‖x − x̂‖²)
/// ```
/// - **Value**: L; **average**: its running mean. **Direction**: minimised.
/// - **Signal**: [`Signal::PerNeuron`]`(r)` over the M *inputs*, in the caller's `residuals`
///   storage. Note the sign: residual = input − reconstruction (what is still missing), the factor of
///   Oja's subspace rule `ΔW_ji ∝ y_j·r_i` and of Sanger's rule, which descend L.
///
/// The caller computes x̂ (it depends on the architecture) and passes both slices. Fixed point as in
/// [`MeanSquaredError`]: saturating residuals, exact squares, L rounded once, saturating at `Fix::MAX`.
#[derive(Debug)]
pub struct Reconstruction<'a> {
    residuals: &'a mut [Fix],
    n: NonZeroU64,
    value: Fix,
    average: RunningMean,
}

impl<'a> Reconstruction<'a> {
    /// M = `residuals.len()` inputs (1 ≤ M ≤ 65 535), updated every `dt_ms`. Clears `residuals`.
    pub fn new(
        p: ReconstructionParams,
        dt_ms: f32,
        residuals: &'a mut [Fix],
    ) -> Result<Self, ConfigError> {
        let n = neuron_count("reconstruction inputs", residuals.len())?;
        let average = RunningMean::new(p.average, "reconstruction error average", dt_ms)?;
        residuals.fill(Fix::ZERO);
        Ok(Reconstruction {
            residuals,
            n,
            value: Fix::ZERO,
            average,
        })
    }

    /// Compares `input` with its `reconstruction` (both of length M): writes the residuals, returns L.
    #[inline]
    pub fn update(&mut self, input: &[Fix], reconstruction: &[Fix]) -> Fix {
        self.value = differences(self.residuals, input, reconstruction).mean(self.n);
        self.average.update(self.value);
        self.value
    }

    /// The residuals `x − x̂` of the last update.
    #[inline]
    pub fn residuals(&self) -> &[Fix] {
        self.residuals
    }

    /// Number of inputs M.
    #[inline]
    pub fn len(&self) -> usize {
        self.residuals.len()
    }

    /// Always false (M ≥ 1).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.residuals.is_empty()
    }

    /// Clears the residuals and the average.
    pub fn reset(&mut self) {
        self.residuals.fill(Fix::ZERO);
        self.value = Fix::ZERO;
        self.average.reset();
    }
}

impl Objective for Reconstruction<'_> {
    const DIRECTION: Direction = Direction::Minimise;

    fn value(&self) -> Fix {
        self.value
    }

    fn average(&self) -> Fix {
        self.average.value()
    }

    fn signal(&self) -> Signal<'_> {
        Signal::PerNeuron(self.residuals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::Rng;

    const EVERY: MeanSquaredErrorParams = MeanSquaredErrorParams {
        average: Averaging::Rate { alpha: 0.1 },
    };

    fn random(rng: &mut Rng, n: usize, scale: i32) -> Vec<Fix> {
        (0..n).map(|_| rng.normal() * scale).collect()
    }

    #[test]
    fn mse_matches_float_reference() {
        let mut rng = Rng::new(3);
        for (n, scale) in [(1, 1), (37, 3), (200, 40), (1000, 100)] {
            let mut errors = vec![Fix::ZERO; n];
            let mut mse = MeanSquaredError::new(EVERY, 1.0, &mut errors).unwrap();
            for _ in 0..20 {
                let y = random(&mut rng, n, scale);
                let t = random(&mut rng, n, scale);
                let got = mse.update(&y, &t).to_num::<f64>();
                let want = y
                    .iter()
                    .zip(&t)
                    .map(|(a, b)| (a.to_num::<f64>() - b.to_num::<f64>()).powi(2))
                    .sum::<f64>()
                    / n as f64;
                // Exact up to the final rounding to nearest Fix (and saturation at Fix::MAX).
                let want = want.min(Fix::MAX.to_num::<f64>());
                assert!(
                    (got - want).abs() <= 0.5 / 65536.0 + 1e-12,
                    "n={n}: {got} vs {want}"
                );
                for ((e, a), b) in mse.errors().iter().zip(&y).zip(&t) {
                    assert_eq!(*e, *a - *b);
                    // sign: positive when the output overshoots the target
                    assert_eq!(e.is_positive(), a > b);
                }
            }
        }
    }

    #[test]
    fn mse_average_and_direction() {
        let mut errors = [Fix::ZERO; 2];
        let mut mse = MeanSquaredError::new(EVERY, 1.0, &mut errors).unwrap();
        let target = [Fix::ZERO, Fix::ONE];
        // outputs approach the target: each update halves the error
        let mut y = [Fix::from_num(4), Fix::from_num(-3)];
        mse.update(&y, &target);
        assert_eq!(mse.value(), Fix::from_num(16)); // (16 + 16) / 2
        assert_eq!(mse.average(), mse.value()); // primed by the first update
        let mut previous = mse.average();
        for _ in 0..20 {
            for (yj, tj) in y.iter_mut().zip(&target) {
                *yj = *tj + (*yj - *tj) / 2;
            }
            mse.update(&y, &target);
            assert!(MeanSquaredError::DIRECTION.improves(previous, mse.average()));
            previous = mse.average();
        }
        assert!(mse.value() < Fix::from_num(1e-3));
        assert_eq!(mse.signal(), Signal::PerNeuron(mse.errors()));
        mse.reset();
        assert_eq!(mse.errors(), &[Fix::ZERO; 2]);
    }

    #[test]
    fn short_slices_count_as_zero_error() {
        let mut errors = [Fix::ONE; 4];
        let mut mse = MeanSquaredError::new(EVERY, 1.0, &mut errors).unwrap();
        assert_eq!(mse.errors(), &[Fix::ZERO; 4]);
        let y = [Fix::from_num(2); 4];
        let t = [Fix::ZERO; 2];
        assert_eq!(mse.update(&y, &t), Fix::from_num(2)); // (4 + 4 + 0 + 0) / 4
        assert_eq!(
            mse.errors(),
            &[Fix::from_num(2), Fix::from_num(2), Fix::ZERO, Fix::ZERO]
        );
    }

    #[test]
    fn extreme_inputs_saturate() {
        let n = 1000;
        let mut errors = vec![Fix::ZERO; n];
        let mut mse = MeanSquaredError::new(EVERY, 1.0, &mut errors).unwrap();
        let y = vec![Fix::MAX; n];
        let t = vec![Fix::MIN; n];
        assert_eq!(mse.update(&y, &t), Fix::MAX);
        assert!(mse.errors().iter().all(|&e| e == Fix::MAX));
        assert_eq!(mse.update(&t, &y), Fix::MAX);
        assert!(mse.errors().iter().all(|&e| e == Fix::MIN));
        // one huge error among many small ones: 181² / 1000 ≈ 32.8 is still representable
        let mut y = vec![Fix::ZERO; n];
        y[0] = Fix::from_num(181);
        let t = vec![Fix::ZERO; n];
        assert!((mse.update(&y, &t).to_num::<f64>() - 32.761).abs() < 1e-4);
    }

    #[test]
    fn sizes_are_checked() {
        let mut none: [Fix; 0] = [];
        assert!(matches!(
            MeanSquaredError::new(EVERY, 1.0, &mut none),
            Err(ConfigError::Invalid { .. })
        ));
        let mut huge = vec![Fix::ZERO; 65_536];
        assert!(matches!(
            MeanSquaredError::new(EVERY, 1.0, &mut huge),
            Err(ConfigError::TooLarge { .. })
        ));
        let mut one = [Fix::ZERO];
        let slow = MeanSquaredErrorParams {
            average: Averaging::TimeConstant { tau_ms: 1.0 },
        };
        assert!(MeanSquaredError::new(slow, 1.0, &mut one).is_err());
        let p = ReconstructionParams {
            average: Averaging::Rate { alpha: 2.0 },
        };
        assert!(Reconstruction::new(p, 1.0, &mut one).is_err());
        assert!(
            Reconstruction::new(
                ReconstructionParams {
                    average: Averaging::Rate { alpha: 1.0 }
                },
                1.0,
                &mut none
            )
            .is_err()
        );
    }

    #[test]
    fn reconstruction_residual_sign_and_value() {
        let mut rng = Rng::new(8);
        let m = 16;
        let mut residuals = vec![Fix::ZERO; m];
        let p = ReconstructionParams {
            average: Averaging::TimeConstant { tau_ms: 100.0 },
        };
        let mut rec = Reconstruction::new(p, 1.0, &mut residuals).unwrap();
        let x = random(&mut rng, m, 2);
        // A reconstruction that is a shrunk copy of x: residual = 0.25·x, same sign as x.
        let xhat: Vec<Fix> = x.iter().map(|&v| v - v / 4).collect();
        let got = rec.update(&x, &xhat).to_num::<f64>();
        let want = x
            .iter()
            .zip(&xhat)
            .map(|(a, b)| (a.to_num::<f64>() - b.to_num::<f64>()).powi(2))
            .sum::<f64>()
            / m as f64;
        assert!((got - want).abs() <= 0.5 / 65536.0 + 1e-12);
        for (r, v) in rec.residuals().iter().zip(&x) {
            assert_eq!(r.is_positive(), v.is_positive(), "{r} {v}");
        }
        // A perfect reconstruction: zero error.
        assert_eq!(rec.update(&x, &x), Fix::ZERO);
        assert_eq!(Reconstruction::DIRECTION, Direction::Minimise);
        assert!(rec.average() < Fix::from_num(want) && rec.average() > Fix::ZERO);
    }
}
