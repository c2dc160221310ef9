//! # engram-link — the wire protocol between a board and the host
//!
//! DOC_PLACEHOLDER
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod checkpoint;
mod frame;
mod message;
mod wire;

pub use checkpoint::{Assembler, AssemblyError, chunks};
pub use fixed::types::I16F16;
pub use frame::{
    CRC_LEN, DELIMITER, DecodeError, Decoder, EncodeError, Encoder, MIN_RAW_LEN, checkpoint_crc,
    decode_frame, encode_frame,
};
pub use message::{
    Ack, Action, CheckpointChunk, Command, ErrorCode, ErrorReport, Hello, LinkErrors,
    MAX_CHUNK_LEN, MAX_NAME_LEN, MAX_POPULATIONS, MAX_PROJECTIONS, MAX_VALUES, Message,
    MessageKind, Observation, Param, Sizes, Telemetry, Values, WeightStats,
};

/// Protocol version: the first byte of every frame and the `protocol` of [`Hello`].
pub const PROTOCOL_VERSION: u8 = 1;

/// Longest frame on the wire, delimiter included: the worst case of every message at its maxima fits
/// (checked by the `worst_case_frames_fit` test). Also the decoder's buffer size.
pub const MAX_FRAME_LEN: usize = 288;
