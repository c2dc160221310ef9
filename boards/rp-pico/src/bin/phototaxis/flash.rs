//! Erasing and programming the QSPI flash the Pico runs from, through the RP2040 boot ROM.
//!
//! While the flash is being erased or programmed it cannot serve execute-in-place reads, so the code
//! that runs during the operation must be in RAM and nothing may interrupt it (an interrupt handler
//! lives in flash). [`RomFlash`] therefore:
//! 1. looks up the ROM routines *before* (the lookup walks a table in ROM, but the `rom_data`
//!    wrappers that call it are in flash);
//! 2. disables interrupts (`cortex_m::interrupt::free`; only core 0 runs, and no DMA reads flash);
//! 3. calls [`flash_op`], which is linked into `.data` (copied to RAM by cortex-m-rt at boot) and
//!    calls only ROM functions through the looked-up pointers: `connect_internal_flash`,
//!    `flash_exit_xip`, the erase or program, `flash_flush_cache`, and finally the second-stage
//!    bootloader copied to RAM at construction, which puts the QSPI interface back into its fast XIP
//!    mode (the ROM's `flash_enter_cmd_xip` would leave a slow generic mode: the pico-sdk does the
//!    same);
//! 4. re-enables interrupts.
//!
//! An erase of one 4 KiB sector takes ≈ 45 ms (up to 400 ms worst case on the W25Q16JV) and a
//! 256-byte page ≈ 0.4 ms, during which the control tick waits (it then resynchronises; see
//! `main.rs`).

use engram_rp_pico::qspi::{RawFlash, XIP_BASE};
use rp2040_hal::rom_data;

/// Erase in 64 KiB blocks where aligned, else 4 KiB sectors (the ROM picks): the pico-sdk's values.
const BLOCK_SIZE: u32 = 1 << 16;
/// The W25Q16JV's 64 KiB block erase command.
const BLOCK_ERASE_CMD: u8 = 0xD8;

/// The ROM routines one operation needs, resolved in advance.
#[repr(C)]
struct Rom {
    connect_internal_flash: unsafe extern "C" fn(),
    flash_exit_xip: unsafe extern "C" fn(),
    flash_range_erase: unsafe extern "C" fn(u32, usize, u32, u8),
    flash_range_program: unsafe extern "C" fn(u32, *const u8, usize),
    flash_flush_cache: unsafe extern "C" fn(),
}

impl Rom {
    fn lookup() -> Self {
        Self {
            connect_internal_flash: rom_data::connect_internal_flash::ptr(),
            flash_exit_xip: rom_data::flash_exit_xip::ptr(),
            flash_range_erase: rom_data::flash_range_erase::ptr(),
            flash_range_program: rom_data::flash_range_program::ptr(),
            flash_flush_cache: rom_data::flash_flush_cache::ptr(),
        }
    }
}

/// The flash, through the boot ROM (see the module doc).
pub struct RomFlash {
    /// A RAM copy of the 256-byte second-stage bootloader (the first page of flash).
    boot2: [u32; 64],
}

impl RomFlash {
    /// Copies the second-stage bootloader to RAM.
    pub fn new() -> Self {
        let mut boot2 = [0u32; 64];
        for (i, w) in boot2.iter_mut().enumerate() {
            // SAFETY: the first 256 bytes of XIP flash are always mapped and readable.
            *w = unsafe { core::ptr::read_volatile((XIP_BASE as *const u32).add(i)) };
        }
        Self { boot2 }
    }

    fn run(&mut self, op: Op) {
        let rom = Rom::lookup();
        let boot2 = self.boot2.as_ptr();
        cortex_m::interrupt::free(|_| {
            // SAFETY: interrupts are off, `flash_op` and everything it touches (`rom`, `op`'s data,
            // `boot2`) are in RAM or ROM, and `op` was bounds- and alignment-checked by `QspiFlash`.
            unsafe { flash_op(&rom, &op, boot2) }
        });
    }
}

/// One operation, in flash offsets.
#[repr(C)]
struct Op {
    erase: bool,
    offset: u32,
    len: usize,
    data: *const u8,
}

/// Runs from RAM: XIP off, the operation, cache flushed, XIP back on through the copied boot2.
///
/// # Safety
/// Interrupts must be off; `rom`, `op`, the data and `boot2` must be in RAM (or ROM).
#[inline(never)]
#[unsafe(link_section = ".data.ram_func")]
unsafe extern "C" fn flash_op(rom: &Rom, op: &Op, boot2: *const u32) {
    unsafe {
        (rom.connect_internal_flash)();
        (rom.flash_exit_xip)();
        if op.erase {
            (rom.flash_range_erase)(op.offset, op.len, BLOCK_SIZE, BLOCK_ERASE_CMD);
        } else {
            (rom.flash_range_program)(op.offset, op.data, op.len);
        }
        (rom.flash_flush_cache)();
        // boot2 is Thumb code: call its address with the low bit set.
        let enter_xip: unsafe extern "C" fn() = core::mem::transmute((boot2 as usize) | 1);
        enter_xip();
    }
}

impl RawFlash for RomFlash {
    fn erase(&mut self, offset: u32, len: u32) {
        self.run(Op {
            erase: true,
            offset,
            len: len as usize,
            data: core::ptr::null(),
        });
    }

    fn program(&mut self, offset: u32, data: &[u8]) {
        self.run(Op {
            erase: false,
            offset,
            len: data.len(),
            data: data.as_ptr(),
        });
    }

    fn read(&mut self, offset: u32, out: &mut [u8]) {
        let base = (XIP_BASE + offset) as *const u8;
        for (i, b) in out.iter_mut().enumerate() {
            // SAFETY: `QspiFlash` checked `offset + out.len()` against the window, inside the 2 MiB
            // XIP mapping; the cache was flushed after the last write.
            *b = unsafe { core::ptr::read_volatile(base.add(i)) };
        }
    }
}
