//! Exponential traces: `τ dx/dt = -x + A Σ δ(t - t_spike)`.
//!
//! A trace is an (impulse, τ) pair. It serves as a presynaptic or postsynaptic trace for STDP-like rules
//! and, fed with a product of other traces instead of spikes, as an eligibility trace.
//!
//! Discretisation: exact for the decay, `x ← x · e^{-dt/τ}` (a [`Frac`] computed once), then the spike
//! effect. With [`TraceMode::Accumulate`] every spike adds `A` (all-to-all pairing); with
//! [`TraceMode::Reset`] a spike sets `x = A` (nearest-neighbour pairing). Values are [`Fix`]; adding
//! saturates at `Fix::MAX`.
//!
//! Decay rounds to nearest, except that a value the rounding would leave unchanged moves one LSB
//! toward zero. Without that exception every `|x| < 0.5 LSB / (1 − e^{-dt/τ})` would be a fixed point:
//! 100 LSB (1.5·10⁻³ of the unit) for τ = 20 ms at dt = 0.1 ms, a residue that never decays and that
//! a rule multiplies into every later spike's update (an STDP depression that goes on forever after
//! the postsynaptic neuron falls silent). With it, every trace reaches exactly 0, linearly (one LSB per
//! step) below that bound and exponentially (to within rounding) above it.

use crate::error::ConfigError;
use crate::num::{Fix, Frac, fix_from_f32};

/// How a spike changes a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TraceMode {
    /// `x += A`: the trace sums over all past spikes (all-to-all interactions).
    #[default]
    Accumulate,
    /// `x = A`: the trace remembers only the last spike (nearest-neighbour interactions).
    Reset,
}

/// Configuration of a trace (floats: the edge).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceParams {
    /// Time constant τ (ms).
    pub tau_ms: f32,
    /// Impulse `A` added (or set) per spike.
    pub impulse: f32,
    /// Accumulate or reset on a spike.
    pub mode: TraceMode,
}

/// A validated trace: the decay factor and the impulse in fixed point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Trace {
    /// `e^{-dt/τ}`.
    pub decay: Frac,
    /// Impulse per spike.
    pub impulse: Fix,
    /// Accumulate or reset.
    pub mode: TraceMode,
}

impl Trace {
    /// Validates `p` for time step `dt_ms` (τ > dt, finite impulse).
    pub fn new(p: TraceParams, dt_ms: f32) -> Result<Trace, ConfigError> {
        Ok(Trace {
            decay: Frac::decay("trace tau", p.tau_ms, dt_ms)?,
            impulse: fix_from_f32("trace impulse", p.impulse)?,
            mode: p.mode,
        })
    }

    /// One step of decay of a single trace value (see the module doc for the rounding).
    #[inline]
    pub fn decayed(&self, x: Fix) -> Fix {
        let y = self.decay.mul(x);
        if y == x {
            // |x| below the dead band (or 0): one LSB toward zero.
            Fix::from_bits(x.to_bits() - x.to_bits().signum())
        } else {
            y
        }
    }

    /// The effect of a spike on a (decayed) trace value.
    #[inline]
    pub fn bumped(&self, x: Fix) -> Fix {
        match self.mode {
            TraceMode::Accumulate => x.saturating_add(self.impulse),
            TraceMode::Reset => self.impulse,
        }
    }

    /// Decays every trace by one step.
    #[inline]
    pub fn decay_all(&self, xs: &mut [Fix]) {
        for x in xs {
            *x = self.decayed(*x);
        }
    }

    /// One step for a population: decay every trace, then apply the spikes (indices out of range are
    /// ignored).
    pub fn step(&self, xs: &mut [Fix], spikes: &[u16]) {
        self.decay_all(xs);
        for &j in spikes {
            if let Some(x) = xs.get_mut(j as usize) {
                *x = self.bumped(*x);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_follows_exponential() {
        let dt = 0.1;
        let tr = Trace::new(
            TraceParams {
                tau_ms: 20.0,
                impulse: 1.0,
                mode: TraceMode::Accumulate,
            },
            dt,
        )
        .unwrap();
        let mut x = [Fix::ZERO; 2];
        tr.step(&mut x, &[0]);
        assert_eq!(x[0], Fix::ONE);
        assert_eq!(x[1], Fix::ZERO);
        for _ in 0..200 {
            tr.step(&mut x, &[]);
        }
        // after 20 ms: e^-1
        let got = x[0].to_num::<f64>();
        assert!((got - (-1f64).exp()).abs() < 2e-4, "{got}");
        // accumulate vs reset
        tr.step(&mut x, &[0]);
        assert!(x[0] > Fix::ONE);
        let rt = Trace {
            mode: TraceMode::Reset,
            ..tr
        };
        rt.step(&mut x, &[0, 7]);
        assert_eq!(x[0], Fix::ONE);
    }

    #[test]
    fn small_traces_decay_to_zero() {
        // τ/dt = 200: nearest rounding alone would keep any value below ~100 LSB forever.
        let tr = Trace::new(
            TraceParams {
                tau_ms: 20.0,
                impulse: 1.0,
                mode: TraceMode::Accumulate,
            },
            0.1,
        )
        .unwrap();
        let mut x = [
            Fix::from_bits(99),
            Fix::from_bits(1),
            Fix::from_bits(-99),
            Fix::ZERO,
        ];
        for _ in 0..99 {
            tr.decay_all(&mut x);
        }
        assert_eq!(x, [Fix::ZERO; 4]);
        // Above the dead band the decay is the rounded exponential.
        assert_eq!(tr.decayed(Fix::ONE), tr.decay.mul(Fix::ONE));
        // From 1.0, the whole way down: exactly 0 within 2000 steps (10 τ), never negative.
        let mut y = [Fix::ONE];
        for _ in 0..2000 {
            tr.decay_all(&mut y);
            assert!(y[0] >= Fix::ZERO);
        }
        assert_eq!(y[0], Fix::ZERO);
    }

    #[test]
    fn trace_rejects_bad_config() {
        let p = TraceParams {
            tau_ms: 0.0,
            impulse: 1.0,
            mode: TraceMode::Accumulate,
        };
        assert!(Trace::new(p, 1.0).is_err());
        let p = TraceParams {
            tau_ms: 10.0,
            impulse: 1e6,
            mode: TraceMode::Accumulate,
        };
        assert!(Trace::new(p, 1.0).is_err());
    }
}
