//! State hashing: one 64-bit fingerprint of a model's complete state, identical on every target.
//!
//! The bit-exactness contract (the host and the chip run the same code and reach the same bits) is
//! checked by comparing these hashes: the host prints `engram run <exp> --hash`, the firmware under QEMU
//! prints the hash of its own state after the same steps, and CI compares them.
//!
//! ## What is hashed, how
//! [`Fnv64`] is FNV-1a, 64 bits (Fowler–Noll–Vo; offset basis `0xcbf29ce484222325`, prime
//! `0x100000001b3`) over a byte stream. Every value is fed as explicit **little-endian** bytes of a
//! fixed width ([`Fix`] and `i32` as 4 bytes, `i16`/`u16` as 2, ...), and every slice is prefixed by its
//! length as a `u64`, so the stream is the same on 32- and 64-bit, little- and big-endian targets.
//! (`core::hash::Hash` is deliberately not used: its slice impls write a `usize` length, whose width
//! differs between a Cortex-M and the host.)
//!
//! [`StateHash`] is implemented for the numbers, [`Rng`] (its four state words), the neuron states
//! ([`IzhNeuron`], [`LifState`], [`AlifState`]), [`Population`] (states, both input channels, the spike
//! list of the last step), [`RatePopulation`] and the projections [`Dense`] and [`Sparse`] (sizes,
//! topology, weights, accumulators). The learned state has its own impls: [`Plastic`] (its projection,
//! every trace, eligibility and BCM θ, the stochastic-rounding generator and the tick phase),
//! [`Intrinsic`] (threshold offsets, rate estimates), and the objectives' running state —
//! [`RunningMean`] (unrounded Q32.32 and whether primed), [`Neuromodulator`] (unrounded Q32.32),
//! [`MeanSquaredError`], [`RateTarget`] and [`Variance`] (per-neuron errors / rates / moments, the
//! last value, the running mean). Model parameters shared by a population are configuration, not state, and are not hashed;
//! per-neuron parameters (Izhikevich `a, b, c, d`) live in the state and are. Traces are plain `[Fix]`
//! slices and hash as such.
//!
//! FNV-1a is written here rather than taken from the `fnv` crate because that crate is a
//! `core::hash::Hasher` (whose `write_usize` is exactly the target dependence to avoid) and the whole
//! algorithm is three lines, pinned by the reference vectors of the FNV specification in the tests.
//! It is not a cryptographic hash: it detects divergence, it does not resist forgery.

use crate::neuron::{AlifState, IzhNeuron, LifState, NeuronModel, Population, RatePopulation};
use crate::num::{Fix, Frac, Rng, Weight};
use crate::objective::{
    MeanSquaredError, Neuromodulator, Objective, RateTarget, RunningMean, Variance,
};
use crate::projection::{Dense, Sparse, Synapses};
use crate::rule::{Intrinsic, Plastic};

/// FNV-1a 64-bit hasher over little-endian bytes (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Self::new()
    }
}

impl Fnv64 {
    /// FNV-1a 64 offset basis.
    pub const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    /// FNV-1a 64 prime.
    pub const PRIME: u64 = 0x0000_0100_0000_01b3;

    /// A hasher that has seen nothing.
    pub const fn new() -> Fnv64 {
        Fnv64(Self::OFFSET)
    }

    /// Feeds bytes.
    #[inline]
    pub fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(Self::PRIME);
        }
        self.0 = h;
    }

    /// Feeds a `u16` as 2 little-endian bytes.
    #[inline]
    pub fn write_u16(&mut self, x: u16) {
        self.write(&x.to_le_bytes());
    }

    /// Feeds a `u32` as 4 little-endian bytes.
    #[inline]
    pub fn write_u32(&mut self, x: u32) {
        self.write(&x.to_le_bytes());
    }

    /// Feeds a `u64` as 8 little-endian bytes.
    #[inline]
    pub fn write_u64(&mut self, x: u64) {
        self.write(&x.to_le_bytes());
    }

    /// Feeds a length or count as a `u64` (so it hashes alike on 32- and 64-bit targets).
    #[inline]
    pub fn write_len(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    /// The hash of everything fed so far.
    #[inline]
    pub const fn finish(&self) -> u64 {
        self.0
    }
}

/// A value whose complete state can be fed to a [`Fnv64`], the same bytes on every target.
pub trait StateHash {
    /// Feeds the state to `h`.
    fn hash_into(&self, h: &mut Fnv64);

    /// The hash of this value alone.
    fn state_hash(&self) -> u64 {
        let mut h = Fnv64::new();
        self.hash_into(&mut h);
        h.finish()
    }
}

macro_rules! hash_le {
    ($($t:ty),*) => {$(
        impl StateHash for $t {
            #[inline]
            fn hash_into(&self, h: &mut Fnv64) {
                h.write(&self.to_le_bytes());
            }
        }
    )*};
}
hash_le!(u8, u16, u32, u64, i8, i16, i32, i64);

impl StateHash for bool {
    #[inline]
    fn hash_into(&self, h: &mut Fnv64) {
        h.write(&[*self as u8]);
    }
}

impl StateHash for Fix {
    #[inline]
    fn hash_into(&self, h: &mut Fnv64) {
        h.write(&self.to_bits().to_le_bytes());
    }
}

impl StateHash for Frac {
    #[inline]
    fn hash_into(&self, h: &mut Fnv64) {
        h.write_u32(self.0);
    }
}

/// Length (as `u64`), then every element in order.
impl<T: StateHash> StateHash for [T] {
    fn hash_into(&self, h: &mut Fnv64) {
        h.write_len(self.len());
        for x in self {
            x.hash_into(h);
        }
    }
}

impl<T: StateHash, const N: usize> StateHash for [T; N] {
    fn hash_into(&self, h: &mut Fnv64) {
        self.as_slice().hash_into(h);
    }
}

impl<T: StateHash + ?Sized> StateHash for &T {
    fn hash_into(&self, h: &mut Fnv64) {
        (**self).hash_into(h);
    }
}

/// The four xoshiro128++ state words.
impl StateHash for Rng {
    fn hash_into(&self, h: &mut Fnv64) {
        for w in self.state() {
            h.write_u32(w);
        }
    }
}

/// `v, u, a, b, c, d`.
impl StateHash for IzhNeuron {
    fn hash_into(&self, h: &mut Fnv64) {
        for x in [self.v, self.u, self.a, self.b, self.c, self.d] {
            x.hash_into(h);
        }
    }
}

/// `v, g_exc, g_inh, refractory`.
impl StateHash for LifState {
    fn hash_into(&self, h: &mut Fnv64) {
        for x in [self.v, self.g_exc, self.g_inh] {
            x.hash_into(h);
        }
        h.write_u16(self.refractory);
    }
}

/// `v, g_exc, g_inh, a, refractory`.
impl StateHash for AlifState {
    fn hash_into(&self, h: &mut Fnv64) {
        for x in [self.v, self.g_exc, self.g_inh, self.a] {
            x.hash_into(h);
        }
        h.write_u16(self.refractory);
    }
}

/// Neuron states, excitatory and inhibitory deposits, and the spike list of the last step (it is
/// what the projections deliver next).
impl<M: NeuronModel> StateHash for Population<'_, M>
where
    M::State: StateHash,
{
    fn hash_into(&self, h: &mut Fnv64) {
        (*self.state).hash_into(h);
        (*self.exc).hash_into(h);
        (*self.inh).hash_into(h);
        self.spikes.as_slice().hash_into(h);
    }
}

/// Leaky states `x`, outputs `y`, inputs.
impl StateHash for RatePopulation<'_> {
    fn hash_into(&self, h: &mut Fnv64) {
        (*self.x).hash_into(h);
        (*self.y).hash_into(h);
        (*self.input).hash_into(h);
    }
}

/// `n_pre`, `n_post`, all raw weights (row-major), the accumulators.
impl<W: Weight + StateHash> StateHash for Dense<'_, W> {
    fn hash_into(&self, h: &mut Fnv64) {
        h.write_len(self.n_pre());
        h.write_len(self.n_post());
        self.weights().hash_into(h);
        self.accumulators().hash_into(h);
    }
}

/// `n_post`, the topology (row ends, columns), all raw weights, the accumulators.
impl<W: Weight + StateHash> StateHash for Sparse<'_, W> {
    fn hash_into(&self, h: &mut Fnv64) {
        let csr = self.csr();
        h.write_len(csr.n_post());
        csr.row_ends().hash_into(h);
        csr.cols().hash_into(h);
        self.weights().hash_into(h);
        self.accumulators().hash_into(h);
    }
}

/// The projection (weights, accumulators, topology), then the rule's state: every presynaptic and
/// postsynaptic trace (trace-major), the eligibility traces, the BCM thresholds, the
/// stochastic-rounding generator and the steps since the last tick sweep. The compiled rule is
/// configuration and is not hashed.
impl<W: Weight, P: Synapses<W> + StateHash> StateHash for Plastic<'_, W, P> {
    fn hash_into(&self, h: &mut Fnv64) {
        self.proj.hash_into(h);
        hash_rule_state(self, h);
    }
}

/// Feeds the state of `p`'s rule (everything of [`Plastic`]'s hash but the projection): traces,
/// eligibility, θ, rounding generator, tick phase. For a model that reports the weights and the
/// rule state as separate parts.
pub fn hash_rule_state<W: Weight, P: Synapses<W>>(p: &Plastic<'_, W, P>, h: &mut Fnv64) {
    let (n_pre, n_post) = p.rule().traces();
    for k in 0..n_pre {
        p.pre_trace(k).hash_into(h);
    }
    for k in 0..n_post {
        p.post_trace(k).hash_into(h);
    }
    p.eligibility().hash_into(h);
    p.theta().hash_into(h);
    p.rng().hash_into(h);
    h.write_u16(p.since_tick());
}

/// Threshold offsets, then rate estimates.
impl StateHash for Intrinsic<'_> {
    fn hash_into(&self, h: &mut Fnv64) {
        self.offsets().hash_into(h);
        self.rates().hash_into(h);
    }
}

/// The unrounded average (Q32.32, 8 bytes) and whether it is primed; the gain is configuration.
impl StateHash for RunningMean {
    fn hash_into(&self, h: &mut Fnv64) {
        self.raw().hash_into(h);
        self.is_primed().hash_into(h);
    }
}

/// The unrounded phasic concentration (Q32.32); decay, pulse and tonic level are configuration.
impl StateHash for Neuromodulator {
    fn hash_into(&self, h: &mut Fnv64) {
        self.raw().hash_into(h);
    }
}

/// Per-output errors, the last value, the running mean.
impl StateHash for MeanSquaredError<'_> {
    fn hash_into(&self, h: &mut Fnv64) {
        self.errors().hash_into(h);
        self.value().hash_into(h);
        self.running_mean().hash_into(h);
    }
}

/// Rate estimates, rate errors, the last value, the running mean.
impl StateHash for RateTarget<'_> {
    fn hash_into(&self, h: &mut Fnv64) {
        self.rates().hash_into(h);
        self.errors().hash_into(h);
        self.value().hash_into(h);
        self.running_mean().hash_into(h);
    }
}

/// Running second moments, the last value, the running average of the value.
impl StateHash for Variance<'_> {
    fn hash_into(&self, h: &mut Fnv64) {
        self.moments().hash_into(h);
        self.value().hash_into(h);
        self.average().hash_into(h);
    }
}

/// Combines named part hashes into one: FNV-1a over the parts' hashes in order (names are not
/// hashed, so renaming a part keeps the hash). A model's `state_hash` is this over its
/// `hash_parts`, so the total and the per-part hashes printed for divergence search agree.
pub fn combine(parts: &[(&'static str, u64)]) -> u64 {
    let mut h = Fnv64::new();
    for (_, p) in parts {
        h.write_u64(*p);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::Scale;

    fn fnv(bytes: &[u8]) -> u64 {
        let mut h = Fnv64::new();
        h.write(bytes);
        h.finish()
    }

    #[test]
    fn fnv1a_64_reference_vectors() {
        // From the FNV specification's test suite (draft-eastlake-fnv, "FNV-1a 64").
        assert_eq!(fnv(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn values_are_fed_little_endian_with_u64_lengths() {
        let mut h = Fnv64::new();
        [0x0102_0304u32, 5].hash_into(&mut h);
        let want = fnv(&[2, 0, 0, 0, 0, 0, 0, 0, 4, 3, 2, 1, 5, 0, 0, 0]);
        assert_eq!(h.finish(), want);
        assert_eq!(Fix::from_bits(-2).state_hash(), fnv(&(-2i32).to_le_bytes()));
        assert_eq!((-2i16).state_hash(), fnv(&[0xfe, 0xff]));
    }

    #[test]
    fn rng_hash_follows_its_state_and_is_pinned() {
        let mut r = Rng::new(0);
        let before = r.state_hash();
        assert_eq!(before, Rng::new(0).state_hash());
        r.next_u32();
        assert_ne!(r.state_hash(), before);
        // Golden value: the hash of Rng::new(0) is part of the host/target contract.
        let mut bytes = [0u8; 16];
        for (c, w) in bytes.chunks_exact_mut(4).zip(Rng::new(0).state()) {
            c.copy_from_slice(&w.to_le_bytes());
        }
        assert_eq!(before, fnv(&bytes));
    }

    #[test]
    fn dense_hash_sees_every_weight_and_accumulator() {
        use crate::projection::SpikeProjection;
        let mut w = [0i8; 6];
        let mut acc = [0i32; 3];
        let s = Scale::new(1.0).unwrap();
        let mut d = Dense::new(2, 3, &mut w, &mut acc, s).unwrap();
        let h0 = d.state_hash();
        d.weights_mut()[5] = 1;
        let h1 = d.state_hash();
        assert_ne!(h0, h1);
        d.accumulate(&[1]); // pending: accumulators non-zero
        let h2 = d.state_hash();
        assert_ne!(h1, h2);
        let mut t = [Fix::ZERO; 3];
        d.deliver(&mut t);
        assert_eq!(d.state_hash(), h1);
    }

    #[test]
    fn population_hash_includes_inputs_and_spikes() {
        use crate::neuron::{Izhikevich, IzhikevichParams};
        let n0 = IzhikevichParams {
            a: 0.02,
            b: 0.2,
            c: -65.0,
            d: 8.0,
        }
        .neuron()
        .unwrap();
        let (mut st, mut e, mut i, mut sp) = ([n0; 2], [Fix::ZERO; 2], [Fix::ZERO; 2], [0u16; 2]);
        let mut pop = Population::new(
            Izhikevich::new(1.0).unwrap(),
            &mut st,
            &mut e,
            &mut i,
            &mut sp,
        )
        .unwrap();
        let h0 = pop.state_hash();
        pop.inh[1] = Fix::ONE;
        let h1 = pop.state_hash();
        assert_ne!(h0, h1);
        pop.inh[1] = Fix::ZERO;
        assert_eq!(pop.state_hash(), h0);
        pop.spikes.push(1);
        assert_ne!(pop.state_hash(), h0);
    }

    #[test]
    fn plastic_hash_sees_weights_traces_eligibility_rng_and_tick_phase() {
        use crate::projection::Dense;
        use crate::rule::{Pairing, Plastic, Rule, RuleParams, RuleStorage, Signals, WeightFormat};
        let fmt = WeightFormat {
            rounding: crate::num::Rounding::Stochastic,
            ..WeightFormat::new(16, 0.0, 1.0)
        };
        let scale = fmt.scale().unwrap();
        let stdp = RuleParams::pair_stdp(0.01, 0.012, 20.0, 20.0, Pairing::AllToAll);
        let p = RuleParams::reward_modulated(stdp, 1000.0, 0.1, 3);
        let rule = Rule::new::<i16>(&p, &fmt, scale, 1.0).unwrap();
        let (mut w, mut acc) = ([1000i16; 4], [0i32; 2]);
        let (mut pre, mut post, mut elig) = ([Fix::ZERO; 2], [Fix::ZERO; 2], [Fix::ZERO; 4]);
        let proj = Dense::new(2, 2, &mut w, &mut acc, scale).unwrap();
        let st = RuleStorage {
            pre_traces: &mut pre,
            post_traces: &mut post,
            eligibility: &mut elig,
            theta: &mut [],
        };
        let mut pl = Plastic::new(proj, rule, st, 5).unwrap();
        let h0 = pl.state_hash();
        let mut rs = Fnv64::new();
        hash_rule_state(&pl, &mut rs);
        let r0 = rs.finish();
        // One step without spikes only advances the tick phase: the hash still changes.
        pl.learn(&[], &[], &Signals::NONE);
        assert_eq!(pl.since_tick(), 1);
        assert_ne!(pl.state_hash(), h0);
        // Spikes move traces and eligibility; a strong modulator at the tick moves the weights
        // (stochastically rounded: the generator advances too).
        let sig = Signals {
            modulator: Fix::from_num(4),
            ..Signals::NONE
        };
        let mut t = [Fix::ZERO; 2];
        let w0 = pl.proj.weights().to_vec();
        let rng0 = pl.rng().state_hash();
        for _ in 0..2 {
            pl.propagate(&[0], &mut t, &sig);
            pl.learn(&[0], &[1], &sig);
        }
        assert_eq!(pl.since_tick(), 0);
        assert!(pl.eligibility().iter().any(|e| *e != Fix::ZERO));
        assert_ne!(pl.proj.weights(), &w0[..]);
        assert_ne!(pl.rng().state_hash(), rng0);
        let mut rs = Fnv64::new();
        hash_rule_state(&pl, &mut rs);
        assert_ne!(rs.finish(), r0);
        // The whole = projection then rule state.
        let mut whole = Fnv64::new();
        pl.proj.hash_into(&mut whole);
        hash_rule_state(&pl, &mut whole);
        assert_eq!(whole.finish(), pl.state_hash());
    }

    #[test]
    fn objective_hashes_see_the_unrounded_state() {
        use crate::objective::{Averaging, MeanSquaredErrorParams, NeuromodulatorParams};
        let mut d = Neuromodulator::new(NeuromodulatorParams::IZHIKEVICH_2007, 1.0).unwrap();
        d.pulse();
        let h = d.state_hash();
        // Decay far below one Fix LSB: the rounded level stays 0 but the state hash moves.
        for _ in 0..4000 {
            d.step();
        }
        let (c, h1) = (d.concentration(), d.state_hash());
        assert_eq!(c, Fix::ZERO);
        assert_ne!(h1, h);
        assert_ne!(d.raw(), 0);
        let mut e = [Fix::ZERO; 2];
        let p = MeanSquaredErrorParams {
            average: Averaging::TimeConstant { tau_ms: 100.0 },
        };
        let mut mse = MeanSquaredError::new(p, 1.0, &mut e).unwrap();
        let h0 = mse.state_hash();
        let zero = [Fix::ZERO; 2];
        mse.update(&zero, &zero); // primes the average at 0: only "primed" changes
        let h1 = mse.state_hash();
        assert_ne!(h0, h1);
        mse.update(&[Fix::ONE, Fix::ZERO], &zero);
        let h2 = mse.state_hash();
        assert_ne!(h1, h2);
        // Same errors and value, the average moves on: the hash follows.
        mse.update(&[Fix::ONE, Fix::ZERO], &zero);
        assert_ne!(mse.state_hash(), h2);
    }

    #[test]
    fn combine_is_order_sensitive() {
        let a = combine(&[("x", 1), ("y", 2)]);
        let b = combine(&[("x", 2), ("y", 1)]);
        assert_ne!(a, b);
        assert_eq!(a, combine(&[("renamed", 1), ("y", 2)]));
    }
}
