//! `engram` — run engram's experiments on the host.

use clap::{Parser, Subcommand};
use engram_sim::experiments::{self, Experiment};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "engram",
    version,
    about = "Brain-inspired learning on microcontrollers: the host simulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the experiments.
    List,
    /// Run an experiment and print a summary.
    Run {
        /// Which experiment.
        experiment: Experiment,
        /// Seed for everything random in the model.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Biological time to simulate, in ms (default: the experiment's own).
        #[arg(long, conflicts_with = "steps")]
        duration: Option<f64>,
        /// Number of time steps to simulate (instead of --duration).
        #[arg(long)]
        steps: Option<u64>,
        /// Print the hash of the complete state after the run (machine-readable `hash 0x…` line,
        /// preceded by `steps`, `spikes`, one `part <name> 0x…` line per part and `history 0x…`, the
        /// chained hash of every step's spikes), instead of the summary: the values the
        /// emulated-Cortex-M firmware must reproduce.
        #[arg(long)]
        hash: bool,
        /// Like --hash, and print `trace <step> 0x<hash> <part>=0x<hash>…` after every step, to find
        /// where two runs diverge.
        #[arg(long)]
        hash_trace: bool,
        /// Scale the network to this many neurons (80 % excitatory), as the small-RAM firmware builds
        /// do (default: the published size). Used with --hash.
        #[arg(long)]
        neurons: Option<usize>,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::List => {
            for e in Experiment::ALL {
                println!("{:<22} {}", e.name(), e.describe());
            }
            ExitCode::SUCCESS
        }
        Command::Run {
            experiment,
            seed,
            duration,
            steps,
            hash,
            hash_trace,
            neurons,
        } => {
            if hash || hash_trace {
                let steps = steps.unwrap_or_else(|| {
                    let ms = duration.unwrap_or(experiment.default_duration_ms());
                    (ms / experiment.dt_ms()).round() as u64
                });
                return run_hash(experiment, seed, steps, neurons, hash_trace);
            }
            if neurons.is_some() {
                eprintln!("error: --neurons is only supported with --hash / --hash-trace");
                return ExitCode::from(2);
            }
            let duration = match steps {
                Some(n) => n as f64 * experiment.dt_ms(),
                None => duration.unwrap_or(experiment.default_duration_ms()),
            };
            println!(
                "engram run {} (seed {seed}, {duration} ms)",
                experiment.name()
            );
            for (part, what) in experiment.parts() {
                println!("  {part:<14} {what}");
            }
            match experiments::run(experiment, seed, duration) {
                Ok(r) => {
                    print_summary(&r);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// `--hash` / `--hash-trace`: run and print the state hash (and per-step hashes).
fn run_hash(
    exp: Experiment,
    seed: u64,
    steps: u64,
    neurons: Option<usize>,
    trace: bool,
) -> ExitCode {
    let mut on_step = |sim: &dyn engram_lab::Simulation| {
        if trace {
            let mut line = format!("trace {} {:#018x}", sim.steps(), sim.state_hash());
            sim.hash_parts(&mut |n, h| line.push_str(&format!(" {n}={h:#018x}")));
            println!("{line}");
        }
    };
    match experiments::hash_run(exp, seed, steps, neurons, &mut on_step) {
        Ok(r) => {
            println!("experiment {}", exp.name());
            println!("seed {seed}");
            println!("steps {}", r.steps);
            println!("spikes {}", r.spikes);
            for (n, h) in &r.parts {
                println!("part {n} {h:#018x}");
            }
            println!("history {:#018x}", r.history);
            println!("hash {:#018x}", r.hash);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn print_summary(r: &experiments::RunResult) {
    let secs = r.wall.as_secs_f64();
    println!();
    if !r.rasters.is_empty() {
        println!(
            "{:<12} {:>8} {:>10} {:>8} {:>8}",
            "population", "neurons", "rate (Hz)", "CV(ISI)", "active"
        );
    }
    for (name, raster) in &r.rasters {
        let cv = raster
            .mean_cv(0, r.steps)
            .map_or("-".to_string(), |c| format!("{c:.2}"));
        println!(
            "{:<12} {:>8} {:>10.2} {:>8} {:>7.0}%",
            name,
            raster.n,
            raster.rate_hz(0, r.steps),
            cv,
            100.0 * raster.active_fraction(0, r.steps)
        );
    }
    println!();
    println!(
        "steps          {} of {} ms ({} ms simulated)",
        r.steps,
        r.dt_ms,
        r.steps as f64 * r.dt_ms
    );
    println!("synapses       {}", r.synapses);
    println!("wall time      {:.3} s (step loop, single thread)", secs);
    println!("steps/s        {:.0}", r.steps as f64 / secs.max(1e-9));
    println!(
        "real-time x    {:.2}",
        r.steps as f64 * r.dt_ms / 1000.0 / secs.max(1e-9)
    );
    if let Some(ram) = r.ram_bytes {
        println!(
            "model RAM      {} bytes ({:.1} KiB)",
            ram,
            ram as f64 / 1024.0
        );
    }
}
