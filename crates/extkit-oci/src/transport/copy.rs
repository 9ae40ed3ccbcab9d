//! Copying images between transports.

use std::collections::HashSet;

use oci_spec::image::{Descriptor, ImageConfiguration};
use tracing::debug;

use super::{BlobState, ImageDestination, ImageSource, canonical_json};
use crate::image::parse_json;
use crate::{
    Digest, Error, Image, IndexEntryKind, Platform, PlatformMatcher, RawManifest, Result,
    media_types,
};

/// What a copy did. A blob that several manifests share (a layer common to two platforms)
/// is counted once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// The digest of the root written (the same as the source's unless platforms were chosen).
    pub digest: Option<Digest>,
    /// Blobs written.
    pub blobs_written: usize,
    /// Blobs the destination already had, sound.
    pub blobs_skipped: usize,
    /// Blobs the destination had corrupt, written again (also counted in `blobs_written`).
    pub blobs_repaired: usize,
    /// The blobs this copy has written or found sound, so that a shared one is neither read
    /// back nor asked for again.
    done: HashSet<Digest>,
}

/// Copies an image with all its platforms, or only `platforms` when given.
///
/// Without a platform list the root is written byte for byte, so its digest is kept. With
/// one, a new index holds only the chosen entries and the attestations that describe them,
/// each entry kept as it was stored.
pub fn copy_image(
    source: &dyn ImageSource,
    mut destination: Box<dyn ImageDestination>,
    platforms: Option<&[Platform]>,
) -> Result<CopyReport> {
    let root = source.root()?;
    let image = root.parse(&format!("the root of {}", source.describe()))?;
    let mut report = CopyReport::default();
    let written_root = match (&image, platforms) {
        (_, None) => {
            copy_tree(source, destination.as_mut(), &root, &mut report)?;
            root
        }
        (Image::Manifest { manifest, .. }, Some(platforms)) => {
            let config = read_config(source, manifest.config())?;
            let platform = config_platform(&config);
            if let Some(missing) = platforms
                .iter()
                .find(|p| !PlatformMatcher::new(p).matches(&platform))
            {
                return Err(Error::PlatformMissing {
                    image: source.describe(),
                    platform: missing.to_string(),
                    available: vec![platform.to_string()],
                });
            }
            copy_tree(source, destination.as_mut(), &root, &mut report)?;
            root
        }
        (Image::Index { raw, entries, .. }, Some(platforms)) => {
            let mut keep = vec![false; entries.len()];
            let mut chosen_entries = Vec::new();
            for wanted in platforms {
                let Some((chosen, _)) = image.choose(&PlatformMatcher::new(wanted)) else {
                    return Err(Error::PlatformMissing {
                        image: source.describe(),
                        platform: wanted.to_string(),
                        available: image.runnable_platforms(),
                    });
                };
                keep[chosen] = true;
                chosen_entries.push(chosen);
            }
            let kept_digests: Vec<String> = entries
                .iter()
                .zip(&keep)
                .filter(|(_, keep)| **keep)
                .map(|(entry, _)| entry.digest.to_string())
                .collect();
            for (entry, keep) in entries.iter().zip(keep.iter_mut()) {
                if let IndexEntryKind::Attestation {
                    describes: Some(target),
                } = &entry.kind
                {
                    *keep = kept_digests.contains(target);
                }
            }
            if destination.holds_one_platform() && platforms.len() == 1 {
                let manifest = source.manifest(&entries[chosen_entries[0]].descriptor)?;
                copy_tree(source, destination.as_mut(), &manifest, &mut report)?;
                manifest
            } else {
                let new_root = filtered_index(raw, &keep)?;
                copy_tree(source, destination.as_mut(), &new_root, &mut report)?;
                new_root
            }
        }
    };
    report.digest = Some(written_root.digest.clone());
    destination.commit(&written_root)?;
    Ok(report)
}

/// The index `raw` with only the entries marked in `keep`, every other byte of each entry and
/// of the index kept in its stored order.
fn filtered_index(raw: &RawManifest, keep: &[bool]) -> Result<RawManifest> {
    let mut value: serde_json::Value = parse_json(&raw.bytes, "index")?;
    if let Some(manifests) = value.get_mut("manifests").and_then(|m| m.as_array_mut()) {
        let mut flags = keep.iter();
        manifests.retain(|_| *flags.next().unwrap_or(&false));
    }
    let bytes = serde_json::to_vec(&value).expect("a JSON value serialises");
    Ok(RawManifest::new(bytes, Some(&raw.media_type)))
}

/// Copies a manifest or index and everything below it, children before parents.
fn copy_tree(
    source: &dyn ImageSource,
    destination: &mut dyn ImageDestination,
    manifest: &RawManifest,
    report: &mut CopyReport,
) -> Result<()> {
    match manifest.parse(&format!("manifest `{}`", manifest.digest))? {
        Image::Index { entries, .. } => {
            for entry in entries {
                let child = source.manifest(&entry.descriptor)?;
                copy_tree(source, destination, &child, report)?;
            }
        }
        Image::Manifest {
            manifest: parsed, ..
        } => {
            let blobs = std::iter::once(parsed.config()).chain(parsed.layers().iter());
            for blob in blobs {
                copy_blob(source, destination, blob, report)?;
            }
        }
    }
    destination.put_manifest(manifest)
}

fn copy_blob(
    source: &dyn ImageSource,
    destination: &mut dyn ImageDestination,
    descriptor: &Descriptor,
    report: &mut CopyReport,
) -> Result<()> {
    let digest = Digest::try_from(descriptor.digest())?;
    if report.done.contains(&digest) {
        return Ok(());
    }
    let state = destination.blob_state(descriptor)?;
    match state {
        BlobState::Sound => {
            debug!(%digest, "blob already present, skipped");
            report.blobs_skipped += 1;
            report.done.insert(digest);
            return Ok(());
        }
        BlobState::Corrupt => debug!(%digest, "blob present but corrupt, written again"),
        BlobState::Missing => {}
    }
    let mut reader = source.blob(descriptor)?;
    destination.put_blob(descriptor, &mut reader)?;
    report.blobs_written += 1;
    if state == BlobState::Corrupt {
        report.blobs_repaired += 1;
    }
    report.done.insert(digest);
    Ok(())
}

/// Reads and parses an image configuration.
pub(crate) fn read_config(
    source: &dyn ImageSource,
    descriptor: &Descriptor,
) -> Result<ImageConfiguration> {
    let bytes = source.blob_bytes(descriptor)?;
    parse_json(&bytes, &format!("config `{}`", descriptor.digest()))
}

/// The platform a configuration declares.
pub(crate) fn config_platform(config: &ImageConfiguration) -> Platform {
    Platform {
        os: config.os().to_string(),
        architecture: config.architecture().to_string(),
        variant: config.variant().clone().filter(|v| !v.is_empty()),
        os_version: config.os_version().clone(),
    }
}

/// Joins single-platform images into one OCI index written to `destination`.
///
/// Each source's root must be a manifest; its platform is taken from its config. The entries
/// keep the order of `sources`.
pub fn join_manifests(
    sources: &[&dyn ImageSource],
    mut destination: Box<dyn ImageDestination>,
) -> Result<RawManifest> {
    let mut report = CopyReport::default();
    let mut descriptors = Vec::new();
    for source in sources {
        let root = source.root()?;
        let Image::Manifest { manifest, .. } = root.parse(&source.describe())? else {
            return Err(Error::UnsupportedMediaType {
                media_type: root.media_type.clone(),
                what: format!(
                    "{} (only single-platform images can be joined)",
                    source.describe()
                ),
            });
        };
        let config = read_config(*source, manifest.config())?;
        let platform = config_platform(&config);
        copy_tree(*source, destination.as_mut(), &root, &mut report)?;
        let mut descriptor = root.descriptor();
        let mut spec_platform = oci_spec::image::PlatformBuilder::default()
            .os(platform.os.as_str())
            .architecture(platform.architecture.as_str())
            .build()
            .expect("os and architecture are set");
        spec_platform.set_variant(platform.variant.clone());
        descriptor.set_platform(Some(spec_platform));
        descriptors.push(descriptor);
    }
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_types::OCI_INDEX,
        "manifests": descriptors,
    });
    let root = RawManifest::new(canonical_json(&index), None);
    destination.commit(&root)?;
    Ok(root)
}
