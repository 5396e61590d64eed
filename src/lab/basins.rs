//! Basin-of-attraction maps: a grid of starts (cell centres) over the domain, each run to the
//! end and labelled by the minimum it ends in. End points are clustered into distinct minima;
//! global minima share one label colour, diverged and still-moving runs are set apart.

use super::batch::{Precision, Progress, RunEnd, Target, run_batch, run_batch_with};
use super::run::RunStatus;
use crate::landscape::Surface;
use crate::optim::Optimizer;
use glam::DVec2;
use serde::Serialize;

/// Label of a run that diverged.
pub const DIVERGED: i32 = -1;
/// Label of a run still travelling at the end: during its last 10% of updates it moved more
/// than `SAME_MINIMUM` x extent (oscillating in place, as at a kink, counts as settled).
pub const UNSETTLED: i32 = -2;
/// End points closer than this fraction of the domain belong to the same minimum.
pub const SAME_MINIMUM: f64 = 0.01;

/// One distinct minimum found by the runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FoundMinimum {
    pub x: f64,
    pub y: f64,
    pub loss: f64,
    /// Share of the grid whose runs end here.
    pub area_fraction: f64,
    /// Within the tolerance of the global minimum value.
    pub global: bool,
}

/// A basin map: a label per grid cell (row-major, row 0 at `y0`), and the minima.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BasinMap {
    pub resolution: usize,
    #[serde(skip)]
    pub ends: Vec<RunEnd>,
    #[serde(skip)]
    pub labels: Vec<i32>,
    /// Sorted by loss (lowest first); a label is an index into this list.
    pub minima: Vec<FoundMinimum>,
    pub global_fraction: f64,
    pub diverged_fraction: f64,
    pub unsettled_fraction: f64,
}

/// The start points of an `r x r` map: cell centres, row-major from `y0`.
pub fn grid_starts(surface: &Surface, r: usize) -> Vec<DVec2> {
    let d = surface.domain;
    let mut v = Vec::with_capacity(r * r);
    for j in 0..r {
        for i in 0..r {
            v.push(d.lerp((i as f64 + 0.5) / r as f64, (j as f64 + 0.5) / r as f64));
        }
    }
    v
}

/// Runs the map.
pub fn basins(
    surface: &Surface,
    optimizer: &Optimizer,
    r: usize,
    steps: u64,
    seed: u64,
    target: Target,
) -> BasinMap {
    let starts = grid_starts(surface, r);
    let ends = run_batch(surface, optimizer, &starts, steps, seed, target);
    label(surface, r, ends, target)
}

/// `basins` in the given precision, with progress and cancellation (the sandbox's background
/// job; the command line).
#[allow(clippy::too_many_arguments)]
pub fn basins_with(
    surface: &Surface,
    optimizer: &Optimizer,
    r: usize,
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
    progress: &Progress,
) -> Option<BasinMap> {
    let starts = grid_starts(surface, r);
    let ends = run_batch_with(
        surface, optimizer, &starts, steps, seed, target, precision, progress,
    )?;
    Some(label(surface, r, ends, target))
}

/// Clusters end points into minima and labels every run.
pub fn label(surface: &Surface, r: usize, ends: Vec<RunEnd>, target: Target) -> BasinMap {
    let extent = surface.domain.extent();
    let n = ends.len().max(1) as f64;
    let mut labels = vec![UNSETTLED; ends.len()];
    // Settled runs, lowest loss first, greedily joined to the first minimum within reach.
    let mut order: Vec<usize> = (0..ends.len())
        .filter(|&i| {
            let e = &ends[i];
            if e.status == RunStatus::Diverged || !e.end.is_finite() || !e.loss.is_finite() {
                labels[i] = DIVERGED;
                return false;
            }
            e.recent_travel <= SAME_MINIMUM * extent
        })
        .collect();
    order.sort_by(|&a, &b| ends[a].loss.total_cmp(&ends[b].loss).then(a.cmp(&b)));
    let mut reps: Vec<(DVec2, f64, usize)> = Vec::new();
    for i in order {
        let e = &ends[i];
        let found = reps
            .iter()
            .position(|(p, _, _)| p.distance(e.end) <= SAME_MINIMUM * extent);
        let k = match found {
            Some(k) => k,
            None => {
                reps.push((e.end, e.loss, 0));
                reps.len() - 1
            }
        };
        reps[k].2 += 1;
        labels[i] = k as i32;
    }
    let minima: Vec<FoundMinimum> = reps
        .iter()
        .map(|(p, loss, count)| FoundMinimum {
            x: p.x,
            y: p.y,
            loss: *loss,
            area_fraction: *count as f64 / n,
            global: target.reached(*loss),
        })
        .collect();
    let share = |pred: &dyn Fn(i32) -> bool| labels.iter().filter(|l| pred(**l)).count() as f64 / n;
    let global_fraction = share(&|l| l >= 0 && minima[l as usize].global);
    let diverged_fraction = share(&|l| l == DIVERGED);
    let unsettled_fraction = share(&|l| l == UNSETTLED);
    BasinMap {
        resolution: r,
        ends,
        labels,
        minima,
        global_fraction,
        diverged_fraction,
        unsettled_fraction,
    }
}

/// The map's colours: global minima in gold (one shade per global minimum, so that the basins
/// of several global minima stay apart), other basins distinct hues, diverged black, unsettled
/// grey. Returns sRGB.
pub fn cell_color(map: &BasinMap, label: i32) -> [u8; 3] {
    match label {
        DIVERGED => [10, 10, 10],
        UNSETTLED => [120, 120, 120],
        l if map.minima.get(l as usize).is_some_and(|m| m.global) => {
            let k = map.minima[..l as usize].iter().filter(|m| m.global).count();
            const GOLDS: [[u8; 3]; 4] = [
                [255, 196, 30],
                [230, 160, 0],
                [255, 222, 110],
                [200, 140, 10],
            ];
            GOLDS[k % GOLDS.len()]
        }
        l => hue_color((l as f64 * 137.508 + 200.0) % 360.0),
    }
}

fn hue_color(h: f64) -> [u8; 3] {
    // HSL with s = 0.55, l = 0.5, avoiding the gold of the global minima.
    let h = if (35.0..60.0).contains(&h) {
        h + 40.0
    } else {
        h
    };
    let c = 0.55;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = 0.5 - c / 2.0;
    [r, g, b].map(|v| ((v + m) * 255.0).round() as u8)
}

/// The map as an RGB image, at least `min_size` pixels wide (cells scaled up by an integer
/// factor), y increasing upwards.
pub fn image(map: &BasinMap, min_size: u32) -> image::RgbImage {
    let r = map.resolution as u32;
    let k = min_size.div_ceil(r).max(1);
    image::RgbImage::from_fn(r * k, r * k, |px, py| {
        let i = px / k;
        let j = r - 1 - py / k;
        let l = map.labels[(j * r + i) as usize];
        image::Rgb(cell_color(map, l))
    })
}
