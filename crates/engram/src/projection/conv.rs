//! Small 2-D (and 1-D) convolutions with shared weights.

use super::dense::check_side;
use super::{Pending, SpikeProjection, deliver_acc};
use crate::error::{ConfigError, check_len};
use crate::num::{Fix, Scale, Weight};

/// How the border is handled (stride is always 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Padding {
    /// No padding: the output is `(H - kh + 1) × (W - kw + 1)`; the kernel must fit the input.
    Valid,
    /// Zero padding so that the output is `H × W`: `⌊(kh - 1)/2⌋` rows above, the rest below, and
    /// likewise `⌊(kw - 1)/2⌋` columns left (as TensorFlow's `SAME`; odd kernels are centred).
    Same,
}

/// The geometry of a [`Conv2d`].
///
/// **Index convention.** Neurons are numbered channel-major, row-major: input neuron
/// `(c, y, x) ↦ c·H·W + y·W + x`, output neuron `(o, y, x) ↦ o·H_out·W_out + y·W_out + x`. The
/// kernel is `[out_channels][in_channels][kh][kw]` (PyTorch's OIHW), flattened in that order. The
/// projection computes the **correlation** (what deep-learning libraries call convolution):
///
/// `out[o][y][x] = Σ_c Σ_{ky,kx} k[o][c][ky][kx] · in[c][y + ky - pad_top][x + kx - pad_left]`
///
/// with inputs outside the image taken as 0. A 1-D convolution is `height = 1, kernel_h = 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConvShape {
    /// Input channels (feature maps of the presynaptic population).
    pub in_channels: usize,
    /// Output channels (feature maps of the postsynaptic population).
    pub out_channels: usize,
    /// Input height `H`.
    pub height: usize,
    /// Input width `W`.
    pub width: usize,
    /// Kernel height `kh`.
    pub kernel_h: usize,
    /// Kernel width `kw`.
    pub kernel_w: usize,
    /// Border handling.
    pub padding: Padding,
}

impl ConvShape {
    /// Output height.
    pub fn out_h(&self) -> usize {
        match self.padding {
            Padding::Valid => (self.height + 1).saturating_sub(self.kernel_h),
            Padding::Same => self.height,
        }
    }

    /// Output width.
    pub fn out_w(&self) -> usize {
        match self.padding {
            Padding::Valid => (self.width + 1).saturating_sub(self.kernel_w),
            Padding::Same => self.width,
        }
    }

    /// Rows of zero padding above the input.
    fn pad_top(&self) -> usize {
        match self.padding {
            Padding::Valid => 0,
            Padding::Same => (self.kernel_h - 1) / 2,
        }
    }

    /// Columns of zero padding left of the input.
    fn pad_left(&self) -> usize {
        match self.padding {
            Padding::Valid => 0,
            Padding::Same => (self.kernel_w - 1) / 2,
        }
    }

    /// Number of presynaptic neurons `in_channels · H · W` (saturating; [`ConvShape::validate`]
    /// bounds it).
    pub fn n_pre(&self) -> usize {
        self.in_channels
            .saturating_mul(self.height)
            .saturating_mul(self.width)
    }

    /// Number of postsynaptic neurons `out_channels · H_out · W_out` (saturating).
    pub fn n_post(&self) -> usize {
        self.out_channels
            .saturating_mul(self.out_h())
            .saturating_mul(self.out_w())
    }

    /// Number of kernel weights `out_channels · in_channels · kh · kw` (saturating).
    pub fn kernel_len(&self) -> usize {
        self.out_channels
            .saturating_mul(self.in_channels)
            .saturating_mul(self.kernel_h)
            .saturating_mul(self.kernel_w)
    }

    /// Checks that every dimension is at least 1, that a `Valid` kernel fits the input, and that both
    /// sides have at most 65 535 neurons.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if [
            self.in_channels,
            self.out_channels,
            self.height,
            self.width,
            self.kernel_h,
            self.kernel_w,
        ]
        .contains(&0)
        {
            return Err(ConfigError::Invalid {
                what: "convolution dimensions must be at least 1",
            });
        }
        if self.padding == Padding::Valid
            && (self.kernel_h > self.height || self.kernel_w > self.width)
        {
            return Err(ConfigError::Invalid {
                what: "a `Valid` convolution kernel must fit inside the input",
            });
        }
        check_side("convolution input size", self.n_pre())?;
        check_side("convolution output size", self.n_post())?;
        check_side("convolution kernel size", self.kernel_len())?;
        Ok(())
    }
}

/// A convolutional projection: shared `kh×kw` kernels, stride 1 (see [`ConvShape`] for the index
/// convention and equation).
///
/// **Event path.** A spike of input neuron `(c, y, x)` adds, for every output channel `o`, the
/// kernel `k[o][c]` **flipped** onto the output neighbourhood: output `(y + pad_top - ky,
/// x + pad_left - kx)` receives `k[o][c][ky][kx]` for every tap that lands inside the output. Each
/// kernel row becomes one contiguous run of accumulators (walked against a reversed kernel row). A
/// spike reaches each output at most once, so the overflow policy of the [module docs](super)
/// applies unchanged; `deliver` converts each accumulator once and adds it with saturation.
///
/// **Rate path.** [`Conv2d::propagate_rates`] computes the correlation directly (gather per output,
/// exact `i64` sum, one [`Scale::apply_wide`] per output).
///
/// There is no [`SynapseHook`](super::SynapseHook): weights are shared, so a learning rule for
/// kernels sums its updates over positions and belongs outside the propagation loop.
#[derive(Debug)]
pub struct Conv2d<'a, W: Weight> {
    shape: ConvShape,
    out_h: usize,
    out_w: usize,
    pad_top: usize,
    pad_left: usize,
    k: &'a mut [W],
    acc: &'a mut [i32],
    scale: Scale,
    pending: Pending,
}

impl<'a, W: Weight> Conv2d<'a, W> {
    /// A convolution on caller storage: `kernel.len() == shape.kernel_len()`, `acc.len() ==
    /// shape.n_post()`. The accumulators are zeroed here.
    pub fn new(
        shape: ConvShape,
        kernel: &'a mut [W],
        acc: &'a mut [i32],
        scale: Scale,
    ) -> Result<Self, ConfigError> {
        shape.validate()?;
        check_len("convolution kernel", shape.kernel_len(), kernel.len())?;
        check_len("convolution accumulators", shape.n_post(), acc.len())?;
        acc.fill(0);
        Ok(Conv2d {
            shape,
            out_h: shape.out_h(),
            out_w: shape.out_w(),
            pad_top: shape.pad_top(),
            pad_left: shape.pad_left(),
            k: kernel,
            acc,
            scale,
            pending: Pending::default(),
        })
    }

    /// The geometry.
    #[inline]
    pub fn shape(&self) -> ConvShape {
        self.shape
    }

    /// The kernels, `[out][in][kh][kw]` flattened.
    #[inline]
    pub fn kernel(&self) -> &[W] {
        self.k
    }

    /// The kernels, mutable.
    #[inline]
    pub fn kernel_mut(&mut self) -> &mut [W] {
        self.k
    }

    /// The value of one weight step.
    #[inline]
    pub fn scale(&self) -> Scale {
        self.scale
    }

    /// Offset of kernel row `k[o][c][ky]`.
    #[inline]
    fn k_row(&self, o: usize, c: usize, ky: usize) -> usize {
        ((o * self.shape.in_channels + c) * self.shape.kernel_h + ky) * self.shape.kernel_w
    }

    /// Rate propagation: `target[n(o, y, x)] += scale · out[o][y][x]` with `out` the correlation of
    /// the input rates `x` (length `n_pre`; missing entries count as 0) with the kernels. Exact `i64`
    /// sums, one [`Scale::apply_wide`] per output (nearest, saturating), saturating addition.
    pub fn propagate_rates(&mut self, x: &[Fix], target: &mut [Fix]) {
        let s = self.shape;
        let (h, w, kh, kw) = (s.height, s.width, s.kernel_h, s.kernel_w);
        let (pt, pl) = (self.pad_top, self.pad_left);
        let plane_out = self.out_h * self.out_w;
        for (n, t) in target.iter_mut().take(s.n_post()).enumerate() {
            let (o, rem) = (n / plane_out, n % plane_out);
            let (oy, ox) = (rem / self.out_w, rem % self.out_w);
            // taps with input row iy = oy + ky - pt in [0, h), column ix = ox + kx - pl in [0, w)
            let ky_lo = pt.saturating_sub(oy);
            let ky_hi = kh.min(h + pt - oy); // h + pt > oy since oy < out_h ≤ h + 2pt - kh + 1
            let kx_lo = pl.saturating_sub(ox);
            let kx_hi = kw.min(w + pl - ox);
            let mut sum = 0i64;
            for c in 0..s.in_channels {
                for ky in ky_lo..ky_hi {
                    let iy = oy + ky - pt;
                    let kr = self.k_row(o, c, ky);
                    let xr = (c * h + iy) * w + ox + kx_lo - pl;
                    let len = kx_hi.saturating_sub(kx_lo);
                    let (Some(ks), Some(xs)) = (
                        self.k.get(kr + kx_lo..kr + kx_lo + len),
                        x.get(xr..xr + len),
                    ) else {
                        continue;
                    };
                    for (k, xi) in ks.iter().zip(xs) {
                        sum += k.get() as i64 * xi.to_bits() as i64;
                    }
                }
            }
            *t = t.saturating_add(self.scale.apply_wide(sum));
        }
    }

    fn accumulate_one<const SAT: bool>(&mut self, n: usize) {
        let s = self.shape;
        let (h, w, kh, kw) = (s.height, s.width, s.kernel_h, s.kernel_w);
        let plane_in = h * w;
        let (c, rem) = (n / plane_in, n % plane_in);
        let (y, x) = (rem / w, rem % w);
        let (pt, pl) = (self.pad_top, self.pad_left);
        let (out_h, out_w) = (self.out_h, self.out_w);
        // output row oy = y + pt - ky in [0, out_h); output column ox = x + pl - kx in [0, out_w)
        let ky_lo = (y + pt + 1).saturating_sub(out_h);
        let ky_hi = (kh - 1).min(y + pt); // inclusive
        let kx_lo = (x + pl + 1).saturating_sub(out_w);
        let kx_hi = (kw - 1).min(x + pl); // inclusive
        if ky_lo > ky_hi || kx_lo > kx_hi {
            return;
        }
        let len = kx_hi - kx_lo + 1;
        let ox_lo = x + pl - kx_hi;
        for o in 0..s.out_channels {
            for ky in ky_lo..=ky_hi {
                let oy = y + pt - ky;
                let ar = (o * out_h + oy) * out_w + ox_lo;
                let kr = self.k_row(o, c, ky) + kx_lo;
                let (Some(accs), Some(ks)) =
                    (self.acc.get_mut(ar..ar + len), self.k.get(kr..kr + len))
                else {
                    continue;
                };
                // acc[ox_lo + m] gets k[kx_hi - m]: the kernel row, reversed.
                for (a, k) in accs.iter_mut().zip(ks.iter().rev()) {
                    *a = if SAT {
                        a.saturating_add(k.get())
                    } else {
                        a.wrapping_add(k.get())
                    };
                }
            }
        }
    }
}

impl<W: Weight> SpikeProjection for Conv2d<'_, W> {
    #[inline]
    fn n_pre(&self) -> usize {
        self.shape.n_pre()
    }

    #[inline]
    fn n_post(&self) -> usize {
        self.shape.n_post()
    }

    fn accumulate(&mut self, spikes: &[u16]) {
        let n_pre = self.shape.n_pre();
        for &s in spikes {
            let n = s as usize;
            if n >= n_pre {
                continue;
            }
            if self.pending.next::<W>() {
                self.accumulate_one::<true>(n);
            } else {
                self.accumulate_one::<false>(n);
            }
        }
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

/// Storage for a [`Conv2d`] with sizes known at compile time: `K` kernel weights, `POST` outputs
/// (`size_of` = `K·size_of::<W>() + 4·POST`). The geometry is given to [`ConvStorage::projection`],
/// which checks it against `K` and `POST`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvStorage<W: Weight, const K: usize, const POST: usize> {
    /// Kernels, `[out][in][kh][kw]` flattened.
    pub kernel: [W; K],
    /// Accumulators.
    pub acc: [i32; POST],
}

macro_rules! conv_storage_new {
    ($($t:ty),*) => {$(
        impl<const K: usize, const POST: usize> ConvStorage<$t, K, POST> {
            /// Storage with every weight 0.
            pub const fn new() -> Self {
                ConvStorage { kernel: [0; K], acc: [0; POST] }
            }
        }

        impl<const K: usize, const POST: usize> Default for ConvStorage<$t, K, POST> {
            fn default() -> Self {
                Self::new()
            }
        }
    )*};
}
conv_storage_new!(i8, i16);

impl<W: Weight, const K: usize, const POST: usize> ConvStorage<W, K, POST> {
    /// The convolution on this storage (validates `shape` against `K` and `POST`).
    pub fn projection(
        &mut self,
        shape: ConvShape,
        scale: Scale,
    ) -> Result<Conv2d<'_, W>, ConfigError> {
        Conv2d::new(shape, &mut self.kernel, &mut self.acc, scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::Rng;
    use crate::projection::testutil::*;

    /// Naive correlation straight from the equation, in i64, with signed indices.
    fn naive(s: &ConvShape, k: &[i64], input: &[i64]) -> Vec<i64> {
        let (oh, ow) = (s.out_h() as i64, s.out_w() as i64);
        let (pt, pl) = match s.padding {
            Padding::Valid => (0, 0),
            Padding::Same => ((s.kernel_h as i64 - 1) / 2, (s.kernel_w as i64 - 1) / 2),
        };
        let (h, w, kh, kw) = (
            s.height as i64,
            s.width as i64,
            s.kernel_h as i64,
            s.kernel_w as i64,
        );
        let ci = s.in_channels as i64;
        let mut out = vec![0i64; s.n_post()];
        for o in 0..s.out_channels as i64 {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut sum = 0;
                    for c in 0..ci {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let (iy, ix) = (oy + ky - pt, ox + kx - pl);
                                if iy < 0 || iy >= h || ix < 0 || ix >= w {
                                    continue;
                                }
                                let kv = k[(((o * ci + c) * kh + ky) * kw + kx) as usize];
                                sum += kv * input[((c * h + iy) * w + ix) as usize];
                            }
                        }
                    }
                    out[((o * oh + oy) * ow + ox) as usize] = sum;
                }
            }
        }
        out
    }

    fn shapes() -> Vec<ConvShape> {
        let mk = |ci, co, h, w, kh, kw, padding| ConvShape {
            in_channels: ci,
            out_channels: co,
            height: h,
            width: w,
            kernel_h: kh,
            kernel_w: kw,
            padding,
        };
        let mut v = vec![];
        for padding in [Padding::Valid, Padding::Same] {
            v.push(mk(1, 1, 8, 8, 3, 3, padding));
            v.push(mk(1, 1, 7, 9, 2, 4, padding)); // even kernels: asymmetric Same padding
            v.push(mk(2, 3, 6, 5, 3, 1, padding));
            v.push(mk(1, 2, 1, 20, 1, 5, padding)); // 1-D
            v.push(mk(1, 1, 5, 5, 5, 5, padding)); // kernel as large as the input
            v.push(mk(1, 1, 1, 1, 1, 1, padding));
        }
        v.push(mk(1, 1, 3, 4, 7, 6, Padding::Same)); // kernel larger than the input
        v
    }

    #[test]
    fn spike_path_equals_naive_reference() {
        let mut rng = Rng::new(31);
        for s in shapes() {
            let mut k = random_i16(&mut rng, s.kernel_len());
            let k64: Vec<i64> = k.iter().map(|&v| v as i64).collect();
            let mut acc = vec![9; s.n_post()];
            let scale = Scale::new(0.05).unwrap();
            let mut conv = Conv2d::new(s, &mut k, &mut acc, scale).unwrap();
            let mut target = random_rates(&mut rng, s.n_post());
            for _ in 0..4 {
                let spikes: Vec<u16> = (0..s.n_pre() as u16)
                    .filter(|_| rng.next_u32().is_multiple_of(3))
                    .chain([s.n_pre() as u16, u16::MAX])
                    .collect();
                let mut input = vec![0i64; s.n_pre()];
                for &n in &spikes {
                    if let Some(v) = input.get_mut(n as usize) {
                        *v = 1;
                    }
                }
                let want: Vec<Fix> = naive(&s, &k64, &input)
                    .iter()
                    .zip(&target)
                    .map(|(&sum, &t)| deliver_ref(scale, sum, t))
                    .collect();
                conv.propagate(&spikes, &mut target);
                assert_eq!(target, want, "{s:?}");
            }
        }
    }

    #[test]
    fn rate_path_equals_naive_reference() {
        let mut rng = Rng::new(32);
        for s in shapes() {
            let mut k = random_i8(&mut rng, s.kernel_len());
            let k64: Vec<i64> = k.iter().map(|&v| v as i64).collect();
            let mut acc = vec![0; s.n_post()];
            let scale = Scale::new(0.01).unwrap();
            let mut conv = Conv2d::new(s, &mut k, &mut acc, scale).unwrap();
            let x = random_rates(&mut rng, s.n_pre());
            let xb: Vec<i64> = x.iter().map(|v| v.to_bits() as i64).collect();
            let t0 = random_rates(&mut rng, s.n_post());
            let mut target = t0.clone();
            conv.propagate_rates(&x, &mut target);
            let sums = naive(&s, &k64, &xb);
            for (j, ((&got, &t), &sum)) in target.iter().zip(&t0).zip(&sums).enumerate() {
                assert_eq!(got, t.saturating_add(scale.apply_wide(sum)), "{s:?} {j}");
                // float model: Σ k·lsb·x, bounded by the scale's relative error + 1 LSB
                let exact = sum as f64 / 65536.0 * lsb(scale);
                let err = (got.to_num::<f64>() - t.to_num::<f64>() - exact).abs();
                assert!(err <= exact.abs() * 2f64.powi(-15) + 2f64.powi(-16));
            }
        }
    }

    #[test]
    fn single_spike_stamps_the_flipped_kernel() {
        // 5×5 input, 3×3 kernel 1..9, Same: a spike in the centre puts the kernel, rotated by 180°,
        // around the centre of the output.
        let s = ConvShape {
            in_channels: 1,
            out_channels: 1,
            height: 5,
            width: 5,
            kernel_h: 3,
            kernel_w: 3,
            padding: Padding::Same,
        };
        let mut k: Vec<i8> = (1..=9).collect();
        let mut acc = vec![0; 25];
        let mut conv = Conv2d::new(s, &mut k, &mut acc, Scale::new(1.0).unwrap()).unwrap();
        let mut t = vec![Fix::ZERO; 25];
        conv.propagate(&[12], &mut t);
        let got: Vec<i32> = t.iter().map(|v| v.to_num()).collect();
        #[rustfmt::skip]
        let want = [
            0, 0, 0, 0, 0,
            0, 9, 8, 7, 0,
            0, 6, 5, 4, 0,
            0, 3, 2, 1, 0,
            0, 0, 0, 0, 0,
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn saturates() {
        let s = ConvShape {
            in_channels: 1,
            out_channels: 1,
            height: 1,
            width: 3,
            kernel_h: 1,
            kernel_w: 3,
            padding: Padding::Same,
        };
        let mut k = [i16::MAX; 3];
        let mut acc = [0; 3];
        let mut conv = Conv2d::new(s, &mut k, &mut acc, Scale::new(256.0).unwrap()).unwrap();
        conv.accumulate(&[1u16; 70_000]);
        assert_eq!(conv.acc, [i32::MAX; 3]);
        let mut t = [Fix::ZERO; 3];
        conv.deliver(&mut t);
        assert_eq!(t, [Fix::MAX; 3]);
        let x = [Fix::MAX; 3];
        conv.propagate_rates(&x, &mut t);
        assert_eq!(t, [Fix::MAX; 3]);
    }

    #[test]
    fn validation() {
        let ok = ConvShape {
            in_channels: 1,
            out_channels: 2,
            height: 4,
            width: 4,
            kernel_h: 3,
            kernel_w: 3,
            padding: Padding::Valid,
        };
        let sc = Scale::new(1.0).unwrap();
        assert_eq!((ok.out_h(), ok.out_w(), ok.n_post()), (2, 2, 8));
        assert!(Conv2d::new(ok, &mut [0i8; 18], &mut [0; 8], sc).is_ok());
        assert!(Conv2d::new(ok, &mut [0i8; 17], &mut [0; 8], sc).is_err());
        assert!(Conv2d::new(ok, &mut [0i8; 18], &mut [0; 9], sc).is_err());
        let big = ConvShape { kernel_h: 5, ..ok };
        assert!(big.validate().is_err());
        assert!(
            ConvShape {
                padding: Padding::Same,
                ..big
            }
            .validate()
            .is_ok()
        );
        assert!(ConvShape { width: 0, ..ok }.validate().is_err());
        assert!(
            ConvShape {
                height: 300,
                width: 300,
                ..ok
            }
            .validate()
            .is_err()
        );
        let mut st = ConvStorage::<i8, 18, 8>::new();
        assert!(st.projection(ok, sc).is_ok());
        assert!(
            st.projection(
                ConvShape {
                    out_channels: 1,
                    ..ok
                },
                sc
            )
            .is_err()
        );
        assert_eq!(core::mem::size_of::<ConvStorage<i16, 18, 8>>(), 36 + 32);
    }
}
