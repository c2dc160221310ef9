//! Oja (1982): `oja-pca [<steps> [<seed>]]` (defaults 20000, 1), the published configuration (one
//! linear neuron, 10-d Gaussian input with a known covariance, Oja's rule with stochastic rounding);
//! the same on both machines. Host check: `engram run oja-pca --steps <steps> --seed <seed> --hash`.
#![no_std]
#![no_main]

use engram::Fix;
use engram_lab::oja_pca::{Config, DIM, Network, Storage};
use engram_qemu_mps2_an386 as fw;
use static_cell::ConstStaticCell;

struct Store {
    weights: [i16; DIM],
    acc: [i32; 1],
    moments: [Fix; 1],
}

static STORE: ConstStaticCell<Store> = ConstStaticCell::new(Store {
    weights: [0; DIM],
    acc: [0; 1],
    moments: [Fix::ZERO; 1],
});

#[cortex_m_rt::entry]
fn main() -> ! {
    let args = fw::args();
    let (steps, seed) = (args.number(0, 20_000), args.number(1, 1));
    let p = fw::peripherals();
    let s = STORE.take();
    let st = Storage {
        weights: &mut s.weights,
        acc: &mut s.acc,
        moments: &mut s.moments,
    };
    let cfg = Config {
        seed,
        ..Config::default()
    };
    let mut net = Network::new(&cfg, st).unwrap_or_else(|e| fw::fail_config(e));
    fw::run("oja-pca", &mut net, steps, p.SYST)
}
