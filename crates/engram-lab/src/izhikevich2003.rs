//! Izhikevich (2003), "Simple model of spiking neurons", IEEE TNN 14(6): the 1000-neuron network.
//!
//! | part | here |
//! | --- | --- |
//! | architecture | one population of Izhikevich neurons, `n_exc` excitatory then `n_inh` inhibitory; all-to-all dense synapses (autapses included, as in the paper's MATLAB code) |
//! | learning rule | none (static weights) |
//! | objective | none: the published behaviour is the result |
//! | environment | thalamic input: each neuron receives `5·N(0,1)` (excitatory) or `2·N(0,1)` (inhibitory) every 1 ms |
//!
//! Parameters, from the paper's code, with `r ~ U(0,1)` per neuron: excitatory `a = 0.02, b = 0.2,
//! c = -65 + 15r², d = 8 - 6r²`; inhibitory `a = 0.02 + 0.08r, b = 0.25 - 0.05r, c = -65, d = 2`;
//! weights `0.5·U(0,1)` from excitatory and `-U(0,1)` from inhibitory neurons. Initial `v = -65`,
//! `u = b·v`. One step is 1 ms: the input current is the thalamic noise plus the weights of the
//! neurons that fired in the previous step. The published behaviour: irregular spiking at a few Hz
//! with rhythmic (alpha/gamma band) population activity.
//!
//! Weights are stored as `i16` steps of 2^-15 (|w| ≤ 1): one dense projection from the whole population
//! into the excitatory channel (the Izhikevich model sums both channels into its current).

use crate::Simulation;
use engram::hash::StateHash;
use engram::neuron::{IzhNeuron, Izhikevich, IzhikevichParams, Population};
use engram::num::{Fix, Rng, Scale, fix_from_f32, mul};
use engram::projection::{Dense, SpikeProjection};
use engram::{ConfigError, error::check_len};

/// Time step of the published model (ms).
pub const DT_MS: f32 = 1.0;

/// Network size and seed.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct Config {
    /// Excitatory neurons (paper: 800).
    pub n_exc: usize,
    /// Inhibitory neurons (paper: 200).
    pub n_inh: usize,
    /// Seed for parameters, weights and thalamic noise.
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            n_exc: 800,
            n_inh: 200,
            seed: 1,
        }
    }
}

impl Config {
    /// The published network scaled to `n` neurons (80 % excitatory, rounded down; at least one
    /// excitatory neuron when `n ≥ 1`), e.g. to fit a small chip.
    pub fn with_neurons(n: usize, seed: u64) -> Config {
        let n_exc = (n * 4 / 5).max(n.min(1));
        Config {
            n_exc,
            n_inh: n - n_exc,
            seed,
        }
    }

    /// Total neurons.
    pub fn n(&self) -> usize {
        self.n_exc + self.n_inh
    }

    /// Bytes of model state this configuration needs (neurons, inputs, spikes, weights, accumulators).
    pub fn ram_bytes(&self) -> usize {
        let n = self.n();
        n * (core::mem::size_of::<IzhNeuron>() + 2 * 4 + 2 + 4) + n * n * 2
    }
}

/// Caller-provided storage, each slice sized from [`Config`] (`n` = total neurons).
#[derive(Debug)]
pub struct Storage<'a> {
    /// `n` neuron states.
    pub neurons: &'a mut [IzhNeuron],
    /// `n` excitatory-channel inputs.
    pub exc: &'a mut [Fix],
    /// `n` inhibitory-channel inputs.
    pub inh: &'a mut [Fix],
    /// `n` spike slots.
    pub spikes: &'a mut [u16],
    /// `n × n` weights, row = presynaptic neuron.
    pub weights: &'a mut [i16],
    /// `n` accumulators.
    pub acc: &'a mut [i32],
}

/// The running network.
#[derive(Debug)]
pub struct Network<'a> {
    /// All neurons; indices `< n_exc` are excitatory.
    pub pop: Population<'a, Izhikevich>,
    /// All-to-all synapses.
    pub syn: Dense<'a, i16>,
    rng: Rng,
    n_exc: usize,
    noise_exc: Fix,
    noise_inh: Fix,
    /// Steps taken.
    pub t: u64,
}

impl<'a> Network<'a> {
    /// Builds the network on `st`, drawing parameters and weights from `cfg.seed`.
    pub fn new(cfg: &Config, st: Storage<'a>) -> Result<Network<'a>, ConfigError> {
        let n = cfg.n();
        check_len("neurons", n, st.neurons.len())?;
        check_len("weights", n * n, st.weights.len())?;
        let mut rng = Rng::new(cfg.seed);
        for (j, s) in st.neurons.iter_mut().enumerate() {
            let r = rng.uniform().to_num::<f32>();
            let p = if j < cfg.n_exc {
                IzhikevichParams {
                    a: 0.02,
                    b: 0.2,
                    c: -65.0 + 15.0 * r * r,
                    d: 8.0 - 6.0 * r * r,
                }
            } else {
                IzhikevichParams {
                    a: 0.02 + 0.08 * r,
                    b: 0.25 - 0.05 * r,
                    c: -65.0,
                    d: 2.0,
                }
            };
            *s = p.neuron()?;
        }
        // Row i holds the outgoing weights of neuron i: 0.5·U(0,1) or -U(0,1), in steps of 2^-15.
        for (i, row) in st.weights.chunks_exact_mut(n).enumerate() {
            for w in row {
                let u = (rng.next_u32() >> 17) as i16; // U(0,1) in steps of 2^-15
                *w = if i < cfg.n_exc { u >> 1 } else { -u };
            }
        }
        let scale = Scale::new(1.0 / 32768.0)?;
        let syn = Dense::new(n, n, st.weights, st.acc, scale)?;
        let pop = Population::new(
            Izhikevich::new(DT_MS)?,
            st.neurons,
            st.exc,
            st.inh,
            st.spikes,
        )?;
        Ok(Network {
            pop,
            syn,
            rng,
            n_exc: cfg.n_exc,
            noise_exc: fix_from_f32("thalamic noise", 5.0)?,
            noise_inh: fix_from_f32("thalamic noise", 2.0)?,
            t: 0,
        })
    }

    /// One 1-ms step: thalamic noise plus the previous step's spikes, then the neuron update.
    pub fn step(&mut self) {
        for (j, e) in self.pop.exc.iter_mut().enumerate() {
            let sd = if j < self.n_exc {
                self.noise_exc
            } else {
                self.noise_inh
            };
            *e = e.saturating_add(mul(sd, self.rng.normal()));
        }
        self.syn.propagate(self.pop.spikes.as_slice(), self.pop.exc);
        self.pop.step();
        self.t += 1;
    }

    /// Neurons that fired in the last step (indices `< n_exc` are excitatory).
    pub fn spikes(&self) -> &[u16] {
        self.pop.spikes.as_slice()
    }

    /// Number of excitatory neurons.
    pub fn n_exc(&self) -> usize {
        self.n_exc
    }

    /// The hash of the complete state (see [`Simulation::state_hash`]).
    pub fn state_hash(&self) -> u64 {
        Simulation::state_hash(self)
    }
}

impl Simulation for Network<'_> {
    fn step(&mut self) {
        Network::step(self);
    }

    fn steps(&self) -> u64 {
        self.t
    }

    fn spike_count(&self) -> usize {
        self.pop.spikes.len()
    }

    fn spikes_hash(&self) -> u64 {
        self.pop.spikes.as_slice().state_hash()
    }

    /// Parts: `neurons` (v, u, a, b, c, d), `exc`, `inh` (pending input), `spikes` (last step),
    /// `weights`, `accumulators`, `rng` (thalamic noise generator), `t`.
    fn hash_parts(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        visit("neurons", (*self.pop.state).state_hash());
        visit("exc", (*self.pop.exc).state_hash());
        visit("inh", (*self.pop.inh).state_hash());
        visit("spikes", self.pop.spikes.as_slice().state_hash());
        visit("weights", self.syn.weights().state_hash());
        visit("accumulators", self.syn.accumulators().state_hash());
        visit("rng", self.rng.state_hash());
        visit("t", self.t.state_hash());
    }
}

/// Reports: one population `neurons` (indices `< n_exc` excitatory); no metrics, no plastic weights.
impl crate::Observe for Network<'_> {
    fn spikes(&self, visit: &mut dyn FnMut(&'static str, usize, &[u16])) {
        visit("neurons", self.pop.len(), self.pop.spikes.as_slice());
    }

    fn metrics(&self, _visit: &mut dyn FnMut(&'static str, f32)) {}

    fn weights(&self, _visit: &mut crate::WeightVisitor<'_>) {}
}

/// Heap-owned storage for the host.
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct Buffers {
    neurons: Vec<IzhNeuron>,
    exc: Vec<Fix>,
    inh: Vec<Fix>,
    spikes: Vec<u16>,
    weights: Vec<i16>,
    acc: Vec<i32>,
}

#[cfg(feature = "std")]
impl Buffers {
    /// Buffers sized for `cfg`.
    pub fn new(cfg: &Config) -> Buffers {
        let n = cfg.n();
        Buffers {
            neurons: vec![IzhNeuron::default(); n],
            exc: vec![Fix::ZERO; n],
            inh: vec![Fix::ZERO; n],
            spikes: vec![0; n],
            weights: vec![0; n * n],
            acc: vec![0; n],
        }
    }

    /// The storage view for [`Network::new`].
    pub fn storage(&mut self) -> Storage<'_> {
        Storage {
            neurons: &mut self.neurons,
            exc: &mut self.exc,
            inh: &mut self.inh,
            spikes: &mut self.spikes,
            weights: &mut self.weights,
            acc: &mut self.acc,
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use engram::hash::combine;

    fn run(cfg: &Config, steps: u64) -> (u64, Vec<(&'static str, u64)>) {
        let mut buf = Buffers::new(cfg);
        let mut net = Network::new(cfg, buf.storage()).unwrap();
        for _ in 0..steps {
            net.step();
        }
        let mut parts = vec![];
        net.hash_parts(&mut |n, h| parts.push((n, h)));
        (net.state_hash(), parts)
    }

    #[test]
    fn state_hash_is_reproducible_and_sensitive() {
        let cfg = Config::with_neurons(64, 3);
        assert_eq!((cfg.n_exc, cfg.n_inh), (51, 13));
        let (h, parts) = run(&cfg, 50);
        assert_eq!(h, run(&cfg, 50).0, "same seed, same steps: same hash");
        assert_eq!(h, combine(&parts));
        assert_ne!(h, run(&cfg, 51).0, "one more step changes the hash");
        let other = Config { seed: 4, ..cfg };
        let (h2, parts2) = run(&other, 50);
        assert_ne!(h, h2);
        // Every dynamic part differs between seeds (weights and rng are drawn from the seed too).
        for ((n, a), (_, b)) in parts.iter().zip(&parts2) {
            if ["neurons", "weights", "rng"].contains(n) {
                assert_ne!(a, b, "part {n}");
            }
        }
    }
}
