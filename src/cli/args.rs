//! The command line's arguments (clap): the sandbox's options and every subcommand's.

use crate::record::CameraMode;
use clap::{Args, Parser, Subcommand, ValueEnum};

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
    #[arg(long, value_name = "N", default_value_t = 30, requires = "screenshot",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub frames: u32,
    /// With --screenshot: turn the camera around the surface the whole time (to measure frame
    /// times while the camera moves).
    #[arg(long, requires = "screenshot")]
    pub orbit: bool,
    /// With --screenshot: also write the balls' state then to this JSON file (each ball's
    /// method, start, updates and position, exact to the bit; the web page's tests compare it).
    #[arg(long, value_name = "PATH", requires = "screenshot")]
    pub state: Option<std::path::PathBuf>,
    /// Draw every part of the scene in every frame at full resolution, instead of reusing the
    /// still parts while the camera rests and halving the resolution while it moves (both
    /// automatic on a software renderer). Slower; for comparing pictures and frame times.
    #[arg(long)]
    pub redraw_all: bool,
    /// Open with K random start points (one ball per enabled method at each) instead of the
    /// notebook's start.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub starts: Option<u32>,
    /// With a network slice (`--surface net:DATASET`): open with K networks per enabled update
    /// rule in training, as the Network section's "Train networks" (run i of the seed, as
    /// `optiscape train --seed` numbers them).
    #[arg(long, value_name = "K", conflicts_with = "starts", value_parser = clap::value_parser!(u32).range(1..=32))]
    pub networks: Option<u32>,
    /// Seed of the random source for start points and noise [default: the scenario's, or 0].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Open on this surface instead of the notebook's.
    #[command(flatten)]
    pub surface: SurfaceChoice,
    /// Open a scenario: a `.ron` file, or a shipped one by name (notebook, saddle,
    /// long-valley, egg-crate, four-minima, narrow-well, formula-ripples).
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<String>,
    /// Open a shared link: the web page's address with `#s1.…` at its end, or that text alone
    /// (the sandbox's "Copy link"). A damaged link opens the notebook's scene with a message.
    #[arg(long, value_name = "LINK", conflicts_with_all = ["scenario", "surface"])]
    pub link: Option<String>,
}

/// `--surface S [--domain X0,X1,Y0,Y1] [--surface-param NAME=VALUE]...` instead of a
/// scenario (the sandbox and `record`; the lab commands' surface options live in `LabCommon`,
/// where a domain may also apply to a scenario's surface).
#[derive(Args, Debug, Clone, Default)]
pub struct SurfaceChoice {
    /// A surface instead of a scenario: an id (see `optiscape list`) or `formula:f(x, y)`.
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
    /// With --surface: set a surface parameter, e.g. `--surface-param a=5` (repeatable).
    #[arg(
        long = "surface-param",
        value_name = "NAME=VALUE",
        requires = "surface"
    )]
    pub surface_param: Vec<String>,
    /// With --surface: turn its picture DEG degrees counter-clockwise about the domain's centre.
    #[arg(
        long,
        value_name = "DEG",
        allow_hyphen_values = true,
        requires = "surface"
    )]
    pub rotate: Option<String>,
    /// With --surface: instance N, a rotation and shift drawn from N (0: as defined).
    #[arg(
        long,
        value_name = "N",
        allow_hyphen_values = true,
        requires = "surface"
    )]
    pub instance: Option<String>,
}

impl SurfaceChoice {
    /// The surface asked for, with its domain and parameters; `None` when none was given.
    pub fn build(&self) -> Result<Option<optiscape_core::landscape::Surface>, String> {
        self.surface
            .as_deref()
            .map(|spec| {
                let mut s = optiscape_core::setup::build_surface(
                    spec,
                    self.domain.as_deref(),
                    &self.surface_param,
                )?;
                optiscape_core::setup::apply_placement(
                    &mut s,
                    self.rotate.as_deref(),
                    self.instance.as_deref(),
                )?;
                Ok(s)
            })
            .transpose()
    }
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
    /// Runtime distributions (ECDFs): the share of (run, target) pairs reached within each
    /// budget of updates, per method.
    Ecdf(EcdfArgs),
    /// Tune each method's learning rate (and momentum or beta1) on one set of starts, then
    /// compare tuned and default settings on fresh starts.
    Tune(TuneArgs),
    /// Success rate and ERT over a grid of two hyperparameters of one method.
    Phase(PhaseArgs),
    /// Every method on every surface and instance, tuned on other instances: per-problem
    /// tables, significance, profiles, the escape rate, a report folder (index.html,
    /// results.json, runs.csv, ioh/).
    Suite(SuiteArgs),
    /// Train whole networks (a small MLP on a toy dataset or a CSV) from K seeded
    /// initializations per method: success against a training-loss target, ERT, ECDFs, and how
    /// often each method ends in a worse minimum.
    Train(Box<TrainArgs>),
    /// Render the scene offscreen (no window) to a GIF, an MP4 (with ffmpeg) or PNG frames.
    Record(RecordArgs),
    /// Print a scenario's share link (the text after `#` in the web page's address, and what
    /// `--link` opens); with --ron, print the scenario file of a link.
    Link(LinkArgs),
    /// Print a shell completion script: `optiscape completions bash > ~/.local/share/bash-completion/completions/optiscape`.
    Completions(CompletionsArgs),
    /// Print the manual page (roff): `optiscape man > optiscape.1; man ./optiscape.1`.
    Man,
}

#[derive(Args, Debug, Clone)]
pub struct LinkArgs {
    /// A scenario (a `.ron` file or a shipped one by name); with --ron, a link.
    pub input: String,
    /// Read a link and print its scenario as a `.ron` file.
    #[arg(long)]
    pub ron: bool,
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
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<String>,
    /// A surface instead of a scenario.
    #[command(flatten)]
    pub surface: SurfaceChoice,
    /// Comma-separated methods to show (default: the scenario's; with --surface:
    /// sgd,heavy-ball,adam).
    #[arg(long)]
    pub methods: Option<String>,
    /// Set a hyperparameter: `--set adam.lr=0.05`, or `--set lr=0.05` when one method is shown
    /// (repeatable).
    #[arg(long = "set", value_name = "[METHOD.]NAME=VALUE")]
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
    #[arg(long, value_enum, default_value_t = CameraMode::Preset)]
    pub camera: CameraMode,
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

/// The surface, run length and seed every lab command shares (the seed and steps defaults are
/// the sandbox's too: `optiscape_core::setup::DEFAULT_SEED`, `DEFAULT_STEPS`).
#[derive(Args, Debug)]
pub struct LabCommon {
    /// Take the surface, methods, steps, seed (and random starts) from a scenario: a `.ron`
    /// file or a shipped one by name. Options given as well override it.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<String>,
    /// Surface: an id (see `optiscape list`) or `formula:f(x, y)`.
    #[arg(long, value_name = "S", required_unless_present = "scenario")]
    pub surface: Option<String>,
    /// Domain `X0,X1,Y0,Y1` (default: the surface's; [-5, 5]^2 for a formula).
    #[arg(long, value_name = "X0,X1,Y0,Y1", allow_hyphen_values = true)]
    pub domain: Option<String>,
    /// Set a surface parameter, e.g. `--surface-param a=5` (repeatable).
    #[arg(long = "surface-param", value_name = "NAME=VALUE")]
    pub surface_param: Vec<String>,
    /// Turn the surface's picture DEG degrees counter-clockwise about the domain's centre.
    #[arg(long, value_name = "DEG", allow_hyphen_values = true)]
    pub rotate: Option<String>,
    /// Instance N of the surface: a rotation and shift drawn from N that keep the global
    /// minimum inside the domain (0: the surface as defined).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub instance: Option<String>,
    /// Optimizer updates per run [default: 300, or the scenario's].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub steps: Option<String>,
    /// Seed of the start points and of every run's noise [default: 0, or the scenario's].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub seed: Option<String>,
}

/// How the runs of a many-run command are judged and computed.
#[derive(Args, Debug)]
pub struct RunOptions {
    /// Success tolerance on loss above the global minimum [default: the surface's].
    #[arg(long, value_name = "T", allow_hyphen_values = true)]
    pub tol: Option<String>,
    /// Arithmetic precision of the runs: f64 (every run equals `trace`) or f32 (about twice
    /// as fast, within the tolerance `docs/guide.md` states).
    #[arg(long, value_enum, default_value_t = PrecisionArg::F64)]
    pub precision: PrecisionArg,
}

/// What `--steps` counts, and the price of a gradient on the one cost scale.
#[derive(Args, Debug)]
pub struct CostArgs {
    /// What `--steps` counts: `updates` (an update rule's updates, an iteration of a method
    /// that asks for evaluations) or `evals` (evaluations on the one cost scale: a function
    /// value 1, a gradient with its value `--grad-cost`).
    #[arg(long, value_enum, default_value_t = BudgetUnit::Updates)]
    pub budget_unit: BudgetUnit,
    /// The price of a gradient with its value, in function evaluations (n + 1 = 3 in 2D: what
    /// a forward-difference gradient costs).
    #[arg(long, value_name = "C", default_value = "3")]
    pub grad_cost: String,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum BudgetUnit {
    Updates,
    Evals,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum PrecisionArg {
    F64,
    F32,
}

/// What a command prints on stdout.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    Table,
    Csv,
    Json,
}

/// The methods of a command and their hyperparameters.
#[derive(Args, Debug)]
pub struct MethodArgs {
    /// Comma-separated method ids (see `optiscape list`), or `all`; commands that run one
    /// method take a list of one [default: the scenario's enabled methods, else all (race,
    /// ecdf), the common rules (tune), or the scenario's first enabled method].
    #[arg(long, value_name = "LIST")]
    pub methods: Option<String>,
    /// Set a hyperparameter: `--set adam.lr=0.05`, or `--set lr=0.05` when there is one
    /// method (repeatable; `beta1`, `beta2` name the two betas one at a time).
    #[arg(long = "set", value_name = "[METHOD.]NAME=VALUE")]
    pub set: Vec<String>,
}

/// The random start points of a command that draws them.
#[derive(Args, Debug)]
pub struct StartArgs {
    /// Random start points, the same for every method (and every cell or value of `phase`
    /// and `sweep`) [default: 1000, or the scenario's random starts].
    #[arg(long, value_name = "K", allow_hyphen_values = true)]
    pub starts: Option<String>,
    /// Draw the starts from `X0,X1,Y0,Y1` [default: the whole domain, or the scenario's
    /// region].
    #[arg(long, value_name = "X0,X1,Y0,Y1", allow_hyphen_values = true)]
    pub region: Option<String>,
}

/// What a command prints, and the file of its per-row data.
#[derive(Args, Debug)]
pub struct OutputArgs {
    /// What to print on stdout: an aligned table, CSV, or JSON (rates are fractions in CSV and
    /// JSON, percents in tables).
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
    /// Also write the per-row data (per run, per start, per cell...) to this CSV file.
    #[arg(long, value_name = "PATH")]
    pub csv: Option<std::path::PathBuf>,
}

#[derive(Args, Debug)]
pub struct RaceArgs {
    #[command(flatten)]
    pub common: LabCommon,
    #[command(flatten)]
    pub methods: MethodArgs,
    #[command(flatten)]
    pub starts: StartArgs,
    #[command(flatten)]
    pub run: RunOptions,
    #[command(flatten)]
    pub cost: CostArgs,
    /// Prints one row per method; `--csv` writes one row per run:
    /// `method,run,x0,y0,x,y,loss,updates,first_success_update,status,evals,grads`.
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct EcdfArgs {
    #[command(flatten)]
    pub common: LabCommon,
    #[command(flatten)]
    pub methods: MethodArgs,
    #[command(flatten)]
    pub starts: StartArgs,
    #[command(flatten)]
    pub run: RunOptions,
    #[command(flatten)]
    pub cost: CostArgs,
    /// Prints the share at a few numbers of updates (evaluations with `--budget-unit evals`);
    /// `--csv` writes the whole curves: `method,updates,fraction` (`method,evals,fraction`).
    #[command(flatten)]
    pub output: OutputArgs,
    /// Draw the curves as a PNG.
    #[arg(long, value_name = "PATH")]
    pub out: Option<std::path::PathBuf>,
}

#[derive(Args, Debug)]
pub struct TuneArgs {
    #[command(flatten)]
    pub common: LabCommon,
    #[command(flatten)]
    pub methods: MethodArgs,
    /// The starts of the tuning set (the held-out set has as many).
    #[command(flatten)]
    pub starts: StartArgs,
    #[command(flatten)]
    pub run: RunOptions,
    /// Settings tried per method.
    #[arg(
        long,
        value_name = "N",
        default_value = "32",
        allow_hyphen_values = true
    )]
    pub trials: String,
    #[command(flatten)]
    pub cost: CostArgs,
    /// Prints one row per method, then the tuned settings' race and runtime distributions on the
    /// held-out starts; `--csv` writes the first rows in full.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Draw the tuned settings' runtime distributions on the held-out starts as a PNG.
    #[arg(long, value_name = "PATH")]
    pub out: Option<std::path::PathBuf>,
}

#[derive(Args, Debug)]
pub struct PhaseArgs {
    #[command(flatten)]
    pub common: LabCommon,
    #[command(flatten)]
    pub methods: MethodArgs,
    #[command(flatten)]
    pub starts: StartArgs,
    #[command(flatten)]
    pub run: RunOptions,
    #[command(flatten)]
    pub cost: CostArgs,
    /// The horizontal axis: `NAME=LO..HI` (`beta1`, `beta2` name the two betas) [default:
    /// lr=1e-3..1, spaced geometrically].
    #[arg(long, allow_hyphen_values = true)]
    pub x: Option<String>,
    /// The vertical axis: `NAME=LO..HI`.
    #[arg(long, allow_hyphen_values = true)]
    pub y: String,
    /// Grid size `PxQ` (P values of x, Q of y).
    #[arg(long, default_value = "16x16", visible_alias = "grid")]
    pub points: String,
    /// Space x's values geometrically.
    #[arg(long)]
    pub log_x: bool,
    /// Space y's values geometrically.
    #[arg(long)]
    pub log_y: bool,
    /// Prints the best cell; `--csv` (and `--format csv|json`) every cell:
    /// `x_value,y_value,success_rate,ert`.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Draw the heatmap as a PNG.
    #[arg(long, value_name = "PATH")]
    pub out: Option<std::path::PathBuf>,
}

#[derive(Args, Debug)]
pub struct BasinsArgs {
    #[command(flatten)]
    pub common: LabCommon,
    #[command(flatten)]
    pub methods: MethodArgs,
    #[command(flatten)]
    pub run: RunOptions,
    #[command(flatten)]
    pub cost: CostArgs,
    /// Grid cells per side (starts at the cell centres).
    #[arg(
        long,
        value_name = "R",
        default_value = "128",
        allow_hyphen_values = true
    )]
    pub resolution: String,
    /// Prints the summary and the minima found; `--csv` writes one row per start:
    /// `x0,y0,x,y,loss,label`.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Draw the map as a PNG.
    #[arg(long, value_name = "PATH")]
    pub out: Option<std::path::PathBuf>,
}

#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    pub common: LabCommon,
    #[command(flatten)]
    pub methods: MethodArgs,
    #[command(flatten)]
    pub starts: StartArgs,
    #[command(flatten)]
    pub run: RunOptions,
    #[command(flatten)]
    pub cost: CostArgs,
    /// The numeric hyperparameter to sweep (`beta1`, `beta2` name the two betas).
    #[arg(long, default_value = "lr")]
    pub param: String,
    /// `LO..HI` (a geometric grid for parameters with a logarithmic scale, like lr).
    #[arg(long, default_value = "1e-4..1", allow_hyphen_values = true)]
    pub range: String,
    /// Number of values (1 to 1000).
    #[arg(
        long,
        value_name = "P",
        default_value = "13",
        allow_hyphen_values = true
    )]
    pub points: String,
    /// Prints one row per value: `value,success_rate,median_loss,diverged`; `--csv` writes the
    /// same rows.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Draw the chart as a PNG.
    #[arg(long, value_name = "PATH")]
    pub out: Option<std::path::PathBuf>,
}

#[derive(Args, Debug)]
pub struct TraceArgs {
    #[command(flatten)]
    pub common: LabCommon,
    #[command(flatten)]
    pub methods: MethodArgs,
    /// Start point `X,Y` [default: the surface's default start, or the scenario's first].
    #[arg(long, value_name = "X,Y", allow_hyphen_values = true)]
    pub start: Option<String>,
    #[command(flatten)]
    pub cost: CostArgs,
    /// Prints one row per update from the start: `update,x,y,loss,evals,grads`; `--csv` writes the same
    /// rows.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `optiscape completions SHELL`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct SuiteArgs {
    /// Comma-separated method ids, or `all` [default: the gradient rules worth comparing and
    /// every method that asks for evaluations: sgd, heavy-ball, nesterov, adagrad, rmsprop,
    /// adam, lion, adabelief, nelder-mead, bfgs, basin-hopping, annealing, cma-es,
    /// differential-evolution, random-search, multistart].
    #[arg(long, value_name = "LIST")]
    pub methods: Option<String>,
    /// Set a hyperparameter of the defaults: `--set adam.lr=0.05` (repeatable).
    #[arg(long = "set", value_name = "METHOD.NAME=VALUE")]
    pub set: Vec<String>,
    /// `all` (the 13 built-in surfaces) or comma-separated surface ids.
    #[arg(long, value_name = "all|S,S,...", default_value = "all")]
    pub surfaces: String,
    /// Evaluation instances per surface [default: 5; 2 with --quick].
    #[arg(long, value_name = "K", allow_hyphen_values = true)]
    pub instances: Option<String>,
    /// Tuning instances per surface (their ids never among the evaluation ones).
    #[arg(
        long,
        value_name = "K",
        default_value = "2",
        allow_hyphen_values = true
    )]
    pub tune_instances: String,
    /// Starts per problem, the same for every method [default: 1000; 100 with --quick].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub starts: Option<String>,
    /// Each run's budget, in `--budget-unit` [default: 3000].
    #[arg(
        long,
        value_name = "B",
        default_value = "3000",
        allow_hyphen_values = true
    )]
    pub budget: String,
    /// What `--budget` counts: `evals` (the one cost scale: a function value 1, a gradient
    /// with its value `--grad-cost`) or `updates`.
    #[arg(long, value_enum, default_value_t = BudgetUnit::Evals)]
    pub budget_unit: BudgetUnit,
    /// The price of a gradient with its value, in function evaluations.
    #[arg(long, value_name = "C", default_value = "3")]
    pub grad_cost: String,
    /// Settings tried per method and surface when tuning (1: no tuning) [default: 8; 4 with
    /// --quick].
    #[arg(long, value_name = "T", allow_hyphen_values = true)]
    pub tune_budget: Option<String>,
    /// Seed of the instances, the starts and every run's noise.
    #[arg(
        long,
        value_name = "S",
        default_value = "0",
        allow_hyphen_values = true
    )]
    pub seed: String,
    /// A quick suite (2 instances, 100 starts, 4 settings tuned): the same report in seconds.
    #[arg(long)]
    pub quick: bool,
    /// The report folder: created, or an earlier suite's (its finished cells are reused);
    /// a folder holding anything else is refused.
    #[arg(long, value_name = "DIR")]
    pub out: std::path::PathBuf,
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// The data: moons, circles, spirals, xor, gaussians, or a CSV file of `x1,x2,label`
    /// lines (a name ending in `.csv`) [default: moons].
    #[arg(long, value_name = "NAME|FILE.csv")]
    pub data: Option<String>,
    /// Training points of a built-in dataset [default: 200].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub points: Option<String>,
    /// Test points of a built-in dataset, drawn with the training points and split off
    /// [default: 200].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub test_points: Option<String>,
    /// Standard deviation of the noise added to a built-in dataset's points [default: 0.2].
    #[arg(long, value_name = "X", allow_hyphen_values = true)]
    pub noise: Option<String>,
    /// Seed of a built-in dataset [default: 0].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub data_seed: Option<String>,
    /// Of a CSV file, every K-th point is held out for testing (0: none) [default: 5].
    #[arg(long, value_name = "K", allow_hyphen_values = true)]
    pub test_every: Option<String>,
    /// Layer sizes from the input (2) to the output [default: 2-16-16-1; one output per
    /// class for more than two].
    #[arg(long, value_name = "SIZES")]
    pub layers: Option<String>,
    /// The hidden layers' activation: tanh, relu or gelu (its tanh form) [default: tanh].
    #[arg(long, value_name = "NAME")]
    pub activation: Option<String>,
    /// The loss: cross-entropy, or mse (values to fit) [default: cross-entropy].
    #[arg(long, value_name = "NAME")]
    pub loss: Option<String>,
    /// L2 penalty on the weights added to the loss: W/2 times the sum of their squares
    /// [default: 0].
    #[arg(long, value_name = "W", allow_hyphen_values = true)]
    pub weight_decay: Option<String>,
    /// The first weights: glorot (uniform), he (normal, fan-in) or torch (nn.Linear's
    /// default) [default: glorot].
    #[arg(long, value_name = "NAME")]
    pub init: Option<String>,
    #[command(flatten)]
    pub methods: MethodArgs,
    /// Initializations, the same for every method (runs per method) [default: 100].
    #[arg(long, value_name = "K", allow_hyphen_values = true)]
    pub starts: Option<String>,
    /// Full-batch updates per run [default: 1000].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub steps: Option<String>,
    /// Seed of the initializations and of every run's noise [default: 0].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub seed: Option<String>,
    /// Arithmetic precision of the runs: f64 or f32.
    #[arg(long, value_enum, default_value_t = PrecisionArg::F64)]
    pub precision: PrecisionArg,
    /// Success: a final training loss at most this [default: the lowest any run found plus
    /// --tol].
    #[arg(long, value_name = "LOSS", allow_hyphen_values = true)]
    pub target: Option<String>,
    /// Added to the lowest training loss found to make the default target [default: 0.01].
    #[arg(long, value_name = "T", allow_hyphen_values = true)]
    pub tol: Option<String>,
    /// A run above the target whose final gradient norm is at most this has settled in a
    /// worse minimum [default: 0.001].
    #[arg(long, value_name = "G", allow_hyphen_values = true)]
    pub gtol: Option<String>,
    /// Prints one row per method; `--csv` writes one row per run:
    /// `method,run,fate,updates,first_success_update,final_loss,lowest,grad_norm,train_accuracy,test_loss,test_accuracy`.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Draw the methods' ECDFs of training loss as a PNG.
    #[arg(long, value_name = "PATH")]
    pub out: Option<std::path::PathBuf>,
    /// Write each run's first and last weights, layer by layer in PyTorch's nn.Linear layout
    /// (`weight` as (out, in), `bias`), as JSON.
    #[arg(long, value_name = "FILE.json")]
    pub weights: Option<std::path::PathBuf>,
    /// Write the exact training data used as CSV (`x1,x2,label`).
    #[arg(long, value_name = "FILE.csv")]
    pub data_csv: Option<std::path::PathBuf>,
    /// Draw each method's first run as a PNG, as Li et al. 2018 draw training paths: on the
    /// plane of the path's own first two principal directions, centred where it ended, over
    /// the training loss on that plane, each axis labelled with its share of the path's
    /// variance.
    #[arg(long, value_name = "PATH")]
    pub paths: Option<std::path::PathBuf>,
    /// Settings tried per method when tuning (1: no tuning): learning rate (and momentum or
    /// beta1) on the grid `tune` searches, each trained from up to 25 tuning initializations of
    /// their own seed, scored by the median final training loss; then the best setting and the
    /// defaults are trained on the study's initializations (rows `ID tuned` and `ID`) [default:
    /// 1].
    #[arg(long, value_name = "T", allow_hyphen_values = true)]
    pub tune_budget: Option<String>,
    /// With --tune-budget: draw the tuning as maps (PNG), one per method over learning rate
    /// and momentum or beta1, each cell the median final training loss of its setting.
    #[arg(long, value_name = "PATH", requires = "tune_budget")]
    pub tune_map: Option<std::path::PathBuf>,
    /// A phase map of one method: train it at every cell of a grid of two of its
    /// hyperparameters, this the vertical axis `NAME=LO..HI` (`beta1`, `beta2` name the two
    /// betas); every cell trains the same initializations, against one target for the whole
    /// map. Prints one row per cell; --out draws the success rates as a heatmap.
    #[arg(long, value_name = "NAME=LO..HI", allow_hyphen_values = true)]
    pub y: Option<String>,
    /// With --y: the horizontal axis [default: lr=1e-3..1, spaced geometrically].
    #[arg(
        long,
        value_name = "NAME=LO..HI",
        allow_hyphen_values = true,
        requires = "y"
    )]
    pub x: Option<String>,
    /// With --y: the grid's size `PxQ` (P values of x, Q of y) [default: 8x8].
    #[arg(long, value_name = "PxQ", requires = "y")]
    pub grid: Option<String>,
    /// With --y: space x's values geometrically.
    #[arg(long, requires = "y")]
    pub log_x: bool,
    /// With --y: space y's values geometrically.
    #[arg(long, requires = "y")]
    pub log_y: bool,
}
