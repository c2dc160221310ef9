//! The learning experiments' bit-exactness configurations (`Config::check`, run by `cargo xtask qemu`
//! on the emulated Cortex-M4F and Cortex-M0 and by `engram run <exp> --hash` on the host) really
//! exercise the learning path within the steps CI runs: a hash comparison of a run in which nothing
//! learned would prove little about stochastic rounding, eligibilities, traces and objectives.
//!
//! Each case is a `CHECKS` entry of `xtask/src/qemu.rs` (same experiment, size, steps and seed);
//! asserted: the weights changed (a stated minimum fraction of them), the rule's state moved (traces
//! or eligibilities non-zero, the stochastic-rounding generator advanced), the objective produced a
//! signal, and for distal reward that rewards were delivered during the run. Measured: distal reward
//! 1 reward (1000 neurons, 2000 steps) and 3 (50 neurons, 5000 steps), 52 % and 78 % of the plastic
//! weights changed; synaptic scaling changed every weight, intrinsic plasticity every threshold;
//! PES 66 of 100 decoders non-zero; e-prop changed 68 / 43 / 70 % of the input / recurrent / readout
//! weights at 50 neurons, 48 / 22 / 50 % at 16; Oja and BCM changed every weight and BCM's θ is
//! non-zero; Song 2000 (20 Hz input) fired 92 output spikes in 5000 steps and
//! changed 99.9 % of the weights.

use engram::hash::StateHash;
use engram::objective::Objective;
use engram_lab::homeostasis::Mechanism;
use engram_lab::{bcm, distal_reward, eprop, homeostasis, oja_pca, pes, song2000};

/// Fraction of `after` that differs from `before`.
fn changed(before: &[i16], after: &[i16]) -> f64 {
    let n = before.iter().zip(after).filter(|(a, b)| a != b).count();
    n as f64 / before.len() as f64
}

fn distal(n: usize, steps: u64, seed: u64) {
    let cfg = distal_reward::Config::check(n, seed);
    let mut b = distal_reward::Buffers::new(&cfg);
    let mut net = distal_reward::Network::new(&cfg, b.storage()).unwrap();
    let w0 = net.weights().to_vec();
    for _ in 0..steps {
        net.step();
    }
    let frac = changed(&w0, net.weights());
    println!(
        "distal-reward n={n}: {} coincidences, {} rewards, {:.0} % of the weights changed",
        net.coincidences,
        net.rewards,
        100.0 * frac
    );
    assert!(net.rewards >= 1, "no reward delivered in {steps} steps");
    assert!(
        frac > 0.3,
        "only {:.1} % of the weights changed",
        100.0 * frac
    );
    assert!(net.exc.eligibility().iter().any(|e| e.to_bits() != 0));
    assert!(net.exc.pre_trace(0).iter().any(|x| x.to_bits() != 0));
}

#[test]
fn distal_reward_check_sees_rewards_and_weight_changes() {
    distal(1000, 2000, 7); // mps2-an386
    distal(50, 5000, 7); // micro:bit
}

fn homeo(mechanism: Mechanism, n: usize, steps: u64, seed: u64) {
    let cfg = homeostasis::Config::check(mechanism, n, seed);
    let mut b = homeostasis::Buffers::new(&cfg);
    let mut net = homeostasis::Network::new(&cfg, b.storage()).unwrap();
    let w0 = net.plastic.proj.weights().to_vec();
    let rng0 = net.plastic.rng().state_hash();
    for _ in 0..steps {
        net.step();
    }
    let frac = changed(&w0, net.plastic.proj.weights());
    let err = net.objective.errors().iter().any(|e| e.to_bits() != 0);
    assert!(err, "the rate objective gave no error signal");
    assert!(net.objective.value().to_bits() > 0);
    match mechanism {
        Mechanism::Scaling => {
            println!(
                "homeostasis-scaling n={n}: {:.0} % of the weights changed",
                100.0 * frac
            );
            assert!(
                frac > 0.5,
                "only {:.1} % of the weights changed",
                100.0 * frac
            );
            assert_ne!(
                net.plastic.rng().state_hash(),
                rng0,
                "no stochastic rounding"
            );
        }
        Mechanism::Intrinsic => {
            let ip = net.intrinsic.as_ref().unwrap();
            let moved = ip.offsets().iter().filter(|o| o.to_bits() != 0).count();
            println!("homeostasis-intrinsic n={n}: {moved} of {n} thresholds moved");
            assert_eq!(moved, n);
            assert_eq!(frac, 0.0, "static weights changed");
        }
        Mechanism::None => unreachable!(),
    }
}

#[test]
fn homeostasis_checks_scale_weights_and_move_thresholds() {
    for m in [Mechanism::Scaling, Mechanism::Intrinsic] {
        homeo(m, 50, 5000, 5); // mps2-an386
        homeo(m, 10, 5000, 5); // micro:bit
    }
}

#[test]
fn pes_check_learns_decoders() {
    let cfg = pes::Config::check(100, 3);
    let mut b = pes::Buffers::new(&cfg);
    let mut net = pes::Network::new(&cfg, b.storage()).unwrap();
    let rng0 = net.decoders.rng().state_hash();
    for _ in 0..5000 {
        net.step();
    }
    let nonzero = net
        .decoders
        .proj
        .weights()
        .iter()
        .filter(|&&w| w != 0)
        .count();
    println!("pes n=100: {nonzero} of 100 decoders non-zero after 5000 steps");
    assert!(nonzero >= 50, "{nonzero} decoders learned");
    assert_ne!(
        net.decoders.rng().state_hash(),
        rng0,
        "no stochastic rounding"
    );
    assert!(net.mse.errors()[0].to_bits() != 0);
}

#[test]
fn eprop_check_changes_all_three_weight_sets() {
    for (n, label) in [(50, "mps2-an386"), (16, "micro:bit")] {
        let cfg = eprop::Config::check(n, 2);
        let mut b = eprop::Buffers::new(&cfg);
        let mut net = eprop::Network::new(&cfg, b.storage()).unwrap();
        let w = |net: &eprop::Network| {
            [
                net.w_in.proj.weights().to_vec(),
                net.w_rec.proj.weights().to_vec(),
                net.w_out.proj.weights().to_vec(),
            ]
        };
        let w0 = w(&net);
        let rng0 = net.w_rec.rng().state_hash();
        for _ in 0..2000 {
            net.step();
        }
        let w1 = w(&net);
        let fr: Vec<f64> = w0.iter().zip(&w1).map(|(a, b)| changed(a, b)).collect();
        println!(
            "eprop n={n} ({label}): changed in {:.0} %, rec {:.0} %, out {:.0} %",
            100.0 * fr[0],
            100.0 * fr[1],
            100.0 * fr[2]
        );
        for (f, name) in fr.iter().zip(["input", "recurrent", "readout"]) {
            assert!(*f > 0.1, "{name}: only {:.1} % changed", 100.0 * f);
        }
        assert!(net.w_rec.eligibility().iter().any(|e| e.to_bits() != 0));
        assert_ne!(net.w_rec.rng().state_hash(), rng0, "no stochastic rounding");
    }
}

#[test]
fn oja_and_bcm_checks_change_every_weight() {
    let cfg = oja_pca::Config {
        seed: 4,
        ..Default::default()
    };
    let mut b = oja_pca::Buffers::new();
    let mut net = oja_pca::Network::new(&cfg, b.storage()).unwrap();
    let w0 = net.plastic.proj.weights().to_vec();
    for _ in 0..20_000 {
        net.step();
    }
    assert_eq!(changed(&w0, net.plastic.proj.weights()), 1.0);

    let cfg = bcm::Config {
        seed: 4,
        ..Default::default()
    };
    let mut b = bcm::Buffers::new(&cfg);
    let mut net = bcm::Network::new(&cfg, b.storage()).unwrap();
    let w0 = net.plastic.proj.weights().to_vec();
    for _ in 0..10_000 {
        net.step();
    }
    assert_eq!(changed(&w0, net.plastic.proj.weights()), 1.0);
    assert!(net.theta().to_bits() > 0, "θ did not move");
}

#[test]
fn song2000_check_changes_almost_every_weight() {
    // Both machines run the same full network: 5000 steps, seed 3.
    let cfg = song2000::Config::check(3);
    let mut b = song2000::Buffers::<i16>::new(&cfg);
    let mut net = song2000::Network::new(&cfg, b.storage()).unwrap();
    let w0 = net.weights().to_vec();
    let rng0 = net.plastic.rng().state_hash();
    for _ in 0..5000 {
        net.step();
    }
    let frac = changed(&w0, net.weights());
    println!(
        "song2000: {} output spikes, {:.1} % of the weights changed",
        net.output_spikes,
        100.0 * frac
    );
    assert!(
        net.output_spikes >= 20,
        "the neuron barely fired: {}",
        net.output_spikes
    );
    assert!(
        frac > 0.9,
        "only {:.1} % of the weights changed",
        100.0 * frac
    );
    assert!(net.plastic.pre_trace(0).iter().any(|x| x.to_bits() != 0));
    assert_ne!(
        net.plastic.rng().state_hash(),
        rng0,
        "no stochastic rounding"
    );
}
