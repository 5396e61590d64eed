//! The command line: arguments ([`args`]), the lab's commands ([`lab`]), `record` ([`record`])
//! and the sandbox's options ([`sandbox`]). Every user error is a `CliError` with one clear
//! line; [`run`] prints it and exits with status 2.

pub mod args;
pub mod fair;
pub mod lab;
pub mod record;
pub mod sandbox;

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
    let result = match &cli.command {
        Some(Command::List) => Ok(lab::list()),
        Some(Command::Trace(args)) => lab::trace_command(args, &mut std::io::stdout().lock()),
        Some(Command::Race(args)) => lab::race_command(args),
        Some(Command::Basins(args)) => lab::basins_command(args),
        Some(Command::Sweep(args)) => lab::sweep_command(args),
        Some(Command::Ecdf(args)) => fair::ecdf_command(args),
        Some(Command::Tune(args)) => fair::tune_command(args),
        Some(Command::Phase(args)) => fair::phase_command(args),
        Some(Command::Record(args)) => record::record_command(args),
        Some(Command::Link(args)) => sandbox::link_command(args),
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
    use clap::Parser;
    let hash = crate::browser::location_hash();
    let mut args = vec!["optiscape".to_string()];
    if !hash.trim().is_empty() {
        args.push(format!("--link={}", hash.trim()));
    }
    let settings = Cli::try_parse_from(&args)
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
