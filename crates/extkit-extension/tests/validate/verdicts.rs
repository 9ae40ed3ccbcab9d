//! The verdicts the validate issue asks for, one test each.

use extkit_extension::Runs;
use extkit_extension::Severity::{Error, Warning};
use extkit_oci::Platform;

use crate::support::*;

#[test]
fn an_x86_64_darwin_binary_in_both_images_fails_on_arm64_only() {
    let mut facts = valid_image();
    each_variant(&mut facts, |variant| {
        variant.files.insert(
            "/darwin/hello".to_string(),
            executable(DARWIN_AMD64, "hello"),
        );
    });
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect(
            "binary-arch-mismatch",
            Error,
            Some(ARM64),
            Some("/darwin/hello")
        )]
    );
    assert_eq!(
        report.findings[0].message,
        "the darwin host binary `/darwin/hello` is built for `amd64`, but this image is for `arm64`"
    );
    assert_eq!(
        report.findings[0].hint.as_deref(),
        Some(
            "put a darwin/arm64 (or universal) build at `/darwin/hello` in this image, such as by choosing it with `ARG TARGETARCH`"
        )
    );
    assert!(!report.ok);
    // Apple silicon Macs would still run it, through Rosetta 2.
    assert_eq!(report.matrix[1].host, "darwin/arm64");
    assert_eq!(report.matrix[1].binaries[0].runs, Runs::Emulated);
}

#[test]
fn a_linux_binary_under_another_name_is_missing() {
    let mut facts = valid_image();
    each_variant(&mut facts, |variant| {
        let file = variant.files.remove("/linux/hello").unwrap();
        variant.files.insert("/linux/hello-linux".to_string(), file);
    });
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect("file-missing", Error, None, Some("/linux/hello"))]
    );
    assert!(!report.ok);
}

#[test]
fn a_windows_binary_in_the_amd64_image_only_is_a_warning() {
    let mut facts = valid_image();
    variant_mut(&mut facts, ARM64)
        .files
        .remove("/windows/hello.exe");
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect(
            "file-missing",
            Warning,
            Some(ARM64),
            Some("/windows/hello.exe")
        )]
    );
    assert_eq!(
        report.findings[0].message,
        "the windows host binary `/windows/hello.exe` is not in the image"
    );
    assert!(report.ok);
}

#[test]
fn category_instead_of_categories_is_unknown_and_categories_missing() {
    let mut facts = valid_image();
    remove_label(&mut facts, "com.docker.extension.categories");
    set_label(&mut facts, "com.docker.extension.category", "utility-tools");

    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [
            expect(
                "label-missing",
                Warning,
                None,
                Some("com.docker.extension.categories")
            ),
            expect(
                "label-unknown",
                Warning,
                None,
                Some("com.docker.extension.category")
            ),
        ]
    );
    assert_eq!(
        report.findings[1].hint.as_deref(),
        Some("did you mean `com.docker.extension.categories`?")
    );
    assert!(report.ok);

    let report = check_marketplace(&facts);
    assert_eq!(
        summaries(&report),
        [
            expect(
                "label-missing",
                Error,
                None,
                Some("com.docker.extension.categories")
            ),
            expect(
                "label-unknown",
                Warning,
                None,
                Some("com.docker.extension.category")
            ),
        ]
    );
    assert!(!report.ok);
}

#[test]
fn screenshots_not_json_and_a_url_without_title_are_invalid() {
    let mut facts = valid_image();
    set_label(
        &mut facts,
        "com.docker.extension.screenshots",
        "https://example.org/1.png",
    );
    set_label(
        &mut facts,
        "com.docker.extension.additional-urls",
        r#"[{"url": "https://example.org/docs"}]"#,
    );
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [
            expect(
                "label-invalid",
                Error,
                None,
                Some("com.docker.extension.additional-urls")
            ),
            expect(
                "label-invalid",
                Error,
                None,
                Some("com.docker.extension.screenshots")
            ),
        ]
    );
    assert_eq!(
        report.findings[0].message,
        "`com.docker.extension.additional-urls` item 1 has no `title`"
    );
    assert_eq!(
        report.findings[1].message,
        "`com.docker.extension.screenshots` is not valid JSON: expected value at line 1 column 1"
    );
    assert!(!report.ok);
}

#[test]
fn obsolete_name_and_provider_are_refused() {
    let mut facts = valid_image();
    set_metadata(
        &mut facts,
        &METADATA.replacen('{', r#"{ "name": "Hello", "provider": "Example Inc.","#, 1),
    );
    let report = check(&facts);
    let messages: Vec<(&str, &str)> = report
        .findings
        .iter()
        .map(|finding| (finding.rule, finding.message.as_str()))
        .collect();
    assert_eq!(
        messages,
        [
            (
                "metadata-invalid",
                "(root): additional property `name` is not allowed"
            ),
            (
                "metadata-invalid",
                "(root): additional property `provider` is not allowed"
            ),
        ]
    );
    assert!(!report.ok);
}

#[test]
fn only_linux_amd64_is_refused() {
    let mut facts = valid_image();
    facts.entries.remove(3);
    facts.entries.remove(1);
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect("platform-missing", Error, Some(ARM64), None)]
    );
    assert!(!report.ok);
    assert_eq!(report.matrix[1].platform, None);
}

#[test]
fn arm64_with_variant_v8_is_valid() {
    let mut facts = valid_image();
    facts.entries[1].platform = Some(Platform::new("linux", "arm64", Some("v8")));
    variant_mut(&mut facts, "linux/arm64/v8").config_platform =
        Platform::new("linux", "arm64", Some("v8"));
    let report = check(&facts);
    assert_eq!(report.findings, []);
    assert!(report.ok);
}

#[test]
fn a_universal_macos_binary_is_correct_everywhere() {
    let mut facts = valid_image();
    each_variant(&mut facts, |variant| {
        variant.files.insert(
            "/darwin/hello".to_string(),
            executable(DARWIN_UNIVERSAL, "hello"),
        );
    });
    let report = check(&facts);
    assert_eq!(report.findings, []);
    assert!(report.ok);
    assert_eq!(report.matrix[0].binaries[0].runs, Runs::Native);
    assert_eq!(report.matrix[1].binaries[0].runs, Runs::Native);
}
