//! Cross-crate tests of engram: published experiments reproduced on the fixed-point core (host).
//!
//! Each file in `tests/` reproduces one publication and asserts its published outcome with a stated
//! tolerance. Analysis helpers (rates, CV, spectra) come from `engram_sim::analysis`.
