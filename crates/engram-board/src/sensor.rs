//! Sensors with faults counted: the agent always gets an observation, and a documented "missing" one
//! when the sensor cannot be trusted.
//!
//! | item | what it reads |
//! | --- | --- |
//! | [`Accelerometer`] | the LSM303AGR accelerometer (micro:bit v2) over any `embedded_hal::i2c::I2c`, through the `lsm303agr` driver |
//! | [`LightSensor`], [`LightPair`] | light-dependent-resistor dividers on ADC inputs (the Pico phototaxis robot), through [`AdcChannel`] |
//! | [`SensorFaults`] | the counters every reader keeps (what telemetry reports) |
//!
//! ## Fault policy
//! A read never fails and never panics: it returns a value or [`Missing`] with the reason, and counts
//! the fault. Kinds: the bus failed (I2C NACK/arbitration/bus error, ADC error) → `bus_errors`; the
//! sensor answered something impossible (a reading outside the physically possible range, such as the
//! all-zero or all-ones bytes of a dead or floating bus) → `implausible`; the sensor answered the very
//! same value too many times in a row (a sensor that reset into power-down keeps returning its last
//! sample) → `stuck`. Every read that hands the agent a missing observation also counts in
//! `missing_reads`, and the first good read after a fault counts one `recovery`.
//!
//! In the agent's observation vector a sensor occupies its value channels plus one **presence channel**
//! (1 = present, 0 = missing); a missing sensor's value channels are 0. An experiment that does not
//! model missing input can ignore the presence channel: zeros are its "no stimulus".
//!
//! Recovery is automatic: a sensor that answers again is used again. The accelerometer re-initialises
//! the chip after a bus error or a run of bad readings (a browned-out LSM303AGR comes back powered
//! down), retrying every `retry_every` reads while it keeps failing, so a dead bus costs one failed
//! transaction per `retry_every` steps, not a stream of them.

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;
use engram::Fix;
use lsm303agr::interface::I2cInterface;
use lsm303agr::mode::MagOneShot;
use lsm303agr::{AccelMode, AccelOutputDataRate, Lsm303agr};

/// Fault counters of one sensor (or a group), each saturating at `u32::MAX`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SensorFaults {
    /// The bus failed (I2C error, ADC error), including failed re-initialisations.
    pub bus_errors: u32,
    /// The sensor answered a physically impossible value (garbage, out of range).
    pub implausible: u32,
    /// Reads rejected because the sensor kept returning the same value.
    pub stuck: u32,
    /// Reads that gave the agent a "missing" observation, whatever the reason (also while waiting to
    /// retry a failed sensor).
    pub missing_reads: u32,
    /// Times a sensor came back (first good read after a fault).
    pub recoveries: u32,
}

impl SensorFaults {
    /// Faults detected (bus errors + implausible + stuck), saturating.
    pub const fn total(&self) -> u32 {
        self.bus_errors
            .saturating_add(self.implausible)
            .saturating_add(self.stuck)
    }

    /// Field-wise sum (saturating): the counters of a group of sensors.
    pub const fn merged(&self, other: &Self) -> Self {
        Self {
            bus_errors: self.bus_errors.saturating_add(other.bus_errors),
            implausible: self.implausible.saturating_add(other.implausible),
            stuck: self.stuck.saturating_add(other.stuck),
            missing_reads: self.missing_reads.saturating_add(other.missing_reads),
            recoveries: self.recoveries.saturating_add(other.recoveries),
        }
    }
}

/// Why a sensor's observation is missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Missing {
    /// The bus failed on this read (or on the re-initialisation it attempted).
    Bus,
    /// The sensor answered a physically impossible value.
    Implausible,
    /// The sensor has returned the same value too many times in a row.
    Stuck,
    /// The sensor failed earlier; the reader waits before trying it again (no bus traffic).
    Waiting,
}

/// Fix from thousandths (mg → g), rounded to nearest, ties away from zero. Exact for |m| < 2³¹/65 536.
fn fix_from_milli(m: i32) -> Fix {
    let num = i64::from(m) * 65_536;
    let half = if num < 0 { -500 } else { 500 };
    let bits = (num + half) / 1000;
    Fix::from_bits(bits.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
}

fn bump(counter: &mut u32) {
    *counter = counter.saturating_add(1);
}

/// Observation channels of the [`Accelerometer`]: x, y, z in g (Q16.16), then presence (1 or 0).
pub const ACCEL_CHANNELS: usize = 4;

/// One accelerometer sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AccelReading {
    /// Acceleration in g along the chip's x, y, z axes (rounded to nearest from the driver's mg).
    Present([Fix; 3]),
    /// No trustworthy sample, and why.
    Missing(Missing),
}

impl AccelReading {
    /// Writes the reading into the first [`ACCEL_CHANNELS`] channels of `obs` (fewer if `obs` is
    /// shorter): `[x, y, z, 1]` when present, `[0, 0, 0, 0]` when missing.
    pub fn write_observation(&self, obs: &mut [Fix]) {
        let values = match self {
            Self::Present([x, y, z]) => [*x, *y, *z, Fix::ONE],
            Self::Missing(_) => [Fix::ZERO; ACCEL_CHANNELS],
        };
        obs.iter_mut().zip(values).for_each(|(o, v)| *o = v);
    }
}

/// How the [`Accelerometer`] is run and what it accepts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AccelConfig {
    /// Output data rate; at least the control loop's rate, or consecutive reads repeat samples (and a
    /// long run of repeats looks stuck).
    pub odr: AccelOutputDataRate,
    /// A sample whose magnitude |a| is below this (mg) is implausible. At the default ±2 g scale a dead
    /// or floating bus reads all-zero or all-ones bytes, i.e. |a| ≈ 0; the default 250 mg also rejects
    /// free fall, which no tilt or motion experiment can use.
    pub min_norm_mg: u32,
    /// A sample whose magnitude is above this (mg) is implausible (at ±2 g the chip cannot report
    /// more than √3·2 g ≈ 3 464 mg, so this bites only at wider scales).
    pub max_norm_mg: u32,
    /// This many identical samples in a row after the first mark the sensor stuck (the chip's noise
    /// changes the low bits of a live sensor every sample; 0 disables the check).
    pub stuck_after: u16,
    /// After this many consecutive implausible or stuck reads, re-initialise the chip.
    pub reinit_after: u16,
    /// While the chip does not answer, try again every this many reads.
    pub retry_every: u16,
}

impl Default for AccelConfig {
    /// 100 Hz, plausible magnitudes 250..=4 000 mg, stuck after 32 repeats, re-initialise after 8 bad
    /// reads, retry a dead chip every 50 reads.
    fn default() -> Self {
        Self {
            odr: AccelOutputDataRate::Hz100,
            min_norm_mg: 250,
            max_norm_mg: 4000,
            stuck_after: 32,
            reinit_after: 8,
            retry_every: 50,
        }
    }
}

/// The LSM303AGR accelerometer over I2C, with faults counted (see the module doc).
///
/// Construction touches no bus: the chip is initialised (driver `init`, then normal 10-bit mode at
/// [`AccelConfig::odr`], ±2 g) on the first [`Accelerometer::read`], so a board whose sensor is absent
/// still boots and its agent sees "missing". The first samples of a stuck sensor (before
/// `stuck_after` repeats) reach the agent as present: there is no telling them apart yet.
///
/// `D` serves the driver's mode-change wait (a few ms on the first initialisation, so that read
/// overruns its deadline once; re-initialisations keep the mode and do not wait).
pub struct Accelerometer<I2C, D> {
    dev: Lsm303agr<I2cInterface<I2C>, MagOneShot>,
    delay: D,
    cfg: AccelConfig,
    ready: bool,
    wait: u16,
    last: Option<(i32, i32, i32)>,
    repeats: u16,
    bad_run: u16,
    faulted: bool,
    faults: SensorFaults,
}

impl<I2C: I2c, D: DelayNs> Accelerometer<I2C, D> {
    /// Takes the bus (the accelerometer at I2C address 0x19, the magnetometer at 0x1E is only
    /// configured) and a delay.
    pub fn new(i2c: I2C, delay: D, cfg: AccelConfig) -> Self {
        Self {
            dev: Lsm303agr::new_with_i2c(i2c),
            delay,
            cfg,
            ready: false,
            wait: 0,
            last: None,
            repeats: 0,
            bad_run: 0,
            faulted: false,
            faults: SensorFaults::default(),
        }
    }

    /// The fault counters since construction.
    pub const fn faults(&self) -> SensorFaults {
        self.faults
    }

    /// Gives the bus back.
    pub fn release(self) -> I2C {
        self.dev.destroy()
    }

    /// Reads one sample (at most one initialisation and one 6-byte read on the bus). Never fails:
    /// faults are counted and reported as [`AccelReading::Missing`].
    pub fn read(&mut self) -> AccelReading {
        let reading = self.classify();
        match reading {
            AccelReading::Present(_) => {
                if self.faulted {
                    self.faulted = false;
                    bump(&mut self.faults.recoveries);
                }
            }
            AccelReading::Missing(why) => {
                bump(&mut self.faults.missing_reads);
                if why != Missing::Waiting {
                    self.faulted = true;
                }
            }
        }
        reading
    }

    fn classify(&mut self) -> AccelReading {
        if !self.ready {
            if self.wait > 0 {
                self.wait -= 1;
                return AccelReading::Missing(Missing::Waiting);
            }
            let init = self.dev.init().and_then(|()| {
                self.dev
                    .set_accel_mode_and_odr(&mut self.delay, AccelMode::Normal, self.cfg.odr)
            });
            if init.is_err() {
                bump(&mut self.faults.bus_errors);
                self.wait = self.cfg.retry_every;
                return AccelReading::Missing(Missing::Bus);
            }
            self.ready = true;
        }
        let Ok(a) = self.dev.acceleration() else {
            bump(&mut self.faults.bus_errors);
            // Re-initialise on the next read (a glitch), then every `retry_every` reads.
            self.ready = false;
            return AccelReading::Missing(Missing::Bus);
        };
        let (x, y, z) = a.xyz_mg();
        if self.last == Some((x, y, z)) {
            self.repeats = self.repeats.saturating_add(1);
        } else {
            self.repeats = 0;
            self.last = Some((x, y, z));
        }
        let norm2 = [x, y, z]
            .iter()
            .map(|&v| i64::from(v) * i64::from(v))
            .sum::<i64>();
        let (lo, hi) = (
            i64::from(self.cfg.min_norm_mg),
            i64::from(self.cfg.max_norm_mg),
        );
        let bad = if self.cfg.stuck_after > 0 && self.repeats >= self.cfg.stuck_after {
            bump(&mut self.faults.stuck);
            Some(Missing::Stuck)
        } else if norm2 < lo * lo || norm2 > hi * hi {
            bump(&mut self.faults.implausible);
            Some(Missing::Implausible)
        } else {
            None
        };
        match bad {
            Some(why) => {
                self.bad_run = self.bad_run.saturating_add(1);
                if self.bad_run >= self.cfg.reinit_after.max(1) {
                    self.bad_run = 0;
                    self.ready = false;
                }
                AccelReading::Missing(why)
            }
            None => {
                self.bad_run = 0;
                AccelReading::Present([fix_from_milli(x), fix_from_milli(y), fix_from_milli(z)])
            }
        }
    }
}

/// One ADC input, read once, blocking, as a raw count.
///
/// embedded-hal 1.0 has no ADC trait: 0.2's `adc::OneShot` was removed because its design (channels as
/// type parameters, `nb` polling) did not fit how HALs actually expose ADCs (sequencers, DMA, async),
/// and no replacement was agreed. Every HAL's ADC API is different, so a board wraps its own input in
/// this one-method trait (a few lines) and everything above it is tested on the host.
pub trait AdcChannel {
    /// The HAL's error.
    type Error: core::fmt::Debug;

    /// One conversion, in counts from 0 to the converter's full scale.
    fn read_raw(&mut self) -> Result<u16, Self::Error>;
}

/// What a [`LightSensor`] accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LightConfig {
    /// The converter's full-scale count (4 095 for the 12-bit ADCs of the RP2040 and nRF52 SAADC).
    pub full_scale: u16,
    /// Counts below this are out of range (a shorted LDR or an open divider pulls the input to a
    /// rail; pick the limits from the divider's resistances at darkness and full light).
    pub min_valid: u16,
    /// Counts above this are out of range.
    pub max_valid: u16,
}

impl Default for LightConfig {
    /// 12-bit converter; the outer 1 % at each rail is out of range (41..=4 054 valid).
    fn default() -> Self {
        Self {
            full_scale: 4095,
            min_valid: 41,
            max_valid: 4054,
        }
    }
}

/// A light-dependent-resistor divider on an ADC input, with faults counted: value = counts /
/// full scale, in `[0, 1]` (Q16.16, rounded to nearest); an ADC error or a count outside
/// `min_valid..=max_valid` is "missing".
pub struct LightSensor<A> {
    adc: A,
    cfg: LightConfig,
    faulted: bool,
    faults: SensorFaults,
}

impl<A: AdcChannel> LightSensor<A> {
    /// Wraps an ADC input.
    pub const fn new(adc: A, cfg: LightConfig) -> Self {
        Self {
            adc,
            cfg,
            faulted: false,
            faults: SensorFaults {
                bus_errors: 0,
                implausible: 0,
                stuck: 0,
                missing_reads: 0,
                recoveries: 0,
            },
        }
    }

    /// The fault counters since construction.
    pub const fn faults(&self) -> SensorFaults {
        self.faults
    }

    /// Gives the ADC input back.
    pub fn release(self) -> A {
        self.adc
    }

    /// One conversion: `Ok(value in [0, 1])` or `Err(why missing)`, faults counted.
    pub fn read(&mut self) -> Result<Fix, Missing> {
        let result = match self.adc.read_raw() {
            Err(_) => {
                bump(&mut self.faults.bus_errors);
                Err(Missing::Bus)
            }
            Ok(c)
                if c < self.cfg.min_valid || c > self.cfg.max_valid || c > self.cfg.full_scale =>
            {
                bump(&mut self.faults.implausible);
                Err(Missing::Implausible)
            }
            Ok(c) => {
                let full = u64::from(self.cfg.full_scale.max(1));
                let bits = (u64::from(c) * 65_536 + full / 2) / full;
                Ok(Fix::from_bits(bits.min(65_536) as i32))
            }
        };
        match result {
            Ok(_) if self.faulted => {
                self.faulted = false;
                bump(&mut self.faults.recoveries);
            }
            Ok(_) => {}
            Err(_) => {
                self.faulted = true;
                bump(&mut self.faults.missing_reads);
            }
        }
        result
    }
}

/// Observation channels of a [`LightPair`]: left, right in `[0, 1]`, then left and right presence.
pub const LIGHT_CHANNELS: usize = 4;

/// The phototaxis robot's two light sensors.
pub struct LightPair<L, R> {
    /// Left sensor.
    pub left: LightSensor<L>,
    /// Right sensor.
    pub right: LightSensor<R>,
}

impl<L: AdcChannel, R: AdcChannel> LightPair<L, R> {
    /// Reads both sensors and writes the first [`LIGHT_CHANNELS`] channels of `obs` (fewer if shorter):
    /// `[left, right, left present, right present]`, a missing side reading 0 with presence 0. Returns
    /// whether both were present.
    pub fn observe(&mut self, obs: &mut [Fix]) -> bool {
        let (l, r) = (self.left.read(), self.right.read());
        let present = |x: &Result<Fix, Missing>| if x.is_ok() { Fix::ONE } else { Fix::ZERO };
        let values = [
            l.unwrap_or(Fix::ZERO),
            r.unwrap_or(Fix::ZERO),
            present(&l),
            present(&r),
        ];
        obs.iter_mut().zip(values).for_each(|(o, v)| *o = v);
        l.is_ok() && r.is_ok()
    }

    /// Both sensors' counters, summed.
    pub const fn faults(&self) -> SensorFaults {
        self.left.faults().merged(&self.right.faults())
    }
}
