//! Phase maps: the success rate and the ERT of one method over a grid of two of its
//! hyperparameters (learning rate x momentum, beta1 x beta2, ...), every cell from the same
//! starts.

use super::batch::{Precision, Progress, Target};
use super::pace::{block_on, ends_paced};
use super::stats::{Outcome, Runtime, ert, summarize};
use super::tune::{get_value, set_value};
use crate::landscape::Surface;
use crate::optim::{Optimizer, ParamKind};
use glam::DVec2;
use serde::Serialize;

/// Most values per axis.
pub const MAX_POINTS: usize = 256;

/// One axis of a phase map: a hyperparameter (`beta1`, `beta2` for the two `betas`) and its
/// values.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhaseAxis {
    pub name: String,
    pub lo: f64,
    pub hi: f64,
    pub points: usize,
    pub log: bool,
    /// A whole-number parameter (a population size): the grid's values rounded, each once.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub whole: bool,
}

impl PhaseAxis {
    /// `NAME=LO..HI` for `opt`, checked: the method has the parameter, both ends are in its
    /// range, a log axis has positive ends, `points` is 1..=[`MAX_POINTS`]. `what` names the
    /// option in messages.
    pub fn parse(
        what: &str,
        opt: &Optimizer,
        text: &str,
        points: usize,
        log: bool,
    ) -> Result<Self, String> {
        let Some((name, range)) = text.split_once('=') else {
            return Err(format!(
                "{what} expects NAME=LO..HI (e.g. lr=1e-3..1), got '{text}'"
            ));
        };
        let Some((lo, hi)) = range.split_once("..") else {
            return Err(format!(
                "{what} expects NAME=LO..HI (e.g. lr=1e-3..1), got '{text}'"
            ));
        };
        let num = |t: &str| match t.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(format!("{what}: '{}' is not a finite number", t.trim())),
        };
        let (name, lo, hi) = (name.trim().to_string(), num(lo)?, num(hi)?);
        if !(1..=MAX_POINTS).contains(&points) {
            return Err(format!(
                "{what}: the number of points must be between 1 and {MAX_POINTS} (got {points})"
            ));
        }
        if lo > hi {
            return Err(format!("{what}: LO must not exceed HI (got {lo}..{hi})"));
        }
        if log && lo <= 0.0 {
            return Err(format!("{what}: a log axis needs LO > 0 (got {lo})"));
        }
        let mut probe = opt.clone();
        for v in [lo, hi] {
            set_value(&mut probe, &name, v).map_err(|e| format!("{what}: {e}"))?;
        }
        let whole = probe
            .params()
            .iter()
            .any(|p| p.spec.name == name && p.spec.kind == ParamKind::Count);
        let axis = Self {
            name,
            lo,
            hi,
            points,
            log,
            whole,
        };
        if whole {
            let v = axis.values();
            if v.windows(2).any(|w| w[0] == w[1]) {
                return Err(format!(
                    "{what}: {} takes whole numbers, and {points} {} points from {lo} to {hi} round to repeated values; ask for fewer points{}",
                    axis.name,
                    if log { "geometric" } else { "even" },
                    if log { " or a linear axis" } else { "" }
                ));
            }
        }
        Ok(axis)
    }

    /// The axis's values, low to high (rounded to whole numbers on a whole-number axis).
    pub fn values(&self) -> Vec<f64> {
        let v = super::sweep::grid(self.lo, self.hi, self.points, self.log);
        if self.whole {
            v.into_iter().map(f64::round).collect()
        } else {
            v
        }
    }
}

/// One cell of a phase map.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PhaseCell {
    pub x_value: f64,
    pub y_value: f64,
    pub success_rate: f64,
    pub ert: Option<f64>,
}

/// `--points PxQ`: the grid's columns and rows, each 1..=[`MAX_POINTS`].
pub fn parse_grid(what: &str, text: &str) -> Result<(usize, usize), String> {
    let bad = || {
        format!(
            "{what} expects PxQ with P and Q between 1 and {MAX_POINTS} (e.g. 16x16), got '{text}'"
        )
    };
    let (p, q) = text.trim().split_once(['x', 'X']).ok_or_else(bad)?;
    let n = |t: &str| {
        t.trim()
            .parse::<usize>()
            .ok()
            .filter(|v| (1..=MAX_POINTS).contains(v))
    };
    Ok((n(p).ok_or_else(bad)?, n(q).ok_or_else(bad)?))
}

/// The horizontal axis when none is given: the learning rate, spaced geometrically.
pub const DEFAULT_X: &str = "lr=1e-3..1";

/// A map's two axes for `opt`, checked as every phase map takes them (`phase`, `train --y`,
/// Python): the grid `PxQ` (named `grid_flag` in messages), `x` (absent: [`DEFAULT_X`],
/// geometric) and `y`, never the same parameter twice.
pub fn axes(
    opt: &Optimizer,
    x: Option<&str>,
    y: &str,
    grid_flag: &str,
    grid: &str,
    log_x: bool,
    log_y: bool,
) -> Result<(PhaseAxis, PhaseAxis), String> {
    let (p, q) = parse_grid(grid_flag, grid)?;
    let x = PhaseAxis::parse("--x", opt, x.unwrap_or(DEFAULT_X), p, log_x || x.is_none())?;
    let y = PhaseAxis::parse("--y", opt, y, q, log_y)?;
    if x.name == y.name {
        return Err(format!("--x and --y name the same parameter '{}'", x.name));
    }
    Ok((x, y))
}

/// The map, `x` varying fastest (row `j` is `y.values()[j]`); cells' ERTs in updates, or in
/// evaluations with a gradient costing `C` when `ert_cost` is `Some(C)`. `None` when cancelled.
#[allow(clippy::too_many_arguments)]
pub fn phase(
    surface: &Surface,
    optimizer: &Optimizer,
    x: &PhaseAxis,
    y: &PhaseAxis,
    starts: &[DVec2],
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
    ert_cost: Option<u64>,
    progress: &Progress,
) -> Result<Option<Vec<PhaseCell>>, String> {
    block_on(phase_paced(
        surface, optimizer, x, y, starts, steps, seed, target, precision, ert_cost, progress,
    ))
}

/// [`phase`], pausing between slices of runs (see [`super::pace`]).
#[allow(clippy::too_many_arguments)]
pub async fn phase_paced(
    surface: &Surface,
    optimizer: &Optimizer,
    x: &PhaseAxis,
    y: &PhaseAxis,
    starts: &[DVec2],
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
    ert_cost: Option<u64>,
    progress: &Progress,
) -> Result<Option<Vec<PhaseCell>>, String> {
    let mut out = Vec::with_capacity(x.points * y.points);
    for &yv in &y.values() {
        for &xv in &x.values() {
            let mut opt = optimizer.clone();
            set_value(&mut opt, &y.name, yv)?;
            set_value(&mut opt, &x.name, xv)?;
            let Some(ends) = ends_paced(
                surface, &opt, starts, steps, seed, target, precision, progress,
            )
            .await
            else {
                return Ok(None);
            };
            // What the map shows, and nothing more (no intervals: they are not drawn).
            let summary = summarize(ends.iter().map(Outcome::from), target);
            let runtimes: Vec<Runtime> = match ert_cost {
                Some(c) => ends.iter().map(|e| Runtime::in_evals(e, c)).collect(),
                None => ends.iter().map(Runtime::from).collect(),
            };
            out.push(PhaseCell {
                x_value: get_value(&opt, &x.name).unwrap_or(xv),
                y_value: get_value(&opt, &y.name).unwrap_or(yv),
                success_rate: summary.success_rate,
                ert: ert(&runtimes),
            });
        }
    }
    Ok(Some(out))
}

/// A color for a success rate in 0..=1: dark blue through teal and green to yellow (the
/// perceptually even viridis map, by five of its stops).
pub fn rate_color(t: f64) -> [u8; 3] {
    const STOPS: [[f64; 3]; 5] = [
        [68.0, 1.0, 84.0],
        [59.0, 82.0, 139.0],
        [33.0, 145.0, 140.0],
        [94.0, 201.0, 98.0],
        [253.0, 231.0, 37.0],
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let f = t * 4.0;
    let i = (f.floor() as usize).min(3);
    let u = f - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    [0, 1, 2].map(|k| (a[k] + u * (b[k] - a[k])).round() as u8)
}

/// The heatmap of success rates: cells colored by [`rate_color`] over 0 to the map's highest
/// rate (a map whose best cell succeeds 14% of the time still shows its structure), axes
/// labelled with the parameters' names and values, a color bar labelled in rates, `title`
/// above.
pub fn heatmap(cells: &[PhaseCell], x: &PhaseAxis, y: &PhaseAxis, title: &str) -> image::RgbImage {
    use super::glyphs::{draw_line, draw_text, fill_rect, text_width};
    const BG: [u8; 3] = [250, 250, 250];
    const INK: [u8; 3] = [40, 40, 40];
    let (w, h) = (760i64, 600i64);
    let (left, right, top, bottom) = (86i64, 120i64, 44i64, 64i64);
    let mut img = image::RgbImage::from_pixel(w as u32, h as u32, image::Rgb(BG));
    draw_text(&mut img, (left, 12), title, 2, INK);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let (nx, ny) = (x.points.max(1) as i64, y.points.max(1) as i64);
    let top_rate = cells.iter().map(|c| c.success_rate).fold(0.0, f64::max);
    let vmax = if top_rate > 0.0 { top_rate } else { 1.0 };
    for (k, c) in cells.iter().enumerate() {
        let (i, j) = (k as i64 % nx, k as i64 / nx);
        let (x0, x1) = (left + i * pw / nx, left + (i + 1) * pw / nx);
        // Row 0 (the lowest y) at the bottom.
        let (y0, y1) = (top + ph - (j + 1) * ph / ny, top + ph - j * ph / ny);
        fill_rect(
            &mut img,
            (x0, y0),
            (x1, y1),
            rate_color(c.success_rate / vmax),
        );
    }
    draw_line(&mut img, (left, top + ph), (left + pw, top + ph), INK);
    draw_line(&mut img, (left, top), (left, top + ph), INK);
    let label = |v: f64| {
        if v != 0.0 && (v.abs() < 1e-2 || v.abs() >= 1e4) {
            format!("{v:.1e}")
        } else {
            format!("{}", (v * 1e4).round() / 1e4)
        }
    };
    // Up to five ticks per axis, at cell centres.
    let ticks = |n: i64| -> Vec<i64> {
        let k = n.min(5);
        if k <= 1 {
            return vec![0];
        }
        (0..k).map(|t| t * (n - 1) / (k - 1)).collect()
    };
    let xs = x.values();
    for i in ticks(nx) {
        let cx = left + (2 * i + 1) * pw / (2 * nx);
        draw_line(&mut img, (cx, top + ph), (cx, top + ph + 4), INK);
        let t = label(xs[i as usize]);
        draw_text(
            &mut img,
            (cx - text_width(&t, 1) / 2, top + ph + 9),
            &t,
            1,
            INK,
        );
    }
    let ys = y.values();
    for j in ticks(ny) {
        let cy = top + ph - (2 * j + 1) * ph / (2 * ny);
        draw_line(&mut img, (left - 4, cy), (left, cy), INK);
        let t = label(ys[j as usize]);
        draw_text(&mut img, (left - 8 - text_width(&t, 1), cy - 3), &t, 1, INK);
    }
    let scale = |a: &PhaseAxis| {
        if a.log {
            format!("{} (log scale)", a.name)
        } else {
            a.name.clone()
        }
    };
    let xl = scale(x);
    draw_text(
        &mut img,
        (left + (pw - text_width(&xl, 2)) / 2, h - 30),
        &xl,
        2,
        INK,
    );
    draw_text(&mut img, (4, top - 14), &scale(y), 1, INK);
    // The color bar.
    let (bx, bw) = (w - right + 28, 18);
    for k in 0..ph {
        let t = 1.0 - k as f64 / (ph - 1) as f64;
        fill_rect(
            &mut img,
            (bx, top + k),
            (bx + bw, top + k + 1),
            rate_color(t),
        );
    }
    for k in 0..=4 {
        let y = top + ph - k * ph / 4;
        let t = format!("{:.1}%", 100.0 * vmax * k as f64 / 4.0);
        draw_text(&mut img, (bx + bw + 6, y - 3), &t, 1, INK);
    }
    draw_text(&mut img, (bx - 6, top + ph + 9), "success", 1, INK);
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_are_checked_against_the_method() {
        let adam = Optimizer::by_id("adam").unwrap();
        let a = PhaseAxis::parse("--x", &adam, "lr=1e-3..1", 8, true).unwrap();
        assert_eq!(a.values().len(), 8);
        assert!(PhaseAxis::parse("--y", &adam, "beta1=0..0.99", 4, false).is_ok());
        for (text, points, log, needle) in [
            (
                "momentum=0..0.9",
                4,
                false,
                "no numeric hyperparameter 'momentum'",
            ),
            ("beta2=0..1", 4, false, "beta2"),
            ("lr=0..1", 4, true, "log axis"),
            ("lr=1..0.1", 4, false, "LO must not exceed HI"),
            ("lr=1e-3..1", 0, false, "between 1 and"),
            ("lr=1e-3..1", 100_000, false, "between 1 and"),
            ("lr 1..2", 4, false, "NAME=LO..HI"),
            ("lr=nan..1", 4, false, "not a finite number"),
        ] {
            let e = PhaseAxis::parse("--x", &adam, text, points, log).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
            assert!(e.starts_with("--x"), "{e}");
        }
    }

    /// Every phase map reads its axes the same way: no `--x` is the learning rate from 1e-3
    /// to 1, spaced geometrically; a given `--x` is spaced as `log_x` says; the grid's errors
    /// name the caller's option; one parameter is never on both axes.
    #[test]
    fn every_map_reads_its_axes_alike() {
        let hb = Optimizer::by_id("heavy-ball").unwrap();
        let (x, y) = axes(&hb, None, "momentum=0..0.9", "--grid", "3x2", false, false).unwrap();
        assert_eq!(
            (x.name.as_str(), x.lo, x.hi, x.log),
            ("lr", 1e-3, 1.0, true)
        );
        assert!((x.values()[1] - 10f64.powf(-1.5)).abs() < 1e-15);
        assert_eq!((y.points, y.log), (2, false));
        let (x, _) = axes(
            &hb,
            Some("lr=0.5..1.5"),
            "momentum=0..0.9",
            "--grid",
            "3x2",
            false,
            false,
        )
        .unwrap();
        assert_eq!(x.values(), vec![0.5, 1.0, 1.5]);
        let e = axes(&hb, None, "momentum=0..0.9", "--grid", "0x2", false, false).unwrap_err();
        assert!(e.starts_with("--grid expects PxQ"), "{e}");
        let e = axes(&hb, None, "lr=0.1..1", "--points", "2x2", false, false).unwrap_err();
        assert!(e.contains("same parameter 'lr'"), "{e}");
    }

    #[test]
    fn the_color_map_runs_from_dark_to_bright() {
        assert_eq!(rate_color(0.0), [68, 1, 84]);
        assert_eq!(rate_color(1.0), [253, 231, 37]);
        assert_eq!(rate_color(f64::NAN), [68, 1, 84]);
    }

    /// A map computes what it draws: the success rate and the ERT of each cell, no bootstrap
    /// interval (a thousand resamples per cell, thrown away).
    #[test]
    fn a_map_computes_no_intervals() {
        use crate::lab::stats::RESAMPLED;
        use crate::lab::{Target, uniform_starts};
        let s = Surface::by_id("himmelblau").expect("built in");
        let opt = Optimizer::by_id("heavy-ball").expect("a rule");
        let x = PhaseAxis::parse("--x", &opt, "lr=0.001..0.01", 2, true).expect("an axis");
        let y = PhaseAxis::parse("--y", &opt, "momentum=0..0.9", 2, false).expect("an axis");
        let starts = uniform_starts(s.domain, 40, 1);
        let target = Target::of(&s);
        let before = RESAMPLED.with(|c| c.get());
        let cells = phase(
            &s,
            &opt,
            &x,
            &y,
            &starts,
            200,
            1,
            target,
            Precision::F64,
            None,
            &Progress::default(),
        )
        .expect("valid axes")
        .expect("not cancelled");
        assert_eq!(cells.len(), 4);
        assert!(cells.iter().any(|c| c.ert.is_some()), "{cells:?}");
        assert_eq!(RESAMPLED.with(|c| c.get()), before);
        // The counter does count: a race row draws its interval.
        let ends = crate::lab::run_batch(&s, &opt, &starts, 200, 1, target);
        let row = crate::lab::RaceRow::of("heavy-ball", ends, target, 1, 0.0);
        assert!(row.ert.is_some());
        assert!(RESAMPLED.with(|c| c.get()) > before);
    }
}
