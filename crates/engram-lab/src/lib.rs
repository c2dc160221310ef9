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
//! It also implements [`Observe`]: what the host records and plots (spikes per population, named
//! metrics such as `objective` and `reward`, plastic weights in weight units, finished episodes),
//! read-only and off the step path. Its `Config` has `serde` derives (feature `serde`) and a
//! `Default` that is the experiment's standard run, so the host configures it from TOML and
//! `--set key=value`.
//! The spiking learning ones run a `Config::check` configuration sized for the check.
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
//! | `triplet-frequency` | [`triplet`] | Pfister & Gerstner (2006) on Sjöström et al. (2001): triplet STDP potentiates both pairing orders at high frequency, pair STDP cannot |
//! | `pes` | [`pes`] | MacNeil & Eliasmith (2011), Nengo's PES: a spiking LIF ensemble learns decoders of x and x² online from zero |
//! | `song2000` | [`song2000`] | Song, Miller & Abbott (2000): additive STDP on a conductance LIF neuron with 1000 Poisson inputs makes the weights bimodal and the output rate nearly independent of the input rate |
//! | `stdp-scaled` | [`stdp_scaled`] | Song 2000 scaled (benchmark model 3 against Brian2 and NEST): 1000 Poisson inputs onto 100 LIF neurons with pair STDP on all 100 000 synapses |
//! | `eprop` | [`eprop`] | Bellec et al. (2020): e-prop trains a recurrent LIF network to generate a sum of sinusoids (symmetric and random feedback) |
//! | `pattern-in-noise` | [`pattern_in_noise`] | Masquelier, Guyonneau & Thorpe (2008): one LIF neuron with STDP finds a 50 ms spike pattern repeated at random times in Poisson noise, and fires ever earlier in it |
//! | `cartpole` | [`cartpole`] | Barto, Sutton & Anderson (1983): the cart-pole, balanced by a spiking actor-critic (TD error as the third factor) learning online from failures |
//! | `bandit` | [`bandit`] | a 4-armed Bernoulli bandit (closed loop): action groups of LIF neurons learn to choose the best arm with reward-modulated STDP and a reward-prediction-error critic |
//! | `tilt` | [`tilt`] | micro:bit v2 demo (closed loop): a reward-modulated Hebbian rule learns which LED pattern a user wants for each tilt direction from reward (button A) and punishment (button B); simulated with a scripted user |
//! | `oja-motion` | [`oja_motion`] | micro:bit v2 demo: Oja's rule finds the principal axis of movement in a (simulated) accelerometer stream, gravity removed by a high-pass |
//! | `phototaxis` | [`phototaxis`] | a 2-D Braitenberg vehicle (closed loop): two light sensors, two wheels; a three-factor rule learns from reward alone to reach a light that jumps elsewhere whenever reached |
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bandit;
pub mod bcm;
pub mod brette2007;
pub mod cartpole;
pub mod distal_reward;
pub mod eprop;
pub mod homeostasis;
pub mod izhikevich2003;
pub mod kernels;
pub mod oja_motion;
pub mod oja_pca;
pub mod pattern_in_noise;
pub mod pes;
pub mod phototaxis;
pub mod pil;
pub mod song2000;
pub mod stdp_scaled;
pub mod tilt;
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

/// One finished episode of a closed-loop experiment, as [`Observe::last_episode`] reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Episode {
    /// Episodes finished so far, this one included (1 for the first).
    pub index: u32,
    /// Steps the episode lasted.
    pub steps: u32,
    /// Reward summed over the episode.
    pub reward: f32,
    /// Whether the episode reached its goal (the experiment's own criterion).
    pub success: bool,
}

/// The callback of [`Observe::weights`]: `(projection name, (w_min, w_max), weights)`, weight units.
pub type WeightVisitor<'v> =
    dyn FnMut(&'static str, (f32, f32), &mut dyn Iterator<Item = f32>) + 'v;

/// What a running experiment shows the host (recordings, plots) and, later, telemetry: its spikes,
/// its named metrics and its plastic weights, in report units (`f32`; reporting only — nothing here
/// feeds back into the simulation, and none of it is on the step path).
///
/// Every visit is in a fixed order with fixed names for a given configuration (the host makes CSV
/// columns of them). A metric may be NaN while it is undefined (a latency before the first
/// spike), never infinite; `objective` is always defined (`engram soak` checks both). Conventional metric names: `objective` (the quantity the learning improves or
/// the experiment's loss, as its doc says) and `reward` (the last reward signal), where meaningful.
pub trait Observe {
    /// Visits each population as `(name, size, spikes of the last step)`; neuron indices local to
    /// the population.
    fn spikes(&self, visit: &mut dyn FnMut(&'static str, usize, &[u16]));

    /// Visits each metric as `(name, value)` (the current value; the host samples it at each
    /// reporting interval).
    fn metrics(&self, visit: &mut dyn FnMut(&'static str, f32));

    /// Visits each plastic projection as `(name, (w_min, w_max), weights)`, bounds and weights in
    /// weight units (the projection's scale applied).
    fn weights(&self, visit: &mut WeightVisitor<'_>);

    /// The last finished episode, for experiments with episodes (the host logs a row whenever its
    /// `index` changes). `None`: no episodes, or none finished yet.
    fn last_episode(&self) -> Option<Episode> {
        None
    }
}

/// Learned state of an `i16` dense plastic projection as bytes (a board's checkpoint): the weights,
/// little-endian, in storage order, into `out`. Returns the bytes written, 0 if `out` is shorter than
/// `2 · weights`.
pub fn save_dense_i16(
    p: &Plastic<'_, i16, engram::projection::Dense<'_, i16>>,
    out: &mut [u8],
) -> usize {
    let w = p.proj.weights();
    let Some(out) = out.get_mut(..2 * w.len()) else {
        return 0;
    };
    for (o, w) in out.chunks_exact_mut(2).zip(w) {
        o.copy_from_slice(&w.to_le_bytes());
    }
    2 * w.len()
}

/// Restores [`save_dense_i16`]'s bytes, each weight clamped to the rule's bounds; `false` (nothing
/// changed) unless `bytes` holds exactly the projection's weights.
pub fn load_dense_i16(
    p: &mut Plastic<'_, i16, engram::projection::Dense<'_, i16>>,
    bytes: &[u8],
) -> bool {
    if bytes.len() != 2 * p.proj.weights().len() {
        return false;
    }
    let (lo, hi) = p.rule().bounds();
    for (w, b) in p.proj.weights_mut().iter_mut().zip(bytes.chunks_exact(2)) {
        *w = i32::from(i16::from_le_bytes([b[0], b[1]])).clamp(lo, hi) as i16;
    }
    true
}

/// Visits a plastic projection's weights for [`Observe::weights`]: `raw` stored weights counting
/// steps of `scale`, bounds from the rule's raw bounds.
pub fn visit_weights<W: Weight>(
    name: &'static str,
    scale: engram::num::Scale,
    bounds: (i32, i32),
    raw: &[W],
    visit: &mut WeightVisitor<'_>,
) {
    let mut it = raw.iter().map(|w| scale.to_f32(w.get()));
    visit(
        name,
        (scale.to_f32(bounds.0), scale.to_f32(bounds.1)),
        &mut it,
    );
}
