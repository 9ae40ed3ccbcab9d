//! The local store: an OCI image layout in extkit's data folder, named by full references.
//!
//! Images are kept in one layout, each entry of `index.json` naming its image by the full
//! normalised reference (`docker.io/acme/ext:1.0`) in `org.opencontainers.image.ref.name`,
//! so any tool that reads OCI layouts can read the store. Writers share `store.lock` while
//! they add blobs and take `index.lock` alone to rewrite `index.json`; garbage collection takes
//! `store.lock` alone, so it never deletes a blob a running writer still has to name.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use oci_spec::image::Descriptor;

use super::files::FolderFiles;
use super::layout::{
    LayoutDestination, LayoutSource, blob_path, edit_index, read_layout_index, ref_name,
};
use super::{BlobState, ImageDestination};
use crate::digest::VerifyingReader;
use crate::{Digest, Error, Image, ImageReference, RawManifest, Result};

/// The environment variable that replaces extkit's data folder.
pub const HOME_VARIABLE: &str = "EXTKIT_HOME";

/// extkit's data folder: `EXTKIT_HOME`, else the platform's data folder with `extkit` in it
/// (`$XDG_DATA_HOME/extkit` or `~/.local/share/extkit` on Linux, `~/Library/Application
/// Support/extkit` on macOS, `%APPDATA%\extkit` on Windows).
pub fn data_folder() -> Result<PathBuf> {
    if let Some(home) = std::env::var_os(HOME_VARIABLE).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    let missing = || {
        Error::Io(io::Error::new(
            io::ErrorKind::NotFound,
            format!("cannot find a data folder for extkit; set `{HOME_VARIABLE}`"),
        ))
    };
    let base = if cfg!(windows) {
        std::env::var_os("APPDATA")
            .map(PathBuf::from)
            .ok_or_else(missing)?
    } else if cfg!(target_os = "macos") {
        std::env::home_dir()
            .ok_or_else(missing)?
            .join("Library/Application Support")
    } else {
        match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
            Some(data) => PathBuf::from(data),
            None => std::env::home_dir()
                .ok_or_else(missing)?
                .join(".local/share"),
        }
    };
    Ok(base.join("extkit"))
}

/// The local image store.
#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
}

/// One named (or untagged) image in the store.
#[derive(Clone, Debug)]
pub struct StoredImage {
    /// Its reference, or `None` for an untagged image.
    pub reference: Option<ImageReference>,
    /// The descriptor of its root index or manifest.
    pub descriptor: Descriptor,
}

/// What `store check` found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Blobs whose content does not match their name, with the reason.
    pub corrupt: Vec<(Digest, String)>,
    /// Blobs some image needs that are not in the store, with the image that needs them.
    pub missing: Vec<(Digest, String)>,
    /// Blobs checked.
    pub blobs_checked: usize,
}

/// What `store gc` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Unreferenced blobs and leftover temporary files removed.
    pub files_removed: usize,
    /// Their total size.
    pub bytes_freed: u64,
}

impl Store {
    /// The store in extkit's data folder.
    pub fn open_default() -> Result<Self> {
        Ok(Store::at(data_folder()?.join("store")))
    }

    /// The store at `root`.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Store { root: root.into() }
    }

    /// The store's folder.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Every image in the store, in `index.json` order.
    pub fn list(&self) -> Result<Vec<StoredImage>> {
        if !self.root.join("index.json").exists() {
            return Ok(Vec::new());
        }
        let index = read_layout_index(&FolderFiles::new(&self.root))?;
        Ok(index
            .manifests()
            .iter()
            .map(|descriptor| StoredImage {
                reference: ref_name(descriptor).and_then(|name| name.parse().ok()),
                descriptor: descriptor.clone(),
            })
            .collect())
    }

    /// The stored image a reference names: by tag, or by digest within its repository.
    pub fn find(&self, reference: &ImageReference) -> Result<Option<StoredImage>> {
        Ok(self
            .list()?
            .into_iter()
            .find(|image| matches(image, reference)))
    }

    /// Opens the image a reference names for reading.
    pub fn source(&self, reference: &ImageReference) -> Result<LayoutSource> {
        let Some(image) = self.find(reference)? else {
            return Err(Error::ImageNotFound {
                name: reference.to_string(),
                location: "the local store".into(),
                available: self.names()?,
            });
        };
        self.open_stored(&image)
    }

    /// Opens a stored image, named or not, for reading.
    pub fn open_stored(&self, image: &StoredImage) -> Result<LayoutSource> {
        let name = match &image.reference {
            Some(reference) => format!("store:{}", reference.familiar()),
            None => format!("store:@{}", image.descriptor.digest()),
        };
        let wanted = image.descriptor.clone();
        LayoutSource::from_files(Box::new(FolderFiles::new(&self.root)), name, move |entry| {
            *entry == wanted
        })
    }

    /// Opens the store for writing an image to be named `reference` (untagged when it has
    /// no tag).
    pub fn destination(&self, reference: Option<&ImageReference>) -> Result<StoreDestination> {
        let name = reference.map(|r| r.to_string());
        // Two writers may create a new store at once, so the emptiness check of a user's
        // layout folder does not apply here.
        let mut layout = LayoutDestination::owned(&self.root, name.clone());
        layout.drop_untagged_twins();
        layout.ensure_layout()?;
        let shared = lock_file(&self.root.join("store.lock"))?;
        shared
            .lock_shared()
            .map_err(|error| lock_error(error, &self.root))?;
        Ok(StoreDestination {
            store: self.clone(),
            layout,
            name,
            _shared: shared,
        })
    }

    /// Names the image `source` also as `target`; gives its digest.
    pub fn tag(&self, source: &ImageReference, target: &ImageReference) -> Result<Digest> {
        let _index = self.lock_index()?;
        let Some(image) = self.find(source)? else {
            return Err(Error::ImageNotFound {
                name: source.to_string(),
                location: "the local store".into(),
                available: self.names()?,
            });
        };
        let name = target.to_string();
        let mut entry = image.descriptor.clone();
        let mut annotations = entry.annotations().clone().unwrap_or_default();
        annotations.insert(super::REF_NAME.to_string(), name.clone());
        entry.set_annotations(Some(annotations));
        edit_index(&self.root, |manifests| {
            manifests.retain(|old| ref_name(old) != Some(name.as_str()));
            manifests.push(entry);
            Ok(())
        })?;
        Digest::try_from(image.descriptor.digest())
    }

    /// Removes the name `reference`; the blobs stay until [`Store::gc`]. Gives the digest the
    /// name pointed at.
    pub fn untag(&self, reference: &ImageReference) -> Result<Digest> {
        let _index = self.lock_index()?;
        let Some(image) = self.find(reference)? else {
            return Err(Error::ImageNotFound {
                name: reference.to_string(),
                location: "the local store".into(),
                available: self.names()?,
            });
        };
        let removed = image.descriptor.clone();
        edit_index(&self.root, |manifests| {
            manifests.retain(|old| *old != removed);
            Ok(())
        })?;
        Digest::try_from(removed.digest())
    }

    /// Removes the untagged images whose root has `digest`; the blobs stay until
    /// [`Store::gc`]. Gives how many entries went (tagged images are left alone).
    pub fn remove_untagged(&self, digest: &Digest) -> Result<usize> {
        let _index = self.lock_index()?;
        let untagged = |entry: &Descriptor| {
            ref_name(entry).is_none() && entry.digest().to_string() == digest.as_str()
        };
        if !self.list()?.iter().any(|image| untagged(&image.descriptor)) {
            return Ok(0);
        }
        let mut removed = 0;
        edit_index(&self.root, |manifests| {
            let before = manifests.len();
            manifests.retain(|entry| !untagged(entry));
            removed = before - manifests.len();
            Ok(())
        })?;
        Ok(removed)
    }

    /// Verifies every blob against its name and every image's tree of blobs.
    pub fn check(&self) -> Result<CheckReport> {
        let mut report = CheckReport::default();
        for (digest, path) in self.blob_files()? {
            report.blobs_checked += 1;
            let file = fs_err::File::open(&path)?;
            let size = file.metadata()?.len();
            let what = format!("`{}`", path.display());
            let mut verified = VerifyingReader::new(file, digest.clone(), size, what);
            if let Err(error) = io::copy(&mut verified, &mut io::sink()) {
                report
                    .corrupt
                    .push((digest, crate::digest::unwrap_io(error).to_string()));
            }
        }
        for image in self.list()? {
            let name = image
                .reference
                .as_ref()
                .map_or_else(|| "an untagged image".to_string(), |r| r.familiar());
            let mut seen = BTreeSet::new();
            self.walk(&image.descriptor, &mut seen, &mut |digest| {
                report.missing.push((digest, name.clone()));
            })?;
        }
        report.corrupt.sort();
        report.missing.sort();
        report.missing.dedup();
        Ok(report)
    }

    /// Removes blobs no image needs and temporary files left by interrupted writers.
    pub fn gc(&self) -> Result<GcReport> {
        let mut report = GcReport::default();
        if !self.root.exists() {
            return Ok(report);
        }
        // Alone in the store: no writer is between writing a blob and naming it.
        let exclusive = lock_file(&self.root.join("store.lock"))?;
        exclusive
            .lock()
            .map_err(|error| lock_error(error, &self.root))?;

        let mut needed = BTreeSet::new();
        for image in self.list()? {
            self.walk(&image.descriptor, &mut needed, &mut |_| {})?;
        }
        let folder = self.root.join("blobs/sha256");
        if !folder.exists() {
            return Ok(report);
        }
        for entry in fs_err::read_dir(&folder)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let keep = format!("sha256:{name}")
                .parse::<Digest>()
                .is_ok_and(|d| needed.contains(&d));
            if !keep {
                report.bytes_freed += entry.metadata()?.len();
                report.files_removed += 1;
                fs_err::remove_file(entry.path())?;
            }
        }
        Ok(report)
    }

    /// Visits every blob below `descriptor` once, adding it to `seen` and calling `missing`
    /// for each that is not in the store. Blobs that cannot be parsed are not descended into.
    fn walk(
        &self,
        descriptor: &Descriptor,
        seen: &mut BTreeSet<Digest>,
        missing: &mut dyn FnMut(Digest),
    ) -> Result<()> {
        let digest = Digest::try_from(descriptor.digest())?;
        if !seen.insert(digest.clone()) {
            return Ok(());
        }
        let path = self.root.join(blob_path(&digest));
        if !path.is_file() {
            missing(digest);
            return Ok(());
        }
        let kind = crate::MediaKind::of(descriptor.media_type().as_ref());
        if !matches!(kind, crate::MediaKind::Index | crate::MediaKind::Manifest) {
            return Ok(());
        }
        let mut bytes = Vec::new();
        fs_err::File::open(&path)?
            .take(super::files::MAX_DOCUMENT_SIZE)
            .read_to_end(&mut bytes)?;
        let raw = RawManifest::new(bytes, Some(descriptor.media_type().as_ref()));
        match raw.parse(&format!("blob `{digest}`")) {
            Ok(Image::Index { entries, .. }) => {
                for entry in entries {
                    self.walk(&entry.descriptor, seen, missing)?;
                }
            }
            Ok(Image::Manifest { manifest, .. }) => {
                for blob in std::iter::once(manifest.config()).chain(manifest.layers()) {
                    self.walk(blob, seen, missing)?;
                }
            }
            Err(_) => {}
        }
        Ok(())
    }

    /// Every file in `blobs/sha256` whose name is a digest, sorted.
    fn blob_files(&self) -> Result<BTreeMap<Digest, PathBuf>> {
        let folder = self.root.join("blobs/sha256");
        let mut files = BTreeMap::new();
        if !folder.exists() {
            return Ok(files);
        }
        for entry in fs_err::read_dir(&folder)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Ok(digest) = format!("sha256:{name}").parse::<Digest>() {
                files.insert(digest, entry.path());
            }
        }
        Ok(files)
    }

    fn names(&self) -> Result<Vec<String>> {
        Ok(self
            .list()?
            .iter()
            .filter_map(|image| image.reference.as_ref().map(|r| r.familiar()))
            .collect())
    }

    /// Takes `index.lock` alone, for a read-modify-write of `index.json`.
    fn lock_index(&self) -> Result<File> {
        LayoutDestination::owned(&self.root, None).ensure_layout()?;
        let file = lock_file(&self.root.join("index.lock"))?;
        file.lock().map_err(|error| lock_error(error, &self.root))?;
        Ok(file)
    }
}

/// Whether a stored image is the one a reference names.
fn matches(image: &StoredImage, reference: &ImageReference) -> bool {
    let Some(stored) = &image.reference else {
        return false;
    };
    if stored.name() != reference.name() {
        return false;
    }
    match (reference.digest(), reference.tag()) {
        (Some(digest), _) => image.descriptor.digest().as_ref() == digest.as_str(),
        (None, tag) => stored.tag() == tag,
    }
}

fn lock_file(path: &Path) -> Result<File> {
    Ok(fs_err::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?
        .into())
}

fn lock_error(error: io::Error, root: &Path) -> Error {
    Error::Io(io::Error::new(
        error.kind(),
        format!("cannot lock the store `{}`: {error}", root.display()),
    ))
}

/// Writes an image into the store, naming it when done.
pub struct StoreDestination {
    store: Store,
    layout: LayoutDestination,
    name: Option<String>,
    /// Held while this writer lives, so garbage collection waits for it.
    _shared: File,
}

impl ImageDestination for StoreDestination {
    fn describe(&self) -> String {
        match &self.name {
            Some(name) => format!("store:{name}"),
            None => "the local store (untagged)".into(),
        }
    }

    fn has_blob(&mut self, digest: &Digest) -> Result<bool> {
        self.layout.has_blob(digest)
    }

    fn blob_state(&mut self, descriptor: &Descriptor) -> Result<BlobState> {
        self.layout.blob_state(descriptor)
    }

    fn put_blob(&mut self, descriptor: &Descriptor, content: &mut dyn Read) -> Result<()> {
        self.layout.put_blob(descriptor, content)
    }

    fn put_manifest(&mut self, manifest: &RawManifest) -> Result<()> {
        self.layout.put_manifest(manifest)
    }

    /// Names the image; an untagged entry for the same content is dropped once a tag names
    /// it, and none is added beside a tag that names it already (the layout's
    /// `drop_untagged_twins`).
    fn commit(self: Box<Self>, root: &RawManifest) -> Result<()> {
        let StoreDestination { store, layout, .. } = *self;
        let _index = store.lock_index()?;
        Box::new(layout).commit(root)
    }
}
