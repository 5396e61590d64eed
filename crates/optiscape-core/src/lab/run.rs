//! One optimizer update on a surface, with the checks every run shares: divergence (a position
//! or loss that is not finite, or a position farther outside the domain than the domain's own
//! size), a gradient that is not finite at a finite loss, and convergence (a step below `CONVERGED_STEP` of the domain's extent, taken from a
//! gradient below `CONVERGED_GRAD`).

use crate::landscape::Surface;
use crate::optim::Optimizer;
use glam::DVec2;
use serde::{Deserialize, Serialize};

/// A step shorter than this fraction of the domain's extent counts as having stopped moving...
pub const CONVERGED_STEP: f64 = 1e-10;
/// ...when the gradient it was taken from is also below this norm (so a rule whose first step
/// is zero by construction, like the notebook's momentum, is not mistaken for converged).
pub const CONVERGED_GRAD: f64 = 1e-8;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    #[default]
    Running,
    /// The last step was shorter than `CONVERGED_STEP` of the domain and the gradient below
    /// `CONVERGED_GRAD`: the run has come to rest at a stationary point.
    Converged,
    /// The position or loss stopped being finite, or the position left the domain by more than
    /// the domain's own size.
    Diverged,
    /// The loss is finite but its gradient is not (e.g. `cbrt(x)^2` at x = 0): the surface gives
    /// no direction there, so the run ends. Not the optimizer's failure, and not a minimum.
    BadGradient,
    /// It reached its step budget.
    Done,
}

impl RunStatus {
    /// The name CSV and JSON give it.
    pub fn name(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Converged => "converged",
            RunStatus::Diverged => "diverged",
            RunStatus::BadGradient => "bad_gradient",
            RunStatus::Done => "done",
        }
    }

    /// Whether the run was cut short: diverged, or stopped by a gradient that is not finite.
    pub fn cut_short(self) -> bool {
        matches!(self, RunStatus::Diverged | RunStatus::BadGradient)
    }

    /// The status of a point: `Diverged` when the position or loss is not finite or the position
    /// is far outside the domain, `BadGradient` when only the gradient is not finite, otherwise
    /// `Running`.
    fn of_point(surface: &Surface, pos: DVec2, loss: f64, grad: DVec2) -> Self {
        if !pos.is_finite() || !loss.is_finite() || surface.domain.far_outside(pos) {
            RunStatus::Diverged
        } else if !grad.is_finite() {
            RunStatus::BadGradient
        } else {
            RunStatus::Running
        }
    }
}

/// Where one run is: position, loss there, how many updates it took, and the last gradient and
/// displacement (for arrows and the inspector).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RunState {
    pub pos: DVec2,
    pub loss: f64,
    pub steps: u64,
    pub status: RunStatus,
    pub last_grad: DVec2,
    pub last_step: DVec2,
    /// The gradient at `pos` (computed with the loss, used by the next step).
    pub grad: DVec2,
}

impl RunState {
    pub fn start(surface: &Surface, pos: DVec2) -> Self {
        let (loss, grad) = surface.height_and_gradient(pos);
        // A start far outside the domain is still run (the region may be wider than the domain).
        let status = match RunStatus::of_point(surface, pos, loss, grad) {
            RunStatus::Diverged if pos.is_finite() && loss.is_finite() => RunStatus::Running,
            s => s,
        };
        Self {
            pos,
            loss,
            steps: 0,
            status,
            last_grad: DVec2::ZERO,
            last_step: DVec2::ZERO,
            grad,
        }
    }
}

/// Takes one update from `state.pos` and classifies the result. Returns the new status (also
/// stored in `state`); a diverged state keeps its last (non-finite or far-away) position so the
/// failure can be shown.
#[inline]
pub fn step_once(surface: &Surface, optimizer: &mut Optimizer, state: &mut RunState) -> RunStatus {
    let grad = state.grad;
    let delta = optimizer.step(state.pos, grad);
    let pos = state.pos + delta;
    let (loss, next_grad) = surface.height_and_gradient(pos);
    state.grad = next_grad;
    let domain = surface.domain;
    state.pos = pos;
    state.loss = loss;
    state.steps += 1;
    state.last_grad = grad;
    state.last_step = delta;
    state.status = match RunStatus::of_point(surface, pos, loss, next_grad) {
        RunStatus::Running
            if delta.length() < CONVERGED_STEP * domain.extent()
                && grad.length() < CONVERGED_GRAD =>
        {
            RunStatus::Converged
        }
        s => s,
    };
    state.status
}
