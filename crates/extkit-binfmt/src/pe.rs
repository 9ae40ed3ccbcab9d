//! PE: machine and subsystem from the NT headers, which sit in the first few KiB.

use object::LittleEndian as LE;
use object::ReadRef;
use object::pe;
use object::read::pe::{ImageNtHeaders, ImageOptionalHeader};

use crate::info::{BinaryInfo, Details, Format, Os, Subsystem};

/// Inspect a PE file; `None` when the DOS or NT headers do not parse.
pub(crate) fn inspect<'data, Pe: ImageNtHeaders, R: ReadRef<'data>>(data: R) -> Option<BinaryInfo> {
    let dos_header = pe::ImageDosHeader::parse(data).ok()?;
    let mut offset = u64::from(dos_header.nt_headers_offset());
    // Reads the file header, the optional header and its data directories (bounded by
    // the 16-bit optional header size), nothing else.
    let (nt_headers, _data_directories) = Pe::parse(data, &mut offset).ok()?;

    let machine = nt_headers.file_header().machine.get(LE);
    let subsystem = match nt_headers.optional_header().subsystem() {
        pe::IMAGE_SUBSYSTEM_WINDOWS_CUI => Some(Subsystem::Console),
        pe::IMAGE_SUBSYSTEM_WINDOWS_GUI => Some(Subsystem::Gui),
        _ => None,
    };

    Some(BinaryInfo {
        format: Format::Pe,
        os: Some(Os::Windows),
        architectures: vec![architecture(machine)],
        details: Details {
            subsystem,
            ..Details::default()
        },
    })
}

/// `IMAGE_FILE_MACHINE_LOONGARCH64`, which object does not name.
const MACHINE_LOONGARCH64: pe::Machine = pe::Machine(0x6264);

/// The OCI architecture name for a PE machine type.
fn architecture(machine: pe::Machine) -> String {
    let name = match machine {
        pe::IMAGE_FILE_MACHINE_AMD64 => "amd64",
        pe::IMAGE_FILE_MACHINE_I386 => "386",
        // ARM64EC and ARM64X images run natively on arm64 Windows.
        pe::IMAGE_FILE_MACHINE_ARM64
        | pe::IMAGE_FILE_MACHINE_ARM64EC
        | pe::IMAGE_FILE_MACHINE_ARM64X => "arm64",
        // Windows on 32-bit ARM requires ARMv7 with Thumb-2.
        pe::IMAGE_FILE_MACHINE_ARMNT => "arm/v7",
        pe::IMAGE_FILE_MACHINE_ARM | pe::IMAGE_FILE_MACHINE_THUMB => "arm",
        pe::IMAGE_FILE_MACHINE_RISCV64 => "riscv64",
        pe::IMAGE_FILE_MACHINE_RISCV32 => "riscv32",
        MACHINE_LOONGARCH64 => "loong64",
        pe::IMAGE_FILE_MACHINE_IA64 => "ia64",
        other => return format!("pe-machine-{:#06x}", other.0),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm64_flavours_are_arm64() {
        assert_eq!(architecture(pe::IMAGE_FILE_MACHINE_ARM64X), "arm64");
        assert_eq!(architecture(pe::IMAGE_FILE_MACHINE_ARM64EC), "arm64");
        assert_eq!(architecture(pe::Machine(0x1234)), "pe-machine-0x1234");
    }
}
