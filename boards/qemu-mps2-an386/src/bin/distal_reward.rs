//! Izhikevich (2007) distal reward: `distal-reward [<steps> [<seed>]]` (defaults 2000, 1), the
//! bit-exactness check's configuration (`distal_reward::Config::check`: short reward delays, a wide
//! coincidence window, so that a short run sees rewards and the weight changes they cause). The
//! paper's 1000 neurons (800 + 200, 100 synapses each: 80 000 plastic `i16` synapses with their
//! eligibilities and post→pre index, ~1.2 MB) on mps2-an386; 50 neurons (40 + 10, 5 synapses each)
//! on the micro:bit. Host check:
//! `engram run distal-reward --steps <steps> --seed <seed> --neurons <N> --hash`.
#![no_std]
#![no_main]

use engram::Fix;
use engram::neuron::IzhNeuron;
use engram_lab::distal_reward::{Config, Network, Storage, WHEEL};
use engram_qemu_mps2_an386 as fw;
use static_cell::ConstStaticCell;

/// Neurons (80 % excitatory, out-degree N/10: as `Config::check`).
const N: usize = if cfg!(feature = "microbit") { 50 } else { 1000 };
const NE: usize = N * 4 / 5;
const DEG: usize = N / 10;
/// Plastic (excitatory) and static (inhibitory) synapses.
const E: usize = NE * DEG;
const I: usize = (N - NE) * DEG;

struct Store {
    neurons: [IzhNeuron; N],
    exc: [Fix; N],
    inh: [Fix; N],
    spikes: [u16; N],
    prev: [u16; N],
    e_row_end: [u32; NE],
    e_cols: [u16; E],
    e_weights: [i16; E],
    e_acc: [i32; N],
    in_col_end: [u32; N],
    in_pre: [u16; E],
    in_pos: [u32; E],
    pre_traces: [Fix; NE],
    post_traces: [Fix; N],
    eligibility: [Fix; E],
    i_row_end: [u32; N],
    i_cols: [u16; I],
    i_weights: [i16; I],
    i_acc: [i32; NE],
    wheel: [u8; WHEEL],
}

static STORE: ConstStaticCell<Store> = ConstStaticCell::new(Store {
    neurons: [IzhNeuron {
        v: Fix::ZERO,
        u: Fix::ZERO,
        a: Fix::ZERO,
        b: Fix::ZERO,
        c: Fix::ZERO,
        d: Fix::ZERO,
    }; N],
    exc: [Fix::ZERO; N],
    inh: [Fix::ZERO; N],
    spikes: [0; N],
    prev: [0; N],
    e_row_end: [0; NE],
    e_cols: [0; E],
    e_weights: [0; E],
    e_acc: [0; N],
    in_col_end: [0; N],
    in_pre: [0; E],
    in_pos: [0; E],
    pre_traces: [Fix::ZERO; NE],
    post_traces: [Fix::ZERO; N],
    eligibility: [Fix::ZERO; E],
    i_row_end: [0; N],
    i_cols: [0; I],
    i_weights: [0; I],
    i_acc: [0; NE],
    wheel: [0; WHEEL],
});

#[cortex_m_rt::entry]
fn main() -> ! {
    let args = fw::args();
    let (steps, seed) = (args.number(0, 2000), args.number(1, 1));
    let p = fw::peripherals();
    let s = STORE.take();
    let st = Storage {
        neurons: &mut s.neurons,
        exc: &mut s.exc,
        inh: &mut s.inh,
        spikes: &mut s.spikes,
        prev: &mut s.prev,
        e_row_end: &mut s.e_row_end,
        e_cols: &mut s.e_cols,
        e_weights: &mut s.e_weights,
        e_acc: &mut s.e_acc,
        in_col_end: &mut s.in_col_end,
        in_pre: &mut s.in_pre,
        in_pos: &mut s.in_pos,
        pre_traces: &mut s.pre_traces,
        post_traces: &mut s.post_traces,
        eligibility: &mut s.eligibility,
        i_row_end: &mut s.i_row_end,
        i_cols: &mut s.i_cols,
        i_weights: &mut s.i_weights,
        i_acc: &mut s.i_acc,
        wheel: &mut s.wheel,
    };
    let cfg = Config::check(N, seed);
    let mut net = Network::new(&cfg, st).unwrap_or_else(|e| fw::fail_config(e));
    fw::run("distal-reward", &mut net, steps, p.SYST)
}
