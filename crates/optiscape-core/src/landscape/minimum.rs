//! Numerical global minimisation on a rectangle: a dense grid, then derivative-free local
//! refinement (compass search, which is indifferent to kinks) from the best grid cells.

use super::Domain;
use glam::DVec2;
use rayon::prelude::*;

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
    f: impl Fn(DVec2) -> f64 + Sync,
    domain: Domain,
    n: usize,
) -> MinimumEstimate {
    let n = n.max(2);
    let cell = DVec2::new(
        domain.width() / (n - 1) as f64,
        domain.height() / (n - 1) as f64,
    );
    // The grid's columns in parallel, gathered in order: each point keeps its place in the
    // grid, which breaks ties between equal values (the first in grid order wins).
    let columns: Vec<Vec<(f64, usize, DVec2)>> = (0..n)
        .into_par_iter()
        .map(|i| {
            (0..n)
                .filter_map(|j| {
                    let p =
                        DVec2::new(domain.x0 + i as f64 * cell.x, domain.y0 + j as f64 * cell.y);
                    let v = f(p);
                    v.is_finite().then_some((v, i * n + j, p))
                })
                .collect()
        })
        .collect();
    let mut best: Vec<(f64, usize, DVec2)> = columns.into_iter().flatten().collect();
    // The 16 lowest, in order of value then grid place (a partial selection, not a full sort).
    let order =
        |a: &(f64, usize, DVec2), b: &(f64, usize, DVec2)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
    if best.len() > 16 {
        best.select_nth_unstable_by(16, order);
        best.truncate(16);
    }
    best.sort_by(order);
    let refined: Vec<(f64, DVec2)> = best
        .par_iter()
        .map(|&(v, _, p)| compass_search(&f, domain, p, v, cell))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal grid values are taken in grid order (column by column), as a full stable sort
    /// took them: a function with 25 equal lowest grid points and nothing between them to
    /// improve on reports the first 16 of them, in that order (no two closer than `apart`).
    #[test]
    fn ties_keep_the_grid_order() {
        let d = Domain::new(0.0, 8.0, 0.0, 8.0);
        // Lowest (-1) exactly at the 5 x 5 even grid points of a 9 x 9 grid; 0 elsewhere.
        let f = |p: DVec2| {
            let even = |v: f64| v.fract() == 0.0 && (v as i64) % 2 == 0;
            if even(p.x) && even(p.y) { -1.0 } else { 0.0 }
        };
        let est = estimate_global_minimum(f, d, 9);
        assert_eq!(est.value, -1.0);
        let expected: Vec<DVec2> = (0..5)
            .flat_map(|i| (0..5).map(move |j| DVec2::new(2.0 * i as f64, 2.0 * j as f64)))
            .take(16)
            .collect();
        assert_eq!(est.points, expected);
    }
}
