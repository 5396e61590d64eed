//! Scenario files: the shipped ones, round trips, refusals.

// The notebook's constants use 3.14, not pi.
#![allow(clippy::approx_constant)]

// ---------------------------------------------------------------- scenario files

use optiscape_core::scenario::{
    CameraSpec, MethodSpec, ParamValue, Scenario, StartSpec, SurfaceSpec, builtin,
};
use proptest::prelude::*;
use std::collections::BTreeMap;

#[test]
fn every_shipped_scenario_loads_and_matches_its_file() {
    let names: Vec<&str> = builtin().iter().map(|b| b.name).collect();
    assert_eq!(
        names,
        [
            "notebook",
            "saddle",
            "long-valley",
            "egg-crate",
            "four-minima",
            "narrow-well",
            "formula-ripples"
        ]
    );
    // What each shipped scenario is meant to hold, written out here (not read from the
    // file): surface, methods with their learning rates, starts, steps and seed.
    type Expected = (
        &'static str,
        &'static [(&'static str, Option<f64>)],
        &'static str,
        u64,
        u64,
    );
    let expected: [Expected; 7] = [
        (
            "seed",
            &[
                ("seed:sgd", None),
                ("seed:momentum", None),
                ("seed:adagrad", None),
                ("seed:adagrad-finetune", None),
                ("seed:adadelta", None),
            ],
            "default",
            300,
            1,
        ),
        (
            "saddle",
            &[
                ("sgd", Some(0.01)),
                ("heavy-ball", Some(0.01)),
                ("rmsprop", Some(0.01)),
                ("adam", Some(0.05)),
            ],
            "3 points",
            400,
            1,
        ),
        (
            "rosenbrock",
            &[
                ("sgd", Some(0.001)),
                ("nesterov", Some(0.0005)),
                ("adam", Some(0.05)),
                ("adagrad", Some(0.5)),
            ],
            "2 points",
            1000,
            1,
        ),
        (
            "rastrigin",
            &[
                ("sgd", Some(0.002)),
                ("heavy-ball", Some(0.0005)),
                ("adam", Some(0.05)),
                ("langevin", Some(0.002)),
            ],
            "20 random",
            500,
            7,
        ),
        (
            "himmelblau",
            &[("sgd", Some(0.005)), ("adam", Some(0.1))],
            "12 random",
            300,
            3,
        ),
        (
            "plateau",
            &[
                ("sgd", Some(0.5)),
                ("heavy-ball", Some(0.1)),
                ("adam", Some(0.1)),
                ("adagrad", Some(0.5)),
            ],
            "3 points",
            600,
            1,
        ),
        (
            "formula",
            &[
                ("sgd", Some(0.05)),
                ("heavy-ball", Some(0.02)),
                ("adam", Some(0.1)),
            ],
            "10 random",
            300,
            2,
        ),
    ];
    for (b, (surface, methods, starts, steps, seed)) in builtin().iter().zip(expected) {
        let path = format!(
            "{}/../../assets/scenarios/{}.ron",
            env!("CARGO_MANIFEST_DIR"),
            b.name
        );
        let sc = Scenario::load(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(Scenario::load_or_builtin(b.name).unwrap(), sc, "{}", b.name);
        assert!(!sc.description.is_empty(), "{}", b.name);
        assert_eq!(b.description(), sc.description);
        assert_eq!(sc.surface().unwrap().id(), surface, "{}", b.name);
        let built = sc.methods().unwrap();
        let got: Vec<(String, Option<f64>)> = built
            .into_iter()
            .filter(|m| m.enabled)
            .map(|mut m| (m.optimizer.id.clone(), m.optimizer.lr()))
            .collect();
        for ((id, lr), (want_id, want_lr)) in got.iter().zip(methods.iter()) {
            assert_eq!(id, want_id, "{}", b.name);
            if let Some(want) = want_lr {
                assert_eq!(*lr, Some(*want), "{}: {id}", b.name);
            }
        }
        assert_eq!(got.len(), methods.len(), "{}", b.name);
        let starts_text = match &sc.starts {
            StartSpec::Default => "default".to_string(),
            StartSpec::Points(p) => format!("{} points", p.len()),
            StartSpec::Random { k, .. } => format!("{k} random"),
        };
        assert_eq!(starts_text, starts, "{}", b.name);
        assert_eq!((sc.steps, sc.seed), (steps, seed), "{}", b.name);
    }
    let formula = Scenario::load_or_builtin("formula-ripples").unwrap();
    assert!(formula.surface().unwrap().as_formula().is_some());
}

fn rich() -> Scenario {
    let mut params = BTreeMap::new();
    params.insert("lr".to_string(), ParamValue::Num(0.0123));
    params.insert("betas".to_string(), ParamValue::Pair(0.8, 0.95));
    params.insert("steps_per_frame".to_string(), ParamValue::Num(3.0));
    let mut sp = BTreeMap::new();
    sp.insert("a".to_string(), 2.5);
    Scenario {
        version: 1,
        description: "everything at once".into(),
        surface: SurfaceSpec {
            name: None,
            formula: Some("a*sin(x) + 0.1*(x^2 + y^2)".into()),
            params: sp,
            domain: Some(optiscape_core::landscape::Domain::new(-4.0, 4.0, -3.0, 5.0)),
            rotate: Some(30.0),
            instance: None,
        },
        display: Default::default(),
        methods: vec![
            MethodSpec {
                id: "adam".into(),
                enabled: true,
                color: Some("#ff8000".into()),
                params,
            },
            MethodSpec {
                id: "sgd".into(),
                enabled: false,
                color: None,
                params: BTreeMap::new(),
            },
        ],
        starts: StartSpec::Points(vec![(0.1, 0.2), (-1.0 / 3.0, 4.9)]),
        steps: 1234,
        speed: 77.5,
        seed: 99,
        camera: Some(CameraSpec {
            yaw: 0.1,
            pitch: 0.7,
            radius: 12.5,
            focus: (0.0, 1.0, -0.5),
        }),
        networks: None,
    }
}

#[test]
fn written_and_read_back_is_identical() {
    let sc = rich();
    sc.validate().unwrap();
    let text = sc.to_ron().unwrap();
    assert_eq!(Scenario::parse(&text, "rich").unwrap(), sc, "{text}");
    let dir = std::env::temp_dir().join(format!("optiscape-sc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rich.ron");
    sc.save(&path).unwrap();
    assert_eq!(Scenario::load(&path).unwrap(), sc);
    let _ = std::fs::remove_dir_all(&dir);
    for b in builtin() {
        let sc = Scenario::parse(b.text, b.name).unwrap();
        assert_eq!(Scenario::parse(&sc.to_ron().unwrap(), "again").unwrap(), sc);
    }
    let built = sc.methods().unwrap();
    let mut adam = built[0].optimizer.clone();
    assert_eq!(adam.get("betas").unwrap(), "0.8,0.95");
    assert_eq!(adam.get("steps_per_frame").unwrap(), "3");
    assert_eq!(built[0].color, Some([1.0, 128.0 / 255.0, 0.0]));
}

#[test]
fn bad_files_say_where_and_what() {
    let cases: &[(&str, &str)] = &[
        (
            "(version: 1, surface: (name: \"seed\"), methods: [], colour: 1)",
            "f.ron:1:",
        ),
        (
            "(version: 1,\n surface: (name: \"seed\"),\n methods: [(id: \"adam\", lrr: 1)])",
            "f.ron:3:",
        ),
        (
            "(version: 1, surface: (name: \"seed\"), methods: [(id: \"adam\", params: {\"lr\": \"x\"})])",
            "(adam): lr expects a number, got 'x'",
        ),
        (
            "(version: 2, surface: (name: \"seed\"), methods: [])",
            "version 2 is not supported",
        ),
        (
            "(version: 1, surface: (name: \"moon\"), methods: [])",
            "surface.name: unknown surface 'moon'",
        ),
        (
            "(version: 1, surface: (formula: \"sin(x\"), methods: [])",
            "surface.formula: column 6",
        ),
        (
            "(version: 1, surface: (name: \"seed\", formula: \"x\"), methods: [])",
            "exactly one of name or formula",
        ),
        (
            "(version: 1, surface: (name: \"seed\"), methods: [(id: \"adamx\")])",
            "methods[0] (adamx): unknown method",
        ),
        (
            "(version: 1, surface: (name: \"seed\"), methods: [(id: \"adam\", params: {\"lr\": -1})])",
            "methods[0] (adam)",
        ),
        (
            "(version: 1, surface: (name: \"seed\"), methods: [(id: \"adam\", color: \"red\")])",
            "expected #rrggbb",
        ),
        (
            "(version: 1, surface: (name: \"seed\"), methods: [(id: \"adam\"), (id: \"adam\")])",
            "listed twice",
        ),
        (
            "(version: 1, surface: (name: \"bowl\"), methods: [], starts: Points([(9.0, 0.0)]))",
            "outside the domain",
        ),
        (
            "(version: 1, surface: (name: \"seed\"), methods: [], speed: 0)",
            "speed must be",
        ),
        (
            "(version: 1, surface: (name: \"seed\"), methods: [], display: (colormap: \"jet\"))",
            "unknown colormap 'jet'",
        ),
        (
            "(version: 1, surface: (name: \"seed\"), methods: [], display: (resolution: 5000))",
            "display.resolution",
        ),
        (
            "(version: 1, surface: (name: \"seed\", domain: (x0: 1, x1: 0, y0: 0, y1: 1)), methods: [])",
            "surface.domain",
        ),
        (
            "(version: 1, surface: (name: \"seed\"), methods: [], camera: (yaw: 0, pitch: 0, radius: -1, focus: (0, 0, 0)))",
            "camera",
        ),
        (
            "(version: 1, surface: (name: \"seed\"), methods: [(id: \"adam\"",
            "f.ron:1:",
        ),
        ("", "f.ron:"),
    ];
    for (text, want) in cases {
        let e = Scenario::parse(text, "f.ron").expect_err(text);
        assert!(e.starts_with("f.ron"), "{e}");
        assert!(e.contains(want), "{text}\n  gave: {e}\n  want: {want}");
    }
    let missing = Scenario::load_or_builtin("no-such-scenario").unwrap_err();
    assert!(missing.contains("shipped: notebook"), "{missing}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn any_text_loads_or_fails_cleanly(text in ".{0,200}") {
        let _ = Scenario::parse(&text, "p.ron");
    }

    /// Shipped files with bytes cut out or replaced: a message, never a panic.
    #[test]
    fn damaged_scenarios_fail_cleanly(
        which in 0usize..7,
        cut in 0usize..2000,
        len in 0usize..40,
        junk in "[(){}\\[\\],:\"a-z0-9.# -]{0,12}",
    ) {
        let text = builtin()[which].text;
        let mut bytes: Vec<char> = text.chars().collect();
        let at = cut % (bytes.len() + 1);
        let end = (at + len).min(bytes.len());
        bytes.splice(at..end, junk.chars());
        let damaged: String = bytes.into_iter().collect();
        match Scenario::parse(&damaged, "d.ron") {
            Ok(sc) => prop_assert!(sc.validate().is_ok()),
            Err(e) => prop_assert!(e.starts_with("d.ron")),
        }
    }
}

#[test]
fn networks_in_training_are_kept_on_a_slice_and_refused_elsewhere() {
    let text = "(version: 1, surface: (name: \"net:xor,points=40,test-points=0,layers=2-4-1,steps=50\"), methods: [(id: \"adam\")], networks: (runs: 5))";
    let sc = Scenario::parse(text, "f.ron").unwrap();
    let n = sc.networks.unwrap();
    assert_eq!((n.runs, n.updates_per_frame), (5, 10));
    assert_eq!(Scenario::parse(&sc.to_ron().unwrap(), "again").unwrap(), sc);
    // The slice itself is written back as it was spelled, so a saved slice opens again.
    let slice = sc.surface().unwrap();
    assert_eq!(Scenario::surface_spec(&slice), sc.surface);
    for (bad, says) in [
        (
            text.replace(
                "net:xor,points=40,test-points=0,layers=2-4-1,steps=50",
                "seed",
            ),
            "network slice",
        ),
        (
            text.replace("runs: 5", "runs: 0"),
            "networks.runs must be 1..=32",
        ),
        (
            text.replace("runs: 5", "runs: 2, updates_per_frame: 500"),
            "networks.updates_per_frame must be 1..=200",
        ),
        (
            text.replace("steps=50\")", "steps=50\", rotate: 30)"),
            "as built",
        ),
    ] {
        let e = Scenario::parse(&bad, "f.ron").unwrap_err();
        assert!(e.contains(says), "{bad}: {e}");
    }
}
