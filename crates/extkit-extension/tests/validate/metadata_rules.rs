use extkit_extension::Severity::{Error, Warning};

use crate::support::*;

const METADATA_PATH: &str = "/metadata.json";

#[test]
fn an_image_without_metadata_json_is_refused() {
    assert_baseline_clean("metadata-missing");
    let mut facts = valid_image();
    each_variant(&mut facts, |variant| variant.metadata = None);
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect("metadata-missing", Error, None, Some(METADATA_PATH))]
    );
    assert_eq!(
        report.findings[0].message,
        "the image has no `/metadata.json`"
    );
}

#[test]
fn metadata_json_missing_from_one_platform_is_named() {
    let mut facts = valid_image();
    variant_mut(&mut facts, ARM64).metadata = None;
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [
            expect("metadata-missing", Error, Some(ARM64), Some(METADATA_PATH)),
            expect("metadata-differs", Warning, None, Some(METADATA_PATH)),
        ]
    );
}

#[test]
fn obsolete_root_keys_are_refused_like_docker_does() {
    assert_baseline_clean("metadata-invalid");
    let mut facts = valid_image();
    let json = METADATA.replacen('{', r#"{ "name": "Hello", "provider": "Example Inc.","#, 1);
    set_metadata(&mut facts, &json);
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [
            expect("metadata-invalid", Error, None, Some(METADATA_PATH)),
            expect("metadata-invalid", Error, None, Some(METADATA_PATH)),
        ]
    );
    assert_eq!(
        report.findings[0].message,
        "(root): additional property `name` is not allowed"
    );
    assert_eq!(
        report.findings[0].hint.as_deref(),
        Some(
            "remove it; the extension's name comes from the `org.opencontainers.image.title` label"
        )
    );
    assert_eq!(
        report.findings[1].message,
        "(root): additional property `provider` is not allowed"
    );
    assert!(!report.ok);
}

#[test]
fn unknown_nested_keys_and_wrong_types_are_refused() {
    let mut facts = valid_image();
    let json = METADATA
        .replace(r#""title": "Hello","#, r#""title": 7, "tooltip": "x","#)
        .replace(
            r#"{ "path": "/linux/hello" }"#,
            r#"{ "path": "/linux/hello", "mode": "0755" }"#,
        );
    set_metadata(&mut facts, &json);
    let messages: Vec<String> = check(&facts)
        .findings
        .into_iter()
        .map(|finding| format!("{} {}", finding.rule, finding.message))
        .collect();
    assert_eq!(
        messages,
        [
            "metadata-invalid ui.dashboard-tab: additional property `tooltip` is not allowed",
            "metadata-invalid ui.dashboard-tab.title: expected a string, found a number",
            "metadata-invalid host.binaries.0.linux.0: additional property `mode` is not allowed",
        ]
    );
}

#[test]
fn a_json_syntax_error_gives_line_and_column() {
    let mut facts = valid_image();
    set_metadata(&mut facts, "{\n  \"icon\": \"docker.svg\"\n  \"ui\": {}\n}");
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect("metadata-invalid", Error, None, Some(METADATA_PATH))]
    );
    assert_eq!(
        report.findings[0].message,
        "`/metadata.json` is not valid JSON: expected `,` or `}` at line 3 column 3"
    );
}

#[test]
fn metadata_json_must_be_an_object_in_a_regular_file() {
    let mut facts = valid_image();
    set_metadata(&mut facts, "[]");
    let report = check(&facts);
    assert_eq!(
        report.findings[0].message,
        "`/metadata.json` holds an array, not a JSON object"
    );

    let mut facts = valid_image();
    each_variant(&mut facts, |variant| variant.metadata = Some(folder()));
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect("metadata-invalid", Error, None, Some(METADATA_PATH))]
    );
    assert_eq!(
        report.findings[0].message,
        "`/metadata.json` is a folder, not a regular file"
    );
}

#[test]
fn required_fields_and_one_component_are_needed() {
    let mut facts = valid_image();
    set_metadata(&mut facts, r#"{ "icon": "docker.svg" }"#);
    let report = check(&facts);
    assert_eq!(
        report.findings[0].message,
        "(root): at least one of `ui`, `vm` and `host` is required"
    );

    set_metadata(
        &mut facts,
        r#"{ "ui": { "dashboard-tab": { "title": "Hello", "root": "/ui", "src": "index.html" } } }"#,
    );
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect("metadata-invalid", Error, None, Some(METADATA_PATH))]
    );
    assert_eq!(report.findings[0].message, "(root): `icon` is required");
}

#[test]
fn metadata_json_that_differs_between_platforms_is_a_warning() {
    assert_baseline_clean("metadata-differs");
    let mut facts = valid_image();
    let other = METADATA.replace("\"Hello\"", "\"Hello there\"");
    variant_mut(&mut facts, ARM64).metadata = Some(text_file(&other));
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect(
            "metadata-differs",
            Warning,
            None,
            Some(METADATA_PATH)
        )]
    );
    assert_eq!(
        report.findings[0].message,
        "`/metadata.json` in the `linux/arm64` image differs from the one in the `linux/amd64` image"
    );
}

#[test]
fn metadata_json_that_differs_only_in_layout_is_the_same() {
    let mut facts = valid_image();
    let compact: serde_json::Value = serde_json::from_str(METADATA).unwrap();
    variant_mut(&mut facts, ARM64).metadata = Some(text_file(&compact.to_string()));
    assert_eq!(summaries(&check(&facts)), []);
}

#[test]
fn sockets_are_plain_names_that_agree() {
    assert_baseline_clean("socket-invalid");
    let mut facts = valid_image();
    set_metadata(
        &mut facts,
        &METADATA.replacen(
            r#""exposes": { "socket": "backend.sock" }"#,
            r#""exposes": { "socket": "/run/guest-services/backend.sock" }"#,
            1,
        ),
    );
    let messages: Vec<(Summary, String)> = check(&facts)
        .findings
        .iter()
        .map(|finding| (summary(finding), finding.message.clone()))
        .collect();
    assert_eq!(
        messages,
        [
            (
                expect("socket-invalid", Error, None, Some(METADATA_PATH)),
                "`vm.exposes.socket` is `/run/guest-services/backend.sock`, which is not a plain file name".to_string()
            ),
            (
                expect("socket-invalid", Error, None, Some(METADATA_PATH)),
                "the UI talks to the socket `backend.sock`, but the backend exposes `/run/guest-services/backend.sock`".to_string()
            ),
        ]
    );
}

#[test]
fn a_long_socket_name_is_a_warning() {
    let long = "a-very-long-socket-name-for-this-extension.sock";
    let json = METADATA.replace("backend.sock", long);
    let report = extkit_extension::validate_metadata_file(
        "metadata.json",
        json.as_bytes(),
        &Default::default(),
    );
    assert_eq!(
        summaries(&report),
        [
            expect("socket-invalid", Warning, None, Some("metadata.json")),
            expect("socket-invalid", Warning, None, Some("metadata.json")),
        ]
    );
    assert!(report.ok);
}

#[test]
fn a_backend_socket_without_a_vm_is_refused() {
    let json = r#"{ "icon": "docker.svg", "ui": { "dashboard-tab": { "title": "Oauth sample",
        "src": "index.html", "root": "ui", "backend": { "socket": "backend.sock" } } } }"#;
    let report = extkit_extension::validate_metadata_file(
        "metadata.json",
        json.as_bytes(),
        &Default::default(),
    );
    assert_eq!(
        summaries(&report),
        [expect("socket-invalid", Error, None, Some("metadata.json"))]
    );
}

#[test]
fn a_metadata_json_reached_through_a_link_is_a_warning() {
    let mut facts = valid_image();
    each_variant(&mut facts, |variant| {
        if let Some(file) = variant.metadata.as_mut() {
            file.via_symlink = Some("/metadata.json".to_string());
        }
    });
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect("symlinked-file", Warning, None, Some(METADATA_PATH))]
    );
    assert_eq!(
        report.findings[0].message,
        "`/metadata.json` is a symbolic link"
    );
    assert!(report.ok);
}
