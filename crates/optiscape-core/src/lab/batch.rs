//! Many runs at once: one optimizer from many start points, spread over every core (rayon).
//!
//! Two engines, same results. Where the surface and the rule are written for lanes
//! ([`crate::landscape::LaneSurface`], [`crate::optim::LaneRule`]) and no gradient noise is
//! asked for, runs go in lockstep groups of four (f64) or eight (f32) in structure-of-arrays
//! form, vectorized (AVX when the CPU has it), allocating nothing per step; in f64 every run
//! equals `trace` from the same start bit for bit. Otherwise each run is the shared
//! `step_once`, which equals `trace` by construction. Either way the result does not depend on
//! the number of threads.

use super::run::{RunState, RunStatus, step_once};
use crate::landscape::{Domain, LaneEval, LaneSurface, LaneSurfaceVisitor, Surface};
use crate::lanes::{F32x8, F64x4, Mask, Real, V2};
use crate::optim::transforms::clip_by_norm_lanes;
use crate::optim::{LaneRule, LaneVisitor, Optimizer, Rng};
use glam::DVec2;
use rayon::prelude::*;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Success: a loss within `tol` of the global minimum `value` (a diverged run never succeeds).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Target {
    pub value: f64,
    pub tol: f64,
}

impl Target {
    /// The surface's global minimum and its default tolerance.
    pub fn of(surface: &Surface) -> Self {
        Self {
            value: surface.global_minimum().value,
            tol: surface.tol(),
        }
    }

    /// Within `tol` of the minimum value, on either side: a run that has left the domain can
    /// find lower values than the domain's minimum, and that is not a success.
    pub fn reached(&self, loss: f64) -> bool {
        loss.is_finite() && (loss - self.value).abs() <= self.tol
    }
}

/// How one run ended.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RunEnd {
    pub start: DVec2,
    pub end: DVec2,
    pub loss: f64,
    /// `Done` (all steps taken, converged or not) or `Diverged`.
    pub status: RunStatus,
    /// Updates taken.
    pub steps: u64,
    /// The first update count at which the loss was within the target's tolerance.
    pub first_success: Option<u64>,
    /// Distance between the end point and the position 10% of the steps (at least one)
    /// before the end: how far the run still travels at the end.
    pub recent_travel: f64,
}

impl RunEnd {
    /// Ended (not diverged) within the target's tolerance of the global minimum.
    pub fn succeeded(&self, target: Target) -> bool {
        self.status != RunStatus::Diverged && target.reached(self.loss)
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

/// Whether `optimizer` on `surface` runs in lockstep lanes (the fast engine; required for
/// `Precision::F32`), and if not, why.
pub fn lanes_supported(surface: &Surface, optimizer: &Optimizer) -> Result<(), String> {
    struct Probe;
    impl LaneVisitor for Probe {
        type Out = ();
        fn visit<U: LaneRule + Sync>(self, _rule: &U) {}
    }
    if surface.lanes().is_none() {
        return Err(format!(
            "the surface '{}' is evaluated one run at a time (lanes: seed, rastrigin, bowl, \
             himmelblau, rosenbrock, saddle)",
            surface.info().id
        ));
    }
    if optimizer.rule.visit_lanes(Probe).is_none() {
        return Err(format!(
            "the method '{}' runs one run at a time (lanes: sgd, heavy-ball, nesterov, adagrad, \
             adadelta, rmsprop, adam, adamw, amsgrad and the notebook's presets)",
            optimizer.id
        ));
    }
    if optimizer.noise > 0.0 {
        return Err(format!(
            "the method '{}' has gradient noise, which runs one run at a time",
            optimizer.id
        ));
    }
    Ok(())
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
/// cancelled. `Precision::F32` needs [`lanes_supported`]; without it the runs are f64.
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
    // The conditions of `lanes_supported`, without building its messages.
    if optimizer.noise <= 0.0
        && let Some(lanes) = surface.lanes()
    {
        let job = LaneJob {
            surface: lanes,
            domain: surface.domain,
            clip: optimizer.clip,
            starts,
            steps,
            target,
            precision,
            progress,
        };
        if let Some(ends) = optimizer.rule.visit_lanes(job) {
            return ends;
        }
    }
    run_batch_scalar(surface, optimizer, starts, steps, seed, target, progress)
}

/// The general engine: each run on its own, through `step_once` (also the reference the
/// lockstep engine is tested against).
pub fn run_batch_scalar(
    surface: &Surface,
    optimizer: &Optimizer,
    starts: &[DVec2],
    steps: u64,
    seed: u64,
    target: Target,
    progress: &Progress,
) -> Option<Vec<RunEnd>> {
    let ends: Vec<Option<RunEnd>> = starts
        .par_iter()
        .enumerate()
        .map(|(i, &start)| {
            if progress.cancelled() {
                return None;
            }
            let mut opt = optimizer.clone().with_seed(run_seed(seed, i));
            opt.reset();
            let mut state = RunState::start(surface, start);
            let mut first_success = target.reached(state.loss).then_some(0);
            let window = (steps / 10).max(1);
            let mut before_end = start;
            if state.status != RunStatus::Diverged {
                for s in 0..steps {
                    if s + window == steps {
                        before_end = state.pos;
                    }
                    let status = step_once(surface, &mut opt, &mut state);
                    if first_success.is_none() && target.reached(state.loss) {
                        first_success = Some(state.steps);
                    }
                    if status == RunStatus::Diverged {
                        break;
                    }
                }
            }
            progress.done.fetch_add(1, Ordering::Relaxed);
            Some(RunEnd {
                start,
                end: state.pos,
                loss: state.loss,
                status: if state.status == RunStatus::Diverged {
                    RunStatus::Diverged
                } else {
                    RunStatus::Done
                },
                steps: state.steps,
                first_success,
                recent_travel: state.pos.distance(before_end),
            })
        })
        .collect();
    if progress.cancelled() {
        return None;
    }
    ends.into_iter().collect()
}

/// A batch for the lockstep engine.
struct LaneJob<'a> {
    surface: LaneSurface,
    domain: Domain,
    clip: f64,
    starts: &'a [DVec2],
    steps: u64,
    target: Target,
    precision: Precision,
    progress: &'a Progress,
}

impl LaneVisitor for LaneJob<'_> {
    type Out = Option<Vec<RunEnd>>;
    fn visit<U: LaneRule + Sync>(self, rule: &U) -> Option<Vec<RunEnd>> {
        self.surface.visit(WithRule { job: &self, rule })
    }
}

/// A lockstep batch with its rule, to be given its surface's own type.
struct WithRule<'a, U> {
    job: &'a LaneJob<'a>,
    rule: &'a U,
}

impl<U: LaneRule + Sync> LaneSurfaceVisitor for WithRule<'_, U> {
    type Out = Option<Vec<RunEnd>>;
    fn visit<S: LaneEval>(self, surface: S) -> Option<Vec<RunEnd>> {
        // Step counts are kept in the lanes' own type: f32 counts exactly up to 2^24.
        match self.job.precision {
            Precision::F32 if self.job.steps <= 1 << 24 => {
                self.job.run::<F32x8, U, S>(self.rule, surface)
            }
            _ => self.job.run::<F64x4, U, S>(self.rule, surface),
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
    recent_travel: 0.0,
};

/// Lane groups advanced together, one step at a time: independent work for the CPU to overlap
/// (one group alone is a chain of dependent operations that waits on every square root).
const GROUPS_PER_BLOCK: usize = 8;

/// One lockstep group: `R::LANES` runs.
#[derive(Clone, Copy)]
struct Group<R: Real, St> {
    p: V2<R>,
    loss: R,
    grad: V2<R>,
    /// The position 10% of the steps before the end (see `RunEnd::recent_travel`).
    before: V2<R>,
    alive: R::Mask,
    success: R::Mask,
    /// Update count of the first success (-1: none yet) and of the divergence.
    first: R,
    taken: R,
    state: St,
}

impl LaneJob<'_> {
    fn run<R: Real, U: LaneRule + Sync, S: LaneEval>(
        &self,
        rule: &U,
        surface: S,
    ) -> Option<Vec<RunEnd>> {
        let avx = has_avx();
        // What every run shares at each step, computed once (up to a bound on memory).
        let shared: Vec<U::Shared> = (1..=self.steps.min(SHARED_TABLE))
            .map(|t| rule.shared(t))
            .collect();
        let shared = &shared[..];
        let block = R::LANES * GROUPS_PER_BLOCK;
        // Filled in parallel: the pages of a large result are touched by both cores.
        let mut ends = Vec::new();
        (0..self.starts.len())
            .into_par_iter()
            .map(|_| UNSET)
            .collect_into_vec(&mut ends);
        self.starts
            .par_chunks(block)
            .zip(ends.par_chunks_mut(block))
            .for_each(|(starts, out)| {
                if self.progress.cancelled() {
                    return;
                }
                match avx {
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: `has_avx` checked that this CPU runs AVX instructions.
                    true => unsafe {
                        self.block_avx::<R, U, S>(rule, surface, shared, starts, out)
                    },
                    _ => self.block::<R, U, S>(rule, surface, shared, starts, out),
                }
                self.progress
                    .done
                    .fetch_add(starts.len(), Ordering::Relaxed);
            });
        (!self.progress.cancelled()).then_some(ends)
    }

    /// [`Self::block`] compiled for AVX (eight f32 or four f64 lanes per instruction).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx")]
    fn block_avx<R: Real, U: LaneRule, S: LaneEval>(
        &self,
        rule: &U,
        surface: S,
        shared: &[U::Shared],
        starts: &[DVec2],
        out: &mut [RunEnd],
    ) {
        self.block::<R, U, S>(rule, surface, shared, starts, out)
    }

    /// Up to `GROUPS_PER_BLOCK` groups of `R::LANES` runs in lockstep. Each lane follows
    /// `run_batch_scalar`'s run exactly: a lane that diverges keeps its last position, loss and
    /// step count (selects, not branches) while the others go on.
    #[inline(always)]
    fn block<R: Real, U: LaneRule, S: LaneEval>(
        &self,
        rule: &U,
        surface: S,
        shared: &[U::Shared],
        starts: &[DVec2],
        out: &mut [RunEnd],
    ) {
        let c = R::splat;
        // A local copy: its fields are then known not to change, and stay in registers.
        let rule = rule.clone();
        let (tv, tol) = (c(self.target.value), c(self.target.tol));
        let reached = |l: R| l.is_finite() & (l - tv).abs().le(tol);
        let d = self.domain;
        let (w, h) = (d.width(), d.height());
        let (x_lo, x_hi, y_lo, y_hi) = (c(d.x0 - w), c(d.x1 + w), c(d.y0 - h), c(d.y1 + h));
        let mut groups: Vec<Group<R, U::State<R>>> = starts
            .chunks(R::LANES)
            .map(|starts| {
                // Spare lanes repeat the last start; their results are dropped.
                let lane = |i: usize| starts[i.min(starts.len() - 1)];
                let p = V2::new(R::from_fn(|i| lane(i).x), R::from_fn(|i| lane(i).y));
                let (loss, grad) = surface.eval(p);
                let success = reached(loss);
                Group {
                    p,
                    loss,
                    grad,
                    before: p,
                    alive: p.x.is_finite() & p.y.is_finite() & loss.is_finite(),
                    success,
                    first: R::select(success, c(0.0), c(-1.0)),
                    taken: c(0.0),
                    state: rule.fresh::<R>(),
                }
            })
            .collect();
        let window = (self.steps / 10).max(1);
        for s in 0..self.steps {
            if s + window == self.steps {
                for g in groups.iter_mut() {
                    g.before = V2::select(g.alive, g.p, g.before);
                }
            }
            let k = match shared.get(s as usize) {
                Some(k) => *k,
                None => rule.shared(s + 1),
            };
            let done = c((s + 1) as f64);
            for g in groups.iter_mut() {
                let grad = clip_by_norm_lanes(g.grad, self.clip);
                let delta = rule.update(k, &mut g.state, g.p, grad);
                let np = g.p + delta;
                let alive = g.alive;
                // Finished lanes are evaluated at the origin, harmlessly.
                let (nl, ng) = surface.eval(V2::select(alive, np, V2::splat(0.0)));
                // Not finite, or far outside the domain (`Domain::far_outside`): a NaN
                // coordinate fails every comparison, so it is never "near".
                let near = np.x.ge(x_lo) & np.x.le(x_hi) & np.y.ge(y_lo) & np.y.le(y_hi);
                let bad = !(near & nl.is_finite());
                g.p = V2::select(alive, np, g.p);
                g.loss = R::select(alive, nl, g.loss);
                // A finished lane's gradient is never used again: no select needed.
                g.grad = ng;
                g.taken = R::select(alive, done, g.taken);
                let newly = alive & !g.success & reached(nl);
                g.first = R::select(newly, done, g.first);
                g.success = g.success | newly;
                g.alive = alive & !bad;
            }
        }
        for (g, out) in groups.iter().zip(out.chunks_mut(R::LANES)) {
            for (i, o) in out.iter_mut().enumerate() {
                let end = g.p.lane(i);
                let first = g.first.lane(i);
                *o = RunEnd {
                    start: starts[0],
                    end,
                    loss: g.loss.lane(i),
                    status: if g.alive.test(i) {
                        RunStatus::Done
                    } else {
                        RunStatus::Diverged
                    },
                    steps: g.taken.lane(i) as u64,
                    first_success: (first >= 0.0).then_some(first as u64),
                    recent_travel: end.distance(g.before.lane(i)),
                };
            }
        }
        for (o, start) in out.iter_mut().zip(starts) {
            o.start = *start;
        }
    }
}

/// Whether this CPU runs AVX (checked once; the answer is cached by the standard library).
fn has_avx() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
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
