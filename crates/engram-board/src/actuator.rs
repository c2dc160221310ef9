//! Actuators: DC motors on an H-bridge ([`Motor`], [`MotorPair`]) and 5×5 LED patterns ([`Pattern`]).
//!
//! Same fault policy as the sensors: an actuator error is counted and the motor is stopped as well as
//! the hardware allows; nothing panics, the agent keeps running.

use embedded_hal::digital::{self, OutputPin};
use embedded_hal::pwm::{self, SetDutyCycle};
use engram::Fix;

/// Why a motor command failed (the HAL's error kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MotorError {
    /// The PWM channel refused the duty cycle.
    Pwm(pwm::ErrorKind),
    /// A direction pin could not be set.
    Pin(digital::ErrorKind),
}

/// Which way a motor's H-bridge half drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Direction {
    /// IN1 high, IN2 low.
    Forward,
    /// IN1 low, IN2 high.
    Reverse,
    /// Both low: the bridge is off and the motor coasts.
    Coast,
}

/// One DC motor on an H-bridge with a PWM enable/speed input and two direction inputs (L298N-,
/// TB6612- and DRV8833-style boards in "PWM + IN1/IN2" wiring).
///
/// Speed is a [`Fix`] in `[-1, 1]` (clamped): the sign picks the direction, the magnitude the duty
/// cycle, `duty = round(|speed| · max_duty)`. Zero coasts. On a change of direction the duty cycle goes
/// to 0 before the pins switch, so the bridge never drives the motor backwards at full duty for a
/// moment (and never has both halves on).
pub struct Motor<P, A, B> {
    pwm: P,
    in1: A,
    in2: B,
    max_duty: u16,
    /// `None` after a failed command: the next command sets the pins again.
    dir: Option<Direction>,
}

impl<P: SetDutyCycle, A: OutputPin, B: OutputPin> Motor<P, A, B> {
    /// Takes the PWM channel and the two direction pins. No output changes until the first command.
    pub fn new(pwm: P, in1: A, in2: B) -> Self {
        let max_duty = pwm.max_duty_cycle();
        Self {
            pwm,
            in1,
            in2,
            max_duty,
            dir: None,
        }
    }

    /// Gives the channel and pins back.
    pub fn release(self) -> (P, A, B) {
        (self.pwm, self.in1, self.in2)
    }

    /// The direction last set successfully (`None` before the first command or after a failure).
    pub const fn direction(&self) -> Option<Direction> {
        self.dir
    }

    /// Drives at `speed` (see the type's doc).
    pub fn set(&mut self, speed: Fix) -> Result<(), MotorError> {
        let bits = speed.to_bits().clamp(-(1 << 16), 1 << 16);
        let dir = match bits {
            0 => Direction::Coast,
            b if b > 0 => Direction::Forward,
            _ => Direction::Reverse,
        };
        let duty =
            ((u64::from(bits.unsigned_abs()) * u64::from(self.max_duty) + (1 << 15)) >> 16) as u16;
        let result = self.apply(dir, duty);
        if result.is_err() {
            self.dir = None;
        }
        result
    }

    fn apply(&mut self, dir: Direction, duty: u16) -> Result<(), MotorError> {
        if self.dir != Some(dir) {
            self.pwm
                .set_duty_cycle(0)
                .map_err(|e| MotorError::Pwm(pwm::Error::kind(&e)))?;
            let (a, b) = match dir {
                Direction::Forward => (true, false),
                Direction::Reverse => (false, true),
                Direction::Coast => (false, false),
            };
            self.in1
                .set_state(a.into())
                .map_err(|e| MotorError::Pin(digital::Error::kind(&e)))?;
            self.in2
                .set_state(b.into())
                .map_err(|e| MotorError::Pin(digital::Error::kind(&e)))?;
            self.dir = Some(dir);
            if duty == 0 {
                return Ok(());
            }
        }
        self.pwm
            .set_duty_cycle(duty)
            .map_err(|e| MotorError::Pwm(pwm::Error::kind(&e)))
    }

    /// Best effort to stop after a failure: duty 0, ignoring errors (the bridge may be gone).
    fn try_stop(&mut self) {
        let _ = self.pwm.set_duty_cycle(0);
        self.dir = None;
    }
}

/// The phototaxis robot's two wheels, with failures counted.
pub struct MotorPair<PL, AL, BL, PR, AR, BR> {
    /// Left wheel.
    pub left: Motor<PL, AL, BL>,
    /// Right wheel.
    pub right: Motor<PR, AR, BR>,
    errors: u32,
}

impl<PL, AL, BL, PR, AR, BR> MotorPair<PL, AL, BL, PR, AR, BR>
where
    PL: SetDutyCycle,
    AL: OutputPin,
    BL: OutputPin,
    PR: SetDutyCycle,
    AR: OutputPin,
    BR: OutputPin,
{
    /// Pairs two motors.
    pub const fn new(left: Motor<PL, AL, BL>, right: Motor<PR, AR, BR>) -> Self {
        Self {
            left,
            right,
            errors: 0,
        }
    }

    /// Commands that failed since construction (saturating).
    pub const fn errors(&self) -> u32 {
        self.errors
    }

    /// Applies an action `[left speed, right speed]` (missing channels drive 0). A motor whose
    /// command fails is counted and stopped as well as possible. Returns whether both succeeded.
    pub fn drive(&mut self, action: &[Fix]) -> bool {
        let mut speeds = action.iter().copied().chain(core::iter::repeat(Fix::ZERO));
        let (l, r) = (
            speeds.next().unwrap_or(Fix::ZERO),
            speeds.next().unwrap_or(Fix::ZERO),
        );
        let left_ok = self.left.set(l).is_ok();
        if !left_ok {
            self.left.try_stop();
        }
        let right_ok = self.right.set(r).is_ok();
        if !right_ok {
            self.right.try_stop();
        }
        self.errors = self
            .errors
            .saturating_add(u32::from(!left_ok) + u32::from(!right_ok));
        left_ok && right_ok
    }
}

/// A 5×5 LED image (the micro:bit's matrix): bit `5·row + col` set = lit; row 0 at the top, column 0
/// at the left. A board's display driver shows it (through [`LedMatrix`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Pattern(pub u32);

impl Pattern {
    /// All off.
    pub const BLANK: Pattern = Pattern(0);

    /// From five rows, each the low 5 bits of a byte, bit 4 = the leftmost column (so rows read like
    /// the picture: `0b10001`).
    pub const fn from_rows(rows: [u8; 5]) -> Self {
        let mut bits = 0u32;
        let mut r = 0;
        while r < 5 {
            let mut c = 0;
            while c < 5 {
                if rows[r] & (0b10000 >> c) != 0 {
                    bits |= 1 << (5 * r + c);
                }
                c += 1;
            }
            r += 1;
        }
        Self(bits)
    }

    /// Whether the LED at `row`, `col` (0..5) is lit; `false` outside the matrix.
    pub const fn is_lit(self, row: usize, col: usize) -> bool {
        row < 5 && col < 5 && self.0 & (1 << (5 * row + col)) != 0
    }

    /// The image as 5 × 5 brightness flags, row-major (for display drivers taking a `[[u8; 5]; 5]`).
    pub const fn to_grid(self) -> [[u8; 5]; 5] {
        let mut g = [[0u8; 5]; 5];
        let mut r = 0;
        while r < 5 {
            let mut c = 0;
            while c < 5 {
                g[r][c] = self.is_lit(r, c) as u8;
                c += 1;
            }
            r += 1;
        }
        g
    }

    /// A level meter: `round(5 · level)` full rows lit from the bottom, `level` clamped to `[0, 1]`.
    pub fn level(level: Fix) -> Self {
        let bits = level.to_bits().clamp(0, 1 << 16) as u32;
        let rows = (5 * bits + (1 << 15)) >> 16; // 0..=5
        Self(((1u32 << (5 * rows)) - 1) << (5 * (5 - rows)))
    }

    /// One LED at the position of a point in `[-1, 1]²` (x to the right, y up; clamped): a tilt or a
    /// learned direction. Each axis maps to `round(2 · (v + 1))`.
    pub fn dot(x: Fix, y: Fix) -> Self {
        let cell = |v: Fix| {
            ((v.to_bits().clamp(-(1 << 16), 1 << 16) + (1 << 16)) as u32 * 2 + (1 << 15)) >> 16
        };
        let (col, row) = (cell(x), 4 - cell(y).min(4));
        Self(1 << (5 * row + col.min(4)))
    }
}

/// A display that can show a [`Pattern`] (a board implements it over its LED driver).
pub trait LedMatrix {
    /// The driver's error.
    type Error;

    /// Shows `pattern` until the next call.
    fn show(&mut self, pattern: Pattern) -> Result<(), Self::Error>;
}
