//! `extkit inspect` on the bundled example and on broken layouts.

mod common;

use std::fs;
use std::path::Path;

use common::{digest_of, example_layout, extkit, filter_path};

const INDEX_DIGEST: &str =
    "sha256:4864955e443ebf91b4df501d119ce41992e0840bba4893e1592b48066c770612";
const ARM64_DIGEST: &str =
    "sha256:23bfe6d1bb13e5f4fe996358bdc80bf1f90ac0d06aaa485d88bd12338d08f4c9";

fn example() -> String {
    format!("oci:{}:latest", example_layout().display())
}

/// Runs extkit and gives (exit code, stdout, stderr) with the example's path filtered.
fn run(args: &[&str]) -> (i32, String, String) {
    let output = extkit().args(args).output().unwrap();
    let filter = |bytes: &[u8]| {
        filter_path(&String::from_utf8_lossy(bytes), &example_layout())
            .replace("[TMP]", "[EXAMPLE]")
    };
    (
        output.status.code().unwrap(),
        filter(&output.stdout),
        filter(&output.stderr),
    )
}

#[test]
fn table_lists_every_platform_and_the_summary() {
    let (code, stdout, stderr) = run(&["inspect", &example()]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    insta::assert_snapshot!(stdout);
}

#[test]
fn json_is_the_stored_index_plus_digest_and_size() {
    let (code, stdout, _) = run(&["inspect", &example(), "--format", "json"]);
    assert_eq!(code, 0);
    let printed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let raw = extkit()
        .args(["inspect", &example(), "--raw"])
        .output()
        .unwrap()
        .stdout;
    let mut stored: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    stored["digest"] = INDEX_DIGEST.into();
    stored["size"] = raw.len().into();
    assert_eq!(printed, stored);
}

#[test]
fn raw_prints_the_exact_stored_bytes() {
    let output = extkit()
        .args(["inspect", &example(), "--raw"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(digest_of(&output.stdout), INDEX_DIGEST);
    let blob = example_layout()
        .join("blobs/sha256")
        .join(&INDEX_DIGEST[7..]);
    assert_eq!(output.stdout, fs::read(blob).unwrap());
}

#[test]
fn platform_picks_the_manifest_an_engine_would_pull() {
    // `arm64/v8` is `arm64`, and `aarch64` too.
    for wanted in ["linux/arm64", "linux/arm64/v8", "linux/aarch64"] {
        let (code, stdout, _) = run(&[
            "inspect",
            &example(),
            "--platform",
            wanted,
            "--format",
            "json",
        ]);
        assert_eq!(code, 0, "{wanted}");
        let printed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(printed["name"], "oci:[EXAMPLE]:latest");
        assert_eq!(printed["digest"], ARM64_DIGEST);
        assert_eq!(
            printed["manifest"]["mediaType"],
            "application/vnd.oci.image.manifest.v1+json"
        );
        assert_eq!(printed["image"]["architecture"], "arm64");
        assert_eq!(
            printed["image"]["config"]["Labels"]["org.opencontainers.image.title"],
            "Hello"
        );
    }
    let raw = extkit()
        .args(["inspect", &example(), "--platform", "linux/arm64", "--raw"])
        .output()
        .unwrap();
    assert_eq!(digest_of(&raw.stdout), ARM64_DIGEST);

    let (code, stdout, _) = run(&["inspect", &example(), "--platform", "linux/amd64"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(stdout);
}

#[test]
fn a_missing_platform_is_the_answer_no() {
    let (code, stdout, stderr) = run(&["inspect", &example(), "--platform", "linux/s390x"]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "error: oci:[EXAMPLE]:latest has no linux/s390x image\n\
         hint: it has linux/amd64, linux/arm64\n"
    );
}

/// A copy of the example layout to break.
fn broken_copy(scratch: &Path) -> std::path::PathBuf {
    let copy = scratch.join("layout");
    copy_dir(&example_layout(), &copy);
    copy
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Runs `inspect` on a broken layout: exit 2, an `error:` line and a `hint:` line.
fn inspect_broken(location: &str, extra: &[&str], scratch: &Path) -> String {
    let output = extkit()
        .arg("inspect")
        .arg(location)
        .args(extra)
        .output()
        .unwrap();
    let stderr = filter_path(&String::from_utf8_lossy(&output.stderr), scratch);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(output.stdout.is_empty());
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("\nhint: "), "no hint in: {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stderr}"
    );
    stderr
}

#[test]
fn a_layout_without_index_json_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let layout = broken_copy(scratch.path());
    fs::remove_file(layout.join("index.json")).unwrap();
    let stderr = inspect_broken(
        &format!("oci:{}:latest", layout.display()),
        &[],
        scratch.path(),
    );
    insta::assert_snapshot!(stderr);
}

#[test]
fn a_truncated_blob_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let layout = broken_copy(scratch.path());
    let blob = layout.join("blobs/sha256").join(&ARM64_DIGEST[7..]);
    let bytes = fs::read(&blob).unwrap();
    fs::write(&blob, &bytes[..100]).unwrap();
    let stderr = inspect_broken(
        &format!("oci:{}:latest", layout.display()),
        &["--platform", "linux/arm64"],
        scratch.path(),
    );
    insta::assert_snapshot!(stderr);
}

#[test]
fn a_digest_mismatch_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let layout = broken_copy(scratch.path());
    let blob = layout.join("blobs/sha256").join(&INDEX_DIGEST[7..]);
    let text = fs::read_to_string(&blob).unwrap().replace("arm64", "arm65");
    fs::write(&blob, text).unwrap();
    let stderr = inspect_broken(
        &format!("oci:{}:latest", layout.display()),
        &[],
        scratch.path(),
    );
    insta::assert_snapshot!(stderr);
}

/// A layout whose root is `document`, declared with `media_type`.
fn layout_with_root(scratch: &Path, document: &str, media_type: &str) -> String {
    let layout = scratch.join("layout");
    fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let digest = digest_of(document.as_bytes());
    fs::write(layout.join("blobs/sha256").join(&digest[7..]), document).unwrap();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": media_type, "digest": digest, "size": document.len(),
            "annotations": {"org.opencontainers.image.ref.name": "latest"}
        }]
    });
    fs::write(layout.join("index.json"), index.to_string()).unwrap();
    format!("oci:{}:latest", layout.display())
}

#[test]
fn an_unknown_media_type_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let location = layout_with_root(
        scratch.path(),
        r#"{"hello":"world"}"#,
        "application/x-hello",
    );
    let stderr = inspect_broken(&location, &[], scratch.path());
    insta::assert_snapshot!(stderr);
}

#[test]
fn an_empty_index_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let document = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
    let location = layout_with_root(
        scratch.path(),
        document,
        "application/vnd.oci.image.index.v1+json",
    );
    let stderr = inspect_broken(&location, &[], scratch.path());
    insta::assert_snapshot!(stderr);
}

#[test]
fn a_schema1_manifest_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let document = r#"{"schemaVersion":1,"name":"x","tag":"1","fsLayers":[]}"#;
    let location = layout_with_root(
        scratch.path(),
        document,
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    );
    let stderr = inspect_broken(&location, &[], scratch.path());
    insta::assert_snapshot!(stderr);
}

#[test]
fn malformed_json_is_refused_with_its_position() {
    let scratch = tempfile::tempdir().unwrap();
    let layout = broken_copy(scratch.path());
    fs::write(
        layout.join("index.json"),
        "{\"schemaVersion\": 2,\n \"manifests\": [ }",
    )
    .unwrap();
    let stderr = inspect_broken(
        &format!("oci:{}:latest", layout.display()),
        &[],
        scratch.path(),
    );
    insta::assert_snapshot!(stderr);
}

#[test]
fn reference_syntax_errors_are_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let mut all = String::new();
    for location in [
        "oci:",
        "Alpine",
        "docker://",
        "oci:dir:bad tag",
        "alpine@sha256:abc",
    ] {
        all.push_str(&format!("$ extkit inspect '{location}'\n"));
        all.push_str(&inspect_broken(location, &[], scratch.path()));
    }
    insta::assert_snapshot!(all);
}

#[test]
fn a_path_that_does_not_exist_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let mut all = String::new();
    for transport in ["oci", "oci-archive", "docker-archive"] {
        let location = format!("{transport}:{}/missing", scratch.path().display());
        all.push_str(&inspect_broken(&location, &[], scratch.path()));
    }
    insta::assert_snapshot!(all);
}

#[test]
fn an_unknown_tag_names_the_tags_there_are() {
    let scratch = tempfile::tempdir().unwrap();
    let location = format!("oci:{}:v9", example_layout().display());
    let stderr = inspect_broken(&location, &[], scratch.path());
    assert_eq!(
        filter_path(&stderr, &example_layout()),
        "error: cannot read `oci:[TMP]:v9`\n\
         caused by: no image named `oci:[TMP]:v9` in `[TMP]`\n\
         hint: it holds: latest\n"
    );
}

#[test]
fn logs_into_a_pipe_have_no_colour_codes() {
    let output = extkit()
        .env_remove("NO_COLOR")
        .args(["-v", "inspect", &example(), "--platform", "linux/arm64"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DEBUG chose the index entry"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}

#[test]
fn verbose_logs_decisions_on_stderr_and_quiet_hides_notes() {
    let (code, stdout, stderr) = run(&["-v", "inspect", &example(), "--platform", "linux/arm64"]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("Name:      oci:[EXAMPLE]:latest\n"),
        "{stdout}"
    );
    assert!(
        stderr.contains("DEBUG chose the index entry with containerd's platform rules wanted=linux/arm64 chosen=linux/arm64 entry=1"),
        "{stderr}"
    );

    // A compatible but not exact match is noted, unless --quiet.
    let scratch = tempfile::tempdir().unwrap();
    let location = arm_v6_only_layout(scratch.path());
    let output = extkit()
        .args(["inspect", &location, "--platform", "linux/arm/v7"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "note: no linux/arm/v7 image; using the compatible linux/arm/v6\n"
    );
    let output = extkit()
        .args(["inspect", "-q", &location, "--platform", "linux/arm/v7"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

/// A layout whose index has only a `linux/arm/v6` entry (pointing at the example's arm64
/// manifest, which is enough for choosing).
fn arm_v6_only_layout(scratch: &Path) -> String {
    let layout = broken_copy(scratch);
    let manifest = fs::read(
        example_layout()
            .join("blobs/sha256")
            .join(&ARM64_DIGEST[7..]),
    )
    .unwrap();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": ARM64_DIGEST, "size": manifest.len(),
            "platform": {"os": "linux", "architecture": "arm", "variant": "v6"}
        }]
    })
    .to_string();
    let digest = digest_of(index.as_bytes());
    fs::write(layout.join("blobs/sha256").join(&digest[7..]), &index).unwrap();
    let top = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": digest, "size": index.len(),
            "annotations": {"org.opencontainers.image.ref.name": "latest"}
        }]
    });
    fs::write(layout.join("index.json"), top.to_string()).unwrap();
    format!("oci:{}:latest", layout.display())
}
