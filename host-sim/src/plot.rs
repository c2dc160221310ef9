//! Plots (PNG and SVG, plotters) drawn from the files of a run or sweep folder, so `engram plot DIR`
//! redraws them any time:
//!
//! - `raster`: spikes of every population in the last second of `spikes.csv` (at most 50 000 points,
//!   evenly thinned);
//! - `objective`: the `objective` metric over time (the learning curve), with `reward` if reported;
//! - `metrics`: every metric and population rate over time, one panel each;
//! - `weights-<projection>`: the weight histogram at each snapshot of `weights.csv`, one line each;
//! - `trajectory`: the path of `x, y` and the places of `light_x, light_y` in the first and the last
//!   tenth of the run, when the metrics include them;
//! - `episodes`: episode lengths (and rewards) from `episodes.csv`, when present;
//! - in a sweep folder, `sweep`: every point's learning curve (its `objective`, or its first metric)
//!   in one figure, labelled with its grid values.

use crate::config::{Error, io};
use crate::sweep;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Writes `<stem>.png` and `<stem>.svg` in `dir`, drawn by `body` (an expression of `Result<(),
/// String>` using `root`, expanded once per backend: a closure cannot be generic over the backend).
macro_rules! figure {
    ($dir:expr, $stem:expr, $files:expr, $height:expr, |$root:ident| $body:expr) => {{
        let size = (960u32, ($height as u32).clamp(300, 2400));
        let png = $dir.join(format!("{}.png", $stem));
        {
            let area = BitMapBackend::new(&png, size).into_drawing_area();
            area.fill(&WHITE).map_err(plot_err)?;
            let $root = &area;
            #[allow(clippy::redundant_closure_call)] // the closure gives `?` in `$body` a scope
            let r: Result<(), String> = (|| $body)();
            r.map_err(plot_err)?;
            area.present().map_err(plot_err)?;
        }
        let svg = $dir.join(format!("{}.svg", $stem));
        {
            let area = SVGBackend::new(&svg, size).into_drawing_area();
            area.fill(&WHITE).map_err(plot_err)?;
            let $root = &area;
            #[allow(clippy::redundant_closure_call)] // the closure gives `?` in `$body` a scope
            let r: Result<(), String> = (|| $body)();
            r.map_err(plot_err)?;
            area.present().map_err(plot_err)?;
        }
        $files.push(png);
        $files.push(svg);
        Ok::<(), Error>(())
    }};
}

type Series = (String, Vec<(f64, f64)>);

/// Weight snapshots of one projection: `(t_ms as written, weights)`, in time order.
type Snapshots = Vec<(String, Vec<f64>)>;

/// A CSV file of our own (header, comma-separated, no quoting).
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn read(path: &Path) -> Result<Option<Table>, Error> {
        if !path.exists() {
            return Ok(None);
        }
        let text = io(
            || format!("cannot read {}", path.display()),
            std::fs::read_to_string(path),
        )?;
        let mut lines = text.lines();
        let header = lines
            .next()
            .unwrap_or_default()
            .split(',')
            .map(String::from)
            .collect();
        let rows = lines
            .map(|l| l.split(',').map(String::from).collect())
            .collect();
        Ok(Some(Table { header, rows }))
    }

    fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    fn num(row: &[String], i: usize) -> Option<f64> {
        row.get(i)?.parse().ok()
    }

    /// `(x, y)` of two columns, rows where both are numbers.
    fn xy(&self, x: usize, y: usize) -> Vec<(f64, f64)> {
        self.rows
            .iter()
            .filter_map(|r| Some((Self::num(r, x)?, Self::num(r, y)?)))
            .filter(|(a, b)| a.is_finite() && b.is_finite())
            .collect()
    }
}

fn plot_err(e: impl std::fmt::Display) -> Error {
    Error::Usage(format!("drawing failed: {e}"))
}

/// Draws every plot `dir` has data for; returns the files written.
pub fn plot(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    if !dir.is_dir() {
        return Err(Error::Usage(format!("{} is not a folder", dir.display())));
    }
    let mut files = vec![];
    if dir.join("sweep.json").exists() {
        plot_sweep(dir, &mut files)?;
        return Ok(files);
    }
    if let Some(t) = Table::read(&dir.join("metrics.csv"))? {
        plot_metrics(dir, &t, &mut files)?;
    }
    if let Some(t) = Table::read(&dir.join("spikes.csv"))? {
        plot_raster(dir, &t, &mut files)?;
    }
    if let Some(t) = Table::read(&dir.join("weights.csv"))? {
        plot_weights(dir, &t, &mut files)?;
    }
    if let Some(t) = Table::read(&dir.join("episodes.csv"))? {
        let (Some(i), Some(s)) = (t.col("index"), t.col("steps")) else {
            return Ok(files);
        };
        let mut panels = vec![(
            "episode length (steps)".to_string(),
            vec![("steps".to_string(), t.xy(i, s))],
        )];
        if let Some(r) = t.col("reward") {
            panels.push((
                "reward".to_string(),
                vec![("reward".to_string(), t.xy(i, r))],
            ));
        }
        figure!(
            dir,
            "episodes",
            &mut files,
            360 * panels.len() as u32,
            |root| { draw_panels(root, &panels, "episode") }
        )?;
    }
    Ok(files)
}

fn range(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in vals.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        let pad = lo.abs().max(1.0) * 0.05;
        return (lo - pad, hi + pad);
    }
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

/// One chart of line series on `area`.
fn draw_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    xlabel: &str,
    series: &[Series],
) -> Result<(), String> {
    draw_lines_marked(area, title, xlabel, series, false)
}

/// [`draw_lines`], with a dot at the end of each series if `mark_ends` (where a path finished; a
/// series that never moves is only that dot).
fn draw_lines_marked<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    xlabel: &str,
    series: &[Series],
    mark_ends: bool,
) -> Result<(), String> {
    let (x0, x1) = range(series.iter().flat_map(|s| s.1.iter().map(|p| p.0)));
    let (y0, y1) = range(series.iter().flat_map(|s| s.1.iter().map(|p| p.1)));
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(8)
        .x_label_area_size(32)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(xlabel)
        .draw()
        .map_err(|e| e.to_string())?;
    let n = series.len().max(1);
    for (k, (name, pts)) in series.iter().enumerate() {
        let color = Palette99::pick(k).to_rgba();
        let c2 = color;
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c2.stroke_width(2)));
        if mark_ends && let Some(&end) = pts.last() {
            chart
                .draw_series(std::iter::once(Circle::new(end, 5, color.filled())))
                .map_err(|e| e.to_string())?;
        }
    }
    if n > 1 || series.first().is_none_or(|s| s.0 != title) {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A vehicle's path (line, starting point marked) and the places of the light (dots) in arena
/// coordinates.
fn draw_path<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    path: &[(f64, f64)],
    lights: &[(f64, f64)],
) -> Result<(), String> {
    let all = || path.iter().chain(lights);
    let (x0, x1) = range(all().map(|p| p.0));
    let (y0, y1) = range(all().map(|p| p.1));
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(32)
        .y_label_area_size(48)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("x (m)")
        .y_desc("y (m)")
        .draw()
        .map_err(|e| e.to_string())?;
    let vehicle = Palette99::pick(0).to_rgba();
    let light = Palette99::pick(1).to_rgba();
    chart
        .draw_series(LineSeries::new(
            path.iter().copied(),
            vehicle.stroke_width(1),
        ))
        .map_err(|e| e.to_string())?
        .label("vehicle")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], vehicle.stroke_width(2)));
    chart
        .draw_series(lights.iter().map(|&p| Circle::new(p, 6, light.filled())))
        .map_err(|e| e.to_string())?
        .label("light")
        .legend(move |(x, y)| Circle::new((x + 8, y), 5, light.filled()));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn draw_panels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    panels: &[(String, Vec<Series>)],
    xlabel: &str,
) -> Result<(), String> {
    let areas = root.split_evenly((panels.len().max(1), 1));
    for (area, (title, series)) in areas.iter().zip(panels) {
        draw_lines(area, title, xlabel, series)?;
    }
    Ok(())
}

fn plot_metrics(dir: &Path, t: &Table, files: &mut Vec<PathBuf>) -> Result<(), Error> {
    let Some(x) = t.col("t_ms") else {
        return Ok(());
    };
    let col = |name: &str| t.col(name).map(|i| (name.to_string(), t.xy(x, i)));
    if let Some(obj) = col("objective") {
        let mut panels = vec![("objective".to_string(), vec![obj])];
        if let Some(r) = col("reward") {
            panels.push(("reward".to_string(), vec![r]));
        }
        figure!(dir, "objective", files, 360 * panels.len() as u32, |root| {
            draw_panels(root, &panels, "t (ms)")
        })?;
    }
    let mut panels: Vec<(String, Vec<Series>)> = vec![];
    let rates: Vec<Series> = t
        .header
        .iter()
        .filter(|h| h.starts_with("rate_"))
        .filter_map(|h| col(h))
        .collect();
    for h in t.header.iter().skip(1) {
        if !h.starts_with("rate_") && !h.starts_with("w_") {
            panels.extend(col(h).map(|s| (h.clone(), vec![s])));
        }
    }
    if !rates.is_empty() {
        panels.push(("population rates (Hz)".into(), rates));
    }
    let means: Vec<Series> = t
        .header
        .iter()
        .filter(|h| h.starts_with("w_") && h.ends_with("_mean"))
        .filter_map(|h| col(h))
        .collect();
    if !means.is_empty() {
        panels.push(("mean weights".into(), means));
    }
    panels.truncate(8);
    if !panels.is_empty() {
        figure!(dir, "metrics", files, 240 * panels.len() as u32, |root| {
            draw_panels(root, &panels, "t (ms)")
        })?;
    }
    if let (Some(px), Some(py), Some(lx), Some(ly)) =
        (col("x"), col("y"), col("light_x"), col("light_y"))
    {
        // Two panels: the first and the last tenth of the run (before and after learning), the
        // vehicle's path as a line, the light's places as dots.
        let n = px.1.len();
        let k = (n / 10).max(1);
        let pick = |s: &Series, r: std::ops::Range<usize>| -> Vec<f64> {
            s.1.get(r).unwrap_or(&[]).iter().map(|p| p.1).collect()
        };
        let panel = |r: std::ops::Range<usize>| {
            let path: Vec<(f64, f64)> = pick(&px, r.clone())
                .into_iter()
                .zip(pick(&py, r.clone()))
                .collect();
            let mut lights: Vec<(f64, f64)> =
                pick(&lx, r.clone()).into_iter().zip(pick(&ly, r)).collect();
            lights.dedup();
            (path, lights)
        };
        let before = panel(0..k.min(n));
        let after = panel(n.saturating_sub(k)..n);
        let t_end = px.1.last().map_or(0.0, |p| p.0);
        let titles = [
            format!("first tenth of the run (t < {:.0} s)", t_end / 10_000.0),
            format!("last tenth of the run (t > {:.0} s)", t_end * 0.9 / 1000.0),
        ];
        figure!(dir, "trajectory", files, 520, |root| {
            let areas = root.split_evenly((1, 2));
            for (area, ((path, lights), title)) in
                areas.iter().zip([&before, &after].into_iter().zip(&titles))
            {
                draw_path(area, title, path, lights)?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

fn plot_raster(dir: &Path, t: &Table, files: &mut Vec<PathBuf>) -> Result<(), Error> {
    let (Some(ti), Some(pi), Some(ni)) = (t.col("t_ms"), t.col("population"), t.col("neuron"))
    else {
        return Ok(());
    };
    if t.rows.is_empty() {
        return Ok(());
    }
    // Populations stacked in order of first appearance, each as tall as its largest index seen.
    let mut order: Vec<(String, f64)> = vec![];
    for r in &t.rows {
        let (Some(p), Some(n)) = (r.get(pi), Table::num(r, ni)) else {
            continue;
        };
        match order.iter_mut().find(|(q, _)| q == p) {
            Some((_, m)) => *m = m.max(n + 1.0),
            None => order.push((p.clone(), n + 1.0)),
        }
    }
    let mut offset = BTreeMap::new();
    let mut acc = 0.0;
    for (p, size) in &order {
        offset.insert(p.clone(), acc);
        acc += size;
    }
    // The last second recorded, at most 50 000 points (evenly thinned): a readable raster, and an
    // SVG of a few MB at most.
    let t_end = t
        .rows
        .iter()
        .filter_map(|r| Table::num(r, ti))
        .fold(0.0, f64::max);
    let shown = |r: &&Vec<String>| Table::num(r, ti).is_some_and(|x| x > t_end - 1000.0);
    let step = (t.rows.iter().filter(shown).count() / 50_000).max(1);
    let mut by_pop: Vec<Series> = order.iter().map(|(p, _)| (p.clone(), vec![])).collect();
    for r in t.rows.iter().filter(shown).step_by(step) {
        let (Some(p), Some(x), Some(n)) = (r.get(pi), Table::num(r, ti), Table::num(r, ni)) else {
            continue;
        };
        if let Some(k) = order.iter().position(|(q, _)| q == p) {
            by_pop[k].1.push((x, n + offset[p]));
        }
    }
    let (x0, x1) = range(by_pop.iter().flat_map(|s| s.1.iter().map(|p| p.0)));
    figure!(dir, "raster", files, 600, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("spike raster", ("sans-serif", 18))
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(64)
            .build_cartesian_2d(x0..x1, 0.0..acc.max(1.0))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("t (ms)")
            .y_desc("neuron")
            .draw()
            .map_err(|e| e.to_string())?;
        for (k, (name, pts)) in by_pop.iter().enumerate() {
            let color = Palette99::pick(k).to_rgba();
            chart
                .draw_series(pts.iter().map(|&p| {
                    Rectangle::new([p, (p.0 + (x1 - x0) / 1500.0, p.1 + 0.8)], color.filled())
                }))
                .map_err(|e| e.to_string())?
                .label(name.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 8, y + 4)], color.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())
    })
}

fn plot_weights(dir: &Path, t: &Table, files: &mut Vec<PathBuf>) -> Result<(), Error> {
    let (Some(ti), Some(pi), Some(wi)) = (t.col("t_ms"), t.col("projection"), t.col("weight"))
    else {
        return Ok(());
    };
    // projection → snapshot time (as text, in order) → weights
    let mut data: Vec<(String, Snapshots)> = vec![];
    for r in &t.rows {
        let (Some(p), Some(tt), Some(w)) = (r.get(pi), r.get(ti), Table::num(r, wi)) else {
            continue;
        };
        let k = match data.iter().position(|(q, _)| q == p) {
            Some(k) => k,
            None => {
                data.push((p.clone(), vec![]));
                data.len() - 1
            }
        };
        let snaps = &mut data[k].1;
        match snaps.last_mut() {
            Some((s, ws)) if s == tt => ws.push(w),
            _ => snaps.push((tt.clone(), vec![w])),
        }
    }
    for (proj, snaps) in &data {
        let (lo, hi) = range(snaps.iter().flat_map(|s| s.1.iter().copied()));
        const BINS: usize = 40;
        let width = (hi - lo) / BINS as f64;
        let series: Vec<Series> = snaps
            .iter()
            .map(|(tt, ws)| {
                let mut h = [0usize; BINS];
                for w in ws {
                    let b = (((w - lo) / width) as usize).min(BINS - 1);
                    h[b] += 1;
                }
                let n = ws.len().max(1) as f64;
                let pts = h
                    .iter()
                    .enumerate()
                    .map(|(b, &c)| (lo + (b as f64 + 0.5) * width, c as f64 / n))
                    .collect();
                (format!("t = {tt} ms"), pts)
            })
            .collect();
        figure!(dir, &format!("weights-{proj}"), files, 500, |root| {
            draw_lines(
                root,
                &format!("weight histogram over time: {proj} (fraction per bin)"),
                "weight",
                &series,
            )
        })?;
    }
    Ok(())
}

fn plot_sweep(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), Error> {
    let m = sweep::manifest(dir)?;
    let Some(t) = Table::read(&dir.join("sweep.csv"))? else {
        return Ok(());
    };
    let mut series = vec![];
    let mut metric_name = String::from("objective");
    for r in &t.rows {
        let Some(i) = r.first().and_then(|x| x.parse::<usize>().ok()) else {
            continue;
        };
        let label: Vec<String> = m
            .grid
            .axes
            .iter()
            .zip(r.iter().skip(1))
            .map(|(a, v)| format!("{}={v}", a.key))
            .collect();
        let Some(mt) = Table::read(&dir.join(format!("point-{i:04}")).join("metrics.csv"))? else {
            continue;
        };
        let Some(x) = mt.col("t_ms") else { continue };
        let y = match mt.col("objective") {
            Some(y) => y,
            None if mt.header.len() > 1 => {
                metric_name = mt.header[1].clone();
                1
            }
            None => continue,
        };
        series.push((label.join(" "), mt.xy(x, y)));
    }
    if series.is_empty() {
        return Ok(());
    }
    let title = format!("{}: {metric_name} per sweep point", m.experiment);
    figure!(dir, "sweep", files, 600, |root| {
        draw_lines(root, &title, "t (ms)", &series)
    })
}
