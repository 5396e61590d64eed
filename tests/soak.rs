//! Soak: the headless simulation (MinimalPlugins, no rendering) with 100,000 balls, driven by a
//! seeded random sequence of every `SimCommand` (drop, clear, restart, reset, continue, load a
//! scenario, change the surface and its domain, change hyperparameters, extreme speeds and
//! frame budgets) for 100,000 fixed ticks. It checks that nothing panics, that every ball is
//! finite or marked diverged, and that the heap stays under `HEAP_BOUND` (counted by this
//! binary's allocator).
//!
//! Minutes long, so `cargo test` leaves it out (`#[ignore]`); `.ci/run` runs it with
//! `cargo test --test soak -- --ignored`. `OPTISCAPE_SOAK_TICKS` and `OPTISCAPE_SOAK_BALLS`
//! change its size for a quick run by hand.

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use optiscape::sim::{Ball, BallRun, Roster, SimCommand, SimPlugin, SimSettings, SimSurface};
use optiscape_core::lab::RunStatus;
use optiscape_core::landscape::{Domain, Surface, catalog as surfaces};
use optiscape_core::optim::Rng;
use optiscape_core::scenario::{Scenario, builtin};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The system allocator, counting the bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded to the system allocator with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's pointer, layout and size.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = IN_USE.fetch_add(new_size - layout.size(), Ordering::Relaxed)
                    + (new_size - layout.size());
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                IN_USE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most heap the soak may hold at any time: balls (about 1 KiB each with their components
/// and trails of at most `TRAIL_BUDGET` points in all), the ECS's tables, and the app.
const HEAP_BOUND: usize = 512 << 20;

fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A random command, every kind of them, with extreme values among the ordinary ones.
fn random_command(rng: &mut Rng, app: &App, balls_max: usize) -> SimCommand {
    let u = |rng: &mut Rng| rng.uniform();
    let surface = app.world().resource::<SimSurface>().0.clone();
    let d = surface.domain;
    let roster = app.world().resource::<Roster>();
    let method = roster.0[(u(rng) * roster.0.len() as f64) as usize % roster.0.len()]
        .id
        .to_string();
    let enabled = roster.enabled().count().max(1);
    let odd = [0.0, -1.0, f64::NAN, f64::INFINITY, 1e308, -1e-300];
    match (u(rng) * 17.0) as u32 {
        0 => SimCommand::Play,
        1 => SimCommand::Pause,
        2 => SimCommand::TogglePlay,
        3 => SimCommand::StepOnce,
        4 => SimCommand::Reset,
        5 => SimCommand::Continue,
        6 => SimCommand::Clear,
        7 => {
            // Up to `balls_max` balls in all; sometimes a region partly outside the domain.
            let k = 1 + (u(rng) * (balls_max / enabled) as f64) as usize;
            let region = (u(rng) < 0.5).then(|| {
                let (a, b) = (d.lerp(u(rng), u(rng)), d.lerp(u(rng), u(rng)));
                let pad = if u(rng) < 0.2 { d.extent() } else { 0.0 };
                Domain::new(a.x.min(b.x) - pad, a.x.max(b.x), a.y.min(b.y), a.y.max(b.y))
            });
            SimCommand::Restart { k, region }
        }
        8 => SimCommand::ResetToDefaultStart,
        9 => {
            // Inside, or far outside, the domain.
            let p = d.lerp(3.0 * u(rng) - 1.0, 3.0 * u(rng) - 1.0);
            SimCommand::Drop { at: p }
        }
        10 => SimCommand::ApplyHyperparameters { method },
        11 => SimCommand::SetMethodEnabled {
            method,
            enabled: u(rng) < 0.6,
        },
        12 => {
            // Another surface, sometimes on a domain of its own (well-formed or not).
            let info = &surfaces()[(u(rng) * surfaces().len() as f64) as usize % surfaces().len()];
            let mut s = Surface::by_id(info.id).unwrap_or_else(Surface::seed);
            if u(rng) < 0.3 {
                let c = s.domain.center();
                let r = s.domain.extent() * (0.05 + u(rng));
                s.domain = Domain::new(c.x - r, c.x + r * (2.0 * u(rng) - 0.5), c.y - r, c.y + r);
            }
            SimCommand::SetSurface(s)
        }
        13 => SimCommand::SetSeed(rng.next_u64()),
        14 => {
            let v = if u(rng) < 0.3 {
                odd[(u(rng) * odd.len() as f64) as usize % odd.len()]
            } else {
                1.0 + 999.0 * u(rng)
            };
            SimCommand::SetSpeed(v)
        }
        15 => SimCommand::SetFrames(if u(rng) < 0.1 {
            0
        } else {
            1 + (u(rng) * 600.0) as u64
        }),
        _ => {
            let b = &builtin()[(u(rng) * builtin().len() as f64) as usize % builtin().len()];
            SimCommand::LoadScenario(Box::new(
                Scenario::load_or_builtin(b.name).expect("a shipped scenario loads"),
            ))
        }
    }
}

/// Changes a hyperparameter of a random method's template to a random value of its range (or
/// an out-of-range one, which `set` refuses).
fn random_hyperparameter(rng: &mut Rng, app: &mut App) {
    let mut roster = app.world_mut().resource_mut::<Roster>();
    let n = roster.0.len();
    let entry = &mut roster.0[(rng.uniform() * n as f64) as usize % n];
    let lr = 10f64.powf(-6.0 + 7.0 * rng.uniform());
    let _refused_or_set = entry.template.set("lr", &lr.to_string());
}

#[test]
#[ignore = "minutes long: .ci/run runs it with --ignored"]
fn a_long_random_session_stays_finite_and_bounded() {
    let ticks = size("OPTISCAPE_SOAK_TICKS", 100_000);
    let balls_max = size("OPTISCAPE_SOAK_BALLS", 100_000);
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(SimPlugin);
    app.update();
    // 100,000 balls to start with: the notebook's five methods from 20,000 points each.
    app.world_mut().write_message(SimCommand::Restart {
        k: balls_max / 5,
        region: None,
    });
    let mut rng = Rng::new(20261130);
    let mut next_command = 1000;
    let mut most_balls = 0;
    for tick in 0..ticks {
        // Exactly one fixed tick per update, whatever the speed setting.
        let hz = app.world().resource::<SimSettings>().speed;
        app.insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_secs_f64(
            1.0 / hz,
        )));
        if tick == next_command {
            for _ in 0..1 + (rng.uniform() * 3.0) as usize {
                let cmd = random_command(&mut rng, &app, balls_max);
                app.world_mut().write_message(cmd);
            }
            if rng.uniform() < 0.3 {
                random_hyperparameter(&mut rng, &mut app);
            }
            next_command = tick + 1 + (rng.uniform() * 400.0) as usize;
        }
        app.update();
        if tick % 1000 == 999 || tick + 1 == ticks {
            let mut q = app.world_mut().query::<(&Ball, &BallRun)>();
            let mut n = 0;
            for (ball, run) in q.iter(app.world()) {
                n += 1;
                let r = &run.0;
                assert!(
                    r.status == RunStatus::Diverged
                        || (r.pos.is_finite() && r.loss.is_finite() && r.grad.is_finite()),
                    "tick {tick}: a {} ball is not finite and not marked diverged: {r:?}",
                    ball.method
                );
            }
            most_balls = most_balls.max(n);
            let heap = IN_USE.load(Ordering::Relaxed);
            assert!(heap < HEAP_BOUND, "tick {tick}: {} MiB in use", heap >> 20);
        }
    }
    let peak = PEAK.load(Ordering::Relaxed);
    println!(
        "soak: {ticks} ticks, at most {most_balls} balls; peak heap {} MiB (bound {} MiB)",
        peak >> 20,
        HEAP_BOUND >> 20
    );
    assert!(peak < HEAP_BOUND, "peak heap {} MiB", peak >> 20);
    assert!(
        most_balls >= balls_max.min(100_000) / 2,
        "{most_balls} balls"
    );
}
