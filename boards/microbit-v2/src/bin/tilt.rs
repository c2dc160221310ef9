//! `tilt`: tilt the board, and teach it which arrow to show for each direction — press A when you
//! like the arrow (reward), B when you do not (punishment). See the README.
#![no_std]
#![no_main]

use engram::Fix;
use engram_lab::tilt;
use engram_microbit_v2::demos::TiltDemo;
use static_cell::ConstStaticCell;

static WEIGHTS: ConstStaticCell<[i16; tilt::SYNAPSES]> = ConstStaticCell::new([0; tilt::SYNAPSES]);
static ACC: ConstStaticCell<[i32; tilt::PATTERNS]> = ConstStaticCell::new([0; tilt::PATTERNS]);
static ELIGIBILITY: ConstStaticCell<[Fix; tilt::SYNAPSES]> =
    ConstStaticCell::new([Fix::ZERO; tilt::SYNAPSES]);

#[cortex_m_rt::entry]
fn main() -> ! {
    engram_microbit_v2::hw::run(|| {
        let st = tilt::Storage {
            weights: WEIGHTS.take(),
            acc: ACC.take(),
            eligibility: ELIGIBILITY.take(),
        };
        match TiltDemo::new(&tilt::Config::default(), st) {
            Ok(d) => d,
            Err(_) => defmt::panic!("tilt: invalid configuration"),
        }
    })
}
