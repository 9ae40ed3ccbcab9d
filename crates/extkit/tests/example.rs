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

/// The commands of the README's first block that run extkit, as argument lists: each line's
/// `cargo run --locked -p extkit -- ` commands, split at `&&`, with `"$(mktemp -d)"` replaced by
/// `scratch`.
fn readme_commands(scratch: &Path) -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let block = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README starts with a sh block");
    let prefix = "cargo run --locked -p extkit -- ";
    let scratch = scratch.display().to_string();
    // One command line may go on over several with `\` at their ends.
    let joined = block.replace(" \\\n", " ");
    joined
        .lines()
        .filter(|line| line.starts_with(prefix))
        .flat_map(|line| line.split(" && "))
        .map(str::trim)
        .map(|command| {
            command
                .strip_prefix(prefix)
                .unwrap_or_else(|| panic!("`{command}` is not a cargo run of extkit"))
                .replace("\"$(mktemp -d)\"", &scratch)
                .split_whitespace()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

#[test]
fn the_readme_first_command_builds_validates_and_installs_the_example() {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().join("root");
    let commands = readme_commands(&root);
    let shown: Vec<String> = commands.iter().map(|args| args.join(" ")).collect();
    assert_eq!(
        shown,
        [
            "-q build examples/hello-extension -t extkit/hello-extension:0.1.0".to_string(),
            "inspect extkit/hello-extension:0.1.0".to_string(),
            "validate extkit/hello-extension:0.1.0".to_string(),
            format!(
                "install extkit/hello-extension:0.1.0 --host darwin/arm64 --root {}",
                root.display()
            ),
        ]
    );

    // Run from the repository's root, as the README says, with a fresh data folder.
    let home = scratch.path().join("home");
    for args in &commands {
        let output = extkit()
            .current_dir(repo_root())
            .env("EXTKIT_HOME", &home)
            .args(args)
            .output()
            .unwrap();
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.status.code(), Some(0), "{args:?}:\n{report}");
        if args[0] == "inspect" {
            assert!(
                report.contains("\n\n2 platforms runnable: linux/amd64, linux/arm64\n"),
                "{report}"
            );
        }
        if args[0] == "validate" {
            assert!(report.contains(MATRIX), "{args:?}:\n{report}");
            assert!(
                report.contains("valid: 0 errors and 0 warnings"),
                "{args:?}:\n{report}"
            );
        }
    }
    let hello = std::fs::read(root.join("extkit_hello-extension/host/hello")).unwrap();
    assert_eq!(
        hello,
        std::fs::read(example().join("host/arm64/darwin/hello")).unwrap()
    );

    // The same checks as for buildah's image, on the store's.
    let image = "extkit/hello-extension:0.1.0";
    assert_valid_without_warnings(&home, image);
    assert_installs_for_an_apple_silicon_mac(&home, image, "extkit_hello-extension");
}
