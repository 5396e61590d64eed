//! Numerical global minimisation on a rectangle: a dense grid, then derivative-free local
//! refinement (compass search, which is indifferent to kinks) from the best grid cells.

use super::Domain;
use glam::DVec2;

/// A numerically found global minimum.
#[derive(Clone, Debug, PartialEq)]
pub struct MinimumEstimate {
    pub value: f64,
    /// Every refined point whose value ties with the best (within `1e-9` relative).
    pub points: Vec<DVec2>,
}

/// Minimises `f` over `domain` with an `n`-by-`n` grid (`n >= 2`) and compass-search refinement
/// from the 16 best grid points. Non-finite values are ignored.
pub fn estimate_global_minimum(
    f: impl Fn(DVec2) -> f64,
    domain: Domain,
    n: usize,
) -> MinimumEstimate {
    let n = n.max(2);
    let cell = DVec2::new(
        domain.width() / (n - 1) as f64,
        domain.height() / (n - 1) as f64,
    );
    let mut best: Vec<(f64, DVec2)> = Vec::with_capacity(n * n);
    for i in 0..n {
        for j in 0..n {
            let p = DVec2::new(domain.x0 + i as f64 * cell.x, domain.y0 + j as f64 * cell.y);
            let v = f(p);
            if v.is_finite() {
                best.push((v, p));
            }
        }
    }
    best.sort_by(|a, b| a.0.total_cmp(&b.0));
    best.truncate(16);
    let refined: Vec<(f64, DVec2)> = best
        .iter()
        .map(|&(v, p)| compass_search(&f, domain, p, v, cell))
        .collect();
    let Some(value) = refined.iter().map(|r| r.0).min_by(|a, b| a.total_cmp(b)) else {
        return MinimumEstimate {
            value: f64::NAN,
            points: Vec::new(),
        };
    };
    let tie = 1e-9 * value.abs().max(1.0);
    let apart = 1e-6 * domain.extent();
    let mut points: Vec<DVec2> = Vec::new();
    let mut ties: Vec<(f64, DVec2)> = refined.into_iter().filter(|r| r.0 <= value + tie).collect();
    ties.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (_, p) in ties {
        if points.iter().all(|q| q.distance(p) > apart) {
            points.push(p);
        }
    }
    MinimumEstimate { value, points }
}

/// Compass search: try a step along each axis in both directions, move on improvement, halve
/// the step when none improves; stops when the step is below `1e-13` of the domain's extent.
fn compass_search(
    f: &impl Fn(DVec2) -> f64,
    domain: Domain,
    mut p: DVec2,
    mut v: f64,
    start_step: DVec2,
) -> (f64, DVec2) {
    let mut step = start_step;
    let floor = 1e-13 * domain.extent();
    let clamp = |q: DVec2| {
        DVec2::new(
            q.x.clamp(domain.x0, domain.x1),
            q.y.clamp(domain.y0, domain.y1),
        )
    };
    for _ in 0..10_000 {
        if step.max_element() < floor {
            break;
        }
        let mut moved = false;
        for d in [
            DVec2::new(step.x, 0.0),
            DVec2::new(-step.x, 0.0),
            DVec2::new(0.0, step.y),
            DVec2::new(0.0, -step.y),
        ] {
            let q = clamp(p + d);
            let w = f(q);
            if w.is_finite() && w < v {
                p = q;
                v = w;
                moved = true;
                break;
            }
        }
        if !moved {
            step *= 0.5;
        }
    }
    (v, p)
}
