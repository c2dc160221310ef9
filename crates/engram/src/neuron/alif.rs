//! Adaptive LIF (stub; to be written).
use super::NeuronModel;
use crate::num::Fix;
/// ALIF parameters.
#[derive(Debug, Clone, Copy)]
pub struct AlifParams;
/// ALIF model.
#[derive(Debug, Clone, Copy)]
pub struct Alif;
/// ALIF state.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AlifState {
    /// Membrane potential.
    pub v: Fix,
}
impl NeuronModel for Alif {
    type State = AlifState;
    fn step(&self, _s: &mut AlifState, _e: Fix, _i: Fix) -> bool {
        false
    }
    fn potential(s: &AlifState) -> Fix {
        s.v
    }
}
