//! Benchmarks of the program: the surface mesh build (a built-in and a typed formula) and the
//! ECS tick. `cargo bench --bench app`; figures in docs/benchmarks.md.

use bevy::prelude::*;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use optiscape::sim::{Roster, SimCommand, SimPlugin};
use optiscape::view::colormap::Colormap;
use optiscape::view::surface_mesh::{MeshOptions, build};
use optiscape_core::landscape::{Domain, Surface};
use optiscape_core::optim::catalog;
use std::hint::black_box;

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

/// The mesh of a typed formula at 512 x 512 (the formula issue's "stays interactive" size).
fn formula_mesh(c: &mut Criterion) {
    let typed = Surface::formula(
        "20 + x^2 - 10*cos(2*pi*x) + y^2 - 10*cos(2*pi*y)",
        Some(Domain::square(-5.12, 5.12)),
    )
    .unwrap();
    let mut g = c.benchmark_group("formula");
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

criterion_group!(benches, mesh_build, formula_mesh, ecs_tick);
criterion_main!(benches);
