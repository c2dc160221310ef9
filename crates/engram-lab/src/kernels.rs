//! Golden-vector digests of the fixed-point kernels: the core's arithmetic, run on fixed pseudo-random
//! inputs and hashed, so that a target can be compared with the host kernel by kernel.
//!
//! `cargo xtask qemu` runs this on the emulated Cortex-M4F and Cortex-M0 (firmware program `kernels`)
//! and compares every digest with the host's: a target-specific difference in one kernel (a 64-bit
//! multiply, a shift, a soft-float conversion at configuration time) shows up by name, even if no
//! experiment happens to exercise it. Inputs span each kernel's whole range, saturation included.

use engram::hash::Fnv64;
use engram::num::{self, EXP_NEG, Fix, Frac, Rng, Rounding, SIGMOID, Scale, TANH};
use engram::trace::{Trace, TraceMode, TraceParams};

/// Inputs per kernel.
const N: usize = 2048;

/// A [`Fix`] with a random magnitude: random bits shifted right by 0..=23, so small and huge values
/// (up to the saturation range) are both common.
fn wide(rng: &mut Rng) -> Fix {
    let shift = rng.below(24);
    Fix::from_bits((rng.next_u32() as i32) >> shift)
}

fn digest(
    visit: &mut dyn FnMut(&'static str, u64),
    name: &'static str,
    f: impl FnOnce(&mut Fnv64),
) {
    let mut h = Fnv64::new();
    f(&mut h);
    visit(name, h.finish());
}

/// Visits `(kernel, digest)` for every kernel, in a fixed order. Fails only if a configuration
/// constant here were invalid (they are not: every scale and trace is in range).
pub fn digests(visit: &mut dyn FnMut(&'static str, u64)) -> Result<(), engram::ConfigError> {
    let mut rng = Rng::new(0x5EED);
    digest(visit, "rng.next_u32", |h| {
        let mut r = Rng::new(0);
        (0..N).for_each(|_| h.write_u32(r.next_u32()));
    });
    digest(visit, "rng.normal+uniform+below+bernoulli", |h| {
        let mut r = Rng::stream(7, 3);
        let p = Frac(0x4000_0000);
        for i in 0..N as u32 {
            h.write_u32(r.normal().to_bits() as u32);
            h.write_u32(r.uniform().to_bits() as u32);
            h.write_u32(r.below(i + 1));
            h.write(&[r.bernoulli(p) as u8]);
        }
    });
    digest(visit, "num.mul+mac", |h| {
        for _ in 0..N {
            let (a, b, c) = (wide(&mut rng), wide(&mut rng), wide(&mut rng));
            h.write_u32(num::mul(a, b).to_bits() as u32);
            h.write_u32(num::mac(c, a, b).to_bits() as u32);
        }
    });
    digest(visit, "num.shr_round+sat_i32", |h| {
        for _ in 0..N {
            let x = ((rng.next_u32() as u64) << 32 | rng.next_u32() as u64) as i64;
            let s = rng.below(63);
            h.write_u64(num::shr_round(x >> 1, s) as u64);
            h.write_u32(num::sat_i32(x >> s) as u32);
        }
    });
    digest(visit, "frac.mul+decay+gain", |h| {
        for _ in 0..N {
            let f = Frac(rng.next_u32());
            h.write_u32(f.mul(wide(&mut rng)).to_bits() as u32);
            h.write_u32(f.complement().mul(wide(&mut rng)).to_bits() as u32);
        }
        for tau in [0.5f32, 2.0, 5.0, 10.0, 20.0, 200.0, 1000.0] {
            for dt in [0.1f32, 0.25, 0.4] {
                h.write_u32(Frac::decay("tau", tau, dt).map_or(0, |f| f.0));
                h.write_u32(Frac::gain("tau", tau, dt).map_or(0, |f| f.0));
            }
        }
    });
    let lsbs = [
        1.0 / 16_777_216.0,
        1.0 / 32768.0,
        1.0 / 64.0,
        0.0123,
        1.0,
        3.7,
        256.0,
    ];
    let mut scales = [Scale::new(1.0)?; 7];
    for (s, lsb) in scales.iter_mut().zip(lsbs) {
        *s = Scale::new(lsb)?;
    }
    digest(visit, "scale.apply+apply_wide", |h| {
        for s in scales {
            for _ in 0..N / 8 {
                let raw = (rng.next_u32() as i32) >> rng.below(31);
                let wide_sum = ((rng.next_u32() as i64) << 24) ^ (rng.next_u32() as i32 as i64);
                h.write_u32(s.apply(raw).to_bits() as u32);
                h.write_u32(s.apply_wide(wide_sum).to_bits() as u32);
            }
            h.write_u32(s.raw_from_f32(0.75) as u32);
        }
    });
    digest(visit, "rounding.nearest+stochastic", |h| {
        let mut r = Rng::new(11);
        for _ in 0..N {
            let x = (rng.next_u32() as i32) as i64 * 977;
            let s = rng.below(33);
            h.write_u64(Rounding::Nearest.shr(x, s, &mut r) as u64);
            h.write_u64(Rounding::Stochastic.shr(x, s, &mut r) as u64);
        }
    });
    digest(visit, "lut.exp_neg+sigmoid+tanh", |h| {
        // A sweep over every table's domain and beyond, in steps of 2^-10 and random points.
        for i in -(20i32 << 10)..(20 << 10) {
            let x = Fix::from_bits(i << 6);
            h.write_u32(EXP_NEG.eval(x).to_bits() as u32);
            h.write_u32(SIGMOID.eval(x).to_bits() as u32);
            h.write_u32(TANH.eval(x).to_bits() as u32);
        }
        for _ in 0..N {
            let x = wide(&mut rng);
            h.write_u32(SIGMOID.eval(x).to_bits() as u32);
        }
    });
    let trace = Trace::new(
        TraceParams {
            tau_ms: 20.0,
            impulse: 0.5,
            mode: TraceMode::Accumulate,
        },
        0.1,
    )?;
    digest(visit, "trace.step", |h| {
        let mut xs = [Fix::ZERO; 64];
        for _ in 0..256 {
            let spikes = [rng.below(64) as u16, rng.below(80) as u16];
            trace.step(&mut xs, &spikes);
        }
        xs.iter().for_each(|x| h.write_u32(x.to_bits() as u32));
    });
    digest(visit, "config.fix_from_f32", |h| {
        for _ in 0..N {
            let v = (rng.next_u32() as i32 >> rng.below(16)) as f32 / 65536.0 * 1.37;
            h.write_u32(num::fix_from_f32("v", v).map_or(0, |f| f.to_bits() as u32));
        }
    });
    Ok(())
}

/// The first four outputs of `Rng::new(0)`: pinned in `engram::num`'s tests, checked on the target too.
pub const RNG_SEED0: [u32; 4] = [1_179_900_579, 1_938_959_192, 3_089_844_957, 3_657_088_315];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_deterministic_and_pinned_rng() {
        let mut a = [0u64; 16];
        let mut n = 0;
        digests(&mut |_, d| {
            a[n] = d;
            n += 1;
        })
        .unwrap();
        assert_eq!(n, 10);
        let mut b = [0u64; 16];
        let mut m = 0;
        digests(&mut |_, d| {
            b[m] = d;
            m += 1;
        })
        .unwrap();
        assert_eq!(a, b);
        let mut r = Rng::new(0);
        assert_eq!(
            [r.next_u32(), r.next_u32(), r.next_u32(), r.next_u32()],
            RNG_SEED0
        );
    }
}
