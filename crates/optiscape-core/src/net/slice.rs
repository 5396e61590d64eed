//! A trained network's loss on a plane, as a 2D surface (Li et al. 2018, "Visualizing the loss
//! landscape of neural nets"): `L(theta* + a d1 + b d2)`, with `theta*` a trained minimum and
//! `d1`, `d2` filter-normalized random directions (§4), or the plane through three trained
//! minima. Its gradient is exact: the full gradient projected on the plane, `(g.d1, g.d2)`.
//!
//! Spelled `net:DATASET[,key=value...]` wherever a surface is named.

use super::data::{DataSpec, Dataset};
use super::fit::{FitOptions, fit_group};
use super::mlp::{Init, LossKind, Mlp, Scratch, loss_grad};
use crate::lanes::{F64x4, Real, V2};
use crate::optim::{Adam, Rng};
use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicBool;

/// Which plane a slice shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Plane {
    /// Through a trained minimum (at the origin) along two filter-normalized random directions;
    /// the domain is `[-1, 1]^2`.
    #[default]
    Random,
    /// Through three minima trained from three initializations, at `(0, 0)`, `(1, 0)` and
    /// `(0, 1)`; the domain is `[-0.5, 1.5]^2`.
    Minima,
}

/// Everything that makes a slice, as text can say it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SliceSpec {
    pub data: DataSpec,
    pub net: Mlp,
    pub init: Init,
    /// Seeds the initialization(s) and the directions.
    pub seed: u64,
    pub plane: Plane,
    /// Full-batch Adam updates (lr [`SLICE_LR`]) that train each minimum.
    pub steps: u64,
}

/// The learning rate of the Adam runs that train a slice's minima.
pub const SLICE_LR: f64 = 0.01;

impl SliceSpec {
    /// The defaults for a dataset: 2-16-16-1 tanh, Glorot, seed 0, a random plane, 2000 steps.
    pub fn named(dataset: &str) -> Result<Self, String> {
        Ok(Self {
            data: DataSpec::named(dataset)?,
            net: Mlp::default(),
            init: Init::Glorot,
            seed: 0,
            plane: Plane::Random,
            steps: 2000,
        })
    }

    /// `DATASET[,key=value...]` (what follows `net:`). Keys: `points`, `test-points`, `noise`,
    /// `data-seed`, `layers`, `activation`, `weight-decay`, `init`, `seed`, `plane`, `steps`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = text.split(',');
        let name = parts.next().unwrap_or("").trim();
        let mut s = Self::named(name).map_err(|e| format!("net: {e}"))?;
        for part in parts {
            let Some((k, v)) = part.split_once('=') else {
                return Err(format!("net: expected key=value, got '{part}'"));
            };
            let (k, v) = (k.trim(), v.trim());
            let count = |max: u64| -> Result<u64, String> {
                v.parse::<u64>().ok().filter(|n| *n <= max).ok_or_else(|| {
                    format!("net: {k} expects a whole number up to {max}, got '{v}'")
                })
            };
            let number = || -> Result<f64, String> {
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| format!("net: {k} expects a number, got '{v}'"))
            };
            match k {
                "points" => s.data.points = count(DataSpec::MAX_POINTS as u64)? as usize,
                "test-points" => s.data.test_points = count(DataSpec::MAX_POINTS as u64)? as usize,
                "noise" => s.data.noise = number()?,
                "data-seed" => s.data.seed = count(u64::MAX)?,
                "layers" => s.net.sizes = Mlp::parse_sizes(v).map_err(|e| format!("net: {e}"))?,
                "activation" => {
                    s.net.activation =
                        super::Activation::parse(v).map_err(|e| format!("net: {e}"))?
                }
                "weight-decay" => {
                    let w = number()?;
                    if !(0.0..=1e3).contains(&w) {
                        return Err(format!(
                            "net: weight-decay must be between 0 and 1000, got '{v}'"
                        ));
                    }
                    s.net.weight_decay = w;
                }
                "init" => s.init = Init::parse(v).map_err(|e| format!("net: {e}"))?,
                "seed" => s.seed = count(u64::MAX)?,
                "plane" => {
                    s.plane = match v {
                        "random" => Plane::Random,
                        "minima" => Plane::Minima,
                        _ => return Err(format!("net: plane is random or minima, got '{v}'")),
                    }
                }
                "steps" => {
                    s.steps = count(100_000)?;
                }
                _ => {
                    return Err(format!(
                        "net: unknown key '{k}' (known: points, test-points, noise, data-seed, layers, activation, weight-decay, init, seed, plane, steps)"
                    ));
                }
            }
        }
        s.data.validate().map_err(|e| format!("net: {e}"))?;
        s.net
            .check_labels(super::Labels::Classes(2))
            .map_err(|e| format!("net: {e}"))?;
        check_size(&s.net, s.data.points + s.data.test_points, 4)
            .map_err(|e| format!("net: {e}"))?;
        Ok(s)
    }

    /// The text [`Self::parse`] reads back to this spec (defaults left out).
    pub fn text(&self) -> String {
        let d = Self::named(&self.data.name).unwrap_or_else(|_| self.clone());
        let mut s = self.data.name.clone();
        let mut put = |k: &str, v: String| s.push_str(&format!(",{k}={v}"));
        if self.data.points != d.data.points {
            put("points", self.data.points.to_string());
        }
        if self.data.test_points != d.data.test_points {
            put("test-points", self.data.test_points.to_string());
        }
        if self.data.noise != d.data.noise {
            put("noise", format!("{:?}", self.data.noise));
        }
        if self.data.seed != d.data.seed {
            put("data-seed", self.data.seed.to_string());
        }
        if self.net.sizes != d.net.sizes {
            put("layers", self.net.sizes_text());
        }
        if self.net.activation != d.net.activation {
            put("activation", self.net.activation.name().into());
        }
        if self.net.weight_decay != d.net.weight_decay {
            put("weight-decay", format!("{:?}", self.net.weight_decay));
        }
        if self.init != d.init {
            put("init", self.init.name().into());
        }
        if self.seed != d.seed {
            put("seed", self.seed.to_string());
        }
        if self.plane != d.plane {
            put("plane", "minima".into());
        }
        if self.steps != d.steps {
            put("steps", self.steps.to_string());
        }
        s
    }
}

/// The memory allowed for the networks' parameters, gradients and rule state (one GiB).
pub const MEMORY_BUDGET: u64 = 1 << 30;

/// Refuses a network too large for [`MEMORY_BUDGET`] when `copies` of it are held (parameters,
/// gradient, and up to three state vectors each), or whose work per evaluation (parameters x
/// points) passes 10^10.
pub fn check_size(net: &Mlp, points: usize, copies: u64) -> Result<(), String> {
    let p = net.params() as u64;
    let bytes = p.saturating_mul(8 * 5).saturating_mul(copies.max(1));
    if bytes > MEMORY_BUDGET {
        return Err(format!(
            "the network {} has {p} parameters: {} copies need {:.1} GiB, above the budget of 1 GiB",
            net.sizes_text(),
            copies,
            bytes as f64 / (1u64 << 30) as f64
        ));
    }
    if p.saturating_mul(points as u64) > 10_000_000_000 {
        return Err(format!(
            "the network {} has {p} parameters: one pass over {points} points is too much work (at most 10^10 parameter-points)",
            net.sizes_text()
        ));
    }
    Ok(())
}

/// Filter normalization (Li et al. 2018, §4): each filter of the direction (for a fully
/// connected layer, each row of its weight: one output unit's incoming weights) is scaled to
/// the norm of the same filter of `theta`; the biases' directions are set to 0 (the paper's
/// code's `ignore='biasbn'`). A zero filter stays zero.
pub fn filter_normalize(net: &Mlp, d: &mut [f64], theta: &[f64]) {
    for (ni, no, w, b) in net.layers() {
        for j in 0..no {
            let r = w + j * ni..w + (j + 1) * ni;
            let dn = d[r.clone()].iter().map(|v| v * v).sum::<f64>().sqrt();
            let tn = theta[r.clone()].iter().map(|v| v * v).sum::<f64>().sqrt();
            let k = if dn > 0.0 { tn / dn } else { 0.0 };
            d[r].iter_mut().for_each(|v| *v *= k);
        }
        d[b..b + no].iter_mut().for_each(|v| *v = 0.0);
    }
}

/// A slice, ready to evaluate: the data, the plane's origin and directions, and the trained
/// minima it was made from.
#[derive(Debug)]
pub struct Slice {
    pub spec: SliceSpec,
    pub data: Dataset,
    pub layers: Vec<(usize, usize, usize, usize)>,
    pub center: Vec<f64>,
    pub d1: Vec<f64>,
    pub d2: Vec<f64>,
    /// The trained minima: one for a random plane, three for the plane through minima.
    pub minima: Vec<Vec<f64>>,
    /// Where the slice is drawn: `[-1, 1]^2` on a random plane, `[-0.5, 1.5]^2` through minima.
    pub window: crate::landscape::Domain,
}

impl Slice {
    /// Generates the data, trains the minima and draws the directions (deterministic: the same
    /// spec gives the same slice, bit for bit).
    pub fn build(spec: &SliceSpec) -> Result<Self, String> {
        let data = spec.data.generate()?;
        spec.net.check_labels(data.labels)?;
        let net = &spec.net;
        let p = net.params();
        let k = match spec.plane {
            Plane::Random => 1,
            Plane::Minima => 3,
        };
        let inits: Vec<Vec<f64>> = (0..k)
            .map(|i| {
                let mut rng = Rng::new(crate::optim::rng::mix(spec.seed, i as u64));
                net.init(spec.init, &mut rng)
            })
            .collect();
        let mut adam = Adam::new(false, false);
        adam.lr = SLICE_LR;
        let opts = FitOptions {
            steps: spec.steps,
            keep_weights: true,
            path_every: 0,
        };
        let never = AtomicBool::new(false);
        let runs = fit_fast(net, &data, &adam, &inits, opts, &never);
        if let Some(r) = runs.iter().find(|r| r.diverged_at.is_some()) {
            return Err(format!(
                "net: training the slice's minimum diverged after {} updates",
                r.updates
            ));
        }
        let minima: Vec<Vec<f64>> = runs.into_iter().map(|r| r.weights).collect();
        let (center, d1, d2) = match spec.plane {
            Plane::Random => {
                let mut rng = Rng::new(crate::optim::rng::mix(spec.seed, 0xD1EC));
                let mut draw = || {
                    let mut d = vec![0.0; p];
                    for pair in d.chunks_mut(2) {
                        let z = rng.normal2();
                        pair[0] = z.x;
                        if pair.len() > 1 {
                            pair[1] = z.y;
                        }
                    }
                    filter_normalize(net, &mut d, &minima[0]);
                    d
                };
                let d1 = draw();
                let d2 = draw();
                (minima[0].clone(), d1, d2)
            }
            Plane::Minima => {
                let diff = |m: &Vec<f64>| -> Vec<f64> {
                    m.iter().zip(&minima[0]).map(|(a, b)| a - b).collect()
                };
                (minima[0].clone(), diff(&minima[1]), diff(&minima[2]))
            }
        };
        let window = match spec.plane {
            Plane::Random => crate::landscape::Domain::square(-1.0, 1.0),
            Plane::Minima => crate::landscape::Domain::square(-0.5, 1.5),
        };
        Ok(Self {
            window,
            layers: net.layers(),
            data,
            center,
            d1,
            d2,
            minima,
            spec: spec.clone(),
        })
    }

    /// The parameters at `(a, b)`: `center + a d1 + b d2`.
    pub fn params_at(&self, a: f64, b: f64) -> Vec<f64> {
        (0..self.center.len())
            .map(|i| self.center[i] + a * self.d1[i] + b * self.d2[i])
            .collect()
    }

    /// The domain the slice is drawn on.
    pub fn domain(&self) -> crate::landscape::Domain {
        self.window
    }

    /// Where `theta` lies seen from the plane: its least-squares coordinates and how far it is
    /// from the plane ([`super::paths::project`]).
    pub fn project(&self, theta: &[f64]) -> super::paths::Projection {
        super::paths::project(&self.center, &self.d1, &self.d2, theta)
    }

    /// Loss and exact projected gradient at `p`, each lane a point of the plane.
    #[inline(always)]
    pub fn eval<R: Real>(&self, p: V2<R>) -> (R, V2<R>) {
        let c = R::splat;
        let theta: Vec<R> = (0..self.center.len())
            .map(|i| c(self.center[i]) + p.x * c(self.d1[i]) + p.y * c(self.d2[i]))
            .collect();
        let mut grad = vec![c(0.0); theta.len()];
        let mut s = Scratch::<R>::new(&self.spec.net);
        let loss = loss_grad(
            &self.spec.net,
            &self.layers,
            &self.data.train,
            self.data.labels,
            &theta,
            Some(&mut grad),
            &mut s,
        );
        let (mut ga, mut gb) = (c(0.0), c(0.0));
        for ((g, a), b) in grad.iter().zip(&self.d1).zip(&self.d2) {
            ga = ga + *g * c(*a);
            gb = gb + *g * c(*b);
        }
        (loss, V2::new(ga, gb))
    }

    /// The loss alone on an `n x n` grid over the domain (row `j` at `y0 + j h`, column `i` at
    /// `x0 + i w`; row-major), four points at a time on every core.
    pub fn loss_grid(&self, n: usize) -> Vec<f64> {
        self.view().loss_grid(n)
    }

    /// The slice as a [`PlaneView`].
    pub fn view(&self) -> PlaneView<'_> {
        PlaneView {
            net: &self.spec.net,
            layers: &self.layers,
            data: &self.data,
            center: &self.center,
            d1: &self.d1,
            d2: &self.d2,
            window: self.window,
        }
    }
}

/// A network's training loss on the plane `center + a d1 + b d2` over `window`: a slice's, or
/// any other (a training path's principal plane, on a user's data).
#[derive(Clone, Copy, Debug)]
pub struct PlaneView<'a> {
    pub net: &'a Mlp,
    pub layers: &'a [(usize, usize, usize, usize)],
    pub data: &'a Dataset,
    pub center: &'a [f64],
    pub d1: &'a [f64],
    pub d2: &'a [f64],
    pub window: crate::landscape::Domain,
}

impl PlaneView<'_> {
    /// The loss alone on an `n x n` grid over the window (row `j` at `y0 + j h`, column `i`
    /// at `x0 + i w`; row-major), four points at a time on every core.
    pub fn loss_grid(&self, n: usize) -> Vec<f64> {
        use rayon::prelude::*;
        let n = n.max(2);
        (0..n)
            .into_par_iter()
            .flat_map_iter(|j| row_fast(self, n, j))
            .collect()
    }

    /// Row `j` of [`Self::loss_grid`].
    #[inline(always)]
    fn grid_row(&self, n: usize, j: usize) -> Vec<f64> {
        let d = self.window;
        let step = |lo: f64, hi: f64, i: usize| lo + (hi - lo) * i as f64 / (n - 1) as f64;
        let net = self.net;
        let y = step(d.y0, d.y1, j);
        let mut s = Scratch::<F64x4>::new(net);
        let mut row = Vec::with_capacity(n);
        for i0 in (0..n).step_by(4) {
            let xs = F64x4::from_fn(|l| step(d.x0, d.x1, (i0 + l).min(n - 1)));
            let c = F64x4::splat;
            let theta: Vec<F64x4> = (0..self.center.len())
                .map(|k| c(self.center[k]) + xs * c(self.d1[k]) + c(y) * c(self.d2[k]))
                .collect();
            let v = loss_grad(
                net,
                self.layers,
                &self.data.train,
                self.data.labels,
                &theta,
                None,
                &mut s,
            );
            for l in 0..4.min(n - i0) {
                row.push(v.lane(l));
            }
        }
        row
    }
}

/// Whether the CPU has AVX2 (the copies below are compiled for it).
fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx") && std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Trains a slice's minima, compiled for AVX2 where the CPU has it: the same numbers either
/// way (no fused operations), in half the time.
fn fit_fast(
    net: &Mlp,
    data: &Dataset,
    adam: &Adam,
    inits: &[Vec<f64>],
    opts: FitOptions,
    never: &AtomicBool,
) -> Vec<super::FitRun> {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx,avx2")]
        fn avx2(
            net: &Mlp,
            data: &Dataset,
            adam: &Adam,
            inits: &[Vec<f64>],
            opts: FitOptions,
            never: &AtomicBool,
        ) -> Vec<super::FitRun> {
            fit_group::<F64x4, Adam>(net, data, adam, inits, &[0; 3], opts, never)
        }
        if has_avx2() {
            // SAFETY: the CPU has the features.
            return unsafe { avx2(net, data, adam, inits, opts, never) };
        }
    }
    fit_group::<F64x4, Adam>(net, data, adam, inits, &[0; 3], opts, never)
}

/// [`Slice::grid_row`], compiled for AVX2 where the CPU has it (the same numbers).
fn row_fast(slice: &PlaneView<'_>, n: usize, j: usize) -> Vec<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx,avx2")]
        fn avx2(slice: &PlaneView<'_>, n: usize, j: usize) -> Vec<f64> {
            slice.grid_row(n, j)
        }
        if has_avx2() {
            // SAFETY: the CPU has the features.
            return unsafe { avx2(slice, n, j) };
        }
    }
    slice.grid_row(n, j)
}

impl LossKind {
    /// Whether the loss is a cross-entropy.
    pub fn is_cross_entropy(self) -> bool {
        self == LossKind::CrossEntropy
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::Surface;
    use glam::DVec2;

    #[test]
    fn the_spelling_reads_back() {
        for text in [
            "moons",
            "spirals,points=100,noise=0.1,layers=2-8-1,activation=relu,seed=3,plane=minima",
            "xor,test-points=0,data-seed=2,weight-decay=0.001,init=he,steps=50",
        ] {
            let s = SliceSpec::parse(text).expect(text);
            assert_eq!(s.text(), text);
        }
        // Keys in any order; the text puts them in one.
        let s = SliceSpec::parse("xor,steps=50,init=he,data-seed=2").expect("parses");
        assert_eq!(s.text(), "xor,data-seed=2,init=he,steps=50");
        for bad in [
            "mooons",
            "moons,",
            "moons,noise",
            "moons,noise=-1",
            "moons,layers=2-16-3",
            "moons,plane=flat",
            "moons,colour=red",
            "moons,steps=1e9",
            "moons,points=1",
            "moons,layers=2-4096-4096-4096-1",
        ] {
            let e = SliceSpec::parse(bad).expect_err(bad);
            assert!(e.starts_with("net: "), "{e}");
        }
    }

    #[test]
    fn filter_normalization_matches_each_row() {
        let net = Mlp::default();
        let theta = net.init(Init::Glorot, &mut Rng::new(1));
        let mut d = net.init(Init::He, &mut Rng::new(2));
        filter_normalize(&net, &mut d, &theta);
        for (ni, no, w, b) in net.layers() {
            for j in 0..no {
                let r = w + j * ni..w + (j + 1) * ni;
                let n = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
                assert!((n(&d[r.clone()]) - n(&theta[r])).abs() < 1e-12);
            }
            assert!(d[b..b + no].iter().all(|v| *v == 0.0));
        }
    }

    #[test]
    fn a_slice_is_a_surface_with_its_exact_gradient() {
        let s = Surface::parse("net:moons,steps=200").expect("builds");
        assert_eq!(s.spec(), "net:moons,steps=200");
        assert_eq!(s.domain, crate::landscape::Domain::square(-1.0, 1.0));
        let n = s.as_net().expect("a slice");
        // The origin is the trained minimum.
        let at0 = s.height(DVec2::ZERO);
        let m = &n.slice().minima[0];
        let mut scratch = Scratch::<f64>::new(&n.slice().spec.net);
        let direct = loss_grad(
            &n.slice().spec.net,
            &n.slice().layers,
            &n.slice().data.train,
            n.slice().data.labels,
            m,
            None,
            &mut scratch,
        );
        assert_eq!(at0, direct);
        for p in [DVec2::new(0.3, -0.2), DVec2::new(-0.7, 0.9)] {
            let (h, g) = s.height_and_gradient(p);
            assert_eq!(h, s.height(p));
            let e = 1e-6;
            let fx = (s.height(p + DVec2::X * e) - s.height(p - DVec2::X * e)) / (2.0 * e);
            let fy = (s.height(p + DVec2::Y * e) - s.height(p - DVec2::Y * e)) / (2.0 * e);
            assert!((fx - g.x).abs() < 1e-6 * (1.0 + g.x.abs()), "{fx} {}", g.x);
            assert!((fy - g.y).abs() < 1e-6 * (1.0 + g.y.abs()), "{fy} {}", g.y);
        }
        // The grid's values are the surface's.
        let grid = n.slice().loss_grid(5);
        assert_eq!(grid[5 * 2 + 2], at0);
        assert_eq!(grid[5 + 3], s.height(DVec2::new(0.5, -0.5)));
        let min = s.global_minimum();
        assert!(min.estimated && min.value <= at0);
        // The same text, the same slice; a file round trip too.
        assert_eq!(Surface::parse("net:moons,steps=200").expect("again"), s);
        let ron = ron::to_string(&s).expect("serializes");
        let back: Surface = ron::from_str(&ron).expect("reads back");
        assert_eq!(back, s);
    }

    #[test]
    fn the_plane_through_minima_passes_through_them() {
        let s = Surface::parse("net:circles,plane=minima,steps=100").expect("builds");
        let sl = s.as_net().expect("a slice").slice();
        assert_eq!(sl.minima.len(), 3);
        for (k, p) in [(0, (0.0, 0.0)), (1, (1.0, 0.0)), (2, (0.0, 1.0))] {
            let at = sl.params_at(p.0, p.1);
            for (a, b) in at.iter().zip(&sl.minima[k]) {
                assert!((a - b).abs() < 1e-12);
            }
        }
    }
}
