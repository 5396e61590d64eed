//! Plain gradient flow, `dx/dt = -∇f(x)` kept inside the domain (the box is the problem's
//! constraint: where the flow would leave it, it slides along the wall), followed to where it
//! settles. The minimum a start's flow settles in is the minimum of the start's *basin*: every
//! point of that basin lies on a flow that descends to it, so none is lower than it. The suite's
//! escape rate (see [`super::suite`]) counts the runs that end lower than that.
//!
//! The flow is integrated by the linearly implicit (Rosenbrock–Euler) step
//! `x' = P(x - (H + I/h)^-1 ∇f(x))` (`H` the Hessian by central differences of the exact
//! gradient, `P` the projection onto the domain): for a small `h` it is an explicit Euler step of
//! the flow, in the stiff directions of a valley (Rosenbrock's walls) it relaxes at once instead
//! of forcing tiny steps, and as `h` grows near a minimum it becomes Newton's step, which settles
//! in a few steps. A step is taken only when it lowers the loss and is at most
//! [`FLOW_REACH`] of the domain long (so it follows the flow and does not jump a ridge wider than
//! that); `h` doubles after a step and is quartered after a refusal.

use crate::lab::batch::{RunEnd, Target};
use crate::landscape::{Domain, Surface};
use glam::DVec2;
use serde::Serialize;

/// The longest step, as a fraction of the domain's extent.
pub const FLOW_REACH: f64 = 0.005;
/// Steps at most (a flow that has not settled by then ends where it is: with steps of up to
/// [`FLOW_REACH`] this is 50 crossings of the domain).
pub const FLOW_STEPS: usize = 10_000;

/// Where the flow from a start settles.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlowEnd {
    pub point: DVec2,
    /// The loss there (the minimum of the start's basin).
    pub value: f64,
    /// Steps taken.
    pub steps: usize,
}

fn clamp(d: Domain, p: DVec2) -> DVec2 {
    DVec2::new(p.x.clamp(d.x0, d.x1), p.y.clamp(d.y0, d.y1))
}

/// The Hessian at `p` by central differences of the gradient, symmetrized: `[a, b; b, c]`.
fn hessian(surface: &Surface, p: DVec2, e: f64) -> Option<(f64, f64, f64)> {
    let gx1 = surface.gradient(p + DVec2::new(e, 0.0));
    let gx0 = surface.gradient(p - DVec2::new(e, 0.0));
    let gy1 = surface.gradient(p + DVec2::new(0.0, e));
    let gy0 = surface.gradient(p - DVec2::new(0.0, e));
    let dx = (gx1 - gx0) / (2.0 * e);
    let dy = (gy1 - gy0) / (2.0 * e);
    let h = (dx.x, 0.5 * (dx.y + dy.x), dy.y);
    (h.0.is_finite() && h.1.is_finite() && h.2.is_finite()).then_some(h)
}

/// The point where the gradient flow from `start` (moved into the domain) settles, and its loss;
/// `None` when the loss or the gradient is not finite at the start. `tol` is the problem's
/// success tolerance: the flow stops when a step gains less than a millionth of it and is
/// shorter than a thousandth of the longest step, when no step lowers the loss (a minimum, or a
/// kink), or after [`FLOW_STEPS`]. Deterministic.
pub fn flow_end(surface: &Surface, start: DVec2, tol: f64) -> Option<FlowEnd> {
    let d = surface.domain;
    let reach = FLOW_REACH * d.extent();
    let mut p = clamp(d, start);
    let (mut f, mut g) = surface.height_and_gradient(p);
    if !f.is_finite() || !g.is_finite() {
        return None;
    }
    let fd = 1e-6 * d.extent();
    let mut h = reach / g.length().max(1e-300);
    let mut steps = 0;
    while steps < FLOW_STEPS {
        let Some((a, b, c)) = hessian(surface, p, fd) else {
            break;
        };
        let mut accepted = None;
        for _ in 0..200 {
            if h < 1e-300 {
                break;
            }
            let (a1, c1) = (a + 1.0 / h, c + 1.0 / h);
            let det = a1 * c1 - b * b;
            // Only a positive definite system is a descent step of the flow.
            if !(det > 0.0 && a1 > 0.0 && det.is_finite()) {
                h *= 0.25;
                continue;
            }
            let step = DVec2::new(-(c1 * g.x - b * g.y) / det, -(a1 * g.y - b * g.x) / det);
            let q = clamp(d, p + step);
            let len = q.distance(p);
            if len > reach {
                h *= 0.25;
                continue;
            }
            let (fq, gq) = surface.height_and_gradient(q);
            if fq.is_finite() && gq.is_finite() && fq < f {
                accepted = Some((q, fq, gq, len));
                break;
            }
            h *= 0.25;
        }
        let Some((q, fq, gq, len)) = accepted else {
            break;
        };
        let gain = f - fq;
        (p, f, g) = (q, fq, gq);
        steps += 1;
        if gain < tol * 1e-6 && len < reach * 1e-3 {
            break;
        }
        h *= 2.0;
    }
    Some(FlowEnd {
        point: p,
        value: f,
        steps,
    })
}

/// The loss of the minimum the flow from each start settles in ([`flow_end`]; NaN where the
/// start has no finite loss or gradient), on every core.
pub fn flow_values(surface: &Surface, starts: &[DVec2], tol: f64) -> Vec<f64> {
    use rayon::prelude::*;
    starts
        .par_iter()
        .map(|s| flow_end(surface, *s, tol).map_or(f64::NAN, |e| e.value))
        .collect()
}

/// Whether a start whose flow settles at `flow` lies in the basin of a local minimum: one above
/// the global minimum by more than the tolerance (a run from it has something to escape).
pub fn escapable(target: Target, flow: f64) -> bool {
    flow.is_finite() && flow - target.value > target.tol
}

/// Whether the run `e`, from a start whose flow settles at `flow`, escaped: the start is
/// [`escapable`] and the run ended lower than that minimum by more than the tolerance, inside
/// the domain, not cut short. Every point of a basin lies on a flow that descends to its
/// minimum, so such a run ended in another basin, with a lower minimum.
pub fn escaped(target: Target, flow: f64, e: &RunEnd) -> bool {
    escapable(target, flow)
        && !e.status.cut_short()
        && e.loss.is_finite()
        && target.domain.contains(e.end)
        && e.loss < flow - target.tol
}

/// The share of starts whose flow settles in the global minimum (within the tolerance): the
/// escape rate's chance baseline (what a method that only descends reaches).
pub fn chance_baseline(target: Target, flows: &[f64]) -> f64 {
    let n = flows.len().max(1) as f64;
    flows
        .iter()
        .filter(|v| v.is_finite() && **v - target.value <= target.tol)
        .count() as f64
        / n
}

/// A method's escape rate over some runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Escape {
    /// Runs from a start in a local minimum's basin.
    pub escapable: usize,
    /// Of those, the runs that escaped it ([`escaped`]).
    pub escaped: usize,
    /// `escaped / escapable` with its Wilson 95% interval; `None` when no run had anything to
    /// escape.
    pub rate: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// The escape rate of the runs `ends`, run `i` from a start whose flow settles at `flows[i]`.
pub fn escape_of(target: Target, flows: &[f64], ends: &[RunEnd]) -> Escape {
    let escapable = flows.iter().filter(|f| escapable(target, **f)).count();
    let escaped = flows
        .iter()
        .zip(ends)
        .filter(|(f, e)| escaped(target, **f, e))
        .count();
    Escape::of(escaped, escapable)
}

impl Escape {
    /// `escaped` of `escapable` runs, with the Wilson interval.
    pub fn of(escaped: usize, escapable: usize) -> Self {
        let (lo, hi) = super::stats::wilson(escaped, escapable);
        let some = escapable > 0;
        Escape {
            escapable,
            escaped,
            rate: some.then(|| escaped as f64 / escapable as f64),
            low: some.then_some(lo),
            high: some.then_some(hi),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settles(id: &str, start: DVec2) -> FlowEnd {
        let s = Surface::by_id(id).unwrap();
        flow_end(&s, start, s.tol()).unwrap()
    }

    #[test]
    fn the_flow_settles_in_the_valley_of_rosenbrock() {
        // A stiff, curved valley: plain small-step descent needs ~10^5 steps here.
        for start in [
            DVec2::new(-1.5, 2.0),
            DVec2::new(-1.9, -0.9),
            DVec2::new(1.9, 2.9),
        ] {
            let e = settles("rosenbrock", start);
            assert!(e.point.distance(DVec2::ONE) < 1e-4, "{start} -> {e:?}");
            assert!(e.value < 1e-8 && e.steps < 2000, "{e:?}");
        }
    }

    #[test]
    fn the_flow_stays_in_its_basin() {
        // Himmelblau: each quadrant's start flows to that quadrant's minimum.
        let mins = [
            DVec2::new(3.0, 2.0),
            DVec2::new(-2.805118, 3.131313),
            DVec2::new(-3.779310, -3.283186),
            DVec2::new(3.584428, -1.848127),
        ];
        for (start, m) in [
            (DVec2::new(4.0, 4.0), mins[0]),
            (DVec2::new(-4.0, 4.0), mins[1]),
            (DVec2::new(-4.0, -4.0), mins[2]),
            (DVec2::new(4.0, -4.0), mins[3]),
        ] {
            let e = settles("himmelblau", start);
            assert!(e.point.distance(m) < 1e-4, "{start} -> {e:?}");
        }
        // Rastrigin: a start near a local minimum stays there (a local minimum, not the global).
        let e = settles("rastrigin", DVec2::new(2.1, -0.95));
        assert!(e.point.distance(DVec2::new(1.99, -0.995)) < 0.02, "{e:?}");
        assert!((e.value - 4.97).abs() < 0.05, "{e:?}");
        // Styblinski-Tang from the deceptive corner: its local minimum, above the global one.
        let e = settles("styblinski-tang", DVec2::new(4.5, 4.5));
        assert!(e.point.distance(DVec2::new(2.7468, 2.7468)) < 1e-3, "{e:?}");
    }

    #[test]
    fn the_flow_slides_along_the_wall_of_the_domain() {
        // The saddle falls towards y = ±2, where the domain ends: the flow settles on the wall,
        // at the domain's global minimum.
        let e = settles("saddle", DVec2::new(1.0, 0.5));
        assert!(e.point.distance(DVec2::new(0.0, 2.0)) < 1e-3, "{e:?}");
        // Within a millionth of the tolerance: what the escape rate compares against.
        assert!((e.value + 4.0).abs() < 1e-3 * 1e-6, "{e:?}");
    }

    #[test]
    fn the_escape_rate_counts_runs_that_end_below_their_basin() {
        let s = Surface::by_id("rastrigin").unwrap();
        let target = Target::of(&s);
        let end = |x: f64, loss: f64, status| RunEnd {
            start: DVec2::ZERO,
            end: DVec2::new(x, 0.0),
            loss,
            status,
            steps: 10,
            first_success: None,
            lowest: loss,
            recent_travel: 0.0,
            first_success_counts: None,
            evals: 10,
            grads: 10,
            success_value: None,
        };
        use crate::lab::RunStatus::{Diverged, Done};
        // Starts: in the global basin, in a basin at 4.97, in one at 1.0, and a start with no
        // flow.
        let flows = [0.0, 4.97, 1.0, f64::NAN];
        let ends = [
            end(0.0, 0.0, Done),    // nothing to escape
            end(1.0, 0.99, Done),   // 4.97 -> 0.99: escaped
            end(1.0, 0.9995, Done), // 1.0 -> 0.9995: within the tolerance, stayed
            end(0.0, 0.0, Done),    // no flow: not counted
        ];
        let e = escape_of(target, &flows, &ends);
        assert_eq!((e.escapable, e.escaped), (2, 1));
        assert_eq!(e.rate, Some(0.5));
        assert!(e.low.unwrap() < 0.5 && e.high.unwrap() > 0.5);
        // Cut short or outside the domain: never an escape.
        assert!(!escaped(target, 4.97, &end(1.0, 0.5, Diverged)));
        assert!(!escaped(target, 4.97, &end(9.0, 0.5, Done)));
        assert_eq!(chance_baseline(target, &flows), 0.25);
        assert_eq!(escape_of(target, &[0.0], &ends[..1]).rate, None);
    }

    #[test]
    fn the_flow_needs_a_finite_start() {
        let s = Surface::formula("ln(x)", None).unwrap();
        assert!(flow_end(&s, DVec2::new(-1.0, 0.0), 1e-3).is_none());
    }
}
