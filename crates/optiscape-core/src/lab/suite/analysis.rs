//! The suite's statistics, from its cells: per problem (success with Wilson intervals, ERT with
//! bootstrap intervals, ERT relative to the best entry, the escape rate and its chance
//! baseline, ranks), between entries (two-sided Mann–Whitney U on runtimes with COCO's rule for
//! runs that did not reach the target, Holm over every pair and problem; a win matrix; average
//! ranks and Friedman's test), and across problems (the aggregated runtime ECDF and the area
//! under it with a bootstrap interval over problems; Dolan–Moré performance profiles and
//! Moré–Wild data profiles). docs/guide.md, "The suite", gives every definition.

use super::{Cell, Entry, Problem, SuiteSetup};
use crate::lab::RaceRow;
use crate::lab::batch::Target;
use crate::lab::significance::{coco_keys, friedman, holm, mann_whitney};
use crate::lab::stats::{Runtime, median};
use crate::optim::Rng;
use glam::DVec2;
use serde::Serialize;

/// The significance level of the marks (after Holm's adjustment).
pub const ALPHA: f64 = 0.05;
/// Bootstrap resamples of the area under the ECDF.
pub const AUC_RESAMPLES: usize = 1000;

/// A finished problem: its cells (by entry) and what they were counted against.
#[derive(Clone, Debug)]
pub struct ProblemData {
    pub problem: Problem,
    /// The minimum the runs were counted against (lowered when a run or the flow beat an
    /// estimated one).
    pub target: Target,
    /// The 51 targets of precision of its runtime distributions.
    pub targets: Vec<f64>,
    pub starts: Vec<DVec2>,
    /// Per start: the loss of the minimum the gradient flow from it settles in (NaN: none).
    pub flows: Vec<f64>,
    pub cells: Vec<Cell>,
}

/// How a run ended, for the escape rate and the thumbnails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// Ended at a success (the global minimum, within the tolerance, inside the domain).
    Global,
    /// Ended lower than the minimum of its start's basin, but not at a success.
    Escaped,
    /// Ended no lower than its start's basin's minimum allows.
    Stayed,
    /// Diverged, or stopped by a gradient that is not finite.
    CutShort,
}

impl ProblemData {
    /// Whether start `i` lies in a basin whose minimum is above the global minimum (see
    /// [`crate::lab::flow::escapable`]).
    pub fn escapable(&self, i: usize) -> bool {
        crate::lab::flow::escapable(self.target, self.flows[i])
    }

    /// Whether run `e` from start `i` escaped its start's basin (see
    /// [`crate::lab::flow::escaped`]).
    pub fn escaped(&self, i: usize, e: &crate::lab::RunEnd) -> bool {
        crate::lab::flow::escaped(self.target, self.flows[i], e)
    }

    /// The fate of entry `k`'s run `i`.
    pub fn fate(&self, k: usize, i: usize) -> Fate {
        let e = &self.cells[k].ends[i];
        if e.status.cut_short() {
            Fate::CutShort
        } else if e.succeeded(self.target) {
            Fate::Global
        } else if self.escaped(i, e) {
            Fate::Escaped
        } else {
            Fate::Stayed
        }
    }
}

/// An entry's line on one problem.
#[derive(Clone, Debug, Serialize)]
pub struct ProblemRow {
    pub entry: String,
    pub runs: usize,
    /// Runs that ended at a success, with the Wilson 95% interval.
    pub success_rate: f64,
    pub success_rate_low: f64,
    pub success_rate_high: f64,
    /// Runs that reached the target at some point (what the ERT counts).
    pub reached_rate: f64,
    /// ERT in updates and in evaluations, with 95% bootstrap intervals.
    pub ert: Option<f64>,
    pub ert_low: Option<f64>,
    pub ert_high: Option<f64>,
    pub ert_evals: Option<f64>,
    pub ert_evals_low: Option<f64>,
    pub ert_evals_high: Option<f64>,
    /// `ert_evals` over the lowest `ert_evals` of the problem (1: the best).
    pub relative_ert: Option<f64>,
    /// Runs from starts with a local minimum to escape, and those that escaped it.
    pub escapable: usize,
    pub escaped: usize,
    pub escape_rate: Option<f64>,
    pub escape_rate_low: Option<f64>,
    pub escape_rate_high: Option<f64>,
    /// Median over the runs of the precision of the lowest loss found inside the domain.
    pub median_precision: Option<f64>,
    pub diverged: usize,
    pub bad_gradient: usize,
    /// Rank on the problem (1: best; ties share their average), by ERT in evaluations, then
    /// (entries that never reached the target) by median precision.
    pub rank: f64,
}

/// One problem's results.
#[derive(Clone, Debug, Serialize)]
pub struct ProblemResult {
    pub problem: String,
    pub surface: String,
    pub instance: u64,
    pub target: Target,
    pub starts: usize,
    /// Share of the starts whose gradient flow settles in the global minimum (within the
    /// tolerance): the escape rate's chance baseline.
    pub chance_baseline: f64,
    /// Starts where the flow could not start (no finite loss or gradient).
    pub flow_undefined: usize,
    pub rows: Vec<ProblemRow>,
}

/// One pair of entries compared on one problem.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub problem: String,
    pub a: String,
    pub b: String,
    /// Mann–Whitney U of `a` (pairs where `a`'s run is worse, ties one half).
    pub u: f64,
    pub p: f64,
    /// Holm-adjusted over every pair and problem.
    pub p_holm: f64,
    /// The better entry when `p_holm < ALPHA`.
    pub better: Option<String>,
}

/// An entry across problems.
#[derive(Clone, Debug, Serialize)]
pub struct EntrySummary {
    pub entry: String,
    /// Problems where it reached the target at least once (finite ERT).
    pub solved: usize,
    pub mean_success_rate: f64,
    /// Its mean rank over the problems (Friedman's).
    pub mean_rank: Option<f64>,
    /// The aggregated runtime ECDF: the mean over problems of the share of (run, target)
    /// pairs reached within each budget.
    pub ecdf: Vec<f64>,
    /// Area under it over log10 of the budget, normalized to 1, with the 95% bootstrap
    /// interval over problems.
    pub auc: f64,
    pub auc_low: f64,
    pub auc_high: f64,
    /// Pooled over problems: escaped runs of escapable runs, with the Wilson interval.
    pub escapable: usize,
    pub escaped: usize,
    pub escape_rate: Option<f64>,
    pub escape_rate_low: Option<f64>,
    pub escape_rate_high: Option<f64>,
    /// Dolan–Moré: its performance ratio on each problem, ascending (`None`: not solved).
    pub performance_ratios: Vec<Option<f64>>,
    /// Moré–Wild: its cost on each problem in simplex gradients (ERT in evaluations / (n + 1),
    /// n = 2), ascending (`None`: not solved).
    pub data_costs: Vec<Option<f64>>,
}

/// Friedman's test over problems (blocks) and entries (treatments).
#[derive(Clone, Debug, Serialize)]
pub struct FriedmanResult {
    pub statistic: f64,
    pub df: usize,
    pub p: f64,
}

/// Everything the suite's page shows.
#[derive(Clone, Debug, Serialize)]
pub struct SuiteResults {
    pub version: &'static str,
    pub entries: Vec<Entry>,
    /// The budgets the ECDFs are read at (evaluations or updates, as the suite's unit).
    pub budgets: Vec<u64>,
    pub problems: Vec<ProblemResult>,
    pub summaries: Vec<EntrySummary>,
    pub comparisons: Vec<Comparison>,
    /// `win_matrix[i][j]`: share of problems where entry `i` is significantly better than `j`.
    pub win_matrix: Vec<Vec<f64>>,
    pub friedman: Option<FriedmanResult>,
    pub alpha: f64,
    /// Per problem, entry and run: how it ended (the thumbnails' dots).
    #[serde(skip)]
    pub fates: Vec<Vec<Vec<Fate>>>,
}

/// Numbers for keys in one order (equal keys equal numbers): ranks are then computed on them.
fn numbering(keys: &[(u8, f64)]) -> Vec<f64> {
    let mut all = keys.to_vec();
    all.sort_by(|x, y| x.0.cmp(&y.0).then(x.1.total_cmp(&y.1)));
    all.dedup_by(|x, y| x.0 == y.0 && x.1.total_cmp(&y.1).is_eq());
    keys.iter()
        .map(|k| {
            (all.partition_point(|x| x.0 < k.0 || (x.0 == k.0 && x.1.total_cmp(&k.1).is_lt())) + 1)
                as f64
        })
        .collect()
}

/// The area under a runtime ECDF over log10 of the budget, normalized by log10 of the last
/// budget: each fraction holds from its budget to the next (a run of one budget: its fraction).
pub fn ecdf_area(budgets: &[u64], fractions: &[f64]) -> f64 {
    let last = budgets.last().copied().unwrap_or(1) as f64;
    if last <= 1.0 {
        return fractions.first().copied().unwrap_or(0.0);
    }
    let mut area = 0.0;
    for k in 0..budgets.len().saturating_sub(1) {
        let w = (budgets[k + 1] as f64).log10() - (budgets[k] as f64).log10();
        area += fractions[k] * w;
    }
    area / last.log10()
}

/// The statistics of the finished problems.
pub fn analyze(setup: &SuiteSetup, entries: &[Entry], done: &[ProblemData]) -> SuiteResults {
    let budgets = setup.budgets();
    let ne = entries.len();
    let mut problems = Vec::with_capacity(done.len());
    let mut fates = Vec::with_capacity(done.len());
    // Per problem and entry: the ranking key, ERT in evaluations.
    let mut keys: Vec<Vec<(u8, f64)>> = Vec::new();
    let mut erts: Vec<Vec<Option<f64>>> = Vec::new();
    for d in done {
        let seed = d.problem.seed(setup, false);
        let mut rows: Vec<ProblemRow> = Vec::with_capacity(ne);
        let mut key_row = Vec::with_capacity(ne);
        for (k, e) in entries.iter().enumerate() {
            let ends = &d.cells[k].ends;
            let mut r = RaceRow::of(&e.label, ends.clone(), d.target, seed, 0.0);
            r.set_grad_cost(setup.grad_cost, seed);
            let esc = crate::lab::flow::escape_of(d.target, &d.flows, ends);
            let precisions: Vec<f64> = ends.iter().map(|e| d.target.precision(e.lowest)).collect();
            let median_precision = median(&precisions);
            key_row.push(match r.ert_evals {
                Some(t) => (0u8, t),
                None => (1u8, median_precision.unwrap_or(f64::INFINITY)),
            });
            rows.push(ProblemRow {
                entry: e.label.clone(),
                runs: r.runs,
                success_rate: r.success_rate,
                success_rate_low: r.success_rate_low,
                success_rate_high: r.success_rate_high,
                reached_rate: r.reached_rate,
                ert: r.ert,
                ert_low: r.ert_low,
                ert_high: r.ert_high,
                ert_evals: r.ert_evals,
                ert_evals_low: r.ert_evals_low,
                ert_evals_high: r.ert_evals_high,
                relative_ert: None,
                escapable: esc.escapable,
                escaped: esc.escaped,
                escape_rate: esc.rate,
                escape_rate_low: esc.low,
                escape_rate_high: esc.high,
                median_precision,
                diverged: r.diverged,
                bad_gradient: r.bad_gradient,
                rank: 0.0,
            });
        }
        let best = rows
            .iter()
            .filter_map(|r| r.ert_evals)
            .fold(f64::INFINITY, f64::min);
        let ranks = crate::lab::significance::average_ranks(&numbering(&key_row))
            .map(|(r, _)| r)
            .unwrap_or_else(|| vec![0.0; ne]);
        for (r, rank) in rows.iter_mut().zip(ranks) {
            r.relative_ert = r.ert_evals.map(|t| t / best);
            r.rank = rank;
        }
        erts.push(rows.iter().map(|r| r.ert_evals).collect());
        keys.push(key_row);
        let n = d.starts.len();
        problems.push(ProblemResult {
            problem: d.problem.label.clone(),
            surface: d.problem.surface_id.clone(),
            instance: d.problem.instance,
            target: d.target,
            starts: n,
            chance_baseline: crate::lab::flow::chance_baseline(d.target, &d.flows),
            flow_undefined: d.flows.iter().filter(|v| !v.is_finite()).count(),
            rows,
        });
        fates.push(
            (0..ne)
                .map(|k| (0..n).map(|i| d.fate(k, i)).collect())
                .collect(),
        );
    }
    let (comparisons, win_matrix) = compare(setup, entries, done);
    let fried = if done.is_empty() {
        None
    } else {
        let blocks: Vec<Vec<f64>> = keys.iter().map(|k| numbering(k)).collect();
        friedman(&blocks).map(|f| (f, blocks.len()))
    };
    let summaries = summarize_entries(setup, entries, done, &problems, &erts, &budgets, &fried);
    SuiteResults {
        version: env!("CARGO_PKG_VERSION"),
        entries: entries.to_vec(),
        budgets,
        problems,
        summaries,
        comparisons,
        win_matrix,
        friedman: fried.map(|(f, _)| FriedmanResult {
            statistic: f.statistic,
            df: ne.saturating_sub(1),
            p: f.p,
        }),
        alpha: ALPHA,
        fates,
    }
}

/// Every pair of entries on every problem: Mann–Whitney U on the runs ordered by COCO's rule
/// (runtime in evaluations when the target was reached, else the precision of the lowest loss
/// found), Holm over all the tests; and the win matrix.
fn compare(
    setup: &SuiteSetup,
    entries: &[Entry],
    done: &[ProblemData],
) -> (Vec<Comparison>, Vec<Vec<f64>>) {
    let ne = entries.len();
    let mut out = Vec::new();
    let mut pairs = Vec::new();
    for (pi, d) in done.iter().enumerate() {
        let runs: Vec<Vec<Result<f64, f64>>> = d
            .cells
            .iter()
            .map(|c| {
                c.ends
                    .iter()
                    .map(
                        |e| match Runtime::in_evals(e, setup.grad_cost).first_success {
                            Some(t) => Ok(t as f64),
                            None => Err(d.target.precision(e.lowest)),
                        },
                    )
                    .collect()
            })
            .collect();
        for a in 0..ne {
            for b in a + 1..ne {
                let (x, y) = coco_keys(&runs[a], &runs[b]);
                let (u, p) = match mann_whitney(&x, &y) {
                    Some(m) => (m.u, m.p),
                    None => (0.5 * (x.len() * y.len()) as f64, 1.0),
                };
                let half = 0.5 * (x.len() * y.len()) as f64;
                out.push(Comparison {
                    problem: d.problem.label.clone(),
                    a: entries[a].label.clone(),
                    b: entries[b].label.clone(),
                    u,
                    p,
                    p_holm: p,
                    better: None,
                });
                pairs.push((pi, a, b, u < half));
            }
        }
    }
    let adjusted = holm(&out.iter().map(|c| c.p).collect::<Vec<_>>());
    let mut wins = vec![vec![0usize; ne]; ne];
    for ((c, p), &(_, a, b, a_better)) in out.iter_mut().zip(adjusted).zip(&pairs) {
        c.p_holm = p;
        if p < ALPHA {
            let (w, l) = if a_better { (a, b) } else { (b, a) };
            c.better = Some(entries[w].label.clone());
            wins[w][l] += 1;
        }
    }
    let n = done.len().max(1) as f64;
    let matrix = wins
        .iter()
        .map(|row| row.iter().map(|w| *w as f64 / n).collect())
        .collect();
    (out, matrix)
}

#[allow(clippy::too_many_arguments)]
fn summarize_entries(
    setup: &SuiteSetup,
    entries: &[Entry],
    done: &[ProblemData],
    problems: &[ProblemResult],
    erts: &[Vec<Option<f64>>],
    budgets: &[u64],
    fried: &Option<(crate::lab::significance::Friedman, usize)>,
) -> Vec<EntrySummary> {
    let np = done.len();
    entries
        .iter()
        .enumerate()
        .map(|(k, e)| {
            let curves: Vec<&[f64]> = done.iter().map(|d| &d.cells[k].fractions[..]).collect();
            let mean_curve = |idx: &mut dyn Iterator<Item = usize>| {
                let mut sum = vec![0.0; budgets.len()];
                let mut n = 0usize;
                for p in idx {
                    for (s, f) in sum.iter_mut().zip(curves[p]) {
                        *s += f;
                    }
                    n += 1;
                }
                sum.iter()
                    .map(|s| s / n.max(1) as f64)
                    .collect::<Vec<f64>>()
            };
            let ecdf = mean_curve(&mut (0..np));
            let auc = ecdf_area(budgets, &ecdf);
            // The bootstrap over problems: resamples of the problem set with replacement.
            let mut rng = Rng::new(setup.seed ^ super::fnv(&e.label) ^ 0xA0C0_0000_0000_0001);
            let (auc_low, auc_high) = if np == 0 {
                (0.0, 0.0)
            } else {
                let mut values: Vec<f64> = (0..AUC_RESAMPLES)
                    .map(|_| {
                        let mut pick = (0..np).map(|_| (rng.uniform() * np as f64) as usize % np);
                        ecdf_area(budgets, &mean_curve(&mut pick))
                    })
                    .collect();
                values.sort_by(|a, b| a.total_cmp(b));
                (
                    values[AUC_RESAMPLES * 25 / 1000],
                    values[AUC_RESAMPLES * 975 / 1000 - 1],
                )
            };
            let esc = crate::lab::flow::Escape::of(
                problems.iter().map(|p| p.rows[k].escaped).sum(),
                problems.iter().map(|p| p.rows[k].escapable).sum(),
            );
            let mut ratios: Vec<Option<f64>> = erts
                .iter()
                .map(|row| {
                    let best = row.iter().flatten().fold(f64::INFINITY, |a, b| a.min(*b));
                    row[k].map(|t| t / best)
                })
                .collect();
            let sort = |v: &mut Vec<Option<f64>>| {
                v.sort_by(|a, b| match (a, b) {
                    (Some(x), Some(y)) => x.total_cmp(y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                })
            };
            sort(&mut ratios);
            let mut costs: Vec<Option<f64>> =
                erts.iter().map(|row| row[k].map(|t| t / 3.0)).collect();
            sort(&mut costs);
            EntrySummary {
                entry: e.label.clone(),
                solved: erts.iter().filter(|row| row[k].is_some()).count(),
                mean_success_rate: problems.iter().map(|p| p.rows[k].success_rate).sum::<f64>()
                    / np.max(1) as f64,
                mean_rank: fried.as_ref().map(|(f, _)| f.mean_ranks[k]).or_else(|| {
                    (np > 0)
                        .then(|| problems.iter().map(|p| p.rows[k].rank).sum::<f64>() / np as f64)
                }),
                ecdf,
                auc,
                auc_low,
                auc_high,
                escapable: esc.escapable,
                escaped: esc.escaped,
                escape_rate: esc.rate,
                escape_rate_low: esc.low,
                escape_rate_high: esc.high,
                performance_ratios: ratios,
                data_costs: costs,
            }
        })
        .collect()
}

/// The share of problems where a profile's values are at most `x` (a performance profile's
/// `rho(tau)` for ratios, a data profile's `d(alpha)` for costs).
pub fn profile_at(values: &[Option<f64>], x: f64) -> f64 {
    values.iter().filter(|v| v.is_some_and(|v| v <= x)).count() as f64 / values.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_area_under_a_step_ecdf_is_over_log_budgets() {
        // 1, 10, 100: half reached from 1 to 10, all from 10 to 100.
        assert!((ecdf_area(&[1, 10, 100], &[0.5, 1.0, 1.0]) - 0.75).abs() < 1e-15);
        assert_eq!(ecdf_area(&[1], &[0.25]), 0.25);
        assert_eq!(profile_at(&[Some(1.0), Some(2.0), None], 1.5), 1.0 / 3.0);
    }

    #[test]
    fn keys_number_in_order() {
        let n = numbering(&[(1, 0.5), (0, 10.0), (0, 3.0), (1, 0.5), (1, f64::INFINITY)]);
        assert_eq!(n, vec![3.0, 2.0, 1.0, 3.0, 4.0]);
    }
}
