//! Rules about `host.binaries` as `metadata.json` lists them, before looking into the image.

use std::collections::BTreeMap;

use crate::catalogue::ids;
use crate::metadata::{HostOs, Metadata};
use crate::paths;
use crate::report::{Finding, Severity};

/// The file name endings Windows runs.
const WINDOWS_EXTENSIONS: [&str; 4] = [".exe", ".cmd", ".bat", ".ps1"];

/// Every finding about the list of host binaries.
pub(crate) fn check(metadata: &Metadata) -> Vec<Finding> {
    let mut findings = Vec::new();

    for binary in &metadata.binaries {
        let path = paths::normalize(&binary.path);
        if path.escapes {
            findings.push(
                Finding::new(
                    ids::PATH_NOT_ABSOLUTE,
                    Some(&binary.path),
                    format!(
                        "the {} host binary path `{}` climbs out of the image with `..`",
                        binary.os.key(),
                        binary.path
                    ),
                )
                .severity(Severity::Error)
                .hint(format!(
                    "name the file by its absolute path inside the image, without `..`; \
                     as written, Desktop would look for `{}`",
                    path.normalized
                )),
            );
        } else if !binary.path.starts_with('/') {
            findings.push(
                Finding::new(
                    ids::PATH_NOT_ABSOLUTE,
                    Some(&binary.path),
                    format!(
                        "the {} host binary path `{}` is relative",
                        binary.os.key(),
                        binary.path
                    ),
                )
                .hint(format!("write it as `{}`", path.normalized)),
            );
        }

        if binary.os == HostOs::Windows {
            let lower = binary.path.to_ascii_lowercase();
            if !WINDOWS_EXTENSIONS
                .iter()
                .any(|extension| lower.ends_with(extension))
            {
                findings.push(
                    Finding::new(
                        ids::WINDOWS_BINARY_EXTENSION,
                        Some(&path.normalized),
                        format!(
                            "the windows host binary `{}` does not end in `.exe`, `.cmd`, `.bat` \
                                or `.ps1`",
                            path.normalized
                        ),
                    )
                    .hint("Windows runs files by their extension; rename it, such as to `.exe`"),
                );
            }
        }
    }

    if !metadata.binaries.is_empty() {
        for os in HostOs::ALL {
            if !metadata.binaries.iter().any(|binary| binary.os == os) {
                let present: Vec<String> = HostOs::ALL
                    .into_iter()
                    .filter(|other| metadata.binaries.iter().any(|binary| binary.os == *other))
                    .map(|other| format!("`{}`", other.key()))
                    .collect();
                findings.push(
                    Finding::new(
                        ids::HOST_BINARIES_MISSING_FOR_OS,
                        None,
                        format!(
                            "`host.binaries` lists binaries for {} but none for `{}`",
                            present.join(" and "),
                            os.key()
                        ),
                    )
                    .hint(format!(
                        "Docker Desktop users on {} get no host binary; add a `{}` entry if the \
                            UI calls one there",
                        os_name(os),
                        os.key()
                    )),
                );
            }
        }
    }

    findings.extend(check_name_clashes(metadata));
    findings
}

/// Desktop copies one OS's host binaries into one folder and calls them by base name.
fn check_name_clashes(metadata: &Metadata) -> Vec<Finding> {
    let mut findings = Vec::new();
    for os in HostOs::ALL {
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for binary in metadata.binaries.iter().filter(|binary| binary.os == os) {
            let path = paths::normalize(&binary.path).normalized;
            let name = paths::base_name(&path).to_string();
            match seen.get(&name) {
                Some(first) if *first != path => findings.push(
                    Finding::new(
                        ids::BINARY_NAME_CLASH,
                        Some(&path),
                        format!(
                            "the {} host binaries `{first}` and `{path}` are both named \
                                `{name}`; one would overwrite the other",
                            os.key()
                        ),
                    )
                    .hint("give every host binary of one OS its own file name"),
                ),
                Some(_) => {}
                None => {
                    seen.insert(name, path);
                }
            }
        }
    }
    findings
}

fn os_name(os: HostOs) -> &'static str {
    match os {
        HostOs::Darwin => "macOS",
        HostOs::Windows => "Windows",
        HostOs::Linux => "Linux",
    }
}
