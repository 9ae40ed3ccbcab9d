use std::io;
use std::path::PathBuf;

/// What can stop an install, update or removal.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// A file or folder could not be read or written.
    #[error(transparent)]
    Io(#[from] io::Error),

    /// The image could not be read.
    #[error(transparent)]
    Image(#[from] extkit_oci::Error),

    /// A layer could not be read.
    #[error(transparent)]
    Layer(#[from] extkit_layer::ReadError),

    /// The image has no variant for the host's CPU.
    #[error("{image} has no {platform} image, so Docker Desktop cannot install it on this machine")]
    NoVariant {
        /// The image.
        image: String,
        /// The platform wanted, such as `linux/arm64`.
        platform: String,
        /// The runnable platforms it has.
        available: Vec<String>,
    },

    /// A host such as `darwin/arm64` could not be parsed.
    #[error("invalid host `{host}`: {reason}")]
    InvalidHost {
        /// The text given.
        host: String,
        /// Why it is invalid.
        reason: String,
    },

    /// The chosen variant has no usable `/metadata.json`.
    #[error("the {platform} image has no usable `/metadata.json`: {reason}")]
    Metadata {
        /// The variant.
        platform: String,
        /// What is wrong.
        reason: String,
    },

    /// A layer tries to reach outside the image, or an extracted path would.
    #[error("refusing to install: {reason}")]
    Hostile {
        /// What was found.
        reason: String,
    },

    /// A file metadata.json names is not in the image.
    #[error("`{path}` is named by metadata.json but is not in the {platform} image")]
    FileMissing {
        /// The path.
        path: String,
        /// The variant.
        platform: String,
    },

    /// The extension is already installed.
    #[error("`{name}` is already installed from `{reference}`")]
    AlreadyInstalled {
        /// The folder name.
        name: String,
        /// The reference it was installed from.
        reference: String,
    },

    /// Another extension with the same folder name, from another registry, is installed.
    #[error("`{name}` is already taken by `{installed}`, which is not `{wanted}`")]
    NameTaken {
        /// The folder name.
        name: String,
        /// The installed extension's repository.
        installed: String,
        /// The repository asked for.
        wanted: String,
    },

    /// A file, folder or link of the install could not be written.
    #[error("cannot write `{}`", path.display())]
    Write {
        /// What could not be written.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },

    /// A file or folder of the extension could not be written in its new version folder.
    #[error("cannot write `{path}` of the extension `{name}`")]
    WriteFile {
        /// The extension's folder name.
        name: String,
        /// The path inside the extension's folder.
        path: String,
        /// Why.
        #[source]
        source: io::Error,
    },

    /// The install root exists and is not a folder.
    #[error("the install root `{}` is not a folder", root.display())]
    RootNotAFolder {
        /// The install root.
        root: PathBuf,
    },

    /// No extension of that name is installed.
    #[error("no extension named `{name}` is installed in `{}`", root.display())]
    NotInstalled {
        /// The name given.
        name: String,
        /// The install root.
        root: PathBuf,
    },
}

impl InstallError {
    /// A sentence telling the user what to do next, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            InstallError::Image(error) => error.hint(),
            InstallError::NoVariant { available, .. } => Some(format!(
                "it has {}; build and push it with `--platform linux/amd64,linux/arm64`",
                if available.is_empty() {
                    "no runnable platform".into()
                } else {
                    available.join(", ")
                }
            )),
            InstallError::InvalidHost { .. } => Some(
                "a host is an OS and a CPU: darwin/amd64, darwin/arm64, windows/amd64, \
                 windows/arm64, linux/amd64 or linux/arm64"
                    .into(),
            ),
            InstallError::Hostile { .. } => {
                Some("the image was built to escape the install folder; do not install it".into())
            }
            InstallError::AlreadyInstalled { .. } => {
                Some("use `extkit update` to install a new version".into())
            }
            InstallError::NameTaken { name, .. } => Some(format!(
                "remove it first with `extkit rm {name}` if you want to replace it"
            )),
            InstallError::NotInstalled { .. } => Some("`extkit ls` lists what is installed".into()),
            InstallError::RootNotAFolder { .. } => Some(
                "give `--root` a folder, or a path that does not exist yet (it is created)".into(),
            ),
            InstallError::Write { source, .. } => {
                Some(if source.kind() == io::ErrorKind::InvalidFilename {
                    "the extension's folder name, made from the image's repository, is too long \
                     for this file system; name the image more briefly with `extkit tag` and \
                     install that"
                        .into()
                } else {
                    "check that the install root is on a writable file system with room to spare"
                        .into()
                })
            }
            InstallError::WriteFile { source, .. } => {
                Some(if source.kind() == io::ErrorKind::InvalidFilename {
                    "a name in the image is too long for this file system".into()
                } else {
                    "check that the install root is on a writable file system with room to spare"
                        .into()
                })
            }
            InstallError::FileMissing { .. } | InstallError::Metadata { .. } => {
                Some("run `extkit validate` on the image to see every problem".into())
            }
            _ => None,
        }
    }

    /// Whether this is the answer "no" (exit code 1) rather than a failure to run.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            InstallError::NoVariant { .. }
                | InstallError::Hostile { .. }
                | InstallError::AlreadyInstalled { .. }
                | InstallError::NameTaken { .. }
                | InstallError::NotInstalled { .. }
                | InstallError::FileMissing { .. }
                | InstallError::Metadata { .. }
        )
    }
}
