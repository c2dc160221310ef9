//! PES (MacNeil & Eliasmith 2011): `pes [<steps> [<seed>]]` (defaults 5000, 1), the bit-exactness
//! check's configuration (`pes::Config::check`: 100 LIF neurons learning decoders of `x²` online from
//! zero, dt 0.1 ms, stochastic rounding). The same 100 neurons on both machines (≈ 4 KiB). Host check:
//! `engram run pes --steps <steps> --seed <seed> --neurons 100 --hash`.
#![no_std]
#![no_main]

use engram::Fix;
use engram::neuron::LifState;
use engram_lab::pes::{Config, Network, Storage};
use engram_qemu_mps2_an386 as fw;
use static_cell::ConstStaticCell;

/// Neurons in the ensemble.
const N: usize = 100;

struct Store {
    state: [LifState; N],
    exc: [Fix; N],
    inh: [Fix; N],
    spikes: [u16; N],
    enc_gain: [Fix; N],
    enc_bias: [Fix; N],
    decoders: [i16; N],
    traces: [Fix; N],
    acc: [i32; 1],
    error: [Fix; 1],
}

static STORE: ConstStaticCell<Store> = ConstStaticCell::new(Store {
    state: [LifState {
        v: Fix::ZERO,
        g_exc: Fix::ZERO,
        g_inh: Fix::ZERO,
        refractory: 0,
    }; N],
    exc: [Fix::ZERO; N],
    inh: [Fix::ZERO; N],
    spikes: [0; N],
    enc_gain: [Fix::ZERO; N],
    enc_bias: [Fix::ZERO; N],
    decoders: [0; N],
    traces: [Fix::ZERO; N],
    acc: [0; 1],
    error: [Fix::ZERO; 1],
});

#[cortex_m_rt::entry]
fn main() -> ! {
    let args = fw::args();
    let (steps, seed) = (args.number(0, 5000), args.number(1, 1));
    let p = fw::peripherals();
    let s = STORE.take();
    let st = Storage {
        state: &mut s.state,
        exc: &mut s.exc,
        inh: &mut s.inh,
        spikes: &mut s.spikes,
        enc_gain: &mut s.enc_gain,
        enc_bias: &mut s.enc_bias,
        decoders: &mut s.decoders,
        traces: &mut s.traces,
        acc: &mut s.acc,
        error: &mut s.error,
    };
    let cfg = Config::check(N, seed);
    let mut net = Network::new(&cfg, st).unwrap_or_else(|e| fw::fail_config(e));
    fw::run("pes", &mut net, steps, p.SYST)
}
