//! Host tests of the board logic: the real Runner and demos on a mocked I2C bus (embedded-hal-mock,
//! the LSM303AGR's transactions as in engram-board's sensor tests) and a simulated NOR flash with the
//! nRF52833's geometry (4-byte words, 4 KiB pages).

extern crate std;
use std::vec;
use std::vec::Vec;

use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::delay::NoopDelay;
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2c};
use engram::Fix;
use engram_board::sensor::{AccelConfig, AccelReading, Accelerometer};
use engram_board::{CheckpointStore, Region, SimFlash};
use engram_lab::{oja_motion, tilt};
use engram_link::{Message, decode_frame};

use crate::demos::{ARROWS, Demo, FLAT, MISSING, OjaDemo, TiltDemo, axis_line};
use crate::{BootReport, Buttons, FrameSink, Runner, Settings};

const ACCEL: u8 = 0x19;
const MAG: u8 = 0x1E;
const NACK: ErrorKind = ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);

type Flash = SimFlash<8192, 4, 4096>;
const REGION: Region = Region {
    offset: 0,
    slot_size: 4096,
    slots: 2,
};

fn init() -> Vec<I2c> {
    vec![
        I2c::write(ACCEL, vec![0x23, 0x80]),
        I2c::write(ACCEL, vec![0x1F, 0xC0]),
        I2c::write(MAG, vec![0x62, 0x10]),
        I2c::write(ACCEL, vec![0x23, 0x80]),
        I2c::write(ACCEL, vec![0x20, 0x57]),
    ]
}

/// A read returning this acceleration in mg (normal mode: 10 bits left-justified, 4 mg per count).
fn sample(mg: [i32; 3]) -> I2c {
    let mut b = [0u8; 6];
    for (pair, v) in b.chunks_mut(2).zip(mg) {
        pair.copy_from_slice(&(((v / 4) << 6) as i16).to_le_bytes());
    }
    I2c::write_read(ACCEL, vec![0x28 | 0x80], b.to_vec())
}

#[derive(Default)]
struct Sink(Vec<Vec<u8>>);

impl FrameSink for Sink {
    fn send(&mut self, frame: &[u8]) -> bool {
        self.0.push(frame.to_vec());
        true
    }
}

impl Sink {
    fn messages(&mut self) -> Vec<Message<'_>> {
        self.0
            .iter_mut()
            .map(|f| {
                let body = f.len() - 1; // without the delimiter
                decode_frame(&mut f[..body]).expect("a valid frame")
            })
            .collect()
    }
}

fn settings() -> Settings {
    Settings {
        budget_cycles: 1000,
        telemetry_every: 10,
        checkpoint_every: 0,
    }
}

/// Tilted 30° towards +x with a little noise (a live sensor's low bits change every sample).
fn tilted(i: usize) -> I2c {
    let n = (i % 3) as i32 * 4;
    sample([500 + n, n, -860])
}

type TiltRunner<'a> = Runner<TiltDemo<'a>, I2cMock, NoopDelay, Flash>;

fn tilt_runner<'a>(
    st: tilt::Storage<'a>,
    bus: &I2cMock,
    flash: Flash,
    cfg: Settings,
) -> TiltRunner<'a> {
    let demo = TiltDemo::new(&tilt::Config::default(), st).unwrap();
    let accel = Accelerometer::new(bus.clone(), NoopDelay::new(), AccelConfig::default());
    let store = CheckpointStore::new(flash, REGION).ok();
    Runner::new(demo, accel, store, cfg)
}

struct TiltBuf {
    w: [i16; tilt::SYNAPSES],
    acc: [i32; tilt::PATTERNS],
    e: [Fix; tilt::SYNAPSES],
}

impl TiltBuf {
    fn new() -> Self {
        Self {
            w: [0; tilt::SYNAPSES],
            acc: [0; tilt::PATTERNS],
            e: [Fix::ZERO; tilt::SYNAPSES],
        }
    }
    fn storage(&mut self) -> tilt::Storage<'_> {
        tilt::Storage {
            weights: &mut self.w,
            acc: &mut self.acc,
            eligibility: &mut self.e,
        }
    }
}

/// A user who wants the right arrow when the board tips towards +x: presses A 200 ms after the right
/// arrow appears, B after any other, releasing the button a step later.
fn teach(runner: &mut TiltRunner<'_>, steps: usize, sink: &mut Sink) -> Vec<crate::demos::Pattern> {
    let (mut buttons, mut shown, mut since, mut press) = (Buttons::new(), None, 0, None);
    let mut out = Vec::new();
    for _ in 0..steps {
        let (a, b) = match press.take() {
            Some(true) => (true, false),
            Some(false) => (false, true),
            None => (false, false),
        };
        let fb = buttons.feedback(a, b);
        let (p, _) = runner.step(0, fb, sink);
        runner.finish(10);
        if Some(p) != shown || fb != Fix::ZERO {
            since = 0;
        }
        shown = Some(p);
        since += 1;
        if since == 10 {
            press = Some(p == ARROWS[3]);
        }
        out.push(p);
    }
    out
}

#[test]
fn tilt_learns_from_the_buttons_and_shows_it() {
    let steps = 1500;
    let mut script = init();
    script.extend((0..steps).map(tilted));
    let bus = I2cMock::new(&script);
    let mut buf = TiltBuf::new();
    let mut sink = Sink::default();
    let mut runner = tilt_runner(buf.storage(), &bus, Flash::default(), settings());
    assert_eq!(runner.boot(&mut sink), BootReport::Fresh);
    let shown = teach(&mut runner, steps, &mut sink);
    assert_eq!(
        runner.demo.learner.preferred()[tilt::Direction::XPos.index()],
        3
    );
    let last = &shown[steps - 200..];
    let right = last.iter().filter(|&&p| p == ARROWS[3]).count();
    assert!(right >= 190, "right arrow in {right} of the last 200 steps");
    // The first 200 steps explore: not the right arrow all the time.
    let early = shown[..200].iter().filter(|&&p| p == ARROWS[3]).count();
    assert!(early < 180, "{early}");
    let mut bus = bus;
    drop(runner);
    bus.done();
    // Hello first, then telemetry every 10 steps.
    let msgs = sink.messages();
    assert!(
        matches!(&msgs[0], Message::Hello(h) if h.experiment == "tilt" && h.board == "microbit-v2")
    );
    let telemetry = msgs
        .iter()
        .filter(|m| matches!(m, Message::Telemetry(_)))
        .count();
    assert_eq!(telemetry, steps / 10);
    let Some(Message::Telemetry(t)) = msgs.last() else {
        panic!("last message {:?}", msgs.last())
    };
    assert!(
        t.objective > Fix::from_num(0.9),
        "objective {}",
        t.objective
    );
    assert_eq!(t.deadline_overruns, 0);
    assert_eq!(t.spike_counts.as_slice(), &[0]);
}

#[test]
fn an_i2c_fault_is_missing_counted_and_reported_and_the_sensor_comes_back() {
    let mut script = init();
    script.push(tilted(0));
    script.push(I2c::write_read(ACCEL, vec![0x28 | 0x80], vec![0; 6]).with_error(NACK));
    // Re-initialisation fails while the bus is down (retried every 50 reads by default).
    script.push(I2c::write(ACCEL, vec![0x23, 0x80]).with_error(NACK));
    // Back: the chip is re-initialised (mode kept) and read again.
    script.extend([
        I2c::write(ACCEL, vec![0x23, 0x80]),
        I2c::write(ACCEL, vec![0x1F, 0xC0]),
        I2c::write(MAG, vec![0x62, 0x10]),
        I2c::write(ACCEL, vec![0x23, 0x80]),
        I2c::write(ACCEL, vec![0x20, 0x57]),
    ]);
    script.extend((1..5).map(tilted));
    let bus = I2cMock::new(&script);
    let mut buf = TiltBuf::new();
    let mut sink = Sink::default();
    let cfg = AccelConfig {
        retry_every: 3,
        ..AccelConfig::default()
    };
    let demo = TiltDemo::new(&tilt::Config::default(), buf.storage()).unwrap();
    let accel = Accelerometer::new(bus.clone(), NoopDelay::new(), cfg);
    let mut runner: TiltRunner<'_> = Runner::new(demo, accel, None, settings());
    assert_eq!(runner.boot(&mut sink), BootReport::NoStorage);
    let mut shown = Vec::new();
    let mut readings = Vec::new();
    for _ in 0..10 {
        let (p, r) = runner.step(0, Fix::ZERO, &mut sink);
        runner.finish(1);
        shown.push(p);
        readings.push(matches!(r, AccelReading::Present(_)));
    }
    // Present; missing: the NACK, the failed re-initialisation, three quiet waits; present again.
    let want = [
        true, false, false, false, false, false, true, true, true, true,
    ];
    assert_eq!(readings, want);
    let missing = 5;
    for (p, r) in shown.iter().zip(&readings) {
        if !r {
            assert_eq!(*p, MISSING);
        }
    }
    let h = runner.health();
    assert_eq!(h.sensors.bus_errors, 2, "{:?}", h.sensors);
    assert_eq!(h.sensors.recoveries, 1);
    assert_eq!(runner.stats().missing_reads as usize, missing);
    let mut bus = bus;
    drop(runner);
    bus.done();
    let msgs = sink.messages();
    let Some(Message::Telemetry(t)) = msgs.last() else {
        panic!("{:?}", msgs.last())
    };
    assert_eq!(t.spike_counts.as_slice(), &[missing as u32]);
}

#[test]
fn learned_state_survives_a_reset() {
    let steps = 600;
    let mut script = init();
    script.extend((0..steps).map(tilted));
    script.extend(init());
    script.extend((0..3).map(tilted));
    let bus = I2cMock::new(&script);
    let mut sink = Sink::default();
    let cfg = Settings {
        checkpoint_every: 300,
        ..settings()
    };
    let mut buf = TiltBuf::new();
    let mut runner = tilt_runner(buf.storage(), &bus, Flash::default(), cfg);
    runner.boot(&mut sink);
    let (mut buttons, mut saved) = (Buttons::new(), 0);
    for i in 0..steps {
        // Reward whatever is shown now and then, later punish it: the weights keep changing.
        let press = i % 20 == 10;
        let fb = buttons.feedback(press && i < 300, press && i >= 300);
        runner.step(0, fb, &mut sink);
        runner.finish(0);
        if let Some(r) = runner.checkpoint(&mut sink) {
            r.unwrap();
            saved += 1;
        }
    }
    assert_eq!(saved, 2);
    assert_eq!(runner.stats().saves, 2);
    let weights: Vec<i16> = runner.demo.learner.plastic.proj.weights().to_vec();
    assert!(weights.iter().any(|&w| w != 0));
    // Nothing changed since: no third save.
    assert!(runner.save_now(&mut sink).is_none());
    let flash = runner.into_store().unwrap().release();

    // Reset: a new runner on the same flash restores the weights.
    let mut buf2 = TiltBuf::new();
    let mut runner = tilt_runner(buf2.storage(), &bus, flash, cfg);
    assert!(matches!(runner.boot(&mut sink), BootReport::Restored(s) if s.0 == 2));
    assert_eq!(runner.demo.learner.plastic.proj.weights(), &weights[..]);
    for _ in 0..3 {
        runner.step(0, Fix::ZERO, &mut sink);
    }
    let mut bus = bus;
    drop(runner);
    bus.done();
    // The checkpoint also went to the host, as one chunk per save holding the image.
    let msgs = sink.messages();
    let chunks: Vec<_> = msgs
        .iter()
        .filter_map(|m| match m {
            Message::Checkpoint(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[1].total as usize, tilt::STATE_BYTES);
    let w_bytes: Vec<u8> = weights.iter().flat_map(|w| w.to_le_bytes()).collect();
    assert_eq!(chunks[1].bytes, &w_bytes[..]);
}

#[test]
fn a_checkpoint_of_the_other_demo_is_refused() {
    // oja-motion saves; tilt boots on the same flash and starts fresh.
    let mut script = init();
    script.extend((0..5).map(|i| sample([(i % 2) * 200, 0, -1000 + i * 4])));
    let bus = I2cMock::new(&script);
    let mut sink = Sink::default();
    let (mut w, mut acc, mut m) = ([0i16; 3], [0i32; 1], [Fix::ZERO; 1]);
    let demo = OjaDemo::new(
        &oja_motion::Config::default(),
        oja_motion::Storage {
            weights: &mut w,
            acc: &mut acc,
            moments: &mut m,
        },
    )
    .unwrap();
    let accel = Accelerometer::new(bus.clone(), NoopDelay::new(), AccelConfig::default());
    let store = CheckpointStore::new(Flash::default(), REGION).ok();
    let mut runner = Runner::new(demo, accel, store, settings());
    runner.boot(&mut sink);
    for _ in 0..5 {
        runner.step(0, Fix::ZERO, &mut sink);
    }
    // Force a change so that there is something to save.
    runner.demo.learner.plastic.proj.weights_mut()[0] ^= 1;
    assert_eq!(runner.save_now(&mut sink), Some(Ok(engram_board::Seq(1))));
    let flash = runner.into_store().unwrap().release();
    let mut bus = bus;
    bus.done();

    let bus = I2cMock::new(&[]);
    let mut buf = TiltBuf::new();
    let mut runner = tilt_runner(buf.storage(), &bus, flash, settings());
    assert_eq!(runner.boot(&mut sink), BootReport::Refused);
    assert!(
        runner
            .demo
            .learner
            .plastic
            .proj
            .weights()
            .iter()
            .all(|&w| w == 0)
    );
    let mut bus = bus;
    drop(runner);
    bus.done();
}

#[test]
fn a_slow_step_is_an_overrun_in_telemetry() {
    let mut script = init();
    script.extend((0..10).map(tilted));
    let bus = I2cMock::new(&script);
    let mut buf = TiltBuf::new();
    let mut sink = Sink::default();
    let mut runner = tilt_runner(buf.storage(), &bus, Flash::default(), settings());
    runner.boot(&mut sink);
    for i in 0..10u32 {
        let start = u32::MAX - 100 + i; // across the counter's wrap
        runner.step(start, Fix::ZERO, &mut sink);
        let cost = if i == 4 { 1001 } else { 1000 };
        let c = runner.finish(start.wrapping_add(cost)).unwrap();
        assert_eq!(c.overrun, i == 4);
    }
    runner.missed_ticks(2);
    assert_eq!(runner.stats().missed_ticks, 2);
    let h = runner.health();
    assert_eq!((h.deadline.overruns, h.deadline.max), (1, 1001));
    let mut bus = bus;
    drop(runner);
    bus.done();
    let msgs = sink.messages();
    let Some(Message::Telemetry(t)) = msgs.last() else {
        panic!()
    };
    assert_eq!(t.deadline_overruns, 1);
}

#[test]
fn oja_motion_draws_the_axis_it_learned() {
    // Shaking along x: the learned axis is horizontal, drawn as the middle row's centre three LEDs.
    let steps = 2000;
    let mut rng = engram::num::Rng::new(3);
    let mut script = init();
    for _ in 0..steps {
        let s = (engram::num::fix_to_f32(rng.normal()) * 350.0) as i32;
        let n = |r: &mut engram::num::Rng| (engram::num::fix_to_f32(r.normal()) * 20.0) as i32;
        script.push(sample([s + n(&mut rng), n(&mut rng), -1000 + n(&mut rng)]));
    }
    let bus = I2cMock::new(&script);
    let mut sink = Sink::default();
    let (mut w, mut acc, mut m) = ([0i16; 3], [0i32; 1], [Fix::ZERO; 1]);
    let demo = OjaDemo::new(
        &oja_motion::Config::default(),
        oja_motion::Storage {
            weights: &mut w,
            acc: &mut acc,
            moments: &mut m,
        },
    )
    .unwrap();
    let accel = Accelerometer::new(bus.clone(), NoopDelay::new(), AccelConfig::default());
    let mut runner: Runner<_, _, _, Flash> = Runner::new(demo, accel, None, settings());
    runner.boot(&mut sink);
    let mut last = FLAT;
    for _ in 0..steps {
        last = runner.step(0, Fix::ZERO, &mut sink).0;
    }
    let [wx, wy, wz] = runner.demo.learner.weights();
    assert!(
        wx.abs() > 0.98 && wy.abs() < 0.15 && wz.abs() < 0.15,
        "{wx} {wy} {wz}"
    );
    let horizontal = crate::demos::Pattern::from_rows([0, 0, 0b11111, 0, 0]);
    assert_eq!(last, horizontal);
    assert_eq!(axis_line(Fix::ONE, Fix::ZERO), horizontal);
    assert!(runner.demo.objective() > Fix::from_num(0.05));
    let mut bus = bus;
    drop(runner);
    bus.done();
}

#[test]
fn buttons_give_one_feedback_per_press() {
    let mut b = Buttons::new();
    let seq = [
        ((true, false), 1),
        ((true, false), 0),
        ((false, false), 0),
        ((false, true), -1),
        ((false, true), 0),
        ((true, true), 1),
        ((false, false), 0),
        ((true, true), 0),
    ];
    for ((a, bb), want) in seq {
        assert_eq!(b.feedback(a, bb), Fix::from_num(want), "{a} {bb}");
    }
}

#[test]
fn pictures_are_distinct() {
    let all = [ARROWS[0], ARROWS[1], ARROWS[2], ARROWS[3], MISSING, FLAT];
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a, b);
        }
    }
    assert_eq!(TiltDemo::STATE_BYTES, 32);
}
