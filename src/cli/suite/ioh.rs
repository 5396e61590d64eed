//! `DIR/ioh/`: the suite's runs in IOHprofiler's format, for IOHanalyzer and the `iohinspector`
//! Python package. One folder per entry (an "algorithm"); in it, per surface (a "function", id
//! its place in the suite), the JSON meta file `IOHprofiler_f<id>_<surface>.json` and its data
//! file `data_f<id>_<surface>/IOHprofiler_f<id>_DIM2.dat`: every run of every evaluation
//! instance, each a block headed `evaluations raw_y` whose rows are the evaluations at which the
//! run's lowest loss inside the domain fell, with that loss — at evaluation 1, at each of the
//! budgets the suite keeps (two per decade, [`SuiteSetup::ioh_budgets`]), at the exact
//! evaluation that first reached the target (`RunEnd::success_value`), and at the run's last.
//! Evaluations count on the one cost scale (a gradient with its value `--grad-cost`); a run
//! that starts at the target is logged as reaching it at evaluation 1, IOHprofiler's first.

use super::{CliError, write_file};
use optiscape_core::lab::suite::SuiteSetup;
use optiscape_core::lab::suite::analysis::{ProblemData, SuiteResults};
use optiscape_core::lab::{Runtime, cost};
use serde_json::json;
use std::fmt::Write as _;
use std::path::Path;

/// A folder name for an entry: `adam (tuned)` → `adam-tuned`.
fn slug(label: &str) -> String {
    let mut s = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            s.push(c);
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    s.trim_matches('-').to_string()
}

/// The rows of one run: `(evaluations, lowest loss so far)`, evaluations rising, each row a fall.
fn rows(
    setup: &SuiteSetup,
    d: &ProblemData,
    anytime: &[f64],
    e: &optiscape_core::lab::RunEnd,
) -> Vec<(u64, f64)> {
    let grid = setup.ioh_budgets();
    let value = |p: f64| d.target.value + p;
    let mut out: Vec<(u64, f64)> = Vec::with_capacity(grid.len() + 2);
    let mut push = |ev: u64, y: f64| {
        let ev = ev.max(1);
        match out.last_mut() {
            None => out.push((ev, y)),
            Some(last) if y < last.1 => {
                if last.0 >= ev {
                    last.1 = y;
                } else {
                    out.push((ev, y));
                }
            }
            Some(_) => {}
        }
    };
    let hit = Runtime::in_evals(e, setup.grad_cost)
        .first_success
        .zip(e.success_value);
    let mut hit_logged = false;
    for (b, p) in grid.iter().zip(anytime) {
        if let Some((at, v)) = hit
            && !hit_logged
            && at <= *b
        {
            push(at, v);
            hit_logged = true;
        }
        push(*b, value(*p));
    }
    if let Some((at, v)) = hit
        && !hit_logged
    {
        push(at, v);
    }
    push(cost(e.evals, e.grads, setup.grad_cost), e.lowest);
    out
}

/// Writes `dir` (replacing an earlier suite's export there).
pub(super) fn write(
    dir: &Path,
    setup: &SuiteSetup,
    r: &SuiteResults,
    done: &[ProblemData],
) -> Result<(), CliError> {
    let cannot = |e: std::io::Error| CliError(format!("could not write {}: {e}", dir.display()));
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(cannot)?;
    }
    if !setup.evals {
        // IOHprofiler counts evaluations; a suite in updates has no evaluation count for every
        // budget of a method that asks for evaluations.
        return Ok(());
    }
    let na = setup.ioh_budgets().len();
    for (k, entry) in r.entries.iter().enumerate() {
        let folder = dir.join(slug(&entry.label));
        for (si, surface) in setup.surfaces.iter().enumerate() {
            let problems: Vec<&ProblemData> = done
                .iter()
                .filter(|d| d.problem.surface_index == si)
                .collect();
            if problems.is_empty() {
                continue;
            }
            let fid = si + 1;
            let name = surface.spec();
            let data_dir = format!("data_f{fid}_{name}");
            let data_file = format!("IOHprofiler_f{fid}_DIM2.dat");
            std::fs::create_dir_all(folder.join(&data_dir)).map_err(cannot)?;
            let mut dat = String::new();
            let mut runs = Vec::new();
            for d in &problems {
                let cell = &d.cells[k];
                for (i, e) in cell.ends.iter().enumerate() {
                    let rows = rows(setup, d, &cell.anytime[i * na..(i + 1) * na], e);
                    dat.push_str("evaluations raw_y\n");
                    for (ev, y) in &rows {
                        let _ = writeln!(dat, "{ev} {y:?}");
                    }
                    let (best_ev, best_y) = rows.last().copied().unwrap_or((1, f64::INFINITY));
                    let x = (e.loss == e.lowest).then(|| vec![e.end.x, e.end.y]);
                    runs.push(json!({
                        "instance": d.problem.instance,
                        "evals": cost(e.evals, e.grads, setup.grad_cost).max(1),
                        "best": {"evals": best_ev, "x": x, "y": best_y},
                    }));
                }
            }
            let info = if entry.tuned {
                let params = entry
                    .params
                    .iter()
                    .find(|(s, _)| *s == name)
                    .map(|(_, t)| {
                        t.params
                            .iter()
                            .map(|(k, v)| format!("{k}={v}"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default();
                format!(
                    "optiscape {}: {} tuned on this surface's tuning instances ({params})",
                    env!("CARGO_PKG_VERSION"),
                    entry.method
                )
            } else {
                format!(
                    "optiscape {}: {} with its defaults",
                    env!("CARGO_PKG_VERSION"),
                    entry.method
                )
            };
            let meta = json!({
                "version": "0.3.3",
                "suite": "optiscape",
                "function_id": fid,
                "function_name": name,
                "maximization": false,
                "algorithm": {"name": entry.label, "info": info},
                "attributes": ["evaluations", "raw_y"],
                "experiment_attributes": [
                    {"budget": setup.budget.to_string()},
                    {"grad_cost": setup.grad_cost.to_string()},
                    {"seed": setup.seed.to_string()},
                ],
                "scenarios": [{
                    "dimension": 2,
                    "path": format!("{data_dir}/{data_file}"),
                    "runs": runs,
                }],
            });
            write_file(&folder.join(&data_dir).join(&data_file), &dat)?;
            write_file(
                &folder.join(format!("IOHprofiler_f{fid}_{name}.json")),
                &super::json_text(&meta)?,
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn entries_name_folders() {
        assert_eq!(super::slug("adam (tuned)"), "adam-tuned");
        assert_eq!(
            super::slug("differential-evolution"),
            "differential-evolution"
        );
    }
}
