//! # engram on an emulated Cortex-M: the firmware harness
//!
//! The programs in `src/bin/` (one per file) run engram's experiments and micro-benchmarks under QEMU,
//! the real firmware with no host in the loop:
//!
//! | program | what it does |
//! | --- | --- |
//! | `izhikevich2003` | the Izhikevich (2003) network (1000 neurons on mps2-an386, 64 on the micro:bit) for `<steps>` steps from `<seed>` |
//! | `brette-cuba` | the Brette et al. (2007) CUBA benchmark (4000 LIF neurons on mps2-an386, 200 on the micro:bit) |
//! | `distal-reward` | Izhikevich (2007) dopamine-modulated STDP, `Config::check` (1000 neurons, 80 000 plastic synapses on mps2-an386; 50 neurons on the micro:bit) |
//! | `homeostasis-scaling`, `homeostasis-intrinsic` | synaptic scaling / intrinsic plasticity toward a target rate, `Config::check` (50 LIF neurons × 100 inputs; 10 × 20 on the micro:bit) |
//! | `pes` | PES decoders of x², `Config::check` (100 LIF neurons on both) |
//! | `eprop` | e-prop pattern generation, `Config::check` (20 inputs, 50 recurrent LIF neurons; 16 on the micro:bit) |
//! | `oja-pca`, `bcm` | Oja (1982) and BCM (1982) rate neurons, their published configurations (the same on both) |
//! | `song2000` | Song, Miller & Abbott (2000) STDP, `Config::check` (1000 + 200 Poisson inputs onto 1 conductance LIF neuron, the same on both) |
//! | `bandit`, `phototaxis`, `cartpole` | the closed-loop experiments with their simulated world on the chip, `Config::check` (the same size on both) |
//! | `bench` | instructions per neuron update (per model), per synapse event (dense, sparse) and per plastic synapse update (per rule and moment) |
//! | `kernels` | golden-vector digests of the fixed-point kernels (`engram_lab::kernels`), compared with the host's |
//! | `pil` | processor in the loop: `pil [<seed>]` serves the bandit agent over UART0 ([`uart`]) with `engram_lab::pil::Board`; the host (`engram pil bandit --qemu`) runs the world |
//! | `bench-link` | instructions to encode and decode each engram-link message kind (frames of `engram_link`) |
//! | `selftest` | `<ok\|panic\|fault\|hang>`: proves a panic or a HardFault exits non-zero with its message / PC, and a hang times out |
//!
//! This library is what they share: logging ([`defmt`] over semihosting), the arguments
//! ([`args`]), the exit status ([`exit`]), the panic and HardFault handlers, the SysTick
//! instruction counter ([`Counter`]) and the experiment driver ([`run`]).
//!
//! ## Output contract (read by `cargo xtask qemu`)
//! Result lines are `defmt::println!` (printed whatever `DEFMT_LOG` says), one fact per line:
//! `experiment <name>`, `steps <n>`, `spikes <n>`, `part <name> 0x<hash>`, `history 0x<hash>` (every
//! step's spikes, chained: see `engram_lab::History`), `hash 0x<hash>`,
//! `instructions <n>` (the step loop only), `bench <key> <instructions> <units>`,
//! `kernel <name> 0x<digest>`. The same
//! `steps`/`spikes`/`part`/`history`/`hash` lines come from the host's `engram run <exp> --hash`.
//!
//! ## Exit status
//! 0 success; 1 bad arguments or configuration; 101 panic (message logged); 3 HardFault (PC logged).
//! A hang is caught by the runner's `timeout` (124).
//!
//! ## Memory
//! No heap: every buffer is a `static` handed out once by [`static_cell::ConstStaticCell`] (built at
//! compile time in `.bss`, never copied through the stack), so `cargo xtask size` reports the RAM
//! exactly.
#![no_std]

pub mod bandit;
pub mod uart;

use cortex_m::peripheral::{SYST, syst::SystClkSource};
use cortex_m_rt::{ExceptionFrame, exception};
use defmt_semihosting as _;
use engram_lab::Simulation;

/// Exit status for bad arguments or a configuration error.
pub const EXIT_CONFIG: i32 = 1;
/// Exit status after a HardFault.
pub const EXIT_FAULT: i32 = 3;
/// Exit status after a panic (as a Rust test harness).
pub const EXIT_PANIC: i32 = 101;

/// A LIF neuron with every variable zero: the initialiser of `static` neuron storage (the networks
/// set their neurons' starting state when built).
pub const LIF_ZERO: engram::neuron::LifState = engram::neuron::LifState {
    v: engram::Fix::ZERO,
    g_exc: engram::Fix::ZERO,
    g_inh: engram::Fix::ZERO,
    refractory: 0,
};

/// Ends the emulation with `code` as QEMU's exit status (semihosting `SYS_EXIT_EXTENDED`).
pub fn exit(code: i32) -> ! {
    semihosting::process::exit(code)
}

/// Logs an error and exits with [`EXIT_CONFIG`].
pub fn fail(what: &str) -> ! {
    defmt::error!("error: {=str}", what);
    exit(EXIT_CONFIG)
}

/// Logs a configuration error (model construction) and exits with [`EXIT_CONFIG`].
pub fn fail_config(e: engram::ConfigError) -> ! {
    defmt::error!("configuration error: {}", e);
    exit(EXIT_CONFIG)
}

/// The core peripherals (taken once, at the start of `main`).
pub fn peripherals() -> cortex_m::Peripherals {
    cortex_m::Peripherals::take().unwrap_or_else(|| fail("core peripherals already taken"))
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    defmt::error!("panicked: {}", defmt::Display2Format(info));
    exit(EXIT_PANIC)
}

#[exception]
unsafe fn HardFault(ef: &ExceptionFrame) -> ! {
    defmt::error!(
        "HardFault at PC {=u32:#010x} (LR {=u32:#010x})",
        ef.pc(),
        ef.lr()
    );
    exit(EXIT_FAULT)
}

/// Maximum bytes of the semihosting command line.
const CMDLINE: usize = 256;

/// The firmware's command line: `<program> [<word>...]`, the words as given to QEMU's
/// `-semihosting-config arg=…` (the runner passes the ELF name first).
pub struct Args {
    words: [&'static str; 8],
    len: usize,
}

impl Args {
    /// Word `i` after the program name.
    pub fn get(&self, i: usize) -> Option<&'static str> {
        self.words.get(..self.len)?.get(i + 1).copied()
    }

    /// Word `i` as a number, `default` if absent; exits with a message if it is not a number.
    pub fn number(&self, i: usize, default: u64) -> u64 {
        match self.get(i) {
            None => default,
            Some(w) => w
                .parse()
                .unwrap_or_else(|_| fail("argument is not a number")),
        }
    }
}

/// Reads the command line (once: the words are kept in a `static` buffer).
pub fn args() -> Args {
    static BUF: static_cell::StaticCell<semihosting::experimental::env::Args<CMDLINE>> =
        static_cell::StaticCell::new();
    let mut out = Args {
        words: [""; 8],
        len: 0,
    };
    let Ok(a) = semihosting::experimental::env::args::<CMDLINE>() else {
        return out;
    };
    let a: &'static _ = BUF.init(a);
    for w in a.into_iter().flatten() {
        if let Some(slot) = out.words.get_mut(out.len) {
            *slot = w;
            out.len += 1;
        }
    }
    out
}

/// Counts executed instructions with SysTick.
///
/// Under `qemu-system-arm -icount shift=0` every instruction advances virtual time by 1 ns, and SysTick
/// (core clock) ticks every `1e9 / f_core` ns: 40 instructions per tick on mps2-an386 (25 MHz), 62.5 on
/// the micro:bit (16 MHz), see [`TICK_INSTRUCTIONS`]. The
/// count is deterministic (the same on every run) and is an *instruction* count: QEMU models no
/// pipeline, wait states or cache. The factor is checked at run time by `bench` (a loop of known
/// length) — see [`calibrate`]. SysTick has 24 bits: one measured window must stay below 2^24 ticks
/// (671 M instructions); longer runs are summed window by window.
#[derive(Debug, Default)]
pub struct Counter {
    last: u32,
    ticks: u64,
}

/// SysTick reload: the full 24 bits.
const RELOAD: u32 = 0x00FF_FFFF;

/// Starts SysTick free-running from the core clock over its full 24 bits, no interrupt. Any number
/// of [`Counter`]s can then measure windows of it.
pub fn start_systick(mut syst: SYST) {
    syst.disable_interrupt();
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(RELOAD);
    syst.clear_current();
    syst.enable_counter();
}

impl Counter {
    /// A counter with nothing counted, its window starting now.
    pub fn new() -> Counter {
        Counter {
            last: SYST::get_current(),
            ticks: 0,
        }
    }

    /// Restarts the window: what ran since the last `lap` is not counted.
    #[inline(always)]
    pub fn reset(&mut self) {
        self.last = SYST::get_current();
    }

    /// Adds the ticks since the last `lap`/`reset` to the total (the counter counts down).
    #[inline(always)]
    pub fn lap(&mut self) {
        let now = SYST::get_current();
        self.ticks += (self.last.wrapping_sub(now) & RELOAD) as u64;
        self.last = now;
    }

    /// Total ticks counted.
    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    /// Clears the total and restarts the window.
    pub fn clear(&mut self) {
        self.ticks = 0;
        self.reset();
    }
}

/// Instructions per SysTick tick on this machine as a fraction `(numerator, denominator)`, assuming
/// `-icount shift=0` (1 ns of virtual time per instruction): SysTick runs from the core clock, 25 MHz on
/// mps2-an386 (40 ns: 40 instructions per tick) and 16 MHz on the micro:bit's nRF51 (62.5 ns: 125/2).
/// `bench` checks the factor with [`calibrate`].
pub const TICK_INSTRUCTIONS: (u64, u64) = if cfg!(feature = "microbit") {
    (125, 2)
} else {
    (40, 1)
};

/// SysTick ticks converted to instructions (see [`TICK_INSTRUCTIONS`]).
pub const fn instructions(ticks: u64) -> u64 {
    ticks * TICK_INSTRUCTIONS.0 / TICK_INSTRUCTIONS.1
}

/// Runs a loop of exactly `2·n` instructions (`subs` + `bne`) and returns the SysTick ticks it took:
/// the calibration of [`TICK_INSTRUCTIONS`].
pub fn calibrate(c: &mut Counter, n: u32) -> u64 {
    c.clear();
    // SAFETY: a register-only countdown loop; touches no memory.
    unsafe {
        core::arch::asm!(
            "2:",
            "subs {0}, #1",
            "bne 2b",
            inout(reg) n => _,
            options(nomem, nostack)
        );
    }
    c.lap();
    c.ticks()
}

/// Steps `sim` `steps` times, counting the instructions of `step` alone (the spike count and history
/// are kept outside the counted windows), then logs the result lines (see the crate doc) and exits 0.
pub fn run(name: &str, sim: &mut dyn Simulation, steps: u64, syst: SYST) -> ! {
    defmt::println!("experiment {=str}", name);
    start_systick(syst);
    let mut c = Counter::new();
    let mut spikes = 0u64;
    let mut history = engram_lab::History::new();
    for _ in 0..steps {
        c.reset();
        sim.step();
        c.lap();
        spikes += sim.spike_count() as u64;
        history.record(sim);
    }
    defmt::println!("steps {=u64}", sim.steps());
    defmt::println!("spikes {=u64}", spikes);
    sim.hash_parts(&mut |n, h| defmt::println!("part {=str} {=u64:#018x}", n, h));
    defmt::println!("history {=u64:#018x}", history.finish());
    defmt::println!("hash {=u64:#018x}", sim.state_hash());
    defmt::println!("ticks {=u64}", c.ticks());
    defmt::println!("instructions {=u64}", instructions(c.ticks()));
    exit(0)
}
