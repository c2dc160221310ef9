//! BCM (Bienenstock, Cooper & Munro 1982): `bcm [<steps> [<seed>]]` (defaults 20000, 1), the
//! published configuration (one rectified linear neuron, 10 orthogonal patterns of 10 inputs, the
//! BCM rule with its sliding threshold θ, stochastic rounding); the same on both machines. Host
//! check: `engram run bcm --steps <steps> --seed <seed> --hash`.
#![no_std]
#![no_main]

use engram::Fix;
use engram_lab::bcm::{Config, Network, Storage};
use engram_qemu_mps2_an386 as fw;
use static_cell::ConstStaticCell;

/// Inputs: 10 patterns of 10 (`Config::default`).
const N: usize = 100;

struct Store {
    weights: [i16; N],
    acc: [i32; 1],
    x: [Fix; N],
    theta: [Fix; 1],
    moments: [Fix; 1],
}

static STORE: ConstStaticCell<Store> = ConstStaticCell::new(Store {
    weights: [0; N],
    acc: [0; 1],
    x: [Fix::ZERO; N],
    theta: [Fix::ZERO; 1],
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
        x: &mut s.x,
        theta: &mut s.theta,
        moments: &mut s.moments,
    };
    let cfg = Config {
        seed,
        ..Config::default()
    };
    let mut net = Network::new(&cfg, st).unwrap_or_else(|e| fw::fail_config(e));
    fw::run("bcm", &mut net, steps, p.SYST)
}
