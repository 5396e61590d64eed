//! `SimCommand`: everything the UI and input can ask of the simulation, and the system that
//! carries it out.

use super::network::{MAX_NET_RUNS, NetBall, advance_network, success_loss};
use super::{
    Ball, BallOptimizer, BallRun, NetRuns, Roster, SimRng, SimSettings, SimSurface, StartPoints,
    Target, Trail, advance_ball,
};
use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use glam::DVec2;
use optiscape_core::lab::{RunState, RunStatus};
use optiscape_core::landscape::{Domain, Surface};
use optiscape_core::scenario::{Scenario, StartSpec};

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
    /// On a network slice (`net:`), replace all balls with networks in training: `runs`
    /// initializations per enabled update rule (run `i` of the seed, the same first weights
    /// for every method, as `optiscape train --seed` numbers them), each making
    /// `updates_per_frame` full-batch updates per frame. Methods that cannot train a network
    /// (those that ask for evaluations, or with clip or noise) get no ball.
    TrainNetworks {
        runs: usize,
        updates_per_frame: u64,
    },
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
        Option<&'static mut NetBall>,
    ),
>;

/// Everything the commands change.
#[derive(SystemParam)]
pub(super) struct SimState<'w, 's> {
    commands: Commands<'w, 's>,
    surface: ResMut<'w, SimSurface>,
    settings: ResMut<'w, SimSettings>,
    rng: ResMut<'w, SimRng>,
    starts: ResMut<'w, StartPoints>,
    roster: ResMut<'w, Roster>,
    loaded: ResMut<'w, super::LoadedSetup>,
    net_runs: ResMut<'w, NetRuns>,
    balls: BallQuery<'w, 's>,
    /// Numbers the balls' names.
    serial: Local<'s, u64>,
    /// Balls spawned by earlier messages of this same run (not in `balls` yet), with their
    /// method.
    fresh: Local<'s, Vec<(Entity, String)>>,
}

impl SimState<'_, '_> {
    /// Removes every ball.
    fn despawn_all(&mut self) {
        for (e, ..) in &self.balls {
            self.commands.entity(e).despawn();
        }
        for (e, _) in self.fresh.drain(..) {
            self.commands.entity(e).despawn();
        }
    }

    /// Replaces all balls by one per enabled method at each of `points`.
    fn replace_all(&mut self, points: Vec<DVec2>) {
        self.despawn_all();
        if self.net_runs.active {
            self.net_runs.active = false;
        }
        self.spawn(&points, None);
        self.starts.0 = points;
    }

    /// Spawns one ball per enabled method (or only `only`) at each point.
    fn spawn(&mut self, points: &[DVec2], only: Option<&str>) {
        for entry in self.roster.enabled() {
            if only.is_some_and(|id| id != entry.id) {
                continue;
            }
            for &p in points {
                let noise_seed = self.rng.rng.next_u64();
                let mut opt = entry.template.clone().with_seed(noise_seed);
                opt.reset();
                *self.serial += 1;
                let serial = *self.serial;
                let trail = Trail::starting_at(p);
                let e = self.commands.spawn((
                    Name::new(format!("{} ball {serial}", entry.id)),
                    Ball {
                        method: entry.id.to_string(),
                        color: entry.color,
                        start: p,
                        frames: 0,
                        limit: self.settings.frames,
                        serial,
                        reached: None,
                    },
                    BallRun(RunState::start(&self.surface.0, p)),
                    BallOptimizer(opt),
                    trail,
                    Transform::default(),
                ));
                self.fresh.push((e.id(), entry.id.to_string()));
            }
        }
    }

    /// Network balls of every enabled method (or only `only`) that can train a network, as
    /// `net_runs` says, on the current slice.
    fn spawn_networks(&mut self, only: Option<&str>) {
        let Some(net) = self.surface.0.as_net().cloned() else {
            return;
        };
        let slice = net.slice();
        let seed = self.rng.seed;
        let (runs, per_frame) = (self.net_runs.runs, self.net_runs.updates_per_frame);
        for entry in self.roster.enabled() {
            if only.is_some_and(|id| id != entry.id) {
                continue;
            }
            for i in 0..runs.clamp(1, MAX_NET_RUNS) {
                let opt = entry.template.clone();
                let Ok(nb) = NetBall::new(slice, &opt, i, seed, per_frame) else {
                    break;
                };
                let run = nb.run_state(slice);
                *self.serial += 1;
                let serial = *self.serial;
                let e = self.commands.spawn((
                    Name::new(format!("{} network {i} (ball {serial})", entry.id)),
                    Ball {
                        method: entry.id.to_string(),
                        color: entry.color,
                        start: run.pos,
                        frames: 0,
                        limit: self.settings.frames,
                        serial,
                        reached: None,
                    },
                    Trail::starting_at(run.pos),
                    BallRun(run),
                    BallOptimizer(opt),
                    nb,
                    Transform::default(),
                ));
                self.fresh.push((e.id(), entry.id.to_string()));
            }
        }
    }

    /// `k` random points (1..=100,000) over the start region inside the domain; `None` when the
    /// region is not well-formed or not inside the domain (see `Domain::start_region`).
    fn random_starts(&mut self, k: usize, region: Option<Domain>) -> Option<Vec<DVec2>> {
        let region = self.surface.0.domain.start_region(region).ok()?;
        Some(self.rng.points(region, k.clamp(1, 100_000)))
    }

    fn apply(&mut self, msg: &SimCommand) {
        match msg {
            SimCommand::Play => self.settings.playing = true,
            SimCommand::Pause => self.settings.playing = false,
            SimCommand::TogglePlay => self.settings.playing = !self.settings.playing,
            SimCommand::StepOnce => {
                self.settings.playing = false;
                let trail_len = self.settings.trail_len_for(self.balls.iter().len());
                let goal = Target::of(&self.surface.0);
                let net = self.surface.0.as_net().cloned();
                let net_goal = success_loss(&self.surface.0);
                for (_, mut ball, mut run, mut opt, mut trail, nb) in &mut self.balls {
                    match (nb, &net) {
                        (Some(mut nb), Some(net)) => {
                            advance_network(
                                net.slice(),
                                &mut ball,
                                &mut run,
                                &mut nb,
                                &mut trail,
                                trail_len,
                                net_goal,
                            );
                        }
                        (Some(_), None) => {}
                        (None, _) => {
                            advance_ball(
                                &self.surface.0,
                                goal,
                                &mut ball,
                                &mut run,
                                &mut opt,
                                &mut trail,
                                trail_len,
                            );
                        }
                    }
                }
            }
            SimCommand::Reset => {
                let net = self.surface.0.as_net().cloned();
                for (_, mut ball, mut run, mut opt, mut trail, nb) in &mut self.balls {
                    ball.frames = 0;
                    ball.limit = self.settings.frames;
                    ball.reached = None;
                    opt.0.reset();
                    trail.0.clear();
                    trail.0.push_back(ball.start);
                    match (nb, &net) {
                        (Some(mut nb), Some(net)) => {
                            let (i, seed, per_frame) = (nb.run, nb.seed, nb.updates_per_frame);
                            if let Ok(fresh) = NetBall::new(net.slice(), &opt.0, i, seed, per_frame)
                            {
                                run.0 = fresh.run_state(net.slice());
                                *nb = fresh;
                            }
                        }
                        _ => run.0 = RunState::start(&self.surface.0, ball.start),
                    }
                }
            }
            SimCommand::Continue => {
                let frames = self.settings.frames;
                for (_, mut ball, mut run, ..) in &mut self.balls {
                    if run.0.status == RunStatus::Done || ball.frames >= ball.limit {
                        ball.limit = ball.frames + frames;
                        if run.0.status == RunStatus::Done {
                            run.0.status = RunStatus::Running;
                        }
                    }
                }
                self.settings.playing = true;
            }
            SimCommand::Clear => {
                self.despawn_all();
                self.net_runs.active = false;
                self.starts.0.clear();
            }
            SimCommand::Restart { k, region } => match self.random_starts(*k, *region) {
                Some(points) => self.replace_all(points),
                None => {
                    warn!("restart refused: the start region {region:?} is not inside the domain")
                }
            },
            SimCommand::ResetToDefaultStart => {
                let p = self.surface.0.default_start();
                self.replace_all(vec![p]);
            }
            SimCommand::Drop { at } => {
                if self.surface.0.domain.contains(*at) {
                    self.starts.0.push(*at);
                    self.spawn(&[*at], None);
                }
            }
            SimCommand::ApplyHyperparameters { method } => {
                if let Some(entry) = self.roster.get(method) {
                    for (_, mut ball, _, mut opt, ..) in &mut self.balls {
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
                let Some(entry) = self.roster.get_mut(method) else {
                    return;
                };
                if entry.enabled == *enabled {
                    return;
                }
                entry.enabled = *enabled;
                if *enabled && self.net_runs.active {
                    self.spawn_networks(Some(method));
                } else if *enabled {
                    let points = std::mem::take(&mut self.starts.0);
                    self.spawn(&points, Some(method));
                    self.starts.0 = points;
                } else {
                    for (e, ball, ..) in &self.balls {
                        if ball.method == *method {
                            self.commands.entity(e).despawn();
                        }
                    }
                    let commands = &mut self.commands;
                    self.fresh.retain(|(e, m)| {
                        if m == method {
                            commands.entity(*e).despawn();
                        }
                        m != method
                    });
                }
            }
            SimCommand::SetSurface(s) => {
                if let Err(e) = s
                    .domain
                    .validate()
                    .and_then(|()| optiscape_core::setup::check_finite_somewhere(s))
                {
                    warn!("surface refused: {e}");
                    return;
                }
                self.surface.0 = s.clone();
                let p = self.surface.0.default_start();
                self.replace_all(vec![p]);
            }
            SimCommand::SetSeed(seed) => *self.rng = SimRng::new(*seed),
            SimCommand::SetSpeed(v) => {
                if v.is_finite() {
                    self.settings.speed = v.clamp(1.0, 1000.0);
                }
            }
            SimCommand::SetFrames(n) => self.settings.frames = (*n).max(1),
            SimCommand::LoadScenario(sc) => self.load_scenario(sc),
            SimCommand::TrainNetworks {
                runs,
                updates_per_frame,
            } => {
                if self.train_networks(*runs, *updates_per_frame) {
                    self.settings.playing = true;
                }
            }
        }
    }

    /// Replaces all balls with networks in training (`SimCommand::TrainNetworks`); false
    /// (nothing changed) when the surface is not a network slice as built.
    fn train_networks(&mut self, runs: usize, updates_per_frame: u64) -> bool {
        if self.surface.0.as_net().is_none() {
            warn!("networks are trained on a network slice (net:DATASET)");
            return false;
        }
        if !self.surface.0.placement.is_identity() {
            warn!("networks are trained on the slice as built (no rotation or shift)");
            return false;
        }
        self.despawn_all();
        self.starts.0.clear();
        *self.net_runs = NetRuns {
            active: true,
            runs: runs.clamp(1, MAX_NET_RUNS),
            updates_per_frame: updates_per_frame.clamp(1, super::network::MAX_UPDATES_PER_FRAME),
        };
        self.spawn_networks(None);
        true
    }

    fn load_scenario(&mut self, sc: &Scenario) {
        let (Ok(()), Ok(s), Ok(methods)) = (sc.validate(), sc.surface(), sc.methods()) else {
            warn!("an invalid scenario was not loaded");
            return;
        };
        self.surface.0 = s;
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
        *self.roster = next;
        self.settings.frames = sc.steps.max(1);
        self.settings.speed = sc.speed.clamp(1.0, 1000.0);
        self.settings.playing = true;
        *self.rng = SimRng::new(sc.seed);
        let points = match &sc.starts {
            StartSpec::Default => vec![self.surface.0.default_start()],
            StartSpec::Points(p) => p.iter().map(|&(x, y)| DVec2::new(x, y)).collect(),
            // A validated scenario's region lies inside the domain.
            StartSpec::Random { k, region } => self.random_starts(*k, *region).unwrap_or_default(),
        };
        self.replace_all(points);
        if let Some(n) = sc.networks {
            // A validated scenario's networks are on a slice as built.
            self.train_networks(n.runs, n.updates_per_frame);
        }
        self.loaded.baseline = Some(super::scenario_of(
            &self.surface,
            &self.settings,
            &self.rng,
            &self.starts,
            &self.roster,
            &self.net_runs,
        ));
        self.loaded.edited = false;
    }
}

pub(super) fn apply_commands(mut messages: MessageReader<SimCommand>, mut state: SimState) {
    state.fresh.clear();
    for msg in messages.read() {
        state.apply(msg);
    }
}
