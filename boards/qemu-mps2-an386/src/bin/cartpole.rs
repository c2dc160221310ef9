//! The closed-loop cart-pole on the chip, world included: `cartpole [<steps> [<seed>]]` (defaults
//! 20000, 1), `engram_lab::cartpole::Config::check` (4 × 8 Gaussian receptive fields → 2 × 8
//! stochastic spiking actor neurons, three-factor rule, linear TD(λ) critic, stochastic rounding;
//! about 4 KiB of state, the same on both machines). Host check:
//! `engram run cartpole --set weights.rounding=stochastic --steps <steps> --seed <seed> --hash`.
#![no_std]
#![no_main]

use engram::Fix;
use engram::num::Frac;
use engram_lab::cartpole::{CHANNELS, Config, Network, Storage};
use engram_qemu_mps2_an386 as fw;
use static_cell::ConstStaticCell;

/// Inputs (4 variables × 8 fields).
const N: usize = 32;
/// Actor neurons (2 × 8).
const M: usize = 16;

struct Store {
    weights: [i16; N * M],
    acc: [i32; M],
    pre_traces: [Fix; N],
    eligibility: [Fix; N * M],
    psp: [Fix; M],
    signal: [Fix; M],
    out_spikes: [u16; M],
    in_copy: [u16; N],
    counts: [u16; N],
    critic_w: [Fix; N],
    critic_e: [Fix; N],
    enc_prob: [Frac; N],
    input_spikes: [u16; N],
    observation: [Fix; CHANNELS],
    action: [Fix; 2],
}

static STORE: ConstStaticCell<Store> = ConstStaticCell::new(Store {
    weights: [0; N * M],
    acc: [0; M],
    pre_traces: [Fix::ZERO; N],
    eligibility: [Fix::ZERO; N * M],
    psp: [Fix::ZERO; M],
    signal: [Fix::ZERO; M],
    out_spikes: [0; M],
    in_copy: [0; N],
    counts: [0; N],
    critic_w: [Fix::ZERO; N],
    critic_e: [Fix::ZERO; N],
    enc_prob: [Frac::ZERO; N],
    input_spikes: [0; N],
    observation: [Fix::ZERO; CHANNELS],
    action: [Fix::ZERO; 2],
});

#[cortex_m_rt::entry]
fn main() -> ! {
    let args = fw::args();
    let (steps, seed) = (args.number(0, 20000), args.number(1, 1));
    let p = fw::peripherals();
    let s = STORE.take();
    let st = Storage {
        weights: &mut s.weights,
        acc: &mut s.acc,
        pre_traces: &mut s.pre_traces,
        eligibility: &mut s.eligibility,
        psp: &mut s.psp,
        signal: &mut s.signal,
        out_spikes: &mut s.out_spikes,
        in_copy: &mut s.in_copy,
        counts: &mut s.counts,
        critic_w: &mut s.critic_w,
        critic_e: &mut s.critic_e,
        enc_prob: &mut s.enc_prob,
        input_spikes: &mut s.input_spikes,
        observation: &mut s.observation,
        action: &mut s.action,
    };
    let cfg = Config::check(seed);
    let mut net = Network::new(&cfg, st).unwrap_or_else(|e| fw::fail_config(e));
    fw::run("cartpole", &mut net, steps, p.SYST)
}
