//! Methods that ask for evaluations rather than take a step from a gradient: Nelder–Mead and
//! BFGS (SciPy's `minimize`), basin hopping, dual annealing and differential evolution (SciPy's
//! global optimizers), CMA-ES with restarts (Hansen's tutorial with pycma's constants), and the
//! two baselines every comparison needs, random search and multistart BFGS. Each follows its
//! named reference (docs/methods.md gives the algorithm, the defaults and the reference).
//!
//! The shape is pycma's and Nevergrad's ask/tell seen from the method's side: one call of
//! [`SearchMethod::iterate`] is one iteration of the method (what SciPy's `callback` sees), and
//! every value and gradient it needs goes through an [`Oracle`], which counts them: the lab's
//! evaluation budgets, ERT in evaluations and the trace's `evals,grads` columns all come from it.

mod annealing;
mod baselines;
mod basin_hopping;
mod bfgs;
mod cma;
mod differential_evolution;
mod line_search;
mod nelder_mead;

pub use annealing::Annealing;
pub use baselines::{Multistart, RandomSearch};
pub use basin_hopping::BasinHopping;
pub use bfgs::Bfgs;
pub use cma::{CmaEs, Constants as CmaConstants, MAX_POPULATION, Restarts};
pub use differential_evolution::DifferentialEvolution;
pub use nelder_mead::NelderMead;

use super::params::Param;
use super::{Rng, StateValue};
use crate::landscape::{Domain, Surface};
use glam::DVec2;
use serde::{Deserialize, Serialize};

/// What an [`Oracle`] watches for the lab: the evaluations left in the run's budget (on the one
/// cost scale, a gradient with its value costing `grad_cost`) and the target a value must reach.
/// The reference scripts stop a run at the evaluation that spends its budget and count the
/// evaluations to the first value that reaches the target; the oracle sees each evaluation, so
/// the lab counts exactly the same even when an iteration asks for many.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Watch {
    /// Evaluations left in the budget (`None`: no budget).
    pub left: Option<u64>,
    /// The cost of a gradient with its value (at least 1).
    pub grad_cost: u64,
    /// The target: a finite value inside this domain at most `tol` above `value`.
    pub goal: Option<Goal>,
}

/// A value to reach: finite, inside `domain`, at most `tol` above `value` (the lab's target).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Goal {
    pub domain: Domain,
    pub value: f64,
    pub tol: f64,
}

impl Goal {
    pub fn reached(&self, p: DVec2, v: f64) -> bool {
        v.is_finite() && v - self.value <= self.tol && self.domain.contains(p)
    }
}

/// The surface as a method sees it: values and gradients on demand, each one counted.
pub struct Oracle<'a> {
    surface: &'a Surface,
    /// Function values computed (a gradient computed with its value counts here too).
    pub evals: u64,
    /// Gradients computed.
    pub grads: u64,
    watch: Watch,
    /// The counts at the last evaluation inside the budget.
    pub within: (u64, u64),
    /// The lowest finite value inside the domain evaluated inside the budget.
    pub best_within: Option<Point>,
    /// The counts at the first evaluation (inside the budget) that reached the goal, and its
    /// value.
    pub reached: Option<(u64, u64, f64)>,
    /// When kept (`Some`): each time the lowest finite value inside the domain (inside the
    /// budget) fell, the cost so far on the one cost scale and the new value. The lab's
    /// runtime distributions in evaluations read it, as COCO counts: evaluation by evaluation.
    pub trail: Option<Vec<(u64, f64)>>,
}

impl<'a> Oracle<'a> {
    pub fn new(surface: &'a Surface) -> Self {
        Self::watching(surface, Watch::default())
    }

    /// An oracle that also keeps what happened inside a budget and when a goal was reached.
    pub fn watching(surface: &'a Surface, watch: Watch) -> Self {
        Self {
            surface,
            evals: 0,
            grads: 0,
            watch,
            within: (0, 0),
            best_within: None,
            reached: None,
            trail: None,
        }
    }

    /// The evaluations asked for so far on the one cost scale (a gradient with its value
    /// costing the watch's `grad_cost`).
    pub fn cost(&self) -> u64 {
        self.evals + self.grads * self.watch.grad_cost.saturating_sub(1)
    }

    /// Whether this iteration asked for more than the budget had left.
    pub fn overspent(&self) -> bool {
        self.watch.left.is_some_and(|left| self.cost() > left)
    }

    fn seen(&mut self, p: DVec2, v: Option<f64>) {
        if self.overspent() {
            return;
        }
        self.within = (self.evals, self.grads);
        let Some(v) = v else { return };
        if v.is_finite()
            && self.surface.domain.contains(p)
            && self.best_within.is_none_or(|(_, b)| v < b)
        {
            self.best_within = Some((p, v));
            let cost = self.cost();
            if let Some(t) = &mut self.trail {
                t.push((cost, v));
            }
        }
        if self.reached.is_none() && self.watch.goal.is_some_and(|g| g.reached(p, v)) {
            self.reached = Some((self.evals, self.grads, v));
        }
    }

    /// The value at `p` (one evaluation).
    pub fn value(&mut self, p: DVec2) -> f64 {
        self.evals += 1;
        let v = self.surface.height(p);
        self.seen(p, Some(v));
        v
    }

    /// The gradient at `p` (one gradient evaluation).
    pub fn gradient(&mut self, p: DVec2) -> DVec2 {
        self.grads += 1;
        self.seen(p, None);
        self.surface.gradient(p)
    }

    /// The value and the gradient at `p` (one evaluation and one gradient evaluation).
    pub fn value_and_gradient(&mut self, p: DVec2) -> (f64, DVec2) {
        self.evals += 1;
        self.grads += 1;
        let (v, g) = self.surface.height_and_gradient(p);
        self.seen(p, Some(v));
        (v, g)
    }

    /// The value at `p` for showing only, not counted: a point the method itself never asks
    /// about (CMA-ES's mean, drawn as the ball and printed by `trace`).
    pub fn peek(&self, p: DVec2) -> f64 {
        self.surface.height(p)
    }

    /// The bounds of the search: the surface's domain (SciPy's `bounds`).
    pub fn domain(&self) -> Domain {
        self.surface.domain
    }
}

/// A point and its value.
pub type Point = (DVec2, f64);

/// A method that asks for evaluations, one iteration at a time.
pub trait SearchMethod {
    /// Starts a run from `start` (the evaluations the reference makes before its first
    /// iteration, e.g. Nelder–Mead's initial simplex).
    fn begin(&mut self, start: DVec2, f: &mut Oracle, rng: &mut Rng);
    /// One iteration; does nothing once [`SearchMethod::finished`].
    fn iterate(&mut self, f: &mut Oracle, rng: &mut Rng);
    /// The method's current point, as it defines it (the ball's position, `trace`'s rows).
    fn current(&self) -> Point;
    /// The best point it has found: what the reference returns as its answer.
    fn best(&self) -> Point;
    /// Its own stopping test has been met (it takes no more evaluations).
    fn finished(&self) -> bool;
    /// The hyperparameters, named as the reference names them.
    fn params(&mut self) -> Vec<Param<'_>>;
    /// The state, for the inspector.
    fn state(&self) -> Vec<(&'static str, StateValue)>;
    /// Points worth drawing beside the ball: the simplex, the population, the last trial points.
    fn points(&self) -> Vec<DVec2>;
}

/// Every method that asks for evaluations, with its hyperparameters and state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Search {
    NelderMead(NelderMead),
    Bfgs(Bfgs),
    BasinHopping(BasinHopping),
    Annealing(Annealing),
    CmaEs(CmaEs),
    DifferentialEvolution(DifferentialEvolution),
    RandomSearch(RandomSearch),
    Multistart(Multistart),
}

macro_rules! each_search {
    ($value:expr, $m:ident => $body:expr) => {
        match $value {
            Search::NelderMead($m) => $body,
            Search::Bfgs($m) => $body,
            Search::BasinHopping($m) => $body,
            Search::Annealing($m) => $body,
            Search::CmaEs($m) => $body,
            Search::DifferentialEvolution($m) => $body,
            Search::RandomSearch($m) => $body,
            Search::Multistart($m) => $body,
        }
    };
}

impl Search {
    /// The method with this name and its reference's defaults.
    pub fn by_name(name: &str) -> Option<Self> {
        Some(match name {
            "nelder-mead" => Search::NelderMead(NelderMead::default()),
            "bfgs" => Search::Bfgs(Bfgs::default()),
            "basin-hopping" => Search::BasinHopping(BasinHopping::default()),
            "cma-es" => Search::CmaEs(CmaEs::default()),
            "annealing" => Search::Annealing(Annealing::default()),
            "differential-evolution" => {
                Search::DifferentialEvolution(DifferentialEvolution::default())
            }
            "random-search" => Search::RandomSearch(RandomSearch::default()),
            "multistart" => Search::Multistart(Multistart::default()),
            _ => return None,
        })
    }

    /// Forgets the run (keeps the hyperparameters).
    pub fn reset(&mut self) {
        each_search!(self, m => m.reset())
    }

    /// Whether a gradient is part of the method (BFGS and what uses it).
    pub fn uses_gradient(&self) -> bool {
        match self {
            Search::Bfgs(_) | Search::BasinHopping(_) | Search::Multistart(_) => true,
            Search::DifferentialEvolution(d) => d.polish,
            Search::Annealing(a) => !a.no_local_search,
            _ => false,
        }
    }
}

impl SearchMethod for Search {
    fn begin(&mut self, start: DVec2, f: &mut Oracle, rng: &mut Rng) {
        each_search!(self, m => m.begin(start, f, rng))
    }
    fn iterate(&mut self, f: &mut Oracle, rng: &mut Rng) {
        each_search!(self, m => m.iterate(f, rng))
    }
    fn current(&self) -> Point {
        each_search!(self, m => m.current())
    }
    fn best(&self) -> Point {
        each_search!(self, m => m.best())
    }
    fn finished(&self) -> bool {
        each_search!(self, m => m.finished())
    }
    fn params(&mut self) -> Vec<Param<'_>> {
        each_search!(self, m => m.params())
    }
    fn state(&self) -> Vec<(&'static str, StateValue)> {
        each_search!(self, m => m.state())
    }
    fn points(&self) -> Vec<DVec2> {
        each_search!(self, m => m.points())
    }
}

/// Sorts by value, NaN last, stably (NumPy's `argsort` on the few values these methods sort).
fn order(a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ => a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal),
    }
}

/// A uniform point of the domain, x then y (NumPy's `uniform(lb, ub, size=2)` order).
fn uniform_in(domain: Domain, rng: &mut Rng) -> DVec2 {
    let x = domain.x0 + rng.uniform() * domain.width();
    let y = domain.y0 + rng.uniform() * domain.height();
    DVec2::new(x, y)
}

/// Clips a point to the domain (NumPy's `clip(x, lb, ub)`).
fn clip(p: DVec2, d: Domain) -> DVec2 {
    DVec2::new(p.x.clamp(d.x0, d.x1), p.y.clamp(d.y0, d.y1))
}
