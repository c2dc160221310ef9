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
        #[arg(long)]
        duration: Option<f64>,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::List => {
            for e in Experiment::ALL {
                println!("{:<16} {}", e.name(), e.describe());
            }
            ExitCode::SUCCESS
        }
        Command::Run {
            experiment,
            seed,
            duration,
        } => {
            let duration = duration.unwrap_or(experiment.default_duration_ms());
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

fn print_summary(r: &experiments::RunResult) {
    let secs = r.wall.as_secs_f64();
    println!();
    println!(
        "{:<12} {:>8} {:>10} {:>8} {:>8}",
        "population", "neurons", "rate (Hz)", "CV(ISI)", "active"
    );
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
    println!(
        "model RAM      {} bytes ({:.1} KiB)",
        r.ram_bytes,
        r.ram_bytes as f64 / 1024.0
    );
}
