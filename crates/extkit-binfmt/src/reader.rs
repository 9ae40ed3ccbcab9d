//! A `Read + Seek` wrapper that remembers the first I/O error.
//!
//! `object::ReadCache` turns every I/O error into a bare parse failure. Keeping the
//! error here lets `inspect_reader` report a failing disk as an error instead of
//! calling the file "unknown".

use std::io::{self, Read, Seek, SeekFrom};

/// Passes reads and seeks through, keeping the first error it sees.
pub(crate) struct ErrorRecordingReader<R> {
    inner: R,
    first_error: Option<io::Error>,
}

impl<R> ErrorRecordingReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        ErrorRecordingReader {
            inner,
            first_error: None,
        }
    }

    /// The first I/O error seen, if any.
    pub(crate) fn into_first_error(self) -> Option<io::Error> {
        self.first_error
    }

    fn record<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        match result {
            Err(error) if error.kind() != io::ErrorKind::Interrupted => {
                // Keep the original (with its OS error code); the cache only needs to
                // know that something failed.
                let kind = error.kind();
                self.first_error.get_or_insert(error);
                Err(io::Error::from(kind))
            }
            other => other,
        }
    }
}

impl<R: Read> Read for ErrorRecordingReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let result = self.inner.read(buffer);
        self.record(result)
    }

    fn read_exact(&mut self, buffer: &mut [u8]) -> io::Result<()> {
        // A short read here means the input is shorter than its seekable length claimed.
        let result = self.inner.read_exact(buffer);
        self.record(result)
    }
}

impl<R: Seek> Seek for ErrorRecordingReader<R> {
    fn seek(&mut self, position: SeekFrom) -> io::Result<u64> {
        let result = self.inner.seek(position);
        self.record(result)
    }
}
