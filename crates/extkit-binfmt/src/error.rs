//! The one error type of this crate.

use std::io;
use std::path::PathBuf;

/// Why a file could not be inspected.
///
/// Malformed content is never an error: it is reported as [`crate::Format::Unknown`].
/// Only failing to open or read the input is.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened.
    #[error("cannot open `{}`: {source}", path.display())]
    Open {
        /// The path that was given.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },

    /// The path is not a regular file (a FIFO, a socket, a device or a folder), which is
    /// refused before opening it, since opening a FIFO waits for a writer.
    #[error("cannot read `{}`: not a regular file ({kind})", path.display())]
    NotRegularFile {
        /// The path that was given.
        path: PathBuf,
        /// What it is instead, such as `a FIFO`.
        kind: &'static str,
    },

    /// Seeking or reading the input failed part way.
    #[error("cannot read `{name}`: {source}")]
    Read {
        /// The path, or the file name given to [`crate::inspect_reader`], or `<input>`.
        name: String,
        /// The underlying I/O error.
        source: io::Error,
    },
}
