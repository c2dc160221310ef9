//! `engram` — run engram's experiments on the host: list, run (with recordings and plots), sweep
//! (parallel, shardable), merge shards, redraw plots.

use clap::{Args, Parser, Subcommand};
use engram_sim::config::{self, Error, Layers, Override};
use engram_sim::experiments::Experiment;
use engram_sim::record::{self, Length, Progress, Spec};
use engram_sim::{pil, plot, soak, sweep};
use std::path::{Path, PathBuf};
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

/// What configures one run (shared by `run` and `sweep`).
#[derive(Args, Clone)]
struct RunArgs {
    /// Which experiment (`engram list`).
    experiment: String,
    /// A TOML file of configuration values, merged over the experiment's defaults.
    #[arg(long, value_name = "FILE.toml")]
    config: Option<PathBuf>,
    /// Set one configuration value (TOML syntax; bare words are strings), e.g.
    /// `--set weights.bits=8 --set weights.rounding=stochastic`. Repeatable; applied in order after
    /// --config.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Seed for everything random in the model (default: the configuration's, 1).
    #[arg(long)]
    seed: Option<u64>,
    /// Biological time to simulate, in ms (default: the experiment's own).
    #[arg(long, conflicts_with = "steps")]
    duration: Option<f64>,
    /// Number of time steps to simulate (instead of --duration).
    #[arg(long)]
    steps: Option<u64>,
    /// Scale the network to this many neurons (80 % excitatory), as the small-RAM firmware builds
    /// do (default: the experiment's size; ignored by the one-neuron experiments).
    #[arg(long)]
    neurons: Option<usize>,
    /// Reporting interval of metrics.csv, in ms of model time (default: 1/200 of the run).
    #[arg(long, value_name = "MS")]
    report_every: Option<f64>,
    /// Record spikes (spikes.csv, the raster) only in the last MS of model time, or `all`.
    #[arg(long, value_name = "MS|all", default_value = "10000", value_parser = spike_window)]
    spike_window: SpikeWindow,
}

/// `--spike-window`: milliseconds at the end of the run, or everything (`None`).
#[derive(Clone, Copy)]
struct SpikeWindow(Option<f64>);

fn spike_window(s: &str) -> Result<SpikeWindow, String> {
    if s == "all" {
        return Ok(SpikeWindow(None));
    }
    match s.parse::<f64>() {
        Ok(ms) if ms >= 0.0 && ms.is_finite() => Ok(SpikeWindow(Some(ms))),
        _ => Err(format!("`{s}` is not a duration in ms (>= 0) or `all`")),
    }
}

#[derive(Subcommand)]
enum Command {
    /// List the experiments.
    List,
    /// Run an experiment, record it and plot it.
    Run {
        #[command(flatten)]
        args: RunArgs,
        /// Output folder (default: runs/EXPERIMENT-YYYYMMDD-HHMMSS, UTC).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print the hash of the complete state after the run (machine-readable `hash 0x…` line,
        /// preceded by `steps`, `spikes`, one `part <name> 0x…` line per part and `history 0x…`, the
        /// chained hash of every step's spikes), instead of recording: the values the
        /// emulated-Cortex-M firmware must reproduce.
        #[arg(long)]
        hash: bool,
        /// Like --hash, and print `trace <step> 0x<hash> <part>=0x<hash>…` after every step, to find
        /// where two runs diverge.
        #[arg(long)]
        hash_trace: bool,
        /// Do not draw plots.
        #[arg(long)]
        no_plots: bool,
    },
    /// Run a grid of configurations in parallel, one subfolder per point and a sweep.csv.
    Sweep {
        #[command(flatten)]
        args: RunArgs,
        /// A grid axis `key=v1,v2,...` (repeatable; points are numbered with the first axis varying
        /// slowest).
        #[arg(long, value_name = "KEY=V1,V2,...", required = true)]
        grid: Vec<String>,
        /// Parallel runs (default: all cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// Run only points with `point % N == I` (0 ≤ I < N), e.g. one SLURM array task; join the
        /// shards with `engram merge`.
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// Output folder (default: runs/EXPERIMENT-sweep-YYYYMMDD-HHMMSS, UTC).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Join the output folders of a sharded sweep into one sweep.
    Merge {
        /// Shard folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Folder of the merged sweep.
        #[arg(long)]
        out: PathBuf,
    },
    /// Run learning experiments for a long time and check their invariants every so often: metrics
    /// finite, weights within their bounds and not all pinned at one, networks still spiking.
    Soak {
        /// Experiments (default: every learning experiment).
        experiments: Vec<String>,
        /// Steps per experiment.
        #[arg(long, default_value_t = 100_000_000)]
        steps: u64,
        /// Inspect the state every N steps.
        #[arg(long, value_name = "N", default_value_t = 100_000)]
        check_every: u64,
        /// Seed of every experiment.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Experiments run in parallel (default: all cores).
        #[arg(long)]
        jobs: Option<usize>,
    },
    /// Processor in the loop: the experiment's world on this host, its agent on a board (the
    /// emulated Cortex-M, a real board, or in-process), over engram-link frames. Bandit for now.
    Pil {
        #[command(flatten)]
        args: RunArgs,
        #[command(flatten)]
        line: PilLine,
        /// Firmware ELF for --qemu (default: build boards/qemu-mps2-an386's `pil`).
        #[arg(long, value_name = "ELF", requires = "qemu")]
        firmware: Option<PathBuf>,
        /// Baud rate for --serial.
        #[arg(long, default_value_t = 115_200)]
        baud: u32,
        /// Inject noise: probability that a byte on the line (either way) gets one bit flipped.
        #[arg(long, default_value_t = 0.0)]
        flip_rate: f64,
        /// Inject noise: probability that a byte on the line (either way) is dropped.
        #[arg(long, default_value_t = 0.0)]
        drop_rate: f64,
        /// Seed of the injected noise.
        #[arg(long, default_value_t = 1)]
        noise_seed: u64,
        /// Resend a message after this long without an answer (ms).
        #[arg(long, default_value_t = 500)]
        timeout_ms: u64,
        /// Resends of one message before the board counts as silent.
        #[arg(long, default_value_t = 10)]
        retries: u32,
        /// After the run, time this many observation → action round trips that the board answers
        /// without stepping (a repeated observation): the link's own rate.
        #[arg(long, default_value_t = 100)]
        pings: u32,
        /// Output folder (default: runs/pil-EXPERIMENT-YYYYMMDD-HHMMSS, UTC).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Draw (again) the plots of a finished run or sweep.
    Plot {
        /// A run or sweep folder.
        dir: PathBuf,
    },
}

/// Where `engram pil` finds the board (exactly one).
#[derive(Args, Clone)]
#[group(required = true, multiple = false)]
struct PilLine {
    /// Run the `pil` firmware under qemu-system-arm (mps2-an386), its UART on a local TCP port.
    #[arg(long)]
    qemu: bool,
    /// A real board on this serial port (e.g. /dev/ttyACM0).
    #[arg(long, value_name = "PORT")]
    serial: Option<String>,
    /// A board behind a TCP byte stream (a serial-to-TCP bridge, a QEMU started by hand).
    #[arg(long, value_name = "HOST:PORT")]
    connect: Option<String>,
    /// The board's code in-process: the host-only reference run.
    #[arg(long)]
    loopback: bool,
}

fn main() -> ExitCode {
    let _ = ctrlc::set_handler(|| {
        record::STOP.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let result = match Cli::parse().command {
        Command::List => {
            for e in Experiment::ALL {
                println!("{:<22} {}", e.name(), e.describe());
            }
            Ok(())
        }
        Command::Run {
            args,
            out,
            hash,
            hash_trace,
            no_plots,
        } => {
            if hash || hash_trace {
                run_hash(&args, hash_trace)
            } else {
                run(&args, out, !no_plots)
            }
        }
        Command::Sweep {
            args,
            grid,
            jobs,
            shard,
            out,
        } => run_sweep(&args, &grid, jobs, shard.as_deref(), out),
        Command::Merge { dirs, out } => sweep::merge(&dirs, &out).map(|n| {
            println!("merged {n} points into {}", out.display());
            plot_or_warn(&out);
        }),
        Command::Soak {
            experiments,
            steps,
            check_every,
            seed,
            jobs,
        } => run_soak(&experiments, steps, check_every, seed, jobs),
        Command::Pil {
            args,
            line,
            firmware,
            baud,
            flip_rate,
            drop_rate,
            noise_seed,
            timeout_ms,
            retries,
            pings,
            out,
        } => {
            let target = if line.qemu {
                pil::Target::Qemu { firmware }
            } else if let Some(port) = line.serial {
                pil::Target::Serial { port, baud }
            } else if let Some(addr) = line.connect {
                pil::Target::Connect(addr)
            } else {
                pil::Target::Loopback
            };
            let noise = pil::Noise {
                flip_rate,
                drop_rate,
                seed: noise_seed,
            };
            run_pil(&args, target, noise, (timeout_ms, retries, pings), out)
        }
        Command::Plot { dir } => plot::plot(&dir).map(|files| {
            for f in files {
                println!("{}", f.display());
            }
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// The experiment and its layers, parsed (nothing run yet).
fn parse(args: &RunArgs) -> Result<(Experiment, Layers), Error> {
    let exp = Experiment::from_name(&args.experiment)?;
    let file = args.config.as_deref().map(config::read_file).transpose()?;
    let sets = args
        .sets
        .iter()
        .map(|s| Override::parse(s))
        .collect::<Result<_, _>>()?;
    Ok((
        exp,
        Layers {
            file,
            sets,
            seed: args.seed,
        },
    ))
}

fn length(args: &RunArgs, exp: Experiment) -> Length {
    match (args.steps, args.duration) {
        (Some(n), _) => Length::Steps(n),
        (None, Some(ms)) => Length::Ms(ms),
        (None, None) => Length::Ms(exp.default_duration_ms()),
    }
}

/// `runs/<stem>-<UTC yyyymmdd-hhmmss>`, with a suffix if that exists already.
fn default_out(stem: &str) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let base = format!("runs/{stem}-{}", utc(secs));
    let mut p = PathBuf::from(&base);
    let mut k = 2;
    while p.exists() {
        p = PathBuf::from(format!("{base}-{k}"));
        k += 1;
    }
    p
}

/// `yyyymmdd-hhmmss` of a Unix time (UTC), by the civil-from-days algorithm (H. Hinnant): a date
/// crate for one timestamp is not worth the dependency.
fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn run(args: &RunArgs, out: Option<PathBuf>, plots: bool) -> Result<(), Error> {
    let (exp, layers) = parse(args)?;
    let cfg = layers.apply(exp.default_config(args.neurons), &[])?;
    record::validate(exp, &cfg)?;
    let out = out.unwrap_or_else(|| default_out(exp.name()));
    record::create_out(&out)?;
    let seed = cfg.get("seed").and_then(|s| s.as_integer()).unwrap_or(0);
    println!(
        "engram run {} (seed {seed}) → {}",
        exp.name(),
        out.display()
    );
    for (part, what) in exp.parts() {
        println!("  {part:<14} {what}");
    }
    let spec = Spec {
        exp,
        config: cfg,
        length: length(args, exp),
        report_every_ms: args.report_every.or(exp.default_report_ms()),
        spike_window_ms: args.spike_window.0,
        out: out.clone(),
        progress: Progress::auto(),
    };
    let s = record::run(&spec)?;
    println!();
    if s.interrupted {
        println!(
            "interrupted at step {} (outputs are complete up to there)",
            s.steps
        );
    }
    if !s.populations.is_empty() {
        println!(
            "{:<12} {:>8} {:>10} {:>8} {:>8}",
            "population", "neurons", "rate (Hz)", "CV(ISI)", "active"
        );
    }
    for (name, p) in &s.populations {
        let cv = p.cv_isi.map_or("-".to_string(), |c| format!("{c:.2}"));
        println!(
            "{name:<12} {:>8} {:>10.2} {cv:>8} {:>7.0}%",
            p.neurons,
            p.rate_hz,
            100.0 * p.active_fraction
        );
    }
    if !s.metrics.is_empty() {
        println!();
    }
    for (m, v) in &s.metrics {
        println!("{m:<25} {v:>12.6}");
    }
    for (p, w) in &s.weights {
        println!(
            "weights {p:<17} mean {:.4} std {:.4} in [{:.4}, {:.4}]; {:.0} % near the lower bound, {:.0} % near the upper",
            w.mean,
            w.std,
            w.min,
            w.max,
            100.0 * w.near_min,
            100.0 * w.near_max
        );
    }
    if let Some(l) = &s.episode_learning {
        println!();
        println!(
            "{:<22} {:>9} {:>12} {:>9} {:>12}",
            "episodes", "count", "mean steps", "success", "mean reward"
        );
        for (name, b) in [("first", &l.first), ("last", &l.last)] {
            println!(
                "{name:<22} {:>9} {:>12.1} {:>8.0}% {:>12.3}",
                b.episodes,
                b.mean_steps,
                100.0 * b.success_rate,
                b.mean_reward
            );
        }
        println!("{:<22} {:>9}", "all", s.episodes);
    }
    println!();
    println!(
        "steps          {} of {} ms ({} ms simulated)",
        s.steps, s.dt_ms, s.t_ms
    );
    if let Some(n) = s.synapses {
        println!("synapses       {n}");
    }
    println!(
        "wall time      {:.3} s (step loop with recording, single thread)",
        s.wall_s
    );
    println!("steps/s        {:.0}", s.steps_per_s);
    println!("real-time x    {:.2}", s.realtime_factor);
    if let Some(ram) = s.model_ram_bytes {
        println!(
            "model RAM      {ram} bytes ({:.1} KiB)",
            ram as f64 / 1024.0
        );
    }
    println!("state hash     {}", s.state_hash);
    if plots {
        plot_or_warn(&out);
    }
    println!("outputs        {}", out.display());
    Ok(())
}

fn plot_or_warn(dir: &Path) {
    if let Err(e) = plot::plot(dir) {
        eprintln!("warning: plots not drawn: {e}");
    }
}

/// `--hash` / `--hash-trace`: run and print the state hash (and per-step hashes).
fn run_hash(args: &RunArgs, trace: bool) -> Result<(), Error> {
    let (exp, layers) = parse(args)?;
    let cfg = layers.apply(exp.default_config(args.neurons), &[])?;
    let seed = cfg.get("seed").and_then(|s| s.as_integer()).unwrap_or(0);
    let len = length(args, exp);
    exp.build(&cfg, &mut |sim, info| {
        let steps = len.steps(info.dt_ms);
        let mut spikes = 0u64;
        let mut history = engram_lab::History::new();
        for _ in 0..steps {
            sim.step();
            spikes += sim.spike_count() as u64;
            history.record(sim);
            if trace {
                let mut line = format!("trace {} {:#018x}", sim.steps(), sim.state_hash());
                sim.hash_parts(&mut |n, h| line.push_str(&format!(" {n}={h:#018x}")));
                println!("{line}");
            }
        }
        println!("experiment {}", exp.name());
        println!("seed {seed}");
        println!("steps {}", sim.steps());
        println!("spikes {spikes}");
        sim.hash_parts(&mut |n, h| println!("part {n} {h:#018x}"));
        println!("history {:#018x}", history.finish());
        println!("hash {:#018x}", sim.state_hash());
        Ok(())
    })
}

fn run_pil(
    args: &RunArgs,
    target: pil::Target,
    noise: pil::Noise,
    (timeout_ms, retries, pings): (u64, u32, u32),
    out: Option<PathBuf>,
) -> Result<(), Error> {
    let (exp, layers) = parse(args)?;
    if exp != Experiment::Bandit {
        return Err(Error::Usage(format!(
            "engram pil runs `bandit` so far (not `{}`)",
            exp.name()
        )));
    }
    for (what, p) in [
        ("--flip-rate", noise.flip_rate),
        ("--drop-rate", noise.drop_rate),
    ] {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::Usage(format!("{what} must be in [0, 1], got {p}")));
        }
    }
    let cfg = layers.apply(exp.default_config(None), &[])?;
    let config: engram_lab::bandit::Config = config::typed(&cfg)?;
    let steps = length(args, exp).steps(f64::from(engram_lab::bandit::DT_MS));
    let out = out.unwrap_or_else(|| default_out(&format!("pil-{}", exp.name())));
    let timeout = std::time::Duration::from_millis(timeout_ms.max(1));
    let hello_timeout = match target {
        // A booting emulator (and a first build) gets longer for its first word.
        pil::Target::Qemu { .. } => timeout.max(std::time::Duration::from_secs(10)),
        _ => timeout,
    };
    println!(
        "engram pil {} (seed {}, {} steps) → {}",
        exp.name(),
        config.seed,
        steps,
        out.display()
    );
    let spec = pil::Spec {
        config,
        steps,
        target,
        noise,
        timeout,
        retries,
        hello_timeout,
        out: out.clone(),
        verbose: true,
        pings,
    };
    let s = pil::run(&spec).inspect_err(|_| {
        eprintln!(
            "(what ran is saved in {}: metrics.csv, telemetry.csv, summary.json)",
            out.display()
        );
    })?;
    println!();
    println!("board          {} over {}", s.board, s.target);
    println!(
        "steps          {} ({} control periods of {} steps)",
        s.steps, s.periods, s.period_steps
    );
    println!(
        "wall time      {:.3} s ({:.3} s the closed loop)",
        s.wall_s, s.loop_s
    );
    println!(
        "steps/s        {:.0} ({:.1} closed-loop exchanges/s)",
        s.steps_per_s, s.periods_per_s
    );
    if s.link_round_trips_per_s > 0.0 {
        println!(
            "link alone     {:.0} observation → action round trips/s (board answering from its cache)",
            s.link_round_trips_per_s
        );
    }
    println!("mean reward    {:.3}", s.mean_reward);
    println!("p_best (last 200 trials) {:.3}", s.p_best_last_200);
    println!(
        "link errors    host {} / board {} (resends {}; noise flipped {} and dropped {} bytes)",
        s.host_link_errors.total(),
        s.board_link_errors.total(),
        s.resends,
        s.noise.flipped,
        s.noise.dropped
    );
    println!("deadline overruns {}", s.deadline_overruns);
    println!("outputs        {}", out.display());
    println!("hash {}", s.state_hash);
    Ok(())
}

fn run_sweep(
    args: &RunArgs,
    grid: &[String],
    jobs: Option<usize>,
    shard: Option<&str>,
    out: Option<PathBuf>,
) -> Result<(), Error> {
    let (exp, layers) = parse(args)?;
    let grid = sweep::Grid::parse(grid)?;
    let shard = shard.map(sweep::Shard::parse).transpose()?;
    let out = out.unwrap_or_else(|| default_out(&format!("{}-sweep", exp.name())));
    let plan = sweep::Plan {
        exp,
        layers,
        neurons: args.neurons,
        grid,
        shard,
        length: length(args, exp),
        report_every_ms: args.report_every.or(exp.default_report_ms()),
        spike_window_ms: args.spike_window.0,
        out: out.clone(),
    };
    let n = sweep::run(&plan, jobs)?;
    println!("{n} points in {}", out.display());
    plot_or_warn(&out);
    Ok(())
}

/// `engram soak`: the experiments in parallel, one line each as it finishes, then every violation.
fn run_soak(
    names: &[String],
    steps: u64,
    check_every: u64,
    seed: u64,
    jobs: Option<usize>,
) -> Result<(), Error> {
    use rayon::prelude::*;
    let exps = if names.is_empty() {
        soak::learning_experiments()
    } else {
        names
            .iter()
            .map(|n| Experiment::from_name(n))
            .collect::<Result<_, _>>()?
    };
    println!(
        "engram soak: {} experiments × {steps} steps (seed {seed}), invariants checked every {check_every} steps",
        exps.len()
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {jobs:?} threads: {e}")))?;
    let reports: Vec<soak::Report> = pool.install(|| {
        exps.par_iter()
            .map(|&e| {
                let r = soak::soak(e, seed, steps, check_every)?;
                println!("{}", soak::line(&r));
                Ok(r)
            })
            .collect::<Result<_, Error>>()
    })?;
    let failed: Vec<_> = reports.iter().filter(|r| !r.passed()).collect();
    for r in &failed {
        for i in &r.issues {
            println!("{}: {i}", r.exp.name());
        }
    }
    let total: u64 = reports.iter().map(|r| r.steps).sum();
    println!(
        "soak: {} of {} experiments passed, {total} steps in all",
        reports.len() - failed.len(),
        reports.len()
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "soak failed: {}",
            failed
                .iter()
                .map(|r| r.exp.name())
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}
