//! The messages that cross the link, as plain serde types.
//!
//! **Wire compatibility.** postcard encodes an enum variant as its index (a varint) and a struct as its
//! fields in declaration order, with no names. So the order of the variants of [`Message`] and of every
//! enum below, and the order and types of every field, *are* the protocol: append new variants at the end,
//! never reorder, and bump [`PROTOCOL_VERSION`](crate::PROTOCOL_VERSION) for any other change.
//!
//! **Formats.** Values that feed the step path (observations, actions) and the fixed-point scalars in
//! telemetry are Q16.16 ([`I16F16`]) sent as their raw `i32` bits, 4 bytes little-endian (not varints), so
//! host and board compute with the same bits and a step frame has the same length whatever the values.
//! The step counter of [`Observation`]/[`Action`] is a fixed 4-byte `u32` for the same reason. Counters
//! (spike counts, error counters, offsets) are postcard varints (1–5 bytes).
//!
//! **Capacities.** Every variable-length field has a documented maximum ([`MAX_VALUES`],
//! [`MAX_POPULATIONS`], [`MAX_PROJECTIONS`], [`MAX_NAME_LEN`], [`MAX_CHUNK_LEN`]); `heapless::Vec`
//! fields enforce theirs by type, the borrowed `&str`/`&[u8]` fields are checked by
//! [`Message::within_limits`] on encode and on decode.

use fixed::types::I16F16;
use heapless::Vec;
use serde::{Deserialize, Serialize};

use crate::wire;

/// Most values in one [`Observation`] or [`Action`].
pub const MAX_VALUES: usize = 64;
/// Most populations reported in one [`Telemetry`] (`spike_counts`).
pub const MAX_POPULATIONS: usize = 8;
/// Most projections reported in one [`Telemetry`] (`weights`).
pub const MAX_PROJECTIONS: usize = 8;
/// Longest board or experiment name in a [`Hello`], in bytes of UTF-8.
pub const MAX_NAME_LEN: usize = 32;
/// Most bytes of learned state in one [`CheckpointChunk`].
pub const MAX_CHUNK_LEN: usize = 256;

/// Observation or action values: Q16.16, at most [`MAX_VALUES`].
pub type Values = Vec<I16F16, MAX_VALUES>;

/// One message. The variant index is the wire tag (see the module doc: append only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message<'a> {
    /// First message each way: who is speaking and what it runs.
    #[serde(borrow)]
    Hello(Hello<'a>),
    /// Host → board: what the environment shows the agent at `step`.
    Observation(Observation),
    /// Board → host: what the agent does at `step`.
    Action(Action),
    /// Board → host: how learning goes.
    Telemetry(Telemetry),
    /// Either way: a piece of the learned state (pull: board → host; push: host → board).
    #[serde(borrow)]
    Checkpoint(CheckpointChunk<'a>),
    /// Host → board: change what the board does.
    Command(Command),
    /// Either way: a message was accepted.
    Ack(Ack),
    /// Either way: a message was understood but refused.
    Error(ErrorReport),
    /// Board → host: the board's fault counters (sensors, actuators, step timing), sent with
    /// [`Telemetry`]. Appended in protocol version 1 (a receiver that predates it reports a
    /// deserialize error for this frame and keeps going).
    Health(HealthReport),
}

/// The kind of a [`Message`], without its contents (what an [`Ack`] or [`ErrorReport`] refers to).
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessageKind {
    /// [`Message::Hello`].
    Hello,
    /// [`Message::Observation`].
    Observation,
    /// [`Message::Action`].
    Action,
    /// [`Message::Telemetry`].
    Telemetry,
    /// [`Message::Checkpoint`].
    Checkpoint,
    /// [`Message::Command`].
    Command,
    /// [`Message::Ack`].
    Ack,
    /// [`Message::Error`].
    Error,
    /// [`Message::Health`].
    Health,
}

impl Message<'_> {
    /// The kind of this message.
    pub const fn kind(&self) -> MessageKind {
        match self {
            Message::Hello(_) => MessageKind::Hello,
            Message::Observation(_) => MessageKind::Observation,
            Message::Action(_) => MessageKind::Action,
            Message::Telemetry(_) => MessageKind::Telemetry,
            Message::Checkpoint(_) => MessageKind::Checkpoint,
            Message::Command(_) => MessageKind::Command,
            Message::Ack(_) => MessageKind::Ack,
            Message::Error(_) => MessageKind::Error,
            Message::Health(_) => MessageKind::Health,
        }
    }

    /// Whether the borrowed fields respect their maxima: names at most [`MAX_NAME_LEN`] bytes, chunk bytes
    /// at most [`MAX_CHUNK_LEN`]. (The `heapless::Vec` fields cannot exceed theirs.)
    pub fn within_limits(&self) -> bool {
        match self {
            Message::Hello(h) => {
                h.board.len() <= MAX_NAME_LEN && h.experiment.len() <= MAX_NAME_LEN
            }
            Message::Checkpoint(c) => c.bytes.len() <= MAX_CHUNK_LEN,
            _ => true,
        }
    }
}

/// First message each way. The receiver compares `protocol` (also carried by every frame header, so an
/// incompatible peer is reported as [`DecodeError::BadVersion`](crate::DecodeError::BadVersion) with
/// the version it speaks) and `model_hash` before exchanging anything else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello<'a> {
    /// The sender's [`PROTOCOL_VERSION`](crate::PROTOCOL_VERSION).
    pub protocol: u8,
    /// Board name (`"qemu-mps2-an386"`, `"host"`, ...), at most [`MAX_NAME_LEN`] bytes.
    pub board: &'a str,
    /// Experiment name, at most [`MAX_NAME_LEN`] bytes.
    pub experiment: &'a str,
    /// Hash of the model's configuration (architecture, rule, objective, precision): both ends must agree.
    /// Fixed 8 bytes little-endian.
    #[serde(with = "postcard::fixint::le")]
    pub model_hash: u64,
    /// Sizes of the model, for the peer to check its buffers.
    pub sizes: Sizes,
}

impl Hello<'_> {
    /// Checks a peer's `Hello` against this side: same protocol, same model, step vectors within
    /// [`MAX_VALUES`]. The error is what to answer in an [`ErrorReport`].
    pub fn check(&self, model_hash: u64) -> Result<(), ErrorCode> {
        if self.protocol != crate::PROTOCOL_VERSION {
            return Err(ErrorCode::VersionMismatch {
                supported: crate::PROTOCOL_VERSION,
            });
        }
        if self.model_hash != model_hash {
            return Err(ErrorCode::ModelMismatch);
        }
        let fits = |n: u16| usize::from(n) <= MAX_VALUES;
        if !fits(self.sizes.observation_len) || !fits(self.sizes.action_len) {
            return Err(ErrorCode::OutOfRange);
        }
        Ok(())
    }
}

/// Sizes announced in a [`Hello`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sizes {
    /// Values per [`Observation`] (at most [`MAX_VALUES`]).
    pub observation_len: u16,
    /// Values per [`Action`] (at most [`MAX_VALUES`]).
    pub action_len: u16,
    /// Number of populations.
    pub populations: u16,
    /// Number of projections.
    pub projections: u16,
    /// Total neurons.
    pub neurons: u32,
    /// Total synapses.
    pub synapses: u32,
    /// Bytes of learned state (the length of a full checkpoint).
    pub state_bytes: u32,
    /// The agent's time step, µs.
    pub step_us: u32,
}

/// What the environment shows the agent at `step` (host → board).
///
/// In a closed loop (processor in the loop) `step` counts control periods: the board answers
/// observation `k` with action `k`; an observation repeating the last answered step (the host resent
/// it because the action was lost) is answered again with the same action, without stepping.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// Step counter (wraps at 2³²). Fixed 4 bytes.
    #[serde(with = "postcard::fixint::le")]
    pub step: u32,
    /// Observation values, Q16.16 raw bits, 4 bytes each.
    #[serde(with = "wire::fix_vec")]
    pub values: Values,
    /// The environment's answer to the previous action (`None` before the first). Protocol 2.
    pub outcome: Option<Outcome>,
}

/// The environment's answer to an action: the reward and whether the episode ended. Sent with the
/// next [`Observation`], so the board applies it before stepping on that observation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Reward, Q16.16, 4 bytes.
    #[serde(with = "wire::fix")]
    pub reward: I16F16,
    /// The action ended the episode (the host has reset its world).
    pub done: bool,
}

/// What the agent does at `step` (board → host), answering the [`Observation`] of the same step.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// Step counter of the observation answered. Fixed 4 bytes.
    #[serde(with = "postcard::fixint::le")]
    pub step: u32,
    /// Action values, Q16.16 raw bits, 4 bytes each.
    #[serde(with = "wire::fix_vec")]
    pub values: Values,
}

/// How learning goes (board → host), sent every few steps.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Telemetry {
    /// Step at which this was taken.
    pub step: u32,
    /// The objective's value (the scalar being optimised), Q16.16.
    #[serde(with = "wire::fix")]
    pub objective: I16F16,
    /// Reward (or other third factor) at this step, Q16.16.
    #[serde(with = "wire::fix")]
    pub reward: I16F16,
    /// Spikes per population since the previous telemetry, in population order.
    pub spike_counts: Vec<u32, MAX_POPULATIONS>,
    /// Weight statistics per plastic projection, in projection order.
    pub weights: Vec<WeightStats, MAX_PROJECTIONS>,
    /// Steps that missed their deadline since start.
    pub deadline_overruns: u32,
    /// The sender's receive-side link error counters since start.
    pub link_errors: LinkErrors,
    /// Hash of the sender's learned state (the agent without its environment: weights, traces,
    /// eligibilities, neuron states, objective, generators), fixed 8 bytes little-endian; 0 if
    /// unknown. Protocol 2.
    #[serde(with = "postcard::fixint::le")]
    pub state_hash: u64,
}

/// A board's fault counters since boot (board → host, [`Message::Health`]): what [`Telemetry`] has no
/// field for. Counters saturate.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HealthReport {
    /// Step at which this was taken (as in the [`Telemetry`] sent with it).
    pub step: u32,
    /// Bit `i` set: sensor `i` gave a trustworthy reading at `step` (board-defined order).
    pub sensors_present: u32,
    /// Sensor faults detected: bus/converter errors + implausible (out of range) + stuck readings.
    pub sensor_faults: u32,
    /// Reads the agent saw as "sensor missing".
    pub missing_reads: u32,
    /// Times a faulty sensor came back.
    pub recoveries: u32,
    /// Actuator commands that failed.
    pub actuator_errors: u32,
    /// Steps that missed their deadline (as in [`Telemetry::deadline_overruns`]).
    pub deadline_overruns: u32,
    /// Longest step so far, µs.
    pub max_step_us: u32,
    /// Mean step cost, µs.
    pub mean_step_us: u32,
    /// Checkpoints saved to non-volatile storage since boot.
    pub checkpoints_saved: u32,
    /// Checkpoint saves that failed since boot.
    pub checkpoint_errors: u32,
}

/// Statistics of one projection's weights, in real units (weight × scale), Q16.16.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightStats {
    /// Mean weight.
    #[serde(with = "wire::fix")]
    pub mean: I16F16,
    /// Smallest weight.
    #[serde(with = "wire::fix")]
    pub min: I16F16,
    /// Largest weight.
    #[serde(with = "wire::fix")]
    pub max: I16F16,
    /// Weights sitting at a bound of their storage format (clipped).
    pub saturated: u32,
}

/// Receive-side error counters, one per [`DecodeError`](crate::DecodeError) kind. Saturating.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LinkErrors {
    /// Frames whose CRC did not match.
    pub bad_crc: u32,
    /// Frames that were not valid COBS.
    pub cobs: u32,
    /// Frames longer than [`MAX_FRAME_LEN`](crate::MAX_FRAME_LEN) (dropped up to the next delimiter).
    pub oversized: u32,
    /// Frames too short to hold a header and a CRC.
    pub truncated: u32,
    /// Frames from another protocol version.
    pub bad_version: u32,
    /// Frames whose CRC matched but whose message did not decode (or broke a limit).
    pub deserialize: u32,
}

impl LinkErrors {
    /// Sum of all counters (saturating).
    pub const fn total(&self) -> u32 {
        self.bad_crc
            .saturating_add(self.cobs)
            .saturating_add(self.oversized)
            .saturating_add(self.truncated)
            .saturating_add(self.bad_version)
            .saturating_add(self.deserialize)
    }
}

/// A piece of learned state. A checkpoint image of `total` bytes is cut into chunks at increasing
/// `offset`s; every chunk carries `image_crc`, the CRC-32C ([`checkpoint_crc`](crate::checkpoint_crc))
/// of the whole image, so the receiver checks the assembled image before using it (each chunk is also
/// covered by its frame's CRC).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointChunk<'a> {
    /// Offset of `bytes` in the image.
    pub offset: u32,
    /// Length of the whole image.
    pub total: u32,
    /// CRC-32C of the whole image.
    pub image_crc: u32,
    /// The bytes, borrowed from the frame buffer when decoded; at most [`MAX_CHUNK_LEN`].
    pub bytes: &'a [u8],
}

/// Host → board: change what the board does. The board answers [`Ack`] or [`ErrorReport`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Stop stepping; keep all state.
    Pause,
    /// Step again after [`Command::Pause`].
    Resume,
    /// Reset the agent's activity (membrane potentials, traces, step counter); learned weights are kept.
    Reset,
    /// Set one run-time parameter.
    Set(Param),
    /// Persist the learned state to the board's non-volatile storage.
    SaveCheckpoint,
    /// Send the learned state to the host as [`CheckpointChunk`]s (`engram checkpoint pull`).
    SendCheckpoint,
    /// Send a [`Telemetry`] now (answered by the telemetry instead of an [`Ack`]). Protocol 2.
    Report,
}

/// A run-time parameter: the variant is the parameter, its payload the typed value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Param {
    /// Multiplier on every rule's learning rate, Q16.16 (1.0 = as configured, 0 = frozen).
    LearningRate(#[serde(with = "wire::fix")] I16F16),
    /// Plasticity on or off (weights frozen when off; activity unchanged).
    Plasticity(bool),
    /// Exploration noise of the action decoder, Q16.16 (standard deviation in action units).
    Exploration(#[serde(with = "wire::fix")] I16F16),
    /// Steps between two [`Telemetry`] messages (0 = none).
    TelemetryPeriod(u32),
}

/// A message was accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Kind of the accepted message.
    pub of: MessageKind,
    /// Which one: the step of an observation/action, the offset of a checkpoint chunk, 0 otherwise.
    pub seq: u32,
}

/// A message was understood but refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReport {
    /// Kind of the refused message.
    pub of: MessageKind,
    /// Why.
    pub code: ErrorCode,
}

/// Why a message was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorCode {
    /// The peer speaks another protocol version; `supported` is the receiver's.
    VersionMismatch {
        /// The receiver's protocol version.
        supported: u8,
    },
    /// The [`Hello`]'s model hash differs from the receiver's model.
    ModelMismatch,
    /// The receiver does not handle this message (e.g. a board without non-volatile storage).
    Unsupported,
    /// A parameter value or a size is out of range.
    OutOfRange,
    /// A checkpoint chunk did not continue the image (`expected` is the offset the receiver wants next).
    CheckpointOrder {
        /// The offset the receiver expects next.
        expected: u32,
    },
    /// The assembled checkpoint image failed its CRC or has the wrong length; nothing was applied.
    CheckpointRejected,
    /// The receiver is busy (e.g. a checkpoint transfer in progress).
    Busy,
}
