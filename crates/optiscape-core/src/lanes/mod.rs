//! Lanes: the same arithmetic on one number or on several at once, written once.
//!
//! Surfaces and update rules that the lab runs in lockstep batches are written generically over
//! [`Real`]: the sandbox and `trace` instantiate them with `f64` (one ball), the lab's batch
//! runner with [`F64x4`], [`F64x8`] or [`F32x8`] (four or eight runs side by side,
//! structure-of-arrays).
//! Every lane operation is the scalar IEEE operation applied per lane, in the same order (Rust
//! never fuses a multiply and an add on its own), so a lane of a batch equals the scalar run bit
//! for bit. The compiler turns the per-lane loops into vector instructions (AVX where the CPU has
//! it, AVX-512 for eight f64 lanes; see `lab::lockstep`).
//!
//! Trigonometry is our own ([`Real::sin_cos`]): libm's `sin`/`cos` are opaque calls that no
//! compiler vectorizes. Range reduction by pi/2 in three parts (Cody-Waite) and the FreeBSD/musl
//! kernel polynomials (`k_sin.c`, `k_cos.c`) in double precision, or Cephes' `sinf`/`cosf`
//! polynomials in single precision: within about one unit in the last place of libm for
//! `|x| < 2^19` (f64) or `|x| < 8192` (f32); beyond that the value is libm's.
//!
//! The exponential is our own too ([`Real::exp`]): FreeBSD's `e_exp.c` (reduction by ln 2 in
//! two parts, its degree-5 rational kernel) in double precision, Cephes' `expf` in single,
//! scaled by 2^k in two exact steps so that subnormal results round once. Within one unit in
//! the last place of libm over the whole range (tested), 0 and infinity where libm gives them.

use glam::DVec2;
use std::ops::{Add, BitAnd, BitOr, BitXor, Div, Mul, Neg, Not, Sub};

/// A per-lane boolean.
pub trait Mask:
    Copy + BitAnd<Output = Self> + BitOr<Output = Self> + BitXor<Output = Self> + Not<Output = Self>
{
    fn any(self) -> bool;
    /// Lane `i`.
    fn test(self, i: usize) -> bool;
}

impl Mask for bool {
    #[inline(always)]
    fn any(self) -> bool {
        self
    }
    #[inline(always)]
    fn test(self, _i: usize) -> bool {
        self
    }
}

/// A number, or a fixed group of numbers operated on lane by lane.
pub trait Real:
    Copy
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    type Mask: Mask;
    /// Numbers per value.
    const LANES: usize;
    /// Every lane `v` (rounded to the lane's precision).
    fn splat(v: f64) -> Self;
    /// Lane `i`, widened to f64.
    fn lane(self, i: usize) -> f64;
    /// Lanes from `f(0), f(1), ...` (rounded to the lane's precision).
    fn from_fn(f: impl FnMut(usize) -> f64) -> Self;
    fn sqrt(self) -> Self;
    fn abs(self) -> Self;
    /// `f64::max` per lane (a NaN lane takes the other value).
    fn max(self, o: Self) -> Self;
    fn min(self, o: Self) -> Self;
    /// Rounds half to even.
    fn round(self) -> Self;
    fn floor(self) -> Self;
    fn lt(self, o: Self) -> Self::Mask;
    fn le(self, o: Self) -> Self::Mask;
    fn ge(self, o: Self) -> Self::Mask;
    fn gt(self, o: Self) -> Self::Mask;
    fn eq(self, o: Self) -> Self::Mask;
    fn is_finite(self) -> Self::Mask;
    /// `a` where `m`, else `b`.
    fn select(m: Self::Mask, a: Self, b: Self) -> Self;
    /// Sine and cosine (see the module's notes on accuracy).
    fn sin_cos(self) -> (Self, Self);
    /// `(sin 2 pi t, cos 2 pi t)`, reduced exactly in turns (for periodic surfaces such as
    /// Rastrigin's: cheaper and more accurate than `(2 pi t).sin_cos()`).
    fn sin_cos_turns(self) -> (Self, Self);
    /// `e^x` (see the module's notes on accuracy).
    fn exp(self) -> Self;
    /// `2^k` for an integer-valued `self` inside the normal exponent range (the scaling step of
    /// `exp`).
    fn pow2i(self) -> Self;
    /// `f` applied to each lane, widened to f64 and rounded back: libm's functions that have
    /// no vector form here (`tan`, `ln`, `powf`...), identical in a lane and in a scalar.
    fn map_f64(self, f: impl Fn(f64) -> f64) -> Self;

    /// `self^n` by binary powering (LLVM's `__powidf2`, so `powi` in effect): a fixed sequence
    /// of products, the same in every lane.
    #[inline(always)]
    fn powi(self, n: i32) -> Self {
        let mut a = self;
        let mut r = Self::splat(1.0);
        let mut b = n.unsigned_abs();
        loop {
            if b & 1 != 0 {
                r = r * a;
            }
            b >>= 1;
            if b == 0 {
                break;
            }
            a = a * a;
        }
        if n < 0 { Self::splat(1.0) / r } else { r }
    }

    /// `sign(v)` with `sign(0) = 0` (and 0 for NaN): the subgradient convention at kinks.
    #[inline(always)]
    fn sign0(self) -> Self {
        let zero = Self::splat(0.0);
        Self::select(
            self.gt(zero),
            Self::splat(1.0),
            Self::select(self.lt(zero), Self::splat(-1.0), zero),
        )
    }
}

#[macro_use]
mod elementary;
#[cfg(test)]
mod tests;
mod wide;

pub use elementary::{SIN_COS_LIMIT_F32, SIN_COS_LIMIT_F64};
use elementary::{
    exp_f32, exp_f64, sin_cos_f32, sin_cos_f64, sin_cos_turns_f32, sin_cos_turns_f64,
};
pub use wide::*;

/// The scalar impls, `f64` and `f32`: one value, IEEE operations, `bool` masks.
macro_rules! scalar {
    ($t:ident, $big:literal, $sin_cos:ident, $turns:ident, $limit:ident, $exp:ident) => {
        impl Real for $t {
            type Mask = bool;
            const LANES: usize = 1;
            #[inline(always)]
            fn splat(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn lane(self, _i: usize) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_fn(mut f: impl FnMut(usize) -> f64) -> Self {
                f(0) as $t
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                $t::sqrt(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                $t::abs(self)
            }
            #[inline(always)]
            fn max(self, o: Self) -> Self {
                $t::max(self, o)
            }
            #[inline(always)]
            fn min(self, o: Self) -> Self {
                $t::min(self, o)
            }
            /// Without SSE4.1 (the baseline x86-64 target) `round_ties_even` is a libm call;
            /// adding and subtracting 2^52 (f64) or 2^23 (f32) rounds to an integer, ties to
            /// even, in two exact operations.
            #[inline(always)]
            fn round(self) -> Self {
                const BIG: $t = $big;
                if self.abs() < BIG {
                    ((self.abs() + BIG) - BIG).copysign(self)
                } else {
                    self
                }
            }
            #[inline(always)]
            fn floor(self) -> Self {
                let r = Real::round(self);
                if r > self { r - 1.0 } else { r }
            }
            #[inline(always)]
            fn lt(self, o: Self) -> bool {
                self < o
            }
            #[inline(always)]
            fn le(self, o: Self) -> bool {
                self <= o
            }
            #[inline(always)]
            fn gt(self, o: Self) -> bool {
                self > o
            }
            #[inline(always)]
            fn ge(self, o: Self) -> bool {
                self >= o
            }
            #[inline(always)]
            fn eq(self, o: Self) -> bool {
                self == o
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                $t::is_finite(self)
            }
            #[inline(always)]
            fn select(m: bool, a: Self, b: Self) -> Self {
                if m { a } else { b }
            }
            #[inline(always)]
            fn sin_cos_turns(self) -> (Self, Self) {
                $turns(self)
            }
            #[inline(always)]
            fn exp(self) -> Self {
                $exp(self)
            }
            #[inline(always)]
            fn pow2i(self) -> Self {
                pow2!($t, self)
            }
            #[inline(always)]
            fn map_f64(self, f: impl Fn(f64) -> f64) -> Self {
                f(self as f64) as $t
            }
            /// Our kernels inside the reduction's range; libm (in f64) beyond it.
            #[inline]
            fn sin_cos(self) -> (Self, Self) {
                if self.abs() < $limit {
                    $sin_cos(self)
                } else {
                    let (s, c) = (self as f64).sin_cos();
                    (s as $t, c as $t)
                }
            }
        }
    };
}

scalar!(
    f64,
    4_503_599_627_370_496.0,
    sin_cos_f64,
    sin_cos_turns_f64,
    SIN_COS_LIMIT_F64,
    exp_f64
);
scalar!(
    f32,
    8_388_608.0,
    sin_cos_f32,
    sin_cos_turns_f32,
    SIN_COS_LIMIT_F32,
    exp_f32
);

/// A point or vector of the plane, in any lane type: `x` and `y` each hold one coordinate of
/// every lane (structure of arrays).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct V2<R> {
    pub x: R,
    pub y: R,
}

impl<R: Real> V2<R> {
    #[inline(always)]
    pub fn new(x: R, y: R) -> Self {
        Self { x, y }
    }
    #[inline(always)]
    pub fn splat(v: f64) -> Self {
        Self::new(R::splat(v), R::splat(v))
    }
    #[inline(always)]
    pub fn map(self, f: impl Fn(R) -> R) -> Self {
        Self::new(f(self.x), f(self.y))
    }
    /// Both components times one factor.
    #[inline(always)]
    pub fn scale(self, k: R) -> Self {
        Self::new(self.x * k, self.y * k)
    }
    /// `k * v`, with the factor on the left (the operand order of `f64 * DVec2`).
    #[inline(always)]
    pub fn scaled_by(k: R, v: Self) -> Self {
        Self::new(k * v.x, k * v.y)
    }
    #[inline(always)]
    pub fn div_by(self, k: R) -> Self {
        Self::new(self.x / k, self.y / k)
    }
    #[inline(always)]
    pub fn add_scalar(self, k: R) -> Self {
        Self::new(self.x + k, self.y + k)
    }
    #[inline(always)]
    pub fn sqrt(self) -> Self {
        self.map(R::sqrt)
    }
    #[inline(always)]
    pub fn max(self, o: Self) -> Self {
        Self::new(self.x.max(o.x), self.y.max(o.y))
    }
    /// Where `m`, `a`; else `b`.
    #[inline(always)]
    pub fn select(m: R::Mask, a: Self, b: Self) -> Self {
        Self::new(R::select(m, a.x, b.x), R::select(m, a.y, b.y))
    }
    /// `f64` lanes: lane `i` as a `DVec2`.
    #[inline(always)]
    pub fn lane(self, i: usize) -> DVec2 {
        DVec2::new(self.x.lane(i), self.y.lane(i))
    }
}

impl<R: Real> Add for V2<R> {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Self::new(self.x + o.x, self.y + o.y)
    }
}
impl<R: Real> Sub for V2<R> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Self::new(self.x - o.x, self.y - o.y)
    }
}
impl<R: Real> Mul for V2<R> {
    type Output = Self;
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        Self::new(self.x * o.x, self.y * o.y)
    }
}
impl<R: Real> Div for V2<R> {
    type Output = Self;
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        Self::new(self.x / o.x, self.y / o.y)
    }
}
impl<R: Real> Neg for V2<R> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Self::new(-self.x, -self.y)
    }
}

impl V2<f64> {
    /// A `DVec2` as one f64 lane.
    #[inline(always)]
    pub fn of(v: DVec2) -> Self {
        Self::new(v.x, v.y)
    }
}

impl From<DVec2> for V2<f64> {
    #[inline(always)]
    fn from(v: DVec2) -> Self {
        Self::new(v.x, v.y)
    }
}

impl From<V2<f64>> for DVec2 {
    #[inline(always)]
    fn from(v: V2<f64>) -> Self {
        DVec2::new(v.x, v.y)
    }
}
