use extkit_extension::Severity::{Error, Warning};
use extkit_extension::{EntryFacts, EntryKind};
use extkit_oci::Platform;

use crate::support::*;

#[test]
fn a_single_manifest_is_marketplace_only() {
    assert_baseline_clean("index-not-multiplatform");
    let mut facts = valid_image();
    facts.is_index = false;
    facts.entries = vec![EntryFacts {
        digest: AMD64_DIGEST.to_string(),
        platform: None,
        kind: EntryKind::Runnable,
        variant: Some(variant("amd64")),
    }];

    let report = check(&facts);
    assert_eq!(
        summaries_of(&report, "index-not-multiplatform"),
        [expect("index-not-multiplatform", Warning, None, None)]
    );
    // The lone manifest's platform comes from its config, so arm64 is missing.
    assert_eq!(
        summaries_of(&report, "platform-missing"),
        [expect("platform-missing", Error, Some(ARM64), None)]
    );

    let report = check_marketplace(&facts);
    assert_eq!(
        summaries_of(&report, "index-not-multiplatform"),
        [expect("index-not-multiplatform", Error, None, None)]
    );
}

#[test]
fn only_linux_amd64_misses_arm64() {
    assert_baseline_clean("platform-missing");
    let mut facts = valid_image();
    // The arm64 image and its attestation.
    facts.entries.remove(3);
    facts.entries.remove(1);

    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect("platform-missing", Error, Some(ARM64), None)]
    );
    let finding = &report.findings[0];
    assert_eq!(
        finding.message,
        "the image has no `linux/arm64` variant, so Docker Desktop cannot install it on arm64 machines"
    );
    assert_eq!(
        finding.hint.as_deref(),
        Some("build with `--platform linux/amd64,linux/arm64`")
    );
    assert!(!report.ok);
}

#[test]
fn arm64_with_variant_v8_counts_as_arm64() {
    let mut facts = valid_image();
    facts.entries[1].platform = Some(Platform::new("linux", "arm64", Some("v8")));
    let report = check(&facts);
    assert_eq!(report.findings, []);
    assert!(report.ok);
    assert_eq!(report.matrix[1].platform.as_deref(), Some("linux/arm64/v8"));
}

#[test]
fn a_32_bit_arm_image_does_not_stand_in_for_arm64() {
    let mut facts = valid_image();
    facts.entries[1].platform = Some(Platform::new("linux", "arm", Some("v7")));
    variant_mut(&mut facts, "linux/arm/v7").config_platform =
        Platform::new("linux", "arm", Some("v7"));
    let report = check(&facts);
    assert_eq!(
        summaries_of(&report, "platform-missing"),
        [expect("platform-missing", Error, Some(ARM64), None)]
    );
}

#[test]
fn a_windows_entry_is_not_linux() {
    assert_baseline_clean("platform-not-linux");
    let mut facts = valid_image();
    let mut windows = variant("amd64");
    windows.config_platform = Platform::new("windows", "amd64", None);
    facts.entries.push(runnable(
        "sha256:5555555555555555555555555555555555555555555555555555555555555555",
        Platform::new("windows", "amd64", None),
        windows,
    ));
    let report = check(&facts);
    assert_eq!(
        summaries_of(&report, "platform-not-linux"),
        [expect(
            "platform-not-linux",
            Error,
            Some("windows/amd64"),
            None
        )]
    );
    assert!(!report.ok);
}

#[test]
fn a_config_that_contradicts_its_entry_is_refused() {
    assert_baseline_clean("config-platform-mismatch");
    let mut facts = valid_image();
    variant_mut(&mut facts, ARM64).config_platform = Platform::new("linux", "amd64", None);
    let report = check(&facts);
    assert_eq!(
        summaries_of(&report, "config-platform-mismatch"),
        [expect("config-platform-mismatch", Error, Some(ARM64), None)]
    );
    assert_eq!(
        report.findings[0].message,
        format!(
            "the index entry `{ARM64_DIGEST}` says `linux/arm64`, but its image config says `linux/amd64`"
        )
    );
}

#[test]
fn config_and_entry_are_compared_normalised() {
    let mut facts = valid_image();
    variant_mut(&mut facts, ARM64).config_platform = Platform::new("linux", "aarch64", Some("v8"));
    variant_mut(&mut facts, AMD64).config_platform = Platform::new("linux", "x86_64", None);
    assert_eq!(summaries_of(&check(&facts), "config-platform-mismatch"), []);
}

#[test]
fn an_attestation_of_a_missing_manifest_is_a_warning() {
    assert_baseline_clean("attestation-dangling");
    let mut facts = valid_image();
    facts.entries.push(attestation(
        "sha256:6666666666666666666666666666666666666666666666666666666666666666",
        "sha256:7777777777777777777777777777777777777777777777777777777777777777",
    ));
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect("attestation-dangling", Warning, None, None)]
    );
    assert!(report.ok);
}

#[test]
fn a_tag_that_is_not_semver_is_marketplace_only() {
    assert_baseline_clean("tag-not-semver");
    let mut facts = valid_image();
    facts.tag = Some("latest".to_string());
    assert_eq!(
        summaries(&check(&facts)),
        [expect("tag-not-semver", Warning, None, None)]
    );
    let report = check_marketplace(&facts);
    assert_eq!(
        summaries(&report),
        [expect("tag-not-semver", Error, None, None)]
    );
    assert!(!report.ok);

    facts.tag = Some("v1.2.3".to_string());
    assert_eq!(summaries(&check_marketplace(&facts)), []);
    facts.tag = None;
    assert_eq!(summaries(&check_marketplace(&facts)), []);
}
