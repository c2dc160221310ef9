//! Puts the memory layout of the selected machine where cortex-m-rt's `link.x` finds it (as `memory.x`
//! in `OUT_DIR`, on the linker search path) and adds the link scripts (`link.x` from cortex-m-rt,
//! `defmt.x`).
//!
//! The layouts live in `memory/<machine>.x`, not as a `memory.x` in the crate root: the linker looks
//! in its working directory (the crate root) before the search path, so a root `memory.x` would
//! shadow the micro:bit layout.

use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let layout = if env::var_os("CARGO_FEATURE_MICROBIT").is_some() {
        "memory/microbit.x"
    } else {
        "memory/mps2-an386.x"
    };
    fs::copy(layout, out.join("memory.x")).expect("copy the memory layout");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-link-arg=--nmagic");
    println!("cargo:rustc-link-arg=-Tlink.x");
    println!("cargo:rustc-link-arg=-Tdefmt.x");
}
