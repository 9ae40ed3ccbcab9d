use extkit_extension::Severity::Error;
use extkit_extension::{Options, validate_metadata_file};

use crate::support::*;

#[test]
fn a_valid_file_passes_with_its_path_as_reference() {
    let report = validate_metadata_file(
        "ext/metadata.json",
        METADATA.as_bytes(),
        &Options::default(),
    );
    assert_eq!(report.reference, "ext/metadata.json");
    assert_eq!(report.digest, None);
    assert!(report.ok);
    assert_eq!(report.findings, []);
    assert_eq!(report.matrix, []);
}

#[test]
fn findings_about_the_file_carry_its_path() {
    let report = validate_metadata_file(
        "ext/metadata.json",
        br#"{ "icon": "docker.svg", "provider": "x", "ui": {} }"#,
        &Options::default(),
    );
    assert_eq!(
        summaries(&report),
        [
            expect("metadata-invalid", Error, None, Some("ext/metadata.json")),
            expect("metadata-invalid", Error, None, Some("ext/metadata.json")),
        ]
    );
    let messages: Vec<&str> = report.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "(root): additional property `provider` is not allowed",
            "ui: `dashboard-tab` is required",
        ]
    );
    assert!(!report.ok);
}

#[test]
fn a_broken_file_names_where() {
    let report = validate_metadata_file("metadata.json", b"{\"icon\": }", &Options::default());
    assert_eq!(
        report.findings[0].message,
        "`metadata.json` is not valid JSON: expected value at line 1 column 10"
    );
}
