//! # engram-lab — named experiments and simulated environments
//!
//! Each experiment is a module that declares its four parts — architecture, learning rule, objective,
//! environment — in its doc, builds itself on caller-provided storage (so a board can run it from
//! `static` arrays) and steps without allocating. With the `std` feature each also offers `Buffers`,
//! heap storage sized at run time for the host.
//!
//! | experiment | module | what it reproduces |
//! | --- | --- | --- |
//! | `izhikevich2003` | [`izhikevich2003`] | Izhikevich (2003): 1000 spiking neurons, irregular firing with alpha/gamma rhythms |
//! | `brette-cuba`, `brette-coba` | [`brette2007`] | Brette et al. (2007) benchmarks 2 and 1: 4000 LIF neurons, self-sustained asynchronous irregular activity |
//! | `pes` | [`pes`] | MacNeil & Eliasmith (2011), Nengo's PES: a spiking LIF ensemble learns decoders of x and x² online from zero |
//! | `eprop` | [`eprop`] | Bellec et al. (2020): e-prop trains a recurrent LIF network to generate a sum of sinusoids (symmetric and random feedback) |
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod brette2007;
pub mod eprop;
pub mod izhikevich2003;
pub mod pes;
