//! Host cost of framing: encode (postcard + CRC-32C + COBS, one pass) and decode (COBS in place, CRC,
//! postcard, borrowed) per message kind, and the streaming decoder over a mixed stream.
//! `cargo bench -p engram-link --bench link`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use engram_link::{Decoder, MAX_FRAME_LEN, decode_frame, encode_frame};

#[path = "../tests/common/mod.rs"]
mod common;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("link");
    for (name, msg) in common::typical() {
        let mut buf = [0u8; MAX_FRAME_LEN];
        let frame = encode_frame(&msg, &mut buf).expect("fits").to_vec();
        g.throughput(Throughput::Bytes(frame.len() as u64));
        g.bench_function(format!("encode/{name}"), |b| {
            let mut out = [0u8; MAX_FRAME_LEN];
            b.iter(|| encode_frame(black_box(&msg), &mut out).map(|f| f.len()))
        });
        g.bench_function(format!("decode/{name}"), |b| {
            let mut work = [0u8; MAX_FRAME_LEN];
            let body = &frame[..frame.len() - 1];
            b.iter(|| {
                let w = &mut work[..body.len()];
                w.copy_from_slice(black_box(body));
                decode_frame(w).is_ok()
            })
        });
    }
    let stream: Vec<u8> = common::typical()
        .iter()
        .flat_map(|(_, m)| {
            let mut buf = [0u8; MAX_FRAME_LEN];
            encode_frame(m, &mut buf).expect("fits").to_vec()
        })
        .collect();
    g.throughput(Throughput::Bytes(stream.len() as u64));
    g.bench_function("decoder/mixed stream", |b| {
        let mut dec = Decoder::new();
        b.iter(|| {
            let mut input: &[u8] = black_box(&stream);
            let mut n = 0u32;
            while let Some(r) = dec.feed(&mut input) {
                n += u32::from(r.is_ok());
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
