//! Brette et al. (2007) CUBA: `brette-cuba [<steps> [<seed>]]` (defaults 1000, 1). The published 4000
//! LIF neurons (3200 exc + 800 inh, p = 0.02, ~320 000 synapses) on mps2-an386; scaled to 200 neurons
//! (160 + 40, same p) on the micro:bit. Host check:
//! `engram run brette-cuba --steps <steps> --seed <seed> --neurons <N> --hash`.
#![no_std]
#![no_main]

use engram::Fix;
use engram_lab::brette2007::{Config, Network, PopStorage, Storage, SynStorage, Variant};
use engram_qemu_mps2_an386 as fw;
use static_cell::ConstStaticCell;

/// Neurons, 80 % excitatory (as the host's `--neurons`).
const N: usize = if cfg!(feature = "microbit") {
    200
} else {
    4000
};
const NE: usize = N * 4 / 5;
const NI: usize = N - NE;

/// Synapse capacity of an `a × b` projection at p = 1/50: mean + 8 standard deviations + 17, never less
/// than the host's `Config::capacity` (any capacity ≥ the drawn synapse count gives the same network).
const fn cap(a: usize, b: usize) -> usize {
    let mean = a * b / 50;
    mean + 8 * ((mean * 49 / 50).isqrt() + 1) + 17
}

struct Pop<const K: usize> {
    v: [Fix; K],
    g_exc: [Fix; K],
    g_inh: [Fix; K],
    refractory: [u16; K],
    exc: [Fix; K],
    inh: [Fix; K],
    spikes: [u16; K],
}

impl<const K: usize> Pop<K> {
    const NEW: Self = Pop {
        v: [Fix::ZERO; K],
        g_exc: [Fix::ZERO; K],
        g_inh: [Fix::ZERO; K],
        refractory: [0; K],
        exc: [Fix::ZERO; K],
        inh: [Fix::ZERO; K],
        spikes: [0; K],
    };

    fn storage(&mut self) -> PopStorage<'_> {
        PopStorage {
            v: &mut self.v,
            g_exc: &mut self.g_exc,
            g_inh: &mut self.g_inh,
            refractory: &mut self.refractory,
            exc: &mut self.exc,
            inh: &mut self.inh,
            spikes: &mut self.spikes,
        }
    }
}

struct Syn<const PRE: usize, const POST: usize, const CAP: usize> {
    row_end: [u32; PRE],
    cols: [u16; CAP],
    weights: [i8; CAP],
    acc: [i32; POST],
}

impl<const PRE: usize, const POST: usize, const CAP: usize> Syn<PRE, POST, CAP> {
    const NEW: Self = Syn {
        row_end: [0; PRE],
        cols: [0; CAP],
        weights: [0; CAP],
        acc: [0; POST],
    };

    fn storage(&mut self) -> SynStorage<'_> {
        SynStorage {
            row_end: &mut self.row_end,
            cols: &mut self.cols,
            weights: &mut self.weights,
            acc: &mut self.acc,
        }
    }
}

struct Store {
    e: Pop<NE>,
    i: Pop<NI>,
    ee: Syn<NE, NE, { cap(NE, NE) }>,
    ei: Syn<NE, NI, { cap(NE, NI) }>,
    ie: Syn<NI, NE, { cap(NI, NE) }>,
    ii: Syn<NI, NI, { cap(NI, NI) }>,
}

static STORE: ConstStaticCell<Store> = ConstStaticCell::new(Store {
    e: Pop::NEW,
    i: Pop::NEW,
    ee: Syn::NEW,
    ei: Syn::NEW,
    ie: Syn::NEW,
    ii: Syn::NEW,
});

#[cortex_m_rt::entry]
fn main() -> ! {
    let args = fw::args();
    let (steps, seed) = (args.number(0, 1000), args.number(1, 1));
    let p = fw::peripherals();
    let s = STORE.take();
    let st = Storage {
        e: s.e.storage(),
        i: s.i.storage(),
        ee: s.ee.storage(),
        ei: s.ei.storage(),
        ie: s.ie.storage(),
        ii: s.ii.storage(),
    };
    let cfg = Config {
        n_exc: NE,
        n_inh: NI,
        seed,
        ..Config::published(Variant::Cuba)
    };
    let mut net = Network::new(&cfg, st).unwrap_or_else(|e| fw::fail_config(e));
    fw::run("brette-cuba", &mut net, steps, p.SYST)
}
