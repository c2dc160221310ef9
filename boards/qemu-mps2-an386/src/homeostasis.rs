//! The homeostasis programs' shared body (included by `bin/homeostasis_scaling.rs` and
//! `bin/homeostasis_intrinsic.rs` with `#[path]`): `homeostasis::Config::check` with 50 neurons
//! (100 of 500 Poisson inputs each, 5000 plastic `i16` synapses) on mps2-an386 and 10 neurons (20 of
//! 100 inputs each) on the micro:bit.

use engram::Fix;
use engram::neuron::LifState;
use engram::num::Frac;
use engram_lab::homeostasis::{Config, Mechanism, Network, Storage};
use engram_qemu_mps2_an386 as fw;
use static_cell::ConstStaticCell;

/// Neurons; inputs and synapses as `Config::check`.
const N: usize = if cfg!(feature = "microbit") { 10 } else { 50 };
const NIN: usize = 10 * N;
const NNZ: usize = 2 * N * N;

struct Store {
    obs: [Fix; NIN],
    prob: [Frac; NIN],
    input_spikes: [u16; NIN],
    row_end: [u32; NIN],
    cols: [u16; NNZ],
    weights: [i16; NNZ],
    acc: [i32; N],
    state: [LifState; N],
    exc: [Fix; N],
    inh: [Fix; N],
    spikes: [u16; N],
    rates: [Fix; N],
    errors: [Fix; N],
    offsets: [Fix; N],
    intrinsic_rates: [Fix; N],
}

static STORE: ConstStaticCell<Store> = ConstStaticCell::new(Store {
    obs: [Fix::ZERO; NIN],
    prob: [Frac::ZERO; NIN],
    input_spikes: [0; NIN],
    row_end: [0; NIN],
    cols: [0; NNZ],
    weights: [0; NNZ],
    acc: [0; N],
    state: [LifState {
        v: Fix::ZERO,
        g_exc: Fix::ZERO,
        g_inh: Fix::ZERO,
        refractory: 0,
    }; N],
    exc: [Fix::ZERO; N],
    inh: [Fix::ZERO; N],
    spikes: [0; N],
    rates: [Fix::ZERO; N],
    errors: [Fix::ZERO; N],
    offsets: [Fix::ZERO; N],
    intrinsic_rates: [Fix::ZERO; N],
});

/// Runs `homeostasis::Config::check(mechanism, N, seed)` for `<steps>` (default 3000) and exits.
pub fn main(name: &str, mechanism: Mechanism) -> ! {
    let args = fw::args();
    let (steps, seed) = (args.number(0, 3000), args.number(1, 1));
    let p = fw::peripherals();
    let s = STORE.take();
    let st = Storage {
        obs: &mut s.obs,
        prob: &mut s.prob,
        input_spikes: &mut s.input_spikes,
        row_end: &mut s.row_end,
        cols: &mut s.cols,
        weights: &mut s.weights,
        acc: &mut s.acc,
        state: &mut s.state,
        exc: &mut s.exc,
        inh: &mut s.inh,
        spikes: &mut s.spikes,
        rates: &mut s.rates,
        errors: &mut s.errors,
        offsets: &mut s.offsets,
        intrinsic_rates: &mut s.intrinsic_rates,
    };
    let cfg = Config::check(mechanism, N, seed);
    let mut net = Network::new(&cfg, st).unwrap_or_else(|e| fw::fail_config(e));
    fw::run(name, &mut net, steps, p.SYST)
}
