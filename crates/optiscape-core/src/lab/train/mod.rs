//! `optiscape train`: whole networks trained from K seeded initializations per method, and the
//! lab's statistics on real training. Success is a training loss at most a target; the target
//! is given, or the lowest training loss any run found plus a tolerance (as a surface's
//! estimated minimum is lowered by the runs that beat it). Each run's record is exact
//! ([`FitRun::trail`]), so every number below is read from it, not from samples.

pub mod paths;
pub mod phase;
mod spec;
pub mod tune;
pub use spec::{MAX_TRAIN_STARTS, MAX_TRAIN_STEPS, TRAIN_METHODS, TrainSpec};

use super::batch::{Precision, Progress};
use super::ecdf::{EcdfCurve, budgets, fractions};
use super::lockstep::LaneCopy;
use super::stats::{Runtime, ert, ert_interval, median, wilson};
use crate::lanes::{F32x8, F64x4, Real};
use crate::net::{Dataset, FitOptions, FitRun, Init, Mlp, fit_group};
use crate::optim::{LaneRule, LaneVisitor, Optimizer, Rng, rng::mix};
use rayon::prelude::*;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// What every method of a `train` study shares.
#[derive(Clone, Debug)]
pub struct TrainSetup {
    pub net: Mlp,
    pub data: Dataset,
    pub init: Init,
    /// Updates per run.
    pub steps: u64,
    /// Initializations (runs per method), the same for every method.
    pub starts: usize,
    pub seed: u64,
    pub precision: Precision,
    /// Success: a final training loss at most this; `None`: the lowest any run found + `tol`.
    pub target: Option<f64>,
    pub tol: f64,
    /// A run that ended above the target with a gradient norm at most this has settled in a
    /// worse minimum (or a saddle); above it, it was still descending.
    pub gtol: f64,
    /// Keep each run's first and last parameters.
    pub keep_weights: bool,
    /// Keep the parameters of the first `path_runs` runs every `path_every` updates.
    pub path_runs: usize,
    pub path_every: u64,
    /// Settings tried per method by [`tune::tune_method`] before the study (1: no tuning);
    /// each tuned method then runs twice, tuned and at its defaults.
    pub tune_budget: usize,
}

/// Salt of the initializations' seeds (the rules' noise uses the lab's `run_seed`).
const INIT_SALT: u64 = 0x1417_0000_0000_0001;

/// The first parameters of run `i` of a study seeded `seed`: the same for every method, and
/// the same in `train` and the sandbox's network balls.
pub fn first_weights(net: &Mlp, init: Init, seed: u64, i: usize) -> Vec<f64> {
    let mut rng = Rng::new(mix(seed ^ INIT_SALT, i as u64));
    net.init(init, &mut rng)
}

impl TrainSetup {
    /// The first parameters of run `i` (the same for every method).
    pub fn init_of(&self, i: usize) -> Vec<f64> {
        first_weights(&self.net, self.init, self.seed, i)
    }

    /// Checks what training needs of the method: an update rule without the sandbox's
    /// gradient transforms.
    pub fn check_method(opt: &Optimizer) -> Result<(), String> {
        crate::net::live::trainable(opt).map_err(|e| format!("train: {e}"))
    }
}

/// Trains the setup's networks with `opt` (checked by [`TrainSetup::check_method`]), one
/// group of networks per lane group, groups on every core. `done` counts finished runs;
/// `cancel` stops early (the runs then end where they were).
pub fn train_method(
    setup: &TrainSetup,
    opt: &Optimizer,
    done: &AtomicUsize,
    cancel: &AtomicBool,
) -> Vec<FitRun> {
    struct Job<'a> {
        setup: &'a TrainSetup,
        done: &'a AtomicUsize,
        cancel: &'a AtomicBool,
    }
    impl LaneVisitor for Job<'_> {
        type Out = Vec<FitRun>;
        fn visit<U: LaneRule + Sync>(self, rule: &U) -> Vec<FitRun> {
            let copy = LaneCopy::chosen();
            match (self.setup.precision, copy) {
                (Precision::F32, LaneCopy::Avx2 | LaneCopy::Avx512) => {
                    self.all::<F32x8, U>(rule, Copy::Avx2)
                }
                (Precision::F32, _) => self.all::<F32x8, U>(rule, Copy::Baseline),
                // Four f64 lanes in the AVX2 copy on AVX-512 too: eight lanes there ran 1.7
                // times slower (docs/benchmarks.md, "Real networks").
                (Precision::F64, LaneCopy::Avx2 | LaneCopy::Avx512) => {
                    self.all::<F64x4, U>(rule, Copy::Avx2)
                }
                (Precision::F64, _) => self.all::<F64x4, U>(rule, Copy::Baseline),
            }
        }
    }
    impl Job<'_> {
        fn all<R: Real, U: LaneRule + Sync>(&self, rule: &U, copy: Copy) -> Vec<FitRun> {
            let s = self.setup;
            let lanes = R::LANES;
            let groups = s.starts.div_ceil(lanes);
            let opts = |g: usize| FitOptions {
                steps: s.steps,
                keep_weights: s.keep_weights,
                path_every: if g * lanes < s.path_runs {
                    s.path_every
                } else {
                    0
                },
            };
            (0..groups)
                .into_par_iter()
                .flat_map_iter(|g| {
                    let runs: Vec<usize> = (g * lanes..((g + 1) * lanes).min(s.starts)).collect();
                    let inits: Vec<Vec<f64>> = runs.iter().map(|i| s.init_of(*i)).collect();
                    let seeds: Vec<u64> =
                        runs.iter().map(|i| super::run_seed(s.seed, *i)).collect();
                    let mut out = if self.cancel.load(Ordering::Relaxed) {
                        runs.iter().map(|_| FitRun::default()).collect()
                    } else {
                        copy.fit::<R, U>(
                            &s.net,
                            &s.data,
                            rule,
                            &inits,
                            &seeds,
                            opts(g),
                            self.cancel,
                        )
                    };
                    for (k, r) in out.iter_mut().enumerate() {
                        if g * lanes + k >= s.path_runs {
                            r.path.clear();
                        }
                    }
                    self.done.fetch_add(runs.len(), Ordering::Relaxed);
                    out
                })
                .collect()
        }
    }
    opt.rule.visit_lanes(Job {
        setup,
        done,
        cancel,
    })
}

/// The compiled copy and the lane width `train` uses at `precision` on this CPU (as every
/// lab document states them: `engine`, `lanes`).
pub fn engine(precision: Precision) -> (&'static str, usize) {
    let copy = LaneCopy::chosen();
    let name = match copy {
        LaneCopy::Avx512 | LaneCopy::Avx2 | LaneCopy::Baseline => copy.name(),
        // The training loop has no general engine: its lanes are the networks.
        LaneCopy::General => "baseline",
    };
    let lanes = match precision {
        Precision::F32 => F32x8::LANES,
        Precision::F64 => F64x4::LANES,
    };
    // Both precisions run the AVX2 copy on a CPU with AVX-512 (see `train_method`).
    let name = if name == "avx512" { "avx2" } else { name };
    (name, lanes)
}

/// Which compiled copy of the training loop runs (as the lockstep engine's [`LaneCopy`]).
#[derive(Clone, Copy)]
enum Copy {
    Baseline,
    Avx2,
}

impl Copy {
    #[allow(clippy::too_many_arguments)]
    fn fit<R: Real, U: LaneRule>(
        self,
        net: &Mlp,
        data: &Dataset,
        rule: &U,
        inits: &[Vec<f64>],
        seeds: &[u64],
        opts: FitOptions,
        cancel: &AtomicBool,
    ) -> Vec<FitRun> {
        match self {
            Copy::Baseline => fit_group::<R, U>(net, data, rule, inits, seeds, opts, cancel),
            // SAFETY: `LaneCopy::chosen` found the features on this CPU.
            #[cfg(target_arch = "x86_64")]
            Copy::Avx2 => unsafe { fit_avx2::<R, U>(net, data, rule, inits, seeds, opts, cancel) },
            #[cfg(not(target_arch = "x86_64"))]
            _ => fit_group::<R, U>(net, data, rule, inits, seeds, opts, cancel),
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,avx2")]
#[allow(clippy::too_many_arguments)]
fn fit_avx2<R: Real, U: LaneRule>(
    net: &Mlp,
    data: &Dataset,
    rule: &U,
    inits: &[Vec<f64>],
    seeds: &[u64],
    opts: FitOptions,
    cancel: &AtomicBool,
) -> Vec<FitRun> {
    fit_group::<R, U>(net, data, rule, inits, seeds, opts, cancel)
}

/// One method's line of a `train` study.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainRow {
    pub method: String,
    pub runs: usize,
    /// Share of runs that did not diverge and whose final training loss is at most the target,
    /// with its Wilson 95% interval.
    pub success_rate: f64,
    pub success_rate_low: f64,
    pub success_rate_high: f64,
    /// Share of runs whose training loss was at most the target after some update.
    pub reached_rate: f64,
    /// Expected updates to reach the target with independent restarts (COCO's ERT; see
    /// `lab::stats::ert`), with its 95% bootstrap interval; `None` when no run reached it.
    pub ert: Option<f64>,
    pub ert_low: Option<f64>,
    pub ert_high: Option<f64>,
    /// Median first update at which the runs that reached the target did.
    pub median_updates_to_success: Option<f64>,
    /// Runs whose training loss stopped being finite.
    pub diverged: usize,
    /// Share of runs that did not diverge, ended above the target, and had settled there (the
    /// gradient's norm at most `gtol`): ended in a worse minimum (or a saddle) than the best
    /// found. With its Wilson interval.
    pub worse_minimum_rate: f64,
    pub worse_minimum_low: f64,
    pub worse_minimum_high: f64,
    /// Share of runs that ended above the target still descending (gradient norm above
    /// `gtol`): more updates might have reached it.
    pub still_descending_rate: f64,
    /// Over the runs that did not diverge: the lowest and the median final training loss, the
    /// median test loss, and the mean and median test accuracy (for values: test MSE).
    pub best_final_loss: Option<f64>,
    pub median_final_loss: Option<f64>,
    pub median_test_loss: Option<f64>,
    pub mean_test_accuracy: Option<f64>,
    pub median_test_accuracy: Option<f64>,
    pub mean_train_accuracy: Option<f64>,
    pub seconds: f64,
}

/// What a run did, against the study's target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fate {
    Diverged,
    /// Ended at most the target above... at or below the target.
    Success,
    WorseMinimum,
    StillDescending,
}

impl Fate {
    pub fn of(run: &FitRun, target: f64, gtol: f64) -> Self {
        if run.diverged_at.is_some() {
            Fate::Diverged
        } else if run.final_loss <= target {
            Fate::Success
        } else if run.grad_norm <= gtol {
            Fate::WorseMinimum
        } else {
            Fate::StillDescending
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Fate::Diverged => "diverged",
            Fate::Success => "success",
            Fate::WorseMinimum => "worse-minimum",
            Fate::StillDescending => "still-descending",
        }
    }
}

/// The lowest training loss any of these runs found (infinite when none was finite).
pub fn lowest_loss<'a>(runs: impl IntoIterator<Item = &'a FitRun>) -> f64 {
    runs.into_iter()
        .map(FitRun::lowest)
        .fold(f64::INFINITY, f64::min)
}

/// The study's target: the given one, or the lowest loss found plus `tol`.
pub fn target_of(setup: &TrainSetup, lowest: f64) -> f64 {
    setup.target.unwrap_or(lowest + setup.tol)
}

/// The row of one method's runs against `target`; the bootstrap is seeded by the study's
/// seed and the method's id.
pub fn row_of(
    method: &str,
    runs: &[FitRun],
    target: f64,
    setup: &TrainSetup,
    seconds: f64,
) -> TrainRow {
    let n = runs.len();
    let fates: Vec<Fate> = runs
        .iter()
        .map(|r| Fate::of(r, target, setup.gtol))
        .collect();
    let count = |f: Fate| fates.iter().filter(|x| **x == f).count();
    let successes = count(Fate::Success);
    let worse = count(Fate::WorseMinimum);
    let (lo, hi) = wilson(successes, n);
    let (wlo, whi) = wilson(worse, n);
    let runtimes: Vec<Runtime> = runs
        .iter()
        .map(|r| Runtime {
            updates: r.updates,
            first_success: r.first_at_most(target),
        })
        .collect();
    let reached: Vec<f64> = runtimes
        .iter()
        .filter_map(|r| r.first_success.map(|u| u as f64))
        .collect();
    let (ert_low, ert_high) = ert_interval(&runtimes, setup.seed ^ super::race::id_hash(method));
    let alive: Vec<&FitRun> = runs.iter().filter(|r| r.diverged_at.is_none()).collect();
    let finals: Vec<f64> = alive.iter().map(|r| r.final_loss).collect();
    let tests: Vec<f64> = alive.iter().map(|r| r.test_loss).collect();
    let accs: Vec<f64> = alive
        .iter()
        .map(|r| r.test_accuracy)
        .filter(|v| v.is_finite())
        .collect();
    let train_accs: Vec<f64> = alive
        .iter()
        .map(|r| r.train_accuracy)
        .filter(|v| v.is_finite())
        .collect();
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    TrainRow {
        method: method.to_string(),
        runs: n,
        success_rate: successes as f64 / n.max(1) as f64,
        success_rate_low: lo,
        success_rate_high: hi,
        reached_rate: reached.len() as f64 / n.max(1) as f64,
        ert: ert(&runtimes),
        ert_low,
        ert_high,
        median_updates_to_success: median(&reached),
        diverged: count(Fate::Diverged),
        worse_minimum_rate: worse as f64 / n.max(1) as f64,
        worse_minimum_low: wlo,
        worse_minimum_high: whi,
        still_descending_rate: count(Fate::StillDescending) as f64 / n.max(1) as f64,
        best_final_loss: finals
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .reduce(f64::min),
        median_final_loss: median(&finals),
        median_test_loss: median(&tests),
        mean_test_accuracy: mean(&accs),
        median_test_accuracy: median(&accs),
        mean_train_accuracy: mean(&train_accs),
        seconds,
    }
}

/// The ECDF targets of a study: 51 precisions (a loss minus the lowest found), COCO's ten
/// decades at five per decade from the median precision of the first parameters down, as
/// `lab::ecdf::targets` scales a surface's.
pub fn ecdf_targets(runs: &[FitRun], lowest: f64) -> Vec<f64> {
    let starts: Vec<f64> = runs
        .iter()
        .filter_map(|r| {
            r.trail
                .first()
                .filter(|(t, _)| *t == 0)
                .map(|(_, v)| (v - lowest).max(0.0))
        })
        .collect();
    let m = match median(&starts) {
        Some(m) if m > 0.0 => m,
        _ => 1.0,
    };
    (0..51).map(|i| m * 10f64.powf(-0.2 * i as f64)).collect()
}

/// One method's runtime distribution over `targets` of precision, at budgets of updates
/// ([`budgets`]).
pub fn ecdf_of(
    method: &str,
    runs: &[FitRun],
    steps: u64,
    lowest: f64,
    targets: &[f64],
) -> EcdfCurve {
    let b = budgets(steps);
    let best: Vec<f64> = runs
        .iter()
        .flat_map(|r| b.iter().map(move |&u| (r.best_within(u) - lowest).max(0.0)))
        .collect();
    EcdfCurve {
        method: method.to_string(),
        fractions: fractions(&best, b.len(), targets),
        budgets: b,
        in_evals: false,
        lowest,
    }
}

/// A finished study: every method's runs and their statistics.
#[derive(Clone, Debug)]
pub struct TrainStudy {
    pub setup: TrainSetup,
    /// The rows' names (a tuned method's: `ID tuned`, before its defaults' `ID`) and methods.
    pub methods: Vec<String>,
    pub opts: Vec<Optimizer>,
    /// With tuning, each method's ([`tune::tune_method`]).
    pub tuning: Vec<tune::TrainTuning>,
    /// `runs[m][i]`: method `m`'s run from initialization `i`.
    pub runs: Vec<Vec<FitRun>>,
    /// The lowest training loss any run found, and the target against it.
    pub lowest: f64,
    pub target: f64,
    pub rows: Vec<TrainRow>,
    /// The ECDFs' targets of precision and one curve per method.
    pub targets: Vec<f64>,
    pub ecdf: Vec<EcdfCurve>,
    /// Stopped before every run ended (the runs end where they were).
    pub cancelled: bool,
}

/// Trains every method (each checked by [`TrainSetup::check_method`]) and gathers the
/// statistics. `progress` counts finished runs and cancels.
pub fn study(setup: TrainSetup, opts: &[Optimizer], progress: &Progress) -> TrainStudy {
    // With tuning: each method's tuned setting, then its defaults.
    let mut tuning = Vec::new();
    let mut entries: Vec<(String, Optimizer)> = Vec::new();
    for o in opts {
        if setup.tune_budget > 1 {
            match tune::tune_method(&setup, o, setup.tune_budget, progress) {
                Ok(t) => {
                    entries.push((format!("{} tuned", o.id), t.opt.clone()));
                    tuning.push(t);
                }
                // Cancelled: the study ends with what it has.
                Err(_) => break,
            }
        }
        entries.push((o.id.clone(), o.clone()));
    }
    study_of(setup, entries, tuning, progress)
}

/// Trains each named setting (checked by [`TrainSetup::check_method`]) on the setup's
/// initializations and gathers the statistics: [`study`]'s second half, and a phase map's
/// ([`phase::train_phase`]) whole.
pub(crate) fn study_of(
    setup: TrainSetup,
    entries: Vec<(String, Optimizer)>,
    tuning: Vec<tune::TrainTuning>,
    progress: &Progress,
) -> TrainStudy {
    let mut runs = Vec::new();
    let mut seconds = Vec::new();
    for (_, o) in &entries {
        let t0 = crate::lab::pace::Instant::now();
        runs.push(train_method(&setup, o, &progress.done, &progress.cancel));
        seconds.push(t0.elapsed().as_secs_f64());
    }
    let lowest = lowest_loss(runs.iter().flatten());
    let target = target_of(&setup, lowest);
    let methods: Vec<String> = entries.iter().map(|(m, _)| m.clone()).collect();
    let rows = methods
        .iter()
        .zip(&runs)
        .zip(&seconds)
        .map(|((m, r), s)| row_of(m, r, target, &setup, *s))
        .collect();
    let all: Vec<FitRun> = runs.first().cloned().unwrap_or_default();
    let targets = ecdf_targets(&all, lowest);
    let ecdf = methods
        .iter()
        .zip(&runs)
        .map(|(m, r)| ecdf_of(m, r, setup.steps, lowest, &targets))
        .collect();
    TrainStudy {
        cancelled: progress.cancelled(),
        setup,
        methods,
        opts: entries.into_iter().map(|(_, o)| o).collect(),
        tuning,
        runs,
        lowest,
        target,
        rows,
        targets,
        ecdf,
    }
}

/// Runs a study makes (for progress bars): the tuning's and each row's.
pub fn study_runs(setup: &TrainSetup, opts: &[Optimizer]) -> usize {
    if setup.tune_budget > 1 {
        tune::tune_runs(setup, opts, setup.tune_budget) + 2 * opts.len() * setup.starts
    } else {
        opts.len() * setup.starts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::DataSpec;

    /// The default network on moons, `starts` runs of `steps` updates, weights kept.
    pub(super) fn setup(starts: usize, steps: u64) -> TrainSetup {
        TrainSetup {
            net: Mlp::default(),
            data: DataSpec::named("moons")
                .expect("built in")
                .generate()
                .expect("data"),
            init: Init::Glorot,
            steps,
            starts,
            seed: 7,
            precision: Precision::F64,
            target: None,
            tol: 0.01,
            gtol: 1e-3,
            keep_weights: true,
            tune_budget: 1,
            path_runs: 0,
            path_every: 0,
        }
    }

    #[test]
    fn a_network_trains_the_same_in_every_lane_and_copy() {
        let s = setup(9, 30);
        let opt = Optimizer::by_id("adam").expect("adam");
        let (d, c) = (AtomicUsize::new(0), AtomicBool::new(false));
        let runs = train_method(&s, &opt, &d, &c);
        assert_eq!(runs.len(), 9);
        assert_eq!(d.load(Ordering::Relaxed), 9);
        // Run 5 alone, on one f64 lane, equals run 5 of the study bit for bit.
        let rule = match &opt.rule {
            crate::optim::Rule::Adam(a) => a.clone(),
            _ => unreachable!(),
        };
        let opts = FitOptions {
            steps: 30,
            keep_weights: true,
            path_every: 0,
        };
        let alone = fit_group::<f64, crate::optim::Adam>(
            &s.net,
            &s.data,
            &rule,
            &[s.init_of(5)],
            &[super::super::run_seed(7, 5)],
            opts,
            &c,
        );
        assert_eq!(alone[0], runs[5]);
        assert!(runs[5].final_loss < runs[5].trail[0].1);
    }
}
