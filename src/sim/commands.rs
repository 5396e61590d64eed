//! `SimCommand`: everything the UI and input can ask of the simulation, and the system that
//! carries it out.

use super::{
    Ball, BallOptimizer, BallRun, Roster, SimRng, SimSettings, SimSurface, StartPoints, Target,
    Trail, advance_ball,
};
use crate::lab::{RunState, RunStatus};
use crate::landscape::{Domain, Surface};
use crate::scenario::{Scenario, StartSpec};
use bevy::prelude::*;
use glam::DVec2;

#[derive(Message, Clone, Debug, PartialEq)]
pub enum SimCommand {
    Play,
    Pause,
    TogglePlay,
    /// Advance every running ball by one frame (while paused).
    StepOnce,
    /// Every ball back to its own start point, state cleared.
    Reset,
    /// Done balls get another `frames` frames and the simulation plays.
    Continue,
    /// Remove every ball.
    Clear,
    /// Replace all balls: `k` random start points (uniform over `region`, or the whole
    /// domain), one ball per enabled method at each.
    Restart {
        k: usize,
        region: Option<Domain>,
    },
    /// Replace all balls with one per enabled method at the surface's default start.
    ResetToDefaultStart,
    /// A ball of every enabled method at this point (surface coordinates).
    Drop {
        at: DVec2,
    },
    /// Copy the roster's hyperparameters (and color) of `method` into its existing balls.
    ApplyHyperparameters {
        method: String,
    },
    /// Enable or disable a method: disabling removes its balls, enabling adds balls of it at
    /// the current start points.
    SetMethodEnabled {
        method: String,
        enabled: bool,
    },
    /// A new surface (kind, parameters or domain): balls restart at its default start.
    SetSurface(Surface),
    /// Reseed the random source.
    SetSeed(u64),
    SetSpeed(f64),
    /// The frame budget for new and reset balls.
    SetFrames(u64),
    /// A whole setup: surface, methods (enabled, colors, hyperparameters), step count, speed,
    /// seed and start points. Display and camera are the view's part of the same message. An
    /// invalid scenario changes nothing.
    LoadScenario(Box<Scenario>),
}

/// Startup: the notebook's scene, one ball per enabled method at the default start.
pub(super) fn spawn_opening_scene(mut writer: MessageWriter<SimCommand>) {
    writer.write(SimCommand::ResetToDefaultStart);
}

type BallQuery<'w, 's> = Query<
    'w,
    's,
    (
        Entity,
        &'static mut Ball,
        &'static mut BallRun,
        &'static mut BallOptimizer,
        &'static mut Trail,
    ),
>;

#[allow(clippy::too_many_arguments)]
pub(super) fn apply_commands(
    mut messages: MessageReader<SimCommand>,
    mut commands: Commands,
    mut surface: ResMut<SimSurface>,
    mut settings: ResMut<SimSettings>,
    mut rng: ResMut<SimRng>,
    mut starts: ResMut<StartPoints>,
    mut roster: ResMut<Roster>,
    mut loaded: ResMut<super::LoadedSetup>,
    mut balls: BallQuery,
    mut serial: Local<u64>,
) {
    // Balls spawned by earlier messages of this same run are not in `balls` yet.
    let mut fresh: Vec<(Entity, String)> = Vec::new();
    for msg in messages.read() {
        match msg {
            SimCommand::Play => settings.playing = true,
            SimCommand::Pause => settings.playing = false,
            SimCommand::TogglePlay => settings.playing = !settings.playing,
            SimCommand::StepOnce => {
                settings.playing = false;
                let trail_len = settings.trail_len_for(balls.iter().len());
                let goal = Target::of(&surface.0);
                for (_, mut ball, mut run, mut opt, mut trail) in &mut balls {
                    advance_ball(
                        &surface.0, goal, &mut ball, &mut run, &mut opt, &mut trail, trail_len,
                    );
                }
            }
            SimCommand::Reset => {
                for (_, mut ball, mut run, mut opt, mut trail) in &mut balls {
                    ball.frames = 0;
                    ball.limit = settings.frames;
                    ball.reached = None;
                    run.0 = RunState::start(&surface.0, ball.start);
                    opt.0.reset();
                    trail.0.clear();
                    trail.0.push_back(ball.start);
                }
            }
            SimCommand::Continue => {
                for (_, mut ball, mut run, _, _) in &mut balls {
                    if run.0.status == RunStatus::Done || ball.frames >= ball.limit {
                        ball.limit = ball.frames + settings.frames;
                        if run.0.status == RunStatus::Done {
                            run.0.status = RunStatus::Running;
                        }
                    }
                }
                settings.playing = true;
            }
            SimCommand::Clear => {
                for (e, ..) in &balls {
                    commands.entity(e).despawn();
                }
                for (e, _) in fresh.drain(..) {
                    commands.entity(e).despawn();
                }
                starts.0.clear();
            }
            SimCommand::Restart { k, region } => {
                let d = surface.0.domain;
                let region = region
                    .filter(|r| r.validate().is_ok())
                    .map(|r| {
                        Domain::new(
                            r.x0.max(d.x0),
                            r.x1.min(d.x1),
                            r.y0.max(d.y0),
                            r.y1.min(d.y1),
                        )
                    })
                    .filter(|r| r.validate().is_ok())
                    .unwrap_or(d);
                let points = rng.points(region, (*k).clamp(1, 100_000));
                replace_balls(&mut commands, &balls, &mut fresh, &mut starts, points);
                spawn_at_starts(
                    &mut commands,
                    &surface.0,
                    &settings,
                    &mut rng,
                    &roster,
                    &starts.0,
                    None,
                    &mut serial,
                    &mut fresh,
                );
            }
            SimCommand::ResetToDefaultStart => {
                let p = surface.0.default_start();
                replace_balls(&mut commands, &balls, &mut fresh, &mut starts, vec![p]);
                spawn_at_starts(
                    &mut commands,
                    &surface.0,
                    &settings,
                    &mut rng,
                    &roster,
                    &starts.0,
                    None,
                    &mut serial,
                    &mut fresh,
                );
            }
            SimCommand::Drop { at } => {
                if surface.0.domain.contains(*at) {
                    starts.0.push(*at);
                    spawn_at_starts(
                        &mut commands,
                        &surface.0,
                        &settings,
                        &mut rng,
                        &roster,
                        &[*at],
                        None,
                        &mut serial,
                        &mut fresh,
                    );
                }
            }
            SimCommand::ApplyHyperparameters { method } => {
                if let Some(entry) = roster.get(method) {
                    for (_, mut ball, _, mut opt, _) in &mut balls {
                        if ball.method == *method {
                            opt.0.copy_hyperparameters(&entry.template);
                            if ball.color != entry.color {
                                ball.color = entry.color;
                            }
                        }
                    }
                }
            }
            SimCommand::SetMethodEnabled { method, enabled } => {
                let Some(entry) = roster.get_mut(method) else {
                    continue;
                };
                if entry.enabled == *enabled {
                    continue;
                }
                entry.enabled = *enabled;
                if *enabled {
                    let only = method.clone();
                    spawn_at_starts(
                        &mut commands,
                        &surface.0,
                        &settings,
                        &mut rng,
                        &roster,
                        &starts.0,
                        Some(&only),
                        &mut serial,
                        &mut fresh,
                    );
                } else {
                    for (e, ball, ..) in &balls {
                        if ball.method == *method {
                            commands.entity(e).despawn();
                        }
                    }
                    fresh.retain(|(e, m)| {
                        if m == method {
                            commands.entity(*e).despawn();
                        }
                        m != method
                    });
                }
            }
            SimCommand::SetSurface(s) => {
                if s.domain.validate().is_err() {
                    continue;
                }
                surface.0 = s.clone();
                let p = surface.0.default_start();
                replace_balls(&mut commands, &balls, &mut fresh, &mut starts, vec![p]);
                spawn_at_starts(
                    &mut commands,
                    &surface.0,
                    &settings,
                    &mut rng,
                    &roster,
                    &starts.0,
                    None,
                    &mut serial,
                    &mut fresh,
                );
            }
            SimCommand::SetSeed(seed) => *rng = SimRng::new(*seed),
            SimCommand::SetSpeed(v) => {
                if v.is_finite() {
                    settings.speed = v.clamp(1.0, 1000.0);
                }
            }
            SimCommand::SetFrames(n) => settings.frames = (*n).max(1),
            SimCommand::LoadScenario(sc) => {
                let (Ok(s), Ok(methods)) = (sc.surface(), sc.methods()) else {
                    continue;
                };
                surface.0 = s;
                let mut next = Roster::default();
                for entry in &mut next.0 {
                    entry.enabled = false;
                }
                for m in methods {
                    if let Some(entry) = next.get_mut(&m.optimizer.id) {
                        entry.enabled = m.enabled;
                        if let Some([r, g, b]) = m.color {
                            entry.color = Color::srgb(r, g, b);
                        }
                        entry.template = m.optimizer;
                    }
                }
                *roster = next;
                settings.frames = sc.steps.max(1);
                settings.speed = sc.speed.clamp(1.0, 1000.0);
                settings.playing = true;
                *rng = SimRng::new(sc.seed);
                let d = surface.0.domain;
                let points = match &sc.starts {
                    StartSpec::Default => vec![surface.0.default_start()],
                    StartSpec::Points(p) => p.iter().map(|&(x, y)| DVec2::new(x, y)).collect(),
                    StartSpec::Random { k, region } => {
                        let r = region.filter(|r| r.validate().is_ok()).unwrap_or(d);
                        rng.points(r, (*k).clamp(1, 100_000))
                    }
                };
                replace_balls(&mut commands, &balls, &mut fresh, &mut starts, points);
                spawn_at_starts(
                    &mut commands,
                    &surface.0,
                    &settings,
                    &mut rng,
                    &roster,
                    &starts.0,
                    None,
                    &mut serial,
                    &mut fresh,
                );
                loaded.baseline = Some(super::scenario_of(
                    &surface, &settings, &rng, &starts, &roster,
                ));
                loaded.edited = false;
            }
        }
    }
}

fn replace_balls(
    commands: &mut Commands,
    balls: &BallQuery,
    fresh: &mut Vec<(Entity, String)>,
    starts: &mut StartPoints,
    points: Vec<DVec2>,
) {
    for (e, ..) in balls {
        commands.entity(e).despawn();
    }
    for (e, _) in fresh.drain(..) {
        commands.entity(e).despawn();
    }
    starts.0 = points;
}

/// Spawns one ball per enabled method (or only `only`) at each point.
#[allow(clippy::too_many_arguments)]
fn spawn_at_starts(
    commands: &mut Commands,
    surface: &Surface,
    settings: &SimSettings,
    rng: &mut SimRng,
    roster: &Roster,
    points: &[DVec2],
    only: Option<&str>,
    serial: &mut u64,
    fresh: &mut Vec<(Entity, String)>,
) {
    for entry in roster.enabled() {
        if only.is_some_and(|id| id != entry.id) {
            continue;
        }
        for &p in points {
            let noise_seed = rng.rng.next_u64();
            let mut opt = entry.template.clone().with_seed(noise_seed);
            opt.reset();
            *serial += 1;
            let mut trail = Trail::default();
            trail.0.push_back(p);
            let e = commands.spawn((
                Name::new(format!("{} ball {}", entry.id, *serial)),
                Ball {
                    method: entry.id.to_string(),
                    color: entry.color,
                    start: p,
                    frames: 0,
                    limit: settings.frames,
                    serial: *serial,
                    reached: None,
                },
                BallRun(RunState::start(surface, p)),
                BallOptimizer(opt),
                trail,
                Transform::default(),
            ));
            fresh.push((e.id(), entry.id.to_string()));
        }
    }
}
