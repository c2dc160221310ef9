//! `bench-link`: instructions to frame and unframe engram-link messages on the emulated core.
//!
//! For each message kind of a processor-in-the-loop run (the bandit's 1-value observation with its
//! outcome, a 4-value action, telemetry of 2 populations and 1 projection, a command, an ack) and a
//! 16-value observation: `encode` = `Encoder::encode` (postcard → CRC-32C → COBS into the frame
//! buffer), `decode` = `Decoder::feed` of the whole frame (copy into the decoder's buffer, COBS, CRC,
//! postcard). Output: `frame <kind> <bytes>` and `bench link-<encode|decode>.<kind> <instructions>
//! <frames>` lines (`cargo xtask qemu` reads the latter into `budget.toml` as instructions per frame).
#![no_std]
#![no_main]

use engram_link::{
    Ack, Action, Command, Decoder, Encoder, I16F16, LinkErrors, Message, MessageKind, Observation,
    Outcome, Telemetry, Values, WeightStats,
};
use engram_qemu_mps2_an386::{self as fw, Counter, instructions};

/// Frames per measurement.
const REPS: u32 = 64;

fn values(n: usize) -> Values {
    (0..n)
        .map(|i| I16F16::from_bits(0x0001_2345 * (i as i32 + 1)))
        .collect()
}

fn measure(name: &str, msg: &Message<'_>, c: &mut Counter) {
    let mut enc = Encoder::new();
    let mut dec = Decoder::new();
    c.clear();
    let mut len = 0;
    for _ in 0..REPS {
        len = core::hint::black_box(&mut enc)
            .encode(core::hint::black_box(msg))
            .map_or(0, |f| f.len());
    }
    c.lap();
    let enc_ticks = c.ticks();
    let frame = match enc.encode(msg) {
        Ok(f) => f,
        Err(_) => fw::fail("a sample message did not encode"),
    };
    let mut ok = 0u32;
    c.clear();
    for _ in 0..REPS {
        let mut input = core::hint::black_box(frame);
        while let Some(r) = dec.feed(&mut input) {
            ok += u32::from(r.is_ok());
        }
    }
    c.lap();
    if ok != REPS {
        fw::fail("a sample frame did not decode");
    }
    defmt::println!("frame {=str} {=usize}", name, len);
    defmt::println!(
        "bench link-encode.{=str} {=u64} {=u32}",
        name,
        instructions(enc_ticks),
        REPS
    );
    defmt::println!(
        "bench link-decode.{=str} {=u64} {=u32}",
        name,
        instructions(c.ticks()),
        REPS
    );
}

#[cortex_m_rt::entry]
fn main() -> ! {
    let p = fw::peripherals();
    fw::start_systick(p.SYST);
    let mut c = Counter::new();
    let outcome = Some(Outcome {
        reward: I16F16::ONE,
        done: true,
    });
    let obs1 = Message::Observation(Observation {
        step: 1234,
        values: values(1),
        outcome,
    });
    measure("observation-1", &obs1, &mut c);
    let obs16 = Message::Observation(Observation {
        step: 1234,
        values: values(16),
        outcome,
    });
    measure("observation-16", &obs16, &mut c);
    let act = Message::Action(Action {
        step: 1234,
        values: values(4),
    });
    measure("action-4", &act, &mut c);
    let w = WeightStats {
        mean: I16F16::from_num(3.1),
        min: I16F16::from_num(0.5),
        max: I16F16::from_num(6.0),
        saturated: 17,
    };
    let tel = Message::Telemetry(Telemetry {
        step: 1234,
        objective: I16F16::from_num(0.75),
        reward: I16F16::ONE,
        spike_counts: [412, 1530].into_iter().collect(),
        weights: [w].into_iter().collect(),
        deadline_overruns: 0,
        link_errors: LinkErrors::default(),
        state_hash: 0x0123_4567_89ab_cdef,
    });
    measure("telemetry", &tel, &mut c);
    measure("command", &Message::Command(Command::Report), &mut c);
    let ack = Message::Ack(Ack {
        of: MessageKind::Command,
        seq: 0,
    });
    measure("ack", &ack, &mut c);
    fw::exit(0)
}
