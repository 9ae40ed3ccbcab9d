//! One module per command; each turns parsed arguments into library calls and printed output.

mod binfo;
mod inspect;

use std::process::ExitCode;

use anyhow::Context;
use extkit_oci::transport::{ImageSource, Location, open_source};

use crate::cli::{Cli, Command};
use crate::output::Printer;

/// Runs the command the user asked for.
pub fn run(cli: &Cli, printer: Printer) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Inspect(args) => inspect::run(args, printer),
        Command::Binfo(args) => binfo::run(args, printer),
    }
}

/// Parses an image location and opens it for reading.
pub fn open_image(text: &str) -> anyhow::Result<(Location, Box<dyn ImageSource>)> {
    let location: Location = text.parse()?;
    let source = open_source(&location).with_context(|| format!("cannot read `{text}`"))?;
    Ok((location, source))
}
