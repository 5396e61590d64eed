//! Many runs at once: one optimizer from many start points, spread over every core (rayon).
//! Each run is the shared `step_once`, so its end point equals `trace`'s from the same start,
//! bit for bit, whatever the number of threads.

use super::run::{RunState, RunStatus, step_once};
use crate::landscape::Surface;
use crate::optim::{Optimizer, Rng};
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
        &Progress::default(),
    )
    .unwrap_or_default()
}

/// `run_batch`, counting finished runs in `progress`; `None` when it was cancelled.
pub fn run_batch_with(
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

/// `k` start points uniform over `region`, from the seeded source.
pub fn uniform_starts(region: crate::landscape::Domain, k: usize, seed: u64) -> Vec<DVec2> {
    let mut rng = Rng::new(seed);
    (0..k)
        .map(|_| {
            let u = rng.uniform();
            let v = rng.uniform();
            region.lerp(u, v)
        })
        .collect()
}

/// The median of finite values (the mean of the two middle ones for an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}
