//! Projections: the connections from a presynaptic population to a postsynaptic one.
//!
//! | type | file | connectivity | storage (caller's) |
//! | --- | --- | --- | --- |
//! | [`Dense`] | `dense.rs` | all-to-all, `w[i·n_post + j]` (row = presynaptic neuron) | `n_pre·n_post` weights |
//! | [`Sparse`] over a [`Csr`] | `sparse.rs` | compressed rows by presynaptic neuron, `u16` column indices | row ends, columns, weights |
//! | [`Conv2d`] | `conv.rs` | shared `kh×kw` kernels, stride 1, [`Padding::Valid`] or [`Padding::Same`]; 1-D is `height = 1` | one kernel per (out, in) channel pair |
//! | [`AxonalDelay`] | `delay.rs` | a stage in front of any projection: a spike of neuron `i` reaches it `d_i` steps later | delays + a ring of spike bitsets |
//!
//! Builders for sparse connectivity ([`fixed_probability`], [`fixed_indegree`], [`one_to_one`]) fill
//! caller-provided CSR arrays from an explicitly seeded [`Rng`](crate::num::Rng). Const-generic
//! wrappers ([`DenseStorage`], [`SparseStorage`], [`ConvStorage`], [`DelayStorage`]) give boards
//! compile-time sizes; `core::mem::size_of` of one is the exact RAM it takes.
//!
//! ## Event-driven (spiking) path
//! Weights are stored narrow ([`Weight`]: `i8` or `i16`) as integer steps of the projection's
//! [`Scale`]. Each step:
//! 1. [`SpikeProjection::accumulate`] — for every presynaptic spike, the raw weights of its outgoing
//!    synapses are added into a per-target `i32` accumulator (`acc`, caller storage, one per
//!    postsynaptic neuron). Spike indices `≥ n_pre` are ignored.
//! 2. [`SpikeProjection::deliver`] — each accumulator is converted **once** with [`Scale::apply`]
//!    (one rounding per target and step, not one per synapse), added with saturation into the target
//!    channel (e.g. `pop.exc`), and zeroed.
//!
//! [`SpikeProjection::propagate`] does both. Accumulating several spike lists before one `deliver`
//! (e.g. two source populations sharing a projection's weights) is allowed. [`Sparse`]'s `propagate`
//! is event-driven end to end: when nothing was pending it delivers only the targets of the rows
//! that spiked (every other accumulator is zero), so a step costs the synaptic events, not `n_post`.
//!
//! **Overflow.** One spike adds at most one weight to any accumulator (CSR columns are strictly
//! increasing within a row; a convolution tap hits each output once), so after `k` spikes
//! `|acc| ≤ k · 2^(BITS-1)`. Each projection counts the spikes accumulated since the last `deliver`:
//! while that count is at most [`safe_spikes`]`::<W>()` (16 777 215 for `i8`, 65 535 for `i16`, i.e.
//! any list of distinct spikes of a population) the inner loop is a plain add that cannot overflow;
//! past it the loop switches to saturating adds. Conversion and delivery saturate at the range of
//! [`Fix`]. Nothing wraps and nothing panics.
//!
//! ## Rate path
//! `propagate_rates` adds `scale · Σ_i w_ij · x_i` to `target[j]`: products of a raw weight and a
//! [`Fix`] rate are summed exactly in `i64` (|w·x| < 2^46 and at most 2^16 inputs: < 2^62, no
//! overflow), then converted once with [`Scale::apply_wide`] (rounded to nearest, saturating). No
//! product is truncated to whole weight steps. The accumulators are not touched.
//!
//! ## Where learning plugs in
//! The event-driven inner loops of [`Dense`] and [`Sparse`] take a [`SynapseHook`]: after a
//! synapse's weight has been added to its target's accumulator, the hook may read and rewrite that
//! weight, in the same pass (a learning rule's pre-spike update, fused into propagation). [`Static`]
//! does nothing and is `#[inline(always)]`, so the static path compiles to the plain loop.
//!
//! Post-spike updates (LTP on a postsynaptic spike) need post→pre access. The plan for [`Sparse`] is a
//! transposed index over the same [`Csr`]: for each post neuron `j`, the positions `k` in `cols` /
//! `weights` of its incoming synapses, stored CSR-like (`col_end: [u32; n_post]`, `pos: [u32; nnz]`),
//! built in two passes from the forward index (count per column, prefix sum, fill in row order so each
//! column's list is sorted by pre). The weights stay in one array, so both directions update the same
//! synapse. For [`Dense`] no index is needed: column `j` is `w[j], w[n_post + j], …` (stride `n_post`).

mod conv;
mod delay;
mod dense;
mod sparse;

pub use conv::{Conv2d, ConvShape, ConvStorage, Padding};
pub use delay::{AxonalDelay, DelayStorage, delay_words};
pub use dense::{Dense, DenseStorage};
pub use sparse::{
    Csr, Incoming, Sparse, SparseStorage, fixed_indegree, fixed_probability, one_to_one,
};

use crate::num::{Fix, Scale, Weight};

/// Largest population a projection can connect: spike and column indices are `u16`.
pub const MAX_SIDE: usize = u16::MAX as usize;

/// A projection driven by presynaptic spikes: accumulate raw weights, then deliver once per step.
pub trait SpikeProjection {
    /// Number of presynaptic neurons (valid spike indices are `0..n_pre`).
    fn n_pre(&self) -> usize;

    /// Number of postsynaptic neurons (the length `deliver` expects of its target).
    fn n_post(&self) -> usize;

    /// Adds the raw weights of every spike's outgoing synapses into the accumulators. Indices
    /// `≥ n_pre` are ignored.
    fn accumulate(&mut self, spikes: &[u16]);

    /// Converts every accumulator with the projection's [`Scale`], adds it (saturating) into
    /// `target`, and zeroes the accumulators. `target` should have `n_post` entries; if it is shorter,
    /// the accumulators beyond its end are discarded (zeroed) and extra target entries are untouched.
    fn deliver(&mut self, target: &mut [Fix]);

    /// [`accumulate`](Self::accumulate) then [`deliver`](Self::deliver).
    #[inline]
    fn propagate(&mut self, spikes: &[u16], target: &mut [Fix]) {
        self.accumulate(spikes);
        self.deliver(target);
    }
}

/// Per-synapse work fused into event-driven propagation: the seam through which a learning rule
/// updates weights on a presynaptic spike without a second pass over the synapses.
///
/// Called once for every synapse `(pre, post)` of a spiking presynaptic neuron, in order of
/// increasing `post`, **after** the synapse's current weight has been added to `post`'s accumulator
/// (so a spike is transmitted with the weight it found). `k` is the synapse's index in the
/// projection's weight array (per-synapse state such as eligibility traces is stored in the same
/// order). The hook may rewrite `w`; the value it leaves is stored.
pub trait SynapseHook<W: Weight> {
    /// Visits one synapse.
    fn synapse(&mut self, pre: usize, post: usize, k: usize, w: &mut W);

    /// Transmits one presynaptic spike of `pre` along a dense row: for each `post` in order,
    /// `acc[post] += row[post]` (saturating if `SAT`, see [`Dense`]) then
    /// [`synapse`](Self::synapse)`(pre, post, base + post, &mut row[post])`, over the shorter of
    /// `acc` and `row`. A hook may override it with a loop that does the same per synapse but that
    /// the compiler can vectorise (the learning rule's fast path does, for pair STDP); the result
    /// must be the same.
    #[inline(always)]
    fn dense_row<const SAT: bool>(
        &mut self,
        acc: &mut [i32],
        row: &mut [W],
        pre: usize,
        base: usize,
    ) where
        Self: Sized,
    {
        add_row::<W, Self, SAT>(acc, row, pre, base, self);
    }
}

/// Plastic access to a projection's synapses, for the learning-rule applier ([`crate::rule`]).
///
/// Three ways in, matching the three moments a local rule acts: the presynaptic spike (fused into
/// propagation, [`accumulate_with`](Self::accumulate_with)), the postsynaptic spike (the incoming
/// synapses of one neuron, [`for_each_incoming`](Self::for_each_incoming)) and the periodic sweep
/// ([`for_each`](Self::for_each)). Every visit names the synapse's index `k` in the weight array, so
/// per-synapse state (eligibility traces) can be stored alongside.
pub trait Synapses<W: Weight>: SpikeProjection {
    /// Number of synapses (length of the weight array).
    fn n_synapses(&self) -> usize;

    /// Accumulates spikes with a per-synapse hook (see [`SynapseHook`]).
    fn accumulate_with<H: SynapseHook<W>>(&mut self, spikes: &[u16], hook: &mut H);

    /// Whether [`for_each_incoming`](Self::for_each_incoming) can reach the synapses onto a neuron
    /// (a sparse projection needs an [`Incoming`] index for that).
    fn has_incoming(&self) -> bool;

    /// Visits the synapses onto `post` as `(pre, k, w)`, in increasing `pre`. Does nothing if
    /// `post ≥ n_post` or there is no incoming index.
    fn for_each_incoming(&mut self, post: usize, f: impl FnMut(usize, usize, &mut W));

    /// Visits every synapse as `(pre, post, k, w)`, in storage order.
    fn for_each(&mut self, f: impl FnMut(usize, usize, usize, &mut W));
}

/// The hook of static synapses: does nothing, and compiles to nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Static;

impl<W: Weight> SynapseHook<W> for Static {
    #[inline(always)]
    fn synapse(&mut self, _pre: usize, _post: usize, _k: usize, _w: &mut W) {}
}

/// How many spikes (rows) may be accumulated since the last `deliver` before a plain `i32` add could
/// overflow: `⌊(2^31 - 1) / 2^(BITS-1)⌋` (16 777 215 for `i8`, 65 535 for `i16`).
#[inline]
pub const fn safe_spikes<W: Weight>() -> u32 {
    (i32::MAX as u32) >> (W::BITS - 1)
}

/// Converts and delivers accumulators into `target`, zeroing them (shared by every projection).
///
/// Entries of `acc` beyond `target.len()` are zeroed without delivery.
#[inline]
fn deliver_acc(acc: &mut [i32], scale: Scale, target: &mut [Fix]) {
    for (a, t) in acc.iter_mut().zip(target.iter_mut()) {
        *t = t.saturating_add(scale.apply(*a));
        *a = 0;
    }
    if let Some(rest) = acc.get_mut(target.len()..) {
        rest.fill(0);
    }
}

/// Adds one row of raw weights into a contiguous run of accumulators, calling `hook` per synapse.
///
/// `SAT = false` is the plain add (the caller guarantees it cannot overflow, see the module doc);
/// `SAT = true` saturates.
#[inline(always)]
pub(crate) fn add_row<W: Weight, H: SynapseHook<W>, const SAT: bool>(
    acc: &mut [i32],
    row: &mut [W],
    pre: usize,
    base: usize,
    hook: &mut H,
) {
    for (post, (a, w)) in acc.iter_mut().zip(row.iter_mut()).enumerate() {
        *a = if SAT {
            a.saturating_add(w.get())
        } else {
            a.wrapping_add(w.get())
        };
        hook.synapse(pre, post, base + post, w);
    }
}

/// Counts accumulated spikes and says whether the next one must use saturating adds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Pending(u32);

impl Pending {
    /// Records one more spike; returns `true` if its adds must saturate.
    #[inline(always)]
    fn next<W: Weight>(&mut self) -> bool {
        let sat = self.0 >= safe_spikes::<W>();
        self.0 = self.0.saturating_add(1);
        sat
    }

    /// Nothing accumulated since the last delivery (the accumulators are all zero).
    #[inline(always)]
    fn is_empty(self) -> bool {
        self.0 == 0
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Helpers shared by the projection tests.
    use crate::num::{Fix, Rng, Scale};

    /// Random raw weights in the full range of the type.
    pub fn random_i16(rng: &mut Rng, n: usize) -> Vec<i16> {
        (0..n).map(|_| rng.next_u32() as i16).collect()
    }

    /// Random raw weights in the full range of the type.
    pub fn random_i8(rng: &mut Rng, n: usize) -> Vec<i8> {
        (0..n).map(|_| rng.next_u32() as i8).collect()
    }

    /// Random rates in [-4, 4).
    pub fn random_rates(rng: &mut Rng, n: usize) -> Vec<Fix> {
        (0..n)
            .map(|_| Fix::from_bits((rng.next_u32() as i32) >> 13))
            .collect()
    }

    /// Exact reference of `deliver`: `sat(t + scale.apply(sat_i32(sum)))` from an `i64` sum.
    pub fn deliver_ref(scale: Scale, sum: i64, t: Fix) -> Fix {
        t.saturating_add(scale.apply(crate::num::sat_i32(sum)))
    }

    /// `f64` value of one weight step (the reference model's weight unit).
    pub fn lsb(scale: Scale) -> f64 {
        scale.lsb() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_spike_bounds_are_tight() {
        assert_eq!(safe_spikes::<i8>(), 16_777_215);
        assert_eq!(safe_spikes::<i16>(), 65_535);
        // k spikes of the most negative weight stay in range; one more could not.
        let k = safe_spikes::<i16>() as i64;
        assert!(k * 32768 <= i32::MAX as i64);
        assert!((k + 1) * 32768 > i32::MAX as i64);
        let k = safe_spikes::<i8>() as i64;
        assert!(k * 128 <= i32::MAX as i64);
        assert!((k + 1) * 128 > i32::MAX as i64);
    }

    /// A neuron that fires whenever its excitatory input is positive.
    #[derive(Debug, Clone, Copy)]
    struct Relay;
    impl crate::neuron::NeuronModel for Relay {
        type State = ();
        fn step(&self, _: &mut (), exc: Fix, _: Fix) -> bool {
            exc > Fix::ZERO
        }
        fn potential(_: &()) -> Fix {
            Fix::ZERO
        }
    }

    #[test]
    fn recurrent_ring_through_a_delay_stage() {
        // 4 relay neurons in a ring i → i+1 (dense weights), axonal delay 2 steps: a spike injected
        // into neuron 0 travels around, one neuron every 3 steps (2 of delay + 1 of the neuron step).
        use crate::neuron::{Population, Spikes};
        let n = 4;
        let (mut state, mut exc, mut inh, mut buf) = (
            vec![(); n],
            vec![Fix::ZERO; n],
            vec![Fix::ZERO; n],
            vec![0u16; n],
        );
        let mut pop = Population::new(Relay, &mut state, &mut exc, &mut inh, &mut buf).unwrap();
        let mut w = vec![0i8; n * n];
        for i in 0..n {
            w[i * n + (i + 1) % n] = 1;
        }
        let mut acc = vec![0; n];
        let mut ring = Dense::new(n, n, &mut w, &mut acc, Scale::new(1.0).unwrap()).unwrap();
        let delays = vec![2u8; n];
        let mut history = vec![0u32; 3];
        let mut stage = AxonalDelay::new(&delays, 2, &mut history).unwrap();
        let mut arrived = vec![0u16; n];
        pop.exc[0] = Fix::ONE;
        let mut fired = vec![];
        for t in 0..13 {
            pop.step();
            fired.extend(pop.spikes.as_slice().iter().map(|&i| (t, i)));
            stage.push(pop.spikes.as_slice());
            let mut out = Spikes::new(&mut arrived);
            stage.arrivals(&mut out);
            ring.propagate(out.as_slice(), pop.exc);
        }
        assert_eq!(fired, [(0, 0), (3, 1), (6, 2), (9, 3), (12, 0)]);
    }

    #[test]
    fn deliver_acc_zeroes_everything_even_with_a_short_target() {
        let s = Scale::new(1.0).unwrap();
        let mut acc = [1, 2, 3, 4];
        let mut t = [Fix::ZERO; 2];
        deliver_acc(&mut acc, s, &mut t);
        assert_eq!(acc, [0; 4]);
        assert_eq!(t, [Fix::from_num(1), Fix::from_num(2)]);
    }
}
