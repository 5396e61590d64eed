//! The benchmark suite: every method on every problem (a surface placed as an instance), tuned
//! on instances the evaluation never sees, with the statistics across problems (see
//! [`analysis`]) and the escape rate (see [`super::flow`]).
//!
//! The work comes in *cells*, each one computed by a pure function of its inputs (so a cell can
//! be cached, or computed on another machine, and the result is the same bit for bit):
//! - a tuning cell: one method searched on one surface's tuning instances ([`tune_cell`]);
//! - an evaluation cell: one entry (a method with its default or tuned setting) on one problem
//!   ([`run_cell`]);
//! - a flow cell: where plain gradient flow from each start of a problem settles ([`flow_cell`]).
//!
//! [`run_suite`] computes them in a fixed order through a [`CellStore`] (a cache: the command
//! line keeps one in its output folder) and hands them to [`analysis::analyze`].

pub mod analysis;
pub mod charts;
mod codec;
mod spec;

use super::batch::{Precision, Progress, RunEnd, Target, uniform_starts};
use super::ecdf::{EvalScale, anytime_in_evals, budgets, fractions, targets};
use super::pace::{batch_paced, block_on};
use super::tune::{Searched, TuneProblem, search_grid, search_paced, search_runs};
use crate::landscape::Surface;
use crate::optim::{Optimizer, Rng};
use glam::DVec2;
use serde::{Deserialize, Serialize};

pub use analysis::{SuiteResults, analyze};
pub use codec::{
    decode_cell, decode_flow, decode_problem, encode_cell, encode_flow, encode_problem,
};
pub use spec::{SUITE_METHODS, SuiteSpec};

/// What a suite runs.
#[derive(Clone, Debug, Serialize)]
pub struct SuiteSetup {
    pub methods: Vec<Optimizer>,
    pub surfaces: Vec<Surface>,
    /// Evaluation instances per surface.
    pub instances: usize,
    /// Tuning instances per surface (ids disjoint from the evaluation instances).
    pub tune_instances: usize,
    /// Starts per problem (the same starts for every method).
    pub starts: usize,
    /// Starts per tuning instance.
    pub tune_starts: usize,
    /// Each run's budget: evaluations on the one cost scale when `evals`, otherwise updates
    /// (an iteration, for a method that asks for evaluations).
    pub budget: u64,
    pub evals: bool,
    /// What a gradient with its value costs in evaluations.
    pub grad_cost: u64,
    /// Settings tried per method and surface (1: no tuning, the defaults alone).
    pub tune_budget: usize,
    pub seed: u64,
}

/// Instance ids are drawn from `1..=INSTANCE_IDS`.
pub const INSTANCE_IDS: u64 = 999;

impl SuiteSetup {
    /// Refuses a setup that cannot run: no method or surface, no instance, start or budget.
    pub fn check(&self) -> Result<(), String> {
        if self.methods.is_empty() {
            return Err("the suite needs at least one method".into());
        }
        if self.surfaces.is_empty() {
            return Err("the suite needs at least one surface".into());
        }
        if self.instances == 0 {
            return Err("--instances must be at least 1".into());
        }
        if self.starts == 0 || self.tune_starts == 0 {
            return Err("--starts must be at least 1".into());
        }
        if self.budget == 0 {
            return Err("--budget must be at least 1".into());
        }
        if self.tune_budget == 0 {
            return Err("--tune-budget must be at least 1".into());
        }
        if self.instances + self.tune_instances > INSTANCE_IDS as usize {
            return Err(format!(
                "--instances: at most {} evaluation and tuning instances together",
                INSTANCE_IDS
            ));
        }
        if self.evals && self.budget < self.grad_cost {
            return Err(format!(
                "--budget {} evaluations buys no update at {} per gradient",
                self.budget, self.grad_cost
            ));
        }
        Ok(())
    }

    /// The evaluation and the tuning instance ids: distinct ids from `1..=INSTANCE_IDS` drawn
    /// from the seed (the same for every surface, as COCO's instances), the evaluation ones
    /// first.
    pub fn instance_ids(&self) -> (Vec<u64>, Vec<u64>) {
        let mut rng = Rng::new(self.seed ^ 0x1D5_0000_0000_0001);
        let mut ids = Vec::new();
        while ids.len() < self.instances + self.tune_instances {
            let id = 1 + rng.next_u64() % INSTANCE_IDS;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let tune = ids.split_off(self.instances);
        (ids, tune)
    }

    /// The budgets the runtime distributions are read at ([`budgets`] of the run's budget).
    pub fn budgets(&self) -> Vec<u64> {
        budgets(self.budget)
    }

    /// The budgets each run's best-so-far loss is kept at for the IOHprofiler export: two per
    /// decade (`1, 3, 10, 32, 100, 316, ...`, those of [`SuiteSetup::budgets`]) and the last.
    pub fn ioh_budgets(&self) -> Vec<u64> {
        let all = self.budgets();
        let last = all.last().copied().unwrap_or(1);
        let mut out: Vec<u64> = (0..)
            .map(|k| 10f64.powf(k as f64 / 2.0).round() as u64)
            .take_while(|b| *b < last)
            .filter(|b| all.contains(b))
            .collect();
        out.dedup();
        out.push(last);
        out
    }

    /// A method with its run budget: the optimizer to run and the steps to run it for.
    fn budgeted(&self, opt: &Optimizer) -> (Optimizer, u64) {
        if self.evals {
            opt.with_eval_budget(self.budget, self.grad_cost)
        } else {
            (opt.clone(), self.budget)
        }
    }
}

/// One problem: a surface placed as an instance.
#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    /// `surface/iN`.
    pub label: String,
    /// The surface's command-line spelling.
    pub surface_id: String,
    /// Index of the surface in the setup.
    pub surface_index: usize,
    pub instance: u64,
    #[serde(skip)]
    pub surface: Surface,
}

impl Problem {
    fn new(surface: &Surface, surface_index: usize, instance: u64) -> Self {
        let mut s = surface.clone();
        s.set_instance(instance);
        Problem {
            label: format!("{}/i{instance}", surface.spec()),
            surface_id: surface.spec(),
            surface_index,
            instance,
            surface: s,
        }
    }

    /// The problem's starts: uniform over its domain, drawn from the suite's seed and the
    /// problem (the same for every method: runs are paired).
    pub fn starts(&self, setup: &SuiteSetup, n: usize, tuning: bool) -> Vec<DVec2> {
        uniform_starts(self.surface.domain, n, self.seed(setup, tuning))
    }

    /// The seed of the problem's starts and of its runs' noise.
    pub fn seed(&self, setup: &SuiteSetup, tuning: bool) -> u64 {
        setup.seed ^ fnv(&self.label) ^ if tuning { 0x7E57_0000_0000_0001 } else { 0 }
    }
}

/// FNV-1a of a text (64 bits).
pub(crate) fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The problems of a setup: every surface as each evaluation instance, and as each tuning one.
pub fn problems(setup: &SuiteSetup) -> (Vec<Problem>, Vec<Problem>) {
    let (eval, tune) = setup.instance_ids();
    let make = |ids: &[u64]| {
        setup
            .surfaces
            .iter()
            .enumerate()
            .flat_map(|(i, s)| ids.iter().map(move |id| Problem::new(s, i, *id)))
            .collect::<Vec<_>>()
    };
    (make(&eval), make(&tune))
}

/// What tuning found for a method on a surface.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tuned {
    /// The tuned values by name (the defaults' when nothing beat them).
    pub params: Vec<(String, f64)>,
    /// Settings tried (the defaults included).
    pub tried: usize,
    /// Whether the tuned setting is the defaults (nothing beat them on the tuning instances).
    pub is_default: bool,
}

/// Whether a method has anything to tune within `budget` settings.
pub fn tunable(opt: &Optimizer, budget: usize) -> bool {
    budget > 1 && search_grid(opt, budget).len() > 1
}

/// Runs a tuning cell makes (for progress bars).
pub fn tune_cell_runs(setup: &SuiteSetup, opt: &Optimizer) -> usize {
    if !tunable(opt, setup.tune_budget) {
        return 0;
    }
    search_runs(
        search_grid(opt, setup.tune_budget).len(),
        setup.tune_starts,
        setup.tune_instances.max(1),
    )
}

/// A tuning cell: `opt` searched (successive halving, the runs pooled over the surface's
/// tuning instances, ranked by ERT in evaluations, then the median final loss; see
/// [`super::tune`]) on the surface `tuning` holds. `None` when cancelled.
pub fn tune_cell(
    setup: &SuiteSetup,
    opt: &Optimizer,
    tuning: &[Problem],
    progress: &Progress,
) -> Result<Option<Tuned>, String> {
    let grid = search_grid(opt, setup.tune_budget);
    let (budgeted, steps) = setup.budgeted(opt);
    let starts: Vec<Vec<DVec2>> = tuning
        .iter()
        .map(|p| p.starts(setup, setup.tune_starts, true))
        .collect();
    let tps: Vec<TuneProblem> = tuning
        .iter()
        .zip(&starts)
        .map(|(p, s)| TuneProblem {
            surface: &p.surface,
            starts: s,
            target: Target::of(&p.surface),
        })
        .collect();
    // One noise seed for the whole search (every setting sees the same noise).
    let seed = setup.seed ^ fnv(&opt.id) ^ 0x7E57_0000_0000_0002;
    let found: Option<Searched> = block_on(search_paced(
        &tps,
        &budgeted,
        &grid,
        steps,
        seed,
        Precision::F64,
        setup.grad_cost,
        progress,
    ))?;
    Ok(found.map(|s| {
        let params = s.params();
        let default_params: Vec<(String, f64)> = search_grid(opt, 1)
            .swap_remove(0)
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        Tuned {
            is_default: params == default_params,
            params,
            tried: grid.len() + 1,
        }
    }))
}

/// One line of the suite's tables: a method with its default setting, or with the setting
/// tuned for each surface.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    /// `adam`, or `adam (tuned)`.
    pub label: String,
    pub method: String,
    pub tuned: bool,
    /// The optimizer run on each surface (by the setup's surface index).
    #[serde(skip)]
    pub opts: Vec<Optimizer>,
    /// Per surface (by spec): the tuned values, and the settings tried.
    pub params: Vec<(String, Tuned)>,
}

/// The entries: every method with its defaults, then, for every method with something to tune,
/// the method with its tuned settings (`tuned[m][s]`: method `m` on surface `s`).
pub fn entries(setup: &SuiteSetup, tuned: &[Vec<Tuned>]) -> Result<Vec<Entry>, String> {
    let mut out: Vec<Entry> = setup
        .methods
        .iter()
        .map(|m| Entry {
            label: m.id.clone(),
            method: m.id.clone(),
            tuned: false,
            opts: vec![m.clone(); setup.surfaces.len()],
            params: Vec::new(),
        })
        .collect();
    for (m, t) in setup.methods.iter().zip(tuned) {
        if t.is_empty() {
            continue;
        }
        let mut opts = Vec::with_capacity(t.len());
        for tuned in t {
            let mut o = m.clone();
            for (k, v) in &tuned.params {
                super::tune::set_value(&mut o, k, *v)?;
            }
            opts.push(o);
        }
        out.push(Entry {
            label: format!("{} (tuned)", m.id),
            method: m.id.clone(),
            tuned: true,
            opts,
            params: setup
                .surfaces
                .iter()
                .zip(t)
                .map(|(s, t)| (s.spec(), t.clone()))
                .collect(),
        });
    }
    Ok(out)
}

/// An evaluation cell: one entry's runs on one problem.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// Every run's end, in start order.
    pub ends: Vec<RunEnd>,
    /// The runtime distribution over the problem's 51 targets at the setup's budgets (see
    /// [`super::ecdf::fractions`]).
    pub fractions: Vec<f64>,
    /// Each run's best precision so far at [`SuiteSetup::ioh_budgets`] (`runs x budgets`,
    /// row-major): the IOHprofiler export's rows.
    pub anytime: Vec<f64>,
}

/// Runs an entry's optimizer `opt` on a problem from `starts` against `target` (the ECDF over
/// `problem_targets`). `None` when cancelled.
pub fn run_cell(
    setup: &SuiteSetup,
    opt: &Optimizer,
    problem: &Problem,
    starts: &[DVec2],
    target: Target,
    problem_targets: &[f64],
    progress: &Progress,
) -> Option<Cell> {
    let budgets = setup.budgets();
    let seed = problem.seed(setup, false);
    let (ends, best, _) = if setup.evals {
        block_on(anytime_in_evals(
            &problem.surface,
            opt,
            starts,
            EvalScale {
                evals: setup.budget,
                grad_cost: setup.grad_cost,
            },
            seed,
            target,
            Precision::F64,
            progress,
            &budgets,
        ))?
    } else {
        block_on(batch_paced(
            &problem.surface,
            opt,
            starts,
            setup.budget,
            seed,
            target,
            Precision::F64,
            progress,
            &budgets,
        ))?
    };
    let keep: Vec<usize> = setup
        .ioh_budgets()
        .iter()
        .filter_map(|b| budgets.iter().position(|x| x == b))
        .collect();
    let anytime = best
        .chunks(budgets.len().max(1))
        .flat_map(|row| keep.iter().map(|&k| row[k]))
        .collect();
    Some(Cell {
        fractions: fractions(&best, budgets.len(), problem_targets),
        ends,
        anytime,
    })
}

/// A flow cell: the loss of the minimum plain gradient flow settles in from each start
/// ([`super::flow::flow_end`]; NaN where the start has no finite loss or gradient). Computed on
/// every core; deterministic.
pub fn flow_cell(problem: &Problem, starts: &[DVec2], tol: f64) -> Vec<f64> {
    super::flow::flow_values(&problem.surface, starts, tol)
}

/// Where a suite keeps finished cells (the command line: files in its output folder; none:
/// [`NoStore`]). Keys are the hex digest of a cell's inputs.
pub trait CellStore {
    fn get(&mut self, key: &str) -> Option<Vec<u8>>;
    fn put(&mut self, key: &str, bytes: &[u8]) -> Result<(), String>;
}

/// Keeps nothing.
pub struct NoStore;

impl CellStore for NoStore {
    fn get(&mut self, _: &str) -> Option<Vec<u8>> {
        None
    }
    fn put(&mut self, _: &str, _: &[u8]) -> Result<(), String> {
        Ok(())
    }
}

/// The key of a cell: a 128-bit digest (two FNV-1a passes) of its kind, the crate's version
/// and the JSON of its inputs.
pub fn cell_key(kind: &str, inputs: &serde_json::Value) -> String {
    let text = format!("{kind} {} {inputs}", env!("CARGO_PKG_VERSION"));
    let a = fnv(&text);
    let b = fnv(&format!("{text}#"));
    format!("{kind}-{a:016x}{b:016x}")
}

/// The runs a whole suite makes (for progress bars; a problem whose estimated minimum a run
/// beats is run again, beyond this count).
pub fn total_runs(setup: &SuiteSetup, entries_tuned: usize) -> usize {
    let tuning: usize = setup
        .methods
        .iter()
        .map(|m| tune_cell_runs(setup, m))
        .sum::<usize>()
        * setup.surfaces.len();
    tuning
        + (setup.methods.len() + entries_tuned)
            * setup.surfaces.len()
            * setup.instances
            * setup.starts
}

/// The inputs of a suite as they key its cells and as `results.json` states them.
fn setup_keys(setup: &SuiteSetup) -> serde_json::Value {
    serde_json::json!({
        "budget": setup.budget,
        "evals": setup.evals,
        "grad_cost": setup.grad_cost,
        "seed": setup.seed,
    })
}

/// How far a suite got: problems finished of all (a cancelled suite reports the finished
/// ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Finished {
    pub problems: usize,
    pub of: usize,
    pub tuning_done: bool,
}

/// Runs the suite: tuning cells (method x surface), then problem after problem its flow cell
/// and every entry's evaluation cell (run again against the lowered minimum when a run beats an
/// estimated one), each taken from `store` when it holds it and put there when computed. Stops
/// early when `progress` is cancelled, with the problems finished so far.
pub fn run_suite(
    setup: &SuiteSetup,
    store: &mut dyn CellStore,
    progress: &Progress,
) -> Result<(SuiteResults, Vec<analysis::ProblemData>, Finished), String> {
    setup.check()?;
    let (problems, tuning) = problems(setup);
    let base = setup_keys(setup);
    let Some(tuned) = tune_all(setup, &tuning, &base, store, progress)? else {
        let finished = Finished {
            problems: 0,
            of: problems.len(),
            tuning_done: false,
        };
        return Ok((analyze(setup, &[], &[]), Vec::new(), finished));
    };
    let entries = entries(setup, &tuned)?;
    let mut done: Vec<analysis::ProblemData> = Vec::new();
    for p in &problems {
        let Some(data) = run_problem(setup, p, &entries, &base, store, progress)? else {
            break;
        };
        done.push(data);
    }
    let finished = Finished {
        problems: done.len(),
        of: problems.len(),
        tuning_done: true,
    };
    Ok((analyze(setup, &entries, &done), done, finished))
}

/// The tuning cells that a setup has: (method, surface) pairs, by index.
pub fn tuning_cells(setup: &SuiteSetup) -> Vec<(usize, usize)> {
    setup
        .methods
        .iter()
        .enumerate()
        .filter(|(_, m)| tunable(m, setup.tune_budget))
        .flat_map(|(mi, _)| (0..setup.surfaces.len()).map(move |si| (mi, si)))
        .collect()
}

/// Tuning cell `(method, surface)` through the store. `None` when cancelled.
pub fn tune_one(
    setup: &SuiteSetup,
    (mi, si): (usize, usize),
    tuning: &[Problem],
    base: &serde_json::Value,
    store: &mut dyn CellStore,
    progress: &Progress,
) -> Result<Option<Tuned>, String> {
    let m = &setup.methods[mi];
    let s = &setup.surfaces[si];
    let own: Vec<Problem> = tuning
        .iter()
        .filter(|p| p.surface_index == si)
        .cloned()
        .collect();
    let key = cell_key(
        "tune",
        &serde_json::json!({
            "setup": base, "method": m, "surface": s,
            "instances": own.iter().map(|p| p.instance).collect::<Vec<_>>(),
            "starts": setup.tune_starts, "budget": setup.tune_budget,
        }),
    );
    if let Some(t) = store
        .get(&key)
        .and_then(|b| serde_json::from_slice::<Tuned>(&b).ok())
    {
        return Ok(Some(t));
    }
    let Some(t) = tune_cell(setup, m, &own, progress)? else {
        return Ok(None);
    };
    let bytes = serde_json::to_vec(&t).map_err(|e| e.to_string())?;
    store.put(&key, &bytes)?;
    Ok(Some(t))
}

/// Every tuning cell, method by method and surface by surface: `tuned[m]` (empty for a method
/// with nothing to tune). `None` when cancelled.
pub fn tune_all(
    setup: &SuiteSetup,
    tuning: &[Problem],
    base: &serde_json::Value,
    store: &mut dyn CellStore,
    progress: &Progress,
) -> Result<Option<Vec<Vec<Tuned>>>, String> {
    let mut tuned: Vec<Vec<Tuned>> = vec![Vec::new(); setup.methods.len()];
    for cell in tuning_cells(setup) {
        match tune_one(setup, cell, tuning, base, store, progress)? {
            Some(t) => tuned[cell.0].push(t),
            None => return Ok(None),
        }
    }
    Ok(Some(tuned))
}

/// The part of a cell's key every cell shares.
pub fn base_key(setup: &SuiteSetup) -> serde_json::Value {
    setup_keys(setup)
}

/// One problem: its flow cell, then every entry's cell (again against a lowered minimum). `None`
/// when cancelled. (A problem is the unit a cluster computes, see the Python package's
/// `optiscape.distributed.suite`.)
pub fn run_problem(
    setup: &SuiteSetup,
    p: &Problem,
    entries: &[Entry],
    base: &serde_json::Value,
    store: &mut dyn CellStore,
    progress: &Progress,
) -> Result<Option<analysis::ProblemData>, String> {
    let starts = p.starts(setup, setup.starts, false);
    let mut target = Target::of(&p.surface);
    let flow_key = cell_key(
        "flow",
        &serde_json::json!({"setup": base, "surface": p.surface, "starts": setup.starts, "tol": target.tol}),
    );
    let flows = match store.get(&flow_key).and_then(|b| decode_flow(&b)) {
        Some(f) if f.len() == starts.len() => f,
        _ => {
            let f = flow_cell(p, &starts, target.tol);
            store.put(&flow_key, &encode_flow(&f))?;
            f
        }
    };
    // The flow may find a lower value than an estimated minimum, as a run may.
    let flow_lowest = flows
        .iter()
        .zip(&starts)
        .filter(|(v, s)| v.is_finite() && p.surface.domain.contains(**s))
        .map(|(v, _)| *v)
        .fold(f64::INFINITY, f64::min);
    if let Some(lowered) = target.lowered_to(flow_lowest) {
        target = lowered;
    }
    loop {
        let problem_targets = targets(&p.surface, target, &starts);
        let mut cells = Vec::with_capacity(entries.len());
        for e in entries {
            let opt = &e.opts[p.surface_index];
            let (opt, _) = setup.budgeted(opt);
            let key = cell_key(
                "run",
                &serde_json::json!({"setup": base, "method": opt, "surface": p.surface,
                    "starts": setup.starts, "target": target}),
            );
            let cell = match store.get(&key).and_then(|b| decode_cell(&b)) {
                Some(c) if c.ends.len() == starts.len() => {
                    progress
                        .done
                        .fetch_add(starts.len(), std::sync::atomic::Ordering::Relaxed);
                    c
                }
                _ => {
                    let Some(c) =
                        run_cell(setup, &opt, p, &starts, target, &problem_targets, progress)
                    else {
                        return Ok(None);
                    };
                    store.put(&key, &encode_cell(&c))?;
                    c
                }
            };
            cells.push(cell);
        }
        let lowest = cells
            .iter()
            .map(|c| Target::lowest_of(&c.ends))
            .fold(f64::INFINITY, f64::min);
        match target.lowered_to(lowest) {
            Some(lowered) => target = lowered,
            None => {
                return Ok(Some(analysis::ProblemData {
                    problem: p.clone(),
                    target,
                    targets: problem_targets,
                    starts,
                    flows,
                    cells,
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests;
