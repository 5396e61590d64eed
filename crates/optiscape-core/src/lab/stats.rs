//! The statistics of a set of runs, defined once: `race`, `sweep` and the sandbox's leaderboard
//! all call [`summarize`], and `docs/guide.md` ("What the numbers mean") states the same
//! definitions.

use super::batch::{RunEnd, Target};
use super::run::RunStatus;
use serde::Serialize;

/// What the statistics need of one run, whether it has ended (the lab) or is still going (a
/// ball in the sandbox).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// The current (or final) loss.
    pub loss: f64,
    pub diverged: bool,
    /// The first update count at which the loss was within the tolerance, if ever.
    pub first_success: Option<u64>,
}

impl From<&RunEnd> for Outcome {
    fn from(e: &RunEnd) -> Self {
        Self {
            loss: e.loss,
            diverged: e.status == RunStatus::Diverged,
            first_success: e.first_success,
        }
    }
}

/// The summary of a set of runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Every run, diverged or not.
    pub runs: usize,
    /// Runs that did not diverge and whose loss is within the tolerance of the global minimum.
    pub successes: usize,
    /// `successes / runs` (0 when there are no runs).
    pub success_rate: f64,
    /// Runs whose position or loss stopped being finite, or that left the domain far behind.
    pub diverged: usize,
    /// Lowest, mean and median loss over the runs that did not diverge and have a finite loss;
    /// `None` when there is no such run.
    pub best_loss: Option<f64>,
    pub mean_loss: Option<f64>,
    pub median_loss: Option<f64>,
    /// Over the runs that came within the tolerance at some point (diverged later or not): the
    /// median update at which they first did.
    pub median_steps_to_success: Option<f64>,
}

/// Summarizes runs against a success target. See [`Summary`] for what each number counts.
pub fn summarize(outcomes: impl IntoIterator<Item = Outcome>, target: Target) -> Summary {
    let mut runs = 0;
    let mut successes = 0;
    let mut diverged = 0;
    let mut losses = Vec::new();
    let mut first = Vec::new();
    for o in outcomes {
        runs += 1;
        if let Some(s) = o.first_success {
            first.push(s as f64);
        }
        if o.diverged {
            diverged += 1;
            continue;
        }
        if target.reached(o.loss) {
            successes += 1;
        }
        if o.loss.is_finite() {
            losses.push(o.loss);
        }
    }
    Summary {
        runs,
        successes,
        success_rate: successes as f64 / runs.max(1) as f64,
        diverged,
        best_loss: losses.iter().copied().reduce(f64::min),
        mean_loss: (!losses.is_empty()).then(|| losses.iter().sum::<f64>() / losses.len() as f64),
        median_loss: median(&losses),
        median_steps_to_success: median(&first),
    }
}

/// The median of the finite values (the mean of the two middle ones for an even count).
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

#[cfg(test)]
mod tests {
    use super::*;

    fn run(loss: f64, diverged: bool, first_success: Option<u64>) -> Outcome {
        Outcome {
            loss,
            diverged,
            first_success,
        }
    }

    #[test]
    fn diverged_runs_count_only_as_diverged() {
        let target = Target {
            value: 0.0,
            tol: 0.1,
        };
        // A diverged run far outside the domain can show any loss, even one at the minimum.
        let s = summarize(
            [
                run(0.05, false, Some(10)),
                run(3.0, false, None),
                run(97.0, true, None),
                run(0.0, true, Some(4)),
                run(f64::NAN, true, None),
                run(1.0, false, None),
            ],
            target,
        );
        assert_eq!(s.runs, 6);
        assert_eq!(s.diverged, 3);
        assert_eq!(s.successes, 1);
        assert!((s.success_rate - 1.0 / 6.0).abs() < 1e-15);
        assert_eq!(s.best_loss, Some(0.05));
        assert_eq!(s.mean_loss, Some((0.05 + 3.0 + 1.0) / 3.0));
        assert_eq!(s.median_loss, Some(1.0));
        assert_eq!(s.median_steps_to_success, Some(7.0));
    }

    #[test]
    fn no_runs_no_numbers() {
        let s = summarize(
            [],
            Target {
                value: 0.0,
                tol: 1.0,
            },
        );
        assert_eq!((s.runs, s.successes, s.success_rate), (0, 0, 0.0));
        assert_eq!(s.mean_loss, None);
        assert_eq!(s.median_loss, None);
        assert_eq!(s.best_loss, None);
        assert_eq!(s.median_steps_to_success, None);
        assert_eq!(median(&[2.0, f64::INFINITY, 1.0]), Some(1.5));
    }
}
