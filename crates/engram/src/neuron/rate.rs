//! Rate units: a leaky integrator followed by a static nonlinearity.
//!
//! ```text
//! τ dx/dt = -x + I + bias
//! y = f(gain · x),   f ∈ {ReLU, logistic sigmoid, tanh, identity}
//! ```
//!
//! Discretisation: **exponential Euler** (exact for input held constant over the step),
//! `x ← x·e^{-dt/τ} + (1 - e^{-dt/τ})·(I + bias)`, then `y = f(gain·x)` from the new `x`. `I` is this
//! step's input (the sum deposited by rate projections), consumed and zeroed by
//! [`RatePopulation::step`].
//!
//! Fixed point: `x`, `y`, `I`, `bias`, `gain` are [`Fix`]; the gain `1 - e^{-dt/τ}` is a [`Frac`], and
//! the update is computed as `x + (1 - e^{-dt/τ})·(I + bias - x)` (one rounding per step). Sums
//! saturate, products round to nearest. Rounding errors stay below `0.5 LSB / (1 - e^{-dt/τ})` (5 LSB
//! for τ = 10 dt), which is also the dead band around the fixed point `I + bias`. The sigmoid and tanh come from the compile-time tables of [`crate::num`]
//! ([`SIGMOID`]: max error 2e-5 on [−8, 8], 3.4e-4 beyond; [`TANH`]: 3e-5 on [−4, 4], 7e-4 beyond).
//!
//! Rate units do not spike, so they do not implement [`super::NeuronModel`]; [`RatePopulation`] plays
//! the role of [`super::Population`].

use crate::error::{ConfigError, check_len};
use crate::num::{Fix, Frac, SIGMOID, TANH, fix_from_f32, mul};

/// The output nonlinearity `f` of a rate unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Nonlinearity {
    /// `max(0, x)` (exact).
    Relu,
    /// Logistic `1/(1 + e^{-x})`, from the [`SIGMOID`] table.
    Sigmoid,
    /// `tanh(x)`, from the [`TANH`] table.
    Tanh,
    /// `x` (a linear unit).
    Identity,
}

impl Nonlinearity {
    /// `f(x)`.
    #[inline]
    pub fn apply(self, x: Fix) -> Fix {
        match self {
            Nonlinearity::Relu => x.max(Fix::ZERO),
            Nonlinearity::Sigmoid => SIGMOID.eval(x),
            Nonlinearity::Tanh => TANH.eval(x),
            Nonlinearity::Identity => x,
        }
    }
}

/// Rate-unit configuration (floats), validated by [`RateUnit::new`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateParams {
    /// Time constant τ (ms).
    pub tau_ms: f32,
    /// Output nonlinearity.
    pub nonlinearity: Nonlinearity,
    /// Constant input added to `I` (units of `x`).
    pub bias: f32,
    /// Slope applied before the nonlinearity, `y = f(gain·x)`; 1 for the plain function.
    pub gain: f32,
}

/// A validated rate unit in fixed point, shared by a [`RatePopulation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RateUnit {
    decay: Frac,
    gain_in: Frac,
    bias: Fix,
    gain: Fix,
    f: Nonlinearity,
}

impl RateUnit {
    /// Validates `p` for time step `dt_ms`: `0 < dt < τ` (finite), finite `bias` and `gain` with
    /// magnitude below 16 000.
    pub fn new(p: RateParams, dt_ms: f32) -> Result<RateUnit, ConfigError> {
        let decay = Frac::decay("rate tau", p.tau_ms, dt_ms)?;
        let bounded = |what, x: f32| {
            if x.abs() <= 16_000.0 {
                fix_from_f32(what, x)
            } else {
                Err(ConfigError::OutOfRange { what, value: x })
            }
        };
        Ok(RateUnit {
            decay,
            // Exact complement of the stored factor (decay > 0 since dt < τ).
            gain_in: Frac(0u32.wrapping_sub(decay.0)),
            bias: bounded("rate bias", p.bias)?,
            gain: bounded("rate gain", p.gain)?,
            f: p.nonlinearity,
        })
    }

    /// One step of one unit: updates `x` with this step's input and returns `y = f(gain·x)`.
    #[inline]
    pub fn step(&self, x: &mut Fix, input: Fix) -> Fix {
        *x = self.integrate(*x, input);
        self.output(*x)
    }

    /// The output `f(gain·x)` of a unit in state `x`.
    #[inline]
    pub fn output(&self, x: Fix) -> Fix {
        self.f.apply(mul(self.gain, x))
    }

    /// The nonlinearity.
    #[inline]
    pub fn nonlinearity(&self) -> Nonlinearity {
        self.f
    }

    /// The decay factor `e^{-dt/τ}`.
    #[inline]
    pub fn decay(&self) -> Frac {
        self.decay
    }

    /// `x·d + (1 - d)·(I + bias)` in the equal one-product form `x + (1 - d)·(I + bias - x)`.
    #[inline(always)]
    fn integrate(&self, x: Fix, input: Fix) -> Fix {
        let target = input.saturating_add(self.bias);
        x.saturating_add(self.gain_in.mul(target.saturating_sub(x)))
    }
}

/// N rate units on caller-provided storage.
///
/// Fields are public (like [`super::Population`]) so that a projection can read `y` while writing
/// `input`; their lengths are validated by [`RatePopulation::new`].
#[derive(Debug)]
pub struct RatePopulation<'a> {
    /// The shared parameters.
    pub model: RateUnit,
    /// Per-unit state `x`.
    pub x: &'a mut [Fix],
    /// Per-unit output `y = f(gain·x)`, written by `step`.
    pub y: &'a mut [Fix],
    /// This step's input (zeroed by `step`).
    pub input: &'a mut [Fix],
}

impl<'a> RatePopulation<'a> {
    /// A population on the given storage; `x`, `y` and `input` must have the same length.
    pub fn new(
        model: RateUnit,
        x: &'a mut [Fix],
        y: &'a mut [Fix],
        input: &'a mut [Fix],
    ) -> Result<Self, ConfigError> {
        check_len("rate output", x.len(), y.len())?;
        check_len("rate input", x.len(), input.len())?;
        Ok(RatePopulation { model, x, y, input })
    }

    /// Number of units.
    #[inline]
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// No units.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// Advances every unit by one step, consuming this step's input, and writes the outputs.
    pub fn step(&mut self) {
        // One loop per nonlinearity, so the match is not inside the loop.
        match self.model.f {
            Nonlinearity::Relu => self.run(|x| x.max(Fix::ZERO)),
            Nonlinearity::Sigmoid => self.run(|x| SIGMOID.eval(x)),
            Nonlinearity::Tanh => self.run(|x| TANH.eval(x)),
            Nonlinearity::Identity => self.run(|x| x),
        }
    }

    #[inline(always)]
    fn run(&mut self, f: impl Fn(Fix) -> Fix) {
        let m = self.model;
        let it = self
            .x
            .iter_mut()
            .zip(self.y.iter_mut())
            .zip(self.input.iter_mut());
        for ((x, y), i) in it {
            *x = m.integrate(*x, *i);
            *y = f(mul(m.gain, *x));
            *i = Fix::ZERO;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> Fix {
        Fix::from_num(x)
    }

    fn params(nl: Nonlinearity) -> RateParams {
        RateParams {
            tau_ms: 10.0,
            nonlinearity: nl,
            bias: 0.0,
            gain: 1.0,
        }
    }

    #[test]
    fn relaxes_exponentially_to_input_plus_bias() {
        let m = RateUnit::new(
            RateParams {
                bias: 0.5,
                ..params(Nonlinearity::Identity)
            },
            1.0,
        )
        .unwrap();
        let mut x = Fix::ZERO;
        for k in 1..=100 {
            let y = m.step(&mut x, f(1.5));
            let want = 2.0 * (1.0 - (-(k as f64) / 10.0).exp());
            assert!((y.to_num::<f64>() - want).abs() < 1e-4, "step {k}");
        }
        for _ in 0..1000 {
            m.step(&mut x, f(1.5));
        }
        // dead band: 0.5 LSB / (1 - e^-0.1) = 5.3 LSB
        assert!((x - f(2.0)).abs() <= Fix::from_bits(5), "{x}");
        // rest: no input, no bias → stays at 0
        let m0 = RateUnit::new(params(Nonlinearity::Sigmoid), 1.0).unwrap();
        let mut x = Fix::ZERO;
        for _ in 0..100 {
            assert_eq!(m0.step(&mut x, Fix::ZERO), f(0.5));
        }
        assert_eq!(x, Fix::ZERO);
    }

    #[test]
    fn nonlinearities_and_gain() {
        let xs = [-1.9, -0.5, 0.0, 0.25, 1.5]; // 2x inside the tables' domains
        for (nl, want) in [
            (Nonlinearity::Relu, (|x: f64| x.max(0.0)) as fn(f64) -> f64),
            (Nonlinearity::Sigmoid, |x: f64| 1.0 / (1.0 + (-x).exp())),
            (Nonlinearity::Tanh, |x: f64| x.tanh()),
            (Nonlinearity::Identity, |x: f64| x),
        ] {
            let m = RateUnit::new(
                RateParams {
                    gain: 2.0,
                    ..params(nl)
                },
                1.0,
            )
            .unwrap();
            for x in xs {
                let got = m.output(f(x)).to_num::<f64>();
                assert!((got - want(2.0 * x)).abs() < 5e-5, "{nl:?}({x}): {got}");
            }
        }
    }

    #[test]
    fn population_matches_single_units_and_consumes_input() {
        let m = RateUnit::new(params(Nonlinearity::Tanh), 0.5).unwrap();
        let mut x = [Fix::ZERO; 3];
        let mut y = [Fix::ZERO; 3];
        let mut input = [f(1.0), f(-2.0), f(0.3)];
        let mut reference = x;
        let ins = input;
        let mut pop = RatePopulation::new(m, &mut x, &mut y, &mut input).unwrap();
        pop.step();
        for ((r, i), y) in reference.iter_mut().zip(ins).zip(pop.y.iter()) {
            assert_eq!(m.step(r, i), *y);
        }
        assert_eq!(pop.x, &reference);
        assert!(pop.input.iter().all(|&i| i == Fix::ZERO));
        assert_eq!(pop.len(), 3);
        let (mut a, mut b, mut c) = ([Fix::ZERO; 2], [Fix::ZERO; 3], [Fix::ZERO; 2]);
        assert!(RatePopulation::new(m, &mut a, &mut b, &mut c).is_err());
        let (mut a, mut b, mut c) = ([Fix::ZERO; 2], [Fix::ZERO; 2], [Fix::ZERO; 1]);
        assert!(RatePopulation::new(m, &mut a, &mut b, &mut c).is_err());
    }

    #[test]
    fn config_errors_are_refused() {
        let ok = params(Nonlinearity::Relu);
        for p in [
            RateParams { tau_ms: 0.0, ..ok },
            RateParams { tau_ms: 1.0, ..ok },
            RateParams {
                tau_ms: f32::NAN,
                ..ok
            },
            RateParams {
                bias: f32::NAN,
                ..ok
            },
            RateParams {
                gain: f32::INFINITY,
                ..ok
            },
            RateParams { gain: 1e6, ..ok },
        ] {
            assert!(RateUnit::new(p, 1.0).is_err(), "{p:?}");
        }
        assert!(RateUnit::new(ok, 0.0).is_err());
        assert!(RateUnit::new(ok, 1.0).is_ok());
    }

    #[test]
    fn extreme_inputs_saturate_without_panicking() {
        for nl in [
            Nonlinearity::Relu,
            Nonlinearity::Sigmoid,
            Nonlinearity::Tanh,
            Nonlinearity::Identity,
        ] {
            let m = RateUnit::new(
                RateParams {
                    bias: 16_000.0,
                    gain: -16_000.0,
                    ..params(nl)
                },
                1.0,
            )
            .unwrap();
            for i in [Fix::MAX, Fix::MIN] {
                let mut x = Fix::MAX;
                for _ in 0..50 {
                    m.step(&mut x, i);
                }
            }
        }
        let m = RateUnit::new(params(Nonlinearity::Identity), 1.0).unwrap();
        let mut x = Fix::ZERO;
        for _ in 0..2000 {
            m.step(&mut x, Fix::MAX);
        }
        assert!(x > f(32767.0), "{x}");
    }
}
