//! The bundled example extension, `examples/hello-extension`: the README's first command
//! (build for both platforms into the local store, then validate) runs end to end, an install
//! for an Apple silicon Mac lands the arm64 Mach-O, and buildah builds the same extension.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{extkit, repo_root, require_peer, run_peer};

/// The example's folder.
fn example() -> PathBuf {
    repo_root().join("examples/hello-extension")
}

/// Runs extkit with `EXTKIT_HOME` set to `home`; gives (exit code, stdout, stderr).
fn run(home: &Path, args: &[&str]) -> (i32, String, String) {
    let output = extkit()
        .env("EXTKIT_HOME", home)
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// The Desktop matrix validate prints for the example, whoever built it.
const MATRIX: &str = "\
DESKTOP USER    PULLS         HOST BINARIES
darwin/amd64    linux/amd64   hello (native)
darwin/arm64    linux/arm64   hello (native)
windows/amd64   linux/amd64   hello.exe (native)
windows/arm64   linux/arm64   hello.exe (native)
linux/amd64     linux/amd64   hello (native)
linux/arm64     linux/arm64   hello (native)
";

/// Validates `image` and checks the report: no finding at all, and the matrix above.
fn assert_valid_without_warnings(home: &Path, image: &str) {
    let (code, stdout, stderr) = run(home, &["validate", image]);
    let report = format!("{stdout}{stderr}");
    assert_eq!(code, 0, "{report}");
    assert!(!report.contains("warning["), "{report}");
    assert!(!report.contains("error["), "{report}");
    assert!(report.contains(MATRIX), "{report}");
    assert!(
        report.contains("valid: 0 errors and 0 warnings"),
        "{report}"
    );
}

/// Installs `image` for `darwin/arm64` into a new root and checks what lands.
fn assert_installs_for_an_apple_silicon_mac(home: &Path, image: &str, folder: &str) {
    let root = tempfile::tempdir().unwrap();
    let root_arg = root.path().to_str().unwrap();
    let (code, _, stderr) = run(
        home,
        &[
            "install",
            image,
            "--host",
            "darwin/arm64",
            "--root",
            root_arg,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let installed = root.path().join(folder);
    let mut names: Vec<String> = std::fs::read_dir(&installed)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "hello.svg",
            "host",
            "install.json",
            "labels.json",
            "metadata.json",
            "ui"
        ]
    );
    let hello = std::fs::read(installed.join("host/hello")).unwrap();
    assert_eq!(
        hello,
        std::fs::read(example().join("host/arm64/darwin/hello")).unwrap()
    );
    // A thin 64-bit Mach-O (magic 0xfeedfacf) for arm64 (CPU type 0x0100000c), little-endian.
    assert_eq!(hello[..8], [0xcf, 0xfa, 0xed, 0xfe, 0x0c, 0x00, 0x00, 0x01]);
    assert!(installed.join("ui/index.html").is_file());
    let (code, stdout, _) = run(
        home,
        &[
            "binfo",
            installed.join("host/hello").to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0);
    let info: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(info[0]["os"], "darwin", "{stdout}");
    assert_eq!(
        info[0]["architectures"],
        serde_json::json!(["arm64"]),
        "{stdout}"
    );
}

#[test]
fn buildah_builds_the_example_into_an_extension_without_warnings() {
    if !require_peer("buildah") {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let buildah = || {
        let mut command = Command::new("buildah");
        command
            .arg("--root")
            .arg(scratch.path().join("storage"))
            .arg("--runroot")
            .arg(scratch.path().join("run"))
            .args(["--storage-driver", "vfs"]);
        command
    };
    run_peer(
        buildah()
            .args(["build", "--isolation", "chroot"])
            .args(["--platform", "linux/amd64,linux/arm64"])
            .args(["--manifest", "localhost/hello-extension:multi"])
            .arg(example()),
    );
    let layout = scratch.path().join("layout");
    run_peer(
        buildah()
            .args(["manifest", "push", "--all", "--format", "oci"])
            .arg("localhost/hello-extension:multi")
            .arg(format!("oci:{}:0.1.0", layout.display())),
    );
    let image = format!("oci:{}:0.1.0", layout.display());
    let home = scratch.path().join("home");
    assert_valid_without_warnings(&home, &image);
    assert_installs_for_an_apple_silicon_mac(&home, &image, "layout");
}
