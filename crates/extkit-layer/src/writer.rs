use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use extkit_oci::{Compression, LayerBlob, media_types, sha256_digest};

/// What can go wrong while making a layer.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    /// A source file or folder could not be read.
    #[error(transparent)]
    Io(#[from] io::Error),

    /// The file on disk that an entry's content comes from could not be read.
    #[error("cannot read the content of `{path}`")]
    ReadSource {
        /// The entry's path in the layer.
        path: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// A path inside the layer is empty, absolute after cleaning, or climbs out with `..`.
    #[error("invalid path `{path}` in a layer: {reason}")]
    InvalidPath {
        /// The path given.
        path: String,
        /// Why it is invalid.
        reason: &'static str,
    },
}

/// One entry of a layer.
#[derive(Clone, Debug, PartialEq, Eq)]
enum EntryKind {
    File(Vec<u8>),
    /// A regular file whose content is read from disk when the tar is written.
    DiskFile(PathBuf),
    Directory,
    Symlink(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    kind: EntryKind,
    mode: u32,
    uid: u64,
    gid: u64,
}

/// Collects files, folders and symlinks and writes them as a reproducible tar layer.
///
/// Entries are written in path order, with the owner and mode given and one fixed time for all,
/// so the same content always gives the same bytes whatever the files' times on disk, the umask
/// or the folder they came from. Parent folders are added with mode 0755 when missing.
#[derive(Clone, Debug)]
pub struct LayerBuilder {
    entries: BTreeMap<String, Entry>,
    mtime: u64,
}

impl LayerBuilder {
    /// An empty layer whose entries will all carry `mtime` (seconds since 1970).
    pub fn new(mtime: u64) -> Self {
        LayerBuilder {
            entries: BTreeMap::new(),
            mtime,
        }
    }

    /// Adds a regular file.
    pub fn add_file(
        &mut self,
        path: &str,
        content: Vec<u8>,
        mode: u32,
    ) -> Result<&mut Self, LayerError> {
        self.insert(path, EntryKind::File(content), mode)
    }

    /// Adds a regular file whose content is the file `source`, read only when the tar is
    /// written, so a large layer's files are not all held in memory at once.
    pub fn add_file_from_disk(
        &mut self,
        path: &str,
        source: &Path,
        mode: u32,
    ) -> Result<&mut Self, LayerError> {
        self.insert(path, EntryKind::DiskFile(source.to_path_buf()), mode)
    }

    /// Adds a folder.
    pub fn add_dir(&mut self, path: &str, mode: u32) -> Result<&mut Self, LayerError> {
        self.insert(path, EntryKind::Directory, mode)
    }

    /// Adds a symbolic link to `target`, which is stored as given.
    pub fn add_symlink(&mut self, path: &str, target: &str) -> Result<&mut Self, LayerError> {
        self.insert(path, EntryKind::Symlink(target.to_string()), 0o777)
    }

    /// Adds the content of the folder `source` under `path` in the layer, recursively.
    ///
    /// Modes come from the files where the platform has them (Unix), so execute bits are kept;
    /// elsewhere files get 0644 and folders 0755.
    pub fn add_tree(&mut self, path: &str, source: &Path) -> Result<&mut Self, LayerError> {
        self.add_dir(path, 0o755)?;
        let mut children: Vec<_> = fs_err::read_dir(source)?.collect::<Result<_, _>>()?;
        children.sort_by_key(|entry| entry.file_name());
        for child in children {
            let name = child.file_name().to_string_lossy().into_owned();
            let inner = format!("{}/{name}", path.trim_end_matches('/'));
            let file_type = child.file_type()?;
            let metadata = fs_err::symlink_metadata(child.path())?;
            if file_type.is_symlink() {
                let target = fs_err::read_link(child.path())?;
                self.add_symlink(&inner, &target.to_string_lossy())?;
            } else if file_type.is_dir() {
                self.add_tree(&inner, &child.path())?;
                self.set_mode(&inner, mode_of(&metadata, 0o755));
            } else {
                let content = fs_err::read(child.path())?;
                self.add_file(&inner, content, mode_of(&metadata, 0o644))?;
            }
        }
        Ok(self)
    }

    /// Sets the owner of every entry added so far (Docker's `--chown` with numeric ids).
    pub fn set_owner(&mut self, uid: u64, gid: u64) -> &mut Self {
        for entry in self.entries.values_mut() {
            entry.uid = uid;
            entry.gid = gid;
        }
        self
    }

    /// Sets the owner of the entry at `path` alone (Docker's `--chown`, or an owner kept
    /// from another stage); does nothing when there is no such entry.
    pub fn set_owner_of(&mut self, path: &str, uid: u64, gid: u64) -> &mut Self {
        if let Ok(path) = clean(path)
            && let Some(entry) = self.entries.get_mut(&path)
        {
            entry.uid = uid;
            entry.gid = gid;
        }
        self
    }

    fn set_mode(&mut self, path: &str, mode: u32) {
        if let Ok(path) = clean(path)
            && let Some(entry) = self.entries.get_mut(&path)
        {
            entry.mode = mode;
        }
    }

    fn insert(&mut self, path: &str, kind: EntryKind, mode: u32) -> Result<&mut Self, LayerError> {
        let path = clean(path)?;
        if path.is_empty() {
            // The root folder itself is implied by every layer.
            return Ok(self);
        }
        let mut parent = String::new();
        for part in path
            .split('/')
            .collect::<Vec<_>>()
            .split_last()
            .expect("not empty")
            .1
        {
            if !parent.is_empty() {
                parent.push('/');
            }
            parent.push_str(part);
            self.entries.entry(parent.clone()).or_insert(Entry {
                kind: EntryKind::Directory,
                mode: 0o755,
                uid: 0,
                gid: 0,
            });
        }
        self.entries.insert(
            path,
            Entry {
                kind,
                mode: mode & 0o7777,
                uid: 0,
                gid: 0,
            },
        );
        Ok(self)
    }

    /// Writes the layer as a tar, compressed as asked, and gives it with its digests.
    pub fn build(&self, compression: Compression) -> Result<LayerBlob, LayerError> {
        let tar = self.tar()?;
        let diff_id = sha256_digest(&tar);
        let (media_type, bytes) = match compression {
            // Uncompressed, the blob is the tar: its digest is the diff_id, not hashed again.
            Compression::None => {
                return Ok(LayerBlob {
                    media_type: media_types::OCI_LAYER.to_string(),
                    bytes: tar.into(),
                    digest: diff_id.clone(),
                    diff_id,
                });
            }
            Compression::Gzip => {
                // Level 1 is the fast level; the gzip header carries no time or file name.
                let mut encoder = flate2::GzBuilder::new()
                    .mtime(0)
                    .write(Vec::new(), flate2::Compression::fast());
                encoder.write_all(&tar)?;
                (media_types::OCI_LAYER_GZIP, encoder.finish()?)
            }
            Compression::Zstd => (media_types::OCI_LAYER_ZSTD, zstd::encode_all(&tar[..], 3)?),
        };
        Ok(LayerBlob::new(media_type, bytes, diff_id))
    }

    fn tar(&self) -> Result<Vec<u8>, LayerError> {
        self.write_tar(Vec::new())
    }

    /// Writes the uncompressed tar to `out`, as [`LayerBuilder::build`] makes it, and gives
    /// `out` back; files added from disk are read now, one at a time.
    pub fn write_tar<W: Write>(&self, out: W) -> Result<W, LayerError> {
        let mut builder = tar::Builder::new(out);
        builder.mode(tar::HeaderMode::Deterministic);
        // One buffer for every file read from disk.
        let mut buffer = Vec::new();
        for (path, entry) in &self.entries {
            let mut header = tar::Header::new_gnu();
            header.set_mtime(self.mtime);
            header.set_uid(entry.uid);
            header.set_gid(entry.gid);
            header.set_mode(entry.mode);
            match &entry.kind {
                EntryKind::File(content) => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_size(content.len() as u64);
                    builder.append_data(&mut header, path, &content[..])?;
                }
                EntryKind::DiskFile(source) => {
                    buffer.clear();
                    fs_err::File::open(source)
                        .and_then(|mut file| file.read_to_end(&mut buffer))
                        .map_err(|source| LayerError::ReadSource {
                            path: path.clone(),
                            source,
                        })?;
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_size(buffer.len() as u64);
                    builder.append_data(&mut header, path, &buffer[..])?;
                }
                EntryKind::Directory => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_size(0);
                    builder.append_data(&mut header, format!("{path}/"), io::empty())?;
                }
                EntryKind::Symlink(target) => {
                    header.set_entry_type(tar::EntryType::Symlink);
                    header.set_size(0);
                    builder.append_link(&mut header, path, target)?;
                }
            }
        }
        Ok(builder.into_inner()?)
    }
}

/// Cleans a path inside the layer: no leading `/`, no `.` parts, and no `..` at all.
fn clean(path: &str) -> Result<String, LayerError> {
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(LayerError::InvalidPath {
                    path: path.to_string(),
                    reason: "it contains `..`",
                });
            }
            other => parts.push(other),
        }
    }
    Ok(parts.join("/"))
}

#[cfg(unix)]
fn mode_of(metadata: &std::fs::Metadata, _default: u32) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(_metadata: &std::fs::Metadata, default: u32) -> u32 {
    default
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn listing(blob: &LayerBlob) -> Vec<(String, u32, u64)> {
        let mut archive = tar::Archive::new(&blob.bytes[..]);
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let header = entry.header();
                (
                    entry.path().unwrap().to_string_lossy().into_owned(),
                    header.mode().unwrap(),
                    header.mtime().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn entries_are_sorted_with_parents_and_fixed_times() {
        let mut builder = LayerBuilder::new(42);
        builder
            .add_file("/b/x.sh", b"#!/bin/sh\n".to_vec(), 0o755)
            .unwrap();
        builder.add_file("a.txt", b"a".to_vec(), 0o644).unwrap();
        let blob = builder.build(Compression::None).unwrap();
        assert_eq!(
            listing(&blob),
            vec![
                ("a.txt".to_string(), 0o644, 42),
                ("b/".to_string(), 0o755, 42),
                ("b/x.sh".to_string(), 0o755, 42),
            ]
        );
        assert_eq!(blob.diff_id, blob.digest);
    }

    #[test]
    fn the_same_content_gives_the_same_digest_for_each_compression() {
        for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
            let make = || {
                let mut builder = LayerBuilder::new(0);
                builder.add_file("x", vec![7; 1000], 0o644).unwrap();
                builder.build(compression).unwrap()
            };
            let (first, second) = (make(), make());
            assert_eq!(first.digest, second.digest);
            assert_eq!(first.diff_id, second.diff_id);
        }
    }

    #[test]
    fn gzip_layers_decompress_to_their_diff_id() {
        let mut builder = LayerBuilder::new(0);
        builder.add_file("x", vec![1; 5000], 0o600).unwrap();
        let blob = builder.build(Compression::Gzip).unwrap();
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(&blob.bytes[..])
            .read_to_end(&mut tar)
            .unwrap();
        assert_eq!(sha256_digest(&tar), blob.diff_id);
        assert_eq!(blob.media_type, media_types::OCI_LAYER_GZIP);
    }

    #[test]
    fn one_entry_can_have_its_own_owner() {
        let mut builder = LayerBuilder::new(0);
        builder.add_file("app/x", vec![1], 0o644).unwrap();
        builder
            .set_owner_of("/app/x", 1000, 1001)
            .set_owner_of("missing", 5, 5);
        let blob = builder.build(Compression::None).unwrap();
        let mut archive = tar::Archive::new(&blob.bytes[..]);
        let owners: Vec<(String, u64, u64)> = archive
            .entries()
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let header = entry.header();
                (
                    entry.path().unwrap().to_string_lossy().into_owned(),
                    header.uid().unwrap(),
                    header.gid().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            owners,
            vec![
                ("app/".to_string(), 0, 0),
                ("app/x".to_string(), 1000, 1001)
            ]
        );
    }

    #[test]
    fn paths_that_climb_out_are_refused() {
        let error = LayerBuilder::new(0)
            .add_file("a/../../etc/passwd", vec![], 0o644)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid path `a/../../etc/passwd` in a layer: it contains `..`"
        );
    }
}
