//! The matrix of the lockstep engine's tests: every method of the catalog and every surface,
//! against single runs bit for bit, in each copy of the engine's code the CPU runs. Shared by
//! `tests/lab.rs` (the library as users get it) and by the core's unit tests
//! (`src/lab/batch.rs`); written against the crate's public paths (`optiscape_core::...`,
//! which the unit-test build names with `extern crate self as optiscape_core`).

use glam::DVec2;
use optiscape_core::lab::{
    LaneCopy, Precision, Progress, RunStatus, Target, run_batch_on, run_batch_scalar, run_seed,
    trace, uniform_starts,
};
use optiscape_core::landscape::Surface;
use optiscape_core::optim::Optimizer;

/// A method by its id, with settings (a test's own values: each must be accepted).
pub fn opt(id: &str, settings: &[(&str, &str)]) -> Optimizer {
    let mut o = Optimizer::by_id(id).unwrap();
    for (k, v) in settings {
        o.set(k, v).unwrap();
    }
    o
}

/// Every method of the catalog (rules and presets) with a learning rate that moves, and the
/// gradient transforms: the matrix of the lockstep engine's tests.
pub fn every_method() -> Vec<Optimizer> {
    let mut v: Vec<Optimizer> = optiscape_core::optim::catalog()
        .iter()
        .map(|m| {
            let mut o = Optimizer::by_id(m.id).unwrap();
            if !m.id.starts_with("seed:") && o.lr().is_some() && m.id != "adadelta" {
                o.set("lr", "0.05").unwrap();
            }
            o
        })
        .collect();
    v.extend([
        opt("sgd", &[("lr", "0.05"), ("weight_decay", "0.1")]),
        opt("nesterov", &[("lr", "0.02"), ("clip", "1.5")]),
        opt("adagrad", &[("lr", "0.3"), ("lr_decay", "0.01")]),
        opt(
            "rmsprop",
            &[("lr", "0.01"), ("centered", "true"), ("momentum", "0.5")],
        ),
        opt("amsgrad", &[("lr", "0.05"), ("weight_decay", "0.01")]),
        opt("nadam", &[("lr", "0.05"), ("weight_decay", "0.01")]),
        opt("radam", &[("lr", "0.05"), ("betas", "0.9,0.9")]),
        opt("lion", &[("lr", "0.01"), ("weight_decay", "0.1")]),
        opt("adam", &[("lr", "0.05"), ("noise", "0.5"), ("clip", "2")]),
        opt("langevin", &[("lr", "0.01"), ("noise", "0.2")]),
        opt("sgd", &[("lr", "3")]), // diverges
    ]);
    v
}

/// Every built-in surface and two typed formulas (one with a parameter and libm-only
/// functions, one with sines, exponentials and a kink).
pub fn every_surface() -> Vec<Surface> {
    let mut v: Vec<Surface> = optiscape_core::landscape::catalog()
        .iter()
        .map(|i| Surface::by_id(i.id).unwrap())
        .collect();
    v.push(Surface::parse("formula:1.5*sin(x)*cos(y) + 0.1*(x^2 + y^2)").unwrap());
    let mut f = Surface::parse(
        "formula:k*exp(-(x^2+y^2)/8) - cos(x)^2 + abs(x - y)/4 + log(1 + y^2) + atan2(y, 3) + x^-2",
    )
    .unwrap();
    f.set_param("k", -2.0).unwrap();
    v.push(f);
    // Instances: a turned built-in surface and a turned and shifted formula.
    let mut turned = Surface::by_id("ackley").unwrap();
    turned.set_rotation(33.0).unwrap();
    v.push(turned);
    let mut inst = v[13].clone();
    inst.set_instance(3);
    assert!(!inst.placement.is_identity());
    v.push(inst);
    v
}

/// The copies of the lockstep engine this CPU runs (the baseline always; AVX2 and AVX-512 where
/// it has them), named on stderr so that a log shows which were tested.
pub fn copies_here() -> Vec<LaneCopy> {
    let here: Vec<LaneCopy> = [LaneCopy::Baseline, LaneCopy::Avx2, LaneCopy::Avx512]
        .into_iter()
        .filter(|c| *c <= LaneCopy::detected())
        .collect();
    let names: Vec<&str> = here.iter().map(|c| c.name()).collect();
    eprintln!("lockstep copies this CPU runs: {}", names.join(", "));
    here
}

/// Every field of every run in the copy `copy` of the engine, bit for bit, with noise (one
/// random source per lane), diverging runs and a start count that is not a multiple of the lane
/// width; and the same ends as `trace` with the run's seed.
pub fn lockstep_equals_single_runs(copy: LaneCopy) {
    let methods = every_method();
    for s in every_surface() {
        let id = s.spec();
        let target = Target::of(&s);
        let mut starts = uniform_starts(s.domain, 9, 5);
        starts.push(DVec2::NAN);
        for o in &methods {
            let p = Progress::default();
            let fast = run_batch_on(copy, &s, o, &starts, 120, 7, target, Precision::F64).unwrap();
            let slow = run_batch_scalar(&s, o, &starts, 120, 7, target, &p).unwrap();
            for (i, (a, b)) in fast.iter().zip(&slow).enumerate() {
                assert_eq!(a.status, b.status, "{id} {} {copy:?}", o.id);
                assert_eq!((a.steps, a.first_success), (b.steps, b.first_success));
                for (u, v) in [
                    (a.end.x, b.end.x),
                    (a.end.y, b.end.y),
                    (a.loss, b.loss),
                    (a.recent_travel, b.recent_travel),
                ] {
                    // Bit for bit; a NaN is a NaN (its sign bit is the CPU's choice: vector
                    // and scalar instructions make different default NaNs).
                    let same = u.to_bits() == v.to_bits() || (u.is_nan() && v.is_nan());
                    assert!(same, "{id} {} {a:?} {b:?}", o.id);
                }
                if i % 4 == 0 {
                    let t = trace(&s, &o.clone().with_seed(run_seed(7, i)), starts[i], 120);
                    let last = t.points.last().unwrap();
                    if o.is_search() {
                        // The trace shows the method's current point, the lab answers with its
                        // best: the same run asked for the same evaluations.
                        assert_eq!(
                            (last.evals, last.grads),
                            (a.evals, a.grads),
                            "{id} {} run {i}",
                            o.id
                        );
                        continue;
                    }
                    let bits = |v: f64| if v.is_nan() { 0 } else { v.to_bits() };
                    assert_eq!(
                        (bits(last.x), bits(last.y), bits(last.loss)),
                        (bits(a.end.x), bits(a.end.y), bits(a.loss)),
                        "{id} {} run {i}",
                        o.id
                    );
                }
            }
        }
    }
    let diverging = opt("sgd", &[("lr", "3")]);
    let s = Surface::by_id("bowl").unwrap();
    let ends = optiscape_core::lab::run_batch(&s, &diverging, &[DVec2::ONE], 50, 0, Target::of(&s));
    assert_eq!(ends[0].status, RunStatus::Diverged);
}
