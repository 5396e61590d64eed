//! `optiscape suite`: the benchmark suite (see `optiscape_core::lab::suite`) with its report
//! folder: `index.html` (one self-contained page), `results.json`, `runs.csv`, `ioh/`
//! (IOHprofiler's format) and `cells/` (finished cells, so that running the same command again
//! resumes).

use super::progress::with_progress;
use super::shared::{json_text, status_name, write_file};
use super::{BudgetUnit, CliError, Output, SuiteArgs};
use optiscape_core::lab::suite::analysis::{Fate, ProblemData, SuiteResults};
use optiscape_core::lab::suite::charts::{ecdf_chart, fate_color, profile_chart, thumbnail};
use optiscape_core::lab::suite::{
    CellStore, Finished, SuiteSetup, SuiteSpec, run_suite, total_runs,
};
use optiscape_core::lab::{Progress, Runtime};
use optiscape_core::optim::method_color;
use serde_json::json;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

mod html;
mod ioh;

/// The file that marks a folder as a suite's report (and holds its command line).
const MARK: &str = "suite.json";

/// The setup of the command line (the same checks as Python's, in the core).
fn setup_of(args: &SuiteArgs) -> Result<SuiteSetup, CliError> {
    Ok(SuiteSpec {
        methods: args.methods.clone(),
        sets: args.set.clone(),
        surfaces: Some(args.surfaces.clone()),
        instances: args.instances.clone(),
        tune_instances: Some(args.tune_instances.clone()),
        starts: args.starts.clone(),
        budget: Some(args.budget.clone()),
        budget_unit: Some(
            match args.budget_unit {
                BudgetUnit::Evals => "evals",
                BudgetUnit::Updates => "updates",
            }
            .into(),
        ),
        grad_cost: Some(args.grad_cost.clone()),
        tune_budget: args.tune_budget.clone(),
        seed: Some(args.seed.clone()),
        quick: args.quick,
    }
    .setup()?)
}

/// Cells as files in `DIR/cells/`, each written whole (to a temporary name, then renamed).
struct Folder {
    cells: PathBuf,
}

impl CellStore for Folder {
    fn get(&mut self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.cells.join(key)).ok()
    }
    fn put(&mut self, key: &str, bytes: &[u8]) -> Result<(), String> {
        let tmp = self.cells.join(format!("{key}.part"));
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, self.cells.join(key)))
            .map_err(|e| format!("could not write {}: {e}", self.cells.display()))
    }
}

/// Prepares the report folder: a new (or empty) one is created and marked; an earlier suite's
/// is reused; anything else is refused (nothing a user made is overwritten).
fn prepare(dir: &Path, command: &str) -> Result<Folder, CliError> {
    let cannot = |e: std::io::Error| CliError(format!("cannot write to {}: {e}", dir.display()));
    if dir.exists() {
        if !dir.is_dir() {
            return Err(CliError(format!(
                "--out {} is a file, not a folder",
                dir.display()
            )));
        }
        let empty = std::fs::read_dir(dir).map_err(cannot)?.next().is_none();
        if !empty && !dir.join(MARK).is_file() {
            return Err(CliError(format!(
                "--out {} holds files that are not a suite's report: give a new or empty folder (nothing there is overwritten)",
                dir.display()
            )));
        }
    } else {
        std::fs::create_dir_all(dir).map_err(cannot)?;
    }
    let cells = dir.join("cells");
    std::fs::create_dir_all(&cells).map_err(cannot)?;
    let mark = json!({"written_by": "optiscape suite", "version": env!("CARGO_PKG_VERSION"), "command": command});
    write_file(&dir.join(MARK), &json_text(&mark)?)?;
    Ok(Folder { cells })
}

/// The command line as typed (each argument quoted when it needs it).
fn command_line() -> String {
    std::env::args()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "\"'$`\\".contains(c)) {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `optiscape suite`.
pub fn suite_command(args: &SuiteArgs) -> Result<Output, CliError> {
    let setup = setup_of(args)?;
    let command = command_line();
    let mut folder = prepare(&args.out, &command)?;
    let progress = Progress::default();
    let tunable = setup
        .methods
        .iter()
        .filter(|m| optiscape_core::lab::suite::tunable(m, setup.tune_budget))
        .count();
    let total = total_runs(&setup, tunable) as u64;
    cancel_on_interrupt(&progress);
    let outcome = with_progress("suite", total, &progress, || {
        run_suite(&setup, &mut folder, &progress)
    })??;
    let (results, done, finished) = outcome;
    write_report(&args.out, &setup, &command, &results, &done, finished)?;
    let mut out = Output {
        stdout: summary_table(&results),
        notes: Vec::new(),
    };
    out.notes.push(format!(
        "{} problems ({} surfaces x {} instances), {} starts each, {} {} per run; report: {}",
        finished.of,
        setup.surfaces.len(),
        setup.instances,
        setup.starts,
        setup.budget,
        if setup.evals {
            "evaluations"
        } else {
            "updates"
        },
        args.out.join("index.html").display()
    ));
    if finished.problems < finished.of {
        return Err(CliError(format!(
            "interrupted: {} of {} problems finished{}; the report in {} shows them, and the same command resumes",
            finished.problems,
            finished.of,
            if finished.tuning_done {
                ""
            } else {
                " (tuning had not finished)"
            },
            args.out.display()
        )));
    }
    Ok(out)
}

/// Ctrl-C asks the suite to stop after the runs under way (the progress loop passes it on);
/// a second one ends the process.
#[cfg(not(target_arch = "wasm32"))]
fn cancel_on_interrupt(_: &Progress) {
    use std::sync::atomic::Ordering;
    // The handler can be set once per process.
    let _ = ctrlc::set_handler(|| {
        if super::progress::INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
}

#[cfg(target_arch = "wasm32")]
fn cancel_on_interrupt(_: &Progress) {}

/// One line per entry, best mean rank first.
fn summary_table(r: &SuiteResults) -> String {
    let mut order: Vec<usize> = (0..r.summaries.len()).collect();
    order.sort_by(|a, b| {
        let k = |i: usize| r.summaries[i].mean_rank.unwrap_or(f64::INFINITY);
        k(*a).total_cmp(&k(*b))
    });
    let mut s = format!(
        "{:<30} {:>9} {:>8} {:>9} {:>22} {:>24}\n",
        "method", "mean rank", "solved", "success", "ECDF area [95%]", "escape rate [95%]"
    );
    for i in order {
        let e = &r.summaries[i];
        let _ = writeln!(
            s,
            "{:<30} {:>9} {:>8} {:>8.1}% {:>22} {:>24}",
            e.entry,
            e.mean_rank.map_or("-".into(), |v| format!("{v:.2}")),
            format!("{}/{}", e.solved, r.problems.len()),
            100.0 * e.mean_success_rate,
            format!("{:.3} [{:.3}, {:.3}]", e.auc, e.auc_low, e.auc_high),
            match (e.escape_rate, e.escape_rate_low, e.escape_rate_high) {
                (Some(v), Some(lo), Some(hi)) =>
                    format!("{:.1}% [{:.1}, {:.1}]", 100.0 * v, 100.0 * lo, 100.0 * hi),
                _ => "-".into(),
            }
        );
    }
    if let Some(f) = &r.friedman {
        let _ = writeln!(
            s,
            "Friedman: chi2 = {:.2}, df = {}, p = {:.3e} over {} problems",
            f.statistic,
            f.df,
            f.p,
            r.problems.len()
        );
    }
    s
}

/// The columns of `runs.csv`: the race's `--csv` columns, then the problem's.
pub const RUNS_HEADER: &str = "method,run,x0,y0,x,y,loss,updates,first_success_update,status,evals,grads,problem,instance,surface,first_success_evals,lowest,flow_minimum,minimum,tol";

/// Writes every file of the report.
fn write_report(
    dir: &Path,
    setup: &SuiteSetup,
    command: &str,
    r: &SuiteResults,
    done: &[ProblemData],
    finished: Finished,
) -> Result<(), CliError> {
    let (eval_ids, tune_ids) = setup.instance_ids();
    let doc = json!({
        "command": command,
        "version": env!("CARGO_PKG_VERSION"),
        "finished": finished,
        "setup": {
            "methods": setup.methods.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
            "surfaces": setup.surfaces.iter().map(|s| s.spec()).collect::<Vec<_>>(),
            "instances": eval_ids,
            "tuning_instances": tune_ids,
            "starts": setup.starts,
            "tuning_starts": setup.tune_starts,
            "budget": setup.budget,
            "budget_unit": if setup.evals { "evals" } else { "updates" },
            "grad_cost": setup.grad_cost,
            "tune_budget": setup.tune_budget,
            "seed": setup.seed,
        },
        "results": r,
    });
    write_file(&dir.join("results.json"), &json_text(&doc)?)?;
    write_runs(&dir.join("runs.csv"), setup, r, done)?;
    ioh::write(&dir.join("ioh"), setup, r, done)?;
    let colors: Vec<[f32; 3]> = r
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| entry_color(&e.method, e.tuned, i))
        .collect();
    let page = html::page(setup, command, r, done, finished, &colors)?;
    write_file(&dir.join("index.html"), &page)
}

/// An entry's colour: its method's, lighter when tuned.
fn entry_color(method: &str, tuned: bool, i: usize) -> [f32; 3] {
    let c = method_color(method, i);
    if tuned {
        c.map(|v| v + (1.0 - v) * 0.45)
    } else {
        c
    }
}

/// `runs.csv`: one row per run.
fn write_runs(
    path: &Path,
    setup: &SuiteSetup,
    r: &SuiteResults,
    done: &[ProblemData],
) -> Result<(), CliError> {
    use std::io::Write as _;
    let file = std::fs::File::create(path)
        .map_err(|e| CliError(format!("could not write {}: {e}", path.display())))?;
    let mut w = std::io::BufWriter::new(file);
    let mut s = String::with_capacity(1 << 16);
    s.push_str(RUNS_HEADER);
    s.push('\n');
    for d in done {
        for (k, e) in r.entries.iter().enumerate() {
            for (i, run) in d.cells[k].ends.iter().enumerate() {
                let fse = Runtime::in_evals(run, setup.grad_cost).first_success;
                let _ = writeln!(
                    s,
                    "{},{i},{:?},{:?},{:?},{:?},{:?},{},{},{},{},{},{},{},{},{},{:?},{:?},{:?},{:?}",
                    e.label,
                    run.start.x,
                    run.start.y,
                    run.end.x,
                    run.end.y,
                    run.loss,
                    run.steps,
                    run.first_success.map(|v| v.to_string()).unwrap_or_default(),
                    status_name(run.status),
                    run.evals,
                    run.grads,
                    d.problem.label,
                    d.problem.instance,
                    d.problem.surface_id,
                    fse.map(|v| v.to_string()).unwrap_or_default(),
                    run.lowest,
                    d.flows[i],
                    d.target.value,
                    d.target.tol,
                );
                if s.len() > 1 << 20 {
                    w.write_all(s.as_bytes()).map_err(|e| {
                        CliError(format!("could not write {}: {e}", path.display()))
                    })?;
                    s.clear();
                }
            }
        }
    }
    w.write_all(s.as_bytes())
        .and_then(|()| w.flush())
        .map_err(|e| CliError(format!("could not write {}: {e}", path.display())))
}

/// A thumbnail's fates for the first instance of a surface (the page's grid).
pub(crate) fn first_instance(done: &[ProblemData], surface_index: usize) -> Option<usize> {
    done.iter()
        .position(|d| d.problem.surface_index == surface_index)
}

/// The PNG of a picture as a `data:` address (the page embeds every picture).
pub(crate) fn data_url(img: &image::RgbImage) -> Result<String, CliError> {
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| CliError(format!("could not encode a picture: {e}")))?;
    Ok(format!("data:image/png;base64,{}", base64(&png)))
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Fates of a thumbnail (the colours are [`fate_color`]'s).
pub(crate) fn thumb(d: &ProblemData, fates: &[Fate]) -> Result<String, CliError> {
    data_url(&thumbnail(d.problem.surface.domain, &d.starts, fates, 72))
}

pub(crate) fn fate_css(f: Fate) -> String {
    let [r, g, b] = fate_color(f);
    format!("rgb({r},{g},{b})")
}

pub(crate) fn charts(
    r: &SuiteResults,
    colors: &[[f32; 3]],
    unit: &str,
) -> Result<[String; 3], CliError> {
    Ok([
        data_url(&ecdf_chart(r, colors, unit))?,
        data_url(&profile_chart(r, colors, false))?,
        data_url(&profile_chart(r, colors, true))?,
    ])
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_as_the_standard_writes_it() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foo"), "Zm9v");
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
    }
}
