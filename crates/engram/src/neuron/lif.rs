//! Leaky integrate-and-fire (stub; to be written).
use super::NeuronModel;
use crate::num::Fix;
/// LIF parameters (configuration, floats).
#[derive(Debug, Clone, Copy)]
pub struct LifParams;
/// Synaptic input kind.
#[derive(Debug, Clone, Copy)]
pub enum Synapses {
    /// Current-based.
    Current,
}
/// LIF model (fixed point).
#[derive(Debug, Clone, Copy)]
pub struct Lif;
/// LIF state.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LifState {
    /// Membrane potential (mV).
    pub v: Fix,
}
impl NeuronModel for Lif {
    type State = LifState;
    fn step(&self, _s: &mut LifState, _e: Fix, _i: Fix) -> bool {
        false
    }
    fn potential(s: &LifState) -> Fix {
        s.v
    }
}
