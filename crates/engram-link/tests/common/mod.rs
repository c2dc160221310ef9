//! Sample messages shared by the tests and the bench: one typical message of each kind (what a small
//! closed-loop experiment sends) and one at every maximum with the widest varints (the worst case).
#![allow(dead_code)]

use engram_link::{
    Ack, Action, CheckpointChunk, Command, ErrorCode, ErrorReport, HealthReport, Hello, I16F16,
    LinkErrors, MAX_CHUNK_LEN, MAX_NAME_LEN, MAX_POPULATIONS, MAX_PROJECTIONS, MAX_VALUES, Message,
    MessageKind, Observation, Outcome, Param, Sizes, Telemetry, Values, WeightStats,
};

/// 256 bytes of learned state, every byte value once (so COBS has to stuff zeros).
pub static CHUNK: [u8; MAX_CHUNK_LEN] = {
    let mut b = [0u8; MAX_CHUNK_LEN];
    let mut i = 0;
    while i < MAX_CHUNK_LEN {
        b[i] = i as u8;
        i += 1;
    }
    b
};

/// `n` Q16.16 values spread over [-1, 1].
pub fn values(n: usize) -> Values {
    (0..n)
        .map(|i| I16F16::from_num(i as f32 / n.max(1) as f32 * 2.0 - 1.0))
        .collect()
}

/// A name of exactly `n` bytes.
pub const LONG_NAME: &str = "abcdefghijklmnopqrstuvwxyz012345";
const _: () = assert!(LONG_NAME.len() == MAX_NAME_LEN);

/// One typical message per kind, with a label for the size table.
pub fn typical() -> Vec<(&'static str, Message<'static>)> {
    vec![
        (
            "Hello (qemu-mps2-an386, rstdp-conditioning)",
            Message::Hello(Hello {
                protocol: engram_link::PROTOCOL_VERSION,
                board: "qemu-mps2-an386",
                experiment: "rstdp-conditioning",
                model_hash: 0x9e37_79b9_7f4a_7c15,
                sizes: Sizes {
                    observation_len: 4,
                    action_len: 2,
                    populations: 3,
                    projections: 2,
                    neurons: 140,
                    synapses: 4200,
                    state_bytes: 8400,
                    step_us: 1000,
                },
            }),
        ),
        (
            "Observation, 4 values",
            Message::Observation(Observation {
                step: 123_456,
                values: values(4),
                outcome: Some(Outcome {
                    reward: I16F16::ONE,
                    done: false,
                }),
            }),
        ),
        (
            "Action, 2 values",
            Message::Action(Action {
                step: 123_456,
                values: values(2),
            }),
        ),
        (
            "Telemetry, 3 populations, 2 projections",
            Message::Telemetry(Telemetry {
                step: 123_456,
                objective: I16F16::from_num(0.75),
                reward: I16F16::from_num(-0.25),
                spike_counts: [412, 1_530, 87].into_iter().collect(),
                weights: [
                    WeightStats {
                        mean: I16F16::from_num(0.31),
                        min: I16F16::ZERO,
                        max: I16F16::from_num(0.99),
                        saturated: 12,
                    },
                    WeightStats {
                        mean: I16F16::from_num(-0.05),
                        min: I16F16::from_num(-0.5),
                        max: I16F16::from_num(0.5),
                        saturated: 0,
                    },
                ]
                .into_iter()
                .collect(),
                deadline_overruns: 0,
                link_errors: LinkErrors {
                    bad_crc: 2,
                    ..LinkErrors::default()
                },
                state_hash: 0x0123_4567_89ab_cdef,
            }),
        ),
        (
            "Checkpoint chunk, 256 bytes",
            Message::Checkpoint(CheckpointChunk {
                offset: 4096,
                total: 8400,
                image_crc: 0xdead_beef,
                bytes: &CHUNK,
            }),
        ),
        ("Command Pause", Message::Command(Command::Pause)),
        (
            "Command Set(LearningRate)",
            Message::Command(Command::Set(Param::LearningRate(I16F16::from_num(0.5)))),
        ),
        (
            "Ack (observation step 123456)",
            Message::Ack(Ack {
                of: MessageKind::Observation,
                seq: 123_456,
            }),
        ),
        (
            "Error (CheckpointOrder)",
            Message::Error(ErrorReport {
                of: MessageKind::Checkpoint,
                code: ErrorCode::CheckpointOrder { expected: 4096 },
            }),
        ),
        (
            "Health (a sensor missing)",
            Message::Health(HealthReport {
                step: 123_456,
                sensors_present: 0b01,
                sensor_faults: 3,
                missing_reads: 40,
                recoveries: 2,
                max_step_us: 412,
                mean_step_us: 230,
                checkpoints_saved: 5,
                ..HealthReport::default()
            }),
        ),
    ]
}

/// Every message kind at its maxima, with `u32::MAX` wherever a varint is used (5 bytes each).
pub fn worst() -> Vec<(&'static str, Message<'static>)> {
    let full: Values = (0..MAX_VALUES).map(|_| I16F16::MIN).collect();
    let stats = WeightStats {
        mean: I16F16::MIN,
        min: I16F16::MIN,
        max: I16F16::MAX,
        saturated: u32::MAX,
    };
    let m = u32::MAX;
    vec![
        (
            "Hello, 32-byte names",
            Message::Hello(Hello {
                protocol: u8::MAX,
                board: LONG_NAME,
                experiment: LONG_NAME,
                model_hash: u64::MAX,
                sizes: Sizes {
                    observation_len: u16::MAX,
                    action_len: u16::MAX,
                    populations: u16::MAX,
                    projections: u16::MAX,
                    neurons: m,
                    synapses: m,
                    state_bytes: m,
                    step_us: m,
                },
            }),
        ),
        (
            "Observation, 64 values",
            Message::Observation(Observation {
                step: m,
                values: full.clone(),
                outcome: Some(Outcome {
                    reward: I16F16::MIN,
                    done: true,
                }),
            }),
        ),
        (
            "Action, 64 values",
            Message::Action(Action {
                step: m,
                values: full,
            }),
        ),
        (
            "Telemetry, 8 populations, 8 projections",
            Message::Telemetry(Telemetry {
                step: m,
                objective: I16F16::MIN,
                reward: I16F16::MIN,
                spike_counts: (0..MAX_POPULATIONS).map(|_| m).collect(),
                weights: (0..MAX_PROJECTIONS).map(|_| stats).collect(),
                deadline_overruns: m,
                link_errors: LinkErrors {
                    bad_crc: m,
                    cobs: m,
                    oversized: m,
                    truncated: m,
                    bad_version: m,
                    deserialize: m,
                },
                state_hash: u64::MAX,
            }),
        ),
        (
            "Checkpoint chunk, 256 bytes",
            Message::Checkpoint(CheckpointChunk {
                offset: m,
                total: m,
                image_crc: m,
                bytes: &CHUNK,
            }),
        ),
        (
            "Command Set(TelemetryPeriod)",
            Message::Command(Command::Set(Param::TelemetryPeriod(m))),
        ),
        (
            "Ack",
            Message::Ack(Ack {
                of: MessageKind::Error,
                seq: m,
            }),
        ),
        (
            "Error (CheckpointOrder)",
            Message::Error(ErrorReport {
                of: MessageKind::Error,
                code: ErrorCode::CheckpointOrder { expected: m },
            }),
        ),
        (
            "Health",
            Message::Health(HealthReport {
                step: m,
                sensors_present: m,
                sensor_faults: m,
                missing_reads: m,
                recoveries: m,
                actuator_errors: m,
                deadline_overruns: m,
                max_step_us: m,
                mean_step_us: m,
                checkpoints_saved: m,
                checkpoint_errors: m,
            }),
        ),
    ]
}
