//! Host tests of the robot's loop: fake wheels and timer, mocked motor pins, a RAM model of the QSPI
//! flash. What the firmware adds on top (HAL calls) is thin; everything decided is decided here.

use std::boxed::Box;
use std::vec::Vec;

use embedded_hal_mock::eh1::digital::{Mock as PinMock, State, Transaction as Pin};
use embedded_hal_mock::eh1::pwm::{Mock as PwmMock, Transaction as Pwm};
use engram::Fix;
use engram_board::CheckpointStore;
use engram_board::actuator::{Motor, MotorPair};
use engram_board::sensor::Missing;
use engram_link::{
    Ack, Command, Decoder, Encoder, ErrorCode, ErrorReport, Message, MessageKind, Param, chunks,
};

use crate::light::{Eyes, LdrConfig};
use crate::outbox::Outbox;
use crate::qspi::{CHECKPOINT_REGION, QspiFlash, RamChip};
use crate::robot::{
    Arrays, Request, Robot, STATE_BYTES, Settings, TICK_US, Wheels, config, model_hash,
};

/// Records every wheel command; can be told to fail.
#[derive(Default)]
struct FakeWheels {
    commands: Vec<(Fix, Fix)>,
    fail: bool,
    errors: u32,
}

impl Wheels for FakeWheels {
    fn drive(&mut self, left: Fix, right: Fix) -> bool {
        self.commands.push((left, right));
        if self.fail {
            self.errors += 1;
        }
        !self.fail
    }

    fn errors(&self) -> u32 {
        self.errors
    }
}

const STOP: (Fix, Fix) = (Fix::ZERO, Fix::ZERO);

/// A robot on leaked storage (a test's stand-in for the firmware's `static`s).
fn robot<W: Wheels>(wheels: W, settings: Settings) -> Robot<'static, W> {
    let arrays = Box::leak(Box::new(Arrays::new()));
    let upload = Box::leak(Box::new([0u8; STATE_BYTES]));
    Robot::new(
        &config(),
        arrays,
        upload,
        Eyes::new(LdrConfig::DEFAULT),
        wheels,
        settings,
    )
    .unwrap()
}

/// Counts a live LDR would give: `base` plus a little noise (so it never looks stuck).
fn live(base: u16, t: u32) -> Result<u16, ()> {
    Ok(base + (t % 3) as u16)
}

/// One tick at time `t` ticks, costing `cost_us`.
fn tick<W: Wheels>(
    r: &mut Robot<'_, W>,
    t: u32,
    left: Result<u16, ()>,
    right: Result<u16, ()>,
    cost_us: u32,
) -> crate::robot::Tick {
    let start = t.wrapping_mul(TICK_US);
    r.tick(start, left, right, || start.wrapping_add(cost_us))
}

#[test]
fn the_wheels_get_the_agents_speeds_once_per_control_period() {
    let mut r = robot(FakeWheels::default(), Settings::DEFAULT);
    assert_eq!(r.wheels().commands, [STOP], "stopped at construction");
    let period = config().period_ms;
    let mut controls = 0;
    for t in 0..10 * period {
        let out = tick(&mut r, t, live(3000, t), live(1000, t), 800);
        assert_eq!(out.control, (t + 1) % period == 0, "tick {t}");
        controls += u32::from(out.control);
        assert!(!out.cost.unwrap().overrun);
    }
    assert_eq!(controls, 10);
    assert_eq!(r.control_steps(), 10);
    let cmds = &r.wheels().commands;
    assert_eq!(cmds.len(), 11);
    // Duty = v / v_max in [0, 1]; the agent's tonic drive makes the wheels turn.
    assert!(cmds[1..].iter().all(
        |&(l, rr)| (Fix::ZERO..=Fix::ONE).contains(&l) && (Fix::ZERO..=Fix::ONE).contains(&rr)
    ));
    assert!(cmds[1..].iter().any(|&c| c != STOP));
    // The agent saw the calibrated intensities: left (3000 counts) brighter than right (1000).
    let obs = r.network().agent.observation();
    assert!(obs[0] > obs[1] && obs[1] > Fix::ZERO, "{obs:?}");
    assert!(!r.faulted());
    assert_eq!(r.sensors_present(), 0b11);
}

#[test]
fn a_missing_eye_stops_the_wheels_at_once_pauses_learning_and_is_reported() {
    let mut r = robot(FakeWheels::default(), Settings::DEFAULT);
    let period = config().period_ms;
    for t in 0..period {
        tick(&mut r, t, live(2500, t), live(2000, t), 500);
    }
    assert!(r.network().learning());
    let before = r.wheels().commands.len();
    // The left LDR comes off: its input is pulled to 0 counts.
    let t0 = period;
    let out = tick(&mut r, t0, Ok(0), live(2000, t0), 500);
    assert!(!out.control);
    assert!(r.faulted());
    assert_eq!(r.wheels().commands.len(), before + 1);
    assert_eq!(
        *r.wheels().commands.last().unwrap(),
        STOP,
        "stopped at once"
    );
    assert!(
        !r.network().learning(),
        "nothing is learned from a broken eye"
    );
    assert_eq!(r.sensors_present(), 0b10);
    // It stays broken for two periods (a converter error too): every control step keeps the wheels
    // stopped, the agent sees 0 on the left, nothing panics.
    for t in t0 + 1..t0 + 2 * period {
        let left = if t % 2 == 0 { Ok(0) } else { Err(()) };
        tick(&mut r, t, left, live(2000, t), 500);
    }
    assert!(r.wheels().commands[before..].iter().all(|&c| c == STOP));
    assert_eq!(r.network().agent.observation()[0], Fix::ZERO);
    let (tel, health) = r.telemetry();
    assert_eq!(health.sensors_present, 0b10);
    assert_eq!(health.missing_reads, 2 * period);
    assert_eq!(health.sensor_faults, 2 * period);
    assert_eq!(health.recoveries, 0);
    assert_eq!(tel.deadline_overruns, 0);
    assert_eq!(r.eyes.left.faults().bus_errors, period);
    // Back: learning resumes, and the wheels move again at the next control step.
    let t1 = t0 + 2 * period;
    for t in t1..t1 + period {
        tick(&mut r, t, live(2500, t), live(2000, t), 500);
    }
    assert!(!r.faulted());
    assert!(r.network().learning());
    assert_ne!(*r.wheels().commands.last().unwrap(), STOP);
    assert_eq!(r.telemetry().1.recoveries, 1);
}

#[test]
fn a_stuck_eye_is_missing() {
    let mut r = robot(FakeWheels::default(), Settings::DEFAULT);
    let stuck_after = u32::from(LdrConfig::DEFAULT.stuck_after);
    // The first reading and `stuck_after - 1` repeats pass; the next repeat is stuck.
    for t in 0..stuck_after {
        tick(&mut r, t, Ok(1234), live(2000, t), 500);
        assert!(!r.faulted(), "tick {t}");
    }
    let out = tick(&mut r, stuck_after, Ok(1234), live(2000, 0), 500);
    assert!(r.faulted());
    assert_eq!(r.eyes.left.faults().stuck, 1);
    assert!(out.cost.is_some());
    assert_eq!(
        r.eyes.left.accept(Ok(1234)),
        Err(Missing::Stuck),
        "still the same"
    );
}

#[test]
fn a_slow_step_is_an_overrun_in_telemetry_and_health() {
    let mut r = robot(FakeWheels::default(), Settings::DEFAULT);
    tick(&mut r, 0, live(2000, 0), live(2000, 0), 700);
    let out = tick(&mut r, 1, live(2000, 1), live(2000, 1), TICK_US + 1);
    assert!(out.cost.unwrap().overrun);
    // The timer wraps (32-bit µs, every 71.6 minutes): a step across the wrap is measured right.
    let start = u32::MAX - 100;
    let out = r.tick(start, live(2000, 2), live(2000, 2), || 400);
    assert_eq!(out.cost.unwrap().ticks, 501);
    let (tel, health) = r.telemetry();
    assert_eq!(tel.deadline_overruns, 1);
    assert_eq!(health.deadline_overruns, 1);
    assert_eq!(health.max_step_us, TICK_US + 1);
    assert_eq!(tel.spike_counts.len(), 2, "sensor cells, motor neurons");
    assert_eq!(tel.weights.len(), 1);
}

#[test]
fn failing_wheels_are_counted() {
    let wheels = FakeWheels {
        fail: true,
        ..FakeWheels::default()
    };
    let mut r = robot(wheels, Settings::DEFAULT);
    for t in 0..config().period_ms {
        tick(&mut r, t, live(2000, t), live(2000, t), 500);
    }
    assert_eq!(
        r.telemetry().1.actuator_errors,
        2,
        "construction stop + one control step"
    );
}

#[test]
fn telemetry_and_checkpoints_come_when_due() {
    let settings = Settings {
        telemetry_every: 7,
        checkpoint_every: 3,
    };
    let mut r = robot(FakeWheels::default(), settings);
    let period = config().period_ms;
    let (mut tel, mut ck) = (Vec::new(), Vec::new());
    for t in 0..9 * period {
        let out = tick(&mut r, t, live(2000, t), live(2100, t), 500);
        if out.telemetry {
            tel.push(t);
        }
        if out.checkpoint {
            ck.push(t);
        }
    }
    assert_eq!(tel.len() as u32, 9 * period / 7);
    assert_eq!(tel[0], 6);
    assert_eq!(ck, [3 * period - 1, 6 * period - 1, 9 * period - 1]);
}

/// A robot that has learned something: its weights differ from a fresh one's.
fn trained() -> Robot<'static, FakeWheels> {
    let mut r = robot(FakeWheels::default(), Settings::DEFAULT);
    // A light on the left that grows brighter whenever the right wheel was faster (a left turn).
    let mut heading = 0i32;
    for t in 0..6000 {
        if let Some(&(l, rr)) = r.wheels().commands.last() {
            heading = (heading + ((rr - l).to_bits() >> 12)).clamp(-1500, 1500);
        }
        let left = 2000 + heading / 2;
        tick(
            &mut r,
            t,
            live(left as u16, t),
            live((4000 - left) as u16, t),
            900,
        );
    }
    r
}

fn weights<W: Wheels>(r: &Robot<'_, W>) -> Vec<i16> {
    r.network().agent.brain().input.proj.weights().to_vec()
}

#[test]
fn learned_weights_survive_a_reset_through_the_qspi_flash() {
    let a = trained();
    let fresh = robot(FakeWheels::default(), Settings::DEFAULT);
    assert_ne!(weights(&a), weights(&fresh), "it learned something");
    let hash = model_hash(&config());
    let mut chip = RamChip::new();
    {
        let mut store = CheckpointStore::new(QspiFlash::new(&mut chip), CHECKPOINT_REGION).unwrap();
        assert_eq!(store.newest(), None, "a blank chip");
        let mut image = [0u8; STATE_BYTES];
        fresh.snapshot(&mut image);
        store.save(hash, &image).unwrap();
        a.snapshot(&mut image);
        store.save(hash, &image).unwrap();
    }
    // Reset: a new robot, a new store over the same chip; boot restores the newest checkpoint.
    let mut b = robot(FakeWheels::default(), Settings::DEFAULT);
    let mut store = CheckpointStore::new(QspiFlash::new(&mut chip), CHECKPOINT_REGION).unwrap();
    let mut image = [0u8; STATE_BYTES];
    let restored = store.load(hash, &mut image).unwrap().unwrap();
    assert_eq!(restored.seq.0, 2);
    b.restore(&image).unwrap();
    assert_eq!(weights(&b), weights(&a));
    // Another model's checkpoint is refused, the buffer untouched.
    let mut other = [7u8; STATE_BYTES];
    assert!(store.load(hash ^ 1, &mut other).is_err());
    assert!(other.iter().all(|&x| x == 7));
    // Nothing below the window was touched.
    let _ = store.release();
    assert!(chip.bytes[..0x1F_0000].iter().all(|&x| x == 0xFF));
    assert!(b.restore(&image[1..]).is_err());
}

fn answers<W: Wheels>(r: &mut Robot<'_, W>, msg: &Message<'_>) -> (Vec<Vec<u8>>, Request) {
    let mut enc = Encoder::new();
    let mut out = Vec::new();
    let req = r.handle(msg, &mut |m| out.push(enc.encode(m).unwrap().to_vec()));
    (out, req)
}

fn decode(frame: &[u8]) -> Message<'static> {
    let mut bytes = frame.to_vec();
    bytes.pop(); // the delimiter
    let leaked: &'static mut [u8] = Box::leak(bytes.into_boxed_slice());
    engram_link::decode_frame(leaked).unwrap()
}

#[test]
fn host_commands_pause_resume_plasticity_and_checkpoint_transfer() {
    let mut r = robot(FakeWheels::default(), Settings::DEFAULT);
    // Hello: the board answers with its own; another model gets an error first.
    let hello = r.hello();
    let (out, _) = answers(&mut r, &Message::Hello(hello.clone()));
    assert_eq!(decode(&out[0]), Message::Hello(hello.clone()));
    let mut wrong = hello.clone();
    wrong.model_hash ^= 1;
    let (out, _) = answers(&mut r, &Message::Hello(wrong));
    assert_eq!(
        decode(&out[0]),
        Message::Error(ErrorReport {
            of: MessageKind::Hello,
            code: ErrorCode::ModelMismatch
        })
    );
    // Pause stops the wheels and the stepping.
    let ack = Message::Ack(Ack {
        of: MessageKind::Command,
        seq: 0,
    });
    let (out, _) = answers(&mut r, &Message::Command(Command::Pause));
    assert_eq!(decode(&out[0]), ack);
    assert!(r.paused());
    assert_eq!(*r.wheels().commands.last().unwrap(), STOP);
    let out = tick(&mut r, 0, live(2000, 0), live(2000, 0), 100);
    assert!(out.cost.is_none() && !out.control);
    assert_eq!(r.network().agent.steps(), 0);
    answers(&mut r, &Message::Command(Command::Resume));
    tick(&mut r, 1, live(2000, 1), live(2000, 1), 100);
    assert_eq!(r.network().agent.steps(), 1);
    // Plasticity off sticks across ticks.
    answers(
        &mut r,
        &Message::Command(Command::Set(Param::Plasticity(false))),
    );
    tick(&mut r, 2, live(2000, 2), live(2000, 2), 100);
    assert!(!r.network().learning());
    // Unsupported commands are refused, not ignored.
    let (out, _) = answers(&mut r, &Message::Command(Command::Reset));
    assert_eq!(
        decode(&out[0]),
        Message::Error(ErrorReport {
            of: MessageKind::Command,
            code: ErrorCode::Unsupported
        })
    );
    // Save / send are the firmware's to do.
    assert_eq!(
        answers(&mut r, &Message::Command(Command::SaveCheckpoint)).1,
        Request::SaveCheckpoint
    );
    assert_eq!(
        answers(&mut r, &Message::Command(Command::SendCheckpoint)).1,
        Request::SendCheckpoint
    );
    // A checkpoint pushed by the host, chunk by chunk, replaces the weights once complete.
    let a = trained();
    let mut image = [0u8; STATE_BYTES];
    a.snapshot(&mut image);
    let all: Vec<_> = chunks(&image).collect();
    assert_eq!(all.len(), STATE_BYTES / 256);
    for c in &all {
        let (out, _) = answers(&mut r, &Message::Checkpoint(c.clone()));
        assert_eq!(
            decode(&out[0]),
            Message::Ack(Ack {
                of: MessageKind::Checkpoint,
                seq: c.offset
            })
        );
    }
    assert_eq!(weights(&r), weights(&a));
    // Out of order: refused with the offset wanted.
    let (out, _) = answers(&mut r, &Message::Checkpoint(all[3].clone()));
    assert!(matches!(
        decode(&out[0]),
        Message::Error(ErrorReport {
            code: ErrorCode::CheckpointOrder { .. },
            ..
        })
    ));
}

#[test]
fn telemetry_frames_reach_the_host_intact_through_the_outbox() {
    let mut r = robot(FakeWheels::default(), Settings::DEFAULT);
    for t in 0..100 {
        tick(&mut r, t, live(2000, t), live(2500, t), 600);
    }
    let (tel, health) = r.telemetry();
    let mut enc = Encoder::new();
    let mut out: Outbox<1024> = Outbox::new();
    assert!(out.push(&mut enc, &Message::Telemetry(tel.clone())));
    assert!(out.push(&mut enc, &Message::Health(health)));
    let mut wire = Vec::new();
    out.drain(|b| {
        let n = b.len().min(64); // one USB packet at a time
        wire.extend_from_slice(&b[..n]);
        n
    });
    let mut dec = Decoder::new();
    let mut input = &wire[..];
    assert_eq!(
        dec.feed(&mut input).unwrap().unwrap(),
        Message::Telemetry(tel)
    );
    assert_eq!(
        dec.feed(&mut input).unwrap().unwrap(),
        Message::Health(health)
    );
    assert_eq!(health.step, 100);
    assert_eq!(health.sensors_present, 0b11);
}

#[test]
fn the_motor_pair_on_mocked_pins_coasts_on_stop() {
    // Stop = coast: duty 0 first, then both direction pins low; a second stop re-zeroes the duty.
    let mut pwm_l = PwmMock::new(&[
        Pwm::max_duty_cycle(1000),
        Pwm::set_duty_cycle(0),
        Pwm::set_duty_cycle(0),
    ]);
    let mut pwm_r = PwmMock::new(&[
        Pwm::max_duty_cycle(1000),
        Pwm::set_duty_cycle(0),
        Pwm::set_duty_cycle(0),
    ]);
    let mut pins: Vec<PinMock> = [State::Low, State::Low, State::Low, State::Low]
        .iter()
        .map(|&s| PinMock::new(&[Pin::set(s)]))
        .collect();
    let left = Motor::new(pwm_l.clone(), pins[0].clone(), pins[1].clone());
    let right = Motor::new(pwm_r.clone(), pins[2].clone(), pins[3].clone());
    let mut pair = MotorPair::new(left, right);
    assert!(Wheels::stop(&mut pair));
    assert!(
        Wheels::stop(&mut pair),
        "coasting again only re-zeroes the duty"
    );
    assert_eq!(Wheels::errors(&pair), 0);
    pwm_l.done();
    pwm_r.done();
    for p in pins.iter_mut() {
        p.done();
    }
}

/// The board's whole loop (calibration, fault checks, duty mapping, the agent) in the simulator's
/// arena for `ticks` ticks: the arena's sensed intensities become ADC counts through the inverse
/// calibration (with a count of jitter, as a live LDR has), the wheel duties become the arena's wheel
/// speeds. Returns the steering weight before and after (mV) and (episodes reaching the light,
/// episodes).
fn in_the_arena(plasticity: bool, ticks: u32) -> (f32, f32, u32, u32) {
    use engram::Rng;
    use engram::env::Environment;
    use engram_lab::phototaxis::Arena;

    let cfg = config();
    let cal = LdrConfig::DEFAULT.calibration;
    let span = f64::from(cal.bright() - cal.dark());
    let counts = |i: Fix, t: u32| -> Result<u16, ()> {
        Ok(cal.dark() + (i.to_num::<f64>() * span).round() as u16 + (t % 3) as u16)
    };
    let mut arena = Arena::new(&cfg).unwrap();
    let mut rng = Rng::new(99);
    arena.reset(&mut rng);
    let mut r = robot(FakeWheels::default(), Settings::DEFAULT);
    answers(
        &mut r,
        &Message::Command(Command::Set(Param::Plasticity(plasticity))),
    );
    let steering = |r: &Robot<'_, FakeWheels>| {
        let [ll, lr, rl, rr] = r.network().block_weights();
        (lr + rl - ll - rr) / 2.0
    };
    let start = steering(&r);
    let (mut reached, mut episodes) = (0u32, 0u32);
    for t in 0..ticks {
        let (il, ir) = arena.sense();
        let out = tick(&mut r, t, counts(il, t), counts(ir, t), 500);
        assert!(!r.faulted(), "tick {t}: a live eye never faults");
        if out.control {
            let &(dl, dr) = r.wheels().commands.last().unwrap();
            let v_max = Fix::from_num(cfg.v_max);
            let fb = arena.act(&[dl * v_max, dr * v_max], &mut rng);
            if fb.done {
                episodes += 1;
                reached += u32::from(arena.reached);
                arena.reset(&mut rng);
            }
        }
    }
    (start, steering(&r), reached, episodes)
}

/// The robot must learn what the simulated vehicle learns, the crossed ("aggression") wiring, and
/// reach the light; with plasticity off (the control) it does neither.
#[test]
fn the_board_loop_learns_phototaxis_in_the_simulated_arena() {
    let (start, end, reached, episodes) = in_the_arena(true, 120_000);
    std::println!("learning: steering {start:.3} -> {end:.3} mV; {reached} of {episodes} reached");
    assert!(start.abs() < 0.1, "side-neutral at first: {start}");
    assert!(end > 0.5, "learned the crossed wiring: {end}");
    assert!(reached >= 10, "{reached} of {episodes}");
    let (start, end, reached, episodes) = in_the_arena(false, 120_000);
    std::println!("frozen: steering {start:.3} -> {end:.3} mV; {reached} of {episodes} reached");
    assert_eq!(start, end, "plasticity off: the weights do not move");
    assert!(reached <= 3, "{reached} of {episodes}");
}
