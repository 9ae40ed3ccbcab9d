//! `extkit binfo`: which OS and CPUs each executable is for.

use std::process::ExitCode;

use extkit_binfmt::BinaryInfo;
use serde_json::{Value, json};

use crate::cli::{BinfoArgs, OutputFormat};
use crate::output::{Printer, plain_table, render_table};

pub fn run(args: &BinfoArgs, printer: Printer) -> anyhow::Result<ExitCode> {
    let results: Vec<(String, Result<BinaryInfo, extkit_binfmt::Error>)> = args
        .files
        .iter()
        .map(|path| {
            (
                path.display().to_string(),
                extkit_binfmt::inspect_path(path),
            )
        })
        .collect();
    let failed = results.iter().any(|(_, result)| result.is_err());

    match printer.format {
        OutputFormat::Json => {
            let entries: Vec<Value> = results
                .iter()
                .map(|(path, result)| entry(path, result))
                .collect();
            printer.json(&Value::Array(entries))?;
        }
        OutputFormat::Table => {
            let mut table = plain_table(&["PATH", "FORMAT", "OS", "ARCHITECTURES", "DETAILS"]);
            for (path, result) in &results {
                match result {
                    Ok(info) => table.add_row(vec![
                        path.clone(),
                        info.format.to_string(),
                        info.os.map_or_else(|| "-".to_string(), |os| os.to_string()),
                        dash_if_empty(info.architectures.join(", ")),
                        dash_if_empty(details(info)),
                    ]),
                    Err(_) => table.add_row(vec![
                        path.clone(),
                        "error".into(),
                        "-".into(),
                        "-".into(),
                        "-".into(),
                    ]),
                };
            }
            printer.data(&render_table(&table))?;
            for (_, result) in &results {
                if let Err(error) = result {
                    printer.error_line(&error.to_string());
                }
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// One JSON entry: every field present, `null` when absent.
fn entry(path: &str, result: &Result<BinaryInfo, extkit_binfmt::Error>) -> Value {
    match result {
        Ok(info) => json!({
            "path": path,
            "format": info.format,
            "os": info.os,
            "architectures": info.architectures,
            "details": info.details,
            "error": null,
        }),
        Err(error) => json!({
            "path": path,
            "format": null,
            "os": null,
            "architectures": [],
            "details": null,
            "error": error.to_string(),
        }),
    }
}

/// The details that are present, as `key value` pairs.
fn details(info: &BinaryInfo) -> String {
    let details = &info.details;
    let mut parts = Vec::new();
    if let Some(linking) = details.linking {
        parts.push(linking.to_string());
    }
    if let Some(interpreter) = &details.interpreter {
        parts.push(format!("interpreter {interpreter}"));
    }
    if let Some(version) = &details.min_macos {
        parts.push(format!("macOS {version}+"));
    }
    if let Some(subsystem) = details.subsystem {
        parts.push(subsystem.to_string());
    }
    parts.join(", ")
}

fn dash_if_empty(text: String) -> String {
    if text.is_empty() {
        "-".to_string()
    } else {
        text
    }
}
