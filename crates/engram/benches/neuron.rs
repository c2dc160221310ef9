//! Cost of one neuron update, per model, at population sizes 100 / 1 000 / 10 000.
//!
//! Each iteration is what a network step does to a population: the deposits of the step are written
//! (a `copy_from_slice` from one of four pre-drawn random patterns, standing in for the projections),
//! then `Population::step` (or `RatePopulation::step`) advances every neuron, consumes the deposits and
//! records the spikes. Inputs are non-zero and drive the neurons to fire, so the reset/refractory paths
//! are exercised. Throughput is reported per neuron (`Throughput::Elements(n)`): criterion's
//! "time per element" is the ns per neuron update.
//!
//! Run: `cargo bench -p engram --bench neuron -- --warm-up-time 1 --measurement-time 2`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use engram::neuron::{
    Alif, AlifParams, IzhNeuron, Izhikevich, IzhikevichParams, Lif, LifParams, NeuronModel,
    Nonlinearity, Population, RateParams, RatePopulation, RateUnit, Synapses,
};
use engram::{Fix, Frac, Rng};
use std::hint::black_box;

const SIZES: [usize; 3] = [100, 1_000, 10_000];
const PATTERNS: usize = 4;

/// `PATTERNS` deposit vectors of length `n`: each entry is `w` with probability `p`, else 0.
fn sparse(rng: &mut Rng, n: usize, p: f32, w: f64) -> Vec<Vec<Fix>> {
    let p = Frac::from_f32("p", p).unwrap();
    let w = Fix::from_num(w);
    (0..PATTERNS)
        .map(|_| {
            (0..n)
                .map(|_| if rng.bernoulli(p) { w } else { Fix::ZERO })
                .collect()
        })
        .collect()
}

/// Benchmarks `Population::step` of `model` on `n` neurons starting in `init(j)`.
fn bench_population<M: NeuronModel + Copy>(
    c: &mut Criterion,
    name: &str,
    model: M,
    init: impl Fn(usize, &mut Rng) -> M::State,
    deposits: impl Fn(&mut Rng, usize) -> (Vec<Vec<Fix>>, Vec<Vec<Fix>>),
) {
    let mut group = c.benchmark_group(name);
    for n in SIZES {
        let mut rng = Rng::new(n as u64);
        let mut state: Vec<M::State> = (0..n).map(|j| init(j, &mut rng)).collect();
        let (exc_src, inh_src) = deposits(&mut rng, n);
        let (mut exc, mut inh, mut buf) = (vec![Fix::ZERO; n], vec![Fix::ZERO; n], vec![0u16; n]);
        let mut pop = Population::new(model, &mut state, &mut exc, &mut inh, &mut buf).unwrap();
        let mut k = 0usize;
        let mut spikes = 0usize;
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                k = (k + 1) % PATTERNS;
                pop.exc.copy_from_slice(&exc_src[k]);
                pop.inh.copy_from_slice(&inh_src[k]);
                pop.step();
                spikes += pop.spikes.len();
                black_box(pop.spikes.as_slice());
            })
        });
        black_box(spikes);
    }
    group.finish();
}

fn lif_current(c: &mut Criterion) {
    // Brian2's CUBA neuron and weights at dt = 0.1 ms.
    let m = Lif::new(LifParams::cuba(), 0.1).unwrap();
    bench_population(
        c,
        "lif_current",
        m,
        |_, rng| {
            let mut s = m.rest_state();
            s.v = Fix::from_num(-60.0) + rng.uniform() * 10;
            s
        },
        |rng, n| (sparse(rng, n, 0.3, 1.62), sparse(rng, n, 0.05, -9.0)),
    );
}

fn lif_conductance(c: &mut Criterion) {
    // Brian2's COBA neuron and weights at dt = 0.1 ms.
    let m = Lif::new(LifParams::coba(), 0.1).unwrap();
    bench_population(
        c,
        "lif_conductance",
        m,
        |_, rng| {
            let mut s = m.rest_state();
            s.v = Fix::from_num(-60.0) + rng.uniform() * 10;
            s
        },
        |rng, n| (sparse(rng, n, 0.3, 0.6), sparse(rng, n, 0.02, 6.7)),
    );
}

fn alif(c: &mut Criterion) {
    let p = AlifParams {
        lif: LifParams {
            tau_m_ms: 20.0,
            e_leak: -65.0,
            v_thresh: -50.0,
            v_reset: -65.0,
            refractory_ms: 2.0,
            tau_exc_ms: 5.0,
            tau_inh_ms: 10.0,
            bias: 10.0,
            synapses: Synapses::Current,
        },
        tau_adapt_ms: 500.0,
        beta: 1.5,
    };
    let m = Alif::new(p, 1.0).unwrap();
    bench_population(
        c,
        "alif",
        m,
        |_, _| m.rest_state(),
        |rng, n| (sparse(rng, n, 0.5, 4.0), sparse(rng, n, 0.1, -4.0)),
    );
}

fn izhikevich(c: &mut Criterion) {
    // The paper's heterogeneous network parameters (80 % excitatory, 20 % inhibitory) and its
    // thalamic input (5·N(0,1) excitatory, 2·N(0,1) inhibitory) at dt = 1 ms.
    let m = Izhikevich::new(1.0).unwrap();
    bench_population(
        c,
        "izhikevich",
        m,
        |j, rng| -> IzhNeuron {
            let r = rng.uniform().to_num::<f32>();
            let p = if j % 5 != 4 {
                IzhikevichParams {
                    a: 0.02,
                    b: 0.2,
                    c: -65.0 + 15.0 * r * r,
                    d: 8.0 - 6.0 * r * r,
                }
            } else {
                IzhikevichParams {
                    a: 0.02 + 0.08 * r,
                    b: 0.25 - 0.05 * r,
                    c: -65.0,
                    d: 2.0,
                }
            };
            p.neuron().unwrap()
        },
        |rng, n| {
            let exc = (0..PATTERNS)
                .map(|_| (0..n).map(|_| rng.normal() * 5).collect())
                .collect();
            (exc, sparse(rng, n, 0.0, 0.0))
        },
    );
}

fn rate(c: &mut Criterion) {
    for nl in [Nonlinearity::Sigmoid, Nonlinearity::Relu] {
        let name = match nl {
            Nonlinearity::Sigmoid => "rate_sigmoid",
            _ => "rate_relu",
        };
        let m = RateUnit::new(
            RateParams {
                tau_ms: 10.0,
                nonlinearity: nl,
                bias: 0.1,
                gain: 2.0,
            },
            1.0,
        )
        .unwrap();
        let mut group = c.benchmark_group(name);
        for n in SIZES {
            let mut rng = Rng::new(n as u64);
            let src: Vec<Vec<Fix>> = (0..PATTERNS)
                .map(|_| (0..n).map(|_| rng.normal()).collect())
                .collect();
            let (mut x, mut y, mut input) =
                (vec![Fix::ZERO; n], vec![Fix::ZERO; n], vec![Fix::ZERO; n]);
            let mut pop = RatePopulation::new(m, &mut x, &mut y, &mut input).unwrap();
            let mut k = 0usize;
            group.throughput(Throughput::Elements(n as u64));
            group.bench_function(BenchmarkId::from_parameter(n), |b| {
                b.iter(|| {
                    k = (k + 1) % PATTERNS;
                    pop.input.copy_from_slice(&src[k]);
                    pop.step();
                    black_box(&pop.y);
                })
            });
        }
        group.finish();
    }
}

criterion_group!(
    benches,
    lif_current,
    lif_conductance,
    alif,
    izhikevich,
    rate
);
criterion_main!(benches);
