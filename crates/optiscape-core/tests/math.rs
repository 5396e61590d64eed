//! The pure core: surfaces (gradients, minima), update rules (first steps against the
//! documented formulas, convergence, robustness) and the notebook's five runs.

// The notebook's constants use 3.14, not pi.
#![allow(clippy::approx_constant)]

use glam::DVec2;
use optiscape_core::lab::{RunState, RunStatus, step_once, trace};
use optiscape_core::landscape::{Domain, Surface, catalog as surfaces, estimate_global_minimum};
use optiscape_core::optim::{Optimizer, Rng, catalog as methods};

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0)
}

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

// ---------------------------------------------------------------- rules: first three steps

/// Feeds three fixed gradients at three fixed positions and returns the displacements.
fn three_steps(mut opt: Optimizer) -> [DVec2; 3] {
    let ps = [
        DVec2::new(0.5, -1.5),
        DVec2::new(0.3, -1.2),
        DVec2::new(0.1, -1.0),
    ];
    let gs = [
        DVec2::new(0.8, -2.0),
        DVec2::new(-0.3, 1.1),
        DVec2::new(0.05, -0.7),
    ];
    let mut out = [DVec2::ZERO; 3];
    for i in 0..3 {
        out[i] = opt.step(ps[i], gs[i]);
    }
    out
}

const PS: [[f64; 2]; 3] = [[0.5, -1.5], [0.3, -1.2], [0.1, -1.0]];
const GS: [[f64; 2]; 3] = [[0.8, -2.0], [-0.3, 1.1], [0.05, -0.7]];

/// Runs a scalar, hand-written version of a rule on each coordinate and compares.
fn check_rule(
    id: &str,
    settings: &[(&str, &str)],
    mut hand: impl FnMut(usize, usize, f64, f64) -> f64,
) {
    let mut opt = Optimizer::by_id(id).unwrap();
    for (k, v) in settings {
        opt.set(k, v).unwrap();
    }
    let got = three_steps(opt);
    // `hand(coordinate, step, theta, g)` is called in step order per coordinate.
    for c in 0..2 {
        for t in 0..3 {
            let want = hand(c, t, PS[t][c], GS[t][c]);
            let have = got[t][c];
            assert!(
                close(have, want, 1e-13),
                "{id}: step {} coordinate {c}: {have} vs hand {want}",
                t + 1
            );
        }
    }
}

/// Per-coordinate state for the hand-written rules (one set per coordinate).
#[derive(Default, Clone, Copy)]
struct S {
    a: f64,
    b: f64,
    c: f64,
    first: bool,
}

fn states() -> [S; 2] {
    [S {
        first: true,
        ..S::default()
    }; 2]
}

#[test]
fn sgd_first_steps() {
    let (lr, wd) = (0.1, 0.01);
    check_rule(
        "sgd",
        &[("lr", "0.1"), ("weight_decay", "0.01")],
        |_, _, th, g| -lr * (g + wd * th),
    );
}

#[test]
fn heavy_ball_and_nesterov_first_steps() {
    let (lr, mu, wd) = (0.1, 0.9, 0.01);
    for nesterov in [false, true] {
        let mut st = states();
        let id = if nesterov { "nesterov" } else { "heavy-ball" };
        check_rule(
            id,
            &[("lr", "0.1"), ("weight_decay", "0.01")],
            |c, _, th, g| {
                let s = &mut st[c];
                let g = g + wd * th;
                s.a = if s.first { g } else { mu * s.a + g };
                s.first = false;
                -lr * if nesterov { g + mu * s.a } else { s.a }
            },
        );
    }
}

#[test]
fn adagrad_first_steps() {
    let (lr, decay, wd, init, eps) = (0.5, 0.1, 0.01, 0.2, 1e-10);
    let mut st = states();
    check_rule(
        "adagrad",
        &[
            ("lr", "0.5"),
            ("lr_decay", "0.1"),
            ("weight_decay", "0.01"),
            ("initial_accumulator_value", "0.2"),
        ],
        |c, t, th, g| {
            let s = &mut st[c];
            if s.first {
                s.a = init;
                s.first = false;
            }
            let g = g + wd * th;
            let clr = lr / (1.0 + t as f64 * decay);
            s.a += g * g;
            -clr * g / (s.a.sqrt() + eps)
        },
    );
}

#[test]
fn adadelta_first_steps() {
    let (lr, rho, eps, wd) = (0.7, 0.8, 1e-3, 0.02);
    let mut st = states();
    check_rule(
        "adadelta",
        &[
            ("lr", "0.7"),
            ("rho", "0.8"),
            ("eps", "1e-3"),
            ("weight_decay", "0.02"),
        ],
        |c, _, th, g| {
            let s = &mut st[c];
            let g = g + wd * th;
            s.a = rho * s.a + (1.0 - rho) * g * g;
            let dx = (s.b + eps).sqrt() / (s.a + eps).sqrt() * g;
            s.b = rho * s.b + (1.0 - rho) * dx * dx;
            -lr * dx
        },
    );
}

#[test]
fn rmsprop_first_steps_plain_centered_and_with_momentum() {
    for (centered, mom) in [(false, 0.0), (true, 0.0), (false, 0.5), (true, 0.5)] {
        let (lr, alpha, eps, wd) = (0.01, 0.9, 1e-8, 0.01);
        let mut st = states();
        check_rule(
            "rmsprop",
            &[
                ("lr", "0.01"),
                ("alpha", "0.9"),
                ("weight_decay", "0.01"),
                ("momentum", &mom.to_string()),
                ("centered", &centered.to_string()),
            ],
            |c, _, th, g| {
                let s = &mut st[c];
                let g = g + wd * th;
                s.a = alpha * s.a + (1.0 - alpha) * g * g;
                let mut v = s.a;
                if centered {
                    s.b = alpha * s.b + (1.0 - alpha) * g;
                    v -= s.b * s.b;
                }
                let denom = v.sqrt() + eps;
                if mom > 0.0 {
                    s.c = mom * s.c + g / denom;
                    -lr * s.c
                } else {
                    -lr * g / denom
                }
            },
        );
    }
}

/// Adam, AMSGrad and AdamW from torch's documented algorithm.
#[test]
fn adam_family_first_steps() {
    let (lr, b1, b2, eps) = (0.05, 0.8, 0.9, 1e-8);
    for id in ["adam", "amsgrad", "adamw"] {
        let wd = 0.05;
        let mut st = states();
        let mut vmax = [0.0f64; 2];
        check_rule(
            id,
            &[
                ("lr", "0.05"),
                ("betas", "0.8,0.9"),
                ("weight_decay", "0.05"),
            ],
            |c, t, th, g| {
                let s = &mut st[c];
                let t = (t + 1) as f64;
                let (g, shrink) = if id == "adamw" {
                    (g, -lr * wd * th)
                } else {
                    (g + wd * th, 0.0)
                };
                s.a = b1 * s.a + (1.0 - b1) * g;
                s.b = b2 * s.b + (1.0 - b2) * g * g;
                let m_hat = s.a / (1.0 - b1.powf(t));
                let v = if id == "amsgrad" {
                    // torch keeps the maximum of the uncorrected second moment.
                    vmax[c] = vmax[c].max(s.b);
                    vmax[c]
                } else {
                    s.b
                };
                let v_hat = v / (1.0 - b2.powf(t));
                shrink - lr * m_hat / (v_hat.sqrt() + eps)
            },
        );
    }
}

#[test]
fn adamax_first_steps() {
    let (lr, b1, b2, eps, wd) = (0.02, 0.9, 0.999, 1e-8, 0.01);
    let mut st = states();
    check_rule(
        "adamax",
        &[("lr", "0.02"), ("weight_decay", "0.01")],
        |c, t, th, g| {
            let s = &mut st[c];
            let g = g + wd * th;
            s.a = b1 * s.a + (1.0 - b1) * g;
            s.b = (b2 * s.b).max(g.abs() + eps);
            -lr / (1.0 - b1.powf((t + 1) as f64)) * s.a / s.b
        },
    );
}

#[test]
fn nadam_first_steps() {
    let (lr, b1, b2, eps, psi) = (0.02, 0.9, 0.999, 1e-8, 4e-3);
    let mut st = states();
    let mut prod = [1.0f64; 2];
    check_rule("nadam", &[("lr", "0.02")], |c, t, _, g| {
        let s = &mut st[c];
        let t = (t + 1) as f64;
        let mu = b1 * (1.0 - 0.5 * 0.96f64.powf(t * psi));
        let mu_next = b1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * psi));
        prod[c] *= mu;
        s.a = b1 * s.a + (1.0 - b1) * g;
        s.b = b2 * s.b + (1.0 - b2) * g * g;
        let m_hat = mu_next * s.a / (1.0 - prod[c] * mu_next) + (1.0 - mu) * g / (1.0 - prod[c]);
        let v_hat = s.b / (1.0 - b2.powf(t));
        -lr * m_hat / (v_hat.sqrt() + eps)
    });
}

#[test]
fn radam_first_steps_cover_both_branches() {
    // With beta2 = 0.5, rho_inf = 3 and rho_t <= 5 always (the un-rectified branch); with
    // beta2 = 0.999 the first steps are also un-rectified; beta2 = 0.2... both fall below 5.
    // So check the rectified branch separately below with a long run.
    for betas in ["0.9,0.999", "0.5,0.99"] {
        let parts: Vec<f64> = betas.split(',').map(|v| v.parse().unwrap()).collect();
        let (lr, b1, b2, eps) = (0.03, parts[0], parts[1], 1e-8);
        let mut st = states();
        check_rule(
            "radam",
            &[("lr", "0.03"), ("betas", betas)],
            |c, t, _, g| {
                let s = &mut st[c];
                let t = (t + 1) as f64;
                s.a = b1 * s.a + (1.0 - b1) * g;
                s.b = b2 * s.b + (1.0 - b2) * g * g;
                let m_hat = s.a / (1.0 - b1.powf(t));
                let rho_inf = 2.0 / (1.0 - b2) - 1.0;
                let rho_t = rho_inf - 2.0 * t * b2.powf(t) / (1.0 - b2.powf(t));
                if rho_t > 5.0 {
                    let l = (1.0 - b2.powf(t)).sqrt() / (s.b.sqrt() + eps);
                    let r = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                        / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                        .sqrt();
                    -lr * m_hat * r * l
                } else {
                    -lr * m_hat
                }
            },
        );
    }
}

#[test]
fn radam_rectified_branch_matches_the_formula() {
    // beta2 = 0.99: rho_inf = 199, rho_t passes 5 at step 6.
    let (lr, b1, b2, eps) = (0.01, 0.9, 0.99, 1e-8);
    let mut opt = Optimizer::by_id("radam").unwrap();
    opt.set("lr", "0.01").unwrap();
    opt.set("betas", "0.9,0.99").unwrap();
    let (mut m, mut v) = (0.0, 0.0);
    let mut rectified = 0;
    for t in 1..=20 {
        let g = 0.3 + 0.1 * t as f64;
        let got = opt.step(DVec2::ZERO, DVec2::new(g, g)).x;
        let tf = t as f64;
        m = b1 * m + (1.0 - b1) * g;
        v = b2 * v + (1.0 - b2) * g * g;
        let m_hat = m / (1.0 - b1.powf(tf));
        let rho_inf = 2.0 / (1.0 - b2) - 1.0;
        let rho_t = rho_inf - 2.0 * tf * b2.powf(tf) / (1.0 - b2.powf(tf));
        let want = if rho_t > 5.0 {
            rectified += 1;
            let l = (1.0 - b2.powf(tf)).sqrt() / (v.sqrt() + eps);
            let r = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                .sqrt();
            -lr * m_hat * r * l
        } else {
            -lr * m_hat
        };
        assert!(close(got, want, 1e-13), "step {t}: {got} vs {want}");
    }
    assert!(rectified > 10);
}

#[test]
fn adabelief_first_steps() {
    let (lr, b1, b2, eps) = (0.01, 0.9, 0.999, 1e-16);
    let mut st = states();
    check_rule("adabelief", &[("lr", "0.01")], |c, t, _, g| {
        let s = &mut st[c];
        let t = (t + 1) as f64;
        s.a = b1 * s.a + (1.0 - b1) * g;
        s.b = b2 * s.b + (1.0 - b2) * (g - s.a) * (g - s.a) + eps;
        let m_hat = s.a / (1.0 - b1.powf(t));
        let s_hat = s.b / (1.0 - b2.powf(t));
        -lr * m_hat / (s_hat.sqrt() + eps)
    });
}

#[test]
fn lion_first_steps() {
    let (lr, b1, b2, wd) = (0.01, 0.9, 0.99, 0.1);
    let mut st = states();
    check_rule(
        "lion",
        &[("lr", "0.01"), ("weight_decay", "0.1")],
        |c, _, th, g| {
            let s = &mut st[c];
            let u = b1 * s.a + (1.0 - b1) * g;
            let sign = if u > 0.0 {
                1.0
            } else if u < 0.0 {
                -1.0
            } else {
                0.0
            };
            s.a = b2 * s.a + (1.0 - b2) * g;
            -lr * (sign + wd * th)
        },
    );
}

#[test]
fn notebook_momentum_and_adagrad_first_steps() {
    let (lr, mu) = (0.2, 0.2);
    let mut st = states();
    check_rule("momentum", &[], |c, _, _, g| {
        let s = &mut st[c];
        let d = -lr * s.a; // the velocity from before the step
        s.a = mu * s.a + (1.0 - mu) * g;
        d
    });
    let (lr, decay, eps) = (0.5, 0.1, 1e-6);
    let mut st = [S {
        a: 1.0,
        ..S::default()
    }; 2];
    check_rule(
        "seed-adagrad",
        &[("lr", "0.5"), ("decay", "0.1")],
        |c, _, _, g| {
            let s = &mut st[c];
            s.a = s.a + g * g - decay * s.a;
            -lr * g / (s.a + eps).sqrt()
        },
    );
}

#[test]
fn clip_then_noise_transforms() {
    // Clip: the notebook's g * min(max, |g|) / |g|.
    let mut opt = Optimizer::by_id("sgd").unwrap();
    opt.set("lr", "1").unwrap();
    opt.set("clip", "5").unwrap();
    let d = opt.step(DVec2::ZERO, DVec2::new(30.0, 40.0));
    assert!((d - DVec2::new(-3.0, -4.0)).length() < 1e-15);
    let d = opt.step(DVec2::ZERO, DVec2::new(0.3, 0.4));
    assert_eq!(d, DVec2::new(-0.3, -0.4));
    assert_eq!(opt.step(DVec2::ZERO, DVec2::ZERO), DVec2::ZERO);
    // Noise: seeded, reproducible, applied after the clip, with the requested spread.
    let mut a = Optimizer::by_id("sgd").unwrap().with_seed(7);
    a.set("lr", "1").unwrap();
    a.set("noise", "0.5").unwrap();
    a.set("clip", "1").unwrap();
    let mut b = a.clone();
    let mut sum2 = 0.0;
    let n = 20000;
    for _ in 0..n {
        let da = a.step(DVec2::ZERO, DVec2::new(100.0, 0.0));
        let db = b.step(DVec2::ZERO, DVec2::new(100.0, 0.0));
        assert_eq!(da, db);
        // -(clip(g) + noise): the clipped gradient is (1, 0).
        sum2 += (da.y).powi(2);
        assert!(da.x.abs() < 1.0 + 0.5 * 6.0);
    }
    let std = (sum2 / n as f64).sqrt();
    assert!((std - 0.5).abs() < 0.02, "noise std {std}");
}

#[test]
fn langevin_noise_has_the_documented_scale_and_cools() {
    let mut opt = Optimizer::by_id("langevin").unwrap().with_seed(3);
    opt.set("lr", "0.01").unwrap();
    opt.set("temperature", "2").unwrap();
    opt.set("temp_decay", "1").unwrap();
    let n = 20000;
    let mut sum2 = 0.0;
    for _ in 0..n {
        sum2 += opt.step(DVec2::ZERO, DVec2::ZERO).x.powi(2);
    }
    let std = (sum2 / n as f64).sqrt();
    let want = (2.0f64 * 0.01 * 2.0).sqrt();
    assert!((std - want).abs() < 0.03 * want, "{std} vs {want}");
    let mut cooling = Optimizer::by_id("langevin").unwrap();
    cooling.set("temp_decay", "0.5").unwrap();
    for _ in 0..60 {
        cooling.step(DVec2::ZERO, DVec2::ZERO);
    }
    assert!(cooling.step(DVec2::ZERO, DVec2::ZERO).length() < 1e-8);
}

// ---------------------------------------------------------------- rules: behaviour

#[test]
fn every_method_converges_on_the_convex_bowl() {
    let s = Surface::by_id("bowl").unwrap();
    let lrs = [
        ("sgd", "0.1"),
        ("heavy-ball", "0.05"),
        ("nesterov", "0.05"),
        ("adagrad", "0.5"),
        // At lr 1 AdaDelta settles into a neutral 2-cycle across the steep axis (its step is
        // self-consistent at any amplitude there); lr 0.5 breaks the cycle.
        ("adadelta", "0.5"),
        ("rmsprop", "0.01"),
        ("adam", "0.05"),
        ("adamw", "0.05"),
        ("amsgrad", "0.05"),
        ("adamax", "0.05"),
        ("nadam", "0.05"),
        ("radam", "0.05"),
        ("lion", "0.005"),
        ("adabelief", "0.05"),
        ("langevin", "0.05"),
        ("momentum", "0.1"),
        ("seed-adagrad", "0.5"),
    ];
    for info in methods().iter().filter(|m| !m.id.contains(':')) {
        let mut opt = (info.build)();
        if let Some((_, lr)) = lrs.iter().find(|(id, _)| *id == info.id) {
            opt.set("lr", lr).unwrap();
        }
        if info.id == "langevin" {
            opt.set("temperature", "0.01").unwrap();
        }
        if info.id == "adadelta" {
            opt.set("eps", "1e-4").unwrap();
        }
        let t = trace(&s, &opt, s.default_start(), 3000);
        let last = t.points.last().unwrap();
        assert_eq!(t.status, RunStatus::Done, "{}", info.id);
        assert!(
            last.loss < 1e-3,
            "{}: final loss {} at ({}, {})",
            info.id,
            last.loss,
            last.x,
            last.y
        );
    }
}

#[test]
fn zero_huge_and_non_finite_gradients_never_panic_or_hide_nan() {
    let bowl = Surface::by_id("bowl").unwrap();
    for info in methods() {
        // Exactly at the minimum: the gradient is exactly zero.
        let t = trace(&bowl, &(info.build)(), DVec2::ZERO, 50);
        assert!(
            t.points
                .iter()
                .all(|p| p.x.is_finite() && p.loss.is_finite()),
            "{}",
            info.id
        );
        // Huge gradients, huge learning rate: either finite or reported diverged.
        let gp = Surface::by_id("goldstein-price").unwrap();
        let mut opt = (info.build)();
        // The largest learning rate the method allows, up to 1000.
        let lr_max = opt.params().iter().find(|p| p.spec.name == "lr").map(|p| {
            let max = if p.spec.max_open {
                p.spec.max * 0.999
            } else {
                p.spec.max
            };
            max.min(1000.0)
        });
        if let Some(lr) = lr_max {
            opt.set("lr", &lr.to_string())
                .unwrap_or_else(|e| panic!("{}: {e}", info.id));
        }
        let t = trace(&gp, &opt, DVec2::new(-1.9, 1.9), 200);
        let last = t.points.last().unwrap();
        match t.status {
            RunStatus::Diverged => {}
            _ => assert!(last.x.is_finite() && last.loss.is_finite(), "{}", info.id),
        }
        // A non-finite gradient is reported at once.
        let mut opt = (info.build)();
        let mut st = RunState::start(&bowl, DVec2::new(1.0, 1.0));
        let d = opt.step(st.pos, DVec2::new(f64::NAN, 1.0));
        // No panic; the NaN is carried into x's move (or, for sign-based rules and a first
        // step of zero, gives no move), never made into a finite move; y, whose gradient is
        // finite, still moves by a finite amount.
        assert!(
            d.x.is_nan() || d.x == 0.0,
            "{}: x moved by {}",
            info.id,
            d.x
        );
        assert!(d.y.is_finite(), "{}: y moved by {}", info.id, d.y);
        st.pos = DVec2::new(f64::INFINITY, 0.0);
        assert_eq!(
            step_once(&bowl, &mut opt, &mut st),
            RunStatus::Diverged,
            "{}",
            info.id
        );
    }
}

#[test]
fn sgd_with_a_huge_learning_rate_diverges_and_the_trace_stops() {
    let s = Surface::by_id("rastrigin").unwrap();
    let mut opt = Optimizer::by_id("sgd").unwrap();
    opt.set("lr", "100").unwrap();
    let t = trace(&s, &opt, DVec2::new(1.3, 0.4), 300);
    assert_eq!(t.status, RunStatus::Diverged);
    assert!(t.points.len() < 301);
    assert!(
        s.domain.far_outside(DVec2::new(
            t.points.last().unwrap().x,
            t.points.last().unwrap().y
        )) || !t.points.last().unwrap().loss.is_finite()
    );
}

#[test]
fn extreme_hyperparameters_are_refused_or_safe() {
    let mut opt = Optimizer::by_id("adam").unwrap();
    assert!(opt.set("lr", "0").is_err());
    assert!(opt.set("lr", "-1").is_err());
    assert!(opt.set("lr", "NaN").is_err());
    assert!(opt.set("lr", "inf").is_err());
    assert!(opt.set("betas", "1,0.9").is_err());
    assert!(opt.set("betas", "0.9").is_err());
    assert!(opt.set("eps", "0").is_err());
    assert!(opt.set("nope", "1").is_err());
    assert!(opt.set("steps_per_frame", "0").is_err());
    assert_eq!(opt.get("lr").as_deref(), Some("0.001"));
    // The boundary values that are allowed do not produce NaN.
    opt.set("betas", "0,0.9999999").unwrap();
    opt.set("eps", "1e-300").unwrap();
    let s = Surface::by_id("rastrigin").unwrap();
    let t = trace(&s, &opt, DVec2::new(2.2, -1.1), 300);
    assert!(t.points.iter().all(|p| p.loss.is_finite()));
}

#[test]
fn hyperparameters_edited_before_the_first_step_take_effect_and_reset_keeps_them() {
    let mut opt = Optimizer::by_id("adagrad").unwrap();
    opt.set("initial_accumulator_value", "4").unwrap();
    // sum = 4 + 1 = 5 on the first step.
    let d = opt.step(DVec2::ZERO, DVec2::new(1.0, 0.0));
    assert!(close(d.x, -0.01 / (5.0f64.sqrt() + 1e-10), 1e-15));
    opt.reset();
    assert_eq!(opt.get("initial_accumulator_value").as_deref(), Some("4.0"));
    let d2 = opt.step(DVec2::ZERO, DVec2::new(1.0, 0.0));
    assert_eq!(d, d2);
}

#[test]
fn copying_hyperparameters_keeps_state() {
    let mut running = Optimizer::by_id("adam").unwrap();
    running.step(DVec2::ZERO, DVec2::ONE);
    let mut template = Optimizer::by_id("adam").unwrap();
    template.set("lr", "0.5").unwrap();
    let before = running.state();
    running.copy_hyperparameters(&template);
    assert_eq!(running.get("lr").as_deref(), Some("0.5"));
    assert_eq!(running.state(), before);
}

// ---------------------------------------------------------------- the notebook's five runs

/// End points after 300 updates from the notebook's start, as computed independently by
/// `docs/notebook_reference.py` (plain Python float64, written from the notebook's code).
#[test]
fn notebook_presets_land_where_the_notebook_formulas_put_them() {
    let s = Surface::seed();
    let expected = [
        ("seed:sgd", 300, 3.935789355092478, 15.844691541258683),
        ("seed:momentum", 300, 3.9650157537390434, 15.779701064768288),
        ("seed:adagrad", 300, 3.995417323116996, 15.798730499934011),
        (
            "seed:adagrad-finetune",
            300,
            5.491156341859411,
            13.248623845804111,
        ),
        ("seed:adadelta", 300, 2.6250382161652013, 8.692079361024824),
        ("seed:adadelta", 2990, 8.652052605544222, 15.689200738531113),
    ];
    for (id, steps, x, y) in expected {
        let opt = Optimizer::by_id(id).unwrap();
        let t = trace(&s, &opt, s.default_start(), steps);
        let last = t.points.last().unwrap();
        assert_eq!(last.step, steps);
        assert!(
            close(last.x, x, 1e-12) && close(last.y, y, 1e-12),
            "{id} after {steps}: ({}, {}) vs reference ({x}, {y})",
            last.x,
            last.y
        );
    }
}

#[test]
fn notebook_presets_have_the_notebooks_settings() {
    let mut a = Optimizer::by_id("seed:adadelta").unwrap();
    assert_eq!(a.steps_per_frame, 10);
    assert_eq!(a.clip, 5.0);
    assert_eq!(a.get("rho").as_deref(), Some("0.5"));
    assert_eq!(a.get("lr").as_deref(), Some("1.0"));
    let mut g = Optimizer::by_id("seed:adagrad").unwrap();
    assert_eq!(g.get("decay").as_deref(), Some("0.1"));
    assert_eq!(g.get("lr").as_deref(), Some("0.5"));
    let mut f = Optimizer::by_id("seed:adagrad-finetune").unwrap();
    assert_eq!(f.get("decay").as_deref(), Some("0.0"));
    assert_eq!(f.get("clip").as_deref(), Some("5.0"));
    let mut m = Optimizer::by_id("seed:momentum").unwrap();
    assert_eq!(m.get("momentum").as_deref(), Some("0.2"));
    let mut sgd = Optimizer::by_id("seed:sgd").unwrap();
    assert_eq!(sgd.get("lr").as_deref(), Some("0.2"));
    assert_eq!(sgd.clip, 0.0);
}

// ---------------------------------------------------------------- the lab

mod lab {
    use glam::DVec2;
    use optiscape_core::lab::basins::{DIVERGED, basins, grid_starts};
    use optiscape_core::lab::{RunStatus, Target, race, run_batch, trace, uniform_starts};
    use optiscape_core::landscape::{Domain, Surface};
    use optiscape_core::optim::Optimizer;

    fn opt(id: &str, settings: &[(&str, &str)]) -> Optimizer {
        let mut o = Optimizer::by_id(id).unwrap();
        for (k, v) in settings {
            o.set(k, v).unwrap();
        }
        o
    }

    #[test]
    fn batches_are_identical_whatever_the_number_of_threads() {
        let s = Surface::by_id("rastrigin").unwrap();
        let starts = uniform_starts(s.domain, 500, 3);
        let noisy = opt("langevin", &[("lr", "0.01")]);
        let target = Target::of(&s);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| run_batch(&s, &noisy, &starts, 200, 9, target))
        };
        assert_eq!(run(1), run(2));
        assert_eq!(run(1), run(3));
    }

    /// The lockstep engine (four f64 runs side by side) against the one-run-at-a-time engine:
    /// every field of every run, bit for bit, for every rule written for lanes, with their
    /// options, on every lane surface, with diverging runs and a start count that is not a
    /// multiple of the lane width.
    #[test]
    fn lockstep_batches_equal_single_runs_bit_for_bit() {
        use optiscape_core::lab::run_batch_with;
        use optiscape_core::lab::{Precision, Progress, lanes_supported, run_batch_scalar};
        let methods = [
            opt("sgd", &[("lr", "0.05"), ("weight_decay", "0.1")]),
            opt("heavy-ball", &[("lr", "0.02")]),
            opt("nesterov", &[("lr", "0.02"), ("clip", "1.5")]),
            opt("adagrad", &[("lr", "0.3"), ("lr_decay", "0.01")]),
            opt("adadelta", &[]),
            opt("rmsprop", &[("lr", "0.01")]),
            opt(
                "rmsprop",
                &[("lr", "0.01"), ("centered", "true"), ("momentum", "0.5")],
            ),
            opt("adam", &[("lr", "0.05")]),
            opt("adamw", &[("lr", "0.05")]),
            opt("amsgrad", &[("lr", "0.05"), ("weight_decay", "0.01")]),
            opt("momentum", &[]),
            opt("seed:sgd", &[]),
            opt("seed:adagrad", &[]),
            opt("seed:adadelta", &[]),
            opt("sgd", &[("lr", "3")]), // diverges
        ];
        for id in [
            "seed",
            "rastrigin",
            "bowl",
            "himmelblau",
            "rosenbrock",
            "saddle",
        ] {
            let s = Surface::by_id(id).unwrap();
            let target = Target::of(&s);
            let mut starts = uniform_starts(s.domain, 37, 5);
            starts.push(DVec2::NAN);
            for o in &methods {
                assert!(lanes_supported(&s, o).is_ok(), "{id} {}", o.id);
                let p = Progress::default();
                let fast =
                    run_batch_with(&s, o, &starts, 150, 0, target, Precision::F64, &p).unwrap();
                let slow = run_batch_scalar(&s, o, &starts, 150, 0, target, &p).unwrap();
                for (a, b) in fast.iter().zip(&slow) {
                    assert_eq!(a.status, b.status, "{id} {}", o.id);
                    assert_eq!((a.steps, a.first_success), (b.steps, b.first_success));
                    for (u, v) in [
                        (a.end.x, b.end.x),
                        (a.end.y, b.end.y),
                        (a.loss, b.loss),
                        (a.recent_travel, b.recent_travel),
                    ] {
                        assert_eq!(u.to_bits(), v.to_bits(), "{id} {} {a:?} {b:?}", o.id);
                    }
                }
            }
        }
        let diverging = opt("sgd", &[("lr", "3")]);
        let s = Surface::by_id("bowl").unwrap();
        let ends =
            optiscape_core::lab::run_batch(&s, &diverging, &[DVec2::ONE], 50, 0, Target::of(&s));
        assert_eq!(ends[0].status, RunStatus::Diverged);
    }

    /// Single precision: same answers as f64 where the dynamics are not chaotic, close ones
    /// where they are, the same whatever the number of threads; refused where not available.
    #[test]
    fn single_precision_batches() {
        use optiscape_core::lab::basins::basins_with;
        use optiscape_core::lab::{Precision, Progress, lanes_supported};
        let bowl = Surface::by_id("bowl").unwrap();
        let starts = uniform_starts(bowl.domain, 203, 2);
        let adam = opt("adam", &[("lr", "0.05")]);
        let rows = optiscape_core::lab::race_with(
            &bowl,
            std::slice::from_ref(&adam),
            &starts,
            2000,
            0,
            Target::of(&bowl),
            Precision::F32,
            &Progress::default(),
        )
        .unwrap();
        assert_eq!(rows[0].success_rate, 1.0);
        let s = Surface::by_id("rastrigin").unwrap();
        let map = |precision, threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    basins_with(
                        &s,
                        &adam,
                        64,
                        300,
                        0,
                        Target::of(&s),
                        precision,
                        &Progress::default(),
                    )
                    .unwrap()
                })
        };
        let single = map(Precision::F32, 1);
        assert_eq!(single, map(Precision::F32, 2));
        let double = map(Precision::F64, 2);
        assert!(
            (single.global_fraction - double.global_fraction).abs() < 0.02,
            "{} vs {}",
            single.global_fraction,
            double.global_fraction
        );
        // Labels index minima sorted by loss, and Rastrigin's minima come in groups of equal
        // loss: compare the minima the labels name.
        let at = |m: &optiscape_core::lab::basins::BasinMap, l: i32| {
            (l >= 0).then(|| DVec2::new(m.minima[l as usize].x, m.minima[l as usize].y))
        };
        let same = (single.labels.iter().zip(&double.labels))
            .filter(|&(&a, &b)| match (at(&single, a), at(&double, b)) {
                (Some(p), Some(q)) => p.distance(q) < 0.01 * s.domain.extent(),
                (None, None) => a == b,
                _ => false,
            })
            .count();
        assert!(same as f64 > 0.9 * single.labels.len() as f64, "{same}");
        let ends_close = single
            .ends
            .iter()
            .zip(&double.ends)
            .filter(|(a, b)| a.end.distance(b.end) < 1e-3)
            .count();
        assert!(
            ends_close as f64 > 0.9 * single.ends.len() as f64,
            "{ends_close}"
        );
        // Not available: a formula surface, a method without a lane form, gradient noise.
        let formula = Surface::parse("formula:x^2 + y^2").unwrap();
        assert!(
            lanes_supported(&formula, &adam)
                .unwrap_err()
                .contains("surface")
        );
        assert!(
            lanes_supported(&s, &opt("lion", &[]))
                .unwrap_err()
                .contains("lion")
        );
        let noisy = opt("adam", &[("noise", "0.1")]);
        assert!(lanes_supported(&s, &noisy).unwrap_err().contains("noise"));
    }

    #[test]
    fn batch_ends_equal_trace_from_the_same_starts() {
        let s = Surface::seed();
        let o = opt("seed:adadelta", &[]);
        let starts = grid_starts(&s, 7);
        let ends = run_batch(&s, &o, &starts, 120, 0, Target::of(&s));
        for e in ends {
            let t = trace(&s, &o, e.start, 120);
            let last = t.points.last().unwrap();
            assert_eq!((e.end.x, e.end.y, e.loss), (last.x, last.y, last.loss));
        }
    }

    #[test]
    fn a_convex_bowl_gives_every_sane_method_full_success() {
        let s = Surface::by_id("bowl").unwrap();
        let starts = uniform_starts(s.domain, 200, 1);
        let methods = [
            opt("sgd", &[("lr", "0.1")]),
            opt("heavy-ball", &[("lr", "0.05")]),
            opt("nesterov", &[("lr", "0.05")]),
            opt("adagrad", &[("lr", "0.5")]),
            opt("rmsprop", &[("lr", "0.01")]),
            opt("adam", &[("lr", "0.05")]),
            opt("amsgrad", &[("lr", "0.05")]),
            opt("adamax", &[("lr", "0.05")]),
            opt("nadam", &[("lr", "0.01")]),
            opt("radam", &[("lr", "0.05")]),
            opt("adabelief", &[("lr", "0.05")]),
            opt("lion", &[("lr", "0.005")]),
            opt("momentum", &[("lr", "0.1")]),
        ];
        for row in race(&s, &methods, &starts, 3000, 0, Target::of(&s)) {
            assert_eq!(row.success_rate, 1.0, "{}", row.method);
            assert_eq!(row.diverged, 0);
        }
    }

    #[test]
    fn a_point_symmetric_surface_gives_a_point_symmetric_basin_map() {
        // Six-hump camel: f(-p) = f(p), so SGD from -p mirrors SGD from p exactly.
        let s = Surface::by_id("six-hump-camel").unwrap();
        let r = 40;
        let map = basins(
            &s,
            &opt("sgd", &[("lr", "0.01")]),
            r,
            500,
            0,
            Target::of(&s),
        );
        for j in 0..r {
            for i in 0..r {
                let a = &map.ends[j * r + i];
                let b = &map.ends[(r - 1 - j) * r + (r - 1 - i)];
                assert_eq!(a.end, -b.end);
                let (la, lb) = (
                    map.labels[j * r + i],
                    map.labels[(r - 1 - j) * r + (r - 1 - i)],
                );
                assert_eq!(la == DIVERGED, lb == DIVERGED);
                if la >= 0 {
                    let (ma, mb) = (&map.minima[la as usize], &map.minima[lb as usize]);
                    assert!((ma.x + mb.x).abs() < 0.1 && (ma.y + mb.y).abs() < 0.1);
                }
            }
        }
        // Both global minima are found, with the same share of the domain.
        let globals: Vec<_> = map.minima.iter().filter(|m| m.global).collect();
        assert_eq!(globals.len(), 2);
        assert_eq!(globals[0].area_fraction, globals[1].area_fraction);
        assert!(map.global_fraction > 0.2);
    }

    #[test]
    fn on_rastrigin_small_lr_sgd_needs_a_start_near_the_origin() {
        let s = Surface::by_id("rastrigin").unwrap();
        let sgd = opt("sgd", &[("lr", "0.002")]);
        let t = Target::of(&s);
        let anywhere = uniform_starts(s.domain, 400, 5);
        let near = uniform_starts(Domain::square(-0.4, 0.4), 400, 5);
        let far = race(&s, std::slice::from_ref(&sgd), &anywhere, 1000, 0, t)[0].success_rate;
        let close = race(&s, std::slice::from_ref(&sgd), &near, 1000, 0, t)[0].success_rate;
        assert!(close > 0.9, "near the origin: {close}");
        assert!(far < 0.05, "anywhere: {far}");
    }

    #[test]
    fn background_batches_report_progress_and_can_be_cancelled() {
        use optiscape_core::lab::basins::basins_with;
        use optiscape_core::lab::{Precision, Progress};
        use std::sync::atomic::Ordering;
        let s = Surface::by_id("himmelblau").unwrap();
        let o = opt("adam", &[("lr", "0.05")]);
        let p = Progress::default();
        let map = basins_with(&s, &o, 20, 100, 0, Target::of(&s), Precision::F64, &p).unwrap();
        assert_eq!(p.done.load(Ordering::Relaxed), 400);
        assert_eq!(map, basins(&s, &o, 20, 100, 0, Target::of(&s)));
        let cancelled = Progress::default();
        cancelled.cancel.store(true, Ordering::Relaxed);
        assert!(
            basins_with(
                &s,
                &o,
                20,
                100,
                0,
                Target::of(&s),
                Precision::F64,
                &cancelled
            )
            .is_none()
        );
        assert_eq!(cancelled.done.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn diverging_runs_are_counted() {
        let s = Surface::by_id("rastrigin").unwrap();
        let rows = race(
            &s,
            &[opt("sgd", &[("lr", "10")])],
            &uniform_starts(s.domain, 50, 1),
            100,
            0,
            Target::of(&s),
        );
        assert_eq!(rows[0].diverged, 50);
        assert_eq!(rows[0].success_rate, 0.0);
        let ends = run_batch(
            &s,
            &opt("sgd", &[("lr", "10")]),
            &[DVec2::new(1.1, 0.3)],
            100,
            0,
            Target::of(&s),
        );
        assert_eq!(ends[0].status, RunStatus::Diverged);
    }
}

// ---------------------------------------------------------------- typed formulas

mod formulas {
    use super::close;
    use glam::DVec2;
    use optiscape_core::lab::{RunState, RunStatus, trace};
    use optiscape_core::landscape::{Domain, Formula, Surface};
    use optiscape_core::optim::{Optimizer, Rng};
    use proptest::prelude::*;

    fn formula(src: &str) -> Surface {
        Surface::formula(src, None).unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    #[test]
    fn gradients_match_central_differences_for_every_function() {
        let cases = [
            "x^2 + 3*x*y - y^3",
            "sin(x)*cos(2*y) + tan(0.3*x)",
            "asin(0.4*x) + acos(0.3*y) + atan(x*y)",
            "sinh(0.5*x) + cosh(0.5*y) + tanh(x - y)",
            "exp(-(x^2 + y^2)) + log(2 + x^2) + ln(3 + y^2)",
            "log2(5 + x) + log10(5 + y) + sqrt(4 + x^2*y^2) + cbrt(x + 9)",
            "abs(x - 0.25) + sign(y) * y",
            "pow(2 + x^2, 1.5) + (3 + y^2)^(0.5*x)",
            "2^x + x^-2 + 1/(4 + y^2) - x/(2 + cos(y))",
            "min(x^2, y^2 + 1) + max(x*y, 0.5*x) + min(x, y, 0.1)",
            "atan2(y, x + 5) + hypot(x, y + 3)",
            "-x^2 + e^x - pi*tau*y",
        ];
        let mut rng = Rng::new(7);
        for src in cases {
            let s = formula(src);
            for _ in 0..300 {
                let p = DVec2::new(-2.0 + 4.0 * rng.uniform(), -2.0 + 4.0 * rng.uniform());
                // Kinks of abs/sign/min/max: central differences are meaningless there.
                if (p.x - 0.25).abs() < 1e-3 || p.y.abs() < 1e-3 || (p.x - p.y).abs() < 1e-3 {
                    continue;
                }
                let (h, g) = s.height_and_gradient(p);
                assert!(h.is_finite(), "{src} at {p}");
                let e = 1e-6;
                let fd = DVec2::new(
                    (s.height(p + DVec2::X * e) - s.height(p - DVec2::X * e)) / (2.0 * e),
                    (s.height(p + DVec2::Y * e) - s.height(p - DVec2::Y * e)) / (2.0 * e),
                );
                let branch = |a: f64, b: f64| (a - b).abs() < 1e-4;
                // min/max switch branches across ties: skip points right at a tie.
                if src.starts_with("min")
                    && (branch(p.x * p.x, p.y * p.y + 1.0)
                        || branch(p.x * p.y, 0.5 * p.x)
                        || branch(p.x, p.y)
                        || branch(p.y, 0.1)
                        || branch(p.x, 0.1))
                {
                    continue;
                }
                assert!(
                    close(g.x, fd.x, 1e-5) && close(g.y, fd.y, 1e-5),
                    "{src} at {p}: exact {g} vs differences {fd}"
                );
                assert_eq!(h, s.height(p), "value pass and dual pass agree");
            }
        }
    }

    /// The built-ins typed out as formulas.
    const TYPED: &[(&str, &str)] = &[
        (
            "rastrigin",
            "20 + x^2 - 10*cos(2*pi*x) + y^2 - 10*cos(2*pi*y)",
        ),
        ("himmelblau", "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"),
        ("rosenbrock", "(1 - x)^2 + 100*(y - x^2)^2"),
        (
            "ackley",
            "-20*exp(-0.2*sqrt(0.5*(x^2 + y^2))) - exp(0.5*(cos(2*pi*x) + cos(2*pi*y))) + e + 20",
        ),
        ("bowl", "(x^2 + 4*y^2)/2"),
        (
            "six-hump-camel",
            "(4 - 2.1*x^2 + x^4/3)*x^2 + x*y + (-4 + 4*y^2)*y^2",
        ),
        ("saddle", "x^2 - y^2"),
    ];

    #[test]
    fn typed_built_ins_give_the_built_in_heights_gradients_and_trajectories() {
        let mut rng = Rng::new(11);
        for (id, src) in TYPED {
            let built_in = Surface::by_id(id).unwrap();
            let mut typed = formula(src);
            typed.domain = built_in.domain;
            for _ in 0..500 {
                let p = built_in.domain.lerp(rng.uniform(), rng.uniform());
                if *id == "ackley" && p.length() < 1e-3 {
                    continue;
                }
                let (h0, g0) = built_in.height_and_gradient(p);
                let (h1, g1) = typed.height_and_gradient(p);
                assert!(close(h0, h1, 1e-12), "{id} height at {p}: {h0} vs {h1}");
                assert!(
                    (g0 - g1).length() <= 1e-10 * g0.length().max(1.0),
                    "{id} gradient at {p}: {g0} vs {g1}"
                );
            }
            for method in ["sgd", "heavy-ball", "adam"] {
                let mut opt = Optimizer::by_id(method).unwrap();
                opt.set("lr", "0.001").unwrap();
                let start = built_in.default_start();
                let a = trace(&built_in, &opt, start, 300);
                let b = trace(&typed, &opt, start, 300);
                assert_eq!(a.status, b.status, "{id} {method}");
                assert_eq!(a.points.len(), b.points.len());
                for (pa, pb) in a.points.iter().zip(&b.points) {
                    let d = DVec2::new(pa.x - pb.x, pa.y - pb.y).length();
                    assert!(
                        d <= 1e-9 * built_in.domain.extent(),
                        "{id} {method} step {}: trajectories apart by {d}",
                        pa.step
                    );
                }
            }
        }
    }

    #[test]
    fn parse_errors_name_the_column() {
        let cases: &[(&str, usize, &str)] = &[
            ("sin(x", 6, "missing ')'"),
            ("x +", 4, "ends where a value"),
            ("2x", 2, "write multiplication as '*'"),
            ("x $ y", 3, "unexpected character '$'"),
            ("foo(x)", 1, "unknown function 'foo'"),
            ("sin x", 1, "'sin' is a function"),
            ("pow(x)", 1, "pow() takes 2 arguments"),
            ("(x))", 4, "unmatched ')'"),
            ("x * * y", 5, "expected a value"),
            ("", 1, "empty"),
            ("1e999", 1, "too large"),
        ];
        for (src, col, text) in cases {
            let e = Formula::parse(src).expect_err(src);
            assert_eq!(e.column, *col, "{src}: {e}");
            assert!(e.message.contains(text), "{src}: {e}");
        }
    }

    #[test]
    fn absurd_input_is_refused_with_a_message() {
        let long = "x+".repeat(1500) + "x";
        assert!(
            Formula::parse(&long)
                .unwrap_err()
                .message
                .contains("too long")
        );
        let deep = "(".repeat(200) + "x" + &")".repeat(200);
        assert!(
            Formula::parse(&deep)
                .unwrap_err()
                .message
                .contains("nested too deeply")
        );
        let many = (0..12)
            .map(|i| format!("p{i}"))
            .collect::<Vec<_>>()
            .join("+");
        assert!(
            Formula::parse(&many)
                .unwrap_err()
                .message
                .contains("too many parameters")
        );
        let name = "a".repeat(40);
        assert!(Formula::parse(&name).is_err());
        // Deep but legal: 30 nested calls.
        let ok = "sin(".repeat(15) + "x" + &")".repeat(15);
        assert!(Formula::parse(&ok).is_ok());
    }

    #[test]
    fn parameters_have_values_ranges_and_clear_errors() {
        let mut s = formula("a*x^2 + b*y^2");
        let names: Vec<String> = s.params().iter().map(|(p, _)| p.name.to_string()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(
            s.height(DVec2::new(1.0, 2.0)),
            5.0,
            "parameters default to 1"
        );
        s.set_param("a", 3.0).unwrap();
        assert_eq!(s.height(DVec2::new(1.0, 2.0)), 7.0);
        assert_eq!(s.gradient(DVec2::new(1.0, 2.0)), DVec2::new(6.0, 4.0));
        assert!(
            s.set_param("c", 1.0)
                .unwrap_err()
                .contains("(it has: a, b)")
        );
        assert!(s.set_param("a", f64::NAN).is_err());
        assert!(s.set_param("a", 1e300).is_err());
        let m = s.global_minimum();
        assert!(m.estimated, "a formula's minimum is always an estimate");
        assert!(m.value.abs() < 1e-9 && m.points[0].length() < 1e-4, "{m:?}");
        assert_eq!(s.spec(), "formula:a*x^2 + b*y^2");
        assert_eq!(
            Surface::parse(&s.spec())
                .unwrap()
                .as_formula()
                .unwrap()
                .source(),
            "a*x^2 + b*y^2"
        );
    }

    #[test]
    fn where_a_formula_is_not_finite_runs_diverge() {
        let mut s = formula("log(x) + y^2");
        s.domain = Domain::new(-1.0, 1.0, -1.0, 1.0);
        let start = RunState::start(&s, DVec2::new(-0.5, 0.2));
        assert_eq!(start.status, RunStatus::Diverged);
        let ok = RunState::start(&s, DVec2::new(0.5, 0.2));
        assert_eq!(ok.status, RunStatus::Running);
        // A run that walks into the undefined half stops as diverged, without panicking.
        let mut sgd = Optimizer::by_id("sgd").unwrap();
        sgd.set("lr", "0.5").unwrap();
        let t = trace(&s, &sgd, DVec2::new(0.9, 0.0), 50);
        assert!(t.status == RunStatus::Diverged || t.points.iter().all(|p| p.x > 0.0));
        // The mesh's part (the undefined half marked) is tested beside the mesh code, in
        // `src/view/surface_mesh.rs`.
    }

    #[test]
    fn a_formula_compiles_once_and_folds_constants() {
        let f = Formula::parse("2*pi*3 + x").unwrap();
        assert_eq!(f.len(), 3, "constant part folded to one instruction");
        assert_eq!(
            f.value(DVec2::new(1.0, 0.0), &[]),
            6.0 * std::f64::consts::PI + 1.0
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Any text: an error or a formula, never a panic; a formula evaluates anywhere.
        #[test]
        fn any_text_parses_or_fails_cleanly(src in ".{0,80}") {
            if let Ok(f) = Formula::parse(&src) {
                let _ = f.value_and_gradient(DVec2::new(0.3, -1.7), &[2.0; 8]);
            }
        }

        /// Text made of the formula alphabet, so that many inputs get deep into the parser.
        #[test]
        fn formula_like_text_never_panics(
            src in proptest::collection::vec(
                prop_oneof![
                    Just("x"), Just("y"), Just("a"), Just("1.5"), Just("2"), Just("e"),
                    Just("pi"), Just("+"), Just("-"), Just("*"), Just("/"), Just("^"),
                    Just("**"), Just("("), Just(")"), Just(","), Just("sin("), Just("min("),
                    Just("pow("), Just("log("), Just("abs("), Just("sqrt("), Just(" "),
                ],
                0..60,
            ).prop_map(|v| v.concat()),
            x in -1e3f64..1e3,
            y in -1e3f64..1e3,
        ) {
            if let Ok(f) = Formula::parse(&src) {
                let (v, g) = f.value_and_gradient(DVec2::new(x, y), &[0.5]);
                let w = f.value(DVec2::new(x, y), &[0.5]);
                prop_assert!(v.to_bits() == w.to_bits() || (v.is_nan() && w.is_nan()));
                let _ = g;
            }
        }
    }
}

// ---------------------------------------------------------------- scenario files

mod scenarios {
    use optiscape_core::scenario::{
        CameraSpec, MethodSpec, ParamValue, Scenario, StartSpec, SurfaceSpec, builtin,
    };
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn every_shipped_scenario_loads_and_matches_its_file() {
        let names: Vec<&str> = builtin().iter().map(|b| b.name).collect();
        assert_eq!(
            names,
            [
                "notebook",
                "saddle",
                "long-valley",
                "egg-crate",
                "four-minima",
                "narrow-well",
                "formula-ripples"
            ]
        );
        // What each shipped scenario is meant to hold, written out here (not read from the
        // file): surface, methods with their learning rates, starts, steps and seed.
        type Expected = (
            &'static str,
            &'static [(&'static str, Option<f64>)],
            &'static str,
            u64,
            u64,
        );
        let expected: [Expected; 7] = [
            (
                "seed",
                &[
                    ("seed:sgd", None),
                    ("seed:momentum", None),
                    ("seed:adagrad", None),
                    ("seed:adagrad-finetune", None),
                    ("seed:adadelta", None),
                ],
                "default",
                300,
                1,
            ),
            (
                "saddle",
                &[
                    ("sgd", Some(0.01)),
                    ("heavy-ball", Some(0.01)),
                    ("rmsprop", Some(0.01)),
                    ("adam", Some(0.05)),
                ],
                "3 points",
                400,
                1,
            ),
            (
                "rosenbrock",
                &[
                    ("sgd", Some(0.001)),
                    ("nesterov", Some(0.0005)),
                    ("adam", Some(0.05)),
                    ("adagrad", Some(0.5)),
                ],
                "2 points",
                1000,
                1,
            ),
            (
                "rastrigin",
                &[
                    ("sgd", Some(0.002)),
                    ("heavy-ball", Some(0.0005)),
                    ("adam", Some(0.05)),
                    ("langevin", Some(0.002)),
                ],
                "20 random",
                500,
                7,
            ),
            (
                "himmelblau",
                &[("sgd", Some(0.005)), ("adam", Some(0.1))],
                "12 random",
                300,
                3,
            ),
            (
                "plateau",
                &[
                    ("sgd", Some(0.5)),
                    ("heavy-ball", Some(0.1)),
                    ("adam", Some(0.1)),
                    ("adagrad", Some(0.5)),
                ],
                "3 points",
                600,
                1,
            ),
            (
                "formula",
                &[
                    ("sgd", Some(0.05)),
                    ("heavy-ball", Some(0.02)),
                    ("adam", Some(0.1)),
                ],
                "10 random",
                300,
                2,
            ),
        ];
        for (b, (surface, methods, starts, steps, seed)) in builtin().iter().zip(expected) {
            let path = format!(
                "{}/../../assets/scenarios/{}.ron",
                env!("CARGO_MANIFEST_DIR"),
                b.name
            );
            let sc = Scenario::load(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(Scenario::load_or_builtin(b.name).unwrap(), sc, "{}", b.name);
            assert!(!sc.description.is_empty(), "{}", b.name);
            assert_eq!(b.description(), sc.description);
            assert_eq!(sc.surface().unwrap().id(), surface, "{}", b.name);
            let built = sc.methods().unwrap();
            let got: Vec<(String, Option<f64>)> = built
                .into_iter()
                .filter(|m| m.enabled)
                .map(|mut m| (m.optimizer.id.clone(), m.optimizer.lr()))
                .collect();
            for ((id, lr), (want_id, want_lr)) in got.iter().zip(methods.iter()) {
                assert_eq!(id, want_id, "{}", b.name);
                if let Some(want) = want_lr {
                    assert_eq!(*lr, Some(*want), "{}: {id}", b.name);
                }
            }
            assert_eq!(got.len(), methods.len(), "{}", b.name);
            let starts_text = match &sc.starts {
                StartSpec::Default => "default".to_string(),
                StartSpec::Points(p) => format!("{} points", p.len()),
                StartSpec::Random { k, .. } => format!("{k} random"),
            };
            assert_eq!(starts_text, starts, "{}", b.name);
            assert_eq!((sc.steps, sc.seed), (steps, seed), "{}", b.name);
        }
        let formula = Scenario::load_or_builtin("formula-ripples").unwrap();
        assert!(formula.surface().unwrap().as_formula().is_some());
    }

    fn rich() -> Scenario {
        let mut params = BTreeMap::new();
        params.insert("lr".to_string(), ParamValue::Num(0.0123));
        params.insert("betas".to_string(), ParamValue::Pair(0.8, 0.95));
        params.insert("steps_per_frame".to_string(), ParamValue::Num(3.0));
        let mut sp = BTreeMap::new();
        sp.insert("a".to_string(), 2.5);
        Scenario {
            version: 1,
            description: "everything at once".into(),
            surface: SurfaceSpec {
                name: None,
                formula: Some("a*sin(x) + 0.1*(x^2 + y^2)".into()),
                params: sp,
                domain: Some(optiscape_core::landscape::Domain::new(-4.0, 4.0, -3.0, 5.0)),
            },
            display: Default::default(),
            methods: vec![
                MethodSpec {
                    id: "adam".into(),
                    enabled: true,
                    color: Some("#ff8000".into()),
                    params,
                },
                MethodSpec {
                    id: "sgd".into(),
                    enabled: false,
                    color: None,
                    params: BTreeMap::new(),
                },
            ],
            starts: StartSpec::Points(vec![(0.1, 0.2), (-1.0 / 3.0, 4.9)]),
            steps: 1234,
            speed: 77.5,
            seed: 99,
            camera: Some(CameraSpec {
                yaw: 0.1,
                pitch: 0.7,
                radius: 12.5,
                focus: (0.0, 1.0, -0.5),
            }),
        }
    }

    #[test]
    fn written_and_read_back_is_identical() {
        let sc = rich();
        sc.validate().unwrap();
        let text = sc.to_ron().unwrap();
        assert_eq!(Scenario::parse(&text, "rich").unwrap(), sc, "{text}");
        let dir = std::env::temp_dir().join(format!("optiscape-sc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rich.ron");
        sc.save(&path).unwrap();
        assert_eq!(Scenario::load(&path).unwrap(), sc);
        let _ = std::fs::remove_dir_all(&dir);
        for b in builtin() {
            let sc = Scenario::parse(b.text, b.name).unwrap();
            assert_eq!(Scenario::parse(&sc.to_ron().unwrap(), "again").unwrap(), sc);
        }
        let built = sc.methods().unwrap();
        let mut adam = built[0].optimizer.clone();
        assert_eq!(adam.get("betas").unwrap(), "0.8,0.95");
        assert_eq!(adam.get("steps_per_frame").unwrap(), "3");
        assert_eq!(built[0].color, Some([1.0, 128.0 / 255.0, 0.0]));
    }

    #[test]
    fn bad_files_say_where_and_what() {
        let cases: &[(&str, &str)] = &[
            (
                "(version: 1, surface: (name: \"seed\"), methods: [], colour: 1)",
                "f.ron:1:",
            ),
            (
                "(version: 1,\n surface: (name: \"seed\"),\n methods: [(id: \"adam\", lrr: 1)])",
                "f.ron:3:",
            ),
            (
                "(version: 1, surface: (name: \"seed\"), methods: [(id: \"adam\", params: {\"lr\": \"x\"})])",
                "a number, true or false",
            ),
            (
                "(version: 2, surface: (name: \"seed\"), methods: [])",
                "version 2 is not supported",
            ),
            (
                "(version: 1, surface: (name: \"moon\"), methods: [])",
                "surface.name: unknown surface 'moon'",
            ),
            (
                "(version: 1, surface: (formula: \"sin(x\"), methods: [])",
                "surface.formula: column 6",
            ),
            (
                "(version: 1, surface: (name: \"seed\", formula: \"x\"), methods: [])",
                "exactly one of name or formula",
            ),
            (
                "(version: 1, surface: (name: \"seed\"), methods: [(id: \"adamx\")])",
                "methods[0] (adamx): unknown method",
            ),
            (
                "(version: 1, surface: (name: \"seed\"), methods: [(id: \"adam\", params: {\"lr\": -1})])",
                "methods[0] (adam)",
            ),
            (
                "(version: 1, surface: (name: \"seed\"), methods: [(id: \"adam\", color: \"red\")])",
                "expected #rrggbb",
            ),
            (
                "(version: 1, surface: (name: \"seed\"), methods: [(id: \"adam\"), (id: \"adam\")])",
                "listed twice",
            ),
            (
                "(version: 1, surface: (name: \"bowl\"), methods: [], starts: Points([(9.0, 0.0)]))",
                "outside the domain",
            ),
            (
                "(version: 1, surface: (name: \"seed\"), methods: [], speed: 0)",
                "speed must be",
            ),
            (
                "(version: 1, surface: (name: \"seed\"), methods: [], display: (colormap: \"jet\"))",
                "unknown colormap 'jet'",
            ),
            (
                "(version: 1, surface: (name: \"seed\"), methods: [], display: (resolution: 5000))",
                "display.resolution",
            ),
            (
                "(version: 1, surface: (name: \"seed\", domain: (x0: 1, x1: 0, y0: 0, y1: 1)), methods: [])",
                "surface.domain",
            ),
            (
                "(version: 1, surface: (name: \"seed\"), methods: [], camera: (yaw: 0, pitch: 0, radius: -1, focus: (0, 0, 0)))",
                "camera",
            ),
            (
                "(version: 1, surface: (name: \"seed\"), methods: [(id: \"adam\"",
                "f.ron:1:",
            ),
            ("", "f.ron:"),
        ];
        for (text, want) in cases {
            let e = Scenario::parse(text, "f.ron").expect_err(text);
            assert!(e.starts_with("f.ron"), "{e}");
            assert!(e.contains(want), "{text}\n  gave: {e}\n  want: {want}");
        }
        let missing = Scenario::load_or_builtin("no-such-scenario").unwrap_err();
        assert!(missing.contains("shipped: notebook"), "{missing}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1500))]

        #[test]
        fn any_text_loads_or_fails_cleanly(text in ".{0,200}") {
            let _ = Scenario::parse(&text, "p.ron");
        }

        /// Shipped files with bytes cut out or replaced: a message, never a panic.
        #[test]
        fn damaged_scenarios_fail_cleanly(
            which in 0usize..7,
            cut in 0usize..2000,
            len in 0usize..40,
            junk in "[(){}\\[\\],:\"a-z0-9.# -]{0,12}",
        ) {
            let text = builtin()[which].text;
            let mut bytes: Vec<char> = text.chars().collect();
            let at = cut % (bytes.len() + 1);
            let end = (at + len).min(bytes.len());
            bytes.splice(at..end, junk.chars());
            let damaged: String = bytes.into_iter().collect();
            match Scenario::parse(&damaged, "d.ron") {
                Ok(sc) => prop_assert!(sc.validate().is_ok()),
                Err(e) => prop_assert!(e.starts_with("d.ron")),
            }
        }
    }
}
