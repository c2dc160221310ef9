//! Micro-benchmarks: instructions per neuron update (per model) and per synapse event (dense and
//! sparse, static), counted with SysTick under `-icount shift=0` (see `Counter`).
//!
//! Output: `calibration <instructions> <ticks>` (a loop of known length, which checks the
//! instructions-per-tick factor), then `bench <key> <instructions> <units>` lines; `cargo xtask qemu`
//! divides and compares with `budget.toml`. Only the measured call is inside the window: inputs are
//! prepared (from a seeded `Rng`) outside it, so the counts are of the kernel alone.
#![no_std]
#![no_main]

use engram::Fix;
use engram::neuron::{
    Alif, AlifParams, AlifState, IzhNeuron, Izhikevich, IzhikevichParams, Lif, LifParams, LifState,
    NeuronModel, Nonlinearity, Population, RateParams, RatePopulation, RateUnit, Synapses,
};
use engram::num::{Frac, Rng, Scale, Weight};
use engram::projection::{Csr, Dense, Sparse, SpikeProjection, fixed_probability};
use engram_qemu_mps2_an386::{self as fw, Counter, instructions};
use static_cell::ConstStaticCell;

const MICRO: bool = cfg!(feature = "microbit");
/// Neurons per population benchmark.
const NB: usize = if MICRO { 64 } else { 256 };
/// Steps per population benchmark.
const STEPS: usize = 50;
/// Dense projection: `DPRE × DPOST`.
const DPRE: usize = if MICRO { 32 } else { 256 };
const DPOST: usize = if MICRO { 32 } else { 256 };
/// Sparse projection: `SPRE × SPOST` at p = 1/16.
const SPRE: usize = if MICRO { 64 } else { 256 };
const SPOST: usize = if MICRO { 128 } else { 1024 };
const SCAP: usize = SPRE * SPOST / 16 + 8 * SPRE * SPOST / 256 + 64;
/// Presynaptic spikes per propagation (every 8th neuron) and repetitions.
const SPIKES: usize = if MICRO { 4 } else { 32 };
const REPS: usize = 10;

struct Pops {
    izh: [IzhNeuron; NB],
    lif: [LifState; NB],
    alif: [AlifState; NB],
    exc: [Fix; NB],
    inh: [Fix; NB],
    spikes: [u16; NB],
    y: [Fix; NB],
}

struct Syn {
    d8: [i8; DPRE * DPOST],
    d16: [i16; DPRE * DPOST],
    dacc: [i32; DPOST],
    target: [Fix; SPOST],
    row_end: [u32; SPRE],
    cols: [u16; SCAP],
    s8: [i8; SCAP],
    sacc: [i32; SPOST],
}

const LIF0: LifState = LifState {
    v: Fix::ZERO,
    g_exc: Fix::ZERO,
    g_inh: Fix::ZERO,
    refractory: 0,
};

static POPS: ConstStaticCell<Pops> = ConstStaticCell::new(Pops {
    izh: [IzhNeuron {
        v: Fix::ZERO,
        u: Fix::ZERO,
        a: Fix::ZERO,
        b: Fix::ZERO,
        c: Fix::ZERO,
        d: Fix::ZERO,
    }; NB],
    lif: [LIF0; NB],
    alif: [AlifState {
        v: Fix::ZERO,
        g_exc: Fix::ZERO,
        g_inh: Fix::ZERO,
        a: Fix::ZERO,
        refractory: 0,
    }; NB],
    exc: [Fix::ZERO; NB],
    inh: [Fix::ZERO; NB],
    spikes: [0; NB],
    y: [Fix::ZERO; NB],
});

static SYN: ConstStaticCell<Syn> = ConstStaticCell::new(Syn {
    d8: [0; DPRE * DPOST],
    d16: [0; DPRE * DPOST],
    dacc: [0; DPOST],
    target: [Fix::ZERO; SPOST],
    row_end: [0; SPRE],
    cols: [0; SCAP],
    s8: [0; SCAP],
    sacc: [0; SPOST],
});

fn report(key: &str, c: &Counter, units: usize) {
    defmt::println!(
        "bench {=str} {=u64} {=u64}",
        key,
        instructions(c.ticks()),
        units as u64
    );
}

/// `STEPS` steps of a population whose excitatory input is `U(0, drive)` per neuron and step.
fn neurons<M: NeuronModel>(
    key: &str,
    c: &mut Counter,
    rng: &mut Rng,
    drive: Fix,
    mut pop: Population<'_, M>,
) {
    c.clear();
    let mut spikes = 0;
    for _ in 0..STEPS {
        for e in pop.exc.iter_mut() {
            *e = engram::num::mul(rng.uniform(), drive);
        }
        c.reset();
        pop.step();
        c.lap();
        spikes += pop.spikes.len();
    }
    report(key, c, NB * STEPS);
    defmt::info!("{=str}: {=usize} spikes", key, spikes);
}

/// `REPS` propagations of `SPIKES` presynaptic spikes; `accumulate` and `deliver` counted apart.
fn events<P: SpikeProjection>(
    key: &str,
    deliver_key: &str,
    c: &mut Counter,
    p: &mut P,
    synapses: usize,
    target: &mut [Fix],
) {
    let spikes: [u16; SPIKES] = core::array::from_fn(|k| (k * 8) as u16);
    let mut d = Counter::new();
    c.clear();
    for _ in 0..REPS {
        c.reset();
        p.accumulate(&spikes);
        c.lap();
        d.reset();
        p.deliver(target);
        d.lap();
    }
    report(key, c, synapses * REPS);
    report(deliver_key, &d, target.len() * REPS);
}

/// The value, or exit with the configuration error.
fn ok<T>(r: Result<T, engram::ConfigError>) -> T {
    r.unwrap_or_else(|e| fw::fail_config(e))
}

fn fill<W: Weight>(rng: &mut Rng, w: &mut [W]) {
    for x in w {
        *x = W::saturate((rng.next_u32() as i32) >> 24);
    }
}

#[cortex_m_rt::entry]
fn main() -> ! {
    let p = fw::peripherals();
    fw::start_systick(p.SYST);
    let mut c = Counter::new();
    let n = 1_000_000;
    let ticks = fw::calibrate(&mut c, n);
    defmt::println!("calibration {=u64} {=u64}", 2 * n as u64, ticks);

    let mut rng = Rng::new(1);
    let s = POPS.take();
    let f = |x: f32| Fix::from_num(x);

    let izh = Izhikevich::new(1.0).unwrap_or_else(|e| fw::fail_config(e));
    let n0 = ok(IzhikevichParams::regular_spiking().neuron());
    s.izh.fill(n0);
    let pop = ok(Population::new(
        izh,
        &mut s.izh,
        &mut s.exc,
        &mut s.inh,
        &mut s.spikes,
    ));
    neurons("neuron.izhikevich", &mut c, &mut rng, f(20.0), pop);

    let cuba = ok(Lif::new(LifParams::cuba(), 0.1));
    s.lif.fill(cuba.rest_state());
    let pop = ok(Population::new(
        cuba,
        &mut s.lif,
        &mut s.exc,
        &mut s.inh,
        &mut s.spikes,
    ));
    neurons("neuron.lif-cuba", &mut c, &mut rng, f(2.0), pop);

    let coba = ok(Lif::new(LifParams::coba(), 0.1));
    s.lif.fill(coba.rest_state());
    let pop = ok(Population::new(
        coba,
        &mut s.lif,
        &mut s.exc,
        &mut s.inh,
        &mut s.spikes,
    ));
    neurons("neuron.lif-coba", &mut c, &mut rng, f(1.0), pop);

    let alif = ok(Alif::new(
        AlifParams {
            lif: LifParams {
                tau_m_ms: 20.0,
                e_leak: -65.0,
                v_thresh: -50.0,
                v_reset: -65.0,
                refractory_ms: 2.0,
                tau_exc_ms: 5.0,
                tau_inh_ms: 10.0,
                bias: 0.0,
                synapses: Synapses::Current,
            },
            tau_adapt_ms: 200.0,
            beta: 1.0,
        },
        1.0,
    ));
    s.alif.fill(alif.rest_state());
    let pop = ok(Population::new(
        alif,
        &mut s.alif,
        &mut s.exc,
        &mut s.inh,
        &mut s.spikes,
    ));
    neurons("neuron.alif", &mut c, &mut rng, f(8.0), pop);

    let unit = ok(RateUnit::new(
        RateParams {
            tau_ms: 10.0,
            nonlinearity: Nonlinearity::Sigmoid,
            bias: 0.0,
            gain: 1.0,
        },
        1.0,
    ));
    let mut rates = ok(RatePopulation::new(unit, &mut s.exc, &mut s.y, &mut s.inh));
    c.clear();
    for _ in 0..STEPS {
        for x in rates.input.iter_mut() {
            *x = rng.uniform() - f(0.5);
        }
        c.reset();
        rates.step();
        c.lap();
    }
    report("neuron.rate-sigmoid", &c, NB * STEPS);

    let s = SYN.take();
    let scale = ok(Scale::new(1.0 / 64.0));
    fill(&mut rng, &mut s.d8);
    fill(&mut rng, &mut s.d16);
    let target = &mut s.target[..DPOST];
    let mut d8 = ok(Dense::new(DPRE, DPOST, &mut s.d8, &mut s.dacc, scale));
    events(
        "synapse.dense-i8",
        "deliver.dense-i8",
        &mut c,
        &mut d8,
        SPIKES * DPOST,
        target,
    );
    let mut d16 = ok(Dense::new(DPRE, DPOST, &mut s.d16, &mut s.dacc, scale));
    events(
        "synapse.dense-i16",
        "deliver.dense-i16",
        &mut c,
        &mut d16,
        SPIKES * DPOST,
        target,
    );

    let p = ok(Frac::from_f32("p", 1.0 / 16.0));
    let nnz = ok(fixed_probability(
        SPRE,
        SPOST,
        p,
        true,
        &mut rng,
        &mut s.row_end,
        &mut s.cols,
    ));
    let (cols, _) = s.cols.split_at(nnz);
    let (w, _) = s.s8.split_at_mut(nnz);
    fill(&mut rng, w);
    let csr = ok(Csr::new(SPOST, &s.row_end, cols));
    let visited: usize = (0..SPIKES)
        .map(|k| csr.row(k * 8).map_or(0, <[u16]>::len))
        .sum();
    let mut sp = ok(Sparse::new(csr, w, &mut s.sacc, scale));
    events(
        "synapse.sparse-i8",
        "deliver.sparse-i8",
        &mut c,
        &mut sp,
        visited,
        &mut s.target,
    );
    fw::exit(0)
}
