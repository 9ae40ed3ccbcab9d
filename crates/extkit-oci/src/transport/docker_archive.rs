//! `docker-archive:`: the `docker save` format.
//!
//! An archive holds a `manifest.json` listing images, each with a config file, its tags and its
//! layer files. Docker 25 and later also put an OCI layout in the same tar; when the chosen
//! image is in it, its real manifest is used, so digests are kept. Otherwise a Docker schema 2
//! manifest is made up from the files, as skopeo does.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use oci_spec::image::Descriptor;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::archive::{existing_archive, pack_folder, staging_folder, unpack_layout};
use super::files::{Files, TarFiles};
use super::layout::{IMAGE_NAME, LayoutDestination, LayoutSource, blob_path, write_atomic};
use super::{ImageDestination, ImageSource};
use crate::image::parse_json;
use crate::{
    Digest, Error, Image, ImageReference, RawManifest, Result, VerifyingReader, media_types,
};

/// One image in `manifest.json`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
struct SavedImage {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// An image read from a docker-archive.
pub struct DockerArchiveSource {
    name: String,
    inner: Inner,
}

enum Inner {
    /// The archive's OCI layout holds the image: read it from there.
    Layout(LayoutSource),
    /// Only `manifest.json` describes the image: a manifest made up from its files.
    Saved {
        files: TarFiles,
        root: RawManifest,
        /// Blob digest → member path.
        members: HashMap<Digest, String>,
    },
}

impl DockerArchiveSource {
    /// Opens the image named `reference` (or the only image) in the archive at `path`.
    pub fn open(path: &Path, reference: Option<&ImageReference>) -> Result<Self> {
        let name = match reference {
            Some(reference) => {
                format!("docker-archive:{}:{}", path.display(), reference.familiar())
            }
            None => format!("docker-archive:{}", path.display()),
        };
        let files = TarFiles::scan(path)?;
        let Some(bytes) = files.read_small("manifest.json")? else {
            return Err(Error::MalformedArchive {
                path: path.to_path_buf(),
                reason: "it has no `manifest.json`, so it is not a docker-archive \
                         (try `oci-archive:`)"
                    .into(),
            });
        };
        let saved: Vec<SavedImage> = parse_json(
            &bytes,
            &format!("`{}` in `{}`", "manifest.json", path.display()),
        )?;
        let image = choose(&saved, reference, &files)?;
        let config_digest = member_digest(&files, &image.config)?;

        // Docker 25 and later: the same image as an OCI layout, with its real manifest.
        if files.contains("index.json") && files.contains("oci-layout") {
            let layout = TarFiles::scan(path)?;
            if let Some(source) = layout_image(layout, &name, &config_digest)? {
                return Ok(DockerArchiveSource {
                    name,
                    inner: Inner::Layout(source),
                });
            }
        }

        let (root, members) = made_up_manifest(&files, image, config_digest)?;
        Ok(DockerArchiveSource {
            name,
            inner: Inner::Saved {
                files,
                root,
                members,
            },
        })
    }
}

/// Picks the image named `reference`, or the only one.
fn choose<'a>(
    saved: &'a [SavedImage],
    reference: Option<&ImageReference>,
    files: &TarFiles,
) -> Result<&'a SavedImage> {
    let tags = |image: &SavedImage| image.repo_tags.clone().unwrap_or_default();
    let available = || saved.iter().flat_map(tags).collect::<Vec<_>>();
    let matching: Vec<&SavedImage> = match reference {
        Some(reference) => saved
            .iter()
            .filter(|image| {
                tags(image).iter().any(|tag| {
                    tag.parse::<ImageReference>()
                        .is_ok_and(|tag| tag == *reference)
                })
            })
            .collect(),
        None => saved.iter().collect(),
    };
    match matching.as_slice() {
        [one] => Ok(one),
        [] => Err(Error::ImageNotFound {
            name: reference.map(|r| r.familiar()).unwrap_or_default(),
            location: files.describe(),
            available: available(),
        }),
        many => Err(Error::AmbiguousImage {
            location: files.describe(),
            count: many.len(),
            available: available(),
        }),
    }
}

/// The image of the archive's OCI layout whose manifest uses `config_digest`, if any.
fn layout_image(
    files: TarFiles,
    name: &str,
    config_digest: &Digest,
) -> Result<Option<LayoutSource>> {
    let index = super::layout::read_layout_index(&files)?;
    for entry in index.manifests() {
        let Ok(digest) = Digest::try_from(entry.digest()) else {
            continue;
        };
        let Some(bytes) = files.read_small(&blob_path(&digest))? else {
            continue;
        };
        let raw = RawManifest::new(bytes, Some(entry.media_type().as_ref()));
        if raw.digest != digest {
            continue;
        }
        if let Ok(Image::Manifest { manifest, .. }) = raw.parse("manifest")
            && manifest.config().digest().as_ref() == config_digest.as_str()
        {
            // This entry, not every entry of its digest: two names may share one image.
            let wanted = entry.clone();
            let source =
                LayoutSource::from_files(Box::new(files), name.to_string(), |d| *d == wanted)?;
            return Ok(Some(source));
        }
    }
    Ok(None)
}

/// The SHA-256 digest of an archive member, read once.
fn member_digest(files: &TarFiles, member: &str) -> Result<Digest> {
    Ok(hash_member(files, member)?.0)
}

fn hash_member(files: &TarFiles, member: &str) -> Result<(Digest, u64, [u8; 4])> {
    let Some((mut reader, size)) = files.open(member)? else {
        return Err(Error::MalformedArchive {
            path: files.root().to_path_buf(),
            reason: format!("`manifest.json` names `{member}`, which is not in the archive"),
        });
    };
    let mut hasher = Sha256::new();
    let mut magic = [0u8; 4];
    let mut buffer = vec![0u8; 64 * 1024];
    let mut read = 0u64;
    loop {
        let count = reader.read(&mut buffer)?;
        if count == 0 {
            break;
        }
        if read < 4 {
            let start = read as usize;
            let take = (4 - start).min(count);
            magic[start..start + take].copy_from_slice(&buffer[..take]);
        }
        read += count as u64;
        hasher.update(&buffer[..count]);
    }
    debug_assert_eq!(read, size);
    let digest = format!("sha256:{}", hex::encode(hasher.finalize())).parse()?;
    Ok((digest, size, magic))
}

/// A Docker schema 2 manifest made up from the archive's files, with the keys in the order
/// Go's encoder writes them (as skopeo makes it).
fn made_up_manifest(
    files: &TarFiles,
    image: &SavedImage,
    config_digest: Digest,
) -> Result<(RawManifest, HashMap<Digest, String>)> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Manifest {
        schema_version: u32,
        media_type: &'static str,
        config: Layer,
        layers: Vec<Layer>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Layer {
        media_type: &'static str,
        size: u64,
        digest: String,
    }

    let mut members = HashMap::new();
    let config_size = files
        .open(&image.config)?
        .map(|(_, size)| size)
        .unwrap_or_default();
    members.insert(config_digest.clone(), image.config.clone());
    let mut layers = Vec::new();
    for member in &image.layers {
        let (digest, size, magic) = hash_member(files, member)?;
        // skopeo declares every saved layer as gzip, compressed or not, and so does extkit, so
        // that both make up the same manifest and report the same digest. extkit-layer's
        // reader tells the compression from the bytes, so a plain tar declared gzip reads fine.
        let media_type = match magic {
            [0x28, 0xb5, 0x2f, 0xfd] => media_types::OCI_LAYER_ZSTD,
            _ => media_types::DOCKER_LAYER_GZIP,
        };
        members.insert(digest.clone(), member.clone());
        layers.push(Layer {
            media_type,
            size,
            digest: digest.to_string(),
        });
    }
    let manifest = Manifest {
        schema_version: 2,
        media_type: media_types::DOCKER_MANIFEST,
        config: Layer {
            media_type: media_types::DOCKER_CONFIG,
            size: config_size,
            digest: config_digest.to_string(),
        },
        layers,
    };
    let bytes = serde_json::to_vec(&manifest).expect("a manifest serialises");
    Ok((RawManifest::new(bytes, None), members))
}

impl ImageSource for DockerArchiveSource {
    fn describe(&self) -> String {
        self.name.clone()
    }

    fn root(&self) -> Result<RawManifest> {
        match &self.inner {
            Inner::Layout(source) => source.root(),
            Inner::Saved { root, .. } => Ok(root.clone()),
        }
    }

    fn manifest(&self, descriptor: &Descriptor) -> Result<RawManifest> {
        match &self.inner {
            Inner::Layout(source) => source.manifest(descriptor),
            Inner::Saved { root, files, .. } => {
                if descriptor.digest().as_ref() == root.digest.as_str() {
                    return Ok(root.clone());
                }
                Err(Error::BlobMissing {
                    digest: descriptor.digest().to_string(),
                    location: files.describe(),
                })
            }
        }
    }

    fn blob(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + Send + '_>> {
        match &self.inner {
            Inner::Layout(source) => source.blob(descriptor),
            Inner::Saved { files, members, .. } => {
                let digest = Digest::try_from(descriptor.digest())?;
                let missing = || Error::BlobMissing {
                    digest: digest.to_string(),
                    location: files.describe(),
                };
                let member = members.get(&digest).ok_or_else(missing)?;
                let (reader, _) = files.open(member)?.ok_or_else(missing)?;
                let what = format!("`{member}` in {}", files.describe());
                Ok(Box::new(VerifyingReader::new(
                    reader,
                    digest,
                    descriptor.size(),
                    what,
                )))
            }
        }
    }
}

/// The `manifest.json` of an archive that held `kept` and now gets `ours`: an entry for the
/// same image gives its names to ours and goes; the others lose the names ours takes (and
/// keep every other field as they were); ours comes last.
fn merge_saved(kept: Vec<serde_json::Value>, ours: &mut SavedImage) -> Vec<serde_json::Value> {
    let mut tags = ours.repo_tags.take().unwrap_or_default();
    let mut others = Vec::new();
    for mut entry in kept {
        let old_tags: Vec<String> = entry["RepoTags"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let same = entry["Config"] == serde_json::json!(ours.config)
            && entry["Layers"] == serde_json::json!(ours.layers);
        if same {
            for tag in old_tags {
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
            continue;
        }
        others.push((entry.take(), old_tags));
    }
    let mut saved: Vec<serde_json::Value> = others
        .into_iter()
        .map(|(mut entry, old_tags)| {
            let remaining: Vec<String> = old_tags
                .into_iter()
                .filter(|tag| !tags.contains(tag))
                .collect();
            entry["RepoTags"] = match remaining.is_empty() {
                true => serde_json::Value::Null,
                false => serde_json::json!(remaining),
            };
            entry
        })
        .collect();
    ours.repo_tags = (!tags.is_empty()).then_some(tags);
    saved.push(serde_json::to_value(&*ours).expect("an image entry serialises"));
    saved
}

/// Writes one single-platform image as a docker-archive, in the layout-plus-`manifest.json`
/// form Docker 25 and later write, which `docker load`, skopeo and extkit read.
pub struct DockerArchiveDestination {
    target: PathBuf,
    reference: Option<ImageReference>,
    staging: tempfile::TempDir,
    layout: LayoutDestination,
    /// The `manifest.json` entries of the archive this write replaces, kept as they were.
    kept: Vec<serde_json::Value>,
}

impl DockerArchiveDestination {
    /// Prepares to write the archive at `path`, naming the image `reference`.
    ///
    /// An archive there already keeps its other images: it is unpacked first, and the new
    /// image takes its name from any other that had it. A file that is not a docker archive
    /// is refused.
    pub fn create(path: &Path, reference: Option<ImageReference>) -> Result<Self> {
        let existing = existing_archive(path, "a docker archive", &["manifest.json"])?;
        let staging = staging_folder(path)?;
        let mut kept = Vec::new();
        if let Some(files) = existing {
            unpack_layout(&files, staging.path())?;
            let bytes = fs_err::read(staging.path().join("manifest.json"))?;
            kept =
                serde_json::from_slice(&bytes).map_err(|error| Error::NotAnArchiveToReplace {
                    path: path.to_path_buf(),
                    kind: "a docker archive",
                    reason: format!("its manifest.json is not a list of images: {error}"),
                })?;
        }
        let tag = reference.as_ref().and_then(|r| r.tag()).map(str::to_string);
        // The staging folder is ours: an archive of an older `docker save`, with no layout in
        // it, gets one beside its own files.
        let mut layout = LayoutDestination::owned(staging.path(), tag);
        if let Some(reference) = &reference {
            layout.annotate(IMAGE_NAME, &reference.to_string());
        }
        Ok(DockerArchiveDestination {
            target: path.to_path_buf(),
            reference,
            staging,
            layout,
            kept,
        })
    }
}

impl ImageDestination for DockerArchiveDestination {
    fn describe(&self) -> String {
        let mut text = format!("docker-archive:{}", self.target.display());
        if let Some(reference) = &self.reference {
            text.push(':');
            text.push_str(&reference.familiar());
        }
        text
    }

    fn has_blob(&mut self, digest: &Digest) -> Result<bool> {
        self.layout.has_blob(digest)
    }

    fn put_blob(&mut self, descriptor: &Descriptor, content: &mut dyn Read) -> Result<()> {
        self.layout.put_blob(descriptor, content)
    }

    fn put_manifest(&mut self, manifest: &RawManifest) -> Result<()> {
        self.layout.put_manifest(manifest)
    }

    fn holds_one_platform(&self) -> bool {
        true
    }

    fn commit(self: Box<Self>, root: &RawManifest) -> Result<()> {
        let manifest = match root.parse("the image to write")? {
            Image::Manifest { manifest, .. } => manifest,
            Image::Index { raw, .. } => {
                return Err(Error::DockerArchiveNeedsPlatform {
                    digest: raw.digest.to_string(),
                });
            }
        };
        let DockerArchiveDestination {
            target,
            reference,
            staging,
            layout,
            kept,
        } = *self;
        let path_of = |digest: &oci_spec::image::Digest| -> Result<String> {
            Ok(blob_path(&Digest::try_from(digest)?))
        };
        let mut ours = SavedImage {
            config: path_of(manifest.config().digest())?,
            repo_tags: Some(reference.iter().map(|r| r.familiar()).collect()),
            layers: manifest
                .layers()
                .iter()
                .map(|layer| path_of(layer.digest()))
                .collect::<Result<_>>()?,
        };
        let saved = merge_saved(kept, &mut ours);
        let bytes = serde_json::to_vec(&saved).expect("manifest.json serialises");
        Box::new(layout).commit(root)?;
        write_atomic(&staging.path().join("manifest.json"), &bytes)?;
        pack_folder(staging.path(), &target)
    }
}
