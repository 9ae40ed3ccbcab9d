//! Gathering [`ImageFacts`] from an image: configs for the labels, and from the layers only the
//! files `metadata.json` names, streamed once per layer with whiteouts honoured.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use extkit_layer::{Capture, EntryKind, FileQuery, FileTree, LayerChanges, scan_layer};
use extkit_oci::spec::Descriptor;
use extkit_oci::transport::ImageSource;
use extkit_oci::{Image, IndexEntryKind, Platform};
use serde_json::Value;
use tracing::debug;

use crate::input::{
    EntryFacts, EntryKind as FactsEntryKind, FileFacts, FileKind, ImageFacts, ReadKind,
    VariantFacts, WantedFile,
};

/// The largest `metadata.json` or compose file read.
const TEXT_LIMIT: u64 = 1 << 20;
/// The largest host binary read to tell what it is.
const BINARY_LIMIT: u64 = 512 << 20;
/// How many symbolic links are followed for one path.
const MAX_LINKS: usize = 8;

/// What can stop facts from being gathered.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The image could not be read.
    #[error(transparent)]
    Image(#[from] extkit_oci::Error),

    /// A layer could not be read.
    #[error(transparent)]
    Layer(#[from] extkit_layer::ReadError),

    /// A config is not valid JSON.
    #[error("malformed image config `{digest}`")]
    Config {
        /// The config's digest.
        digest: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
}

/// Reads what the rules need from `source`. `wanted` tells, from a variant's
/// `metadata.json`, which paths to read; `tag` is the tag the image was named by.
pub fn collect_facts(
    source: &dyn ImageSource,
    tag: Option<&str>,
    wanted: &dyn Fn(&[u8]) -> Vec<WantedFile>,
) -> Result<ImageFacts, CollectError> {
    let root = source.root()?;
    let image = root.parse(&format!("the root of {}", source.describe()))?;
    let mut reader = LayerCache::default();
    let mut facts = ImageFacts {
        reference: source.describe(),
        digest: Some(root.digest.to_string()),
        tag: tag.map(str::to_string),
        is_index: matches!(image, Image::Index { .. }),
        entries: Vec::new(),
    };

    match &image {
        Image::Index { entries, .. } => {
            for entry in entries {
                let kind = match &entry.kind {
                    IndexEntryKind::Runnable => FactsEntryKind::Runnable,
                    IndexEntryKind::Attestation { describes } => FactsEntryKind::Attestation {
                        describes: describes.clone(),
                    },
                    IndexEntryKind::Other => FactsEntryKind::Other,
                };
                let variant = match kind {
                    FactsEntryKind::Runnable => {
                        let manifest = source.manifest(&entry.descriptor)?;
                        Some(read_variant(source, &manifest, &mut reader, wanted)?)
                    }
                    _ => None,
                };
                facts.entries.push(EntryFacts {
                    digest: entry.digest.to_string(),
                    platform: entry.platform.clone(),
                    kind,
                    variant,
                });
            }
        }
        Image::Manifest { raw, .. } => {
            let variant = read_variant(source, raw, &mut reader, wanted)?;
            facts.entries.push(EntryFacts {
                digest: raw.digest.to_string(),
                platform: None,
                kind: FactsEntryKind::Runnable,
                variant: Some(variant),
            });
        }
    }
    Ok(facts)
}

/// Reads one platform's config and wanted files.
fn read_variant(
    source: &dyn ImageSource,
    manifest: &extkit_oci::RawManifest,
    reader: &mut LayerCache,
    wanted: &dyn Fn(&[u8]) -> Vec<WantedFile>,
) -> Result<VariantFacts, CollectError> {
    let Image::Manifest {
        manifest: parsed, ..
    } = manifest.parse(&format!("manifest `{}`", manifest.digest))?
    else {
        return Err(extkit_oci::Error::UnsupportedMediaType {
            media_type: manifest.media_type.clone(),
            what: format!("manifest `{}` (an index inside an index)", manifest.digest),
        }
        .into());
    };
    let config_bytes = source.blob_bytes(parsed.config())?;
    let config: Value =
        serde_json::from_slice(&config_bytes).map_err(|source| CollectError::Config {
            digest: parsed.config().digest().to_string(),
            source,
        })?;
    let labels: BTreeMap<String, String> = config["config"]["Labels"]
        .as_object()
        .map(|labels| {
            labels
                .iter()
                .map(|(key, value)| (key.clone(), value.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let is_set = |value: &Value| value.as_array().is_some_and(|items| !items.is_empty());
    let has_command = is_set(&config["config"]["Cmd"]) || is_set(&config["config"]["Entrypoint"]);
    let config_platform = Platform::new(
        config["os"].as_str().unwrap_or_default(),
        config["architecture"].as_str().unwrap_or_default(),
        config["variant"].as_str(),
    );

    let layers = parsed.layers();
    let metadata_wanted = [WantedFile {
        path: "/metadata.json".into(),
        read: ReadKind::Content,
    }];
    let metadata = reader
        .read(source, layers, &metadata_wanted)?
        .remove("/metadata.json");
    let files = match metadata.as_ref().and_then(|m| m.content.as_deref()) {
        Some(bytes) => reader.read(source, layers, &wanted(bytes))?,
        None => BTreeMap::new(),
    };
    Ok(VariantFacts {
        config_platform,
        labels,
        has_command,
        metadata,
        files,
    })
}

/// Reads layers for queries, remembering each layer's findings per query, so a layer shared
/// by several platforms is streamed once.
#[derive(Default)]
struct LayerCache {
    scanned: HashMap<(String, FileQuery), LayerChanges>,
}

impl LayerCache {
    /// The facts of each wanted path in the image made of `layers`, symbolic links followed
    /// inside the image.
    fn read(
        &mut self,
        source: &dyn ImageSource,
        layers: &[Descriptor],
        wanted: &[WantedFile],
    ) -> Result<BTreeMap<String, FileFacts>, CollectError> {
        let mut found = BTreeMap::new();
        // Each round reads the paths still to resolve: first the wanted ones, then the
        // targets of links met on the way.
        let mut pending: Vec<(WantedFile, Option<String>, usize)> =
            wanted.iter().map(|w| (w.clone(), None, 0)).collect();
        while !pending.is_empty() {
            let mut query = FileQuery::new();
            for (file, _, _) in &pending {
                query.add(&file.path, capture(file.read));
            }
            let tree = self.apply(source, layers, &query)?;
            let mut next = Vec::new();
            for (file, via, hops) in pending {
                let original = via.clone().unwrap_or_else(|| file.path.clone());
                match resolve(&tree, &file.path) {
                    Resolved::Found(entry) => {
                        found.insert(original, facts(entry, &file, via));
                    }
                    Resolved::Missing => {}
                    Resolved::Link { target } if hops < MAX_LINKS => {
                        let link = original.clone();
                        let target_file = WantedFile {
                            path: target,
                            read: file.read,
                        };
                        next.push((target_file, Some(link), hops + 1));
                    }
                    Resolved::Link { target } => {
                        found.insert(original, unresolved_link(target));
                    }
                }
            }
            pending = next;
        }
        Ok(found)
    }

    /// Applies every layer's findings for `query`, base first.
    fn apply(
        &mut self,
        source: &dyn ImageSource,
        layers: &[Descriptor],
        query: &FileQuery,
    ) -> Result<FileTree, CollectError> {
        let mut tree = FileTree::new();
        for layer in layers {
            let key = (layer.digest().to_string(), query.clone());
            if !self.scanned.contains_key(&key) {
                debug!(layer = %layer.digest(), "reading layer for the files metadata.json names");
                let content = source.blob(layer)?;
                let changes = scan_layer(content, query, layer.digest().as_ref())?;
                self.scanned.insert(key.clone(), changes);
            } else {
                debug!(layer = %layer.digest(), "layer already read for another platform");
            }
            tree.apply(&self.scanned[&key]);
        }
        Ok(tree)
    }
}

fn capture(read: ReadKind) -> Capture {
    match read {
        ReadKind::Stat => Capture::Stat,
        ReadKind::Content => Capture::Content { limit: TEXT_LIMIT },
        ReadKind::Binary => Capture::Content {
            limit: BINARY_LIMIT,
        },
    }
}

enum Resolved<'a> {
    Found(&'a extkit_layer::Entry),
    Missing,
    /// The path, or a folder on its way, is a link: read again at `target`.
    Link {
        target: String,
    },
}

/// Looks a path up, noticing links on the way to it.
fn resolve<'a>(tree: &'a FileTree, path: &str) -> Resolved<'a> {
    let clean = extkit_layer::clean(path);
    let parts: Vec<&str> = clean.split('/').collect();
    for end in 1..=parts.len() {
        let prefix = parts[..end].join("/");
        let Some(entry) = tree.get(&prefix) else {
            return Resolved::Missing;
        };
        let rest = parts[end..].join("/");
        match &entry.kind {
            EntryKind::Symlink(target) => {
                let folder = parts[..end - 1].join("/");
                let base = if target.starts_with('/') {
                    String::new()
                } else {
                    folder
                };
                let joined = format!("/{base}/{target}/{rest}");
                return Resolved::Link {
                    target: format!("/{}", extkit_layer::clean(&joined)),
                };
            }
            EntryKind::Hardlink(target) if end == parts.len() => {
                return Resolved::Link {
                    target: format!("/{target}"),
                };
            }
            _ if end == parts.len() => return Resolved::Found(entry),
            EntryKind::Directory => continue,
            // A file where a folder should be: the path does not exist.
            _ => return Resolved::Missing,
        }
    }
    Resolved::Missing
}

fn facts(entry: &extkit_layer::Entry, file: &WantedFile, via: Option<String>) -> FileFacts {
    let kind = match &entry.kind {
        EntryKind::File => FileKind::File,
        EntryKind::Directory => FileKind::Directory,
        EntryKind::Symlink(target) | EntryKind::Hardlink(target) => FileKind::Symlink {
            target: target.clone(),
        },
        EntryKind::Other => FileKind::Other,
    };
    let (content, binary) = match (file.read, &entry.content) {
        (ReadKind::Content, content) => (content.clone(), None),
        (ReadKind::Binary, Some(bytes)) => {
            let name = Path::new(&file.path).file_name().and_then(|n| n.to_str());
            (None, Some(extkit_binfmt::inspect_bytes(bytes, name)))
        }
        _ => (None, None),
    };
    FileFacts {
        kind,
        mode: entry.mode,
        size: entry.size,
        content,
        binary,
        via_symlink: via,
    }
}

fn unresolved_link(target: String) -> FileFacts {
    FileFacts {
        kind: FileKind::Symlink { target },
        mode: 0o777,
        size: 0,
        content: None,
        binary: None,
        via_symlink: None,
    }
}
