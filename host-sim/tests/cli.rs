//! The `engram` command end to end: every experiment runs briefly and writes outputs that parse;
//! every kind of bad input gives one `error:` line and a non-zero exit before anything runs;
//! sharded sweeps merge into the unsharded sweep; runs are reproducible; a recorded run's state hash
//! is the `--hash` mode's.

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn engram() -> Command {
    Command::cargo_bin("engram").expect("the engram binary is built")
}

/// A fresh folder for one test's outputs.
fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.parent().unwrap()).unwrap();
    d
}

fn experiments() -> Vec<String> {
    let out = engram()
        .arg("list")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

/// A CSV file of ours: header and rows, every row as long as the header.
fn csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    for r in &rows {
        assert_eq!(r.len(), header.len(), "{}: row {r:?}", path.display());
    }
    (header, rows)
}

fn summary(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn hash_of(args: &[&str]) -> String {
    let out = engram()
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("hash ").map(String::from))
        .expect("a hash line")
}

#[test]
fn every_experiment_runs_and_its_outputs_parse() {
    let exps = experiments();
    assert!(exps.len() >= 11, "{exps:?}");
    for exp in &exps {
        let dir = scratch(&format!("run-{exp}"));
        engram()
            .args([
                "run",
                exp,
                "--steps",
                "40",
                "--seed",
                "5",
                "--report-every",
                "0.1",
                "--no-plots",
                "--out",
            ])
            .arg(&dir)
            .assert()
            .success();
        let (header, rows) = csv(&dir.join("metrics.csv"));
        assert_eq!(header[0], "t_ms");
        // One row at t = 0, then one per reporting interval (every step: 0.1 ms is at most one).
        assert_eq!(rows.len(), 41, "{exp}");
        for r in &rows[1..] {
            for (h, v) in header.iter().zip(r) {
                let x: f64 = v.parse().unwrap_or_else(|_| panic!("{exp}: {h} = `{v}`"));
                if h.starts_with("rate_") {
                    assert!(x >= 0.0, "{exp}: {h} = {x}");
                }
            }
        }
        let (sh, spikes) = csv(&dir.join("spikes.csv"));
        assert_eq!(sh, ["t_ms", "population", "neuron"]);
        for s in &spikes {
            let t: f64 = s[0].parse().unwrap();
            assert!(t > 0.0 && s[2].parse::<u32>().is_ok(), "{exp}: {s:?}");
        }
        let (wh, weights) = csv(&dir.join("weights.csv"));
        assert_eq!(wh, ["t_ms", "projection", "index", "weight"]);
        let s = summary(&dir);
        assert_eq!(s["experiment"], exp.as_str());
        assert_eq!(s["steps"], 40);
        assert_eq!(s["seed"], 5);
        assert_eq!(s["interrupted"], false);
        assert_eq!(s["config"]["seed"], 5);
        assert!(s["wall_s"].as_f64().unwrap() > 0.0);
        assert!(s["parts"]["learning rule"].is_string());
        // Plastic experiments report weights, static ones none.
        let plastic = s["weights"].as_object().unwrap().len();
        assert_eq!(plastic > 0, !weights.is_empty(), "{exp}");
        // Recording does not change the simulation: the --hash mode's state hash.
        let h = hash_of(&["run", exp, "--hash", "--steps", "40", "--seed", "5"]);
        assert_eq!(s["state_hash"], h.as_str(), "{exp}");
    }
}

#[test]
fn plots_are_drawn_and_redrawn() {
    let dir = scratch("plots");
    engram()
        .args(["run", "pes", "--duration", "20", "--out"])
        .arg(&dir)
        .assert()
        .success();
    for stem in ["raster", "objective", "metrics", "weights-decoders"] {
        for ext in ["png", "svg"] {
            let f = dir.join(format!("{stem}.{ext}"));
            assert!(
                std::fs::metadata(&f)
                    .map(|m| m.len() > 1000)
                    .unwrap_or(false),
                "{}",
                f.display()
            );
            std::fs::remove_file(&f).unwrap();
        }
    }
    engram().arg("plot").arg(&dir).assert().success();
    assert!(dir.join("raster.png").exists() && dir.join("weights-decoders.svg").exists());
}

#[test]
fn the_same_seed_gives_byte_identical_metrics() {
    let run = |name: &str, seed: &str| {
        let dir = scratch(name);
        engram()
            .args([
                "run",
                "homeostasis-scaling",
                "--duration",
                "300",
                "--no-plots",
                "--seed",
                seed,
            ])
            .args(["--report-every", "10", "--out"])
            .arg(&dir)
            .assert()
            .success();
        std::fs::read(dir.join("metrics.csv")).unwrap()
    };
    let a = run("seed-a", "9");
    let b = run("seed-b", "9");
    let c = run("seed-c", "10");
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(String::from_utf8(a).unwrap().lines().count(), 1 + 1 + 30);
}

#[test]
fn config_file_then_sets_then_seed() {
    let dir = scratch("layers");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("c.toml");
    std::fs::write(&file, "input_hz = 30.0\nseed = 4\n[weights]\nbits = 8\n").unwrap();
    let out = dir.join("out");
    engram()
        .args(["run", "song2000", "--steps", "10", "--no-plots", "--config"])
        .arg(&file)
        .args([
            "--set",
            "weights.rounding=nearest",
            "--set",
            "input_hz=25",
            "--seed",
            "6",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let c = &summary(&out)["config"];
    assert_eq!(c["input_hz"], 25.0);
    assert_eq!(c["weights"]["bits"], 8);
    assert_eq!(c["weights"]["rounding"], "nearest");
    assert_eq!(
        c["weights"]["w_max"], 0.015,
        "untouched nested values keep their defaults"
    );
    assert_eq!(c["seed"], 6);
    // config.toml repeats the run.
    let again = dir.join("again");
    engram()
        .args(["run", "song2000", "--steps", "10", "--no-plots", "--config"])
        .arg(out.join("config.toml"))
        .arg("--out")
        .arg(&again)
        .assert()
        .success();
    assert_eq!(summary(&again)["config"], *c);
    assert_eq!(summary(&again)["state_hash"], summary(&out)["state_hash"]);
}

/// Runs `args`, expects failure with exactly one `error:` line containing `needle`, and no
/// output folder.
fn refuses(args: &[&str], needle: &str) {
    let out_dir = scratch(&format!(
        "bad-{}",
        needle.replace(|c: char| !c.is_alphanumeric(), "")
    ));
    let a = engram()
        .args(args)
        .arg("--out")
        .arg(&out_dir)
        .assert()
        .failure();
    let o = a.get_output();
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: {err}");
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains(needle),
        "{args:?}: {err}"
    );
    assert!(
        o.stdout.is_empty(),
        "nothing ran: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(!out_dir.exists(), "{args:?} created {}", out_dir.display());
}

#[test]
fn bad_input_gives_one_error_line_before_anything_runs() {
    refuses(
        &["run", "no-such-thing"],
        "unknown experiment `no-such-thing`",
    );
    refuses(
        &["run", "song2000", "--set", "g_maximum=1"],
        "unknown field `g_maximum`",
    );
    refuses(
        &["run", "song2000", "--set", "g_maximum=1"],
        "expected one of `n_exc`",
    );
    refuses(
        &["run", "song2000", "--set", "weights.bitz=8"],
        "unknown field `bitz`",
    );
    refuses(
        &["run", "song2000", "--set", "weights.bits=2"],
        "weight bits",
    );
    refuses(&["run", "pes", "--set", "tau_syn_ms=-1"], "tau");
    refuses(
        &["run", "song2000", "--set", "n_exc=many"],
        "expected usize",
    );
    refuses(
        &["run", "song2000", "--set", "weights.rounding=sideways"],
        "unknown variant `sideways`",
    );
    refuses(
        &["sweep", "song2000", "--grid", "weights.bits=8,99"],
        "weight bits",
    );
    refuses(
        &[
            "sweep",
            "song2000",
            "--grid",
            "weights.bits=8",
            "--shard",
            "2/2",
        ],
        "--shard",
    );
    let dir = scratch("bad-toml");
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.toml");
    std::fs::write(&f, "seed = [1,\n").unwrap();
    refuses(
        &["run", "bcm", "--config", f.to_str().unwrap()],
        "malformed TOML",
    );
    // An output folder that cannot be created (its parent is a file).
    let blocker = dir.join("file");
    std::fs::write(&blocker, "x").unwrap();
    let o = engram()
        .args(["run", "bcm", "--steps", "5", "--out"])
        .arg(blocker.join("out"))
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&o.get_output().stderr).to_string();
    assert!(
        err.starts_with("error: cannot write the output folder") && err.lines().count() == 1,
        "{err}"
    );
}

fn sweep_csv(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("sweep.csv")).unwrap()
}

#[test]
fn shards_merge_into_the_unsharded_sweep() {
    let grid = [
        "--grid",
        "weights.bits=8,12,16",
        "--grid",
        "weights.rounding=nearest,stochastic",
        "--steps",
        "300",
    ];
    let all = scratch("sweep-all");
    engram()
        .args(["sweep", "song2000"])
        .args(grid)
        .args(["--jobs", "2", "--out"])
        .arg(&all)
        .assert()
        .success();
    let text = sweep_csv(&all);
    let (header, rows) = csv(&all.join("sweep.csv"));
    assert_eq!(&header[..3], ["point", "weights.bits", "weights.rounding"]);
    assert_eq!(rows.len(), 6);
    // Numbered with the first axis slowest.
    assert_eq!(rows[3][..3], ["3", "12", "stochastic"]);
    for i in 0..6 {
        let s = summary(&all.join(format!("point-{i:04}")));
        assert_eq!(s["config"]["weights"]["bits"], [8, 12, 16][i / 2]);
    }
    assert!(all.join("sweep.png").exists());

    let mut shards = vec![];
    for i in 0..4 {
        let d = scratch(&format!("sweep-shard{i}"));
        engram()
            .args(["sweep", "song2000"])
            .args(grid)
            .args(["--jobs", "1", "--shard", &format!("{i}/4"), "--out"])
            .arg(&d)
            .assert()
            .success();
        let (_, rows) = csv(&d.join("sweep.csv"));
        assert!(rows.iter().all(|r| r[0].parse::<usize>().unwrap() % 4 == i));
        shards.push(d);
    }
    let merged = scratch("sweep-merged");
    engram()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    assert_eq!(sweep_csv(&merged), text);
    for i in 0..6 {
        assert_eq!(
            std::fs::read(merged.join(format!("point-{i:04}/metrics.csv"))).unwrap(),
            std::fs::read(all.join(format!("point-{i:04}/metrics.csv"))).unwrap()
        );
    }
    // Final metrics differ between precisions: the grid really reached the model.
    let by_point: BTreeMap<_, _> = rows
        .iter()
        .map(|r| (r[0].clone(), r[3..].to_vec()))
        .collect();
    assert_ne!(by_point["0"], by_point["4"]);
}
