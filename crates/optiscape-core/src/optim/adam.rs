//! The Adam family: torch.optim.Adam (and AMSGrad), AdamW, Adamax, NAdam, RAdam, AdaBelief
//! (as its paper and reference implementation define it), and Lion (as its paper and optax
//! define it). Arithmetic follows the reference implementations' order of operations, so that
//! results agree to the last bit where possible.

use super::adaptive::lerp_lanes;
use super::params::{Param, ParamSpec, common};
use super::powers::pow_t;
use super::rng::Rng;
use super::sgd::weight_decay_lanes;
use super::{LaneRule, StateValue, UpdateRule};
use crate::lanes::{Real, V2};
use glam::DVec2;
use serde::{Deserialize, Serialize};

/// torch.optim.Adam / AdamW (the `amsgrad` flag and the decoupled weight decay are fixed by the
/// method: `adam`, `amsgrad`, `adamw`).
///
/// `m = lerp(m, g, 1 - b1)`, `v = b2 v + (1 - b2) g^2`,
/// `theta -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`; AMSGrad uses the running
/// maximum of `v` (torch keeps the maximum of the uncorrected `v`); AdamW first multiplies
/// `theta` by `1 - lr * weight_decay`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Adam {
    pub lr: f64,
    pub betas: [f64; 2],
    pub eps: f64,
    pub weight_decay: f64,
    pub amsgrad: bool,
    pub decoupled: bool,
    pub t: u64,
    pub m: DVec2,
    pub v: DVec2,
    pub v_max: DVec2,
}

impl Adam {
    /// torch defaults: `lr = 1e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`, `weight_decay` 0 for
    /// Adam and 1e-2 for AdamW.
    pub fn new(amsgrad: bool, decoupled: bool) -> Self {
        Self {
            lr: 1e-3,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: if decoupled { 1e-2 } else { 0.0 },
            amsgrad,
            decoupled,
            t: 0,
            m: DVec2::ZERO,
            v: DVec2::ZERO,
            v_max: DVec2::ZERO,
        }
    }
}

impl LaneRule for Adam {
    /// `(exp_avg, exp_avg_sq, max_exp_avg_sq)`.
    type State<R: Real> = [V2<R>; 3];
    /// `(step_size, sqrt(bias_correction2))`.
    type Shared = (f64, f64);
    fn fresh<R: Real>(&self) -> [V2<R>; 3] {
        [V2::splat(0.0); 3]
    }
    fn shared(&self, t: u64, _prev: Option<(f64, f64)>) -> (f64, f64) {
        let [b1, b2] = self.betas;
        let bias_correction1 = 1.0 - pow_t(b1, t);
        let bias_correction2 = 1.0 - pow_t(b2, t);
        (self.lr / bias_correction1, bias_correction2.sqrt())
    }
    #[inline(always)]
    fn update<R: Real>(
        &self,
        (step_size, bc2_sqrt): (f64, f64),
        [m, v, v_max]: &mut [V2<R>; 3],
        pos: V2<R>,
        grad: V2<R>,
        _rng: &mut [Rng],
    ) -> V2<R> {
        let c = R::splat;
        let [b1, b2] = self.betas;
        let mut shrink = V2::splat(0.0);
        let g = if self.decoupled {
            if self.weight_decay != 0.0 {
                shrink = pos.scale(c(1.0 - self.lr * self.weight_decay)) - pos;
            }
            grad
        } else {
            weight_decay_lanes(grad, pos, self.weight_decay)
        };
        *m = lerp_lanes(*m, g, 1.0 - b1);
        *v = v.scale(c(b2)) + g.scale(c(1.0 - b2)) * g;
        // Values, not references, on both arms: the lanes stay in vector registers.
        let second = if self.amsgrad {
            let most = v_max.max(*v);
            *v_max = most;
            most
        } else {
            *v
        };
        let denom = second.sqrt().div_by(c(bc2_sqrt)).add_scalar(c(self.eps));
        shrink + m.scale(c(-step_size)) / denom
    }
}

impl UpdateRule for Adam {
    fn step(&mut self, pos: DVec2, grad: DVec2, rng: &mut Rng) -> DVec2 {
        self.t += 1;
        let mut s = [self.m, self.v, self.v_max].map(V2::of);
        let d = self.update(
            self.shared(self.t, None),
            &mut s,
            V2::of(pos),
            V2::of(grad),
            std::slice::from_mut(rng),
        );
        [self.m, self.v, self.v_max] = s.map(DVec2::from);
        d.into()
    }

    fn reset(&mut self) {
        self.t = 0;
        self.m = DVec2::ZERO;
        self.v = DVec2::ZERO;
        self.v_max = DVec2::ZERO;
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        let wd = if self.decoupled {
            &common::DECOUPLED_WEIGHT_DECAY
        } else {
            &common::WEIGHT_DECAY
        };
        vec![
            Param::num(&common::LR, &mut self.lr),
            Param::pair(&common::BETAS, &mut self.betas),
            Param::num(&common::EPS, &mut self.eps),
            Param::num(wd, &mut self.weight_decay),
        ]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        let mut s = vec![
            ("step", StateValue::Count(self.t)),
            ("exp_avg", StateValue::Vec(self.m)),
            ("exp_avg_sq", StateValue::Vec(self.v)),
        ];
        if self.amsgrad {
            s.push(("max_exp_avg_sq", StateValue::Vec(self.v_max)));
        }
        s
    }
}

/// torch.optim.Adamax: `m = lerp(m, g, 1 - b1)`, `u = max(b2 u, |g| + eps)`,
/// `theta -= lr / (1 - b1^t) * m / u`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Adamax {
    pub lr: f64,
    pub betas: [f64; 2],
    pub eps: f64,
    pub weight_decay: f64,
    pub t: u64,
    pub m: DVec2,
    pub u: DVec2,
}

impl Default for Adamax {
    /// torch defaults: `lr = 2e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`, `weight_decay = 0`.
    fn default() -> Self {
        Self {
            lr: 2e-3,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.0,
            t: 0,
            m: DVec2::ZERO,
            u: DVec2::ZERO,
        }
    }
}

impl LaneRule for Adamax {
    /// `(exp_avg, exp_inf)`.
    type State<R: Real> = [V2<R>; 2];
    /// The bias-corrected learning rate `clr`.
    type Shared = f64;
    fn fresh<R: Real>(&self) -> [V2<R>; 2] {
        [V2::splat(0.0); 2]
    }
    fn shared(&self, t: u64, _prev: Option<f64>) -> f64 {
        self.lr / (1.0 - pow_t(self.betas[0], t))
    }
    #[inline(always)]
    fn update<R: Real>(
        &self,
        clr: f64,
        [m, u]: &mut [V2<R>; 2],
        pos: V2<R>,
        grad: V2<R>,
        _rng: &mut [Rng],
    ) -> V2<R> {
        let c = R::splat;
        let [b1, b2] = self.betas;
        let g = weight_decay_lanes(grad, pos, self.weight_decay);
        *m = lerp_lanes(*m, g, 1.0 - b1);
        *u = u.scale(c(b2)).max(g.map(R::abs).add_scalar(c(self.eps)));
        V2::scaled_by(c(-clr), *m) / *u
    }
}

impl UpdateRule for Adamax {
    fn step(&mut self, pos: DVec2, grad: DVec2, rng: &mut Rng) -> DVec2 {
        self.t += 1;
        let mut s = [self.m, self.u].map(V2::of);
        let k = self.shared(self.t, None);
        let d = self.update(
            k,
            &mut s,
            V2::of(pos),
            V2::of(grad),
            std::slice::from_mut(rng),
        );
        [self.m, self.u] = s.map(DVec2::from);
        d.into()
    }

    fn reset(&mut self) {
        self.t = 0;
        self.m = DVec2::ZERO;
        self.u = DVec2::ZERO;
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        vec![
            Param::num(&common::LR, &mut self.lr),
            Param::pair(&common::BETAS, &mut self.betas),
            Param::num(&common::EPS, &mut self.eps),
            Param::num(&common::WEIGHT_DECAY, &mut self.weight_decay),
        ]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        vec![
            ("step", StateValue::Count(self.t)),
            ("exp_avg", StateValue::Vec(self.m)),
            ("exp_inf", StateValue::Vec(self.u)),
        ]
    }
}

static MOMENTUM_DECAY: ParamSpec = ParamSpec::non_negative(
    "momentum_decay",
    "momentum decay psi of the mu schedule",
    0.1,
);

/// torch.optim.NAdam (Dozat 2016, with torch's momentum schedule):
/// `mu_t = b1 (1 - 0.5 * 0.96^(t psi))`, `m = lerp(m, g, 1 - b1)`, `v = b2 v + (1 - b2) g^2`,
/// `denom = sqrt(v / (1 - b2^t)) + eps`,
/// `theta -= lr (1 - mu_t) / (1 - prod mu_1..t) * g / denom
///          + lr mu_{t+1} / (1 - prod mu_1..t+1) * m / denom`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Nadam {
    pub lr: f64,
    pub betas: [f64; 2],
    pub eps: f64,
    pub weight_decay: f64,
    pub momentum_decay: f64,
    pub t: u64,
    pub mu_product: f64,
    pub m: DVec2,
    pub v: DVec2,
}

impl Default for Nadam {
    /// torch defaults: `lr = 2e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`, `weight_decay = 0`,
    /// `momentum_decay = 4e-3`.
    fn default() -> Self {
        Self {
            lr: 2e-3,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.0,
            momentum_decay: 4e-3,
            t: 0,
            mu_product: 1.0,
            m: DVec2::ZERO,
            v: DVec2::ZERO,
        }
    }
}

/// What every NAdam run shares at one step.
#[derive(Clone, Copy, Debug)]
pub struct NadamStep {
    /// `-lr (1 - mu_t) / (1 - prod mu_1..t)`, the gradient's factor.
    grad_factor: f64,
    /// `-lr mu_{t+1} / (1 - prod mu_1..t+1)`, the momentum's factor.
    momentum_factor: f64,
    bias_correction2: f64,
    /// `prod mu_1..t`.
    mu_product: f64,
}

impl Nadam {
    /// `mu_t = b1 (1 - 0.5 * 0.96^(t psi))`.
    fn mu(&self, t: f64) -> f64 {
        self.betas[0] * (1.0 - 0.5 * 0.96f64.powf(t * self.momentum_decay))
    }

    /// Step `t`'s shared values, given `prod mu_1..t-1`.
    fn step_values(&self, t: u64, mu_product_before: f64) -> NadamStep {
        let tf = t as f64;
        let (mu, mu_next) = (self.mu(tf), self.mu(tf + 1.0));
        let mu_product = mu_product_before * mu;
        let mu_product_next = mu_product * mu_next;
        NadamStep {
            grad_factor: -self.lr * (1.0 - mu) / (1.0 - mu_product),
            momentum_factor: (-self.lr * mu_next) / (1.0 - mu_product_next),
            bias_correction2: 1.0 - pow_t(self.betas[1], t),
            mu_product,
        }
    }
}

impl LaneRule for Nadam {
    /// `(exp_avg, exp_avg_sq)`.
    type State<R: Real> = [V2<R>; 2];
    type Shared = NadamStep;
    fn fresh<R: Real>(&self) -> [V2<R>; 2] {
        [V2::splat(0.0); 2]
    }
    /// The product of the mu schedule runs on from `prev` (from the start without it).
    fn shared(&self, t: u64, prev: Option<NadamStep>) -> NadamStep {
        let before = match prev {
            Some(p) => p.mu_product,
            None => (1..t).fold(1.0, |p, s| p * self.mu(s as f64)),
        };
        self.step_values(t, before)
    }
    #[inline(always)]
    fn update<R: Real>(
        &self,
        k: NadamStep,
        [m, v]: &mut [V2<R>; 2],
        pos: V2<R>,
        grad: V2<R>,
        _rng: &mut [Rng],
    ) -> V2<R> {
        let c = R::splat;
        let [b1, b2] = self.betas;
        let g = weight_decay_lanes(grad, pos, self.weight_decay);
        *m = lerp_lanes(*m, g, 1.0 - b1);
        *v = v.scale(c(b2)) + g.scale(c(1.0 - b2)) * g;
        let denom = v
            .div_by(c(k.bias_correction2))
            .sqrt()
            .add_scalar(c(self.eps));
        let first = V2::scaled_by(c(k.grad_factor), g) / denom;
        let second = V2::scaled_by(c(k.momentum_factor), *m) / denom;
        first + second
    }
}

impl UpdateRule for Nadam {
    fn step(&mut self, pos: DVec2, grad: DVec2, rng: &mut Rng) -> DVec2 {
        self.t += 1;
        let k = self.step_values(self.t, self.mu_product);
        self.mu_product = k.mu_product;
        let mut s = [self.m, self.v].map(V2::of);
        let d = self.update(
            k,
            &mut s,
            V2::of(pos),
            V2::of(grad),
            std::slice::from_mut(rng),
        );
        [self.m, self.v] = s.map(DVec2::from);
        d.into()
    }

    fn reset(&mut self) {
        self.t = 0;
        self.mu_product = 1.0;
        self.m = DVec2::ZERO;
        self.v = DVec2::ZERO;
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        vec![
            Param::num(&common::LR, &mut self.lr),
            Param::pair(&common::BETAS, &mut self.betas),
            Param::num(&common::EPS, &mut self.eps),
            Param::num(&common::WEIGHT_DECAY, &mut self.weight_decay),
            Param::num(&MOMENTUM_DECAY, &mut self.momentum_decay),
        ]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        vec![
            ("step", StateValue::Count(self.t)),
            ("mu_product", StateValue::Scalar(self.mu_product)),
            ("exp_avg", StateValue::Vec(self.m)),
            ("exp_avg_sq", StateValue::Vec(self.v)),
        ]
    }
}

/// torch.optim.RAdam (Liu et al. 2020): Adam's moments; with `rho_inf = 2 / (1 - b2) - 1` and
/// `rho_t = rho_inf - 2 t b2^t / (1 - b2^t)`, when `rho_t > 5` the step is rectified,
/// `theta -= lr m^ r l` with `l = sqrt(1 - b2^t) / (sqrt(v) + eps)` and
/// `r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))`; otherwise
/// `theta -= lr m^` (momentum SGD), where `m^ = m / (1 - b1^t)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Radam {
    pub lr: f64,
    pub betas: [f64; 2],
    pub eps: f64,
    pub weight_decay: f64,
    pub t: u64,
    pub m: DVec2,
    pub v: DVec2,
}

impl Default for Radam {
    /// torch defaults: `lr = 1e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`, `weight_decay = 0`.
    fn default() -> Self {
        Self {
            lr: 1e-3,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.0,
            t: 0,
            m: DVec2::ZERO,
            v: DVec2::ZERO,
        }
    }
}

impl LaneRule for Radam {
    /// `(exp_avg, exp_avg_sq)`.
    type State<R: Real> = [V2<R>; 2];
    /// `(1 - b1^t, sqrt(1 - b2^t), r, rectified)`: the step is rectified when `rho_t > 5`.
    type Shared = (f64, f64, f64, bool);
    fn fresh<R: Real>(&self) -> [V2<R>; 2] {
        [V2::splat(0.0); 2]
    }
    fn shared(&self, t: u64, _prev: Option<(f64, f64, f64, bool)>) -> (f64, f64, f64, bool) {
        let [b1, b2] = self.betas;
        let tf = t as f64;
        let bias_correction1 = 1.0 - pow_t(b1, t);
        let bias_correction2 = 1.0 - pow_t(b2, t);
        let rho_inf = 2.0 / (1.0 - b2) - 1.0;
        let rho_t = rho_inf - 2.0 * tf * pow_t(b2, t) / bias_correction2;
        let rect = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
            / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
            .sqrt();
        (bias_correction1, bias_correction2.sqrt(), rect, rho_t > 5.0)
    }
    #[inline(always)]
    fn update<R: Real>(
        &self,
        (bias_correction1, bc2_sqrt, rect, rectified): (f64, f64, f64, bool),
        [m, v]: &mut [V2<R>; 2],
        pos: V2<R>,
        grad: V2<R>,
        _rng: &mut [Rng],
    ) -> V2<R> {
        let c = R::splat;
        let [b1, b2] = self.betas;
        let g = weight_decay_lanes(grad, pos, self.weight_decay);
        *m = lerp_lanes(*m, g, 1.0 - b1);
        *v = v.scale(c(b2)) + g.scale(c(1.0 - b2)) * g;
        let m_hat = m.div_by(c(bias_correction1));
        if rectified {
            let d = v.sqrt().add_scalar(c(self.eps));
            let adaptive_lr = V2::new(c(bc2_sqrt) / d.x, c(bc2_sqrt) / d.y);
            -((m_hat.scale(c(self.lr)) * adaptive_lr).scale(c(rect)))
        } else {
            -m_hat.scale(c(self.lr))
        }
    }
}

impl UpdateRule for Radam {
    fn step(&mut self, pos: DVec2, grad: DVec2, rng: &mut Rng) -> DVec2 {
        self.t += 1;
        let mut s = [self.m, self.v].map(V2::of);
        let k = self.shared(self.t, None);
        let d = self.update(
            k,
            &mut s,
            V2::of(pos),
            V2::of(grad),
            std::slice::from_mut(rng),
        );
        [self.m, self.v] = s.map(DVec2::from);
        d.into()
    }

    fn reset(&mut self) {
        self.t = 0;
        self.m = DVec2::ZERO;
        self.v = DVec2::ZERO;
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        vec![
            Param::num(&common::LR, &mut self.lr),
            Param::pair(&common::BETAS, &mut self.betas),
            Param::num(&common::EPS, &mut self.eps),
            Param::num(&common::WEIGHT_DECAY, &mut self.weight_decay),
        ]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        vec![
            ("step", StateValue::Count(self.t)),
            ("exp_avg", StateValue::Vec(self.m)),
            ("exp_avg_sq", StateValue::Vec(self.v)),
        ]
    }
}

/// AdaBelief (Zhuang et al. 2020, Algorithm 2, and its reference implementation
/// adabelief-pytorch 0.2): `m = b1 m + (1 - b1) g`, `s = b2 s + (1 - b2)(g - m)^2 + eps`,
/// `theta -= lr / (1 - b1^t) * m / (sqrt(s) / sqrt(1 - b2^t) + eps)`.
/// (optax's `adabelief` measures the surprise against the previous `m`; the paper uses the new.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdaBelief {
    pub lr: f64,
    pub betas: [f64; 2],
    pub eps: f64,
    pub weight_decay: f64,
    pub t: u64,
    pub m: DVec2,
    pub s: DVec2,
}

impl Default for AdaBelief {
    /// The paper's recommended defaults: `lr = 1e-3`, `betas = (0.9, 0.999)`, `eps = 1e-16`.
    fn default() -> Self {
        Self {
            lr: 1e-3,
            betas: [0.9, 0.999],
            eps: 1e-16,
            weight_decay: 0.0,
            t: 0,
            m: DVec2::ZERO,
            s: DVec2::ZERO,
        }
    }
}

impl LaneRule for AdaBelief {
    /// `(exp_avg, exp_avg_var)`.
    type State<R: Real> = [V2<R>; 2];
    /// `(step_size, sqrt(bias_correction2))`.
    type Shared = (f64, f64);
    fn fresh<R: Real>(&self) -> [V2<R>; 2] {
        [V2::splat(0.0); 2]
    }
    fn shared(&self, t: u64, _prev: Option<(f64, f64)>) -> (f64, f64) {
        let [b1, b2] = self.betas;
        let bias_correction1 = 1.0 - pow_t(b1, t);
        let bias_correction2 = 1.0 - pow_t(b2, t);
        (self.lr / bias_correction1, bias_correction2.sqrt())
    }
    #[inline(always)]
    fn update<R: Real>(
        &self,
        (step_size, bc2_sqrt): (f64, f64),
        [m, s]: &mut [V2<R>; 2],
        pos: V2<R>,
        grad: V2<R>,
        _rng: &mut [Rng],
    ) -> V2<R> {
        let c = R::splat;
        let [b1, b2] = self.betas;
        let g = weight_decay_lanes(grad, pos, self.weight_decay);
        *m = m.scale(c(b1)) + g.scale(c(1.0 - b1));
        let r = g - *m;
        *s = (s.scale(c(b2)) + r.scale(c(1.0 - b2)) * r).add_scalar(c(self.eps));
        let denom = s.sqrt().div_by(c(bc2_sqrt)).add_scalar(c(self.eps));
        V2::scaled_by(c(-step_size), *m) / denom
    }
}

impl UpdateRule for AdaBelief {
    fn step(&mut self, pos: DVec2, grad: DVec2, rng: &mut Rng) -> DVec2 {
        self.t += 1;
        let mut st = [self.m, self.s].map(V2::of);
        let k = self.shared(self.t, None);
        let d = self.update(
            k,
            &mut st,
            V2::of(pos),
            V2::of(grad),
            std::slice::from_mut(rng),
        );
        [self.m, self.s] = st.map(DVec2::from);
        d.into()
    }

    fn reset(&mut self) {
        self.t = 0;
        self.m = DVec2::ZERO;
        self.s = DVec2::ZERO;
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        vec![
            Param::num(&common::LR, &mut self.lr),
            Param::pair(&common::BETAS, &mut self.betas),
            Param::num(&common::EPS, &mut self.eps),
            Param::num(&common::WEIGHT_DECAY, &mut self.weight_decay),
        ]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        vec![
            ("step", StateValue::Count(self.t)),
            ("exp_avg", StateValue::Vec(self.m)),
            ("exp_avg_var", StateValue::Vec(self.s)),
        ]
    }
}

static LION_BETAS: ParamSpec = ParamSpec::betas(
    "interpolation factor of the update direction (b1) and decay of the momentum (b2)",
);

/// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Algorithm 2; optax
/// `lion`): `c = b1 m + (1 - b1) g`, `theta -= lr (sign(c) + weight_decay theta)`,
/// `m = b2 m + (1 - b2) g`. `sign(0) = 0`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lion {
    pub lr: f64,
    pub betas: [f64; 2],
    pub weight_decay: f64,
    pub m: DVec2,
}

impl Default for Lion {
    /// The paper's defaults: `betas = (0.9, 0.99)`, `lr = 1e-4` (3-10x below AdamW's),
    /// `weight_decay = 0` (the reference implementation's default; optax uses 1e-3).
    fn default() -> Self {
        Self {
            lr: 1e-4,
            betas: [0.9, 0.99],
            weight_decay: 0.0,
            m: DVec2::ZERO,
        }
    }
}

impl LaneRule for Lion {
    /// `exp_avg`.
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
        m: &mut V2<R>,
        pos: V2<R>,
        grad: V2<R>,
        _rng: &mut [Rng],
    ) -> V2<R> {
        let c = R::splat;
        let [b1, b2] = self.betas;
        let interp = V2::scaled_by(c(1.0 - b1), grad) + V2::scaled_by(c(b1), *m);
        let dir = interp.map(R::sign0);
        *m = V2::scaled_by(c(1.0 - b2), grad) + V2::scaled_by(c(b2), *m);
        V2::scaled_by(c(-self.lr), dir + V2::scaled_by(c(self.weight_decay), pos))
    }
}

impl UpdateRule for Lion {
    fn step(&mut self, pos: DVec2, grad: DVec2, rng: &mut Rng) -> DVec2 {
        let mut m = V2::of(self.m);
        let d = self.update(
            (),
            &mut m,
            V2::of(pos),
            V2::of(grad),
            std::slice::from_mut(rng),
        );
        self.m = m.into();
        d.into()
    }

    fn reset(&mut self) {
        self.m = DVec2::ZERO;
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        vec![
            Param::num(&common::LR, &mut self.lr),
            Param::pair(&LION_BETAS, &mut self.betas),
            Param::num(&common::DECOUPLED_WEIGHT_DECAY, &mut self.weight_decay),
        ]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        vec![("exp_avg", StateValue::Vec(self.m))]
    }
}
