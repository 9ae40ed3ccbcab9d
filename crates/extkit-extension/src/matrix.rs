//! What Docker Desktop on each kind of host would pull, and whether its host binaries run.

use extkit_oci::{Platform, PlatformMatcher};

use crate::input::{FileKind, ImageFacts, VariantFacts};
use crate::metadata::{self, HostOs};
use crate::paths;
use crate::report::{Binary, MatrixRow, Runs};
use crate::rules::binaries::{contains_architecture, format_suits};

/// The hosts Docker Desktop runs on, in report order.
const HOSTS: [(HostOs, &str); 6] = [
    (HostOs::Darwin, "amd64"),
    (HostOs::Darwin, "arm64"),
    (HostOs::Windows, "amd64"),
    (HostOs::Windows, "arm64"),
    (HostOs::Linux, "amd64"),
    (HostOs::Linux, "arm64"),
];

/// One row per Desktop host.
pub(crate) fn matrix(facts: &ImageFacts) -> Vec<MatrixRow> {
    let runnable: Vec<(Platform, Option<&VariantFacts>)> = facts
        .runnable()
        .map(|(platform, entry)| (platform, entry.variant.as_ref()))
        .collect();

    HOSTS
        .iter()
        .map(|&(os, architecture)| {
            // Desktop pulls through its VM's engine, which asks for `linux/<host CPU>`.
            let matcher = PlatformMatcher::new(&Platform::new("linux", architecture, None));
            let chosen = matcher
                .choose(runnable.iter().map(|(platform, _)| platform))
                .map(|index| &runnable[index]);
            MatrixRow {
                host: format!("{}/{architecture}", os.key()),
                platform: chosen.map(|(platform, _)| platform.to_string()),
                binaries: chosen
                    .and_then(|(_, variant)| *variant)
                    .map(|variant| host_binaries(variant, os, architecture))
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// The host binaries for `os` that a variant's metadata.json lists, and whether each runs.
fn host_binaries(variant: &VariantFacts, os: HostOs, architecture: &str) -> Vec<Binary> {
    let Some(content) = variant
        .metadata
        .as_ref()
        .and_then(|file| file.content.as_ref())
    else {
        return Vec::new();
    };
    let Ok((metadata, _)) = metadata::parse(content) else {
        return Vec::new();
    };
    let mut binaries: Vec<Binary> = Vec::new();
    for binary in metadata.binaries.iter().filter(|binary| binary.os == os) {
        let path = paths::normalize(&binary.path).normalized;
        if binaries.iter().any(|listed| listed.path == path) {
            continue;
        }
        binaries.push(Binary {
            name: paths::base_name(&path).to_string(),
            runs: runs(variant, &path, os, architecture),
            path,
        });
    }
    binaries
}

/// Whether the file at `path` runs on a host of `os` and `architecture`.
fn runs(variant: &VariantFacts, path: &str, os: HostOs, architecture: &str) -> Runs {
    let Some(file) = variant.files.get(path) else {
        return Runs::No;
    };
    let Some(info) = file.binary.as_ref().filter(|_| file.kind == FileKind::File) else {
        return Runs::No;
    };
    if !format_suits(os, info.format) {
        return Runs::No;
    }
    if matches!(
        info.format,
        extkit_binfmt::Format::Script | extkit_binfmt::Format::WindowsScript
    ) {
        return Runs::Native;
    }
    let has = |name: &str| contains_architecture(&info.architectures, name);
    if has(architecture) {
        return Runs::Native;
    }
    match (os, architecture) {
        // 64-bit Windows runs 32-bit x86 programs natively through WOW64.
        (HostOs::Windows, "amd64") if has("386") => Runs::Native,
        // Rosetta 2 on Apple silicon.
        (HostOs::Darwin, "arm64") if has("amd64") => Runs::Emulated,
        // x64 and x86 emulation on Windows on Arm.
        (HostOs::Windows, "arm64") if has("amd64") || has("386") => Runs::Emulated,
        _ => Runs::No,
    }
}
