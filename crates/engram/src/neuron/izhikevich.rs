//! Izhikevich (2003) (stub; to be written).
use super::NeuronModel;
use crate::num::Fix;
/// Izhikevich parameters.
#[derive(Debug, Clone, Copy)]
pub struct IzhikevichParams;
/// Izhikevich model.
#[derive(Debug, Clone, Copy)]
pub struct Izhikevich;
/// Izhikevich neuron state.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct IzhNeuron {
    /// Membrane potential.
    pub v: Fix,
}
impl NeuronModel for Izhikevich {
    type State = IzhNeuron;
    fn step(&self, _s: &mut IzhNeuron, _e: Fix, _i: Fix) -> bool {
        false
    }
    fn potential(s: &IzhNeuron) -> Fix {
        s.v
    }
}
