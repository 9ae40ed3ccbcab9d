use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use oci_spec::distribution::ParseError;
use regex::Regex;

use crate::{Digest, Error};

/// Docker's reference grammar (distribution/reference), as oci-spec 0.10 writes it, except
/// that the tag is ASCII (`(?-u:\w)`), as the distribution spec and Docker define it.
///
/// oci-spec's own pattern has a Unicode `\w` in the tag, repeated up to 128 times: compiling it
/// takes about 35 ms, most of a re-push to a local registry; this one takes well under one. The
/// test `agrees_with_oci_spec` checks that both parse every ASCII reference alike.
/// TODO(registry): parse with oci-spec again once its tag pattern is ASCII upstream.
const GRAMMAR: &str = concat!(
    r"^((?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])",
    r"(?:(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+)?(?::[0-9]+)?/)?",
    r"[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?",
    r"(?:(?:/[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?)+)?)",
    r"(?::((?-u:\w)(?-u:[\w.-]){0,127}))?",
    r"(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}))?$",
);

static PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(GRAMMAR).expect("the reference grammar is a valid pattern"));

/// The parts of a reference as oci-spec's `Reference` gives them.
#[derive(Debug, PartialEq, Eq)]
struct Parts {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

/// Parses `text` as oci-spec's `Reference::from_str` does, for ASCII text.
fn parse_parts(text: &str) -> Result<Parts, ParseError> {
    if text.is_empty() {
        return Err(ParseError::NameEmpty);
    }
    let captures = PATTERN
        .captures(text)
        .ok_or(ParseError::ReferenceInvalidFormat)?;
    let name = &captures[1];
    let digest = captures.get(3).map(|found| found.as_str().to_string());
    let tag = match (captures.get(2), &digest) {
        (Some(tag), _) => Some(tag.as_str().to_string()),
        (None, None) => Some("latest".to_string()),
        (None, Some(_)) => None,
    };
    let (registry, repository) = split_registry(name);
    if repository.len() > 255 {
        return Err(ParseError::NameTooLong);
    }
    if let Some(digest) = &digest {
        let wanted = match digest.split_once(':') {
            Some(("sha256", hex)) => (64, hex),
            Some(("sha384", hex)) => (96, hex),
            Some(("sha512", hex)) => (128, hex),
            Some(_) => return Err(ParseError::DigestUnsupported),
            None => return Err(ParseError::DigestInvalidFormat),
        };
        if wanted.1.len() != wanted.0 {
            return Err(ParseError::DigestInvalidLength);
        }
    }
    Ok(Parts {
        registry,
        repository,
        tag,
        digest,
    })
}

/// Docker's rule: the first component is a registry when it has a `.` or a `:` or is
/// `localhost`; otherwise the name is on Docker Hub, under `library/` when it has no `/`.
fn split_registry(name: &str) -> (String, String) {
    let (mut registry, mut repository) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_string(), rest.to_string())
        }
        _ => ("docker.io".to_string(), name.to_string()),
    };
    if registry == "index.docker.io" {
        registry = "docker.io".to_string();
    }
    if registry == "docker.io" && !repository.contains('/') {
        repository = format!("library/{repository}");
    }
    (registry, repository)
}

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
        let parsed = parse_parts(text).map_err(|error| {
            if let Some((_, digest)) = text.split_once('@')
                && digest.parse::<Digest>().is_err()
            {
                return invalid("the digest is not `sha256:` and 64 hex digits".into());
            }
            if parse_parts(&lower_case_name(text)).is_ok() {
                return invalid("repository names must be lower-case".into());
            }
            invalid(describe(&error, text))
        })?;
        let digest = match &parsed.digest {
            Some(digest) => Some(digest.parse::<Digest>().map_err(|error| match error {
                Error::InvalidDigest { reason, .. } => invalid(reason),
                other => other,
            })?),
            None => None,
        };

        // `latest` is implied only when there is neither tag nor digest, as Docker does.
        Ok(ImageReference {
            registry: parsed.registry,
            repository: parsed.repository,
            tag: parsed.tag,
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
    use proptest::prelude::*;

    /// What oci-spec, our parser of record, makes of `text`.
    fn oci_spec_parts(text: &str) -> Result<Parts, ParseError> {
        let parsed = oci_spec::distribution::Reference::from_str(text)?;
        Ok(Parts {
            registry: parsed.registry().to_string(),
            repository: parsed.repository().to_string(),
            tag: parsed.tag().map(str::to_string),
            digest: parsed.digest().map(str::to_string),
        })
    }

    #[test]
    fn agrees_with_oci_spec_on_edge_cases() {
        let hex = |length: usize| "a1".repeat(length / 2);
        let cases = [
            String::new(),
            "alpine".into(),
            "Foo/bar".into(),
            "foo/Bar".into(),
            "foo__bar".into(),
            "foo___bar".into(),
            "a--b.c_d".into(),
            "-a".into(),
            "a-".into(),
            "localhost".into(),
            "localhost/x".into(),
            "localhost:5000/x:1".into(),
            "Example.COM:443/a/b".into(),
            "index.docker.io/x".into(),
            "index.docker.io/a/x".into(),
            "docker.io/x".into(),
            "a:b:c".into(),
            "x:".into(),
            "x:.".into(),
            "x:_a".into(),
            "x:-a".into(),
            format!("x:{}", "t".repeat(128)),
            format!("x:{}", "t".repeat(129)),
            format!("x/{}", "y".repeat(260)),
            format!("x@sha256:{}", hex(64)),
            format!("x:1@sha256:{}", hex(64)),
            format!("x@sha256:{}", hex(62)),
            format!("x@sha384:{}", hex(96)),
            format!("x@sha512:{}", hex(128)),
            format!("x@md5:{}", hex(32)),
            format!("x@sha256:{}", hex(30)),
            format!("x@SHA256:{}", hex(64)),
            "x@".into(),
            "a/b/c/d/e:f".into(),
        ];
        for case in cases {
            assert_eq!(parse_parts(&case), oci_spec_parts(&case), "{case:?}");
        }
    }

    proptest! {
        #[test]
        fn agrees_with_oci_spec_on_any_ascii(text in "[a-zA-Z0-9._:/@ -]{0,40}") {
            prop_assert_eq!(parse_parts(&text), oci_spec_parts(&text));
        }

        #[test]
        fn agrees_with_oci_spec_on_reference_shapes(
            text in concat!(
                "([a-zA-Z0-9.-]{1,10}(:[0-9]{0,5})?/)?[a-zA-Z0-9._-]{1,12}(/[a-z0-9._-]{0,8}){0,2}",
                "(:[A-Za-z0-9_.-]{0,130})?(@(sha256|sha384|sha512|md5|Sha256):[0-9a-fA-F]{30,130})?",
            )
        ) {
            prop_assert_eq!(parse_parts(&text), oci_spec_parts(&text));
        }
    }

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
