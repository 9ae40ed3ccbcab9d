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
