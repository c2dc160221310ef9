//! Phototaxis (placeholder header; written below).

use engram::env::Encoder;
use engram::error::ConfigError;
use engram::neuron::{MAX_NEURONS, Spikes};
use engram::num::{Fix, Frac, Rng};

/// Rate coding by groups: observation channel `c` (a value in `[0, 1]`, clamped) drives the `G`
/// input neurons `c·G .. (c+1)·G`, each of which spikes independently in a step with probability
/// `p = x · max_rate · dt` (a Bernoulli approximation of a Poisson process of rate `x·max_rate`).
///
/// [`engram::env::PoissonEncoder`] has one neuron per channel; a sensor seen through a *population*
/// of independent Poisson cells (so that a downstream neuron sums `G` noisy inputs) needs `G` per
/// channel. The channel's probability is computed at [`Encoder::load`] as
/// `p = round(p_max · x)` in U0.32 (`p_max = max_rate·dt`, rounded to nearest at construction), one
/// per channel (caller storage `prob`, length = channels); each step draws one `u32` per input
/// neuron, in neuron order, whether or not it spikes.
#[derive(Debug)]
pub struct RateGroups<'a> {
    prob: &'a mut [Frac],
    per_channel: usize,
    p_max: Frac,
}

impl<'a> RateGroups<'a> {
    /// `prob.len()` channels of `per_channel` neurons at up to `max_rate_hz` with time step `dt_ms`.
    /// Refuses no channel, an empty group, more than [`MAX_NEURONS`] neurons and a `max_rate·dt`
    /// outside `(0, 1]`.
    pub fn new(
        per_channel: usize,
        max_rate_hz: f32,
        dt_ms: f32,
        prob: &'a mut [Frac],
    ) -> Result<Self, ConfigError> {
        let n = prob.len().saturating_mul(per_channel);
        if n == 0 {
            return Err(ConfigError::Invalid {
                what: "rate-group encoder with no input neurons",
            });
        }
        if n > MAX_NEURONS {
            return Err(ConfigError::TooLarge {
                what: "rate-group encoder input neurons",
                got: n,
                max: MAX_NEURONS,
            });
        }
        let p = max_rate_hz * dt_ms / 1000.0;
        if !(p.is_finite() && p > 0.0 && p <= 1.0) {
            return Err(ConfigError::OutOfRange {
                what: "input max rate · dt (probability in (0, 1])",
                value: p,
            });
        }
        prob.fill(Frac::ZERO);
        Ok(RateGroups {
            prob,
            per_channel,
            p_max: Frac::from_f32("input max rate · dt", p)?,
        })
    }

    /// The spike probability per step of each channel's neurons.
    pub fn probabilities(&self) -> &[Frac] {
        self.prob
    }
}

impl Encoder for RateGroups<'_> {
    fn observation_len(&self) -> usize {
        self.prob.len()
    }

    fn input_len(&self) -> usize {
        self.prob.len() * self.per_channel
    }

    fn load(&mut self, obs: &[Fix]) {
        for (p, &x) in self.prob.iter_mut().zip(obs) {
            // x in [0, 1] as Q16.16 bits in [0, 2^16]; p_max·x < 2^48, rounded to nearest U0.32.
            let x = x.to_bits().clamp(0, 1 << 16) as u64;
            let v = (self.p_max.0 as u64 * x + (1 << 15)) >> 16;
            *p = Frac(v.min(u32::MAX as u64) as u32);
        }
    }

    fn encode(&mut self, rng: &mut Rng, out: &mut Spikes<'_>) {
        let mut j: u16 = 0;
        for &p in self.prob.iter() {
            for _ in 0..self.per_channel {
                if rng.bernoulli(p) {
                    out.push(j);
                }
                // j < MAX_NEURONS ≤ 65 535: checked at construction.
                j = j.wrapping_add(1);
            }
        }
    }
}
