//! Cost of the learning-rule applier on the host, per plastic synapse touched.
//!
//! One projection of 1000 × 1000 neurons, dense (10⁶ synapses) or sparse with connection probability
//! 0.1 (≈ 10⁵ synapses, with the post→pre index), `i16` weights in `[0, 1]`, 16 bits, nearest
//! rounding. 10 % of the presynaptic and 10 % of the postsynaptic neurons spike (fixed random sets).
//! Each benchmark reports `Throughput::Elements` = synapses touched, so criterion's rate inverts to ns
//! per synapse:
//!
//! | case | what one iteration does | synapses touched |
//! | --- | --- | --- |
//! | `static` | `propagate` of the bare projection (accumulate + deliver) | outgoing synapses of the pre spikes |
//! | `pair_pre` | [`Plastic::propagate`] with pair STDP: transmission + the fused `on_pre` depression | same |
//! | `pair_post` | [`Plastic::learn`] with the post spikes: `on_post` potentiation (+ trace bookkeeping) | incoming synapses of the post spikes |
//! | `triplet_pre`, `triplet_post` | the same with triplet STDP (two terms per moment) | as above |
//! | `rstdp_pre` | reward-modulated STDP: transmission + `on_pre` into the eligibility traces | outgoing |
//! | `rstdp_tick` | its tick sweep: eligibility decay + `Δw = lr·M·e` on every synapse | all synapses |
//! | `oja_tick`, `bcm_tick` | the rate rules' tick sweep with presynaptic and postsynaptic rates | all synapses |
//!
//! The ratio of a `*_pre` case to `static` is the overhead of fused learning per transmitted spike.
//! Traces, weights and eligibilities keep changing over the iterations (weights reach their bounds
//! and are clamped); the code path per synapse is the same.
//!
//! Run: `cargo bench -p engram --bench rule -- --warm-up-time 1 --measurement-time 2`.
//!
//! Measured (x86-64 host shared with other jobs, ±10 %; ns per synapse touched; dense touches ≈ 95 000
//! synapses per pre-spike step and ≈ 107 000 per post-spike step, sparse ≈ 9 300 and ≈ 10 800, ticks
//! all 10⁶ / ≈ 100 000):
//!
//! | case | dense | sparse |
//! | --- | --- | --- |
//! | `static` | 0.08 | 0.45 |
//! | `pair_pre` | 5.7 (72× static) | 5.4 (12×) |
//! | `pair_post` | 4.3 | 4.2 |
//! | `triplet_pre` / `_post` | 8.6 / 5.4 | 8.4 / 5.4 |
//! | `rstdp_pre` / `_tick` | 5.2 / 5.2 | 5.3 / 5.0 |
//! | `oja_tick` / `bcm_tick` | 9.8 / 10.7 | 9.8 / 10.6 |
//!
//! The per-synapse cost was the applier's interpretation of the terms (a match per factor, bounds-
//! checked reads, rounding by mode, clamping), not memory traffic: it was the same for dense and
//! sparse. Static dense propagation is a vectorised add (0.08 ns), so fused learning was ~70× a
//! transmitted spike there.
//!
//! **After the event-resolved fast path** (`rule::apply`: event-side factors folded once per spike,
//! the synapse-side factor read from a slice, the update specialised for nearest rounding with
//! hard bounds; bit-identical results). Old and new binaries run alternately twice on the same
//! loaded 2-core VM (load average ≈ 6, so absolute numbers are ~1.5× the quiet ones above; ns per
//! synapse, the two runs):
//!
//! | case | before | after |
//! | --- | --- | --- |
//! | dense `pair_pre` | 5.4 / 8.0 | 2.1 / 2.7 |
//! | dense `pair_post` | 4.3 / 6.4 | 2.6 / 2.6 |
//! | dense `triplet_pre` / `_post` | 8.7 / 11.8, 9.2 / 5.9 | 5.0 / 6.1, 3.6 / 5.4 |
//! | sparse `pair_pre` | 8.6 / 6.0 | 2.5 / 3.8 |
//! | sparse `pair_post` | 7.1 / 4.3 | 1.8 / 2.8 |
//! | sparse `triplet_pre` / `_post` | 13.5 / 8.8, 8.6 / 5.8 | 8.1 / 7.5, 6.8 / 6.7 |
//!
//! Pair STDP is 2–3× cheaper per synapse, triplet ~1.5×; the cases on the general path
//! (`rstdp_*`, `oja_tick`, `bcm_tick`) are unchanged.
//! Storage is leaked (a few MB per case) so each case can own a `'static` projection.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use engram::num::{Fix, Frac, Rng, Scale};
use engram::projection::{Csr, Dense, Incoming, Sparse, Synapses, fixed_probability};
use engram::rule::{
    Pairing, Plastic, Rule, RuleParams, RuleStorage, Signals, TripletParams, WeightFormat,
};

const N: usize = 1000;
const DT_MS: f32 = 1.0;

fn leak<T: Clone>(v: Vec<T>) -> &'static mut [T] {
    v.leak()
}

fn spikes(rng: &mut Rng) -> Vec<u16> {
    (0..N as u16).filter(|_| rng.below(10) == 0).collect()
}

fn rates(rng: &mut Rng) -> &'static [Fix] {
    leak((0..N).map(|_| rng.uniform()).collect())
}

fn fmt() -> WeightFormat {
    WeightFormat::new(16, 0.0, 1.0)
}

fn weights(rng: &mut Rng, n: usize) -> &'static mut [i16] {
    leak((0..n).map(|_| rng.below(32_768) as i16).collect())
}

fn dense(seed: u64) -> Dense<'static, i16> {
    let mut rng = Rng::new(seed);
    let scale = fmt().scale().unwrap();
    Dense::new(N, N, weights(&mut rng, N * N), leak(vec![0; N]), scale).unwrap()
}

fn sparse(seed: u64) -> Sparse<'static, i16> {
    let mut rng = Rng::new(seed);
    let scale = fmt().scale().unwrap();
    let row_end = leak(vec![0u32; N]);
    let cols = leak(vec![0u16; N * N / 5]);
    let p = Frac::from_f32("p", 0.1).unwrap();
    let nnz = fixed_probability(N, N, p, true, &mut rng, row_end, cols).unwrap();
    let cols: &'static [u16] = &cols[..nnz];
    let csr = Csr::new(N, row_end, cols).unwrap();
    let inc = Incoming::build(
        &csr,
        leak(vec![0; N]),
        leak(vec![0; nnz]),
        leak(vec![0; nnz]),
    )
    .unwrap();
    Sparse::new(csr, weights(&mut rng, nnz), leak(vec![0; N]), scale)
        .unwrap()
        .with_incoming(inc)
        .unwrap()
}

fn plastic<P: Synapses<i16>>(proj: P, p: &RuleParams) -> Plastic<'static, i16, P> {
    let scale = Scale::for_max(1.0, 16).unwrap();
    let rule = Rule::new::<i16>(p, &fmt(), scale, DT_MS).unwrap();
    let (tp, tq) = rule.traces();
    let ne = if rule.has_eligibility() {
        proj.n_synapses()
    } else {
        0
    };
    let nt = if rule.has_theta() { N } else { 0 };
    let st = RuleStorage {
        pre_traces: leak(vec![Fix::ZERO; tp * N]),
        post_traces: leak(vec![Fix::ZERO; tq * N]),
        eligibility: leak(vec![Fix::ZERO; ne]),
        theta: leak(vec![Fix::ZERO; nt]),
    };
    Plastic::new(proj, rule, st, 7).unwrap()
}

/// Fan-out of the pre spikes and fan-in of the post spikes, in synapses.
fn touched<P: Synapses<i16>>(proj: &mut P, pre: &[u16], post: &[u16]) -> (u64, u64) {
    let (mut out, mut inn) = (0u64, 0u64);
    let is_pre: Vec<bool> = (0..N).map(|i| pre.contains(&(i as u16))).collect();
    proj.for_each(|i, _, _, _| out += is_pre[i] as u64);
    for &j in post {
        proj.for_each_incoming(j as usize, |_, _, _| inn += 1);
    }
    (out, inn)
}

fn cases<P: Synapses<i16>>(c: &mut Criterion, kind: &str, make: impl Fn() -> P) {
    let mut rng = Rng::new(11);
    let (pre, post) = (spikes(&mut rng), spikes(&mut rng));
    let (x, y) = (rates(&mut rng), rates(&mut rng));
    let mut probe = make();
    let (fan_out, fan_in) = touched(&mut probe, &pre, &post);
    let all = probe.n_synapses() as u64;
    let mut target = vec![Fix::ZERO; N];
    let mut g = c.benchmark_group(format!("rule_{kind}"));

    g.throughput(Throughput::Elements(fan_out));
    g.bench_function("static", |b| {
        b.iter(|| probe.propagate(black_box(&pre), black_box(&mut target)))
    });

    let pair = RuleParams::pair_stdp(0.01, 0.0105, 20.0, 20.0, Pairing::AllToAll);
    let triplet = RuleParams::triplet(TripletParams::visual_cortex_all_to_all(), Pairing::AllToAll);
    for (name, params) in [("pair", &pair), ("triplet", &triplet)] {
        let mut p = plastic(make(), params);
        // Non-zero traces on both sides.
        p.learn(&pre, &post, &Signals::NONE);
        g.throughput(Throughput::Elements(fan_out));
        g.bench_function(format!("{name}_pre"), |b| {
            b.iter(|| p.propagate(black_box(&pre), black_box(&mut target), &Signals::NONE))
        });
        g.throughput(Throughput::Elements(fan_in));
        g.bench_function(format!("{name}_post"), |b| {
            b.iter(|| p.learn(&[], black_box(&post), &Signals::NONE))
        });
    }

    let rstdp = RuleParams::reward_modulated(pair.clone(), 1000.0, 0.01, 1);
    let mut p = plastic(make(), &rstdp);
    p.learn(&pre, &post, &Signals::NONE);
    g.throughput(Throughput::Elements(fan_out));
    g.bench_function("rstdp_pre", |b| {
        b.iter(|| p.propagate(black_box(&pre), black_box(&mut target), &Signals::NONE))
    });
    let reward = Signals {
        modulator: Fix::from_num(0.5),
        ..Signals::NONE
    };
    g.throughput(Throughput::Elements(all));
    g.bench_function("rstdp_tick", |b| {
        b.iter(|| p.learn(&[], &[], black_box(&reward)))
    });

    let rates = Signals {
        pre_rate: x,
        post_rate: y,
        ..Signals::NONE
    };
    for (name, params) in [
        ("oja_tick", RuleParams::oja(0.001)),
        ("bcm_tick", RuleParams::bcm(0.001, 1000.0)),
    ] {
        let mut p = plastic(make(), &params);
        g.throughput(Throughput::Elements(all));
        g.bench_function(name, |b| b.iter(|| p.learn(&[], &[], black_box(&rates))));
    }
    g.finish();
}

fn rule(c: &mut Criterion) {
    cases(c, "dense", || dense(1));
    cases(c, "sparse", || sparse(2));
}

criterion_group!(benches, rule);
criterion_main!(benches);
