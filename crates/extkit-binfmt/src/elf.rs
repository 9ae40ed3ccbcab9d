//! ELF: OS ABI, machine, linking and interpreter from the program headers, and the ARM
//! architecture version from `.ARM.attributes`.

use object::ReadRef;
use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader, SectionHeader};

use crate::arm;
use crate::info::{BinaryInfo, Details, Format, Linking, Os};
use crate::sniff::within_limit;

/// The longest `PT_INTERP` path read; Linux's `PATH_MAX`.
const MAX_INTERPRETER_BYTES: u64 = 4096;

/// Inspect an ELF file; `None` when even the file header does not parse.
pub(crate) fn inspect<'data, Elf: FileHeader, R: ReadRef<'data>>(data: R) -> Option<BinaryInfo> {
    let header = Elf::parse(data).ok()?;
    let endian = header.endian().ok()?;

    let os = match header.e_ident().os_abi {
        elf::ELFOSABI_SYSV | elf::ELFOSABI_GNU => Some(Os::Linux),
        _ => None,
    };

    // Headers past this point may be missing or broken; report what could be read.
    let architecture = architecture(header, endian, data);
    let (linking, interpreter) = linking(header, endian, data).unwrap_or((None, None));

    Some(BinaryInfo {
        format: Format::Elf,
        os,
        architectures: vec![architecture],
        details: Details {
            linking,
            interpreter,
            ..Details::default()
        },
    })
}

/// The OCI architecture name for the file's `e_machine`, class and byte order.
fn architecture<'data, Elf: FileHeader, R: ReadRef<'data>>(
    header: &Elf,
    endian: Elf::Endian,
    data: R,
) -> String {
    let is_64 = header.is_class_64();
    let is_little = header.is_little_endian();
    let pick = |for_64: &str, for_32: &str| if is_64 { for_64 } else { for_32 }.to_owned();

    match header.e_machine(endian) {
        elf::EM_X86_64 => pick("amd64", "x32"),
        elf::EM_386 => "386".to_owned(),
        elf::EM_AARCH64 if is_little => "arm64".to_owned(),
        elf::EM_AARCH64 => "arm64be".to_owned(),
        elf::EM_ARM if is_little => arm_architecture(header, endian, data),
        elf::EM_ARM => "armbe".to_owned(),
        elf::EM_RISCV => pick("riscv64", "riscv32"),
        elf::EM_PPC64 if is_little => "ppc64le".to_owned(),
        elf::EM_PPC64 => "ppc64".to_owned(),
        elf::EM_PPC if is_little => "ppcle".to_owned(),
        elf::EM_PPC => "ppc".to_owned(),
        elf::EM_S390 => pick("s390x", "s390"),
        elf::EM_MIPS if is_little => pick("mips64le", "mipsle"),
        elf::EM_MIPS => pick("mips64", "mips"),
        elf::EM_LOONGARCH => pick("loong64", "loong32"),
        elf::EM_SPARCV9 => "sparc64".to_owned(),
        elf::EM_SPARC => "sparc".to_owned(),
        elf::EM_IA_64 => "ia64".to_owned(),
        other => format!("elf-machine-{}", other.0),
    }
}

/// `arm/v6`, `arm/v7`, ... from `Tag_CPU_arch`, or plain `arm` when it cannot be read.
fn arm_architecture<'data, Elf: FileHeader, R: ReadRef<'data>>(
    header: &Elf,
    endian: Elf::Endian,
    data: R,
) -> String {
    let variant = attributes_section(header, endian, data)
        .and_then(|section| arm::cpu_arch_variant::<Elf>(endian, section));
    match variant {
        Some(variant) => format!("arm/{variant}"),
        None => "arm".to_owned(),
    }
}

/// The bytes of the first `SHT_ARM_ATTRIBUTES` section, when all sizes are in bounds.
fn attributes_section<'data, Elf: FileHeader, R: ReadRef<'data>>(
    header: &Elf,
    endian: Elf::Endian,
    data: R,
) -> Option<&'data [u8]> {
    // Check the table's size before asking for it: a stream would otherwise read it all.
    let count = u64::from(header.shnum(endian, data).ok()?);
    let entry_size = u64::from(header.e_shentsize(endian));
    if !within_limit(count.checked_mul(entry_size)?) {
        return None;
    }
    let sections = header.section_headers(endian, data).ok()?;

    let section = sections
        .iter()
        .find(|section| section.sh_type(endian) == elf::SHT_ARM_ATTRIBUTES)?;
    let size: u64 = section.sh_size(endian).into();
    if !within_limit(size) {
        return None;
    }
    section.data(endian, data).ok()
}

/// Linking and interpreter from the program headers; `None` when they cannot be read.
fn linking<'data, Elf: FileHeader, R: ReadRef<'data>>(
    header: &Elf,
    endian: Elf::Endian,
    data: R,
) -> Option<(Option<Linking>, Option<String>)> {
    // Linking only means something for programs and shared libraries, not object files.
    let file_type = header.e_type(endian);
    if file_type != elf::ET_EXEC && file_type != elf::ET_DYN {
        return Some((None, None));
    }

    let count = u64::from(header.phnum(endian, data).ok()?);
    let entry_size = u64::from(header.e_phentsize(endian));
    if !within_limit(count.checked_mul(entry_size)?) {
        return None;
    }
    let segments = header.program_headers(endian, data).ok()?;

    let mut interpreter = None;
    let mut has_interpreter = false;
    let mut needs_libraries = false;
    let mut dynamic_unreadable = false;
    for segment in segments {
        let size: u64 = segment.p_filesz(endian).into();
        let segment_type = segment.p_type(endian);
        if segment_type == elf::PT_INTERP {
            // The loader is needed even when its path is unreadable.
            has_interpreter = true;
            if size <= MAX_INTERPRETER_BYTES
                && let Ok(Some(path)) = segment.interpreter(endian, data)
            {
                interpreter = Some(String::from_utf8_lossy(path).into_owned());
            }
        } else if segment_type == elf::PT_DYNAMIC {
            // A static-pie has PT_DYNAMIC too, but needs no library.
            let entries = if within_limit(size) {
                segment.dynamic(endian, data).ok().flatten()
            } else {
                None
            };
            match entries {
                Some(entries) => {
                    needs_libraries |= entries
                        .iter()
                        .any(|entry| entry.d_tag(endian) == elf::DT_NEEDED);
                }
                None => dynamic_unreadable = true,
            }
        }
    }

    let linking = if has_interpreter || needs_libraries {
        Some(Linking::Dynamic)
    } else if dynamic_unreadable {
        // Cannot tell whether it needs libraries.
        None
    } else {
        Some(Linking::Static)
    };
    Some((linking, interpreter))
}
