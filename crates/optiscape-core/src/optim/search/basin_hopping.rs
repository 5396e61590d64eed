//! Basin hopping as `scipy.optimize.basinhopping` does it with its defaults: a local BFGS
//! minimization from the start, then hops: a uniform displacement of at most `stepsize` per
//! coordinate, a local BFGS minimization from there, and Metropolis acceptance at temperature
//! `T` (a failed local minimization is accepted only while the current one failed too); every
//! `interval` hops the step size is divided by 0.9 when more than half were accepted, multiplied
//! by 0.9 otherwise. One iteration is one hop. SciPy's `niter` is the lab's budget here.

use super::{Bfgs, Oracle, Point, SearchMethod};
use crate::optim::params::{Param, ParamSpec};
use crate::optim::{Rng, StateValue};
use glam::DVec2;
use serde::{Deserialize, Serialize};

static T: ParamSpec = ParamSpec::non_negative(
    "T",
    "temperature of the Metropolis acceptance (0: only downhill hops are accepted)",
    10.0,
);
static STEPSIZE: ParamSpec = ParamSpec::positive_log(
    "stepsize",
    "initial largest displacement of a hop, per coordinate",
    1e-3,
    10.0,
);
static INTERVAL: ParamSpec = ParamSpec::count(
    "interval",
    "hops between adjustments of the step size",
    200.0,
);

const TARGET_ACCEPT_RATE: f64 = 0.5;
const FACTOR: f64 = 0.9;

/// A local minimization's result, as `basinhopping` keeps it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Minres {
    x: DVec2,
    fun: f64,
    success: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct BasinHopping {
    #[serde(rename = "T")]
    pub t: f64,
    pub stepsize: f64,
    pub interval: u32,
    #[serde(skip)]
    step_now: f64,
    #[serde(skip)]
    local: Bfgs,
    #[serde(skip)]
    current: Minres,
    #[serde(skip)]
    lowest: Minres,
    #[serde(skip)]
    nstep: u64,
    #[serde(skip)]
    naccept: u64,
    #[serde(skip)]
    hops: u64,
    #[serde(skip)]
    last_hop: Option<(DVec2, DVec2, bool)>,
}

impl Default for BasinHopping {
    fn default() -> Self {
        Self {
            t: 1.0,
            stepsize: 0.5,
            interval: 50,
            step_now: 0.5,
            local: Bfgs::local(),
            current: Minres::default(),
            lowest: Minres::default(),
            nstep: 0,
            naccept: 0,
            hops: 0,
            last_hop: None,
        }
    }
}

impl BasinHopping {
    pub fn reset(&mut self) {
        *self = Self {
            t: self.t,
            stepsize: self.stepsize,
            interval: self.interval,
            step_now: self.stepsize,
            ..Self::default()
        };
    }

    fn quench(&mut self, x: DVec2, f: &mut Oracle, rng: &mut Rng) -> Minres {
        let (x, fun, success) = self.local.minimize(x, f, rng);
        Minres { x, fun, success }
    }

    /// The last hop: where it jumped to, where the local search took it, and whether it was
    /// accepted.
    pub fn last_hop(&self) -> Option<(DVec2, DVec2, bool)> {
        self.last_hop
    }
}

impl SearchMethod for BasinHopping {
    fn begin(&mut self, start: DVec2, f: &mut Oracle, rng: &mut Rng) {
        self.step_now = self.stepsize;
        self.nstep = 0;
        self.naccept = 0;
        self.hops = 0;
        self.last_hop = None;
        let m = self.quench(start, f, rng);
        self.current = m;
        self.lowest = m;
    }

    fn iterate(&mut self, f: &mut Oracle, rng: &mut Rng) {
        // AdaptiveStepsize.take_step
        self.nstep += 1;
        if self.nstep.is_multiple_of(u64::from(self.interval)) {
            let rate = self.naccept as f64 / self.nstep as f64;
            if rate > TARGET_ACCEPT_RATE {
                self.step_now /= FACTOR;
            } else {
                self.step_now *= FACTOR;
            }
        }
        // RandomDisplacement: uniform(-s, s) per coordinate.
        let s = self.step_now;
        let dx = -s + (s - -s) * rng.uniform();
        let dy = -s + (s - -s) * rng.uniform();
        let jump = self.current.x + DVec2::new(dx, dy);
        let new = self.quench(jump, f, rng);
        // Metropolis (Python's `min(0, nan)` is 0).
        let beta = if self.t != 0.0 {
            1.0 / self.t
        } else {
            f64::INFINITY
        };
        let prod = -(new.fun - self.current.fun) * beta;
        let w = if prod < 0.0 { prod.exp() } else { 1.0 };
        let rand = rng.uniform();
        let accept = w >= rand && (new.success || !self.current.success);
        if accept {
            self.naccept += 1;
            self.current = new;
            if new.success && (new.fun < self.lowest.fun || !self.lowest.success) {
                self.lowest = new;
            }
        }
        self.hops += 1;
        self.last_hop = Some((jump, new.x, accept));
    }

    /// The accepted state.
    fn current(&self) -> Point {
        (self.current.x, self.current.fun)
    }

    /// The lowest successful local minimum (SciPy's `lowest_optimization_result`).
    fn best(&self) -> Point {
        (self.lowest.x, self.lowest.fun)
    }

    fn finished(&self) -> bool {
        false
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        vec![
            Param::num(&T, &mut self.t),
            Param::num(&STEPSIZE, &mut self.stepsize),
            Param::count(&INTERVAL, &mut self.interval),
        ]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        let mut v = vec![
            ("hops", StateValue::Count(self.hops)),
            ("accepted", StateValue::Count(self.naccept)),
            ("rejected", StateValue::Count(self.hops - self.naccept)),
            ("stepsize", StateValue::Scalar(self.step_now)),
            ("lowest value", StateValue::Scalar(self.lowest.fun)),
        ];
        if let Some((_, to, accepted)) = self.last_hop {
            v.push(("last hop to", StateValue::Vec(to)));
            v.push((
                "last hop",
                StateValue::Text(if accepted { "accepted" } else { "rejected" }),
            ));
        }
        v
    }

    fn points(&self) -> Vec<DVec2> {
        self.last_hop
            .map(|(jump, to, _)| vec![jump, to])
            .unwrap_or_default()
    }
}
