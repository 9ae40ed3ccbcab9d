use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::{Error, ImageReference};

/// Where an image is, in skopeo's transport syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// `oci:DIR[:TAG]`: an OCI image layout folder.
    Oci {
        /// The layout folder.
        path: PathBuf,
        /// The `org.opencontainers.image.ref.name` of the image, when given.
        tag: Option<String>,
    },
    /// `oci-archive:FILE[:TAG]`: an OCI image layout in a tar file.
    OciArchive {
        /// The tar file.
        path: PathBuf,
        /// The image's tag in the layout, when given.
        tag: Option<String>,
    },
    /// `docker-archive:FILE[:REF]`: the `docker save` format, one platform per image.
    DockerArchive {
        /// The tar file.
        path: PathBuf,
        /// The image's name in the archive, when given.
        reference: Option<ImageReference>,
    },
    /// `store:NAME[:TAG]`: the local store.
    Store(ImageReference),
    /// `docker://REF`: a registry.
    Registry(ImageReference),
    /// A bare reference: the local store first, then the registry.
    Named(ImageReference),
}

impl Location {
    /// How messages name the kind of location: "an `oci:` location", "a `store:` location".
    pub fn kind(&self) -> String {
        let name = self.transport_name();
        let article = if name.starts_with('o') { "an" } else { "a" };
        format!("{article} `{name}:` location")
    }

    /// The transport's name as written before the colon, or `reference` for a bare reference.
    pub fn transport_name(&self) -> &'static str {
        match self {
            Location::Oci { .. } => "oci",
            Location::OciArchive { .. } => "oci-archive",
            Location::DockerArchive { .. } => "docker-archive",
            Location::Store(_) => "store",
            Location::Registry(_) => "docker",
            Location::Named(_) => "reference",
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let with_suffix =
            |f: &mut fmt::Formatter<'_>, name: &str, path: &PathBuf, suffix: Option<String>| {
                write!(f, "{name}:{}", path.display())?;
                match suffix {
                    Some(suffix) => write!(f, ":{suffix}"),
                    None => Ok(()),
                }
            };
        match self {
            Location::Oci { path, tag } => with_suffix(f, "oci", path, tag.clone()),
            Location::OciArchive { path, tag } => with_suffix(f, "oci-archive", path, tag.clone()),
            Location::DockerArchive { path, reference } => with_suffix(
                f,
                "docker-archive",
                path,
                reference.as_ref().map(|r| r.familiar()),
            ),
            Location::Store(reference) => write!(f, "store:{}", reference.familiar()),
            Location::Registry(reference) => write!(f, "docker://{reference}"),
            Location::Named(reference) => write!(f, "{}", reference.familiar()),
        }
    }
}

impl FromStr for Location {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidLocation {
            location: text.to_string(),
            reason: reason.to_string(),
        };
        if let Some(reference) = text.strip_prefix("docker://") {
            return Ok(Location::Registry(reference.parse()?));
        }
        if ["/", "./", "../", "~/"]
            .iter()
            .any(|start| text.starts_with(start))
        {
            return Err(invalid(
                "it is a path, and a path needs its transport: `oci:PATH` for a layout folder, \
                 `oci-archive:PATH` for a tar file",
            ));
        }
        let Some((transport, rest)) = text.split_once(':') else {
            return Ok(Location::Named(text.parse()?));
        };
        match transport {
            "oci" | "oci-archive" => {
                let (path, tag) = split_path(rest);
                if path.is_empty() {
                    return Err(invalid("the path is empty"));
                }
                // `oci:DIR@sha256:…` would name a folder `DIR@sha256` and a tag of hex digits.
                if ["@sha256", "@sha384", "@sha512"]
                    .iter()
                    .any(|suffix| path.ends_with(suffix))
                {
                    return Err(invalid(
                        "images in a layout or archive are named by tag, not digest",
                    ));
                }
                let tag = tag
                    .map(|tag| validate_tag(tag).map_err(invalid))
                    .transpose()?;
                let path = PathBuf::from(path);
                Ok(if transport == "oci" {
                    Location::Oci { path, tag }
                } else {
                    Location::OciArchive { path, tag }
                })
            }
            "docker-archive" => {
                let (path, reference) = split_path(rest);
                if path.is_empty() {
                    return Err(invalid("the path is empty"));
                }
                let reference = reference.map(str::parse::<ImageReference>).transpose()?;
                if reference.as_ref().is_some_and(|r| r.digest().is_some()) {
                    return Err(invalid(
                        "a docker-archive names its images by tag, not digest",
                    ));
                }
                Ok(Location::DockerArchive {
                    path: PathBuf::from(path),
                    reference,
                })
            }
            "store" => Ok(Location::Store(rest.parse()?)),
            "docker" => Err(invalid("the registry transport is written `docker://REF`")),
            "docker-daemon" | "containers-storage" | "dir" => {
                Err(invalid("this transport is not supported by extkit"))
            }
            // `localhost:5000/x` and `alpine:3` are references, not transports.
            _ => Ok(Location::Named(text.parse()?)),
        }
    }
}

/// Splits `PATH[:SUFFIX]` at the first colon, keeping a Windows drive letter (`C:\x`) whole.
fn split_path(text: &str) -> (&str, Option<&str>) {
    let bytes = text.as_bytes();
    let skip = if bytes.len() >= 3
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && (bytes[2] == b'\\' || bytes[2] == b'/')
    {
        2
    } else {
        0
    };
    match text[skip..].find(':') {
        Some(position) => (&text[..skip + position], Some(&text[skip + position + 1..])),
        None => (text, None),
    }
}

fn validate_tag(tag: &str) -> Result<String, &'static str> {
    if tag.is_empty() {
        return Err("the tag after the last `:` is empty");
    }
    if tag.len() > 128
        || !tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    {
        return Err("a tag has at most 128 letters, digits, `_`, `.` and `-`");
    }
    Ok(tag.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_transport() {
        let oci: Location = "oci:/tmp/layout:v1".parse().unwrap();
        assert_eq!(
            oci,
            Location::Oci {
                path: "/tmp/layout".into(),
                tag: Some("v1".into())
            }
        );
        let untagged: Location = "oci:layout".parse().unwrap();
        assert_eq!(
            untagged,
            Location::Oci {
                path: "layout".into(),
                tag: None
            }
        );
        let archive: Location = "oci-archive:x.tar:latest".parse().unwrap();
        assert_eq!(archive.to_string(), "oci-archive:x.tar:latest");
        let docker: Location = "docker-archive:x.tar:acme/ext:1.0".parse().unwrap();
        assert_eq!(docker.to_string(), "docker-archive:x.tar:acme/ext:1.0");
        let registry: Location = "docker://localhost:5000/x:1".parse().unwrap();
        assert_eq!(registry.to_string(), "docker://localhost:5000/x:1");
        let named: Location = "localhost:5000/x".parse().unwrap();
        assert_eq!(named.transport_name(), "reference");
        let named: Location = "alpine:3".parse().unwrap();
        assert_eq!(named.to_string(), "alpine:3");
        let windows: Location = r"oci:C:\layouts\ext:v1".parse().unwrap();
        assert_eq!(
            windows,
            Location::Oci {
                path: r"C:\layouts\ext".into(),
                tag: Some("v1".into())
            }
        );
    }

    #[test]
    fn rejects_malformed_locations() {
        for bad in [
            "oci:",
            "oci::v1",
            "oci:dir:",
            "oci:dir:a b",
            "docker:alpine",
            "docker-archive:",
            "dir:/tmp/x",
            "docker://",
            "Alpine",
        ] {
            assert!(
                bad.parse::<Location>().is_err(),
                "{bad:?} should be rejected"
            );
        }
    }
}
