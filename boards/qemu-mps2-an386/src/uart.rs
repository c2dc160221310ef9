//! Polled driver for the CMSDK APB UART of the MPS2 boards (UART0 at `0x4000_4000` on mps2-an386;
//! QEMU connects its first `-serial` chardev to it).
//!
//! Registers (ARM DDI 0479, CMSDK APB UART), 32-bit, offsets from the base:
//!
//! | offset | name | use here |
//! | --- | --- | --- |
//! | `0x00` | DATA | write: byte to send; read: byte received |
//! | `0x04` | STATE | bit 0 TX buffer full, bit 1 RX buffer full, bits 2/3 TX/RX overrun (write 1 to clear) |
//! | `0x08` | CTRL | bit 0 TX enable, bit 1 RX enable (interrupts stay off: polled) |
//! | `0x0C` | INTSTATUS / INTCLEAR | not used (no interrupts) |
//! | `0x10` | BAUDDIV | core clock / baud, at least 16 |
//!
//! The hardware buffers one byte each way: the receiver must be polled faster than bytes arrive
//! (QEMU holds bytes back until DATA is read, so nothing is lost there; on real silicon an RX
//! overrun is counted in [`Uart::overruns`]). No interrupts, no allocation, no panic.

use core::ptr::{read_volatile, write_volatile};

const DATA: usize = 0x00;
const STATE: usize = 0x04;
const CTRL: usize = 0x08;
const INTCLEAR: usize = 0x0C;
const BAUDDIV: usize = 0x10;

const STATE_TX_FULL: u32 = 1 << 0;
const STATE_RX_FULL: u32 = 1 << 1;
const STATE_RX_OVERRUN: u32 = 1 << 3;
const CTRL_TX_EN: u32 = 1 << 0;
const CTRL_RX_EN: u32 = 1 << 1;
const CTRL_RX_INT_EN: u32 = 1 << 3;
const INT_RX: u32 = 1 << 1;

/// NVIC interrupt number of UART0's receive interrupt on mps2-an385/an386.
pub const UART0_RX_IRQ: u32 = 0;
const NVIC_ISER0: usize = 0xE000_E100;
const NVIC_ICPR0: usize = 0xE000_E280;
const SCB_ICSR: usize = 0xE000_ED04;
const ICSR_PENDSTCLR: u32 = 1 << 25;
const SYST_CSR: usize = 0xE000_E010;
const SYST_CSR_TICKINT: u32 = 1 << 1;

fn reg_read(addr: usize) -> u32 {
    // SAFETY: a fixed, always-mapped Cortex-M system or device register of this machine.
    unsafe { read_volatile(addr as *const u32) }
}

fn reg_write(addr: usize, v: u32) {
    // SAFETY: as in `reg_read`; the registers written here have no memory-safety effect.
    unsafe { write_volatile(addr as *mut u32, v) }
}

/// Base address of UART0 on mps2-an385/an386.
pub const UART0: usize = 0x4000_4000;

/// A CMSDK APB UART, polled.
#[derive(Debug)]
pub struct Uart {
    base: usize,
    overruns: u32,
}

impl Uart {
    /// UART0 of mps2-an386, enabled for TX and RX at `core_hz / baud` (BAUDDIV clamped to ≥ 16).
    ///
    /// Take it once (like the core peripherals): two `Uart`s on one base would interleave bytes.
    pub fn uart0(core_hz: u32, baud: u32) -> Uart {
        let u = Uart {
            base: UART0,
            overruns: 0,
        };
        let div = (core_hz / baud.max(1)).max(16);
        u.write(CTRL, 0);
        u.write(BAUDDIV, div);
        u.write(CTRL, CTRL_TX_EN | CTRL_RX_EN);
        u
    }

    fn read(&self, off: usize) -> u32 {
        // SAFETY: `base` is a CMSDK UART's register block (a fixed MMIO address on this machine) and
        // `off` one of its 32-bit registers; volatile because the device changes it.
        unsafe { read_volatile((self.base + off) as *const u32) }
    }

    fn write(&self, off: usize, v: u32) {
        // SAFETY: as in `read`; the registers written here have no memory-safety effect.
        unsafe { write_volatile((self.base + off) as *mut u32, v) }
    }

    /// The received byte, if one is waiting.
    #[inline]
    pub fn try_read(&mut self) -> Option<u8> {
        let state = self.read(STATE);
        if state & STATE_RX_OVERRUN != 0 {
            self.overruns = self.overruns.saturating_add(1);
            self.write(STATE, STATE_RX_OVERRUN);
        }
        (state & STATE_RX_FULL != 0).then(|| self.read(DATA) as u8)
    }

    /// Sends `bytes`, waiting while the transmitter is full.
    pub fn write_all(&mut self, bytes: &[u8]) {
        for &b in bytes {
            while self.read(STATE) & STATE_TX_FULL != 0 {}
            self.write(DATA, u32::from(b));
        }
    }

    /// Lets [`Uart::wait`] sleep until a byte arrives (or SysTick wraps): interrupts are masked
    /// (`cpsid i`, so no handler ever runs — this stays a polled driver), UART0's receive interrupt and
    /// SysTick's are enabled only as wake-up events for `wfi`. Under QEMU a core spinning on the
    /// status register starves the emulator's I/O loop; sleeping lets the bytes in.
    pub fn enable_wakeup(&mut self) {
        cortex_m::interrupt::disable();
        self.write(CTRL, CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT_EN);
        reg_write(NVIC_ISER0, 1 << UART0_RX_IRQ);
        reg_write(SYST_CSR, reg_read(SYST_CSR) | SYST_CSR_TICKINT);
    }

    /// Sleeps (`wfi`) until a byte may be waiting or SysTick wrapped (after [`Uart::enable_wakeup`];
    /// without it, returns at once). Race-free: pending wake-ups are cleared *before* the last check
    /// for a byte, so one arriving after the check wakes the `wfi`.
    pub fn wait(&mut self) {
        self.write(INTCLEAR, INT_RX);
        reg_write(NVIC_ICPR0, 1 << UART0_RX_IRQ);
        reg_write(SCB_ICSR, ICSR_PENDSTCLR);
        if self.read(STATE) & STATE_RX_FULL == 0 && self.read(CTRL) & CTRL_RX_INT_EN != 0 {
            cortex_m::asm::wfi();
        }
    }

    /// Receive overruns seen (bytes lost because the receiver was not polled in time).
    pub fn overruns(&self) -> u32 {
        self.overruns
    }
}
