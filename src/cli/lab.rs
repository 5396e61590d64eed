//! The lab's commands: `list`, `trace`, `race`, `basins`, `sweep`, and the helpers every lab
//! command shares (setup, methods, starts, output). Each builds its setup from the arguments
//! (through `optiscape_core::setup`), runs the core's lab, and formats the result.

use super::progress::with_progress;
use super::{BasinsArgs, CliError, LabCommon, MethodArgs, Output, OutputArgs, PrecisionArg};
use super::{
    BudgetUnit, CostArgs, RaceArgs, RunOptions, StartArgs, SweepArgs, TableFormat, TraceArgs,
};
use optiscape_core::lab::{Progress, RunStatus, trace_each};
use optiscape_core::landscape::{Surface, catalog as surfaces};
use optiscape_core::optim::{Optimizer, ParamKind, catalog as methods};
use optiscape_core::setup::{
    DEFAULT_SEED, DEFAULT_STARTS, DEFAULT_STEPS, apply_method_settings, apply_placement,
    apply_surface_options, check_folder_of, load_scenario, parse_count, parse_method, parse_region,
    parse_surface,
};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::io::Write as _;

/// `optiscape list`.
pub fn list() -> Output {
    let mut s = String::new();
    let _ = writeln!(s, "SURFACES");
    for info in surfaces() {
        let surface = Surface::of(info);
        let min = surface.global_minimum();
        let d = info.default_domain;
        let _ = writeln!(s, "  {:<16} {}", info.id, info.display_name);
        let _ = writeln!(s, "      f(x, y) = {}", info.formula);
        let _ = writeln!(s, "      tests: {}", info.note);
        let _ = writeln!(
            s,
            "      domain [{}, {}] x [{}, {}]; start ({}, {}); success tolerance {}",
            d.x0, d.x1, d.y0, d.y1, info.default_start.x, info.default_start.y, info.tol
        );
        let pts: Vec<String> = min
            .points
            .iter()
            .map(|p| format!("({:.6}, {:.6})", p.x, p.y))
            .collect();
        let _ = writeln!(
            s,
            "      global minimum {} at {}",
            min.value,
            pts.join(", ")
        );
        for (p, v) in surface.params() {
            let _ = writeln!(
                s,
                "      parameter {} = {} ({}; {}..{})",
                p.name, v, p.doc, p.min, p.max
            );
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "METHODS (rules, then the notebook's presets)");
    for info in methods() {
        let mut opt = (info.build)();
        let _ = writeln!(s, "  {:<22} {} ({})", info.id, info.label, info.reference);
        let _ = writeln!(s, "      {}", info.note);
        for p in opt.params() {
            let _ = writeln!(
                s,
                "      {:<26} = {:<14} {}; {}",
                p.spec.name,
                p.text(),
                p.spec.doc,
                match p.spec.kind {
                    ParamKind::Flag => "true or false".to_string(),
                    _ => p.spec.range_text(),
                }
            );
        }
    }
    Output {
        stdout: s,
        notes: Vec::new(),
    }
}

/// `optiscape trace`: rows are written to stdout as they are computed (nothing but the run's
/// state is kept, whatever `--steps`), and to `--csv` alike; a closed pipe ends the run quietly.
/// The columns of `trace`'s CSV: the update (an iteration, for a method that asks for
/// evaluations), the point, its loss, and the function values and gradients asked for so far.
pub const TRACE_HEADER: &str = "update,x,y,loss,evals,grads";

pub fn trace_command(args: &TraceArgs, out: &mut dyn std::io::Write) -> Result<Output, CliError> {
    let setup = lab_setup(&args.common, None)?;
    let opt = one_method(&setup, &args.methods, "trace")?.with_seed(setup.seed);
    let steps = match &args.common.steps {
        Some(t) => optiscape_core::setup::parse_trace_steps(t)?,
        None => setup.steps,
    };
    let (opt, steps) = budgeted(&opt, steps, &args.cost)?;
    let surface = &setup.surface;
    let start = match (&args.start, &setup.scenario) {
        (None, Some(sc)) => match &sc.starts {
            optiscape_core::scenario::StartSpec::Points(p) if !p.is_empty() => {
                let (x, y) = p[0];
                optiscape_core::setup::parse_start(surface, Some(&format!("{x:?},{y:?}")))?
            }
            _ => optiscape_core::setup::parse_start(surface, None)?,
        },
        (given, _) => optiscape_core::setup::parse_start(surface, given.as_deref())?,
    };
    let file = match &args.output.csv {
        Some(p) => {
            check_folder_of(p)?;
            let f = std::fs::File::create(p)
                .map_err(|e| CliError(format!("could not write {}: {e}", p.display())))?;
            Some(std::io::BufWriter::new(f))
        }
        None => None,
    };
    let mut file = file;
    let d = surface.domain;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    let mut last = 0;
    let csv_row = |p: &optiscape_core::lab::TracePoint| {
        format!(
            "{},{:?},{:?},{:?},{},{}",
            p.step, p.x, p.y, p.loss, p.evals, p.grads
        )
    };
    let mut to_file = |line: &str| -> std::io::Result<()> {
        match file.as_mut() {
            Some(f) => writeln!(f, "{line}"),
            None => Ok(()),
        }
    };
    to_file(TRACE_HEADER).map_err(|e| CliError(format!("could not write the CSV: {e}")))?;
    let status = match args.output.format {
        TableFormat::Csv => writeln!(out, "{TRACE_HEADER}").and_then(|()| {
            trace_each(surface, &opt, start, steps, |p| {
                last = p.step;
                let row = csv_row(&p);
                to_file(&row)?;
                writeln!(out, "{row}")
            })
        }),
        TableFormat::Table => writeln!(
            out,
            "{:>8} {:>24} {:>24} {:>24} {:>8} {:>8}",
            "update", "x", "y", "loss", "evals", "grads"
        )
        .and_then(|()| {
            trace_each(surface, &opt, start, steps, |p| {
                last = p.step;
                to_file(&csv_row(&p))?;
                writeln!(
                    out,
                    "{:>8} {:>24} {:>24} {:>24} {:>8} {:>8}",
                    p.step,
                    format!("{:?}", p.x),
                    format!("{:?}", p.y),
                    format!("{:?}", p.loss),
                    p.evals,
                    p.grads
                )
            })
        }),
        TableFormat::Json => {
            // The document as `serde_json` writes it (keys in order), with the points streamed
            // where the placeholder is and the status, known at the end, after them.
            let params = optiscape_core::lab::report::param_values(&opt);
            const POINTS: &str = "@@points@@";
            const STATUS: &str = "@@status@@";
            let doc = json!({
                "surface": surface.spec(),
                "domain": [d.x0, d.x1, d.y0, d.y1],
                "method": opt.id,
                "params": params,
                "seed": setup.seed,
                "start": [start.x, start.y],
                "steps": steps,
                "steps_unit": match args.cost.budget_unit {
                    BudgetUnit::Updates => "updates",
                    BudgetUnit::Evals => "evals",
                },
                "grad_cost": grad_cost(&args.cost)?,
                "engine": "general",
                "lanes": 1,
                "precision": "f64",
                "status": STATUS,
                "points": POINTS,
            });
            let text = serde_json::to_string_pretty(&doc)
                .map_err(|e| CliError(format!("could not write JSON: {e}")))?;
            let (head, tail) = text
                .split_once(&format!("\"{POINTS}\""))
                .ok_or_else(|| CliError("could not write JSON".into()))?;
            let mut first = true;
            let streamed = write!(out, "{head}[").and_then(|()| {
                trace_each(surface, &opt, start, steps, |p| {
                    last = p.step;
                    to_file(&csv_row(&p))?;
                    let row = json!({"update": p.step, "x": p.x, "y": p.y, "loss": p.loss, "evals": p.evals, "grads": p.grads});
                    let sep = if first { "" } else { "," };
                    first = false;
                    write!(out, "{sep}\n    {row}")
                })
            });
            streamed.and_then(|status| {
                let status_json = serde_json::to_string(&status).map_err(std::io::Error::other)?;
                let tail = tail.replace(&format!("\"{STATUS}\""), &status_json);
                writeln!(out, "\n  ]{tail}")?;
                Ok(status)
            })
        }
    };
    let flushed = |s| {
        out.flush()?;
        if let Some(f) = file.as_mut() {
            f.flush()?;
        }
        Ok(s)
    };
    let status = match status.and_then(flushed) {
        Ok(s) => s,
        // `| head`: whoever reads has seen enough.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Output::default()),
        Err(e) => return Err(CliError(format!("could not write the trace: {e}"))),
    };
    let mut notes = Output::default();
    if status == RunStatus::Diverged {
        notes.notes.push(format!(
            "the run diverged at update {last} (position or loss not finite, or far outside the domain); the trace stops there"
        ));
    }
    if status == RunStatus::BadGradient {
        notes.notes.push(format!(
            "the gradient is not finite at update {last} (the loss is): the surface gives no direction there; the trace stops (status bad_gradient)"
        ));
    }
    Ok(notes)
}

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
                    ": this CPU lacks the instructions this build's lanes were compiled for"
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

/// `optiscape race`.
pub fn race_command(args: &RaceArgs) -> Result<Output, CliError> {
    let setup = lab_setup(&args.common, Some(&args.run))?;
    let (surface, steps, seed, target) = (&setup.surface, setup.steps, setup.seed, setup.target);
    let (k, region) = lab_starts(&setup, &args.starts)?;
    let opts = lab_methods(&setup, &args.methods, "all", "race")?;
    let gc = grad_cost(&args.cost)?;
    let budgeted_opts = opts
        .iter()
        .map(|o| budgeted(o, steps, &args.cost))
        .collect::<Result<Vec<_>, _>>()?;
    check_outputs(&args.output, None)?;
    let starts = optiscape_core::lab::uniform_starts(region, k, seed);
    let state = Progress::default();
    let keep_ends = args.output.csv.is_some();
    let race_against = |target| {
        let mut rows = Vec::new();
        for (opt, steps) in &budgeted_opts {
            let mut r = optiscape_core::lab::race_with(
                surface,
                std::slice::from_ref(opt),
                &starts,
                *steps,
                seed,
                target,
                setup.precision,
                &state,
            )?;
            for row in &mut r {
                row.set_grad_cost(gc, seed);
            }
            // Every run's end is kept only for `--csv` (72 bytes a run: a race of millions of
            // starts and many methods would otherwise hold gigabytes).
            if !keep_ends {
                for row in &mut r {
                    row.ends = Vec::new();
                }
            }
            rows.extend(r);
        }
        Some(rows)
    };
    let rows = with_progress("race", (k * opts.len()) as u64, &state, || {
        let rows = race_against(target)?;
        // An estimated minimum beaten by a run of one method is lowered for all of them.
        match target.lowered_to(optiscape_core::lab::lowest_of_rows(&rows)) {
            Some(lowered) => {
                state.done.store(0, std::sync::atomic::Ordering::Relaxed);
                race_against(lowered)
            }
            None => Some(rows),
        }
    })?
    .ok_or_else(|| CliError("the race was cancelled before it finished".into()))?;
    let target = optiscape_core::lab::race_target(target, &rows);
    if let Some(path) = &args.output.csv {
        let mut s = String::from(
            "method,run,x0,y0,x,y,loss,updates,first_success_update,status,evals,grads\n",
        );
        for r in &rows {
            for (i, e) in r.ends.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "{},{i},{:?},{:?},{:?},{:?},{:?},{},{},{},{},{}",
                    r.method,
                    e.start.x,
                    e.start.y,
                    e.end.x,
                    e.end.y,
                    e.loss,
                    e.steps,
                    e.first_success.map(|v| v.to_string()).unwrap_or_default(),
                    status_name(e.status),
                    e.evals,
                    e.grads
                );
            }
        }
        write_file(path, &s)?;
    }
    let mut out = Output::default();
    out.notes.push(format!(
        "{} starts per method, {steps} {} each; success = a final point inside the domain with a loss at most {} above the global minimum {} ({})",
        starts.len(),
        match args.cost.budget_unit {
            BudgetUnit::Updates => "updates",
            BudgetUnit::Evals => "evaluations",
        },
        target.tol,
        target.value,
        target.minimum_kind()
    ));
    out.notes.push(
        "95% intervals: Wilson for rates, bootstrap (1000 resamples) for the ERT (expected updates to reach the minimum with restarts); see docs/guide.md".into(),
    );
    out.notes.push(format!(
        "ERT evals: the same ERT in evaluations, a function value 1 and a gradient with its value {gc} (--grad-cost){}",
        match args.cost.budget_unit {
            BudgetUnit::Updates => String::new(),
            BudgetUnit::Evals => format!(
                "; --steps {steps} counts evaluations: update rules run {} updates, the methods that ask for evaluations stop at the evaluation that spends it",
                steps / gc
            ),
        }
    ));
    out.notes.extend(setup.precision_note());
    out.stdout = match args.output.format {
        TableFormat::Json => {
            let mut doc = optiscape_core::lab::report::race(
                surface,
                starts.len(),
                steps,
                seed,
                target,
                setup.precision,
                &rows,
            );
            doc["steps_unit"] = json!(match args.cost.budget_unit {
                BudgetUnit::Updates => "updates",
                BudgetUnit::Evals => "evals",
            });
            json_text(&doc)?
        }
        TableFormat::Csv => {
            let mut s = String::from(
                "method,runs,success_rate,success_rate_low,success_rate_high,reached_rate,ert,ert_low,ert_high,ert_evals,ert_evals_low,ert_evals_high,mean_evals,grad_cost,mean_loss,median_loss,median_updates_to_success,diverged,bad_gradient,seconds\n",
            );
            for r in &rows {
                let _ = writeln!(
                    s,
                    "{},{},{:?},{:?},{:?},{:?},{},{},{},{},{},{},{:?},{},{},{},{},{},{},{:.3}",
                    r.method,
                    r.runs,
                    r.success_rate,
                    r.success_rate_low,
                    r.success_rate_high,
                    r.reached_rate,
                    csv_opt(r.ert),
                    csv_opt(r.ert_low),
                    csv_opt(r.ert_high),
                    csv_opt(r.ert_evals),
                    csv_opt(r.ert_evals_low),
                    csv_opt(r.ert_evals_high),
                    r.mean_evals,
                    r.grad_cost,
                    csv_opt(r.mean_loss),
                    csv_opt(r.median_loss),
                    csv_opt(r.median_steps_to_success),
                    r.diverged,
                    r.bad_gradient,
                    r.seconds,
                );
            }
            s
        }
        TableFormat::Table => race_table(&rows, true),
    };
    Ok(out)
}

/// A race's rows as the table `race` prints (also `tune`'s held-out race, which is not timed:
/// `seconds: false` leaves that column out).
pub(crate) fn race_table(rows: &[optiscape_core::lab::RaceRow], seconds: bool) -> String {
    let mut s = format!(
        "{:<22} {:>6} {:>8} {:>15} {:>8} {:>22} {:>24} {:>12} {:>8} {:>12}",
        "method",
        "runs",
        "success",
        "95% interval",
        "reached",
        "ERT [95% interval]",
        "ERT evals [95% interval]",
        "median loss",
        "diverged",
        "bad gradient",
    );
    if seconds {
        let _ = write!(s, " {:>8}", "seconds");
    }
    s.push('\n');
    for r in rows {
        let _ = write!(
            s,
            "{:<22} {:>6} {:>7.1}% {:>15} {:>7.1}% {:>22} {:>24} {:>12} {:>8} {:>12}",
            r.method,
            r.runs,
            100.0 * r.success_rate,
            format!(
                "{:.1}-{:.1}%",
                100.0 * r.success_rate_low,
                100.0 * r.success_rate_high
            ),
            100.0 * r.reached_rate,
            fmt_ert(r.ert, r.ert_low, r.ert_high),
            fmt_ert(r.ert_evals, r.ert_evals_low, r.ert_evals_high),
            fmt_opt(r.median_loss),
            r.diverged,
            r.bad_gradient,
        );
        if seconds {
            let _ = write!(s, " {:>8.2}", r.seconds);
        }
        s.push('\n');
    }
    s
}

/// `optiscape basins`.
pub fn basins_command(args: &BasinsArgs) -> Result<Output, CliError> {
    let setup = lab_setup(&args.common, Some(&args.run))?;
    let (surface, steps, seed, target) = (&setup.surface, setup.steps, setup.seed, setup.target);
    let r = optiscape_core::setup::parse_resolution(&args.resolution)?;
    let opt = one_method(&setup, &args.methods, "basins")?;
    let (opt, steps) = budgeted(&opt, steps, &args.cost)?;
    check_outputs(&args.output, args.out.as_ref())?;
    let state = Progress::default();
    let map = with_progress("basins", r * r, &state, || {
        optiscape_core::lab::basins::basins_with(
            surface,
            &opt,
            r as usize,
            steps,
            seed,
            target,
            setup.precision,
            &state,
        )
    })?
    .ok_or_else(|| CliError("the basin map was cancelled before it finished".into()))?;
    let mut out = Output::default();
    out.notes.extend(setup.precision_note());
    out.notes.extend(budget_note(&args.cost, &setup, steps)?);
    if let Some(path) = &args.out {
        save_png(path, &optiscape_core::lab::basins::image(&map, 512))?;
        out.notes.push(format!("wrote {}", path.display()));
    }
    if let Some(path) = &args.output.csv {
        // Written as it goes: a 4096 x 4096 map has 16.8 million rows.
        let fail = |e: std::io::Error| CliError(format!("could not write {}: {e}", path.display()));
        let mut w = std::io::BufWriter::new(std::fs::File::create(path).map_err(fail)?);
        writeln!(w, "x0,y0,x,y,loss,label").map_err(fail)?;
        for (k, (e, l)) in map.ends.iter().zip(&map.labels).enumerate() {
            let start = optiscape_core::lab::basins::grid_start(surface.domain, map.resolution, k);
            writeln!(
                w,
                "{:?},{:?},{:?},{:?},{:?},{l}",
                start.x, start.y, e.end.x, e.end.y, e.loss
            )
            .map_err(fail)?;
        }
        w.flush().map_err(fail)?;
        out.notes.push(format!("wrote {}", path.display()));
    }
    out.stdout = match args.output.format {
        TableFormat::Json => {
            let mut doc = optiscape_core::lab::report::basins(
                surface,
                &opt.id,
                setup.steps,
                seed,
                target,
                setup.precision,
                &map,
            );
            cost_keys(&mut doc, &args.cost)?;
            json_text(&doc)?
        }
        TableFormat::Csv => {
            let mut s = String::from("x,y,loss,area_fraction,global\n");
            for m in &map.minima {
                let _ = writeln!(
                    s,
                    "{:?},{:?},{:?},{:?},{}",
                    m.x, m.y, m.loss, m.area_fraction, m.global
                );
            }
            s
        }
        TableFormat::Table => {
            let mut s = format!(
                "{} on {}: {:.1}% of the domain reaches a global minimum, {:.1}% diverges, {:.1}% is still moving after {}; {} distinct minima found\n",
                opt.id,
                surface.id(),
                100.0 * map.global_fraction,
                100.0 * map.diverged_fraction,
                100.0 * map.unsettled_fraction,
                budget_words(&args.cost, setup.steps),
                map.minima.len()
            );
            if map.bad_gradient_fraction > 0.0 {
                let _ = writeln!(
                    s,
                    "{:.1}% of the domain stops where the gradient is not finite (bad_gradient)",
                    100.0 * map.bad_gradient_fraction
                );
            }
            if !map.minima.is_empty() {
                let _ = writeln!(
                    s,
                    "\n{:>12} {:>12} {:>12} {:>8} {:>7}",
                    "x", "y", "loss", "area", "global"
                );
                for m in map.minima.iter().take(20) {
                    let _ = writeln!(
                        s,
                        "{:>12} {:>12} {:>12} {:>7.1}% {:>7}",
                        fmt_opt(Some(m.x)),
                        fmt_opt(Some(m.y)),
                        fmt_opt(Some(m.loss)),
                        100.0 * m.area_fraction,
                        if m.global { "yes" } else { "no" }
                    );
                }
                if map.minima.len() > 20 {
                    let _ = writeln!(
                        s,
                        "({} more: --format csv or json lists them all)",
                        map.minima.len() - 20
                    );
                }
            }
            s
        }
    };
    Ok(out)
}

/// `optiscape sweep`.
pub fn sweep_command(args: &SweepArgs) -> Result<Output, CliError> {
    let setup = lab_setup(&args.common, Some(&args.run))?;
    let (surface, steps, seed, target) = (&setup.surface, setup.steps, setup.seed, setup.target);
    let opt = one_method(&setup, &args.methods, "sweep")?;
    let (opt, steps) = budgeted(&opt, steps, &args.cost)?;
    let (lo, hi) = optiscape_core::lab::sweep::parse_range(&args.range)?;
    let points = optiscape_core::setup::parse_count_in("--points", &args.points, 1, 1000)? as usize;
    let (k, region) = lab_starts(&setup, &args.starts)?;
    let spec = optiscape_core::lab::sweep::sweep_param(&opt, &args.param, lo, hi)?;
    let log = spec.log;
    let values = optiscape_core::lab::sweep::values(spec, lo, hi, points, log)?;
    check_outputs(&args.output, args.out.as_ref())?;
    let starts = optiscape_core::lab::uniform_starts(region, k, seed);
    let state = Progress::default();
    let rows = with_progress("sweep", (values.len() * k) as u64, &state, || {
        optiscape_core::lab::sweep::sweep(
            surface,
            &opt,
            &args.param,
            &values,
            &starts,
            steps,
            seed,
            target,
            setup.precision,
            &state,
        )
    })?
    .map_err(CliError)?;
    let mut out = Output::default();
    out.notes.extend(setup.precision_note());
    out.notes.extend(budget_note(&args.cost, &setup, steps)?);
    let mut csv = format!("{},success_rate,median_loss,diverged\n", args.param);
    for r in &rows {
        let _ = writeln!(
            csv,
            "{:?},{:?},{},{}",
            r.value,
            r.success_rate,
            csv_opt(r.median_loss),
            r.diverged
        );
    }
    if let Some(path) = &args.output.csv {
        write_file(path, &csv)?;
    }
    out.stdout = match args.output.format {
        TableFormat::Csv => csv,
        TableFormat::Json => {
            let rows: Vec<Value> = rows
                .iter()
                .map(|r| {
                    json!({
                        "value": r.value,
                        "success_rate": r.success_rate,
                        "median_loss": r.median_loss,
                        "diverged": r.diverged,
                    })
                })
                .collect();
            let mut doc = lab_doc(
                &setup,
                json!({
                    "method": opt.id,
                    "param": args.param,
                    "starts": starts.len(),
                    "values": rows,
                }),
            );
            cost_keys(&mut doc, &args.cost)?;
            json_text(&doc)?
        }
        TableFormat::Table => {
            let mut s = format!(
                "{:>14} {:>8} {:>12} {:>8}\n",
                args.param, "success", "median loss", "diverged"
            );
            for r in &rows {
                let _ = writeln!(
                    s,
                    "{:>14} {:>7.1}% {:>12} {:>8}",
                    fmt_full(r.value),
                    100.0 * r.success_rate,
                    fmt_opt(r.median_loss),
                    r.diverged
                );
            }
            s
        }
    };
    if let Some(path) = &args.out {
        let title = format!(
            "{} on {}: {} starts x {}",
            opt.id,
            surface.spec(),
            starts.len(),
            budget_words(&args.cost, setup.steps)
        );
        save_png(
            path,
            &optiscape_core::lab::sweep::chart(&rows, log, target.value, &args.param, &title),
        )?;
        out.notes.push(format!("wrote {}", path.display()));
    }
    Ok(out)
}
