//! The notebook's surface, with its constants written exactly as the notebook wrote them:
//!
//! `f(x, y) = 2 + a - 2 cos x cos y - 3 + 0.1 |x - 5*3.14| |y - 5*3.14| - a cos(phi - 2x)`,
//! `a = 0.7`, `phi = 2*3.14*0.5`, on `[0, 10*3.14]^2`.
//!
//! The `|.|` terms have kinks along `x = 5*3.14` and `y = 5*3.14`; the gradient there uses the
//! subgradient `sign(0) = 0`. The global minimum lies on that kink (`y = 5*3.14`): it was found
//! numerically (a dense grid, then local refinement) and `tests/math.rs` proves it again.

// The notebook wrote 3.14, not pi; so do we, on purpose.
#![allow(clippy::approx_constant)]

use super::{Domain, SurfaceInfo, SurfaceKind};
use crate::lanes::{Real, V2};
use glam::DVec2;

/// `alpha` in the notebook.
pub const A: f64 = 0.7;
/// `phi_ext` in the notebook: `2 * 3.14 * 0.5`.
pub const PHI: f64 = 2.0 * 3.14 * 0.5;
/// The centre of the `|.|` terms: `5 * 3.14`.
pub const C: f64 = 5.0 * 3.14;

/// The notebook's plotting limits, `plt.xlim(2*3.14, 8*3.14)` and the same for y.
pub const VIEW: Domain = Domain::square(2.0 * 3.14, 8.0 * 3.14);

/// The global minimum value over the domain (numerically proven by `tests/math.rs`).
pub const MIN_VALUE: f64 = -1.7153550648619604;

/// On the kink `y = 5*3.14`, `f` depends on `x` only through `cos x` and `cos(phi - 2x)`, so it
/// is exactly `2*pi`-periodic in `x` there: the minimum repeats once per period, five times in
/// the domain, at values equal up to rounding.
pub const MIN_POINTS: [DVec2; 5] = [
    DVec2::new(3.916850073958424, C),
    DVec2::new(10.200035380515033, C),
    DVec2::new(16.48322068652395, C),
    DVec2::new(22.766405991926483, C),
    DVec2::new(29.049591292845975, C),
];

pub const INFO: SurfaceInfo = SurfaceInfo {
    id: "seed",
    display_name: "Seed (the notebook's surface)",
    formula: "2 + a - 2 cos x cos y - 3 + 0.1 |x - 5*3.14| |y - 5*3.14| - a cos(phi - 2x), a = 0.7, phi = 3.14",
    note: "the notebook's egg-crate valley: many local minima, a global floor along a kink",
    default_kind: SurfaceKind::Seed,
    default_domain: Domain::square(0.0, 10.0 * 3.14),
    default_start: DVec2::new(0.6 * 3.14, 1.9 * 3.14),
    params: &[],
    tol: 1e-3,
};

/// Height and gradient for any lane type (one implementation for balls and batches), sharing
/// three `sin_cos` evaluations.
#[inline(always)]
pub fn eval<R: Real>(p: V2<R>) -> (R, V2<R>) {
    let c = R::splat;
    let V2 { x, y } = p;
    let (sx, cx) = x.sin_cos();
    let (sy, cy) = y.sin_cos();
    let (sp, cp) = (c(PHI) - c(2.0) * x).sin_cos();
    let (ax, ay) = ((x - c(C)).abs(), (y - c(C)).abs());
    let h = c(2.0) + c(A) - c(2.0) * cx * cy - c(3.0) + ax * ay * c(0.1) - c(A) * cp;
    let dx = c(2.0) * sx * cy + c(0.1) * (x - c(C)).sign0() * ay - c(2.0) * c(A) * sp;
    let dy = c(2.0) * cx * sy + c(0.1) * ax * (y - c(C)).sign0();
    (h, V2::new(dx, dy))
}
