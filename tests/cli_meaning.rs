//! Every number means what it says, on the command line: the minimum is named known or
//! estimated (and lowered), bad gradients are a status and a column of their own, f32 that
//! cannot resolve the tolerance is refused, and `tune` reports its held-out race and ECDF.

mod common;
use common::{TempFile, run, stderr, stdout};

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_str(&stdout(out)).expect("JSON")
}

#[test]
fn the_minimum_is_named_known_estimated_or_lowered() {
    let known = json(&run(&[
        "race",
        "--surface",
        "himmelblau",
        "--methods",
        "adam",
        "--starts",
        "20",
        "--format",
        "json",
    ]));
    assert_eq!(known["target"]["estimated"], false);
    let o = run(&[
        "race",
        "--surface",
        "himmelblau",
        "--methods",
        "adam",
        "--starts",
        "20",
    ]);
    assert!(stderr(&o).contains("(known)"), "{}", stderr(&o));
    // A narrow well the estimate cannot see; a start in it lowers the minimum.
    let well = "formula:x^2 + y^2 - exp(-((x - 0.3137)^2 + (y - 0.2171)^2) * 1e6)";
    let args = [
        "race",
        "--surface",
        well,
        "--domain",
        "-1,1,-1,1",
        "--methods",
        "sgd",
        "--starts",
        "20",
        "--region",
        "0.3127,0.3147,0.2161,0.2181",
        "--steps",
        "20",
    ];
    let doc = json(&run(&[&args[..], &["--format", "json"]].concat()));
    assert_eq!(doc["target"]["estimated"], true);
    assert_eq!(doc["target"]["lowered"], true);
    assert!(doc["target"]["value"].as_f64().expect("a value") < -0.8);
    assert!(doc["methods"][0]["reached_rate"].as_f64().expect("a rate") > 0.0);
    let o = run(&args);
    assert!(
        stderr(&o).contains("estimated, lowered by a run"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_gradient_that_is_not_finite_is_its_own_status_everywhere() {
    let surface = "formula:cbrt(x)^2 + y^2";
    let o = run(&[
        "trace",
        "--surface",
        surface,
        "--domain",
        "-1,1,-1,1",
        "--methods",
        "lion",
        "--start",
        "0,0.5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("bad_gradient"), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 2, "{}", stdout(&o));
    // On a band of x the exponential's value is finite and its derivative overflows: every
    // start there meets a gradient that is not finite.
    let band = "formula:y^2 + 1e-300*exp(1000*x)";
    let csv = TempFile::new("bad-gradient.csv", "");
    let race = |extra: &[&str]| {
        let args = [
            "race",
            "--surface",
            band,
            "--domain",
            "-1,1,-1,1",
            "--methods",
            "lion",
            "--starts",
            "5",
            "--region",
            "0.703,0.709,0.4,0.6",
        ];
        run(&[&args[..], extra].concat())
    };
    let o = race(&["--csv", csv.path(), "--format", "csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let header: Vec<&str> = text.lines().next().expect("a header").split(',').collect();
    let row: Vec<&str> = text.lines().nth(1).expect("a row").split(',').collect();
    let col = |name: &str| row[header.iter().position(|h| *h == name).expect(name)];
    assert_eq!((col("diverged"), col("bad_gradient")), ("0", "5"));
    let runs = std::fs::read_to_string(csv.path()).expect("written");
    assert!(
        runs.lines()
            .skip(1)
            .all(|l| l.ends_with(",bad_gradient,0,0")),
        "{runs}"
    );
    let table = stdout(&race(&[]));
    assert!(
        table
            .lines()
            .next()
            .expect("a header")
            .contains("bad gradient"),
        "{table}"
    );
    let o = run(&[
        "basins",
        "--surface",
        surface,
        "--domain",
        "-1,1,-1,1",
        "--methods",
        "lion",
        "--resolution",
        "3",
        "--steps",
        "20",
    ]);
    assert!(stdout(&o).contains("33.3% of the domain stops where the gradient is not finite"));
}

#[test]
fn f32_that_cannot_resolve_the_tolerance_is_refused() {
    let o = run(&[
        "race",
        "--surface",
        "formula:x^2 + y^2 + 1000000.3",
        "--methods",
        "adam",
        "--precision",
        "f32",
        "--starts",
        "10",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("f32 cannot resolve --tol 0.001"), "{e}");
    let o = run(&[
        "race",
        "--surface",
        "formula:x^2 + y^2 + 1000000.3",
        "--methods",
        "adam",
        "--precision",
        "f32",
        "--starts",
        "10",
        "--tol",
        "0.1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn tune_reports_its_held_out_race_and_ecdf() {
    let png = TempFile::new("tune-held-out.png", "");
    let args = [
        "tune",
        "--surface",
        "himmelblau",
        "--methods",
        "adam,sgd",
        "--trials",
        "4",
        "--starts",
        "40",
        "--steps",
        "100",
        "--seed",
        "3",
    ];
    let o = run(&[&args[..], &["--out", png.path()]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("held-out starts"), "{text}");
    assert!(
        text.contains("ERT [95% interval]") && text.contains("<= 100"),
        "{text}"
    );
    assert!(std::fs::metadata(png.path()).expect("drawn").len() > 1000);
    let doc = json(&run(&[&args[..], &["--format", "json"]].concat()));
    let held = &doc["held_out"];
    assert_eq!(held["race"].as_array().expect("rows").len(), 2);
    assert_eq!(
        held["ecdf"]["targets"].as_array().expect("targets").len(),
        51
    );
    // The table's numbers are the held-out race's.
    for (m, r) in doc["methods"]
        .as_array()
        .expect("methods")
        .iter()
        .zip(held["race"].as_array().expect("rows"))
    {
        assert_eq!(m["success_rate"], r["success_rate"]);
        assert_eq!(m["ert"], r["ert"]);
    }
    // The held-out race is a race of the tuned settings on the held-out starts: its seed and
    // starts are not the tuning's.
    assert_ne!(held["seed"], doc["seed"]);
}
