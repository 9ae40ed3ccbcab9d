//! The whole build: read the Dockerfile and contexts once, build the target stage for every
//! platform in parallel, make each distinct layer once and compress them on every core.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use extkit_oci::{Compression, ImageWriter, LayerBlob, Platform, PlatformImage, rfc3339};
use tracing::debug;

use crate::context::read_context;
use crate::dockerfile;
use crate::download::{Downloads, UrlFetcher};
use crate::error::BuildError;
use crate::image::ImageOpener;
use crate::stage::{Evaluator, PendingLayer, Shared};
use crate::tree::Tree;

/// Where the Dockerfile comes from.
#[derive(Clone, Debug)]
pub enum DockerfileInput {
    /// A file, named by its file name in messages.
    File(PathBuf),
    /// Text read already (`-f -` reads it from standard input), named `Dockerfile` in messages.
    Text(String),
}

/// What to build and how.
pub struct BuildOptions<'a> {
    /// The build context folder.
    pub context: PathBuf,
    /// The Dockerfile.
    pub dockerfile: DockerfileInput,
    /// The platforms to build, in the order the index lists them.
    pub platforms: Vec<Platform>,
    /// `--build-arg`s.
    pub build_args: BTreeMap<String, String>,
    /// `--build-context NAME=DIR`: folders standing for stages or images.
    pub named_contexts: BTreeMap<String, PathBuf>,
    /// `--label`s added to the image.
    pub labels: BTreeMap<String, String>,
    /// The stage to build; the last one when `None`.
    pub target: Option<String>,
    /// Layer compression.
    pub compression: Compression,
    /// Seconds since 1970 for every time in the image (`SOURCE_DATE_EPOCH`).
    pub source_date_epoch: u64,
    /// Opens base images and `COPY --from` images by name.
    pub open_image: &'a ImageOpener<'a>,
    /// Fetches the URLs `ADD` names.
    pub fetch_url: &'a UrlFetcher<'a>,
    /// Told what the build leaves out that the user may not expect, one sentence each.
    pub warn: &'a (dyn Fn(String) + Sync),
}

/// A layer of a platform's image before compression.
enum PlannedLayer {
    Stored(Arc<LayerBlob>),
    Built(Arc<Tree>),
}

/// One platform's built image, layers not yet compressed.
struct PlannedImage {
    platform: Platform,
    config: serde_json::Value,
    layers: Vec<PlannedLayer>,
}

/// Builds the image for every platform; the writer holds it, ready to write anywhere.
pub fn build(options: &BuildOptions<'_>) -> Result<ImageWriter, BuildError> {
    let created = rfc3339(options.source_date_epoch).ok_or(BuildError::SourceDateEpochTooLate {
        seconds: options.source_date_epoch,
    })?;
    let (text, name) = match &options.dockerfile {
        DockerfileInput::File(path) => (
            dockerfile::read(path)?,
            path.file_name().map_or_else(
                || "Dockerfile".to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
        ),
        DockerfileInput::Text(text) => (text.clone(), "Dockerfile".to_string()),
    };
    let dockerfile = dockerfile::parse(&text, &name)?;
    let target = match &options.target {
        None => dockerfile.stages.len() - 1,
        Some(wanted) => dockerfile
            .stages
            .iter()
            .position(|stage| stage.name.as_deref() == Some(wanted.to_lowercase().as_str()))
            .ok_or_else(|| BuildError::UnknownTarget {
                target: wanted.clone(),
                // Only names: `--target` takes no stage numbers, as in BuildKit.
                available: dockerfile
                    .stages
                    .iter()
                    .filter_map(|stage| stage.name.as_ref())
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            })?,
    };

    let context = Arc::new(read_context(&options.context)?);
    let mut named = BTreeMap::new();
    for (name, folder) in &options.named_contexts {
        named.insert(name.clone(), Arc::new(read_context(folder)?));
    }
    let downloads = Downloads::new(options.fetch_url);
    let shared = Shared {
        dockerfile: &dockerfile,
        context: &context,
        named: &named,
        build_args: &options.build_args,
        open_image: options.open_image,
        downloads: &downloads,
        build_platform: host_platform(),
    };

    let planned: Vec<Result<PlannedImage, BuildError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = options
            .platforms
            .iter()
            .map(|platform| {
                let shared = &shared;
                scope.spawn(move || plan_platform(shared, platform, target, options))
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a platform's build does not panic"))
            .collect()
    });
    let target_label = dockerfile.stages[target].label();
    let planned: Vec<PlannedImage> =
        planned
            .into_iter()
            .collect::<Result<_, _>>()
            .map_err(|error| match error {
                BuildError::NeedsEngine {
                    file,
                    line,
                    instruction,
                    stage,
                    ..
                } => BuildError::NeedsEngine {
                    in_target: stage == target_label,
                    file,
                    line,
                    instruction,
                    stage,
                },
                other => other,
            })?;

    // Said once the build is known to go through: a failed one has its error to tell.
    let folders = std::iter::once((&options.context, &context))
        .chain(options.named_contexts.values().zip(named.values()));
    for (folder, tree) in folders {
        for (path, kind) in tree.specials() {
            (options.warn)(format!(
                "`{}` is {kind}, which a layer cannot hold: COPY leaves it out (list it in \
                 `.dockerignore` to say so)",
                folder.join(path).display()
            ));
        }
    }

    // Each distinct layer is made and compressed once, whichever platforms share it (the UI,
    // usually).
    let mut distinct: Vec<Arc<Tree>> = Vec::new();
    for image in &planned {
        for layer in &image.layers {
            if let PlannedLayer::Built(tree) = layer
                && !distinct.iter().any(|known| **known == **tree)
            {
                distinct.push(tree.clone());
            }
        }
    }
    let made =
        crate::compress::make_layers(&distinct, options.source_date_epoch, options.compression)?;
    debug!(
        layers = made.len(),
        "made and compressed the distinct layers"
    );

    let mut writer = ImageWriter::new();
    for image in planned {
        let layers = image
            .layers
            .into_iter()
            .map(|layer| match layer {
                PlannedLayer::Stored(blob) => (*blob).clone(),
                PlannedLayer::Built(tree) => {
                    let index = distinct
                        .iter()
                        .position(|known| **known == *tree)
                        .expect("every built layer was made");
                    made[index].clone()
                }
            })
            .collect();
        writer.add(PlatformImage {
            platform: image.platform,
            config: image.config,
            created: Some(created.clone()),
            layers,
        });
    }
    Ok(writer)
}

fn plan_platform(
    shared: &Shared<'_>,
    platform: &Platform,
    target: usize,
    options: &BuildOptions<'_>,
) -> Result<PlannedImage, BuildError> {
    let mut evaluator = Evaluator::new(shared, platform.clone())?;
    let result = evaluator.stage(target)?;
    let mut config = result.config.clone();
    for (key, value) in &options.labels {
        config.set_label(key, value);
    }
    let mut layers = Vec::new();
    for layer in &result.layers {
        layers.push(match layer {
            PendingLayer::Stored(blob) => PlannedLayer::Stored(blob.clone()),
            PendingLayer::Built(tree) => PlannedLayer::Built(tree.clone()),
        });
    }
    Ok(PlannedImage {
        platform: platform.clone(),
        config: config.to_value(),
        layers,
    })
}

/// The platform this machine is, for `BUILDPLATFORM`.
pub fn host_platform() -> Platform {
    let architecture = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        other => other,
    };
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    Platform::new(os, architecture, None).normalize()
}

/// Splits `KEY=VALUE` as `--build-arg`, `--label` and `--build-context` take it; `option`
/// names the option in errors. A `--build-arg KEY` alone takes its value from the
/// environment, as Docker does.
pub fn parse_assignment(option: &str, text: &str) -> Result<(String, Option<String>), BuildError> {
    match text.split_once('=') {
        Some(("", _)) => Err(BuildError::InvalidOption {
            option: option.to_string(),
            value: text.to_string(),
            reason: "the name before `=` is empty".into(),
        }),
        Some((key, value)) => Ok((key.to_string(), Some(value.to_string()))),
        None => Ok((text.to_string(), None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments() {
        assert_eq!(
            parse_assignment("--label", "a=b=c").unwrap(),
            ("a".to_string(), Some("b=c".to_string()))
        );
        assert_eq!(
            parse_assignment("--build-arg", "A").unwrap(),
            ("A".to_string(), None)
        );
        assert_eq!(
            parse_assignment("--label", "=x").unwrap_err().to_string(),
            "invalid --label `=x`: the name before `=` is empty"
        );
    }
}
