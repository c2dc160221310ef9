//! Framing: a message becomes `COBS(version ‖ postcard(message) ‖ CRC-32C) ‖ 0x00`, and back.
//!
//! [`encode_frame`] (or an [`Encoder`] that owns its buffer) writes one frame; [`decode_frame`] reads one
//! frame already cut at its delimiter; [`Decoder`] cuts frames out of a byte stream as it arrives from a
//! UART, counts errors by kind and starts afresh after every delimiter, so one bad frame never costs the
//! next good one.

use core::fmt;

use crc::{CRC_32_ISCSI, Crc};
use postcard::ser_flavors::{Cobs, Slice, crc::CrcModifier};

use crate::message::{LinkErrors, Message};
use crate::{MAX_FRAME_LEN, PROTOCOL_VERSION};

/// CRC-32C (Castagnoli, the iSCSI polynomial 0x1EDC6F41, reflected, init and xorout 0xFFFFFFFF),
/// table-driven (1 KiB table in flash). Covers the version byte and the message; sent little-endian.
pub(crate) const CRC: Crc<u32> = Crc::<u32>::new(&CRC_32_ISCSI);

/// Bytes of the CRC at the end of a decoded frame.
pub const CRC_LEN: usize = 4;
/// Smallest decoded frame that can be valid: version byte, one-byte message tag, CRC.
pub const MIN_RAW_LEN: usize = 1 + 1 + CRC_LEN;
/// The frame delimiter.
pub const DELIMITER: u8 = 0x00;

/// CRC-32C of a whole checkpoint image (the `image_crc` of its [`CheckpointChunk`](crate::CheckpointChunk)s).
pub fn checkpoint_crc(image: &[u8]) -> u32 {
    CRC.checksum(image)
}

/// Why a message could not be framed.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The output buffer is too small for this frame ([`MAX_FRAME_LEN`] always suffices).
    BufferFull,
    /// A name or a checkpoint chunk is longer than its maximum ([`Message::within_limits`]).
    Limits,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::BufferFull => f.write_str("frame buffer too small"),
            EncodeError::Limits => f.write_str("message field longer than the protocol allows"),
        }
    }
}

impl core::error::Error for EncodeError {}

/// Writes `msg` as one frame into `out` and returns the frame, delimiter included.
///
/// Never panics; fails with [`EncodeError::BufferFull`] if `out` is too small (a buffer of
/// [`MAX_FRAME_LEN`] bytes always suffices) and [`EncodeError::Limits`] if a borrowed field is over its
/// maximum. postcard writes straight through a CRC flavour into a COBS flavour into `out`: no scratch
/// buffer, one pass.
pub fn encode_frame<'b>(msg: &Message<'_>, out: &'b mut [u8]) -> Result<&'b [u8], EncodeError> {
    if !msg.within_limits() {
        return Err(EncodeError::Limits);
    }
    let cobs = Cobs::try_new(Slice::new(out)).map_err(|_| EncodeError::BufferFull)?;
    let flavor = CrcModifier::new(cobs, CRC.digest());
    // A tuple is its fields in order: the version byte (a u8 is one raw byte), then the message.
    // Serialising these types can only fail for lack of room.
    let frame = postcard::serialize_with_flavor(&(PROTOCOL_VERSION, msg), flavor)
        .map_err(|_| EncodeError::BufferFull)?;
    Ok(frame)
}

/// Owns a [`MAX_FRAME_LEN`] buffer and frames messages into it.
#[derive(Clone, Debug)]
pub struct Encoder {
    buf: [u8; MAX_FRAME_LEN],
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Encoder {
    /// An encoder (usable in a `static`).
    pub const fn new() -> Self {
        Self {
            buf: [0; MAX_FRAME_LEN],
        }
    }

    /// Frames `msg`; the returned bytes (delimiter included) are valid until the next call.
    /// Fails only with [`EncodeError::Limits`].
    pub fn encode(&mut self, msg: &Message<'_>) -> Result<&[u8], EncodeError> {
        encode_frame(msg, &mut self.buf)
    }
}

/// Why a frame was dropped. Each kind has a counter in [`LinkErrors`].
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeError {
    /// The CRC did not match (bit errors, or two frames merged by a lost delimiter).
    BadCrc,
    /// Not valid COBS (a length code pointing past the delimiter).
    Cobs,
    /// More than [`MAX_FRAME_LEN`] bytes without a delimiter: dropped up to the next one.
    Oversized,
    /// Shorter than [`MIN_RAW_LEN`] once un-stuffed (a frame cut short, or a stray byte).
    Truncated,
    /// CRC good, but the frame is from protocol version `got` (this side speaks
    /// [`PROTOCOL_VERSION`]). Every version keeps the `version ‖ … ‖ CRC-32C` layout so this is reportable.
    BadVersion {
        /// The version byte received.
        got: u8,
    },
    /// CRC and version good, but the message did not decode, had trailing bytes or broke a limit.
    Deserialize,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::BadCrc => f.write_str("frame CRC mismatch"),
            DecodeError::Cobs => f.write_str("invalid COBS frame"),
            DecodeError::Oversized => write!(f, "frame longer than {MAX_FRAME_LEN} bytes"),
            DecodeError::Truncated => f.write_str("frame too short"),
            DecodeError::BadVersion { got } => write!(
                f,
                "peer speaks engram-link protocol {got}, this side speaks {PROTOCOL_VERSION}"
            ),
            DecodeError::Deserialize => f.write_str("frame does not hold a valid message"),
        }
    }
}

impl core::error::Error for DecodeError {}

impl LinkErrors {
    /// Counts one error of kind `e` (saturating).
    pub fn count(&mut self, e: DecodeError) {
        let c = match e {
            DecodeError::BadCrc => &mut self.bad_crc,
            DecodeError::Cobs => &mut self.cobs,
            DecodeError::Oversized => &mut self.oversized,
            DecodeError::Truncated => &mut self.truncated,
            DecodeError::BadVersion { .. } => &mut self.bad_version,
            DecodeError::Deserialize => &mut self.deserialize,
        };
        *c = c.saturating_add(1);
    }
}

/// Decodes one frame in place: `frame` is the COBS-stuffed bytes of one frame, without its delimiter.
/// The message borrows from `frame` (names and checkpoint bytes are not copied).
///
/// Checks, in order: COBS, length, CRC, version, message. The version is checked after the CRC so a
/// bit error is never mistaken for a version mismatch.
pub fn decode_frame(frame: &mut [u8]) -> Result<Message<'_>, DecodeError> {
    let len = cobs::decode_in_place(frame).map_err(|_| DecodeError::Cobs)?;
    let raw = frame.get(..len).ok_or(DecodeError::Cobs)?;
    if raw.len() < MIN_RAW_LEN {
        return Err(DecodeError::Truncated);
    }
    let (body, crc) = raw
        .split_last_chunk::<CRC_LEN>()
        .ok_or(DecodeError::Truncated)?;
    if CRC.checksum(body) != u32::from_le_bytes(*crc) {
        return Err(DecodeError::BadCrc);
    }
    let (&version, msg) = body.split_first().ok_or(DecodeError::Truncated)?;
    if version != PROTOCOL_VERSION {
        return Err(DecodeError::BadVersion { got: version });
    }
    match postcard::take_from_bytes::<Message<'_>>(msg) {
        Ok((m, [])) if m.within_limits() => Ok(m),
        _ => Err(DecodeError::Deserialize),
    }
}

/// What one byte did to the decoder (no borrow, so [`Decoder::feed`] can loop).
#[derive(Clone, Copy)]
enum Event {
    /// A frame of this many stuffed bytes is complete in the buffer.
    Frame(usize),
    /// A frame was dropped.
    Error(DecodeError),
}

/// Streaming frame decoder: takes bytes as they arrive, yields messages borrowed from its buffer.
///
/// Bytes are collected up to a [`DELIMITER`], then the frame is decoded in place ([`decode_frame`]).
/// After any error the decoder starts a new frame at the next delimiter: a frame longer than
/// [`MAX_FRAME_LEN`] is reported ([`DecodeError::Oversized`]) as soon as it overflows and the rest of it is
/// skipped. Empty frames (consecutive delimiters) are ignored without error, so a sender may write a
/// lone `0x00` to make the receiver drop a partial frame (e.g. after reconnecting). Every error is
/// counted in [`Decoder::errors`]. `MAX_FRAME_LEN` bytes of RAM, no allocation, no panic.
#[derive(Clone, Debug)]
pub struct Decoder {
    buf: [u8; MAX_FRAME_LEN],
    len: usize,
    /// Skipping the rest of an oversized frame.
    skipping: bool,
    errors: LinkErrors,
    frames: u32,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// An empty decoder (usable in a `static`).
    pub const fn new() -> Self {
        Self {
            buf: [0; MAX_FRAME_LEN],
            len: 0,
            skipping: false,
            errors: LinkErrors {
                bad_crc: 0,
                cobs: 0,
                oversized: 0,
                truncated: 0,
                bad_version: 0,
                deserialize: 0,
            },
            frames: 0,
        }
    }

    /// Error counters since creation.
    pub const fn errors(&self) -> LinkErrors {
        self.errors
    }

    /// Frames decoded successfully since creation (wrapping).
    pub const fn frames(&self) -> u32 {
        self.frames
    }

    /// Drops any partial frame (counters are kept).
    pub fn clear(&mut self) {
        self.len = 0;
        self.skipping = false;
    }

    fn accept(&mut self, byte: u8) -> Option<Event> {
        if byte == DELIMITER {
            let len = self.len;
            let skipped = self.skipping;
            self.clear();
            return (!skipped && len > 0).then_some(Event::Frame(len));
        }
        if self.skipping {
            return None;
        }
        match self.buf.get_mut(self.len) {
            Some(slot) => {
                *slot = byte;
                self.len += 1;
                None
            }
            None => {
                self.skipping = true;
                self.errors.count(DecodeError::Oversized);
                Some(Event::Error(DecodeError::Oversized))
            }
        }
    }

    fn finish(&mut self, len: usize) -> Result<Message<'_>, DecodeError> {
        let res = match self.buf.get_mut(..len) {
            Some(frame) => decode_frame(frame),
            None => Err(DecodeError::Oversized),
        };
        match res {
            Ok(m) => {
                self.frames = self.frames.wrapping_add(1);
                Ok(m)
            }
            Err(e) => {
                self.errors.count(e);
                Err(e)
            }
        }
    }

    /// Takes one byte; returns a message or an error when this byte completes a frame (or overflows one).
    pub fn push(&mut self, byte: u8) -> Option<Result<Message<'_>, DecodeError>> {
        match self.accept(byte)? {
            Event::Frame(len) => Some(self.finish(len)),
            Event::Error(e) => Some(Err(e)),
        }
    }

    /// Takes bytes from the front of `input` up to the first completed frame (or error) and returns it,
    /// leaving the rest in `input`; returns `None` once `input` is used up without completing one.
    ///
    /// ```
    /// # use engram_link::{Decoder, Message, Command, encode_frame, MAX_FRAME_LEN};
    /// let mut out = [0u8; MAX_FRAME_LEN];
    /// let frame = encode_frame(&Message::Command(Command::Pause), &mut out).unwrap();
    /// let mut dec = Decoder::new();
    /// let mut input: &[u8] = frame;
    /// while let Some(res) = dec.feed(&mut input) {
    ///     assert_eq!(res, Ok(Message::Command(Command::Pause)));
    /// }
    /// assert_eq!(dec.frames(), 1);
    /// ```
    pub fn feed(&mut self, input: &mut &[u8]) -> Option<Result<Message<'_>, DecodeError>> {
        while let Some((&byte, rest)) = input.split_first() {
            *input = rest;
            match self.accept(byte) {
                Some(Event::Frame(len)) => return Some(self.finish(len)),
                Some(Event::Error(e)) => return Some(Err(e)),
                None => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_count_each_kind_in_its_own_field_and_saturate() {
        let mut e = LinkErrors::default();
        for k in [
            DecodeError::BadCrc,
            DecodeError::Cobs,
            DecodeError::Oversized,
            DecodeError::Truncated,
            DecodeError::BadVersion { got: 9 },
            DecodeError::Deserialize,
        ] {
            e.count(k);
        }
        let one = LinkErrors {
            bad_crc: 1,
            cobs: 1,
            oversized: 1,
            truncated: 1,
            bad_version: 1,
            deserialize: 1,
        };
        assert_eq!(e, one);
        assert_eq!(e.total(), 6);
        let mut full = LinkErrors {
            bad_crc: u32::MAX,
            ..one
        };
        full.count(DecodeError::BadCrc);
        assert_eq!(full.bad_crc, u32::MAX);
        assert_eq!(full.total(), u32::MAX);
    }

    #[test]
    fn crc_is_crc32c_check_value() {
        // The catalogue check value of CRC-32/ISCSI over "123456789".
        assert_eq!(CRC.checksum(b"123456789"), 0xE306_9283);
        assert_eq!(checkpoint_crc(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn a_frame_starts_with_the_version_and_ends_with_the_crc() {
        let mut out = [0u8; MAX_FRAME_LEN];
        let n = encode_frame(&Message::Command(crate::Command::Reset), &mut out)
            .map(|f| f.len())
            .unwrap_or(0);
        let mut raw = [0u8; MAX_FRAME_LEN];
        let len = cobs::decode(&out[..n - 1], &mut raw).unwrap_or(0);
        // version, tag Command (5), variant Reset (2), CRC-32C of those three bytes.
        let crc = CRC.checksum(&[PROTOCOL_VERSION, 5, 2]).to_le_bytes();
        assert_eq!(
            &raw[..len],
            &[PROTOCOL_VERSION, 5, 2, crc[0], crc[1], crc[2], crc[3]]
        );
    }
}
