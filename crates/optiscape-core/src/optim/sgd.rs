//! Plain and momentum gradient descent: torch.optim.SGD in its three forms, the notebook's own
//! momentum, and Langevin dynamics (noisy SGD with a cooling temperature).

use super::params::{Param, ParamSpec, common};
use super::rng::{Rng, normal2_lanes};
use super::{LaneRule, StateValue, UpdateRule};
use crate::lanes::{Real, V2};
use glam::DVec2;
use serde::{Deserialize, Serialize};

/// torch.optim.SGD without momentum: `g = grad + weight_decay * theta; theta -= lr * g`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sgd {
    pub lr: f64,
    pub weight_decay: f64,
}

impl Default for Sgd {
    /// torch.optim.SGD defaults: `lr = 1e-3`, `weight_decay = 0`.
    fn default() -> Self {
        Self {
            lr: 1e-3,
            weight_decay: 0.0,
        }
    }
}

impl LaneRule for Sgd {
    type State<R: Real> = ();
    type Shared = ();
    fn fresh<R: Real>(&self) {}
    fn shared(&self, _t: u64, _prev: Option<()>) {}
    #[inline(always)]
    fn update<R: Real>(
        &self,
        _k: (),
        _s: &mut (),
        pos: V2<R>,
        grad: V2<R>,
        _rng: &mut [Rng],
    ) -> V2<R> {
        let g = weight_decay_lanes(grad, pos, self.weight_decay);
        g.scale(R::splat(-self.lr))
    }
}

impl UpdateRule for Sgd {
    fn step(&mut self, pos: DVec2, grad: DVec2, rng: &mut Rng) -> DVec2 {
        self.update(
            (),
            &mut (),
            V2::of(pos),
            V2::of(grad),
            std::slice::from_mut(rng),
        )
        .into()
    }

    fn reset(&mut self) {}

    fn params(&mut self) -> Vec<Param<'_>> {
        vec![
            Param::num(&common::LR, &mut self.lr),
            Param::num(&common::WEIGHT_DECAY, &mut self.weight_decay),
        ]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        Vec::new()
    }
}

/// torch.optim.SGD with momentum (dampening 0), optionally Nesterov's form:
/// `b = g` on the first step, then `b = momentum * b + g`; the step uses `g + momentum * b`
/// (Nesterov) or `b` (heavy ball); `theta -= lr * step`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MomentumSgd {
    pub lr: f64,
    pub momentum: f64,
    pub weight_decay: f64,
    /// Fixed by the method (`heavy-ball` or `nesterov`), not a user setting.
    pub nesterov: bool,
    /// The momentum buffer; `None` before the first step (torch initialises it to the gradient).
    pub buf: Option<DVec2>,
}

impl MomentumSgd {
    /// torch defaults except `momentum = 0.9` (torch's default 0 would be plain SGD).
    pub fn new(nesterov: bool) -> Self {
        Self {
            lr: 1e-3,
            momentum: 0.9,
            weight_decay: 0.0,
            nesterov,
            buf: None,
        }
    }
}

impl LaneRule for MomentumSgd {
    type State<R: Real> = V2<R>;
    /// The first step (the buffer starts as the gradient).
    type Shared = bool;
    fn fresh<R: Real>(&self) -> V2<R> {
        V2::splat(0.0)
    }
    fn shared(&self, t: u64, _prev: Option<bool>) -> bool {
        t == 1
    }
    #[inline(always)]
    fn update<R: Real>(
        &self,
        first: bool,
        buf: &mut V2<R>,
        pos: V2<R>,
        grad: V2<R>,
        _rng: &mut [Rng],
    ) -> V2<R> {
        let g = weight_decay_lanes(grad, pos, self.weight_decay);
        let m = R::splat(self.momentum);
        let b = if first { g } else { buf.scale(m) + g };
        *buf = b;
        let d = if self.nesterov { g + b.scale(m) } else { b };
        d.scale(R::splat(-self.lr))
    }
}

impl UpdateRule for MomentumSgd {
    fn step(&mut self, pos: DVec2, grad: DVec2, rng: &mut Rng) -> DVec2 {
        let first = self.buf.is_none();
        let mut buf = V2::of(self.buf.unwrap_or(DVec2::ZERO));
        let d = self.update(
            first,
            &mut buf,
            V2::of(pos),
            V2::of(grad),
            std::slice::from_mut(rng),
        );
        self.buf = Some(buf.into());
        d.into()
    }

    fn reset(&mut self) {
        self.buf = None;
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        vec![
            Param::num(&common::LR, &mut self.lr),
            Param::num(&common::MOMENTUM, &mut self.momentum),
            Param::num(&common::WEIGHT_DECAY, &mut self.weight_decay),
        ]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        vec![(
            "momentum_buffer",
            StateValue::Vec(self.buf.unwrap_or(DVec2::ZERO)),
        )]
    }
}

/// The notebook's momentum (`momentum_updates`): Theano applies both updates at once, so the
/// parameter moves with the velocity from before the step:
/// `theta -= lr * v; v = momentum * v + (1 - momentum) * grad`, with `v` starting at 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NotebookMomentum {
    pub lr: f64,
    pub momentum: f64,
    pub v: DVec2,
}

impl Default for NotebookMomentum {
    /// The notebook's call: `momentum_updates(cost, [position], 0.2, 0.2)`.
    fn default() -> Self {
        Self {
            lr: 0.2,
            momentum: 0.2,
            v: DVec2::ZERO,
        }
    }
}

impl LaneRule for NotebookMomentum {
    type State<R: Real> = V2<R>;
    type Shared = ();
    fn fresh<R: Real>(&self) -> V2<R> {
        V2::splat(0.0)
    }
    fn shared(&self, _t: u64, _prev: Option<()>) {}
    #[inline(always)]
    fn update<R: Real>(
        &self,
        _k: (),
        v: &mut V2<R>,
        _pos: V2<R>,
        grad: V2<R>,
        _rng: &mut [Rng],
    ) -> V2<R> {
        let d = -v.scale(R::splat(self.lr));
        *v = v.scale(R::splat(self.momentum)) + grad.scale(R::splat(1.0 - self.momentum));
        d
    }
}

impl UpdateRule for NotebookMomentum {
    fn step(&mut self, pos: DVec2, grad: DVec2, rng: &mut Rng) -> DVec2 {
        let mut v = V2::of(self.v);
        let d = self.update(
            (),
            &mut v,
            V2::of(pos),
            V2::of(grad),
            std::slice::from_mut(rng),
        );
        self.v = v.into();
        d.into()
    }

    fn reset(&mut self) {
        self.v = DVec2::ZERO;
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        vec![
            Param::num(&common::LR, &mut self.lr),
            Param::num(&common::MOMENTUM, &mut self.momentum),
        ]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        vec![("velocity", StateValue::Vec(self.v))]
    }
}

static TEMPERATURE: ParamSpec =
    ParamSpec::non_negative("temperature", "initial temperature T0 of the noise", 5.0);
static TEMP_DECAY: ParamSpec = ParamSpec::factor(
    "temp_decay",
    "factor the temperature is multiplied by after each step",
);

/// Langevin dynamics (unadjusted Langevin algorithm, Welling & Teh 2011 without minibatches):
/// `theta += -lr * g + sqrt(2 * lr * T_t) * xi`, `xi ~ N(0, I)`, `T_t = temperature * temp_decay^t`
/// for the `t`-th step (from 0): noisy SGD that can hop out of local minima, then cools.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Langevin {
    pub lr: f64,
    pub temperature: f64,
    pub temp_decay: f64,
    pub weight_decay: f64,
    /// The current temperature `T_t`.
    pub temp: f64,
}

impl Default for Langevin {
    fn default() -> Self {
        Self {
            lr: 1e-2,
            temperature: 0.5,
            temp_decay: 0.99,
            weight_decay: 0.0,
            temp: 0.5,
        }
    }
}

impl Langevin {
    /// `(std, T_t)` for the temperature `T_t` of this step.
    fn at(&self, temp: f64) -> (f64, f64) {
        ((2.0 * self.lr * temp).sqrt(), temp)
    }
}

impl LaneRule for Langevin {
    type State<R: Real> = ();
    /// `(sqrt(2 lr T_t), T_t)`: the temperature cools by one factor per step, from `prev`.
    type Shared = (f64, f64);
    fn fresh<R: Real>(&self) {}
    fn shared(&self, t: u64, prev: Option<(f64, f64)>) -> (f64, f64) {
        let temp = match prev {
            Some((_, before)) => before * self.temp_decay,
            None => (1..t).fold(self.temperature, |temp, _| temp * self.temp_decay),
        };
        self.at(temp)
    }
    #[inline(always)]
    fn update<R: Real>(
        &self,
        (std, _temp): (f64, f64),
        _s: &mut (),
        pos: V2<R>,
        grad: V2<R>,
        rng: &mut [Rng],
    ) -> V2<R> {
        let c = R::splat;
        let g = weight_decay_lanes(grad, pos, self.weight_decay);
        let xi = normal2_lanes::<R>(rng);
        V2::scaled_by(c(-self.lr), g) + V2::scaled_by(c(std), xi)
    }
}

impl UpdateRule for Langevin {
    fn step(&mut self, pos: DVec2, grad: DVec2, rng: &mut Rng) -> DVec2 {
        let k = self.at(self.temp);
        self.temp *= self.temp_decay;
        let d = self.update(
            k,
            &mut (),
            V2::of(pos),
            V2::of(grad),
            std::slice::from_mut(rng),
        );
        d.into()
    }

    fn reset(&mut self) {
        self.temp = self.temperature;
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        vec![
            Param::num(&common::LR, &mut self.lr),
            Param::num(&TEMPERATURE, &mut self.temperature),
            Param::num(&TEMP_DECAY, &mut self.temp_decay),
            Param::num(&common::WEIGHT_DECAY, &mut self.weight_decay),
        ]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        vec![("temperature_now", StateValue::Scalar(self.temp))]
    }
}

/// [`with_weight_decay`] for any lane type.
#[inline(always)]
pub(super) fn weight_decay_lanes<R: Real>(grad: V2<R>, pos: V2<R>, weight_decay: f64) -> V2<R> {
    if weight_decay != 0.0 {
        grad + pos.scale(R::splat(weight_decay))
    } else {
        grad
    }
}
