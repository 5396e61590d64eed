//! `optiscape train`: whole networks trained from K seeded initializations per method, with the
//! lab's statistics (success against a training-loss target, ERT, ECDFs, worse minima), and the
//! files to replay any run in PyTorch (`--weights`, `--data-csv`).

use super::lab::{
    check_outputs, csv_opt, fmt_ert, fmt_full, fmt_opt, json_text, save_png, write_file,
};
use super::progress::with_progress;
use super::{CliError, Output, PrecisionArg, TableFormat, TrainArgs};
use optiscape_core::lab::Progress;
use optiscape_core::lab::ecdf::chart;
use optiscape_core::lab::phase::heatmap;
use optiscape_core::lab::train::paths::{PATH_POINTS, path_panels, paths_chart};
use optiscape_core::lab::train::phase::{TrainPhaseSpec, phase_runs, train_phase};
use optiscape_core::lab::train::tune::tuning_map;
use optiscape_core::lab::train::{
    Fate, TrainRow, TrainSetup, TrainSpec, TrainStudy, study, study_runs,
};
use optiscape_core::net::FitRun;
use optiscape_core::optim::Optimizer;
use optiscape_core::optim::method_color;
use std::fmt::Write as _;

/// The command line's options as the core's [`TrainSpec`] (the Python package builds the same).
fn spec_of(args: &TrainArgs) -> TrainSpec {
    TrainSpec {
        data: args.data.clone(),
        points: args.points.clone(),
        test_points: args.test_points.clone(),
        noise: args.noise.clone(),
        data_seed: args.data_seed.clone(),
        test_every: args.test_every.clone(),
        layers: args.layers.clone(),
        activation: args.activation.clone(),
        loss: args.loss.clone(),
        weight_decay: args.weight_decay.clone(),
        init: args.init.clone(),
        methods: args.methods.methods.clone(),
        sets: args.methods.set.clone(),
        starts: args.starts.clone(),
        steps: args.steps.clone(),
        seed: args.seed.clone(),
        precision: Some(
            match args.precision {
                PrecisionArg::F64 => "f64",
                PrecisionArg::F32 => "f32",
            }
            .into(),
        ),
        target: args.target.clone(),
        tol: args.tol.clone(),
        gtol: args.gtol.clone(),
        tune_budget: args.tune_budget.clone(),
    }
}

/// Each row's color: its method's; with tuning, the defaults' rows in a grayer shade of it.
fn row_colors(st: &optiscape_core::lab::train::TrainStudy) -> Vec<[f32; 3]> {
    st.methods
        .iter()
        .zip(&st.opts)
        .enumerate()
        .map(|(i, (name, o))| {
            let c = method_color(&o.id, i);
            if !st.tuning.is_empty() && !name.ends_with(" tuned") {
                c.map(|v| 0.5 * v + 0.5 * 0.7)
            } else {
                c
            }
        })
        .collect()
}

/// The notes every `train` output ends with: the network and the data, and what success and
/// a worse minimum mean against `target`.
fn setup_notes(s: &TrainSetup, per: &str, lowest: f64, target: f64) -> Vec<String> {
    vec![
        format!(
            "{} {} network{} ({} parameters, {} init) on {} ({} training, {} test points); {} runs per {}, {} full-batch updates each, {}",
            s.net.sizes_text(),
            s.net.activation.name(),
            if s.net.weight_decay > 0.0 {
                format!(" with L2 {}", s.net.weight_decay)
            } else {
                String::new()
            },
            s.net.params(),
            s.init.name(),
            s.data.name,
            s.data.train.len(),
            s.data.test.len(),
            s.starts,
            per,
            s.steps,
            s.precision.name()
        ),
        match s.target {
            Some(t) => format!(
                "success = a final training loss at most {t} (--target); the lowest any run found is {lowest:?}"
            ),
            None => format!(
                "success = a final training loss at most {target:?}: the lowest any run found ({lowest:?}) + {} (--tol)",
                s.tol
            ),
        },
        format!(
            "worse minimum = ended above the target with a gradient norm at most {} (--gtol): settled in a worse minimum or a saddle; still descending = above the target with a larger gradient",
            s.gtol
        ),
    ]
}

/// `optiscape train --y ...`: one method's phase map over two of its hyperparameters.
fn train_phase_command(
    args: &TrainArgs,
    setup: TrainSetup,
    opts: &[Optimizer],
    y: &str,
) -> Result<Output, CliError> {
    for (given, flag) in [
        (args.paths.is_some(), "--paths"),
        (args.weights.is_some(), "--weights"),
        (args.tune_map.is_some(), "--tune-map"),
    ] {
        if given {
            return Err(CliError(format!(
                "--y draws a phase map, which does not take {flag}: train without --y for it"
            )));
        }
    }
    let (opt, x, y) = TrainPhaseSpec {
        x: args.x.clone(),
        y: y.to_string(),
        grid: args.grid.clone(),
        log_x: args.log_x,
        log_y: args.log_y,
    }
    .axes(opts)?;
    let (p, q) = (x.values().len(), y.values().len());
    check_outputs(&args.output, args.out.as_ref())?;
    if let Some(path) = &args.data_csv {
        write_file(path, &setup.data.train_csv())?;
    }
    let state = Progress::default();
    let total = phase_runs(&setup, &x, &y) as u64;
    let map = with_progress("train", total, &state, || {
        train_phase(setup, &opt, &x, &y, &state)
    })??;
    if map.study.cancelled {
        return Err(CliError(
            "the training was cancelled before it finished".into(),
        ));
    }
    let st = &map.study;
    let s = &st.setup;
    if let Some(path) = &args.output.csv {
        let mut csv = format!("x_value,y_value,{RUN_COLUMNS}\n");
        for ((xv, yv), runs) in map.values.iter().zip(&st.runs) {
            for (i, r) in runs.iter().enumerate() {
                let _ = writeln!(csv, "{xv:?},{yv:?},{}", run_line(r, i, st));
            }
        }
        write_file(path, &csv)?;
    }
    if let Some(path) = &args.out {
        let title = format!("{} on {}, {} updates", map.method, s.data.name, s.steps);
        save_png(path, &heatmap(&map.phase_cells(), &x, &y, &title))?;
    }
    let mut out = Output::default();
    out.notes
        .extend(setup_notes(s, "cell", st.lowest, st.target));
    if let Some(((bx, by), b)) = map.best() {
        out.notes.push(format!(
            "best cell: {}={} {}={}: success {:.1}%, ERT {}, worse minimum {:.1}%",
            x.name,
            fmt_full(bx),
            y.name,
            fmt_full(by),
            100.0 * b.success_rate,
            fmt_opt(b.ert),
            100.0 * b.worse_minimum_rate
        ));
    }
    out.notes.push(format!(
        "{p} x {q} cells of {}, each a row of the study against the map's one target; 95% intervals as in train's rows (docs/guide.md, \"Phase maps of training\")",
        map.method
    ));
    let cells: Vec<(String, &TrainRow)> = map
        .cells()
        .map(|((xv, yv), r)| (format!("{xv:?},{yv:?}"), r))
        .collect();
    out.stdout = match args.output.format {
        TableFormat::Json => json_text(&optiscape_core::lab::report::train_phase(&map))?,
        TableFormat::Csv => {
            let mut csv = format!("x_value,y_value,{ROW_COLUMNS}\n");
            for (xy, r) in &cells {
                let _ = writeln!(csv, "{xy},{}", row_csv(r));
            }
            csv
        }
        TableFormat::Table => {
            let named: Vec<&TrainRow> = cells.iter().map(|(_, r)| *r).collect();
            row_table(s, &named, &format!("{} {}", x.name, y.name))
        }
    };
    Ok(out)
}

/// `optiscape train`.
pub fn train_command(args: &TrainArgs) -> Result<Output, CliError> {
    let (mut setup, opts) = spec_of(args).setup()?;
    if let Some(y) = &args.y {
        return train_phase_command(args, setup, &opts, y);
    }
    check_outputs(&args.output, args.out.as_ref())?;
    for p in [
        args.weights.as_ref(),
        args.data_csv.as_ref(),
        args.paths.as_ref(),
        args.tune_map.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        optiscape_core::setup::check_folder_of(p)?;
    }
    setup.keep_weights = args.weights.is_some();
    if args.tune_map.is_some() && setup.tune_budget < 2 {
        return Err(CliError(
            "--tune-map draws the tuning: give --tune-budget 2 or more".into(),
        ));
    }
    if args.paths.is_some() {
        setup.path_runs = 1;
        setup.path_every = (setup.steps / PATH_POINTS).max(1);
    }
    if let Some(path) = &args.data_csv {
        write_file(path, &setup.data.train_csv())?;
    }
    let state = Progress::default();
    let total = study_runs(&setup, &opts) as u64;
    let st = with_progress("train", total, &state, || study(setup, &opts, &state))?;
    if st.cancelled {
        return Err(CliError(
            "the training was cancelled before it finished".into(),
        ));
    }
    let s = &st.setup;
    if let Some(path) = &args.weights {
        write_file(
            path,
            &json_text(&optiscape_core::lab::report::train_weights(&st))?,
        )?;
    }
    if let Some(path) = &args.output.csv {
        let mut csv = format!("method,{RUN_COLUMNS}\n");
        for (m, runs) in st.methods.iter().zip(&st.runs) {
            for (i, r) in runs.iter().enumerate() {
                let _ = writeln!(csv, "{m},{}", run_line(r, i, &st));
            }
        }
        write_file(path, &csv)?;
    }
    if let Some(path) = &args.out {
        let colors = row_colors(&st);
        let title = format!(
            "ECDF of training loss: {} {} on {}, {} runs",
            s.net.sizes_text(),
            s.net.activation.name(),
            s.data.name,
            s.starts
        );
        save_png(path, &chart(&st.ecdf, &colors, &title))?;
    }
    let mut out = Output::default();
    if let Some(path) = &args.tune_map {
        let title = format!(
            "Tuning: {} {} on {}, {} updates",
            s.net.sizes_text(),
            s.net.activation.name(),
            s.data.name,
            s.steps
        );
        save_png(path, &tuning_map(&st.tuning, &title))?;
    }
    if let Some(path) = &args.paths {
        let mut shown = Vec::new();
        let mut colors = Vec::new();
        let all_colors = row_colors(&st);
        for (i, panel) in path_panels(&st, 0, 96).into_iter().enumerate() {
            match panel {
                Ok(p) => {
                    shown.push(p);
                    colors.push(all_colors[i]);
                }
                Err(e) => out.notes.push(format!("--paths: {e}; not drawn")),
            }
        }
        if shown.is_empty() {
            return Err(CliError(
                "--paths: no method's path spans a plane (too few updates?)".into(),
            ));
        }
        let title = format!(
            "Training paths: {} {} on {}",
            s.net.sizes_text(),
            s.net.activation.name(),
            s.data.name
        );
        save_png(path, &paths_chart(&shown, &colors, &title))?;
    }
    out.notes
        .extend(setup_notes(s, "method", st.lowest, st.target));
    for t in &st.tuning {
        let values: Vec<String> = t.params.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let won = t.tried.iter().find(|x| x.params == t.params);
        out.notes.push(format!(
            "{} tuned: {} (best of {} settings by median final training loss on {} tuning initializations of seed {}: {})",
            t.method,
            values.join(", "),
            t.tried.len(),
            t.starts,
            t.seed,
            won.and_then(|w| w.median_loss).map_or("–".into(), |v| format!("{v:.4e}"))
        ));
    }
    out.notes.push("95% intervals: Wilson for rates, bootstrap (1000 resamples) for the ERT (expected updates to reach the target with restarts); see docs/guide.md".into());
    out.stdout = match args.output.format {
        TableFormat::Json => json_text(&optiscape_core::lab::report::train(&st))?,
        TableFormat::Csv => {
            let mut csv = format!("method,{ROW_COLUMNS}\n");
            for r in &st.rows {
                let _ = writeln!(csv, "{},{}", r.method, row_csv(r));
            }
            csv
        }
        TableFormat::Table => row_table(s, &st.rows.iter().collect::<Vec<_>>(), "method"),
    };
    Ok(out)
}

/// The columns of `--csv`'s line per run, after the row's name.
const RUN_COLUMNS: &str = "run,fate,updates,first_success_update,final_loss,lowest,grad_norm,train_accuracy,test_loss,test_accuracy";

/// Run `i`'s line of `--csv`, against the study's target.
fn run_line(r: &FitRun, i: usize, st: &TrainStudy) -> String {
    format!(
        "{i},{},{},{},{:?},{:?},{:?},{:?},{:?},{:?}",
        Fate::of(r, st.target, st.setup.gtol).name(),
        r.updates,
        r.first_at_most(st.target)
            .map(|u| u.to_string())
            .unwrap_or_default(),
        r.final_loss,
        r.lowest(),
        r.grad_norm,
        r.train_accuracy,
        r.test_loss,
        r.test_accuracy
    )
}

/// The columns of `--format csv`'s line per row, after the row's name.
const ROW_COLUMNS: &str = "runs,success_rate,success_rate_low,success_rate_high,reached_rate,ert,ert_low,ert_high,median_updates_to_success,diverged,worse_minimum_rate,worse_minimum_low,worse_minimum_high,still_descending_rate,best_final_loss,median_final_loss,median_test_loss,mean_test_accuracy,median_test_accuracy,mean_train_accuracy,seconds";

/// A row's line of `--format csv`, after its name.
fn row_csv(r: &TrainRow) -> String {
    format!(
        "{},{:?},{:?},{:?},{:?},{},{},{},{},{},{:?},{:?},{:?},{:?},{},{},{},{},{},{},{:.3}",
        r.runs,
        r.success_rate,
        r.success_rate_low,
        r.success_rate_high,
        r.reached_rate,
        csv_opt(r.ert),
        csv_opt(r.ert_low),
        csv_opt(r.ert_high),
        csv_opt(r.median_updates_to_success),
        r.diverged,
        r.worse_minimum_rate,
        r.worse_minimum_low,
        r.worse_minimum_high,
        r.still_descending_rate,
        csv_opt(r.best_final_loss),
        csv_opt(r.median_final_loss),
        csv_opt(r.median_test_loss),
        csv_opt(r.mean_test_accuracy),
        csv_opt(r.median_test_accuracy),
        csv_opt(r.mean_train_accuracy),
        r.seconds
    )
}

/// The aligned table of rows (methods, or a phase map's cells), the first column headed
/// `first` and as wide as its longest name.
fn row_table(s: &TrainSetup, rows: &[&TrainRow], first: &str) -> String {
    let accuracy = if s.data.classes() > 0 {
        "test accuracy"
    } else {
        "test MSE"
    };
    let w = rows
        .iter()
        .map(|r| r.method.chars().count())
        .chain([16, first.chars().count()])
        .max()
        .unwrap_or(16);
    let mut t = format!(
        "{:<w$} {:>6} {:>8} {:>15} {:>8} {:>22} {:>13} {:>15} {:>10} {:>8} {:>12} {:>13} {:>8}\n",
        first,
        "runs",
        "success",
        "95% interval",
        "reached",
        "ERT [95% interval]",
        "worse minimum",
        "95% interval",
        "descending",
        "diverged",
        "median loss",
        accuracy,
        "seconds"
    );
    let pct = |v: f64| format!("{:.1}%", 100.0 * v);
    let iv = |lo: f64, hi: f64| format!("[{:.1}, {:.1}]", 100.0 * lo, 100.0 * hi);
    for r in rows {
        let _ = writeln!(
            t,
            "{:<w$} {:>6} {:>8} {:>15} {:>8} {:>22} {:>13} {:>15} {:>10} {:>8} {:>12} {:>13} {:>8.2}",
            r.method,
            r.runs,
            pct(r.success_rate),
            iv(r.success_rate_low, r.success_rate_high),
            pct(r.reached_rate),
            fmt_ert(r.ert, r.ert_low, r.ert_high),
            pct(r.worse_minimum_rate),
            iv(r.worse_minimum_low, r.worse_minimum_high),
            pct(r.still_descending_rate),
            r.diverged,
            fmt_opt(r.median_final_loss),
            match (s.data.classes() > 0, r.mean_test_accuracy) {
                (true, Some(a)) => pct(a),
                (false, Some(a)) => fmt_opt(Some(a)),
                (_, None) => "–".into(),
            },
            r.seconds
        );
    }
    t
}
