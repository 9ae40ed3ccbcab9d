//! `extkit init`: the files it writes, the folders it refuses, and that the project it writes
//! builds, validates with placeholder warnings only, and pushes both platforms with `make`.

mod common;

use std::process::Command;

use common::registry::{Mode, Registry};
use common::{extkit, require_peer, run_peer};
use std::path::Path;

/// The files `extkit init` writes without `--host-binary`, as it lists them.
const FILES: &[&str] = &[
    ".dockerignore",
    "Dockerfile",
    "Makefile",
    "icon.svg",
    "metadata.json",
    "ui/index.html",
];

/// Runs `extkit init` with `args` in `cwd`; gives (exit code, stdout, stderr).
fn init(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let output = extkit()
        .current_dir(cwd)
        .arg("init")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// Every regular file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap();
                files.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn init_writes_exactly_the_project_files() {
    let scratch = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = init(scratch.path(), &["x"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, format!("{}\n", FILES.join("\n")));
    assert_eq!(files_under(&scratch.path().join("x")), FILES);
    assert_eq!(
        stderr,
        "created the extension `x` in x\n\
         next: fill in the labels marked TODO in x/Dockerfile, then\n  \
         extkit build x -t x:0.1.0\n"
    );

    let dir = scratch.path().join("x");
    let metadata: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("metadata.json")).unwrap()).unwrap();
    assert_eq!(
        metadata,
        serde_json::json!({
            "icon": "icon.svg",
            "ui": { "dashboard-tab": { "title": "x", "root": "/ui", "src": "index.html" } }
        })
    );
    let makefile = std::fs::read_to_string(dir.join("Makefile")).unwrap();
    assert!(
        makefile.contains("\nIMAGE ?= x\nTAG ?= 0.1.0\n"),
        "{makefile}"
    );
    for target in [
        "build-extension:",
        "validate:",
        "install-extension:",
        "push-extension:",
    ] {
        assert!(makefile.contains(&format!("\n{target}")), "no {target}");
    }
    let dockerfile = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("\nARG TARGETARCH\n"));
    assert!(!dockerfile.contains("{{"), "{dockerfile}");
}

#[test]
fn init_with_a_host_binary_writes_placeholders_for_every_cpu_and_os() {
    let scratch = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = init(
        scratch.path(),
        &["x", "--name", "acme/my-ext", "--host-binary", "my-cli"],
    );
    assert_eq!(code, 0, "{stderr}");
    let expected = [
        ".dockerignore",
        "Dockerfile",
        "Makefile",
        "host/amd64/darwin/my-cli",
        "host/amd64/linux/my-cli",
        "host/amd64/windows/my-cli.cmd",
        "host/arm64/darwin/my-cli",
        "host/arm64/linux/my-cli",
        "host/arm64/windows/my-cli.cmd",
        "icon.svg",
        "metadata.json",
        "ui/index.html",
    ];
    assert_eq!(stdout, format!("{}\n", expected.join("\n")));
    let dir = scratch.path().join("x");
    assert_eq!(files_under(&dir), expected);
    assert!(
        stderr.contains("created the extension `acme/my-ext` in x\n"),
        "{stderr}"
    );

    let metadata: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("metadata.json")).unwrap()).unwrap();
    assert_eq!(metadata["ui"]["dashboard-tab"]["title"], "my-ext");
    assert_eq!(
        metadata["host"],
        serde_json::json!({ "binaries": [{
            "darwin": [{ "path": "/host/darwin/my-cli" }],
            "linux": [{ "path": "/host/linux/my-cli" }],
            "windows": [{ "path": "/host/windows/my-cli.cmd" }]
        }] })
    );
    let script = std::fs::read_to_string(dir.join("host/arm64/darwin/my-cli")).unwrap();
    assert!(script.starts_with("#!/bin/sh\n# TODO: replace this placeholder"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("host/arm64/linux/my-cli"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
    }
    let makefile = std::fs::read_to_string(dir.join("Makefile")).unwrap();
    assert!(makefile.contains("\nIMAGE ?= acme/my-ext\n"));
}

#[test]
fn init_refuses_a_folder_that_is_not_empty() {
    let scratch = tempfile::tempdir().unwrap();
    std::fs::create_dir(scratch.path().join("x")).unwrap();
    std::fs::write(scratch.path().join("x/notes.txt"), "mine").unwrap();
    let (code, stdout, stderr) = init(scratch.path(), &["x"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "error: `x` is not empty\n\
         hint: give a new or empty folder; extkit init never changes existing files\n"
    );
    assert_eq!(files_under(&scratch.path().join("x")), ["notes.txt"]);
}

#[test]
fn init_writes_into_an_empty_folder() {
    let scratch = tempfile::tempdir().unwrap();
    std::fs::create_dir(scratch.path().join("x")).unwrap();
    let (code, _, stderr) = init(scratch.path(), &["x"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(files_under(&scratch.path().join("x")), FILES);
}

#[test]
fn init_refuses_names_that_are_not_image_names() {
    let scratch = tempfile::tempdir().unwrap();
    let (code, _, stderr) = init(scratch.path(), &["My Ext"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: `My Ext` is not an image name\n\
         hint: use lower-case letters, digits, `.`, `_`, `-` and `/`, such as `--name acme/my-ext`\n"
    );
    let (code, _, stderr) = init(scratch.path(), &["y", "--host-binary", "bin/cli"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: `bin/cli` is not a plain file name for a host binary\n\
         hint: use letters, digits, `.`, `_` and `-`, without a folder or a `.exe`, such as \
         `--host-binary my-cli`\n"
    );
    assert!(!scratch.path().join("My Ext").exists());
    assert!(!scratch.path().join("y").exists());
}

/// The `label-placeholder` warnings of a fresh project, one line each, as validate prints them.
const PLACEHOLDER_WARNINGS: &[&str] = &[
    "warning[label-placeholder] com.docker.desktop.extension.icon:",
    "warning[label-placeholder] com.docker.extension.additional-urls:",
    "warning[label-placeholder] com.docker.extension.changelog:",
    "warning[label-placeholder] com.docker.extension.detailed-description:",
    "warning[label-placeholder] com.docker.extension.publisher-url:",
    "warning[label-placeholder] com.docker.extension.screenshots:",
    "warning[label-placeholder] org.opencontainers.image.description:",
    "warning[label-placeholder] org.opencontainers.image.vendor:",
];

/// The finding lines (`error[…]`, `warning[…]`) of a report, without their messages.
fn finding_heads(report: &str) -> Vec<String> {
    report
        .lines()
        .filter(|line| line.starts_with("warning[") || line.starts_with("error["))
        .map(|line| line.split_inclusive(':').next().unwrap().to_string())
        .collect()
}

#[test]
fn a_new_project_builds_and_validates_with_placeholder_warnings_only() {
    for host_binary in [None, Some("my-cli")] {
        let scratch = tempfile::tempdir().unwrap();
        let mut args = vec!["x"];
        args.extend(
            host_binary
                .iter()
                .flat_map(|binary| ["--host-binary", binary]),
        );
        let (code, _, stderr) = init(scratch.path(), &args);
        assert_eq!(code, 0, "{stderr}");

        let home = scratch.path().join("home");
        let build = extkit()
            .current_dir(scratch.path())
            .env("EXTKIT_HOME", &home)
            .args(["build", "x", "-t", "x:0.1.0"])
            .output()
            .unwrap();
        assert_eq!(
            build.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&build.stderr)
        );

        let output = extkit()
            .env("EXTKIT_HOME", &home)
            .args(["validate", "x:0.1.0"])
            .output()
            .unwrap();
        let report = format!(
            "{}{}",
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap()
        );
        assert_eq!(output.status.code(), Some(0), "{report}");
        assert_eq!(finding_heads(&report), PLACEHOLDER_WARNINGS, "{report}");
        assert!(
            report.contains("valid: 0 errors and 8 warnings"),
            "{report}"
        );
    }
}

#[test]
fn make_push_extension_pushes_both_platforms_to_a_registry() {
    if !require_peer("make") || !require_peer("skopeo") {
        return;
    }
    let Some(registry) = Registry::start(Mode::Plain) else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let (code, _, stderr) = init(scratch.path(), &["x", "--host-binary", "my-cli"]);
    assert_eq!(code, 0, "{stderr}");

    let image = format!("{}/x", registry.address);
    run_peer(
        Command::new("make")
            .arg("-C")
            .arg(scratch.path().join("x"))
            .arg("push-extension")
            .arg(format!("IMAGE={image}"))
            .arg("TAG=0.1.0")
            .arg(format!("EXTKIT={}", env!("CARGO_BIN_EXE_extkit")))
            .env("EXTKIT_HOME", scratch.path().join("home"))
            .env_remove("RUST_LOG"),
    );

    let raw = run_peer(Command::new("skopeo").args([
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{image}:0.1.0"),
    ]));
    let index: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    let platforms: Vec<String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            format!(
                "{}/{}",
                entry["platform"]["os"].as_str().unwrap(),
                entry["platform"]["architecture"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
}
