//! The Izhikevich (2003) "simple model of spiking neurons".
//!
//! ```text
//! v' = 0.04 v² + 5 v + 140 - u + I        (v in mV, t in ms)
//! u' = a (b v - u)
//! spike: v ≥ 30 mV  →  v ← c,  u ← u + d
//! ```
//!
//! `a, b, c, d` are per neuron (the paper's 1000-neuron network is heterogeneous), so they live in the
//! state [`IzhNeuron`]; the model [`Izhikevich`] only holds the time step. The input `I` of a step is the
//! sum of the step's two channel deposits (`exc + inh`): an input *current* for this step, not a
//! synaptic variable with its own decay.
//!
//! ## Discretisation (dt ≤ 1 ms)
//! As in the paper's MATLAB code, `v` is advanced in two forward-Euler half steps of `dt/2`
//! ("for numerical stability"), then `u` by one forward-Euler step of `dt` using the new `v`:
//! ```text
//! v ← v + dt/2 · (0.04 v² + 5 v + 140 - u + I)      (twice)
//! u ← u + dt · a (b · min(v, 30) - u)
//! if v ≥ 30:  spike,  v ← c,  u ← u + d
//! ```
//! Spike and reset happen in the same step as the crossing. **Departure from the MATLAB code:** there the
//! reset happens at the start of the next iteration, so the `u` update sees the overshoot of `v` above
//! 30 mV (at dt = 1 ms, often hundreds of mV, depending on how close to 30 the previous step ended).
//! That makes the after-spike `u` depend on an artefact of the step size; clamping to the peak
//! (`min(v, 30)`) removes it and is what the continuous model does (v is reset at 30 mV).
//!
//! ## Fixed point
//! `v, u, a, b, c, d` are [`Fix`] (Q16.16). `a` and `b` are small, so their relative quantisation
//! error is coarse but harmless: `a = 0.02` is stored as 1311/65536 = 0.0200043 (2e-4 relative),
//! `b = 0.2` as 13107/65536 (3e-5) — far below the spread of the paper's own heterogeneous parameters.
//! `0.04·v²` is computed exactly in `i64` (`v²` of a Q16.16 number fits 62 bits), then multiplied by
//! `0.04 ≈ 41943/2^20` (1e-6 relative); the derivative is summed in `i64` and saturated to [`Fix`]
//! (±32768 mV/ms), and each addition to `v`, `u` saturates, so a run-away input saturates instead of
//! wrapping. `dt/2` is a [`Frac`] (exact for dt = 1 ms); `dt·x` is `x·(dt/2)·2` with one rounding.
//! Every product rounds to nearest.

use super::NeuronModel;
use crate::error::ConfigError;
use crate::num::{Fix, Frac, fix_from_f32, mul, sat_i32, shr_round};

/// One neuron's parameters (floats), Izhikevich (2003) notation. Convert to a state with
/// [`IzhikevichParams::neuron`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IzhikevichParams {
    /// Time scale of the recovery variable `u` (1/ms).
    pub a: f32,
    /// Sensitivity of `u` to subthreshold `v`.
    pub b: f32,
    /// After-spike reset of `v` (mV).
    pub c: f32,
    /// After-spike increment of `u`.
    pub d: f32,
}

impl IzhikevichParams {
    /// Regular spiking (RS) excitatory cortical neuron: a 0.02, b 0.2, c −65, d 8 (Fig. 2).
    pub const fn regular_spiking() -> Self {
        Self::abcd(0.02, 0.2, -65.0, 8.0)
    }

    /// Intrinsically bursting (IB): a 0.02, b 0.2, c −55, d 4.
    pub const fn intrinsically_bursting() -> Self {
        Self::abcd(0.02, 0.2, -55.0, 4.0)
    }

    /// Chattering (CH): a 0.02, b 0.2, c −50, d 2.
    pub const fn chattering() -> Self {
        Self::abcd(0.02, 0.2, -50.0, 2.0)
    }

    /// Fast spiking (FS) inhibitory interneuron: a 0.1, b 0.2, c −65, d 2.
    pub const fn fast_spiking() -> Self {
        Self::abcd(0.1, 0.2, -65.0, 2.0)
    }

    /// Low-threshold spiking (LTS) inhibitory interneuron: a 0.02, b 0.25, c −65, d 2.
    pub const fn low_threshold_spiking() -> Self {
        Self::abcd(0.02, 0.25, -65.0, 2.0)
    }

    const fn abcd(a: f32, b: f32, c: f32, d: f32) -> Self {
        IzhikevichParams { a, b, c, d }
    }

    /// The initial state of the paper's code, `v = −65`, `u = b·v`, with these parameters in fixed
    /// point.
    ///
    /// Refuses non-finite values, `a ∉ [0, 1]` (with dt ≤ 1 ms, `dt·a ≤ 1` keeps the `u` update
    /// monotone), `|b| > 10`, `c ∉ (−1000, 30)` (a reset at or above the peak would fire every step) and
    /// `|d| > 1000`.
    pub fn neuron(&self) -> Result<IzhNeuron, ConfigError> {
        let range = |what, x: f32, lo: f32, hi: f32| {
            if x >= lo && x <= hi {
                fix_from_f32(what, x)
            } else {
                Err(ConfigError::OutOfRange { what, value: x })
            }
        };
        let a = range("Izhikevich a (0 ≤ a ≤ 1)", self.a, 0.0, 1.0)?;
        let b = range("Izhikevich b (|b| ≤ 10)", self.b, -10.0, 10.0)?;
        const C_WHAT: &str = "Izhikevich c (−1000 < c < 30)";
        if !(self.c > -1000.0 && self.c < 30.0) {
            return Err(ConfigError::OutOfRange {
                what: C_WHAT,
                value: self.c,
            });
        }
        let c = fix_from_f32(C_WHAT, self.c)?;
        let d = range("Izhikevich d (|d| ≤ 1000)", self.d, -1000.0, 1000.0)?;
        let v = Fix::from_bits(-65 << 16);
        Ok(IzhNeuron {
            v,
            u: mul(b, v),
            a,
            b,
            c,
            d,
        })
    }
}

/// State and parameters of one Izhikevich neuron, all [`Fix`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct IzhNeuron {
    /// Membrane potential (mV).
    pub v: Fix,
    /// Recovery variable (mV/ms scale, as in the paper).
    pub u: Fix,
    /// Time scale of `u` (1/ms).
    pub a: Fix,
    /// Sensitivity of `u` to `v`.
    pub b: Fix,
    /// Reset potential (mV).
    pub c: Fix,
    /// Reset increment of `u`.
    pub d: Fix,
}

/// The Izhikevich model: the time step, shared by a population (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Izhikevich {
    /// `dt/2` (ms), at most 0.5.
    half_dt: Frac,
}

/// `0.04 = 41943 / 2^20` (relative error 1e-6).
const QUAD_COEF: i64 = 41_943;
/// Fractional bits of [`QUAD_COEF`].
const QUAD_SHIFT: u32 = 20;
/// Fractional bits of [`Fix`].
const FRAC_BITS: u32 = 16;

impl Izhikevich {
    /// Spike peak `v_peak = 30` mV.
    pub const V_PEAK: Fix = Fix::from_bits(30 << 16);

    /// A model stepping `dt_ms`, which must be positive and at most 1 ms.
    pub fn new(dt_ms: f32) -> Result<Izhikevich, ConfigError> {
        if !dt_ms.is_finite() || dt_ms <= 0.0 {
            return Err(ConfigError::InvalidTimeStep { dt_ms });
        }
        if dt_ms > 1.0 {
            return Err(ConfigError::OutOfRange {
                what: "Izhikevich dt (at most 1 ms)",
                value: dt_ms,
            });
        }
        Ok(Izhikevich {
            half_dt: Frac::from_f32("Izhikevich dt/2", 0.5 * dt_ms)?,
        })
    }

    /// The time step (ms), for reports.
    pub fn dt_ms(&self) -> f32 {
        2.0 * self.half_dt.to_f32()
    }

    /// `0.04 v² + 5 v + 140 - u + I`, saturated to [`Fix`].
    #[inline(always)]
    fn dv(v: Fix, u: Fix, i: Fix) -> Fix {
        let vb = v.to_bits() as i64;
        // |vb| ≤ 2^31: vb² ≤ 2^62; after >> 16, ≤ 2^46; × QUAD_COEF (< 2^16) < 2^62.
        let v2 = shr_round(vb * vb, FRAC_BITS);
        let quad = shr_round(v2 * QUAD_COEF, QUAD_SHIFT);
        let sum = quad + 5 * vb + (140 << FRAC_BITS) - u.to_bits() as i64 + i.to_bits() as i64;
        Fix::from_bits(sat_i32(sum))
    }

    /// `x · dt` = `x · (dt/2) · 2`, rounded once. |result| ≤ |x| since dt ≤ 1.
    #[inline(always)]
    fn times_dt(&self, x: Fix) -> Fix {
        // |x| ≤ 2^31, half_dt ≤ 2^31: product ≤ 2^62.
        let p = x.to_bits() as i64 * self.half_dt.0 as i64;
        Fix::from_bits(sat_i32(shr_round(p, 31)))
    }
}

impl NeuronModel for Izhikevich {
    type State = IzhNeuron;

    /// One step of the module doc's scheme with input current `I = exc + inh`.
    #[inline]
    fn step(&self, s: &mut IzhNeuron, exc: Fix, inh: Fix) -> bool {
        let i = exc.saturating_add(inh);
        let mut v = s.v;
        v = v.saturating_add(self.half_dt.mul(Self::dv(v, s.u, i)));
        v = v.saturating_add(self.half_dt.mul(Self::dv(v, s.u, i)));
        let pull = mul(s.b, v.min(Self::V_PEAK)).saturating_sub(s.u);
        let u = s.u.saturating_add(self.times_dt(mul(s.a, pull)));
        let spike = v >= Self::V_PEAK;
        s.v = if spike { s.c } else { v };
        s.u = if spike { u.saturating_add(s.d) } else { u };
        spike
    }

    #[inline]
    fn potential(s: &IzhNeuron) -> Fix {
        s.v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> Fix {
        Fix::from_num(x)
    }

    /// The resting fixed point of `0.04v² + (5 - b)v + 140 = 0` (the lower root), with `u = b·v`.
    fn rest(p: IzhikevichParams) -> IzhNeuron {
        let b = p.b as f64;
        let v = (-(5.0 - b) - ((5.0 - b).powi(2) - 4.0 * 0.04 * 140.0).sqrt()) / 0.08;
        IzhNeuron {
            v: f(v),
            u: f(b * v),
            ..p.neuron().unwrap()
        }
    }

    #[test]
    fn rest_stays_at_rest() {
        let m = Izhikevich::new(1.0).unwrap();
        for p in [
            IzhikevichParams::regular_spiking(),
            IzhikevichParams::fast_spiking(),
            IzhikevichParams::low_threshold_spiking(),
        ] {
            let s0 = rest(p);
            let mut s = s0;
            for _ in 0..5000 {
                assert!(!m.step(&mut s, Fix::ZERO, Fix::ZERO));
            }
            assert!((s.v - s0.v).abs() < f(0.01), "{p:?}: {} vs {}", s.v, s0.v);
            assert!((s.u - s0.u).abs() < f(0.01));
        }
    }

    #[test]
    fn initial_state_matches_the_paper() {
        let s = IzhikevichParams::regular_spiking().neuron().unwrap();
        assert_eq!(s.v, f(-65.0));
        assert!((s.u.to_num::<f64>() + 13.0).abs() < 1e-3);
        assert_eq!(s.c, f(-65.0));
        assert_eq!(s.d, f(8.0));
        assert_eq!(s.a.to_bits(), 1311); // 0.02 quantised, 2e-4 relative
    }

    /// One step by hand at dt = 1 ms, including the reset and the clamped u update.
    #[test]
    fn step_matches_the_scheme_by_hand() {
        let m = Izhikevich::new(1.0).unwrap();
        let p = IzhikevichParams::regular_spiking();
        let mut s = p.neuron().unwrap();
        let (a, b) = (s.a.to_num::<f64>(), s.b.to_num::<f64>());
        let (mut v, mut u) = (-65.0f64, s.u.to_num::<f64>());
        let i = 10.0;
        for _ in 0..200 {
            let spiked = m.step(&mut s, f(4.0), f(6.0));
            v += 0.5 * (0.04 * v * v + 5.0 * v + 140.0 - u + i);
            v += 0.5 * (0.04 * v * v + 5.0 * v + 140.0 - u + i);
            u += a * (b * v.min(30.0) - u);
            assert_eq!(spiked, v >= 30.0);
            if v >= 30.0 {
                v = -65.0;
                u += 8.0;
            }
            // Rounding (1e-5 per operation) is amplified on the upswing, where ∂v'/∂v = 0.08v + 5 > 0.
            // Scheme errors would be ≫ 1 mV.
            assert!((s.v.to_num::<f64>() - v).abs() < 0.05, "{} vs {v}", s.v);
            assert!((s.u.to_num::<f64>() - u).abs() < 5e-3);
        }
    }

    #[test]
    fn overshoot_does_not_leak_into_u() {
        let m = Izhikevich::new(1.0).unwrap();
        let base = IzhikevichParams::regular_spiking().neuron().unwrap();
        // From v = 20 a huge input drives v far above 30 in one step; u must see at most 30.
        let mut s = IzhNeuron {
            v: f(20.0),
            u: f(0.0),
            ..base
        };
        assert!(m.step(&mut s, f(1000.0), Fix::ZERO));
        let want = 0.02 * (0.2 * 30.0 - 0.0) + 8.0;
        assert!((s.u.to_num::<f64>() - want).abs() < 1e-3, "{}", s.u);
        assert_eq!(s.v, f(-65.0));
    }

    #[test]
    fn config_errors_are_refused() {
        let rs = IzhikevichParams::regular_spiking();
        for p in [
            IzhikevichParams { a: f32::NAN, ..rs },
            IzhikevichParams { a: -0.1, ..rs },
            IzhikevichParams { a: 1.5, ..rs },
            IzhikevichParams { b: 20.0, ..rs },
            IzhikevichParams { c: 30.0, ..rs },
            IzhikevichParams {
                c: f32::NEG_INFINITY,
                ..rs
            },
            IzhikevichParams { d: 1e5, ..rs },
            IzhikevichParams { d: f32::NAN, ..rs },
        ] {
            assert!(p.neuron().is_err(), "{p:?}");
        }
        for dt in [0.0, -1.0, 1.5, f32::NAN, f32::INFINITY] {
            assert!(Izhikevich::new(dt).is_err(), "dt {dt}");
        }
        assert!(Izhikevich::new(1.0).is_ok());
        assert!((Izhikevich::new(0.25).unwrap().dt_ms() - 0.25).abs() < 1e-7);
    }

    #[test]
    fn extreme_inputs_saturate_without_panicking() {
        let m = Izhikevich::new(1.0).unwrap();
        let base = IzhikevichParams::chattering().neuron().unwrap();
        for (e, i) in [
            (Fix::MAX, Fix::MAX),
            (Fix::MIN, Fix::MIN),
            (Fix::MAX, Fix::MIN),
        ] {
            let mut s = base;
            for _ in 0..100 {
                m.step(&mut s, e, i);
            }
            for (v, u) in [
                (Fix::MAX, Fix::MAX),
                (Fix::MIN, Fix::MIN),
                (Fix::MIN, Fix::MAX),
                (Fix::MAX, Fix::MIN),
            ] {
                let mut s = IzhNeuron {
                    v,
                    u,
                    a: f(1.0),
                    b: f(10.0),
                    ..base
                };
                m.step(&mut s, e, i);
                m.step(&mut s, e, i);
            }
        }
    }
}
