//! Reading what an install writes: the variant for the host, and from its layers the files
//! metadata.json names.

use std::collections::BTreeMap;

use extkit_extension::{HostOs, parse_metadata};
use extkit_layer::{Capture, EntryKind, FileQuery, FileTree, scan_layer};
use extkit_oci::transport::ImageSource;
use extkit_oci::{Digest, Image, Platform, PlatformMatcher};
use serde_json::Value;
use tracing::debug;

use crate::{Host, InstallError};

/// The largest icon, compose file or UI file read.
const FILE_LIMIT: u64 = 64 << 20;
/// The largest host binary read.
const BINARY_LIMIT: u64 = 1 << 30;

/// Everything an install writes, read from the image.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The image as the user named it.
    pub reference: String,
    /// The digest of the image's root (index or manifest).
    pub digest: Digest,
    /// The variant chosen for the host, as its index entry declares it.
    pub platform: Platform,
    /// The host installed for.
    pub host: Host,
    /// `/metadata.json`, as stored.
    pub metadata: Vec<u8>,
    /// The config's labels.
    pub labels: BTreeMap<String, String>,
    /// The icon: its file name and content.
    pub icon: Option<(String, Vec<u8>)>,
    /// The UI folder's content, by path relative to the UI root.
    pub ui: Vec<(String, UiEntry)>,
    /// The host binaries for the host's OS: base name and content.
    pub binaries: Vec<(String, Vec<u8>)>,
    /// The compose file for the backend, when there is one.
    pub compose: Option<Vec<u8>>,
}

/// One entry of the UI folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UiEntry {
    /// A file with its mode.
    File(Vec<u8>, u32),
    /// A folder.
    Directory,
    /// A link to another path inside the UI folder, relative.
    Symlink(String),
}

/// Reads the plan for installing `source` on `host`; `folder` names the install folder (the
/// generated compose file's service is named after it).
pub fn read_plan(
    source: &dyn ImageSource,
    reference: &str,
    host: &Host,
    folder: &str,
) -> Result<Plan, InstallError> {
    let root = source.root()?;
    let image = root.parse(&format!("the root of {}", source.describe()))?;
    let wanted = host.image_platform();
    let matcher = PlatformMatcher::new(&wanted);

    // The variant, chosen as a container engine would.
    let (manifest, platform) = match &image {
        Image::Index { entries, .. } => {
            let Some((chosen, platform)) = image.choose(&matcher) else {
                return Err(InstallError::NoVariant {
                    image: reference.to_string(),
                    platform: wanted.to_string(),
                    available: image.runnable_platforms(),
                });
            };
            debug!(%platform, "chose the variant for the host");
            (source.manifest(&entries[chosen].descriptor)?, platform)
        }
        Image::Manifest { raw, .. } => (raw.clone(), wanted.clone()),
    };
    let Image::Manifest {
        manifest: parsed, ..
    } = manifest.parse(&format!("manifest `{}`", manifest.digest))?
    else {
        return Err(InstallError::Metadata {
            platform: platform.to_string(),
            reason: "the chosen entry is an index, not an image".into(),
        });
    };
    let config: Value =
        serde_json::from_slice(&source.blob_bytes(parsed.config())?).map_err(|error| {
            InstallError::Metadata {
                platform: platform.to_string(),
                reason: format!("its config is not JSON: {error}"),
            }
        })?;
    let actual = Platform::new(
        config["os"].as_str().unwrap_or_default(),
        config["architecture"].as_str().unwrap_or_default(),
        config["variant"].as_str(),
    );
    if !matcher.matches(&actual) {
        return Err(InstallError::NoVariant {
            image: reference.to_string(),
            platform: wanted.to_string(),
            available: vec![actual.to_string()],
        });
    }
    let labels: BTreeMap<String, String> = config["config"]["Labels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, value)| (key.clone(), value.as_str().unwrap_or_default().to_string()))
        .collect();

    let layers = parsed.layers();
    let mut first = FileQuery::new();
    first.add("metadata.json", Capture::Content { limit: FILE_LIMIT });
    let tree = read_tree(source, layers, &first)?;
    let metadata_error = |reason: String| InstallError::Metadata {
        platform: platform.to_string(),
        reason,
    };
    let Some(metadata_bytes) = tree.get("metadata.json").and_then(|e| e.content.clone()) else {
        return Err(metadata_error("it is missing".into()));
    };
    let metadata =
        parse_metadata(&metadata_bytes).map_err(|error| metadata_error(error.to_string()))?;

    // Everything the install copies, read in one pass over the layers.
    let host_os = match host.os.as_str() {
        "darwin" => HostOs::Darwin,
        "windows" => HostOs::Windows,
        _ => HostOs::Linux,
    };
    let mut query = FileQuery::new();
    let content = Capture::Content { limit: FILE_LIMIT };
    if let Some(icon) = &metadata.icon {
        query.add(icon, content);
    }
    let ui_root = metadata
        .dashboard_tab
        .as_ref()
        .and_then(|tab| tab.root.clone());
    if let Some(root) = &ui_root {
        query.add_tree(root, content);
    }
    let compose_file = metadata.vm.as_ref().and_then(|vm| vm.composefile.clone());
    if let Some(compose) = &compose_file {
        query.add(compose, content);
    }
    let binaries: Vec<String> = metadata
        .binaries
        .iter()
        .filter(|b| b.os == host_os)
        .map(|b| b.path.clone())
        .collect();
    for path in &binaries {
        // A name such as `..` could point anywhere in the install folder: refuse it first.
        base_name(path)?;
        query.add(
            path,
            Capture::Content {
                limit: BINARY_LIMIT,
            },
        );
    }
    let tree = read_tree(source, layers, &query)?;

    let missing = |path: &str| InstallError::FileMissing {
        path: path.to_string(),
        platform: platform.to_string(),
    };
    let icon = match &metadata.icon {
        Some(path) => {
            let content = regular_file(&tree, path).ok_or_else(|| missing(path))?;
            Some((base_name(path)?, content))
        }
        None => None,
    };
    let ui = match &ui_root {
        Some(root) => ui_entries(&tree, root)?,
        None => Vec::new(),
    };
    let mut host_binaries = Vec::new();
    for path in &binaries {
        let content = regular_file(&tree, path).ok_or_else(|| missing(path))?;
        host_binaries.push((base_name(path)?, content));
    }
    let compose = match (
        &compose_file,
        metadata.vm.as_ref().and_then(|vm| vm.image.clone()),
    ) {
        (Some(path), _) => Some(regular_file(&tree, path).ok_or_else(|| missing(path))?),
        (None, Some(image)) => Some(generated_compose(folder, &image).into_bytes()),
        (None, None) => None,
    };

    Ok(Plan {
        reference: reference.to_string(),
        digest: root.digest.clone(),
        platform,
        host: host.clone(),
        metadata: metadata_bytes,
        labels,
        icon,
        ui,
        binaries: host_binaries,
        compose,
    })
}

/// Applies every layer's findings for `query`, refusing layers that reach outside the root.
fn read_tree(
    source: &dyn ImageSource,
    layers: &[extkit_oci::spec::Descriptor],
    query: &FileQuery,
) -> Result<FileTree, InstallError> {
    let mut tree = FileTree::new();
    for layer in layers {
        let changes = scan_layer(source.blob(layer)?, query, layer.digest().as_ref())?;
        if let Some(reason) = changes.hostile().first() {
            return Err(InstallError::Hostile {
                reason: format!("{reason} (in layer `{}`)", layer.digest()),
            });
        }
        tree.apply(&changes);
    }
    Ok(tree)
}

/// The content of a regular file in the tree, following hard links inside it.
fn regular_file(tree: &FileTree, path: &str) -> Option<Vec<u8>> {
    let entry = tree.get(path)?;
    match &entry.kind {
        EntryKind::File => entry.content.clone(),
        // TODO(install): follow symbolic links to host binaries and icons inside the image,
        // as validate does; until then a linked file counts as missing.
        _ => None,
    }
}

/// The UI folder's entries relative to its root; links must stay inside it.
fn ui_entries(tree: &FileTree, root: &str) -> Result<Vec<(String, UiEntry)>, InstallError> {
    let root = extkit_layer::clean(root);
    let mut entries = Vec::new();
    for (path, entry) in tree.beneath(&root) {
        let relative = path[root.len() + 1..].to_string();
        let hostile = |reason: String| InstallError::Hostile { reason };
        let ui_entry = match &entry.kind {
            EntryKind::File => UiEntry::File(entry.content.clone().unwrap_or_default(), entry.mode),
            EntryKind::Directory => UiEntry::Directory,
            EntryKind::Symlink(target) => {
                let folder = relative.rsplit_once('/').map_or("", |(folder, _)| folder);
                if target.starts_with('/') || extkit_layer::escapes(&format!("{folder}/{target}")) {
                    return Err(hostile(format!(
                        "the UI link `/{path}` points outside the UI folder, to `{target}`"
                    )));
                }
                UiEntry::Symlink(target.clone())
            }
            EntryKind::Hardlink(target) => match tree.get(target) {
                Some(linked)
                    if linked.kind == EntryKind::File
                        && target.starts_with(&format!("{root}/")) =>
                {
                    UiEntry::File(linked.content.clone().unwrap_or_default(), linked.mode)
                }
                _ => {
                    return Err(hostile(format!(
                        "the UI hard link `/{path}` points outside the UI folder, to `/{target}`"
                    )));
                }
            },
            EntryKind::Other => {
                return Err(hostile(format!(
                    "`/{path}` is a device or other special file"
                )));
            }
        };
        entries.push((relative, ui_entry));
    }
    Ok(entries)
}

/// The last part of a path, refused when it could name something other than a file in the
/// install folder.
fn base_name(path: &str) -> Result<String, InstallError> {
    let name = path.rsplit('/').next().unwrap_or_default();
    if name.is_empty() || name == "." || name == ".." || name.contains('\\') {
        return Err(InstallError::Hostile {
            reason: format!("`{path}` has no usable file name"),
        });
    }
    Ok(name.to_string())
}

/// The compose file Desktop generates from `vm.image`: one service named after the folder.
fn generated_compose(folder: &str, image: &str) -> String {
    let service: String = folder
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!(
        "services:\n  {service}:\n    image: {}\n",
        serde_json::to_string(image).expect("a string serialises")
    )
}
