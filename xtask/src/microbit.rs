//! `boards/microbit-v2`: the BBC micro:bit v2 firmware (nRF52833, Cortex-M4F). There is no emulator
//! for this chip (QEMU models only the micro:bit v1), so CI checks what can be checked without the
//! board: formatting, clippy `-D warnings` for the board target and for the host tests, the release build of every program
//! (what `cargo run --release` flashes), and the board logic's host tests (the real `Runner` and
//! demos on a mocked I2C bus and a simulated flash).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The firmware crate's folder.
pub fn dir(root: &Path) -> PathBuf {
    root.join("boards").join("microbit-v2")
}

/// The programs in `src/bin/`.
pub const PROGRAMS: [&str; 2] = ["tilt", "oja-motion"];

/// The ELF of `program` (release build).
pub fn elf(root: &Path, program: &str) -> PathBuf {
    dir(root)
        .join("target")
        .join("thumbv7em-none-eabihf")
        .join("release")
        .join(program)
}

/// Builds every program (release, thumbv7em-none-eabihf: the crate's default target).
pub fn build(root: &Path) -> Result<(), String> {
    crate::run_in(&dir(root), "cargo", &["build", "--release", "--bins"], &[])
}

/// The host's target triple (`rustc -vV`), for the board logic's host tests.
fn host_triple() -> Result<String, String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .map_err(|e| format!("could not run rustc: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .ok_or_else(|| "rustc -vV printed no host triple".to_string())
}

/// Format check, clippy for the board target, release build, host tests of the board logic.
pub fn ci(root: &Path) -> Result<(), String> {
    let d = dir(root);
    crate::run_in(&d, "cargo", &["fmt", "--check"], &[])?;
    crate::run_in(
        &d,
        "cargo",
        &[
            "clippy",
            "--release",
            "--bins",
            "--lib",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    build(root)?;
    let host = host_triple()?;
    crate::run_in(
        &d,
        "cargo",
        &[
            "clippy", "--lib", "--tests", "--target", &host, "--", "-D", "warnings",
        ],
        &[],
    )?;
    crate::run_in(&d, "cargo", &["test", "--lib", "--target", &host], &[])
}
