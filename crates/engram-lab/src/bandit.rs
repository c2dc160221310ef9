//! A k-armed Bernoulli bandit learned by a spiking network with reward-modulated STDP: the
//! network comes to choose the best arm.
//!
//! | part | here |
//! | --- | --- |
//! | architecture | a cue population of `inputs` Poisson cells ([`RateGroups`], all at `input_hz` during a trial) → `arms` action groups of `group` current-based LIF neurons each, through a plastic [`Dense`] projection (all-to-all, weights in `[0, weights.w_max]` mV, initially `w_init ± w_jitter` uniform); a static all-to-all lateral inhibition between groups (−`inhibition_mv` onto the inhibitory channel of every neuron of the *other* groups, one step later); the action is the group with the most spikes in the last `window_ms` of the trial ([`WinnerTakeAll`], a random arm if all are silent) |
//! | learning rule | reward-modulated STDP ([`RuleParams::reward_modulated`] over all-to-all [`RuleParams::pair_stdp`]): `A₊`/`A₋` (mV), τ± = `tau_stdp_ms` feed a per-synapse eligibility `e` (τ_e = `tau_eligibility_ms`); the step after each action `Δw = lr · 1 ms · δ · e` |
//! | objective | expected reward: the [`RewardPrediction`] critic keeps the running mean reward `b` (rate `baseline_rate` per trial) and sends the prediction error `δ = r − b` as the third factor; its value (`objective`) is `b` |
//! | environment | [`Bandit`]: `arms` Bernoulli arms paying 1 with probabilities evenly spaced from `p_low` to `p_high` (default 0.2, 0.4, 0.6, 0.8), assigned to the arms in an order shuffled by the seed; one trial = one choice = one episode; observation: a constant cue (1) |
//!
//! **Trial** (dt = 1 ms, [`Agent`] with control period `trial_ms`). Every step the cue cells spike,
//! their spikes cross the plastic projection (the STDP depression feeds `e` in the same pass), last
//! step's action spikes cross the lateral inhibition, the action neurons step, and the rule adds the
//! potentiation of their spikes to `e` and decays the traces. At the end of the trial the decoder
//! picks the arm, the bandit pays, the critic computes δ, and the brain holds δ as the modulator for
//! exactly one step (the next one), whose rule tick converts `e` into weight change (the rule ticks
//! every step; the modulator is zero in all other steps). Then every neuron returns to rest for the
//! next trial; eligibilities and weights are kept (`e` decays by `e^{−trial/τ_e}` between trials).
//!
//! **Why it learns.** A group that fired more in a trial has larger `e` on its cue synapses (more
//! pre→post pairings than post→pre with `A₊ ≥ A₋`), and it is the group that was chosen, so
//! `E[Δw] ∝ Cov(δ, e)`: arms paying above the running mean grow, those below shrink, and the lateral
//! inhibition turns a small weight advantage into a large choice advantage. The baseline stays below
//! the best arm's probability, so the best arm keeps growing until it is chosen nearly always.
//!
//! **Neuron**: τ_m 20 ms, E_L −65 mV, threshold −50 mV, reset −65 mV, refractory 2 ms, τ_exc 5 ms,
//! τ_inh 10 ms, current-based ([`Lif`]).
//!
//! **Numbers.** Weights are `weights.bits`-bit steps of `w_max / (2^(bits−1) − 1)`
//! ([`WeightFormat::scale`]); `A₊`, `A₋` are in mV, so they mean the same at every precision. The
//! arms' probabilities are [`Frac`] (rounded to nearest) drawn with [`Rng::bernoulli`]; rewards are 0
//! or 1 ([`Fix`]). One [`Rng`] (seeded with `seed`) drives the cue spikes, the silent-trial choice
//! and the arms, in the agent's order; another (seed-derived) the rule's stochastic rounding; the
//! arm order and the initial weights come from a third, used only at construction.
//!
//! **Measured** (`tests/tests/bandit.rs`, default configuration, 1000 trials): the best arm is
//! chosen in 96 / 92 / 99 / 99 % of the last 200 trials on seeds 1–4 (92–100 % on seeds 1–12),
//! against 7 / 29 / 18 / 15 % with the weights frozen (`lr = 0`; 7–65 % on seeds 1–12: the initial
//! jitter and the decoder's tie-break favour some arm) and 25 % by chance; mean reward over all
//! 1000 trials 0.77–0.79 (frozen 0.38–0.56; the best arm pays 0.8). The critic's initial baseline
//! matters: starting it at 0 instead of 0.5 makes every early reward "better than expected", and
//! the first arm that happens to pay locks in (measured: 3 of 6 seeds settled on a wrong arm).
//! Storage for the default (= [`Config::check`]) configuration: about 9.6 KiB (4 KiB of it
//! eligibilities, 2 KiB the lateral inhibition).

use crate::Simulation;
use crate::WeightVisitor;
use crate::phototaxis::RateGroups;
use engram::agent::{Agent, Brain, Buffers as AgentBuffers, Critic, Modulation};
use engram::env::{Environment, Feedback, Silence, WinnerTakeAll, one_hot_index};
use engram::hash::{Fnv64, StateHash, hash_rule_state};
use engram::neuron::{Lif, LifParams, LifState, Population, Synapses as Input};
use engram::num::{Fix, Frac, Rng, Scale};
use engram::objective::{Averaging, RewardPrediction, RewardPredictionParams};
use engram::projection::{Dense, SpikeProjection};
use engram::rule::{Pairing, Plastic, Rule, RuleParams, RuleStorage, Signals, WeightFormat};
use engram::{ConfigError, error::check_len};

/// Time step (ms).
pub const DT_MS: f32 = 1.0;
/// Most arms.
pub const MAX_ARMS: usize = 16;

/// The experiment's configuration (the host reads it from TOML; see the module docs for each part).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct Config {
    /// Seed of the cue spikes, arms, arm order, initial weights and rounding.
    pub seed: u64,
    /// Precision and bounds of the plastic cue→action weights (mV).
    pub weights: WeightFormat,
    /// Number of arms k (2..=16).
    pub arms: usize,
    /// Lowest arm's reward probability.
    pub p_low: f32,
    /// Highest arm's reward probability (the best arm; above `p_low`).
    pub p_high: f32,
    /// Cue cells.
    pub inputs: usize,
    /// LIF neurons per action group.
    pub group: usize,
    /// Cue cells' rate during a trial (Hz).
    pub input_hz: f32,
    /// Trial length = control period (ms = steps).
    pub trial_ms: u32,
    /// Decision window: the last `window_ms` steps of a trial are counted (1..=`trial_ms`).
    pub window_ms: u32,
    /// Mean initial weight (mV).
    pub w_init: f32,
    /// Initial weights are uniform in `w_init ± w_jitter` (mV).
    pub w_jitter: f32,
    /// Lateral inhibition per spike onto every neuron of the other groups (mV, ≥ 0).
    pub inhibition_mv: f32,
    /// STDP potentiation amplitude into the eligibility (mV).
    pub a_plus: f32,
    /// STDP depression amplitude into the eligibility (mV).
    pub a_minus: f32,
    /// STDP trace time constant τ± (ms).
    pub tau_stdp_ms: f32,
    /// Eligibility time constant τ_e (ms).
    pub tau_eligibility_ms: f32,
    /// Learning rate (per ms): `Δw = lr · 1 ms · δ · e`. 0 freezes the weights (the control).
    pub lr: f32,
    /// The critic's baseline rate per trial (`b ← b + rate·(r − b)`, in (0, 1)).
    pub baseline_rate: f32,
    /// The critic's baseline before the first trial (reward units; 0.5 = the mean payout of the
    /// default arms, so that early rewards are not all "better than expected").
    pub initial_baseline: f32,
}

impl Default for Config {
    /// The standard run: 4 arms at 0.2/0.4/0.6/0.8.
    fn default() -> Self {
        Config {
            seed: 1,
            weights: WeightFormat::new(16, 0.0, 6.0),
            arms: 4,
            p_low: 0.2,
            p_high: 0.8,
            inputs: 32,
            group: 8,
            input_hz: 40.0,
            trial_ms: 50,
            window_ms: 40,
            w_init: 3.0,
            w_jitter: 0.2,
            inhibition_mv: 4.0,
            a_plus: 0.1,
            a_minus: 0.08,
            tau_stdp_ms: 20.0,
            tau_eligibility_ms: 100.0,
            lr: 1.0,
            baseline_rate: 0.05,
            initial_baseline: 0.5,
        }
    }
}

impl Config {
    /// The configuration of the host ↔ chip check: the default (about 9.6 KiB of storage).
    pub fn check(seed: u64) -> Config {
        Config {
            seed,
            ..Config::default()
        }
    }

    /// Action neurons (`arms · group`).
    pub fn actions(&self) -> usize {
        self.arms * self.group
    }

    /// The rule (see the module docs).
    pub fn rule(&self) -> RuleParams {
        RuleParams::reward_modulated(
            RuleParams::pair_stdp(
                self.a_plus,
                self.a_minus,
                self.tau_stdp_ms,
                self.tau_stdp_ms,
                Pairing::AllToAll,
            ),
            self.tau_eligibility_ms,
            self.lr,
            1,
        )
    }

    /// The action neuron.
    pub fn neuron() -> LifParams {
        LifParams {
            tau_m_ms: 20.0,
            e_leak: -65.0,
            v_thresh: -50.0,
            v_reset: -65.0,
            refractory_ms: 2.0,
            tau_exc_ms: 5.0,
            tau_inh_ms: 10.0,
            bias: 0.0,
            synapses: Input::Current,
        }
    }

    /// The reward probability of arm `i` before shuffling: `p_low + i·(p_high − p_low)/(k − 1)`.
    pub fn level(&self, i: usize) -> f32 {
        self.p_low + (self.p_high - self.p_low) * i as f32 / (self.arms - 1).max(1) as f32
    }
}

/// Stream of the construction-time generator (arm order, then initial weights).
const INIT_STREAM: u64 = 0x00BA_4D17;
/// Stream of the world's own generator when the world runs apart from the agent ([`world`]).
pub const WORLD_STREAM: u64 = 0x00BA_4D18;

/// The arms of `cfg`, in the order its seed shuffles them (the first draws of `init`).
fn arms(cfg: &Config, init: &mut Rng) -> Result<Bandit, ConfigError> {
    let k = cfg.arms.clamp(2, MAX_ARMS);
    let mut order = [0usize; MAX_ARMS];
    for (i, o) in order.iter_mut().enumerate() {
        *o = i;
    }
    let order = order.get_mut(..k).unwrap_or_default();
    for i in (1..k).rev() {
        let j = init.below(i as u32 + 1) as usize;
        order.swap(i, j);
    }
    let mut p = [0.0f32; MAX_ARMS];
    for (q, &o) in p.iter_mut().zip(order.iter()) {
        *q = cfg.level(o);
    }
    Bandit::new(p.get(..k).unwrap_or_default())
}

/// The world of `cfg` on its own, as the host runs it in processor-in-the-loop (the board runs the
/// agent): the same arms as [`Network::new`] builds, and the generator the world draws from
/// (seeded from `cfg.seed`, stream [`WORLD_STREAM`]; the agent's generator is not shared).
pub fn world(cfg: &Config) -> Result<(Bandit, Rng), ConfigError> {
    let mut init = Rng::stream(cfg.seed, INIT_STREAM);
    Ok((arms(cfg, &mut init)?, Rng::stream(cfg.seed, WORLD_STREAM)))
}

/// The world: `k` Bernoulli arms. Observation: one channel, the constant cue 1. Action: one-hot over
/// the arms (the all-zero "no choice" pays 0). Every action ends the episode (one trial).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bandit {
    p: [Frac; MAX_ARMS],
    k: usize,
    best: usize,
    /// The arm chosen in the last trial.
    pub last_choice: Option<u16>,
    /// The last reward.
    pub last_reward: Fix,
}

impl Bandit {
    /// Arms with reward probabilities `p` (each in [0, 1], at most [`MAX_ARMS`], at least 2). The best
    /// arm is the first of the highest.
    pub fn new(p: &[f32]) -> Result<Bandit, ConfigError> {
        if !(2..=MAX_ARMS).contains(&p.len()) {
            return Err(ConfigError::Invalid {
                what: "bandit needs 2..=16 arms",
            });
        }
        let mut probs = [Frac::ZERO; MAX_ARMS];
        let mut best = 0;
        for (i, (q, &x)) in probs.iter_mut().zip(p).enumerate() {
            *q = Frac::from_f32("arm reward probability", x)?;
            if x > p.get(best).copied().unwrap_or(0.0) {
                best = i;
            }
        }
        Ok(Bandit {
            p: probs,
            k: p.len(),
            best,
            last_choice: None,
            last_reward: Fix::ZERO,
        })
    }

    /// The best arm.
    pub fn best(&self) -> usize {
        self.best
    }

    /// The arms' reward probabilities.
    pub fn probabilities(&self) -> &[Frac] {
        self.p.get(..self.k).unwrap_or_default()
    }
}

impl Environment for Bandit {
    fn observation_len(&self) -> usize {
        1
    }

    fn action_len(&self) -> usize {
        self.k
    }

    fn reset(&mut self, _rng: &mut Rng) {}

    fn observe(&self, obs: &mut [Fix]) {
        obs.fill(Fix::ONE);
    }

    /// Pays 1 with the chosen arm's probability (one [`Rng::bernoulli`] draw; none without a choice).
    fn act(&mut self, action: &[Fix], rng: &mut Rng) -> Feedback {
        let choice = one_hot_index(action).filter(|&c| c < self.k);
        self.last_choice = choice.map(|c| c as u16);
        let paid = choice
            .and_then(|c| self.p.get(c))
            .is_some_and(|&p| rng.bernoulli(p));
        self.last_reward = if paid { Fix::ONE } else { Fix::ZERO };
        Feedback {
            reward: self.last_reward,
            done: true,
        }
    }
}

impl StateHash for Bandit {
    fn hash_into(&self, h: &mut Fnv64) {
        self.probabilities().hash_into(h);
        self.last_choice.is_some().hash_into(h);
        self.last_choice.unwrap_or(0).hash_into(h);
        self.last_reward.hash_into(h);
    }
}

/// The brain: action groups, plastic cue→action weights, lateral inhibition (see the module docs).
#[derive(Debug)]
pub struct ActionNet<'a> {
    /// The action neurons, group-major (`arm · group + i`).
    pub pop: Population<'a, Lif>,
    /// Cue → action, plastic.
    pub input: Plastic<'a, i16, Dense<'a, i16>>,
    /// Action → action, static inhibition between groups.
    pub lateral: Dense<'a, i16>,
    n_in: usize,
    modulator: Fix,
}

impl Brain for ActionNet<'_> {
    fn input_len(&self) -> usize {
        self.n_in
    }

    fn output_len(&self) -> usize {
        self.pop.len()
    }

    fn step(&mut self, input: &[u16], _rng: &mut Rng) {
        let sig = Signals {
            modulator: self.modulator,
            ..Signals::NONE
        };
        self.lateral
            .propagate(self.pop.spikes.as_slice(), self.pop.inh);
        self.input.propagate(input, self.pop.exc, &sig);
        self.pop.step();
        self.input.learn(input, self.pop.spikes.as_slice(), &sig);
        self.modulator = Fix::ZERO;
    }

    fn output(&self) -> &[u16] {
        self.pop.spikes.as_slice()
    }

    fn modulate(&mut self, signal: Modulation) {
        self.modulator = signal.third_factor;
    }

    /// Neurons to rest, pending input and spikes cleared; weights, traces and eligibilities kept.
    fn reset(&mut self) {
        let rest = self.pop.model.rest_state();
        self.pop.state.fill(rest);
        self.pop.exc.fill(Fix::ZERO);
        self.pop.inh.fill(Fix::ZERO);
        self.pop.spikes.clear();
    }
}

/// Caller-provided storage; sizes from [`Config`]: `N = inputs`, `M = actions() = arms · group`,
/// `k = arms`.
#[derive(Debug)]
pub struct Storage<'a> {
    /// `M` neuron states.
    pub neurons: &'a mut [LifState],
    /// `M` excitatory inputs.
    pub exc: &'a mut [Fix],
    /// `M` inhibitory inputs.
    pub inh: &'a mut [Fix],
    /// `M` spike slots.
    pub spikes: &'a mut [u16],
    /// `N · M` cue→action weights.
    pub w_in: &'a mut [i16],
    /// `M` accumulators.
    pub acc_in: &'a mut [i32],
    /// `M · M` lateral weights.
    pub w_lat: &'a mut [i16],
    /// `M` accumulators.
    pub acc_lat: &'a mut [i32],
    /// `N` presynaptic STDP traces.
    pub pre_traces: &'a mut [Fix],
    /// `M` postsynaptic STDP traces.
    pub post_traces: &'a mut [Fix],
    /// `N · M` eligibilities.
    pub eligibility: &'a mut [Fix],
    /// 1 encoder probability.
    pub prob: &'a mut [Frac],
    /// `k` decoder counts.
    pub counts: &'a mut [u32],
    /// 1 observation.
    pub observation: &'a mut [Fix],
    /// `k` action values.
    pub action: &'a mut [Fix],
    /// `N` input spike slots.
    pub input_spikes: &'a mut [u16],
}

/// The loop's type.
pub type BanditAgent<'a> =
    Agent<'a, Bandit, ActionNet<'a>, RateGroups<'a>, WinnerTakeAll<'a>, RewardPrediction>;

/// What one trial ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trial {
    /// Trial index (0-based).
    pub index: u64,
    /// The chosen arm (`None`: no choice).
    pub choice: Option<u16>,
    /// The reward (0 or 1).
    pub reward: Fix,
    /// The chosen arm was the best one.
    pub best: bool,
}

/// The running experiment.
#[derive(Debug)]
pub struct Network<'a> {
    /// The closed loop (world, brain, encoder, decoder, critic).
    pub agent: BanditAgent<'a>,
    rng: Rng,
    trial_steps: u32,
    trials: u64,
    best_picks: u64,
    /// Bit i: the best arm was chosen i trials ago (bit 0: the last trial).
    recent: u64,
    last: Option<Trial>,
    /// [`crate::pil::model_hash`] of the configuration.
    pub(crate) model_hash: u64,
}

impl<'a> Network<'a> {
    /// Validates `cfg` and builds the experiment on `st`.
    pub fn new(cfg: &Config, st: Storage<'a>) -> Result<Network<'a>, ConfigError> {
        if !(2..=MAX_ARMS).contains(&cfg.arms) || cfg.group == 0 || cfg.inputs == 0 {
            return Err(ConfigError::Invalid {
                what: "bandit needs 2..=16 arms, a non-empty group and cue",
            });
        }
        let ok_p = |p: f32| p.is_finite() && (0.0..=1.0).contains(&p);
        if !(ok_p(cfg.p_low) && ok_p(cfg.p_high) && cfg.p_low < cfg.p_high) {
            return Err(ConfigError::Invalid {
                what: "arm probabilities need 0 <= p_low < p_high <= 1",
            });
        }
        if cfg.trial_ms == 0 || cfg.window_ms == 0 || cfg.window_ms > cfg.trial_ms {
            return Err(ConfigError::Invalid {
                what: "trial and window need 1 <= window_ms <= trial_ms",
            });
        }
        let nonneg = |what: &'static str, v: f32| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(ConfigError::OutOfRange { what, value: v })
            }
        };
        nonneg("lateral inhibition (mV, >= 0)", cfg.inhibition_mv)?;
        nonneg("learning rate (>= 0)", cfg.lr)?;
        nonneg("weight jitter (mV, >= 0)", cfg.w_jitter)?;
        nonneg("A+ (mV, >= 0)", cfg.a_plus)?;
        nonneg("A- (mV, >= 0)", cfg.a_minus)?;
        if !(cfg.baseline_rate.is_finite() && cfg.baseline_rate > 0.0 && cfg.baseline_rate < 1.0) {
            return Err(ConfigError::OutOfRange {
                what: "critic baseline rate (in (0, 1))",
                value: cfg.baseline_rate,
            });
        }
        let lo = cfg.w_init - cfg.w_jitter;
        let hi = cfg.w_init + cfg.w_jitter;
        if !(lo >= cfg.weights.w_min && hi <= cfg.weights.w_max) {
            return Err(ConfigError::OutOfRange {
                what: "initial weights w_init ± w_jitter (within the weight bounds)",
                value: cfg.w_init,
            });
        }
        let (n, m) = (cfg.inputs, cfg.actions());
        check_len("action neurons", m, st.neurons.len())?;
        check_len("cue->action weights", n * m, st.w_in.len())?;
        check_len("lateral weights", m * m, st.w_lat.len())?;
        check_len("lateral accumulators", m, st.acc_lat.len())?;
        check_len("encoder probabilities", 1, st.prob.len())?;

        // Construction-time generator: arm order, initial weights.
        let mut init = Rng::stream(cfg.seed, INIT_STREAM);
        let env = arms(cfg, &mut init)?;

        let fmt = cfg.weights;
        let scale = fmt.scale()?;
        let (rlo, rhi) = (scale.raw_from_f32(lo), scale.raw_from_f32(hi));
        let span = (rhi - rlo) as u32 + 1;
        for w in st.w_in.iter_mut() {
            *w = (rlo + init.below(span) as i32) as i16;
        }
        let lat_scale = Scale::for_max(cfg.inhibition_mv.max(1e-3), 16)?;
        let w_inh = -lat_scale.raw_from_f32(cfg.inhibition_mv);
        for (i, row) in st.w_lat.chunks_exact_mut(m).enumerate() {
            for (j, w) in row.iter_mut().enumerate() {
                *w = if i / cfg.group == j / cfg.group {
                    0
                } else {
                    w_inh as i16
                };
            }
        }
        let lif = Lif::new(Config::neuron(), DT_MS)?;
        st.neurons.fill(lif.rest_state());
        let pop = Population::new(lif, st.neurons, st.exc, st.inh, st.spikes)?;
        let rule = Rule::new::<i16>(&cfg.rule(), &fmt, scale, DT_MS)?;
        let input = Plastic::new(
            Dense::new(n, m, st.w_in, st.acc_in, scale)?,
            rule,
            RuleStorage {
                pre_traces: st.pre_traces,
                post_traces: st.post_traces,
                eligibility: st.eligibility,
                theta: &mut [],
            },
            cfg.seed ^ 0xB4,
        )?;
        let lateral = Dense::new(m, m, st.w_lat, st.acc_lat, lat_scale)?;
        let brain = ActionNet {
            pop,
            input,
            lateral,
            n_in: n,
            modulator: Fix::ZERO,
        };
        let encoder = RateGroups::new(n, cfg.input_hz, DT_MS, st.prob)?;
        let decoder = WinnerTakeAll::new(cfg.group, cfg.window_ms, Silence::Random, st.counts)?;
        let critic = RewardPrediction::new(
            RewardPredictionParams {
                baseline: Averaging::Rate {
                    alpha: cfg.baseline_rate,
                },
                initial_baseline: cfg.initial_baseline,
            },
            cfg.trial_ms as f32 * DT_MS,
        )?;
        let agent = Agent::new(
            env,
            brain,
            encoder,
            decoder,
            AgentBuffers {
                observation: st.observation,
                action: st.action,
                input_spikes: st.input_spikes,
            },
            cfg.trial_ms,
        )?
        .with_critic(critic);
        Ok(Network {
            agent,
            rng: Rng::new(cfg.seed),
            trial_steps: cfg.trial_ms,
            trials: 0,
            best_picks: 0,
            recent: 0,
            last: None,
            model_hash: crate::pil::model_hash("bandit", cfg),
        })
    }

    /// One 1-ms step of the loop.
    pub fn step(&mut self) {
        let report = self.agent.step(&mut self.rng);
        if let Some(fb) = report.feedback {
            let env = self.agent.env();
            let best = env.last_choice.is_some_and(|c| c as usize == env.best());
            self.last = Some(Trial {
                index: self.trials,
                choice: env.last_choice,
                reward: fb.reward,
                best,
            });
            self.trials += 1;
            self.best_picks += best as u64;
            self.recent = (self.recent << 1) | best as u64;
        }
    }

    /// Processor in the loop, board side: one step on `observation` from the host (the world is
    /// there; see [`Agent::step_remote`]). When [`Agent::awaiting_feedback`], the action is in
    /// `agent.action()`.
    pub fn step_remote(&mut self, observation: &[Fix]) -> engram::agent::StepReport {
        self.agent.step_remote(observation, &mut self.rng)
    }

    /// Processor in the loop: the host's answer to the last action ([`Agent::remote_feedback`]).
    /// The trial statistics are the host's (it knows the best arm); here only the count advances.
    pub fn remote_feedback(&mut self, fb: engram::env::Feedback) -> Option<Fix> {
        let r = self.agent.remote_feedback(fb);
        if r.is_some() {
            self.trials += 1;
        }
        r
    }

    /// Hash of the learned state: every part of [`Simulation::hash_parts`] but the world's
    /// (`bandit`) and the trial statistics (`stats`), which in processor-in-the-loop live on the host.
    pub fn learned_hash(&self) -> u64 {
        let mut h = Fnv64::new();
        self.hash_parts(&mut |name, part| {
            if name != "bandit" && name != "stats" {
                h.write_u64(part)
            }
        });
        h.finish()
    }

    /// Trials completed.
    pub fn trials(&self) -> u64 {
        self.trials
    }

    /// The last completed trial.
    pub fn last_trial(&self) -> Option<Trial> {
        self.last
    }

    /// Fraction of the last `min(64, trials)` trials that chose the best arm (0 before any trial).
    pub fn p_best(&self) -> f32 {
        let n = self.trials.min(64);
        if n == 0 {
            return 0.0;
        }
        let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
        (self.recent & mask).count_ones() as f32 / n as f32
    }

    /// Trials that chose the best arm, since the start.
    pub fn best_picks(&self) -> u64 {
        self.best_picks
    }

    /// The world.
    pub fn bandit(&self) -> &Bandit {
        self.agent.env()
    }

    /// The critic's running mean reward (the objective).
    pub fn objective(&self) -> f32 {
        self.agent.critic().value().to_num()
    }

    /// Mean cue→action weight of each arm's group (mV), into `out` (length ≥ arms). A report.
    pub fn group_weights(&self, out: &mut [f32]) {
        let brain = self.agent.brain();
        let proj = &brain.input.proj;
        let (n, m) = (proj.n_pre(), proj.n_post());
        let k = self.bandit().probabilities().len();
        let g = m / k.max(1);
        let scale = proj.scale();
        for (arm, o) in out.iter_mut().enumerate().take(k) {
            let mut sum = 0i64;
            for row in proj.weights().chunks_exact(m.max(1)) {
                for &w in row.get(arm * g..(arm + 1) * g).unwrap_or_default() {
                    sum += w as i64;
                }
            }
            *o = scale.to_f32(1) * sum as f32 / (n * g).max(1) as f32;
        }
    }

    /// Network steps per trial.
    pub fn trial_steps(&self) -> u32 {
        self.trial_steps
    }

    /// The spikes of the last step per population, for the host's recorder: `cue` and `actions`
    /// (group-major), each with its size.
    pub fn visit_spikes(&self, visit: &mut dyn FnMut(&'static str, usize, &[u16])) {
        let b = self.agent.brain();
        visit("cue", b.n_in, self.agent.input_spikes());
        visit("actions", b.pop.len(), b.pop.spikes.as_slice());
    }

    /// The metrics, in this fixed order: `objective` (the critic's running mean reward), `reward`
    /// (last trial), `choice` (last trial's arm, −1 for none), `best_arm`, `p_best` (fraction of
    /// the last 64 trials that chose it), `trials`. Floats: reports only.
    pub fn visit_metrics(&self, visit: &mut dyn FnMut(&'static str, f32)) {
        let t = self.last;
        visit("objective", self.objective());
        visit("reward", t.map_or(0.0, |t| t.reward.to_num()));
        visit(
            "choice",
            t.and_then(|t| t.choice).map_or(-1.0, |c| c as f32),
        );
        visit("best_arm", self.bandit().best() as f32);
        visit("p_best", self.p_best());
        visit("trials", self.trials as f32);
    }

    /// The plastic weights (mV) with their bounds: `cue->action`, row-major by cue cell.
    pub fn visit_weights(&self, visit: &mut WeightVisitor<'_>) {
        let p = &self.agent.brain().input;
        let scale = p.proj.scale();
        let (lo, hi) = p.rule().bounds();
        let mut it = p.proj.weights().iter().map(|&w| scale.to_f32(w as i32));
        visit("cue->action", (scale.to_f32(lo), scale.to_f32(hi)), &mut it);
    }
}

/// One trial is one episode; success = the best arm was chosen.
impl crate::Observe for Network<'_> {
    fn spikes(&self, visit: &mut dyn FnMut(&'static str, usize, &[u16])) {
        self.visit_spikes(visit);
    }

    fn metrics(&self, visit: &mut dyn FnMut(&'static str, f32)) {
        self.visit_metrics(visit);
    }

    fn weights(&self, visit: &mut WeightVisitor<'_>) {
        self.visit_weights(visit);
    }

    fn last_episode(&self) -> Option<crate::Episode> {
        self.last.map(|t| crate::Episode {
            index: t.index as u32,
            steps: self.trial_steps,
            reward: t.reward.to_num(),
            success: t.best,
        })
    }
}

impl Simulation for Network<'_> {
    fn step(&mut self) {
        Network::step(self);
    }

    fn steps(&self) -> u64 {
        self.agent.steps()
    }

    fn spike_count(&self) -> usize {
        self.agent.brain().pop.spikes.len()
    }

    fn spikes_hash(&self) -> u64 {
        self.agent.brain().pop.spikes.as_slice().state_hash()
    }

    /// Parts: `bandit` (probabilities, last choice and reward), `neurons`, `exc`, `inh`, `spikes`
    /// (the action population), `input.synapses` (weights, accumulators), `input.rule` (traces,
    /// eligibilities, rounding generator, tick phase), `lateral`, `modulator` (pending δ),
    /// `encoder` (the cue cells' probability), `decoder` (counts, last choice), `critic`
    /// (baseline, reward, δ), `agent` (step, episode, observation, action), `rng`, `stats`.
    fn hash_parts(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        let a = &self.agent;
        let b = a.brain();
        visit("bandit", a.env().state_hash());
        visit("neurons", (*b.pop.state).state_hash());
        visit("exc", (*b.pop.exc).state_hash());
        visit("inh", (*b.pop.inh).state_hash());
        visit("spikes", b.pop.spikes.as_slice().state_hash());
        visit("input.synapses", b.input.proj.state_hash());
        let mut h = Fnv64::new();
        hash_rule_state(&b.input, &mut h);
        visit("input.rule", h.finish());
        visit("lateral", b.lateral.state_hash());
        visit("modulator", b.modulator.state_hash());
        visit("encoder", a.encoder().probabilities().state_hash());
        let mut h = Fnv64::new();
        a.decoder().counts().hash_into(&mut h);
        let choice = a.decoder().choice();
        choice.is_some().hash_into(&mut h);
        choice.unwrap_or(0).hash_into(&mut h);
        visit("decoder", h.finish());
        visit("critic", a.critic().state_hash());
        let mut h = Fnv64::new();
        a.steps().hash_into(&mut h);
        a.episode().hash_into(&mut h);
        a.observation().hash_into(&mut h);
        a.action().hash_into(&mut h);
        visit("agent", h.finish());
        visit("rng", self.rng.state_hash());
        let mut h = Fnv64::new();
        self.trials.hash_into(&mut h);
        self.best_picks.hash_into(&mut h);
        self.recent.hash_into(&mut h);
        visit("stats", h.finish());
    }
}

/// Heap-owned storage for the host.
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct Buffers {
    neurons: Vec<LifState>,
    exc: Vec<Fix>,
    inh: Vec<Fix>,
    spikes: Vec<u16>,
    w_in: Vec<i16>,
    acc_in: Vec<i32>,
    w_lat: Vec<i16>,
    acc_lat: Vec<i32>,
    pre_traces: Vec<Fix>,
    post_traces: Vec<Fix>,
    eligibility: Vec<Fix>,
    prob: Vec<Frac>,
    counts: Vec<u32>,
    observation: Vec<Fix>,
    action: Vec<Fix>,
    input_spikes: Vec<u16>,
}

#[cfg(feature = "std")]
impl Buffers {
    /// Buffers sized for `cfg`.
    pub fn new(cfg: &Config) -> Buffers {
        let (n, m, k) = (cfg.inputs, cfg.actions(), cfg.arms);
        Buffers {
            neurons: vec![LifState::default(); m],
            exc: vec![Fix::ZERO; m],
            inh: vec![Fix::ZERO; m],
            spikes: vec![0; m],
            w_in: vec![0; n * m],
            acc_in: vec![0; m],
            w_lat: vec![0; m * m],
            acc_lat: vec![0; m],
            pre_traces: vec![Fix::ZERO; n],
            post_traces: vec![Fix::ZERO; m],
            eligibility: vec![Fix::ZERO; n * m],
            prob: vec![Frac::ZERO; 1],
            counts: vec![0; k],
            observation: vec![Fix::ZERO; 1],
            action: vec![Fix::ZERO; k],
            input_spikes: vec![0; n],
        }
    }

    /// The storage view for [`Network::new`].
    pub fn storage(&mut self) -> Storage<'_> {
        Storage {
            neurons: &mut self.neurons,
            exc: &mut self.exc,
            inh: &mut self.inh,
            spikes: &mut self.spikes,
            w_in: &mut self.w_in,
            acc_in: &mut self.acc_in,
            w_lat: &mut self.w_lat,
            acc_lat: &mut self.acc_lat,
            pre_traces: &mut self.pre_traces,
            post_traces: &mut self.post_traces,
            eligibility: &mut self.eligibility,
            prob: &mut self.prob,
            counts: &mut self.counts,
            observation: &mut self.observation,
            action: &mut self.action,
            input_spikes: &mut self.input_spikes,
        }
    }
}
