//! Random-restart races: K start points, the same for every method; per method, how often it
//! reaches the global minimum and how good its final losses are.

use super::batch::{Precision, Progress, Target, median, run_batch_with};
use super::run::RunStatus;
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
    /// Share of runs whose final loss is within the tolerance of the global minimum.
    pub success_rate: f64,
    pub mean_loss: Option<f64>,
    pub median_loss: Option<f64>,
    /// Median, over the runs that succeeded at some point, of the first update at which the
    /// loss came within the tolerance.
    pub median_steps_to_success: Option<f64>,
    pub diverged: usize,
    /// Wall-clock seconds (the only number that varies between identical runs).
    pub seconds: f64,
    /// Every run's final loss (for histograms).
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
            let finite: Vec<f64> = ends
                .iter()
                .map(|e| e.loss)
                .filter(|l| l.is_finite())
                .collect();
            let successes = ends.iter().filter(|e| e.succeeded(target)).count();
            let first: Vec<f64> = ends
                .iter()
                .filter_map(|e| e.first_success.map(|s| s as f64))
                .collect();
            Some(RaceRow {
                method: opt.id.clone(),
                runs: ends.len(),
                success_rate: successes as f64 / ends.len().max(1) as f64,
                mean_loss: (!finite.is_empty())
                    .then(|| finite.iter().sum::<f64>() / finite.len() as f64),
                median_loss: median(&finite),
                median_steps_to_success: median(&first),
                diverged: ends
                    .iter()
                    .filter(|e| e.status == RunStatus::Diverged)
                    .count(),
                seconds,
                final_losses: ends.iter().map(|e| e.loss).collect(),
            })
        })
        .collect()
}
