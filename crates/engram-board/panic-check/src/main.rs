//! Exercises every step-path entry point of engram-board (accelerometer read, light observe, motor
//! drive, deadline, telemetry build) and the checkpoint store (new, load, save) on stand-in peripherals
//! whose results come from `black_box`, so the optimiser cannot assume success. The panic handler calls
//! `panic_path_reachable`, which exists nowhere: if the link succeeds, no panic is reachable from here.
#![no_std]
#![no_main]
use core::hint::black_box;
use cortex_m_rt::entry;
use embedded_hal::i2c::{ErrorKind, ErrorType, I2c, Operation, SevenBitAddress};
use engram::Fix;
use engram_board::actuator::{Motor, MotorPair};
use engram_board::control::{Counter, Deadline, Health, TelemetryBuilder};
use engram_board::sensor::{
    AccelConfig, Accelerometer, AdcChannel, LightConfig, LightPair, LightSensor,
};
use engram_board::{CheckpointStore, Region, SimFlash};

struct Bus;
impl ErrorType for Bus {
    type Error = ErrorKind;
}
impl I2c<SevenBitAddress> for Bus {
    fn transaction(&mut self, _a: u8, ops: &mut [Operation<'_>]) -> Result<(), ErrorKind> {
        for op in ops {
            if let Operation::Read(b) = op {
                for x in b.iter_mut() {
                    *x = black_box(0u8);
                }
            }
        }
        if black_box(false) {
            Err(ErrorKind::Other)
        } else {
            Ok(())
        }
    }
}
struct Delay;
impl embedded_hal::delay::DelayNs for Delay {
    fn delay_ns(&mut self, ns: u32) {
        black_box(ns);
    }
}
struct Adc;
impl AdcChannel for Adc {
    type Error = ();
    fn read_raw(&mut self) -> Result<u16, ()> {
        if black_box(false) {
            Err(())
        } else {
            Ok(black_box(7))
        }
    }
}
struct Pwm;
impl embedded_hal::pwm::ErrorType for Pwm {
    type Error = embedded_hal::pwm::ErrorKind;
}
impl embedded_hal::pwm::SetDutyCycle for Pwm {
    fn max_duty_cycle(&self) -> u16 {
        black_box(1000)
    }
    fn set_duty_cycle(&mut self, d: u16) -> Result<(), Self::Error> {
        black_box(d);
        Ok(())
    }
}
struct Pin;
impl embedded_hal::digital::ErrorType for Pin {
    type Error = embedded_hal::digital::ErrorKind;
}
impl embedded_hal::digital::OutputPin for Pin {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        black_box(0);
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Self::Error> {
        black_box(1);
        Ok(())
    }
}

#[entry]
fn main() -> ! {
    let mut acc = Accelerometer::new(Bus, Delay, AccelConfig::default());
    let mut light = LightPair {
        left: LightSensor::new(Adc, LightConfig::default()),
        right: LightSensor::new(Adc, LightConfig::default()),
    };
    let mut motors = MotorPair::new(Motor::new(Pwm, Pin, Pin), Motor::new(Pwm, Pin, Pin));
    let mut deadline = Deadline::new(Counter::DWT_CYCCNT, 64_000);
    let mut tb = TelemetryBuilder::new();
    let mut store = CheckpointStore::new(
        SimFlash::<{ 4 * 4096 }, 4, 4096>::new(),
        Region {
            offset: 0,
            slot_size: 4096,
            slots: 2,
        },
    )
    .ok();
    let mut state = [0u8; 300];
    if let Some(s) = store.as_mut() {
        let _ = black_box(s.load(black_box(1), &mut state));
    }
    let mut obs = [Fix::ZERO; 8];
    loop {
        deadline.start(black_box(0));
        acc.read().write_observation(&mut obs);
        light.observe(&mut obs[4..]);
        motors.drive(black_box(&obs[..2]));
        deadline.finish(black_box(5));
        tb.add_spikes(black_box(&[1, 2]));
        let t = tb.build(
            1,
            Fix::ZERO,
            Fix::ZERO,
            &[],
            &Health {
                deadline: deadline.stats(),
                ..Health::default()
            },
        );
        black_box(&t);
        if let Some(s) = store.as_mut() {
            let _ = black_box(s.save(black_box(1), black_box(&state)));
        }
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    unsafe extern "C" {
        fn panic_path_reachable() -> !;
    }
    unsafe { panic_path_reachable() }
}
#[cortex_m_rt::exception]
unsafe fn HardFault(_: &cortex_m_rt::ExceptionFrame) -> ! {
    loop {}
}
