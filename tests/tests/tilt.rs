//! Tilt conditioning (`engram_lab::tilt`, the micro:bit v2 `tilt` demo on the host): a scripted user
//! rewards one target pattern per tilt direction (button A) and punishes the others (button B); the
//! reward-modulated Hebbian rule learns the mapping.
//!
//! Stated tolerance: after 12 000 steps (4 min of 20 ms steps) the last 64 feedbacks are at least
//! 90 % rewards on each of 8 seeds and the strongest weight of every direction is the user's target;
//! the no-learning control (`lr = 0`, same seeds) stays at most 50 % (chance is 25 %).

use engram::num::Fix;
use engram_lab::tilt::{Buffers, Config, Direction, Network};

const STEPS: u64 = 12_000;

fn run(cfg: &Config) -> (f32, usize, u64) {
    let mut b = Buffers::new();
    let mut net = Network::new(cfg, b.storage()).unwrap();
    for _ in 0..STEPS {
        net.step();
    }
    (net.accuracy(), net.correct_preferences(), net.feedbacks())
}

#[test]
fn learns_the_users_mapping_and_the_control_does_not() {
    for seed in 1..=8 {
        let cfg = Config {
            seed,
            ..Config::default()
        };
        let (acc, prefs, n) = run(&cfg);
        let (ctl, _, _) = run(&Config { lr: 0.0, ..cfg });
        println!(
            "seed {seed}: learned {acc:.2} ({prefs}/4 preferences, {n} feedbacks), control {ctl:.2}"
        );
        assert!(n > 200, "seed {seed}: only {n} feedbacks");
        assert!(acc >= 0.9, "seed {seed}: learned accuracy {acc}");
        assert_eq!(prefs, 4, "seed {seed}: preferences");
        assert!(ctl <= 0.5, "seed {seed}: control accuracy {ctl}");
    }
}

#[test]
fn flat_or_missing_shows_nothing() {
    let t = Fix::from_num(0.35);
    let one = Fix::ONE;
    let flat = [Fix::ZERO, Fix::from_num(0.1), -one, one];
    assert_eq!(Direction::classify(&flat, t), None);
    let missing = [Fix::from_num(0.9), Fix::ZERO, Fix::ZERO, Fix::ZERO];
    assert_eq!(Direction::classify(&missing, t), None);
    let left = [Fix::from_num(-0.5), Fix::from_num(0.2), -one, one];
    assert_eq!(Direction::classify(&left, t), Some(Direction::XNeg));
    let fwd = [Fix::from_num(0.2), Fix::from_num(0.6), -one, one];
    assert_eq!(Direction::classify(&fwd, t), Some(Direction::YPos));
    assert_eq!(Direction::classify(&[one], t), None);
}

#[test]
fn learned_state_round_trips_through_a_checkpoint() {
    let cfg = Config::default();
    let mut b = Buffers::new();
    let mut net = Network::new(&cfg, b.storage()).unwrap();
    for _ in 0..STEPS {
        net.step();
    }
    let mut bytes = [0u8; engram_lab::tilt::STATE_BYTES];
    assert_eq!(net.learner.save(&mut bytes), bytes.len());
    let prefs = net.learner.preferred();
    let mut b2 = Buffers::new();
    let mut fresh = Network::new(&cfg, b2.storage()).unwrap();
    assert!(!fresh.learner.load(&bytes[1..]));
    assert!(fresh.learner.load(&bytes));
    assert_eq!(fresh.learner.preferred(), prefs);
    assert_eq!(
        fresh.learner.plastic.proj.weights(),
        net.learner.plastic.proj.weights()
    );
}
