//! `cargo xtask boards`: the real-board firmware crates under `boards/` that no emulator runs (there is
//! no QEMU model of the RP2040). Each is a standalone crate (own target, lockfile, target dir) whose
//! library holds the board's logic without a HAL; for each board this checks the format, runs clippy
//! `-D warnings` on the firmware (embedded target) and on the library and its tests (host), runs the
//! library's host tests, checks its rustdoc (`-D warnings`), and builds the firmware in release mode
//! (what `cargo run --release` flashes).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A real board's firmware crate.
#[derive(Debug, Clone, Copy)]
pub struct Board {
    /// Display name.
    pub name: &'static str,
    /// The crate, relative to the repository root.
    pub dir: &'static str,
    /// Its embedded target.
    pub target: &'static str,
    /// Its firmware programs (binaries).
    pub programs: &'static [&'static str],
}

/// Every real board built by CI.
pub const BOARDS: [Board; 1] = [Board {
    name: "rp-pico (RP2040)",
    dir: "boards/rp-pico",
    target: "thumbv6m-none-eabi",
    programs: &["phototaxis"],
}];

impl Board {
    /// The release ELF of `program`.
    pub fn elf(&self, root: &Path, program: &str) -> PathBuf {
        root.join(self.dir)
            .join("target")
            .join(self.target)
            .join("release")
            .join(program)
    }
}

/// The host's target triple (`rustc -vV`), for the boards' library tests.
fn host_triple() -> Result<String, String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .map_err(|e| format!("could not start rustc: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .ok_or_else(|| "rustc -vV printed no host triple".to_string())
}

/// Format, clippy, host tests and firmware build of every board (see the module doc).
pub fn check(root: &Path) -> Result<(), String> {
    let host = host_triple()?;
    for b in BOARDS {
        let dir = root.join(b.dir);
        crate::run_in(&dir, "cargo", &["fmt", "--check"], &[])?;
        crate::run_in(
            &dir,
            "cargo",
            &[
                "clippy",
                "--release",
                "--target",
                b.target,
                "--",
                "-D",
                "warnings",
            ],
            &[],
        )?;
        crate::run_in(
            &dir,
            "cargo",
            &[
                "clippy", "--lib", "--tests", "--target", &host, "--", "-D", "warnings",
            ],
            &[],
        )?;
        crate::run_in(&dir, "cargo", &["test", "--lib", "--target", &host], &[])?;
        crate::run_in(
            &dir,
            "cargo",
            &["doc", "--lib", "--no-deps", "--target", &host],
            &[("RUSTDOCFLAGS", "-D warnings")],
        )?;
    }
    build(root)
}

/// Builds every board's firmware (release).
pub fn build(root: &Path) -> Result<(), String> {
    for b in BOARDS {
        crate::run_in(
            &root.join(b.dir),
            "cargo",
            &["build", "--release", "--target", b.target],
            &[],
        )?;
    }
    Ok(())
}
