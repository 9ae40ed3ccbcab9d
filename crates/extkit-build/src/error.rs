//! Everything that can stop a build.

use std::io;
use std::path::PathBuf;

/// What can go wrong while building. Messages name the Dockerfile and line where one applies.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The Dockerfile could not be read.
    #[error("cannot read the Dockerfile `{path}`")]
    ReadDockerfile {
        /// The Dockerfile's path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// The Dockerfile is a FIFO, a device, a socket or a folder: it is refused before it is
    /// opened, since opening a FIFO waits for a writer.
    #[error("the Dockerfile `{}` is not a regular file", path.display())]
    DockerfileNotAFile {
        /// The Dockerfile's path.
        path: PathBuf,
        /// What it is instead, such as `a FIFO`.
        kind: &'static str,
    },

    /// `SOURCE_DATE_EPOCH` is past the year 9999, which an image config's `created` cannot
    /// hold.
    #[error("`SOURCE_DATE_EPOCH` {seconds} is past the year 9999")]
    SourceDateEpochTooLate {
        /// The seconds since 1970 asked for.
        seconds: u64,
    },

    /// The context's `.dockerignore` is a FIFO, a device, a socket or a folder.
    #[error("`{}` is not a regular file", path.display())]
    IgnoreFileNotAFile {
        /// The `.dockerignore`'s path.
        path: PathBuf,
        /// What it is instead, such as `a FIFO`.
        kind: &'static str,
    },

    /// The Dockerfile is not valid syntax.
    #[error("{file}:{line}: {message}")]
    Syntax {
        /// The Dockerfile's name for messages.
        file: String,
        /// The line, from 1.
        line: usize,
        /// What is wrong.
        message: String,
    },

    /// An `ONBUILD` trigger of the stage's base failed.
    #[error("{file}:{line}: the ONBUILD trigger `{trigger}` of `{base}` failed")]
    Trigger {
        /// The Dockerfile's name for messages.
        file: String,
        /// The line of the `FROM` that brings the trigger.
        line: usize,
        /// The trigger, as stored.
        trigger: String,
        /// The base it comes from.
        base: String,
        /// Why it failed.
        #[source]
        source: Box<BuildError>,
    },

    /// A URL `ADD` names could not be downloaded.
    #[error("{file}:{line}: cannot download `{url}`: {reason}")]
    Download {
        /// The Dockerfile's name for messages.
        file: String,
        /// The line, from 1.
        line: usize,
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },

    /// An instruction is well formed but cannot be carried out as written.
    #[error("{file}:{line}: {message}")]
    Invalid {
        /// The Dockerfile's name for messages.
        file: String,
        /// The line, from 1.
        line: usize,
        /// What is wrong.
        message: String,
    },

    /// An instruction needs a container engine to run it (`RUN`, or an `ONBUILD` trigger of a
    /// base image).
    #[error(
        "{file}:{line}: {instruction} needs a container engine, which `extkit build` does not use"
    )]
    NeedsEngine {
        /// The Dockerfile's name for messages.
        file: String,
        /// The line, from 1.
        line: usize,
        /// The instruction, such as `RUN`.
        instruction: String,
        /// The stage the instruction is in, by name or number.
        stage: String,
        /// Whether that stage is the target itself, so no `--build-context` can stand for it.
        in_target: bool,
    },

    /// Expanding a variable made a value longer than the limit: variables that repeat one
    /// another grow exponentially.
    #[error("{file}:{line}: expanding `${variable}` makes a value longer than {limit}")]
    ValueTooLong {
        /// The Dockerfile's name for messages.
        file: String,
        /// The line, from 1.
        line: usize,
        /// The variable whose value did not fit.
        variable: String,
        /// The limit, such as `1 MiB`.
        limit: String,
    },

    /// The stage's arguments, environment and labels together are larger than the limit.
    #[error(
        "{file}:{line}: the arguments, environment and labels of the stage take more than {limit}"
    )]
    VariablesTooLarge {
        /// The Dockerfile's name for messages.
        file: String,
        /// The line, from 1.
        line: usize,
        /// The limit, such as `16 MiB`.
        limit: String,
    },

    /// Stages copy from each other in a loop (`COPY --from` or `FROM`).
    #[error("{file}:{line}: {message}")]
    CircularStages {
        /// The Dockerfile's name for messages.
        file: String,
        /// The line that closes the loop, from 1.
        line: usize,
        /// Which stages, such as ``stages `a` and `b` copy from each other``.
        message: String,
    },

    /// Something extkit does not do yet.
    #[error("{file}:{line}: {what} is not supported yet")]
    Unsupported {
        /// The Dockerfile's name for messages.
        file: String,
        /// The line, from 1.
        line: usize,
        /// What is not supported.
        what: String,
    },

    /// The stage asked for with `--target` is not in the Dockerfile.
    #[error(
        "the target stage `{target}` is not in the Dockerfile ({})",
        if available.is_empty() { "it names no stage".to_string() } else { format!("stages: {available}") }
    )]
    UnknownTarget {
        /// The stage asked for.
        target: String,
        /// The named stages there are, comma-separated.
        available: String,
    },

    /// A `COPY` or `ADD` source matched nothing.
    #[error("{file}:{line}: `{source_path}` is not in {origin}")]
    SourceMissing {
        /// The Dockerfile's name for messages.
        file: String,
        /// The line, from 1.
        line: usize,
        /// The source as written, expanded.
        source_path: String,
        /// Where it was looked for: `the build context`, `stage `build``…
        origin: String,
    },

    /// A path of `COPY`, `ADD` or `WORKDIR` holds a NUL byte (written `\u0000` in the JSON
    /// form), which no file name can.
    #[error("{file}:{line}: the path `{path}` contains a NUL byte")]
    NulInPath {
        /// The Dockerfile's name for messages.
        file: String,
        /// The line, from 1.
        line: usize,
        /// The path, expanded, its NUL bytes shown as `\0`.
        path: String,
    },

    /// A `COPY` or `ADD` source is a FIFO, a socket or a device, which contexts leave out.
    #[error("{file}:{line}: `{source_path}` is not a regular file or folder ({kind})")]
    SourceNotFileOrFolder {
        /// The Dockerfile's name for messages.
        file: String,
        /// The line, from 1.
        line: usize,
        /// The source as written, expanded.
        source_path: String,
        /// What it is, such as `a FIFO`.
        kind: &'static str,
    },

    /// A `COPY` or `ADD` source is, or goes through, a symbolic link that points to nothing
    /// there: links are followed inside the context, stage or image only, as in BuildKit.
    #[error(
        "{file}:{line}: {} a symbolic link to `{}`, {}",
        link_subject(source_path, link.through.as_deref()),
        link.target,
        link_place(&link.origin, link.outside_context)
    )]
    SourceLinkBroken {
        /// The Dockerfile's name for messages.
        file: String,
        /// The line, from 1.
        line: usize,
        /// The source as written, expanded.
        source_path: String,
        /// The link and where it points.
        link: Box<BrokenLink>,
    },

    /// An option given on the command line is malformed.
    #[error("invalid {option} `{value}`: {reason}")]
    InvalidOption {
        /// The option, such as `--build-arg`.
        option: String,
        /// The value given.
        value: String,
        /// Why it is invalid.
        reason: String,
    },

    /// A base image or `COPY --from` image could not be read.
    #[error("{file}:{line}: cannot read the image `{image}`")]
    Image {
        /// The Dockerfile's name for messages.
        file: String,
        /// The line, from 1.
        line: usize,
        /// The image as named.
        image: String,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A file of the context or of a named context could not be read.
    #[error("cannot read `{path}` in the build context")]
    Context {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// A name in a context is not UTF-8, which layer entries are named in.
    #[error("the name of `{path}` in the build context is not UTF-8")]
    NameNotUtf8 {
        /// The path in the context, invalid bytes shown as `\u{FFFD}`.
        path: String,
    },

    /// A symbolic link in a context points to a path that is not UTF-8.
    #[error(
        "the symbolic link `{path}` in the build context points to `{target}`, which is not UTF-8"
    )]
    LinkTargetNotUtf8 {
        /// The link's path in the context.
        path: String,
        /// Its target, invalid bytes shown as `\u{FFFD}`.
        target: String,
    },

    /// A name in a layer of an image or stage, or in an archive `ADD` extracts, is not UTF-8,
    /// which layer entries are named in here.
    #[error("{file}:{line}: the name of `{path}` in {origin} is not UTF-8")]
    LayerNameNotUtf8 {
        /// The Dockerfile's name for messages.
        file: String,
        /// The line, from 1.
        line: usize,
        /// The entry's path, invalid bytes shown as `\u{FFFD}`.
        path: String,
        /// Where: `the image `alpine``, `stage `build``, `the archive `a.tar``.
        origin: String,
    },

    /// A link in a layer of an image or stage, or in an archive `ADD` extracts, points to a
    /// path that is not UTF-8.
    #[error(
        "{file}:{line}: the link `{path}` in {origin} points to `{target}`, which is not UTF-8"
    )]
    LayerLinkNotUtf8 {
        /// The Dockerfile's name for messages.
        file: String,
        /// The line, from 1.
        line: usize,
        /// The link's path.
        path: String,
        /// Its target, invalid bytes shown as `\u{FFFD}`.
        target: String,
        /// Where: `the image `alpine``, `stage `build``, `the archive `a.tar``.
        origin: String,
    },

    /// A layer could not be made.
    #[error(transparent)]
    Layer(#[from] extkit_layer::LayerError),

    /// The image could not be written.
    #[error(transparent)]
    Write(#[from] extkit_oci::Error),
}

impl BuildError {
    /// What the user can do about the error, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            BuildError::Trigger { source, .. } => source.hint(),
            BuildError::NeedsEngine {
                stage,
                in_target: true,
                ..
            } => Some(format!(
                "the target stage `{stage}` runs it itself: move the RUN into a stage of its own, \
                 pass that stage's output with `--build-context NAME=DIR` and `COPY --from=NAME`, \
                 or build the whole Dockerfile with `docker buildx build` or `buildah build`"
            )),
            BuildError::NeedsEngine { stage, .. } => Some(format!(
                "build stage `{stage}` with a container engine and pass its output with \
                 `--build-context {stage}=DIR`, or build the whole Dockerfile with \
                 `docker buildx build` or `buildah build`"
            )),
            BuildError::Download { .. } => Some(
                "check the URL and the network; `--ca-cert FILE` adds a certificate authority \
                 for downloads too, and `--insecure` skips their certificate checks"
                    .into(),
            ),
            BuildError::SourceDateEpochTooLate { .. } => Some(
                "set it to seconds since 1970, such as `$(git log -1 --format=%ct)`, or unset it"
                    .into(),
            ),
            BuildError::DockerfileNotAFile { kind, .. } => Some(format!(
                "it is {kind}; write the Dockerfile to a file and name it with `-f FILE`"
            )),
            BuildError::IgnoreFileNotAFile { kind, .. } => Some(format!(
                "it is {kind}; make `.dockerignore` a file listing what to leave out, or remove it"
            )),
            BuildError::ValueTooLong { .. } | BuildError::VariablesTooLarge { .. } => Some(
                "values that repeat other variables grow fast; shorten the `ARG`, `ENV` or \
                 `--build-arg` values they are made of"
                    .into(),
            ),
            BuildError::NameNotUtf8 { .. } => Some(
                "rename it (`convmv` converts names to UTF-8), or leave it out with \
                 `.dockerignore`"
                    .into(),
            ),
            BuildError::LinkTargetNotUtf8 { .. } => {
                Some("point the link at a UTF-8 path, or leave it out with `.dockerignore`".into())
            }
            BuildError::CircularStages { .. } => Some(
                "a stage can only copy from stages that do not need it; to copy from an image \
                 named like a stage, name it in full (`docker.io/library/NAME:TAG`)"
                    .into(),
            ),
            BuildError::UnknownTarget { .. } => {
                Some("name a stage with `FROM … AS NAME` or drop `--target`".into())
            }
            BuildError::LayerNameNotUtf8 { origin, .. }
            | BuildError::LayerLinkNotUtf8 { origin, .. } => Some(format!(
                "names are read as UTF-8 so that no two of them merge; rename it where {origin} \
                 is made, or build this Dockerfile with `docker buildx build` or `buildah build`"
            )),
            BuildError::NulInPath { .. } => Some(
                "no file name can hold a NUL byte; remove it from the path, or from the `ARG` or \
                 `ENV` value the path uses"
                    .into(),
            ),
            BuildError::SourceNotFileOrFolder { .. } => Some(
                "only files, folders and symbolic links are copied; put a file in its place, \
                 or copy something else"
                    .into(),
            ),
            BuildError::SourceLinkBroken { link, .. } if link.outside_context => Some(
                "links are followed only inside the build context, as Docker does; copy the \
                 file itself into the context, or pass its folder with \
                 `--build-context NAME=DIR` and `COPY --from=NAME`"
                    .into(),
            ),
            BuildError::SourceMissing { origin, .. } if origin == "the build context" => Some(
                "paths are relative to the context folder; check it and `.dockerignore`".into(),
            ),
            BuildError::SourceLinkBroken { link, .. } if link.origin == "the build context" => {
                Some(
                    "paths are relative to the context folder; check it and `.dockerignore`".into(),
                )
            }
            BuildError::Image { .. } => Some(
                "name a local image (`oci:DIR:TAG`, an image in the store) or pass the stage \
                 as a folder with `--build-context NAME=DIR`"
                    .into(),
            ),
            BuildError::Unsupported { .. } => {
                Some("build this Dockerfile with `docker buildx build` or `buildah build`".into())
            }
            _ => None,
        }
    }

    /// Whether the build was refused because it needs a container engine.
    pub fn needs_engine(&self) -> bool {
        matches!(self, BuildError::NeedsEngine { .. })
    }
}

/// A symbolic link a `COPY` or `ADD` source is or goes through, which points to nothing.
#[derive(Debug)]
pub struct BrokenLink {
    /// The link, when it is not the source itself but a folder on its way.
    pub through: Option<String>,
    /// The link's target as stored.
    pub target: String,
    /// Where it was looked for: `the build context`, `stage `build``…
    pub origin: String,
    /// Whether the target is outside the (named) build context: absolute or above it.
    pub outside_context: bool,
}

/// How a message about a broken source link starts: the source "is" the link, or "goes
/// through" it when the link is a folder on the way.
fn link_subject(source_path: &str, through: Option<&str>) -> String {
    match through {
        Some(link) => format!("`{source_path}` goes through `{link}`,"),
        None => format!("`{source_path}` is"),
    }
}

/// Where a broken source link points: outside the context, or to nothing in `origin`.
fn link_place(origin: &str, outside_context: bool) -> String {
    if outside_context {
        format!("outside {origin}")
    } else {
        format!("which is not in {origin}")
    }
}

/// Where an instruction is, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Place {
    /// The Dockerfile's name for messages.
    pub file: String,
    /// The line, from 1.
    pub line: usize,
}

impl Place {
    /// An [`BuildError::Invalid`] error at this place.
    pub fn invalid(&self, message: impl Into<String>) -> BuildError {
        BuildError::Invalid {
            file: self.file.clone(),
            line: self.line,
            message: message.into(),
        }
    }

    /// An [`BuildError::Unsupported`] error at this place.
    pub fn unsupported(&self, what: impl Into<String>) -> BuildError {
        BuildError::Unsupported {
            file: self.file.clone(),
            line: self.line,
            what: what.into(),
        }
    }
}
