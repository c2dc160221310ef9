//! `pattern-in-noise` (Masquelier, Guyonneau & Thorpe 2008).

use engram_lab::pattern_in_noise::{Buffers, Config, Network, Stats};

fn run(cfg: &Config, seconds: u64, block_s: u64) -> Vec<Stats> {
    let mut buf = Buffers::new(cfg);
    let mut net = Network::new(cfg, buf.storage()).unwrap();
    let per = (block_s as f32 * 1000.0 / cfg.dt_ms) as u64;
    (0..seconds / block_s)
        .map(|_| {
            for _ in 0..per {
                net.step();
            }
            net.take_stats()
        })
        .collect()
}

#[test]
fn explore() {
    let n: usize = std::env::var("PN_N").map(|v| v.parse().unwrap()).unwrap_or(1000);
    let secs: u64 = std::env::var("PN_S").map(|v| v.parse().unwrap()).unwrap_or(150);
    let mut cfg = Config::scaled(n);
    if let Ok(v) = std::env::var("PN_TH") { cfg.threshold = v.parse().unwrap(); }
    if let Ok(v) = std::env::var("PN_RESET") { cfg.reset = v.parse().unwrap(); }
    if let Ok(v) = std::env::var("PN_SEED") { cfg.seed = v.parse().unwrap(); }
    if let Ok(v) = std::env::var("PN_LEARN") { cfg.learning = v == "1"; }
    let t = std::time::Instant::now();
    let blk: u64 = std::env::var("PN_B").map(|v| v.parse().unwrap()).unwrap_or(10);
    let st = run(&cfg, secs, blk);
    eprintln!("{:?}", t.elapsed());
    for (k, s) in st.iter().enumerate() {
        eprintln!("{:4}s hit {:.2} fa {:.2} Hz lat {:.1} ms ({} pres)", (k as u64 + 1) * blk, s.hit_rate(), s.false_alarm_hz(1.0), s.mean_latency_steps(), s.presentations);
    }
}
