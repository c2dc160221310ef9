//! Soak: run learning experiments for a very long time and check, every so often, that their state
//! stays inside its documented bounds and their objectives stay meaningful (`engram soak`,
//! `cargo xtask soak`).
//!
//! What is checked at every check point ([`inspect`]):
//! - no metric ([`engram_lab::Observe::metrics`]) is infinite, and `objective` is never NaN (another
//!   metric may be NaN while it is undefined, as the `Observe` convention allows — a latency with no
//!   spike yet — and is counted in [`Inspection::undefined`]);
//! - every plastic weight lies within its projection's bounds (the core saturates at the bounds; a
//!   weight outside them is a bug in the applier or in a format conversion);
//! - not every weight of a projection is pinned at one bound (a projection whose weights all ran into
//!   the same wall has stopped learning anything: the "saturated state" a fixed-point rule can drift
//!   into);
//!
//! and over the run ([`soak`]): a network that spiked in the first check interval still spikes in the
//! last one (it did not fall silent for good). Each finding names the check step; the run goes on to
//! the end so one report lists everything. The step loop is the experiment's own, untouched: only
//! [`engram_lab::Observe`] (read-only, off the step path) is called between steps.

use crate::config::Error;
use crate::experiments::{Experiment, Model};
use std::time::Instant;

/// The experiments a soak runs by default: every one that learns without end. The static networks
/// (`izhikevich2003`, `brette-*`) have no plastic state to drift, and `triplet-frequency` is a finite
/// protocol (its steps after the last pairing do nothing).
pub fn learning_experiments() -> Vec<Experiment> {
    Experiment::ALL
        .into_iter()
        .filter(|e| {
            !matches!(
                e,
                Experiment::Izhikevich2003
                    | Experiment::BretteCuba
                    | Experiment::BretteCoba
                    | Experiment::TripletFrequency
            )
        })
        .collect()
}

/// What one check point found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inspection {
    /// Invariant violations, one sentence each (empty: all held).
    pub issues: Vec<String>,
    /// Plastic weights seen.
    pub weights: usize,
    /// Of those, at the lower or the upper bound.
    pub at_bound: usize,
    /// The `objective` metric, where the experiment reports one.
    pub objective: Option<f32>,
    /// Metrics other than `objective` that were NaN (undefined at this moment).
    pub undefined: Vec<&'static str>,
}

/// Checks the invariants of one model state (see the module doc).
pub fn inspect(model: &dyn Model) -> Inspection {
    let mut r = Inspection::default();
    model.metrics(&mut |name, v| {
        if v.is_infinite() || (v.is_nan() && name == "objective") {
            r.issues.push(format!("metric `{name}` is {v}"));
        } else if v.is_nan() {
            r.undefined.push(name);
        }
        if name == "objective" {
            r.objective = Some(v);
        }
    });
    model.weights(&mut |name, (lo, hi), ws| {
        let (mut n, mut at_lo, mut at_hi, mut outside) = (0usize, 0usize, 0usize, 0usize);
        let mut worst = None;
        for w in ws {
            n += 1;
            if !(lo..=hi).contains(&w) {
                outside += 1;
                worst.get_or_insert(w);
            }
            at_lo += usize::from(w == lo);
            at_hi += usize::from(w == hi);
        }
        if outside > 0 {
            r.issues.push(format!(
                "{outside} weights of `{name}` outside [{lo}, {hi}] (first: {})",
                worst.unwrap_or(f32::NAN)
            ));
        }
        if n > 1 && (at_lo == n || at_hi == n) {
            let which = if at_lo == n { "lower" } else { "upper" };
            r.issues.push(format!(
                "every weight of `{name}` is pinned at the {which} bound"
            ));
        }
        r.weights += n;
        r.at_bound += at_lo + at_hi;
    });
    r
}

/// The outcome of one experiment's soak.
#[derive(Debug, Clone)]
pub struct Report {
    /// The experiment.
    pub exp: Experiment,
    /// Steps run.
    pub steps: u64,
    /// Model time simulated (ms).
    pub t_ms: f64,
    /// Wall time (s).
    pub wall_s: f64,
    /// Check points inspected.
    pub checks: u64,
    /// Every violation, prefixed with its step (empty: the soak passed).
    pub issues: Vec<String>,
    /// The first and the last check point.
    pub first: Inspection,
    /// See `first`.
    pub last: Inspection,
    /// Spikes in the first and in the last check interval.
    pub spikes_first_last: (u64, u64),
}

impl Report {
    /// Whether every invariant held at every check point.
    pub fn passed(&self) -> bool {
        self.issues.is_empty()
    }
}

/// Most violations kept per experiment (the rest are counted).
const MAX_ISSUES: usize = 20;

/// Runs `exp` (its default configuration with `seed`) for `steps` steps, inspecting it every
/// `check_every` steps and at the end.
pub fn soak(exp: Experiment, seed: u64, steps: u64, check_every: u64) -> Result<Report, Error> {
    let mut cfg = exp.default_config(None);
    cfg.insert("seed".into(), toml::Value::Integer(seed as i64));
    let check_every = check_every.max(1);
    let mut report = None;
    exp.build(&cfg, &mut |sim, info| {
        let start = Instant::now();
        let mut issues = vec![];
        let mut dropped = 0usize;
        let (mut first, mut last) = (None, Inspection::default());
        let (mut first_spikes, mut interval_spikes, mut last_spikes) = (None, 0u64, 0u64);
        let mut checks = 0;
        let mut done = 0;
        while done < steps {
            let n = check_every.min(steps - done);
            for _ in 0..n {
                sim.step();
                interval_spikes += sim.spike_count() as u64;
            }
            done += n;
            let ins = inspect(sim);
            checks += 1;
            for i in &ins.issues {
                if issues.len() < MAX_ISSUES {
                    issues.push(format!("step {done}: {i}"));
                } else {
                    dropped += 1;
                }
            }
            first_spikes.get_or_insert(interval_spikes);
            last_spikes = interval_spikes;
            interval_spikes = 0;
            first.get_or_insert_with(|| ins.clone());
            last = ins;
        }
        let first_spikes = first_spikes.unwrap_or(0);
        if first_spikes > 0 && last_spikes == 0 {
            issues.push(format!(
                "the network fell silent: {first_spikes} spikes in the first {check_every} steps, none in the last"
            ));
        }
        if dropped > 0 {
            issues.push(format!("… and {dropped} more"));
        }
        report = Some(Report {
            exp,
            steps: done,
            t_ms: done as f64 * info.dt_ms,
            wall_s: start.elapsed().as_secs_f64(),
            checks,
            issues,
            first: first.unwrap_or_default(),
            last,
            spikes_first_last: (first_spikes, last_spikes),
        });
        Ok(())
    })?;
    report.ok_or_else(|| Error::Usage(format!("{} was not built", exp.name())))
}

/// One line per report for the terminal.
pub fn line(r: &Report) -> String {
    let bound = |i: &Inspection| {
        if i.weights == 0 {
            "-".to_string()
        } else {
            format!("{:.0} %", 100.0 * i.at_bound as f64 / i.weights as f64)
        }
    };
    let obj = |i: &Inspection| i.objective.map_or("-".into(), |o| format!("{o:.4}"));
    format!(
        "{:<22} {:>12} steps {:>10.0} s model {:>8.1} s wall  {:>6} checks  at bounds {} → {}  objective {} → {}  {}",
        r.exp.name(),
        r.steps,
        r.t_ms / 1000.0,
        r.wall_s,
        r.checks,
        bound(&r.first),
        bound(&r.last),
        obj(&r.first),
        obj(&r.last),
        if r.passed() { "ok" } else { "FAILED" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use engram_lab::{Observe, Simulation, WeightVisitor};

    /// A model whose reports are whatever the test sets.
    struct Fake {
        metric: f32,
        weights: Vec<f32>,
    }

    impl Simulation for Fake {
        fn step(&mut self) {}
        fn steps(&self) -> u64 {
            0
        }
        fn spike_count(&self) -> usize {
            0
        }
        fn spikes_hash(&self) -> u64 {
            0
        }
        fn hash_parts(&self, _: &mut dyn FnMut(&'static str, u64)) {}
    }

    impl Observe for Fake {
        fn spikes(&self, _: &mut dyn FnMut(&'static str, usize, &[u16])) {}
        fn metrics(&self, visit: &mut dyn FnMut(&'static str, f32)) {
            visit("objective", self.metric);
        }
        fn weights(&self, visit: &mut WeightVisitor<'_>) {
            visit("w", (0.0, 1.0), &mut self.weights.iter().copied());
        }
    }

    #[test]
    fn a_healthy_state_has_no_issues() {
        let r = inspect(&Fake {
            metric: 0.5,
            weights: vec![0.0, 0.3, 1.0],
        });
        assert!(r.issues.is_empty(), "{:?}", r.issues);
        assert_eq!((r.weights, r.at_bound, r.objective), (3, 2, Some(0.5)));
    }

    #[test]
    fn each_broken_invariant_is_reported() {
        let r = inspect(&Fake {
            metric: f32::INFINITY,
            weights: vec![0.2, 1.5],
        });
        assert_eq!(r.issues.len(), 2, "{:?}", r.issues);
        assert!(r.issues[0].contains("objective"));
        assert!(r.issues[1].contains("outside [0, 1]"));
        let r = inspect(&Fake {
            metric: 0.0,
            weights: vec![1.0; 4],
        });
        assert_eq!(
            r.issues,
            ["every weight of `w` is pinned at the upper bound"]
        );
        let r = inspect(&Fake {
            metric: f32::NAN,
            weights: vec![0.5],
        });
        assert_eq!(r.issues, ["metric `objective` is NaN"]);
    }

    #[test]
    fn a_real_experiment_soaks_clean() {
        let r = soak(Experiment::OjaPca, 1, 20_000, 5_000).unwrap();
        assert!(r.passed(), "{:?}", r.issues);
        assert_eq!((r.steps, r.checks), (20_000, 4));
        assert!(r.last.weights == 10 && r.last.objective.is_some());
    }
}
