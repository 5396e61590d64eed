//! The `optiscape` binary's headless commands, run as a user runs them.

// The notebook's constants use 3.14, not pi.
#![allow(clippy::approx_constant)]

use bevy::color::ColorToPacked;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_optiscape"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

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
        "--surface",
        "seed",
        "--method",
        "seed:sgd",
        "--steps",
        "300",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "step,x,y,loss");
    assert_eq!(lines.len(), 302);
    assert_eq!(
        lines[1],
        format!("0,{:?},{:?},{:?}", 0.6 * 3.14, 1.9 * 3.14, {
            let s = optiscape_core::landscape::Surface::seed();
            s.height(s.default_start())
        })
    );
    // The last row is the independently computed notebook end point, to the last digit.
    assert_eq!(
        lines[301],
        "300,3.935789355092478,15.844691541258683,-1.5318479055520222"
    );
    // Numbers parse back to the same f64 (shortest round-trip formatting).
    for l in &lines[1..] {
        for v in l.split(',').skip(1) {
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
        "--method",
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
        "--surface",
        "rastrigin",
        "--method",
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
        "--surface",
        "seed",
        "--method",
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
        "--surface",
        "rastrigin",
        "--method",
        "sgd",
        "--set",
        "lr=100",
        "--start",
        "1.3,0.4",
    ]);
    assert!(o.status.success());
    assert!(stderr(&o).contains("diverged at step"), "{}", stderr(&o));
    assert!(stdout(&o).lines().count() < 302);
}

#[test]
fn bad_input_gives_one_clear_line_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["trace", "--surface", "nope", "--method", "sgd"],
            "unknown surface 'nope'",
        ),
        (
            &["trace", "--surface", "seed", "--method", "nope"],
            "unknown method 'nope'",
        ),
        (
            &[
                "trace",
                "--surface",
                "seed",
                "--method",
                "sgd",
                "--set",
                "zz=1",
            ],
            "has no parameter 'zz'",
        ),
        (
            &[
                "trace",
                "--surface",
                "seed",
                "--method",
                "sgd",
                "--set",
                "lr",
            ],
            "NAME=VALUE",
        ),
        (
            &[
                "trace",
                "--surface",
                "seed",
                "--method",
                "sgd",
                "--set",
                "lr=abc",
            ],
            "expects a number",
        ),
        (
            &[
                "trace",
                "--surface",
                "seed",
                "--method",
                "sgd",
                "--set",
                "lr=-0.1",
            ],
            "lr must be > 0",
        ),
        (
            &[
                "trace",
                "--surface",
                "seed",
                "--method",
                "adam",
                "--set",
                "betas=0.9",
            ],
            "two numbers",
        ),
        (
            &[
                "trace",
                "--surface",
                "seed",
                "--method",
                "sgd",
                "--steps",
                "0",
            ],
            "--steps must be at least 1",
        ),
        (
            &[
                "trace",
                "--surface",
                "seed",
                "--method",
                "sgd",
                "--steps",
                "-5",
            ],
            "--steps",
        ),
        (
            &[
                "trace",
                "--surface",
                "seed",
                "--method",
                "sgd",
                "--steps",
                "x",
            ],
            "--steps",
        ),
        (
            &[
                "trace",
                "--surface",
                "seed",
                "--method",
                "sgd",
                "--start",
                "100,1",
            ],
            "outside the domain",
        ),
        (
            &[
                "trace",
                "--surface",
                "seed",
                "--method",
                "sgd",
                "--start",
                "1",
            ],
            "--start expects 2",
        ),
        (
            &[
                "trace",
                "--surface",
                "seed",
                "--method",
                "sgd",
                "--start",
                "nan,1",
            ],
            "finite",
        ),
        (
            &[
                "trace",
                "--surface",
                "seed",
                "--method",
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
                "--method",
                "sgd",
                "--format",
                "xml",
            ],
            "xml",
        ),
        (&["trace", "--surface", "seed"], "--method"),
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

/// The rendered check: the sandbox renders its opening scene offscreen-free under a real (or
/// virtual) display and saves a screenshot; the picture shows the surface and every ball's
/// color. Without a display it is skipped loudly, unless OPTISCAPE_REQUIRE_RENDER=1 (CI).
#[test]
fn the_sandbox_renders_the_opening_scene() {
    let require = std::env::var("OPTISCAPE_REQUIRE_RENDER").as_deref() == Ok("1");
    let skip = |why: &str| {
        if require {
            panic!("rendering is required (OPTISCAPE_REQUIRE_RENDER=1) but {why}");
        }
        eprintln!("SKIPPED the_sandbox_renders_the_opening_scene: {why}");
    };
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return skip("no display (run under xvfb-run)");
    }
    let dir = std::env::temp_dir().join(format!("optiscape-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("opening.png");
    let mut child = Command::new(env!("CARGO_BIN_EXE_optiscape"))
        .args(["--screenshot", path.to_str().unwrap(), "--frames", "150"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > std::time::Duration::from_secs(600) {
            let _ = child.kill();
            panic!("the sandbox did not save its screenshot within 10 minutes");
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let mut err = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    if !status.success() {
        if err.contains("adapter") || err.contains("Unable to find a GPU") {
            return skip(&format!("no graphics adapter: {err}"));
        }
        panic!("the sandbox failed ({status}): {err}");
    }
    let img = image::open(&path).expect("a PNG was written").to_rgb8();
    assert_eq!((img.width(), img.height()), (1280, 720));
    // The 3D view lies between the panels.
    let view: Vec<[u8; 3]> = img
        .enumerate_pixels()
        .filter(|(x, _, _)| (290..810).contains(x))
        .map(|(_, _, p)| p.0)
        .collect();
    let distinct: std::collections::HashSet<[u8; 3]> = view.iter().copied().collect();
    assert!(
        distinct.len() > 2000,
        "the view is nearly blank: {} colors",
        distinct.len()
    );
    // The surface: the coolwarm colormap's blue valleys cover a good part of the view.
    let bluish = view
        .iter()
        .filter(|p| p[2] as i32 > p[0] as i32 + 40)
        .count();
    assert!(
        bluish * 10 > view.len(),
        "no surface: {bluish} bluish of {}",
        view.len()
    );
    // Every ball's method color appears (balls and their trails).
    let roster = optiscape::sim::Roster::default();
    for m in roster.enabled() {
        let c = m.color.to_srgba().to_u8_array_no_alpha();
        let near = view
            .iter()
            .filter(|p| {
                (0..3)
                    .map(|i| (p[i] as i32 - c[i] as i32).pow(2))
                    .sum::<i32>()
                    < 45 * 45
            })
            .count();
        assert!(near >= 3, "{}'s color {c:?} is not in the picture", m.id);
    }
    let _ = std::fs::remove_dir_all(&dir);
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
        "--method",
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
        "--json",
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
            "--surface",
            "himmelblau",
            "--method",
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
fn sweep_prints_one_row_per_value() {
    let o = run(&[
        "sweep",
        "--surface",
        "bowl",
        "--method",
        "sgd",
        "--range",
        "1e-3..1",
        "--points",
        "4",
        "--starts",
        "20",
        "--steps",
        "200",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "lr,success_rate,median_loss,diverged");
    assert_eq!(lines.len(), 5);
    assert!(lines[1].starts_with("0.001,"));
    assert!(lines[4].starts_with("1.0,"));
}

/// `--precision f32` runs, reports the same kind of answer as f64, and is deterministic.
#[test]
fn lab_commands_run_in_single_precision() {
    let args = |p: &'static str| {
        [
            "basins",
            "--surface",
            "rastrigin",
            "--method",
            "adam",
            "--set",
            "lr=0.05",
            "--resolution",
            "48",
            "--steps",
            "200",
            "--json",
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
            "METHOD.NAME=VALUE",
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
        (
            &["race", "--surface", "ackley", "--precision", "f32"],
            "--precision f32 is not available: the surface 'ackley'",
        ),
        (
            &[
                "basins",
                "--surface",
                "seed",
                "--method",
                "lion",
                "--precision",
                "f32",
            ],
            "the method 'lion' runs one run at a time",
        ),
        (&["race", "--surface", "seed", "--precision", "f16"], "f16"),
        (
            &[
                "basins",
                "--surface",
                "seed",
                "--method",
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
                "--method",
                "sgd",
                "--out",
                "/nonexistent-dir/x.png",
            ],
            "does not exist",
        ),
        (
            &[
                "sweep",
                "--surface",
                "seed",
                "--method",
                "sgd",
                "--param",
                "zz",
            ],
            "has no parameter 'zz'",
        ),
        (
            &[
                "sweep",
                "--surface",
                "seed",
                "--method",
                "sgd",
                "--range",
                "1..0.1",
            ],
            "LO < HI",
        ),
        (
            &[
                "sweep",
                "--surface",
                "seed",
                "--method",
                "sgd",
                "--range",
                "-1..1",
            ],
            "lr must be > 0",
        ),
        (
            &[
                "sweep",
                "--surface",
                "seed",
                "--method",
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
fn formulas_work_in_every_command() {
    let f = "formula:a*sin(x)*cos(y) + 0.1*(x^2 + y^2)";
    let o = run(&[
        "trace",
        "--surface",
        f,
        "--surface-param",
        "a=2",
        "--method",
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
        "--surface",
        "formula:2*sin(x)*cos(y) + 0.1*(x^2 + y^2)",
        "--method",
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
        "--method",
        "adam",
        "--set",
        "lr=0.1",
        "--resolution",
        "24",
        "--steps",
        "300",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(doc["global_fraction"].as_f64().unwrap() > 0.0);
    assert_eq!(doc["surface"], f);
    let o = run(&[
        "sweep",
        "--surface",
        f,
        "--method",
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
            vec!["trace", "--surface", "formula:sin(x", "--method", "sgd"],
            "column 6: missing ')'",
        ),
        (
            vec![
                "trace",
                "--surface",
                "formula:x*y",
                "--surface-param",
                "a=1",
                "--method",
                "sgd",
            ],
            "has no parameters",
        ),
        (
            vec![
                "trace",
                "--surface",
                "formula:a*x",
                "--surface-param",
                "a",
                "--method",
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
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["method"], "heavy-ball");
    assert_eq!(doc["steps"], 400);
    assert_eq!(doc["global_fraction"], 1.0);
    let o = run(&[
        "sweep",
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

/// The offscreen recorder: no window and no X server, but a graphics adapter (the software one
/// will do). Same skip rule as the sandbox's rendered check.
#[test]
fn record_writes_gif_png_frames_and_mp4_offscreen() {
    let require = std::env::var("OPTISCAPE_REQUIRE_RENDER").as_deref() == Ok("1");
    let dir = std::env::temp_dir().join(format!("optiscape-record-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let record = |extra: &[&str], out: &std::path::Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_optiscape"));
        c.args(["record", "--frames", "6", "--size", "320x240"])
            .args(extra)
            .arg("--out")
            .arg(out)
            // Prove that no display is needed.
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        c.output().unwrap()
    };
    let gif = dir.join("clip.gif");
    let o = record(&[], &gif);
    if !o.status.success() {
        let e = stderr(&o);
        if e.to_lowercase().contains("adapter") && !require {
            eprintln!(
                "SKIPPED record_writes_gif_png_frames_and_mp4_offscreen: no graphics adapter: {e}"
            );
            return;
        }
        panic!("record failed: {e}");
    }
    assert!(stderr(&o).contains("wrote 6 frames"), "{}", stderr(&o));
    // The GIF: 320x240, six frames, looping, not blank.
    let file = std::fs::File::open(&gif).unwrap();
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::RGBA);
    let mut dec = opts.read_info(file).unwrap();
    assert_eq!((dec.width(), dec.height()), (320, 240));
    let mut frames = 0;
    while let Some(f) = dec.read_next_frame().unwrap() {
        if frames == 0 {
            // The first frame is whole; later ones hold only what changed.
            assert_eq!((f.width, f.height), (320, 240));
            let colors: std::collections::HashSet<&[u8]> = f.buffer.chunks_exact(4).collect();
            assert!(colors.len() > 50, "the first frame is nearly blank");
        }
        assert!(f.delay >= 3, "30 fps is 3 hundredths of a second per frame");
        frames += 1;
    }
    assert_eq!(frames, 6);
    // PNG frames, deterministic: the same scenario and seed give the same pictures.
    let pngs = |name: &str, extra: &[&str]| -> Vec<Vec<u8>> {
        let d = dir.join(name);
        let o = record(extra, &d);
        assert!(o.status.success(), "{}", stderr(&o));
        (0..6)
            .map(|i| {
                let img = image::open(d.join(format!("frame-{i:05}.png")))
                    .unwrap()
                    .to_rgb8();
                assert_eq!((img.width(), img.height()), (320, 240));
                img.into_raw()
            })
            .collect()
    };
    let a = pngs("a", &["--scenario", "egg-crate"]);
    let b = pngs("b", &["--scenario", "egg-crate"]);
    assert!(
        a == b,
        "the same scenario and seed must give the same frames"
    );
    assert!(
        a[0] != a[5],
        "the balls move between the first and the last frame"
    );
    let c = pngs("c", &["--scenario", "egg-crate", "--seed", "8"]);
    assert!(a[5] != c[5], "another seed, other start points");
    // By default the still parts are drawn once and reused; drawing everything in every frame
    // gives the same pictures but where a contour line crosses a trail or a ball.
    let full = pngs("full", &["--scenario", "egg-crate", "--redraw-all"]);
    for (k, (x, y)) in a.iter().zip(&full).enumerate() {
        let differ = x
            .chunks_exact(3)
            .zip(y.chunks_exact(3))
            .filter(|(p, q)| p.iter().zip(q.iter()).any(|(u, v)| u.abs_diff(*v) > 8))
            .count();
        assert!(
            differ * 1000 < x.len() / 3,
            "frame {k}: {differ} pixels differ from the full redraw"
        );
    }
    // MP4 through ffmpeg; without ffmpeg, a clear error and exit 2.
    let mp4 = dir.join("clip.mp4");
    let mut c = Command::new(env!("CARGO_BIN_EXE_optiscape"));
    c.args(["record", "--frames", "2", "--out"])
        .arg(&mp4)
        .env("OPTISCAPE_FFMPEG", "/nonexistent/ffmpeg");
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("needs ffmpeg"), "{}", stderr(&o));
    if optiscape::record::ffmpeg_available() {
        let o = record(&[], &mp4);
        assert!(o.status.success(), "{}", stderr(&o));
        let probe = Command::new("ffprobe")
            .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
            .args([
                "-show_entries",
                "stream=width,height,nb_read_frames,codec_name",
            ])
            .args(["-of", "csv=p=0"])
            .arg(&mp4)
            .output()
            .unwrap();
        assert_eq!(stdout(&probe).trim(), "h264,320,240,6");
    } else if require {
        panic!("ffmpeg is required in CI (OPTISCAPE_REQUIRE_RENDER=1) but is not on PATH");
    } else {
        eprintln!("SKIPPED the .mp4 part: no ffmpeg on PATH");
    }
    // Bad input: one line, exit 2.
    for (args, want) in [
        (
            vec!["record", "--out", "x.gif", "--size", "big"],
            "--size expects WxH",
        ),
        (
            vec!["record", "--out", "x.mp4", "--size", "321x240"],
            "even width",
        ),
        (
            vec!["record", "--out", "/no/such/dir/x.gif"],
            "does not exist",
        ),
        (
            vec!["record", "--out", "x.gif", "--methods", "nope"],
            "unknown method",
        ),
        (vec!["record", "--out", "x.gif", "--fps", "0"], "--fps"),
        (vec!["record"], "--out"),
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn record_notebook_writes_the_six_clips() {
    let require = std::env::var("OPTISCAPE_REQUIRE_RENDER").as_deref() == Ok("1");
    let dir = std::env::temp_dir().join(format!("optiscape-nb-{}", std::process::id()));
    let o = Command::new(env!("CARGO_BIN_EXE_optiscape"))
        .args([
            "record",
            "--frames",
            "2",
            "--size",
            "160x120",
            "--format",
            "png",
            "--notebook",
        ])
        .arg(&dir)
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    if !o.status.success() && !require && stderr(&o).to_lowercase().contains("adapter") {
        eprintln!("SKIPPED record_notebook_writes_the_six_clips: no graphics adapter");
        return;
    }
    assert!(o.status.success(), "{}", stderr(&o));
    for clip in [
        "sgd",
        "momentum",
        "adagrad",
        "adagrad-finetune",
        "adadelta",
        "race",
    ] {
        for i in 0..2 {
            let f = dir.join(clip).join(format!("frame-{i:05}.png"));
            let img = image::open(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            assert_eq!((img.width(), img.height()), (160, 120));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Without a graphics adapter (no Vulkan driver found) or without a display, the renderer's
/// panic becomes one clear line and exit 2, and `record` creates no output file.
#[test]
fn no_adapter_or_no_display_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("optiscape-noad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gif = dir.join("never.gif");
    let o = Command::new(env!("CARGO_BIN_EXE_optiscape"))
        .args(["record", "--frames", "2", "--size", "64x48", "--out"])
        .arg(&gif)
        .env("VK_ICD_FILENAMES", dir.join("no-such-driver.json"))
        .env("VK_DRIVER_FILES", dir.join("no-such-driver.json"))
        .env("WGPU_BACKEND", "vulkan")
        .output()
        .unwrap();
    if o.status.success() {
        eprintln!("SKIPPED the no-adapter part: an adapter was found anyway");
    } else {
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("no usable graphics adapter"), "{err}");
        assert!(err.contains("mesa-vulkan-drivers"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!gif.exists(), "an output file was created");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_optiscape"))
        .args(["--screenshot"])
        .arg(dir.join("never.png"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("WAYLAND_SOCKET")
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot open a window"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A scenario file written for a test, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str, text: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("optiscape-t-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
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
    let row: Vec<&str> = out.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(row[6], "20", "every run diverges: {out}");
    assert_eq!((row[3], row[4], row[5]), ("", "", ""), "no value: {out}");
    assert!(!out.contains("NaN"), "{out}");
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
            "--surface",
            "formula:sqrt(-1 - x^2 - y^2)",
            "--method",
            "adam",
        ],
        vec![
            "basins",
            "--surface",
            "formula:log(x)",
            "--domain",
            "-3,-1,0,1",
            "--method",
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

#[test]
fn record_reports_numbers_as_typed() {
    for (args, want) in [
        (
            vec!["record", "--out", "x.gif", "--fps", "5000"],
            "got 5000",
        ),
        (
            vec!["record", "--out", "x.gif", "--frames", "5000000000"],
            "got 5000000000",
        ),
    ] {
        let o = run(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
