//! The experiments the `engram` command can run, and how each is run on the host.

use crate::analysis::Raster;
use engram_lab::{Simulation, brette2007, izhikevich2003};
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
}

impl Experiment {
    /// Every experiment, in listing order.
    pub const ALL: [Experiment; 3] = [
        Experiment::Izhikevich2003,
        Experiment::BretteCuba,
        Experiment::BretteCoba,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Experiment::Izhikevich2003 => "izhikevich2003",
            Experiment::BretteCuba => "brette-cuba",
            Experiment::BretteCoba => "brette-coba",
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
        }
    }

    /// The time step (ms).
    pub fn dt_ms(self) -> f64 {
        match self {
            Experiment::Izhikevich2003 => dt_of(izhikevich2003::DT_MS),
            Experiment::BretteCuba | Experiment::BretteCoba => dt_of(brette2007::DT_MS),
        }
    }

    /// Default simulated duration (ms).
    pub fn default_duration_ms(self) -> f64 {
        match self {
            Experiment::Izhikevich2003 => 1000.0,
            Experiment::BretteCuba | Experiment::BretteCoba => 1000.0,
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
    /// Bytes of model state.
    pub ram_bytes: usize,
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
/// a board). `neurons` scales the network to that many neurons (80 % excitatory), as the small-RAM
/// firmware builds do; `None` is the published size. `on_step` sees the network after every step
/// (for `--hash-trace`).
pub fn hash_run(
    exp: Experiment,
    seed: u64,
    steps: u64,
    neurons: Option<usize>,
    on_step: &mut dyn FnMut(&dyn Simulation),
) -> Result<HashReport, engram::ConfigError> {
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
        ram_bytes: cfg.ram_bytes(),
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
        ram_bytes: cfg.ram_bytes(),
        synapses: net.synapses(),
    })
}
