//! The classic test functions of the optimization literature, each with the minimum the
//! literature states for it and a note of what it tests. Formulas and minima follow the Virtual
//! Library of Simulation Experiments (Surjanovic & Bingham, sfu.ca/~ssurjano) unless noted.

use super::{Domain, SurfaceInfo, SurfaceKind, SurfaceParam};
use crate::lanes::{Real, V2};
use glam::DVec2;
use std::borrow::Cow;
use std::f64::consts::{E, PI, TAU};

pub const RASTRIGIN: SurfaceInfo = SurfaceInfo {
    id: "rastrigin",
    display_name: "Rastrigin",
    formula: "2a + x^2 - a cos(2 pi x) + y^2 - a cos(2 pi y), a = 10",
    note: "an egg crate of regularly spaced local minima around one global minimum",
    default_kind: SurfaceKind::Rastrigin { a: 10.0 },
    default_domain: Domain::square(-5.12, 5.12),
    default_start: DVec2::new(-4.2, 3.6),
    params: &[SurfaceParam {
        name: Cow::Borrowed("a"),
        doc: Cow::Borrowed("amplitude of the cosine ripples"),
        min: 0.0,
        max: 50.0,
    }],
    tol: 1e-3,
};

pub const ACKLEY: SurfaceInfo = SurfaceInfo {
    id: "ackley",
    display_name: "Ackley",
    formula: "-20 exp(-0.2 sqrt((x^2 + y^2)/2)) - exp((cos 2 pi x + cos 2 pi y)/2) + e + 20",
    note: "a nearly flat, rippled outer region with one deep funnel at the origin",
    default_kind: SurfaceKind::Ackley,
    default_domain: Domain::square(-5.0, 5.0),
    default_start: DVec2::new(-3.7, 2.9),
    params: &[],
    tol: 1e-3,
};

pub const HIMMELBLAU: SurfaceInfo = SurfaceInfo {
    id: "himmelblau",
    display_name: "Himmelblau",
    formula: "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
    note: "four equally good global minima: which one does each method pick?",
    default_kind: SurfaceKind::Himmelblau,
    default_domain: Domain::square(-5.0, 5.0),
    default_start: DVec2::new(-0.3, -0.9),
    params: &[],
    tol: 1e-3,
};

pub const ROSENBROCK: SurfaceInfo = SurfaceInfo {
    id: "rosenbrock",
    display_name: "Rosenbrock",
    formula: "(a - x)^2 + b (y - x^2)^2, a = 1, b = 100",
    note: "a long, curved, flat-bottomed valley: ill-conditioning",
    default_kind: SurfaceKind::Rosenbrock { a: 1.0, b: 100.0 },
    default_domain: Domain::new(-2.0, 2.0, -1.0, 3.0),
    default_start: DVec2::new(-1.5, 2.0),
    params: &[
        SurfaceParam {
            name: Cow::Borrowed("a"),
            doc: Cow::Borrowed("the minimum is at (a, a^2)"),
            min: -1.5,
            max: 1.5,
        },
        SurfaceParam {
            name: Cow::Borrowed("b"),
            doc: Cow::Borrowed("steepness of the valley walls"),
            min: 0.0,
            max: 1000.0,
        },
    ],
    tol: 1e-3,
};

pub const BEALE: SurfaceInfo = SurfaceInfo {
    id: "beale",
    display_name: "Beale",
    formula: "(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
    note: "sharp ridges and flat arms: gradients that vary over orders of magnitude",
    default_kind: SurfaceKind::Beale,
    default_domain: Domain::square(-4.5, 4.5),
    default_start: DVec2::new(1.0, 1.5),
    params: &[],
    tol: 1e-3,
};

pub const SIX_HUMP_CAMEL: SurfaceInfo = SurfaceInfo {
    id: "six-hump-camel",
    display_name: "Six-hump camel",
    formula: "(4 - 2.1 x^2 + x^4/3) x^2 + xy + (-4 + 4 y^2) y^2",
    note: "six local minima, two of them global and symmetric",
    default_kind: SurfaceKind::SixHumpCamel,
    default_domain: Domain::new(-3.0, 3.0, -2.0, 2.0),
    default_start: DVec2::new(-1.6, 0.6),
    params: &[],
    tol: 1e-3,
};

pub const STYBLINSKI_TANG: SurfaceInfo = SurfaceInfo {
    id: "styblinski-tang",
    display_name: "Styblinski-Tang",
    formula: "((x^4 - 16 x^2 + 5x) + (y^4 - 16 y^2 + 5y)) / 2",
    note: "four basins of different depth: a deceptive local minimum near the start",
    default_kind: SurfaceKind::StyblinskiTang,
    default_domain: Domain::square(-5.0, 5.0),
    default_start: DVec2::new(4.5, 4.5),
    params: &[],
    tol: 1e-3,
};

pub const LEVI13: SurfaceInfo = SurfaceInfo {
    id: "levi13",
    display_name: "Levi N.13",
    formula: "sin^2(3 pi x) + (x - 1)^2 (1 + sin^2(3 pi y)) + (y - 1)^2 (1 + sin^2(2 pi y))",
    note: "a bowl crossed by dense ripples: many shallow local minima",
    default_kind: SurfaceKind::Levi13,
    default_domain: Domain::square(-10.0, 10.0),
    default_start: DVec2::new(-7.0, 6.5),
    params: &[],
    tol: 1e-3,
};

pub const GOLDSTEIN_PRICE: SurfaceInfo = SurfaceInfo {
    id: "goldstein-price",
    display_name: "Goldstein-Price",
    formula: "[1 + (x+y+1)^2 (19 - 14x + 3x^2 - 14y + 6xy + 3y^2)] [30 + (2x-3y)^2 (18 - 32x + 12x^2 + 48y - 36xy + 27y^2)]",
    note: "values spanning six orders of magnitude: a test of step-size adaptivity",
    default_kind: SurfaceKind::GoldsteinPrice,
    default_domain: Domain::square(-2.0, 2.0),
    default_start: DVec2::new(-1.2, 1.4),
    params: &[],
    tol: 1e-2,
};

pub const SADDLE: SurfaceInfo = SurfaceInfo {
    id: "saddle",
    display_name: "Saddle",
    formula: "x^2 - y^2 on [-2, 2]^2",
    note: "a saddle point at the origin: does the method escape, and how fast?",
    default_kind: SurfaceKind::Saddle,
    default_domain: Domain::square(-2.0, 2.0),
    default_start: DVec2::new(-1.8, 1e-3),
    params: &[],
    tol: 1e-3,
};

pub const PLATEAU: SurfaceInfo = SurfaceInfo {
    id: "plateau",
    display_name: "Plateau",
    formula: "1 - exp(-(x^2 + y^2) / (2 sigma^2)), sigma = 1",
    note: "a wide flat plateau with vanishing gradients around one narrow well",
    default_kind: SurfaceKind::Plateau { sigma: 1.0 },
    default_domain: Domain::square(-6.0, 6.0),
    default_start: DVec2::new(-4.5, 3.5),
    params: &[SurfaceParam {
        name: Cow::Borrowed("sigma"),
        doc: Cow::Borrowed("width of the well"),
        min: 0.05,
        max: 5.0,
    }],
    tol: 1e-3,
};

pub const BOWL: SurfaceInfo = SurfaceInfo {
    id: "bowl",
    display_name: "Convex bowl",
    formula: "(x^2 + 4 y^2) / 2",
    note: "a convex, mildly ill-conditioned quadratic: every sane method must succeed",
    default_kind: SurfaceKind::Bowl,
    default_domain: Domain::square(-3.0, 3.0),
    default_start: DVec2::new(-2.5, 2.0),
    params: &[],
    tol: 1e-3,
};

/// Literature minima of the parameter-free kinds (and of the parametric ones whose minimum does
/// not move with the parameter).
pub fn stated_minimum(id: &str) -> (f64, Vec<DVec2>) {
    match id {
        "rastrigin" | "ackley" | "plateau" | "bowl" => (0.0, vec![DVec2::ZERO]),
        // Himmelblau (1972); the three irrational minima to 15 digits (refined by Newton's
        // method and checked in tests/math.rs).
        "himmelblau" => (
            0.0,
            vec![
                DVec2::new(3.0, 2.0),
                DVec2::new(-2.805118086952745, 3.131312518250573),
                DVec2::new(-3.779310253377747, -3.28318599128617),
                DVec2::new(3.584428340330492, -1.848126526964404),
            ],
        ),
        "beale" => (0.0, vec![DVec2::new(3.0, 0.5)]),
        "six-hump-camel" => (
            -1.031628453489877,
            vec![
                DVec2::new(0.08984201368301331, -0.7126564032704135),
                DVec2::new(-0.08984201368301331, 0.7126564032704135),
            ],
        ),
        "styblinski-tang" => (-78.33233140754282, vec![DVec2::splat(-2.903534027771177)]),
        "levi13" => (0.0, vec![DVec2::new(1.0, 1.0)]),
        "goldstein-price" => (3.0, vec![DVec2::new(0.0, -1.0)]),
        "saddle" => (-4.0, vec![DVec2::new(0.0, -2.0), DVec2::new(0.0, 2.0)]),
        _ => (f64::NAN, Vec::new()),
    }
}

/// Height and gradient sharing two `sin_cos` evaluations.
/// [`rastrigin_both`] for any lane type.
#[inline(always)]
pub fn rastrigin_eval<R: Real>(a: f64, p: V2<R>) -> (R, V2<R>) {
    let c = R::splat;
    // sin and cos of 2 pi x, reduced exactly in turns.
    let (sx, cx) = p.x.sin_cos_turns();
    let (sy, cy) = p.y.sin_cos_turns();
    (
        c(2.0 * a) + p.x * p.x - c(a) * cx + p.y * p.y - c(a) * cy,
        V2::new(
            c(2.0) * p.x + c(a * TAU) * sx,
            c(2.0) * p.y + c(a * TAU) * sy,
        ),
    )
}

/// Ackley's height and gradient for any lane type. At the origin the first term has a cone tip;
/// the gradient there is the subgradient 0.
#[inline(always)]
pub fn ackley_eval<R: Real>(p: V2<R>) -> (R, V2<R>) {
    let c = R::splat;
    let r = (c(0.5) * (p.x * p.x + p.y * p.y)).sqrt();
    let (sx, cx) = p.x.sin_cos_turns();
    let (sy, cy) = p.y.sin_cos_turns();
    let er = (c(-0.2) * r).exp();
    let ec = (c(0.5) * (cx + cy)).exp();
    let cone = R::select(r.gt(c(0.0)), c(2.0) * er / r, c(0.0));
    (
        c(-20.0) * er - ec + c(E) + c(20.0),
        V2::new(cone * p.x + c(PI) * sx * ec, cone * p.y + c(PI) * sy * ec),
    )
}

/// Himmelblau's height and gradient for any lane type.
#[inline(always)]
pub fn himmelblau_eval<R: Real>(p: V2<R>) -> (R, V2<R>) {
    let c = R::splat;
    let u = p.x * p.x + p.y - c(11.0);
    let v = p.x + p.y * p.y - c(7.0);
    (
        u * u + v * v,
        V2::new(c(4.0) * p.x * u + c(2.0) * v, c(2.0) * u + c(4.0) * p.y * v),
    )
}

/// Rosenbrock's height and gradient for any lane type.
#[inline(always)]
pub fn rosenbrock_eval<R: Real>(a: f64, b: f64, p: V2<R>) -> (R, V2<R>) {
    let c = R::splat;
    let u = c(a) - p.x;
    let v = p.y - p.x * p.x;
    (
        u * u + c(b) * v * v,
        V2::new(c(-2.0) * u - c(4.0 * b) * p.x * v, c(2.0 * b) * v),
    )
}

/// Beale's height and gradient for any lane type.
#[inline(always)]
pub fn beale_eval<R: Real>(p: V2<R>) -> (R, V2<R>) {
    let c = R::splat;
    let (x, y) = (p.x, p.y);
    let (y2, y3) = (y * y, y * y * y);
    let t1 = c(1.5) - x + x * y;
    let t2 = c(2.25) - x + x * y2;
    let t3 = c(2.625) - x + x * y3;
    (
        t1 * t1 + t2 * t2 + t3 * t3,
        V2::new(
            c(2.0) * t1 * (y - c(1.0)) + c(2.0) * t2 * (y2 - c(1.0)) + c(2.0) * t3 * (y3 - c(1.0)),
            c(2.0) * t1 * x + c(4.0) * t2 * x * y + c(6.0) * t3 * x * y2,
        ),
    )
}

/// The six-hump camel's height and gradient for any lane type.
#[inline(always)]
pub fn six_hump_camel_eval<R: Real>(p: V2<R>) -> (R, V2<R>) {
    let c = R::splat;
    let (x, y) = (p.x, p.y);
    let x2 = x * x;
    (
        (c(4.0) - c(2.1) * x2 + x2 * x2 / c(3.0)) * x2 + x * y + (c(-4.0) + c(4.0) * y * y) * y * y,
        V2::new(
            c(8.0) * x - c(8.4) * x2 * x + c(2.0) * x2 * x2 * x + y,
            x - c(8.0) * y + c(16.0) * y * y * y,
        ),
    )
}

/// Styblinski-Tang's height and gradient for any lane type.
#[inline(always)]
pub fn styblinski_tang_eval<R: Real>(p: V2<R>) -> (R, V2<R>) {
    let c = R::splat;
    let term = |v: R| v * v * v * v - c(16.0) * v * v + c(5.0) * v;
    let d = |v: R| c(2.0) * v * v * v - c(16.0) * v + c(2.5);
    (c(0.5) * (term(p.x) + term(p.y)), V2::new(d(p.x), d(p.y)))
}

/// Levi N.13's height and gradient for any lane type: every sine in turns (`sin 3 pi x` is
/// `sin 2 pi (1.5 x)`), the double angles from `sin 2a = 2 sin a cos a`.
#[inline(always)]
pub fn levi13_eval<R: Real>(p: V2<R>) -> (R, V2<R>) {
    let c = R::splat;
    let (x, y) = (p.x, p.y);
    let (s3x, c3x) = (c(1.5) * x).sin_cos_turns();
    let (s3y, c3y) = (c(1.5) * y).sin_cos_turns();
    let (s2y, c2y) = y.sin_cos_turns();
    let (xm, ym) = (x - c(1.0), y - c(1.0));
    let (ay, by) = (c(1.0) + s3y * s3y, c(1.0) + s2y * s2y);
    (
        s3x * s3x + xm * xm * ay + ym * ym * by,
        V2::new(
            c(6.0 * PI) * s3x * c3x + c(2.0) * xm * ay,
            xm * xm * c(6.0 * PI) * s3y * c3y
                + c(2.0) * ym * by
                + ym * ym * c(2.0 * TAU) * s2y * c2y,
        ),
    )
}

/// Goldstein-Price's height and gradient for any lane type.
#[inline(always)]
pub fn goldstein_price_eval<R: Real>(p: V2<R>) -> (R, V2<R>) {
    let k = R::splat;
    let (x, y) = (p.x, p.y);
    let a = x + y + k(1.0);
    let b = k(19.0) - k(14.0) * x + k(3.0) * x * x - k(14.0) * y + k(6.0) * x * y + k(3.0) * y * y;
    let c = k(2.0) * x - k(3.0) * y;
    let d =
        k(18.0) - k(32.0) * x + k(12.0) * x * x + k(48.0) * y - k(36.0) * x * y + k(27.0) * y * y;
    let first = k(1.0) + a * a * b;
    let second = k(30.0) + c * c * d;
    // d(first)/dx and d(first)/dy coincide: db/dx = db/dy = -14 + 6x + 6y.
    let dfirst = k(2.0) * a * b + a * a * (k(-14.0) + k(6.0) * x + k(6.0) * y);
    let dsecond_dx = k(4.0) * c * d + c * c * (k(-32.0) + k(24.0) * x - k(36.0) * y);
    let dsecond_dy = k(-6.0) * c * d + c * c * (k(48.0) - k(36.0) * x + k(54.0) * y);
    (
        first * second,
        V2::new(
            dfirst * second + first * dsecond_dx,
            dfirst * second + first * dsecond_dy,
        ),
    )
}

/// The saddle's height and gradient for any lane type.
#[inline(always)]
pub fn saddle_eval<R: Real>(p: V2<R>) -> (R, V2<R>) {
    let c = R::splat;
    (p.x * p.x - p.y * p.y, V2::new(c(2.0) * p.x, c(-2.0) * p.y))
}

/// The plateau's height and gradient for any lane type.
#[inline(always)]
pub fn plateau_eval<R: Real>(sigma: f64, p: V2<R>) -> (R, V2<R>) {
    let c = R::splat;
    let s2 = sigma * sigma;
    let e = ((-(p.x * p.x + p.y * p.y)) / c(2.0 * s2)).exp();
    (c(1.0) - e, p.scale(e / c(s2)))
}

/// The bowl's height and gradient for any lane type.
#[inline(always)]
pub fn bowl_eval<R: Real>(p: V2<R>) -> (R, V2<R>) {
    let c = R::splat;
    (
        c(0.5) * (p.x * p.x + c(4.0) * p.y * p.y),
        V2::new(p.x, c(4.0) * p.y),
    )
}
