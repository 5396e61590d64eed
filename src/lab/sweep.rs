//! Hyperparameter sweeps: success rate and median final loss against one parameter, from the
//! same K starts at every value.

use super::batch::{Precision, Progress, Target, median, run_batch_with};
use crate::landscape::Surface;
use crate::optim::{Optimizer, ParamMut};
use glam::DVec2;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepPoint {
    pub value: f64,
    pub success_rate: f64,
    pub median_loss: Option<f64>,
    pub diverged: usize,
}

/// `points` values from `lo` to `hi`: geometric when `log`, else evenly spaced.
pub fn grid(lo: f64, hi: f64, points: usize, log: bool) -> Vec<f64> {
    if points <= 1 {
        return vec![lo];
    }
    (0..points)
        .map(|i| {
            let t = i as f64 / (points - 1) as f64;
            if log {
                10f64.powf(lo.log10() + t * (hi.log10() - lo.log10()))
            } else {
                lo + t * (hi - lo)
            }
        })
        .collect()
}

/// Runs the sweep of the numeric parameter `param` over `values`.
#[allow(clippy::too_many_arguments)]
pub fn sweep(
    surface: &Surface,
    optimizer: &Optimizer,
    param: &str,
    values: &[f64],
    starts: &[DVec2],
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
) -> Result<Vec<SweepPoint>, String> {
    let mut out = Vec::with_capacity(values.len());
    for &v in values {
        let mut opt = optimizer.clone();
        {
            let mut params = opt.params();
            let Some(p) = params.iter_mut().find(|p| p.spec.name == param) else {
                return Err(format!(
                    "method '{}' has no parameter '{param}'",
                    optimizer.id
                ));
            };
            p.spec.check(v)?;
            match &mut p.value {
                ParamMut::Num(x) => **x = v,
                _ => return Err(format!("--param {param} is not a single number")),
            }
        }
        let ends = run_batch_with(
            surface,
            &opt,
            starts,
            steps,
            seed,
            target,
            precision,
            &Progress::default(),
        )
        .unwrap_or_default();
        let losses: Vec<f64> = ends.iter().map(|e| e.loss).collect();
        out.push(SweepPoint {
            value: v,
            success_rate: ends.iter().filter(|e| e.succeeded(target)).count() as f64
                / ends.len().max(1) as f64,
            median_loss: median(&losses),
            diverged: ends
                .iter()
                .filter(|e| e.status == super::RunStatus::Diverged)
                .count(),
        });
    }
    Ok(out)
}

/// A chart of a sweep: success rate (blue, 0 at the bottom to 1 at the top) and the median
/// final loss's gap to the minimum on a log scale (orange, normalised to the plotted range)
/// against the parameter (log scale when `log`). Grid lines mark every tenth of the height.
pub fn chart(rows: &[SweepPoint], log: bool, min_value: f64) -> image::RgbImage {
    let (w, h, m) = (640u32, 360u32, 24i64);
    let mut img = image::RgbImage::from_pixel(w, h, image::Rgb([250, 250, 250]));
    let xs: Vec<f64> = rows
        .iter()
        .map(|r| if log { r.value.ln() } else { r.value })
        .collect();
    let (x0, x1) = (
        xs.iter().copied().fold(f64::INFINITY, f64::min),
        xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let span = if x1 > x0 { x1 - x0 } else { 1.0 };
    let px = |x: f64| m + ((x - x0) / span * (w as i64 - 2 * m) as f64) as i64;
    let py = |t: f64| h as i64 - m - (t.clamp(0.0, 1.0) * (h as i64 - 2 * m) as f64) as i64;
    for k in 0..=10 {
        let y = py(k as f64 / 10.0);
        draw_line(&mut img, (m, y), (w as i64 - m, y), [220, 220, 220]);
    }
    draw_line(
        &mut img,
        (m, py(0.0)),
        (w as i64 - m, py(0.0)),
        [60, 60, 60],
    );
    draw_line(&mut img, (m, py(0.0)), (m, py(1.0)), [60, 60, 60]);
    let gaps: Vec<Option<f64>> = rows
        .iter()
        .map(|r| r.median_loss.map(|l| (l - min_value).max(1e-16).log10()))
        .collect();
    let (g0, g1) = gaps
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |a, g| {
            (a.0.min(*g), a.1.max(*g))
        });
    let gspan = if g1 > g0 { g1 - g0 } else { 1.0 };
    let mut prev_s: Option<(i64, i64)> = None;
    let mut prev_g: Option<(i64, i64)> = None;
    for (i, r) in rows.iter().enumerate() {
        let s = (px(xs[i]), py(r.success_rate));
        if let Some(p) = prev_s {
            draw_line(&mut img, p, s, [30, 90, 200]);
        }
        draw_dot(&mut img, s, [30, 90, 200]);
        prev_s = Some(s);
        match gaps[i] {
            Some(g) => {
                let q = (px(xs[i]), py((g - g0) / gspan));
                if let Some(p) = prev_g {
                    draw_line(&mut img, p, q, [230, 120, 20]);
                }
                draw_dot(&mut img, q, [230, 120, 20]);
                prev_g = Some(q);
            }
            None => prev_g = None,
        }
    }
    img
}

fn draw_dot(img: &mut image::RgbImage, (x, y): (i64, i64), c: [u8; 3]) {
    for dy in -2..=2 {
        for dx in -2..=2 {
            put(img, x + dx, y + dy, c);
        }
    }
}

fn put(img: &mut image::RgbImage, x: i64, y: i64, c: [u8; 3]) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, image::Rgb(c));
    }
}

fn draw_line(img: &mut image::RgbImage, a: (i64, i64), b: (i64, i64), c: [u8; 3]) {
    let n = (b.0 - a.0).abs().max((b.1 - a.1).abs()).max(1);
    for i in 0..=n {
        let t = i as f64 / n as f64;
        let x = a.0 as f64 + t * (b.0 - a.0) as f64;
        let y = a.1 as f64 + t * (b.1 - a.1) as f64;
        put(img, x.round() as i64, y.round() as i64, c);
        put(img, x.round() as i64, y.round() as i64 + 1, c);
    }
}
