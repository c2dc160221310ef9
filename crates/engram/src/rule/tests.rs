//! Applier mechanics on tiny projections, against closed-form expectations.

use super::*;
use crate::num::Rng;
use crate::projection::{Csr, Dense, Incoming, Sparse};
use crate::rule::{Plastic, RuleStorage, Signals};

const DT: f32 = 0.1;

fn stdp_fmt() -> WeightFormat {
    WeightFormat::new(16, 0.0, 1.0)
}

/// One synapse, all-to-all pair STDP; returns the weight change (weight units) for a pre spike at
/// step `t_pre` and a post spike at step `t_post`.
fn pair_dw(t_pre: u32, t_post: u32, w0: f32) -> f32 {
    let fmt = stdp_fmt();
    let scale = fmt.scale().unwrap();
    let rule = Rule::new::<i16>(
        &RuleParams::pair_stdp(0.01, 0.012, 20.0, 20.0, Pairing::AllToAll),
        &fmt,
        scale,
        DT,
    )
    .unwrap();
    let mut w = [scale.raw_from_f32(w0) as i16];
    let mut acc = [0i32];
    let proj = Dense::new(1, 1, &mut w, &mut acc, scale).unwrap();
    let (mut xt, mut yt) = ([Fix::ZERO; 1], [Fix::ZERO; 1]);
    let st = RuleStorage {
        pre_traces: &mut xt,
        post_traces: &mut yt,
        eligibility: &mut [],
        theta: &mut [],
    };
    let mut p = Plastic::new(proj, rule, st, 1).unwrap();
    let mut target = [Fix::ZERO];
    for t in 0..=t_pre.max(t_post) + 1 {
        let pre: &[u16] = if t == t_pre { &[0] } else { &[] };
        let post: &[u16] = if t == t_post { &[0] } else { &[] };
        p.propagate(pre, &mut target, &Signals::NONE);
        p.learn(pre, post, &Signals::NONE);
    }
    scale.to_f32(p.proj.weights()[0] as i32) - scale.to_f32(scale.raw_from_f32(w0))
}

#[test]
fn pair_stdp_window_matches_the_exponentials() {
    for d in [1u32, 50, 100, 200, 400] {
        let dt_ms = d as f32 * DT;
        let ltp = pair_dw(10, 10 + d, 0.5);
        let ltd = pair_dw(10 + d, 10, 0.5);
        let want_ltp = 0.01 * (-dt_ms / 20.0).exp();
        let want_ltd = -0.012 * (-dt_ms / 20.0).exp();
        // one weight step (1/32767) of rounding plus trace rounding
        assert!(
            (ltp - want_ltp).abs() < 1e-4,
            "Δt={dt_ms}: LTP {ltp} vs {want_ltp}"
        );
        assert!(
            (ltd - want_ltd).abs() < 1e-4,
            "Δt={dt_ms}: LTD {ltd} vs {want_ltd}"
        );
    }
    // coincident spikes count as pre-before-post (pre trace is bumped before on_post terms)
    assert!(pair_dw(10, 10, 0.5) > 0.009);
}

/// A post spike long ago leaves no trace: later pre spikes do not depress. (Regression: the trace
/// decay rounded to nearest, so a post trace below 0.5 LSB/(1 − e^{-dt/τ}) = 100 LSB never decayed and
/// every later pre spike depressed by `A₋ · 1.5e-3`, a drift that silenced Song et al.'s neuron.)
#[test]
fn stale_traces_decay_to_zero_and_stop_acting() {
    let fmt = stdp_fmt();
    let scale = fmt.scale().unwrap();
    // A₋ = 0.5: a 100-LSB residue (1.5e-3) would be 0.75e-3 of the range, 25 steps, per pre spike.
    let rule = Rule::new::<i16>(
        &RuleParams::pair_stdp(0.5, 0.5, 20.0, 20.0, Pairing::AllToAll),
        &fmt,
        scale,
        DT,
    )
    .unwrap();
    let mut w = [scale.raw_from_f32(0.5) as i16];
    let mut acc = [0i32];
    let proj = Dense::new(1, 1, &mut w, &mut acc, scale).unwrap();
    let (mut xt, mut yt) = ([Fix::ZERO; 1], [Fix::ZERO; 1]);
    let st = RuleStorage {
        pre_traces: &mut xt,
        post_traces: &mut yt,
        eligibility: &mut [],
        theta: &mut [],
    };
    let mut p = Plastic::new(proj, rule, st, 1).unwrap();
    let mut target = [Fix::ZERO];
    // One post spike, then 10 s of silence (20 τ: e^-20 of a trace is far below one LSB).
    p.learn(&[], &[0], &Signals::NONE);
    for _ in 0..100_000 {
        p.propagate(&[], &mut target, &Signals::NONE);
        p.learn(&[], &[], &Signals::NONE);
    }
    assert_eq!(p.post_trace(0), &[Fix::ZERO]);
    let before = p.proj.weights()[0];
    for _ in 0..100 {
        p.propagate(&[0], &mut target, &Signals::NONE);
        p.learn(&[0], &[], &Signals::NONE);
    }
    assert_eq!(
        p.proj.weights()[0],
        before,
        "pre spikes after silence must not depress"
    );
}

#[test]
fn hard_bounds_clamp_and_soft_bounds_scale() {
    assert!(pair_dw(10, 11, 1.0).abs() < 1e-9, "no LTP above w_max");
    assert!(pair_dw(11, 10, 0.0).abs() < 1e-9, "no LTD below w_min");
    // soft bounds: LTP ∝ (w_max − w)
    let fmt = WeightFormat {
        soft: true,
        ..stdp_fmt()
    };
    let scale = fmt.scale().unwrap();
    let rule = Rule::new::<i16>(
        &RuleParams::pair_stdp(0.01, 0.01, 20.0, 20.0, Pairing::AllToAll),
        &fmt,
        scale,
        DT,
    )
    .unwrap();
    for w0 in [0.25f32, 0.75] {
        let mut w = [scale.raw_from_f32(w0) as i16];
        let mut acc = [0i32];
        let proj = Dense::new(1, 1, &mut w, &mut acc, scale).unwrap();
        let (mut xt, mut yt) = ([Fix::ZERO; 1], [Fix::ZERO; 1]);
        let st = RuleStorage {
            pre_traces: &mut xt,
            post_traces: &mut yt,
            eligibility: &mut [],
            theta: &mut [],
        };
        let mut p = Plastic::new(proj, rule.clone(), st, 1).unwrap();
        let mut tg = [Fix::ZERO];
        p.propagate(&[0], &mut tg, &Signals::NONE);
        p.learn(&[0], &[0], &Signals::NONE);
        let dw = scale.to_f32(p.proj.weights()[0] as i32) - w0;
        assert!((dw - 0.01 * (1.0 - w0)).abs() < 1e-4, "w0={w0}: {dw}");
    }
}

#[test]
fn stochastic_rounding_keeps_sub_step_updates() {
    // 8-bit weights: A+ = 0.3 steps per pairing. Nearest rounding loses it; stochastic keeps it.
    for (rounding, expect_growth) in [(Rounding::Nearest, false), (Rounding::Stochastic, true)] {
        let fmt = WeightFormat {
            rounding,
            ..WeightFormat::new(8, 0.0, 1.0)
        };
        let scale = fmt.scale().unwrap();
        let a = 0.3 * scale.lsb();
        let rule = Rule::new::<i8>(
            &RuleParams::pair_stdp(a, 0.0, 20.0, 20.0, Pairing::Nearest),
            &fmt,
            scale,
            DT,
        )
        .unwrap();
        let mut w = [10i8];
        let mut acc = [0i32];
        let proj = Dense::new(1, 1, &mut w, &mut acc, scale).unwrap();
        let (mut xt, mut yt) = ([Fix::ZERO; 1], [Fix::ZERO; 1]);
        let st = RuleStorage {
            pre_traces: &mut xt,
            post_traces: &mut yt,
            eligibility: &mut [],
            theta: &mut [],
        };
        let mut p = Plastic::new(proj, rule, st, 3).unwrap();
        let mut tg = [Fix::ZERO];
        for _ in 0..200 {
            p.propagate(&[0], &mut tg, &Signals::NONE);
            p.learn(&[0], &[0], &Signals::NONE);
        }
        let grown = p.proj.weights()[0] as i32 - 10;
        if expect_growth {
            assert!(
                (40..=80).contains(&grown),
                "stochastic: +{grown} steps, expected ≈60"
            );
        } else {
            assert_eq!(grown, 0);
        }
    }
}

#[test]
fn sparse_with_incoming_index_equals_dense() {
    // 3 pre, 4 post, full connectivity in CSR: the same spike history gives the same weights.
    let fmt = stdp_fmt();
    let scale = fmt.scale().unwrap();
    let params = RuleParams::triplet(
        TripletParams::visual_cortex_all_to_all().scaled(10.0),
        Pairing::AllToAll,
    );
    let rule = Rule::new::<i16>(&params, &fmt, scale, DT).unwrap();
    let row_end = [4u32, 8, 12];
    let cols = [0u16, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3];
    let w0: [i16; 12] = core::array::from_fn(|k| 8000 + 1000 * k as i16);
    let (mut wd, mut ws) = (w0, w0);
    let (mut ad, mut asp) = ([0i32; 4], [0i32; 4]);
    let dense = Dense::new(3, 4, &mut wd, &mut ad, scale).unwrap();
    let csr = Csr::new(4, &row_end, &cols).unwrap();
    let (mut ce, mut pr, mut po) = ([0u32; 4], [0u16; 12], [0u32; 12]);
    let inc = Incoming::build(&csr, &mut ce, &mut pr, &mut po).unwrap();
    let sparse = Sparse::new(csr, &mut ws, &mut asp, scale)
        .unwrap()
        .with_incoming(inc)
        .unwrap();
    let (mut x1, mut y1, mut x2, mut y2) = (
        [Fix::ZERO; 6],
        [Fix::ZERO; 8],
        [Fix::ZERO; 6],
        [Fix::ZERO; 8],
    );
    let mut pd = Plastic::new(
        dense,
        rule.clone(),
        RuleStorage {
            pre_traces: &mut x1,
            post_traces: &mut y1,
            eligibility: &mut [],
            theta: &mut [],
        },
        5,
    )
    .unwrap();
    let mut ps = Plastic::new(
        sparse,
        rule,
        RuleStorage {
            pre_traces: &mut x2,
            post_traces: &mut y2,
            eligibility: &mut [],
            theta: &mut [],
        },
        5,
    )
    .unwrap();
    let mut rng = Rng::new(9);
    let (mut t1, mut t2) = ([Fix::ZERO; 4], [Fix::ZERO; 4]);
    for _ in 0..3000 {
        let pre: heapless::Vec<u16, 3> = (0..3u16).filter(|_| rng.below(10) == 0).collect();
        let post: heapless::Vec<u16, 4> = (0..4u16).filter(|_| rng.below(12) == 0).collect();
        pd.propagate(&pre, &mut t1, &Signals::NONE);
        ps.propagate(&pre, &mut t2, &Signals::NONE);
        pd.learn(&pre, &post, &Signals::NONE);
        ps.learn(&pre, &post, &Signals::NONE);
        assert_eq!(t1, t2);
    }
    assert_eq!(pd.proj.weights(), ps.proj.weights());
    assert_ne!(
        pd.proj.weights(),
        &w0[..],
        "the rule must have changed the weights"
    );
}

#[test]
fn oja_tick_converges_to_unit_norm() {
    // Two inputs, x = (1, 0) always: Oja drives w → (1, 0).
    let fmt = WeightFormat::new(16, -2.0, 2.0);
    let scale = fmt.scale().unwrap();
    let rule = Rule::new::<i16>(&RuleParams::oja(0.01), &fmt, scale, 1.0).unwrap();
    let mut w = [
        scale.raw_from_f32(0.3) as i16,
        scale.raw_from_f32(0.4) as i16,
    ];
    let mut acc = [0i32];
    let proj = Dense::new(2, 1, &mut w, &mut acc, scale).unwrap();
    let st = RuleStorage {
        pre_traces: &mut [],
        post_traces: &mut [],
        eligibility: &mut [],
        theta: &mut [],
    };
    let mut p = Plastic::new(proj, rule, st, 1).unwrap();
    let x = [Fix::ONE, Fix::ZERO];
    for _ in 0..3000 {
        let mut y = [Fix::ZERO];
        p.proj.propagate_rates(&x, &mut y);
        let sig = Signals {
            pre_rate: &x,
            post_rate: &y,
            ..Signals::NONE
        };
        p.learn(&[], &[], &sig);
    }
    let w0 = scale.to_f32(p.proj.weights()[0] as i32);
    let w1 = scale.to_f32(p.proj.weights()[1] as i32);
    assert!(
        (w0 - 1.0).abs() < 0.01 && w1.abs() < 0.01,
        "w = ({w0}, {w1})"
    );
}

#[test]
fn reward_modulated_stdp_needs_the_modulator() {
    // A pre→post pairing fills the eligibility; the weight moves only when the modulator is on.
    let fmt = stdp_fmt();
    let scale = fmt.scale().unwrap();
    let stdp = RuleParams::pair_stdp(0.01, 0.0, 20.0, 20.0, Pairing::AllToAll);
    let rule = Rule::new::<i16>(
        &RuleParams::reward_modulated(stdp, 1000.0, 0.01, 10),
        &fmt,
        scale,
        1.0,
    )
    .unwrap();
    let mut w = [scale.raw_from_f32(0.5) as i16];
    let mut acc = [0i32];
    let proj = Dense::new(1, 1, &mut w, &mut acc, scale).unwrap();
    let (mut xt, mut yt, mut el) = ([Fix::ZERO], [Fix::ZERO], [Fix::ZERO]);
    let st = RuleStorage {
        pre_traces: &mut xt,
        post_traces: &mut yt,
        eligibility: &mut el,
        theta: &mut [],
    };
    let mut p = Plastic::new(proj, rule, st, 1).unwrap();
    let mut tg = [Fix::ZERO];
    p.propagate(&[0], &mut tg, &Signals::NONE);
    p.learn(&[0], &[0], &Signals::NONE);
    let w_after_pairing = p.proj.weights()[0];
    assert!(p.eligibility()[0] > Fix::ZERO);
    for _ in 0..500 {
        p.propagate(&[], &mut tg, &Signals::NONE);
        p.learn(&[], &[], &Signals::NONE);
    }
    assert_eq!(
        p.proj.weights()[0],
        w_after_pairing,
        "no modulator, no change"
    );
    let e = p.eligibility()[0].to_num::<f32>() * scale.lsb();
    assert!(
        (e - 0.01 * (-0.5f32).exp()).abs() < 2e-4,
        "eligibility decays with τ_e: {e}"
    );
    let sig = Signals {
        modulator: Fix::ONE,
        ..Signals::NONE
    };
    for _ in 0..500 {
        p.propagate(&[], &mut tg, &sig);
        p.learn(&[], &[], &sig);
    }
    assert!(
        p.proj.weights()[0] > w_after_pairing,
        "reward converts eligibility into weight"
    );
}

#[test]
fn configuration_errors_are_refused() {
    let fmt = stdp_fmt();
    let scale = fmt.scale().unwrap();
    let good = RuleParams::song2000(1.0);
    assert!(Rule::new::<i16>(&good, &fmt, scale, DT).is_ok());
    assert!(
        Rule::new::<i8>(&good, &fmt, scale, DT).is_err(),
        "16 bits do not fit i8"
    );
    assert!(Rule::new::<i16>(&good, &WeightFormat::new(3, 0.0, 1.0), scale, DT).is_err());
    assert!(Rule::new::<i16>(&good, &WeightFormat::new(16, 1.0, 0.0), scale, DT).is_err());
    assert!(
        Rule::new::<i16>(&good, &WeightFormat::new(16, 0.0, 2.0), scale, DT).is_err(),
        "bound beyond bits"
    );
    assert!(
        Rule::new::<i16>(&good, &fmt, scale, 25.0).is_err(),
        "dt ≥ tau"
    );
    let mut tiny = RuleParams::song2000(1.0);
    tiny.on_post[0].coef = 1e-12;
    assert!(
        Rule::new::<i16>(&tiny, &fmt, scale, DT).is_err(),
        "coefficient below resolution"
    );
    let mut missing = RuleParams::empty();
    let _ = missing
        .on_pre
        .push(TermParams::new(0.1, Pre::Trace(0), [Post::One, Post::One]));
    assert!(
        Rule::new::<i16>(&missing, &fmt, scale, DT).is_err(),
        "trace not configured"
    );
    let mut period0 = RuleParams::oja(0.01);
    period0.period = 0;
    assert!(Rule::new::<i16>(&period0, &fmt, scale, DT).is_err());
    // a sparse projection without an incoming index cannot run a rule with on_post terms
    let rule = Rule::new::<i16>(&good, &fmt, scale, DT).unwrap();
    let (row_end, cols) = ([1u32], [0u16]);
    let (mut w, mut acc) = ([0i16], [0i32]);
    let sp = Sparse::new(
        Csr::new(1, &row_end, &cols).unwrap(),
        &mut w,
        &mut acc,
        scale,
    )
    .unwrap();
    let (mut xt, mut yt) = ([Fix::ZERO], [Fix::ZERO]);
    let st = RuleStorage {
        pre_traces: &mut xt,
        post_traces: &mut yt,
        eligibility: &mut [],
        theta: &mut [],
    };
    assert!(Plastic::new(sp, rule, st, 1).is_err());
}
