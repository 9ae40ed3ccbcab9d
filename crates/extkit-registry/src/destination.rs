//! Writing an image to a registry, with uploads running in the background.
//!
//! `copy_image` hands blobs over one at a time. Each blob is read into memory (or a
//! temporary file when large) and its upload started as a task, at most
//! `parallel_uploads` at once; a manifest's push waits only for the blobs and manifests it
//! names, and `commit` waits for everything before tagging the root. So reading the next blob
//! overlaps with uploading the previous ones without changing the copy loop.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::sync::Arc;

use bytes::Bytes;
use extkit_oci::spec::Descriptor;
use extkit_oci::transport::{BlobState, ImageDestination};
use extkit_oci::{Digest, Image, ImageReference, RawManifest};
use futures_util::future::{BoxFuture, FutureExt, Shared};
use oci_client::{Reference, RegistryOperation};
use tokio::sync::Semaphore;
use tracing::debug;

use crate::connection::{Connection, runtime};
use crate::upload::{BlobContent, upload_blob};
use crate::{Error, RegistryOptions, Result, to_image_error};

/// Blobs up to this size are held in memory while they upload (or once downloaded ahead of a
/// copy's writes); larger ones in a temporary file.
pub(crate) const IN_MEMORY_LIMIT: u64 = 32 << 20;

/// A write that other writes can wait for.
type Pending = Shared<BoxFuture<'static, std::result::Result<(), Arc<Error>>>>;

/// An image in a registry, opened for writing.
pub struct RegistryDestination {
    connection: Arc<Connection>,
    reference: ImageReference,
    mount_from: Option<String>,
    /// Blobs mounted from `mount_from` by this copy.
    mounted: HashSet<String>,
    pending: HashMap<String, Pending>,
    present: HashSet<String>,
    slots: Arc<Semaphore>,
}

impl RegistryDestination {
    /// Connects to the registry of `reference` and authenticates for pushing.
    pub fn open(reference: &ImageReference, options: &RegistryOptions) -> Result<Self> {
        let connection = runtime().block_on(Connection::open(
            options,
            reference.registry(),
            reference.repository(),
            RegistryOperation::Push,
        ))?;
        Ok(RegistryDestination {
            connection: Arc::new(connection),
            reference: reference.clone(),
            mount_from: None,
            mounted: HashSet::new(),
            pending: HashMap::new(),
            present: HashSet::new(),
            slots: Arc::new(Semaphore::new(options.parallel_uploads.max(1))),
        })
    }

    /// Mounts missing blobs from `source` when it is another repository of the same registry,
    /// instead of uploading them.
    pub fn mount_from(&mut self, source: &ImageReference) {
        if source.registry() == self.reference.registry()
            && source.repository() != self.reference.repository()
        {
            self.mount_from = Some(source.repository().to_string());
        }
    }

    fn repository(&self) -> &str {
        self.reference.repository()
    }

    fn by_digest(&self, digest: &str) -> Reference {
        self.connection
            .reference(self.repository(), None, Some(digest))
    }

    fn check_blob(&mut self, digest: &Digest) -> Result<bool> {
        if self.pending.contains_key(digest.as_str()) || self.present.contains(digest.as_str()) {
            debug!(%digest, "blob already written by this copy");
            return Ok(true);
        }
        let connection = &self.connection;
        let reference = self.by_digest(digest.as_str());
        let what = format!("check blob `{digest}`");
        let exists = runtime()
            .block_on(connection.retry(&what, || {
                connection.client.blob_exists(&reference, digest.as_str())
            }))
            .map_err(|source| {
                connection.failure(
                    source,
                    &what,
                    self.reference.repository(),
                    RegistryOperation::Pull,
                )
            })?;
        if exists {
            debug!(%digest, "blob already in the registry, skipped");
        } else if let Some(source) = &self.mount_from {
            let from = connection.reference(source, None, Some(digest.as_str()));
            match runtime().block_on(connection.client.mount_blob(
                &reference,
                &from,
                digest.as_str(),
            )) {
                Ok(()) => {
                    debug!(%digest, from = %source, "blob mounted from another repository");
                    self.present.insert(digest.to_string());
                    self.mounted.insert(digest.to_string());
                    return Ok(true);
                }
                // oci-client takes the 202 of a refused mount (an upload session) as an error.
                Err(error) => debug!(%digest, %error, "blob not mounted; uploading it"),
            }
        }
        if exists {
            self.present.insert(digest.to_string());
        }
        Ok(exists)
    }

    fn start_upload(&mut self, descriptor: &Descriptor, content: &mut dyn Read) -> Result<()> {
        let digest = Digest::try_from(descriptor.digest())?;
        let size = descriptor.size();
        let permit = runtime()
            .block_on(self.slots.clone().acquire_owned())
            .expect("the semaphore is never closed");
        let content = read_content(content, size)?;
        let connection = self.connection.clone();
        let reference = self.by_digest(digest.as_str());
        let key = digest.to_string();
        let task = async move {
            let result =
                upload_blob(&connection, &reference, digest.as_str(), size, &content).await;
            drop(permit);
            result
        };
        self.pending.insert(key, spawn_shared(task));
        Ok(())
    }

    fn start_manifest(&mut self, manifest: &RawManifest, tag: Option<&str>) -> Result<()> {
        let waits = self.dependencies(manifest)?;
        let connection = self.connection.clone();
        let reference = match tag {
            Some(tag) => connection.reference(self.repository(), Some(tag), None),
            None => self.by_digest(manifest.digest.as_str()),
        };
        let bytes = Bytes::from(manifest.bytes.clone());
        let media_type = manifest.media_type.clone();
        let task = async move {
            for wait in waits {
                wait.await.map_err(Error::Shared)?;
            }
            let content_type = reqwest::header::HeaderValue::from_str(&media_type)
                .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("application/json"));
            let what = format!("push manifest `{}`", reference.whole());
            connection
                .retry(&what, || {
                    connection.client.push_manifest_raw(
                        &reference,
                        bytes.clone(),
                        content_type.clone(),
                    )
                })
                .await
                .map_err(|source| {
                    connection.failure(
                        source,
                        &what,
                        reference.repository(),
                        RegistryOperation::Push,
                    )
                })?;
            debug!(reference = %reference.whole(), "manifest pushed");
            Ok(())
        };
        let key = match tag {
            Some(tag) => format!("tag:{tag}"),
            None => manifest.digest.to_string(),
        };
        self.pending.insert(key, spawn_shared(task));
        Ok(())
    }

    /// The pending writes a manifest names: an index's manifests, a manifest's config and
    /// layers.
    fn dependencies(&self, manifest: &RawManifest) -> Result<Vec<Pending>> {
        let digests: Vec<String> = match manifest
            .parse(&format!("manifest `{}`", manifest.digest))?
        {
            Image::Index { entries, .. } => entries.iter().map(|e| e.digest.to_string()).collect(),
            Image::Manifest { manifest, .. } => std::iter::once(manifest.config())
                .chain(manifest.layers().iter())
                .map(|d| d.digest().to_string())
                .collect(),
        };
        Ok(digests
            .iter()
            .filter_map(|digest| self.pending.get(digest).cloned())
            .collect())
    }

    fn finish(mut self, root: &RawManifest) -> Result<()> {
        match self.reference.tag() {
            Some(tag) => {
                let tag = tag.to_string();
                if !self.pending.contains_key(root.digest.as_str()) {
                    self.start_manifest(root, None)?;
                }
                // The root by digest first, so that the tag never names a missing manifest.
                let root_push = self.pending.get(root.digest.as_str()).cloned();
                if let Some(root_push) = root_push {
                    runtime().block_on(root_push).map_err(Error::Shared)?;
                }
                self.start_manifest(root, Some(&tag))?;
            }
            None => {
                if !self.pending.contains_key(root.digest.as_str()) {
                    self.start_manifest(root, None)?;
                }
            }
        }
        let pending: Vec<Pending> = self.pending.drain().map(|(_, wait)| wait).collect();
        let results = runtime().block_on(futures_util::future::join_all(pending));
        for result in results {
            result.map_err(Error::Shared)?;
        }
        Ok(())
    }
}

/// Runs a write as a task that several others may wait for.
fn spawn_shared(task: impl Future<Output = Result<()>> + Send + 'static) -> Pending {
    let handle = runtime().spawn(task);
    async move {
        match handle.await {
            Ok(result) => result.map_err(Arc::new),
            Err(error) => Err(Arc::new(Error::Image(extkit_oci::Error::Io(
                std::io::Error::other(format!("an upload task failed: {error}")),
            )))),
        }
    }
    .boxed()
    .shared()
}

/// Reads a blob into memory, or into a temporary file when it is large.
fn read_content(content: &mut dyn Read, size: u64) -> Result<BlobContent> {
    if size <= IN_MEMORY_LIMIT {
        let mut bytes = Vec::with_capacity(size as usize);
        content.read_to_end(&mut bytes).map_err(crate::from_io)?;
        return Ok(BlobContent::Memory(Bytes::from(bytes)));
    }
    let mut file = tempfile::NamedTempFile::new().map_err(extkit_oci::Error::Io)?;
    std::io::copy(content, file.as_file_mut()).map_err(crate::from_io)?;
    file.as_file_mut().flush().map_err(extkit_oci::Error::Io)?;
    Ok(BlobContent::File(Arc::new(file)))
}

impl ImageDestination for RegistryDestination {
    fn describe(&self) -> String {
        format!("docker://{}", self.reference)
    }

    fn has_blob(&mut self, digest: &Digest) -> extkit_oci::Result<bool> {
        self.check_blob(digest).map_err(to_image_error)
    }

    fn blob_state(&mut self, descriptor: &Descriptor) -> extkit_oci::Result<BlobState> {
        let digest = Digest::try_from(descriptor.digest())?;
        let there = self.has_blob(&digest)?;
        Ok(match there {
            false => BlobState::Missing,
            true if self.mounted.contains(digest.as_str()) => BlobState::Mounted,
            true => BlobState::Sound,
        })
    }

    fn put_blob(
        &mut self,
        descriptor: &Descriptor,
        content: &mut dyn Read,
    ) -> extkit_oci::Result<()> {
        self.start_upload(descriptor, content)
            .map_err(to_image_error)
    }

    fn put_manifest(&mut self, manifest: &RawManifest) -> extkit_oci::Result<()> {
        if self.pending.contains_key(manifest.digest.as_str()) {
            return Ok(());
        }
        self.start_manifest(manifest, None).map_err(to_image_error)
    }

    fn commit(self: Box<Self>, root: &RawManifest) -> extkit_oci::Result<()> {
        self.finish(root).map_err(to_image_error)
    }
}
