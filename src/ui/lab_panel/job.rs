//! A lab job: what it runs on, and how it runs beside the sandbox (a thread of its own on the
//! desktop, a slice of runs per frame on the web page).

use super::*;

/// What a lab job runs on, kept with its result: a result is shown with the setup it was
/// computed for, never with whatever is selected when it finishes.
#[derive(Clone, Debug, PartialEq)]
pub struct JobSetup {
    pub surface: Surface,
    /// The method (basins, sweep) or the methods (race).
    pub methods: Vec<String>,
    pub steps: u64,
    pub seed: u64,
    /// Random starts (race, sweep per value), or cells per side (basins).
    pub size: usize,
    pub target: Target,
    /// Whether `steps` counts evaluations on the one cost scale (else updates).
    pub evals: bool,
}

impl JobSetup {
    /// What a job started now runs on: the current surface and its success target, the
    /// lab's updates and the sandbox's seed.
    pub(super) fn now(
        surface: &Surface,
        methods: &[Optimizer],
        lab: &LabState,
        seed: u64,
        size: usize,
    ) -> Self {
        Self {
            surface: surface.clone(),
            methods: methods.iter().map(|m| m.id.clone()).collect(),
            steps: lab.steps,
            seed,
            size,
            target: Target::of(surface),
            evals: lab.evals,
        }
    }

    /// The budget's unit in words.
    pub(super) fn unit(&self) -> &'static str {
        if self.evals { "evaluations" } else { "updates" }
    }

    /// One line: surface, method(s), size, budget and seed.
    pub(super) fn describe(&self, size: &str) -> String {
        format!(
            "{} · {} · {} {size} · {} {} · seed {}",
            self.surface.spec(),
            self.methods.join(", "),
            self.size,
            self.steps,
            self.unit(),
            self.seed
        )
    }
}

/// A lab computation that runs while the sandbox goes on: on the desktop on a thread of its
/// own (the batches inside on every core); on the web page, which has no threads, a slice of
/// runs at a time in every frame ([`Job::advance`]), the page drawing in between. Both run the
/// same `async` experiment of `optiscape_core::lab` (see `lab::pace`) and report progress and
/// take Cancel the same way.
pub struct Job<T> {
    pub(super) runner: Runner<T>,
    pub(super) progress: Arc<Progress>,
    pub(super) total: usize,
    /// What it is computing, for the progress line.
    pub(super) what: String,
    pub(super) setup: JobSetup,
}

/// The experiment's future, as the web page keeps it.
#[cfg(target_arch = "wasm32")]
pub(super) type Work<T> = std::pin::Pin<Box<dyn Future<Output = Option<T>> + Send>>;

#[cfg(not(target_arch = "wasm32"))]
pub(super) struct Runner<T>(Option<JoinHandle<Option<T>>>);

#[cfg(target_arch = "wasm32")]
pub(super) struct Runner<T> {
    pub(super) work: std::sync::Mutex<Option<Work<T>>>,
    pub(super) out: Option<Option<T>>,
}

/// Time a frame gives a job on the web page.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(super) const FRAME_BUDGET: std::time::Duration = std::time::Duration::from_millis(12);

/// A slice takes about this long on the web page (several slices fit in a frame's budget, and
/// the last one overshoots it by little).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(super) const SLICE_TIME: std::time::Duration = std::time::Duration::from_millis(3);

/// The number of runs for the next slice, from the runs the last one made and the time it took.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(super) fn next_slice(runs: usize, took: std::time::Duration, current: usize) -> usize {
    if runs == 0 {
        return current.max(1);
    }
    let per_run = took.as_secs_f64() / runs as f64;
    let want = if per_run > 0.0 {
        (SLICE_TIME.as_secs_f64() / per_run) as usize
    } else {
        current.saturating_mul(2)
    };
    // At most double at a time (a slice that was quick by chance does not make the next huge).
    want.clamp(1, current.saturating_mul(2).max(2))
}

impl<T: Send + 'static> Job<T> {
    pub(super) fn spawn<F>(
        what: String,
        total: usize,
        setup: JobSetup,
        work: impl FnOnce(Arc<Progress>) -> F + Send + 'static,
    ) -> Self
    where
        F: Future<Output = Option<T>> + Send + 'static,
    {
        let progress = Arc::new(Progress::default());
        let p = progress.clone();
        #[cfg(not(target_arch = "wasm32"))]
        let runner = Runner(Some(std::thread::spawn(move || {
            optiscape_core::lab::pace::block_on(work(p))
        })));
        #[cfg(target_arch = "wasm32")]
        let runner = {
            progress.slice.store(16, Ordering::Relaxed);
            let work: Work<T> = Box::pin(work(p));
            Runner {
                work: std::sync::Mutex::new(Some(work)),
                out: None,
            }
        };
        Self {
            runner,
            progress,
            total,
            what,
            setup,
        }
    }

    pub(super) fn fraction(&self) -> f32 {
        self.progress.done.load(Ordering::Relaxed) as f32 / self.total.max(1) as f32
    }

    pub(super) fn cancel(&self) {
        self.progress.cancel.store(true, Ordering::Relaxed);
    }

    /// Gives the job this frame's time: nothing to do with threads; on the web page, slices of
    /// runs for about [`FRAME_BUDGET`], the slice size adapted to what a slice took.
    pub(super) fn advance(&mut self) {
        #[cfg(target_arch = "wasm32")]
        {
            use bevy::platform::time::Instant;
            use std::task::{Context, Poll, Waker};
            if self.runner.out.is_some() {
                return;
            }
            let Ok(mut slot) = self.runner.work.lock() else {
                return;
            };
            let Some(work) = slot.as_mut() else {
                return;
            };
            let mut cx = Context::from_waker(Waker::noop());
            let t0 = Instant::now();
            loop {
                let before = self.progress.done.load(Ordering::Relaxed);
                let t = Instant::now();
                let polled = work.as_mut().poll(&mut cx);
                let runs = self.progress.done.load(Ordering::Relaxed) - before;
                let slice = self.progress.slice.load(Ordering::Relaxed);
                self.progress
                    .slice
                    .store(next_slice(runs, t.elapsed(), slice), Ordering::Relaxed);
                if let Poll::Ready(out) = polled {
                    *slot = None;
                    self.runner.out = Some(out);
                    return;
                }
                if t0.elapsed() >= FRAME_BUDGET {
                    return;
                }
            }
        }
    }

    /// Whether the result is ready (or the job ended without one).
    pub(super) fn is_finished(&self) -> bool {
        #[cfg(not(target_arch = "wasm32"))]
        return self.runner.0.as_ref().is_some_and(|h| h.is_finished());
        #[cfg(target_arch = "wasm32")]
        return self.runner.out.is_some();
    }

    /// Advances the job ([`Job::advance`]) and returns the result once it has finished (`None`
    /// inside when cancelled or failed).
    pub(super) fn take_finished(&mut self) -> Option<Option<T>> {
        self.advance();
        if !self.is_finished() {
            return None;
        }
        #[cfg(not(target_arch = "wasm32"))]
        return Some(self.runner.0.take()?.join().ok().flatten());
        #[cfg(target_arch = "wasm32")]
        return self.runner.out.take();
    }
}
