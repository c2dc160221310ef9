//! Neuron models and the population that runs them.
//!
//! A model ([`NeuronModel`]) is plain fixed-point parameters plus a per-neuron `State`; its `step`
//! advances one neuron by one time step, and its `step_population` a whole population (by default a
//! loop over `step`; a model may override it with a faster loop giving the same bits). A
//! [`Population`] borrows the caller's storage for N states, the two input channels and the spike
//! list, and steps them all with one `step_population` call.
//!
//! For large LIF networks [`LifPopulation`] stores the same neurons as one array per state variable
//! (`v`, `g_exc`, `g_inh`, `refractory`): a step then loads several neurons of a variable with one
//! vector instruction. On targets with vector instructions it runs the LIF kernel of `lif.rs` block
//! by block, with a wrapping fast path for blocks whose values are in range (the bounds are in
//! `lif.rs`); on scalar microcontrollers the plain per-neuron step. Same bits as `Population<Lif>`.
//!
//! | model | file | equation |
//! | --- | --- | --- |
//! | [`Lif`] (current- or conductance-based input) | `lif.rs` | `τ_m dv/dt = -(v - E_L) + I` or `+ g_e(E_e - v) + g_i(E_i - v)` |
//! | [`Alif`] (adaptive threshold, Bellec et al. 2018) | `alif.rs` | LIF with `θ = v_th + β·a`, `τ_a da/dt = -a + Σδ(t - t_spike)` |
//! | [`Izhikevich`] (2003) | `izhikevich.rs` | `v' = 0.04v² + 5v + 140 - u + I`, `u' = a(bv - u)` |
//! | [`RateUnit`] (leaky integrator + LUT nonlinearity) | `rate.rs` | `τ dx/dt = -x + I + bias`, `y = f(gain·x)` |
//!
//! Float reference implementations of each model (host only, feature `std` or tests) live in
//! `neuron::reference` (feature `std`); tests bound the fixed-vs-float error.
//!
//! ## Input channels
//! Projections deposit, each step, the sum of the weights of the spikes that arrived (or, for rate
//! projections, the weighted sum of rates) into one of two channels per neuron, [`Channel::Exc`] and
//! [`Channel::Inh`]. What a deposit means is the model's: a jump of a synaptic current (current-based
//! LIF; signs carried by the weights), a jump of a conductance in units of the leak conductance
//! (conductance-based LIF; weights non-negative), or this step's input current (Izhikevich, rate units).
//! `step` consumes the deposits and zeroes them.

mod alif;
mod izhikevich;
mod lif;
mod rate;
#[cfg(any(test, feature = "std"))]
pub mod reference;

pub use alif::{Alif, AlifParams, AlifState};
pub use izhikevich::{IzhNeuron, Izhikevich, IzhikevichParams};
pub use lif::{Lif, LifParams, LifPopulation, LifState, LifStorage, Synapses};
pub use rate::{Nonlinearity, RateParams, RatePopulation, RateUnit};

use crate::error::{ConfigError, check_len};
use crate::num::Fix;

/// Largest population: spike indices are `u16`.
pub const MAX_NEURONS: usize = u16::MAX as usize;

/// Which synaptic variable a projection deposits into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Channel {
    /// Excitatory receptor (e.g. AMPA): its own time constant / reversal potential.
    Exc,
    /// Inhibitory receptor (e.g. GABA_A).
    Inh,
}

/// A spiking neuron model: fixed-point parameters shared by a population, and a per-neuron state.
pub trait NeuronModel {
    /// The state of one neuron.
    type State: Copy + Default + PartialEq + core::fmt::Debug;

    /// Advances one neuron by one time step given this step's deposits on each channel; returns
    /// `true` if it spiked. Total: never panics, saturates on overflow.
    fn step(&self, state: &mut Self::State, exc: Fix, inh: Fix) -> bool;

    /// Advances a whole population by one step: `step` for every neuron `j` with `exc[j]`, `inh[j]`,
    /// then zeroes the deposits; `spikes` is cleared and receives the indices that spiked, in
    /// increasing order. Neurons beyond the shortest slice are not stepped. Callers keep the length
    /// ≤ [`MAX_NEURONS`] (indices are stored as `u16`; [`Population`] guarantees it).
    ///
    /// The default loops over [`step`](Self::step); a model may override it with a loop the compiler
    /// can vectorise (the LIF does). An override must give the same bits as the default.
    #[inline]
    fn step_population(
        &self,
        state: &mut [Self::State],
        exc: &mut [Fix],
        inh: &mut [Fix],
        spikes: &mut Spikes<'_>,
    ) {
        spikes.clear();
        let it = state.iter_mut().zip(exc.iter_mut()).zip(inh.iter_mut());
        for (j, ((s, e), i)) in it.enumerate() {
            if self.step(s, *e, *i) {
                spikes.push(j as u16);
            }
            *e = Fix::ZERO;
            *i = Fix::ZERO;
        }
    }

    /// The membrane potential of a state (mV), for reports and hashing.
    fn potential(state: &Self::State) -> Fix;
}

/// The indices of the neurons that spiked in the last step, in increasing order.
#[derive(Debug)]
pub struct Spikes<'a> {
    idx: &'a mut [u16],
    len: usize,
}

impl<'a> Spikes<'a> {
    /// A spike list with room for `buf.len()` neurons.
    pub fn new(buf: &'a mut [u16]) -> Spikes<'a> {
        Spikes { idx: buf, len: 0 }
    }

    /// The spiking neurons, in increasing order.
    #[inline]
    pub fn as_slice(&self) -> &[u16] {
        self.idx.get(..self.len).unwrap_or(&[])
    }

    /// Forgets all spikes.
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Records a spike of neuron `j`. A full list drops the spike and returns `false` (cannot happen
    /// in a population, whose list has one slot per neuron).
    #[inline]
    pub fn push(&mut self, j: u16) -> bool {
        match self.idx.get_mut(self.len) {
            Some(slot) => {
                *slot = j;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// Number of spikes.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// No spikes.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// N neurons of one model, on caller-provided storage.
///
/// Fields are public so that a projection can read `spikes` while writing `exc`/`inh` of the same
/// population (recurrent connections) without a borrow conflict; their lengths are validated by
/// [`Population::new`].
#[derive(Debug)]
pub struct Population<'a, M: NeuronModel> {
    /// The model's parameters.
    pub model: M,
    /// Per-neuron state.
    pub state: &'a mut [M::State],
    /// This step's excitatory-channel deposits (zeroed by `step`).
    pub exc: &'a mut [Fix],
    /// This step's inhibitory-channel deposits (zeroed by `step`).
    pub inh: &'a mut [Fix],
    /// Who spiked in the last `step`.
    pub spikes: Spikes<'a>,
}

impl<'a, M: NeuronModel> Population<'a, M> {
    /// A population on the given storage; all slices must have the same length N ≤ [`MAX_NEURONS`].
    pub fn new(
        model: M,
        state: &'a mut [M::State],
        exc: &'a mut [Fix],
        inh: &'a mut [Fix],
        spike_buf: &'a mut [u16],
    ) -> Result<Self, ConfigError> {
        let n = state.len();
        if n > MAX_NEURONS {
            return Err(ConfigError::TooLarge {
                what: "population size",
                got: n,
                max: MAX_NEURONS,
            });
        }
        check_len("excitatory input", n, exc.len())?;
        check_len("inhibitory input", n, inh.len())?;
        check_len("spike buffer", n, spike_buf.len())?;
        Ok(Population {
            model,
            state,
            exc,
            inh,
            spikes: Spikes::new(spike_buf),
        })
    }

    /// Number of neurons.
    #[inline]
    pub fn len(&self) -> usize {
        self.state.len()
    }

    /// An empty population.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }

    /// The deposit buffer of a channel.
    #[inline]
    pub fn channel(&mut self, ch: Channel) -> &mut [Fix] {
        match ch {
            Channel::Exc => self.exc,
            Channel::Inh => self.inh,
        }
    }

    /// Advances every neuron by one step, consuming this step's deposits and recording spikes.
    ///
    /// One call of [`NeuronModel::step_population`] (the lengths were checked in `new`: every index
    /// fits a `u16` and the spike list has one slot per neuron).
    #[inline]
    pub fn step(&mut self) {
        self.model
            .step_population(self.state, self.exc, self.inh, &mut self.spikes);
    }
}

/// Storage for a population of N neurons with a size known at compile time (for boards: put it in a
/// `static` via `StaticCell`; `size_of::<PopulationStorage<M, N>>()` is the exact RAM it takes).
#[derive(Debug)]
pub struct PopulationStorage<M: NeuronModel, const N: usize> {
    /// Per-neuron state.
    pub state: [M::State; N],
    /// Excitatory deposits.
    pub exc: [Fix; N],
    /// Inhibitory deposits.
    pub inh: [Fix; N],
    /// Spike list buffer.
    pub spikes: [u16; N],
}

impl<M: NeuronModel, const N: usize> PopulationStorage<M, N> {
    const SIZE_OK: () = assert!(
        N <= MAX_NEURONS,
        "population too large for u16 spike indices"
    );

    /// Storage with every neuron in `init`.
    pub fn new(init: M::State) -> Self {
        let () = Self::SIZE_OK;
        PopulationStorage {
            state: [init; N],
            exc: [Fix::ZERO; N],
            inh: [Fix::ZERO; N],
            spikes: [0; N],
        }
    }

    /// A population running `model` on this storage.
    pub fn population(&mut self, model: M) -> Population<'_, M> {
        // Sizes agree by construction, so `new` cannot fail; build directly to keep this infallible.
        Population {
            model,
            state: &mut self.state,
            exc: &mut self.exc,
            inh: &mut self.inh,
            spikes: Spikes::new(&mut self.spikes),
        }
    }
}
