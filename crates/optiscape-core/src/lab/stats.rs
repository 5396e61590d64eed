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
    /// The current (or final) position and loss.
    pub at: glam::DVec2,
    pub loss: f64,
    pub diverged: bool,
    /// Stopped by a gradient that is not finite at a finite loss (`RunStatus::BadGradient`).
    pub bad_gradient: bool,
    /// The first update count at which the loss was within the tolerance, if ever.
    pub first_success: Option<u64>,
}

impl From<&RunEnd> for Outcome {
    fn from(e: &RunEnd) -> Self {
        Self {
            at: e.end,
            loss: e.loss,
            diverged: e.status == RunStatus::Diverged,
            bad_gradient: e.status == RunStatus::BadGradient,
            first_success: e.first_success,
        }
    }
}

/// The summary of a set of runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Every run, diverged or not.
    pub runs: usize,
    /// Runs that did not diverge and end where they reach the target (inside the domain, at most
    /// the tolerance above the global minimum: [`Target::reached`]).
    pub successes: usize,
    /// `successes / runs` (0 when there are no runs).
    pub success_rate: f64,
    /// Runs whose position or loss stopped being finite, or that left the domain far behind.
    pub diverged: usize,
    /// Runs stopped by a gradient that is not finite at a finite loss (their final loss counts
    /// with the others: it is a real value at a real point).
    pub bad_gradient: usize,
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
    let mut bad_gradient = 0;
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
        if o.bad_gradient {
            bad_gradient += 1;
        }
        if target.reached(o.at, o.loss) {
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
        bad_gradient,
        best_loss: losses.iter().copied().reduce(f64::min),
        mean_loss: (!losses.is_empty()).then(|| losses.iter().sum::<f64>() / losses.len() as f64),
        median_loss: median(&losses),
        median_steps_to_success: median(&first),
    }
}

/// The two-sided 95% normal quantile, for [`wilson`].
const Z95: f64 = 1.959_963_984_540_054;

/// The Wilson score interval (95%) of a success rate: `successes` out of `runs`. `(0, 0)` when
/// there are no runs. Unlike `p ± 1.96 sqrt(p(1-p)/n)`, it never leaves [0, 1] and is not
/// empty when `p` is 0 or 1.
pub fn wilson(successes: usize, runs: usize) -> (f64, f64) {
    if runs == 0 {
        return (0.0, 0.0);
    }
    let n = runs as f64;
    let p = successes as f64 / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let (lo, hi) = ((centre - half).max(0.0), (centre + half).min(1.0));
    // Exactly 0 or 1 where the rate is (no rounding error at the ends).
    (
        if successes == 0 { 0.0 } else { lo },
        if successes == runs { 1.0 } else { hi },
    )
}

/// What the runtime statistics need of one run: the updates it made, and the first update at
/// which it reached the target (`None`: never).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Runtime {
    pub updates: u64,
    pub first_success: Option<u64>,
}

impl From<&RunEnd> for Runtime {
    fn from(e: &RunEnd) -> Self {
        Self {
            updates: e.steps,
            first_success: e.first_success,
        }
    }
}

impl Runtime {
    /// A run's runtime in evaluations on the one cost scale (see [`super::cost`]): what it spent
    /// in all, and up to its first success.
    pub fn in_evals(e: &RunEnd, grad_cost: u64) -> Self {
        Self {
            updates: super::cost(e.evals, e.grads, grad_cost),
            first_success: e
                .first_success_counts
                .map(|(v, g)| super::cost(v, g, grad_cost)),
        }
    }
}

/// The expected running time with independent restarts (ERT, as COCO/BBOB defines it): the
/// updates spent by all runs (a successful run counting its updates up to its first success, a
/// failed one all it made) divided by the number of successful runs. `None` when no run
/// succeeded (the restarts would never end).
pub fn ert(runs: &[Runtime]) -> Option<f64> {
    let (spent, successes) = ert_parts(runs.iter());
    (successes > 0).then(|| spent as f64 / successes as f64)
}

fn ert_parts<'a>(runs: impl Iterator<Item = &'a Runtime>) -> (u64, u64) {
    let mut spent = 0u64;
    let mut successes = 0u64;
    for r in runs {
        match r.first_success {
            Some(u) => {
                spent += u;
                successes += 1;
            }
            None => spent += r.updates,
        }
    }
    (spent, successes)
}

#[cfg(test)]
thread_local! {
    /// Bootstraps drawn on this thread (tests check that an experiment draws only those it
    /// shows).
    pub(crate) static RESAMPLED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Resamples the bootstrap confidence interval of the ERT draws.
pub const BOOTSTRAP_RESAMPLES: usize = 1000;

/// The 95% percentile bootstrap interval of [`ert`]: [`BOOTSTRAP_RESAMPLES`] resamples of the
/// runs with replacement (drawn from `seed`: the same interval every time), the ERT of each
/// (infinite when a resample has no success), and the 2.5% and 97.5% points of their sorted
/// values (the 26th and the 975th of 1000). Either bound is `None` where it is infinite (the
/// upper one when more than 2.5% of the resamples had no success); both when no run succeeded.
pub fn ert_interval(runs: &[Runtime], seed: u64) -> (Option<f64>, Option<f64>) {
    if ert(runs).is_none() {
        return (None, None);
    }
    #[cfg(test)]
    RESAMPLED.with(|c| c.set(c.get() + 1));
    let n = runs.len();
    let mut rng = crate::optim::Rng::new(seed ^ 0xB007_57A9_0000_0001);
    let mut values: Vec<f64> = (0..BOOTSTRAP_RESAMPLES)
        .map(|_| {
            let (spent, successes) =
                ert_parts((0..n).map(|_| &runs[(rng.uniform() * n as f64) as usize % n]));
            if successes == 0 {
                f64::INFINITY
            } else {
                spent as f64 / successes as f64
            }
        })
        .collect();
    values.sort_by(|a, b| a.total_cmp(b));
    let lo = values[BOOTSTRAP_RESAMPLES * 25 / 1000];
    let hi = values[BOOTSTRAP_RESAMPLES * 975 / 1000 - 1];
    let finite = |v: f64| v.is_finite().then_some(v);
    (finite(lo), finite(hi))
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
            at: glam::DVec2::ZERO,
            loss,
            diverged,
            bad_gradient: false,
            first_success,
        }
    }

    /// A known minimum `value` on the square [-1, 1]².
    fn target(value: f64, tol: f64) -> Target {
        Target {
            value,
            tol,
            domain: crate::landscape::Domain::new(-1.0, 1.0, -1.0, 1.0),
            estimated: false,
            lowered: false,
        }
    }

    /// Success is one-sided and inside the domain: below the minimum counts (an estimate
    /// beaten), in the band outside the domain does not, and a bad gradient is counted apart
    /// from divergence.
    #[test]
    fn success_is_at_most_tol_above_the_minimum_inside_the_domain() {
        let t = target(1.0, 0.1);
        let at = |x: f64, loss: f64| Outcome {
            at: glam::DVec2::new(x, 0.0),
            ..run(loss, false, None)
        };
        let s = summarize(
            [
                at(0.0, 1.05),
                at(0.0, 0.5),
                at(1.5, 1.0),
                at(-1.0, 1.09),
                Outcome {
                    bad_gradient: true,
                    ..at(0.0, 3.0)
                },
            ],
            t,
        );
        assert_eq!(s.successes, 3);
        assert_eq!((s.diverged, s.bad_gradient), (0, 1));
        assert!(!t.reached(glam::DVec2::new(1.5, 0.0), 1.0));
        assert!(!t.reached(glam::DVec2::ZERO, f64::NAN));
        assert_eq!(t.precision(0.5), 0.0);
        assert_eq!(t.precision(1.25), 0.25);
        assert_eq!(t.precision(f64::INFINITY), f64::INFINITY);
    }

    #[test]
    fn diverged_runs_count_only_as_diverged() {
        let target = target(0.0, 0.1);
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
    fn wilson_matches_the_textbook_and_stays_in_bounds() {
        // Wilson (1927) / Agresti & Coull (1998): 8 of 10 gives [0.4902, 0.9433].
        let (lo, hi) = wilson(8, 10);
        assert!(
            (lo - 0.490_162).abs() < 1e-5 && (hi - 0.943_317).abs() < 1e-5,
            "{lo} {hi}"
        );
        assert_eq!(wilson(0, 20).0, 0.0);
        assert!(wilson(0, 20).1 > 0.1);
        assert_eq!(wilson(20, 20).1, 1.0);
        assert_eq!(wilson(0, 0), (0.0, 0.0));
        // Narrower with more runs.
        let (a, b) = wilson(500, 1000);
        assert!(b - a < 0.07 && a < 0.5 && b > 0.5);
    }

    #[test]
    fn ert_counts_updates_up_to_the_first_success_and_all_of_failures() {
        let r = |updates, first_success| Runtime {
            updates,
            first_success,
        };
        let runs = [
            r(100, Some(10)),
            r(100, None),
            r(37, None),
            r(100, Some(50)),
        ];
        // (10 + 100 + 37 + 50) / 2
        assert_eq!(ert(&runs), Some(98.5));
        assert_eq!(ert(&[r(100, None)]), None);
        assert_eq!(ert(&[]), None);
        let (lo, hi) = ert_interval(&runs, 3);
        assert!(lo.unwrap() <= 98.5, "{lo:?}");
        // A quarter of 4-run resamples have no success at all: no upper bound.
        assert_eq!(hi, None);
        assert_eq!(ert_interval(&runs, 3), (lo, hi));
        let many: Vec<Runtime> = (0..400)
            .map(|i| {
                if i % 4 == 0 {
                    r(300, Some(20 + i % 7))
                } else {
                    r(300, None)
                }
            })
            .collect();
        let e = ert(&many).unwrap();
        let (lo, hi) = ert_interval(&many, 9);
        let (lo, hi) = (lo.unwrap(), hi.unwrap());
        assert!(lo < e && e < hi && hi < 2.0 * e, "{lo} {e} {hi}");
        assert_eq!(ert_interval(&[r(5, None)], 1), (None, None));
    }

    #[test]
    fn no_runs_no_numbers() {
        let s = summarize([], target(0.0, 1.0));
        assert_eq!((s.runs, s.successes, s.success_rate), (0, 0, 0.0));
        assert_eq!(s.mean_loss, None);
        assert_eq!(s.median_loss, None);
        assert_eq!(s.best_loss, None);
        assert_eq!(s.median_steps_to_success, None);
        assert_eq!(median(&[2.0, f64::INFINITY, 1.0]), Some(1.5));
    }
}
