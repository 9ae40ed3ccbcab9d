//! The `extkit` command: argument parsing, logging and exit codes around the library crates.

mod cli;
mod commands;
mod failure;
mod output;

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::output::Printer;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose);
    let printer = Printer::new(&cli.global);

    match commands::run(&cli, printer) {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            output::print_error(&error);
            failure::exit_code(&error)
        }
    }
}

/// Logs go to stderr: warnings by default, debug with `-v`, trace with `-vv`; `RUST_LOG`
/// overrides.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "extkit=debug,extkit_oci=debug,extkit_layer=debug,warn",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_target(false)
        .without_time()
        .init();
}

/// A reader such as `head` closed stdout: that is not an error.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
