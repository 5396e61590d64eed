//! Tuning for `train`: each method's learning rate and momentum-like parameter (`momentum`, or
//! the first of `betas`) over the grid `tune` searches on surfaces (the same settings, from
//! [`crate::lab::tune`]), every setting trained from the same tuning initializations — their
//! own seed, never the study's — and scored by the median final training loss (a run that
//! diverged counts as an infinite loss; ties: fewer diverged, then the grid's order). The best
//! setting and the defaults are then trained on the study's initializations, where every
//! reported number comes from.

use super::{TrainSetup, train_method};
use crate::lab::batch::Progress;
use crate::lab::tune::{Setting, defaults, held_out_seed, settings, with_setting};
use crate::optim::Optimizer;
use serde::Serialize;
use std::sync::atomic::Ordering;

/// The most tuning initializations per setting (the study's `starts` when fewer).
pub const TUNE_STARTS: usize = 25;

/// One setting tried, and how it did on the tuning initializations.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TriedSetting {
    /// Values by name (`lr`, and `momentum` or `beta1` where the method has one).
    pub params: Vec<(String, f64)>,
    /// The median final training loss, a diverged run counting as infinite (`None`: infinite).
    pub median_loss: Option<f64>,
    pub diverged: usize,
    /// The method's defaults.
    pub default: bool,
}

/// A method's tuning: what it tried and what won.
#[derive(Clone, Debug, Serialize)]
pub struct TrainTuning {
    pub method: String,
    /// The winning values by name.
    pub params: Vec<(String, f64)>,
    /// Tuning initializations per setting, and their seed.
    pub starts: usize,
    pub seed: u64,
    pub tried: Vec<TriedSetting>,
    /// The method with the winning values.
    #[serde(skip)]
    pub opt: Optimizer,
}

/// The tuning initializations' setup: the study's, with their own seed, at most
/// [`TUNE_STARTS`] runs, nothing kept.
pub fn tune_setup(setup: &TrainSetup) -> TrainSetup {
    TrainSetup {
        seed: held_out_seed(setup.seed),
        starts: setup.starts.min(TUNE_STARTS),
        keep_weights: false,
        path_runs: 0,
        path_every: 0,
        ..setup.clone()
    }
}

/// The settings tried for `opt` with a budget of `budget`: the surfaces' grid, and the
/// defaults when the grid does not hold them.
pub fn tune_settings(opt: &Optimizer, budget: usize) -> Vec<Setting> {
    let mut all = settings(opt, budget);
    let d = defaults(opt);
    if !all.contains(&d) {
        all.push(d);
    }
    all
}

/// The median of `v`, infinities included (NaN: infinite); `None` when it is infinite.
fn median_or_inf(v: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = v
        .iter()
        .map(|x| if x.is_nan() { f64::INFINITY } else { *x })
        .collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    let m = if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    };
    m.is_finite().then_some(m)
}

/// Tunes `opt` (an update rule, checked by [`TrainSetup::check_method`]) on the tuning
/// initializations of `setup`. `progress` counts the runs (and cancels).
pub fn tune_method(
    setup: &TrainSetup,
    opt: &Optimizer,
    budget: usize,
    progress: &Progress,
) -> Result<TrainTuning, String> {
    let t = tune_setup(setup);
    let d = defaults(opt);
    let mut tried = Vec::new();
    let mut best: Option<(usize, (f64, usize))> = None;
    let candidates = tune_settings(opt, budget);
    for (k, setting) in candidates.iter().enumerate() {
        if progress.cancel.load(Ordering::Relaxed) {
            break;
        }
        let o = with_setting(opt, setting)?;
        let runs = train_method(&t, &o, &progress.done, &progress.cancel);
        let finals: Vec<f64> = runs
            .iter()
            .map(|r| {
                if r.diverged_at.is_some() {
                    f64::INFINITY
                } else {
                    r.final_loss
                }
            })
            .collect();
        let median_loss = median_or_inf(&finals);
        let diverged = runs.iter().filter(|r| r.diverged_at.is_some()).count();
        let key = (median_loss.unwrap_or(f64::INFINITY), diverged);
        if best.is_none_or(|(_, b)| key.0 < b.0 || (key.0 == b.0 && key.1 < b.1)) {
            best = Some((k, key));
        }
        tried.push(TriedSetting {
            params: setting.iter().map(|(n, v)| (n.to_string(), *v)).collect(),
            median_loss,
            diverged,
            default: *setting == d,
        });
    }
    let (k, _) = best.ok_or("tuning was cancelled")?;
    let winner = &candidates[k];
    Ok(TrainTuning {
        method: opt.id.clone(),
        params: winner.iter().map(|(n, v)| (n.to_string(), *v)).collect(),
        starts: t.starts,
        seed: t.seed,
        tried,
        opt: with_setting(opt, winner)?,
    })
}

/// Runs tuning makes for these methods (for progress bars).
pub fn tune_runs(setup: &TrainSetup, opts: &[Optimizer], budget: usize) -> usize {
    let t = tune_setup(setup);
    opts.iter()
        .map(|o| tune_settings(o, budget).len() * t.starts)
        .sum()
}

/// The tuning as maps, one panel per method: the learning rates across, the momentum-like
/// values up (one row for a method without one), each cell the median final training loss on
/// the tuning initializations in the viridis colors of its log (bright: low; one scale for
/// all panels), gray where more than half the runs diverged, the winner framed in white. The
/// defaults are marked when they lie on the grid.
pub fn tuning_map(tunings: &[TrainTuning], title: &str) -> image::RgbImage {
    use crate::lab::glyphs::{draw_line, draw_text, fill_rect, text_width};
    use crate::lab::phase::rate_color;
    const BG: [u8; 3] = [250, 250, 250];
    const INK: [u8; 3] = [40, 40, 40];
    let (pw, ph) = (260i64, 180i64);
    let (left, top, gap_x, gap_y) = (70i64, 60i64, 60i64, 70i64);
    let cols = tunings.len().clamp(1, 3) as i64;
    let rows = (tunings.len() as i64 + cols - 1) / cols;
    let w = left + cols * (pw + gap_x);
    let h = top + rows.max(1) * (ph + gap_y) + 30;
    let mut img = image::RgbImage::from_pixel(w as u32, h as u32, image::Rgb(BG));
    draw_text(&mut img, (left, 12), title, 2, INK);
    let logs: Vec<f64> = tunings
        .iter()
        .flat_map(|t| t.tried.iter().filter_map(|x| x.median_loss))
        .filter(|v| *v > 0.0)
        .map(f64::log10)
        .collect();
    let lo = logs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = (hi - lo).max(1e-12);
    draw_text(
        &mut img,
        (left, 34),
        &format!(
            "median final training loss on the tuning initializations: bright {:.1e}, dark {:.1e}; gray: diverged",
            10f64.powf(lo),
            10f64.powf(hi)
        ),
        1,
        INK,
    );
    let fmt = |v: f64| {
        if v != 0.0 && (v.abs() < 1e-2 || v.abs() >= 1e4) {
            format!("{v:.0e}")
        } else {
            format!("{}", (v * 1e3).round() / 1e3)
        }
    };
    for (k, t) in tunings.iter().enumerate() {
        let (c, r) = (k as i64 % cols, k as i64 / cols);
        let (ox, oy) = (left + c * (pw + gap_x), top + r * (ph + gap_y) + 16);
        // The grid's values: those of the settings searched (the defaults, when tried besides
        // the grid, are shown only if they lie on it).
        let axis = |k: usize| -> Vec<f64> {
            let grid: Vec<&TriedSetting> = t.tried.iter().filter(|x| !x.default).collect();
            let from = if grid.is_empty() {
                t.tried.iter().collect()
            } else {
                grid
            };
            let mut v: Vec<f64> = from
                .iter()
                .map(|x| x.params.get(k).map_or(0.0, |p| p.1))
                .collect();
            v.sort_by(f64::total_cmp);
            v.dedup();
            v
        };
        let (grid_x, grid_y) = (axis(0), axis(1));
        let (nx, ny) = (grid_x.len().max(1) as i64, grid_y.len().max(1) as i64);
        draw_text(&mut img, (ox, oy - 14), &t.method, 1, INK);
        for x in &t.tried {
            let lr = x.params.first().map_or(f64::NAN, |p| p.1);
            let m = x.params.get(1).map_or(0.0, |p| p.1);
            let (Some(i), Some(j)) = (
                grid_x.iter().position(|v| *v == lr),
                grid_y.iter().position(|v| *v == m),
            ) else {
                continue;
            };
            let (i, j) = (i as i64, j as i64);
            let (x0, x1) = (ox + i * pw / nx, ox + (i + 1) * pw / nx);
            let (y0, y1) = (oy + ph - (j + 1) * ph / ny, oy + ph - j * ph / ny);
            let col = match x.median_loss.filter(|v| *v > 0.0) {
                Some(v) => rate_color(1.0 - (v.log10() - lo) / span),
                None => [170, 170, 170],
            };
            fill_rect(&mut img, (x0, y0), (x1, y1), col);
            if x.params == t.params {
                for (a, b) in [
                    ((x0 + 1, y0 + 1), (x1 - 2, y0 + 1)),
                    ((x0 + 1, y1 - 3), (x1 - 2, y1 - 3)),
                    ((x0 + 1, y0 + 1), (x0 + 1, y1 - 3)),
                    ((x1 - 3, y0 + 1), (x1 - 3, y1 - 3)),
                ] {
                    draw_line(&mut img, a, b, [255, 255, 255]);
                }
            }
            if x.default {
                let d = "D";
                draw_text(
                    &mut img,
                    ((x0 + x1 - text_width(d, 1)) / 2, (y0 + y1) / 2 - 3),
                    d,
                    1,
                    [255, 255, 255],
                );
            }
        }
        for (i, v) in grid_x.iter().enumerate() {
            let cx = ox + (2 * i as i64 + 1) * pw / (2 * nx);
            if nx <= 6 || i % 2 == 0 {
                let s = fmt(*v);
                draw_text(
                    &mut img,
                    (cx - text_width(&s, 1) / 2, oy + ph + 5),
                    &s,
                    1,
                    INK,
                );
            }
        }
        draw_text(&mut img, (ox + pw / 2 - 6, oy + ph + 17), "lr", 1, INK);
        let y_name = t.params.get(1).map_or("", |p| p.0.as_str());
        for (j, v) in grid_y.iter().enumerate() {
            if y_name.is_empty() {
                break;
            }
            let cy = oy + ph - (2 * j as i64 + 1) * ph / (2 * ny);
            let s = fmt(*v);
            draw_text(&mut img, (ox - 6 - text_width(&s, 1), cy - 3), &s, 1, INK);
        }
        draw_text(&mut img, (ox, oy + ph + 29), y_name, 1, INK);
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::train::TrainSpec;

    #[test]
    fn tuning_scores_every_setting_and_keeps_the_best() {
        let spec = TrainSpec {
            data: Some("moons".into()),
            points: Some("60".into()),
            layers: Some("2-6-1".into()),
            methods: Some("sgd,heavy-ball".into()),
            starts: Some("6".into()),
            steps: Some("150".into()),
            ..Default::default()
        };
        let (setup, opts) = spec.setup().unwrap();
        let p = Progress::default();
        let sgd = tune_method(&setup, &opts[0], 6, &p).unwrap();
        // SGD has only a learning rate: 6 of them, and its default besides.
        assert_eq!(sgd.tried.len(), 7);
        assert_eq!(sgd.tried.iter().filter(|t| t.default).count(), 1);
        assert_eq!(sgd.starts, 6);
        assert_ne!(sgd.seed, setup.seed);
        let best = sgd
            .tried
            .iter()
            .filter_map(|t| t.median_loss)
            .fold(f64::INFINITY, f64::min);
        let won = sgd.tried.iter().find(|t| t.params == sgd.params).unwrap();
        assert_eq!(won.median_loss, Some(best));
        // The winner's lr is set in the tuned method.
        assert_eq!(
            crate::lab::tune::get_value(&sgd.opt, "lr"),
            Some(sgd.params[0].1)
        );
        // Heavy-ball tries learning rates x momenta.
        let hb = tune_method(&setup, &opts[1], 8, &p).unwrap();
        assert!(
            hb.tried
                .iter()
                .any(|t| t.params.len() == 2 && t.params[1].0 == "momentum")
        );
        // Every run counted: 7 settings of SGD and heavy-ball's, 6 initializations each.
        let hb_settings = tune_settings(&opts[1], 8).len();
        assert_eq!(p.done.load(Ordering::Relaxed), (7 + hb_settings) * 6);
        assert_eq!(
            tune_runs(&setup, &opts[..1], 6) + hb_settings * 6,
            (7 + hb_settings) * 6
        );
        // A run that diverged counts as an infinite loss.
        assert_eq!(median_or_inf(&[1.0, f64::INFINITY, f64::INFINITY]), None);
        assert_eq!(median_or_inf(&[1.0, 2.0, f64::INFINITY]), Some(2.0));
        // The map: one panel per method, the winner's cell framed in white.
        let img = tuning_map(&[sgd, hb], "moons");
        assert_eq!((img.width(), img.height()), (70 + 2 * 320, 60 + 250 + 30));
        let white = img.pixels().filter(|p| p.0 == [255, 255, 255]).count();
        assert!(white > 100, "{white}");
    }
}
