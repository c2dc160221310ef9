//! e-prop (Bellec et al. 2020): `eprop [<steps> [<seed>]]` (defaults 2000, 1), the bit-exactness
//! check's configuration (`eprop::Config::check`: 20 frozen Poisson inputs, recurrent LIF neurons, a
//! leaky readout; e-prop on the input and recurrent weights, the delta rule on the readout; 500 ms
//! trials). 50 recurrent neurons (3 450 plastic synapses with eligibilities) on mps2-an386, 16 on the
//! micro:bit. Host check: `engram run eprop --steps <steps> --seed <seed> --neurons <N> --hash`.
#![no_std]
#![no_main]

use engram::Fix;
use engram::neuron::LifState;
use engram_lab::eprop::{Config, Network, Storage};
use engram_qemu_mps2_an386 as fw;
use static_cell::ConstStaticCell;

/// Recurrent neurons.
const N: usize = if cfg!(feature = "microbit") { 16 } else { 50 };
/// Inputs (`Config::small`).
const NIN: usize = 20;
/// Recurrent synapses (no self-connections).
const NREC: usize = N * (N - 1);

struct Store {
    state: [LifState; N],
    exc: [Fix; N],
    inh: [Fix; N],
    spikes: [u16; N],
    prev_spikes: [u16; N],
    in_spikes: [u16; NIN],
    w_in: [i16; NIN * N],
    e_in: [Fix; NIN * N],
    acc_in: [i32; N],
    tr_in: [Fix; NIN],
    row_end: [u32; N],
    cols: [u16; NREC],
    w_rec: [i16; NREC],
    e_rec: [Fix; NREC],
    acc_rec: [i32; N],
    tr_rec: [Fix; N],
    w_out: [i16; N],
    tr_out: [Fix; N],
    acc_out: [i32; 1],
    psi: [Fix; N],
    signal: [Fix; N],
    feedback: [Fix; N],
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
    prev_spikes: [0; N],
    in_spikes: [0; NIN],
    w_in: [0; NIN * N],
    e_in: [Fix::ZERO; NIN * N],
    acc_in: [0; N],
    tr_in: [Fix::ZERO; NIN],
    row_end: [0; N],
    cols: [0; NREC],
    w_rec: [0; NREC],
    e_rec: [Fix::ZERO; NREC],
    acc_rec: [0; N],
    tr_rec: [Fix::ZERO; N],
    w_out: [0; N],
    tr_out: [Fix::ZERO; N],
    acc_out: [0; 1],
    psi: [Fix::ZERO; N],
    signal: [Fix::ZERO; N],
    feedback: [Fix::ZERO; N],
    error: [Fix::ZERO; 1],
});

#[cortex_m_rt::entry]
fn main() -> ! {
    let args = fw::args();
    let (steps, seed) = (args.number(0, 2000), args.number(1, 1));
    let p = fw::peripherals();
    let s = STORE.take();
    let st = Storage {
        state: &mut s.state,
        exc: &mut s.exc,
        inh: &mut s.inh,
        spikes: &mut s.spikes,
        prev_spikes: &mut s.prev_spikes,
        in_spikes: &mut s.in_spikes,
        w_in: &mut s.w_in,
        e_in: &mut s.e_in,
        acc_in: &mut s.acc_in,
        tr_in: &mut s.tr_in,
        row_end: &mut s.row_end,
        cols: &mut s.cols,
        w_rec: &mut s.w_rec,
        e_rec: &mut s.e_rec,
        acc_rec: &mut s.acc_rec,
        tr_rec: &mut s.tr_rec,
        w_out: &mut s.w_out,
        tr_out: &mut s.tr_out,
        acc_out: &mut s.acc_out,
        psi: &mut s.psi,
        signal: &mut s.signal,
        feedback: &mut s.feedback,
        error: &mut s.error,
    };
    let cfg = Config::check(N, seed);
    let mut net = Network::new(&cfg, st).unwrap_or_else(|e| fw::fail_config(e));
    fw::run("eprop", &mut net, steps, p.SYST)
}
