//! Many runs at once: one optimizer from many start points, spread over every core (rayon).
//!
//! Every surface ([`crate::landscape::LaneEval`]) and every rule ([`crate::optim::LaneRule`])
//! is written once for any lane type, so runs go in lockstep groups of four (f64) or eight
//! (f32) in structure-of-arrays form, vectorized (AVX-512 or AVX2 when the CPU has it, chosen at
//! run time, see [`super::lockstep`]), allocating nothing per step. Gradient noise and Langevin's noise come
//! from one random source per lane, seeded as the run's own, so in f64 every run equals `trace`
//! from the same start bit for bit. The general engine (`run_batch_scalar`: each run through
//! the shared `step_once`) is the reference the lockstep engine is tested against. Either way
//! the result does not depend on the number of threads.

use super::lockstep::{LaneCopy, LaneJob};
use super::run::{RunState, RunStatus, step_once, step_once_trail};
use crate::landscape::{Domain, Surface};
use crate::optim::{Goal, Optimizer, Rng};
use glam::DVec2;
use rayon::prelude::*;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Success: a point inside the domain whose loss is at most `tol` above the global minimum
/// `value` (a diverged run never succeeds). One-sided: a loss below an estimated minimum is a
/// success too (and lowers the estimate, see [`Target::lowered_to`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Target {
    pub value: f64,
    pub tol: f64,
    /// Where a success may be: outside the domain a surface can go on falling (e.g. `saddle`
    /// towards −∞), and crossing the target band there is not finding the minimum.
    pub domain: Domain,
    /// The minimum was found numerically (a typed formula, a placed instance, a built-in surface
    /// on another domain than its stated one), not known in closed form.
    pub estimated: bool,
    /// The estimate was lowered by a run that went below it (see [`Target::lowered_to`]).
    pub lowered: bool,
}

impl Target {
    /// How far below an estimated minimum a run must go to lower it, relative to the minimum's
    /// magnitude (at least 1): a run ending in the estimate's own minimum differs from it by
    /// rounding only (the estimate is refined by local searches to the last digits).
    pub const ROUNDING: f64 = 1e-12;

    /// The surface's global minimum and its default tolerance.
    pub fn of(surface: &Surface) -> Self {
        let min = surface.global_minimum();
        Self {
            value: min.value,
            tol: surface.tol(),
            domain: surface.domain,
            estimated: min.estimated,
            lowered: false,
        }
    }

    /// Whether a run at `pos` with `loss` has reached the target: finite, inside the domain, and
    /// at most `tol` above the minimum.
    /// The target as the oracle watches for it (see [`crate::optim::Goal`]).
    pub fn goal(&self) -> Goal {
        Goal {
            domain: self.domain,
            value: self.value,
            tol: self.tol,
        }
    }

    pub fn reached(&self, pos: DVec2, loss: f64) -> bool {
        loss.is_finite() && loss - self.value <= self.tol && self.domain.contains(pos)
    }

    /// The precision of a loss reached inside the domain: how far above the minimum it is, 0
    /// when it is below (an estimated minimum beaten). Infinite for a non-finite loss.
    pub fn precision(&self, lowest: f64) -> f64 {
        if lowest.is_finite() {
            (lowest - self.value).max(0.0)
        } else {
            f64::INFINITY
        }
    }

    /// The target with an estimated minimum lowered to `lowest` (the lowest loss runs found
    /// inside the domain) when that is below the estimate by more than rounding
    /// ([`Target::ROUNDING`] relative, at least absolute); `None` otherwise, and always for a
    /// minimum known in closed form (where a lower value is only rounding). The runs'
    /// successes are then counted again against the lowered value (the experiments run again:
    /// a run's trajectory does not depend on the target, so the same runs are counted anew).
    pub fn lowered_to(&self, lowest: f64) -> Option<Target> {
        let rounding = Self::ROUNDING * self.value.abs().max(1.0);
        (self.estimated && lowest.is_finite() && lowest < self.value - rounding).then_some(Target {
            value: lowest,
            lowered: true,
            ..*self
        })
    }

    /// The lowest loss any of `ends` found inside the domain (infinite when none).
    pub fn lowest_of<'a>(ends: impl IntoIterator<Item = &'a RunEnd>) -> f64 {
        ends.into_iter()
            .map(|e| e.lowest)
            .fold(f64::INFINITY, f64::min)
    }

    /// How the minimum is named in outputs: `known`, `estimated`, or `estimated, lowered by a
    /// run`.
    pub fn minimum_kind(&self) -> &'static str {
        match (self.estimated, self.lowered) {
            (false, _) => "known",
            (true, false) => "estimated",
            (true, true) => "estimated, lowered by a run",
        }
    }
}

/// Refuses update budgets that are not ascending, unique and within `1..=steps`: every engine
/// checks them the same way.
pub fn check_budgets(budgets: &[u64], steps: u64) -> Result<(), String> {
    if let Some(b) = budgets.iter().find(|b| !(1..=steps).contains(*b)) {
        return Err(format!(
            "budget {b} is outside 1..={steps} (the run's updates)"
        ));
    }
    if let Some(w) = budgets.windows(2).find(|w| w[0] >= w[1]) {
        return Err(format!(
            "budgets must be ascending and unique ({} then {})",
            w[0], w[1]
        ));
    }
    Ok(())
}

/// How one run ended.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RunEnd {
    pub start: DVec2,
    pub end: DVec2,
    pub loss: f64,
    /// `Done` (all steps taken, converged or not), `Diverged` or `BadGradient`.
    pub status: RunStatus,
    /// Updates taken.
    pub steps: u64,
    /// The first update count at which the run reached the target (see [`Target::reached`]).
    pub first_success: Option<u64>,
    /// The lowest finite loss the run found inside the domain, its start included (infinite
    /// when none).
    pub lowest: f64,
    /// Distance between the end point and the position 10% of the steps (at least one)
    /// before the end: how far the run still travels at the end.
    pub recent_travel: f64,
    /// The function values and gradients asked for up to the first success (see
    /// `first_success`): its cost on the one cost scale (see [`super::cost`]).
    pub first_success_counts: Option<(u64, u64)>,
    /// Function values the run asked for (an update rule: one per update).
    pub evals: u64,
    /// Gradients the run asked for (an update rule: one per update).
    pub grads: u64,
    /// The loss that first reached the target (the start's, an update's, or the evaluation's
    /// inside a search method's iteration): a new lowest value then, what IOHprofiler's logs
    /// record at `first_success_counts`. `None` when the run never reached it.
    pub success_value: Option<f64>,
}

impl RunEnd {
    /// Ended (not diverged) at a point that reaches the target.
    pub fn succeeded(&self, target: Target) -> bool {
        self.status != RunStatus::Diverged && target.reached(self.end, self.loss)
    }
}

/// The noise seed of run `index` of a batch seeded `seed`: independent of thread scheduling.
pub fn run_seed(seed: u64, index: usize) -> u64 {
    crate::optim::rng::mix(seed, index as u64)
}

/// Progress of a batch running in the background, and a way to cancel it.
#[derive(Debug, Default)]
pub struct Progress {
    /// Runs finished so far.
    pub done: AtomicUsize,
    /// Set to stop: runs not yet started are skipped.
    pub cancel: AtomicBool,
    /// Runs per slice for a caller that steps a batch a slice at a time (the web page, see
    /// [`super::pace`]); 0: the whole batch at once.
    pub slice: AtomicUsize,
}

impl Progress {
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// The floating-point precision of a batch's arithmetic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// Double precision: every run equals `trace` bit for bit.
    #[default]
    F64,
    /// Single precision (the state, the surface and the arithmetic; results are widened back
    /// to f64): faster, and as precise as a float32 ML framework.
    F32,
}

impl Precision {
    pub fn name(self) -> &'static str {
        match self {
            Precision::F64 => "f64",
            Precision::F32 => "f32",
        }
    }
}

/// Runs `steps` updates of `optimizer` from each start (in parallel) and reports how each
/// ended. A run stops early only when it diverges.
pub fn run_batch(
    surface: &Surface,
    optimizer: &Optimizer,
    starts: &[DVec2],
    steps: u64,
    seed: u64,
    target: Target,
) -> Vec<RunEnd> {
    run_batch_with(
        surface,
        optimizer,
        starts,
        steps,
        seed,
        target,
        Precision::F64,
        &Progress::default(),
    )
    .unwrap_or_default()
}

/// `run_batch` in the given precision, counting finished runs in `progress`; `None` when it was
/// cancelled.
#[allow(clippy::too_many_arguments)]
pub fn run_batch_with(
    surface: &Surface,
    optimizer: &Optimizer,
    starts: &[DVec2],
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
    progress: &Progress,
) -> Option<Vec<RunEnd>> {
    super::pace::block_on(super::pace::batch_paced(
        surface,
        optimizer,
        starts,
        steps,
        seed,
        target,
        precision,
        progress,
        &[],
    ))
    .map(|(ends, _, _)| ends)
}

/// What a batch with budgets returns: the ends, and the best precisions at the budgets (`None`:
/// cancelled).
pub type Anytime = Option<(Vec<RunEnd>, Vec<f64>)>;

/// `run_batch_with` that also keeps, for every run and every update count in `budgets`
/// (ascending, unique, from 1 to `steps`: anything else is refused, see [`check_budgets`]), the
/// best precision reached so far: [`Target::precision`] of the lowest finite loss found inside
/// the domain over the start and the updates up to that count (while the run had not been cut
/// short). Row-major: `best[run * budgets.len() + b]`. A run has reached the target at some
/// update up to `budgets[b]` exactly when that value is at most the tolerance (the ECDFs are
/// counted from it). A method that asks for evaluations under an evaluation budget
/// ([`Optimizer::with_eval_budget`]; `steps` is then that budget) counts `budgets` in
/// evaluations instead: the lowest value among the evaluations each budget pays for.
#[allow(clippy::too_many_arguments)]
pub fn run_batch_anytime(
    surface: &Surface,
    optimizer: &Optimizer,
    starts: &[DVec2],
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
    progress: &Progress,
    budgets: &[u64],
) -> Result<Anytime, String> {
    check_budgets(budgets, steps)?;
    Ok(super::pace::block_on(super::pace::batch_paced(
        surface, optimizer, starts, steps, seed, target, precision, progress, budgets,
    ))
    .map(|(ends, best, _)| (ends, best)))
}

/// Runs `first..first + starts.len()` of a batch (`starts` are those runs' start points): the
/// same ends as the same runs of [`run_batch_with`] over the whole batch, bit for bit (each
/// run's noise is seeded by its index in the whole batch), so a batch split into shards, run
/// anywhere and put back in index order equals the batch run at once (`optiscape.distributed`
/// in Python).
#[allow(clippy::too_many_arguments)]
pub fn run_shard(
    surface: &Surface,
    optimizer: &Optimizer,
    starts: &[DVec2],
    first: usize,
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
    progress: &Progress,
) -> Option<Vec<RunEnd>> {
    run_lanes(
        LaneCopy::chosen(),
        surface,
        optimizer,
        starts,
        first,
        steps,
        seed,
        target,
        precision,
        progress,
        &[],
    )
    .map(|(ends, _)| ends)
}

/// [`run_batch_with`] in the copy `copy` of the engine (at most what the CPU runs: a higher
/// one runs the best it has), whatever `OPTISCAPE_LANES` says: the tests compare every copy.
#[allow(clippy::too_many_arguments)]
pub fn run_batch_on(
    copy: LaneCopy,
    surface: &Surface,
    optimizer: &Optimizer,
    starts: &[DVec2],
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
) -> Option<Vec<RunEnd>> {
    let progress = Progress::default();
    run_lanes(
        copy,
        surface,
        optimizer,
        starts,
        0,
        steps,
        seed,
        target,
        precision,
        &progress,
        &[],
    )
    .map(|(ends, _)| ends)
}

/// The lockstep engine on `starts`, the runs `first..` of their batch, in the copy `copy` (at
/// most what the CPU runs; callers pass [`LaneCopy::chosen`] unless a test forces one).
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_lanes(
    copy: LaneCopy,
    surface: &Surface,
    optimizer: &Optimizer,
    starts: &[DVec2],
    first: usize,
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
    progress: &Progress,
    budgets: &[u64],
) -> Option<(Vec<RunEnd>, Vec<f64>)> {
    let copy = copy.min(LaneCopy::detected());
    if copy == LaneCopy::General || optimizer.is_search() || optimizer.budget.is_some() {
        // A method that asks for evaluations has no lockstep form: the general engine runs it.
        // The same runs (each seeded by its index in the batch), one at a time, in f64. Under
        // an evaluation budget its `budgets` count evaluations (`steps` is then that budget).
        let in_evals = optimizer.is_search() && optimizer.budget.is_some();
        return scalar_from(
            surface, optimizer, starts, first, steps, seed, target, progress, budgets, in_evals,
        );
    }
    let job = LaneJob {
        surface,
        domain: surface.domain,
        clip: optimizer.clip,
        noise: optimizer.noise,
        starts,
        steps,
        seed,
        target,
        precision,
        progress,
        budgets,
        first_index: first,
        copy,
    };
    optimizer.rule.visit_lanes(job)
}

/// The general engine: each run on its own, through `step_once` (also the reference the
/// lockstep engine is tested against).
#[allow(clippy::too_many_arguments)]
pub fn run_batch_scalar(
    surface: &Surface,
    optimizer: &Optimizer,
    starts: &[DVec2],
    steps: u64,
    seed: u64,
    target: Target,
    progress: &Progress,
) -> Option<Vec<RunEnd>> {
    scalar_from(
        surface,
        optimizer,
        starts,
        0,
        steps,
        seed,
        target,
        progress,
        &[],
        false,
    )
    .map(|(ends, _)| ends)
}

/// [`run_batch_scalar`] with [`run_batch_anytime`]'s best precision at `budgets` (refused
/// unless ascending, unique and in `1..=steps`, as there).
#[allow(clippy::too_many_arguments)]
pub fn run_batch_scalar_anytime(
    surface: &Surface,
    optimizer: &Optimizer,
    starts: &[DVec2],
    steps: u64,
    seed: u64,
    target: Target,
    progress: &Progress,
    budgets: &[u64],
) -> Result<Anytime, String> {
    check_budgets(budgets, steps)?;
    let in_evals = optimizer.is_search() && optimizer.budget.is_some();
    Ok(scalar_from(
        surface, optimizer, starts, 0, steps, seed, target, progress, budgets, in_evals,
    ))
}

/// [`run_batch_scalar_anytime`] on `starts`, the runs `first..` of their batch. With
/// `in_evals` (a method that asks for evaluations, under its evaluation budget) `budgets`
/// count evaluations on the one cost scale, and each run's best precision at a budget is that
/// of the evaluations that budget pays for, evaluation by evaluation (nothing before the
/// first: the method evaluates its start itself).
#[allow(clippy::too_many_arguments)]
fn scalar_from(
    surface: &Surface,
    optimizer: &Optimizer,
    starts: &[DVec2],
    first: usize,
    steps: u64,
    seed: u64,
    target: Target,
    progress: &Progress,
    budgets: &[u64],
    in_evals: bool,
) -> Option<(Vec<RunEnd>, Vec<f64>)> {
    let ends: Vec<Option<(RunEnd, Vec<f64>)>> = starts
        .par_iter()
        .enumerate()
        .map(|(i, &start)| {
            if progress.cancelled() {
                return None;
            }
            let mut opt = optimizer.clone().with_seed(run_seed(seed, first + i));
            opt.reset();
            let mut state = RunState::start(surface, start);
            state.goal = Some(target.goal());
            let mut first_success = target.reached(state.pos, state.loss).then_some(0);
            let mut first_success_counts = first_success.map(|_| (0, 0));
            let mut success_value = first_success.map(|_| state.loss);
            let window = (steps / 10).max(1);
            let mut before_end = start;
            // The lowest finite loss inside the domain so far.
            // The run's answer so far (the best point found, for a method that asks for
            // evaluations), and whether it is a finite loss inside the domain.
            let inside = |s: &RunState| {
                let (p, l) = s.answer();
                l.is_finite() && target.domain.contains(p)
            };
            let mut lowest = if inside(&state) {
                state.loss
            } else {
                f64::INFINITY
            };
            let mut bests = vec![target.precision(lowest); budgets.len()];
            let mut next = 0;
            // In evaluations: the lowest value the evaluations paid for so far have found.
            let mut paid_lowest = f64::INFINITY;
            let mut trail = Vec::new();
            if state.status == RunStatus::Running {
                for s in 0..steps {
                    if state.out_of_budget || opt.spent(state.evals, state.grads) {
                        break;
                    }
                    if s + window == steps {
                        before_end = state.pos;
                    }
                    let status = if in_evals {
                        step_once_trail(surface, &mut opt, &mut state, &mut trail)
                    } else {
                        step_once(surface, &mut opt, &mut state)
                    };
                    let (at, loss) = state.answer();
                    if first_success.is_none()
                        && (state.reached.is_some() || target.reached(at, loss))
                    {
                        first_success = Some(state.steps);
                        // A method that asks for evaluations: the counts at the evaluation that
                        // reached the target (inside its iteration); an update rule: this update.
                        first_success_counts = state.reached.or(Some((state.evals, state.grads)));
                        success_value = Some(match state.reached {
                            Some(_) => state.reached_value,
                            None => loss,
                        });
                    }
                    if in_evals {
                        for &(cost, v) in &trail {
                            while next < budgets.len() && budgets[next] < cost {
                                bests[next] = target.precision(paid_lowest);
                                next += 1;
                            }
                            paid_lowest = paid_lowest.min(v);
                        }
                    }
                    if inside(&state) {
                        lowest = lowest.min(loss);
                    }
                    while !in_evals && next < budgets.len() && budgets[next] == s + 1 {
                        bests[next] = target.precision(lowest);
                        next += 1;
                    }
                    if status.cut_short() {
                        break;
                    }
                    // A method whose own stopping test holds takes no more evaluations: its
                    // later steps would repeat this one.
                    if status == RunStatus::Converged && opt.is_search() {
                        break;
                    }
                }
            }
            let last = if in_evals { paid_lowest } else { lowest };
            for b in &mut bests[next..] {
                *b = target.precision(last);
            }
            progress.done.fetch_add(1, Ordering::Relaxed);
            let (end_pos, end_loss) = state.answer();
            let end = RunEnd {
                start,
                end: end_pos,
                loss: end_loss,
                status: if state.status.cut_short() {
                    state.status
                } else {
                    RunStatus::Done
                },
                steps: state.steps,
                first_success,
                first_success_counts,
                lowest,
                recent_travel: state.pos.distance(before_end),
                evals: state.evals,
                grads: state.grads,
                success_value,
            };
            Some((end, bests))
        })
        .collect();
    if progress.cancelled() {
        return None;
    }
    let mut out = Vec::with_capacity(ends.len());
    let mut best = Vec::with_capacity(ends.len() * budgets.len());
    for e in ends {
        let (end, b) = e?;
        out.push(end);
        best.extend(b);
    }
    Some((out, best))
}

/// `k` start points uniform over `region`, from the seeded source.
pub fn uniform_starts(region: crate::landscape::Domain, k: usize, seed: u64) -> Vec<DVec2> {
    random_points(&mut Rng::new(seed), region, k)
}

/// `k` points uniform over `region`, drawn from `rng` (x then y for each point): the lab's
/// starts and the sandbox's random starts.
pub fn random_points(rng: &mut Rng, region: crate::landscape::Domain, k: usize) -> Vec<DVec2> {
    (0..k)
        .map(|_| {
            let u = rng.uniform();
            let v = rng.uniform();
            region.lerp(u, v)
        })
        .collect()
}

/// The lockstep engine's test matrix, shared with `tests/lab.rs`.
#[cfg(test)]
#[path = "../../tests/matrix/mod.rs"]
mod matrix;

#[cfg(test)]
mod tests {
    /// Every copy of the lockstep engine's code this CPU runs against single runs, over every
    /// method and every surface, bit for bit.
    #[test]
    fn every_copy_of_the_lanes_equals_single_runs_bit_for_bit() {
        for copy in super::matrix::copies_here() {
            super::matrix::lockstep_equals_single_runs(copy);
        }
    }

    /// The engine report says the code and the precision actually used: f32 beyond 2^24 updates
    /// runs in f64; formulas take four f64 lanes and f32 eight, in the AVX2 copy under AVX-512;
    /// compiled surfaces eight f64 lanes under AVX-512, four elsewhere; the general engine f64.
    #[test]
    fn the_engine_report_names_the_code_and_precision_actually_used() {
        use super::*;
        use crate::lab::{engine_on, engine_summary};
        let s = Surface::by_id("rastrigin").expect("built in");
        let f = Surface::formula("x^2 + y^2", None).expect("a formula");
        let best = LaneCopy::detected();
        for copy in [LaneCopy::Baseline, LaneCopy::Avx2, LaneCopy::Avx512] {
            let here = copy.min(best);
            let narrow = here.min(LaneCopy::Avx2).name();
            let e = engine_on(copy, &s, Precision::F32, 1000);
            assert_eq!(
                (e.engine, e.lanes, e.precision),
                (narrow, 8, Precision::F32)
            );
            let e = engine_on(copy, &s, Precision::F32, (1 << 24) + 1);
            assert_eq!(e.precision, Precision::F64);
            let e = engine_on(copy, &f, Precision::F64, 10);
            assert_eq!((e.engine, e.lanes), (narrow, 4));
            let e = engine_on(copy, &s, Precision::F64, 10);
            let lanes = if here == LaneCopy::Avx512 { 8 } else { 4 };
            assert_eq!((e.engine, e.lanes), (here.name(), lanes));
        }
        let e = engine_on(LaneCopy::General, &s, Precision::F32, 10);
        assert_eq!(
            (e.engine, e.lanes, e.precision),
            ("general", 1, Precision::F64)
        );
        assert!(engine_summary().starts_with(LaneCopy::chosen().name()));
        assert_eq!(LaneCopy::by_name("avx2"), Some(LaneCopy::Avx2));
        assert_eq!(LaneCopy::by_name("sse"), None);
    }

    /// The general engine on a part of a batch (where a build with the AVX2 copy alone runs on
    /// a CPU without AVX2) seeds each run by its index in the whole batch, as the lanes do.
    #[test]
    fn the_general_engine_on_a_shard_equals_the_same_runs_of_the_batch() {
        use super::*;
        let s = Surface::by_id("rastrigin").expect("built in");
        let o = Optimizer::by_id("langevin").expect("a rule");
        let starts = uniform_starts(s.domain, 40, 2);
        let (t, p, budgets) = (Target::of(&s), Progress::default(), [5, 30]);
        let whole = scalar_from(&s, &o, &starts, 0, 30, 4, t, &p, &budgets, false).expect("runs");
        let part =
            scalar_from(&s, &o, &starts[13..29], 13, 30, 4, t, &p, &budgets, false).expect("runs");
        let lanes = run_lanes(
            LaneCopy::chosen(),
            &s,
            &o,
            &starts[13..29],
            13,
            30,
            4,
            t,
            Precision::F64,
            &p,
            &budgets,
        )
        .expect("runs");
        assert_eq!(part.0, whole.0[13..29]);
        assert_eq!(part.1, whole.1[13 * 2..29 * 2]);
        assert_eq!(part, lanes);
    }
}
