//! One module per command; each turns parsed arguments into library calls and printed output.

mod binfo;
mod build;
mod completions;
mod copy;
mod init;
mod inspect;
mod install;
mod open;
mod push;
mod store;
mod validate;

use std::process::ExitCode;

pub use open::{RegistrySettings, open_image, open_output};

use crate::cli::{Cli, Command};
use crate::output::Printer;

/// Runs the command the user asked for.
pub fn run(cli: &Cli, printer: Printer) -> anyhow::Result<ExitCode> {
    let settings = RegistrySettings::new(&cli.global);
    match &cli.command {
        Command::Init(args) => init::run(args, printer),
        Command::Build(args) => build::run(args, printer, &settings),
        Command::Inspect(args) => inspect::run(args, printer, &settings),
        Command::Binfo(args) => binfo::run(args, printer),
        Command::Copy(args) => copy::run(args, printer, &settings),
        Command::Validate(args) => validate::run(args, printer, &settings),
        Command::Install(args) => install::install(args, printer, &settings, false),
        Command::Update(args) => install::install(args, printer, &settings, true),
        Command::List(args) => install::list(args, printer),
        Command::Remove(args) => install::remove(args, printer),
        Command::Push(args) => push::push(args, printer, &settings),
        Command::Pull(args) => push::pull(args, printer, &settings),
        Command::Images => store::images(printer),
        Command::Tag(args) => store::tag(args, printer),
        Command::Rmi(args) => store::rmi(args, printer),
        Command::Store(command) => store::maintain(command, printer),
        Command::Completions(args) => completions::run(args, printer),
    }
}
