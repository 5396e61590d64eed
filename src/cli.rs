//! The command line: argument parsing (clap) and the headless commands' output. Every error is
//! a `CliError` with one clear line; `main` prints it and exits with status 2.

use crate::lab::{RunStatus, trace};
use crate::landscape::{Domain, Surface, catalog as surfaces};
use crate::optim::{Optimizer, ParamKind, catalog as methods};
use clap::{Args, Parser, Subcommand, ValueEnum};
use glam::DVec2;
use std::fmt::Write as _;

#[derive(Parser, Debug)]
#[command(
    name = "optiscape",
    version,
    about = "Watch and measure how optimization algorithms fight local optima.",
    long_about = "Watch and measure how optimization algorithms fight local optima.\n\n\
                  With no subcommand, opens the interactive sandbox."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// Options of the sandbox (no subcommand).
#[derive(Args, Debug, Clone, Default)]
pub struct SandboxArgs {
    /// Render the opening scene, save a screenshot to this PNG file and exit.
    #[arg(long, value_name = "PATH")]
    pub screenshot: Option<std::path::PathBuf>,
    /// With --screenshot: how many frames to run before taking it.
    #[arg(long, value_name = "N", default_value_t = 30, requires = "screenshot")]
    pub frames: u32,
    /// Open with K random start points (one ball per enabled method at each) instead of the
    /// notebook's start.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub starts: Option<u32>,
    /// Seed of the random source for start points and noise.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List every surface and every method and preset with its parameters and defaults.
    List,
    /// Print the trajectory of one method from one start point.
    Trace(TraceArgs),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    Csv,
    Json,
}

#[derive(Args, Debug)]
pub struct TraceArgs {
    /// Surface id (see `optiscape list`).
    #[arg(long)]
    pub surface: String,
    /// Method or preset id (see `optiscape list`).
    #[arg(long)]
    pub method: String,
    /// Set a hyperparameter, e.g. `--set lr=0.01 --set betas=0.9,0.99 --set clip=5`.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Start point `X,Y` (default: the surface's default start).
    #[arg(long, value_name = "X,Y", allow_hyphen_values = true)]
    pub start: Option<String>,
    /// Number of optimizer updates (a preset's steps-per-frame does not multiply it).
    #[arg(long, default_value = "300", allow_hyphen_values = true)]
    pub steps: String,
    /// Domain `X0,X1,Y0,Y1` (default: the surface's).
    #[arg(long, value_name = "X0,X1,Y0,Y1", allow_hyphen_values = true)]
    pub domain: Option<String>,
    /// Seed of the random source behind `noise` and `langevin`.
    #[arg(long, default_value = "0", allow_hyphen_values = true)]
    pub seed: String,
    #[arg(long, value_enum, default_value_t = TraceFormat::Csv)]
    pub format: TraceFormat,
}

/// A user error: one line, printed as `optiscape: error: ...`, exit status 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError(pub String);

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for CliError {
    fn from(s: String) -> Self {
        Self(s)
    }
}

/// The output of a headless command: what goes to stdout, and notes for stderr.
#[derive(Debug, Default)]
pub struct Output {
    pub stdout: String,
    pub notes: Vec<String>,
}

/// Looks up a surface by id, with a message listing the valid ids.
pub fn parse_surface(id: &str) -> Result<Surface, CliError> {
    Surface::by_id(id).ok_or_else(|| {
        let ids: Vec<&str> = surfaces().iter().map(|s| s.id).collect();
        CliError(format!(
            "unknown surface '{id}' (known: {})",
            ids.join(", ")
        ))
    })
}

/// Looks up a method or preset by id, with a message listing the valid ids.
pub fn parse_method(id: &str) -> Result<Optimizer, CliError> {
    Optimizer::by_id(id).ok_or_else(|| {
        let ids: Vec<&str> = methods().iter().map(|m| m.id).collect();
        CliError(format!("unknown method '{id}' (known: {})", ids.join(", ")))
    })
}

/// Applies `--set NAME=VALUE` settings in order.
pub fn apply_settings(opt: &mut Optimizer, settings: &[String]) -> Result<(), CliError> {
    for s in settings {
        let Some((k, v)) = s.split_once('=') else {
            return Err(CliError(format!(
                "--set expects NAME=VALUE (e.g. lr=0.01), got '{s}'"
            )));
        };
        opt.set(k.trim(), v.trim()).map_err(CliError)?;
    }
    Ok(())
}

/// Parses comma-separated finite numbers, exactly `n` of them.
pub fn parse_numbers(what: &str, text: &str, n: usize) -> Result<Vec<f64>, CliError> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    if parts.len() != n {
        return Err(CliError(format!(
            "{what} expects {n} comma-separated numbers, got '{text}'"
        )));
    }
    parts
        .iter()
        .map(|p| match p.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(CliError(format!(
                "{what} expects finite numbers, got '{p}' in '{text}'"
            ))),
        })
        .collect()
}

/// Parses a whole number with a lower bound.
pub fn parse_count(what: &str, text: &str, min: u64) -> Result<u64, CliError> {
    match text.trim().parse::<u64>() {
        Ok(v) if v >= min => Ok(v),
        Ok(v) => Err(CliError(format!("{what} must be at least {min} (got {v})"))),
        Err(_) => Err(CliError(format!(
            "{what} expects a whole number >= {min}, got '{text}'"
        ))),
    }
}

/// `optiscape list`.
pub fn list() -> Output {
    let mut s = String::new();
    let _ = writeln!(s, "SURFACES");
    for info in surfaces() {
        let surface = Surface {
            kind: info.default_kind,
            domain: info.default_domain,
        };
        let min = surface.global_minimum();
        let d = info.default_domain;
        let _ = writeln!(s, "  {:<16} {}", info.id, info.display_name);
        let _ = writeln!(s, "      f(x, y) = {}", info.formula);
        let _ = writeln!(s, "      tests: {}", info.note);
        let _ = writeln!(
            s,
            "      domain [{}, {}] x [{}, {}]; start ({}, {}); success tolerance {}",
            d.x0, d.x1, d.y0, d.y1, info.default_start.x, info.default_start.y, info.tol
        );
        let pts: Vec<String> = min
            .points
            .iter()
            .map(|p| format!("({:.6}, {:.6})", p.x, p.y))
            .collect();
        let _ = writeln!(
            s,
            "      global minimum {} at {}",
            min.value,
            pts.join(", ")
        );
        for (p, v) in surface.params() {
            let _ = writeln!(
                s,
                "      parameter {} = {} ({}; {}..{})",
                p.name, v, p.doc, p.min, p.max
            );
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "METHODS (rules, then the notebook's presets)");
    for info in methods() {
        let mut opt = (info.build)();
        let _ = writeln!(s, "  {:<22} {} ({})", info.id, info.label, info.reference);
        let _ = writeln!(s, "      {}", info.note);
        for p in opt.params() {
            let _ = writeln!(
                s,
                "      {:<26} = {:<14} {}; {}",
                p.spec.name,
                p.text(),
                p.spec.doc,
                match p.spec.kind {
                    ParamKind::Flag => "true or false".to_string(),
                    _ => p.spec.range_text(),
                }
            );
        }
    }
    Output {
        stdout: s,
        notes: Vec::new(),
    }
}

/// `optiscape trace`.
pub fn trace_command(args: &TraceArgs) -> Result<Output, CliError> {
    let mut surface = parse_surface(&args.surface)?;
    if let Some(text) = &args.domain {
        let v = parse_numbers("--domain", text, 4)?;
        let d = Domain::new(v[0], v[1], v[2], v[3]);
        d.validate()
            .map_err(|e| CliError(format!("--domain: {e}")))?;
        surface.domain = d;
    }
    let seed = parse_count("--seed", &args.seed, 0)?;
    let mut opt = parse_method(&args.method)?.with_seed(seed);
    apply_settings(&mut opt, &args.set)?;
    let steps = parse_count("--steps", &args.steps, 1)?;
    if steps > 100_000_000 {
        return Err(CliError(format!(
            "--steps must be at most 100000000 (got {steps})"
        )));
    }
    let start = match &args.start {
        Some(text) => {
            let v = parse_numbers("--start", text, 2)?;
            DVec2::new(v[0], v[1])
        }
        None => surface.default_start(),
    };
    let d = surface.domain;
    if !d.contains(start) {
        return Err(CliError(format!(
            "--start ({}, {}) is outside the domain [{}, {}] x [{}, {}] of '{}'",
            start.x,
            start.y,
            d.x0,
            d.x1,
            d.y0,
            d.y1,
            surface.id()
        )));
    }
    let t = trace(&surface, &opt, start, steps);
    let mut out = Output::default();
    if t.status == RunStatus::Diverged {
        let last = t.points.last().map(|p| p.step).unwrap_or(0);
        out.notes.push(format!(
            "the run diverged at step {last} (position or loss not finite, or far outside the domain); the trace stops there"
        ));
    }
    match args.format {
        TraceFormat::Csv => {
            let mut s = String::with_capacity(t.points.len() * 64);
            s.push_str("step,x,y,loss\n");
            for p in &t.points {
                let _ = writeln!(s, "{},{:?},{:?},{:?}", p.step, p.x, p.y, p.loss);
            }
            out.stdout = s;
        }
        TraceFormat::Json => {
            let mut params = serde_json::Map::new();
            for p in opt.params() {
                params.insert(p.spec.name.to_string(), param_json(&p));
            }
            let doc = serde_json::json!({
                "surface": surface.id(),
                "domain": [d.x0, d.x1, d.y0, d.y1],
                "method": opt.id,
                "params": params,
                "seed": seed,
                "start": [start.x, start.y],
                "steps": steps,
                "status": t.status,
                "points": t.points,
            });
            out.stdout = serde_json::to_string_pretty(&doc)
                .map_err(|e| CliError(format!("could not write JSON: {e}")))?;
            out.stdout.push('\n');
        }
    }
    Ok(out)
}

fn param_json(p: &crate::optim::Param<'_>) -> serde_json::Value {
    use crate::optim::ParamMut;
    match &p.value {
        ParamMut::Num(v) => serde_json::json!(**v),
        ParamMut::Pair(v) => serde_json::json!([v[0], v[1]]),
        ParamMut::Flag(v) => serde_json::json!(**v),
        ParamMut::Count(v) => serde_json::json!(**v),
    }
}
