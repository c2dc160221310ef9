//! The closed loop: observe → encode → network step → decode → act, at a fixed time step.
//!
//! An [`Agent`] owns an [`Environment`], a [`Brain`] (the architecture: populations and projections,
//! and later their learning rules), an [`Encoder`], a [`Decoder`] and caller-provided buffers. Each
//! call to [`Agent::step`] advances the network by one time step `dt`; the environment is advanced once
//! every K steps (the *control period*, e.g. dt = 1 ms and K = 20 for a 50 Hz controller).
//!
//! ## One control period (phases `0..K`)
//! | phase | what happens |
//! | --- | --- |
//! | 0 | the environment's observation is written to the observation buffer and loaded into the encoder |
//! | every | the encoder emits this step's input spikes; the brain steps once on them |
//! | `K - W ..= K - 1` | the decoder counts the brain's output spikes (the last W steps: the first `K - W` let the network settle on the new observation) |
//! | `K - 1` | the decoder writes the action; the environment acts and returns [`Feedback`]; the brain receives it as a [`Modulation`]; on `done` a new episode starts at once |
//!
//! Every episode, the first included, starts with `env.reset`, `encoder.reset`, `decoder.reset` and
//! `brain.reset` (the first one on the first call to `step`).
//!
//! ## Determinism
//! Randomness comes only from the [`Rng`] passed to `step`, drawn in a fixed order (encoder, brain,
//! decoder, environment's `act`, then `reset`), and time is the agent's own step counter, so a run is a
//! pure function of the components' configuration and the seed.
//!
//! ## Where learning plugs in
//! [`Brain::modulate`] is the one place a global third factor reaches the network. Between
//! [`Environment::act`] and [`Brain::modulate`] sits the agent's [`Critic`]: the objective that turns
//! the environment's feedback into the modulation. By default ([`RawReward`]) the third factor is the
//! reward itself; [`Agent::with_critic`] installs another, e.g.
//! [`RewardPrediction`](crate::objective::RewardPrediction) (reward minus a running baseline: the
//! reward-prediction error). The critic's value is reported with every action
//! ([`StepReport::objective`]), so the objective is logged as the agent learns. Local rules read the
//! modulation inside the brain ([`rule::Signals::modulator`](crate::rule::Signals::modulator));
//! two-factor rules need nothing from the agent: they run inside [`Brain::step`].
//!
//! ## Cost
//! `step` allocates nothing (the crate has no allocator) and does a bounded amount of work: the
//! encoder's per-neuron draw, one brain step, a count per output spike, and once per period the
//! encoder's load, the decoder's readout and the environment's `act`.

use crate::env::{Decoder, Encoder, Environment, Feedback};
use crate::error::{ConfigError, check_len};
use crate::neuron::Spikes;
use crate::num::{Fix, Rng};

/// The broadcast (third-factor) signal a brain receives after every action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Modulation {
    /// The reward the environment returned.
    pub reward: Fix,
    /// The signal plasticity should use, as the agent's [`Critic`] computed it (the raw reward by
    /// default; the reward-prediction error with [`RewardPrediction`](crate::objective::RewardPrediction)).
    pub third_factor: Fix,
    /// The action ended the episode.
    pub done: bool,
}

/// The objective between the environment and the brain: judges each action's feedback, returns the
/// modulation the brain receives, and exposes the value being optimised for logging.
pub trait Critic {
    /// Judges one action's feedback.
    fn judge(&mut self, feedback: Feedback) -> Modulation;
    /// The objective's current value (e.g. the running mean reward), for reports.
    fn value(&self) -> Fix;
}

/// The default critic: the third factor is the raw reward; its value is the last reward.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawReward {
    last: Fix,
}

impl Critic for RawReward {
    fn judge(&mut self, fb: Feedback) -> Modulation {
        self.last = fb.reward;
        Modulation {
            reward: fb.reward,
            third_factor: fb.reward,
            done: fb.done,
        }
    }

    fn value(&self) -> Fix {
        self.last
    }
}

impl Critic for crate::objective::RewardPrediction {
    fn judge(&mut self, fb: Feedback) -> Modulation {
        self.modulation(fb)
    }

    fn value(&self) -> Fix {
        self.baseline()
    }
}

/// The network the loop drives: one time step at a time, spikes in, spikes out.
///
/// A brain is typically a struct holding its [`Population`](crate::neuron::Population)s and
/// projections; its `step` deposits the input spikes through the input projections, steps every
/// population and (later) applies its plasticity.
pub trait Brain {
    /// Number of input neurons (the encoder must drive exactly this many).
    fn input_len(&self) -> usize;

    /// Number of output neurons (the decoder must read exactly this many).
    fn output_len(&self) -> usize;

    /// One network time step, given the indices (increasing, `< input_len`) of the input neurons that
    /// spiked in this step.
    fn step(&mut self, input: &[u16], rng: &mut Rng);

    /// The output neurons that spiked in the last `step`, increasing.
    fn output(&self) -> &[u16];

    /// Receives the reward / third factor after every action (default: ignored).
    fn modulate(&mut self, _signal: Modulation) {}

    /// Forgets activity at an episode start (potentials, traces); learned weights are kept.
    /// Default: nothing (activity carries over between episodes).
    fn reset(&mut self) {}
}

/// The buffers the loop needs, provided by the caller (`static` arrays on a board, `Vec`s on a host).
#[derive(Debug)]
pub struct Buffers<'a> {
    /// The observation, length `env.observation_len()`.
    pub observation: &'a mut [Fix],
    /// The action, length `env.action_len()`.
    pub action: &'a mut [Fix],
    /// This step's input spikes, room for at least `encoder.input_len()` indices.
    pub input_spikes: &'a mut [u16],
}

/// What one network step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StepReport {
    /// Index of this network step (0-based since the agent was built).
    pub step: u64,
    /// Episode this step belongs to (0-based).
    pub episode: u32,
    /// Input spikes in this step.
    pub input_spikes: u32,
    /// Output spikes in this step.
    pub output_spikes: u32,
    /// `Some` if the agent acted in this step: the environment's answer.
    pub feedback: Option<Feedback>,
    /// `Some` if the agent acted in this step: the critic's objective value after judging it.
    pub objective: Option<Fix>,
}

/// The closed loop. See the [module docs](self) for the schedule.
#[derive(Debug)]
pub struct Agent<'a, E, B, Enc, Dec, C = RawReward> {
    env: E,
    brain: B,
    encoder: Enc,
    decoder: Dec,
    critic: C,
    observation: &'a mut [Fix],
    action: &'a mut [Fix],
    input: Spikes<'a>,
    period: u32,
    /// First phase in which the decoder counts: `period - window`.
    record_from: u32,
    phase: u32,
    step: u64,
    episode: u32,
    started: bool,
    /// Remote mode: an action was decided and its feedback has not arrived yet.
    pending: bool,
}

impl<'a, E, B, Enc, Dec> Agent<'a, E, B, Enc, Dec, RawReward>
where
    E: Environment,
    B: Brain,
    Enc: Encoder,
    Dec: Decoder,
{
    /// Assembles the loop, acting every `period_steps` network steps.
    ///
    /// Checks, in this order: `period_steps ≥ 1`; `1 ≤ decoder.window() ≤ period_steps`; the
    /// observation buffer, encoder and environment agree on the observation length; the encoder drives
    /// `brain.input_len()` neurons and the spike buffer can hold them; the decoder reads
    /// `brain.output_len()` neurons; the action buffer, decoder and environment agree on the action
    /// length.
    pub fn new(
        env: E,
        brain: B,
        encoder: Enc,
        decoder: Dec,
        buffers: Buffers<'a>,
        period_steps: u32,
    ) -> Result<Self, ConfigError> {
        if period_steps == 0 {
            return Err(ConfigError::Invalid {
                what: "control period must be at least one step",
            });
        }
        let window = decoder.window();
        if window == 0 || window > period_steps {
            return Err(ConfigError::Invalid {
                what: "decoder window must be between 1 and the control period",
            });
        }
        let obs_len = env.observation_len();
        check_len("observation buffer", obs_len, buffers.observation.len())?;
        check_len("encoder observation", obs_len, encoder.observation_len())?;
        check_len(
            "encoder outputs vs brain inputs",
            brain.input_len(),
            encoder.input_len(),
        )?;
        if buffers.input_spikes.len() < encoder.input_len() {
            return Err(ConfigError::CapacityExceeded {
                what: "input spike buffer",
                capacity: buffers.input_spikes.len(),
            });
        }
        check_len(
            "decoder inputs vs brain outputs",
            brain.output_len(),
            decoder.output_len(),
        )?;
        let act_len = env.action_len();
        check_len("action buffer", act_len, buffers.action.len())?;
        check_len("decoder actions", act_len, decoder.action_len())?;
        buffers.observation.fill(Fix::ZERO);
        buffers.action.fill(Fix::ZERO);
        Ok(Agent {
            env,
            brain,
            encoder,
            decoder,
            critic: RawReward::default(),
            observation: buffers.observation,
            action: buffers.action,
            input: Spikes::new(buffers.input_spikes),
            period: period_steps,
            record_from: period_steps - window,
            phase: 0,
            step: 0,
            episode: 0,
            started: false,
            pending: false,
        })
    }

    /// The same loop with `critic` judging each action's feedback (see the [module docs](self)).
    pub fn with_critic<C: Critic>(self, critic: C) -> Agent<'a, E, B, Enc, Dec, C> {
        Agent {
            env: self.env,
            brain: self.brain,
            encoder: self.encoder,
            decoder: self.decoder,
            critic,
            observation: self.observation,
            action: self.action,
            input: self.input,
            period: self.period,
            record_from: self.record_from,
            phase: self.phase,
            step: self.step,
            episode: self.episode,
            started: self.started,
            pending: self.pending,
        }
    }
}

impl<'a, E, B, Enc, Dec, C> Agent<'a, E, B, Enc, Dec, C>
where
    E: Environment,
    B: Brain,
    Enc: Encoder,
    Dec: Decoder,
    C: Critic,
{
    /// Advances the network by one time step (and, at the end of a control period, the environment by
    /// one action). Total: no allocation, no panic.
    pub fn step(&mut self, rng: &mut Rng) -> StepReport {
        if self.phase == 0 {
            if !self.started {
                self.begin_episode(rng);
                self.started = true;
            }
            self.env.observe(self.observation);
            self.encoder.load(self.observation);
        }
        self.input.clear();
        self.encoder.encode(rng, &mut self.input);
        self.brain.step(self.input.as_slice(), rng);
        let output = self.brain.output();
        if self.phase >= self.record_from {
            self.decoder.record(output);
        }
        let mut report = StepReport {
            step: self.step,
            episode: self.episode,
            input_spikes: self.input.len() as u32,
            output_spikes: output.len() as u32,
            feedback: None,
            objective: None,
        };
        self.step = self.step.wrapping_add(1);
        self.phase += 1;
        if self.phase == self.period {
            self.phase = 0;
            self.decoder.decode(self.action, rng);
            let fb = self.env.act(self.action, rng);
            self.brain.modulate(self.critic.judge(fb));
            report.feedback = Some(fb);
            report.objective = Some(self.critic.value());
            if fb.done {
                self.episode = self.episode.wrapping_add(1);
                self.begin_episode(rng);
            }
        }
        report
    }

    /// Runs `steps` network steps, handing every report to `on_report`.
    pub fn run(&mut self, steps: u64, rng: &mut Rng, mut on_report: impl FnMut(&StepReport)) {
        for _ in 0..steps {
            let r = self.step(rng);
            on_report(&r);
        }
    }

    /// Abandons the current episode and starts a new one at the beginning of a control period (the
    /// episode counter advances). Learned state in the brain is kept.
    pub fn restart(&mut self, rng: &mut Rng) {
        if self.started {
            self.episode = self.episode.wrapping_add(1);
        }
        self.phase = 0;
        self.started = true;
        self.begin_episode(rng);
    }

    /// Processor in the loop, board side: one network step like [`Agent::step`], but the environment
    /// is elsewhere (the host runs it) and this agent's own environment is never touched.
    ///
    /// At the start of a control period the observation is `observation` (copied into the
    /// observation buffer; missing values read 0, extra ones are ignored) instead of `env.observe`. At
    /// the end of the period the decoder writes the action ([`Agent::action`]) and the step returns
    /// with [`Agent::awaiting_feedback`] true and no feedback: the caller sends the action away and
    /// hands the environment's answer to [`Agent::remote_feedback`] before the next period.
    ///
    /// Randomness is drawn in the order of [`Agent::step`] minus the environment's draws (encoder,
    /// brain, decoder), so a remote run equals a local one whose environment has its own generator.
    /// No allocation, no panic.
    pub fn step_remote(&mut self, observation: &[Fix], rng: &mut Rng) -> StepReport {
        if self.phase == 0 {
            if !self.started {
                self.begin_remote_episode();
                self.started = true;
            }
            self.pending = false;
            for (i, o) in self.observation.iter_mut().enumerate() {
                *o = observation.get(i).copied().unwrap_or(Fix::ZERO);
            }
            self.encoder.load(self.observation);
        }
        self.input.clear();
        self.encoder.encode(rng, &mut self.input);
        self.brain.step(self.input.as_slice(), rng);
        let output = self.brain.output();
        if self.phase >= self.record_from {
            self.decoder.record(output);
        }
        let report = StepReport {
            step: self.step,
            episode: self.episode,
            input_spikes: self.input.len() as u32,
            output_spikes: output.len() as u32,
            feedback: None,
            objective: None,
        };
        self.step = self.step.wrapping_add(1);
        self.phase += 1;
        if self.phase == self.period {
            self.phase = 0;
            self.decoder.decode(self.action, rng);
            self.pending = true;
        }
        report
    }

    /// Whether [`Agent::step_remote`] decided an action that still waits for its feedback.
    pub fn awaiting_feedback(&self) -> bool {
        self.pending
    }

    /// Processor in the loop: the environment's answer to the action of the last control period.
    /// The critic judges it, the brain receives the modulation and, on `done`, a new episode starts
    /// (encoder, decoder and brain reset; the environment is the caller's). Returns the objective's
    /// value, or `None` (and changes nothing) if no action was waiting for feedback.
    pub fn remote_feedback(&mut self, fb: Feedback) -> Option<Fix> {
        if !self.pending {
            return None;
        }
        self.pending = false;
        self.brain.modulate(self.critic.judge(fb));
        if fb.done {
            self.episode = self.episode.wrapping_add(1);
            self.begin_remote_episode();
        }
        Some(self.critic.value())
    }

    fn begin_remote_episode(&mut self) {
        self.encoder.reset();
        self.decoder.reset();
        self.brain.reset();
    }

    fn begin_episode(&mut self, rng: &mut Rng) {
        self.env.reset(rng);
        self.encoder.reset();
        self.decoder.reset();
        self.brain.reset();
    }

    /// The critic (the objective judging each action).
    pub fn critic(&self) -> &C {
        &self.critic
    }

    /// The environment.
    pub fn env(&self) -> &E {
        &self.env
    }

    /// The environment, mutably (e.g. to change a task parameter between runs).
    pub fn env_mut(&mut self) -> &mut E {
        &mut self.env
    }

    /// The brain.
    pub fn brain(&self) -> &B {
        &self.brain
    }

    /// The brain, mutably (e.g. to read or save its weights).
    pub fn brain_mut(&mut self) -> &mut B {
        &mut self.brain
    }

    /// The encoder.
    pub fn encoder(&self) -> &Enc {
        &self.encoder
    }

    /// The decoder.
    pub fn decoder(&self) -> &Dec {
        &self.decoder
    }

    /// The last observation.
    pub fn observation(&self) -> &[Fix] {
        self.observation
    }

    /// The last action.
    pub fn action(&self) -> &[Fix] {
        self.action
    }

    /// The input spikes of the last step (what the encoder emitted), increasing.
    pub fn input_spikes(&self) -> &[u16] {
        self.input.as_slice()
    }

    /// Network steps taken so far.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// The current episode (0-based).
    pub fn episode(&self) -> u32 {
        self.episode
    }

    /// The control period K, in network steps.
    pub fn period(&self) -> u32 {
        self.period
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{
        PoissonEncoder, RateDecoder, RateDecoderParams, Silence, WinnerTakeAll, one_hot_index,
    };
    use crate::neuron::{NeuronModel, Population};
    use crate::num::Frac;

    fn f(x: f64) -> Fix {
        Fix::from_num(x)
    }

    /// Two-armed cued bandit: the observation shows `1` on the arm that pays and `cue_other` on the
    /// other; choosing the paying arm (one-hot) earns 1, anything else 0. An episode is `trials` actions.
    #[derive(Debug)]
    struct TwoArm {
        cue_other: Fix,
        trials: u32,
        trial: u32,
        paying: usize,
        resets: u32,
        /// Trials and rewards per paying arm.
        seen: [u32; 2],
        won: [u32; 2],
    }

    impl TwoArm {
        fn new(cue_other: f64, trials: u32) -> Self {
            TwoArm {
                cue_other: f(cue_other),
                trials,
                trial: 0,
                paying: 0,
                resets: 0,
                seen: [0; 2],
                won: [0; 2],
            }
        }
    }

    impl Environment for TwoArm {
        fn observation_len(&self) -> usize {
            2
        }
        fn action_len(&self) -> usize {
            2
        }
        fn reset(&mut self, rng: &mut Rng) {
            self.trial = 0;
            self.resets += 1;
            self.paying = rng.below(2) as usize;
        }
        fn observe(&self, obs: &mut [Fix]) {
            for (i, o) in obs.iter_mut().enumerate() {
                *o = if i == self.paying {
                    Fix::ONE
                } else {
                    self.cue_other
                };
            }
        }
        fn act(&mut self, action: &[Fix], rng: &mut Rng) -> Feedback {
            let win = one_hot_index(action) == Some(self.paying);
            self.seen[self.paying] += 1;
            self.won[self.paying] += win as u32;
            self.trial += 1;
            self.paying = rng.below(2) as usize;
            Feedback {
                reward: if win { Fix::ONE } else { Fix::ZERO },
                done: self.trial == self.trials,
            }
        }
    }

    /// A neuron that fires in a step iff its excitatory deposit reaches 1 (a relay).
    #[derive(Debug, Clone, Copy)]
    struct Relay;

    impl NeuronModel for Relay {
        type State = ();
        fn step(&self, _s: &mut (), exc: Fix, _inh: Fix) -> bool {
            exc >= Fix::ONE
        }
        fn potential(_s: &()) -> Fix {
            Fix::ZERO
        }
    }

    /// Hand-wired, non-learning brain: input neuron k excites output neuron k with weight 1.
    struct Wired<'a> {
        out: Population<'a, Relay>,
        modulations: u32,
        reward_sum: Fix,
        third_sum: f64,
        resets: u32,
    }

    impl Brain for Wired<'_> {
        fn input_len(&self) -> usize {
            self.out.len()
        }
        fn output_len(&self) -> usize {
            self.out.len()
        }
        fn step(&mut self, input: &[u16], _rng: &mut Rng) {
            for &k in input {
                if let Some(e) = self.out.exc.get_mut(k as usize) {
                    *e = e.saturating_add(Fix::ONE);
                }
            }
            self.out.step();
        }
        fn output(&self) -> &[u16] {
            self.out.spikes.as_slice()
        }
        fn modulate(&mut self, m: Modulation) {
            self.modulations += 1;
            self.reward_sum += m.reward;
            self.third_sum += m.third_factor.to_num::<f64>();
        }
        fn reset(&mut self) {
            self.resets += 1;
        }
    }

    /// Storage for a two-armed agent (everything a board would put in `static`s).
    struct Store {
        state: [(); 2],
        exc: [Fix; 2],
        inh: [Fix; 2],
        spikes: [u16; 2],
        prob: [Frac; 2],
        counts: [u32; 2],
        obs: [Fix; 2],
        action: [Fix; 2],
        input: [u16; 2],
    }

    impl Store {
        fn new() -> Self {
            Store {
                state: [(); 2],
                exc: [Fix::ZERO; 2],
                inh: [Fix::ZERO; 2],
                spikes: [0; 2],
                prob: [Frac::ZERO; 2],
                counts: [0; 2],
                obs: [Fix::ZERO; 2],
                action: [Fix::ZERO; 2],
                input: [0; 2],
            }
        }
    }

    type TwoArmAgent<'a> = Agent<'a, TwoArm, Wired<'a>, PoissonEncoder<'a>, WinnerTakeAll<'a>>;

    /// Poisson at 500 Hz (p = 0.5 per 1-ms step at full cue), WTA over the last `window` of `period`
    /// steps.
    fn two_arm(s: &mut Store, env: TwoArm, period: u32, window: u32) -> TwoArmAgent<'_> {
        let out =
            Population::new(Relay, &mut s.state, &mut s.exc, &mut s.inh, &mut s.spikes).unwrap();
        let brain = Wired {
            out,
            modulations: 0,
            reward_sum: Fix::ZERO,
            third_sum: 0.0,
            resets: 0,
        };
        let enc = PoissonEncoder::new(0.0, 1.0, 500.0, 1.0, &mut s.prob).unwrap();
        let dec = WinnerTakeAll::new(1, window, Silence::Abstain, &mut s.counts).unwrap();
        let buffers = Buffers {
            observation: &mut s.obs,
            action: &mut s.action,
            input_spikes: &mut s.input,
        };
        Agent::new(env, brain, enc, dec, buffers, period).unwrap()
    }

    fn binom_pmf(n: u32, p: f64) -> Vec<f64> {
        let mut out = Vec::new();
        for k in 0..=n {
            let mut c = 1.0;
            for i in 0..k {
                c *= (n - i) as f64 / (i + 1) as f64;
            }
            out.push(c * p.powi(k as i32) * (1.0 - p).powi((n - k) as i32));
        }
        out
    }

    #[test]
    fn wired_agent_earns_the_predicted_reward() {
        // Period 10 steps, WTA over the last 5. Paying arm: 5 steps at p = 0.5; other arm: p = 0.15.
        let (period, window) = (10u32, 5u32);
        let mut s = Store::new();
        let mut agent = two_arm(&mut s, TwoArm::new(0.3, 50), period, window);
        let mut rng = Rng::new(11);
        let trials = 6000u64;
        let (mut actions, mut reward) = (0u32, 0.0f64);
        agent.run(trials * period as u64, &mut rng, |r| {
            if let Some(fb) = r.feedback {
                actions += 1;
                reward += fb.reward.to_num::<f64>();
                assert_eq!(r.step % period as u64, period as u64 - 1);
            }
        });
        assert_eq!(actions as u64, trials);
        // Exact prediction. X ~ Bin(5, 0.5) on the paying arm, Y ~ Bin(5, 0.15) on the other.
        // Arm 0 pays: correct iff X ≥ Y and X > 0 (ties go to arm 0). Arm 1 pays: correct iff X > Y.
        let px = binom_pmf(window, 0.5);
        let py = binom_pmf(window, 0.15);
        let (mut p0, mut p1) = (0.0, 0.0);
        for (x, a) in px.iter().enumerate() {
            for (y, b) in py.iter().enumerate() {
                if x >= y && x > 0 {
                    p0 += a * b;
                }
                if x > y {
                    p1 += a * b;
                }
            }
        }
        let env = agent.env();
        for (arm, p) in [(0, p0), (1, p1)] {
            let n = env.seen[arm] as f64;
            let got = env.won[arm] as f64 / n;
            let tol = 4.0 * (p * (1.0 - p) / n).sqrt();
            assert!((got - p).abs() < tol, "arm {arm}: {got} vs {p} ± {tol}");
        }
        // The tie-break makes the arms differ by P(X = Y > 0) ≈ 0.12: the test sees the asymmetry.
        assert!(p0 - p1 > 0.1);
        // Every action's reward reached the brain.
        let brain = agent.brain();
        assert_eq!(brain.modulations, actions);
        assert!((brain.reward_sum.to_num::<f64>() - reward).abs() < 1e-9);
        // The default critic passes the raw reward as the third factor.
        assert!((brain.third_sum - reward).abs() < 1e-9);
        // Counting the whole period instead of the last W steps would give a clearly different rate.
        let rate = reward / actions as f64;
        assert!((rate - (p0 + p1) / 2.0).abs() < 0.02, "{rate}");
    }

    #[test]
    fn reward_prediction_critic_sends_the_prediction_error() {
        use crate::objective::{Averaging, RewardPrediction, RewardPredictionParams};
        let mut s = Store::new();
        let critic = RewardPrediction::new(
            RewardPredictionParams {
                baseline: Averaging::Rate { alpha: 0.02 },
                initial_baseline: 0.0,
            },
            10.0,
        )
        .unwrap();
        let mut agent = two_arm(&mut s, TwoArm::new(0.3, 50), 10, 5).with_critic(critic);
        let mut rng = Rng::new(5);
        let (mut reward, mut actions, mut last_objective) = (0.0f64, 0u32, 0.0f64);
        agent.run(4000 * 10, &mut rng, |r| {
            if let (Some(fb), Some(obj)) = (r.feedback, r.objective) {
                reward += fb.reward.to_num::<f64>();
                actions += 1;
                last_objective = obj.to_num::<f64>();
            }
        });
        let rate = reward / actions as f64;
        // The logged objective is the running mean reward; the brain saw δ = r − b, which averages
        // to ≈ 0 once b has converged (the raw reward would average to `rate` ≈ 0.8).
        assert!(
            (last_objective - rate).abs() < 0.1,
            "objective {last_objective} vs rate {rate}"
        );
        let mean_delta = agent.brain().third_sum / actions as f64;
        assert!(mean_delta.abs() < 0.02, "mean δ {mean_delta}");
        assert!(rate > 0.5);
    }

    fn record(seed: u64, steps: u64) -> Vec<StepReport> {
        let mut s = Store::new();
        let mut agent = two_arm(&mut s, TwoArm::new(0.5, 7), 8, 4);
        let mut rng = Rng::new(seed);
        let mut out = Vec::new();
        agent.run(steps, &mut rng, |r| out.push(*r));
        out
    }

    /// An environment that draws from its own generator (as the host's world does in a remote run).
    struct OwnRng(TwoArm, Rng);

    impl Environment for OwnRng {
        fn observation_len(&self) -> usize {
            self.0.observation_len()
        }
        fn action_len(&self) -> usize {
            self.0.action_len()
        }
        fn reset(&mut self, _rng: &mut Rng) {
            self.0.reset(&mut self.1);
        }
        fn observe(&self, obs: &mut [Fix]) {
            self.0.observe(obs);
        }
        fn act(&mut self, action: &[Fix], _rng: &mut Rng) -> Feedback {
            self.0.act(action, &mut self.1)
        }
    }

    #[test]
    fn remote_run_equals_local_run_whose_environment_has_its_own_generator() {
        let (period, window, trials) = (8u32, 4u32, 7u32);
        // Local: the environment inside the agent, drawing from its own generator.
        let mut s1 = Store::new();
        let mut s2 = Store::new();
        let mut local_rng = Rng::new(21);
        let mut local = {
            let a = two_arm(&mut s1, TwoArm::new(0.5, trials), period, window);
            // Rebuild around the wrapped environment (same storage, same components).
            let Agent {
                brain,
                encoder,
                decoder,
                observation,
                action,
                input,
                ..
            } = a;
            Agent {
                env: OwnRng(TwoArm::new(0.5, trials), Rng::new(99)),
                brain,
                encoder,
                decoder,
                critic: RawReward::default(),
                observation,
                action,
                input,
                period,
                record_from: period - window,
                phase: 0,
                step: 0,
                episode: 0,
                started: false,
                pending: false,
            }
        };
        let mut local_reports = Vec::new();
        local.run(4000, &mut local_rng, |r| local_reports.push(*r));

        // Remote: the agent's own environment is never touched; the "host" runs the world.
        let mut remote = two_arm(&mut s2, TwoArm::new(9.0, 1), period, window);
        let mut rng = Rng::new(21);
        let mut world = OwnRng(TwoArm::new(0.5, trials), Rng::new(99));
        let mut obs = [Fix::ZERO; 2];
        let mut scratch = Rng::new(0);
        world.reset(&mut scratch);
        let mut remote_reports = Vec::new();
        for _ in 0..4000 / period {
            world.observe(&mut obs);
            for _ in 0..period {
                let mut r = remote.step_remote(&obs, &mut rng);
                if remote.awaiting_feedback() {
                    let fb = world.act(remote.action(), &mut scratch);
                    r.objective = remote.remote_feedback(fb);
                    r.feedback = Some(fb);
                    if fb.done {
                        world.reset(&mut scratch);
                    }
                }
                remote_reports.push(r);
            }
        }
        assert_eq!(local_reports, remote_reports);
        assert_eq!(local.brain().modulations, remote.brain().modulations);
        assert_eq!(local.brain().resets, remote.brain().resets);
        assert_eq!(
            remote.env().resets,
            0,
            "the remote agent's own environment is untouched"
        );
        let fb = Feedback {
            reward: Fix::ONE,
            done: false,
        };
        assert_eq!(remote.remote_feedback(fb), None);
    }

    #[test]
    fn same_seed_same_run_other_seed_other_run() {
        let a = record(3, 2000);
        let b = record(3, 2000);
        let c = record(4, 2000);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 2000);
        assert!(a.iter().enumerate().all(|(i, r)| r.step == i as u64));
        assert!(a.iter().any(|r| r.input_spikes > 0 && r.output_spikes > 0));
    }

    #[test]
    fn done_starts_a_new_episode() {
        let (period, trials) = (10u32, 4u32);
        let mut s = Store::new();
        let mut agent = two_arm(&mut s, TwoArm::new(0.0, trials), period, 3);
        let mut rng = Rng::new(1);
        let per_episode = (period * trials) as u64;
        for i in 0..3 * per_episode {
            let r = agent.step(&mut rng);
            assert_eq!(r.episode as u64, i / per_episode);
            let acts = i % period as u64 == period as u64 - 1;
            assert_eq!(r.feedback.is_some(), acts, "step {i}");
            let done = i % per_episode == per_episode - 1;
            assert_eq!(r.feedback.is_some_and(|fb| fb.done), done, "step {i}");
            if done {
                // reset happened at once: env, decoder window, brain activity
                let e = r.episode as u32 + 1;
                assert_eq!(agent.env().trial, 0);
                assert_eq!(agent.env().resets, e + 1);
                assert_eq!(agent.brain().resets, e + 1);
                assert_eq!(agent.decoder().counts(), &[0, 0]);
                assert_eq!(agent.episode(), e);
            }
        }
        assert_eq!(agent.steps(), 3 * per_episode);
        // restart: a fresh episode at phase 0
        agent.step(&mut rng);
        agent.restart(&mut rng);
        assert_eq!(agent.episode(), 4);
        assert_eq!(agent.env().resets, 5);
        let r = agent.step(&mut rng);
        assert!(r.feedback.is_none());
    }

    /// One observation channel, two continuous actions; records the last action.
    struct Probe {
        last: [Fix; 2],
    }

    impl Environment for Probe {
        fn observation_len(&self) -> usize {
            1
        }
        fn action_len(&self) -> usize {
            2
        }
        fn reset(&mut self, _rng: &mut Rng) {}
        fn observe(&self, obs: &mut [Fix]) {
            obs.fill(Fix::ZERO);
        }
        fn act(&mut self, action: &[Fix], _rng: &mut Rng) -> Feedback {
            self.last.copy_from_slice(action);
            Feedback {
                reward: Fix::ZERO,
                done: false,
            }
        }
    }

    /// Output 0 fires in the second half of each 10-step period, output 1 in the first 6 steps.
    struct Clock {
        t: u32,
        out: [u16; 2],
        len: usize,
    }

    impl Brain for Clock {
        fn input_len(&self) -> usize {
            1
        }
        fn output_len(&self) -> usize {
            2
        }
        fn step(&mut self, _input: &[u16], _rng: &mut Rng) {
            let phase = self.t % 10;
            self.len = 0;
            if phase < 6 {
                self.out[self.len] = 1;
                self.len += 1;
            }
            if phase >= 5 {
                self.out[self.len] = 0;
                self.len += 1;
            }
            self.out[..self.len].sort_unstable();
            self.t += 1;
        }
        fn output(&self) -> &[u16] {
            &self.out[..self.len]
        }
    }

    #[test]
    fn decoder_counts_only_the_last_window_of_each_period() {
        // W = 4 of K = 10: output 0 counts 4, output 1 counts 0. Full scale 1000 Hz · 1 ms · 4 = 4.
        let p = RateDecoderParams {
            neurons_per_channel: 1,
            window_steps: 4,
            full_scale_hz: 1000.0,
            lo: 0.0,
            hi: 2.0,
        };
        let mut counts = [0u32; 2];
        let dec = RateDecoder::new(p, 1.0, &mut counts).unwrap();
        let mut prob = [Frac::ZERO; 1];
        let enc = PoissonEncoder::new(0.0, 1.0, 100.0, 1.0, &mut prob).unwrap();
        let (mut obs, mut action, mut input) = ([Fix::ZERO; 1], [Fix::ZERO; 2], [0u16; 1]);
        let buffers = Buffers {
            observation: &mut obs,
            action: &mut action,
            input_spikes: &mut input,
        };
        let brain = Clock {
            t: 0,
            out: [0; 2],
            len: 0,
        };
        let env = Probe { last: [f(-1.0); 2] };
        let mut agent = Agent::new(env, brain, enc, dec, buffers, 10).unwrap();
        let mut rng = Rng::new(0);
        for period in 0..3 {
            for _ in 0..9 {
                assert!(agent.step(&mut rng).feedback.is_none());
            }
            // just before the action: 3 of the 4 window steps counted
            assert_eq!(agent.decoder().counts(), &[3, 0], "period {period}");
            assert!(agent.step(&mut rng).feedback.is_some());
            assert_eq!(agent.env().last, [f(2.0), f(0.0)]);
            assert_eq!(agent.action(), &[f(2.0), f(0.0)]);
            assert_eq!(agent.decoder().counts(), &[0, 0]);
        }
    }

    #[test]
    fn new_refuses_mismatched_sizes() {
        let mut counts2 = [0u32; 2];
        let mut counts3 = [0u32; 3];
        let mut prob2 = [Frac::ZERO; 2];
        let mut prob3 = [Frac::ZERO; 3];
        let (mut o1, mut o2) = ([Fix::ZERO; 1], [Fix::ZERO; 2]);
        let (mut a1, mut a2) = ([Fix::ZERO; 1], [Fix::ZERO; 2]);
        let (mut i1, mut i2) = ([0u16; 1], [0u16; 2]);
        let clock = || Clock {
            t: 0,
            out: [0; 2],
            len: 0,
        };
        let probe = || Probe {
            last: [Fix::ZERO; 2],
        };
        // Clock: 1 input, 2 outputs. Probe: 1 observation, 2 actions.
        macro_rules! try_new {
            ($prob:expr, $wta_counts:expr, $window:expr, $obs:expr, $act:expr, $inp:expr, $period:expr) => {{
                let enc = PoissonEncoder::new(0.0, 1.0, 100.0, 1.0, $prob).unwrap();
                let dec = WinnerTakeAll::new(1, $window, Silence::Abstain, $wta_counts).unwrap();
                let buffers = Buffers {
                    observation: $obs,
                    action: $act,
                    input_spikes: $inp,
                };
                Agent::new(probe(), clock(), enc, dec, buffers, $period).map(|_| ())
            }};
        }
        let mut prob1 = [Frac::ZERO; 1];
        // all good
        assert_eq!(
            try_new!(&mut prob1, &mut counts2, 5, &mut o1, &mut a2, &mut i1, 10),
            Ok(())
        );
        let mismatch = |r: Result<(), ConfigError>, w: &str| match r {
            Err(ConfigError::SizeMismatch { what, .. }) => assert_eq!(what, w),
            other => panic!("{w}: {other:?}"),
        };
        // encoder reads 2 channels, env has 1
        mismatch(
            try_new!(&mut prob2, &mut counts2, 5, &mut o1, &mut a2, &mut i2, 10),
            "encoder observation",
        );
        // observation buffer too long
        mismatch(
            try_new!(&mut prob1, &mut counts2, 5, &mut o2, &mut a2, &mut i1, 10),
            "observation buffer",
        );
        // decoder reads 3 outputs, brain has 2
        mismatch(
            try_new!(&mut prob1, &mut counts3, 5, &mut o1, &mut a2, &mut i1, 10),
            "decoder inputs vs brain outputs",
        );
        // action buffer too short
        mismatch(
            try_new!(&mut prob1, &mut counts2, 5, &mut o1, &mut a1, &mut i1, 10),
            "action buffer",
        );
        // window longer than the period, zero period
        assert!(matches!(
            try_new!(&mut prob1, &mut counts2, 11, &mut o1, &mut a2, &mut i1, 10),
            Err(ConfigError::Invalid { .. })
        ));
        assert!(matches!(
            try_new!(&mut prob1, &mut counts2, 1, &mut o1, &mut a2, &mut i1, 0),
            Err(ConfigError::Invalid { .. })
        ));
        // input spike buffer too small (encoder with 3 inputs needs a brain with 3 inputs first, so
        // use the two-armed agent's parts: 2 inputs, buffer of 1)
        let mut s = Store::new();
        let out =
            Population::new(Relay, &mut s.state, &mut s.exc, &mut s.inh, &mut s.spikes).unwrap();
        let brain = Wired {
            out,
            modulations: 0,
            reward_sum: Fix::ZERO,
            third_sum: 0.0,
            resets: 0,
        };
        let enc = PoissonEncoder::new(0.0, 1.0, 100.0, 1.0, &mut s.prob).unwrap();
        let dec = WinnerTakeAll::new(1, 1, Silence::Abstain, &mut s.counts).unwrap();
        let buffers = Buffers {
            observation: &mut s.obs,
            action: &mut s.action,
            input_spikes: &mut s.input[..1],
        };
        assert!(matches!(
            Agent::new(TwoArm::new(0.0, 1), brain, enc, dec, buffers, 4).map(|_| ()),
            Err(ConfigError::CapacityExceeded { .. })
        ));
        // encoder drives 3 neurons, brain has 1 input
        let enc = PoissonEncoder::new(0.0, 1.0, 100.0, 1.0, &mut prob3).unwrap();
        let dec = WinnerTakeAll::new(1, 1, Silence::Abstain, &mut counts2).unwrap();
        let (mut o3, mut i3) = ([Fix::ZERO; 3], [0u16; 3]);
        let buffers = Buffers {
            observation: &mut o3,
            action: &mut a2,
            input_spikes: &mut i3,
        };
        struct Wide;
        impl Environment for Wide {
            fn observation_len(&self) -> usize {
                3
            }
            fn action_len(&self) -> usize {
                2
            }
            fn reset(&mut self, _rng: &mut Rng) {}
            fn observe(&self, _obs: &mut [Fix]) {}
            fn act(&mut self, _a: &[Fix], _rng: &mut Rng) -> Feedback {
                Feedback {
                    reward: Fix::ZERO,
                    done: false,
                }
            }
        }
        mismatch(
            Agent::new(Wide, clock(), enc, dec, buffers, 4).map(|_| ()),
            "encoder outputs vs brain inputs",
        );
    }
}
