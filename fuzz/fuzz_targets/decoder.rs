//! Fuzz the decoder. The first input byte chooses how the rest is used:
//! - even: the rest is raw line bytes, fed to the streaming [`Decoder`] in two pieces (split at the
//!   first byte's value);
//! - odd: the rest is a frame *payload* (message bytes); the target adds the version byte and a correct
//!   CRC-32C and COBS-stuffs it, so fuzzing reaches postcard decoding instead of stopping at the CRC.
//!
//! Checks: no panic; every decoded message re-encodes into a frame that decodes to the same message
//! (round-trip identity); every result is counted (frames or error counters).
#![no_main]

use crc::{CRC_32_ISCSI, Crc};
use engram_link::{Decoder, MAX_FRAME_LEN, PROTOCOL_VERSION, decode_frame, encode_frame};
use libfuzzer_sys::fuzz_target;

fn framed(payload: &[u8]) -> Vec<u8> {
    let mut raw = vec![PROTOCOL_VERSION];
    raw.extend_from_slice(payload);
    let crc = Crc::<u32>::new(&CRC_32_ISCSI).checksum(&raw);
    raw.extend_from_slice(&crc.to_le_bytes());
    let mut out = vec![0u8; raw.len() + raw.len() / 254 + 2];
    let n = cobs::encode(&raw, &mut out);
    out.truncate(n);
    out.push(0);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let owned;
    let bytes = if mode & 1 == 1 {
        owned = framed(rest);
        &owned[..]
    } else {
        rest
    };
    let split = usize::from(mode >> 1).min(bytes.len());
    let mut dec = Decoder::new();
    let (mut ok, mut err) = (0u32, 0u32);
    for piece in [&bytes[..split], &bytes[split..]] {
        let mut input = piece;
        while let Some(r) = dec.feed(&mut input) {
            match r {
                Ok(msg) => {
                    ok += 1;
                    let mut out = [0u8; MAX_FRAME_LEN];
                    let frame = encode_frame(&msg, &mut out).expect("a decoded message re-encodes");
                    let mut body = frame[..frame.len() - 1].to_vec();
                    assert_eq!(decode_frame(&mut body), Ok(msg));
                }
                Err(_) => err += 1,
            }
        }
    }
    assert_eq!(dec.frames(), ok);
    assert_eq!(dec.errors().total(), err);
});
