//! The experiments the `engram` command can run: their names, descriptions and four parts, their
//! default configurations, and how each is built on the host (storage from `Vec`s).
//!
//! Adding an experiment: a variant of [`Experiment`] (and in [`Experiment::ALL`]), its [`About`]
//! arm (name, description, four parts, default length), its line in [`Experiment::default_config`]
//! (usually `to_table(&x::Config::default())`) and one arm in [`Experiment::build`] that builds the
//! network from its typed `Config`. Everything else (recording, plots, sweeps, merge) is generic over
//! [`Model`] = `Simulation + Observe`.

use crate::analysis::Raster;
use crate::config::{Error, to_table, typed};
use engram_lab::homeostasis::Mechanism;
use engram_lab::{
    Observe, Simulation, bandit, bcm, brette2007, cartpole, distal_reward, eprop, homeostasis,
    izhikevich2003, oja_motion, oja_pca, pattern_in_noise, pes, phototaxis, song2000, stdp_scaled,
    tilt, triplet,
};
use std::time::{Duration, Instant};

/// What the host drives: any experiment's network.
pub trait Model: Simulation + Observe {}
impl<T: Simulation + Observe + ?Sized> Model for T {}

/// What the host knows about a built model besides what [`Observe`] reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Info {
    /// The complete configuration the model was built from, as the typed `Config` serialises it
    /// (every field, canonical types: what `summary.json` records).
    pub config: toml::Table,
    /// Time step (ms).
    pub dt_ms: f64,
    /// Synapses in the model, where stated.
    pub synapses: Option<usize>,
    /// Bytes of model state, where the experiment states it.
    pub ram_bytes: Option<usize>,
}

/// The callback [`Experiment::build`] hands the built model to.
pub type Drive<'f> = dyn FnMut(&mut dyn Model, &Info) -> Result<(), Error> + 'f;

/// A named experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Experiment {
    /// Izhikevich (2003): 1000 spiking neurons with thalamic noise.
    Izhikevich2003,
    /// Brette et al. (2007) benchmark 2: 4000 current-based LIF neurons.
    BretteCuba,
    /// Brette et al. (2007) benchmark 1: 4000 conductance-based LIF neurons.
    BretteCoba,
    /// Izhikevich (2007) distal reward: dopamine-modulated STDP (the bit-exactness check's
    /// configuration, `distal_reward::Config::check`).
    DistalReward,
    /// Homeostasis by synaptic scaling (`homeostasis::Config::check`).
    HomeostasisScaling,
    /// Homeostasis by intrinsic threshold adaptation (`homeostasis::Config::check`).
    HomeostasisIntrinsic,
    /// PES learning decoders of x² (`pes::Config::check`).
    Pes,
    /// e-prop pattern generation (`eprop::Config::check`).
    Eprop,
    /// Oja (1982): one linear neuron finds the first principal component.
    OjaPca,
    /// BCM: one rate neuron becomes selective to one of 10 patterns.
    Bcm,
    /// Song, Miller & Abbott (2000): STDP on 1000 Poisson inputs onto one LIF neuron
    /// (`song2000::Config::check`).
    Song2000,
    /// Pfister & Gerstner (2006) on Sjöström et al. (2001): triplet STDP's pairing-frequency curve.
    TripletFrequency,
    /// Benchmark model 3 (against Brian2 and NEST): pair STDP on 1000 × 100 synapses.
    StdpScaled,
    /// Masquelier et al. (2008): STDP finds a spike pattern hidden in Poisson noise.
    PatternInNoise,
    /// A k-armed bandit learned with reward-modulated STDP (closed loop).
    Bandit,
    /// A Braitenberg vehicle learns from reward alone to approach a light (closed loop).
    Phototaxis,
    /// Barto et al. (1983) cart-pole, balanced by a spiking actor-critic (closed loop).
    Cartpole,
    /// micro:bit v2 demo: tilt conditioning from reward and punishment (scripted user).
    Tilt,
    /// micro:bit v2 demo: Oja's rule finds the axis of movement in an accelerometer stream.
    OjaMotion,
}

impl Experiment {
    /// Every experiment, in listing order.
    pub const ALL: [Experiment; 19] = [
        Experiment::Izhikevich2003,
        Experiment::BretteCuba,
        Experiment::BretteCoba,
        Experiment::DistalReward,
        Experiment::HomeostasisScaling,
        Experiment::HomeostasisIntrinsic,
        Experiment::Pes,
        Experiment::Eprop,
        Experiment::OjaPca,
        Experiment::Bcm,
        Experiment::Song2000,
        Experiment::TripletFrequency,
        Experiment::StdpScaled,
        Experiment::PatternInNoise,
        Experiment::Bandit,
        Experiment::Phototaxis,
        Experiment::Cartpole,
        Experiment::Tilt,
        Experiment::OjaMotion,
    ];

    /// The experiment called `name` on the command line.
    pub fn from_name(name: &str) -> Result<Experiment, Error> {
        Experiment::ALL
            .into_iter()
            .find(|e| e.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = Experiment::ALL.iter().map(|e| e.name()).collect();
                Error::Usage(format!(
                    "unknown experiment `{name}` (known: {})",
                    names.join(", ")
                ))
            })
    }

    /// The default configuration as a TOML table: what `engram run <name>` runs. `neurons` scales
    /// the network as the small-RAM firmware builds do (80 % excitatory where there are two kinds;
    /// ignored by the one-neuron experiments).
    pub fn default_config(self, neurons: Option<usize>) -> toml::Table {
        let n = neurons.unwrap_or(self.default_neurons());
        match self {
            Experiment::Izhikevich2003 => {
                to_table(&neurons.map_or_else(izhikevich2003::Config::default, |n| {
                    izhikevich2003::Config::with_neurons(n, 1)
                }))
            }
            Experiment::BretteCuba | Experiment::BretteCoba => {
                let mut cfg = brette2007::Config::published(brette_variant(self));
                if let Some(n) = neurons {
                    cfg.n_exc = n * 4 / 5;
                    cfg.n_inh = n - cfg.n_exc;
                }
                to_table(&cfg)
            }
            Experiment::DistalReward => to_table(&distal_reward::Config::check(n, 1)),
            Experiment::HomeostasisScaling => {
                to_table(&homeostasis::Config::check(Mechanism::Scaling, n, 1))
            }
            Experiment::HomeostasisIntrinsic => {
                to_table(&homeostasis::Config::check(Mechanism::Intrinsic, n, 1))
            }
            Experiment::Pes => to_table(&pes::Config::check(n, 1)),
            Experiment::Eprop => to_table(&eprop::Config::check(n, 1)),
            Experiment::OjaPca => to_table(&oja_pca::Config::default()),
            Experiment::Bcm => to_table(&bcm::Config::default()),
            Experiment::Song2000 => to_table(&song2000::Config::default()),
            Experiment::TripletFrequency => to_table(&triplet::Config::default()),
            Experiment::StdpScaled => to_table(&stdp_scaled::Config::default()),
            Experiment::PatternInNoise => to_table(&pattern_in_noise::Config::default()),
            Experiment::Bandit => to_table(&bandit::Config::default()),
            Experiment::Tilt => to_table(&tilt::Config::default()),
            Experiment::OjaMotion => to_table(&oja_motion::Config::default()),
            // A run first measures the time to the light with plasticity off, then learns.
            Experiment::Phototaxis => to_table(&phototaxis::Config {
                baseline_episodes: 5,
                ..phototaxis::Config::default()
            }),
            Experiment::Cartpole => to_table(&cartpole::Config::default()),
        }
    }

    /// Builds the experiment from the (merged) configuration `cfg` and hands it to `f`. Fails before
    /// `f` runs if `cfg` does not deserialise into the experiment's `Config` (unknown key, wrong
    /// type) or the experiment refuses it (value out of range).
    pub fn build(self, cfg: &toml::Table, f: &mut Drive<'_>) -> Result<(), Error> {
        match self {
            Experiment::Izhikevich2003 => {
                let cfg: izhikevich2003::Config = typed(cfg)?;
                let mut b = izhikevich2003::Buffers::new(&cfg);
                let mut net = izhikevich2003::Network::new(&cfg, b.storage())?;
                let n = cfg.n();
                f(
                    &mut net,
                    &info(&cfg, izhikevich2003::DT_MS, n * n, Some(cfg.ram_bytes())),
                )
            }
            Experiment::BretteCuba | Experiment::BretteCoba => {
                let cfg: brette2007::Config = typed(cfg)?;
                let mut b = brette2007::Buffers::new(&cfg);
                let mut net = brette2007::Network::new(&cfg, b.storage())?;
                let syn = net.synapses();
                f(
                    &mut net,
                    &info(&cfg, brette2007::DT_MS, syn, Some(cfg.ram_bytes())),
                )
            }
            Experiment::DistalReward => {
                let cfg: distal_reward::Config = typed(cfg)?;
                let mut b = distal_reward::Buffers::new(&cfg);
                let mut net = distal_reward::Network::new(&cfg, b.storage())?;
                let syn = cfg.nnz_exc() + cfg.nnz_inh();
                f(&mut net, &info(&cfg, distal_reward::DT_MS, syn, None))
            }
            Experiment::HomeostasisScaling | Experiment::HomeostasisIntrinsic => {
                let cfg: homeostasis::Config = typed(cfg)?;
                let mut b = homeostasis::Buffers::new(&cfg);
                let mut net = homeostasis::Network::new(&cfg, b.storage())?;
                let syn = cfg.in_degree * cfg.n_neurons;
                f(&mut net, &info(&cfg, homeostasis::DT_MS, syn, None))
            }
            Experiment::Pes => {
                let cfg: pes::Config = typed(cfg)?;
                let mut b = pes::Buffers::new(&cfg);
                let mut net = pes::Network::new(&cfg, b.storage())?;
                f(
                    &mut net,
                    &info(&cfg, pes::DT_MS, cfg.n, Some(cfg.ram_bytes())),
                )
            }
            Experiment::Eprop => {
                let cfg: eprop::Config = typed(cfg)?;
                let mut b = eprop::Buffers::new(&cfg);
                let mut net = eprop::Network::new(&cfg, b.storage())?;
                let syn = cfg.n_in * cfg.n_rec + cfg.n_rec_synapses() + cfg.n_rec;
                f(&mut net, &info(&cfg, eprop::DT_MS, syn, None))
            }
            Experiment::OjaPca => {
                let cfg: oja_pca::Config = typed(cfg)?;
                let mut b = oja_pca::Buffers::new();
                let mut net = oja_pca::Network::new(&cfg, b.storage())?;
                f(&mut net, &info(&cfg, oja_pca::DT_MS, oja_pca::DIM, None))
            }
            Experiment::Bcm => {
                let cfg: bcm::Config = typed(cfg)?;
                let mut b = bcm::Buffers::new(&cfg);
                let mut net = bcm::Network::new(&cfg, b.storage())?;
                f(&mut net, &info(&cfg, bcm::DT_MS, cfg.n_inputs(), None))
            }
            Experiment::Song2000 => {
                let cfg: song2000::Config = typed(cfg)?;
                let syn = cfg.n_exc + cfg.n_inh;
                // Up to 8 bits fit `i8` storage (half the RAM); the arithmetic is the same.
                if cfg.weights.bits <= 8 {
                    let mut b = song2000::Buffers::<i8>::new(&cfg);
                    let mut net = song2000::Network::new(&cfg, b.storage())?;
                    f(&mut net, &info(&cfg, cfg.dt_ms, syn, None))
                } else {
                    let mut b = song2000::Buffers::<i16>::new(&cfg);
                    let mut net = song2000::Network::new(&cfg, b.storage())?;
                    f(&mut net, &info(&cfg, cfg.dt_ms, syn, None))
                }
            }
            Experiment::TripletFrequency => {
                let cfg: triplet::Config = typed(cfg)?;
                let mut b = triplet::Buffers::new();
                let mut net = triplet::Network::new(&cfg, &mut b)?;
                f(
                    &mut net,
                    &info(&cfg, triplet::DT_MS, triplet::PROTOCOLS, None),
                )
            }
            Experiment::StdpScaled => {
                let cfg: stdp_scaled::Config = typed(cfg)?;
                let mut b = stdp_scaled::Buffers::<i16>::new(&cfg);
                let mut net = stdp_scaled::Network::new(&cfg, b.storage())?;
                let syn = cfg.n_in * cfg.n_out;
                f(&mut net, &info(&cfg, cfg.dt_ms, syn, None))
            }
            Experiment::PatternInNoise => {
                let cfg: pattern_in_noise::Config = typed(cfg)?;
                let mut b = pattern_in_noise::Buffers::new(&cfg);
                let mut net = pattern_in_noise::Network::new(&cfg, b.storage())?;
                let syn = plastic_synapses(&net);
                f(&mut net, &info(&cfg, cfg.dt_ms, syn, None))
            }
            Experiment::Tilt => {
                let cfg: tilt::Config = typed(cfg)?;
                let mut b = tilt::Buffers::new();
                let mut net = tilt::Network::new(&cfg, b.storage())?;
                f(&mut net, &info(&cfg, tilt::DT_MS, tilt::SYNAPSES, None))
            }
            Experiment::OjaMotion => {
                let cfg: oja_motion::Config = typed(cfg)?;
                let mut b = oja_motion::Buffers::new();
                let mut net = oja_motion::Network::new(&cfg, b.storage())?;
                f(
                    &mut net,
                    &info(&cfg, oja_motion::DT_MS, oja_motion::DIM, None),
                )
            }
            Experiment::Bandit => {
                let cfg: bandit::Config = typed(cfg)?;
                let mut b = bandit::Buffers::new(&cfg);
                let mut net = bandit::Network::new(&cfg, b.storage())?;
                let syn = plastic_synapses(&net);
                f(&mut net, &info(&cfg, bandit::DT_MS, syn, None))
            }
            Experiment::Phototaxis => {
                let cfg: phototaxis::Config = typed(cfg)?;
                let mut b = phototaxis::Buffers::new(&cfg);
                let mut net = phototaxis::Network::new(&cfg, b.storage())?;
                let syn = plastic_synapses(&net);
                f(&mut net, &info(&cfg, phototaxis::DT_MS, syn, None))
            }
            Experiment::Cartpole => {
                let cfg: cartpole::Config = typed(cfg)?;
                let mut b = cartpole::Buffers::new(&cfg);
                let mut net = cartpole::Network::new(&cfg, b.storage())?;
                let syn = plastic_synapses(&net);
                f(&mut net, &info(&cfg, cfg.dt_ms, syn, None))
            }
        }
    }

    /// The experiment's name, description, four parts, default length and size.
    pub fn about(self) -> About {
        match self {
            Experiment::Izhikevich2003 => About {
                name: "izhikevich2003",
                describe: "Izhikevich (2003): 800 exc + 200 inh Izhikevich neurons, all-to-all, thalamic noise; irregular spiking with alpha/gamma rhythms",
                architecture: "1 population of 1000 Izhikevich neurons (800 exc, 200 inh), dense all-to-all i16 weights",
                rule: "none (static weights)",
                objective: "none (the published dynamics are the result)",
                environment: "thalamic noise 5·N(0,1) exc / 2·N(0,1) inh per ms",
                duration_ms: 1000.0,
                neurons: 1000,
            },
            Experiment::BretteCuba => About {
                name: "brette-cuba",
                describe: "Brette et al. (2007) CUBA: 4000 current-based LIF, 2 % sparse connectivity, dt 0.1 ms; self-sustained irregular activity",
                architecture: "2 LIF populations (3200 exc, 800 inh), 4 sparse CSR projections, p = 0.02, i8 weights",
                rule: "none (static weights)",
                objective: "none (the published dynamics are the result)",
                environment: "none (self-sustained from the initial state)",
                duration_ms: 1000.0,
                neurons: 4000,
            },
            Experiment::BretteCoba => About {
                name: "brette-coba",
                describe: "Brette et al. (2007) COBA: 4000 conductance-based LIF, 2 % sparse connectivity, dt 0.1 ms; self-sustained irregular activity",
                architecture: "2 LIF populations (3200 exc, 800 inh), 4 sparse CSR projections, p = 0.02, i8 weights",
                rule: "none (static weights)",
                objective: "none (the published dynamics are the result)",
                environment: "none (self-sustained from the initial state)",
                duration_ms: 1000.0,
                neurons: 4000,
            },
            Experiment::DistalReward => About {
                name: "distal-reward",
                describe: "Izhikevich (2007): dopamine-modulated STDP in 1000 Izhikevich neurons; short reward delays (bit-exactness check configuration)",
                architecture: "1000 Izhikevich neurons (800 RS, 200 FS), 100 random targets each, i16 weights",
                rule: "dopamine-modulated all-to-all pair STDP, eligibility τ 1 s, weight update every 10 ms",
                objective: "reward (rewarded n1 → n2 coincidences), carried by dopamine (τ 200 ms)",
                environment: "thalamic noise; reward 100–400 ms after n2 fires within 500 ms of n1",
                duration_ms: 5000.0,
                neurons: 1000,
            },
            Experiment::HomeostasisScaling => About {
                name: "homeostasis-scaling",
                describe: "Turrigiano et al. (1998): synaptic scaling brings 50 LIF neurons from ~40 Hz to a 10 Hz target",
                architecture: "50 current-based LIF neurons, 100 of 500 Poisson inputs each, sparse i16 weights",
                rule: "synaptic scaling dw = η(r* − r)w every 100 ms, stochastic rounding",
                objective: "rate target: mean (r − r*)², r* = 10 Hz",
                environment: "500 Poisson trains at 10 Hz",
                duration_ms: 10_000.0,
                neurons: 50,
            },
            Experiment::HomeostasisIntrinsic => About {
                name: "homeostasis-intrinsic",
                describe: "Desai et al. (1999): intrinsic threshold adaptation brings 50 LIF neurons from ~40 Hz to a 10 Hz target",
                architecture: "50 current-based LIF neurons, 100 of 500 Poisson inputs each, sparse i16 weights",
                rule: "intrinsic threshold adaptation dϑ = η(r − r*)",
                objective: "rate target: mean (r − r*)², r* = 10 Hz",
                environment: "500 Poisson trains at 10 Hz",
                duration_ms: 10_000.0,
                neurons: 50,
            },
            Experiment::Pes => About {
                name: "pes",
                describe: "MacNeil & Eliasmith (2011): PES learns decoders of x² in 100 spiking LIF neurons, dt 0.1 ms",
                architecture: "100 LIF neurons encoding x (NEF), dense decoders (i16) into a linear readout",
                rule: "PES: Δd = −κ·a·e every step, stochastic rounding",
                objective: "mean squared error (ŷ − x²)²",
                environment: "x(t): sum of two sinusoids (0.5 and 1.3 Hz)",
                duration_ms: 2000.0,
                neurons: 100,
            },
            Experiment::Eprop => About {
                name: "eprop",
                describe: "Bellec et al. (2020): e-prop trains 50 recurrent LIF neurons to draw a sum of sinusoids",
                architecture: "20 Poisson inputs → 50 recurrent LIF (dense in, sparse recurrent, i16) → leaky readout",
                rule: "e-prop (eligibility × learning signal) on input and recurrent weights; delta rule on the readout",
                objective: "mean squared error of the readout against the target",
                environment: "frozen Poisson input, target: four sinusoids per 500 ms trial",
                duration_ms: 2000.0,
                neurons: 50,
            },
            Experiment::OjaPca => About {
                name: "oja-pca",
                describe: "Oja (1982): a linear neuron with Oja's rule converges to the first principal component of 10-d Gaussian input",
                architecture: "10 inputs → 1 linear rate neuron, i16 weights",
                rule: "Oja: dw = η(x·y − y²·w), stochastic rounding",
                objective: "variance E[y²] (ascended on the unit sphere)",
                environment: "10-d Gaussian input with a known covariance",
                duration_ms: 20_000.0,
                neurons: 1,
            },
            Experiment::Bcm => About {
                name: "bcm",
                describe: "Bienenstock, Cooper & Munro (1982): a rate neuron with the BCM rule becomes selective to one of 10 patterns",
                architecture: "100 inputs → 1 rectified linear rate neuron",
                rule: "BCM: dw = η·x·y·(y − θ), θ = ⟨y²⟩ (τ 1 s), stochastic rounding",
                objective: "selectivity: Intrator & Cooper's R = E[y³]/3 − E[y²]²/4 (logged as `objective`, with θ and E[y²])",
                environment: "10 orthogonal patterns of 10 inputs, presented at random",
                duration_ms: 20_000.0,
                neurons: 1,
            },
            Experiment::Song2000 => About {
                name: "song2000",
                describe: "Song, Miller & Abbott (2000): additive STDP from 1000 Poisson inputs onto one conductance LIF neuron, dt 0.1 ms",
                architecture: "1000 excitatory (plastic, i16) + 200 inhibitory Poisson inputs → 1 conductance LIF neuron",
                rule: "additive pair STDP, τ± = 20 ms, A₋/A₊ = 1.05, bounds [0, g_max], stochastic rounding",
                objective: "none explicit: competition gives bimodal weights and a stable output rate (logged as `objective`: fraction of weights near a bound)",
                environment: "Poisson trains: excitatory at 20 Hz, inhibitory at 10 Hz",
                duration_ms: 2000.0,
                neurons: 1,
            },
            Experiment::TripletFrequency => About {
                name: "triplet-frequency",
                describe: "Pfister & Gerstner (2006) on Sjöström et al. (2001): 60 pre/post pairings at ±10 ms, 0.1–50 Hz; triplet STDP potentiates both orders at high frequency (pair STDP cannot)",
                architecture: "one synapse per protocol (14: 7 frequencies × 2 orders), pre and post spike times imposed, i16 weight from 1 in [0, 2]",
                rule: "triplet STDP, all-to-all (Pfister & Gerstner's visual-cortex fit); `--set model=triplet-nearest` or `model=pair` (the control)",
                objective: "none explicit: the published outcome is Δw per protocol; logged as `objective`: χ² against Sjöström's 10 points (s.e.m. units) over the finished protocols",
                environment: "Sjöström's pairing protocol: 60 pairs, post 10 ms after (or before) pre, at 0.1, 1, 10, 20, 30, 40, 50 Hz, one protocol after the other",
                duration_ms: triplet::Network::total_steps(&triplet::Config::default())
                    .map_or(0.0, |s| s as f64 * triplet::DT_MS as f64),
                neurons: 1,
            },
            Experiment::StdpScaled => About {
                name: "stdp-scaled",
                describe: "benchmark model 3 (cargo xtask peers): 1000 Poisson inputs onto 100 conductance LIF neurons, pair STDP on all 100 000 synapses, dt 0.1 ms",
                architecture: "1000 Poisson inputs → 100 conductance LIF neurons, dense plastic i16 weights",
                rule: "additive all-to-all pair STDP (Song et al. 2000 parameters), bounds [0, g_max]",
                objective: "none explicit (the benchmark measures speed; rates logged)",
                environment: "1000 independent Poisson trains at 10 Hz",
                duration_ms: 1000.0,
                neurons: 100,
            },
            Experiment::PatternInNoise => About {
                name: "pattern-in-noise",
                describe: "Masquelier, Guyonneau & Thorpe (2008): one LIF neuron with STDP finds a 50 ms spike pattern hidden in Poisson noise and fires ever earlier in it",
                architecture: "2000 Poisson afferents → 1 current-based LIF neuron, plastic dense i16 weights in [0, 1]",
                rule: "additive pair STDP, nearest-spike pairing (each spike paired once), a₊ = 2⁻⁵, a₋ = 0.85·a₊, τ₊ 16.8 ms, τ₋ 33.7 ms",
                objective: "none explicit (unsupervised); logged as `objective`: hit rate minus false alarms per 50 ms of noise",
                environment: "afferent rates wandering in 0–90 Hz; a 50 ms pattern of half of them repeated at random times (25 % of the time); 10 Hz spontaneous spikes",
                duration_ms: 150_000.0,
                neurons: 1,
            },
            Experiment::Tilt => About {
                name: "tilt",
                describe: "micro:bit v2 demo (closed loop): a reward-modulated Hebbian rule learns which LED pattern a scripted user wants for each tilt direction (reward = button A, punishment = button B)",
                architecture: "4 tilt-direction cells (from a simulated accelerometer, 1 % missing reads) → 4 linear action units (i16 weights); the shown pattern is argmax(y + exploration noise)",
                rule: "reward-modulated Hebbian: eligibility (τ 100 ms) of direction × shown pattern, Δw = lr·M·e with M = +1 / −1 from the user",
                objective: "fraction of the last 64 feedbacks that were rewards (`objective`)",
                environment: "a scripted user tilts the board 30° in one of 4 directions (or holds it flat) for 2 s at a time and judges each pattern 200 ms after it appears against a seed-drawn target mapping",
                duration_ms: 240_000.0,
                neurons: 4,
            },
            Experiment::OjaMotion => About {
                name: "oja-motion",
                describe: "micro:bit v2 demo: Oja's rule finds the principal axis of movement in a simulated accelerometer stream (gravity removed by a high-pass)",
                architecture: "accelerometer x, y, z − running mean (τ 1 s) → 1 linear rate neuron, i16 weights",
                rule: "Oja: dw = η(x·y − y²·w), η = 2⁻⁹ per ms, stochastic rounding",
                objective: "variance E[y²] (ascended on the unit sphere); `angle_deg` to the movement axis → 0",
                environment: "gravity + movement N(0, 0.35 g²) along a seed-drawn axis + 0.05 g noise, 1 % missing reads, 50 Hz",
                duration_ms: 60_000.0,
                neurons: 1,
            },
            Experiment::Bandit => About {
                name: "bandit",
                describe: "closed loop: a 4-armed Bernoulli bandit; LIF action groups learn to choose the best arm with reward-modulated STDP",
                architecture: "32 Poisson cue cells → 4 action groups of 8 LIF neurons (plastic dense i16) with static lateral inhibition; winner-take-all readout per 50 ms trial",
                rule: "reward-modulated pair STDP: eligibility (τ 1 s) × reward-prediction error, applied after each trial",
                objective: "expected reward: the critic's running mean reward (`objective`); its prediction error is the third factor",
                environment: "4 Bernoulli arms paying 1 with p = 0.2, 0.4, 0.6, 0.8 in a seed-shuffled order; one trial = one choice = one episode",
                duration_ms: 50_000.0,
                neurons: 32,
            },
            Experiment::Phototaxis => About {
                name: "phototaxis",
                describe: "closed loop: a 2-D Braitenberg vehicle with two light sensors and two wheels learns from reward alone to reach a light that jumps away whenever reached",
                architecture: "2 × 16 Poisson sensor cells → 2 × 16 LIF motor neurons (left, right wheel), plastic dense i16 weights, no side preference at the start",
                rule: "three-factor: node-perturbation eligibility (pre trace × post rate deviation) × reward-prediction error, plus synaptic scaling toward 40 Hz",
                objective: "reward = increase of the sensed light per 20 ms control step; the critic's running mean reward is `objective`",
                environment: "1 m walled arena, differential drive, two sensors at ±45°; episode = reach the light (10 cm) or time out after 500 control steps (10 s); the first 5 episodes with plasticity off",
                duration_ms: 150_000.0,
                neurons: 32,
            },
            Experiment::Cartpole => About {
                name: "cartpole",
                describe: "closed loop: Barto et al. (1983) cart-pole balanced by a spiking actor-critic learning online from failures",
                architecture: "4 state variables × 8 Gaussian receptive fields (Poisson) → 2 × 8 stochastic spiking action neurons (left, right); a linear critic on the same inputs",
                rule: "actor: three-factor rule, eligibility x·(y − p) × TD error; critic: linear TD(λ)",
                objective: "expected discounted return (γ 0.95); logged as `objective`: running mean episode length",
                environment: "Barto et al. (1983) cart-pole in fixed point, τ = 20 ms Euler, failure at |θ| > 12° or |x| > 2.4 m (reward −1); an episode is one balance attempt",
                duration_ms: 600_000.0,
                neurons: 16,
            },
        }
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        self.about().name
    }

    /// Network size of the default run (what `--neurons` replaces).
    pub fn default_neurons(self) -> usize {
        self.about().neurons
    }

    /// One line for `engram list`.
    pub fn describe(self) -> &'static str {
        self.about().describe
    }

    /// The four parts (architecture, rule, objective, environment), printed at the start of a run.
    pub fn parts(self) -> [(&'static str, &'static str); 4] {
        let a = self.about();
        [
            ("architecture", a.architecture),
            ("learning rule", a.rule),
            ("objective", a.objective),
            ("environment", a.environment),
        ]
    }

    /// The reporting interval of `metrics.csv` when `--report-every` is not given (`None`: 1/200 of
    /// the run). Phototaxis reports every control step (20 ms), so its trajectory is drawn whole.
    pub fn default_report_ms(self) -> Option<f64> {
        match self {
            Experiment::Phototaxis => Some(20.0),
            _ => None,
        }
    }

    /// Default simulated duration (ms).
    pub fn default_duration_ms(self) -> f64 {
        self.about().duration_ms
    }
}

/// What `engram list` and `engram run` say about an experiment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct About {
    /// The name on the command line.
    pub name: &'static str,
    /// One line for `engram list`.
    pub describe: &'static str,
    /// The architecture (populations, projections, weight storage).
    pub architecture: &'static str,
    /// The learning rule.
    pub rule: &'static str,
    /// The objective.
    pub objective: &'static str,
    /// The environment.
    pub environment: &'static str,
    /// Model time of the default run (ms).
    pub duration_ms: f64,
    /// Network size of the default run (what `--neurons` replaces).
    pub neurons: usize,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// One raster per population, with its name.
    pub rasters: Vec<(&'static str, Raster)>,
    /// Steps simulated.
    pub steps: u64,
    /// Time step (ms).
    pub dt_ms: f64,
    /// Wall time of the step loop alone (construction excluded).
    pub wall: Duration,
    /// Bytes of model state (where the experiment states it).
    pub ram_bytes: Option<usize>,
    /// Synapses in the model.
    pub synapses: usize,
}

fn info(
    cfg: &impl serde::Serialize,
    dt_ms: f32,
    synapses: usize,
    ram_bytes: Option<usize>,
) -> Info {
    Info {
        config: to_table(cfg),
        dt_ms: dt_of(dt_ms),
        synapses: Some(synapses),
        ram_bytes,
    }
}

/// The plastic synapses of a model: the weights its [`Observe::weights`] visits.
fn plastic_synapses(m: &dyn Observe) -> usize {
    let mut n = 0;
    m.weights(&mut |_, _, w| n += w.count());
    n
}

fn brette_variant(exp: Experiment) -> brette2007::Variant {
    if exp == Experiment::BretteCoba {
        brette2007::Variant::Coba
    } else {
        brette2007::Variant::Cuba
    }
}

/// A model's `f32` time step as the decimal the user wrote (0.1, not 0.10000000149).
fn dt_of(dt_ms: f32) -> f64 {
    (dt_ms as f64 * 1e6).round() / 1e6
}

fn steps_for(duration_ms: f64, dt_ms: f64) -> u64 {
    (duration_ms / dt_ms).round().max(0.0) as u64
}

/// Runs the Izhikevich (2003) network.
pub fn run_izhikevich2003(
    cfg: &izhikevich2003::Config,
    duration_ms: f64,
) -> Result<RunResult, engram::ConfigError> {
    let dt = dt_of(izhikevich2003::DT_MS);
    let mut buf = izhikevich2003::Buffers::new(cfg);
    let mut net = izhikevich2003::Network::new(cfg, buf.storage())?;
    let mut exc = Raster::new(cfg.n_exc, dt);
    let mut inh = Raster::new(cfg.n_inh, dt);
    let steps = steps_for(duration_ms, dt);
    let start = Instant::now();
    for _ in 0..steps {
        net.step();
        exc.record(net.spikes(), 0);
        inh.record(net.spikes(), cfg.n_exc as u16);
    }
    let wall = start.elapsed();
    let n = cfg.n();
    Ok(RunResult {
        rasters: vec![("excitatory", exc), ("inhibitory", inh)],
        steps,
        dt_ms: dt,
        wall,
        ram_bytes: Some(cfg.ram_bytes()),
        synapses: n * n,
    })
}

/// Runs a Brette et al. (2007) benchmark network.
pub fn run_brette2007(
    cfg: &brette2007::Config,
    duration_ms: f64,
) -> Result<RunResult, engram::ConfigError> {
    let dt = dt_of(brette2007::DT_MS);
    let mut buf = brette2007::Buffers::new(cfg);
    let mut net = brette2007::Network::new(cfg, buf.storage())?;
    let mut exc = Raster::new(cfg.n_exc, dt);
    let mut inh = Raster::new(cfg.n_inh, dt);
    let steps = steps_for(duration_ms, dt);
    let start = Instant::now();
    for _ in 0..steps {
        net.step();
        exc.record(net.e.spikes.as_slice(), 0);
        inh.record(net.i.spikes.as_slice(), 0);
    }
    let wall = start.elapsed();
    Ok(RunResult {
        rasters: vec![("excitatory", exc), ("inhibitory", inh)],
        steps,
        dt_ms: dt,
        wall,
        ram_bytes: Some(cfg.ram_bytes()),
        synapses: net.synapses(),
    })
}
