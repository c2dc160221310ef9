//! Bienenstock, Cooper & Munro (1982); Intrator & Cooper (1992): a rate neuron with the BCM rule and
//! the sliding threshold θ = ⟨y²⟩ becomes selective to one of K orthogonal, equiprobable patterns.
//!
//! K = 10 patterns of 10 inputs, each held 2 ms, τ_θ = 1 s, η = 2·10⁻⁵ per ms (see
//! `engram_lab::bcm` for why these), 300 000 steps of 1 ms. At the selective fixed point the winning
//! response is `y* = K = 10` and the others are 0, so `1 − mean/max = 1 − 1/K = 0.9` is the largest
//! possible selectivity.

use engram::num::Fix;
use engram_lab::bcm::{Buffers, Config, Learning, Network};

const STEPS: u64 = 300_000;

struct Outcome {
    responses: Vec<f64>,
    winner: usize,
    /// 1 − mean/max (Bienenstock et al. 1982).
    selectivity: f64,
    /// Second-largest response over the largest.
    runner_up: f64,
    theta: f64,
    mean_y2: f64,
    /// Mean of y² over the last 50 000 steps.
    late_y2: f64,
    /// Mean of θ over the last 50 000 steps.
    late_theta: f64,
    /// Fraction of 1000-step samples in the last 50 000 steps with θ within ±20 % of ⟨y²⟩.
    tracking: f64,
    /// First step from which the selectivity stays above 0.8 (sampled every 1000 steps).
    selective_at: Option<u64>,
    /// Intrator & Cooper's objective at 1000-step samples.
    objective: Vec<f32>,
}

fn responses(net: &Network<'_>, k: usize) -> Vec<f64> {
    let mut r = vec![Fix::ZERO; k];
    net.responses(&mut r);
    r.iter().map(|x| x.to_num::<f64>()).collect()
}

fn selectivity(r: &[f64]) -> (f64, f64, usize) {
    let (winner, &max) = r
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap();
    let mean = r.iter().sum::<f64>() / r.len() as f64;
    let second = r
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != winner)
        .map(|(_, &x)| x)
        .fold(0.0, f64::max);
    (1.0 - mean / max, second / max, winner)
}

fn run(cfg: &Config) -> Outcome {
    let mut buf = Buffers::new(cfg);
    let mut net = Network::new(cfg, buf.storage()).unwrap();
    let (mut late_y2, mut late_theta, mut selective_at) = (0.0, 0.0, None);
    let mut tracking = 0.0;
    let mut objective = vec![net.objective()];
    let late = 50_000u64;
    for _ in 0..STEPS {
        net.step();
        if net.t > STEPS - late {
            let y = net.y.to_num::<f64>();
            late_y2 += y * y / late as f64;
            late_theta += net.theta().to_num::<f64>() / late as f64;
        }
        if net.t.is_multiple_of(1000) {
            let r = responses(&net, cfg.patterns);
            let (s, _, _) = selectivity(&r);
            match (s > 0.8, selective_at) {
                (true, None) => selective_at = Some(net.t),
                (false, Some(_)) => selective_at = None,
                _ => {}
            }
            objective.push(net.objective());
            if net.t > STEPS - late {
                let (th, m) = (net.theta().to_num::<f64>(), net.mean_y2().to_num::<f64>());
                if (th - m).abs() <= 0.2 * m {
                    tracking += 1000.0 / late as f64;
                }
            }
            if net.t.is_multiple_of(25_000) {
                let rs: Vec<String> = r.iter().map(|x| format!("{x:.2}")).collect();
                println!(
                    "seed {} t={:>6}: sel {s:.3} θ {:.2} ⟨y²⟩ {:.2} R {:.3} responses [{}]",
                    cfg.seed,
                    net.t,
                    net.theta().to_num::<f64>(),
                    net.mean_y2().to_num::<f64>(),
                    net.objective(),
                    rs.join(", ")
                );
            }
        }
    }
    let r = responses(&net, cfg.patterns);
    let (selectivity, runner_up, winner) = selectivity(&r);
    Outcome {
        responses: r,
        winner,
        selectivity,
        runner_up,
        theta: net.theta().to_num(),
        mean_y2: net.mean_y2().to_num(),
        late_y2,
        late_theta,
        tracking,
        selective_at,
        objective,
    }
}

#[test]
fn bcm_neuron_becomes_selective_to_one_pattern() {
    let mut winners = Vec::new();
    for seed in [1u64, 2, 3] {
        let cfg = Config {
            seed,
            ..Config::default()
        };
        let o = run(&cfg);
        let k = cfg.patterns as f64;
        println!(
            "seed {seed}: winner {} (response {:.3}), selectivity {:.3}, runner-up/max {:.4}, \
             selective from step {:?}; θ {:.3}, running ⟨y²⟩ {:.3}, last-50k mean θ {:.3} vs y² {:.3}, \
             θ within 20 % of ⟨y²⟩ {:.0} % of the time; R {:.3} → {:.3}",
            o.winner,
            o.responses[o.winner],
            o.selectivity,
            o.runner_up,
            o.selective_at,
            o.theta,
            o.mean_y2,
            o.late_theta,
            o.late_y2,
            100.0 * o.tracking,
            o.objective[0],
            o.objective.last().unwrap()
        );
        // Selective: one strong response, the others weak.
        assert!(
            o.selectivity > 0.8,
            "seed {seed}: selectivity {}",
            o.selectivity
        );
        assert!(
            o.runner_up < 0.1,
            "seed {seed}: runner-up/max {}",
            o.runner_up
        );
        // … at the published fixed point y* = θ = K.
        let y_star = o.responses[o.winner];
        assert!((y_star - k).abs() < 0.15 * k, "seed {seed}: y* = {y_star}");
        // θ tracks ⟨y²⟩.
        let rel = |a: f64, b: f64| (a - b).abs() / b;
        assert!(
            rel(o.theta, o.mean_y2) < 0.2,
            "seed {seed}: θ {} vs ⟨y²⟩ {}",
            o.theta,
            o.mean_y2
        );
        assert!(
            o.tracking >= 0.8,
            "seed {seed}: θ tracks ⟨y²⟩ {} of the time",
            o.tracking
        );
        assert!(
            rel(o.late_theta, o.late_y2) < 0.05,
            "seed {seed}: time-averaged θ vs y²"
        );
        // The objective BCM ascends has risen.
        let r0 = o.objective[0];
        let r1 = *o.objective.last().unwrap();
        assert!(r1 > 10.0 * r0.max(0.01), "seed {seed}: R {r0} → {r1}");
        // … to its value at the selective fixed point, K²/12.
        let r_star = (k * k / 12.0) as f32;
        assert!(
            (r1 - r_star).abs() < 0.1 * r_star,
            "seed {seed}: R {r1} vs {r_star}"
        );
        winners.push(o.winner);
    }
    println!("winners {winners:?}");
    winners.sort();
    winners.dedup();
    assert!(
        winners.len() >= 2,
        "the winning pattern must depend on the seed"
    );
}

#[test]
fn hebbian_control_is_not_selective() {
    let cfg = Config {
        learning: Learning::Hebbian,
        ..Config::default()
    };
    let o = run(&cfg);
    println!(
        "Hebbian control: selectivity {:.3}, responses {:?}",
        o.selectivity, o.responses
    );
    assert!(o.selectivity < 0.3, "Hebbian selectivity {}", o.selectivity);
}
