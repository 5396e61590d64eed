//! Tuning: each update rule's learning rate (log scale) and momentum-like parameter (`momentum`,
//! or the first of `betas`), and each method that asks for evaluations its scale (CMA-ES's
//! `sigma0`, basin hopping's `stepsize`, annealing's `initial_temp`, differential evolution's
//! `recombination`; Nelder–Mead, BFGS, random search and multistart have nothing to tune), searched
//! on one set of starts by successive halving, minimizing the ERT in evaluations (the one cost
//! scale; ties: the median final loss); then the best setting and the defaults evaluated on a
//! fresh, held-out set of starts (its own seed): every number reported comes from those starts.

use super::batch::{Precision, Progress, Target, uniform_starts};
use super::ecdf::EcdfCurve;
use super::pace::{batch_paced, block_on, ends_paced};
use super::race::RaceRow;
use super::stats::{Runtime, ert, median};
use crate::landscape::{Domain, Surface};
use crate::optim::{Optimizer, ParamMut};
use serde::Serialize;
use std::cmp::Ordering;

/// The learning rates searched: a geometric grid over `10^-4 .. 10^0.5` (within the method's
/// allowed range).
pub const LR_RANGE: (f64, f64) = (1e-4, 3.162_277_660_168_379_5);

/// What a tuning run is given.
#[derive(Clone, Copy, Debug)]
pub struct TuneSetup {
    /// Where starts are drawn (the domain, or a region of it).
    pub region: Domain,
    /// Starts of the tuning set, and of the held-out set.
    pub starts: usize,
    pub steps: u64,
    /// Settings tried per method (at least 1).
    pub budget: usize,
    pub seed: u64,
    pub target: Target,
    pub precision: Precision,
    /// What a gradient with its value costs in evaluations (`--grad-cost`; the lab's default is
    /// [`super::GRAD_COST`]): settings are ranked by ERT in evaluations on this scale.
    pub grad_cost: u64,
    /// With `--budget-unit evals`: the runs' budget in evaluations (each method is given it
    /// by [`Optimizer::with_eval_budget`], `steps` then ignored); the held-out runtime
    /// distributions count evaluations on the one cost scale.
    pub evals: Option<u64>,
}

/// A method's result: the tuned values and, on the held-out starts, how the tuned and the
/// default settings do.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TuneRow {
    pub method: String,
    /// The tuned values by name (`lr`, and `momentum` or `beta1` where the method has one; a
    /// method that asks for evaluations its scale, or nothing).
    pub params: Vec<(String, f64)>,
    /// Settings evaluated in the search (the defaults included).
    pub settings_tried: usize,
    /// On the held-out starts, tuned.
    pub success_rate: f64,
    pub ert: Option<f64>,
    pub ert_low: Option<f64>,
    pub ert_high: Option<f64>,
    /// On the held-out starts, the defaults.
    pub default_success_rate: f64,
    pub default_ert: Option<f64>,
    pub default_ert_low: Option<f64>,
    pub default_ert_high: Option<f64>,
    /// On the tuning starts: the ERT and median final loss of the tuned and the default
    /// settings (the tuned one is never worse).
    pub tuning_ert: Option<f64>,
    pub tuning_median_loss: Option<f64>,
    pub tuning_default_ert: Option<f64>,
    pub tuning_default_median_loss: Option<f64>,
    /// The tuned setting's race row on the held-out starts (the numbers above come from it),
    /// and the defaults'.
    #[serde(skip)]
    pub held_out: RaceRow,
    #[serde(skip)]
    pub default_held_out: RaceRow,
    /// The tuned setting's runtime distribution on the held-out starts, over
    /// [`held_out_targets`].
    #[serde(skip)]
    pub held_out_ecdf: EcdfCurve,
}

/// The held-out starts of a tuning run: drawn from their own seed, never seen by the search.
pub fn held_out_starts(s: &TuneSetup) -> Vec<glam::DVec2> {
    uniform_starts(s.region, s.starts, held_out_seed(s.seed))
}

/// The targets of the held-out ECDFs ([`super::ecdf::targets`] of the held-out starts).
pub fn held_out_targets(surface: &Surface, s: &TuneSetup) -> Vec<f64> {
    super::ecdf::targets(surface, s.target, &held_out_starts(s))
}

/// The momentum-like parameter a method has, if any.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Momentum {
    Momentum,
    Beta1,
}

fn momentum_of(opt: &Optimizer) -> Option<Momentum> {
    let mut probe = opt.clone();
    let names: Vec<&str> = probe.params().iter().map(|p| p.spec.name).collect();
    if names.contains(&"momentum") {
        Some(Momentum::Momentum)
    } else if names.contains(&"betas") {
        Some(Momentum::Beta1)
    } else {
        None
    }
}

/// Sets a numeric hyperparameter, or one of the two `betas` as `beta1` / `beta2`, checking its
/// range (the phase maps use it too).
pub fn set_value(opt: &mut Optimizer, name: &str, v: f64) -> Result<(), String> {
    let (param, index) = match name {
        "beta1" => ("betas", Some(0)),
        "beta2" => ("betas", Some(1)),
        n => (n, None),
    };
    let id = opt.id.clone();
    let mut params = opt.params();
    let names: Vec<&str> = params.iter().map(|p| p.spec.name).collect();
    let has_betas = names.contains(&"betas");
    let Some(p) = params.iter_mut().find(|p| p.spec.name == param) else {
        let mut known: Vec<String> = names
            .iter()
            .filter(|n| **n != "betas" && **n != "steps_per_frame")
            .map(|n| n.to_string())
            .collect();
        if has_betas {
            known.extend(["beta1".into(), "beta2".into()]);
        }
        return Err(format!(
            "method '{id}' has no numeric hyperparameter '{name}' (it has: {})",
            known.join(", ")
        ));
    };
    p.spec.check(v).map_err(|e| format!("{name}: {e}"))?;
    match (&mut p.value, index) {
        (ParamMut::Num(x), None) => **x = v,
        (ParamMut::Pair(pair), Some(i)) => pair[i] = v,
        // A whole number (a population size): only whole values, within u32.
        (ParamMut::Count(x), None) => {
            if v.fract() != 0.0 || v > f64::from(u32::MAX) {
                return Err(format!(
                    "{name} must be {} (got {})",
                    p.spec.range_text(),
                    crate::setup::fmt_num(v)
                ));
            }
            **x = v as u32;
        }
        _ => return Err(format!("'{name}' of '{id}' is not a single number")),
    }
    Ok(())
}

/// The value of a numeric hyperparameter (or `beta1` / `beta2`).
pub fn get_value(opt: &Optimizer, name: &str) -> Option<f64> {
    let (param, index) = match name {
        "beta1" => ("betas", Some(0)),
        "beta2" => ("betas", Some(1)),
        n => (n, None),
    };
    let mut probe = opt.clone();
    let params = probe.params();
    let p = params.iter().find(|p| p.spec.name == param)?;
    match (&p.value, index) {
        (ParamMut::Num(x), None) => Some(**x),
        (ParamMut::Count(x), None) => Some(f64::from(**x)),
        (ParamMut::Pair(pair), Some(i)) => Some(pair[i]),
        _ => None,
    }
}

/// `k` momentum-like values `1 - g`, the gaps `g` geometric from 1 (no momentum) to 0.01:
/// 0, 0.785, 0.954, 0.99 for four.
pub fn momentum_grid(k: usize) -> Vec<f64> {
    if k <= 1 {
        return vec![0.9];
    }
    (0..k)
        .map(|i| {
            let g = 10f64.powf(-2.0 * i as f64 / (k - 1) as f64);
            ((1.0 - g) * 1e6).round() / 1e6
        })
        .collect()
}

/// One setting tried: values by name (empty: the method's defaults).
pub type Setting = Vec<(&'static str, f64)>;

/// The scale a method that asks for evaluations is tuned on: its name, range and whether the
/// grid is geometric.
fn search_axis(opt: &Optimizer) -> Option<(&'static str, (f64, f64), bool)> {
    let mut probe = opt.clone();
    let names: Vec<&str> = probe.params().iter().map(|p| p.spec.name).collect();
    [
        ("sigma0", (0.01, 1.0), true),
        ("stepsize", (0.05, 5.0), true),
        ("initial_temp", (10.0, 50_000.0), true),
        ("recombination", (0.1, 1.0), false),
    ]
    .into_iter()
    .find(|(n, _, _)| names.contains(n))
}

/// The settings searched for a method, at most `budget`: (lr, momentum-like value) pairs for an
/// update rule, its scale for a method that asks for evaluations (the defaults alone when it has
/// none).
pub(crate) fn settings(opt: &Optimizer, budget: usize) -> Vec<Setting> {
    let budget = budget.max(1);
    if opt.is_search() {
        return match search_axis(opt) {
            Some((name, (lo, hi), log)) if budget > 1 => super::sweep::grid(lo, hi, budget, log)
                .iter()
                .map(|v| vec![(name, (v * 1e6).round() / 1e6)])
                .collect(),
            Some((name, _, _)) => vec![vec![(name, get_value(opt, name).unwrap_or(f64::NAN))]],
            None => vec![Vec::new()],
        };
    }
    let m = momentum_of(opt);
    let n_m = if m.is_some() {
        ((budget as f64 / 2.0).sqrt().round() as usize).clamp(1, 8)
    } else {
        1
    };
    let n_lr = (budget / n_m).max(1);
    let lrs = super::sweep::grid(LR_RANGE.0, LR_RANGE.1, n_lr, true);
    let lrs: Vec<f64> = if n_lr == 1 {
        vec![get_value(opt, "lr").unwrap_or(1e-2)]
    } else {
        lrs.iter()
            .map(|v| (v * 1e6).round() / 1e6)
            .map(|v| v.max(1e-6))
            .collect()
    };
    let m_name = match m {
        Some(Momentum::Momentum) => Some("momentum"),
        Some(Momentum::Beta1) => Some("beta1"),
        None => None,
    };
    let ms: Vec<Option<f64>> = match m_name {
        Some(_) if n_m > 1 => momentum_grid(n_m).into_iter().map(Some).collect(),
        Some(name) => vec![get_value(opt, name)],
        None => vec![None],
    };
    let mut out = Vec::new();
    for &lr in &lrs {
        for &mv in &ms {
            let mut setting = vec![("lr", lr)];
            if let (Some(name), Some(v)) = (m_name, mv) {
                setting.push((name, v));
            }
            out.push(setting);
        }
    }
    out
}

/// The method's current values of what `settings` searches (its defaults, as a setting).
pub(crate) fn defaults(opt: &Optimizer) -> Setting {
    settings(opt, 1).swap_remove(0)
}

pub(crate) fn with_setting(opt: &Optimizer, setting: &Setting) -> Result<Optimizer, String> {
    let mut o = opt.clone();
    for (name, v) in setting {
        set_value(&mut o, name, *v)?;
    }
    Ok(o)
}

/// How good a setting was: ERT in evaluations (none: infinite), then the median final loss.
/// (`ert`, in updates, is what is reported; for an update rule the two order alike.)
#[derive(Clone, Copy, Debug, PartialEq)]
struct Score {
    ert: Option<f64>,
    ert_evals: Option<f64>,
    median_loss: Option<f64>,
}

impl Score {
    fn key(&self) -> (f64, f64) {
        (
            self.ert_evals.unwrap_or(f64::INFINITY),
            self.median_loss.unwrap_or(f64::INFINITY),
        )
    }

    fn cmp(&self, o: &Self) -> Ordering {
        let (a, b) = (self.key(), o.key());
        a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1))
    }
}

async fn score(
    surface: &Surface,
    opt: &Optimizer,
    starts: &[glam::DVec2],
    s: &TuneSetup,
    seed: u64,
    progress: &Progress,
) -> Option<(Score, Vec<super::RunEnd>)> {
    let ends = ends_paced(
        surface,
        opt,
        starts,
        s.steps,
        seed,
        s.target,
        s.precision,
        progress,
    )
    .await?;
    Some((score_of(&ends, s.grad_cost), ends))
}

/// The score of a setting's runs.
fn score_of(ends: &[super::RunEnd], grad_cost: u64) -> Score {
    let rt: Vec<Runtime> = ends.iter().map(Runtime::from).collect();
    let rt_evals: Vec<Runtime> = ends
        .iter()
        .map(|e| Runtime::in_evals(e, grad_cost))
        .collect();
    let losses: Vec<f64> = ends
        .iter()
        .filter(|e| e.status != super::RunStatus::Diverged)
        .map(|e| e.loss)
        .collect();
    Score {
        ert: ert(&rt),
        ert_evals: ert(&rt_evals),
        median_loss: median(&losses),
    }
}

/// The seed of the held-out set's starts and noise.
pub fn held_out_seed(seed: u64) -> u64 {
    seed ^ 0x4E1D_0000_5EED_0001
}

/// Runs of the search for a budget of `budget` settings and `starts` starts (for progress
/// bars): successive halving runs `settings x starts / 8` per round for four rounds at most,
/// then the finalists and the defaults on all starts, then two settings on the held-out set.
pub fn total_runs(methods: &[Optimizer], budget: usize, starts: usize) -> usize {
    methods
        .iter()
        .map(|m| {
            plan(settings(m, budget).len(), starts)
                .iter()
                .sum::<usize>()
                + 3 * starts
        })
        .sum()
}

/// Runs per round: round `r` gives every survivor the first `starts / 2^(R-1-r)` starts, and
/// halves the survivors after it, until at most 4 (or 1 setting) remain for the full set.
fn plan(settings: usize, starts: usize) -> Vec<usize> {
    let mut rounds = Vec::new();
    let mut alive = settings;
    let mut halvings = 0;
    while alive > 4 && halvings < 3 {
        alive = alive.div_ceil(2);
        halvings += 1;
    }
    let mut alive = settings;
    for r in 0..=halvings {
        let n = (starts >> (halvings - r)).max(1.min(starts));
        rounds.push(alive * n);
        if r < halvings {
            alive = alive.div_ceil(2);
        }
    }
    rounds
}

/// One problem a setting is scored on: a surface, its starts and its target.
pub(crate) struct TuneProblem<'a> {
    pub surface: &'a Surface,
    pub starts: &'a [glam::DVec2],
    pub target: Target,
}

/// What [`search_paced`] found: the best setting (the defaults when none beat them) and the
/// scores of it and of the defaults on all the starts.
pub(crate) struct Searched {
    pub setting: Setting,
    pub opt: Optimizer,
    score: Score,
    default_score: Score,
}

impl Searched {
    /// The setting's values by name (empty: the method's defaults, when it has nothing to tune).
    pub fn params(&self) -> Vec<(String, f64)> {
        self.setting
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect()
    }
}

/// The settings tried for a method within a budget of `budget` settings (see the module's
/// documentation).
pub(crate) fn search_grid(opt: &Optimizer, budget: usize) -> Vec<Setting> {
    settings(opt, budget)
}

/// Runs a successive-halving search would make over `grid` on problems of `starts` starts each,
/// the defaults' full run included (for progress bars).
pub(crate) fn search_runs(grid: usize, starts: usize, problems: usize) -> usize {
    (plan(grid, starts).iter().sum::<usize>() + starts) * problems
}

/// Successive halving over `grid` (see [`plan`]) with every round's runs pooled over the
/// `problems` (each round gives every survivor the first `n` starts of every problem): a
/// setting's score is the ERT in evaluations of all its runs together, then their median final
/// loss. The defaults are scored on all the starts and win ties.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn search_paced(
    problems: &[TuneProblem<'_>],
    opt: &Optimizer,
    grid: &[Setting],
    steps: u64,
    seed: u64,
    precision: Precision,
    grad_cost: u64,
    progress: &Progress,
) -> Result<Option<Searched>, String> {
    let starts = problems.iter().map(|p| p.starts.len()).min().unwrap_or(0);
    let plan = plan(grid.len(), starts);
    let halvings = plan.len() - 1;
    let mut alive: Vec<Setting> = grid.to_vec();
    let mut finals: Vec<(Setting, Score)> = Vec::new();
    let pooled = |o: Optimizer, n: usize| async move {
        let mut ends = Vec::new();
        for p in problems {
            ends.extend(
                ends_paced(
                    p.surface,
                    &o,
                    &p.starts[..n],
                    steps,
                    seed,
                    p.target,
                    precision,
                    progress,
                )
                .await?,
            );
        }
        Some(score_of(&ends, grad_cost))
    };
    for r in 0..=halvings {
        let n = (starts >> (halvings - r)).max(1.min(starts));
        let mut scored = Vec::with_capacity(alive.len());
        for setting in &alive {
            let o = with_setting(opt, setting)?;
            let Some(sc) = pooled(o, n).await else {
                return Ok(None);
            };
            scored.push((setting.clone(), sc));
        }
        // Stable: equal scores keep the grid's order.
        scored.sort_by(|a, b| a.1.cmp(&b.1));
        if r == halvings {
            finals = scored;
        } else {
            alive = scored
                .iter()
                .take(alive.len().div_ceil(2))
                .map(|x| x.0.clone())
                .collect();
        }
    }
    let Some(default_score) = pooled(opt.clone(), starts).await else {
        return Ok(None);
    };
    // The defaults win ties: a tuned setting is never reported worse than them.
    Ok(Some(match finals.first() {
        Some((setting, sc)) if sc.cmp(&default_score) == Ordering::Less => Searched {
            opt: with_setting(opt, setting)?,
            score: *sc,
            default_score,
            setting: setting.clone(),
        },
        _ => Searched {
            opt: opt.clone(),
            score: default_score,
            default_score,
            setting: defaults(opt),
        },
    }))
}

/// Tunes every method (see the module's documentation). Deterministic for a seed, whatever the
/// number of threads; `None` when cancelled.
pub fn tune(
    surface: &Surface,
    methods: &[Optimizer],
    s: &TuneSetup,
    progress: &Progress,
) -> Result<Option<Vec<TuneRow>>, String> {
    block_on(tune_paced(surface, methods, s, progress))
}

/// [`tune`], pausing between slices of runs (see [`super::pace`]).
pub async fn tune_paced(
    surface: &Surface,
    methods: &[Optimizer],
    s: &TuneSetup,
    progress: &Progress,
) -> Result<Option<Vec<TuneRow>>, String> {
    let tuning = uniform_starts(s.region, s.starts, s.seed);
    let held_out = held_out_starts(s);
    let targets = held_out_targets(surface, s);
    let scale = s.evals.map(|evals| super::ecdf::EvalScale {
        evals,
        grad_cost: s.grad_cost,
    });
    let budgets = super::ecdf::budgets(s.evals.unwrap_or(s.steps));
    let mut rows = Vec::with_capacity(methods.len());
    let outer = s;
    for opt in methods {
        // On the one cost scale every method is given `evals` evaluations (an update rule
        // `evals / grad_cost` updates).
        let (opt, steps) = match outer.evals {
            Some(e) => opt.with_eval_budget(e, outer.grad_cost),
            None => (opt.clone(), outer.steps),
        };
        let (opt, s) = (&opt, &TuneSetup { steps, ..*outer });
        let grid = settings(opt, s.budget);
        let problem = TuneProblem {
            surface,
            starts: &tuning,
            target: s.target,
        };
        let Some(searched) = search_paced(
            std::slice::from_ref(&problem),
            opt,
            &grid,
            s.steps,
            s.seed,
            s.precision,
            s.grad_cost,
            progress,
        )
        .await?
        else {
            return Ok(None);
        };
        let (best_opt, best_score, default_score, best_params) = (
            searched.opt,
            searched.score,
            searched.default_score,
            searched.setting,
        );
        let hs = held_out_seed(s.seed);
        // The tuned setting on the held-out starts, with its best precision at each budget (for
        // its ECDF), then the defaults.
        let tuned_run = match scale {
            Some(scale) => {
                super::ecdf::anytime_in_evals(
                    surface,
                    &best_opt,
                    &held_out,
                    scale,
                    hs,
                    s.target,
                    s.precision,
                    progress,
                    &budgets,
                )
                .await
            }
            None => {
                batch_paced(
                    surface,
                    &best_opt,
                    &held_out,
                    s.steps,
                    hs,
                    s.target,
                    s.precision,
                    progress,
                    &budgets,
                )
                .await
            }
        };
        let (Some((tuned_ends, best, _)), Some((_, default_ends))) = (
            tuned_run,
            score(surface, opt, &held_out, s, hs, progress).await,
        ) else {
            return Ok(None);
        };
        let held_out_ecdf = EcdfCurve {
            method: opt.id.clone(),
            fractions: super::ecdf::fractions(&best, budgets.len(), &targets),
            budgets: budgets.clone(),
            lowest: super::batch::Target::lowest_of(&tuned_ends),
            in_evals: scale.is_some(),
        };
        let mut tuned = RaceRow::of(&opt.id, tuned_ends, s.target, hs, 0.0);
        let mut default = RaceRow::of(&opt.id, default_ends, s.target, hs, 0.0);
        if s.grad_cost != super::GRAD_COST {
            tuned.set_grad_cost(s.grad_cost, hs);
            default.set_grad_cost(s.grad_cost, hs);
        }
        let params = best_params
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        rows.push(TuneRow {
            method: opt.id.clone(),
            params,
            settings_tried: if best_params.is_empty() && grid == [Vec::new()] {
                1
            } else {
                grid.len() + 1
            },
            success_rate: tuned.success_rate,
            ert: tuned.ert,
            ert_low: tuned.ert_low,
            ert_high: tuned.ert_high,
            default_success_rate: default.success_rate,
            default_ert: default.ert,
            default_ert_low: default.ert_low,
            default_ert_high: default.ert_high,
            tuning_ert: best_score.ert,
            tuning_median_loss: best_score.median_loss,
            tuning_default_ert: default_score.ert,
            tuning_default_median_loss: default_score.median_loss,
            held_out: tuned,
            default_held_out: default,
            held_out_ecdf,
        });
    }
    Ok(Some(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_grid_fits_the_budget() {
        let adam = Optimizer::by_id("adam").unwrap();
        let g = settings(&adam, 32);
        assert_eq!(g.len(), 32);
        assert!(
            g.iter()
                .all(|s| s.len() == 2 && s[0].0 == "lr" && s[0].1 > 0.0 && s[1].0 == "beta1")
        );
        let sgd = Optimizer::by_id("sgd").unwrap();
        let g = settings(&sgd, 32);
        assert_eq!(g.len(), 32);
        assert!(g.iter().all(|s| s.len() == 1 && s[0].0 == "lr"));
        assert_eq!(settings(&sgd, 1).len(), 1);
        // A method that asks for evaluations: its scale, or nothing.
        let cma = Optimizer::by_id("cma-es").unwrap();
        let g = settings(&cma, 8);
        assert_eq!(g.len(), 8);
        assert_eq!(g[0], vec![("sigma0", 0.01)]);
        assert_eq!(g[7], vec![("sigma0", 1.0)]);
        assert_eq!(defaults(&cma), vec![("sigma0", 0.2)]);
        let de = Optimizer::by_id("differential-evolution").unwrap();
        assert_eq!(settings(&de, 10)[9], vec![("recombination", 1.0)]);
        for id in ["nelder-mead", "bfgs", "random-search", "multistart"] {
            let m = Optimizer::by_id(id).unwrap();
            assert_eq!(settings(&m, 32), vec![Vec::new()], "{id}");
        }
        let m = momentum_grid(4);
        for (a, b) in m.iter().zip([0.0, 0.784_557, 0.953_584, 0.99]) {
            assert!((a - b).abs() < 2e-6, "{m:?}");
        }
        assert_eq!(plan(32, 1000), vec![32 * 125, 16 * 250, 8 * 500, 4 * 1000]);
        assert_eq!(plan(3, 100), vec![300]);
    }

    #[test]
    fn values_are_set_by_name_with_their_ranges() {
        let mut adam = Optimizer::by_id("adam").unwrap();
        set_value(&mut adam, "beta1", 0.5).unwrap();
        assert_eq!(get_value(&adam, "beta1"), Some(0.5));
        assert_eq!(get_value(&adam, "beta2"), Some(0.999));
        assert!(set_value(&mut adam, "beta2", 1.0).is_err());
        let e = set_value(&mut adam, "momentum", 0.5).unwrap_err();
        assert!(e.contains("beta1") && e.contains("lr"), "{e}");
        assert!(set_value(&mut adam, "lr", -1.0).is_err());
    }
}
