//! Training paths drawn as Li et al. 2018 (§7) draw them: each path on the plane of its own
//! first two principal directions, centred on where it ended, over the training loss on that
//! plane. A plane shows two of a network's hundreds of directions: each panel says how much of
//! the path's spread it holds (the principal directions' explained variance), and the loss
//! drawn is the loss *on the plane*, which the path itself leaves.

use super::TrainStudy;
use crate::landscape::Domain;
use crate::net::paths::{PcaPlane, pca_plane};
use crate::net::slice::PlaneView;

/// One method's path on its principal plane, with the loss over the plane.
#[derive(Clone, Debug)]
pub struct PathPanel {
    pub method: String,
    pub run: usize,
    pub diverged: bool,
    pub pca: PcaPlane,
    /// Where the loss was computed: the path's extent on the plane, with a margin.
    pub window: Domain,
    /// The training loss on an `n x n` grid over `window` (row `j` at `y0 + j h`; row-major).
    pub n: usize,
    pub grid: Vec<f64>,
}

/// Points kept along a path for its picture (`TrainSetup::path_every` is chosen for this).
pub const PATH_POINTS: u64 = 60;

/// The panels of run `run` of every method that recorded its path (`TrainSetup::path_runs`
/// above `run`): `Err` names a method whose path spans no plane (fewer than three points, or
/// a straight line).
pub fn path_panels(st: &TrainStudy, run: usize, n: usize) -> Vec<Result<PathPanel, String>> {
    let s = &st.setup;
    let layers = s.net.layers();
    st.methods
        .iter()
        .zip(&st.runs)
        .map(|(method, runs)| {
            let r = runs
                .get(run)
                .ok_or_else(|| format!("{method}: no run {run}"))?;
            let pca = pca_plane(&r.path).ok_or_else(|| {
                format!(
                    "{method}: its path spans no plane ({} points)",
                    r.path.len()
                )
            })?;
            let last = r.path.last().expect("a plane has points");
            let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
            for (a, b) in &pca.coords {
                lo = [lo[0].min(*a), lo[1].min(*b)];
                hi = [hi[0].max(*a), hi[1].max(*b)];
            }
            let pad = |l: f64, h: f64| {
                let m = 0.15 * (h - l).max(1e-6);
                (l - m, h + m)
            };
            let ((x0, x1), (y0, y1)) = (pad(lo[0], hi[0]), pad(lo[1], hi[1]));
            let window = Domain::new(x0, x1, y0, y1);
            let grid = PlaneView {
                net: &s.net,
                layers: &layers,
                data: &s.data,
                center: last,
                d1: &pca.d1,
                d2: &pca.d2,
                window,
            }
            .loss_grid(n);
            Ok(PathPanel {
                method: method.clone(),
                run,
                diverged: r.diverged_at.is_some(),
                pca,
                window,
                n: n.max(2),
                grid,
            })
        })
        .collect()
}

/// The panels side by side (three to a row): the loss on each plane in the viridis colors of
/// its log (dark: low), contour lines at tenths of its range, the path in white from a hollow
/// square (the first weights) to a red dot (the last), each axis labelled with its share of
/// the path's variance.
pub fn paths_chart(panels: &[PathPanel], colors: &[[f32; 3]], title: &str) -> image::RgbImage {
    use crate::lab::glyphs::{draw_dot, draw_line, draw_text, fill_rect, put, rgb8};
    use crate::lab::phase::rate_color;
    const BG: [u8; 3] = [250, 250, 250];
    const INK: [u8; 3] = [40, 40, 40];
    let side = 300i64;
    let (left, top, gap_x, gap_y) = (56i64, 56i64, 40i64, 76i64);
    let cols = panels.len().clamp(1, 3) as i64;
    let rows = (panels.len() as i64 + cols - 1) / cols.max(1);
    let w = left + cols * (side + gap_x);
    let h = top + rows.max(1) * (side + gap_y);
    let mut img = image::RgbImage::from_pixel(w as u32, h as u32, image::Rgb(BG));
    draw_text(&mut img, (left, 12), title, 2, INK);
    draw_text(
        &mut img,
        (left, 34),
        "each run on its own two principal directions; color: log training loss on that plane",
        1,
        INK,
    );
    for (k, p) in panels.iter().enumerate() {
        let (c, r) = (k as i64 % cols, k as i64 / cols);
        let (ox, oy) = (left + c * (side + gap_x), top + r * (side + gap_y) + 14);
        let logs: Vec<f64> = p
            .grid
            .iter()
            .map(|v| if *v > 0.0 { v.log10() } else { f64::NAN })
            .collect();
        let (lo, hi) = logs
            .iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(*v), b.max(*v))
            });
        let span = (hi - lo).max(1e-12);
        let n = p.n;
        // The log loss under pixel (px, py), bilinear between the grid's points (row 0 of the
        // grid at the bottom, its points on the window's edges).
        let at = |px: i64, py: i64| -> f64 {
            let u = (px as f64 / (side - 1) as f64 * (n - 1) as f64).clamp(0.0, (n - 1) as f64);
            let v = ((side - 1 - py) as f64 / (side - 1) as f64 * (n - 1) as f64)
                .clamp(0.0, (n - 1) as f64);
            let (i, j) = ((u as usize).min(n - 2), (v as usize).min(n - 2));
            let (fu, fv) = (u - i as f64, v - j as f64);
            let g = |i: usize, j: usize| logs[j * n + i];
            (1.0 - fv) * ((1.0 - fu) * g(i, j) + fu * g(i + 1, j))
                + fv * ((1.0 - fu) * g(i, j + 1) + fu * g(i + 1, j + 1))
        };
        let level = |v: f64| -> f64 {
            if v.is_finite() {
                ((v - lo) / span * 10.0).floor()
            } else {
                f64::NAN
            }
        };
        for py in 0..side {
            for px in 0..side {
                let v = at(px, py);
                let mut col = if v.is_finite() {
                    rate_color((v - lo) / span)
                } else {
                    [230, 60, 200]
                };
                let here = level(v);
                if here != level(at(px + 1, py)) || here != level(at(px, py + 1)) {
                    col = col.map(|c| (f64::from(c) * 0.6) as u8);
                }
                put(&mut img, ox + px, oy + py, col);
            }
        }
        let d = p.window;
        let to_px = |(a, b): (f64, f64)| -> (i64, i64) {
            (
                ox + ((a - d.x0) / (d.x1 - d.x0) * side as f64).round() as i64,
                oy + side - 1 - ((b - d.y0) / (d.y1 - d.y0) * side as f64).round() as i64,
            )
        };
        let white = [255, 255, 255];
        for pair in p.pca.coords.windows(2) {
            draw_line(&mut img, to_px(pair[0]), to_px(pair[1]), white);
        }
        for q in &p.pca.coords {
            let (x, y) = to_px(*q);
            fill_rect(&mut img, (x - 1, y - 1), (x + 2, y + 2), white);
        }
        let (sx, sy) = to_px(p.pca.coords[0]);
        for t in -5..=5 {
            for (x, y) in [
                (sx + t, sy - 5),
                (sx + t, sy + 5),
                (sx - 5, sy + t),
                (sx + 5, sy + t),
            ] {
                put(&mut img, x, y, white);
            }
        }
        draw_dot(&mut img, to_px((0.0, 0.0)), [220, 30, 30]);
        let color = colors.get(k).map_or(INK, |c| rgb8(*c));
        let name = format!(
            "{} run {}{}",
            p.method,
            p.run,
            if p.diverged { " (diverged)" } else { "" }
        );
        // A swatch of the method's color (some are too light for text on white).
        fill_rect(&mut img, (ox, oy - 15), (ox + 9, oy - 6), color);
        draw_text(&mut img, (ox + 14, oy - 14), &name, 1, INK);
        draw_text(
            &mut img,
            (ox, oy + side + 6),
            &format!("PC1: {:.1}% of the variance", 100.0 * p.pca.explained[0]),
            1,
            INK,
        );
        draw_text(
            &mut img,
            (ox, oy + side + 18),
            &format!("PC2: {:.1}%", 100.0 * p.pca.explained[1]),
            1,
            INK,
        );
        draw_text(
            &mut img,
            (ox, oy + side + 30),
            &format!(
                "loss on the plane {:.2e} to {:.2e}",
                10f64.powf(lo),
                10f64.powf(hi)
            ),
            1,
            INK,
        );
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::Progress;
    use crate::lab::train::{TrainSpec, study};

    #[test]
    fn every_method_gets_a_panel_of_its_own_path() {
        let spec = TrainSpec {
            data: Some("moons".into()),
            points: Some("80".into()),
            layers: Some("2-6-1".into()),
            methods: Some("sgd,adam".into()),
            starts: Some("2".into()),
            steps: Some("120".into()),
            ..Default::default()
        };
        let (mut setup, opts) = spec.setup().unwrap();
        setup.path_runs = 1;
        setup.keep_weights = true;
        setup.path_every = 120 / PATH_POINTS;
        let st = study(setup, &opts, &Progress::default());
        let panels: Vec<PathPanel> = path_panels(&st, 0, 24)
            .into_iter()
            .map(|p| p.unwrap())
            .collect();
        assert_eq!(panels.len(), 2);
        for (p, runs) in panels.iter().zip(&st.runs) {
            // The path's first and last points, and the loss at its end (the plane's origin).
            assert_eq!(p.pca.coords.len(), 61);
            assert_eq!(runs[0].path.len(), 61);
            assert_eq!(runs[0].path.last().unwrap(), &runs[0].weights);
            assert_eq!(p.grid.len(), 24 * 24);
            assert!(p.window.contains(glam::DVec2::ZERO));
            let (a, b) = p.pca.coords[0];
            assert!(p.window.contains(glam::DVec2::new(a, b)));
            assert!(p.pca.explained[0] > 0.5, "{:?}", p.pca.explained);
        }
        // There is no run 7.
        let missing = path_panels(&st, 7, 8);
        assert!(
            missing
                .iter()
                .all(|p| p.as_ref().is_err_and(|e| e.contains("no run 7")))
        );
        let img = paths_chart(&panels, &[[0.2, 0.4, 0.8], [0.8, 0.3, 0.1]], "moons");
        assert_eq!((img.width(), img.height()), (56 + 2 * 340, 56 + 376));
    }
}
