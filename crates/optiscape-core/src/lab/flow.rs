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

use crate::landscape::{Domain, Surface};
use glam::DVec2;

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
    fn the_flow_needs_a_finite_start() {
        let s = Surface::formula("ln(x)", None).unwrap();
        assert!(flow_end(&s, DVec2::new(-1.0, 0.0), 1e-3).is_none());
    }
}
