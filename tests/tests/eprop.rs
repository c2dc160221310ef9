//! e-prop (Bellec et al. 2020), pattern generation (their Fig. 2): a recurrent LIF network driven by a
//! frozen Poisson input learns, with local eligibility traces and a broadcast learning signal, to
//! make its leaky readout draw a fixed sum of sinusoids. Published claim: the readout's loss falls
//! far below its starting value, with symmetric and with random feedback.
//!
//! Scaled down (see `engram_lab::eprop`): 20 inputs at 50 Hz, 50 LIF neurons, one readout, 500 ms
//! trials (target at 2, 4, 6, 10 Hz), 200 trials of online learning, dt = 1 ms. Asserted:
//! - symmetric e-prop: the mean loss of the last 20 trials is below 30 % of the first trial's (the
//!   untrained network, zero readout) — measured 4.4 %: 0.186 → 0.0081 (seeds 2–4: 3.9–6.0 %);
//! - and below half of the control in which only the readout learns (same readout rule, same
//!   trials): the recurrent and input plasticity is doing the work — measured 0.0081 vs 0.040;
//! - random e-prop (fixed random feedback, no weight transport): the same two bounds — measured
//!   8.5 %, 0.0159 vs 0.040 (seeds 2–4: 8.0–13.2 % of the start, 0.30–0.41 of the control);
//! - locality: with zero feedback weights (`L_j = 0`) the input and recurrent weights do not move
//!   while the eligibilities fill: the learning signal is the only way the error reaches them.

use engram_lab::eprop::{Buffers, Config, Feedback, Network};

const TRIALS: usize = 200;
const LAST: usize = 20;

/// Per-trial mean squared error over `trials` trials, and the mean recurrent firing rate (Hz) of
/// the last trial.
fn run(cfg: &Config, trials: usize) -> (Vec<f64>, f64) {
    let mut buf = Buffers::new(cfg);
    let mut net = Network::new(cfg, buf.storage()).unwrap();
    let mut losses = Vec::with_capacity(trials);
    let mut spikes = 0;
    for _ in 0..trials {
        spikes = 0;
        let mut sum = 0.0;
        for _ in 0..cfg.trial_steps {
            sum += net.step().to_num::<f64>();
            spikes += net.spikes().len();
        }
        losses.push(sum / cfg.trial_steps as f64);
    }
    let rate = spikes as f64 / (cfg.n_rec as f64 * cfg.trial_steps as f64 * 1e-3);
    (losses, rate)
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Every 20 trials, the mean loss of those trials.
fn curve(losses: &[f64]) -> Vec<f64> {
    losses.chunks(20).map(mean).collect()
}

fn learns(feedback: Feedback) {
    let cfg = Config {
        feedback,
        ..Config::small()
    };
    let (losses, rate) = run(&cfg, TRIALS);
    let (control, _) = run(
        &Config {
            plastic_network: false,
            ..cfg
        },
        TRIALS,
    );
    let first = losses[0];
    let last = mean(&losses[TRIALS - LAST..]);
    let ctl = mean(&control[TRIALS - LAST..]);
    println!(
        "{feedback:?} e-prop, {} neurons, {TRIALS} trials of {} ms: loss per 20 trials {:.4?}; \
         first {first:.4}, last {LAST} {last:.4} ({:.1} %), readout-only control {ctl:.4}; rate {rate:.1} Hz",
        cfg.n_rec,
        cfg.trial_steps,
        curve(&losses),
        100.0 * last / first
    );
    assert!(
        first > 0.1,
        "the untrained loss is the target's power: {first}"
    );
    assert!(
        last < 0.3 * first,
        "{feedback:?}: loss {first:.4} -> {last:.4}"
    );
    assert!(
        last < 0.5 * ctl,
        "{feedback:?}: e-prop {last:.4} vs readout-only {ctl:.4}"
    );
    assert!((1.0..100.0).contains(&rate), "rate {rate:.1} Hz");
}

#[test]
fn symmetric_eprop_learns_the_pattern() {
    learns(Feedback::Symmetric);
}

#[test]
fn random_eprop_learns_the_pattern() {
    learns(Feedback::Random);
}

#[test]
fn the_learning_signal_is_the_only_error_path() {
    let cfg = Config {
        feedback: Feedback::Random,
        feedback_sd: 0.0,
        ..Config::small()
    };
    let mut buf = Buffers::new(&cfg);
    let mut net = Network::new(&cfg, buf.storage()).unwrap();
    let w_in: Vec<i16> = net.w_in.proj.weights().to_vec();
    let w_rec: Vec<i16> = net.w_rec.proj.weights().to_vec();
    let w_out: Vec<i16> = net.w_out.proj.weights().to_vec();
    for _ in 0..2 {
        net.trial();
    }
    assert_eq!(net.w_in.proj.weights(), &w_in[..]);
    assert_eq!(net.w_rec.proj.weights(), &w_rec[..]);
    assert!(
        net.w_in
            .eligibility()
            .iter()
            .any(|e| *e != engram::Fix::ZERO)
    );
    assert!(
        net.w_rec
            .eligibility()
            .iter()
            .any(|e| *e != engram::Fix::ZERO)
    );
    assert_ne!(
        net.w_out.proj.weights(),
        &w_out[..],
        "the readout still learns"
    );
}

/// The paper's size: 600 LIF neurons, 1 s trials at 1, 2, 3, 5 Hz, the small test's learning rates.
/// Slow: the per-step sweep over 372 000 synapses takes ≈ 6 s per trial in the test profile (20 min
/// for 200 trials); run with `--ignored`. Measured over the first 55 trials (then stopped): 0.0915 in
/// trial 0, 0.0131 in trials 20–24, 0.0024 in trials 50–54 (2.6 %), 14 Hz.
#[test]
#[ignore]
fn eprop_at_the_papers_size() {
    let cfg = Config::bellec2020();
    let (losses, rate) = run(&cfg, TRIALS);
    let first = losses[0];
    let last = mean(&losses[TRIALS - LAST..]);
    println!(
        "{} neurons: loss per 20 trials {:.4?}; first {first:.4}, last {last:.4}; rate {rate:.1} Hz",
        cfg.n_rec,
        curve(&losses)
    );
    assert!(last < 0.3 * first, "loss {first:.4} -> {last:.4}");
}
