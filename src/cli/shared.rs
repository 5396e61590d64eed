//! What every lab command shares: its setup (surface, steps, seed, target, precision), its
//! methods and starts from the arguments and the scenario, the one cost scale's options, and
//! the formatting of numbers, tables, JSON documents and files.

use super::{BudgetUnit, CostArgs, RunOptions, StartArgs};
use super::{CliError, LabCommon, MethodArgs, OutputArgs, PrecisionArg};
use optiscape_core::lab::RunStatus;
use optiscape_core::landscape::Surface;
use optiscape_core::optim::{Optimizer, catalog as methods};
use optiscape_core::setup::{
    DEFAULT_SEED, DEFAULT_STARTS, DEFAULT_STEPS, apply_method_settings, apply_placement,
    apply_surface_options, check_folder_of, load_scenario, parse_count, parse_method, parse_region,
    parse_surface,
};
use serde_json::{Value, json};

/// What a lab command runs on: surface, steps, seed, success target, and the scenario if any.
pub(crate) struct LabSetup {
    pub(crate) surface: Surface,
    pub(crate) steps: u64,
    pub(crate) seed: u64,
    pub(crate) target: optiscape_core::lab::Target,
    pub(crate) precision: optiscape_core::lab::Precision,
    pub(crate) scenario: Option<optiscape_core::scenario::Scenario>,
}

impl LabSetup {
    /// The scenario's enabled methods with their hyperparameters.
    pub(crate) fn scenario_methods(&self) -> Vec<Optimizer> {
        let Some(sc) = &self.scenario else {
            return Vec::new();
        };
        sc.methods()
            .map(|ms| {
                ms.into_iter()
                    .filter(|m| m.enabled)
                    .map(|m| m.optimizer)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The engine, lanes and precision of this setup's batches, for JSON documents.
    pub(crate) fn engine_keys(&self) -> serde_json::Map<String, Value> {
        optiscape_core::lab::report::engine_keys(&self.surface, self.precision, self.steps)
    }

    /// A note when the runs do not take the precision asked for.
    pub(crate) fn precision_note(&self) -> Option<String> {
        let e = optiscape_core::lab::engine_for(&self.surface, self.precision, self.steps);
        (e.precision != self.precision).then(|| {
            format!(
                "--precision {} runs in {} here ({} engine{})",
                self.precision.name(),
                e.precision.name(),
                e.engine,
                if e.engine == "general" {
                    ": OPTISCAPE_LANES=general runs each run on its own, in f64"
                } else {
                    ": f32 cannot count more than 2^24 updates"
                }
            )
        })
    }
}

/// The surface of a lab command, with its domain, steps, seed, success target and precision
/// (`run`: absent for `trace`, which is one f64 run judged by nothing).
pub(crate) fn lab_setup(c: &LabCommon, run: Option<&RunOptions>) -> Result<LabSetup, CliError> {
    let scenario = c.scenario.as_deref().map(load_scenario).transpose()?;
    let mut surface = match (&c.surface, &scenario) {
        (Some(spec), _) => parse_surface(spec)?,
        (None, Some(sc)) => sc.surface().map_err(CliError)?,
        (None, None) => return Err(CliError("give --surface or --scenario".into())),
    };
    apply_surface_options(&mut surface, c.domain.as_deref(), &c.surface_param)?;
    apply_placement(&mut surface, c.rotate.as_deref(), c.instance.as_deref())?;
    let steps = match (&c.steps, &scenario) {
        // `trace` takes more (it keeps nothing) and parses its own `--steps`.
        (Some(_), _) if run.is_none() => DEFAULT_STEPS,
        (Some(t), _) => optiscape_core::setup::parse_steps(t)?,
        (None, Some(sc)) => sc.steps,
        (None, None) => DEFAULT_STEPS,
    };
    if steps > optiscape_core::setup::MAX_STEPS {
        return Err(CliError(format!(
            "the scenario's steps must be at most {} (got {steps})",
            optiscape_core::setup::MAX_STEPS
        )));
    }
    let seed = match (&c.seed, &scenario) {
        (Some(t), _) => parse_count("--seed", t, 0)?,
        (None, Some(sc)) => sc.seed,
        (None, None) => DEFAULT_SEED,
    };
    let target = optiscape_core::setup::parse_target(&surface, run.and_then(|r| r.tol.as_deref()))?;
    let precision = match run.map(|r| r.precision) {
        Some(PrecisionArg::F32) => optiscape_core::lab::Precision::F32,
        _ => optiscape_core::lab::Precision::F64,
    };
    optiscape_core::setup::check_precision(&target, precision)?;
    Ok(LabSetup {
        surface,
        steps,
        seed,
        target,
        precision,
        scenario,
    })
}

/// A CSV field: the number in full precision, or empty for "no value" (documented in the guide).
pub(crate) fn csv_opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:?}")).unwrap_or_default()
}

/// A JSON document as the lab prints it: pretty, with a final newline.
pub(crate) fn json_text(doc: &Value) -> Result<String, CliError> {
    let mut s = serde_json::to_string_pretty(doc)
        .map_err(|e| CliError(format!("could not write JSON: {e}")))?;
    s.push('\n');
    Ok(s)
}

/// A JSON object with the setup every lab document has (surface, steps, seed, the engine)
/// followed by `rest`.
pub(crate) fn lab_doc(setup: &LabSetup, rest: Value) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("surface".into(), json!(setup.surface.spec()));
    m.insert("steps".into(), json!(setup.steps));
    m.insert("seed".into(), json!(setup.seed));
    m.insert("target".into(), json!(setup.target));
    m.extend(setup.engine_keys());
    if let Value::Object(r) = rest {
        m.extend(r);
    }
    Value::Object(m)
}

/// Writes `text` to `path` (a CSV or other file a command was asked for).
pub(crate) fn write_file(path: &std::path::Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text)
        .map_err(|e| CliError(format!("could not write {}: {e}", path.display())))
}

/// Saves a picture a command was asked for (`--out`).
pub(crate) fn save_png(path: &std::path::Path, img: &image::RgbImage) -> Result<(), CliError> {
    img.save(path)
        .map_err(|e| CliError(format!("could not write {}: {e}", path.display())))
}

/// The folders of the files a command will write must exist before it starts.
pub(crate) fn check_outputs(
    output: &OutputArgs,
    out: Option<&std::path::PathBuf>,
) -> Result<(), CliError> {
    for p in [output.csv.as_ref(), out].into_iter().flatten() {
        check_folder_of(p)?;
    }
    Ok(())
}

/// The methods `tune` compares when `--methods` is not given: the common rules (the guide's
/// tables use them).
pub const COMMON_METHODS: &str = "sgd,heavy-ball,nesterov,adam,rmsprop,lion";

/// The methods of a command: `--methods` (ids, or `all`), else the scenario's enabled ones,
/// else `default` (`all` or a list); then `--set [METHOD.]NAME=VALUE`. `what` names the set of
/// methods in messages ("race", "tuning", ...).
pub(crate) fn lab_methods(
    setup: &LabSetup,
    m: &MethodArgs,
    default: &str,
    what: &str,
) -> Result<Vec<Optimizer>, CliError> {
    let mut opts = Vec::new();
    let list = match m.methods.as_deref().map(str::trim) {
        None if setup.scenario.is_some() => {
            opts = setup.scenario_methods();
            if opts.is_empty() {
                return Err(CliError(
                    "give --methods (the scenario enables no method)".into(),
                ));
            }
            None
        }
        None => Some(default),
        Some(list) => Some(list),
    };
    match list {
        None => {}
        Some("all") => {
            for m in methods() {
                opts.push(parse_method(m.id)?);
            }
        }
        Some(list) => {
            for id in list.split(',') {
                let o = parse_method(id.trim())?;
                if opts.iter().any(|p: &Optimizer| p.id == o.id) {
                    return Err(CliError(format!("--methods lists '{}' twice", o.id)));
                }
                opts.push(o);
            }
        }
    }
    apply_method_settings(&mut opts, &m.set, what)?;
    search_in_f64(setup, &opts)?;
    Ok(opts)
}

/// `--precision f32` runs the update rules' lockstep lanes in single precision; a method that
/// asks for evaluations has no lanes and runs in f64: refused rather than reported wrongly.
fn search_in_f64(setup: &LabSetup, opts: &[Optimizer]) -> Result<(), CliError> {
    match opts.iter().find(|o| o.is_search()) {
        Some(o) if setup.precision == optiscape_core::lab::Precision::F32 => {
            Err(CliError(format!(
                "--precision f32 is for the update rules: '{}' asks for evaluations and runs in f64 \
             (give --precision f64, or leave it out)",
                o.id
            )))
        }
        _ => Ok(()),
    }
}

/// The one method of a command that runs one (`trace`, `basins`, `sweep`, `phase`): `--methods`
/// with one id, else the scenario's first enabled method; then `--set`.
pub(crate) fn one_method(
    setup: &LabSetup,
    m: &MethodArgs,
    command: &str,
) -> Result<Optimizer, CliError> {
    let mut opt = match m.methods.as_deref().map(str::trim) {
        Some(list) => {
            let ids: Vec<&str> = list.split(',').map(str::trim).collect();
            if list == "all" || ids.len() != 1 {
                return Err(CliError(format!(
                    "{command} runs one method; --methods gives {}",
                    if list == "all" {
                        "all of them".to_string()
                    } else {
                        format!("{} ({list})", ids.len())
                    }
                )));
            }
            parse_method(ids[0])?
        }
        None => setup.scenario_methods().into_iter().next().ok_or_else(|| {
            CliError(if setup.scenario.is_some() {
                "give --methods (the scenario enables no method)".into()
            } else {
                "give --methods (or --scenario)".into()
            })
        })?,
    };
    apply_method_settings(std::slice::from_mut(&mut opt), &m.set, command)?;
    search_in_f64(setup, std::slice::from_ref(&opt))?;
    Ok(opt)
}

/// The start count and region of a lab command that draws random starts: `--starts`, else the
/// scenario's random starts, else [`DEFAULT_STARTS`]; `--region`, else the scenario's, else the
/// domain.
pub(crate) fn lab_starts(
    setup: &LabSetup,
    a: &StartArgs,
) -> Result<(usize, optiscape_core::landscape::Domain), CliError> {
    let surface = &setup.surface;
    let scenario_random = match setup.scenario.as_ref().map(|s| &s.starts) {
        Some(optiscape_core::scenario::StartSpec::Random { k, region }) => {
            Some((*k as u64, *region))
        }
        _ => None,
    };
    let k = match (a.starts.as_deref(), scenario_random) {
        (Some(t), _) => optiscape_core::setup::parse_starts(t)?,
        (None, Some((k, _))) => k,
        (None, None) => DEFAULT_STARTS,
    };
    if k > optiscape_core::setup::MAX_STARTS {
        return Err(CliError(format!(
            "the scenario's starts must be at most {} (got {k})",
            optiscape_core::setup::MAX_STARTS
        )));
    }
    let region = match a.region.as_deref() {
        Some(text) => parse_region("--region", Some(text), surface.domain)?,
        None => {
            let given = scenario_random.and_then(|(_, r)| r);
            surface
                .domain
                .start_region(given)
                .map_err(|e| CliError(format!("the scenario's starts.region: {e}")))?
        }
    };
    Ok((k as usize, region))
}

/// A number for tables: 5 significant digits, or `–` for none (values to be typed back, like
/// tuned settings, are printed in full with [`fmt_full`]).
pub(crate) fn fmt_opt(v: Option<f64>) -> String {
    match v {
        Some(x) if x != 0.0 && (x.abs() >= 1e5 || x.abs() < 1e-4) => format!("{x:.4e}"),
        Some(x) => {
            let digits = (4 - x.abs().log10().floor() as i32).max(0) as usize;
            let s = format!("{x:.digits$}");
            if s.contains('.') {
                s.trim_end_matches('0').trim_end_matches('.').to_string()
            } else {
                s
            }
        }
        None => "–".into(),
    }
}

/// A value meant to be typed back (`--set lr=...`): the shortest text that reads back as the
/// same f64.
pub(crate) fn fmt_full(v: f64) -> String {
    format!("{v}")
}

/// An ERT with its interval for tables: `412 [380, 455]`, `none reached` when undefined, `∞`
/// for an unbounded end.
pub(crate) fn fmt_ert(ert: Option<f64>, lo: Option<f64>, hi: Option<f64>) -> String {
    let Some(e) = ert else {
        return "none reached".into();
    };
    let end = |v: Option<f64>| v.map(|x| format!("{x:.0}")).unwrap_or_else(|| "∞".into());
    format!("{e:.0} [{}, {}]", end(lo), end(hi))
}

/// A run's status as CSV and JSON name it.
pub(crate) fn status_name(s: RunStatus) -> &'static str {
    s.name()
}

/// A method with the run's budget: `--steps` updates, or `--steps` evaluations on the one cost
/// scale (`--budget-unit evals`); the steps to run it for.
pub(crate) fn budgeted(
    opt: &Optimizer,
    steps: u64,
    cost: &CostArgs,
) -> Result<(Optimizer, u64), CliError> {
    let c = grad_cost(cost)?;
    Ok(match cost.budget_unit {
        BudgetUnit::Updates => (opt.clone(), steps),
        BudgetUnit::Evals => opt.with_eval_budget(steps, c),
    })
}

/// `--grad-cost`: a whole number of at least 1.
pub(crate) fn grad_cost(cost: &CostArgs) -> Result<u64, CliError> {
    Ok(optiscape_core::setup::parse_count(
        "--grad-cost",
        &cost.grad_cost,
        1,
    )?)
}

/// The budget in words: `300 updates` or `900 evaluations`.
pub(crate) fn budget_words(cost: &CostArgs, steps: u64) -> String {
    match cost.budget_unit {
        BudgetUnit::Updates => format!("{steps} updates"),
        BudgetUnit::Evals => format!("{steps} evaluations"),
    }
}

/// With `--budget-unit evals`, the note that says what `--steps` counts and what the method
/// was given (`steps`: the updates of an update rule, else the evaluations).
pub(crate) fn budget_note(
    cost: &CostArgs,
    setup: &LabSetup,
    steps: u64,
) -> Result<Option<String>, CliError> {
    let c = grad_cost(cost)?;
    Ok(match cost.budget_unit {
        BudgetUnit::Updates => None,
        BudgetUnit::Evals => Some(format!(
            "--steps {} counts evaluations (a function value 1, a gradient with its value {c}, --grad-cost): {}",
            setup.steps,
            if steps == setup.steps {
                "the method stops at the evaluation that spends it".to_string()
            } else {
                format!("the update rule runs {steps} updates")
            }
        )),
    })
}

/// `steps_unit` and `grad_cost` in a JSON document.
pub(crate) fn cost_keys(doc: &mut Value, cost: &CostArgs) -> Result<(), CliError> {
    doc["steps_unit"] = json!(match cost.budget_unit {
        BudgetUnit::Updates => "updates",
        BudgetUnit::Evals => "evals",
    });
    doc["grad_cost"] = json!(grad_cost(cost)?);
    Ok(())
}
