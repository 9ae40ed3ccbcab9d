//! Hand-made facts: a valid two-platform extension, and small helpers to break it one way at
//! a time.

use std::collections::BTreeMap;

use extkit_binfmt::{BinaryInfo, inspect_bytes};
use extkit_extension::{
    EntryFacts, EntryKind, FileFacts, FileKind, Finding, ImageFacts, Options, Report, Severity,
    VariantFacts, validate,
};
use extkit_oci::Platform;

pub const DARWIN_AMD64: &[u8] =
    include_bytes!("../../../extkit-binfmt/tests/fixtures/hello-darwin-amd64");
pub const DARWIN_ARM64: &[u8] =
    include_bytes!("../../../extkit-binfmt/tests/fixtures/hello-darwin-arm64");
pub const DARWIN_UNIVERSAL: &[u8] =
    include_bytes!("../../../extkit-binfmt/tests/fixtures/hello-darwin-universal");
pub const LINUX_AMD64: &[u8] =
    include_bytes!("../../../extkit-binfmt/tests/fixtures/hello-linux-amd64");
pub const LINUX_ARM64: &[u8] =
    include_bytes!("../../../extkit-binfmt/tests/fixtures/hello-linux-arm64");
pub const LINUX_386: &[u8] =
    include_bytes!("../../../extkit-binfmt/tests/fixtures/hello-linux-386");
pub const WINDOWS_AMD64: &[u8] =
    include_bytes!("../../../extkit-binfmt/tests/fixtures/hello-windows-amd64.exe");
pub const WINDOWS_ARM64: &[u8] =
    include_bytes!("../../../extkit-binfmt/tests/fixtures/hello-windows-arm64.exe");
pub const SCRIPT: &[u8] = include_bytes!("../../../extkit-binfmt/tests/fixtures/hello.sh");
pub const CMD: &[u8] = include_bytes!("../../../extkit-binfmt/tests/fixtures/hello.cmd");

pub const AMD64: &str = "linux/amd64";
pub const ARM64: &str = "linux/arm64";

/// The metadata.json of the valid extension: UI, backend and one binary per OS.
pub const METADATA: &str = r#"{
  "icon": "docker.svg",
  "vm": { "composefile": "docker-compose.yaml", "exposes": { "socket": "backend.sock" } },
  "ui": {
    "dashboard-tab": {
      "title": "Hello",
      "root": "/ui",
      "src": "index.html",
      "backend": { "socket": "backend.sock" }
    }
  },
  "host": {
    "binaries": [
      {
        "darwin": [ { "path": "/darwin/hello" } ],
        "windows": [ { "path": "/windows/hello.exe" } ],
        "linux": [ { "path": "/linux/hello" } ]
      }
    ]
  }
}"#;

/// The compose file of the valid extension, after the SDK samples.
pub const COMPOSE: &str = "services:
  hello:
    image: ${DESKTOP_PLUGIN_IMAGE}
    volumes:
      - /var/run/docker.sock.raw:/var/run/docker.sock
";

/// The labels of the valid extension.
pub fn labels() -> BTreeMap<String, String> {
    [
        ("org.opencontainers.image.title", "Hello"),
        ("org.opencontainers.image.description", "Says hello"),
        ("org.opencontainers.image.vendor", "Example Inc."),
        ("com.docker.desktop.extension.api.version", ">= 0.3.0"),
        (
            "com.docker.desktop.extension.icon",
            "https://example.org/hello/icon.svg",
        ),
        (
            "com.docker.extension.screenshots",
            r#"[{"alt": "the hello tab", "url": "https://example.org/hello/1.png"}]"#,
        ),
        (
            "com.docker.extension.detailed-description",
            "<p>Says hello.</p>",
        ),
        ("com.docker.extension.publisher-url", "https://example.org"),
        (
            "com.docker.extension.additional-urls",
            r#"[{"title": "Documentation", "url": "https://example.org/hello/docs"}]"#,
        ),
        ("com.docker.extension.changelog", "First release"),
        ("com.docker.extension.categories", "utility-tools"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_string(), value.to_string()))
    .collect()
}

/// A regular file with mode 0644 and nothing read.
pub fn plain_file() -> FileFacts {
    FileFacts {
        kind: FileKind::File,
        mode: 0o644,
        size: 10,
        content: None,
        binary: None,
        via_symlink: None,
    }
}

/// A folder.
pub fn folder() -> FileFacts {
    FileFacts {
        kind: FileKind::Directory,
        mode: 0o755,
        size: 0,
        content: None,
        binary: None,
        via_symlink: None,
    }
}

/// A regular file read whole.
pub fn text_file(content: &str) -> FileFacts {
    FileFacts {
        content: Some(content.as_bytes().to_vec()),
        size: content.len() as u64,
        ..plain_file()
    }
}

/// An executable (mode 0755) inspected with extkit-binfmt.
pub fn executable(bytes: &[u8], name: &str) -> FileFacts {
    FileFacts {
        mode: 0o755,
        size: bytes.len() as u64,
        binary: Some(inspect(bytes, name)),
        ..plain_file()
    }
}

pub fn inspect(bytes: &[u8], name: &str) -> BinaryInfo {
    inspect_bytes(bytes, Some(name))
}

/// What one platform's image of the valid extension holds.
pub fn variant(architecture: &str) -> VariantFacts {
    let (darwin, linux, windows) = match architecture {
        "amd64" => (DARWIN_AMD64, LINUX_AMD64, WINDOWS_AMD64),
        _ => (DARWIN_ARM64, LINUX_ARM64, WINDOWS_ARM64),
    };
    let files = [
        ("/docker.svg", plain_file()),
        ("/ui", folder()),
        ("/ui/index.html", plain_file()),
        ("/docker-compose.yaml", text_file(COMPOSE)),
        ("/darwin/hello", executable(darwin, "hello")),
        ("/linux/hello", executable(linux, "hello")),
        ("/windows/hello.exe", executable(windows, "hello.exe")),
    ]
    .into_iter()
    .map(|(path, file)| (path.to_string(), file))
    .collect();
    VariantFacts {
        config_platform: Platform::new("linux", architecture, None),
        labels: labels(),
        has_command: true,
        metadata: Some(text_file(METADATA)),
        files,
    }
}

/// An index entry for a runnable platform.
pub fn runnable(digest: &str, platform: Platform, variant: VariantFacts) -> EntryFacts {
    EntryFacts {
        digest: digest.to_string(),
        platform: Some(platform),
        kind: EntryKind::Runnable,
        variant: Some(variant),
    }
}

/// An attestation entry, as BuildKit appends them.
pub fn attestation(digest: &str, describes: &str) -> EntryFacts {
    EntryFacts {
        digest: digest.to_string(),
        platform: Some(Platform::new("unknown", "unknown", None)),
        kind: EntryKind::Attestation {
            describes: Some(describes.to_string()),
        },
        variant: None,
    }
}

pub const AMD64_DIGEST: &str =
    "sha256:1111111111111111111111111111111111111111111111111111111111111111";
pub const ARM64_DIGEST: &str =
    "sha256:2222222222222222222222222222222222222222222222222222222222222222";

/// A valid two-platform extension with BuildKit attestations, tagged `1.0.0`.
pub fn valid_image() -> ImageFacts {
    ImageFacts {
        reference: "oci:build:1.0.0".to_string(),
        digest: Some(
            "sha256:0000000000000000000000000000000000000000000000000000000000000000".to_string(),
        ),
        tag: Some("1.0.0".to_string()),
        is_index: true,
        entries: vec![
            runnable(AMD64_DIGEST, Platform::linux_amd64(), variant("amd64")),
            runnable(ARM64_DIGEST, Platform::linux_arm64(), variant("arm64")),
            attestation(
                "sha256:3333333333333333333333333333333333333333333333333333333333333333",
                AMD64_DIGEST,
            ),
            attestation(
                "sha256:4444444444444444444444444444444444444444444444444444444444444444",
                ARM64_DIGEST,
            ),
        ],
    }
}

/// The facts read from the image for `platform` (`linux/amd64` or `linux/arm64`).
pub fn variant_mut<'a>(facts: &'a mut ImageFacts, platform: &str) -> &'a mut VariantFacts {
    facts
        .entries
        .iter_mut()
        .find(|entry| entry.platform.as_ref().map(ToString::to_string).as_deref() == Some(platform))
        .and_then(|entry| entry.variant.as_mut())
        .expect("the valid image has that platform")
}

/// Applies `change` to every platform's facts.
pub fn each_variant(facts: &mut ImageFacts, mut change: impl FnMut(&mut VariantFacts)) {
    for entry in &mut facts.entries {
        if let Some(variant) = entry.variant.as_mut() {
            change(variant);
        }
    }
}

/// Sets metadata.json in every platform.
pub fn set_metadata(facts: &mut ImageFacts, json: &str) {
    each_variant(facts, |variant| variant.metadata = Some(text_file(json)));
}

/// Sets a label in every platform.
pub fn set_label(facts: &mut ImageFacts, key: &str, value: &str) {
    each_variant(facts, |variant| {
        variant.labels.insert(key.to_string(), value.to_string());
    });
}

/// Removes a label from every platform.
pub fn remove_label(facts: &mut ImageFacts, key: &str) {
    each_variant(facts, |variant| {
        variant.labels.remove(key);
    });
}

pub fn check(facts: &ImageFacts) -> Report {
    validate(facts, &Options::default())
}

pub fn check_marketplace(facts: &ImageFacts) -> Report {
    validate(
        facts,
        &Options {
            marketplace: true,
            sdk_version: None,
        },
    )
}

/// A finding reduced to what most tests compare: rule, severity, platform, path.
pub type Summary = (&'static str, Severity, Option<String>, Option<String>);

pub fn summary(finding: &Finding) -> Summary {
    (
        finding.rule,
        finding.severity,
        finding.platform.clone(),
        finding.path.clone(),
    )
}

/// Every finding of the report, summarised.
pub fn summaries(report: &Report) -> Vec<Summary> {
    report.findings.iter().map(summary).collect()
}

/// The findings of one rule, summarised.
pub fn summaries_of(report: &Report, rule: &str) -> Vec<Summary> {
    report
        .findings
        .iter()
        .filter(|finding| finding.rule == rule)
        .map(summary)
        .collect()
}

/// The findings of one rule.
pub fn findings_of<'a>(report: &'a Report, rule: &str) -> Vec<&'a Finding> {
    report
        .findings
        .iter()
        .filter(|finding| finding.rule == rule)
        .collect()
}

/// A summary from literals.
pub fn expect(
    rule: &'static str,
    severity: Severity,
    platform: Option<&str>,
    path: Option<&str>,
) -> Summary {
    (
        rule,
        severity,
        platform.map(str::to_string),
        path.map(str::to_string),
    )
}

/// Asserts the valid image itself has no finding of `rule`, so each "triggers" test has its
/// "does not trigger" twin for free.
pub fn assert_baseline_clean(rule: &str) {
    let report = check(&valid_image());
    assert_eq!(summaries_of(&report, rule), Vec::<Summary>::new());
    assert!(report.ok);
}
