//! Generalized simulated annealing as `scipy.optimize.dual_annealing` does it (Xiang et al.
//! 1997; Tsallis & Stariolo 1996) with its defaults: the distorted Cauchy–Lorentz visiting
//! distribution with `visit = 2.62`, the generalized Metropolis acceptance with `accept = −5`,
//! the temperature `T(t) = T0 (2^(qv−1) − 1)/((1 + t)^(qv−1) − 1)` from `initial_temp = 5230`,
//! restarted from a uniform point when it falls below `restart_temp_ratio = 2e-5` times T0, and
//! the strategy chain's local search (from the best point each time it improved, and from the
//! chain's minimum when it stopped improving). One iteration is one temperature step: 2n = 4
//! visits (first all coordinates, then one at a time) and the local search. SciPy's local search
//! is L-BFGS-B within the bounds (100 iterations); here it is this crate's BFGS with the same
//! iteration limit, its result kept only inside the domain, as SciPy keeps only results in
//! bounds. `no_local_search = true` gives classic GSA. SciPy's `maxiter` is the lab's budget.

use super::{Bfgs, Oracle, Point, SearchMethod, uniform_in};
use crate::landscape::Domain;
use crate::optim::params::{Param, ParamSpec};
use crate::optim::{Rng, StateValue};
use crate::special::ln_gamma;
use glam::DVec2;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

static INITIAL_TEMP: ParamSpec = ParamSpec::between(
    "initial_temp",
    "initial temperature (higher: wider visits)",
    (0.01, true),
    (5e4, false),
);
static RESTART_TEMP_RATIO: ParamSpec = ParamSpec::between(
    "restart_temp_ratio",
    "restart from a random point when the temperature falls below this fraction of the initial",
    (0.0, true),
    (1.0, true),
);
static VISIT: ParamSpec = ParamSpec::between(
    "visit",
    "visiting parameter qv (larger: heavier tails, longer jumps)",
    (1.0, true),
    (3.0, false),
);
static ACCEPT: ParamSpec = ParamSpec::between(
    "accept",
    "acceptance parameter qa (smaller: fewer uphill moves accepted)",
    (-1e4, true),
    (-5.0, false),
);
static NO_LOCAL_SEARCH: ParamSpec = ParamSpec::flag(
    "no_local_search",
    "no local search: classic generalized simulated annealing",
);

const TAIL_LIMIT: f64 = 1e8;
const MIN_VISIT_BOUND: f64 = 1e-10;
/// SciPy's local search limit in 2D: min(max(6n, 100), 1000).
const LS_MAXITER: u64 = 100;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Annealing {
    pub initial_temp: f64,
    pub restart_temp_ratio: f64,
    pub visit: f64,
    pub accept: f64,
    pub no_local_search: bool,
    #[serde(skip)]
    run: Option<Run>,
}

/// A run's state: the energy state, the strategy chain and the temperature schedule.
#[derive(Clone, Debug, PartialEq)]
struct Run {
    domain: Domain,
    current: Point,
    best: Point,
    /// The chain's minimum: where its local search starts (SciPy keeps `xmin` and `emin`
    /// apart: an accepted uphill move moves `xmin` only).
    xmin: DVec2,
    emin: f64,
    not_improved_idx: u64,
    not_improved_max_idx: u64,
    improved: bool,
    temperature: f64,
    temperature_step: f64,
    /// The schedule's step since the last restart (SciPy's `i`).
    i: u64,
    iterations: u64,
    restarts: u64,
    accepted_uphill: u64,
    visits: Vec<DVec2>,
}

impl Default for Annealing {
    fn default() -> Self {
        Self {
            initial_temp: 5230.0,
            restart_temp_ratio: 2e-5,
            visit: 2.62,
            accept: -5.0,
            no_local_search: false,
            run: None,
        }
    }
}

impl Annealing {
    pub fn reset(&mut self) {
        self.run = None;
    }

    /// The temperature now.
    pub fn temperature(&self) -> f64 {
        self.run
            .as_ref()
            .map_or(self.initial_temp, |r| r.temperature)
    }

    /// One draw of the visiting distribution per coordinate of `dim` (SciPy's `visit_fn`).
    fn visit_fn(&self, temperature: f64, dim: usize, rng: &mut Rng) -> [f64; 2] {
        let qv = self.visit;
        let factor2 = ((4.0 - qv) * (qv - 1.0).ln()).exp();
        let factor3 = ((2.0 - qv) * 2f64.ln() / (qv - 1.0)).exp();
        let factor4_p = PI.sqrt() * factor2 / (factor3 * (3.0 - qv));
        let factor5 = 1.0 / (qv - 1.0) - 0.5;
        let d1 = 2.0 - factor5;
        let factor6 = PI * (1.0 - factor5) / (PI * (1.0 - factor5)).sin() / ln_gamma(d1).exp();
        let factor1 = (temperature.ln() / (qv - 1.0)).exp();
        let factor4 = factor4_p * factor1;
        let scale = (-(qv - 1.0) * (factor6 / factor4).ln() / (3.0 - qv)).exp();
        let mut out = [0.0; 2];
        for o in out.iter_mut().take(dim) {
            let n = rng.normal2();
            let den = ((qv - 1.0) * n.y.abs().ln() / (3.0 - qv)).exp();
            *o = n.x * scale / den;
        }
        out
    }

    /// Wraps a coordinate into `[lo, lo + range)` (SciPy's two `fmod`s).
    fn wrap(v: f64, lo: f64, range: f64) -> f64 {
        let a = v - lo;
        let b = a % range + range;
        let mut x = b % range + lo;
        if (x - lo).abs() < MIN_VISIT_BOUND {
            x += MIN_VISIT_BOUND;
        }
        x
    }

    fn visiting(&self, x: DVec2, step: usize, temperature: f64, d: Domain, rng: &mut Rng) -> DVec2 {
        let lo = [d.x0, d.y0];
        let range = [d.width(), d.height()];
        let mut out = x;
        if step < 2 {
            let mut v = self.visit_fn(temperature, 2, rng);
            let upper = rng.uniform();
            let lower = rng.uniform();
            for vk in &mut v {
                if *vk > TAIL_LIMIT {
                    *vk = TAIL_LIMIT * upper;
                } else if *vk < -TAIL_LIMIT {
                    *vk = -TAIL_LIMIT * lower;
                }
            }
            for k in 0..2 {
                out[k] = Self::wrap(v[k] + x[k], lo[k], range[k]);
            }
        } else {
            let mut v = self.visit_fn(temperature, 1, rng)[0];
            if v > TAIL_LIMIT {
                v = TAIL_LIMIT * rng.uniform();
            } else if v < -TAIL_LIMIT {
                v = -TAIL_LIMIT * rng.uniform();
            }
            let k = step - 2;
            out[k] = Self::wrap(v + x[k], lo[k], range[k]);
        }
        out
    }

    /// SciPy's `LocalSearchWrapper.local_search`: BFGS from `(x, e)`, kept if finite, inside
    /// the domain and lower.
    fn local_search(p: Point, f: &mut Oracle, rng: &mut Rng) -> Point {
        let mut bfgs = Bfgs::local();
        bfgs.maxiter = Some(LS_MAXITER);
        let (x, fun, _) = bfgs.minimize(p.0, f, rng);
        if x.is_finite() && fun.is_finite() && f.domain().contains(x) && fun < p.1 {
            (x, fun)
        } else {
            p
        }
    }

    /// EnergyState.reset: a finite starting energy, redrawn uniformly up to 1000 times.
    fn fresh_point(x: Option<DVec2>, f: &mut Oracle, rng: &mut Rng) -> Point {
        let d = f.domain();
        let mut x = x.unwrap_or_else(|| uniform_in(d, rng));
        for _ in 0..1000 {
            let e = f.value(x);
            if e.is_finite() {
                return (x, e);
            }
            x = uniform_in(d, rng);
        }
        (x, f64::NAN)
    }
}

impl SearchMethod for Annealing {
    fn begin(&mut self, start: DVec2, f: &mut Oracle, rng: &mut Rng) {
        let p = Self::fresh_point(Some(start), f, rng);
        self.run = Some(Run {
            domain: f.domain(),
            current: p,
            best: p,
            xmin: p.0,
            emin: p.1,
            not_improved_idx: 0,
            not_improved_max_idx: 1000,
            improved: false,
            temperature: self.initial_temp,
            temperature_step: 0.0,
            i: 0,
            iterations: 0,
            restarts: 0,
            accepted_uphill: 0,
            visits: Vec::new(),
        });
    }

    fn iterate(&mut self, f: &mut Oracle, rng: &mut Rng) {
        let Some(mut r) = self.run.take() else {
            return;
        };
        let qv = self.visit;
        let t1 = ((qv - 1.0) * 2f64.ln()).exp() - 1.0;
        let restart_below = self.initial_temp * self.restart_temp_ratio;
        let temperature = loop {
            let s = r.i as f64 + 2.0;
            let t2 = ((qv - 1.0) * s.ln()).exp() - 1.0;
            let t = self.initial_temp * t1 / t2;
            if t < restart_below {
                // A restart: a fresh uniform point, the schedule from the top.
                r.current = Self::fresh_point(None, f, rng);
                if r.current.1 < r.best.1 {
                    r.best = r.current;
                }
                r.i = 0;
                r.restarts += 1;
                continue;
            }
            break t;
        };
        r.temperature = temperature;
        // StrategyChain.run
        let step = r.i;
        r.temperature_step = temperature / (step + 1) as f64;
        r.not_improved_idx += 1;
        r.visits.clear();
        for j in 0..4 {
            if j == 0 {
                r.improved = step == 0;
            }
            let x_visit = self.visiting(r.current.0, j, temperature, r.domain, rng);
            r.visits.push(x_visit);
            let e = f.value(x_visit);
            if e < r.current.1 {
                r.current = (x_visit, e);
                if e < r.best.1 {
                    r.best = (x_visit, e);
                    r.improved = true;
                    r.not_improved_idx = 0;
                }
            } else {
                // accept_reject
                let u = rng.uniform();
                let pqv_temp = 1.0 - ((1.0 - self.accept) * (e - r.current.1) / r.temperature_step);
                let pqv = if pqv_temp <= 0.0 {
                    0.0
                } else {
                    (pqv_temp.ln() / (1.0 - self.accept)).exp()
                };
                if u <= pqv {
                    r.current = (x_visit, e);
                    r.xmin = x_visit;
                    r.accepted_uphill += 1;
                }
                if r.not_improved_idx >= r.not_improved_max_idx && (j == 0 || r.current.1 < r.emin)
                {
                    (r.xmin, r.emin) = r.current;
                }
            }
        }
        if !self.no_local_search {
            // StrategyChain.local_search
            if r.improved {
                let p = Self::local_search(r.best, f, rng);
                if p.1 < r.best.1 {
                    r.not_improved_idx = 0;
                    r.best = p;
                    r.current = p;
                }
            }
            let k = 200.0;
            let mut do_ls = false;
            if k < 90.0 * 2.0 {
                let pls = (k * (r.best.1 - r.current.1) / r.temperature_step).exp();
                if pls >= rng.uniform() {
                    do_ls = true;
                }
            }
            if r.not_improved_idx >= r.not_improved_max_idx {
                do_ls = true;
            }
            if do_ls {
                let p = Self::local_search((r.xmin, r.emin), f, rng);
                (r.xmin, r.emin) = p;
                r.not_improved_idx = 0;
                r.not_improved_max_idx = 2;
                if p.1 < r.best.1 {
                    r.best = p;
                    r.current = p;
                }
            }
        }
        r.i += 1;
        r.iterations += 1;
        self.run = Some(r);
    }

    /// The current state of the chain.
    fn current(&self) -> Point {
        self.run
            .as_ref()
            .map_or((DVec2::ZERO, f64::NAN), |r| r.current)
    }

    /// The best point found (SciPy's `xbest`).
    fn best(&self) -> Point {
        self.run
            .as_ref()
            .map_or((DVec2::ZERO, f64::NAN), |r| r.best)
    }

    fn finished(&self) -> bool {
        false
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        vec![
            Param::num(&INITIAL_TEMP, &mut self.initial_temp),
            Param::num(&RESTART_TEMP_RATIO, &mut self.restart_temp_ratio),
            Param::num(&VISIT, &mut self.visit),
            Param::num(&ACCEPT, &mut self.accept),
            Param::flag(&NO_LOCAL_SEARCH, &mut self.no_local_search),
        ]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        let Some(r) = &self.run else {
            return vec![("temperature", StateValue::Scalar(self.initial_temp))];
        };
        vec![
            ("iterations", StateValue::Count(r.iterations)),
            ("temperature", StateValue::Scalar(r.temperature)),
            ("restarts", StateValue::Count(r.restarts)),
            (
                "uphill moves accepted",
                StateValue::Count(r.accepted_uphill),
            ),
            ("current value", StateValue::Scalar(r.current.1)),
            ("best value", StateValue::Scalar(r.best.1)),
        ]
    }

    fn points(&self) -> Vec<DVec2> {
        self.run
            .as_ref()
            .map(|r| r.visits.clone())
            .unwrap_or_default()
    }
}
