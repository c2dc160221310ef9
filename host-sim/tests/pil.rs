//! `engram pil`: processor in the loop end to end.
//!
//! - the bandit's world on the host and its agent on the emulated Cortex-M4 (the `pil` firmware under
//!   QEMU, over its UART) learn exactly what the host-only run learns: the same learned-state hash
//!   (skipped with a message if `qemu-system-arm` is absent; CI has it);
//! - injected line noise (bit flips and dropped bytes, both ways) is counted and resent around: the
//!   loop finishes and the state is the noiseless run's;
//! - a board that goes silent mid-run, or is not there, ends the run with one clear error and a
//!   non-zero exit, and what ran is saved;
//! - a board speaking another protocol version is reported once, at Hello.

use assert_cmd::Command;
use engram_lab::bandit;
use engram_lab::pil::{Board, NoClock};
use engram_link::{Hello, Message, PROTOCOL_VERSION, encode_frame};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

fn engram() -> Command {
    Command::cargo_bin("engram").expect("the engram binary is built")
}

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("pil")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.parent().unwrap()).unwrap();
    d
}

fn summary(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Runs `engram pil bandit <args> --out <dir>`, expecting success; returns the summary.
fn pil(name: &str, args: &[&str]) -> serde_json::Value {
    let out = scratch(name);
    let o = engram()
        .args(["pil", "bandit"])
        .args(args)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "engram pil {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let s = summary(&out);
    // The hash line on stdout is the summary's.
    let stdout = String::from_utf8_lossy(&o.stdout);
    let hash = stdout
        .lines()
        .find_map(|l| l.strip_prefix("hash "))
        .expect("a hash line");
    assert_eq!(hash, s["state_hash"].as_str().unwrap());
    s
}

fn errors_total(e: &serde_json::Value) -> u64 {
    e.as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum()
}

fn have_qemu() -> bool {
    let ok = std::process::Command::new("qemu-system-arm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: qemu-system-arm not found (apt-get install qemu-system-arm)");
    }
    ok
}

#[test]
fn emulated_board_learns_exactly_what_the_host_only_run_learns() {
    if !have_qemu() {
        return;
    }
    let args = ["--steps", "3000", "--seed", "3"];
    let host = pil("host-only", &[&args[..], &["--loopback"]].concat());
    let qemu = pil("qemu", &[&args[..], &["--qemu"]].concat());
    assert_eq!(qemu["board"], "qemu-mps2-an386");
    assert_eq!(qemu["periods"], 60);
    assert_eq!(qemu["steps"], 3000);
    assert!(qemu["steps_per_s"].as_f64().unwrap() > 0.0);
    assert_eq!(
        qemu["state_hash"], host["state_hash"],
        "the emulated Cortex-M4 diverged from the host"
    );
    assert_eq!(qemu["mean_reward"], host["mean_reward"]);
    // Another seed learns something else (the comparison is not vacuous).
    let other = pil(
        "host-only-seed4",
        &["--steps", "3000", "--seed", "4", "--loopback"],
    );
    assert_ne!(other["state_hash"], host["state_hash"]);

    // Noise on the UART: counted, resent around, same state.
    let noisy = pil(
        "qemu-noisy",
        &[
            &args[..],
            &[
                "--qemu",
                "--flip-rate",
                "1e-3",
                "--drop-rate",
                "1e-3",
                "--timeout-ms",
                "300",
            ],
        ]
        .concat(),
    );
    assert!(
        noisy["noise"]["flipped"].as_u64().unwrap() + noisy["noise"]["dropped"].as_u64().unwrap()
            > 0
    );
    assert_eq!(noisy["state_hash"], host["state_hash"]);
}

#[test]
fn line_noise_is_counted_and_costs_no_state() {
    let args = ["--steps", "10000", "--seed", "2", "--loopback"];
    let clean = pil("clean", &args);
    assert_eq!(errors_total(&clean["host_link_errors"]), 0);
    assert_eq!(clean["resends"], 0);
    let noisy = pil(
        "noisy",
        &[
            &args[..],
            &[
                "--flip-rate",
                "1e-3",
                "--drop-rate",
                "1e-3",
                "--noise-seed",
                "7",
                "--timeout-ms",
                "20",
            ],
        ]
        .concat(),
    );
    let injected =
        noisy["noise"]["flipped"].as_u64().unwrap() + noisy["noise"]["dropped"].as_u64().unwrap();
    assert!(injected >= 10, "{noisy}");
    let detected =
        errors_total(&noisy["host_link_errors"]) + errors_total(&noisy["board_link_errors"]);
    assert!(detected > 0, "{noisy}");
    assert!(noisy["resends"].as_u64().unwrap() > 0, "{noisy}");
    assert_eq!(noisy["periods"], clean["periods"]);
    assert_eq!(noisy["state_hash"], clean["state_hash"]);
    assert_eq!(noisy["mean_reward"], clean["mean_reward"]);
}

/// A fake board on a local TCP port: `serve` gets the connection.
fn fake_board(serve: impl FnOnce(std::net::TcpStream) + Send + 'static) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        if let Ok((s, _)) = l.accept() {
            serve(s);
        }
    });
    addr
}

#[test]
fn a_board_that_goes_silent_ends_the_run_clearly_and_what_ran_is_saved() {
    // The real board code for 10 control periods, then nothing (the connection stays open).
    let addr = fake_board(|mut s| {
        let cfg = bandit::Config::check(1);
        let mut b = bandit::Buffers::new(&cfg);
        let net = bandit::Network::new(&cfg, b.storage()).unwrap();
        let mut board = Board::new(net, "fake", NoClock, u32::MAX, 5);
        let mut out = Vec::new();
        board.hello(&mut |f| out.extend_from_slice(f));
        s.write_all(&out).unwrap();
        let mut buf = [0u8; 512];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            if board.stats().periods >= 10 {
                continue; // silent
            }
            out.clear();
            board.receive(&buf[..n], &mut |f| out.extend_from_slice(f));
            let _ = s.write_all(&out);
        }
    });
    let out = scratch("silent");
    let o = engram()
        .args(["pil", "bandit", "--connect", &addr, "--steps", "5000"])
        .args(["--timeout-ms", "100", "--retries", "2", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("error: the board is silent"), "{err}");
    assert!(err.contains("control period 10"), "{err}");
    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 1 + 10, "{metrics}");
    let s = summary(&out);
    assert_eq!(s["periods"], 10);
    assert!(s["error"].as_str().unwrap().contains("silent"));
}

#[test]
fn an_absent_board_is_one_clear_error() {
    // A port that nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = scratch("absent");
    let o = engram()
        .args(["pil", "bandit", "--connect", &format!("127.0.0.1:{port}")])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("error: cannot connect"), "{err}");
    assert_eq!(err.matches("error:").count(), 1, "{err}");
}

/// A Hello frame from a board speaking protocol `version`: the real frame re-stamped (version byte
/// and CRC-32C), as firmware of another engram version would send it.
fn hello_frame(version: u8) -> Vec<u8> {
    let mut buf = [0u8; 288];
    let msg = Message::Hello(Hello {
        protocol: version,
        board: "old-board",
        experiment: "bandit",
        model_hash: 1,
        sizes: Default::default(),
    });
    let frame = encode_frame(&msg, &mut buf).unwrap().to_vec();
    let mut raw = vec![0u8; frame.len()];
    let n = cobs::decode(&frame[..frame.len() - 1], &mut raw).unwrap();
    raw.truncate(n - 4);
    raw[0] = version;
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI).checksum(&raw);
    raw.extend_from_slice(&crc.to_le_bytes());
    let mut out = vec![0u8; raw.len() + 4];
    let n = cobs::encode(&raw, &mut out);
    out.truncate(n);
    out.push(0);
    out
}

#[test]
fn another_protocol_version_is_one_clear_error_at_hello() {
    let old = PROTOCOL_VERSION - 1;
    let addr = fake_board(move |mut s| {
        let _ = s.write_all(&hello_frame(old));
        // Answer everything with the same old Hello.
        let mut buf = [0u8; 512];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            let _ = s.write_all(&hello_frame(old));
        }
    });
    let out = scratch("version");
    let o = engram()
        .args(["pil", "bandit", "--connect", &addr, "--timeout-ms", "200"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "error: version mismatch: the board speaks engram-link protocol {old}, this host speaks {PROTOCOL_VERSION}"
        )),
        "{err}"
    );
    assert_eq!(err.matches("error:").count(), 1, "{err}");
}

/// The board's end alone, in-process: exactly-once observations and the commands.
#[test]
fn board_answers_repeats_without_stepping_and_refuses_what_it_cannot_do() {
    use engram_link::{Command, Decoder, ErrorCode, ErrorReport, MessageKind, Observation};
    let cfg = bandit::Config::check(1);
    let mut b = bandit::Buffers::new(&cfg);
    let net = bandit::Network::new(&cfg, b.storage()).unwrap();
    let mut board = Board::new(net, "test", NoClock, u32::MAX, 0);
    let mut buf = [0u8; 288];
    let mut send = |board: &mut Board<_, _>, msg: &Message<'_>| -> Vec<String> {
        let frame = encode_frame(msg, &mut buf).unwrap().to_vec();
        let mut out = Vec::new();
        board.receive(&frame, &mut |f| out.extend_from_slice(f));
        let mut dec = Decoder::new();
        let mut input: &[u8] = &out;
        let mut got = Vec::new();
        while let Some(m) = dec.feed(&mut input) {
            got.push(format!("{:?}", m.unwrap()));
        }
        got
    };
    let obs = |step| {
        Message::Observation(Observation {
            step,
            values: [engram_link::I16F16::ONE].into_iter().collect(),
            outcome: None,
        })
    };
    let a0 = send(&mut board, &obs(0));
    assert_eq!(a0.len(), 1);
    assert!(a0[0].starts_with("Action(Action { step: 0"), "{a0:?}");
    let hash = board.sim().learned_hash();
    // The same observation again (its action was lost): the same action, no step.
    assert_eq!(send(&mut board, &obs(0)), a0);
    assert_eq!(board.sim().learned_hash(), hash);
    assert_eq!(board.stats().repeats, 1);
    assert_eq!(board.stats().periods, 1);
    // A step out of order is refused and changes nothing.
    let refused = |code| {
        vec![format!(
            "{:?}",
            Message::Error(ErrorReport {
                of: MessageKind::Observation,
                code
            })
        )]
    };
    assert_eq!(send(&mut board, &obs(5)), refused(ErrorCode::OutOfRange));
    assert_eq!(board.sim().learned_hash(), hash);
    // Paused: observations are refused as busy until resumed.
    send(&mut board, &Message::Command(Command::Pause));
    assert_eq!(send(&mut board, &obs(1)), refused(ErrorCode::Busy));
    send(&mut board, &Message::Command(Command::Resume));
    assert!(send(&mut board, &obs(1))[0].starts_with("Action(Action { step: 1"));
    // No flash on this board.
    let r = send(&mut board, &Message::Command(Command::SaveCheckpoint));
    assert!(r[0].contains("Unsupported"), "{r:?}");
    // A report carries the learned-state hash.
    let t = send(&mut board, &Message::Command(Command::Report));
    let want = format!("state_hash: {}", board.sim().learned_hash());
    assert!(
        t[0].starts_with("Telemetry") && t[0].contains(&want),
        "{t:?}"
    );
}
