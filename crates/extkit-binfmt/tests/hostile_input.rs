//! Property tests: random bytes and random damage to every fixture never panic, and the
//! in-memory and streaming entry points always agree.

mod support;

use std::io::Cursor;
use std::sync::LazyLock;

use extkit_binfmt::{BinaryInfo, Format, inspect_bytes, inspect_reader};
use proptest::prelude::*;
use support::{BINARY_FIXTURES, TEXT_FIXTURES, fixture};

/// All fixtures, loaded once.
static FIXTURES: LazyLock<Vec<(&'static str, Vec<u8>)>> = LazyLock::new(|| {
    BINARY_FIXTURES
        .iter()
        .chain(TEXT_FIXTURES)
        .map(|name| (*name, fixture(name)))
        .collect()
});

/// Starts that steer random bytes into each format's parser.
const MAGICS: &[&[u8]] = &[
    b"\x7fELF\x01\x01\x01\x00",
    b"\x7fELF\x02\x01\x01\x03",
    b"\x7fELF\x02\x02\x01\x00",
    b"\xcf\xfa\xed\xfe",
    b"\xce\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe\x00\x00\x00\x02",
    b"\xca\xfe\xba\xbf\x00\x00\x00\x01",
    b"MZ",
    b"#!",
    b"",
];

const FILE_NAMES: &[Option<&str>] = &[None, Some("tool"), Some("tool.exe"), Some("setup.CMD")];

/// Inspect both ways, check they agree and that the answer is self-consistent.
fn check(bytes: &[u8], file_name: Option<&str>) -> Result<BinaryInfo, TestCaseError> {
    let from_bytes = inspect_bytes(bytes, file_name);
    let from_reader = inspect_reader(Cursor::new(bytes), file_name)
        .map_err(|error| TestCaseError::fail(format!("reader failed on a cursor: {error}")))?;
    prop_assert_eq!(&from_bytes, &from_reader);

    let is_binary = matches!(
        from_bytes.format,
        Format::Elf | Format::MachO | Format::MachOUniversal | Format::Pe
    );
    prop_assert_eq!(is_binary, !from_bytes.architectures.is_empty());
    if from_bytes.format == Format::Unknown {
        prop_assert_eq!(&from_bytes, &BinaryInfo::unknown());
    }
    Ok(from_bytes)
}

/// A change to a fixture: overwrite one byte or one 32-bit word.
#[derive(Debug, Clone)]
enum Damage {
    Byte { position: usize, value: u8 },
    Word { position: usize, value: u32 },
}

fn damage() -> impl Strategy<Value = Damage> {
    // Half the damage lands in the first 512 bytes, where the headers are.
    let position = prop_oneof![0usize..512, 0usize..100_000];
    let value_word = prop_oneof![
        any::<u32>(),
        Just(0),
        Just(u32::MAX),
        Just(0x7fff_ffff),
        1u32..64,
    ];
    prop_oneof![
        (position.clone(), any::<u8>())
            .prop_map(|(position, value)| Damage::Byte { position, value }),
        (position, value_word).prop_map(|(position, value)| Damage::Word { position, value }),
    ]
}

fn apply(bytes: &mut [u8], damage: &Damage) {
    let length = bytes.len();
    if length == 0 {
        return;
    }
    match *damage {
        Damage::Byte { position, value } => bytes[position % length] = value,
        Damage::Word { position, value } => {
            let start = position % length;
            for (offset, byte) in value.to_le_bytes().into_iter().enumerate() {
                if let Some(slot) = bytes.get_mut(start + offset) {
                    *slot = byte;
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        name in proptest::sample::select(FILE_NAMES),
    ) {
        check(&bytes, name)?;
    }

    #[test]
    fn random_bytes_after_a_magic_never_panic(
        magic in proptest::sample::select(MAGICS),
        tail in proptest::collection::vec(any::<u8>(), 0..4096),
        name in proptest::sample::select(FILE_NAMES),
    ) {
        let mut bytes = magic.to_vec();
        bytes.extend_from_slice(&tail);
        check(&bytes, name)?;
    }

    #[test]
    fn damaged_and_truncated_fixtures_never_panic(
        fixture_index in 0usize..100,
        damages in proptest::collection::vec(damage(), 0..12),
        cut in proptest::option::of(any::<proptest::sample::Index>()),
    ) {
        let (name, original) = &FIXTURES[fixture_index % FIXTURES.len()];
        let mut bytes = original.clone();
        for damage in &damages {
            apply(&mut bytes, damage);
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        check(&bytes, Some(name))?;
    }

    #[test]
    fn an_undamaged_prefix_is_unknown_or_the_same_format(
        fixture_index in 0usize..100,
        cut in any::<proptest::sample::Index>(),
    ) {
        let (name, bytes) = &FIXTURES[fixture_index % FIXTURES.len()];
        let full = inspect_bytes(bytes, Some(name));
        let info = check(&bytes[..cut.index(bytes.len() + 1)], Some(name))?;
        prop_assert!(info.format == Format::Unknown || info.format == full.format);
    }
}
