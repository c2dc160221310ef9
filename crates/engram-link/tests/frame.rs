//! Framing and decoding: round trip of every message, each error kind, resynchronisation after garbage,
//! truncation and bit flips, zero-copy decoding, checkpoint transfer through the link.

mod common;

use crc::{CRC_32_ISCSI, Crc};
use engram_link::{
    Assembler, AssemblyError, CheckpointChunk, Command, DecodeError, Decoder, EncodeError, Encoder,
    ErrorCode, Hello, LinkErrors, MAX_FRAME_LEN, MAX_NAME_LEN, Message, Observation,
    PROTOCOL_VERSION, Sizes, chunks, decode_frame, encode_frame,
};

fn encode(msg: &Message<'_>) -> Vec<u8> {
    let mut buf = [0u8; MAX_FRAME_LEN];
    encode_frame(msg, &mut buf).expect("fits").to_vec()
}

/// A frame built by hand: COBS(raw ‖ CRC-32C(raw)) ‖ 0.
fn frame_from_raw(raw: &[u8]) -> Vec<u8> {
    let crc = Crc::<u32>::new(&CRC_32_ISCSI).checksum(raw);
    let mut body = raw.to_vec();
    body.extend_from_slice(&crc.to_le_bytes());
    stuff(&body)
}

/// COBS(bytes) ‖ 0, no CRC added.
fn stuff(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; bytes.len() + bytes.len() / 254 + 2];
    let n = cobs::encode(bytes, &mut out);
    out.truncate(n);
    out.push(0);
    out
}

/// Everything a decoder yields for `bytes`, messages as their re-encoded frames (owned).
fn decode_all(dec: &mut Decoder, bytes: &[u8]) -> Vec<Result<Vec<u8>, DecodeError>> {
    let mut input = bytes;
    let mut out = Vec::new();
    while let Some(r) = dec.feed(&mut input) {
        out.push(r.map(|m| encode(&m)));
    }
    out
}

fn all_samples() -> Vec<Message<'static>> {
    common::typical()
        .into_iter()
        .chain(common::worst())
        .map(|(_, m)| m)
        .collect()
}

#[test]
fn every_message_round_trips_through_decode_frame_push_and_feed() {
    for msg in all_samples() {
        let frame = encode(&msg);
        assert_eq!(frame.last(), Some(&0), "{msg:?}");
        assert!(
            !frame[..frame.len() - 1].contains(&0),
            "only the delimiter is zero"
        );

        let mut body = frame[..frame.len() - 1].to_vec();
        assert_eq!(decode_frame(&mut body), Ok(msg.clone()));

        let mut dec = Decoder::new();
        let (last, head) = frame.split_last().expect("non-empty");
        for &b in head {
            assert!(dec.push(b).is_none());
        }
        assert_eq!(dec.push(*last), Some(Ok(msg.clone())));

        let mut input: &[u8] = &frame;
        assert_eq!(Decoder::new().feed(&mut input), Some(Ok(msg.clone())));
        assert!(input.is_empty());
    }
}

#[test]
fn many_frames_in_one_buffer_come_out_in_order_and_feed_stops_after_each() {
    let msgs = all_samples();
    let stream: Vec<u8> = msgs.iter().flat_map(|m| encode(m)).collect();
    let mut dec = Decoder::new();
    let got = decode_all(&mut dec, &stream);
    let want: Vec<_> = msgs.iter().map(|m| Ok(encode(m))).collect();
    assert_eq!(got, want);
    assert_eq!(dec.frames() as usize, msgs.len());
    assert_eq!(dec.errors(), LinkErrors::default());
}

#[test]
fn encoder_struct_matches_encode_frame() {
    let mut enc = Encoder::new();
    for msg in all_samples() {
        assert_eq!(enc.encode(&msg).expect("fits"), encode(&msg).as_slice());
    }
}

#[test]
fn decoded_borrowed_fields_point_into_the_frame_buffer() {
    let frame = encode(&common::typical()[0].1);
    let mut body = frame[..frame.len() - 1].to_vec();
    let range = body.as_ptr_range();
    let Ok(Message::Hello(h)) = decode_frame(&mut body) else {
        panic!("hello expected")
    };
    assert!(range.contains(&h.board.as_ptr()) && range.contains(&h.experiment.as_ptr()));

    let frame = encode(&common::typical()[4].1);
    let mut body = frame[..frame.len() - 1].to_vec();
    let range = body.as_ptr_range();
    let Ok(Message::Checkpoint(c)) = decode_frame(&mut body) else {
        panic!("checkpoint expected")
    };
    assert!(range.contains(&c.bytes.as_ptr()));
    assert_eq!(c.bytes, &common::CHUNK[..]);
}

#[test]
fn encode_fails_cleanly_for_every_short_buffer_and_over_limit_fields() {
    for msg in all_samples() {
        let len = encode(&msg).len();
        for n in 0..len {
            let mut buf = vec![0u8; n];
            assert_eq!(
                encode_frame(&msg, &mut buf),
                Err(EncodeError::BufferFull),
                "n = {n}"
            );
        }
    }
    let long = "x".repeat(MAX_NAME_LEN + 1);
    let hello = Message::Hello(Hello {
        protocol: PROTOCOL_VERSION,
        board: &long,
        experiment: "e",
        model_hash: 0,
        sizes: Sizes::default(),
    });
    assert_eq!(Encoder::new().encode(&hello), Err(EncodeError::Limits));
    let big = [1u8; engram_link::MAX_CHUNK_LEN + 1];
    let chunk = Message::Checkpoint(CheckpointChunk {
        offset: 0,
        total: 300,
        image_crc: 0,
        bytes: &big,
    });
    assert_eq!(Encoder::new().encode(&chunk), Err(EncodeError::Limits));
}

/// Decodes one hand-made frame and returns the single result and the counters.
fn one(frame: &[u8]) -> (Result<Vec<u8>, DecodeError>, LinkErrors) {
    let mut dec = Decoder::new();
    let mut got = decode_all(&mut dec, frame);
    assert_eq!(got.len(), 1, "{got:?}");
    (got.remove(0), dec.errors())
}

#[test]
fn each_error_kind_is_reported_and_counted_once() {
    let pause = encode(&Message::Command(Command::Pause));
    // Bad CRC: flip one bit of the CRC's last byte (a non-zero byte stays non-zero if we flip bit 0 of
    // an odd value or bit 1 otherwise; just try until the stuffed byte stays non-zero).
    let mut bad_crc = pause.clone();
    let i = bad_crc.len() - 2;
    bad_crc[i] ^= if bad_crc[i] == 1 { 2 } else { 1 };
    let (r, e) = one(&bad_crc);
    assert_eq!(r, Err(DecodeError::BadCrc));
    assert_eq!(
        e,
        LinkErrors {
            bad_crc: 1,
            ..Default::default()
        }
    );

    // COBS: a length code pointing past the end.
    let (r, e) = one(&[5, 1, 2, 0]);
    assert_eq!(r, Err(DecodeError::Cobs));
    assert_eq!(
        e,
        LinkErrors {
            cobs: 1,
            ..Default::default()
        }
    );

    // Truncated: valid COBS, 5 bytes once un-stuffed (< version + tag + CRC).
    let (r, e) = one(&stuff(&[PROTOCOL_VERSION, 1, 2, 3, 4]));
    assert_eq!(r, Err(DecodeError::Truncated));
    assert_eq!(
        e,
        LinkErrors {
            truncated: 1,
            ..Default::default()
        }
    );

    // Bad version, with a good CRC: reported with the version received.
    let (r, e) = one(&frame_from_raw(&[PROTOCOL_VERSION + 1, 5, 0]));
    assert_eq!(
        r,
        Err(DecodeError::BadVersion {
            got: PROTOCOL_VERSION + 1
        })
    );
    assert_eq!(
        e,
        LinkErrors {
            bad_version: 1,
            ..Default::default()
        }
    );
    assert_eq!(
        DecodeError::BadVersion { got: 1 }.to_string(),
        "peer speaks engram-link protocol 1, this side speaks 2"
    );

    // Deserialize: unknown message tag; trailing bytes; over-limit name; too many values. The last two
    // are built by hand at one past the limit, and decode at the limit (the control).
    let hello_raw = |name_len: usize| {
        let mut raw = vec![PROTOCOL_VERSION, 0, PROTOCOL_VERSION, name_len as u8];
        raw.extend(std::iter::repeat_n(b'a', name_len));
        raw.extend([1, b'e']); // experiment "e"
        raw.extend([0u8; 8 + 8]); // model hash (fixed 8), sizes (8 varint zeros)
        raw
    };
    let values_raw = |n: usize| {
        let mut raw = vec![PROTOCOL_VERSION, 1, 0, 0, 0, 0, n as u8];
        raw.extend(std::iter::repeat_n(1u8, n * 4));
        raw.push(0); // outcome: None
        raw
    };
    assert!(one(&frame_from_raw(&hello_raw(MAX_NAME_LEN))).0.is_ok());
    assert!(
        one(&frame_from_raw(&values_raw(engram_link::MAX_VALUES)))
            .0
            .is_ok()
    );
    for raw in [
        vec![PROTOCOL_VERSION, 200],
        vec![PROTOCOL_VERSION, 5, 0, 0],
        hello_raw(MAX_NAME_LEN + 1),
        values_raw(engram_link::MAX_VALUES + 1),
    ] {
        assert!(raw.len() + 4 < MAX_FRAME_LEN);
        let (r, e) = one(&frame_from_raw(&raw));
        assert_eq!(r, Err(DecodeError::Deserialize), "{raw:?}");
        assert_eq!(
            e,
            LinkErrors {
                deserialize: 1,
                ..Default::default()
            }
        );
    }

    // Oversized: reported once when the buffer overflows, the rest skipped, the next frame decodes.
    let mut stream = vec![7u8; MAX_FRAME_LEN * 3];
    stream.push(0);
    stream.extend(&pause);
    let mut dec = Decoder::new();
    assert_eq!(
        decode_all(&mut dec, &stream),
        [Err(DecodeError::Oversized), Ok(pause.clone())]
    );
    assert_eq!(
        dec.errors(),
        LinkErrors {
            oversized: 1,
            ..Default::default()
        }
    );
    assert_eq!(dec.errors().total(), 1);
}

#[test]
fn a_frame_of_exactly_max_frame_len_stuffed_bytes_is_not_oversized() {
    // MAX_FRAME_LEN non-zero bytes then a delimiter: fills the buffer exactly; decodes (as a bad frame,
    // since it's not a real one) without an Oversized error.
    let mut stream = vec![1u8; MAX_FRAME_LEN];
    stream.push(0);
    let (r, _) = one(&stream);
    assert_ne!(r, Err(DecodeError::Oversized));
}

#[test]
fn empty_frames_are_ignored_and_a_lone_delimiter_drops_a_partial_frame() {
    let obs = encode(&common::typical()[1].1);
    let mut stream = vec![0, 0, 0];
    stream.extend(&obs[..obs.len() / 2]); // partial frame, then the sender resynchronises
    stream.push(0);
    stream.extend([0, 0]);
    stream.extend(&obs);
    let mut dec = Decoder::new();
    let got = decode_all(&mut dec, &stream);
    assert_eq!(got.last(), Some(&Ok(obs.clone())));
    assert_eq!(
        got.len(),
        2,
        "one error for the partial frame, then the observation"
    );
    assert_eq!(dec.errors().total(), 1);
}

#[test]
fn resynchronises_after_leading_garbage_and_truncation() {
    let a = encode(&common::typical()[1].1);
    let b = encode(&common::typical()[2].1);
    // Garbage without a delimiter merges with frame a: a is lost, b decodes.
    let mut stream = vec![0x55u8; 17];
    stream.extend(&a);
    stream.extend(&b);
    let mut dec = Decoder::new();
    let got = decode_all(&mut dec, &stream);
    assert_eq!(got.len(), 2);
    assert!(got[0].is_err());
    assert_eq!(got[1], Ok(b.clone()));

    // Frame a cut at every length (its tail lost, delimiter included), then b and c. a's head merges
    // with b into one bad frame (b is lost with it, as nothing marks where b began); c always decodes.
    let c = encode(&Message::Command(Command::Resume));
    for cut in 0..a.len() - 1 {
        let mut stream = a[..cut].to_vec();
        stream.extend(&b);
        stream.extend(&c);
        let mut dec = Decoder::new();
        let got = decode_all(&mut dec, &stream);
        if cut == 0 {
            assert_eq!(got, [Ok(b.clone()), Ok(c.clone())]);
        } else {
            assert_eq!(got.len(), 2, "cut {cut}: {got:?}");
            assert!(got[0].is_err());
            assert_eq!(got[1], Ok(c.clone()));
            assert_eq!(dec.errors().total(), 1);
        }
    }
}

#[test]
fn every_single_bit_flip_is_detected_and_the_link_recovers() {
    let b = encode(&Message::Command(Command::Resume));
    let c = encode(&Message::Command(Command::Pause));
    for (_, msg) in common::typical() {
        let a = encode(&msg);
        for bit in 0..a.len() * 8 {
            let mut stream = a.clone();
            stream[bit / 8] ^= 1 << (bit % 8);
            stream.extend(&b);
            stream.extend(&c);
            let mut dec = Decoder::new();
            let got = decode_all(&mut dec, &stream);
            // The corrupted frame never decodes; b survives unless the flip hit a's delimiter (then a
            // and b merge into one bad frame); c always decodes.
            let delimiter_hit = bit / 8 == a.len() - 1;
            let oks: Vec<_> = got.iter().filter_map(|r| r.as_ref().ok()).collect();
            let want: Vec<&Vec<u8>> = if delimiter_hit {
                vec![&c]
            } else {
                vec![&b, &c]
            };
            assert_eq!(oks, want, "bit {bit} of {msg:?}");
            let errs = got.iter().filter(|r| r.is_err()).count();
            assert!(errs >= 1, "bit {bit}: the corruption is reported");
            assert_eq!(errs as u32, dec.errors().total());
        }
    }
}

#[test]
fn checkpoint_images_cross_the_link_and_reassemble() {
    for len in [0usize, 1, 255, 256, 257, 1000, 4096] {
        let image: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        let stream: Vec<u8> = chunks(&image)
            .flat_map(|c| encode(&Message::Checkpoint(c)))
            .collect();
        assert_eq!(
            chunks(&image).count(),
            len.div_ceil(engram_link::MAX_CHUNK_LEN).max(1)
        );
        let mut storage = vec![0u8; 4096];
        let mut asm = Assembler::new(&mut storage);
        let mut dec = Decoder::new();
        let mut input: &[u8] = &stream;
        let mut done = false;
        while let Some(r) = dec.feed(&mut input) {
            let Ok(Message::Checkpoint(c)) = r else {
                panic!("chunk expected")
            };
            assert!(!done, "nothing after the last chunk");
            done = asm.accept(&c).expect("in order");
        }
        assert!(done);
        assert_eq!(asm.image(), Some(&image[..]));
    }
}

#[test]
fn assembler_refuses_out_of_order_oversized_and_corrupt_images() {
    let image: Vec<u8> = (0..600u32).map(|i| i as u8).collect();
    let parts: Vec<CheckpointChunk<'_>> = chunks(&image).collect();
    assert_eq!(parts.len(), 3);

    let mut storage = [0u8; 600];
    let mut asm = Assembler::new(&mut storage);
    assert_eq!(
        asm.accept(&parts[1]),
        Err(AssemblyError::OutOfOrder { expected: 0 })
    );
    assert_eq!(asm.accept(&parts[0]), Ok(false));
    assert_eq!(
        asm.accept(&parts[2]),
        Err(AssemblyError::OutOfOrder { expected: 256 })
    );
    assert_eq!(asm.accept(&parts[1]), Ok(false));
    assert_eq!(asm.image(), None, "not before the last chunk");
    assert_eq!(asm.accept(&parts[2]), Ok(true));
    assert_eq!(asm.image(), Some(&image[..]));

    let mut small = [0u8; 599];
    let mut asm = Assembler::new(&mut small);
    assert_eq!(
        asm.accept(&parts[0]),
        Err(AssemblyError::TooLarge { capacity: 599 })
    );

    let mut storage = [0u8; 600];
    let mut asm = Assembler::new(&mut storage);
    let mut bad = parts[1].clone();
    let flipped: Vec<u8> = bad.bytes.iter().map(|b| b ^ 0x10).collect();
    bad.bytes = &flipped;
    assert_eq!(asm.accept(&parts[0]), Ok(false));
    assert_eq!(asm.accept(&bad), Ok(false));
    assert_eq!(asm.accept(&parts[2]), Err(AssemblyError::BadCrc));
    assert_eq!(asm.image(), None);

    let mut storage = [0u8; 600];
    let mut asm = Assembler::new(&mut storage);
    let mut other = parts[1].clone();
    other.total = 599;
    assert_eq!(asm.accept(&parts[0]), Ok(false));
    assert_eq!(asm.accept(&other), Err(AssemblyError::Inconsistent));
}

#[test]
fn observation_values_keep_their_bits() {
    let values = [i32::MIN, -1, 0, 1, 0x0001_0000, i32::MAX];
    let msg = Message::Observation(Observation {
        step: 7,
        values: values
            .iter()
            .map(|&b| engram_link::I16F16::from_bits(b))
            .collect(),
        outcome: None,
    });
    let mut body = encode(&msg);
    body.pop();
    let Ok(Message::Observation(o)) = decode_frame(&mut body) else {
        panic!("observation expected")
    };
    let bits: Vec<i32> = o.values.iter().map(|v| v.to_bits()).collect();
    assert_eq!(bits, values);
}

#[test]
fn hello_check_names_the_first_mismatch() {
    let Message::Hello(h) = common::typical()[0].1.clone() else {
        panic!("hello expected")
    };
    assert_eq!(h.check(h.model_hash), Ok(()));
    assert_eq!(h.check(h.model_hash ^ 1), Err(ErrorCode::ModelMismatch));
    let mut other = h.clone();
    other.protocol = PROTOCOL_VERSION + 1;
    assert_eq!(
        other.check(h.model_hash),
        Err(ErrorCode::VersionMismatch {
            supported: PROTOCOL_VERSION
        })
    );
    let mut big = h.clone();
    big.sizes.action_len = engram_link::MAX_VALUES as u16 + 1;
    assert_eq!(big.check(h.model_hash), Err(ErrorCode::OutOfRange));
}
