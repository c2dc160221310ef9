//! Control-loop bookkeeping: what each step cost ([`Deadline`]) and the telemetry a board sends
//! ([`TelemetryBuilder`]).
//!
//! Time is passed in, never read: the board reads its counter (the DWT cycle counter on a Cortex-M4,
//! SysTick or a timer on an M0+) and hands the raw value to [`Deadline::start`] / [`Deadline::finish`],
//! so the bookkeeping is tested on the host with a fake counter.

use engram::Fix;
use engram_link::{LinkErrors, MAX_POPULATIONS, MAX_PROJECTIONS, Telemetry, WeightStats};
use heapless::Vec;

use crate::sensor::SensorFaults;

/// How to read elapsed time from a free-running hardware counter of `bits` bits (1..=32) that counts
/// up, or down (`down`). Elapsed ticks are `(end − start) mod 2^bits` (reversed for a down-counter),
/// correct across one wrap, so a step must be shorter than the counter's period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Counter {
    /// Counter width in bits (clamped to 1..=32).
    pub bits: u8,
    /// The counter counts down (SysTick).
    pub down: bool,
}

impl Counter {
    /// The Cortex-M3/M4/M7 DWT cycle counter (`CYCCNT`): 32 bits, up, one tick per core cycle.
    pub const DWT_CYCCNT: Counter = Counter {
        bits: 32,
        down: false,
    };
    /// Cortex-M SysTick run free with reload `0xFF_FFFF`: 24 bits, down.
    pub const SYSTICK: Counter = Counter {
        bits: 24,
        down: true,
    };
    /// The RP2040's 1 MHz timer, low word (`TIMELR`): 32 bits, up, one tick per µs.
    pub const RP2040_TIMER: Counter = Counter {
        bits: 32,
        down: false,
    };

    /// Ticks from `start` to `end`.
    pub const fn elapsed(self, start: u32, end: u32) -> u32 {
        let mask = if self.bits >= 32 || self.bits == 0 {
            u32::MAX
        } else {
            (1u32 << self.bits) - 1
        };
        let d = if self.down {
            start.wrapping_sub(end)
        } else {
            end.wrapping_sub(start)
        };
        d & mask
    }
}

/// Step-cost statistics since start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DeadlineStats {
    /// Steps measured.
    pub steps: u32,
    /// Steps that took longer than the budget.
    pub overruns: u32,
    /// Ticks of the last step.
    pub last: u32,
    /// Ticks of the longest step.
    pub max: u32,
    /// Mean ticks per step (truncated), 0 before the first step.
    pub mean: u32,
}

/// What one step cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StepCost {
    /// Ticks from `start` to `finish`.
    pub ticks: u32,
    /// It exceeded the budget.
    pub overrun: bool,
}

/// Measures each control step against a budget in counter ticks (e.g. 64 000 cycles = 1 ms at
/// 64 MHz) and counts overruns. All counters saturate; the running sum is 64-bit (2⁶⁴ ticks: never).
#[derive(Clone, Debug)]
pub struct Deadline {
    counter: Counter,
    budget: u32,
    started: Option<u32>,
    steps: u32,
    overruns: u32,
    last: u32,
    max: u32,
    total: u64,
}

impl Deadline {
    /// A tracker for `counter` with a per-step `budget` in ticks (a step taking exactly `budget` ticks
    /// is on time).
    pub const fn new(counter: Counter, budget: u32) -> Self {
        Self {
            counter,
            budget,
            started: None,
            steps: 0,
            overruns: 0,
            last: 0,
            max: 0,
            total: 0,
        }
    }

    /// The budget in ticks.
    pub const fn budget(&self) -> u32 {
        self.budget
    }

    /// Marks the start of a step (counter value `now`).
    pub fn start(&mut self, now: u32) {
        self.started = Some(now);
    }

    /// Marks the end of the step started last; `None` (nothing counted) without a matching
    /// [`Deadline::start`].
    pub fn finish(&mut self, now: u32) -> Option<StepCost> {
        let start = self.started.take()?;
        let ticks = self.counter.elapsed(start, now);
        let overrun = ticks > self.budget;
        self.steps = self.steps.saturating_add(1);
        self.overruns = self.overruns.saturating_add(u32::from(overrun));
        self.last = ticks;
        self.max = self.max.max(ticks);
        self.total = self.total.saturating_add(u64::from(ticks));
        Some(StepCost { ticks, overrun })
    }

    /// Statistics since construction.
    pub fn stats(&self) -> DeadlineStats {
        let mean = self.total.checked_div(u64::from(self.steps)).unwrap_or(0);
        DeadlineStats {
            steps: self.steps,
            overruns: self.overruns,
            last: self.last,
            max: self.max,
            mean: u32::try_from(mean).unwrap_or(u32::MAX),
        }
    }
}

/// What the board knows about its own health, besides learning: the fault counters that telemetry
/// should carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Health {
    /// Step timing.
    pub deadline: DeadlineStats,
    /// Sensor faults, all sensors merged.
    pub sensors: SensorFaults,
    /// Actuator commands that failed.
    pub actuator_errors: u32,
    /// The link's receive-side errors.
    pub link: LinkErrors,
}

impl Health {
    /// The [`engram_link::HealthReport`] of these counters at `step`: `sensors_present` has bit `i` set
    /// for each sensor present now (the board's order), step times are in the deadline counter's
    /// ticks converted with `ticks_per_us` (1 for a 1 MHz timer; 0 is taken as 1), and the checkpoint
    /// counters are the board's.
    pub fn report(
        &self,
        step: u32,
        sensors_present: u32,
        ticks_per_us: u32,
        checkpoints_saved: u32,
        checkpoint_errors: u32,
    ) -> engram_link::HealthReport {
        let us = |ticks: u32| ticks / ticks_per_us.max(1);
        engram_link::HealthReport {
            step,
            sensors_present,
            sensor_faults: self.sensors.total(),
            missing_reads: self.sensors.missing_reads,
            recoveries: self.sensors.recoveries,
            actuator_errors: self.actuator_errors,
            deadline_overruns: self.deadline.overruns,
            max_step_us: us(self.deadline.max),
            mean_step_us: us(self.deadline.mean),
            checkpoints_saved,
            checkpoint_errors,
        }
    }
}

/// Builds [`engram_link::Telemetry`] frames: accumulates spikes per population between frames and fills
/// in the learning metrics and the fault counters.
///
/// `engram_link::Telemetry` (protocol version 1) carries `deadline_overruns` and `link_errors` but has no
/// field for sensor or actuator faults: [`TelemetryBuilder::build`] fills what the message has, and the
/// rest of [`Health`] travels in an `engram_link::HealthReport` ([`Health::report`]) sent with it.
#[derive(Clone, Debug, Default)]
pub struct TelemetryBuilder {
    spikes: [u32; MAX_POPULATIONS],
    populations: usize,
    dropped: bool,
}

impl TelemetryBuilder {
    /// No spikes counted yet.
    pub const fn new() -> Self {
        Self {
            spikes: [0; MAX_POPULATIONS],
            populations: 0,
            dropped: false,
        }
    }

    /// Adds one step's spike counts, per population in population order (saturating). Populations
    /// beyond [`MAX_POPULATIONS`] are not reported (see [`TelemetryBuilder::dropped`]).
    pub fn add_spikes(&mut self, per_population: &[u32]) {
        self.spikes
            .iter_mut()
            .zip(per_population)
            .for_each(|(s, &n)| *s = s.saturating_add(n));
        self.populations = self
            .populations
            .max(per_population.len().min(MAX_POPULATIONS));
        self.dropped |= per_population.len() > MAX_POPULATIONS;
    }

    /// Whether some populations or projections did not fit a message.
    pub const fn dropped(&self) -> bool {
        self.dropped
    }

    /// The frame for `step`: spikes since the previous frame (then reset), the objective and reward,
    /// weight statistics per plastic projection (at most [`MAX_PROJECTIONS`]), and the deadline
    /// overruns and link errors from `health`.
    pub fn build(
        &mut self,
        step: u32,
        objective: Fix,
        reward: Fix,
        weights: &[WeightStats],
        health: &Health,
    ) -> Telemetry {
        let spike_counts: Vec<u32, MAX_POPULATIONS> =
            self.spikes.iter().take(self.populations).copied().collect();
        let weight_stats: Vec<WeightStats, MAX_PROJECTIONS> =
            weights.iter().take(MAX_PROJECTIONS).copied().collect();
        self.dropped |= weights.len() > MAX_PROJECTIONS;
        self.spikes = [0; MAX_POPULATIONS];
        Telemetry {
            step,
            objective,
            reward,
            spike_counts,
            weights: weight_stats,
            deadline_overruns: health.deadline.overruns,
            link_errors: health.link,
            // Filled in by the caller, who knows the model (0 = unknown).
            state_hash: 0,
        }
    }
}
