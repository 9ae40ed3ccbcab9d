//! Layers: writing deterministic tar layers, and (later) reading files out of them.
//!
//! This is the only crate that writes layer tars. It does not know about manifests or
//! transports: it turns files into a [`LayerBlob`] that `extkit-oci`'s writer stores.

mod writer;

pub use extkit_oci::{Compression, LayerBlob};
pub use writer::{LayerBuilder, LayerError};
