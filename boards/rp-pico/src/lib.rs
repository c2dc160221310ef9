//! # engram-rp-pico — a phototaxis robot on the Raspberry Pi Pico
//!
//! Two light-dependent resistors (the eyes) and two DC motors (the wheels) around an RP2040 running the
//! **same** `engram_lab::phototaxis` agent as the host simulator (`engram run phototaxis`): same
//! network, rule, critic, initial weights and random streams; only the world differs
//! ([`SensedLight`](engram_lab::phototaxis::SensedLight): measured light instead of simulated
//! geometry). It learns from reward alone (the increase of the sensed light) to turn toward and
//! drive to a lamp. See `README.md` for parts, wiring and use. MSRV 1.93 (as the workspace).
//!
//! ## Map
//! ```text
//! src/bin/phototaxis/main.rs   the firmware: clocks, pins, ADC, PWM, TIMER alarm interrupt, USB CDC
//! src/bin/phototaxis/flash.rs  boot-ROM flash erase/program from RAM with interrupts off (RawFlash)
//!        │  (conversions, timer values, MotorPair on the PWM channels and pins, RawFlash)
//!        ▼
//! this library (no HAL, no unsafe; tested on the host: `cargo test --lib --target <host>`)
//!   light   ADC counts → intensity in [0, 1] (calibration), range / stuck / converter faults counted
//!   robot   one tick: eyes → agent → wheels; fault reaction; telemetry; checkpoint image; host commands
//!   qspi    the 64 KiB checkpoint window of the QSPI flash as an embedded-storage NorFlash
//!   outbox  whole engram-link frames queued for the USB serial port
//!        │
//!        ▼
//! engram-lab (the agent) · engram-board (CheckpointStore, MotorPair, Deadline, TelemetryBuilder)
//! · engram-link (frames)
//! ```
//!
//! ## Why a plain TIMER alarm interrupt (not RTIC 2, not embassy)
//! There is exactly one periodic task (the tick) and one background job (USB, plus the rare flash
//! write). An alarm of the RP2040's 1 MHz TIMER fires `TIMER_IRQ_0`; its handler re-arms the alarm
//! at an absolute time (`previous + TICK_US`, so there is no drift), converts both ADC inputs and runs
//! [`robot::Robot::tick`]; the main loop polls USB, drains the [`outbox::Outbox`] and saves checkpoints.
//! The two share the robot through a `critical_section::Mutex<RefCell<..>>`. That is all RTIC's
//! priorities and resources would give us here, without a second proc-macro framework in the build,
//! and unlike an async executor the step runs with a hard, measurable start time. A flash write must
//! run with interrupts off anyway, which is simplest when nothing else assumes it can preempt.
//!
//! ## Timing
//! The RP2040 has no DWT cycle counter (Cortex-M0+), so each tick's cost is the difference of two
//! reads of the 1 MHz TIMER (`Counter::RP2040_TIMER`, 32-bit, wrapping), tracked by
//! `engram_board::control::Deadline` against [`robot::TICK_US`]; overruns and the longest and mean
//! costs go out in every `HealthReport`, the overruns also in `Telemetry`.
//!
//! ## Faults
//! An eye out of range, stuck or failing to convert reads "missing" (0 to the agent), is counted, and
//! stops the wheels at once with plasticity off until both eyes read again; nothing in the step path
//! can panic (no `unwrap`, no indexing that can fail, no division by a run-time value in the tick).
//! A failed checkpoint keeps the previous one (`CheckpointStore`), and is counted. The tick feeds
//! the watchdog (1 s): a firmware that stops ticking resets and resumes from its last checkpoint.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod light;
pub mod outbox;
pub mod qspi;
pub mod robot;

#[cfg(test)]
mod tests;
