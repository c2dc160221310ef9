//! Deadline tracking with a fake counter; telemetry building.

use engram::Fix;
use engram_board::control::{Counter, Deadline, DeadlineStats, Health, StepCost, TelemetryBuilder};
use engram_board::sensor::SensorFaults;
use engram_link::{LinkErrors, MAX_POPULATIONS, MAX_PROJECTIONS, Telemetry, WeightStats};

/// A fake free-running counter: `work(n)` advances it by n ticks (n units of "computation").
struct FakeClock {
    now: u32,
    counter: Counter,
}

impl FakeClock {
    fn read(&self) -> u32 {
        let mask = if self.counter.bits == 32 {
            u32::MAX
        } else {
            (1 << self.counter.bits) - 1
        };
        self.now & mask
    }
    fn work(&mut self, ticks: u32) {
        self.now = if self.counter.down {
            self.now.wrapping_sub(ticks)
        } else {
            self.now.wrapping_add(ticks)
        };
    }
}

/// Runs `costs.len()` steps whose bodies take `costs[i]` ticks.
fn run(counter: Counter, start: u32, budget: u32, costs: &[u32]) -> (Deadline, Vec<StepCost>) {
    let mut clock = FakeClock {
        now: start,
        counter,
    };
    let mut d = Deadline::new(counter, budget);
    let mut out = Vec::new();
    for &c in costs {
        d.start(clock.read());
        clock.work(c);
        out.push(d.finish(clock.read()).expect("started"));
        clock.work(7); // idle until the next tick (not measured)
    }
    (d, out)
}

#[test]
fn an_artificially_slow_step_is_counted_as_an_overrun() {
    // 1 ms at 64 MHz; the fourth step does three times the work.
    let costs = [50_000, 52_000, 64_000, 150_000, 51_000];
    let (d, per_step) = run(Counter::DWT_CYCCNT, 123, 64_000, &costs);
    assert_eq!(per_step.iter().map(|s| s.ticks).collect::<Vec<_>>(), costs);
    assert_eq!(
        per_step.iter().map(|s| s.overrun).collect::<Vec<_>>(),
        [false, false, false, true, false]
    );
    assert_eq!(
        d.stats(),
        DeadlineStats {
            steps: 5,
            overruns: 1,
            last: 51_000,
            max: 150_000,
            mean: 367_000 / 5
        }
    );
}

#[test]
fn elapsed_time_is_right_across_a_counter_wrap() {
    // SysTick: 24 bits, counting down, starting 100 ticks above zero; a 1 000-tick step wraps.
    let (d, s) = run(Counter::SYSTICK, 100, 900, &[1000, 500]);
    assert_eq!(
        s,
        [
            StepCost {
                ticks: 1000,
                overrun: true
            },
            StepCost {
                ticks: 500,
                overrun: false
            }
        ]
    );
    assert_eq!(d.stats().max, 1000);
    // 32-bit up-counter wrapping past u32::MAX.
    let (_, s) = run(Counter::DWT_CYCCNT, u32::MAX - 10, 100, &[30]);
    assert_eq!(s[0].ticks, 30);
    assert_eq!(Counter::SYSTICK.elapsed(0x00_0005, 0xFF_FFFB), 10);
}

#[test]
fn finish_without_start_counts_nothing() {
    let mut d = Deadline::new(Counter::RP2040_TIMER, 1000);
    assert_eq!(d.finish(5), None);
    d.start(10);
    assert!(d.finish(20).is_some());
    assert_eq!(d.finish(30), None, "each start is finished once");
    assert_eq!(d.stats().steps, 1);
    assert_eq!(Deadline::new(Counter::SYSTICK, 1).stats().mean, 0);
}

#[test]
fn telemetry_carries_spikes_since_the_last_frame_metrics_and_fault_counters() {
    let mut t = TelemetryBuilder::new();
    t.add_spikes(&[1, 0, 3]);
    t.add_spikes(&[2, 5, 0]);
    let w = WeightStats {
        mean: Fix::from_num(0.25),
        min: Fix::ZERO,
        max: Fix::ONE,
        saturated: 2,
    };
    let link = LinkErrors {
        bad_crc: 3,
        cobs: 1,
        ..LinkErrors::default()
    };
    let (d, _) = run(Counter::DWT_CYCCNT, 0, 10, &[5, 50, 60]);
    let health = Health {
        deadline: d.stats(),
        sensors: SensorFaults {
            bus_errors: 4,
            ..SensorFaults::default()
        },
        actuator_errors: 1,
        link,
    };
    let frame = t.build(77, Fix::from_num(-1.5), Fix::ONE, &[w], &health);
    let expected = Telemetry {
        step: 77,
        objective: Fix::from_num(-1.5),
        reward: Fix::ONE,
        spike_counts: [3, 5, 3].as_slice().try_into().unwrap(),
        weights: [w].as_slice().try_into().unwrap(),
        deadline_overruns: 2,
        link_errors: link,
        state_hash: 0,
    };
    assert_eq!(frame, expected);
    // Spikes restart from zero after a frame.
    t.add_spikes(&[1, 1, 1]);
    assert_eq!(
        t.build(78, Fix::ZERO, Fix::ZERO, &[], &health)
            .spike_counts
            .as_slice(),
        [1, 1, 1]
    );
    assert!(!t.dropped());
    // The frame encodes on the link (within its limits).
    let mut buf = [0u8; engram_link::MAX_FRAME_LEN];
    assert!(engram_link::encode_frame(&engram_link::Message::Telemetry(frame), &mut buf).is_ok());
}

#[test]
fn populations_and_projections_beyond_the_message_limits_are_dropped_and_flagged() {
    let mut t = TelemetryBuilder::new();
    t.add_spikes(&[1; MAX_POPULATIONS + 3]);
    let w = [WeightStats::default(); MAX_PROJECTIONS + 1];
    let frame = t.build(0, Fix::ZERO, Fix::ZERO, &w, &Health::default());
    assert_eq!(frame.spike_counts.len(), MAX_POPULATIONS);
    assert_eq!(frame.weights.len(), MAX_PROJECTIONS);
    assert!(t.dropped());
}

#[test]
fn health_report_carries_every_counter_in_microseconds() {
    let health = Health {
        deadline: DeadlineStats {
            steps: 10,
            overruns: 2,
            last: 300,
            max: 1_250,
            mean: 500,
        },
        sensors: SensorFaults {
            bus_errors: 1,
            implausible: 2,
            stuck: 3,
            missing_reads: 7,
            recoveries: 1,
        },
        actuator_errors: 4,
        link: Default::default(),
    };
    let r = health.report(99, 0b10, 1, 5, 1);
    assert_eq!(
        (
            r.step,
            r.sensors_present,
            r.sensor_faults,
            r.missing_reads,
            r.recoveries
        ),
        (99, 0b10, 6, 7, 1)
    );
    assert_eq!((r.actuator_errors, r.deadline_overruns), (4, 2));
    assert_eq!((r.max_step_us, r.mean_step_us), (1_250, 500));
    assert_eq!((r.checkpoints_saved, r.checkpoint_errors), (5, 1));
    // 125 ticks per µs (a 125 MHz cycle counter); 0 ticks per µs is taken as 1.
    assert_eq!(health.report(0, 0, 125, 0, 0).max_step_us, 10);
    assert_eq!(health.report(0, 0, 0, 0, 0).max_step_us, 1_250);
}
