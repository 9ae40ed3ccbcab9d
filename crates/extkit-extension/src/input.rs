//! The facts the rules look at. Gathering them is [`crate::collect`]'s job; judging them is
//! the rules' job.

use std::collections::BTreeMap;

use extkit_binfmt::BinaryInfo;
use extkit_oci::Platform;

/// Everything the rules need to know about one image.
#[derive(Clone, Debug, Default)]
pub struct ImageFacts {
    /// The image as the user named it, such as `oci:build:latest`.
    pub reference: String,
    /// The digest of its root index or manifest.
    pub digest: Option<String>,
    /// The tag it was named by, when there was one (for the semver-tag rule).
    pub tag: Option<String>,
    /// Whether the root is an index (or Docker manifest list) rather than one manifest.
    pub is_index: bool,
    /// Every entry of the index in stored order; a single manifest is one entry without an
    /// index platform.
    pub entries: Vec<EntryFacts>,
}

impl ImageFacts {
    /// The runnable entries in stored order, each with its platform: the index entry's, or
    /// the config's for a lone manifest. An entry with neither is left out.
    pub(crate) fn runnable(&self) -> impl Iterator<Item = (Platform, &EntryFacts)> {
        self.entries
            .iter()
            .filter(|entry| entry.kind == EntryKind::Runnable)
            .filter_map(|entry| {
                let config = entry
                    .variant
                    .as_ref()
                    .map(|variant| &variant.config_platform);
                let platform = entry.platform.as_ref().or(config)?.clone();
                Some((platform, entry))
            })
    }
}

/// One entry of the index.
#[derive(Clone, Debug)]
pub struct EntryFacts {
    /// The manifest's digest.
    pub digest: String,
    /// The platform the index entry declares, as stored (not normalised); `None` for a single
    /// manifest.
    pub platform: Option<Platform>,
    /// What the entry is for.
    pub kind: EntryKind,
    /// What was read from the image behind a runnable entry; `None` for other entries.
    pub variant: Option<VariantFacts>,
}

/// What an index entry is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// An image manifest for a platform.
    Runnable,
    /// An attestation of another entry (`unknown/unknown` or `vnd.docker.reference.type`).
    Attestation {
        /// The digest of the manifest it describes, when its annotation says.
        describes: Option<String>,
    },
    /// A nested index, an artifact, or an entry without a platform.
    Other,
}

/// What one platform's image holds, as far as the rules care.
#[derive(Clone, Debug)]
pub struct VariantFacts {
    /// `os`, `architecture` and `variant` from the image config, as stored.
    pub config_platform: Platform,
    /// `config.Labels`.
    pub labels: BTreeMap<String, String>,
    /// Whether `config.Cmd` or `config.Entrypoint` is set (a backend needs one).
    pub has_command: bool,
    /// `/metadata.json`; `None` when the image has no such path.
    pub metadata: Option<FileFacts>,
    /// Every path asked for through [`WantedFile`]s (absolute, normalised, such as
    /// `/ui/index.html`), after all layers were applied with their whiteouts. A path that is
    /// not in the image is not in the map.
    pub files: BTreeMap<String, FileFacts>,
}

/// One path in an image's filesystem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileFacts {
    /// Its type.
    pub kind: FileKind,
    /// Permission bits from the tar header (such as `0o755`).
    pub mode: u32,
    /// Size in bytes of a regular file; 0 otherwise.
    pub size: u64,
    /// The whole content, for regular files asked for with [`ReadKind::Content`]
    /// (`metadata.json`, the compose file).
    pub content: Option<Vec<u8>>,
    /// What the executable is, for regular files asked for with [`ReadKind::Binary`].
    pub binary: Option<BinaryInfo>,
    /// When the path was reached through a symbolic link: the link's own path. The facts
    /// themselves describe the link's target, resolved inside the image.
    pub via_symlink: Option<String>,
}

/// A type of filesystem entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A folder, declared in a layer or implied by a path beneath it.
    Directory,
    /// A symbolic link that could not be resolved inside the image (dangling, looping, or
    /// leading outside), with its target.
    Symlink {
        /// The link's target as stored.
        target: String,
    },
    /// A device, fifo or other special file.
    Other,
}

/// A path the rules want read from every platform's image, and how much of it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WantedFile {
    /// Absolute, normalised path such as `/darwin/kubectl`.
    pub path: String,
    /// How much to read.
    pub read: ReadKind,
}

/// How much of a wanted path to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReadKind {
    /// Only whether it exists and its type and mode (icon, UI root, UI entry file).
    Stat,
    /// The whole content, for small text files (the compose file).
    Content,
    /// Enough to tell what executable it is (host binaries).
    Binary,
}
