//! Song, Miller & Abbott (2000): `song2000 [<steps> [<seed>]]` (defaults 5000, 3), the bit-exactness
//! check's configuration (`song2000::Config::check`: the paper's 1000 excitatory inputs through
//! plastic `i16` weights with additive pair STDP and 200 inhibitory inputs onto one conductance LIF
//! neuron, excitatory input at 20 Hz, dt 0.1 ms, stochastic rounding). The full network on both
//! machines: 8 648 bytes of static RAM above the harness (2 KB weights, 4 KB presynaptic traces,
//! 2.4 KB input spike slots), which fits the micro:bit's 16 KiB. Host check:
//! `engram run song2000 --steps <steps> --seed <seed> --hash`.
#![no_std]
#![no_main]

use engram::Fix;
use engram::neuron::LifState;
use engram_lab::song2000::{Config, Network, Storage};
use engram_qemu_mps2_an386 as fw;
use static_cell::ConstStaticCell;

/// Excitatory (plastic) inputs.
const N_EXC: usize = 1000;
/// Inhibitory (static) inputs.
const N_INH: usize = 200;

struct Store {
    exc_weights: [i16; N_EXC],
    inh_weights: [i8; N_INH],
    exc_acc: [i32; 1],
    inh_acc: [i32; 1],
    pre_traces: [Fix; N_EXC],
    post_traces: [Fix; 1],
    exc_spikes: [u16; N_EXC],
    inh_spikes: [u16; N_INH],
    state: [LifState; 1],
    exc: [Fix; 1],
    inh: [Fix; 1],
    spikes: [u16; 1],
}

static STORE: ConstStaticCell<Store> = ConstStaticCell::new(Store {
    exc_weights: [0; N_EXC],
    inh_weights: [0; N_INH],
    exc_acc: [0; 1],
    inh_acc: [0; 1],
    pre_traces: [Fix::ZERO; N_EXC],
    post_traces: [Fix::ZERO; 1],
    exc_spikes: [0; N_EXC],
    inh_spikes: [0; N_INH],
    state: [LifState {
        v: Fix::ZERO,
        g_exc: Fix::ZERO,
        g_inh: Fix::ZERO,
        refractory: 0,
    }; 1],
    exc: [Fix::ZERO; 1],
    inh: [Fix::ZERO; 1],
    spikes: [0; 1],
});

#[cortex_m_rt::entry]
fn main() -> ! {
    let args = fw::args();
    let (steps, seed) = (args.number(0, 5000), args.number(1, 3));
    let p = fw::peripherals();
    let s = STORE.take();
    let st = Storage {
        exc_weights: &mut s.exc_weights,
        inh_weights: &mut s.inh_weights,
        exc_acc: &mut s.exc_acc,
        inh_acc: &mut s.inh_acc,
        pre_traces: &mut s.pre_traces,
        post_traces: &mut s.post_traces,
        exc_spikes: &mut s.exc_spikes,
        inh_spikes: &mut s.inh_spikes,
        state: &mut s.state,
        exc: &mut s.exc,
        inh: &mut s.inh,
        spikes: &mut s.spikes,
    };
    let cfg = Config::check(seed);
    let mut net = Network::new(&cfg, st).unwrap_or_else(|e| fw::fail_config(e));
    fw::run("song2000", &mut net, steps, p.SYST)
}
