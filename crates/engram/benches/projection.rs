//! Projection throughput on the host.
//!
//! Each benchmark runs one full step of a projection (accumulate + deliver for spikes, or the rate
//! path) and reports `Throughput::Elements` = synapses touched, so criterion prints synapses per
//! second (invert for ns per synapse / per synaptic event). Sizes are neurons per side; 10 % of the
//! presynaptic neurons spike each step (a fixed random set), so the per-step `deliver` (one
//! conversion per target) is included in the cost, as in a real step.
//!
//! Run: `cargo bench -p engram --bench projection -- --warm-up-time 1 --measurement-time 2`.
//! Memory: the largest case, dense 10 000 × 10 000 `i16`, is 200 MB of weights (allocated one case at
//! a time).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use engram::neuron::Spikes;
use engram::num::{Fix, Frac, Rng, Scale, Weight};
use engram::projection::{
    AxonalDelay, Conv2d, ConvShape, Csr, Dense, Padding, Sparse, SpikeProjection, fixed_probability,
};

const SIZES: [usize; 3] = [100, 1_000, 10_000];
const SPIKE_FRACTION: u32 = 10; // percent

fn spikes(rng: &mut Rng, n: usize) -> Vec<u16> {
    let s: Vec<u16> = (0..n as u16)
        .filter(|_| rng.below(100) < SPIKE_FRACTION)
        .collect();
    if s.is_empty() { vec![0] } else { s }
}

fn rates(rng: &mut Rng, n: usize) -> Vec<Fix> {
    (0..n)
        .map(|_| Fix::from_bits(rng.next_u32() as i32 >> 14))
        .collect()
}

fn random_weights<W: Weight>(rng: &mut Rng, n: usize) -> Vec<W> {
    (0..n)
        .map(|_| W::saturate(rng.next_u32() as i32 >> 16))
        .collect()
}

fn dense_event<W: Weight>(c: &mut Criterion, name: &str) {
    let mut g = c.benchmark_group(format!("dense_event_{name}"));
    for n in SIZES {
        let mut rng = Rng::new(1);
        let mut w = random_weights::<W>(&mut rng, n * n);
        let mut acc = vec![0i32; n];
        let mut d = Dense::new(n, n, &mut w, &mut acc, Scale::new(0.01).unwrap()).unwrap();
        let s = spikes(&mut rng, n);
        let mut target = vec![Fix::ZERO; n];
        g.throughput(Throughput::Elements((s.len() * n) as u64));
        if n >= 10_000 {
            g.sample_size(20);
        }
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| d.propagate(black_box(&s), black_box(&mut target)))
        });
    }
    g.finish();
}

fn dense_rate<W: Weight>(c: &mut Criterion, name: &str) {
    let mut g = c.benchmark_group(format!("dense_rate_{name}"));
    for n in SIZES {
        let mut rng = Rng::new(2);
        let mut w = random_weights::<W>(&mut rng, n * n);
        let mut acc = vec![0i32; n];
        let mut d = Dense::new(n, n, &mut w, &mut acc, Scale::new(0.001).unwrap()).unwrap();
        let x = rates(&mut rng, n);
        let mut target = vec![Fix::ZERO; n];
        g.throughput(Throughput::Elements((n * n) as u64));
        if n >= 10_000 {
            g.sample_size(10);
        }
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| d.propagate_rates(black_box(&x), black_box(&mut target)))
        });
    }
    g.finish();
}

/// A random CSR (fixed probability p, no autapses) as vectors.
fn csr_vecs(rng: &mut Rng, n: usize, p: f32) -> (Vec<u32>, Vec<u16>) {
    let mut row_end = vec![0u32; n];
    let mean = (n * n) as f64 * p as f64;
    let mut cols = vec![0u16; (mean + 8.0 * mean.sqrt()) as usize + 16];
    let p = Frac::from_f32("p", p).unwrap();
    let nnz = fixed_probability(n, n, p, false, rng, &mut row_end, &mut cols).unwrap();
    cols.truncate(nnz);
    (row_end, cols)
}

fn sparse_event(c: &mut Criterion) {
    for p in [0.02f32, 0.1] {
        let mut g = c.benchmark_group(format!("sparse_event_i16_p{p}"));
        for n in SIZES {
            let mut rng = Rng::new(3);
            let (row_end, cols) = csr_vecs(&mut rng, n, p);
            let csr = Csr::new(n, &row_end, &cols).unwrap();
            let mut w = random_weights::<i16>(&mut rng, cols.len());
            let mut acc = vec![0i32; n];
            let mut sp = Sparse::new(csr, &mut w, &mut acc, Scale::new(0.01).unwrap()).unwrap();
            let s = spikes(&mut rng, n);
            let events: usize = s
                .iter()
                .map(|&i| csr.row(i as usize).map_or(0, <[u16]>::len))
                .sum();
            let mut target = vec![Fix::ZERO; n];
            g.throughput(Throughput::Elements(events.max(1) as u64));
            g.bench_function(BenchmarkId::from_parameter(n), |b| {
                b.iter(|| sp.propagate(black_box(&s), black_box(&mut target)))
            });
        }
        g.finish();
    }
}

fn sparse_rate(c: &mut Criterion) {
    let p = 0.1f32;
    let mut g = c.benchmark_group(format!("sparse_rate_i16_p{p}"));
    for n in SIZES {
        let mut rng = Rng::new(4);
        let (row_end, cols) = csr_vecs(&mut rng, n, p);
        let csr = Csr::new(n, &row_end, &cols).unwrap();
        let mut w = random_weights::<i16>(&mut rng, cols.len());
        let mut acc = vec![0i32; n];
        let mut sp = Sparse::new(csr, &mut w, &mut acc, Scale::new(0.001).unwrap()).unwrap();
        let x = rates(&mut rng, n);
        let mut wide = vec![0i64; n];
        let mut target = vec![Fix::ZERO; n];
        g.throughput(Throughput::Elements(cols.len() as u64));
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                sp.propagate_rates(black_box(&x), black_box(&mut wide), black_box(&mut target))
            })
        });
    }
    g.finish();
}

/// Baseline for the hook's cost: the same row adds as `dense_event_i8/1000`, written as a bare loop.
fn dense_event_baseline(c: &mut Criterion) {
    let mut g = c.benchmark_group("dense_event_i8_bare_loop");
    let n = 1_000;
    let mut rng = Rng::new(1);
    let w = random_weights::<i8>(&mut rng, n * n);
    let mut acc = vec![0i32; n];
    let s = spikes(&mut rng, n);
    let mut target = vec![Fix::ZERO; n];
    let scale = Scale::new(0.01).unwrap();
    g.throughput(Throughput::Elements((s.len() * n) as u64));
    g.bench_function(BenchmarkId::from_parameter(n), |b| {
        b.iter(|| {
            for &i in black_box(&s) {
                let row = &w[i as usize * n..(i as usize + 1) * n];
                for (a, &wij) in acc.iter_mut().zip(row) {
                    *a = a.wrapping_add(wij as i32);
                }
            }
            for (a, t) in acc.iter_mut().zip(black_box(&mut target).iter_mut()) {
                *t = t.saturating_add(scale.apply(*a));
                *a = 0;
            }
        })
    });
    g.finish();
}

fn conv_and_delay(c: &mut Criterion) {
    let mut g = c.benchmark_group("conv_delay");
    // 28×28 input, 4 output maps of 3×3 (Same): 3136 outputs, 36 synapses per input spike.
    let shape = ConvShape {
        in_channels: 1,
        out_channels: 4,
        height: 28,
        width: 28,
        kernel_h: 3,
        kernel_w: 3,
        padding: Padding::Same,
    };
    let mut rng = Rng::new(5);
    let mut k = random_weights::<i8>(&mut rng, shape.kernel_len());
    let mut acc = vec![0i32; shape.n_post()];
    let mut conv = Conv2d::new(shape, &mut k, &mut acc, Scale::new(0.01).unwrap()).unwrap();
    let s = spikes(&mut rng, shape.n_pre());
    let mut target = vec![Fix::ZERO; shape.n_post()];
    g.throughput(Throughput::Elements((s.len() * 36) as u64));
    g.bench_function("conv2d_event_i8_28x28_3x3x4", |b| {
        b.iter(|| conv.propagate(black_box(&s), black_box(&mut target)))
    });
    let x = rates(&mut rng, shape.n_pre());
    g.throughput(Throughput::Elements((shape.n_post() * 9) as u64));
    g.bench_function("conv2d_rate_i8_28x28_3x3x4", |b| {
        b.iter(|| conv.propagate_rates(black_box(&x), black_box(&mut target)))
    });
    // 1000 neurons, per-neuron delays 0..=20 steps, 10 % firing: one push + arrivals per step.
    let n: usize = 1_000;
    let delays: Vec<u8> = (0..n).map(|_| rng.below(21) as u8).collect();
    let mut history = vec![0u32; 21 * n.div_ceil(32)];
    let mut stage = AxonalDelay::new(&delays, 20, &mut history).unwrap();
    let s = spikes(&mut rng, n);
    let mut buf = vec![0u16; n];
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("delay_step_1000_max20", |b| {
        b.iter(|| {
            stage.push(black_box(&s));
            let mut out = Spikes::new(&mut buf);
            stage.arrivals(&mut out);
            black_box(out.len())
        })
    });
    g.finish();
}

fn all(c: &mut Criterion) {
    dense_event::<i8>(c, "i8");
    dense_event::<i16>(c, "i16");
    dense_event_baseline(c);
    dense_rate::<i8>(c, "i8");
    dense_rate::<i16>(c, "i16");
    sparse_event(c);
    sparse_rate(c);
    conv_and_delay(c);
}

criterion_group!(benches, all);
criterion_main!(benches);
