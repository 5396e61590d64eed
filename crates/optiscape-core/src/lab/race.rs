//! Random-restart races: K start points, the same for every method; per method, how often it
//! reaches the global minimum and how good its final losses are.

use super::batch::{Precision, Progress, Target, run_batch_with};
use super::stats::{Outcome, summarize};
use crate::landscape::Surface;
use crate::optim::Optimizer;
use glam::DVec2;
use serde::Serialize;
use std::time::Instant;

/// One method's line of a race.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RaceRow {
    pub method: String,
    pub runs: usize,
    /// Share of runs that did not diverge and whose final loss is within the tolerance of the
    /// global minimum.
    pub success_rate: f64,
    /// Over the final losses of the runs that did not diverge (see [`super::stats::Summary`]).
    pub mean_loss: Option<f64>,
    pub median_loss: Option<f64>,
    /// Median, over the runs that succeeded at some point, of the first update at which the
    /// loss came within the tolerance.
    pub median_steps_to_success: Option<f64>,
    pub diverged: usize,
    /// Wall-clock seconds (the only number that varies between identical runs).
    pub seconds: f64,
    /// The final losses of the runs that did not diverge (for histograms; the same runs as
    /// the mean and median).
    #[serde(skip)]
    pub final_losses: Vec<f64>,
}

/// Races every optimizer from the same starts.
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
    methods
        .iter()
        .map(|opt| {
            let t0 = Instant::now();
            let ends = run_batch_with(
                surface, opt, starts, steps, seed, target, precision, progress,
            )?;
            let seconds = t0.elapsed().as_secs_f64();
            let s = summarize(ends.iter().map(Outcome::from), target);
            Some(RaceRow {
                method: opt.id.clone(),
                runs: s.runs,
                success_rate: s.success_rate,
                mean_loss: s.mean_loss,
                median_loss: s.median_loss,
                median_steps_to_success: s.median_steps_to_success,
                diverged: s.diverged,
                seconds,
                final_losses: ends
                    .iter()
                    .filter(|e| e.status != super::RunStatus::Diverged)
                    .map(|e| e.loss)
                    .collect(),
            })
        })
        .collect()
}
