//! `cargo xtask size`: flash and static RAM of every firmware program, read from its ELF.
//!
//! - **flash** = the load image: `.vector_table` (and the RP2040's `.boot2`), `.text`, `.rodata` and
//!   the initial values of `.data` (every allocated section that is not `NOBITS` and lies in the flash
//!   region).
//! - **static RAM** = `.data` + `.bss` + `.uninit` (allocated sections in RAM). The firmware has no
//!   heap, so this is all the RAM it uses besides the stack, which grows down from the top of RAM
//!   into whatever is left.
//! - **engram's share** = flash and RAM above the `selftest` program of the same machine, which is the
//!   harness alone (runtime, defmt, semihosting, fault and panic handlers) and no engram code: what the
//!   core and the experiment add, including their configuration-time float code. (Symbol sizes cannot
//!   give this split: with fat LTO most of the core is inlined into each program's `main`.)

use crate::qemu::{Machine, PROGRAMS};
use object::{Object, ObjectSection, SectionFlags, SectionKind};
use std::path::Path;

/// Sizes of one program.
#[derive(Debug, Clone, Copy, Default)]
pub struct Footprint {
    /// Bytes in flash.
    pub flash: u64,
    /// Bytes of static RAM.
    pub ram: u64,
}

/// RAM region start on both emulated machines and on the RP2040 (whose flash is mapped at `0x1000_0000`).
const RAM_START: u64 = 0x2000_0000;

/// Reads the footprint of an ELF.
pub fn footprint(elf: &Path) -> Result<Footprint, String> {
    let data = std::fs::read(elf).map_err(|e| format!("cannot read {}: {e}", elf.display()))?;
    let file = object::File::parse(&*data).map_err(|e| format!("{}: {e}", elf.display()))?;
    let mut f = Footprint::default();
    for s in file.sections() {
        let alloc = match s.flags() {
            SectionFlags::Elf { sh_flags } => sh_flags & u64::from(object::elf::SHF_ALLOC) != 0,
            _ => false,
        };
        if !alloc || s.size() == 0 {
            continue;
        }
        let in_ram = s.address() >= RAM_START;
        let nobits = matches!(
            s.kind(),
            SectionKind::UninitializedData | SectionKind::UninitializedTls
        );
        if in_ram {
            f.ram += s.size();
            if !nobits {
                f.flash += s.size(); // .data's initial values are stored in flash
            }
        } else if !nobits {
            f.flash += s.size();
        }
    }
    Ok(f)
}

/// `cargo xtask size`: builds the firmware and prints a table of footprints.
pub fn size(root: &Path) -> Result<(), String> {
    crate::qemu::build_firmware(root)?;
    crate::boards::build(root)?;
    crate::microbit::build(root)?;
    println!("\n{}", table(root)?);
    Ok(())
}

/// The footprint table (Markdown) of every program on every machine.
pub fn table(root: &Path) -> Result<String, String> {
    let mut out = String::from(
        "| machine | program | flash (bytes) | static RAM (bytes) | engram's share: flash / RAM above the harness (bytes) |\n\
         | --- | --- | ---: | ---: | ---: |\n",
    );
    for m in Machine::ALL {
        let base = footprint(&m.elf(root, "selftest"))?;
        for p in PROGRAMS {
            let elf = m.elf(root, p);
            if !elf.exists() {
                continue;
            }
            let f = footprint(&elf)?;
            let share = if p == "selftest" {
                "(the harness)".to_string()
            } else {
                format!(
                    "{} / {}",
                    f.flash.saturating_sub(base.flash),
                    f.ram.saturating_sub(base.ram)
                )
            };
            out.push_str(&format!(
                "| {} | {p} | {} | {} | {share} |\n",
                m.name(),
                f.flash,
                f.ram
            ));
        }
    }
    // Real boards: no harness-only program to subtract, so no share column.
    for b in crate::boards::BOARDS {
        for p in b.programs {
            let f = footprint(&b.elf(root, p))?;
            out.push_str(&format!(
                "| {} | {p} | {} | {} | (whole firmware: HAL, USB, defmt) |\n",
                b.name, f.flash, f.ram
            ));
        }
    }
    // The micro:bit v2 programs: a real board (HAL, display, UART, flash, defmt-rtt), no QEMU
    // harness to subtract.
    for p in crate::microbit::PROGRAMS {
        let elf = crate::microbit::elf(root, p);
        if !elf.exists() {
            continue;
        }
        let f = footprint(&elf)?;
        out.push_str(&format!(
            "| microbit-v2 (nRF52833) | {p} | {} | {} | (whole firmware) |\n",
            f.flash, f.ram
        ));
    }
    Ok(out)
}
