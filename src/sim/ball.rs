//! Ball entities: where a ball is, its optimizer (hyperparameters + state), its trail, and the
//! fixed-timestep system that advances them.

use super::{SimSettings, SimSurface};
use bevy::prelude::*;
use glam::DVec2;
use optiscape_core::lab::{RunState, RunStatus, Target, step_once};
use optiscape_core::landscape::Surface;
use optiscape_core::optim::Optimizer;
use std::collections::VecDeque;

/// A ball: which method it runs, its color, where it started, and its frame budget.
#[derive(Component, Reflect, Clone, Debug)]
#[reflect(Component)]
pub struct Ball {
    /// The method's id in the roster (a rule or preset id).
    pub method: String,
    pub color: Color,
    /// The start point, in surface coordinates.
    pub start: DVec2,
    /// Frames (ticks) taken so far.
    pub frames: u64,
    /// The frame count at which the ball is done.
    pub limit: u64,
    /// Spawn order, for stable sorting and labels.
    pub serial: u64,
    /// The update count at which the ball first came within the success tolerance of the
    /// global minimum value, if it has.
    pub reached: Option<u64>,
}

/// Position (f64 surface coordinates), loss, update count, status, last gradient and step:
/// the core's `RunState`, which `step_once` advances.
#[derive(Component, Reflect, Clone, Debug, Default)]
#[reflect(Component)]
pub struct BallRun(#[reflect(ignore)] pub RunState);

/// The ball's update rule: its hyperparameters and its state (velocity, accumulators...).
#[derive(Component, Reflect, Clone, Debug, Default)]
#[reflect(Component)]
pub struct BallOptimizer(#[reflect(ignore)] pub Optimizer);

/// The positions the ball has visited, newest last, bounded.
#[derive(Component, Reflect, Clone, Debug, Default)]
#[reflect(Component)]
pub struct Trail(pub VecDeque<DVec2>);

impl Trail {
    /// A trail holding only its first point, with room for no more (`push` makes room).
    pub fn starting_at(p: DVec2) -> Self {
        let mut points = VecDeque::with_capacity(1);
        points.push_back(p);
        Self(points)
    }

    /// Appends `p`, keeping the last `max` points (at least one). The memory held follows
    /// `max`: one allocation of that size when it grows, given back when it shrinks to less
    /// than half, so the trail budget (`SimSettings::trail_len_for`) bounds memory, not only
    /// the points shown.
    pub fn push(&mut self, p: DVec2, max: usize) {
        let max = max.max(1);
        while self.0.len() >= max {
            self.0.pop_front();
        }
        if self.0.capacity() < max {
            self.0.reserve_exact(max - self.0.len());
        } else if self.0.capacity() > 2 * max {
            self.0.shrink_to(max);
        }
        self.0.push_back(p);
    }
}

/// Advances one ball by one frame: `steps_per_frame` updates of the shared `step_once`,
/// stopping early when it converges or diverges. Returns whether it moved.
pub fn advance_ball(
    surface: &Surface,
    target: Target,
    ball: &mut Ball,
    run: &mut BallRun,
    opt: &mut BallOptimizer,
    trail: &mut Trail,
    trail_len: usize,
) -> bool {
    if run.0.status != RunStatus::Running || ball.frames >= ball.limit {
        return false;
    }
    for _ in 0..opt.0.steps_per_frame.max(1) {
        let status = step_once(surface, &mut opt.0, &mut run.0);
        if run.0.pos.is_finite() {
            trail.push(run.0.pos, trail_len);
        }
        if ball.reached.is_none() && target.reached(run.0.pos, run.0.loss) {
            ball.reached = Some(run.0.steps);
        }
        if status != RunStatus::Running {
            break;
        }
    }
    ball.frames += 1;
    if run.0.status == RunStatus::Running && ball.frames >= ball.limit {
        run.0.status = RunStatus::Done;
    }
    true
}

/// `FixedUpdate`: every running ball takes one frame.
pub(super) fn step_balls(
    surface: Res<SimSurface>,
    settings: Res<SimSettings>,
    all: Query<(), With<Ball>>,
    mut balls: Query<
        (&mut Ball, &mut BallRun, &mut BallOptimizer, &mut Trail),
        Without<super::NetBall>,
    >,
    mut target: Local<Option<(Surface, Target)>>,
) {
    if target.as_ref().map(|t| &t.0) != Some(&surface.0) {
        *target = Some((surface.0.clone(), Target::of(&surface.0)));
    }
    let Some((_, goal)) = *target else {
        return;
    };
    let (s, trail_len) = (&surface.0, settings.trail_len_for(all.iter().len()));
    // Balls are independent, so they step in parallel; each ball's result does not depend on
    // the order.
    balls
        .par_iter_mut()
        .for_each(|(mut ball, mut run, mut opt, mut trail)| {
            if run.0.status == RunStatus::Running {
                advance_ball(
                    s, goal, &mut ball, &mut run, &mut opt, &mut trail, trail_len,
                );
            }
        });
}
