/// The media types extkit reads and writes.
pub mod media_types {
    /// An OCI image index.
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// An OCI image manifest.
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// An OCI image configuration.
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    /// An uncompressed OCI layer.
    pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
    /// A gzip-compressed OCI layer.
    pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    /// A zstd-compressed OCI layer.
    pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
    /// A Docker schema 2 manifest list.
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    /// A Docker schema 2 manifest.
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// A Docker image configuration.
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    /// A gzip-compressed Docker layer.
    pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    /// An uncompressed Docker layer (used by some tools, never by a registry push).
    pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";
    /// A Docker foreign (non-distributable) layer.
    pub const DOCKER_FOREIGN_LAYER: &str =
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    /// A Docker schema 1 manifest, obsolete.
    pub const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
    /// A signed Docker schema 1 manifest, obsolete.
    pub const DOCKER_SCHEMA1_SIGNED: &str =
        "application/vnd.docker.distribution.manifest.v1+prettyjws";
    /// The empty JSON object used as the config of artifacts.
    pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";

    /// Every manifest and index media type, as a registry `Accept` header wants them.
    pub const ALL_MANIFESTS: &[&str] = &[OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST];
}

use media_types::*;

/// What a media type names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    /// An OCI index or a Docker manifest list.
    Index,
    /// An OCI or Docker schema 2 image manifest.
    Manifest,
    /// An image configuration.
    Config,
    /// A filesystem layer with its compression.
    Layer(Compression),
    /// A Docker schema 1 manifest, which extkit refuses.
    Schema1,
    /// Anything else: artifacts, attestation statements, unknown types.
    Other,
}

/// How a layer is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// A plain tar.
    None,
    /// gzip.
    Gzip,
    /// zstd.
    Zstd,
}

impl MediaKind {
    /// Classifies a media type string.
    pub fn of(media_type: &str) -> MediaKind {
        match media_type {
            OCI_INDEX | DOCKER_LIST => MediaKind::Index,
            OCI_MANIFEST | DOCKER_MANIFEST => MediaKind::Manifest,
            OCI_CONFIG | DOCKER_CONFIG => MediaKind::Config,
            OCI_LAYER
            | DOCKER_LAYER
            | "application/vnd.oci.image.layer.nondistributable.v1.tar" => {
                MediaKind::Layer(Compression::None)
            }
            OCI_LAYER_GZIP
            | DOCKER_LAYER_GZIP
            | DOCKER_FOREIGN_LAYER
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip" => {
                MediaKind::Layer(Compression::Gzip)
            }
            OCI_LAYER_ZSTD | "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd" => {
                MediaKind::Layer(Compression::Zstd)
            }
            DOCKER_SCHEMA1 | DOCKER_SCHEMA1_SIGNED => MediaKind::Schema1,
            _ => MediaKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_oci_and_docker_types() {
        let cases = [
            (OCI_INDEX, MediaKind::Index),
            (DOCKER_LIST, MediaKind::Index),
            (OCI_MANIFEST, MediaKind::Manifest),
            (DOCKER_MANIFEST, MediaKind::Manifest),
            (OCI_CONFIG, MediaKind::Config),
            (DOCKER_CONFIG, MediaKind::Config),
            (OCI_LAYER, MediaKind::Layer(Compression::None)),
            (OCI_LAYER_GZIP, MediaKind::Layer(Compression::Gzip)),
            (DOCKER_LAYER_GZIP, MediaKind::Layer(Compression::Gzip)),
            (OCI_LAYER_ZSTD, MediaKind::Layer(Compression::Zstd)),
            (DOCKER_SCHEMA1_SIGNED, MediaKind::Schema1),
            ("application/vnd.in-toto+json", MediaKind::Other),
        ];
        for (media_type, kind) in cases {
            assert_eq!(MediaKind::of(media_type), kind, "{media_type}");
        }
    }
}
