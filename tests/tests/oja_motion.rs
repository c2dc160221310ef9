//! Oja's rule on a simulated movement stream (`engram_lab::oja_motion`, the micro:bit v2
//! `oja-motion` demo on the host): gravity plus movement along a known axis plus noise.
//!
//! Stated tolerance: after 3000 steps (60 s of 20 ms steps) the learned axis `±w` is within 10° of the
//! movement axis and `|w|` within 10 % of 1 on each of 8 seeds; the no-learning control (`eta = 0`,
//! the same random initial weights) is on average more than 30° off.

use engram_lab::oja_motion::{Buffers, Config, Network};

const STEPS: u64 = 3000;

fn run(cfg: &Config) -> (f32, f32) {
    let mut b = Buffers::new();
    let mut net = Network::new(cfg, b.storage()).unwrap();
    for _ in 0..STEPS {
        net.step();
    }
    (net.angle_deg(), net.norm())
}

#[test]
fn finds_the_axis_of_movement_and_the_control_does_not() {
    let mut control = 0.0;
    for seed in 1..=8 {
        let cfg = Config {
            seed,
            ..Config::default()
        };
        let (angle, norm) = run(&cfg);
        let (ctl, _) = run(&Config { eta: 0.0, ..cfg });
        control += ctl / 8.0;
        println!("seed {seed}: learned {angle:.1}° |w| {norm:.3}, control {ctl:.1}°");
        assert!(angle < 10.0, "seed {seed}: angle {angle}");
        assert!((norm - 1.0).abs() < 0.1, "seed {seed}: |w| {norm}");
    }
    assert!(control > 30.0, "control mean angle {control}");
}
