//! The `optiscape` binary's headless lab commands (`list`, `trace`, `race`, `basins`, `sweep`)
//! and its refusals of bad input, run as a user runs them.

// The notebook's constants use 3.14, not pi.
#![allow(clippy::approx_constant)]

mod common;

use common::*;
use std::process::Output;

#[test]
fn list_names_every_surface_and_method_with_parameters() {
    let o = run(&["list"]);
    assert!(o.status.success());
    let out = stdout(&o);
    for s in optiscape_core::landscape::catalog() {
        assert!(out.contains(&format!("  {}", s.id)), "surface {}", s.id);
    }
    for m in optiscape_core::optim::catalog() {
        assert!(out.contains(&format!("  {}", m.id)), "method {}", m.id);
    }
    for p in [
        "lr",
        "betas",
        "momentum_decay",
        "initial_accumulator_value",
        "clip",
        "noise",
    ] {
        assert!(out.contains(p), "parameter {p}");
    }
}

#[test]
fn trace_prints_a_header_and_one_row_per_step_with_round_trip_numbers() {
    let o = run(&[
        "trace",
        "--format",
        "csv",
        "--surface",
        "seed",
        "--methods",
        "seed:sgd",
        "--steps",
        "300",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "update,x,y,loss,evals,grads");
    assert_eq!(lines.len(), 302);
    assert_eq!(
        lines[1],
        format!("0,{:?},{:?},{:?},0,0", 0.6 * 3.14, 1.9 * 3.14, {
            let s = optiscape_core::landscape::Surface::seed();
            s.height(s.default_start())
        })
    );
    // The last row is the independently computed notebook end point, to the last digit.
    assert_eq!(
        lines[301],
        "300,3.935789355092478,15.844691541258683,-1.5318479055520222,300,300"
    );
    // Numbers parse back to the same f64 (shortest round-trip formatting).
    for l in &lines[1..] {
        for v in l.split(',').skip(1).take(3) {
            let x: f64 = v.parse().unwrap();
            assert_eq!(format!("{x:?}"), v);
        }
    }
}

#[test]
fn trace_settings_start_and_json() {
    let o = run(&[
        "trace",
        "--surface",
        "rastrigin",
        "--methods",
        "adam",
        "--set",
        "lr=0.05",
        "--set",
        "betas=0.8,0.99",
        "--set",
        "clip=5",
        "--start",
        "-1.5,2.25",
        "--steps",
        "10",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["method"], "adam");
    assert_eq!(v["params"]["lr"], 0.05);
    assert_eq!(v["params"]["betas"][1], 0.99);
    assert_eq!(v["params"]["clip"], 5.0);
    assert_eq!(v["start"][0], -1.5);
    assert_eq!(v["points"].as_array().unwrap().len(), 11);
    assert_eq!(v["status"], "done");
    // The same run as CSV agrees with the JSON rows.
    let o = run(&[
        "trace",
        "--format",
        "csv",
        "--surface",
        "rastrigin",
        "--methods",
        "adam",
        "--set",
        "lr=0.05",
        "--set",
        "betas=0.8,0.99",
        "--set",
        "clip=5",
        "--start",
        "-1.5,2.25",
        "--steps",
        "10",
    ]);
    let csv = stdout(&o);
    let last = csv.lines().last().unwrap();
    let x: f64 = last.split(',').nth(1).unwrap().parse().unwrap();
    assert_eq!(v["points"][10]["x"].as_f64().unwrap(), x);
}

#[test]
fn a_preset_steps_per_frame_does_not_multiply_steps() {
    let o = run(&[
        "trace",
        "--format",
        "csv",
        "--surface",
        "seed",
        "--methods",
        "seed:adadelta",
        "--steps",
        "7",
    ]);
    assert_eq!(stdout(&o).lines().count(), 9);
}

#[test]
fn a_diverging_trace_stops_with_a_note() {
    let o = run(&[
        "trace",
        "--format",
        "csv",
        "--surface",
        "rastrigin",
        "--methods",
        "sgd",
        "--set",
        "lr=100",
        "--start",
        "1.3,0.4",
    ]);
    assert!(o.status.success());
    assert!(stderr(&o).contains("diverged at update"), "{}", stderr(&o));
    assert!(stdout(&o).lines().count() < 302);
}

#[test]
fn race_is_reproducible_and_reports_every_method() {
    let args = [
        "race",
        "--surface",
        "rastrigin",
        "--methods",
        "sgd,adam,langevin",
        "--set",
        "adam.lr=0.05",
        "--set",
        "langevin.lr=0.01",
        "--starts",
        "300",
        "--seed",
        "4",
        "--format",
        "json",
    ];
    let a: serde_json::Value = serde_json::from_str(&stdout(&run(&args))).unwrap();
    let b: serde_json::Value = serde_json::from_str(&stdout(&run(&args))).unwrap();
    let strip = |v: &serde_json::Value| {
        let mut v = v.clone();
        for m in v["methods"].as_array_mut().unwrap() {
            m.as_object_mut().unwrap().remove("seconds");
        }
        v
    };
    assert_eq!(strip(&a), strip(&b));
    let rows = a["methods"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1]["method"], "adam");
    assert_eq!(rows[0]["runs"], 300);
    for r in rows {
        let s = r["success_rate"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&s));
    }
    let table = stdout(&run(&[
        "race",
        "--surface",
        "bowl",
        "--methods",
        "adam",
        "--set",
        "adam.lr=0.05",
        "--starts",
        "50",
        "--steps",
        "2000",
    ]));
    assert!(table.lines().nth(1).unwrap().contains("100.0%"), "{table}");
}

#[test]
fn basins_csv_ends_equal_trace_and_the_png_has_the_grid() {
    let dir = std::env::temp_dir().join(format!("optiscape-basins-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (png, csv) = (dir.join("map.png"), dir.join("ends.csv"));
    let o = run(&[
        "basins",
        "--surface",
        "himmelblau",
        "--methods",
        "adam",
        "--set",
        "lr=0.05",
        "--resolution",
        "16",
        "--steps",
        "200",
        "--out",
        png.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["global_fraction"].as_f64().unwrap() > 0.9);
    assert_eq!(
        v["minima"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["global"] == true)
            .count(),
        4
    );
    let img = image::open(&png).unwrap();
    assert_eq!(img.width() % 16, 0);
    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], "x0,y0,x,y,loss,label");
    assert_eq!(rows.len(), 1 + 16 * 16);
    for row in rows.iter().skip(1).step_by(37) {
        let f: Vec<&str> = row.split(',').collect();
        let t = run(&[
            "trace",
            "--format",
            "csv",
            "--surface",
            "himmelblau",
            "--methods",
            "adam",
            "--set",
            "lr=0.05",
            "--steps",
            "200",
            "--start",
            &format!("{},{}", f[0], f[1]),
        ]);
        let last = stdout(&t).lines().last().unwrap().to_string();
        let l: Vec<&str> = last.split(',').collect();
        assert_eq!(
            (l[1], l[2], l[3]),
            (f[2], f[3], f[4]),
            "start {},{}",
            f[0],
            f[1]
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sweep_numbers_and_chart_are_what_the_update_rule_predicts() {
    // SGD on the bowl f = (x^2 + 4 y^2) / 2 multiplies x by (1 - lr) and y by (1 - 4 lr) at
    // every update: at lr 0.1 every run ends at the minimum, at lr 1 every run (y != 0) is
    // thrown out by a factor 3 per update and diverges, and at lr 0.001 the final loss is
    // (x0^2 (0.999^200)^2 + 4 y0^2 (0.996^200)^2) / 2.
    let dir = std::env::temp_dir().join(format!("optiscape-sweep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let chart = dir.join("chart.png");
    let o = run(&[
        "sweep",
        "--format",
        "csv",
        "--surface",
        "bowl",
        "--methods",
        "sgd",
        "--range",
        "1e-3..1",
        "--points",
        "4",
        "--starts",
        "21",
        "--steps",
        "200",
        "--out",
        chart.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let rows: Vec<Vec<f64>> = out
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .map(|v| v.parse().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    assert_eq!(
        out.lines().next(),
        Some("lr,success_rate,median_loss,diverged")
    );
    assert_eq!(rows.len(), 4);
    let lrs: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    for (got, want) in lrs.iter().zip([0.001, 0.01, 0.1, 1.0]) {
        assert!((got - want).abs() <= 1e-12 * want, "{lrs:?}");
    }
    // lr 0.1: all 21 succeed; lr 1: all 21 diverge, no median loss (empty field).
    assert_eq!((rows[2][1], rows[2][3]), (1.0, 0.0), "{out}");
    assert_eq!((rows[3][1], rows[3][3]), (0.0, 21.0), "{out}");
    assert!(out.lines().nth(4).unwrap().ends_with(",0.0,,21"), "{out}");
    // lr 0.001: the median of the predicted final losses.
    let surface = optiscape_core::landscape::Surface::by_id("bowl").unwrap();
    let (fx, fy) = (0.999f64.powi(200), 0.996f64.powi(200));
    let mut losses: Vec<f64> = optiscape_core::lab::uniform_starts(surface.domain, 21, 0)
        .iter()
        .map(|p| 0.5 * ((p.x * fx).powi(2) + 4.0 * (p.y * fy).powi(2)))
        .collect();
    losses.sort_by(f64::total_cmp);
    let predicted = losses[10];
    assert!(
        (rows[0][2] - predicted).abs() <= 1e-9 * predicted,
        "median loss {} against {predicted}",
        rows[0][2]
    );
    // The chart: the success-rate dots (blue) at 100% above lr 0.1 and at 0% above lr 1.
    let img = image::open(&chart).expect("a PNG").to_rgb8();
    assert_eq!(img.dimensions(), (760, 420));
    let blue_near = |x: i64, y: i64| {
        (-3..=3).any(|dx| {
            (-3..=3).any(|dy| img.get_pixel((x + dx) as u32, (y + dy) as u32).0 == [30, 90, 200])
        })
    };
    // The plot spans x 64..684 for log10(lr) -3..0, and y 368 (0%) .. 44 (100%).
    let px = |log_lr: f64| 64 + ((log_lr + 3.0) / 3.0 * 620.0).round() as i64;
    assert!(blue_near(px(-1.0), 44), "no 100% dot at lr 0.1");
    assert!(blue_near(px(0.0), 368), "no 0% dot at lr 1");
    assert!(!blue_near(px(-1.0), 368), "a 0% dot at lr 0.1");
    let orange = img.pixels().filter(|p| p.0 == [220, 110, 10]).count();
    assert!(
        orange > 50,
        "the median-loss line is missing ({orange} pixels)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--precision f32` runs, reports the same kind of answer as f64, and is deterministic.
#[test]
fn lab_commands_run_in_single_precision() {
    let args = |p: &'static str| {
        [
            "basins",
            "--surface",
            "rastrigin",
            "--methods",
            "adam",
            "--set",
            "lr=0.05",
            "--resolution",
            "48",
            "--steps",
            "200",
            "--format",
            "json",
            "--precision",
            p,
        ]
    };
    let f32_out = run(&args("f32"));
    assert!(f32_out.status.success(), "{}", stderr(&f32_out));
    assert_eq!(stdout(&f32_out), stdout(&run(&args("f32"))));
    let share = |o: &Output| {
        let v: serde_json::Value = serde_json::from_str(&stdout(o)).unwrap();
        v["global_fraction"].as_f64().unwrap()
    };
    let f64_out = run(&args("f64"));
    assert!((share(&f32_out) - share(&f64_out)).abs() < 0.02);
    let race = run(&[
        "race",
        "--surface",
        "seed",
        "--methods",
        "seed:sgd,adam",
        "--starts",
        "50",
        "--precision",
        "f32",
        "--format",
        "csv",
    ]);
    assert!(race.status.success(), "{}", stderr(&race));
    assert_eq!(stdout(&race).lines().count(), 3);
}

#[test]
fn formulas_work_in_every_command() {
    let f = "formula:a*sin(x)*cos(y) + 0.1*(x^2 + y^2)";
    let o = run(&[
        "trace",
        "--format",
        "csv",
        "--surface",
        f,
        "--surface-param",
        "a=2",
        "--methods",
        "adam",
        "--steps",
        "20",
        "--domain",
        "-4,4,-4,4",
        "--start",
        "1,1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 22);
    // The same formula with a = 2 written in: the same trace.
    let o2 = run(&[
        "trace",
        "--format",
        "csv",
        "--surface",
        "formula:2*sin(x)*cos(y) + 0.1*(x^2 + y^2)",
        "--methods",
        "adam",
        "--steps",
        "20",
        "--domain",
        "-4,4,-4,4",
        "--start",
        "1,1",
    ]);
    assert_eq!(stdout(&o), stdout(&o2));
    let o = run(&[
        "race",
        "--surface",
        f,
        "--methods",
        "sgd,adam",
        "--starts",
        "40",
        "--steps",
        "100",
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 3);
    let o = run(&[
        "basins",
        "--surface",
        f,
        "--methods",
        "adam",
        "--set",
        "lr=0.1",
        "--resolution",
        "24",
        "--steps",
        "300",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(doc["global_fraction"].as_f64().unwrap() > 0.0);
    assert_eq!(doc["surface"], f);
    let o = run(&[
        "sweep",
        "--format",
        "csv",
        "--surface",
        f,
        "--methods",
        "sgd",
        "--points",
        "3",
        "--starts",
        "20",
        "--steps",
        "50",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (args, want) in [
        (
            vec![
                "trace",
                "--format",
                "csv",
                "--surface",
                "formula:sin(x",
                "--methods",
                "sgd",
            ],
            "column 6: missing ')'",
        ),
        (
            vec![
                "trace",
                "--format",
                "csv",
                "--surface",
                "formula:x*y",
                "--surface-param",
                "a=1",
                "--methods",
                "sgd",
            ],
            "has no parameters",
        ),
        (
            vec![
                "trace",
                "--format",
                "csv",
                "--surface",
                "formula:a*x",
                "--surface-param",
                "a",
                "--methods",
                "sgd",
            ],
            "NAME=VALUE",
        ),
        (
            vec!["race", "--surface", "formula:", "--starts", "3"],
            "empty",
        ),
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = stderr(&o);
        assert!(e.contains(want) && e.lines().count() == 1, "{args:?}: {e}");
    }
}

#[test]
fn lab_commands_take_a_scenario() {
    // egg-crate: Random(k: 20), 500 steps, seed 7, four methods with their own lr.
    let o = run(&["race", "--scenario", "egg-crate", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["starts"], 20);
    assert_eq!(doc["steps"], 500);
    assert_eq!(doc["seed"], 7);
    let methods: Vec<&str> = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, ["sgd", "heavy-ball", "adam", "langevin"]);
    // Options override the scenario.
    let o = run(&[
        "race",
        "--scenario",
        "egg-crate",
        "--starts",
        "5",
        "--methods",
        "adam",
        "--steps",
        "10",
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        (doc["starts"].as_u64(), doc["steps"].as_u64()),
        (Some(5), Some(10))
    );
    // A file on disk; basins and sweep take its first method.
    let dir = std::env::temp_dir().join(format!("optiscape-scn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mine.ron");
    std::fs::write(
        &file,
        "(version: 1, surface: (name: \"bowl\"), methods: [(id: \"heavy-ball\", params: {\"lr\": 0.02})], steps: 400)",
    )
    .unwrap();
    let o = run(&[
        "basins",
        "--scenario",
        file.to_str().unwrap(),
        "--resolution",
        "16",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["method"], "heavy-ball");
    assert_eq!(doc["steps"], 400);
    assert_eq!(doc["global_fraction"], 1.0);
    let o = run(&[
        "sweep",
        "--format",
        "csv",
        "--scenario",
        file.to_str().unwrap(),
        "--points",
        "2",
        "--starts",
        "10",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Bad files: file, line, column and what was expected; exit 2.
    std::fs::write(
        &file,
        "(version: 1,\n surface: (name: \"bowl\"),\n methods: [(id: \"sgd\", speed: 3)])",
    )
    .unwrap();
    let o = run(&["race", "--scenario", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("mine.ron:3:") && e.contains("`speed`"), "{e}");
    let o = run(&["race", "--scenario", "nonexistent-thing"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no shipped scenario"));
    let o = run(&["race"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--surface"), "{}", stderr(&o));
    // The sandbox refuses a bad scenario before opening a window.
    let o = run(&["--scenario", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("mine.ron:3:"));
    let o = run(&["--surface", "formula:(x", "--screenshot", "x.png"]);
    assert_eq!(o.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn race_loss_statistics_leave_diverged_runs_out() {
    use optiscape_core::lab::{RunStatus, trace, uniform_starts};
    // SGD with a large learning rate on Goldstein-Price: about half the runs are thrown out
    // and diverge.
    let (k, steps, seed) = (60, 50, 3);
    let o = run(&[
        "race",
        "--surface",
        "goldstein-price",
        "--methods",
        "sgd",
        "--set",
        "sgd.lr=0.0001",
        "--starts",
        &k.to_string(),
        "--steps",
        &steps.to_string(),
        "--seed",
        &seed.to_string(),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let row = &v["methods"][0];
    // The same runs one by one with `trace`: the mean and median of the final losses of the
    // runs that did not diverge.
    let surface = optiscape_core::landscape::Surface::by_id("goldstein-price").unwrap();
    let mut sgd = optiscape_core::optim::Optimizer::by_id("sgd").unwrap();
    sgd.set("lr", "0.0001").unwrap();
    let mut kept = Vec::new();
    let mut diverged = 0;
    for p in uniform_starts(surface.domain, k, seed) {
        let t = trace(&surface, &sgd, p, steps);
        match t.status {
            RunStatus::Diverged => diverged += 1,
            _ => kept.push(t.points.last().unwrap().loss),
        }
    }
    assert!(diverged > 5 && kept.len() > 5, "{diverged} diverged of {k}");
    assert_eq!(row["diverged"].as_u64(), Some(diverged));
    let mean = kept.iter().sum::<f64>() / kept.len() as f64;
    kept.sort_by(f64::total_cmp);
    let n = kept.len();
    let median = if n % 2 == 1 {
        kept[n / 2]
    } else {
        0.5 * (kept[n / 2 - 1] + kept[n / 2])
    };
    assert_eq!(row["mean_loss"].as_f64(), Some(mean), "{row}");
    assert_eq!(row["median_loss"].as_f64(), Some(median), "{row}");
    // Every run diverged: no mean, no median. The CSV's empty field is "no value".
    let o = run(&[
        "race",
        "--surface",
        "rastrigin",
        "--methods",
        "sgd",
        "--set",
        "sgd.lr=1000",
        "--starts",
        "20",
        "--steps",
        "50",
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let header: Vec<&str> = out.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = out.lines().nth(1).unwrap().split(',').collect();
    let col = |name: &str| row[header.iter().position(|h| *h == name).expect(name)];
    assert_eq!(col("diverged"), "20", "every run diverges: {out}");
    assert_eq!(
        (
            col("mean_loss"),
            col("median_loss"),
            col("median_updates_to_success")
        ),
        ("", "", ""),
        "no value: {out}"
    );
    assert!(!out.contains("NaN"), "{out}");
}

/// `--budget-unit evals`: one cost scale for update rules and the methods that ask for
/// evaluations; `--grad-cost` changes what a gradient costs, and every output says so.
#[test]
fn the_one_cost_scale_budgets_and_counts_in_evaluations() {
    let race = |extra: &[&str]| -> (serde_json::Value, String) {
        let mut args = vec![
            "race",
            "--surface",
            "rastrigin",
            "--methods",
            "adam,differential-evolution,nelder-mead",
            "--starts",
            "40",
            "--steps",
            "300",
            "--budget-unit",
            "evals",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        (serde_json::from_str(&stdout(&o)).unwrap(), stderr(&o))
    };
    let (doc, notes) = race(&[]);
    assert_eq!(doc["steps_unit"], "evals");
    assert!(notes.contains("300 evaluations each"), "{notes}");
    assert!(notes.contains("update rules run 100 updates"), "{notes}");
    for row in doc["methods"].as_array().unwrap() {
        assert_eq!(row["grad_cost"], 3, "{row}");
        // No run spends more than the budget, and a run's evaluations are all counted.
        let mean = row["mean_evals"].as_f64().unwrap();
        assert!(mean > 0.0 && mean <= 300.0, "{row}");
    }
    // Adam: 100 updates of one gradient each, 300 evaluations exactly.
    assert_eq!(doc["methods"][0]["mean_evals"], 300.0);
    let (doc5, notes5) = race(&["--grad-cost", "5"]);
    assert!(notes5.contains("update rules run 60 updates"), "{notes5}");
    assert_eq!(doc5["methods"][0]["grad_cost"], 5);
    assert_eq!(doc5["methods"][0]["mean_evals"], 300.0);
    // Differential evolution asks for no gradient: the same runs whatever a gradient costs.
    assert_eq!(
        doc5["methods"][1]["mean_evals"],
        doc["methods"][1]["mean_evals"]
    );

    // tune ranks and reports on the same scale, with the cost it was given.
    let o = run(&[
        "tune",
        "--surface",
        "himmelblau",
        "--methods",
        "sgd,cma-es",
        "--starts",
        "30",
        "--trials",
        "3",
        "--steps",
        "600",
        "--budget-unit",
        "evals",
        "--grad-cost",
        "5",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("a gradient with its value costs 5"),
        "{}",
        stderr(&o)
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["steps_unit"], "evals");
    for row in doc["held_out"]["race"].as_array().unwrap() {
        assert_eq!(row["grad_cost"], 5, "{row}");
        // The held-out runs are not timed on their own: no seconds to report.
        assert!(row.get("seconds").is_none(), "{row}");
    }
    let o = run(&[
        "tune",
        "--surface",
        "himmelblau",
        "--methods",
        "sgd",
        "--starts",
        "30",
        "--trials",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    let held = &table[table.find("held-out starts").unwrap()..];
    assert!(!held.contains("seconds"), "{held}");

    // Out of range: one line, exit 2.
    for (args, want) in [
        (vec!["race", "--grad-cost", "0"], "--grad-cost"),
        (vec!["race", "--budget-unit", "flops"], "flops"),
        (
            vec!["race", "--methods", "cma-es", "--set", "sigma0=0"],
            "sigma0",
        ),
        (
            vec!["race", "--methods", "cma-es", "--set", "popsize=3"],
            "popsize",
        ),
        (
            vec!["race", "--methods", "annealing", "--steps", "0"],
            "steps",
        ),
    ] {
        let args: Vec<&str> = [&args[..1], &["--surface", "rastrigin"], &args[1..]].concat();
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains(want) && e.lines().count() == 1, "{args:?}: {e}");
    }
}

/// `ecdf --budget-unit evals`: the curves over evaluations, named so in every output; at the
/// whole budget, for the success tolerance, the race's reached rate under the same budget.
#[test]
fn ecdf_and_tune_draw_runtime_distributions_in_evaluations() {
    let dir = std::env::temp_dir().join(format!("optiscape-ecdf-evals-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("ecdf.png");
    let csv = dir.join("ecdf.csv");
    let o = run(&[
        "ecdf",
        "--surface",
        "rastrigin",
        "--methods",
        "adam,annealing",
        "--starts",
        "40",
        "--steps",
        "600",
        "--budget-unit",
        "evals",
        "--format",
        "json",
        "--out",
        png.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("within N evaluations"),
        "{}",
        stderr(&o)
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["steps_unit"], "evals");
    assert_eq!(doc["grad_cost"], 3);
    for m in doc["methods"].as_array().unwrap() {
        let b = m["evals"].as_array().unwrap();
        assert!(m.get("updates").is_none());
        assert_eq!(b.last().unwrap(), 600);
        let f: Vec<f64> = m["fractions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert!(f.windows(2).all(|w| w[0] <= w[1]), "{m}");
    }
    // Within one evaluation: Adam has its start (its first update would cost 3), annealing
    // the start it evaluates first: the same points, the same share.
    assert_eq!(
        doc["methods"][0]["fractions"][0],
        doc["methods"][1]["fractions"][0]
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("method,evals,fraction\n"), "{text}");
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);

    // tune: the held-out curves in evaluations, and --out draws them.
    let tuned = dir.join("tuned.png");
    let o = run(&[
        "tune",
        "--surface",
        "himmelblau",
        "--methods",
        "sgd,annealing",
        "--starts",
        "30",
        "--trials",
        "2",
        "--steps",
        "600",
        "--budget-unit",
        "evals",
        "--out",
        tuned.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("reached within N evaluations"),
        "{}",
        stdout(&o)
    );
    assert!(std::fs::metadata(&tuned).unwrap().len() > 1000);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `basins`, `sweep` and `phase` on the one cost scale: `--budget-unit evals` gives the method
/// `--steps` evaluations (an update rule steps / C updates), says so, and a phase map's ERTs
/// count evaluations; a population size is swept and mapped over whole numbers.
#[test]
fn basins_sweep_and_phase_budget_in_evaluations() {
    let json = |args: &[&str]| -> (serde_json::Value, String) {
        let o = run(args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        (serde_json::from_str(&stdout(&o)).unwrap(), stderr(&o))
    };
    // An update rule given 300 evaluations runs 100 updates: the map of `--steps 100`.
    let base = ["basins", "--surface", "himmelblau", "--methods", "adam"];
    let (evals, notes) = json(
        &[
            &base[..],
            &[
                "--set",
                "lr=0.05",
                "--resolution",
                "12",
                "--steps",
                "300",
                "--budget-unit",
                "evals",
                "--format",
                "json",
            ],
        ]
        .concat(),
    );
    assert!(
        notes.contains("the update rule runs 100 updates"),
        "{notes}"
    );
    assert_eq!(evals["steps_unit"], "evals");
    assert_eq!(evals["grad_cost"], 3);
    let (updates, _) = json(
        &[
            &base[..],
            &[
                "--set",
                "lr=0.05",
                "--resolution",
                "12",
                "--steps",
                "100",
                "--format",
                "json",
            ],
        ]
        .concat(),
    );
    assert_eq!(updates["steps_unit"], "updates");
    assert_eq!(evals["minima"], updates["minima"]);
    assert_eq!(evals["global_fraction"], updates["global_fraction"]);
    // A method that asks for evaluations: the table says what the budget counted.
    let o = run(&[
        "basins",
        "--surface",
        "himmelblau",
        "--methods",
        "nelder-mead",
        "--resolution",
        "8",
        "--steps",
        "400",
        "--budget-unit",
        "evals",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("after 400 evaluations"),
        "{}",
        stdout(&o)
    );

    // sweep over CMA-ES's population, in evaluations.
    let (doc, notes) = json(&[
        "sweep",
        "--surface",
        "rastrigin",
        "--methods",
        "cma-es",
        "--param",
        "popsize",
        "--range",
        "4..40",
        "--points",
        "4",
        "--starts",
        "40",
        "--steps",
        "2000",
        "--budget-unit",
        "evals",
        "--format",
        "json",
    ]);
    assert!(notes.contains("--steps 2000 counts evaluations"), "{notes}");
    let values: Vec<f64> = doc["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["value"].as_f64().unwrap())
        .collect();
    assert_eq!(values, vec![4.0, 16.0, 28.0, 40.0]);
    // Whole numbers that repeat: refused, one line.
    let o = run(&[
        "sweep",
        "--surface",
        "rastrigin",
        "--methods",
        "cma-es",
        "--param",
        "popsize",
        "--range",
        "4..6",
        "--points",
        "5",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("whole numbers"), "{}", stderr(&o));

    // phase: population x sigma0, ERT in evaluations; the cell equals a race of its setting.
    let (doc, notes) = json(&[
        "phase",
        "--surface",
        "rastrigin",
        "--methods",
        "cma-es",
        "--x",
        "popsize=6..12",
        "--y",
        "sigma0=0.1..0.3",
        "--points",
        "2x2",
        "--starts",
        "40",
        "--steps",
        "1500",
        "--budget-unit",
        "evals",
        "--format",
        "json",
    ]);
    assert!(notes.contains("ERT in evaluations"), "{notes}");
    assert_eq!(doc["steps_unit"], "evals");
    let cell = &doc["cells"][1];
    assert_eq!(cell["x_value"], 12.0);
    let (race, _) = json(&[
        "race",
        "--surface",
        "rastrigin",
        "--methods",
        "cma-es",
        "--set",
        "popsize=12",
        "--set",
        "sigma0=0.1",
        "--starts",
        "40",
        "--steps",
        "1500",
        "--budget-unit",
        "evals",
        "--format",
        "json",
    ]);
    let row = &race["methods"][0];
    assert_eq!(cell["success_rate"], row["success_rate"], "{cell} {row}");
    assert_eq!(cell["ert"], row["ert_evals"], "{cell} {row}");
}

/// One build is fast on any CPU: the lane engine's copies are chosen at run time, and every one
/// of them (forced with `OPTISCAPE_LANES`, at most what this CPU runs), like the general engine,
/// gives the same runs bit for bit in f64, on compiled surfaces and formulas; in f32 every copy
/// gives the same runs too, and the general engine says it ran f64. The engine used is named in
/// the JSON and by `--version`; an unknown name is refused in one line.
#[test]
fn every_engine_forced_with_optiscape_lanes_gives_the_same_numbers() {
    use optiscape_core::lab::LaneCopy;
    let best = LaneCopy::detected();
    for (surface, precision) in [
        ("rastrigin", "f64"),
        ("formula:sin(3*x)*cos(2*y) + 0.1*(x^2+y^2)", "f64"),
        ("himmelblau", "f32"),
    ] {
        let mut seen: Vec<(String, String)> = Vec::new();
        for copy in LaneCopy::ALL {
            let csv = TempFile::new(&format!("lanes-{}.csv", copy.name()), "");
            let o = run_env(
                &[("OPTISCAPE_LANES", copy.name())],
                &[
                    "race",
                    "--surface",
                    surface,
                    "--methods",
                    "adam,nadam,lion,langevin",
                    "--starts",
                    "203",
                    "--steps",
                    "150",
                    "--precision",
                    precision,
                    "--format",
                    "json",
                    "--csv",
                    csv.path(),
                ],
            );
            assert!(o.status.success(), "{copy:?}: {}", stderr(&o));
            let mut doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
            let used = copy.min(best);
            let engine = doc["engine"].as_str().unwrap_or_default().to_string();
            let expected = match (used, surface.starts_with("formula:") || precision == "f32") {
                (LaneCopy::Avx512, true) => "avx2",
                (c, _) => c.name(),
            };
            assert_eq!(engine, expected, "{surface} {precision} {copy:?}");
            let ran = doc["precision"].as_str().unwrap_or_default().to_string();
            let general = used == LaneCopy::General;
            assert_eq!(ran, if general { "f64" } else { precision }, "{copy:?}");
            if general && precision == "f32" {
                // f32 asked for, f64 done: said in a note, not silently.
                assert!(stderr(&o).contains("f32 runs in f64"), "{}", stderr(&o));
                continue;
            }
            // What may differ: the engine's name, its lanes, and the time each race took.
            fn strip(v: &mut serde_json::Value) {
                match v {
                    serde_json::Value::Object(m) => {
                        for key in ["engine", "lanes", "seconds"] {
                            m.remove(key);
                        }
                        m.values_mut().for_each(strip);
                    }
                    serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
                    _ => {}
                }
            }
            strip(&mut doc);
            let rows = std::fs::read_to_string(csv.path()).unwrap();
            assert!(rows.lines().count() > 4 * 203, "{rows}");
            seen.push((doc.to_string(), rows));
        }
        for s in &seen[1..] {
            assert!(s == &seen[0], "{surface} {precision}: the engines differ");
        }
    }
    let o = run_env(
        &[("OPTISCAPE_LANES", "sse")],
        &["race", "--surface", "bowl"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("OPTISCAPE_LANES"), "{}", stderr(&o));
    let o = run_env(&[("OPTISCAPE_LANES", "baseline")], &["--version"]);
    let v = stdout(&o);
    assert!(v.contains("lane engine on this CPU: baseline"), "{v}");
    if best > LaneCopy::Baseline {
        assert!(v.contains(&format!("this CPU runs {}", best.name())), "{v}");
    }
}
