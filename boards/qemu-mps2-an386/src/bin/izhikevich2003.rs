//! Izhikevich (2003): `izhikevich2003 [<steps> [<seed>]]` (defaults 1000, 1). 1000 neurons (800 exc +
//! 200 inh, the published network, 2 MB of `i16` weights) on mps2-an386; scaled to 64 neurons
//! (51 + 13, 8 KiB of weights) on the micro:bit's 16 KiB. Host check:
//! `engram run izhikevich2003 --steps <steps> --seed <seed> --neurons <N> --hash`.
#![no_std]
#![no_main]

use engram::Fix;
use engram::neuron::IzhNeuron;
use engram_lab::izhikevich2003::{Config, Network, Storage};
use engram_qemu_mps2_an386 as fw;
use static_cell::ConstStaticCell;

/// Neurons (80 % excitatory, as `Config::with_neurons`).
const N: usize = if cfg!(feature = "microbit") { 64 } else { 1000 };

struct Store {
    neurons: [IzhNeuron; N],
    exc: [Fix; N],
    inh: [Fix; N],
    spikes: [u16; N],
    weights: [i16; N * N],
    acc: [i32; N],
}

const NEURON: IzhNeuron = IzhNeuron {
    v: Fix::ZERO,
    u: Fix::ZERO,
    a: Fix::ZERO,
    b: Fix::ZERO,
    c: Fix::ZERO,
    d: Fix::ZERO,
};

static STORE: ConstStaticCell<Store> = ConstStaticCell::new(Store {
    neurons: [NEURON; N],
    exc: [Fix::ZERO; N],
    inh: [Fix::ZERO; N],
    spikes: [0; N],
    weights: [0; N * N],
    acc: [0; N],
});

#[cortex_m_rt::entry]
fn main() -> ! {
    let args = fw::args();
    let (steps, seed) = (args.number(0, 1000), args.number(1, 1));
    let p = fw::peripherals();
    let s = STORE.take();
    let st = Storage {
        neurons: &mut s.neurons,
        exc: &mut s.exc,
        inh: &mut s.inh,
        spikes: &mut s.spikes,
        weights: &mut s.weights,
        acc: &mut s.acc,
    };
    let cfg = Config::with_neurons(N, seed);
    let mut net = Network::new(&cfg, st).unwrap_or_else(|e| fw::fail_config(e));
    fw::run("izhikevich2003", &mut net, steps, p.SYST)
}
