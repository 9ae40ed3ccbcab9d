//! Read access to the files of a layout, whether they sit in a folder or inside a tar file.

use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The largest JSON document (index, manifest, `manifest.json`) read into memory.
pub(crate) const MAX_DOCUMENT_SIZE: u64 = 16 << 20;

/// Files addressed by `/`-separated relative paths.
pub(crate) trait Files: Send + Sync {
    /// A description for messages: the folder or the archive path.
    fn describe(&self) -> String;

    /// The root of the files on disk, for errors.
    fn root(&self) -> &Path;

    /// Opens a file and gives its size, or `None` when it does not exist.
    fn open(&self, path: &str) -> Result<Option<(Box<dyn Read + Send + '_>, u64)>>;

    /// Reads a small file whole, refusing one larger than [`MAX_DOCUMENT_SIZE`].
    fn read_small(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let Some((reader, size)) = self.open(path)? else {
            return Ok(None);
        };
        if size > MAX_DOCUMENT_SIZE {
            return Err(Error::MalformedArchive {
                path: self.root().join(path),
                reason: format!("`{path}` is {size} bytes, more than a JSON document may be"),
            });
        }
        let mut bytes = Vec::with_capacity(size as usize);
        reader.take(MAX_DOCUMENT_SIZE).read_to_end(&mut bytes)?;
        Ok(Some(bytes))
    }
}

/// Files in a folder.
pub(crate) struct FolderFiles {
    root: PathBuf,
}

impl FolderFiles {
    pub(crate) fn new(root: &Path) -> Self {
        FolderFiles {
            root: root.to_path_buf(),
        }
    }
}

impl Files for FolderFiles {
    fn describe(&self) -> String {
        format!("`{}`", self.root.display())
    }

    fn root(&self) -> &Path {
        &self.root
    }

    fn open(&self, path: &str) -> Result<Option<(Box<dyn Read + Send + '_>, u64)>> {
        let full = self.root.join(path);
        match fs_err::File::open(&full) {
            Ok(file) => {
                let size = file.metadata()?.len();
                Ok(Some((Box::new(file), size)))
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error.into()),
        }
    }
}

/// Files inside a tar file, found by one scan of its headers and then read in place.
pub(crate) struct TarFiles {
    path: PathBuf,
    /// Member path → (offset of its data in the tar, size).
    members: HashMap<String, (u64, u64)>,
}

impl TarFiles {
    /// Scans the tar's headers; no member's content is read.
    pub(crate) fn scan(path: &Path) -> Result<Self> {
        let file = fs_err::File::open(path)?;
        let malformed = |reason: String| Error::MalformedArchive {
            path: path.to_path_buf(),
            reason,
        };
        let mut archive = tar::Archive::new(io::BufReader::new(file));
        let mut members = HashMap::new();
        let mut links = Vec::new();
        let not_a_tar = || Error::NotATar {
            path: path.to_path_buf(),
        };
        let entries = archive.entries_with_seek().map_err(|_| not_a_tar())?;
        for (number, entry) in entries.enumerate() {
            // A first header that does not read is no tar at all; a later one, a damaged tar.
            let entry = entry.map_err(|error| match number {
                0 => not_a_tar(),
                _ => malformed(error.to_string()),
            })?;
            let name = entry
                .path()
                .map_err(|error| malformed(error.to_string()))?
                .to_string_lossy()
                .into_owned();
            let name = clean(&name);
            let kind = entry.header().entry_type();
            if kind.is_file() {
                members.insert(name, (entry.raw_file_position(), entry.size()));
            } else if kind.is_symlink() || kind.is_hard_link() {
                // `docker save` of old engines links repeated layers to their first copy.
                if let Ok(Some(target)) = entry.link_name() {
                    let target = target.to_string_lossy().into_owned();
                    let target = if kind.is_symlink() {
                        resolve_relative(&name, &target)
                    } else {
                        clean(&target)
                    };
                    links.push((name, target));
                }
            }
        }
        for (name, target) in links {
            if let Some(found) = members.get(&target).copied() {
                members.insert(name, found);
            }
        }
        if members.is_empty() {
            return Err(malformed("it holds no files (is it a tar file?)".into()));
        }
        Ok(TarFiles {
            path: path.to_path_buf(),
            members,
        })
    }

    /// Whether the tar has a member at `path`.
    pub(crate) fn contains(&self, path: &str) -> bool {
        self.members.contains_key(path)
    }

    /// The paths of its files (links included, under their own names), cleaned.
    pub(crate) fn paths(&self) -> impl Iterator<Item = &str> {
        self.members.keys().map(String::as_str)
    }
}

impl Files for TarFiles {
    fn describe(&self) -> String {
        format!("`{}`", self.path.display())
    }

    fn root(&self) -> &Path {
        &self.path
    }

    fn open(&self, path: &str) -> Result<Option<(Box<dyn Read + Send + '_>, u64)>> {
        let Some(&(offset, size)) = self.members.get(&clean(path)) else {
            return Ok(None);
        };
        let mut file = fs_err::File::open(&self.path)?;
        file.seek(SeekFrom::Start(offset))?;
        Ok(Some((Box::new(io::BufReader::new(file).take(size)), size)))
    }
}

/// `./a//b/` → `a/b`.
fn clean(path: &str) -> String {
    path.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// Resolves a symlink target relative to the link's folder, without leaving the archive.
fn resolve_relative(link: &str, target: &str) -> String {
    let mut parts: Vec<&str> = link.split('/').collect();
    parts.pop();
    for part in target.split('/') {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_cleaned_and_links_resolved_inside() {
        assert_eq!(clean("./blobs//sha256/x/"), "blobs/sha256/x");
        assert_eq!(
            resolve_relative("a/layer.tar", "../b/layer.tar"),
            "b/layer.tar"
        );
        assert_eq!(
            resolve_relative("a/layer.tar", "../../../etc/passwd"),
            "etc/passwd"
        );
    }
}
