//! `cargo xtask` — the one entry point for every check.
//!
//! | command | what it runs |
//! | --- | --- |
//! | `cargo xtask ci` | everything CI runs: format check, clippy `-D warnings`, rustdoc warnings, a `no_std` build of the core for every embedded target, `boards` and `microbit` (the real-board firmware), the board glue's panic-never link (`crates/engram-board/panic-check`), `qemu`, `panics` and `size` (below), `peers --quick` (the engram side of the peer benchmarks), a short `soak`, and the host tests (last, so their tally closes the log) |
//! | `cargo xtask test` | the host tests only (`cargo test --workspace`) |
//! | `cargo xtask targets` | the `no_std` builds of the core only |
//! | `cargo xtask bench` | the criterion benchmarks of the core |
//! | `cargo xtask qemu [--bless]` | the firmware of `boards/qemu-mps2-an386` under QEMU (Cortex-M4F and Cortex-M0): failure paths, host ↔ firmware state-hash equality, instruction counts against `budget.toml` (`--bless` rewrites it) — see `qemu.rs` |
//! | `cargo xtask soak [--steps N]` | every learning experiment for `N` steps (default 10⁸) with its invariants checked (`engram soak`); CI runs 20 000 |
//! | `cargo xtask panics [--bless] [--verbose]` | the panic sites left in each experiment's release firmware; fails if more are reachable from its `Simulation::step` than `panics.toml` allows (see `panics.rs`) |
//! | `cargo xtask boards` | the real-board firmware crates (`boards/rp-pico`): format, clippy (firmware and host library), the library's host tests, the release firmware build — see `boards.rs` |
//! //! | `cargo xtask microbit` | the micro:bit v2 firmware (`boards/microbit-v2`): fmt, clippy, release build of every program, host tests of its board logic — see `microbit.rs` |
//! | `cargo xtask size` | flash and static RAM of every firmware program (emulated and real boards), from the ELF |
//! | `cargo xtask qemu-run <machine> <elf> [args]` | one firmware run under QEMU (timeout, decoded defmt) |
//! | `cargo xtask defmt-decode <elf>` | decodes a defmt stream on stdin (the board runner's fallback when `defmt-print` is absent) |
//!
//! Each step prints what it runs; the first failure stops the run with a non-zero exit code.
//! Processes are run with `std::process::Command`; the only dependencies are for reading the firmware:
//! `defmt-decoder` (its log stream), `object` (its ELF) and `toml` (the instruction budget).

mod boards;
mod defmt;
mod microbit;
mod panics;
mod peers;
mod qemu;
mod size;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Embedded targets the core must build for (no_std, no alloc). Kept in sync with rust-toolchain.toml.
const TARGETS: [&str; 3] = [
    "thumbv6m-none-eabi",
    "thumbv7em-none-eabihf",
    "riscv32imc-unknown-none-elf",
];

/// no_std crates checked for every embedded target.
const NO_STD_CRATES: [&str; 4] = ["engram", "engram-lab", "engram-link", "engram-board"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let result = match task {
        "ci" => ci(),
        "test" => test(),
        "targets" => targets(),
        "boards" => boards::check(&root()),
        "bench" => run("cargo", &["bench", "-p", "engram"], &[]),
        "qemu" => qemu::qemu(&root(), args.iter().any(|a| a == "--bless")),
        "size" => size::size(&root()),
        "microbit" => microbit::ci(&root()),
        "peers" => peers::peers(&root(), &args[1..]),
        "soak" => soak(&args[1..]),
        "panics" => panics::panics(&root(), &args[1..]),
        "qemu-run" => qemu::qemu_run(&args[1..]),
        "defmt-decode" => match args.get(1) {
            Some(elf) => defmt::decode_stdin(Path::new(elf)),
            None => Err("usage: cargo xtask defmt-decode <elf> < stream".into()),
        },
        _ => {
            eprintln!(
                "usage: cargo xtask <ci|test|targets|boards|microbit|bench|qemu [--bless]|size|soak [--steps N]|panics [--bless]|peers|qemu-run|defmt-decode>"
            );
            return if task == "help" {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {task}: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn ci() -> Result<(), String> {
    run("cargo", &["fmt", "--all", "--check"], &[])?;
    run(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    run(
        "cargo",
        &["doc", "--workspace", "--no-deps"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    targets()?;
    boards::check(&root())?;
    // The board glue's link-time proof (panic-never): it links only if no panic is reachable.
    for target in ["thumbv7em-none-eabihf", "thumbv6m-none-eabi"] {
        run_in(
            &root().join("crates/engram-board/panic-check"),
            "cargo",
            &["build", "--release", "--target", target],
            &[],
        )?;
    }
    microbit::ci(&root())?;
    qemu::qemu(&root(), false)?;
    panics::panics(&root(), &[])?;
    size::size(&root())?;
    // The engram side of the peer benchmarks, briefly (the comparison itself is too long for CI).
    peers::peers(&root(), &["--quick".to_string()])?;
    // A short soak: every learning experiment, invariants checked every 5000 steps.
    soak(&[
        "--steps".into(),
        "20000".into(),
        "--check-every".into(),
        "5000".into(),
    ])?;
    // The host tests run last so that their tally is the run's closing line.
    test()
}

/// The host workspace root (xtask's parent directory).
fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Runs the host tests, echoing cargo's output, and closes with one tally over every test binary
/// (`tests: N passed, M failed`), so the total is the last line of a long log.
fn test() -> Result<(), String> {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    println!("\n$ cargo test --workspace");
    let mut child = Command::new("cargo")
        .args(["test", "--workspace"])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start cargo: {e}"))?;
    let (mut passed, mut failed) = (0u64, 0u64);
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            println!("{line}");
            if let Some(rest) = line.strip_prefix("test result: ") {
                passed += count(rest, "passed");
                failed += count(rest, "failed");
            }
        }
    }
    let status = child.wait().map_err(|e| format!("cargo test: {e}"))?;
    println!("\ntests: {passed} passed, {failed} failed");
    if status.success() && failed == 0 && passed > 0 {
        Ok(())
    } else {
        Err(format!("cargo test --workspace exited with {status}"))
    }
}

/// The number before `label` in the tail of a `test result:` line (`ok. 12 passed; 0 failed; ...`).
fn count(result: &str, label: &str) -> u64 {
    result
        .split(';')
        .filter_map(|part| part.trim().rsplit_once(' '))
        .find(|(_, l)| *l == label)
        .and_then(|(n, _)| n.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

/// `engram soak` in release mode with `args` (`--steps`, `--check-every`, experiment names).
fn soak(args: &[String]) -> Result<(), String> {
    let mut cmd = vec!["run", "--release", "-q", "-p", "engram-sim", "--", "soak"];
    cmd.extend(args.iter().map(String::as_str));
    run("cargo", &cmd, &[])
}

fn targets() -> Result<(), String> {
    for target in TARGETS {
        for krate in NO_STD_CRATES {
            run(
                "cargo",
                &["build", "--release", "-p", krate, "--target", target],
                &[],
            )?;
        }
        run(
            "cargo",
            &[
                "build",
                "--release",
                "-p",
                "engram",
                "--features",
                "defmt",
                "--target",
                target,
            ],
            &[],
        )?;
    }
    Ok(())
}

fn run(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    run_in(&root(), program, args, env)
}

/// Runs `program args` in `dir` with extra environment `env`; fails on a non-zero exit.
fn run_in(dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    println!("\n$ (cd {}) {program} {}", dir.display(), args.join(" "));
    let status = Command::new(program)
        .current_dir(dir)
        .args(args)
        .envs(env.iter().copied())
        .status()
        .map_err(|e| format!("could not start {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{program} {}` exited with {status}",
            args.join(" ")
        ))
    }
}
