//! Helpers of the build tests: contexts written from lists, extkit run in a folder, and
//! built images unpacked per platform.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use extkit_layer::{Capture, EntryKind, FileQuery, FileTree, scan_layer};
use extkit_oci::Image;
use extkit_oci::transport::{Location, open_source};
use serde_json::Value;

use super::extkit;

/// Runs extkit in the folder `dir` with its store in `home`, killed after `limit` so that a
/// build which hangs fails its test instead of the suite; gives (exit code, stdout, stderr).
pub fn run_within(
    dir: &Path,
    home: &Path,
    args: &[&str],
    limit: Duration,
) -> (i32, String, String) {
    let output = extkit()
        .current_dir(dir)
        .env("EXTKIT_HOME", home)
        .env_remove("SOURCE_DATE_EPOCH")
        .args(args)
        .timeout(limit)
        .output()
        .unwrap();
    let code = output.status.code().unwrap_or_else(|| {
        panic!(
            "`extkit {}` did not finish within {limit:?}",
            args.join(" ")
        )
    });
    (
        code,
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// Writes files (path, content, mode) under `root`; a content starting with `->` makes a
/// symbolic link to the rest.
pub fn write_files(root: &Path, files: &[(&str, &str, u32)]) {
    use std::os::unix::fs::PermissionsExt;
    for (path, content, mode) in files {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        match content.strip_prefix("->") {
            Some(target) => std::os::unix::fs::symlink(target, &path).unwrap(),
            None => {
                fs::write(&path, content).unwrap();
                fs::set_permissions(&path, fs::Permissions::from_mode(*mode)).unwrap();
            }
        }
    }
}

/// One platform's image, unpacked: every path with its type, mode and content (`file 644
/// text`, `dir 755`, `symlink -> target`), and the whole image configuration document.
#[derive(Debug, PartialEq)]
pub struct Unpacked {
    pub files: BTreeMap<String, String>,
    pub config: Value,
}

/// Every platform of the image index at `location`, by architecture.
pub fn unpack(location: &str) -> BTreeMap<String, Unpacked> {
    let location: Location = location.parse().unwrap();
    let source = open_source(&location).unwrap();
    let root = source.root().unwrap();
    let Image::Index { entries, .. } = root.parse("root").unwrap() else {
        panic!("{location} is not an index");
    };
    let mut platforms = BTreeMap::new();
    for entry in entries {
        let raw = source.manifest(&entry.descriptor).unwrap();
        let Image::Manifest { manifest, .. } = raw.parse("manifest").unwrap() else {
            panic!("a nested index");
        };
        let config: Value =
            serde_json::from_slice(&source.blob_bytes(manifest.config()).unwrap()).unwrap();
        let mut query = FileQuery::new();
        query.add_tree("", Capture::Content { limit: u64::MAX });
        let mut tree = FileTree::new();
        for layer in manifest.layers() {
            let changes = scan_layer(source.blob(layer).unwrap(), &query, "layer").unwrap();
            tree.apply(&changes);
        }
        let files = tree
            .beneath("")
            .map(|(path, entry)| {
                let what = match &entry.kind {
                    EntryKind::File => format!(
                        "file {:o} {}",
                        entry.mode,
                        String::from_utf8_lossy(entry.content.as_deref().unwrap())
                    ),
                    EntryKind::Directory => format!("dir {:o}", entry.mode),
                    EntryKind::Symlink(target) => format!("symlink -> {target}"),
                    other => format!("{other:?}"),
                };
                (path.to_string(), what)
            })
            .collect();
        let architecture = config["architecture"].as_str().unwrap().to_string();
        platforms.insert(architecture, Unpacked { files, config });
    }
    platforms
}
