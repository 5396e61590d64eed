//! Hostile input, 10,000 cases each: the formula parser and compiler, the scenario loader on
//! mutated shipped files (lines deleted, duplicated, garbled; numbers made extreme), and the
//! parsing of every number the command line takes. A value or a message, never a panic.
//!
//! Minutes long together, so `cargo test` leaves them out (`#[ignore]`); `.ci/run` runs them
//! with `cargo test -p optiscape-core --test hostile -- --ignored` under a time limit.

use glam::DVec2;
use optiscape_core::landscape::{Formula, Surface};
use optiscape_core::optim::Optimizer;
use optiscape_core::scenario::{Scenario, builtin};
use optiscape_core::setup::{
    apply_settings, build_surface, parse_count, parse_domain, parse_numbers, parse_region,
};
use proptest::prelude::*;

const CASES: u32 = 10_000;

/// Numbers a user (or a fuzzer) may type.
fn hostile_number() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("1e309".to_string()),
        Just("-1e309".to_string()),
        Just("nan".to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("-inf".to_string()),
        Just("-0".to_string()),
        Just("1e-400".to_string()),
        Just("9".repeat(400)),
        Just(String::new()),
        Just(" ".to_string()),
        Just("0x1f".to_string()),
        Just("1_000".to_string()),
        any::<f64>().prop_map(|v| format!("{v:?}")),
        any::<i64>().prop_map(|v| v.to_string()),
        any::<u64>().prop_map(|v| v.to_string()),
        "[-+0-9.eE]{0,12}",
    ]
}

/// A shipped scenario with one line changed: deleted, duplicated, garbled, or a number in it
/// replaced by an extreme one.
fn mutated_scenario() -> impl Strategy<Value = String> {
    (
        0..builtin().len(),
        0usize..64,
        0u8..4,
        "[(){}\\[\\],:\"a-z0-9.# -]{0,16}",
        hostile_number(),
    )
        .prop_map(|(which, line, how, junk, number)| {
            let mut lines: Vec<String> = builtin()[which].text.lines().map(String::from).collect();
            let at = line % lines.len().max(1);
            match how {
                0 => {
                    lines.remove(at);
                }
                1 => {
                    let copy = lines[at].clone();
                    lines.insert(at, copy);
                }
                2 => {
                    let mut chars: Vec<char> = lines[at].chars().collect();
                    let cut = junk.len() % (chars.len() + 1);
                    chars.splice(cut.min(chars.len())..chars.len(), junk.chars());
                    lines[at] = chars.into_iter().collect();
                }
                _ => {
                    // The first number on the line, if any, becomes `number`.
                    let l = &lines[at];
                    if let Some(start) = l.find(|c: char| c.is_ascii_digit()) {
                        let end = l[start..]
                            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                            .map_or(l.len(), |e| start + e);
                        lines[at] = format!("{}{number}{}", &l[..start], &l[end..]);
                    }
                }
            }
            lines.join("\n")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    #[ignore = "10,000 cases: .ci/run runs the hostile suite"]
    fn any_text_is_a_formula_or_a_message(src in ".{0,120}") {
        if let Ok(f) = Formula::parse(&src) {
            let _ = f.value_and_gradient(DVec2::new(0.3, -1.7), &[2.0; 8]);
        }
        if let Ok(s) = Surface::parse(&format!("formula:{src}")) {
            let _ = s.global_minimum();
        }
    }

    #[test]
    #[ignore = "10,000 cases: .ci/run runs the hostile suite"]
    fn formula_like_text_compiles_or_fails_cleanly(
        src in proptest::collection::vec(
            prop_oneof![
                Just("x"), Just("y"), Just("a"), Just("b"), Just("1.5"), Just("1e308"),
                Just("1e-320"), Just("0"), Just("e"), Just("pi"), Just("+"), Just("-"),
                Just("*"), Just("/"), Just("^"), Just("**"), Just("("), Just(")"), Just(","),
                Just("sin("), Just("min("), Just("max("), Just("pow("), Just("log("),
                Just("abs("), Just("sqrt("), Just("atan2("), Just("hypot("), Just("sign("),
                Just("exp("), Just("tanh("), Just(" "),
            ],
            0..80,
        ).prop_map(|v| v.concat()),
        x in prop_oneof![-1e3f64..1e3, Just(0.0), Just(f64::MAX), Just(-f64::MIN_POSITIVE)],
        y in -1e3f64..1e3,
    ) {
        if let Ok(f) = Formula::parse(&src) {
            let (v, _) = f.value_and_gradient(DVec2::new(x, y), &[0.5, -2.0]);
            let w = f.value(DVec2::new(x, y), &[0.5, -2.0]);
            prop_assert!(v.to_bits() == w.to_bits() || (v.is_nan() && w.is_nan()));
        }
    }

    #[test]
    #[ignore = "10,000 cases: .ci/run runs the hostile suite"]
    fn a_mutated_scenario_loads_valid_or_names_the_file(text in mutated_scenario()) {
        match Scenario::parse(&text, "m.ron") {
            Ok(sc) => {
                prop_assert!(sc.validate().is_ok());
                prop_assert!(sc.surface().is_ok() && sc.methods().is_ok());
            }
            Err(e) => prop_assert!(e.starts_with("m.ron"), "{}", e),
        }
    }

    #[test]
    #[ignore = "10,000 cases: .ci/run runs the hostile suite"]
    fn every_number_the_command_line_takes_parses_or_says_why(
        v in hostile_number(),
        w in hostile_number(),
    ) {
        let ok_or_message = |r: Result<(), String>| match r {
            Ok(()) => Ok(()),
            Err(e) if !e.is_empty() && !e.contains('\n') => Ok(()),
            Err(e) => Err(TestCaseError::fail(format!("not one line: {e:?}"))),
        };
        ok_or_message(parse_count("--steps", &v, 1).map(|_| ()))?;
        ok_or_message(parse_numbers("--tol", &v, 1).map(|_| ()))?;
        ok_or_message(parse_numbers("--start", &format!("{v},{w}"), 2).map(|_| ()))?;
        let d = parse_domain("--domain", &format!("{v},{w},-1,1"));
        ok_or_message(d.map(|_| ()))?;
        let domain = optiscape_core::landscape::Domain::square(-5.0, 5.0);
        let r = parse_region("--region", Some(&format!("-1,{v},{w},1")), domain);
        if let Ok(r) = r {
            prop_assert!(r.x0 >= -5.0 && r.x1 <= 5.0 && r.y0 >= -5.0 && r.y1 <= 5.0);
        }
        ok_or_message(
            build_surface("rastrigin", None, &[format!("a={v}")]).map(|_| ()),
        )?;
        ok_or_message(
            build_surface("formula:a*x^2 + y^2", Some(&format!("{v},{w},-1,1")), &[]).map(|_| ()),
        )?;
        for (id, setting) in [
            ("adam", format!("lr={v}")),
            ("adam", format!("betas={v},{w}")),
            ("sgd", format!("momentum={v}")),
            ("langevin", format!("noise={v}")),
            ("rmsprop", format!("centered={v}")),
            ("adam", format!("clip={v}")),
        ] {
            let mut opt = Optimizer::by_id(id).expect("a method");
            let set = apply_settings(&mut opt, &[setting]);
            ok_or_message(set.clone())?;
            if set.is_ok() {
                // An accepted setting gives a finite first step from a finite gradient, or a
                // non-finite one that the run reports as diverged.
                let _ = opt.step(DVec2::new(0.5, -0.5), DVec2::new(1.0, -2.0));
            }
        }
    }
}
