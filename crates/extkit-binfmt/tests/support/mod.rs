//! Helpers shared by the integration tests: fixture loading and a counting reader.

#![allow(dead_code)] // each test binary uses a different subset

use std::cell::Cell;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::rc::Rc;

/// Every binary fixture written by `scripts/make-binfmt-fixtures.sh`.
pub const BINARY_FIXTURES: &[&str] = &[
    "hello-linux-amd64",
    "hello-linux-amd64-dynamic",
    "hello-linux-arm64",
    "hello-linux-armv7",
    "hello-linux-armv6",
    "hello-linux-386",
    "hello-darwin-amd64",
    "hello-darwin-arm64",
    "hello-darwin-universal",
    "hello-windows-amd64.exe",
    "hello-windows-arm64.exe",
    "hello-windows-arm64-gui.exe",
];

/// The text fixtures.
pub const TEXT_FIXTURES: &[&str] = &["hello.sh", "hello.cmd", "hello.ps1"];

/// The path of a fixture by file name.
pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The bytes of a fixture by file name.
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap_or_else(|error| panic!("fixture {name}: {error}"))
}

/// A virtual file: a few real byte ranges placed at chosen offsets, zeros everywhere
/// else, and a total length that may be far larger than memory. Counts bytes read.
pub struct SparseFile {
    pieces: Vec<(u64, Vec<u8>)>,
    length: u64,
    position: u64,
    bytes_read: Rc<Cell<u64>>,
}

impl SparseFile {
    /// A file of `length` bytes holding each `(offset, bytes)` piece.
    pub fn new(pieces: Vec<(u64, Vec<u8>)>, length: u64) -> (Self, Rc<Cell<u64>>) {
        let bytes_read = Rc::new(Cell::new(0));
        let file = SparseFile {
            pieces,
            length,
            position: 0,
            bytes_read: Rc::clone(&bytes_read),
        };
        (file, bytes_read)
    }

    fn byte_at(&self, offset: u64) -> u8 {
        for (start, bytes) in &self.pieces {
            if offset >= *start && offset - start < bytes.len() as u64 {
                return bytes[(offset - start) as usize];
            }
        }
        0
    }
}

impl Read for SparseFile {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let available = self.length.saturating_sub(self.position);
        let count = (buffer.len() as u64).min(available) as usize;
        for (index, byte) in buffer[..count].iter_mut().enumerate() {
            *byte = self.byte_at(self.position + index as u64);
        }
        self.position += count as u64;
        self.bytes_read.set(self.bytes_read.get() + count as u64);
        Ok(count)
    }
}

impl Seek for SparseFile {
    fn seek(&mut self, position: SeekFrom) -> io::Result<u64> {
        let target = match position {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::End(delta) => self.length.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
        };
        self.position =
            target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "bad seek"))?;
        Ok(self.position)
    }
}
