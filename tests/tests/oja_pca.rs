//! Oja (1982): a linear neuron with Oja's rule converges to the first principal component of its
//! input, with unit norm, ascending the output variance on the unit sphere.
//!
//! 10-dimensional Gaussian input with eigenvalues 4, 2, 1.6, …, 0.3 in a random eigenbasis (see
//! `engram_lab::oja_pca`); `η = 2⁻¹¹` per ms, 40 000 steps (40 s of 1 ms steps). The principal
//! component `v₁` is computed here independently, by power iteration in `f64` on the covariance.

use engram::num::fix_to_f32;
use engram_lab::oja_pca::{Buffers, Config, DIM, Learning, Network};

const STEPS: u64 = 40_000;

/// The leading eigenvector of `c` (unit norm) and its eigenvalue, by power iteration.
fn principal(c: &[[f64; DIM]; DIM]) -> ([f64; DIM], f64) {
    let mut v = [1.0f64; DIM];
    let mut lambda = 0.0;
    for _ in 0..2000 {
        let mut u = [0.0f64; DIM];
        for (ui, row) in u.iter_mut().zip(c) {
            *ui = row.iter().zip(&v).map(|(a, b)| a * b).sum();
        }
        lambda = u.iter().map(|x| x * x).sum::<f64>().sqrt();
        for (vi, ui) in v.iter_mut().zip(u) {
            *vi = ui / lambda;
        }
    }
    (v, lambda)
}

fn norm(w: &[f32; DIM]) -> f64 {
    w.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt()
}

fn cosine(w: &[f32; DIM], v: &[f64; DIM]) -> f64 {
    w.iter().zip(v).map(|(&a, b)| a as f64 * b).sum::<f64>() / norm(w)
}

/// `wᵀCw / |w|²`: the variance of `y` on the unit sphere in direction `w`.
fn rayleigh(w: &[f32; DIM], c: &[[f64; DIM]; DIM]) -> f64 {
    let mut q = 0.0;
    for i in 0..DIM {
        for j in 0..DIM {
            q += w[i] as f64 * c[i][j] * w[j] as f64;
        }
    }
    q / norm(w).powi(2)
}

struct Run {
    /// (step, |cos(w, v₁)|, |w|, Rayleigh quotient, running E[y²]) every 2000 steps.
    samples: Vec<(u64, f64, f64, f64, f64)>,
    /// Mean of y² over the first 500 steps.
    early_y2: f64,
    /// Mean of y² over the last quarter.
    late_y2: f64,
    /// First step from which |cos| stays ≥ 0.99.
    converged_at: Option<u64>,
}

fn run(cfg: &Config) -> Run {
    let c = cfg.covariance();
    let (v1, _) = principal(&c);
    let mut buf = Buffers::new();
    let mut net = Network::new(cfg, buf.storage()).unwrap();
    let mut samples = Vec::new();
    let (mut early_y2, mut late_y2, mut converged_at) = (0.0, 0.0, None);
    for _ in 0..STEPS {
        net.step();
        let w = net.weights();
        let cos = cosine(&w, &v1).abs();
        match (cos >= 0.99, converged_at) {
            (true, None) => converged_at = Some(net.t),
            (false, Some(_)) => converged_at = None,
            _ => {}
        }
        let y = fix_to_f32(net.y) as f64;
        if net.t <= 500 {
            early_y2 += y * y / 500.0;
        }
        if net.t > STEPS * 3 / 4 {
            late_y2 += y * y / (STEPS / 4) as f64;
        }
        if net.t.is_multiple_of(2000) || [1, 250, 500, 1000].contains(&net.t) {
            let var = fix_to_f32(net.variance()) as f64;
            samples.push((net.t, cos, norm(&w), rayleigh(&w, &c), var));
        }
    }
    Run {
        samples,
        early_y2,
        late_y2,
        converged_at,
    }
}

#[test]
fn oja_finds_the_first_principal_component() {
    let cfg = Config::default();
    let (_, lambda1) = principal(&cfg.covariance());
    assert!(
        (lambda1 - 4.0).abs() < 1e-9,
        "power iteration: λ₁ = {lambda1}"
    );
    for seed in [1u64, 2] {
        let cfg = Config { seed, ..cfg };
        let r = run(&cfg);
        for s in &r.samples {
            println!(
                "seed {seed} t={:>5}: |cos|={:.4} |w|={:.4} wᵀCw/|w|²={:.3} E[y²]≈{:.3}",
                s.0, s.1, s.2, s.3, s.4
            );
        }
        let (_, cos0, norm0, rq0, _) = r.samples[0];
        let &(_, cos, n, rq, var) = r.samples.last().unwrap();
        println!(
            "seed {seed}: start |cos| {cos0:.3}, |w| {norm0:.3}; converged (|cos| ≥ 0.99 from then on) \
             at step {:?}; final |cos| {cos:.4}, |w| {n:.4}, late E[y²] {:.3} (λ₁ = {lambda1})",
            r.converged_at, r.late_y2
        );
        // Published result: w → ±v₁ with |w| = 1.
        assert!(cos0 < 0.9, "the start must not already be the answer");
        assert!(cos >= 0.99, "seed {seed}: |cos(w, v₁)| = {cos}");
        assert!((n - 1.0).abs() <= 0.02, "seed {seed}: |w| = {n}");
        assert!(
            r.converged_at.is_some_and(|t| t < STEPS / 2),
            "seed {seed}: converged at {:?}",
            r.converged_at
        );
        // The objective: variance on the unit sphere rises from the start to λ₁ …
        assert!(rq0 < 0.6 * lambda1, "seed {seed}: start wᵀCw/|w|² = {rq0}");
        assert!(rq > 0.98 * lambda1, "seed {seed}: final wᵀCw/|w|² = {rq}");
        // rising step by step through the first principal time constants (1/(η(λ₁ − λ₂)) = 1024 steps)
        let rising: Vec<f64> = r.samples[..5].iter().map(|s| s.3).collect();
        assert!(
            rising.windows(2).all(|p| p[1] > p[0]),
            "seed {seed}: wᵀCw/|w|² not increasing: {rising:?}"
        );
        // … and the output variance E[y²] the neuron produces rises to λ₁ (it is λ₁·|w|² at v₁).
        println!(
            "seed {seed}: E[y²] first 500 steps {:.3}, last quarter {:.3}; running mean {var:.3}",
            r.early_y2, r.late_y2
        );
        assert!(r.early_y2 < 0.5 * lambda1, "seed {seed}: {}", r.early_y2);
        assert!(
            (r.late_y2 - lambda1).abs() < 0.1 * lambda1,
            "seed {seed}: late E[y²] {}",
            r.late_y2
        );
        assert!(
            (var - lambda1).abs() < 0.15 * lambda1,
            "running E[y²] {var}"
        );
    }
}

#[test]
fn plain_hebbian_control_does_not_normalise() {
    // The same η without Oja's −y²w term: w grows until the bounds (|w_i| ≤ 2) clamp it.
    let cfg = Config {
        learning: Learning::Hebbian,
        ..Config::default()
    };
    let r = run(&cfg);
    let &(_, cos, n, _, _) = r.samples.last().unwrap();
    println!("Hebbian control: final |cos| {cos:.3}, |w| {n:.3}");
    assert!(n > 2.0, "Hebbian |w| = {n} should run away from 1");
}
