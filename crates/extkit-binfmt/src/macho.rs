//! Mach-O: CPU type of a thin file or of every slice of a universal one, and the
//! minimum macOS version from `LC_BUILD_VERSION` or `LC_VERSION_MIN_MACOSX`.

use object::read::macho::{FatArch, MachHeader, MachOFatFile};
use object::{BigEndian, FileKind, ReadRef, macho};

use crate::info::{BinaryInfo, Details, Format, Os};
use crate::sniff::within_limit;

/// More slices than this is not a universal binary. The fat magic `0xcafebabe` is also
/// the Java class file magic, whose version (45 and up) sits where `nfat_arch` is.
const MAX_SLICES: u32 = 30;

/// Inspect a thin Mach-O file; `None` when the header does not parse.
pub(crate) fn inspect_thin<'data, Mach: MachHeader, R: ReadRef<'data>>(
    data: R,
) -> Option<BinaryInfo> {
    let header = Mach::parse(data, 0).ok()?;
    let endian = header.endian().ok()?;

    Some(BinaryInfo {
        format: Format::MachO,
        os: Some(Os::Darwin),
        architectures: vec![architecture(
            header.cputype(endian),
            header.cpusubtype(endian),
        )],
        details: Details {
            min_macos: min_macos(header, data, 0),
            ..Details::default()
        },
    })
}

/// Inspect a universal Mach-O file; `None` unless every slice is a Mach-O inside the file.
pub(crate) fn inspect_universal<'data, Fat: FatArch, R: ReadRef<'data>>(
    data: R,
) -> Option<BinaryInfo> {
    // Check the slice count before object reads the slice table.
    let header = data.read_at::<macho::FatHeader>(0).ok()?;
    let slice_count = header.nfat_arch.get(BigEndian);
    if slice_count == 0 || slice_count > MAX_SLICES {
        return None;
    }
    let fat = MachOFatFile::<Fat>::parse(data).ok()?;

    let file_length = data.len().ok()?;
    let mut architectures = Vec::with_capacity(fat.arches().len());
    let mut first_min_macos = None;
    for (index, slice) in fat.arches().iter().enumerate() {
        // Only the slice's own header is read, at its offset, not the whole slice.
        let (offset, size) = slice.file_range();
        if offset.checked_add(size)? > file_length {
            return None;
        }
        let min_macos = slice_min_macos(data, offset)?;
        if index == 0 {
            first_min_macos = min_macos;
        }
        architectures.push(architecture(slice.cputype(), slice.cpusubtype()));
    }

    Some(BinaryInfo {
        format: Format::MachOUniversal,
        os: Some(Os::Darwin),
        architectures,
        details: Details {
            min_macos: first_min_macos,
            ..Details::default()
        },
    })
}

/// The minimum macOS of the slice at `offset`; the outer `None` when it is not a Mach-O.
fn slice_min_macos<'data, R: ReadRef<'data>>(data: R, offset: u64) -> Option<Option<String>> {
    match FileKind::parse_at(data, offset).ok()? {
        FileKind::MachO32 => {
            let header = macho::MachHeader32::<object::Endianness>::parse(data, offset).ok()?;
            Some(min_macos(header, data, offset))
        }
        FileKind::MachO64 => {
            let header = macho::MachHeader64::<object::Endianness>::parse(data, offset).ok()?;
            Some(min_macos(header, data, offset))
        }
        _ => None,
    }
}

/// The minimum macOS version, e.g. `11.0` or `10.13.4`, from the load commands.
fn min_macos<'data, Mach: MachHeader, R: ReadRef<'data>>(
    header: &Mach,
    data: R,
    header_offset: u64,
) -> Option<String> {
    let endian = header.endian().ok()?;
    if !within_limit(header.sizeofcmds(endian).into()) {
        return None;
    }
    let mut commands = header.load_commands(endian, data, header_offset).ok()?;

    while let Ok(Some(command)) = commands.next() {
        let version = match command.cmd() {
            macho::LC_BUILD_VERSION => {
                let build = command
                    .data::<macho::BuildVersionCommand<Mach::Endian>>()
                    .ok()?;
                if build.platform.get(endian) != macho::PLATFORM_MACOS {
                    continue;
                }
                build.minos.get(endian)
            }
            macho::LC_VERSION_MIN_MACOSX => {
                let minimum = command
                    .data::<macho::VersionMinCommand<Mach::Endian>>()
                    .ok()?;
                minimum.version.get(endian)
            }
            _ => continue,
        };
        return Some(format_version(version));
    }
    None
}

/// `major.minor`, with `.update` only when it is not zero.
fn format_version(version: macho::Version) -> String {
    match version.update() {
        0 => format!("{}.{}", version.major(), version.minor()),
        update => format!("{}.{}.{update}", version.major(), version.minor()),
    }
}

/// The OCI architecture name for a Mach-O CPU type and subtype.
fn architecture(cpu_type: macho::CpuType, cpu_subtype: macho::CpuSubtype) -> String {
    let name = match cpu_type {
        macho::CPU_TYPE_X86_64 => "amd64",
        // arm64e (pointer authentication) still runs as OCI arm64.
        macho::CPU_TYPE_ARM64 => "arm64",
        macho::CPU_TYPE_ARM64_32 => "arm64_32",
        macho::CPU_TYPE_X86 => "386",
        macho::CPU_TYPE_POWERPC => "ppc",
        macho::CPU_TYPE_POWERPC64 => "ppc64",
        macho::CPU_TYPE_ARM => match cpu_subtype.id() {
            macho::CPU_SUBTYPE_ARM_V5TEJ | macho::CPU_SUBTYPE_ARM_XSCALE => "arm/v5",
            macho::CPU_SUBTYPE_ARM_V6 => "arm/v6",
            macho::CPU_SUBTYPE_ARM_V7
            | macho::CPU_SUBTYPE_ARM_V7F
            | macho::CPU_SUBTYPE_ARM_V7S
            | macho::CPU_SUBTYPE_ARM_V7K => "arm/v7",
            macho::CPU_SUBTYPE_ARM_V8 => "arm/v8",
            _ => "arm",
        },
        other => return format!("mach-o-cpu-{}", other.0),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_drop_a_zero_update() {
        assert_eq!(format_version(macho::Version::new(11, 0, 0)), "11.0");
        assert_eq!(format_version(macho::Version::new(10, 13, 4)), "10.13.4");
    }

    #[test]
    fn arm64e_is_arm64() {
        let arm64e = macho::CpuSubtype(2);
        assert_eq!(architecture(macho::CPU_TYPE_ARM64, arm64e), "arm64");
    }
}
