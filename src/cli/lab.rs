//! The lab's commands: `list`, `trace`, `race`, `basins`, `sweep`. Each builds its setup from
//! the arguments (through `optiscape_core::setup` and [`super::shared`]), runs the core's lab,
//! and formats the result.

use super::progress::with_progress;
pub(crate) use super::shared::*;
use super::{BasinsArgs, CliError, Output};
use super::{BudgetUnit, RaceArgs, SweepArgs, TableFormat, TraceArgs};
use optiscape_core::lab::{Progress, RunStatus, trace_each};
use optiscape_core::landscape::{Surface, catalog as surfaces};
use optiscape_core::optim::{ParamKind, catalog as methods};
use optiscape_core::setup::check_folder_of;
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
