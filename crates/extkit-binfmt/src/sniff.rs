//! Deciding which format a file is, then handing it to the format's inspector.
//!
//! Everything here works on an `object::ReadRef`, so the same code serves an in-memory
//! slice and a lazily read stream (`object::ReadCache`). Only the ranges asked for are
//! read, and every size taken from the file is checked against the limits below first.

use std::path::Path;

use object::elf::{FileHeader32, FileHeader64};
use object::macho::{FatArch32, FatArch64, MachHeader32, MachHeader64};
use object::pe::{ImageNtHeaders32, ImageNtHeaders64};
use object::{Endianness, FileKind, ReadRef};

use crate::info::{BinaryInfo, Details, Format, Os};
use crate::{elf, macho, pe};

/// The most bytes read for any one table or section named by the file's headers
/// (program headers, section headers, load commands, `.ARM.attributes`, `PT_DYNAMIC`).
pub(crate) const MAX_TABLE_BYTES: u64 = 1024 * 1024;

/// How far to look for the end of a `#!` line.
const SCRIPT_LINE_WINDOW: u64 = 4096;

/// Inspect the data and never fail: anything unrecognised is `Format::Unknown`.
pub(crate) fn inspect_data<'data, R: ReadRef<'data>>(
    data: R,
    file_name: Option<&str>,
) -> BinaryInfo {
    // A file with a binary magic stays a binary (or unknown, when broken) whatever its
    // name; only files without one can be scripts.
    let binary = match FileKind::parse(data) {
        Ok(FileKind::Elf32) => elf::inspect::<FileHeader32<Endianness>, R>(data),
        Ok(FileKind::Elf64) => elf::inspect::<FileHeader64<Endianness>, R>(data),
        Ok(FileKind::MachO32) => macho::inspect_thin::<MachHeader32<Endianness>, R>(data),
        Ok(FileKind::MachO64) => macho::inspect_thin::<MachHeader64<Endianness>, R>(data),
        Ok(FileKind::MachOFat32) => macho::inspect_universal::<FatArch32, R>(data),
        Ok(FileKind::MachOFat64) => macho::inspect_universal::<FatArch64, R>(data),
        Ok(FileKind::Pe32) => pe::inspect::<ImageNtHeaders32, R>(data),
        Ok(FileKind::Pe64) => pe::inspect::<ImageNtHeaders64, R>(data),
        _ => return inspect_text(data, file_name),
    };
    binary.unwrap_or_else(BinaryInfo::unknown)
}

/// A `#!` script, a Windows script by name, or unknown.
fn inspect_text<'data, R: ReadRef<'data>>(data: R, file_name: Option<&str>) -> BinaryInfo {
    let length = data.len().unwrap_or(0);
    let head = data
        .read_bytes_at(0, length.min(SCRIPT_LINE_WINDOW))
        .unwrap_or_default();
    if let Some(line) = head.strip_prefix(b"#!") {
        return script_info(line);
    }

    if file_name.is_some_and(is_windows_script_name) {
        return BinaryInfo {
            format: Format::WindowsScript,
            os: Some(Os::Windows),
            architectures: Vec::new(),
            details: Details::default(),
        };
    }

    BinaryInfo::unknown()
}

/// A `#!` script; `line` is everything after the `#!`.
fn script_info(line: &[u8]) -> BinaryInfo {
    let end = line
        .iter()
        .position(|&byte| byte == b'\n')
        .unwrap_or(line.len());
    let interpreter = String::from_utf8_lossy(&line[..end]).trim().to_owned();

    BinaryInfo {
        format: Format::Script,
        os: Some(Os::Any),
        architectures: Vec::new(),
        details: Details {
            interpreter: (!interpreter.is_empty()).then_some(interpreter),
            ..Details::default()
        },
    }
}

/// Whether the name ends in `.cmd`, `.bat` or `.ps1`, in any letter case.
fn is_windows_script_name(file_name: &str) -> bool {
    Path::new(file_name)
        .extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| {
            ["cmd", "bat", "ps1"]
                .iter()
                .any(|known| extension.eq_ignore_ascii_case(known))
        })
}

/// Whether a range taken from the file's headers is small enough to read.
pub(crate) fn within_limit(size: u64) -> bool {
    size <= MAX_TABLE_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_interpreter_keeps_arguments_and_drops_carriage_return() {
        let info = inspect_data(&b"#!/usr/bin/env bash\r\necho hi\n"[..], None);
        assert_eq!(info.format, Format::Script);
        assert_eq!(
            info.details.interpreter.as_deref(),
            Some("/usr/bin/env bash")
        );
    }

    #[test]
    fn script_without_interpreter_has_none() {
        let info = inspect_data(&b"#!\n"[..], Some("x.sh"));
        assert_eq!(info.format, Format::Script);
        assert_eq!(info.details.interpreter, None);
    }

    #[test]
    fn windows_script_names_ignore_case() {
        assert!(is_windows_script_name("SETUP.CMD"));
        assert!(is_windows_script_name("dir/run.Bat"));
        assert!(is_windows_script_name("install.ps1"));
        assert!(!is_windows_script_name("install.ps1.txt"));
        assert!(!is_windows_script_name("cmd"));
    }

    #[test]
    fn a_broken_binary_is_unknown_even_with_a_script_name() {
        let broken_elf = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00";
        assert_eq!(
            inspect_data(&broken_elf[..], Some("setup.cmd")),
            BinaryInfo::unknown()
        );
    }

    #[test]
    fn shebang_wins_over_windows_script_name() {
        let info = inspect_data(&b"#!/usr/bin/env pwsh\n"[..], Some("install.ps1"));
        assert_eq!(info.format, Format::Script);
        assert_eq!(info.os, Some(Os::Any));
    }
}
