//! Lanes: the same arithmetic on one number or on several at once, written once.
//!
//! Surfaces and update rules that the lab runs in lockstep batches are written generically over
//! [`Real`]: the sandbox and `trace` instantiate them with `f64` (one ball), the lab's batch
//! runner with [`F64x4`], [`F64x8`] or [`F32x8`] (four or eight runs side by side,
//! structure-of-arrays).
//! Every lane operation is the scalar IEEE operation applied per lane, in the same order (Rust
//! never fuses a multiply and an add on its own), so a lane of a batch equals the scalar run bit
//! for bit. The compiler turns the per-lane loops into vector instructions (AVX where the CPU has
//! it, AVX-512 for eight f64 lanes; see `lab::batch`).
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

/// Below this magnitude the double-precision reduction by pi/2 is exact enough (the quadrant
/// count times the first part of pi/2 is exact for counts below 2^20).
pub const SIN_COS_LIMIT_F64: f64 = 524_288.0;
/// The same for single precision (Cephes' limit).
pub const SIN_COS_LIMIT_F32: f32 = 8192.0;

/// The reduction of sine and cosine: `x = q pi/2 + r` with pi/2 given in three parts
/// (Cody-Waite: the first products are exact inside the range limit). Returns `(q, r)`.
///
/// (The kernels are called directly by each precision's function, never passed as closures: a
/// closure is compiled as its own function, without the AVX of the lab's engine.)
#[inline(always)]
fn reduce_pio2<R: Real>(x: R, pio2: [f64; 3]) -> (R, R) {
    let c = R::splat;
    let q = (x * c(std::f64::consts::FRAC_2_PI)).round();
    let r = ((x - q * c(pio2[0])) - q * c(pio2[1])) - q * c(pio2[2]);
    (q, r)
}

/// Double-precision sine and cosine for any lane type whose lanes are f64: pi/2 in three parts
/// of 33 bits each (FreeBSD e_rem_pio2.c, digit for digit).
#[allow(clippy::excessive_precision)]
#[inline(always)]
fn sin_cos_f64<R: Real>(x: R) -> (R, R) {
    const PIO2: [f64; 3] = [
        1.570_796_326_734_125_614_17,
        6.077_100_506_303_965_976_6e-11,
        2.022_266_248_711_166_455_8e-21,
    ];
    let (q, r) = reduce_pio2(x, PIO2);
    let (sin, cos) = kernels_f64(r);
    quadrant(q, sin, cos)
}

/// The FreeBSD/musl kernels: sine and cosine of `|r| <= pi/4` (plus rounding), f64 lanes.
#[allow(clippy::excessive_precision)]
#[inline(always)]
fn kernels_f64<R: Real>(r: R) -> (R, R) {
    // k_sin.c
    const S1: f64 = -1.666_666_666_666_663_243_48e-1;
    const S2: f64 = 8.333_333_333_322_489_461_24e-3;
    const S3: f64 = -1.984_126_982_985_794_931_34e-4;
    const S4: f64 = 2.755_731_370_707_006_767_89e-6;
    const S5: f64 = -2.505_076_025_340_686_341_95e-8;
    const S6: f64 = 1.589_690_995_211_550_102_21e-10;
    // k_cos.c
    const C1: f64 = 4.166_666_666_666_660_190_37e-2;
    const C2: f64 = -1.388_888_888_887_410_957_49e-3;
    const C3: f64 = 2.480_158_728_947_672_941_78e-5;
    const C4: f64 = -2.755_731_435_139_066_330_35e-7;
    const C5: f64 = 2.087_572_321_298_174_827_9e-9;
    const C6: f64 = -1.135_964_755_778_819_482_65e-11;
    let c = R::splat;
    let z = r * r;
    let w = z * z;
    let rs = c(S2) + z * (c(S3) + z * c(S4)) + z * w * (c(S5) + z * c(S6));
    let sin = r + z * r * (c(S1) + z * rs);
    let rc = z * (c(C1) + z * (c(C2) + z * c(C3))) + w * w * (c(C4) + z * (c(C5) + z * c(C6)));
    let hz = c(0.5) * z;
    let one_minus = c(1.0) - hz;
    let cos = one_minus + (((c(1.0) - one_minus) - hz) + z * rc);
    (sin, cos)
}

/// Single-precision sine and cosine (Cephes `sinf`/`cosf`) for f32 lanes: pi/2 in three parts
/// (Cephes' DP1..DP3, doubled).
#[allow(clippy::excessive_precision)]
#[inline(always)]
fn sin_cos_f32<R: Real>(x: R) -> (R, R) {
    const PIO2: [f64; 3] = [
        1.570_312_5,
        4.837_512_969_970_703_125e-4,
        7.549_789_954_891_882_16e-8,
    ];
    let (q, r) = reduce_pio2(x, PIO2);
    let (sin, cos) = kernels_f32(r);
    quadrant(q, sin, cos)
}

/// Cephes' `sinf`/`cosf` polynomials for `|r| <= pi/4`, f32 lanes.
#[allow(clippy::excessive_precision)]
#[inline(always)]
fn kernels_f32<R: Real>(r: R) -> (R, R) {
    let c = R::splat;
    let z = r * r;
    let sin =
        ((c(-1.951_529_589_1e-4) * z + c(8.332_160_873_6e-3)) * z - c(1.666_665_461_1e-1)) * z * r
            + r;
    let cos = ((c(2.443_315_711_809_948e-5) * z - c(1.388_731_625_493_765e-3)) * z
        + c(4.166_664_568_298_827e-2))
        * z
        * z
        - c(0.5) * z
        + c(1.0);
    (sin, cos)
}

/// `2^k` for an integer-valued `k` inside the normal exponent range of the lane type, built
/// from its bits: `k + (2^52 + 1023)` holds `k + 1023` in its low bits (f64; 2^23 + 127 for f32),
/// which shifted into the exponent field is `2^k`.
macro_rules! pow2 {
    (f64, $k:expr) => {
        f64::from_bits(($k + 4_503_599_627_371_519.0f64).to_bits() << 52)
    };
    (f32, $k:expr) => {
        f32::from_bits(($k + 8_388_735.0f32).to_bits() << 23)
    };
}

/// `e^x` in double precision for lanes of f64: FreeBSD `e_exp.c`.
#[allow(clippy::excessive_precision)]
#[inline(always)]
fn exp_f64<R: Real>(x: R) -> R {
    const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-01;
    const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
    const P1: f64 = 1.666_666_666_666_660_190_37e-01;
    const P2: f64 = -2.777_777_777_701_559_338_42e-03;
    const P3: f64 = 6.613_756_321_437_934_361_17e-05;
    const P4: f64 = -1.653_390_220_546_525_153_90e-06;
    const P5: f64 = 4.138_136_797_057_238_460_39e-08;
    let c = R::splat;
    // Beyond these every result is infinite or zero; the clamp keeps k in range.
    let xc = x.max(c(-746.0)).min(c(710.0));
    let k = (xc * c(std::f64::consts::LOG2_E)).round();
    let hi = xc - k * c(LN2_HI);
    let lo = k * c(LN2_LO);
    let r = hi - lo;
    let t = r * r;
    let cc = r - t * (c(P1) + t * (c(P2) + t * (c(P3) + t * (c(P4) + t * c(P5)))));
    let y = c(1.0) - ((lo - (r * cc) / (c(2.0) - cc)) - hi);
    // 2^k in two exact halves: only the last product rounds (once, also into subnormals).
    let k1 = (k * c(0.5)).floor();
    let out = y * k1.pow2i() * (k - k1).pow2i();
    // NaN stays NaN (the clamp would have turned it into a number).
    R::select(x.eq(x), out, x)
}

/// `e^x` in single precision for lanes of f32: Cephes `expf`.
#[allow(clippy::excessive_precision)]
#[inline(always)]
fn exp_f32<R: Real>(x: R) -> R {
    let c = R::splat;
    let xc = x.max(c(-104.0)).min(c(89.0));
    let k = (xc * c(std::f64::consts::LOG2_E)).round();
    let r = xc - k * c(0.693_359_375) - k * c(-2.121_944_400_546_905_827_68e-4);
    let z = r * r;
    let p = (((((c(1.987_569_150_0e-4) * r + c(1.398_199_950_7e-3)) * r + c(8.333_451_907_3e-3))
        * r
        + c(4.166_579_589_4e-2))
        * r
        + c(1.666_666_545_9e-1))
        * r
        + c(5.000_000_120_1e-1))
        * z
        + r
        + c(1.0);
    let k1 = (k * c(0.5)).floor();
    let out = p * k1.pow2i() * (k - k1).pow2i();
    R::select(x.eq(x), out, x)
}

/// `(sin 2 pi t, cos 2 pi t)`, reduced for any lane type: the reduction happens in turns, where it is
/// exact (`4t - round(4t)` has no rounding error), and a single multiplication by pi/2 leaves
/// the kernels' range; so it is accurate for every finite `t`, with no fallback.
#[inline(always)]
fn reduce_turns<R: Real>(t: R) -> (R, R) {
    let c = R::splat;
    let quarters = t * c(4.0);
    let q = quarters.round();
    (q, (quarters - q) * c(std::f64::consts::FRAC_PI_2))
}

/// [`reduce_turns`] with the double-precision kernels.
#[inline(always)]
fn sin_cos_turns_f64<R: Real>(t: R) -> (R, R) {
    let (q, r) = reduce_turns(t);
    let (sin, cos) = kernels_f64(r);
    quadrant(q, sin, cos)
}

/// [`reduce_turns`] with the single-precision kernels.
#[inline(always)]
fn sin_cos_turns_f32<R: Real>(t: R) -> (R, R) {
    let (q, r) = reduce_turns(t);
    let (sin, cos) = kernels_f32(r);
    quadrant(q, sin, cos)
}

/// Maps the kernels' sine and cosine of the reduced argument back to quadrant `q`.
#[inline(always)]
fn quadrant<R: Real>(q: R, sin: R, cos: R) -> (R, R) {
    let c = R::splat;
    // With k = q mod 4 (q is an integer well inside the exact range): sine and cosine swap for
    // odd k, the sine is negated for k = 2, 3 (q / 2 rounded down is odd), the cosine for
    // k = 1, 2 (exactly one of the two conditions). Halving and flooring are exact.
    let half = q * c(0.5);
    let h = half.floor();
    let odd = !half.eq(h);
    let quarter = h * c(0.5);
    let neg_sin = !quarter.eq(quarter.floor());
    let neg_cos = odd ^ neg_sin;
    let s = R::select(odd, cos, sin);
    let co = R::select(odd, sin, cos);
    (R::select(neg_sin, -s, s), R::select(neg_cos, -co, co))
}

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

macro_rules! mask {
    ($name:ident, $bits:ident, $n:literal) => {
        #[doc = concat!("A mask of ", stringify!($n), " lanes: all bits set or none, so that it has the")]
        /// lanes' width and selects compile to vector blends.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name(pub [$bits; $n]);

        impl $name {
            #[inline(always)]
            fn from_bools(f: impl Fn(usize) -> bool) -> Self {
                Self(std::array::from_fn(|i| if f(i) { $bits::MAX } else { 0 }))
            }
        }

        impl BitAnd for $name {
            type Output = Self;
            #[inline(always)]
            fn bitand(self, o: Self) -> Self {
                Self(std::array::from_fn(|i| self.0[i] & o.0[i]))
            }
        }

        impl BitOr for $name {
            type Output = Self;
            #[inline(always)]
            fn bitor(self, o: Self) -> Self {
                Self(std::array::from_fn(|i| self.0[i] | o.0[i]))
            }
        }

        impl BitXor for $name {
            type Output = Self;
            #[inline(always)]
            fn bitxor(self, o: Self) -> Self {
                Self(std::array::from_fn(|i| self.0[i] ^ o.0[i]))
            }
        }

        impl Not for $name {
            type Output = Self;
            #[inline(always)]
            fn not(self) -> Self {
                Self(std::array::from_fn(|i| !self.0[i]))
            }
        }

        impl Mask for $name {
            #[inline(always)]
            fn any(self) -> bool {
                self.0.iter().fold(0, |a, &b| a | b) != 0
            }
            #[inline(always)]
            fn test(self, i: usize) -> bool {
                self.0[i] != 0
            }
        }
    };
}

mask!(M64x4, u64, 4);
mask!(M64x8, u64, 8);
mask!(M32x8, u32, 8);

macro_rules! lanes {
    ($name:ident, $t:ident, $n:literal, $mask:ident, $sin_cos:ident, $turns:ident, $limit:ident, $exp:ident) => {
        #[doc = concat!(stringify!($n), " `", stringify!($t), "` lanes.")]
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name(pub [$t; $n]);

        impl $name {
            #[inline(always)]
            fn map(self, f: impl Fn($t) -> $t) -> Self {
                Self(std::array::from_fn(|i| f(self.0[i])))
            }
            #[inline(always)]
            fn zip(self, o: Self, f: impl Fn($t, $t) -> $t) -> Self {
                Self(std::array::from_fn(|i| f(self.0[i], o.0[i])))
            }
            #[inline(always)]
            fn cmp(self, o: Self, f: impl Fn($t, $t) -> bool) -> $mask {
                $mask::from_bools(|i| f(self.0[i], o.0[i]))
            }
        }

        impl Add for $name {
            type Output = Self;
            #[inline(always)]
            fn add(self, o: Self) -> Self {
                self.zip(o, |a, b| a + b)
            }
        }
        impl Sub for $name {
            type Output = Self;
            #[inline(always)]
            fn sub(self, o: Self) -> Self {
                self.zip(o, |a, b| a - b)
            }
        }
        impl Mul for $name {
            type Output = Self;
            #[inline(always)]
            fn mul(self, o: Self) -> Self {
                self.zip(o, |a, b| a * b)
            }
        }
        impl Div for $name {
            type Output = Self;
            #[inline(always)]
            fn div(self, o: Self) -> Self {
                self.zip(o, |a, b| a / b)
            }
        }
        impl Neg for $name {
            type Output = Self;
            #[inline(always)]
            fn neg(self) -> Self {
                self.map(|a| -a)
            }
        }

        impl Real for $name {
            type Mask = $mask;
            const LANES: usize = $n;
            #[inline(always)]
            fn splat(v: f64) -> Self {
                Self([v as $t; $n])
            }
            #[inline(always)]
            fn lane(self, i: usize) -> f64 {
                self.0[i] as f64
            }
            #[inline(always)]
            fn from_fn(mut f: impl FnMut(usize) -> f64) -> Self {
                Self(std::array::from_fn(|i| f(i) as $t))
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                self.map($t::sqrt)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                self.map($t::abs)
            }
            #[inline(always)]
            fn max(self, o: Self) -> Self {
                self.zip(o, $t::max)
            }
            #[inline(always)]
            fn min(self, o: Self) -> Self {
                self.zip(o, $t::min)
            }
            #[inline(always)]
            fn round(self) -> Self {
                self.map($t::round_ties_even)
            }
            #[inline(always)]
            fn floor(self) -> Self {
                self.map($t::floor)
            }
            #[inline(always)]
            fn lt(self, o: Self) -> $mask {
                self.cmp(o, |a, b| a < b)
            }
            #[inline(always)]
            fn le(self, o: Self) -> $mask {
                self.cmp(o, |a, b| a <= b)
            }
            #[inline(always)]
            fn gt(self, o: Self) -> $mask {
                self.cmp(o, |a, b| a > b)
            }
            #[inline(always)]
            fn ge(self, o: Self) -> $mask {
                self.cmp(o, |a, b| a >= b)
            }
            #[inline(always)]
            fn eq(self, o: Self) -> $mask {
                self.cmp(o, |a, b| a == b)
            }
            #[inline(always)]
            fn is_finite(self) -> $mask {
                $mask::from_bools(|i| self.0[i].abs() < $t::INFINITY)
            }
            #[inline(always)]
            fn select(m: $mask, a: Self, b: Self) -> Self {
                Self(std::array::from_fn(|i| {
                    $t::from_bits((a.0[i].to_bits() & m.0[i]) | (b.0[i].to_bits() & !m.0[i]))
                }))
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
                Self(std::array::from_fn(|i| pow2!($t, self.0[i])))
            }
            #[inline(always)]
            fn map_f64(self, f: impl Fn(f64) -> f64) -> Self {
                self.map(|v| f(v as f64) as $t)
            }
            #[inline(always)]
            fn sin_cos(self) -> (Self, Self) {
                let (mut s, mut c) = $sin_cos(self);
                // Lanes beyond the reduction's range (rare: far outside any domain) take the
                // scalar path, which hands them to libm.
                // (NaN too: the scalar path hands it to libm as well.)
                let inside = self.abs().lt(Self::splat($limit as f64));
                if (!inside).any() {
                    for i in 0..$n {
                        let (si, ci) = Real::sin_cos(self.0[i]);
                        s.0[i] = si;
                        c.0[i] = ci;
                    }
                }
                (s, c)
            }
        }
    };
}

lanes!(
    F64x4,
    f64,
    4,
    M64x4,
    sin_cos_f64,
    sin_cos_turns_f64,
    SIN_COS_LIMIT_F64,
    exp_f64
);
lanes!(
    F64x8,
    f64,
    8,
    M64x8,
    sin_cos_f64,
    sin_cos_turns_f64,
    SIN_COS_LIMIT_F64,
    exp_f64
);
lanes!(
    F32x8,
    f32,
    8,
    M32x8,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sin_cos_close_to_libm() {
        let mut worst = 0.0f64;
        let mut x = -2000.0;
        while x < 2000.0 {
            let (s, c) = Real::sin_cos(x);
            let (ls, lc) = f64::sin_cos(x);
            worst = worst.max((s - ls).abs()).max((c - lc).abs());
            x += 0.001_234_567;
        }
        assert!(worst < 4.0 * f64::EPSILON, "worst {worst:e}");
        let mut worst32 = 0.0f64;
        let mut x = -100.0f32;
        while x < 100.0 {
            let (s, c) = Real::sin_cos(x);
            let (ls, lc) = (x as f64).sin_cos();
            worst32 = worst32
                .max((s as f64 - ls).abs())
                .max((c as f64 - lc).abs());
            x += 0.000_987_6;
        }
        assert!(worst32 < 4.0 * f32::EPSILON as f64, "worst {worst32:e}");
    }

    #[test]
    fn sin_cos_turns_close_to_libm_for_any_argument() {
        let mut worst = 0.0f64;
        let mut t = -300.0;
        while t < 300.0 {
            let (s, c) = Real::sin_cos_turns(t);
            let (ls, lc) = (std::f64::consts::TAU * t).sin_cos();
            // libm's argument 2 pi t is itself rounded: allow for that error (|2 pi t| ulp).
            let slack = 4.0 * f64::EPSILON * (1.0 + (std::f64::consts::TAU * t).abs());
            worst = worst.max(((s - ls).abs().max((c - lc).abs())) / slack);
            t += 0.000_731;
        }
        assert!(worst <= 1.0, "worst {worst}");
        // Exact at quarter turns, and for huge arguments (which are whole turns).
        assert_eq!(Real::sin_cos_turns(0.25f64), (1.0, 0.0));
        assert_eq!(Real::sin_cos_turns(1e300f64).0, 0.0);
        assert!(Real::sin_cos_turns(f64::INFINITY).0.is_nan());
        let (s32, c32) = Real::sin_cos_turns(0.1f32);
        let (s, c) = (std::f64::consts::TAU * 0.1f32 as f64).sin_cos();
        assert!((s32 as f64 - s).abs() < 2e-7 && (c32 as f64 - c).abs() < 2e-7);
        let v = F64x4([0.1, -2.7, 1e20, f64::NAN]);
        let (s, c) = v.sin_cos_turns();
        for i in 0..4 {
            let (ss, sc) = Real::sin_cos_turns(v.0[i]);
            assert_eq!(
                (s.0[i].to_bits(), c.0[i].to_bits()),
                (ss.to_bits(), sc.to_bits())
            );
        }
    }

    /// Distance in units in the last place.
    fn ulps(a: f64, b: f64) -> u64 {
        if a == b || (a.is_nan() && b.is_nan()) {
            return 0;
        }
        let key = |v: f64| {
            let b = v.to_bits() as i64;
            if b < 0 { i64::MIN - b } else { b }
        };
        key(a).abs_diff(key(b))
    }

    #[test]
    fn exp_within_one_ulp_of_libm() {
        let mut worst = 0;
        let mut x = -760.0;
        while x < 720.0 {
            let e = Real::exp(x);
            worst = worst.max(ulps(e, x.exp()));
            x += 0.003_141_592_7;
        }
        assert!(worst <= 1, "worst {worst} ulp");
        let mut worst32 = 0;
        let mut x = -110.0f32;
        while x < 95.0 {
            let e: f32 = Real::exp(x);
            // Against the correctly rounded value (libm in f64, rounded to f32).
            let want = (x as f64).exp() as f32;
            let key = |v: f32| {
                let b = v.to_bits() as i32;
                if b < 0 { i32::MIN - b } else { b }
            };
            let d = key(e).abs_diff(key(want));
            assert!(d <= 2, "exp({x}) = {e}, want {want}");
            worst32 = worst32.max(d);
            x += 0.000_713;
        }
        assert!(worst32 <= 2, "worst {worst32} ulp (f32)");
        for (x, want) in [
            (0.0, 1.0),
            (f64::NEG_INFINITY, 0.0),
            (f64::INFINITY, f64::INFINITY),
            (-1e300, 0.0),
            (1e300, f64::INFINITY),
        ] {
            assert_eq!(Real::exp(x), want, "{x}");
        }
        assert!(Real::exp(f64::NAN).is_nan());
        assert!(Real::exp(f32::NAN).is_nan());
        let v = F64x4([0.3, -700.5, 709.7, f64::NAN]);
        let w = F32x8([0.3, -100.5, 88.5, f32::NAN, -3.0, 5.5, 1e-9, -0.0]);
        for i in 0..4 {
            assert_eq!(v.exp().0[i].to_bits(), Real::exp(v.0[i]).to_bits());
        }
        for i in 0..8 {
            assert_eq!(w.exp().0[i].to_bits(), Real::exp(w.0[i]).to_bits());
        }
    }

    #[test]
    fn powi_is_binary_powering() {
        for x in [0.3, -1.7, 2.0, 1e-3, 123.456] {
            for n in -7..9 {
                let p: f64 = Real::powi(x, n);
                assert!(ulps(p, x.powi(n)) <= 2, "{x}^{n}");
                let v = F64x4([x; 4]).powi(n);
                assert_eq!(v.0[2].to_bits(), p.to_bits());
            }
        }
    }

    #[test]
    fn scalar_round_and_floor_are_the_standard_ones() {
        let xs = [
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            -0.5,
            -1.5,
            -2.5,
            0.3,
            -0.3,
            7.999,
            -7.999,
            1e15 + 0.5,
            4.5e15,
            -4.5e15,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for x in xs {
            assert_eq!(
                Real::round(x).to_bits(),
                x.round_ties_even().to_bits(),
                "{x}"
            );
            assert_eq!(Real::floor(x).to_bits(), x.floor().to_bits(), "{x}");
            let y = x as f32;
            assert_eq!(
                Real::round(y).to_bits(),
                y.round_ties_even().to_bits(),
                "{y}"
            );
            assert_eq!(Real::floor(y).to_bits(), y.floor().to_bits(), "{y}");
        }
    }

    #[test]
    fn lanes_equal_scalars_bit_for_bit() {
        let xs = [
            0.3,
            -1e-300,
            7.5e5,
            f64::NAN,
            1.0e6,
            -3.9,
            f64::INFINITY,
            123.456,
        ];
        for chunk in xs.chunks(4) {
            let v = F64x4(std::array::from_fn(|i| chunk[i]));
            let (s, c) = v.sin_cos();
            for (i, x) in chunk.iter().enumerate() {
                let (ss, sc) = Real::sin_cos(*x);
                assert_eq!(s.0[i].to_bits(), ss.to_bits(), "sin {x}");
                assert_eq!(c.0[i].to_bits(), sc.to_bits(), "cos {x}");
            }
        }
        // Eight lanes (the AVX-512 builds' f64 lanes): the same values.
        for chunk in xs.chunks(8) {
            let v = F64x8(std::array::from_fn(|i| chunk[i % chunk.len()]));
            let (s, c) = v.sin_cos();
            let (st, ct) = v.sin_cos_turns();
            for (i, x) in chunk.iter().enumerate() {
                let (ss, sc) = Real::sin_cos(*x);
                assert_eq!(s.0[i].to_bits(), ss.to_bits(), "sin {x}");
                assert_eq!(c.0[i].to_bits(), sc.to_bits(), "cos {x}");
                // Bit for bit where finite; NaN for NaN (its sign bit may differ: infinity's
                // reduction is `inf - inf`, whose NaN the scalar and lane roundings carry apart).
                let (ts, tc) = Real::sin_cos_turns(*x);
                let same =
                    |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
                assert!(same(st.0[i], ts) && same(ct.0[i], tc), "sin_cos_turns {x}");
            }
        }
        let v = F32x8([
            0.3,
            -1e-30,
            9000.0,
            f32::NAN,
            1.0e6,
            -3.9,
            f32::INFINITY,
            12.5,
        ]);
        let (s, c) = v.sin_cos();
        for i in 0..8 {
            let (ss, sc) = Real::sin_cos(v.0[i]);
            assert_eq!(s.0[i].to_bits(), ss.to_bits());
            assert_eq!(c.0[i].to_bits(), sc.to_bits());
        }
    }
}
