//! BFGS as `scipy.optimize.minimize(method="BFGS")` does it: the inverse Hessian update from
//! the identity, SciPy's first step guess, the Wolfe line search `line_search_wolfe1` (MINPACK's
//! `dcsrch`) falling back to `line_search_wolfe2`, and its stopping tests (`gtol` on the largest
//! gradient component, a failed line search, a non-finite value). Values and gradients are
//! cached at the last point asked for, as SciPy's `ScalarFunction` does, so the evaluation
//! counts equal SciPy's `nfev` and `njev`.

use super::line_search::{self, Line};
use super::{Oracle, Point, SearchMethod};
use crate::optim::params::{Param, ParamSpec};
use crate::optim::{Rng, StateValue};
use glam::{DMat2, DVec2};
use serde::{Deserialize, Serialize};

pub(super) static GTOL: ParamSpec = ParamSpec::positive_log(
    "gtol",
    "stop when the largest gradient component is at most this",
    1e-12,
    1.0,
);

/// SciPy's `ScalarFunction` memo: the value and gradient at the last point asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Memo {
    x: DVec2,
    f: Option<f64>,
    g: Option<DVec2>,
}

impl Memo {
    fn at(&mut self, x: DVec2) {
        // `np.array_equal`: NaN never equals, so a NaN point is evaluated anew.
        if x != self.x || x.is_nan() {
            *self = Memo {
                x,
                f: None,
                g: None,
            };
        }
    }

    fn fun(&mut self, f: &mut Oracle, x: DVec2) -> f64 {
        self.at(x);
        *self.f.get_or_insert_with(|| f.value(x))
    }

    fn grad(&mut self, f: &mut Oracle, x: DVec2) -> DVec2 {
        self.at(x);
        *self.g.get_or_insert_with(|| f.gradient(x))
    }
}

/// The line `x + a p` through the memo, keeping the last gradient taken (SciPy's `gval`).
struct Along<'a, 'b> {
    memo: &'a mut Memo,
    oracle: &'a mut Oracle<'b>,
    x: DVec2,
    p: DVec2,
    gval: DVec2,
    trials: &'a mut Vec<DVec2>,
}

impl Line for Along<'_, '_> {
    fn phi(&mut self, a: f64) -> f64 {
        let x = self.x + a * self.p;
        self.trials.push(x);
        self.memo.fun(self.oracle, x)
    }

    fn derphi(&mut self, a: f64) -> f64 {
        let x = self.x + a * self.p;
        self.gval = self.memo.grad(self.oracle, x);
        self.gval.dot(self.p)
    }
}

/// How a BFGS run stopped (SciPy's `warnflag`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BfgsEnd {
    #[default]
    Running,
    /// The gradient fell below `gtol` (SciPy's success).
    Converged,
    /// The line search found no acceptable step ("precision loss").
    LineSearchFailed,
    /// The value stopped being finite.
    NotFinite,
    /// It took `maxiter` iterations (only when it runs inside another method).
    MaxIter,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bfgs {
    pub gtol: f64,
    /// Iterations before it stops (SciPy's `maxiter`, 200 per dimension): used when BFGS is the
    /// local search of another method; alone, the lab's budget decides.
    #[serde(skip)]
    pub(super) maxiter: Option<u64>,
    #[serde(skip)]
    memo: Memo,
    #[serde(skip)]
    xk: DVec2,
    #[serde(skip)]
    fk: f64,
    #[serde(skip)]
    old_old_fval: f64,
    #[serde(skip)]
    gfk: DVec2,
    #[serde(skip)]
    hk: DMat2,
    #[serde(skip)]
    k: u64,
    #[serde(skip)]
    end: BfgsEnd,
    /// The points the last line search tried.
    #[serde(skip)]
    trials: Vec<DVec2>,
}

impl Default for Bfgs {
    fn default() -> Self {
        Self {
            gtol: 1e-5,
            maxiter: None,
            memo: Memo::default(),
            xk: DVec2::ZERO,
            fk: f64::NAN,
            old_old_fval: f64::NAN,
            gfk: DVec2::ZERO,
            hk: DMat2::IDENTITY,
            k: 0,
            end: BfgsEnd::Running,
            trials: Vec::new(),
        }
    }
}

const C1: f64 = 1e-4;
const C2: f64 = 0.9;

fn inf_norm(v: DVec2) -> f64 {
    // NumPy's max of |v| propagates NaN.
    if v.is_nan() {
        f64::NAN
    } else {
        v.x.abs().max(v.y.abs())
    }
}

impl Bfgs {
    /// A local search inside another method: stops after SciPy's `maxiter` (400 in 2D).
    pub fn local() -> Self {
        Self {
            maxiter: Some(400),
            ..Self::default()
        }
    }

    pub fn reset(&mut self) {
        *self = Self {
            gtol: self.gtol,
            maxiter: self.maxiter,
            ..Self::default()
        };
    }

    /// How the run stopped, `Running` while it goes on.
    pub fn end(&self) -> BfgsEnd {
        self.end
    }

    /// SciPy's `success`: stopped with a gradient below `gtol`.
    pub fn success(&self) -> bool {
        self.end == BfgsEnd::Converged
    }

    /// Runs to the end from `start` (a local search): returns SciPy's `(x, fun, success)`.
    pub fn minimize(&mut self, start: DVec2, f: &mut Oracle, rng: &mut Rng) -> (DVec2, f64, bool) {
        self.reset();
        self.begin(start, f, rng);
        while !self.finished() {
            self.iterate(f, rng);
        }
        (self.xk, self.fk, self.success())
    }
}

impl SearchMethod for Bfgs {
    fn begin(&mut self, start: DVec2, f: &mut Oracle, _rng: &mut Rng) {
        self.memo = Memo::default();
        // `ScalarFunction` evaluates the value and then the gradient at x0.
        self.memo.x = start;
        self.memo.f = Some(f.value(start));
        self.memo.g = Some(f.gradient(start));
        self.xk = start;
        self.fk = self.memo.fun(f, start);
        self.gfk = self.memo.grad(f, start);
        self.old_old_fval = self.fk + self.gfk.length() / 2.0;
        self.hk = DMat2::IDENTITY;
        self.k = 0;
        self.trials.clear();
        let gnorm = inf_norm(self.gfk);
        self.end = if gnorm > self.gtol {
            BfgsEnd::Running
        } else {
            // A NaN gradient norm ends it too (`while gnorm > gtol` is false).
            BfgsEnd::Converged
        };
    }

    fn iterate(&mut self, f: &mut Oracle, _rng: &mut Rng) {
        if self.end != BfgsEnd::Running {
            return;
        }
        if let Some(m) = self.maxiter
            && self.k >= m
        {
            self.end = BfgsEnd::MaxIter;
            return;
        }
        let h = self.hk;
        // np.dot(Hk, gfk), row by row, rounded as OpenBLAS's dgemv rounds it on x86-64 with FMA
        // (NumPy's `dot` of a 2x2 matrix and a vector: `fma(h0, g0, h1 g1)`, checked bit for
        // bit against NumPy): the iterates then equal SciPy's to the last bits, not only to
        // 1e-9 for a while.
        let pk = -DVec2::new(
            h.x_axis.x.mul_add(self.gfk.x, h.y_axis.x * self.gfk.y),
            h.x_axis.y.mul_add(self.gfk.x, h.y_axis.y * self.gfk.y),
        );
        self.trials.clear();
        let derphi0 = self.gfk.dot(pk);
        let (xk, fk, old_old) = (self.xk, self.fk, self.old_old_fval);
        let mut line = Along {
            memo: &mut self.memo,
            oracle: f,
            x: xk,
            p: pk,
            gval: self.gfk,
            trials: &mut self.trials,
        };
        let mut found = line_search::wolfe1(
            &mut line, fk, old_old, derphi0, C1, C2, 1e100, 1e-100, 1e-14,
        );
        if found.stp.is_none() {
            line.gval = self.gfk;
            found = line_search::wolfe2(&mut line, fk, old_old, derphi0, C1, C2, 1e100);
        }
        let Some(alpha) = found.stp else {
            self.end = BfgsEnd::LineSearchFailed;
            return;
        };
        let gval = line.gval;
        let has_gradient = found.has_gradient;
        self.fk = found.phi;
        self.old_old_fval = found.phi0;
        let sk = alpha * pk;
        let xkp1 = xk + sk;
        self.xk = xkp1;
        let gfkp1 = if has_gradient {
            gval
        } else {
            self.memo.grad(f, xkp1)
        };
        let yk = gfkp1 - self.gfk;
        self.gfk = gfkp1;
        self.k += 1;
        let gnorm = inf_norm(self.gfk);
        if gnorm <= self.gtol {
            self.end = BfgsEnd::Converged;
            return;
        }
        if alpha * pk.length() <= 0.0 {
            self.end = BfgsEnd::Converged;
            return;
        }
        if !self.fk.is_finite() {
            self.end = BfgsEnd::NotFinite;
            return;
        }
        let rhok_inv = yk.dot(sk);
        let rhok = if rhok_inv == 0.0 {
            1000.0
        } else {
            1.0 / rhok_inv
        };
        // A1 = I - s y^T rho, A2 = I - y s^T rho, H = A1 (H A2) + rho s s^T, as SciPy writes it.
        let outer = |a: DVec2, b: DVec2, r: f64| -> [[f64; 2]; 2] {
            [
                [a.x * b.x * r, a.x * b.y * r],
                [a.y * b.x * r, a.y * b.y * r],
            ]
        };
        let sy = outer(sk, yk, rhok);
        let ys = outer(yk, sk, rhok);
        let a1 = [
            [1.0 - sy[0][0], 0.0 - sy[0][1]],
            [0.0 - sy[1][0], 1.0 - sy[1][1]],
        ];
        let a2 = [
            [1.0 - ys[0][0], 0.0 - ys[0][1]],
            [0.0 - ys[1][0], 1.0 - ys[1][1]],
        ];
        let hm = [[h.x_axis.x, h.y_axis.x], [h.x_axis.y, h.y_axis.y]];
        let mul = |a: [[f64; 2]; 2], b: [[f64; 2]; 2]| -> [[f64; 2]; 2] {
            let mut c = [[0.0; 2]; 2];
            for i in 0..2 {
                for j in 0..2 {
                    // OpenBLAS's dgemm on x86-64 with FMA: `fma(a1, b1, a0 b0)`.
                    c[i][j] = a[i][1].mul_add(b[1][j], a[i][0] * b[0][j]);
                }
            }
            c
        };
        let m = mul(a1, mul(hm, a2));
        let ss = [
            [rhok * sk.x * sk.x, rhok * sk.x * sk.y],
            [rhok * sk.y * sk.x, rhok * sk.y * sk.y],
        ];
        self.hk = DMat2::from_cols(
            DVec2::new(m[0][0] + ss[0][0], m[1][0] + ss[1][0]),
            DVec2::new(m[0][1] + ss[0][1], m[1][1] + ss[1][1]),
        );
    }

    fn current(&self) -> Point {
        (self.xk, self.fk)
    }

    fn best(&self) -> Point {
        (self.xk, self.fk)
    }

    fn finished(&self) -> bool {
        self.end != BfgsEnd::Running
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        vec![Param::num(&GTOL, &mut self.gtol)]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        vec![
            ("iterations", StateValue::Count(self.k)),
            ("gradient", StateValue::Vec(self.gfk)),
            (
                "H row 1",
                StateValue::Vec(DVec2::new(self.hk.x_axis.x, self.hk.y_axis.x)),
            ),
            (
                "H row 2",
                StateValue::Vec(DVec2::new(self.hk.x_axis.y, self.hk.y_axis.y)),
            ),
            (
                "line search trials",
                StateValue::Count(self.trials.len() as u64),
            ),
            (
                "stopped",
                StateValue::Text(match self.end {
                    BfgsEnd::Running => "no",
                    BfgsEnd::Converged => "gradient below gtol",
                    BfgsEnd::LineSearchFailed => "line search failed",
                    BfgsEnd::NotFinite => "value not finite",
                    BfgsEnd::MaxIter => "maxiter",
                }),
            ),
        ]
    }

    fn points(&self) -> Vec<DVec2> {
        self.trials.clone()
    }
}
