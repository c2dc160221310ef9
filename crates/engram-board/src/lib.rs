//! # engram-board — what every board firmware shares
//!
//! `no_std`, no `alloc`, no `unsafe`, written against the embedded-hal 1.0 and embedded-storage 0.3
//! traits, so all of it is tested on the host (embedded-hal-mock, a simulated flash) and a new board is
//! a small crate that hands its HAL's peripherals to these types. MSRV: the workspace's `rust-version`
//! (1.93, set by `fixed`).
//!
//! ## Where it sits
//! ```text
//! boards/microbit-v2, boards/rp-pico, …   HAL setup, timer interrupt, pins; one small impl per peripheral
//!         │  (I2c, SetDutyCycle, OutputPin, NorFlash, an AdcChannel impl, a cycle counter value)
//!         ▼
//! engram-board   sensors → Fix observations (+ presence channels), actions → motors / LEDs,
//!                checkpoints in flash, step timing, telemetry
//!         │                                   │
//!         ▼                                   ▼
//! engram (core): Agent, Environment,   engram-link: Telemetry, CheckpointChunk,
//! Fix, model hash                      checkpoint_crc, frames over the serial line
//! ```
//! A board's control step reads its sensors through this crate into the agent's observation, steps the
//! `engram` agent, drives the actuators with the action, and every so often builds an
//! `engram_link::Telemetry` and saves a checkpoint of the learned state.
//!
//! ## Map
//! | module | what lives there |
//! | --- | --- |
//! | [`checkpoint`] | [`CheckpointStore`]: learned state in `slots` ≥ 2 flash slots (header with model hash, format version, sequence number, length, CRC-32C; payload first, header last); the newest valid slot wins at boot |
//! | [`sim_flash`] | [`SimFlash`]: a NOR flash in RAM with real write/erase granularity, erased = `0xFF`, writes only clear bits, and a power cut after any step (the torn step half done) |
//! | [`sensor`] | [`sensor::Accelerometer`] (LSM303AGR over I2C, through the `lsm303agr` driver), [`sensor::LightSensor`] / [`sensor::LightPair`] (LDR dividers on an [`sensor::AdcChannel`]), [`sensor::SensorFaults`] |
//! | [`actuator`] | [`actuator::Motor`] / [`actuator::MotorPair`] (H-bridge: PWM + two direction pins), [`actuator::Pattern`] (5×5 LED images) and the [`actuator::LedMatrix`] trait |
//! | [`control`] | [`control::Deadline`] (ticks per step from a caller-supplied counter, overruns, max, mean), [`control::TelemetryBuilder`], [`control::Health`] |
//!
//! ## Fault policy
//! A device that learns unattended must not crash and must not lose what it learned:
//! - **Counted.** Every fault has a counter: sensor bus errors, implausible and stuck readings, reads
//!   the agent saw as missing, recoveries ([`sensor::SensorFaults`]); failed actuator commands
//!   ([`actuator::MotorPair::errors`]); deadline overruns ([`control::DeadlineStats`]); link errors
//!   (`engram_link::LinkErrors`). All saturate.
//! - **Reported.** [`control::TelemetryBuilder`] puts the deadline overruns and link errors into every
//!   telemetry frame; [`control::Health`] gathers all counters, and [`control::Health::report`] turns
//!   them into an `engram_link::HealthReport` (sensor and actuator faults, step times) sent beside it.
//! - **Never a panic.** Reads return a value or a documented "missing" observation — value channels 0,
//!   presence channel 0 — never an error the step must handle; a sensor that answers again is used
//!   again (the accelerometer re-initialises the chip). A failing motor is stopped as well as the
//!   hardware allows. No `unwrap`, no indexing that can fail, no allocation in any of it.
//! - **Learned state never lost.** A save goes to a slot other than the newest valid checkpoint and
//!   becomes valid only once its header (written last, CRC-checked) is complete, so a power cut at any
//!   instant leaves the last complete checkpoint restorable (tested at every write and erase step). A
//!   checkpoint of another model, format version or size is refused with a clear error before the
//!   state buffer is touched.
//!
//! ## Features
//! - `defmt`: `defmt::Format` for the counters, readings and statistics (firmware logging).
//!
//! ## Testing
//! `tests/checkpoint.rs`: a power cut at every step of sequences of saves on three flash geometries
//! (1 648 cuts), refusals, bit decay, region checks. `tests/sensor.rs`: I2C transactions that fail,
//! return garbage, repeat, and recover (embedded-hal-mock); light sensors out of range.
//! `tests/sim_flash.rs`: the simulated flash itself (bit clearing, alignment, how a cut tears a step).
//! `tests/actuator.rs`: motor command order on mocked PWM and pins, failures, LED patterns.
//! `tests/control.rs`: an artificially slow step counted as an overrun, counter wrap, telemetry.
//! `panic-check/` (standalone firmware crate): links only if no panic is reachable from the step-path
//! entry points and the checkpoint store, for thumbv7em and thumbv6m (release, LTO); it links today.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod actuator;
pub mod checkpoint;
pub mod control;
pub mod sensor;
pub mod sim_flash;

pub use checkpoint::{CheckpointError, CheckpointStore, Region, Restored, Seq};
pub use sim_flash::{SimFlash, SimFlashError};
