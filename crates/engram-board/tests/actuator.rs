//! Motors on mocked PWM and pins; LED patterns.

use embedded_hal_mock::eh1::MockError;
use embedded_hal_mock::eh1::digital::{Mock as PinMock, State, Transaction as Pin};
use embedded_hal_mock::eh1::pwm::{Mock as PwmMock, Transaction as Pwm};
use engram::Fix;
use engram_board::actuator::{Direction, Motor, MotorError, MotorPair, Pattern};

fn io_error() -> MockError {
    MockError::Io(std::io::ErrorKind::Other)
}

fn half() -> Fix {
    Fix::from_num(0.5)
}

#[test]
fn a_motor_zeroes_the_duty_before_switching_direction_and_scales_speed_to_duty() {
    let mut pwm = PwmMock::new(&[
        Pwm::max_duty_cycle(1000),
        // Forward at 0.5: duty 0, IN1 high, IN2 low, duty 500.
        Pwm::set_duty_cycle(0),
        Pwm::set_duty_cycle(500),
        // Faster, same direction: only the duty changes (speed 2 clamps to 1).
        Pwm::set_duty_cycle(1000),
        // Reverse at 0.25: duty 0 first, then the pins, then 250.
        Pwm::set_duty_cycle(0),
        Pwm::set_duty_cycle(250),
        // Zero: coast (duty 0, both pins low).
        Pwm::set_duty_cycle(0),
    ]);
    let mut in1 = PinMock::new(&[
        Pin::set(State::High),
        Pin::set(State::Low),
        Pin::set(State::Low),
    ]);
    let mut in2 = PinMock::new(&[
        Pin::set(State::Low),
        Pin::set(State::High),
        Pin::set(State::Low),
    ]);
    let mut m = Motor::new(pwm.clone(), in1.clone(), in2.clone());
    assert_eq!(m.direction(), None);
    m.set(half()).unwrap();
    assert_eq!(m.direction(), Some(Direction::Forward));
    m.set(Fix::from_num(2)).unwrap();
    m.set(-half() / 2).unwrap();
    assert_eq!(m.direction(), Some(Direction::Reverse));
    m.set(Fix::ZERO).unwrap();
    assert_eq!(m.direction(), Some(Direction::Coast));
    pwm.done();
    in1.done();
    in2.done();
}

#[test]
fn a_failing_motor_is_counted_stopped_and_recommanded_from_scratch() {
    // Left: the PWM fails on the first duty after switching; the pair stops it (duty 0); the next
    // command sets the pins again because the direction is unknown after a failure.
    let mut pwm_l = PwmMock::new(&[
        Pwm::max_duty_cycle(100),
        Pwm::set_duty_cycle(0),
        Pwm::set_duty_cycle(50).with_error(io_error()),
        Pwm::set_duty_cycle(0),
        Pwm::set_duty_cycle(0),
        Pwm::set_duty_cycle(50),
    ]);
    let mut a_l = PinMock::new(&[Pin::set(State::High), Pin::set(State::High)]);
    let mut b_l = PinMock::new(&[Pin::set(State::Low), Pin::set(State::Low)]);
    // Right: a direction pin fails once.
    let mut pwm_r = PwmMock::new(&[
        Pwm::max_duty_cycle(100),
        Pwm::set_duty_cycle(0),
        Pwm::set_duty_cycle(0),
        Pwm::set_duty_cycle(0),
        Pwm::set_duty_cycle(25),
    ]);
    let mut a_r = PinMock::new(&[
        Pin::set(State::Low).with_error(io_error()),
        Pin::set(State::Low),
    ]);
    let mut b_r = PinMock::new(&[Pin::set(State::High)]);
    let mut pair = MotorPair::new(
        Motor::new(pwm_l.clone(), a_l.clone(), b_l.clone()),
        Motor::new(pwm_r.clone(), a_r.clone(), b_r.clone()),
    );
    assert!(!pair.drive(&[half(), -half() / 2]));
    assert_eq!(pair.errors(), 2);
    assert_eq!(pair.left.direction(), None);
    assert!(pair.drive(&[half(), -half() / 2]));
    assert_eq!(pair.errors(), 2);
    for m in [&mut pwm_l, &mut pwm_r] {
        m.done();
    }
    for p in [&mut a_l, &mut b_l, &mut a_r, &mut b_r] {
        p.done();
    }
}

#[test]
fn motor_errors_carry_the_hal_error_kind() {
    let mut pwm = PwmMock::new(&[
        Pwm::max_duty_cycle(10),
        Pwm::set_duty_cycle(0).with_error(io_error()),
    ]);
    let (mut a, mut b) = (PinMock::new(&[]), PinMock::new(&[]));
    let mut m = Motor::new(pwm.clone(), a.clone(), b.clone());
    assert_eq!(
        m.set(half()),
        Err(MotorError::Pwm(embedded_hal::pwm::ErrorKind::Other))
    );
    pwm.done();
    a.done();
    b.done();
}

#[test]
fn patterns_draw_rows_levels_and_dots() {
    let x = Pattern::from_rows([0b10001, 0b01010, 0b00100, 0b01010, 0b10001]);
    assert!(x.is_lit(0, 0) && x.is_lit(0, 4) && x.is_lit(2, 2) && !x.is_lit(0, 1));
    assert!(!x.is_lit(5, 0), "outside the matrix is dark");
    assert_eq!(x.to_grid()[1], [0, 1, 0, 1, 0]);
    assert_eq!(Pattern::level(Fix::ZERO), Pattern::BLANK);
    assert_eq!(
        Pattern::level(Fix::from_num(0.4)),
        Pattern::from_rows([0, 0, 0, 0b11111, 0b11111])
    );
    assert_eq!(Pattern::level(Fix::from_num(3)), Pattern(0x1FF_FFFF));
    assert_eq!(
        Pattern::dot(Fix::ZERO, Fix::ZERO),
        Pattern::from_rows([0, 0, 0b00100, 0, 0])
    );
    assert_eq!(
        Pattern::dot(Fix::ONE, Fix::ONE),
        Pattern::from_rows([0b00001, 0, 0, 0, 0])
    );
    assert_eq!(
        Pattern::dot(-Fix::ONE, Fix::from_num(-9)),
        Pattern::from_rows([0, 0, 0, 0, 0b10000])
    );
}
