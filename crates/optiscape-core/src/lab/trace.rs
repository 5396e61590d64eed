//! `trace`: the whole trajectory of one optimizer from one start point.

use super::run::{RunState, RunStatus, step_once};
use crate::landscape::Surface;
use crate::optim::Optimizer;
use glam::DVec2;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct TracePoint {
    pub step: u64,
    pub x: f64,
    pub y: f64,
    pub loss: f64,
    /// Function values asked for so far (an update rule: one per update).
    pub evals: u64,
    /// Gradients asked for so far (an update rule: one per update).
    pub grads: u64,
}

/// A trajectory: rows from step 0 (the start) to the last step taken.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trace {
    pub points: Vec<TracePoint>,
    /// `Done` when all steps were taken (whether or not the run converged on the way),
    /// `Diverged` when it stopped early because the run diverged.
    pub status: RunStatus,
}

/// Runs `steps` updates from `start`. A converged run keeps stepping (its rows show it standing
/// still); a diverged run stops at the step where it diverged, which is the last row. A method
/// that asks for evaluations gives one row per iteration (its current point) and stops when its
/// own stopping test holds.
pub fn trace(surface: &Surface, optimizer: &Optimizer, start: DVec2, steps: u64) -> Trace {
    let mut points = Vec::with_capacity(steps.min(1 << 20) as usize + 1);
    let status = trace_each(surface, optimizer, start, steps, |p| {
        points.push(p);
        Ok::<(), std::convert::Infallible>(())
    });
    Trace {
        points,
        status: status.unwrap_or_else(|never| match never {}),
    }
}

/// `trace` handing each row to `row` as soon as it is computed, so that nothing but the run's
/// state is kept (`optiscape trace` streams its output this way). Stops at the first error
/// `row` returns (e.g. a closed pipe).
pub fn trace_each<E>(
    surface: &Surface,
    optimizer: &Optimizer,
    start: DVec2,
    steps: u64,
    mut row: impl FnMut(TracePoint) -> Result<(), E>,
) -> Result<RunStatus, E> {
    let mut opt = optimizer.clone();
    opt.reset();
    let mut state = RunState::start(surface, start);
    let point = |s: &RunState| TracePoint {
        step: s.steps,
        x: s.pos.x,
        y: s.pos.y,
        loss: s.loss,
        evals: s.evals,
        grads: s.grads,
    };
    row(point(&state))?;
    if state.status.cut_short() {
        return Ok(state.status);
    }
    for _ in 0..steps {
        if state.out_of_budget || opt.spent(state.evals, state.grads) {
            break;
        }
        let status = step_once(surface, &mut opt, &mut state);
        row(point(&state))?;
        if status.cut_short() {
            return Ok(status);
        }
        if status == RunStatus::Converged && opt.is_search() {
            break;
        }
    }
    Ok(RunStatus::Done)
}
