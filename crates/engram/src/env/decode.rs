//! Decoders: output spikes counted over a window → action.
//!
//! Both decoders group the output neurons: neuron `j` belongs to action channel `j / G` (G neurons
//! per channel; G = 1 reads one neuron per channel), so a channel can be read from a small population.
//! Counts are `u32` per channel in caller storage (saturating, so they cannot wrap), cleared by every
//! [`Decoder::decode`] and [`Decoder::reset`].

use super::{Decoder, Range};
use crate::error::ConfigError;
use crate::neuron::MAX_NEURONS;
use crate::num::{Fix, Frac, Rng};

/// Spike counts per channel over the current window.
#[derive(Debug)]
struct Counter<'a> {
    counts: &'a mut [u32],
    group: usize,
    window: u32,
}

impl<'a> Counter<'a> {
    fn new(counts: &'a mut [u32], group: usize, window: u32) -> Result<Self, ConfigError> {
        if counts.is_empty() || group == 0 || window == 0 {
            return Err(ConfigError::Invalid {
                what: "decoder needs at least one channel, one neuron per channel and a window of one step",
            });
        }
        let n = counts.len().saturating_mul(group);
        if n > MAX_NEURONS {
            return Err(ConfigError::TooLarge {
                what: "decoder output neurons",
                got: n,
                max: MAX_NEURONS,
            });
        }
        counts.fill(0);
        Ok(Counter {
            counts,
            group,
            window,
        })
    }

    fn output_len(&self) -> usize {
        self.counts.len() * self.group
    }

    #[inline]
    fn record(&mut self, spikes: &[u16]) {
        for &j in spikes {
            // `checked_div`: a zero group is refused at construction, but the step path must not
            // reach a division panic
            let group = (j as usize).checked_div(self.group);
            if let Some(c) = group.and_then(|g| self.counts.get_mut(g)) {
                *c = c.saturating_add(1);
            }
        }
    }

    fn clear(&mut self) {
        self.counts.fill(0);
    }
}

/// Configuration of a [`RateDecoder`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateDecoderParams {
    /// Output neurons per action channel, G ≥ 1.
    pub neurons_per_channel: usize,
    /// Window W, in network steps.
    pub window_steps: u32,
    /// Mean rate per neuron (Hz) that maps to `hi`; lower rates map linearly down to `lo` at 0 Hz.
    pub full_scale_hz: f32,
    /// Action value for silence.
    pub lo: f32,
    /// Action value at (or above) the full-scale rate.
    pub hi: f32,
}

/// Rate readout: action channel `i` is the mean firing rate of its G neurons over the last W steps,
/// mapped linearly from `[0, full_scale_hz]` to `[lo, hi]` and clamped at `hi`.
///
/// With `n` spikes counted and `F = full_scale_hz · dt · W · G` the count at full scale (a [`Fix`],
/// rounded to nearest at construction), the action is `lo + (hi - lo) · min(n / F, 1)`. The ratio is a
/// [`Frac`] computed with one `u64` division, rounded to nearest; the product with `hi - lo` rounds to
/// nearest, so the action is within 1 LSB of the exact value for the rounded `F`. Construction refuses
/// `F < 1` (less than one spike of resolution) and `F > W · G` (a rate above one spike per step).
#[derive(Debug)]
pub struct RateDecoder<'a> {
    counter: Counter<'a>,
    range: Range,
    /// Count at full scale, in [`Fix`] bits (≥ 2^16).
    full_bits: u64,
}

impl<'a> RateDecoder<'a> {
    /// One action channel per element of `counts` (caller storage).
    pub fn new(
        p: RateDecoderParams,
        dt_ms: f32,
        counts: &'a mut [u32],
    ) -> Result<Self, ConfigError> {
        let counter = Counter::new(counts, p.neurons_per_channel, p.window_steps)?;
        let range = Range::new("rate decoder range", p.lo, p.hi)?;
        if !dt_ms.is_finite() || dt_ms <= 0.0 {
            return Err(ConfigError::InvalidTimeStep { dt_ms });
        }
        let max_count = p.window_steps as f64 * p.neurons_per_channel as f64;
        let full = p.full_scale_hz as f64 * dt_ms as f64 / 1000.0 * max_count;
        if !(1.0..=max_count).contains(&full) || full >= 32768.0 {
            return Err(ConfigError::OutOfRange {
                what: "rate decoder full scale (Hz): needs 1 ≤ rate·dt·W·G ≤ W·G",
                value: p.full_scale_hz,
            });
        }
        let full_bits = crate::num::round_f64(full * 65536.0) as u64;
        Ok(RateDecoder {
            counter,
            range,
            full_bits,
        })
    }

    /// Spikes counted per channel in the current window.
    pub fn counts(&self) -> &[u32] {
        self.counter.counts
    }

    /// The action value for a count of `n` spikes.
    #[inline]
    pub fn value(&self, n: u32) -> Fix {
        let f = (n as u64) << 16;
        if f >= self.full_bits {
            return self.range.hi();
        }
        // f < full_bits < 2^31, so f << 32 < 2^63; the quotient is < 2^32 because f ≤ full - 2^-16·2^16
        // and full ≥ 2^16 (see `new`), so the cast does not truncate.
        let q = ((f << 32) + self.full_bits / 2) / self.full_bits;
        let frac = Frac(q.min(u32::MAX as u64) as u32);
        self.range.lo().saturating_add(frac.mul(self.range.span()))
    }
}

impl Decoder for RateDecoder<'_> {
    fn output_len(&self) -> usize {
        self.counter.output_len()
    }

    fn action_len(&self) -> usize {
        self.counter.counts.len()
    }

    fn window(&self) -> u32 {
        self.counter.window
    }

    fn record(&mut self, spikes: &[u16]) {
        self.counter.record(spikes);
    }

    fn decode(&mut self, action: &mut [Fix], _rng: &mut Rng) {
        for (a, &n) in action.iter_mut().zip(self.counter.counts.iter()) {
            *a = self.value(n);
        }
        self.counter.clear();
    }

    fn reset(&mut self) {
        self.counter.clear();
    }
}

/// What [`WinnerTakeAll`] does when no output neuron spiked in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Silence {
    /// No choice: the all-zero action.
    #[default]
    Abstain,
    /// A fixed default action.
    Action(u16),
    /// A uniformly random action (exploration): one [`Rng::below`] draw.
    Random,
}

/// Winner-take-all readout: the action channel whose G neurons spiked most in the window wins; the
/// action is one-hot (`1` for the winner, `0` elsewhere).
///
/// Ties go to the lowest channel index (deterministic). With no spike at all the [`Silence`] policy
/// decides; only [`Silence::Random`] draws from the generator.
#[derive(Debug)]
pub struct WinnerTakeAll<'a> {
    counter: Counter<'a>,
    silence: Silence,
    choice: Option<u16>,
}

impl<'a> WinnerTakeAll<'a> {
    /// One action per element of `counts` (caller storage), G neurons per action, a window of W
    /// steps. Refuses a [`Silence::Action`] that is not an action.
    pub fn new(
        neurons_per_action: usize,
        window_steps: u32,
        silence: Silence,
        counts: &'a mut [u32],
    ) -> Result<Self, ConfigError> {
        let counter = Counter::new(counts, neurons_per_action, window_steps)?;
        if let Silence::Action(k) = silence
            && k as usize >= counter.counts.len()
        {
            return Err(ConfigError::Invalid {
                what: "winner-take-all default action is not an action",
            });
        }
        Ok(WinnerTakeAll {
            counter,
            silence,
            choice: None,
        })
    }

    /// The channel with the most spikes so far in this window (ties: lowest index), `None` if silent.
    pub fn winner(&self) -> Option<u16> {
        let mut best: Option<(usize, u32)> = None;
        for (i, &c) in self.counter.counts.iter().enumerate() {
            if c > 0 && best.is_none_or(|(_, b)| c > b) {
                best = Some((i, c));
            }
        }
        // i < MAX_NEURONS: checked at construction.
        best.map(|(i, _)| i as u16)
    }

    /// The action chosen by the last [`Decoder::decode`] (after the [`Silence`] policy).
    pub fn choice(&self) -> Option<u16> {
        self.choice
    }

    /// Spikes counted per action in the current window.
    pub fn counts(&self) -> &[u32] {
        self.counter.counts
    }
}

impl Decoder for WinnerTakeAll<'_> {
    fn output_len(&self) -> usize {
        self.counter.output_len()
    }

    fn action_len(&self) -> usize {
        self.counter.counts.len()
    }

    fn window(&self) -> u32 {
        self.counter.window
    }

    fn record(&mut self, spikes: &[u16]) {
        self.counter.record(spikes);
    }

    fn decode(&mut self, action: &mut [Fix], rng: &mut Rng) {
        let n = self.counter.counts.len();
        let choice = self.winner().or(match self.silence {
            Silence::Abstain => None,
            Silence::Action(k) => Some(k),
            // n ≤ MAX_NEURONS < 2^16
            Silence::Random => Some(rng.below(n as u32) as u16),
        });
        for (i, a) in action.iter_mut().enumerate() {
            *a = if choice == Some(i as u16) {
                Fix::ONE
            } else {
                Fix::ZERO
            };
        }
        self.choice = choice;
        self.counter.clear();
    }

    fn reset(&mut self) {
        self.counter.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> Fix {
        Fix::from_num(x)
    }

    #[test]
    fn wta_picks_most_active_and_breaks_ties_low() {
        let mut counts = [0u32; 4];
        let mut wta = WinnerTakeAll::new(2, 5, Silence::Abstain, &mut counts).unwrap();
        assert_eq!(
            (wta.output_len(), wta.action_len(), wta.window()),
            (8, 4, 5)
        );
        let mut rng = Rng::new(0);
        let mut action = [f(9.0); 4];
        // neurons 2,3 → action 1; 4,5 → action 2; 7 → action 3; 8+ ignored
        wta.record(&[2, 4, 7, 9, 300]);
        wta.record(&[3, 5]);
        wta.record(&[4]);
        assert_eq!(wta.counts(), &[0, 2, 3, 1]);
        assert_eq!(wta.winner(), Some(2));
        wta.record(&[2]); // 3 vs 3: tie → lower index
        assert_eq!(wta.winner(), Some(1));
        wta.decode(&mut action, &mut rng);
        assert_eq!(action, [f(0.0), f(1.0), f(0.0), f(0.0)]);
        assert_eq!(wta.choice(), Some(1));
        // the window restarted
        assert_eq!(wta.counts(), &[0; 4]);
        assert_eq!(wta.winner(), None);
        // silence → abstain (all zero), and the generator is untouched
        let before = rng.clone();
        wta.decode(&mut action, &mut rng);
        assert_eq!(action, [f(0.0); 4]);
        assert_eq!(wta.choice(), None);
        assert_eq!(rng, before);
        // all tied → action 0
        wta.record(&[0, 2, 4, 6]);
        wta.decode(&mut action, &mut rng);
        assert_eq!(wta.choice(), Some(0));
        // reset discards the window
        wta.record(&[7]);
        wta.reset();
        assert_eq!(wta.winner(), None);
    }

    #[test]
    fn wta_silence_policies() {
        let mut counts = [0u32; 3];
        let mut rng = Rng::new(5);
        let mut action = [Fix::ZERO; 3];
        let mut wta = WinnerTakeAll::new(1, 1, Silence::Action(2), &mut counts).unwrap();
        wta.decode(&mut action, &mut rng);
        assert_eq!(action, [f(0.0), f(0.0), f(1.0)]);
        let mut counts = [0u32; 3];
        let mut wta = WinnerTakeAll::new(1, 1, Silence::Random, &mut counts).unwrap();
        let mut hist = [0u32; 3];
        for _ in 0..3000 {
            wta.decode(&mut action, &mut rng);
            hist[wta.choice().unwrap() as usize] += 1;
            assert_eq!(action.iter().filter(|&&a| a == Fix::ONE).count(), 1);
        }
        // uniform: each ~1000 ± 5σ (σ ≈ 26)
        assert!(hist.iter().all(|&h| (870..=1130).contains(&h)), "{hist:?}");
        let mut counts = [0u32; 3];
        assert!(WinnerTakeAll::new(1, 1, Silence::Action(3), &mut counts).is_err());
        assert!(WinnerTakeAll::new(0, 1, Silence::Abstain, &mut counts).is_err());
        assert!(WinnerTakeAll::new(1, 0, Silence::Abstain, &mut counts).is_err());
        assert!(WinnerTakeAll::new(1, 1, Silence::Abstain, &mut []).is_err());
    }

    #[test]
    fn rate_decoder_window_arithmetic() {
        // 2 neurons per channel, W = 10 steps of 1 ms, full scale 200 Hz → F = 0.2·10·2 = 4 spikes.
        let p = RateDecoderParams {
            neurons_per_channel: 2,
            window_steps: 10,
            full_scale_hz: 200.0,
            lo: -1.0,
            hi: 1.0,
        };
        let mut counts = [0u32; 3];
        let mut dec = RateDecoder::new(p, 1.0, &mut counts).unwrap();
        assert_eq!(
            (dec.output_len(), dec.action_len(), dec.window()),
            (6, 3, 10)
        );
        let mut rng = Rng::new(0);
        let mut action = [Fix::ZERO; 3];
        // channel 0: 1 spike; channel 1: 3 spikes; channel 2: 9 spikes (above full scale)
        for step in 0..10 {
            let mut s: [u16; 3] = [6, 6, 6]; // 6 = out of range, ignored
            if step == 0 {
                s[0] = 1;
            }
            if step < 3 {
                s[1] = 2 + (step % 2) as u16;
            }
            if step < 9 {
                s[2] = 4 + (step % 2) as u16;
            }
            dec.record(&s);
        }
        assert_eq!(dec.counts(), &[1, 3, 9]);
        dec.decode(&mut action, &mut rng);
        let lsb = Fix::from_bits(1);
        assert!((action[0] - f(-0.5)).abs() <= lsb, "{}", action[0]); // -1 + 2·1/4
        assert!((action[1] - f(0.5)).abs() <= lsb, "{}", action[1]); // -1 + 2·3/4
        assert_eq!(action[2], f(1.0));
        assert_eq!(dec.counts(), &[0; 3]);
        // an empty window decodes to lo exactly
        dec.decode(&mut action, &mut rng);
        assert_eq!(action, [f(-1.0); 3]);
        // a fractional full scale: F = 0.125·10·2 = 2.5 spikes
        let p = RateDecoderParams {
            full_scale_hz: 125.0,
            ..p
        };
        let mut counts = [0u32; 1];
        let dec = RateDecoder::new(p, 1.0, &mut counts).unwrap();
        assert!((dec.value(1) - f(-1.0 + 2.0 * 0.4)).abs() <= lsb);
        assert!((dec.value(2) - f(-1.0 + 2.0 * 0.8)).abs() <= lsb);
        assert_eq!(dec.value(3), f(1.0));
        // refused: F < 1, F > W·G, bad range, bad dt
        let mut counts = [0u32; 1];
        for bad in [
            RateDecoderParams {
                full_scale_hz: 40.0, // F = 0.8
                ..p
            },
            RateDecoderParams {
                full_scale_hz: 1500.0, // F = 30 > 20
                ..p
            },
            RateDecoderParams { lo: 1.0, ..p },
        ] {
            assert!(RateDecoder::new(bad, 1.0, &mut counts).is_err());
        }
        assert!(RateDecoder::new(p, 0.0, &mut counts).is_err());
    }
}
