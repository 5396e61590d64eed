//! Nelder–Mead as `scipy.optimize.minimize(method="Nelder-Mead")` does it with its defaults:
//! SciPy's initial simplex (5% along each axis, 0.00025 for a zero coordinate), reflection,
//! expansion, contraction and shrink 1, 2, 0.5, 0.5 (`adaptive=False`), and its stopping test
//! (every vertex within `xatol` of the best on each axis and every value within `fatol`).
//! SciPy's `maxiter`/`maxfev` are the lab's budget here.

use super::{Oracle, Point, SearchMethod, order};
use crate::optim::params::{Param, ParamSpec};
use crate::optim::{Rng, StateValue};
use glam::DVec2;
use serde::{Deserialize, Serialize};

static XATOL: ParamSpec = ParamSpec::positive_log(
    "xatol",
    "stop when every vertex is this close to the best one on each axis (and fatol holds)",
    1e-12,
    1.0,
);
static FATOL: ParamSpec = ParamSpec::positive_log(
    "fatol",
    "stop when every vertex's value is this close to the best one's (and xatol holds)",
    1e-12,
    1.0,
);

const RHO: f64 = 1.0;
const CHI: f64 = 2.0;
const PSI: f64 = 0.5;
const SIGMA: f64 = 0.5;
const NONZDELT: f64 = 0.05;
const ZDELT: f64 = 0.00025;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NelderMead {
    pub xatol: f64,
    pub fatol: f64,
    #[serde(skip)]
    sim: [DVec2; 3],
    #[serde(skip)]
    fsim: [f64; 3],
    #[serde(skip)]
    done: bool,
    #[serde(skip)]
    iterations: u64,
    /// What the last iteration did (for the inspector).
    #[serde(skip)]
    last: &'static str,
}

impl Default for NelderMead {
    fn default() -> Self {
        Self {
            xatol: 1e-4,
            fatol: 1e-4,
            sim: [DVec2::ZERO; 3],
            fsim: [f64::INFINITY; 3],
            done: false,
            iterations: 0,
            last: "",
        }
    }
}

impl NelderMead {
    pub fn reset(&mut self) {
        *self = Self {
            xatol: self.xatol,
            fatol: self.fatol,
            ..Self::default()
        };
    }

    /// The simplex, best vertex first, and its values.
    pub fn simplex(&self) -> ([DVec2; 3], [f64; 3]) {
        (self.sim, self.fsim)
    }

    fn sort(&mut self) {
        let mut idx = [0usize, 1, 2];
        idx.sort_by(|&a, &b| order(self.fsim[a], self.fsim[b]));
        self.sim = idx.map(|i| self.sim[i]);
        self.fsim = idx.map(|i| self.fsim[i]);
    }

    fn converged(&self) -> bool {
        let s0 = self.sim[0];
        let dx = self.sim[1..]
            .iter()
            .flat_map(|s| [(s.x - s0.x).abs(), (s.y - s0.y).abs()])
            .fold(f64::NEG_INFINITY, f64::max);
        let df = self.fsim[1..]
            .iter()
            .map(|f| (self.fsim[0] - f).abs())
            .fold(f64::NEG_INFINITY, f64::max);
        // NumPy's max propagates NaN (and a NaN comparison is false): a NaN never stops it.
        dx <= self.xatol && df <= self.fatol
    }
}

impl SearchMethod for NelderMead {
    fn begin(&mut self, start: DVec2, f: &mut Oracle, _rng: &mut Rng) {
        let mut sim = [start; 3];
        for k in 0..2 {
            let mut y = start;
            if y[k] != 0.0 {
                y[k] *= 1.0 + NONZDELT;
            } else {
                y[k] = ZDELT;
            }
            sim[k + 1] = y;
        }
        self.sim = sim;
        for k in 0..3 {
            self.fsim[k] = f.value(self.sim[k]);
        }
        self.sort();
        self.iterations = 0;
        // SciPy tests at the top of each iteration; testing here, after the simplex changed,
        // decides the same and ends the run on the iteration that met the test.
        self.done = self.converged();
    }

    fn iterate(&mut self, f: &mut Oracle, _rng: &mut Rng) {
        if self.done {
            return;
        }
        let n = 2.0;
        let xbar = (self.sim[0] + self.sim[1]) / n;
        let xr = (1.0 + RHO) * xbar - RHO * self.sim[2];
        let fxr = f.value(xr);
        if fxr < self.fsim[0] {
            let xe = (1.0 + RHO * CHI) * xbar - RHO * CHI * self.sim[2];
            let fxe = f.value(xe);
            if fxe < fxr {
                (self.sim[2], self.fsim[2]) = (xe, fxe);
                self.last = "expand";
            } else {
                (self.sim[2], self.fsim[2]) = (xr, fxr);
                self.last = "reflect";
            }
        } else if fxr < self.fsim[1] {
            (self.sim[2], self.fsim[2]) = (xr, fxr);
            self.last = "reflect";
        } else {
            let mut shrink = false;
            if fxr < self.fsim[2] {
                let xc = (1.0 + PSI * RHO) * xbar - PSI * RHO * self.sim[2];
                let fxc = f.value(xc);
                if fxc <= fxr {
                    (self.sim[2], self.fsim[2]) = (xc, fxc);
                    self.last = "contract outside";
                } else {
                    shrink = true;
                }
            } else {
                let xcc = (1.0 - PSI) * xbar + PSI * self.sim[2];
                let fxcc = f.value(xcc);
                if fxcc < self.fsim[2] {
                    (self.sim[2], self.fsim[2]) = (xcc, fxcc);
                    self.last = "contract inside";
                } else {
                    shrink = true;
                }
            }
            if shrink {
                for j in 1..3 {
                    self.sim[j] = self.sim[0] + SIGMA * (self.sim[j] - self.sim[0]);
                    self.fsim[j] = f.value(self.sim[j]);
                }
                self.last = "shrink";
            }
        }
        self.iterations += 1;
        self.sort();
        self.done = self.converged();
    }

    fn current(&self) -> Point {
        (self.sim[0], self.fsim[0])
    }

    fn best(&self) -> Point {
        (self.sim[0], self.fsim[0])
    }

    fn finished(&self) -> bool {
        self.done
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        vec![
            Param::num(&XATOL, &mut self.xatol),
            Param::num(&FATOL, &mut self.fatol),
        ]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        vec![
            ("iterations", StateValue::Count(self.iterations)),
            ("vertex 1", StateValue::Vec(self.sim[0])),
            ("vertex 2", StateValue::Vec(self.sim[1])),
            ("vertex 3", StateValue::Vec(self.sim[2])),
            (
                "value spread",
                StateValue::Scalar(self.fsim[2] - self.fsim[0]),
            ),
            ("last move", StateValue::Text(self.last)),
        ]
    }

    fn points(&self) -> Vec<DVec2> {
        self.sim.to_vec()
    }
}
