//! # engram-sim — the host simulator behind the `engram` command
//!
//! | module | what lives there |
//! | --- | --- |
//! | [`experiments`] | the named experiments and how each is run on the host (storage from `Vec`s, rasters recorded) |
//! | [`analysis`] | spike-train analysis: rates, CV of ISIs, population spectra |
//!
//! The models themselves live in `engram` (core) and `engram-lab` (experiments): the simulator only
//! allocates their storage, drives them, records and reports.

pub mod analysis;
pub mod experiments;
