//! The command line: arguments ([`args`]), the lab's commands ([`lab`]), `record` ([`record`])
//! and the sandbox's options ([`sandbox`]). Every user error is a `CliError` with one clear
//! line; [`run`] prints it and exits with status 2.

pub mod args;
pub mod fair;
pub mod lab;
pub mod progress;
pub mod record;
pub mod sandbox;
pub mod shared;
pub mod suite;
pub mod train;

pub use args::*;

use std::io::Write;
use std::process::ExitCode;

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

/// Runs what the command line asks for: a lab command, a recording, or the sandbox.
pub fn run(cli: &Cli) -> ExitCode {
    // The engine a user forced through the environment must name one (it is read once, by
    // the first batch).
    if let Some(e) = optiscape_core::lab::lanes_env_error() {
        return fail(&CliError(e));
    }
    let result = match &cli.command {
        Some(Command::List) => Ok(lab::list()),
        Some(Command::Trace(args)) => lab::trace_command(args, &mut std::io::stdout().lock()),
        Some(Command::Race(args)) => lab::race_command(args),
        Some(Command::Basins(args)) => lab::basins_command(args),
        Some(Command::Sweep(args)) => lab::sweep_command(args),
        Some(Command::Ecdf(args)) => fair::ecdf_command(args),
        Some(Command::Tune(args)) => fair::tune_command(args),
        Some(Command::Phase(args)) => fair::phase_command(args),
        Some(Command::Suite(args)) => suite::suite_command(args),
        Some(Command::Train(args)) => train::train_command(args),
        Some(Command::Record(args)) => record::record_command(args),
        Some(Command::Link(args)) => sandbox::link_command(args),
        Some(Command::Completions(args)) => Ok(completions(args.shell)),
        Some(Command::Man) => man_page(),
        None => {
            return match sandbox::settings(&cli.sandbox) {
                Ok(settings) => match crate::app::run_sandbox(settings) {
                    bevy::app::AppExit::Success => ExitCode::SUCCESS,
                    bevy::app::AppExit::Error(code) => ExitCode::from(code.get()),
                },
                Err(e) => fail(&e),
            };
        }
    };
    match result {
        Ok(out) => emit(out),
        Err(e) => fail(&e),
    }
}

/// The command line as clap knows it, with the version line `--version` prints: the version
/// and the lane engine this build runs on this CPU.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let version: &'static str = Box::leak(
        format!(
            "{}\nlane engine on this CPU: {}",
            env!("CARGO_PKG_VERSION"),
            optiscape_core::lab::engine_summary()
        )
        .into_boxed_str(),
    );
    Cli::command().version(version)
}

/// `optiscape completions SHELL`: the completion script clap_complete generates.
fn completions(shell: clap_complete::Shell) -> Output {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut command(), "optiscape", &mut buf);
    Output {
        stdout: String::from_utf8_lossy(&buf).into_owned(),
        notes: Vec::new(),
    }
}

/// `optiscape man`: the manual page (roff), with a section for each subcommand.
#[cfg(not(target_arch = "wasm32"))]
fn man_page() -> Result<Output, CliError> {
    let cmd = command();
    let mut buf = Vec::new();
    let write = |e: std::io::Error| CliError(format!("could not write the manual page: {e}"));
    clap_mangen::Man::new(cmd.clone())
        .render(&mut buf)
        .map_err(write)?;
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        buf.extend_from_slice(
            format!(".SH \"OPTISCAPE {}\"\n", sub.get_name().to_uppercase()).as_bytes(),
        );
        let man = clap_mangen::Man::new(sub.clone());
        man.render_description_section(&mut buf).map_err(write)?;
        man.render_options_section(&mut buf).map_err(write)?;
    }
    Ok(Output {
        stdout: String::from_utf8_lossy(&buf).into_owned(),
        notes: Vec::new(),
    })
}

#[cfg(target_arch = "wasm32")]
fn man_page() -> Result<Output, CliError> {
    Err(CliError("the manual page is the command line's".into()))
}

/// Spellings the command line had before its options became one language: each gives a
/// one-line hint (exit 2) instead of clap's generic "unexpected argument".
/// Each: the old flag, the commands it was renamed in (empty: all), the hint.
const OLD_SPELLINGS: &[(&str, &[&str], &str)] = &[
    (
        "--method",
        &[],
        "--method is now --methods (one method is a list of one)",
    ),
    (
        "--runs-csv",
        &[],
        "--runs-csv is now --csv (every lab command's per-row file)",
    ),
    ("--json", &[], "--json is now --format json"),
    // `suite --budget` is a run's budget.
    (
        "--budget",
        &["tune"],
        "--budget is now --trials (settings tried per method)",
    ),
];

/// The hint for an old spelling among `args` (after the program's name), if any.
pub fn old_spelling(args: &[String]) -> Option<String> {
    let command = args
        .iter()
        .find(|a| !a.starts_with('-'))
        .map(String::as_str);
    args.iter().find_map(|a| {
        let flag = a.split_once('=').map_or(a.as_str(), |(f, _)| f);
        OLD_SPELLINGS
            .iter()
            .find(|(old, commands, _)| {
                *old == flag
                    && (commands.is_empty() || command.is_some_and(|c| commands.contains(&c)))
            })
            .map(|(_, _, hint)| (*hint).to_string())
    })
}

/// One line on stderr, exit status 2.
pub fn fail(e: &CliError) -> ExitCode {
    eprintln!("optiscape: error: {e}");
    ExitCode::from(2)
}

fn emit(out: Output) -> ExitCode {
    for note in &out.notes {
        eprintln!("optiscape: note: {note}");
    }
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (e.g. `| head`) is not an error worth a panic.
    let _ = stdout.write_all(out.stdout.as_bytes());
    let _ = stdout.flush();
    ExitCode::SUCCESS
}

/// The web page's start: the sandbox in the page's canvas, opening the link in the address's
/// fragment (`…/#s1.…`) as `optiscape --link` does (a damaged one opens the notebook's scene
/// with a message), or the notebook's scene when there is none.
#[cfg(target_arch = "wasm32")]
pub fn start_page() {
    let hash = crate::browser::location_hash();
    let mut args = vec!["optiscape".to_string()];
    if !hash.trim().is_empty() {
        args.push(format!("--link={}", hash.trim()));
    }
    use clap::FromArgMatches;
    let settings = command()
        .try_get_matches_from(&args)
        .and_then(|m| Cli::from_arg_matches(&m))
        .map_err(|e| CliError(e.to_string()))
        .and_then(|cli| sandbox::settings(&cli.sandbox))
        .unwrap_or_else(|e| {
            bevy::log::error!("{e}");
            crate::app::SandboxSettings {
                message: Some(format!("{e}; the notebook's scene opened instead")),
                ..Default::default()
            }
        });
    if let Err(e) = crate::browser::accept_dropped_files() {
        bevy::log::warn!("files dropped on the page will not open: {e}");
    }
    crate::app::run_sandbox(settings);
}
