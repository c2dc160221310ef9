//! Processor in the loop, host side: `engram pil <experiment>`.
//!
//! The host runs the experiment's world, a board runs its agent (`engram_lab::pil`), and they close
//! the loop over an engram-link line, lock-step: observation `k` (with the outcome of action `k − 1`)
//! out, action `k` back. Lines ([`Target`]):
//! - `--qemu`: the `pil` firmware of `boards/qemu-mps2-an386` under `qemu-system-arm`, its UART0 on a
//!   local TCP port; QEMU runs under `timeout` and is killed when the run ends, however it ends;
//! - `--serial PORT --baud B`: a real board (the `serialport` crate);
//! - `--connect HOST:PORT`: any TCP byte stream (a serial-to-TCP bridge, a QEMU started by hand);
//! - `--loopback`: the board's code in-process (`engram_lab::pil::Board`), no firmware: the host-only
//!   reference run, which the others must equal bit for bit (same learned-state hash).
//!
//! A lost frame (either way) is resent after `--timeout-ms`, at most `--retries` times; the board answers
//! a repeated observation with the same action without stepping, so noise costs time, never state.
//! `--flip-rate`/`--drop-rate` inject seeded bit flips and dropped bytes on the host's side of the
//! line, both directions. A board that stays silent ends the run with an error (exit status non-zero)
//! after the outputs of what ran are written.
//!
//! Outputs (`--out DIR`): `metrics.csv` (one row per control period: step, trial, choice, reward,
//! best, p_best over the last 64 trials, the board's objective from its last telemetry),
//! `telemetry.csv` (every telemetry frame), `summary.json` (steps, rates, the learned-state hash, link
//! error counters both ways, retries, noise injected, and the error if the run failed).

use crate::config::{self, Error};
use engram::env::{Environment, Feedback};
use engram::num::{Fix, Rng};
use engram_lab::bandit;
use engram_lab::pil::{Board, NoClock};
use engram_link::{
    Command, DecodeError, Decoder, Encoder, ErrorCode, Hello, LinkErrors, MAX_VALUES, Message,
    MessageKind, Observation, Outcome, PROTOCOL_VERSION, Sizes, Telemetry,
};
use serde::Serialize;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

/// Where the board is.
#[derive(Debug, Clone)]
pub enum Target {
    /// The `pil` firmware under QEMU (mps2-an386); the ELF, or `None` to build/locate it.
    Qemu {
        /// Firmware ELF (default: built in `boards/qemu-mps2-an386`).
        firmware: Option<PathBuf>,
    },
    /// A serial port.
    Serial {
        /// Port name (`/dev/ttyACM0`, `COM3`).
        port: String,
        /// Baud rate.
        baud: u32,
    },
    /// A TCP byte stream.
    Connect(String),
    /// The board's code in-process.
    Loopback,
}

/// Injected line noise (host side, both directions), seeded.
#[derive(Debug, Clone, Copy, Default)]
pub struct Noise {
    /// Probability that a byte has one random bit flipped.
    pub flip_rate: f64,
    /// Probability that a byte is dropped.
    pub drop_rate: f64,
    /// Seed of the noise.
    pub seed: u64,
}

/// One processor-in-the-loop run.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The experiment's configuration (bandit only, for now).
    pub config: bandit::Config,
    /// Network steps to run (rounded up to whole control periods).
    pub steps: u64,
    /// The line.
    pub target: Target,
    /// Injected noise.
    pub noise: Noise,
    /// Wait for an answer this long before resending.
    pub timeout: Duration,
    /// Resends of one message before the board counts as silent.
    pub retries: u32,
    /// Wait for the board's Hello this long per try (longer than `timeout` for a booting board).
    pub hello_timeout: Duration,
    /// Output folder.
    pub out: PathBuf,
    /// Print progress.
    pub verbose: bool,
    /// After the run, this many repeats of the last observation (answered from the board's cache,
    /// no stepping): the link's round-trip rate.
    pub pings: u32,
}

/// Counts of what the injected noise did.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct NoiseCounts {
    /// Bytes with a bit flipped.
    pub flipped: u64,
    /// Bytes dropped.
    pub dropped: u64,
}

/// What a run did (`summary.json`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Experiment.
    pub experiment: String,
    /// The line (`qemu`, `serial`, `connect`, `loopback`).
    pub target: String,
    /// Seed.
    pub seed: u64,
    /// Network steps run on the board (whole control periods).
    pub steps: u64,
    /// Control periods (observation → action exchanges) completed.
    pub periods: u64,
    /// Network steps per control period.
    pub period_steps: u32,
    /// Wall time of the whole run (handshake, loop, pings, final report), s.
    pub wall_s: f64,
    /// Wall time of the closed loop alone (the rates below), s.
    pub loop_s: f64,
    /// Network steps per second of wall time.
    pub steps_per_s: f64,
    /// Closed-loop exchanges per second of wall time.
    pub periods_per_s: f64,
    /// Observation → action round trips per second with no compute (repeats answered from the
    /// board's cache): what the line and the board's I/O alone allow.
    pub link_round_trips_per_s: f64,
    /// The board's learned-state hash after the run (from its final telemetry), `0x…`.
    pub state_hash: String,
    /// Mean reward over all trials.
    pub mean_reward: f64,
    /// Fraction of the last 200 trials that chose the best arm.
    pub p_best_last_200: f64,
    /// The board's objective (running mean reward) from its last telemetry.
    pub objective: f64,
    /// Host receive-side link errors.
    pub host_link_errors: LinkErrors,
    /// Board receive-side link errors (its last telemetry).
    pub board_link_errors: LinkErrors,
    /// Messages the host resent.
    pub resends: u64,
    /// Frames the host received in total.
    pub frames_received: u64,
    /// Bytes sent / received by the host.
    pub bytes_sent: u64,
    /// Bytes received by the host.
    pub bytes_received: u64,
    /// Deadline overruns the board reported.
    pub deadline_overruns: u32,
    /// Injected noise.
    pub noise_flip_rate: f64,
    /// Injected noise.
    pub noise_drop_rate: f64,
    /// What the noise did.
    pub noise: NoiseCounts,
    /// The board's Hello: name.
    pub board: String,
    /// Why the run stopped early, if it did.
    pub error: Option<String>,
}

/// A byte line to a board.
trait Line {
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()>;
    /// Reads what is there, waiting at most until `deadline`; `Ok(0)` on timeout.
    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> std::io::Result<usize>;
}

impl Line for Box<dyn Line> {
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        (**self).send(bytes)
    }
    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> std::io::Result<usize> {
        (**self).recv(buf, deadline)
    }
}

fn timed_out(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

fn remaining(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1))
}

impl Line for TcpStream {
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.write_all(bytes)
    }
    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> std::io::Result<usize> {
        self.set_read_timeout(Some(remaining(deadline)))?;
        match self.read(buf) {
            Ok(0) => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the board closed the connection",
            )),
            Ok(n) => Ok(n),
            Err(e) if timed_out(&e) => Ok(0),
            Err(e) => Err(e),
        }
    }
}

struct Serial(Box<dyn serialport::SerialPort>);

impl Line for Serial {
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.write_all(bytes)?;
        self.0.flush()
    }
    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> std::io::Result<usize> {
        self.0.set_timeout(remaining(deadline))?;
        match self.0.read(buf) {
            Ok(n) => Ok(n),
            Err(e) if timed_out(&e) => Ok(0),
            Err(e) => Err(e),
        }
    }
}

/// The board's code in-process: what it would send is queued for `recv`.
struct Loopback {
    board: Board<bandit::Network<'static>, NoClock>,
    pending: std::collections::VecDeque<u8>,
}

impl Line for Loopback {
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let pending = &mut self.pending;
        self.board
            .receive(bytes, &mut |f| pending.extend(f.iter().copied()));
        Ok(())
    }
    fn recv(&mut self, buf: &mut [u8], _deadline: Instant) -> std::io::Result<usize> {
        let n = buf.len().min(self.pending.len());
        for (b, p) in buf.iter_mut().zip(self.pending.drain(..n)) {
            *b = p;
        }
        Ok(n)
    }
}

/// Flips bits and drops bytes on their way through, both directions.
struct Noisy<L> {
    line: L,
    noise: Noise,
    rng: Rng,
    counts: NoiseCounts,
}

impl<L> Noisy<L> {
    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (self.rng.next_u32() as f64) < p * 4_294_967_296.0
    }

    fn mangle(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len());
        for &b in bytes {
            if self.chance(self.noise.drop_rate) {
                self.counts.dropped += 1;
                continue;
            }
            let mut b = b;
            if self.chance(self.noise.flip_rate) {
                self.counts.flipped += 1;
                b ^= 1 << (self.rng.next_u32() % 8);
            }
            out.push(b);
        }
        out
    }
}

impl<L: Line> Line for Noisy<L> {
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let b = self.mangle(bytes);
        self.line.send(&b)
    }
    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> std::io::Result<usize> {
        let n = self.line.recv(buf, deadline)?;
        let b = self.mangle(&buf[..n]);
        buf[..b.len()].copy_from_slice(&b);
        Ok(b.len())
    }
}

/// QEMU, killed (and reaped) when dropped.
struct Qemu {
    child: Child,
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The workspace root (this crate's parent).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The `pil` firmware ELF: the given path, or built in `boards/qemu-mps2-an386` (cargo rebuilds it
/// only if a source changed).
pub fn firmware(given: Option<&Path>) -> Result<PathBuf, Error> {
    if let Some(p) = given {
        if !p.is_file() {
            return Err(Error::Usage(format!(
                "firmware {} does not exist",
                p.display()
            )));
        }
        return Ok(p.to_path_buf());
    }
    let board = root().join("boards/qemu-mps2-an386");
    let elf = board.join("target/thumbv7em-none-eabihf/release/pil");
    let status = Process::new("cargo")
        .args(["build", "--quiet", "--release", "--bin", "pil"])
        .current_dir(&board)
        .status()
        .map_err(|e| Error::Io("cannot run cargo to build the pil firmware".into(), e))?;
    if !status.success() || !elf.is_file() {
        return Err(Error::Link(format!(
            "building the pil firmware in {} failed ({status}); pass --firmware PATH",
            board.display()
        )));
    }
    Ok(elf)
}

/// Starts `elf` under QEMU (mps2-an386) with UART0 on a free local TCP port and connects to it.
fn start_qemu(
    elf: &Path,
    seed: u64,
    log: &Path,
    limit: Duration,
) -> Result<(Qemu, TcpStream), Error> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| Error::Io("cannot find a free local port".into(), e))?
        .port();
    let logf = std::fs::File::create(log)
        .map_err(|e| Error::Io(format!("cannot write {}", log.display()), e))?;
    let errf = logf
        .try_clone()
        .map_err(|e| Error::Io(format!("cannot write {}", log.display()), e))?;
    let child = Process::new("timeout")
        .arg(limit.as_secs().max(1).to_string())
        .args(["qemu-system-arm", "-machine", "mps2-an386", "-cpu", "cortex-m4"])
        .args(["-display", "none", "-monitor", "none", "-icount", "shift=0"])
        .arg("-semihosting-config")
        .arg(format!("enable=on,target=native,arg=pil,arg={seed}"))
        .arg("-serial")
        .arg(format!("tcp:127.0.0.1:{port},server=on,wait=on"))
        .arg("-kernel")
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(logf)
        .stderr(errf)
        .spawn()
        .map_err(|e| {
            Error::Link(format!(
                "cannot start qemu-system-arm ({e}): apt-get install -y --no-install-recommends qemu-system-arm"
            ))
        })?;
    let mut qemu = Qemu { child };
    let start = Instant::now();
    loop {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_nodelay(true);
            return Ok((qemu, s));
        }
        if let Ok(Some(st)) = qemu.child.try_wait() {
            return Err(Error::Link(format!(
                "qemu-system-arm exited ({st}) before opening its serial port; see {}",
                log.display()
            )));
        }
        if start.elapsed() > Duration::from_secs(20) {
            return Err(Error::Link(
                "qemu-system-arm did not open its serial port within 20 s".into(),
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The model of `cfg` as the board announces it: for the host's own Hello and checks.
fn host_model(cfg: &bandit::Config) -> Result<(u64, Sizes), Error> {
    let mut b = bandit::Buffers::new(cfg);
    let net = bandit::Network::new(cfg, b.storage())?;
    use engram_lab::pil::Remote;
    Ok((net.model_hash(), net.sizes()))
}

/// The host's end of the loop: frames out, messages in.
struct Host<L: Line> {
    line: L,
    decoder: Decoder,
    encoder: Encoder,
    buf: Vec<u8>,
    pos: usize,
    telemetry: Vec<Telemetry>,
    last_telemetry: Option<Telemetry>,
    resends: u64,
    bytes_sent: u64,
    bytes_received: u64,
}

/// What the host waits for.
enum Got {
    Hello {
        board: String,
        model_hash: u64,
        protocol: u8,
        sizes: Sizes,
    },
    Action(u32, Vec<Fix>),
    Telemetry,
    Refused(MessageKind, ErrorCode),
    Other,
}

impl<L: Line> Host<L> {
    fn send(&mut self, msg: &Message<'_>) -> Result<(), Error> {
        let frame = self
            .encoder
            .encode(msg)
            .map_err(|e| Error::Link(format!("cannot frame {:?}: {e}", msg.kind())))?;
        self.bytes_sent += frame.len() as u64;
        self.line
            .send(frame)
            .map_err(|e| Error::Link(format!("cannot write to the board: {e}")))
    }

    /// The next message (or `None` at `deadline`). A frame from another protocol version is an error.
    fn next(&mut self, deadline: Instant) -> Result<Option<Got>, Error> {
        loop {
            while self.pos < self.buf.len() {
                let mut input = &self.buf[self.pos..];
                let before = input.len();
                let res = self.decoder.feed(&mut input);
                self.pos += before - input.len();
                let got = match res {
                    None => continue,
                    Some(Err(DecodeError::BadVersion { got })) => {
                        return Err(Error::Link(format!(
                            "version mismatch: the board speaks engram-link protocol {got}, this host speaks {PROTOCOL_VERSION}; flash firmware built from the same engram version"
                        )));
                    }
                    Some(Err(_)) => continue, // counted; the loop resends
                    Some(Ok(m)) => match m {
                        Message::Hello(h) => Got::Hello {
                            board: h.board.to_string(),
                            model_hash: h.model_hash,
                            protocol: h.protocol,
                            sizes: h.sizes,
                        },
                        Message::Action(a) => Got::Action(a.step, a.values.to_vec()),
                        Message::Telemetry(t) => {
                            self.telemetry.push(t.clone());
                            self.last_telemetry = Some(t);
                            Got::Telemetry
                        }
                        Message::Error(e) => Got::Refused(e.of, e.code),
                        _ => Got::Other,
                    },
                };
                return Ok(Some(got));
            }
            self.buf.clear();
            self.pos = 0;
            if Instant::now() >= deadline
                || crate::record::STOP.load(std::sync::atomic::Ordering::Relaxed)
            {
                return Ok(None);
            }
            let mut chunk = [0u8; 4096];
            let n = self
                .line
                .recv(&mut chunk, deadline)
                .map_err(|e| Error::Link(format!("cannot read from the board: {e}")))?;
            self.bytes_received += n as u64;
            self.buf.extend_from_slice(&chunk[..n]);
            if n == 0 && Instant::now() >= deadline {
                return Ok(None);
            }
        }
    }
}

fn refused(of: MessageKind, code: ErrorCode) -> Error {
    let why = match code {
        ErrorCode::VersionMismatch { supported } => format!(
            "version mismatch: the board speaks engram-link protocol {supported}, this host speaks {PROTOCOL_VERSION}; flash firmware built from the same engram version"
        ),
        ErrorCode::ModelMismatch => "model mismatch: the board runs another configuration (seed or parameters) than the host's".into(),
        other => format!("the board refused a {of:?}: {other:?}"),
    };
    Error::Link(why)
}

/// Runs the loop; writes the outputs (also of a run that failed part-way) and returns the summary.
pub fn run(spec: &Spec) -> Result<Summary, Error> {
    let cfg = spec.config;
    crate::record::create_out(&spec.out)?;
    let (model_hash, sizes) = host_model(&cfg)?;
    let mut summary = Summary {
        experiment: "bandit".into(),
        seed: cfg.seed,
        period_steps: cfg.trial_ms,
        noise_flip_rate: spec.noise.flip_rate,
        noise_drop_rate: spec.noise.drop_rate,
        ..Summary::default()
    };
    let mut rows = Vec::new();
    // The line, and whatever must live as long as it (QEMU).
    let mut _qemu = None;
    let line: Box<dyn Line> = match &spec.target {
        Target::Loopback => {
            summary.target = "loopback".into();
            let b: &'static mut bandit::Buffers = Box::leak(Box::new(bandit::Buffers::new(&cfg)));
            let net = bandit::Network::new(&cfg, b.storage())?;
            let mut board = Board::new(net, "host-loopback", NoClock, u32::MAX, 20);
            let mut pending = std::collections::VecDeque::new();
            board.hello(&mut |f| pending.extend(f.iter().copied()));
            Box::new(Loopback { board, pending })
        }
        Target::Qemu { firmware: fw } => {
            summary.target = "qemu".into();
            let elf = firmware(fw.as_deref())?;
            // Generous: the run's own timeouts end it long before.
            let limit = Duration::from_secs(600 + spec.steps / 50);
            let (q, s) = start_qemu(&elf, cfg.seed, &spec.out.join("qemu.log"), limit)?;
            _qemu = Some(q);
            Box::new(s)
        }
        Target::Connect(addr) => {
            summary.target = "connect".into();
            let s = TcpStream::connect(addr)
                .map_err(|e| Error::Link(format!("cannot connect to {addr}: {e}")))?;
            let _ = s.set_nodelay(true);
            Box::new(s)
        }
        Target::Serial { port, baud } => {
            summary.target = "serial".into();
            let p = serialport::new(port, *baud)
                .timeout(spec.timeout)
                .open()
                .map_err(|e| Error::Link(format!("cannot open serial port {port}: {e}")))?;
            Box::new(Serial(p))
        }
    };
    let noisy = Noisy {
        line,
        noise: spec.noise,
        rng: Rng::stream(spec.noise.seed, 0x0015_E000),
        counts: NoiseCounts::default(),
    };
    let mut host = Host {
        line: noisy,
        decoder: Decoder::new(),
        encoder: Encoder::new(),
        buf: Vec::new(),
        pos: 0,
        telemetry: Vec::new(),
        last_telemetry: None,
        resends: 0,
        bytes_sent: 0,
        bytes_received: 0,
    };
    let start = Instant::now();
    let result = drive(
        spec,
        &cfg,
        model_hash,
        sizes,
        &mut host,
        &mut summary,
        &mut rows,
    );
    summary.wall_s = start.elapsed().as_secs_f64();
    summary.steps = summary.periods * u64::from(cfg.trial_ms);
    if summary.loop_s == 0.0 {
        summary.loop_s = summary.wall_s; // stopped inside the loop
    }
    summary.steps_per_s = summary.steps as f64 / summary.loop_s.max(1e-9);
    summary.periods_per_s = summary.periods as f64 / summary.loop_s.max(1e-9);
    summary.host_link_errors = host.decoder.errors();
    summary.frames_received = u64::from(host.decoder.frames());
    summary.resends = host.resends;
    summary.bytes_sent = host.bytes_sent;
    summary.bytes_received = host.bytes_received;
    summary.noise = host.line.counts;
    if let Some(t) = &host.last_telemetry {
        summary.board_link_errors = t.link_errors;
        summary.deadline_overruns = t.deadline_overruns;
        summary.objective = t.objective.to_num();
        if summary.state_hash.is_empty() {
            summary.state_hash = format!("{:#018x}", t.state_hash);
        }
    }
    if let Err(e) = &result {
        summary.error = Some(e.to_string());
    }
    write_outputs(&spec.out, &summary, &rows, &host.telemetry)?;
    result.map(|()| summary)
}

/// One row of metrics.csv.
struct Row {
    period: u32,
    choice: i32,
    reward: f32,
    best: bool,
    p_best: f32,
    objective: f32,
}

#[allow(clippy::too_many_arguments)]
fn drive<L: Line>(
    spec: &Spec,
    cfg: &bandit::Config,
    model_hash: u64,
    sizes: Sizes,
    host: &mut Host<L>,
    summary: &mut Summary,
    rows: &mut Vec<Row>,
) -> Result<(), Error> {
    // Handshake: our Hello, until the board's arrives (it also sends one at boot).
    let hello = Message::Hello(Hello {
        protocol: PROTOCOL_VERSION,
        board: "host",
        experiment: "bandit",
        model_hash,
        sizes,
    });
    let (board, h, protocol, s) =
        exchange(
            spec.hello_timeout,
            spec.retries,
            host,
            &hello,
            |g| match g {
                Got::Hello {
                    board,
                    model_hash,
                    protocol,
                    sizes,
                } => Some((board.clone(), *model_hash, *protocol, *sizes)),
                _ => None,
            },
        )?;
    if protocol != PROTOCOL_VERSION {
        return Err(refused(
            MessageKind::Hello,
            ErrorCode::VersionMismatch {
                supported: protocol,
            },
        ));
    }
    if h != model_hash {
        return Err(Error::Link(format!(
            "model mismatch: the board ({board}) runs model {h:#018x}, the host's configuration is {model_hash:#018x} (seed or parameters differ)"
        )));
    }
    if s.observation_len != sizes.observation_len || s.action_len != sizes.action_len {
        return Err(Error::Link(format!(
            "size mismatch: the board exchanges {} observation / {} action values, the host {} / {}",
            s.observation_len, s.action_len, sizes.observation_len, sizes.action_len
        )));
    }
    summary.board = board;
    if spec.verbose {
        println!(
            "  board {} answered (protocol {PROTOCOL_VERSION}, model {model_hash:#018x})",
            summary.board
        );
    }

    let (mut world, mut wrng) = bandit::world(cfg)?;
    world.reset(&mut wrng);
    let periods = spec.steps.div_ceil(u64::from(cfg.trial_ms.max(1)));
    let mut obs = vec![Fix::ZERO; world.observation_len()];
    let mut outcome: Option<Outcome> = None;
    let (mut reward_sum, mut recent, mut trials) = (0.0f64, 0u64, 0u64);
    let mut last200 = std::collections::VecDeque::new();
    let report_every = (periods / 20).max(1);
    let loop_start = Instant::now();
    for k in 0..periods {
        if crate::record::STOP.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(Error::Link(format!("interrupted at control period {k}")));
        }
        let step = k as u32;
        world.observe(&mut obs);
        let msg = Message::Observation(Observation {
            step,
            values: obs.iter().copied().take(MAX_VALUES).collect(),
            outcome,
        });
        let action = exchange(spec.timeout, spec.retries, host, &msg, |g| match g {
            Got::Action(s, v) if *s == step => Some(v.clone()),
            _ => None,
        })
        .map_err(|e| match e {
            Error::Link(m) => Error::Link(format!(
                "{m} (control period {k}, step {})",
                k * u64::from(cfg.trial_ms)
            )),
            e => e,
        })?;
        let fb: Feedback = world.act(&action, &mut wrng);
        if fb.done {
            world.reset(&mut wrng);
        }
        outcome = Some(Outcome {
            reward: fb.reward,
            done: fb.done,
        });
        summary.periods = k + 1;
        let choice = world.last_choice.map_or(-1, i32::from);
        let best = world
            .last_choice
            .is_some_and(|c| usize::from(c) == world.best());
        let r = fb.reward.to_num::<f64>();
        reward_sum += r;
        trials += 1;
        recent = (recent << 1) | u64::from(best);
        last200.push_back(best);
        if last200.len() > 200 {
            last200.pop_front();
        }
        let n = trials.min(64);
        let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
        let p_best = (recent & mask).count_ones() as f32 / n as f32;
        let objective = host
            .last_telemetry
            .as_ref()
            .map_or(f32::NAN, |t| t.objective.to_num());
        rows.push(Row {
            period: step,
            choice,
            reward: r as f32,
            best,
            p_best,
            objective,
        });
        summary.mean_reward = reward_sum / trials as f64;
        summary.p_best_last_200 =
            last200.iter().filter(|&&b| b).count() as f64 / last200.len() as f64;
        if spec.verbose && (k + 1) % report_every == 0 {
            println!(
                "  step {:>8}  trial {:>6}  p_best {:.2}  objective {:.3}  resends {}",
                (k + 1) * u64::from(cfg.trial_ms),
                k + 1,
                p_best,
                objective,
                host.resends
            );
        }
    }
    summary.loop_s = loop_start.elapsed().as_secs_f64();
    // The link alone: the last observation again, answered from the board's cache without stepping
    // (so the state is untouched): round trips per second of one observation + one action frame.
    if spec.pings > 0 && summary.periods > 0 {
        let step = (summary.periods - 1) as u32;
        let msg = Message::Observation(Observation {
            step,
            values: obs.iter().copied().take(MAX_VALUES).collect(),
            outcome,
        });
        // The outcome field is ignored on a repeat; any value keeps the frame length of the loop.
        let t = Instant::now();
        for _ in 0..spec.pings {
            exchange(spec.timeout, spec.retries, host, &msg, |g| match g {
                Got::Action(s, _) if *s == step => Some(()),
                _ => None,
            })?;
        }
        summary.link_round_trips_per_s =
            f64::from(spec.pings) / t.elapsed().as_secs_f64().max(1e-9);
    }
    // The board's final state: its learned-state hash. (The outcome of the last action stays on the
    // host: both the reference and the board stop at the same point.)
    exchange(
        spec.timeout,
        spec.retries,
        host,
        &Message::Command(Command::Report),
        |g| match g {
            Got::Telemetry => Some(()),
            _ => None,
        },
    )?;
    if let Some(t) = &host.last_telemetry {
        summary.state_hash = format!("{:#018x}", t.state_hash);
    }
    Ok(())
}

/// Sends `msg` and waits for the answer `want` accepts, resending after each timeout.
fn exchange<L: Line, T>(
    timeout: Duration,
    retries: u32,
    host: &mut Host<L>,
    msg: &Message<'_>,
    mut want: impl FnMut(&Got) -> Option<T>,
) -> Result<T, Error> {
    for attempt in 0..=retries {
        if attempt > 0 {
            host.resends += 1;
        }
        host.send(msg)?;
        let deadline = Instant::now() + timeout;
        while let Some(got) = host.next(deadline)? {
            if let Some(t) = want(&got) {
                return Ok(t);
            }
            if let Got::Refused(of, code) = got
                && of == msg.kind()
            {
                return Err(refused(of, code));
            }
        }
        if crate::record::STOP.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(Error::Link("interrupted".into()));
        }
    }
    Err(Error::Link(format!(
        "the board is silent: no answer to {:?} after {} tries of {} ms",
        msg.kind(),
        retries + 1,
        timeout.as_millis()
    )))
}

fn write_outputs(
    out: &Path,
    s: &Summary,
    rows: &[Row],
    telemetry: &[Telemetry],
) -> Result<(), Error> {
    let mut csv = String::from("step,trial,choice,reward,best,p_best,objective\n");
    for r in rows {
        csv.push_str(&format!(
            "{},{},{},{},{},{:.4},{:.6}\n",
            u64::from(r.period + 1) * u64::from(s.period_steps),
            r.period + 1,
            r.choice,
            r.reward,
            u8::from(r.best),
            r.p_best,
            r.objective
        ));
    }
    let path = out.join("metrics.csv");
    config::io(
        || format!("cannot write {}", path.display()),
        std::fs::write(&path, csv),
    )?;
    let mut tcsv = String::from(
        "period,objective,reward,spikes,weight_mean,weight_min,weight_max,saturated,deadline_overruns,link_errors,state_hash\n",
    );
    for t in telemetry {
        let w = t.weights.first().copied().unwrap_or_default();
        let spikes: Vec<String> = t.spike_counts.iter().map(u32::to_string).collect();
        tcsv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{:#018x}\n",
            t.step,
            t.objective.to_num::<f64>(),
            t.reward.to_num::<f64>(),
            spikes.join(" "),
            w.mean.to_num::<f64>(),
            w.min.to_num::<f64>(),
            w.max.to_num::<f64>(),
            w.saturated,
            t.deadline_overruns,
            t.link_errors.total(),
            t.state_hash
        ));
    }
    let path = out.join("telemetry.csv");
    config::io(
        || format!("cannot write {}", path.display()),
        std::fs::write(&path, tcsv),
    )?;
    let path = out.join("summary.json");
    let json = serde_json::to_string_pretty(s).map_err(|e| Error::Config(e.to_string()))?;
    config::io(
        || format!("cannot write {}", path.display()),
        std::fs::write(&path, json),
    )
}
