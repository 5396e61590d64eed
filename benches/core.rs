//! Benchmarks: rule kernels, a full trace, the surface mesh build, and the ECS tick.
//! `cargo bench --bench core`; figures in docs/benchmarks.md.

use bevy::prelude::*;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use glam::DVec2;
use optiscape::lab::basins::{basins, basins_with};
use optiscape::lab::{
    Precision, Progress, Target, race, run_batch_scalar, run_batch_with, trace, uniform_starts,
};
use optiscape::landscape::Surface;
use optiscape::optim::{Optimizer, catalog};
use optiscape::sim::{Roster, SimCommand, SimPlugin};
use optiscape::view::colormap::Colormap;
use optiscape::view::surface_mesh::{MeshOptions, build};
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

fn mesh_build(c: &mut Criterion) {
    let s = Surface::seed();
    let mut g = c.benchmark_group("surface mesh build");
    g.sample_size(10);
    for res in [128u32, 256, 512] {
        let opts = MeshOptions {
            resolution: res,
            exaggeration: 1.0,
            colormap: Colormap::Coolwarm,
            contours: true,
            contour_levels: 18,
            wireframe: false,
        };
        g.bench_with_input(BenchmarkId::from_parameter(res), &opts, |b, o| {
            b.iter(|| black_box(build(&s, o)))
        });
    }
    g.finish();
}

fn ecs_tick(c: &mut Criterion) {
    let mut g = c.benchmark_group("ecs tick (all rules mixed)");
    g.sample_size(10);
    for balls in [10_000usize, 100_000] {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins).add_plugins(SimPlugin);
        {
            let mut roster = app.world_mut().resource_mut::<Roster>();
            for m in roster.0.iter_mut() {
                m.enabled = !m.id.contains(':');
            }
        }
        app.update();
        let per_method = balls / catalog().iter().filter(|m| !m.id.contains(':')).count();
        app.world_mut()
            .write_message(SimCommand::SetFrames(u64::MAX / 2));
        app.world_mut().write_message(SimCommand::Restart {
            k: per_method,
            region: None,
        });
        app.update();
        let tick = app
            .world_mut()
            .register_system(|world: &mut World| world.run_schedule(FixedUpdate));
        g.bench_function(BenchmarkId::from_parameter(balls), |b| {
            b.iter(|| app.world_mut().run_system(tick).unwrap())
        });
    }
    g.finish();
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

/// Typed formulas: one evaluation against the built-in, a 512 x 512 mesh and a 256 x 256 basin
/// map (the "stays interactive" sizes).
fn formulas(c: &mut Criterion) {
    let typed = Surface::formula(
        "20 + x^2 - 10*cos(2*pi*x) + y^2 - 10*cos(2*pi*y)",
        Some(optiscape::landscape::Domain::square(-5.12, 5.12)),
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
            black_box(optiscape::landscape::Formula::parse(black_box(
                "a*sin(x)*cos(y) + 0.1*(x^2 + y^2)",
            )))
        })
    });
    g.sample_size(10);
    let opts = MeshOptions {
        resolution: 512,
        exaggeration: 1.0,
        colormap: Colormap::Coolwarm,
        contours: true,
        contour_levels: 18,
        wireframe: false,
    };
    g.bench_function("mesh 512 typed rastrigin", |b| {
        b.iter(|| black_box(build(&typed, &opts)))
    });
    let mut adam = Optimizer::by_id("adam").unwrap();
    adam.set("lr", "0.05").unwrap();
    g.bench_function("basins 256 x 256 x 300 steps typed rastrigin", |b| {
        b.iter(|| black_box(basins(&typed, &adam, 256, 300, 0, Target::of(&typed))))
    });
    g.finish();
}

criterion_group!(
    benches,
    rule_kernels,
    trace_300,
    mesh_build,
    ecs_tick,
    lab,
    formulas
);
criterion_main!(benches);
