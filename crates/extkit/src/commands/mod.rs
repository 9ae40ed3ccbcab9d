//! One module per command; each turns parsed arguments into library calls and printed output.

mod binfo;
mod copy;
mod inspect;
mod open;
mod store;

use std::process::ExitCode;

pub use open::{RegistrySettings, open_image, open_output};

use crate::cli::{Cli, Command};
use crate::output::Printer;

/// Runs the command the user asked for.
pub fn run(cli: &Cli, printer: Printer) -> anyhow::Result<ExitCode> {
    let settings = RegistrySettings::new(&cli.global);
    match &cli.command {
        Command::Inspect(args) => inspect::run(args, printer, &settings),
        Command::Binfo(args) => binfo::run(args, printer),
        Command::Copy(args) => copy::run(args, printer, &settings),
        Command::Images => store::images(printer),
        Command::Tag(args) => store::tag(args, printer),
        Command::Rmi(args) => store::rmi(args, printer),
        Command::Store(command) => store::maintain(command, printer),
    }
}
