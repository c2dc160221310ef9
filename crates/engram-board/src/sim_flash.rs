//! [`SimFlash`]: a NOR flash in RAM that behaves like the real thing, and can lose power.
//!
//! Host tests (and a board's own host tests) use it to prove that [`crate::CheckpointStore`] never
//! restores a corrupt or mixed checkpoint, whatever the instant the power goes.
//!
//! ## What it models
//! - **Granularity**: writes in `WORD`-byte units at `WORD`-aligned offsets, erases of whole `PAGE`-byte
//!   pages; anything else is refused with [`NorFlashErrorKind::NotAligned`] /
//!   [`NorFlashErrorKind::OutOfBounds`], as `embedded-storage` specifies. E.g. the nRF52833 NVMC is
//!   `SimFlash<_, 4, 4096>`, the RP2040's QSPI flash (256-byte page program, 4 KiB sector erase)
//!   `SimFlash<_, 256, 4096>`.
//! - **Erased = `0xFF`, a write only clears bits**: programming stores `old & new`. A write to a word
//!   that was not erased is carried out that way (as NOR flash does) and counted in
//!   [`SimFlash::overwrites`], so a test can assert that a store never relies on it.
//! - **Power cuts**: every programmed word and every erased page is one *step*
//!   ([`SimFlash::steps`]). After [`SimFlash::cut_after`]`(n)`, steps `1..=n` complete, step `n + 1` is
//!   torn and the power is gone: every later operation (reads included) fails with
//!   [`SimFlashError::PowerLost`] until [`SimFlash::power_on`], which models the reset.
//! - **A torn step** leaves the unit half done, the way an interrupted program or erase pulse does: a
//!   torn write programs the first half of the word's bytes, the middle byte only in its high nibble
//!   (a partially programmed cell) and leaves the rest erased-or-old; a torn erase sets the *second*
//!   half of the page to `0xFF` and leaves the first half as it was, so a header at the start of the
//!   page survives while what follows it is gone — the case a store that trusts its header would get
//!   wrong.

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

/// Why a [`SimFlash`] operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SimFlashError {
    /// The power was cut (see [`SimFlash::cut_after`]); nothing works until [`SimFlash::power_on`].
    PowerLost,
    /// Offset or length not a multiple of the write/erase unit.
    NotAligned,
    /// Outside the flash.
    OutOfBounds,
}

impl NorFlashError for SimFlashError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            Self::PowerLost => NorFlashErrorKind::Other,
            Self::NotAligned => NorFlashErrorKind::NotAligned,
            Self::OutOfBounds => NorFlashErrorKind::OutOfBounds,
        }
    }
}

/// A `SIZE`-byte NOR flash with `WORD`-byte writes and `PAGE`-byte erases, held in RAM (see the module
/// doc). Starts fully erased. `PAGE` must be a multiple of `WORD` and `SIZE` of `PAGE` (checked at
/// compile time).
#[derive(Clone, Debug)]
pub struct SimFlash<const SIZE: usize, const WORD: usize, const PAGE: usize> {
    mem: [u8; SIZE],
    steps: u32,
    cut_after: Option<u32>,
    powered: bool,
    overwrites: u32,
    erases: u32,
}

impl<const SIZE: usize, const WORD: usize, const PAGE: usize> Default
    for SimFlash<SIZE, WORD, PAGE>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const SIZE: usize, const WORD: usize, const PAGE: usize> SimFlash<SIZE, WORD, PAGE> {
    const GEOMETRY_OK: () = assert!(
        WORD > 0
            && PAGE >= WORD
            && PAGE.is_multiple_of(WORD)
            && SIZE.is_multiple_of(PAGE)
            && SIZE <= u32::MAX as usize
    );

    /// A fully erased flash (every byte `0xFF`), powered, with no cut scheduled.
    pub const fn new() -> Self {
        let () = Self::GEOMETRY_OK;
        Self {
            mem: [0xFF; SIZE],
            steps: 0,
            cut_after: None,
            powered: true,
            overwrites: 0,
            erases: 0,
        }
    }

    /// Schedules a power cut: `n` more steps complete, the next one is torn (counted from now).
    pub fn cut_after(&mut self, n: u32) {
        self.cut_after = Some(self.steps.saturating_add(n));
    }

    /// Restores power after a cut (the reset); the contents stay as the cut left them.
    pub fn power_on(&mut self) {
        self.powered = true;
        self.cut_after = None;
    }

    /// Whether the power is on.
    pub const fn is_powered(&self) -> bool {
        self.powered
    }

    /// Steps (words programmed plus pages erased) completed or torn so far.
    pub const fn steps(&self) -> u32 {
        self.steps
    }

    /// Words programmed that were not fully erased before (a store should never need this).
    pub const fn overwrites(&self) -> u32 {
        self.overwrites
    }

    /// Pages erased (wear), torn erases included.
    pub const fn erases(&self) -> u32 {
        self.erases
    }

    /// The raw contents (for tests that corrupt or inspect them).
    pub fn contents(&self) -> &[u8] {
        &self.mem
    }

    /// The raw contents, writable (flip bits to simulate decay).
    pub fn contents_mut(&mut self) -> &mut [u8] {
        &mut self.mem
    }

    /// Starts a step: `Ok(false)` to do it fully, `Ok(true)` to tear it (the power goes after it),
    /// `Err` if the power is already gone.
    fn begin_step(&mut self) -> Result<bool, SimFlashError> {
        if !self.powered {
            return Err(SimFlashError::PowerLost);
        }
        let tear = self.cut_after == Some(self.steps);
        self.steps = self.steps.saturating_add(1);
        if tear {
            self.powered = false;
        }
        Ok(tear)
    }

    fn range(offset: usize, len: usize) -> Result<core::ops::Range<usize>, SimFlashError> {
        let end = offset.checked_add(len).ok_or(SimFlashError::OutOfBounds)?;
        if end > SIZE {
            return Err(SimFlashError::OutOfBounds);
        }
        Ok(offset..end)
    }
}

impl<const SIZE: usize, const WORD: usize, const PAGE: usize> ErrorType
    for SimFlash<SIZE, WORD, PAGE>
{
    type Error = SimFlashError;
}

impl<const SIZE: usize, const WORD: usize, const PAGE: usize> ReadNorFlash
    for SimFlash<SIZE, WORD, PAGE>
{
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        if !self.powered {
            return Err(SimFlashError::PowerLost);
        }
        let src = self
            .mem
            .get(Self::range(offset as usize, bytes.len())?)
            .ok_or(SimFlashError::OutOfBounds)?;
        bytes.copy_from_slice(src);
        Ok(())
    }

    fn capacity(&self) -> usize {
        SIZE
    }
}

impl<const SIZE: usize, const WORD: usize, const PAGE: usize> NorFlash
    for SimFlash<SIZE, WORD, PAGE>
{
    const WRITE_SIZE: usize = WORD;
    const ERASE_SIZE: usize = PAGE;

    /// Erases `[from, to)` page by page in increasing address order, one step per page.
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        let (from, to) = (from as usize, to as usize);
        if from > to || to > SIZE {
            return Err(SimFlashError::OutOfBounds);
        }
        if from % PAGE != 0 || to % PAGE != 0 {
            return Err(SimFlashError::NotAligned);
        }
        for start in (from..to).step_by(PAGE) {
            let tear = self.begin_step()?;
            self.erases = self.erases.saturating_add(1);
            let page = self
                .mem
                .get_mut(Self::range(start, PAGE)?)
                .ok_or(SimFlashError::OutOfBounds)?;
            let erased_from = if tear { PAGE / 2 } else { 0 };
            page.iter_mut().skip(erased_from).for_each(|b| *b = 0xFF);
            if tear {
                return Err(SimFlashError::PowerLost);
            }
        }
        Ok(())
    }

    /// Programs `bytes` word by word in increasing address order, one step per word (`old & new`).
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let offset = offset as usize;
        let range = Self::range(offset, bytes.len())?;
        if !offset.is_multiple_of(WORD) || !bytes.len().is_multiple_of(WORD) {
            return Err(SimFlashError::NotAligned);
        }
        for (start, new) in range.step_by(WORD).zip(bytes.chunks(WORD)) {
            let tear = self.begin_step()?;
            let cells = self
                .mem
                .get_mut(start..start + WORD)
                .ok_or(SimFlashError::OutOfBounds)?;
            if cells.iter().any(|&c| c != 0xFF) {
                self.overwrites = self.overwrites.saturating_add(1);
            }
            if tear {
                let half = WORD / 2;
                for (i, (cell, &b)) in cells.iter_mut().zip(new).enumerate() {
                    if i < half {
                        *cell &= b;
                    } else if i == half {
                        *cell &= b | 0x0F;
                    }
                }
                return Err(SimFlashError::PowerLost);
            }
            cells.iter_mut().zip(new).for_each(|(cell, &b)| *cell &= b);
        }
        Ok(())
    }
}
