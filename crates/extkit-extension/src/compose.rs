//! The compose file of a backend, as far as the rules look into it.

use saphyr::{LoadableYamlNode, Yaml};

/// The value of `vm.image` (or a compose `image`) that means "the extension image itself".
pub(crate) const PLUGIN_IMAGE: &str = "${DESKTOP_PLUGIN_IMAGE}";

/// Whether an image value names the extension image itself.
pub(crate) fn is_plugin_image(image: &str) -> bool {
    matches!(image.trim(), PLUGIN_IMAGE | "$DESKTOP_PLUGIN_IMAGE")
}

/// One service of a compose file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Service {
    /// Its name, the key under `services`.
    pub name: String,
    /// `image`, when it is a string.
    pub image: Option<String>,
    /// Whether it sets `command` or `entrypoint`.
    pub has_command: bool,
    /// The host side of each bind mount in `volumes`, short or long syntax.
    pub bind_sources: Vec<String>,
}

/// A compose file's services, in document order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Compose {
    /// The services; never empty.
    pub services: Vec<Service>,
}

/// Reads a compose file, or says in one sentence why it is not one.
pub fn parse(bytes: &[u8]) -> Result<Compose, String> {
    let text = std::str::from_utf8(bytes).map_err(|error| {
        format!(
            "it is not UTF-8 text (invalid byte at offset {})",
            error.valid_up_to()
        )
    })?;
    let documents = Yaml::load_from_str(text).map_err(|error| {
        let marker = error.marker();
        format!(
            "it is not valid YAML: {} at line {} column {}",
            error.info(),
            marker.line(),
            marker.col() + 1
        )
    })?;
    let Some(document) = documents.first() else {
        return Err("it is empty".to_string());
    };
    let document = untagged(document);
    if !document.is_mapping() {
        return Err(format!("it holds {}, not a mapping", kind(document)));
    }
    let Some(services) = document.as_mapping_get("services").map(untagged) else {
        return Err("it has no `services`".to_string());
    };
    let Some(services) = services.as_mapping() else {
        return Err(format!("`services` is {}, not a mapping", kind(services)));
    };
    if services.is_empty() {
        return Err("`services` is empty".to_string());
    }

    let services = services
        .iter()
        .map(|(name, service)| read_service(scalar_text(name), untagged(service)))
        .collect();
    Ok(Compose { services })
}

fn read_service(name: String, service: &Yaml<'_>) -> Service {
    let image = service
        .as_mapping_get("image")
        .map(untagged)
        .and_then(|image| image.as_str())
        .map(str::to_string);
    let has_command = ["command", "entrypoint"].iter().any(|key| {
        service
            .as_mapping_get(key)
            .map(untagged)
            .is_some_and(|value| !value.is_null())
    });
    let bind_sources = service
        .as_mapping_get("volumes")
        .map(untagged)
        .and_then(|volumes| volumes.as_sequence())
        .map(|volumes| volumes.iter().filter_map(bind_source).collect())
        .unwrap_or_default();
    Service {
        name,
        image,
        has_command,
        bind_sources,
    }
}

/// The host side of a bind mount: `SOURCE:TARGET[:MODE]`, or a mapping with `source` that is
/// not of type `volume`. Named volumes and anonymous ones give `None`.
fn bind_source(volume: &Yaml<'_>) -> Option<String> {
    let volume = untagged(volume);
    if let Some(short) = volume.as_str() {
        let (source, _) = short.split_once(':')?;
        return is_host_path(source).then(|| source.to_string());
    }
    let kind = volume
        .as_mapping_get("type")
        .map(untagged)
        .and_then(|kind| kind.as_str());
    if kind.is_some_and(|kind| kind != "bind") {
        return None;
    }
    let source = volume
        .as_mapping_get("source")
        .map(untagged)
        .and_then(|source| source.as_str())?;
    (kind == Some("bind") || is_host_path(source)).then(|| source.to_string())
}

/// Whether a short-syntax source is a host path rather than a volume name.
fn is_host_path(source: &str) -> bool {
    source.starts_with(['/', '.', '~', '$'])
}

/// Whether a bind source is relative to the compose file's folder.
pub(crate) fn is_relative_bind(source: &str) -> bool {
    source == "." || source == ".." || source.starts_with("./") || source.starts_with("../")
}

/// Whether a bind source is the VM's Docker socket as the host sees it, not the raw one.
pub(crate) fn is_docker_socket(source: &str) -> bool {
    matches!(
        source.trim_end_matches('/'),
        "/var/run/docker.sock" | "/run/docker.sock"
    )
}

fn untagged<'a, 'input>(node: &'a Yaml<'input>) -> &'a Yaml<'input> {
    match node {
        Yaml::Tagged(_, inner) => untagged(inner),
        other => other,
    }
}

/// A scalar key as text, whatever its type (`1:` is a valid service name).
fn scalar_text(node: &Yaml<'_>) -> String {
    let node = untagged(node);
    if let Some(text) = node.as_str() {
        return text.to_string();
    }
    if let Some(number) = node.as_integer() {
        return number.to_string();
    }
    if let Some(flag) = node.as_bool() {
        return flag.to_string();
    }
    String::from("?")
}

fn kind(node: &Yaml<'_>) -> &'static str {
    if node.is_mapping() {
        "a mapping"
    } else if node.is_sequence() {
        "a list"
    } else if node.is_null() {
        "nothing"
    } else {
        "a scalar"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_services_of_a_sample_are_read() {
        let compose = parse(
            br#"
services:
  vackup-docker-extension:
    image: ${DESKTOP_PLUGIN_IMAGE}
    volumes:
      - /var/run/docker.sock.raw:/var/run/docker.sock
      - data:/data
      - type: volume
        source: drone-ci-data
        target: /data
  log-reader:
    image: ubuntu
    command: [tail, -f, /dev/null]
    volumes:
      - type: bind
        source: ./config
        target: /config
"#,
        )
        .unwrap();
        assert_eq!(
            compose.services,
            [
                Service {
                    name: "vackup-docker-extension".to_string(),
                    image: Some(PLUGIN_IMAGE.to_string()),
                    has_command: false,
                    bind_sources: vec!["/var/run/docker.sock.raw".to_string()],
                },
                Service {
                    name: "log-reader".to_string(),
                    image: Some("ubuntu".to_string()),
                    has_command: true,
                    bind_sources: vec!["./config".to_string()],
                },
            ]
        );
    }

    #[test]
    fn what_is_not_a_compose_file_says_why() {
        assert_eq!(parse(b"").unwrap_err(), "it is empty");
        assert_eq!(
            parse(b"- a\n").unwrap_err(),
            "it holds a list, not a mapping"
        );
        assert_eq!(
            parse(b"version: '3'\n").unwrap_err(),
            "it has no `services`"
        );
        assert_eq!(parse(b"services: {}\n").unwrap_err(), "`services` is empty");
        assert_eq!(
            parse(b"services:\n  a: [\n").unwrap_err(),
            "it is not valid YAML: while parsing a node, did not find expected node content at \
                line 3 column 1"
        );
    }
}
