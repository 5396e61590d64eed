//! Instances of a surface (`--rotate`, `--instance`): the turned picture equals its typed-out
//! formula, gradients are exact, the global minima move with the picture and stay inside the
//! domain, and an instance is the same wherever it is built.

use glam::DVec2;
use optiscape_core::lab::trace;
use optiscape_core::landscape::{Domain, Placement, Surface, catalog};
use optiscape_core::optim::Optimizer;
use optiscape_core::scenario::Scenario;

fn builtin(id: &str) -> Surface {
    Surface::by_id(id).unwrap()
}

/// `f(c + R(-θ)(p - c))` typed out for Rastrigin (c = 0) and the notebook's surface.
fn typed_out(inner: &str, deg: f64, c: DVec2, domain: Domain) -> Surface {
    let (s, k) = deg.to_radians().sin_cos();
    let qx = format!(
        "({cx} + ({k:?})*(x - {cx}) + ({s:?})*(y - {cy}))",
        cx = c.x,
        cy = c.y
    );
    let qy = format!(
        "({cy} + ({k:?})*(y - {cy}) - ({s:?})*(x - {cx}))",
        cx = c.x,
        cy = c.y
    );
    let src = inner.replace('x', "X").replace('y', "Y");
    let src = src.replace('X', &qx).replace('Y', &qy);
    Surface::formula(&src, Some(domain)).unwrap()
}

#[test]
fn turned_surfaces_equal_their_typed_out_formulas_along_a_trajectory() {
    let cases = [
        (
            "rastrigin",
            "20 + x^2 - 10*cos(2*pi*x) + y^2 - 10*cos(2*pi*y)",
        ),
        ("himmelblau", "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"),
    ];
    for (id, inner) in cases {
        for deg in [30.0, -71.5, 200.0] {
            let mut turned = builtin(id);
            turned.set_rotation(deg).unwrap();
            let typed = typed_out(inner, deg, turned.domain.center(), turned.domain);
            let opt = Optimizer::by_id("adam").unwrap();
            let start = turned.domain.lerp(0.7, 0.35);
            let a = trace(&turned, &opt, start, 200);
            let b = trace(&typed, &opt, start, 200);
            assert_eq!(a.points.len(), b.points.len());
            for (u, v) in a.points.iter().zip(&b.points) {
                for (p, q) in [(u.x, v.x), (u.y, v.y), (u.loss, v.loss)] {
                    assert!(
                        (p - q).abs() <= 1e-9 * (1.0 + q.abs()),
                        "{id} {deg}: {u:?} {v:?}"
                    );
                }
            }
            // The gradient, too, at points off the trajectory.
            for (i, j) in [(0.1, 0.2), (0.5, 0.5), (0.93, 0.41)] {
                let p = turned.domain.lerp(i, j);
                let (g, h) = (turned.gradient(p), typed.gradient(p));
                assert!(
                    (g - h).length() <= 1e-9 * (1.0 + h.length()),
                    "{id} {deg} {p}"
                );
            }
        }
    }
}

#[test]
fn instance_gradients_are_exact_on_every_surface() {
    for info in catalog() {
        for n in [1, 2, 7] {
            let mut s = builtin(info.id);
            s.set_instance(n);
            for (i, j) in [(0.21, 0.33), (0.6, 0.71), (0.83, 0.12)] {
                let p = s.domain.lerp(i, j);
                let g = s.gradient(p);
                let e = 1e-6 * s.domain.extent();
                let dx = (s.height(p + DVec2::X * e) - s.height(p - DVec2::X * e)) / (2.0 * e);
                let dy = (s.height(p + DVec2::Y * e) - s.height(p - DVec2::Y * e)) / (2.0 * e);
                let scale = 1.0 + g.length();
                // Kinks (the notebook's |x - c|, plateau's steps) have one-sided derivatives.
                if (dx - g.x).abs() > 1e-4 * scale || (dy - g.y).abs() > 1e-4 * scale {
                    let near_kink = matches!(info.id, "seed" | "plateau" | "ackley");
                    assert!(
                        near_kink,
                        "{} instance {n} at {p}: {g} vs ({dx}, {dy})",
                        info.id
                    );
                }
                // The value part of the evaluation is `height`, bit for bit.
                assert_eq!(s.height(p).to_bits(), s.height_and_gradient(p).0.to_bits());
            }
        }
    }
}

#[test]
fn instances_keep_the_global_minima_inside_and_move_them_exactly() {
    for info in catalog() {
        let plain = builtin(info.id).global_minimum();
        for n in 1..=12 {
            let mut s = builtin(info.id);
            s.set_instance(n);
            let p = s.placement;
            assert!(!p.is_identity(), "{} instance {n}", info.id);
            assert_eq!(p.instance, n);
            let m = s.global_minimum();
            assert!(!m.points.is_empty());
            for q in &m.points {
                assert!(s.domain.contains(*q), "{} instance {n}: {q}", info.id);
                // The stated value is where the minimum is said to be.
                let h = s.height(*q);
                assert!(
                    (h - m.value).abs() <= 1e-6 * (1.0 + m.value.abs()),
                    "{} instance {n}: {h} vs {}",
                    info.id,
                    m.value
                );
            }
            if !m.estimated {
                assert_eq!(m.value, plain.value, "{}", info.id);
                let c = s.domain.center();
                for q in &m.points {
                    let back = p.to_source(c, *q);
                    assert!(plain.points.iter().any(|o| (*o - back).length() < 1e-9));
                }
            }
        }
    }
    // The surfaces whose stated minimum is the lowest point of the whole plane keep it exactly.
    for id in [
        "rastrigin",
        "ackley",
        "himmelblau",
        "bowl",
        "levi13",
        "six-hump-camel",
    ] {
        let mut s = builtin(id);
        s.set_instance(5);
        assert!(!s.global_minimum().estimated, "{id}");
    }
}

#[test]
fn instance_zero_and_whole_turns_are_the_surface_as_defined() {
    let plain = builtin("seed");
    let mut zero = plain.clone();
    zero.set_instance(0);
    assert_eq!(zero, plain);
    let mut full = plain.clone();
    full.set_rotation(720.0).unwrap();
    let mut quarter = builtin("rastrigin");
    quarter.set_rotation(90.0).unwrap();
    for (i, j) in [(0.1, 0.9), (0.44, 0.52)] {
        let p = plain.domain.lerp(i, j);
        assert_eq!(full.height(p).to_bits(), plain.height(p).to_bits());
        // A quarter turn of a symmetric surface is exact: cos 90 is 0, not 6e-17.
        let q = quarter.domain.lerp(i, j);
        let r = builtin("rastrigin");
        assert_eq!(quarter.height(q), r.height(DVec2::new(q.y, -q.x)));
    }
    assert!(Placement::rotation(f64::NAN).is_err());
    assert!(plain.clone().set_rotation(f64::INFINITY).is_err());
}

#[test]
fn an_instance_is_the_same_from_the_command_line_and_from_a_file() {
    use optiscape_core::setup::{apply_placement, build_surface};
    let mut a = build_surface("rastrigin", Some("-4,6,-5,5"), &["a=7".into()]).unwrap();
    apply_placement(&mut a, None, Some("4")).unwrap();
    let text = "(version: 1, surface: (name: \"rastrigin\", params: {\"a\": 7.0}, \
                domain: (x0: -4.0, x1: 6.0, y0: -5.0, y1: 5.0), instance: 4), methods: [])";
    let sc = Scenario::parse(text, "t").unwrap();
    let b = sc.surface().unwrap();
    assert_eq!(a, b);
    // Saved and loaded again, it is still the same instance.
    let spec = Scenario::surface_spec(&b);
    assert_eq!(spec.instance, Some(4));
    assert_eq!(spec.rotate, None);
    let mut turned = builtin("beale");
    turned.set_rotation(12.5).unwrap();
    assert_eq!(Scenario::surface_spec(&turned).rotate, Some(12.5));
    // Bad input: one clear message.
    let e = apply_placement(&mut a.clone(), Some("nan"), None).unwrap_err();
    assert!(e.contains("--rotate"), "{e}");
    let e = apply_placement(&mut a.clone(), Some("3"), Some("1")).unwrap_err();
    assert!(e.contains("not both"), "{e}");
    let e = apply_placement(&mut a, None, Some("-1")).unwrap_err();
    assert!(e.contains("--instance"), "{e}");
    let both = "(version: 1, surface: (name: \"seed\", rotate: 3.0, instance: 2), methods: [])";
    let e = Scenario::parse(both, "t")
        .and_then(|s| s.surface())
        .unwrap_err();
    assert!(e.contains("not both"), "{e}");
}
