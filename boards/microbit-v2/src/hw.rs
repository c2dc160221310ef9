//! The hardware side (board target only): peripherals, interrupts, logging, fault handlers, and the
//! loop that drives a [`Runner`].
//!
//! | resource | use |
//! | --- | --- |
//! | TIMER0 | the 20 ms control tick (interrupt counts ticks; `main` runs the step) |
//! | TIMER1 | LED matrix refresh (microbit-v2's non-blocking display, in its interrupt) |
//! | TIMER2 | the accelerometer driver's delays |
//! | TWIM0 on P0.08 SCL / P0.16 SDA (internal bus) | LSM303AGR at 100 kHz |
//! | UARTE0 on P0.06 TX / P1.08 RX, 115 200 8N1 | engram-link frames to the interface chip's USB serial |
//! | NVMC, flash 0x7E000..0x80000 | checkpoints (two 4 KiB slots, see `memory.x`) |
//! | DWT CYCCNT (64 MHz) | step cost |
//! | P0.14 / P0.23 | buttons A (reward) and B (punishment), active low |

use core::cell::RefCell;
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::DWT;
use cortex_m_rt::{ExceptionFrame, exception};
use critical_section::Mutex;
use defmt_rtt as _;
use embedded_hal::digital::InputPin;
use engram::Fix;
use engram_board::actuator::Pattern;
use engram_board::sensor::{AccelConfig, Accelerometer};
use engram_board::{CheckpointStore, Region};
use microbit::Board;
use microbit::display::nonblocking::{BitImage, Display};
use microbit::hal::nvmc::Nvmc;
use microbit::hal::pac::{self, interrupt};
use microbit::hal::timer::{Periodic, Timer};
use microbit::hal::{twim, uarte};

use crate::demos::Demo;
use crate::{BootReport, Buttons, FrameSink, Runner, Settings};

/// Control period (µs of TIMER0 at 1 MHz).
pub const PERIOD_US: u32 = 20_000;
/// Core clock (Hz).
pub const CORE_HZ: u32 = 64_000_000;
/// Bytes of the checkpoint region (`memory.x`: `CHECKPOINT`).
pub const CHECKPOINT_BYTES: usize = 8192;
/// Log a health line every this many steps.
const LOG_EVERY: u32 = 250;

static TICKS: AtomicU32 = AtomicU32::new(0);
static CONTROL: Mutex<RefCell<Option<Timer<pac::TIMER0, Periodic>>>> =
    Mutex::new(RefCell::new(None));
static DISPLAY: Mutex<RefCell<Option<Display<pac::TIMER1>>>> = Mutex::new(RefCell::new(None));

#[interrupt]
fn TIMER0() {
    critical_section::with(|cs| {
        if let Some(t) = CONTROL.borrow_ref_mut(cs).as_mut() {
            t.reset_event();
        }
    });
    TICKS.fetch_add(1, Ordering::Relaxed);
}

#[interrupt]
fn TIMER1() {
    critical_section::with(|cs| {
        if let Some(d) = DISPLAY.borrow_ref_mut(cs).as_mut() {
            d.handle_display_event();
        }
    });
}

fn show(p: Pattern) {
    let image = BitImage::new(&p.to_grid());
    critical_section::with(|cs| {
        if let Some(d) = DISPLAY.borrow_ref_mut(cs).as_mut() {
            d.show(&image);
        }
    });
}

/// The UART as a frame sink: a failed or refused write is counted by the runner.
struct Serial(uarte::Uarte<pac::UARTE0>);

impl FrameSink for Serial {
    fn send(&mut self, frame: &[u8]) -> bool {
        self.0.write(frame).is_ok()
    }
}

unsafe extern "C" {
    /// First byte of the checkpoint region (`memory.x`).
    static mut _checkpoint_start: u8;
}

/// The checkpoint region as the `'static` byte slice the NVMC driver wants.
fn checkpoint_flash() -> &'static mut [u8] {
    // SAFETY: `_checkpoint_start` is the page-aligned start of the 8 KiB `CHECKPOINT` region of
    // `memory.x`, which the linker keeps free of code and data; this function is called once (from
    // `run`, which never returns), so the slice is the only reference to that memory, and the NVMC
    // driver only reads it or writes it through the NVMC's programming interface.
    unsafe {
        core::slice::from_raw_parts_mut(
            core::ptr::addr_of_mut!(_checkpoint_start),
            CHECKPOINT_BYTES,
        )
    }
}

/// Brings the board up, builds the demo with `make` on the accelerometer, and runs the control loop
/// forever.
pub fn run<D: Demo>(make: impl FnOnce() -> D) -> ! {
    let Some(board) = Board::take() else {
        defmt::panic!("peripherals already taken");
    };
    let mut dcb = board.DCB;
    let mut dwt = board.DWT;
    dcb.enable_trace();
    dwt.enable_cycle_counter();

    let display = Display::new(board.TIMER1, board.display_pins);
    critical_section::with(|cs| DISPLAY.borrow_ref_mut(cs).replace(display));

    let mut serial = Serial(uarte::Uarte::new(
        board.UARTE0,
        board.uart.into(),
        uarte::Parity::EXCLUDED,
        uarte::Baudrate::BAUD115200,
    ));
    let i2c = twim::Twim::new(
        board.TWIM0,
        board.i2c_internal.into(),
        twim::Frequency::K100,
    );
    let accel = Accelerometer::new(i2c, Timer::new(board.TIMER2), AccelConfig::default());
    let nvmc = Nvmc::new(board.NVMC, checkpoint_flash());
    let region = Region {
        offset: 0,
        slot_size: 4096,
        slots: 2,
    };
    let store = match CheckpointStore::new(nvmc, region) {
        Ok(s) => Some(s),
        Err(_) => {
            defmt::error!("checkpoint region unusable: learned state will not be saved");
            None
        }
    };
    let settings = Settings {
        budget_cycles: PERIOD_US * (CORE_HZ / 1_000_000),
        ..Settings::default()
    };
    let mut runner = Runner::new(make(), accel, store, settings);
    match runner.boot(&mut serial) {
        BootReport::Restored(seq) => defmt::info!("{}: restored checkpoint #{}", D::NAME, seq.0),
        BootReport::Fresh => defmt::info!("{}: no checkpoint, starting fresh", D::NAME),
        BootReport::Refused => {
            defmt::warn!(
                "{}: checkpoint of another model in flash, starting fresh",
                D::NAME
            )
        }
        BootReport::NoStorage => defmt::warn!("{}: no checkpoint storage", D::NAME),
    }

    let mut buttons = board.buttons;
    let mut feedback = Buttons::new();
    let mut control = Timer::periodic(board.TIMER0);
    control.enable_interrupt();
    control.start(PERIOD_US);
    critical_section::with(|cs| CONTROL.borrow_ref_mut(cs).replace(control));
    // SAFETY: the handlers above only touch state behind critical sections and an atomic.
    unsafe {
        pac::NVIC::unmask(pac::Interrupt::TIMER0);
        pac::NVIC::unmask(pac::Interrupt::TIMER1);
    }
    defmt::info!(
        "{}: control loop at {} Hz, budget {} cycles",
        D::NAME,
        1_000_000 / PERIOD_US,
        settings.budget_cycles
    );

    let mut seen = TICKS.load(Ordering::Relaxed);
    loop {
        let now = TICKS.load(Ordering::Relaxed);
        if now == seen {
            cortex_m::asm::wfi();
            continue;
        }
        runner.missed_ticks(now.wrapping_sub(seen).saturating_sub(1));
        seen = now;

        let start = DWT::cycle_count();
        // A pin read cannot fail on this chip (Infallible); an error reads as "not pressed".
        let a = buttons.button_a.is_low().unwrap_or(false);
        let b = buttons.button_b.is_low().unwrap_or(false);
        let fb = feedback.feedback(a, b);
        let (pattern, _) = runner.step(start, fb, &mut serial);
        show(pattern);
        let cost = runner.finish(DWT::cycle_count());
        if fb > Fix::ZERO {
            defmt::info!("reward (button A)");
        } else if fb < Fix::ZERO {
            defmt::info!("punishment (button B)");
        }
        if let Some(c) = cost
            && c.overrun
        {
            defmt::warn!("step overran: {} cycles", c.ticks);
        }
        match runner.checkpoint(&mut serial) {
            Some(Ok(seq)) => defmt::info!("checkpoint #{} saved", seq.0),
            Some(Err(())) => defmt::error!("checkpoint save failed (previous one kept)"),
            None => {}
        }
        let stats = runner.stats();
        if stats.steps.is_multiple_of(LOG_EVERY) {
            let h = runner.health();
            defmt::info!(
                "step {} objective {} | cost mean {} max {} cycles, overruns {}, missed ticks {} | sensor {} | frames {} sent {} failed",
                stats.steps,
                runner.demo.objective().to_bits(),
                h.deadline.mean,
                h.deadline.max,
                h.deadline.overruns,
                stats.missed_ticks,
                h.sensors,
                stats.frames_sent,
                stats.frames_failed
            );
        }
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    // Never hide a fault: log it, then stop on an undefined instruction, which probe-rs reports with
    // a backtrace (and which a watchdog-free board does not silently restart from).
    defmt::error!("panic: {}", defmt::Display2Format(info));
    cortex_m::asm::udf()
}

#[exception]
unsafe fn HardFault(ef: &ExceptionFrame) -> ! {
    defmt::error!(
        "HardFault at pc {=u32:#010x}, lr {=u32:#010x}",
        ef.pc(),
        ef.lr()
    );
    loop {
        cortex_m::asm::bkpt();
    }
}
