//! Many runs at once: one optimizer from many start points, spread over every core (rayon).
//!
//! Every surface ([`crate::landscape::LaneEval`]) and every rule ([`crate::optim::LaneRule`])
//! is written once for any lane type, so runs go in lockstep groups of four (f64) or eight
//! (f32) in structure-of-arrays form, vectorized (AVX2 when the CPU that built the crate has
//! it, see `build.rs`), allocating nothing per step. Gradient noise and Langevin's noise come
//! from one random source per lane, seeded as the run's own, so in f64 every run equals `trace`
//! from the same start bit for bit. The general engine (`run_batch_scalar`: each run through
//! the shared `step_once`) is the reference the lockstep engine is tested against. Either way
//! the result does not depend on the number of threads.

use super::run::{RunState, RunStatus, step_once, step_once_trail};
use crate::landscape::{Domain, LaneEval, LaneSurfaceVisitor, Surface};
#[cfg(all(optiscape_avx512, not(test)))]
use crate::lanes::F64x8;
use crate::lanes::{F32x8, F64x4, Mask, Real, V2};

/// The lanes of f64 runs on compiled surfaces: eight under AVX-512 (`optiscape_avx512`, see
/// `build.rs`), four otherwise.
#[cfg(all(optiscape_avx512, not(test)))]
type WideF64 = F64x8;
#[cfg(not(all(optiscape_avx512, not(test))))]
type WideF64 = F64x4;
use crate::optim::transforms::{add_noise_lanes, clip_by_norm_lanes};
use crate::optim::{Goal, LaneRule, LaneVisitor, Optimizer, Rng};
use glam::DVec2;
use rayon::prelude::*;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering, compiler_fence};

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
}

impl RunEnd {
    /// Ended (not diverged) at a point that reaches the target.
    pub fn succeeded(&self, target: Target) -> bool {
        self.status != RunStatus::Diverged && target.reached(self.end, self.loss)
    }
}

/// The noise seed of run `index` of a batch seeded `seed`: independent of thread scheduling.
pub fn run_seed(seed: u64, index: usize) -> u64 {
    let mut r = Rng::new(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    r.next_u64()
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

/// The lockstep engine on `starts`, the runs `first..` of their batch.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_lanes(
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
    if !lanes_run_here() || optimizer.is_search() || optimizer.budget.is_some() {
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

/// A batch for the lockstep engine.
struct LaneJob<'a> {
    surface: &'a Surface,
    domain: Domain,
    clip: f64,
    noise: f64,
    starts: &'a [DVec2],
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
    progress: &'a Progress,
    /// Update counts at which each run's best precision so far is kept (ascending).
    budgets: &'a [u64],
    /// The run index of `starts[0]` (seeds follow the run's index in the whole batch).
    first_index: usize,
}

/// What a batch with budgets returns: the ends, and the best precisions at the budgets (`None`:
/// cancelled).
pub type Anytime = Option<(Vec<RunEnd>, Vec<f64>)>;

impl LaneVisitor for LaneJob<'_> {
    type Out = Anytime;
    fn visit<U: LaneRule + Sync>(self, rule: &U) -> Anytime {
        self.surface.visit_lanes(WithRule { job: &self, rule })
    }
}

/// A lockstep batch with its rule, to be given its surface's own type.
struct WithRule<'a, U> {
    job: &'a LaneJob<'a>,
    rule: &'a U,
}

impl<U: LaneRule + Sync> LaneSurfaceVisitor for WithRule<'_, U> {
    type Out = Anytime;
    fn visit<S: LaneEval>(self, surface: S) -> Anytime {
        // Step counts are kept in the lanes' own type: f32 counts exactly up to 2^24.
        match self.job.precision {
            Precision::F32 if self.job.steps <= 1 << 24 => {
                self.job.run::<F32x8, U, S>(self.rule, surface)
            }
            // A formula's interpreter keeps dual numbers of every block's lanes: eight-lane ones
            // do not stay in registers (2-4x slower on a Zen 4, no faster on a Sapphire Rapids
            // Xeon: docs/benchmarks.md), so formulas keep four.
            _ if S::BLOCKWISE => self.job.run::<F64x4, U, S>(self.rule, surface),
            _ => self.job.run::<WideF64, U, S>(self.rule, surface),
        }
    }
}

/// Steps whose shared values (bias corrections...) are tabulated before a lockstep batch.
const SHARED_TABLE: u64 = 1 << 16;

/// A run's end before the lockstep engine fills it in.
const UNSET: RunEnd = RunEnd {
    start: DVec2::ZERO,
    end: DVec2::ZERO,
    loss: f64::NAN,
    status: RunStatus::Done,
    steps: 0,
    first_success: None,
    first_success_counts: None,
    lowest: f64::INFINITY,
    recent_travel: 0.0,
    evals: 0,
    grads: 0,
};

/// Lane groups advanced together, one step at a time: independent work for the CPU to overlap
/// (one group alone is a chain of dependent operations that waits on every square root).
const GROUPS_PER_BLOCK: usize = 32;

/// Most lanes of any lane type.
const MAX_LANES: usize = 8;

/// One lockstep group: `R::LANES` runs.
///
/// Every lane is stepped at every step, finished or not (no branch per lane); a finished
/// lane's own end is kept apart (`end`, `end_loss`, `taken`), written only at the step it
/// finishes, so that the values written back at every step are only those that change: the
/// position, the loss, the gradient and the rule's state.
#[derive(Clone, Copy)]
struct Group<R: Real, St> {
    p: V2<R>,
    loss: R,
    grad: V2<R>,
    /// The position 10% of the steps before the end (see `RunEnd::recent_travel`).
    before: V2<R>,
    alive: R::Mask,
    /// Lanes that ended on a gradient that is not finite at a finite loss (`BadGradient`).
    bad: R::Mask,
    success: R::Mask,
    /// Update count of the first success (-1: none yet).
    first: R,
    /// The lowest finite loss inside the domain so far (see `RunEnd::lowest`).
    low: R,
    /// A finished lane's end point, loss and update count (the start's until it finishes).
    end: V2<R>,
    end_loss: R,
    taken: R,
    state: St,
    /// Each lane's random source, seeded as its run's own (`run_seed`).
    rngs: [Rng; MAX_LANES],
}

impl LaneJob<'_> {
    fn run<R: Real, U: LaneRule + Sync, S: LaneEval>(&self, rule: &U, surface: S) -> Anytime {
        // What every run shares at each step, computed once, in order (up to a bound on memory).
        let mut shared: Vec<U::Shared> = Vec::new();
        for t in 1..=self.steps.min(SHARED_TABLE) {
            let k = rule.shared(t, shared.last().copied());
            shared.push(k);
        }
        let shared = &shared[..];
        let block = R::LANES * GROUPS_PER_BLOCK;
        // Filled in parallel: the pages of a large result are touched by both cores.
        let mut ends = Vec::new();
        (0..self.starts.len())
            .into_par_iter()
            .map(|_| UNSET)
            .collect_into_vec(&mut ends);
        let nb = self.budgets.len();
        let mut best = vec![0.0; self.starts.len() * nb];
        // With no budgets, `best` is empty: each block gets an empty slice.
        let best_chunks: Vec<&mut [f64]> = if nb == 0 {
            (0..self.starts.len().div_ceil(block))
                .map(|_| <&mut [f64]>::default())
                .collect()
        } else {
            best.chunks_mut(block * nb).collect()
        };
        self.starts
            .par_chunks(block)
            .zip(ends.par_chunks_mut(block))
            .zip(best_chunks.into_par_iter())
            .enumerate()
            .for_each(|(b, ((starts, out), best))| {
                if self.progress.cancelled() {
                    return;
                }
                let first = self.first_index + b * block;
                self.block_here::<R, U, S>(rule, surface, shared, first, starts, out, best);
                self.progress
                    .done
                    .fetch_add(starts.len(), Ordering::Relaxed);
            });
        (!self.progress.cancelled()).then_some((ends, best))
    }

    /// The build's compiled copy of [`Self::block`] for the lane type `R` (see `build.rs`).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn block_here<R: Real, U: LaneRule, S: LaneEval>(
        &self,
        rule: &U,
        surface: S,
        shared: &[U::Shared],
        first: usize,
        starts: &[DVec2],
        out: &mut [RunEnd],
        best: &mut [f64],
    ) {
        // SAFETY (both): `run_lanes` came here only after `lanes_run_here` found the CPU
        // features this build's copies were compiled for.
        #[cfg(all(optiscape_avx512, not(test)))]
        if const { size_of::<R>() == 64 } {
            // Eight f64 lanes, one 512-bit register each (the branch is resolved per lane type
            // at compile time: each instance has one copy).
            unsafe {
                self.block_avx512::<R, U, S>(rule, surface, shared, first, starts, out, best)
            };
            return;
        }
        #[cfg(all(optiscape_avx2, not(test)))]
        unsafe {
            self.block_avx2::<R, U, S>(rule, surface, shared, first, starts, out, best)
        };
        #[cfg(not(all(optiscape_avx2, not(test))))]
        self.block::<R, U, S>(rule, surface, shared, first, starts, out, best);
    }

    /// [`Self::block`] compiled for AVX-512 (F, DQ, VL, BW), for eight f64 lanes
    /// ([`WideF64`]): a build made on a CPU with AVX-512 (`optiscape_avx512`) runs f64 batches on
    /// compiled surfaces here. Only the eight-lane type: with four-lane or f32 types in a block
    /// compiled for AVX-512, LLVM joins pairs of groups into 512-bit registers and shuffles them
    /// (measured 1.3-3x slower), so those keep [`Self::block_avx2`]. Run only after
    /// `lanes_run_here`.
    #[cfg(all(optiscape_avx512, not(test)))]
    #[target_feature(enable = "avx,avx2,avx512f,avx512dq,avx512vl,avx512bw")]
    #[allow(clippy::too_many_arguments)]
    fn block_avx512<R: Real, U: LaneRule, S: LaneEval>(
        &self,
        rule: &U,
        surface: S,
        shared: &[U::Shared],
        first: usize,
        starts: &[DVec2],
        out: &mut [RunEnd],
        best: &mut [f64],
    ) {
        self.block::<R, U, S>(rule, surface, shared, first, starts, out, best)
    }

    /// [`Self::block`] compiled for AVX2 (eight f32 or four f64 lanes per instruction; AVX2's
    /// 256-bit integer operations also serve the lane masks): the build's copy of the block when
    /// it is built on a CPU with AVX2 (`optiscape_avx2`, see `build.rs`), for every lane type
    /// but [`WideF64`]'s eight f64 lanes under AVX-512; each copy is about five hundred
    /// instances, minutes of compiling. Run only after `lanes_run_here`.
    ///
    /// The core's unit-test build (`cfg(test)`) has the baseline copy instead, the one a build
    /// on any other machine has, and tests it against single runs over the whole matrix
    /// (`tests::baseline_lanes_equal_single_runs_bit_for_bit`); the integration tests (`tests/`)
    /// link the library as users get it.
    #[cfg(all(optiscape_avx2, not(test)))]
    #[target_feature(enable = "avx,avx2")]
    #[allow(clippy::too_many_arguments)]
    fn block_avx2<R: Real, U: LaneRule, S: LaneEval>(
        &self,
        rule: &U,
        surface: S,
        shared: &[U::Shared],
        first: usize,
        starts: &[DVec2],
        out: &mut [RunEnd],
        best: &mut [f64],
    ) {
        self.block::<R, U, S>(rule, surface, shared, first, starts, out, best)
    }

    /// Up to `GROUPS_PER_BLOCK` groups of `R::LANES` runs in lockstep (`first` is the index of
    /// the first run in the batch). Each lane follows `run_batch_scalar`'s run exactly: a lane
    /// that diverges has its last position, loss and step count kept apart (see [`Group`]) while
    /// every lane goes on being stepped.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn block<R: Real, U: LaneRule, S: LaneEval>(
        &self,
        rule: &U,
        surface: S,
        shared: &[U::Shared],
        first: usize,
        starts: &[DVec2],
        out: &mut [RunEnd],
        best_out: &mut [f64],
    ) {
        let c = R::splat;
        // A local copy: its fields are then known not to change, and stay in registers.
        let rule = rule.clone();
        let target = self.target;
        // Success is decided in f64 on the loss as the lanes computed it (widened): the lanes'
        // own test, with a margin for the rounding of f32, only picks the lanes to check.
        let slack = (target.value.abs() + target.tol) * 1e-6;
        let (tv, tol) = (c(target.value), c(target.tol + slack));
        let confirm = |cand: R::Mask, loss: R| -> R::Mask {
            let ok = R::from_fn(|i| {
                let hit = cand.test(i) && loss.lane(i) - target.value <= target.tol;
                if hit { 1.0 } else { 0.0 }
            });
            c(0.5).lt(ok)
        };
        let d = self.domain;
        let (w, h) = (d.width(), d.height());
        let (x_lo, x_hi, y_lo, y_hi) = (c(d.x0 - w), c(d.x1 + w), c(d.y0 - h), c(d.y1 + h));
        let (dx0, dx1, dy0, dy1) = (c(d.x0), c(d.x1), c(d.y0), c(d.y1));
        let (clip, noise) = (self.clip, self.noise);
        let mut scratch = Vec::new();
        let mut groups: Vec<Group<R, U::State<R>>> = starts
            .chunks(R::LANES)
            .enumerate()
            .map(|(gi, starts)| {
                // Spare lanes repeat the last start; their results are dropped.
                let at = |i: usize| i.min(starts.len() - 1);
                let p = V2::new(
                    R::from_fn(|i| starts[at(i)].x),
                    R::from_fn(|i| starts[at(i)].y),
                );
                let index = |i: usize| first + gi * R::LANES + at(i);
                let rngs = std::array::from_fn(|i| Rng::new(run_seed(self.seed, index(i))));
                let (loss, grad) = surface.eval(p);
                let finite = p.x.is_finite() & p.y.is_finite() & loss.is_finite();
                let grad_finite = grad.x.is_finite() & grad.y.is_finite();
                let inside = p.x.ge(dx0) & p.x.le(dx1) & p.y.ge(dy0) & p.y.le(dy1);
                let counted = finite & inside;
                let success = confirm(counted & (loss - tv).le(tol), loss);
                Group {
                    p,
                    loss,
                    grad,
                    before: p,
                    alive: finite & grad_finite,
                    bad: finite & !grad_finite,
                    success,
                    first: R::select(success, c(0.0), c(-1.0)),
                    low: R::select(counted, loss, c(f64::INFINITY)),
                    end: p,
                    end_loss: loss,
                    taken: c(0.0),
                    state: rule.fresh::<R>(),
                    rngs,
                }
            })
            .collect();
        let n = groups.len();
        let window = (self.steps / 10).max(1);
        let mut k = shared.first().copied();
        let mut at = [V2::splat(0.0); GROUPS_PER_BLOCK];
        let mut evals = [(c(0.0), V2::splat(0.0)); GROUPS_PER_BLOCK];
        let budgets = self.budgets;
        let nb = budgets.len();
        // The lowest loss so far at each budget (ECDFs).
        let mut bests: Vec<R> = vec![c(f64::INFINITY); n * nb];
        let mut next_budget = 0;
        // Where a group has landed after `$done` updates (`g.p`, `g.loss`, `g.grad`: every lane
        // moves on): a lane that leaves the domain's surroundings or meets a non-finite loss or
        // gradient finishes there, and its end is kept; a lane may reach the target. Both are
        // rare: at most steps, one test of the group's lanes is all they cost. (Macros, not closures: a
        // closure is its own function, compiled without the AVX2 of `block_avx2`.)
        macro_rules! land {
            ($g:expr, $done:expr) => {{
                let g: &mut Group<R, U::State<R>> = $g;
                let done: R = $done;
                let (np, nl) = (g.p, g.loss);
                let alive = g.alive;
                // Not finite, or far outside the domain (`Domain::far_outside`): a NaN
                // coordinate fails every comparison, so it is never "near".
                let near = np.x.ge(x_lo) & np.x.le(x_hi) & np.y.ge(y_lo) & np.y.le(y_hi);
                let finite = nl.is_finite();
                let grad_finite = g.grad.x.is_finite() & g.grad.y.is_finite();
                let inside = np.x.ge(dx0) & np.x.le(dx1) & np.y.ge(dy0) & np.y.le(dy1);
                let counted = alive & finite & inside;
                g.low = R::select(counted, g.low.min(nl), g.low);
                let ending = alive & !(near & finite & grad_finite);
                let candidates = counted & !g.success & (nl - tv).le(tol);
                if (ending | candidates).any() {
                    let newly = confirm(candidates, nl);
                    g.first = R::select(newly, done, g.first);
                    g.success = g.success | newly;
                    g.bad = g.bad | (ending & near & finite);
                    g.end = V2::select(ending, np, g.end);
                    g.end_loss = R::select(ending, nl, g.end_loss);
                    g.taken = R::select(ending, done, g.taken);
                    g.alive = alive & !ending;
                }
            }};
        }
        // Each step, for compiled surfaces: every group's landing from the step before and its
        // update (one loop), then every group's evaluation of the surface (a second loop: the
        // CPU overlaps the updates' divisions and square roots, and the evaluations, of many
        // groups at a time); the last step's landing follows the loop. For a formula: every
        // group's update, the surface evaluated for all of them at once, every group's landing.
        for s in 0..self.steps {
            let ks = match shared.get(s as usize) {
                Some(v) => *v,
                None => rule.shared(s + 1, k),
            };
            k = Some(ks);
            let snapshot = s + window == self.steps;
            // The update of one group (clip, noise, the rule), after the lanes that finished are
            // known: `before` is each lane's position 10% of the steps before the end.
            macro_rules! step {
                ($g:expr) => {{
                    let g: &mut Group<R, U::State<R>> = $g;
                    if snapshot {
                        g.before = V2::select(g.alive, g.p, g.before);
                    }
                    let rngs = &mut g.rngs[..R::LANES.min(MAX_LANES)];
                    let grad = clip_by_norm_lanes(g.grad, clip);
                    let grad = add_noise_lanes(grad, noise, rngs);
                    g.p = g.p + rule.update(ks, &mut g.state, g.p, grad, rngs);
                }};
            }
            // How many updates have landed when this step's loops are done.
            let landed = if S::BLOCKWISE {
                for (i, g) in groups.iter_mut().enumerate() {
                    step!(g);
                    // Finished lanes are evaluated at the origin, harmlessly.
                    at[i] = V2::select(g.alive, g.p, V2::splat(0.0));
                }
                surface.eval_block(&at[..n], &mut evals[..n], &mut scratch);
                let done = c((s + 1) as f64);
                for (g, e) in groups.iter_mut().zip(&evals[..n]) {
                    (g.loss, g.grad) = *e;
                    land!(g, done);
                }
                s + 1
            } else {
                let done = c(s as f64);
                for g in groups.iter_mut() {
                    // The landing of the step before (none before the first).
                    if s > 0 {
                        land!(&mut *g, done);
                    }
                    step!(g);
                }
                for g in groups.iter_mut() {
                    (g.loss, g.grad) = surface.eval(V2::select(g.alive, g.p, V2::splat(0.0)));
                    // Keeps the compiler from vectorizing this loop across groups (it would
                    // transpose lanes in and out of registers: slower than the lanes as they are).
                    compiler_fence(Ordering::SeqCst);
                }
                s
            };
            // The best precision after `landed` updates is final once they have landed.
            if landed > 0 && next_budget < nb && budgets[next_budget] == landed {
                for (gi, g) in groups.iter().enumerate() {
                    bests[gi * nb + next_budget] = g.low;
                }
                next_budget += 1;
            }
        }
        if !S::BLOCKWISE && self.steps > 0 {
            let done = c(self.steps as f64);
            for g in groups.iter_mut() {
                land!(g, done);
            }
            if next_budget < nb && budgets[next_budget] == self.steps {
                for (gi, g) in groups.iter().enumerate() {
                    bests[gi * nb + next_budget] = g.low;
                }
            }
        }
        for (g, out) in groups.iter().zip(out.chunks_mut(R::LANES)) {
            for (i, o) in out.iter_mut().enumerate() {
                let done = g.alive.test(i);
                let (end, loss, steps) = if done {
                    (g.p.lane(i), g.loss.lane(i), self.steps)
                } else {
                    (g.end.lane(i), g.end_loss.lane(i), g.taken.lane(i) as u64)
                };
                let first = g.first.lane(i);
                *o = RunEnd {
                    start: starts[0],
                    end,
                    loss,
                    status: if done {
                        RunStatus::Done
                    } else if g.bad.test(i) {
                        RunStatus::BadGradient
                    } else {
                        RunStatus::Diverged
                    },
                    steps,
                    first_success: (first >= 0.0).then_some(first as u64),
                    first_success_counts: (first >= 0.0).then_some((first as u64, first as u64)),
                    lowest: g.low.lane(i),
                    recent_travel: end.distance(g.before.lane(i)),
                    evals: steps,
                    grads: steps,
                };
            }
        }
        for (o, start) in out.iter_mut().zip(starts) {
            o.start = *start;
        }
        for (run, row) in best_out
            .chunks_mut(nb.max(1))
            .enumerate()
            .take(starts.len())
        {
            let (gi, lane) = (run / R::LANES, run % R::LANES);
            for (b, v) in row.iter_mut().enumerate() {
                *v = target.precision(bests[gi * nb + b].lane(lane));
            }
        }
    }
}

/// Whether this CPU runs this build's lane blocks: always for the baseline copy; for the AVX2
/// copy (`LaneJob::block_avx2`), when the CPU runs AVX and AVX2; with the AVX-512 copy beside it
/// (`LaneJob::block_avx512`), when it also runs AVX-512 F, DQ, VL and BW (checked once; the
/// answer is cached by the standard library). A build made on a CPU with these features and run
/// on one without takes the general engine.
fn lanes_run_here() -> bool {
    #[cfg(all(optiscape_avx512, not(test)))]
    {
        std::arch::is_x86_feature_detected!("avx")
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512bw")
    }
    #[cfg(all(optiscape_avx2, not(optiscape_avx512), not(test)))]
    {
        std::arch::is_x86_feature_detected!("avx") && std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(all(optiscape_avx2, not(test))))]
    {
        true
    }
}

/// How this build runs a batch on this CPU: which copy of the lockstep block (`avx512`, `avx2`,
/// `baseline`) or the `general` engine (one run at a time), with how many lanes, and the
/// precision the arithmetic is actually done in (f32 asked for runs in f64 where the lanes do
/// not run, and beyond 2^24 updates, where f32 cannot count them). Every lab output names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Engine {
    pub engine: &'static str,
    pub lanes: usize,
    pub precision: Precision,
}

/// The engine a batch of `steps` updates on `surface` in `precision` takes here (see
/// [`Engine`]).
pub fn engine_for(surface: &Surface, precision: Precision, steps: u64) -> Engine {
    if !lanes_run_here() {
        return Engine {
            engine: "general",
            lanes: 1,
            precision: Precision::F64,
        };
    }
    let copy = if cfg!(all(optiscape_avx512, not(test))) {
        "avx512"
    } else if cfg!(all(optiscape_avx2, not(test))) {
        "avx2"
    } else {
        "baseline"
    };
    let blockwise = surface.as_formula().is_some();
    let (lanes, precision) = match precision {
        Precision::F32 if steps <= 1 << 24 => (F32x8::LANES, Precision::F32),
        _ if blockwise => (F64x4::LANES, Precision::F64),
        _ => (WideF64::LANES, Precision::F64),
    };
    // Formulas and f32 take the AVX2 copy beside the AVX-512 one.
    let engine = if copy == "avx512" && (blockwise || precision == Precision::F32) {
        "avx2"
    } else {
        copy
    };
    Engine {
        engine,
        lanes,
        precision,
    }
}

/// The engine's copies this build holds and this CPU runs, for `--version`: e.g. `avx512 (f64
/// x8), avx2 (f64 x4, f32 x8)`, or `general (f64, one run at a time)`.
pub fn engine_summary() -> String {
    if !lanes_run_here() {
        let built = if cfg!(optiscape_avx512) {
            "avx512"
        } else {
            "avx2"
        };
        return format!(
            "general (f64, one run at a time: this build's {built} lanes need a CPU with {built})"
        );
    }
    if cfg!(all(optiscape_avx512, not(test))) {
        format!(
            "avx512 (f64 x{}), avx2 (formulas f64 x{}, f32 x{})",
            WideF64::LANES,
            F64x4::LANES,
            F32x8::LANES
        )
    } else {
        let copy = if cfg!(all(optiscape_avx2, not(test))) {
            "avx2"
        } else {
            "baseline"
        };
        format!("{copy} (f64 x{}, f32 x{})", F64x4::LANES, F32x8::LANES)
    }
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
    /// The baseline lanes (this build has no AVX2 copy, see `LaneJob::block_avx2`) against
    /// single runs, over every method and every surface, bit for bit: on an AVX2 machine these
    /// instances run nowhere else.
    #[test]
    fn baseline_lanes_equal_single_runs_bit_for_bit() {
        super::matrix::lockstep_equals_single_runs();
    }

    /// The engine report says the precision actually used: f32 beyond 2^24 updates runs in
    /// f64, and formulas take four f64 lanes.
    #[test]
    fn the_engine_report_names_the_precision_actually_used() {
        use super::*;
        let s = Surface::by_id("rastrigin").expect("built in");
        assert_eq!(
            engine_for(&s, Precision::F32, 1000).precision,
            Precision::F32
        );
        assert_eq!(engine_for(&s, Precision::F32, 1000).lanes, 8);
        assert_eq!(
            engine_for(&s, Precision::F32, (1 << 24) + 1).precision,
            Precision::F64
        );
        let f = Surface::formula("x^2 + y^2", None).expect("a formula");
        assert_eq!(engine_for(&f, Precision::F64, 10).lanes, 4);
        assert_eq!(engine_for(&s, Precision::F64, 10).engine, "baseline");
        assert!(engine_summary().starts_with("baseline"));
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
