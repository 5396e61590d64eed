//! The lab: batches equal `trace`, lanes equal scalars, race / basins / sweep.

// The notebook's constants use 3.14, not pi.
#![allow(clippy::approx_constant)]

// ---------------------------------------------------------------- the lab

use glam::DVec2;
use optiscape_core::lab::basins::{DIVERGED, basins, grid_start, grid_starts};
use optiscape_core::lab::{RunStatus, Target, race, run_batch, trace, uniform_starts};
use optiscape_core::landscape::{Domain, Surface};

mod matrix;
use matrix::{every_surface, opt};

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

/// The lockstep engine against single runs, for every rule and every surface, in every copy of
/// its code this CPU runs (`matrix::lockstep_equals_single_runs`): so every copy gives the same
/// f64 numbers bit for bit.
#[test]
fn lockstep_batches_equal_single_runs_bit_for_bit() {
    for copy in matrix::copies_here() {
        matrix::lockstep_equals_single_runs(copy);
    }
}

/// In f32 too every copy of the engine's code gives the same numbers bit for bit (each lane
/// operation is the scalar IEEE operation), and the general engine runs f64 (as the engine
/// report says).
#[test]
fn every_copy_of_the_lane_engine_gives_the_same_f32_runs() {
    use optiscape_core::lab::{LaneCopy, Precision, engine_on, run_batch_on};
    let bits = |ends: &[optiscape_core::lab::RunEnd]| -> Vec<(u64, u64, u64, u64)> {
        ends.iter()
            .map(|e| {
                let b = |v: f64| if v.is_nan() { 0 } else { v.to_bits() };
                (b(e.end.x), b(e.end.y), b(e.loss), e.steps)
            })
            .collect()
    };
    let copies = matrix::copies_here();
    for s in matrix::every_surface() {
        let starts = uniform_starts(s.domain, 37, 3);
        let target = Target::of(&s);
        for id in ["adam", "lion", "langevin", "nadam"] {
            let o = matrix::opt(id, &[("lr", "0.02")]);
            let runs: Vec<_> = copies
                .iter()
                .map(|&c| {
                    assert_eq!(
                        engine_on(c, &s, Precision::F32, 150).precision,
                        Precision::F32
                    );
                    run_batch_on(c, &s, &o, &starts, 150, 4, target, Precision::F32).unwrap()
                })
                .collect();
            for (c, r) in copies.iter().zip(&runs).skip(1) {
                assert_eq!(bits(r), bits(&runs[0]), "{} {id} {c:?}", s.spec());
            }
        }
    }
    let s = Surface::by_id("rastrigin").unwrap();
    let e = engine_on(LaneCopy::General, &s, Precision::F32, 150);
    assert_eq!((e.engine, e.precision), ("general", Precision::F64));
}

/// Single precision against double, for every surface (docs/guide.md, "Precision"): every f32
/// height and gradient within 1e-5 of the surface's scale (the largest magnitude on a grid over
/// its domain) of the f64 one; and whole runs agree in their statistics: for Adam on every
/// surface, the share of a 48 x 48 basin map that reaches the global minimum differs by at most
/// 0.03 (single runs near a ridge may settle in the neighbouring basin; chaotic runs, such as
/// SGD bouncing across Rastrigin's ripples, part ways after a few dozen steps in any precision).
#[test]
fn single_precision_within_the_documented_tolerance_everywhere() {
    use optiscape_core::lab::basins::basins_with;
    use optiscape_core::lab::{Precision, Progress};
    use optiscape_core::landscape::{LaneEval, LaneSurfaceVisitor};
    use optiscape_core::lanes::{F32x8, V2};
    struct Eval32(Vec<DVec2>);
    impl LaneSurfaceVisitor for Eval32 {
        type Out = Vec<(f64, DVec2)>;
        fn visit<S: LaneEval>(self, surface: S) -> Self::Out {
            let mut out = Vec::new();
            for chunk in self.0.chunks(8) {
                let at = |i: usize| chunk[i.min(chunk.len() - 1)];
                let p = V2::new(
                    F32x8(std::array::from_fn(|i| at(i).x as f32)),
                    F32x8(std::array::from_fn(|i| at(i).y as f32)),
                );
                let (h, g) = surface.eval(p);
                for i in 0..chunk.len() {
                    out.push((h.0[i] as f64, DVec2::new(g.x.0[i] as f64, g.y.0[i] as f64)));
                }
            }
            out
        }
    }
    let adam = opt("adam", &[("lr", "0.05")]);
    for s in every_surface() {
        // Points that f32 holds exactly, so that only the arithmetic differs.
        let points: Vec<DVec2> = grid_starts(&s, 40)
            .into_iter()
            .map(|p| DVec2::new(p.x as f32 as f64, p.y as f32 as f64))
            .collect();
        let single = s.visit_lanes(Eval32(points.clone()));
        let double: Vec<(f64, DVec2)> = points.iter().map(|p| s.height_and_gradient(*p)).collect();
        let finite = |v: &&(f64, DVec2)| v.0.is_finite() && v.1.is_finite();
        let h_scale = double
            .iter()
            .filter(finite)
            .map(|v| v.0.abs())
            .fold(0.0, f64::max);
        let g_scale = double
            .iter()
            .filter(finite)
            .map(|v| v.1.abs().max_element())
            .fold(0.0, f64::max);
        for ((h32, g32), (h64, g64)) in single.iter().zip(&double) {
            if !(h64.is_finite() && g64.is_finite()) {
                continue;
            }
            assert!(
                (h32 - h64).abs() <= 1e-5 * h_scale,
                "{} {h32} {h64}",
                s.spec()
            );
            assert!(
                (*g32 - *g64).abs().max_element() <= 1e-5 * g_scale,
                "{} {g32} {g64}",
                s.spec()
            );
        }
        let map = |precision| {
            basins_with(
                &s,
                &adam,
                48,
                300,
                0,
                Target::of(&s),
                precision,
                &Progress::default(),
            )
            .unwrap()
            .global_fraction
        };
        let (f32_share, f64_share) = (map(Precision::F32), map(Precision::F64));
        assert!(
            (f32_share - f64_share).abs() <= 0.03,
            "{}: {f32_share} vs {f64_share}",
            s.spec()
        );
    }
}

/// Single precision: same answers as f64 where the dynamics are not chaotic, close ones
/// where they are, the same whatever the number of threads; refused where not available.
#[test]
fn single_precision_batches() {
    use optiscape_core::lab::basins::basins_with;
    use optiscape_core::lab::{Precision, Progress};
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
    // Everything runs in single precision: formulas, every rule, gradient noise.
    let formula = Surface::parse("formula:x^2 + y^2").unwrap();
    let noisy = opt("lion", &[("lr", "0.01"), ("noise", "0.1")]);
    let ends = optiscape_core::lab::race_with(
        &formula,
        std::slice::from_ref(&noisy),
        &uniform_starts(formula.domain, 50, 1),
        400,
        0,
        Target::of(&formula),
        Precision::F32,
        &Progress::default(),
    )
    .unwrap();
    assert!(ends[0].success_rate > 0.0);
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
fn a_map_of_several_chunks_keeps_every_run_as_made_at_once() {
    // 513 x 513 = 263,169 runs: more than one chunk (`STREAM_CHUNK`, 262,144), so the map is
    // made and labelled in two; Langevin's noise checks that each run keeps its own seed.
    let s = Surface::by_id("rastrigin").unwrap();
    let target = Target::of(&s);
    let r = 513;
    for o in [
        opt("langevin", &[("lr", "0.01")]),
        opt("adam", &[("lr", "0.05")]),
    ] {
        let map = basins(&s, &o, r, 3, 4, target);
        let ends = run_batch(&s, &o, &grid_starts(&s, r), 3, 4, target);
        assert_eq!(map.ends.len(), ends.len());
        assert_eq!(map.labels.len(), ends.len());
        for (k, (m, e)) in map.ends.iter().zip(&ends).enumerate() {
            assert_eq!(m.end, e.end, "run {k}");
            assert_eq!(m.loss.to_bits(), e.loss.to_bits(), "run {k}");
            assert_eq!(
                grid_start(s.domain, r, k),
                e.start,
                "the start of cell {k} is the run's"
            );
            assert_eq!(map.labels[k] == DIVERGED, e.status == RunStatus::Diverged);
        }
    }
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

#[test]
fn shards_of_a_batch_equal_the_batch_bit_for_bit() {
    // Noisy rules draw from the run's own stream, seeded by its index in the whole batch: a
    // batch cut anywhere (also mid lane group) and run in pieces equals the batch.
    use optiscape_core::lab::{Precision, Progress, run_batch_with, run_shard};
    let surface = Surface::parse("rastrigin").unwrap();
    let target = Target::of(&surface);
    let starts = uniform_starts(surface.domain, 301, 9);
    for method in [
        opt("langevin", &[]),
        opt("adam", &[("noise", "0.2")]),
        opt("sgd", &[]),
    ] {
        for precision in [Precision::F64, Precision::F32] {
            let p = Progress::default();
            let whole =
                run_batch_with(&surface, &method, &starts, 120, 9, target, precision, &p).unwrap();
            let mut pieces = Vec::new();
            for (a, b) in [(0, 5), (5, 133), (133, 134), (134, 301)] {
                let part = &starts[a..b];
                pieces.extend(
                    run_shard(&surface, &method, part, a, 120, 9, target, precision, &p).unwrap(),
                );
            }
            assert_eq!(pieces.len(), whole.len());
            for (i, (x, y)) in pieces.iter().zip(&whole).enumerate() {
                assert_eq!(
                    (x.end.x.to_bits(), x.end.y.to_bits(), x.loss.to_bits()),
                    (y.end.x.to_bits(), y.end.y.to_bits(), y.loss.to_bits()),
                    "{} {precision:?} run {i}",
                    method.id
                );
                assert_eq!(x.first_success, y.first_success);
                assert_eq!(x.status, y.status);
            }
        }
    }
}
