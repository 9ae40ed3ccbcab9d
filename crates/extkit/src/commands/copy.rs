//! `extkit copy`: an image from one location to another, all platforms by default.

use std::process::ExitCode;

use extkit_oci::Platform;
use extkit_oci::transport::copy_image;

use super::{RegistrySettings, open_image, open_output};
use crate::cli::CopyArgs;
use crate::output::Printer;

pub fn run(
    args: &CopyArgs,
    printer: Printer,
    settings: &RegistrySettings,
) -> anyhow::Result<ExitCode> {
    let platforms = args
        .platform
        .iter()
        .map(|text| text.parse::<Platform>())
        .collect::<Result<Vec<_>, _>>()?;
    let (source_location, source) = open_image(&args.source, settings)?;
    let (_, destination) = open_output(&args.destination, settings, Some(&source_location))?;
    let destination_name = destination.describe();

    let chosen = (!platforms.is_empty()).then_some(platforms.as_slice());
    let report = copy_image(source.as_ref(), destination, chosen)?;
    let digest = report.digest.expect("a finished copy names its root");
    printer.note(&format!(
        "copied {} to {destination_name}: {} blobs written, {} already there",
        source.describe(),
        report.blobs_written,
        report.blobs_skipped
    ));
    printer.data(&format!("{digest}\n"))?;
    Ok(ExitCode::SUCCESS)
}
