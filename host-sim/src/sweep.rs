//! Sweeps: a grid of configurations run in parallel (rayon), optionally one shard of it, and the
//! merge of shard folders into one sweep.
//!
//! A sweep folder holds `sweep.json` (the plan: experiment, grid, number of points, shard),
//! `sweep.csv` (one row per point run: `point`, the grid values, then the final metrics, rates and
//! weight statistics of its `summary.json`, then `interrupted`) and one subfolder `point-NNNN` per
//! point with the outputs of a run (`record`). Points are numbered `0..∏ len(axis)` with the first
//! `--grid` axis varying slowest; shard `I/N` runs the points with `point % N == I`. Merging shards
//! gives the same `sweep.csv` as the unsharded sweep (rows are sorted by point; every value is a
//! deterministic function of the configuration, wall times are not in it).

use crate::config::{Error, Layers, Override, io, parse_value, value_text};
use crate::experiments::Experiment;
use crate::record::{self, Length, Progress, Spec, Summary};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// One axis of the grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// Dotted configuration key.
    pub key: String,
    /// Its values, as written (TOML syntax, strings bare).
    pub values: Vec<String>,
}

/// The grid: axes, first slowest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// The axes.
    pub axes: Vec<Axis>,
}

impl Grid {
    /// Parses `key=v1,v2,...` per axis (values split at commas).
    pub fn parse(specs: &[String]) -> Result<Grid, Error> {
        let mut axes = vec![];
        for s in specs {
            let (key, values) = s.split_once('=').ok_or_else(|| {
                Error::Usage(format!("--grid `{s}` is not of the form key=v1,v2,..."))
            })?;
            let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
            if key.trim().is_empty() || values.iter().any(String::is_empty) {
                return Err(Error::Usage(format!("--grid `{s}`: empty key or value")));
            }
            axes.push(Axis {
                key: key.trim().to_string(),
                values,
            });
        }
        Ok(Grid { axes })
    }

    /// The grid as it was written: `key=v1,v2 key=v1,...`.
    pub fn text(&self) -> String {
        let axes: Vec<String> = self
            .axes
            .iter()
            .map(|a| format!("{}={}", a.key, a.values.join(",")))
            .collect();
        axes.join(" ")
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    /// Whether the grid has no points.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The overrides of point `i`.
    pub fn point(&self, i: usize) -> Vec<Override> {
        let mut stride = self.len();
        self.axes
            .iter()
            .map(|a| {
                stride /= a.values.len().max(1);
                let v = &a.values[(i / stride.max(1)) % a.values.len()];
                Override {
                    key: a.key.clone(),
                    value: parse_value(v),
                }
            })
            .collect()
    }
}

/// One slice of a sweep: points with `point % n == i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This shard (0-based).
    pub i: usize,
    /// Number of shards.
    pub n: usize,
}

impl Shard {
    /// Parses `I/N`.
    pub fn parse(s: &str) -> Result<Shard, Error> {
        let bad = || Error::Usage(format!("--shard `{s}`: expected I/N with 0 ≤ I < N"));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (i, n) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if n == 0 || i >= n {
            return Err(bad());
        }
        Ok(Shard { i, n })
    }

    fn contains(self, point: usize) -> bool {
        point % self.n == self.i
    }
}

/// What `sweep.json` records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Experiment name.
    pub experiment: String,
    /// The grid.
    pub grid: Grid,
    /// Points in the whole grid.
    pub points: usize,
    /// The shard this folder ran (`None`: all points).
    pub shard: Option<Shard>,
}

/// A sweep to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Which experiment.
    pub exp: Experiment,
    /// Configuration layers common to all points.
    pub layers: Layers,
    /// `--neurons`.
    pub neurons: Option<usize>,
    /// The grid.
    pub grid: Grid,
    /// The slice to run.
    pub shard: Option<Shard>,
    /// Length of every run.
    pub length: Length,
    /// Reporting interval.
    pub report_every_ms: Option<f64>,
    /// See [`Spec::spike_window_ms`].
    pub spike_window_ms: Option<f64>,
    /// Output folder.
    pub out: PathBuf,
}

fn point_dir(out: &Path, i: usize) -> PathBuf {
    out.join(format!("point-{i:04}"))
}

/// Runs the plan's points (all checked before the first starts); returns how many ran.
pub fn run(plan: &Plan, jobs: Option<usize>) -> Result<usize, Error> {
    let points: Vec<usize> = (0..plan.grid.len())
        .filter(|&i| plan.shard.is_none_or(|s| s.contains(i)))
        .collect();
    let mut specs = vec![];
    for &i in &points {
        let cfg = plan
            .layers
            .apply(plan.exp.default_config(plan.neurons), &plan.grid.point(i))?;
        record::validate(plan.exp, &cfg)?;
        specs.push((
            i,
            Spec {
                exp: plan.exp,
                config: cfg,
                length: plan.length,
                report_every_ms: plan.report_every_ms,
                spike_window_ms: plan.spike_window_ms,
                out: point_dir(&plan.out, i),
                progress: Progress::Quiet,
            },
        ));
    }
    record::create_out(&plan.out)?;
    let manifest = Manifest {
        experiment: plan.exp.name().into(),
        grid: plan.grid.clone(),
        points: plan.grid.len(),
        shard: plan.shard,
    };
    write_json(&plan.out.join("sweep.json"), &manifest)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {jobs:?} threads: {e}")))?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(specs.len() as u64);
        if let Ok(s) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} points [{elapsed_precise} elapsed, ETA {eta}]",
        ) {
            b.set_style(s);
        }
        b
    });
    let done = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<(usize, Result<Summary, Error>)> = pool.install(|| {
        specs
            .par_iter()
            .map(|(i, spec)| {
                let r = if record::STOP.load(std::sync::atomic::Ordering::Relaxed) {
                    Err(Error::Usage("interrupted before it started".into()))
                } else {
                    record::run(spec)
                };
                let k = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                match &bar {
                    Some(b) => b.set_position(k as u64),
                    None => eprintln!("  point {i} done ({k}/{})", specs.len()),
                }
                (*i, r)
            })
            .collect()
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut rows = vec![];
    for (i, r) in results {
        match r {
            Ok(s) => rows.push((i, s)),
            Err(e) if record::STOP.load(std::sync::atomic::Ordering::Relaxed) => {
                eprintln!("point {i}: {e}");
            }
            Err(e) => return Err(e),
        }
    }
    write_csv(&plan.out.join("sweep.csv"), &plan.grid, &rows)?;
    Ok(rows.len())
}

fn write_json<T: Serialize>(path: &Path, v: &T) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(v).unwrap_or_default();
    io(
        || format!("cannot write {}", path.display()),
        std::fs::write(path, text + "\n"),
    )
}

/// The `sweep.csv` of summaries `rows` (sorted by point here).
fn write_csv(path: &Path, grid: &Grid, rows: &[(usize, Summary)]) -> Result<(), Error> {
    let mut rows: Vec<&(usize, Summary)> = rows.iter().collect();
    rows.sort_by_key(|(i, _)| *i);
    let mut text = String::from("point");
    for a in &grid.axes {
        let _ = write!(text, ",{}", a.key);
    }
    if let Some((_, s)) = rows.first() {
        for (k, _) in columns(s) {
            let _ = write!(text, ",{k}");
        }
    }
    text.push_str(",interrupted\n");
    for (i, s) in rows {
        let _ = write!(text, "{i}");
        for o in grid.point(*i) {
            let _ = write!(text, ",{}", value_text(&o.value));
        }
        for (_, v) in columns(s) {
            let _ = write!(text, ",{v}");
        }
        let _ = writeln!(text, ",{}", s.interrupted);
    }
    io(
        || format!("cannot write {}", path.display()),
        std::fs::write(path, text),
    )
}

/// The final values of a summary as sweep.csv columns.
fn columns(s: &Summary) -> Vec<(String, String)> {
    let mut c: Vec<(String, String)> = s
        .metrics
        .iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect();
    c.extend(
        s.rates_hz
            .iter()
            .map(|(k, v)| (format!("rate_{k}_hz"), v.to_string())),
    );
    for (p, w) in &s.weights {
        c.extend([
            (format!("w_{p}_mean"), w.mean.to_string()),
            (format!("w_{p}_std"), w.std.to_string()),
            (format!("w_{p}_near_min"), w.near_min.to_string()),
            (format!("w_{p}_near_max"), w.near_max.to_string()),
        ]);
    }
    c.push(("steps".into(), s.steps.to_string()));
    c
}

/// Reads a sweep folder's manifest.
pub fn manifest(dir: &Path) -> Result<Manifest, Error> {
    let p = dir.join("sweep.json");
    let text = io(
        || format!("{} is not a sweep folder (no sweep.json)", dir.display()),
        std::fs::read_to_string(&p),
    )?;
    serde_json::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", p.display())))
}

/// Joins shard folders `dirs` into `out` (sweep.json, sweep.csv, the point folders); returns the
/// number of points.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<usize, Error> {
    let mut first: Option<Manifest> = None;
    let mut header: Option<String> = None;
    let mut empty_header: Option<String> = None;
    let mut rows: Vec<(usize, String)> = vec![];
    for d in dirs {
        let m = manifest(d)?;
        if let Some(f) = &first {
            if f.experiment != m.experiment || f.grid != m.grid {
                return Err(Error::Usage(format!(
                    "{} is a different sweep ({} over {}) from {} ({} over {})",
                    d.display(),
                    m.experiment,
                    m.grid.text(),
                    dirs[0].display(),
                    f.experiment,
                    f.grid.text()
                )));
            }
        } else {
            first = Some(m);
        }
        let p = d.join("sweep.csv");
        let text = io(
            || format!("cannot read {}", p.display()),
            std::fs::read_to_string(&p),
        )?;
        let mut lines = text.lines();
        let h = lines.next().unwrap_or_default().to_string();
        // A shard that ran no point has no metric columns: its header only stands in.
        if lines.clone().next().is_none() {
            empty_header.get_or_insert(h);
        } else {
            match &header {
                Some(prev) if *prev != h => {
                    return Err(Error::Usage(format!(
                        "{}: sweep.csv columns differ from the other shards'",
                        d.display()
                    )));
                }
                Some(_) => {}
                None => header = Some(h),
            }
        }
        for l in lines {
            let i: usize = l
                .split(',')
                .next()
                .and_then(|x| x.parse().ok())
                .ok_or_else(|| Error::Config(format!("{}: bad row `{l}`", p.display())))?;
            if rows.iter().any(|(j, _)| *j == i) {
                return Err(Error::Usage(format!("point {i} appears in two shards")));
            }
            rows.push((i, l.to_string()));
            copy_dir(&point_dir(d, i), &point_dir(out, i))?;
        }
    }
    let Some(m) = first else {
        return Err(Error::Usage("nothing to merge".into()));
    };
    rows.sort_by_key(|(i, _)| *i);
    record::create_out(out)?;
    let merged = Manifest { shard: None, ..m };
    if rows.len() < merged.points {
        eprintln!(
            "warning: {} of the {} points are missing",
            merged.points - rows.len(),
            merged.points
        );
    }
    write_json(&out.join("sweep.json"), &merged)?;
    let mut text = header.or(empty_header).unwrap_or_default();
    text.push('\n');
    for (_, l) in &rows {
        text.push_str(l);
        text.push('\n');
    }
    let p = out.join("sweep.csv");
    io(
        || format!("cannot write {}", p.display()),
        std::fs::write(&p, text),
    )?;
    Ok(rows.len())
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), Error> {
    if !from.is_dir() || from == to {
        return Ok(());
    }
    let what = || format!("cannot copy {} to {}", from.display(), to.display());
    io(what, std::fs::create_dir_all(to))?;
    for e in io(what, std::fs::read_dir(from))? {
        let e = io(what, e)?;
        if e.path().is_file() {
            io(what, std::fs::copy(e.path(), to.join(e.file_name())))?;
        }
    }
    Ok(())
}
