//! Cost of one step of each model of the Brian2/NEST comparison (`cargo xtask peers`), at a small
//! and a medium size, so a regression in any part of a step (neurons, propagation, the learning-rule
//! applier) shows in `cargo bench`.
//!
//! | group | small | medium (the benchmark's size) |
//! | --- | --- | --- |
//! | `model_cuba` | 400 LIF (320/80), p = 0.2 | 4000 LIF (3200/800), p = 0.02 |
//! | `model_coba` | as `model_cuba`, conductance synapses | as `model_cuba` |
//! | `model_stdp` | 200 inputs → 20 neurons, 50 Hz | 1000 inputs → 100 neurons, 10 Hz |
//!
//! The small Brette networks use p = 0.2 so that each neuron keeps the published 64 excitatory and
//! 16 inhibitory inputs on average (and with them the self-sustained activity). One
//! iteration is one 0.1 ms step of the running network (its activity continues across iterations;
//! the networks are warmed up for 0.1 s of biological time first). Throughput is in neuron-steps.
//!
//! Run: `cargo bench -p engram-lab --features std --bench models -- --warm-up-time 1 --measurement-time 3`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use engram_lab::brette2007::{self, Variant};
use engram_lab::stdp_scaled;

const WARM_UP_STEPS: usize = 1000;

fn brette(c: &mut Criterion, variant: Variant, name: &str) {
    let mut g = c.benchmark_group(name);
    for (size, n_exc, n_inh, p) in [("small", 320, 80, 0.2), ("medium", 3200, 800, 0.02)] {
        let cfg = brette2007::Config {
            n_exc,
            n_inh,
            p_connect: p,
            ..brette2007::Config::published(variant)
        };
        let mut buf = brette2007::Buffers::new(&cfg);
        let mut net = brette2007::Network::new(&cfg, buf.storage()).expect("valid config");
        for _ in 0..WARM_UP_STEPS {
            net.step();
        }
        g.throughput(Throughput::Elements((n_exc + n_inh) as u64));
        g.bench_function(size, |b| b.iter(|| net.step()));
    }
    g.finish();
}

fn stdp(c: &mut Criterion) {
    let mut g = c.benchmark_group("model_stdp");
    for (size, n_in, n_out, hz) in [("small", 200, 20, 50.0), ("medium", 1000, 100, 10.0)] {
        let cfg = stdp_scaled::Config {
            n_in,
            n_out,
            input_hz: hz,
            ..stdp_scaled::Config::default()
        };
        let mut buf = stdp_scaled::Buffers::<i16>::new(&cfg);
        let mut net = stdp_scaled::Network::new(&cfg, buf.storage()).expect("valid config");
        for _ in 0..WARM_UP_STEPS {
            net.step();
        }
        g.throughput(Throughput::Elements(n_out as u64));
        g.bench_function(size, |b| b.iter(|| net.step()));
    }
    g.finish();
}

fn models(c: &mut Criterion) {
    brette(c, Variant::Cuba, "model_cuba");
    brette(c, Variant::Coba, "model_coba");
    stdp(c);
}

criterion_group!(benches, models);
criterion_main!(benches);
