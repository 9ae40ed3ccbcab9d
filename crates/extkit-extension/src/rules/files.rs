//! Rules about the files `metadata.json` names, other than host binaries: the icon, the UI
//! and the compose file.

use std::collections::BTreeMap;

use crate::catalogue::ids;
use crate::input::{FileFacts, FileKind, VariantFacts};
use crate::metadata::Metadata;
use crate::paths;
use crate::report::{Finding, Severity};
use crate::rules::compose;

/// The type of entry a named path must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// A regular file.
    File,
    /// A folder.
    Directory,
}

/// What is being looked for, for messages: "the icon", "the darwin host binary".
pub(crate) struct Wanted<'a> {
    /// The role of the file, such as `the icon`.
    pub what: &'a str,
    /// Its normalised path.
    pub path: &'a str,
    /// The type it must be.
    pub expect: Expect,
    /// The severity when it is missing.
    pub missing_severity: Severity,
    /// What to do when it is missing.
    pub missing_hint: String,
}

/// Looks `wanted` up; adds a finding when it is missing, of the wrong type or reached through a
/// link, and gives its facts when it is there with the right type.
pub(crate) fn require<'a>(
    files: &'a BTreeMap<String, FileFacts>,
    wanted: &Wanted<'_>,
    findings: &mut Vec<Finding>,
) -> Option<&'a FileFacts> {
    let Wanted { what, path, .. } = *wanted;
    let Some(file) = files.get(path) else {
        findings.push(
            Finding::new(
                ids::FILE_MISSING,
                Some(path),
                format!("{what} `{path}` is not in the image"),
            )
            .severity(wanted.missing_severity)
            .hint(wanted.missing_hint.clone()),
        );
        return None;
    };
    if let FileKind::Symlink { target } = &file.kind {
        findings.push(
            Finding::new(
                ids::FILE_MISSING,
                Some(path),
                format!(
                    "{what} `{path}` is a symbolic link to `{target}`, which does not resolve \
                        inside the image"
                ),
            )
            .severity(wanted.missing_severity)
            .hint("copy the file itself, not a link to it"),
        );
        return None;
    }
    if let Some(link) = &file.via_symlink {
        findings.push(symlinked(path, link));
    }
    let (right_type, needed) = match wanted.expect {
        Expect::File => (file.kind == FileKind::File, "a regular file"),
        Expect::Directory => (file.kind == FileKind::Directory, "a folder"),
    };
    if !right_type {
        findings.push(
            Finding::new(
                ids::FILE_WRONG_TYPE,
                Some(path),
                format!(
                    "{what} `{path}` is {}, not {needed}",
                    describe_kind(&file.kind)
                ),
            )
            .hint("fix the path in metadata.json or what the Dockerfile copies there"),
        );
        return None;
    }
    Some(file)
}

/// A finding for a named file that is reached through a symbolic link.
pub(crate) fn symlinked(path: &str, link: &str) -> Finding {
    let message = if link == path {
        format!("`{path}` is a symbolic link")
    } else {
        format!("`{path}` is reached through the symbolic link `{link}`")
    };
    Finding::new(ids::SYMLINKED_FILE, Some(path), message)
        .hint("copy the file itself; how Docker Desktop copies links out of the image is unknown")
}

/// A file type with its article, for messages.
pub(crate) fn describe_kind(kind: &FileKind) -> &'static str {
    match kind {
        FileKind::File => "a regular file",
        FileKind::Directory => "a folder",
        FileKind::Symlink { .. } => "a dangling symbolic link",
        FileKind::Other => "a special file",
    }
}

/// Every finding about the icon, the UI files and the backend of one platform's image.
pub(crate) fn check(metadata: &Metadata, variant: &VariantFacts) -> Vec<Finding> {
    let mut findings = Vec::new();
    let files = &variant.files;

    if let Some(icon) = &metadata.icon {
        let path = paths::normalize(icon).normalized;
        require(
            files,
            &Wanted {
                what: "the icon",
                path: &path,
                expect: Expect::File,
                missing_severity: Severity::Error,
                missing_hint: format!(
                    "copy the icon to `{path}`, such as with `COPY {} /`",
                    paths::base_name(&path)
                ),
            },
            &mut findings,
        );
    }

    if let Some(tab) = &metadata.dashboard_tab
        && let Some(root) = &tab.root
    {
        let root_path = paths::normalize(root).normalized;
        let root_found = require(
            files,
            &Wanted {
                what: "the UI folder",
                path: &root_path,
                expect: Expect::Directory,
                missing_severity: Severity::Error,
                missing_hint: format!(
                    "copy the built UI to `{root_path}`, such as with `COPY \
                        --from=client-builder /ui/build {root_path}`"
                ),
            },
            &mut findings,
        );
        // Without the folder, its entry file is missing too; one finding says enough.
        if root_found.is_some()
            && let Some(src) = &tab.src
        {
            let src_path = paths::join_ui(root, src);
            require(
                files,
                &Wanted {
                    what: "the UI entry file",
                    path: &src_path,
                    expect: Expect::File,
                    missing_severity: Severity::Error,
                    missing_hint: "`src` is relative to `root`; check the built UI's file names"
                        .to_string(),
                },
                &mut findings,
            );
        }
    }

    if let Some(vm) = &metadata.vm {
        if let Some(composefile) = &vm.composefile {
            let path = paths::normalize(composefile).normalized;
            let found = require(
                files,
                &Wanted {
                    what: "the compose file",
                    path: &path,
                    expect: Expect::File,
                    missing_severity: Severity::Error,
                    missing_hint: format!(
                        "copy it to `{path}`, such as with `COPY {} /`",
                        paths::base_name(&path)
                    ),
                },
                &mut findings,
            );
            if let Some(file) = found {
                findings.extend(compose::check_file(&path, file, variant.has_command));
            }
        }
        if let Some(image) = &vm.image {
            findings.extend(compose::check_vm_image(image, variant.has_command));
        }
    }

    findings
}
