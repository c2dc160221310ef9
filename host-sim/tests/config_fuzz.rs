//! Bad configuration anywhere gets a clear error, never a crash: every experiment's default
//! configuration with one value replaced by something hostile (a wrong type, zero, a negative, NaN,
//! ±∞, a huge number), built as `engram run` builds it. The build must return — `Ok` if the
//! experiment accepts the value, an `Error` if not — and never panic. A value it accepts must also
//! step without panicking (a few steps).

use engram_sim::experiments::Experiment;
use proptest::prelude::*;

/// Every leaf of a table, as dotted paths.
fn leaves(t: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in t {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(inner) => leaves(inner, &path, out),
            _ => out.push(path),
        }
    }
}

fn set(t: &mut toml::Table, path: &str, value: toml::Value) {
    let mut keys = path.split('.').peekable();
    let mut cur = t;
    while let Some(k) = keys.next() {
        if keys.peek().is_none() {
            cur.insert(k.to_string(), value);
            return;
        }
        match cur.get_mut(k) {
            Some(toml::Value::Table(inner)) => cur = inner,
            _ => return,
        }
    }
}

fn hostile() -> impl Strategy<Value = toml::Value> {
    prop_oneof![
        prop::sample::select(vec![
            0i64,
            -1,
            1,
            2,
            3,
            7,
            255,
            256,
            65_535,
            65_536,
            1_000_000,
            i32::MAX as i64,
            i64::MAX,
            i64::MIN,
        ])
        .prop_map(toml::Value::Integer),
        prop::sample::select(vec![
            0.0f64,
            -0.0,
            -1.0,
            1e-30,
            1e-3,
            0.5,
            1.0,
            1e6,
            1e30,
            f64::MAX,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ])
        .prop_map(toml::Value::Float),
        any::<f64>().prop_map(toml::Value::Float),
        any::<bool>().prop_map(toml::Value::Boolean),
        "[a-z-]{0,12}".prop_map(toml::Value::String),
    ]
}

/// Whether a key names a count (neurons, inputs, …). The tests cap those at 2000: a count the
/// experiment accepts is allocated, and a huge one would exhaust the machine (an allocation failure
/// aborts, it does not panic). Every other value is unrestricted.
fn is_size(path: &str) -> bool {
    let last = path.rsplit('.').next().unwrap_or(path);
    [
        "n",
        "n_exc",
        "n_inh",
        "n_in",
        "n_out",
        "n_rec",
        "n_neurons",
        "inputs",
        "outputs",
        "cells",
        "motor",
        "group",
        "arms",
        "patterns",
        "fields",
        "afferents",
        "actor_neurons",
        "in_degree",
        "inputs_per_pattern",
        "pairings",
        "max_steps",
        "trials",
        "trial_ms",
        "hold",
    ]
    .contains(&last)
}

/// Every experiment × every configuration leaf × every hostile value, each build caught: the list
/// of values that crash a constructor (they must be refused with an error instead).
#[test]
fn every_leaf_with_every_hostile_value() {
    let values: Vec<toml::Value> = [
        0i64,
        -1,
        1,
        2,
        255,
        65_536,
        i32::MAX as i64,
        i64::MAX,
        i64::MIN,
    ]
    .into_iter()
    .map(toml::Value::Integer)
    .chain(
        [
            0.0f64,
            -1.0,
            1e-30,
            0.5,
            1e30,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ]
        .into_iter()
        .map(toml::Value::Float),
    )
    .chain([toml::Value::Boolean(true), toml::Value::String("x".into())])
    .collect();
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut crashes = vec![];
    let mut tried = 0;
    for exp in Experiment::ALL {
        let base = exp.default_config(Some(8));
        let mut paths = vec![];
        leaves(&base, "", &mut paths);
        for path in &paths {
            for v in &values {
                let v = match v {
                    toml::Value::Integer(n) if is_size(path) && !(0..=2_000).contains(n) => {
                        toml::Value::Integer(n.rem_euclid(2_001))
                    }
                    v => v.clone(),
                };
                let mut cfg = base.clone();
                set(&mut cfg, path, v.clone());
                tried += 1;
                if std::env::var_os("CONFIG_FUZZ_TRACE").is_some() {
                    eprintln!("try {} {path} = {v}", exp.name());
                }
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let _ = exp.build(&cfg, &mut |sim, _| {
                        for _ in 0..3 {
                            sim.step();
                        }
                        Ok(())
                    });
                }));
                if r.is_err() {
                    crashes.push(format!("{} {path} = {v}", exp.name()));
                }
            }
        }
    }
    std::panic::set_hook(prev);
    println!("{tried} configurations tried");
    assert!(
        crashes.is_empty(),
        "{} crash(es):\n  {}",
        crashes.len(),
        crashes.join("\n  ")
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn hostile_values_are_refused_or_run(exp_i in 0..Experiment::ALL.len(), leaf_i in any::<prop::sample::Index>(), value in hostile()) {
        let exp = Experiment::ALL[exp_i];
        let mut cfg = exp.default_config(Some(8));
        let mut paths = vec![];
        leaves(&cfg, "", &mut paths);
        let path = leaf_i.get(&paths).clone();
        let value = match value {
            toml::Value::Integer(n) if is_size(&path) && !(0..=2_000).contains(&n) => toml::Value::Integer(n.rem_euclid(2_001)),
            v => v,
        };
        set(&mut cfg, &path, value.clone());
        let r = exp.build(&cfg, &mut |sim, _| {
            for _ in 0..3 {
                sim.step();
            }
            Ok(())
        });
        // Either outcome is fine; an error must say something.
        if let Err(e) = r {
            prop_assert!(!e.to_string().is_empty(), "{}: {path} = {value}: empty error", exp.name());
        }
    }
}
