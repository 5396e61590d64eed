//! The vector lane types: [`F64x4`], [`F64x8`] and [`F32x8`] (arrays the compiler keeps in
//! vector registers) with their masks, every operation the scalar one lane by lane.

use super::elementary::{
    exp_f32, exp_f64, sin_cos_f32, sin_cos_f64, sin_cos_turns_f32, sin_cos_turns_f64,
};
use super::{Mask, Real, SIN_COS_LIMIT_F32, SIN_COS_LIMIT_F64};
use std::ops::{Add, BitAnd, BitOr, BitXor, Div, Mul, Neg, Not, Sub};

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
