//! `cargo xtask boards`: the real-board firmware crates under `boards/` that no emulator runs (there is
//! no QEMU model of the RP2040). Each is a standalone crate (own target, lockfile, target dir) whose
//! library holds the board's logic without a HAL; for each board this checks the format, runs clippy
//! `-D warnings` on the firmware (embedded target) and on the library and its tests (host), runs the
//! library's host tests, checks its rustdoc (`-D warnings`), builds the firmware in release mode
//! (what `cargo run --release` flashes) and checks the linked firmware's memory layout.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A real board's firmware crate.
#[derive(Debug, Clone, Copy)]
pub struct Board {
    /// Checks of the linked firmware (memory layout) that no test of the library can make.
    pub layout: fn(&Path) -> Result<(), String>,
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
    layout: rp_pico_layout,
}];

/// The RP2040 firmware's layout, read from the ELF: the second-stage bootloader is the first 256 bytes
/// of flash; nothing loaded into flash reaches the checkpoint window (the last 64 KiB, which
/// `memory.x` keeps out of the program); and the flash-programming routine `flash_op` is linked into
/// RAM (it runs while the flash cannot be read; in flash it would crash the first checkpoint save).
fn rp_pico_layout(elf: &Path) -> Result<(), String> {
    use object::{Object, ObjectSection, ObjectSymbol};
    const XIP: u64 = 0x1000_0000;
    const WINDOW: u64 = XIP + 0x1F_0000;
    const RAM: u64 = 0x2000_0000;
    let data = std::fs::read(elf).map_err(|e| format!("cannot read {}: {e}", elf.display()))?;
    let file = object::File::parse(&*data).map_err(|e| format!("{}: {e}", elf.display()))?;
    let boot2 = file.section_by_name(".boot2").ok_or("no .boot2 section")?;
    if boot2.address() != XIP || boot2.size() != 256 {
        return Err(format!(
            ".boot2 at {:#x}, {} bytes: must be the first 256 bytes of flash",
            boot2.address(),
            boot2.size()
        ));
    }
    // The load image: every section placed in flash, then `.data`'s initial values, which the linker
    // stores right after them (allow 16 bytes of alignment padding).
    let in_flash = file
        .sections()
        .filter(|s| s.size() > 0 && (XIP..RAM).contains(&s.address()))
        .map(|s| s.address() + s.size())
        .max()
        .unwrap_or(XIP);
    let data = file.section_by_name(".data").map_or(0, |s| s.size());
    let image_end = in_flash + data + 16;
    if image_end > WINDOW {
        return Err(format!(
            "the flash image ends at {image_end:#x}, inside the checkpoint window at {WINDOW:#x}"
        ));
    }
    let flash_op = file
        .symbols()
        .find(|s| s.name().is_ok_and(|n| n.contains("flash_op")) && s.size() > 0)
        .ok_or("no flash_op symbol")?;
    if flash_op.address() < RAM {
        return Err(format!(
            "flash_op is at {:#x}, in flash: it must run from RAM (link_section .data.ram_func)",
            flash_op.address()
        ));
    }
    println!(
        "layout ok: .boot2 at {XIP:#x}, flash image ends at {image_end:#x} (window at {WINDOW:#x}), \
         flash_op in RAM at {:#x}",
        flash_op.address()
    );
    Ok(())
}

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

/// Builds every board's firmware (release) and checks its layout.
pub fn build(root: &Path) -> Result<(), String> {
    for b in BOARDS {
        crate::run_in(
            &root.join(b.dir),
            "cargo",
            &["build", "--release", "--target", b.target],
            &[],
        )?;
        for p in b.programs {
            (b.layout)(&b.elf(root, p))?;
        }
    }
    Ok(())
}
