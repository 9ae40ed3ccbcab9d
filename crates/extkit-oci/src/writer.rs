//! Writing new images: layers → config → manifest → index, into any destination.

use bytes::Bytes;
use oci_spec::image::Descriptor;
use serde_json::{Value, json};

use crate::transport::{ImageDestination, canonical_json};
use crate::{Digest, Platform, RawManifest, Result, media_types, sha256_digest};

/// A layer ready to store: its compressed bytes, their digest and the digest of the
/// uncompressed tar.
///
/// The bytes are shared, not copied, when the blob is cloned (a layer every platform has is
/// held once), and their digest is computed once, by [`LayerBlob::new`].
#[derive(Clone, Debug)]
pub struct LayerBlob {
    /// The layer's media type, which says its compression.
    pub media_type: String,
    /// The bytes as stored (compressed or not).
    pub bytes: Bytes,
    /// The digest of `bytes`; [`LayerBlob::new`] computes it, so it matches them.
    pub digest: Digest,
    /// The digest of the uncompressed tar, the config's `diff_id`.
    pub diff_id: Digest,
}

impl LayerBlob {
    /// A blob of `bytes`, whose digest is computed here.
    pub fn new(media_type: impl Into<String>, bytes: impl Into<Bytes>, diff_id: Digest) -> Self {
        let bytes = bytes.into();
        LayerBlob {
            media_type: media_type.into(),
            digest: sha256_digest(&bytes),
            bytes,
            diff_id,
        }
    }

    fn descriptor(&self) -> Descriptor {
        Descriptor::new(
            self.media_type.as_str().into(),
            self.bytes.len() as u64,
            &self.digest,
        )
    }
}

/// `seconds` since 1970 as RFC 3339 in UTC to the second, such as `1970-01-01T00:00:00Z`:
/// the form of an image config's `created`. `None` past the year 9999, which the form cannot
/// write.
pub fn rfc3339(seconds: u64) -> Option<String> {
    let seconds = i64::try_from(seconds).ok()?;
    let time = chrono::DateTime::from_timestamp(seconds, 0)?;
    if chrono::Datelike::year(&time) > 9999 {
        return None;
    }
    Some(time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// One platform's image: its layers, base first, and its container configuration.
#[derive(Clone, Debug)]
pub struct PlatformImage {
    /// The platform the image is for.
    pub platform: Platform,
    /// The `config` object of the image configuration (`Env`, `Cmd`, `Labels`, …).
    pub config: Value,
    /// The `created` time, RFC 3339; `None` leaves it out.
    pub created: Option<String>,
    /// The layers, base first.
    pub layers: Vec<LayerBlob>,
}

/// Writes platform images and the index that joins them, with deterministic JSON: the same
/// input always gives the same digests.
#[derive(Clone, Debug, Default)]
pub struct ImageWriter {
    images: Vec<PlatformImage>,
}

impl ImageWriter {
    /// An empty writer.
    pub fn new() -> Self {
        ImageWriter::default()
    }

    /// Adds a platform image; the index lists them in the order added.
    pub fn add(&mut self, image: PlatformImage) -> &mut Self {
        self.images.push(image);
        self
    }

    /// Writes every blob, manifest and the index to `destination`, and names the index.
    /// Blobs the destination already has, such as a layer shared by two platforms, are
    /// written once.
    pub fn write(&self, mut destination: Box<dyn ImageDestination>) -> Result<RawManifest> {
        let mut entries = Vec::new();
        for image in &self.images {
            let manifest = write_platform_image(destination.as_mut(), image)?;
            let platform = &image.platform;
            let mut entry = json!({
                "mediaType": media_types::OCI_MANIFEST,
                "digest": manifest.digest.to_string(),
                "size": manifest.bytes.len(),
                "platform": { "os": platform.os, "architecture": platform.architecture },
            });
            if let Some(variant) = &platform.variant {
                entry["platform"]["variant"] = json!(variant);
            }
            entries.push(entry);
        }
        let index = json!({
            "schemaVersion": 2,
            "mediaType": media_types::OCI_INDEX,
            "manifests": entries,
        });
        let root = RawManifest::new(canonical_json(&index), None);
        destination.commit(&root)?;
        Ok(root)
    }
}

/// Writes one platform's layers, config and manifest; gives the manifest.
fn write_platform_image(
    destination: &mut dyn ImageDestination,
    image: &PlatformImage,
) -> Result<RawManifest> {
    for layer in &image.layers {
        if !destination.has_blob(&layer.digest)? {
            destination.put_blob_bytes(&layer.descriptor(), &layer.bytes)?;
        }
    }

    let diff_ids: Vec<String> = image.layers.iter().map(|l| l.diff_id.to_string()).collect();
    let mut config = json!({
        "architecture": image.platform.architecture,
        "os": image.platform.os,
        "config": image.config,
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
    });
    if let Some(variant) = &image.platform.variant {
        config["variant"] = json!(variant);
    }
    if let Some(created) = &image.created {
        config["created"] = json!(created);
    }
    let config_bytes = canonical_json(&config);
    let config_digest = sha256_digest(&config_bytes);
    let config_descriptor = json!({
        "mediaType": media_types::OCI_CONFIG,
        "digest": config_digest.to_string(),
        "size": config_bytes.len(),
    });
    if !destination.has_blob(&config_digest)? {
        let descriptor = Descriptor::new(
            media_types::OCI_CONFIG.into(),
            config_bytes.len() as u64,
            &config_digest,
        );
        destination.put_blob(&descriptor, &mut &config_bytes[..])?;
    }

    let layers: Vec<Value> = image
        .layers
        .iter()
        .map(|layer| {
            json!({
                "mediaType": layer.media_type,
                "digest": layer.digest.to_string(),
                "size": layer.bytes.len(),
            })
        })
        .collect();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media_types::OCI_MANIFEST,
        "config": config_descriptor,
        "layers": layers,
    });
    let manifest = RawManifest::new(canonical_json(&manifest), None);
    destination.put_manifest(&manifest)?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn times_are_rfc3339_in_utc() {
        assert_eq!(rfc3339(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            rfc3339(951_782_400).as_deref(),
            Some("2000-02-29T00:00:00Z")
        );
        assert_eq!(
            rfc3339(1_700_000_000).as_deref(),
            Some("2023-11-14T22:13:20Z")
        );
        assert_eq!(
            rfc3339(1_796_334_245).as_deref(),
            Some("2026-12-03T21:44:05Z")
        );
        assert_eq!(
            rfc3339(253_402_300_799).as_deref(),
            Some("9999-12-31T23:59:59Z")
        );
        assert_eq!(rfc3339(253_402_300_800), None);
        assert_eq!(rfc3339(u64::MAX), None);
    }
}
