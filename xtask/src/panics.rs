//! `cargo xtask panics`: where the firmware can still panic, and whether any of it is on the step path.
//!
//! A panic in the step loop of a device that learns unattended is a reset and, without a fresh
//! checkpoint, lost learning. The "panic-never" trick (a panic handler that calls an undefined symbol)
//! proves there is none at link time, but only for a whole program, and it says nothing about *where*
//! a remaining panic is: every firmware program here still has panics in code that is allowed to fail
//! (argument parsing over semihosting, `static_cell`'s double-init check, configuration-time
//! arithmetic), so it cannot link. This check is the same proof restricted to the step path, read off
//! the release ELF that CI runs (fat LTO: what is in the binary is what the optimiser could not
//! remove):
//!
//! 1. `llvm-objdump -d` (rustup's `llvm-tools`) gives every function and every direct call or tail
//!    call (`bl`, `b`/`b.w` to another function's entry);
//! 2. the *panic family* is every function whose name says it panics (`core::panicking::*`,
//!    `core::slice::index::*` failures, `unwrap_failed`, `expect_failed`, `rust_begin_unwind`, …);
//! 3. the *step path* is every function reachable by direct calls from an experiment's
//!    `<… as engram_lab::Simulation>::step` (the loop body the firmware runs), not entering the panic
//!    family;
//! 4. a *panic site* is a call from a function outside the family into it; `addr2line -i` (binutils)
//!    names the source lines, inlined frames included.
//!
//! The goal is no panic site on any step path. Until every one is removed, the check is a ratchet:
//! `boards/qemu-mps2-an386/panics.toml` holds each program's count of step-path sites, and CI fails
//! if a count grows (a new panic reached from a step) or a program loses its step function (the
//! analysis would no longer see anything); `--bless` rewrites the file after a site is removed. The
//! sites are printed with their source lines (inlined frames included) so each can be found. Sites
//! elsewhere (argument parsing, construction, the harness) are counted and reported. Indirect calls (through a `dyn` vtable or a function pointer) are not
//! followed: the core's step path has none (its dispatch is by `enum` and generics), so a function
//! reached only through one would be missed — the report prints how many indirect calls the step
//! path makes so that a new one is noticed.

use crate::qemu::{self, Machine};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Programs that are experiments (the others are benchmarks and harness checks).
fn experiment_programs() -> impl Iterator<Item = &'static str> {
    qemu::PROGRAMS.into_iter().filter(|p| {
        !matches!(
            *p,
            "bench" | "bench-plastic" | "kernels" | "selftest" | "pil" | "bench-link"
        )
    })
}

/// One function of the disassembly.
#[derive(Debug, Default)]
struct Function {
    /// Direct calls and tail calls: (instruction address, callee name).
    calls: Vec<(u64, String)>,
    /// Indirect calls (`blx rN`).
    indirect: usize,
}

/// What the analysis of one ELF found.
#[derive(Debug, Default)]
pub struct Findings {
    /// Every panic site: (address, function it is in).
    pub sites: Vec<(u64, String)>,
    /// The sites on the step path.
    pub step_sites: Vec<(u64, String)>,
    /// Functions on the step path.
    pub step_functions: usize,
    /// Indirect calls made by step-path functions.
    pub step_indirect: usize,
}

/// The committed step-path counts, relative to the workspace root.
const BASELINE: &str = "boards/qemu-mps2-an386/panics.toml";

/// `cargo xtask panics [--bless] [--verbose]`: builds the firmware and analyses every experiment
/// program on both machines.
pub fn panics(root: &Path, args: &[String]) -> Result<(), String> {
    let bless = args.iter().any(|a| a == "--bless");
    let verbose = args.iter().any(|a| a == "--verbose");
    qemu::build_firmware(root)?;
    let objdump = llvm_tool("llvm-objdump")?;
    let path = root.join(BASELINE);
    let baseline: toml::Table = if bless {
        toml::Table::new()
    } else {
        std::fs::read_to_string(&path)
            .map_err(|e| {
                format!(
                    "cannot read {} ({e}); create it with --bless",
                    path.display()
                )
            })?
            .parse()
            .map_err(|e| format!("{}: {e}", path.display()))?
    };
    let mut measured: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    let mut failures = vec![];
    println!("\n== panic sites (release ELF, direct calls from `Simulation::step`)");
    println!(
        "  {:<11} {:<22} {:>11} {:>14} {:>9} {:>10} {:>9}",
        "machine", "program", "panic sites", "on step path", "baseline", "step fns", "indirect"
    );
    for m in Machine::ALL {
        for prog in experiment_programs() {
            let elf = m.elf(root, prog);
            let f = analyse(&objdump, &elf)?;
            let base = baseline
                .get(m.name())
                .and_then(|t| t.get(prog))
                .and_then(|v| v.as_integer())
                .map(|v| v as usize);
            let n = f.step_sites.len();
            println!(
                "  {:<11} {:<22} {:>11} {:>14} {:>9} {:>10} {:>9}",
                m.name(),
                prog,
                f.sites.len(),
                n,
                base.map_or("-".into(), |b| b.to_string()),
                f.step_functions,
                f.step_indirect
            );
            measured.entry(m.name()).or_default().insert(prog, n);
            if f.step_functions == 0 {
                failures.push(format!(
                    "{} {prog}: no `Simulation::step` found (inlined? renamed?)",
                    m.name()
                ));
            }
            let grew = !bless && n > base.unwrap_or(0);
            if grew {
                failures.push(format!(
                    "{} {prog}: {n} panic sites on the step path, {} allowed",
                    m.name(),
                    base.unwrap_or(0)
                ));
            }
            if grew || verbose {
                for (addr, func) in &f.step_sites {
                    println!("    {addr:#x} in {func}\n{}", source_lines(&elf, *addr)?);
                }
            }
        }
    }
    if bless {
        let mut text = String::from(
            "# Panic sites reachable from each experiment's `Simulation::step` in its release firmware\n\
             # (`cargo xtask panics`, see xtask/src/panics.rs). CI fails if a count grows; the goal is 0\n\
             # everywhere. After removing one, lower it with `cargo xtask panics --bless`.\n",
        );
        for (m, progs) in &measured {
            text.push_str(&format!("\n[{m}]\n"));
            for (p, n) in progs {
                text.push_str(&format!("\"{p}\" = {n}\n"));
            }
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    let total: usize = measured.values().flat_map(|p| p.values()).sum();
    println!("  {total} panic sites on step paths in all (goal: 0)");
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "panic sites on the step path:\n  {}",
            failures.join("\n  ")
        ))
    }
}

/// A tool of rustup's `llvm-tools` component, in the active toolchain's sysroot.
fn llvm_tool(name: &str) -> Result<PathBuf, String> {
    let out = |args: &[&str]| {
        Command::new("rustc")
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let sysroot = out(&["--print", "sysroot"]).ok_or("cannot run rustc")?;
    let host = out(&["-vV"])
        .and_then(|v| {
            v.lines()
                .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        })
        .ok_or("cannot read the host triple from `rustc -vV`")?;
    let path = Path::new(&sysroot)
        .join("lib/rustlib")
        .join(host)
        .join("bin")
        .join(name);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} not found: `rustup component add llvm-tools`",
            path.display()
        ))
    }
}

/// Disassembles `elf` and finds its panic sites and step path.
fn analyse(objdump: &Path, elf: &Path) -> Result<Findings, String> {
    let out = Command::new(objdump)
        .args(["-d", "-C", "--no-show-raw-insn"])
        .arg(elf)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", objdump.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} {}: {}",
            objdump.display(),
            elf.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let fns = parse(&String::from_utf8_lossy(&out.stdout));
    // Calls whose source position lies inside an inlined `Simulation::step` (LTO inlines the step into
    // the firmware's loop when there is one implementation) are on the step path too.
    let addrs: Vec<u64> = fns
        .values()
        .flat_map(|f| f.calls.iter().map(|c| c.0))
        .collect();
    let frames = inline_frames(elf, &addrs)?;
    let inlined: BTreeSet<u64> = frames
        .into_iter()
        .filter(|(_, fs)| fs.iter().any(|f| is_step(f)))
        .map(|(a, _)| a)
        .collect();
    Ok(findings(&fns, &inlined))
}

/// Whether a function name is an experiment's step (the root of the step path).
fn is_step(name: &str) -> bool {
    name.contains("as engram_lab::Simulation>::step")
}

/// The function names of the inlined frames at each address (`addr2line -i -f -C -a`).
fn inline_frames(elf: &Path, addrs: &[u64]) -> Result<BTreeMap<u64, Vec<String>>, String> {
    let mut cmd = Command::new("addr2line");
    cmd.args(["-i", "-f", "-C", "-a", "-e"]).arg(elf);
    cmd.args(addrs.iter().map(|a| format!("{a:#x}")));
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run addr2line (binutils): {e}"))?;
    let mut map: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let mut current = None;
    // `-a` prints the address, then (function, file:line) pairs
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if let Some(hex) = l.strip_prefix("0x") {
            current = u64::from_str_radix(hex, 16).ok();
            continue;
        }
        let _file = lines.next();
        if let Some(a) = current {
            map.entry(a).or_default().push(l.to_string());
        }
    }
    Ok(map)
}

/// Functions and their calls from `llvm-objdump -d` output.
fn parse(text: &str) -> BTreeMap<String, Function> {
    let mut fns: BTreeMap<String, Function> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        // `00009414 <name>:` starts a function
        if let Some(name) = line
            .split_once(" <")
            .filter(|(a, _)| !a.is_empty() && a.chars().all(|c| c.is_ascii_hexdigit()))
            .and_then(|(_, rest)| rest.strip_suffix(">:"))
        {
            let name = normalise(name);
            fns.entry(name.clone()).or_default();
            current = Some(name);
            continue;
        }
        let Some(cur) = current.as_ref() else {
            continue;
        };
        // `    9fa:      	bl	0x2af2 <target> @ imm = #0x20f4`
        let mut parts = line.trim_start().splitn(3, '\t');
        let (Some(addr), Some(op), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let Ok(addr) = u64::from_str_radix(addr.trim().trim_end_matches(':'), 16) else {
            continue;
        };
        let op = op.trim();
        if op == "blx" && !rest.contains('<') {
            if let Some(f) = fns.get_mut(cur) {
                f.indirect += 1;
            }
            continue;
        }
        if !matches!(op, "bl" | "blx" | "b" | "b.w") {
            continue;
        }
        let Some(target) = rest
            .split_once('<')
            .and_then(|(_, t)| t.split_once('>'))
            .map(|(t, _)| t)
        else {
            continue;
        };
        // `<f+0x12>` is a branch inside a function, not a call
        if target.contains("+0x") {
            continue;
        }
        let target = normalise(target);
        if &target != cur
            && let Some(f) = fns.get_mut(cur)
        {
            f.calls.push((addr, target));
        }
    }
    fns
}

/// A symbol as a Rust path: legacy-mangling escapes undone and the hash suffix dropped.
fn normalise(name: &str) -> String {
    let mut s = name
        .replace("_$LT$", "<")
        .replace("$LT$", "<")
        .replace("$GT$", ">")
        .replace("$u20$", " ")
        .replace("$RF$", "&")
        .replace("$C$", ",")
        .replace("$u7b$", "{")
        .replace("$u7d$", "}")
        .replace("..", "::");
    if let Some(i) = s.rfind("::h")
        && s.len() - i == 19
        && s[i + 3..].chars().all(|c| c.is_ascii_hexdigit())
    {
        s.truncate(i);
    }
    s
}

/// Whether a function's name says it panics.
fn is_panic(name: &str) -> bool {
    name.contains("panic")
        || name.starts_with("core::slice::index::")
        || name.contains("unwrap_failed")
        || name.contains("expect_failed")
        || name.contains("assert_failed")
        || name.contains("rust_begin_unwind")
}

/// The panic sites of `fns`, and which are on the step path: reachable from a function named as an
/// experiment's step, or from a call at one of the `inlined` addresses (inside an inlined step).
fn findings(fns: &BTreeMap<String, Function>, inlined: &BTreeSet<u64>) -> Findings {
    let mut queue: VecDeque<&str> = fns
        .keys()
        .filter(|n| is_step(n))
        .map(String::as_str)
        .collect();
    for f in fns.values() {
        queue.extend(
            f.calls
                .iter()
                .filter(|(a, _)| inlined.contains(a))
                .map(|(_, t)| t.as_str()),
        );
    }
    let mut step: BTreeSet<&str> = BTreeSet::new();
    while let Some(f) = queue.pop_front() {
        if is_panic(f) || !step.insert(f) {
            continue;
        }
        if let Some(func) = fns.get(f) {
            queue.extend(func.calls.iter().map(|(_, t)| t.as_str()));
        }
    }
    let mut out = Findings {
        step_functions: step.len() + usize::from(!inlined.is_empty()),
        step_indirect: step
            .iter()
            .filter_map(|f| fns.get(*f))
            .map(|f| f.indirect)
            .sum(),
        ..Findings::default()
    };
    for (name, f) in fns.iter().filter(|(n, _)| !is_panic(n)) {
        for (addr, target) in &f.calls {
            if is_panic(target) {
                out.sites.push((*addr, name.clone()));
                if step.contains(name.as_str()) || inlined.contains(addr) {
                    out.step_sites.push((*addr, name.clone()));
                }
            }
        }
    }
    out
}

/// The source lines of `addr`, inlined frames included (innermost first), from `addr2line -i`.
fn source_lines(elf: &Path, addr: u64) -> Result<String, String> {
    let out = Command::new("addr2line")
        .args(["-i", "-f", "-C", "-e"])
        .arg(elf)
        .arg(format!("{addr:#x}"))
        .output()
        .map_err(|e| format!("cannot run addr2line (binutils): {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    Ok(lines
        .chunks(2)
        .map(|c| format!("      {} at {}", c[0], c.get(1).unwrap_or(&"?")))
        .collect::<Vec<_>>()
        .join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "\
00000458 <_$LT$engram_lab..x..Network$u20$as$u20$engram_lab..Simulation$GT$::step::h5c23c2bab8a24c75>:
     460:      \tbl\t0x600 <engram::helper::h0123456789abcdef> @ imm = #0x1
     462:      \tbeq\t0x470 <_$LT$engram_lab..x..Network$u20$as$u20$engram_lab..Simulation$GT$::step::h5c23c2bab8a24c75+0x18> @ imm = #0x1
     464:      \tblx\tr3
00000600 <engram::helper::h0123456789abcdef>:
     610:      \tbl\t0x900 <core::panicking::panic_fmt> @ imm = #0x1
00000700 <engram_lab::x::Network::new::h0123456789abcdef>:
     710:      \tbl\t0x900 <core::panicking::panic_fmt> @ imm = #0x1
     712:      \tb.w\t0x950 <core::slice::index::slice_index_fail> @ imm = #0x1
00000900 <core::panicking::panic_fmt>:
     910:      \tbl\t0x600 <engram::helper::h0123456789abcdef> @ imm = #0x1
";

    #[test]
    fn sites_on_and_off_the_step_path() {
        let f = findings(&parse(DUMP), &BTreeSet::new());
        assert_eq!(f.sites.len(), 3);
        assert_eq!(f.step_sites, [(0x610, "engram::helper".to_string())]);
        assert_eq!((f.step_functions, f.step_indirect), (2, 1));
        // a call inside an inlined step: its own site and its callee's are on the step path
        let f = findings(&parse(DUMP), &BTreeSet::from([0x712]));
        assert_eq!(f.step_sites.len(), 2);
    }

    #[test]
    fn names_are_normalised() {
        assert_eq!(
            normalise(
                "_$LT$engram_lab..x..Network$u20$as$u20$engram_lab..Simulation$GT$::step::h5c23c2bab8a24c75"
            ),
            "<engram_lab::x::Network as engram_lab::Simulation>::step"
        );
        assert_eq!(
            normalise("core::panicking::panic"),
            "core::panicking::panic"
        );
    }
}
