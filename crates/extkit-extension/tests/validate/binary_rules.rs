use extkit_extension::Severity::{Error, Warning};

use crate::support::*;

#[test]
fn a_linux_binary_missing_everywhere_is_an_error() {
    let mut facts = valid_image();
    each_variant(&mut facts, |variant| {
        variant.files.remove("/linux/hello");
    });
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect("file-missing", Error, None, Some("/linux/hello"))]
    );
    assert_eq!(
        report.findings[0].message,
        "the linux host binary `/linux/hello` is not in the image"
    );
}

#[test]
fn a_windows_binary_missing_from_amd64_is_an_error() {
    let mut facts = valid_image();
    variant_mut(&mut facts, AMD64)
        .files
        .remove("/windows/hello.exe");
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect(
            "file-missing",
            Error,
            Some(AMD64),
            Some("/windows/hello.exe")
        )]
    );
}

#[test]
fn a_darwin_binary_missing_from_arm64_only_is_an_error() {
    let mut facts = valid_image();
    variant_mut(&mut facts, ARM64).files.remove("/darwin/hello");
    assert_eq!(
        summaries(&check(&facts)),
        [expect(
            "file-missing",
            Error,
            Some(ARM64),
            Some("/darwin/hello")
        )]
    );
}

#[test]
fn a_pe_file_listed_under_darwin_has_the_wrong_format() {
    assert_baseline_clean("binary-format-mismatch");
    let mut facts = valid_image();
    each_variant(&mut facts, |variant| {
        variant.files.insert(
            "/darwin/hello".to_string(),
            executable(WINDOWS_AMD64, "hello"),
        );
    });
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect(
            "binary-format-mismatch",
            Error,
            None,
            Some("/darwin/hello")
        )]
    );
    assert_eq!(
        report.findings[0].message,
        "the darwin host binary `/darwin/hello` is a PE executable, which runs on Windows"
    );
    assert_eq!(
        report.findings[0].hint.as_deref(),
        Some("darwin host binaries must be Mach-O executables (thin or universal) or `#!` scripts")
    );
}

#[test]
fn scripts_suit_darwin_and_linux_and_cmd_files_suit_windows() {
    let mut facts = valid_image();
    set_metadata(
        &mut facts,
        &METADATA.replace("/windows/hello.exe", "/windows/hello.cmd"),
    );
    each_variant(&mut facts, |variant| {
        variant
            .files
            .insert("/darwin/hello".to_string(), executable(SCRIPT, "hello"));
        variant
            .files
            .insert("/linux/hello".to_string(), executable(SCRIPT, "hello"));
        variant.files.remove("/windows/hello.exe");
        variant.files.insert(
            "/windows/hello.cmd".to_string(),
            executable(CMD, "hello.cmd"),
        );
    });
    assert_eq!(summaries(&check(&facts)), []);
}

#[test]
fn a_shell_script_listed_under_windows_has_the_wrong_format() {
    let mut facts = valid_image();
    each_variant(&mut facts, |variant| {
        variant.files.insert(
            "/windows/hello.exe".to_string(),
            executable(SCRIPT, "hello.exe"),
        );
    });
    assert_eq!(
        summaries(&check(&facts)),
        [expect(
            "binary-format-mismatch",
            Error,
            None,
            Some("/windows/hello.exe")
        )]
    );
}

#[test]
fn an_arm64_linux_binary_in_the_amd64_image_is_a_mismatch() {
    assert_baseline_clean("binary-arch-mismatch");
    let mut facts = valid_image();
    variant_mut(&mut facts, AMD64)
        .files
        .insert("/linux/hello".to_string(), executable(LINUX_ARM64, "hello"));
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect(
            "binary-arch-mismatch",
            Error,
            Some(AMD64),
            Some("/linux/hello")
        )]
    );
    assert_eq!(
        report.findings[0].message,
        "the linux host binary `/linux/hello` is built for `arm64`, but this image is for `amd64`"
    );
}

#[test]
fn an_x64_windows_binary_in_the_arm64_image_is_a_warning() {
    let mut facts = valid_image();
    variant_mut(&mut facts, ARM64).files.insert(
        "/windows/hello.exe".to_string(),
        executable(WINDOWS_AMD64, "hello.exe"),
    );
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect(
            "binary-arch-mismatch",
            Warning,
            Some(ARM64),
            Some("/windows/hello.exe")
        )]
    );
    assert!(report.ok);
}

#[test]
fn a_386_linux_binary_is_not_amd64() {
    let mut facts = valid_image();
    variant_mut(&mut facts, AMD64)
        .files
        .insert("/linux/hello".to_string(), executable(LINUX_386, "hello"));
    assert_eq!(
        summaries(&check(&facts)),
        [expect(
            "binary-arch-mismatch",
            Error,
            Some(AMD64),
            Some("/linux/hello")
        )]
    );
}

#[test]
fn a_binary_without_an_execute_bit_is_an_error() {
    assert_baseline_clean("binary-not-executable");
    let mut facts = valid_image();
    each_variant(&mut facts, |variant| {
        variant.files.get_mut("/darwin/hello").unwrap().mode = 0o644;
        // Windows has no execute bit to miss.
        variant.files.get_mut("/windows/hello.exe").unwrap().mode = 0o644;
    });
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect(
            "binary-not-executable",
            Error,
            None,
            Some("/darwin/hello")
        )]
    );
    assert_eq!(
        report.findings[0].message,
        "the darwin host binary `/darwin/hello` has no execute bit (mode `644`)"
    );
}

#[test]
fn a_folder_listed_as_a_binary_has_the_wrong_type() {
    let mut facts = valid_image();
    each_variant(&mut facts, |variant| {
        variant.files.insert("/linux/hello".to_string(), folder());
    });
    assert_eq!(
        summaries(&check(&facts)),
        [expect("file-wrong-type", Error, None, Some("/linux/hello"))]
    );
}
