//! Fuzz the streaming decoder with arbitrary bytes, fed in two pieces split at the first input byte.
//!
//! Checks: no panic; every decoded message re-encodes into a frame that decodes to the same message
//! (round-trip identity); every error reported is counted, and every success too.
#![no_main]

use engram_link::{Decoder, MAX_FRAME_LEN, decode_frame, encode_frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, bytes)) = data.split_first() else {
        return;
    };
    let split = usize::from(split).min(bytes.len());
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
