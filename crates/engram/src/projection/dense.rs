//! All-to-all projection with a dense weight matrix.

use super::{MAX_SIDE, Pending, SpikeProjection, Static, SynapseHook, deliver_acc};
use crate::error::{ConfigError, check_len};
use crate::num::{Fix, Scale, Weight};

/// Number of postsynaptic neurons whose `i64` rate sums are kept on the stack at once in
/// [`Dense::propagate_rates`] (32 × 8 = 256 bytes of stack).
const RATE_BLOCK: usize = 32;

/// An all-to-all projection from `n_pre` to `n_post` neurons.
///
/// **Layout.** Row-major by presynaptic neuron: the weight of synapse `i → j` is
/// `weights[i · n_post + j]`, a raw [`Weight`] counting steps of `scale`. A presynaptic spike therefore
/// adds one contiguous row to the accumulators: `acc[j] += w[i·n_post + j]` for all `j`, a loop with
/// no bounds checks that the compiler unrolls and vectorises. On Cortex-M4 (`thumbv7em`, opt-level 3)
/// it is 18 instructions per 4 synapses (sign-extending weight load, accumulator load, add, store,
/// plus loop overhead): 4.5 per synapse. Reaching ≤ 2 would need packed loads with `SXTAB`/`LDM`/`STM`,
/// which LLVM does not emit from safe code (the DSP intrinsics are unstable and `unsafe`). On x86-64
/// it runs at 0.07–0.09 ns per synapse (see `benches/projection.rs`). The rate path is one `axpy`
/// per input.
///
/// **Event path.** See the [module docs](super): `accumulate` adds rows into `acc` (`i32`, exact while
/// at most [`safe_spikes`](super::safe_spikes) spikes are pending, saturating after), `deliver` converts
/// each accumulator once with [`Scale::apply`] and adds it with saturation.
///
/// **Rate path.** [`Dense::propagate_rates`]: `target[j] += scale · Σ_i w_ij·x_i`, exact `i64` sums,
/// one rounding per target ([`Scale::apply_wide`]).
#[derive(Debug)]
pub struct Dense<'a, W: Weight> {
    n_pre: usize,
    n_post: usize,
    w: &'a mut [W],
    acc: &'a mut [i32],
    scale: Scale,
    pending: Pending,
}

impl<'a, W: Weight> Dense<'a, W> {
    /// A dense projection on caller storage: `weights.len() == n_pre · n_post` (row-major by
    /// presynaptic neuron), `acc.len() == n_post`; both sides at most 65 535. The accumulators are
    /// zeroed here.
    pub fn new(
        n_pre: usize,
        n_post: usize,
        weights: &'a mut [W],
        acc: &'a mut [i32],
        scale: Scale,
    ) -> Result<Self, ConfigError> {
        check_side("presynaptic size", n_pre)?;
        check_side("postsynaptic size", n_post)?;
        // n_pre, n_post ≤ 65 535: the product fits any usize of ≥ 32 bits.
        check_len("dense weights", n_pre * n_post, weights.len())?;
        check_len("dense accumulators", n_post, acc.len())?;
        acc.fill(0);
        Ok(Dense {
            n_pre,
            n_post,
            w: weights,
            acc,
            scale,
            pending: Pending::default(),
        })
    }

    /// All raw weights, row-major by presynaptic neuron.
    #[inline]
    pub fn weights(&self) -> &[W] {
        self.w
    }

    /// All raw weights, mutable (e.g. to initialise or load them).
    #[inline]
    pub fn weights_mut(&mut self) -> &mut [W] {
        self.w
    }

    /// The raw weight of synapse `pre → post`, or `None` out of range.
    #[inline]
    pub fn weight(&self, pre: usize, post: usize) -> Option<W> {
        if pre < self.n_pre && post < self.n_post {
            self.w.get(pre * self.n_post + post).copied()
        } else {
            None
        }
    }

    /// The outgoing weights of presynaptic neuron `pre`, or `None` out of range.
    #[inline]
    pub fn row(&self, pre: usize) -> Option<&[W]> {
        if pre < self.n_pre {
            self.w.get(pre * self.n_post..(pre + 1) * self.n_post)
        } else {
            None
        }
    }

    /// Number of presynaptic neurons.
    #[inline]
    pub fn n_pre(&self) -> usize {
        self.n_pre
    }

    /// Number of postsynaptic neurons.
    #[inline]
    pub fn n_post(&self) -> usize {
        self.n_post
    }

    /// The value of one weight step.
    #[inline]
    pub fn scale(&self) -> Scale {
        self.scale
    }

    /// The `i32` accumulators (raw weight sums awaiting `deliver`; all zero between steps), for
    /// hashing and inspection.
    #[inline]
    pub fn accumulators(&self) -> &[i32] {
        self.acc
    }

    /// [`SpikeProjection::accumulate`] with a per-synapse hook fused into the loop (see
    /// [`SynapseHook`]); `accumulate` is this with [`Static`].
    #[inline]
    pub fn accumulate_with<H: SynapseHook<W>>(&mut self, spikes: &[u16], hook: &mut H) {
        let n_post = self.n_post;
        for &s in spikes {
            let i = s as usize;
            if i >= self.n_pre {
                continue;
            }
            let Some(row) = self.w.get_mut(i * n_post..(i + 1) * n_post) else {
                continue;
            };
            if self.pending.next::<W>() {
                hook.dense_row::<true>(self.acc, row, i, i * n_post);
            } else {
                hook.dense_row::<false>(self.acc, row, i, i * n_post);
            }
        }
    }

    /// Rate propagation: `target[j] += scale · Σ_i w_ij · x_i` for `j < n_post`.
    ///
    /// `x` should have `n_pre` entries (missing ones count as 0, extra ones are ignored). Each product
    /// `w·x` (raw step × Q16.16) is summed exactly in `i64` and converted once per target with
    /// [`Scale::apply_wide`] (nearest, saturating); the addition into `target` saturates. Works in
    /// blocks of 32 targets (the sums live on the stack), each block sweeping the same 32 columns of
    /// every row, so memory is read in row order with no scratch storage. Zero inputs are skipped.
    pub fn propagate_rates(&mut self, x: &[Fix], target: &mut [Fix]) {
        let n_post = self.n_post;
        let len = target.len().min(n_post);
        let target = &mut target[..len];
        for (b, tb) in target.chunks_mut(RATE_BLOCK).enumerate() {
            let j0 = b * RATE_BLOCK;
            let mut sums = [0i64; RATE_BLOCK];
            for (i, &xi) in x.iter().take(self.n_pre).enumerate() {
                if xi == Fix::ZERO {
                    continue;
                }
                let start = i * n_post + j0;
                let Some(ws) = self.w.get(start..start + tb.len()) else {
                    continue;
                };
                let xi = xi.to_bits() as i64;
                for (s, w) in sums.iter_mut().zip(ws) {
                    *s += w.get() as i64 * xi;
                }
            }
            for (t, s) in tb.iter_mut().zip(sums) {
                *t = t.saturating_add(self.scale.apply_wide(s));
            }
        }
    }
}

impl<W: Weight> super::Synapses<W> for Dense<'_, W> {
    #[inline]
    fn n_synapses(&self) -> usize {
        self.w.len()
    }

    #[inline]
    fn accumulate_with<H: SynapseHook<W>>(&mut self, spikes: &[u16], hook: &mut H) {
        Dense::accumulate_with(self, spikes, hook);
    }

    #[inline]
    fn has_incoming(&self) -> bool {
        true
    }

    /// Column `post`: `w[post], w[n_post + post], …` (stride `n_post`).
    fn for_each_incoming(&mut self, post: usize, mut f: impl FnMut(usize, usize, &mut W)) {
        if post >= self.n_post {
            return;
        }
        let col = self.w.get_mut(post..).unwrap_or_default();
        for (pre, w) in col.iter_mut().step_by(self.n_post).enumerate() {
            f(pre, pre * self.n_post + post, w);
        }
    }

    fn for_each(&mut self, mut f: impl FnMut(usize, usize, usize, &mut W)) {
        let n_post = self.n_post.max(1);
        for (pre, row) in self.w.chunks_exact_mut(n_post).enumerate() {
            for (post, w) in row.iter_mut().enumerate() {
                f(pre, post, pre * n_post + post, w);
            }
        }
    }
}

impl<W: Weight> SpikeProjection for Dense<'_, W> {
    #[inline]
    fn n_pre(&self) -> usize {
        self.n_pre
    }

    #[inline]
    fn n_post(&self) -> usize {
        self.n_post
    }

    #[inline]
    fn accumulate(&mut self, spikes: &[u16]) {
        self.accumulate_with(spikes, &mut Static);
    }

    #[inline]
    fn deliver(&mut self, target: &mut [Fix]) {
        if self.pending.is_empty() {
            return;
        }
        deliver_acc(self.acc, self.scale, target);
        self.pending = Pending::default();
    }
}

pub(super) fn check_side(what: &'static str, n: usize) -> Result<(), ConfigError> {
    if n > MAX_SIDE {
        return Err(ConfigError::TooLarge {
            what,
            got: n,
            max: MAX_SIDE,
        });
    }
    Ok(())
}

/// Storage for a [`Dense`] projection with sizes known at compile time (for boards:
/// `size_of::<DenseStorage<W, PRE, POST>>()` is its exact RAM, `PRE·POST·size_of::<W>() + 4·POST`).
///
/// `new` is a `const fn` for `i8` and `i16`, so the storage can be a `static` (e.g. in a
/// `StaticCell`/`ConstStaticCell`) without being built on the stack first.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseStorage<W: Weight, const PRE: usize, const POST: usize> {
    /// Raw weights, `w[pre][post]`.
    pub w: [[W; POST]; PRE],
    /// Accumulators.
    pub acc: [i32; POST],
}

macro_rules! dense_storage_new {
    ($($t:ty),*) => {$(
        impl<const PRE: usize, const POST: usize> DenseStorage<$t, PRE, POST> {
            /// Storage with every weight 0.
            pub const fn new() -> Self {
                let () = Self::SIZE_OK;
                DenseStorage { w: [[0; POST]; PRE], acc: [0; POST] }
            }
        }

        impl<const PRE: usize, const POST: usize> Default for DenseStorage<$t, PRE, POST> {
            fn default() -> Self {
                Self::new()
            }
        }
    )*};
}
dense_storage_new!(i8, i16);

impl<W: Weight, const PRE: usize, const POST: usize> DenseStorage<W, PRE, POST> {
    const SIZE_OK: () = assert!(
        PRE <= MAX_SIDE && POST <= MAX_SIDE,
        "projection side too large for u16 indices"
    );

    /// The projection on this storage (accumulators are zeroed: spikes accumulated through an earlier
    /// view but not delivered are discarded).
    pub fn projection(&mut self, scale: Scale) -> Dense<'_, W> {
        let () = Self::SIZE_OK;
        self.acc.fill(0);
        // Sizes agree by construction, so build directly and keep this infallible.
        Dense {
            n_pre: PRE,
            n_post: POST,
            w: self.w.as_flattened_mut(),
            acc: &mut self.acc,
            scale,
            pending: Pending::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::Rng;
    use crate::projection::testutil::*;

    /// Integer reference of the spike path: exact i64 sums, then deliver.
    fn spike_ref<W: Weight>(
        n_pre: usize,
        n_post: usize,
        w: &[W],
        spikes: &[u16],
        scale: Scale,
        target: &[Fix],
    ) -> Vec<Fix> {
        let mut sum = vec![0i64; n_post];
        for &s in spikes {
            let i = s as usize;
            if i >= n_pre {
                continue;
            }
            for (j, acc) in sum.iter_mut().enumerate() {
                *acc += w[i * n_post + j].get() as i64;
            }
        }
        sum.iter()
            .zip(target)
            .map(|(&s, &t)| deliver_ref(scale, s, t))
            .collect()
    }

    #[test]
    fn spike_path_equals_integer_reference() {
        let mut rng = Rng::new(11);
        for &(n_pre, n_post) in &[(1, 1), (7, 13), (50, 33), (200, 65)] {
            let mut w = random_i16(&mut rng, n_pre * n_post);
            let w0 = w.clone();
            let mut acc = vec![123; n_post]; // garbage: `new` zeroes it
            let scale = Scale::new(0.013).unwrap();
            let mut d = Dense::new(n_pre, n_post, &mut w, &mut acc, scale).unwrap();
            let mut target = random_rates(&mut rng, n_post);
            for _ in 0..5 {
                // random spike subsets, including out-of-range indices and duplicates
                let mut spikes: Vec<u16> = (0..n_pre as u16)
                    .filter(|_| rng.next_u32().is_multiple_of(3))
                    .collect();
                spikes.push(n_pre as u16);
                spikes.push(u16::MAX);
                if n_pre > 1 {
                    spikes.push(1);
                }
                let want = spike_ref(n_pre, n_post, &w0, &spikes, scale, &target);
                d.propagate(&spikes, &mut target);
                assert_eq!(target, want, "{n_pre}x{n_post}");
            }
        }
    }

    #[test]
    fn spike_path_matches_float_model() {
        // The float model: target += Σ w·lsb. Error: one rounding of the Scale (≤ 2^-15 relative)
        // and one of the conversion (≤ 2^-17).
        let mut rng = Rng::new(5);
        let (n_pre, n_post) = (40, 30);
        let mut w = random_i8(&mut rng, n_pre * n_post);
        let w0 = w.clone();
        let mut acc = vec![0; n_post];
        let scale = Scale::new(0.01).unwrap();
        let mut d = Dense::new(n_pre, n_post, &mut w, &mut acc, scale).unwrap();
        let spikes: Vec<u16> = (0..n_pre as u16).step_by(3).collect();
        let mut target = vec![Fix::ZERO; n_post];
        d.propagate(&spikes, &mut target);
        for (j, t) in target.iter().enumerate() {
            let want: f64 = spikes
                .iter()
                .map(|&i| w0[i as usize * n_post + j] as f64 * 0.01)
                .sum();
            let got = t.to_num::<f64>();
            assert!(
                (got - want).abs() <= want.abs() * 2f64.powi(-14) + 2f64.powi(-16),
                "{j}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn accumulators_saturate_instead_of_wrapping() {
        // i16 weights at the extremes, far more spikes than the safe count: the plain adds stop
        // before they could overflow and the rest saturate (no debug overflow panic, no wrap).
        let n_post = 3;
        let mut w = vec![i16::MAX, i16::MIN, 1];
        let mut acc = vec![0; n_post];
        let scale = Scale::new(Scale::MIN_LSB).unwrap();
        let mut d = Dense::new(1, n_post, &mut w, &mut acc, scale).unwrap();
        let spikes = vec![0u16; 70_000]; // > 65 535 pending spikes on the same row
        d.accumulate(&spikes);
        assert_eq!(d.acc[0], i32::MAX);
        assert_eq!(d.acc[1], i32::MIN);
        assert_eq!(d.acc[2], 70_000);
        let mut target = vec![Fix::MAX, Fix::MIN, Fix::ZERO];
        d.deliver(&mut target);
        assert_eq!(target[0], Fix::MAX);
        assert_eq!(target[1], Fix::MIN);
        assert_eq!(d.acc, [0, 0, 0]);
        // and the largest step saturates the conversion
        let mut w = vec![i16::MAX];
        let mut acc = vec![0];
        let mut d = Dense::new(1, 1, &mut w, &mut acc, Scale::new(256.0).unwrap()).unwrap();
        let mut t = [Fix::ZERO];
        d.propagate(&[0], &mut t);
        assert_eq!(t[0], Fix::MAX);
    }

    #[test]
    fn rate_path_close_to_float_reference() {
        let mut rng = Rng::new(3);
        for &(n_pre, n_post) in &[(1, 1), (33, 70), (100, 31), (64, 64)] {
            let mut w = random_i16(&mut rng, n_pre * n_post);
            let w0 = w.clone();
            let mut acc = vec![0; n_post];
            let scale = Scale::new(1e-4).unwrap();
            let mut d = Dense::new(n_pre, n_post, &mut w, &mut acc, scale).unwrap();
            let mut x = random_rates(&mut rng, n_pre);
            x[0] = Fix::ZERO; // a skipped input
            let t0 = random_rates(&mut rng, n_post);
            let mut target = t0.clone();
            d.propagate_rates(&x, &mut target);
            let l = lsb(scale);
            for j in 0..n_post {
                let exact: f64 = (0..n_pre)
                    .map(|i| w0[i * n_post + j] as f64 * x[i].to_num::<f64>())
                    .sum();
                let want = t0[j].to_num::<f64>() + exact * l;
                let got = target[j].to_num::<f64>();
                // Scale is the only approximation besides the final rounding: ≤ 2^-15 relative to
                // the sum's magnitude, + 1 LSB of Fix.
                let bound = (exact * l).abs() * 2f64.powi(-15) + 2f64.powi(-16);
                assert!(
                    (got - want).abs() <= bound,
                    "{n_pre}x{n_post} j={j}: {got} vs {want}"
                );
            }
            // the rate path is exact with respect to the integer model (no sub-step truncation)
            let mut target2 = t0.clone();
            d.propagate_rates(&x, &mut target2);
            for j in 0..n_post {
                let s: i64 = (0..n_pre)
                    .map(|i| w0[i * n_post + j] as i64 * x[i].to_bits() as i64)
                    .sum();
                assert_eq!(target2[j], t0[j].saturating_add(scale.apply_wide(s)));
            }
        }
    }

    #[test]
    fn rate_path_keeps_fractions_of_a_weight_step() {
        // 3 inputs of 0.3 through weight 1 step of 1.0: 0.9, not 0 (no per-product truncation).
        let mut w = vec![1i8; 3];
        let mut acc = vec![0];
        let mut d = Dense::new(3, 1, &mut w, &mut acc, Scale::new(1.0).unwrap()).unwrap();
        let x = [Fix::from_num(0.3); 3];
        let mut t = [Fix::ZERO];
        d.propagate_rates(&x, &mut t);
        assert!((t[0].to_num::<f64>() - 0.9).abs() < 1e-4);
    }

    #[test]
    fn rate_path_saturates() {
        let n = 300;
        let mut w = vec![i16::MAX; n];
        let mut acc = vec![0];
        let mut d = Dense::new(n, 1, &mut w, &mut acc, Scale::new(256.0).unwrap()).unwrap();
        let x = vec![Fix::MAX; n];
        let mut t = [Fix::ZERO];
        d.propagate_rates(&x, &mut t);
        assert_eq!(t[0], Fix::MAX);
        let x = vec![Fix::MIN; n];
        let mut t = [Fix::ZERO];
        d.propagate_rates(&x, &mut t);
        assert_eq!(t[0], Fix::MIN);
    }

    #[test]
    fn short_and_long_buffers_are_total() {
        let mut w = vec![1i8; 6];
        let mut acc = vec![0; 3];
        let mut d = Dense::new(2, 3, &mut w, &mut acc, Scale::new(1.0).unwrap()).unwrap();
        let mut short = [Fix::ZERO; 2];
        d.propagate(&[0, 1], &mut short);
        assert_eq!(short, [Fix::from_num(2); 2]);
        let mut long = [Fix::ZERO; 5];
        d.propagate(&[1], &mut long);
        assert_eq!(&long[3..], &[Fix::ZERO; 2]);
        assert_eq!(&long[..3], &[Fix::ONE; 3]);
        d.propagate_rates(&[Fix::ONE], &mut short); // x shorter than n_pre
        assert_eq!(short, [Fix::from_num(3); 2]);
    }

    #[test]
    fn constructor_validates_sizes() {
        let s = Scale::new(1.0).unwrap();
        let mut w = vec![0i8; 6];
        let mut acc = vec![0; 3];
        assert!(Dense::new(2, 3, &mut w, &mut acc, s).is_ok());
        assert!(matches!(
            Dense::new(3, 3, &mut w, &mut acc, s),
            Err(ConfigError::SizeMismatch { .. })
        ));
        assert!(matches!(
            Dense::new(3, 2, &mut w, &mut acc, s),
            Err(ConfigError::SizeMismatch { .. })
        ));
        let mut w = vec![0i8; 65_536];
        let mut acc = vec![0; 1];
        assert!(matches!(
            Dense::new(65_536, 1, &mut w, &mut acc, s),
            Err(ConfigError::TooLarge { .. })
        ));
        let mut acc = vec![];
        let mut w: Vec<i8> = vec![];
        let mut d = Dense::new(4, 0, &mut w, &mut acc, s).unwrap();
        d.propagate(&[0, 3], &mut []); // empty side: nothing to do, no panic
    }

    #[test]
    fn accessors_and_hook() {
        let mut w: Vec<i16> = (0..6).collect();
        let mut acc = vec![0; 3];
        let mut d = Dense::new(2, 3, &mut w, &mut acc, Scale::new(1.0).unwrap()).unwrap();
        assert_eq!(d.weight(1, 2), Some(5));
        assert_eq!(d.weight(2, 0), None);
        assert_eq!(d.weight(0, 3), None);
        assert_eq!(d.row(1), Some(&[3i16, 4, 5][..]));
        assert_eq!((d.n_pre(), d.n_post()), (2, 3));
        // a hook sees every synapse of a spiking neuron after its weight was used
        struct Double(Vec<(usize, usize)>);
        impl SynapseHook<i16> for Double {
            fn synapse(&mut self, pre: usize, post: usize, _k: usize, w: &mut i16) {
                self.0.push((pre, post));
                *w *= 2;
            }
        }
        let mut h = Double(vec![]);
        d.accumulate_with(&[1], &mut h);
        assert_eq!(h.0, [(1, 0), (1, 1), (1, 2)]);
        let mut t = [Fix::ZERO; 3];
        d.deliver(&mut t);
        assert_eq!(t, [3, 4, 5].map(Fix::from_num));
        assert_eq!(d.weights(), &[0, 1, 2, 6, 8, 10]);
        d.weights_mut()[0] = 7;
        assert_eq!(d.weight(0, 0), Some(7));
    }

    #[test]
    fn const_storage_matches_slices() {
        storage_size_is_exact();
        let mut st = DenseStorage::<i8, 4, 3>::new();
        st.w[2] = [1, 2, 3];
        let mut d = st.projection(Scale::new(0.5).unwrap());
        let mut t = [Fix::ZERO; 3];
        d.propagate(&[2], &mut t);
        assert_eq!(t, [0.5, 1.0, 1.5].map(Fix::from_num));
        assert_eq!(d.weight(2, 1), Some(2));
    }

    fn storage_size_is_exact() {
        assert_eq!(
            core::mem::size_of::<DenseStorage<i8, 100, 50>>(),
            100 * 50 + 4 * 50
        );
        assert_eq!(
            core::mem::size_of::<DenseStorage<i16, 10, 7>>(),
            2 * 70 + 4 * 7
        );
    }
}
