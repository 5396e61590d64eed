//! Runtime distributions (ECDFs), as the COCO/BBOB platform draws them: for a set of targets of
//! precision (how far above the global minimum the lowest loss found inside the domain is) and
//! for each budget of updates, the fraction of (run, target) pairs where the run had reached the
//! target within that budget. The targets follow the surface's scale ([`targets`]).

use super::batch::{Precision, Progress, Target};
use super::pace::{batch_paced, block_on};
use crate::landscape::Surface;
use crate::optim::Optimizer;
use glam::DVec2;
use serde::Serialize;

/// The COCO convention: 51 targets of precision, `10^2, 10^1.8, ..., 10^-8` (five per decade),
/// for functions of one scale (BBOB's).
pub fn coco_targets() -> Vec<f64> {
    (0..51).map(|i| 10f64.powf(2.0 - 0.2 * i as f64)).collect()
}

/// The median precision of the start points (how far above the minimum their losses are; 1
/// where that is not a positive finite number, as when every start is at the minimum): the
/// scale of [`targets`].
pub fn start_scale(surface: &Surface, target: Target, starts: &[DVec2]) -> f64 {
    let precisions: Vec<f64> = starts
        .iter()
        .map(|p| surface.height(*p))
        .filter(|v| v.is_finite())
        .map(|v| (v - target.value).max(0.0))
        .collect();
    match super::stats::median(&precisions) {
        Some(m) if m > 0.0 && m.is_finite() => m,
        _ => 1.0,
    }
}

/// The ECDF's 51 targets of precision for these starts: COCO's ten decades at five per decade,
/// scaled to the surface ([`start_scale`]): `m, m 10^-0.2, ..., m 10^-10`, from the median
/// starting precision `m` down. On BBOB's functions COCO's fixed targets `10^2 .. 10^-8` serve
/// because every function has one scale; ours range from `plateau` (starts within 1 of the
/// minimum) to `goldstein-price` (starts up to 10^6 above it), where fixed targets made curves
/// start at a fifth reached, or jump from nothing to everything.
pub fn targets(surface: &Surface, target: Target, starts: &[DVec2]) -> Vec<f64> {
    let m = start_scale(surface, target, starts);
    (0..51).map(|i| m * 10f64.powf(-0.2 * i as f64)).collect()
}

/// Budgets of updates for a run of `steps`: ten per decade, `round(10^(j/10))` from 1, without
/// repeats, and `steps` itself last.
pub fn budgets(steps: u64) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    for j in 0.. {
        let b = 10f64.powf(j as f64 / 10.0).round() as u64;
        if b >= steps {
            break;
        }
        if out.last() != Some(&b) {
            out.push(b);
        }
    }
    if steps > 0 {
        out.push(steps);
    }
    out
}

/// The one cost scale of a runtime distribution in evaluations (`--budget-unit evals`): each
/// run is given `evals` evaluations, a function value costing 1 and a gradient with its value
/// `grad_cost` (an update rule runs `evals / grad_cost` updates), and the budgets count
/// evaluations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EvalScale {
    pub evals: u64,
    pub grad_cost: u64,
}

/// One method's runtime distribution.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EcdfCurve {
    pub method: String,
    /// Updates (an iteration, for a method that asks for evaluations), or evaluations when
    /// `in_evals`.
    pub budgets: Vec<u64>,
    /// `fractions[b]`: the share of (run, target) pairs reached within `budgets[b]` updates
    /// (evaluations when `in_evals`).
    pub fractions: Vec<f64>,
    /// Whether `budgets` count evaluations on the one cost scale ([`EvalScale`]).
    #[serde(skip)]
    pub in_evals: bool,
    /// The lowest loss the runs found inside the domain.
    #[serde(skip)]
    pub lowest: f64,
}

/// The ECDF of best-so-far precisions `best` (`runs x budgets`, row-major, as
/// [`run_batch_anytime`] returns them) over `targets`: per budget, the share of (run, target)
/// pairs with the run's best precision at most the target. Non-decreasing in the budget (the
/// best so far never grows).
pub fn fractions(best: &[f64], budgets: usize, targets: &[f64]) -> Vec<f64> {
    let mut sorted = targets.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let runs = best.len().checked_div(budgets).unwrap_or(0);
    let pairs = (runs * sorted.len()).max(1) as f64;
    (0..budgets)
        .map(|b| {
            let reached: usize = (0..runs)
                .map(|r| {
                    let v = best[r * budgets + b];
                    // Targets at least `v`: all but those below it.
                    sorted.len() - sorted.partition_point(|t| *t < v)
                })
                .sum();
            reached as f64 / pairs
        })
        .collect()
}

/// Runs every method from `starts` for `steps` updates and returns its ECDF over `targets`
/// (precisions relative to `target.value`, the global minimum) at [`budgets`]`(steps)`. `None`
/// when cancelled.
#[allow(clippy::too_many_arguments)]
pub fn ecdf(
    surface: &Surface,
    methods: &[Optimizer],
    starts: &[DVec2],
    steps: u64,
    seed: u64,
    target: Target,
    targets: &[f64],
    precision: Precision,
    progress: &Progress,
) -> Option<Vec<EcdfCurve>> {
    block_on(ecdf_paced(
        surface, methods, starts, steps, seed, target, targets, precision, progress, None,
    ))
}

/// [`ecdf`] on the one cost scale: every method given `scale.evals` evaluations, the curves
/// over budgets of evaluations ([`budgets`]`(scale.evals)`). An update rule's best precision
/// within `b` evaluations is its best within `b / grad_cost` updates (its start is given, as
/// in [`ecdf`]); a method that asks for evaluations counts them one by one.
#[allow(clippy::too_many_arguments)]
pub fn ecdf_in_evals(
    surface: &Surface,
    methods: &[Optimizer],
    starts: &[DVec2],
    scale: EvalScale,
    seed: u64,
    target: Target,
    targets: &[f64],
    precision: Precision,
    progress: &Progress,
) -> Option<Vec<EcdfCurve>> {
    block_on(ecdf_paced(
        surface,
        methods,
        starts,
        scale.evals,
        seed,
        target,
        targets,
        precision,
        progress,
        Some(scale),
    ))
}

/// A method's runs with their best precision at `budgets` evaluations (ascending, unique, in
/// `1..=scale.evals`): the ends, the precisions (`runs x budgets`, row-major) and the seconds
/// spent. See [`ecdf_in_evals`].
#[allow(clippy::too_many_arguments)]
pub(crate) async fn anytime_in_evals(
    surface: &Surface,
    opt: &Optimizer,
    starts: &[DVec2],
    scale: EvalScale,
    seed: u64,
    target: Target,
    precision: Precision,
    progress: &Progress,
    budgets: &[u64],
) -> Option<(Vec<super::RunEnd>, Vec<f64>, f64)> {
    let (opt, steps) = opt.with_eval_budget(scale.evals, scale.grad_cost);
    if opt.is_search() {
        // Under its evaluation budget the engine counts the budgets in evaluations.
        return batch_paced(
            surface, &opt, starts, steps, seed, target, precision, progress, budgets,
        )
        .await;
    }
    let c = scale.grad_cost.max(1);
    let mut updates: Vec<u64> = budgets.iter().map(|b| b / c).filter(|u| *u >= 1).collect();
    updates.dedup();
    let (ends, best_u, seconds) = batch_paced(
        surface, &opt, starts, steps, seed, target, precision, progress, &updates,
    )
    .await?;
    let mut best = Vec::with_capacity(starts.len() * budgets.len());
    for (r, start) in starts.iter().enumerate() {
        // Before its first update a run has its start (as the update engines count it).
        let v = surface.height(*start);
        let at_start = if v.is_finite() && target.domain.contains(*start) {
            target.precision(v)
        } else {
            f64::INFINITY
        };
        for b in budgets {
            let u = b / c;
            best.push(if u == 0 {
                at_start
            } else {
                best_u[r * updates.len() + updates.partition_point(|x| *x < u)]
            });
        }
    }
    Some((ends, best, seconds))
}

/// [`ecdf`], pausing between slices of runs (see [`super::pace`]). An estimated minimum that a
/// run beats is lowered first (see [`Target::lowered_to`]: the curves are counted against the
/// lowest loss found, the target [`ecdf_target`] names).
#[allow(clippy::too_many_arguments)]
pub async fn ecdf_paced(
    surface: &Surface,
    methods: &[Optimizer],
    starts: &[DVec2],
    steps: u64,
    seed: u64,
    target: Target,
    targets: &[f64],
    precision: Precision,
    progress: &Progress,
    scale: Option<EvalScale>,
) -> Option<Vec<EcdfCurve>> {
    let (curves, lowest) = ecdf_once(
        surface, methods, starts, steps, seed, target, targets, precision, progress, scale,
    )
    .await?;
    match target.lowered_to(lowest) {
        Some(lowered) => ecdf_once(
            surface, methods, starts, steps, seed, lowered, targets, precision, progress, scale,
        )
        .await
        .map(|(c, _)| c),
        None => Some(curves),
    }
}

/// The target an ECDF was counted against: `target`, or its minimum lowered by the curves'
/// runs.
pub fn ecdf_target(target: Target, curves: &[EcdfCurve]) -> Target {
    let lowest = curves
        .iter()
        .map(|c| c.lowest)
        .fold(f64::INFINITY, f64::min);
    target.lowered_to(lowest).unwrap_or(target)
}

#[allow(clippy::too_many_arguments)]
async fn ecdf_once(
    surface: &Surface,
    methods: &[Optimizer],
    starts: &[DVec2],
    steps: u64,
    seed: u64,
    target: Target,
    targets: &[f64],
    precision: Precision,
    progress: &Progress,
    scale: Option<EvalScale>,
) -> Option<(Vec<EcdfCurve>, f64)> {
    let budgets = budgets(scale.map_or(steps, |s| s.evals));
    let mut curves = Vec::with_capacity(methods.len());
    let mut lowest = f64::INFINITY;
    for opt in methods {
        let (ends, best, _) = match scale {
            Some(scale) => {
                anytime_in_evals(
                    surface, opt, starts, scale, seed, target, precision, progress, &budgets,
                )
                .await?
            }
            None => {
                batch_paced(
                    surface, opt, starts, steps, seed, target, precision, progress, &budgets,
                )
                .await?
            }
        };
        let low = Target::lowest_of(&ends);
        lowest = lowest.min(low);
        curves.push(EcdfCurve {
            method: opt.id.clone(),
            fractions: fractions(&best, budgets.len(), targets),
            budgets: budgets.clone(),
            lowest: low,
            in_evals: scale.is_some(),
        });
    }
    Some((curves, lowest))
}

/// The ECDF chart: one curve per method in its color (`colors[i]` for `curves[i]`), the
/// fraction of (run, target) pairs (0-100%) against the budget of updates on a log scale, a
/// legend, `title` above.
pub fn chart(curves: &[EcdfCurve], colors: &[[f32; 3]], title: &str) -> image::RgbImage {
    use super::glyphs::{draw_line, draw_text, fill_rect, rgb8, text_width};
    const BG: [u8; 3] = [28, 30, 36];
    const INK: [u8; 3] = [225, 225, 225];
    const GRID: [u8; 3] = [58, 62, 72];
    let (w, h) = (820i64, 480i64);
    let (left, right, top, bottom) = (64i64, 190i64, 44i64, 56i64);
    let mut img = image::RgbImage::from_pixel(w as u32, h as u32, image::Rgb(BG));
    let last = curves
        .iter()
        .flat_map(|c| c.budgets.last().copied())
        .max()
        .unwrap_or(1)
        .max(2);
    let x1 = (last as f64).log10();
    let px = |b: f64| left + (b.max(1.0).log10() / x1 * (w - left - right) as f64).round() as i64;
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
    for e in 0..=(x1.floor() as i64) {
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
    let axis = if curves.iter().any(|c| c.in_evals) {
        "evaluations (log scale)"
    } else {
        "updates (log scale)"
    };
    let mid = (left + w - right - text_width(axis, 2)) / 2;
    draw_text(&mut img, (mid, h - 26), axis, 2, INK);
    draw_text(&mut img, (4, top - 14), "pairs reached", 1, INK);
    for (i, c) in curves.iter().enumerate() {
        let color = rgb8(colors.get(i).copied().unwrap_or([1.0, 1.0, 1.0]));
        // A step function: the fraction holds until the next budget.
        let mut prev: Option<(i64, i64)> = None;
        for (b, f) in c.budgets.iter().zip(&c.fractions) {
            let p = (px(*b as f64), py(*f));
            if let Some(q) = prev {
                draw_line(&mut img, q, (p.0, q.1), color);
                draw_line(&mut img, (p.0, q.1), p, color);
            }
            prev = Some(p);
        }
        let (lx, ly) = (w - right + 16, top + 6 + 16 * i as i64);
        fill_rect(&mut img, (lx, ly), (lx + 18, ly + 7), color);
        draw_text(&mut img, (lx + 24, ly), &c.method, 1, color);
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_and_targets_follow_the_documented_sets() {
        let t = coco_targets();
        assert_eq!(t.len(), 51);
        assert_eq!(t[0], 100.0);
        assert!((t[50] - 1e-8).abs() < 1e-20);
        let b = budgets(300);
        assert_eq!(&b[..6], &[1, 2, 3, 4, 5, 6]);
        assert_eq!(*b.last().unwrap(), 300);
        assert!(b.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(budgets(1), vec![1]);
    }

    #[test]
    fn fractions_count_pairs_and_never_fall() {
        // Two runs, three budgets; targets 1 and 0.1.
        let best = [5.0, 0.5, 0.05, 0.5, 0.5, 0.1];
        let f = fractions(&best, 3, &[1.0, 0.1]);
        assert_eq!(f, vec![1.0 / 4.0, 2.0 / 4.0, 4.0 / 4.0]);
        assert!(f.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(fractions(&[], 3, &[1.0]), vec![0.0; 3]);
    }
}
