use std::fmt;
use std::str::FromStr;

use oci_spec::distribution::{ParseError, Reference};

use crate::{Digest, Error};

/// An image reference normalised as Docker does: `alpine` is `docker.io/library/alpine:latest`.
///
/// A reference names a registry, a repository, and a tag, a digest or both. When both are given
/// the digest decides which content is used and the tag is kept for display, as Docker does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageReference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl ImageReference {
    /// The registry host, with its port: `docker.io`, `localhost:5000`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path inside the registry: `library/alpine`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, when one was given or implied (`latest` when there is neither tag nor digest).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, when one was given.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The registry and repository without tag or digest: `docker.io/library/alpine`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The shortest form Docker would print: `alpine:latest` for an official Docker Hub image,
    /// `acme/ext:1.0` for another Docker Hub image, the full name elsewhere.
    pub fn familiar(&self) -> String {
        let name = match self.registry.as_str() {
            "docker.io" => self
                .repository
                .strip_prefix("library/")
                .filter(|rest| !rest.contains('/'))
                .unwrap_or(&self.repository)
                .to_string(),
            _ => self.name(),
        };
        self.with_suffix(name)
    }

    fn with_suffix(&self, mut text: String) -> String {
        if let Some(tag) = &self.tag {
            text.push(':');
            text.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            text.push('@');
            text.push_str(digest.as_str());
        }
        text
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.with_suffix(self.name()))
    }
}

impl FromStr for ImageReference {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidReference {
            reference: text.to_string(),
            reason,
        };
        if text.trim() != text {
            return Err(invalid("it has leading or trailing white space".into()));
        }
        // References are ASCII in Docker's grammar and the distribution spec, but oci-spec's
        // tag pattern uses Unicode `\w` and would let `alpine:tä` through.
        if let Some(character) = text.chars().find(|character| !character.is_ascii()) {
            return Err(invalid(format!(
                "`{character}` is not ASCII; names, tags and digests use ASCII letters, digits, \
                 `.`, `_`, `-`, `/` and `:`"
            )));
        }
        let parsed = Reference::from_str(text).map_err(|error| {
            if let Some((_, digest)) = text.split_once('@')
                && digest.parse::<Digest>().is_err()
            {
                return invalid("the digest is not `sha256:` and 64 hex digits".into());
            }
            if Reference::from_str(&lower_case_name(text)).is_ok() {
                return invalid("repository names must be lower-case".into());
            }
            invalid(describe(&error, text))
        })?;
        let digest = match parsed.digest() {
            Some(digest) => Some(digest.parse::<Digest>().map_err(|error| match error {
                Error::InvalidDigest { reason, .. } => invalid(reason),
                other => other,
            })?),
            None => None,
        };

        // oci-spec implies `latest` only when there is neither tag nor digest, as Docker does.
        Ok(ImageReference {
            registry: parsed.registry().to_string(),
            repository: parsed.repository().to_string(),
            tag: parsed.tag().map(str::to_string),
            digest,
        })
    }
}

/// `text` with its name (not its tag or digest) in lower case.
fn lower_case_name(text: &str) -> String {
    let (before_digest, digest) = match text.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (text, None),
    };
    let last_slash = before_digest.rfind('/').unwrap_or(0);
    let (name, tag) = match before_digest[last_slash..].rfind(':') {
        Some(colon) => before_digest.split_at(last_slash + colon),
        None => (before_digest, ""),
    };
    let mut lowered = format!("{}{tag}", name.to_ascii_lowercase());
    if let Some(digest) = digest {
        lowered.push('@');
        lowered.push_str(digest);
    }
    lowered
}

fn describe(error: &ParseError, text: &str) -> String {
    match error {
        ParseError::NameEmpty => "it is empty".into(),
        ParseError::NameTooLong => "the repository name is longer than 255 characters".into(),
        ParseError::DigestInvalidFormat
        | ParseError::DigestInvalidLength
        | ParseError::DigestUnsupported => "the digest is not `sha256:` and 64 hex digits".into(),
        _ if text.contains("://") => "a reference has no `scheme://` prefix".into(),
        _ => "it is not of the form `[REGISTRY/]REPOSITORY[:TAG][@DIGEST]`".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn normalises_like_docker() {
        let with_digest = format!("docker.io/library/alpine@{DIGEST}");
        let tag_and_digest = format!("docker.io/acme/ext:1.0@{DIGEST}");
        let cases: &[(&str, &str, &str, Option<&str>, &str)] = &[
            (
                "alpine",
                "docker.io",
                "library/alpine",
                Some("latest"),
                "alpine:latest",
            ),
            (
                "alpine:3",
                "docker.io",
                "library/alpine",
                Some("3"),
                "alpine:3",
            ),
            (
                "library/alpine",
                "docker.io",
                "library/alpine",
                Some("latest"),
                "alpine:latest",
            ),
            (
                "acme/ext:1.0",
                "docker.io",
                "acme/ext",
                Some("1.0"),
                "acme/ext:1.0",
            ),
            (
                "index.docker.io/acme/ext",
                "docker.io",
                "acme/ext",
                Some("latest"),
                "acme/ext:latest",
            ),
            (
                "localhost/x",
                "localhost",
                "x",
                Some("latest"),
                "localhost/x:latest",
            ),
            (
                "localhost:5000/x",
                "localhost:5000",
                "x",
                Some("latest"),
                "localhost:5000/x:latest",
            ),
            (
                "127.0.0.1:5000/a/b:t",
                "127.0.0.1:5000",
                "a/b",
                Some("t"),
                "127.0.0.1:5000/a/b:t",
            ),
            (
                "ghcr.io/o/r:v1",
                "ghcr.io",
                "o/r",
                Some("v1"),
                "ghcr.io/o/r:v1",
            ),
            // A host needs a dot, a port or to be `localhost`: `foo:5000` alone is a tag.
            (
                "foo:5000",
                "docker.io",
                "library/foo",
                Some("5000"),
                "foo:5000",
            ),
        ];
        for (input, registry, repository, tag, familiar) in cases {
            let reference: ImageReference = input.parse().unwrap();
            assert_eq!(reference.registry(), *registry, "{input}");
            assert_eq!(reference.repository(), *repository, "{input}");
            assert_eq!(reference.tag(), *tag, "{input}");
            assert_eq!(reference.familiar(), *familiar, "{input}");
        }

        let reference: ImageReference = format!("alpine@{DIGEST}").parse().unwrap();
        assert_eq!(reference.tag(), None);
        assert_eq!(reference.digest().unwrap().as_str(), DIGEST);
        assert_eq!(reference.to_string(), with_digest);

        let reference: ImageReference = format!("acme/ext:1.0@{DIGEST}").parse().unwrap();
        assert_eq!(reference.tag(), Some("1.0"));
        assert_eq!(reference.to_string(), tag_and_digest);
    }

    #[test]
    fn rejects_malformed_references() {
        let cases: &[(&str, &str)] = &[
            ("", "it is empty"),
            ("Alpine", "repository names must be lower-case"),
            ("acme/Ext", "repository names must be lower-case"),
            (
                "alpine@sha256:abc",
                "the digest is not `sha256:` and 64 hex digits",
            ),
            ("docker://alpine", "a reference has no `scheme://` prefix"),
            (
                "a b",
                "it is not of the form `[REGISTRY/]REPOSITORY[:TAG][@DIGEST]`",
            ),
            (" alpine", "it has leading or trailing white space"),
            (
                "alpine:tä",
                "`ä` is not ASCII; names, tags and digests use ASCII letters, digits, `.`, `_`, \
                 `-`, `/` and `:`",
            ),
            (
                "exämple.com/x",
                "`ä` is not ASCII; names, tags and digests use ASCII letters, digits, `.`, `_`, \
                 `-`, `/` and `:`",
            ),
            (
                "alpine:",
                "it is not of the form `[REGISTRY/]REPOSITORY[:TAG][@DIGEST]`",
            ),
        ];
        for (input, expected) in cases {
            match input.parse::<ImageReference>() {
                Err(Error::InvalidReference { reason, .. }) => {
                    assert_eq!(reason, *expected, "{input:?}")
                }
                other => panic!("{input:?} gave {other:?}"),
            }
        }
    }
}
