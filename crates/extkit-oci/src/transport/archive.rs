//! `oci-archive:`: an OCI image layout inside a tar file.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use oci_spec::image::Descriptor;

use super::ImageDestination;
use super::files::{Files, TarFiles};
use super::layout::{LayoutDestination, LayoutSource, make_readable, ref_name, with_path};
use crate::{Digest, Error, RawManifest, Result};

/// Opens the image tagged `tag` (or the only image) in the OCI archive at `path`.
pub fn open_oci_archive(path: &Path, tag: Option<&str>) -> Result<LayoutSource> {
    let files = TarFiles::scan(path)?;
    let name = match tag {
        Some(tag) => format!("oci-archive:{}:{tag}", path.display()),
        None => format!("oci-archive:{}", path.display()),
    };
    LayoutSource::from_files(Box::new(files), name, |entry| {
        tag.is_none_or(|tag| ref_name(entry) == Some(tag))
    })
}

/// Writes an image into an OCI archive, replacing the file when the write succeeds.
///
/// The layout is first written to a temporary folder beside the target, then packed into a
/// temporary tar file that is renamed over the target, so a failed write leaves the old
/// archive as it was. An archive that is there already is unpacked into that folder first,
/// so its other tags are kept, as in a layout folder; a file that is not an OCI archive is
/// not replaced.
pub struct OciArchiveDestination {
    target: PathBuf,
    staging: tempfile::TempDir,
    layout: LayoutDestination,
}

impl OciArchiveDestination {
    /// Prepares to write the archive at `path`, tagging the image `tag`.
    pub fn create(path: &Path, tag: Option<String>) -> Result<Self> {
        let existing = existing_archive(path, "an OCI archive", &["oci-layout", "index.json"])?;
        let staging = staging_folder(path)?;
        if let Some(files) = existing {
            unpack_layout(&files, staging.path())?;
        }
        let layout = LayoutDestination::create(staging.path(), tag)?;
        Ok(OciArchiveDestination {
            target: path.to_path_buf(),
            staging,
            layout,
        })
    }
}

/// An empty temporary folder beside `target`, removed when dropped.
pub(crate) fn staging_folder(target: &Path) -> Result<tempfile::TempDir> {
    let folder = parent_folder(target);
    tempfile::Builder::new()
        .prefix(".extkit-staging-")
        .tempdir_in(folder)
        .map_err(|error| Error::Io(with_path(error, folder)))
}

/// The archive at `path` when there is one, holding the `required` members of `kind`; a file
/// that is anything else is refused rather than replaced.
pub(crate) fn existing_archive(
    path: &Path,
    kind: &'static str,
    required: &[&str],
) -> Result<Option<TarFiles>> {
    let refuse = |reason: String| Error::NotAnArchiveToReplace {
        path: path.to_path_buf(),
        kind,
        reason,
    };
    match fs_err::symlink_metadata(path) {
        Ok(metadata) if !metadata.is_file() => {
            return Err(refuse("it is not a regular file".into()));
        }
        // An empty file (from `mktemp`, say) holds nothing to lose.
        Ok(metadata) if metadata.len() == 0 => return Ok(None),
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.into()),
    }
    let files = match TarFiles::scan(path) {
        Ok(files) => files,
        Err(Error::NotATar { .. }) => return Err(refuse("it is not a tar file".into())),
        Err(Error::MalformedArchive { reason, .. }) => return Err(refuse(reason)),
        Err(other) => return Err(other),
    };
    if required.iter().any(|member| !files.contains(member)) {
        let names: Vec<String> = required.iter().map(|m| format!("`{m}`")).collect();
        return Err(refuse(format!("it has no {}", names.join(" and "))));
    }
    Ok(Some(files))
}

/// Copies the files of an archive into `folder`: the layout (`oci-layout`, `index.json`, the
/// blobs) and whatever else it holds, such as the `manifest.json` of `docker save`. A member
/// whose path would leave the folder is not written.
pub(crate) fn unpack_layout(files: &TarFiles, folder: &Path) -> Result<()> {
    for path in files.paths() {
        let inside = !path.is_empty()
            && !path.starts_with('/')
            && path.split('/').all(|part| !matches!(part, "" | "." | ".."));
        if !inside {
            continue;
        }
        let (mut content, _) = files.open(path)?.expect("listed members open");
        let target = folder.join(path);
        let parent = target.parent().expect("a member path has a folder");
        fs_err::create_dir_all(parent)?;
        let mut file = fs_err::File::create(&target)?;
        io::copy(&mut content, &mut file)?;
    }
    Ok(())
}

fn parent_folder(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

impl ImageDestination for OciArchiveDestination {
    fn describe(&self) -> String {
        self.layout.describe().replacen(
            &format!("oci:{}", self.staging.path().display()),
            &format!("oci-archive:{}", self.target.display()),
            1,
        )
    }

    fn has_blob(&mut self, digest: &Digest) -> Result<bool> {
        self.layout.has_blob(digest)
    }

    /// Verified, as in a layout: a corrupt blob of the archive it replaces is written again.
    fn blob_state(&mut self, descriptor: &Descriptor) -> Result<super::BlobState> {
        self.layout.blob_state(descriptor)
    }

    fn put_blob(&mut self, descriptor: &Descriptor, content: &mut dyn Read) -> Result<()> {
        self.layout.put_blob(descriptor, content)
    }

    fn put_manifest(&mut self, manifest: &RawManifest) -> Result<()> {
        self.layout.put_manifest(manifest)
    }

    fn commit(self: Box<Self>, root: &RawManifest) -> Result<()> {
        let OciArchiveDestination {
            target,
            staging,
            layout,
        } = *self;
        Box::new(layout).commit(root)?;
        pack_folder(staging.path(), &target)
    }
}

/// Packs a folder into a tar file at `target`: sorted names, fixed owner, mode and time, so the
/// same content always gives the same archive.
pub(crate) fn pack_folder(folder: &Path, target: &Path) -> Result<()> {
    let parent = parent_folder(target);
    let temporary = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(parent)
        .map_err(|error| Error::Io(with_path(error, parent)))?;
    let mut builder = tar::Builder::new(io::BufWriter::new(temporary.as_file()));
    let mut paths = Vec::new();
    collect_files(folder, folder, &mut paths)?;
    paths.sort();
    for (relative, is_dir) in paths {
        let mut header = tar::Header::new_ustar();
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        if is_dir {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
            builder.append_data(&mut header, format!("{relative}/"), io::empty())?;
        } else {
            let file = fs_err::File::open(folder.join(&relative))?;
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(0o644);
            header.set_size(file.metadata()?.len());
            builder.append_data(&mut header, &relative, file)?;
        }
    }
    let writer = builder.into_inner()?;
    writer.into_inner().map_err(|error| error.into_error())?;
    make_readable(temporary.as_file())?;
    temporary.as_file().sync_data()?;
    temporary
        .persist(target)
        .map_err(|error| Error::Io(with_path(error.error, target)))?;
    Ok(())
}

/// Lists the files and folders under `folder` as `/`-separated relative paths, skipping
/// temporary files.
fn collect_files(base: &Path, folder: &Path, out: &mut Vec<(String, bool)>) -> Result<()> {
    for entry in fs_err::read_dir(folder)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(".tmp-") {
            continue;
        }
        let path = entry.path();
        let relative = path
            .strip_prefix(base)
            .expect("a child of the base folder")
            .components()
            .map(|part| part.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let is_dir = entry.file_type()?.is_dir();
        out.push((relative, is_dir));
        if is_dir {
            collect_files(base, &path, out)?;
        }
    }
    Ok(())
}
