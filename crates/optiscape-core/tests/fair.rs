//! The fair-comparison statistics: ERT and success rates as the runs imply them, ECDFs
//! consistent with races, tuning that never reports worse than the defaults, phase maps equal
//! to races at their cells, all independent of the number of threads.

use optiscape_core::lab::ecdf::{budgets, coco_targets, ecdf, fractions};
use optiscape_core::lab::phase::{PhaseAxis, phase};
use optiscape_core::lab::tune::{TuneSetup, get_value, tune};
use optiscape_core::lab::{
    Precision, Progress, Target, ert, race, run_batch_anytime, run_batch_scalar_anytime,
    uniform_starts, wilson,
};
use optiscape_core::landscape::Surface;
use optiscape_core::optim::Optimizer;

fn method(id: &str) -> Optimizer {
    Optimizer::by_id(id).unwrap()
}

fn in_threads<T: Send>(n: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn race_rates_and_ert_are_what_the_runs_imply() {
    let s = Surface::by_id("rastrigin").unwrap();
    let mut adam = method("adam");
    adam.set("lr", "0.05").unwrap();
    let methods = [adam, method("sgd"), method("heavy-ball")];
    let starts = uniform_starts(s.domain, 500, 4);
    let target = Target::of(&s);
    let rows = race(&s, &methods, &starts, 300, 4, target);
    for r in &rows {
        let n = r.ends.len();
        assert_eq!(n, 500);
        let ok = r.ends.iter().filter(|e| e.succeeded(target)).count();
        assert_eq!(r.success_rate, ok as f64 / n as f64);
        assert_eq!((r.success_rate_low, r.success_rate_high), wilson(ok, n));
        assert!(r.success_rate_low <= r.success_rate && r.success_rate <= r.success_rate_high);
        let reached = r.ends.iter().filter(|e| e.first_success.is_some()).count();
        assert_eq!(r.reached_rate, reached as f64 / n as f64);
        let spent: u64 = r
            .ends
            .iter()
            .map(|e| e.first_success.unwrap_or(e.steps))
            .sum();
        let expect = (reached > 0).then(|| spent as f64 / reached as f64);
        assert_eq!(r.ert, expect, "{}", r.method);
        if let (Some(e), Some(lo)) = (r.ert, r.ert_low) {
            assert!(lo <= e, "{}", r.method);
            if let Some(hi) = r.ert_high {
                assert!(e <= hi);
            }
        }
        if r.ert.is_none() {
            assert_eq!((r.ert_low, r.ert_high), (None, None));
        }
    }
    assert!(rows.iter().any(|r| r.ert.is_some()));
    // The same race in one thread: the same numbers, intervals included.
    let again = in_threads(1, || race(&s, &methods, &starts, 300, 4, target));
    let timeless = |rows: &[optiscape_core::lab::RaceRow]| {
        rows.iter()
            .map(|r| optiscape_core::lab::RaceRow {
                seconds: 0.0,
                ..r.clone()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(timeless(&rows), timeless(&again));
    let runtimes: Vec<_> = rows[0].ends.iter().map(Into::into).collect();
    assert_eq!(ert(&runtimes), rows[0].ert);
}

#[test]
fn best_so_far_is_the_same_on_lanes_and_alone() {
    let budgets = budgets(150);
    for id in ["seed", "ackley"] {
        let mut s = Surface::by_id(id).unwrap();
        s.set_instance(2);
        let target = Target::of(&s);
        let starts = uniform_starts(s.domain, 37, 8);
        for m in ["adam", "langevin", "nesterov"] {
            let o = method(m);
            let p = Progress::default();
            let (fe, fb) = run_batch_anytime(
                &s,
                &o,
                &starts,
                150,
                3,
                target,
                Precision::F64,
                &p,
                &budgets,
            )
            .unwrap()
            .unwrap();
            let (se, sb) = run_batch_scalar_anytime(&s, &o, &starts, 150, 3, target, &p, &budgets)
                .unwrap()
                .unwrap();
            assert_eq!(fe, se);
            assert_eq!(fb.len(), 37 * budgets.len());
            for (a, b) in fb.iter().zip(&sb) {
                assert_eq!(a.to_bits(), b.to_bits(), "{id} {m}");
            }
            // Reached the tolerance by the last budget exactly when the run has a first success.
            for (r, e) in fe.iter().enumerate() {
                let best = fb[r * budgets.len() + budgets.len() - 1];
                assert_eq!(
                    best <= target.tol,
                    e.first_success.is_some(),
                    "{id} {m} {r}"
                );
            }
        }
    }
}

#[test]
fn ecdfs_never_fall_and_meet_the_race_at_the_success_target() {
    let s = Surface::seed();
    let target = Target::of(&s);
    let methods = [method("seed:sgd"), method("seed:momentum"), method("adam")];
    let starts = uniform_starts(s.domain, 300, 5);
    let p = Progress::default();
    let curves = ecdf(
        &s,
        &methods,
        &starts,
        400,
        5,
        target,
        &coco_targets(),
        Precision::F64,
        &p,
    )
    .unwrap();
    let rows = race(&s, &methods, &starts, 400, 5, target);
    for (c, r) in curves.iter().zip(&rows) {
        assert!(c.fractions.windows(2).all(|w| w[0] <= w[1]), "{}", c.method);
        assert!(c.fractions.iter().all(|f| (0.0..=1.0).contains(f)));
        assert_eq!(c.budgets, budgets(400));
        // One target, the success tolerance, at the final budget: the share of runs that
        // reached it, as the race counts them.
        let b = budgets(400);
        let (_, best) = run_batch_anytime(
            &s,
            &methods.iter().find(|m| m.id == c.method).unwrap().clone(),
            &starts,
            400,
            5,
            target,
            Precision::F64,
            &p,
            &b,
        )
        .unwrap()
        .unwrap();
        let single = fractions(&best, b.len(), &[target.tol]);
        assert_eq!(*single.last().unwrap(), r.reached_rate, "{}", c.method);
    }
}

#[test]
fn tuning_is_never_worse_than_the_defaults_and_ignores_the_thread_count() {
    let s = Surface::by_id("rastrigin").unwrap();
    let setup = TuneSetup {
        region: s.domain,
        starts: 160,
        steps: 200,
        budget: 8,
        seed: 11,
        target: Target::of(&s),
        precision: Precision::F64,
        grad_cost: optiscape_core::lab::GRAD_COST,
        evals: None,
    };
    let methods = [method("sgd"), method("heavy-ball"), method("adam")];
    let p = Progress::default();
    let rows = tune(&s, &methods, &setup, &p).unwrap().unwrap();
    for r in &rows {
        let key = |e: Option<f64>, m: Option<f64>| {
            (e.unwrap_or(f64::INFINITY), m.unwrap_or(f64::INFINITY))
        };
        let tuned = key(r.tuning_ert, r.tuning_median_loss);
        let default = key(r.tuning_default_ert, r.tuning_default_median_loss);
        assert!(tuned <= default, "{}: {tuned:?} vs {default:?}", r.method);
        assert_eq!(r.params[0].0, "lr");
        assert!(r.params[0].1 > 0.0);
        assert!(r.settings_tried <= setup.budget + 1);
    }
    // Heavy ball and Adam tune a momentum-like parameter, SGD does not.
    assert_eq!(rows[0].params.len(), 1);
    assert_eq!(rows[1].params[1].0, "momentum");
    assert_eq!(rows[2].params[1].0, "beta1");
    // On Rastrigin the defaults' tiny learning rates never reach the minimum; tuned ones do.
    assert!(
        rows.iter()
            .any(|r| r.ert.is_some() && r.default_ert.is_none())
    );
    let again = in_threads(1, || tune(&s, &methods, &setup, &p).unwrap().unwrap());
    assert_eq!(rows, again);
}

#[test]
fn phase_cells_equal_races_at_their_settings() {
    let s = Surface::by_id("rastrigin").unwrap();
    let target = Target::of(&s);
    let hb = method("heavy-ball");
    let x = PhaseAxis::parse("--x", &hb, "lr=1e-3..0.1", 3, true).unwrap();
    let y = PhaseAxis::parse("--y", &hb, "momentum=0..0.9", 2, false).unwrap();
    let starts = uniform_starts(s.domain, 120, 2);
    let p = Progress::default();
    let cells = phase(
        &s,
        &hb,
        &x,
        &y,
        &starts,
        200,
        2,
        target,
        Precision::F64,
        None,
        &p,
    )
    .unwrap()
    .unwrap();
    assert_eq!(cells.len(), 6);
    for c in &cells {
        let mut o = hb.clone();
        o.set("lr", &format!("{:?}", c.x_value)).unwrap();
        o.set("momentum", &format!("{:?}", c.y_value)).unwrap();
        assert_eq!(get_value(&o, "lr"), Some(c.x_value));
        let r = &race(&s, &[o], &starts, 200, 2, target)[0];
        assert_eq!((r.success_rate, r.ert), (c.success_rate, c.ert));
    }
    // x varies fastest.
    assert_eq!(cells[0].y_value, cells[2].y_value);
    assert!(cells[0].x_value < cells[1].x_value);
    let again = in_threads(1, || {
        phase(
            &s,
            &hb,
            &x,
            &y,
            &starts,
            200,
            2,
            target,
            Precision::F64,
            None,
            &p,
        )
        .unwrap()
        .unwrap()
    });
    assert_eq!(cells, again);
}
