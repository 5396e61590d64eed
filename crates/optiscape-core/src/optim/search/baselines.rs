//! The two baselines every comparison needs: random search (uniform samples over the domain,
//! the best kept) and multistart (BFGS, started again from a fresh uniform point of the domain
//! each time it stops).

use super::{Bfgs, Oracle, Point, SearchMethod, uniform_in};
use crate::optim::params::Param;
use crate::optim::{Rng, StateValue};
use glam::DVec2;
use serde::{Deserialize, Serialize};

fn better(best: Point, p: Point) -> Point {
    // A NaN value is never better; any number beats NaN.
    if p.1 < best.1 || (best.1.is_nan() && !p.1.is_nan()) {
        p
    } else {
        best
    }
}

/// Uniform samples over the domain (the start point is the first), the best kept.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RandomSearch {
    #[serde(skip)]
    last: Option<Point>,
    #[serde(skip)]
    best: Option<Point>,
    #[serde(skip)]
    samples: u64,
}

impl RandomSearch {
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

impl SearchMethod for RandomSearch {
    fn begin(&mut self, start: DVec2, f: &mut Oracle, _rng: &mut Rng) {
        let p = (start, f.value(start));
        self.last = Some(p);
        self.best = Some(p);
        self.samples = 1;
    }

    fn iterate(&mut self, f: &mut Oracle, rng: &mut Rng) {
        let x = uniform_in(f.domain(), rng);
        let p = (x, f.value(x));
        self.last = Some(p);
        self.best = Some(better(self.best.unwrap_or(p), p));
        self.samples += 1;
    }

    /// The best sample so far (what a random search answers at any moment).
    fn current(&self) -> Point {
        self.best()
    }

    fn best(&self) -> Point {
        self.best.unwrap_or((DVec2::ZERO, f64::NAN))
    }

    fn finished(&self) -> bool {
        false
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        Vec::new()
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        let last = self.last.unwrap_or((DVec2::ZERO, f64::NAN));
        vec![
            ("samples", StateValue::Count(self.samples)),
            ("last sample", StateValue::Vec(last.0)),
            ("last value", StateValue::Scalar(last.1)),
            ("best value", StateValue::Scalar(self.best().1)),
        ]
    }

    fn points(&self) -> Vec<DVec2> {
        self.last.map(|p| vec![p.0]).unwrap_or_default()
    }
}

/// BFGS from the start point, then from a fresh uniform point of the domain each time it stops
/// (converged, line search failed, or SciPy's 400 iterations); the best point of every run kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Multistart {
    pub gtol: f64,
    #[serde(skip)]
    local: Bfgs,
    #[serde(skip)]
    best: Option<Point>,
    #[serde(skip)]
    restarts: u64,
}

impl Default for Multistart {
    fn default() -> Self {
        Self {
            gtol: 1e-5,
            local: Bfgs::local(),
            best: None,
            restarts: 0,
        }
    }
}

impl Multistart {
    pub fn reset(&mut self) {
        *self = Self {
            gtol: self.gtol,
            ..Self::default()
        };
    }

    fn start_local(&mut self, x: DVec2, f: &mut Oracle, rng: &mut Rng) {
        self.local.reset();
        self.local.gtol = self.gtol;
        self.local.begin(x, f, rng);
        let p = self.local.current();
        self.best = Some(better(self.best.unwrap_or(p), p));
    }
}

impl SearchMethod for Multistart {
    fn begin(&mut self, start: DVec2, f: &mut Oracle, rng: &mut Rng) {
        self.best = None;
        self.restarts = 0;
        self.start_local(start, f, rng);
    }

    fn iterate(&mut self, f: &mut Oracle, rng: &mut Rng) {
        if self.local.finished() {
            let x = uniform_in(f.domain(), rng);
            self.restarts += 1;
            self.start_local(x, f, rng);
            // A start that is already stationary is a whole local run.
            if self.local.finished() {
                return;
            }
        }
        self.local.iterate(f, rng);
        let p = self.local.current();
        self.best = Some(better(self.best.unwrap_or(p), p));
    }

    /// The local run's iterate.
    fn current(&self) -> Point {
        self.local.current()
    }

    fn best(&self) -> Point {
        self.best.unwrap_or((DVec2::ZERO, f64::NAN))
    }

    fn finished(&self) -> bool {
        false
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        vec![Param::num(&super::bfgs::GTOL, &mut self.gtol)]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        vec![
            ("restarts", StateValue::Count(self.restarts)),
            ("best value", StateValue::Scalar(self.best().1)),
            ("local iterate", StateValue::Vec(self.local.current().0)),
        ]
    }

    fn points(&self) -> Vec<DVec2> {
        self.local.points()
    }
}
