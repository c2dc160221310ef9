//! The engram side of the benchmark against Brian2 and NEST (`cargo xtask peers`, `bench/peers/`):
//! runs one model for a given biological time and prints one JSON object with the same fields as
//! `bench/peers/brian2_models.py` and `nest_models.py`.
//!
//! ```text
//! cargo bench -p engram-lab --features std --bench peers -- <cuba|coba|stdp> <duration_s> [seed]
//! ```
//!
//! Without a model it runs every model for 10 ms of biological time and checks that each does some
//! work (the CI smoke test; also what `cargo test --all-targets` runs).
//!
//! `build_s` is network construction (connectivity, initial state), `run_s` the step loop alone
//! (single thread), `peak_rss_kib` the process's peak resident memory (`VmHWM` from
//! `/proc/self/status`; 0 where that file does not exist). Synaptic events are each presynaptic spike
//! times the mean fan-out of its projection (the formula the peer scripts use); plastic updates are
//! the STDP updates (model 3: `n_out` per input spike, `n_in` per output spike).
//!
//! A hand-written argument parser and JSON printer: the output is one flat object, and the harness
//! avoids dependencies.

use std::fmt::Write as _;
use std::time::Instant;

use engram_lab::brette2007::{self, Variant};
use engram_lab::stdp_scaled;

/// What one run measured.
struct Report {
    model: &'static str,
    duration_s: f64,
    build_s: f64,
    run_s: f64,
    /// `(population, size, spikes)`.
    pops: Vec<(&'static str, usize, u64)>,
    synaptic_events: u64,
    plastic_updates: u64,
}

fn brette(variant: Variant, steps: u64, seed: u64) -> Report {
    let t0 = Instant::now();
    let cfg = brette2007::Config {
        seed,
        ..brette2007::Config::published(variant)
    };
    let mut buf = brette2007::Buffers::new(&cfg);
    let mut net = brette2007::Network::new(&cfg, buf.storage()).expect("published config is valid");
    let build_s = t0.elapsed().as_secs_f64();
    let (mut se, mut si) = (0u64, 0u64);
    let t1 = Instant::now();
    for _ in 0..steps {
        net.step();
        se += net.e.spikes.len() as u64;
        si += net.i.spikes.len() as u64;
    }
    let run_s = t1.elapsed().as_secs_f64();
    let (ne, ni) = (cfg.n_exc, cfg.n_inh);
    let fan_e = (net.ee.nnz() + net.ei.nnz()) as u64;
    let fan_i = (net.ie.nnz() + net.ii.nnz()) as u64;
    Report {
        model: match variant {
            Variant::Cuba => "cuba",
            Variant::Coba => "coba",
        },
        duration_s: steps as f64 / 10_000.0,
        build_s,
        run_s,
        pops: vec![("exc", ne, se), ("inh", ni, si)],
        synaptic_events: se * fan_e / ne as u64 + si * fan_i / ni as u64,
        plastic_updates: 0,
    }
}

fn stdp(steps: u64, seed: u64) -> Report {
    let t0 = Instant::now();
    let cfg = stdp_scaled::Config {
        seed,
        ..stdp_scaled::Config::default()
    };
    let mut buf = stdp_scaled::Buffers::<i16>::new(&cfg);
    let mut net = stdp_scaled::Network::new(&cfg, buf.storage()).expect("default config is valid");
    let build_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    for _ in 0..steps {
        net.step();
    }
    let run_s = t1.elapsed().as_secs_f64();
    let c = net.counts;
    Report {
        model: "stdp",
        duration_s: steps as f64 / 10_000.0,
        build_s,
        run_s,
        pops: vec![
            ("input", cfg.n_in, c.input_spikes),
            ("output", cfg.n_out, c.output_spikes),
        ],
        synaptic_events: c.synaptic_events,
        plastic_updates: c.plastic_updates,
    }
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn json(r: &Report) -> String {
    let mut spikes = String::new();
    let mut rates = String::new();
    for (i, (name, n, s)) in r.pops.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        let hz = *s as f64 / *n as f64 / r.duration_s;
        let _ = write!(spikes, "{sep}\"{name}\": {s}");
        let _ = write!(rates, "{sep}\"{name}\": {hz}");
    }
    format!(
        "{{\"sim\": \"engram\", \"model\": \"{}\", \"duration_s\": {}, \"build_s\": {}, \"run_s\": {}, \
         \"binary_s\": {}, \"spikes\": {{{spikes}}}, \"rates_hz\": {{{rates}}}, \"synaptic_events\": {}, \
         \"plastic_updates\": {}, \"peak_rss_kib\": {}}}",
        r.model,
        r.duration_s,
        r.build_s,
        r.run_s,
        r.run_s,
        r.synaptic_events,
        r.plastic_updates,
        peak_rss_kib()
    )
}

fn run(model: &str, duration_s: f64, seed: u64) -> Result<Report, String> {
    let steps = (duration_s * 10_000.0).round() as u64; // dt = 0.1 ms in every model
    Ok(match model {
        "cuba" => brette(Variant::Cuba, steps, seed),
        "coba" => brette(Variant::Coba, steps, seed),
        "stdp" => stdp(steps, seed),
        _ => return Err(format!("unknown model `{model}` (cuba, coba, stdp)")),
    })
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test` passes nothing or test-harness flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(model) = args.first() else {
        for m in ["cuba", "coba", "stdp"] {
            let r = run(m, 0.01, 1).expect("known model");
            let spikes: u64 = r.pops.iter().map(|p| p.2).sum();
            assert!(spikes > 0, "{m}: no spikes in 10 ms");
            println!("{}", json(&r));
        }
        return;
    };
    let duration_s: f64 = match args.get(1).map(|d| d.parse()) {
        Some(Ok(d)) if d > 0.0 => d,
        _ => {
            eprintln!("usage: peers <cuba|coba|stdp> <duration_s > 0> [seed]");
            std::process::exit(2);
        }
    };
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    match run(model, duration_s, seed) {
        Ok(r) => println!("{}", json(&r)),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    }
}
