//! One registry, ready to use: the scheme found by probing `/v2/`, the credentials, and
//! oci-client clients configured for it; plus retries and error translation.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use tokio::sync::OnceCell;
use tracing::{debug, trace};

use crate::auth::{Credentials, find_credentials};
use crate::hosts::{api_host, certs_d_files, is_loopback};
use crate::{Error, RegistryOptions, Result};

/// The runtime every registry transfer runs on; the image traits are blocking, so callers
/// `block_on` it.
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("extkit-registry")
            .enable_all()
            .build()
            .expect("a tokio runtime can be built")
    })
}

/// How the registry answered `GET /v2/` without credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Challenge {
    /// 200: no authentication at all.
    Open,
    /// 401 with `Basic`: HTTP basic authentication on every request.
    Basic,
    /// 401 with `Bearer` (or anything else): tokens from an authorization service.
    Token,
}

/// A registry host with clients configured for it.
///
/// Every oci-client `Client` builds its own HTTP client, and each of those loads the system's
/// certificate authorities (oci-client 0.18 builds two: its own and a default one it drops), so
/// only the client every command needs is built up front; the others are built the first time
/// they are used, which a re-push (every blob already there) never does.
pub(crate) struct Connection {
    /// The registry as written in references (`docker.io`, `localhost:5000`).
    pub registry: String,
    /// The host serving its API (`registry-1.docker.io`).
    pub host: String,
    /// The client for everything but monolithic uploads (chunked uploads).
    pub client: Client,
    /// A client that uploads each blob in one `PUT`; it shares the token cache. See
    /// [`Connection::monolithic`].
    monolithic: OnceCell<Client>,
    /// A client for manifest reads of an open registry; see [`Connection::open`] for why it is
    /// separate, and [`Connection::manifest_reader`].
    manifest_reader: OnceCell<Client>,
    /// How the registry answered the probe.
    challenge: Challenge,
    /// Whether it is spoken to over plain HTTP.
    plain_http: bool,
    /// The extra certificate authorities (`--ca-cert`, `certs.d`).
    certificates: Vec<Certificate>,
    /// The credentials oci-client is given.
    pub auth: RegistryAuth,
    /// The options it was opened with.
    pub options: RegistryOptions,
}

impl Connection {
    /// Probes the registry of `registry` and authenticates for `operation` on `repository`.
    ///
    /// oci-client asks the registry for a token before every request for which it has stored
    /// credentials but no cached token; for a registry that needs no authentication nothing is
    /// ever cached, so every request would be preceded by `GET /v2/`. An open registry's
    /// clients are therefore never given credentials, and manifest reads (which always store
    /// them) go through a client of their own.
    pub async fn open(
        options: &RegistryOptions,
        registry: &str,
        repository: &str,
        operation: RegistryOperation,
    ) -> Result<Connection> {
        let host = api_host(registry).to_string();
        let certificates = certificates(options, registry)?;
        let (plain_http, challenge) = probe(options, registry, &host, &certificates).await?;
        debug!(%registry, %host, plain_http, ?challenge, "registry probed");

        let credentials = find_credentials(&options.docker_config, registry)?;
        let auth = credentials.to_registry_auth();
        let client = build_client(options, registry, plain_http, &certificates, false)?;
        let connection = Connection {
            registry: registry.to_string(),
            host: host.clone(),
            client,
            monolithic: OnceCell::new(),
            manifest_reader: OnceCell::new(),
            challenge,
            plain_http,
            certificates,
            auth,
            options: options.clone(),
        };
        match (challenge, &credentials) {
            (Challenge::Open, _) => {}
            (Challenge::Basic, Credentials::Anonymous) => {
                return Err(Error::CredentialsRequired {
                    registry: registry.to_string(),
                });
            }
            _ => connection.authenticate(repository, operation).await?,
        }
        Ok(connection)
    }

    /// Gets (and caches) a token or basic credentials for `operation` on `repository`.
    async fn authenticate(&self, repository: &str, operation: RegistryOperation) -> Result<()> {
        let reference = self.reference(repository, None, None);
        let result = self.client.auth(&reference, &self.auth, operation).await;
        match result {
            Ok(_) => Ok(()),
            Err(OciDistributionError::AuthenticationFailure(_)) if self.is_anonymous() => {
                Err(Error::CredentialsRequired {
                    registry: self.registry.clone(),
                })
            }
            Err(OciDistributionError::AuthenticationFailure(_)) => Err(Error::Unauthorized {
                registry: self.registry.clone(),
                repository: repository.to_string(),
                operation: operation_name(operation),
            }),
            Err(source) => Err(self.failure(source, "authenticate", repository, operation)),
        }
    }

    fn is_anonymous(&self) -> bool {
        self.auth == RegistryAuth::Anonymous
    }

    /// An oci-client client for this registry, uploading blobs in one `PUT` when `monolithic`.
    fn build_client(&self, monolithic: bool) -> Result<Client> {
        build_client(
            &self.options,
            &self.registry,
            self.plain_http,
            &self.certificates,
            monolithic,
        )
    }

    /// The client that uploads each blob in one `PUT`, built on first use. It shares the
    /// token cache of [`Connection::client`] and, unless the registry is open, is given the
    /// same credentials.
    pub async fn monolithic(&self) -> Result<&Client> {
        self.monolithic
            .get_or_try_init(|| async {
                let mut monolithic = self.build_client(true)?;
                monolithic.tokens = self.client.tokens.clone();
                if self.challenge != Challenge::Open {
                    monolithic
                        .store_auth_if_needed(&self.host, &self.auth)
                        .await;
                }
                Ok(monolithic)
            })
            .await
    }

    /// The client for manifest reads: [`Connection::client`], except for an open registry,
    /// whose manifest reads go through a client of their own, built on first use (see
    /// [`Connection::open`]).
    async fn manifest_reader(&self) -> Result<&Client> {
        if self.challenge != Challenge::Open {
            return Ok(&self.client);
        }
        self.manifest_reader
            .get_or_try_init(|| async { self.build_client(false) })
            .await
    }

    /// An oci-client reference in this registry.
    pub fn reference(
        &self,
        repository: &str,
        tag: Option<&str>,
        digest: Option<&str>,
    ) -> Reference {
        let (host, repository) = (self.host.clone(), repository.to_string());
        match (tag, digest) {
            (_, Some(digest)) => Reference::with_digest(host, repository, digest.to_string()),
            (Some(tag), None) => Reference::with_tag(host, repository, tag.to_string()),
            (None, None) => Reference::with_tag(host, repository, "latest".to_string()),
        }
    }

    /// Reads a manifest with every manifest media type in `Accept`.
    pub async fn pull_manifest(&self, reference: &Reference) -> Result<bytes::Bytes> {
        let manifest_reader = self.manifest_reader().await?;
        let (bytes, _) = self
            .retry(&format!("read manifest `{reference}`"), || {
                manifest_reader.pull_manifest_raw(
                    reference,
                    &self.auth,
                    extkit_oci::media_types::ALL_MANIFESTS,
                )
            })
            .await
            .map_err(|source| {
                self.failure(
                    source,
                    "read a manifest",
                    reference.repository(),
                    RegistryOperation::Pull,
                )
                .or_not_found(reference)
            })?;
        Ok(bytes)
    }

    /// Runs `attempt` until it succeeds, fails for good, or has been tried `retries` more
    /// times after failures that may pass (5xx, 429, dropped connections).
    pub async fn retry<T, F, Fut>(
        &self,
        what: &str,
        mut attempt: F,
    ) -> Result<T, OciDistributionError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, OciDistributionError>>,
    {
        let mut tries = 0;
        loop {
            trace!(what, tries, "request");
            match attempt().await {
                Ok(value) => return Ok(value),
                Err(error) if tries < self.options.retries && is_transient(&error) => {
                    tries += 1;
                    let pause = Duration::from_millis(200 << tries);
                    debug!(what, %error, tries, ?pause, "transient failure; trying again");
                    tokio::time::sleep(pause).await;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Translates an oci-client error into one of ours.
    pub fn failure(
        &self,
        error: OciDistributionError,
        what: &str,
        repository: &str,
        operation: RegistryOperation,
    ) -> Error {
        let unauthorized = || {
            if self.is_anonymous() {
                Error::CredentialsRequired {
                    registry: self.registry.clone(),
                }
            } else {
                Error::Unauthorized {
                    registry: self.registry.clone(),
                    repository: repository.to_string(),
                    operation: operation_name(operation),
                }
            }
        };
        match error {
            OciDistributionError::UnauthorizedError { .. } => unauthorized(),
            OciDistributionError::ServerError {
                code: 401 | 403, ..
            } => unauthorized(),
            OciDistributionError::RegistryError { ref envelope, .. }
                if envelope.errors.iter().any(|e| {
                    matches!(e.code, OciErrorCode::Unauthorized | OciErrorCode::Denied)
                }) =>
            {
                unauthorized()
            }
            OciDistributionError::RequestError(source) => request_failure(&self.registry, source),
            source => Error::Registry {
                registry: self.registry.clone(),
                operation: what.to_string(),
                source,
            },
        }
    }
}

impl Error {
    /// Turns a registry's "unknown manifest" or "unknown repository" answer into
    /// [`Error::NotFound`].
    fn or_not_found(self, reference: &Reference) -> Error {
        let missing = match &self {
            Error::Registry {
                source: OciDistributionError::RegistryError { envelope, .. },
                ..
            } => envelope.errors.iter().any(|e| {
                matches!(
                    e.code,
                    OciErrorCode::ManifestUnknown
                        | OciErrorCode::NameUnknown
                        | OciErrorCode::NotFound
                )
            }),
            Error::Registry {
                source: OciDistributionError::ServerError { code: 404, .. },
                ..
            } => true,
            _ => false,
        };
        if missing {
            Error::NotFound {
                reference: reference.whole(),
            }
        } else {
            self
        }
    }
}

/// An oci-client client for `registry`, uploading blobs in one `PUT` when `monolithic`.
fn build_client(
    options: &RegistryOptions,
    registry: &str,
    plain_http: bool,
    certificates: &[Certificate],
    monolithic: bool,
) -> Result<Client> {
    let config = ClientConfig {
        protocol: if plain_http {
            ClientProtocol::Http
        } else {
            ClientProtocol::Https
        },
        accept_invalid_certificates: options.insecure,
        extra_root_certificates: certificates.to_vec(),
        use_monolithic_push: monolithic,
        platform_resolver: None,
        connect_timeout: Some(Duration::from_secs(30)),
        read_timeout: Some(Duration::from_secs(300)),
        user_agent: concat!("extkit/", env!("CARGO_PKG_VERSION")),
        ..ClientConfig::default()
    };
    Client::try_from(config).map_err(|source| Error::Registry {
        registry: registry.to_string(),
        operation: "set up an HTTP client".into(),
        source,
    })
}

fn operation_name(operation: RegistryOperation) -> &'static str {
    match operation {
        RegistryOperation::Pull => "pull",
        RegistryOperation::Push => "push",
    }
}

/// Whether trying again may help.
pub(crate) fn is_transient(error: &OciDistributionError) -> bool {
    match error {
        OciDistributionError::ServerError { code, .. } => *code >= 500 || *code == 429,
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| matches!(e.code, OciErrorCode::Toomanyrequests)),
        OciDistributionError::RequestError(error) => {
            !error.is_builder() && !error.is_redirect() && !is_certificate_error(error)
        }
        OciDistributionError::IoError(error) => is_transient_io(error),
        _ => false,
    }
}

/// Whether an I/O error is a dropped connection or a cut-off body.
pub(crate) fn is_transient_io(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | TimedOut | Interrupted
    ) || error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
        .is_some_and(|error| !is_certificate_error(error))
}

fn is_certificate_error(error: &reqwest::Error) -> bool {
    let mut cause: Option<&dyn std::error::Error> = Some(error);
    while let Some(current) = cause {
        let text = current.to_string().to_ascii_lowercase();
        if text.contains("certificate") || text.contains("unknownissuer") {
            return true;
        }
        cause = current.source();
    }
    false
}

fn request_failure(registry: &str, source: reqwest::Error) -> Error {
    if is_certificate_error(&source) {
        Error::Certificate {
            registry: registry.to_string(),
            source,
        }
    } else {
        Error::Connection {
            registry: registry.to_string(),
            source,
        }
    }
}

/// Asks `GET /v2/` over plain HTTP first for loopback hosts, then over HTTPS, then (with
/// `--insecure`) over plain HTTP.
///
/// Gives whether plain HTTP is used and how the registry authenticates.
async fn probe(
    options: &RegistryOptions,
    registry: &str,
    host: &str,
    certificates: &[Certificate],
) -> Result<(bool, Challenge)> {
    let builder = || {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .timeout(Duration::from_secs(60))
            .danger_accept_invalid_certs(options.insecure)
    };

    // A loopback registry may use plain HTTP whatever the order, so it is asked that way
    // first: a TLS server answers 400 (or hangs up) and is then asked over HTTPS. This spares
    // the TLS handshake, whose first random numbers cost aws-lc tens of milliseconds of
    // entropy gathering, on every command against a local plain-HTTP registry. The client
    // for it trusts no certificate authority at all: a plain request needs none (a redirect to
    // HTTPS then fails, and HTTPS is asked below), and loading the system's costs milliseconds.
    if is_loopback(registry) {
        let plain = builder()
            .tls_certs_only(std::iter::empty())
            .build()
            .map_err(|source| request_failure(registry, source))?;
        if let Ok(response) = plain.get(format!("http://{host}/v2/")).send().await
            && is_registry_answer(&response)
        {
            return Ok((true, classify(&response)));
        }
    }

    let mut builder = builder();
    for certificate in certificates {
        let parsed = reqwest::Certificate::from_pem(&certificate.data).map_err(|error| {
            Error::CertificateFile {
                path: "(certificate)".into(),
                reason: error.to_string(),
            }
        })?;
        builder = builder.tls_certs_merge([parsed]);
    }
    let http = builder
        .build()
        .map_err(|source| request_failure(registry, source))?;
    let https_error = match http.get(format!("https://{host}/v2/")).send().await {
        Ok(response) => return Ok((false, classify(&response))),
        Err(error) => error,
    };
    debug!(%registry, error = %https_error, "HTTPS probe failed");
    if options.insecure
        && !is_loopback(registry)
        && let Ok(response) = http.get(format!("http://{host}/v2/")).send().await
    {
        if is_registry_answer(&response) {
            return Ok((true, classify(&response)));
        }
        let status = response.status().as_u16();
        debug!(%registry, status, "plain HTTP answered, but not as a registry");
    }
    Err(request_failure(registry, https_error))
}

/// Whether an answer to `GET /v2/` comes from a registry: 200, or 401 with a challenge.
fn is_registry_answer(response: &reqwest::Response) -> bool {
    let status = response.status().as_u16();
    status == 200 || status == 401
}

fn classify(response: &reqwest::Response) -> Challenge {
    if response.status().is_success() {
        return Challenge::Open;
    }
    let scheme = response
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .trim_start()
        .to_ascii_lowercase();
    if scheme.starts_with("basic") {
        Challenge::Basic
    } else {
        Challenge::Token
    }
}

/// The extra certificate authorities for a registry: `--ca-cert` files and its `certs.d`
/// folder, one certificate per PEM block.
fn certificates(options: &RegistryOptions, registry: &str) -> Result<Vec<Certificate>> {
    let mut files = options.ca_certs.clone();
    files.extend(certs_d_files(&options.certs_d_roots, registry));
    let mut certificates = Vec::new();
    for path in files {
        let text = fs_err::read_to_string(&path).map_err(|error| Error::CertificateFile {
            path: path.clone(),
            reason: error.to_string(),
        })?;
        let blocks = pem_blocks(&text);
        if blocks.is_empty() {
            return Err(Error::CertificateFile {
                path,
                reason: "it holds no PEM `CERTIFICATE` block".into(),
            });
        }
        debug!(path = %path.display(), count = blocks.len(), "trusting certificate authorities");
        certificates.extend(blocks.into_iter().map(|block| Certificate {
            encoding: CertificateEncoding::Pem,
            data: block.into_bytes(),
        }));
    }
    Ok(certificates)
}

/// The `CERTIFICATE` blocks of a PEM text, each with its markers.
fn pem_blocks(text: &str) -> Vec<String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let Some(length) = rest[start..].find(END) else {
            break;
        };
        let end = start + length + END.len();
        blocks.push(format!("{}\n", &rest[start..end]));
        rest = &rest[end..];
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_files_are_split_into_certificates() {
        let text = "junk\n-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n\
                    -----BEGIN CERTIFICATE-----\nBBB\n-----END CERTIFICATE-----\n";
        let blocks = pem_blocks(text);
        assert_eq!(blocks.len(), 2);
        assert!(blocks[1].contains("BBB"));
        assert!(pem_blocks("no certificates").is_empty());
    }

    #[test]
    fn only_server_faults_and_dropped_connections_are_retried() {
        let server = |code| OciDistributionError::ServerError {
            code,
            url: String::new(),
            message: String::new(),
        };
        assert!(is_transient(&server(500)));
        assert!(is_transient(&server(503)));
        assert!(is_transient(&server(429)));
        assert!(!is_transient(&server(404)));
        assert!(!is_transient(&server(400)));
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(is_transient(&OciDistributionError::IoError(reset)));
    }
}
