//! A `train` study as its user spells it (the command line's options, Python's keyword
//! arguments), and the one function that checks it and builds the [`TrainSetup`]: both front
//! ends refuse the same things with the same messages.

use super::TrainSetup;
use crate::net::slice::check_size;
use crate::net::{Activation, DataSpec, Dataset, Init, Labels, LossKind, Mlp};
use crate::optim::Optimizer;
use crate::setup::{
    apply_method_settings, parse_count, parse_count_in, parse_method, parse_precision,
};
use serde::{Deserialize, Serialize};

/// The methods `train` compares by default (the common rules).
pub const TRAIN_METHODS: &str = "sgd,heavy-ball,nesterov,adam,rmsprop,lion";

/// The options of a `train` study, as text (absent: the default).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainSpec {
    /// A built-in dataset's name, or a CSV file (a name ending in `.csv`).
    pub data: Option<String>,
    pub points: Option<String>,
    pub test_points: Option<String>,
    pub noise: Option<String>,
    pub data_seed: Option<String>,
    /// For a CSV: every K-th point is held out for testing (0: none; default 5).
    pub test_every: Option<String>,
    pub layers: Option<String>,
    pub activation: Option<String>,
    pub loss: Option<String>,
    pub weight_decay: Option<String>,
    pub init: Option<String>,
    pub methods: Option<String>,
    pub sets: Vec<String>,
    pub starts: Option<String>,
    pub steps: Option<String>,
    pub seed: Option<String>,
    pub precision: Option<String>,
    pub target: Option<String>,
    pub tol: Option<String>,
    pub gtol: Option<String>,
    /// Settings tried per method when tuning (1: no tuning).
    pub tune_budget: Option<String>,
}

/// The most runs per method.
pub const MAX_TRAIN_STARTS: u64 = 100_000;
/// The most updates per run.
pub const MAX_TRAIN_STEPS: u64 = 1_000_000;

fn number(what: &str, text: &str, min: f64, max: f64) -> Result<f64, String> {
    let v: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{what} expects a number, got '{}'", text.trim()))?;
    if !v.is_finite() || v < min || v > max {
        return Err(format!(
            "{what} must be between {} and {} (got {})",
            crate::setup::fmt_num(min),
            crate::setup::fmt_num(max),
            text.trim()
        ));
    }
    Ok(v)
}

impl TrainSpec {
    /// The setup and the methods, or one line saying what is wrong.
    pub fn setup(&self) -> Result<(TrainSetup, Vec<Optimizer>), String> {
        let loss = LossKind::parse(self.loss.as_deref().unwrap_or("cross-entropy").trim())
            .map_err(|e| format!("--loss: {e}"))?;
        let name = self.data.as_deref().unwrap_or("moons").trim();
        let data = if name.ends_with(".csv") {
            for (flag, v) in [
                ("--points", &self.points),
                ("--test-points", &self.test_points),
                ("--noise", &self.noise),
                ("--data-seed", &self.data_seed),
            ] {
                if v.is_some() {
                    return Err(format!(
                        "{flag} is for the built-in datasets; {name} is a CSV file"
                    ));
                }
            }
            let text =
                std::fs::read_to_string(name).map_err(|e| format!("could not read {name}: {e}"))?;
            let every = match &self.test_every {
                Some(t) => parse_count("--test-every", t, 0)? as usize,
                None => 5,
            };
            Dataset::from_csv(&text, loss == LossKind::CrossEntropy, every)
                .map_err(|e| format!("{name}: {e}"))?
        } else {
            if self.test_every.is_some() {
                return Err(
                    "--test-every is for a CSV file; a built-in dataset has --test-points".into(),
                );
            }
            let mut spec =
                DataSpec::named(name).map_err(|e| format!("--data: {e} or a .csv file"))?;
            if let Some(t) = &self.points {
                spec.points =
                    parse_count_in("--points", t, 2, DataSpec::MAX_POINTS as u64)? as usize;
            }
            if let Some(t) = &self.test_points {
                spec.test_points =
                    parse_count_in("--test-points", t, 0, DataSpec::MAX_POINTS as u64)? as usize;
            }
            if let Some(t) = &self.noise {
                spec.noise = number("--noise", t, 0.0, 10.0)?;
            }
            if let Some(t) = &self.data_seed {
                spec.seed = parse_count("--data-seed", t, 0)?;
            }
            let mut d = spec.generate()?;
            if loss == LossKind::Mse {
                d.labels = Labels::Values;
            }
            d
        };
        let mut net = Mlp {
            loss,
            ..Mlp::default()
        };
        if let Some(t) = &self.layers {
            net.sizes = Mlp::parse_sizes(t.trim()).map_err(|e| format!("--layers: {e}"))?;
        } else if let Labels::Classes(k) = data.labels
            && k > 2
        {
            // The default network with one output per class.
            *net.sizes.last_mut().unwrap_or(&mut 1) = k;
        }
        if let Some(t) = &self.activation {
            net.activation =
                Activation::parse(t.trim()).map_err(|e| format!("--activation: {e}"))?;
        }
        if let Some(t) = &self.weight_decay {
            net.weight_decay = number("--weight-decay", t, 0.0, 1e3)?;
        }
        net.check_labels(data.labels)
            .map_err(|e| format!("--layers: {e}"))?;
        let init = match &self.init {
            Some(t) => Init::parse(t.trim()).map_err(|e| format!("--init: {e}"))?,
            None => Init::Glorot,
        };
        let starts = match &self.starts {
            Some(t) => parse_count_in("--starts", t, 1, MAX_TRAIN_STARTS)?,
            None => 100,
        } as usize;
        let steps = match &self.steps {
            Some(t) => parse_count_in("--steps", t, 1, MAX_TRAIN_STEPS)?,
            None => 1000,
        };
        let seed = match &self.seed {
            Some(t) => parse_count("--seed", t, 0)?,
            None => 0,
        };
        let precision = parse_precision(self.precision.as_deref().unwrap_or("f64"))?;
        let target = match &self.target {
            Some(t) => Some(number("--target", t, f64::MIN, f64::MAX)?),
            None => None,
        };
        let tol = match &self.tol {
            Some(t) => number("--tol", t, 0.0, 1e12)?,
            None => 0.01,
        };
        let gtol = match &self.gtol {
            Some(t) => number("--gtol", t, 0.0, 1e12)?,
            None => 1e-3,
        };
        let tune_budget = match &self.tune_budget {
            Some(t) => parse_count_in("--tune-budget", t, 1, 64)? as usize,
            None => 1,
        };
        // Per run held at once: the group's parameters, gradient and state, and every run's
        // first and last parameters.
        check_size(
            &net,
            data.train.len() + data.test.len(),
            2 * starts as u64 + 40,
        )?;
        let list = self.methods.as_deref().unwrap_or(TRAIN_METHODS).trim();
        let mut methods: Vec<Optimizer> = Vec::new();
        let ids: Vec<String> = if list == "all" {
            crate::optim::catalog()
                .iter()
                .map(|m| (m.build)())
                .filter(|o: &Optimizer| !o.is_search() && !o.id.starts_with("seed:"))
                .map(|o| o.id)
                .collect()
        } else {
            list.split(',').map(|s| s.trim().to_string()).collect()
        };
        for id in ids {
            let o = parse_method(&id)?;
            if methods.iter().any(|p| p.id == o.id) {
                return Err(format!("--methods lists '{}' twice", o.id));
            }
            TrainSetup::check_method(&o)?;
            methods.push(o);
        }
        apply_method_settings(&mut methods, &self.sets, "train")?;
        for o in &methods {
            TrainSetup::check_method(o)?;
        }
        Ok((
            TrainSetup {
                net,
                data,
                init,
                steps,
                starts,
                seed,
                precision,
                target,
                tol,
                gtol,
                keep_weights: false,
                path_runs: 0,
                path_every: 0,
                tune_budget,
            },
            methods,
        ))
    }
}
