//! Configuration errors.
//!
//! Every constructor that turns user configuration (floats, sizes, caller-provided storage) into a
//! runnable fixed-point object validates it once and returns [`ConfigError`] on failure. After that,
//! the step path has no error cases: it is total.

use core::fmt;

/// Why a configuration was refused.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConfigError {
    /// A time constant was zero, negative, NaN or infinite.
    InvalidTimeConstant {
        /// Which parameter.
        what: &'static str,
        /// The value given, in ms.
        tau_ms: f32,
    },
    /// The time step is not smaller than a time constant it is discretised against (`dt >= tau`):
    /// the fixed-point discretisation would be unstable or meaningless.
    TimeStepTooLarge {
        /// Which parameter.
        what: &'static str,
        /// The time step, in ms.
        dt_ms: f32,
        /// The time constant, in ms.
        tau_ms: f32,
    },
    /// The time step is zero, negative, NaN or infinite.
    InvalidTimeStep {
        /// The value given, in ms.
        dt_ms: f32,
    },
    /// A weight scale (value of one stored weight step) is outside what the accumulators can represent.
    ScaleOutOfRange {
        /// The value given.
        lsb: f32,
    },
    /// A number does not fit the Q16.16 state format (|x| < 32768) or its documented range.
    OutOfRange {
        /// Which parameter.
        what: &'static str,
        /// The value given.
        value: f32,
    },
    /// Two sizes that must agree do not (e.g. a state slice and the population size).
    SizeMismatch {
        /// Which storage or dimension.
        what: &'static str,
        /// The size required.
        expected: usize,
        /// The size given.
        got: usize,
    },
    /// A population or projection is larger than the index type allows (u16 indices: 65 535).
    TooLarge {
        /// Which dimension.
        what: &'static str,
        /// The size given.
        got: usize,
        /// The largest size allowed.
        max: usize,
    },
    /// Caller-provided storage is too small for what was asked of it.
    CapacityExceeded {
        /// Which storage.
        what: &'static str,
        /// The capacity given.
        capacity: usize,
    },
    /// A structural parameter is invalid (e.g. an index out of bounds, an empty range).
    Invalid {
        /// What is wrong, in words.
        what: &'static str,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::InvalidTimeConstant { what, tau_ms } => {
                write!(
                    f,
                    "{what}: time constant must be positive and finite, got {tau_ms} ms"
                )
            }
            Self::TimeStepTooLarge {
                what,
                dt_ms,
                tau_ms,
            } => write!(
                f,
                "{what}: time step {dt_ms} ms must be smaller than the time constant {tau_ms} ms"
            ),
            Self::InvalidTimeStep { dt_ms } => {
                write!(f, "time step must be positive and finite, got {dt_ms} ms")
            }
            Self::ScaleOutOfRange { lsb } => write!(
                f,
                "weight scale {lsb} is out of range (one weight step must lie in [2^-24, 2^8])"
            ),
            Self::OutOfRange { what, value } => {
                write!(f, "{what} = {value} is outside its representable range")
            }
            Self::SizeMismatch {
                what,
                expected,
                got,
            } => {
                write!(f, "{what}: expected size {expected}, got {got}")
            }
            Self::TooLarge { what, got, max } => {
                write!(f, "{what}: {got} exceeds the maximum {max}")
            }
            Self::CapacityExceeded { what, capacity } => {
                write!(f, "{what}: capacity {capacity} is too small")
            }
            Self::Invalid { what } => write!(f, "invalid configuration: {what}"),
        }
    }
}

impl core::error::Error for ConfigError {}

/// Checks that a caller-provided slice has the length the configuration needs.
pub fn check_len(what: &'static str, expected: usize, got: usize) -> Result<(), ConfigError> {
    if expected == got {
        Ok(())
    } else {
        Err(ConfigError::SizeMismatch {
            what,
            expected,
            got,
        })
    }
}
