//! `cargo xtask peers`: engram against Brian2 and NEST on the same three models, side by side.
//!
//! ```text
//! cargo xtask peers [--duration S] [--reps N] [--engram-only] [--portable]   # -> bench/peers/results.md
//! cargo xtask peers --quick                                     # CI smoke test: engram only, 0.1 s per model
//! ```
//!
//! 1. Builds the engram runner (`crates/engram-lab/benches/peers.rs`, bench profile) with
//!    `-C target-cpu=native` in `target/peers/native`, because Brian2 compiles its C++ with
//!    `-march=native` (its default `codegen.cpp.extra_compile_args_gcc`): both use the machine's
//!    vector instructions. `--portable` (and `--quick`) build for the default target instead.
//! 2. Unless `--quick`/`--engram-only`: creates two Python virtual environments under
//!    `target/peers/` (`python3 -m venv`; override the interpreter with `PYTHON`) and pip-installs
//!    the pinned `bench/peers/requirements-brian2.txt` and `requirements-nest.txt` into them. They are
//!    separate because NEST 3.10 pulls numpy ≥ 2.4, which Brian2 2.9 cannot import. A peer that
//!    cannot be installed is reported as such and the others still run.
//! 3. Runs, for each repetition, each model with each simulator in turn — engram, Brian2
//!    `cpp_standalone`, Brian2 runtime, NEST (one thread) — so repetitions interleave (A B C D A B C D)
//!    and slow drifts of a shared machine hit every simulator alike. Each run is a fresh process that
//!    prints one JSON object (`bench/peers/*.py`, the engram runner).
//! 4. Writes medians over the repetitions to `bench/peers/results.md` (and prints it): build and run
//!    time, synaptic events/s and plastic updates/s over the run time, peak resident memory, the
//!    speed ratio peer/engram, the mean rate of every population and whether it is within 10 % of
//!    engram's (the check that the simulators did the same work).
//!
//! Models (dt = 0.1 ms): Brette et al. (2007) CUBA and COBA (4000 LIF, 2 % connectivity;
//! `engram_lab::brette2007`) and Song 2000 scaled (1000 Poisson inputs → 100 LIF, pair STDP on
//! 100 000 synapses; `engram_lab::stdp_scaled`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const MODELS: [&str; 3] = ["cuba", "coba", "stdp"];

/// A simulator configuration the harness runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Sim {
    Engram,
    Brian2Standalone,
    Brian2Runtime,
    Nest,
}

impl Sim {
    fn label(self) -> &'static str {
        match self {
            Sim::Engram => "engram",
            Sim::Brian2Standalone => "Brian2 cpp_standalone",
            Sim::Brian2Runtime => "Brian2 runtime",
            Sim::Nest => "NEST (1 thread)",
        }
    }
}

/// One run's output (the JSON object every runner prints).
#[derive(Debug, Clone, Default)]
struct Run {
    build_s: f64,
    run_s: f64,
    rates: BTreeMap<String, f64>,
    synaptic_events: f64,
    plastic_updates: f64,
    peak_rss_kib: f64,
}

struct Options {
    duration_s: f64,
    reps: usize,
    peers: bool,
    quick: bool,
    native: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        duration_s: 10.0,
        reps: 3,
        peers: true,
        quick: false,
        native: true,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| -> Result<f64, String> {
            it.next()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| *v > 0.0)
                .ok_or(format!("{name} needs a positive number"))
        };
        match a.as_str() {
            "--duration" => o.duration_s = value("--duration")?,
            "--reps" => o.reps = value("--reps")? as usize,
            "--engram-only" => o.peers = false,
            "--portable" => o.native = false,
            "--quick" => {
                o.quick = true;
                o.peers = false;
                o.native = false;
                o.duration_s = 0.1;
                o.reps = 1;
            }
            other => return Err(format!("unknown option `{other}` (see xtask/src/peers.rs)")),
        }
    }
    Ok(o)
}

/// The entry point: `args` are the words after `peers`.
pub fn peers(root: &Path, args: &[String]) -> Result<(), String> {
    let opt = parse(args)?;
    let engram = build_engram(root, opt.native)?;
    let mut sims = vec![(Sim::Engram, Ok(()))];
    let mut venvs = BTreeMap::new();
    if opt.peers {
        for (name, req) in [
            ("brian2", "requirements-brian2.txt"),
            ("nest", "requirements-nest.txt"),
        ] {
            let status = venv(root, name, req).map(|py| {
                venvs.insert(name, py);
            });
            if let Err(e) = &status {
                eprintln!("peers: {name} is not available, continuing without it: {e}");
            }
            let kinds: &[Sim] = if name == "brian2" {
                &[Sim::Brian2Standalone, Sim::Brian2Runtime]
            } else {
                &[Sim::Nest]
            };
            for &s in kinds {
                sims.push((s, status.clone()));
            }
        }
    }
    let scripts = root.join("bench/peers");
    let build_root = root.join("target/peers/brian2-build");
    let mut runs: BTreeMap<(&str, Sim), Vec<Run>> = BTreeMap::new();
    let mut failures: BTreeMap<(&str, Sim), String> = BTreeMap::new();
    let dur = format!("{}", opt.duration_s);
    for rep in 0..opt.reps {
        for model in MODELS {
            for (sim, ok) in &sims {
                if ok.is_err() || failures.contains_key(&(model, *sim)) {
                    continue;
                }
                let mut cmd = match sim {
                    Sim::Engram => {
                        let mut c = Command::new(&engram);
                        c.args([model, &dur]);
                        c
                    }
                    Sim::Brian2Standalone | Sim::Brian2Runtime => {
                        let mode = if *sim == Sim::Brian2Standalone {
                            "standalone"
                        } else {
                            "runtime"
                        };
                        let dir = build_root.join(model);
                        // A cold build every repetition: the build time is part of the result.
                        let _ = std::fs::remove_dir_all(&dir);
                        let mut c = Command::new(&venvs["brian2"]);
                        c.arg(scripts.join("brian2_models.py"))
                            .args([model, &dur, mode])
                            .env("PEERS_BUILD_DIR", &dir);
                        c
                    }
                    Sim::Nest => {
                        let mut c = Command::new(&venvs["nest"]);
                        c.arg(scripts.join("nest_models.py")).args([model, &dur]);
                        c
                    }
                };
                eprintln!(
                    "peers: rep {}/{} {model} {} ({} s biological time)",
                    rep + 1,
                    opt.reps,
                    sim.label(),
                    opt.duration_s
                );
                match run_json(&mut cmd) {
                    Ok(r) => {
                        eprintln!("       build {:.2} s, run {:.3} s", r.build_s, r.run_s);
                        runs.entry((model, *sim)).or_default().push(r);
                    }
                    Err(e) => {
                        eprintln!("       FAILED: {e}");
                        failures.insert((model, *sim), e);
                    }
                }
            }
        }
    }
    let unavailable: Vec<(Sim, String)> = sims
        .iter()
        .filter_map(|(s, ok)| ok.clone().err().map(|e| (*s, e)))
        .collect();
    let report = report(&opt, &runs, &failures, &unavailable, &venvs);
    println!("{report}");
    if opt.quick {
        // Smoke test: every model ran and every population of it spiked.
        for model in MODELS {
            let r = runs
                .get(&(model, Sim::Engram))
                .and_then(|v| v.first())
                .ok_or(format!("engram {model} did not run"))?;
            if let Some((pop, _)) = r.rates.iter().find(|(_, hz)| **hz <= 0.0) {
                return Err(format!("engram {model}: population `{pop}` never spiked"));
            }
        }
        return Ok(());
    }
    let out = root.join("bench/peers/results.md");
    std::fs::write(&out, &report).map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!("peers: wrote {}", out.display());
    if failures.contains_key(&("cuba", Sim::Engram)) || !runs.contains_key(&("cuba", Sim::Engram)) {
        return Err("the engram runs failed".into());
    }
    Ok(())
}

/// Builds the engram runner in the bench profile (`native`: for this CPU, in its own target
/// directory so the ordinary build is not invalidated) and returns its executable.
fn build_engram(root: &Path, native: bool) -> Result<PathBuf, String> {
    let args = [
        "bench",
        "-p",
        "engram-lab",
        "--features",
        "std",
        "--bench",
        "peers",
        "--no-run",
        "--message-format=json",
    ];
    let mut cmd = Command::new("cargo");
    if native {
        cmd.env("RUSTFLAGS", "-C target-cpu=native")
            .env("CARGO_TARGET_DIR", root.join("target/peers/native"));
        eprint!("\n$ RUSTFLAGS='-C target-cpu=native' CARGO_TARGET_DIR=target/peers/native");
    }
    eprintln!("\n$ cargo {}", args.join(" "));
    let out = cmd
        .current_dir(root)
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start cargo: {e}"))?;
    if !out.status.success() {
        return Err("building the engram runner failed".into());
    }
    // The compiler-artifact message of the `peers` bench target names its executable.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("\"name\":\"peers\"") && l.contains("\"executable\""))
        .find_map(|l| {
            let v = Json::parse(l).ok()?;
            v.get("executable")?.str().map(PathBuf::from)
        })
        .ok_or_else(|| "cargo did not report the runner's executable".into())
}

/// Creates `target/peers/venv-<name>` if needed and installs `bench/peers/<req>` into it; returns its
/// Python.
fn venv(root: &Path, name: &str, req: &str) -> Result<PathBuf, String> {
    let dir = root.join(format!("target/peers/venv-{name}"));
    let py = dir.join("bin/python");
    let req = root.join("bench/peers").join(req);
    if !py.exists() {
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        eprintln!(
            "peers: creating a virtual environment for {name}: {python} -m venv {}",
            dir.display()
        );
        let ok = Command::new(&python)
            .args(["-m", "venv"])
            .arg(&dir)
            .status()
            .map_err(|e| format!("could not start {python}: {e}"))?;
        if !ok.success() {
            return Err(format!(
                "`{python} -m venv` failed (is python3-venv installed?)"
            ));
        }
    }
    let pins = std::fs::read_to_string(&req).unwrap_or_default();
    let pins: Vec<&str> = pins
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    eprintln!(
        "peers: installing into {} (from PyPI, pinned): {}",
        dir.display(),
        pins.join(" ")
    );
    let ok = Command::new(&py)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&req)
        .status()
        .map_err(|e| format!("could not start pip: {e}"))?;
    if !ok.success() {
        return Err(format!("pip install -r {} failed", req.display()));
    }
    Ok(py)
}

/// Runs a runner and parses the JSON object on the last line of its output.
fn run_json(cmd: &mut Command) -> Result<Run, String> {
    let out = cmd
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("could not start: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(5).collect();
        return Err(format!("exited with {}: {}", out.status, tail.join(" | ")));
    }
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .ok_or("no JSON result on stdout")?;
    let v = Json::parse(line)?;
    let num = |k: &str| v.get(k).and_then(Json::num).ok_or(format!("missing `{k}`"));
    let rates = match v.get("rates_hz") {
        Some(Json::Obj(m)) => m
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.num()?)))
            .collect(),
        _ => return Err("missing `rates_hz`".into()),
    };
    Ok(Run {
        build_s: num("build_s")?,
        run_s: num("run_s")?,
        rates,
        synaptic_events: num("synaptic_events")?,
        plastic_updates: num("plastic_updates")?,
        peak_rss_kib: num("peak_rss_kib")?,
    })
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

/// The median run: every field is the median over the repetitions.
fn med(v: &[Run]) -> Run {
    let m = |f: fn(&Run) -> f64| median(v.iter().map(f).collect());
    let mut rates = BTreeMap::new();
    if let Some(first) = v.first() {
        for k in first.rates.keys() {
            rates.insert(
                k.clone(),
                median(v.iter().filter_map(|r| r.rates.get(k).copied()).collect()),
            );
        }
    }
    Run {
        build_s: m(|r| r.build_s),
        run_s: m(|r| r.run_s),
        rates,
        synaptic_events: m(|r| r.synaptic_events),
        plastic_updates: m(|r| r.plastic_updates),
        peak_rss_kib: m(|r| r.peak_rss_kib),
    }
}

fn report(
    opt: &Options,
    runs: &BTreeMap<(&str, Sim), Vec<Run>>,
    failures: &BTreeMap<(&str, Sim), String>,
    unavailable: &[(Sim, String)],
    venvs: &BTreeMap<&str, PathBuf>,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# engram vs Brian2 vs NEST\n");
    let _ = writeln!(
        s,
        "Written by `cargo xtask peers` (xtask/src/peers.rs); models and scripts in `bench/peers/`. \
         {} s of biological time per run, dt = 0.1 ms, single thread, median of {} interleaved \
         repetitions.\n",
        opt.duration_s, opt.reps
    );
    let _ = writeln!(s, "## Machine\n");
    for line in machine(venvs, opt.native) {
        let _ = writeln!(s, "- {line}");
    }
    let _ = writeln!(
        s,
        "\n**run s**: the simulation loop alone (engram: the step loop; Brian2 cpp_standalone: its \
         C++ `Network::run` timer; Brian2 runtime: `run()`, including its first-time Cython \
         compilation; NEST: `nest.Simulate`). **build s**: network construction (+ code generation and \
         compilation for cpp_standalone). **events/s** and **updates/s** are synaptic events and \
         plastic synapse updates per second of run time. **peer/engram**: the peer's run time over \
         engram's (> 1: engram is faster). **rates**: mean rate per population (Hz); ✓ when every \
         population is within 10 % of engram's, ✗ otherwise (then the simulators did not do the same \
         work and the time ratio means little).\n"
    );
    for model in MODELS {
        let title = match model {
            "cuba" => "Brette et al. (2007) CUBA: 4000 LIF, 2 % connectivity",
            "coba" => "Brette et al. (2007) COBA: 4000 conductance LIF, 2 % connectivity",
            _ => "Song 2000 scaled: 1000 Poisson inputs → 100 LIF, pair STDP on 100 000 synapses",
        };
        let _ = writeln!(s, "## {title}\n");
        let _ = writeln!(
            s,
            "| simulator | build s | run s | events/s | plastic updates/s | peak MiB | peer/engram | rates (Hz) |"
        );
        let _ = writeln!(s, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        let base = runs.get(&(model, Sim::Engram)).map(|v| med(v));
        for sim in [
            Sim::Engram,
            Sim::Brian2Standalone,
            Sim::Brian2Runtime,
            Sim::Nest,
        ] {
            let Some(v) = runs.get(&(model, sim)) else {
                if let Some(e) = failures.get(&(model, sim)) {
                    let _ = writeln!(
                        s,
                        "| {} | failed: {} |||||||",
                        sim.label(),
                        e.replace('|', "/")
                    );
                }
                continue;
            };
            let r = med(v);
            let ratio = base
                .as_ref()
                .filter(|_| sim != Sim::Engram)
                .map(|b| format!("{:.2}", r.run_s / b.run_s))
                .unwrap_or_else(|| "1".into());
            let agree = base.as_ref().map(|b| {
                r.rates.iter().all(|(k, hz)| {
                    b.rates
                        .get(k)
                        .is_some_and(|e| (hz - e).abs() <= 0.1 * e.abs())
                })
            });
            let rates: Vec<String> = r
                .rates
                .iter()
                .map(|(k, hz)| format!("{k} {hz:.2}"))
                .collect();
            let mark = match (sim, agree) {
                (Sim::Engram, _) | (_, None) => "",
                (_, Some(true)) => " ✓",
                (_, Some(false)) => " ✗",
            };
            let updates = if r.plastic_updates > 0.0 {
                format!("{:.3e}", r.plastic_updates / r.run_s)
            } else {
                "–".into()
            };
            let _ = writeln!(
                s,
                "| {} | {:.2} | {:.3} | {:.3e} | {} | {:.1} | {} | {}{} |",
                sim.label(),
                r.build_s,
                r.run_s,
                r.synaptic_events / r.run_s,
                updates,
                r.peak_rss_kib / 1024.0,
                ratio,
                rates.join(", "),
                mark
            );
        }
        let _ = writeln!(s);
    }
    for (sim, e) in unavailable {
        let _ = writeln!(s, "- {} could not be installed: {e}", sim.label());
    }
    s
}

/// Machine details for the report: CPU, cores, memory, OS, compiler, peer versions.
fn machine(venvs: &BTreeMap<&str, PathBuf>, native: bool) -> Vec<String> {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .map(|l| l.trim().to_string())
        .unwrap_or_default();
    let cmd = |p: &str, a: &[&str]| {
        Command::new(p)
            .args(a)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let mut v = vec![
        format!("CPU: {cpu}, {cores} logical cores available, {mem} RAM"),
        format!("OS: {}", cmd("uname", &["-sr"])),
        format!(
            "Rust: {} (bench profile: opt-level 3, thin LTO, codegen-units 1{})",
            cmd("rustc", &["-V"]),
            if native { ", -C target-cpu=native" } else { "" }
        ),
        format!(
            "C++ (Brian2 cpp_standalone, -O3 -ffast-math -march=native): {}",
            cmd("g++", &["--version"]).lines().next().unwrap_or("")
        ),
    ];
    for (name, py) in venvs {
        let module = if *name == "brian2" { "brian2" } else { "nest" };
        let code = format!(
            "import sys, {module}, numpy; print(sys.version.split()[0], {module}.__version__, numpy.__version__)"
        );
        let out = Command::new(py)
            .args(["-c", &code])
            .stderr(Stdio::null())
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let parts: Vec<&str> = out.split_whitespace().collect();
        if let [pyv, modv, np] = parts[..] {
            v.push(format!("{name} {modv} (Python {pyv}, numpy {np})"));
        }
    }
    v
}

/// A minimal JSON value: the runners print flat objects of numbers, strings and one level of
/// nested objects, and cargo's messages are JSON. Hand-written to keep xtask's dependencies to the
/// three it has.
#[derive(Debug, Clone)]
enum Json {
    Num(f64),
    Str(String),
    Obj(Vec<(String, Json)>),
    Other,
}

impl Json {
    fn parse(s: &str) -> Result<Json, String> {
        let b = s.as_bytes();
        let mut i = 0;
        let v = value(b, &mut i)?;
        Ok(v)
    }

    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn num(&self) -> Option<f64> {
        match self {
            Json::Num(x) => Some(*x),
            _ => None,
        }
    }

    fn str(&self) -> Option<&str> {
        match self {
            Json::Str(x) => Some(x),
            _ => None,
        }
    }
}

fn ws(b: &[u8], i: &mut usize) {
    while b.get(*i).is_some_and(u8::is_ascii_whitespace) {
        *i += 1;
    }
}

fn value(b: &[u8], i: &mut usize) -> Result<Json, String> {
    ws(b, i);
    match b.get(*i) {
        Some(b'{') => {
            *i += 1;
            let mut m = Vec::new();
            loop {
                ws(b, i);
                if b.get(*i) == Some(&b'}') {
                    *i += 1;
                    return Ok(Json::Obj(m));
                }
                let Json::Str(k) = value(b, i)? else {
                    return Err("JSON: expected a key".into());
                };
                ws(b, i);
                if b.get(*i) != Some(&b':') {
                    return Err("JSON: expected `:`".into());
                }
                *i += 1;
                m.push((k, value(b, i)?));
                ws(b, i);
                if b.get(*i) == Some(&b',') {
                    *i += 1;
                }
            }
        }
        Some(b'[') => {
            *i += 1;
            loop {
                ws(b, i);
                if b.get(*i) == Some(&b']') {
                    *i += 1;
                    return Ok(Json::Other);
                }
                value(b, i)?;
                ws(b, i);
                if b.get(*i) == Some(&b',') {
                    *i += 1;
                }
            }
        }
        Some(b'"') => {
            *i += 1;
            let mut out = Vec::new();
            while let Some(&c) = b.get(*i) {
                *i += 1;
                match c {
                    b'"' => return Ok(Json::Str(String::from_utf8_lossy(&out).into_owned())),
                    b'\\' => {
                        let e = b.get(*i).copied().unwrap_or(b'\\');
                        *i += 1;
                        match e {
                            b'n' => out.push(b'\n'),
                            b't' => out.push(b'\t'),
                            b'u' => {
                                *i += 4; // not needed by the runners' output: dropped
                            }
                            other => out.push(other),
                        }
                    }
                    _ => out.push(c),
                }
            }
            Err("JSON: unterminated string".into())
        }
        Some(_) => {
            let start = *i;
            while b
                .get(*i)
                .is_some_and(|c| !matches!(c, b',' | b'}' | b']') && !c.is_ascii_whitespace())
            {
                *i += 1;
            }
            let tok = std::str::from_utf8(&b[start..*i]).unwrap_or("");
            Ok(tok.parse().map(Json::Num).unwrap_or(Json::Other))
        }
        None => Err("JSON: unexpected end".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_runner_line() {
        let v = Json::parse(
            r#"{"sim": "nest", "run_s": 0.5, "rates_hz": {"exc": 5.5, "inh": 6}, "x": [1, {"a": 2}], "s": "a\"b"}"#,
        )
        .unwrap();
        assert_eq!(v.get("run_s").and_then(Json::num), Some(0.5));
        assert_eq!(v.get("sim").and_then(Json::str), Some("nest"));
        assert_eq!(v.get("s").and_then(Json::str), Some("a\"b"));
        let rates = v.get("rates_hz").unwrap();
        assert_eq!(rates.get("inh").and_then(Json::num), Some(6.0));
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
