//! Batches that can be run a slice at a time: one implementation of every lab experiment for
//! a caller that has threads (the command line, Python, the desktop sandbox's background jobs:
//! the whole batch at once, on every core) and one that has none (the web page: a slice of runs
//! per frame, the page drawing in between).
//!
//! An experiment is an `async fn` (`basins_paced`, `race_paced`, ...) whose batches pause after
//! each slice of [`Progress::slice`] runs (0: never). [`block_on`] runs one to its end; the
//! usual functions (`basins_with`, `race_with`, ...) are exactly that. A caller stepping it a
//! slice at a time polls the future once per frame and sets the slice size from the time a
//! slice took. A run is never split: a batch run in slices equals the batch run at once, bit
//! for bit (each run's noise is seeded by its index in the whole batch, see [`run_shard`]).
//!
//! [`run_shard`]: super::run_shard

use super::batch::{Precision, Progress, RunEnd, Target, run_lanes};
use super::lockstep::LaneCopy;
use crate::landscape::Surface;
use crate::optim::Optimizer;
use glam::DVec2;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use std::time::Instant;
#[cfg(target_arch = "wasm32")]
pub(crate) use web_time::Instant;

/// Runs `future` to its end on this thread. A paused batch is resumed at once, so with
/// [`Progress::slice`] at 0 this is a plain function call.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// Returns `Pending` once: the point where a sliced batch hands the frame back.
struct Pause(bool);

impl Future for Pause {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// The batch behind every experiment: [`super::run_batch_anytime`] in slices of
/// `progress.slice` runs (read before each slice, so the caller can adapt it), pausing after
/// each. Also returns the seconds spent computing (not paused). `None` when cancelled.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn batch_paced(
    surface: &Surface,
    optimizer: &Optimizer,
    starts: &[DVec2],
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
    progress: &Progress,
    budgets: &[u64],
) -> Option<(Vec<RunEnd>, Vec<f64>, f64)> {
    batch_paced_at(
        surface, optimizer, starts, 0, steps, seed, target, precision, progress, budgets,
    )
    .await
}

/// [`batch_paced`] on the runs `first_index..` of a larger batch (their seeds are theirs in
/// the whole batch).
#[allow(clippy::too_many_arguments)]
async fn batch_paced_at(
    surface: &Surface,
    optimizer: &Optimizer,
    starts: &[DVec2],
    first_index: usize,
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
    progress: &Progress,
    budgets: &[u64],
) -> Option<(Vec<RunEnd>, Vec<f64>, f64)> {
    // The callers' budgets are checked (`run_batch_anytime`) or made ascending (`ecdf::budgets`).
    debug_assert!(super::batch::check_budgets(budgets, steps).is_ok());
    let run = |first: usize, part: &[DVec2]| {
        let t0 = Instant::now();
        let out = run_lanes(
            LaneCopy::chosen(),
            surface,
            optimizer,
            part,
            first_index + first,
            steps,
            seed,
            target,
            precision,
            progress,
            budgets,
        );
        (out, t0.elapsed().as_secs_f64())
    };
    let slice = progress.slice.load(Ordering::Relaxed);
    if slice == 0 || slice >= starts.len() {
        let (out, seconds) = run(0, starts);
        let (ends, best) = out?;
        return Some((ends, best, seconds));
    }
    let mut ends = Vec::with_capacity(starts.len());
    let mut best = Vec::with_capacity(starts.len() * budgets.len());
    let mut seconds = 0.0;
    let mut first = 0;
    while first < starts.len() {
        let n = progress.slice.load(Ordering::Relaxed).max(1);
        let last = (first + n).min(starts.len());
        let (out, s) = run(first, &starts[first..last]);
        let (e, b) = out?;
        ends.extend(e);
        best.extend(b);
        seconds += s;
        first = last;
        if first < starts.len() {
            Pause(false).await;
            if progress.cancelled() {
                return None;
            }
        }
    }
    Some((ends, best, seconds))
}

/// [`batch_paced`]'s end points alone.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn ends_paced(
    surface: &Surface,
    optimizer: &Optimizer,
    starts: &[DVec2],
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
    progress: &Progress,
) -> Option<Vec<RunEnd>> {
    batch_paced(
        surface,
        optimizer,
        starts,
        steps,
        seed,
        target,
        precision,
        progress,
        &[],
    )
    .await
    .map(|(ends, _, _)| ends)
}

/// Runs per chunk of a streamed batch ([`stream_paced`]): the ends of a quarter of a million
/// runs (20 MB) at a time.
pub(crate) const STREAM_CHUNK: usize = 1 << 18;

/// A batch of `n` runs whose starts are made, and whose ends are handed to `sink`, a chunk of
/// `chunk` runs at a time ([`STREAM_CHUNK`] for a basin map; `start(k)` is run `k`'s start; `sink(ends)` receives the
/// ends in order): what the batch keeps is then what the sink keeps, however many runs it has.
/// Each chunk runs as [`batch_paced`] (pausing after each slice), and a sliced batch also
/// pauses between chunks. The same runs as one batch of all `n`, bit for bit.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn stream_paced(
    surface: &Surface,
    optimizer: &Optimizer,
    n: usize,
    chunk: usize,
    start: impl Fn(usize) -> DVec2,
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
    progress: &Progress,
    mut sink: impl FnMut(Vec<RunEnd>),
) -> Option<()> {
    let mut first = 0;
    while first < n {
        let last = (first + chunk.max(1)).min(n);
        let starts: Vec<DVec2> = (first..last).map(&start).collect();
        let (ends, _, _) = batch_paced_at(
            surface,
            optimizer,
            &starts,
            first,
            steps,
            seed,
            target,
            precision,
            progress,
            &[],
        )
        .await?;
        sink(ends);
        first = last;
        if first < n && progress.slice.load(Ordering::Relaxed) != 0 {
            Pause(false).await;
            if progress.cancelled() {
                return None;
            }
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{run_batch_anytime, uniform_starts};

    /// Polls `future` to its end, counting the pauses.
    fn count_pauses<F: Future>(future: F) -> (F::Output, usize) {
        let mut future = std::pin::pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        let mut pauses = 0;
        loop {
            match future.as_mut().poll(&mut cx) {
                Poll::Ready(out) => return (out, pauses),
                Poll::Pending => pauses += 1,
            }
        }
    }

    #[test]
    fn a_streamed_batch_equals_the_batch_at_once() {
        let surface = Surface::by_id("rastrigin").expect("built in");
        let target = Target::of(&surface);
        let starts = uniform_starts(surface.domain, 103, 9);
        for id in ["langevin", "adam"] {
            let opt = Optimizer::by_id(id).expect("a rule");
            let whole = run_batch_anytime(
                &surface,
                &opt,
                &starts,
                60,
                5,
                target,
                Precision::F64,
                &Progress::default(),
                &[],
            )
            .expect("valid budgets")
            .expect("not cancelled")
            .0;
            for slice in [0, 10] {
                let progress = Progress::default();
                progress.slice.store(slice, Ordering::Relaxed);
                let mut chunks = Vec::new();
                let (out, pauses) = count_pauses(stream_paced(
                    &surface,
                    &opt,
                    starts.len(),
                    37,
                    |k| starts[k],
                    60,
                    5,
                    target,
                    Precision::F64,
                    &progress,
                    |ends| chunks.push(ends),
                ));
                assert_eq!(out, Some(()));
                // Chunks of 37, 37 and 29 runs; sliced: 4 + 4 + 3 slices, a pause after each
                // but the last.
                assert_eq!(
                    chunks.iter().map(Vec::len).collect::<Vec<_>>(),
                    [37, 37, 29]
                );
                assert_eq!(pauses, if slice == 0 { 0 } else { 10 }, "{id} {slice}");
                assert_eq!(chunks.concat(), whole, "{id} {slice}");
            }
        }
    }

    #[test]
    fn a_batch_in_slices_equals_the_batch_at_once() {
        let surface = Surface::by_id("rastrigin").expect("built in");
        let target = Target::of(&surface);
        let starts = uniform_starts(surface.domain, 103, 9);
        let budgets = [1, 10, 40];
        for id in ["adam", "langevin", "sgd"] {
            let opt = Optimizer::by_id(id).expect("a rule");
            let whole = run_batch_anytime(
                &surface,
                &opt,
                &starts,
                40,
                5,
                target,
                Precision::F64,
                &Progress::default(),
                &budgets,
            )
            .expect("valid budgets")
            .expect("not cancelled");
            let progress = Progress::default();
            progress.slice.store(10, Ordering::Relaxed);
            let (sliced, pauses) = count_pauses(batch_paced(
                &surface,
                &opt,
                &starts,
                40,
                5,
                target,
                Precision::F64,
                &progress,
                &budgets,
            ));
            let (ends, best, _) = sliced.expect("not cancelled");
            assert_eq!(pauses, 10, "{id}: 103 runs in slices of 10");
            assert_eq!(progress.done.load(Ordering::Relaxed), 103);
            assert_eq!(best, whole.1, "{id}");
            for (a, b) in ends.iter().zip(&whole.0) {
                assert_eq!(a.end.x.to_bits(), b.end.x.to_bits(), "{id}");
                assert_eq!(a.end.y.to_bits(), b.end.y.to_bits(), "{id}");
                assert_eq!(a.loss.to_bits(), b.loss.to_bits(), "{id}");
                assert_eq!((a.status, a.steps), (b.status, b.steps), "{id}");
            }
        }
    }

    #[test]
    fn an_unsliced_batch_never_pauses_and_a_cancelled_one_stops_at_the_next_slice() {
        let surface = Surface::by_id("bowl").expect("built in");
        let opt = Optimizer::by_id("sgd").expect("a rule");
        let starts = uniform_starts(surface.domain, 50, 1);
        let progress = Progress::default();
        let go = |p| {
            batch_paced(
                &surface,
                &opt,
                &starts,
                5,
                0,
                Target::of(&surface),
                Precision::F32,
                p,
                &[],
            )
        };
        let (out, pauses) = count_pauses(go(&progress));
        assert!(out.is_some());
        assert_eq!(pauses, 0);
        let progress = Progress::default();
        progress.slice.store(20, Ordering::Relaxed);
        let mut future = std::pin::pin!(go(&progress));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
        progress.cancel.store(true, Ordering::Relaxed);
        assert!(matches!(future.as_mut().poll(&mut cx), Poll::Ready(None)));
        assert_eq!(progress.done.load(Ordering::Relaxed), 20);
    }
}
