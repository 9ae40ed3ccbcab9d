use std::path::PathBuf;

/// Everything that can go wrong while reading or writing images.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error(transparent)]
    Io(#[from] std::io::Error),

    /// A reference such as `alpine:3` could not be parsed.
    #[error("invalid reference `{reference}`: {reason}")]
    InvalidReference {
        /// The text given.
        reference: String,
        /// Why it is invalid.
        reason: String,
    },

    /// A platform such as `linux/arm64` could not be parsed.
    #[error("invalid platform `{platform}`: {reason}")]
    InvalidPlatform {
        /// The text given.
        platform: String,
        /// Why it is invalid.
        reason: String,
    },

    /// A transport string such as `oci:DIR:TAG` could not be parsed.
    #[error("invalid image location `{location}`: {reason}")]
    InvalidLocation {
        /// The text given.
        location: String,
        /// Why it is invalid.
        reason: String,
    },

    /// A digest string is malformed or uses an algorithm we do not support.
    #[error("invalid digest `{digest}`: {reason}")]
    InvalidDigest {
        /// The text given.
        digest: String,
        /// Why it is invalid.
        reason: String,
    },

    /// The content read does not hash to the digest that names it.
    #[error("digest mismatch for {what}: expected `{expected}` but found `{found}`")]
    DigestMismatch {
        /// What was read (a blob path or a descriptor).
        what: String,
        /// The digest the descriptor names.
        expected: String,
        /// The digest of the bytes actually read.
        found: String,
    },

    /// The content read is not as long as its descriptor says.
    #[error("size mismatch for {what}: expected {expected} bytes but found {found}")]
    SizeMismatch {
        /// What was read.
        what: String,
        /// The size the descriptor names.
        expected: u64,
        /// The number of bytes actually read (or more, when reading stopped early).
        found: u64,
    },

    /// A blob that a descriptor names is not in the store.
    #[error("blob `{digest}` is missing from {location}")]
    BlobMissing {
        /// The digest of the missing blob.
        digest: String,
        /// Where it was looked for.
        location: String,
    },

    /// A folder is not an OCI image layout.
    #[error("`{}` is not an OCI image layout: {reason}", path.display())]
    NotALayout {
        /// The folder or archive.
        path: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },

    /// A file that is not an archive of the kind to write is where one would be written.
    #[error("`{}` exists and is not {kind} ({reason}); extkit will not replace it", path.display())]
    NotAnArchiveToReplace {
        /// The file.
        path: PathBuf,
        /// What would be written: `an OCI archive`, `a docker archive`.
        kind: &'static str,
        /// What it is instead.
        reason: String,
    },

    /// A tag or reference is not in the layout or archive.
    #[error("no image named `{name}` in {location}")]
    ImageNotFound {
        /// The tag or reference asked for.
        name: String,
        /// Where it was looked for.
        location: String,
        /// The names that are there.
        available: Vec<String>,
    },

    /// A layout or archive holds several images and no name was given to pick one.
    #[error("{location} holds {count} images, so a tag is needed to pick one")]
    AmbiguousImage {
        /// Where the images are.
        location: String,
        /// How many there are.
        count: usize,
        /// Their names.
        available: Vec<String>,
    },

    /// A JSON document (index, manifest, config) is malformed.
    #[error("malformed {what}")]
    MalformedJson {
        /// What was parsed.
        what: String,
        /// The parser's error, with line and column.
        #[source]
        source: serde_json::Error,
    },

    /// An index holds no manifests at all.
    #[error("the index `{digest}` holds no manifests")]
    EmptyIndex {
        /// The digest of the empty index.
        digest: String,
    },

    /// A manifest or index media type extkit cannot use.
    #[error("unsupported media type `{media_type}` for {what}")]
    UnsupportedMediaType {
        /// The media type found.
        media_type: String,
        /// Where it was found.
        what: String,
    },

    /// A Docker schema 1 manifest, which is obsolete.
    #[error("{what} is a Docker schema 1 manifest, which extkit does not support")]
    Schema1 {
        /// Where it was found.
        what: String,
    },

    /// A file given as an archive is not a tar file at all.
    #[error("`{}` is not a tar archive", path.display())]
    NotATar {
        /// The file.
        path: PathBuf,
    },

    /// An archive (tar) is malformed.
    #[error("malformed archive `{}`: {reason}", path.display())]
    MalformedArchive {
        /// The archive.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// A docker-archive holds one platform per image, so an index cannot be written there.
    #[error("a docker-archive holds one platform per image, but `{digest}` is an index")]
    DockerArchiveNeedsPlatform {
        /// The digest of the index.
        digest: String,
    },

    /// An image has no variant for the wanted platform.
    #[error("{image} has no {platform} image")]
    PlatformMissing {
        /// The image.
        image: String,
        /// The wanted platform.
        platform: String,
        /// The runnable platforms it has.
        available: Vec<String>,
    },

    /// The transport exists but cannot do this yet.
    #[error("{operation} is not supported by the `{transport}` transport")]
    Unsupported {
        /// The transport name.
        transport: String,
        /// What was asked.
        operation: String,
    },
}

impl Error {
    /// A sentence telling the user what to do next, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::NotATar { .. } => Some(
                "`oci-archive:` and `docker-archive:` name tar files, as `extkit copy` or \
                 `docker save` write them; for an image layout folder use `oci:DIR`"
                    .into(),
            ),
            Error::NotAnArchiveToReplace { .. } => {
                Some("remove the file or write to another one".into())
            }
            Error::InvalidReference { .. } => Some(
                "a reference looks like `alpine`, `acme/ext:1.0`, `localhost:5000/x@sha256:…`; \
                 repository names are lower-case"
                    .into(),
            ),
            Error::InvalidPlatform { .. } => {
                Some("a platform looks like `linux/amd64` or `linux/arm64/v8`".into())
            }
            Error::InvalidLocation { .. } => Some(
                "use `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:REF]` \
                 or `docker://REF`"
                    .into(),
            ),
            Error::InvalidDigest { .. } => {
                Some("a digest looks like `sha256:` followed by 64 lower-case hex digits".into())
            }
            Error::DigestMismatch { .. } | Error::SizeMismatch { .. } => Some(
                "the image is corrupt or was modified after it was written; copy it again \
                 from its source"
                    .into(),
            ),
            Error::BlobMissing { .. } => Some(
                "the image is incomplete; copy it again from its source with all platforms".into(),
            ),
            Error::NotALayout { .. } => Some(
                "an OCI layout has `oci-layout` and `index.json` files and a `blobs/` folder; \
                 check the path, or use `oci-archive:` for a tar file"
                    .into(),
            ),
            Error::ImageNotFound { available, .. } | Error::AmbiguousImage { available, .. } => {
                if available.is_empty() {
                    Some("the layout holds no named images".into())
                } else {
                    Some(format!("it holds: {}", available.join(", ")))
                }
            }
            Error::MalformedJson { .. } => {
                Some("the file is not valid JSON of the expected shape".into())
            }
            Error::EmptyIndex { .. } => {
                Some("build or copy the image again with at least one platform".into())
            }
            Error::UnsupportedMediaType { .. } => Some(
                "extkit reads OCI and Docker schema 2 indexes and manifests; convert the image \
                 with `skopeo copy --format oci`"
                    .into(),
            ),
            Error::Schema1 { .. } => Some(
                "push the image again with a current Docker or buildx, which write schema 2".into(),
            ),
            Error::DockerArchiveNeedsPlatform { .. } => Some(
                "choose one platform with `--platform`, or write to `oci-archive:` which keeps \
                 them all"
                    .into(),
            ),
            Error::PlatformMissing { available, .. } => Some(if available.is_empty() {
                "it has no runnable platform at all".into()
            } else {
                format!("it has {}", available.join(", "))
            }),
            Error::Io(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Some("check that the path exists".into())
            }
            _ => None,
        }
    }
}
