//! Rules about the host binaries in one platform's image: there, of the right format and CPU,
//! executable.

use extkit_binfmt::{BinaryInfo, Format};

use crate::catalogue::ids;
use crate::input::VariantFacts;
use crate::metadata::{HostOs, Metadata};
use crate::paths;
use crate::report::{Finding, Severity};
use crate::rules::files::{self, Expect, Wanted};

/// Every finding about the host binaries of one platform's image, whose normalised
/// architecture is `architecture` (such as `arm64`).
pub(crate) fn check(
    metadata: &Metadata,
    variant: &VariantFacts,
    architecture: &str,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut checked: Vec<(HostOs, String)> = Vec::new();

    for binary in &metadata.binaries {
        let path = paths::normalize(&binary.path).normalized;
        // A path listed twice under one OS is one file; check it once.
        if checked.contains(&(binary.os, path.clone())) {
            continue;
        }
        checked.push((binary.os, path.clone()));

        let os = binary.os.key();
        let what = format!("the {os} host binary");
        // Desktop for Windows on Arm is young; a Windows binary only in the amd64 image is the
        // documented pattern, so its absence elsewhere costs a feature, not the install.
        let windows_elsewhere = binary.os == HostOs::Windows && architecture != "amd64";
        let (missing_severity, missing_hint) = if windows_elsewhere {
            (
                Severity::Warning,
                "Docker Desktop on Windows on Arm would install the extension without it; an x64 \
                    build in this image runs emulated there"
                    .to_string(),
            )
        } else {
            (
                Severity::Error,
                format!(
                    "copy it to `{path}` in every platform's image, or fix the path in \
                        metadata.json"
                ),
            )
        };
        let wanted = Wanted {
            what: &what,
            path: &path,
            expect: Expect::File,
            missing_severity,
            missing_hint,
        };
        let Some(file) = files::require(&variant.files, &wanted, &mut findings) else {
            continue;
        };

        if binary.os != HostOs::Windows && file.mode & 0o111 == 0 {
            findings.push(
                Finding::new(
                    ids::BINARY_NOT_EXECUTABLE,
                    Some(&path),
                    format!(
                        "{what} `{path}` has no execute bit (mode `{:o}`)",
                        file.mode & 0o7777
                    ),
                )
                .hint(format!(
                    "copy it with `COPY --chmod=0755`, or `RUN chmod a+x {path}`"
                )),
            );
        }

        let Some(info) = &file.binary else { continue };
        if !format_suits(binary.os, info.format) {
            findings.push(
                Finding::new(
                    ids::BINARY_FORMAT_MISMATCH,
                    Some(&path),
                    format!("{what} `{path}` is {}", describe_format(info)),
                )
                .hint(format!(
                    "{os} host binaries must be {}",
                    expected_formats(binary.os)
                )),
            );
            continue;
        }
        if let Some(finding) = check_architecture(binary.os, &path, info, architecture) {
            findings.push(finding);
        }
    }
    findings
}

fn check_architecture(
    os: HostOs,
    path: &str,
    info: &BinaryInfo,
    architecture: &str,
) -> Option<Finding> {
    if matches!(info.format, Format::Script | Format::WindowsScript) {
        return None;
    }
    if contains_architecture(&info.architectures, architecture) {
        return None;
    }
    let built_for = if info.architectures.is_empty() {
        "no CPU extkit recognises".to_string()
    } else {
        info.architectures
            .iter()
            .map(|name| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    let key = os.key();
    let finding = Finding::new(
        ids::BINARY_ARCH_MISMATCH,
        Some(path),
        format!(
            "the {key} host binary `{path}` is built for {built_for}, but this image is for \
                `{architecture}`"
        ),
    );
    // Windows on Arm runs x64 and x86 programs through its own emulation.
    let emulated = os == HostOs::Windows
        && architecture == "arm64"
        && (contains_architecture(&info.architectures, "amd64")
            || contains_architecture(&info.architectures, "386"));
    if emulated {
        return Some(
            finding
                .severity(Severity::Warning)
                .hint("Windows on Arm runs it emulated; an arm64 build would run natively"),
        );
    }
    let universal = if os == HostOs::Darwin {
        " (or universal)"
    } else {
        ""
    };
    Some(finding.hint(format!(
        "put a {key}/{architecture}{universal} build at `{path}` in this image, such as by \
            choosing it with `ARG TARGETARCH`"
    )))
}

/// Whether one of `architectures` (OCI names, possibly with a variant such as `arm/v7`) is
/// `wanted`.
pub(crate) fn contains_architecture(architectures: &[String], wanted: &str) -> bool {
    architectures
        .iter()
        .any(|name| name.split('/').next() == Some(wanted))
}

/// Whether Desktop on `os` can run a file of `format`.
pub(crate) fn format_suits(os: HostOs, format: Format) -> bool {
    match os {
        HostOs::Darwin => matches!(
            format,
            Format::MachO | Format::MachOUniversal | Format::Script
        ),
        HostOs::Linux => matches!(format, Format::Elf | Format::Script),
        HostOs::Windows => matches!(format, Format::Pe | Format::WindowsScript),
    }
}

fn expected_formats(os: HostOs) -> &'static str {
    match os {
        HostOs::Darwin => "Mach-O executables (thin or universal) or `#!` scripts",
        HostOs::Linux => "ELF executables or `#!` scripts",
        HostOs::Windows => "PE executables (`.exe`) or `.cmd`, `.bat` or `.ps1` scripts",
    }
}

fn describe_format(info: &BinaryInfo) -> &'static str {
    match info.format {
        Format::Elf => "an ELF executable, which runs on Linux",
        Format::MachO | Format::MachOUniversal => "a Mach-O executable, which runs on macOS",
        Format::Pe => "a PE executable, which runs on Windows",
        Format::Script => "a `#!` script, which Windows cannot run",
        Format::WindowsScript => "a Windows script",
        Format::Unknown => "not an executable in a format extkit recognises",
    }
}
