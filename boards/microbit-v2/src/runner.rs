//! [`Runner`]: one control step and the bookkeeping around it, independent of the hardware.

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;
use embedded_storage::nor_flash::NorFlash;
use engram::Fix;
use engram_board::actuator::Pattern;
use engram_board::control::{Counter, Deadline, Health, StepCost, TelemetryBuilder};
use engram_board::sensor::{ACCEL_CHANNELS, AccelReading, Accelerometer};
use engram_board::{CheckpointError, CheckpointStore, Seq};
use engram_link::{Hello, MAX_FRAME_LEN, Message, PROTOCOL_VERSION, encode_frame};

use crate::demos::{Demo, MAX_STATE_BYTES};

/// Board name in `Hello`.
pub const BOARD: &str = "microbit-v2";

/// Where frames go (the UART on the board, a buffer in tests). A send either completes or is counted
/// as failed; it never blocks forever and never panics.
pub trait FrameSink {
    /// Sends one complete frame (delimiter included); `false` if it could not be sent.
    fn send(&mut self, frame: &[u8]) -> bool;
}

/// How often things happen, in steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Step budget in DWT cycles (the control period: 20 ms at 64 MHz = 1 280 000).
    pub budget_cycles: u32,
    /// Steps between telemetry frames (50 = once a second).
    pub telemetry_every: u32,
    /// Steps between checkpoint attempts (3000 = every minute); a checkpoint is written only if the
    /// learned state changed since the last one.
    pub checkpoint_every: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            budget_cycles: 1_280_000,
            telemetry_every: 50,
            checkpoint_every: 3000,
        }
    }
}

/// What happened at boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootReport {
    /// A checkpoint of this model was restored.
    Restored(Seq),
    /// No checkpoint in flash: a fresh start.
    Fresh,
    /// Checkpoints exist but none of this model (another program, another size): a fresh start; the
    /// old one stays in flash until the first save overwrites a slot.
    Refused,
    /// The flash could not be read or the region is unusable: a fresh start, no checkpoints this run.
    NoStorage,
}

/// Counters of the runner's own work (all saturating).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunnerStats {
    /// Steps taken.
    pub steps: u32,
    /// Frames sent.
    pub frames_sent: u32,
    /// Frames that could not be encoded or sent.
    pub frames_failed: u32,
    /// Checkpoints saved.
    pub saves: u32,
    /// Checkpoint saves that failed (the previous checkpoint is intact).
    pub save_errors: u32,
    /// Control ticks that came while a step (or a save) was still running.
    pub missed_ticks: u32,
    /// Accelerometer reads the learner saw as missing.
    pub missing_reads: u32,
}

fn bump(c: &mut u32) {
    *c = c.saturating_add(1);
}

/// The control loop's body: accelerometer → demo → pattern, timed, reported and checkpointed.
pub struct Runner<D, I2C, Dl, F> {
    /// The demo (learner).
    pub demo: D,
    accel: Accelerometer<I2C, Dl>,
    store: Option<CheckpointStore<F>>,
    deadline: Deadline,
    telemetry: TelemetryBuilder,
    settings: Settings,
    stats: RunnerStats,
    last_feedback: Fix,
    saved: [u8; MAX_STATE_BYTES],
    frame: [u8; MAX_FRAME_LEN],
}

impl<D: Demo, I2C: I2c, Dl: DelayNs, F: NorFlash> Runner<D, I2C, Dl, F> {
    const STATE_FITS: () = assert!(D::STATE_BYTES <= MAX_STATE_BYTES);

    /// A runner; `store` is `None` when the board has no usable checkpoint region.
    pub fn new(
        demo: D,
        accel: Accelerometer<I2C, Dl>,
        store: Option<CheckpointStore<F>>,
        settings: Settings,
    ) -> Self {
        let () = Self::STATE_FITS;
        Self {
            demo,
            accel,
            store,
            deadline: Deadline::new(Counter::DWT_CYCCNT, settings.budget_cycles),
            telemetry: TelemetryBuilder::new(),
            settings,
            stats: RunnerStats::default(),
            last_feedback: Fix::ZERO,
            saved: [0; MAX_STATE_BYTES],
            frame: [0; MAX_FRAME_LEN],
        }
    }

    fn send(&mut self, msg: &Message<'_>, sink: &mut impl FrameSink) {
        let ok = match encode_frame(msg, &mut self.frame) {
            Ok(bytes) => sink.send(bytes),
            Err(_) => false,
        };
        bump(if ok {
            &mut self.stats.frames_sent
        } else {
            &mut self.stats.frames_failed
        });
    }

    /// Restores the newest checkpoint of this model (if any) and sends `Hello`.
    pub fn boot(&mut self, sink: &mut impl FrameSink) -> BootReport {
        let n = D::STATE_BYTES;
        let hash = self.demo.model_hash();
        let mut buf = [0u8; MAX_STATE_BYTES];
        let report = match self.store.as_mut() {
            None => BootReport::NoStorage,
            Some(store) => match store.load(hash, &mut buf[..n]) {
                Ok(Some(r)) if self.demo.load(&buf[..n]) => BootReport::Restored(r.seq),
                Ok(Some(_)) | Err(CheckpointError::SizeMismatch { .. }) => BootReport::Refused,
                Ok(None) => BootReport::Fresh,
                Err(CheckpointError::ModelMismatch { .. })
                | Err(CheckpointError::FormatMismatch { .. }) => BootReport::Refused,
                Err(_) => BootReport::NoStorage,
            },
        };
        self.demo.save(&mut self.saved[..n]);
        let sizes = self.demo.sizes();
        self.send(
            &Message::Hello(Hello {
                protocol: PROTOCOL_VERSION,
                board: BOARD,
                experiment: D::NAME,
                model_hash: hash,
                sizes,
            }),
            sink,
        );
        report
    }

    /// One control step started at DWT count `now`: reads the accelerometer, steps the demo with the
    /// user's `feedback`, sends telemetry every [`Settings::telemetry_every`] steps; returns what to
    /// show. Call [`Runner::finish`] with the count at its end.
    pub fn step(
        &mut self,
        now: u32,
        feedback: Fix,
        sink: &mut impl FrameSink,
    ) -> (Pattern, AccelReading) {
        self.deadline.start(now);
        let reading = self.accel.read();
        let mut obs = [Fix::ZERO; ACCEL_CHANNELS];
        reading.write_observation(&mut obs);
        let missing = matches!(reading, AccelReading::Missing(_));
        if missing {
            bump(&mut self.stats.missing_reads);
        }
        // Protocol v1 has no sensor-fault field: missing reads travel as the one "population".
        self.telemetry.add_spikes(&[u32::from(missing)]);
        let pattern = self.demo.step(&obs, feedback);
        if feedback != Fix::ZERO {
            self.last_feedback = feedback;
        }
        bump(&mut self.stats.steps);
        let every = self.settings.telemetry_every;
        if every > 0 && self.stats.steps.is_multiple_of(every) {
            let health = self.health();
            let stats = [self.demo.weight_stats()];
            let t = self.telemetry.build(
                self.stats.steps,
                self.demo.objective(),
                self.last_feedback,
                &stats,
                &health,
            );
            self.last_feedback = Fix::ZERO;
            self.send(&Message::Telemetry(t), sink);
        }
        (pattern, reading)
    }

    /// Ends the step started last at DWT count `now`; its cost and whether it overran.
    pub fn finish(&mut self, now: u32) -> Option<StepCost> {
        self.deadline.finish(now)
    }

    /// Counts `n` control ticks that came while the loop was busy.
    pub fn missed_ticks(&mut self, n: u32) {
        self.stats.missed_ticks = self.stats.missed_ticks.saturating_add(n);
    }

    /// Every [`Settings::checkpoint_every`] steps, if the learned state changed since the last save:
    /// saves it to flash and sends it to the host as `Checkpoint` frames. Call it outside the timed
    /// step. `None` when nothing was due.
    pub fn checkpoint(&mut self, sink: &mut impl FrameSink) -> Option<Result<Seq, ()>> {
        let every = self.settings.checkpoint_every;
        if every == 0 || !self.stats.steps.is_multiple_of(every) {
            return None;
        }
        self.save_now(sink)
    }

    /// Saves now if the learned state changed since the last save (see [`Runner::checkpoint`]).
    pub fn save_now(&mut self, sink: &mut impl FrameSink) -> Option<Result<Seq, ()>> {
        let n = D::STATE_BYTES;
        let mut image = [0u8; MAX_STATE_BYTES];
        self.demo.save(&mut image[..n]);
        if image[..n] == self.saved[..n] {
            return None;
        }
        let hash = self.demo.model_hash();
        let result = match self.store.as_mut() {
            Some(store) => store.save(hash, &image[..n]).map_err(|_| ()),
            None => Err(()),
        };
        match result {
            Ok(_) => {
                bump(&mut self.stats.saves);
                self.saved = image;
            }
            Err(()) => bump(&mut self.stats.save_errors),
        }
        for chunk in engram_link::chunks(&image[..n]) {
            self.send(&Message::Checkpoint(chunk), sink);
        }
        Some(result)
    }

    /// Every counter the board keeps, for logging.
    pub fn health(&self) -> Health {
        Health {
            deadline: self.deadline.stats(),
            sensors: self.accel.faults(),
            actuator_errors: 0,
            link: engram_link::LinkErrors::default(),
        }
    }

    /// The runner's own counters.
    pub fn stats(&self) -> RunnerStats {
        self.stats
    }

    /// The checkpoint store, if any (tests inspect the simulated flash).
    pub fn store(&self) -> Option<&CheckpointStore<F>> {
        self.store.as_ref()
    }

    /// Ends the runner, giving the checkpoint store back (a test's "reset").
    pub fn into_store(self) -> Option<CheckpointStore<F>> {
        self.store
    }
}
