//! Checkpoint transfer: cut a learned-state image into [`CheckpointChunk`]s ([`chunks`]) and put it back
//! together in caller-provided storage ([`Assembler`]), checking order, length and the image CRC before
//! anything is used — a transfer cut short or corrupted never replaces learned state.

use core::fmt;

use crate::frame::checkpoint_crc;
use crate::message::{CheckpointChunk, ErrorCode, MAX_CHUNK_LEN};

/// Cuts `image` into chunks of [`MAX_CHUNK_LEN`] bytes (the last one shorter), each carrying the
/// image's length and CRC-32C. An image of 0 bytes gives one empty chunk, so the receiver still learns
/// the (empty) image. Images are at most `u32::MAX` bytes (a longer one is not supported: offsets saturate).
pub fn chunks(image: &[u8]) -> impl Iterator<Item = CheckpointChunk<'_>> {
    let total = u32::try_from(image.len()).unwrap_or(u32::MAX);
    let image_crc = checkpoint_crc(image);
    let empty: &[u8] = &[];
    let first_if_empty = image.is_empty().then_some(empty);
    image
        .chunks(MAX_CHUNK_LEN)
        .chain(first_if_empty)
        .scan(0u32, move |offset, bytes| {
            let chunk = CheckpointChunk {
                offset: *offset,
                total,
                image_crc,
                bytes,
            };
            *offset = offset.saturating_add(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
            Some(chunk)
        })
}

/// Why a chunk was refused by an [`Assembler`].
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssemblyError {
    /// The chunk does not start where the previous one ended (a chunk at offset 0 always restarts).
    OutOfOrder {
        /// The offset expected next.
        expected: u32,
    },
    /// The image is longer than the storage.
    TooLarge {
        /// The storage's length.
        capacity: u32,
    },
    /// The chunk's `total` or `image_crc` differs from the first chunk's, or it runs past `total`.
    Inconsistent,
    /// The assembled image failed its CRC.
    BadCrc,
}

impl AssemblyError {
    /// The [`ErrorCode`] to report to the sender.
    pub const fn code(self) -> ErrorCode {
        match self {
            AssemblyError::OutOfOrder { expected } => ErrorCode::CheckpointOrder { expected },
            AssemblyError::TooLarge { .. } => ErrorCode::OutOfRange,
            AssemblyError::Inconsistent | AssemblyError::BadCrc => ErrorCode::CheckpointRejected,
        }
    }
}

impl fmt::Display for AssemblyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssemblyError::OutOfOrder { expected } => {
                write!(
                    f,
                    "checkpoint chunk out of order (expected offset {expected})"
                )
            }
            AssemblyError::TooLarge { capacity } => {
                write!(f, "checkpoint larger than the {capacity}-byte storage")
            }
            AssemblyError::Inconsistent => {
                f.write_str("checkpoint chunk inconsistent with the first")
            }
            AssemblyError::BadCrc => f.write_str("checkpoint image CRC mismatch"),
        }
    }
}

impl core::error::Error for AssemblyError {}

/// Reassembles a checkpoint image into caller-provided storage, chunk by chunk, in order.
#[derive(Debug)]
pub struct Assembler<'b> {
    buf: &'b mut [u8],
    /// `(total, image_crc)` of the transfer in progress.
    header: Option<(u32, u32)>,
    next: u32,
    complete: bool,
}

impl<'b> Assembler<'b> {
    /// An assembler writing into `storage` (its length is the largest image accepted).
    pub fn new(storage: &'b mut [u8]) -> Self {
        Self {
            buf: storage,
            header: None,
            next: 0,
            complete: false,
        }
    }

    /// Takes one chunk. Returns `Ok(true)` when it completed the image and the image's CRC matched
    /// ([`Assembler::image`] is then available), `Ok(false)` when more chunks are needed. After an error
    /// the transfer must restart at offset 0 (except [`AssemblyError::OutOfOrder`], which keeps the
    /// progress so the sender can resend from `expected`).
    pub fn accept(&mut self, chunk: &CheckpointChunk<'_>) -> Result<bool, AssemblyError> {
        if chunk.offset == 0 {
            let capacity = u32::try_from(self.buf.len()).unwrap_or(u32::MAX);
            if chunk.total > capacity {
                self.header = None;
                return Err(AssemblyError::TooLarge { capacity });
            }
            self.header = Some((chunk.total, chunk.image_crc));
            self.next = 0;
            self.complete = false;
        }
        let Some((total, crc)) = self.header else {
            return Err(AssemblyError::OutOfOrder { expected: 0 });
        };
        if chunk.offset != self.next {
            return Err(AssemblyError::OutOfOrder {
                expected: self.next,
            });
        }
        let len = u32::try_from(chunk.bytes.len()).unwrap_or(u32::MAX);
        let end = self.next.saturating_add(len);
        let dest = usize::try_from(self.next)
            .ok()
            .zip(usize::try_from(end).ok())
            .and_then(|(a, b)| self.buf.get_mut(a..b));
        let (Some(dest), true) = (
            dest,
            chunk.total == total && chunk.image_crc == crc && end <= total,
        ) else {
            self.header = None;
            return Err(AssemblyError::Inconsistent);
        };
        dest.copy_from_slice(chunk.bytes);
        self.next = end;
        if end < total {
            return Ok(false);
        }
        if checkpoint_crc(self.assembled()) != crc {
            self.header = None;
            return Err(AssemblyError::BadCrc);
        }
        self.complete = true;
        Ok(true)
    }

    fn assembled(&self) -> &[u8] {
        let end = usize::try_from(self.next).unwrap_or(usize::MAX);
        self.buf.get(..end).unwrap_or(&[])
    }

    /// The complete, CRC-checked image, once the last chunk was accepted.
    pub fn image(&self) -> Option<&[u8]> {
        self.complete.then(|| self.assembled())
    }
}
