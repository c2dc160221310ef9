//! `cargo xtask` — the one entry point for every check.
//!
//! | command | what it runs |
//! | --- | --- |
//! | `cargo xtask ci` | everything CI runs: format check, clippy `-D warnings`, rustdoc warnings, host tests, and a `no_std` build of the core for every embedded target |
//! | `cargo xtask test` | the host tests only (`cargo test --workspace`) |
//! | `cargo xtask targets` | the `no_std` builds of the core only |
//! | `cargo xtask bench` | the criterion benchmarks of the core |
//!
//! Each step prints what it runs; the first failure stops the run with a non-zero exit code.
//! Written with `std::process::Command` alone: a task runner needs no dependencies.

use std::process::{Command, ExitCode};

/// Embedded targets the core must build for (no_std, no alloc). Kept in sync with rust-toolchain.toml.
const TARGETS: [&str; 3] = [
    "thumbv6m-none-eabi",
    "thumbv7em-none-eabihf",
    "riscv32imc-unknown-none-elf",
];

/// no_std crates checked for every embedded target.
const NO_STD_CRATES: [&str; 2] = ["engram", "engram-lab"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let result = match task {
        "ci" => ci(),
        "test" => test(),
        "targets" => targets(),
        "bench" => run("cargo", &["bench", "-p", "engram"], &[]),
        _ => {
            eprintln!("usage: cargo xtask <ci|test|targets|bench>");
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
    // The host tests run last so that their tally is the run's closing line.
    test()
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
    println!("\n$ {program} {}", args.join(" "));
    let status = Command::new(program)
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
