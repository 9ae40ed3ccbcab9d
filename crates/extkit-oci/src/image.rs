use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};

use crate::{
    Digest, Error, MediaKind, Platform, PlatformMatcher, Result, media_types, sha256_digest,
};

/// The annotation BuildKit puts on attestation entries of an index.
const REFERENCE_TYPE: &str = "vnd.docker.reference.type";
/// The annotation naming the image manifest an attestation describes.
const REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";

/// An index or manifest exactly as stored, with its digest and media type.
///
/// The bytes are never re-serialised: re-encoding JSON changes the digest, and `oci-spec` drops
/// fields it does not know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawManifest {
    /// The stored bytes.
    pub bytes: Vec<u8>,
    /// The SHA-256 digest of the bytes.
    pub digest: Digest,
    /// The media type: the document's own `mediaType`, else the one its descriptor declared,
    /// else the one its shape implies.
    pub media_type: String,
}

impl RawManifest {
    /// Wraps stored bytes, taking the media type from the document or from `declared`.
    pub fn new(bytes: Vec<u8>, declared: Option<&str>) -> Self {
        let digest = sha256_digest(&bytes);
        let media_type = sniff_media_type(&bytes, declared);
        RawManifest {
            bytes,
            digest,
            media_type,
        }
    }

    /// What kind of document this is.
    pub fn kind(&self) -> MediaKind {
        MediaKind::of(&self.media_type)
    }

    /// A descriptor pointing at this document.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(
            self.media_type.as_str().into(),
            self.bytes.len() as u64,
            &self.digest,
        )
    }

    /// Parses the document; `what` names it in errors.
    pub fn parse(&self, what: &str) -> Result<Image> {
        match self.kind() {
            MediaKind::Index => {
                let index: ImageIndex = parse_json(&self.bytes, what)?;
                if index.manifests().is_empty() {
                    return Err(Error::EmptyIndex {
                        digest: self.digest.to_string(),
                    });
                }
                let entries = index
                    .manifests()
                    .iter()
                    .map(IndexEntry::from_descriptor)
                    .collect::<Result<Vec<_>>>()?;
                Ok(Image::Index {
                    raw: self.clone(),
                    index: Box::new(index),
                    entries,
                })
            }
            MediaKind::Manifest => {
                let manifest: ImageManifest = parse_json(&self.bytes, what)?;
                Ok(Image::Manifest {
                    raw: self.clone(),
                    manifest: Box::new(manifest),
                })
            }
            MediaKind::Schema1 => Err(Error::Schema1 {
                what: what.to_string(),
            }),
            _ => Err(Error::UnsupportedMediaType {
                media_type: self.media_type.clone(),
                what: what.to_string(),
            }),
        }
    }
}

/// Parses JSON with a "malformed X" error that carries the line and column.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| Error::MalformedJson {
        what: what.to_string(),
        source,
    })
}

/// The media type of a manifest-like document: its own field, the declared one, or its shape.
fn sniff_media_type(bytes: &[u8], declared: Option<&str>) -> String {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Shape {
        media_type: Option<String>,
        schema_version: Option<u64>,
        manifests: Option<serde::de::IgnoredAny>,
        config: Option<serde::de::IgnoredAny>,
    }
    let shape: Option<Shape> = serde_json::from_slice(bytes).ok();
    if let Some(media_type) = shape.as_ref().and_then(|s| s.media_type.clone()) {
        return media_type;
    }
    if let Some(declared) = declared {
        return declared.to_string();
    }
    match shape {
        Some(Shape {
            schema_version: Some(1),
            ..
        }) => media_types::DOCKER_SCHEMA1.to_string(),
        Some(Shape {
            manifests: Some(_), ..
        }) => media_types::OCI_INDEX.to_string(),
        Some(Shape {
            config: Some(_), ..
        }) => media_types::OCI_MANIFEST.to_string(),
        _ => "application/octet-stream".to_string(),
    }
}

/// A parsed index or manifest.
#[derive(Clone, Debug)]
pub enum Image {
    /// A multi-platform image.
    Index {
        /// The stored bytes.
        raw: RawManifest,
        /// The parsed index.
        index: Box<ImageIndex>,
        /// Its entries, classified.
        entries: Vec<IndexEntry>,
    },
    /// A single-platform image.
    Manifest {
        /// The stored bytes.
        raw: RawManifest,
        /// The parsed manifest.
        manifest: Box<ImageManifest>,
    },
}

impl Image {
    /// The stored bytes of the root document.
    pub fn raw(&self) -> &RawManifest {
        match self {
            Image::Index { raw, .. } | Image::Manifest { raw, .. } => raw,
        }
    }

    /// The index entry an engine pulls for the matcher's platform, by containerd's rules
    /// (an exact match first, then compatible variants; the first entry wins a tie): its
    /// position in the index and the platform it was chosen as. Entries that are not
    /// runnable count as `unknown/unknown`. `None` for a single manifest or when nothing
    /// matches.
    pub fn choose(&self, matcher: &PlatformMatcher) -> Option<(usize, Platform)> {
        let Image::Index { entries, .. } = self else {
            return None;
        };
        let mut candidates: Vec<Platform> = entries
            .iter()
            .map(|entry| match (&entry.kind, &entry.platform) {
                (IndexEntryKind::Runnable, Some(platform)) => platform.clone(),
                _ => Platform::new("unknown", "unknown", None),
            })
            .collect();
        let chosen = matcher.choose(&candidates)?;
        Some((chosen, candidates.swap_remove(chosen)))
    }

    /// The platforms of the runnable entries as stored, for messages saying what an image
    /// has.
    pub fn runnable_platforms(&self) -> Vec<String> {
        self.runnable()
            .filter_map(|entry| entry.platform.as_ref())
            .map(Platform::to_string)
            .collect()
    }

    /// The runnable entries of an index (attestations and artifacts left out); empty for a
    /// single manifest.
    pub fn runnable(&self) -> impl Iterator<Item = &IndexEntry> {
        let entries: &[IndexEntry] = match self {
            Image::Index { entries, .. } => entries,
            Image::Manifest { .. } => &[],
        };
        entries
            .iter()
            .filter(|entry| entry.kind == IndexEntryKind::Runnable)
    }
}

/// What an index entry is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexEntryKind {
    /// An image manifest for a platform.
    Runnable,
    /// An attestation manifest (provenance, SBOM) for another entry.
    Attestation {
        /// The digest of the manifest it describes, when the annotation says.
        describes: Option<String>,
    },
    /// A nested index, an artifact or an entry without a platform.
    Other,
}

/// One entry of an index, classified.
#[derive(Clone, Debug)]
pub struct IndexEntry {
    /// The descriptor as stored.
    pub descriptor: Descriptor,
    /// Its digest, checked to be a SHA-256 digest.
    pub digest: Digest,
    /// Its platform as stored, when it has one.
    pub platform: Option<Platform>,
    /// What the entry is for.
    pub kind: IndexEntryKind,
}

impl IndexEntry {
    fn from_descriptor(descriptor: &Descriptor) -> Result<Self> {
        let digest = Digest::try_from(descriptor.digest())?;
        let platform = descriptor.platform().as_ref().map(Platform::from_spec);
        let kind = if is_attestation(descriptor) {
            let describes = descriptor
                .annotations()
                .as_ref()
                .and_then(|a| a.get(REFERENCE_DIGEST).cloned());
            IndexEntryKind::Attestation { describes }
        } else if platform.is_some()
            && MediaKind::of(descriptor.media_type().as_ref()) == MediaKind::Manifest
        {
            IndexEntryKind::Runnable
        } else {
            IndexEntryKind::Other
        };
        Ok(IndexEntry {
            descriptor: descriptor.clone(),
            digest,
            platform,
            kind,
        })
    }
}

/// Whether an index entry is an attestation: an `unknown/unknown` platform or a
/// `vnd.docker.reference.type` annotation.
pub fn is_attestation(descriptor: &Descriptor) -> bool {
    let unknown_platform = descriptor
        .platform()
        .as_ref()
        .is_some_and(|p| Platform::from_spec(p).is_unknown());
    let has_reference_type = descriptor
        .annotations()
        .as_ref()
        .is_some_and(|a| a.contains_key(REFERENCE_TYPE));
    unknown_platform || has_reference_type
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = r#"{
      "schemaVersion": 2,
      "mediaType": "application/vnd.oci.image.index.v1+json",
      "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 10,
         "digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
         "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 10,
         "digest": "sha256:2222222222222222222222222222222222222222222222222222222222222222",
         "platform": {"architecture": "unknown", "os": "unknown"},
         "annotations": {"vnd.docker.reference.type": "attestation-manifest",
           "vnd.docker.reference.digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111"}}
      ]}"#;

    #[test]
    fn attestations_are_recognised_and_not_runnable() {
        let raw = RawManifest::new(INDEX.as_bytes().to_vec(), None);
        let image = raw.parse("test index").unwrap();
        let Image::Index { entries, .. } = &image else {
            panic!("not an index")
        };
        assert_eq!(entries[0].kind, IndexEntryKind::Runnable);
        assert_eq!(
            entries[1].kind,
            IndexEntryKind::Attestation {
                describes: Some(format!("sha256:{}", "1".repeat(64)))
            }
        );
        assert_eq!(image.runnable().count(), 1);
    }

    #[test]
    fn choose_picks_the_first_best_runnable_entry() {
        let entry = |digit: char, platform: &str| {
            let parts: Vec<&str> = platform.split('/').collect();
            let variant = parts
                .get(2)
                .map_or(String::new(), |v| format!(r#", "variant": "{v}""#));
            format!(
                r#"{{"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 10,
                   "digest": "sha256:{}",
                   "platform": {{"os": "{}", "architecture": "{}"{variant}}}}}"#,
                digit.to_string().repeat(64),
                parts[0],
                parts[1]
            )
        };
        let index = format!(
            r#"{{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [{}, {}, {}, {}]}}"#,
            entry('1', "linux/arm/v6"),
            entry('2', "linux/amd64"),
            entry('3', "linux/amd64"),
            entry('4', "linux/arm/v7"),
        );
        let image = RawManifest::new(index.into_bytes(), None)
            .parse("test index")
            .unwrap();
        let choose = |wanted: &str| image.choose(&PlatformMatcher::new(&wanted.parse().unwrap()));
        assert_eq!(
            choose("linux/amd64"),
            Some((1, "linux/amd64".parse().unwrap()))
        );
        assert_eq!(
            choose("linux/arm/v7"),
            Some((3, "linux/arm/v7".parse().unwrap()))
        );
        assert_eq!(
            choose("linux/arm/v6"),
            Some((0, "linux/arm/v6".parse().unwrap()))
        );
        // containerd lets an arm64 host run 32-bit arm, the newest variant first.
        assert_eq!(
            choose("linux/arm64"),
            Some((3, "linux/arm/v7".parse().unwrap()))
        );
        assert_eq!(choose("linux/s390x"), None);
        assert_eq!(
            image.runnable_platforms(),
            ["linux/arm/v6", "linux/amd64", "linux/amd64", "linux/arm/v7"]
        );

        let single = RawManifest::new(
            br#"{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
              "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
            "layers": []}"#
                .to_vec(),
            None,
        )
        .parse("manifest")
        .unwrap();
        assert_eq!(
            single.choose(&PlatformMatcher::new(&"linux/amd64".parse().unwrap())),
            None
        );
        assert!(single.runnable_platforms().is_empty());
    }

    #[test]
    fn media_type_comes_from_the_document_then_the_descriptor_then_the_shape() {
        let umoci_manifest = br#"{"schemaVersion":2,"config":{},"layers":[]}"#.to_vec();
        assert_eq!(
            RawManifest::new(umoci_manifest.clone(), None).media_type,
            media_types::OCI_MANIFEST
        );
        assert_eq!(
            RawManifest::new(umoci_manifest, Some(media_types::DOCKER_MANIFEST)).media_type,
            media_types::DOCKER_MANIFEST
        );
        let schema1 = br#"{"schemaVersion":1,"name":"x"}"#.to_vec();
        let error = RawManifest::new(schema1, None).parse("x").unwrap_err();
        assert!(matches!(error, Error::Schema1 { .. }), "{error}");
    }

    #[test]
    fn empty_index_is_an_error() {
        let raw = RawManifest::new(
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#.to_vec(),
            None,
        );
        assert!(matches!(
            raw.parse("x").unwrap_err(),
            Error::EmptyIndex { .. }
        ));
    }
}
