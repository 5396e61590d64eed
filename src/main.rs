//! The `optiscape` binary: parses the command line and hands the work to [`optiscape::cli`];
//! on the web page (wasm32), starts the sandbox in the page.

#[cfg(target_arch = "wasm32")]
fn main() {
    optiscape::cli::start_page();
}

#[cfg(not(target_arch = "wasm32"))]
use clap::Parser;
#[cfg(not(target_arch = "wasm32"))]
use optiscape::cli::{Cli, CliError, fail, run};
#[cfg(not(target_arch = "wasm32"))]
use std::process::ExitCode;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> ExitCode {
    match Cli::try_parse() {
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
