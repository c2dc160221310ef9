//! `selftest <ok|panic|fault|hang>`: proves the failure paths CI relies on. `ok` exits 0; `panic` must
//! exit 101 with its message; `fault` (an undefined instruction, escalated to HardFault) must exit 3
//! with the PC; `hang` must be stopped by the runner's timeout (124).
#![no_std]
#![no_main]

use engram_qemu_mps2_an386 as fw;

#[cortex_m_rt::entry]
fn main() -> ! {
    let args = fw::args();
    match args.get(0) {
        Some("ok") | None => {
            defmt::println!("selftest ok");
            fw::exit(0)
        }
        Some("panic") => panic!("selftest panic {}", 42),
        Some("fault") => cortex_m::asm::udf(),
        Some("hang") => loop {
            cortex_m::asm::nop();
        },
        Some(_) => fw::fail("usage: selftest <ok|panic|fault|hang>"),
    }
}
