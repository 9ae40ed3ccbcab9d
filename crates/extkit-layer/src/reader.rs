//! Reading chosen files out of layers, without unpacking anything to disk.
//!
//! A [`FileQuery`] names the paths wanted. [`scan_layer`] streams one layer's tar once and
//! keeps only what concerns those paths: their entries (with content when asked), the
//! whiteouts that delete them from lower layers, and the folders implied by entries beneath
//! them. [`FileTree`] applies the layers' findings in order, base first, as a container
//! runtime would apply the layers themselves.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufRead, BufReader, Read};

use tracing::trace;

/// What can go wrong while reading a layer.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The layer could not be read or decompressed.
    #[error("cannot read layer `{layer}`")]
    Io {
        /// The layer's digest or name.
        layer: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// The layer's bytes are not a tar, or not one in the compression they start with.
    #[error("cannot read layer `{layer}` as a tar: {reason}")]
    Malformed {
        /// The layer's digest or name.
        layer: String,
        /// What is wrong.
        reason: String,
    },
}

/// How much of a wanted path to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Capture {
    /// Only its type, mode and size.
    Stat,
    /// Its content too, up to `limit` bytes (a longer file keeps no content).
    Content {
        /// The most bytes to keep.
        limit: u64,
    },
}

/// The paths wanted from an image, relative to its root (`ui/index.html`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FileQuery {
    paths: BTreeMap<String, Capture>,
    /// Folders whose whole content is wanted, with the capture for each file in them.
    trees: BTreeMap<String, Capture>,
}

impl FileQuery {
    /// An empty query.
    pub fn new() -> Self {
        FileQuery::default()
    }

    /// Asks for `path` (absolute or relative; `..` parts are resolved without leaving the
    /// root). Its parent folders are asked for too, with [`Capture::Stat`], so a symbolic link
    /// on the way is seen. Asking twice keeps the larger capture.
    pub fn add(&mut self, path: &str, capture: Capture) -> &mut Self {
        let path = clean(path);
        if path.is_empty() {
            return self;
        }
        let parts: Vec<&str> = path.split('/').collect();
        for end in 1..parts.len() {
            self.paths
                .entry(parts[..end].join("/"))
                .or_insert(Capture::Stat);
        }
        let slot = self.paths.entry(path).or_insert(capture);
        *slot = (*slot).max(capture);
        self
    }

    /// Asks for the folder at `path` and everything beneath it, each file captured as
    /// `capture`.
    pub fn add_tree(&mut self, path: &str, capture: Capture) -> &mut Self {
        self.add(path, Capture::Stat);
        let path = clean(path);
        let slot = self.trees.entry(path).or_insert(capture);
        *slot = (*slot).max(capture);
        self
    }

    /// Whether nothing is asked for.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty() && self.trees.is_empty()
    }

    /// The capture for `path`: its own, or that of a tree it is in.
    fn capture_of(&self, path: &str) -> Option<Capture> {
        if let Some(capture) = self.paths.get(path) {
            return Some(*capture);
        }
        self.trees
            .iter()
            .filter(|(tree, _)| is_beneath(path, tree))
            .map(|(_, capture)| *capture)
            .max()
    }

    /// The paths asked for, with their captures.
    pub fn paths(&self) -> impl Iterator<Item = (&str, Capture)> {
        self.paths
            .iter()
            .map(|(path, capture)| (path.as_str(), *capture))
    }
}

/// A type of entry in a layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A folder, declared or implied by an entry beneath it.
    Directory,
    /// A symbolic link with its target as stored.
    Symlink(String),
    /// A hard link to another path of the image (cleaned, relative to the root).
    Hardlink(String),
    /// A device, fifo or other special file.
    Other,
}

/// One wanted path as a layer (or the applied layers) has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its type.
    pub kind: EntryKind,
    /// Permission bits (`0o755`).
    pub mode: u32,
    /// Size in bytes of a regular file.
    pub size: u64,
    /// The owner's user id.
    pub uid: u64,
    /// The owner's group id.
    pub gid: u64,
    /// Its content, when asked for and not over the limit.
    pub content: Option<Vec<u8>>,
}

/// What one layer does to the wanted paths.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LayerChanges {
    /// Paths this layer deletes, with everything beneath them, from the layers below it.
    deleted: BTreeSet<String>,
    /// Folders whose lower content this layer hides (opaque whiteouts); the folders stay.
    emptied: BTreeSet<String>,
    /// Entries that try to reach outside the image's root: an absolute or climbing (`..`)
    /// path, or a hard link whose target climbs out. Described for messages.
    hostile: Vec<String>,
    /// Wanted paths this layer adds or replaces.
    entries: BTreeMap<String, Entry>,
}

/// Reads one layer (tar, gzip or zstd, told apart by their first bytes) and keeps what
/// concerns `query`. `layer` names it in errors.
pub fn scan_layer(
    content: impl Read,
    query: &FileQuery,
    layer: &str,
) -> Result<LayerChanges, ReadError> {
    let io_error = |source: io::Error| ReadError::Io {
        layer: layer.to_string(),
        source,
    };
    let mut buffered = BufReader::new(content);
    let magic = buffered.fill_buf().map_err(io_error)?.to_vec();
    let decompressed: Box<dyn Read> = if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(buffered))
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(zstd::stream::read::Decoder::with_buffer(buffered).map_err(io_error)?)
    } else {
        Box::new(buffered)
    };

    let mut changes = LayerChanges::default();
    let mut archive = tar::Archive::new(decompressed);
    let malformed = |error: io::Error| ReadError::Malformed {
        layer: layer.to_string(),
        reason: error.to_string(),
    };
    for entry in archive.entries().map_err(malformed)? {
        let mut entry = entry.map_err(malformed)?;
        let raw_path = entry
            .path()
            .map_err(malformed)?
            .to_string_lossy()
            .into_owned();
        if escapes(&raw_path) {
            changes.hostile.push(format!(
                "the entry `{raw_path}` lies outside the image root"
            ));
        }
        if entry.header().entry_type() == tar::EntryType::Link
            && let Ok(Some(target)) = entry.link_name()
            && escapes(&target.to_string_lossy())
        {
            changes.hostile.push(format!(
                "the hard link `{raw_path}` points outside the image root, to `{}`",
                target.to_string_lossy()
            ));
        }
        let path = clean(&raw_path);
        let (folder, name) = match path.rsplit_once('/') {
            Some((folder, name)) => (folder.to_string(), name.to_string()),
            None => (String::new(), path.clone()),
        };

        // Whiteouts delete from lower layers: the named path, or every child of an opaque
        // folder.
        if name == ".wh..wh..opq" {
            changes.emptied.insert(folder);
            continue;
        }
        if let Some(deleted) = name.strip_prefix(".wh.") {
            changes.deleted.insert(join(&folder, deleted));
            continue;
        }

        // An entry beneath a wanted path makes that path a folder.
        for (wanted, _) in query.paths() {
            if is_beneath(&path, wanted) {
                changes.entries.entry(wanted.to_string()).or_insert(Entry {
                    kind: EntryKind::Directory,
                    mode: 0o755,
                    size: 0,
                    uid: 0,
                    gid: 0,
                    content: None,
                });
            }
        }

        let Some(capture) = query.capture_of(&path) else {
            continue;
        };
        let header = entry.header();
        let mode = header.mode().unwrap_or(0) & 0o7777;
        let (uid, gid) = (header.uid().unwrap_or(0), header.gid().unwrap_or(0));
        let size = entry.size();
        let kind = match header.entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => EntryKind::File,
            tar::EntryType::Directory => EntryKind::Directory,
            tar::EntryType::Symlink => {
                let target = entry.link_name().map_err(malformed)?.unwrap_or_default();
                EntryKind::Symlink(target.to_string_lossy().into_owned())
            }
            tar::EntryType::Link => {
                let target = entry.link_name().map_err(malformed)?.unwrap_or_default();
                EntryKind::Hardlink(clean(&target.to_string_lossy()))
            }
            _ => EntryKind::Other,
        };
        let content = match (capture, &kind) {
            (Capture::Content { limit }, EntryKind::File) if size <= limit => {
                let mut bytes = Vec::with_capacity(size as usize);
                entry
                    .by_ref()
                    .take(limit)
                    .read_to_end(&mut bytes)
                    .map_err(malformed)?;
                Some(bytes)
            }
            _ => None,
        };
        trace!(layer, path, ?kind, mode, size, "found a wanted path");
        // A later entry for the same path in one layer replaces the earlier one.
        changes.entries.insert(
            path,
            Entry {
                kind,
                mode,
                size,
                uid,
                gid,
                content,
            },
        );
    }
    Ok(changes)
}

impl LayerChanges {
    /// Entries of this layer that try to reach outside the image's root, described.
    pub fn hostile(&self) -> &[String] {
        &self.hostile
    }
}

/// Whether a path stored in a layer is absolute or climbs above the root with `..`.
pub fn escapes(path: &str) -> bool {
    if path.starts_with('/') {
        // `/` alone is the root folder entry some tools write, and harmless.
        return !path.trim_start_matches('/').is_empty();
    }
    let mut depth: i64 = 0;
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

/// The wanted paths as they are after applying layers in order.
#[derive(Clone, Debug, Default)]
pub struct FileTree {
    entries: BTreeMap<String, Entry>,
}

impl FileTree {
    /// An empty tree, before the base layer.
    pub fn new() -> Self {
        FileTree::default()
    }

    /// Applies a layer's changes on top of the layers applied so far: its deletions first,
    /// then its entries. A folder over a folder keeps the lower folder's existence.
    pub fn apply(&mut self, changes: &LayerChanges) {
        self.entries.retain(|path, _| {
            let deleted = changes
                .deleted
                .iter()
                .any(|gone| path == gone || is_beneath(path, gone));
            let hidden = changes
                .emptied
                .iter()
                .any(|folder| is_beneath(path, folder));
            !deleted && !hidden
        });
        for (path, entry) in &changes.entries {
            self.entries.insert(path.clone(), entry.clone());
        }
    }

    /// A wanted path as the image has it, or `None` when it is not there.
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(&clean(path))
    }

    /// Every path found beneath the folder `path`, with its entry, in path order.
    pub fn beneath(&self, path: &str) -> impl Iterator<Item = (&str, &Entry)> {
        let folder = clean(path);
        self.entries
            .iter()
            .filter(move |(found, _)| is_beneath(found, &folder))
            .map(|(found, entry)| (found.as_str(), entry))
    }
}

/// Cleans a path inside an image: no leading `/`, no `.` parts, `..` resolved without going
/// above the root.
pub fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// Whether `path` is strictly beneath `folder` (`""` is the root, above everything).
fn is_beneath(path: &str, folder: &str) -> bool {
    if folder.is_empty() {
        return !path.is_empty();
    }
    path.len() > folder.len() && path.starts_with(folder) && path.as_bytes()[folder.len()] == b'/'
}

fn join(folder: &str, name: &str) -> String {
    if folder.is_empty() {
        name.to_string()
    } else {
        format!("{folder}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Compression, LayerBuilder};

    fn query(paths: &[(&str, Capture)]) -> FileQuery {
        let mut query = FileQuery::new();
        for (path, capture) in paths {
            query.add(path, *capture);
        }
        query
    }

    /// A layer from (path, content) pairs; content `None` is a folder, `Some("->x")` a symlink.
    fn layer(entries: &[(&str, Option<&str>)], compression: Compression) -> Vec<u8> {
        let mut builder = LayerBuilder::new(0);
        for (path, content) in entries {
            match content {
                None => builder.add_dir(path, 0o755).unwrap(),
                Some(text) if text.starts_with("->") => {
                    builder.add_symlink(path, &text[2..]).unwrap()
                }
                Some(text) => builder
                    .add_file(path, text.as_bytes().to_vec(), 0o755)
                    .unwrap(),
            };
        }
        builder.build(compression).unwrap().bytes.into()
    }

    const WHOLE: Capture = Capture::Content { limit: 1 << 20 };

    #[test]
    fn finds_wanted_files_in_every_compression() {
        for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
            let bytes = layer(
                &[
                    ("/metadata.json", Some("{}")),
                    ("ui/index.html", Some("<p>")),
                ],
                compression,
            );
            let wanted = query(&[
                ("/metadata.json", WHOLE),
                ("/ui", Capture::Stat),
                ("/x", Capture::Stat),
            ]);
            let mut tree = FileTree::new();
            tree.apply(&scan_layer(&bytes[..], &wanted, "test").unwrap());
            assert_eq!(
                tree.get("/metadata.json").unwrap().content.as_deref(),
                Some(&b"{}"[..])
            );
            assert_eq!(tree.get("ui").unwrap().kind, EntryKind::Directory);
            assert_eq!(tree.get("/x"), None);
        }
    }

    #[test]
    fn whiteouts_and_opaque_folders_delete_from_lower_layers_only() {
        let base = layer(
            &[
                ("a/keep", Some("1")),
                ("a/gone", Some("2")),
                ("b/old", Some("3")),
                ("c", Some("4")),
            ],
            Compression::Gzip,
        );
        let mut upper = LayerBuilder::new(0);
        upper
            .add_file("a/.wh.gone", vec![], 0o644)
            .unwrap()
            .add_file("b/.wh..wh..opq", vec![], 0o644)
            .unwrap()
            .add_file("b/new", b"5".to_vec(), 0o644)
            .unwrap()
            .add_file(".wh.c", vec![], 0o644)
            .unwrap();
        let upper = upper.build(Compression::None).unwrap().bytes;
        let wanted = query(&[
            ("a/keep", WHOLE),
            ("a/gone", WHOLE),
            ("b/old", WHOLE),
            ("b/new", WHOLE),
            ("c", WHOLE),
        ]);
        let mut tree = FileTree::new();
        tree.apply(&scan_layer(&base[..], &wanted, "base").unwrap());
        tree.apply(&scan_layer(&upper[..], &wanted, "upper").unwrap());
        assert_eq!(
            tree.get("a/keep").unwrap().content.as_deref(),
            Some(&b"1"[..])
        );
        assert_eq!(tree.get("a/gone"), None);
        assert_eq!(tree.get("b/old"), None);
        assert_eq!(
            tree.get("b/new").unwrap().content.as_deref(),
            Some(&b"5"[..])
        );
        assert_eq!(tree.get("b").unwrap().kind, EntryKind::Directory);
        assert_eq!(tree.get("c"), None);
    }

    #[test]
    fn links_modes_and_limits_are_reported() {
        let mut builder = LayerBuilder::new(0);
        builder
            .add_file("bin/tool", b"#!/bin/sh\n".to_vec(), 0o644)
            .unwrap()
            .add_symlink("bin/alias", "tool")
            .unwrap()
            .add_file("big", vec![0; 100], 0o600)
            .unwrap();
        let bytes = builder.build(Compression::None).unwrap().bytes;
        let wanted = query(&[
            ("bin/tool", WHOLE),
            ("bin/alias", WHOLE),
            ("big", Capture::Content { limit: 10 }),
        ]);
        let mut tree = FileTree::new();
        tree.apply(&scan_layer(&bytes[..], &wanted, "test").unwrap());
        let tool = tree.get("bin/tool").unwrap();
        assert_eq!(
            (tool.kind.clone(), tool.mode, tool.size),
            (EntryKind::File, 0o644, 10)
        );
        assert_eq!(
            tree.get("bin/alias").unwrap().kind,
            EntryKind::Symlink("tool".into())
        );
        let big = tree.get("big").unwrap();
        assert_eq!((big.size, big.content.clone()), (100, None));
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let wanted = query(&[("x", WHOLE)]);
        let error = scan_layer(&[0x1f, 0x8b, 1, 2, 3][..], &wanted, "sha256:abc").unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot read layer `sha256:abc` as a tar: unexpected end of file"
        );
        let garbage = vec![7u8; 1024];
        let error = scan_layer(&garbage[..], &wanted, "sha256:abc").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("cannot read layer `sha256:abc` as a tar: "),
            "{error}"
        );
    }

    #[test]
    fn trees_collect_everything_beneath_a_folder() {
        let base = layer(
            &[
                ("ui/index.html", Some("<p>")),
                ("ui/js/app.js", Some("go()")),
                ("ui/old.css", Some("x")),
                ("other", Some("-")),
            ],
            Compression::Gzip,
        );
        let mut upper = LayerBuilder::new(0);
        upper.add_file("ui/.wh.old.css", vec![], 0o644).unwrap();
        let upper = upper.build(Compression::None).unwrap().bytes;
        let mut wanted = FileQuery::new();
        wanted.add_tree("/ui", WHOLE);
        let mut tree = FileTree::new();
        tree.apply(&scan_layer(&base[..], &wanted, "base").unwrap());
        tree.apply(&scan_layer(&upper[..], &wanted, "upper").unwrap());
        let found: Vec<(&str, Option<&[u8]>)> = tree
            .beneath("ui")
            .map(|(path, entry)| (path, entry.content.as_deref()))
            .collect();
        assert_eq!(
            found,
            vec![
                ("ui/index.html", Some(&b"<p>"[..])),
                ("ui/js", None),
                ("ui/js/app.js", Some(&b"go()"[..])),
            ]
        );
    }

    #[test]
    fn entries_reaching_outside_the_root_are_reported() {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(1);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        // `append_data` refuses `..`, so write the name into the header directly.
        header.as_gnu_mut().unwrap().name[..9].copy_from_slice(b"../escape");
        header.set_cksum();
        builder.append(&header, &b"x"[..]).unwrap();
        let mut link = tar::Header::new_gnu();
        link.set_entry_type(tar::EntryType::Link);
        link.set_size(0);
        builder
            .append_link(&mut link, "ui/passwd", "../../etc/passwd")
            .unwrap();
        let bytes = builder.into_inner().unwrap();
        let changes = scan_layer(&bytes[..], &query(&[("ui", Capture::Stat)]), "hostile").unwrap();
        assert_eq!(
            changes.hostile(),
            [
                "the entry `../escape` lies outside the image root",
                "the hard link `ui/passwd` points outside the image root, to `../../etc/passwd`",
            ]
        );
        assert!(escapes("/etc/passwd"));
        assert!(!escapes("/"));
        assert!(!escapes("a/../b"));
        assert!(escapes("a/../../b"));
    }

    #[test]
    fn clean_never_leaves_the_root() {
        assert_eq!(clean("/a/./b/../c/"), "a/c");
        assert_eq!(clean("../../etc/passwd"), "etc/passwd");
        assert_eq!(clean("/"), "");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn hostile_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096), gzip in any::<bool>()) {
            let mut input = bytes;
            if gzip && input.len() > 2 {
                input[0] = 0x1f;
                input[1] = 0x8b;
            }
            let mut query = FileQuery::new();
            query.add("metadata.json", Capture::Content { limit: 1024 });
            let _ = scan_layer(&input[..], &query, "random");
        }
    }
}
