//! `cargo xtask qemu`: the real firmware on emulated Cortex-M cores, checked against the host.
//!
//! 1. builds the host `engram` command and the firmware of `boards/qemu-mps2-an386` for each
//!    [`Machine`] (mps2-an386: Cortex-M4F, `thumbv7em-none-eabihf`; microbit: Cortex-M0,
//!    `thumbv6m-none-eabi`);
//! 2. runs the `selftest` program: a panic and a HardFault must exit non-zero with their message / PC,
//!    a hang must hit the timeout;
//! 3. runs the `kernels` program: golden-vector digests of every fixed-point kernel
//!    (`engram_lab::kernels`) must equal the host's, kernel by kernel;
//! 4. for every [`CHECKS`] entry runs the firmware under QEMU and `engram run <exp> --hash` on the
//!    host with the same steps, seed and size, and fails if the state hashes differ — after finding,
//!    by bisection over the step count, the first step whose state differs and the parts that differ;
//! 5. compares instruction counts (per step, and from the `bench`, `bench-plastic` and `bench-link`
//!    programs) with `budget.toml` and fails if one grew by more than [`TOLERANCE`]. `--bless`
//!    rewrites the budget with the measured values.
//!
//! Every QEMU run is under a timeout (QEMU exits 0 on SIGTERM, so a hang must not reach it).

use crate::defmt::{self, Line};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The firmware crate, relative to the workspace root.
pub const BOARD_DIR: &str = "boards/qemu-mps2-an386";
/// The committed instruction budget, relative to the workspace root.
const BUDGET: &str = "boards/qemu-mps2-an386/budget.toml";
/// A measured count may exceed its budget by this fraction before CI fails.
const TOLERANCE: f64 = 0.10;
/// Timeout for one firmware run.
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// A QEMU machine the firmware is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Machine {
    /// Cortex-M4F, 4 MiB flash + 4 MiB RAM, 25 MHz (40 instructions per SysTick tick).
    Mps2An386,
    /// nRF51822 Cortex-M0 (micro:bit v1), 256 KiB flash, 16 KiB RAM.
    Microbit,
}

impl Machine {
    /// Both machines.
    pub const ALL: [Machine; 2] = [Machine::Mps2An386, Machine::Microbit];

    /// QEMU's `-machine` name (also the budget section).
    pub fn name(self) -> &'static str {
        match self {
            Machine::Mps2An386 => "mps2-an386",
            Machine::Microbit => "microbit",
        }
    }

    /// Rust target triple.
    pub fn target(self) -> &'static str {
        match self {
            Machine::Mps2An386 => "thumbv7em-none-eabihf",
            Machine::Microbit => "thumbv6m-none-eabi",
        }
    }

    /// Cargo features of the firmware build.
    fn features(self) -> &'static [&'static str] {
        match self {
            Machine::Mps2An386 => &[],
            Machine::Microbit => &["--features", "microbit"],
        }
    }

    /// Extra QEMU arguments.
    fn qemu_args(self) -> &'static [&'static str] {
        match self {
            Machine::Mps2An386 => &["-cpu", "cortex-m4"],
            Machine::Microbit => &[],
        }
    }

    /// Path of a built program.
    pub fn elf(self, root: &Path, bin: &str) -> PathBuf {
        root.join(BOARD_DIR)
            .join("target")
            .join(self.target())
            .join("release")
            .join(bin)
    }
}

/// Every firmware program (one file each in `src/bin/`).
pub const PROGRAMS: [&str; 19] = [
    "izhikevich2003",
    "brette-cuba",
    "distal-reward",
    "homeostasis-scaling",
    "homeostasis-intrinsic",
    "pes",
    "eprop",
    "oja-pca",
    "bcm",
    "song2000",
    "bandit",
    "phototaxis",
    "cartpole",
    "bench",
    "bench-plastic",
    "kernels",
    "selftest",
    "pil",
    "bench-link",
];

/// One host ↔ firmware bit-exactness check. Adding an experiment: a program in `src/bin/`, an arm
/// in the host's `hash_run`, and a line here.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    /// Firmware program and host experiment name.
    pub exp: &'static str,
    /// Where it runs.
    pub machine: Machine,
    /// Network size the firmware is built with (the host's `--neurons`).
    pub neurons: usize,
    /// Steps to run.
    pub steps: u64,
    /// Seed.
    pub seed: u64,
    /// `--set key=value` overrides that make the host's default configuration the firmware's.
    pub sets: &'static [&'static str],
}

/// The bit-exactness checks CI runs (step counts chosen to keep `cargo xtask qemu` to a few minutes).
/// The learning experiments run their `Config::check` (`tests/tests/check_configs.rs` asserts that
/// these sizes, steps and seeds see weight changes, eligibilities, stochastic rounding and rewards).
pub const CHECKS: [Check; 26] = [
    Check {
        exp: "izhikevich2003",
        machine: Machine::Mps2An386,
        neurons: 1000,
        steps: 1000,
        seed: 7,
        sets: &[],
    },
    Check {
        exp: "brette-cuba",
        machine: Machine::Mps2An386,
        neurons: 4000,
        steps: 2000,
        seed: 3,
        sets: &[],
    },
    Check {
        exp: "distal-reward",
        machine: Machine::Mps2An386,
        neurons: 1000,
        steps: 2000,
        seed: 7,
        sets: &[],
    },
    Check {
        exp: "homeostasis-scaling",
        machine: Machine::Mps2An386,
        neurons: 50,
        steps: 5000,
        seed: 5,
        sets: &[],
    },
    Check {
        exp: "homeostasis-intrinsic",
        machine: Machine::Mps2An386,
        neurons: 50,
        steps: 5000,
        seed: 5,
        sets: &[],
    },
    Check {
        exp: "pes",
        machine: Machine::Mps2An386,
        neurons: 100,
        steps: 5000,
        seed: 3,
        sets: &[],
    },
    Check {
        exp: "eprop",
        machine: Machine::Mps2An386,
        neurons: 50,
        steps: 2000,
        seed: 2,
        sets: &[],
    },
    Check {
        exp: "oja-pca",
        machine: Machine::Mps2An386,
        neurons: 1,
        steps: 20000,
        seed: 4,
        sets: &[],
    },
    Check {
        exp: "bcm",
        machine: Machine::Mps2An386,
        neurons: 1,
        steps: 10000,
        seed: 4,
        sets: &[],
    },
    Check {
        exp: "song2000",
        machine: Machine::Mps2An386,
        neurons: 1,
        steps: 5000,
        seed: 3,
        sets: &[],
    },
    Check {
        exp: "izhikevich2003",
        machine: Machine::Microbit,
        neurons: 64,
        steps: 2000,
        seed: 7,
        sets: &[],
    },
    Check {
        exp: "brette-cuba",
        machine: Machine::Microbit,
        neurons: 200,
        steps: 2000,
        seed: 3,
        sets: &[],
    },
    Check {
        exp: "distal-reward",
        machine: Machine::Microbit,
        neurons: 50,
        steps: 5000,
        seed: 7,
        sets: &[],
    },
    Check {
        exp: "homeostasis-scaling",
        machine: Machine::Microbit,
        neurons: 10,
        steps: 5000,
        seed: 5,
        sets: &[],
    },
    Check {
        exp: "homeostasis-intrinsic",
        machine: Machine::Microbit,
        neurons: 10,
        steps: 5000,
        seed: 5,
        sets: &[],
    },
    Check {
        exp: "pes",
        machine: Machine::Microbit,
        neurons: 100,
        steps: 5000,
        seed: 3,
        sets: &[],
    },
    Check {
        exp: "eprop",
        machine: Machine::Microbit,
        neurons: 16,
        steps: 2000,
        seed: 2,
        sets: &[],
    },
    Check {
        exp: "oja-pca",
        machine: Machine::Microbit,
        neurons: 1,
        steps: 20000,
        seed: 4,
        sets: &[],
    },
    Check {
        exp: "bcm",
        machine: Machine::Microbit,
        neurons: 1,
        steps: 10000,
        seed: 4,
        sets: &[],
    },
    Check {
        exp: "song2000",
        machine: Machine::Microbit,
        neurons: 1,
        steps: 5000,
        seed: 3,
        sets: &[],
    },
    Check {
        exp: "bandit",
        machine: Machine::Mps2An386,
        neurons: 32,
        steps: 5000,
        seed: 1,
        sets: &[],
    },
    Check {
        exp: "phototaxis",
        machine: Machine::Mps2An386,
        neurons: 32,
        steps: 12000,
        seed: 1,
        sets: &["baseline_episodes=0"],
    },
    Check {
        exp: "cartpole",
        machine: Machine::Mps2An386,
        neurons: 16,
        steps: 20000,
        seed: 1,
        sets: &["weights.rounding=stochastic"],
    },
    Check {
        exp: "bandit",
        machine: Machine::Microbit,
        neurons: 32,
        steps: 5000,
        seed: 1,
        sets: &[],
    },
    Check {
        exp: "phototaxis",
        machine: Machine::Microbit,
        neurons: 32,
        steps: 12000,
        seed: 1,
        sets: &["baseline_episodes=0"],
    },
    Check {
        exp: "cartpole",
        machine: Machine::Microbit,
        neurons: 16,
        steps: 20000,
        seed: 1,
        sets: &["weights.rounding=stochastic"],
    },
];

/// What one firmware run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    /// QEMU's exit status (`timeout`'s 124 for a hang).
    pub status: i32,
    /// Decoded log lines.
    pub lines: Vec<Line>,
    /// QEMU's own messages (stderr).
    pub stderr: String,
    /// Wall time.
    pub wall: Duration,
}

impl Run {
    /// The value of the first `key <value>` result line.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.lines
            .iter()
            .filter(|l| l.level.is_none())
            .find_map(|l| l.message.strip_prefix(key)?.strip_prefix(' '))
    }

    /// The decoded output and QEMU's messages, indented, for an error report.
    fn log(&self) -> String {
        let mut s: String = self.lines.iter().map(|l| format!("    | {l}\n")).collect();
        for l in self.stderr.lines() {
            writeln!(s, "    qemu: {l}").unwrap();
        }
        s
    }
}

/// Runs `elf` on `machine` with semihosting arguments `args`, under `timeout`.
pub fn run_firmware(
    machine: Machine,
    elf: &Path,
    args: &[&str],
    timeout: Duration,
) -> Result<Run, String> {
    let (table, _) = defmt::table(elf)?;
    let name = elf.file_name().map_or("fw".into(), |n| n.to_string_lossy());
    let mut semi = format!("enable=on,target=native,arg={name}");
    for a in args {
        write!(semi, ",arg={a}").unwrap();
    }
    let start = Instant::now();
    let out = Command::new("timeout")
        .arg(timeout.as_secs().to_string())
        .args(["qemu-system-arm", "-machine", machine.name()])
        .args(machine.qemu_args())
        .args(["-display", "none", "-monitor", "none", "-serial", "null"])
        .args([
            "-icount",
            "shift=0",
            "-semihosting-config",
            &semi,
            "-kernel",
        ])
        .arg(elf)
        .output()
        .map_err(|e| format!("cannot start qemu-system-arm under timeout: {e}"))?;
    Ok(Run {
        status: out.status.code().unwrap_or(-1),
        lines: defmt::decode(&table, &out.stdout),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        wall: start.elapsed(),
    })
}

/// `cargo xtask qemu-run <machine> <elf> [args]`: run and print (for humans).
pub fn qemu_run(args: &[String]) -> Result<(), String> {
    let [machine, elf, rest @ ..] = args else {
        return Err("usage: cargo xtask qemu-run <mps2-an386|microbit> <elf> [args...]".into());
    };
    let machine = Machine::ALL
        .into_iter()
        .find(|m| m.name() == machine)
        .ok_or_else(|| format!("unknown machine {machine}"))?;
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let r = run_firmware(machine, Path::new(elf), &rest, RUN_TIMEOUT)?;
    for l in &r.lines {
        println!("{l}");
    }
    eprint!("{}", r.stderr);
    match r.status {
        0 => Ok(()),
        124 => Err("timeout: the firmware hung".into()),
        s => Err(format!("firmware exited with {s}")),
    }
}

/// Builds the firmware for every machine (release).
pub fn build_firmware(root: &Path) -> Result<(), String> {
    for m in Machine::ALL {
        let mut args = vec!["build", "--release", "--target", m.target()];
        args.extend(m.features());
        crate::run_in(&root.join(BOARD_DIR), "cargo", &args, &[])?;
    }
    Ok(())
}

/// The `hash`, `steps`, `spikes` and parts of a run's output (firmware or host: same format).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    steps: String,
    spikes: String,
    history: String,
    hash: String,
    parts: Vec<(String, String)>,
}

fn outcome<'a>(lines: impl Iterator<Item = &'a str> + Clone) -> Option<Outcome> {
    let get = |key: &str| {
        lines
            .clone()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ').map(str::to_owned))
    };
    let parts = lines
        .clone()
        .filter_map(|l| {
            let (n, h) = l.strip_prefix("part ")?.split_once(' ')?;
            Some((n.to_owned(), h.to_owned()))
        })
        .collect();
    Some(Outcome {
        steps: get("steps")?,
        spikes: get("spikes")?,
        history: get("history")?,
        hash: get("hash")?,
        parts,
    })
}

fn host_outcome(root: &Path, c: &Check, steps: u64) -> Result<Outcome, String> {
    let exe = root.join("target/release/engram");
    let out = Command::new(&exe)
        .args(["run", c.exp, "--hash"])
        .args(["--steps", &steps.to_string(), "--seed", &c.seed.to_string()])
        .args(["--neurons", &c.neurons.to_string()])
        .args(c.sets.iter().flat_map(|kv| ["--set", kv]))
        .output()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "host `engram run {} --hash` failed: {}",
            c.exp,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    outcome(text.lines()).ok_or_else(|| format!("host output has no hash:\n{text}"))
}

fn firmware_outcome(root: &Path, c: &Check, steps: u64) -> Result<(Outcome, Run), String> {
    let elf = c.machine.elf(root, c.exp);
    let r = run_firmware(
        c.machine,
        &elf,
        &[&steps.to_string(), &c.seed.to_string()],
        RUN_TIMEOUT,
    )?;
    if r.status != 0 {
        return Err(format!(
            "{} on {} exited with {}{}:\n{}",
            c.exp,
            c.machine.name(),
            r.status,
            if r.status == 124 {
                " (timeout: hung)"
            } else {
                ""
            },
            r.log()
        ));
    }
    let o = outcome(
        r.lines
            .iter()
            .filter(|l| l.level.is_none())
            .map(|l| l.message.as_str()),
    )
    .ok_or_else(|| format!("firmware printed no hash:\n{}", r.log()))?;
    Ok((o, r))
}

/// After a mismatch at `steps`: the first step at which the two runs differ, and the parts that differ
/// there. Bisection over the step count with "the spike history or the state differs" as the test:
/// the history, once different, stays different, so the search finds the first step with different
/// spikes; a state difference that never changed a spike and later washed out can be missed (the
/// search then reports the earliest differing step it saw).
fn first_divergence(root: &Path, c: &Check, steps: u64) -> Result<String, String> {
    let differ = |k: u64| -> Result<(bool, Outcome, Outcome), String> {
        let h = host_outcome(root, c, k)?;
        let (f, _) = firmware_outcome(root, c, k)?;
        Ok((h.hash != f.hash || h.history != f.history, h, f))
    };
    let (at_zero, h0, f0) = differ(0)?;
    let (step, h, f) = if at_zero {
        (0, h0, f0)
    } else {
        let (mut lo, mut hi) = (0u64, steps);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if differ(mid)?.0 {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        let (_, h, f) = differ(hi)?;
        (hi, h, f)
    };
    let mut msg = if step == 0 {
        "the states differ before the first step (construction)".to_string()
    } else {
        format!(
            "first diverging step: {step} (the runs agree after {} steps)",
            step - 1
        )
    };
    let mut rows: Vec<(&str, &str, &str)> = h
        .parts
        .iter()
        .zip(&f.parts)
        .map(|((n, hh), (_, fh))| (n.as_str(), hh.as_str(), fh.as_str()))
        .collect();
    rows.push(("(spike history)", &h.history, &f.history));
    for (n, hh, fh) in rows {
        if hh != fh {
            write!(msg, "\n  part {n:<16} host {hh}  firmware {fh}").unwrap();
        }
    }
    Ok(msg)
}

/// Measured instruction counts, keyed like the budget (`step.<exp>`, `bench.<key>`).
type Measured = BTreeMap<String, f64>;

/// Runs the selftests of one machine.
fn selftests(root: &Path, m: Machine) -> Result<(), String> {
    let elf = m.elf(root, "selftest");
    let cases: [(&str, i32, &str, u64); 4] = [
        ("ok", 0, "selftest ok", 30),
        ("panic", 101, "selftest panic 42", 30),
        ("fault", 3, "HardFault at PC 0x", 30),
        ("hang", 124, "", 3),
    ];
    for (arg, want, text, secs) in cases {
        let r = run_firmware(m, &elf, &[arg], Duration::from_secs(secs))?;
        let found = text.is_empty() || r.lines.iter().any(|l| l.message.contains(text));
        if r.status != want || !found {
            return Err(format!(
                "selftest {arg} on {}: exit {} (want {want}), output should contain {text:?}:\n{}",
                m.name(),
                r.status,
                r.log()
            ));
        }
        let shown = match r.lines.last() {
            Some(l) => l.to_string().replace('\n', " "),
            None => "(timeout: QEMU stopped)".into(),
        };
        println!(
            "  selftest {arg:<6} {:<11} exit {:>3}  {shown}",
            m.name(),
            r.status
        );
    }
    Ok(())
}

/// Runs `kernels` on `m` and compares every digest with the host's.
fn kernels(root: &Path, m: Machine) -> Result<(), String> {
    let r = run_firmware(m, &m.elf(root, "kernels"), &[], RUN_TIMEOUT)?;
    if r.status != 0 {
        return Err(format!(
            "kernels on {} exited with {}:\n{}",
            m.name(),
            r.status,
            r.log()
        ));
    }
    let mut host = vec![];
    engram_lab::kernels::digests(&mut |n, d| host.push((n, format!("{d:#018x}"))))
        .map_err(|e| format!("host kernels: {e}"))?;
    let target: Vec<(&str, &str)> = r
        .lines
        .iter()
        .filter_map(|l| l.message.strip_prefix("kernel ")?.split_once(' '))
        .collect();
    let mut bad = vec![];
    for (i, (name, hd)) in host.iter().enumerate() {
        match target.get(i) {
            Some((n, td)) if n == name && td == hd => {}
            Some((n, td)) => bad.push(format!("{name}: host {hd}, target {n} {td}")),
            None => bad.push(format!("{name}: host {hd}, target printed nothing")),
        }
    }
    if !bad.is_empty() || target.len() != host.len() {
        return Err(format!(
            "fixed-point kernels differ on {} from the host:\n  {}\n{}",
            m.name(),
            bad.join("\n  "),
            r.log()
        ));
    }
    println!(
        "  {:<11} {} kernels == host ({})",
        m.name(),
        host.len(),
        host.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
    );
    Ok(())
}

/// The micro-benchmark programs: `bench` (neurons, static synapses; also the SysTick calibration),
/// `bench-plastic` (plastic synapse updates per rule) and `bench-link` (engram-link framing:
/// instructions per encoded / decoded frame).
const BENCHES: [&str; 3] = ["bench", "bench-plastic", "bench-link"];

/// Runs the micro-benchmark `prog` on `m` and adds its per-unit counts to `measured`; for `bench`,
/// also checks the SysTick calibration.
fn bench(root: &Path, m: Machine, prog: &str, measured: &mut Measured) -> Result<(), String> {
    let r = run_firmware(m, &m.elf(root, prog), &[], RUN_TIMEOUT)?;
    if r.status != 0 {
        return Err(format!(
            "{prog} on {} exited with {}:\n{}",
            m.name(),
            r.status,
            r.log()
        ));
    }
    if prog == "bench" {
        calibration(&r, m)?;
    }
    read_bench_lines(&r, measured)
}

/// Checks the `calibration <instructions> <ticks>` line of a `bench` run.
fn calibration(r: &Run, m: Machine) -> Result<(), String> {
    let cal = r
        .value("calibration")
        .and_then(|v| v.split_once(' '))
        .and_then(|(i, t)| Some((i.parse::<f64>().ok()?, t.parse::<f64>().ok()?)))
        .ok_or_else(|| format!("bench printed no calibration:\n{}", r.log()))?;
    let per_tick = cal.0 / cal.1;
    println!(
        "  calibration {:<11} {} instructions = {} SysTick ticks: {per_tick:.3} instructions/tick",
        m.name(),
        cal.0,
        cal.1
    );
    if m == Machine::Mps2An386 && (per_tick - 40.0).abs() > 0.01 {
        return Err(format!(
            "SysTick calibration on {}: {per_tick} instructions per tick, expected 40 \
             (is -icount shift=0 in effect?)",
            m.name()
        ));
    }
    Ok(())
}

/// Reads the `bench <key> <instructions> <units>` lines of a run as `bench.<key>` = per unit.
fn read_bench_lines(r: &Run, measured: &mut Measured) -> Result<(), String> {
    for l in r.lines.iter().filter(|l| l.level.is_none()) {
        let Some(rest) = l.message.strip_prefix("bench ") else {
            continue;
        };
        let v: Vec<&str> = rest.split(' ').collect();
        if let [key, instr, units] = v[..] {
            let (i, u): (f64, f64) = (
                instr
                    .parse()
                    .map_err(|_| format!("bad bench line {rest}"))?,
                units
                    .parse()
                    .map_err(|_| format!("bad bench line {rest}"))?,
            );
            measured.insert(format!("bench.{key}"), i / u);
        }
    }
    Ok(())
}

/// `cargo xtask qemu [--bless]`.
pub fn qemu(root: &Path, bless: bool) -> Result<(), String> {
    if Command::new("qemu-system-arm")
        .arg("--version")
        .output()
        .is_err()
    {
        return Err(
            "qemu-system-arm not found: apt-get install -y --no-install-recommends \
                    qemu-system-arm (.ci/run does this)"
                .into(),
        );
    }
    crate::run_in(
        root,
        "cargo",
        &["build", "--release", "-p", "engram-sim"],
        &[],
    )?;
    build_firmware(root)?;

    println!("\n== failure paths (selftest)");
    for m in Machine::ALL {
        selftests(root, m)?;
    }

    println!("\n== fixed-point kernels: target ↔ host golden-vector digests");
    for m in Machine::ALL {
        kernels(root, m)?;
    }

    println!("\n== host ↔ firmware state hashes");
    let mut measured: BTreeMap<Machine, Measured> = BTreeMap::new();
    let mut failures = vec![];
    for c in &CHECKS {
        let host = host_outcome(root, c, c.steps)?;
        let (fw, run) = firmware_outcome(root, c, c.steps)?;
        let instr: f64 = run
            .value("instructions")
            .and_then(|v| v.parse().ok())
            .ok_or("firmware printed no instruction count")?;
        let per_step = instr / c.steps as f64;
        let same = host == fw;
        println!(
            "  {:<15} {:<11} n={:<5} steps={:<5} seed={} spikes={:<7} hash {} {}  ({per_step:.0} instructions/step, {:.1} s)",
            c.exp,
            c.machine.name(),
            c.neurons,
            c.steps,
            c.seed,
            fw.spikes,
            fw.hash,
            if same { "== host" } else { "!= HOST" },
            run.wall.as_secs_f64()
        );
        if same {
            measured
                .entry(c.machine)
                .or_default()
                .insert(format!("step.{}", c.exp), per_step);
        } else {
            let why = first_divergence(root, c, c.steps)?;
            failures.push(format!(
                "{} on {} ({} steps, seed {}): firmware hash {} history {} (steps {}, spikes {}) != host hash {} history {} (steps {}, spikes {})\n  {why}",
                c.exp, c.machine.name(), c.steps, c.seed, fw.hash, fw.history, fw.steps, fw.spikes,
                host.hash, host.history, host.steps, host.spikes
            ));
        }
    }
    if !failures.is_empty() {
        return Err(format!(
            "host and firmware disagree:\n{}",
            failures.join("\n")
        ));
    }

    println!("\n== instruction counts (-icount shift=0, SysTick)");
    for m in Machine::ALL {
        for prog in BENCHES {
            bench(root, m, prog, measured.entry(m).or_default())?;
        }
    }
    let budget_path = root.join(BUDGET);
    if bless {
        std::fs::write(&budget_path, budget_toml(&measured))
            .map_err(|e| format!("cannot write {}: {e}", budget_path.display()))?;
        println!("wrote {}", budget_path.display());
    }
    check_budget(&budget_path, &measured)
}

impl PartialOrd for Machine {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Machine {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (*self as u8).cmp(&(*other as u8))
    }
}

fn budget_toml(measured: &BTreeMap<Machine, Measured>) -> String {
    let mut s = String::from(
        "# Instruction budget of engram on emulated Cortex-M cores, checked by `cargo xtask qemu`: a\n\
         # measured value more than 10 % above its budget fails CI. Regenerate with\n\
         # `cargo xtask qemu --bless` after a deliberate change (and say why in the commit).\n\
         #\n\
         # Counted under `qemu-system-arm -icount shift=0` with SysTick (1 tick = 40 instructions on\n\
         # mps2-an386, checked by the bench's calibration loop): executed instructions, not cycles.\n\
         # step.<experiment>     instructions per time step of the whole experiment (CHECKS sizes)\n\
         # bench.neuron.<model>  instructions per neuron update (Population::step, 256 neurons)\n\
         # bench.synapse.<kind>  instructions per synapse per presynaptic spike (accumulate)\n\
         # bench.deliver.<kind>  instructions per postsynaptic target (deliver: scale, add, zero)\n\
         # bench.plastic.<rule>-<pre|post|tick>.<kind>  instructions per plastic synapse update\n\
         #                       (bench-plastic: on_pre fused in propagation, on_post, tick sweep);\n\
         #                       bench.plastic.static.<kind> the static synapse of the same projection\n\
         # bench.link-<encode|decode>.<message>  instructions per engram-link frame (bench-link: encode =\n\
         #                       postcard → CRC-32C → COBS; decode = the streaming decoder over the whole frame)\n\
         # On the micro:bit (Cortex-M0, 16 MHz) 1 tick = 62.5 instructions, also checked by calibration.\n",
    );
    for (m, values) in measured {
        writeln!(s, "\n[{}]", m.name()).unwrap();
        for (k, v) in values {
            writeln!(s, "\"{k}\" = {:.2}", v).unwrap();
        }
    }
    s
}

fn check_budget(path: &Path, measured: &BTreeMap<Machine, Measured>) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read {} ({e}); create it with --bless",
            path.display()
        )
    })?;
    let budget: toml::Table = text
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut over = vec![];
    println!(
        "\n  {:<11} {:<36} {:>12} {:>12} {:>8}",
        "machine", "measure", "measured", "budget", "change"
    );
    for (m, values) in measured {
        let section = budget.get(m.name()).and_then(|s| s.as_table());
        for (k, &v) in values {
            let b = section.and_then(|s| s.get(k)).and_then(|x| x.as_float());
            let (bs, change) = match b {
                Some(b) => (
                    format!("{b:.2}"),
                    format!("{:+.1} %", 100.0 * (v / b - 1.0)),
                ),
                None => ("-".into(), "new".into()),
            };
            println!(
                "  {:<11} {:<36} {:>12.2} {:>12} {:>8}",
                m.name(),
                k,
                v,
                bs,
                change
            );
            if let Some(b) = b
                && v > b * (1.0 + TOLERANCE)
            {
                over.push(format!("{} {k}: {v:.2} > budget {b:.2} + 10 %", m.name()));
            }
        }
    }
    if over.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "instruction counts over budget ({}):\n  {}",
            path.display(),
            over.join("\n  ")
        ))
    }
}
