//! A 200 MiB input is inspected by reading only its headers: a counting reader serves
//! real fixture bytes at chosen offsets and virtual zeros everywhere else.

mod support;

use extkit_binfmt::{Format, inspect_bytes, inspect_reader};
use support::{SparseFile, fixture};

const TWO_HUNDRED_MIB: u64 = 200 * 1024 * 1024;
const READ_BUDGET: u64 = 1024 * 1024;

/// Inspect a sparse file and return the answer with the number of bytes read.
fn inspect_sparse(pieces: Vec<(u64, Vec<u8>)>, name: &str) -> (extkit_binfmt::BinaryInfo, u64) {
    let (file, bytes_read) = SparseFile::new(pieces, TWO_HUNDRED_MIB);
    let info = inspect_reader(file, Some(name)).unwrap();
    (info, bytes_read.get())
}

#[test]
fn fixtures_followed_by_two_hundred_mib_read_only_their_headers() {
    for name in support::BINARY_FIXTURES {
        let bytes = fixture(name);
        let expected = inspect_bytes(&bytes, Some(name));
        let (info, bytes_read) = inspect_sparse(vec![(0, bytes)], name);

        assert_eq!(info, expected, "{name}");
        assert!(bytes_read < READ_BUDGET, "{name} read {bytes_read} bytes");
    }
}

#[test]
fn the_header_reads_are_small_in_absolute_terms() {
    // Guards against reading a whole (small) fixture even when that is under the budget.
    let (info, bytes_read) = inspect_sparse(vec![(0, fixture("hello-linux-armv7"))], "armv7");
    assert_eq!(info.architectures, ["arm/v7"]);
    assert!(bytes_read < 8 * 1024, "read {bytes_read} bytes");
}

#[test]
fn a_universal_binary_with_a_slice_near_the_end_reads_only_slice_headers() {
    let universal = fixture("hello-darwin-universal");
    let arm64 = fixture("hello-darwin-arm64");

    // Keep the first slice where it is; move the second to 190 MiB.
    let far_offset: u32 = 190 * 1024 * 1024;
    let mut header = universal[..4096].to_vec();
    let second_entry = 8 + 20;
    header[second_entry + 8..second_entry + 12].copy_from_slice(&far_offset.to_be_bytes());
    let first_offset = u32::from_be_bytes(universal[16..20].try_into().unwrap()) as usize;
    let first_size = u32::from_be_bytes(universal[20..24].try_into().unwrap()) as usize;
    let first_slice = universal[first_offset..first_offset + first_size].to_vec();

    let pieces = vec![
        (0, header),
        (first_offset as u64, first_slice),
        (u64::from(far_offset), arm64),
    ];
    let (info, bytes_read) = inspect_sparse(pieces, "universal");

    assert_eq!(info.format, Format::MachOUniversal);
    assert_eq!(info.architectures, ["amd64", "arm64"]);
    assert_eq!(info.details.min_macos.as_deref(), Some("10.13"));
    assert!(bytes_read < READ_BUDGET, "read {bytes_read} bytes");
}

// Each hostile table below fits inside the 200 MiB, so only the size limits keep the
// stream from reading it.

#[test]
fn a_section_count_in_the_millions_is_not_read() {
    // e_shnum = 0 means "the count is in section 0"; make that four million.
    let mut elf = fixture("hello-linux-armv7");
    let section_headers = u32::from_le_bytes(elf[0x20..0x24].try_into().unwrap()) as usize;
    elf[0x30..0x32].copy_from_slice(&0u16.to_le_bytes()); // e_shnum
    elf[section_headers + 20..section_headers + 24].copy_from_slice(&4_000_000u32.to_le_bytes());

    let (info, bytes_read) = inspect_sparse(vec![(0, elf)], "elf");
    assert!(bytes_read < READ_BUDGET, "read {bytes_read} bytes");
    assert_eq!(info.architectures, ["arm"]);
}

#[test]
fn load_commands_of_150_mib_are_not_read() {
    let mut mach_o = fixture("hello-darwin-arm64");
    mach_o[20..24].copy_from_slice(&(150u32 * 1024 * 1024).to_le_bytes()); // sizeofcmds

    let (info, bytes_read) = inspect_sparse(vec![(0, mach_o)], "mach-o");
    assert!(bytes_read < READ_BUDGET, "read {bytes_read} bytes");
    assert_eq!(info.architectures, ["arm64"]);
    assert_eq!(info.details.min_macos, None);
}

#[test]
fn a_dynamic_segment_of_100_mib_is_not_read() {
    let mut elf = fixture("hello-linux-amd64-dynamic");
    let program_headers = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let count = u16::from_le_bytes(elf[0x38..0x3a].try_into().unwrap()) as usize;
    for index in 0..count {
        let entry = program_headers + index * 56;
        if u32::from_le_bytes(elf[entry..entry + 4].try_into().unwrap()) == 2 {
            // p_filesz of PT_DYNAMIC
            elf[entry + 32..entry + 40].copy_from_slice(&(100u64 << 20).to_le_bytes());
        }
    }

    let (info, bytes_read) = inspect_sparse(vec![(0, elf)], "dynamic");
    assert!(bytes_read < READ_BUDGET, "read {bytes_read} bytes");
    assert_eq!(
        info.details.interpreter.as_deref(),
        Some("/lib64/ld-linux-x86-64.so.2")
    );
}

#[test]
fn a_two_hundred_mib_script_reads_only_its_first_line() {
    let (info, bytes_read) = inspect_sparse(vec![(0, b"#!/bin/sh\n".to_vec())], "big.sh");
    assert_eq!(info.format, Format::Script);
    assert!(bytes_read < 16 * 1024, "read {bytes_read} bytes");

    let (info, bytes_read) = inspect_sparse(vec![(0, b"@echo off\r\n".to_vec())], "big.cmd");
    assert_eq!(info.format, Format::WindowsScript);
    assert!(bytes_read < 16 * 1024, "read {bytes_read} bytes");
}
