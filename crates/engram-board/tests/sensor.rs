//! Sensor glue on mocked buses: faults counted, "missing" observations, recovery.

use std::collections::VecDeque;

use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::delay::NoopDelay;
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2c};
use engram::Fix;
use engram_board::sensor::{
    ACCEL_CHANNELS, AccelConfig, AccelReading, Accelerometer, AdcChannel, LightConfig, LightPair,
    LightSensor, Missing, SensorFaults,
};

const ACCEL: u8 = 0x19;
const MAG: u8 = 0x1E;
const NACK: ErrorKind = ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);

/// The driver's initialisation (BDU, temperature sensor, magnetometer BDU) and the switch to normal
/// mode at 100 Hz, as bus transactions.
fn init() -> Vec<I2c> {
    vec![
        I2c::write(ACCEL, vec![0x23, 0x80]),
        I2c::write(ACCEL, vec![0x1F, 0xC0]),
        I2c::write(MAG, vec![0x62, 0x10]),
        I2c::write(ACCEL, vec![0x23, 0x80]),
        I2c::write(ACCEL, vec![0x20, 0x57]),
    ]
}

/// One 6-byte read of OUT_X_L_A.. (auto-increment) returning `bytes`.
fn read_bytes(bytes: [u8; 6]) -> I2c {
    I2c::write_read(ACCEL, vec![0x28 | 0x80], bytes.to_vec())
}

/// A read returning this acceleration in mg (normal mode: 10 bits left-justified, 4 mg per count).
fn sample(mg: [i32; 3]) -> I2c {
    let mut b = [0u8; 6];
    for (pair, v) in b.chunks_mut(2).zip(mg) {
        pair.copy_from_slice(&(((v / 4) << 6) as i16).to_le_bytes());
    }
    read_bytes(b)
}

fn g(mg: i32) -> Fix {
    Fix::from_num(mg) / 1000
}

fn accel(script: &[I2c], cfg: AccelConfig) -> (Accelerometer<I2cMock, NoopDelay>, I2cMock) {
    let bus = I2cMock::new(script);
    (Accelerometer::new(bus.clone(), NoopDelay::new(), cfg), bus)
}

fn cfg() -> AccelConfig {
    AccelConfig {
        stuck_after: 3,
        reinit_after: 2,
        retry_every: 3,
        ..AccelConfig::default()
    }
}

#[test]
fn a_healthy_sensor_reads_in_g_with_a_presence_channel() {
    let mut script = init();
    script.extend([sample([0, 0, 1000]), sample([-248, 500, 860])]);
    let (mut acc, mut bus) = accel(&script, cfg());
    assert_eq!(acc.read(), AccelReading::Present([g(0), g(0), g(1000)]));
    let second = acc.read();
    // -248 mg → -0.248 g, rounded to nearest in Q16.16: |error| ≤ 2⁻¹⁷.
    let AccelReading::Present([x, y, z]) = second else {
        panic!("{second:?}")
    };
    for (got, mg) in [(x, -248), (y, 500), (z, 860)] {
        assert!(
            (got.to_num::<f64>() - mg as f64 / 1000.0).abs() <= 1.0 / 131_072.0,
            "{got} vs {mg} mg"
        );
    }
    let mut obs = [Fix::from_num(9); 5];
    second.write_observation(&mut obs);
    assert_eq!(
        obs,
        [x, y, z, Fix::ONE, Fix::from_num(9)],
        "writes exactly ACCEL_CHANNELS = {ACCEL_CHANNELS}"
    );
    assert_eq!(acc.faults(), SensorFaults::default());
    bus.done();
}

#[test]
fn an_i2c_error_is_counted_seen_as_missing_and_the_sensor_recovers() {
    let mut script = init();
    script.push(sample([0, 0, 1000]));
    script.push(I2c::write_read(ACCEL, vec![0xA8], vec![0; 6]).with_error(NACK));
    // The next read re-initialises the chip, then reads.
    script.extend(init());
    script.push(sample([4, 0, 1000]));
    let (mut acc, mut bus) = accel(&script, cfg());
    assert!(matches!(acc.read(), AccelReading::Present(_)));
    let missing = acc.read();
    assert_eq!(missing, AccelReading::Missing(Missing::Bus));
    let mut obs = [Fix::ONE; ACCEL_CHANNELS];
    missing.write_observation(&mut obs);
    assert_eq!(
        obs,
        [Fix::ZERO; ACCEL_CHANNELS],
        "missing = zeros with presence 0"
    );
    assert_eq!(acc.read(), AccelReading::Present([g(4), g(0), g(1000)]));
    assert_eq!(
        acc.faults(),
        SensorFaults {
            bus_errors: 1,
            missing_reads: 1,
            recoveries: 1,
            ..SensorFaults::default()
        }
    );
    bus.done();
}

#[test]
fn an_absent_sensor_is_retried_every_few_reads_without_bus_traffic_in_between() {
    // Boot with the sensor unplugged: the first init write is not acknowledged.
    let mut script = vec![I2c::write(ACCEL, vec![0x23, 0x80]).with_error(NACK)];
    // retry_every = 3: three reads with no transactions, then another failed attempt...
    script.push(I2c::write(ACCEL, vec![0x23, 0x80]).with_error(NACK));
    // ...three more quiet reads, then it answers.
    script.extend(init());
    script.push(sample([0, 1000, 0]));
    let (mut acc, mut bus) = accel(&script, cfg());
    let mut seen = Vec::new();
    for _ in 0..9 {
        seen.push(acc.read());
    }
    use AccelReading::Missing as M;
    let waiting = M(Missing::Waiting);
    assert_eq!(
        seen,
        [
            M(Missing::Bus),
            waiting,
            waiting,
            waiting,
            M(Missing::Bus),
            waiting,
            waiting,
            waiting,
            AccelReading::Present([g(0), g(1000), g(0)])
        ]
    );
    assert_eq!(
        acc.faults(),
        SensorFaults {
            bus_errors: 2,
            missing_reads: 8,
            recoveries: 1,
            ..SensorFaults::default()
        }
    );
    bus.done();
}

#[test]
fn garbage_bytes_are_implausible_and_trigger_a_reinitialisation() {
    let mut script = init();
    script.push(read_bytes([0x00; 6])); // dead bus: |a| = 0
    script.push(read_bytes([0xFF; 6])); // floating bus: every axis -1 count = -4 mg, |a| ≈ 7 mg
    // reinit_after = 2 bad reads in a row: the chip is set up again before the next read.
    script.extend(init());
    script.push(sample([0, -1000, 0]));
    let (mut acc, mut bus) = accel(&script, cfg());
    assert_eq!(acc.read(), AccelReading::Missing(Missing::Implausible));
    assert_eq!(acc.read(), AccelReading::Missing(Missing::Implausible));
    assert_eq!(acc.read(), AccelReading::Present([g(0), g(-1000), g(0)]));
    assert_eq!(
        acc.faults(),
        SensorFaults {
            implausible: 2,
            missing_reads: 2,
            recoveries: 1,
            ..SensorFaults::default()
        }
    );
    bus.done();
}

#[test]
fn a_stuck_sensor_is_detected_after_stuck_after_repeats_and_recovers_when_it_moves() {
    let mut script = init();
    // stuck_after = 3: the 4th identical sample is the first rejected.
    script.extend((0..5).map(|_| sample([100, 200, 980])));
    // Two stuck reads in a row (reinit_after = 2): re-initialise, then it moves again.
    script.extend(init());
    script.push(sample([100, 204, 980]));
    let (mut acc, mut bus) = accel(&script, cfg());
    let seen: Vec<_> = (0..6).map(|_| acc.read()).collect();
    assert!(
        seen[..3]
            .iter()
            .all(|r| matches!(r, AccelReading::Present(_))),
        "{seen:?}"
    );
    assert_eq!(seen[3..5], [AccelReading::Missing(Missing::Stuck); 2]);
    assert!(matches!(seen[5], AccelReading::Present(_)));
    assert_eq!(
        acc.faults(),
        SensorFaults {
            stuck: 2,
            missing_reads: 2,
            recoveries: 1,
            ..SensorFaults::default()
        }
    );
    bus.done();
}

/// An ADC input that plays a script of conversions (`Err(())` = the HAL failed).
struct ScriptedAdc(VecDeque<Result<u16, ()>>);

impl AdcChannel for ScriptedAdc {
    type Error = ();
    fn read_raw(&mut self) -> Result<u16, ()> {
        self.0.pop_front().unwrap_or(Err(()))
    }
}

fn adc(script: &[Result<u16, ()>]) -> ScriptedAdc {
    ScriptedAdc(script.iter().copied().collect())
}

#[test]
fn light_sensors_normalise_count_out_of_range_and_adc_errors_and_recover() {
    let cfg = LightConfig::default();
    let mut pair = LightPair {
        left: LightSensor::new(adc(&[Ok(2048), Ok(4095), Ok(1000)]), cfg),
        right: LightSensor::new(adc(&[Ok(41), Err(()), Ok(0)]), cfg),
    };
    let mut obs = [Fix::from_num(7); 4];
    assert!(pair.observe(&mut obs));
    // 2048/4095 and 41/4095, rounded to nearest Q16.16.
    assert_eq!(obs[0], Fix::from_bits(32776));
    assert_eq!(obs[1], Fix::from_bits(656));
    assert_eq!(obs[2..], [Fix::ONE, Fix::ONE]);
    // Left saturated at the rail (out of range), right's ADC failed: both missing, zeros.
    assert!(!pair.observe(&mut obs));
    assert_eq!(obs, [Fix::ZERO; 4]);
    // Left back; right shorted to ground.
    assert!(!pair.observe(&mut obs));
    assert_eq!(obs, [Fix::from_bits(16004), Fix::ZERO, Fix::ONE, Fix::ZERO]);
    assert_eq!(
        pair.left.faults(),
        SensorFaults {
            implausible: 1,
            missing_reads: 1,
            recoveries: 1,
            ..SensorFaults::default()
        }
    );
    assert_eq!(
        pair.right.faults(),
        SensorFaults {
            bus_errors: 1,
            implausible: 1,
            missing_reads: 2,
            ..SensorFaults::default()
        }
    );
    assert_eq!(pair.faults().total(), 3);
}

#[test]
fn a_light_reading_never_exceeds_one() {
    let cfg = LightConfig {
        full_scale: 1023,
        min_valid: 0,
        max_valid: 1023,
    };
    let mut s = LightSensor::new(adc(&[Ok(1023), Ok(0), Ok(1024)]), cfg);
    assert_eq!(s.read(), Ok(Fix::ONE));
    assert_eq!(s.read(), Ok(Fix::ZERO));
    assert_eq!(
        s.read(),
        Err(Missing::Implausible),
        "a count above full scale is out of range"
    );
}
