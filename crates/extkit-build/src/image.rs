//! Base images: the variant for a platform, its layers kept as stored, its configuration, and
//! (only when a `COPY --from` needs it) its file system.

use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

use extkit_oci::spec::Descriptor;
use extkit_oci::transport::ImageSource;
use extkit_oci::{Digest, Image, LayerBlob, Platform, PlatformMatcher};
use serde_json::Value;
use tracing::debug;

use crate::error::{BuildError, Place};
use crate::tree::{Content, Node, NodeKind, Tree, clean};
use extkit_layer::{Capture, EntryKind, FileQuery, FileTree, scan_layer};

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

impl BaseImage {
    /// The folders and links of a base image, with their modes and owners: a `COPY` onto a
    /// folder of the base copies into it (and keeps its parents as they are), and a path
    /// through a link of the base is followed, as on the file system BuildKit copies onto.
    pub fn folders(&self, place: &Place, name: &str) -> Result<Tree, BuildError> {
        let mut query = FileQuery::new();
        query.add_tree("", Capture::Stat);
        let mut files = FileTree::new();
        for layer in &self.layers {
            let changes = scan_layer(&layer.bytes[..], &query, &layer.digest.to_string()).map_err(
                |error| place.invalid(format!("cannot read the base image `{name}`: {error}")),
            )?;
            files.apply(&changes);
        }
        let mut tree = Tree::new();
        for (path, entry) in files.beneath("") {
            let kind = match &entry.kind {
                EntryKind::Directory => NodeKind::Directory,
                EntryKind::Symlink(target) => NodeKind::Symlink(target.clone()),
                _ => continue,
            };
            let node = Node {
                kind,
                mode: entry.mode,
                uid: entry.uid,
                gid: entry.gid,
            };
            tree.insert(path, node);
        }
        Ok(tree)
    }
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn failure(message: String) -> Failure {
    message.into()
}

/// Reads the variant of the image for `platform`: manifest, config and layers.
pub(crate) fn load(source: &dyn ImageSource, platform: &Platform) -> Result<BaseImage, Failure> {
    let root = source.root()?;
    let root_image = root.parse(&source.describe())?;
    let manifest = match &root_image {
        Image::Manifest { manifest, .. } => manifest.clone(),
        Image::Index { entries, .. } => {
            let Some((chosen, _)) = root_image.choose(&PlatformMatcher::new(platform)) else {
                return Err(failure(format!(
                    "it has no variant for `{platform}` (it has: {})",
                    root_image.runnable_platforms().join(", ")
                )));
            };
            debug!(image = %source.describe(), %platform, entry = chosen, "chose the base image \
                variant");
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

/// An entry of a layer or archive whose name or link target is not UTF-8.
#[derive(Debug, thiserror::Error)]
#[error("the name of `{path}` is not UTF-8")]
pub(crate) struct NotUtf8Entry {
    /// The entry's path, invalid bytes shown as `\u{FFFD}`.
    pub path: String,
    /// When the name is UTF-8 but the link target is not: the target, shown the same way.
    pub target: Option<String>,
}

/// The error for a layer of `origin` (`the image `alpine``, `stage `build``…) that could not
/// be read: a name that is not UTF-8 is named, anything else made by `otherwise`.
pub(crate) fn layer_error(
    place: &Place,
    origin: &str,
    failure: Failure,
    otherwise: impl FnOnce(Failure) -> BuildError,
) -> BuildError {
    match failure.downcast::<NotUtf8Entry>() {
        Ok(entry) => match entry.target {
            None => BuildError::LayerNameNotUtf8 {
                file: place.file.clone(),
                line: place.line,
                path: entry.path,
                origin: origin.to_string(),
            },
            Some(target) => BuildError::LayerLinkNotUtf8 {
                file: place.file.clone(),
                line: place.line,
                path: entry.path,
                target,
                origin: origin.to_string(),
            },
        },
        Err(failure) => otherwise(failure),
    }
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
        // Layers name entries in UTF-8 here: lossy names would merge `a\xff` and `a\xfe`
        // into one entry and lose a file, so such a name (or link target) is refused.
        let path = match std::str::from_utf8(&entry.path_bytes()) {
            Ok(name) => clean(&format!("{under}/{name}")),
            Err(_) => {
                return Err(Box::new(NotUtf8Entry {
                    path: clean(&format!(
                        "{under}/{}",
                        String::from_utf8_lossy(&entry.path_bytes())
                    )),
                    target: None,
                }));
            }
        };
        let link_name = match entry.link_name_bytes() {
            None => String::new(),
            Some(bytes) => match std::str::from_utf8(&bytes) {
                Ok(name) => name.to_string(),
                Err(_) => {
                    return Err(Box::new(NotUtf8Entry {
                        path,
                        target: Some(String::from_utf8_lossy(&bytes).into_owned()),
                    }));
                }
            },
        };
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
            tar::EntryType::Symlink => NodeKind::Symlink(link_name),
            tar::EntryType::Link => {
                // A hard link becomes a copy of what it links to.
                let target = clean(&format!("{under}/{link_name}"));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar with one entry, its name (and link target) given as raw bytes.
    fn tar_with(name: &[u8], link: Option<&[u8]>) -> Vec<u8> {
        let mut header = tar::Header::new_gnu();
        {
            let raw = header.as_old_mut();
            raw.name[..name.len()].copy_from_slice(name);
            if let Some(link) = link {
                raw.linkname[..link.len()].copy_from_slice(link);
            }
        }
        header.set_entry_type(if link.is_some() {
            tar::EntryType::Symlink
        } else {
            tar::EntryType::Regular
        });
        header.set_size(0);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_cksum();
        let mut builder = tar::Builder::new(Vec::new());
        builder.append(&header, &[][..]).unwrap();
        builder.into_inner().unwrap()
    }

    #[test]
    fn a_name_or_link_target_that_is_not_utf8_is_refused_not_made_lossy() {
        let place = Place {
            file: "Dockerfile".into(),
            line: 4,
        };
        let error = |bytes: Vec<u8>| {
            let failure = apply_layer(&mut Tree::new(), &bytes[..], "").unwrap_err();
            layer_error(&place, "the image `base`", failure, |_| unreachable!()).to_string()
        };
        assert_eq!(
            error(tar_with(b"etc/bad\xff", None)),
            "Dockerfile:4: the name of `etc/bad\u{FFFD}` in the image `base` is not UTF-8"
        );
        assert_eq!(
            error(tar_with(b"link", Some(b"to\xfe"))),
            "Dockerfile:4: the link `link` in the image `base` points to `to\u{FFFD}`, which is \
             not UTF-8"
        );
        let mut tree = Tree::new();
        apply_layer(&mut tree, &tar_with(b"ok", Some(b"fine"))[..], "").unwrap();
        assert_eq!(
            tree.get("ok").unwrap().kind,
            NodeKind::Symlink("fine".into())
        );
    }
}
