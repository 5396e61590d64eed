use super::*;
use std::collections::HashMap;

/// Keeps cells in memory, counting what it was asked.
#[derive(Default)]
struct Memory {
    cells: HashMap<String, Vec<u8>>,
    hits: usize,
}

impl CellStore for Memory {
    fn get(&mut self, key: &str) -> Option<Vec<u8>> {
        let c = self.cells.get(key).cloned();
        self.hits += c.is_some() as usize;
        c
    }
    fn put(&mut self, key: &str, bytes: &[u8]) -> Result<(), String> {
        self.cells.insert(key.to_string(), bytes.to_vec());
        Ok(())
    }
}

fn small() -> SuiteSetup {
    SuiteSetup {
        methods: ["sgd", "adam", "cma-es", "random-search"]
            .iter()
            .map(|m| Optimizer::by_id(m).unwrap())
            .collect(),
        surfaces: ["himmelblau", "rastrigin", "bowl"]
            .iter()
            .map(|s| Surface::by_id(s).unwrap())
            .collect(),
        instances: 2,
        tune_instances: 2,
        starts: 40,
        tune_starts: 16,
        budget: 600,
        evals: true,
        grad_cost: 3,
        tune_budget: 4,
        seed: 7,
    }
}

#[test]
fn tuning_instances_never_meet_the_evaluation_ones() {
    let mut s = small();
    s.instances = 50;
    s.tune_instances = 20;
    let (e, t) = s.instance_ids();
    assert_eq!((e.len(), t.len()), (50, 20));
    assert!(
        e.iter()
            .all(|i| !t.contains(i) && (1..=INSTANCE_IDS).contains(i))
    );
    let mut all = e.clone();
    all.extend(&t);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 70);
    // Drawn from the seed.
    s.seed += 1;
    assert_ne!(s.instance_ids().0, e);
}

#[test]
fn a_suite_is_deterministic_and_resumes_from_its_cells() {
    let s = small();
    let mut store = Memory::default();
    let (r1, d1, f1) = run_suite(&s, &mut store, &Progress::default()).unwrap();
    assert_eq!(
        f1,
        Finished {
            problems: 6,
            of: 6,
            tuning_done: true
        }
    );
    // A tuned setting equal to the defaults is the defaults' cell, computed once.
    let same: usize = r1
        .entries
        .iter()
        .flat_map(|e| &e.params)
        .filter(|(_, t)| t.is_default)
        .count()
        * s.instances;
    assert_eq!(store.hits, same);
    // sgd, adam and cma-es have something to tune; random search has not.
    let labels: Vec<&str> = r1.entries.iter().map(|e| e.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "sgd",
            "adam",
            "cma-es",
            "random-search",
            "sgd (tuned)",
            "adam (tuned)",
            "cma-es (tuned)"
        ]
    );
    // Again from the cells: the same numbers, nothing run.
    store.hits = 0;
    let progress = Progress::default();
    let (r2, d2, _) = run_suite(&s, &mut store, &progress).unwrap();
    assert!(store.hits > 0);
    let json = |r: &SuiteResults| serde_json::to_string(r).unwrap();
    assert_eq!(json(&r1), json(&r2));
    assert_eq!(d1.len(), d2.len());
    for (a, b) in d1.iter().zip(&d2) {
        assert_eq!(a.cells, b.cells);
    }
    // And from nothing: the same again.
    let (r3, _, _) = run_suite(&s, &mut NoStore, &Progress::default()).unwrap();
    assert_eq!(json(&r1), json(&r3));
}

#[test]
fn the_numbers_agree_with_their_runs() {
    let s = small();
    let (r, done, _) = run_suite(&s, &mut NoStore, &Progress::default()).unwrap();
    for (p, d) in r.problems.iter().zip(&done) {
        let best = p
            .rows
            .iter()
            .filter_map(|r| r.ert_evals)
            .fold(f64::INFINITY, f64::min);
        for (k, row) in p.rows.iter().enumerate() {
            let ends = &d.cells[k].ends;
            assert_eq!(row.runs, s.starts);
            // The escape rate from the runs' ends and the flows.
            let escapable = (0..ends.len())
                .filter(|&i| d.flows[i] - d.target.value > d.target.tol)
                .count();
            let escaped = (0..ends.len())
                .filter(|&i| {
                    d.flows[i] - d.target.value > d.target.tol
                        && !ends[i].status.cut_short()
                        && d.target.domain.contains(ends[i].end)
                        && ends[i].loss < d.flows[i] - d.target.tol
                })
                .count();
            assert_eq!(
                (row.escapable, row.escaped),
                (escapable, escaped),
                "{}",
                p.problem
            );
            if let Some(t) = row.ert_evals {
                assert_eq!(row.relative_ert, Some(t / best));
            }
        }
        // The bowl has one basin: nothing to escape.
        if p.surface == "bowl" {
            assert_eq!(p.chance_baseline, 1.0);
            assert!(p.rows.iter().all(|r| r.escape_rate.is_none()));
        }
        // Rastrigin has many: most starts are in a local basin.
        if p.surface == "rastrigin" {
            assert!(p.chance_baseline < 0.2, "{}", p.chance_baseline);
        }
    }
    // Holm: each adjusted p at least the raw one; marks only below alpha.
    for c in &r.comparisons {
        assert!(c.p_holm >= c.p && c.p_holm <= 1.0);
        assert_eq!(c.better.is_some(), c.p_holm < ALPHA_FOR_TESTS);
    }
    let ne = r.entries.len();
    assert_eq!(r.win_matrix.len(), ne);
    for i in 0..ne {
        assert_eq!(r.win_matrix[i][i], 0.0);
        for j in 0..ne {
            assert!(r.win_matrix[i][j] + r.win_matrix[j][i] <= 1.0);
        }
    }
    let f = r.friedman.as_ref().unwrap();
    assert!(f.p >= 0.0 && f.p <= 1.0 && f.df == ne - 1);
    let ranks: f64 = r.summaries.iter().map(|s| s.mean_rank.unwrap()).sum();
    assert!((ranks - (ne * (ne + 1)) as f64 / 2.0).abs() < 1e-9);
    for s in &r.summaries {
        assert!(s.auc_low <= s.auc && s.auc <= s.auc_high, "{s:?}");
        assert!(s.ecdf.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(s.performance_ratios.len(), r.problems.len());
    }
}

const ALPHA_FOR_TESTS: f64 = analysis::ALPHA;

#[test]
fn a_cancelled_suite_reports_what_it_finished() {
    let s = small();
    let progress = Progress::default();
    progress
        .cancel
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let (r, done, f) = run_suite(&s, &mut NoStore, &progress).unwrap();
    assert!(!f.tuning_done && f.problems == 0 && done.is_empty() && r.problems.is_empty());
}

#[test]
fn bad_setups_are_refused() {
    for (what, change) in [
        (
            "instances",
            Box::new(|s: &mut SuiteSetup| s.instances = 0) as Box<dyn Fn(&mut SuiteSetup)>,
        ),
        ("budget", Box::new(|s: &mut SuiteSetup| s.budget = 0)),
        ("starts", Box::new(|s: &mut SuiteSetup| s.starts = 0)),
        ("method", Box::new(|s: &mut SuiteSetup| s.methods.clear())),
        ("surface", Box::new(|s: &mut SuiteSetup| s.surfaces.clear())),
        ("update", Box::new(|s: &mut SuiteSetup| s.budget = 2)),
    ] {
        let mut s = small();
        change(&mut s);
        let e = s.check().unwrap_err();
        assert!(e.contains(what), "{what}: {e}");
    }
}

#[test]
fn problems_computed_apart_equal_the_whole_suite() {
    // As a cluster computes it: the tuning cells, then each problem on its own (through bytes),
    // then the analysis.
    let s = small();
    let (whole, done, _) = run_suite(&s, &mut NoStore, &Progress::default()).unwrap();
    let (problems, tuning) = problems(&s);
    let base = base_key(&s);
    let mut tuned = vec![Vec::new(); s.methods.len()];
    for cell in tuning_cells(&s) {
        let t = tune_one(&s, cell, &tuning, &base, &mut NoStore, &Progress::default())
            .unwrap()
            .unwrap();
        tuned[cell.0].push(t);
    }
    let entries = entries(&s, &tuned).unwrap();
    let mut apart = Vec::new();
    for p in problems.iter().rev() {
        let d = run_problem(&s, p, &entries, &base, &mut NoStore, &Progress::default())
            .unwrap()
            .unwrap();
        let bytes = encode_problem(&d);
        apart.push(decode_problem(&s, &bytes).unwrap());
    }
    apart.reverse();
    for (a, b) in apart.iter().zip(&done) {
        assert_eq!(a.cells, b.cells);
        assert_eq!(a.target, b.target);
    }
    let r = analyze(&s, &entries, &apart);
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        serde_json::to_string(&whole).unwrap()
    );
    assert!(decode_problem(&s, &encode_problem(&done[0])[..100]).is_none());
}

#[test]
fn the_spec_builds_the_setup_and_refuses_in_one_line() {
    let quick = SuiteSpec {
        quick: true,
        ..SuiteSpec::default()
    }
    .setup()
    .unwrap();
    assert_eq!(
        (quick.instances, quick.starts, quick.tune_budget),
        (2, 100, 4)
    );
    assert_eq!(quick.surfaces.len(), 13);
    assert_eq!(quick.methods.len(), SUITE_METHODS.split(',').count());
    let full = SuiteSpec::default().setup().unwrap();
    assert_eq!(
        (full.instances, full.starts, full.budget, full.evals),
        (5, 1000, 3000, true)
    );
    for (spec, want) in [
        (
            SuiteSpec {
                methods: Some("adam,nope".into()),
                ..Default::default()
            },
            "unknown method",
        ),
        (
            SuiteSpec {
                surfaces: Some("formula:x".into()),
                ..Default::default()
            },
            "formula",
        ),
        (
            SuiteSpec {
                instances: Some("0".into()),
                ..Default::default()
            },
            "--instances",
        ),
        (
            SuiteSpec {
                budget_unit: Some("hours".into()),
                ..Default::default()
            },
            "--budget-unit",
        ),
        (
            SuiteSpec {
                sets: vec!["adam.lr=-1".into()],
                ..Default::default()
            },
            "lr",
        ),
    ] {
        let e = spec.setup().unwrap_err();
        assert!(e.contains(want) && !e.contains('\n'), "{e}");
    }
}

#[test]
fn the_ioh_budgets_are_two_per_decade_and_the_last() {
    let mut s = small();
    s.budget = 3000;
    assert_eq!(s.ioh_budgets(), vec![1, 3, 10, 32, 100, 316, 1000, 3000]);
    s.budget = 1000;
    assert_eq!(s.ioh_budgets(), vec![1, 3, 10, 32, 100, 316, 1000]);
    s.budget = 1;
    assert_eq!(s.ioh_budgets(), vec![1]);
    let b = s.budgets();
    assert!(s.ioh_budgets().iter().all(|x| b.contains(x)));
}
