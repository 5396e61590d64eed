//! The `optiscape` binary: parses the command line and hands the work to [`optiscape::cli`];
//! on the web page (wasm32), starts the sandbox in the page.

#[cfg(target_arch = "wasm32")]
fn main() {
    optiscape::cli::start_page();
}

#[cfg(not(target_arch = "wasm32"))]
use clap::FromArgMatches;
#[cfg(not(target_arch = "wasm32"))]
use optiscape::cli::{Cli, CliError, command, fail, old_spelling, run};
#[cfg(not(target_arch = "wasm32"))]
use std::process::ExitCode;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> ExitCode {
    // Arguments as the system gives them (not necessarily UTF-8); read as text for the hints.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let text: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if let Some(hint) = old_spelling(&text) {
        return fail(&CliError(hint));
    }
    match command()
        .try_get_matches_from(&args)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => run(&cli),
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
            fail(&CliError(format!("{line} (see `optiscape --help`)")))
        }
    }
}
