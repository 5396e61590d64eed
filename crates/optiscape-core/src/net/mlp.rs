//! A small multilayer perceptron: its architecture, its parameters in PyTorch's `nn.Linear`
//! layout, its initializations, and its loss with the exact gradient, written once for any lane
//! type ([`Real`]): each lane is a whole network (a run of `train`, or a point of a slice), so a
//! group of networks is trained in lockstep with no sum across lanes, and a network's numbers do
//! not depend on the lane it has or on the lane type's width.

use super::data::{Labels, Points};
use crate::lanes::Real;
use crate::optim::Rng;
use serde::{Deserialize, Serialize};

/// The hidden layers' activation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    #[default]
    Tanh,
    Relu,
    /// GELU in its tanh form (`torch.nn.GELU(approximate="tanh")`).
    Gelu,
}

impl Activation {
    pub const NAMES: [&'static str; 3] = ["tanh", "relu", "gelu"];

    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "tanh" => Ok(Activation::Tanh),
            "relu" => Ok(Activation::Relu),
            "gelu" => Ok(Activation::Gelu),
            _ => Err(format!(
                "unknown activation '{text}' (known: {})",
                Self::NAMES.join(", ")
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::Gelu => "gelu",
        }
    }
}

/// What is minimized.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossKind {
    /// Cross-entropy: with one output, `BCEWithLogitsLoss` on labels 0/1; with `k` outputs,
    /// `CrossEntropyLoss` on labels `0..k`.
    #[default]
    CrossEntropy,
    /// Mean squared error of the one output (`MSELoss`).
    Mse,
}

impl LossKind {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "cross-entropy" | "ce" => Ok(LossKind::CrossEntropy),
            "mse" => Ok(LossKind::Mse),
            _ => Err(format!("unknown loss '{text}' (known: cross-entropy, mse)")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            LossKind::CrossEntropy => "cross-entropy",
            LossKind::Mse => "mse",
        }
    }
}

/// How a network's first weights are drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Init {
    /// Glorot (Xavier) uniform: weights `U(-a, a)`, `a = sqrt(6 / (in + out))`; biases 0.
    #[default]
    Glorot,
    /// He (Kaiming) normal for fan-in: weights `N(0, 2 / in)`; biases 0.
    He,
    /// PyTorch's `nn.Linear` default: weights and biases `U(-1/sqrt(in), 1/sqrt(in))`.
    Torch,
}

impl Init {
    pub const NAMES: [&'static str; 3] = ["glorot", "he", "torch"];

    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "glorot" | "xavier" => Ok(Init::Glorot),
            "he" | "kaiming" => Ok(Init::He),
            "torch" => Ok(Init::Torch),
            _ => Err(format!(
                "unknown initialization '{text}' (known: {})",
                Self::NAMES.join(", ")
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Init::Glorot => "glorot",
            Init::He => "he",
            Init::Torch => "torch",
        }
    }
}

/// A multilayer perceptron: layer sizes from the input (2) to the output, the hidden layers'
/// activation, the loss, and an L2 penalty `weight_decay / 2 * sum(W^2)` on the weights (not
/// the biases) added to the loss.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mlp {
    pub sizes: Vec<usize>,
    pub activation: Activation,
    pub loss: LossKind,
    pub weight_decay: f64,
}

impl Default for Mlp {
    /// 2-16-16-1, tanh, cross-entropy, no weight decay.
    fn default() -> Self {
        Self {
            sizes: vec![2, 16, 16, 1],
            activation: Activation::Tanh,
            loss: LossKind::CrossEntropy,
            weight_decay: 0.0,
        }
    }
}

/// The widest layer allowed.
pub const MAX_WIDTH: usize = 4096;
/// The most layers (of weights) allowed.
pub const MAX_LAYERS: usize = 16;

impl Mlp {
    /// Layer sizes as written, `2-16-16-1`.
    pub fn parse_sizes(text: &str) -> Result<Vec<usize>, String> {
        let sizes: Vec<usize> = text
            .split('-')
            .map(|s| {
                s.trim().parse::<usize>().map_err(|_| {
                    format!(
                        "layer sizes are whole numbers joined by '-', like 2-16-16-1 (got '{text}')"
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        if sizes.len() < 2 {
            return Err(format!(
                "layer sizes need an input and an output, like 2-16-16-1 (got '{text}')"
            ));
        }
        if sizes[0] != 2 {
            return Err(format!(
                "the input layer has 2 units, one per coordinate (got {})",
                sizes[0]
            ));
        }
        if sizes.len() - 1 > MAX_LAYERS {
            return Err(format!(
                "at most {MAX_LAYERS} layers of weights (got {})",
                sizes.len() - 1
            ));
        }
        if let Some(w) = sizes.iter().find(|w| **w == 0 || **w > MAX_WIDTH) {
            return Err(format!(
                "every layer has between 1 and {MAX_WIDTH} units (got {w})"
            ));
        }
        Ok(sizes)
    }

    /// The sizes as written (`2-16-16-1`).
    pub fn sizes_text(&self) -> String {
        let s: Vec<String> = self.sizes.iter().map(|s| s.to_string()).collect();
        s.join("-")
    }

    /// Whether the output layer fits the labels: one output for two classes or for values,
    /// `k` outputs for `k > 2` classes (or 2 for two).
    pub fn check_labels(&self, labels: Labels) -> Result<(), String> {
        let out = *self.sizes.last().unwrap_or(&0);
        match (self.loss, labels) {
            (LossKind::CrossEntropy, Labels::Classes(k)) if out == 1 && k == 2 => Ok(()),
            (LossKind::CrossEntropy, Labels::Classes(k)) if out == k && k >= 2 => Ok(()),
            (LossKind::CrossEntropy, Labels::Classes(k)) => Err(format!(
                "the data has {k} classes: the output layer needs {} units (got {out})",
                if k == 2 {
                    "1 (or 2)".to_string()
                } else {
                    k.to_string()
                }
            )),
            (LossKind::CrossEntropy, Labels::Values) => {
                Err("the labels are values, not classes: use the squared error (--loss mse)".into())
            }
            (LossKind::Mse, _) if out == 1 => Ok(()),
            (LossKind::Mse, _) => Err(format!(
                "the squared error fits one output (the output layer has {out})"
            )),
        }
    }

    /// The layers of weights: `(inputs, outputs, offset of W, offset of b)` in the parameter
    /// vector (each layer's `weight` as (out, in) row-major, then its `bias`, as PyTorch's
    /// `nn.Linear` lays them out).
    pub fn layers(&self) -> Vec<(usize, usize, usize, usize)> {
        let mut at = 0;
        self.sizes
            .windows(2)
            .map(|w| {
                let (i, o) = (w[0], w[1]);
                let l = (i, o, at, at + i * o);
                at += i * o + o;
                l
            })
            .collect()
    }

    /// The number of parameters.
    pub fn params(&self) -> usize {
        self.sizes.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
    }

    /// The number of units of all layers (the working memory of one point).
    pub fn units(&self) -> usize {
        self.sizes.iter().sum()
    }

    /// A network's first parameters, drawn from `rng` layer by layer (weights row by row,
    /// then biases).
    pub fn init(&self, init: Init, rng: &mut Rng) -> Vec<f64> {
        let mut theta = vec![0.0; self.params()];
        for (i, o, w, b) in self.layers() {
            let (fi, fo) = (i as f64, o as f64);
            match init {
                Init::Glorot => {
                    let a = (6.0 / (fi + fo)).sqrt();
                    for v in &mut theta[w..w + i * o] {
                        *v = a * (2.0 * rng.uniform() - 1.0);
                    }
                }
                Init::He => {
                    let s = (2.0 / fi).sqrt();
                    let mut k = 0;
                    while k < i * o {
                        let z = rng.normal2();
                        theta[w + k] = s * z.x;
                        if k + 1 < i * o {
                            theta[w + k + 1] = s * z.y;
                        }
                        k += 2;
                    }
                }
                Init::Torch => {
                    let a = 1.0 / fi.sqrt();
                    for v in &mut theta[w..b + o] {
                        *v = a * (2.0 * rng.uniform() - 1.0);
                    }
                }
            }
        }
        theta
    }
}

/// `ln(1 + e)` for `0 <= e <= 1`, lane by lane, as `2 atanh(s)` with `s = e / (2 + e)` (at most
/// 1/3): its odd series to the 35th power, well below an f64's rounding.
#[inline(always)]
fn ln_1p_unit<R: Real>(e: R) -> R {
    let c = R::splat;
    let s = e / (c(2.0) + e);
    let s2 = s * s;
    let mut p = c(1.0 / 35.0);
    let mut k = 33.0;
    while k >= 1.0 {
        p = p * s2 + c(1.0 / k);
        k -= 2.0;
    }
    c(2.0) * s * p
}

/// `e^x` for `x <= 0` (or NaN, kept), with no division: the Cody-Waite reduction of FreeBSD's
/// `e_exp.c` (Cephes' `expf` in f32 lanes) (`x = k ln 2 + r`, `|r| <= ln 2 / 2`), then `e^r` by its Taylor series to the 13th
/// power in f64 lanes (the first term left out is below 5e-18 relative), to the 7th in f32
/// lanes (below 5e-9), and `2^k` in two exact halves. Within two units in the last place.
#[allow(clippy::excessive_precision)]
#[inline(always)]
fn exp_nonpos<R: Real>(x: R) -> R {
    const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-01;
    const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
    let c = R::splat;
    let single = c(1.0 + 1e-10).lane(0) == 1.0;
    // Below these every result is zero (or subnormal); the clamp keeps 2^k in range.
    let xc = x.max(c(if single { -104.0 } else { -746.0 })).min(c(0.0));
    let k = (xc * c(std::f64::consts::LOG2_E)).round();
    // ln 2 in two parts whose first times k is exact at the lanes' precision (Cephes' for f32).
    let (hi, lo) = if single {
        (0.693_359_375, -2.121_944_400_546_905_827_68e-4)
    } else {
        (LN2_HI, LN2_LO)
    };
    let r = (xc - k * c(hi)) - k * c(lo);
    let terms = if single { 7 } else { 13 };
    let mut inv_fact = [1.0f64; 14];
    for i in 1..14 {
        inv_fact[i] = inv_fact[i - 1] / i as f64;
    }
    let mut p = c(inv_fact[terms]);
    for i in (0..terms).rev() {
        p = p * r + c(inv_fact[i]);
    }
    let k1 = (k * c(0.5)).floor();
    let out = p * k1.pow2i() * (k - k1).pow2i();
    R::select(x.eq(x), out, x)
}

/// `tanh(x)` lane by lane: in f64 lanes `sign(x) (1 - e) / (1 + e)` with `e = exp(-2|x|)`; in
/// f32 lanes Eigen's `generic_fast_tanh_float` (a 13/6-degree rational function on [-9, 9],
/// outside of which tanh is +-1 in f32; within a few units in the last place), a third of the
/// work.
#[allow(clippy::excessive_precision)]
#[inline(always)]
fn tanh<R: Real>(x: R) -> R {
    let c = R::splat;
    if c(1.0 + 1e-10).lane(0) == 1.0 {
        let xc = x.max(c(-9.0)).min(c(9.0));
        let x2 = xc * xc;
        let mut p = c(-2.760_768_477_423_55e-16);
        for a in [
            2.000_187_904_824_77e-13,
            -8.604_671_522_137_35e-11,
            5.122_297_090_371_14e-08,
            1.485_722_357_179_79e-05,
            6.372_619_288_754_36e-04,
            4.893_524_558_917_86e-03,
        ] {
            p = p * x2 + c(a);
        }
        let mut q = c(1.198_258_394_667_02e-06);
        for b in [
            1.185_347_056_866_54e-04,
            2.268_434_632_439_00e-03,
            4.893_525_185_543_85e-03,
        ] {
            q = q * x2 + c(b);
        }
        // NaN stays NaN (the clamp would have turned it into a number).
        return R::select(x.eq(x), (p * xc) / q, x);
    }
    let e = exp_nonpos(c(-2.0) * x.abs());
    let t = (c(1.0) - e) / (c(1.0) + e);
    R::select(x.lt(c(0.0)), -t, t)
}

/// `sqrt(2 / pi)`, GELU's tanh form.
const GELU_C: f64 = 0.797_884_560_802_865_4;

/// The activation and its derivative at `z`.
#[inline(always)]
fn activate<R: Real>(a: Activation, z: R) -> (R, R) {
    let c = R::splat;
    match a {
        Activation::Tanh => {
            let t = tanh(z);
            (t, c(1.0) - t * t)
        }
        Activation::Relu => {
            // max(z, 0) that keeps NaN (as torch's does).
            let value = R::select(z.le(c(0.0)), c(0.0), z);
            (value, R::select(z.gt(c(0.0)), c(1.0), c(0.0)))
        }
        Activation::Gelu => {
            let z2 = z * z;
            let u = c(GELU_C) * (z + c(0.044715) * z2 * z);
            let t = tanh(u);
            let half = c(0.5);
            let d = half * (c(1.0) + t)
                + half * z * (c(1.0) - t * t) * c(GELU_C) * (c(1.0) + c(3.0 * 0.044715) * z2);
            (half * z * (c(1.0) + t), d)
        }
    }
}

/// Outputs computed side by side: independent sums, so that each one's additions wait on no
/// other's (a single running sum waits a whole addition per term).
const BLOCK: usize = 8;

/// `out[j] = b[j] + sum_k W[j, k] x[k]` for a layer whose `W` starts at `theta[w]` (row-major,
/// (out, in)) and `b` at `theta[b]`: each sum from the bias, over `k` in order, [`BLOCK`]
/// outputs at a time.
#[inline(always)]
fn affine<R: Real>(theta: &[R], w: usize, b: usize, ni: usize, no: usize, x: &[R], out: &mut [R]) {
    let mut j = 0;
    while j + BLOCK <= no {
        let mut z: [R; BLOCK] = std::array::from_fn(|q| theta[b + j + q]);
        let rows: [&[R]; BLOCK] =
            std::array::from_fn(|q| &theta[w + (j + q) * ni..w + (j + q + 1) * ni]);
        for (k, &a) in x[..ni].iter().enumerate() {
            for (zq, row) in z.iter_mut().zip(&rows) {
                *zq = *zq + row[k] * a;
            }
        }
        out[j..j + BLOCK].copy_from_slice(&z);
        j += BLOCK;
    }
    for (jj, o) in out.iter_mut().enumerate().take(no).skip(j) {
        let row = &theta[w + jj * ni..w + (jj + 1) * ni];
        let mut z = theta[b + jj];
        for (wk, &a) in row.iter().zip(&x[..ni]) {
            z = z + *wk * a;
        }
        *o = z;
    }
}

/// The errors of a layer's inputs: `e[k] = (sum_j W[j, k] d[j]) * deriv[k]`, each sum from 0
/// over `j` in order, [`BLOCK`] inputs at a time.
#[inline(always)]
fn back<R: Real>(theta: &[R], w: usize, ni: usize, no: usize, d: &[R], deriv: &[R], e: &mut [R]) {
    let zero = R::splat(0.0);
    let mut k = 0;
    while k + BLOCK <= ni {
        let mut acc = [zero; BLOCK];
        for (j, &dj) in d[..no].iter().enumerate() {
            let row = &theta[w + j * ni + k..w + j * ni + k + BLOCK];
            for (q, a) in acc.iter_mut().enumerate() {
                *a = *a + row[q] * dj;
            }
        }
        for q in 0..BLOCK {
            e[k + q] = acc[q] * deriv[k + q];
        }
        k += BLOCK;
    }
    for kk in k..ni {
        let mut acc = zero;
        for (j, &dj) in d[..no].iter().enumerate() {
            acc = acc + theta[w + j * ni + kk] * dj;
        }
        e[kk] = acc * deriv[kk];
    }
}

/// Working memory for [`loss_grad`]: the pre-activations, activations and backpropagated
/// errors of one point.
pub struct Scratch<R> {
    act: Vec<R>,
    deriv: Vec<R>,
    delta: Vec<R>,
}

impl<R: Real> Scratch<R> {
    pub fn new(net: &Mlp) -> Self {
        let n = net.units();
        Self {
            act: vec![R::splat(0.0); n],
            deriv: vec![R::splat(0.0); n],
            delta: vec![R::splat(0.0); n],
        }
    }
}

/// The loss of each lane's network on `data` (the mean over the points, plus the L2 penalty),
/// and, with `grad`, its exact gradient written into `grad` (`theta.len()` values). `theta[i]`
/// is parameter `i` of every lane. Points are taken in order and sums run in that order.
#[inline(always)]
pub fn loss_grad<R: Real>(
    net: &Mlp,
    layers: &[(usize, usize, usize, usize)],
    data: &Points,
    labels: Labels,
    theta: &[R],
    mut grad: Option<&mut [R]>,
    s: &mut Scratch<R>,
) -> R {
    let c = R::splat;
    let zero = c(0.0);
    if let Some(g) = grad.as_deref_mut() {
        g.iter_mut().for_each(|v| *v = zero);
    }
    let n = data.len();
    let inv_n = c(1.0 / n.max(1) as f64);
    let out_at = net.units() - net.sizes[net.sizes.len() - 1];
    let out = net.sizes[net.sizes.len() - 1];
    let last = layers.len() - 1;
    let mut total = zero;
    for (x, &y) in data.x.iter().zip(&data.y) {
        // Forward: act[0..2] the point, then each layer's outputs after the previous ones.
        s.act[0] = c(x[0]);
        s.act[1] = c(x[1]);
        let mut from = 0;
        for (l, &(ni, no, w, b)) in layers.iter().enumerate() {
            let to = from + ni;
            let (inputs, outputs) = s.act.split_at_mut(to);
            affine(theta, w, b, ni, no, &inputs[from..], &mut outputs[..no]);
            if l != last {
                for j in to..to + no {
                    let (a, d) = activate(net.activation, s.act[j]);
                    s.act[j] = a;
                    s.deriv[j] = d;
                }
            }
            from = to;
        }
        // The point's loss and its derivative by the outputs (into delta).
        let z = &s.act[out_at..];
        match (net.loss, labels) {
            (LossKind::Mse, _) => {
                let r = z[0] - c(y);
                total = total + r * r;
                s.delta[out_at] = c(2.0) * r * inv_n;
            }
            (LossKind::CrossEntropy, _) if out == 1 => {
                // BCEWithLogits: max(z, 0) - z y + ln(1 + e^-|z|); its derivative sigmoid(z) - y.
                let z0 = z[0];
                let e = exp_nonpos(-z0.abs());
                let l = z0.max(zero) - z0 * c(y) + ln_1p_unit(e);
                total = total + l;
                let sig = R::select(z0.ge(zero), c(1.0) / (c(1.0) + e), e / (c(1.0) + e));
                s.delta[out_at] = (sig - c(y)) * inv_n;
            }
            (LossKind::CrossEntropy, _) => {
                // log-sum-exp minus the label's output; its derivative softmax - one-hot.
                let mut m = z[0];
                for v in &z[1..] {
                    m = m.max(*v);
                }
                let mut sum = zero;
                for v in z {
                    sum = sum + (*v - m).exp();
                }
                let class = y as usize;
                total = total + m + sum.map_f64(f64::ln) - z[class];
                for k in 0..out {
                    let p = (s.act[out_at + k] - m).exp() / sum;
                    let hot = if k == class { c(1.0) } else { zero };
                    s.delta[out_at + k] = (p - hot) * inv_n;
                }
            }
        }
        let Some(g) = grad.as_deref_mut() else {
            continue;
        };
        // Backward: each layer's gradient from its errors, then the errors of its inputs.
        let mut to = out_at;
        for (l, &(ni, no, w, b)) in layers.iter().enumerate().rev() {
            let from = to - ni;
            for j in 0..no {
                let d = s.delta[to + j];
                g[b + j] = g[b + j] + d;
                let row = &mut g[w + j * ni..w + (j + 1) * ni];
                for (gk, &a) in row.iter_mut().zip(&s.act[from..from + ni]) {
                    *gk = *gk + d * a;
                }
            }
            if l > 0 {
                let (inner, outer) = s.delta.split_at_mut(to);
                back(
                    theta,
                    w,
                    ni,
                    no,
                    &outer[..no],
                    &s.deriv[from..to],
                    &mut inner[from..],
                );
            }
            to = from;
        }
        let _ = labels;
    }
    let mut loss = total * inv_n;
    if net.weight_decay != 0.0 {
        let wd = c(net.weight_decay);
        let mut sq = zero;
        for &(ni, no, w, _) in layers {
            for k in w..w + ni * no {
                sq = sq + theta[k] * theta[k];
                if let Some(g) = grad.as_deref_mut() {
                    g[k] = g[k] + wd * theta[k];
                }
            }
        }
        loss = loss + c(0.5) * wd * sq;
    }
    loss
}

/// The network's outputs at the point `x` (logits; values for regression), lane by lane.
#[inline(always)]
pub fn forward<'s, R: Real>(
    net: &Mlp,
    layers: &[(usize, usize, usize, usize)],
    x: [f64; 2],
    theta: &[R],
    s: &'s mut Scratch<R>,
) -> &'s [R] {
    let c = R::splat;
    let out_at = net.units() - net.sizes[net.sizes.len() - 1];
    let last = layers.len() - 1;
    s.act[0] = c(x[0]);
    s.act[1] = c(x[1]);
    let mut from = 0;
    for (l, &(ni, no, w, b)) in layers.iter().enumerate() {
        let to = from + ni;
        let (inputs, outputs) = s.act.split_at_mut(to);
        affine(theta, w, b, ni, no, &inputs[from..], &mut outputs[..no]);
        if l != last {
            for j in to..to + no {
                s.act[j] = activate(net.activation, s.act[j]).0;
            }
        }
        from = to;
    }
    &s.act[out_at..]
}

/// What the network says at `x`: for classes, each class's probability (two classes with one
/// output: `[1 - p, p]`, `p` the sigmoid of the output; otherwise the softmax of the outputs);
/// for values, the output.
pub fn predict(
    net: &Mlp,
    layers: &[(usize, usize, usize, usize)],
    labels: Labels,
    x: [f64; 2],
    theta: &[f64],
    s: &mut Scratch<f64>,
) -> Vec<f64> {
    let z = forward(net, layers, x, theta, s);
    match labels {
        Labels::Values => vec![z[0]],
        Labels::Classes(_) if z.len() == 1 => {
            let p = 1.0 / (1.0 + (-z[0]).exp());
            vec![1.0 - p, p]
        }
        Labels::Classes(_) => {
            let top = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = z.iter().map(|v| (v - top).exp()).collect();
            let sum: f64 = e.iter().sum();
            e.iter().map(|v| v / sum).collect()
        }
    }
}

/// The share of points a network classifies right (the largest output's class, or with one
/// output, class 1 where the output is positive), lane by lane; for values, the mean squared
/// error instead.
#[inline(always)]
pub fn accuracy<R: Real>(
    net: &Mlp,
    layers: &[(usize, usize, usize, usize)],
    data: &Points,
    labels: Labels,
    theta: &[R],
    s: &mut Scratch<R>,
) -> R {
    let c = R::splat;
    if data.is_empty() {
        return c(f64::NAN);
    }
    let out = net.sizes[net.sizes.len() - 1];
    let mut right = c(0.0);
    for (x, &y) in data.x.iter().zip(&data.y) {
        let z = forward(net, layers, *x, theta, s);
        match labels {
            Labels::Values => right = right + (z[0] - c(y)) * (z[0] - c(y)),
            Labels::Classes(_) if out == 1 => {
                let hit = if y == 1.0 {
                    z[0].gt(c(0.0))
                } else {
                    z[0].le(c(0.0))
                };
                right = right + R::select(hit, c(1.0), c(0.0));
            }
            Labels::Classes(_) => {
                // The label's output is the largest (ties: the first largest wins).
                let class = y as usize;
                let mut best = c(0.0);
                let mut top = z[0];
                for (k, v) in z.iter().enumerate().skip(1) {
                    let above = v.gt(top);
                    top = R::select(above, *v, top);
                    best = R::select(above, c(k as f64), best);
                }
                right = right + R::select(best.eq(c(class as f64)), c(1.0), c(0.0));
            }
        }
    }
    right / c(data.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lanes::{F32x8, F64x4};
    use crate::net::{DataSpec, Dataset};

    fn nets() -> Vec<(Mlp, Dataset)> {
        let moons = DataSpec::named("moons")
            .expect("built in")
            .generate()
            .expect("data");
        let mut three = moons.clone();
        for (i, y) in three.train.y.iter_mut().enumerate() {
            if i % 5 == 0 {
                *y = 2.0;
            }
        }
        three.labels = Labels::Classes(3);
        let mut out = Vec::new();
        for a in [Activation::Tanh, Activation::Relu, Activation::Gelu] {
            out.push((
                Mlp {
                    sizes: vec![2, 5, 4, 1],
                    activation: a,
                    loss: LossKind::CrossEntropy,
                    weight_decay: 0.0,
                },
                moons.clone(),
            ));
        }
        out.push((
            Mlp {
                sizes: vec![2, 6, 3],
                activation: Activation::Tanh,
                loss: LossKind::CrossEntropy,
                weight_decay: 0.01,
            },
            three,
        ));
        out.push((
            Mlp {
                sizes: vec![2, 6, 1],
                activation: Activation::Gelu,
                loss: LossKind::Mse,
                weight_decay: 0.1,
            },
            moons,
        ));
        out
    }

    /// The gradient equals central differences of the loss (relative 1e-6).
    #[test]
    fn the_gradient_is_exact() {
        for (net, data) in nets() {
            let layers = net.layers();
            let theta = net.init(Init::Torch, &mut Rng::new(3));
            let mut s = Scratch::<f64>::new(&net);
            let mut g = vec![0.0; theta.len()];
            let l0 = loss_grad(
                &net,
                &layers,
                &data.train,
                data.labels,
                &theta,
                Some(&mut g),
                &mut s,
            );
            assert!(l0.is_finite());
            for k in 0..theta.len() {
                let h = 1e-6;
                let mut tp = theta.clone();
                tp[k] += h;
                let mut tm = theta.clone();
                tm[k] -= h;
                let fp = loss_grad(&net, &layers, &data.train, data.labels, &tp, None, &mut s);
                let fm = loss_grad(&net, &layers, &data.train, data.labels, &tm, None, &mut s);
                let fd = (fp - fm) / (2.0 * h);
                assert!(
                    (fd - g[k]).abs() <= 1e-6 * (1.0 + g[k].abs()),
                    "{:?} param {k}: {fd} vs {}",
                    net,
                    g[k]
                );
            }
        }
    }

    /// Every lane of a lane type computes what one f64 computes, bit for bit; f32 lanes agree
    /// to f32's precision.
    #[test]
    fn lanes_equal_one_network() {
        for (net, data) in nets() {
            let layers = net.layers();
            let thetas: Vec<Vec<f64>> = (0..8)
                .map(|i| net.init(Init::Glorot, &mut Rng::new(i)))
                .collect();
            let lanes: Vec<F64x4> = (0..net.params())
                .map(|k| F64x4::from_fn(|i| thetas[i][k]))
                .collect();
            let mut g4 = vec![F64x4::splat(0.0); net.params()];
            let l4 = loss_grad(
                &net,
                &layers,
                &data.train,
                data.labels,
                &lanes,
                Some(&mut g4),
                &mut Scratch::new(&net),
            );
            let a4 = accuracy(
                &net,
                &layers,
                &data.test,
                data.labels,
                &lanes,
                &mut Scratch::new(&net),
            );
            for (i, theta) in thetas.iter().enumerate().take(4) {
                let mut g = vec![0.0; net.params()];
                let l = loss_grad(
                    &net,
                    &layers,
                    &data.train,
                    data.labels,
                    theta,
                    Some(&mut g),
                    &mut Scratch::new(&net),
                );
                assert_eq!(l.to_bits(), l4.lane(i).to_bits());
                for k in 0..g.len() {
                    assert_eq!(g[k].to_bits(), g4[k].lane(i).to_bits());
                }
                let a = accuracy(
                    &net,
                    &layers,
                    &data.test,
                    data.labels,
                    theta,
                    &mut Scratch::new(&net),
                );
                assert_eq!(a, a4.lane(i));
            }
            let lanes32: Vec<F32x8> = (0..net.params())
                .map(|k| F32x8::from_fn(|i| thetas[i][k]))
                .collect();
            let l32 = loss_grad(
                &net,
                &layers,
                &data.train,
                data.labels,
                &lanes32,
                None,
                &mut Scratch::new(&net),
            );
            for (i, theta) in thetas.iter().enumerate() {
                let l = loss_grad(
                    &net,
                    &layers,
                    &data.train,
                    data.labels,
                    theta,
                    None,
                    &mut Scratch::new(&net),
                );
                assert!(
                    (l32.lane(i) - l).abs() <= 1e-4 * (1.0 + l.abs()),
                    "{} vs {l}",
                    l32.lane(i)
                );
            }
        }
    }

    #[test]
    fn sizes_are_read_or_refused() {
        assert_eq!(
            Mlp::parse_sizes("2-16-16-1").expect("ok"),
            vec![2, 16, 16, 1]
        );
        for bad in ["2", "3-4-1", "2-0-1", "2-x-1", "2-5000-1", ""] {
            assert!(Mlp::parse_sizes(bad).is_err(), "{bad}");
        }
        assert_eq!(Mlp::default().params(), 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1);
    }

    #[test]
    fn exp_nonpos_is_accurate() {
        for i in 0..=20000 {
            let x = -(i as f64) * 0.037;
            let want = x.exp();
            let got = exp_nonpos(x);
            assert!(
                (got - want).abs() <= 2.5e-16 * want + 2e-323,
                "{x}: {got} vs {want}"
            );
            let g32 = exp_nonpos(x as f32) as f64;
            let w32 = (x as f32 as f64).exp();
            assert!(
                (g32 - w32).abs() <= 2.4e-7 * w32 + 1e-45,
                "{x}: {g32} vs {w32}"
            );
        }
        assert!(exp_nonpos(f64::NAN).is_nan());
        assert_eq!(exp_nonpos(-1e6), 0.0);
        assert_eq!(exp_nonpos(0.0), 1.0);
    }

    #[test]
    fn tanh_is_accurate_in_both_precisions() {
        for i in -20000..=20000 {
            let x = i as f64 * 0.0007;
            let want = x.tanh();
            assert!((tanh(x) - want).abs() <= 2.3e-16, "{x}");
            let x32 = x as f32;
            let w32 = (x32 as f64).tanh();
            assert!(
                (tanh(x32) as f64 - w32).abs() <= 4e-7 * w32.abs().max(1e-3),
                "{x}: {} vs {w32}",
                tanh(x32)
            );
        }
        assert!(tanh(f64::NAN).is_nan() && tanh(f32::NAN).is_nan());
        for a in [Activation::Tanh, Activation::Relu, Activation::Gelu] {
            assert!(
                activate(a, f64::NAN).0.is_nan() && activate(a, f32::NAN).0.is_nan(),
                "{a:?}"
            );
        }
        assert_eq!(tanh(50.0f32), 1.0);
        assert_eq!(tanh(-1e30f64), -1.0);
    }

    #[test]
    fn ln_1p_unit_is_accurate() {
        for i in 0..=1000 {
            let e = i as f64 / 1000.0;
            let want = e.ln_1p();
            assert!(
                (ln_1p_unit(e) - want).abs() <= 4.5e-16 * want.max(1e-300) + 1e-300,
                "{e}"
            );
        }
        assert!((ln_1p_unit(1e-300) - 1e-300).abs() < 1e-310);
    }
}
