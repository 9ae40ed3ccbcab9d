//! Layers: writing deterministic tar layers, and reading chosen files out of them.
//!
//! This is the only crate that reads or writes layer tars. It does not know about manifests or
//! transports: it turns files into a [`LayerBlob`] that `extkit-oci`'s writer stores, and
//! streams a layer's bytes to find the paths a [`FileQuery`] asks for.

mod reader;
mod writer;

pub use extkit_oci::{Compression, LayerBlob};
pub use reader::{
    Capture, Entry, EntryKind, FileQuery, FileTree, LayerChanges, ReadError, clean, escapes,
    scan_layer,
};
pub use writer::{LayerBuilder, LayerError};
