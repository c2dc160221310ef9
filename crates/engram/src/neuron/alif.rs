//! Adaptive LIF: the current-based LIF with a spike-triggered adaptive threshold (Bellec et al. 2018
//! "Long short-term memory and learning-to-learn in networks of spiking neurons"; the e-prop neuron of
//! Bellec et al. 2020).
//!
//! ```text
//! τ_m dv/dt = -(v - E_L) + g_e + g_i + bias        (as the current-based [`Lif`])
//! τ_a da/dt = -a + Σ_spikes δ(t - t_s)             (a jumps by 1 per spike)
//! threshold  θ = v_thresh + β·a
//! spike:     v ≥ θ  →  v ← v_reset, refractory as in [`Lif`]
//! ```
//!
//! ## One step
//! Steps 1, 2 and 4 of [`Lif`] (deposit; exponential-Euler integration or refractory hold; synaptic
//! decay), with the spike condition `v ≥ θ` using the `a` stored at the start of the step, then
//! `a ← ρ·a + z` with `ρ = e^{-dt/τ_a}` and `z = 1` on a spike. This is the e-prop discretisation:
//! with `a^t` the stored value, `A^t = v_th + β·a^t` is compared with `v^t`, and
//! `a^{t+1} = ρ a^t + z^t` — the increment of a spike is felt undecayed by the next step's threshold.
//! [`Alif::threshold`] returns the threshold the *next* step will use.
//!
//! ## Fixed point
//! `a` is [`Fix`] (a spike count, ≤ `1/(1-ρ)` ≈ τ_a/dt: 20 000 for τ_a = 2 s at dt = 0.1 ms, inside
//! Q16.16); `ρ` is a [`Frac`]; `β·a` is a rounded, saturating product. Everything else as [`Lif`].

use super::NeuronModel;
use super::lif::{Lif, LifParams, Synapses};
use crate::error::ConfigError;
use crate::num::{Fix, Frac, fix_from_f32, mul};

/// Adaptive-LIF configuration (floats, ms and mV), validated by [`Alif::new`]: a current-based LIF
/// plus the adaptation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlifParams {
    /// The LIF part; its `synapses` must be [`Synapses::Current`] (Bellec's neuron is current-based).
    pub lif: LifParams,
    /// Adaptation time constant τ_a (ms); Bellec et al. use hundreds of ms to seconds.
    pub tau_adapt_ms: f32,
    /// Threshold increase per unit of `a` (mV), `β ≥ 0`.
    pub beta: f32,
}

/// State of one adaptive-LIF neuron.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AlifState {
    /// Membrane potential (mV).
    pub v: Fix,
    /// Excitatory synaptic current (mV).
    pub g_exc: Fix,
    /// Inhibitory synaptic current (mV).
    pub g_inh: Fix,
    /// Adaptation variable (decaying spike count, dimensionless).
    pub a: Fix,
    /// Remaining refractory steps.
    pub refractory: u16,
}

/// A validated adaptive-LIF model in fixed point (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Alif {
    base: Lif,
    decay_a: Frac,
    beta: Fix,
}

impl Alif {
    /// Validates `p` for time step `dt_ms`: everything [`Lif::new`] checks (current-based), plus
    /// `τ_a > dt` and a finite `β ≥ 0` (mV, |β| < 16 000).
    pub fn new(p: AlifParams, dt_ms: f32) -> Result<Alif, ConfigError> {
        if !matches!(p.lif.synapses, Synapses::Current) {
            return Err(ConfigError::Invalid {
                what: "ALIF synapses must be current-based",
            });
        }
        let base = Lif::new(p.lif, dt_ms)?;
        let decay_a = Frac::decay("ALIF tau_adapt", p.tau_adapt_ms, dt_ms)?;
        if !(p.beta >= 0.0 && p.beta <= 16_000.0) {
            return Err(ConfigError::OutOfRange {
                what: "ALIF beta (0 ≤ β ≤ 16 000 mV)",
                value: p.beta,
            });
        }
        Ok(Alif {
            base,
            decay_a,
            beta: fix_from_f32("ALIF beta", p.beta)?,
        })
    }

    /// The resting state: `v = E_L`, `a = 0`.
    pub fn rest_state(&self) -> AlifState {
        AlifState {
            v: self.base.e_leak(),
            ..AlifState::default()
        }
    }

    /// The effective threshold `θ = v_thresh + β·a` (mV) that the next step compares `v` against.
    #[inline]
    pub fn threshold(&self, s: &AlifState) -> Fix {
        self.base.v_thresh().saturating_add(mul(self.beta, s.a))
    }

    /// The baseline threshold (mV).
    #[inline]
    pub fn v_thresh(&self) -> Fix {
        self.base.v_thresh()
    }

    /// β (mV per unit of `a`).
    #[inline]
    pub fn beta(&self) -> Fix {
        self.beta
    }

    /// The adaptation decay factor `ρ = e^{-dt/τ_a}`.
    #[inline]
    pub fn decay_adapt(&self) -> Frac {
        self.decay_a
    }

    /// The membrane decay factor `α = e^{-dt/τ_m}`.
    #[inline]
    pub fn decay_m(&self) -> Frac {
        self.base.decay_m()
    }

    /// The underlying (non-adaptive, current-based) LIF.
    #[inline]
    pub fn base(&self) -> &Lif {
        &self.base
    }
}

impl NeuronModel for Alif {
    type State = AlifState;

    /// One step (module doc): LIF step against `θ = v_thresh + β·a`, then `a ← ρ·a + z`.
    #[inline]
    fn step(&self, s: &mut AlifState, exc: Fix, inh: Fix) -> bool {
        let thresh = self.threshold(s);
        let spike = self.base.advance(
            &mut s.v,
            &mut s.g_exc,
            &mut s.g_inh,
            &mut s.refractory,
            exc,
            inh,
            thresh,
        );
        let inc = if spike { Fix::ONE } else { Fix::ZERO };
        s.a = self.decay_a.mul(s.a).saturating_add(inc);
        spike
    }

    #[inline]
    fn potential(s: &AlifState) -> Fix {
        s.v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn f(x: f64) -> Fix {
        Fix::from_num(x)
    }

    fn lif() -> LifParams {
        LifParams {
            tau_m_ms: 20.0,
            e_leak: -65.0,
            v_thresh: -50.0,
            v_reset: -65.0,
            refractory_ms: 2.0,
            tau_exc_ms: 5.0,
            tau_inh_ms: 10.0,
            bias: 0.0,
            synapses: Synapses::Current,
        }
    }

    fn params() -> AlifParams {
        AlifParams {
            lif: lif(),
            tau_adapt_ms: 200.0,
            beta: 2.0,
        }
    }

    fn spike_steps(m: &Alif, bias_steps: u32, input: Fix) -> Vec<u32> {
        let mut s = m.rest_state();
        let mut out = Vec::new();
        for k in 0..bias_steps {
            // constant current via the synaptic variable: deposit what decays away
            let top = input.saturating_sub(s.g_exc);
            if m.step(&mut s, top, Fix::ZERO) {
                out.push(k);
            }
        }
        out
    }

    #[test]
    fn rest_stays_at_rest() {
        let m = Alif::new(params(), 0.1).unwrap();
        let mut s = m.rest_state();
        for _ in 0..10_000 {
            assert!(!m.step(&mut s, Fix::ZERO, Fix::ZERO));
        }
        assert_eq!(s, m.rest_state());
        assert_eq!(m.threshold(&s), f(-50.0));
    }

    #[test]
    fn rate_adapts_isis_lengthen() {
        let m = Alif::new(params(), 0.1).unwrap();
        let sp = spike_steps(&m, 10_000, f(30.0)); // 1 s of 30 mV drive
        let isi: Vec<u32> = sp.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(isi.len() > 10, "{isi:?}");
        // ISIs never shorten (up to one step of rounding) and the late ones are clearly longer.
        for w in isi.windows(2).take(10) {
            assert!(w[1] + 1 >= w[0], "{isi:?}");
        }
        let first = isi[0] as f64;
        let last = *isi.last().unwrap() as f64;
        assert!(last > 2.0 * first, "first {first} last {last}");
        // Without adaptation (β = 0) the same drive gives a constant ISI equal to the first one.
        let plain = Alif::new(
            AlifParams {
                beta: 0.0,
                ..params()
            },
            0.1,
        )
        .unwrap();
        let sp0 = spike_steps(&plain, 10_000, f(30.0));
        let isi0: Vec<u32> = sp0.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(isi0.iter().all(|&n| n.abs_diff(isi0[0]) <= 1), "{isi0:?}");
        assert!(isi[0] >= isi0[0]); // the first spike already raised the threshold
        assert!(sp.len() * 2 < sp0.len(), "{} vs {}", sp.len(), sp0.len());
    }

    #[test]
    fn adaptation_jumps_by_one_and_decays_with_tau_a() {
        let m = Alif::new(params(), 0.1).unwrap();
        let mut s = AlifState {
            v: f(-50.5),
            ..m.rest_state()
        };
        assert!(m.step(&mut s, f(500.0), Fix::ZERO));
        assert_eq!(s.a, Fix::ONE); // felt undecayed by the next step's threshold
        assert_eq!(m.threshold(&s), f(-48.0));
        for _ in 0..2000 {
            m.step(&mut s, Fix::ZERO, f(-50.0)); // keep it silent
        }
        // 2000 steps = 200 ms = τ_a: a = e^-1
        assert!(
            (s.a.to_num::<f64>() - (-1f64).exp()).abs() < 1e-3,
            "{}",
            s.a
        );
    }

    #[test]
    fn config_errors_are_refused() {
        let ok = params();
        for p in [
            AlifParams {
                tau_adapt_ms: 0.0,
                ..ok
            },
            AlifParams {
                tau_adapt_ms: 0.1,
                ..ok
            },
            AlifParams {
                tau_adapt_ms: f32::NAN,
                ..ok
            },
            AlifParams { beta: -1.0, ..ok },
            AlifParams {
                beta: f32::NAN,
                ..ok
            },
            AlifParams {
                beta: f32::INFINITY,
                ..ok
            },
            AlifParams {
                lif: LifParams {
                    v_reset: -50.0,
                    ..lif()
                },
                ..ok
            },
            AlifParams {
                lif: LifParams {
                    tau_m_ms: 0.0,
                    ..lif()
                },
                ..ok
            },
            AlifParams {
                lif: LifParams {
                    synapses: Synapses::Conductance {
                        e_exc: 0.0,
                        e_inh: -80.0,
                    },
                    ..lif()
                },
                ..ok
            },
        ] {
            assert!(Alif::new(p, 0.1).is_err(), "{p:?}");
        }
        assert!(Alif::new(ok, f32::NAN).is_err());
        assert!(Alif::new(ok, 0.1).is_ok());
    }

    #[test]
    fn extreme_inputs_saturate_without_panicking() {
        let m = Alif::new(
            AlifParams {
                beta: 16_000.0,
                tau_adapt_ms: 30_000.0,
                lif: LifParams {
                    refractory_ms: 0.0,
                    ..lif()
                },
            },
            0.1,
        )
        .unwrap();
        for (e, i) in [
            (Fix::MAX, Fix::MAX),
            (Fix::MIN, Fix::MIN),
            (Fix::MAX, Fix::ZERO),
        ] {
            let mut s = m.rest_state();
            for _ in 0..500 {
                m.step(&mut s, e, i);
            }
            let mut s = AlifState {
                v: Fix::MAX,
                g_exc: Fix::MAX,
                g_inh: Fix::MIN,
                a: Fix::MAX,
                refractory: 0,
            };
            m.step(&mut s, e, i);
            assert!(m.threshold(&s) > f(32_000.0));
        }
    }
}
