//! The headless simulation: `MinimalPlugins` + `SimPlugin`, manual fixed-time stepping, no
//! window, no GPU.

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use glam::DVec2;
use optiscape::sim::{
    Ball, BallOptimizer, BallRun, LoadedSetup, Roster, SimCommand, SimPlugin, SimSettings,
    SimSurface, StartPoints, Trail,
};
use optiscape_core::lab::{RunStatus, trace};
use optiscape_core::landscape::Surface;
use optiscape_core::optim::Optimizer;
use std::time::Duration;

/// An app whose every `update` advances simulated time by exactly one fixed tick.
fn app() -> App {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(SimPlugin);
    app.insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_secs_f64(
        1.0 / 30.0,
    )));
    app.world_mut().resource_mut::<SimSettings>().trail_len = 100_000;
    app.update();
    app.update();
    app
}

fn send(app: &mut App, cmd: SimCommand) {
    app.world_mut().write_message(cmd);
    app.update();
}

struct View {
    method: String,
    start: DVec2,
    frames: u64,
    steps: u64,
    pos: DVec2,
    status: RunStatus,
    trail: Vec<DVec2>,
}

fn balls(app: &mut App) -> Vec<View> {
    let mut q = app.world_mut().query::<(&Ball, &BallRun, &Trail)>();
    let mut v: Vec<View> = q
        .iter(app.world())
        .map(|(b, r, t)| View {
            method: b.method.clone(),
            start: b.start,
            frames: b.frames,
            steps: r.0.steps,
            pos: r.0.pos,
            status: r.0.status,
            trail: t.0.iter().copied().collect(),
        })
        .collect();
    v.sort_by(|a, b| {
        a.method
            .cmp(&b.method)
            .then(a.start.x.total_cmp(&b.start.x))
    });
    v
}

fn run_until_settled(app: &mut App, max_updates: usize) {
    for _ in 0..max_updates {
        app.update();
        if balls(app).iter().all(|b| b.status != RunStatus::Running) {
            return;
        }
    }
}

#[test]
fn opens_with_the_notebooks_five_runs_at_the_notebook_start() {
    let mut app = app();
    let b = balls(&mut app);
    let mut methods: Vec<&str> = b.iter().map(|b| b.method.as_str()).collect();
    methods.sort();
    assert_eq!(
        methods,
        [
            "seed:adadelta",
            "seed:adagrad",
            "seed:adagrad-finetune",
            "seed:momentum",
            "seed:sgd"
        ]
    );
    let start = Surface::seed().default_start();
    assert!(b.iter().all(|b| b.start == start));
}

#[test]
fn ecs_trajectories_equal_trace_bit_for_bit_and_stop_at_n_frames() {
    let mut app = app();
    run_until_settled(&mut app, 400);
    let surface = app.world().resource::<SimSurface>().0.clone();
    for b in balls(&mut app) {
        assert_ne!(b.status, RunStatus::Running, "{}", b.method);
        let opt = Optimizer::by_id(&b.method).unwrap();
        if b.status == RunStatus::Done {
            assert_eq!(b.frames, 300, "{}", b.method);
            assert_eq!(b.steps, 300 * opt.steps_per_frame as u64, "{}", b.method);
        }
        let t = trace(&surface, &opt, b.start, b.steps);
        assert_eq!(b.trail.len(), t.points.len(), "{}", b.method);
        for (p, q) in b.trail.iter().zip(&t.points) {
            assert_eq!((p.x, p.y), (q.x, q.y), "{} at step {}", b.method, q.step);
        }
        assert_eq!(b.pos, b.trail[b.trail.len() - 1]);
    }
}

#[test]
fn a_preset_steps_per_frame_is_honoured() {
    let mut app = app();
    for _ in 0..5 {
        app.update();
    }
    for b in balls(&mut app) {
        let k = Optimizer::by_id(&b.method).unwrap().steps_per_frame as u64;
        assert!(b.frames > 0);
        assert_eq!(b.steps, k * b.frames, "{}", b.method);
    }
}

#[test]
fn pause_step_once_and_continue() {
    let mut app = app();
    send(&mut app, SimCommand::Pause);
    let before: Vec<u64> = balls(&mut app).iter().map(|b| b.frames).collect();
    for _ in 0..10 {
        app.update();
    }
    let paused: Vec<u64> = balls(&mut app).iter().map(|b| b.frames).collect();
    assert_eq!(before, paused, "paused balls do not move");
    send(&mut app, SimCommand::StepOnce);
    let stepped: Vec<u64> = balls(&mut app).iter().map(|b| b.frames).collect();
    for (a, b) in before.iter().zip(&stepped) {
        assert_eq!(a + 1, *b);
    }
    send(&mut app, SimCommand::SetFrames(20));
    send(&mut app, SimCommand::Reset);
    send(&mut app, SimCommand::Play);
    run_until_settled(&mut app, 100);
    let done = balls(&mut app);
    assert!(done.iter().all(|b| b.frames <= 20));
    assert!(
        done.iter()
            .any(|b| b.status == RunStatus::Done && b.frames == 20)
    );
    send(&mut app, SimCommand::Continue);
    for _ in 0..5 {
        app.update();
    }
    let more = balls(&mut app);
    assert!(
        more.iter()
            .any(|b| b.frames > 20 && b.status == RunStatus::Running)
    );
}

#[test]
fn reset_returns_every_ball_to_its_start_with_fresh_state() {
    let mut app = app();
    for _ in 0..20 {
        app.update();
    }
    send(&mut app, SimCommand::Pause);
    send(&mut app, SimCommand::Reset);
    for b in balls(&mut app) {
        assert_eq!(b.pos, b.start);
        assert_eq!((b.frames, b.steps), (0, 0));
        assert_eq!(b.trail, vec![b.start]);
    }
    // After a reset the trajectory is the same again.
    send(&mut app, SimCommand::Play);
    run_until_settled(&mut app, 400);
    let surface = app.world().resource::<SimSurface>().0.clone();
    for b in balls(&mut app) {
        let t = trace(
            &surface,
            &Optimizer::by_id(&b.method).unwrap(),
            b.start,
            b.steps,
        );
        let last = t.points.last().unwrap();
        assert_eq!((b.pos.x, b.pos.y), (last.x, last.y), "{}", b.method);
    }
}

#[test]
fn restart_spawns_k_identical_starts_per_method_reproducibly() {
    let points = |seed: u64| {
        let mut app = app();
        send(&mut app, SimCommand::SetSeed(seed));
        send(&mut app, SimCommand::Restart { k: 7, region: None });
        let b = balls(&mut app);
        assert_eq!(b.len(), 7 * 5);
        let starts = app.world().resource::<StartPoints>().0.clone();
        assert_eq!(starts.len(), 7);
        for m in ["seed:sgd", "seed:adadelta"] {
            let mut s: Vec<DVec2> = b
                .iter()
                .filter(|b| b.method == m)
                .map(|b| b.start)
                .collect();
            let mut want = starts.clone();
            s.sort_by(|a, b| a.x.total_cmp(&b.x));
            want.sort_by(|a, b| a.x.total_cmp(&b.x));
            assert_eq!(s, want, "{m} uses the shared start points");
        }
        let d = app.world().resource::<SimSurface>().0.domain;
        assert!(starts.iter().all(|p| d.contains(*p)));
        starts
    };
    assert_eq!(points(42), points(42));
    assert_ne!(points(42), points(43));
}

#[test]
fn restart_in_a_region_stays_in_it() {
    let mut app = app();
    let region = optiscape_core::landscape::Domain::new(5.0, 6.0, 20.0, 22.0);
    send(
        &mut app,
        SimCommand::Restart {
            k: 50,
            region: Some(region),
        },
    );
    let starts = app.world().resource::<StartPoints>().0.clone();
    assert_eq!(starts.len(), 50);
    assert!(starts.iter().all(|p| region.contains(*p)));
}

#[test]
fn drop_spawns_one_ball_per_enabled_method_at_the_point() {
    let mut app = app();
    let at = DVec2::new(12.5, 20.25);
    send(&mut app, SimCommand::Drop { at });
    let b = balls(&mut app);
    assert_eq!(b.len(), 10);
    assert_eq!(b.iter().filter(|b| b.start == at).count(), 5);
    // Outside the domain: nothing happens.
    send(
        &mut app,
        SimCommand::Drop {
            at: DVec2::new(-50.0, 1.0),
        },
    );
    assert_eq!(balls(&mut app).len(), 10);
    send(&mut app, SimCommand::Clear);
    assert!(balls(&mut app).is_empty());
}

#[test]
fn diverged_balls_stop_without_panic() {
    let mut app = app();
    {
        let mut roster = app.world_mut().resource_mut::<Roster>();
        for m in roster.0.iter_mut() {
            m.enabled = false;
        }
        let sgd = roster.get_mut("sgd").unwrap();
        sgd.enabled = true;
        sgd.template.set("lr", "1000000").unwrap();
    }
    send(
        &mut app,
        SimCommand::SetSurface(Surface::by_id("rastrigin").unwrap()),
    );
    for _ in 0..20 {
        app.update();
    }
    let b = balls(&mut app);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].status, RunStatus::Diverged);
    let frames = b[0].frames;
    for _ in 0..5 {
        app.update();
    }
    assert_eq!(balls(&mut app)[0].frames, frames, "a diverged ball stops");
}

#[test]
fn hyperparameters_apply_to_new_balls_and_on_request_to_existing_ones() {
    let mut app = app();
    for _ in 0..3 {
        app.update();
    }
    app.world_mut()
        .resource_mut::<Roster>()
        .get_mut("seed:sgd")
        .unwrap()
        .template
        .set("lr", "0.05")
        .unwrap();
    let lr_of = |app: &mut App, m: &str| -> Vec<String> {
        let mut q = app.world_mut().query::<(&Ball, &mut BallOptimizer)>();
        q.iter_mut(app.world_mut())
            .filter(|(b, _)| b.method == m)
            .map(|(_, mut o)| o.0.get("lr").unwrap())
            .collect()
    };
    assert_eq!(lr_of(&mut app, "seed:sgd"), vec!["0.2"]);
    send(
        &mut app,
        SimCommand::Drop {
            at: DVec2::new(10.0, 10.0),
        },
    );
    let mut lrs = lr_of(&mut app, "seed:sgd");
    lrs.sort();
    assert_eq!(lrs, vec!["0.05", "0.2"]);
    send(
        &mut app,
        SimCommand::ApplyHyperparameters {
            method: "seed:sgd".into(),
        },
    );
    assert_eq!(lr_of(&mut app, "seed:sgd"), vec!["0.05", "0.05"]);
    // Other methods are untouched.
    assert_eq!(lr_of(&mut app, "seed:momentum"), vec!["0.2", "0.2"]);
}

#[test]
fn methods_can_be_removed_and_added_while_running() {
    let mut app = app();
    send(&mut app, SimCommand::Restart { k: 3, region: None });
    for _ in 0..5 {
        app.update();
    }
    send(
        &mut app,
        SimCommand::SetMethodEnabled {
            method: "seed:sgd".into(),
            enabled: false,
        },
    );
    let b = balls(&mut app);
    assert_eq!(b.len(), 12);
    assert!(b.iter().all(|b| b.method != "seed:sgd"));
    send(
        &mut app,
        SimCommand::SetMethodEnabled {
            method: "adam".into(),
            enabled: true,
        },
    );
    let b = balls(&mut app);
    assert_eq!(b.len(), 15);
    let starts = app.world().resource::<StartPoints>().0.clone();
    let adam: Vec<DVec2> = b
        .iter()
        .filter(|b| b.method == "adam")
        .map(|b| b.start)
        .collect();
    assert_eq!(adam.len(), 3);
    assert!(adam.iter().all(|p| starts.contains(p)));
    for _ in 0..5 {
        app.update();
    }
    assert!(
        balls(&mut app)
            .iter()
            .filter(|b| b.method == "adam")
            .all(|b| b.frames > 0)
    );
}

#[test]
fn speed_sets_the_fixed_timestep() {
    let mut app = app();
    send(&mut app, SimCommand::SetSpeed(300.0));
    // 1/30 s of simulated time per update at 300 ticks/s: about 10 ticks per update.
    send(&mut app, SimCommand::Reset);
    let f0 = balls(&mut app)[0].frames;
    for _ in 0..3 {
        app.update();
    }
    let f1 = balls(&mut app)[0].frames;
    assert!((28..=32).contains(&(f1 - f0)), "{f0} -> {f1}");
    send(&mut app, SimCommand::SetSpeed(1e9));
    assert_eq!(app.world().resource::<SimSettings>().speed, 1000.0);
    send(&mut app, SimCommand::SetSpeed(f64::NAN));
    assert_eq!(app.world().resource::<SimSettings>().speed, 1000.0);
}

#[test]
fn several_commands_in_one_frame_apply_in_order() {
    let mut app = app();
    // Balls spawned by the first command are replaced by the second, in the same frame.
    app.world_mut()
        .write_message(SimCommand::ResetToDefaultStart);
    app.world_mut()
        .write_message(SimCommand::Restart { k: 4, region: None });
    app.update();
    assert_eq!(balls(&mut app).len(), 4 * 5);
    app.world_mut().write_message(SimCommand::Drop {
        at: DVec2::new(9.0, 9.0),
    });
    app.world_mut().write_message(SimCommand::SetMethodEnabled {
        method: "seed:sgd".into(),
        enabled: false,
    });
    app.update();
    let b = balls(&mut app);
    assert_eq!(b.len(), 5 * 4);
    assert!(b.iter().all(|b| b.method != "seed:sgd"));
    app.world_mut().write_message(SimCommand::Drop {
        at: DVec2::new(9.0, 9.0),
    });
    app.world_mut().write_message(SimCommand::Clear);
    app.update();
    assert!(balls(&mut app).is_empty());
}

// ---------------------------------------------------------------- scenarios

fn current_scenario(app: &mut App) -> optiscape_core::scenario::Scenario {
    let w = app.world();
    optiscape::sim::scenario_of(
        w.resource::<SimSurface>(),
        w.resource::<SimSettings>(),
        w.resource::<optiscape::sim::SimRng>(),
        w.resource::<StartPoints>(),
        w.resource::<Roster>(),
        w.resource::<optiscape::sim::NetRuns>(),
    )
}

fn load(app: &mut App, name: &str) -> optiscape_core::scenario::Scenario {
    let sc = optiscape_core::scenario::Scenario::load_or_builtin(name).unwrap();
    send(app, SimCommand::LoadScenario(Box::new(sc.clone())));
    sc
}

#[test]
fn the_notebook_scenario_is_the_opening_scene() {
    let mut opening = app();
    let before: Vec<(String, DVec2)> = balls(&mut opening)
        .into_iter()
        .map(|b| (b.method, b.start))
        .collect();
    let mut loaded = app();
    load(&mut loaded, "notebook");
    let after: Vec<(String, DVec2)> = balls(&mut loaded)
        .into_iter()
        .map(|b| (b.method, b.start))
        .collect();
    assert_eq!(before, after);
    assert_eq!(
        current_scenario(&mut opening),
        current_scenario(&mut loaded)
    );
    assert_eq!(
        current_scenario(&mut opening).starts,
        optiscape_core::scenario::StartSpec::Default
    );
}

#[test]
fn a_scenario_sets_surface_methods_starts_and_settings() {
    let mut app = app();
    let sc = load(&mut app, "egg-crate");
    let w = app.world();
    assert_eq!(w.resource::<SimSurface>().0.id(), "rastrigin");
    assert_eq!(w.resource::<SimSettings>().frames, 500);
    assert_eq!(w.resource::<SimSettings>().speed, 60.0);
    assert_eq!(w.resource::<optiscape::sim::SimRng>().seed, 7);
    let enabled: Vec<&str> = w.resource::<Roster>().enabled().map(|m| m.id).collect();
    assert_eq!(enabled, ["sgd", "heavy-ball", "adam", "langevin"]);
    let mut lr = w.resource::<Roster>().get("sgd").unwrap().template.clone();
    assert_eq!(lr.get("lr").unwrap(), "0.002");
    let b = balls(&mut app);
    assert_eq!(b.len(), 80, "20 random starts x 4 methods");
    let starts = |m: &str| -> Vec<DVec2> {
        let mut v: Vec<DVec2> = b
            .iter()
            .filter(|x| x.method == m)
            .map(|x| x.start)
            .collect();
        v.sort_by(|a, b| a.x.total_cmp(&b.x));
        v
    };
    assert_eq!(
        starts("sgd"),
        starts("adam"),
        "the same points for every method"
    );
    // Loading again gives the same points (the seed is the scenario's).
    send(&mut app, SimCommand::LoadScenario(Box::new(sc)));
    let again = balls(&mut app);
    let s2: Vec<DVec2> = again.iter().map(|x| x.start).collect();
    let s1: Vec<DVec2> = b.iter().map(|x| x.start).collect();
    assert_eq!(s1, s2);
}

#[test]
fn saved_and_loaded_gives_the_identical_setup() {
    let mut app = app();
    load(&mut app, "formula-ripples");
    // Change things the way the panels do: a hyperparameter, a color, a method, a drop.
    {
        let mut roster = app.world_mut().resource_mut::<Roster>();
        let adam = roster.get_mut("adam").unwrap();
        adam.template.set("betas", "0.85,0.995").unwrap();
        adam.color = Color::srgb(1.0, 0.0, 0.0);
        roster
            .get_mut("rmsprop")
            .unwrap()
            .template
            .set("lr", "0.003")
            .unwrap();
    }
    send(
        &mut app,
        SimCommand::SetMethodEnabled {
            method: "nesterov".into(),
            enabled: true,
        },
    );
    send(
        &mut app,
        SimCommand::Drop {
            at: DVec2::new(1.25, -2.5),
        },
    );
    send(&mut app, SimCommand::SetFrames(777));
    let saved = current_scenario(&mut app);
    let text = saved.to_ron().unwrap();
    let parsed = optiscape_core::scenario::Scenario::parse(&text, "saved.ron").unwrap();
    assert_eq!(parsed, saved);
    assert!(text.contains("formula"), "{text}");

    let mut other = app_with_defaults();
    send(&mut other, SimCommand::LoadScenario(Box::new(parsed)));
    assert_eq!(current_scenario(&mut other), saved);
    let key = |v: Vec<View>| -> Vec<(String, DVec2)> {
        v.into_iter().map(|b| (b.method, b.start)).collect()
    };
    let mut a = key(balls(&mut app));
    let mut b = key(balls(&mut other));
    a.sort_by(|x, y| {
        x.0.cmp(&y.0)
            .then(x.1.x.total_cmp(&y.1.x))
            .then(x.1.y.total_cmp(&y.1.y))
    });
    b.sort_by(|x, y| {
        x.0.cmp(&y.0)
            .then(x.1.x.total_cmp(&y.1.x))
            .then(x.1.y.total_cmp(&y.1.y))
    });
    assert_eq!(a, b, "the same balls at the same starts");
    let w = other.world();
    assert_eq!(
        w.resource::<SimSurface>().0,
        app.world().resource::<SimSurface>().0
    );
    let roster = w.resource::<Roster>();
    assert_eq!(
        roster.get("adam").unwrap().color,
        Color::srgb(1.0, 0.0, 0.0)
    );
    let mut rms = roster.get("rmsprop").unwrap().template.clone();
    assert_eq!(rms.get("lr").unwrap(), "0.003");
    assert!(!roster.get("rmsprop").unwrap().enabled);
}

fn app_with_defaults() -> App {
    app()
}

#[test]
fn an_invalid_scenario_changes_nothing() {
    let mut app = app();
    let before = current_scenario(&mut app);
    let mut bad = optiscape_core::scenario::Scenario::load_or_builtin("saddle").unwrap();
    bad.methods[0].id = "no-such-method".into();
    send(&mut app, SimCommand::LoadScenario(Box::new(bad)));
    assert_eq!(current_scenario(&mut app), before);
    assert_eq!(balls(&mut app).len(), 5);
}

/// The scenario menu's "(edited)": the setup compared with the one just loaded.
#[test]
fn a_loaded_setup_is_edited_only_by_changing_it() {
    let edited = |app: &App| app.world().resource::<LoadedSetup>().edited;
    let mut app = app();
    load(&mut app, "egg-crate");
    assert!(!edited(&app), "just loaded");
    // Running, pausing and stepping are not edits.
    for _ in 0..5 {
        app.update();
    }
    send(&mut app, SimCommand::Pause);
    send(&mut app, SimCommand::StepOnce);
    assert!(!edited(&app), "running is not an edit");
    // A new speed is; setting it back undoes it.
    let speed = app.world().resource::<SimSettings>().speed;
    send(&mut app, SimCommand::SetSpeed(speed + 7.0));
    assert!(edited(&app), "another speed");
    send(&mut app, SimCommand::SetSpeed(speed));
    assert!(!edited(&app), "the same speed again");
    // A hyperparameter changed in the roster (as the Methods panel does).
    app.world_mut()
        .resource_mut::<Roster>()
        .get_mut("sgd")
        .unwrap()
        .template
        .set("lr", "0.0123")
        .unwrap();
    app.update();
    assert!(edited(&app), "a hyperparameter");
    // Loading again starts over; so do a dropped ball and then a load of another scenario.
    load(&mut app, "egg-crate");
    assert!(!edited(&app), "loaded again");
    send(
        &mut app,
        SimCommand::Drop {
            at: DVec2::new(0.5, 0.5),
        },
    );
    assert!(edited(&app), "a dropped ball is a new start point");
    load(&mut app, "notebook");
    assert!(!edited(&app));
}

#[test]
fn a_start_region_outside_the_domain_changes_nothing() {
    let mut app = app();
    let before: Vec<DVec2> = balls(&mut app).iter().map(|b| b.start).collect();
    // The seed surface's domain is [0, 10 pi]^2 (about); this region reaches far outside it.
    for region in [
        optiscape_core::landscape::Domain::new(-100.0, 1.0, 0.0, 1.0),
        optiscape_core::landscape::Domain::new(3.0, 2.0, 0.0, 1.0),
    ] {
        send(
            &mut app,
            SimCommand::Restart {
                k: 10,
                region: Some(region),
            },
        );
        let after: Vec<DVec2> = balls(&mut app).iter().map(|b| b.start).collect();
        assert_eq!(after, before, "{region:?}");
    }
}

#[test]
fn a_surface_with_no_finite_value_is_refused() {
    let mut app = app();
    let before = app.world().resource::<SimSurface>().0.clone();
    let nowhere = Surface::formula("sqrt(-1 - x^2 - y^2)", None).unwrap();
    send(&mut app, SimCommand::SetSurface(nowhere));
    assert_eq!(app.world().resource::<SimSurface>().0, before);
    assert_eq!(balls(&mut app).len(), 5);
}

/// Network balls of `methods` (the rest disabled) on a small `net:` slice.
fn networks(methods: &[&str], runs: usize, per_frame: u64) -> App {
    let mut app = app();
    let s = Surface::net("moons,points=60,test-points=40,layers=2-6-1,steps=200").unwrap();
    send(&mut app, SimCommand::SetSurface(s));
    {
        let mut roster = app.world_mut().resource_mut::<Roster>();
        for e in &mut roster.0 {
            e.enabled = methods.contains(&e.id);
        }
    }
    send(
        &mut app,
        SimCommand::TrainNetworks {
            runs,
            updates_per_frame: per_frame,
        },
    );
    app
}

/// Each network ball's method, run, updates, parameters and projected position.
fn nets(app: &mut App) -> Vec<(String, usize, u64, Vec<f64>, DVec2, RunStatus)> {
    let mut q = app
        .world_mut()
        .query::<(&Ball, &BallRun, &optiscape::sim::NetBall)>();
    let mut v: Vec<_> = q
        .iter(app.world())
        .map(|(b, r, n)| {
            let fit = n.fit.as_ref().unwrap();
            (
                b.method.clone(),
                n.run,
                fit.state().updates,
                fit.params(),
                r.0.pos,
                r.0.status,
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    v
}

#[test]
fn network_balls_are_the_runs_of_optiscape_train_update_for_update() {
    let mut app = networks(&["adam", "heavy-ball", "cma-es"], 3, 4);
    for _ in 0..10 {
        app.update();
    }
    let seed = app.world().resource::<optiscape::sim::SimRng>().seed;
    let got = nets(&mut app);
    // CMA-ES asks for evaluations: it trains no network.
    let methods: Vec<&str> = got.iter().map(|n| n.0.as_str()).collect();
    assert_eq!(
        methods,
        [
            "adam",
            "adam",
            "adam",
            "heavy-ball",
            "heavy-ball",
            "heavy-ball"
        ]
    );
    let surface = app.world().resource::<SimSurface>().0.clone();
    let slice = surface.as_net().unwrap().slice();
    for method in ["adam", "heavy-ball"] {
        let mine: Vec<_> = got.iter().filter(|n| n.0 == method).collect();
        let updates = mine[0].2;
        assert!(updates >= 4 * 9, "{updates}");
        let spec = optiscape_core::lab::train::TrainSpec {
            data: Some("moons".into()),
            points: Some("60".into()),
            test_points: Some("40".into()),
            layers: Some("2-6-1".into()),
            methods: Some(method.into()),
            starts: Some("3".into()),
            steps: Some(updates.to_string()),
            seed: Some(seed.to_string()),
            ..Default::default()
        };
        let (mut setup, opts) = spec.setup().unwrap();
        setup.keep_weights = true;
        let never = std::sync::atomic::AtomicBool::new(false);
        let done = std::sync::atomic::AtomicUsize::new(0);
        let runs = optiscape_core::lab::train::train_method(&setup, &opts[0], &done, &never);
        for (n, run) in mine.iter().zip(&runs) {
            assert_eq!(n.2, updates);
            assert_eq!(n.3, run.weights, "{method} run {}", n.1);
            // Shown where its parameters project on the slice's plane.
            let p = slice.project(&n.3);
            assert_eq!(n.4, DVec2::new(p.a, p.b));
            assert_eq!(n.5, RunStatus::Running);
        }
    }
}

#[test]
fn network_balls_step_once_reset_and_leave_with_the_slice() {
    let mut app = networks(&["sgd"], 2, 5);
    send(&mut app, SimCommand::Pause);
    let before = nets(&mut app);
    send(&mut app, SimCommand::StepOnce);
    let after = nets(&mut app);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(a.2, b.2 + 5);
        assert_ne!(a.3, b.3);
    }
    send(&mut app, SimCommand::Reset);
    let reset = nets(&mut app);
    let seed = app.world().resource::<optiscape::sim::SimRng>().seed;
    let surface = app.world().resource::<SimSurface>().0.clone();
    let spec = &surface.as_net().unwrap().slice().spec;
    for r in &reset {
        // Back to its first weights: run i of the seed.
        let first = optiscape_core::lab::train::first_weights(&spec.net, spec.init, seed, r.1);
        assert_eq!((r.2, &r.3), (0, &first));
    }
    // A method enabled while networks train gets its networks.
    send(
        &mut app,
        SimCommand::SetMethodEnabled {
            method: "adam".into(),
            enabled: true,
        },
    );
    assert_eq!(nets(&mut app).len(), 4);
    // Another surface: the networks go, and networks are not trained off a slice.
    send(
        &mut app,
        SimCommand::SetSurface(Surface::by_id("seed").unwrap()),
    );
    assert!(nets(&mut app).is_empty());
    let n = balls(&mut app).len();
    send(
        &mut app,
        SimCommand::TrainNetworks {
            runs: 3,
            updates_per_frame: 1,
        },
    );
    assert!(nets(&mut app).is_empty());
    assert_eq!(balls(&mut app).len(), n);
}

#[test]
fn a_diverging_network_ball_is_marked_and_stops() {
    let mut app = app();
    send(
        &mut app,
        SimCommand::SetSurface(
            Surface::net("xor,points=40,test-points=0,layers=2-4-1,steps=100").unwrap(),
        ),
    );
    {
        let mut roster = app.world_mut().resource_mut::<Roster>();
        for e in &mut roster.0 {
            e.enabled = e.id == "sgd";
        }
        roster
            .get_mut("sgd")
            .unwrap()
            .template
            .set("lr", "1e6")
            .unwrap();
    }
    send(
        &mut app,
        SimCommand::TrainNetworks {
            runs: 2,
            updates_per_frame: 50,
        },
    );
    for _ in 0..5 {
        app.update();
    }
    let n = nets(&mut app);
    assert_eq!(n.len(), 2);
    for ball in &n {
        assert_eq!(ball.5, RunStatus::Diverged, "{:?}", ball.2);
    }
    let frozen = nets(&mut app);
    app.update();
    assert_eq!(
        nets(&mut app).iter().map(|n| n.2).collect::<Vec<_>>(),
        frozen.iter().map(|n| n.2).collect::<Vec<_>>()
    );
}

#[test]
fn new_hyperparameters_reach_training_networks_at_their_next_update() {
    let mut kept = networks(&["sgd"], 1, 3);
    let mut changed = networks(&["sgd"], 1, 3);
    for app in [&mut kept, &mut changed] {
        send(app, SimCommand::Pause);
        send(app, SimCommand::StepOnce);
    }
    assert_eq!(nets(&mut kept)[0].3, nets(&mut changed)[0].3);
    changed
        .world_mut()
        .resource_mut::<Roster>()
        .get_mut("sgd")
        .unwrap()
        .template
        .set("lr", "0.5")
        .unwrap();
    send(
        &mut changed,
        SimCommand::ApplyHyperparameters {
            method: "sgd".into(),
        },
    );
    for app in [&mut kept, &mut changed] {
        send(app, SimCommand::StepOnce);
    }
    let (a, b) = (nets(&mut kept), nets(&mut changed));
    assert_eq!(a[0].2, b[0].2);
    assert_ne!(a[0].3, b[0].3);
}

/// A scenario (and so a link) keeps networks in training: saved with their runs and pace,
/// loaded back as the same network balls (same methods, runs and first weights), and a file
/// that asks for networks off a slice is refused.
#[test]
fn a_scenario_keeps_its_networks_in_training() {
    let mut trained = networks(&["adam", "sgd"], 3, 7);
    for _ in 0..3 {
        trained.update();
    }
    let sc = current_scenario(&mut trained);
    assert_eq!(
        sc.networks,
        Some(optiscape_core::scenario::NetworksSpec {
            runs: 3,
            updates_per_frame: 7
        })
    );
    sc.validate().unwrap();
    let text = sc.to_ron().unwrap();
    let back = optiscape_core::scenario::Scenario::parse(&text, "saved").unwrap();
    assert_eq!(back, sc);
    let link = optiscape_core::link::encode(&sc).unwrap();
    assert_eq!(optiscape_core::link::decode(&link).unwrap(), sc);
    // Loaded in a fresh sandbox: the same balls, with the same weights, as training them
    // there by hand.
    let mut fresh = app();
    send(&mut fresh, SimCommand::LoadScenario(Box::new(back)));
    let mut by_hand = networks(&["adam", "sgd"], 3, 7);
    let key = |v: Vec<(String, usize, u64, Vec<f64>, DVec2, RunStatus)>| {
        let mut v: Vec<(String, usize, u64, Vec<f64>)> =
            v.into_iter().map(|n| (n.0, n.1, n.2, n.3)).collect();
        v.sort_by(|x, y| (&x.0, x.1).cmp(&(&y.0, y.1)));
        v
    };
    let loaded = key(nets(&mut fresh));
    assert_eq!(loaded.len(), 6);
    assert_eq!(loaded, key(nets(&mut by_hand)));
    assert_eq!(
        fresh
            .world()
            .resource::<optiscape::sim::NetRuns>()
            .updates_per_frame,
        7
    );
    assert!(
        !fresh
            .world()
            .resource::<optiscape::sim::LoadedSetup>()
            .edited
    );
    // Off a slice: refused with its reason.
    let mut off = sc.clone();
    off.surface.name = Some("seed".into());
    let e = off.validate().unwrap_err();
    assert!(e.contains("network slice"), "{e}");
}
