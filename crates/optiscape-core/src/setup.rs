//! Building what a run needs from what a user typed: a surface with its domain and parameters,
//! a method with its hyperparameters, numbers, counts and regions. The command line, the
//! sandbox's command-line options and the Python package use these, so the same text is
//! accepted (or refused with the same one-line message) everywhere.

use crate::landscape::{Domain, Surface};
use crate::optim::{Optimizer, catalog as methods};
use crate::scenario::Scenario;

/// The most updates a lab run takes (`--steps`).
pub const MAX_STEPS: u64 = 10_000_000;
/// The defaults every command shares (the sandbox, the lab, scenarios and Python): the seed,
/// the updates per run, and the random starts of a command that draws them.
pub const DEFAULT_SEED: u64 = 0;
pub const DEFAULT_STEPS: u64 = 300;
pub const DEFAULT_STARTS: u64 = 1000;
/// The most random starts a lab command draws (`--starts`).
pub const MAX_STARTS: u64 = 10_000_000;
/// The largest basin map side (`--resolution`).
pub const MAX_RESOLUTION: u64 = 4096;
/// The most settings `tune` tries per method (`--budget`).
pub const MAX_BUDGET: u64 = 4096;

/// `--steps` of a lab command: 1..=[`MAX_STEPS`].
pub fn parse_steps(text: &str) -> Result<u64, String> {
    parse_count_in("--steps", text, 1, MAX_STEPS)
}

/// The most updates `trace` takes (`--steps`; its rows are streamed, not kept).
pub const MAX_TRACE_STEPS: u64 = 100_000_000;

/// `--steps` of `trace`: 1..=[`MAX_TRACE_STEPS`].
pub fn parse_trace_steps(text: &str) -> Result<u64, String> {
    parse_count_in("--steps", text, 1, MAX_TRACE_STEPS)
}

/// `--start X,Y` of `trace` (default: the surface's start): finite and inside the domain.
pub fn parse_start(surface: &Surface, text: Option<&str>) -> Result<glam::DVec2, String> {
    let start = match text {
        Some(t) => {
            let v = parse_numbers("--start", t, 2)?;
            glam::DVec2::new(v[0], v[1])
        }
        None => surface.default_start(),
    };
    let d = surface.domain;
    if !d.contains(start) {
        return Err(format!(
            "--start ({}, {}) is outside the domain [{}, {}] x [{}, {}] of '{}'",
            fmt_num(start.x),
            fmt_num(start.y),
            fmt_num(d.x0),
            fmt_num(d.x1),
            fmt_num(d.y0),
            fmt_num(d.y1),
            surface.id()
        ));
    }
    Ok(start)
}

/// A number echoed in a message: as Rust prints it where that is short, in scientific notation
/// where it would run to many digits (`1e308`, not 309 of them).
pub fn fmt_num(v: f64) -> String {
    if v != 0.0 && v.is_finite() && (v.abs() >= 1e7 || v.abs() < 1e-5) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// `--starts` of a lab command: 1..=[`MAX_STARTS`].
pub fn parse_starts(text: &str) -> Result<u64, String> {
    parse_count_in("--starts", text, 1, MAX_STARTS)
}

/// `--resolution` of a basin map: 2..=[`MAX_RESOLUTION`].
pub fn parse_resolution(text: &str) -> Result<u64, String> {
    parse_count_in("--resolution", text, 2, MAX_RESOLUTION)
}

/// `--budget` of `tune`: 1..=[`MAX_BUDGET`] settings per method.
pub fn parse_budget(text: &str) -> Result<u64, String> {
    let v = parse_count("--trials", text, 1)?;
    if v > MAX_BUDGET {
        return Err(format!(
            "--trials must be at most {MAX_BUDGET} settings (got {v})"
        ));
    }
    Ok(v)
}

/// The success target of a lab run on `surface`: its global minimum, within `--tol` if given
/// (at least 0), else within the surface's own tolerance.
pub fn parse_target(surface: &Surface, tol: Option<&str>) -> Result<crate::lab::Target, String> {
    let mut target = crate::lab::Target::of(surface);
    if let Some(t) = tol {
        let v = parse_numbers("--tol", t, 1)?[0];
        if v < 0.0 {
            return Err(format!("--tol must be >= 0 (got {})", fmt_num(v)));
        }
        target.tol = v;
    }
    Ok(target)
}

/// `--precision`: `f64` or `f32`.
pub fn parse_precision(text: &str) -> Result<crate::lab::Precision, String> {
    match text.trim() {
        "f64" => Ok(crate::lab::Precision::F64),
        "f32" => Ok(crate::lab::Precision::F32),
        other => Err(format!("--precision expects f64 or f32, got '{other}'")),
    }
}

/// Refuses f32 where it cannot resolve the success tolerance at the minimum's magnitude: the
/// spacing of f32 numbers near `|value|` is larger than `tol`, so whether a run reached the
/// target would depend on rounding. (Success itself is decided in f64 on the f32 loss widened,
/// see [`crate::lab::Target::reached`].)
pub fn check_precision(
    target: &crate::lab::Target,
    precision: crate::lab::Precision,
) -> Result<(), String> {
    if precision != crate::lab::Precision::F32 {
        return Ok(());
    }
    let spacing = f32_spacing(target.value.abs() + target.tol);
    if spacing > target.tol {
        return Err(format!(
            "f32 cannot resolve --tol {} near the minimum {} (f32 numbers are {} apart there); use --precision f64 or a larger --tol",
            fmt_num(target.tol),
            fmt_num(target.value),
            fmt_num(spacing)
        ));
    }
    Ok(())
}

/// The distance from `v` (finite, at least 0) to the next larger f32.
fn f32_spacing(v: f64) -> f64 {
    let f = v as f32;
    if !f.is_finite() {
        return f64::INFINITY;
    }
    let next = f32::from_bits(f.abs().to_bits() + 1);
    f64::from(next) - f64::from(f.abs())
}

/// A surface by id or `formula:f(x, y)`, with a message listing the valid ids.
pub fn parse_surface(spec: &str) -> Result<Surface, String> {
    Surface::parse(spec)
}

/// A surface with `--domain X0,X1,Y0,Y1` and `--surface-param NAME=VALUE` applied.
pub fn build_surface(
    spec: &str,
    domain: Option<&str>,
    params: &[String],
) -> Result<Surface, String> {
    let mut surface = parse_surface(spec)?;
    apply_surface_options(&mut surface, domain, params)?;
    Ok(surface)
}

/// Applies `--domain X0,X1,Y0,Y1` and `--surface-param NAME=VALUE` (in order) to a surface.
pub fn apply_surface_options(
    surface: &mut Surface,
    domain: Option<&str>,
    params: &[String],
) -> Result<(), String> {
    if let Some(text) = domain {
        surface.domain = parse_domain("--domain", text)?;
    }
    for p in params {
        let Some((name, v)) = p.split_once('=') else {
            return Err(format!("--surface-param expects NAME=VALUE, got '{p}'"));
        };
        let v = parse_numbers("--surface-param", v, 1)?[0];
        surface
            .set_param(name.trim(), v)
            .map_err(|e| format!("--surface-param: {e}"))?;
    }
    // An instance is drawn for the domain and parameters it is shown with.
    surface.replace_instance();
    check_finite_somewhere(surface)
}

/// Applies `--rotate DEG` or `--instance N` (one of them) to a surface (after its domain and
/// parameters: an instance keeps the global minima inside the domain it is drawn for).
pub fn apply_placement(
    surface: &mut Surface,
    rotate: Option<&str>,
    instance: Option<&str>,
) -> Result<(), String> {
    match (rotate, instance) {
        (Some(_), Some(_)) => return Err("give --rotate or --instance, not both".into()),
        (Some(r), None) => {
            let v = parse_numbers("--rotate", r, 1)?[0];
            surface
                .set_rotation(v)
                .map_err(|e| format!("--rotate: {e}"))?;
        }
        (None, Some(n)) => surface.set_instance(parse_count("--instance", n, 0)?),
        (None, None) => return Ok(()),
    }
    check_finite_somewhere(surface)
}

/// A surface must have a finite value somewhere on its domain: nothing can be optimized, drawn
/// or measured on one that has none (`formula:sqrt(-1 - x^2 - y^2)`).
pub fn check_finite_somewhere(surface: &Surface) -> Result<(), String> {
    if surface.has_finite_values() {
        return Ok(());
    }
    Err(format!(
        "'{}' has no finite value on the domain {}",
        surface.spec(),
        surface.domain
    ))
}

/// A well-formed rectangle `X0,X1,Y0,Y1`; `what` names the option in the message.
pub fn parse_domain(what: &str, text: &str) -> Result<Domain, String> {
    let v = parse_numbers(what, text, 4)?;
    let d = Domain::new(v[0], v[1], v[2], v[3]);
    d.validate().map_err(|e| format!("{what}: {e}"))?;
    Ok(d)
}

/// The start region `X0,X1,Y0,Y1` inside `domain` (see [`Domain::start_region`]); `None`: the
/// whole domain.
pub fn parse_region(what: &str, text: Option<&str>, domain: Domain) -> Result<Domain, String> {
    let region = text.map(|t| parse_domain(what, t)).transpose()?;
    domain
        .start_region(region)
        .map_err(|e| format!("{what}: {e}"))
}

/// A scenario file, or a shipped scenario by name.
pub fn load_scenario(name: &str) -> Result<Scenario, String> {
    Scenario::load_or_builtin(name)
}

/// A method or preset by id, with a message listing the valid ids.
pub fn parse_method(id: &str) -> Result<Optimizer, String> {
    Optimizer::by_id(id).ok_or_else(|| {
        let ids: Vec<&str> = methods().iter().map(|m| m.id).collect();
        format!("unknown method '{id}' (known: {})", ids.join(", "))
    })
}

/// Applies `--set NAME=VALUE` settings in order.
pub fn apply_settings(opt: &mut Optimizer, settings: &[String]) -> Result<(), String> {
    for s in settings {
        let Some((k, v)) = s.split_once('=') else {
            return Err(format!(
                "--set expects NAME=VALUE (e.g. lr=0.01), got '{s}'"
            ));
        };
        opt.set(k.trim(), v.trim())?;
    }
    Ok(())
}

/// `--set [METHOD.]NAME=VALUE`, repeated, applied to the methods of a command: `METHOD.` names
/// one of them (`adam.lr=0.05`); with one method it may be left out (`lr=0.05`). `what` names
/// the command's set of methods in messages ("race", "tuning", ...).
pub fn apply_method_settings(
    opts: &mut [Optimizer],
    settings: &[String],
    what: &str,
) -> Result<(), String> {
    for s in settings {
        let Some((lhs, v)) = s.split_once('=') else {
            return Err(format!(
                "--set expects METHOD.NAME=VALUE (e.g. adam.lr=0.05), got '{s}'"
            ));
        };
        let (m, k) = match lhs.rsplit_once('.') {
            Some((m, k)) => (Some(m.trim()), k.trim()),
            None => (None, lhs.trim()),
        };
        let opt = match (m, opts.len()) {
            (Some(m), _) => match opts.iter_mut().find(|o| o.id == m) {
                Some(o) => o,
                None => {
                    return Err(format!("--set {s}: method '{m}' is not in the {what}"));
                }
            },
            (None, 1) => &mut opts[0],
            (None, _) => {
                return Err(format!(
                    "--set {s}: name the method when there are several (e.g. --set adam.{})",
                    s.trim()
                ));
            }
        };
        opt.set(k, v.trim())?;
    }
    Ok(())
}

/// `METHOD.NAME=VALUE` (as `race` and `record` take `--set`) into its three trimmed parts.
pub fn split_method_setting(s: &str) -> Result<(&str, &str, &str), String> {
    let Some((lhs, v)) = s.split_once('=') else {
        return Err(format!("--set expects METHOD.NAME=VALUE, got '{s}'"));
    };
    let Some((m, k)) = lhs.rsplit_once('.') else {
        return Err(format!(
            "--set names the method here: METHOD.NAME=VALUE (e.g. adam.lr=0.05), got '{s}'"
        ));
    };
    Ok((m.trim(), k.trim(), v.trim()))
}

/// The folder a file is to be written into must exist (an output is never the reason a folder
/// appears): `cannot write PATH: the folder DIR does not exist`.
pub fn check_folder_of(path: &std::path::Path) -> Result<(), String> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) if !d.is_dir() => Err(format!(
            "cannot write {}: the folder {} does not exist",
            path.display(),
            d.display()
        )),
        _ => Ok(()),
    }
}

/// Parses comma-separated finite numbers, exactly `n` of them.
pub fn parse_numbers(what: &str, text: &str, n: usize) -> Result<Vec<f64>, String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    if parts.len() != n {
        return Err(format!(
            "{what} expects {n} comma-separated numbers, got '{text}'"
        ));
    }
    parts
        .iter()
        .map(|p| match p.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(format!(
                "{what} expects finite numbers, got '{p}' in '{text}'"
            )),
        })
        .collect()
}

/// Parses a whole number with a lower bound.
pub fn parse_count(what: &str, text: &str, min: u64) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(v) if v >= min => Ok(v),
        Ok(v) => Err(format!("{what} must be at least {min} (got {v})")),
        Err(_) => Err(format!(
            "{what} expects a whole number >= {min}, got '{text}'"
        )),
    }
}

/// A whole number in `min..=max`.
pub fn parse_count_in(what: &str, text: &str, min: u64, max: u64) -> Result<u64, String> {
    let v = parse_count(what, text, min)?;
    if v > max {
        return Err(format!("{what} must be at most {max} (got {v})"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_must_lie_inside_the_domain() {
        let d = Domain::square(-5.0, 5.0);
        assert_eq!(parse_region("--region", None, d), Ok(d));
        assert_eq!(
            parse_region("--region", Some("-1,1,0,2"), d),
            Ok(Domain::new(-1.0, 1.0, 0.0, 2.0))
        );
        let e = parse_region("--region", Some("-100,1,0,2"), d).unwrap_err();
        assert!(
            e.starts_with("--region:") && e.contains("inside the domain"),
            "{e}"
        );
        let e = parse_region("--region", Some("1,-1,0,2"), d).unwrap_err();
        assert!(e.contains("x0 < x1"), "{e}");
        assert!(parse_region("--region", Some("1,2,3"), d).is_err());
    }

    #[test]
    fn counts_and_numbers_refuse_what_they_cannot_hold() {
        assert_eq!(parse_count("--k", "12", 1), Ok(12));
        assert!(
            parse_count("--k", "0", 1)
                .unwrap_err()
                .contains("at least 1")
        );
        assert!(parse_count("--k", "-3", 1).is_err());
        assert!(parse_count("--k", "", 1).is_err());
        assert!(
            parse_count_in("--k", "11", 1, 10)
                .unwrap_err()
                .contains("at most 10 (got 11)")
        );
        assert!(parse_numbers("--x", "1e309", 1).is_err());
        assert!(parse_numbers("--x", "nan", 1).is_err());
        assert_eq!(parse_numbers("--x", " -0 , 2", 2), Ok(vec![-0.0, 2.0]));
    }

    #[test]
    fn an_output_needs_its_folder() {
        let dir = std::env::temp_dir();
        assert_eq!(check_folder_of(&dir.join("map.png")), Ok(()));
        assert_eq!(check_folder_of(std::path::Path::new("map.png")), Ok(()));
        let e = check_folder_of(&dir.join("no-such-folder-of-optiscape/map.png")).unwrap_err();
        assert!(
            e.starts_with("cannot write ") && e.ends_with("does not exist"),
            "{e}"
        );
    }

    #[test]
    fn a_surface_with_no_finite_value_is_refused() {
        let e = build_surface("formula:sqrt(-1 - x^2 - y^2)", None, &[]).unwrap_err();
        assert!(e.contains("no finite value on the domain"), "{e}");
        // Finite on part of the domain is fine (the rest is marked and diverges).
        assert!(build_surface("formula:log(x) + y^2", None, &[]).is_ok());
        // The domain decides.
        assert!(build_surface("formula:log(x)", Some("-3,-1,0,1"), &[]).is_err());
        assert!(build_surface("formula:log(x)", Some("-3,1,0,1"), &[]).is_ok());
    }

    #[test]
    fn method_settings_split_on_the_last_dot() {
        assert_eq!(
            split_method_setting("seed:adagrad.lr = 0.5"),
            Ok(("seed:adagrad", "lr", "0.5"))
        );
        assert!(split_method_setting("lr=0.5").is_err());
        assert!(split_method_setting("adam.lr").is_err());
    }
}
