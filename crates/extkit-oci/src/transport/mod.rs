//! Where images are stored, behind one pair of traits.
//!
//! A [`Location`] is written in skopeo's syntax, which users already know: `oci:DIR[:TAG]`,
//! `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:REF]` and `docker://REF`. An
//! [`ImageSource`] reads an image from one; an [`ImageDestination`] writes one.

mod archive;
mod copy;
mod docker_archive;
mod files;
mod json;
mod layout;
mod location;
mod store;

use std::io::Read;

use oci_spec::image::Descriptor;

use crate::{Digest, RawManifest, Result};

pub use archive::{OciArchiveDestination, open_oci_archive};
pub use copy::{CopyReport, copy_image, join_manifests};
pub use docker_archive::{DockerArchiveDestination, DockerArchiveSource};
pub use json::canonical_json;
pub use layout::{LayoutDestination, LayoutSource, REF_NAME};
pub use location::Location;
pub use store::{
    CheckReport, GcReport, HOME_VARIABLE, Store, StoreDestination, StoredImage, data_folder,
};

/// Something an image can be read from.
pub trait ImageSource {
    /// A short description for messages, such as `oci:/tmp/layout:latest`.
    fn describe(&self) -> String;

    /// The image's root document: an index or a manifest, exactly as stored.
    fn root(&self) -> Result<RawManifest>;

    /// A manifest or index named by a descriptor, verified against its digest and size.
    fn manifest(&self, descriptor: &Descriptor) -> Result<RawManifest>;

    /// A blob named by a descriptor, streamed through a reader that fails at the end if the
    /// content does not match the descriptor's digest and size.
    fn blob(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + Send + '_>>;

    /// Says which blobs [`ImageSource::blob`] will be asked for next, in that order, so that a
    /// source reading over a network can download some of them ahead, at the same time. A hint
    /// only: each blob is still read through [`ImageSource::blob`], whose reader must then
    /// behave as it would have (the same content, the same errors). The default does nothing.
    fn prefetch(&self, descriptors: &[Descriptor]) {
        let _ = descriptors;
    }

    /// A whole blob in memory, verified; for configs and other small documents.
    fn blob_bytes(&self, descriptor: &Descriptor) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.blob(descriptor)?
            .read_to_end(&mut bytes)
            .map_err(crate::digest::unwrap_io)?;
        Ok(bytes)
    }
}

/// What a destination holds of a blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlobState {
    /// Not there.
    Missing,
    /// There, and sound.
    Sound,
    /// There now, because the destination just linked it from another of its own
    /// repositories (a registry's cross-repository mount) instead of being sent it.
    Mounted,
    /// There, but its size or digest is wrong: it must be written again.
    Corrupt,
}

/// Something an image can be written to.
///
/// Blobs and manifests are written first, in any order; [`ImageDestination::commit`] then names
/// the root document, so a reader never sees a name pointing at missing content.
pub trait ImageDestination {
    /// A short description for messages.
    fn describe(&self) -> String;

    /// Whether the destination already holds the blob with this digest.
    fn has_blob(&mut self, digest: &Digest) -> Result<bool>;

    /// What the destination holds of the blob a descriptor names. Destinations that can read
    /// their copy back (a layout, the store) verify its size and digest, so a corrupt copy is
    /// found and replaced by the next [`ImageDestination::put_blob`]; the others trust
    /// [`ImageDestination::has_blob`].
    fn blob_state(&mut self, descriptor: &Descriptor) -> Result<BlobState> {
        let digest = Digest::try_from(descriptor.digest())?;
        Ok(if self.has_blob(&digest)? {
            BlobState::Sound
        } else {
            BlobState::Missing
        })
    }

    /// Writes a blob read from `content`, which must match the descriptor's digest and size.
    fn put_blob(&mut self, descriptor: &Descriptor, content: &mut dyn Read) -> Result<()>;

    /// Writes a blob held in memory, which must match the descriptor's digest and size.
    /// Destinations that keep blobs in memory override it to share the bytes rather than copy
    /// them; the others read them through [`ImageDestination::put_blob`].
    fn put_blob_bytes(&mut self, descriptor: &Descriptor, bytes: &bytes::Bytes) -> Result<()> {
        self.put_blob(descriptor, &mut &bytes[..])
    }

    /// Writes a manifest or index (not the root's name; see [`ImageDestination::commit`]).
    fn put_manifest(&mut self, manifest: &RawManifest) -> Result<()>;

    /// Whether the destination holds one platform per image (a docker-archive), so that a copy
    /// of one chosen platform writes its manifest rather than a one-entry index.
    fn holds_one_platform(&self) -> bool {
        false
    }

    /// Names `root` as the image, under the destination's tag, and finishes the write.
    fn commit(self: Box<Self>, root: &RawManifest) -> Result<()>;
}

/// Opens a local location for reading; registries and bare references are opened by the
/// caller, which knows the registry settings.
pub fn open_source(location: &Location) -> Result<Box<dyn ImageSource>> {
    match location {
        Location::Oci { path, tag } => Ok(Box::new(LayoutSource::open(path, tag.as_deref())?)),
        Location::OciArchive { path, tag } => Ok(Box::new(open_oci_archive(path, tag.as_deref())?)),
        Location::DockerArchive { path, reference } => Ok(Box::new(DockerArchiveSource::open(
            path,
            reference.as_ref(),
        )?)),
        Location::Store(reference) => Ok(Box::new(Store::open_default()?.source(reference)?)),
        Location::Registry(_) | Location::Named(_) => Err(not_local(location)),
    }
}

/// Opens a local location for writing; registries and bare references are opened by the
/// caller, which knows the registry settings.
pub fn open_destination(location: &Location) -> Result<Box<dyn ImageDestination>> {
    match location {
        Location::Oci { path, tag } => Ok(Box::new(LayoutDestination::create(path, tag.clone())?)),
        Location::OciArchive { path, tag } => {
            Ok(Box::new(OciArchiveDestination::create(path, tag.clone())?))
        }
        Location::DockerArchive { path, reference } => Ok(Box::new(
            DockerArchiveDestination::create(path, reference.clone())?,
        )),
        Location::Store(reference) => Ok(Box::new(
            Store::open_default()?.destination(Some(reference))?,
        )),
        Location::Registry(_) | Location::Named(_) => Err(not_local(location)),
    }
}

fn not_local(location: &Location) -> crate::Error {
    crate::Error::Unsupported {
        transport: location.transport_name().to_string(),
        operation: "opening without registry settings".to_string(),
    }
}
