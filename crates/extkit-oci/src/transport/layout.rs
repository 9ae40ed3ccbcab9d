//! The OCI image layout: `oci-layout`, `index.json` and `blobs/sha256/…`.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use oci_spec::image::{Descriptor, ImageIndex};

use super::files::{Files, FolderFiles};
use super::{BlobState, ImageDestination, ImageSource, canonical_json};
use crate::digest::{read_verified, unwrap_io};
use crate::image::parse_json;
use crate::{Digest, Error, RawManifest, Result, VerifyingReader, media_types};

/// The annotation that names an image inside a layout.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// The annotation containerd and Docker put on layout entries with the full image name.
pub(crate) const IMAGE_NAME: &str = "io.containerd.image.name";

const LAYOUT_FILE: &str = r#"{"imageLayoutVersion":"1.0.0"}"#;

/// The buffer blobs are written through.
const COPY_BUFFER: usize = 1 << 20;

/// An image read from an OCI layout, in a folder or inside an archive.
pub struct LayoutSource {
    files: Box<dyn Files>,
    name: String,
    root: Descriptor,
}

impl LayoutSource {
    /// Opens the image tagged `tag` in the layout folder at `path`, or its only image.
    pub fn open(path: &Path, tag: Option<&str>) -> Result<Self> {
        if !path.exists() {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::NotFound,
                format!("the layout folder `{}` does not exist", path.display()),
            )));
        }
        let name = match tag {
            Some(tag) => format!("oci:{}:{tag}", path.display()),
            None => format!("oci:{}", path.display()),
        };
        Self::from_files(Box::new(FolderFiles::new(path)), name, |entry| {
            tag.is_none_or(|tag| ref_name(entry) == Some(tag))
        })
    }

    /// Opens the image whose index entry satisfies `wanted` in a layout made of `files`.
    pub(crate) fn from_files(
        files: Box<dyn Files>,
        name: String,
        wanted: impl Fn(&Descriptor) -> bool,
    ) -> Result<Self> {
        let index = read_layout_index(files.as_ref())?;
        let entries = index.manifests();
        let matching: Vec<&Descriptor> = entries.iter().filter(|entry| wanted(entry)).collect();
        let available = || {
            entries
                .iter()
                .filter_map(ref_name)
                .map(str::to_string)
                .collect()
        };
        let root = match matching.as_slice() {
            [one] => {
                tracing::debug!(
                    location = %files.describe(),
                    digest = %one.digest(),
                    media_type = %one.media_type(),
                    "found the image in the layout's index.json"
                );
                (*one).clone()
            }
            [] => {
                return Err(Error::ImageNotFound {
                    name: name.clone(),
                    location: files.describe(),
                    available: available(),
                });
            }
            many => {
                return Err(Error::AmbiguousImage {
                    location: files.describe(),
                    count: many.len(),
                    available: available(),
                });
            }
        };
        Ok(LayoutSource { files, name, root })
    }
}

/// The `index.json` of a layout, after checking the `oci-layout` marker.
pub(crate) fn read_layout_index(files: &dyn Files) -> Result<ImageIndex> {
    let not_a_layout = |reason: &str| Error::NotALayout {
        path: files.root().to_path_buf(),
        reason: reason.to_string(),
    };
    if files.read_small("oci-layout")?.is_none() {
        return Err(not_a_layout("it has no `oci-layout` file"));
    }
    let Some(bytes) = files.read_small("index.json")? else {
        return Err(not_a_layout("it has no `index.json` file"));
    };
    let what = format!("`{}`", files.root().join("index.json").display());
    parse_json(&bytes, &what)
}

/// The tag of a layout entry.
pub(crate) fn ref_name(entry: &Descriptor) -> Option<&str> {
    entry
        .annotations()
        .as_ref()?
        .get(REF_NAME)
        .map(String::as_str)
}

/// The path of a blob inside a layout; the digest's hex form keeps it inside `blobs/`.
pub(crate) fn blob_path(digest: &Digest) -> String {
    format!("blobs/sha256/{}", digest.hex())
}

impl ImageSource for LayoutSource {
    fn describe(&self) -> String {
        self.name.clone()
    }

    fn root(&self) -> Result<RawManifest> {
        self.manifest(&self.root)
    }

    fn manifest(&self, descriptor: &Descriptor) -> Result<RawManifest> {
        let digest = Digest::try_from(descriptor.digest())?;
        let (reader, _) = self.open_blob(&digest)?;
        let what = format!("manifest `{digest}` in {}", self.files.describe());
        let bytes = read_verified(
            reader.take(super::files::MAX_DOCUMENT_SIZE + 1),
            &digest,
            descriptor.size(),
            &what,
        )?;
        Ok(RawManifest::new(
            bytes,
            Some(descriptor.media_type().as_ref()),
        ))
    }

    fn blob(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + Send + '_>> {
        let digest = Digest::try_from(descriptor.digest())?;
        let (reader, _) = self.open_blob(&digest)?;
        let what = format!("blob `{digest}` in {}", self.files.describe());
        Ok(Box::new(VerifyingReader::new(
            reader,
            digest,
            descriptor.size(),
            what,
        )))
    }
}

impl LayoutSource {
    fn open_blob(&self, digest: &Digest) -> Result<(Box<dyn Read + Send + '_>, u64)> {
        self.files
            .open(&blob_path(digest))?
            .ok_or_else(|| Error::BlobMissing {
                digest: digest.to_string(),
                location: self.files.describe(),
            })
    }
}

/// Writes an image into an OCI layout folder, creating it when needed.
///
/// Every file is written to a temporary name in its final folder and renamed into place, and
/// `index.json` is replaced last, so an interrupted write never leaves a name pointing at
/// missing content.
pub struct LayoutDestination {
    root: PathBuf,
    tag: Option<String>,
    extra_annotations: HashMap<String, String>,
    /// Whether a tagged image drops the untagged entries of its digest (see
    /// [`LayoutDestination::drop_untagged_twins`]).
    drop_untagged_twins: bool,
    /// What to remove if the write fails before its commit: only what this writer creates.
    undo: Undo,
}

/// What a failed write into a new layout removes.
enum Undo {
    /// Nothing: the layout was there (or extkit owns the folder).
    Nothing,
    /// This folder, the outermost of those the write creates, with all in it.
    Folder(PathBuf),
    /// The layout's files inside the folder, which was empty.
    Contents,
}

impl LayoutDestination {
    /// Prepares to write into the layout folder at `path`, which is created with the first
    /// blob; the image will be tagged `tag`. A folder that exists must be a layout or empty.
    pub fn create(path: &Path, tag: Option<String>) -> Result<Self> {
        if path.is_file() {
            return Err(Error::NotALayout {
                path: path.to_path_buf(),
                reason: "it is a file (use `oci-archive:` for a tar file)".into(),
            });
        }
        let mut undo = Undo::Nothing;
        if path.exists() && !path.join("oci-layout").exists() {
            let non_empty = fs_err::read_dir(path)?.next().is_some();
            if non_empty {
                return Err(Error::NotALayout {
                    path: path.to_path_buf(),
                    reason: "it is a folder with other files in it; extkit will not write there"
                        .into(),
                });
            }
            undo = Undo::Contents;
        } else if !path.exists() {
            // The outermost missing folder; `a/b` with no `a` creates `a`.
            let outermost = path
                .ancestors()
                .take_while(|folder| !folder.as_os_str().is_empty() && !folder.exists())
                .last();
            if let Some(folder) = outermost {
                undo = Undo::Folder(folder.to_path_buf());
            }
        }
        let mut destination = LayoutDestination::owned(path, tag);
        destination.undo = undo;
        Ok(destination)
    }

    /// Writes to the layout at `path` with none of `create`'s checks, for a folder extkit
    /// owns (the local store), where another extkit may be creating the layout right now.
    pub(crate) fn owned(path: &Path, tag: Option<String>) -> Self {
        LayoutDestination {
            root: path.to_path_buf(),
            tag,
            extra_annotations: HashMap::new(),
            drop_untagged_twins: false,
            undo: Undo::Nothing,
        }
    }

    /// Makes the commit list no untagged entry for a digest that a tag names, as Docker lists
    /// no dangling copy of a tagged image: the local store's rule.
    pub(crate) fn drop_untagged_twins(&mut self) {
        self.drop_untagged_twins = true;
    }

    /// Adds an annotation to the image's entry in `index.json` (beside the tag).
    pub(crate) fn annotate(&mut self, key: &str, value: &str) {
        self.extra_annotations
            .insert(key.to_string(), value.to_string());
    }

    /// The layout folder.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Creates the layout's folders and `oci-layout` file when they are missing.
    pub(crate) fn ensure_layout(&self) -> Result<()> {
        fs_err::create_dir_all(self.root.join("blobs/sha256"))?;
        if !self.root.join("oci-layout").exists() {
            write_atomic(&self.root.join("oci-layout"), LAYOUT_FILE.as_bytes())?;
        }
        Ok(())
    }

    fn write_blob(&self, digest: &Digest, size: u64, content: &mut dyn Read) -> Result<()> {
        self.ensure_layout()?;
        let target = self.root.join(blob_path(digest));
        let folder = target.parent().expect("a blob path has a folder");
        let mut temporary = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(folder)
            .map_err(|error| Error::Io(with_path(error, folder)))?;
        let mut verified =
            VerifyingReader::new(content, digest.clone(), size, format!("blob `{digest}`"));
        // Through a large buffer, which `io::copy` reads into directly: a few large writes
        // rather than one per 8 KiB.
        let mut file = io::BufWriter::with_capacity(COPY_BUFFER, temporary.as_file_mut());
        io::copy(&mut verified, &mut file).map_err(unwrap_io)?;
        file.flush()?;
        drop(file);
        crate::pause_point("blob-written");
        make_readable(temporary.as_file())?;
        temporary.as_file().sync_data()?;
        temporary
            .persist(&target)
            .map_err(|error| Error::Io(with_path(error.error, &target)))?;
        Ok(())
    }

    /// Whether the blob file for `digest` is there and holds `size` bytes hashing to `digest`:
    /// the size first, then the content, streamed.
    pub(crate) fn verify_blob(&self, digest: &Digest, size: u64) -> Result<BlobState> {
        let path = self.root.join(blob_path(digest));
        let file = match fs_err::File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(BlobState::Missing),
            Err(error) => return Err(Error::Io(error)),
        };
        let metadata = file.metadata()?;
        if !metadata.is_file() {
            return Ok(BlobState::Missing);
        }
        if metadata.len() != size {
            tracing::debug!(%digest, expected = size, found = metadata.len(), path = %path.display(), "blob has the wrong size");
            return Ok(BlobState::Corrupt);
        }
        let what = format!("`{}`", path.display());
        let mut verified = VerifyingReader::new(file, digest.clone(), size, what);
        let mut buffer = io::BufReader::with_capacity(COPY_BUFFER, &mut verified);
        match io::copy(&mut buffer, &mut io::sink()).map_err(unwrap_io) {
            Ok(_) => Ok(BlobState::Sound),
            Err(Error::DigestMismatch { .. } | Error::SizeMismatch { .. }) => {
                tracing::debug!(%digest, path = %path.display(), "blob does not match its digest");
                Ok(BlobState::Corrupt)
            }
            Err(error) => Err(error),
        }
    }

    /// The descriptor naming `root` in `index.json`, with the tag and extra annotations.
    fn root_entry(&self, root: &RawManifest) -> Descriptor {
        let mut annotations = self.extra_annotations.clone();
        if let Some(tag) = &self.tag {
            annotations.insert(REF_NAME.to_string(), tag.clone());
        }
        let mut descriptor = root.descriptor();
        if !annotations.is_empty() {
            descriptor.set_annotations(Some(annotations));
        }
        descriptor
    }
}

/// Replaces the entries of a layout's `index.json` with what `edit` makes of them, writing the
/// new file atomically. Callers that can race must hold the layout's index lock.
pub(crate) fn edit_index<T>(
    root: &Path,
    edit: impl FnOnce(&mut Vec<Descriptor>) -> Result<T>,
) -> Result<T> {
    let files = FolderFiles::new(root);
    let mut manifests: Vec<Descriptor> = match files.read_small("index.json")? {
        Some(bytes) => {
            let what = format!("`{}`", root.join("index.json").display());
            let index: ImageIndex = parse_json(&bytes, &what)?;
            index.manifests().clone()
        }
        None => Vec::new(),
    };
    let result = edit(&mut manifests)?;
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_types::OCI_INDEX,
        "manifests": manifests,
    });
    write_atomic(&root.join("index.json"), &canonical_json(&index))?;
    Ok(result)
}

impl ImageDestination for LayoutDestination {
    fn describe(&self) -> String {
        match &self.tag {
            Some(tag) => format!("oci:{}:{tag}", self.root.display()),
            None => format!("oci:{}", self.root.display()),
        }
    }

    fn has_blob(&mut self, digest: &Digest) -> Result<bool> {
        Ok(self.root.join(blob_path(digest)).is_file())
    }

    fn blob_state(&mut self, descriptor: &Descriptor) -> Result<BlobState> {
        let digest = Digest::try_from(descriptor.digest())?;
        self.verify_blob(&digest, descriptor.size())
    }

    fn put_blob(&mut self, descriptor: &Descriptor, content: &mut dyn Read) -> Result<()> {
        let digest = Digest::try_from(descriptor.digest())?;
        self.write_blob(&digest, descriptor.size(), content)
    }

    fn put_manifest(&mut self, manifest: &RawManifest) -> Result<()> {
        let size = manifest.bytes.len() as u64;
        if self.verify_blob(&manifest.digest, size)? == BlobState::Sound {
            return Ok(());
        }
        self.write_blob(
            &manifest.digest,
            manifest.bytes.len() as u64,
            &mut &manifest.bytes[..],
        )
    }

    fn commit(mut self: Box<Self>, root: &RawManifest) -> Result<()> {
        self.ensure_layout()?;
        self.put_manifest(root)?;
        let entry = self.root_entry(root);
        let tag = self.tag.clone();
        let full_name = self.extra_annotations.get(IMAGE_NAME).cloned();
        let drop_untagged_twins = self.drop_untagged_twins;
        let full_name_of = |entry: &Descriptor| {
            entry
                .annotations()
                .as_ref()
                .and_then(|annotations| annotations.get(IMAGE_NAME).cloned())
        };
        edit_index(&self.root, |manifests| {
            // A tag names one image; an untagged image replaces only its own untagged copy. In
            // a docker archive, where `acme/a:1` and `acme/b:1` share the tag `1`, the full
            // name decides.
            manifests.retain(|old| match (&full_name, &tag) {
                (Some(name), _) => full_name_of(old).as_ref() != Some(name),
                (None, Some(tag)) => ref_name(old) != Some(tag.as_str()),
                (None, None) => ref_name(old).is_some() || old.digest() != entry.digest(),
            });
            let digest = entry.digest().clone();
            manifests.push(entry);
            let tagged = |old: &Descriptor| ref_name(old).is_some() && *old.digest() == digest;
            if drop_untagged_twins && manifests.iter().any(tagged) {
                manifests.retain(|old| ref_name(old).is_some() || *old.digest() != digest);
            }
            Ok(())
        })?;
        self.undo = Undo::Nothing;
        Ok(())
    }
}

impl Drop for LayoutDestination {
    /// A write that did not reach its commit removes what it created, so a failed copy into
    /// a new folder leaves no layout without an `index.json`.
    fn drop(&mut self) {
        match &self.undo {
            Undo::Nothing => {}
            Undo::Folder(folder) => {
                if folder.exists() {
                    tracing::debug!(folder = %folder.display(), "removing an unfinished layout");
                    let _ = std::fs::remove_dir_all(folder);
                }
            }
            Undo::Contents => {
                let _ = std::fs::remove_dir_all(self.root.join("blobs"));
                let _ = std::fs::remove_file(self.root.join("oci-layout"));
            }
        }
    }
}

/// Writes a file by writing a temporary file beside it and renaming it into place.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let folder = path.parent().unwrap_or(Path::new("."));
    let mut temporary = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(folder)
        .map_err(|error| Error::Io(with_path(error, folder)))?;
    temporary.write_all(bytes)?;
    make_readable(temporary.as_file())?;
    temporary.as_file().sync_data()?;
    temporary
        .persist(path)
        .map_err(|error| Error::Io(with_path(error.error, path)))?;
    Ok(())
}

/// Gives a temporary file the mode of an ordinary file (0644): temporary files are created
/// readable by their owner only, and image content is not secret.
pub(crate) fn make_readable(file: &std::fs::File) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Adds the path to an I/O error from a crate that does not say it.
pub(crate) fn with_path(error: io::Error, path: &Path) -> io::Error {
    io::Error::new(
        error.kind(),
        format!("failed to write in `{}`: {error}", path.display()),
    )
}
