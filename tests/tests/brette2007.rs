//! Brette et al. (2007) benchmarks 1 and 2 (after Vogels & Abbott 2005): 4000 LIF neurons with 2 %
//! random connectivity sustain asynchronous irregular activity on their own.
//!
//! The uncoupled control shows that the irregularity is the network's: without synapses the same
//! neurons (CUBA: E_L = −49 mV above threshold) fire like clocks at 1/(t_ref + τ ln 11) ≈ 18.9 Hz.

use engram_lab::brette2007::{Config, Variant};
use engram_sim::experiments::run_brette2007;

const DURATION_MS: f64 = 1000.0;
/// Discard the first 200 ms (2000 steps of 0.1 ms).
const FROM: u64 = 2000;

fn check_sustained_irregular(variant: Variant) -> (f64, f64) {
    let res = run_brette2007(&Config::published(variant), DURATION_MS).unwrap();
    let to = res.steps;
    let (exc, inh) = (&res.rasters[0].1, &res.rasters[1].1);
    let (re, ri) = (exc.rate_hz(FROM, to), inh.rate_hz(FROM, to));
    let cv = exc.mean_cv(FROM, to).unwrap_or(0.0);
    println!(
        "{variant:?}: exc {re:.2} Hz, inh {ri:.2} Hz, CV {cv:.2}, synapses {}",
        res.synapses
    );
    // self-sustained: still firing in the last 100 ms, across the population
    assert!(exc.rate_hz(to - 1000, to) > 0.5, "activity died out");
    assert!(exc.active_fraction(FROM, to) > 0.5);
    // irregular: Poisson-like inter-spike intervals, not clock-like
    assert!(cv > 0.5, "{variant:?}: CV {cv:.2} is not irregular");
    // asynchronous, moderate rates (published: a few to ~20 Hz)
    assert!((0.5..40.0).contains(&re), "{variant:?}: exc rate {re:.2}");
    (re, cv)
}

#[test]
fn cuba_sustains_asynchronous_irregular_activity() {
    let (rate, cv) = check_sustained_irregular(Variant::Cuba);
    // Uncoupled control: clock-like at the analytic rate.
    let ctl = Config {
        p_connect: 0.0,
        ..Config::published(Variant::Cuba)
    };
    let res = run_brette2007(&ctl, DURATION_MS).unwrap();
    let exc = &res.rasters[0].1;
    let (r0, cv0) = (
        exc.rate_hz(FROM, res.steps),
        exc.mean_cv(FROM, res.steps).unwrap(),
    );
    let analytic = 1000.0 / (5.0 + 20.0 * 11f64.ln());
    println!("uncoupled: {r0:.2} Hz (analytic {analytic:.2}), CV {cv0:.3}");
    assert!(
        (r0 - analytic).abs() / analytic < 0.02,
        "uncoupled rate {r0:.2} vs {analytic:.2}"
    );
    assert!(cv0 < 0.05);
    assert!(
        cv > 10.0 * cv0.max(0.01) && rate < r0,
        "recurrence must make firing slower and irregular"
    );
}

#[test]
fn coba_sustains_asynchronous_irregular_activity() {
    check_sustained_irregular(Variant::Coba);
}
