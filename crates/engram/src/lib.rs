//! # engram — the core
//!
//! A `no_std`, allocation-free, fixed-point runtime for brain-inspired learning on microcontrollers.
//! Following Richards et al. (2019), a model is an **architecture** (populations and projections), a
//! **learning rule** and an **objective function**, anchored by an **environment**. This crate holds
//! the parts that run in the step loop; the same code runs on the host (`engram-sim`) and on boards.
//!
//! ## Map
//! | module | what lives there |
//! | --- | --- |
//! | [`num`] | the fixed-point vocabulary: [`num::Fix`] (Q16.16 state), [`num::Frac`] (decay factors), narrow weights with a per-projection [`num::Scale`], rounding modes, lookup tables, the seeded [`num::Rng`] |
//! | [`neuron`] | neuron models (LIF current/conductance, adaptive LIF, Izhikevich 2003, rate units) and [`neuron::Population`], which owns a model's state, its input and its spikes |
//! | [`trace`] | exponential traces (impulse, τ): pre/post synaptic traces and eligibility traces |
//! | [`rule`] | local learning rules as typed data (terms over traces, rates, a per-neuron signal and a broadcast modulator) and the one applier, [`rule::Plastic`], fused into propagation; presets with each paper's parameters |
//! | [`projection`] | connections: dense, sparse (CSR, `u16` indices), 1-D/2-D convolution, axonal delays |
//! | [`objective`] | objective functions: a value to log and the signal the rules read — reward-prediction error, a dopamine-like [`objective::Neuromodulator`], squared and reconstruction errors, rate target, sparsity, variance |
//! | [`env`](mod@env) | the [`env::Environment`] trait, encoders (Poisson rate, population coding) and decoders (rate, winner-take-all) |
//! | [`agent`] | the closed loop observe → encode → step → decode → act at a fixed time step |
//! | [`error`] | [`ConfigError`]: every constructor validates once; the step path then has no error cases |
//!
//! ## Contracts
//! - **Storage comes from the caller.** Models borrow slices (`&mut [T]`), so a board passes `static`
//!   arrays and the host passes `Vec`s sized at run time. Nothing here allocates.
//! - **Validate once, then the loop is total.** Constructors return [`ConfigError`]; `step` functions do
//!   not panic (they iterate with zips, never index out of bounds) and saturate rather than wrap
//!   (each module documents its overflow policy).
//! - **Same code, same bits.** No floats in the step path; floats are converted at construction, with
//!   rounding to nearest, by functions that give the same bits on every target. Time (`dt`, step counts)
//!   and randomness ([`num::Rng`], explicitly seeded) are passed in; nothing reads a clock.
//!
//! ## Features
//! - `defmt`: `defmt::Format` for errors and reports (firmware logging).
//! - `std`: float reference models for tests and reports (host only; never in the step path).
//!
//! MSRV: Rust 1.93 (from `fixed` 1.31).
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod agent;
pub mod env;
pub mod error;
pub mod neuron;
pub mod num;
pub mod objective;
pub mod projection;
pub mod rule;
pub mod trace;

pub use error::ConfigError;
pub use num::{Fix, Frac, Rng, Scale};
