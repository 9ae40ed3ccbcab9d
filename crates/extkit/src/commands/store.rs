//! `extkit images`, `tag`, `rmi` and `store check|gc`: the local store.

use std::collections::BTreeSet;
use std::process::ExitCode;

use extkit_oci::transport::{ImageSource, Location, Store, StoredImage};
use extkit_oci::{Digest, Image, ImageReference};
use serde_json::{Value, json};

use crate::cli::{OutputFormat, RmiArgs, StoreCommand, TagArgs};
use crate::failure::Refusal;
use crate::output::{Printer, plain_table, render_table};

/// One row of `extkit images`.
struct Row {
    repository: String,
    tag: String,
    digest: String,
    platforms: Vec<String>,
    size: u64,
    created: Option<String>,
}

pub fn images(printer: Printer) -> anyhow::Result<ExitCode> {
    let store = Store::open_default()?;
    let rows = store
        .list()?
        .iter()
        .map(|image| row(&store, image))
        .collect::<anyhow::Result<Vec<_>>>()?;

    if printer.quiet() && printer.format == OutputFormat::Table {
        // As `docker images -q`: one line per image, what `extkit rmi` takes.
        let names: String = rows
            .iter()
            .map(|row| match (row.repository.as_str(), row.tag.as_str()) {
                ("<none>", _) => format!("{}\n", row.digest),
                (repository, "<none>") => format!("{repository}@{}\n", row.digest),
                (repository, tag) => format!("{repository}:{tag}\n"),
            })
            .collect();
        printer.data(&names)?;
        return Ok(ExitCode::SUCCESS);
    }
    match printer.format {
        OutputFormat::Json => {
            let entries: Vec<Value> = rows
                .iter()
                .map(|row| {
                    json!({
                        "repository": row.repository,
                        "tag": row.tag,
                        "digest": row.digest,
                        "platforms": row.platforms,
                        "size": row.size,
                        "created": row.created,
                    })
                })
                .collect();
            printer.json(&Value::Array(entries))?;
        }
        OutputFormat::Table => {
            let mut table = plain_table(&[
                "REPOSITORY",
                "TAG",
                "DIGEST",
                "PLATFORMS",
                "SIZE",
                "CREATED",
            ]);
            for row in &rows {
                table.add_row(vec![
                    row.repository.clone(),
                    row.tag.clone(),
                    row.digest.get(..19).unwrap_or(&row.digest).to_string(),
                    row.platforms.join(","),
                    human_size(row.size),
                    row.created.clone().unwrap_or_else(|| "-".into()),
                ]);
            }
            printer.data(&render_table(&table))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads an image's manifests and configs for its platforms, total size and creation time.
fn row(store: &Store, image: &StoredImage) -> anyhow::Result<Row> {
    let source = store.open_stored(image)?;
    let root = source.root()?;
    let mut seen = BTreeSet::new();
    let mut size = 0;
    let mut count = |digest: String, bytes: u64| {
        if seen.insert(digest) {
            size += bytes;
        }
    };
    count(root.digest.to_string(), root.bytes.len() as u64);

    let mut manifests = Vec::new();
    match root.parse(&source.describe())? {
        Image::Index { entries, .. } => {
            for entry in entries {
                let manifest = source.manifest(&entry.descriptor)?;
                count(manifest.digest.to_string(), manifest.bytes.len() as u64);
                let runnable = entry.kind == extkit_oci::IndexEntryKind::Runnable;
                manifests.push((manifest, runnable));
            }
        }
        Image::Manifest { .. } => manifests.push((root.clone(), true)),
    }

    let mut platforms = Vec::new();
    let mut created: Option<String> = None;
    for (manifest, runnable) in manifests {
        let Image::Manifest {
            manifest: parsed, ..
        } = manifest.parse(&source.describe())?
        else {
            continue;
        };
        for blob in std::iter::once(parsed.config()).chain(parsed.layers()) {
            count(blob.digest().to_string(), blob.size());
        }
        if !runnable {
            continue;
        }
        let config: Value = serde_json::from_slice(&source.blob_bytes(parsed.config())?)?;
        let platform = extkit_oci::Platform::new(
            config["os"].as_str().unwrap_or("unknown"),
            config["architecture"].as_str().unwrap_or("unknown"),
            config["variant"].as_str(),
        );
        platforms.push(platform.to_string());
        if let Some(time) = config["created"].as_str()
            && created.as_deref().is_none_or(|latest| time > latest)
        {
            created = Some(time.to_string());
        }
    }

    let (repository, tag) = match &image.reference {
        Some(reference) => (
            familiar_name(reference),
            reference.tag().unwrap_or("<none>").to_string(),
        ),
        None => ("<none>".to_string(), "<none>".to_string()),
    };
    Ok(Row {
        repository,
        tag,
        digest: image.descriptor.digest().to_string(),
        platforms,
        size,
        created,
    })
}

/// `acme/ext` for Docker Hub, the full name elsewhere, as `docker images` shows it.
fn familiar_name(reference: &ImageReference) -> String {
    let familiar = reference.familiar();
    let name = familiar
        .split_once('@')
        .map_or(familiar.as_str(), |(name, _)| name);
    let end = name
        .rfind(':')
        .filter(|at| *at > name.rfind('/').unwrap_or(0));
    match end {
        Some(end) => name[..end].to_string(),
        None => name.to_string(),
    }
}

/// Sizes as Docker prints them: decimal units, three significant digits.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}B")
    } else {
        format!("{value:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
            + UNITS[unit]
    }
}

/// A name in the store: a bare reference or `store:REF`.
pub(super) fn store_reference(text: &str) -> anyhow::Result<ImageReference> {
    match text.parse::<Location>()? {
        Location::Named(reference) | Location::Store(reference) => Ok(reference),
        other => Err(Refusal {
            message: format!(
                "`{text}` is {}, not a name in the local store",
                other.kind()
            ),
            hint: Some("name a stored image like `acme/ext:1.0` or `store:acme/ext:1.0`".into()),
            is_answer: false,
        }
        .into()),
    }
}

pub fn tag(args: &TagArgs, printer: Printer) -> anyhow::Result<ExitCode> {
    let source = store_reference(&args.source)?;
    let target = store_reference(&args.target)?;
    if target.digest().is_some() {
        return Err(Refusal {
            message: format!("`{}` names a digest; a new name needs a tag", args.target),
            hint: Some("write the target as `NAME:TAG`".into()),
            is_answer: false,
        }
        .into());
    }
    let store = Store::open_default()?;
    let digest = match store.tag(&source, &target) {
        Ok(digest) => digest,
        Err(error @ extkit_oci::Error::ImageNotFound { .. }) => return Err(not_in_store(error)),
        Err(error) => return Err(error.into()),
    };
    printer.note(&format!(
        "tagged {} as {}",
        source.familiar(),
        target.familiar()
    ));
    printer.data(&format!("{digest}\n"))?;
    Ok(ExitCode::SUCCESS)
}

pub fn rmi(args: &RmiArgs, printer: Printer) -> anyhow::Result<ExitCode> {
    let store = Store::open_default()?;
    let mut code = ExitCode::SUCCESS;
    let mut untagged = Vec::new();
    for text in &args.images {
        if let Some(prefix) = digest_prefix(text) {
            match remove_untagged(&store, prefix, printer)? {
                Some(removed) => untagged.push(removed),
                None => code = ExitCode::from(1),
            }
            continue;
        }
        let reference = store_reference(text)?;
        match store.untag(&reference) {
            Ok(digest) => match printer.format {
                OutputFormat::Json => untagged.push(json!({
                    "image": reference.familiar(),
                    "digest": digest.to_string(),
                })),
                OutputFormat::Table => {
                    printer.data(&format!("untagged: {} ({digest})\n", reference.familiar()))?
                }
            },
            Err(extkit_oci::Error::ImageNotFound { .. }) => {
                printer.error_line(&format!(
                    "no image named `{}` in the local store",
                    reference.familiar()
                ));
                code = ExitCode::from(1);
            }
            Err(error) => return Err(error.into()),
        }
    }
    if printer.format == OutputFormat::Json {
        printer.json(&json!({ "untagged": untagged }))?;
    }
    Ok(code)
}

/// `text` when it is a digest or the start of one (`sha256:` and some hex digits), as
/// `extkit images` shows them.
fn digest_prefix(text: &str) -> Option<&str> {
    let hex = text.strip_prefix("sha256:")?;
    let valid = (1..=64).contains(&hex.len())
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    valid.then_some(text)
}

/// `rmi sha256:…`: removes the untagged images whose digest is or starts with `prefix`, as
/// `docker rmi ID` does; says why when there is none or more than one. Gives the JSON entry
/// of what went.
fn remove_untagged(store: &Store, prefix: &str, printer: Printer) -> anyhow::Result<Option<Value>> {
    let images = store.list()?;
    let digests = |tagged: bool| -> BTreeSet<String> {
        images
            .iter()
            .filter(|image| image.reference.is_some() == tagged)
            .map(|image| image.descriptor.digest().to_string())
            .filter(|digest| digest.starts_with(prefix))
            .collect()
    };
    let untagged = digests(false);
    if untagged.len() == 1 {
        let digest: Digest = untagged.first().expect("one digest").parse()?;
        store.remove_untagged(&digest)?;
        if printer.format == OutputFormat::Table {
            printer.data(&format!("deleted: {digest} (untagged)\n"))?;
        }
        return Ok(Some(
            json!({ "image": Value::Null, "digest": digest.to_string() }),
        ));
    }
    let tagged = digests(true);
    let names: Vec<String> = images
        .iter()
        .filter(|image| tagged.contains(&image.descriptor.digest().to_string()))
        .filter_map(|image| image.reference.as_ref().map(ImageReference::familiar))
        .collect();
    printer.error_line(&match (untagged.len(), names.as_slice()) {
        (0, []) => format!("no untagged image with digest `{prefix}` in the local store"),
        (0, names) => format!(
            "`{prefix}` is the image named {}; remove it by name",
            names.join(", ")
        ),
        _ => format!(
            "`{prefix}` starts the digests of several untagged images: {}; give more digits",
            untagged.into_iter().collect::<Vec<_>>().join(", ")
        ),
    });
    Ok(None)
}

fn not_in_store(error: extkit_oci::Error) -> anyhow::Error {
    let hint = error.hint();
    Refusal {
        message: error.to_string(),
        hint,
        is_answer: true,
    }
    .into()
}

pub fn maintain(command: &StoreCommand, printer: Printer) -> anyhow::Result<ExitCode> {
    let store = Store::open_default()?;
    match command {
        StoreCommand::Check => {
            let report = store.check()?;
            for (digest, reason) in &report.corrupt {
                printer.error_line(&format!("corrupt blob `{digest}`: {reason}"));
            }
            for (digest, image) in &report.missing {
                printer.error_line(&format!("missing blob `{digest}`, needed by {image}"));
            }
            let broken = report.corrupt.len() + report.missing.len();
            if printer.format == OutputFormat::Json {
                let corrupt = report.corrupt.iter().map(|(digest, reason)| {
                    json!({"digest": digest.to_string(), "kind": "corrupt", "problem": reason})
                });
                let missing = report.missing.iter().map(|(digest, image)| {
                    json!({
                        "digest": digest.to_string(),
                        "kind": "missing",
                        "problem": format!("missing, needed by {image}"),
                    })
                });
                printer.json(&json!({
                    "ok": broken == 0,
                    "checked": report.blobs_checked,
                    "broken": corrupt.chain(missing).collect::<Vec<_>>(),
                }))?;
            }
            printer.note(&format!(
                "checked {} blobs in `{}`: {}",
                report.blobs_checked,
                store.path().display(),
                if broken == 0 {
                    "all sound".to_string()
                } else {
                    format!("{broken} broken or missing")
                }
            ));
            Ok(if broken == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        StoreCommand::Gc => {
            let report = store.gc()?;
            match printer.format {
                OutputFormat::Json => printer.json(&json!({
                    "removed_files": report.files_removed,
                    "freed_bytes": report.bytes_freed,
                }))?,
                OutputFormat::Table => printer.data(&format!(
                    "removed {} files, freed {}\n",
                    report.files_removed,
                    human_size(report.bytes_freed)
                ))?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_their_starts_are_told_from_names() {
        let full = format!("sha256:{}", "ab".repeat(32));
        for (text, expected) in [
            ("sha256:faed2598f88e", true),
            (full.as_str(), true),
            ("sha256:", false),
            ("sha256:FAED", false),
            ("sha256:xyz", false),
            ("acme/ext:1", false),
        ] {
            assert_eq!(digest_prefix(text).is_some(), expected, "{text}");
        }
        assert!(digest_prefix(&format!("{full}0")).is_none());
    }

    #[test]
    fn familiar_names_drop_the_tag_and_the_digest() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let cases = [
            ("alpine:3".to_string(), "alpine"),
            ("acme/ext:1.0".to_string(), "acme/ext"),
            (
                "127.0.0.1:5000/acme/ext:dev".to_string(),
                "127.0.0.1:5000/acme/ext",
            ),
            (format!("acme/ext@{digest}"), "acme/ext"),
            (
                format!("localhost:5000/ext:1@{digest}"),
                "localhost:5000/ext",
            ),
        ];
        for (text, expected) in cases {
            let reference: ImageReference = text.parse().unwrap();
            assert_eq!(familiar_name(&reference), expected, "{text}");
        }
    }
}
