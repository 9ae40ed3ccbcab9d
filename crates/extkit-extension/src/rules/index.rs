//! Rules about the index: which platforms it has, and whether they are what they claim.

use std::collections::BTreeSet;

use extkit_oci::{Platform, PlatformMatcher};

use crate::catalogue::ids;
use crate::input::{EntryKind, ImageFacts};
use crate::report::{Finding, Options};
use crate::rules::marketplace_severity;

/// The platforms Desktop runs on; an extension needs an image for each.
pub(crate) const DESKTOP_ARCHITECTURES: [&str; 2] = ["amd64", "arm64"];

/// Every index-level finding.
pub(crate) fn check(facts: &ImageFacts, options: &Options) -> Vec<Finding> {
    let mut findings = Vec::new();

    if !facts.is_index {
        findings.push(
            Finding::new(
                ids::INDEX_NOT_MULTIPLATFORM,
                None,
                "the image is a single manifest, not a multi-platform index".to_string(),
            )
            .severity(marketplace_severity(options))
            .hint("build with `--platform linux/amd64,linux/arm64` to push an index"),
        );
    }

    let runnable: Vec<Platform> = facts.runnable().map(|(platform, _)| platform).collect();

    for architecture in DESKTOP_ARCHITECTURES {
        let wanted = Platform::new("linux", architecture, None);
        let matcher = PlatformMatcher::new(&wanted);
        // Only the same architecture counts: an engine would pull `386` for `amd64`, but its
        // host binaries would be the wrong ones.
        let present = runnable.iter().any(|platform| {
            matcher.matches(platform) && platform.normalize().architecture == architecture
        });
        if !present {
            findings.push(
                Finding::new(
                    ids::PLATFORM_MISSING,
                    None,
                    format!(
                        "the image has no `{wanted}` variant, so Docker Desktop cannot install \
                         it on {architecture} machines"
                    ),
                )
                .platform(wanted.to_string())
                .hint("build with `--platform linux/amd64,linux/arm64`"),
            );
        }
    }

    for platform in &runnable {
        if platform.normalize().os != "linux" {
            findings.push(
                Finding::new(
                    ids::PLATFORM_NOT_LINUX,
                    None,
                    format!(
                        "the image has a `{platform}` variant, but Docker Desktop runs \
                         extensions as Linux containers only"
                    ),
                )
                .platform(platform.to_string())
                .hint("build for `linux/amd64` and `linux/arm64` only"),
            );
        }
    }

    for entry in &facts.entries {
        let (Some(declared), Some(variant)) = (&entry.platform, &entry.variant) else {
            continue;
        };
        if entry.kind != EntryKind::Runnable {
            continue;
        }
        let declared_normal = declared.normalize();
        let config_normal = variant.config_platform.normalize();
        let same = declared_normal.os == config_normal.os
            && declared_normal.architecture == config_normal.architecture
            && declared_normal.variant == config_normal.variant;
        if !same {
            findings.push(
                Finding::new(
                    ids::CONFIG_PLATFORM_MISMATCH,
                    None,
                    format!(
                        "the index entry `{}` says `{declared}`, but its image config says `{}`",
                        entry.digest, variant.config_platform
                    ),
                )
                .platform(declared.to_string())
                .hint("rebuild the image; a tool rewrote the index or the config by hand"),
            );
        }
    }

    let digests: BTreeSet<&str> = facts
        .entries
        .iter()
        .map(|entry| entry.digest.as_str())
        .collect();
    for entry in &facts.entries {
        if let EntryKind::Attestation {
            describes: Some(described),
        } = &entry.kind
            && !digests.contains(described.as_str())
        {
            findings.push(
                Finding::new(
                    ids::ATTESTATION_DANGLING,
                    None,
                    format!(
                        "the attestation `{}` describes `{described}`, which is not in the index",
                        entry.digest
                    ),
                )
                .hint("rebuild the index, or drop the attestation with its manifest"),
            );
        }
    }

    if let Some(tag) = &facts.tag
        && semver::Version::parse(tag.strip_prefix('v').unwrap_or(tag)).is_err()
    {
        findings.push(
            Finding::new(
                ids::TAG_NOT_SEMVER,
                None,
                format!("the tag `{tag}` is not a semantic version"),
            )
            .severity(marketplace_severity(options))
            .hint(
                "tag releases with a version such as `1.2.3`; the Marketplace installs the \
                greatest one",
            ),
        );
    }

    findings
}
