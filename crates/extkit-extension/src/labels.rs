//! The image labels Desktop reads, and how their values are written.

/// A label value starting with this is a placeholder that `extkit init` wrote and the author
/// has not replaced yet, such as `TODO: describe your extension`.
pub const PLACEHOLDER_PREFIX: &str = "TODO:";

/// URLs starting with this are placeholders too, such as
/// `https://example.com/TODO/screenshot.png`; `http://` and any case are treated alike.
pub const PLACEHOLDER_URL: &str = "https://example.com/TODO";

/// `org.opencontainers.image.title`.
pub(crate) const TITLE: &str = "org.opencontainers.image.title";
/// `org.opencontainers.image.description`.
pub(crate) const DESCRIPTION: &str = "org.opencontainers.image.description";
/// `org.opencontainers.image.vendor`.
pub(crate) const VENDOR: &str = "org.opencontainers.image.vendor";
/// `com.docker.desktop.extension.api.version`.
pub(crate) const API_VERSION: &str = "com.docker.desktop.extension.api.version";
/// `com.docker.desktop.extension.icon`.
pub(crate) const ICON: &str = "com.docker.desktop.extension.icon";
/// `com.docker.extension.screenshots`.
pub(crate) const SCREENSHOTS: &str = "com.docker.extension.screenshots";
/// `com.docker.extension.detailed-description`.
pub(crate) const DETAILED_DESCRIPTION: &str = "com.docker.extension.detailed-description";
/// `com.docker.extension.publisher-url`.
pub(crate) const PUBLISHER_URL: &str = "com.docker.extension.publisher-url";
/// `com.docker.extension.additional-urls`.
pub(crate) const ADDITIONAL_URLS: &str = "com.docker.extension.additional-urls";
/// `com.docker.extension.changelog`.
pub(crate) const CHANGELOG: &str = "com.docker.extension.changelog";
/// `com.docker.extension.account-info`.
pub(crate) const ACCOUNT_INFO: &str = "com.docker.extension.account-info";
/// `com.docker.extension.categories`.
pub(crate) const CATEGORIES: &str = "com.docker.extension.categories";

/// The labels Desktop requires, in the order its documentation lists them.
pub(crate) const REQUIRED: &[&str] = &[
    TITLE,
    DESCRIPTION,
    VENDOR,
    API_VERSION,
    ICON,
    SCREENSHOTS,
    DETAILED_DESCRIPTION,
    PUBLISHER_URL,
    CHANGELOG,
];

/// Every label in the extension namespaces that Desktop reads.
pub(crate) const KNOWN_EXTENSION_LABELS: &[&str] = &[
    API_VERSION,
    ICON,
    SCREENSHOTS,
    DETAILED_DESCRIPTION,
    PUBLISHER_URL,
    ADDITIONAL_URLS,
    CHANGELOG,
    ACCOUNT_INFO,
    CATEGORIES,
];

/// The prefixes of the label namespaces that belong to extensions.
pub(crate) const EXTENSION_NAMESPACES: &[&str] =
    &["com.docker.desktop.extension.", "com.docker.extension."];

/// The Marketplace's categories.
pub(crate) const ALLOWED_CATEGORIES: &[&str] = &[
    "ci-cd",
    "container-orchestration",
    "cloud-deployment",
    "cloud-development",
    "database",
    "kubernetes",
    "networking",
    "image-registry",
    "security",
    "testing-tools",
    "utility-tools",
    "volumes",
];

/// Whether a label value is a placeholder left by `extkit init`.
pub(crate) fn is_placeholder(value: &str) -> bool {
    if value.trim_start().starts_with(PLACEHOLDER_PREFIX) {
        return true;
    }
    // JSON labels (screenshots, additional URLs) hold URLs inside, so look anywhere.
    let lower = value.to_ascii_lowercase();
    let placeholder_host = PLACEHOLDER_URL
        .trim_start_matches("https://")
        .to_ascii_lowercase();
    ["https://", "http://"]
        .iter()
        .any(|scheme| lower.contains(&format!("{scheme}{placeholder_host}")))
}

/// An absolute `http` or `https` URL, split as far as the rules need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HttpUrl<'a> {
    /// The path, without query or fragment; may be empty.
    pub path: &'a str,
}

/// `text` as an absolute `http(s)` URL with a host, or `None`.
pub(crate) fn parse_http_url(text: &str) -> Option<HttpUrl<'_>> {
    let text = text.trim();
    if text.chars().any(char::is_whitespace) {
        return None;
    }
    let scheme_end = text.find("://")?;
    let scheme = &text[..scheme_end];
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let rest = &text[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let host = authority.rsplit('@').next().unwrap_or(authority);
    if host.is_empty() || host.starts_with(':') {
        return None;
    }
    let after = &rest[authority_end..];
    let path_end = after.find(['?', '#']).unwrap_or(after.len());
    Some(HttpUrl {
        path: &after[..path_end],
    })
}

/// Why an `api.version` value is not a version or constraint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConstraintError {
    /// The part that did not parse.
    pub part: String,
}

/// The `api.version` label as a requirement: comma-separated comparators (all must hold),
/// alternatives separated by `||`. A bare version means exactly that version, as Docker's
/// documentation says, unlike Cargo's `semver`, which would read it as `^`.
pub(crate) fn parse_api_version(value: &str) -> Result<Vec<semver::VersionReq>, ConstraintError> {
    value
        .split("||")
        .map(|alternative| {
            let comparators: Vec<String> = alternative
                .split(',')
                .map(|part| {
                    let part = part.trim();
                    let bare = part.starts_with(|c: char| c.is_ascii_digit() || c == 'v');
                    let part = if bare {
                        format!("={part}")
                    } else {
                        part.to_string()
                    };
                    strip_v(&part)
                })
                .collect();
            let joined = comparators.join(", ");
            semver::VersionReq::parse(&joined).map_err(|_| ConstraintError {
                part: alternative.trim().to_string(),
            })
        })
        .collect()
}

/// Removes a `v` between an operator and its version (`>= v0.3.0`), which Go tools accept.
fn strip_v(part: &str) -> String {
    let operator_end = part
        .find(|c: char| !matches!(c, '=' | '<' | '>' | '~' | '^' | ' '))
        .unwrap_or(part.len());
    let (operator, version) = part.split_at(operator_end);
    format!("{operator}{}", version.strip_prefix('v').unwrap_or(version))
}

/// A version such as `0.3.4` or `v0.3.4`, missing parts read as zero (`0.3` is `0.3.0`).
pub(crate) fn parse_version(text: &str) -> Option<semver::Version> {
    let text = text.trim();
    let text = text.strip_prefix('v').unwrap_or(text);
    if let Ok(version) = semver::Version::parse(text) {
        return Some(version);
    }
    let dots = text.matches('.').count();
    let padded = match dots {
        0 => format!("{text}.0.0"),
        1 => format!("{text}.0"),
        _ => return None,
    };
    semver::Version::parse(&padded).ok()
}

/// The number of single-character edits between two strings.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, a_char) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, b_char) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != *b_char);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// The known extension label an unknown one was probably meant to be. Names are compared
/// after their namespace, so `com.docker.extension.icon` finds
/// `com.docker.desktop.extension.icon`.
pub(crate) fn closest_known_label(key: &str) -> Option<&'static str> {
    let name = strip_namespace(key);
    KNOWN_EXTENSION_LABELS
        .iter()
        .map(|known| (edit_distance(name, strip_namespace(known)), *known))
        .filter(|(distance, known)| *distance <= (strip_namespace(known).len() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, known)| known)
}

fn strip_namespace(key: &str) -> &str {
    EXTENSION_NAMESPACES
        .iter()
        .find_map(|namespace| key.strip_prefix(namespace))
        .unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_versions_are_exact() {
        let requirement = parse_api_version("0.3.0").unwrap();
        assert!(requirement[0].matches(&parse_version("0.3.0").unwrap()));
        assert!(!requirement[0].matches(&parse_version("0.3.3").unwrap()));
    }

    #[test]
    fn constraints_are_ranges() {
        let requirement = parse_api_version(">= 1.4.7, < 2.0").unwrap();
        assert!(requirement[0].matches(&parse_version("1.9.0").unwrap()));
        assert!(!requirement[0].matches(&parse_version("2.0.0").unwrap()));
        assert!(parse_api_version(">= v0.2.3").is_ok());
        assert!(parse_api_version(">= 0.2.3 || 1.0.0").unwrap().len() == 2);
    }

    #[test]
    fn nonsense_is_not_a_constraint() {
        assert_eq!(
            parse_api_version(">= 0.3.0, latest"),
            Err(ConstraintError {
                part: ">= 0.3.0, latest".to_string()
            })
        );
        assert!(parse_api_version("").is_err());
    }

    #[test]
    fn urls_need_a_scheme_and_a_host() {
        assert_eq!(
            parse_http_url("https://example.org/a/icon.svg?x=1"),
            Some(HttpUrl {
                path: "/a/icon.svg"
            })
        );
        assert_eq!(
            parse_http_url("HTTP://example.org"),
            Some(HttpUrl { path: "" })
        );
        assert_eq!(parse_http_url("example.org/icon.svg"), None);
        assert_eq!(parse_http_url("ftp://example.org/icon.svg"), None);
        assert_eq!(parse_http_url("https:///icon.svg"), None);
        assert_eq!(parse_http_url("https://exa mple.org"), None);
    }

    #[test]
    fn placeholders_are_recognised() {
        assert!(is_placeholder("TODO: describe your extension"));
        assert!(is_placeholder(
            r#"[{"alt":"a","url":"https://example.com/TODO/screenshot.png"}]"#
        ));
        assert!(is_placeholder("http://EXAMPLE.com/todo"));
        assert!(!is_placeholder("Shows TODO: lists"));
        assert!(!is_placeholder("https://example.com/docs"));
    }

    #[test]
    fn near_misses_find_their_label() {
        assert_eq!(
            closest_known_label("com.docker.extension.category"),
            Some(CATEGORIES)
        );
        assert_eq!(closest_known_label("com.docker.extension.icon"), Some(ICON));
        assert_eq!(
            closest_known_label("com.docker.extension.publisher_url"),
            Some(PUBLISHER_URL)
        );
        assert_eq!(closest_known_label("com.docker.extension.foo"), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
