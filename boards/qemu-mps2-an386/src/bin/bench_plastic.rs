//! Micro-benchmarks of the learning rules: instructions per plastic synapse update, per rule and per
//! moment of the applier ([`Plastic`]), next to the static synapse of the same projection. Counted
//! with SysTick under `-icount shift=0` (see `Counter`); a separate program from `bench` so that each
//! gets the micro:bit's whole 16 KiB.
//!
//! Output: `bench plastic.<key> <instructions> <units>` lines (units: synapse updates), read by
//! `cargo xtask qemu` as `bench.plastic.<key>`. What each key counts:
//! - `static.<kind>`: `accumulate` of the same `i16` projection with no rule (per synapse per spike);
//! - `<rule>-pre.<kind>`: the `on_pre` terms fused into propagation — `Plastic::propagate` minus a
//!   `deliver` alone (per synapse a presynaptic spike crosses: transmission *and* the rule);
//! - `<rule>-post.<kind>`: the `on_post` terms — `Plastic::learn` with postsynaptic spikes minus the
//!   same call without them (per incoming synapse of a spiking neuron; includes the spike's trace
//!   bump, amortised over the neuron's synapses);
//! - `<rule>-tick.<kind>`: the tick sweep (eligibility decay and the tick terms) — `learn` at a tick
//!   step minus `learn` at a step without one (per synapse of the projection).
//!
//! Every rule runs on realistic values: traces are warmed up by a few steps in which every neuron
//! fires, rates, signals and the modulator are non-zero, so every term is non-zero and every weight
//! update goes through rounding and clamping (an update whose change is zero is skipped by the
//! applier and would be cheaper). Rounding modes are the experiments': nearest for STDP and triplet
//! STDP (Song 2000, Pfister & Gerstner), nearest for reward-modulated STDP (Izhikevich 2007),
//! stochastic for Oja, PES and e-prop. The tick rules run with a tick period of 2 here (10 for
//! reward-modulated STDP, as published): the cost of one sweep does not depend on the period.
#![no_std]
#![no_main]

use engram::Fix;
use engram::num::{Frac, Rng, Rounding};
use engram::projection::{
    Csr, Dense, Incoming, Sparse, SpikeProjection, Synapses, fixed_probability,
};
use engram::rule::{
    Pairing, Plastic, Pre, Rule, RuleParams, RuleStorage, Signals, TripletParams, WeightFormat,
};
use engram::trace::{TraceMode, TraceParams};
use engram_qemu_mps2_an386::{self as fw, Counter, instructions};
use static_cell::ConstStaticCell;

const MICRO: bool = cfg!(feature = "microbit");
/// Dense projection `DP × DQ`.
const DP: usize = if MICRO { 32 } else { 128 };
const DQ: usize = if MICRO { 16 } else { 128 };
/// Sparse projection `SP × SQ` at p = 1/8 (micro:bit) or 1/16, with a post→pre index.
const SP: usize = if MICRO { 32 } else { 256 };
const SQ: usize = if MICRO { 64 } else { 1024 };
const SCAP: usize = if MICRO { 400 } else { 24_640 };
/// Largest side and largest synapse count (shared trace, target and eligibility storage).
const MAXN: usize = if SQ > DQ { SQ } else { DQ };
const MAXS: usize = if SCAP > DP * DQ { SCAP } else { DP * DQ };
/// Every `STRIDE`-th neuron spikes in a measured step.
const STRIDE: usize = 8;
/// Measured repetitions.
const REPS: usize = 20;

struct Store {
    dw: [i16; DP * DQ],
    dacc: [i32; DQ],
    row_end: [u32; SP],
    cols: [u16; SCAP],
    sw: [i16; SCAP],
    sacc: [i32; SQ],
    col_end: [u32; SQ],
    in_pre: [u16; SCAP],
    in_pos: [u32; SCAP],
    pre: [Fix; 2 * MAXN],
    post: [Fix; 2 * MAXN],
    elig: [Fix; MAXS],
    target: [Fix; MAXN],
}

/// Rates, per-neuron signals and gates for the rules (a separate cell: borrowed while `Store` is).
struct Sig {
    rates: [Fix; MAXN],
    signal: [Fix; MAXN],
    gate: [Fix; MAXN],
}

static STORE: ConstStaticCell<Store> = ConstStaticCell::new(Store {
    dw: [0; DP * DQ],
    dacc: [0; DQ],
    row_end: [0; SP],
    cols: [0; SCAP],
    sw: [0; SCAP],
    sacc: [0; SQ],
    col_end: [0; SQ],
    in_pre: [0; SCAP],
    in_pos: [0; SCAP],
    pre: [Fix::ZERO; 2 * MAXN],
    post: [Fix::ZERO; 2 * MAXN],
    elig: [Fix::ZERO; MAXS],
    target: [Fix::ZERO; MAXN],
});

static SIG: ConstStaticCell<Sig> = ConstStaticCell::new(Sig {
    rates: [Fix::ZERO; MAXN],
    signal: [Fix::ZERO; MAXN],
    gate: [Fix::ZERO; MAXN],
});

/// The value, or exit with the configuration error.
fn ok<T>(r: Result<T, engram::ConfigError>) -> T {
    r.unwrap_or_else(|e| fw::fail_config(e))
}

fn report(key: &str, instr: u64, units: usize) {
    defmt::println!(
        "bench plastic.{=str} {=u64} {=u64}",
        key,
        instr,
        units as u64
    );
}

/// Every `STRIDE`-th index below `n`, into `buf`.
fn every_nth(n: usize, buf: &mut [u16; MAXN]) -> &[u16] {
    let mut k = 0;
    for (i, slot) in (0..n).step_by(STRIDE).zip(buf.iter_mut()) {
        *slot = i as u16;
        k += 1;
    }
    buf.get(..k).unwrap_or_default()
}

/// All indices below `n`, into `buf`.
fn all(n: usize, buf: &mut [u16; MAXN]) -> &[u16] {
    for (i, slot) in buf.iter_mut().enumerate() {
        *slot = i as u16;
    }
    buf.get(..n).unwrap_or_default()
}

/// A few steps in which every neuron on both sides fires: every trace becomes non-zero.
fn warm_up<P: Synapses<i16>>(pl: &mut Plastic<'_, i16, P>, target: &mut [Fix], sig: &Signals<'_>) {
    let (mut a, mut b) = ([0u16; MAXN], [0u16; MAXN]);
    let pre = all(pl.proj.n_pre(), &mut a);
    let post = all(pl.proj.n_post(), &mut b);
    for _ in 0..4 {
        pl.propagate(pre, target, sig);
        pl.learn(pre, post, sig);
    }
}

/// `accumulate` of the projection with no rule, per synapse per spike.
fn static_synapse<P: SpikeProjection>(key: &str, p: &mut P, spikes: &[u16], syn: usize) {
    let mut c = Counter::new();
    c.clear();
    for _ in 0..REPS {
        c.reset();
        p.accumulate(spikes);
        c.lap();
        p.deliver(&mut []);
    }
    report(key, instructions(c.ticks()), syn * REPS);
}

/// `propagate` minus `deliver` alone: the on_pre terms fused into transmission, per synapse.
fn on_pre<P: Synapses<i16>>(
    key: &str,
    pl: &mut Plastic<'_, i16, P>,
    spikes: &[u16],
    syn: usize,
    target: &mut [Fix],
    sig: &Signals<'_>,
) {
    let (mut c, mut d) = (Counter::new(), Counter::new());
    c.clear();
    d.clear();
    for _ in 0..REPS {
        c.reset();
        pl.propagate(spikes, target, sig);
        c.lap();
        d.reset();
        pl.proj.deliver(target);
        d.lap();
    }
    let i = instructions(c.ticks()).saturating_sub(instructions(d.ticks()));
    report(key, i, syn * REPS);
}

/// `learn` with postsynaptic spikes minus `learn` without, per incoming synapse of a spiking neuron.
/// Calls that would run the tick sweep (`period`) are made outside the measured windows.
fn on_post<P: Synapses<i16>>(
    key: &str,
    pl: &mut Plastic<'_, i16, P>,
    period: u16,
    spikes: &[u16],
    syn: usize,
    sig: &Signals<'_>,
) {
    let (mut c, mut d) = (Counter::new(), Counter::new());
    c.clear();
    d.clear();
    for _ in 0..REPS {
        for (counter, post) in [(&mut c, spikes), (&mut d, &[][..])] {
            if pl.since_tick() + 1 >= period {
                pl.learn(&[], &[], sig);
            }
            counter.reset();
            pl.learn(&[], post, sig);
            counter.lap();
        }
    }
    let i = instructions(c.ticks()).saturating_sub(instructions(d.ticks()));
    report(key, i, syn * REPS);
}

/// `learn` at a tick step minus the mean `learn` at other steps, per synapse of the projection.
fn tick<P: Synapses<i16>>(key: &str, pl: &mut Plastic<'_, i16, P>, period: u16, sig: &Signals<'_>) {
    let (mut c, mut d) = (Counter::new(), Counter::new());
    c.clear();
    d.clear();
    let (mut ticks, mut others) = (0u64, 0u64);
    for _ in 0..REPS * period as usize {
        let ticking = pl.since_tick() + 1 >= period;
        let counter = if ticking { &mut c } else { &mut d };
        counter.reset();
        pl.learn(&[], &[], sig);
        counter.lap();
        if ticking {
            ticks += 1;
        } else {
            others += 1;
        }
    }
    let base = instructions(d.ticks()) * ticks / others.max(1);
    let i = instructions(c.ticks()).saturating_sub(base);
    report(key, i, pl.proj.n_synapses() * ticks as usize);
}

/// Weights in `[0, 1]` (STDP), 16 bits, with `rounding`.
fn unit_format(rounding: Rounding) -> WeightFormat {
    WeightFormat {
        rounding,
        ..WeightFormat::new(16, 0.0, 1.0)
    }
}

/// Weights in `[−2, 2]` (Oja, PES, e-prop), 16 bits, stochastic rounding.
fn signed_format() -> WeightFormat {
    WeightFormat {
        rounding: Rounding::Stochastic,
        ..WeightFormat::new(16, -2.0, 2.0)
    }
}

fn stdp() -> RuleParams {
    RuleParams::pair_stdp(0.005, 0.00525, 20.0, 20.0, Pairing::AllToAll)
}

fn rstdp() -> RuleParams {
    RuleParams::reward_modulated(stdp(), 1000.0, 0.1, 10)
}

fn triplet() -> RuleParams {
    RuleParams::triplet(TripletParams::visual_cortex_all_to_all(), Pairing::AllToAll)
}

fn with_period(mut r: RuleParams, period: u16) -> RuleParams {
    r.period = period;
    r
}

fn oja() -> RuleParams {
    with_period(RuleParams::oja(1e-3), 2)
}

fn pes() -> RuleParams {
    let trace = TraceParams {
        tau_ms: 10.0,
        impulse: 1.0,
        mode: TraceMode::Accumulate,
    };
    with_period(RuleParams::pes(3e-3, Pre::Trace(0), Some(trace)), 2)
}

fn eprop() -> RuleParams {
    with_period(RuleParams::eprop(1e-3, 20.0, 20.0, 1.0), 2)
}

/// A plastic dense `DP × DQ` projection on `s` with `rule` (weights `U`-random in the format's
/// range), its traces and eligibility sized for the rule.
fn dense<'a>(
    s: &'a mut Store,
    p: &RuleParams,
    fmt: &WeightFormat,
    rng: &mut Rng,
) -> (Plastic<'a, i16, Dense<'a, i16>>, &'a mut [Fix]) {
    let scale = ok(fmt.scale());
    let rule = ok(Rule::new::<i16>(p, fmt, scale, 1.0));
    let (lo, hi) = rule.bounds();
    for w in s.dw.iter_mut() {
        *w = (lo + (rng.below((hi - lo) as u32) as i32)) as i16;
    }
    let (tp, tq) = rule.traces();
    let ne = if rule.has_eligibility() { DP * DQ } else { 0 };
    let proj = ok(Dense::new(DP, DQ, &mut s.dw, &mut s.dacc, scale));
    let st = RuleStorage {
        pre_traces: s.pre.get_mut(..tp * DP).unwrap_or_default(),
        post_traces: s.post.get_mut(..tq * DQ).unwrap_or_default(),
        eligibility: s.elig.get_mut(..ne).unwrap_or_default(),
        theta: &mut [],
    };
    let pl = ok(Plastic::new(proj, rule, st, 1));
    (pl, s.target.get_mut(..DQ).unwrap_or_default())
}

/// A plastic sparse `SP × SQ` projection on `s` (topology drawn once in `main`), with a post→pre
/// index.
fn sparse<'a>(
    s: &'a mut Store,
    nnz: usize,
    p: &RuleParams,
    fmt: &WeightFormat,
    rng: &mut Rng,
) -> (Plastic<'a, i16, Sparse<'a, i16>>, &'a mut [Fix]) {
    let scale = ok(fmt.scale());
    let rule = ok(Rule::new::<i16>(p, fmt, scale, 1.0));
    let (lo, hi) = rule.bounds();
    let (w, _) = s.sw.split_at_mut(nnz);
    for x in w.iter_mut() {
        *x = (lo + (rng.below((hi - lo) as u32) as i32)) as i16;
    }
    let (cols, _) = s.cols.split_at(nnz);
    let csr = ok(Csr::new(SQ, &s.row_end, cols));
    let (in_pre, _) = s.in_pre.split_at_mut(nnz);
    let (in_pos, _) = s.in_pos.split_at_mut(nnz);
    let inc = ok(Incoming::build(&csr, &mut s.col_end, in_pre, in_pos));
    let proj = ok(ok(Sparse::new(csr, w, &mut s.sacc, scale)).with_incoming(inc));
    let (tp, tq) = rule.traces();
    let ne = if rule.has_eligibility() { nnz } else { 0 };
    let st = RuleStorage {
        pre_traces: s.pre.get_mut(..tp * SP).unwrap_or_default(),
        post_traces: s.post.get_mut(..tq * SQ).unwrap_or_default(),
        eligibility: s.elig.get_mut(..ne).unwrap_or_default(),
        theta: &mut [],
    };
    let pl = ok(Plastic::new(proj, rule, st, 1));
    (pl, s.target.get_mut(..SQ).unwrap_or_default())
}

#[cortex_m_rt::entry]
fn main() -> ! {
    let p = fw::peripherals();
    fw::start_systick(p.SYST);
    let mut rng = Rng::new(3);
    let s = STORE.take();
    // Signals: rates, per-neuron signals and gates in (0.25, 0.75), a modulator of 0.5.
    let g = SIG.take();
    for x in g.rates.iter_mut().chain(&mut g.signal).chain(&mut g.gate) {
        *x = Fix::from_bits(1 << 14) + rng.uniform() / 2;
    }
    let sig = Signals {
        pre_rate: &g.rates,
        post_rate: &g.rates,
        post_signal: &g.signal,
        post_gate: &g.gate,
        modulator: Fix::from_bits(1 << 15),
    };

    // Sparse topology: fixed probability, drawn once.
    let p_conn = ok(Frac::from_f32(
        "p",
        if MICRO { 1.0 / 8.0 } else { 1.0 / 16.0 },
    ));
    let nnz = ok(fixed_probability(
        SP,
        SQ,
        p_conn,
        true,
        &mut rng,
        &mut s.row_end,
        &mut s.cols,
    ));
    let (mut pre_buf, mut post_buf) = ([0u16; MAXN], [0u16; MAXN]);
    // Dense: every 8th presynaptic neuron spikes (DQ synapses each); every 8th postsynaptic
    // neuron spikes (DP incoming synapses each).
    let d_pre = every_nth(DP, &mut pre_buf).len();
    let d_post = every_nth(DQ, &mut post_buf).len();
    let (d_pre_syn, d_post_syn) = (d_pre * DQ, d_post * DP);
    // Sparse: the synapses those spikes cross / reach.
    let s_pre = every_nth(SP, &mut pre_buf);
    let s_pre_syn: usize = {
        let csr = ok(Csr::new(
            SQ,
            &s.row_end,
            s.cols.get(..nnz).unwrap_or_default(),
        ));
        s_pre
            .iter()
            .map(|&i| csr.row(i as usize).map_or(0, <[u16]>::len))
            .sum()
    };
    let s_post_syn = s
        .cols
        .get(..nnz)
        .unwrap_or_default()
        .iter()
        .filter(|&&j| j as usize % STRIDE == 0)
        .count();
    defmt::info!(
        "dense {=usize}x{=usize}; sparse {=usize}x{=usize}, {=usize} synapses",
        DP,
        DQ,
        SP,
        SQ,
        nnz
    );

    // Pair STDP (and the static synapse of the same projections).
    {
        let (mut pl, target) = dense(s, &stdp(), &unit_format(Rounding::Nearest), &mut rng);
        static_synapse(
            "static.dense-i16",
            &mut pl.proj,
            every_nth(DP, &mut pre_buf),
            d_pre_syn,
        );
        warm_up(&mut pl, target, &sig);
        on_pre(
            "stdp-pre.dense",
            &mut pl,
            every_nth(DP, &mut pre_buf),
            d_pre_syn,
            target,
            &sig,
        );
        on_post(
            "stdp-post.dense",
            &mut pl,
            1,
            every_nth(DQ, &mut post_buf),
            d_post_syn,
            &sig,
        );
    }
    {
        let (mut pl, target) = sparse(s, nnz, &stdp(), &unit_format(Rounding::Nearest), &mut rng);
        static_synapse(
            "static.sparse-i16",
            &mut pl.proj,
            every_nth(SP, &mut pre_buf),
            s_pre_syn,
        );
        warm_up(&mut pl, target, &sig);
        on_pre(
            "stdp-pre.sparse",
            &mut pl,
            every_nth(SP, &mut pre_buf),
            s_pre_syn,
            target,
            &sig,
        );
        on_post(
            "stdp-post.sparse",
            &mut pl,
            1,
            every_nth(SQ, &mut post_buf),
            s_post_syn,
            &sig,
        );
    }
    // Triplet STDP (Pfister & Gerstner, visual cortex, all-to-all: 2 on_pre terms, 1 on_post).
    {
        let (mut pl, target) = dense(s, &triplet(), &unit_format(Rounding::Nearest), &mut rng);
        warm_up(&mut pl, target, &sig);
        on_pre(
            "triplet-pre.dense",
            &mut pl,
            every_nth(DP, &mut pre_buf),
            d_pre_syn,
            target,
            &sig,
        );
        on_post(
            "triplet-post.dense",
            &mut pl,
            1,
            every_nth(DQ, &mut post_buf),
            d_post_syn,
            &sig,
        );
    }
    // Reward-modulated STDP (Izhikevich 2007): STDP into the eligibility, tick every 10 steps.
    {
        let (mut pl, target) = sparse(s, nnz, &rstdp(), &unit_format(Rounding::Nearest), &mut rng);
        warm_up(&mut pl, target, &sig);
        on_pre(
            "rstdp-pre.sparse",
            &mut pl,
            every_nth(SP, &mut pre_buf),
            s_pre_syn,
            target,
            &sig,
        );
        on_post(
            "rstdp-post.sparse",
            &mut pl,
            10,
            every_nth(SQ, &mut post_buf),
            s_post_syn,
            &sig,
        );
        tick("rstdp-tick.sparse", &mut pl, 10, &sig);
    }
    {
        let (mut pl, target) = dense(s, &rstdp(), &unit_format(Rounding::Nearest), &mut rng);
        warm_up(&mut pl, target, &sig);
        tick("rstdp-tick.dense", &mut pl, 10, &sig);
    }
    // Rate and error-driven rules: one tick sweep over every synapse.
    {
        let (mut pl, target) = dense(s, &oja(), &signed_format(), &mut rng);
        warm_up(&mut pl, target, &sig);
        tick("oja-tick.dense", &mut pl, 2, &sig);
    }
    {
        let (mut pl, target) = dense(s, &pes(), &signed_format(), &mut rng);
        warm_up(&mut pl, target, &sig);
        tick("pes-tick.dense", &mut pl, 2, &sig);
    }
    {
        let (mut pl, target) = dense(s, &eprop(), &signed_format(), &mut rng);
        warm_up(&mut pl, target, &sig);
        tick("eprop-tick.dense", &mut pl, 2, &sig);
    }
    {
        let (mut pl, target) = sparse(s, nnz, &eprop(), &signed_format(), &mut rng);
        warm_up(&mut pl, target, &sig);
        tick("eprop-tick.sparse", &mut pl, 2, &sig);
    }
    fw::exit(0)
}
