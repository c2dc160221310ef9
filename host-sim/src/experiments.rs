//! The experiments the `engram` command can run, and how each is run on the host.

use crate::analysis::Raster;
use engram_lab::homeostasis::Mechanism;
use engram_lab::{
    Simulation, bcm, brette2007, distal_reward, eprop, homeostasis, izhikevich2003, oja_pca, pes,
    song2000,
};
use std::time::{Duration, Instant};

/// A named experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
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
}

impl Experiment {
    /// Every experiment, in listing order.
    pub const ALL: [Experiment; 11] = [
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
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Experiment::Izhikevich2003 => "izhikevich2003",
            Experiment::BretteCuba => "brette-cuba",
            Experiment::BretteCoba => "brette-coba",
            Experiment::DistalReward => "distal-reward",
            Experiment::HomeostasisScaling => "homeostasis-scaling",
            Experiment::HomeostasisIntrinsic => "homeostasis-intrinsic",
            Experiment::Pes => "pes",
            Experiment::Eprop => "eprop",
            Experiment::OjaPca => "oja-pca",
            Experiment::Bcm => "bcm",
            Experiment::Song2000 => "song2000",
        }
    }

    /// Network size of the default run (what `--neurons` replaces).
    pub fn default_neurons(self) -> usize {
        match self {
            Experiment::Izhikevich2003 | Experiment::DistalReward => 1000,
            Experiment::BretteCuba | Experiment::BretteCoba => 4000,
            Experiment::HomeostasisScaling | Experiment::HomeostasisIntrinsic => 50,
            Experiment::Pes => 100,
            Experiment::Eprop => 50,
            Experiment::OjaPca | Experiment::Bcm | Experiment::Song2000 => 1,
        }
    }

    /// One line for `engram list`.
    pub fn describe(self) -> &'static str {
        match self {
            Experiment::Izhikevich2003 => {
                "Izhikevich (2003): 800 exc + 200 inh Izhikevich neurons, all-to-all, thalamic noise; irregular spiking with alpha/gamma rhythms"
            }
            Experiment::BretteCuba => {
                "Brette et al. (2007) CUBA: 4000 current-based LIF, 2 % sparse connectivity, dt 0.1 ms; self-sustained irregular activity"
            }
            Experiment::BretteCoba => {
                "Brette et al. (2007) COBA: 4000 conductance-based LIF, 2 % sparse connectivity, dt 0.1 ms; self-sustained irregular activity"
            }
            Experiment::DistalReward => {
                "Izhikevich (2007): dopamine-modulated STDP in 1000 Izhikevich neurons; short reward delays (bit-exactness check configuration)"
            }
            Experiment::HomeostasisScaling => {
                "Turrigiano et al. (1998): synaptic scaling brings 50 LIF neurons from ~40 Hz to a 10 Hz target"
            }
            Experiment::HomeostasisIntrinsic => {
                "Desai et al. (1999): intrinsic threshold adaptation brings 50 LIF neurons from ~40 Hz to a 10 Hz target"
            }
            Experiment::Pes => {
                "MacNeil & Eliasmith (2011): PES learns decoders of x² in 100 spiking LIF neurons, dt 0.1 ms"
            }
            Experiment::Eprop => {
                "Bellec et al. (2020): e-prop trains 50 recurrent LIF neurons to draw a sum of sinusoids"
            }
            Experiment::OjaPca => {
                "Oja (1982): a linear neuron with Oja's rule converges to the first principal component of 10-d Gaussian input"
            }
            Experiment::Bcm => {
                "Bienenstock, Cooper & Munro (1982): a rate neuron with the BCM rule becomes selective to one of 10 patterns"
            }
            Experiment::Song2000 => {
                "Song, Miller & Abbott (2000): additive STDP from 1000 Poisson inputs onto one conductance LIF neuron, dt 0.1 ms"
            }
        }
    }

    /// The four parts (architecture, rule, objective, environment), printed at the start of a run.
    pub fn parts(self) -> [(&'static str, &'static str); 4] {
        match self {
            Experiment::Izhikevich2003 => [
                (
                    "architecture",
                    "1 population of 1000 Izhikevich neurons (800 exc, 200 inh), dense all-to-all i16 weights",
                ),
                ("learning rule", "none (static weights)"),
                ("objective", "none (the published dynamics are the result)"),
                (
                    "environment",
                    "thalamic noise 5·N(0,1) exc / 2·N(0,1) inh per ms",
                ),
            ],
            Experiment::BretteCuba | Experiment::BretteCoba => [
                (
                    "architecture",
                    "2 LIF populations (3200 exc, 800 inh), 4 sparse CSR projections, p = 0.02, i8 weights",
                ),
                ("learning rule", "none (static weights)"),
                ("objective", "none (the published dynamics are the result)"),
                (
                    "environment",
                    "none (self-sustained from the initial state)",
                ),
            ],
            Experiment::DistalReward => [
                (
                    "architecture",
                    "1000 Izhikevich neurons (800 RS, 200 FS), 100 random targets each, i16 weights",
                ),
                (
                    "learning rule",
                    "dopamine-modulated all-to-all pair STDP, eligibility τ 1 s, weight update every 10 ms",
                ),
                (
                    "objective",
                    "reward (rewarded n1 → n2 coincidences), carried by dopamine (τ 200 ms)",
                ),
                (
                    "environment",
                    "thalamic noise; reward 100–400 ms after n2 fires within 500 ms of n1",
                ),
            ],
            Experiment::HomeostasisScaling | Experiment::HomeostasisIntrinsic => [
                (
                    "architecture",
                    "50 current-based LIF neurons, 100 of 500 Poisson inputs each, sparse i16 weights",
                ),
                (
                    "learning rule",
                    if self == Experiment::HomeostasisScaling {
                        "synaptic scaling dw = η(r* − r)w every 100 ms, stochastic rounding"
                    } else {
                        "intrinsic threshold adaptation dϑ = η(r − r*)"
                    },
                ),
                ("objective", "rate target: mean (r − r*)², r* = 10 Hz"),
                ("environment", "500 Poisson trains at 10 Hz"),
            ],
            Experiment::Pes => [
                (
                    "architecture",
                    "100 LIF neurons encoding x (NEF), dense decoders (i16) into a linear readout",
                ),
                (
                    "learning rule",
                    "PES: Δd = −κ·a·e every step, stochastic rounding",
                ),
                ("objective", "mean squared error (ŷ − x²)²"),
                ("environment", "x(t): sum of two sinusoids (0.5 and 1.3 Hz)"),
            ],
            Experiment::Eprop => [
                (
                    "architecture",
                    "20 Poisson inputs → 50 recurrent LIF (dense in, sparse recurrent, i16) → leaky readout",
                ),
                (
                    "learning rule",
                    "e-prop (eligibility × learning signal) on input and recurrent weights; delta rule on the readout",
                ),
                (
                    "objective",
                    "mean squared error of the readout against the target",
                ),
                (
                    "environment",
                    "frozen Poisson input, target: four sinusoids per 500 ms trial",
                ),
            ],
            Experiment::OjaPca => [
                (
                    "architecture",
                    "10 inputs → 1 linear rate neuron, i16 weights",
                ),
                (
                    "learning rule",
                    "Oja: dw = η(x·y − y²·w), stochastic rounding",
                ),
                ("objective", "variance E[y²] (ascended on the unit sphere)"),
                ("environment", "10-d Gaussian input with a known covariance"),
            ],
            Experiment::Bcm => [
                (
                    "architecture",
                    "100 inputs → 1 rectified linear rate neuron",
                ),
                (
                    "learning rule",
                    "BCM: dw = η·x·y·(y − θ), θ = ⟨y²⟩ (τ 1 s), stochastic rounding",
                ),
                ("objective", "selectivity; variance E[y²] logged"),
                (
                    "environment",
                    "10 orthogonal patterns of 10 inputs, presented at random",
                ),
            ],
            Experiment::Song2000 => [
                (
                    "architecture",
                    "1000 excitatory (plastic, i16) + 200 inhibitory Poisson inputs → 1 conductance LIF neuron",
                ),
                (
                    "learning rule",
                    "additive pair STDP, τ± = 20 ms, A₋/A₊ = 1.05, bounds [0, g_max], stochastic rounding",
                ),
                (
                    "objective",
                    "none explicit: competition gives bimodal weights and a stable output rate",
                ),
                (
                    "environment",
                    "Poisson trains: excitatory at 20 Hz, inhibitory at 10 Hz",
                ),
            ],
        }
    }

    /// The time step (ms).
    pub fn dt_ms(self) -> f64 {
        match self {
            Experiment::Izhikevich2003 => dt_of(izhikevich2003::DT_MS),
            Experiment::BretteCuba | Experiment::BretteCoba => dt_of(brette2007::DT_MS),
            Experiment::DistalReward => dt_of(distal_reward::DT_MS),
            Experiment::HomeostasisScaling | Experiment::HomeostasisIntrinsic => {
                dt_of(homeostasis::DT_MS)
            }
            Experiment::Pes => dt_of(pes::DT_MS),
            Experiment::Eprop => dt_of(eprop::DT_MS),
            Experiment::OjaPca => dt_of(oja_pca::DT_MS),
            Experiment::Bcm => dt_of(bcm::DT_MS),
            Experiment::Song2000 => dt_of(song2000::Config::check(0).dt_ms),
        }
    }

    /// Default simulated duration (ms).
    pub fn default_duration_ms(self) -> f64 {
        match self {
            Experiment::Izhikevich2003 => 1000.0,
            Experiment::BretteCuba | Experiment::BretteCoba => 1000.0,
            Experiment::DistalReward => 5000.0,
            Experiment::HomeostasisScaling | Experiment::HomeostasisIntrinsic => 10_000.0,
            Experiment::Pes | Experiment::Eprop => 2000.0,
            Experiment::OjaPca | Experiment::Bcm => 20_000.0,
            Experiment::Song2000 => 2000.0,
        }
    }
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

/// Runs `exp` for `duration_ms` of biological time with `seed`.
pub fn run(exp: Experiment, seed: u64, duration_ms: f64) -> Result<RunResult, engram::ConfigError> {
    match exp {
        Experiment::Izhikevich2003 => {
            let cfg = izhikevich2003::Config {
                seed,
                ..Default::default()
            };
            run_izhikevich2003(&cfg, duration_ms)
        }
        Experiment::BretteCuba | Experiment::BretteCoba => {
            let cfg = brette2007::Config {
                seed,
                ..brette2007::Config::published(brette_variant(exp))
            };
            run_brette2007(&cfg, duration_ms)
        }
        _ => run_learning(exp, seed, duration_ms),
    }
}

/// Runs a learning experiment in its check configuration at the size of
/// [`Experiment::default_neurons`] and records the spikes of its (main) population.
fn run_learning(
    exp: Experiment,
    seed: u64,
    duration_ms: f64,
) -> Result<RunResult, engram::ConfigError> {
    let dt = exp.dt_ms();
    let steps = steps_for(duration_ms, dt);
    let n = exp.default_neurons();
    let mut raster = Raster::new(n, dt);
    let (start, synapses) = match exp {
        Experiment::DistalReward => {
            let cfg = distal_reward::Config::check(n, seed);
            let mut b = distal_reward::Buffers::new(&cfg);
            let mut net = distal_reward::Network::new(&cfg, b.storage())?;
            let start = Instant::now();
            for _ in 0..steps {
                net.step();
                raster.record(net.spikes(), 0);
            }
            (start, cfg.nnz_exc() + cfg.nnz_inh())
        }
        Experiment::HomeostasisScaling | Experiment::HomeostasisIntrinsic => {
            let cfg = homeostasis::Config::check(homeostasis_mechanism(exp), n, seed);
            let mut b = homeostasis::Buffers::new(&cfg);
            let mut net = homeostasis::Network::new(&cfg, b.storage())?;
            let start = Instant::now();
            for _ in 0..steps {
                net.step();
                raster.record(net.pop.spikes.as_slice(), 0);
            }
            (start, cfg.in_degree * cfg.n_neurons)
        }
        Experiment::Pes => {
            let cfg = pes::Config::check(n, seed);
            let mut b = pes::Buffers::new(&cfg);
            let mut net = pes::Network::new(&cfg, b.storage())?;
            let start = Instant::now();
            for _ in 0..steps {
                net.step();
                raster.record(net.pop.spikes.as_slice(), 0);
            }
            (start, cfg.n)
        }
        Experiment::Eprop => {
            let cfg = eprop::Config::check(n, seed);
            let mut b = eprop::Buffers::new(&cfg);
            let mut net = eprop::Network::new(&cfg, b.storage())?;
            let start = Instant::now();
            for _ in 0..steps {
                net.step();
                raster.record(net.spikes(), 0);
            }
            (
                start,
                cfg.n_in * cfg.n_rec + cfg.n_rec_synapses() + cfg.n_rec,
            )
        }
        Experiment::Song2000 => {
            let cfg = song2000::Config::check(seed);
            let mut b = song2000::Buffers::<i16>::new(&cfg);
            let mut net = song2000::Network::new(&cfg, b.storage())?;
            let start = Instant::now();
            for _ in 0..steps {
                net.step();
                raster.record(net.neuron.spikes.as_slice(), 0);
            }
            (start, cfg.n_exc + cfg.n_inh)
        }
        Experiment::OjaPca | Experiment::Bcm => {
            // Rate neurons: nothing to record as a raster.
            let start = Instant::now();
            hash_run(exp, seed, steps, None, &mut |_| {})?;
            return Ok(RunResult {
                rasters: vec![],
                steps,
                dt_ms: dt,
                wall: start.elapsed(),
                ram_bytes: None,
                synapses: if exp == Experiment::OjaPca {
                    oja_pca::DIM
                } else {
                    bcm::Config::default().n_inputs()
                },
            });
        }
        Experiment::Izhikevich2003 | Experiment::BretteCuba | Experiment::BretteCoba => {
            unreachable!("static networks have their own runners")
        }
    };
    Ok(RunResult {
        rasters: vec![("neurons", raster)],
        steps,
        dt_ms: dt,
        wall: start.elapsed(),
        ram_bytes: None,
        synapses,
    })
}

fn homeostasis_mechanism(exp: Experiment) -> Mechanism {
    if exp == Experiment::HomeostasisIntrinsic {
        Mechanism::Intrinsic
    } else {
        Mechanism::Scaling
    }
}

/// The outcome of a hash run: what the firmware reports for the same experiment, steps and seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashReport {
    /// Steps simulated.
    pub steps: u64,
    /// Spikes emitted over the run, all populations.
    pub spikes: u64,
    /// [`Simulation::state_hash`] after the last step.
    pub hash: u64,
    /// [`engram_lab::History`] of every step's spikes.
    pub history: u64,
    /// The named part hashes that make up `hash`.
    pub parts: Vec<(&'static str, u64)>,
}

/// Runs `exp` for `steps` steps from `seed` and hashes its complete state (bit-exactness check against
/// a board). `neurons` scales the network to that many neurons (80 % excitatory where there are two
/// kinds), as the small-RAM firmware builds do; `None` is [`Experiment::default_neurons`] (the
/// published size of the static networks). The spiking learning experiments run their
/// `Config::check`; `oja-pca` and `bcm` their published configuration (one neuron; `neurons` is
/// ignored, as for `song2000`, whose network has one size). `on_step` sees the network after every step
/// (for `--hash-trace`).
pub fn hash_run(
    exp: Experiment,
    seed: u64,
    steps: u64,
    neurons: Option<usize>,
    on_step: &mut dyn FnMut(&dyn Simulation),
) -> Result<HashReport, engram::ConfigError> {
    let n = neurons.unwrap_or(exp.default_neurons());
    match exp {
        Experiment::Izhikevich2003 => {
            let cfg = match neurons {
                Some(n) => izhikevich2003::Config::with_neurons(n, seed),
                None => izhikevich2003::Config {
                    seed,
                    ..Default::default()
                },
            };
            let mut buf = izhikevich2003::Buffers::new(&cfg);
            let mut net = izhikevich2003::Network::new(&cfg, buf.storage())?;
            Ok(drive(&mut net, steps, on_step))
        }
        Experiment::BretteCuba | Experiment::BretteCoba => {
            let mut cfg = brette2007::Config {
                seed,
                ..brette2007::Config::published(brette_variant(exp))
            };
            if let Some(n) = neurons {
                cfg.n_exc = n * 4 / 5;
                cfg.n_inh = n - cfg.n_exc;
            }
            let mut buf = brette2007::Buffers::new(&cfg);
            let mut net = brette2007::Network::new(&cfg, buf.storage())?;
            Ok(drive(&mut net, steps, on_step))
        }
        Experiment::DistalReward => {
            let cfg = distal_reward::Config::check(n, seed);
            let mut buf = distal_reward::Buffers::new(&cfg);
            let mut net = distal_reward::Network::new(&cfg, buf.storage())?;
            Ok(drive(&mut net, steps, on_step))
        }
        Experiment::HomeostasisScaling | Experiment::HomeostasisIntrinsic => {
            let cfg = homeostasis::Config::check(homeostasis_mechanism(exp), n, seed);
            let mut buf = homeostasis::Buffers::new(&cfg);
            let mut net = homeostasis::Network::new(&cfg, buf.storage())?;
            Ok(drive(&mut net, steps, on_step))
        }
        Experiment::Pes => {
            let cfg = pes::Config::check(n, seed);
            let mut buf = pes::Buffers::new(&cfg);
            let mut net = pes::Network::new(&cfg, buf.storage())?;
            Ok(drive(&mut net, steps, on_step))
        }
        Experiment::Eprop => {
            let cfg = eprop::Config::check(n, seed);
            let mut buf = eprop::Buffers::new(&cfg);
            let mut net = eprop::Network::new(&cfg, buf.storage())?;
            Ok(drive(&mut net, steps, on_step))
        }
        Experiment::OjaPca => {
            let cfg = oja_pca::Config {
                seed,
                ..Default::default()
            };
            let mut buf = oja_pca::Buffers::new();
            let mut net = oja_pca::Network::new(&cfg, buf.storage())?;
            Ok(drive(&mut net, steps, on_step))
        }
        Experiment::Bcm => {
            let cfg = bcm::Config {
                seed,
                ..Default::default()
            };
            let mut buf = bcm::Buffers::new(&cfg);
            let mut net = bcm::Network::new(&cfg, buf.storage())?;
            Ok(drive(&mut net, steps, on_step))
        }
        Experiment::Song2000 => {
            let cfg = song2000::Config::check(seed);
            let mut buf = song2000::Buffers::<i16>::new(&cfg);
            let mut net = song2000::Network::new(&cfg, buf.storage())?;
            Ok(drive(&mut net, steps, on_step))
        }
    }
}

fn brette_variant(exp: Experiment) -> brette2007::Variant {
    if exp == Experiment::BretteCoba {
        brette2007::Variant::Coba
    } else {
        brette2007::Variant::Cuba
    }
}

/// Steps any [`Simulation`] and reports its hash (the same loop as the firmware's).
fn drive(
    sim: &mut dyn Simulation,
    steps: u64,
    on_step: &mut dyn FnMut(&dyn Simulation),
) -> HashReport {
    let mut spikes = 0u64;
    let mut history = engram_lab::History::new();
    for _ in 0..steps {
        sim.step();
        spikes += sim.spike_count() as u64;
        history.record(sim);
        on_step(sim);
    }
    let mut parts = vec![];
    sim.hash_parts(&mut |n, h| parts.push((n, h)));
    HashReport {
        steps: sim.steps(),
        spikes,
        hash: sim.state_hash(),
        history: history.finish(),
        parts,
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
