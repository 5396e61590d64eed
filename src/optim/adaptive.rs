//! Per-coordinate adaptive step sizes from running gradient statistics: torch.optim.Adagrad,
//! torch.optim.Adadelta, torch.optim.RMSprop, and the notebook's own AdaGrad.

use super::params::{Param, ParamSpec, common};
use super::rng::Rng;
use super::sgd::with_weight_decay;
use super::{StateValue, UpdateRule};
use glam::DVec2;
use serde::{Deserialize, Serialize};

static LR_DECAY: ParamSpec = ParamSpec::non_negative("lr_decay", "learning rate decay", 1.0);
static INITIAL_ACC: ParamSpec = ParamSpec::non_negative(
    "initial_accumulator_value",
    "starting value of the sum of squared gradients",
    10.0,
);

/// torch.optim.Adagrad: `clr = lr / (1 + (t - 1) lr_decay)`, `sum += g^2`,
/// `theta -= clr * g / (sqrt(sum) + eps)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Adagrad {
    pub lr: f64,
    pub lr_decay: f64,
    pub weight_decay: f64,
    pub initial_accumulator_value: f64,
    pub eps: f64,
    pub t: u64,
    pub sum: DVec2,
}

impl Default for Adagrad {
    /// torch defaults: `lr = 1e-2`, `lr_decay = 0`, `weight_decay = 0`,
    /// `initial_accumulator_value = 0`, `eps = 1e-10`.
    fn default() -> Self {
        Self {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            t: 0,
            sum: DVec2::ZERO,
        }
    }
}

impl UpdateRule for Adagrad {
    fn step(&mut self, pos: DVec2, grad: DVec2, _rng: &mut Rng) -> DVec2 {
        self.t += 1;
        let g = with_weight_decay(grad, pos, self.weight_decay);
        let clr = self.lr / (1.0 + (self.t - 1) as f64 * self.lr_decay);
        self.sum += g * g;
        let std = self.sum.map(f64::sqrt) + self.eps;
        -clr * g / std
    }

    fn reset(&mut self) {
        self.t = 0;
        self.sum = DVec2::splat(self.initial_accumulator_value);
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        vec![
            Param::num(&common::LR, &mut self.lr),
            Param::num(&LR_DECAY, &mut self.lr_decay),
            Param::num(&common::WEIGHT_DECAY, &mut self.weight_decay),
            Param::num(&INITIAL_ACC, &mut self.initial_accumulator_value),
            Param::num(&common::EPS, &mut self.eps),
        ]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        vec![
            ("step", StateValue::Count(self.t)),
            ("sum", StateValue::Vec(self.sum)),
        ]
    }
}

static RHO: ParamSpec =
    ParamSpec::fraction("rho", "coefficient of the running averages of squares");

/// torch.optim.Adadelta: `v = rho v + (1 - rho) g^2`, `dx = sqrt(u + eps) / sqrt(v + eps) * g`,
/// `u = rho u + (1 - rho) dx^2`, `theta -= lr * dx`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Adadelta {
    pub lr: f64,
    pub rho: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub square_avg: DVec2,
    pub acc_delta: DVec2,
}

impl Default for Adadelta {
    /// torch defaults: `lr = 1.0`, `rho = 0.9`, `eps = 1e-6`, `weight_decay = 0`.
    fn default() -> Self {
        Self {
            lr: 1.0,
            rho: 0.9,
            eps: 1e-6,
            weight_decay: 0.0,
            square_avg: DVec2::ZERO,
            acc_delta: DVec2::ZERO,
        }
    }
}

impl UpdateRule for Adadelta {
    fn step(&mut self, pos: DVec2, grad: DVec2, _rng: &mut Rng) -> DVec2 {
        let g = with_weight_decay(grad, pos, self.weight_decay);
        let rho = self.rho;
        self.square_avg = self.square_avg * rho + (1.0 - rho) * g * g;
        let std = (self.square_avg + self.eps).map(f64::sqrt);
        let delta = (self.acc_delta + self.eps).map(f64::sqrt) / std * g;
        self.acc_delta = self.acc_delta * rho + (1.0 - rho) * delta * delta;
        -self.lr * delta
    }

    fn reset(&mut self) {
        self.square_avg = DVec2::ZERO;
        self.acc_delta = DVec2::ZERO;
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        vec![
            Param::num(&common::LR, &mut self.lr),
            Param::num(&RHO, &mut self.rho),
            Param::num(&common::EPS, &mut self.eps),
            Param::num(&common::WEIGHT_DECAY, &mut self.weight_decay),
        ]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        vec![
            ("square_avg", StateValue::Vec(self.square_avg)),
            ("acc_delta", StateValue::Vec(self.acc_delta)),
        ]
    }
}

static ALPHA: ParamSpec = ParamSpec::fraction("alpha", "smoothing constant");
static CENTERED: ParamSpec = ParamSpec::flag(
    "centered",
    "normalize by the estimated variance of the gradient instead of its second moment",
);

/// torch.optim.RMSprop: `v = alpha v + (1 - alpha) g^2`; centered: `g_avg = lerp(g_avg, g,
/// 1 - alpha)`, `v~ = v - g_avg^2`; with momentum: `b = momentum b + g / (sqrt(v~) + eps)`,
/// `theta -= lr b`; without: `theta -= lr g / (sqrt(v~) + eps)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rmsprop {
    pub lr: f64,
    pub alpha: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub momentum: f64,
    pub centered: bool,
    pub square_avg: DVec2,
    pub grad_avg: DVec2,
    pub buf: DVec2,
}

impl Default for Rmsprop {
    /// torch defaults: `lr = 1e-2`, `alpha = 0.99`, `eps = 1e-8`, `weight_decay = 0`,
    /// `momentum = 0`, `centered = false`.
    fn default() -> Self {
        Self {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            square_avg: DVec2::ZERO,
            grad_avg: DVec2::ZERO,
            buf: DVec2::ZERO,
        }
    }
}

impl UpdateRule for Rmsprop {
    fn step(&mut self, pos: DVec2, grad: DVec2, _rng: &mut Rng) -> DVec2 {
        let g = with_weight_decay(grad, pos, self.weight_decay);
        let alpha = self.alpha;
        self.square_avg = self.square_avg * alpha + (1.0 - alpha) * g * g;
        let avg = if self.centered {
            self.grad_avg = lerp(self.grad_avg, g, 1.0 - alpha);
            // Never below 0: rounding could make it so, where torch would produce NaN.
            (self.square_avg + -1.0 * self.grad_avg * self.grad_avg)
                .max(DVec2::ZERO)
                .map(f64::sqrt)
        } else {
            self.square_avg.map(f64::sqrt)
        } + self.eps;
        if self.momentum > 0.0 {
            self.buf = self.buf * self.momentum + g / avg;
            -self.lr * self.buf
        } else {
            -self.lr * g / avg
        }
    }

    fn reset(&mut self) {
        self.square_avg = DVec2::ZERO;
        self.grad_avg = DVec2::ZERO;
        self.buf = DVec2::ZERO;
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        vec![
            Param::num(&common::LR, &mut self.lr),
            Param::num(&ALPHA, &mut self.alpha),
            Param::num(&common::EPS, &mut self.eps),
            Param::num(&common::WEIGHT_DECAY, &mut self.weight_decay),
            Param::num(&common::MOMENTUM, &mut self.momentum),
            Param::flag(&CENTERED, &mut self.centered),
        ]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        let mut s = vec![("square_avg", StateValue::Vec(self.square_avg))];
        if self.centered {
            s.push(("grad_avg", StateValue::Vec(self.grad_avg)));
        }
        if self.momentum > 0.0 {
            s.push(("momentum_buffer", StateValue::Vec(self.buf)));
        }
        s
    }
}

static DECAY: ParamSpec = ParamSpec::fraction(
    "decay",
    "gsum regularization: the share of the accumulator forgotten each step",
);
static NOTEBOOK_EPS: ParamSpec = ParamSpec::positive_log(
    "eps",
    "term added inside the square root for numerical stability",
    1e-16,
    1.0,
);

/// The notebook's AdaGrad (`ada_updates(method="ADAGRAD")`): the accumulator starts at 1,
/// `gsum = gsum + g^2 - decay * gsum`, `theta -= lr * g / sqrt(gsum + eps)` with the new `gsum`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedAdagrad {
    pub lr: f64,
    pub decay: f64,
    pub eps: f64,
    pub gsum: DVec2,
}

impl Default for SeedAdagrad {
    /// `ada_updates` defaults: `lr = 0.01`, `gsum_regularization = 0`, `eps = 1e-6`.
    fn default() -> Self {
        Self {
            lr: 0.01,
            decay: 0.0,
            eps: 1e-6,
            gsum: DVec2::ONE,
        }
    }
}

impl UpdateRule for SeedAdagrad {
    fn step(&mut self, _pos: DVec2, grad: DVec2, _rng: &mut Rng) -> DVec2 {
        self.gsum = self.gsum + grad * grad - self.decay * self.gsum;
        -self.lr * (grad / (self.gsum + self.eps).map(f64::sqrt))
    }

    fn reset(&mut self) {
        self.gsum = DVec2::ONE;
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        vec![
            Param::num(&common::LR, &mut self.lr),
            Param::num(&DECAY, &mut self.decay),
            Param::num(&NOTEBOOK_EPS, &mut self.eps),
        ]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        vec![("gsum", StateValue::Vec(self.gsum))]
    }
}

/// torch's `lerp`: `a + w (b - a)` for `|w| < 0.5`, else `b - (b - a)(1 - w)`.
#[inline]
pub(super) fn lerp(a: DVec2, b: DVec2, w: f64) -> DVec2 {
    if w.abs() < 0.5 {
        a + (b - a) * w
    } else {
        b - (b - a) * (1.0 - w)
    }
}
