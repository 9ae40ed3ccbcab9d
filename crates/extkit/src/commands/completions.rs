//! `extkit completions`: tab-completion scripts, generated from the command line's own
//! definition so that they never fall behind it.

use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::output::Printer;

/// Prints the completion script for the shell asked for.
pub fn run(args: &CompletionsArgs, printer: Printer) -> anyhow::Result<ExitCode> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "extkit", &mut script);
    printer.bytes(&script)?;
    Ok(ExitCode::SUCCESS)
}
