//! Truncated, empty and deliberately broken inputs give `Format::Unknown`, a degraded
//! but true answer, or a clear error — never a panic.

mod support;

use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use extkit_binfmt::{
    BinaryInfo, Error, Format, Linking, inspect_bytes, inspect_path, inspect_reader,
};
use support::{BINARY_FIXTURES, TEXT_FIXTURES, fixture};

/// Both entry points, checked to agree.
fn inspect_both(bytes: &[u8], file_name: Option<&str>) -> BinaryInfo {
    let from_bytes = inspect_bytes(bytes, file_name);
    let from_reader = inspect_reader(Cursor::new(bytes), file_name).unwrap();
    assert_eq!(from_bytes, from_reader, "bytes and reader disagree");
    from_bytes
}

fn put_u16(bytes: &mut [u8], offset: usize, value: u16) {
    bytes[offset..offset + 2].copy_from_slice(&value.to_le_bytes());
}

fn put_u32_big(bytes: &mut [u8], offset: usize, value: u32) {
    bytes[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
}

/// The CPU part of an OCI architecture, without the variant.
fn cpu(architecture: &str) -> &str {
    architecture.split('/').next().unwrap()
}

#[test]
fn empty_input_is_unknown() {
    assert_eq!(inspect_both(&[], None), BinaryInfo::unknown());
    assert_eq!(inspect_both(&[], Some("empty.exe")), BinaryInfo::unknown());
}

#[test]
fn every_fixture_cut_short_is_unknown_or_a_true_partial_answer() {
    for name in BINARY_FIXTURES.iter().chain(TEXT_FIXTURES) {
        let bytes = fixture(name);
        let full = inspect_bytes(&bytes, Some(name));
        let length = bytes.len();
        let cuts = [
            0,
            1,
            2,
            4,
            15,
            16,
            52,
            63,
            64,
            100,
            300,
            512,
            1024,
            4096,
            length / 2,
            length - 1,
        ];

        for cut in cuts.into_iter().filter(|&cut| cut < length) {
            let info = inspect_both(&bytes[..cut], Some(name));
            let context = format!("{name} cut at {cut}");
            if info.format == Format::Unknown {
                assert_eq!(info, BinaryInfo::unknown(), "{context}");
                continue;
            }
            assert_eq!(info.format, full.format, "{context}");
            assert_eq!(info.os, full.os, "{context}");
            // An ARM ELF whose attributes were cut off is still ARM, just without a variant.
            let cpus: Vec<&str> = info.architectures.iter().map(|name| cpu(name)).collect();
            let full_cpus: Vec<&str> = full.architectures.iter().map(|name| cpu(name)).collect();
            assert_eq!(cpus, full_cpus, "{context}");
        }
    }
}

#[test]
fn a_universal_header_claiming_ten_thousand_slices_is_unknown() {
    for magic in [0xcafe_babe, 0xcafe_babf] {
        let mut bytes = fixture("hello-darwin-universal");
        put_u32_big(&mut bytes, 0, magic);
        put_u32_big(&mut bytes, 4, 10_000);
        assert_eq!(inspect_both(&bytes, None), BinaryInfo::unknown());

        // The same header alone, with nothing after it.
        assert_eq!(inspect_both(&bytes[..8], None), BinaryInfo::unknown());
    }
}

#[test]
fn a_java_class_file_is_not_a_universal_binary() {
    // 0xcafebabe, minor 0, major 52 (Java 8), then a constant pool count.
    let mut class = vec![0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x34, 0x00, 0x1d];
    class.resize(400, 0x01);
    assert_eq!(
        inspect_both(&class, Some("Main.class")),
        BinaryInfo::unknown()
    );
}

#[test]
fn a_universal_slice_outside_the_file_or_without_mach_o_magic_is_unknown() {
    let bytes = fixture("hello-darwin-universal");

    // The second fat_arch entry starts at 8 + 20; its offset field is 8 bytes in.
    let mut past_end = bytes.clone();
    put_u32_big(&mut past_end, 8 + 20 + 8, 0x7fff_0000);
    assert_eq!(inspect_both(&past_end, None), BinaryInfo::unknown());

    let mut not_mach_o = bytes.clone();
    let first_offset = u32::from_be_bytes(bytes[16..20].try_into().unwrap()) as usize;
    not_mach_o[first_offset..first_offset + 4].copy_from_slice(b"ELF!");
    assert_eq!(inspect_both(&not_mach_o, None), BinaryInfo::unknown());
}

#[test]
fn an_elf_with_its_section_headers_past_the_end_keeps_what_the_kernel_uses() {
    // The kernel ignores section headers, so an amd64 program stays a full answer.
    let mut amd64 = fixture("hello-linux-amd64");
    amd64[0x28..0x30].copy_from_slice(&u64::MAX.to_le_bytes()); // e_shoff of ELF64
    let info = inspect_both(&amd64, None);
    assert_eq!(info, inspect_bytes(&fixture("hello-linux-amd64"), None));

    // An ARM program loses only its variant, which lives in a section.
    let mut arm = fixture("hello-linux-armv7");
    let past_end = arm.len() as u32 + 4096;
    arm[0x20..0x24].copy_from_slice(&past_end.to_le_bytes()); // e_shoff of ELF32
    let info = inspect_both(&arm, None);
    assert_eq!(info.format, Format::Elf);
    assert_eq!(info.architectures, ["arm"]);
    assert_eq!(info.details.linking, Some(Linking::Static));
}

#[test]
fn an_elf_with_unreadable_program_headers_has_unknown_linking() {
    let mut bytes = fixture("hello-linux-amd64-dynamic");
    bytes[0x20..0x28].copy_from_slice(&(1u64 << 40).to_le_bytes()); // e_phoff of ELF64
    let info = inspect_both(&bytes, None);
    assert_eq!(info.format, Format::Elf);
    assert_eq!(info.architectures, ["amd64"]);
    assert_eq!(info.details.linking, None);
    assert_eq!(info.details.interpreter, None);
}

#[test]
fn an_elf_with_an_unreadable_dynamic_segment_and_no_interpreter_has_unknown_linking() {
    let mut bytes = fixture("hello-linux-amd64-dynamic");
    let program_headers = u64::from_le_bytes(bytes[0x20..0x28].try_into().unwrap()) as usize;
    let count = u16::from_le_bytes(bytes[0x38..0x3a].try_into().unwrap()) as usize;
    for index in 0..count {
        let entry = program_headers + index * 56;
        match u32::from_le_bytes(bytes[entry..entry + 4].try_into().unwrap()) {
            // PT_INTERP becomes PT_NULL, PT_DYNAMIC points past the end.
            3 => bytes[entry..entry + 4].copy_from_slice(&0u32.to_le_bytes()),
            2 => bytes[entry + 8..entry + 16].copy_from_slice(&(1u64 << 40).to_le_bytes()),
            _ => {}
        }
    }
    let info = inspect_both(&bytes, None);
    assert_eq!(info.architectures, ["amd64"]);
    assert_eq!(info.details.linking, None);
}

#[test]
fn an_elf_with_a_bad_class_is_unknown() {
    let mut bytes = fixture("hello-linux-arm64");
    bytes[4] = 9; // EI_CLASS
    assert_eq!(inspect_both(&bytes, None), BinaryInfo::unknown());
}

#[test]
fn a_pe_with_a_truncated_optional_header_is_unknown() {
    let bytes = fixture("hello-windows-amd64.exe");
    let nt_headers = u32::from_le_bytes(bytes[0x3c..0x40].try_into().unwrap()) as usize;
    let optional_header = nt_headers + 4 + 20;

    // The file ends half way through the optional header.
    let cut = &bytes[..optional_header + 50];
    assert_eq!(inspect_both(cut, Some("hello.exe")), BinaryInfo::unknown());

    // The file header claims an optional header smaller than the PE32+ one.
    let mut too_small = bytes.clone();
    put_u16(&mut too_small, nt_headers + 4 + 16, 32); // SizeOfOptionalHeader
    assert_eq!(inspect_both(&too_small, None), BinaryInfo::unknown());
}

#[test]
fn a_pe_with_its_nt_headers_past_the_end_is_unknown() {
    let mut bytes = fixture("hello-windows-arm64.exe");
    bytes[0x3c..0x40].copy_from_slice(&u32::MAX.to_le_bytes()); // e_lfanew
    assert_eq!(inspect_both(&bytes, None), BinaryInfo::unknown());
}

#[test]
fn a_mach_o_with_oversized_load_commands_keeps_its_architecture() {
    let mut bytes = fixture("hello-darwin-arm64");
    bytes[20..24].copy_from_slice(&u32::MAX.to_le_bytes()); // sizeofcmds
    let info = inspect_both(&bytes, None);
    assert_eq!(info.format, Format::MachO);
    assert_eq!(info.architectures, ["arm64"]);
    assert_eq!(info.details.min_macos, None);
}

#[test]
fn a_missing_file_is_an_open_error_naming_the_path() {
    let error = inspect_path(Path::new("/no/such/binary")).unwrap_err();
    assert!(matches!(error, Error::Open { .. }));
    let message = error.to_string();
    assert!(
        message.starts_with("cannot open `/no/such/binary`: "),
        "{message}"
    );
}

/// A reader whose reads fail once past a given offset, like a disk with a bad sector.
struct FailingReader {
    inner: Cursor<Vec<u8>>,
    fail_after: u64,
}

impl Read for FailingReader {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.inner.position() >= self.fail_after {
            return Err(io::Error::other("bad sector"));
        }
        self.inner.read(buffer)
    }
}

impl Seek for FailingReader {
    fn seek(&mut self, position: SeekFrom) -> io::Result<u64> {
        self.inner.seek(position)
    }
}

#[test]
fn a_failing_reader_is_a_read_error_not_unknown() {
    let bytes = fixture("hello-linux-armv7");
    // The section headers sit at the end of the file, so this read fails.
    let reader = FailingReader {
        inner: Cursor::new(bytes.clone()),
        fail_after: bytes.len() as u64 / 2,
    };
    let error = inspect_reader(reader, Some("hello-linux-armv7")).unwrap_err();
    assert!(matches!(error, Error::Read { .. }));
    assert_eq!(
        error.to_string(),
        "cannot read `hello-linux-armv7`: bad sector"
    );

    let reader = FailingReader {
        inner: Cursor::new(bytes),
        fail_after: 0,
    };
    let error = inspect_reader(reader, None).unwrap_err();
    assert_eq!(error.to_string(), "cannot read `<input>`: bad sector");
}
