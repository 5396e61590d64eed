//! Basin-of-attraction maps: a grid of starts (cell centres) over the domain, each run to the
//! end and labelled by the minimum it ends in. End points are clustered into distinct minima;
//! global minima share one label colour, diverged and still-moving runs are set apart.

use super::batch::{Precision, Progress, RunEnd, Target};
use super::pace::{STREAM_CHUNK, block_on, stream_paced};
use super::run::RunStatus;
use crate::landscape::{Domain, Surface};
use crate::optim::Optimizer;
use glam::DVec2;
use rayon::slice::ParallelSliceMut;
use serde::Serialize;

/// Label of a run that diverged.
pub const DIVERGED: i32 = -1;
/// Label of a run that did not end at a minimum: during its last 10% of updates it moved more
/// than `SAME_MINIMUM` x extent (oscillating in place, as at a kink, counts as settled), or its
/// end point is not stationary ([`stationary`]: a slow method still marching downhill).
pub const UNSETTLED: i32 = -2;
/// Label of a run stopped by a gradient that is not finite at a finite loss: it ended where the
/// surface gives no direction, which is not a minimum.
pub const BAD_GRADIENT: i32 = -3;
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

/// A run's end as a basin map keeps it (the start is the cell's centre, [`grid_start`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct BasinEnd {
    pub end: DVec2,
    pub loss: f64,
}

/// A basin map: a label per grid cell (row-major, row 0 at `y0`), and the minima.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BasinMap {
    pub resolution: usize,
    /// Each cell's run's end, row-major as the labels.
    #[serde(skip)]
    pub ends: Vec<BasinEnd>,
    #[serde(skip)]
    pub labels: Vec<i32>,
    /// Sorted by loss (lowest first); a label is an index into this list.
    pub minima: Vec<FoundMinimum>,
    pub global_fraction: f64,
    pub diverged_fraction: f64,
    pub unsettled_fraction: f64,
    /// Share of the grid whose runs stopped on a gradient that is not finite ([`BAD_GRADIENT`]).
    pub bad_gradient_fraction: f64,
}

/// Steepest-descent iterations of [`stationary`]'s polish, at most.
const POLISH_ITERATIONS: usize = 50;

/// The stationary point a run that ended at `p` rests at, as a basin map needs it: a short
/// local polish from `p` (steepest descent with Armijo backtracking, each step at most `reach`
/// long, in f64, until a step gains less than a hundredth of `tol` and is shorter than a
/// hundredth of `reach`, at most [`POLISH_ITERATIONS`] steps). `Some((point, loss))` when the
/// polish stays within `reach` of `p` (the run is within the merge distance of a stationary
/// point: it is labelled by that point); `None` when it travels `reach` or more (the run was
/// still marching downhill), or meets a value or gradient that is not finite. A point whose
/// gradient could not lower the loss by a hundredth of `tol` within `reach` is its own
/// stationary point (one evaluation: most runs that converged). Deterministic.
pub fn polish(surface: &Surface, p: DVec2, reach: f64, tol: f64) -> Option<(DVec2, f64)> {
    let (mut f, mut g) = surface.height_and_gradient(p);
    if !f.is_finite() || !g.is_finite() {
        return None;
    }
    let mut q = p;
    let floor = reach * 1e-12;
    let mut t = reach;
    for _ in 0..POLISH_ITERATIONS {
        let norm = g.length();
        if norm * reach < tol * 1e-2 {
            break;
        }
        let dir = -g / norm;
        // The longest step (at most `reach`, at most twice the last one) with sufficient
        // decrease.
        let mut accepted = None;
        while t > floor {
            let trial = q + dir * t;
            let (ft, gt) = surface.height_and_gradient(trial);
            if ft.is_finite() && gt.is_finite() && ft <= f - 1e-4 * t * norm {
                accepted = Some((trial, ft, gt));
                break;
            }
            t *= 0.5;
        }
        let Some((next, fnext, gnext)) = accepted else {
            // No decrease at any length along the gradient: stationary.
            break;
        };
        let gain = f - fnext;
        (q, f, g) = (next, fnext, gnext);
        if q.distance(p) >= reach {
            return None;
        }
        if gain < tol * 1e-2 && t < reach * 1e-2 {
            break;
        }
        t = (2.0 * t).min(reach);
    }
    Some((q, f))
}

/// Whether a run that ended at `p` rests at a stationary point ([`polish`]).
pub fn stationary(surface: &Surface, p: DVec2, reach: f64, tol: f64) -> bool {
    polish(surface, p, reach, tol).is_some()
}

/// The start of cell `k` (row-major from `y0`) of an `r x r` map over `domain`: its centre.
pub fn grid_start(domain: Domain, r: usize, k: usize) -> DVec2 {
    let (i, j) = (k % r, k / r);
    domain.lerp((i as f64 + 0.5) / r as f64, (j as f64 + 0.5) / r as f64)
}

/// The start points of an `r x r` map: cell centres, row-major from `y0`.
pub fn grid_starts(surface: &Surface, r: usize) -> Vec<DVec2> {
    (0..r * r)
        .map(|k| grid_start(surface.domain, r, k))
        .collect()
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
    let progress = Progress::default();
    basins_with(
        surface,
        optimizer,
        r,
        steps,
        seed,
        target,
        Precision::F64,
        &progress,
    )
    // Nothing cancels a fresh `Progress`: this is never reached.
    .unwrap_or_else(|| Labeller::new(surface, 0, target.tol).finish(surface, r, target))
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
    block_on(basins_paced(
        surface, optimizer, r, steps, seed, target, precision, progress,
    ))
}

/// [`basins_with`], pausing between slices of runs (see [`super::pace`]). The runs are made
/// and labelled a chunk at a time ([`stream_paced`]): the map keeps 40 bytes a cell (the end
/// point, its loss, the label) and the clustering 32 more for each settled one (the stationary point it rests at).
#[allow(clippy::too_many_arguments)]
pub async fn basins_paced(
    surface: &Surface,
    optimizer: &Optimizer,
    r: usize,
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
    progress: &Progress,
) -> Option<BasinMap> {
    let mut labeller = Labeller::new(surface, r * r, target.tol);
    let domain = surface.domain;
    stream_paced(
        surface,
        optimizer,
        r * r,
        STREAM_CHUNK,
        |k| grid_start(domain, r, k),
        steps,
        seed,
        target,
        precision,
        progress,
        |ends| labeller.add(surface, &ends),
    )
    .await?;
    Some(labeller.finish(surface, r, target))
}

/// Labels runs as their ends arrive, then clusters the settled ones into minima.
struct Labeller {
    /// `SAME_MINIMUM` x the domain's extent.
    reach: f64,
    /// The success tolerance: a polish that lowers the loss by this much did not start at a
    /// minimum ([`stationary`]).
    tol: f64,
    ends: Vec<BasinEnd>,
    labels: Vec<i32>,
    /// Settled runs: the loss and place of the stationary point they rest at, and their index.
    settled: Vec<(f64, usize, DVec2)>,
}

impl Labeller {
    fn new(surface: &Surface, n: usize, tol: f64) -> Self {
        Self {
            reach: SAME_MINIMUM * surface.domain.extent(),
            tol,
            ends: Vec::with_capacity(n),
            labels: Vec::with_capacity(n),
            settled: Vec::with_capacity(n),
        }
    }

    /// The next runs' ends, in order: diverged and still-moving runs are labelled at once.
    fn add(&mut self, surface: &Surface, ends: &[RunEnd]) {
        use rayon::prelude::*;
        // Whether each run ends at a stationary point (in parallel: a polish is up to a few
        // hundred evaluations).
        let (reach, tol) = (self.reach, self.tol);
        let at_rest: Vec<Option<(DVec2, f64)>> = ends
            .par_iter()
            .map(|e| {
                if e.status == RunStatus::Done && e.recent_travel <= reach {
                    polish(surface, e.end, reach, tol)
                } else {
                    None
                }
            })
            .collect();
        for (e, rest) in ends.iter().zip(at_rest) {
            let i = self.ends.len();
            self.ends.push(BasinEnd {
                end: e.end,
                loss: e.loss,
            });
            let label =
                if e.status == RunStatus::Diverged || !e.end.is_finite() || !e.loss.is_finite() {
                    DIVERGED
                } else if e.status == RunStatus::BadGradient {
                    BAD_GRADIENT
                } else {
                    if let Some((at, loss)) = rest {
                        self.settled.push((loss, i, at));
                    }
                    UNSETTLED
                };
            self.labels.push(label);
        }
    }

    /// Clusters the settled end points into minima and labels their runs.
    fn finish(self, surface: &Surface, r: usize, target: Target) -> BasinMap {
        let Self {
            reach,
            tol: _,
            ends,
            mut labels,
            settled: mut order,
        } = self;
        let n = ends.len().max(1) as f64;
        // Settled runs, lowest loss first, greedily joined to the first minimum within reach.
        // The key is unique (ties broken by index), so an unstable sort gives the one order.
        order.par_sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut reps: Vec<(DVec2, f64, usize)> = Vec::new();
        let mut grid = CellGrid::new(surface.domain, reach);
        for &(loss, i, at) in &order {
            // The first minimum (in order of discovery) within reach of this stationary point.
            let found = grid.first_within(at, |k| reps[k].0.distance(at) <= reach);
            let k = match found {
                Some(k) => k,
                None => {
                    reps.push((at, loss, 0));
                    grid.insert(at, reps.len() - 1);
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
                global: target.reached(*p, *loss),
            })
            .collect();
        let share =
            |pred: &dyn Fn(i32) -> bool| labels.iter().filter(|l| pred(**l)).count() as f64 / n;
        let global_fraction = share(&|l| l >= 0 && minima[l as usize].global);
        let diverged_fraction = share(&|l| l == DIVERGED);
        let unsettled_fraction = share(&|l| l == UNSETTLED);
        let bad_gradient_fraction = share(&|l| l == BAD_GRADIENT);
        BasinMap {
            resolution: r,
            ends,
            labels,
            minima,
            global_fraction,
            diverged_fraction,
            unsettled_fraction,
            bad_gradient_fraction,
        }
    }
}

/// The map's colours: global minima in gold (one shade per global minimum, so that the basins
/// of several global minima stay apart), other basins distinct hues, diverged black, unsettled
/// grey. Returns sRGB.
pub fn cell_color(map: &BasinMap, label: i32) -> [u8; 3] {
    match label {
        DIVERGED => [10, 10, 10],
        UNSETTLED => [120, 120, 120],
        BAD_GRADIENT => [150, 30, 60],
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

/// Minima found so far, by square cell of side `reach` over the region where settled runs can
/// end (the domain and one domain size around it): a minimum within reach of a point lies in
/// the point's cell or a neighbouring one.
struct CellGrid {
    x0: f64,
    y0: f64,
    reach: f64,
    nx: usize,
    ny: usize,
    /// First minimum of each cell, and the next one in the same cell (`NONE` ends a list).
    head: Vec<u32>,
    next: Vec<u32>,
    /// Minima outside the grid (never expected; kept for correctness).
    outside: Vec<usize>,
}

const NONE: u32 = u32::MAX;

impl CellGrid {
    fn new(d: Domain, reach: f64) -> Self {
        let (w, h) = (d.width(), d.height());
        let cells = |len: f64| ((3.0 * len / reach).ceil() as usize).clamp(1, 4096);
        let (nx, ny) = (cells(w), cells(h));
        Self {
            x0: d.x0 - w,
            y0: d.y0 - h,
            reach,
            nx,
            ny,
            head: vec![NONE; nx * ny],
            next: Vec::new(),
            outside: Vec::new(),
        }
    }

    fn cell(&self, p: DVec2) -> Option<(usize, usize)> {
        // In cells; truncation is `floor` for the non-negative values kept (and a NaN is
        // outside: it fails every comparison).
        let cx = (p.x - self.x0) / self.reach;
        let cy = (p.y - self.y0) / self.reach;
        let inside = cx >= 0.0 && cy >= 0.0 && cx < self.nx as f64 && cy < self.ny as f64;
        inside.then_some((cx as usize, cy as usize))
    }

    fn insert(&mut self, p: DVec2, k: usize) {
        self.next.resize(k + 1, NONE);
        match self.cell(p) {
            Some((cx, cy)) => {
                let c = cy * self.nx + cx;
                self.next[k] = self.head[c];
                self.head[c] = k as u32;
            }
            None => self.outside.push(k),
        }
    }

    /// The smallest index `k` near `p` with `close(k)`.
    fn first_within(&self, p: DVec2, close: impl Fn(usize) -> bool) -> Option<usize> {
        let mut best: Option<usize> = None;
        let mut consider = |k: usize| {
            if best.is_none_or(|b| k < b) && close(k) {
                best = Some(k);
            }
        };
        match self.cell(p) {
            Some((cx, cy)) => {
                for y in cy.saturating_sub(1)..=(cy + 1).min(self.ny - 1) {
                    for x in cx.saturating_sub(1)..=(cx + 1).min(self.nx - 1) {
                        let mut k = self.head[y * self.nx + x];
                        while k != NONE {
                            consider(k as usize);
                            k = self.next[k as usize];
                        }
                    }
                }
            }
            // A point off the grid: every minimum is a candidate.
            None => (0..self.next.len()).for_each(&mut consider),
        }
        self.outside.iter().for_each(|&k| consider(k));
        best
    }
}
