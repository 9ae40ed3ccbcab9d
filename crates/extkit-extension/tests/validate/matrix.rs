use extkit_extension::{Binary, MatrixRow, Runs};
use extkit_oci::Platform;

use crate::support::*;

fn row(host: &str, platform: Option<&str>, binaries: &[(&str, &str, Runs)]) -> MatrixRow {
    MatrixRow {
        host: host.to_string(),
        platform: platform.map(str::to_string),
        binaries: binaries
            .iter()
            .map(|(name, path, runs)| Binary {
                name: name.to_string(),
                path: path.to_string(),
                runs: *runs,
            })
            .collect(),
    }
}

#[test]
fn every_host_gets_its_own_platform_and_native_binaries() {
    let report = check(&valid_image());
    assert_eq!(
        report.matrix,
        [
            row(
                "darwin/amd64",
                Some(AMD64),
                &[("hello", "/darwin/hello", Runs::Native)]
            ),
            row(
                "darwin/arm64",
                Some(ARM64),
                &[("hello", "/darwin/hello", Runs::Native)]
            ),
            row(
                "windows/amd64",
                Some(AMD64),
                &[("hello.exe", "/windows/hello.exe", Runs::Native)]
            ),
            row(
                "windows/arm64",
                Some(ARM64),
                &[("hello.exe", "/windows/hello.exe", Runs::Native)]
            ),
            row(
                "linux/amd64",
                Some(AMD64),
                &[("hello", "/linux/hello", Runs::Native)]
            ),
            row(
                "linux/arm64",
                Some(ARM64),
                &[("hello", "/linux/hello", Runs::Native)]
            ),
        ]
    );
}

#[test]
fn x64_binaries_run_emulated_on_arm_hosts_and_missing_ones_not_at_all() {
    let mut facts = valid_image();
    let arm64 = variant_mut(&mut facts, ARM64);
    arm64.files.insert(
        "/windows/hello.exe".to_string(),
        executable(WINDOWS_AMD64, "hello.exe"),
    );
    arm64.files.insert(
        "/darwin/hello".to_string(),
        executable(DARWIN_AMD64, "hello"),
    );
    arm64.files.remove("/linux/hello");
    let matrix = check(&facts).matrix;
    assert_eq!(
        matrix[1],
        row(
            "darwin/arm64",
            Some(ARM64),
            &[("hello", "/darwin/hello", Runs::Emulated)]
        )
    );
    assert_eq!(
        matrix[3],
        row(
            "windows/arm64",
            Some(ARM64),
            &[("hello.exe", "/windows/hello.exe", Runs::Emulated)]
        )
    );
    assert_eq!(
        matrix[5],
        row(
            "linux/arm64",
            Some(ARM64),
            &[("hello", "/linux/hello", Runs::No)]
        )
    );
}

#[test]
fn an_arm64_binary_does_not_run_on_an_intel_host() {
    let mut facts = valid_image();
    variant_mut(&mut facts, AMD64)
        .files
        .insert("/linux/hello".to_string(), executable(LINUX_ARM64, "hello"));
    assert_eq!(
        check(&facts).matrix[4],
        row(
            "linux/amd64",
            Some(AMD64),
            &[("hello", "/linux/hello", Runs::No)]
        )
    );
}

#[test]
fn a_host_without_a_matching_platform_gets_nothing() {
    let mut facts = valid_image();
    facts.entries.remove(3);
    facts.entries.remove(1);
    let matrix = check(&facts).matrix;
    for index in [1, 3, 5] {
        assert_eq!(matrix[index].platform, None);
        assert_eq!(matrix[index].binaries, []);
    }
    assert_eq!(matrix[0].platform.as_deref(), Some(AMD64));
}

#[test]
fn the_first_of_two_equal_entries_is_pulled() {
    let mut facts = valid_image();
    let mut second = variant("amd64");
    second.files.remove("/linux/hello");
    facts.entries.push(runnable(
        "sha256:8888888888888888888888888888888888888888888888888888888888888888",
        Platform::linux_amd64(),
        second,
    ));
    assert_eq!(check(&facts).matrix[4].binaries[0].runs, Runs::Native);
}
