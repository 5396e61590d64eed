//! The fair-comparison commands: `ecdf` (runtime distributions), `tune` (hyperparameters
//! searched, then tuned and default settings compared on held-out starts) and `phase` (success
//! over a grid of two hyperparameters). Setups go through the same helpers as `race`.

use super::lab::{
    COMMON_METHODS, check_outputs, csv_opt, fmt_ert, fmt_full, fmt_opt, json_text, lab_doc,
    lab_methods, lab_setup, lab_starts, one_method, save_png, write_file,
};
use super::progress::with_progress;
use super::{BudgetUnit, CliError, EcdfArgs, Output, PhaseArgs, TableFormat, TuneArgs};
use optiscape_core::lab::ecdf::{EcdfCurve, EvalScale, chart, ecdf, ecdf_in_evals, targets};
use optiscape_core::lab::phase::{heatmap, phase};
use optiscape_core::lab::tune::{TuneSetup, held_out_seed, total_runs, tune};
use optiscape_core::lab::{Progress, RaceRow, uniform_starts};
use optiscape_core::optim::method_color;
use serde_json::{Value, json};
use std::fmt::Write as _;

/// `optiscape ecdf`.
pub fn ecdf_command(args: &EcdfArgs) -> Result<Output, CliError> {
    let setup = lab_setup(&args.common, Some(&args.run))?;
    let (surface, steps, seed, target) = (&setup.surface, setup.steps, setup.seed, setup.target);
    let (k, region) = lab_starts(&setup, &args.starts)?;
    let opts = lab_methods(&setup, &args.methods, "all", "comparison")?;
    check_outputs(&args.output, args.out.as_ref())?;
    let starts = uniform_starts(region, k, seed);
    let targets = targets(surface, target, &starts);
    let state = Progress::default();
    // `--budget-unit evals`: every method given `--steps` evaluations, the curves over
    // evaluations on the one cost scale.
    let scale = match args.cost.budget_unit {
        BudgetUnit::Updates => None,
        BudgetUnit::Evals => Some(EvalScale {
            evals: steps,
            grad_cost: super::lab::grad_cost(&args.cost)?,
        }),
    };
    let unit = if scale.is_some() { "evals" } else { "updates" };
    let curves_against = |target| {
        let mut curves = Vec::new();
        for opt in &opts {
            let one = std::slice::from_ref(opt);
            curves.extend(match scale {
                Some(scale) => ecdf_in_evals(
                    surface,
                    one,
                    &starts,
                    scale,
                    seed,
                    target,
                    &targets,
                    setup.precision,
                    &state,
                )?,
                None => ecdf(
                    surface,
                    one,
                    &starts,
                    steps,
                    seed,
                    target,
                    &targets,
                    setup.precision,
                    &state,
                )?,
            });
        }
        Some(curves)
    };
    let curves = with_progress("ecdf", (k * opts.len()) as u64, &state, || {
        let curves = curves_against(target)?;
        // An estimated minimum beaten by a run of one method is lowered for all of them.
        match optiscape_core::lab::ecdf::ecdf_target(target, &curves) {
            lowered if lowered.lowered => {
                state.done.store(0, std::sync::atomic::Ordering::Relaxed);
                curves_against(lowered)
            }
            _ => Some(curves),
        }
    })?
    .ok_or_else(|| CliError("cancelled".into()))?;
    let target = optiscape_core::lab::ecdf::ecdf_target(target, &curves);
    let mut csv = format!("method,{unit},fraction\n");
    for c in &curves {
        for (b, f) in c.budgets.iter().zip(&c.fractions) {
            let _ = writeln!(csv, "{},{b},{f:?}", c.method);
        }
    }
    if let Some(path) = &args.output.csv {
        write_file(path, &csv)?;
    }
    if let Some(path) = &args.out {
        let colors: Vec<[f32; 3]> = opts
            .iter()
            .enumerate()
            .map(|(i, o)| method_color(&o.id, i))
            .collect();
        let title = format!("ECDF on {}: {} starts", surface.spec(), starts.len());
        save_png(path, &chart(&curves, &colors, &title))?;
    }
    let stdout = match args.output.format {
        TableFormat::Csv => csv,
        TableFormat::Json => {
            let methods: Vec<Value> = curves
                .iter()
                .map(|c| {
                    let mut v = json!({"method": c.method, "fractions": c.fractions});
                    v[unit] = json!(c.budgets);
                    v
                })
                .collect();
            let mut doc = lab_doc(
                &setup,
                // The minimum counted against (an estimate the runs beat is lowered).
                json!({"starts": starts.len(), "target": target, "targets": targets, "methods": methods}),
            );
            doc["steps_unit"] = json!(unit);
            if let Some(scale) = scale {
                doc["grad_cost"] = json!(scale.grad_cost);
            }
            json_text(&doc)?
        }
        TableFormat::Table => ecdf_table(&curves, steps),
    };
    let mut out = Output {
        stdout,
        notes: Vec::new(),
    };
    if let Some(scale) = scale {
        out.notes.push(format!(
            "--steps {steps} counts evaluations: a function value 1, a gradient with its value {} (update rules run {} updates; the methods that ask for evaluations are counted evaluation by evaluation)",
            scale.grad_cost,
            steps / scale.grad_cost
        ));
    }
    out.notes.push(format!(
        "share of (run, target) pairs reached within N {}; {} starts, 51 targets of precision (lowest loss inside the domain minus the {} minimum {}) from the starts' median precision {} down to {} (see docs/guide.md)",
        if scale.is_some() {
            "evaluations"
        } else {
            "updates"
        },
        starts.len(),
        target.minimum_kind(),
        target.value,
        optiscape_core::setup::fmt_num(targets[0]),
        optiscape_core::setup::fmt_num(targets[50])
    ));
    out.notes.extend(setup.precision_note());
    Ok(out)
}

/// ECDF curves as the table `ecdf` prints: the fraction at a few numbers of updates (also
/// `tune`'s held-out curves).
fn ecdf_table(curves: &[EcdfCurve], steps: u64) -> String {
    let marks: Vec<u64> = [10, 100, 1000, 10_000]
        .into_iter()
        .filter(|b| *b < steps)
        .chain([steps])
        .collect();
    let mut s = format!("{:<22}", "method");
    for b in &marks {
        let _ = write!(s, " {:>12}", format!("<= {b}"));
    }
    s.push('\n');
    for c in curves {
        let _ = write!(s, "{:<22}", c.method);
        for m in &marks {
            let i = c.budgets.partition_point(|b| b <= m).saturating_sub(1);
            let _ = write!(s, " {:>11.1}%", 100.0 * c.fractions[i]);
        }
        s.push('\n');
    }
    s
}

/// `optiscape tune`.
pub fn tune_command(args: &TuneArgs) -> Result<Output, CliError> {
    let setup = lab_setup(&args.common, Some(&args.run))?;
    let (k, region) = lab_starts(&setup, &args.starts)?;
    let opts = lab_methods(&setup, &args.methods, COMMON_METHODS, "tuning")?;
    let trials = optiscape_core::setup::parse_budget(&args.trials)?;
    check_outputs(&args.output, args.out.as_ref())?;
    let ts = TuneSetup {
        region,
        starts: k,
        steps: setup.steps,
        budget: trials as usize,
        seed: setup.seed,
        target: setup.target,
        precision: setup.precision,
        grad_cost: super::lab::grad_cost(&args.cost)?,
        // With `--budget-unit evals` the held-out runtime distributions count evaluations.
        evals: (args.cost.budget_unit == BudgetUnit::Evals).then_some(setup.steps),
    };
    let evals = args.cost.budget_unit == BudgetUnit::Evals;
    let state = Progress::default();
    let total = total_runs(&opts, ts.budget, k);
    // With `--budget-unit evals` `tune` gives each method `--steps` evaluations (an update rule
    // steps / C updates).
    let rows = with_progress("tune", total as u64, &state, || {
        tune(&setup.surface, &opts, &ts, &state)
    })??
    .ok_or_else(|| CliError("cancelled".into()))?;
    let mut out = Output::default();
    out.notes.push(format!(
        "{k} tuning starts and {k} held-out starts, {} {} each, {} settings per method (at most); tuned and default compared on the held-out starts; settings ranked by ERT in evaluations (a gradient with its value costs {})",
        ts.steps,
        if evals { "evaluations" } else { "updates" },
        ts.budget,
        ts.grad_cost
    ));
    out.notes.extend(setup.precision_note());
    let params_text = |r: &optiscape_core::lab::tune::TuneRow| -> String {
        r.params
            .iter()
            .map(|(k, v)| format!("{k}={}", fmt_full(*v)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut csv = String::from(
        "method,params,settings_tried,success_rate,ert,ert_low,ert_high,default_success_rate,default_ert,default_ert_low,default_ert_high\n",
    );
    for r in &rows {
        let _ = writeln!(
            csv,
            "{},{},{},{:?},{},{},{},{:?},{},{},{}",
            r.method,
            params_text(r),
            r.settings_tried,
            r.success_rate,
            csv_opt(r.ert),
            csv_opt(r.ert_low),
            csv_opt(r.ert_high),
            r.default_success_rate,
            csv_opt(r.default_ert),
            csv_opt(r.default_ert_low),
            csv_opt(r.default_ert_high),
        );
    }
    if let Some(path) = &args.output.csv {
        write_file(path, &csv)?;
    }
    out.stdout = match args.output.format {
        TableFormat::Json => {
            let mut doc = optiscape_core::lab::report::tune(&setup.surface, &ts, &rows);
            doc["steps_unit"] = json!(if evals { "evals" } else { "updates" });
            json_text(&doc)?
        }
        TableFormat::Csv => csv,
        TableFormat::Table => {
            // With `--budget-unit evals` the ERTs are in evaluations (the one scale the
            // methods share); else in updates.
            let (ert_head, default_head) = if evals {
                ("ERT evals [95%]", "default ERT evals [95%]")
            } else {
                ("ERT [95%]", "default ERT [95%]")
            };
            let ert_of = |r: &RaceRow| {
                if evals {
                    fmt_ert(r.ert_evals, r.ert_evals_low, r.ert_evals_high)
                } else {
                    fmt_ert(r.ert, r.ert_low, r.ert_high)
                }
            };
            let mut s = format!(
                "{:<22} {:<36} {:>8} {:>22} {:>8} {:>22}\n",
                "method", "tuned", "success", ert_head, "default", default_head
            );
            for r in &rows {
                let _ = writeln!(
                    s,
                    "{:<22} {:<36} {:>7.1}% {:>22} {:>7.1}% {:>22}",
                    r.method,
                    params_text(r),
                    100.0 * r.success_rate,
                    ert_of(&r.held_out),
                    100.0 * r.default_success_rate,
                    ert_of(&r.default_held_out),
                );
            }
            let race: Vec<RaceRow> = rows.iter().map(|r| r.held_out.clone()).collect();
            let curves: Vec<EcdfCurve> = rows.iter().map(|r| r.held_out_ecdf.clone()).collect();
            let _ = write!(
                s,
                "\nthe tuned settings on the {k} held-out starts (seed {}): race\n{}",
                held_out_seed(ts.seed),
                super::lab::race_table(&race, false),
            );
            let _ = write!(
                s,
                "\nruntime distributions (share of (run, target) pairs reached within N {})\n{}",
                if evals { "evaluations" } else { "updates" },
                ecdf_table(&curves, ts.steps)
            );
            s
        }
    };
    if let Some(path) = &args.out {
        let curves: Vec<EcdfCurve> = rows.iter().map(|r| r.held_out_ecdf.clone()).collect();
        let colors: Vec<[f32; 3]> = opts
            .iter()
            .enumerate()
            .map(|(i, o)| method_color(&o.id, i))
            .collect();
        let title = format!(
            "ECDF on {}, tuned, {k} held-out starts",
            setup.surface.spec()
        );
        save_png(path, &chart(&curves, &colors, &title))?;
    }
    Ok(out)
}

/// `optiscape phase`.
pub fn phase_command(args: &PhaseArgs) -> Result<Output, CliError> {
    let setup = lab_setup(&args.common, Some(&args.run))?;
    let (surface, steps, seed, target) = (&setup.surface, setup.steps, setup.seed, setup.target);
    let opt = one_method(&setup, &args.methods, "phase")?;
    let (opt, steps) = super::lab::budgeted(&opt, steps, &args.cost)?;
    let (x, y) = optiscape_core::lab::phase::axes(
        &opt,
        args.x.as_deref(),
        &args.y,
        "--points",
        &args.points,
        args.log_x,
        args.log_y,
    )?;
    let (p, q) = (x.points, y.points);
    let (k, region) = lab_starts(&setup, &args.starts)?;
    check_outputs(&args.output, args.out.as_ref())?;
    let starts = uniform_starts(region, k, seed);
    let state = Progress::default();
    let total = p * q * k;
    // With `--budget-unit evals`, the cells' ERTs count evaluations (every method's).
    let ert_cost = (args.cost.budget_unit == BudgetUnit::Evals)
        .then(|| super::lab::grad_cost(&args.cost))
        .transpose()?;
    let cells = with_progress("phase", total as u64, &state, || {
        phase(
            surface,
            &opt,
            &x,
            &y,
            &starts,
            steps,
            seed,
            target,
            setup.precision,
            ert_cost,
            &state,
        )
    })??
    .ok_or_else(|| CliError("cancelled".into()))?;
    let mut csv = String::from("x_value,y_value,success_rate,ert\n");
    for c in &cells {
        let _ = writeln!(
            csv,
            "{:?},{:?},{:?},{}",
            c.x_value,
            c.y_value,
            c.success_rate,
            csv_opt(c.ert)
        );
    }
    if let Some(path) = &args.output.csv {
        write_file(path, &csv)?;
    }
    if let Some(path) = &args.out {
        let title = format!("{} on {}: success rate", opt.id, surface.spec());
        save_png(path, &heatmap(&cells, &x, &y, &title))?;
    }
    let best = cells.iter().max_by(|a, b| {
        a.success_rate.total_cmp(&b.success_rate).then(
            b.ert
                .unwrap_or(f64::INFINITY)
                .total_cmp(&a.ert.unwrap_or(f64::INFINITY)),
        )
    });
    let stdout = match args.output.format {
        TableFormat::Csv => csv,
        TableFormat::Json => {
            let mut doc = lab_doc(
                &setup,
                json!({
                    "method": opt.id,
                    "x": x.name,
                    "y": y.name,
                    "starts": starts.len(),
                    "cells": cells,
                }),
            );
            super::lab::cost_keys(&mut doc, &args.cost)?;
            json_text(&doc)?
        }
        TableFormat::Table => match best {
            Some(b) => format!(
                "best cell: {}={} {}={}: success {:.1}%, ERT {}\n",
                x.name,
                fmt_full(b.x_value),
                y.name,
                fmt_full(b.y_value),
                100.0 * b.success_rate,
                fmt_opt(b.ert)
            ),
            None => String::new(),
        },
    };
    let mut out = Output {
        stdout,
        notes: Vec::new(),
    };
    out.notes.push(format!(
        "{p} x {q} cells, {k} starts each, {}; success = a final point inside the domain with a loss at most {} above the global minimum {} ({}); ERT in {}",
        super::lab::budget_words(&args.cost, setup.steps),
        target.tol,
        target.value,
        target.minimum_kind(),
        if ert_cost.is_some() {
            "evaluations"
        } else {
            "updates"
        }
    ));
    out.notes.extend(setup.precision_note());
    out.notes
        .extend(super::lab::budget_note(&args.cost, &setup, steps)?);
    Ok(out)
}
