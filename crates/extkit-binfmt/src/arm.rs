//! The OCI variant (`v5`, `v6`, `v7`, `v8`) of a 32-bit ARM ELF file, from the
//! `Tag_CPU_arch` attribute of its `aeabi` build attributes.

use object::elf;
use object::read::elf::{AttributeReader, AttributesSection, FileHeader};

// Tag numbers from the ARM "Addenda to the ABI" (object does not name them).
const TAG_CPU_RAW_NAME: u64 = 4;
const TAG_CPU_NAME: u64 = 5;
const TAG_CPU_ARCH: u64 = 6;
const TAG_COMPATIBILITY: u64 = 32;

/// The variant named by `Tag_CPU_arch` in an `.ARM.attributes` section, if present.
pub(crate) fn cpu_arch_variant<Elf: FileHeader>(
    endian: Elf::Endian,
    section: &[u8],
) -> Option<&'static str> {
    let attributes = AttributesSection::<Elf>::new(endian, section).ok()?;
    for subsection in attributes.subsections().ok()? {
        let subsection = subsection.ok()?;
        if subsection.vendor() != b"aeabi" {
            continue;
        }
        for subsubsection in subsection.subsubsections() {
            let subsubsection = subsubsection.ok()?;
            if subsubsection.tag() != elf::Tag_File {
                continue;
            }
            if let Some(cpu_arch) = find_cpu_arch(subsubsection.attributes()) {
                return variant(cpu_arch);
            }
        }
    }
    None
}

/// Walk the attributes until `Tag_CPU_arch`, skipping the values of other tags.
fn find_cpu_arch(mut reader: AttributeReader<'_>) -> Option<u64> {
    while let Some(tag) = reader.read_tag().ok()? {
        match tag {
            TAG_CPU_ARCH => return reader.read_integer().ok(),
            TAG_CPU_RAW_NAME | TAG_CPU_NAME => {
                reader.read_string().ok()?;
            }
            TAG_COMPATIBILITY => {
                reader.read_integer().ok()?;
                reader.read_string().ok()?;
            }
            // Past 32 the ABI fixes the value type by parity: odd tags hold strings.
            tag if tag > TAG_COMPATIBILITY && tag % 2 == 1 => {
                reader.read_string().ok()?;
            }
            _ => {
                reader.read_integer().ok()?;
            }
        }
    }
    None
}

/// Map a `Tag_CPU_arch` value to the OCI variant; `None` for pre-v5 or unknown values.
fn variant(cpu_arch: u64) -> Option<&'static str> {
    match cpu_arch {
        // v5T, v5TE, v5TEJ
        3..=5 => Some("v5"),
        // v6, v6KZ, v6T2, v6K, v6-M, v6S-M
        6..=9 | 11 | 12 => Some("v6"),
        // v7, v7E-M
        10 | 13 => Some("v7"),
        // v8-A, v8-R, v8-M, v8.1-A and later, v9-A: all run 32-bit v8 code
        14..=22 => Some("v8"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_follow_the_architecture_families() {
        assert_eq!(variant(0), None);
        assert_eq!(variant(2), None);
        assert_eq!(variant(5), Some("v5"));
        assert_eq!(variant(6), Some("v6"));
        assert_eq!(variant(9), Some("v6"));
        assert_eq!(variant(10), Some("v7"));
        assert_eq!(variant(14), Some("v8"));
        assert_eq!(variant(99), None);
    }
}
