//! Encoders: observation → input spikes.
//!
//! Every encoder keeps one [`Frac`] (or [`Fix`]) per input neuron in caller-provided storage, fills it
//! when an observation is loaded (once per control period) and draws the spikes from it every step,
//! so the per-step cost is one random draw and one compare per input neuron.

use super::{Encoder, Range, rate_to_prob};
use crate::error::{ConfigError, check_len};
use crate::neuron::{MAX_NEURONS, Spikes};
use crate::num::{EXP_NEG, Fix, Frac, Rng, fix_from_f32, mul};

fn check_neurons(n: usize) -> Result<(), ConfigError> {
    if n == 0 {
        return Err(ConfigError::Invalid {
            what: "encoder with no input neurons",
        });
    }
    if n > MAX_NEURONS {
        return Err(ConfigError::TooLarge {
            what: "encoder input neurons",
            got: n,
            max: MAX_NEURONS,
        });
    }
    Ok(())
}

/// Draws one Bernoulli spike per neuron from `prob`, pushing the indices that fired (increasing).
#[inline]
fn draw(prob: &[Frac], rng: &mut Rng, out: &mut Spikes<'_>) {
    for (j, &p) in prob.iter().enumerate() {
        if rng.bernoulli(p) {
            // j < MAX_NEURONS: checked at construction.
            out.push(j as u16);
        }
    }
}

/// Rate coding: observation channel `c` drives input neuron `c`, which spikes each step with
/// probability `p = (x - lo)/(hi - lo) · max_rate · dt` (a Bernoulli approximation of a Poisson
/// process of rate `(x - lo)/(hi - lo) · max_rate`).
///
/// Values outside `[lo, hi]` are clamped. `p` is a [`Frac`] computed at [`Encoder::load`] with one
/// integer division per channel, rounded to nearest; `max_rate · dt` is rounded to nearest once at
/// construction. Each step draws one `u32` per channel (in channel order), whether or not it spikes.
#[derive(Debug)]
pub struct PoissonEncoder<'a> {
    range: Range,
    p_max: Frac,
    prob: &'a mut [Frac],
}

impl<'a> PoissonEncoder<'a> {
    /// One input neuron per element of `prob` (the caller's storage; its length is the number of
    /// channels). Refuses `lo ≥ hi`, a negative or non-finite rate, a bad `dt`, and
    /// `max_rate_hz · dt_ms / 1000 > 1` (more than one spike per step).
    pub fn new(
        lo: f32,
        hi: f32,
        max_rate_hz: f32,
        dt_ms: f32,
        prob: &'a mut [Frac],
    ) -> Result<Self, ConfigError> {
        let range = Range::new("Poisson encoder range", lo, hi)?;
        let p_max = rate_to_prob("Poisson encoder max rate (Hz)", max_rate_hz, dt_ms)?;
        check_neurons(prob.len())?;
        prob.fill(Frac::ZERO);
        Ok(PoissonEncoder { range, p_max, prob })
    }

    /// The per-step spike probability of each input neuron for the loaded observation.
    pub fn probabilities(&self) -> &[Frac] {
        self.prob
    }
}

impl Encoder for PoissonEncoder<'_> {
    fn observation_len(&self) -> usize {
        self.prob.len()
    }

    fn input_len(&self) -> usize {
        self.prob.len()
    }

    fn load(&mut self, obs: &[Fix]) {
        for (p, &x) in self.prob.iter_mut().zip(obs) {
            *p = self.range.scale_frac(x, self.p_max);
        }
    }

    fn encode(&mut self, rng: &mut Rng, out: &mut Spikes<'_>) {
        draw(self.prob, rng, out);
    }
}

/// Configuration of a [`PopulationEncoder`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PopulationEncoderParams {
    /// Number of observation channels.
    pub channels: usize,
    /// Neurons per channel, K ≥ 1.
    pub neurons_per_channel: usize,
    /// Lower end of the coded range (first centre).
    pub lo: f32,
    /// Upper end of the coded range (last centre).
    pub hi: f32,
    /// Tuning width σ, in observation units.
    pub sigma: f32,
    /// Rate of a neuron whose centre equals the value (Hz).
    pub max_rate_hz: f32,
}

/// Population (receptive-field) coding: each observation channel drives K neurons with Gaussian tuning
/// curves whose centres are spread uniformly over `[lo, hi]`.
///
/// Neuron `c·K + k` codes channel `c` around the centre `μ_k = lo + k·(hi - lo)/(K - 1)` (the middle of
/// the range when K = 1) and spikes each step with probability
/// `p = max_rate·dt · exp(-(x - μ_k)² / (2σ²))`, with `x` clamped to `[lo, hi]`.
///
/// Fixed point, at [`Encoder::load`]: the centre offset `k·span/(K - 1)` is exact integer arithmetic
/// rounded to nearest; `|x - μ_k|` is multiplied by `1/(σ√2)` (a [`Fix`] rounded to nearest at
/// construction, relative error ≤ 2^-17/(1/(σ√2))) and squared, both saturating; `exp(-a)` comes from
/// the [`EXP_NEG`] table (error ≤ 5e-5, exactly 1 at a = 0 and 0 beyond a = 16); the product with
/// `max_rate·dt` is rounded to nearest. Using `|x - μ_k|` makes mirrored inputs give exactly mirrored
/// probabilities whenever the centres are exact.
#[derive(Debug)]
pub struct PopulationEncoder<'a> {
    range: Range,
    channels: usize,
    per_channel: usize,
    /// `1/(σ√2)` in observation units⁻¹.
    inv_width: Fix,
    p_max: Frac,
    prob: &'a mut [Frac],
}

impl<'a> PopulationEncoder<'a> {
    /// Validates `p` for time step `dt_ms`; `prob` (caller storage) must hold `channels · K` values.
    /// Refuses σ outside `[2^-14/√2, 2^8/√2]` ≈ [4.3e-5, 181] (`1/(σ√2)` must lie in `[2^-8, 2^14]`),
    /// `lo ≥ hi`, impossible rates and size mismatches.
    pub fn new(
        p: PopulationEncoderParams,
        dt_ms: f32,
        prob: &'a mut [Frac],
    ) -> Result<Self, ConfigError> {
        let range = Range::new("population encoder range", p.lo, p.hi)?;
        let p_max = rate_to_prob("population encoder max rate (Hz)", p.max_rate_hz, dt_ms)?;
        if p.neurons_per_channel == 0 || p.channels == 0 {
            return Err(ConfigError::Invalid {
                what: "population encoder needs at least one channel and one neuron per channel",
            });
        }
        let n = p
            .channels
            .checked_mul(p.neurons_per_channel)
            .ok_or(ConfigError::TooLarge {
                what: "encoder input neurons",
                got: usize::MAX,
                max: MAX_NEURONS,
            })?;
        check_neurons(n)?;
        check_len("population encoder storage", n, prob.len())?;
        let inv = 1.0 / (p.sigma as f64 * core::f64::consts::SQRT_2);
        // Also refuses σ ≤ 0 and NaN: their inverse is negative, infinite or NaN.
        if !(1.0 / 256.0..=16384.0).contains(&inv) {
            return Err(ConfigError::OutOfRange {
                what: "population encoder sigma",
                value: p.sigma,
            });
        }
        let inv_width = fix_from_f32("population encoder 1/(sigma*sqrt2)", inv as f32)?;
        prob.fill(Frac::ZERO);
        Ok(PopulationEncoder {
            range,
            channels: p.channels,
            per_channel: p.neurons_per_channel,
            inv_width,
            p_max,
            prob,
        })
    }

    /// The per-step spike probability of each input neuron (`c·K + k`) for the loaded observation.
    pub fn probabilities(&self) -> &[Frac] {
        self.prob
    }

    /// Offset of centre `k` from `lo`, in [`Fix`] bits, rounded to nearest.
    #[inline]
    fn centre_bits(&self, k: usize) -> i64 {
        let span = self.range.span().to_bits() as u64;
        let c = if self.per_channel <= 1 {
            span / 2
        } else {
            let den = (self.per_channel - 1) as u64;
            (span * k as u64 + den / 2) / den // span < 2^31, k < 2^16
        };
        c as i64
    }
}

impl Encoder for PopulationEncoder<'_> {
    fn observation_len(&self) -> usize {
        self.channels
    }

    fn input_len(&self) -> usize {
        self.prob.len()
    }

    fn load(&mut self, obs: &[Fix]) {
        let k_n = self.per_channel;
        for (c, &x) in obs.iter().take(self.channels).enumerate() {
            let u = self.range.offset_bits(x) as i64;
            for k in 0..k_n {
                // |u - μ_k| ≤ span < 2^31: fits Fix bits.
                let d = Fix::from_bits((u - self.centre_bits(k)).unsigned_abs() as i32);
                let z = mul(d, self.inv_width);
                let e = EXP_NEG.eval(mul(z, z)); // in [0, 1]
                let p = (e.to_bits().max(0) as u64 * self.p_max.0 as u64 + (1 << 15)) >> 16;
                if let Some(slot) = self.prob.get_mut(c * k_n + k) {
                    *slot = Frac(p.min(self.p_max.0 as u64) as u32);
                }
            }
        }
    }

    fn encode(&mut self, rng: &mut Rng, out: &mut Spikes<'_>) {
        draw(self.prob, rng, out);
    }
}

/// Change (event-camera style) coding: channel `c` drives an ON neuron `2c` and an OFF neuron `2c + 1`.
///
/// Each channel keeps a reference level. Every step, if `x - ref ≥ θ` the ON neuron spikes and
/// `ref += θ`; if `ref - x ≥ θ` the OFF neuron spikes and `ref -= θ`. A jump of `n·θ` is therefore
/// reported as n spikes on n consecutive steps (at most one spike per channel per step), and the
/// reference tracks the signal to within θ. Deterministic: draws nothing from the generator.
/// Differences saturate. After [`Encoder::reset`] (an episode start) the next observation becomes the
/// reference without producing spikes.
#[derive(Debug)]
pub struct DeltaEncoder<'a> {
    threshold: Fix,
    target: &'a mut [Fix],
    reference: &'a mut [Fix],
    primed: bool,
}

impl<'a> DeltaEncoder<'a> {
    /// One channel per element of `target` (caller storage for the loaded observation) and
    /// `reference` (the reference levels); the two must have the same length. `threshold > 0`.
    pub fn new(
        threshold: f32,
        target: &'a mut [Fix],
        reference: &'a mut [Fix],
    ) -> Result<Self, ConfigError> {
        let threshold = fix_from_f32("delta encoder threshold", threshold)?;
        if threshold <= Fix::ZERO {
            return Err(ConfigError::OutOfRange {
                what: "delta encoder threshold",
                value: threshold.to_num(),
            });
        }
        check_len("delta encoder reference", target.len(), reference.len())?;
        check_neurons(target.len().saturating_mul(2))?;
        Ok(DeltaEncoder {
            threshold,
            target,
            reference,
            primed: false,
        })
    }

    /// The reference level of each channel.
    pub fn reference(&self) -> &[Fix] {
        self.reference
    }
}

impl Encoder for DeltaEncoder<'_> {
    fn observation_len(&self) -> usize {
        self.target.len()
    }

    fn input_len(&self) -> usize {
        2 * self.target.len()
    }

    fn load(&mut self, obs: &[Fix]) {
        for (t, &x) in self.target.iter_mut().zip(obs) {
            *t = x;
        }
        if !self.primed {
            for (r, &t) in self.reference.iter_mut().zip(self.target.iter()) {
                *r = t;
            }
            self.primed = true;
        }
    }

    fn encode(&mut self, _rng: &mut Rng, out: &mut Spikes<'_>) {
        let th = self.threshold;
        for (c, (r, &t)) in self
            .reference
            .iter_mut()
            .zip(self.target.iter())
            .enumerate()
        {
            // 2c + 1 < MAX_NEURONS: checked at construction.
            if t.saturating_sub(*r) >= th {
                out.push(2 * c as u16);
                *r = r.saturating_add(th);
            } else if r.saturating_sub(t) >= th {
                out.push(2 * c as u16 + 1);
                *r = r.saturating_sub(th);
            }
        }
    }

    fn reset(&mut self) {
        self.primed = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> Fix {
        Fix::from_num(x)
    }

    /// Spike counts of each input neuron over `n` steps.
    fn count<E: Encoder>(enc: &mut E, n: usize, seed: u64) -> [u32; 16] {
        let mut rng = Rng::new(seed);
        let mut buf = [0u16; 16];
        let mut counts = [0u32; 16];
        for _ in 0..n {
            let mut s = Spikes::new(&mut buf);
            enc.encode(&mut rng, &mut s);
            let sl = s.as_slice();
            assert!(sl.windows(2).all(|w| w[0] < w[1]), "spikes not increasing");
            for &j in sl {
                counts[j as usize] += 1;
            }
        }
        counts
    }

    /// `|k/n - p| ≤ 5σ` of a binomial (plus a hair for p = 0 or 1).
    fn assert_binomial(k: u32, n: usize, p: f64, what: &str) {
        let n = n as f64;
        let tol = 5.0 * (p * (1.0 - p) / n).sqrt() + 1e-9;
        let got = k as f64 / n;
        assert!(
            (got - p).abs() <= tol,
            "{what}: rate {got} vs {p} (tol {tol})"
        );
    }

    #[test]
    fn poisson_rates_match_request() {
        let mut prob = [Frac::ZERO; 6];
        // 200 Hz at 1 ms: p_max = 0.2
        let mut enc = PoissonEncoder::new(0.0, 1.0, 200.0, 1.0, &mut prob).unwrap();
        assert_eq!((enc.observation_len(), enc.input_len()), (6, 6));
        let obs = [f(0.0), f(0.25), f(0.5), f(1.0), f(1.5), f(-0.5)];
        enc.load(&obs);
        let want = [0.0, 0.05, 0.1, 0.2, 0.2, 0.0];
        for (p, w) in enc.probabilities().iter().zip(want) {
            // p_max and the ratio each round to nearest in Q0.32: within 2^-31.
            let got = p.0 as f64 / 4_294_967_296.0;
            assert!((got - w).abs() < 1e-9, "{got} vs {w}");
        }
        let n = 40_000;
        let c = count(&mut enc, n, 1);
        for (j, w) in want.iter().enumerate() {
            assert_binomial(c[j], n, *w, "poisson");
        }
        assert_eq!(c[0], 0);
        assert_eq!(c[5], 0);
        // a new observation changes the rates
        enc.load(&[f(1.0); 6]);
        let c = count(&mut enc, n, 2);
        assert_binomial(c[0], n, 0.2, "poisson reloaded");
    }

    #[test]
    fn poisson_refuses_bad_config() {
        let mut prob = [Frac::ZERO; 2];
        assert!(PoissonEncoder::new(0.0, 1.0, 1001.0, 1.0, &mut prob).is_err()); // p > 1
        assert!(PoissonEncoder::new(0.0, 1.0, 200.0, 10.0, &mut prob).is_err()); // p = 2
        assert!(PoissonEncoder::new(0.0, 1.0, -5.0, 1.0, &mut prob).is_err());
        assert!(PoissonEncoder::new(1.0, 1.0, 5.0, 1.0, &mut prob).is_err());
        assert!(PoissonEncoder::new(0.0, 1.0, 5.0, f32::NAN, &mut prob).is_err());
        assert!(PoissonEncoder::new(0.0, 1.0, 5.0, 1.0, &mut []).is_err());
        // p = 1 exactly is allowed and spikes (essentially) every step
        let mut enc = PoissonEncoder::new(0.0, 1.0, 1000.0, 1.0, &mut prob).unwrap();
        enc.load(&[f(1.0), f(0.0)]);
        let c = count(&mut enc, 1000, 3);
        assert_eq!((c[0], c[1]), (1000, 0));
    }

    fn pop_params(k: usize) -> PopulationEncoderParams {
        PopulationEncoderParams {
            channels: 2,
            neurons_per_channel: k,
            lo: 0.0,
            hi: 1.0,
            sigma: 0.2,
            max_rate_hz: 400.0,
        }
    }

    fn gauss(x: f64, c: f64, sigma: f64) -> f64 {
        (-(x - c) * (x - c) / (2.0 * sigma * sigma)).exp()
    }

    #[test]
    fn population_coding_peaks_and_is_symmetric() {
        let mut prob = [Frac::ZERO; 10];
        let mut enc = PopulationEncoder::new(pop_params(5), 1.0, &mut prob).unwrap();
        assert_eq!((enc.observation_len(), enc.input_len()), (2, 10));
        // channel 0 at the centre of the range, channel 1 at the second centre
        enc.load(&[f(0.5), f(0.25)]);
        let p: [u32; 10] = core::array::from_fn(|j| enc.probabilities()[j].0);
        // peak at the matching neuron with the full rate
        let pmax = rate_to_prob("rate", 400.0, 1.0).unwrap().0;
        assert_eq!(p[2], pmax);
        assert_eq!(p[5 + 1], pmax);
        // exact symmetry about the middle centre
        assert_eq!(p[0], p[4]);
        assert_eq!(p[1], p[3]);
        assert!(p[2] > p[1] && p[1] > p[0]);
        // and the values follow the Gaussian (table error 5e-5 × p_max, plus rounding)
        for k in 0..5 {
            let want = 0.4 * gauss(0.5, k as f64 / 4.0, 0.2);
            let got = Frac(p[k]).to_f32() as f64;
            assert!((got - want).abs() < 5e-5, "k={k}: {got} vs {want}");
            let want = 0.4 * gauss(0.25, k as f64 / 4.0, 0.2);
            let got = Frac(p[5 + k]).to_f32() as f64;
            assert!((got - want).abs() < 5e-5, "k={k}: {got} vs {want}");
        }
        // mirrored inputs give mirrored probabilities
        enc.load(&[f(0.3), f(0.7)]);
        let q = enc.probabilities();
        for k in 0..5 {
            assert_eq!(q[k], q[5 + 4 - k], "mirror k={k}");
        }
        // empirical rates match the probabilities
        enc.load(&[f(0.5), f(0.25)]);
        let n = 30_000;
        let c = count(&mut enc, n, 9);
        for j in 0..10 {
            assert_binomial(c[j], n, Frac(p[j]).to_f32() as f64, "population");
        }
        // clamping: beyond hi behaves like hi (peak at the last neuron)
        enc.load(&[f(3.0), f(-2.0)]);
        let q = enc.probabilities();
        assert_eq!(q[4].0, pmax);
        assert_eq!(q[5].0, pmax);
    }

    #[test]
    fn population_refuses_bad_config() {
        let mut prob = [Frac::ZERO; 10];
        let mut p = pop_params(5);
        p.sigma = 0.0;
        assert!(PopulationEncoder::new(p, 1.0, &mut prob).is_err());
        p.sigma = f32::NAN;
        assert!(PopulationEncoder::new(p, 1.0, &mut prob).is_err());
        p = pop_params(4); // needs 8, given 10
        assert!(matches!(
            PopulationEncoder::new(p, 1.0, &mut prob),
            Err(ConfigError::SizeMismatch {
                expected: 8,
                got: 10,
                ..
            })
        ));
        p = pop_params(0);
        assert!(PopulationEncoder::new(p, 1.0, &mut prob).is_err());
        p = pop_params(5);
        p.max_rate_hz = 2000.0;
        assert!(PopulationEncoder::new(p, 1.0, &mut prob).is_err());
        // K = 1: one neuron per channel centred in the middle
        let mut prob1 = [Frac::ZERO; 2];
        let mut enc = PopulationEncoder::new(pop_params(1), 1.0, &mut prob1).unwrap();
        enc.load(&[f(0.5), f(0.0)]);
        assert_eq!(
            enc.probabilities()[0],
            rate_to_prob("r", 400.0, 1.0).unwrap()
        );
        assert!(enc.probabilities()[1].0 < enc.probabilities()[0].0);
    }

    #[test]
    fn delta_emits_one_event_per_threshold() {
        let mut target = [Fix::ZERO; 2];
        let mut reference = [Fix::ZERO; 2];
        let mut enc = DeltaEncoder::new(0.1, &mut target, &mut reference).unwrap();
        assert_eq!(enc.input_len(), 4);
        let mut rng = Rng::new(0);
        let mut buf = [0u16; 4];
        let mut run = |enc: &mut DeltaEncoder<'_>, steps: usize| {
            let mut seen = [[false; 4]; 8];
            for row in seen.iter_mut().take(steps) {
                let mut s = Spikes::new(&mut buf);
                enc.encode(&mut rng, &mut s);
                for &j in s.as_slice() {
                    row[j as usize] = true;
                }
            }
            seen
        };
        // the first observation only sets the reference
        enc.load(&[f(0.5), f(0.5)]);
        assert_eq!(run(&mut enc, 3), [[false; 4]; 8]);
        // channel 0 rises by 0.35 (3 ON events), channel 1 falls by 0.25 (2 OFF events)
        enc.load(&[f(0.85), f(0.25)]);
        let s = run(&mut enc, 5);
        let on0: usize = s.iter().filter(|r| r[0]).count();
        let off1: usize = s.iter().filter(|r| r[3]).count();
        assert_eq!((on0, off1), (3, 2));
        assert!(s[0][0] && s[1][0] && s[2][0] && !s[3][0]); // consecutive steps
        assert!(s.iter().all(|r| !r[1] && !r[2]));
        assert!((enc.reference()[0] - f(0.8)).abs() <= Fix::from_bits(2));
        assert!((enc.reference()[1] - f(0.3)).abs() <= Fix::from_bits(2));
        // after reset the next observation is silent again
        enc.reset();
        enc.load(&[f(-3.0), f(9.0)]);
        assert_eq!(run(&mut enc, 2), [[false; 4]; 8]);
        assert!(DeltaEncoder::new(0.0, &mut [Fix::ZERO], &mut [Fix::ZERO]).is_err());
        assert!(DeltaEncoder::new(0.1, &mut [Fix::ZERO], &mut []).is_err());
    }
}
