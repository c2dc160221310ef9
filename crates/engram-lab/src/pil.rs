//! Processor in the loop (PIL), board side: an experiment's agent split from its world and served
//! over an [`engram_link`] line.
//!
//! The host runs the world (the environment), the board runs the agent, lock-step, one control period
//! per exchange:
//!
//! ```text
//! host                                              board (Board::receive)
//! Hello ───────────────────────────────────────────▶ checks protocol, model hash, sizes
//!       ◀─────────────────────────────────────────── Hello (or Error { of: Hello, .. })
//! Observation { step: k, values, outcome of k−1 } ─▶ outcome → critic → brain (reward, end of episode),
//!                                                    then one control period of network steps
//!       ◀─────────────────────────────────────────── Action { step: k, values }
//!       ◀─────────────────────────────────────────── Telemetry (every `telemetry_period` actions)
//! ```
//!
//! Exactly once: an observation repeating the last answered step (the host resent it because a frame
//! was lost either way) is answered with the same action again, without stepping; any other step than
//! the next one is refused (`Error { of: Observation, code: OutOfRange }`) — the agent's state never
//! sees a lost, duplicated or reordered frame. So a run over a noisy line learns exactly what a
//! noiseless one learns, as long as the host's retries get through.
//!
//! If the host goes silent the board does nothing: the agent only steps on observations, so it holds
//! its last (safe) action and keeps its state; the firmware counts the silence ([`Board::silence`]).
//!
//! [`Board`] is sans-IO: bytes in, frames out through a callback, time from a [`Clock`]. The firmware
//! feeds it UART bytes; the host's `engram pil --loopback` feeds it in-process (the reference run the
//! processor-in-the-loop run must equal, bit for bit). No allocation, no panic.

use engram::agent::StepReport;
use engram::env::Feedback;
use engram::hash::Fnv64;
use engram::num::Fix;
use engram_link::{
    Ack, Action, Command, DecodeError, Decoder, Encoder, ErrorCode, ErrorReport, Hello, LinkErrors,
    MAX_POPULATIONS, MAX_PROJECTIONS, Message, MessageKind, Observation, PROTOCOL_VERSION, Param,
    Sizes, Telemetry, Values, WeightStats,
};
use heapless::Vec;

/// An experiment's agent without its world: what [`Board`] drives.
pub trait Remote {
    /// Experiment name (the `experiment` of [`Hello`]).
    fn experiment(&self) -> &'static str;
    /// Hash of the model's configuration: host and board must agree ([`model_hash`]).
    fn model_hash(&self) -> u64;
    /// Sizes announced in [`Hello`].
    fn sizes(&self) -> Sizes;
    /// One network step on `observation` ([`engram::agent::Agent::step_remote`]).
    fn step_remote(&mut self, observation: &[Fix]) -> StepReport;
    /// An action is decided and waits for its outcome.
    fn awaiting_feedback(&self) -> bool;
    /// The decided action.
    fn action(&self) -> &[Fix];
    /// The world's answer to the action; returns the objective's value if an action was waiting.
    fn feedback(&mut self, fb: Feedback) -> Option<Fix>;
    /// The objective's current value.
    fn objective(&self) -> Fix;
    /// Spikes of the last step per population, into `out`; returns the number of populations.
    fn spikes(&self, out: &mut [u32]) -> usize;
    /// Statistics of each plastic projection's weights.
    fn weight_stats(&self, out: &mut Vec<WeightStats, MAX_PROJECTIONS>);
    /// Hash of the learned state (everything but the world).
    fn learned_hash(&self) -> u64;
    /// Forget activity (potentials, pending inputs); learned weights are kept.
    fn reset_activity(&mut self);
}

/// A free-running time source for deadline accounting: [`Clock::now`] counts up, wrapping at
/// [`Clock::MASK`] + 1.
pub trait Clock {
    /// Counter mask (`0xFF_FFFF` for a 24-bit SysTick).
    const MASK: u32;
    /// The counter now.
    fn now(&mut self) -> u32;
}

/// A clock that never advances: no deadline is ever missed (the host's loopback).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoClock;

impl Clock for NoClock {
    const MASK: u32 = u32::MAX;
    fn now(&mut self) -> u32 {
        0
    }
}

/// FNV-1a over the `Debug` text of a configuration: the [`Hello::model_hash`] both ends compute (core's
/// float formatting is the same code on the host and the board, so equal configurations hash equal).
pub fn model_hash(experiment: &str, cfg: &dyn core::fmt::Debug) -> u64 {
    struct W(Fnv64);
    impl core::fmt::Write for W {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            self.0.write(s.as_bytes());
            Ok(())
        }
    }
    let mut w = W(Fnv64::new());
    w.0.write(experiment.as_bytes());
    // Writing into a hash cannot fail.
    let _ = core::fmt::write(&mut w, format_args!("{cfg:?}"));
    w.0.finish()
}

/// What the board counts about its side of the loop (reported in [`Telemetry`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BoardStats {
    /// Control periods stepped (actions decided).
    pub periods: u32,
    /// Observations answered again (duplicates after a lost action).
    pub repeats: u32,
    /// Messages refused with an [`ErrorReport`].
    pub refused: u32,
    /// Control periods whose compute exceeded the deadline.
    pub overruns: u32,
    /// Times the host went silent.
    pub silences: u32,
    /// Clock ticks spent stepping, all control periods together (compute only, no I/O).
    pub compute_ticks: u64,
}

/// The board's end of the loop (see the [module docs](self)).
#[derive(Debug)]
pub struct Board<R: Remote, C: Clock> {
    decoder: Decoder,
    core: Core<R, C>,
}

#[derive(Debug)]
struct Core<R: Remote, C: Clock> {
    sim: R,
    clock: C,
    encoder: Encoder,
    board: &'static str,
    /// Control-period deadline, clock ticks.
    budget: u32,
    last: Option<(u32, Values)>,
    /// The step the next observation must carry (`None`: any, after a Hello).
    expected: Option<u32>,
    paused: bool,
    telemetry_period: u32,
    since_telemetry: u32,
    spikes: [u32; MAX_POPULATIONS],
    populations: usize,
    reward: Fix,
    stats: BoardStats,
    /// Receive-side errors (the decoder's counters, mirrored for telemetry).
    link: LinkErrors,
}

impl<R: Remote, C: Clock> Board<R, C> {
    /// Serves `sim` as board `board`; a control period must finish within `budget` clock ticks;
    /// telemetry every `telemetry_period` actions (0: only on [`Command::Report`]).
    pub fn new(sim: R, board: &'static str, clock: C, budget: u32, telemetry_period: u32) -> Self {
        Board {
            decoder: Decoder::new(),
            core: Core {
                sim,
                clock,
                encoder: Encoder::new(),
                board,
                budget,
                last: None,
                expected: None,
                paused: false,
                telemetry_period,
                since_telemetry: 0,
                spikes: [0; MAX_POPULATIONS],
                populations: 0,
                reward: Fix::ZERO,
                stats: BoardStats::default(),
                link: LinkErrors {
                    bad_crc: 0,
                    cobs: 0,
                    oversized: 0,
                    truncated: 0,
                    bad_version: 0,
                    deserialize: 0,
                },
            },
        }
    }

    /// The agent.
    pub fn sim(&self) -> &R {
        &self.core.sim
    }

    /// Receive-side link error counters.
    pub fn errors(&self) -> LinkErrors {
        self.decoder.errors()
    }

    /// The board's counters.
    pub fn stats(&self) -> BoardStats {
        self.core.stats
    }

    /// Writes this board's [`Hello`] (at boot, so a host that is already listening learns who
    /// answers).
    pub fn hello(&mut self, out: &mut dyn FnMut(&[u8])) {
        self.core.send_hello(out);
    }

    /// The host went silent (the firmware decides when): counted; the agent holds its action and its
    /// state. A partial frame is dropped.
    pub fn silence(&mut self) {
        self.decoder.clear();
        self.core.stats.silences = self.core.stats.silences.saturating_add(1);
    }

    /// Takes bytes from the line; every complete frame is handled and its answers written to `out`.
    pub fn receive(&mut self, mut bytes: &[u8], out: &mut dyn FnMut(&[u8])) {
        while let Some(res) = self.decoder.feed(&mut bytes) {
            if let Err(e) = res {
                // The decoder counts it too; the copy is what telemetry reports.
                self.core.link.count(e);
            }
            match res {
                Ok(msg) => self.core.handle(msg, out),
                Err(DecodeError::BadVersion { .. }) => {
                    // One clear answer: the host learns which version this board speaks.
                    self.core.refuse(
                        MessageKind::Hello,
                        ErrorCode::VersionMismatch {
                            supported: PROTOCOL_VERSION,
                        },
                        out,
                    );
                }
                Err(_) => {} // counted by the decoder; the host resends
            }
        }
    }
}

impl<R: Remote, C: Clock> Core<R, C> {
    fn send(&mut self, msg: &Message<'_>, out: &mut dyn FnMut(&[u8])) {
        // Every message this board sends is within the protocol's limits: encoding cannot fail.
        if let Ok(frame) = self.encoder.encode(msg) {
            out(frame);
        }
    }

    fn send_hello(&mut self, out: &mut dyn FnMut(&[u8])) {
        let hello = Message::Hello(Hello {
            protocol: PROTOCOL_VERSION,
            board: self.board,
            experiment: self.sim.experiment(),
            model_hash: self.sim.model_hash(),
            sizes: self.sim.sizes(),
        });
        self.send(&hello, out);
    }

    fn refuse(&mut self, of: MessageKind, code: ErrorCode, out: &mut dyn FnMut(&[u8])) {
        self.stats.refused = self.stats.refused.saturating_add(1);
        self.send(&Message::Error(ErrorReport { of, code }), out);
    }

    fn ack(&mut self, of: MessageKind, seq: u32, out: &mut dyn FnMut(&[u8])) {
        self.send(&Message::Ack(Ack { of, seq }), out);
    }

    fn handle(&mut self, msg: Message<'_>, out: &mut dyn FnMut(&[u8])) {
        match msg {
            Message::Hello(h) => match h.check(self.sim.model_hash()) {
                Ok(())
                    if h.sizes.observation_len != self.sim.sizes().observation_len
                        || h.sizes.action_len != self.sim.sizes().action_len =>
                {
                    self.refuse(MessageKind::Hello, ErrorCode::OutOfRange, out)
                }
                Ok(()) => {
                    self.expected = None;
                    self.send_hello(out);
                }
                Err(code) => self.refuse(MessageKind::Hello, code, out),
            },
            Message::Observation(o) => self.observation(o, out),
            Message::Command(c) => self.command(c, out),
            other => self.refuse(other.kind(), ErrorCode::Unsupported, out),
        }
    }

    fn observation(&mut self, o: Observation, out: &mut dyn FnMut(&[u8])) {
        if let Some((step, values)) = &self.last
            && *step == o.step
        {
            let msg = Message::Action(Action {
                step: *step,
                values: values.clone(),
            });
            self.stats.repeats = self.stats.repeats.saturating_add(1);
            self.send(&msg, out);
            return;
        }
        if self.paused {
            return self.refuse(MessageKind::Observation, ErrorCode::Busy, out);
        }
        if self.expected.is_some_and(|e| e != o.step)
            || o.values.len() != usize::from(self.sim.sizes().observation_len)
        {
            return self.refuse(MessageKind::Observation, ErrorCode::OutOfRange, out);
        }
        if let Some(oc) = o.outcome {
            self.reward = oc.reward;
            self.sim.feedback(Feedback {
                reward: oc.reward,
                done: oc.done,
            });
        }
        let start = self.clock.now();
        let mut counts = [0u32; MAX_POPULATIONS];
        // One control period: step until the agent has decided (bounded by the period; the cap
        // only guards against a model whose period is larger than announced).
        for _ in 0..u32::MAX {
            self.sim.step_remote(&o.values);
            let n = self.sim.spikes(&mut counts);
            self.populations = n.min(MAX_POPULATIONS);
            for (t, c) in self.spikes.iter_mut().zip(counts.iter().take(n)) {
                *t = t.saturating_add(*c);
            }
            if self.sim.awaiting_feedback() {
                break;
            }
        }
        let elapsed = self.clock.now().wrapping_sub(start) & C::MASK;
        self.stats.compute_ticks = self.stats.compute_ticks.saturating_add(u64::from(elapsed));
        if elapsed > self.budget {
            self.stats.overruns = self.stats.overruns.saturating_add(1);
        }
        self.stats.periods = self.stats.periods.saturating_add(1);
        let values: Values = self.sim.action().iter().copied().take(64).collect();
        self.last = Some((o.step, values.clone()));
        self.expected = Some(o.step.wrapping_add(1));
        self.send(
            &Message::Action(Action {
                step: o.step,
                values,
            }),
            out,
        );
        self.since_telemetry = self.since_telemetry.saturating_add(1);
        if self.telemetry_period > 0 && self.since_telemetry >= self.telemetry_period {
            self.telemetry(o.step, out);
        }
    }

    fn telemetry(&mut self, step: u32, out: &mut dyn FnMut(&[u8])) {
        let mut weights = Vec::new();
        self.sim.weight_stats(&mut weights);
        let t = Telemetry {
            step,
            objective: self.sim.objective(),
            reward: self.reward,
            spike_counts: self.spikes.iter().take(self.populations).copied().collect(),
            weights,
            deadline_overruns: self.stats.overruns,
            link_errors: self.link,
            state_hash: self.sim.learned_hash(),
        };
        self.spikes = [0; MAX_POPULATIONS];
        self.since_telemetry = 0;
        self.send(&Message::Telemetry(t), out);
    }

    fn command(&mut self, c: Command, out: &mut dyn FnMut(&[u8])) {
        let of = MessageKind::Command;
        match c {
            Command::Pause => {
                self.paused = true;
                self.ack(of, 0, out);
            }
            Command::Resume => {
                self.paused = false;
                self.ack(of, 0, out);
            }
            Command::Reset => {
                self.sim.reset_activity();
                self.ack(of, 0, out);
            }
            Command::Set(Param::TelemetryPeriod(p)) => {
                self.telemetry_period = p;
                self.ack(of, 0, out);
            }
            Command::Report => {
                let step = self.last.as_ref().map_or(0, |(s, _)| *s);
                self.telemetry(step, out);
            }
            // No non-volatile storage on this board, no run-time learning-rate or exploration knob
            // in the split agents yet.
            Command::Set(_) | Command::SaveCheckpoint | Command::SendCheckpoint => {
                self.refuse(of, ErrorCode::Unsupported, out)
            }
        }
    }
}

/// Weight statistics of raw weights `raw` of `scale`, bounds `(lo, hi)` raw (reports only).
pub fn weight_stats<W: engram::num::Weight>(
    raw: &[W],
    scale: engram::num::Scale,
    bounds: (i32, i32),
) -> WeightStats {
    let (mut sum, mut min, mut max, mut sat) = (0i64, i32::MAX, i32::MIN, 0u32);
    for w in raw {
        let v = w.get();
        sum += i64::from(v);
        min = min.min(v);
        max = max.max(v);
        sat += u32::from(v <= bounds.0 || v >= bounds.1);
    }
    let n = raw.len().max(1) as f32;
    let f = |x: f32| Fix::saturating_from_num(x);
    WeightStats {
        mean: f(scale.to_f32(1) * sum as f32 / n),
        min: f(if raw.is_empty() {
            0.0
        } else {
            scale.to_f32(min)
        }),
        max: f(if raw.is_empty() {
            0.0
        } else {
            scale.to_f32(max)
        }),
        saturated: sat,
    }
}

impl Remote for crate::bandit::Network<'_> {
    fn experiment(&self) -> &'static str {
        "bandit"
    }

    fn model_hash(&self) -> u64 {
        self.model_hash
    }

    fn sizes(&self) -> Sizes {
        let b = self.agent.brain();
        let n = b.input.proj.n_pre();
        let m = b.input.proj.n_post();
        Sizes {
            observation_len: 1,
            action_len: self.agent.action().len() as u16,
            populations: 2,
            projections: 2,
            neurons: (n + m) as u32,
            synapses: (n * m + m * m) as u32,
            state_bytes: (n * m * 2) as u32,
            step_us: 1000,
        }
    }

    fn step_remote(&mut self, observation: &[Fix]) -> StepReport {
        crate::bandit::Network::step_remote(self, observation)
    }

    fn awaiting_feedback(&self) -> bool {
        self.agent.awaiting_feedback()
    }

    fn action(&self) -> &[Fix] {
        self.agent.action()
    }

    fn feedback(&mut self, fb: Feedback) -> Option<Fix> {
        self.remote_feedback(fb)
    }

    fn objective(&self) -> Fix {
        use engram::agent::Critic;
        self.agent.critic().value()
    }

    fn spikes(&self, out: &mut [u32]) -> usize {
        let mut i = 0;
        self.visit_spikes(&mut |_, _, s| {
            if let Some(o) = out.get_mut(i) {
                *o = s.len() as u32;
            }
            i += 1;
        });
        i
    }

    fn weight_stats(&self, out: &mut Vec<WeightStats, MAX_PROJECTIONS>) {
        let p = &self.agent.brain().input;
        let _ = out.push(weight_stats(
            p.proj.weights(),
            p.proj.scale(),
            p.rule().bounds(),
        ));
    }

    fn learned_hash(&self) -> u64 {
        crate::bandit::Network::learned_hash(self)
    }

    fn reset_activity(&mut self) {
        use engram::agent::Brain;
        self.agent.brain_mut().reset();
    }
}
