//! The lanes against the scalar operations and libm.

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
            let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
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
