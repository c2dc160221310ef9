//! The closed-loop bandit on the chip, world included: `bandit [<steps> [<seed>]]` (defaults 5000, 1),
//! `engram_lab::bandit::Config::check` (4 Bernoulli arms, 32 Poisson cue cells → 4 groups of 8 LIF
//! action neurons, reward-modulated STDP; about 9.6 KiB of state, the same on both machines). Host
//! check: `engram run bandit --steps <steps> --seed <seed> --hash`.
#![no_std]
#![no_main]

use engram::Fix;
use engram::neuron::LifState;
use engram::num::Frac;
use engram_lab::bandit::{Config, Network, Storage};
use engram_qemu_mps2_an386 as fw;
use static_cell::ConstStaticCell;

/// Cue cells.
const N: usize = 32;
/// Action neurons (4 arms × 8).
const M: usize = 32;
/// Arms.
const K: usize = 4;

struct Store {
    neurons: [LifState; M],
    exc: [Fix; M],
    inh: [Fix; M],
    spikes: [u16; M],
    w_in: [i16; N * M],
    acc_in: [i32; M],
    w_lat: [i16; M * M],
    acc_lat: [i32; M],
    pre_traces: [Fix; N],
    post_traces: [Fix; M],
    eligibility: [Fix; N * M],
    prob: [Frac; 1],
    counts: [u32; K],
    observation: [Fix; 1],
    action: [Fix; K],
    input_spikes: [u16; N],
}

static STORE: ConstStaticCell<Store> = ConstStaticCell::new(Store {
    neurons: [fw::LIF_ZERO; M],
    exc: [Fix::ZERO; M],
    inh: [Fix::ZERO; M],
    spikes: [0; M],
    w_in: [0; N * M],
    acc_in: [0; M],
    w_lat: [0; M * M],
    acc_lat: [0; M],
    pre_traces: [Fix::ZERO; N],
    post_traces: [Fix::ZERO; M],
    eligibility: [Fix::ZERO; N * M],
    prob: [Frac::ZERO; 1],
    counts: [0; K],
    observation: [Fix::ZERO; 1],
    action: [Fix::ZERO; K],
    input_spikes: [0; N],
});

#[cortex_m_rt::entry]
fn main() -> ! {
    let args = fw::args();
    let (steps, seed) = (args.number(0, 5000), args.number(1, 1));
    let p = fw::peripherals();
    let s = STORE.take();
    let st = Storage {
        neurons: &mut s.neurons,
        exc: &mut s.exc,
        inh: &mut s.inh,
        spikes: &mut s.spikes,
        w_in: &mut s.w_in,
        acc_in: &mut s.acc_in,
        w_lat: &mut s.w_lat,
        acc_lat: &mut s.acc_lat,
        pre_traces: &mut s.pre_traces,
        post_traces: &mut s.post_traces,
        eligibility: &mut s.eligibility,
        prob: &mut s.prob,
        counts: &mut s.counts,
        observation: &mut s.observation,
        action: &mut s.action,
        input_spikes: &mut s.input_spikes,
    };
    let cfg = Config::check(seed);
    let mut net = Network::new(&cfg, st).unwrap_or_else(|e| fw::fail_config(e));
    fw::run("bandit", &mut net, steps, p.SYST)
}
