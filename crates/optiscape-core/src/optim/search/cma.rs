//! CMA-ES as in Hansen's tutorial (*The CMA Evolution Strategy: A Tutorial*, 2016, Algorithm
//! and Table 1: active covariance update with negative weights) with the constants `pycma`
//! (version 4) sets in 2D: population `4 + ⌊3 ln n⌋` = 6, `μ = λ/2`, weights
//! `ln((λ+1)/2) − ln i` (the positive ones summing to 1, the negative ones scaled to
//! `min(1 + c1/cμ, 1 + 2 μeff⁻/(μeff + 2), (1 − c1 − cμ)/(n cμ))`), `cc = (4 + μeff/n)/(n + 4 +
//! 2μeff/n)`, `c1 = 2/((n + 1.3)² + μeff)`, `cμ = min(1 − c1, 2(0.25 + μeff + 1/μeff − 2)/((n +
//! 2)² + μeff))`, `cσ = min(1/2, (μeff + 2)/(n + μeff + 3))`,
//! `dσ = 1 + 2 max(0, √((μeff − 1)/(n + 1)) − 1) + cσ` (pycma's `compute_cs`, `compute_damps`), the step-size change capped at
//! `e¹` per iteration as pycma caps it. One iteration is one generation. Stops by pycma's default
//! tests (`tolfun`, `tolfunhist`, `tolx`, `tolflatfitness`, `tolstagnation`, `conditioncov`,
//! `noeffectaxis`, `noeffectcoord`), and then, with `restarts = ipop`, starts again from the run's
//! start with the population doubled (pycma's `fmin2(..., restarts, incpopsize=2)`); with
//! `bipop`, alternates that regime with small populations and small step sizes as Hansen
//! (2009, *Benchmarking a BI-Population CMA-ES on the BBOB-2009 Function Testbed*) does.

use super::{Oracle, Point, SearchMethod, order};
use crate::optim::params::{Choice, Param, ParamSpec};
use crate::optim::{Rng, StateValue};
use glam::{DMat2, DVec2};
use serde::{Deserialize, Serialize};

static SIGMA0: ParamSpec = ParamSpec::positive_log(
    "sigma0",
    "initial step size, as a fraction of the domain's width (0.2: a fifth)",
    1e-4,
    2.0,
);
static POPSIZE: ParamSpec = ParamSpec::count_in(
    "popsize",
    "offspring per generation, λ (pycma's default in 2D: 4 + ⌊3 ln 2⌋ = 6)",
    4.0,
    MAX_POPULATION as f64,
    200.0,
);

/// The largest population a run uses: the user's `popsize` at most, and the restarts' doubling
/// stops growing there (a run without an evaluation budget, as a ball in the sandbox, would
/// otherwise double it without end; under the lab's budgets it is never reached).
pub const MAX_POPULATION: usize = 100_000;
static RESTARTS: ParamSpec = ParamSpec::choice(
    "restarts",
    "after a run stops: none, ipop (population doubled) or bipop (Hansen 2009)",
    &["none", "ipop", "bipop"],
);

const N: f64 = 2.0;

/// What CMA-ES does when a run stops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Restarts {
    #[default]
    None,
    Ipop,
    Bipop,
}

/// The strategy's constants for one population size (pycma's `sp` and `adapt_sigma` in 2D).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Constants {
    pub lambda: usize,
    pub mu: usize,
    pub weights: Vec<f64>,
    pub mueff: f64,
    pub cc: f64,
    pub c1: f64,
    pub cmu: f64,
    pub cs: f64,
    pub damps: f64,
    /// E|N(0, I)|.
    pub chi_n: f64,
}

impl Constants {
    /// The constants for `lambda` offspring.
    pub fn new(lambda: usize) -> Self {
        let lam = lambda as f64;
        let raw: Vec<f64> = (1..=lambda)
            .map(|i| ((lam + 1.0) / 2.0).ln() - (i as f64).ln())
            .collect();
        let mu = raw.iter().filter(|w| **w > 0.0).count();
        let pos: f64 = raw[..mu].iter().sum();
        let neg: f64 = raw[mu..].iter().map(|w| -w).sum();
        let mut weights: Vec<f64> = raw
            .iter()
            .map(|w| if *w > 0.0 { w / pos } else { w / neg })
            .collect();
        let mueff = 1.0 / weights[..mu].iter().map(|w| w * w).sum::<f64>();
        let cc = (4.0 + mueff / N) / (N + (4.0 + 2.0 * mueff / N));
        let c1 = f64::min(1.0, lam / 6.0) * 2.0 / ((N + 1.3).powi(2) + mueff);
        let cmu = f64::min(
            1.0 - c1,
            2.0 * (0.25 + mueff + 1.0 / mueff - 2.0) / ((N + 2.0).powi(2) + 2.0 * mueff / 2.0),
        );
        if lambda > mu {
            let negs = &weights[mu..];
            let s: f64 = negs.iter().sum();
            let mueff_neg = s * s / negs.iter().map(|w| w * w).sum::<f64>();
            let scale = [
                1.0 + c1 / cmu,
                1.0 + 2.0 * mueff_neg / (mueff + 2.0),
                (1.0 - c1 - cmu) / (N * cmu),
            ]
            .into_iter()
            .fold(f64::INFINITY, f64::min);
            for w in &mut weights[mu..] {
                *w *= scale;
            }
        }
        let cs = f64::min(0.5, (mueff + 2.0) / (N + mueff + 3.0));
        // pycma's compute_damps in 2D (no mirrors; the inner damping factor is 1 there).
        let damps = 0.5 + 0.5 + 2.0 * f64::max(0.0, ((mueff - 1.0) / (N + 1.0)).sqrt() - 1.0) + cs;
        let chi_n = N.sqrt() * (1.0 - 1.0 / (4.0 * N) + 1.0 / (21.0 * N * N));
        Self {
            lambda,
            mu,
            weights,
            mueff,
            cc,
            c1,
            cmu,
            cs,
            damps,
            chi_n,
        }
    }
}

/// Why a run stopped (pycma's termination names).
fn stop_name(i: u8) -> &'static str {
    match i {
        1 => "tolfun",
        2 => "tolfunhist",
        3 => "tolx",
        4 => "tolflatfitness",
        5 => "tolstagnation",
        6 => "conditioncov",
        7 => "noeffectaxis",
        8 => "noeffectcoord",
        9 => "not finite",
        _ => "",
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CmaEs {
    pub sigma0: f64,
    pub popsize: u32,
    pub restarts: Restarts,
    #[serde(skip)]
    k: Constants,
    #[serde(skip)]
    start: DVec2,
    #[serde(skip)]
    width: f64,
    #[serde(skip)]
    mean: DVec2,
    #[serde(skip)]
    mean_value: f64,
    #[serde(skip)]
    sigma: f64,
    /// The run's initial step size (σ0 of the current run, BIPOP's small regime shrinks it).
    #[serde(skip)]
    run_sigma0: f64,
    #[serde(skip)]
    c: DMat2,
    #[serde(skip)]
    pc: DVec2,
    #[serde(skip)]
    ps: DVec2,
    #[serde(skip)]
    generation: u64,
    /// Generations of the current run.
    #[serde(skip)]
    run_generation: u64,
    #[serde(skip)]
    population: Vec<DVec2>,
    #[serde(skip)]
    best: Option<Point>,
    /// Best value of each generation of the current run (tolfunhist, tolstagnation).
    #[serde(skip)]
    history: Vec<f64>,
    /// Median value of each generation of the current run (tolstagnation).
    #[serde(skip)]
    medians: Vec<f64>,
    #[serde(skip)]
    runs: u64,
    #[serde(skip)]
    stopped: u8,
    #[serde(skip)]
    done: bool,
    /// BIPOP: evaluations spent in the large and small regimes, the large population so far.
    #[serde(skip)]
    bipop: (u64, u64, usize),
    #[serde(skip)]
    regime_small: bool,
    #[serde(skip)]
    run_evals: u64,
}

impl Default for CmaEs {
    fn default() -> Self {
        Self {
            sigma0: 0.2,
            popsize: 6,
            restarts: Restarts::None,
            k: Constants::default(),
            start: DVec2::ZERO,
            width: 1.0,
            mean: DVec2::ZERO,
            mean_value: f64::NAN,
            sigma: 0.0,
            run_sigma0: 0.0,
            c: DMat2::IDENTITY,
            pc: DVec2::ZERO,
            ps: DVec2::ZERO,
            generation: 0,
            run_generation: 0,
            population: Vec::new(),
            best: None,
            history: Vec::new(),
            medians: Vec::new(),
            runs: 0,
            stopped: 0,
            done: false,
            bipop: (0, 0, 0),
            regime_small: false,
            run_evals: 0,
        }
    }
}

/// The eigen-decomposition of a symmetric 2×2 matrix: eigenvalues and unit eigenvectors.
fn eigen(c: DMat2) -> ([f64; 2], [DVec2; 2]) {
    let (a, b, d) = (c.x_axis.x, c.y_axis.x, c.y_axis.y);
    let tr = a + d;
    let disc = ((a - d) * (a - d) / 4.0 + b * b).sqrt();
    let l1 = tr / 2.0 + disc;
    let l2 = tr / 2.0 - disc;
    let v1 = if b.abs() > 1e-300 {
        DVec2::new(l1 - d, b).normalize()
    } else if a >= d {
        DVec2::X
    } else {
        DVec2::Y
    };
    let v2 = DVec2::new(-v1.y, v1.x);
    ([l1, l2], [v1, v2])
}

impl CmaEs {
    pub fn reset(&mut self) {
        *self = Self {
            sigma0: self.sigma0,
            popsize: self.popsize,
            restarts: self.restarts,
            ..Self::default()
        };
    }

    /// Starts a run with `lambda` offspring and initial step size `sigma`.
    fn start_run(&mut self, lambda: usize, sigma: f64, f: &mut Oracle) {
        self.k = Constants::new(lambda);
        self.mean = self.start;
        self.mean_value = f.peek(self.mean);
        self.sigma = sigma;
        self.run_sigma0 = sigma;
        self.c = DMat2::IDENTITY;
        self.pc = DVec2::ZERO;
        self.ps = DVec2::ZERO;
        self.run_generation = 0;
        self.history.clear();
        self.medians.clear();
        self.stopped = 0;
        self.run_evals = 0;
        self.runs += 1;
    }

    /// pycma's default termination tests, after a generation with sorted values `fs`.
    fn termination(&self, fs: &[f64], eig: [f64; 2], axes: [DVec2; 2]) -> u8 {
        let lam = self.k.lambda as f64;
        let g = self.run_generation as usize;
        let span = |v: &[f64]| {
            v.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b))
                - v.iter().fold(f64::INFINITY, |a, &b| a.min(b))
        };
        if fs.iter().any(|v| !v.is_finite()) && fs.iter().all(|v| !v.is_finite()) {
            return 9;
        }
        let hist_len = 10 + (30.0 * N / lam).ceil() as usize;
        let recent = &self.history[self.history.len().saturating_sub(hist_len)..];
        if g > 1 && span(fs).max(span(recent)) < 1e-11 {
            return 1;
        }
        if self.history.len() >= hist_len && span(recent) < 1e-12 {
            return 2;
        }
        let diag = DVec2::new(self.c.x_axis.x.sqrt(), self.c.y_axis.y.sqrt());
        if self.sigma * self.pc.abs().max(diag).max_element() < 1e-11 {
            return 3;
        }
        // Flat fitness: the best and the ⌈0.1 + λ/4⌉-th value equal.
        let q = ((0.1 + lam / 4.0).ceil() as usize).min(fs.len() - 1);
        if fs[0] == fs[q] {
            return 4;
        }
        let stag = 120 + (30.0 * N / lam).ceil() as usize + (0.2 * g as f64) as usize;
        if g > stag {
            let w = (0.3 * g as f64) as usize;
            let med = |v: &[f64]| {
                let mut s = v.to_vec();
                s.sort_by(|a, b| order(*a, *b));
                s[s.len() / 2]
            };
            let (h, m) = (&self.history, &self.medians);
            if med(&h[h.len() - 20..]) >= med(&h[h.len() - w..h.len() - w + 20])
                && med(&m[m.len() - 20..]) >= med(&m[m.len() - w..m.len() - w + 20])
            {
                return 5;
            }
        }
        if eig[0] / eig[1].max(f64::MIN_POSITIVE) > 1e14 {
            return 6;
        }
        // No effect along a principal axis (cycled one per generation) or of a coordinate.
        let i = g % 2;
        let shift = 0.1 * self.sigma * eig[i].sqrt() * axes[i];
        if self.mean + shift == self.mean {
            return 7;
        }
        let coord = 0.2 * self.sigma * diag;
        if self.mean.x + coord.x == self.mean.x || self.mean.y + coord.y == self.mean.y {
            return 8;
        }
        0
    }

    /// The next run after one stopped, or the end without restarts.
    fn restart(&mut self, f: &mut Oracle, rng: &mut Rng) {
        let default = self.popsize as usize;
        let sigma0 = self.sigma0 * self.width;
        match self.restarts {
            Restarts::None => self.done = true,
            Restarts::Ipop => {
                let lambda = (self.k.lambda * 2).min(MAX_POPULATION);
                self.start_run(lambda, sigma0, f);
            }
            Restarts::Bipop => {
                let (large, small, lam_large) = &mut self.bipop;
                if self.regime_small {
                    *small += self.run_evals;
                } else {
                    *large += self.run_evals;
                }
                let (large, small, lam_large_now) = (*large, *small, *lam_large);
                if self.runs == 1 || small >= large {
                    // The large regime: its population doubles each time.
                    let lambda = (lam_large_now.max(default) * 2).min(MAX_POPULATION);
                    self.bipop.2 = lambda;
                    self.regime_small = false;
                    self.start_run(lambda, sigma0, f);
                } else {
                    let u: f64 = rng.uniform();
                    let ratio = lam_large_now as f64 / (2.0 * default as f64);
                    let lambda = ((default as f64) * ratio.max(1.0).powf(u * u)).floor() as usize;
                    let sigma = sigma0 * 10f64.powf(-2.0 * rng.uniform());
                    self.regime_small = true;
                    self.start_run(lambda.max(default), sigma, f);
                }
            }
        }
    }

    /// The step size now (in the surface's units) and the population size.
    pub fn sigma(&self) -> (f64, usize) {
        (self.sigma, self.k.lambda)
    }
}

impl SearchMethod for CmaEs {
    fn begin(&mut self, start: DVec2, f: &mut Oracle, _rng: &mut Rng) {
        let d = f.domain();
        self.width = d.width();
        self.start = start;
        self.generation = 0;
        self.runs = 0;
        self.best = None;
        self.done = false;
        self.bipop = (0, 0, self.popsize as usize);
        self.regime_small = false;
        self.start_run(self.popsize as usize, self.sigma0 * self.width, f);
    }

    fn iterate(&mut self, f: &mut Oracle, rng: &mut Rng) {
        if self.done {
            return;
        }
        let k = self.k.clone();
        let (eig, axes) = eigen(self.c);
        let d = [eig[0].max(0.0).sqrt(), eig[1].max(0.0).sqrt()];
        // y = B D z, x = m + σ y
        let mut ys = Vec::with_capacity(k.lambda);
        let mut xs = Vec::with_capacity(k.lambda);
        let mut fs = Vec::with_capacity(k.lambda);
        for _ in 0..k.lambda {
            let z = rng.normal2();
            let y = axes[0] * (d[0] * z.x) + axes[1] * (d[1] * z.y);
            let x = self.mean + self.sigma * y;
            let v = f.value(x);
            ys.push(y);
            xs.push(x);
            fs.push(v);
            let better = match self.best {
                None => true,
                Some((_, b)) => v < b || (b.is_nan() && !v.is_nan()),
            };
            if better {
                self.best = Some((x, v));
            }
        }
        self.run_evals += k.lambda as u64;
        let mut idx: Vec<usize> = (0..k.lambda).collect();
        idx.sort_by(|&a, &b| order(fs[a], fs[b]));
        let sorted_f: Vec<f64> = idx.iter().map(|&i| fs[i]).collect();
        // Mean: the μ best, positive weights.
        let mut yw = DVec2::ZERO;
        for (j, &i) in idx.iter().take(k.mu).enumerate() {
            yw += k.weights[j] * ys[i];
        }
        self.mean += self.sigma * yw;
        // C^(-1/2) = B D^-1 B^T
        let inv_sqrt = |v: DVec2| -> DVec2 {
            let mut out = DVec2::ZERO;
            for a in 0..2 {
                let dd = if d[a] > 0.0 { 1.0 / d[a] } else { 0.0 };
                out += axes[a] * (axes[a].dot(v) * dd);
            }
            out
        };
        self.ps = (1.0 - k.cs) * self.ps + (k.cs * (2.0 - k.cs) * k.mueff).sqrt() * inv_sqrt(yw);
        let g1 = (self.run_generation + 1) as f64;
        let hsig = self.ps.length() / (1.0 - (1.0 - k.cs).powf(2.0 * g1)).sqrt()
            < (1.4 + 2.0 / (N + 1.0)) * k.chi_n;
        let h = if hsig { 1.0 } else { 0.0 };
        self.pc = (1.0 - k.cc) * self.pc + h * (k.cc * (2.0 - k.cc) * k.mueff).sqrt() * yw;
        let delta_h = (1.0 - h) * k.cc * (2.0 - k.cc);
        let sum_w: f64 = k.weights.iter().sum();
        let outer = |v: DVec2| DMat2::from_cols(v * v.x, v * v.y);
        let mut rank_mu = DMat2::ZERO;
        for (j, &i) in idx.iter().enumerate() {
            let w = k.weights[j];
            let w = if w >= 0.0 {
                w
            } else {
                let m = inv_sqrt(ys[i]).length_squared();
                if m > 0.0 { w * N / m } else { 0.0 }
            };
            rank_mu += outer(ys[i]) * w;
        }
        self.c = self.c * (1.0 + k.c1 * delta_h - k.c1 - k.cmu * sum_w)
            + outer(self.pc) * k.c1
            + rank_mu * k.cmu;
        // Keep C symmetric against rounding.
        let off = 0.5 * (self.c.x_axis.y + self.c.y_axis.x);
        self.c.x_axis.y = off;
        self.c.y_axis.x = off;
        let change = (k.cs / k.damps) * (self.ps.length() / k.chi_n - 1.0);
        self.sigma *= change.min(1.0).exp();
        self.population = xs;
        self.mean_value = f.peek(self.mean);
        self.generation += 1;
        self.run_generation += 1;
        self.history.push(sorted_f[0]);
        self.medians.push(sorted_f[sorted_f.len() / 2]);
        let (eig2, axes2) = eigen(self.c);
        self.stopped = self.termination(&sorted_f, eig2, axes2);
        if self.stopped != 0 {
            let why = self.stopped;
            self.restart(f, rng);
            if !self.done {
                // Remember why the previous run stopped, for the inspector.
                self.stopped = why;
            }
        }
    }

    /// The mean (its value computed for the picture, not counted: CMA-ES does not ask for it).
    fn current(&self) -> Point {
        (self.mean, self.mean_value)
    }

    /// The best point it has evaluated (pycma's `xbest`).
    fn best(&self) -> Point {
        self.best.unwrap_or((self.mean, self.mean_value))
    }

    fn finished(&self) -> bool {
        self.done
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        vec![
            Param::num(&SIGMA0, &mut self.sigma0),
            Param::count(&POPSIZE, &mut self.popsize),
            Param::choice(&RESTARTS, &mut self.restarts),
        ]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        let (eig, _) = eigen(self.c);
        vec![
            ("generations", StateValue::Count(self.generation)),
            ("sigma", StateValue::Scalar(self.sigma)),
            ("population", StateValue::Count(self.k.lambda as u64)),
            ("runs", StateValue::Count(self.runs)),
            ("axis ratio", StateValue::Scalar((eig[0] / eig[1]).sqrt())),
            ("best value", StateValue::Scalar(self.best().1)),
            ("last stop", StateValue::Text(stop_name(self.stopped))),
        ]
    }

    fn points(&self) -> Vec<DVec2> {
        self.population.clone()
    }
}

impl Choice for Restarts {
    fn index(&self) -> usize {
        *self as usize
    }
    fn set_index(&mut self, i: usize) {
        *self = match i {
            1 => Restarts::Ipop,
            2 => Restarts::Bipop,
            _ => Restarts::None,
        };
    }
}
