//! Running one experiment with recordings: the step loop, `metrics.csv`, `spikes.csv`,
//! `weights.csv`, `episodes.csv` and `summary.json` in the output folder, progress, Ctrl-C.
//!
//! The loop is the same as the `--hash` mode's (step, count spikes, chain the spike history), so a
//! recorded run's `state_hash` in `summary.json` equals `engram run <exp> --hash` for the same
//! configuration and steps: recording only reads the model (through [`engram_lab::Observe`]).
//!
//! Output formats (all CSV files have a header row; times are model time in ms):
//! - `metrics.csv`: one row per reporting interval (and one at `t_ms = 0`): `t_ms`, every metric the
//!   experiment reports (its value at the row's time), `rate_<population>_hz` (mean rate over the
//!   interval; empty at `t_ms = 0`), and for every plastic projection `w_<name>_{mean,std,min,max}`
//!   (weight units) and `w_<name>_near_{min,max}` (fraction of weights within 10 % of the range from
//!   each bound).
//! - `spikes.csv`: `t_ms,population,neuron`, one row per spike (neuron index within its population),
//!   for the last [`Spec::spike_window_ms`] of the run (`engram run --spike-window`, default 10 s).
//! - `weights.csv`: `t_ms,projection,index,weight`, snapshots of every plastic weight at the start,
//!   after each quarter of the run and at the end.
//! - `episodes.csv` (experiments with episodes): `index,t_ms,steps,reward,success`.
//! - `summary.json`: see [`Summary`].
//! - `config.toml`: the complete configuration, to re-run it with `--config`.

use crate::config::{Error, io};
use crate::experiments::{Experiment, Info, Model};
use engram_lab::History;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Set by the Ctrl-C handler: the running loops stop at the next step and write what they have.
pub static STOP: AtomicBool = AtomicBool::new(false);

/// How a run shows its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A progress bar with ETA (indicatif), on a terminal.
    Bar,
    /// A plain line on stderr every 10 % once the run has taken a second (not a terminal).
    Lines,
    /// Nothing (sweep points).
    Quiet,
}

impl Progress {
    /// A bar on a terminal, plain lines otherwise.
    pub fn auto() -> Progress {
        if std::io::stderr().is_terminal() {
            Progress::Bar
        } else {
            Progress::Lines
        }
    }
}

/// How long to run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Length {
    /// A number of steps.
    Steps(u64),
    /// Model time (ms), rounded to whole steps.
    Ms(f64),
}

impl Length {
    /// In steps of `dt_ms`.
    pub fn steps(self, dt_ms: f64) -> u64 {
        match self {
            Length::Steps(n) => n,
            Length::Ms(ms) => (ms / dt_ms).round().max(0.0) as u64,
        }
    }
}

/// Statistics of one plastic projection's weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WeightStats {
    /// Mean (weight units).
    pub mean: f64,
    /// Standard deviation (weight units).
    pub std: f64,
    /// Smallest weight.
    pub min: f64,
    /// Largest weight.
    pub max: f64,
    /// Fraction within 10 % of the range from the lower bound.
    pub near_min: f64,
    /// Fraction within 10 % of the range from the upper bound.
    pub near_max: f64,
}

impl WeightStats {
    fn of(bounds: (f32, f32), ws: &mut dyn Iterator<Item = f32>) -> WeightStats {
        let (lo, hi) = (bounds.0 as f64, bounds.1 as f64);
        let margin = 0.1 * (hi - lo);
        let (mut n, mut sum, mut sq, mut min, mut max, mut nlo, mut nhi) = (
            0usize,
            0.0,
            0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0usize,
            0usize,
        );
        for w in ws {
            let w = w as f64;
            n += 1;
            sum += w;
            sq += w * w;
            min = min.min(w);
            max = max.max(w);
            nlo += (w <= lo + margin) as usize;
            nhi += (w >= hi - margin) as usize;
        }
        let nf = n.max(1) as f64;
        let mean = sum / nf;
        WeightStats {
            mean,
            std: (sq / nf - mean * mean).max(0.0).sqrt(),
            min: if n == 0 { f64::NAN } else { min },
            max: if n == 0 { f64::NAN } else { max },
            near_min: nlo as f64 / nf,
            near_max: nhi as f64 / nf,
        }
    }
}

/// Per-neuron inter-spike-interval statistics of one population, kept as the run goes (memory per
/// neuron, not per spike): the same CV(ISI) as [`crate::analysis::Raster::mean_cv`].
struct Isi {
    last: Vec<Option<u64>>,
    n: Vec<u32>,
    s1: Vec<f64>,
    s2: Vec<f64>,
}

impl Isi {
    fn new(size: usize) -> Isi {
        Isi {
            last: vec![None; size],
            n: vec![0; size],
            s1: vec![0.0; size],
            s2: vec![0.0; size],
        }
    }

    fn spike(&mut self, j: usize, step: u64) {
        let Some(last) = self.last.get_mut(j) else {
            return;
        };
        if let Some(prev) = *last {
            let d = (step - prev) as f64;
            self.n[j] += 1;
            self.s1[j] += d;
            self.s2[j] += d * d;
        }
        *last = Some(step);
    }

    /// Mean over neurons with at least 3 spikes of std/mean of their ISIs.
    fn mean_cv(&self) -> Option<f64> {
        let cvs: Vec<f64> = (0..self.n.len())
            .filter(|&j| self.n[j] >= 2)
            .map(|j| {
                let n = self.n[j] as f64;
                let m = self.s1[j] / n;
                (self.s2[j] / n - m * m).max(0.0).sqrt() / m
            })
            .collect();
        (!cvs.is_empty()).then(|| cvs.iter().sum::<f64>() / cvs.len() as f64)
    }

    fn active_fraction(&self) -> f64 {
        self.last.iter().filter(|l| l.is_some()).count() as f64 / self.last.len().max(1) as f64
    }
}

/// One population over the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PopulationSummary {
    /// Neurons.
    pub neurons: usize,
    /// Mean rate (Hz).
    pub rate_hz: f64,
    /// Mean CV of the inter-spike intervals over neurons with ≥ 3 spikes (≈0 clock-like, ≈1
    /// Poisson); `None` if no neuron had 3 spikes.
    pub cv_isi: Option<f64>,
    /// Fraction of neurons that spiked at least once.
    pub active_fraction: f64,
}

/// What `summary.json` holds.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Experiment name.
    pub experiment: String,
    /// The four parts: architecture, learning rule, objective, environment.
    pub parts: BTreeMap<String, String>,
    /// The seed (also in `config`).
    pub seed: Option<i64>,
    /// The complete configuration the run used.
    pub config: toml::Table,
    /// Steps simulated.
    pub steps: u64,
    /// Time step (ms).
    pub dt_ms: f64,
    /// Model time simulated (ms).
    pub t_ms: f64,
    /// Whether Ctrl-C stopped the run before the requested length.
    pub interrupted: bool,
    /// Wall time of the step loop, recording included (s).
    pub wall_s: f64,
    /// Steps per wall second.
    pub steps_per_s: f64,
    /// Model time per wall time.
    pub realtime_factor: f64,
    /// Synapses in the model, where stated.
    pub synapses: Option<usize>,
    /// Synapses × steps per wall second (each synapse counted once per step, whether it carried a
    /// spike or not), where the synapse count is stated.
    pub synapse_steps_per_s: Option<f64>,
    /// Bytes of model state, where the experiment states it.
    pub model_ram_bytes: Option<usize>,
    /// Spikes over the run, all populations.
    pub spikes: u64,
    /// Mean rate of each population over the run (Hz).
    pub rates_hz: BTreeMap<String, f64>,
    /// Each population over the run: size, rate, CV(ISI), active fraction.
    pub populations: BTreeMap<String, PopulationSummary>,
    /// Every metric's value at the end.
    pub metrics: BTreeMap<String, f32>,
    /// Weight statistics of every plastic projection at the end.
    pub weights: BTreeMap<String, WeightStats>,
    /// Episodes finished.
    pub episodes: u64,
    /// The first and the last episodes compared (`None` without episodes): the learning a
    /// closed-loop run shows.
    pub episode_learning: Option<EpisodeLearning>,
    /// `Simulation::state_hash` at the end (the `--hash` mode's `hash`).
    pub state_hash: String,
    /// The chained hash of every step's spikes (the `--hash` mode's `history`).
    pub history: String,
}

/// The first and last blocks of a run's episodes: `min(10, n / 4)` episodes each (at least 1).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EpisodeLearning {
    /// The first block.
    pub first: EpisodeBlock,
    /// The last block.
    pub last: EpisodeBlock,
}

/// Statistics of a block of consecutive episodes.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EpisodeBlock {
    /// Episodes in the block.
    pub episodes: usize,
    /// Mean length (environment steps).
    pub mean_steps: f64,
    /// Fraction that succeeded.
    pub success_rate: f64,
    /// Mean total reward.
    pub mean_reward: f64,
}

impl EpisodeLearning {
    /// Compares the first and last blocks of `episodes` (`(steps, reward, success)` in order).
    pub fn of(episodes: &[(u32, f32, bool)]) -> Option<EpisodeLearning> {
        let k = (episodes.len() / 4).clamp(1, 10);
        let block = |b: &[(u32, f32, bool)]| {
            let n = b.len().max(1) as f64;
            EpisodeBlock {
                episodes: b.len(),
                mean_steps: b.iter().map(|e| f64::from(e.0)).sum::<f64>() / n,
                success_rate: b.iter().filter(|e| e.2).count() as f64 / n,
                mean_reward: b.iter().map(|e| f64::from(e.1)).sum::<f64>() / n,
            }
        };
        (!episodes.is_empty()).then(|| EpisodeLearning {
            first: block(&episodes[..k.min(episodes.len())]),
            last: block(&episodes[episodes.len().saturating_sub(k)..]),
        })
    }
}

/// One run to record.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Which experiment.
    pub exp: Experiment,
    /// Its merged configuration.
    pub config: toml::Table,
    /// How long.
    pub length: Length,
    /// Reporting interval (ms); `None`: 1/200 of the run (at least one step).
    pub report_every_ms: Option<f64>,
    /// Record spikes only in this much model time at the end of the run (ms); `None`: all of it.
    /// (A 2000-neuron population at 60 Hz makes 120 000 rows per second.)
    pub spike_window_ms: Option<f64>,
    /// Output folder (created).
    pub out: PathBuf,
    /// Progress display.
    pub progress: Progress,
}

/// Formats `step · dt` as the decimal a user expects (0.3, not 0.30000000000000004).
pub fn t_ms(step: u64, dt_ms: f64) -> f64 {
    (step as f64 * dt_ms * 1e6).round() / 1e6
}

/// Creates `dir` (and parents) and checks it is writable.
pub fn create_out(dir: &Path) -> Result<(), Error> {
    let what = || format!("cannot write the output folder {}", dir.display());
    io(what, std::fs::create_dir_all(dir))?;
    let probe = dir.join(".engram-write-test");
    io(what, File::create(&probe))?;
    io(what, std::fs::remove_file(&probe))
}

fn create(dir: &Path, name: &str) -> Result<BufWriter<File>, Error> {
    let p = dir.join(name);
    Ok(BufWriter::new(io(
        || format!("cannot create {}", p.display()),
        File::create(&p),
    )?))
}

/// Runs `spec` to the end (or Ctrl-C), writing every output file; returns the summary (also in
/// `summary.json`). Validation (configuration, output folder) happens before the first step.
pub fn run(spec: &Spec) -> Result<Summary, Error> {
    let mut result = None;
    spec.exp.build(&spec.config, &mut |model, info| {
        create_out(&spec.out)?;
        result = Some(record(spec, model, info)?);
        Ok(())
    })?;
    result.ok_or_else(|| Error::Usage("the experiment did not run".into()))
}

/// Builds `spec`'s model without running it: the configuration checks of [`run`].
pub fn validate(exp: Experiment, config: &toml::Table) -> Result<(), Error> {
    exp.build(config, &mut |_, _| Ok(()))
}

struct Names {
    pops: Vec<(&'static str, usize)>,
    metrics: Vec<&'static str>,
    projections: Vec<(&'static str, (f32, f32))>,
}

fn names(model: &dyn Model) -> Names {
    let mut pops = vec![];
    model.spikes(&mut |n, size, _| pops.push((n, size)));
    let mut metrics = vec![];
    model.metrics(&mut |n, _| metrics.push(n));
    let mut projections = vec![];
    model.weights(&mut |n, b, _| projections.push((n, b)));
    Names {
        pops,
        metrics,
        projections,
    }
}

fn io_w(dir: &Path, r: std::io::Result<()>) -> Result<(), Error> {
    io(|| format!("cannot write to {}", dir.display()), r)
}

fn write_snapshot(w: &mut impl Write, model: &dyn Model, t: f64) -> std::io::Result<()> {
    let mut res = Ok(());
    model.weights(&mut |name, _, ws| {
        for (i, x) in ws.enumerate() {
            if res.is_ok() {
                res = writeln!(w, "{t},{name},{i},{x}");
            }
        }
    });
    res
}

fn record(spec: &Spec, model: &mut dyn Model, info: &Info) -> Result<Summary, Error> {
    let dir = spec.out.as_path();
    let dt = info.dt_ms;
    let total = spec.length.steps(dt);
    let report = match spec.report_every_ms {
        Some(ms) => ((ms / dt).round() as u64).max(1),
        None => (total / 200).max(1),
    };
    let names = names(model);
    let mut metrics = create(dir, "metrics.csv")?;
    let mut spikes_f = create(dir, "spikes.csv")?;
    let mut weights_f = create(dir, "weights.csv")?;
    let mut episodes_f: Option<BufWriter<File>> = None;

    let mut header = String::from("t_ms");
    for m in &names.metrics {
        header += &format!(",{m}");
    }
    for (p, _) in &names.pops {
        header += &format!(",rate_{p}_hz");
    }
    for (p, _) in &names.projections {
        for s in ["mean", "std", "min", "max", "near_min", "near_max"] {
            header += &format!(",w_{p}_{s}");
        }
    }
    io_w(dir, writeln!(metrics, "{header}"))?;
    io_w(dir, writeln!(spikes_f, "t_ms,population,neuron"))?;
    io_w(dir, writeln!(weights_f, "t_ms,projection,index,weight"))?;

    let spikes_from = spec
        .spike_window_ms
        .map_or(0, |ms| total.saturating_sub((ms / dt).round() as u64));
    let mut counts = vec![0u64; names.pops.len()];
    let mut totals = vec![0u64; names.pops.len()];
    let mut isi: Vec<Isi> = names.pops.iter().map(|(_, n)| Isi::new(*n)).collect();
    let row = |model: &dyn Model, step: u64, counts: Option<(&[u64], u64)>| {
        let mut line = format!("{}", t_ms(step, dt));
        model.metrics(&mut |_, v| line += &format!(",{v}"));
        for (i, (_, size)) in names.pops.iter().enumerate() {
            match counts {
                Some((c, steps)) if steps > 0 => {
                    let secs = steps as f64 * dt / 1000.0;
                    let r = c[i] as f64 / (*size).max(1) as f64 / secs;
                    line += &format!(",{r}");
                }
                _ => line.push(','),
            }
        }
        model.weights(&mut |_, b, ws| {
            let s = WeightStats::of(b, ws);
            line += &format!(
                ",{},{},{},{},{},{}",
                s.mean, s.std, s.min, s.max, s.near_min, s.near_max
            );
        });
        line
    };
    io_w(dir, writeln!(metrics, "{}", row(model, 0, None)))?;
    io_w(dir, write_snapshot(&mut weights_f, model, 0.0))?;

    let bar = match spec.progress {
        Progress::Bar => {
            let b = indicatif::ProgressBar::new(total);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {percent:>3}% {msg} [{elapsed_precise} elapsed, ETA {eta}]",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            Some(b)
        }
        _ => None,
    };
    let mut next_line = total / 10;
    let mut quarter = 1u64;
    let mut history = History::new();
    let mut spikes = 0u64;
    let mut since_report = 0u64;
    let mut last_episode: Option<u32> = None;
    let mut episodes = 0u64;
    let mut episode_list: Vec<(u32, f32, bool)> = vec![];
    let mut interrupted = false;
    let start = Instant::now();
    let mut io_err: std::io::Result<()> = Ok(());
    for k in 1..=total {
        if STOP.load(Ordering::Relaxed) {
            interrupted = true;
            break;
        }
        model.step();
        spikes += model.spike_count() as u64;
        history.record(model);
        since_report += 1;
        let t = t_ms(k, dt);
        let mut i = 0;
        model.spikes(&mut |name, _, s| {
            if let Some(c) = counts.get_mut(i) {
                *c += s.len() as u64;
            }
            if let Some(isi) = isi.get_mut(i) {
                s.iter().for_each(|&j| isi.spike(j as usize, k));
            }
            i += 1;
            for &j in s {
                if k > spikes_from && io_err.is_ok() {
                    io_err = writeln!(spikes_f, "{t},{name},{j}");
                }
            }
        });
        if let Some(e) = model.last_episode()
            && last_episode != Some(e.index)
        {
            last_episode = Some(e.index);
            episodes += 1;
            episode_list.push((e.steps, e.reward, e.success));
            if episodes_f.is_none() {
                let mut f = create(dir, "episodes.csv")?;
                io_w(dir, writeln!(f, "index,t_ms,steps,reward,success"))?;
                episodes_f = Some(f);
            }
            if let Some(f) = episodes_f.as_mut() {
                io_w(
                    dir,
                    writeln!(
                        f,
                        "{},{t},{},{},{}",
                        e.index, e.steps, e.reward, e.success as u8
                    ),
                )?;
            }
        }
        if k % report == 0 || k == total {
            io_w(
                dir,
                writeln!(metrics, "{}", row(model, k, Some((&counts, since_report)))),
            )?;
            for (tot, c) in totals.iter_mut().zip(counts.iter_mut()) {
                *tot += *c;
                *c = 0;
            }
            since_report = 0;
            if k >= quarter * total / 4 || k == total {
                io_w(dir, write_snapshot(&mut weights_f, model, t))?;
                while quarter * total / 4 <= k && quarter <= 4 {
                    quarter += 1;
                }
            }
        }
        if let Some(b) = &bar {
            if k % 1024 == 0 || k == total {
                b.set_position(k);
                b.set_message(format!("t = {} ms", t_ms(k, dt)));
            }
        } else if spec.progress == Progress::Lines && k >= next_line && total >= 10 {
            // Every 10 %, once the run has taken a second (short runs print nothing).
            next_line += total / 10;
            if start.elapsed().as_secs_f64() < 1.0 {
                continue;
            }
            eprintln!(
                "  {:>3}%  t = {} ms  ({:.1} s)",
                100 * k / total,
                t,
                start.elapsed().as_secs_f64()
            );
        }
    }
    let wall = start.elapsed().as_secs_f64();
    io_w(dir, io_err)?;
    let steps = model.steps();
    if since_report > 0 {
        // Interrupted between reports: the last partial interval.
        io_w(
            dir,
            writeln!(
                metrics,
                "{}",
                row(model, steps, Some((&counts, since_report)))
            ),
        )?;
        io_w(dir, write_snapshot(&mut weights_f, model, t_ms(steps, dt)))?;
        for (tot, c) in totals.iter_mut().zip(&counts) {
            *tot += *c;
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    for f in [&mut metrics, &mut spikes_f, &mut weights_f]
        .into_iter()
        .chain(episodes_f.as_mut())
    {
        io_w(dir, f.flush())?;
    }

    let secs = steps as f64 * dt / 1000.0;
    let populations: BTreeMap<String, PopulationSummary> = names
        .pops
        .iter()
        .zip(&totals)
        .zip(&isi)
        .map(|(((n, size), &c), isi)| {
            let rate_hz = if secs > 0.0 {
                c as f64 / (*size).max(1) as f64 / secs
            } else {
                0.0
            };
            let p = PopulationSummary {
                neurons: *size,
                rate_hz,
                cv_isi: isi.mean_cv(),
                active_fraction: isi.active_fraction(),
            };
            (n.to_string(), p)
        })
        .collect();
    let rates_hz = populations
        .iter()
        .map(|(n, p)| (n.clone(), p.rate_hz))
        .collect();
    let mut final_metrics = BTreeMap::new();
    model.metrics(&mut |n, v| {
        final_metrics.insert(n.to_string(), v);
    });
    let mut weights = BTreeMap::new();
    model.weights(&mut |n, b, ws| {
        weights.insert(n.to_string(), WeightStats::of(b, ws));
    });
    let steps_per_s = steps as f64 / wall.max(1e-9);
    let summary = Summary {
        experiment: spec.exp.name().to_string(),
        parts: spec
            .exp
            .parts()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        seed: info.config.get("seed").and_then(|s| s.as_integer()),
        config: info.config.clone(),
        steps,
        dt_ms: dt,
        t_ms: t_ms(steps, dt),
        interrupted,
        wall_s: wall,
        steps_per_s,
        realtime_factor: secs / wall.max(1e-9),
        synapses: info.synapses,
        synapse_steps_per_s: info.synapses.map(|s| s as f64 * steps_per_s),
        model_ram_bytes: info.ram_bytes,
        spikes,
        rates_hz,
        populations,
        metrics: final_metrics,
        weights,
        episodes,
        episode_learning: EpisodeLearning::of(&episode_list),
        state_hash: format!("{:#018x}", model.state_hash()),
        history: format!("{:#018x}", history.finish()),
    };
    let p = dir.join("config.toml");
    io(
        || format!("cannot write {}", p.display()),
        std::fs::write(&p, toml::to_string(&info.config).unwrap_or_default()),
    )?;
    let json = serde_json::to_string_pretty(&summary)
        .map_err(|e| Error::Usage(format!("cannot encode summary.json: {e}")))?;
    let p = dir.join("summary.json");
    io(
        || format!("cannot write {}", p.display()),
        std::fs::write(&p, json + "\n"),
    )?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use engram_lab::{Episode, Observe, Simulation, WeightVisitor};

    /// A stand-in closed-loop experiment: a point moving on a line towards a light, an episode every
    /// 10 steps, one neuron spiking every third step, two weights; it presses Ctrl-C at `stop_at`.
    struct Fake {
        t: u64,
        stop_at: u64,
        spikes: Vec<u16>,
    }

    impl Simulation for Fake {
        fn step(&mut self) {
            self.t += 1;
            self.spikes = if self.t.is_multiple_of(3) {
                vec![0]
            } else {
                vec![]
            };
            if self.t == self.stop_at {
                STOP.store(true, Ordering::Relaxed);
            }
        }
        fn steps(&self) -> u64 {
            self.t
        }
        fn spike_count(&self) -> usize {
            self.spikes.len()
        }
        fn spikes_hash(&self) -> u64 {
            self.spikes.len() as u64
        }
        fn hash_parts(&self, visit: &mut dyn FnMut(&'static str, u64)) {
            visit("t", self.t);
        }
    }

    impl Observe for Fake {
        fn spikes(&self, visit: &mut dyn FnMut(&'static str, usize, &[u16])) {
            visit("cell", 1, &self.spikes);
        }
        fn metrics(&self, visit: &mut dyn FnMut(&'static str, f32)) {
            let x = self.t as f32 / 10.0;
            visit("objective", -x);
            visit("x", x);
            visit("y", 0.5 * x);
            visit("light_x", 10.0);
            visit("light_y", 5.0);
        }
        fn weights(&self, visit: &mut WeightVisitor<'_>) {
            let w = (self.t as f32 / 100.0).min(1.0);
            visit("w", (0.0, 1.0), &mut [0.0, w].into_iter());
        }
        fn last_episode(&self) -> Option<Episode> {
            (self.t >= 10).then_some(Episode {
                index: (self.t / 10) as u32,
                steps: 10,
                reward: 1.0,
                success: self.t >= 40,
            })
        }
    }

    fn spec(name: &str, steps: u64) -> Spec {
        let out = std::env::temp_dir().join(format!("engram-record-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        create_out(&out).unwrap();
        Spec {
            exp: Experiment::Bcm,
            config: toml::Table::new(),
            length: Length::Steps(steps),
            report_every_ms: Some(5.0),
            spike_window_ms: None,
            out,
            progress: Progress::Quiet,
        }
    }

    #[test]
    fn episodes_trajectory_and_interruption_are_recorded() {
        let s = spec("fake", 100);
        let mut m = Fake {
            t: 0,
            stop_at: 57,
            spikes: vec![],
        };
        let info = Info {
            config: toml::Table::new(),
            dt_ms: 1.0,
            synapses: Some(2),
            ram_bytes: None,
        };
        let sum = record(&s, &mut m, &info).unwrap();
        STOP.store(false, Ordering::Relaxed);
        // Stopped after the step that pressed Ctrl-C: 57 steps, flagged, with a partial last row.
        assert!(sum.interrupted);
        assert_eq!(sum.steps, 57);
        assert_eq!(sum.episodes, 5);
        assert_eq!(sum.spikes, 19);
        assert!((sum.rates_hz["cell"] - 19.0 / 0.057).abs() < 1e-9);
        let metrics = std::fs::read_to_string(s.out.join("metrics.csv")).unwrap();
        let last = metrics.lines().last().unwrap();
        assert!(last.starts_with("57,-5.7,5.7,"), "{last}");
        // 0, 5, …, 55 and the partial interval to 57.
        assert_eq!(metrics.lines().count(), 1 + 13);
        let episodes = std::fs::read_to_string(s.out.join("episodes.csv")).unwrap();
        let rows: Vec<&str> = episodes.lines().collect();
        assert_eq!(rows[0], "index,t_ms,steps,reward,success");
        assert_eq!(rows[1], "1,10,10,1,0");
        assert_eq!(rows[5], "5,50,10,1,1");
        assert_eq!(rows.len(), 6);
        let files = crate::plot::plot(&s.out).unwrap();
        for stem in ["trajectory", "episodes", "objective", "raster", "weights-w"] {
            assert!(
                files.iter().any(|f| f.ends_with(format!("{stem}.png"))),
                "{stem}: {files:?}"
            );
        }
    }
}
