//! # engram-link — the wire protocol between a board and the host
//!
//! `no_std`, no `alloc`, no `unsafe`. One serial line carries, in both directions, small typed messages:
//! the host's environment sends [`Observation`]s and the board's agent answers [`Action`]s (processor in
//! the loop); a board running on its own sensors sends [`Telemetry`] (and its fault counters in a
//! [`HealthReport`]); learned state moves as
//! [`CheckpointChunk`]s; the host steers with [`Command`]s, answered by [`Ack`] or [`ErrorReport`].
//! Both sides open with a [`Hello`]. MSRV: the workspace's `rust-version` (1.93, set by `fixed`).
//!
//! ## Where things are
//! - messages: [`Message`] and the types it holds, their field formats and maxima ([`MAX_VALUES`],
//!   [`MAX_POPULATIONS`], [`MAX_PROJECTIONS`], [`MAX_NAME_LEN`], [`MAX_CHUNK_LEN`]).
//! - framing: [`encode_frame`] / [`Encoder`] (message → bytes), [`decode_frame`] (one frame → message) and
//!   the streaming [`Decoder`] (bytes as they arrive from a UART → messages), with [`DecodeError`] and
//!   the per-kind counters [`LinkErrors`].
//! - checkpoints: [`chunks`] cuts an image, [`Assembler`] puts it back together and checks it.
//!
//! ## A frame
//! ```text
//! raw   = version (1 byte, PROTOCOL_VERSION) ‖ postcard(Message) ‖ CRC-32C(version ‖ message), 4 bytes LE
//! frame = COBS(raw) ‖ 0x00
//! ```
//! [postcard](https://docs.rs/postcard) writes the message (variant index, then fields in order; ints as
//! varints except where a field says otherwise), through postcard's CRC and COBS flavours straight into
//! the output buffer in one pass. COBS removes every zero byte from the frame, so `0x00` marks frame
//! ends and a receiver that lost its place resynchronises at the next one. A frame is at most
//! [`MAX_FRAME_LEN`] bytes.
//!
//! **Why CRC-32C** (Castagnoli, `crc::CRC_32_ISCSI`) rather than a CRC-16: the link carries learning
//! signals, and a corrupted observation or action that passes the check changes learned weights for good.
//! A 16-bit check lets a random corruption through once in 65 536; on a noisy line that reports, say, 100
//! bad frames per second that is one undetected bad frame every 11 minutes, against once in 1.4 years for
//! 32 bits. Among 32-bit polynomials Castagnoli's keeps Hamming distance 6 up to 5 243 data bits (Koopman),
//! beyond our largest frame (2 200 bits), where IEEE CRC-32 has 5 past 268 bits: any 5 bit errors in the
//! frame's data are caught. (A flip in a COBS length byte moves a zero instead; that is caught with
//! probability 1 − 2⁻³². The `every_single_bit_flip_is_detected` test flips every bit of every sample
//! frame.) It costs 2 bytes per frame over a CRC-16 and a 1 KiB table in flash.
//!
//! **Version.** The version byte is checked after the CRC (a bit error is never mistaken for a version
//! change). Every protocol version keeps the `version ‖ … ‖ CRC-32C` layout, so a peer speaking another
//! version is reported as [`DecodeError::BadVersion`] with the version it speaks — one clear error at
//! [`Hello`] — instead of a stream of unreadable frames.
//!
//! ## Decoding, errors and resynchronisation
//! [`Decoder`] collects bytes up to a delimiter in a [`MAX_FRAME_LEN`] buffer, then checks COBS, length,
//! CRC, version and message, in that order. Each failure is one [`DecodeError`] of a distinct kind,
//! counted in [`LinkErrors`] (which [`Telemetry`] reports), and the decoder starts afresh at the next
//! delimiter: a frame longer than the buffer is reported when it overflows and skipped to its end; empty
//! frames are ignored, so a sender can write a lone `0x00` to make the receiver drop a partial frame. A
//! frame whose delimiter is lost merges with the next one and both are dropped (one error): nothing marks
//! where the second began. Decoded names and checkpoint bytes borrow from the decoder's buffer (zero
//! copy); observation and action values are copied out into a `heapless::Vec` (at most 256 bytes),
//! because their wire bytes are little-endian and unaligned.
//!
//! ## Numbers
//! Frame sizes on the wire, delimiter included, from real encodings (asserted by `tests/sizes.rs`; the
//! typical messages are in `tests/common/mod.rs`):
//!
//! | message | typical | bytes | worst case (all maxima, widest varints) | bytes |
//! | --- | --- | ---: | --- | ---: |
//! | `Hello` | board `qemu-mps2-an386`, experiment `rstdp-conditioning` | 64 | two 32-byte names | 115 |
//! | `Observation` | 4 values, with the previous action's outcome | 35 | 64 values | 275 |
//! | `Action` | 2 values | 21 | 64 values | 269 |
//! | `Telemetry` | 3 populations, 2 projections | 67 | 8 populations, 8 projections | 242 |
//! | `Checkpoint` | 256-byte chunk | 276 | 256-byte chunk | 282 |
//! | `Command` | `Pause` / `Set(LearningRate)` | 9 / 14 | `Set(TelemetryPeriod(u32::MAX))` | 15 |
//! | `Ack` | observation step 123456 | 12 | | 14 |
//! | `Error` | `CheckpointOrder` | 12 | | 15 |
//! | `Health` | one sensor missing, a few faults | 23 | every counter `u32::MAX` | 63 |
//!
//! An action of *n* values is **13 + 4n bytes** whatever the values (fixed-width step counter and
//! Q16.16 raw bits; up to 60 values; from 61 on, COBS may add one byte); an observation carrying the
//! previous action's [`Outcome`] (reward, end of episode) is **19 + 4n** (14 + 4n without one).
//!
//! Highest closed-loop step rate the line allows (8N1: 10 bits per byte; compute time and inter-byte
//! gaps not counted). *Lock-step*: the host sends the observation, waits for the action, then the next
//! step — both frames in sequence. *Pipelined*: the UART is full duplex; if the board's action for step
//! k travels while the host already sends observation k + 1 (one step of latency), the longer frame sets
//! the rate. Steps per second (asserted by `tests/sizes.rs`):
//!
//! | obs / action values | bytes per step | lock-step 115 200 Bd | lock-step 1 MBd | pipelined 115 200 Bd | pipelined 1 MBd |
//! | --- | ---: | ---: | ---: | ---: | ---: |
//! | 1 / 1 | 23 + 17 = 40 | 288 | 2 500 | 500 | 4 347 |
//! | 4 / 2 | 35 + 21 = 56 | 205 | 1 785 | 329 | 2 857 |
//! | 16 / 4 | 83 + 29 = 112 | 102 | 892 | 138 | 1 204 |
//! | 64 / 64 | 275 + 269 = 544 | 21 | 183 | 41 | 363 |
//!
//! So a 1 kHz agent with a handful of inputs needs the 1 MBd line (lock-step) or pipelining; 115 200 Bd
//! closes a 4-in/2-out loop at up to 205 Hz. Telemetry shares the board → host direction: at one 67-byte
//! frame every *p* steps it adds 67/*p* bytes per step.
//!
//! RAM: a [`Decoder`] is 328 bytes (its [`MAX_FRAME_LEN`] buffer and counters), an [`Encoder`] 288, a
//! [`Message`] at most 280 (an observation of 64 values); sizes on a 64-bit host, a little less on a
//! 32-bit board (asserted by `tests/sizes.rs`). No allocation anywhere.
//!
//! Host cost of framing: `cargo bench -p engram-link --bench link` (encode and decode per message kind,
//! and the streaming decoder over a mixed stream).
//!
//! ## Features
//! - `defmt`: `defmt::Format` for [`DecodeError`], [`EncodeError`], [`AssemblyError`], [`LinkErrors`] and
//!   [`MessageKind`] (firmware logging).
//!
//! ## Testing
//! `tests/frame.rs`: round trip of every message, each error kind, resynchronisation after garbage,
//! truncation and every single bit flip, zero copy, checkpoint transfer. `tests/proptest.rs`: bounded
//! property tests over random messages, random bytes and mutated frames (the CI pass). `fuzz/` (at the
//! repository root): a cargo-fuzz target for the decoder (nightly; see `fuzz/README.md`).
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
    Ack, Action, CheckpointChunk, Command, ErrorCode, ErrorReport, HealthReport, Hello, LinkErrors,
    MAX_CHUNK_LEN, MAX_NAME_LEN, MAX_POPULATIONS, MAX_PROJECTIONS, MAX_VALUES, Message,
    MessageKind, Observation, Outcome, Param, Sizes, Telemetry, Values, WeightStats,
};

/// Protocol version: the first byte of every frame and the `protocol` of [`Hello`].
///
/// History: 1 — first version. 2 — processor in the loop: [`Observation::outcome`] (the reward and
/// end of episode of the previous action), [`Telemetry::state_hash`], [`Command::Report`].
pub const PROTOCOL_VERSION: u8 = 2;

/// Longest frame on the wire, delimiter included: the worst case of every message at its maxima fits
/// (checked by the `worst_case_frames_fit` test). Also the decoder's buffer size.
pub const MAX_FRAME_LEN: usize = 288;
