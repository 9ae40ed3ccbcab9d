use extkit_extension::Severity::{Error, Warning};
use extkit_extension::{Options, validate};

use crate::support::*;

const TITLE: &str = "org.opencontainers.image.title";
const API_VERSION: &str = "com.docker.desktop.extension.api.version";
const ICON: &str = "com.docker.desktop.extension.icon";
const SCREENSHOTS: &str = "com.docker.extension.screenshots";
const PUBLISHER_URL: &str = "com.docker.extension.publisher-url";
const ADDITIONAL_URLS: &str = "com.docker.extension.additional-urls";
const ACCOUNT_INFO: &str = "com.docker.extension.account-info";
const CATEGORIES: &str = "com.docker.extension.categories";

/// The findings of the valid image with one label changed in every platform.
fn with_label(key: &str, value: &str) -> extkit_extension::Report {
    let mut facts = valid_image();
    set_label(&mut facts, key, value);
    check(&facts)
}

#[test]
fn a_missing_required_label_is_an_error_reported_once_for_all_platforms() {
    assert_baseline_clean("label-missing");
    let mut facts = valid_image();
    remove_label(&mut facts, TITLE);
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect("label-missing", Error, None, Some(TITLE))]
    );
    assert_eq!(
        report.findings[0].message,
        "the required label `org.opencontainers.image.title` is missing"
    );
    assert_eq!(
        report.findings[0].hint.as_deref(),
        Some("add `LABEL org.opencontainers.image.title=\"…\"` to the Dockerfile")
    );
    assert!(!report.ok);
}

#[test]
fn a_label_missing_from_one_platform_names_it_and_says_they_differ() {
    let mut facts = valid_image();
    variant_mut(&mut facts, ARM64).labels.remove(TITLE);
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [
            expect("label-missing", Error, Some(ARM64), Some(TITLE)),
            expect("labels-differ", Warning, None, Some(TITLE)),
        ]
    );
    assert_eq!(
        report.findings[1].message,
        "the label `org.opencontainers.image.title` differs between platforms: `linux/amd64` has `Hello`, `linux/arm64` does not have it"
    );
}

#[test]
fn labels_alike_everywhere_do_not_differ() {
    assert_baseline_clean("labels-differ");
    let mut facts = valid_image();
    variant_mut(&mut facts, ARM64)
        .labels
        .insert(CATEGORIES.to_string(), "utility-tools,volumes".to_string());
    assert_eq!(
        summaries(&check(&facts)),
        [expect("labels-differ", Warning, None, Some(CATEGORIES))]
    );
}

#[test]
fn a_blank_required_label_is_empty() {
    assert_baseline_clean("label-empty");
    let report = with_label(TITLE, "  ");
    assert_eq!(
        summaries(&report),
        [expect("label-empty", Error, None, Some(TITLE))]
    );
}

#[test]
fn categories_are_marketplace_only_when_missing_or_empty() {
    let mut facts = valid_image();
    remove_label(&mut facts, CATEGORIES);
    assert_eq!(
        summaries(&check(&facts)),
        [expect("label-missing", Warning, None, Some(CATEGORIES))]
    );
    assert_eq!(
        summaries(&check_marketplace(&facts)),
        [expect("label-missing", Error, None, Some(CATEGORIES))]
    );

    set_label(&mut facts, CATEGORIES, "");
    assert_eq!(
        summaries(&check(&facts)),
        [expect("label-empty", Warning, None, Some(CATEGORIES))]
    );
    assert_eq!(
        summaries(&check_marketplace(&facts)),
        [expect("label-empty", Error, None, Some(CATEGORIES))]
    );
}

#[test]
fn an_unknown_category_is_invalid() {
    assert_baseline_clean("label-invalid");
    let report = with_label(CATEGORIES, "utility-tools, games");
    assert_eq!(
        summaries(&report),
        [expect("label-invalid", Error, None, Some(CATEGORIES))]
    );
    assert_eq!(
        report.findings[0].message,
        "`games` is not a Marketplace category"
    );
}

#[test]
fn missing_additional_urls_is_a_warning() {
    let mut facts = valid_image();
    remove_label(&mut facts, ADDITIONAL_URLS);
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect(
            "label-missing",
            Warning,
            None,
            Some(ADDITIONAL_URLS)
        )]
    );
    assert_eq!(
        report.findings[0].message,
        "the label `com.docker.extension.additional-urls` is not set"
    );
    assert!(report.ok);
}

#[test]
fn additional_urls_need_a_title_and_a_url() {
    let report = with_label(
        ADDITIONAL_URLS,
        r#"[{"url": "https://example.org/docs"}, {"title": "Support", "url": "mailto:a@example.org"}]"#,
    );
    let messages: Vec<&str> = findings_of(&report, "label-invalid")
        .iter()
        .map(|finding| finding.message.as_str())
        .collect();
    assert_eq!(
        messages,
        [
            "`com.docker.extension.additional-urls` item 1 has no `title`",
            "`com.docker.extension.additional-urls` item 2 has the `url` `mailto:a@example.org`, which is not an http(s) URL",
        ]
    );
    assert_eq!(
        summaries(&report),
        [
            expect("label-invalid", Error, None, Some(ADDITIONAL_URLS)),
            expect("label-invalid", Error, None, Some(ADDITIONAL_URLS)),
        ]
    );
}

#[test]
fn screenshots_must_be_a_json_array_of_complete_items() {
    let report = with_label(
        SCREENSHOTS,
        "[{\"alt\": \"x\", \"url\": \"https://example.org/1.png\"",
    );
    assert_eq!(
        summaries(&report),
        [expect("label-invalid", Error, None, Some(SCREENSHOTS))]
    );
    assert_eq!(
        report.findings[0].message,
        "`com.docker.extension.screenshots` is not valid JSON: EOF while parsing an object at line 1 column 48"
    );

    let report = with_label(SCREENSHOTS, r#"{"alt": "x"}"#);
    assert_eq!(
        report.findings[0].message,
        "`com.docker.extension.screenshots` holds an object, not a JSON array"
    );

    let report = with_label(
        SCREENSHOTS,
        r#"[{"url": "https://example.org/1.png"}, "x"]"#,
    );
    let messages: Vec<&str> = report.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "`com.docker.extension.screenshots` item 1 has no `alt`",
            "`com.docker.extension.screenshots` item 2 is a string, not an object",
        ]
    );
}

#[test]
fn no_screenshot_at_all_is_a_warning() {
    let report = with_label(SCREENSHOTS, "[]");
    assert_eq!(
        summaries(&report),
        [expect("label-invalid", Warning, None, Some(SCREENSHOTS))]
    );
    assert!(report.ok);
}

#[test]
fn the_icon_label_is_a_url_of_an_image() {
    let report = with_label(ICON, "docker.svg");
    assert_eq!(
        summaries(&report),
        [expect("label-invalid", Error, None, Some(ICON))]
    );
    assert_eq!(
        report.findings[0].message,
        "`com.docker.desktop.extension.icon` is `docker.svg`, which is not an http(s) URL"
    );

    let report = with_label(ICON, "https://example.org/icon.gif");
    assert_eq!(
        summaries(&report),
        [expect("label-invalid", Warning, None, Some(ICON))]
    );

    let report = with_label(ICON, "https://example.org/ICON.PNG?raw=true");
    assert_eq!(summaries(&report), []);
}

#[test]
fn the_publisher_url_is_a_url() {
    let report = with_label(PUBLISHER_URL, "example.org");
    assert_eq!(
        summaries(&report),
        [expect("label-invalid", Error, None, Some(PUBLISHER_URL))]
    );
}

#[test]
fn account_info_is_required_or_empty() {
    assert_eq!(summaries(&with_label(ACCOUNT_INFO, "required")), []);
    assert_eq!(summaries(&with_label(ACCOUNT_INFO, "")), []);
    assert_eq!(
        summaries(&with_label(ACCOUNT_INFO, "optional")),
        [expect("label-invalid", Warning, None, Some(ACCOUNT_INFO))]
    );
}

#[test]
fn a_title_saying_extension_is_a_warning() {
    let report = with_label(TITLE, "Hello Extension");
    assert_eq!(
        summaries(&report),
        [expect("label-invalid", Warning, None, Some(TITLE))]
    );
    assert_eq!(
        report.findings[0].message,
        "the title `Hello Extension` contains \"extension\""
    );
}

#[test]
fn api_version_must_be_a_version_or_constraint() {
    assert_eq!(summaries(&with_label(API_VERSION, "0.3.4")), []);
    assert_eq!(summaries(&with_label(API_VERSION, ">= 1.4.7, < 2.0")), []);
    let report = with_label(API_VERSION, "latest");
    assert_eq!(
        summaries(&report),
        [expect("label-invalid", Error, None, Some(API_VERSION))]
    );
    assert_eq!(
        report.findings[0].message,
        "`com.docker.desktop.extension.api.version` is `latest`, which is not a version or constraint (`latest` does not parse)"
    );
}

#[test]
fn an_sdk_version_outside_the_constraint_is_an_error_suggesting_at_least_it() {
    let mut facts = valid_image();
    set_label(&mut facts, API_VERSION, "0.3.0");
    let options = Options {
        marketplace: false,
        sdk_version: Some("0.3.3".to_string()),
    };
    let report = validate(&facts, &options);
    assert_eq!(
        summaries(&report),
        [expect("label-invalid", Error, None, Some(API_VERSION))]
    );
    let finding = &report.findings[0];
    assert_eq!(
        finding.message,
        "`com.docker.desktop.extension.api.version` (`0.3.0`) is incompatible with the SDK version `0.3.3`"
    );
    assert_eq!(finding.hint.as_deref(), Some("change it to `>=0.3.3`"));

    // The valid image's `>= 0.3.0` accepts it.
    assert_eq!(summaries(&validate(&valid_image(), &options)), []);
}

#[test]
fn an_unknown_extension_label_suggests_the_closest_known_one() {
    assert_baseline_clean("label-unknown");
    let mut facts = valid_image();
    remove_label(&mut facts, CATEGORIES);
    set_label(&mut facts, "com.docker.extension.category", "utility-tools");
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [
            expect("label-missing", Warning, None, Some(CATEGORIES)),
            expect(
                "label-unknown",
                Warning,
                None,
                Some("com.docker.extension.category")
            ),
        ]
    );
    let unknown = &report.findings[1];
    assert_eq!(
        unknown.message,
        "the label `com.docker.extension.category` is not one Docker Desktop reads"
    );
    assert_eq!(
        unknown.hint.as_deref(),
        Some("did you mean `com.docker.extension.categories`?")
    );
}

#[test]
fn labels_outside_the_extension_namespaces_are_not_unknown() {
    let report = with_label("org.opencontainers.image.licenses", "MIT");
    assert_eq!(summaries(&report), []);
    let report = with_label("com.docker.extension.publisher-url-2", "x");
    assert_eq!(
        summaries(&report),
        [expect(
            "label-unknown",
            Warning,
            None,
            Some("com.docker.extension.publisher-url-2")
        )]
    );
}

#[test]
fn placeholders_from_init_are_warnings() {
    assert_baseline_clean("label-placeholder");
    assert_eq!(extkit_extension::PLACEHOLDER_PREFIX, "TODO:");

    let report = with_label(
        "com.docker.extension.detailed-description",
        "TODO: describe your extension",
    );
    assert_eq!(
        summaries(&report),
        [expect(
            "label-placeholder",
            Warning,
            None,
            Some("com.docker.extension.detailed-description")
        )]
    );
    assert_eq!(
        report.findings[0].message,
        "`com.docker.extension.detailed-description` still holds the placeholder `TODO: describe your extension`"
    );

    let report = with_label(PUBLISHER_URL, "https://example.com/TODO");
    assert_eq!(
        summaries(&report),
        [expect(
            "label-placeholder",
            Warning,
            None,
            Some(PUBLISHER_URL)
        )]
    );
}
