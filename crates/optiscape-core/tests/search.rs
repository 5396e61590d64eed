//! The methods that ask for evaluations (Nelder–Mead, BFGS, basin hopping, dual annealing,
//! CMA-ES, differential evolution, random search, multistart) as first-class methods: every count on one cost scale,
//! seeded and deterministic whatever the thread count, the lab's answer their best point, and
//! bad settings refused. (Their equality with SciPy is checked in the Python package's tests,
//! which run SciPy itself.)

use glam::DVec2;
use optiscape_core::lab::{
    GRAD_COST, Progress, RunStatus, Target, cost, race, run_batch, run_batch_scalar, trace,
    uniform_starts,
};
use optiscape_core::landscape::Surface;
use optiscape_core::optim::{Optimizer, catalog};

const SEARCH: [&str; 8] = [
    "nelder-mead",
    "bfgs",
    "basin-hopping",
    "annealing",
    "cma-es",
    "differential-evolution",
    "random-search",
    "multistart",
];

fn surface(id: &str) -> Surface {
    Surface::parse(id).unwrap_or_else(|e| panic!("{id}: {e}"))
}

fn method(id: &str) -> Optimizer {
    Optimizer::by_id(id).unwrap_or_else(|| panic!("{id}"))
}

#[test]
fn every_search_method_is_in_the_catalog_and_asks_for_evaluations() {
    for id in SEARCH {
        assert!(catalog().iter().any(|m| m.id == id), "{id}");
        assert!(method(id).is_search(), "{id}");
    }
    assert!(!method("adam").is_search());
}

/// An update rule asks for one gradient (with its value) per update: n + 1 = 3 evaluations
/// each on the one cost scale.
#[test]
fn an_update_rule_costs_one_gradient_per_update() {
    let s = surface("himmelblau");
    let t = trace(&s, &method("adam"), DVec2::new(1.0, 1.0), 50);
    for (k, p) in t.points.iter().enumerate() {
        assert_eq!((p.evals, p.grads), (k as u64, k as u64));
    }
    assert_eq!(cost(50, 50, GRAD_COST), 150);
    assert_eq!(cost(7, 0, GRAD_COST), 7);
}

/// Nelder–Mead asks for values only: its initial simplex (3), then 1 to 4 per iteration; it
/// stops by its own test and its trace stops there.
#[test]
fn nelder_mead_counts_its_simplex_and_stops_by_its_test() {
    let s = surface("himmelblau");
    let t = trace(&s, &method("nelder-mead"), DVec2::new(1.0, 1.0), 1000);
    assert_eq!(t.status, RunStatus::Done);
    assert!(
        t.points.len() < 200,
        "stopped by xatol/fatol: {}",
        t.points.len()
    );
    let first = t.points[1];
    assert!((4..=7).contains(&first.evals), "{first:?}");
    for w in t.points.windows(2).skip(1) {
        let d = w[1].evals - w[0].evals;
        assert!((1..=4).contains(&d), "{w:?}");
        assert!(
            w[1].loss <= w[0].loss,
            "the best vertex never gets worse: {w:?}"
        );
        assert_eq!(w[1].grads, 0);
    }
    let end = t.points.last().expect("rows");
    assert!(end.loss < 1e-6, "a minimum of himmelblau: {end:?}");
}

/// BFGS reaches a minimum of Rosenbrock's valley from the classic start in a few dozen
/// iterations, asking for values and gradients at the same points.
#[test]
fn bfgs_solves_rosenbrock() {
    let s = surface("rosenbrock");
    let t = trace(&s, &method("bfgs"), DVec2::new(-1.2, 1.0), 500);
    let end = t.points.last().expect("rows");
    assert!(t.points.len() < 100, "{}", t.points.len());
    assert!(
        (end.x - 1.0).abs() < 1e-4 && (end.y - 1.0).abs() < 1e-4,
        "{end:?}"
    );
    assert!(end.evals >= end.grads && end.grads > 10, "{end:?}");
}

/// The stochastic methods are seeded per run: a batch equals its runs one at a time, whatever
/// the thread count, and every run costs what its trace says.
#[test]
fn search_runs_are_seeded_and_deterministic() {
    let s = surface("rastrigin");
    let target = Target::of(&s);
    let starts = uniform_starts(s.domain, 24, 5);
    for id in SEARCH {
        let opt = method(id);
        let a = run_batch(&s, &opt, &starts, 40, 9, target);
        let b = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("pool")
            .install(|| run_batch_scalar(&s, &opt, &starts, 40, 9, target, &Progress::default()))
            .expect("not cancelled");
        assert_eq!(a, b, "{id}");
        for e in &a {
            assert!(e.evals > 0, "{id}: {e:?}");
            assert!(
                e.loss <= e.lowest || e.lowest.is_infinite() || e.loss == e.lowest,
                "{id}"
            );
        }
    }
}

/// The lab answers with the method's best point: random search's end is the lowest sample it
/// drew, never worse than its start.
#[test]
fn the_answer_is_the_best_point_found() {
    let s = surface("ackley");
    let target = Target::of(&s);
    let starts = uniform_starts(s.domain, 50, 2);
    let ends = run_batch(&s, &method("random-search"), &starts, 200, 3, target);
    for e in &ends {
        assert!(e.loss <= s.height(e.start), "{e:?}");
        assert_eq!(e.loss, e.lowest, "{e:?}");
        assert_eq!(e.evals, 201, "the start and 200 samples");
    }
}

/// What the methods were built for: on Rastrigin (one global minimum among ~100 local ones),
/// with 2,000 evaluations each on the one cost scale, the methods built for local optima find
/// the global minimum from most starts; gradient descent (666 updates) from very few.
#[test]
fn global_methods_escape_local_minima_on_rastrigin() {
    let s = surface("rastrigin");
    let target = Target::of(&s);
    let starts = uniform_starts(s.domain, 100, 11);
    let mut ipop = method("cma-es");
    ipop.set("restarts", "ipop").expect("ipop");
    ipop.id = "cma-es-ipop".into();
    let mut rows = Vec::new();
    for m in [
        method("differential-evolution"),
        method("basin-hopping"),
        method("annealing"),
        ipop,
        method("sgd"),
    ] {
        let (m, steps) = m.with_eval_budget(2000, GRAD_COST);
        rows.extend(race(&s, &[m], &starts, steps, 0, target));
    }
    let rate = |id: &str| rows.iter().find(|r| r.method == id).expect(id).success_rate;
    let summary: Vec<_> = rows
        .iter()
        .map(|r| (r.method.clone(), r.success_rate, r.mean_evals))
        .collect();
    for id in ["differential-evolution", "basin-hopping", "annealing"] {
        assert!(rate(id) > 0.8, "{id}: {summary:?}");
    }
    // CMA-ES's small default population (6 in 2D) and quick restarts make 2,000 evaluations
    // too few for Rastrigin half the time, as for pycma's fmin2 with IPOP from the same kind of
    // starts (about 0.45; docs/benchmarks.md).
    assert!(rate("cma-es-ipop") > 0.3, "{summary:?}");
    assert!(rate("sgd") < 0.2, "{summary:?}");
    // No run spends more than its budget (a method stops at the evaluation that spends it),
    // and an update of SGD costs 3 evaluations.
    for r in &rows {
        assert!(r.mean_evals <= 2000.0, "{summary:?}");
    }
    let sgd = rows.iter().find(|r| r.method == "sgd").expect("sgd");
    assert_eq!(sgd.mean_evals, 1998.0);
    assert_eq!(sgd.grad_cost, 3);
}

/// Bad settings: one clear message, nothing changed.
#[test]
fn bad_settings_are_refused() {
    let mut de = method("differential-evolution");
    let e = de.set("popsize", "3").expect_err("popsize < 4");
    assert!(e.contains("popsize") && e.contains("in [4, 50000]"), "{e}");
    assert_eq!(de.get("popsize").as_deref(), Some("15"));
    assert!(de.set("recombination", "1.5").is_err());
    assert!(de.set("mutation", "0.5,2.5").is_err());
    let mut bh = method("basin-hopping");
    assert!(bh.set("stepsize", "0").is_err());
    assert!(bh.set("stepsize", "-1").is_err());
    assert!(bh.set("T", "-1").is_err());
    assert!(bh.set("lr", "0.1").is_err(), "no learning rate");
    let mut nm = method("nelder-mead");
    assert!(nm.set("xatol", "nan").is_err());
    let mut cma = method("cma-es");
    for (k, v) in [
        ("sigma0", "0"),
        ("sigma0", "-0.1"),
        ("popsize", "3"),
        ("restarts", "sometimes"),
    ] {
        let e = cma.set(k, v).expect_err(v);
        assert!(e.contains(k), "{e}");
    }
    cma.set("restarts", "bipop").expect("bipop");
    assert_eq!(cma.get("restarts").as_deref(), Some("bipop"));
    let mut sa = method("annealing");
    for (k, v) in [
        ("visit", "1"),
        ("visit", "3.5"),
        ("accept", "0"),
        ("initial_temp", "0"),
    ] {
        assert!(sa.set(k, v).is_err(), "{k}={v}");
    }
    assert!(sa.set("restart_temp_ratio", "1").is_err());
    // Population sizes have a ceiling (a run allocates its population), said in the message.
    for (m, v) in [
        ("cma-es", "100001"),
        ("cma-es", "4294967296"),
        ("differential-evolution", "50001"),
    ] {
        let e = method(m).set("popsize", v).expect_err(v);
        assert!(e.contains("popsize") && e.contains("in [4, "), "{e}");
    }
    method("cma-es")
        .set("popsize", "100000")
        .expect("the ceiling itself");
}

/// IPOP doubles the population at each restart up to the ceiling and no further (a ball in
/// the sandbox has no evaluation budget to end the doubling).
#[test]
fn restarts_stop_growing_the_population_at_its_ceiling() {
    use optiscape_core::optim::search::MAX_POPULATION;
    let mut ipop = method("cma-es");
    ipop.set("popsize", &(MAX_POPULATION * 3 / 5).to_string())
        .expect("popsize");
    ipop.set("restarts", "ipop").expect("ipop");
    let t = trace(&surface("bowl"), &ipop, DVec2::new(2.0, -1.5), 600);
    let per_gen: Vec<u64> = t
        .points
        .windows(2)
        .map(|w| w[1].evals - w[0].evals)
        .collect();
    let most = per_gen.iter().copied().max().expect("generations");
    assert_eq!(most, MAX_POPULATION as u64, "{:?}", &per_gen[..5]);
    assert!(
        per_gen
            .iter()
            .filter(|g| **g == MAX_POPULATION as u64)
            .count()
            > 1,
        "restarted and ran at the ceiling"
    );
}

/// A phase map and a sweep vary a population size over whole numbers (values that round alike
/// refused), and a map's ERTs in evaluations are the race's ERT in evaluations.
#[test]
fn phase_maps_and_sweeps_take_population_sizes_and_count_evaluations() {
    use optiscape_core::lab::phase::{PhaseAxis, phase};
    use optiscape_core::lab::sweep::{sweep_param, values};
    use optiscape_core::lab::{Precision, RaceRow};
    let (cma, _) = method("cma-es").with_eval_budget(600, GRAD_COST);
    let x = PhaseAxis::parse("--x", &cma, "popsize=4..12", 3, false).expect("whole axis");
    assert_eq!(x.values(), vec![4.0, 8.0, 12.0]);
    let e = PhaseAxis::parse("--x", &cma, "popsize=4..10", 20, true).expect_err("repeats");
    assert!(
        e.contains("whole numbers") && e.contains("fewer points"),
        "{e}"
    );
    let e = PhaseAxis::parse("--x", &cma, "popsize=4.5..10", 3, false).expect_err("4.5");
    assert!(e.contains("popsize"), "{e}");
    let y = PhaseAxis::parse("--y", &cma, "sigma0=0.1..0.3", 2, false).expect("sigma0");
    let s = surface("rastrigin");
    let starts = uniform_starts(s.domain, 30, 4);
    let target = Target::of(&s);
    let cells = phase(
        &s,
        &cma,
        &x,
        &y,
        &starts,
        600,
        4,
        target,
        Precision::F64,
        Some(GRAD_COST),
        &Progress::default(),
    )
    .expect("valid")
    .expect("not cancelled");
    assert_eq!(cells.len(), 6);
    assert_eq!(cells[1].x_value, 8.0);
    // The cell (popsize 8, sigma0 0.1) against a race of that setting.
    let mut one = cma.clone();
    one.set("popsize", "8").expect("8");
    one.set("sigma0", "0.1").expect("0.1");
    let row = RaceRow::of(
        "cma-es",
        run_batch(&s, &one, &starts, 600, 4, target),
        target,
        4,
        0.0,
    );
    assert_eq!(cells[1].success_rate, row.success_rate);
    assert_eq!(cells[1].ert, row.ert_evals);
    assert!(cells.iter().any(|c| c.ert.is_some()), "{cells:?}");
    // Sweeps: rounded, refused when values repeat.
    let spec = sweep_param(&cma, "popsize", 4.0, 40.0).expect("a count");
    assert_eq!(
        values(spec, 4.0, 40.0, 4, false).expect("distinct"),
        vec![4.0, 16.0, 28.0, 40.0]
    );
    assert!(values(spec, 4.0, 6.0, 5, false).is_err());
}

/// CMA-ES without restarts stops by pycma's tests on a bowl, at the minimum; with IPOP restarts
/// each restart doubles the population.
#[test]
fn cma_es_stops_and_restarts_with_larger_populations() {
    let s = surface("bowl");
    let t = trace(&s, &method("cma-es"), DVec2::new(2.0, -1.5), 2000);
    assert!(t.points.len() < 2000, "stopped by its own tests");
    let end = t.points.last().expect("rows");
    assert!(end.loss < 1e-9, "{end:?}");
    // Six evaluations a generation (pycma's population in 2D), no gradient.
    assert_eq!(t.points[1].evals, 6);
    assert_eq!(end.grads, 0);
    let mut ipop = method("cma-es");
    ipop.set("restarts", "ipop").expect("ipop");
    let r = trace(&surface("rastrigin"), &ipop, DVec2::new(3.0, 3.0), 400);
    let per_gen: Vec<u64> = r
        .points
        .windows(2)
        .map(|w| w[1].evals - w[0].evals)
        .collect();
    assert!(
        per_gen.contains(&12) && per_gen.contains(&24),
        "{per_gen:?}"
    );
    assert!(
        per_gen.windows(2).all(|w| w[1] >= w[0]),
        "the population only grows"
    );
}

/// CMA-ES's constants are pycma's (version 4, printed by `cma.CMAEvolutionStrategy([1, 2],
/// 0.5, {'popsize': λ}).sp` and `.adapt_sigma`) for the populations IPOP goes through, and an
/// odd one (a zero weight in the middle).
#[test]
fn cma_es_constants_are_pycmas() {
    use optiscape_core::optim::search::CmaConstants;
    #[allow(clippy::type_complexity)]
    let pycma: [(usize, f64, f64, f64, f64, f64, f64, &[f64]); 4] = [
        (
            6,
            0.1548153998964136,
            0.08559277942666424,
            0.6245545390268264,
            0.5,
            1.5,
            2.0286114646100617,
            &[
                0.6370425712412168,
                0.28457025743803294,
                0.07838717132075033,
                -0.28638378259655295,
                -0.7649580940851277,
                -1.1559817781589212,
            ],
        ),
        (
            12,
            0.13680396853177682,
            0.2278414579611815,
            0.6027806383430335,
            0.5,
            1.5,
            3.729458934303067,
            &[
                0.4024029428187127,
                0.25338908403288657,
                0.16622156455542053,
                0.10437522524706053,
                0.0564034775763251,
                0.017207705769594468,
                -0.04746024188147265,
                -0.13297644221122965,
                -0.2084070767209792,
                -0.2758820785669984,
                -0.33692064237895836,
                -0.39264448528484514,
            ],
        ),
        (
            24,
            0.11162972073068042,
            0.4706512695226347,
            0.576767324539263,
            0.5,
            2.334637086140458,
            7.02637555759215,
            &[],
        ),
        (
            9,
            0.14565994791254258,
            0.1531423245871752,
            0.613114361044411,
            0.5,
            1.5,
            2.8406104297170542,
            &[
                0.49373837748434096,
                0.2810968324806433,
                0.15670950255807004,
                0.0684552874769457,
                0.0,
                -0.22563659775980724,
                -0.4164096229040133,
                -0.5816647340150725,
                -0.7274300725008708,
            ],
        ),
    ];
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
    for (lambda, c1, cmu, cc, cs, damps, mueff, weights) in pycma {
        let k = CmaConstants::new(lambda);
        for (name, got, want) in [
            ("c1", k.c1, c1),
            ("cmu", k.cmu, cmu),
            ("cc", k.cc, cc),
            ("cs", k.cs, cs),
            ("damps", k.damps, damps),
            ("mueff", k.mueff, mueff),
        ] {
            assert!(
                close(got, want),
                "λ = {lambda}: {name} {got} vs pycma {want}"
            );
        }
        for (i, (g, w)) in k.weights.iter().zip(weights).enumerate() {
            assert!(close(*g, *w), "λ = {lambda}: weight {i} {g} vs pycma {w}");
        }
        assert_eq!(k.weights.len(), lambda);
    }
}

/// Runtime distributions on the one cost scale: a method that asks for evaluations is counted
/// evaluation by evaluation (its best precision within `b` evaluations reaches the tolerance
/// exactly when its first reaching evaluation costs at most `b`, as the race counts it), an
/// update rule within `b` evaluations is where it was after `b / grad_cost` updates.
#[test]
fn ecdfs_in_evaluations_count_what_each_budget_pays_for() {
    use optiscape_core::lab::ecdf::{EvalScale, budgets, ecdf, ecdf_in_evals};
    use optiscape_core::lab::{Precision, run_batch_anytime};
    let s = surface("rastrigin");
    let target = Target::of(&s);
    let starts = uniform_starts(s.domain, 60, 9);
    let p = Progress::default();
    for grad_cost in [GRAD_COST, 5] {
        let scale = EvalScale {
            evals: 900,
            grad_cost,
        };
        let b = budgets(900);
        for id in [
            "differential-evolution",
            "annealing",
            "nelder-mead",
            "multistart",
        ] {
            let (opt, steps) = method(id).with_eval_budget(900, grad_cost);
            assert_eq!(steps, 900);
            let (ends, best) =
                run_batch_anytime(&s, &opt, &starts, steps, 4, target, Precision::F64, &p, &b)
                    .unwrap()
                    .unwrap();
            for (j, budget) in b.iter().enumerate() {
                let by_best = (0..starts.len())
                    .filter(|r| best[r * b.len() + j] <= target.tol)
                    .count();
                let by_first = ends
                    .iter()
                    .filter(|e| {
                        e.first_success_counts
                            .is_some_and(|(ev, gr)| cost(ev, gr, grad_cost) <= *budget)
                    })
                    .count();
                assert_eq!(
                    by_best, by_first,
                    "{id}, grad cost {grad_cost}, budget {budget}"
                );
            }
            // Nothing is known before the first evaluation is paid for, and no run spends more
            // than its budget.
            assert!(
                ends.iter()
                    .all(|e| cost(e.evals, e.grads, grad_cost) <= 900)
            );
            let curve = &ecdf_in_evals(
                &s,
                &[method(id)],
                &starts,
                scale,
                4,
                target,
                &[target.tol],
                Precision::F64,
                &p,
            )
            .unwrap()[0];
            assert!(curve.in_evals && curve.budgets == b);
            let last = ends.iter().filter(|e| e.first_success.is_some()).count();
            assert_eq!(
                *curve.fractions.last().unwrap(),
                last as f64 / starts.len() as f64,
                "{id}"
            );
        }
        // An update rule: its curve in evaluations is its curve in updates, read at b / C.
        let adam = method("adam");
        let in_evals = &ecdf_in_evals(
            &s,
            std::slice::from_ref(&adam),
            &starts,
            scale,
            4,
            target,
            &[1.0, target.tol],
            Precision::F64,
            &p,
        )
        .unwrap()[0];
        let updates = 900 / grad_cost;
        let in_updates = &ecdf(
            &s,
            std::slice::from_ref(&adam),
            &starts,
            updates,
            4,
            target,
            &[1.0, target.tol],
            Precision::F64,
            &p,
        )
        .unwrap()[0];
        let ub = budgets(updates);
        for (budget, f) in in_evals.budgets.iter().zip(&in_evals.fractions) {
            let u = budget / grad_cost;
            if u == 0 {
                // Before its first update a run has its start.
                let at_start = starts
                    .iter()
                    .map(|p| {
                        let v = target.precision(s.height(*p));
                        [1.0, target.tol].iter().filter(|t| v <= **t).count()
                    })
                    .sum::<usize>() as f64
                    / (2 * starts.len()) as f64;
                assert_eq!(*f, at_start, "budget {budget}");
                continue;
            }
            // The updates curve at the last budget not above u (its budgets hold until the next).
            let i = ub.partition_point(|x| *x <= u) - 1;
            if ub[i] == u {
                assert_eq!(*f, in_updates.fractions[i], "budget {budget}");
            } else {
                assert!(*f >= in_updates.fractions[i], "budget {budget}");
            }
        }
        assert_eq!(
            in_evals.fractions.last(),
            in_updates.fractions.last(),
            "the whole budget"
        );
    }
}
