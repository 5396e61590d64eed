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
    /// Keep the parameters every this many updates and at the last (0: never), for
    /// projections of the path.
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
    /// The parameters every `path_every` updates, the first and the last ones included.
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
    let mut f = Fitting::<R, U>::new(net, rule, inits, seeds, opts);
    while f.observe(net, data) && !cancel.load(Ordering::Relaxed) {
        f.update(rule);
    }
    f.finish(net, data)
}

/// The Euclidean norm of lane `i` of a vector.
fn lane_norm<R: Real>(v: &[R], i: usize) -> f64 {
    v.iter().map(|g| g.lane(i) * g.lane(i)).sum::<f64>().sqrt()
}

/// A group of networks in training, one per lane, an update at a time: [`fit_group`] is
/// `new`, then `observe` and `update` in turn, then `finish`; the sandbox's network balls step
/// the same loop a frame at a time.
pub struct Fitting<R: Real, U: LaneRule> {
    opts: FitOptions,
    lanes: usize,
    layers: Vec<(usize, usize, usize, usize)>,
    theta: Vec<R>,
    grad: Vec<R>,
    loss: R,
    scratch: Scratch<R>,
    state: VectorState<U, R>,
    rngs: Vec<Rng>,
    runs: Vec<FitRun>,
    alive: Vec<bool>,
    best: Vec<f64>,
    first: Vec<f64>,
    t: u64,
}

impl<R: Real, U: LaneRule> Fitting<R, U> {
    /// The group at its first parameters (see [`fit_group`] for `inits` and `seeds`).
    #[inline(always)]
    pub fn new(net: &Mlp, rule: &U, inits: &[Vec<f64>], seeds: &[u64], opts: FitOptions) -> Self {
        let lanes = inits.len().min(R::LANES);
        let p = net.params();
        let lane_of = |i: usize| i.min(lanes - 1);
        let theta: Vec<R> = (0..p)
            .map(|k| R::from_fn(|i| inits[lane_of(i)][k]))
            .collect();
        let runs: Vec<FitRun> = (0..lanes)
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
        Self {
            opts,
            lanes,
            layers: net.layers(),
            theta,
            grad: vec![R::splat(0.0); p],
            loss: R::splat(f64::NAN),
            scratch: Scratch::<R>::new(net),
            state: VectorState::<U, R>::new(rule, p),
            rngs: (0..R::LANES).map(|i| Rng::new(seeds[lane_of(i)])).collect(),
            runs,
            alive: vec![true; lanes],
            best: vec![f64::INFINITY; lanes],
            first: vec![f64::INFINITY; lanes],
            t: 0,
        }
    }

    /// The loss and gradient at the current parameters, recorded in each lane's run (a lane
    /// whose loss stops being finite or rises [`DIVERGED_RISE`]-fold is marked diverged).
    /// Returns whether to go on: some lane still trains and fewer than `opts.steps` updates
    /// were made.
    #[inline(always)]
    pub fn observe(&mut self, net: &Mlp, data: &Dataset) -> bool {
        let t = self.t;
        let opts = self.opts;
        let loss = loss_grad(
            net,
            &self.layers,
            &data.train,
            data.labels,
            &self.theta,
            Some(&mut self.grad),
            &mut self.scratch,
        );
        self.loss = loss;
        for i in 0..self.lanes {
            if !self.alive[i] {
                continue;
            }
            let run = &mut self.runs[i];
            let v = loss.lane(i);
            if t == 0 {
                self.first[i] = v;
            }
            if !v.is_finite() || v > DIVERGED_RISE * self.first[i] {
                self.alive[i] = false;
                run.diverged_at = Some(t);
                run.updates = t;
                run.final_loss = v;
                run.grad_norm = f64::NAN;
                continue;
            }
            if v < self.best[i] {
                self.best[i] = v;
                run.trail.push((t as u32, v));
            }
            if opts.path_every > 0 && (t.is_multiple_of(opts.path_every) || t == opts.steps) {
                run.path
                    .push(self.theta.iter().map(|x| x.lane(i)).collect());
            }
            run.updates = t;
            run.final_loss = v;
            if t == opts.steps {
                run.grad_norm = lane_norm(&self.grad, i);
            }
        }
        t < opts.steps && self.alive.iter().any(|a| *a)
    }

    /// One update of every lane by `rule`, from the gradient `observe` computed.
    #[inline(always)]
    pub fn update(&mut self, rule: &U) {
        self.state
            .step(rule, &mut self.theta, &self.grad, &mut self.rngs);
        self.t += 1;
    }

    /// Updates made.
    pub fn updates(&self) -> u64 {
        self.t
    }

    /// Lane `i`'s training loss at the last `observe`.
    pub fn loss(&self, i: usize) -> f64 {
        self.loss.lane(i)
    }

    /// Lane `i`'s gradient norm at the last `observe`.
    pub fn grad_norm(&self, i: usize) -> f64 {
        lane_norm(&self.grad, i)
    }

    /// Lane `i`'s current parameters.
    pub fn params(&self, i: usize) -> Vec<f64> {
        self.theta.iter().map(|v| v.lane(i)).collect()
    }

    /// Lane `i`'s run as recorded so far.
    pub fn run(&self, i: usize) -> &FitRun {
        &self.runs[i]
    }

    /// Accuracy on the training set, then the test set's loss (without the penalty) and
    /// accuracy (NaN without a test set), at the current parameters.
    #[inline(always)]
    pub fn evaluate(&mut self, net: &Mlp, data: &Dataset) -> (R, R, R) {
        let labels = data.labels;
        let (layers, theta, scratch) = (&self.layers, &self.theta, &mut self.scratch);
        let train_acc = accuracy(net, layers, &data.train, labels, theta, scratch);
        if data.test.is_empty() {
            return (train_acc, R::splat(f64::NAN), R::splat(f64::NAN));
        }
        let plain = Mlp {
            weight_decay: 0.0,
            ..net.clone()
        };
        let test_loss = loss_grad(&plain, layers, &data.test, labels, theta, None, scratch);
        let test_acc = accuracy(net, layers, &data.test, labels, theta, scratch);
        (train_acc, test_loss, test_acc)
    }

    /// The runs as they ended (a run that stopped early, cancelled, ends where it was).
    #[inline(always)]
    pub fn finish(mut self, net: &Mlp, data: &Dataset) -> Vec<FitRun> {
        let (train_acc, test_loss, test_acc) = self.evaluate(net, data);
        let keep = self.opts.keep_weights;
        for (i, run) in self.runs.iter_mut().enumerate() {
            if keep {
                run.weights = self.theta.iter().map(|v| v.lane(i)).collect();
            }
            if self.alive[i] {
                run.train_accuracy = train_acc.lane(i);
                run.test_loss = test_loss.lane(i);
                run.test_accuracy = test_acc.lane(i);
            } else {
                run.train_accuracy = f64::NAN;
                run.test_loss = f64::NAN;
                run.test_accuracy = f64::NAN;
            }
        }
        self.runs
    }
}
