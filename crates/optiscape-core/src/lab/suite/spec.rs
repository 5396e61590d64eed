//! A suite as its user spells it (the command line's options, Python's keyword arguments), and
//! the one function that checks it and builds the [`SuiteSetup`]: both front ends refuse the
//! same things with the same messages.

use super::SuiteSetup;
use crate::landscape::Surface;
use crate::optim::Optimizer;
use crate::setup::{apply_method_settings, parse_count, parse_method, parse_surface};
use serde::{Deserialize, Serialize};

/// The methods a suite compares by default: the gradient rules worth comparing (momentum,
/// adaptive steps, signs) and every method that asks for evaluations.
pub const SUITE_METHODS: &str = "sgd,heavy-ball,nesterov,adagrad,rmsprop,adam,lion,adabelief,nelder-mead,bfgs,basin-hopping,annealing,cma-es,differential-evolution,random-search,multistart";

/// The options of a suite, as text (absent: the default, or `--quick`'s).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SuiteSpec {
    /// Method ids, comma-separated, or `all` (default [`SUITE_METHODS`]).
    pub methods: Option<String>,
    /// `METHOD.NAME=VALUE` settings of the defaults.
    pub sets: Vec<String>,
    /// `all` or surface ids, comma-separated (default `all`).
    pub surfaces: Option<String>,
    pub instances: Option<String>,
    pub tune_instances: Option<String>,
    pub starts: Option<String>,
    pub budget: Option<String>,
    /// `evals` (default) or `updates`.
    pub budget_unit: Option<String>,
    pub grad_cost: Option<String>,
    pub tune_budget: Option<String>,
    pub seed: Option<String>,
    pub quick: bool,
}

impl SuiteSpec {
    /// The setup, or one line saying what is wrong.
    pub fn setup(&self) -> Result<SuiteSetup, String> {
        let list = self.methods.as_deref().unwrap_or(SUITE_METHODS).trim();
        let mut methods: Vec<Optimizer> = Vec::new();
        if list == "all" {
            for m in crate::optim::catalog() {
                methods.push(parse_method(m.id)?);
            }
        } else {
            for id in list.split(',') {
                let o = parse_method(id.trim())?;
                if methods.iter().any(|p| p.id == o.id) {
                    return Err(format!("--methods lists '{}' twice", o.id));
                }
                methods.push(o);
            }
        }
        apply_method_settings(&mut methods, &self.sets, "suite")?;
        let surfaces = match self.surfaces.as_deref().unwrap_or("all").trim() {
            "all" => crate::landscape::catalog()
                .iter()
                .map(Surface::of)
                .collect(),
            list => {
                let mut out: Vec<Surface> = Vec::new();
                for id in list.split(',') {
                    let s = parse_surface(id.trim())?;
                    if s.as_formula().is_some() {
                        return Err(format!(
                            "--surfaces takes built-in surfaces (their instances are defined); '{}' is a formula",
                            id.trim()
                        ));
                    }
                    if out.iter().any(|o| o.spec() == s.spec()) {
                        return Err(format!("--surfaces lists '{}' twice", s.spec()));
                    }
                    out.push(s);
                }
                out
            }
        };
        let count = |what: &str, v: &Option<String>, full: u64, quick: u64, min: u64| match v {
            Some(t) => parse_count(what, t, min),
            None => Ok(if self.quick { quick } else { full }),
        };
        let instances = count("--instances", &self.instances, 5, 2, 1)?;
        let starts = count("--starts", &self.starts, 1000, 100, 1)?;
        let tune_budget = count("--tune-budget", &self.tune_budget, 8, 4, 1)?;
        let tune_instances = count("--tune-instances", &self.tune_instances, 2, 2, 1)?;
        let budget = count("--budget", &self.budget, 3000, 3000, 1)?;
        let grad_cost = count("--grad-cost", &self.grad_cost, 3, 3, 1)?;
        let seed = count("--seed", &self.seed, 0, 0, 0)?;
        let evals = match self.budget_unit.as_deref().unwrap_or("evals") {
            "evals" => true,
            "updates" => false,
            other => {
                return Err(format!("--budget-unit is evals or updates (got '{other}')"));
            }
        };
        if starts > 1_000_000 {
            return Err(format!("--starts must be at most 1000000 (got {starts})"));
        }
        if instances > 100 || tune_instances > 100 {
            return Err("--instances and --tune-instances must be at most 100".into());
        }
        if budget > crate::setup::MAX_STEPS {
            return Err(format!(
                "--budget must be at most {} (got {budget})",
                crate::setup::MAX_STEPS
            ));
        }
        if tune_budget > crate::setup::MAX_BUDGET {
            return Err(format!(
                "--tune-budget must be at most {} (got {tune_budget})",
                crate::setup::MAX_BUDGET
            ));
        }
        let setup = SuiteSetup {
            methods,
            surfaces,
            instances: instances as usize,
            tune_instances: tune_instances as usize,
            starts: starts as usize,
            tune_starts: (starts as usize / 4).max(1),
            budget,
            evals,
            grad_cost,
            tune_budget: tune_budget as usize,
            seed,
        };
        setup.check()?;
        Ok(setup)
    }
}
