//! # engram-sim — the host simulator behind the `engram` command
//!
//! | module | what lives there |
//! | --- | --- |
//! | [`experiments`] | the named experiments: descriptions, four parts, default configurations, how each is built on the host |
//! | [`config`] | configurations from TOML files and `--set key=value` over an experiment's defaults |
//! | [`record`] | one recorded run: the step loop, CSV/JSON outputs, progress, Ctrl-C |
//! | [`sweep`] | grids of runs in parallel, shards and their merge |
//! | [`soak`] | long runs that check invariants (bounds, finite objectives, no silent network) |
//! | [`pil`] | processor in the loop: the world on the host, the agent on a board (QEMU, serial, TCP, in-process), over engram-link |
//! | [`plot`] | the plots (PNG + SVG) drawn from a run's or sweep's files |
//! | [`analysis`] | spike-train analysis: rates, CV of ISIs, population spectra |
//!
//! The models themselves live in `engram` (core) and `engram-lab` (experiments): the simulator only
//! allocates their storage, drives them, records and reports.

pub mod analysis;
pub mod config;
pub mod experiments;
pub mod pil;
pub mod plot;
pub mod record;
pub mod soak;
pub mod sweep;
