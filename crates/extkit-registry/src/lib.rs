//! The registry transport of extkit: `docker://REF`, read and written over the OCI
//! distribution API with oci-client.
//!
//! [`RegistrySource`] and [`RegistryDestination`] implement extkit-oci's image traits, so
//! `copy_image` moves images between registries and local transports. Credentials come from
//! Docker's `config.json`, certificate authorities from `--ca-cert` and Docker's `certs.d`
//! folders; plain HTTP is used only for loopback registries or with `insecure`.

mod auth;
mod connection;
mod destination;
mod download;
mod error;
pub mod hosts;
mod options;
mod source;
mod upload;

pub use auth::{Credentials, find_credentials};
pub use destination::RegistryDestination;
pub use error::{Error, Result};
pub use options::{CHUNK_SIZE_VARIABLE, Progress, RegistryOptions};
pub use source::RegistrySource;

/// Turns one of our errors into the image model's error the image traits return: image
/// errors as they are, registry errors wrapped in an I/O error (see [`registry_error`]).
pub(crate) fn to_image_error(error: Error) -> extkit_oci::Error {
    match error {
        Error::Image(inner) => inner,
        Error::Shared(shared) => match std::sync::Arc::try_unwrap(shared) {
            Ok(inner) => to_image_error(inner),
            Err(shared) => extkit_oci::Error::Io(std::io::Error::other(Error::Shared(shared))),
        },
        other => extkit_oci::Error::Io(std::io::Error::other(other)),
    }
}

/// Takes the image model's error back out of an I/O error, as a verifying reader makes them.
pub(crate) fn from_io(error: std::io::Error) -> Error {
    if error
        .get_ref()
        .is_some_and(|inner| inner.is::<extkit_oci::Error>())
    {
        let inner = error.into_inner().expect("checked above");
        return Error::Image(
            *inner
                .downcast::<extkit_oci::Error>()
                .expect("checked above"),
        );
    }
    if error.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        let inner = error.into_inner().expect("checked above");
        return *inner.downcast::<Error>().expect("checked above");
    }
    Error::Image(extkit_oci::Error::Io(error))
}

/// The registry error inside an image model error, when it carries one: registry failures
/// cross the image traits as I/O errors wrapping an [`Error`].
pub fn registry_error(error: &extkit_oci::Error) -> Option<&Error> {
    match error {
        extkit_oci::Error::Io(io) => io.get_ref()?.downcast_ref::<Error>(),
        _ => None,
    }
}
