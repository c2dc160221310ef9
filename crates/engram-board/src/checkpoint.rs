//! [`CheckpointStore`]: learned state in on-chip flash that survives a reset and a power cut.
//!
//! ## Why hand-written slots and not `sequential-storage`
//! `sequential-storage` (8.x) is a good key-value/queue store, but it does not fit this job: (1) it is
//! async-only (`embedded-storage-async`), so a blocking firmware would need an executor or a
//! blocking-to-async shim just to save; (2) an item must fit in one flash page minus its overhead, while
//! a checkpoint is the model's whole learned state (several KiB, often more than a 4 KiB page), which
//! would have to be split into items and reassembled, and then the "all of one checkpoint or none of it"
//! guarantee would be ours to build anyway; (3) its garbage collection and item caches are machinery we
//! do not need for one value that is always rewritten whole. What we need is small enough to prove
//! correct by exhaustive power-cut testing, so it is written here.
//!
//! ## Layout
//! The [`Region`] is `slots` equal slots (≥ 2), each a whole number of erase pages. A slot is a header
//! block (the 32-byte header padded to the flash's write unit) followed by the payload:
//!
//! | offset | field | format |
//! | ---: | --- | --- |
//! | 0 | magic | `u32` LE, [`MAGIC`] (`"EGCK"`) |
//! | 4 | format version | `u16` LE, [`FORMAT_VERSION`] |
//! | 6 | reserved | `u16`, 0 |
//! | 8 | model hash | `u64` LE (the model's `engram::hash` fingerprint, as in `engram_link::Hello`) |
//! | 16 | sequence number | `u32` LE, +1 per save (wrapping; compared in serial-number arithmetic) |
//! | 20 | payload length | `u32` LE, bytes |
//! | 24 | payload CRC | `u32` LE, CRC-32C of the payload (= `engram_link::checkpoint_crc`) |
//! | 28 | header CRC | `u32` LE, CRC-32C of bytes 0..28 |
//!
//! ## Save: payload first, header last
//! A save goes to the slot after the newest valid one (round robin, so wear spreads over all slots):
//! erase its pages one by one **header page first** (from then on the slot is invalid), program the
//! payload, then program the header. Until the header's last word is programmed the slot does not
//! validate, and the newest complete checkpoint, in another slot, is never touched. A save never writes
//! a word twice between erases.
//!
//! ## Boot: the newest valid slot wins
//! A slot is valid when its magic is right, its header CRC matches and its payload CRC matches (the
//! payload is read back, so a torn erase that left the header but not the payload is caught). Among
//! valid slots the highest sequence number wins. A torn header, a torn payload and a half-erased slot
//! all fail one of the three checks (each CRC misses a random corruption with probability 2⁻³²).
//! Against power cuts the header-last order and the payload CRC are each sufficient on their own (a
//! header written first would still be rejected by its payload CRC); the payload CRC also catches bits
//! that decay later. With both removed the power-cut sweep in `tests/checkpoint.rs` fails at its 10th
//! cut point, which is how we know the sweep can see the failure it guards against.
//!
//! ## Refusals (learned state is never lost)
//! [`CheckpointStore::load`] fills the caller's buffer only with a checkpoint of the same model hash, the
//! same format version and exactly the buffer's size; otherwise it returns
//! [`CheckpointError::ModelMismatch`], [`CheckpointError::FormatMismatch`] or
//! [`CheckpointError::SizeMismatch`] and **the buffer is untouched**, so the running state is kept. A
//! failed or interrupted save leaves the previous checkpoint in place.
//!
//! Wear: with `s` slots every page of the region is erased once per `s` saves (nRF52833: 10 000 cycles
//! per page, so with 2 slots and one save every 10 minutes, 139 days; with 8 slots, 1.5 years).

use crc::{CRC_32_ISCSI, Crc};
use embedded_storage::nor_flash::NorFlash;

/// `"EGCK"` little-endian: marks a programmed header.
pub const MAGIC: u32 = u32::from_le_bytes(*b"EGCK");
/// Layout version of the header and payload written by this code.
pub const FORMAT_VERSION: u16 = 1;
/// Bytes of the header before padding to the flash's write unit.
pub const HEADER_LEN: usize = 32;
/// Largest write unit supported (the RP2040's QSPI flash programs 256-byte pages).
pub const MAX_WRITE_SIZE: usize = 256;
/// Bytes read per flash read while checking CRCs (the read unit must divide it).
const READ_CHUNK: usize = 32;

const CRC32C: Crc<u32> = Crc::<u32>::new(&CRC_32_ISCSI);

/// Where the checkpoints live: `slots` slots of `slot_size` bytes from `offset` (flash addresses as the
/// [`NorFlash`] implementation numbers them). `offset` and `slot_size` must be multiples of the erase
/// size, `slots ≥ 2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Region {
    /// First byte of slot 0.
    pub offset: u32,
    /// Bytes per slot (a whole number of erase pages).
    pub slot_size: u32,
    /// Number of slots (≥ 2).
    pub slots: u32,
}

/// A checkpoint's sequence number: +1 per save, compared in serial-number arithmetic (RFC 1982), so it
/// may wrap (after 2³² saves).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Seq(pub u32);

impl Seq {
    /// Whether `self` was saved after `other`.
    pub const fn is_newer_than(self, other: Seq) -> bool {
        (self.0.wrapping_sub(other.0) as i32) > 0
    }
}

/// What [`CheckpointStore::load`] restored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Restored {
    /// Its sequence number.
    pub seq: Seq,
    /// Payload bytes written into the buffer (always the buffer's length).
    pub len: usize,
}

/// Why a checkpoint operation failed. `E` is the flash's error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointError<E> {
    /// The flash reported an error (the previous checkpoint is intact).
    Flash(E),
    /// The [`Region`] does not fit the flash: misaligned, fewer than 2 slots, a slot smaller than a
    /// header, or beyond the flash's capacity; or the flash's write/read unit is unsupported.
    BadRegion,
    /// The payload does not fit a slot.
    TooLarge {
        /// Bytes offered.
        len: usize,
        /// Bytes a slot holds.
        capacity: usize,
    },
    /// The newest checkpoint in flash belongs to another model (and none of this model's exists).
    ModelMismatch {
        /// This model's hash.
        expected: u64,
        /// The checkpoint's.
        found: u64,
    },
    /// The newest checkpoint in flash was written in another format version.
    FormatMismatch {
        /// The version this code reads.
        supported: u16,
        /// The checkpoint's.
        found: u16,
    },
    /// The newest checkpoint of this model has another size than the state it would restore.
    SizeMismatch {
        /// The caller's state size.
        expected: usize,
        /// The checkpoint's.
        found: usize,
    },
    /// A save was programmed but did not read back valid (failing flash); the previous checkpoint is
    /// intact.
    Verify,
}

impl<E: core::fmt::Debug> core::fmt::Display for CheckpointError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Flash(e) => write!(f, "flash error: {e:?}"),
            Self::BadRegion => f.write_str("checkpoint region does not fit the flash"),
            Self::TooLarge { len, capacity } => {
                write!(
                    f,
                    "checkpoint of {len} bytes exceeds the slot capacity of {capacity} bytes"
                )
            }
            Self::ModelMismatch { expected, found } => {
                write!(
                    f,
                    "checkpoint is from model {found:#018x}, this model is {expected:#018x}"
                )
            }
            Self::FormatMismatch { supported, found } => {
                write!(
                    f,
                    "checkpoint format version {found}, this firmware reads version {supported}"
                )
            }
            Self::SizeMismatch { expected, found } => {
                write!(
                    f,
                    "checkpoint holds {found} bytes of state, this model has {expected}"
                )
            }
            Self::Verify => f.write_str("checkpoint did not read back valid after saving"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for CheckpointError<E> {}

/// A decoded header (its own CRC already checked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    format: u16,
    model_hash: u64,
    seq: Seq,
    len: u32,
    payload_crc: u32,
}

impl Header {
    fn encode(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        let fields: [&[u8]; 7] = [
            &MAGIC.to_le_bytes(),
            &self.format.to_le_bytes(),
            &0u16.to_le_bytes(),
            &self.model_hash.to_le_bytes(),
            &self.seq.0.to_le_bytes(),
            &self.len.to_le_bytes(),
            &self.payload_crc.to_le_bytes(),
        ];
        let (body, crc_out) = h.split_at_mut(HEADER_LEN - 4);
        let mut out = body.iter_mut();
        for byte in fields.iter().flat_map(|f| f.iter()) {
            if let Some(o) = out.next() {
                *o = *byte;
            }
        }
        let crc = CRC32C.checksum(body);
        crc_out
            .iter_mut()
            .zip(crc.to_le_bytes())
            .for_each(|(o, b)| *o = b);
        h
    }

    /// `None` unless the magic and the header CRC are right (an erased, torn or foreign header).
    fn decode(h: &[u8; HEADER_LEN]) -> Option<Self> {
        let (body, crc) = h.split_at(HEADER_LEN - 4);
        if CRC32C.checksum(body) != u32::from_le_bytes(crc.try_into().ok()?) {
            return None;
        }
        let u16_at = |i: usize| Some(u16::from_le_bytes(h.get(i..i + 2)?.try_into().ok()?));
        let u32_at = |i: usize| Some(u32::from_le_bytes(h.get(i..i + 4)?.try_into().ok()?));
        let u64_at = |i: usize| Some(u64::from_le_bytes(h.get(i..i + 8)?.try_into().ok()?));
        if u32_at(0)? != MAGIC {
            return None;
        }
        Some(Self {
            format: u16_at(4)?,
            model_hash: u64_at(8)?,
            seq: Seq(u32_at(16)?),
            len: u32_at(20)?,
            payload_crc: u32_at(24)?,
        })
    }
}

/// Checkpoints in a [`Region`] of a [`NorFlash`] (see the module doc for the layout and the
/// guarantees).
///
/// The store owns the flash; [`CheckpointStore::release`] gives it back. Every method returns errors,
/// none panics.
#[derive(Debug)]
pub struct CheckpointStore<F> {
    flash: F,
    region: Region,
    /// Bytes of the header block (the header padded to the write unit).
    header_block: u32,
    /// The newest valid slot of any model and format: (slot index, sequence number).
    newest: Option<(u32, Seq)>,
}

impl<F: NorFlash> CheckpointStore<F> {
    /// Takes the flash, checks the region against its geometry and finds the newest valid checkpoint
    /// (reading every slot's header and payload once).
    pub fn new(flash: F, region: Region) -> Result<Self, CheckpointError<F::Error>> {
        let (w, e, r) = (F::WRITE_SIZE, F::ERASE_SIZE, F::READ_SIZE);
        let header_block = HEADER_LEN.div_ceil(w.max(1)).saturating_mul(w);
        let geometry_ok = w > 0
            && w <= MAX_WRITE_SIZE
            && MAX_WRITE_SIZE.is_multiple_of(w)
            && e > 0
            && e.is_multiple_of(r)
            && e % w == 0
            && r > 0
            && READ_CHUNK.is_multiple_of(r)
            && header_block % r == 0;
        let region_ok = region.slots >= 2
            && (region.offset as usize).is_multiple_of(e.max(1))
            && (region.slot_size as usize).is_multiple_of(e.max(1))
            && region.slot_size as usize > header_block
            && (region.slot_size as usize).is_multiple_of(READ_CHUNK.max(w))
            && u64::from(region.offset) + u64::from(region.slot_size) * u64::from(region.slots)
                <= flash.capacity() as u64;
        if !geometry_ok || !region_ok {
            return Err(CheckpointError::BadRegion);
        }
        let mut store = Self {
            flash,
            region,
            header_block: header_block as u32,
            newest: None,
        };
        store.newest = store.scan()?;
        Ok(store)
    }

    /// Gives the flash back.
    pub fn release(self) -> F {
        self.flash
    }

    /// The flash, read-only (tests inspect a simulated flash's counters through it).
    pub const fn flash(&self) -> &F {
        &self.flash
    }

    /// The region in use.
    pub const fn region(&self) -> Region {
        self.region
    }

    /// Payload bytes one slot holds.
    pub const fn capacity(&self) -> usize {
        (self.region.slot_size - self.header_block) as usize
    }

    /// Sequence number of the newest valid checkpoint in flash (any model), if there is one.
    pub fn newest(&self) -> Option<Seq> {
        self.newest.map(|(_, seq)| seq)
    }

    /// Saves `bytes` as this model's newest checkpoint and returns its sequence number.
    ///
    /// On any error (flash failure, power loss) the previous checkpoint is still the newest valid one.
    /// Cost: erasing one slot, programming `bytes`, reading them back once to verify.
    pub fn save(
        &mut self,
        model_hash: u64,
        bytes: &[u8],
    ) -> Result<Seq, CheckpointError<F::Error>> {
        let capacity = self.capacity();
        if bytes.len() > capacity {
            return Err(CheckpointError::TooLarge {
                len: bytes.len(),
                capacity,
            });
        }
        let (slot, seq) = match self.newest {
            // The slot after the newest, round robin (a comparison, not `%`: no division-by-zero path).
            Some((slot, seq)) => {
                let next = slot.saturating_add(1);
                let next = if next >= self.region.slots { 0 } else { next };
                (next, Seq(seq.0.wrapping_add(1)))
            }
            None => (0, Seq(1)),
        };
        let base = self.slot_base(slot);
        let page = F::ERASE_SIZE as u32;
        // Page by page from the header page up: the slot stops validating at the first erase.
        for from in (base..base + self.region.slot_size).step_by(F::ERASE_SIZE) {
            self.flash
                .erase(from, from + page)
                .map_err(CheckpointError::Flash)?;
        }
        let mut stage = [0xFFu8; MAX_WRITE_SIZE];
        let mut at = base + self.header_block;
        for chunk in bytes.chunks(MAX_WRITE_SIZE) {
            let padded = chunk.len().div_ceil(F::WRITE_SIZE) * F::WRITE_SIZE;
            stage.fill(0xFF);
            stage.iter_mut().zip(chunk).for_each(|(s, &b)| *s = b);
            let out = stage.get(..padded).ok_or(CheckpointError::BadRegion)?;
            self.flash.write(at, out).map_err(CheckpointError::Flash)?;
            at += padded as u32;
        }
        let header = Header {
            format: FORMAT_VERSION,
            model_hash,
            seq,
            len: bytes.len() as u32,
            payload_crc: CRC32C.checksum(bytes),
        };
        stage.fill(0xFF);
        stage
            .iter_mut()
            .zip(header.encode())
            .for_each(|(s, b)| *s = b);
        let out = stage
            .get(..self.header_block as usize)
            .ok_or(CheckpointError::BadRegion)?;
        self.flash
            .write(base, out)
            .map_err(CheckpointError::Flash)?;
        match self.read_slot(slot)? {
            Some(h) if h == header => {
                self.newest = Some((slot, seq));
                Ok(seq)
            }
            _ => Err(CheckpointError::Verify),
        }
    }

    /// Restores this model's newest checkpoint into `buf`, which must be exactly the size of the state.
    ///
    /// `Ok(None)`: no valid checkpoint of any model in flash (a fresh device). `Err` with a mismatch:
    /// checkpoints exist but none is this model's, in this format, of this size — the error describes
    /// the newest one. On `Ok(None)` and on every refusal `buf` is untouched; only a flash *read* error
    /// while copying the (already verified) payload out can leave it partly written.
    pub fn load(
        &mut self,
        model_hash: u64,
        buf: &mut [u8],
    ) -> Result<Option<Restored>, CheckpointError<F::Error>> {
        let mut best: Option<(u32, Header)> = None;
        let mut newest_other: Option<Header> = None;
        for slot in 0..self.region.slots {
            let Some(h) = self.read_slot(slot)? else {
                continue;
            };
            let matches = h.format == FORMAT_VERSION
                && h.model_hash == model_hash
                && h.len as usize == buf.len();
            let pick = if matches {
                best.map(|(_, b)| b)
            } else {
                newest_other
            };
            if pick.is_none_or(|p| h.seq.is_newer_than(p.seq)) {
                if matches {
                    best = Some((slot, h));
                } else {
                    newest_other = Some(h);
                }
            }
        }
        let Some((slot, h)) = best else {
            return match newest_other {
                None => Ok(None),
                Some(o) if o.format != FORMAT_VERSION => Err(CheckpointError::FormatMismatch {
                    supported: FORMAT_VERSION,
                    found: o.format,
                }),
                Some(o) if o.model_hash != model_hash => Err(CheckpointError::ModelMismatch {
                    expected: model_hash,
                    found: o.model_hash,
                }),
                Some(o) => Err(CheckpointError::SizeMismatch {
                    expected: buf.len(),
                    found: o.len as usize,
                }),
            };
        };
        // The payload was checked by `read_slot`, from flash we own: copy it out, in read units.
        let mut at = self.slot_base(slot) + self.header_block;
        let mut chunk = [0u8; READ_CHUNK];
        for dst in buf.chunks_mut(READ_CHUNK) {
            let read_len = dst.len().div_ceil(F::READ_SIZE) * F::READ_SIZE;
            let part = chunk
                .get_mut(..read_len)
                .ok_or(CheckpointError::BadRegion)?;
            self.flash.read(at, part).map_err(CheckpointError::Flash)?;
            dst.iter_mut().zip(part.iter()).for_each(|(d, &s)| *d = s);
            at += read_len as u32;
        }
        Ok(Some(Restored {
            seq: h.seq,
            len: buf.len(),
        }))
    }

    fn slot_base(&self, slot: u32) -> u32 {
        self.region.offset + slot * self.region.slot_size
    }

    /// The newest valid slot (any model, any format).
    fn scan(&mut self) -> Result<Option<(u32, Seq)>, CheckpointError<F::Error>> {
        let mut newest: Option<(u32, Seq)> = None;
        for slot in 0..self.region.slots {
            if let Some(h) = self.read_slot(slot)?
                && newest.is_none_or(|(_, s)| h.seq.is_newer_than(s))
            {
                newest = Some((slot, h.seq));
            }
        }
        Ok(newest)
    }

    /// The slot's header if the slot is valid: magic, header CRC and payload CRC all right.
    fn read_slot(&mut self, slot: u32) -> Result<Option<Header>, CheckpointError<F::Error>> {
        let base = self.slot_base(slot);
        let mut raw = [0u8; HEADER_LEN];
        self.flash
            .read(base, &mut raw)
            .map_err(CheckpointError::Flash)?;
        let Some(h) = Header::decode(&raw) else {
            return Ok(None);
        };
        if h.len as usize > self.capacity() {
            return Ok(None);
        }
        let mut digest = CRC32C.digest();
        let mut at = base + self.header_block;
        let mut left = h.len as usize;
        let mut chunk = [0u8; READ_CHUNK];
        while left > 0 {
            let n = left.min(READ_CHUNK);
            let read_len = n.div_ceil(F::READ_SIZE) * F::READ_SIZE;
            let part = chunk
                .get_mut(..read_len)
                .ok_or(CheckpointError::BadRegion)?;
            self.flash.read(at, part).map_err(CheckpointError::Flash)?;
            digest.update(part.get(..n).unwrap_or(&[]));
            at += read_len as u32;
            left -= n;
        }
        Ok((digest.finalize() == h.payload_crc).then_some(h))
    }
}
