//! Spike-train analysis for reports and tests: rates, irregularity (CV of inter-spike intervals),
//! population rate and its power spectrum.

/// Every spike of a run, as (step, neuron) pairs in time order, for one population.
#[derive(Debug, Clone, Default)]
pub struct Raster {
    /// Neurons in the population.
    pub n: usize,
    /// Time step (ms).
    pub dt_ms: f64,
    /// Steps recorded.
    pub steps: u64,
    /// (step, neuron) of each spike.
    pub spikes: Vec<(u64, u16)>,
}

impl Raster {
    /// An empty raster for `n` neurons at time step `dt_ms`.
    pub fn new(n: usize, dt_ms: f64) -> Raster {
        Raster {
            n,
            dt_ms,
            steps: 0,
            spikes: Vec::new(),
        }
    }

    /// Records one step's spikes (indices relative to this population; `offset` is subtracted and
    /// indices outside `offset..offset + n` are skipped).
    pub fn record(&mut self, spikes: &[u16], offset: u16) {
        let hi = offset as usize + self.n;
        for &j in spikes {
            if (offset as usize..hi).contains(&(j as usize)) {
                self.spikes.push((self.steps, j - offset));
            }
        }
        self.steps += 1;
    }

    /// Spikes in steps `from..to`.
    fn window(&self, from: u64, to: u64) -> impl Iterator<Item = &(u64, u16)> {
        self.spikes
            .iter()
            .filter(move |(t, _)| (from..to).contains(t))
    }

    /// Mean firing rate (Hz) over steps `from..to`.
    pub fn rate_hz(&self, from: u64, to: u64) -> f64 {
        let secs = (to.saturating_sub(from)) as f64 * self.dt_ms / 1000.0;
        if secs <= 0.0 || self.n == 0 {
            return 0.0;
        }
        self.window(from, to).count() as f64 / (self.n as f64 * secs)
    }

    /// Mean over neurons (with at least 3 spikes) of the coefficient of variation of their ISIs in
    /// steps `from..to`: ≈0 for clock-like firing, ≈1 for Poisson. `None` if no neuron qualifies.
    pub fn mean_cv(&self, from: u64, to: u64) -> Option<f64> {
        let mut last = vec![None::<u64>; self.n];
        let mut isis: Vec<Vec<f64>> = vec![Vec::new(); self.n];
        for &(t, j) in self.window(from, to) {
            let j = j as usize;
            if let Some(prev) = last[j] {
                isis[j].push((t - prev) as f64);
            }
            last[j] = Some(t);
        }
        let cvs: Vec<f64> = isis
            .iter()
            .filter(|v| v.len() >= 2)
            .map(|v| {
                let m = v.iter().sum::<f64>() / v.len() as f64;
                let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64;
                var.sqrt() / m
            })
            .collect();
        (!cvs.is_empty()).then(|| cvs.iter().sum::<f64>() / cvs.len() as f64)
    }

    /// Fraction of neurons that spiked at least once in steps `from..to`.
    pub fn active_fraction(&self, from: u64, to: u64) -> f64 {
        let mut seen = vec![false; self.n];
        for &(_, j) in self.window(from, to) {
            seen[j as usize] = true;
        }
        seen.iter().filter(|&&s| s).count() as f64 / self.n.max(1) as f64
    }

    /// Population spike counts in bins of `bin_steps` over steps `from..to`.
    pub fn population_counts(&self, from: u64, to: u64, bin_steps: u64) -> Vec<f64> {
        let bins = ((to - from) / bin_steps) as usize;
        let mut c = vec![0.0; bins];
        for &(t, _) in self.window(from, to) {
            let b = ((t - from) / bin_steps) as usize;
            if b < bins {
                c[b] += 1.0;
            }
        }
        c
    }
}

/// Power of `signal` (mean removed, sampled every `dt_ms`) at each frequency in `freqs_hz`.
///
/// A direct DFT at the requested frequencies: reports and tests look at a few hundred frequencies of
/// a few thousand samples, where this is simpler than an FFT and fast enough.
pub fn power_spectrum(signal: &[f64], dt_ms: f64, freqs_hz: &[f64]) -> Vec<f64> {
    let n = signal.len().max(1) as f64;
    let mean = signal.iter().sum::<f64>() / n;
    freqs_hz
        .iter()
        .map(|&f| {
            let w = 2.0 * std::f64::consts::PI * f * dt_ms / 1000.0;
            let (mut re, mut im) = (0.0, 0.0);
            for (k, &x) in signal.iter().enumerate() {
                let (s, c) = (w * k as f64).sin_cos();
                re += (x - mean) * c;
                im += (x - mean) * s;
            }
            (re * re + im * im) / n
        })
        .collect()
}

/// Ratio of the largest power in `band` to the mean power in `reference` (both in Hz, 1-Hz grid),
/// and the frequency of that peak: a measure of rhythmicity.
pub fn band_peak(
    signal: &[f64],
    dt_ms: f64,
    band: (f64, f64),
    reference: (f64, f64),
) -> (f64, f64) {
    let grid =
        |(lo, hi): (f64, f64)| -> Vec<f64> { (lo as i64..=hi as i64).map(|f| f as f64).collect() };
    let fb = grid(band);
    let pb = power_spectrum(signal, dt_ms, &fb);
    let pr = power_spectrum(signal, dt_ms, &grid(reference));
    let mean_ref = pr.iter().sum::<f64>() / pr.len().max(1) as f64;
    let (i, peak) = pb.iter().enumerate().fold(
        (0, 0.0),
        |acc, (i, &p)| if p > acc.1 { (i, p) } else { acc },
    );
    (
        peak / mean_ref.max(f64::MIN_POSITIVE),
        fb.get(i).copied().unwrap_or(0.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_and_cv_of_known_trains() {
        let mut r = Raster::new(2, 1.0);
        for t in 0..1000u64 {
            // neuron 0 fires every 10 ms, neuron 1 never
            let s: &[u16] = if t % 10 == 0 { &[0] } else { &[] };
            r.record(s, 0);
        }
        assert!((r.rate_hz(0, 1000) - 50.0).abs() < 1e-9); // 100 spikes / 2 neurons / 1 s
        assert!(r.mean_cv(0, 1000).unwrap() < 1e-12);
        assert_eq!(r.active_fraction(0, 1000), 0.5);
    }

    #[test]
    fn spectrum_finds_a_sine() {
        let s: Vec<f64> = (0..2000)
            .map(|k| (2.0 * std::f64::consts::PI * 40.0 * k as f64 / 1000.0).sin())
            .collect();
        let (ratio, f) = band_peak(&s, 1.0, (5.0, 100.0), (150.0, 450.0));
        assert_eq!(f, 40.0);
        assert!(ratio > 1e3);
    }
}
