//! Watches a board's engram-link serial port: prints every frame it sends (telemetry, health, acks,
//! errors), optionally after sending one command.
//!
//! ```text
//! cargo run -p engram-link --example monitor -- /dev/ttyACM0 [COMMAND]
//! COMMAND: hello | pause | resume | plasticity-on | plasticity-off | save | pull FILE
//! ```
//! The port is put into raw mode with `stty` first (a USB CDC port ignores the baud rate). `pull`
//! asks for the learned state (`SendCheckpoint`), assembles the `Checkpoint` chunks, checks the CRC
//! and writes the image to FILE. Decode errors are counted and shown, never fatal. Ctrl-C ends it.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::process::{Command as Process, ExitCode};

use engram_link::{
    Assembler, Command, Decoder, Encoder, Hello, Message, PROTOCOL_VERSION, Param, Sizes,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(port) = args.first() else {
        eprintln!(
            "usage: monitor PORT [hello|pause|resume|plasticity-on|plasticity-off|save|pull FILE]"
        );
        return ExitCode::from(2);
    };
    let hello = Hello {
        protocol: PROTOCOL_VERSION,
        board: "host",
        experiment: "monitor",
        model_hash: 0,
        sizes: Sizes::default(),
    };
    let (command, pull_to) = match args.get(1).map(String::as_str) {
        None => (None, None),
        Some("hello") => (Some(Message::Hello(hello)), None),
        Some("pause") => (Some(Message::Command(Command::Pause)), None),
        Some("resume") => (Some(Message::Command(Command::Resume)), None),
        Some("plasticity-on") => (
            Some(Message::Command(Command::Set(Param::Plasticity(true)))),
            None,
        ),
        Some("plasticity-off") => (
            Some(Message::Command(Command::Set(Param::Plasticity(false)))),
            None,
        ),
        Some("save") => (Some(Message::Command(Command::SaveCheckpoint)), None),
        Some("pull") => match args.get(2) {
            Some(file) => (
                Some(Message::Command(Command::SendCheckpoint)),
                Some(file.clone()),
            ),
            None => {
                eprintln!("pull needs a file name");
                return ExitCode::from(2);
            }
        },
        Some(other) => {
            eprintln!("unknown command {other:?}");
            return ExitCode::from(2);
        }
    };
    // Raw mode: no echo, no line editing, no CR/LF translation (the frames are binary).
    let _ = Process::new("stty")
        .args(["-F", port, "raw", "-echo"])
        .status();
    let mut tty = match OpenOptions::new().read(true).write(true).open(port) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cannot open {port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(msg) = &command {
        let mut enc = Encoder::new();
        match enc.encode(msg) {
            Ok(frame) => {
                if let Err(e) = tty.write_all(frame) {
                    eprintln!("cannot write to {port}: {e}");
                    return ExitCode::FAILURE;
                }
            }
            Err(e) => {
                eprintln!("cannot encode the command: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let mut decoder = Decoder::new();
    let mut image = vec![0u8; 1 << 20];
    let mut assembler = Assembler::new(&mut image);
    let mut buf = [0u8; 512];
    loop {
        let n = match tty.read(&mut buf) {
            Ok(0) => continue,
            Ok(n) => n,
            Err(e) => {
                eprintln!("read error on {port}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut input = &buf[..n];
        while let Some(result) = decoder.feed(&mut input) {
            match result {
                Ok(Message::Checkpoint(chunk)) if pull_to.is_some() => {
                    println!(
                        "checkpoint chunk: {} of {} bytes",
                        chunk.offset, chunk.total
                    );
                    match assembler.accept(&chunk) {
                        Ok(true) => {
                            let file = pull_to.as_deref().unwrap_or("checkpoint.bin");
                            let bytes = assembler.image().unwrap_or(&[]);
                            return match std::fs::write(file, bytes) {
                                Ok(()) => {
                                    println!("wrote {} bytes to {file}", bytes.len());
                                    ExitCode::SUCCESS
                                }
                                Err(e) => {
                                    eprintln!("cannot write {file}: {e}");
                                    ExitCode::FAILURE
                                }
                            };
                        }
                        Ok(false) => {}
                        Err(e) => eprintln!("checkpoint transfer: {e:?} (ask again)"),
                    }
                }
                Ok(msg) => println!("{msg:?}"),
                Err(e) => eprintln!(
                    "bad frame: {e} (link errors so far: {:?})",
                    decoder.errors()
                ),
            }
        }
    }
}
