//! `optiscape train` and the `net:` slices from the command line: the table, the JSON and the
//! per-run CSV agree; the weights and data files replay a run; bad input is one line and exit 2;
//! a diverging learning rate is marked, never reported as a minimum; a slice races like any
//! surface.

mod common;
use common::{TempFile, run, stderr, stdout};

#[test]
fn train_prints_a_table_json_and_per_run_csv_that_agree() {
    let csv = TempFile::new("train-runs.csv", "");
    let png = TempFile::new("train-ecdf.png", "");
    let args = [
        "train",
        "--data",
        "moons",
        "--methods",
        "adam,sgd",
        "--starts",
        "6",
        "--steps",
        "200",
    ];
    let o = run(&[
        &args[..],
        &["--format", "json", "--csv", csv.path(), "--out", png.path()],
    ]
    .concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(doc["net"]["layers"], "2-16-16-1");
    assert_eq!(doc["net"]["params"], 337);
    assert_eq!(doc["target_from"], "lowest + tol");
    let target = doc["target"].as_f64().expect("target");
    let lowest = doc["lowest"].as_f64().expect("lowest");
    assert!((target - (lowest + 0.01)).abs() < 1e-15);
    let rows = doc["methods"].as_array().expect("rows");
    assert_eq!(rows.len(), 2);
    let text = std::fs::read_to_string(csv.path()).expect("csv");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "method,run,fate,updates,first_success_update,final_loss,lowest,grad_norm,train_accuracy,test_loss,test_accuracy"
        )
    );
    let runs: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(runs.len(), 12);
    for (m, row) in ["adam", "sgd"].iter().zip(rows) {
        let mine: Vec<&Vec<&str>> = runs.iter().filter(|r| r[0] == *m).collect();
        let ok = mine.iter().filter(|r| r[2] == "success").count();
        assert_eq!(ok as f64 / 6.0, row["success_rate"].as_f64().expect("rate"));
        for r in &mine {
            let final_loss: f64 = r[5].parse().expect("loss");
            assert_eq!(r[2] == "success", final_loss <= target, "{r:?}");
        }
    }
    let img = image::open(png.path()).expect("a PNG");
    assert!(img.width() > 300);
    // The table names the same methods.
    let t = run(&args);
    assert!(t.status.success());
    let table = stdout(&t);
    assert!(table.starts_with("method "), "{table}");
    assert!(
        table.contains("worse minimum") && table.lines().count() == 3,
        "{table}"
    );
}

#[test]
fn weights_and_data_files_replay_the_run() {
    let w = TempFile::new("train-weights.json", "");
    let d = TempFile::new("train-data.csv", "");
    let o = run(&[
        "train",
        "--data",
        "spirals",
        "--layers",
        "2-8-1",
        "--methods",
        "adam",
        "--starts",
        "2",
        "--steps",
        "30",
        "--weights",
        w.path(),
        "--data-csv",
        d.path(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path()).expect("weights")).expect("json");
    assert_eq!(doc["layers"], "2-8-1");
    let runs = doc["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 2);
    let layer = &runs[1]["final"][0];
    assert_eq!(layer["weight"].as_array().expect("rows").len(), 8);
    assert_eq!(layer["weight"][0].as_array().expect("cols").len(), 2);
    assert_eq!(layer["bias"].as_array().expect("bias").len(), 8);
    let data = std::fs::read_to_string(d.path()).expect("data");
    assert_eq!(data.lines().next(), Some("x1,x2,label"));
    assert_eq!(data.lines().count(), 201);
    // The data read back trains the same networks.
    let again = TempFile::new("train-weights-again.json", "");
    let o = run(&[
        "train",
        "--data",
        d.path(),
        "--test-every",
        "0",
        "--layers",
        "2-8-1",
        "--methods",
        "adam",
        "--starts",
        "2",
        "--steps",
        "30",
        "--weights",
        again.path(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let back: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(again.path()).expect("weights"))
            .expect("json");
    assert_eq!(back["runs"][1]["final"], runs[1]["final"]);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let missing = TempFile::new("train-missing.csv", "x1,x2,label\n0,0,0\n1,,1\n");
    let text = TempFile::new("train-text.csv", "0,0,0\n1,b,1\n");
    let half = TempFile::new("train-half.csv", "0,0,0\n1,1,0.5\n");
    let inf = TempFile::new("train-inf.csv", "0,0,0\n1,inf,1\n");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--data", missing.path()], "line 3: field 2 is empty"),
        (
            vec!["--data", text.path()],
            "line 2: field 2 is not a number: 'b'",
        ),
        (
            vec!["--data", half.path()],
            "line 2: the label 0.5 is not a class",
        ),
        (
            vec!["--data", inf.path()],
            "line 2: field 2 is not a finite number",
        ),
        (vec!["--data", "no-such.csv"], "could not read no-such.csv"),
        (vec!["--data", "moonz"], "unknown dataset 'moonz'"),
        (
            vec!["--layers", "2-4096-4096-4096-1", "--starts", "1000"],
            "above the budget of 1 GiB",
        ),
        (vec!["--layers", "3-4-1"], "the input layer has 2 units"),
        (vec!["--layers", "2-16-3"], "needs 1 (or 2)"),
        (
            vec!["--activation", "sigmoid"],
            "unknown activation 'sigmoid'",
        ),
        (vec!["--methods", "cma-es"], "asks for evaluations"),
        (
            vec!["--methods", "adam", "--set", "clip=1"],
            "clip and noise",
        ),
        (vec!["--starts", "0"], "--starts must be at least 1"),
        (vec!["--noise", "nan"], "--noise must be between 0 and 10"),
        (vec!["--target", "inf"], "--target"),
        (
            vec!["--data", "moons", "--test-every", "3"],
            "--test-every is for a CSV file",
        ),
    ];
    for (extra, want) in cases {
        let starts: &[&str] = if extra.contains(&"--starts") {
            &[]
        } else {
            &["--starts", "2"]
        };
        let o = run(&[&["train", "--steps", "5"][..], starts, &extra[..]].concat());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(want), "{extra:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{extra:?}: {err}");
    }
}

#[test]
fn a_diverging_learning_rate_is_marked_never_a_minimum() {
    let o = run(&[
        "train",
        "--methods",
        "sgd,adam",
        "--set",
        "sgd.lr=1e6",
        "--starts",
        "4",
        "--steps",
        "40",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    let sgd = &doc["methods"][0];
    assert_eq!(sgd["diverged"], 4);
    assert_eq!(sgd["success_rate"], 0.0);
    assert_eq!(sgd["worse_minimum_rate"], 0.0);
    assert!(sgd["median_final_loss"].is_null());
    // The target comes from the runs that did not diverge.
    assert!(doc["lowest"].as_f64().expect("lowest").is_finite());
}

#[test]
fn a_slice_is_a_surface_every_lab_command_takes() {
    let o = run(&[
        "race",
        "--surface",
        "net:xor,steps=300",
        "--methods",
        "adam,cma-es",
        "--starts",
        "20",
        "--steps",
        "100",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(doc["surface"], "net:xor,steps=300");
    assert_eq!(doc["methods"].as_array().expect("rows").len(), 2);
    let o = run(&[
        "race",
        "--surface",
        "net:xor,plane=flat",
        "--methods",
        "adam",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("net: plane is random or minima"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn paths_are_drawn_on_their_principal_planes() {
    let png = TempFile::new("train-paths.png", "");
    let o = run(&[
        "train",
        "--methods",
        "sgd,adam,lion",
        "--starts",
        "2",
        "--steps",
        "120",
        "--paths",
        png.path(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let img = image::open(png.path()).expect("a PNG").to_rgb8();
    // Three panels in a row.
    assert_eq!((img.width(), img.height()), (56 + 3 * 340, 56 + 376));
    // Too few updates for a plane: one line, exit 2; a folder that does not exist likewise.
    let o = run(&[
        "train",
        "--starts",
        "1",
        "--steps",
        "1",
        "--paths",
        png.path(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--paths: no method's path spans a plane"));
    let o = run(&["train", "--steps", "5", "--paths", "/no/such/folder/p.png"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
}

#[test]
fn the_sandbox_trains_networks_only_on_a_slice() {
    let o = run(&["--networks", "2", "--screenshot", "x.png"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--networks trains networks on a network slice"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    let o = run(&["--surface", "net:xor", "--networks", "33"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn tuning_adds_a_tuned_row_before_the_defaults_which_stay_as_they_were() {
    let base = [
        "train",
        "--methods",
        "sgd,adam",
        "--starts",
        "4",
        "--steps",
        "150",
        "--format",
        "json",
    ];
    let plain = run(&base);
    let tuned = run(&[&base[..], &["--tune-budget", "6"]].concat());
    assert!(tuned.status.success(), "{}", stderr(&tuned));
    let (p, t): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&stdout(&plain)).expect("json"),
        serde_json::from_str(&stdout(&tuned)).expect("json"),
    );
    let names: Vec<&str> = t["methods"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["method"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["sgd tuned", "sgd", "adam tuned", "adam"]);
    // The defaults train the study's initializations as without tuning (the target may move:
    // compare what does not depend on it).
    for (k, m) in [(1, 0), (3, 1)] {
        for key in ["median_final_loss", "mean_test_accuracy", "diverged"] {
            assert_eq!(t["methods"][k][key], p["methods"][m][key], "{key}");
        }
    }
    let tuning = t["tuning"].as_array().expect("tuning");
    assert_eq!(tuning.len(), 2);
    assert_eq!(tuning[0]["method"], "sgd");
    assert_eq!(tuning[0]["starts"], 4);
    assert_eq!(tuning[0]["tried"].as_array().expect("tried").len(), 7);
    // The tuned row runs the winning values.
    let lr = tuning[1]["params"][0][1].as_f64().expect("lr");
    assert_eq!(t["methods"][2]["params"]["lr"].as_f64(), Some(lr));
    assert!(p["tuning"].as_array().expect("empty").is_empty());
    let o = run(&[&base[..], &["--tune-budget", "0"]].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--tune-budget"), "{}", stderr(&o));
    // The map: one panel per method.
    let png = TempFile::new("train-tune-map.png", "");
    let o = run(&[&base[..], &["--tune-budget", "6", "--tune-map", png.path()]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let img = image::open(png.path()).expect("a PNG").to_rgb8();
    assert_eq!((img.width(), img.height()), (70 + 2 * 320, 60 + 250 + 30));
    let o = run(&[&base[..], &["--tune-budget", "1", "--tune-map", png.path()]].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--tune-map draws the tuning"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_phase_map_is_a_study_whose_rows_are_the_cells() {
    let base = [
        "train",
        "--methods",
        "heavy-ball",
        "--starts",
        "3",
        "--steps",
        "80",
        "--layers",
        "2-6-1",
    ];
    let csv = TempFile::new("train-phase-runs.csv", "");
    let png = TempFile::new("train-phase.png", "");
    let o = run(&[
        &base[..],
        &[
            "--y",
            "momentum=0..0.9",
            "--x",
            "lr=0.01..0.3",
            "--log-x",
            "--grid",
            "3x2",
            "--format",
            "json",
            "--csv",
            csv.path(),
            "--out",
            png.path(),
        ],
    ]
    .concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(doc["method"], "heavy-ball");
    assert!(doc.get("methods").is_none() && doc.get("ecdf").is_none());
    let cells = doc["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 6);
    // x varies fastest; the last row is momentum 0.9.
    assert_eq!(cells[3]["x_value"], 0.01);
    assert_eq!(cells[3]["y_value"], 0.9);
    assert_eq!(cells[3]["method"], "lr=0.01 momentum=0.9");
    assert_eq!(cells[3]["params"]["momentum"], 0.9);
    // A cell is the row `train --set` prints at its setting, but for the target, which is
    // the whole map's: compare what does not depend on it.
    let alone = run(&[
        &base[..],
        &[
            "--set",
            "lr=0.01",
            "--set",
            "momentum=0.9",
            "--format",
            "json",
        ],
    ]
    .concat());
    assert!(alone.status.success(), "{}", stderr(&alone));
    let alone: serde_json::Value = serde_json::from_str(&stdout(&alone)).expect("json");
    for key in [
        "median_final_loss",
        "mean_test_accuracy",
        "diverged",
        "runs",
    ] {
        assert_eq!(cells[3][key], alone["methods"][0][key], "{key}");
    }
    // One target for the map: the lowest loss of any cell's run plus the tolerance.
    let target = doc["target"].as_f64().expect("target");
    let text = std::fs::read_to_string(csv.path()).expect("csv");
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .is_some_and(|h| h.starts_with("x_value,y_value,run,fate,")),
        "{text}"
    );
    let runs: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(runs.len(), 18);
    let lowest = runs
        .iter()
        .map(|r| r[7].parse::<f64>().expect("lowest"))
        .fold(f64::INFINITY, f64::min);
    assert!(
        (target - (lowest + 0.01)).abs() < 1e-15,
        "{target} {lowest}"
    );
    for (c, cell) in cells.iter().enumerate() {
        let ok = runs[3 * c..3 * c + 3]
            .iter()
            .filter(|r| r[3] == "success")
            .count();
        assert_eq!(
            ok as f64 / 3.0,
            cell["success_rate"].as_f64().expect("rate")
        );
    }
    let img = image::open(png.path()).expect("a PNG");
    assert!(img.width() > 300);
    // The table: one line per cell after the header, and the best cell in the notes.
    let t = run(&[&base[..], &["--y", "momentum=0..0.9", "--grid", "2x2"]].concat());
    assert!(t.status.success(), "{}", stderr(&t));
    assert!(stdout(&t).starts_with("lr momentum "), "{}", stdout(&t));
    assert_eq!(stdout(&t).lines().count(), 5);
    assert!(stderr(&t).contains("best cell: lr="), "{}", stderr(&t));
}

#[test]
fn a_phase_map_refuses_what_it_cannot_draw() {
    let base = ["train", "--starts", "2", "--steps", "10"];
    for (extra, says) in [
        (&["--y", "momentum=0..0.9"][..], "one method"),
        (
            &["--methods", "sgd,adam", "--y", "momentum=0..0.9"][..],
            "one method",
        ),
        (
            &[
                "--methods",
                "adam",
                "--y",
                "beta1=0..0.9",
                "--tune-budget",
                "4",
            ][..],
            "--tune-budget",
        ),
        (
            &["--methods", "adam", "--y", "beta1=0..0.9", "--grid", "0x9"][..],
            "--grid",
        ),
        (
            &["--methods", "adam", "--y", "lr=0.1..1"][..],
            "same parameter",
        ),
        (&["--methods", "sgd", "--y", "beta1=0..0.9"][..], "beta1"),
        (&["--methods", "adam", "--x", "lr=0.1..1"][..], "--y"),
    ] {
        let o = run(&[&base[..], extra].concat());
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert_eq!(e.trim().lines().count(), 1, "{extra:?}: {e}");
        assert!(e.contains(says), "{extra:?}: {e}");
    }
}
