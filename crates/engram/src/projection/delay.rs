//! Axonal delays: a stage between a population's spikes and any projection.

use super::MAX_SIDE;
use crate::error::{ConfigError, check_len};
use crate::neuron::Spikes;
use crate::num::steps;

/// Words of a spike bitset for `n_pre` neurons: `⌈n_pre / 32⌉` (use it for [`DelayStorage`]'s
/// `WORDS`, e.g. `DelayStorage<100, 6, { delay_words(100) }>`).
pub const fn delay_words(n_pre: usize) -> usize {
    n_pre.div_ceil(32)
}

/// Per-presynaptic-neuron axonal delays, in whole time steps.
///
/// A spike of neuron `i` pushed at step `t` arrives at step `t + d_i` (`d_i ∈ 0..=max_delay`; `0`
/// means the same step). Use: each step, [`push`](Self::push) the source population's spikes, then
/// [`arrivals`](Self::arrivals) gives the neurons whose spikes arrive now, which any projection
/// propagates as if they were fresh spikes. A uniform delay is all entries equal (detected at
/// construction and served by a faster path).
///
/// **State.** A ring of `max_delay + 1` spike bitsets, one bit per presynaptic neuron
/// (`⌈n_pre/32⌉` words each, bit `i % 32` of word `i / 32`), holding the last `max_delay + 1` steps;
/// `push` overwrites the oldest. RAM: `n_pre` delay bytes + `4 · (max_delay + 1) · ⌈n_pre/32⌉`
/// bytes, whatever the firing rate (a spike costs one bit, not a queue entry, so nothing can
/// overflow).
///
/// **Cost.** `push`: clear one bitset (`⌈n_pre/32⌉` words) + one bit per spike. `arrivals` with a
/// uniform delay: one pass over one bitset. With per-neuron delays: for each word, the
/// `max_delay + 1` bitsets are read and each set bit is checked against its neuron's delay, so the
/// cost is `(max_delay + 1)·⌈n_pre/32⌉` word reads plus one check per spike still in flight.
#[derive(Debug)]
pub struct AxonalDelay<'a> {
    delays: &'a [u8],
    history: &'a mut [u32],
    words: usize,
    slots: usize,
    /// Slot of the most recent `push`.
    head: usize,
    uniform: Option<u8>,
}

impl<'a> AxonalDelay<'a> {
    /// A delay stage for `delays.len()` presynaptic neurons (≤ 65 535) with delays in
    /// `0..=max_delay` steps, on `history` of exactly `(max_delay + 1) · ⌈n_pre/32⌉` words (zeroed
    /// here: no spike is in flight at the start).
    pub fn new(
        delays: &'a [u8],
        max_delay: u8,
        history: &'a mut [u32],
    ) -> Result<Self, ConfigError> {
        let n_pre = delays.len();
        if n_pre > MAX_SIDE {
            return Err(ConfigError::TooLarge {
                what: "delayed population size",
                got: n_pre,
                max: MAX_SIDE,
            });
        }
        if let Some(&d) = delays.iter().find(|&&d| d > max_delay) {
            return Err(ConfigError::OutOfRange {
                what: "axonal delay (steps) above max_delay",
                value: d as f32,
            });
        }
        let words = delay_words(n_pre);
        let slots = max_delay as usize + 1;
        check_len("delay history (words)", slots * words, history.len())?;
        history.fill(0);
        let uniform = match delays.split_first() {
            Some((&d, rest)) if rest.iter().all(|&e| e == d) => Some(d),
            _ => None,
        };
        Ok(AxonalDelay {
            delays,
            history,
            words,
            slots,
            head: 0,
            uniform,
        })
    }

    /// A delay in ms converted to whole steps (rounded to nearest), refusing more than 255 steps.
    pub fn steps(delay_ms: f32, dt_ms: f32) -> Result<u8, ConfigError> {
        let n = steps("axonal delay", delay_ms, dt_ms)?;
        u8::try_from(n).map_err(|_| ConfigError::OutOfRange {
            what: "axonal delay (more than 255 steps)",
            value: delay_ms,
        })
    }

    /// Number of presynaptic neurons.
    #[inline]
    pub fn n_pre(&self) -> usize {
        self.delays.len()
    }

    /// The largest delay the ring can hold.
    #[inline]
    pub fn max_delay(&self) -> u8 {
        // slots = max_delay + 1 ≤ 256
        (self.slots - 1) as u8
    }

    /// The delays, in steps.
    #[inline]
    pub fn delays(&self) -> &[u8] {
        self.delays
    }

    /// Forgets every spike in flight (e.g. between episodes).
    pub fn clear(&mut self) {
        self.history.fill(0);
    }

    /// Starts a new step: the ring advances (dropping the spikes of `max_delay + 1` steps ago,
    /// which have all arrived) and `spikes` (indices; `≥ n_pre` ignored, duplicates harmless) are
    /// recorded as this step's.
    pub fn push(&mut self, spikes: &[u16]) {
        self.head = if self.head + 1 == self.slots {
            0
        } else {
            self.head + 1
        };
        let start = self.head * self.words;
        let Some(slot) = self.history.get_mut(start..start + self.words) else {
            return;
        };
        slot.fill(0);
        let n_pre = self.delays.len();
        for &s in spikes {
            let i = s as usize;
            if i < n_pre
                && let Some(w) = slot.get_mut(i / 32)
            {
                *w |= 1 << (i % 32);
            }
        }
    }

    /// The bitset of the step `age` steps before the latest push (`age ≤ max_delay`).
    #[inline]
    fn slot(&self, age: usize) -> &[u32] {
        let s = if self.head >= age {
            self.head - age
        } else {
            self.head + self.slots - age
        };
        let start = s * self.words;
        self.history.get(start..start + self.words).unwrap_or(&[])
    }

    /// Clears `out` and fills it with the presynaptic neurons whose spike arrives at the current step
    /// (the step of the latest [`push`](Self::push)), in increasing order. Returns `false` if `out`
    /// was too small and some arrivals were dropped (give it `n_pre` slots to rule that out).
    pub fn arrivals(&self, out: &mut Spikes<'_>) -> bool {
        out.clear();
        let mut all = true;
        if let Some(d) = self.uniform {
            for (w, &bits) in self.slot(d as usize).iter().enumerate() {
                all &= emit(out, w, bits);
            }
            return all;
        }
        for w in 0..self.words {
            let mut arrived = 0u32;
            for age in 0..self.slots {
                let Some(&word) = self.slot(age).get(w) else {
                    continue;
                };
                let mut bits = word;
                while bits != 0 {
                    let b = bits.trailing_zeros();
                    bits &= bits - 1;
                    if self.delays.get(w * 32 + b as usize) == Some(&(age as u8)) {
                        arrived |= 1 << b;
                    }
                }
            }
            all &= emit(out, w, arrived);
        }
        all
    }
}

/// Pushes the neurons of bitset word `w` into `out`, increasing; `false` if any was dropped.
#[inline]
fn emit(out: &mut Spikes<'_>, w: usize, mut bits: u32) -> bool {
    let mut all = true;
    while bits != 0 {
        let b = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        // w < ⌈n_pre/32⌉ and n_pre ≤ 65 535, so the index fits u16
        all &= out.push((w * 32 + b) as u16);
    }
    all
}

/// Storage for an [`AxonalDelay`] with sizes known at compile time: `PRE` neurons, `SLOTS =
/// max_delay + 1` steps of history (1..=256), `WORDS` must equal [`delay_words`]`(PRE)` (a compile-time
/// check: stable Rust cannot compute it in the type, `generic_const_exprs` being unstable).
/// `size_of` = `PRE + 4·SLOTS·WORDS` (plus alignment padding).
#[derive(Debug, Clone, PartialEq)]
pub struct DelayStorage<const PRE: usize, const SLOTS: usize, const WORDS: usize> {
    /// Per-neuron delays in steps (`≤ SLOTS - 1`).
    pub delays: [u8; PRE],
    /// The ring of spike bitsets.
    pub history: [[u32; WORDS]; SLOTS],
}

impl<const PRE: usize, const SLOTS: usize, const WORDS: usize> DelayStorage<PRE, SLOTS, WORDS> {
    const SIZE_OK: () = {
        assert!(
            PRE <= MAX_SIDE,
            "delayed population too large for u16 indices"
        );
        assert!(
            SLOTS >= 1 && SLOTS <= 256,
            "SLOTS = max_delay + 1 must be in 1..=256"
        );
        assert!(WORDS == delay_words(PRE), "WORDS must be delay_words(PRE)");
    };

    /// Storage with every delay 0 and no spike in flight.
    pub const fn new() -> Self {
        let () = Self::SIZE_OK;
        DelayStorage {
            delays: [0; PRE],
            history: [[0; WORDS]; SLOTS],
        }
    }

    /// The delay stage on this storage (validates the delays; clears the history).
    pub fn stage(&mut self) -> Result<AxonalDelay<'_>, ConfigError> {
        let () = Self::SIZE_OK;
        AxonalDelay::new(
            &self.delays,
            (SLOTS - 1) as u8,
            self.history.as_flattened_mut(),
        )
    }
}

impl<const PRE: usize, const SLOTS: usize, const WORDS: usize> Default
    for DelayStorage<PRE, SLOTS, WORDS>
{
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::Rng;

    fn run_against_reference(
        n_pre: usize,
        max_delay: u8,
        delays: Vec<u8>,
        steps: usize,
        seed: u64,
    ) {
        let mut history = vec![0xDEAD_BEEF; (max_delay as usize + 1) * delay_words(n_pre)];
        let mut stage = AxonalDelay::new(&delays, max_delay, &mut history).unwrap();
        let mut rng = Rng::new(seed);
        let mut past: Vec<Vec<bool>> = vec![];
        let mut buf = vec![0u16; n_pre];
        for t in 0..steps {
            let mut spikes: Vec<u16> = (0..n_pre as u16)
                .filter(|_| rng.next_u32().is_multiple_of(5))
                .collect();
            spikes.push(n_pre as u16); // ignored
            spikes.push(u16::MAX);
            let mut now = vec![false; n_pre];
            for &s in &spikes {
                if let Some(v) = now.get_mut(s as usize) {
                    *v = true;
                }
            }
            past.push(now);
            stage.push(&spikes);
            let mut out = Spikes::new(&mut buf);
            assert!(stage.arrivals(&mut out));
            let want: Vec<u16> = (0..n_pre)
                .filter(|&i| {
                    let d = delays[i] as usize;
                    t >= d && past[t - d][i]
                })
                .map(|i| i as u16)
                .collect();
            assert_eq!(out.as_slice(), &want[..], "step {t}");
        }
    }

    #[test]
    fn per_neuron_delays_match_reference_over_many_wraps() {
        let mut rng = Rng::new(2);
        for &(n_pre, max_delay) in &[(70usize, 5u8), (32, 1), (1, 3), (100, 255), (40, 0)] {
            let mut delays: Vec<u8> = (0..n_pre)
                .map(|_| rng.below(max_delay as u32 + 1) as u8)
                .collect();
            // make sure both ends of the range are present
            delays[0] = 0;
            if n_pre > 1 {
                delays[n_pre - 1] = max_delay;
            }
            run_against_reference(n_pre, max_delay, delays, 700, n_pre as u64);
        }
    }

    #[test]
    fn uniform_delays_match_reference() {
        for &(d, max_delay) in &[(0u8, 0u8), (3, 3), (2, 7), (255, 255)] {
            run_against_reference(45, max_delay, vec![d; 45], 600, d as u64);
        }
    }

    #[test]
    fn single_spike_arrives_exactly_d_steps_later() {
        for d in [0u8, 1, 4, 9] {
            let delays = [d, 9];
            let mut history = vec![0; 10];
            let mut stage = AxonalDelay::new(&delays, 9, &mut history).unwrap();
            let mut buf = [0u16; 2];
            let mut arrived_at = vec![];
            for t in 0..40 {
                stage.push(if t == 5 { &[0] } else { &[] });
                let mut out = Spikes::new(&mut buf);
                stage.arrivals(&mut out);
                if out.as_slice() == [0] {
                    arrived_at.push(t);
                } else {
                    assert!(out.is_empty());
                }
            }
            assert_eq!(arrived_at, [5 + d as usize]);
        }
    }

    #[test]
    fn validation_and_small_output() {
        let mut h = vec![0u32; 3 * 2];
        assert!(AxonalDelay::new(&[0u8; 40], 2, &mut h).is_ok());
        assert!(matches!(
            AxonalDelay::new(&[3u8; 40], 2, &mut h),
            Err(ConfigError::OutOfRange { .. })
        ));
        assert!(matches!(
            AxonalDelay::new(&[0u8; 40], 3, &mut h),
            Err(ConfigError::SizeMismatch { .. })
        ));
        assert!(matches!(
            AxonalDelay::new(&[0u8; 65], 2, &mut h),
            Err(ConfigError::SizeMismatch { .. })
        ));
        assert_eq!(AxonalDelay::steps(1.5, 0.5), Ok(3));
        assert!(AxonalDelay::steps(300.0, 1.0).is_err());
        // an output list that is too small keeps the first (smallest) arrivals and says so
        let delays = [0u8; 4];
        let mut h = vec![0u32; 1];
        let mut stage = AxonalDelay::new(&delays, 0, &mut h).unwrap();
        stage.push(&[3, 1, 2]);
        let mut buf = [0u16; 2];
        let mut out = Spikes::new(&mut buf);
        assert!(!stage.arrivals(&mut out));
        assert_eq!(out.as_slice(), [1, 2]);
        // clear forgets spikes in flight
        stage.clear();
        assert!(stage.arrivals(&mut out));
        assert!(out.is_empty());
    }

    #[test]
    fn const_storage() {
        let mut st: DelayStorage<70, 4, { delay_words(70) }> = DelayStorage::new();
        assert_eq!(
            core::mem::size_of::<DelayStorage<70, 4, 3>>(),
            72 + 4 * 4 * 3
        );
        st.delays[69] = 3;
        st.delays[0] = 1;
        let mut stage = st.stage().unwrap();
        assert_eq!((stage.n_pre(), stage.max_delay()), (70, 3));
        let mut buf = [0u16; 70];
        stage.push(&[0, 69, 5]);
        let mut seen = vec![];
        for _ in 0..4 {
            let mut out = Spikes::new(&mut buf);
            stage.arrivals(&mut out);
            seen.push(out.as_slice().to_vec());
            stage.push(&[]);
        }
        assert_eq!(seen, [vec![5], vec![0], vec![], vec![69]]);
        st.delays[1] = 4;
        assert!(st.stage().is_err());
    }
}
