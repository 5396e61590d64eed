//! The elementary functions of the lanes, our own so that they vectorize: sine and cosine
//! (FreeBSD/musl kernels in f64, Cephes in f32, with a Cody-Waite reduction by pi/2), sine and
//! cosine of turns, and the exponential (FreeBSD `e_exp.c` in f64, Cephes `expf` in f32). See
//! the module above for their accuracy.

use super::Real;

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
pub(super) fn reduce_pio2<R: Real>(x: R, pio2: [f64; 3]) -> (R, R) {
    let c = R::splat;
    let q = (x * c(std::f64::consts::FRAC_2_PI)).round();
    let r = ((x - q * c(pio2[0])) - q * c(pio2[1])) - q * c(pio2[2]);
    (q, r)
}

/// Double-precision sine and cosine for any lane type whose lanes are f64: pi/2 in three parts
/// of 33 bits each (FreeBSD e_rem_pio2.c, digit for digit).
#[allow(clippy::excessive_precision)]
#[inline(always)]
pub(super) fn sin_cos_f64<R: Real>(x: R) -> (R, R) {
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
pub(super) fn kernels_f64<R: Real>(r: R) -> (R, R) {
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
pub(super) fn sin_cos_f32<R: Real>(x: R) -> (R, R) {
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
pub(super) fn kernels_f32<R: Real>(r: R) -> (R, R) {
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
pub(super) fn exp_f64<R: Real>(x: R) -> R {
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
pub(super) fn exp_f32<R: Real>(x: R) -> R {
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
pub(super) fn reduce_turns<R: Real>(t: R) -> (R, R) {
    let c = R::splat;
    let quarters = t * c(4.0);
    let q = quarters.round();
    (q, (quarters - q) * c(std::f64::consts::FRAC_PI_2))
}

/// [`reduce_turns`] with the double-precision kernels.
#[inline(always)]
pub(super) fn sin_cos_turns_f64<R: Real>(t: R) -> (R, R) {
    let (q, r) = reduce_turns(t);
    let (sin, cos) = kernels_f64(r);
    quadrant(q, sin, cos)
}

/// [`reduce_turns`] with the single-precision kernels.
#[inline(always)]
pub(super) fn sin_cos_turns_f32<R: Real>(t: R) -> (R, R) {
    let (q, r) = reduce_turns(t);
    let (sin, cos) = kernels_f32(r);
    quadrant(q, sin, cos)
}

/// Maps the kernels' sine and cosine of the reduced argument back to quadrant `q`.
#[inline(always)]
pub(super) fn quadrant<R: Real>(q: R, sin: R, cos: R) -> (R, R) {
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
