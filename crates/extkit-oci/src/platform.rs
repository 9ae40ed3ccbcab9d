use std::fmt;
use std::str::FromStr;

use crate::Error;

/// An image platform: operating system, CPU architecture and optional variant.
///
/// A value keeps what it was built from; [`Platform::normalize`] gives containerd's canonical
/// form, in which `x86_64` is `amd64`, `aarch64` and `arm64/v8` are `arm64`, and a bare `arm`
/// is `arm/v7`. Comparisons between platforms should go through a [`PlatformMatcher`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    /// The operating system, such as `linux`.
    pub os: String,
    /// The CPU architecture, such as `amd64`.
    pub architecture: String,
    /// The CPU variant, such as `v7` for `arm`.
    pub variant: Option<String>,
    /// The operating system version, used by Windows images.
    pub os_version: Option<String>,
}

impl Platform {
    /// A platform from its parts, as stored, without normalising.
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Self {
        Platform {
            os: os.to_string(),
            architecture: architecture.to_string(),
            variant: variant.filter(|v| !v.is_empty()).map(str::to_string),
            os_version: None,
        }
    }

    /// `linux/amd64`, the platform of Desktop on Intel and AMD machines.
    pub fn linux_amd64() -> Self {
        Platform::new("linux", "amd64", None)
    }

    /// `linux/arm64`, the platform of Desktop on Apple silicon and other Arm machines.
    pub fn linux_arm64() -> Self {
        Platform::new("linux", "arm64", None)
    }

    /// The platform of an index entry, when the entry has one.
    pub fn from_spec(platform: &oci_spec::image::Platform) -> Self {
        Platform {
            os: platform.os().to_string(),
            architecture: platform.architecture().to_string(),
            variant: platform.variant().clone().filter(|v| !v.is_empty()),
            os_version: platform.os_version().clone().filter(|v| !v.is_empty()),
        }
    }

    /// The canonical form containerd compares: lower case, `x86_64` → `amd64`,
    /// `aarch64` → `arm64`, `arm64/v8` → `arm64`, `arm` → `arm/v7`, `armhf` → `arm/v7`,
    /// `armel` → `arm/v6`, `i386` → `386`, `macos` → `darwin`.
    pub fn normalize(&self) -> Platform {
        let os = match self.os.to_ascii_lowercase().as_str() {
            "macos" => "darwin".to_string(),
            other => other.to_string(),
        };
        let architecture = self.architecture.to_ascii_lowercase();
        let variant = self.variant.as_deref().map(str::to_ascii_lowercase);
        let (architecture, variant) = normalize_architecture(&architecture, variant.as_deref());
        Platform {
            os,
            architecture,
            variant,
            os_version: self.os_version.clone(),
        }
    }

    /// Whether this is an attestation's placeholder platform, `unknown/unknown`.
    pub fn is_unknown(&self) -> bool {
        self.os == "unknown" && self.architecture == "unknown"
    }
}

fn normalize_architecture(architecture: &str, variant: Option<&str>) -> (String, Option<String>) {
    let variant = variant.filter(|v| !v.is_empty());
    let (architecture, variant) = match architecture {
        "i386" | "386" => ("386", None),
        "x86_64" | "x86-64" | "amd64" => match variant {
            None | Some("v1") => ("amd64", None),
            Some(other) => ("amd64", Some(other.to_string())),
        },
        "aarch64" | "arm64" => match variant {
            None | Some("8" | "v8" | "v8.0") => ("arm64", None),
            Some("9" | "9.0" | "v9.0") => ("arm64", Some("v9".to_string())),
            Some(other) => ("arm64", Some(other.to_string())),
        },
        "armhf" => ("arm", Some("v7".to_string())),
        "armel" => ("arm", Some("v6".to_string())),
        "arm" => match variant {
            None | Some("7" | "v7") => ("arm", Some("v7".to_string())),
            Some("5" | "v5") => ("arm", Some("v5".to_string())),
            Some("6" | "v6") => ("arm", Some("v6".to_string())),
            Some("8" | "v8") => ("arm", Some("v8".to_string())),
            Some(other) => ("arm", Some(other.to_string())),
        },
        other => (other, variant.map(str::to_string)),
    };
    (architecture.to_string(), variant)
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let os = if self.os.is_empty() {
            "unknown"
        } else {
            &self.os
        };
        write!(f, "{os}/{}", self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

impl FromStr for Platform {
    type Err = Error;

    /// Parses `os/arch[/variant]` and normalises it.
    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidPlatform {
            platform: text.to_string(),
            reason: reason.to_string(),
        };
        let parts: Vec<&str> = text.split('/').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return Err(invalid(
                "it needs an OS and an architecture, such as `linux/arm64`",
            ));
        }
        let valid_part = |part: &str| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        };
        if !parts.iter().all(|part| valid_part(part)) {
            return Err(invalid(
                "each part may hold only letters, digits, `_`, `.` and `-`",
            ));
        }
        Ok(Platform::new(parts[0], parts[1], parts.get(2).copied()).normalize())
    }
}

/// Chooses, for a wanted platform, the best entry among candidates, with containerd's rules.
///
/// An exact match (after normalising both sides) comes first; then the compatible platforms in
/// order of preference: lower `amd64` micro-architecture levels and then `386` for `amd64`, lower
/// `arm64` versions and then 32-bit `arm` for `arm64`, lower `arm` variants down to `v5` for
/// `arm`. Among candidates of the same rank the first one wins, as the OCI index rules ask.
#[derive(Clone, Debug)]
pub struct PlatformMatcher {
    wanted: Platform,
}

impl PlatformMatcher {
    /// A matcher for `wanted`, which is normalised first.
    pub fn new(wanted: &Platform) -> Self {
        PlatformMatcher {
            wanted: wanted.normalize(),
        }
    }

    /// The wanted platform, normalised.
    pub fn wanted(&self) -> &Platform {
        &self.wanted
    }

    /// How well `candidate` suits the wanted platform: 0 for an exact match, higher for a less
    /// preferred but compatible one, `None` when it cannot run there.
    pub fn rank(&self, candidate: &Platform) -> Option<u32> {
        let candidate = candidate.normalize();
        if candidate.os != self.wanted.os {
            return None;
        }
        let wanted_variant = self.wanted.variant.as_deref();
        let candidate_variant = candidate.variant.as_deref();
        match (
            self.wanted.architecture.as_str(),
            candidate.architecture.as_str(),
        ) {
            ("amd64", "amd64") => {
                let wanted = amd64_level(wanted_variant)?;
                let found = amd64_level(candidate_variant)?;
                (found <= wanted).then(|| wanted - found)
            }
            ("amd64", "386") => Some(10),
            ("arm64", "arm64") => {
                let wanted = arm64_version(wanted_variant)?;
                let found = arm64_version(candidate_variant)?;
                (found <= wanted).then(|| wanted - found)
            }
            ("arm64", "arm") => {
                let found = arm_version(candidate_variant)?;
                (found <= 8).then(|| 1000 + (8 - found))
            }
            ("arm", "arm") => {
                let wanted = arm_version(wanted_variant)?;
                let found = arm_version(candidate_variant)?;
                (found <= wanted && found >= 5).then(|| wanted - found)
            }
            (wanted, found) if wanted == found => {
                (wanted_variant == candidate_variant).then_some(0)
            }
            _ => None,
        }
    }

    /// Whether `candidate` can run on the wanted platform.
    pub fn matches(&self, candidate: &Platform) -> bool {
        self.rank(candidate).is_some()
    }

    /// The index of the best candidate, or `None` when none can run on the wanted platform.
    pub fn choose<'a>(&self, candidates: impl IntoIterator<Item = &'a Platform>) -> Option<usize> {
        let mut best: Option<(u32, usize)> = None;
        for (index, candidate) in candidates.into_iter().enumerate() {
            let Some(rank) = self.rank(candidate) else {
                continue;
            };
            // Strictly better only: on a tie the earlier entry stays.
            if best.is_none_or(|(best_rank, _)| rank < best_rank) {
                best = Some((rank, index));
            }
        }
        best.map(|(_, index)| index)
    }
}

/// `amd64` micro-architecture level: none is v1.
fn amd64_level(variant: Option<&str>) -> Option<u32> {
    match variant {
        None => Some(1),
        Some(v) => v
            .strip_prefix('v')?
            .parse()
            .ok()
            .filter(|level| (1..=4).contains(level)),
    }
}

/// `arm64` version as `major * 100 + minor`: none is v8.0.
fn arm64_version(variant: Option<&str>) -> Option<u32> {
    let Some(variant) = variant else {
        return Some(800);
    };
    let version = variant.strip_prefix('v')?;
    let (major, minor) = version.split_once('.').unwrap_or((version, "0"));
    let major: u32 = major.parse().ok()?;
    let minor: u32 = minor.parse().ok()?;
    (minor < 100).then_some(major * 100 + minor)
}

/// `arm` variant number: none is v7.
fn arm_version(variant: Option<&str>) -> Option<u32> {
    match variant {
        None => Some(7),
        Some(v) => v.strip_prefix('v')?.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(text: &str) -> Platform {
        text.parse().unwrap()
    }

    #[test]
    fn parses_and_normalises_like_containerd() {
        let cases = [
            ("linux/amd64", "linux/amd64"),
            ("linux/x86_64", "linux/amd64"),
            ("linux/x86-64", "linux/amd64"),
            ("linux/amd64/v1", "linux/amd64"),
            ("linux/amd64/v3", "linux/amd64/v3"),
            ("linux/aarch64", "linux/arm64"),
            ("linux/arm64/v8", "linux/arm64"),
            ("linux/arm64/8", "linux/arm64"),
            ("linux/arm64/v9.0", "linux/arm64/v9"),
            ("linux/armhf", "linux/arm/v7"),
            ("linux/armel", "linux/arm/v6"),
            ("linux/arm", "linux/arm/v7"),
            ("linux/arm/6", "linux/arm/v6"),
            ("linux/i386", "linux/386"),
            ("Linux/AMD64", "linux/amd64"),
            ("macos/arm64", "darwin/arm64"),
            ("windows/amd64", "windows/amd64"),
            ("linux/riscv64", "linux/riscv64"),
            ("linux/sparc64", "linux/sparc64"),
        ];
        for (input, expected) in cases {
            assert_eq!(platform(input).to_string(), expected, "{input}");
        }
    }

    #[test]
    fn rejects_malformed_platforms() {
        for bad in [
            "",
            "linux",
            "linux/",
            "/amd64",
            "linux/amd64/v8/x",
            "linux/am d64",
            "linux//v7",
        ] {
            assert!(
                bad.parse::<Platform>().is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn chooses_like_containerd() {
        // (wanted, candidates in index order, expected index)
        let cases: &[(&str, &[&str], Option<usize>)] = &[
            ("linux/amd64", &["linux/arm64", "linux/amd64"], Some(1)),
            ("linux/arm64", &["linux/amd64", "linux/arm64/v8"], Some(1)),
            ("linux/arm64/v8", &["linux/arm64"], Some(0)),
            ("linux/arm64", &["linux/amd64"], None),
            ("linux/arm64", &["linux/arm/v7", "linux/arm64"], Some(1)),
            ("linux/arm64", &["linux/arm/v6", "linux/arm/v7"], Some(1)),
            ("linux/arm64", &["unknown/unknown"], None),
            (
                "linux/arm64/v8.2",
                &["linux/arm64/v8.1", "linux/arm64/v8.2"],
                Some(1),
            ),
            ("linux/arm64/v8", &["linux/arm64/v8.2"], None),
            (
                "linux/amd64",
                &["linux/386", "linux/amd64/v2", "linux/amd64"],
                Some(2),
            ),
            (
                "linux/amd64/v3",
                &["linux/amd64", "linux/amd64/v2"],
                Some(1),
            ),
            ("linux/amd64", &["linux/386"], Some(0)),
            (
                "linux/arm/v7",
                &["linux/arm/v5", "linux/arm/v6", "linux/arm/v8"],
                Some(1),
            ),
            ("linux/arm", &["linux/armhf"], Some(0)),
            ("linux/amd64", &["windows/amd64"], None),
            ("windows/amd64", &["linux/amd64", "windows/amd64"], Some(1)),
            // A tie goes to the first entry.
            ("linux/amd64", &["linux/x86_64", "linux/amd64"], Some(0)),
            ("linux/arm64", &["linux/aarch64", "linux/arm64/v8"], Some(0)),
        ];
        for (wanted, candidates, expected) in cases {
            let matcher = PlatformMatcher::new(&platform(wanted));
            let parsed: Vec<Platform> = candidates
                .iter()
                .map(|c| match c.split('/').collect::<Vec<_>>()[..] {
                    [os, arch] => Platform::new(os, arch, None),
                    [os, arch, variant] => Platform::new(os, arch, Some(variant)),
                    _ => unreachable!(),
                })
                .collect();
            assert_eq!(
                matcher.choose(&parsed),
                *expected,
                "{wanted} among {candidates:?}"
            );
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsing_never_panics_and_normalising_is_idempotent(text in "[a-zA-Z0-9_./-]{0,30}") {
            if let Ok(platform) = text.parse::<Platform>() {
                let again: Platform = platform.to_string().parse().unwrap();
                prop_assert_eq!(again, platform);
            }
        }

        #[test]
        fn a_platform_matches_itself_exactly(
            os in "(linux|windows|darwin)",
            arch in "(amd64|arm64|arm|386|x86_64|aarch64|riscv64)",
            variant in proptest::option::of("(v5|v6|v7|v8|v2)"),
        ) {
            let platform = Platform::new(&os, &arch, variant.as_deref());
            let matcher = PlatformMatcher::new(&platform);
            let rank = matcher.rank(&platform);
            if rank.is_some() {
                prop_assert_eq!(rank, Some(0));
            }
        }
    }
}
