//! engram-board (docs to come)
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod actuator;
pub mod checkpoint;
pub mod control;
pub mod sensor;
pub mod sim_flash;

pub use checkpoint::{CheckpointError, CheckpointStore, Region, Restored, Seq};
pub use sim_flash::{SimFlash, SimFlashError};
