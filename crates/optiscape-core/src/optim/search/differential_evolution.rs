//! Differential evolution as `scipy.optimize.differential_evolution` does it with its defaults:
//! strategy `best1bin`, `popsize` 15 (15 × 2 = 30 members in 2D), the mutation factor drawn
//! uniformly from `mutation` = (0.5, 1) once per generation (dithering), recombination 0.7,
//! Latin-hypercube initialization over the domain (the run's start replaces member 0, SciPy's
//! `x0`), `updating="immediate"`, out-of-bounds trial coordinates redrawn uniformly, and its
//! stopping test (the standard deviation of the energies at most `atol + tol·|mean|`, tol 0.01).
//! One iteration is one generation. `polish` runs this crate's BFGS from the best member at the
//! end (SciPy uses L-BFGS-B within the bounds; here a polished point outside the domain is not
//! taken). SciPy's `maxiter`/`maxfun` are the lab's budget.

use super::{Bfgs, Oracle, Point, SearchMethod, clip};
use crate::landscape::Domain;
use crate::optim::params::{Param, ParamSpec};
use crate::optim::{Rng, StateValue};
use glam::DVec2;
use serde::{Deserialize, Serialize};

static POPSIZE: ParamSpec = ParamSpec::count_in(
    "popsize",
    "population size per dimension (members: popsize × 2)",
    4.0,
    50_000.0,
    50.0,
);
static MUTATION: ParamSpec = ParamSpec::pair_in(
    "mutation",
    "the mutation factor is drawn uniformly from this range each generation (a,a: fixed)",
    0.0,
    2.0,
);
static RECOMBINATION: ParamSpec = ParamSpec::unit(
    "recombination",
    "probability that a coordinate of the trial comes from the mutant",
);
static TOL: ParamSpec = ParamSpec::non_negative(
    "tol",
    "relative tolerance of the stopping test (std of energies <= atol + tol·|mean|)",
    1.0,
);
static ATOL: ParamSpec =
    ParamSpec::non_negative("atol", "absolute tolerance of the stopping test", 1.0);
static POLISH: ParamSpec = ParamSpec::flag(
    "polish",
    "at the end, polish the best member with BFGS (SciPy: L-BFGS-B)",
);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DifferentialEvolution {
    pub popsize: u32,
    pub mutation: [f64; 2],
    pub recombination: f64,
    pub tol: f64,
    pub atol: f64,
    pub polish: bool,
    /// Members, in the unit square (SciPy's internal scale), best first.
    #[serde(skip)]
    pop: Vec<DVec2>,
    #[serde(skip)]
    energies: Vec<f64>,
    #[serde(skip)]
    index: Vec<usize>,
    #[serde(skip)]
    domain: Option<Domain>,
    #[serde(skip)]
    scale: f64,
    #[serde(skip)]
    generations: u64,
    #[serde(skip)]
    converged: bool,
    #[serde(skip)]
    polished: Option<Point>,
    #[serde(skip)]
    done: bool,
}

impl Default for DifferentialEvolution {
    fn default() -> Self {
        Self {
            popsize: 15,
            mutation: [0.5, 1.0],
            recombination: 0.7,
            tol: 0.01,
            atol: 0.0,
            polish: true,
            pop: Vec::new(),
            energies: Vec::new(),
            index: Vec::new(),
            domain: None,
            scale: 0.0,
            generations: 0,
            converged: false,
            polished: None,
            done: false,
        }
    }
}

impl DifferentialEvolution {
    pub fn reset(&mut self) {
        *self = Self {
            popsize: self.popsize,
            mutation: self.mutation,
            recombination: self.recombination,
            tol: self.tol,
            atol: self.atol,
            polish: self.polish,
            ..Self::default()
        };
    }

    /// Members of the population: SciPy's `max(5, popsize × N)`.
    pub fn members(&self) -> usize {
        (self.popsize as usize * 2).max(5)
    }

    fn scaled(&self, u: DVec2) -> DVec2 {
        let d = self.domain.unwrap_or(Domain::square(0.0, 1.0));
        // __scale_arg1 + (trial - 0.5) * __scale_arg2
        let a1 = DVec2::new(0.5 * (d.x0 + d.x1), 0.5 * (d.y0 + d.y1));
        let a2 = DVec2::new((d.x0 - d.x1).abs(), (d.y0 - d.y1).abs());
        a1 + (u - 0.5) * a2
    }

    fn unscaled(&self, p: DVec2) -> DVec2 {
        let d = self.domain.unwrap_or(Domain::square(0.0, 1.0));
        let a1 = DVec2::new(0.5 * (d.x0 + d.x1), 0.5 * (d.y0 + d.y1));
        let a2 = DVec2::new((d.x0 - d.x1).abs(), (d.y0 - d.y1).abs());
        (p - a1) * (1.0 / a2) + 0.5
    }

    /// Moves the lowest energy to index 0 (a swap, as `_promote_lowest_energy`).
    fn promote_lowest(&mut self) {
        let mut l = 0;
        for (i, &e) in self.energies.iter().enumerate() {
            // np.argmin: the first minimum; NaN is the minimum if present.
            let cur = self.energies[l];
            if (e < cur && !cur.is_nan()) || (e.is_nan() && !cur.is_nan()) {
                l = i;
            }
        }
        self.energies.swap(0, l);
        self.pop.swap(0, l);
    }

    /// Two distinct members other than `candidate`, uniformly (SciPy shuffles an index array
    /// and takes the first ones that are not the candidate).
    fn two_others(&mut self, candidate: usize, rng: &mut Rng) -> (usize, usize) {
        let n = self.index.len();
        // Fisher–Yates from the front, as far as needed.
        for i in 0..3 {
            let j = i + (rng.uniform() * (n - i) as f64) as usize;
            self.index.swap(i, j.min(n - 1));
        }
        let mut picks = self.index[..3].iter().copied().filter(|&k| k != candidate);
        let r0 = picks.next().unwrap_or(0);
        let r1 = picks.next().unwrap_or(1);
        (r0, r1)
    }

    fn stop_test(&self) -> bool {
        if self.energies.iter().any(|e| e.is_infinite()) {
            return false;
        }
        let n = self.energies.len() as f64;
        let mean = self.energies.iter().sum::<f64>() / n;
        let var = self
            .energies
            .iter()
            .map(|e| (e - mean).powi(2))
            .sum::<f64>()
            / n;
        var.sqrt() <= self.atol + self.tol * mean.abs()
    }
}

impl SearchMethod for DifferentialEvolution {
    fn begin(&mut self, start: DVec2, f: &mut Oracle, rng: &mut Rng) {
        let d = f.domain();
        self.domain = Some(d);
        let m = self.members();
        // Latin hypercube: one sample per segment on each axis, segments paired at random.
        let seg = 1.0 / m as f64;
        let samples: Vec<DVec2> = (0..m)
            .map(|i| {
                let u = DVec2::new(rng.uniform(), rng.uniform());
                seg * u + DVec2::splat(i as f64 / m as f64)
            })
            .collect();
        let mut pop = vec![DVec2::ZERO; m];
        for axis in 0..2 {
            let mut perm: Vec<usize> = (0..m).collect();
            for i in (1..m).rev() {
                let j = ((rng.uniform() * (i + 1) as f64) as usize).min(i);
                perm.swap(i, j);
            }
            for (row, &k) in perm.iter().enumerate() {
                pop[row][axis] = samples[k][axis];
            }
        }
        self.pop = pop;
        self.pop[0] = self.unscaled(clip(start, d));
        self.energies = self.pop.iter().map(|&u| f.value(self.scaled(u))).collect();
        self.index = (0..m).collect();
        self.generations = 0;
        self.converged = false;
        self.polished = None;
        self.done = false;
        self.promote_lowest();
    }

    fn iterate(&mut self, f: &mut Oracle, rng: &mut Rng) {
        if self.done {
            return;
        }
        if self.converged {
            // The end of `solve`: the polish, once.
            if self.polish {
                let (best, e0) = (self.scaled(self.pop[0]), self.energies[0]);
                let (x, fun, _) = Bfgs::local().minimize(best, f, rng);
                if fun < e0 && f.domain().contains(x) {
                    self.polished = Some((x, fun));
                }
            }
            self.done = true;
            return;
        }
        let [lo, hi] = self.mutation;
        self.scale = lo + (hi - lo) * rng.uniform();
        for candidate in 0..self.pop.len() {
            // _mutate: fill point, samples, mutant, binomial crossover.
            let fill_point = ((rng.uniform() * 2.0) as usize).min(1);
            let (r0, r1) = self.two_others(candidate, rng);
            let bprime = self.pop[0] + self.scale * (self.pop[r0] - self.pop[r1]);
            let mut trial = self.pop[candidate];
            for k in 0..2 {
                let cross = rng.uniform() < self.recombination || k == fill_point;
                if cross {
                    trial[k] = bprime[k];
                }
            }
            // _ensure_constraint: coordinates outside [0, 1] redrawn uniformly.
            for k in 0..2 {
                if trial[k] > 1.0 || trial[k] < 0.0 {
                    trial[k] = rng.uniform();
                }
            }
            let energy = f.value(self.scaled(trial));
            if energy <= self.energies[candidate] {
                self.pop[candidate] = trial;
                self.energies[candidate] = energy;
                if energy <= self.energies[0] {
                    self.promote_lowest();
                }
            }
        }
        self.generations += 1;
        if self.stop_test() {
            self.converged = true;
        }
    }

    /// The best member (or the polished point, once polished).
    fn current(&self) -> Point {
        self.best()
    }

    fn best(&self) -> Point {
        if let Some(p) = self.polished {
            return p;
        }
        match (self.pop.first(), self.energies.first()) {
            (Some(&u), Some(&e)) => (self.scaled(u), e),
            _ => (DVec2::ZERO, f64::NAN),
        }
    }

    fn finished(&self) -> bool {
        self.done
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        vec![
            Param::count(&POPSIZE, &mut self.popsize),
            Param::pair(&MUTATION, &mut self.mutation),
            Param::num(&RECOMBINATION, &mut self.recombination),
            Param::num(&TOL, &mut self.tol),
            Param::num(&ATOL, &mut self.atol),
            Param::flag(&POLISH, &mut self.polish),
        ]
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        let n = self.energies.len().max(1) as f64;
        let mean = self.energies.iter().sum::<f64>() / n;
        let std = (self
            .energies
            .iter()
            .map(|e| (e - mean).powi(2))
            .sum::<f64>()
            / n)
            .sqrt();
        vec![
            ("generations", StateValue::Count(self.generations)),
            ("members", StateValue::Count(self.pop.len() as u64)),
            ("mutation factor", StateValue::Scalar(self.scale)),
            ("energy std", StateValue::Scalar(std)),
            (
                "stopped",
                StateValue::Text(match (self.done, self.polished.is_some()) {
                    (false, _) if self.converged => "converged, polish next",
                    (false, _) => "no",
                    (true, true) => "converged, polished",
                    (true, false) => "converged",
                }),
            ),
        ]
    }

    fn points(&self) -> Vec<DVec2> {
        self.pop.iter().map(|&u| self.scaled(u)).collect()
    }
}
