//! Song, Miller & Abbott (2000): additive STDP on one conductance-based LIF neuron with 1000
//! excitatory and 200 inhibitory Poisson inputs.
//!
//! Published outcomes (Fig. 1–2): (a) the excitatory weights, initially uniform in `[0, g_max]`,
//! split into a bimodal distribution with most mass at the two bounds; (b) after learning at each
//! input rate, the output rate hardly changes while the input rate quadruples (10 → 40 Hz), whereas
//! the same neuron with fixed weights goes from a few Hz to hundreds.
//!
//! The paper's parameters throughout, including the STDP amplitudes (no speed-up: a larger `A₊`
//! converges faster but makes the distribution noisier — twice the amplitude leaves only ≈ 55 % of
//! the weights near a bound at 10 Hz), 16-bit weights with nearest rounding, dt = 0.1 ms. Learning
//! lasts 600 s of simulated time at 40 Hz and 1500 s at 10 Hz (fewer output spikes, slower
//! convergence). `song2000_long` (ignored) runs longer.

use engram_lab::song2000::{Config, Outcome, run};
use std::sync::OnceLock;

const MEASURE_S: f32 = 100.0;

fn learned(input_hz: f32) -> &'static Outcome {
    static AT_10: OnceLock<Outcome> = OnceLock::new();
    static AT_40: OnceLock<Outcome> = OnceLock::new();
    let (cell, learn_s) = if input_hz < 20.0 {
        (&AT_10, 1500.0)
    } else {
        (&AT_40, 600.0)
    };
    cell.get_or_init(|| {
        let out = run::<i16>(&Config::new(input_hz), learn_s, 10, MEASURE_S).unwrap();
        println!("{input_hz} Hz: {out:?}");
        out
    })
}

#[test]
fn weights_become_bimodal() {
    let o = learned(40.0);
    // Uniform start: 10 % of the weights within 10 % of each bound.
    assert!(
        (o.initial.near_bounds() - 0.2).abs() < 0.05,
        "{:?}",
        o.initial
    );
    assert!((o.initial.mean - 0.5).abs() < 0.05);
    // Learned: > 80 % near a bound, both ends populated.
    let l = o.learned;
    assert!(l.near_bounds() > 0.8, "near bounds {:.3}", l.near_bounds());
    assert!(l.near_zero > 0.5, "{l:?}");
    assert!(l.near_max > 0.03, "top end empty: {l:?}");
    // At 10 Hz the split is under way but slower (≈ 0.7 after 1500 s).
    let l10 = learned(10.0).learned;
    assert!(l10.near_bounds() > 0.6, "10 Hz: {l10:?}");
    assert!(l10.near_zero > 0.2 && l10.near_max > 0.2, "10 Hz: {l10:?}");
}

#[test]
fn output_rate_is_stabilised_against_input_rate() {
    let (a, b) = (learned(10.0), learned(40.0));
    let (r10, r40) = (a.learned_hz, b.learned_hz);
    println!("learned: {r10:.1} Hz at 10 Hz input, {r40:.1} Hz at 40 Hz input");
    assert!(r10 > 2.0, "the learned neuron must still fire: {r10}");
    assert!(r40 / r10 < 2.0, "with STDP: {r40:.1} / {r10:.1}");
    // Control: the same neuron with its initial (uniform) weights frozen.
    let (f10, f40) = (a.initial_hz, b.initial_hz);
    println!("frozen initial weights: {f10:.1} Hz at 10 Hz, {f40:.1} Hz at 40 Hz");
    assert!(f40 / f10.max(0.1) > 3.0, "frozen: {f40:.1} / {f10:.1}");
    // During learning at 40 Hz the output rate comes down from the frozen value (≈ 540 Hz): below
    // a fifth of it over the first 60 s window, below a tenth in every later one.
    let (first, rest) = b.curve.split_first().unwrap();
    assert!(
        *first < b.initial_hz / 5.0 && rest.iter().all(|&r| r < b.initial_hz / 10.0),
        "40 Hz learning curve {:?} vs frozen {:.1}",
        b.curve,
        b.initial_hz
    );
}

/// The same protocol, longer: 4000 s at 10 Hz, 2000 s at 40 Hz (≈ 40 s of wall time). Measured:
/// 10 Hz → 80 % of the weights near a bound (36 % at 0, 44 % at g_max), 13.9 Hz out; 40 Hz → 82 %
/// (75 % / 7 %), 22.3 Hz out; ratio 1.6.
#[test]
#[ignore = "long version (about 40 s): closer to the equilibrium"]
fn song2000_long() {
    let a = run::<i16>(&Config::new(10.0), 4000.0, 20, MEASURE_S).unwrap();
    let b = run::<i16>(&Config::new(40.0), 2000.0, 20, MEASURE_S).unwrap();
    println!("10 Hz: {a:?}\n40 Hz: {b:?}");
    assert!(b.learned.near_bounds() > 0.8, "{:?}", b.learned);
    assert!(a.learned.near_bounds() > 0.65, "{:?}", a.learned);
    assert!(b.learned_hz / a.learned_hz < 2.0);
}
