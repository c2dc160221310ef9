//! The single-neuron firing classes of Izhikevich (2003), Fig. 2, reproduced with the fixed-point
//! model (and, as a cross-check, with its `f64` reference).
//!
//! Protocol, as in the paper: a neuron starts at `v = −65`, `u = b·v`, receives no input for 50 ms
//! (it settles to rest and must stay silent), then a step current `I = 10` for 400 ms. Each class is
//! recognised from its spike train by criteria that only use interspike intervals (ISIs):
//!
//! - a **burst end** is an ISI more than 3× the one before it (a pause after fast spikes);
//! - the **steady ISI** is the mean of the last five ISIs; the **adaptation ratio** is steady ISI /
//!   first ISI; the **steady rate** is 1000 / steady ISI (Hz).
//!
//! | class | criterion |
//! | --- | --- |
//! | CH, chattering | ≥ 3 burst ends (repetitive bursts); bimodal ISIs: short ones (< ⅓ of the longest) at least twice as many as long ones; long ≥ 5× the median short |
//! | IB, intrinsically bursting | exactly one burst end, after ≥ 2 short ISIs (an initial burst of ≥ 3 spikes); every later ISI ≥ 3× the longest burst ISI, and regular (steady part within ±20 %) |
//! | RS, regular spiking | no burst end; steady rate < 40 Hz; adaptation ratio ≥ 1.5 (later ISIs clearly longer than the first) |
//! | LTS, low-threshold spiking | no burst end; steady rate ≥ 40 Hz and ≥ 2× RS; adaptation ratio ≥ 3 |
//! | FS, fast spiking | no burst end; steady rate ≥ 3× RS; adaptation ratio < 2.5 |
//!
//! Measured (python prototype of the same scheme, and these tests): RS adapts 1.9–2.3× to ~21 Hz;
//! FS 1.4–2.0× to 88–130 Hz; LTS 4.0–4.5× to 62–74 Hz; IB fires a 3-spike burst (ISIs 2.5–4 and
//! 4.6–9 ms) then ~31 Hz; CH fires bursts of 3–6 spikes every ~50 ms. The criteria hold at every time
//! step from 1 ms (the paper's) down to 0.1 ms, so they describe the model, not a step-size artefact.

use engram::Fix;
use engram::neuron::reference::{IzhRefNeuron, IzhikevichRef, ReferenceModel};
use engram::neuron::{Izhikevich, IzhikevichParams, NeuronModel};

const ONSET_MS: f32 = 50.0;
const END_MS: f32 = 450.0;
const I_STEP: f64 = 10.0;
const DTS: [f32; 4] = [1.0, 0.5, 0.25, 0.1];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Rs,
    Ib,
    Ch,
    Fs,
    Lts,
}

const PRESETS: [(Class, IzhikevichParams); 5] = [
    (Class::Rs, IzhikevichParams::regular_spiking()),
    (Class::Ib, IzhikevichParams::intrinsically_bursting()),
    (Class::Ch, IzhikevichParams::chattering()),
    (Class::Fs, IzhikevichParams::fast_spiking()),
    (Class::Lts, IzhikevichParams::low_threshold_spiking()),
];

/// Spike times (ms, end of the spiking step) of the fixed-point model under the step protocol.
fn run_fixed(p: &IzhikevichParams, dt: f32) -> Vec<f64> {
    let m = Izhikevich::new(dt).unwrap();
    let mut s = p.neuron().unwrap();
    let i_on = Fix::from_num(I_STEP);
    run(dt, |on| {
        m.step(&mut s, if on { i_on } else { Fix::ZERO }, Fix::ZERO)
    })
}

/// The same with the `f64` reference.
fn run_reference(p: &IzhikevichParams, dt: f32) -> Vec<f64> {
    let m = IzhikevichRef::new(dt).unwrap();
    let mut s = IzhRefNeuron::new(p).unwrap();
    run(dt, |on| m.step(&mut s, if on { I_STEP } else { 0.0 }, 0.0))
}

fn run(dt: f32, mut step: impl FnMut(bool) -> bool) -> Vec<f64> {
    let onset = (ONSET_MS / dt).round() as u32;
    let end = (END_MS / dt).round() as u32;
    (0..end)
        .filter(|&k| step(k >= onset))
        .map(|k| (k + 1) as f64 * dt as f64)
        .collect()
}

/// ISI features of a spike train (see the module doc).
#[derive(Debug)]
struct Pattern {
    spikes: usize,
    isi: Vec<f64>,
    /// Indices `k` (into `isi`) with `isi[k] > 3·isi[k-1]`.
    burst_ends: Vec<usize>,
    steady_isi: f64,
    adaptation: f64,
    steady_rate_hz: f64,
}

impl Pattern {
    fn of(times: &[f64]) -> Pattern {
        let isi: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(isi.len() >= 6, "too few spikes: {times:?}");
        let burst_ends = (1..isi.len())
            .filter(|&k| isi[k] > 3.0 * isi[k - 1])
            .collect();
        let steady_isi = isi[isi.len() - 5..].iter().sum::<f64>() / 5.0;
        Pattern {
            spikes: times.len(),
            burst_ends,
            steady_isi,
            adaptation: steady_isi / isi[0],
            steady_rate_hz: 1000.0 / steady_isi,
            isi,
        }
    }

    /// The class by the table of the module doc, `None` if no row fits. `rs_rate` is the steady rate
    /// of the RS neuron under the same protocol and time step.
    fn classify(&self, rs_rate: f64) -> Option<Class> {
        match self.burst_ends.len() {
            n if n >= 3 => Some(Class::Ch),
            1 => Some(Class::Ib),
            0 if self.steady_rate_hz < 40.0 && self.adaptation >= 1.5 => Some(Class::Rs),
            0 if self.steady_rate_hz >= (2.0 * rs_rate).max(40.0) && self.adaptation >= 3.0 => {
                Some(Class::Lts)
            }
            0 if self.steady_rate_hz >= 3.0 * rs_rate && self.adaptation < 2.5 => Some(Class::Fs),
            _ => None,
        }
    }
}

fn check_class_details(class: Class, pat: &Pattern, label: &str) {
    let isi = &pat.isi;
    match class {
        Class::Rs => {
            // Tonic with adaptation: the ISIs never shorten by more than one step's rounding.
            for w in isi.windows(2) {
                assert!(
                    w[1] >= w[0] - 1.0 - 1e-9,
                    "{label}: RS ISI shortened {isi:?}"
                );
            }
        }
        Class::Ib => {
            let k = pat.burst_ends[0];
            assert!(k >= 2, "{label}: IB burst must have ≥ 3 spikes: {isi:?}");
            let burst_max = isi[..k].iter().cloned().fold(0.0, f64::max);
            let tonic = &isi[k..];
            assert!(tonic.len() >= 5, "{label}: {isi:?}");
            assert!(
                tonic.iter().all(|&x| x >= 3.0 * burst_max),
                "{label}: IB tonic ISIs not much longer than the burst: {isi:?}"
            );
            let steady = &tonic[1..];
            let (lo, hi) = steady
                .iter()
                .fold((f64::MAX, 0.0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
            assert!(
                hi <= 1.2 * pat.steady_isi && lo >= 0.8 * pat.steady_isi,
                "{label}: IB tonic part irregular: {isi:?}"
            );
        }
        Class::Ch => {
            let long = isi.iter().cloned().fold(0.0, f64::max);
            let mut short: Vec<f64> = isi.iter().cloned().filter(|&x| x < long / 3.0).collect();
            let n_long = isi.len() - short.len();
            assert!(
                short.len() >= 2 * n_long,
                "{label}: CH short ISIs {} vs long {n_long}: {isi:?}",
                short.len()
            );
            short.sort_by(f64::total_cmp);
            let median_short = short[short.len() / 2];
            // the long (inter-burst) ISIs, i.e. those ending a burst, are all ≥ 5× the median short one
            for &k in &pat.burst_ends {
                assert!(
                    isi[k] >= 5.0 * median_short,
                    "{label}: CH not bimodal: {isi:?}"
                );
            }
        }
        Class::Fs | Class::Lts => {}
    }
}

#[test]
fn fig2_classes_are_distinguished_by_their_spike_patterns() {
    for dt in DTS {
        for (which, run_model) in [
            ("fixed", run_fixed as fn(&IzhikevichParams, f32) -> Vec<f64>),
            ("f64 reference", run_reference),
        ] {
            let rs_rate =
                Pattern::of(&run_model(&IzhikevichParams::regular_spiking(), dt)).steady_rate_hz;
            for (class, p) in PRESETS {
                let label = format!("{which}, dt {dt} ms, {class:?}");
                let times = run_model(&p, dt);
                // silent at rest before the step
                assert!(
                    times.iter().all(|&t| t > ONSET_MS as f64),
                    "{label}: spiked before the input: {times:?}"
                );
                let pat = Pattern::of(&times);
                println!(
                    "{label}: {} spikes, steady {:.1} Hz, adaptation {:.2}, burst ends {:?}, ISIs {:?}",
                    pat.spikes,
                    pat.steady_rate_hz,
                    pat.adaptation,
                    pat.burst_ends,
                    &pat.isi[..pat.isi.len().min(12)]
                );
                assert_eq!(pat.classify(rs_rate), Some(class), "{label}: {pat:?}");
                check_class_details(class, &pat, &label);
            }
        }
    }
}

/// Time (ms after the onset) of the first spike whose partner in the other train is more than one
/// step away, or the end of the protocol if the trains agree throughout.
fn agreement_ms(a: &[f64], b: &[f64], dt: f32) -> f64 {
    let first_bad = a
        .iter()
        .zip(b)
        .find(|(x, y)| (*x - *y).abs() > dt as f64 + 1e-9)
        .map(|(x, y)| x.min(*y));
    let end = if a.len() == b.len() {
        END_MS as f64
    } else {
        // the shorter train ran out: agreement up to its last spike
        a.len()
            .min(b.len())
            .checked_sub(1)
            .map_or(ONSET_MS as f64, |i| a[i].min(b[i]))
    };
    first_bad.unwrap_or(end) - ONSET_MS as f64
}

/// The fixed-point spike trains agree with the `f64` reference: in number (±1) over the whole
/// protocol, and spike for spike within one step for at least the stated time after the onset, for
/// each class at dt = 1 ms (the paper's step) and 0.5 ms.
///
/// FS is the exception in timing: at I = 10 its trajectory passes slowly near the ghost of the
/// saddle-node (the rest state that vanished), where a difference in the last bit of the state shifts
/// the next spike by a step; the two trains then drift apart in phase while keeping the same rate.
/// Measured agreement: RS, IB, CH the whole 400 ms at both steps; LTS 400 / 251 ms and FS 262 / 55 ms
/// at dt = 1 / 0.5 ms.
#[test]
fn fixed_point_spike_trains_match_the_reference() {
    for dt in [1.0f32, 0.5] {
        for (class, p) in PRESETS {
            let (a, b) = (run_fixed(&p, dt), run_reference(&p, dt));
            let agree = agreement_ms(&a, &b, dt);
            println!(
                "{class:?} dt {dt}: {} vs {} spikes, agree for {agree} ms",
                a.len(),
                b.len()
            );
            assert!(
                a.len().abs_diff(b.len()) <= 1,
                "{class:?} dt {dt}: {a:?} vs {b:?}"
            );
            let need = if class == Class::Fs { 40.0 } else { 150.0 };
            assert!(agree >= need, "{class:?} dt {dt}: {a:?} vs {b:?}");
        }
    }
}
