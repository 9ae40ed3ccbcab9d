//! Which paths the collector must read from every platform's image.

use std::collections::BTreeMap;

use crate::input::{ReadKind, WantedFile};
use crate::metadata::{self, Metadata};
use crate::paths;

/// The paths every variant must be read for, given that variant's `metadata.json` bytes
/// (invalid JSON gives an empty list).
///
/// Paths are absolute and normalised (`ui` → `/ui`, `docker.svg` → `/docker.svg`). The icon,
/// the UI root and its entry file are [`ReadKind::Stat`], the compose file
/// [`ReadKind::Content`], and the host binaries of every OS [`ReadKind::Binary`]. A path
/// wanted in two ways is listed once per way, except that a stat adds nothing to a read.
pub fn wanted_files(metadata: &[u8]) -> Vec<WantedFile> {
    let Ok((metadata, _)) = metadata::parse(metadata) else {
        return Vec::new();
    };
    wanted_from(&metadata)
}

/// [`wanted_files`] for metadata already parsed.
pub(crate) fn wanted_from(metadata: &Metadata) -> Vec<WantedFile> {
    let mut wanted: BTreeMap<String, Vec<ReadKind>> = BTreeMap::new();
    let mut want = |path: String, read: ReadKind| {
        let reads = wanted.entry(path).or_default();
        if !reads.contains(&read) {
            reads.push(read);
        }
    };

    if let Some(icon) = &metadata.icon {
        want(paths::normalize(icon).normalized, ReadKind::Stat);
    }
    if let Some(tab) = &metadata.dashboard_tab
        && let Some(root) = &tab.root
    {
        want(paths::normalize(root).normalized, ReadKind::Stat);
        if let Some(src) = &tab.src {
            want(paths::join_ui(root, src), ReadKind::Stat);
        }
    }
    if let Some(composefile) = metadata.vm.as_ref().and_then(|vm| vm.composefile.as_ref()) {
        want(paths::normalize(composefile).normalized, ReadKind::Content);
    }
    for binary in &metadata.binaries {
        want(paths::normalize(&binary.path).normalized, ReadKind::Binary);
    }

    let mut files = Vec::new();
    for (path, mut reads) in wanted {
        // Reading a file tells whether it exists, so a stat beside a read is redundant.
        if reads.len() > 1 {
            reads.retain(|read| *read != ReadKind::Stat);
        }
        reads.sort();
        files.extend(reads.into_iter().map(|read| WantedFile {
            path: path.clone(),
            read,
        }));
    }
    files
}
