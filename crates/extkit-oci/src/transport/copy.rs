//! Copying images between transports.

use std::collections::{HashMap, HashSet};

use oci_spec::image::{Descriptor, ImageConfiguration};
use tracing::debug;

use super::{BlobState, ImageDestination, ImageSource, canonical_json};
use crate::image::parse_json;
use crate::{
    Digest, Error, Image, IndexEntryKind, Platform, PlatformMatcher, RawManifest, Result,
    media_types,
};

/// What a copy did. A blob that several manifests share (a layer common to two platforms)
/// is counted once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// The digest of the root written (the same as the source's unless platforms were chosen).
    pub digest: Option<Digest>,
    /// Blobs written.
    pub blobs_written: usize,
    /// Blobs the destination already had, sound.
    pub blobs_skipped: usize,
    /// Blobs the destination linked from another of its repositories instead of being sent.
    pub blobs_mounted: usize,
    /// Blobs the destination had corrupt, written again (also counted in `blobs_written`).
    pub blobs_repaired: usize,
    /// The blobs this copy has written or found sound, so that a shared one is neither read
    /// back nor asked for again.
    done: HashSet<Digest>,
}

/// Copies an image with all its platforms, or only `platforms` when given.
///
/// Without a platform list the root is written byte for byte, so its digest is kept. With
/// one, a new index holds only the chosen entries and the attestations that describe them,
/// each entry kept as it was stored.
pub fn copy_image(
    source: &dyn ImageSource,
    mut destination: Box<dyn ImageDestination>,
    platforms: Option<&[Platform]>,
) -> Result<CopyReport> {
    let root = source.root()?;
    let image = root.parse(&format!("the root of {}", source.describe()))?;
    let mut report = CopyReport::default();
    let written_root = match (&image, platforms) {
        (_, None) => {
            copy_tree(source, destination.as_mut(), &root, &mut report)?;
            root
        }
        (Image::Manifest { manifest, .. }, Some(platforms)) => {
            let config = read_config(source, manifest.config())?;
            let platform = config_platform(&config);
            if let Some(missing) = platforms
                .iter()
                .find(|p| !PlatformMatcher::new(p).matches(&platform))
            {
                return Err(Error::PlatformMissing {
                    image: source.describe(),
                    platform: missing.to_string(),
                    available: vec![platform.to_string()],
                });
            }
            copy_tree(source, destination.as_mut(), &root, &mut report)?;
            root
        }
        (Image::Index { raw, entries, .. }, Some(platforms)) => {
            let mut keep = vec![false; entries.len()];
            let mut chosen_entries = Vec::new();
            for wanted in platforms {
                let Some((chosen, _)) = image.choose(&PlatformMatcher::new(wanted)) else {
                    return Err(Error::PlatformMissing {
                        image: source.describe(),
                        platform: wanted.to_string(),
                        available: image.runnable_platforms(),
                    });
                };
                keep[chosen] = true;
                chosen_entries.push(chosen);
            }
            let kept_digests: Vec<String> = entries
                .iter()
                .zip(&keep)
                .filter(|(_, keep)| **keep)
                .map(|(entry, _)| entry.digest.to_string())
                .collect();
            for (entry, keep) in entries.iter().zip(keep.iter_mut()) {
                if let IndexEntryKind::Attestation {
                    describes: Some(target),
                } = &entry.kind
                {
                    *keep = kept_digests.contains(target);
                }
            }
            if destination.holds_one_platform() && platforms.len() == 1 {
                let manifest = source.manifest(&entries[chosen_entries[0]].descriptor)?;
                copy_tree(source, destination.as_mut(), &manifest, &mut report)?;
                manifest
            } else {
                let new_root = filtered_index(raw, &keep)?;
                copy_tree(source, destination.as_mut(), &new_root, &mut report)?;
                new_root
            }
        }
    };
    report.digest = Some(written_root.digest.clone());
    destination.commit(&written_root)?;
    Ok(report)
}

/// The index `raw` with only the entries marked in `keep`, every other byte of each entry and
/// of the index kept in its stored order.
fn filtered_index(raw: &RawManifest, keep: &[bool]) -> Result<RawManifest> {
    let mut value: serde_json::Value = parse_json(&raw.bytes, "index")?;
    if let Some(manifests) = value.get_mut("manifests").and_then(|m| m.as_array_mut()) {
        let mut flags = keep.iter();
        manifests.retain(|_| *flags.next().unwrap_or(&false));
    }
    let bytes = serde_json::to_vec(&value).expect("a JSON value serialises");
    Ok(RawManifest::new(bytes, Some(&raw.media_type)))
}

/// One write of a copy.
enum Step {
    Blob(Box<Descriptor>),
    Manifest(RawManifest),
}

/// Copies a manifest or index and everything below it, children before parents.
///
/// The manifests are read first, and the destination asked which blobs it lacks; the source
/// is told those (see [`ImageSource::prefetch`]) before they are written one at a time, in
/// the order of a depth-first walk.
fn copy_tree(
    source: &dyn ImageSource,
    destination: &mut dyn ImageDestination,
    manifest: &RawManifest,
    report: &mut CopyReport,
) -> Result<()> {
    let mut steps = Vec::new();
    plan_tree(source, manifest.clone(), &mut steps)?;
    // The blobs to write, each once, and what the destination holds of them.
    let mut to_write: HashMap<Digest, BlobState> = HashMap::new();
    let mut wanted = Vec::new();
    for step in &steps {
        let Step::Blob(descriptor) = step else {
            continue;
        };
        let digest = Digest::try_from(descriptor.digest())?;
        if report.done.contains(&digest) || to_write.contains_key(&digest) {
            continue;
        }
        match destination.blob_state(descriptor)? {
            BlobState::Sound => {
                debug!(%digest, "blob already present, skipped");
                report.blobs_skipped += 1;
                report.done.insert(digest);
            }
            BlobState::Mounted => {
                report.blobs_mounted += 1;
                report.done.insert(digest);
            }
            state => {
                if state == BlobState::Corrupt {
                    debug!(%digest, "blob present but corrupt, written again");
                }
                to_write.insert(digest, state);
                wanted.push(descriptor.as_ref().clone());
            }
        }
    }
    source.prefetch(&wanted);
    for step in &steps {
        match step {
            Step::Blob(descriptor) => {
                let digest = Digest::try_from(descriptor.digest())?;
                if let Some(state) = to_write.remove(&digest) {
                    copy_blob(source, destination, descriptor, state, report)?;
                    report.done.insert(digest);
                }
            }
            Step::Manifest(manifest) => destination.put_manifest(manifest)?,
        }
    }
    Ok(())
}

/// The writes that copy a manifest or index and everything below it, children before
/// parents, reading the manifests below it from the source.
fn plan_tree(source: &dyn ImageSource, manifest: RawManifest, steps: &mut Vec<Step>) -> Result<()> {
    match manifest.parse(&format!("manifest `{}`", manifest.digest))? {
        Image::Index { entries, .. } => {
            for entry in entries {
                let child = source.manifest(&entry.descriptor)?;
                plan_tree(source, child, steps)?;
            }
        }
        Image::Manifest {
            manifest: parsed, ..
        } => {
            let blobs = std::iter::once(parsed.config()).chain(parsed.layers().iter());
            steps.extend(blobs.map(|blob| Step::Blob(Box::new(blob.clone()))));
        }
    }
    steps.push(Step::Manifest(manifest));
    Ok(())
}

/// Writes a blob the destination lacks (`Missing`) or holds corrupt.
fn copy_blob(
    source: &dyn ImageSource,
    destination: &mut dyn ImageDestination,
    descriptor: &Descriptor,
    state: BlobState,
    report: &mut CopyReport,
) -> Result<()> {
    let mut reader = source.blob(descriptor)?;
    destination.put_blob(descriptor, &mut reader)?;
    report.blobs_written += 1;
    if state == BlobState::Corrupt {
        report.blobs_repaired += 1;
    }
    Ok(())
}

/// Reads and parses an image configuration.
pub(crate) fn read_config(
    source: &dyn ImageSource,
    descriptor: &Descriptor,
) -> Result<ImageConfiguration> {
    let bytes = source.blob_bytes(descriptor)?;
    parse_json(&bytes, &format!("config `{}`", descriptor.digest()))
}

/// The platform a configuration declares.
pub(crate) fn config_platform(config: &ImageConfiguration) -> Platform {
    Platform {
        os: config.os().to_string(),
        architecture: config.architecture().to_string(),
        variant: config.variant().clone().filter(|v| !v.is_empty()),
        os_version: config.os_version().clone(),
    }
}

/// Joins single-platform images into one OCI index written to `destination`.
///
/// Each source's root must be a manifest; its platform is taken from its config. The entries
/// keep the order of `sources`.
pub fn join_manifests(
    sources: &[&dyn ImageSource],
    mut destination: Box<dyn ImageDestination>,
) -> Result<RawManifest> {
    let mut report = CopyReport::default();
    let mut descriptors = Vec::new();
    for source in sources {
        let root = source.root()?;
        let Image::Manifest { manifest, .. } = root.parse(&source.describe())? else {
            return Err(Error::UnsupportedMediaType {
                media_type: root.media_type.clone(),
                what: format!(
                    "{} (only single-platform images can be joined)",
                    source.describe()
                ),
            });
        };
        let config = read_config(*source, manifest.config())?;
        let platform = config_platform(&config);
        copy_tree(*source, destination.as_mut(), &root, &mut report)?;
        let mut descriptor = root.descriptor();
        let mut spec_platform = oci_spec::image::PlatformBuilder::default()
            .os(platform.os.as_str())
            .architecture(platform.architecture.as_str())
            .build()
            .expect("os and architecture are set");
        spec_platform.set_variant(platform.variant.clone());
        descriptor.set_platform(Some(spec_platform));
        descriptors.push(descriptor);
    }
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_types::OCI_INDEX,
        "manifests": descriptors,
    });
    let root = RawManifest::new(canonical_json(&index), None);
    destination.commit(&root)?;
    Ok(root)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::io::Read;
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::transport::{LayoutDestination, LayoutSource};

    /// A source that says which blobs it was told of and asked for.
    struct Recording {
        inner: LayoutSource,
        prefetched: RefCell<Vec<Vec<String>>>,
        read: RefCell<Vec<String>>,
    }

    impl ImageSource for Recording {
        fn describe(&self) -> String {
            self.inner.describe()
        }
        fn root(&self) -> Result<RawManifest> {
            self.inner.root()
        }
        fn manifest(&self, descriptor: &Descriptor) -> Result<RawManifest> {
            self.inner.manifest(descriptor)
        }
        fn blob(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + Send + '_>> {
            self.read.borrow_mut().push(descriptor.digest().to_string());
            self.inner.blob(descriptor)
        }
        fn prefetch(&self, descriptors: &[Descriptor]) {
            let digests = descriptors.iter().map(|d| d.digest().to_string());
            self.prefetched.borrow_mut().push(digests.collect());
        }
    }

    fn example() -> Recording {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/hello-layout");
        Recording {
            inner: LayoutSource::open(&path, Some("latest")).unwrap(),
            prefetched: RefCell::default(),
            read: RefCell::default(),
        }
    }

    fn copy_to(layout: &Path) -> (Recording, CopyReport) {
        let source = example();
        let destination = LayoutDestination::create(layout, Some("copy".into())).unwrap();
        let report = copy_image(&source, Box::new(destination), None).unwrap();
        (source, report)
    }

    fn blob_path(layout: &Path, digest: &str) -> PathBuf {
        layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
    }

    #[test]
    fn the_source_is_told_of_the_missing_blobs_in_the_order_they_are_read() {
        let scratch = tempfile::tempdir().unwrap();
        let layout = scratch.path().join("copy");

        let (source, report) = copy_to(&layout);
        let prefetched = source.prefetched.into_inner();
        let read = source.read.into_inner();
        // One call for the whole tree: both platforms' configs and layers, the layer they
        // share once.
        assert_eq!(prefetched.len(), 1);
        assert_eq!(prefetched[0], read);
        assert_eq!(read.len(), 5);
        assert_eq!((report.blobs_written, report.blobs_skipped), (5, 0));

        // Nothing missing: nothing to fetch or read.
        let (source, report) = copy_to(&layout);
        assert_eq!(source.prefetched.into_inner(), vec![Vec::<String>::new()]);
        assert!(source.read.into_inner().is_empty());
        assert_eq!((report.blobs_written, report.blobs_skipped), (0, 5));

        // One blob gone and one corrupt: those two only, in the walk's order.
        std::fs::remove_file(blob_path(&layout, &read[4])).unwrap();
        std::fs::write(blob_path(&layout, &read[1]), b"not the layer").unwrap();
        let (source, report) = copy_to(&layout);
        let expected = vec![read[1].clone(), read[4].clone()];
        assert_eq!(source.prefetched.into_inner(), vec![expected.clone()]);
        assert_eq!(source.read.into_inner(), expected);
        assert_eq!(report.blobs_written, 2);
        assert_eq!(report.blobs_repaired, 1);
        assert_eq!(report.blobs_skipped, 3);
    }
}
