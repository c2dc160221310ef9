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
        Ok(()) => {
            println!("xtask {task}: ok");
            ExitCode::SUCCESS
        }
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
    test()?;
    targets()
}

fn test() -> Result<(), String> {
    run("cargo", &["test", "--workspace"], &[])
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
