//! Benchmarks of the math and the lab: rule kernels, a full trace, batches and basin maps,
//! typed formulas. `cargo bench -p optiscape-core --bench core`; figures in docs/benchmarks.md.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use glam::DVec2;
use optiscape_core::lab::basins::{basins, basins_with};
use optiscape_core::lab::{
    Precision, Progress, Target, race, run_batch_scalar, run_batch_with, trace, uniform_starts,
};
use optiscape_core::landscape::Surface;
use optiscape_core::optim::Optimizer;
use std::hint::black_box;

fn rule_kernels(c: &mut Criterion) {
    let mut g = c.benchmark_group("rule step");
    for id in [
        "sgd",
        "heavy-ball",
        "adam",
        "rmsprop",
        "adadelta",
        "lion",
        "langevin",
    ] {
        let mut opt = Optimizer::by_id(id).unwrap();
        g.bench_function(id, |b| {
            b.iter(|| black_box(opt.step(black_box(DVec2::new(0.3, -0.2)), DVec2::new(0.1, 0.4))))
        });
    }
    g.finish();
}

fn trace_300(c: &mut Criterion) {
    let s = Surface::by_id("rastrigin").unwrap();
    let opt = Optimizer::by_id("adam").unwrap();
    c.bench_function("trace adam rastrigin 300 steps", |b| {
        b.iter(|| black_box(trace(&s, &opt, DVec2::new(-2.1, 3.3), 300)))
    });
}

fn lab(c: &mut Criterion) {
    let s = Surface::by_id("rastrigin").unwrap();
    let t = Target::of(&s);
    let mut adam = Optimizer::by_id("adam").unwrap();
    adam.set("lr", "0.05").unwrap();
    let mut g = c.benchmark_group("lab");
    g.sample_size(10);
    for k in [1_000usize, 10_000] {
        let starts = uniform_starts(s.domain, k, 1);
        g.bench_function(BenchmarkId::new("race adam 300 steps", k), |b| {
            b.iter(|| black_box(race(&s, std::slice::from_ref(&adam), &starts, 300, 0, t)))
        });
    }
    for r in [64usize, 128] {
        g.bench_function(BenchmarkId::new("basins adam 300 steps", r), |b| {
            b.iter(|| black_box(basins(&s, &adam, r, 300, 0, t)))
        });
    }
    // How the time grows with starts x steps (the same product three ways).
    for (k, n) in [(1_000usize, 1_000u64), (10_000, 100), (100_000, 10)] {
        let starts = uniform_starts(s.domain, k, 1);
        g.bench_function(
            BenchmarkId::new("race starts x steps = 1e6", format!("{k}x{n}")),
            |b| b.iter(|| black_box(race(&s, std::slice::from_ref(&adam), &starts, n, 0, t))),
        );
    }
    // The two engines on the same 10,000 runs of 300 steps: one run at a time (`step_once`)
    // against the lockstep lanes, in f64 and f32.
    let starts = uniform_starts(s.domain, 10_000, 1);
    g.bench_function("runs 10000 x 300, one at a time, f64", |b| {
        b.iter(|| {
            black_box(run_batch_scalar(
                &s,
                &adam,
                &starts,
                300,
                0,
                t,
                &Progress::default(),
            ))
        })
    });
    for p in [Precision::F64, Precision::F32] {
        g.bench_function(
            format!("runs 10000 x 300, lockstep lanes, {}", p.name()),
            |b| {
                b.iter(|| {
                    black_box(run_batch_with(
                        &s,
                        &adam,
                        &starts,
                        300,
                        0,
                        t,
                        p,
                        &Progress::default(),
                    ))
                })
            },
        );
    }
    // The reference workload against JAX: a 512 x 512 map, Adam, 300 steps.
    for p in [Precision::F64, Precision::F32] {
        g.bench_function(format!("basins 512 adam 300 steps {}", p.name()), |b| {
            b.iter(|| {
                black_box(basins_with(
                    &s,
                    &adam,
                    512,
                    300,
                    0,
                    t,
                    p,
                    &Progress::default(),
                ))
            })
        });
    }
    g.finish();
}

/// Typed formulas: one evaluation against the built-in, and a 256 x 256 basin map (the mesh of
/// the same formula is in the program's `benches/app.rs`).
fn formulas(c: &mut Criterion) {
    let typed = Surface::formula(
        "20 + x^2 - 10*cos(2*pi*x) + y^2 - 10*cos(2*pi*y)",
        Some(optiscape_core::landscape::Domain::square(-5.12, 5.12)),
    )
    .unwrap();
    let built_in = Surface::by_id("rastrigin").unwrap();
    let mut g = c.benchmark_group("formula");
    let p = DVec2::new(0.7, -1.3);
    g.bench_function("height_and_gradient typed rastrigin", |b| {
        b.iter(|| black_box(typed.height_and_gradient(black_box(p))))
    });
    g.bench_function("height_and_gradient built-in rastrigin", |b| {
        b.iter(|| black_box(built_in.height_and_gradient(black_box(p))))
    });
    g.bench_function("parse and compile", |b| {
        b.iter(|| {
            black_box(optiscape_core::landscape::Formula::parse(black_box(
                "a*sin(x)*cos(y) + 0.1*(x^2 + y^2)",
            )))
        })
    });
    g.sample_size(10);
    let mut adam = Optimizer::by_id("adam").unwrap();
    adam.set("lr", "0.05").unwrap();
    g.bench_function("basins 256 x 256 x 300 steps typed rastrigin", |b| {
        b.iter(|| black_box(basins(&typed, &adam, 256, 300, 0, Target::of(&typed))))
    });
    g.finish();
}

/// The fair-comparison workloads of the issue: `tune` of six methods on Rastrigin (32 settings
/// each, 1,000 starts x 500 updates) and a 32 x 32 phase map (200 starts x 300 updates).
fn fair(c: &mut Criterion) {
    use optiscape_core::lab::phase::{PhaseAxis, phase};
    use optiscape_core::lab::tune::{TuneSetup, tune};
    let s = Surface::by_id("rastrigin").unwrap();
    let mut g = c.benchmark_group("fair");
    g.sample_size(10);
    let methods: Vec<Optimizer> = ["sgd", "heavy-ball", "nesterov", "adam", "rmsprop", "lion"]
        .iter()
        .map(|id| Optimizer::by_id(id).unwrap())
        .collect();
    let setup = TuneSetup {
        region: s.domain,
        starts: 1000,
        steps: 500,
        budget: 32,
        seed: 1,
        target: Target::of(&s),
        precision: Precision::F64,
        grad_cost: optiscape_core::lab::GRAD_COST,
        evals: None,
    };
    g.bench_function("tune 6 methods x 32 settings, 1000 starts x 500", |b| {
        b.iter(|| tune(&s, &methods, &setup, &Progress::default()))
    });
    let hb = Optimizer::by_id("heavy-ball").unwrap();
    let x = PhaseAxis::parse("--x", &hb, "lr=1e-3..0.3", 32, true).unwrap();
    let y = PhaseAxis::parse("--y", &hb, "momentum=0..0.99", 32, false).unwrap();
    let starts = uniform_starts(s.domain, 200, 1);
    g.bench_function("phase 32 x 32, 200 starts x 300", |b| {
        b.iter(|| {
            phase(
                &s,
                &hb,
                &x,
                &y,
                &starts,
                300,
                1,
                Target::of(&s),
                Precision::F64,
                None,
                &Progress::default(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, rule_kernels, trace_300, lab, formulas, fair);
criterion_main!(benches);
