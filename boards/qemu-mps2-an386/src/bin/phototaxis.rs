//! The closed-loop Braitenberg vehicle on the chip, world included: `phototaxis [<steps> [<seed>]]`
//! (defaults 20000, 1), `engram_lab::phototaxis::Config::check` (2 × 16 Poisson sensor cells →
//! 2 × 16 LIF motor neurons, three-factor rule; about 9 KiB of state, the same on both machines).
//! Host check: `engram run phototaxis --set baseline_episodes=0 --steps <steps> --seed <seed> --hash`
//! (the host's default first measures 5 episodes with plasticity off; the check learns from the start).
#![no_std]
#![no_main]

use engram_lab::phototaxis::{Arrays, Config, Network};
use engram_qemu_mps2_an386 as fw;
use static_cell::ConstStaticCell;

static STORE: ConstStaticCell<Arrays> = ConstStaticCell::new(Arrays::new());

#[cortex_m_rt::entry]
fn main() -> ! {
    let args = fw::args();
    let (steps, seed) = (args.number(0, 20000), args.number(1, 1));
    let p = fw::peripherals();
    let st = STORE.take().storage();
    let cfg = Config::check(seed);
    let mut net = Network::new(&cfg, st).unwrap_or_else(|e| fw::fail_config(e));
    fw::run("phototaxis", &mut net, steps, p.SYST)
}
