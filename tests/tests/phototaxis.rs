//! Phototaxis (`engram_lab::phototaxis`): a two-wheeled vehicle with two directional light sensors
//! learns, from the reward "the sensed light increased" alone, to drive to a light that jumps
//! elsewhere whenever it is reached. Before learning (random, side-neutral sensor→motor weights)
//! it drives into a wall and times out; after learning it steers to the light.
//!
//! Protocol (per seed): **before** — a fresh network with reward learning switched off runs
//! `EVAL` episodes; **training** — the same fresh network with learning on runs `TRAIN` episodes;
//! **after** — plasticity switched off, `EVAL` more episodes. The control runs the same protocol
//! without reward (`reward_gain = 0`: the homeostatic scaling still runs, the critic's δ is 0), and
//! must not improve.

use engram_lab::Simulation;
use engram_lab::phototaxis::{Buffers, Config, Network};

const EVAL: u64 = 10;
const TRAIN: u64 = 30;

/// Runs until `n` more episodes have finished; returns their lengths (control steps) and how many
/// reached the light.
fn episodes(net: &mut Network<'_>, n: u64) -> (Vec<u32>, usize) {
    let start = net.episodes();
    let mut out = Vec::new();
    let mut reached = 0;
    while net.episodes() < start + n {
        net.step();
        if let Some(o) = net.last_outcome()
            && o.index >= start
            && o.index as usize - start as usize == out.len()
        {
            out.push(o.steps);
            reached += o.success as usize;
        }
    }
    (out, reached)
}

fn mean(v: &[u32]) -> f64 {
    v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64
}

/// Before / after mean time to target (control steps of 20 ms; a timeout counts as its 500 steps),
/// the learned steering (crossed − uncrossed mean weight, mV) and episodes reached after.
fn protocol(cfg: &Config) -> (f64, f64, f32, usize) {
    let mut b = Buffers::new(cfg);
    let mut net = Network::new(cfg, b.storage()).unwrap();
    net.set_learning(false);
    let (before, _) = episodes(&mut net, EVAL);
    // the "after" network starts from the same initial state as the "before" one
    let mut b = Buffers::new(cfg);
    let mut net = Network::new(cfg, b.storage()).unwrap();
    episodes(&mut net, TRAIN);
    net.set_learning(false);
    let (after, reached) = episodes(&mut net, EVAL);
    let w = net.block_weights();
    let steering = (w[1] + w[2] - w[0] - w[3]) / 2.0;
    (mean(&before), mean(&after), steering, reached)
}

/// Measured (default configuration, seeds 1 and 2): before 500 and 500 control steps (every
/// episode a timeout: the side-neutral vehicle drives into a wall), after 77 and 70 (10/10
/// reached), steering weight +1.04 / +1.22 mV. Control (no reward, seed 1, timeout 200):
/// 200 → 200, steering −0.01 mV (the scaling's rounding).
#[test]
fn learns_to_reach_the_light_faster() {
    for seed in 1..=2 {
        let cfg = Config {
            seed,
            ..Config::default()
        };
        let (before, after, steering, reached) = protocol(&cfg);
        eprintln!(
            "seed {seed}: time to target {before:.0} -> {after:.0} control steps ({reached}/{EVAL} \
             reached), steering {steering:+.2} mV"
        );
        // At least 3x faster, most episodes reach the light, and the learned wiring is crossed.
        assert!(after * 3.0 <= before, "seed {seed}: {before} -> {after}");
        assert!(reached as u64 >= EVAL - 1, "seed {seed}: {reached}");
        assert!(steering > 0.3, "seed {seed}: {steering}");
    }
    // Without the reward the vehicle does not improve and does not learn to steer. (One seed, and a
    // timeout of 200 control steps to keep the test short: every control episode times out.)
    let no_reward = Config {
        seed: 1,
        reward_gain: 0.0,
        timeout: 200,
        ..Config::default()
    };
    let (before, after, steering, _) = protocol(&no_reward);
    eprintln!("no reward: {before:.0} -> {after:.0}, steering {steering:+.2} mV");
    assert!(after >= 0.8 * before, "control {before} -> {after}");
    assert!(steering.abs() < 0.2, "control steering {steering}");
}

#[test]
fn same_seed_same_state_hash() {
    let hash = |seed: u64, steps: u64| {
        let cfg = Config::check(seed);
        let mut b = Buffers::new(&cfg);
        let mut net = Network::new(&cfg, b.storage()).unwrap();
        for _ in 0..steps {
            Simulation::step(&mut net);
        }
        let mut parts = Vec::new();
        net.hash_parts(&mut |name, h| parts.push((name, h)));
        (net.state_hash(), parts, net.episodes())
    };
    let (a, pa, _) = hash(5, 20_000);
    let (b, _, _) = hash(5, 20_000);
    let (c, pc, _) = hash(6, 20_000);
    let (z, pz, _) = hash(5, 0);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_ne!(a, z);
    let part = |p: &[(&str, u64)], n: &str| p.iter().find(|(m, _)| *m == n).unwrap().1;
    for name in ["arena", "input.synapses", "input.rule", "critic", "rates"] {
        assert_ne!(part(&pa, name), part(&pz, name), "{name} did not move");
        assert_ne!(
            part(&pa, name),
            part(&pc, name),
            "{name} same for two seeds"
        );
    }
}

#[test]
fn metrics_have_fixed_names_and_follow_the_world() {
    let cfg = Config::default();
    let mut b = Buffers::new(&cfg);
    let mut net = Network::new(&cfg, b.storage()).unwrap();
    for _ in 0..2000 {
        net.step();
    }
    let mut names = Vec::new();
    let mut values = Vec::new();
    net.visit_metrics(&mut |n, v| {
        names.push(n);
        values.push(v);
    });
    assert_eq!(
        names,
        [
            "objective",
            "reward",
            "x",
            "y",
            "heading",
            "light_x",
            "light_y",
            "distance",
            "sensor_left",
            "sensor_right",
            "steering",
            "episodes"
        ]
    );
    let get = |n: &str| values[names.iter().position(|m| *m == n).unwrap()];
    let a = net.arena();
    assert_eq!(get("x"), a.x.to_num::<f32>());
    let (hx, hy) = (a.hx.to_num::<f32>(), a.hy.to_num::<f32>());
    let h = get("heading");
    assert!(
        (h.cos() - hx).abs() < 0.01 && (h.sin() - hy).abs() < 0.01,
        "{h} vs ({hx}, {hy})"
    );
    assert!((0.0..=cfg.arena).contains(&get("x")) && (0.0..=cfg.arena).contains(&get("y")));
    let mut sizes = Vec::new();
    net.visit_spikes(&mut |n, size, s| {
        assert!(s.iter().all(|&i| (i as usize) < size));
        sizes.push((n, size));
    });
    assert_eq!(
        sizes,
        [("sensors", 2 * cfg.cells), ("motor", 2 * cfg.motor)]
    );
    let mut count = 0;
    net.visit_weights(&mut |n, (lo, hi), it| {
        assert_eq!(n, "sensor->motor");
        // the bounds as stored (the scale's 15-bit mantissa: within 2^-14 relative)
        assert!(
            lo == 0.0 && (hi - cfg.weights.w_max).abs() < 1e-3,
            "{lo} {hi}"
        );
        for w in it {
            assert!((lo..=hi).contains(&w));
            count += 1;
        }
    });
    assert_eq!(count, 4 * cfg.cells * cfg.motor);
}

#[test]
fn bad_configurations_are_refused() {
    let ok = Config::default();
    let bad = [
        Config { cells: 0, ..ok },
        Config { arena: 0.0, ..ok },
        Config { radius: 0.6, ..ok },
        Config {
            sensor_angle_deg: 120.0,
            ..ok
        },
        Config { timeout: 0, ..ok },
        Config { w_init: 7.9, ..ok },
        Config { lr: f32::NAN, ..ok },
        Config { axle: -1.0, ..ok },
        Config {
            tau_eligibility_ms: 0.5,
            ..ok
        },
        Config {
            motor_noise_mv: -1.0,
            ..ok
        },
        Config { v_max: 2.0, ..ok },
        Config {
            target_hz: 2000.0,
            ..ok
        },
    ];
    for cfg in bad {
        let mut b = Buffers::new(&Config {
            cells: cfg.cells.max(1),
            ..cfg
        });
        assert!(Network::new(&cfg, b.storage()).is_err(), "{cfg:?}");
    }
    let mut b = Buffers::new(&Config { motor: 8, ..ok });
    assert!(Network::new(&ok, b.storage()).is_err());
}
