//! `extkit validate` on images that reproduce, one at a time, defects real extensions shipped.

mod common;

use std::fs;
use std::path::Path;

use common::extension::{Extension, binary};
use common::{extkit, filter_path};
use extkit_oci::Platform;
use serde_json::Value;

/// Runs `extkit validate LOCATION --format json` plus `extra`; gives the exit code and report.
fn validate(location: &str, extra: &[&str]) -> (i32, Value) {
    let output = extkit()
        .args(["validate", location, "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code().unwrap(), report)
}

/// The findings as (rule, severity, platform, path) tuples.
fn findings(report: &Value) -> Vec<(String, String, Option<String>, Option<String>)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["platform"].as_str().map(str::to_string),
                f["path"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn finding(
    rule: &str,
    severity: &str,
    platform: Option<&str>,
    path: Option<&str>,
) -> (String, String, Option<String>, Option<String>) {
    (
        rule.into(),
        severity.into(),
        platform.map(str::to_string),
        path.map(str::to_string),
    )
}

fn write(extension: &Extension, scratch: &Path) -> String {
    extension.write(&scratch.join("layout"), "1.0.0")
}

#[test]
fn a_correct_extension_with_a_universal_macos_binary_is_valid() {
    let scratch = tempfile::tempdir().unwrap();
    let location = write(&Extension::good(), scratch.path());
    let (code, report) = validate(&location, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["ok"], true);
    assert_eq!(findings(&report), vec![]);
    // Every Desktop user gets a native binary: the universal one on both Macs.
    let matrix = filter_path(
        &serde_json::to_string_pretty(&report["matrix"]).unwrap(),
        scratch.path(),
    );
    insta::assert_snapshot!(matrix);

    let table = extkit().args(["validate", &location]).output().unwrap();
    assert_eq!(table.status.code(), Some(0));
    insta::assert_snapshot!(filter_path(
        &String::from_utf8_lossy(&table.stdout),
        scratch.path()
    ));
}

#[test]
fn an_x86_64_macos_binary_in_both_variants_fails_on_arm64() {
    let scratch = tempfile::tempdir().unwrap();
    let mut extension = Extension::good();
    for architecture in ["amd64", "arm64"] {
        extension.set_file(architecture, "darwin/hello", binary("darwin-amd64"), 0o755);
    }
    let (code, report) = validate(&write(&extension, scratch.path()), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        findings(&report),
        vec![finding(
            "binary-arch-mismatch",
            "error",
            Some("linux/arm64"),
            Some("/darwin/hello")
        )]
    );
    // Apple silicon users still run it, through Rosetta 2.
    let darwin_arm64 = &report["matrix"][1];
    assert_eq!(darwin_arm64["host"], "darwin/arm64");
    assert_eq!(darwin_arm64["binaries"][0]["runs"], "emulated");
}

#[test]
fn a_linux_binary_under_another_name_is_missing() {
    let scratch = tempfile::tempdir().unwrap();
    let mut extension = Extension::good();
    for architecture in ["amd64", "arm64"] {
        let content = binary(&format!("linux-{architecture}"));
        extension.remove_file(architecture, "linux/hello");
        extension.set_file(architecture, "linux/hello-linux", content, 0o755);
    }
    let (code, report) = validate(&write(&extension, scratch.path()), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        findings(&report),
        // Missing alike from both variants, so reported once for the whole image.
        vec![finding("file-missing", "error", None, Some("/linux/hello"))]
    );
}

#[test]
fn a_windows_binary_in_the_amd64_variant_only_is_a_warning() {
    let scratch = tempfile::tempdir().unwrap();
    let mut extension = Extension::good();
    extension.remove_file("arm64", "windows/hello.exe");
    let (code, report) = validate(&write(&extension, scratch.path()), &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["ok"], true);
    assert_eq!(
        findings(&report),
        vec![finding(
            "file-missing",
            "warning",
            Some("linux/arm64"),
            Some("/windows/hello.exe")
        )]
    );
    let windows_arm64 = &report["matrix"][3];
    assert_eq!(windows_arm64["host"], "windows/arm64");
    assert_eq!(windows_arm64["binaries"][0]["runs"], "no");
}

#[test]
fn a_misspelt_categories_label_is_unknown_and_categories_missing() {
    let scratch = tempfile::tempdir().unwrap();
    let mut extension = Extension::good();
    let categories = extension
        .labels
        .remove("com.docker.extension.categories")
        .unwrap();
    extension
        .labels
        .insert("com.docker.extension.category".into(), categories);
    let location = write(&extension, scratch.path());

    let (code, report) = validate(&location, &[]);
    assert_eq!(code, 0, "{report:#}");
    let rules: Vec<_> = findings(&report)
        .into_iter()
        .map(|(rule, severity, _, _)| (rule, severity))
        .collect();
    assert!(
        rules.contains(&("label-unknown".into(), "warning".into())),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("label-missing".into(), "warning".into())),
        "{rules:?}"
    );
    let unknown = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "label-unknown")
        .unwrap();
    assert!(
        unknown["hint"]
            .as_str()
            .unwrap()
            .contains("com.docker.extension.categories"),
        "{unknown}"
    );

    // The Marketplace requires categories.
    let (code, report) = validate(&location, &["--marketplace"]);
    assert_eq!(code, 1);
    let missing = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "label-missing")
        .unwrap();
    assert_eq!(missing["severity"], "error");
}

#[test]
fn malformed_json_labels_are_invalid() {
    let scratch = tempfile::tempdir().unwrap();
    let mut extension = Extension::good();
    extension.labels.insert(
        "com.docker.extension.screenshots".into(),
        "screenshot.png".into(),
    );
    extension.labels.insert(
        "com.docker.extension.additional-urls".into(),
        r#"[{"url": "https://example.com/docs"}]"#.into(),
    );
    let (code, report) = validate(&write(&extension, scratch.path()), &[]);
    assert_eq!(code, 1);
    let invalid: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "label-invalid" && f["severity"] == "error")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    assert!(
        invalid
            .iter()
            .any(|m| m.contains("com.docker.extension.screenshots")),
        "{invalid:?}"
    );
    assert!(
        invalid
            .iter()
            .any(|m| m.contains("com.docker.extension.additional-urls")),
        "{invalid:?}"
    );
}

#[test]
fn obsolete_metadata_keys_are_invalid() {
    let scratch = tempfile::tempdir().unwrap();
    let mut extension = Extension::good();
    extension.metadata["name"] = "hello".into();
    extension.metadata["provider"] = "acme".into();
    let (code, report) = validate(&write(&extension, scratch.path()), &[]);
    assert_eq!(code, 1);
    let rules: Vec<_> = findings(&report)
        .into_iter()
        .filter(|(rule, _, _, _)| rule == "metadata-invalid")
        .map(|(_, severity, _, _)| severity)
        .collect();
    assert!(
        !rules.is_empty() && rules.iter().all(|s| s == "error"),
        "{report:#}"
    );

    // The same file on its own gives the same verdict, with no digest and no matrix.
    let file = scratch.path().join("metadata.json");
    std::fs::write(&file, serde_json::to_vec(&extension.metadata).unwrap()).unwrap();
    let (code, report) = validate(file.to_str().unwrap(), &[]);
    assert_eq!(code, 1);
    assert_eq!(report["reference"], file.to_str().unwrap());
    assert_eq!(report["digest"], Value::Null);
    assert_eq!(report["matrix"], serde_json::json!([]));
    assert!(
        findings(&report)
            .iter()
            .any(|(rule, severity, _, _)| rule == "metadata-invalid" && severity == "error")
    );
}

#[test]
fn an_amd64_only_index_misses_arm64_and_arm64_v8_counts_as_arm64() {
    let scratch = tempfile::tempdir().unwrap();
    let mut extension = Extension::good();
    extension.platforms = vec![Platform::linux_amd64()];
    let (code, report) = validate(
        &extension.write(&scratch.path().join("amd64"), "1.0.0"),
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(
        findings(&report),
        vec![finding(
            "platform-missing",
            "error",
            Some("linux/arm64"),
            None
        )]
    );
    assert_eq!(report["matrix"][1]["platform"], Value::Null);

    extension.platforms = vec![
        Platform::linux_amd64(),
        Platform::new("linux", "arm64", Some("v8")),
    ];
    let (code, report) = validate(&extension.write(&scratch.path().join("v8"), "1.0.0"), &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(findings(&report), vec![]);
}

#[test]
fn bad_input_exits_2_with_a_hint() {
    let output = extkit()
        .args(["validate", "oci:/nonexistent/layout:1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: cannot read `oci:/nonexistent/layout:1`\n"),
        "{stderr}"
    );
    assert!(stderr.contains("\nhint: "), "{stderr}");
}

#[test]
fn a_metadata_file_that_does_not_exist_is_named_as_missing() {
    for missing in [
        "/nonexistent/metadata.json",
        "./metadata.json",
        "ext/metadata.json",
    ] {
        let scratch = tempfile::tempdir().unwrap();
        let output = extkit()
            .current_dir(scratch.path())
            .args(["validate", missing])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            format!(
                "error: `{missing}` does not exist\n\
                 hint: give the path of a metadata.json file, or an image such as `oci:DIR:TAG` \
                 or `docker://REGISTRY/NAME:TAG`\n"
            )
        );
    }
}

#[test]
fn list_rules_names_every_required_rule() {
    let output = extkit()
        .args(["validate", "--list-rules", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let rules: Value = serde_json::from_slice(&output.stdout).unwrap();
    let ids: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for required in [
        "platform-missing",
        "platform-not-linux",
        "config-platform-mismatch",
        "label-missing",
        "label-empty",
        "label-invalid",
        "label-unknown",
        "label-placeholder",
        "metadata-missing",
        "metadata-invalid",
        "file-missing",
        "binary-format-mismatch",
        "binary-arch-mismatch",
        "binary-not-executable",
        "binary-name-clash",
    ] {
        assert!(ids.contains(&required), "{required} missing from {ids:?}");
    }
}

/// An extension built by buildah from a Dockerfile that picks host binaries with
/// `TARGETARCH`; `darwin_for` maps an architecture to the darwin fixture it gets.
fn buildah_extension(scratch: &Path, darwin_for: fn(&str) -> &'static str) -> String {
    let context = scratch.join("context");
    for architecture in ["amd64", "arm64"] {
        let folder = context.join("bin").join(architecture);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("darwin"), binary(darwin_for(architecture))).unwrap();
        std::fs::write(
            folder.join("linux"),
            binary(&format!("linux-{architecture}")),
        )
        .unwrap();
        std::fs::write(
            folder.join("windows.exe"),
            binary(&format!("windows-{architecture}")),
        )
        .unwrap();
    }
    let extension = Extension::good();
    std::fs::write(
        context.join("metadata.json"),
        serde_json::to_vec_pretty(&extension.metadata).unwrap(),
    )
    .unwrap();
    std::fs::write(
        context.join("hello.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    )
    .unwrap();
    std::fs::create_dir_all(context.join("ui")).unwrap();
    std::fs::write(context.join("ui/index.html"), "<p>hello</p>").unwrap();
    let labels: String = extension
        .labels
        .iter()
        .map(|(key, value)| format!("LABEL {key}={}\n", serde_json::to_string(value).unwrap()))
        .collect();
    std::fs::write(
        context.join("Dockerfile"),
        format!(
            "FROM scratch\nARG TARGETARCH\n{labels}\
             COPY metadata.json hello.svg /\nCOPY ui /ui\n\
             COPY --chmod=0755 bin/${{TARGETARCH}}/darwin /darwin/hello\n\
             COPY --chmod=0755 bin/${{TARGETARCH}}/linux /linux/hello\n\
             COPY --chmod=0755 bin/${{TARGETARCH}}/windows.exe /windows/hello.exe\n\
             CMD [\"/bin/true\"]\n"
        ),
    )
    .unwrap();
    let buildah = || {
        let mut command = std::process::Command::new("buildah");
        command
            .arg("--root")
            .arg(scratch.join("storage"))
            .arg("--runroot")
            .arg(scratch.join("run"))
            .args(["--storage-driver", "vfs"]);
        command
    };
    common::run_peer(
        buildah()
            .args([
                "build",
                "--isolation",
                "chroot",
                "--platform",
                "linux/amd64,linux/arm64",
            ])
            .args(["--manifest", "localhost/hello:1.0.0", "-f"])
            .arg(context.join("Dockerfile"))
            .arg(&context),
    );
    let layout = scratch.join("layout");
    common::run_peer(
        buildah()
            .args(["manifest", "push", "--all", "localhost/hello:1.0.0"])
            .arg(format!("oci:{}:1.0.0", layout.display())),
    );
    format!("oci:{}:1.0.0", layout.display())
}

#[test]
fn buildah_built_extensions_get_the_same_verdicts() {
    if !common::require_peer("buildah") {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let good = buildah_extension(&scratch.path().join("good"), |architecture| {
        if architecture == "amd64" {
            "darwin-amd64"
        } else {
            "darwin-arm64"
        }
    });
    let (code, report) = validate(&good, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(findings(&report), vec![]);

    let broken = buildah_extension(&scratch.path().join("broken"), |_| "darwin-amd64");
    let (code, report) = validate(&broken, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        findings(&report),
        vec![finding(
            "binary-arch-mismatch",
            "error",
            Some("linux/arm64"),
            Some("/darwin/hello")
        )]
    );
}

#[test]
fn a_folder_is_named_as_a_folder() {
    let scratch = tempfile::tempdir().unwrap();
    let with_metadata = scratch.path().join("ext");
    fs::create_dir(&with_metadata).unwrap();
    fs::write(with_metadata.join("metadata.json"), "{}").unwrap();
    let bare = scratch.path().join("bare");
    fs::create_dir(&bare).unwrap();
    for (folder, hint) in [
        (
            with_metadata.display().to_string(),
            format!(
                "give its metadata.json: `extkit validate {}`",
                with_metadata.join("metadata.json").display()
            ),
        ),
        (
            bare.display().to_string(),
            "give the path of a metadata.json file, or an image such as `oci:DIR:TAG` or \
             `docker://REGISTRY/NAME:TAG`"
                .to_string(),
        ),
        (
            common::example_layout().display().to_string(),
            format!(
                "it is an OCI image layout: validate it as `oci:{}`",
                common::example_layout().display()
            ),
        ),
    ] {
        let output = extkit().args(["validate", &folder]).output().unwrap();
        assert_eq!(output.status.code(), Some(2));
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            format!(
                "error: `{folder}` is a folder, not a metadata.json file nor an image\n\
                 hint: {hint}\n"
            )
        );
    }
}
