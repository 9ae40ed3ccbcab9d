//! A built image held in memory: written once by the builder's [`ImageWriter`], then read by
//! the validator and copied to every destination without building twice.
//!
//! [`ImageWriter`]: extkit_oci::ImageWriter

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use extkit_oci::spec::Descriptor;
use extkit_oci::transport::{ImageDestination, ImageSource};
use extkit_oci::{Digest, Error, RawManifest, Result};

/// Blobs and manifests by digest, and the root once committed.
#[derive(Default)]
struct Content {
    blobs: HashMap<String, Bytes>,
    manifests: HashMap<String, RawManifest>,
    root: Option<RawManifest>,
}

/// An image in memory; [`MemoryImage::destination`] fills it, then it is an [`ImageSource`].
#[derive(Clone, Default)]
pub struct MemoryImage {
    content: Arc<Mutex<Content>>,
}

impl MemoryImage {
    /// A destination that writes into this image.
    pub fn destination(&self) -> Box<dyn ImageDestination> {
        Box::new(self.clone())
    }

    fn missing(digest: &str) -> Error {
        Error::BlobMissing {
            digest: digest.to_string(),
            location: "the built image".into(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Content> {
        self.content
            .lock()
            .expect("no thread panics holding the image")
    }
}

impl ImageDestination for MemoryImage {
    fn describe(&self) -> String {
        "the built image".into()
    }

    fn has_blob(&mut self, digest: &Digest) -> Result<bool> {
        Ok(self.lock().blobs.contains_key(&digest.to_string()))
    }

    fn put_blob(&mut self, descriptor: &Descriptor, content: &mut dyn Read) -> Result<()> {
        let mut bytes = Vec::with_capacity(descriptor.size() as usize);
        content.read_to_end(&mut bytes)?;
        self.lock()
            .blobs
            .insert(descriptor.digest().to_string(), bytes.into());
        Ok(())
    }

    /// Keeps the builder's bytes, shared rather than copied.
    fn put_blob_bytes(&mut self, descriptor: &Descriptor, bytes: &Bytes) -> Result<()> {
        self.lock()
            .blobs
            .insert(descriptor.digest().to_string(), bytes.clone());
        Ok(())
    }

    fn put_manifest(&mut self, manifest: &RawManifest) -> Result<()> {
        self.lock()
            .manifests
            .insert(manifest.digest.to_string(), manifest.clone());
        Ok(())
    }

    fn commit(self: Box<Self>, root: &RawManifest) -> Result<()> {
        self.lock().root = Some(root.clone());
        Ok(())
    }
}

impl ImageSource for MemoryImage {
    fn describe(&self) -> String {
        "the built image".into()
    }

    fn root(&self) -> Result<RawManifest> {
        self.lock()
            .root
            .clone()
            .ok_or_else(|| Self::missing("the root"))
    }

    fn manifest(&self, descriptor: &Descriptor) -> Result<RawManifest> {
        let digest = descriptor.digest().to_string();
        let content = self.lock();
        content
            .manifests
            .get(&digest)
            .or_else(|| {
                content
                    .root
                    .as_ref()
                    .filter(|root| root.digest.to_string() == digest)
            })
            .cloned()
            .ok_or_else(|| Self::missing(&digest))
    }

    fn blob(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + Send + '_>> {
        let digest = descriptor.digest().to_string();
        let bytes = self
            .lock()
            .blobs
            .get(&digest)
            .cloned()
            .ok_or_else(|| Self::missing(&digest))?;
        Ok(Box::new(std::io::Cursor::new(bytes)))
    }

    fn blob_bytes(&self, descriptor: &Descriptor) -> Result<Vec<u8>> {
        let digest = descriptor.digest().to_string();
        self.lock()
            .blobs
            .get(&digest)
            .map(|bytes| bytes.to_vec())
            .ok_or_else(|| Self::missing(&digest))
    }
}
