//! Brette et al. (2007), "Simulation of networks of spiking neurons: a review of tools and strategies",
//! J Comput Neurosci 23:349 — benchmarks 1 (COBA) and 2 (CUBA), after Vogels & Abbott (2005).
//!
//! | part | here |
//! | --- | --- |
//! | architecture | 4000 LIF neurons, 80 % excitatory / 20 % inhibitory, random sparse connectivity with probability 2 % (four CSR projections E→E, E→I, I→E, I→I) |
//! | learning rule | none (static weights) |
//! | objective | none: self-sustained, irregular, asynchronous activity is the published result |
//! | environment | none: the network runs on its own after its initial state |
//!
//! Parameters as in the Brian2 reference scripts of the benchmark (dt = 0.1 ms, τm = 20 ms,
//! Vt = −50 mV, Vr = −60 mV, refractory 5 ms, τe = 5 ms, τi = 10 ms):
//! - **CUBA**: `dv/dt = (ge + gi − (v − El))/τm` with El = −49 mV, `ge += 1.62 mV` per excitatory spike,
//!   `gi += −9 mV` per inhibitory spike; `v(0) ~ U(Vr, Vt)`, ge = gi = 0.
//! - **COBA**: `dv/dt = (El − v + ge(Ee − v) + gi(Ei − v))/τm` with El = −60, Ee = 0, Ei = −80 mV,
//!   conductances in units of g_L = 10 nS: `ge += 0.6`, `gi += 6.7`; `v(0) ~ U(Vr, Vt)`,
//!   `ge(0) = 4 + 1.5·N(0,1)`, `gi(0) = 20 + 12·N(0,1)` (the initial stimulation; clamped at 0).
//!
//! Weights are constant; each projection stores `i8` raw weights of 64 steps, so its scale is w/64.
//!
//! Cost per step (the benchmark against Brian2 and NEST, `cargo xtask peers`): the populations are
//! [`LifPopulation`]s (one array per state variable, a vectorised LIF kernel) and the projections
//! deliver event by event ([`Sparse`]'s `propagate` touches only the targets of the neurons that
//! spiked), so a step is one vectorised pass over the 4000 neurons plus the synaptic events.

use crate::Simulation;
use engram::hash::StateHash;
use engram::neuron::{Lif, LifParams, LifPopulation, LifStorage};
#[cfg(feature = "std")]
use engram::num::Fix;
use engram::num::{Frac, Rng, Scale, fix_from_f32, fix_to_f32, mul};
use engram::projection::{Csr, Sparse, SpikeProjection, fixed_probability};
use engram::{ConfigError, error::check_len};

/// Time step (ms).
pub const DT_MS: f32 = 0.1;
/// Raw value of every stored weight.
const RAW_W: i8 = 64;

/// Which benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Variant {
    /// Benchmark 2: current-based synapses.
    Cuba,
    /// Benchmark 1: conductance-based synapses.
    Coba,
}

/// Network size, connectivity and seed.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct Config {
    /// CUBA or COBA.
    pub variant: Variant,
    /// Excitatory neurons (3200).
    pub n_exc: usize,
    /// Inhibitory neurons (800).
    pub n_inh: usize,
    /// Connection probability (0.02).
    pub p_connect: f32,
    /// Seed for connectivity and initial state.
    pub seed: u64,
}

impl Default for Config {
    /// The published CUBA configuration (benchmark 2), seed 1: what `engram run brette-cuba` runs.
    fn default() -> Self {
        Config::published(Variant::Cuba)
    }
}

impl Config {
    /// The published configuration of a variant.
    pub fn published(variant: Variant) -> Config {
        Config {
            variant,
            n_exc: 3200,
            n_inh: 800,
            p_connect: 0.02,
            seed: 1,
        }
    }

    /// Capacity (synapses) to reserve for a projection of `n_pre × n_post` at this connection
    /// probability: mean + 8 standard deviations, so that running out is practically impossible
    /// (and reported as an error, not a crash, if it happens).
    /// A probability outside `[0, 1]` (refused by [`Network::new`]) sizes as its nearest valid one,
    /// so a bad configuration gets its error instead of an allocation the size of the mistake; so
    /// does NaN (as 0). Never more than `n_pre · n_post`.
    pub fn capacity(&self, n_pre: usize, n_post: usize) -> usize {
        let all = n_pre.saturating_mul(n_post);
        let p = if self.p_connect.is_nan() {
            0.0
        } else {
            self.p_connect.clamp(0.0, 1.0) as f64
        };
        let mean = all as f64 * p;
        let sd = (mean * (1.0 - p)).max(0.0);
        ((mean + 8.0 * sqrt(sd) + 16.0) as usize).min(all)
    }

    fn neuron(&self) -> LifParams {
        match self.variant {
            Variant::Cuba => LifParams::cuba(),
            Variant::Coba => LifParams::coba(),
        }
    }

    /// Bytes of model state (neurons, inputs, spikes, CSR arrays at capacity, accumulators).
    pub fn ram_bytes(&self) -> usize {
        let n = self.n_exc + self.n_inh;
        // v, g_exc, g_inh, refractory, two deposits, a spike slot
        let neurons = n * (4 + 4 + 4 + 2 + 4 + 4 + 2);
        let (e, i) = (self.n_exc, self.n_inh);
        let syn: usize = [(e, e), (e, i), (i, e), (i, i)]
            .iter()
            .map(|&(a, b)| a * 4 + self.capacity(a, b) * 3 + b * 4)
            .sum();
        neurons + syn
    }
}

/// Square root for the capacity bound (configuration time only): Newton's iteration, because `core`
/// has no `f64::sqrt` without `std`.
fn sqrt(x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let mut r = if x > 1.0 { x / 2.0 } else { 1.0 };
    for _ in 0..64 {
        r = 0.5 * (r + x / r);
    }
    r
}

/// Storage of one population: `n` of each, one array per state variable (see [`LifPopulation`]).
pub type PopStorage<'a> = LifStorage<'a>;

/// Storage of one sparse projection.
#[derive(Debug)]
pub struct SynStorage<'a> {
    /// `n_pre` row ends.
    pub row_end: &'a mut [u32],
    /// Column indices, at least [`Config::capacity`] long.
    pub cols: &'a mut [u16],
    /// Weights, as long as `cols`.
    pub weights: &'a mut [i8],
    /// `n_post` accumulators.
    pub acc: &'a mut [i32],
}

/// All storage: populations E and I, projections EE, EI, IE, II.
#[derive(Debug)]
pub struct Storage<'a> {
    /// Excitatory population.
    pub e: PopStorage<'a>,
    /// Inhibitory population.
    pub i: PopStorage<'a>,
    /// E → E.
    pub ee: SynStorage<'a>,
    /// E → I.
    pub ei: SynStorage<'a>,
    /// I → E.
    pub ie: SynStorage<'a>,
    /// I → I.
    pub ii: SynStorage<'a>,
}

/// The running network.
#[derive(Debug)]
pub struct Network<'a> {
    /// Excitatory population.
    pub e: LifPopulation<'a>,
    /// Inhibitory population.
    pub i: LifPopulation<'a>,
    /// E → E.
    pub ee: Sparse<'a, i8>,
    /// E → I.
    pub ei: Sparse<'a, i8>,
    /// I → E.
    pub ie: Sparse<'a, i8>,
    /// I → I.
    pub ii: Sparse<'a, i8>,
    /// Steps taken.
    pub t: u64,
}

fn connect<'a>(
    n_pre: usize,
    n_post: usize,
    p: Frac,
    w: f32,
    rng: &mut Rng,
    st: SynStorage<'a>,
) -> Result<Sparse<'a, i8>, ConfigError> {
    check_len("sparse accumulators", n_post, st.acc.len())?;
    let nnz = fixed_probability(n_pre, n_post, p, true, rng, st.row_end, st.cols)?;
    let cols: &'a [u16] = st.cols;
    let cols = cols.get(..nnz).unwrap_or_default();
    let (weights, _) = st.weights.split_at_mut(nnz.min(st.weights.len()));
    weights.fill(RAW_W);
    let scale = Scale::new(w.abs() / RAW_W as f32)?;
    let sign = if w < 0.0 { -1 } else { 1 };
    for x in weights.iter_mut() {
        *x *= sign;
    }
    let csr = Csr::new(n_post, st.row_end, cols)?;
    Sparse::new(csr, weights, st.acc, scale)
}

impl<'a> Network<'a> {
    /// Builds the network on `st`; connectivity and initial state are drawn from `cfg.seed`.
    pub fn new(cfg: &Config, st: Storage<'a>) -> Result<Network<'a>, ConfigError> {
        let p = Frac::from_f32("connection probability", cfg.p_connect)?;
        let lif = Lif::new(cfg.neuron(), DT_MS)?;
        let (we, wi) = match cfg.variant {
            Variant::Cuba => (60.0 * 0.27 / 10.0, -(20.0 * 4.5 / 10.0)),
            Variant::Coba => (6.0 / 10.0, 67.0 / 10.0),
        };
        let mut rng = Rng::new(cfg.seed);
        let (ne, ni) = (cfg.n_exc, cfg.n_inh);
        let ee = connect(ne, ne, p, we, &mut rng, st.ee)?;
        let ei = connect(ne, ni, p, we, &mut rng, st.ei)?;
        let ie = connect(ni, ne, p, wi, &mut rng, st.ie)?;
        let ii = connect(ni, ni, p, wi, &mut rng, st.ii)?;
        let mut e = LifPopulation::new(lif, st.e)?;
        let mut i = LifPopulation::new(lif, st.i)?;
        let p = cfg.neuron();
        let (vr, vt) = (
            fix_from_f32("v_reset", p.v_reset)?,
            fix_from_f32("v_thresh", p.v_thresh)?,
        );
        let slots = (0..e.len())
            .map(|j| (0, j))
            .chain((0..i.len()).map(|j| (1, j)));
        for (pop, j) in slots {
            let mut st = lif.rest_state();
            st.v = vr + mul(rng.uniform(), vt - vr);
            if cfg.variant == Variant::Coba {
                let ge = 4.0 + 1.5 * fix_to_f32(rng.normal());
                let gi = 20.0 + 12.0 * fix_to_f32(rng.normal());
                st.g_exc = fix_from_f32("initial ge", ge.max(0.0))?;
                st.g_inh = fix_from_f32("initial gi", gi.max(0.0))?;
            }
            if pop == 0 { e.set(j, st) } else { i.set(j, st) }
        }
        Ok(Network {
            e,
            i,
            ee,
            ei,
            ie,
            ii,
            t: 0,
        })
    }

    /// One step of 0.1 ms: deliver the previous step's spikes, then update both populations.
    pub fn step(&mut self) {
        self.ee.propagate(self.e.spikes.as_slice(), self.e.exc);
        self.ei.propagate(self.e.spikes.as_slice(), self.i.exc);
        self.ie.propagate(self.i.spikes.as_slice(), self.e.inh);
        self.ii.propagate(self.i.spikes.as_slice(), self.i.inh);
        self.e.step();
        self.i.step();
        self.t += 1;
    }

    /// Synapses in the network.
    pub fn synapses(&self) -> usize {
        self.ee.nnz() + self.ei.nnz() + self.ie.nnz() + self.ii.nnz()
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
        self.e.spikes.len() + self.i.spikes.len()
    }

    fn spikes_hash(&self) -> u64 {
        let mut h = engram::hash::Fnv64::new();
        self.e.spikes.as_slice().hash_into(&mut h);
        self.i.spikes.as_slice().hash_into(&mut h);
        h.finish()
    }

    /// Parts: per population (`e.*`, `i.*`) the neuron states (v, g_exc, g_inh, refractory), the
    /// pending inputs and the last step's spikes; per projection (`ee`, `ei`, `ie`, `ii`) the topology,
    /// weights and accumulators; `t`. (No RNG is used after construction.)
    fn hash_parts(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        let pops = [
            (&self.e, ["e.neurons", "e.exc", "e.inh", "e.spikes"]),
            (&self.i, ["i.neurons", "i.exc", "i.inh", "i.spikes"]),
        ];
        for (p, [neurons, exc, inh, spikes]) in pops {
            // the bytes of the `[LifState]` slice the neurons were stored in before (same hashes)
            let mut h = engram::hash::Fnv64::new();
            h.write_len(p.len());
            p.states().for_each(|s| s.hash_into(&mut h));
            visit(neurons, h.finish());
            visit(exc, (*p.exc).state_hash());
            visit(inh, (*p.inh).state_hash());
            visit(spikes, p.spikes.as_slice().state_hash());
        }
        visit("ee", self.ee.state_hash());
        visit("ei", self.ei.state_hash());
        visit("ie", self.ie.state_hash());
        visit("ii", self.ii.state_hash());
        visit("t", self.t.state_hash());
    }
}

/// Reports: populations `excitatory` and `inhibitory`; no metrics, no plastic weights.
impl crate::Observe for Network<'_> {
    fn spikes(&self, visit: &mut dyn FnMut(&'static str, usize, &[u16])) {
        visit("excitatory", self.e.len(), self.e.spikes.as_slice());
        visit("inhibitory", self.i.len(), self.i.spikes.as_slice());
    }

    fn metrics(&self, _visit: &mut dyn FnMut(&'static str, f32)) {}

    fn weights(&self, _visit: &mut crate::WeightVisitor<'_>) {}
}

/// Heap-owned storage for the host.
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct Buffers {
    pops: [PopBuf; 2],
    syns: [SynBuf; 4],
}

#[cfg(feature = "std")]
type PopBuf = (
    Vec<Fix>,
    Vec<Fix>,
    Vec<Fix>,
    Vec<u16>,
    Vec<Fix>,
    Vec<Fix>,
    Vec<u16>,
);
#[cfg(feature = "std")]
type SynBuf = (Vec<u32>, Vec<u16>, Vec<i8>, Vec<i32>);

#[cfg(feature = "std")]
impl Buffers {
    /// Buffers sized for `cfg`.
    pub fn new(cfg: &Config) -> Buffers {
        let pop = |n: usize| {
            (
                vec![Fix::ZERO; n],
                vec![Fix::ZERO; n],
                vec![Fix::ZERO; n],
                vec![0; n],
                vec![Fix::ZERO; n],
                vec![Fix::ZERO; n],
                vec![0; n],
            )
        };
        let syn = |a: usize, b: usize| {
            let cap = cfg.capacity(a, b);
            (vec![0; a], vec![0; cap], vec![0; cap], vec![0; b])
        };
        let (e, i) = (cfg.n_exc, cfg.n_inh);
        Buffers {
            pops: [pop(e), pop(i)],
            syns: [syn(e, e), syn(e, i), syn(i, e), syn(i, i)],
        }
    }

    /// The storage view for [`Network::new`].
    pub fn storage(&mut self) -> Storage<'_> {
        let [pe, pi] = &mut self.pops;
        let [ee, ei, ie, ii] = &mut self.syns;
        fn pop(p: &mut PopBuf) -> PopStorage<'_> {
            PopStorage {
                v: &mut p.0,
                g_exc: &mut p.1,
                g_inh: &mut p.2,
                refractory: &mut p.3,
                exc: &mut p.4,
                inh: &mut p.5,
                spikes: &mut p.6,
            }
        }
        fn syn(s: &mut SynBuf) -> SynStorage<'_> {
            SynStorage {
                row_end: &mut s.0,
                cols: &mut s.1,
                weights: &mut s.2,
                acc: &mut s.3,
            }
        }
        Storage {
            e: pop(pe),
            i: pop(pi),
            ee: syn(ee),
            ei: syn(ei),
            ie: syn(ie),
            ii: syn(ii),
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn state_hash_is_reproducible_and_sensitive() {
        let cfg = Config {
            n_exc: 160,
            n_inh: 40,
            ..Config::published(Variant::Cuba)
        };
        let run = |cfg: &Config, steps: u64| {
            let mut buf = Buffers::new(cfg);
            let mut net = Network::new(cfg, buf.storage()).unwrap();
            for _ in 0..steps {
                net.step();
            }
            net.state_hash()
        };
        let h = run(&cfg, 30);
        assert_eq!(h, run(&cfg, 30));
        assert_ne!(h, run(&cfg, 31));
        assert_ne!(h, run(&Config { seed: 2, ..cfg }, 30));
        let coba = Config {
            variant: Variant::Coba,
            ..cfg
        };
        assert_ne!(h, run(&coba, 30));
    }
}
