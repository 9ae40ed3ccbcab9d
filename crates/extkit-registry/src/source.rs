//! Reading an image from a registry: manifests as asked for, blobs streamed as asked for or
//! downloaded a few at a time ahead of a copy's writes (see [`crate::download`]).

use std::io::{self, Read};
use std::sync::Arc;

use bytes::Bytes;
use extkit_oci::spec::Descriptor;
use extkit_oci::transport::ImageSource;
use extkit_oci::{Digest, ImageReference, RawManifest, VerifyingReader, sha256_digest};
use futures_util::StreamExt;
use oci_client::client::{BlobResponse, SizedStream};
use oci_client::{Reference, RegistryOperation};
use tracing::debug;

use crate::connection::{Connection, is_transient_io, runtime};
use crate::destination::IN_MEMORY_LIMIT;
use crate::download::{Job, Prefetcher};
use crate::{RegistryOptions, Result, to_image_error};

/// An image in a registry, opened for reading.
pub struct RegistrySource {
    connection: Arc<Connection>,
    reference: ImageReference,
    prefetcher: Prefetcher,
}

impl RegistrySource {
    /// Connects to the registry of `reference` and authenticates for pulling.
    pub fn open(reference: &ImageReference, options: &RegistryOptions) -> Result<Self> {
        let connection = runtime().block_on(Connection::open(
            options,
            reference.registry(),
            reference.repository(),
            RegistryOperation::Pull,
        ))?;
        Ok(RegistrySource {
            connection: Arc::new(connection),
            reference: reference.clone(),
            prefetcher: Prefetcher::new(
                options.parallel_downloads,
                IN_MEMORY_LIMIT,
                options.progress.clone(),
            ),
        })
    }

    /// A blob's download as a reader that resumes dropped connections and fails at the end
    /// when the content does not match the descriptor; nothing is asked before its first read.
    fn blob_reader(&self, descriptor: &Descriptor, digest: Digest) -> VerifyingReader<BlobReader> {
        let reader = BlobReader {
            connection: self.connection.clone(),
            reference: self.by_digest(digest.as_str()),
            digest: digest.to_string(),
            size: descriptor.size(),
            stream: None,
            pending: Bytes::new(),
            delivered: 0,
            failures: 0,
            started: false,
        };
        let what = format!("blob `{digest}` of {}", self.describe());
        VerifyingReader::new(reader, digest, descriptor.size(), what)
    }

    fn by_digest(&self, digest: &str) -> Reference {
        self.connection
            .reference(self.reference.repository(), None, Some(digest))
    }

    fn read_root(&self) -> Result<RawManifest> {
        let reference = self.connection.reference(
            self.reference.repository(),
            self.reference.tag(),
            self.reference.digest().map(Digest::as_str),
        );
        let bytes = runtime().block_on(self.connection.pull_manifest(&reference))?;
        let manifest = RawManifest::new(bytes.to_vec(), None);
        if let Some(expected) = self.reference.digest()
            && *expected != manifest.digest
        {
            return Err(extkit_oci::Error::DigestMismatch {
                what: format!("the root of {}", self.describe()),
                expected: expected.to_string(),
                found: manifest.digest.to_string(),
            }
            .into());
        }
        debug!(digest = %manifest.digest, media_type = %manifest.media_type, "root manifest read");
        Ok(manifest)
    }

    fn read_manifest(&self, descriptor: &Descriptor) -> Result<RawManifest> {
        let digest = Digest::try_from(descriptor.digest())?;
        let reference = self.by_digest(digest.as_str());
        let bytes = runtime().block_on(self.connection.pull_manifest(&reference))?;
        let found = sha256_digest(&bytes);
        let what = format!("manifest `{digest}` of {}", self.describe());
        if found != digest {
            return Err(extkit_oci::Error::DigestMismatch {
                what,
                expected: digest.to_string(),
                found: found.to_string(),
            }
            .into());
        }
        if bytes.len() as u64 != descriptor.size() {
            return Err(extkit_oci::Error::SizeMismatch {
                what,
                expected: descriptor.size(),
                found: bytes.len() as u64,
            }
            .into());
        }
        Ok(RawManifest::new(
            bytes.to_vec(),
            Some(descriptor.media_type().as_ref()),
        ))
    }
}

impl ImageSource for RegistrySource {
    fn describe(&self) -> String {
        format!("docker://{}", self.reference)
    }

    fn root(&self) -> extkit_oci::Result<RawManifest> {
        self.read_root().map_err(to_image_error)
    }

    fn manifest(&self, descriptor: &Descriptor) -> extkit_oci::Result<RawManifest> {
        self.read_manifest(descriptor).map_err(to_image_error)
    }

    fn blob(&self, descriptor: &Descriptor) -> extkit_oci::Result<Box<dyn Read + Send + '_>> {
        let digest = Digest::try_from(descriptor.digest())?;
        if let Some(prefetched) = self.prefetcher.take(digest.as_str(), descriptor.size()) {
            return Ok(prefetched);
        }
        Ok(Box::new(self.blob_reader(descriptor, digest)))
    }

    /// Starts downloading the blobs, `parallel_downloads` at a time, so that [`Self::blob`]
    /// finds them downloaded and verified.
    fn prefetch(&self, descriptors: &[Descriptor]) {
        let jobs: Vec<Job> = descriptors
            .iter()
            .filter_map(|descriptor| {
                let digest = Digest::try_from(descriptor.digest()).ok()?;
                Some(Job {
                    digest: digest.to_string(),
                    size: descriptor.size(),
                    reader: Box::new(self.blob_reader(descriptor, digest)),
                })
            })
            .collect();
        debug!(blobs = jobs.len(), "downloading blobs ahead");
        self.prefetcher.add(jobs);
    }
}

/// A blob download as a blocking reader, resumed from where it stopped when the connection
/// drops. Verification is left to the [`VerifyingReader`] around it.
struct BlobReader {
    connection: Arc<Connection>,
    reference: Reference,
    digest: String,
    size: u64,
    stream: Option<SizedStream>,
    pending: Bytes,
    delivered: u64,
    failures: u32,
    started: bool,
}

impl BlobReader {
    /// Starts (or restarts at `delivered`) the download.
    async fn connect(&mut self) -> Result<()> {
        let connection = &self.connection;
        let reference = &self.reference;
        let digest = self.digest.as_str();
        let offset = self.delivered;
        let what = format!("download blob `{digest}`");
        let response = connection
            .retry(&what, || async move {
                if offset == 0 {
                    connection
                        .client
                        .pull_blob_stream(reference, digest)
                        .await
                        .map(BlobResponse::Full)
                } else {
                    connection
                        .client
                        .pull_blob_stream_partial(reference, digest, offset, None)
                        .await
                }
            })
            .await
            .map_err(|source| {
                connection.failure(
                    source,
                    &what,
                    reference.repository(),
                    RegistryOperation::Pull,
                )
            })?;
        let stream = match response {
            BlobResponse::Partial(stream) => stream,
            BlobResponse::Full(mut stream) => {
                // The registry sent the whole blob again: skip what was already delivered.
                let mut skip = offset;
                while skip > 0 {
                    match stream.next().await {
                        Some(Ok(mut chunk)) => {
                            let count = skip.min(chunk.len() as u64);
                            let _ = chunk.split_to(count as usize);
                            skip -= count;
                            self.pending = chunk;
                        }
                        Some(Err(error)) => return Err(extkit_oci::Error::Io(error).into()),
                        None => break,
                    }
                }
                stream
            }
        };
        if let Some(progress) = &self.connection.options.progress
            && !self.started
        {
            progress.begin(&self.digest, self.size, "download");
        }
        self.started = true;
        self.stream = Some(stream);
        Ok(())
    }

    fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        loop {
            if self.stream.is_none() {
                runtime()
                    .block_on(self.connect())
                    .map_err(io::Error::other)?;
                if !self.pending.is_empty() {
                    return Ok(Some(std::mem::take(&mut self.pending)));
                }
            }
            let stream = self.stream.as_mut().expect("connected above");
            match runtime().block_on(stream.next()) {
                Some(Ok(chunk)) => return Ok(Some(chunk)),
                None => return Ok(None),
                Some(Err(error)) if is_digest_error(&error) => {
                    // oci-client's own check failed; end the stream so that the verifying
                    // reader around us reports the mismatch with both digests.
                    return Ok(None);
                }
                Some(Err(error))
                    if self.failures < self.connection.options.retries
                        && is_transient_io(&error) =>
                {
                    self.failures += 1;
                    debug!(digest = %self.digest, %error, offset = self.delivered, "download interrupted; resuming");
                    self.stream = None;
                }
                Some(Err(error)) => return Err(error),
            }
        }
    }
}

fn is_digest_error(error: &io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.is::<oci_client::errors::DigestError>())
}

impl Read for BlobReader {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if buffer.is_empty() {
            return Ok(0);
        }
        if self.pending.is_empty() {
            match self.next_chunk()? {
                Some(chunk) => self.pending = chunk,
                None => {
                    if let Some(progress) = &self.connection.options.progress {
                        progress.end(&self.digest, "download");
                    }
                    return Ok(0);
                }
            }
        }
        let count = buffer.len().min(self.pending.len());
        buffer[..count].copy_from_slice(&self.pending.split_to(count));
        self.delivered += count as u64;
        if let Some(progress) = &self.connection.options.progress {
            progress.advance(&self.digest, "download", count as u64);
        }
        Ok(count)
    }
}
