//! One grammar for every command: the lab commands share their options, defaults, output
//! formats and vocabulary; the old spellings give a hint; completions, the man page and
//! `--version` come from the same definitions.

mod common;
use common::{TempFile, run, stderr, stdout};

/// Every lab command, with what it needs to run cheaply beside the shared options.
struct Lab {
    name: &'static str,
    /// Arguments that make it cheap, without touching the shared defaults under test.
    cheap: &'static [&'static str],
    /// Whether it draws random starts (`--starts`, `--region`).
    starts: bool,
    /// Whether it draws a picture (`--out`).
    picture: bool,
    /// The header of its `--format csv` output.
    csv_header: &'static str,
    /// The header of its `--csv FILE`.
    file_header: &'static str,
}

const LABS: &[Lab] = &[
    Lab {
        name: "trace",
        cheap: &["--methods", "adam"],
        starts: false,
        picture: false,
        csv_header: "update,x,y,loss,evals,grads",
        file_header: "update,x,y,loss,evals,grads",
    },
    Lab {
        name: "race",
        cheap: &["--methods", "adam,sgd"],
        starts: true,
        picture: false,
        csv_header: "method,runs,success_rate,success_rate_low,success_rate_high,reached_rate,ert,ert_low,ert_high,ert_evals,ert_evals_low,ert_evals_high,mean_evals,grad_cost,mean_loss,median_loss,median_updates_to_success,diverged,bad_gradient,seconds",
        file_header: "method,run,x0,y0,x,y,loss,updates,first_success_update,status,evals,grads",
    },
    Lab {
        name: "ecdf",
        cheap: &["--methods", "adam,sgd"],
        starts: true,
        picture: true,
        csv_header: "method,updates,fraction",
        file_header: "method,updates,fraction",
    },
    Lab {
        name: "tune",
        cheap: &["--methods", "adam", "--trials", "2"],
        starts: true,
        picture: true,
        csv_header: "method,params,settings_tried,success_rate,ert,ert_low,ert_high,default_success_rate,default_ert,default_ert_low,default_ert_high",
        file_header: "method,params,settings_tried,success_rate,ert,ert_low,ert_high,default_success_rate,default_ert,default_ert_low,default_ert_high",
    },
    Lab {
        name: "phase",
        cheap: &[
            "--methods",
            "heavy-ball",
            "--y",
            "momentum=0..0.9",
            "--points",
            "2x2",
        ],
        starts: true,
        picture: true,
        csv_header: "x_value,y_value,success_rate,ert",
        file_header: "x_value,y_value,success_rate,ert",
    },
    Lab {
        name: "basins",
        // A method that arrives within the default 300 updates: its map has minima to list.
        cheap: &["--methods", "heavy-ball", "--resolution", "8"],
        starts: false,
        picture: true,
        csv_header: "x,y,loss,area_fraction,global",
        file_header: "x0,y0,x,y,loss,label",
    },
    Lab {
        name: "sweep",
        cheap: &["--methods", "adam", "--points", "2"],
        starts: true,
        picture: true,
        csv_header: "lr,success_rate,median_loss,diverged",
        file_header: "lr,success_rate,median_loss,diverged",
    },
];

fn lab_run(lab: &Lab, extra: &[&str]) -> std::process::Output {
    let mut args = vec![lab.name, "--surface", "bowl"];
    args.extend_from_slice(lab.cheap);
    args.extend_from_slice(extra);
    run(&args)
}

/// The help text of one option, from `--help`: its line and the lines under it.
fn option_help(help: &str, flag: &str) -> Option<String> {
    let mut lines = help
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(flag));
    let first = lines.next()?;
    let rest: Vec<&str> = lines
        .take_while(|l| !l.trim_start().starts_with('-') && !l.trim().is_empty())
        .collect();
    Some(format!("{first} {}", rest.join(" ")))
}

#[test]
fn every_lab_command_takes_the_shared_options_with_the_same_help_and_defaults() {
    let shared = [
        "--scenario",
        "--surface",
        "--domain",
        "--surface-param",
        "--rotate",
        "--instance",
        "--steps",
        "--seed",
        "--methods",
        "--set",
        "--format",
        "--csv",
    ];
    let mut texts: std::collections::BTreeMap<&str, Vec<(String, String)>> = Default::default();
    for lab in LABS {
        let o = run(&[lab.name, "--help"]);
        assert!(o.status.success(), "{}", lab.name);
        let help = stdout(&o);
        let mut flags: Vec<&str> = shared.to_vec();
        if lab.starts {
            flags.extend(["--starts", "--region"]);
        }
        if lab.picture {
            flags.push("--out");
        }
        if lab.name != "trace" {
            flags.extend(["--tol", "--precision"]);
        }
        for flag in flags {
            let text = option_help(&help, flag)
                .unwrap_or_else(|| panic!("{} --help lacks {flag}:\n{help}", lab.name));
            texts
                .entry(flag)
                .or_default()
                .push((lab.name.to_string(), text));
        }
        assert_eq!(
            option_help(&help, "--out").is_some(),
            lab.picture,
            "{}: --out only where there is a picture",
            lab.name
        );
    }
    // The same option reads the same everywhere (the commands share its definition), but for
    // the picture, which each command names.
    for (flag, seen) in texts.iter().filter(|(f, _)| **f != "--out") {
        let first = &seen[0].1;
        for (name, text) in seen {
            assert_eq!(text, first, "{flag} of {name} differs from {}", seen[0].0);
        }
    }
    let format = &texts["--format"][0].1;
    assert!(
        format.contains("[default: table]") && format.contains("table, csv, json"),
        "{format}"
    );
    assert!(texts["--seed"][0].1.contains("[default: 0"));
    assert!(texts["--steps"][0].1.contains("[default: 300"));
    assert!(texts["--starts"][0].1.contains("[default: 1000"));
}

#[test]
fn every_lab_command_prints_table_csv_and_json_with_the_shared_keys_and_defaults() {
    for lab in LABS {
        // JSON: the setup every document has, with the defaults.
        let o = lab_run(lab, &["--format", "json"]);
        assert!(o.status.success(), "{}: {}", lab.name, stderr(&o));
        let doc: serde_json::Value = serde_json::from_str(&stdout(&o))
            .unwrap_or_else(|e| panic!("{}: {e}: {}", lab.name, stdout(&o)));
        assert_eq!(doc["surface"], "bowl", "{}", lab.name);
        assert_eq!(doc["steps"], 300, "{}", lab.name);
        assert_eq!(doc["seed"], 0, "{}", lab.name);
        assert_eq!(doc["precision"], "f64", "{}", lab.name);
        let engine = doc["engine"].as_str().unwrap_or_default();
        assert!(
            ["avx512", "avx2", "baseline", "general"].contains(&engine),
            "{}: engine {engine}",
            lab.name
        );
        assert!(
            doc["lanes"].as_u64().is_some_and(|l| l >= 1),
            "{}",
            lab.name
        );
        if lab.starts {
            assert_eq!(doc["starts"], 1000, "{}", lab.name);
        }
        // No key counts updates by another name.
        let text = stdout(&o);
        for old in ["\"step\"", "\"budget", "median_steps", "\"budgets\""] {
            assert!(!text.contains(old), "{}: {old} in {text}", lab.name);
        }

        // CSV on stdout, and the per-row file.
        let file = TempFile::new(&format!("{}-rows.csv", lab.name), "");
        let o = lab_run(lab, &["--format", "csv", "--csv", file.path()]);
        assert!(o.status.success(), "{}: {}", lab.name, stderr(&o));
        let out = stdout(&o);
        assert_eq!(out.lines().next(), Some(lab.csv_header), "{}", lab.name);
        assert!(out.lines().count() >= 2, "{}: {out}", lab.name);
        let rows = std::fs::read_to_string(file.path()).unwrap();
        assert_eq!(rows.lines().next(), Some(lab.file_header), "{}", lab.name);
        assert!(rows.lines().count() >= 2, "{}", lab.name);

        // The table is the default.
        let o = lab_run(lab, &[]);
        assert!(o.status.success(), "{}: {}", lab.name, stderr(&o));
        let table = stdout(&o);
        assert!(!table.is_empty(), "{}", lab.name);
        assert!(!table.starts_with('{'), "{}: {table}", lab.name);
    }
}

#[test]
fn set_takes_the_method_name_and_leaves_it_out_for_one_method() {
    let base = [
        "trace",
        "--surface",
        "rastrigin",
        "--methods",
        "adam",
        "--steps",
        "20",
    ];
    let last = |extra: &[&str]| {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        a.extend_from_slice(&["--format", "csv"]);
        let o = run(&a);
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
        stdout(&o).lines().last().unwrap().to_string()
    };
    let pair = last(&["--set", "adam.betas=0.5,0.999"]);
    assert_eq!(last(&["--set", "adam.beta1=0.5"]), pair);
    assert_eq!(last(&["--set", "beta1=0.5"]), pair);
    assert_eq!(
        last(&["--set", "beta2=0.9", "--set", "beta1=0.5"]),
        last(&["--set", "betas=0.5,0.9"])
    );
    assert_ne!(last(&[]), pair);
    // Several methods: the name is needed.
    let o = run(&[
        "race",
        "--surface",
        "bowl",
        "--methods",
        "adam,sgd",
        "--set",
        "lr=0.1",
        "--starts",
        "5",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("name the method"), "{}", stderr(&o));
    // beta1 is checked like betas.
    let o = run(&[
        "trace",
        "--surface",
        "bowl",
        "--methods",
        "adam",
        "--set",
        "beta1=1.5",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("beta1"), "{}", stderr(&o));
}

#[test]
fn commands_of_one_method_refuse_a_list_of_several() {
    for lab in ["trace", "basins", "sweep", "phase"] {
        let mut args = vec![lab, "--surface", "bowl", "--methods", "adam,sgd"];
        if lab == "phase" {
            args.extend(["--y", "beta1=0..0.9"]);
        }
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{lab}");
        let err = stderr(&o);
        assert_eq!(err.trim_end().lines().count(), 1, "{lab}: {err}");
        assert!(err.contains("runs one method"), "{lab}: {err}");
    }
}

#[test]
fn old_spellings_give_a_one_line_hint() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["trace", "--surface", "bowl", "--method", "adam"],
            "--methods",
        ),
        (
            &["basins", "--surface", "bowl", "--method=adam"],
            "--methods",
        ),
        (
            &["basins", "--surface", "bowl", "--methods", "adam", "--json"],
            "--format json",
        ),
        (
            &["race", "--surface", "bowl", "--runs-csv", "r.csv"],
            "--csv",
        ),
        (&["tune", "--surface", "bowl", "--budget", "4"], "--trials"),
    ];
    for (args, hint) in cases {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(hint), "{args:?}: {err}");
    }
}

#[test]
fn out_of_range_numbers_are_refused_not_clamped() {
    let o = run(&[
        "sweep",
        "--surface",
        "bowl",
        "--methods",
        "adam",
        "--points",
        "1001",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--points"), "{}", stderr(&o));
}

#[test]
fn tune_defaults_to_the_common_rules() {
    let o = run(&[
        "tune",
        "--surface",
        "bowl",
        "--starts",
        "10",
        "--steps",
        "20",
        "--trials",
        "2",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let ids: Vec<&str> = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["method"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["sgd", "heavy-ball", "nesterov", "adam", "rmsprop", "lion"]
    );
}

#[test]
fn tuned_values_print_in_full_and_read_back_the_same() {
    let o = run(&[
        "tune",
        "--surface",
        "rastrigin",
        "--methods",
        "adam",
        "--starts",
        "40",
        "--steps",
        "50",
        "--trials",
        "4",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let lr = doc["methods"][0]["params"]["lr"].as_f64().unwrap();
    let o = run(&[
        "tune",
        "--surface",
        "rastrigin",
        "--methods",
        "adam",
        "--starts",
        "40",
        "--steps",
        "50",
        "--trials",
        "4",
    ]);
    let table = stdout(&o);
    assert!(
        table.contains(&format!("lr={lr}")),
        "{lr} not in full in {table}"
    );
    assert_eq!(format!("{lr}").parse::<f64>().unwrap(), lr);
}

#[test]
fn completions_man_page_and_version() {
    for shell in ["bash", "zsh", "fish"] {
        let o = run(&["completions", shell]);
        assert!(o.status.success(), "{shell}");
        let script = stdout(&o);
        assert!(
            script.contains("optiscape") && script.contains("methods"),
            "{shell}"
        );
    }
    let o = run(&["man"]);
    assert!(o.status.success());
    let man = stdout(&o);
    assert!(
        man.starts_with(".ie") || man.contains(".TH"),
        "{}",
        &man[..200.min(man.len())]
    );
    assert!(man.contains("OPTISCAPE RACE") && man.contains("methods"));
    let o = run(&["--version"]);
    assert!(o.status.success());
    let v = stdout(&o);
    assert!(v.contains(env!("CARGO_PKG_VERSION")), "{v}");
    assert!(v.contains("lane engine on this CPU:"), "{v}");
}

#[test]
fn numbers_echoed_in_errors_are_short() {
    let o = run(&[
        "trace",
        "--surface",
        "bowl",
        "--methods",
        "adam",
        "--start",
        "1e308,0",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("1e308"), "{err}");
    assert!(err.len() < 200, "{err}");
    let o = run(&[
        "trace",
        "--surface",
        "bowl",
        "--methods",
        "adam",
        "--set",
        "beta1=1e300",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("1e300") && stderr(&o).len() < 200,
        "{}",
        stderr(&o)
    );
}
