//! Presets: each rule as the paper wrote it, in terms of [`RuleParams`].
//!
//! Amplitudes are in weight units (the same units as the projection's [`Scale`](crate::num::Scale)
//! and the [`WeightFormat`](super::WeightFormat) bounds); time constants in ms; rates per ms.

use super::{Factor, Post, Pre, RuleParams, TermParams};
use crate::trace::{TraceMode, TraceParams};

/// Which spike pairs interact in spike-timing rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Pairing {
    /// Every pre spike with every post spike (traces accumulate).
    AllToAll,
    /// Each spike with the nearest spike of the other side only (traces reset to 1).
    Nearest,
}

impl Pairing {
    fn trace(self, tau_ms: f32) -> TraceParams {
        let mode = match self {
            Pairing::AllToAll => TraceMode::Accumulate,
            Pairing::Nearest => TraceMode::Reset,
        };
        TraceParams {
            tau_ms,
            impulse: 1.0,
            mode,
        }
    }
}

/// Parameters of the triplet rule (Pfister & Gerstner 2006), amplitudes in weight units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TripletParams {
    /// Pair potentiation amplitude `A₂⁺`.
    pub a2_plus: f32,
    /// Triplet potentiation amplitude `A₃⁺`.
    pub a3_plus: f32,
    /// Pair depression amplitude `A₂⁻`.
    pub a2_minus: f32,
    /// Triplet depression amplitude `A₃⁻`.
    pub a3_minus: f32,
    /// τ₊ of the fast presynaptic trace `r₁` (ms).
    pub tau_plus: f32,
    /// τ₋ of the fast postsynaptic trace `o₁` (ms).
    pub tau_minus: f32,
    /// τ_x of the slow presynaptic trace `r₂` (ms).
    pub tau_x: f32,
    /// τ_y of the slow postsynaptic trace `o₂` (ms).
    pub tau_y: f32,
}

impl TripletParams {
    /// Visual cortex, all-to-all, full model (Pfister & Gerstner 2006, Table 4), for weights of order
    /// 1. The fitted `A₂⁺ = 5·10⁻¹⁰` is zero at any weight resolution and is set to 0.
    pub const fn visual_cortex_all_to_all() -> TripletParams {
        TripletParams {
            a2_plus: 0.0,
            a3_plus: 6.2e-3,
            a2_minus: 7e-3,
            a3_minus: 2.3e-4,
            tau_plus: 16.8,
            tau_minus: 33.7,
            tau_x: 101.0,
            tau_y: 125.0,
        }
    }

    /// Visual cortex, nearest-spike, full model (Pfister & Gerstner 2006, Table 4). The fitted
    /// `A₂⁺ = 8.8·10⁻¹¹` is set to 0.
    pub const fn visual_cortex_nearest() -> TripletParams {
        TripletParams {
            a2_plus: 0.0,
            a3_plus: 5.3e-2,
            a2_minus: 6.6e-3,
            a3_minus: 3.1e-3,
            tau_plus: 16.8,
            tau_minus: 33.7,
            tau_x: 714.0,
            tau_y: 40.0,
        }
    }

    /// The minimal version of a model: no pair potentiation and no triplet depression
    /// (`A₂⁺ = A₃⁻ = 0`), as in Pfister & Gerstner's minimal models.
    pub const fn minimal(self) -> TripletParams {
        TripletParams {
            a2_plus: 0.0,
            a3_minus: 0.0,
            ..self
        }
    }

    /// The same rule with every amplitude multiplied by `k` (e.g. `g_max` for weights in `[0, g_max]`).
    pub const fn scaled(self, k: f32) -> TripletParams {
        TripletParams {
            a2_plus: self.a2_plus * k,
            a3_plus: self.a3_plus * k,
            a2_minus: self.a2_minus * k,
            a3_minus: self.a3_minus * k,
            ..self
        }
    }
}

fn push(v: &mut heapless::Vec<TermParams, { super::MAX_TERMS }>, t: TermParams) {
    if t.coef != 0.0 {
        // Presets never exceed MAX_TERMS terms per moment.
        let _ = v.push(t);
    }
}

impl RuleParams {
    /// Pair-based STDP (Bi & Poo 1998; Song, Miller & Abbott 2000), trace form: a post spike adds
    /// `A₊·x` (x: presynaptic trace, τ₊), a pre spike adds `−A₋·y` (y: postsynaptic trace, τ₋).
    /// Additive with hard bounds, or multiplicative with soft bounds (`WeightFormat::soft`).
    /// Ascends (for `A₋τ₋ > A₊τ₊`) a competition between inputs: correlated inputs win.
    pub fn pair_stdp(
        a_plus: f32,
        a_minus: f32,
        tau_plus: f32,
        tau_minus: f32,
        pairing: Pairing,
    ) -> RuleParams {
        let mut r = RuleParams::empty();
        let _ = r.pre_traces.push(pairing.trace(tau_plus));
        let _ = r.post_traces.push(pairing.trace(tau_minus));
        push(
            &mut r.on_post,
            TermParams::new(a_plus, Pre::Trace(0), [Post::One, Post::One]),
        );
        push(
            &mut r.on_pre,
            TermParams::new(-a_minus, Pre::One, [Post::Trace(0), Post::One]),
        );
        r
    }

    /// Song, Miller & Abbott (2000): additive all-to-all STDP with τ± = 20 ms,
    /// `A₊ = 0.005·g_max`, `A₋/A₊ = 1.05` (use hard bounds `[0, g_max]`).
    pub fn song2000(g_max: f32) -> RuleParams {
        let a_plus = 0.005 * g_max;
        RuleParams::pair_stdp(a_plus, 1.05 * a_plus, 20.0, 20.0, Pairing::AllToAll)
    }

    /// Triplet STDP (Pfister & Gerstner 2006): a pre spike adds `−o₁·(A₂⁻ + A₃⁻·r₂(t−ε))`, a post spike
    /// adds `r₁·(A₂⁺ + A₃⁺·o₂(t−ε))`. Reproduces the frequency dependence of pairing protocols
    /// (Sjöström et al. 2001) that pair STDP cannot; relates to the BCM objective.
    pub fn triplet(p: TripletParams, pairing: Pairing) -> RuleParams {
        let mut r = RuleParams::empty();
        let _ = r.pre_traces.push(pairing.trace(p.tau_plus));
        let _ = r.pre_traces.push(pairing.trace(p.tau_x));
        let _ = r.post_traces.push(pairing.trace(p.tau_minus));
        let _ = r.post_traces.push(pairing.trace(p.tau_y));
        push(
            &mut r.on_pre,
            TermParams::new(-p.a2_minus, Pre::One, [Post::Trace(0), Post::One]),
        );
        push(
            &mut r.on_pre,
            TermParams::new(-p.a3_minus, Pre::Trace(1), [Post::Trace(0), Post::One]),
        );
        push(
            &mut r.on_post,
            TermParams::new(p.a2_plus, Pre::Trace(0), [Post::One, Post::One]),
        );
        push(
            &mut r.on_post,
            TermParams::new(p.a3_plus, Pre::Trace(0), [Post::Trace(1), Post::One]),
        );
        r
    }

    /// Reward-modulated STDP (Izhikevich 2007; the three-factor form of Frémaux & Gerstner 2016): the
    /// STDP terms of `stdp` feed a per-synapse eligibility trace `e` (τ_e, Izhikevich: 1000 ms), and
    /// every `period` steps `Δw = lr · M · e`, `M` the broadcast modulator (dopamine, or the
    /// reward-prediction error of the reward objective). Ascends expected reward.
    pub fn reward_modulated(
        stdp: RuleParams,
        tau_eligibility_ms: f32,
        lr: f32,
        period: u16,
    ) -> RuleParams {
        let mut r = stdp;
        let on_pre = core::mem::take(&mut r.on_pre);
        let on_post = core::mem::take(&mut r.on_post);
        for t in on_pre {
            push(&mut r.on_pre, t.into_eligibility());
        }
        for t in on_post {
            push(&mut r.on_post, t.into_eligibility());
        }
        r.eligibility_tau_ms = Some(tau_eligibility_ms);
        r.period = period;
        push(
            &mut r.tick,
            TermParams::new(lr, Pre::One, [Post::Modulator, Post::One]).times(Factor::Eligibility),
        );
        r
    }

    /// Hebbian learning with decay: `dw/dt = η·x·y − λ·w` (rates; η in weight units per ms, λ per ms).
    /// Ascends output variance, bounded only by the decay and the weight bounds.
    pub fn hebbian(eta: f32, decay: f32) -> RuleParams {
        let mut r = RuleParams::empty();
        push(
            &mut r.tick,
            TermParams::new(eta, Pre::Rate, [Post::Rate, Post::One]),
        );
        push(
            &mut r.tick,
            TermParams::new(-decay, Pre::One, [Post::One, Post::One]).times(Factor::Weight),
        );
        r
    }

    /// Oja's rule (1982): `dw/dt = η·(x·y − y²·w)` — Hebbian learning normalised so that `|w| → 1`;
    /// ascends the output variance `⟨y²⟩` on the unit sphere, so `w` converges to the first principal
    /// component. `eta` per ms, dimensionless weights (use a weight scale with `w_max ≥ 1`).
    pub fn oja(eta: f32) -> RuleParams {
        let mut r = RuleParams::empty();
        push(
            &mut r.tick,
            TermParams::new(eta, Pre::Rate, [Post::Rate, Post::One]),
        );
        push(
            &mut r.tick,
            TermParams::new(-eta, Pre::One, [Post::Rate, Post::Rate]).times(Factor::Weight),
        );
        r
    }

    /// BCM (Bienenstock, Cooper & Munro 1982; Intrator & Cooper 1992): `dw/dt = η·x·y·(y − θ)` with the
    /// sliding threshold `θ = ⟨y²⟩` (time constant τ_θ). Makes the neuron selective to one input
    /// pattern (it maximises the skewness-like objective of Intrator & Cooper).
    pub fn bcm(eta: f32, tau_theta_ms: f32) -> RuleParams {
        let mut r = RuleParams::empty();
        r.theta_tau_ms = Some(tau_theta_ms);
        push(
            &mut r.tick,
            TermParams::new(eta, Pre::Rate, [Post::Rate, Post::Rate]),
        );
        push(
            &mut r.tick,
            TermParams::new(-eta, Pre::Rate, [Post::Rate, Post::Theta]),
        );
        r
    }

    /// PES (prescribed error sensitivity, MacNeil & Eliasmith 2011, as in Nengo): `dw/dt = −κ·a_i·e_j`
    /// with `a_i` the presynaptic activity (`pre`: a rate or a filtered spike trace) and `e_j` the
    /// per-neuron error (the [`Post::Signal`], from the mean-squared-error objective, which this
    /// descends). κ in weight units per ms.
    pub fn pes(kappa: f32, pre: Pre, pre_trace: Option<TraceParams>) -> RuleParams {
        let mut r = RuleParams::empty();
        if let Some(t) = pre_trace {
            let _ = r.pre_traces.push(t);
        }
        push(
            &mut r.tick,
            TermParams::new(-kappa, pre, [Post::Signal, Post::One]),
        );
        r
    }

    /// e-prop (Bellec et al. 2020) for LIF neurons: `Δw_ij = −η Σ_t L_j(t)·ē_ij(t)`, with `ē_ij` the
    /// low-pass (τ_out: the readout's time constant) of `ψ_j·x̄_i`, `x̄_i` the presynaptic trace (τ_m:
    /// the membrane time constant), `ψ_j` the pseudo-derivative ([`Post::Gate`]) and `L_j` the learning
    /// signal broadcast from the readout error ([`Post::Signal`]). Descends the readout loss.
    ///
    /// The learning rate is folded into the eligibility (`ē` accumulates `η·dt·x̄·ψ`, in weight units),
    /// so the weight term is `−L·ē` per step; η in weight units per ms; `dt_ms` the step it runs at.
    pub fn eprop(eta: f32, tau_m_ms: f32, tau_out_ms: f32, dt_ms: f32) -> RuleParams {
        let mut r = RuleParams::empty();
        let _ = r.pre_traces.push(TraceParams {
            tau_ms: tau_m_ms,
            impulse: 1.0,
            mode: TraceMode::Accumulate,
        });
        r.eligibility_tau_ms = Some(tau_out_ms);
        push(
            &mut r.tick,
            TermParams::new(eta, Pre::Trace(0), [Post::Gate, Post::One]).into_eligibility(),
        );
        push(
            &mut r.tick,
            TermParams::new(-1.0 / dt_ms, Pre::One, [Post::Signal, Post::One])
                .times(Factor::Eligibility),
        );
        r
    }

    /// Synaptic scaling (Turrigiano et al. 1998): `dw/dt = η·(r_target − r_j)·w`, the per-neuron rate
    /// deviation arriving as [`Post::Signal`] (from the rate-target objective, which this descends).
    pub fn synaptic_scaling(eta: f32) -> RuleParams {
        let mut r = RuleParams::empty();
        push(
            &mut r.tick,
            TermParams::new(eta, Pre::One, [Post::Signal, Post::One]).times(Factor::Weight),
        );
        r
    }
}
