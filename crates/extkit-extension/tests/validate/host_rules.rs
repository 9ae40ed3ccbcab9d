use extkit_extension::Severity::{Error, Warning};
use extkit_extension::validate_metadata_file;

use crate::support::*;

/// The valid metadata.json with its `host` section replaced.
fn with_host(host: &str) -> String {
    let start = METADATA.find("\"host\"").unwrap();
    format!("{}\"host\": {host}\n}}", &METADATA[..start])
}

fn check_file(json: &str) -> extkit_extension::Report {
    validate_metadata_file("metadata.json", json.as_bytes(), &Default::default())
}

#[test]
fn the_valid_metadata_has_no_host_finding() {
    let report = check_file(METADATA);
    assert_eq!(report.findings, []);
    assert!(report.ok);
}

#[test]
fn relative_paths_are_warnings_and_escaping_ones_errors() {
    assert_baseline_clean("path-not-absolute");
    let report = check_file(&with_host(
        r#"{ "binaries": [ { "darwin": [ { "path": "darwin/hello" } ],
            "windows": [ { "path": "/windows/hello.exe" } ],
            "linux": [ { "path": "/../linux/hello" } ] } ] }"#,
    ));
    assert_eq!(
        summaries(&report),
        [
            expect("path-not-absolute", Error, None, Some("/../linux/hello")),
            expect("path-not-absolute", Warning, None, Some("darwin/hello")),
        ]
    );
    assert_eq!(
        report.findings[1].message,
        "the darwin host binary path `darwin/hello` is relative"
    );
    assert_eq!(
        report.findings[1].hint.as_deref(),
        Some("write it as `/darwin/hello`")
    );
    assert_eq!(
        report.findings[0].message,
        "the linux host binary path `/../linux/hello` climbs out of the image with `..`"
    );
    assert_eq!(
        report.findings[0].hint.as_deref(),
        Some(
            "name the file by its absolute path inside the image, without `..`; as written, \
             Desktop would look for `/linux/hello`"
        )
    );
}

#[test]
fn an_os_without_binaries_is_a_warning() {
    assert_baseline_clean("host-binaries-missing-for-os");
    let report = check_file(&with_host(
        r#"{ "binaries": [ { "darwin": [ { "path": "/darwin/hello" } ],
            "linux": [ { "path": "/linux/hello" } ] } ] }"#,
    ));
    assert_eq!(
        summaries(&report),
        [expect("host-binaries-missing-for-os", Warning, None, None)]
    );
    assert_eq!(
        report.findings[0].message,
        "`host.binaries` lists binaries for `darwin` and `linux` but none for `windows`"
    );
}

#[test]
fn windows_binaries_need_an_extension_windows_runs() {
    assert_baseline_clean("windows-binary-extension");
    let report = check_file(&with_host(
        r#"{ "binaries": [ { "darwin": [ { "path": "/darwin/hello" } ],
            "windows": [ { "path": "/windows/hello" }, { "path": "/windows/setup.CMD" } ],
            "linux": [ { "path": "/linux/hello" } ] } ] }"#,
    ));
    assert_eq!(
        summaries(&report),
        [expect(
            "windows-binary-extension",
            Warning,
            None,
            Some("/windows/hello")
        )]
    );
}

#[test]
fn two_binaries_of_one_os_with_one_name_clash() {
    assert_baseline_clean("binary-name-clash");
    let report = check_file(&with_host(
        r#"{ "binaries": [
            { "darwin": [ { "path": "/darwin/amd64/hello" }, { "path": "/darwin/arm64/hello" } ],
              "windows": [ { "path": "/windows/hello.exe" } ],
              "linux": [ { "path": "/linux/hello" } ] },
            { "linux": [ { "path": "/linux/hello" } ] } ] }"#,
    ));
    // The same path listed twice is one file, not a clash; one name under two OSes is fine.
    assert_eq!(
        summaries(&report),
        [expect(
            "binary-name-clash",
            Error,
            None,
            Some("/darwin/arm64/hello")
        )]
    );
    assert_eq!(
        report.findings[0].message,
        "the darwin host binaries `/darwin/amd64/hello` and `/darwin/arm64/hello` are both named `hello`; one would overwrite the other"
    );
    assert!(!report.ok);
}
