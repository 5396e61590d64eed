//! Surfaces: exact gradients, stated and estimated minima, the notebook's surface, parameters.

// The notebook's constants use 3.14, not pi.
#![allow(clippy::approx_constant)]

use glam::DVec2;
use optiscape_core::landscape::{Domain, Surface, catalog as surfaces, estimate_global_minimum};
use optiscape_core::optim::Rng;

// ---------------------------------------------------------------- surfaces

/// Points where a surface has a kink: central differences are meaningless there.
fn near_kink(id: &str, p: DVec2) -> bool {
    match id {
        "seed" => (p.x - 5.0 * 3.14).abs() < 1e-3 || (p.y - 5.0 * 3.14).abs() < 1e-3,
        "ackley" => p.length() < 1e-3,
        _ => false,
    }
}

#[test]
fn gradients_match_central_differences_at_1000_random_points() {
    let mut rng = Rng::new(20261125);
    for info in surfaces() {
        let s = Surface::by_id(info.id).unwrap();
        let d = s.domain;
        let h = 1e-6 * d.extent();
        let mut checked = 0;
        while checked < 1000 {
            let p = d.lerp(rng.uniform(), rng.uniform());
            if near_kink(info.id, p) {
                continue;
            }
            let g = s.gradient(p);
            let ex = DVec2::new(h, 0.0);
            let ey = DVec2::new(0.0, h);
            let fd = DVec2::new(
                (s.height(p + ex) - s.height(p - ex)) / (2.0 * h),
                (s.height(p + ey) - s.height(p - ey)) / (2.0 * h),
            );
            // Central differences err by O(h^2 f''') plus rounding O(eps |f| / h).
            let scale = 1.0 + g.abs().max_element() + 1e-9 * s.height(p).abs() / h;
            let err = (g - fd).abs().max_element();
            assert!(
                err <= 1e-5 * scale,
                "{}: gradient {g} vs differences {fd} at {p} (err {err})",
                info.id
            );
            checked += 1;
        }
    }
}

#[test]
fn stated_minima_are_reproduced_by_height_and_are_stationary() {
    for info in surfaces() {
        let s = Surface::by_id(info.id).unwrap();
        let min = s.global_minimum();
        assert!(!min.estimated, "{}: catalog minimum is stated", info.id);
        assert!(!min.points.is_empty(), "{}", info.id);
        for p in &min.points {
            assert!(s.domain.contains(*p), "{}: {p} inside", info.id);
            let v = s.height(*p);
            assert!(
                (v - min.value).abs() <= 1e-13 * min.value.abs().max(1.0),
                "{}: height {v} at {p}, stated {}",
                info.id,
                min.value
            );
        }
    }
}

#[test]
fn numerical_minimisation_agrees_with_the_literature() {
    for info in surfaces() {
        let s = Surface::by_id(info.id).unwrap();
        let stated = s.global_minimum();
        let est = estimate_global_minimum(|p| s.height(p), s.domain, 401);
        assert!(
            est.value >= stated.value - 1e-9 * stated.value.abs().max(1.0),
            "{}: found {} below the stated minimum {}",
            info.id,
            est.value,
            stated.value
        );
        assert!(
            est.value <= stated.value + 1e-7 * stated.value.abs().max(1.0),
            "{}: found only {} (stated {})",
            info.id,
            est.value,
            stated.value
        );
        for p in &est.points {
            let nearest = stated
                .points
                .iter()
                .map(|q| q.distance(*p))
                .fold(f64::INFINITY, f64::min);
            assert!(
                nearest < 1e-3 * s.domain.extent(),
                "{}: extra minimum at {p}",
                info.id
            );
        }
    }
}

/// The proof behind `seed`'s stored minimum: a dense grid (1001 x 1001 over the whole domain)
/// plus compass-search refinement finds nothing lower, and finds all five stated points.
#[test]
fn seed_global_minimum_is_proven_by_grid_and_refinement() {
    let s = Surface::seed();
    let stated = s.global_minimum();
    let est = estimate_global_minimum(|p| s.height(p), s.domain, 1001);
    assert!(
        est.value >= stated.value - 1e-13,
        "grid+refinement found {} below the stored {}",
        est.value,
        stated.value
    );
    assert!((est.value - stated.value).abs() < 1e-12);
    assert_eq!(stated.points.len(), 5);
    for q in &stated.points {
        assert!(
            est.points.iter().any(|p| p.distance(*q) < 1e-6),
            "stated minimum {q} not found again: {:?}",
            est.points
        );
        // A local minimum: no nearby point is lower.
        for d in [1e-4, 1e-2] {
            for dir in [
                DVec2::X,
                DVec2::Y,
                -DVec2::X,
                -DVec2::Y,
                DVec2::ONE,
                -DVec2::ONE,
            ] {
                assert!(s.height(*q + dir * d) > stated.value);
            }
        }
    }
}

#[test]
fn seed_surface_is_the_notebooks_formula() {
    let s = Surface::seed();
    let (a, phi, c) = (0.7, 2.0 * 3.14 * 0.5, 5.0 * 3.14);
    let f = |x: f64, y: f64| {
        2.0 + a - 2.0 * x.cos() * y.cos() - 3.0 + (x - c).abs() * (y - c).abs() * 0.1
            - a * (phi - 2.0 * x).cos()
    };
    // Our sine and cosine (vectorizable, `optiscape_core::lanes`) are within an ulp or two of libm.
    let mut rng = Rng::new(1);
    for _ in 0..100 {
        let p = s.domain.lerp(rng.uniform(), rng.uniform());
        assert!((s.height(p) - f(p.x, p.y)).abs() < 4e-15, "{p}");
    }
    assert_eq!(s.default_start(), DVec2::new(0.6 * 3.14, 1.9 * 3.14));
    assert_eq!(s.domain, Domain::square(0.0, 10.0 * 3.14));
    assert_eq!(s.view(), Domain::square(2.0 * 3.14, 8.0 * 3.14));
    // The subgradient at the kink takes sign(0) = 0.
    let on_kink = DVec2::new(c, c);
    let g = s.gradient(on_kink);
    assert_eq!(g.y, 2.0 * c.cos() * c.sin());
}

#[test]
fn a_domain_without_the_stated_minima_gets_an_estimate() {
    let mut s = Surface::by_id("rastrigin").unwrap();
    s.domain = Domain::square(1.5, 4.0);
    let min = s.global_minimum();
    assert!(min.estimated);
    assert!(min.points.iter().all(|p| s.domain.contains(*p)));
    assert!(min.value > 0.0 && min.value < s.height(DVec2::splat(2.5)));
}

#[test]
fn surface_parameters_are_checked() {
    let mut s = Surface::by_id("rosenbrock").unwrap();
    assert!(s.set_param("b", 10.0).is_ok());
    assert!(s.set_param("b", -1.0).is_err());
    assert!(s.set_param("b", f64::NAN).is_err());
    assert!(s.set_param("zz", 1.0).is_err());
    s.set_param("a", 0.5).unwrap();
    let min = s.global_minimum();
    assert_eq!(min.points, vec![DVec2::new(0.5, 0.25)]);
    assert_eq!(s.height(min.points[0]), 0.0);
}
