//! Homeostasis (Turrigiano et al. 1998; van Rossum, Bi & Turrigiano 2000; Desai et al. 1999): synaptic
//! scaling and intrinsic threshold adaptation each bring a population of LIF neurons driven by
//! Poisson inputs to a 10 Hz target rate, from a start near 2 Hz or near 40 Hz; without homeostasis
//! the rates stay where they started.
//!
//! 50 neurons × 100 inputs at 10 Hz (scaled down; see `engram_lab::homeostasis`), 1 ms steps. Each run
//! learns for 60 s, then the rates are measured by counting spikes over the next 20 s (learning still
//! on). Tolerances: population mean within ±10 % of the target, at least 90 % of the neurons within
//! ±25 % (a 20 s count of a ≈ 10 Hz train has a relative standard deviation near 7 %).

use engram::objective::Objective;
use engram_lab::homeostasis::{Buffers, Config, DT_MS, Mechanism, Network};

const LEARN_S: u64 = 60;
const MEASURE_S: u64 = 20;
const TARGET: f64 = 10.0;
/// Convergence is judged on 10 s windows: one second of 50 neurons at 10 Hz is only 500 spikes
/// (±4.5 %), and the neurons share their input pool, so the population rate also follows the pool's
/// fluctuations (a few %).
const WINDOW_S: usize = 10;

/// w_start for a start near 2 Hz and near 40 Hz (without homeostasis).
const LOW: f32 = 2.2;
const HIGH: f32 = 3.5;

struct Outcome {
    /// Population mean rate in each second of the run (Hz).
    per_second: Vec<f64>,
    /// Per-neuron rates over the measurement window (Hz).
    rates: Vec<f64>,
    /// The running average (τ = 1 s) of the objective `mean (r − r*)²` (Hz²) at the end of each
    /// second.
    loss: Vec<f64>,
}

impl Outcome {
    fn mean(&self) -> f64 {
        self.rates.iter().sum::<f64>() / self.rates.len() as f64
    }

    fn fraction_within(&self, rel: f64) -> f64 {
        let ok = self
            .rates
            .iter()
            .filter(|&&r| (r - TARGET).abs() <= rel * TARGET);
        ok.count() as f64 / self.rates.len() as f64
    }

    /// Population mean rate over consecutive 10 s windows (Hz).
    fn windows(&self) -> Vec<f64> {
        self.per_second
            .chunks(WINDOW_S)
            .map(|w| w.iter().sum::<f64>() / w.len() as f64)
            .collect()
    }

    /// The first second whose population rate is within ±10 % of the target.
    fn reached_s(&self) -> Option<usize> {
        self.per_second
            .iter()
            .position(|&r| (r - TARGET).abs() <= 0.1 * TARGET)
    }

    /// The first second from which every sliding 10 s window's population mean is within ±10 % of
    /// the target (the time at which the first such window starts).
    fn converged_s(&self) -> Option<usize> {
        let w: Vec<f64> = self
            .per_second
            .windows(WINDOW_S)
            .map(|w| w.iter().sum::<f64>() / WINDOW_S as f64)
            .collect();
        let last_out = w.iter().rposition(|&r| (r - TARGET).abs() > 0.1 * TARGET);
        match last_out {
            None => Some(0),
            Some(i) if i + 1 < w.len() => Some(i + 1),
            Some(_) => None,
        }
    }
}

fn run(cfg: &Config) -> Outcome {
    let mut buf = Buffers::new(cfg);
    let mut net = Network::new(cfg, buf.storage()).unwrap();
    let steps_per_s = (1000.0 / DT_MS) as u64;
    let n = cfg.n_neurons;
    let mut per_second = Vec::new();
    let mut loss = Vec::new();
    let mut counts = vec![0u32; n];
    for s in 0..LEARN_S + MEASURE_S {
        let mut spikes = 0u64;
        for _ in 0..steps_per_s {
            net.step();
            let sp = net.pop.spikes.as_slice();
            spikes += sp.len() as u64;
            if s >= LEARN_S {
                for &j in sp {
                    counts[j as usize] += 1;
                }
            }
        }
        per_second.push(spikes as f64 / n as f64);
        loss.push(net.objective.average().to_num());
    }
    let rates = counts
        .iter()
        .map(|&c| c as f64 / MEASURE_S as f64)
        .collect();
    Outcome {
        per_second,
        rates,
        loss,
    }
}

fn config(mechanism: Mechanism, w_start: f32) -> Config {
    let seed = std::env::var("SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    Config {
        w_start,
        seed,
        ..Config::new(mechanism)
    }
}

fn report(name: &str, o: &Outcome) {
    let sample: Vec<String> = o
        .windows()
        .iter()
        .enumerate()
        .map(|(i, r)| format!("{}s:{r:.1}", i * WINDOW_S))
        .collect();
    let (lo, hi) = o
        .rates
        .iter()
        .fold((f64::MAX, 0.0f64), |(a, b), &r| (a.min(r), b.max(r)));
    println!(
        "{name}: population rate per 10 s [{}]; final mean {:.2} Hz (error {:+.1} %), range {lo:.1}–{hi:.1} Hz, \
         within ±25 %: {:.0} %, within ±10 %: {:.0} %; first 1 s bin within ±10 % at {:?} s, every 10 s window starting at ≥ {:?} s within ±10 %; loss {:.1} → {:.2} Hz²",
        sample.join(" "),
        o.mean(),
        100.0 * (o.mean() - TARGET) / TARGET,
        100.0 * o.fraction_within(0.25),
        100.0 * o.fraction_within(0.10),
        o.reached_s(),
        o.converged_s(),
        o.loss[0],
        o.loss[LEARN_S as usize - 1],
    );
}

fn check_reaches_target(name: &str, o: &Outcome, control: &Outcome) {
    report(name, o);
    let m = o.mean();
    assert!((m - TARGET).abs() <= 0.1 * TARGET, "{name}: mean {m:.2} Hz");
    assert!(
        o.fraction_within(0.25) >= 0.9,
        "{name}: {:.0} % of neurons within ±25 %",
        100.0 * o.fraction_within(0.25)
    );
    assert!(
        o.converged_s().is_some_and(|s| s < LEARN_S as usize),
        "{name}: no convergence"
    );
    // The objective the rules descend: it rises while the rate estimates leave the target (they
    // start at it), then falls to the floor set by the estimate's own noise — a trace with
    // τ_r = 500 ms of a ≈ Poisson 10 Hz train has variance r*·1000/(2τ_r) = 10 Hz² — while without
    // homeostasis it stays high.
    let end = LEARN_S as usize - 1;
    let (peak, l1, lc) = (
        o.loss.iter().copied().fold(0.0, f64::max),
        o.loss[end],
        control.loss[end],
    );
    let floor = TARGET * 1000.0 / (2.0 * 500.0);
    println!("{name}: objective peak {peak:.1} → {l1:.1} Hz² (floor {floor}, control {lc:.1})");
    assert!(l1 < 1.5 * floor, "{name}: loss {l1}");
    assert!(
        peak > 2.0 * l1 && lc > 5.0 * l1,
        "{name}: loss {peak} → {l1}, control {lc}"
    );
}

fn check_far(name: &str, o: &Outcome, lo: f64, hi: f64) {
    report(name, o);
    let m = o.mean();
    assert!((lo..=hi).contains(&m), "{name}: mean {m:.2} Hz");
}

/// The controls (no homeostasis) from both starts, checked to stay far from the target.
fn controls() -> [Outcome; 2] {
    let low = run(&config(Mechanism::None, LOW));
    let high = run(&config(Mechanism::None, HIGH));
    check_far("control, low start", &low, 1.0, 3.5);
    check_far("control, high start", &high, 30.0, 50.0);
    [low, high]
}

fn check_mechanism(m: Mechanism, name: &str) {
    let [low, high] = controls();
    let o = run(&config(m, LOW));
    check_reaches_target(&format!("{name}, low start"), &o, &low);
    let o = run(&config(m, HIGH));
    check_reaches_target(&format!("{name}, high start"), &o, &high);
}

#[test]
fn synaptic_scaling_brings_rates_to_target() {
    check_mechanism(Mechanism::Scaling, "scaling");
}

#[test]
fn intrinsic_plasticity_brings_rates_to_target() {
    check_mechanism(Mechanism::Intrinsic, "intrinsic");
}
