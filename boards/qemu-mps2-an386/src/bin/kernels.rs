//! `kernels`: the fixed-point kernels' golden-vector digests (`engram_lab::kernels`) computed on the
//! target, one `kernel <name> 0x<digest>` line each, for `cargo xtask qemu` to compare with the host's;
//! and the pinned first outputs of `Rng::new(0)`, checked here (exit 1 if they differ).
#![no_std]
#![no_main]

use engram::num::Rng;
use engram_lab::kernels::{RNG_SEED0, digests};
use engram_qemu_mps2_an386 as fw;

#[cortex_m_rt::entry]
fn main() -> ! {
    let mut r = Rng::new(0);
    let first = [r.next_u32(), r.next_u32(), r.next_u32(), r.next_u32()];
    if first != RNG_SEED0 {
        defmt::error!("Rng::new(0) gives {}, expected {}", first, RNG_SEED0);
        fw::exit(fw::EXIT_CONFIG);
    }
    defmt::println!("rng.seed0 ok");
    digests(&mut |name, d| defmt::println!("kernel {=str} {=u64:#018x}", name, d))
        .unwrap_or_else(|e| fw::fail_config(e));
    fw::exit(0)
}
