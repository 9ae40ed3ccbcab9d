//! Credentials from Docker's `config.json`: `auths` entries and credential helpers.

use std::fmt;
use std::path::Path;

use docker_credential::{CredentialRetrievalError, DockerCredential};
use tracing::debug;

use crate::hosts::{credential_key, key_registry};
use crate::{Error, Result};

/// What to authenticate with.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// No credentials: anonymous access, or tokens the registry gives to anyone.
    Anonymous,
    /// A user name and password (or access token) for HTTP basic authentication and token
    /// requests.
    Basic {
        /// The user name.
        username: String,
        /// The password, never printed.
        password: String,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Anonymous => f.write_str("Anonymous"),
            Credentials::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

impl Credentials {
    /// The same credentials in oci-client's form.
    pub(crate) fn to_registry_auth(&self) -> oci_client::secrets::RegistryAuth {
        match self {
            Credentials::Anonymous => oci_client::secrets::RegistryAuth::Anonymous,
            Credentials::Basic { username, password } => {
                oci_client::secrets::RegistryAuth::Basic(username.clone(), password.clone())
            }
        }
    }
}

/// Finds the credentials `docker login` stored for `registry` in `config_folder/config.json`.
///
/// A missing file, a registry without an entry and a helper that says "not found" all mean
/// anonymous access.
pub fn find_credentials(config_folder: &Path, registry: &str) -> Result<Credentials> {
    let path = config_folder.join("config.json");
    let Ok(bytes) = std::fs::read(&path) else {
        debug!(path = %path.display(), "no Docker config file; using anonymous access");
        return Ok(Credentials::Anonymous);
    };
    let failure = |server: &str, reason: String| Error::Credentials {
        server: server.to_string(),
        path: path.clone(),
        reason,
    };
    let config: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|error| failure(registry, format!("it is not valid JSON ({error})")))?;

    let key = config_key(&config, registry);
    let has_own_helper = config
        .get("credHelpers")
        .and_then(|helpers| helpers.get(&key))
        .is_some();
    match docker_credential::get_credential_from_reader(&bytes[..], &key) {
        Ok(DockerCredential::UsernamePassword(username, password)) => {
            debug!(server = %key, %username, path = %path.display(), "using stored credentials");
            Ok(Credentials::Basic { username, password })
        }
        // TODO(registry): identity tokens (OAuth refresh tokens from `docker login` with a
        // browser) should be exchanged for access tokens at the registry's token endpoint.
        Ok(DockerCredential::IdentityToken(_)) => Err(failure(
            &key,
            "it holds an identity token, which extkit cannot use yet".into(),
        )),
        Err(CredentialRetrievalError::NoCredentialConfigured) => {
            debug!(server = %key, "no credentials stored; using anonymous access");
            Ok(Credentials::Anonymous)
        }
        Err(CredentialRetrievalError::HelperFailure { helper, stdout, .. })
            if stdout.to_ascii_lowercase().contains("not found") =>
        {
            debug!(server = %key, %helper, "the credential helper has none; using anonymous access");
            Ok(Credentials::Anonymous)
        }
        Err(CredentialRetrievalError::HelperCommunicationError) if !has_own_helper => {
            debug!(server = %key, "the default credential store cannot be run; using anonymous access");
            Ok(Credentials::Anonymous)
        }
        Err(CredentialRetrievalError::HelperFailure { helper, .. }) => Err(failure(
            &key,
            format!("the credential helper `{helper}` failed"),
        )),
        Err(error) => Err(failure(&key, lower_first(&error.to_string()))),
    }
}

/// The key of `registry` in the config: the one `docker login` writes, else any `auths` or
/// `credHelpers` key that names the same host (`https://host/v1/`, `http://host`).
fn config_key(config: &serde_json::Value, registry: &str) -> String {
    let wanted = credential_key(registry);
    let normalised = key_registry(&wanted);
    for section in ["credHelpers", "auths"] {
        let Some(entries) = config.get(section).and_then(|s| s.as_object()) else {
            continue;
        };
        if entries.contains_key(&wanted) {
            return wanted;
        }
        if let Some(key) = entries.keys().find(|key| key_registry(key) == normalised) {
            return key.clone();
        }
    }
    wanted
}

fn lower_first(text: &str) -> String {
    let mut characters = text.chars();
    match characters.next() {
        Some(first) => first.to_lowercase().chain(characters).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_with(json: &str) -> tempfile::TempDir {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(folder.path().join("config.json"), json).unwrap();
        folder
    }

    #[test]
    fn auths_entries_give_basic_credentials() {
        // "user:secret" in base64.
        let folder = config_with(r#"{"auths":{"127.0.0.1:5000":{"auth":"dXNlcjpzZWNyZXQ="}}}"#);
        let found = find_credentials(folder.path(), "127.0.0.1:5000").unwrap();
        assert_eq!(
            found,
            Credentials::Basic {
                username: "user".into(),
                password: "secret".into()
            }
        );
        assert!(!format!("{found:?}").contains("secret"));
        let other = find_credentials(folder.path(), "127.0.0.1:5001").unwrap();
        assert_eq!(other, Credentials::Anonymous);
    }

    #[test]
    fn docker_hub_credentials_use_the_index_key() {
        let folder =
            config_with(r#"{"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpzZWNyZXQ="}}}"#);
        let found = find_credentials(folder.path(), "docker.io").unwrap();
        assert!(matches!(found, Credentials::Basic { .. }));
    }

    #[test]
    fn keys_with_a_scheme_match_their_host() {
        let folder = config_with(r#"{"auths":{"https://ghcr.io":{"auth":"dXNlcjpzZWNyZXQ="}}}"#);
        let found = find_credentials(folder.path(), "ghcr.io").unwrap();
        assert!(matches!(found, Credentials::Basic { .. }));
    }

    #[test]
    fn a_missing_config_or_helper_means_anonymous() {
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(
            find_credentials(empty.path(), "ghcr.io").unwrap(),
            Credentials::Anonymous
        );
        let store = config_with(r#"{"credsStore":"extkit-test-missing-helper"}"#);
        assert_eq!(
            find_credentials(store.path(), "ghcr.io").unwrap(),
            Credentials::Anonymous
        );
    }

    #[test]
    fn a_missing_registry_specific_helper_is_an_error() {
        let folder = config_with(r#"{"credHelpers":{"ghcr.io":"extkit-test-missing-helper"}}"#);
        let error = find_credentials(folder.path(), "ghcr.io").unwrap_err();
        assert!(error.to_string().contains("ghcr.io"), "{error}");
    }

    #[test]
    fn malformed_config_is_an_error_without_secrets() {
        let folder = config_with(r#"{"auths":{"ghcr.io":{"auth":"not base64!"}}}"#);
        let error = find_credentials(folder.path(), "ghcr.io").unwrap_err();
        assert!(
            error.to_string().contains("unable to decode credential"),
            "{error}"
        );
    }
}
