//! Typed formulas' arithmetic: values with their partial derivatives (forward-mode dual
//! numbers) in any lane type, one value or a row at a time.

use super::Arith;
use super::parse::{F1, F2};
use crate::lanes::Real;

/// `a op k` for a constant `k`: the derivative of the constant is zero, so only `a`'s terms.
#[inline(always)]
pub(super) fn dual_k<R: Real>(f: Arith, a: Dual<R>, k: f64) -> Dual<R> {
    let k = R::splat(k);
    match f {
        Arith::Add => Dual::new(a.v + k, a.dx, a.dy),
        Arith::Sub => Dual::new(a.v - k, a.dx, a.dy),
        Arith::Mul => Dual::new(a.v * k, a.dx * k, a.dy * k),
        Arith::Div => Dual::new(a.v / k, a.dx / k, a.dy / k),
    }
}

/// `k op a` for a constant `k` (subtraction and division; the others commute).
#[inline(always)]
pub(super) fn k_dual<R: Real>(f: Arith, k: f64, a: Dual<R>) -> Dual<R> {
    let k = R::splat(k);
    match f {
        Arith::Add => Dual::new(k + a.v, a.dx, a.dy),
        Arith::Sub => Dual::new(k - a.v, -a.dx, -a.dy),
        Arith::Mul => Dual::new(k * a.v, k * a.dx, k * a.dy),
        Arith::Div => {
            let q = k / a.v;
            Dual::new(q, -(q * a.dx) / a.v, -(q * a.dy) / a.v)
        }
    }
}

/// [`k_dual`] with [`dual_k`]'s argument order.
#[inline(always)]
pub(super) fn flipped<R: Real>(f: Arith, a: Dual<R>, k: f64) -> Dual<R> {
    k_dual(f, k, a)
}

/// [`dual_k`] or [`k_dual`] over a row, the operation chosen once for the row.
#[inline(always)]
pub(super) fn arith_rows<R: Real>(f: Arith, k: f64, constant_first: bool, row: &mut [Dual<R>]) {
    macro_rules! each {
        ($fun:ident, $op:expr) => {
            for d in row.iter_mut() {
                *d = $fun($op, *d, k);
            }
        };
    }
    match (f, constant_first) {
        (Arith::Add, false) => each!(dual_k, Arith::Add),
        (Arith::Sub, false) => each!(dual_k, Arith::Sub),
        (Arith::Mul, false) => each!(dual_k, Arith::Mul),
        (Arith::Div, false) => each!(dual_k, Arith::Div),
        (Arith::Add, true) => each!(flipped, Arith::Add),
        (Arith::Sub, true) => each!(flipped, Arith::Sub),
        (Arith::Mul, true) => each!(flipped, Arith::Mul),
        (Arith::Div, true) => each!(flipped, Arith::Div),
    }
}

/// `f(v)`: the value part of [`dual1`], bit for bit (also used to fold constants).
#[inline]
pub(super) fn apply1(f: F1, v: f64) -> f64 {
    dual1(f, Dual::constant(v)).v
}

/// `f(a, b)`: the value part of [`dual2`], bit for bit.
#[inline]
pub(super) fn apply2(f: F2, a: f64, b: f64) -> f64 {
    dual2(f, Dual::constant(a), Dual::constant(b)).v
}

/// A value with its partial derivatives in x and y, in any lane type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dual<R> {
    pub(super) v: R,
    pub(super) dx: R,
    pub(super) dy: R,
}

impl<R: Real> Dual<R> {
    #[inline(always)]
    pub(super) fn new(v: R, dx: R, dy: R) -> Self {
        Self { v, dx, dy }
    }

    #[inline(always)]
    pub(super) fn constant(v: f64) -> Self {
        Self::new(R::splat(v), R::splat(0.0), R::splat(0.0))
    }

    #[inline(always)]
    pub(super) fn x(v: R) -> Self {
        Self::new(v, R::splat(1.0), R::splat(0.0))
    }

    #[inline(always)]
    pub(super) fn y(v: R) -> Self {
        Self::new(v, R::splat(0.0), R::splat(1.0))
    }

    /// The chain rule `k * d`, where a zero derivative stays zero even when `k` is infinite
    /// (`sqrt(c)` of a constant at 0, `|x|^0.5` along the other axis...).
    #[inline(always)]
    pub(super) fn chain(self, v: R, k: R) -> Self {
        Self::new(v, scale(self.dx, k), scale(self.dy, k))
    }
}

#[inline(always)]
pub(super) fn scale<R: Real>(d: R, k: R) -> R {
    let zero = R::splat(0.0);
    R::select(d.eq(zero), zero, d * k)
}

/// Per lane, `f(a, b)` of libm (two-argument functions without a vector form here).
#[inline(always)]
pub(super) fn zip_f64<R: Real>(a: R, b: R, f: impl Fn(f64, f64) -> f64) -> R {
    R::from_fn(|i| f(a.lane(i), b.lane(i)))
}

/// One-argument functions with their derivatives. Sine, cosine and the exponential are
/// optiscape's own ([`Real::sin_cos`], [`Real::exp`]: vectorized, within an ulp of libm);
/// square roots, absolute values and integer powers are exact IEEE operations; the rest are
/// libm's, lane by lane.
#[inline(always)]
pub(super) fn dual1<R: Real>(f: F1, a: Dual<R>) -> Dual<R> {
    let c = R::splat;
    let v = a.v;
    match f {
        F1::Neg => Dual::new(-v, -a.dx, -a.dy),
        F1::Sin => {
            let (s, co) = v.sin_cos();
            a.chain(s, co)
        }
        F1::Cos => {
            let (s, co) = v.sin_cos();
            a.chain(co, -s)
        }
        F1::Tan => {
            let t = v.map_f64(f64::tan);
            a.chain(t, c(1.0) + t * t)
        }
        F1::Asin => a.chain(v.map_f64(f64::asin), c(1.0) / (c(1.0) - v * v).sqrt()),
        F1::Acos => a.chain(v.map_f64(f64::acos), c(-1.0) / (c(1.0) - v * v).sqrt()),
        F1::Atan => a.chain(v.map_f64(f64::atan), c(1.0) / (c(1.0) + v * v)),
        F1::Sinh => a.chain(v.map_f64(f64::sinh), v.map_f64(f64::cosh)),
        F1::Cosh => a.chain(v.map_f64(f64::cosh), v.map_f64(f64::sinh)),
        F1::Tanh => {
            let t = v.map_f64(f64::tanh);
            a.chain(t, c(1.0) - t * t)
        }
        F1::Exp => {
            let e = v.exp();
            a.chain(e, e)
        }
        F1::Ln => a.chain(v.map_f64(f64::ln), c(1.0) / v),
        F1::Log2 => a.chain(
            v.map_f64(f64::log2),
            c(1.0) / (v * c(std::f64::consts::LN_2)),
        ),
        F1::Log10 => a.chain(
            v.map_f64(f64::log10),
            c(1.0) / (v * c(std::f64::consts::LN_10)),
        ),
        F1::Sqrt => {
            let s = v.sqrt();
            a.chain(s, c(0.5) / s)
        }
        F1::Cbrt => {
            let r = v.map_f64(f64::cbrt);
            a.chain(r, c(1.0) / (c(3.0) * r * r))
        }
        F1::Abs => a.chain(v.abs(), v.sign0()),
        F1::Sign => Dual::new(v.sign0(), c(0.0), c(0.0)),
        F1::Square => a.chain(v * v, c(2.0) * v),
        F1::PowI(n) => a.chain(v.powi(n), c(n as f64) * v.powi(n - 1)),
    }
}

#[inline(always)]
pub(super) fn dual2<R: Real>(f: F2, a: Dual<R>, b: Dual<R>) -> Dual<R> {
    match f {
        F2::Add => Dual::new(a.v + b.v, a.dx + b.dx, a.dy + b.dy),
        F2::Sub => Dual::new(a.v - b.v, a.dx - b.dx, a.dy - b.dy),
        F2::Mul => Dual::new(a.v * b.v, a.dx * b.v + a.v * b.dx, a.dy * b.v + a.v * b.dy),
        F2::Div => {
            let q = a.v / b.v;
            Dual::new(q, (a.dx - q * b.dx) / b.v, (a.dy - q * b.dy) / b.v)
        }
        F2::Pow => {
            let r = zip_f64(a.v, b.v, f64::powf);
            // d(a^b) = b a^(b-1) da + a^b ln(a) db, each term only where its derivative is
            // non-zero (so a negative base with a constant exponent has no ln).
            let k1 = b.v * zip_f64(a.v, b.v - R::splat(1.0), f64::powf);
            let k2 = r * a.v.map_f64(f64::ln);
            Dual::new(
                r,
                scale(a.dx, k1) + scale(b.dx, k2),
                scale(a.dy, k1) + scale(b.dy, k2),
            )
        }
        F2::Min => {
            // The chosen branch's derivative; a NaN on the right picks the left.
            let left = a.v.le(b.v) | !b.v.eq(b.v);
            Dual::new(
                R::select(left, a.v.min(b.v), b.v),
                R::select(left, a.dx, b.dx),
                R::select(left, a.dy, b.dy),
            )
        }
        F2::Max => {
            let left = a.v.ge(b.v) | !b.v.eq(b.v);
            Dual::new(
                R::select(left, a.v.max(b.v), b.v),
                R::select(left, a.dx, b.dx),
                R::select(left, a.dy, b.dy),
            )
        }
        F2::Atan2 => {
            let r2 = a.v * a.v + b.v * b.v;
            Dual::new(
                zip_f64(a.v, b.v, f64::atan2),
                (b.v * a.dx - a.v * b.dx) / r2,
                (b.v * a.dy - a.v * b.dy) / r2,
            )
        }
        F2::Hypot => {
            let h = zip_f64(a.v, b.v, f64::hypot);
            Dual::new(
                h,
                scale(a.dx, a.v / h) + scale(b.dx, b.v / h),
                scale(a.dy, a.v / h) + scale(b.dy, b.v / h),
            )
        }
    }
}

/// [`dual1`] over a row of values, the function chosen once for the row.
#[inline(always)]
pub(super) fn dual1_rows<R: Real>(f: F1, row: &mut [Dual<R>]) {
    macro_rules! each {
        ($f:expr) => {
            for d in row.iter_mut() {
                *d = dual1($f, *d);
            }
        };
    }
    match f {
        F1::Neg => each!(F1::Neg),
        F1::Sin => each!(F1::Sin),
        F1::Cos => each!(F1::Cos),
        F1::Tan => each!(F1::Tan),
        F1::Asin => each!(F1::Asin),
        F1::Acos => each!(F1::Acos),
        F1::Atan => each!(F1::Atan),
        F1::Sinh => each!(F1::Sinh),
        F1::Cosh => each!(F1::Cosh),
        F1::Tanh => each!(F1::Tanh),
        F1::Exp => each!(F1::Exp),
        F1::Ln => each!(F1::Ln),
        F1::Log2 => each!(F1::Log2),
        F1::Log10 => each!(F1::Log10),
        F1::Sqrt => each!(F1::Sqrt),
        F1::Cbrt => each!(F1::Cbrt),
        F1::Abs => each!(F1::Abs),
        F1::Sign => each!(F1::Sign),
        F1::Square => each!(F1::Square),
        F1::PowI(n) => each!(F1::PowI(n)),
    }
}

/// [`dual2`] over two rows (the result replaces the left one), the function chosen once.
#[inline(always)]
pub(super) fn dual2_rows<R: Real>(f: F2, left: &mut [Dual<R>], right: &[Dual<R>]) {
    macro_rules! each {
        ($f:expr) => {
            for (a, b) in left.iter_mut().zip(right) {
                *a = dual2($f, *a, *b);
            }
        };
    }
    match f {
        F2::Add => each!(F2::Add),
        F2::Sub => each!(F2::Sub),
        F2::Mul => each!(F2::Mul),
        F2::Div => each!(F2::Div),
        F2::Pow => each!(F2::Pow),
        F2::Min => each!(F2::Min),
        F2::Max => each!(F2::Max),
        F2::Atan2 => each!(F2::Atan2),
        F2::Hypot => each!(F2::Hypot),
    }
}
