//! Local learning rules: typed data, applied by one applier.
//!
//! A rule sees only what a synapse could see: traces of its presynaptic and postsynaptic neurons,
//! their rates, its own weight and eligibility, a per-postsynaptic-neuron signal (an error, a
//! learning signal, a rate deviation) and at most one broadcast modulator. Every rule engram knows —
//! Hebbian, Oja, BCM, pair and triplet STDP, reward-modulated STDP, PES, e-prop, synaptic scaling — is
//! a short list of **terms**, each a product that separates into
//!
//! ```text
//! Δ = c · pre(i) · post₁(j) · post₂(j) · factor(w or e)
//! ```
//!
//! evaluated at one of three moments ([`RuleParams`]):
//! - `on_pre`: a presynaptic spike — applied *inside* the propagation loop (the projection's
//!   [`SynapseHook`](crate::projection::SynapseHook)), after the spike was transmitted;
//! - `on_post`: a postsynaptic spike — applied to that neuron's incoming synapses;
//! - `tick`: every `period` steps to every synapse — rate-based rules and the conversion of eligibility
//!   into weight change (the only place a rule sweeps all synapses; a rule without tick terms never
//!   does).
//!
//! A term either changes the weight or feeds the synapse's **eligibility trace** (three-factor rules),
//! which the tick decays and a `Factor::Eligibility` term turns into weight change when a modulator
//! arrives. STDP is a preset, not a special case: see the constructors on [`RuleParams`] (`presets.rs`)
//! with each paper's parameters.
//!
//! The applier is [`Plastic`] (`apply.rs`): a projection plus a compiled [`Rule`], its traces and
//! eligibilities on caller storage, and a seeded [`Rng`](crate::num::Rng) for stochastic rounding.
//!
//! Not every homeostatic rule lives on synapses: [`Intrinsic`] (`intrinsic.rs`) adapts a per-neuron
//! excitability (a threshold offset applied as a bias) toward a target rate.
//!
//! ## Numbers
//! Weight changes are computed in **raw weight steps** with 16 fractional bits (a [`Fix`] whose unit
//! is one step of the projection's [`Scale`]), then rounded to whole steps by the
//! [`WeightFormat`]'s [`Rounding`] (nearest, or stochastic: unbiased, so changes smaller than one step
//! still accumulate on average), then clamped to the bounds, which also enforce the weight bits (4 to
//! 16; `i8` storage holds up to 8). Coefficients are converted once: a term without a weight factor
//! has its coefficient divided by the weight step (so `A₊ = 0.005·g_max` means the same at every
//! precision); a term with a weight or eligibility factor has a dimensionless coefficient. Tick
//! coefficients are rates per ms, multiplied by `dt · period`. A non-zero coefficient that rounds to
//! zero in Q16.16 is refused, not silently dropped. Products saturate.
//!
//! Soft bounds scale a positive change by `(w_max − w)/(w_max − w_min)` and a negative one by
//! `(w − w_min)/(w_max − w_min)` (multiplicative, weight-dependent STDP); hard bounds only clamp.

mod apply;
mod intrinsic;
mod presets;

pub use apply::{Plastic, RuleStorage, Signals};
pub use intrinsic::{BiasInput, Intrinsic, IntrinsicParams, IntrinsicStorage};
pub use presets::{Pairing, TripletParams};

use crate::error::ConfigError;
use crate::num::{Fix, Frac, Rounding, Scale, Weight, fix_from_f32};
use crate::trace::{Trace, TraceParams};
use heapless::Vec;

/// Most terms per moment (on_pre, on_post, tick).
pub const MAX_TERMS: usize = 4;
/// Most traces per side (pre, post).
pub const MAX_TRACES: usize = 2;

/// A presynaptic quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Pre {
    /// 1.
    One,
    /// Presynaptic trace `k` (`x₁`, `x₂`); at a presynaptic spike, its value *before* this spike.
    Trace(u8),
    /// The presynaptic rate `x_i` ([`Signals::pre_rate`]).
    Rate,
}

/// A postsynaptic quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Post {
    /// 1.
    One,
    /// Postsynaptic trace `k` (`y₁`, `y₂`); at a postsynaptic spike, its value *before* this spike.
    Trace(u8),
    /// The postsynaptic rate `y_j` ([`Signals::post_rate`]).
    Rate,
    /// The per-neuron third factor ([`Signals::post_signal`]): an error, a learning signal, a rate
    /// deviation.
    Signal,
    /// A second per-neuron quantity ([`Signals::post_gate`]), e.g. e-prop's pseudo-derivative.
    Gate,
    /// BCM's sliding threshold `θ_j`, a running average of `y_j²` kept by the rule.
    Theta,
    /// The broadcast modulator ([`Signals::modulator`]): reward, reward-prediction error, dopamine.
    Modulator,
}

/// What the term multiplies besides the pre and post quantities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Factor {
    /// Nothing (the coefficient is in weight units).
    One,
    /// The weight itself, in raw steps (decay, Oja's normalisation, synaptic scaling).
    Weight,
    /// The synapse's eligibility trace (three-factor rules; tick terms only).
    Eligibility,
}

/// Where a term's result goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Target {
    /// The weight.
    Weight,
    /// The eligibility trace (needs [`RuleParams::eligibility_tau_ms`]).
    Eligibility,
}

/// One term, `Δ = coef · pre · post[0] · post[1] · factor`, in configuration units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TermParams {
    /// Coefficient: weight units per event (`on_pre`/`on_post`) or per ms (`tick`) for
    /// [`Factor::One`] (whether it targets the weight or the eligibility); dimensionless (per event or
    /// per ms) for [`Factor::Weight`] and [`Factor::Eligibility`].
    pub coef: f32,
    /// Presynaptic quantity.
    pub pre: Pre,
    /// Postsynaptic quantities (a product of two; use [`Post::One`] for fewer).
    pub post: [Post; 2],
    /// Weight or eligibility factor.
    pub factor: Factor,
    /// Weight or eligibility.
    pub target: Target,
}

impl TermParams {
    /// `coef · pre · post₁ · post₂` into the weight.
    pub const fn new(coef: f32, pre: Pre, post: [Post; 2]) -> TermParams {
        TermParams {
            coef,
            pre,
            post,
            factor: Factor::One,
            target: Target::Weight,
        }
    }

    /// The same term multiplied by `factor`.
    pub const fn times(self, factor: Factor) -> TermParams {
        TermParams { factor, ..self }
    }

    /// The same term feeding the eligibility trace instead of the weight.
    pub const fn into_eligibility(self) -> TermParams {
        TermParams {
            target: Target::Eligibility,
            ..self
        }
    }
}

/// A learning rule in configuration units (floats); compile it with [`Rule::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct RuleParams {
    /// Presynaptic traces `x₁, x₂` (driven by presynaptic spikes).
    pub pre_traces: Vec<TraceParams, MAX_TRACES>,
    /// Postsynaptic traces `y₁, y₂` (driven by postsynaptic spikes).
    pub post_traces: Vec<TraceParams, MAX_TRACES>,
    /// Terms applied at a presynaptic spike.
    pub on_pre: Vec<TermParams, MAX_TERMS>,
    /// Terms applied at a postsynaptic spike.
    pub on_post: Vec<TermParams, MAX_TERMS>,
    /// Terms applied every `period` steps to every synapse.
    pub tick: Vec<TermParams, MAX_TERMS>,
    /// Steps between ticks (≥ 1).
    pub period: u16,
    /// Time constant of the eligibility traces (ms), if any term targets them.
    pub eligibility_tau_ms: Option<f32>,
    /// Time constant of BCM's sliding threshold `θ = ⟨y²⟩` (ms), if [`Post::Theta`] is used.
    pub theta_tau_ms: Option<f32>,
}

impl RuleParams {
    /// A rule with no traces and no terms (static synapses); build on it with the fields.
    pub fn empty() -> RuleParams {
        RuleParams {
            pre_traces: Vec::new(),
            post_traces: Vec::new(),
            on_pre: Vec::new(),
            on_post: Vec::new(),
            tick: Vec::new(),
            period: 1,
            eligibility_tau_ms: None,
            theta_tau_ms: None,
        }
    }
}

/// Weight precision and bounds of a plastic projection.
///
/// With the `serde` feature it reads from a table such as `weights = { bits = 8, rounding =
/// "stochastic" }`; missing fields keep the experiment's own values when the host merges it over the
/// experiment's default.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct WeightFormat {
    /// Significant bits of a stored weight, sign included (4..=16; ≤ 8 for `i8` storage).
    pub bits: u8,
    /// How fractional weight changes become whole steps.
    pub rounding: Rounding,
    /// Lower bound (weight units).
    pub w_min: f32,
    /// Upper bound (weight units).
    pub w_max: f32,
    /// Soft (multiplicative) bounds instead of hard clamping.
    pub soft: bool,
}

impl WeightFormat {
    /// `bits`-bit weights in `[w_min, w_max]`, hard bounds, nearest rounding.
    pub const fn new(bits: u8, w_min: f32, w_max: f32) -> WeightFormat {
        WeightFormat {
            bits,
            rounding: Rounding::Nearest,
            w_min,
            w_max,
            soft: false,
        }
    }

    /// The scale that maps the largest bound magnitude onto the largest `bits`-bit value: use it for the
    /// projection, so every precision spans the same weight range.
    pub fn scale(&self) -> Result<Scale, ConfigError> {
        Scale::for_max(self.w_max.abs().max(self.w_min.abs()), self.bits as u32)
    }
}

/// One compiled term.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Term {
    pub coef: Fix,
    pub pre: Pre,
    pub post: [Post; 2],
    pub factor: Factor,
    pub target: Target,
}

/// A compiled rule: fixed-point coefficients for one projection's scale, time step and format.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub(crate) pre_traces: Vec<Trace, MAX_TRACES>,
    pub(crate) post_traces: Vec<Trace, MAX_TRACES>,
    pub(crate) on_pre: Vec<Term, MAX_TERMS>,
    pub(crate) on_post: Vec<Term, MAX_TERMS>,
    pub(crate) tick: Vec<Term, MAX_TERMS>,
    pub(crate) period: u16,
    /// Eligibility decay over one tick period.
    pub(crate) elig_decay: Option<Frac>,
    /// `dt/τ_θ`.
    pub(crate) theta_gain: Option<Frac>,
    pub(crate) rounding: Rounding,
    pub(crate) w_min: i32,
    pub(crate) w_max: i32,
    pub(crate) soft: bool,
    /// `2^32 / (w_max − w_min)`, for soft bounds.
    pub(crate) inv_range: u32,
}

impl Rule {
    /// Compiles `p` for a projection with weight scale `scale`, storage type `W`, time step `dt_ms`.
    ///
    /// Refuses: a bad trace, bits outside 4..=16 or above the storage type's, bounds that are
    /// reversed or do not fit the bits, a trace or post quantity referenced but not configured, a tick
    /// term outside `tick`-only factors, a coefficient out of Q16.16 range or below its resolution, a
    /// zero period, eligibility terms without an eligibility time constant.
    pub fn new<W: Weight>(
        p: &RuleParams,
        fmt: &WeightFormat,
        scale: Scale,
        dt_ms: f32,
    ) -> Result<Rule, ConfigError> {
        if !(4..=16).contains(&fmt.bits) || fmt.bits as u32 > W::BITS {
            return Err(ConfigError::Invalid {
                what: "weight bits must be in 4..=16 and fit the storage type",
            });
        }
        if p.period == 0 {
            return Err(ConfigError::Invalid {
                what: "rule tick period must be at least 1 step",
            });
        }
        let top = (1i32 << (fmt.bits - 1)) - 1;
        let w_min = scale.raw_from_f32(fmt.w_min);
        let w_max = scale.raw_from_f32(fmt.w_max);
        if !(fmt.w_min.is_finite() && fmt.w_max.is_finite()) || w_min >= w_max {
            return Err(ConfigError::Invalid {
                what: "weight bounds must be finite with w_min < w_max",
            });
        }
        if w_min < -top || w_max > top {
            return Err(ConfigError::OutOfRange {
                what: "weight bound (for these bits and scale)",
                value: fmt.w_max,
            });
        }
        let mut pre_traces = Vec::new();
        for t in &p.pre_traces {
            let _ = pre_traces.push(Trace::new(*t, dt_ms)?);
        }
        let mut post_traces = Vec::new();
        for t in &p.post_traces {
            let _ = post_traces.push(Trace::new(*t, dt_ms)?);
        }
        let lsb = scale.lsb();
        let tick_ms = dt_ms * p.period as f32;
        let compile = |terms: &Vec<TermParams, MAX_TERMS>,
                       tick: bool|
         -> Result<Vec<Term, MAX_TERMS>, ConfigError> {
            let mut out = Vec::new();
            for t in terms {
                if let Pre::Trace(k) = t.pre
                    && k as usize >= p.pre_traces.len()
                {
                    return Err(ConfigError::Invalid {
                        what: "term uses a presynaptic trace that is not configured",
                    });
                }
                for q in t.post {
                    match q {
                        Post::Trace(k) if k as usize >= p.post_traces.len() => {
                            return Err(ConfigError::Invalid {
                                what: "term uses a postsynaptic trace that is not configured",
                            });
                        }
                        Post::Theta if p.theta_tau_ms.is_none() => {
                            return Err(ConfigError::Invalid {
                                what: "term uses theta without theta_tau_ms",
                            });
                        }
                        _ => {}
                    }
                }
                if (t.factor == Factor::Eligibility || t.target == Target::Eligibility)
                    && p.eligibility_tau_ms.is_none()
                {
                    return Err(ConfigError::Invalid {
                        what: "eligibility term without eligibility_tau_ms",
                    });
                }
                if t.factor == Factor::Eligibility && !tick {
                    return Err(ConfigError::Invalid {
                        what: "eligibility factors are read at ticks only",
                    });
                }
                if t.factor == Factor::Eligibility && t.target == Target::Eligibility {
                    return Err(ConfigError::Invalid {
                        what: "an eligibility term cannot feed the eligibility",
                    });
                }
                let per = if tick { tick_ms } else { 1.0 };
                let unit = if t.factor == Factor::One { lsb } else { 1.0 };
                let value = t.coef * per / unit;
                let coef = fix_from_f32("rule coefficient", value)?;
                if coef == Fix::ZERO && t.coef != 0.0 {
                    return Err(ConfigError::OutOfRange {
                        what: "rule coefficient (below Q16.16 resolution)",
                        value,
                    });
                }
                let _ = out.push(Term {
                    coef,
                    pre: t.pre,
                    post: t.post,
                    factor: t.factor,
                    target: t.target,
                });
            }
            Ok(out)
        };
        let elig_decay = match p.eligibility_tau_ms {
            Some(tau) => Some(Frac::decay("eligibility tau", tau, tick_ms)?),
            None => None,
        };
        let theta_gain = match p.theta_tau_ms {
            Some(tau) => Some(Frac::gain("theta tau", tau, dt_ms)?),
            None => None,
        };
        Ok(Rule {
            on_pre: compile(&p.on_pre, false)?,
            on_post: compile(&p.on_post, false)?,
            tick: compile(&p.tick, true)?,
            pre_traces,
            post_traces,
            period: p.period,
            elig_decay,
            theta_gain,
            rounding: fmt.rounding,
            w_min,
            w_max,
            soft: fmt.soft,
            inv_range: (((1u64 << 32) - 1) / (w_max - w_min) as u64) as u32,
        })
    }

    /// Raw weight bounds `[w_min, w_max]` in steps.
    pub fn bounds(&self) -> (i32, i32) {
        (self.w_min, self.w_max)
    }

    /// Number of presynaptic and postsynaptic traces.
    pub fn traces(&self) -> (usize, usize) {
        (self.pre_traces.len(), self.post_traces.len())
    }

    /// Whether the rule keeps eligibility traces (one per synapse).
    pub fn has_eligibility(&self) -> bool {
        self.elig_decay.is_some()
    }

    /// Whether the rule keeps a sliding threshold (one per postsynaptic neuron).
    pub fn has_theta(&self) -> bool {
        self.theta_gain.is_some()
    }

    /// Whether the rule acts on postsynaptic spikes (needs post→pre access).
    pub fn acts_on_post(&self) -> bool {
        !self.on_post.is_empty()
    }
}

#[cfg(test)]
mod tests;
