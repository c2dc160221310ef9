//! Processor in the loop: `pil [<seed>]` (default 1) serves the bandit agent (`bandit::Config::check`)
//! over UART0 with `engram_lab::pil::Board`: it sends its `Hello`, then answers every `Observation`
//! from the host with one control period of network steps and an `Action`, sends `Telemetry` every
//! 20 actions, and obeys `Command`s. The host runs the world: `engram pil bandit --qemu`.
//!
//! The host going silent for a second (virtual time) is counted and logged; the agent only steps on
//! observations, so it holds its last action and keeps its state until the host comes back.
//! On the micro:bit build (no CMSDK UART) the program only reports that it does not run there.
#![no_std]
#![no_main]

#[cfg(feature = "microbit")]
#[cortex_m_rt::entry]
fn main() -> ! {
    engram_qemu_mps2_an386::fail(
        "pil runs on mps2-an386 only (the micro:bit machine has no CMSDK UART)",
    )
}

#[cfg(not(feature = "microbit"))]
mod serve {
    use cortex_m::peripheral::SYST;
    use engram_lab::bandit::{Config, Network};
    use engram_lab::pil::{Board, Clock};
    use engram_qemu_mps2_an386::{self as fw, Counter, uart::Uart};

    /// Core clock of mps2-an386 (SysTick ticks per second of virtual time).
    const CORE_HZ: u32 = 25_000_000;
    /// UART baud rate (QEMU ignores it; BAUDDIV = 217).
    const BAUD: u32 = 115_200;
    /// Host silent this long (SysTick ticks: 1 s) → counted as a silence.
    const SILENCE_TICKS: u64 = CORE_HZ as u64;
    /// Telemetry every this many actions.
    const TELEMETRY_PERIOD: u32 = 20;

    /// SysTick as an up-counting 24-bit clock.
    struct SysTickClock;

    impl Clock for SysTickClock {
        const MASK: u32 = 0x00FF_FFFF;
        fn now(&mut self) -> u32 {
            Self::MASK - SYST::get_current()
        }
    }

    pub fn main() -> ! {
        let args = fw::args();
        let seed = args.number(0, 1);
        let p = fw::peripherals();
        fw::start_systick(p.SYST);
        let st = fw::bandit::storage();
        let cfg = Config::check(seed);
        let net = Network::new(&cfg, st).unwrap_or_else(|e| fw::fail_config(e));
        // Deadline: one trial of `trial_ms` steps of 1 ms at 25 MHz, counting one cycle per
        // instruction (QEMU counts instructions: 40 per SysTick tick under -icount shift=0).
        let (num, den) = fw::TICK_INSTRUCTIONS;
        let cycles = u64::from(cfg.trial_ms) * u64::from(CORE_HZ / 1000);
        let budget = u32::try_from(cycles * den / num).unwrap_or(u32::MAX);
        let mut board = Board::new(
            net,
            "qemu-mps2-an386",
            SysTickClock,
            budget,
            TELEMETRY_PERIOD,
        );
        let mut uart = Uart::uart0(CORE_HZ, BAUD);
        uart.enable_wakeup();
        defmt::println!("pil bandit seed {=u64}: serving on UART0", seed);
        board.hello(&mut |f| uart.write_all(f));
        let mut idle = Counter::new();
        let mut silent = false;
        loop {
            match uart.try_read() {
                Some(b) => {
                    if silent {
                        defmt::println!("host back");
                        silent = false;
                    }
                    board.receive(&[b], &mut |f| uart.write_all(f));
                    idle.clear();
                }
                None => {
                    uart.wait();
                    idle.lap();
                    if !silent && idle.ticks() > SILENCE_TICKS {
                        silent = true;
                        board.silence();
                        let st = board.stats();
                        defmt::println!(
                            "host silent: holding the last action, state kept (periods {=u32}, silences {=u32}, link errors {=u32}, repeats {=u32})",
                            st.periods,
                            st.silences,
                            board.errors().total(),
                            st.repeats
                        );
                        if let Some(per) = st.compute_ticks.checked_div(u64::from(st.periods)) {
                            defmt::println!(
                                "compute {=u64} instructions per control period (SysTick, -icount shift=0)",
                                fw::instructions(per)
                            );
                        }
                    }
                }
            }
        }
    }
}

#[cfg(not(feature = "microbit"))]
#[cortex_m_rt::entry]
fn main() -> ! {
    serve::main()
}
