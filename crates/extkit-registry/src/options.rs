//! What opening a registry needs: TLS and credential settings, transfer tuning, progress.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::hosts::{default_certs_d_roots, docker_config_folder};

/// The environment variable that sets the upload chunk size in bytes (mostly for tests).
pub const CHUNK_SIZE_VARIABLE: &str = "EXTKIT_REGISTRY_CHUNK_SIZE";

/// The largest chunk oci-client sends in one `PATCH` request; larger chunks are split.
const MAX_CHUNK_SIZE: usize = 4 << 20;

/// Blobs up to this size go in one streamed `PUT`, as Docker and skopeo send every blob; only
/// larger ones are cut into `PATCH` chunks, so that a failure costs one chunk's retry at most.
/// Each chunk costs the CNCF registry a saved hash state: a 16 MiB blob sent in 4 MiB chunks
/// took it a third more CPU than in one request.
const MONOLITHIC_LIMIT: u64 = 64 << 20;

/// Receives transfer progress; the binary draws bars with it, libraries never print.
pub trait Progress: Send + Sync {
    /// A transfer of `size` bytes of blob `digest` starts; `action` is `upload` or `download`.
    fn begin(&self, digest: &str, size: u64, action: &'static str);
    /// `bytes` more bytes of blob `digest` were transferred.
    fn advance(&self, digest: &str, action: &'static str, bytes: u64);
    /// The transfer of blob `digest` ended, successfully or not.
    fn end(&self, digest: &str, action: &'static str);
}

/// How to reach registries and how to move blobs.
#[derive(Clone)]
pub struct RegistryOptions {
    /// HTTPS without certificate checks, falling back to plain HTTP.
    pub insecure: bool,
    /// Extra certificate authorities (PEM files) for every registry.
    pub ca_certs: Vec<PathBuf>,
    /// Docker's config folder, holding `config.json`.
    pub docker_config: PathBuf,
    /// Folders laid out as Docker's `certs.d`: `ROOT/HOST:PORT/*.crt`.
    pub certs_d_roots: Vec<PathBuf>,
    /// Blobs up to this size are uploaded in one request; larger ones in chunks.
    pub monolithic_limit: u64,
    /// The size of each `PATCH` of a chunked upload (at most 4 MiB).
    pub chunk_size: usize,
    /// How many blobs are uploaded at once.
    pub parallel_uploads: usize,
    /// How many blobs are downloaded at once, ahead of a copy's writes; also how many
    /// downloaded blobs may wait for the destination, so it bounds memory: each is held in
    /// memory up to 32 MiB, in an anonymous temporary file above.
    pub parallel_downloads: usize,
    /// How many times a request failing with 5xx, 429 or a dropped connection is tried again.
    pub retries: u32,
    /// Where transfer progress goes, if anywhere.
    pub progress: Option<Arc<dyn Progress>>,
}

impl RegistryOptions {
    /// Docker's defaults, with the config folder from `DOCKER_CONFIG` (else `~/.docker`) and
    /// the chunk size from `EXTKIT_REGISTRY_CHUNK_SIZE` when set (which also makes every blob
    /// larger than one chunk go in chunks).
    pub fn from_environment() -> Self {
        let docker_config = docker_config_folder();
        let chosen_chunk_size = std::env::var(CHUNK_SIZE_VARIABLE)
            .ok()
            .and_then(|text| text.parse::<usize>().ok())
            .filter(|size| *size > 0)
            .map(|size| size.min(MAX_CHUNK_SIZE));
        let (chunk_size, monolithic_limit) = match chosen_chunk_size {
            Some(size) => (size, size as u64),
            None => (MAX_CHUNK_SIZE, MONOLITHIC_LIMIT),
        };
        RegistryOptions {
            insecure: false,
            ca_certs: Vec::new(),
            certs_d_roots: default_certs_d_roots(&docker_config),
            docker_config,
            monolithic_limit,
            chunk_size,
            parallel_uploads: 4,
            parallel_downloads: 4,
            retries: 3,
            progress: None,
        }
    }
}

impl fmt::Debug for RegistryOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryOptions")
            .field("insecure", &self.insecure)
            .field("ca_certs", &self.ca_certs)
            .field("docker_config", &self.docker_config)
            .field("certs_d_roots", &self.certs_d_roots)
            .field("monolithic_limit", &self.monolithic_limit)
            .field("chunk_size", &self.chunk_size)
            .field("parallel_uploads", &self.parallel_uploads)
            .field("parallel_downloads", &self.parallel_downloads)
            .field("retries", &self.retries)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}
