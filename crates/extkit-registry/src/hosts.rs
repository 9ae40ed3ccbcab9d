//! How a registry name in a reference becomes a host to talk to: Docker Hub's aliases, which
//! hosts may use plain HTTP, and where their certificate authorities are.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The name Docker Hub has in references.
pub const DOCKER_HUB: &str = "docker.io";

/// The host that serves Docker Hub's registry API.
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// The key Docker Hub's credentials have in `config.json`.
const DOCKER_HUB_CREDENTIAL_KEY: &str = "https://index.docker.io/v1/";

/// The host (with its port) that serves the registry API for a reference's registry.
pub fn api_host(registry: &str) -> &str {
    match registry {
        DOCKER_HUB | "index.docker.io" => DOCKER_HUB_API,
        other => other,
    }
}

/// The key under which `docker login` stores a registry's credentials.
pub fn credential_key(registry: &str) -> String {
    match registry {
        DOCKER_HUB | "index.docker.io" | DOCKER_HUB_API => DOCKER_HUB_CREDENTIAL_KEY.to_string(),
        other => other.to_string(),
    }
}

/// A `config.json` key reduced to a registry name, as Docker compares them: the scheme and
/// path are dropped, so `https://index.docker.io/v1/` is `docker.io` and
/// `http://localhost:5000` is `localhost:5000`.
pub fn key_registry(key: &str) -> String {
    let without_scheme = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = without_scheme.split('/').next().unwrap_or(without_scheme);
    match host {
        "index.docker.io" | DOCKER_HUB_API => DOCKER_HUB.to_string(),
        other => other.to_string(),
    }
}

/// Whether a registry host is on the loopback interface, where Docker allows plain HTTP:
/// `localhost`, `127.0.0.0/8` and `::1`, with or without a port.
pub fn is_loopback(registry: &str) -> bool {
    let host = host_without_port(registry);
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok_and(|address| address.is_loopback())
}

fn host_without_port(registry: &str) -> &str {
    if let Some(rest) = registry.strip_prefix('[') {
        // `[::1]:5000`
        return rest.split(']').next().unwrap_or(rest);
    }
    match registry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host
        }
        _ => registry,
    }
}

/// The certificate files Docker would trust for a registry: every `*.crt` in
/// `certs.d/HOST:PORT/` under each of `roots`.
pub fn certs_d_files(roots: &[PathBuf], registry: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for root in roots {
        let folder = root.join(registry);
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "crt"))
            .collect();
        found.sort();
        files.extend(found);
    }
    files
}

/// The `certs.d` folders Docker reads: `/etc/docker/certs.d` and `certs.d` in the Docker
/// config folder.
pub fn default_certs_d_roots(docker_config: &Path) -> Vec<PathBuf> {
    vec![
        PathBuf::from("/etc/docker/certs.d"),
        docker_config.join("certs.d"),
    ]
}

/// Docker's config folder: `DOCKER_CONFIG`, else `$HOME/.docker`.
pub fn docker_config_folder() -> PathBuf {
    if let Some(folder) = std::env::var_os("DOCKER_CONFIG").filter(|v| !v.is_empty()) {
        return PathBuf::from(folder);
    }
    let home = std::env::var_os("HOME").unwrap_or_default();
    Path::new(&home).join(".docker")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certs_d_is_read_in_etc_docker_then_in_the_docker_config_folder() {
        assert_eq!(
            default_certs_d_roots(Path::new("/home/u/.docker")),
            [
                PathBuf::from("/etc/docker/certs.d"),
                PathBuf::from("/home/u/.docker/certs.d")
            ]
        );
    }

    #[test]
    fn docker_hub_has_its_own_api_host_and_credential_key() {
        assert_eq!(api_host("docker.io"), "registry-1.docker.io");
        assert_eq!(api_host("ghcr.io"), "ghcr.io");
        assert_eq!(credential_key("docker.io"), "https://index.docker.io/v1/");
        assert_eq!(credential_key("localhost:5000"), "localhost:5000");
    }

    #[test]
    fn config_keys_are_compared_as_docker_does() {
        assert_eq!(key_registry("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(key_registry("registry-1.docker.io"), "docker.io");
        assert_eq!(key_registry("http://localhost:5000"), "localhost:5000");
        assert_eq!(key_registry("ghcr.io"), "ghcr.io");
        assert_eq!(key_registry("https://ghcr.io/v2/"), "ghcr.io");
    }

    #[test]
    fn only_loopback_hosts_are_loopback() {
        for host in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
            "::1",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "docker.io",
            "10.0.0.1:5000",
            "localhost.example.com",
            "[::2]:1",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn certs_d_lists_crt_files_of_the_host_and_port() {
        let root = tempfile::tempdir().unwrap();
        let folder = root.path().join("127.0.0.1:5000");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("ca.crt"), "x").unwrap();
        std::fs::write(folder.join("client.key"), "x").unwrap();
        let files = certs_d_files(&[root.path().to_path_buf()], "127.0.0.1:5000");
        assert_eq!(files, vec![folder.join("ca.crt")]);
        assert!(certs_d_files(&[root.path().to_path_buf()], "127.0.0.1:5001").is_empty());
    }
}
