//! The fixed-point vocabulary: every number the step path touches.
//!
//! | quantity | type | format | rounding | overflow |
//! | --- | --- | --- | --- | --- |
//! | state: membrane potential (mV), currents, conductances (units of g_L), traces, rates | [`Fix`] | Q16.16 in `i32` (range ±32768, LSB 2^-16 ≈ 1.5e-5) | nearest (ties away from zero) in [`mul`] | saturating |
//! | decay factors `exp(-dt/τ)` and Euler gains `dt/τ` | [`Frac`] | unsigned Q0.32 in `u32` (range [0, 1)) | nearest | cannot overflow: \|x·f\| ≤ \|x\| |
//! | stored weights | `i8` / `i16` ([`Weight`]) | integer steps of a per-projection [`Scale`] | set by the rule (nearest or [`Rounding::Stochastic`]) | saturating to the type's range |
//! | weight sums | `i32` per target per step, `i64` for rate products | raw weight steps (×2^16 for rate products) | exact | `i64` cannot overflow for ≤ 2^16 inputs; converted with saturation |
//! | weight scale | [`Scale`] | 15-bit mantissa × 2^-shift | nearest | saturating conversion to [`Fix`] |
//!
//! Floats appear only in constructors (configuration in) and in `to_f32` helpers (reports out); every
//! conversion from a float rounds to nearest and is checked for range, so the step path is pure integer
//! arithmetic and gives the same bits on every target.
//!
//! Configuration-time `exp` is [`exp_f64`], a small `const fn` written here rather than taken from
//! `libm` because the same function must also build the lookup tables at compile time (`const`
//! tables, no build script), and one implementation guarantees the tables and the run-time decay factors
//! agree.

use crate::error::ConfigError;
use fixed::types::I16F16;

/// State number: signed Q16.16 (`fixed::types::I16F16`).
pub type Fix = I16F16;

/// Number of fractional bits of [`Fix`].
pub const FIX_FRAC_BITS: u32 = 16;

/// `1.0` in [`Fix`].
pub const ONE: Fix = Fix::ONE;

/// Converts a configuration float to [`Fix`], rounding to nearest, refusing values that do not fit.
pub fn fix_from_f32(what: &'static str, value: f32) -> Result<Fix, ConfigError> {
    if !value.is_finite() || value.abs() >= 32767.0 {
        return Err(ConfigError::OutOfRange { what, value });
    }
    Ok(Fix::from_bits(round_f64(value as f64 * 65536.0) as i32))
}

/// [`Fix`] to `f32`, for reports.
#[inline]
pub fn fix_to_f32(x: Fix) -> f32 {
    x.to_bits() as f32 / 65536.0
}

/// Saturating product of two [`Fix`] numbers, rounded to nearest.
#[inline]
pub fn mul(a: Fix, b: Fix) -> Fix {
    let p = a.to_bits() as i64 * b.to_bits() as i64;
    Fix::from_bits(sat_i32(shr_round(p, FIX_FRAC_BITS)))
}

/// Saturating `acc + a·b` (multiply-accumulate) in [`Fix`].
#[inline]
pub fn mac(acc: Fix, a: Fix, b: Fix) -> Fix {
    acc.saturating_add(mul(a, b))
}

/// Clamps an `i64` to the `i32` range.
#[inline]
pub fn sat_i32(x: i64) -> i32 {
    if x > i32::MAX as i64 {
        i32::MAX
    } else if x < i32::MIN as i64 {
        i32::MIN
    } else {
        x as i32
    }
}

/// Arithmetic shift right by `s` bits (0 ≤ s < 63), rounding to nearest (ties toward +∞).
#[inline]
pub fn shr_round(x: i64, s: u32) -> i64 {
    if s == 0 {
        x
    } else {
        (x + (1i64 << (s - 1))) >> s
    }
}

/// A fraction in [0, 1) as unsigned Q0.32: decay factors `exp(-dt/τ)` and Euler gains `dt/τ`.
///
/// Multiplying a [`Fix`] by a `Frac` cannot overflow (the magnitude can only shrink) and rounds to
/// nearest. A value of exactly 1 is not representable; the largest is `1 - 2^-32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Frac(pub u32);

impl Frac {
    /// Zero.
    pub const ZERO: Frac = Frac(0);

    /// Decay factor `exp(-dt/τ)` of an exponential with time constant `tau_ms`, sampled every `dt_ms`.
    ///
    /// Refuses `τ ≤ 0`, a non-finite `τ` or `dt`, and `dt ≥ τ` (the discretisation needs several
    /// steps per time constant).
    pub fn decay(what: &'static str, tau_ms: f32, dt_ms: f32) -> Result<Frac, ConfigError> {
        check_tau(what, tau_ms, dt_ms)?;
        Ok(Self::from_f64(exp_f64(-(dt_ms as f64) / tau_ms as f64)))
    }

    /// Euler gain `dt/τ`, with the same checks as [`Frac::decay`].
    pub fn gain(what: &'static str, tau_ms: f32, dt_ms: f32) -> Result<Frac, ConfigError> {
        check_tau(what, tau_ms, dt_ms)?;
        Ok(Self::from_f64(dt_ms as f64 / tau_ms as f64))
    }

    /// A probability or any fraction in [0, 1]; 1 is stored as the largest value below 1.
    pub fn from_f32(what: &'static str, p: f32) -> Result<Frac, ConfigError> {
        if !(0.0..=1.0).contains(&p) {
            return Err(ConfigError::OutOfRange { what, value: p });
        }
        Ok(Self::from_f64(p as f64))
    }

    fn from_f64(x: f64) -> Frac {
        let bits = round_f64(x * 4_294_967_296.0);
        Frac(bits.clamp(0, u32::MAX as i64) as u32)
    }

    /// `x · self`, rounded to nearest. (Not `core::ops::Mul`: the operand types differ and the
    /// result is a [`Fix`], so a named method reads better at the call site.)
    #[inline]
    #[allow(clippy::should_implement_trait)]
    pub fn mul(self, x: Fix) -> Fix {
        let p = x.to_bits() as i64 * self.0 as i64;
        // |p >> 32| <= |x|: no overflow is possible.
        Fix::from_bits(shr_round(p, 32) as i32)
    }

    /// `1 - self`, the complementary fraction (e.g. `1 - exp(-dt/τ)` for exponential Euler).
    #[inline]
    pub const fn complement(self) -> Frac {
        Frac(u32::MAX - self.0)
    }

    /// The fraction as `f32`, for reports.
    pub fn to_f32(self) -> f32 {
        (self.0 as f64 / 4_294_967_296.0) as f32
    }
}

fn check_tau(what: &'static str, tau_ms: f32, dt_ms: f32) -> Result<(), ConfigError> {
    if !dt_ms.is_finite() || dt_ms <= 0.0 {
        return Err(ConfigError::InvalidTimeStep { dt_ms });
    }
    if !tau_ms.is_finite() || tau_ms <= 0.0 {
        return Err(ConfigError::InvalidTimeConstant { what, tau_ms });
    }
    if dt_ms >= tau_ms {
        return Err(ConfigError::TimeStepTooLarge {
            what,
            dt_ms,
            tau_ms,
        });
    }
    Ok(())
}

/// Number of steps a duration lasts (e.g. a refractory period), rounded to nearest.
pub fn steps(what: &'static str, duration_ms: f32, dt_ms: f32) -> Result<u16, ConfigError> {
    if !dt_ms.is_finite() || dt_ms <= 0.0 {
        return Err(ConfigError::InvalidTimeStep { dt_ms });
    }
    let n = duration_ms / dt_ms;
    if !n.is_finite() || !(0.0..=65535.0).contains(&n) {
        return Err(ConfigError::OutOfRange {
            what,
            value: duration_ms,
        });
    }
    Ok(round_f64(n as f64) as u16)
}

/// Value of one stored weight step, for converting a sum of raw weights into [`Fix`].
///
/// `value(raw) = raw · lsb`, implemented as `raw · mant · 2^-shift` in [`Fix`] bits with a 15-bit
/// mantissa (`2^14 ≤ mant < 2^15`) and a signed shift: relative error ≤ 2^-15, finer than any stored
/// weight. The allowed steps, [2^-24, 2^8], keep `shift` in [-10, 54], so no product overflows `i64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Scale {
    mant: i32,
    shift: i32,
}

impl Scale {
    /// Smallest allowed weight step.
    pub const MIN_LSB: f32 = 1.0 / 16_777_216.0; // 2^-24
    /// Largest allowed weight step.
    pub const MAX_LSB: f32 = 256.0; // 2^8

    /// A scale in which one stored weight step is worth `lsb` (in the target's state units).
    pub fn new(lsb: f32) -> Result<Scale, ConfigError> {
        if !lsb.is_finite() || !(Self::MIN_LSB..=Self::MAX_LSB).contains(&lsb) {
            return Err(ConfigError::ScaleOutOfRange { lsb });
        }
        // Fix bits per raw step = lsb · 2^16 = mant · 2^-shift with mant in [2^14, 2^15).
        let mut v = lsb as f64 * 65536.0;
        let mut shift: i32 = 0;
        while v < 16384.0 {
            v *= 2.0;
            shift += 1;
        }
        while v >= 32768.0 {
            v /= 2.0;
            shift -= 1;
        }
        let mut mant = round_f64(v);
        if mant >= 32768 {
            mant /= 2;
            shift -= 1;
        }
        Ok(Scale {
            mant: mant as i32,
            shift,
        })
    }

    /// The scale whose weight step `lsb` makes the largest weight of `bits` signed bits equal `w_max`.
    pub fn for_max(w_max: f32, bits: u32) -> Result<Scale, ConfigError> {
        if !(2..=16).contains(&bits) {
            return Err(ConfigError::Invalid {
                what: "weight bits must be in 2..=16",
            });
        }
        let top = ((1u32 << (bits - 1)) - 1) as f32;
        Self::new(w_max / top)
    }

    /// Converts a sum of raw weight steps to [`Fix`], saturating.
    #[inline]
    pub fn apply(self, raw_sum: i32) -> Fix {
        let p = raw_sum as i64 * self.mant as i64; // |p| < 2^46
        let bits = if self.shift >= 0 {
            shr_round(p, self.shift as u32)
        } else {
            p << (-self.shift) as u32 // shift ≥ -10: |p << 10| < 2^56
        };
        Fix::from_bits(sat_i32(bits))
    }

    /// Converts a sum of `raw weight · Fix` products (carrying 16 extra fractional bits) to [`Fix`].
    ///
    /// The sum is first clamped to ±2^47 (saturation) so the product with the mantissa fits `i64`.
    #[inline]
    pub fn apply_wide(self, raw_fix_sum: i64) -> Fix {
        const LIM: i64 = 1 << 47;
        let s = raw_fix_sum.clamp(-LIM, LIM);
        let p = s * self.mant as i64; // < 2^62
        // shift + 16 ≥ 6 for every allowed scale
        Fix::from_bits(sat_i32(shr_round(
            p,
            (self.shift + FIX_FRAC_BITS as i32) as u32,
        )))
    }

    /// The value of one weight step, for reports.
    pub fn lsb(self) -> f32 {
        (self.mant as f64 * exp_f64(-(self.shift as f64) * core::f64::consts::LN_2) / 65536.0)
            as f32
    }

    /// The value of a raw weight, for reports.
    pub fn to_f32(self, raw: i32) -> f32 {
        raw as f32 * self.lsb()
    }

    /// The raw weight nearest to `value` (not clamped to any storage type).
    pub fn raw_from_f32(self, value: f32) -> i32 {
        let r = round_f64(value as f64 / self.lsb() as f64);
        r.clamp(i32::MIN as i64, i32::MAX as i64) as i32
    }
}

/// A stored weight: a narrow signed integer counting steps of its projection's [`Scale`].
pub trait Weight: Copy + Default + PartialEq + core::fmt::Debug + 'static {
    /// Storage bits of the type.
    const BITS: u32;
    /// Widens to `i32`.
    fn get(self) -> i32;
    /// Narrows from `i32`, saturating to the type's range.
    fn saturate(x: i32) -> Self;
}

impl Weight for i8 {
    const BITS: u32 = 8;
    #[inline]
    fn get(self) -> i32 {
        self as i32
    }
    #[inline]
    fn saturate(x: i32) -> Self {
        x.clamp(i8::MIN as i32, i8::MAX as i32) as i8
    }
}

impl Weight for i16 {
    const BITS: u32 = 16;
    #[inline]
    fn get(self) -> i32 {
        self as i32
    }
    #[inline]
    fn saturate(x: i32) -> Self {
        x.clamp(i16::MIN as i32, i16::MAX as i32) as i16
    }
}

/// How a value with more fractional bits than its destination is rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Rounding {
    /// To nearest, ties toward +∞. Deterministic; small updates (below half a step) are lost.
    #[default]
    Nearest,
    /// Up with probability equal to the discarded fraction: unbiased in expectation, so updates smaller
    /// than one weight step still accumulate on average. Draws one `u32` from the [`Rng`].
    Stochastic,
}

impl Rounding {
    /// `x / 2^s` rounded according to `self` (0 ≤ s ≤ 32).
    #[inline]
    pub fn shr(self, x: i64, s: u32, rng: &mut Rng) -> i64 {
        match self {
            Rounding::Nearest => shr_round(x, s),
            Rounding::Stochastic => {
                if s == 0 {
                    return x;
                }
                let mask = (1i64 << s) - 1;
                let frac = x & mask; // non-negative remainder of floor division
                let r = (rng.next_u32() as i64) >> (32 - s.min(32));
                (x >> s) + ((r < frac) as i64)
            }
        }
    }
}

/// A small, fast, seeded pseudo-random generator: xoshiro128++ (Blackman & Vigna), seeded by SplitMix64.
///
/// Written here rather than taken from `rand_xoshiro` because its whole state must be plain, visible
/// words: hashed for the host/target bit-exactness check and saved in checkpoints. 32-bit operations only,
/// so it is as fast on a Cortex-M0 as anywhere, and the sequence is identical on every target.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rng {
    s: [u32; 4],
}

impl Rng {
    /// A generator seeded from a 64-bit seed (SplitMix64 expands it; any seed, including 0, is fine).
    pub const fn new(seed: u64) -> Rng {
        let mut z = seed;
        let mut s = [0u32; 4];
        let mut i = 0;
        while i < 2 {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            x ^= x >> 31;
            s[2 * i] = x as u32;
            s[2 * i + 1] = (x >> 32) as u32;
            i += 1;
        }
        // SplitMix64 never yields all-zero output for two consecutive draws, so `s` is not all zero.
        Rng { s }
    }

    /// An independent stream derived from this generator's seed space (for one population, one synapse
    /// group, ...): `Rng::new(seed ^ stream·golden)`. Use it to keep streams stable when a model grows.
    pub const fn stream(seed: u64, stream: u64) -> Rng {
        Rng::new(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    /// The next 32 random bits.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(7).wrapping_add(s[0]);
        let t = s[1] << 9;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(11);
        result
    }

    /// `true` with probability `p`.
    #[inline]
    pub fn bernoulli(&mut self, p: Frac) -> bool {
        self.next_u32() < p.0
    }

    /// Uniform in [0, 1) as [`Fix`].
    #[inline]
    pub fn uniform(&mut self) -> Fix {
        Fix::from_bits((self.next_u32() >> 16) as i32)
    }

    /// Uniform integer in `0..n` (Lemire's multiply-shift; bias < n/2^32). Returns 0 for `n == 0`.
    #[inline]
    pub fn below(&mut self, n: u32) -> u32 {
        ((self.next_u32() as u64 * n as u64) >> 32) as u32
    }

    /// Approximately standard normal, as [`Fix`]: the Irwin–Hall sum of 12 uniforms minus 6
    /// (mean 0, variance 1, support ±6, kurtosis 2.9). Costs six draws.
    #[inline]
    pub fn normal(&mut self) -> Fix {
        let mut sum: i32 = 0;
        for _ in 0..6 {
            let r = self.next_u32();
            sum += (r >> 16) as i32 + (r & 0xFFFF) as i32;
        }
        Fix::from_bits(sum - 6 * 65536)
    }

    /// The raw state words (for hashing and checkpoints).
    pub const fn state(&self) -> [u32; 4] {
        self.s
    }

    /// Restores a generator from [`Rng::state`]. An all-zero state (never produced by [`Rng::new`]) is
    /// refused because xoshiro would then emit only zeros.
    pub fn from_state(s: [u32; 4]) -> Result<Rng, ConfigError> {
        if s == [0; 4] {
            return Err(ConfigError::Invalid {
                what: "all-zero RNG state",
            });
        }
        Ok(Rng { s })
    }
}

/// Round half away from zero, `const` (for table generation) and for configuration conversions.
pub(crate) const fn round_f64(x: f64) -> i64 {
    if x >= 0.0 {
        (x + 0.5) as i64
    } else {
        (x - 0.5) as i64
    }
}

/// `e^x` in `f64`, usable in `const` context. Range reduction `x = k·ln2 + r` (|r| ≤ ln2/2), a 20-term
/// Taylor series for `e^r`, then exact scaling by `2^k`. Relative error below 1e-13 for |x| < 150;
/// saturates to 0 below −745 and to `f64::MAX` above 709.
pub const fn exp_f64(x: f64) -> f64 {
    if x < -745.0 {
        return 0.0;
    }
    if x > 709.0 {
        return f64::MAX;
    }
    let ln2 = core::f64::consts::LN_2;
    let k = round_f64(x / ln2);
    let r = x - k as f64 * ln2;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut n = 1;
    while n < 20 {
        term = term * r / n as f64;
        sum += term;
        n += 1;
    }
    let mut i = 0;
    if k >= 0 {
        while i < k {
            sum *= 2.0;
            i += 1;
        }
    } else {
        while i < -k {
            sum *= 0.5;
            i += 1;
        }
    }
    sum
}

/// A function sampled at `N + 1` points of a uniform grid over `[lo, hi]` and read back with linear
/// interpolation. Outside the domain the end values are returned (the functions tabulated here are flat
/// there). Tables are built at compile time (`const`), so they live in flash on a board.
#[derive(Debug)]
pub struct Lut<const N: usize> {
    lo: i32,
    /// log2 of the grid step in Fix bits.
    step_shift: u32,
    table: [i32; N],
}

/// Which function a table holds.
#[derive(Clone, Copy)]
enum LutFn {
    ExpNeg,
    Sigmoid,
    Tanh,
}

const fn lut_eval(f: LutFn, x: f64) -> f64 {
    match f {
        LutFn::ExpNeg => exp_f64(-x),
        LutFn::Sigmoid => 1.0 / (1.0 + exp_f64(-x)),
        LutFn::Tanh => {
            let e = exp_f64(-2.0 * x);
            (1.0 - e) / (1.0 + e)
        }
    }
}

impl<const N: usize> Lut<N> {
    /// `lo` in whole units; the domain is `[lo, lo + 2^(step_shift - 16) · (N - 1)]`.
    const fn build(f: LutFn, lo: i32, step_shift: u32) -> Lut<N> {
        let mut table = [0i32; N];
        let mut i = 0;
        while i < N {
            let x_bits = (lo as i64) * 65536 + ((i as i64) << step_shift);
            let y = lut_eval(f, x_bits as f64 / 65536.0);
            table[i] = round_f64(y * 65536.0) as i32;
            i += 1;
        }
        Lut {
            lo: lo * 65536,
            step_shift,
            table,
        }
    }

    /// Evaluates the table at `x` with linear interpolation, rounded to nearest.
    #[inline]
    pub fn eval(&self, x: Fix) -> Fix {
        let off = x.to_bits() as i64 - self.lo as i64;
        if off <= 0 {
            return Fix::from_bits(self.table[0]);
        }
        let idx = (off >> self.step_shift) as usize;
        let (Some(&a), Some(&b)) = (self.table.get(idx), self.table.get(idx + 1)) else {
            return Fix::from_bits(self.table[N - 1]);
        };
        let frac = off & ((1i64 << self.step_shift) - 1);
        let (a, b) = (a as i64, b as i64);
        Fix::from_bits((a + shr_round((b - a) * frac, self.step_shift)) as i32)
    }
}

/// `exp(-x)` for `x` in [0, 16] (step 1/64, max error 5e-5 with the input rounding); 0 beyond 16 (exp(-16) rounds to 0).
pub static EXP_NEG: Lut<1025> = Lut::build(LutFn::ExpNeg, 0, 10);
/// The logistic function `1/(1+e^-x)` on [-8, 8] (step 1/32, max error 2e-5), flat outside
/// (error ≤ 3.4e-4 there).
pub static SIGMOID: Lut<513> = Lut::build(LutFn::Sigmoid, -8, 11);
/// `tanh(x)` on [-4, 4] (step 1/64, max error 3e-5), flat (±0.99933) outside.
pub static TANH: Lut<513> = Lut::build(LutFn::Tanh, -4, 10);

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> Fix {
        Fix::from_num(x)
    }

    #[test]
    fn exp_matches_std() {
        for i in -400..400 {
            let x = i as f64 * 0.37;
            let rel = (exp_f64(x) - x.exp()).abs() / x.exp();
            assert!(rel < 1e-13, "x={x} rel={rel}");
        }
    }

    #[test]
    fn luts_within_bound() {
        // Linear interpolation error ≤ h²/8·max|f''| plus 1 LSB of rounding.
        for i in -8000..8000 {
            let x = i as f64 / 1000.0;
            let s = SIGMOID.eval(f(x)).to_num::<f64>();
            let t = TANH.eval(f(x)).to_num::<f64>();
            assert!((s - 1.0 / (1.0 + (-x).exp())).abs() < 3e-5, "sigmoid {x}");
            assert!((t - x.tanh()).abs() < 1.5e-3, "tanh {x}"); // flat outside ±4: tanh(4)=0.99933
            assert!(x.abs() > 4.0 || (t - x.tanh()).abs() < 4e-5, "tanh {x}");
            if x >= 0.0 {
                let e = EXP_NEG.eval(f(x)).to_num::<f64>();
                assert!((e - (-x).exp()).abs() < 5e-5, "exp {x}: {e}");
            }
        }
    }

    #[test]
    fn luts_flat_outside_domain() {
        assert_eq!(SIGMOID.eval(f(-100.0)), SIGMOID.eval(f(-8.0)));
        assert_eq!(SIGMOID.eval(f(100.0)), SIGMOID.eval(f(8.0)));
        assert!((SIGMOID.eval(f(-9.0)).to_num::<f64>() - 1.0 / (1.0 + 9f64.exp())).abs() < 4e-4);
        assert_eq!(EXP_NEG.eval(f(-1.0)), Fix::ONE);
        assert_eq!(EXP_NEG.eval(f(30.0)), Fix::ZERO);
    }

    #[test]
    fn frac_decay_and_mul() {
        let d = Frac::decay("tau", 20.0, 0.1).unwrap();
        assert!((d.to_f32() - (-0.005f32).exp()).abs() < 1e-9);
        let x = f(-65.0);
        let y = d.mul(x).to_num::<f64>();
        assert!((y - (-65.0 * (-0.005f64).exp())).abs() <= 1.0 / 65536.0);
        assert_eq!(Frac(u32::MAX).mul(Fix::MAX), Fix::MAX - Fix::from_bits(0));
        assert!(Frac::decay("tau", 0.0, 1.0).is_err());
        assert!(Frac::decay("tau", 1.0, 1.0).is_err());
        assert!(Frac::decay("tau", f32::NAN, 1.0).is_err());
        assert!(Frac::gain("tau", 10.0, 0.0).is_err());
    }

    #[test]
    fn scale_roundtrip_and_saturation() {
        for lsb in [1.0 / 65536.0, 0.001, 0.0123, 0.27, 1.0, 3.7, 200.0] {
            let s = Scale::new(lsb).unwrap();
            assert!(
                (s.lsb() - lsb).abs() / lsb < 1.0 / 16384.0,
                "lsb {lsb} -> {}",
                s.lsb()
            );
            let got = s.apply(1000).to_num::<f64>();
            let want = (1000.0 * lsb as f64).min(32768.0);
            assert!(
                (got - want).abs() <= want * 1e-4 + 2.0 / 65536.0,
                "{lsb}: {got} vs {want}"
            );
        }
        assert_eq!(Scale::new(1.0).unwrap().apply(i32::MAX), Fix::MAX);
        assert_eq!(Scale::new(1.0).unwrap().apply(i32::MIN), Fix::MIN);
        assert!(Scale::new(0.0).is_err());
        assert!(Scale::new(1e-9).is_err());
        assert!(Scale::new(1e3).is_err());
        assert!(Scale::new(f32::INFINITY).is_err());
        // wide: raw 3 × 0.3 = 0.9 raw steps are kept, not truncated
        let s = Scale::new(1.0).unwrap();
        let wide = 3i64 * f(0.3).to_bits() as i64;
        assert!((s.apply_wide(wide).to_num::<f64>() - 0.9).abs() < 1e-4);
    }

    #[test]
    fn rng_is_deterministic_and_uniform() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        let mut c = Rng::new(43);
        let mut same = true;
        for _ in 0..1000 {
            let x = a.next_u32();
            assert_eq!(x, b.next_u32());
            same &= x == c.next_u32();
        }
        assert!(!same);
        // Golden vector: the sequence is part of the bit-exactness contract; changing the generator
        // changes every recorded result, so it must be a deliberate change of this test.
        let mut g = Rng::new(0);
        let first: [u32; 4] = [g.next_u32(), g.next_u32(), g.next_u32(), g.next_u32()];
        assert_eq!(first, GOLDEN_SEED0);
        // moments of uniform and normal
        let mut r = Rng::new(7);
        let n = 200_000;
        let (mut su, mut sn, mut sn2) = (0.0, 0.0, 0.0);
        for _ in 0..n {
            su += r.uniform().to_num::<f64>();
            let z = r.normal().to_num::<f64>();
            sn += z;
            sn2 += z * z;
        }
        assert!((su / n as f64 - 0.5).abs() < 0.005);
        assert!((sn / n as f64).abs() < 0.01);
        assert!((sn2 / n as f64 - 1.0).abs() < 0.02);
        let mut hits = 0;
        let p = Frac::from_f32("p", 0.25).unwrap();
        for _ in 0..n {
            hits += r.bernoulli(p) as u32;
        }
        assert!((hits as f64 / n as f64 - 0.25).abs() < 0.005);
    }

    const GOLDEN_SEED0: [u32; 4] = [1_179_900_579, 1_938_959_192, 3_089_844_957, 3_657_088_315];

    #[test]
    fn stochastic_rounding_is_unbiased() {
        let mut r = Rng::new(1);
        // 0.3 of a step, repeated: nearest loses it, stochastic keeps it on average.
        let x = (3 << 16) / 10; // 0.3 in 16 fractional bits
        let mut sum_s = 0i64;
        let mut sum_n = 0i64;
        for _ in 0..100_000 {
            sum_s += Rounding::Stochastic.shr(x, 16, &mut r);
            sum_n += Rounding::Nearest.shr(x, 16, &mut r);
        }
        assert_eq!(sum_n, 0);
        assert!((sum_s as f64 / 100_000.0 - 0.3).abs() < 0.01);
        // negative values too
        let mut sum_neg = 0i64;
        for _ in 0..100_000 {
            sum_neg += Rounding::Stochastic.shr(-x, 16, &mut r);
        }
        assert!((sum_neg as f64 / 100_000.0 + 0.3).abs() < 0.01);
    }

    #[test]
    fn mul_saturates_and_rounds() {
        assert_eq!(mul(f(2.0), f(3.5)), f(7.0));
        assert_eq!(mul(f(300.0), f(300.0)), Fix::MAX);
        assert_eq!(mul(f(-300.0), f(300.0)), Fix::MIN);
        assert_eq!(mac(f(1.0), f(0.5), f(0.5)), f(1.25));
    }

    #[test]
    fn config_conversions() {
        assert!(fix_from_f32("x", 40000.0).is_err());
        assert!(fix_from_f32("x", f32::NAN).is_err());
        assert_eq!(fix_from_f32("x", -65.0).unwrap(), f(-65.0));
        assert_eq!(steps("refractory", 5.0, 0.1).unwrap(), 50);
        assert!(steps("refractory", -1.0, 0.1).is_err());
    }
}
