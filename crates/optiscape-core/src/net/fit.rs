//! Training a group of networks in lockstep, one per lane: full-batch updates of an update rule
//! ([`VectorState`]), the loss and its exact gradient from [`loss_grad`], and what each run
//! leaves behind ([`FitRun`]). Written for any lane type; the lab runs groups on every core.

use super::data::Dataset;
use super::mlp::{Mlp, Scratch, accuracy, loss_grad};
use crate::lanes::Real;
use crate::optim::{LaneRule, Rng, VectorState};
use std::sync::atomic::{AtomicBool, Ordering};

/// A run has diverged when its training loss rises above this many times its first value (or
/// stops being finite): no training that converges does that, and a learning rate far too
/// large does it within a few updates (the loss of saturated units stays finite).
pub const DIVERGED_RISE: f64 = 1e3;

/// What a group's runs do besides training.
#[derive(Clone, Copy, Debug, Default)]
pub struct FitOptions {
    /// Updates per run.
    pub steps: u64,
    /// Keep each run's first and last parameters.
    pub keep_weights: bool,
    /// Keep the parameters every this many updates (0: never), for projections of the path.
    pub path_every: u64,
}

/// One training run, as it ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FitRun {
    /// The update after which the training loss stopped being finite or rose above
    /// [`DIVERGED_RISE`] times its first value (the run stopped there).
    pub diverged_at: Option<u64>,
    /// Updates made.
    pub updates: u64,
    /// Each fall of the lowest training loss so far: `(updates made, loss)`, from the first
    /// parameters (0 updates) on. The lowest loss within any budget of updates, and the first
    /// update at which any target was reached, are read from it exactly.
    pub trail: Vec<(u32, f64)>,
    /// The training loss at the end (the penalty included), its gradient's Euclidean norm.
    pub final_loss: f64,
    pub grad_norm: f64,
    /// Accuracy on the training and test sets (for values: their mean squared error), and the
    /// test set's loss (without the penalty); NaN when there is no test set.
    pub train_accuracy: f64,
    pub test_loss: f64,
    pub test_accuracy: f64,
    /// The first and last parameters (with `keep_weights`).
    pub initial: Vec<f64>,
    pub weights: Vec<f64>,
    /// The parameters every `path_every` updates, the first ones included.
    pub path: Vec<Vec<f64>>,
}

impl FitRun {
    /// The lowest training loss within `budget` updates (infinite when none was finite).
    pub fn best_within(&self, budget: u64) -> f64 {
        let k = self.trail.partition_point(|(t, _)| u64::from(*t) <= budget);
        if k == 0 {
            f64::INFINITY
        } else {
            self.trail[k - 1].1
        }
    }

    /// The first update count at which the training loss was at most `target`.
    pub fn first_at_most(&self, target: f64) -> Option<u64> {
        self.trail
            .iter()
            .find(|(_, v)| *v <= target)
            .map(|(t, _)| u64::from(*t))
    }

    /// The lowest training loss the run found.
    pub fn lowest(&self) -> f64 {
        self.trail.last().map_or(f64::INFINITY, |(_, v)| *v)
    }
}

/// Trains one network per lane (`inits.len()` of them, at most `R::LANES`; the other lanes
/// repeat the last) with `rule` for `opts.steps` full-batch updates on `data`'s training set.
/// `seeds[i]` seeds lane `i`'s random source (noisy rules). A lane whose loss stops being
/// finite is marked diverged and its record ends there. `cancel` stops between updates.
#[inline(always)]
pub fn fit_group<R: Real, U: LaneRule>(
    net: &Mlp,
    data: &Dataset,
    rule: &U,
    inits: &[Vec<f64>],
    seeds: &[u64],
    opts: FitOptions,
    cancel: &AtomicBool,
) -> Vec<FitRun> {
    let lanes = inits.len().min(R::LANES);
    let p = net.params();
    let layers = net.layers();
    let lane_of = |i: usize| i.min(lanes - 1);
    let mut theta: Vec<R> = (0..p)
        .map(|k| R::from_fn(|i| inits[lane_of(i)][k]))
        .collect();
    let mut grad = vec![R::splat(0.0); p];
    let mut scratch = Scratch::<R>::new(net);
    let mut state = VectorState::<U, R>::new(rule, p);
    let mut rngs: Vec<Rng> = (0..R::LANES).map(|i| Rng::new(seeds[lane_of(i)])).collect();
    let mut runs: Vec<FitRun> = (0..lanes)
        .map(|i| FitRun {
            initial: if opts.keep_weights {
                // The parameters as the lanes hold them (rounded to f32 in single precision).
                theta.iter().map(|v| v.lane(i)).collect()
            } else {
                Vec::new()
            },
            ..FitRun::default()
        })
        .collect();
    let mut alive = vec![true; lanes];
    let mut best = vec![f64::INFINITY; lanes];
    let mut first = vec![f64::INFINITY; lanes];
    let labels = data.labels;
    let mut t = 0u64;
    loop {
        let loss = loss_grad(
            net,
            &layers,
            &data.train,
            labels,
            &theta,
            Some(&mut grad),
            &mut scratch,
        );
        for i in 0..lanes {
            if !alive[i] {
                continue;
            }
            let v = loss.lane(i);
            if t == 0 {
                first[i] = v;
            }
            if !v.is_finite() || v > DIVERGED_RISE * first[i] {
                alive[i] = false;
                runs[i].diverged_at = Some(t);
                runs[i].updates = t;
                runs[i].final_loss = v;
                runs[i].grad_norm = f64::NAN;
                continue;
            }
            if v < best[i] {
                best[i] = v;
                runs[i].trail.push((t as u32, v));
            }
            if opts.path_every > 0 && t.is_multiple_of(opts.path_every) {
                runs[i].path.push(theta.iter().map(|x| x.lane(i)).collect());
            }
            if t == opts.steps {
                runs[i].updates = t;
                runs[i].final_loss = v;
                runs[i].grad_norm = grad
                    .iter()
                    .map(|g| g.lane(i) * g.lane(i))
                    .sum::<f64>()
                    .sqrt();
            }
        }
        if t == opts.steps || !alive.iter().any(|a| *a) || cancel.load(Ordering::Relaxed) {
            break;
        }
        state.step(rule, &mut theta, &grad, &mut rngs);
        t += 1;
    }
    let train_acc = accuracy(net, &layers, &data.train, labels, &theta, &mut scratch);
    let (test_loss, test_acc) = if data.test.is_empty() {
        (R::splat(f64::NAN), R::splat(f64::NAN))
    } else {
        let plain = Mlp {
            weight_decay: 0.0,
            ..net.clone()
        };
        (
            loss_grad(
                &plain,
                &layers,
                &data.test,
                labels,
                &theta,
                None,
                &mut scratch,
            ),
            accuracy(net, &layers, &data.test, labels, &theta, &mut scratch),
        )
    };
    for (i, run) in runs.iter_mut().enumerate() {
        if opts.keep_weights {
            run.weights = theta.iter().map(|v| v.lane(i)).collect();
        }
        if alive[i] {
            run.train_accuracy = train_acc.lane(i);
            run.test_loss = test_loss.lane(i);
            run.test_accuracy = test_acc.lane(i);
        } else {
            run.train_accuracy = f64::NAN;
            run.test_loss = f64::NAN;
            run.test_accuracy = f64::NAN;
        }
    }
    runs
}
