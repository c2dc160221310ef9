//! The one applier: a projection plus a compiled [`Rule`] and its state.
//!
//! Per time step, in this order (the order fixes which spikes a trace has seen):
//! 1. [`Plastic::propagate`] — presynaptic spikes are transmitted; in the same pass over their
//!    synapses the `on_pre` terms change the weights (post traces hold spikes up to the previous step;
//!    pre traces do not yet hold this spike: `x(t − ε)`).
//! 2. The caller steps the postsynaptic population.
//! 3. [`Plastic::learn`] — pre traces take this step's presynaptic spikes; the `on_post` terms act on
//!    the incoming synapses of each postsynaptic spike (pre traces include this step's spikes, so a
//!    coincident pre and post spike counts as pre-before-post; post traces do not yet hold this spike:
//!    `y(t − ε)`); post traces take the postsynaptic spikes; θ follows `y²`; every `period` steps the
//!    tick sweep runs (eligibility decays by one period, takes its tick inputs, then weight terms
//!    read it); finally every trace decays by one step.
//!
//! Nothing here allocates or panics: sizes are validated in [`Plastic::new`]; out-of-range indices
//! and missing signals read as 0.
//!
//! **Two paths, one result.** `on_pre` and `on_post` terms whose quantities split into "same for
//! every synapse of this spike" and at most one "per synapse" quantity per term (every spike-timing
//! rule here: pair, triplet, modulated variants) run on a fast path: the event-side values are read
//! and folded into the coefficient once per spike (`Plan::resolve`), and the synapse loop only
//! multiplies by the synapse-side value, with the update specialised at compile time for the common
//! single-term, nearest-rounding, hard-bound case (a vectorisable dense-row loop, through
//! [`SynapseHook::dense_row`]). The same `mul`s run on the same values in the same order as in the
//! general path (`State::apply`), so the results are bit-identical
//! (`fast_path_matches_the_general_path_bit_for_bit`). Everything else — eligibility targets, tick
//! sweeps — takes the general path.

use super::{Factor, MAX_TERMS, MAX_TRACES, Post, Pre, Rule, Target, Term};
use crate::error::{ConfigError, check_len};
use crate::num::{Fix, Frac, Rng, Rounding, Weight, mul, shr_round};
use crate::projection::{SynapseHook, Synapses};
use core::marker::PhantomData;

/// What the environment, the objective and the network tell the rule this step. Missing entries
/// (short or empty slices) read as 0.
#[derive(Debug, Clone, Copy, Default)]
pub struct Signals<'s> {
    /// Presynaptic rates `x_i` ([`Pre::Rate`]).
    pub pre_rate: &'s [Fix],
    /// Postsynaptic rates `y_j` ([`Post::Rate`]; also what θ tracks).
    pub post_rate: &'s [Fix],
    /// Per-postsynaptic-neuron third factor ([`Post::Signal`]).
    pub post_signal: &'s [Fix],
    /// Second per-postsynaptic-neuron quantity ([`Post::Gate`]).
    pub post_gate: &'s [Fix],
    /// Broadcast modulator ([`Post::Modulator`]).
    pub modulator: Fix,
}

impl Signals<'_> {
    /// No signals: pure spike-timing rules need none.
    pub const NONE: Signals<'static> = Signals {
        pre_rate: &[],
        post_rate: &[],
        post_signal: &[],
        post_gate: &[],
        modulator: Fix::ZERO,
    };
}

/// Caller storage for a rule's state.
#[derive(Debug)]
pub struct RuleStorage<'a> {
    /// Presynaptic traces, trace-major: trace `k` of neuron `i` at `k·n_pre + i`
    /// (`n_pre × pre traces` entries).
    pub pre_traces: &'a mut [Fix],
    /// Postsynaptic traces, trace-major (`n_post × post traces` entries).
    pub post_traces: &'a mut [Fix],
    /// One eligibility trace per synapse, in weight order (empty if the rule has none).
    pub eligibility: &'a mut [Fix],
    /// BCM thresholds, one per postsynaptic neuron (empty if the rule has none).
    pub theta: &'a mut [Fix],
}

/// The rule's state (split from the projection so both can be borrowed in one pass).
#[derive(Debug)]
struct State<'a> {
    rule: Rule,
    pre_tr: &'a mut [Fix],
    post_tr: &'a mut [Fix],
    elig: &'a mut [Fix],
    theta: &'a mut [Fix],
    n_pre: usize,
    n_post: usize,
    rng: Rng,
}

/// A plastic projection: `P` (e.g. [`Dense`](crate::projection::Dense) or
/// [`Sparse`](crate::projection::Sparse)) whose weights the rule changes online.
#[derive(Debug)]
pub struct Plastic<'a, W: Weight, P: Synapses<W>> {
    /// The projection (its weights are the learned state).
    pub proj: P,
    st: State<'a>,
    since_tick: u16,
    /// Tests only: take the general path everywhere (the reference the fast path must match).
    #[cfg(test)]
    reference: bool,
    _w: PhantomData<W>,
}

#[inline]
fn at(xs: &[Fix], i: usize) -> Fix {
    xs.get(i).copied().unwrap_or(Fix::ZERO)
}

// The per-synapse helpers are `inline(always)`: called out of line, every synapse re-loaded the
// `Signals` and `State` fields (~20 words, spilled to the stack) before any arithmetic. Inlined, the
// loads leave the synapse loops: measured on the emulated Cortex-M4F, 184 → 144 instructions per
// pair-STDP `on_pre` update, 15–27 % fewer for every rule (`bench-plastic`, README).
impl State<'_> {
    #[inline(always)]
    fn pre(&self, q: Pre, i: usize, sig: &Signals<'_>) -> Fix {
        match q {
            Pre::One => Fix::ONE,
            Pre::Trace(k) => at(self.pre_tr, k as usize * self.n_pre + i),
            Pre::Rate => at(sig.pre_rate, i),
        }
    }

    #[inline(always)]
    fn post(&self, q: Post, j: usize, sig: &Signals<'_>) -> Fix {
        match q {
            Post::One => Fix::ONE,
            Post::Trace(k) => at(self.post_tr, k as usize * self.n_post + j),
            Post::Rate => at(sig.post_rate, j),
            Post::Signal => at(sig.post_signal, j),
            Post::Gate => at(sig.post_gate, j),
            Post::Theta => at(self.theta, j),
            Post::Modulator => sig.modulator,
        }
    }

    /// `coef · pre · post₀ · post₁ · factor`, saturating; `Fix::ONE` factors cost nothing.
    #[inline(always)]
    fn term(&self, t: &Term, i: usize, j: usize, k: usize, w: i32, sig: &Signals<'_>) -> Fix {
        let mut v = t.coef;
        if t.pre != Pre::One {
            v = mul(v, self.pre(t.pre, i, sig));
        }
        for q in t.post {
            if q != Post::One {
                v = mul(v, self.post(q, j, sig));
            }
        }
        match t.factor {
            Factor::One => v,
            // |w| ≤ 2^15 - 1 fits Q16.16
            Factor::Weight => mul(v, Fix::from_bits(w << 16)),
            Factor::Eligibility => mul(v, at(self.elig, k)),
        }
    }

    /// Applies `terms` to synapse `(i, j, k)`: eligibility-targeted terms first, then weight terms.
    #[inline(always)]
    fn apply<W: Weight>(
        &mut self,
        terms: Which,
        i: usize,
        j: usize,
        k: usize,
        w: &mut W,
        sig: &Signals<'_>,
    ) {
        let list = match terms {
            Which::Pre => &self.rule.on_pre,
            Which::Post => &self.rule.on_post,
            Which::Tick => &self.rule.tick,
        };
        let (mut dw, mut de) = (Fix::ZERO, Fix::ZERO);
        for t in list {
            let v = self.term(t, i, j, k, w.get(), sig);
            match t.target {
                Target::Weight => dw = dw.saturating_add(v),
                Target::Eligibility => de = de.saturating_add(v),
            }
        }
        if de != Fix::ZERO
            && let Some(e) = self.elig.get_mut(k)
        {
            *e = e.saturating_add(de);
        }
        if dw != Fix::ZERO {
            self.update(w, dw);
        }
    }

    /// `w += round(Δ)` (raw steps), soft-bounded if configured, clamped to the bounds.
    #[inline(always)]
    fn update<W: Weight>(&mut self, w: &mut W, delta: Fix) {
        Bounds::of(&self.rule).update(w, delta, &mut self.rng);
    }
}

/// The weight-update parameters of a [`Rule`], copied out of it so the synapse loops keep them in
/// registers.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    w_min: i32,
    w_max: i32,
    soft: bool,
    inv_range: u32,
    rounding: Rounding,
}

impl Bounds {
    #[inline(always)]
    fn of(r: &Rule) -> Bounds {
        Bounds {
            w_min: r.w_min,
            w_max: r.w_max,
            soft: r.soft,
            inv_range: r.inv_range,
            rounding: r.rounding,
        }
    }

    /// `w += round(Δ)` (raw steps), soft-bounded if configured, clamped to the bounds.
    #[inline(always)]
    fn update<W: Weight>(&self, w: &mut W, delta: Fix, rng: &mut Rng) {
        let cur = w.get();
        let d = if self.soft {
            let room = if delta > Fix::ZERO {
                self.w_max - cur
            } else {
                cur - self.w_min
            };
            let f = (room.max(0) as u64 * self.inv_range as u64).min(u32::MAX as u64) as u32;
            Frac(f).mul(delta)
        } else {
            delta
        };
        let step = self.rounding.shr(d.to_bits() as i64, 16, rng);
        // `max`/`min`, not `clamp`: `clamp` panics if its bounds cross, which the compiler cannot rule
        // out here (`Rule::new` validated `w_min < w_max`); the step path must not reach a panic.
        let new = (cur as i64 + step)
            .max(self.w_min as i64)
            .min(self.w_max as i64);
        *w = W::saturate(new as i32);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Pre,
    Post,
    Tick,
}

/// The `on_pre` terms as a [`SynapseHook`], fused into propagation.
struct PreHook<'r, 's, 'a> {
    st: &'r mut State<'a>,
    sig: &'r Signals<'s>,
}

impl<W: Weight> SynapseHook<W> for PreHook<'_, '_, '_> {
    #[inline(always)]
    fn synapse(&mut self, pre: usize, post: usize, k: usize, w: &mut W) {
        self.st.apply(Which::Pre, pre, post, k, w, self.sig);
    }
}

// ---------------------------------------------------------------------------------------------
// The event-resolved fast path of `on_pre` and `on_post`.
//
// At a presynaptic spike of `i` every presynaptic quantity (and the modulator) is the same for all
// the synapses the spike crosses; at a postsynaptic spike of `j` every postsynaptic quantity is.
// `Plan::resolve` evaluates those once per spike and leaves, per term, at most one quantity that
// varies along the synapses — a slice indexed by the synapse's other neuron. The synapse loop then
// does only the multiplications that depend on the synapse, with no match on term kinds and no
// bounds-checked reads of the rule's state.
//
// Bit-exactness: the fast path performs the same `mul`s on the same values in the same order as
// `State::term` (`coef · pre · post₀ · post₁ · factor`, each `mul` rounded to nearest and
// saturated, `One`s skipped): the constants before the varying quantity are folded into `prefix`
// left to right exactly as `term` folds them, the constants after it stay separate (`suffix`)
// because `mul` does not associate. The terms are summed in order with the same saturating adds,
// and the update is the same function (`Bounds::update`). A moment whose terms cannot be split so
// (two synapse-side quantities in one term, or a term feeding the eligibility trace) takes the
// general path (`State::apply`).
// ---------------------------------------------------------------------------------------------

/// Where the quantities of a rule come from, borrowed for one call.
#[derive(Clone, Copy)]
struct Sources<'x> {
    pre_tr: &'x [Fix],
    post_tr: &'x [Fix],
    theta: &'x [Fix],
    n_pre: usize,
    n_post: usize,
    pre_rate: &'x [Fix],
    post_rate: &'x [Fix],
    post_signal: &'x [Fix],
    post_gate: &'x [Fix],
    modulator: Fix,
}

/// A quantity as one value for every neuron of its side (`Const`) or a per-neuron slice.
#[derive(Clone, Copy)]
enum Quantity<'x> {
    Skip,
    Const(Fix),
    PerNeuron(&'x [Fix]),
}

impl<'x> Sources<'x> {
    /// Splits `st` into the rule, its quantities (with `sig`'s) and the rounding generator.
    fn split<'a>(st: &'x mut State<'a>, sig: &Signals<'x>) -> (&'x Rule, Sources<'x>, &'x mut Rng) {
        let State {
            rule,
            pre_tr,
            post_tr,
            theta,
            n_pre,
            n_post,
            rng,
            ..
        } = st;
        let src = Sources {
            pre_tr,
            post_tr,
            theta,
            n_pre: *n_pre,
            n_post: *n_post,
            pre_rate: sig.pre_rate,
            post_rate: sig.post_rate,
            post_signal: sig.post_signal,
            post_gate: sig.post_gate,
            modulator: sig.modulator,
        };
        (rule, src, rng)
    }

    /// `Pre::Trace(k)` is the tail of the trace-major array from `k·n_pre`, so that index `i` reads
    /// exactly what `State::pre` reads (`k·n_pre + i`, 0 past the end).
    #[inline]
    fn pre(&self, q: Pre) -> Quantity<'x> {
        match q {
            Pre::One => Quantity::Skip,
            Pre::Trace(k) => Quantity::PerNeuron(
                self.pre_tr
                    .get(k as usize * self.n_pre..)
                    .unwrap_or_default(),
            ),
            Pre::Rate => Quantity::PerNeuron(self.pre_rate),
        }
    }

    #[inline]
    fn post(&self, q: Post) -> Quantity<'x> {
        match q {
            Post::One => Quantity::Skip,
            Post::Trace(k) => Quantity::PerNeuron(
                self.post_tr
                    .get(k as usize * self.n_post..)
                    .unwrap_or_default(),
            ),
            Post::Rate => Quantity::PerNeuron(self.post_rate),
            Post::Signal => Quantity::PerNeuron(self.post_signal),
            Post::Gate => Quantity::PerNeuron(self.post_gate),
            Post::Theta => Quantity::PerNeuron(self.theta),
            Post::Modulator => Quantity::Const(self.modulator),
        }
    }
}

/// Whether the fast path can run `terms` at moment `which` (see the section comment).
fn resolvable(terms: &[Term], which: Which) -> bool {
    terms.iter().all(|t| {
        let synapse_side = match which {
            // Post quantities other than the modulator vary along a presynaptic spike's synapses.
            Which::Pre => t
                .post
                .iter()
                .filter(|q| !matches!(q, Post::One | Post::Modulator))
                .count(),
            // Pre quantities vary along a postsynaptic spike's synapses.
            Which::Post => (t.pre != Pre::One) as usize,
            Which::Tick => 2,
        };
        t.target == Target::Weight && t.factor != Factor::Eligibility && synapse_side <= 1
    })
}

/// One term resolved for one spike: `((prefix · x[idx]) · suffix₀ · suffix₁) · w`, each product a
/// rounded `mul`, where `x` is the synapse-side quantity (if any) and `idx` the synapse's other
/// neuron.
#[derive(Clone, Copy)]
struct Resolved<'x> {
    prefix: Fix,
    var: Option<&'x [Fix]>,
    suffix: [Fix; 2],
    n_suffix: usize,
    weight: bool,
}

/// The terms of one moment resolved for one spike.
enum Plan<'x> {
    /// The common case (pair STDP): one term `prefix · x[idx]` into the weight.
    Single { prefix: Fix, var: &'x [Fix] },
    /// Anything else [`resolvable`].
    Terms(heapless::Vec<Resolved<'x>, MAX_TERMS>),
}

impl<'x> Plan<'x> {
    /// Resolves `terms` (which must be [`resolvable`] at `which`) for a spike of neuron `n` (`i` at a
    /// presynaptic spike, `j` at a postsynaptic one).
    fn resolve(terms: &[Term], which: Which, n: usize, src: &Sources<'x>) -> Plan<'x> {
        let mut out = heapless::Vec::new();
        for t in terms {
            let (pre, post) = (src.pre(t.pre), [src.post(t.post[0]), src.post(t.post[1])]);
            let mut r = Resolved {
                prefix: t.coef,
                var: None,
                suffix: [Fix::ONE; 2],
                n_suffix: 0,
                weight: t.factor == Factor::Weight,
            };
            // The operands in `State::term`'s order; each is event-side (a value now) or
            // synapse-side (the slice).
            let operands = [
                (pre, which == Which::Post),
                (post[0], which == Which::Pre),
                (post[1], which == Which::Pre),
            ];
            for (q, synapse_side) in operands {
                let value = match q {
                    Quantity::Skip => continue,
                    Quantity::Const(c) => c,
                    Quantity::PerNeuron(x) if synapse_side => {
                        r.var = Some(x);
                        continue;
                    }
                    Quantity::PerNeuron(x) => at(x, n),
                };
                if r.var.is_none() {
                    r.prefix = mul(r.prefix, value);
                } else if let Some(s) = r.suffix.get_mut(r.n_suffix) {
                    *s = value;
                    r.n_suffix += 1;
                }
            }
            let _ = out.push(r);
        }
        match out.as_slice() {
            [
                Resolved {
                    prefix,
                    var: Some(var),
                    n_suffix: 0,
                    weight: false,
                    ..
                },
            ] => Plan::Single {
                prefix: *prefix,
                var,
            },
            _ => Plan::Terms(out),
        }
    }

    /// The summed change `Δw` of the synapse to or from neuron `idx` with raw weight `w`.
    #[inline(always)]
    fn delta(&self, idx: usize, w: i32) -> Fix {
        match self {
            Plan::Single { prefix, var } => mul(*prefix, at(var, idx)),
            Plan::Terms(terms) => {
                let mut dw = Fix::ZERO;
                for t in terms {
                    let mut v = t.prefix;
                    if let Some(x) = t.var {
                        v = mul(v, at(x, idx));
                    }
                    for &c in t.suffix.iter().take(t.n_suffix) {
                        v = mul(v, c);
                    }
                    if t.weight {
                        // |w| ≤ 2^15 - 1 fits Q16.16 (as in `State::term`)
                        v = mul(v, Fix::from_bits(w << 16));
                    }
                    dw = dw.saturating_add(v);
                }
                dw
            }
        }
    }
}

impl Bounds {
    /// Hard bounds and rounding to nearest: the update needs no generator.
    fn nearest_hard(&self) -> bool {
        !self.soft && self.rounding == Rounding::Nearest
    }

    /// [`Bounds::update`] when `Δ ≠ 0`, specialised at compile time: with `NEAREST` (the caller
    /// checked [`Bounds::nearest_hard`]) it is the same arithmetic without branches on the mode, and
    /// a zero `Δ` rewrites the weight unchanged (`saturate(w) = w`) instead of skipping it, so the
    /// loop has no data-dependent branch.
    #[inline(always)]
    fn apply<W: Weight, const NEAREST: bool>(&self, w: &mut W, delta: Fix, rng: &mut Rng) {
        if NEAREST {
            let cur = w.get();
            let step = shr_round(delta.to_bits() as i64, 16);
            // (not `clamp`: see `Bounds::update`)
            let new = (cur as i64 + step)
                .max(self.w_min as i64)
                .min(self.w_max as i64) as i32;
            *w = W::saturate(if delta != Fix::ZERO { new } else { cur });
        } else if delta != Fix::ZERO {
            self.update(w, delta, rng);
        }
    }
}

/// The `on_pre` terms on the fast path, as a [`SynapseHook`]: the plan is resolved when the
/// presynaptic neuron changes (once per spike: the projections visit a spike's synapses together).
/// `SINGLE`: the plan is always [`Plan::Single`] (kept unpacked in `prefix`, `var`); `NEAREST`: see
/// [`Bounds::apply`]. Both are chosen once per call, so the synapse loop has no match on them.
struct FastPreHook<'r, 'x, const SINGLE: bool, const NEAREST: bool> {
    terms: &'x [Term],
    src: Sources<'x>,
    bounds: Bounds,
    rng: &'r mut Rng,
    pre: usize,
    plan: Plan<'x>,
    prefix: Fix,
    var: &'x [Fix],
}

impl<'r, 'x, const SINGLE: bool, const NEAREST: bool> FastPreHook<'r, 'x, SINGLE, NEAREST> {
    fn new(terms: &'x [Term], src: Sources<'x>, bounds: Bounds, rng: &'r mut Rng) -> Self {
        FastPreHook {
            terms,
            src,
            bounds,
            rng,
            pre: usize::MAX,
            plan: Plan::Terms(heapless::Vec::new()),
            prefix: Fix::ZERO,
            var: &[],
        }
    }

    /// Resolves the plan for presynaptic neuron `pre` (if not current) and returns the synapse-side
    /// slice of a single-term plan.
    #[inline(always)]
    fn var_for(&mut self, pre: usize) -> &'x [Fix] {
        if pre != self.pre {
            self.plan = Plan::resolve(self.terms, Which::Pre, pre, &self.src);
            if let Plan::Single { prefix, var } = self.plan {
                (self.prefix, self.var) = (prefix, var);
            }
            self.pre = pre;
        }
        self.var
    }

    fn run<W: Weight, P: Synapses<W>>(mut self, proj: &mut P, spikes: &[u16]) {
        proj.accumulate_with(spikes, &mut self);
    }
}

impl<W: Weight, const SINGLE: bool, const NEAREST: bool> SynapseHook<W>
    for FastPreHook<'_, '_, SINGLE, NEAREST>
{
    /// With `SINGLE` and `NEAREST` (pair STDP with nearest rounding) and a synapse-side slice at
    /// least as long as the row: the same per-synapse arithmetic as [`synapse`](Self::synapse) over
    /// zipped slices, with no bounds checks or branches in the loop, so it vectorises.
    #[inline(always)]
    fn dense_row<const SAT: bool>(
        &mut self,
        acc: &mut [i32],
        row: &mut [W],
        pre: usize,
        base: usize,
    ) {
        let n = acc.len().min(row.len());
        if !(SINGLE && NEAREST) || self.var_for(pre).len() < n {
            crate::projection::add_row::<W, Self, SAT>(acc, row, pre, base, self);
            return;
        }
        let (prefix, bounds) = (self.prefix, self.bounds);
        let var = self.var.get(..n).unwrap_or_default();
        let (acc, row) = (
            acc.get_mut(..n).unwrap_or_default(),
            row.get_mut(..n).unwrap_or_default(),
        );
        for ((a, w), &x) in acc.iter_mut().zip(row.iter_mut()).zip(var) {
            *a = if SAT {
                a.saturating_add(w.get())
            } else {
                a.wrapping_add(w.get())
            };
            bounds.apply::<W, true>(w, mul(prefix, x), self.rng);
        }
    }

    #[inline(always)]
    fn synapse(&mut self, pre: usize, post: usize, _k: usize, w: &mut W) {
        self.var_for(pre);
        let dw = if SINGLE {
            mul(self.prefix, at(self.var, post))
        } else {
            self.plan.delta(post, w.get())
        };
        self.bounds.apply::<W, NEAREST>(w, dw, self.rng);
    }
}

/// The `on_post` terms on the fast path for the postsynaptic spikes `post` (see [`FastPreHook`]
/// for `SINGLE` and `NEAREST`).
#[inline(always)]
fn fast_post<W: Weight, P: Synapses<W>, const SINGLE: bool, const NEAREST: bool>(
    proj: &mut P,
    terms: &[Term],
    src: &Sources<'_>,
    bounds: Bounds,
    rng: &mut Rng,
    post: &[u16],
) {
    for &j in post {
        let plan = Plan::resolve(terms, Which::Post, j as usize, src);
        match (SINGLE, &plan) {
            (true, &Plan::Single { prefix, var }) => {
                proj.for_each_incoming(j as usize, |i, _k, w| {
                    bounds.apply::<W, NEAREST>(w, mul(prefix, at(var, i)), rng);
                });
            }
            _ => {
                proj.for_each_incoming(j as usize, |i, _k, w| {
                    let dw = plan.delta(i, w.get());
                    bounds.apply::<W, NEAREST>(w, dw, rng);
                });
            }
        }
    }
}

/// Whether `terms` (which must be [`resolvable`] at `which`) always resolve to [`Plan::Single`]: the
/// shape of a plan does not depend on the spiking neuron, only on the kinds of the quantities.
fn single(terms: &[Term], which: Which, src: &Sources<'_>) -> bool {
    matches!(Plan::resolve(terms, which, 0, src), Plan::Single { .. })
}

impl<'a, W: Weight, P: Synapses<W>> Plastic<'a, W, P> {
    /// A plastic projection. `rule` must have been compiled for `proj`'s scale and storage type;
    /// `storage` must match the rule (trace counts, eligibility, θ) and the projection's sizes; a
    /// rule that acts on postsynaptic spikes needs post→pre access (a sparse projection needs an
    /// [`Incoming`](crate::projection::Incoming) index). `seed` drives stochastic rounding.
    pub fn new(
        proj: P,
        rule: Rule,
        storage: RuleStorage<'a>,
        seed: u64,
    ) -> Result<Self, ConfigError> {
        let (n_pre, n_post) = (proj.n_pre(), proj.n_post());
        let (tp, tq) = rule.traces();
        check_len("presynaptic traces", tp * n_pre, storage.pre_traces.len())?;
        check_len(
            "postsynaptic traces",
            tq * n_post,
            storage.post_traces.len(),
        )?;
        let ne = if rule.has_eligibility() {
            proj.n_synapses()
        } else {
            0
        };
        check_len("eligibility traces", ne, storage.eligibility.len())?;
        check_len(
            "BCM thresholds",
            if rule.has_theta() { n_post } else { 0 },
            storage.theta.len(),
        )?;
        if rule.acts_on_post() && !proj.has_incoming() {
            return Err(ConfigError::Invalid {
                what: "rule acts on postsynaptic spikes but the projection has no post->pre index",
            });
        }
        storage.pre_traces.fill(Fix::ZERO);
        storage.post_traces.fill(Fix::ZERO);
        storage.eligibility.fill(Fix::ZERO);
        storage.theta.fill(Fix::ZERO);
        Ok(Plastic {
            proj,
            st: State {
                rule,
                pre_tr: storage.pre_traces,
                post_tr: storage.post_traces,
                elig: storage.eligibility,
                theta: storage.theta,
                n_pre,
                n_post,
                rng: Rng::stream(seed, 0x005E_ED0F_7275_6C65),
            },
            since_tick: 0,
            #[cfg(test)]
            reference: false,
            _w: PhantomData,
        })
    }

    /// Step 1: transmits `pre_spikes` into `target` (see [`SpikeProjection::propagate`](crate::projection::SpikeProjection::propagate)) while
    /// applying the `on_pre` terms to the synapses they cross.
    pub fn propagate(&mut self, pre_spikes: &[u16], target: &mut [Fix], sig: &Signals<'_>) {
        if self.st.rule.on_pre.is_empty() {
            self.proj.accumulate(pre_spikes);
        } else if resolvable(&self.st.rule.on_pre, Which::Pre) && !self.reference() {
            let (rule, src, rng) = Sources::split(&mut self.st, sig);
            let (t, b) = (&rule.on_pre[..], Bounds::of(rule));
            let p = &mut self.proj;
            match (single(t, Which::Pre, &src), b.nearest_hard()) {
                (true, true) => FastPreHook::<true, true>::new(t, src, b, rng).run(p, pre_spikes),
                (true, false) => FastPreHook::<true, false>::new(t, src, b, rng).run(p, pre_spikes),
                (false, true) => FastPreHook::<false, true>::new(t, src, b, rng).run(p, pre_spikes),
                (false, false) => {
                    FastPreHook::<false, false>::new(t, src, b, rng).run(p, pre_spikes)
                }
            }
        } else {
            let mut hook = PreHook {
                st: &mut self.st,
                sig,
            };
            self.proj.accumulate_with(pre_spikes, &mut hook);
        }
        self.proj.deliver(target);
    }

    /// Step 3: after the postsynaptic population has stepped. `pre_spikes` are the spikes given to
    /// [`propagate`](Self::propagate) this step, `post_spikes` the postsynaptic population's.
    pub fn learn(&mut self, pre_spikes: &[u16], post_spikes: &[u16], sig: &Signals<'_>) {
        let reference = self.reference();
        let st = &mut self.st;
        bump(&st.rule.pre_traces, st.pre_tr, st.n_pre, pre_spikes);
        if !st.rule.on_post.is_empty() && resolvable(&st.rule.on_post, Which::Post) && !reference {
            let (rule, src, rng) = Sources::split(st, sig);
            let (t, b) = (&rule.on_post[..], Bounds::of(rule));
            let (p, s) = (&mut self.proj, post_spikes);
            match (single(t, Which::Post, &src), b.nearest_hard()) {
                (true, true) => fast_post::<W, P, true, true>(p, t, &src, b, rng, s),
                (true, false) => fast_post::<W, P, true, false>(p, t, &src, b, rng, s),
                (false, true) => fast_post::<W, P, false, true>(p, t, &src, b, rng, s),
                (false, false) => fast_post::<W, P, false, false>(p, t, &src, b, rng, s),
            }
        } else if !st.rule.on_post.is_empty() {
            for &j in post_spikes {
                let j = j as usize;
                self.proj
                    .for_each_incoming(j, |i, k, w| st.apply(Which::Post, i, j, k, w, sig));
            }
        }
        bump(&st.rule.post_traces, st.post_tr, st.n_post, post_spikes);
        if let Some(g) = st.rule.theta_gain {
            for (j, th) in st.theta.iter_mut().enumerate() {
                let y = at(sig.post_rate, j);
                let y2 = mul(y, y);
                *th = th.saturating_add(g.mul(y2.saturating_sub(*th)));
            }
        }
        self.since_tick += 1;
        if self.since_tick >= st.rule.period {
            self.since_tick = 0;
            let decay = st.rule.elig_decay;
            if !st.rule.tick.is_empty() || decay.is_some() {
                let has_tick = !st.rule.tick.is_empty();
                self.proj.for_each(|i, j, k, w| {
                    if let (Some(d), Some(e)) = (decay, st.elig.get_mut(k)) {
                        *e = d.mul(*e);
                    }
                    if has_tick {
                        st.apply(Which::Tick, i, j, k, w, sig);
                    }
                });
            }
        }
        decay_all(&st.rule.pre_traces, st.pre_tr, st.n_pre);
        decay_all(&st.rule.post_traces, st.post_tr, st.n_post);
    }

    /// Whether to skip the fast path (tests: the reference run).
    #[inline(always)]
    fn reference(&self) -> bool {
        #[cfg(test)]
        return self.reference;
        #[cfg(not(test))]
        false
    }

    /// The compiled rule.
    pub fn rule(&self) -> &Rule {
        &self.st.rule
    }

    /// Presynaptic trace `k` of every neuron.
    pub fn pre_trace(&self, k: usize) -> &[Fix] {
        self.st
            .pre_tr
            .get(k * self.st.n_pre..(k + 1) * self.st.n_pre)
            .unwrap_or_default()
    }

    /// Postsynaptic trace `k` of every neuron.
    pub fn post_trace(&self, k: usize) -> &[Fix] {
        self.st
            .post_tr
            .get(k * self.st.n_post..(k + 1) * self.st.n_post)
            .unwrap_or_default()
    }

    /// Eligibility traces, in weight order (empty if the rule has none).
    pub fn eligibility(&self) -> &[Fix] {
        self.st.elig
    }

    /// BCM thresholds (empty if the rule has none).
    pub fn theta(&self) -> &[Fix] {
        self.st.theta
    }

    /// The stochastic-rounding generator (its state is part of the learned state).
    pub fn rng(&self) -> &Rng {
        &self.st.rng
    }

    /// Steps since the last tick sweep (`0..period`; part of the state: it fixes when the next
    /// sweep runs).
    pub fn since_tick(&self) -> u16 {
        self.since_tick
    }
}

/// Applies spikes to trace-major traces (`MAX_TRACES` at most).
fn bump(
    traces: &heapless::Vec<crate::trace::Trace, MAX_TRACES>,
    xs: &mut [Fix],
    n: usize,
    spikes: &[u16],
) {
    for (k, tr) in traces.iter().enumerate() {
        let Some(x) = xs.get_mut(k * n..(k + 1) * n) else {
            continue;
        };
        for &s in spikes {
            if let Some(v) = x.get_mut(s as usize) {
                *v = tr.bumped(*v);
            }
        }
    }
}

/// Decays trace-major traces by one step.
fn decay_all(traces: &heapless::Vec<crate::trace::Trace, MAX_TRACES>, xs: &mut [Fix], n: usize) {
    for (k, tr) in traces.iter().enumerate() {
        if let Some(x) = xs.get_mut(k * n..(k + 1) * n) {
            tr.decay_all(x);
        }
    }
}

#[cfg(test)]
mod fast_path_tests {
    //! The fast path against the general one: same weights, traces and generator state, bit for bit.
    use super::*;
    use crate::num::Rounding;
    use crate::projection::{Csr, Dense, Incoming, Sparse, fixed_probability};
    use crate::rule::{Pairing, RuleParams, TripletParams, WeightFormat};
    use std::vec;
    use std::vec::Vec;

    const N_PRE: usize = 40;
    const N_POST: usize = 24;

    fn leak<T>(v: Vec<T>) -> &'static mut [T] {
        v.leak()
    }

    fn rule(p: &RuleParams, rounding: Rounding) -> (Rule, WeightFormat) {
        let fmt = WeightFormat {
            rounding,
            ..WeightFormat::new(16, 0.0, 1.0)
        };
        (
            Rule::new::<i16>(p, &fmt, fmt.scale().unwrap(), 1.0).unwrap(),
            fmt,
        )
    }

    fn storage(r: &Rule, n_syn: usize) -> RuleStorage<'static> {
        let (tp, tq) = r.traces();
        RuleStorage {
            pre_traces: leak(vec![Fix::ZERO; tp * N_PRE]),
            post_traces: leak(vec![Fix::ZERO; tq * N_POST]),
            eligibility: leak(vec![Fix::ZERO; if r.has_eligibility() { n_syn } else { 0 }]),
            theta: leak(vec![Fix::ZERO; if r.has_theta() { N_POST } else { 0 }]),
        }
    }

    fn dense(
        p: &RuleParams,
        rounding: Rounding,
        reference: bool,
    ) -> Plastic<'static, i16, Dense<'static, i16>> {
        let (r, fmt) = rule(p, rounding);
        let mut rng = Rng::new(3);
        // Include weights outside the bounds (negative) so a zero change must leave them alone.
        let w = leak(
            (0..N_PRE * N_POST)
                .map(|_| (rng.below(33_000) as i32 - 600) as i16)
                .collect(),
        );
        let proj = Dense::new(
            N_PRE,
            N_POST,
            w,
            leak(vec![0; N_POST]),
            fmt.scale().unwrap(),
        )
        .unwrap();
        let st = storage(&r, N_PRE * N_POST);
        let mut p = Plastic::new(proj, r, st, 9).unwrap();
        p.reference = reference;
        p
    }

    fn sparse(
        p: &RuleParams,
        rounding: Rounding,
        reference: bool,
    ) -> Plastic<'static, i16, Sparse<'static, i16>> {
        let (r, fmt) = rule(p, rounding);
        let mut rng = Rng::new(4);
        let row_end = leak(vec![0u32; N_PRE]);
        let cols = leak(vec![0u16; N_PRE * N_POST]);
        let prob = crate::num::Frac::from_f32("p", 0.3).unwrap();
        let nnz = fixed_probability(N_PRE, N_POST, prob, true, &mut rng, row_end, cols).unwrap();
        let cols: &'static [u16] = &cols[..nnz];
        let csr = Csr::new(N_POST, row_end, cols).unwrap();
        let inc = Incoming::build(
            &csr,
            leak(vec![0; N_POST]),
            leak(vec![0; nnz]),
            leak(vec![0; nnz]),
        )
        .unwrap();
        let w = leak((0..nnz).map(|_| rng.below(32_768) as i16).collect());
        let proj = Sparse::new(csr, w, leak(vec![0; N_POST]), fmt.scale().unwrap())
            .unwrap()
            .with_incoming(inc)
            .unwrap();
        let st = storage(&r, nnz);
        let mut p = Plastic::new(proj, r, st, 9).unwrap();
        p.reference = reference;
        p
    }

    /// Runs 300 steps of random pre and post spikes (with a modulator and rates) and returns every
    /// output: the delivered inputs, the weights, the traces and the generator.
    fn run<P: Synapses<i16>>(
        mut p: Plastic<'static, i16, P>,
        weights: impl Fn(&P) -> Vec<i16>,
    ) -> (Vec<Fix>, Vec<i16>, Vec<Fix>, Rng) {
        let mut rng = Rng::new(17);
        let rates: Vec<Fix> = (0..N_POST.max(N_PRE)).map(|_| rng.uniform()).collect();
        let mut target = vec![Fix::ZERO; N_POST];
        let mut delivered = Vec::new();
        for t in 0..300 {
            let pre: Vec<u16> = (0..N_PRE as u16).filter(|_| rng.below(4) == 0).collect();
            let post: Vec<u16> = (0..N_POST as u16).filter(|_| rng.below(5) == 0).collect();
            let sig = Signals {
                pre_rate: &rates,
                post_rate: &rates,
                post_signal: &rates[1..],
                post_gate: &rates[..3],
                modulator: Fix::from_num(0.25 + (t % 7) as f32 * 0.1),
            };
            p.propagate(&pre, &mut target, &sig);
            delivered.extend_from_slice(&target);
            p.learn(&pre, &post, &sig);
        }
        let mut traces = p.pre_trace(0).to_vec();
        traces.extend_from_slice(p.post_trace(0));
        (delivered, weights(&p.proj), traces, p.rng().clone())
    }

    fn rules() -> Vec<RuleParams> {
        let pair = RuleParams::pair_stdp(0.01, 0.0105, 20.0, 20.0, Pairing::AllToAll);
        let nearest = RuleParams::pair_stdp(0.01, 0.0105, 20.0, 20.0, Pairing::Nearest);
        let triplet =
            RuleParams::triplet(TripletParams::visual_cortex_all_to_all(), Pairing::AllToAll);
        // Modulated, rate- and weight-dependent terms: prefix constants, suffix constants, the
        // weight factor, two terms per moment.
        let mut mixed = pair.clone();
        let _ = mixed.on_pre.push(
            super::super::TermParams::new(0.02, Pre::Trace(0), [Post::Modulator, Post::Rate])
                .times(Factor::Weight),
        );
        let _ = mixed.on_post.push(super::super::TermParams::new(
            -0.03,
            Pre::Rate,
            [Post::Signal, Post::Gate],
        ));
        vec![pair, nearest, triplet, mixed]
    }

    #[test]
    fn fast_path_matches_the_general_path_bit_for_bit() {
        for p in rules() {
            for rounding in [Rounding::Nearest, Rounding::Stochastic] {
                let d = |r| {
                    run(dense(&p, rounding, r), |x: &Dense<i16>| {
                        x.weights().to_vec()
                    })
                };
                let (fast, reference) = (d(false), d(true));
                assert_eq!(fast, reference, "dense {p:?} {rounding:?}");
                // Learning happened.
                assert_ne!(
                    fast.1,
                    run(
                        dense(&RuleParams::empty(), rounding, false),
                        |x: &Dense<i16>| x.weights().to_vec()
                    )
                    .1
                );
                let s = |r| {
                    run(sparse(&p, rounding, r), |x: &Sparse<i16>| {
                        x.weights().to_vec()
                    })
                };
                assert_eq!(s(false), s(true), "sparse {p:?} {rounding:?}");
            }
        }
    }
}
