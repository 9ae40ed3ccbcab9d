//! `extkit inspect`: which platforms an image has, with digests and sizes.

use std::process::ExitCode;

use anyhow::Context;
use extkit_oci::spec::ImageConfiguration;
use extkit_oci::transport::ImageSource;
use extkit_oci::{
    Image, IndexEntry, IndexEntryKind, MediaKind, Platform, PlatformMatcher, RawManifest,
    media_types,
};
use serde_json::Value;

use crate::cli::{InspectArgs, OutputFormat};
use crate::output::{Printer, plain_table, render_table};

/// The platforms Docker Desktop pulls: one of them per user.
const DESKTOP_PLATFORMS: [&str; 2] = ["linux/amd64", "linux/arm64"];

pub fn run(
    args: &InspectArgs,
    printer: Printer,
    settings: &super::RegistrySettings,
) -> anyhow::Result<ExitCode> {
    let (_, source) = super::open_image(&args.image, settings)?;
    let root = source.root()?;
    let image = root.parse(&format!("the root of {}", source.describe()))?;

    if let Some(platform) = &args.platform {
        let wanted: Platform = platform.parse()?;
        let manifest = choose_manifest(source.as_ref(), &image, &wanted, printer)?;
        return show_platform(args, printer, source.as_ref(), &manifest, &wanted);
    }

    if args.raw {
        printer.bytes(&root.bytes)?;
        return Ok(ExitCode::SUCCESS);
    }
    match printer.format {
        OutputFormat::Json => printer.json(&with_digest_and_size(&root)?)?,
        OutputFormat::Table => printer.data(&root_table(source.as_ref(), &image)?)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The manifest a container engine would pull for `wanted`.
fn choose_manifest(
    source: &dyn ImageSource,
    image: &Image,
    wanted: &Platform,
    printer: Printer,
) -> anyhow::Result<RawManifest> {
    let missing = |available: Vec<String>| extkit_oci::Error::PlatformMissing {
        image: source.describe(),
        platform: wanted.to_string(),
        available,
    };
    let matcher = PlatformMatcher::new(wanted);
    match image {
        Image::Index { entries, .. } => {
            let Some((chosen, platform)) = image.choose(&matcher) else {
                return Err(missing(image.runnable_platforms()).into());
            };
            tracing::debug!(
                wanted = %matcher.wanted(),
                chosen = %platform,
                entry = chosen,
                "chose the index entry with containerd's platform rules"
            );
            if matcher.rank(&platform) != Some(0) {
                printer.note(&format!(
                    "note: no {} image; using the compatible {platform}",
                    matcher.wanted(),
                ));
            }
            Ok(source.manifest(&entries[chosen].descriptor)?)
        }
        Image::Manifest { raw, manifest } => {
            let platform = config_platform(&read_config(source, manifest.config())?);
            if !matcher.matches(&platform) {
                return Err(missing(vec![platform.to_string()]).into());
            }
            Ok(raw.clone())
        }
    }
}

/// The entry's platform when it is runnable; a platform nothing matches otherwise.
fn read_config(
    source: &dyn ImageSource,
    descriptor: &extkit_oci::spec::Descriptor,
) -> anyhow::Result<ImageConfiguration> {
    let bytes = source.blob_bytes(descriptor)?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("malformed image config `{}`", descriptor.digest()))
}

fn config_platform(config: &ImageConfiguration) -> Platform {
    Platform::new(
        &config.os().to_string(),
        &config.architecture().to_string(),
        config.variant().as_deref(),
    )
}

/// The stored document with `digest` and `size` added after its `mediaType`, as
/// `docker buildx imagetools inspect --format '{{json .Manifest}}'` prints it.
fn with_digest_and_size(raw: &RawManifest) -> anyhow::Result<Value> {
    let stored: Value =
        serde_json::from_slice(&raw.bytes).context("the stored document is not JSON")?;
    let Value::Object(fields) = stored else {
        anyhow::bail!("the stored document is not a JSON object");
    };
    let mut out = serde_json::Map::new();
    let mut added = false;
    let add = |out: &mut serde_json::Map<String, Value>| {
        out.insert("digest".into(), Value::String(raw.digest.to_string()));
        out.insert("size".into(), Value::from(raw.bytes.len()));
    };
    for (key, value) in fields {
        let after_media_type = key == "mediaType";
        out.insert(key, value);
        if after_media_type {
            add(&mut out);
            added = true;
        }
    }
    if !added {
        add(&mut out);
    }
    Ok(Value::Object(out))
}

/// Name, media type and digest, then one row per entry, then the summary line.
fn root_table(source: &dyn ImageSource, image: &Image) -> anyhow::Result<String> {
    let raw = image.raw();
    let mut text = header(&source.describe(), raw);
    match image {
        Image::Index { entries, .. } => {
            let mut table = plain_table(&["PLATFORM", "DIGEST", "SIZE", "TYPE"]);
            for entry in entries {
                let platform = entry
                    .platform
                    .as_ref()
                    .map_or_else(|| "-".to_string(), |p| p.to_string());
                table.add_row(vec![
                    platform,
                    entry.digest.to_string(),
                    entry.descriptor.size().to_string(),
                    entry_type(entry),
                ]);
            }
            text.push('\n');
            text.push_str(&render_table(&table));
            text.push('\n');
            text.push_str(&summary(image));
        }
        Image::Manifest { manifest, .. } => {
            let platform = config_platform(&read_config(source, manifest.config())?);
            text.push_str(&format!("Platform:  {platform}\n\n"));
            text.push_str(&format!(
                "single-platform image ({platform}), not an index: Docker Desktop users on the \
                 other CPU cannot install it\n"
            ));
        }
    }
    Ok(text)
}

fn header(name: &str, raw: &RawManifest) -> String {
    format!(
        "Name:      {name}\nMediaType: {}\nDigest:    {}\n",
        raw.media_type, raw.digest
    )
}

fn entry_type(entry: &IndexEntry) -> String {
    match &entry.kind {
        IndexEntryKind::Attestation {
            describes: Some(target),
        } => {
            format!("attestation of {}", target.get(..19).unwrap_or(target))
        }
        IndexEntryKind::Attestation { describes: None } => "attestation".into(),
        IndexEntryKind::Runnable | IndexEntryKind::Other => {
            short_media_type(entry.descriptor.media_type().as_ref())
        }
    }
}

fn short_media_type(media_type: &str) -> String {
    match media_type {
        media_types::OCI_MANIFEST => "oci manifest".into(),
        media_types::DOCKER_MANIFEST => "docker manifest".into(),
        media_types::OCI_INDEX => "oci index".into(),
        media_types::DOCKER_LIST => "docker manifest list".into(),
        other => other.into(),
    }
}

/// The last line: runnable platforms, attestations, and what Docker Desktop would miss.
fn summary(image: &Image) -> String {
    let platforms = image.runnable_platforms();
    let Image::Index { entries, .. } = image else {
        return String::new();
    };
    let attestations = entries
        .iter()
        .filter(|e| matches!(e.kind, IndexEntryKind::Attestation { .. }))
        .count();
    let mut line = if platforms.is_empty() {
        "no runnable platform".to_string()
    } else {
        format!(
            "{} runnable: {}",
            plural(platforms.len(), "platform"),
            platforms.join(", ")
        )
    };
    if attestations > 0 {
        line.push_str(&format!(" (and {})", plural(attestations, "attestation")));
    }
    let runnable: Vec<Platform> = image
        .runnable()
        .filter_map(|e| e.platform.clone())
        .collect();
    let missing: Vec<&str> = DESKTOP_PLATFORMS
        .iter()
        .copied()
        .filter(|wanted| {
            let wanted: Platform = wanted.parse().expect("a valid platform");
            PlatformMatcher::new(&wanted).choose(&runnable).is_none()
        })
        .collect();
    if !missing.is_empty() {
        line.push_str(&format!(
            "; missing for Docker Desktop: {}",
            missing.join(", ")
        ));
    }
    line.push('\n');
    line
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// `--platform`: the chosen manifest and its config.
fn show_platform(
    args: &InspectArgs,
    printer: Printer,
    source: &dyn ImageSource,
    manifest: &RawManifest,
    wanted: &Platform,
) -> anyhow::Result<ExitCode> {
    if args.raw {
        printer.bytes(&manifest.bytes)?;
        return Ok(ExitCode::SUCCESS);
    }
    let Image::Manifest {
        manifest: parsed, ..
    } = manifest.parse(&format!("manifest `{}`", manifest.digest))?
    else {
        anyhow::bail!("the entry chosen for {wanted} is an index, not a manifest");
    };
    if MediaKind::of(parsed.config().media_type().as_ref()) != MediaKind::Config {
        anyhow::bail!(
            "the manifest chosen for {wanted} has a config of type `{}`, not an image config",
            parsed.config().media_type()
        );
    }
    let config_bytes = source.blob_bytes(parsed.config())?;
    let config: Value = serde_json::from_slice(&config_bytes)
        .with_context(|| format!("malformed image config `{}`", parsed.config().digest()))?;

    if printer.format == OutputFormat::Json {
        let stored: Value = serde_json::from_slice(&manifest.bytes)?;
        printer.json(&serde_json::json!({
            "name": source.describe(),
            "digest": manifest.digest.to_string(),
            "manifest": stored,
            "image": config,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }

    let mut text = header(&source.describe(), manifest);
    let platform = Platform::new(
        config["os"].as_str().unwrap_or(""),
        config["architecture"].as_str().unwrap_or(""),
        config["variant"].as_str(),
    );
    text.push_str(&format!("Platform:  {platform}\n"));
    text.push_str(&format!(
        "Config:    {} ({} bytes)\n",
        parsed.config().digest(),
        parsed.config().size()
    ));
    if let Some(created) = config["created"].as_str() {
        text.push_str(&format!("Created:   {created}\n"));
    }
    let mut table = plain_table(&["LAYER", "DIGEST", "SIZE", "TYPE"]);
    for (number, layer) in parsed.layers().iter().enumerate() {
        table.add_row(vec![
            (number + 1).to_string(),
            layer.digest().to_string(),
            layer.size().to_string(),
            layer.media_type().to_string(),
        ]);
    }
    text.push('\n');
    text.push_str(&render_table(&table));
    if let Some(labels) = config["config"]["Labels"]
        .as_object()
        .filter(|l| !l.is_empty())
    {
        text.push_str("\nLabels:\n");
        let mut keys: Vec<&String> = labels.keys().collect();
        keys.sort();
        for key in keys {
            let value = labels[key].as_str().unwrap_or_default();
            text.push_str(&format!("  {key}={value}\n"));
        }
    }
    printer.data(&text)?;
    Ok(ExitCode::SUCCESS)
}
