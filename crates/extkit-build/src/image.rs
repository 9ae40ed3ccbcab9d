//! Base images: the variant for a platform, its layers kept as stored, its configuration, and
//! (only when a `COPY --from` needs it) its file system.

use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

use extkit_oci::spec::Descriptor;
use extkit_oci::transport::ImageSource;
use extkit_oci::{Digest, Image, IndexEntryKind, LayerBlob, Platform, PlatformMatcher};
use serde_json::Value;
use tracing::debug;

use crate::tree::{Content, Node, NodeKind, Tree, clean};

/// Opens an image by the name a Dockerfile gives it (`alpine:3.20`, `oci:DIR:TAG`…).
pub type ImageOpener<'a> = dyn Fn(&str) -> Result<Box<dyn ImageSource>, Box<dyn std::error::Error + Send + Sync>>
    + Sync
    + 'a;

/// One platform's variant of a base image.
#[derive(Clone, Debug)]
pub(crate) struct BaseImage {
    /// Its layers as stored, base first.
    pub layers: Vec<LayerBlob>,
    /// Its whole configuration document.
    pub config: Value,
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn failure(message: String) -> Failure {
    message.into()
}

/// Reads the variant of the image for `platform`: manifest, config and layers.
pub(crate) fn load(source: &dyn ImageSource, platform: &Platform) -> Result<BaseImage, Failure> {
    let root = source.root()?;
    let manifest = match root.parse(&source.describe())? {
        Image::Manifest { manifest, .. } => manifest,
        Image::Index { entries, .. } => {
            let runnable: Vec<Platform> = entries
                .iter()
                .map(|entry| match (&entry.kind, &entry.platform) {
                    (IndexEntryKind::Runnable, Some(platform)) => platform.clone(),
                    _ => Platform::new("unknown", "unknown", None),
                })
                .collect();
            let Some(chosen) = PlatformMatcher::new(platform).choose(&runnable) else {
                let available: Vec<String> = entries
                    .iter()
                    .filter(|e| e.kind == IndexEntryKind::Runnable)
                    .filter_map(|e| e.platform.as_ref().map(|p| p.to_string()))
                    .collect();
                return Err(failure(format!(
                    "it has no variant for `{platform}` (it has: {})",
                    available.join(", ")
                )));
            };
            debug!(image = %source.describe(), %platform, entry = chosen, "chose the base image variant");
            let raw = source.manifest(&entries[chosen].descriptor)?;
            match raw.parse(&format!("manifest `{}`", raw.digest))? {
                Image::Manifest { manifest, .. } => manifest,
                Image::Index { .. } => return Err(failure("its index nests another index".into())),
            }
        }
    };
    let config_bytes = source.blob_bytes(manifest.config())?;
    let config: Value = serde_json::from_slice(&config_bytes)?;
    if let Some(architecture) = config.get("architecture").and_then(Value::as_str) {
        let found = Platform::new(
            config.get("os").and_then(Value::as_str).unwrap_or("linux"),
            architecture,
            config.get("variant").and_then(Value::as_str),
        );
        if !PlatformMatcher::new(platform).matches(&found) {
            return Err(failure(format!("it is for `{found}`, not `{platform}`")));
        }
    }
    let diff_ids: Vec<String> = config["rootfs"]["diff_ids"]
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(|id| id.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if diff_ids.len() != manifest.layers().len() {
        return Err(failure(format!(
            "its config lists {} layers and its manifest {}",
            diff_ids.len(),
            manifest.layers().len()
        )));
    }
    let mut layers = Vec::new();
    for (descriptor, diff_id) in manifest.layers().iter().zip(diff_ids) {
        layers.push(layer(source, descriptor, &diff_id)?);
    }
    Ok(BaseImage { layers, config })
}

fn layer(
    source: &dyn ImageSource,
    descriptor: &Descriptor,
    diff_id: &str,
) -> Result<LayerBlob, Failure> {
    // Read whole and verified against the descriptor's digest, which is the blob's.
    let bytes = source.blob_bytes(descriptor)?;
    Ok(LayerBlob {
        media_type: descriptor.media_type().to_string(),
        bytes: bytes.into(),
        digest: Digest::try_from(descriptor.digest())?,
        diff_id: diff_id.parse::<Digest>()?,
    })
}

/// The file system the layers make, whiteouts applied.
pub(crate) fn tree_of(layers: &[LayerBlob]) -> Result<Tree, Failure> {
    let mut tree = Tree::new();
    for layer in layers {
        apply_layer(&mut tree, &layer.bytes[..], "")?;
    }
    Ok(tree)
}

/// Applies a layer's tar (plain, gzip or zstd) to `tree`, under the folder `under`.
pub(crate) fn apply_layer(tree: &mut Tree, bytes: impl Read, under: &str) -> Result<(), Failure> {
    let mut buffered = BufReader::new(bytes);
    let magic = buffered.fill_buf()?.to_vec();
    let reader: Box<dyn Read> = if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(buffered))
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?)
    } else {
        Box::new(buffered)
    };
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = clean(&format!("{under}/{}", entry.path()?.to_string_lossy()));
        let (folder, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        if name == ".wh..wh..opq" {
            tree.remove_beneath(folder);
            continue;
        }
        if let Some(deleted) = name.strip_prefix(".wh.") {
            tree.remove(&format!("{folder}/{deleted}"));
            continue;
        }
        let header = entry.header();
        let mode = header.mode()? & 0o7777;
        let (uid, gid) = (header.uid()?, header.gid()?);
        let kind = match header.entry_type() {
            tar::EntryType::Directory => NodeKind::Directory,
            tar::EntryType::Symlink => NodeKind::Symlink(
                entry
                    .link_name()?
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
            ),
            tar::EntryType::Link => {
                // A hard link becomes a copy of what it links to.
                let target = clean(&format!(
                    "{under}/{}",
                    entry.link_name()?.unwrap_or_default().to_string_lossy()
                ));
                match tree.get(&target) {
                    Some(node) => node.kind.clone(),
                    None => continue,
                }
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mut content = Vec::with_capacity(entry.size() as usize);
                entry.read_to_end(&mut content)?;
                NodeKind::File(Content::Memory(Arc::new(content)))
            }
            _ => continue,
        };
        if path.is_empty() {
            continue;
        }
        tree.insert(
            &path,
            Node {
                kind,
                mode,
                uid,
                gid,
            },
        );
    }
    Ok(())
}
