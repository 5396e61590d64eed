//! Random-restart races: K start points, the same for every method; per method, how often it
//! reaches the global minimum and how good its final losses are.

use super::batch::RunEnd;
use super::batch::{Precision, Progress, Target};
use super::pace::{batch_paced, block_on};
use super::stats::{Outcome, Runtime, ert, ert_interval, median, summarize, wilson};
use crate::landscape::Surface;
use crate::optim::Optimizer;
use glam::DVec2;
use serde::Serialize;

/// One method's line of a race.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RaceRow {
    pub method: String,
    pub runs: usize,
    /// Share of runs that did not diverge and whose final loss is within the tolerance of the
    /// global minimum.
    pub success_rate: f64,
    /// The Wilson 95% interval of `success_rate`.
    pub success_rate_low: f64,
    pub success_rate_high: f64,
    /// Share of runs whose loss came within the tolerance at some update (diverged later or
    /// not, left again or not): the success the runtime statistics (ERT, ECDFs) count.
    pub reached_rate: f64,
    /// Expected updates to reach the global minimum with independent restarts (see
    /// [`super::stats::ert`]); `None` when no run reached it.
    pub ert: Option<f64>,
    /// Its 95% bootstrap interval (see [`super::stats::ert_interval`]).
    pub ert_low: Option<f64>,
    pub ert_high: Option<f64>,
    /// The same ERT in evaluations on the one cost scale (a function value 1, a gradient with
    /// its value `grad_cost`; see [`super::cost`]), and its interval.
    pub ert_evals: Option<f64>,
    pub ert_evals_low: Option<f64>,
    pub ert_evals_high: Option<f64>,
    /// Evaluations a run cost on average, on the same scale.
    pub mean_evals: f64,
    /// Median, over the runs that reached the target, of the evaluations spent up to their
    /// first success, on the same scale.
    pub median_evals_to_success: Option<f64>,
    /// The price of a gradient with its value in evaluations used by `ert_evals` and
    /// `mean_evals` (n + 1 = 3 in 2D).
    pub grad_cost: u64,
    /// Over the final losses of the runs that did not diverge (see [`super::stats::Summary`]).
    pub mean_loss: Option<f64>,
    pub median_loss: Option<f64>,
    /// Median, over the runs that succeeded at some point, of the first update at which the
    /// loss came within the tolerance.
    #[serde(rename = "median_updates_to_success")]
    pub median_steps_to_success: Option<f64>,
    pub diverged: usize,
    /// Runs stopped by a gradient that is not finite at a finite loss (counted apart from
    /// `diverged`: the surface gave no direction, the optimizer did not fail).
    pub bad_gradient: usize,
    /// Wall-clock seconds (the only number that varies between identical runs).
    pub seconds: f64,
    /// The final losses of the runs that did not diverge (for histograms; the same runs as
    /// the mean and median).
    #[serde(skip)]
    pub final_losses: Vec<f64>,
    /// Every run's end, in start order (`race --csv`).
    #[serde(skip)]
    pub ends: Vec<RunEnd>,
    /// The lowest loss any run found inside the domain (see [`Target::lowered_to`]).
    #[serde(skip)]
    pub lowest: f64,
}

impl RaceRow {
    /// The row of a method's runs. The bootstrap is seeded by the race's `seed` and the
    /// method's id (the same interval whatever the other methods).
    pub fn of(method: &str, ends: Vec<RunEnd>, target: Target, seed: u64, seconds: f64) -> Self {
        let s = summarize(ends.iter().map(Outcome::from), target);
        let runtimes: Vec<Runtime> = ends.iter().map(Runtime::from).collect();
        let (success_rate_low, success_rate_high) = wilson(s.successes, s.runs);
        let reached = runtimes
            .iter()
            .filter(|r| r.first_success.is_some())
            .count();
        let id_hash = id_hash(method);
        let (ert_low, ert_high) = ert_interval(&runtimes, seed ^ id_hash);
        let grad_cost = super::GRAD_COST;
        let (ert_evals, (ert_evals_low, ert_evals_high), mean_evals, median_evals_to_success) =
            eval_stats(&ends, grad_cost, seed ^ id_hash);
        RaceRow {
            method: method.to_string(),
            runs: s.runs,
            success_rate: s.success_rate,
            success_rate_low,
            success_rate_high,
            reached_rate: reached as f64 / s.runs.max(1) as f64,
            ert: ert(&runtimes),
            ert_low,
            ert_high,
            ert_evals,
            ert_evals_low,
            ert_evals_high,
            mean_evals,
            median_evals_to_success,
            grad_cost,
            mean_loss: s.mean_loss,
            median_loss: s.median_loss,
            median_steps_to_success: s.median_steps_to_success,
            diverged: s.diverged,
            bad_gradient: s.bad_gradient,
            seconds,
            final_losses: ends
                .iter()
                .filter(|e| e.status != super::RunStatus::Diverged)
                .map(|e| e.loss)
                .collect(),
            lowest: Target::lowest_of(&ends),
            ends,
        }
    }
}

/// FNV-1a of a method's id: seeds its bootstrap (the same interval whatever the other methods).
pub(crate) fn id_hash(method: &str) -> u64 {
    method.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// ERT in evaluations with its interval, the mean evaluations a run cost and the median
/// evaluations to a first success, with a gradient (and its value) costing `grad_cost`.
#[allow(clippy::type_complexity)]
fn eval_stats(
    ends: &[RunEnd],
    grad_cost: u64,
    seed: u64,
) -> (Option<f64>, (Option<f64>, Option<f64>), f64, Option<f64>) {
    let in_evals: Vec<Runtime> = ends
        .iter()
        .map(|e| Runtime::in_evals(e, grad_cost))
        .collect();
    let mean =
        in_evals.iter().map(|r| r.updates as f64).sum::<f64>() / in_evals.len().max(1) as f64;
    let to_success: Vec<f64> = in_evals
        .iter()
        .filter_map(|r| r.first_success.map(|v| v as f64))
        .collect();
    (
        ert(&in_evals),
        ert_interval(&in_evals, seed),
        mean,
        median(&to_success),
    )
}

impl RaceRow {
    /// Counts the row's evaluations again with a gradient costing `grad_cost` (`--grad-cost`);
    /// needs the row's ends. `seed` is the race's.
    pub fn set_grad_cost(&mut self, grad_cost: u64, seed: u64) {
        let id_hash = id_hash(&self.method);
        let (e, (lo, hi), mean, med) = eval_stats(&self.ends, grad_cost, seed ^ id_hash);
        self.median_evals_to_success = med;
        self.ert_evals = e;
        self.ert_evals_low = lo;
        self.ert_evals_high = hi;
        self.mean_evals = mean;
        self.grad_cost = grad_cost;
    }
}

/// Races every optimizer from the same starts. An estimated minimum that some run beats is
/// lowered to the lowest loss found and the runs counted against it (see
/// [`Target::lowered_to`]): the target used is the rows' [`race_target`].
pub fn race(
    surface: &Surface,
    methods: &[Optimizer],
    starts: &[DVec2],
    steps: u64,
    seed: u64,
    target: Target,
) -> Vec<RaceRow> {
    race_with(
        surface,
        methods,
        starts,
        steps,
        seed,
        target,
        Precision::F64,
        &Progress::default(),
    )
    .unwrap_or_default()
}

/// `race` in the given precision, with progress (runs finished, over all methods) and
/// cancellation.
#[allow(clippy::too_many_arguments)]
pub fn race_with(
    surface: &Surface,
    methods: &[Optimizer],
    starts: &[DVec2],
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
    progress: &Progress,
) -> Option<Vec<RaceRow>> {
    block_on(race_paced(
        surface, methods, starts, steps, seed, target, precision, progress,
    ))
}

/// [`race_with`], pausing between slices of runs (see [`super::pace`]); a row's seconds count
/// the computing only.
#[allow(clippy::too_many_arguments)]
pub async fn race_paced(
    surface: &Surface,
    methods: &[Optimizer],
    starts: &[DVec2],
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
    progress: &Progress,
) -> Option<Vec<RaceRow>> {
    let budgeted: Vec<(Optimizer, u64)> = methods.iter().map(|o| (o.clone(), steps)).collect();
    race_budgeted_paced(
        surface,
        &budgeted,
        starts,
        seed,
        target,
        precision,
        super::GRAD_COST,
        progress,
    )
    .await
}

/// [`race_paced`] with each method's own budget: `(method, steps)` pairs, as
/// [`Optimizer::with_eval_budget`] gives them for a race on the one cost scale (every method
/// `B` evaluations), the rows' evaluations counted with a gradient costing `grad_cost`.
#[allow(clippy::too_many_arguments)]
pub async fn race_budgeted_paced(
    surface: &Surface,
    methods: &[(Optimizer, u64)],
    starts: &[DVec2],
    seed: u64,
    target: Target,
    precision: Precision,
    grad_cost: u64,
    progress: &Progress,
) -> Option<Vec<RaceRow>> {
    let once = |target| {
        race_once(
            surface, methods, starts, seed, target, precision, grad_cost, progress,
        )
    };
    let rows = once(target).await?;
    match target.lowered_to(lowest_of_rows(&rows)) {
        Some(lowered) => once(lowered).await,
        None => Some(rows),
    }
}

/// The lowest loss the rows' runs found inside the domain.
pub fn lowest_of_rows(rows: &[RaceRow]) -> f64 {
    rows.iter().map(|r| r.lowest).fold(f64::INFINITY, f64::min)
}

/// The target a race counted against: `target`, or its minimum lowered by the rows' runs
/// ([`Target::lowered_to`]).
pub fn race_target(target: Target, rows: &[RaceRow]) -> Target {
    target.lowered_to(lowest_of_rows(rows)).unwrap_or(target)
}

#[allow(clippy::too_many_arguments)]
async fn race_once(
    surface: &Surface,
    methods: &[(Optimizer, u64)],
    starts: &[DVec2],
    seed: u64,
    target: Target,
    precision: Precision,
    grad_cost: u64,
    progress: &Progress,
) -> Option<Vec<RaceRow>> {
    let mut rows = Vec::with_capacity(methods.len());
    for (opt, steps) in methods {
        let (ends, _, seconds) = batch_paced(
            surface,
            opt,
            starts,
            *steps,
            seed,
            target,
            precision,
            progress,
            &[],
        )
        .await?;
        let mut row = RaceRow::of(&opt.id, ends, target, seed, seconds);
        if row.grad_cost != grad_cost {
            row.set_grad_cost(grad_cost, seed);
        }
        rows.push(row);
    }
    Some(rows)
}
