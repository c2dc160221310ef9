//! The bandit agent's storage at `engram_lab::bandit::Config::check` sizes (32 cue cells → 4 arms ×
//! 8 action neurons), one `static`, shared by the `bandit` (world on the chip) and `pil` (world on
//! the host) programs.

use engram::Fix;
use engram::neuron::LifState;
use engram::num::Frac;
use engram_lab::bandit::Storage;
use static_cell::ConstStaticCell;

/// Cue cells.
pub const N: usize = 32;
/// Action neurons (4 arms × 8).
pub const M: usize = 32;
/// Arms.
pub const K: usize = 4;

struct Store {
    neurons: [LifState; M],
    exc: [Fix; M],
    inh: [Fix; M],
    spikes: [u16; M],
    w_in: [i16; N * M],
    acc_in: [i32; M],
    w_lat: [i16; M * M],
    acc_lat: [i32; M],
    pre_traces: [Fix; N],
    post_traces: [Fix; M],
    eligibility: [Fix; N * M],
    prob: [Frac; 1],
    counts: [u32; K],
    observation: [Fix; 1],
    action: [Fix; K],
    input_spikes: [u16; N],
}

static STORE: ConstStaticCell<Store> = ConstStaticCell::new(Store {
    neurons: [crate::LIF_ZERO; M],
    exc: [Fix::ZERO; M],
    inh: [Fix::ZERO; M],
    spikes: [0; M],
    w_in: [0; N * M],
    acc_in: [0; M],
    w_lat: [0; M * M],
    acc_lat: [0; M],
    pre_traces: [Fix::ZERO; N],
    post_traces: [Fix::ZERO; M],
    eligibility: [Fix::ZERO; N * M],
    prob: [Frac::ZERO; 1],
    counts: [0; K],
    observation: [Fix::ZERO; 1],
    action: [Fix::ZERO; K],
    input_spikes: [0; N],
});

/// The storage (once per program: a second call fails with a configuration error).
pub fn storage() -> Storage<'static> {
    let s = STORE
        .try_take()
        .unwrap_or_else(|| crate::fail("bandit storage taken twice"));
    Storage {
        neurons: &mut s.neurons,
        exc: &mut s.exc,
        inh: &mut s.inh,
        spikes: &mut s.spikes,
        w_in: &mut s.w_in,
        acc_in: &mut s.acc_in,
        w_lat: &mut s.w_lat,
        acc_lat: &mut s.acc_lat,
        pre_traces: &mut s.pre_traces,
        post_traces: &mut s.post_traces,
        eligibility: &mut s.eligibility,
        prob: &mut s.prob,
        counts: &mut s.counts,
        observation: &mut s.observation,
        action: &mut s.action,
        input_spikes: &mut s.input_spikes,
    }
}
