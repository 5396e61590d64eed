//! One optimizer update on a surface, with the checks every run shares: divergence (a position
//! or loss that is not finite, or a position farther outside the domain than the domain's own
//! size), a gradient that is not finite at a finite loss, and convergence (a step below `CONVERGED_STEP` of the domain's extent, taken from a
//! gradient below `CONVERGED_GRAD`).

use crate::landscape::Surface;
use crate::optim::{Goal, Optimizer, Oracle, SearchMethod, Watch};
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
    /// Function values the method has asked for so far (an update rule: one per update, the
    /// value that comes with its gradient).
    pub evals: u64,
    /// Gradients the method has asked for so far (an update rule: one per update).
    pub grads: u64,
    /// A method that asks for evaluations: the best point it has found and its value (what its
    /// reference returns as the answer; `pos` is its current point). `None` for update rules.
    pub answer: Option<(DVec2, f64)>,
    /// The target the lab counts evaluations to (set by the lab; `None` in the sandbox).
    pub goal: Option<Goal>,
    /// The counts (evaluations, gradients) at the first evaluation that reached `goal`, for a
    /// method that asks for evaluations (exact even inside an iteration that asks for many).
    pub reached: Option<(u64, u64)>,
    /// The value of that evaluation (NaN until `reached`).
    pub reached_value: f64,
    /// The run's evaluation budget is spent: its last iteration asked for more than was left,
    /// and what it asked for after the budget was spent is neither counted nor used.
    pub out_of_budget: bool,
}

impl RunState {
    /// The point the run answers with so far, and its value: the best point found for a method
    /// that asks for evaluations, the current point for an update rule.
    pub fn answer(&self) -> (DVec2, f64) {
        self.answer.unwrap_or((self.pos, self.loss))
    }

    /// The run's cost in evaluations: a function value costs 1 and a gradient with its value
    /// `grad_cost` (n + 1 = 3 by default: what a forward-difference gradient costs in 2D).
    pub fn cost(&self, grad_cost: u64) -> u64 {
        cost(self.evals, self.grads, grad_cost)
    }
}

/// Evaluations of a run on the one cost scale: each function value 1, each gradient (with the
/// value it comes with) `grad_cost` in all (at least 1), so a gradient adds `grad_cost - 1` to
/// its value.
pub fn cost(evals: u64, grads: u64, grad_cost: u64) -> u64 {
    evals + grads * grad_cost.saturating_sub(1)
}

/// The default price of a gradient with its value, in function evaluations: n + 1 = 3 in 2D.
pub const GRAD_COST: u64 = 3;

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
            evals: 0,
            grads: 0,
            answer: None,
            goal: None,
            reached: None,
            reached_value: f64::NAN,
            out_of_budget: false,
        }
    }
}

/// Takes one update from `state.pos` and classifies the result. Returns the new status (also
/// stored in `state`); a diverged state keeps its last (non-finite or far-away) position so the
/// failure can be shown.
///
/// A method that asks for evaluations takes one of its iterations instead: the state moves to
/// its current point, `answer` to its best, and it is `Converged` once its own stopping test
/// holds (it then takes no more evaluations).
#[inline]
pub fn step_once(surface: &Surface, optimizer: &mut Optimizer, state: &mut RunState) -> RunStatus {
    if optimizer.is_search() {
        return search_once(surface, optimizer, state, None);
    }
    state.evals += 1;
    state.grads += 1;
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

/// [`step_once`] for a method that asks for evaluations, keeping in `trail` (cleared first)
/// each fall of the lowest finite value inside the domain during the iteration: the run's cost
/// on the one cost scale at that evaluation (counted from the run's start) and the value. An
/// update rule's step leaves `trail` empty (its cost is its updates times the gradient's).
pub fn step_once_trail(
    surface: &Surface,
    optimizer: &mut Optimizer,
    state: &mut RunState,
    trail: &mut Vec<(u64, f64)>,
) -> RunStatus {
    trail.clear();
    if optimizer.is_search() {
        search_once(surface, optimizer, state, Some(trail))
    } else {
        step_once(surface, optimizer, state)
    }
}

/// One iteration of a method that asks for evaluations. Under an evaluation budget, an
/// iteration that asks for more than is left is cut where the budget ends, as the reference
/// scripts stop a run at the evaluation that spends it: the run's counts stop at the last
/// evaluation inside the budget, its answer is the best point found inside it, and the run
/// takes no more iterations.
fn search_once(
    surface: &Surface,
    optimizer: &mut Optimizer,
    state: &mut RunState,
    trail: Option<&mut Vec<(u64, f64)>>,
) -> RunStatus {
    if state.out_of_budget {
        return state.status;
    }
    // A point that is not finite (a start, or a position set from outside) has nothing to search
    // from: the run diverged.
    if !state.pos.is_finite() {
        state.status = RunStatus::Diverged;
        return state.status;
    }
    let grad_cost = optimizer.budget.map_or(GRAD_COST, |b| b.grad_cost);
    let watch = Watch {
        left: optimizer
            .budget
            .map(|b| b.evals.saturating_sub(state.cost(b.grad_cost))),
        grad_cost,
        goal: state.goal,
    };
    let mut oracle = Oracle::watching(surface, watch);
    if trail.is_some() {
        oracle.trail = Some(Vec::new());
    }
    let cost_before = state.cost(grad_cost);
    let Some(search) = optimizer.iterate(state.pos, &mut oracle) else {
        return state.status;
    };
    if let (Some(out), Some(t)) = (trail, &oracle.trail) {
        out.extend(t.iter().map(|&(c, v)| (cost_before + c, v)));
    }
    let (pos, loss) = search.current();
    let best = search.best();
    let finished = search.finished();
    if state.reached.is_none()
        && let Some((e, g, v)) = oracle.reached
    {
        state.reached = Some((state.evals + e, state.grads + g));
        state.reached_value = v;
    }
    state.steps += 1;
    state.last_grad = DVec2::ZERO;
    state.grad = DVec2::ZERO;
    if oracle.overspent() {
        state.out_of_budget = true;
        state.evals += oracle.within.0;
        state.grads += oracle.within.1;
        let before = state.answer();
        let answer = match oracle.best_within {
            // The point found inside the budget, unless the answer before was as low (a NaN
            // answer is replaced).
            Some(w) if before.1.is_nan() || w.1 < before.1 => w,
            _ => before,
        };
        state.last_step = answer.0 - state.pos;
        state.pos = answer.0;
        state.loss = answer.1;
        state.answer = Some(answer);
        return state.status;
    }
    state.evals += oracle.evals;
    state.grads += oracle.grads;
    state.last_step = pos - state.pos;
    state.pos = pos;
    state.loss = loss;
    state.answer = Some(best);
    state.status = match RunStatus::of_point(surface, pos, loss, DVec2::ZERO) {
        RunStatus::Running if finished => RunStatus::Converged,
        s => s,
    };
    state.status
}
