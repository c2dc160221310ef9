//! Bounded property tests over random messages, random bytes and mutated frames (the CI stand-in for the
//! `fuzz/` target): the decoder never panics, valid messages round-trip exactly, every error is counted,
//! no corrupted frame decodes as a message, and the decoder recovers for the next valid frame.

use engram_link::{
    Ack, Action, CheckpointChunk, Command, DecodeError, Decoder, ErrorCode, ErrorReport, Hello,
    I16F16, LinkErrors, MAX_CHUNK_LEN, MAX_FRAME_LEN, MAX_POPULATIONS, MAX_PROJECTIONS, MAX_VALUES,
    Message, MessageKind, Observation, Outcome, Param, Sizes, Telemetry, WeightStats, decode_frame,
    encode_frame,
};
use proptest::collection::vec;
use proptest::prelude::*;

/// An owned description of a message (messages borrow their names and chunk bytes).
#[derive(Clone, Debug)]
enum Spec {
    Hello(u8, String, String, u64, [u16; 4], [u32; 4]),
    Observation(u32, Vec<i32>),
    Action(u32, Vec<i32>),
    Telemetry(Telemetry),
    Checkpoint(u32, u32, u32, Vec<u8>),
    Command(Command),
    Ack(Ack),
    Error(ErrorReport),
}

fn fixes(bits: &[i32]) -> engram_link::Values {
    bits.iter().map(|&b| I16F16::from_bits(b)).collect()
}

impl Spec {
    fn msg(&self) -> Message<'_> {
        match self {
            Spec::Hello(protocol, board, experiment, model_hash, a, b) => Message::Hello(Hello {
                protocol: *protocol,
                board,
                experiment,
                model_hash: *model_hash,
                sizes: Sizes {
                    observation_len: a[0],
                    action_len: a[1],
                    populations: a[2],
                    projections: a[3],
                    neurons: b[0],
                    synapses: b[1],
                    state_bytes: b[2],
                    step_us: b[3],
                },
            }),
            Spec::Observation(step, v) => Message::Observation(Observation {
                step: *step,
                values: fixes(v),
                // Every shape: none, and rewards with either end-of-episode flag.
                outcome: (step % 3 != 0).then(|| Outcome {
                    reward: I16F16::from_bits(step.rotate_left(7) as i32),
                    done: step % 2 == 0,
                }),
            }),
            Spec::Action(step, v) => Message::Action(Action {
                step: *step,
                values: fixes(v),
            }),
            Spec::Telemetry(t) => Message::Telemetry(t.clone()),
            Spec::Checkpoint(offset, total, image_crc, bytes) => {
                Message::Checkpoint(CheckpointChunk {
                    offset: *offset,
                    total: *total,
                    image_crc: *image_crc,
                    bytes,
                })
            }
            Spec::Command(c) => Message::Command(*c),
            Spec::Ack(a) => Message::Ack(*a),
            Spec::Error(e) => Message::Error(*e),
        }
    }
}

fn fix() -> impl Strategy<Value = I16F16> {
    any::<i32>().prop_map(I16F16::from_bits)
}

fn kind() -> impl Strategy<Value = MessageKind> {
    prop::sample::select(vec![
        MessageKind::Hello,
        MessageKind::Observation,
        MessageKind::Action,
        MessageKind::Telemetry,
        MessageKind::Checkpoint,
        MessageKind::Command,
        MessageKind::Ack,
        MessageKind::Error,
    ])
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        Just(Command::Pause),
        Just(Command::Resume),
        Just(Command::Reset),
        Just(Command::SaveCheckpoint),
        Just(Command::SendCheckpoint),
        Just(Command::Report),
        fix().prop_map(|v| Command::Set(Param::LearningRate(v))),
        any::<bool>().prop_map(|v| Command::Set(Param::Plasticity(v))),
        fix().prop_map(|v| Command::Set(Param::Exploration(v))),
        any::<u32>().prop_map(|v| Command::Set(Param::TelemetryPeriod(v))),
    ]
}

fn error_code() -> impl Strategy<Value = ErrorCode> {
    prop_oneof![
        any::<u8>().prop_map(|supported| ErrorCode::VersionMismatch { supported }),
        Just(ErrorCode::ModelMismatch),
        Just(ErrorCode::Unsupported),
        Just(ErrorCode::OutOfRange),
        any::<u32>().prop_map(|expected| ErrorCode::CheckpointOrder { expected }),
        Just(ErrorCode::CheckpointRejected),
        Just(ErrorCode::Busy),
    ]
}

fn telemetry() -> impl Strategy<Value = Telemetry> {
    let stats =
        (fix(), fix(), fix(), any::<u32>()).prop_map(|(mean, min, max, saturated)| WeightStats {
            mean,
            min,
            max,
            saturated,
        });
    (
        (any::<u32>(), fix(), fix(), any::<u32>()),
        vec(any::<u32>(), 0..=MAX_POPULATIONS),
        vec(stats, 0..=MAX_PROJECTIONS),
        any::<[u32; 6]>(),
    )
        .prop_map(
            |((step, objective, reward, overruns), spikes, weights, e)| Telemetry {
                step,
                objective,
                reward,
                spike_counts: spikes.into_iter().collect(),
                weights: weights.into_iter().collect(),
                deadline_overruns: overruns,
                link_errors: LinkErrors {
                    bad_crc: e[0],
                    cobs: e[1],
                    oversized: e[2],
                    truncated: e[3],
                    bad_version: e[4],
                    deserialize: e[5],
                },
                state_hash: (u64::from(e[0]) << 32) | u64::from(step),
            },
        )
}

fn spec() -> impl Strategy<Value = Spec> {
    // Names of at most 8 chars of up to 4 bytes: within MAX_NAME_LEN (32) bytes.
    let name = "\\PC{0,8}";
    prop_oneof![
        (
            any::<u8>(),
            name,
            name,
            any::<u64>(),
            any::<[u16; 4]>(),
            any::<[u32; 4]>()
        )
            .prop_map(|(p, b, e, h, s, t)| Spec::Hello(p, b, e, h, s, t)),
        (any::<u32>(), vec(any::<i32>(), 0..=MAX_VALUES))
            .prop_map(|(s, v)| Spec::Observation(s, v)),
        (any::<u32>(), vec(any::<i32>(), 0..=MAX_VALUES)).prop_map(|(s, v)| Spec::Action(s, v)),
        telemetry().prop_map(Spec::Telemetry),
        (
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            vec(any::<u8>(), 0..=MAX_CHUNK_LEN)
        )
            .prop_map(|(o, t, c, b)| Spec::Checkpoint(o, t, c, b)),
        command().prop_map(Spec::Command),
        (kind(), any::<u32>()).prop_map(|(of, seq)| Spec::Ack(Ack { of, seq })),
        (kind(), error_code()).prop_map(|(of, code)| Spec::Error(ErrorReport { of, code })),
    ]
}

fn encode(msg: &Message<'_>) -> Vec<u8> {
    let mut buf = [0u8; MAX_FRAME_LEN];
    encode_frame(msg, &mut buf)
        .expect("within maxima: fits")
        .to_vec()
}

/// Results of decoding `bytes`, fed in pieces cut at `cuts` (positions modulo the length).
fn decode_in_pieces(
    dec: &mut Decoder,
    bytes: &[u8],
    cuts: &[usize],
) -> Vec<Result<Vec<u8>, DecodeError>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.push(0);
    points.push(bytes.len());
    points.sort_unstable();
    let mut out = Vec::new();
    for w in points.windows(2) {
        let mut input = &bytes[w[0]..w[1]];
        while let Some(r) = dec.feed(&mut input) {
            out.push(r.map(|m| encode(&m)));
        }
    }
    out
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Drop(usize),
    Insert(usize, u8),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Drop),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(frame: &mut Vec<u8>, m: &Mutation) {
    let n = frame.len();
    match *m {
        Mutation::Flip(i, b) if n > 0 => frame[i % n] ^= 1 << b,
        Mutation::Drop(i) if n > 0 => {
            frame.remove(i % n);
        }
        Mutation::Insert(i, b) => frame.insert(i % (n + 1), b),
        Mutation::Truncate(i) => frame.truncate(i % (n + 1)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn valid_messages_round_trip_exactly(s in spec(), cuts in vec(any::<usize>(), 0..4)) {
        let msg = s.msg();
        let frame = encode(&msg);
        prop_assert!(frame.len() <= MAX_FRAME_LEN);
        let mut body = frame[..frame.len() - 1].to_vec();
        prop_assert_eq!(decode_frame(&mut body), Ok(msg.clone()));
        let mut dec = Decoder::new();
        prop_assert_eq!(decode_in_pieces(&mut dec, &frame, &cuts), vec![Ok(frame.clone())]);
        prop_assert_eq!(dec.errors(), LinkErrors::default());
    }

    #[test]
    fn random_bytes_never_panic_and_the_next_frame_after_a_delimiter_decodes(
        garbage in vec(any::<u8>(), 0..2 * MAX_FRAME_LEN),
        s in spec(),
        cuts in vec(any::<usize>(), 0..4),
    ) {
        let frame = encode(&s.msg());
        let mut stream = garbage.clone();
        stream.push(0);
        stream.extend(&frame);
        let mut dec = Decoder::new();
        let got = decode_in_pieces(&mut dec, &stream, &cuts);
        prop_assert_eq!(got.last(), Some(&Ok(frame.clone())));
        let errs = got.iter().filter(|r| r.is_err()).count() as u32;
        prop_assert_eq!(errs, dec.errors().total());
        prop_assert_eq!(got.iter().filter(|r| r.is_ok()).count() as u32, dec.frames());
        // The same bytes at once or in pieces give the same results.
        prop_assert_eq!(decode_in_pieces(&mut Decoder::new(), &stream, &[]), got);
    }

    #[test]
    fn mutated_frames_never_decode_as_another_message_and_the_link_recovers(
        a in spec(),
        b in spec(),
        muts in vec(mutation(), 1..6),
    ) {
        let fa = encode(&a.msg());
        let fb = encode(&b.msg());
        let mut bad = fa.clone();
        for m in &muts {
            mutate(&mut bad, m);
        }
        // The sender of b starts with a lone delimiter (as after a timeout), so b decodes whatever came
        // before; anything else that decodes must be a itself (a mutation can be harmless, e.g. an
        // inserted zero before the frame): a corrupted frame never yields a different message.
        let mut stream = bad.clone();
        stream.push(0);
        stream.extend(&fb);
        let mut dec = Decoder::new();
        let got = decode_in_pieces(&mut dec, &stream, &[]);
        prop_assert_eq!(got.last(), Some(&Ok(fb.clone())));
        for f in got[..got.len() - 1].iter().flatten() {
            prop_assert_eq!(f, &fa);
        }
        let errs = got.iter().filter(|r| r.is_err()).count() as u32;
        prop_assert_eq!(errs, dec.errors().total());
        // Nothing vanishes silently: every non-empty frame in the corrupted bytes gives one result
        // (a message or an error); only frames cut down to nothing give none.
        let frames = bad.split(|&x| x == 0).filter(|f| !f.is_empty()).count();
        prop_assert_eq!(got.len() - 1, frames);
    }
}
