//! The fair-comparison commands: `ecdf` (runtime distributions), `tune` (hyperparameters
//! searched, then tuned and default settings compared on held-out starts) and `phase` (success
//! over a grid of two hyperparameters). Setups go through the same helpers as `race`.

use super::lab::{csv_opt, fmt_ert, fmt_opt, lab_comparison, lab_setup, lab_starts, progress};
use super::{CliError, EcdfArgs, Output, PhaseArgs, TuneArgs, TuneFormat};
use optiscape_core::lab::ecdf::{chart, coco_targets, ecdf};
use optiscape_core::lab::phase::{PhaseAxis, heatmap, phase};
use optiscape_core::lab::tune::{TuneSetup, total_runs, tune};
use optiscape_core::lab::{Progress, uniform_starts};
use optiscape_core::optim::method_color;
use optiscape_core::setup::{apply_settings, check_folder_of};
use std::fmt::Write as _;

fn write_file(path: &std::path::Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text)
        .map_err(|e| CliError(format!("could not write {}: {e}", path.display())))
}

fn save_png(path: &std::path::Path, img: &image::RgbImage) -> Result<(), CliError> {
    img.save(path)
        .map_err(|e| CliError(format!("could not write {}: {e}", path.display())))
}

/// Runs `work` on a scoped thread while the terminal shows `label: done/total runs` (progress
/// goes to stderr, only on a terminal).
fn with_progress<T: Send>(
    label: &str,
    total: usize,
    state: &Progress,
    work: impl FnOnce() -> T + Send,
) -> Result<T, CliError> {
    let out = std::thread::scope(|scope| {
        let job = scope.spawn(work);
        while !job.is_finished() {
            let done = state.done.load(std::sync::atomic::Ordering::Relaxed);
            progress(&format!("{label}: {done}/{total} runs"));
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        job.join()
    })
    .map_err(|_| CliError(format!("the {label} stopped unexpectedly")));
    progress("");
    out
}

/// `optiscape ecdf`.
pub fn ecdf_command(args: &EcdfArgs) -> Result<Output, CliError> {
    let setup = lab_setup(&args.common)?;
    let (surface, steps, seed, target) = (&setup.surface, setup.steps, setup.seed, setup.target);
    let (k, region, opts) = lab_comparison(&setup, &args.cmp, "comparison")?;
    for p in [&args.out, &args.csv].into_iter().flatten() {
        check_folder_of(p)?;
    }
    let starts = uniform_starts(region, k, seed);
    let targets = coco_targets();
    let mut curves = Vec::new();
    for (i, opt) in opts.iter().enumerate() {
        progress(&format!("ecdf: {} ({}/{})", opt.id, i + 1, opts.len()));
        curves.extend(
            ecdf(
                surface,
                std::slice::from_ref(opt),
                &starts,
                steps,
                seed,
                target,
                &targets,
                setup.precision,
                &Progress::default(),
            )
            .ok_or_else(|| CliError("cancelled".into()))?,
        );
    }
    progress("");
    if let Some(path) = &args.csv {
        let mut s = String::from("method,budget,fraction\n");
        for c in &curves {
            for (b, f) in c.budgets.iter().zip(&c.fractions) {
                let _ = writeln!(s, "{},{b},{f:?}", c.method);
            }
        }
        write_file(path, &s)?;
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
    // The table: the fraction at a few budgets.
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
    for c in &curves {
        let _ = write!(s, "{:<22}", c.method);
        for m in &marks {
            let i = c.budgets.partition_point(|b| b <= m).saturating_sub(1);
            let _ = write!(s, " {:>11.1}%", 100.0 * c.fractions[i]);
        }
        s.push('\n');
    }
    let mut out = Output {
        stdout: s,
        notes: Vec::new(),
    };
    out.notes.push(format!(
        "share of (run, target) pairs reached within N updates; {} starts, 51 targets of |loss - {}| from 1e2 to 1e-8 (see docs/guide.md)",
        starts.len(),
        target.value
    ));
    Ok(out)
}

/// `optiscape tune`.
pub fn tune_command(args: &TuneArgs) -> Result<Output, CliError> {
    let setup = lab_setup(&args.common)?;
    let (k, region, opts) = lab_comparison(&setup, &args.cmp, "tuning")?;
    let budget = optiscape_core::setup::parse_budget(&args.budget)?;
    let ts = TuneSetup {
        region,
        starts: k,
        steps: setup.steps,
        budget: budget as usize,
        seed: setup.seed,
        target: setup.target,
        precision: setup.precision,
    };
    let progress_state = Progress::default();
    let total = total_runs(&opts, ts.budget, k);
    let rows = with_progress("tune", total, &progress_state, || {
        tune(&setup.surface, &opts, &ts, &progress_state)
    })??
    .ok_or_else(|| CliError("cancelled".into()))?;
    let mut out = Output::default();
    out.notes.push(format!(
        "{k} tuning starts and {k} held-out starts, {} updates each, {} settings per method; tuned and default compared on the held-out starts",
        ts.steps, ts.budget
    ));
    out.stdout = match args.format {
        TuneFormat::Json => {
            let doc = optiscape_core::lab::report::tune(&setup.surface, &ts, &rows);
            let mut s = serde_json::to_string_pretty(&doc)
                .map_err(|e| CliError(format!("could not write JSON: {e}")))?;
            s.push('\n');
            s
        }
        TuneFormat::Table => {
            let mut s = format!(
                "{:<22} {:<30} {:>8} {:>22} {:>8} {:>22}\n",
                "method", "tuned", "success", "ERT [95%]", "default", "default ERT [95%]"
            );
            for r in &rows {
                let params: Vec<String> = r
                    .params
                    .iter()
                    .map(|(k, v)| format!("{k}={}", fmt_opt(Some(*v))))
                    .collect();
                let _ = writeln!(
                    s,
                    "{:<22} {:<30} {:>7.1}% {:>22} {:>7.1}% {:>22}",
                    r.method,
                    params.join(" "),
                    100.0 * r.success_rate,
                    fmt_ert(r.ert, r.ert_low, r.ert_high),
                    100.0 * r.default_success_rate,
                    fmt_ert(r.default_ert, r.default_ert_low, r.default_ert_high),
                );
            }
            s
        }
    };
    Ok(out)
}

/// `optiscape phase`.
pub fn phase_command(args: &PhaseArgs) -> Result<Output, CliError> {
    let setup = lab_setup(&args.common)?;
    let (surface, steps, seed, target) = (&setup.surface, setup.steps, setup.seed, setup.target);
    let mut opt = setup.method(args.method.as_deref())?;
    apply_settings(&mut opt, &args.set)?;
    let (p, q) = optiscape_core::lab::phase::parse_grid(&args.points)?;
    let x = PhaseAxis::parse("--x", &opt, &args.x, p, args.log_x)?;
    let y = PhaseAxis::parse("--y", &opt, &args.y, q, args.log_y)?;
    if x.name == y.name {
        return Err(CliError(format!(
            "--x and --y name the same parameter '{}'",
            x.name
        )));
    }
    let (k, region) = lab_starts(&setup, Some(&args.starts), args.region.as_deref(), 200)?;
    for p in [&args.out, &args.csv].into_iter().flatten() {
        check_folder_of(p)?;
    }
    let starts = uniform_starts(region, k, seed);
    let state = Progress::default();
    let total = p * q * k;
    let cells = with_progress("phase", total, &state, || {
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
            &state,
        )
    })??
    .ok_or_else(|| CliError("cancelled".into()))?;
    if let Some(path) = &args.csv {
        let mut s = String::from("x_value,y_value,success_rate,ert\n");
        for c in &cells {
            let _ = writeln!(
                s,
                "{:?},{:?},{:?},{}",
                c.x_value,
                c.y_value,
                c.success_rate,
                csv_opt(c.ert)
            );
        }
        write_file(path, &s)?;
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
    let mut out = Output::default();
    if let Some(b) = best {
        out.stdout = format!(
            "best cell: {}={} {}={}: success {:.1}%, ERT {}\n",
            x.name,
            fmt_opt(Some(b.x_value)),
            y.name,
            fmt_opt(Some(b.y_value)),
            100.0 * b.success_rate,
            fmt_opt(b.ert)
        );
    }
    out.notes.push(format!(
        "{p} x {q} cells, {k} starts each, {steps} updates; success = final loss within {} of {}",
        target.tol, target.value
    ));
    Ok(out)
}
