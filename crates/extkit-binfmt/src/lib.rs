//! Which OS and CPU each host binary is really for.
//!
//! Recognises ELF, thin and universal Mach-O, PE, `#!` scripts and Windows scripts, and
//! reports the OCI OS, the OCI architectures (one per slice) and a few header details.
//! Parsing goes through the `object` crate. Streams are read lazily through
//! [`object::ReadCache`]: only the headers needed are read, every size taken from the
//! file is bounded, and malformed input yields [`Format::Unknown`] rather than a panic.
//!
//! ```
//! let info = extkit_binfmt::inspect_bytes(b"#!/bin/sh\necho hi\n", Some("hello.sh"));
//! assert_eq!(info.format, extkit_binfmt::Format::Script);
//! assert_eq!(info.os, Some(extkit_binfmt::Os::Any));
//! ```

mod arm;
mod elf;
mod error;
mod info;
mod macho;
mod pe;
mod reader;
mod sniff;

use std::fs::File;
use std::io::{Read, Seek};
use std::path::Path;

pub use error::Error;
pub use info::{BinaryInfo, Details, Format, Linking, Os, Subsystem};

use reader::ErrorRecordingReader;

/// Inspect the file at `path`, reading only the headers needed.
///
/// The file name is used to recognise `.cmd`, `.bat` and `.ps1` scripts.
pub fn inspect_path(path: &Path) -> Result<BinaryInfo, Error> {
    // The type is checked before opening: opening a FIFO would wait for a writer forever.
    let metadata = std::fs::metadata(path).map_err(|source| Error::Open {
        path: path.to_owned(),
        source,
    })?;
    if !metadata.is_file() {
        return Err(Error::NotRegularFile {
            path: path.to_owned(),
            kind: kind_of(&metadata.file_type()),
        });
    }
    let file = File::open(path).map_err(|source| Error::Open {
        path: path.to_owned(),
        source,
    })?;
    let file_name = path.file_name().and_then(|name| name.to_str());
    inspect_named_reader(file, file_name, &path.display().to_string())
}

/// Inspect a seekable stream, reading only the byte ranges the headers point at.
///
/// `file_name` is used to recognise `.cmd`, `.bat` and `.ps1` scripts and to name the
/// input in errors. Errors come only from the reader itself.
pub fn inspect_reader<R: Read + Seek>(
    reader: R,
    file_name: Option<&str>,
) -> Result<BinaryInfo, Error> {
    inspect_named_reader(reader, file_name, file_name.unwrap_or("<input>"))
}

/// Inspect bytes already in memory; never fails, malformed input is [`Format::Unknown`].
pub fn inspect_bytes(bytes: &[u8], file_name: Option<&str>) -> BinaryInfo {
    sniff::inspect_data(bytes, file_name)
}

/// What a file that is not a regular file is, for messages.
fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_block_device() || file_type.is_char_device() {
            return "a device";
        }
    }
    if file_type.is_dir() {
        "a folder"
    } else {
        "a special file"
    }
}

/// `inspect_reader` with the name to use in errors given separately.
fn inspect_named_reader<R: Read + Seek>(
    reader: R,
    file_name: Option<&str>,
    display_name: &str,
) -> Result<BinaryInfo, Error> {
    let cache = object::ReadCache::new(ErrorRecordingReader::new(reader));
    let info = sniff::inspect_data(&cache, file_name);

    // A read that failed made some header look missing; report the failure instead.
    match cache.into_inner().into_first_error() {
        Some(source) => Err(Error::Read {
            name: display_name.to_owned(),
            source,
        }),
        None => Ok(info),
    }
}
