//! Network balls: a ball that is a whole network in training on a slice's data (`net:`
//! surfaces). Its optimizer component trains the network's own parameter vector (the core's
//! `LiveFit`, the very loop of `optiscape train`), the fixed-timestep system steps it, and the
//! ball is shown where its parameters project on the slice's plane (least squares), at the
//! height of its real training loss.

use super::{Ball, BallOptimizer, BallRun, Trail};
use bevy::prelude::*;
use glam::DVec2;
use optiscape_core::lab::RunStatus;
use optiscape_core::net::LiveFit;
use optiscape_core::net::slice::Slice;

pub use optiscape_core::net::{MAX_NET_RUNS, MAX_UPDATES_PER_FRAME};

/// One point of a network ball's record: after `updates` updates, its training loss (the
/// penalty included) and its test loss (NaN without test points).
#[derive(Clone, Copy, Debug, Default, PartialEq, Reflect)]
pub struct NetPoint {
    pub updates: u64,
    pub train: f64,
    pub test: f64,
}

/// A ball that trains a whole network: which initialization it started from (run `run` of
/// the seed `seed`, as `optiscape train --seed` numbers runs), updates per frame, where it is
/// seen from the plane, its test numbers and its record.
#[derive(Component, Reflect, Default, Debug)]
#[reflect(Component)]
pub struct NetBall {
    pub run: usize,
    pub seed: u64,
    pub updates_per_frame: u64,
    /// The share of the distance from the slice's centre that the plane does not show
    /// (0: the parameters lie on the plane; near 1: almost all of the way is off it).
    pub off: f64,
    pub train_accuracy: f64,
    pub test_loss: f64,
    pub test_accuracy: f64,
    /// The training itself (`None` only in a default-made component).
    #[reflect(ignore)]
    pub fit: Option<LiveFit>,
    /// One point per frame, the first at the first parameters.
    pub history: Vec<NetPoint>,
}

impl NetBall {
    /// A network ball for `opt`, run `run` of `seed`, on `slice`'s network and data, with its
    /// first parameters observed; or why the method cannot train a network.
    pub fn new(
        slice: &Slice,
        opt: &optiscape_core::optim::Optimizer,
        run: usize,
        seed: u64,
        updates_per_frame: u64,
    ) -> Result<Self, String> {
        let net = &slice.spec.net;
        let init = optiscape_core::lab::train::first_weights(net, slice.spec.init, seed, run);
        let noise = optiscape_core::lab::run_seed(seed, run);
        let fit = LiveFit::new(
            opt,
            net,
            &slice.data,
            init,
            noise,
            optiscape_core::lab::train::MAX_TRAIN_STEPS,
        )?;
        let mut ball = Self {
            run,
            seed,
            updates_per_frame: updates_per_frame.clamp(1, MAX_UPDATES_PER_FRAME),
            fit: Some(fit),
            ..Default::default()
        };
        ball.look(slice);
        Ok(ball)
    }

    /// The ball's state as a run on the plane: projected position, real loss, updates, status.
    pub fn run_state(&self, slice: &Slice) -> optiscape_core::lab::RunState {
        let mut s = optiscape_core::lab::RunState::default();
        if let Some(fit) = &self.fit {
            let st = fit.state();
            let p = slice.project(&fit.params());
            s.pos = DVec2::new(p.a, p.b);
            s.loss = st.loss;
            s.steps = st.updates;
            s.grads = st.updates;
            s.evals = st.updates;
            s.status = if st.diverged_at.is_some() {
                RunStatus::Diverged
            } else if st.going {
                RunStatus::Running
            } else {
                RunStatus::Done
            };
        }
        s
    }

    /// Reads the network as it is now: off-plane share, test numbers, one more history point.
    fn look(&mut self, slice: &Slice) {
        let Some(fit) = self.fit.as_mut() else {
            return;
        };
        let st = fit.state();
        self.off = slice.project(&fit.params()).off;
        let (train_acc, test_loss, test_acc) = fit.evaluate(&slice.spec.net, &slice.data);
        (self.train_accuracy, self.test_loss, self.test_accuracy) =
            (train_acc, test_loss, test_acc);
        self.history.push(NetPoint {
            updates: st.updates,
            train: st.loss,
            test: test_loss,
        });
    }
}

/// Advances one network ball by one frame: its updates per frame (fewer when it stops), then
/// its position, loss and record. Returns whether it moved.
pub fn advance_network(
    slice: &Slice,
    ball: &mut Ball,
    run: &mut BallRun,
    net: &mut NetBall,
    trail: &mut Trail,
    trail_len: usize,
    goal: f64,
) -> bool {
    if run.0.status != RunStatus::Running || ball.frames >= ball.limit {
        return false;
    }
    let Some(fit) = net.fit.as_mut() else {
        return false;
    };
    fit.advance(&slice.spec.net, &slice.data, net.updates_per_frame);
    net.look(slice);
    run.0 = net.run_state(slice);
    if run.0.pos.is_finite() {
        trail.push(run.0.pos, trail_len);
    }
    if ball.reached.is_none() && run.0.loss <= goal {
        ball.reached = Some(run.0.steps);
    }
    ball.frames += 1;
    if run.0.status == RunStatus::Running && ball.frames >= ball.limit {
        run.0.status = RunStatus::Done;
    }
    true
}

/// The training loss a network ball counts as a success: the slice's estimated minimum (its
/// trained network's loss, lowered by whatever the plane shows lower) plus the surface's
/// tolerance.
pub fn success_loss(surface: &optiscape_core::landscape::Surface) -> f64 {
    let t = super::Target::of(surface);
    surface.global_minimum().value + t.tol
}

/// `FixedUpdate`: every running network ball takes one frame.
pub(super) fn step_networks(
    surface: Res<super::SimSurface>,
    settings: Res<super::SimSettings>,
    all: Query<(), With<Ball>>,
    mut balls: Query<(&mut Ball, &mut BallRun, &mut NetBall, &mut Trail)>,
) {
    let Some(net) = surface.0.as_net() else {
        return;
    };
    let slice = net.slice();
    let goal = success_loss(&surface.0);
    let trail_len = settings.trail_len_for(all.iter().len());
    balls
        .par_iter_mut()
        .for_each(|(mut ball, mut run, mut nb, mut trail)| {
            advance_network(
                slice, &mut ball, &mut run, &mut nb, &mut trail, trail_len, goal,
            );
        });
}

/// Keeps a network ball's rule in step with its optimizer component (the Methods panel's
/// hyperparameters reach it from the next update on).
pub(super) fn retune_networks(
    mut balls: Query<(&BallOptimizer, &mut NetBall), Changed<BallOptimizer>>,
) {
    for (opt, mut nb) in &mut balls {
        if let Some(fit) = nb.fit.as_mut() {
            fit.retune(&opt.0);
        }
    }
}
