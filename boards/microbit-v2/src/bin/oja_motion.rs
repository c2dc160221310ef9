//! `oja-motion`: move the board back and forth along any axis; Oja's rule learns the axis and the
//! LEDs draw it as a line through the centre. See the README.
#![no_std]
#![no_main]

use engram::Fix;
use engram_lab::oja_motion;
use engram_microbit_v2::demos::OjaDemo;
use static_cell::ConstStaticCell;

static WEIGHTS: ConstStaticCell<[i16; oja_motion::DIM]> =
    ConstStaticCell::new([0; oja_motion::DIM]);
static ACC: ConstStaticCell<[i32; 1]> = ConstStaticCell::new([0; 1]);
static MOMENTS: ConstStaticCell<[Fix; 1]> = ConstStaticCell::new([Fix::ZERO; 1]);

#[cortex_m_rt::entry]
fn main() -> ! {
    engram_microbit_v2::hw::run(|| {
        let st = oja_motion::Storage {
            weights: WEIGHTS.take(),
            acc: ACC.take(),
            moments: MOMENTS.take(),
        };
        match OjaDemo::new(&oja_motion::Config::default(), st) {
            Ok(d) => d,
            Err(_) => defmt::panic!("oja-motion: invalid configuration"),
        }
    })
}
