//! The closed-loop Braitenberg vehicle on the chip, world included: `phototaxis [<steps> [<seed>]]`
//! (defaults 20000, 1), `engram_lab::phototaxis::Config::check` (2 × 16 Poisson sensor cells →
//! 2 × 16 LIF motor neurons, three-factor rule; about 9 KiB of state, the same on both machines).
//! Host check: `engram run phototaxis --set baseline_episodes=0 --steps <steps> --seed <seed> --hash`
//! (the host's default first measures 5 episodes with plasticity off; the check learns from the start).
#![no_std]
#![no_main]

use engram::Fix;
use engram::neuron::LifState;
use engram::num::Frac;
use engram_lab::phototaxis::{Config, Network, Storage};
use engram_qemu_mps2_an386 as fw;
use static_cell::ConstStaticCell;

/// Sensor cells (2 × 16).
const N: usize = 32;
/// Motor neurons (2 × 16).
const M: usize = 32;

struct Store {
    neurons: [LifState; M],
    exc: [Fix; M],
    inh: [Fix; M],
    spikes: [u16; M],
    w: [i16; N * M],
    acc: [i32; M],
    pre_traces: [Fix; N],
    eligibility: [Fix; N * M],
    rates: [Fix; M],
    deficit: [Fix; M],
    prob: [Frac; 2],
    counts: [u32; 2],
    observation: [Fix; 2],
    action: [Fix; 2],
    input_spikes: [u16; N],
}

static STORE: ConstStaticCell<Store> = ConstStaticCell::new(Store {
    neurons: [fw::LIF_ZERO; M],
    exc: [Fix::ZERO; M],
    inh: [Fix::ZERO; M],
    spikes: [0; M],
    w: [0; N * M],
    acc: [0; M],
    pre_traces: [Fix::ZERO; N],
    eligibility: [Fix::ZERO; N * M],
    rates: [Fix::ZERO; M],
    deficit: [Fix::ZERO; M],
    prob: [Frac::ZERO; 2],
    counts: [0; 2],
    observation: [Fix::ZERO; 2],
    action: [Fix::ZERO; 2],
    input_spikes: [0; N],
});

#[cortex_m_rt::entry]
fn main() -> ! {
    let args = fw::args();
    let (steps, seed) = (args.number(0, 20000), args.number(1, 1));
    let p = fw::peripherals();
    let s = STORE.take();
    let st = Storage {
        neurons: &mut s.neurons,
        exc: &mut s.exc,
        inh: &mut s.inh,
        spikes: &mut s.spikes,
        w: &mut s.w,
        acc: &mut s.acc,
        pre_traces: &mut s.pre_traces,
        eligibility: &mut s.eligibility,
        rates: &mut s.rates,
        deficit: &mut s.deficit,
        prob: &mut s.prob,
        counts: &mut s.counts,
        observation: &mut s.observation,
        action: &mut s.action,
        input_spikes: &mut s.input_spikes,
    };
    let cfg = Config::check(seed);
    let mut net = Network::new(&cfg, st).unwrap_or_else(|e| fw::fail_config(e));
    fw::run("phototaxis", &mut net, steps, p.SYST)
}
