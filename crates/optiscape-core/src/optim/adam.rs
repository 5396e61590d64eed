//! The Adam family: torch.optim.Adam (and AMSGrad), AdamW, Adamax, NAdam, RAdam, AdaBelief
//! (as its paper and reference implementation define it), and Lion (as its paper and optax
//! define it). Arithmetic follows the reference implementations' order of operations, so that
//! results agree to the last bit where possible.

use super::adaptive::{lerp, lerp_lanes};
use super::params::{Param, ParamSpec, common};
use super::powers::pow_t;
use super::rng::Rng;
use super::sgd::{weight_decay_lanes, with_weight_decay};
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
    fn shared(&self, t: u64) -> (f64, f64) {
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
    fn step(&mut self, pos: DVec2, grad: DVec2, _rng: &mut Rng) -> DVec2 {
        self.t += 1;
        let mut s = [self.m, self.v, self.v_max].map(V2::of);
        let d = self.update(self.shared(self.t), &mut s, V2::of(pos), V2::of(grad));
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

impl UpdateRule for Adamax {
    fn step(&mut self, pos: DVec2, grad: DVec2, _rng: &mut Rng) -> DVec2 {
        self.t += 1;
        let [b1, b2] = self.betas;
        let g = with_weight_decay(grad, pos, self.weight_decay);
        self.m = lerp(self.m, g, 1.0 - b1);
        self.u = (self.u * b2).max(g.abs() + self.eps);
        let clr = self.lr / (1.0 - pow_t(b1, self.t));
        -clr * self.m / self.u
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

impl UpdateRule for Nadam {
    fn step(&mut self, pos: DVec2, grad: DVec2, _rng: &mut Rng) -> DVec2 {
        self.t += 1;
        let [b1, b2] = self.betas;
        let g = with_weight_decay(grad, pos, self.weight_decay);
        let t = self.t as f64;
        let bias_correction2 = 1.0 - pow_t(b2, self.t);
        let mu = b1 * (1.0 - 0.5 * 0.96f64.powf(t * self.momentum_decay));
        let mu_next = b1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * self.momentum_decay));
        self.mu_product *= mu;
        self.m = lerp(self.m, g, 1.0 - b1);
        self.v = self.v * b2 + (1.0 - b2) * g * g;
        let denom = (self.v / bias_correction2).map(f64::sqrt) + self.eps;
        let mu_product_next = self.mu_product * mu_next;
        let first = (-self.lr * (1.0 - mu) / (1.0 - self.mu_product)) * g / denom;
        let second = ((-self.lr * mu_next) / (1.0 - mu_product_next)) * self.m / denom;
        first + second
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

impl UpdateRule for Radam {
    fn step(&mut self, pos: DVec2, grad: DVec2, _rng: &mut Rng) -> DVec2 {
        self.t += 1;
        let [b1, b2] = self.betas;
        let g = with_weight_decay(grad, pos, self.weight_decay);
        self.m = lerp(self.m, g, 1.0 - b1);
        self.v = self.v * b2 + (1.0 - b2) * g * g;
        let t = self.t as f64;
        let bias_correction1 = 1.0 - pow_t(b1, self.t);
        let bias_correction2 = 1.0 - pow_t(b2, self.t);
        let m_hat = self.m / bias_correction1;
        let rho_inf = 2.0 / (1.0 - b2) - 1.0;
        let rho_t = rho_inf - 2.0 * t * pow_t(b2, self.t) / bias_correction2;
        if rho_t > 5.0 {
            let rect = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                .sqrt();
            let adaptive_lr = bias_correction2.sqrt() / (self.v.map(f64::sqrt) + self.eps);
            -(m_hat * self.lr * adaptive_lr * rect)
        } else {
            -(m_hat * self.lr)
        }
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

impl UpdateRule for AdaBelief {
    fn step(&mut self, pos: DVec2, grad: DVec2, _rng: &mut Rng) -> DVec2 {
        self.t += 1;
        let [b1, b2] = self.betas;
        let g = with_weight_decay(grad, pos, self.weight_decay);
        let bias_correction1 = 1.0 - pow_t(b1, self.t);
        let bias_correction2 = 1.0 - pow_t(b2, self.t);
        self.m = self.m * b1 + g * (1.0 - b1);
        let r = g - self.m;
        self.s = self.s * b2 + (1.0 - b2) * r * r + self.eps;
        let denom = self.s.map(f64::sqrt) / bias_correction2.sqrt() + self.eps;
        let step_size = self.lr / bias_correction1;
        -step_size * self.m / denom
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

impl UpdateRule for Lion {
    fn step(&mut self, pos: DVec2, grad: DVec2, _rng: &mut Rng) -> DVec2 {
        let [b1, b2] = self.betas;
        let c = (1.0 - b1) * grad + b1 * self.m;
        let dir = DVec2::new(c.x.sign0(), c.y.sign0());
        self.m = (1.0 - b2) * grad + b2 * self.m;
        -self.lr * (dir + self.weight_decay * pos)
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
