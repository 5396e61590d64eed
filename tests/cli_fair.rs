//! The fair-comparison commands as a user runs them: `race --runs-csv` and its intervals,
//! instances, `ecdf`, `tune` and `phase` with their files.

mod common;
use common::{TempFile, run, stderr, stdout};

fn json(args: &[&str]) -> serde_json::Value {
    let o = run(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

#[test]
fn race_numbers_are_what_its_runs_csv_implies() {
    let csv = TempFile::new("runs.csv", "");
    let doc = json(&[
        "race",
        "--surface",
        "rastrigin",
        "--methods",
        "adam,heavy-ball",
        "--set",
        "adam.lr=0.05",
        "--set",
        "heavy-ball.lr=0.01",
        "--starts",
        "400",
        "--seed",
        "3",
        "--rotate",
        "25",
        "--format",
        "json",
        "--csv",
        csv.path(),
    ]);
    let text = std::fs::read_to_string(csv.path()).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("method,run,x0,y0,x,y,loss,updates,first_success_update,status,evals,grads")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 800);
    let min = doc["target"]["value"].as_f64().unwrap();
    let tol = doc["target"]["tol"].as_f64().unwrap();
    for m in doc["methods"].as_array().unwrap() {
        let id = m["method"].as_str().unwrap();
        let mine: Vec<&Vec<&str>> = rows.iter().filter(|r| r[0] == id).collect();
        assert_eq!(mine.len(), 400);
        let n = mine.len() as f64;
        let ok = mine
            .iter()
            .filter(|r| {
                let loss: f64 = r[6].parse().unwrap();
                r[9] != "diverged" && (loss - min).abs() <= tol
            })
            .count();
        assert_eq!(m["success_rate"].as_f64().unwrap(), ok as f64 / n, "{id}");
        let reached: Vec<u64> = mine.iter().filter_map(|r| r[8].parse().ok()).collect();
        assert_eq!(
            m["reached_rate"].as_f64().unwrap(),
            reached.len() as f64 / n
        );
        let spent: u64 = mine
            .iter()
            .map(|r| {
                r[8].parse()
                    .unwrap_or_else(|_| r[7].parse::<u64>().unwrap())
            })
            .sum();
        match m["ert"].as_f64() {
            Some(e) => {
                assert_eq!(e, spent as f64 / reached.len() as f64, "{id}");
                assert!(m["ert_low"].as_f64().unwrap() <= e);
            }
            None => {
                assert!(reached.is_empty());
                assert!(m["ert_low"].is_null() && m["ert_high"].is_null());
            }
        }
        let (lo, hi) = (
            m["success_rate_low"].as_f64().unwrap(),
            m["success_rate_high"].as_f64().unwrap(),
        );
        assert!(lo <= m["success_rate"].as_f64().unwrap() && hi >= lo);
    }
    // The table shows the intervals.
    let t = stdout(&run(&[
        "race",
        "--surface",
        "rastrigin",
        "--methods",
        "sgd",
        "--starts",
        "50",
    ]));
    assert!(
        t.contains("ERT [95% interval]") && t.contains("none reached"),
        "{t}"
    );
}

#[test]
fn instances_change_the_answer_and_are_reproducible() {
    let race = |extra: &[&str]| {
        let mut a = vec![
            "race",
            "--surface",
            "rastrigin",
            "--methods",
            "adam",
            "--set",
            "adam.lr=0.05",
            "--starts",
            "300",
            "--format",
            "json",
        ];
        a.extend_from_slice(extra);
        let mut v = json(&a);
        v["methods"][0].as_object_mut().unwrap().remove("seconds");
        v
    };
    let plain = race(&[]);
    let zero = race(&["--instance", "0"]);
    assert_eq!(plain, zero);
    let a = race(&["--instance", "5"]);
    assert_eq!(a, race(&["--instance", "5"]));
    assert_ne!(a["methods"][0], plain["methods"][0]);
    // The global minimum moves with the instance but keeps its value.
    assert_eq!(a["target"]["value"], plain["target"]["value"]);
}

#[test]
fn ecdf_writes_monotone_curves_and_a_chart() {
    let csv = TempFile::new("ecdf.csv", "");
    let png = TempFile::new("ecdf.png", "");
    let o = run(&[
        "ecdf",
        "--surface",
        "seed",
        "--methods",
        "seed:sgd,seed:momentum,adam",
        "--starts",
        "200",
        "--steps",
        "300",
        "--csv",
        csv.path(),
        "--out",
        png.path(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    assert!(
        table.contains("<= 300") && table.contains("seed:momentum"),
        "{table}"
    );
    let text = std::fs::read_to_string(csv.path()).unwrap();
    assert!(text.starts_with("method,updates,fraction\n"));
    for m in ["seed:sgd", "seed:momentum", "adam"] {
        let f: Vec<(u64, f64)> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|r| r[0] == m)
            .map(|r| (r[1].parse().unwrap(), r[2].parse().unwrap()))
            .collect();
        assert_eq!(f.last().unwrap().0, 300);
        assert!(
            f.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
            "{m}"
        );
    }
    let img = image::open(png.path()).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (820, 480));
    // Adam's curve and legend in Adam's color.
    let adam = [0x4f, 0x8f, 0xf7];
    assert!(img.pixels().filter(|p| p.0 == adam).count() > 100);
}

#[test]
fn tune_reports_tuned_and_default_settings_reproducibly() {
    let args = [
        "tune",
        "--surface",
        "rastrigin",
        "--methods",
        "sgd,heavy-ball,adam",
        "--starts",
        "200",
        "--steps",
        "200",
        "--trials",
        "8",
        "--seed",
        "2",
        "--format",
        "json",
    ];
    let a = json(&args);
    assert_eq!(a, json(&args));
    for m in a["methods"].as_array().unwrap() {
        for k in [
            "method",
            "params",
            "success_rate",
            "ert",
            "ert_low",
            "ert_high",
            "default_success_rate",
            "default_ert",
        ] {
            assert!(m.get(k).is_some(), "{k} in {m}");
        }
        assert!(m["params"]["lr"].as_f64().unwrap() > 0.0);
    }
    assert!(a["methods"][1]["params"]["momentum"].is_number());
    assert!(a["methods"][2]["params"]["beta1"].is_number());
    let t = stdout(&run(&[
        "tune",
        "--surface",
        "bowl",
        "--methods",
        "sgd",
        "--starts",
        "20",
        "--steps",
        "50",
        "--trials",
        "4",
    ]));
    assert!(t.contains("lr=") && t.contains("default ERT"), "{t}");
}

#[test]
fn phase_writes_every_cell_and_a_heatmap() {
    let csv = TempFile::new("phase.csv", "");
    let png = TempFile::new("phase.png", "");
    let o = run(&[
        "phase",
        "--surface",
        "rastrigin",
        "--methods",
        "heavy-ball",
        "--x",
        "lr=1e-3..0.1",
        "--log-x",
        "--y",
        "momentum=0..0.95",
        "--points",
        "5x3",
        "--starts",
        "60",
        "--steps",
        "150",
        "--csv",
        csv.path(),
        "--out",
        png.path(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("best cell: lr="), "{}", stdout(&o));
    let text = std::fs::read_to_string(csv.path()).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], "x_value,y_value,success_rate,ert");
    assert_eq!(rows.len(), 1 + 15);
    let first: Vec<f64> = rows[1]
        .split(',')
        .take(2)
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(
        (first[0] - 1e-3).abs() < 1e-15 && first[1] == 0.0,
        "{first:?}"
    );
    let img = image::open(png.path()).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (760, 600));
}
