//! Homeostasis by synaptic scaling (Turrigiano et al. 1998):
//! `homeostasis-scaling [<steps> [<seed>]]` (defaults 3000, 1); sizes in `src/homeostasis.rs`. Host check:
//! `engram run homeostasis-scaling --steps <steps> --seed <seed> --neurons <N> --hash`.
#![no_std]
#![no_main]

#[path = "../homeostasis.rs"]
mod homeostasis;

use engram_lab::homeostasis::Mechanism;

#[cortex_m_rt::entry]
fn main() -> ! {
    homeostasis::main("homeostasis-scaling", Mechanism::Scaling)
}
