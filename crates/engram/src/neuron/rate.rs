//! Rate units (stub; to be written).
/// Rate parameters.
#[derive(Debug, Clone, Copy)]
pub struct RateParams;
/// Rate model.
#[derive(Debug, Clone, Copy)]
pub struct RateUnit;
/// Rate population.
#[derive(Debug)]
pub struct RatePopulation;
/// Nonlinearity.
#[derive(Debug, Clone, Copy)]
pub enum Nonlinearity {
    /// max(0, x)
    Relu,
}
