//! # engram on the BBC micro:bit v2 (nRF52833, Cortex-M4F at 64 MHz, 512 KiB flash, 128 KiB RAM)
//!
//! Two programs in `src/bin/`, each the board side of an `engram-lab` experiment that `engram run`
//! also runs on the host with a simulated sensor stream:
//!
//! | program | experiment | what the board learns |
//! | --- | --- | --- |
//! | `tilt` | [`engram_lab::tilt`] | which arrow to show for each tilt direction, from your reward (button A) and punishment (button B): a reward-modulated (three-factor) Hebbian rule |
//! | `oja-motion` | [`engram_lab::oja_motion`] | the axis along which you move the board: Oja's rule on the accelerometer stream, the learned axis drawn as a line through the centre of the LEDs |
//!
//! ## Layers
//! ```text
//! src/bin/*.rs   a few lines each: pick the demo, call hw::run
//! hw             (board target only) clocks, pins, TIMER0 control tick, TIMER1 display refresh,
//!                TWIM0 → LSM303AGR, UARTE0 → USB serial, NVMC → checkpoints, DWT cycle counter,
//!                panic and HardFault handlers, defmt-rtt logs
//! Runner         (host-tested) one control step: accelerometer → demo → LED pattern; step cost and
//!                overruns (engram_board::Deadline); telemetry, Hello and checkpoint frames (engram-link);
//!                checkpoints in flash (engram_board::CheckpointStore), restored at boot
//! demos          (host-tested) TiltDemo, OjaDemo: the engram-lab learners behind the Demo trait
//! ```
//! Everything above `hw` is written against embedded-hal 1.0 / embedded-storage traits and tested on
//! the host with embedded-hal-mock and engram-board's `SimFlash` (`src/tests.rs`:
//! `cargo test --lib --target x86_64-unknown-linux-gnu` in this folder, run by `cargo xtask ci`).
//!
//! ## The control loop: a plain TIMER interrupt, not RTIC or embassy
//! One job runs at a fixed rate (a 20 ms step: read the sensor, step the learner, show a pattern) and
//! one runs beside it (refreshing the LED matrix), so the least machinery does: TIMER0 fires every
//! 20 ms and its interrupt only counts the tick; `main` sleeps (`wfi`) until the count changes and
//! runs the step in thread mode, where the display's TIMER1 interrupt preempts it. No executor, no
//! scheduler, no `async` driver to audit, and the step is one ordinary function that the host tests
//! call directly. RTIC 2 would add compile-time priority analysis we do not need for two jobs;
//! embassy an executor and async HAL while every driver we use (TWIM, UARTE, NVMC) is blocking.
//! A tick that arrives while the previous step is still running is not queued: it is counted as a
//! missed tick (logged) and the step that finished late is counted as a deadline overrun.
//!
//! ## Step cost
//! Each step is timed with the DWT cycle counter (`CYCCNT`, 64 MHz) by [`Runner::step`] /
//! [`Runner::finish`] through [`engram_board::control::Deadline`] with a budget of the whole period
//! (1 280 000 cycles). Overruns go into every telemetry frame (`deadline_overruns`); the mean and
//! worst step cost, the missed ticks and the sensor fault counters are logged every 250 steps (5 s).
//!
//! ## Faults
//! An I2C error, an implausible or a stuck reading is counted by engram-board's
//! [`Accelerometer`](engram_board::sensor::Accelerometer), the learner sees a "sensor missing"
//! observation (presence channel 0: `tilt` shows a cross and does not learn, `oja-motion` does not
//! update), the counters are logged, and telemetry reports the missing reads: protocol version 1 has no
//! field for sensor faults, so these boards send them as the one entry of `spike_counts` (missing
//! accelerometer reads since the previous frame; the demos have no spiking population). Nothing
//! panics; the sensor is re-initialised and used again when it answers.
//!
//! ## Learned state survives a reset
//! [`Runner::boot`] restores the newest checkpoint of this model from flash; [`Runner::checkpoint`]
//! saves one every [`Settings::checkpoint_every`] steps when the weights changed (two 4 KiB slots at
//! `0x7E000`, see `memory.x`), and sends the same image to the host as `Checkpoint` frames. A save
//! erases one page (up to 85 ms): it runs after the measured step, and the control ticks it covers are
//! counted as missed.
//!
//! MSRV: 1.93 (the workspace's, set by `fixed`).
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod demos;
// The only unsafe code: the checkpoint region's slice, unmasking the interrupts (see `hw`).
#[cfg(target_os = "none")]
#[allow(unsafe_code)]
pub mod hw;
mod runner;
#[cfg(test)]
mod tests;

pub use runner::{BootReport, FrameSink, Runner, RunnerStats, Settings};

use engram::Fix;

/// Turns button levels sampled every step into feedback: +1 on the step button A is pressed (reward),
/// −1 on the step button B is pressed (punishment), 0 otherwise (also when both go down together).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Buttons {
    a: bool,
    b: bool,
}

impl Buttons {
    /// Both released.
    pub const fn new() -> Self {
        Self { a: false, b: false }
    }

    /// This step's feedback from the buttons' levels (`true` = held down).
    pub fn feedback(&mut self, a_down: bool, b_down: bool) -> Fix {
        let (pa, pb) = (a_down && !self.a, b_down && !self.b);
        self.a = a_down;
        self.b = b_down;
        match (pa, pb) {
            (true, false) => Fix::ONE,
            (false, true) => -Fix::ONE,
            _ => Fix::ZERO,
        }
    }
}
