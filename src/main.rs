//! The `optiscape` binary: parses the command line and hands the work to the library.

use clap::Parser;
use optiscape::cli::{
    Cli, Command, Output, basins_command, list, race_command, sweep_command, trace_command,
};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // One clear line, not clap's usage block.
            let text = e.render().to_string();
            let body = text.split("\n\nUsage:").next().unwrap_or(&text);
            let line = body
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("tip:") && !l.starts_with("For more"))
                .collect::<Vec<_>>()
                .join(" ");
            let line = line.strip_prefix("error: ").unwrap_or(&line);
            eprintln!("optiscape: error: {line} (see `optiscape --help`)");
            return ExitCode::from(2);
        }
    };
    let result = match &cli.command {
        Some(Command::List) => Ok(list()),
        Some(Command::Trace(args)) => trace_command(args),
        Some(Command::Race(args)) => race_command(args),
        Some(Command::Basins(args)) => basins_command(args),
        Some(Command::Sweep(args)) => sweep_command(args),
        Some(Command::Record(args)) => optiscape::cli::record_command(args),
        None => {
            if let Some(path) = &cli.sandbox.screenshot
                && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
                && !dir.is_dir()
            {
                eprintln!(
                    "optiscape: error: --screenshot: the folder {} does not exist",
                    dir.display()
                );
                return ExitCode::from(2);
            }
            let sb = &cli.sandbox;
            if let Some(spec) = &sb.surface
                && let Err(e) =
                    optiscape::cli::build_surface(spec, sb.domain.as_deref(), &sb.surface_param)
            {
                eprintln!("optiscape: error: {e}");
                return ExitCode::from(2);
            }
            if let Some(name) = &sb.scenario
                && let Err(e) = optiscape::cli::load_scenario(name)
            {
                eprintln!("optiscape: error: {e}");
                return ExitCode::from(2);
            }
            return match optiscape::run_sandbox(&cli.sandbox) {
                bevy::app::AppExit::Success => ExitCode::SUCCESS,
                bevy::app::AppExit::Error(code) => ExitCode::from(code.get()),
            };
        }
    };
    match result {
        Ok(out) => emit(out),
        Err(e) => {
            eprintln!("optiscape: error: {e}");
            ExitCode::from(2)
        }
    }
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
