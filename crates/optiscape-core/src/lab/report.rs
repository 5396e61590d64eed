//! The lab's results as JSON documents: what `race --format json`, `basins --format json`,
//! `tune --format json` and `list` print, and what the Python package returns as dicts. One
//! function per document, so the command line and Python cannot drift apart.

use super::basins::BasinMap;
use super::batch::{Precision, Target};
use super::lockstep::engine_for;
use super::race::RaceRow;
use super::tune::{TuneRow, TuneSetup};
use crate::landscape::{Surface, catalog as surfaces};
use crate::optim::{Optimizer, Param, ParamKind, ParamMut, catalog as methods};
use serde_json::{Map, Value, json};

/// A hyperparameter's value as JSON: a number, a pair `[a, b]`, a flag or a count.
pub fn param_value(p: &Param<'_>) -> Value {
    match &p.value {
        ParamMut::Num(v) => json!(**v),
        ParamMut::Pair(v) => json!([v[0], v[1]]),
        ParamMut::Flag(v) => json!(**v),
        ParamMut::Count(v) => json!(**v),
        ParamMut::Choice(_) => json!(p.text()),
    }
}

/// A method's hyperparameters by name, with their current values.
pub fn param_values(opt: &Optimizer) -> Map<String, Value> {
    let mut opt = opt.clone();
    opt.params()
        .iter()
        .map(|p| (p.spec.name.to_string(), param_value(p)))
        .collect()
}

/// The engine that ran the batches and the precision of their arithmetic, as every lab
/// document states them: `engine` (`avx512`, `avx2`, `baseline` or `general`), `lanes`, and
/// `precision` (the one actually used: f32 asked for may run in f64, see [`engine_for`]).
pub fn engine_keys(surface: &Surface, precision: Precision, steps: u64) -> Map<String, Value> {
    let e = engine_for(surface, precision, steps);
    let mut m = Map::new();
    m.insert("engine".into(), json!(e.engine));
    m.insert("lanes".into(), json!(e.lanes));
    m.insert("precision".into(), json!(e.precision.name()));
    m
}

fn with_engine(mut doc: Value, surface: &Surface, precision: Precision, steps: u64) -> Value {
    if let Value::Object(m) = &mut doc {
        m.extend(engine_keys(surface, precision, steps));
    }
    doc
}

/// `race --format json`: the setup, then one object per method ([`RaceRow`]'s fields).
#[allow(clippy::too_many_arguments)]
pub fn race(
    surface: &Surface,
    starts: usize,
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
    rows: &[RaceRow],
) -> Value {
    let doc = json!({
        "surface": surface.spec(),
        "starts": starts,
        "steps": steps,
        "seed": seed,
        "target": target,
        "methods": rows,
    });
    with_engine(doc, surface, precision, steps)
}

/// `basins --format json`: the setup, the fractions and the minima found.
pub fn basins(
    surface: &Surface,
    method: &str,
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
    map: &BasinMap,
) -> Value {
    let doc = json!({
        "surface": surface.spec(),
        "method": method,
        "resolution": map.resolution,
        "steps": steps,
        "target": target,
        "global_fraction": map.global_fraction,
        "diverged_fraction": map.diverged_fraction,
        "unsettled_fraction": map.unsettled_fraction,
        "bad_gradient_fraction": map.bad_gradient_fraction,
        "seed": seed,
        "minima": map.minima,
    });
    with_engine(doc, surface, precision, steps)
}

/// `tune --format json`: the setup, then per method the tuned values and both settings'
/// numbers on the held-out and the tuning starts.
pub fn tune(surface: &Surface, setup: &TuneSetup, rows: &[TuneRow]) -> Value {
    let methods: Vec<Value> = rows
        .iter()
        .map(|r| {
            let params: Map<String, Value> = r
                .params
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            json!({
                "method": r.method,
                "params": params,
                "settings_tried": r.settings_tried,
                "success_rate": r.success_rate,
                "ert": r.ert,
                "ert_low": r.ert_low,
                "ert_high": r.ert_high,
                "default_success_rate": r.default_success_rate,
                "default_ert": r.default_ert,
                "default_ert_low": r.default_ert_low,
                "default_ert_high": r.default_ert_high,
                "tuning_ert": r.tuning_ert,
                "tuning_median_loss": r.tuning_median_loss,
                "tuning_default_ert": r.tuning_default_ert,
                "tuning_default_median_loss": r.tuning_default_median_loss,
            })
        })
        .collect();
    let doc = json!({
        "surface": surface.spec(),
        "starts": setup.starts,
        "steps": setup.steps,
        "trials": setup.budget,
        "seed": setup.seed,
        "target": setup.target,
        "methods": methods,
        "held_out": held_out(surface, setup, rows),
    });
    with_engine(doc, surface, setup.precision, setup.steps)
}

/// `tune`'s held-out starts: their seed, the tuned settings' race rows and their runtime
/// distributions (targets, then per method the updates and fractions), as `race` and `ecdf`
/// would print them for those settings and starts.
fn held_out(surface: &Surface, setup: &TuneSetup, rows: &[TuneRow]) -> Value {
    // The held-out runs are not timed apart from the tuning: no `seconds` key.
    let race: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut v = json!(&r.held_out);
            if let Some(o) = v.as_object_mut() {
                o.remove("seconds");
            }
            v
        })
        .collect();
    let curves: Vec<Value> = rows
        .iter()
        .map(|r| {
            // The budgets count updates, or evaluations (`tune --budget-unit evals`).
            let unit = if r.held_out_ecdf.in_evals {
                "evals"
            } else {
                "updates"
            };
            let mut v = json!({
                "method": r.held_out_ecdf.method,
                "fractions": r.held_out_ecdf.fractions,
            });
            v[unit] = json!(r.held_out_ecdf.budgets);
            v
        })
        .collect();
    json!({
        "seed": super::tune::held_out_seed(setup.seed),
        "race": race,
        "ecdf": {
            "targets": super::tune::held_out_targets(surface, setup),
            "methods": curves,
        },
    })
}

/// Every built-in surface as `list` shows it: id, name, formula, what it tests, domain
/// `[x0, x1, y0, y1]`, default start, success tolerance, global minimum (value and points) and
/// parameters (name, default, meaning, range).
pub fn surface_catalog() -> Value {
    let list: Vec<Value> = surfaces()
        .iter()
        .map(|info| {
            let surface = Surface::of(info);
            let min = surface.global_minimum();
            let d = info.default_domain;
            let params: Vec<Value> = surface
                .params()
                .into_iter()
                .map(|(p, v)| {
                    json!({"name": p.name, "default": v, "doc": p.doc, "min": p.min, "max": p.max})
                })
                .collect();
            json!({
                "id": info.id,
                "name": info.display_name,
                "formula": info.formula,
                "note": info.note,
                "domain": [d.x0, d.x1, d.y0, d.y1],
                "start": [info.default_start.x, info.default_start.y],
                "tol": info.tol,
                "global_minimum": {
                    "value": min.value,
                    "points": min.points.iter().map(|p| [p.x, p.y]).collect::<Vec<_>>(),
                },
                "params": params,
            })
        })
        .collect();
    Value::Array(list)
}

/// Every method and preset as `list` shows it: id, label, reference, note, and each
/// hyperparameter (name, kind, default, meaning, valid range as text and as numbers).
pub fn method_catalog() -> Value {
    let list: Vec<Value> = methods()
        .iter()
        .map(|info| {
            let mut opt = (info.build)();
            let params: Vec<Value> = opt
                .params()
                .iter()
                .map(|p| {
                    let kind = match p.spec.kind {
                        ParamKind::Num => "number",
                        ParamKind::Pair => "pair",
                        ParamKind::Flag => "flag",
                        ParamKind::Count => "count",
                        ParamKind::Choice => "choice",
                    };
                    let finite = |v: f64| v.is_finite().then_some(v);
                    json!({
                        "name": p.spec.name,
                        "kind": kind,
                        "default": param_value(p),
                        "doc": p.spec.doc,
                        "range": p.spec.range_text(),
                        "min": finite(p.spec.min),
                        "max": finite(p.spec.max),
                        "min_open": p.spec.min_open,
                        "max_open": p.spec.max_open,
                    })
                })
                .collect();
            json!({
                "id": info.id,
                "label": info.label,
                "reference": info.reference,
                "note": info.note,
                "params": params,
            })
        })
        .collect();
    Value::Array(list)
}

/// `train --format json`: the data, the network, the setup and the target, one object per
/// method ([`super::train::TrainRow`]'s fields and its hyperparameters), and the ECDFs.
pub fn train(study: &super::train::TrainStudy) -> Value {
    let s = &study.setup;
    let (engine, lanes) = super::train::engine(s.precision);
    let methods: Vec<Value> = study
        .rows
        .iter()
        .zip(&study.opts)
        .map(|(row, o)| {
            let mut v = json!(row);
            if let Value::Object(m) = &mut v {
                m.insert("params".into(), Value::Object(param_values(o)));
            }
            v
        })
        .collect();
    json!({
        "data": {
            "name": s.data.name,
            "train_points": s.data.train.len(),
            "test_points": s.data.test.len(),
            "classes": s.data.classes(),
        },
        "net": {
            "layers": s.net.sizes_text(),
            "activation": s.net.activation.name(),
            "loss": s.net.loss.name(),
            "weight_decay": s.net.weight_decay,
            "params": s.net.params(),
            "init": s.init.name(),
        },
        "starts": s.starts,
        "steps": s.steps,
        "seed": s.seed,
        "engine": engine,
        "lanes": lanes,
        "precision": s.precision.name(),
        "target": study.target,
        "target_from": if s.target.is_some() { "given" } else { "lowest + tol" },
        "lowest": study.lowest,
        "tol": s.tol,
        "gtol": s.gtol,
        "cancelled": study.cancelled,
        "methods": methods,
        "tuning": study.tuning,
        "ecdf": {
            "targets": study.targets,
            "curves": study.ecdf,
        },
    })
}

/// A `train` phase map as JSON: [`train`]'s document of its study, with the cells (each row
/// with its `x_value` and `y_value`) in place of the methods, and no ECDFs or tuning.
pub fn train_phase(map: &super::train::phase::TrainPhase) -> Value {
    let mut doc = train(&map.study);
    if let Value::Object(m) = &mut doc {
        let rows = match m.remove("methods") {
            Some(Value::Array(rows)) => rows,
            _ => Vec::new(),
        };
        m.remove("tuning");
        m.remove("ecdf");
        let cells: Vec<Value> = rows
            .into_iter()
            .zip(&map.values)
            .map(|(mut row, (xv, yv))| {
                if let Value::Object(r) = &mut row {
                    r.insert("x_value".into(), json!(xv));
                    r.insert("y_value".into(), json!(yv));
                }
                row
            })
            .collect();
        m.insert("method".into(), json!(map.method));
        m.insert("x".into(), json!(map.x));
        m.insert("y".into(), json!(map.y));
        m.insert("cells".into(), Value::Array(cells));
    }
    doc
}

/// A network's parameters layer by layer in PyTorch's `nn.Linear` layout: `weight` as
/// (out, in) nested lists, `bias`.
pub fn layers_json(net: &crate::net::Mlp, theta: &[f64]) -> Value {
    net.layers()
        .iter()
        .map(|&(ni, no, w, b)| {
            let rows: Vec<&[f64]> = (0..no)
                .map(|j| &theta[w + j * ni..w + (j + 1) * ni])
                .collect();
            json!({ "weight": rows, "bias": &theta[b..b + no] })
        })
        .collect()
}

/// `train --weights FILE.json`: the network and, per run, its first and last parameters
/// ([`layers_json`]) with how it ended.
pub fn train_weights(study: &super::train::TrainStudy) -> Value {
    let s = &study.setup;
    let runs: Vec<Value> = study
        .methods
        .iter()
        .zip(&study.runs)
        .flat_map(|(m, runs)| {
            runs.iter().enumerate().map(move |(i, r)| {
                json!({
                    "method": m,
                    "run": i,
                    "fate": super::train::Fate::of(r, study.target, s.gtol).name(),
                    "updates": r.updates,
                    "final_loss": r.final_loss,
                    "initial": layers_json(&s.net, &r.initial),
                    "final": layers_json(&s.net, &r.weights),
                })
            })
        })
        .collect();
    json!({
        "layers": s.net.sizes_text(),
        "activation": s.net.activation.name(),
        "loss": s.net.loss.name(),
        "weight_decay": s.net.weight_decay,
        "precision": s.precision.name(),
        "runs": runs,
    })
}
