use std::path::PathBuf;
use std::sync::Arc;

/// Everything that can go wrong while talking to a registry.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An image model error: a digest mismatch, a malformed manifest, an I/O error.
    #[error(transparent)]
    Image(#[from] extkit_oci::Error),

    /// The registry cannot be reached at all.
    #[error("cannot connect to registry `{registry}`")]
    Connection {
        /// The registry host.
        registry: String,
        /// What the HTTP client said.
        #[source]
        source: reqwest::Error,
    },

    /// The registry's TLS certificate is not trusted.
    #[error("the certificate of registry `{registry}` is not trusted")]
    Certificate {
        /// The registry host.
        registry: String,
        /// What the TLS library said.
        #[source]
        source: reqwest::Error,
    },

    /// The registry asks for credentials and none were found.
    #[error("registry `{registry}` requires credentials and none are configured")]
    CredentialsRequired {
        /// The registry host.
        registry: String,
    },

    /// The registry refused the credentials, or they do not allow this operation.
    #[error("registry `{registry}` refused access to `{repository}` ({operation})")]
    Unauthorized {
        /// The registry host.
        registry: String,
        /// The repository.
        repository: String,
        /// `pull` or `push`.
        operation: &'static str,
    },

    /// The registry has no such repository, tag or digest.
    #[error("`{reference}` was not found in the registry")]
    NotFound {
        /// The reference asked for.
        reference: String,
    },

    /// Docker's `config.json` (or a credential helper) could not be used.
    #[error("cannot read credentials for `{server}` from `{}`: {reason}", path.display())]
    Credentials {
        /// The credential key looked up.
        server: String,
        /// The config file.
        path: PathBuf,
        /// What went wrong, never including a secret.
        reason: String,
    },

    /// A certificate file could not be read or parsed.
    #[error("cannot use the certificate file `{}`: {reason}", path.display())]
    CertificateFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// The registry answered something the distribution API does not allow.
    #[error("registry `{registry}` failed to {operation}")]
    Registry {
        /// The registry host.
        registry: String,
        /// What was asked, such as `upload blob \`sha256:…\``.
        operation: String,
        /// What oci-client said.
        #[source]
        source: oci_client::errors::OciDistributionError,
    },

    /// An error that several waiting writes share (a blob upload that a manifest waited for).
    #[error(transparent)]
    Shared(Arc<Error>),
}

impl Error {
    /// A sentence telling the user what to do next, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Image(error) => error.hint(),
            Error::Shared(error) => error.hint(),
            Error::Connection { registry, .. } => Some(format!(
                "check that `{registry}` is the right host and port and that it is running; \
                 a registry without TLS needs `--insecure` unless it is on localhost"
            )),
            Error::Certificate { source, .. } if is_ca_as_server(source) => Some(
                "the registry presents a CA certificate as its own, which extkit's TLS library \
                 refuses even when it is trusted; give the registry a server certificate signed \
                 by that CA (`basicConstraints=CA:FALSE`), or skip the check with `--insecure`"
                    .into(),
            ),
            Error::Certificate { registry, .. } => Some(format!(
                "trust its certificate authority with `--ca-cert FILE` or by putting it in \
                 `/etc/docker/certs.d/{registry}/ca.crt`; or skip the check with `--insecure`"
            )),
            Error::CredentialsRequired { registry } => Some(format!(
                "log in with `docker login {registry}`, or point `DOCKER_CONFIG` at a folder \
                 whose `config.json` holds credentials for it"
            )),
            Error::Unauthorized { registry, .. } => Some(format!(
                "check the repository name and log in again with `docker login {registry}`"
            )),
            Error::NotFound { .. } => {
                Some("check the repository name and the tag or digest".into())
            }
            Error::Credentials { .. } => {
                Some("fix `config.json`, or log in again with `docker login`".into())
            }
            Error::CertificateFile { .. } => {
                Some("a certificate file holds one or more PEM `CERTIFICATE` blocks".into())
            }
            Error::Registry { .. } => None,
        }
    }

    /// Whether this is the image model's "platform missing" answer, for exit codes.
    pub fn image_error(&self) -> Option<&extkit_oci::Error> {
        match self {
            Error::Image(error) => Some(error),
            Error::Shared(error) => error.image_error(),
            _ => None,
        }
    }
}

/// Whether TLS failed because the server's certificate is a CA certificate (webpki's
/// `CaUsedAsEndEntity`), as `openssl req -x509` makes by default.
fn is_ca_as_server(error: &reqwest::Error) -> bool {
    let mut cause: Option<&dyn std::error::Error> = Some(error);
    while let Some(current) = cause {
        if current.to_string().contains("CaUsedAsEndEntity") {
            return true;
        }
        cause = current.source();
    }
    false
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
