//! The closed-loop bandit on the chip, world included: `bandit [<steps> [<seed>]]` (defaults 5000, 1),
//! `engram_lab::bandit::Config::check` (4 Bernoulli arms, 32 Poisson cue cells → 4 groups of 8 LIF
//! action neurons, reward-modulated STDP; about 9.6 KiB of state, the same on both machines). Host
//! check: `engram run bandit --steps <steps> --seed <seed> --hash`.
#![no_std]
#![no_main]

use engram_lab::bandit::{Config, Network};
use engram_qemu_mps2_an386 as fw;

#[cortex_m_rt::entry]
fn main() -> ! {
    let args = fw::args();
    let (steps, seed) = (args.number(0, 5000), args.number(1, 1));
    let p = fw::peripherals();
    let st = fw::bandit::storage();
    let cfg = Config::check(seed);
    let mut net = Network::new(&cfg, st).unwrap_or_else(|e| fw::fail_config(e));
    fw::run("bandit", &mut net, steps, p.SYST)
}
