//! The lab's commands: `list`, `trace`, `race`, `basins`, `sweep`. Each builds its setup from
//! the arguments (through `optiscape_core::setup`), runs the core's lab, and formats the result.

use super::{BasinsArgs, CliError, LabCommon, Output, PrecisionArg, RaceArgs, SweepArgs};
use super::{TableFormat, TraceArgs, TraceFormat};
use optiscape_core::lab::{RunStatus, trace_each};
use optiscape_core::landscape::{Surface, catalog as surfaces};
use optiscape_core::optim::{Optimizer, ParamKind, catalog as methods};
use optiscape_core::setup::{
    apply_placement, apply_settings, apply_surface_options, build_surface, check_folder_of,
    load_scenario, parse_count, parse_method, parse_region, parse_surface, split_method_setting,
};
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

/// `optiscape trace`: rows are written to `out` as they are computed (nothing but the run's state
/// is kept, whatever `--steps`); a closed pipe ends the run quietly.
pub fn trace_command(args: &TraceArgs, out: &mut dyn std::io::Write) -> Result<Output, CliError> {
    let mut surface = build_surface(&args.surface, args.domain.as_deref(), &args.surface_param)?;
    apply_placement(
        &mut surface,
        args.rotate.as_deref(),
        args.instance.as_deref(),
    )?;
    let seed = parse_count("--seed", &args.seed, 0)?;
    let mut opt = parse_method(&args.method)?.with_seed(seed);
    apply_settings(&mut opt, &args.set)?;
    let steps = optiscape_core::setup::parse_trace_steps(&args.steps)?;
    let start = optiscape_core::setup::parse_start(&surface, args.start.as_deref())?;
    let d = surface.domain;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    let mut last = 0;
    let status = match args.format {
        TraceFormat::Csv => {
            let header = writeln!(out, "step,x,y,loss");
            header.and_then(|()| {
                trace_each(&surface, &opt, start, steps, |p| {
                    last = p.step;
                    writeln!(out, "{},{:?},{:?},{:?}", p.step, p.x, p.y, p.loss)
                })
            })
        }
        TraceFormat::Json => {
            // The document as `serde_json` writes it (keys in order), with the points streamed
            // where the placeholder is and the status, known at the end, after them.
            let params = optiscape_core::lab::report::param_values(&opt);
            const POINTS: &str = "@@points@@";
            const STATUS: &str = "@@status@@";
            let doc = serde_json::json!({
                "surface": surface.spec(),
                "domain": [d.x0, d.x1, d.y0, d.y1],
                "method": opt.id,
                "params": params,
                "seed": seed,
                "start": [start.x, start.y],
                "steps": steps,
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
                trace_each(&surface, &opt, start, steps, |p| {
                    last = p.step;
                    let row = serde_json::to_string(&p).map_err(std::io::Error::other)?;
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
    let status = match status.and_then(|s| out.flush().map(|()| s)) {
        Ok(s) => s,
        // `| head`: whoever reads has seen enough.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Output::default()),
        Err(e) => return Err(CliError(format!("could not write the trace: {e}"))),
    };
    let mut notes = Output::default();
    if status == RunStatus::Diverged {
        notes.notes.push(format!(
            "the run diverged at step {last} (position or loss not finite, or far outside the domain); the trace stops there"
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

    /// `--method`, or the scenario's first enabled method.
    pub(crate) fn method(&self, given: Option<&str>) -> Result<Optimizer, CliError> {
        match given {
            Some(id) => Ok(parse_method(id)?),
            None => {
                self.scenario_methods().into_iter().next().ok_or_else(|| {
                    CliError("give --method (the scenario enables no method)".into())
                })
            }
        }
    }
}

/// The surface of a lab command, with its domain and success target.
pub(crate) fn lab_setup(c: &LabCommon) -> Result<LabSetup, CliError> {
    let scenario = c.scenario.as_deref().map(load_scenario).transpose()?;
    let mut surface = match (&c.surface, &scenario) {
        (Some(spec), _) => parse_surface(spec)?,
        (None, Some(sc)) => sc.surface().map_err(CliError)?,
        (None, None) => return Err(CliError("give --surface or --scenario".into())),
    };
    apply_surface_options(&mut surface, c.domain.as_deref(), &c.surface_param)?;
    apply_placement(&mut surface, c.rotate.as_deref(), c.instance.as_deref())?;
    let steps = match (&c.steps, &scenario) {
        (Some(t), _) => optiscape_core::setup::parse_steps(t)?,
        (None, Some(sc)) => sc.steps,
        (None, None) => 300,
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
        (None, None) => 0,
    };
    let target = optiscape_core::setup::parse_target(&surface, c.tol.as_deref())?;
    let precision = match c.precision {
        PrecisionArg::F64 => optiscape_core::lab::Precision::F64,
        PrecisionArg::F32 => optiscape_core::lab::Precision::F32,
    };
    Ok(LabSetup {
        surface,
        steps,
        seed,
        target,
        precision,
        scenario,
    })
}

pub(crate) fn progress(what: &str) {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[2K{what}");
    }
}

/// A CSV field: the number in full precision, or empty for "no value" (documented in the guide).
pub(crate) fn csv_opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:?}")).unwrap_or_default()
}

/// What a command comparing methods (`race`, `ecdf`, `tune`) runs: the start count and region
/// ([`lab_starts`], 1000 starts by default) and the methods ([`lab_methods`]); `what` names the
/// comparison in messages.
pub(crate) fn lab_comparison(
    setup: &LabSetup,
    cmp: &super::Comparison,
    what: &str,
) -> Result<(usize, optiscape_core::landscape::Domain, Vec<Optimizer>), CliError> {
    let (k, region) = lab_starts(setup, cmp.starts.as_deref(), cmp.region.as_deref(), 1000)?;
    let opts = lab_methods(setup, cmp.methods.as_deref(), &cmp.set, what)?;
    Ok((k, region, opts))
}

/// The start count and region of a lab command that draws random starts: `--starts`, else the
/// scenario's random starts, else `default`; `--region`, else the scenario's, else the domain.
pub(crate) fn lab_starts(
    setup: &LabSetup,
    starts: Option<&str>,
    region: Option<&str>,
    default: u64,
) -> Result<(usize, optiscape_core::landscape::Domain), CliError> {
    let surface = &setup.surface;
    let scenario_random = match setup.scenario.as_ref().map(|s| &s.starts) {
        Some(optiscape_core::scenario::StartSpec::Random { k, region }) => {
            Some((*k as u64, *region))
        }
        _ => None,
    };
    let k = match (starts, scenario_random) {
        (Some(t), _) => optiscape_core::setup::parse_starts(t)?,
        (None, Some((k, _))) => k,
        (None, None) => default,
    };
    if k > optiscape_core::setup::MAX_STARTS {
        return Err(CliError(format!(
            "the scenario's starts must be at most {} (got {k})",
            optiscape_core::setup::MAX_STARTS
        )));
    }
    let region = match region {
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

/// The methods of a lab command that compares several: `--methods` (ids, or `all`), else the
/// scenario's enabled ones, else all; then `--set METHOD.NAME=VALUE`.
fn lab_methods(
    setup: &LabSetup,
    list: Option<&str>,
    set: &[String],
    what: &str,
) -> Result<Vec<Optimizer>, CliError> {
    let mut opts = Vec::new();
    match list.map(str::trim) {
        None if setup.scenario.is_some() => {
            opts = setup.scenario_methods();
            if opts.is_empty() {
                return Err(CliError(
                    "give --methods (the scenario enables no method)".into(),
                ));
            }
        }
        None | Some("all") => {
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
    for s in set {
        let (m, k, v) = split_method_setting(s)?;
        let Some(opt) = opts.iter_mut().find(|o| o.id == m) else {
            return Err(CliError(format!(
                "--set {s}: method '{m}' is not in the {what}"
            )));
        };
        opt.set(k, v).map_err(CliError)?;
    }
    Ok(opts)
}

/// A number for tables: 5 significant digits, or `–` for none.
pub(crate) fn fmt_opt(v: Option<f64>) -> String {
    match v {
        Some(x) if x.abs() >= 1e5 => format!("{x:.3e}"),
        Some(x) => format!("{x:.5}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string(),
        None => "–".into(),
    }
}

/// An ERT with its interval for tables: `412 [380, 455]`, `–` when undefined, `∞` for an
/// unbounded end.
pub(crate) fn fmt_ert(ert: Option<f64>, lo: Option<f64>, hi: Option<f64>) -> String {
    let Some(e) = ert else {
        return "none reached".into();
    };
    let end = |v: Option<f64>| v.map(|x| format!("{x:.0}")).unwrap_or_else(|| "∞".into());
    format!("{e:.0} [{}, {}]", end(lo), end(hi))
}

/// `optiscape race`.
pub fn race_command(args: &RaceArgs) -> Result<Output, CliError> {
    let setup = lab_setup(&args.common)?;
    let (surface, steps, seed, target) = (&setup.surface, setup.steps, setup.seed, setup.target);
    let (k, region, opts) = lab_comparison(&setup, &args.cmp, "race")?;
    if let Some(p) = &args.runs_csv {
        check_folder_of(p)?;
    }
    let starts = optiscape_core::lab::uniform_starts(region, k, seed);
    let mut rows = Vec::new();
    for (i, opt) in opts.iter().enumerate() {
        progress(&format!("race: {} ({}/{})", opt.id, i + 1, opts.len()));
        rows.extend(
            optiscape_core::lab::race_with(
                surface,
                std::slice::from_ref(opt),
                &starts,
                steps,
                seed,
                target,
                setup.precision,
                &optiscape_core::lab::Progress::default(),
            )
            .ok_or_else(|| CliError("the race was cancelled before it finished".into()))?,
        );
        // Every run's end is kept only for `--runs-csv` (72 bytes a run: a race of millions of
        // starts and many methods would otherwise hold gigabytes).
        if args.runs_csv.is_none()
            && let Some(last) = rows.last_mut()
        {
            last.ends = Vec::new();
        }
    }
    progress("");
    if let Some(path) = &args.runs_csv {
        let mut s = String::from("method,run,x0,y0,x,y,loss,updates,first_success,diverged\n");
        for r in &rows {
            for (i, e) in r.ends.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "{},{i},{:?},{:?},{:?},{:?},{:?},{},{},{}",
                    r.method,
                    e.start.x,
                    e.start.y,
                    e.end.x,
                    e.end.y,
                    e.loss,
                    e.steps,
                    e.first_success.map(|v| v.to_string()).unwrap_or_default(),
                    e.status == optiscape_core::lab::RunStatus::Diverged
                );
            }
        }
        std::fs::write(path, s)
            .map_err(|e| CliError(format!("could not write {}: {e}", path.display())))?;
    }
    let mut out = Output::default();
    out.notes.push(format!(
        "{} starts per method, {steps} updates each; success = final loss within {} of the global minimum {}",
        starts.len(),
        target.tol,
        target.value
    ));
    out.notes.push(
        "95% intervals: Wilson for rates, bootstrap (1000 resamples) for the ERT (expected updates to reach the minimum with restarts); see docs/guide.md".into(),
    );
    out.stdout = match args.format {
        TableFormat::Json => {
            let doc = optiscape_core::lab::report::race(
                surface,
                starts.len(),
                steps,
                seed,
                target,
                &rows,
            );
            let mut s = serde_json::to_string_pretty(&doc)
                .map_err(|e| CliError(format!("could not write JSON: {e}")))?;
            s.push('\n');
            s
        }
        TableFormat::Csv => {
            let mut s = String::from(
                "method,runs,success_rate,mean_loss,median_loss,median_steps_to_success,diverged,seconds,success_rate_low,success_rate_high,reached_rate,ert,ert_low,ert_high\n",
            );
            for r in &rows {
                let _ = writeln!(
                    s,
                    "{},{},{:?},{},{},{},{},{:.3},{:?},{:?},{:?},{},{},{}",
                    r.method,
                    r.runs,
                    r.success_rate,
                    csv_opt(r.mean_loss),
                    csv_opt(r.median_loss),
                    csv_opt(r.median_steps_to_success),
                    r.diverged,
                    r.seconds,
                    r.success_rate_low,
                    r.success_rate_high,
                    r.reached_rate,
                    csv_opt(r.ert),
                    csv_opt(r.ert_low),
                    csv_opt(r.ert_high),
                );
            }
            s
        }
        TableFormat::Table => {
            let mut s = format!(
                "{:<22} {:>6} {:>8} {:>15} {:>8} {:>22} {:>12} {:>8} {:>8}\n",
                "method",
                "runs",
                "success",
                "95% interval",
                "reached",
                "ERT [95% interval]",
                "median loss",
                "diverged",
                "seconds"
            );
            for r in &rows {
                let _ = writeln!(
                    s,
                    "{:<22} {:>6} {:>7.1}% {:>15} {:>7.1}% {:>22} {:>12} {:>8} {:>8.2}",
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
                    fmt_opt(r.median_loss),
                    r.diverged,
                    r.seconds
                );
            }
            s
        }
    };
    Ok(out)
}

/// `optiscape basins`.
pub fn basins_command(args: &BasinsArgs) -> Result<Output, CliError> {
    let setup = lab_setup(&args.common)?;
    let (surface, steps, seed, target) = (&setup.surface, setup.steps, setup.seed, setup.target);
    let r = optiscape_core::setup::parse_resolution(&args.resolution)?;
    let mut opt = setup.method(args.method.as_deref())?;
    apply_settings(&mut opt, &args.set)?;
    for p in [&args.out, &args.csv].into_iter().flatten() {
        check_folder_of(p)?;
    }
    progress(&format!("basins: {} x {r} runs of {}", r, opt.id));
    let map = optiscape_core::lab::basins::basins_with(
        surface,
        &opt,
        r as usize,
        steps,
        seed,
        target,
        setup.precision,
        &optiscape_core::lab::Progress::default(),
    )
    .ok_or_else(|| CliError("the basin map was cancelled before it finished".into()))?;
    progress("");
    let mut out = Output::default();
    if let Some(path) = &args.out {
        optiscape_core::lab::basins::image(&map, 512)
            .save(path)
            .map_err(|e| CliError(format!("could not write {}: {e}", path.display())))?;
        out.notes.push(format!("wrote {}", path.display()));
    }
    if let Some(path) = &args.csv {
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
    if args.json {
        let doc = optiscape_core::lab::report::basins(surface, &opt.id, steps, target, &map);
        out.stdout = serde_json::to_string_pretty(&doc)
            .map_err(|e| CliError(format!("could not write JSON: {e}")))?;
        out.stdout.push('\n');
    } else {
        let _ = writeln!(
            out.stdout,
            "{} on {}: {:.1}% of the domain reaches a global minimum, {:.1}% diverges, {:.1}% is still moving after {steps} updates; {} distinct minima found",
            opt.id,
            surface.id(),
            100.0 * map.global_fraction,
            100.0 * map.diverged_fraction,
            100.0 * map.unsettled_fraction,
            map.minima.len()
        );
    }
    Ok(out)
}

/// `optiscape sweep`.
pub fn sweep_command(args: &SweepArgs) -> Result<Output, CliError> {
    let setup = lab_setup(&args.common)?;
    let (surface, steps, seed, target) = (&setup.surface, setup.steps, setup.seed, setup.target);
    let mut opt = setup.method(args.method.as_deref())?;
    apply_settings(&mut opt, &args.set)?;
    let (lo, hi) = optiscape_core::lab::sweep::parse_range(&args.range)?;
    let points = parse_count("--points", &args.points, 1)?.min(1000) as usize;
    let k = parse_count("--starts", &args.starts, 1)?;
    if k > 1_000_000 {
        return Err(CliError(format!(
            "--starts must be at most 1000000 (got {k})"
        )));
    }
    let log = optiscape_core::lab::sweep::sweep_param(&opt, &args.param, lo, hi)?.log;
    if let Some(p) = &args.out {
        check_folder_of(p)?;
    }
    let values = optiscape_core::lab::sweep::grid(lo, hi, points, log);
    let starts = optiscape_core::lab::uniform_starts(surface.domain, k as usize, seed);
    progress(&format!("sweep: {} values of {}", values.len(), args.param));
    let rows = optiscape_core::lab::sweep::sweep(
        surface,
        &opt,
        &args.param,
        &values,
        &starts,
        steps,
        seed,
        target,
        setup.precision,
        &optiscape_core::lab::Progress::default(),
    )
    .map_err(CliError)?;
    progress("");
    let mut out = Output::default();
    let mut s = format!("{},success_rate,median_loss,diverged\n", args.param);
    for r in &rows {
        let _ = writeln!(
            s,
            "{:?},{:?},{},{}",
            r.value,
            r.success_rate,
            csv_opt(r.median_loss),
            r.diverged
        );
    }
    out.stdout = s;
    if let Some(path) = &args.out {
        let title = format!(
            "{} on {}: {} starts x {steps} steps",
            opt.id,
            surface.spec(),
            starts.len()
        );
        optiscape_core::lab::sweep::chart(&rows, log, target.value, &args.param, &title)
            .save(path)
            .map_err(|e| CliError(format!("could not write {}: {e}", path.display())))?;
        out.notes.push(format!("wrote {}", path.display()));
    }
    Ok(out)
}
