use extkit_extension::{Options, validate};

use crate::support::*;

#[test]
fn the_valid_extension_has_no_finding_at_all() {
    let report = check(&valid_image());
    assert_eq!(report.findings, []);
    assert!(report.ok);
    assert_eq!(report.reference, "oci:build:1.0.0");
    assert_eq!(
        report.digest.as_deref(),
        Some("sha256:0000000000000000000000000000000000000000000000000000000000000000")
    );
}

#[test]
fn the_valid_extension_passes_the_marketplace_and_its_sdk_version() {
    let report = validate(
        &valid_image(),
        &Options {
            marketplace: true,
            sdk_version: Some("0.3.4".to_string()),
        },
    );
    assert_eq!(report.findings, []);
    assert!(report.ok);
}

#[test]
fn every_rule_id_is_kebab_case_and_unique() {
    let rules = extkit_extension::rules();
    let mut ids: Vec<&str> = rules.iter().map(|rule| rule.id).collect();
    assert!(
        ids.iter().all(|id| {
            !id.is_empty() && id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        })
    );
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), rules.len());
}

#[test]
fn the_rule_table_names_the_required_ids_with_their_defaults() {
    use extkit_extension::Severity::{Error, Warning};
    let table: Vec<(&str, extkit_extension::Severity, bool)> = extkit_extension::rules()
        .iter()
        .map(|rule| (rule.id, rule.severity, rule.marketplace_only))
        .collect();
    assert_eq!(
        table,
        [
            ("index-not-multiplatform", Warning, true),
            ("platform-missing", Error, false),
            ("platform-not-linux", Error, false),
            ("config-platform-mismatch", Error, false),
            ("attestation-dangling", Warning, false),
            ("tag-not-semver", Warning, true),
            ("label-missing", Error, false),
            ("label-empty", Error, false),
            ("label-invalid", Error, false),
            ("label-unknown", Warning, false),
            ("label-placeholder", Warning, false),
            ("labels-differ", Warning, false),
            ("metadata-missing", Error, false),
            ("metadata-invalid", Error, false),
            ("metadata-differs", Warning, false),
            ("socket-invalid", Error, false),
            ("path-not-absolute", Warning, false),
            ("host-binaries-missing-for-os", Warning, false),
            ("windows-binary-extension", Warning, false),
            ("file-missing", Error, false),
            ("file-wrong-type", Error, false),
            ("symlinked-file", Warning, false),
            ("compose-invalid", Error, false),
            ("backend-without-command", Warning, false),
            ("compose-docker-socket", Warning, false),
            ("compose-relative-bind", Warning, false),
            ("binary-format-mismatch", Error, false),
            ("binary-arch-mismatch", Error, false),
            ("binary-not-executable", Error, false),
            ("binary-name-clash", Error, false),
        ]
    );
}
