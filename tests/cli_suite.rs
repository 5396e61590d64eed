//! `optiscape suite` from the command line: its report folder, resuming, and refusals.

mod common;
use common::{run, stderr};
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("optiscape-suite-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

const SMALL: &[&str] = &[
    "suite",
    "--methods",
    "sgd,adam,cma-es,nelder-mead",
    "--surfaces",
    "himmelblau,rastrigin,bowl",
    "--instances",
    "2",
    "--starts",
    "40",
    "--budget",
    "600",
    "--tune-budget",
    "4",
];

fn suite(out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<&str> = SMALL.to_vec();
    args.extend(extra);
    args.extend(["--out", out.to_str().unwrap()]);
    run(&args)
}

#[test]
fn a_suite_writes_its_report_and_resumes_from_it() {
    let out = scratch("report");
    let o = suite(&out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("adam (tuned)") && table.contains("Friedman"),
        "{table}"
    );
    let results = std::fs::read_to_string(out.join("results.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&results).unwrap();
    assert_eq!(doc["finished"]["problems"], 6);
    assert_eq!(doc["results"]["problems"].as_array().unwrap().len(), 6);
    // Evaluation and tuning instances never meet.
    let ids = |k: &str| -> Vec<u64> {
        doc["setup"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect()
    };
    assert!(
        ids("instances")
            .iter()
            .all(|i| !ids("tuning_instances").contains(i))
    );
    // One row per run: 7 lines (4 methods, 3 tuned) x 6 problems x 40 starts.
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    let mut lines = runs.lines();
    assert!(lines.next().unwrap().starts_with(
        "method,run,x0,y0,x,y,loss,updates,first_success_update,status,evals,grads,problem,instance"
    ));
    assert_eq!(lines.count(), 7 * 6 * 40);
    // IOHprofiler's format: a folder per entry, a meta file and a data file per surface.
    for entry in ["adam", "adam-tuned", "cma-es", "nelder-mead"] {
        let meta = out.join(format!("ioh/{entry}/IOHprofiler_f2_rastrigin.json"));
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&meta).unwrap()).unwrap();
        assert_eq!(meta["function_name"], "rastrigin");
        assert_eq!(
            meta["scenarios"][0]["runs"].as_array().unwrap().len(),
            2 * 40
        );
        let dat = out.join(format!(
            "ioh/{entry}/{}",
            meta["scenarios"][0]["path"].as_str().unwrap()
        ));
        let dat = std::fs::read_to_string(dat).unwrap();
        assert_eq!(dat.matches("evaluations raw_y").count(), 2 * 40);
        // Every run starts at evaluation 1 (iohinspector finds runs so).
        assert_eq!(dat.lines().filter(|l| l.starts_with("1 ")).count(), 2 * 40);
    }
    // One page, nothing fetched from elsewhere.
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.contains("data:image/png;base64,") && page.contains("Win matrix"));
    assert!(
        !page.contains("src=\"http") && !page.contains("<script") && !page.contains("href=\"http")
    );
    assert!(page.contains("adam (tuned)") && page.contains("escape rate"));
    // The same command again: every cell from the folder, the same numbers.
    let cells = std::fs::read_dir(out.join("cells")).unwrap().count();
    let again = suite(&out, &[]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(std::fs::read_dir(out.join("cells")).unwrap().count(), cells);
    let second: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(second["results"], doc["results"]);
    assert_eq!(std::fs::read_to_string(out.join("runs.csv")).unwrap(), runs);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn the_suite_refuses_bad_input_in_one_line() {
    let keep = scratch("keep");
    std::fs::create_dir_all(&keep).unwrap();
    std::fs::write(keep.join("notes.txt"), "mine").unwrap();
    let file = scratch("file");
    std::fs::write(&file, "a file").unwrap();
    let k = keep.to_str().unwrap();
    let f = file.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["suite", "--methods", "adam,nope", "--out", "/tmp/x-suite"],
            "unknown method 'nope'",
        ),
        (
            vec!["suite", "--surfaces", "bowl,nope", "--out", "/tmp/x-suite"],
            "unknown surface 'nope'",
        ),
        (
            vec![
                "suite",
                "--surfaces",
                "formula:x^2+y^2",
                "--out",
                "/tmp/x-suite",
            ],
            "formula",
        ),
        (
            vec!["suite", "--instances", "0", "--out", "/tmp/x-suite"],
            "--instances must be at least 1",
        ),
        (
            vec!["suite", "--budget", "0", "--out", "/tmp/x-suite"],
            "--budget must be at least 1",
        ),
        (
            vec!["suite", "--starts", "-3", "--out", "/tmp/x-suite"],
            "--starts",
        ),
        (
            vec!["suite", "--methods", "adam,adam", "--out", "/tmp/x-suite"],
            "twice",
        ),
        (vec!["suite", "--quick", "--out", k], "not a suite's report"),
        (vec!["suite", "--quick", "--out", f], "is a file"),
        (
            vec!["suite", "--quick", "--out", "/proc/optiscape-no/such"],
            "cannot write",
        ),
    ];
    for (args, want) in cases {
        let o = run(&args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert_eq!(e.trim().lines().count(), 1, "{args:?}: {e}");
        assert!(e.contains(want), "{args:?}: {e}");
    }
    // Nothing the user made was touched.
    assert_eq!(
        std::fs::read_to_string(keep.join("notes.txt")).unwrap(),
        "mine"
    );
    assert_eq!(std::fs::read_dir(&keep).unwrap().count(), 1);
    assert!(!Path::new("/tmp/x-suite").exists());
    let _ = std::fs::remove_dir_all(&keep);
    let _ = std::fs::remove_file(&file);
}

#[test]
fn ctrl_c_leaves_a_partial_report_that_the_same_command_completes() {
    let out = scratch("interrupted");
    let whole = scratch("whole");
    let args = |dir: &Path| -> Vec<String> {
        [
            "suite",
            "--methods",
            "annealing",
            "--surfaces",
            "rastrigin,ackley,levi13",
            "--instances",
            "2",
            "--starts",
            "2000",
            "--tune-budget",
            "1",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([dir.to_str().unwrap().to_string()])
        .collect()
    };
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_optiscape"))
        .args(args(&out))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupted once the first problem is finished (its flow cell and its run cell) and the
    // second has begun.
    let t0 = std::time::Instant::now();
    while std::fs::read_dir(out.join("cells")).map_or(0, |d| d.count()) < 3 {
        assert!(t0.elapsed().as_secs() < 120, "the suite wrote no cells");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        e.contains("interrupted") && e.contains("of 6 problems"),
        "{e}"
    );
    let partial: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let done = partial["finished"]["problems"].as_u64().unwrap();
    assert!((1..6).contains(&done), "{partial}");
    assert_eq!(
        partial["results"]["problems"].as_array().unwrap().len() as u64,
        done
    );
    assert!(
        std::fs::read_to_string(out.join("index.html"))
            .unwrap()
            .contains("Partial report")
    );
    // The same command finishes it, equal to a suite never interrupted.
    let a: Vec<String> = args(&out);
    let o = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    let b: Vec<String> = args(&whole);
    let o = run(&b.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    let read = |d: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(d.join("results.json")).unwrap()).unwrap()
    };
    assert_eq!(read(&out)["results"], read(&whole)["results"]);
    assert_eq!(
        std::fs::read_to_string(out.join("runs.csv")).unwrap(),
        std::fs::read_to_string(whole.join("runs.csv")).unwrap()
    );
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&whole);
}
