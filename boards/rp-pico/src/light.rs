//! The two light-dependent-resistor (LDR) dividers: ADC counts → the agent's sensed intensity, with
//! faults counted.
//!
//! ## The divider
//! Each eye is an LDR (GL5528 or similar: ≈ 1 MΩ in the dark, ≈ 10–20 kΩ at room light, ≈ 1 kΩ in a
//! lamp's beam) from 3V3 to the ADC pin, and a 10 kΩ resistor from the pin to GND. More light → lower
//! LDR resistance → higher voltage: `counts = 4095 · 10 k / (10 k + R_LDR)` on the RP2040's 12-bit
//! converter (ADC_VREF = 3V3). Darkness reads ≈ 40 counts, room light ≈ 1 400, a lamp a few cm away
//! ≈ 3 700.
//!
//! ## Counts → intensity (what the agent sees)
//! `I = clamp((counts − dark) / (bright − dark), 0, 1)` in Q16.16 ([`Calibration`]): `dark` is the
//! reading that should mean "no light" (the arena's ambient level), `bright` the reading that means
//! "at the lamp". The simulator's sensor gives `I ∈ [0, 1]` with 1 = at the light, facing it, so this
//! maps the real sensor onto the same scale; the phototaxis reward (the increase of `I_L + I_R`) then
//! has the same meaning. The division is done once, at construction (a reciprocal in Q0.32), so a
//! read costs one multiply: the Cortex-M0+ has no divide instruction.
//!
//! ## Faults (the reading is "missing")
//! - the converter reported an error → `bus_errors`;
//! - counts outside `min_valid..=max_valid`: the default limits (8 and 4 087) are the readings of a
//!   broken divider: an open LDR (input pulled to GND by the 10 k: ≈ 0) or a shorted LDR / open 10 k
//!   (input at 3V3: 4 095). Real darkness (1 MΩ: ≈ 40 counts) is still in range → `implausible`;
//! - the very same count `stuck_after` times in a row: the converter's noise (a few LSB on the
//!   RP2040) changes a live reading all the time, a frozen one means a dead input → `stuck`.
//!
//! A missing reading is counted in `missing_reads`; the first good one after a fault in `recoveries`
//! (all [`SensorFaults`] counters saturate). Nothing here can panic.

use engram::Fix;
use engram_board::sensor::{Missing, SensorFaults};

/// Why a [`Calibration`] was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CalibrationError {
    /// `bright` must exceed `dark` by at least [`Calibration::MIN_SPAN`] counts.
    TooNarrow {
        /// The dark reading.
        dark: u16,
        /// The bright reading.
        bright: u16,
    },
}

impl core::fmt::Display for CalibrationError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CalibrationError::TooNarrow { dark, bright } => write!(
                f,
                "light calibration: bright ({bright}) must exceed dark ({dark}) by at least {} counts",
                Calibration::MIN_SPAN
            ),
        }
    }
}

impl core::error::Error for CalibrationError {}

/// The linear map from ADC counts to intensity `[0, 1]` (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Calibration {
    dark: u16,
    bright: u16,
    /// `2³² / (bright − dark)`, rounded to nearest: `I = ((counts − dark) · recip + 2¹⁵) >> 16` in
    /// Q16.16.
    recip: u32,
}

impl Calibration {
    /// Smallest accepted `bright − dark` (counts): a narrower span would amplify the converter's noise
    /// into the reward.
    pub const MIN_SPAN: u16 = 64;

    /// The default calibration of the README's divider: ambient shade (≈ 200 kΩ, 195 counts) reads 0,
    /// a lamp a few centimetres away (≈ 1 kΩ, 3 700 counts) reads 1.
    pub const DEFAULT: Calibration = match Calibration::new(200, 3700) {
        Ok(c) => c,
        Err(_) => panic!("the default calibration is valid"),
    };

    /// `dark` reads 0, `bright` reads 1 (counts). Refuses a span below [`Calibration::MIN_SPAN`].
    pub const fn new(dark: u16, bright: u16) -> Result<Self, CalibrationError> {
        if bright <= dark || bright - dark < Self::MIN_SPAN {
            return Err(CalibrationError::TooNarrow { dark, bright });
        }
        let span = (bright - dark) as u64;
        let recip = (((1u64 << 32) + span / 2) / span) as u32;
        Ok(Self {
            dark,
            bright,
            recip,
        })
    }

    /// The counts that read 0.
    pub const fn dark(&self) -> u16 {
        self.dark
    }

    /// The counts that read 1.
    pub const fn bright(&self) -> u16 {
        self.bright
    }

    /// The intensity of a reading, in `[0, 1]` (Q16.16, within one LSB of the exact ratio; exactly 0
    /// at and below `dark`, exactly 1 at and above `bright`).
    pub fn intensity(&self, counts: u16) -> Fix {
        if counts <= self.dark {
            return Fix::ZERO;
        }
        if counts >= self.bright {
            return Fix::ONE;
        }
        let above = u64::from(counts - self.dark);
        let bits = (above * u64::from(self.recip) + (1 << 15)) >> 16;
        Fix::from_bits(bits.min(1 << 16) as i32)
    }
}

/// What an [`Ldr`] accepts, and how it maps counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LdrConfig {
    /// Counts below this are a broken divider (`implausible`).
    pub min_valid: u16,
    /// Counts above this are a broken divider (`implausible`).
    pub max_valid: u16,
    /// This many identical counts in a row after the first mark the input stuck (0 disables the
    /// check).
    pub stuck_after: u16,
    /// Counts → intensity.
    pub calibration: Calibration,
}

impl LdrConfig {
    /// 8..=4 087 counts valid, stuck at the 200th identical repeat (2.4 s at the 12 ms tick),
    /// [`Calibration::DEFAULT`].
    pub const DEFAULT: LdrConfig = LdrConfig {
        min_valid: 8,
        max_valid: 4087,
        stuck_after: 200,
        calibration: Calibration::DEFAULT,
    };
}

impl Default for LdrConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// One eye: classifies each conversion result, keeps the fault counters.
///
/// The conversion itself is the board's (the RP2040 has one converter multiplexed over both pins, so
/// the firmware converts and hands the result in): [`Ldr::accept`] takes `Ok(counts)` or `Err(())` for
/// a converter error.
#[derive(Clone, Debug)]
pub struct Ldr {
    cfg: LdrConfig,
    last: Option<u16>,
    repeats: u16,
    faulted: bool,
    faults: SensorFaults,
}

impl Ldr {
    /// A sensor with no reading yet.
    pub const fn new(cfg: LdrConfig) -> Self {
        Self {
            cfg,
            last: None,
            repeats: 0,
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

    /// The last raw count received (whatever its verdict), for logging and calibration.
    pub const fn last_counts(&self) -> Option<u16> {
        self.last
    }

    /// The configuration.
    pub const fn config(&self) -> &LdrConfig {
        &self.cfg
    }

    /// Classifies one conversion: the intensity, or why it is missing (faults counted).
    pub fn accept(&mut self, raw: Result<u16, ()>) -> Result<Fix, Missing> {
        let verdict = self.classify(raw);
        match verdict {
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
        verdict
    }

    fn classify(&mut self, raw: Result<u16, ()>) -> Result<Fix, Missing> {
        let Ok(c) = raw else {
            bump(&mut self.faults.bus_errors);
            return Err(Missing::Bus);
        };
        if self.last == Some(c) {
            self.repeats = self.repeats.saturating_add(1);
        } else {
            self.repeats = 0;
            self.last = Some(c);
        }
        if c < self.cfg.min_valid || c > self.cfg.max_valid {
            bump(&mut self.faults.implausible);
            return Err(Missing::Implausible);
        }
        if self.cfg.stuck_after > 0 && self.repeats >= self.cfg.stuck_after {
            bump(&mut self.faults.stuck);
            return Err(Missing::Stuck);
        }
        Ok(self.cfg.calibration.intensity(c))
    }
}

fn bump(counter: &mut u32) {
    *counter = counter.saturating_add(1);
}

/// The robot's two eyes.
#[derive(Clone, Debug)]
pub struct Eyes {
    /// Left LDR (GP26 / ADC0).
    pub left: Ldr,
    /// Right LDR (GP27 / ADC1).
    pub right: Ldr,
}

impl Eyes {
    /// Two eyes with the same configuration.
    pub const fn new(cfg: LdrConfig) -> Self {
        Self {
            left: Ldr::new(cfg),
            right: Ldr::new(cfg),
        }
    }

    /// Both eyes' counters, summed.
    pub const fn faults(&self) -> SensorFaults {
        self.left.faults().merged(&self.right.faults())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_map_linearly_between_dark_and_bright() {
        let c = Calibration::new(1000, 3000).unwrap();
        assert_eq!(c.intensity(0), Fix::ZERO);
        assert_eq!(c.intensity(1000), Fix::ZERO);
        assert_eq!(c.intensity(3000), Fix::ONE);
        assert_eq!(c.intensity(4095), Fix::ONE);
        // Within one LSB of Q16.16 of the exact ratio everywhere in between.
        for counts in 1000..=3000u16 {
            let exact = f64::from(counts - 1000) / 2000.0;
            let got = c.intensity(counts).to_num::<f64>();
            assert!(
                (got - exact).abs() <= 1.0 / 65_536.0,
                "{counts}: {got} vs {exact}"
            );
        }
        assert_eq!(
            Calibration::new(100, 150),
            Err(CalibrationError::TooNarrow {
                dark: 100,
                bright: 150
            })
        );
        assert!(Calibration::new(3000, 1000).is_err());
        assert_eq!(Calibration::DEFAULT.dark(), 200);
    }

    #[test]
    fn a_broken_divider_is_missing_and_counted() {
        let mut ldr = Ldr::new(LdrConfig::DEFAULT);
        assert!(ldr.accept(Ok(1950)).is_ok());
        assert_eq!(ldr.accept(Ok(0)), Err(Missing::Implausible), "open LDR");
        assert_eq!(
            ldr.accept(Ok(4095)),
            Err(Missing::Implausible),
            "shorted LDR"
        );
        assert_eq!(ldr.accept(Err(())), Err(Missing::Bus), "converter error");
        assert!(ldr.accept(Ok(1951)).is_ok(), "comes back by itself");
        let f = ldr.faults();
        assert_eq!((f.implausible, f.bus_errors, f.stuck), (2, 1, 0));
        assert_eq!((f.missing_reads, f.recoveries), (3, 1));
        assert_eq!(ldr.last_counts(), Some(1951));
    }

    #[test]
    fn a_frozen_reading_is_stuck_until_it_moves() {
        let cfg = LdrConfig {
            stuck_after: 5,
            ..LdrConfig::DEFAULT
        };
        let mut ldr = Ldr::new(cfg);
        // The first reading and 4 repeats pass; the 5th repeat is stuck.
        for _ in 0..5 {
            assert!(ldr.accept(Ok(2000)).is_ok());
        }
        assert_eq!(ldr.accept(Ok(2000)), Err(Missing::Stuck));
        assert_eq!(ldr.accept(Ok(2000)), Err(Missing::Stuck));
        assert!(ldr.accept(Ok(2001)).is_ok());
        assert_eq!(ldr.faults().stuck, 2);
        assert_eq!(ldr.faults().recoveries, 1);
        // 0 disables the check.
        let mut ldr = Ldr::new(LdrConfig {
            stuck_after: 0,
            ..cfg
        });
        for _ in 0..1000 {
            assert!(ldr.accept(Ok(2000)).is_ok());
        }
    }

    #[test]
    fn counters_saturate() {
        let mut ldr = Ldr::new(LdrConfig::DEFAULT);
        ldr.faults.bus_errors = u32::MAX;
        ldr.faults.missing_reads = u32::MAX;
        assert_eq!(ldr.accept(Err(())), Err(Missing::Bus));
        assert_eq!(ldr.faults().bus_errors, u32::MAX);
        assert_eq!(ldr.faults().missing_reads, u32::MAX);
    }
}
