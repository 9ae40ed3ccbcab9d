//! `extkit copy`: an image from one location to another, all platforms by default.

use std::process::ExitCode;

use extkit_oci::Platform;
use extkit_oci::transport::{ImageDestination, ImageSource, copy_image};

use super::open::refuse_other_digest;
use super::{RegistrySettings, open_image, open_output};
use crate::cli::{CopyArgs, OutputFormat};
use crate::output::Printer;

pub fn run(
    args: &CopyArgs,
    printer: Printer,
    settings: &RegistrySettings,
) -> anyhow::Result<ExitCode> {
    let platforms = parse_platforms(&args.platform)?;
    let (source_location, source) = open_image(&args.source, settings)?;
    // Without --platform the root is written as it is, digest and all.
    let written = || match platforms.is_empty() {
        true => Ok(Some(source.root()?.digest)),
        false => Ok(None),
    };
    refuse_other_digest(&args.destination.parse()?, &args.destination, written)?;
    let (_, destination) = open_output(&args.destination, settings, Some(&source_location))?;
    transfer(source.as_ref(), destination, &platforms, "copied", printer)
}

/// Parses `--platform` values.
pub(super) fn parse_platforms(texts: &[String]) -> anyhow::Result<Vec<Platform>> {
    Ok(texts
        .iter()
        .map(|text| text.parse::<Platform>())
        .collect::<Result<Vec<_>, _>>()?)
}

/// Copies `source` into `destination` (only `platforms` when some are given), says what was
/// `done` on stderr and prints the digest written on stdout. `copy`, `push` and `pull` all
/// end here.
pub(super) fn transfer(
    source: &dyn ImageSource,
    destination: Box<dyn ImageDestination>,
    platforms: &[Platform],
    done: &str,
    printer: Printer,
) -> anyhow::Result<ExitCode> {
    let destination_name = destination.describe();
    let chosen = (!platforms.is_empty()).then_some(platforms);
    let report = copy_image(source, destination, chosen)?;
    let digest = report.digest.expect("a finished copy names its root");
    let repaired = match (report.blobs_repaired, report.blobs_written) {
        (0, _) => String::new(),
        (1, 1) => " (replacing a corrupt copy)".to_string(),
        (n, _) => format!(" ({n} of them replacing a corrupt copy)"),
    };
    let written = match report.blobs_written {
        1 => "1 blob".to_string(),
        n => format!("{n} blobs"),
    };
    let mounted = match report.blobs_mounted {
        0 => String::new(),
        n => format!(", {n} mounted from another repository"),
    };
    printer.note(&format!(
        "{done} {} to {destination_name}: {written} written{repaired}{mounted}, {} already there",
        source.describe(),
        report.blobs_skipped
    ));
    match printer.format {
        OutputFormat::Json => printer.json(&serde_json::json!({
            "digest": digest.to_string(),
            "source": source.describe(),
            "destination": destination_name,
            "blobs_written": report.blobs_written,
            "blobs_mounted": report.blobs_mounted,
            "blobs_already_there": report.blobs_skipped,
            "blobs_repaired": report.blobs_repaired,
        }))?,
        OutputFormat::Table => printer.data(&format!("{digest}\n"))?,
    }
    Ok(ExitCode::SUCCESS)
}
