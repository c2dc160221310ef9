//! Frame sizes from real encodings, and the closed-loop step rates they allow. These numbers are the
//! tables in the crate documentation (`src/lib.rs`): if an encoding changes, this test fails until the
//! tables are updated. `cargo test -p engram-link --test sizes -- --nocapture` prints them.

mod common;

use engram_link::{Action, MAX_FRAME_LEN, Message, Observation, Outcome, encode_frame};

fn size(msg: &Message<'_>) -> usize {
    let mut buf = [0u8; MAX_FRAME_LEN];
    encode_frame(msg, &mut buf)
        .expect("every sample fits MAX_FRAME_LEN")
        .len()
}

fn step_frames(n_obs: usize, n_act: usize) -> (usize, usize) {
    let o = Message::Observation(Observation {
        step: u32::MAX,
        values: common::values(n_obs),
        outcome: Some(Outcome::default()),
    });
    let a = Message::Action(Action {
        step: u32::MAX,
        values: common::values(n_act),
    });
    (size(&o), size(&a))
}

#[test]
fn typical_frame_sizes_match_the_doc_table() {
    let got: Vec<usize> = common::typical()
        .iter()
        .map(|(n, m)| {
            let s = size(m);
            println!("| {n} | {s} |");
            s
        })
        .collect();
    assert_eq!(got, [64, 35, 21, 67, 276, 9, 14, 12, 12, 23]);
}

#[test]
fn worst_case_frames_fit() {
    let got: Vec<usize> = common::worst()
        .iter()
        .map(|(n, m)| {
            let s = size(m);
            println!("| {n} | {s} |");
            s
        })
        .collect();
    assert_eq!(got, [115, 275, 269, 242, 282, 15, 14, 15, 63]);
    assert!(got.iter().all(|&s| s <= MAX_FRAME_LEN));
}

#[test]
fn step_frame_length_is_13_plus_4_per_value_and_independent_of_the_values() {
    for n in 0..=engram_link::MAX_VALUES {
        let (o, a) = step_frames(n, n);
        // version 1 + tag 1 + step 4 + length 1 + 4n + CRC 4, COBS adds 1, delimiter 1. An
        // observation adds its outcome of the previous action: Some 1 + reward 4 + done 1. Past 60
        // values (254 raw bytes) COBS adds one more byte if the frame holds a run of 254 non-zero bytes.
        let expect = 13 + 4 * n;
        if n <= 58 {
            assert_eq!((o, a), (expect + 6, expect), "n = {n}");
        } else {
            assert!((expect + 6..=expect + 7).contains(&o), "n = {n}: {o}");
        }
    }
    // Any values, same length: the worst-case values give the typical length.
    let o = Message::Observation(Observation {
        step: 0,
        values: (0..4).map(|_| engram_link::I16F16::MIN).collect(),
        outcome: Some(Outcome {
            reward: engram_link::I16F16::MAX,
            done: true,
        }),
    });
    assert_eq!(size(&o), 35);
}

/// Lock-step closed loop: the host sends an observation, the board answers with an action, then the next
/// step starts; both frames cross the line in sequence at 10 bits per byte (8N1). Computed bound,
/// ignoring compute time and UART gaps.
fn lockstep_rate(baud: u32, n_obs: usize, n_act: usize) -> u32 {
    let (o, a) = step_frames(n_obs, n_act);
    baud / (10 * (o + a) as u32)
}

/// Pipelined: the UART is full duplex, so if the board answers step k while the host already sends the
/// observation of step k + 1 (one step of latency), the longer of the two frames sets the rate.
fn pipelined_rate(baud: u32, n_obs: usize, n_act: usize) -> u32 {
    let (o, a) = step_frames(n_obs, n_act);
    baud / (10 * o.max(a) as u32)
}

#[test]
fn step_rates_match_the_doc_table() {
    let table: Vec<(usize, usize, [u32; 4])> = [(1, 1), (4, 2), (16, 4), (64, 64)]
        .into_iter()
        .map(|(o, a)| {
            let rates = [
                lockstep_rate(115_200, o, a),
                lockstep_rate(1_000_000, o, a),
                pipelined_rate(115_200, o, a),
                pipelined_rate(1_000_000, o, a),
            ];
            (o, a, rates)
        })
        .collect();
    for (o, a, r) in &table {
        let (fo, fa) = step_frames(*o, *a);
        println!(
            "| {o} / {a} | {fo} + {fa} = {} | {} | {} | {} | {} |",
            fo + fa,
            r[0],
            r[1],
            r[2],
            r[3]
        );
    }
    assert_eq!(
        table,
        [
            (1, 1, [288, 2500, 500, 4347]),
            (4, 2, [205, 1785, 329, 2857]),
            (16, 4, [102, 892, 138, 1204]),
            (64, 64, [21, 183, 41, 363]),
        ]
    );
}

#[test]
fn ram_of_the_link_types_stays_small() {
    use std::mem::size_of;
    // On the host (64-bit usize); on a 32-bit board the Vec lengths are 4 bytes smaller each.
    println!(
        "Decoder {} B, Encoder {} B, Message {} B",
        size_of::<engram_link::Decoder>(),
        size_of::<engram_link::Encoder>(),
        size_of::<Message<'_>>()
    );
    assert!(size_of::<engram_link::Decoder>() <= MAX_FRAME_LEN + 48);
    assert_eq!(size_of::<engram_link::Encoder>(), MAX_FRAME_LEN);
    // The largest variant is an observation/action: 64 values of 4 bytes plus step and length.
    assert!(size_of::<Message<'_>>() <= 4 * engram_link::MAX_VALUES + 24);
}
