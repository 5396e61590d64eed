//! Hyperparameter sweeps: success rate and median final loss against one parameter, from the
//! same K starts at every value.

use super::batch::{Precision, Progress, Target};
use super::pace::{block_on, ends_paced};
use super::stats::{Outcome, summarize};
use crate::landscape::Surface;
use crate::optim::{Optimizer, ParamKind, ParamSpec};
use glam::DVec2;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepPoint {
    pub value: f64,
    pub success_rate: f64,
    pub median_loss: Option<f64>,
    pub diverged: usize,
}

/// `--range LO..HI`: finite, LO < HI.
pub fn parse_range(text: &str) -> Result<(f64, f64), String> {
    let Some((lo, hi)) = text.split_once("..") else {
        return Err(format!("--range expects LO..HI, got '{text}'"));
    };
    let lo = crate::setup::parse_numbers("--range", lo, 1)?[0];
    let hi = crate::setup::parse_numbers("--range", hi, 1)?[0];
    if lo >= hi {
        return Err(format!("--range needs LO < HI (got {lo}..{hi})"));
    }
    Ok((lo, hi))
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

/// The values a sweep of `spec` runs: [`grid`], rounded to whole numbers for a whole-number
/// parameter (a population size), where values that round alike are refused.
pub fn values(
    spec: &ParamSpec,
    lo: f64,
    hi: f64,
    points: usize,
    log: bool,
) -> Result<Vec<f64>, String> {
    let v = grid(lo, hi, points, log);
    if spec.kind != ParamKind::Count {
        return Ok(v);
    }
    let v: Vec<f64> = v.into_iter().map(f64::round).collect();
    if v.windows(2).any(|w| w[0] == w[1]) {
        return Err(format!(
            "{} takes whole numbers, and {points} points from {lo} to {hi} round to repeated values; ask for fewer --points",
            spec.name
        ));
    }
    Ok(v)
}

/// The numeric hyperparameter `param` of `optimizer` that a sweep varies, checked: the method
/// has it, it is a single number, and `lo` and `hi` are in its range.
pub fn sweep_param(
    optimizer: &Optimizer,
    param: &str,
    lo: f64,
    hi: f64,
) -> Result<&'static ParamSpec, String> {
    let mut probe = optimizer.clone();
    let params = probe.params();
    let Some(p) = params.iter().find(|p| p.spec.name == param) else {
        let names: Vec<&str> = params.iter().map(|p| p.spec.name).collect();
        return Err(format!(
            "method '{}' has no parameter '{param}' (it has: {})",
            optimizer.id,
            names.join(", ")
        ));
    };
    if !matches!(p.spec.kind, ParamKind::Num | ParamKind::Count) {
        return Err(format!("--param {param} is not a single number"));
    }
    p.spec.check(lo)?;
    p.spec.check(hi)?;
    Ok(p.spec)
}

/// Runs the sweep of the numeric parameter `param` over `values` (`progress` counts runs over
/// all values and can cancel it: then the error says so).
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
    progress: &Progress,
) -> Result<Vec<SweepPoint>, String> {
    block_on(sweep_paced(
        surface, optimizer, param, values, starts, steps, seed, target, precision, progress,
    ))
}

/// [`sweep`], pausing between slices of runs (see [`super::pace`]).
#[allow(clippy::too_many_arguments)]
pub async fn sweep_paced(
    surface: &Surface,
    optimizer: &Optimizer,
    param: &str,
    values: &[f64],
    starts: &[DVec2],
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
    progress: &Progress,
) -> Result<Vec<SweepPoint>, String> {
    let mut out = Vec::with_capacity(values.len());
    for &v in values {
        sweep_param(optimizer, param, v, v)?;
        let mut opt = optimizer.clone();
        super::tune::set_value(&mut opt, param, v)?;
        let ends = ends_paced(
            surface, &opt, starts, steps, seed, target, precision, progress,
        )
        .await
        .ok_or_else(|| "the sweep was cancelled before it finished".to_string())?;
        let s = summarize(ends.iter().map(Outcome::from), target);
        out.push(SweepPoint {
            value: v,
            success_rate: s.success_rate,
            median_loss: s.median_loss,
            diverged: s.diverged,
        });
    }
    Ok(out)
}

/// A chart of a sweep: success rate (blue, left axis, 0-100%) and the median final loss's gap
/// to the minimum on a log scale (orange, right axis) against the parameter `param` (log scale
/// when `log`), with `title` above, tick labels and a legend.
pub fn chart(
    rows: &[SweepPoint],
    log: bool,
    min_value: f64,
    param: &str,
    title: &str,
) -> image::RgbImage {
    use super::glyphs::{draw_dot, draw_line, draw_text, text_width};
    const BLUE: [u8; 3] = [30, 90, 200];
    const ORANGE: [u8; 3] = [220, 110, 10];
    const INK: [u8; 3] = [40, 40, 40];
    let (w, h) = (760i64, 420i64);
    let (left, right, top, bottom) = (64i64, 76i64, 44i64, 52i64);
    let mut img = image::RgbImage::from_pixel(w as u32, h as u32, image::Rgb([250, 250, 250]));
    let xs: Vec<f64> = rows
        .iter()
        .map(|r| if log { r.value.log10() } else { r.value })
        .collect();
    let (x0, x1) = (
        xs.iter().copied().fold(f64::INFINITY, f64::min),
        xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let span = if x1 > x0 { x1 - x0 } else { 1.0 };
    let px = |x: f64| left + ((x - x0) / span * (w - left - right) as f64).round() as i64;
    let py = |t: f64| h - bottom - (t.clamp(0.0, 1.0) * (h - top - bottom) as f64).round() as i64;
    // The title in large type if it fits, else small, else cut.
    let room = w - left - 8;
    let scale = if text_width(title, 2) <= room { 2 } else { 1 };
    let fits = (room / (6 * scale)) as usize;
    let title: String = if title.chars().count() > fits {
        title
            .chars()
            .take(fits.saturating_sub(3))
            .chain("...".chars())
            .collect()
    } else {
        title.to_string()
    };
    draw_text(&mut img, (left, 12), &title, scale, INK);
    // Grid and the left axis: success rate.
    for k in 0..=10 {
        let y = py(k as f64 / 10.0);
        draw_line(&mut img, (left, y), (w - right, y), [222, 222, 222]);
        if k % 2 == 0 {
            let label = format!("{}%", k * 10);
            draw_text(
                &mut img,
                (left - 8 - text_width(&label, 1), y - 3),
                &label,
                1,
                BLUE,
            );
        }
    }
    draw_line(
        &mut img,
        (left, py(0.0)),
        (w - right, py(0.0)),
        [60, 60, 60],
    );
    draw_line(&mut img, (left, py(0.0)), (left, py(1.0)), [60, 60, 60]);
    draw_line(
        &mut img,
        (w - right, py(0.0)),
        (w - right, py(1.0)),
        [60, 60, 60],
    );
    // The x axis: decades on a log scale, five values on a linear one.
    let ticks: Vec<(f64, String)> = if log {
        (x0.ceil() as i64..=x1.floor() as i64)
            .map(|e| (e as f64, format!("1e{e}")))
            .collect()
    } else {
        (0..=4)
            .map(|k| {
                let v = x0 + span * k as f64 / 4.0;
                (v, format!("{}", (v * 1e4).round() / 1e4))
            })
            .collect()
    };
    for (v, label) in &ticks {
        let x = px(*v);
        draw_line(&mut img, (x, py(0.0)), (x, py(0.0) + 4), [60, 60, 60]);
        draw_text(
            &mut img,
            (x - text_width(label, 1) / 2, py(0.0) + 9),
            label,
            1,
            INK,
        );
    }
    let axis = if log {
        format!("{param} (log scale)")
    } else {
        param.to_string()
    };
    draw_text(
        &mut img,
        ((left + w - right - text_width(&axis, 2)) / 2, h - 22),
        &axis,
        2,
        INK,
    );
    // The right axis: log10 of the median gap to the minimum.
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
    if g0.is_finite() {
        for k in 0..=4 {
            let t = k as f64 / 4.0;
            let label = format!("{:.1e}", 10f64.powf(g0 + t * gspan));
            draw_text(&mut img, (w - right + 8, py(t) - 3), &label, 1, ORANGE);
        }
    }
    // Legend.
    let (lx, ly) = (left + 12, top + 8);
    draw_line(&mut img, (lx, ly + 3), (lx + 18, ly + 3), BLUE);
    draw_text(&mut img, (lx + 24, ly), "success rate (left)", 1, BLUE);
    draw_line(&mut img, (lx, ly + 15), (lx + 18, ly + 15), ORANGE);
    draw_text(
        &mut img,
        (lx + 24, ly + 12),
        "median loss - minimum (right, log scale)",
        1,
        ORANGE,
    );
    let mut prev_s: Option<(i64, i64)> = None;
    let mut prev_g: Option<(i64, i64)> = None;
    for (i, r) in rows.iter().enumerate() {
        let s = (px(xs[i]), py(r.success_rate));
        if let Some(p) = prev_s {
            draw_line(&mut img, p, s, BLUE);
        }
        draw_dot(&mut img, s, BLUE);
        prev_s = Some(s);
        match gaps[i] {
            Some(g) => {
                let q = (px(xs[i]), py((g - g0) / gspan));
                if let Some(p) = prev_g {
                    draw_line(&mut img, p, q, ORANGE);
                }
                draw_dot(&mut img, q, ORANGE);
                prev_g = Some(q);
            }
            None => prev_g = None,
        }
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_swept_parameter_is_checked_once_for_all_callers() {
        let adam = Optimizer::by_id("adam").expect("a method");
        let lr = sweep_param(&adam, "lr", 1e-4, 1.0).expect("lr is a number");
        assert!(lr.log, "lr sweeps on a geometric grid");
        let e = sweep_param(&adam, "nope", 1e-4, 1.0).unwrap_err();
        assert!(
            e.contains("has no parameter 'nope'") && e.contains("lr"),
            "{e}"
        );
        let e = sweep_param(&adam, "betas", 0.1, 0.2).unwrap_err();
        assert!(e.contains("not a single number"), "{e}");
        assert!(
            sweep_param(&adam, "lr", -1.0, 1.0).is_err(),
            "out of its range"
        );
    }
}
