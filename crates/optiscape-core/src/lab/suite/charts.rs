//! The suite page's pictures: step curves over a log axis (the aggregated ECDF, the performance
//! and data profiles) and a small thumbnail per entry and surface (where its runs ended).

use super::analysis::{Fate, SuiteResults, profile_at};
use crate::lab::glyphs::{draw_line, draw_text, fill_rect, put, rgb8, text_width};
use crate::landscape::Domain;
use glam::DVec2;

const BG: [u8; 3] = [28, 30, 36];
const INK: [u8; 3] = [225, 225, 225];
const GRID: [u8; 3] = [58, 62, 72];

/// One curve: a label, a colour and its points `(x, y)`, `x` ascending; `y` holds from its `x` to
/// the next.
pub struct Series {
    pub label: String,
    pub color: [f32; 3],
    pub points: Vec<(f64, f64)>,
}

/// Step curves, `y` in 0..=1 (shown as a percentage) against `x` on a log10 axis from `x0` to
/// `x1`, a legend on the right.
pub fn step_chart(
    series: &[Series],
    (x0, x1): (f64, f64),
    x_label: &str,
    y_label: &str,
    title: &str,
) -> image::RgbImage {
    let legend_rows = series.len() as i64;
    let (w, h) = (860i64, (480i64).max(70 + 14 * legend_rows));
    let (left, right, top, bottom) = (64i64, 230i64, 44i64, 56i64);
    let mut img = image::RgbImage::from_pixel(w as u32, h as u32, image::Rgb(BG));
    let (l0, l1) = (x0.max(1e-300).log10(), x1.max(x0 * 1.0001).log10());
    let px = |x: f64| {
        left + ((x.max(x0).log10() - l0) / (l1 - l0) * (w - left - right) as f64).round() as i64
    };
    let py = |t: f64| h - bottom - (t.clamp(0.0, 1.0) * (h - top - bottom) as f64).round() as i64;
    draw_text(&mut img, (left, 12), title, 2, INK);
    for k in 0..=10 {
        let y = py(k as f64 / 10.0);
        draw_line(&mut img, (left, y), (w - right, y), GRID);
        if k % 2 == 0 {
            let label = format!("{}%", k * 10);
            draw_text(
                &mut img,
                (left - 8 - text_width(&label, 1), y - 3),
                &label,
                1,
                INK,
            );
        }
    }
    for e in (l0.ceil() as i64)..=(l1.floor() as i64) {
        let x = px(10f64.powi(e as i32));
        draw_line(&mut img, (x, py(0.0)), (x, py(1.0)), GRID);
        let label = format!("1e{e}");
        draw_text(
            &mut img,
            (x - text_width(&label, 1) / 2, py(0.0) + 9),
            &label,
            1,
            INK,
        );
    }
    let mid = (left + w - right - text_width(x_label, 2)) / 2;
    draw_text(&mut img, (mid, h - 26), x_label, 2, INK);
    draw_text(&mut img, (4, top - 14), y_label, 1, INK);
    for (i, s) in series.iter().enumerate() {
        let color = rgb8(s.color);
        let mut prev: Option<(i64, i64)> = None;
        for &(x, y) in &s.points {
            let p = (px(x), py(y));
            if let Some(q) = prev {
                draw_line(&mut img, q, (p.0, q.1), color);
                draw_line(&mut img, (p.0, q.1), p, color);
            }
            prev = Some(p);
        }
        if let Some(q) = prev {
            draw_line(&mut img, q, (w - right, q.1), color);
        }
        let (lx, ly) = (w - right + 12, top + 2 + 14 * i as i64);
        fill_rect(&mut img, (lx, ly), (lx + 16, ly + 6), color);
        draw_text(&mut img, (lx + 22, ly - 1), &s.label, 1, color);
    }
    img
}

/// The aggregated ECDF of every entry.
pub fn ecdf_chart(r: &SuiteResults, colors: &[[f32; 3]], unit: &str) -> image::RgbImage {
    let last = r.budgets.last().copied().unwrap_or(1).max(2) as f64;
    let series: Vec<Series> = r
        .summaries
        .iter()
        .zip(colors)
        .map(|(s, c)| Series {
            label: s.entry.clone(),
            color: *c,
            points: r
                .budgets
                .iter()
                .zip(&s.ecdf)
                .map(|(b, f)| (*b as f64, *f))
                .collect(),
        })
        .collect();
    step_chart(
        &series,
        (1.0, last),
        &format!("{unit} (log scale)"),
        "(run, target, problem) reached",
        "Runtime ECDF over all problems",
    )
}

/// A profile's curve: the share of problems at most `x`, at each value where it changes.
fn profile_points(values: &[Option<f64>], from: f64) -> Vec<(f64, f64)> {
    let mut pts = vec![(from, profile_at(values, from))];
    for v in values.iter().flatten() {
        if *v > from {
            pts.push((*v, profile_at(values, *v)));
        }
    }
    pts
}

/// Dolan–Moré performance profiles (`tau` from 1) or Moré–Wild data profiles.
pub fn profile_chart(r: &SuiteResults, colors: &[[f32; 3]], data: bool) -> image::RgbImage {
    let pick = |s: &super::analysis::EntrySummary| {
        if data {
            s.data_costs.clone()
        } else {
            s.performance_ratios.clone()
        }
    };
    let all: Vec<f64> = r.summaries.iter().flat_map(pick).flatten().collect();
    let lo = if data {
        all.iter().copied().fold(f64::INFINITY, f64::min).min(1.0)
    } else {
        1.0
    };
    let hi = all.iter().copied().fold(lo * 10.0, f64::max) * 1.5;
    let series: Vec<Series> = r
        .summaries
        .iter()
        .zip(colors)
        .map(|(s, c)| Series {
            label: s.entry.clone(),
            color: *c,
            points: profile_points(&pick(s), lo),
        })
        .collect();
    if data {
        step_chart(
            &series,
            (lo, hi),
            "budget in simplex gradients, ERT evals / (n + 1) (log)",
            "problems solved",
            "Data profiles (More-Wild)",
        )
    } else {
        step_chart(
            &series,
            (lo, hi),
            "tau: ERT over the best ERT on the problem (log)",
            "problems within tau",
            "Performance profiles (Dolan-More)",
        )
    }
}

/// The colour of a fate in the thumbnails.
pub fn fate_color(f: Fate) -> [u8; 3] {
    match f {
        Fate::Global => [80, 200, 120],
        Fate::Escaped => [90, 150, 255],
        Fate::Stayed => [120, 120, 128],
        Fate::CutShort => [230, 80, 70],
    }
}

/// A thumbnail `size` pixels square: each run a dot at its start, coloured by its fate.
pub fn thumbnail(domain: Domain, starts: &[DVec2], fates: &[Fate], size: u32) -> image::RgbImage {
    let mut img = image::RgbImage::from_pixel(size, size, image::Rgb([18, 19, 23]));
    let s = size as f64;
    for (p, f) in starts.iter().zip(fates) {
        let x = ((p.x - domain.x0) / domain.width() * (s - 1.0)).round() as i64;
        let y = ((domain.y1 - p.y) / domain.height() * (s - 1.0)).round() as i64;
        let c = fate_color(*f);
        put(&mut img, x, y, c);
        put(&mut img, x + 1, y, c);
        put(&mut img, x, y + 1, c);
        put(&mut img, x + 1, y + 1, c);
    }
    img
}
