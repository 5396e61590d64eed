//! The suite's page: one self-contained HTML file (pictures embedded as `data:` addresses, no
//! script, no network), readable from disk.

use super::{CliError, charts, fate_css, first_instance, thumb};
use optiscape_core::lab::suite::analysis::{Fate, ProblemData, SuiteResults};
use optiscape_core::lab::suite::{Finished, SuiteSetup};
use std::fmt::Write as _;

/// Text made safe for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn pct(v: f64) -> String {
    format!("{:.1}%", 100.0 * v)
}

fn num(v: Option<f64>) -> String {
    match v {
        Some(x) if x >= 1e5 => format!("{x:.3e}"),
        Some(x) if x >= 100.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.3}"),
        None => "&infin;".into(),
    }
}

fn interval(lo: Option<f64>, hi: Option<f64>) -> String {
    format!("[{}, {}]", num(lo), num(hi))
}

fn rgb(c: [f32; 3]) -> String {
    let b = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    format!("rgb({},{},{})", b(c[0]), b(c[1]), b(c[2]))
}

const STYLE: &str = "body{background:#1c1e24;color:#e1e1e1;font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px}
h1,h2,h3{font-weight:600}h2{margin-top:36px;border-bottom:1px solid #3a3e48;padding-bottom:4px}
code,pre{background:#262932;border-radius:4px;padding:2px 5px;font-size:13px}pre{padding:10px;overflow-x:auto;white-space:pre-wrap}
table{border-collapse:collapse;margin:10px 0}td,th{border:1px solid #3a3e48;padding:3px 7px;text-align:right}
th{background:#262932}td:first-child,th:first-child{text-align:left}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.grid td{padding:2px}.grid img{display:block;image-rendering:pixelated}
.note{color:#a9adb8}.warn{background:#4a3520;padding:8px 12px;border-radius:4px}
details{margin:6px 0}summary{cursor:pointer}img.chart{max-width:100%}";

/// The page.
pub(super) fn page(
    setup: &SuiteSetup,
    command: &str,
    r: &SuiteResults,
    done: &[ProblemData],
    finished: Finished,
    colors: &[[f32; 3]],
) -> Result<String, CliError> {
    let unit = if setup.evals {
        "evaluations"
    } else {
        "updates"
    };
    let mut h = String::with_capacity(1 << 20);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>optiscape suite</title><style>{STYLE}</style></head><body>"
    );
    let _ = write!(
        h,
        "<h1>optiscape suite</h1><p>optiscape {} &middot; <code>{}</code></p>",
        esc(r.version),
        esc(command)
    );
    let (eval_ids, tune_ids) = setup.instance_ids();
    let _ = write!(
        h,
        "<p>{} methods ({} lines with the tuned settings) on {} problems: {} surfaces &times; evaluation instances {:?}; tuned on instances {:?} (never evaluated), {} settings per method and surface. {} starts per problem, the same for every method; {} {unit} per run (a gradient with its value costs {} evaluations); seed {}.</p>",
        setup.methods.len(),
        r.entries.len(),
        finished.of,
        setup.surfaces.len(),
        eval_ids,
        tune_ids,
        setup.tune_budget,
        setup.starts,
        setup.budget,
        setup.grad_cost,
        setup.seed
    );
    if finished.problems < finished.of {
        let _ = write!(
            h,
            "<p class=\"warn\">Partial report: the suite was interrupted with {} of {} problems finished{}. Run the same command again to resume.</p>",
            finished.problems,
            finished.of,
            if finished.tuning_done {
                ""
            } else {
                " (tuning had not finished)"
            }
        );
    }
    if r.problems.is_empty() {
        h.push_str("</body></html>\n");
        return Ok(h);
    }
    // The summary, best mean rank first.
    let mut order: Vec<usize> = (0..r.summaries.len()).collect();
    order.sort_by(|a, b| {
        let k = |i: usize| r.summaries[i].mean_rank.unwrap_or(f64::INFINITY);
        k(*a).total_cmp(&k(*b))
    });
    h.push_str("<h2>Across problems</h2><table><tr><th>method</th><th>mean rank</th><th>problems solved</th><th>mean success</th><th>ECDF area [95%]</th><th>escape rate [95%]</th><th>escapable runs</th></tr>");
    for &i in &order {
        let s = &r.summaries[i];
        let _ = write!(
            h,
            "<tr><td><span class=\"sw\" style=\"background:{}\"></span>{}</td><td>{}</td><td>{}/{}</td><td>{}</td><td>{:.3} [{:.3}, {:.3}]</td><td>{}</td><td>{}</td></tr>",
            rgb(colors[i]),
            esc(&s.entry),
            s.mean_rank.map_or("-".into(), |v| format!("{v:.2}")),
            s.solved,
            r.problems.len(),
            pct(s.mean_success_rate),
            s.auc,
            s.auc_low,
            s.auc_high,
            match (s.escape_rate, s.escape_rate_low, s.escape_rate_high) {
                (Some(v), Some(lo), Some(hi)) => format!("{} [{}, {}]", pct(v), pct(lo), pct(hi)),
                _ => "-".into(),
            },
            s.escapable
        );
    }
    h.push_str("</table>");
    if let Some(f) = &r.friedman {
        let _ = write!(
            h,
            "<p>Friedman's test over the {} problems: &chi;&sup2; = {:.2}, df = {}, p = {:.3e} (mean ranks above: 1 is best on every problem).</p>",
            r.problems.len(),
            f.statistic,
            f.df,
            f.p
        );
    }
    h.push_str("<p class=\"note\">Escape rate: of the runs that start in the basin of a local (not global) minimum under plain gradient flow, the share that end lower than that minimum, inside the domain (every point of a basin is at least as high as its minimum, so such a run ended in a lower basin). Wilson 95% intervals. The chance baseline of each problem (the share of starts whose flow already reaches the global minimum) is in its table below. ECDF area: the area under the aggregated runtime ECDF over log budget, 1 = every target of every run at the first evaluation; its interval is a bootstrap over problems. Definitions: docs/guide.md, &ldquo;The suite&rdquo;.</p>");
    let [ecdf, perf, data] = charts(r, colors, unit)?;
    let _ = write!(
        h,
        "<h2>Runtime ECDF over all problems</h2><img class=\"chart\" alt=\"aggregated ECDF\" src=\"{ecdf}\"><p class=\"note\">The share of (run, target, problem) triples reached within each budget: 51 targets per problem, from its starts' median precision down ten decades (COCO's aggregation, every problem weighing the same).</p>"
    );
    let _ = write!(
        h,
        "<h2>Performance and data profiles</h2><img class=\"chart\" alt=\"performance profiles\" src=\"{perf}\"><img class=\"chart\" alt=\"data profiles\" src=\"{data}\"><p class=\"note\">Dolan&ndash;Mor&eacute;: the share of problems on which a method's ERT (in evaluations) is within a factor &tau; of the best method's. Mor&eacute;&ndash;Wild: the share of problems a method solves (finite ERT) within a budget of &alpha; simplex gradients (ERT in evaluations / (n + 1), n = 2). Both compare each method with the others in this set: adding or removing a method changes every curve.</p>"
    );
    // Win matrix.
    h.push_str("<h2>Win matrix</h2><p class=\"note\">Row beats column: the share of problems where the row's runs are significantly better than the column's (two-sided Mann&ndash;Whitney U on runtimes in evaluations, runs that never reached the target compared by the precision of the lowest loss they found, COCO's rule; Holm-adjusted over every pair and problem, &alpha; = 0.05). Columns are numbered as the rows.</p><div style=\"overflow-x:auto\"><table><tr><th></th>");
    for n in 1..=order.len() {
        let _ = write!(
            h,
            "<th title=\"{}\">{n}</th>",
            esc(&r.entries[order[n - 1]].label)
        );
    }
    h.push_str("</tr>");
    for (n, &i) in order.iter().enumerate() {
        let _ = write!(h, "<tr><td>{} {}</td>", n + 1, esc(&r.entries[i].label));
        for &j in &order {
            let v = r.win_matrix[i][j];
            let shade = (v * 160.0) as u8;
            let _ = write!(
                h,
                "<td style=\"background:rgb({},{},{})\">{}</td>",
                28,
                30 + shade / 2,
                36 + shade / 3,
                if i == j {
                    String::new()
                } else {
                    format!("{:.0}", 100.0 * v)
                }
            );
        }
        h.push_str("</tr>");
    }
    h.push_str("</table></div><p class=\"note\">Numbers are percentages of problems.</p>");
    // Thumbnails.
    let _ = write!(
        h,
        "<h2>Where the runs ended</h2><p class=\"note\">Each run a dot at its start, on the first evaluation instance of each surface: <span class=\"sw\" style=\"background:{}\"></span>reached the global minimum, <span class=\"sw\" style=\"background:{}\"></span>escaped its start's basin to a lower one, <span class=\"sw\" style=\"background:{}\"></span>stayed, <span class=\"sw\" style=\"background:{}\"></span>diverged or stopped on a non-finite gradient.</p><div style=\"overflow-x:auto\"><table class=\"grid\"><tr><th></th>",
        fate_css(Fate::Global),
        fate_css(Fate::Escaped),
        fate_css(Fate::Stayed),
        fate_css(Fate::CutShort)
    );
    let firsts: Vec<(usize, Option<usize>)> = (0..setup.surfaces.len())
        .map(|s| (s, first_instance(done, s)))
        .collect();
    for (s, p) in &firsts {
        if p.is_some() {
            let _ = write!(h, "<th>{}</th>", esc(&setup.surfaces[*s].spec()));
        }
    }
    h.push_str("</tr>");
    for &k in &order {
        let _ = write!(h, "<tr><td>{}</td>", esc(&r.entries[k].label));
        for (_, p) in &firsts {
            if let Some(p) = p {
                let src = thumb(&done[*p], &r.fates[*p][k])?;
                let _ = write!(
                    h,
                    "<td><img alt=\"\" width=\"72\" height=\"72\" src=\"{src}\"></td>"
                );
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</table></div>");
    // Tuned settings.
    if r.entries.iter().any(|e| e.tuned) {
        h.push_str("<h2>Tuned settings</h2><p class=\"note\">Per surface, searched on the tuning instances alone (successive halving, ranked by ERT in evaluations, then median final loss); &ldquo;defaults&rdquo; where no setting beat them.</p><div style=\"overflow-x:auto\"><table><tr><th>method</th>");
        for s in &setup.surfaces {
            let _ = write!(h, "<th>{}</th>", esc(&s.spec()));
        }
        h.push_str("</tr>");
        for e in r.entries.iter().filter(|e| e.tuned) {
            let _ = write!(h, "<tr><td>{}</td>", esc(&e.method));
            for (_, t) in &e.params {
                let text = if t.is_default {
                    "defaults".to_string()
                } else {
                    t.params
                        .iter()
                        .map(|(k, v)| format!("{k} = {}", optiscape_core::setup::fmt_num(*v)))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let _ = write!(h, "<td>{}</td>", esc(&text));
            }
            h.push_str("</tr>");
        }
        h.push_str("</table></div>");
    }
    // Per problem.
    h.push_str("<h2>Per problem</h2><p class=\"note\">Success: the run ended inside the domain within the tolerance of the global minimum (Wilson 95%). ERT: evaluations to reach it with independent restarts (bootstrap 95%). Relative: over the best ERT on the problem. &#9650; marks the methods this one beats significantly on the problem.</p>");
    for p in &r.problems {
        let _ = write!(
            h,
            "<details><summary><b>{}</b> &middot; minimum {} ({}), tolerance {} &middot; chance baseline {}</summary><div style=\"overflow-x:auto\"><table><tr><th>method</th><th>success [95%]</th><th>ERT evals [95%]</th><th>relative</th><th>escape rate [95%]</th><th>escapable</th><th>median precision</th><th>diverged</th><th>bad gradient</th><th>rank</th><th>&#9650; better than</th></tr>",
            esc(&p.problem),
            p.target.value,
            p.target.minimum_kind(),
            p.target.tol,
            pct(p.chance_baseline)
        );
        for row in &p.rows {
            let beats: Vec<String> = r
                .comparisons
                .iter()
                .filter(|c| c.problem == p.problem && c.better.as_deref() == Some(&row.entry))
                .map(|c| esc(if c.a == row.entry { &c.b } else { &c.a }))
                .collect();
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{} [{}, {}]</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td style=\"text-align:left\">{}</td></tr>",
                esc(&row.entry),
                pct(row.success_rate),
                pct(row.success_rate_low),
                pct(row.success_rate_high),
                num(row.ert_evals),
                interval(row.ert_evals_low, row.ert_evals_high),
                row.relative_ert.map_or("-".into(), |v| format!("{v:.2}")),
                match (row.escape_rate, row.escape_rate_low, row.escape_rate_high) {
                    (Some(v), Some(lo), Some(hi)) =>
                        format!("{} [{}, {}]", pct(v), pct(lo), pct(hi)),
                    _ => "-".into(),
                },
                row.escapable,
                row.median_precision
                    .map_or("-".into(), |v| format!("{v:.2e}")),
                row.diverged,
                row.bad_gradient,
                row.rank,
                beats.join(", ")
            );
        }
        h.push_str("</table></div></details>");
    }
    h.push_str("<p class=\"note\">Every number on this page is in results.json; every run in runs.csv.</p></body></html>\n");
    Ok(h)
}
