//! Bad input to the `optiscape` binary: every refusal is one clear line on stderr and exit
//! status 2, never a panic.

mod common;

use common::*;

#[test]
fn bad_input_gives_one_clear_line_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "trace",
                "--format",
                "csv",
                "--surface",
                "nope",
                "--methods",
                "sgd",
            ],
            "unknown surface 'nope'",
        ),
        (
            &[
                "trace",
                "--format",
                "csv",
                "--surface",
                "seed",
                "--methods",
                "nope",
            ],
            "unknown method 'nope'",
        ),
        (
            &[
                "trace",
                "--format",
                "csv",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--set",
                "zz=1",
            ],
            "has no parameter 'zz'",
        ),
        (
            &[
                "trace",
                "--format",
                "csv",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--set",
                "lr",
            ],
            "NAME=VALUE",
        ),
        (
            &[
                "trace",
                "--format",
                "csv",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--set",
                "lr=abc",
            ],
            "expects a number",
        ),
        (
            &[
                "trace",
                "--format",
                "csv",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--set",
                "lr=-0.1",
            ],
            "lr must be > 0",
        ),
        (
            &[
                "trace",
                "--format",
                "csv",
                "--surface",
                "seed",
                "--methods",
                "adam",
                "--set",
                "betas=0.9",
            ],
            "two numbers",
        ),
        (
            &[
                "trace",
                "--format",
                "csv",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--steps",
                "0",
            ],
            "--steps must be at least 1",
        ),
        (
            &[
                "trace",
                "--format",
                "csv",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--steps",
                "-5",
            ],
            "--steps",
        ),
        (
            &[
                "trace",
                "--format",
                "csv",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--steps",
                "x",
            ],
            "--steps",
        ),
        (
            &[
                "trace",
                "--format",
                "csv",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--start",
                "100,1",
            ],
            "outside the domain",
        ),
        (
            &[
                "trace",
                "--format",
                "csv",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--start",
                "1",
            ],
            "--start expects 2",
        ),
        (
            &[
                "trace",
                "--format",
                "csv",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--start",
                "nan,1",
            ],
            "finite",
        ),
        (
            &[
                "trace",
                "--format",
                "csv",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--domain",
                "1,0,0,1",
            ],
            "x0 < x1",
        ),
        (
            &[
                "trace",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--format",
                "xml",
            ],
            "xml",
        ),
        (
            &["trace", "--format", "csv", "--surface", "seed"],
            "--method",
        ),
        (&["frobnicate"], "frobnicate"),
        (&["--surface", "nope"], "unknown surface 'nope'"),
        (
            &["--screenshot", "/nonexistent-dir/x.png"],
            "does not exist",
        ),
        (&["--starts", "0"], "--starts"),
    ];
    for (args, needle) in cases {
        let o = run(args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{args:?}: one line, got {err}"
        );
        assert!(err.contains(needle), "{args:?}: {err} lacks {needle}");
        assert!(!err.contains("panicked"), "{args:?}");
        assert!(stdout(&o).is_empty(), "{args:?}");
    }
}

#[test]
fn lab_commands_refuse_bad_input_with_one_line() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["race", "--surface", "seed", "--methods", "sgd,nope"],
            "unknown method 'nope'",
        ),
        (
            &["race", "--surface", "seed", "--starts", "0"],
            "--starts must be at least 1",
        ),
        (
            &["race", "--surface", "seed", "--set", "lr=1"],
            "name the method",
        ),
        (
            &[
                "race",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--set",
                "adam.lr=1",
            ],
            "not in the race",
        ),
        (
            &["race", "--surface", "seed", "--region", "0,100,0,1"],
            "inside the domain",
        ),
        (
            &["race", "--surface", "seed", "--tol", "-1"],
            "--tol must be >= 0",
        ),
        (&["race", "--surface", "seed", "--precision", "f16"], "f16"),
        (
            &["race", "--surface", "seed", "--rotate", "nan"],
            "--rotate",
        ),
        (
            &["race", "--surface", "seed", "--rotate", "inf"],
            "--rotate",
        ),
        (
            &[
                "race",
                "--surface",
                "seed",
                "--rotate",
                "3",
                "--instance",
                "2",
            ],
            "not both",
        ),
        (
            &[
                "trace",
                "--format",
                "csv",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--instance",
                "-1",
            ],
            "--instance",
        ),
        (
            &[
                "tune",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--trials",
                "0",
            ],
            "--trials",
        ),
        (
            &[
                "tune",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--trials",
                "99999",
            ],
            "--trials",
        ),
        (
            &[
                "ecdf",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--steps",
                "0",
            ],
            "--steps",
        ),
        (
            &["ecdf", "--surface", "seed", "--methods", "sgd,sgd"],
            "twice",
        ),
        (
            &[
                "phase",
                "--surface",
                "seed",
                "--methods",
                "adam",
                "--y",
                "momentum=0..0.9",
            ],
            "no numeric hyperparameter 'momentum'",
        ),
        (
            &[
                "phase",
                "--surface",
                "seed",
                "--methods",
                "adam",
                "--y",
                "beta1=0..1",
            ],
            "beta1",
        ),
        (
            &[
                "phase",
                "--surface",
                "seed",
                "--methods",
                "adam",
                "--y",
                "beta1=0..0.9",
                "--points",
                "0x4",
            ],
            "--points",
        ),
        (
            &[
                "phase",
                "--surface",
                "seed",
                "--methods",
                "adam",
                "--y",
                "beta1=0..0.9",
                "--points",
                "100000x4",
            ],
            "--points",
        ),
        (
            &[
                "phase",
                "--surface",
                "seed",
                "--methods",
                "adam",
                "--y",
                "lr=0.1..1",
            ],
            "same parameter",
        ),
        (
            &[
                "phase",
                "--surface",
                "seed",
                "--methods",
                "adam",
                "--x",
                "lr=-1..1",
                "--y",
                "beta1=0..0.5",
            ],
            "lr",
        ),
        (
            &[
                "phase",
                "--surface",
                "seed",
                "--methods",
                "adam",
                "--y",
                "beta1=0..0.5",
                "--log-y",
            ],
            "log axis",
        ),
        (
            &[
                "basins",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--resolution",
                "1",
            ],
            "--resolution must be at least 2",
        ),
        (
            &[
                "basins",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--out",
                "/nonexistent-dir/x.png",
            ],
            "does not exist",
        ),
        (
            &[
                "sweep",
                "--format",
                "csv",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--param",
                "zz",
            ],
            "has no parameter 'zz'",
        ),
        (
            &[
                "sweep",
                "--format",
                "csv",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--range",
                "1..0.1",
            ],
            "LO < HI",
        ),
        (
            &[
                "sweep",
                "--format",
                "csv",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--range",
                "-1..1",
            ],
            "lr must be > 0",
        ),
        (
            &[
                "sweep",
                "--format",
                "csv",
                "--surface",
                "seed",
                "--methods",
                "sgd",
                "--range",
                "1-2",
            ],
            "LO..HI",
        ),
    ];
    for (args, needle) in cases {
        let o = run(args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err} lacks {needle}");
    }
}

#[test]
fn a_scenario_region_outside_the_domain_is_refused() {
    let f = TempFile::new(
        "far-region.ron",
        "(version: 1, surface: (kind: \"rastrigin\"), methods: [(id: \"adam\")], \
         starts: Random(k: 10, region: (x0: -100.0, x1: 1.0, y0: 0.0, y1: 1.0)))",
    );
    let o = run(&["race", "--scenario", f.path()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(f.path()) && err.contains("region"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_surface_with_no_finite_value_is_refused() {
    for args in [
        vec!["race", "--surface", "formula:sqrt(-1 - x^2 - y^2)"],
        vec![
            "trace",
            "--format",
            "csv",
            "--surface",
            "formula:sqrt(-1 - x^2 - y^2)",
            "--methods",
            "adam",
        ],
        vec![
            "basins",
            "--surface",
            "formula:log(x)",
            "--domain",
            "-3,-1,0,1",
            "--methods",
            "adam",
        ],
    ] {
        let o = run(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("no finite value on the domain"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

/// Every number the command line takes, given each hostile value: a clear line and exit 2, or a
/// normal run (exit 0); never a panic, never a hang.
#[test]
fn every_cli_number_survives_hostile_values() {
    let nines = "9".repeat(400);
    let values = [
        "1e309", "nan", "inf", "-inf", "-0", "1e-400", &nines, "", "-1", "0", "1e18", "0x10",
        " 7 ", "1,2",
    ];
    // Each command with cheap settings, and the places where a number goes (`V`).
    let trace = "trace --surface rastrigin --methods sgd --steps 5";
    let race = "race --surface rastrigin --methods sgd --starts 5 --steps 5";
    let basins = "basins --surface rastrigin --methods sgd --resolution 4 --steps 5";
    let sweep = "sweep --surface bowl --methods sgd --points 2 --starts 3 --steps 5";
    let record = "record --out /nonexistent-folder-of-optiscape/x.gif --frames 2";
    let sandbox = "--screenshot /nonexistent-folder-of-optiscape/x.png";
    let places: &[(&str, &[&str])] = &[
        (trace, &["--steps", "V"]),
        (trace, &["--seed", "V"]),
        (trace, &["--start", "V,1"]),
        (trace, &["--domain", "-5,V,-5,5"]),
        (trace, &["--set", "lr=V"]),
        (trace, &["--set", "betas=V,0.9"]),
        (trace, &["--surface-param", "a=V"]),
        (race, &["--steps", "V"]),
        (race, &["--seed", "V"]),
        (race, &["--tol", "V"]),
        (race, &["--starts", "V"]),
        (race, &["--region", "V,1,-1,1"]),
        (race, &["--set", "sgd.lr=V"]),
        (basins, &["--resolution", "V"]),
        (basins, &["--steps", "V"]),
        (basins, &["--tol", "V"]),
        (sweep, &["--range", "V..1"]),
        (sweep, &["--range", "1e-4..V"]),
        (sweep, &["--points", "V"]),
        (sweep, &["--starts", "V"]),
        (record, &["--fps", "V"]),
        (record, &["--frames", "V"]),
        (record, &["--starts", "V"]),
        (record, &["--seed", "V"]),
        (record, &["--size", "Vx100"]),
        (sandbox, &["--starts", "V"]),
        (sandbox, &["--seed", "V"]),
        (sandbox, &["--frames", "V"]),
    ];
    let mut cases = 0;
    for (base, place) in places {
        for v in values {
            let mut args: Vec<String> = base.split(' ').map(String::from).collect();
            args.extend(place.iter().map(|a| a.replace('V', v)));
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_optiscape"));
            cmd.args(&args);
            let (code, err) = run_bounded(cmd, std::time::Duration::from_secs(120));
            let shown = args.join(" ");
            assert!(code.is_some(), "{shown}: still running after 2 minutes");
            assert!(!err.contains("panicked"), "{shown}: {err}");
            match code {
                Some(0) => {}
                Some(2) => {
                    let line = err
                        .lines()
                        .rev()
                        .find(|l| l.starts_with("optiscape: error:"));
                    assert!(line.is_some(), "{shown}: exit 2 without a message: {err}");
                }
                other => panic!("{shown}: exit {other:?}: {err}"),
            }
            cases += 1;
        }
    }
    assert_eq!(cases, places.len() * values.len());
}
