//! The checkpoint window of the Pico's QSPI flash as an embedded-storage [`NorFlash`].
//!
//! ## Where
//! The Pico's W25Q16JV holds 2 MiB, memory-mapped (XIP) at `0x1000_0000`. The firmware is linked into
//! the first 1 984 KiB (`memory.x`); the last 64 KiB, flash offsets [`WINDOW_OFFSET`] =
//! `0x1F_0000` .. `0x20_0000` (XIP addresses `0x101F_0000` .. `0x1020_0000`), are the checkpoint
//! window. [`QspiFlash`] numbers that window from 0, so no address it accepts can reach the program.
//! [`CHECKPOINT_REGION`] lays 16 slots of one 4 KiB sector each over it (a checkpoint is a 256-byte
//! header block and [`STATE_BYTES`](crate::robot::STATE_BYTES) = 2 KiB of weights).
//!
//! ## Geometry (as the chip and the boot ROM impose it)
//! Read anywhere (1 byte), program whole 256-byte pages ([`NorFlash::WRITE_SIZE`]), erase whole
//! 4 KiB sectors ([`NorFlash::ERASE_SIZE`]); anything else is refused with `NotAligned` /
//! `OutOfBounds` before the chip is touched.
//!
//! ## How
//! The operations themselves are the firmware's ([`RawFlash`]): the boot ROM's `flash_range_erase` /
//! `flash_range_program` run from RAM with interrupts off while XIP is disabled (code cannot execute
//! from flash during a flash operation), see `src/bin/phototaxis/flash.rs`. This module is the
//! part that can be tested on the host: bounds, alignment, offsets.

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};
use engram_board::Region;

/// Flash offset of the checkpoint window (2 MiB − 64 KiB). `memory.x` stops the program before it.
pub const WINDOW_OFFSET: u32 = 0x1F_0000;
/// Bytes in the window.
pub const WINDOW_LEN: u32 = 64 * 1024;
/// XIP address of flash offset 0.
pub const XIP_BASE: u32 = 0x1000_0000;
/// Erase unit of the W25Q16JV (a sector).
pub const SECTOR: u32 = 4096;
/// Program unit (a page).
pub const PAGE: u32 = 256;

/// The checkpoint slots: 16 slots of one sector each, covering the window.
pub const CHECKPOINT_REGION: Region = Region {
    offset: 0,
    slot_size: SECTOR,
    slots: WINDOW_LEN / SECTOR,
};

/// The flash operations, in whole flash offsets (not XIP addresses), already checked for bounds and
/// alignment by [`QspiFlash`].
pub trait RawFlash {
    /// Erases `len` bytes (whole sectors) at flash offset `offset` (sector-aligned).
    fn erase(&mut self, offset: u32, len: u32);
    /// Programs `data` (whole pages) at flash offset `offset` (page-aligned).
    fn program(&mut self, offset: u32, data: &[u8]);
    /// Reads `out.len()` bytes at flash offset `offset`.
    fn read(&mut self, offset: u32, out: &mut [u8]);
}

/// Why a [`QspiFlash`] operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QspiError {
    /// Not a whole number of pages (program) or sectors (erase).
    NotAligned,
    /// Outside the window.
    OutOfBounds,
}

impl NorFlashError for QspiError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            QspiError::NotAligned => NorFlashErrorKind::NotAligned,
            QspiError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
        }
    }
}

/// The checkpoint window over a [`RawFlash`].
pub struct QspiFlash<R> {
    raw: R,
}

impl<R: RawFlash> QspiFlash<R> {
    /// The window over `raw`.
    pub const fn new(raw: R) -> Self {
        Self { raw }
    }

    /// Gives the raw flash back.
    pub fn release(self) -> R {
        self.raw
    }

    fn check(offset: u32, len: usize, unit: u32) -> Result<u32, QspiError> {
        let len = u32::try_from(len).map_err(|_| QspiError::OutOfBounds)?;
        let end = offset.checked_add(len).ok_or(QspiError::OutOfBounds)?;
        if end > WINDOW_LEN {
            return Err(QspiError::OutOfBounds);
        }
        if !offset.is_multiple_of(unit) || !len.is_multiple_of(unit) {
            return Err(QspiError::NotAligned);
        }
        Ok(WINDOW_OFFSET + offset)
    }
}

impl<R> ErrorType for QspiFlash<R> {
    type Error = QspiError;
}

impl<R: RawFlash> ReadNorFlash for QspiFlash<R> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let at = Self::check(offset, bytes.len(), 1)?;
        self.raw.read(at, bytes);
        Ok(())
    }

    fn capacity(&self) -> usize {
        WINDOW_LEN as usize
    }
}

impl<R: RawFlash> NorFlash for QspiFlash<R> {
    const WRITE_SIZE: usize = PAGE as usize;
    const ERASE_SIZE: usize = SECTOR as usize;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        if to < from {
            return Err(QspiError::OutOfBounds);
        }
        let at = Self::check(from, (to - from) as usize, SECTOR)?;
        self.raw.erase(at, to - from);
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let at = Self::check(offset, bytes.len(), PAGE)?;
        self.raw.program(at, bytes);
        Ok(())
    }
}

/// A RAM model of the whole 2 MiB chip for host tests: erase sets `0xFF`, program clears bits (NOR
/// semantics), and every operation is logged so tests can see what the firmware would do.
#[cfg(test)]
pub struct RamChip {
    /// The chip's bytes.
    pub bytes: std::vec::Vec<u8>,
    /// `(is_erase, offset, len)` of every operation.
    pub ops: std::vec::Vec<(bool, u32, u32)>,
}

#[cfg(test)]
impl RamChip {
    /// A blank chip (all `0xFF`).
    pub fn new() -> Self {
        Self {
            bytes: std::vec![0xFF; 2 * 1024 * 1024],
            ops: std::vec::Vec::new(),
        }
    }
}

#[cfg(test)]
impl Default for RamChip {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
impl RawFlash for &mut RamChip {
    fn erase(&mut self, offset: u32, len: u32) {
        self.ops.push((true, offset, len));
        let o = offset as usize;
        self.bytes[o..o + len as usize].fill(0xFF);
    }

    fn program(&mut self, offset: u32, data: &[u8]) {
        self.ops.push((false, offset, data.len() as u32));
        let o = offset as usize;
        for (b, d) in self.bytes[o..o + data.len()].iter_mut().zip(data) {
            *b &= d;
        }
    }

    fn read(&mut self, offset: u32, out: &mut [u8]) {
        let o = offset as usize;
        out.copy_from_slice(&self.bytes[o..o + out.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_the_last_64_kib_and_nothing_else() {
        let mut chip = RamChip::new();
        let mut f = QspiFlash::new(&mut chip);
        assert_eq!(f.capacity(), 65_536);
        assert_eq!(f.erase(0, 4096), Ok(()));
        assert_eq!(f.write(4096, &[0u8; 256]), Ok(()));
        assert_eq!(f.erase(61_440, 65_536), Ok(()));
        assert_eq!(f.erase(61_440, 69_632), Err(QspiError::OutOfBounds));
        assert_eq!(f.erase(100, 4196), Err(QspiError::NotAligned));
        assert_eq!(f.erase(4096, 0), Err(QspiError::OutOfBounds));
        assert_eq!(f.write(0, &[0u8; 100]), Err(QspiError::NotAligned));
        assert_eq!(f.write(65_280, &[0u8; 512]), Err(QspiError::OutOfBounds));
        let mut b = [0u8; 4];
        assert_eq!(f.read(65_534, &mut b), Err(QspiError::OutOfBounds));
        assert_eq!(f.read(u32::MAX, &mut b), Err(QspiError::OutOfBounds));
        let _ = f.release();
        // Every operation landed at or above 0x1F_0000.
        assert_eq!(
            chip.ops,
            [
                (true, 0x1F_0000, 4096),
                (false, 0x1F_1000, 256),
                (true, 0x1F_F000, 4096)
            ]
        );
        assert!(chip.bytes[..0x1F_0000].iter().all(|&b| b == 0xFF));
        assert_eq!(chip.bytes[0x1F_1000], 0);
    }

    #[test]
    fn the_region_fits_the_window_and_the_layout() {
        assert_eq!(
            CHECKPOINT_REGION.slot_size * CHECKPOINT_REGION.slots,
            WINDOW_LEN
        );
        assert_eq!(WINDOW_OFFSET + WINDOW_LEN, 2 * 1024 * 1024);
        // memory.x: FLASH = 2048K - 64K - 0x100 from 0x1000_0100 ends where the window starts.
        let memory_x = include_str!("../memory.x");
        assert!(memory_x.contains("LENGTH = 2048K - 64K - 0x100"));
    }
}
