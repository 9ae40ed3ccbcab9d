use extkit_extension::FileKind;
use extkit_extension::Severity::{Error, Warning};

use crate::support::*;

#[test]
fn a_missing_icon_is_an_error() {
    assert_baseline_clean("file-missing");
    let mut facts = valid_image();
    each_variant(&mut facts, |variant| {
        variant.files.remove("/docker.svg");
    });
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect("file-missing", Error, None, Some("/docker.svg"))]
    );
    assert_eq!(
        report.findings[0].message,
        "the icon `/docker.svg` is not in the image"
    );
    assert_eq!(
        report.findings[0].hint.as_deref(),
        Some("copy the icon to `/docker.svg`, such as with `COPY docker.svg /`")
    );
}

#[test]
fn a_missing_ui_folder_is_one_finding_not_two() {
    let mut facts = valid_image();
    variant_mut(&mut facts, ARM64)
        .files
        .retain(|path, _| !path.starts_with("/ui"));
    assert_eq!(
        summaries(&check(&facts)),
        [expect("file-missing", Error, Some(ARM64), Some("/ui"))]
    );
}

#[test]
fn the_ui_entry_file_is_relative_to_the_root() {
    let mut facts = valid_image();
    set_metadata(
        &mut facts,
        &METADATA.replace("\"index.html\"", "\"build/index.html\""),
    );
    assert_eq!(
        summaries(&check(&facts)),
        [expect(
            "file-missing",
            Error,
            None,
            Some("/ui/build/index.html")
        )]
    );
}

#[test]
fn a_missing_compose_file_is_an_error() {
    let mut facts = valid_image();
    each_variant(&mut facts, |variant| {
        variant.files.remove("/docker-compose.yaml");
    });
    assert_eq!(
        summaries(&check(&facts)),
        [expect(
            "file-missing",
            Error,
            None,
            Some("/docker-compose.yaml")
        )]
    );
}

#[test]
fn a_dangling_link_counts_as_missing() {
    let mut facts = valid_image();
    each_variant(&mut facts, |variant| {
        variant.files.insert(
            "/docker.svg".to_string(),
            extkit_extension::FileFacts {
                kind: FileKind::Symlink {
                    target: "/assets/docker.svg".to_string(),
                },
                ..plain_file()
            },
        );
    });
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect("file-missing", Error, None, Some("/docker.svg"))]
    );
    assert_eq!(
        report.findings[0].message,
        "the icon `/docker.svg` is a symbolic link to `/assets/docker.svg`, which does not resolve inside the image"
    );
}

#[test]
fn a_file_where_a_folder_belongs_has_the_wrong_type() {
    assert_baseline_clean("file-wrong-type");
    let mut facts = valid_image();
    each_variant(&mut facts, |variant| {
        variant.files.insert("/ui".to_string(), plain_file());
        variant.files.insert("/docker.svg".to_string(), folder());
    });
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [
            expect("file-wrong-type", Error, None, Some("/docker.svg")),
            expect("file-wrong-type", Error, None, Some("/ui")),
        ]
    );
    assert_eq!(
        report.findings[1].message,
        "the UI folder `/ui` is a regular file, not a folder"
    );
}

#[test]
fn a_named_file_reached_through_a_link_is_a_warning() {
    assert_baseline_clean("symlinked-file");
    let mut facts = valid_image();
    each_variant(&mut facts, |variant| {
        variant.files.get_mut("/linux/hello").unwrap().via_symlink = Some("/linux".to_string());
    });
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect(
            "symlinked-file",
            Warning,
            None,
            Some("/linux/hello")
        )]
    );
    assert_eq!(
        report.findings[0].message,
        "`/linux/hello` is reached through the symbolic link `/linux`"
    );
    assert!(report.ok);
}
