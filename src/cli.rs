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
    /// Open on this surface instead of the notebook's: an id (see `optiscape list`) or
    /// `formula:f(x, y)`.
    #[arg(long, value_name = "S", conflicts_with = "scenario")]
    pub surface: Option<String>,
    /// With --surface: its domain `X0,X1,Y0,Y1`.
    #[arg(
        long,
        value_name = "X0,X1,Y0,Y1",
        allow_hyphen_values = true,
        requires = "surface"
    )]
    pub domain: Option<String>,
    /// With --surface: set a surface parameter, e.g. `--surface-param a=5`.
    #[arg(
        long = "surface-param",
        value_name = "NAME=VALUE",
        requires = "surface"
    )]
    pub surface_param: Vec<String>,
    /// Open a scenario: a `.ron` file, or a shipped one by name (notebook, saddle,
    /// long-valley, egg-crate, four-minima, narrow-well, formula-ripples).
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List every surface and every method and preset with its parameters and defaults.
    List,
    /// Print the trajectory of one method from one start point.
    Trace(TraceArgs),
    /// Race methods from the same K random start points: how often each reaches the global
    /// minimum.
    Race(RaceArgs),
    /// Map the basins of attraction of one method over the domain.
    Basins(BasinsArgs),
    /// Success rate and median final loss against one hyperparameter.
    Sweep(SweepArgs),
    /// Render the scene offscreen (no window) to a GIF, an MP4 (with ffmpeg) or PNG frames.
    Record(RecordArgs),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ClipFormat {
    Gif,
    Mp4,
    Png,
}

#[derive(Args, Debug, Clone)]
pub struct RecordArgs {
    /// A scenario: a `.ron` file or a shipped one by name (default: the notebook's scene).
    #[arg(long, value_name = "FILE", conflicts_with = "surface")]
    pub scenario: Option<String>,
    /// A surface instead of a scenario: an id or `formula:f(x, y)`.
    #[arg(long)]
    pub surface: Option<String>,
    /// With --surface: its domain `X0,X1,Y0,Y1`.
    #[arg(
        long,
        value_name = "X0,X1,Y0,Y1",
        allow_hyphen_values = true,
        requires = "surface"
    )]
    pub domain: Option<String>,
    /// With --surface: set a surface parameter (repeatable).
    #[arg(
        long = "surface-param",
        value_name = "NAME=VALUE",
        requires = "surface"
    )]
    pub surface_param: Vec<String>,
    /// Comma-separated methods to show (default: the scenario's; with --surface:
    /// sgd,heavy-ball,adam).
    #[arg(long)]
    pub methods: Option<String>,
    /// Set a hyperparameter of one method: `--set adam.lr=0.05`.
    #[arg(long = "set", value_name = "METHOD.NAME=VALUE")]
    pub set: Vec<String>,
    /// K random start points (one ball per method at each) instead of the scenario's starts.
    #[arg(long, value_name = "K")]
    pub starts: Option<String>,
    /// Seed of the random start points and noise (default: the scenario's).
    #[arg(long)]
    pub seed: Option<String>,
    /// Frames to record, one simulation frame each (default: the scenario's step count).
    #[arg(long, allow_hyphen_values = true)]
    pub frames: Option<String>,
    /// Frames per second of the video.
    #[arg(long, default_value = "30", allow_hyphen_values = true)]
    pub fps: String,
    /// Picture size `WxH`.
    #[arg(long, default_value = "800x600")]
    pub size: String,
    /// `preset`: the scenario's camera; `orbit`: turning slowly around it.
    #[arg(long, value_enum, default_value_t = crate::record::CameraMode::Preset)]
    pub camera: crate::record::CameraMode,
    /// Draw the whole scene in every frame. By default, with the preset camera, the parts that
    /// do not move (surface, contours, axes) are drawn once and reused: much faster, and the
    /// same pictures but for where a contour line passes in front of a ball.
    #[arg(long)]
    pub redraw_all: bool,
    /// The output: `.gif`, `.mp4`, or a folder for numbered PNG frames.
    #[arg(long, value_name = "PATH", required_unless_present = "notebook")]
    pub out: Option<std::path::PathBuf>,
    /// Instead: the notebook's five animations and a combined race, into this folder.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["out", "scenario", "surface", "methods"])]
    pub notebook: Option<std::path::PathBuf>,
    /// With --notebook: the format of the six clips.
    #[arg(long, value_enum, default_value_t = ClipFormat::Gif)]
    pub format: ClipFormat,
}

/// Options every lab command shares.
#[derive(Args, Debug)]
pub struct LabCommon {
    /// Take the surface, methods, steps, seed (and race starts) from a scenario: a `.ron` file
    /// or a shipped one by name. Options given as well override it.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<String>,
    /// Surface: an id (see `optiscape list`) or `formula:f(x, y)`.
    #[arg(long, required_unless_present = "scenario")]
    pub surface: Option<String>,
    /// Domain `X0,X1,Y0,Y1` (default: the surface's; [-5, 5]^2 for a formula).
    #[arg(long, value_name = "X0,X1,Y0,Y1", allow_hyphen_values = true)]
    pub domain: Option<String>,
    /// Set a surface parameter, e.g. `--surface-param a=5` (repeatable).
    #[arg(long = "surface-param", value_name = "NAME=VALUE")]
    pub surface_param: Vec<String>,
    /// Optimizer updates per run (default 300, or the scenario's).
    #[arg(long, allow_hyphen_values = true)]
    pub steps: Option<String>,
    /// Seed of the start points and of every run's noise (default 0, or the scenario's).
    #[arg(long, allow_hyphen_values = true)]
    pub seed: Option<String>,
    /// Success tolerance on loss above the global minimum (default: the surface's).
    #[arg(long, allow_hyphen_values = true)]
    pub tol: Option<String>,
    /// Arithmetic precision of the runs: f64 (every run equals `trace`) or f32 (faster; for
    /// the surfaces and methods that run in lanes, see `docs/guide.md`).
    #[arg(long, value_enum, default_value_t = PrecisionArg::F64)]
    pub precision: PrecisionArg,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum PrecisionArg {
    F64,
    F32,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    Table,
    Csv,
    Json,
}

#[derive(Args, Debug)]
pub struct RaceArgs {
    #[command(flatten)]
    pub common: LabCommon,
    /// Comma-separated method ids, or `all` (every rule and preset). Default: all, or the
    /// scenario's enabled methods with their hyperparameters.
    #[arg(long)]
    pub methods: Option<String>,
    /// Set a hyperparameter of one method: `--set adam.lr=0.05`.
    #[arg(long = "set", value_name = "METHOD.NAME=VALUE")]
    pub set: Vec<String>,
    /// Number of random start points, the same for every method (default 1000, or the
    /// scenario's random starts).
    #[arg(long, allow_hyphen_values = true)]
    pub starts: Option<String>,
    /// Draw the starts from `X0,X1,Y0,Y1` instead of the whole domain.
    #[arg(long, value_name = "X0,X1,Y0,Y1", allow_hyphen_values = true)]
    pub region: Option<String>,
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
}

#[derive(Args, Debug)]
pub struct BasinsArgs {
    #[command(flatten)]
    pub common: LabCommon,
    /// Method or preset id (default: the scenario's first enabled method).
    #[arg(long, required_unless_present = "scenario")]
    pub method: Option<String>,
    /// Set a hyperparameter: `--set lr=0.05`.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Grid cells per side (starts at the cell centres).
    #[arg(long, default_value = "128", allow_hyphen_values = true)]
    pub resolution: String,
    /// Write the map as a PNG.
    #[arg(long, value_name = "PATH")]
    pub out: Option<std::path::PathBuf>,
    /// Write `x0,y0,x,y,loss,label` for every start.
    #[arg(long, value_name = "PATH")]
    pub csv: Option<std::path::PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    pub common: LabCommon,
    /// Method or preset id (default: the scenario's first enabled method).
    #[arg(long, required_unless_present = "scenario")]
    pub method: Option<String>,
    /// Set another hyperparameter: `--set betas=0.9,0.99`.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// The numeric hyperparameter to sweep.
    #[arg(long, default_value = "lr")]
    pub param: String,
    /// `LO..HI` (a geometric grid for parameters with a logarithmic scale, like lr).
    #[arg(long, default_value = "1e-4..1", allow_hyphen_values = true)]
    pub range: String,
    /// Number of values.
    #[arg(long, default_value = "13", allow_hyphen_values = true)]
    pub points: String,
    /// Random start points per value.
    #[arg(long, default_value = "200", allow_hyphen_values = true)]
    pub starts: String,
    /// Also draw the chart as a PNG.
    #[arg(long, value_name = "PATH")]
    pub out: Option<std::path::PathBuf>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    Csv,
    Json,
}

#[derive(Args, Debug)]
pub struct TraceArgs {
    /// Surface: an id (see `optiscape list`) or `formula:f(x, y)`.
    #[arg(long)]
    pub surface: String,
    /// Set a surface parameter, e.g. `--surface-param a=5` (repeatable).
    #[arg(long = "surface-param", value_name = "NAME=VALUE")]
    pub surface_param: Vec<String>,
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

/// A surface by id or `formula:f(x, y)`, with a message listing the valid ids.
pub fn parse_surface(spec: &str) -> Result<Surface, CliError> {
    Surface::parse(spec).map_err(CliError)
}

/// A surface with the `--domain X0,X1,Y0,Y1` and `--surface-param NAME=VALUE` given.
pub fn build_surface(
    spec: &str,
    domain: Option<&str>,
    params: &[String],
) -> Result<Surface, CliError> {
    let mut surface = parse_surface(spec)?;
    apply_surface_options(&mut surface, domain, params)?;
    Ok(surface)
}

fn apply_surface_options(
    surface: &mut Surface,
    domain: Option<&str>,
    params: &[String],
) -> Result<(), CliError> {
    if let Some(text) = domain {
        let v = parse_numbers("--domain", text, 4)?;
        let d = Domain::new(v[0], v[1], v[2], v[3]);
        d.validate()
            .map_err(|e| CliError(format!("--domain: {e}")))?;
        surface.domain = d;
    }
    for p in params {
        let Some((name, v)) = p.split_once('=') else {
            return Err(CliError(format!(
                "--surface-param expects NAME=VALUE, got '{p}'"
            )));
        };
        let v = parse_numbers("--surface-param", v, 1)?[0];
        surface
            .set_param(name.trim(), v)
            .map_err(|e| CliError(format!("--surface-param: {e}")))?;
    }
    Ok(())
}

/// A scenario file (or shipped scenario name) for `--scenario`.
pub fn load_scenario(name: &str) -> Result<crate::scenario::Scenario, CliError> {
    crate::scenario::Scenario::load_or_builtin(name).map_err(CliError)
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
            kind: info.default_kind.clone(),
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
    let surface = build_surface(&args.surface, args.domain.as_deref(), &args.surface_param)?;
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
                "surface": surface.spec(),
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

/// What a lab command runs on: surface, steps, seed, success target, and the scenario if any.
struct LabSetup {
    surface: Surface,
    steps: u64,
    seed: u64,
    target: crate::lab::Target,
    precision: crate::lab::Precision,
    scenario: Option<crate::scenario::Scenario>,
}

impl LabSetup {
    /// `--precision f32` needs every method to run in lanes on this surface.
    fn check_precision<'a>(
        &self,
        methods: impl IntoIterator<Item = &'a Optimizer>,
    ) -> Result<(), CliError> {
        if self.precision == crate::lab::Precision::F64 {
            return Ok(());
        }
        for m in methods {
            crate::lab::lanes_supported(&self.surface, m)
                .map_err(|e| CliError(format!("--precision f32 is not available: {e}")))?;
        }
        Ok(())
    }

    /// The scenario's enabled methods with their hyperparameters.
    fn scenario_methods(&self) -> Vec<Optimizer> {
        let Some(sc) = &self.scenario else {
            return Vec::new();
        };
        sc.methods()
            .map(|ms| {
                ms.into_iter()
                    .filter(|m| m.enabled)
                    .map(|m| m.optimizer)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `--method`, or the scenario's first enabled method.
    fn method(&self, given: Option<&str>) -> Result<Optimizer, CliError> {
        match given {
            Some(id) => parse_method(id),
            None => {
                self.scenario_methods().into_iter().next().ok_or_else(|| {
                    CliError("give --method (the scenario enables no method)".into())
                })
            }
        }
    }
}

/// The surface of a lab command, with its domain and success target.
fn lab_setup(c: &LabCommon) -> Result<LabSetup, CliError> {
    let scenario = c.scenario.as_deref().map(load_scenario).transpose()?;
    let mut surface = match (&c.surface, &scenario) {
        (Some(spec), _) => parse_surface(spec)?,
        (None, Some(sc)) => sc.surface().map_err(CliError)?,
        (None, None) => return Err(CliError("give --surface or --scenario".into())),
    };
    apply_surface_options(&mut surface, c.domain.as_deref(), &c.surface_param)?;
    let steps = match (&c.steps, &scenario) {
        (Some(t), _) => parse_count("--steps", t, 1)?,
        (None, Some(sc)) => sc.steps,
        (None, None) => 300,
    };
    if steps > 10_000_000 {
        return Err(CliError(format!(
            "--steps must be at most 10000000 (got {steps})"
        )));
    }
    let seed = match (&c.seed, &scenario) {
        (Some(t), _) => parse_count("--seed", t, 0)?,
        (None, Some(sc)) => sc.seed,
        (None, None) => 0,
    };
    let mut target = crate::lab::Target::of(&surface);
    if let Some(t) = &c.tol {
        let v = parse_numbers("--tol", t, 1)?[0];
        if v < 0.0 {
            return Err(CliError(format!("--tol must be >= 0 (got {v})")));
        }
        target.tol = v;
    }
    let precision = match c.precision {
        PrecisionArg::F64 => crate::lab::Precision::F64,
        PrecisionArg::F32 => crate::lab::Precision::F32,
    };
    Ok(LabSetup {
        surface,
        steps,
        seed,
        target,
        precision,
        scenario,
    })
}

fn progress(what: &str) {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[2K{what}");
    }
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:?}")).unwrap_or_else(|| "NaN".into())
}

/// `optiscape race`.
pub fn race_command(args: &RaceArgs) -> Result<Output, CliError> {
    let setup = lab_setup(&args.common)?;
    let (surface, steps, seed, target) = (&setup.surface, setup.steps, setup.seed, setup.target);
    let scenario_random = match setup.scenario.as_ref().map(|s| &s.starts) {
        Some(crate::scenario::StartSpec::Random { k, region }) => Some((*k as u64, *region)),
        _ => None,
    };
    let k = match (&args.starts, scenario_random) {
        (Some(t), _) => parse_count("--starts", t, 1)?,
        (None, Some((k, _))) => k,
        (None, None) => 1000,
    };
    if k > 10_000_000 {
        return Err(CliError(format!(
            "--starts must be at most 10000000 (got {k})"
        )));
    }
    let mut opts = Vec::new();
    match args.methods.as_deref().map(str::trim) {
        None if setup.scenario.is_some() => {
            opts = setup.scenario_methods();
            if opts.is_empty() {
                return Err(CliError(
                    "give --methods (the scenario enables no method)".into(),
                ));
            }
        }
        None | Some("all") => {
            for m in methods() {
                opts.push(parse_method(m.id)?);
            }
        }
        Some(list) => {
            for id in list.split(',') {
                opts.push(parse_method(id.trim())?);
            }
        }
    }
    for s in &args.set {
        let (m, k, v) = split_method_setting(s)?;
        let Some(opt) = opts.iter_mut().find(|o| o.id == m) else {
            return Err(CliError(format!(
                "--set {s}: method '{m}' is not in the race"
            )));
        };
        opt.set(k, v).map_err(CliError)?;
    }
    let region = match &args.region {
        Some(text) => {
            let v = parse_numbers("--region", text, 4)?;
            let r = Domain::new(v[0], v[1], v[2], v[3]);
            r.validate()
                .map_err(|e| CliError(format!("--region: {e}")))?;
            let d = surface.domain;
            if r.x0 < d.x0 || r.x1 > d.x1 || r.y0 < d.y0 || r.y1 > d.y1 {
                return Err(CliError("--region must lie inside the domain".into()));
            }
            r
        }
        None => scenario_random
            .and_then(|(_, r)| r)
            .unwrap_or(surface.domain),
    };
    setup.check_precision(&opts)?;
    let starts = crate::lab::uniform_starts(region, k as usize, seed);
    let mut rows = Vec::new();
    for (i, opt) in opts.iter().enumerate() {
        progress(&format!("race: {} ({}/{})", opt.id, i + 1, opts.len()));
        rows.extend(
            crate::lab::race_with(
                surface,
                std::slice::from_ref(opt),
                &starts,
                steps,
                seed,
                target,
                setup.precision,
                &crate::lab::Progress::default(),
            )
            .unwrap_or_default(),
        );
    }
    progress("");
    let mut out = Output::default();
    out.notes.push(format!(
        "{} starts per method, {steps} updates each; success = final loss within {} of the global minimum {}",
        starts.len(),
        target.tol,
        target.value
    ));
    out.stdout = match args.format {
        TableFormat::Json => {
            let doc = serde_json::json!({
                "surface": surface.spec(),
                "starts": starts.len(),
                "steps": steps,
                "seed": seed,
                "target": target,
                "methods": rows,
            });
            let mut s = serde_json::to_string_pretty(&doc)
                .map_err(|e| CliError(format!("could not write JSON: {e}")))?;
            s.push('\n');
            s
        }
        TableFormat::Csv => {
            let mut s = String::from(
                "method,runs,success_rate,mean_loss,median_loss,median_steps_to_success,diverged,seconds\n",
            );
            for r in &rows {
                let _ = writeln!(
                    s,
                    "{},{},{:?},{},{},{},{},{:.3}",
                    r.method,
                    r.runs,
                    r.success_rate,
                    fmt_opt(r.mean_loss),
                    fmt_opt(r.median_loss),
                    fmt_opt(r.median_steps_to_success),
                    r.diverged,
                    r.seconds
                );
            }
            s
        }
        TableFormat::Table => {
            let mut s = format!(
                "{:<22} {:>6} {:>8} {:>12} {:>12} {:>10} {:>8} {:>8}\n",
                "method",
                "runs",
                "success",
                "mean loss",
                "median loss",
                "med steps",
                "diverged",
                "seconds"
            );
            let f = |v: Option<f64>| v.map(|x| format!("{x:.5}")).unwrap_or_else(|| "-".into());
            for r in &rows {
                let _ = writeln!(
                    s,
                    "{:<22} {:>6} {:>7.1}% {:>12} {:>12} {:>10} {:>8} {:>8.2}",
                    r.method,
                    r.runs,
                    100.0 * r.success_rate,
                    f(r.mean_loss),
                    f(r.median_loss),
                    r.median_steps_to_success
                        .map(|v| format!("{v}"))
                        .unwrap_or_else(|| "-".into()),
                    r.diverged,
                    r.seconds
                );
            }
            s
        }
    };
    Ok(out)
}

/// `optiscape basins`.
pub fn basins_command(args: &BasinsArgs) -> Result<Output, CliError> {
    let setup = lab_setup(&args.common)?;
    let (surface, steps, seed, target) = (&setup.surface, setup.steps, setup.seed, setup.target);
    let r = parse_count("--resolution", &args.resolution, 2)?;
    if r > 4096 {
        return Err(CliError(format!(
            "--resolution must be at most 4096 (got {r})"
        )));
    }
    let mut opt = setup.method(args.method.as_deref())?;
    apply_settings(&mut opt, &args.set)?;
    for p in [&args.out, &args.csv].into_iter().flatten() {
        check_parent(p)?;
    }
    setup.check_precision([&opt])?;
    progress(&format!("basins: {} x {r} runs of {}", r, opt.id));
    let map = crate::lab::basins::basins_with(
        surface,
        &opt,
        r as usize,
        steps,
        seed,
        target,
        setup.precision,
        &crate::lab::Progress::default(),
    )
    .unwrap_or_else(|| crate::lab::basins::label(surface, r as usize, Vec::new(), target));
    progress("");
    let mut out = Output::default();
    if let Some(path) = &args.out {
        crate::lab::basins::image(&map, 512)
            .save(path)
            .map_err(|e| CliError(format!("could not write {}: {e}", path.display())))?;
        out.notes.push(format!("wrote {}", path.display()));
    }
    if let Some(path) = &args.csv {
        let mut s = String::from("x0,y0,x,y,loss,label\n");
        for (e, l) in map.ends.iter().zip(&map.labels) {
            let _ = writeln!(
                s,
                "{:?},{:?},{:?},{:?},{:?},{l}",
                e.start.x, e.start.y, e.end.x, e.end.y, e.loss
            );
        }
        std::fs::write(path, s)
            .map_err(|e| CliError(format!("could not write {}: {e}", path.display())))?;
        out.notes.push(format!("wrote {}", path.display()));
    }
    if args.json {
        let doc = serde_json::json!({
            "surface": surface.spec(),
            "method": opt.id,
            "resolution": r,
            "steps": steps,
            "target": target,
            "global_fraction": map.global_fraction,
            "diverged_fraction": map.diverged_fraction,
            "unsettled_fraction": map.unsettled_fraction,
            "minima": map.minima,
        });
        out.stdout = serde_json::to_string_pretty(&doc)
            .map_err(|e| CliError(format!("could not write JSON: {e}")))?;
        out.stdout.push('\n');
    } else {
        let _ = writeln!(
            out.stdout,
            "{} on {}: {:.1}% of the domain reaches a global minimum, {:.1}% diverges, {:.1}% is still moving after {steps} updates; {} distinct minima found",
            opt.id,
            surface.id(),
            100.0 * map.global_fraction,
            100.0 * map.diverged_fraction,
            100.0 * map.unsettled_fraction,
            map.minima.len()
        );
    }
    Ok(out)
}

fn check_parent(p: &std::path::Path) -> Result<(), CliError> {
    match p.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) if !d.is_dir() => Err(CliError(format!(
            "cannot write {}: the folder {} does not exist",
            p.display(),
            d.display()
        ))),
        _ => Ok(()),
    }
}

/// `METHOD.NAME=VALUE` (as `race` and `record` take `--set`) into its three trimmed parts.
fn split_method_setting(s: &str) -> Result<(&str, &str, &str), CliError> {
    let Some((lhs, v)) = s.split_once('=') else {
        return Err(CliError(format!(
            "--set expects METHOD.NAME=VALUE, got '{s}'"
        )));
    };
    let Some((m, k)) = lhs.rsplit_once('.') else {
        return Err(CliError(format!(
            "--set names the method here: METHOD.NAME=VALUE (e.g. adam.lr=0.05), got '{s}'"
        )));
    };
    Ok((m.trim(), k.trim(), v.trim()))
}

/// The scenario a recording shows: `--scenario` (or the notebook's) with the options applied.
pub fn record_scenario(args: &RecordArgs) -> Result<crate::scenario::Scenario, CliError> {
    use crate::scenario::{MethodSpec, Scenario, StartSpec};
    let mut sc = match (&args.scenario, &args.surface) {
        (Some(name), _) => load_scenario(name)?,
        (None, Some(spec)) => {
            let surface = build_surface(spec, args.domain.as_deref(), &args.surface_param)?;
            let mut sc = load_scenario("notebook")?;
            sc.description = String::new();
            sc.surface = Scenario::surface_spec(&surface);
            sc.methods = ["sgd", "heavy-ball", "adam"]
                .iter()
                .map(|id| MethodSpec {
                    id: id.to_string(),
                    enabled: true,
                    color: None,
                    params: Default::default(),
                })
                .collect();
            sc
        }
        (None, None) => load_scenario("notebook")?,
    };
    if let Some(list) = &args.methods {
        let ids: Vec<&str> = list.split(',').map(str::trim).collect();
        for id in &ids {
            parse_method(id)?;
        }
        for m in &mut sc.methods {
            m.enabled = ids.contains(&m.id.as_str());
        }
        for id in ids {
            if !sc.methods.iter().any(|m| m.id == id) {
                sc.methods.push(MethodSpec {
                    id: id.to_string(),
                    enabled: true,
                    color: None,
                    params: Default::default(),
                });
            }
        }
    }
    // `--set METHOD.NAME=VALUE`, checked against the method.
    for s in &args.set {
        let (m, k, v) = split_method_setting(s)?;
        let Some(spec) = sc.methods.iter_mut().find(|x| x.id == m) else {
            return Err(CliError(format!(
                "--set {s}: method '{m}' is not in the recording"
            )));
        };
        let mut probe = parse_method(m)?;
        probe.set(k, v).map_err(CliError)?;
        let built = Scenario::method_spec(&probe, true, None);
        spec.params.extend(built.params);
    }
    if let Some(k) = &args.starts {
        let k = parse_count("--starts", k, 1)?;
        if k > 10_000 {
            return Err(CliError(format!(
                "--starts must be at most 10000 (got {k})"
            )));
        }
        sc.starts = StartSpec::Random {
            k: k as usize,
            region: None,
        };
    }
    if let Some(seed) = &args.seed {
        sc.seed = parse_count("--seed", seed, 0)?;
    }
    if let Some(f) = &args.frames {
        sc.steps = parse_count("--frames", f, 1)?;
    }
    sc.validate().map_err(CliError)?;
    if !sc.methods.iter().any(|m| m.enabled) {
        return Err(CliError("the recording has no enabled method".into()));
    }
    Ok(sc)
}

/// `WxH`.
fn parse_size(text: &str) -> Result<(u32, u32), CliError> {
    let bad = || CliError(format!("--size expects WxH (e.g. 800x600), got '{text}'"));
    let (w, h) = text.split_once(['x', 'X']).ok_or_else(bad)?;
    let w: u32 = w.trim().parse().map_err(|_| bad())?;
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    Ok((w, h))
}

/// `optiscape record` (one clip, or the notebook's six through child processes).
pub fn record_command(args: &RecordArgs) -> Result<Output, CliError> {
    use std::io::IsTerminal;
    if let Some(dir) = &args.notebook {
        return record_notebook(args, dir);
    }
    let sc = record_scenario(args)?;
    let out = args
        .out
        .clone()
        .ok_or_else(|| CliError("give --out PATH (.gif, .mp4 or a folder)".into()))?;
    let fps = parse_count("--fps", &args.fps, 1)?;
    let title = {
        let s = sc.surface().map_err(CliError)?;
        match s.as_formula() {
            Some(f) => format!("optiscape - f = {}", f.source()),
            None => format!("optiscape - {}", s.display_name()),
        }
    };
    let plan = crate::record::RecordPlan {
        frames: sc.steps.min(u32::MAX as u64) as u32,
        fps: fps.min(1000) as u32,
        size: parse_size(&args.size)?,
        camera: args.camera,
        sink: crate::record::Sink::for_path(&out),
        title,
        progress: std::io::stderr().is_terminal(),
        redraw_all: args.redraw_all,
        scenario: sc,
    };
    crate::record::check_plan(&plan).map_err(CliError)?;
    let stats = crate::record::record(plan).map_err(CliError)?;
    let mut o = Output::default();
    o.notes.push(format!(
        "wrote {} frames to {} in {:.1} s ({:.1} frames/s; {} warm-up frames before)",
        stats.frames,
        out.display(),
        stats.seconds,
        stats.frames as f64 / stats.seconds.max(1e-9),
        stats.warm_up_frames
    ));
    Ok(o)
}

/// The notebook's five animations (one method each, 300 frames at 30 fps, the notebook's view)
/// and the five racing together, each rendered by a child `optiscape record`.
fn record_notebook(args: &RecordArgs, dir: &std::path::Path) -> Result<Output, CliError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError(format!("cannot create {}: {e}", dir.display())))?;
    let ext = match args.format {
        ClipFormat::Gif => "gif",
        ClipFormat::Mp4 => "mp4",
        ClipFormat::Png => "",
    };
    if args.format == ClipFormat::Mp4 && !crate::record::ffmpeg_available() {
        return Err(CliError(
            "--format mp4 needs ffmpeg on PATH (e.g. `apt-get install ffmpeg`); or use --format gif or png".into(),
        ));
    }
    let exe = std::env::current_exe()
        .map_err(|e| CliError(format!("cannot find the optiscape binary: {e}")))?;
    let clips: [(&str, &str); 6] = [
        ("sgd", "seed:sgd"),
        ("momentum", "seed:momentum"),
        ("adagrad", "seed:adagrad"),
        ("adagrad-finetune", "seed:adagrad-finetune"),
        ("adadelta", "seed:adadelta"),
        (
            "race",
            "seed:sgd,seed:momentum,seed:adagrad,seed:adagrad-finetune,seed:adadelta",
        ),
    ];
    let mut o = Output::default();
    for (name, methods) in clips {
        let path = if ext.is_empty() {
            dir.join(name)
        } else {
            dir.join(format!("{name}.{ext}"))
        };
        let mut cmd = std::process::Command::new(&exe);
        cmd.args(["record", "--scenario", "notebook", "--methods", methods])
            .args(["--frames", args.frames.as_deref().unwrap_or("300")])
            .args(["--fps", &args.fps, "--size", &args.size])
            .arg("--out")
            .arg(&path);
        if args.camera == crate::record::CameraMode::Orbit {
            cmd.args(["--camera", "orbit"]);
        }
        let status = cmd
            .status()
            .map_err(|e| CliError(format!("cannot run {}: {e}", exe.display())))?;
        if !status.success() {
            return Err(CliError(format!(
                "recording {} failed ({status})",
                path.display()
            )));
        }
        o.notes.push(format!("wrote {}", path.display()));
    }
    Ok(o)
}

/// `optiscape sweep`.
pub fn sweep_command(args: &SweepArgs) -> Result<Output, CliError> {
    let setup = lab_setup(&args.common)?;
    let (surface, steps, seed, target) = (&setup.surface, setup.steps, setup.seed, setup.target);
    let mut opt = setup.method(args.method.as_deref())?;
    apply_settings(&mut opt, &args.set)?;
    let Some((lo, hi)) = args.range.split_once("..") else {
        return Err(CliError(format!(
            "--range expects LO..HI, got '{}'",
            args.range
        )));
    };
    let lo = parse_numbers("--range", lo, 1)?[0];
    let hi = parse_numbers("--range", hi, 1)?[0];
    if lo >= hi {
        return Err(CliError(format!("--range needs LO < HI (got {lo}..{hi})")));
    }
    let points = parse_count("--points", &args.points, 1)?.min(1000) as usize;
    let k = parse_count("--starts", &args.starts, 1)?;
    if k > 1_000_000 {
        return Err(CliError(format!(
            "--starts must be at most 1000000 (got {k})"
        )));
    }
    let log = {
        let mut probe = opt.clone();
        let params = probe.params();
        let Some(p) = params.iter().find(|p| p.spec.name == args.param) else {
            let names: Vec<&str> = params.iter().map(|p| p.spec.name).collect();
            return Err(CliError(format!(
                "method '{}' has no parameter '{}' (it has: {})",
                opt.id,
                args.param,
                names.join(", ")
            )));
        };
        if p.spec.kind != ParamKind::Num {
            return Err(CliError(format!(
                "--param {} is not a single number",
                args.param
            )));
        }
        p.spec.check(lo).map_err(CliError)?;
        p.spec.check(hi).map_err(CliError)?;
        p.spec.log
    };
    if let Some(p) = &args.out {
        check_parent(p)?;
    }
    setup.check_precision([&opt])?;
    let values = crate::lab::sweep::grid(lo, hi, points, log);
    let starts = crate::lab::uniform_starts(surface.domain, k as usize, seed);
    progress(&format!("sweep: {} values of {}", values.len(), args.param));
    let rows = crate::lab::sweep::sweep(
        surface,
        &opt,
        &args.param,
        &values,
        &starts,
        steps,
        seed,
        target,
        setup.precision,
    )
    .map_err(CliError)?;
    progress("");
    let mut out = Output::default();
    let mut s = format!("{},success_rate,median_loss,diverged\n", args.param);
    for r in &rows {
        let _ = writeln!(
            s,
            "{:?},{:?},{},{}",
            r.value,
            r.success_rate,
            fmt_opt(r.median_loss),
            r.diverged
        );
    }
    out.stdout = s;
    if let Some(path) = &args.out {
        let title = format!(
            "{} on {}: {} starts x {steps} steps",
            opt.id,
            surface.spec(),
            starts.len()
        );
        crate::lab::sweep::chart(&rows, log, target.value, &args.param, &title)
            .save(path)
            .map_err(|e| CliError(format!("could not write {}: {e}", path.display())))?;
        out.notes.push(format!("wrote {}", path.display()));
    }
    Ok(out)
}
