//! The robot: the phototaxis agent between two eyes and two wheels, one tick at a time, with every
//! fault handled. No HAL here: the firmware converts the ADC inputs, reads the timer and owns the
//! motors' pins; this module decides. Tested on the host (`tests` below, and `crate::tests`).
//!
//! ## One tick (the firmware calls [`Robot::tick`] from the timer interrupt every [`TICK_US`] µs)
//! 1. both conversions are classified by the [`Eyes`] (range, stuck, converter errors counted);
//! 2. the readings go to the agent's world ([`SensedLight::set_sensors`]: a missing eye reads 0);
//! 3. **fault**: if an eye is missing, the wheels stop at once and plasticity is off (nothing is learned
//!    from a broken sensor); when both eyes read again, the wheels resume at the next control step
//!    and plasticity returns to its setting;
//! 4. one network step (1 ms of model time, [`DT_MS`](engram_lab::phototaxis::DT_MS));
//! 5. at the end of a control period (`period_ms` network steps): the wheel speeds
//!    `v / v_max ∈ [0, 1]` become the motors' duty cycles (forward only, as in the simulator);
//! 6. the step's cost (timer µs) goes to the [`Deadline`] tracker; a cost above [`TICK_US`] is an
//!    overrun.
//!
//! The tick reports whether telemetry and a checkpoint are due; the firmware sends and saves them
//! outside the step.

use embedded_hal::digital::OutputPin;
use embedded_hal::pwm::SetDutyCycle;
use engram::Fix;
use engram::hash::Fnv64;
use engram_board::actuator::MotorPair;
use engram_board::control::{Counter, Deadline, Health, StepCost, TelemetryBuilder};
use engram_lab::phototaxis::{Config, Network, SensedLight};
use engram_link::{
    Ack, Assembler, Command, ErrorCode, ErrorReport, HealthReport, Hello, LinkErrors, Message,
    Param, Sizes, Telemetry, WeightStats,
};

use crate::light::Eyes;

/// Poisson cells per eye and LIF neurons per wheel: the host simulator's default.
pub const CELLS: usize = 16;
/// LIF neurons per wheel.
pub const MOTOR: usize = 16;
/// Sensor cells (both eyes).
pub const N_IN: usize = 2 * CELLS;
/// Motor neurons (both wheels).
pub const N_OUT: usize = 2 * MOTOR;
/// Bytes of a checkpoint: the `N_IN · N_OUT` plastic weights, `i16` little-endian, row-major by sensor
/// cell (the same order as `Dense::weights`).
pub const STATE_BYTES: usize = 2 * N_IN * N_OUT;
/// Microseconds between two ticks (one network step of 1 ms model time each): 83 Hz. One step of
/// the default phototaxis network executes 773 000 instructions on average (933 000 at most) on a
/// Cortex-M0 (measured under QEMU's `microbit` machine with `-icount`; 1 024 plastic synapses with
/// three eligibility terms every step, 64-bit products in software): ≈ 6–9 ms on the 125 MHz
/// Cortex-M0+. So model time runs 12× slower than wall-clock time and a control period of 20 steps
/// lasts 240 ms (≈ 4 Hz steering). The deadline tracker measures the real cost; telemetry reports it.
pub const TICK_US: u32 = 12_000;
/// `I_L + I_R` at or above which the light counts as reached (an episode ends with success).
pub const REACH_LEVEL: Fix = Fix::from_bits(118_000); // ≈ 1.8: both eyes at 90 % of "bright"

/// The agent's configuration on the board: the host simulator's default, plasticity on from the start
/// (`baseline_episodes` 0), episodes of `timeout` control steps.
pub fn config() -> Config {
    let cfg = Config {
        seed: 1,
        baseline_episodes: 0,
        ..Config::default()
    };
    debug_assert_eq!((cfg.cells, cfg.motor), (CELLS, MOTOR));
    cfg
}

/// The model's fingerprint (FNV-1a 64 of every configuration value that shapes the network or its
/// checkpoint): a checkpoint or a host of another model is refused.
pub fn model_hash(cfg: &Config) -> u64 {
    let mut h = Fnv64::new();
    h.write(b"engram-rp-pico/phototaxis/1");
    for n in [cfg.cells, cfg.motor] {
        h.write_u64(n as u64);
    }
    h.write(&[cfg.weights.bits, cfg.weights.soft as u8]);
    for x in [
        cfg.weights.w_min,
        cfg.weights.w_max,
        cfg.sensor_hz,
        cfg.motor_full_hz,
        cfg.motor_bias_mv,
        cfg.motor_noise_mv,
        cfg.a,
        cfg.tau_pre_ms,
        cfg.tau_rate_ms,
        cfg.scaling,
        cfg.target_hz,
        cfg.tau_eligibility_ms,
        cfg.lr,
        cfg.baseline_rate,
        cfg.reward_gain,
        cfg.v_max,
    ] {
        h.write_u32(x.to_bits());
    }
    h.write_u32(cfg.period_ms);
    h.finish()
}

/// The network's storage for [`CELLS`]/[`MOTOR`] in plain arrays (a `static` on the board): the
/// experiment's own, for its default size, which these constants must be.
pub use engram_lab::phototaxis::Arrays;
const _: () = assert!(
    N_IN == engram_lab::phototaxis::DEFAULT_INPUTS
        && N_OUT == engram_lab::phototaxis::DEFAULT_MOTORS
);

/// The two wheels as the robot drives them: a speed per wheel in `[0, 1]` (duty cycle, forward).
pub trait Wheels {
    /// Drives both wheels; `false` if a command failed (the wheel is then stopped as well as the
    /// hardware allows).
    fn drive(&mut self, left: Fix, right: Fix) -> bool;
    /// Failed commands since start (saturating).
    fn errors(&self) -> u32;
    /// Both wheels off (coasting).
    fn stop(&mut self) -> bool {
        self.drive(Fix::ZERO, Fix::ZERO)
    }
}

impl<PL, AL, BL, PR, AR, BR> Wheels for MotorPair<PL, AL, BL, PR, AR, BR>
where
    PL: SetDutyCycle,
    AL: OutputPin,
    BL: OutputPin,
    PR: SetDutyCycle,
    AR: OutputPin,
    BR: OutputPin,
{
    fn drive(&mut self, left: Fix, right: Fix) -> bool {
        MotorPair::drive(self, &[left, right])
    }

    fn errors(&self) -> u32 {
        MotorPair::errors(self)
    }
}

/// Run-time settings (changed by host commands).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Network steps between two telemetry messages (0: none).
    pub telemetry_every: u32,
    /// Control steps between two checkpoints to flash (0: only on command).
    pub checkpoint_every: u32,
}

impl Settings {
    /// Telemetry every 100 steps (1.2 s at the 12 ms tick), a checkpoint every 1 250 control steps
    /// (5 minutes at 240 ms: 288 saves a day over the 16 slots of `qspi::CHECKPOINT_REGION`, so each
    /// sector is erased 18 times a day and its 100 000 cycles last over 15 years).
    pub const DEFAULT: Settings = Settings {
        telemetry_every: 100,
        checkpoint_every: 1_250,
    };
}

/// What a tick did and what is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tick {
    /// A control step ended (the wheels got a new command, or were kept stopped).
    pub control: bool,
    /// Telemetry is due ([`Robot::telemetry`]).
    pub telemetry: bool,
    /// A periodic checkpoint is due ([`Robot::snapshot`], then [`Robot::checkpoint_done`]).
    pub checkpoint: bool,
    /// The step's cost (`None` while paused).
    pub cost: Option<StepCost>,
}

/// What the firmware must do after a host message (besides sending the replies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// Nothing.
    None,
    /// Save a checkpoint to flash now.
    SaveCheckpoint,
    /// Send the learned state as checkpoint chunks.
    SendCheckpoint,
}

/// Why a checkpoint image was refused (the running weights are kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestoreError {
    /// Not [`STATE_BYTES`] long.
    Size {
        /// Bytes offered.
        got: usize,
    },
}

/// The robot (see the module doc).
pub struct Robot<'a, W> {
    net: Network<'a, SensedLight>,
    /// The two light sensors.
    pub eyes: Eyes,
    wheels: W,
    deadline: Deadline,
    telemetry: TelemetryBuilder,
    upload: Assembler<'a>,
    model_hash: u64,
    settings: Settings,
    period: u32,
    phase: u32,
    telemetry_in: u32,
    checkpoint_in: u32,
    control_steps: u32,
    plasticity: bool,
    paused: bool,
    faulted: bool,
    present: u32,
    checkpoints_saved: u32,
    checkpoint_errors: u32,
    link: LinkErrors,
}

impl<'a, W: Wheels> Robot<'a, W> {
    /// The robot of `cfg` on `arrays` (a fresh network: the simulator's initial weights), with
    /// `upload` as the buffer for a checkpoint pushed by the host. Wheels are stopped.
    pub fn new(
        cfg: &Config,
        arrays: &'a mut Arrays,
        upload: &'a mut [u8; STATE_BYTES],
        eyes: Eyes,
        mut wheels: W,
        settings: Settings,
    ) -> Result<Self, engram::ConfigError> {
        let mut world = SensedLight::new(cfg)?;
        world.set_reach_level(Some(REACH_LEVEL));
        let net = Network::with_world(cfg, arrays.storage(), world)?;
        wheels.stop();
        Ok(Self {
            net,
            eyes,
            wheels,
            deadline: Deadline::new(Counter::RP2040_TIMER, TICK_US),
            telemetry: TelemetryBuilder::new(),
            upload: Assembler::new(upload),
            model_hash: model_hash(cfg),
            settings,
            period: cfg.period_ms.max(1),
            phase: 0,
            telemetry_in: settings.telemetry_every,
            checkpoint_in: settings.checkpoint_every,
            control_steps: 0,
            plasticity: true,
            paused: false,
            faulted: false,
            present: 0,
            checkpoints_saved: 0,
            checkpoint_errors: 0,
            link: LinkErrors::default(),
        })
    }

    /// The network (for reports).
    pub fn network(&self) -> &Network<'a, SensedLight> {
        &self.net
    }

    /// The wheels.
    pub fn wheels(&self) -> &W {
        &self.wheels
    }

    /// The model's fingerprint (checkpoints and `Hello`).
    pub const fn model_hash(&self) -> u64 {
        self.model_hash
    }

    /// An eye is missing: wheels stopped, plasticity off.
    pub const fn faulted(&self) -> bool {
        self.faulted
    }

    /// Stepping is paused ([`Command::Pause`]).
    pub const fn paused(&self) -> bool {
        self.paused
    }

    /// The settings in force.
    pub const fn settings(&self) -> Settings {
        self.settings
    }

    /// Control steps since boot.
    pub const fn control_steps(&self) -> u32 {
        self.control_steps
    }

    /// One tick (see the module doc). `start` is the timer's value when the tick began (before the
    /// conversions), `now` reads it again at the end; `left`/`right` are the conversions (`Err(())`: the
    /// converter failed).
    pub fn tick(
        &mut self,
        start: u32,
        left: Result<u16, ()>,
        right: Result<u16, ()>,
        now: impl FnOnce() -> u32,
    ) -> Tick {
        let (l, r) = (self.eyes.left.accept(left), self.eyes.right.accept(right));
        self.present = u32::from(l.is_ok()) | (u32::from(r.is_ok()) << 1);
        if self.paused {
            return Tick {
                control: false,
                telemetry: false,
                checkpoint: false,
                cost: None,
            };
        }
        self.deadline.start(start);
        self.net.world_mut().set_sensors(l.ok(), r.ok());
        let missing = l.is_err() || r.is_err();
        if missing && !self.faulted {
            self.wheels.stop();
        }
        self.faulted = missing;
        let learn = self.plasticity && !self.faulted;
        if self.net.learning() != learn {
            self.net.set_learning(learn);
        }
        self.net.step();
        let agent = &self.net.agent;
        self.telemetry.add_spikes(&[
            agent.input_spikes().len() as u32,
            agent.brain().pop.spikes.len() as u32,
        ]);
        self.phase += 1;
        let control = self.phase >= self.period;
        let mut checkpoint = false;
        if control {
            self.phase = 0;
            self.control_steps = self.control_steps.saturating_add(1);
            if self.faulted {
                self.wheels.stop();
            } else {
                let world = self.net.world();
                let (vl, vr) = world.wheels();
                let v_max = world.v_max();
                self.wheels.drive(duty(vl, v_max), duty(vr, v_max));
            }
            checkpoint = countdown(&mut self.checkpoint_in, self.settings.checkpoint_every);
        }
        let telemetry = countdown(&mut self.telemetry_in, self.settings.telemetry_every);
        let cost = self.deadline.finish(now());
        Tick {
            control,
            telemetry,
            checkpoint,
            cost,
        }
    }

    /// Bit 0: the left eye's last reading was good; bit 1: the right eye's.
    pub const fn sensors_present(&self) -> u32 {
        self.present
    }

    /// All fault counters.
    pub fn health(&self) -> Health {
        Health {
            deadline: self.deadline.stats(),
            sensors: self.eyes.faults(),
            actuator_errors: self.wheels.errors(),
            link: self.link,
        }
    }

    /// The telemetry frame and its [`HealthReport`] (spike counts since the previous one).
    pub fn telemetry(&mut self) -> (Telemetry, HealthReport) {
        let step = self.net.agent.steps() as u32;
        let health = self.health();
        let stats = self.weight_stats();
        let critic = self.net.agent.critic();
        let t = self.telemetry.build(
            step,
            critic.baseline(),
            self.net.last_reward(),
            &[stats],
            &health,
        );
        let h = health.report(
            step,
            self.present,
            1,
            self.checkpoints_saved,
            self.checkpoint_errors,
        );
        (t, h)
    }

    /// Mean, min, max (mV) and weights at a bound of the sensor → motor projection.
    pub fn weight_stats(&self) -> WeightStats {
        let p = &self.net.agent.brain().input;
        let scale = p.proj.scale();
        let (lo, hi) = p.rule().bounds();
        let w = p.proj.weights();
        let (mut sum, mut min, mut max, mut saturated) = (0i64, i32::MAX, i32::MIN, 0u32);
        for &x in w {
            let x = i32::from(x);
            sum += i64::from(x);
            min = min.min(x);
            max = max.max(x);
            saturated += u32::from(x <= lo || x >= hi);
        }
        let n = w.len().max(1) as f32;
        let fix = |v: f32| Fix::saturating_from_num(v);
        WeightStats {
            mean: fix(scale.to_f32(1) * sum as f32 / n),
            min: fix(scale.to_f32(min.min(max))),
            max: fix(scale.to_f32(max.max(min))),
            saturated,
        }
    }

    /// Writes the learned state (the weights, see [`STATE_BYTES`]) into `out`.
    pub fn snapshot(&self, out: &mut [u8; STATE_BYTES]) {
        let w = self.net.agent.brain().input.proj.weights();
        for (o, x) in out.chunks_exact_mut(2).zip(w) {
            o.copy_from_slice(&x.to_le_bytes());
        }
    }

    /// Replaces the weights with a checkpoint image (each weight clamped to the rule's bounds). The
    /// activity (potentials, traces, eligibilities, rates) is kept.
    pub fn restore(&mut self, image: &[u8]) -> Result<(), RestoreError> {
        if image.len() != STATE_BYTES {
            return Err(RestoreError::Size { got: image.len() });
        }
        let p = &mut self.net.agent.brain_mut().input;
        let (lo, hi) = p.rule().bounds();
        for (w, b) in p.proj.weights_mut().iter_mut().zip(image.chunks_exact(2)) {
            let x = i16::from_le_bytes([b[0], b[1]]);
            *w = i32::from(x).clamp(lo, hi) as i16;
        }
        Ok(())
    }

    /// Records the outcome of a checkpoint save (for telemetry).
    pub fn checkpoint_done(&mut self, ok: bool) {
        if ok {
            self.checkpoints_saved = self.checkpoints_saved.saturating_add(1);
        } else {
            self.checkpoint_errors = self.checkpoint_errors.saturating_add(1);
        }
    }

    /// Stops the wheels now (before a flash write, which blocks the loop for tens of ms).
    pub fn stop_wheels(&mut self) {
        self.wheels.stop();
    }

    /// The receive-side link counters, as the firmware's decoder counted them (for telemetry).
    pub fn set_link_errors(&mut self, errors: LinkErrors) {
        self.link = errors;
    }

    /// This board's `Hello`.
    pub fn hello(&self) -> Hello<'static> {
        Hello {
            protocol: engram_link::PROTOCOL_VERSION,
            board: "rp-pico",
            experiment: "phototaxis",
            model_hash: self.model_hash,
            sizes: Sizes {
                observation_len: 2,
                action_len: 2,
                populations: 2,
                projections: 1,
                neurons: (N_IN + N_OUT) as u32,
                synapses: (N_IN * N_OUT) as u32,
                state_bytes: STATE_BYTES as u32,
                step_us: TICK_US,
            },
        }
    }

    /// Handles one message from the host: `reply` receives the answers (in order), the return value
    /// says what the firmware must do besides.
    pub fn handle(&mut self, msg: &Message<'_>, reply: &mut impl FnMut(&Message<'_>)) -> Request {
        let of = msg.kind();
        let ack = |seq| Message::Ack(Ack { of, seq });
        let refuse = |code| Message::Error(ErrorReport { of, code });
        match msg {
            Message::Hello(h) => match h.check(self.model_hash) {
                Ok(()) => reply(&Message::Hello(self.hello())),
                Err(code) => {
                    reply(&refuse(code));
                    reply(&Message::Hello(self.hello()));
                }
            },
            Message::Command(c) => match c {
                Command::Pause => {
                    self.paused = true;
                    self.wheels.stop();
                    reply(&ack(0));
                }
                Command::Resume => {
                    self.paused = false;
                    reply(&ack(0));
                }
                Command::Set(Param::Plasticity(on)) => {
                    self.plasticity = *on;
                    reply(&ack(0));
                }
                Command::Set(Param::TelemetryPeriod(n)) => {
                    self.settings.telemetry_every = *n;
                    self.telemetry_in = *n;
                    reply(&ack(0));
                }
                Command::SaveCheckpoint => return Request::SaveCheckpoint,
                Command::SendCheckpoint => return Request::SendCheckpoint,
                Command::Report => {
                    let (t, h) = self.telemetry();
                    reply(&Message::Telemetry(t));
                    reply(&Message::Health(h));
                }
                // Reset needs the agent's own generator; learning rate and exploration are fixed by the
                // configuration (the model hash covers them).
                Command::Reset | Command::Set(_) => reply(&refuse(ErrorCode::Unsupported)),
            },
            Message::Checkpoint(chunk) => match self.upload.accept(chunk) {
                Ok(false) => reply(&ack(chunk.offset)),
                Ok(true) => {
                    let mut image = [0u8; STATE_BYTES];
                    let ok = match self.upload.image() {
                        Some(i) if i.len() == STATE_BYTES => {
                            image.copy_from_slice(i);
                            true
                        }
                        _ => false,
                    };
                    if ok && self.restore(&image).is_ok() {
                        reply(&ack(chunk.offset));
                    } else {
                        reply(&refuse(ErrorCode::CheckpointRejected));
                    }
                }
                Err(e) => reply(&refuse(e.code())),
            },
            _ => reply(&refuse(ErrorCode::Unsupported)),
        }
        Request::None
    }
}

/// `v / v_max` in `[0, 1]` (Q16.16, truncated; 0 if `v_max` is not positive).
fn duty(v: Fix, v_max: Fix) -> Fix {
    if v_max <= Fix::ZERO {
        return Fix::ZERO;
    }
    let q = (i64::from(v.to_bits().max(0)) << 16) / i64::from(v_max.to_bits());
    Fix::from_bits(q.min(1 << 16) as i32)
}

/// Counts `left` down; `true` (and reload with `every`) when it reaches 0. `every` 0 never fires.
fn countdown(left: &mut u32, every: u32) -> bool {
    if every == 0 {
        return false;
    }
    *left = left.saturating_sub(1);
    if *left == 0 {
        *left = every;
        true
    } else {
        false
    }
}
