//! The image model of extkit.
//!
//! This crate knows what an image is: references and their Docker normalisation, digests and
//! verified blob reads, platforms and containerd's matching rules, the media types of OCI and
//! Docker schema 2, and the transports that store images (`oci:`, `oci-archive:`,
//! `docker-archive:`). It knows nothing about extensions, layers' contents or registries.

mod digest;
mod error;
mod image;
mod media_type;
mod platform;
mod reference;
pub mod transport;
mod writer;

pub use digest::{Digest, VerifyingReader, sha256_digest};
pub use error::Error;
pub use image::{Image, IndexEntry, IndexEntryKind, RawManifest, is_attestation};
pub use media_type::{Compression, MediaKind, media_types};
pub use platform::{Platform, PlatformMatcher};
pub use reference::ImageReference;
pub use writer::{ImageWriter, LayerBlob, PlatformImage, rfc3339};

/// A named point where crash-safety tests stop the process: when the environment variable
/// `EXTKIT_TEST_PAUSE` holds `step`, this says so on stderr and waits to be killed. It does
/// nothing otherwise.
pub fn pause_point(step: &str) {
    if std::env::var_os("EXTKIT_TEST_PAUSE").is_some_and(|wanted| wanted == step) {
        #[allow(
            clippy::print_stderr,
            reason = "the test waiting for this line reads stderr"
        )]
        {
            eprintln!("paused at {step}");
        }
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Re-exports of the `oci-spec` types this crate's API uses.
pub mod spec {
    pub use oci_spec::image::{
        Descriptor, ImageConfiguration, ImageIndex, ImageManifest, MediaType,
        Platform as SpecPlatform,
    };
}
