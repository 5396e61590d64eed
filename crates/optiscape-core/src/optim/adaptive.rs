//! Per-coordinate adaptive step sizes from running gradient statistics: torch.optim.Adagrad,
//! torch.optim.Adadelta, torch.optim.RMSprop, and the notebook's own AdaGrad.

use super::params::{Param, ParamSpec, common};
use super::rng::Rng;
use super::sgd::weight_decay_lanes;
use super::{LaneRule, StateValue, UpdateRule};
use crate::lanes::{Real, V2};
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

impl LaneRule for Adagrad {
    type State<R: Real> = V2<R>;
    /// The decayed learning rate `clr`.
    type Shared = f64;
    fn fresh<R: Real>(&self) -> V2<R> {
        V2::splat(self.initial_accumulator_value)
    }
    fn shared(&self, t: u64, _prev: Option<f64>) -> f64 {
        self.lr / (1.0 + (t - 1) as f64 * self.lr_decay)
    }
    #[inline(always)]
    fn update<R: Real>(
        &self,
        clr: f64,
        sum: &mut V2<R>,
        pos: V2<R>,
        grad: V2<R>,
        _rng: &mut [Rng],
    ) -> V2<R> {
        let g = weight_decay_lanes(grad, pos, self.weight_decay);
        *sum = *sum + g * g;
        let std = sum.sqrt().add_scalar(R::splat(self.eps));
        g.scale(R::splat(-clr)) / std
    }
}

impl UpdateRule for Adagrad {
    fn step(&mut self, pos: DVec2, grad: DVec2, rng: &mut Rng) -> DVec2 {
        self.t += 1;
        let mut sum = V2::of(self.sum);
        let d = self.update(
            self.shared(self.t, None),
            &mut sum,
            V2::of(pos),
            V2::of(grad),
            std::slice::from_mut(rng),
        );
        self.sum = sum.into();
        d.into()
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

impl LaneRule for Adadelta {
    /// `(square_avg, acc_delta)`.
    type State<R: Real> = (V2<R>, V2<R>);
    type Shared = ();
    fn fresh<R: Real>(&self) -> (V2<R>, V2<R>) {
        (V2::splat(0.0), V2::splat(0.0))
    }
    fn shared(&self, _t: u64, _prev: Option<()>) {}
    #[inline(always)]
    fn update<R: Real>(
        &self,
        _k: (),
        (square_avg, acc_delta): &mut (V2<R>, V2<R>),
        pos: V2<R>,
        grad: V2<R>,
        _rng: &mut [Rng],
    ) -> V2<R> {
        let c = R::splat;
        let g = weight_decay_lanes(grad, pos, self.weight_decay);
        let (rho, eps) = (c(self.rho), c(self.eps));
        *square_avg = square_avg.scale(rho) + g.scale(c(1.0 - self.rho)) * g;
        let std = square_avg.add_scalar(eps).sqrt();
        let delta = acc_delta.add_scalar(eps).sqrt() / std * g;
        *acc_delta = acc_delta.scale(rho) + delta.scale(c(1.0 - self.rho)) * delta;
        delta.scale(c(-self.lr))
    }
}

impl UpdateRule for Adadelta {
    fn step(&mut self, pos: DVec2, grad: DVec2, rng: &mut Rng) -> DVec2 {
        let mut s = (V2::of(self.square_avg), V2::of(self.acc_delta));
        let d = self.update(
            (),
            &mut s,
            V2::of(pos),
            V2::of(grad),
            std::slice::from_mut(rng),
        );
        (self.square_avg, self.acc_delta) = (s.0.into(), s.1.into());
        d.into()
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

impl LaneRule for Rmsprop {
    /// `(square_avg, grad_avg, momentum_buffer)`.
    type State<R: Real> = [V2<R>; 3];
    type Shared = ();
    fn fresh<R: Real>(&self) -> [V2<R>; 3] {
        [V2::splat(0.0); 3]
    }
    fn shared(&self, _t: u64, _prev: Option<()>) {}
    #[inline(always)]
    fn update<R: Real>(
        &self,
        _k: (),
        [square_avg, grad_avg, buf]: &mut [V2<R>; 3],
        pos: V2<R>,
        grad: V2<R>,
        _rng: &mut [Rng],
    ) -> V2<R> {
        let c = R::splat;
        let g = weight_decay_lanes(grad, pos, self.weight_decay);
        *square_avg = square_avg.scale(c(self.alpha)) + g.scale(c(1.0 - self.alpha)) * g;
        let avg = if self.centered {
            *grad_avg = lerp_lanes(*grad_avg, g, 1.0 - self.alpha);
            // Never below 0: rounding could make it so, where torch would produce NaN.
            (*square_avg + grad_avg.scale(c(-1.0)) * *grad_avg)
                .max(V2::splat(0.0))
                .sqrt()
        } else {
            square_avg.sqrt()
        }
        .add_scalar(c(self.eps));
        if self.momentum > 0.0 {
            *buf = buf.scale(c(self.momentum)) + g / avg;
            buf.scale(c(-self.lr))
        } else {
            g.scale(c(-self.lr)) / avg
        }
    }
}

impl UpdateRule for Rmsprop {
    fn step(&mut self, pos: DVec2, grad: DVec2, rng: &mut Rng) -> DVec2 {
        let mut s = [self.square_avg, self.grad_avg, self.buf].map(V2::of);
        let d = self.update(
            (),
            &mut s,
            V2::of(pos),
            V2::of(grad),
            std::slice::from_mut(rng),
        );
        [self.square_avg, self.grad_avg, self.buf] = s.map(DVec2::from);
        d.into()
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

impl LaneRule for SeedAdagrad {
    type State<R: Real> = V2<R>;
    type Shared = ();
    fn fresh<R: Real>(&self) -> V2<R> {
        V2::splat(1.0)
    }
    fn shared(&self, _t: u64, _prev: Option<()>) {}
    #[inline(always)]
    fn update<R: Real>(
        &self,
        _k: (),
        gsum: &mut V2<R>,
        _pos: V2<R>,
        grad: V2<R>,
        _rng: &mut [Rng],
    ) -> V2<R> {
        let c = R::splat;
        *gsum = *gsum + grad * grad - gsum.scale(c(self.decay));
        (grad / gsum.add_scalar(c(self.eps)).sqrt()).scale(c(-self.lr))
    }
}

impl UpdateRule for SeedAdagrad {
    fn step(&mut self, pos: DVec2, grad: DVec2, rng: &mut Rng) -> DVec2 {
        let mut gsum = V2::of(self.gsum);
        let d = self.update(
            (),
            &mut gsum,
            V2::of(pos),
            V2::of(grad),
            std::slice::from_mut(rng),
        );
        self.gsum = gsum.into();
        d.into()
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

/// [`lerp`] for any lane type (the weight is shared by all lanes).
#[inline(always)]
pub(super) fn lerp_lanes<R: Real>(a: V2<R>, b: V2<R>, w: f64) -> V2<R> {
    if w.abs() < 0.5 {
        a + (b - a).scale(R::splat(w))
    } else {
        b - (b - a).scale(R::splat(1.0 - w))
    }
}
