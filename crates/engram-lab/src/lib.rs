//! # engram-lab — named experiments and simulated environments
//!
//! Each experiment is a module that declares its four parts — architecture, learning rule, objective,
//! environment — in its doc, builds itself on caller-provided storage (so a board can run it from
//! `static` arrays) and steps without allocating. With the `std` feature each also offers `Buffers`,
//! heap storage sized at run time for the host.
//!
//! An experiment's `Network` implements [`Simulation`]: step it, count its spikes, hash its
//! complete state (for the learning experiments that includes every weight, trace, eligibility, θ,
//! the objective's running state and every stochastic-rounding generator). That one trait is all
//! the `engram` command's `--hash` mode and the emulated-Cortex-M firmware
//! (`boards/qemu-mps2-an386`) need, so a new experiment is checked host ↔ chip by implementing it.
//! Done for `izhikevich2003`, `brette2007`, `distal_reward`, `homeostasis`, `pes`, `eprop` (the
//! spiking learning ones in a `Config::check` configuration sized for the check), `oja_pca` and
//! `bcm`; not yet for `triplet` (a protocol of pairings rather than a running network).
//!
//! | experiment | module | what it reproduces |
//! | --- | --- | --- |
//! | `izhikevich2003` | [`izhikevich2003`] | Izhikevich (2003): 1000 spiking neurons, irregular firing with alpha/gamma rhythms |
//! | `brette-cuba`, `brette-coba` | [`brette2007`] | Brette et al. (2007) benchmarks 2 and 1: 4000 LIF neurons, self-sustained asynchronous irregular activity |
//! | (kernels) | [`kernels`] | not an experiment: golden-vector digests of the core's fixed-point kernels, compared host ↔ target |
//! | `oja-pca` | [`oja_pca`] | Oja (1982): a linear neuron with Oja's rule converges to the first principal component, with unit norm |
//! | `bcm` | [`bcm`] | Bienenstock, Cooper & Munro (1982); Intrator & Cooper (1992): a rate neuron with the BCM rule becomes selective to one of K orthogonal patterns |
//! | `homeostasis` | [`homeostasis`] | Turrigiano et al. (1998) synaptic scaling; Desai et al. (1999) intrinsic plasticity: LIF neurons return to a target rate from far above or below |
//! | `distal-reward` | [`distal_reward`] | Izhikevich (2007): dopamine-modulated STDP finds the one synapse whose coincidences are rewarded 1–3 s later |
//! | `triplet` | [`triplet`] | Pfister & Gerstner (2006) on Sjöström et al. (2001): triplet STDP potentiates both pairing orders at high frequency, pair STDP cannot |
//! | `pes` | [`pes`] | MacNeil & Eliasmith (2011), Nengo's PES: a spiking LIF ensemble learns decoders of x and x² online from zero |
//! | `song2000` | [`song2000`] | Song, Miller & Abbott (2000): additive STDP on a conductance LIF neuron with 1000 Poisson inputs makes the weights bimodal and the output rate nearly independent of the input rate |
//! | `stdp-scaled` | [`stdp_scaled`] | Song 2000 scaled (benchmark model 3 against Brian2 and NEST): 1000 Poisson inputs onto 100 LIF neurons with pair STDP on all 100 000 synapses |
//! | `eprop` | [`eprop`] | Bellec et al. (2020): e-prop trains a recurrent LIF network to generate a sum of sinusoids (symmetric and random feedback) |
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bcm;
pub mod brette2007;
pub mod distal_reward;
pub mod eprop;
pub mod homeostasis;
pub mod izhikevich2003;
pub mod kernels;
pub mod oja_pca;
pub mod pes;
pub mod song2000;
pub mod stdp_scaled;
pub mod triplet;

use engram::hash::{Fnv64, StateHash, hash_rule_state};
use engram::num::Weight;
use engram::projection::Synapses;
use engram::rule::Plastic;

/// A running experiment as the host's hash mode and the firmware drive it: step, count, hash.
///
/// The drivers (host `engram run --hash`, firmware `run`) do the same: after each [`step`](Self::step)
/// they add [`spike_count`](Self::spike_count) to a total and feed
/// [`spikes_hash`](Self::spikes_hash) into a history hash ([`History`]).
///
/// The state hash is the bit-exactness contract between the host and a chip: after the same number of
/// steps from the same seed both must report the same [`Simulation::state_hash`]. The parts let a
/// mismatch be traced to the variable that diverged first.
pub trait Simulation {
    /// Advances one time step.
    fn step(&mut self);

    /// Steps taken since construction.
    fn steps(&self) -> u64;

    /// Spikes emitted in the last step, all populations together.
    fn spike_count(&self) -> usize;

    /// Hash of the spike lists of the last step (every population, in order). The drivers chain it
    /// step by step into a `history` hash: unlike the final state, which a small divergence can leave
    /// identical again (a 1-LSB difference in `u` washed out by a reset), the history cannot
    /// reconverge, so it also catches transient divergence that changed any spike.
    fn spikes_hash(&self) -> u64;

    /// Visits, in a fixed order, a name and an [`engram::hash::StateHash`] hash for each part of the
    /// complete state (neuron states, inputs, spike lists, weights, accumulators, RNG, step counter).
    fn hash_parts(&self, visit: &mut dyn FnMut(&'static str, u64));

    /// The hash of the complete state: FNV-1a over the part hashes in order (the same value as
    /// [`engram::hash::combine`] of the parts).
    fn state_hash(&self) -> u64 {
        let mut h = Fnv64::new();
        self.hash_parts(&mut |_, p| h.write_u64(p));
        h.finish()
    }
}

/// The running hash of every step's spike lists (see [`Simulation::spikes_hash`]): FNV-1a over the
/// per-step hashes, in step order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct History(Fnv64);

impl History {
    /// Nothing recorded.
    pub const fn new() -> History {
        History(Fnv64::new())
    }

    /// Records the step `sim` just took.
    #[inline]
    pub fn record(&mut self, sim: &(impl Simulation + ?Sized)) {
        self.0.write_u64(sim.spikes_hash());
    }

    /// The hash of the history so far.
    pub const fn finish(&self) -> u64 {
        self.0.finish()
    }
}

/// Visits a plastic projection as two parts of a [`Simulation::hash_parts`]: `names[0]` its synapses
/// (topology, weights, accumulators), `names[1]` its rule state (traces, eligibility, θ, the
/// stochastic-rounding generator, the tick phase: [`engram::hash::hash_rule_state`]).
pub fn visit_plastic<W: Weight, P: Synapses<W> + StateHash>(
    p: &Plastic<'_, W, P>,
    names: [&'static str; 2],
    visit: &mut dyn FnMut(&'static str, u64),
) {
    let [synapses, rule] = names;
    visit(synapses, p.proj.state_hash());
    let mut h = Fnv64::new();
    hash_rule_state(p, &mut h);
    visit(rule, h.finish());
}
