//! `extkit validate`: the rules, the findings and the Desktop matrix.

use std::path::Path;
use std::process::ExitCode;

use extkit_extension::{Options, Report, Runs, Severity, collect_facts, wanted_files};
use extkit_oci::transport::Location;
use serde_json::json;

use super::{RegistrySettings, open_image};
use crate::cli::{OutputFormat, ValidateArgs};
use crate::failure::Refusal;
use crate::output::{Printer, plain_table, render_table};

pub fn run(
    args: &ValidateArgs,
    printer: Printer,
    settings: &RegistrySettings,
) -> anyhow::Result<ExitCode> {
    if args.list_rules {
        return list_rules(printer);
    }
    let text = args
        .image
        .as_deref()
        .expect("clap requires IMAGE without --list-rules");
    let options = Options {
        marketplace: args.marketplace,
        sdk_version: args.sdk_version.clone(),
    };

    // A spelling no reference can have (a path with a `.json` name or one starting with `/`
    // or `.`) that names no file is a missing file, not a bad reference.
    let path = Path::new(text);
    let looks_like_path = text.starts_with(['/', '.'])
        || path
            .extension()
            .is_some_and(|extension| extension == "json");
    if looks_like_path && !path.exists() {
        return Err(Refusal {
            message: format!("`{text}` does not exist"),
            hint: Some(
                "give the path of a metadata.json file, or an image such as `oci:DIR:TAG` or \
                 `docker://REGISTRY/NAME:TAG`"
                    .into(),
            ),
            is_answer: false,
        }
        .into());
    }

    // A folder is neither a metadata.json file nor an image, unless it spells a reference.
    let is_reference = text.parse::<extkit_oci::ImageReference>().is_ok();
    if path.is_dir() && (looks_like_path || !is_reference) {
        let metadata = path.join("metadata.json");
        let hint = if path.join("oci-layout").is_file() {
            format!("it is an OCI image layout: validate it as `oci:{text}`")
        } else if metadata.is_file() {
            format!(
                "give its metadata.json: `extkit validate {}`",
                metadata.display()
            )
        } else {
            "give the path of a metadata.json file, or an image such as `oci:DIR:TAG` or \
             `docker://REGISTRY/NAME:TAG`"
                .into()
        };
        return Err(Refusal {
            message: format!("`{text}` is a folder, not a metadata.json file nor an image"),
            hint: Some(hint),
            is_answer: false,
        }
        .into());
    }

    let report = if path.is_file() {
        let bytes = fs_err::read(text)?;
        extkit_extension::validate_metadata_file(text, &bytes, &options)
    } else {
        let (location, source) = open_image(text, settings)?;
        let facts = collect_facts(source.as_ref(), tag_of(&location).as_deref(), &wanted_files)?;
        extkit_extension::validate(&facts, &options)
    };

    match printer.format {
        OutputFormat::Json => printer.json(&serde_json::to_value(&report)?)?,
        OutputFormat::Table => printer.data(&render_report(&report))?,
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The tag the image was named by, for the semver-tag rule and the version `ls` shows.
pub(super) fn tag_of(location: &Location) -> Option<String> {
    match location {
        Location::Oci { tag, .. } | Location::OciArchive { tag, .. } => tag.clone(),
        Location::DockerArchive { reference, .. } => {
            reference.as_ref().and_then(|r| r.tag().map(str::to_string))
        }
        Location::Store(reference) | Location::Registry(reference) | Location::Named(reference) => {
            reference.tag().map(str::to_string)
        }
    }
}

fn list_rules(printer: Printer) -> anyhow::Result<ExitCode> {
    let rules = extkit_extension::rules();
    match printer.format {
        OutputFormat::Json => {
            let entries: Vec<_> = rules
                .iter()
                .map(|rule| {
                    json!({
                        "id": rule.id,
                        "severity": rule.severity,
                        "marketplace_only": rule.marketplace_only,
                        "summary": rule.summary,
                    })
                })
                .collect();
            printer.json(&serde_json::Value::Array(entries))?;
        }
        OutputFormat::Table => {
            let mut table = plain_table(&["RULE", "SEVERITY", "CHECKS"]);
            for rule in rules {
                let severity = match (rule.severity, rule.marketplace_only) {
                    (_, true) => "marketplace".to_string(),
                    (Severity::Error, false) => "error".to_string(),
                    (Severity::Warning, false) => "warning".to_string(),
                };
                table.add_row(vec![
                    rule.id.to_string(),
                    severity,
                    rule.summary.to_string(),
                ]);
            }
            printer.data(&render_table(&table))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Findings as `error[rule] platform path: message` with an indented hint, then the matrix,
/// then a one-line verdict.
pub(super) fn render_report(report: &Report) -> String {
    let mut text = String::new();
    match &report.digest {
        Some(digest) => text.push_str(&format!("{} ({digest})\n\n", report.reference)),
        None => text.push_str(&format!("{}\n\n", report.reference)),
    }

    for finding in &report.findings {
        let severity = match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut place = Vec::new();
        if let Some(platform) = &finding.platform {
            place.push(platform.as_str());
        }
        if let Some(path) = &finding.path {
            place.push(path.as_str());
        }
        let place = if place.is_empty() {
            String::new()
        } else {
            format!(" {}", place.join(" "))
        };
        text.push_str(&format!(
            "{severity}[{}]{place}: {}\n",
            finding.rule, finding.message
        ));
        if let Some(hint) = &finding.hint {
            text.push_str(&format!("  hint: {hint}\n"));
        }
    }
    if !report.findings.is_empty() {
        text.push('\n');
    }

    if !report.matrix.is_empty() {
        let mut table = plain_table(&["DESKTOP USER", "PULLS", "HOST BINARIES"]);
        for row in &report.matrix {
            let binaries = match &row.platform {
                None => "cannot install".to_string(),
                Some(_) if row.binaries.is_empty() => "-".to_string(),
                Some(_) => row
                    .binaries
                    .iter()
                    .map(|binary| {
                        let runs = match binary.runs {
                            Runs::Native => "native",
                            Runs::Emulated => "emulated",
                            Runs::No => "does not run",
                        };
                        format!("{} ({runs})", binary.name)
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            table.add_row(vec![
                row.host.clone(),
                row.platform.clone().unwrap_or_else(|| "-".into()),
                binaries,
            ]);
        }
        text.push_str(&render_table(&table));
        text.push('\n');
    }

    let errors = report
        .findings
        .iter()
        .filter(|f| matches!(f.severity, Severity::Error))
        .count();
    let warnings = report.findings.len() - errors;
    let verdict = if report.ok { "valid" } else { "invalid" };
    text.push_str(&format!(
        "{verdict}: {} and {}\n",
        plural(errors, "error"),
        plural(warnings, "warning")
    ));
    text
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
