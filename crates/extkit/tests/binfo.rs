//! `extkit binfo` on the real fixtures built by scripts/make-binfmt-fixtures.sh.

mod common;

use common::{extkit, repo_root};

const FIXTURES: &[&str] = &[
    "hello-darwin-amd64",
    "hello-darwin-arm64",
    "hello-darwin-universal",
    "hello-linux-amd64",
    "hello-linux-amd64-dynamic",
    "hello-linux-arm64",
    "hello-linux-armv6",
    "hello-linux-armv7",
    "hello-linux-386",
    "hello-windows-amd64.exe",
    "hello-windows-arm64.exe",
    "hello-windows-arm64-gui.exe",
    "hello.sh",
    "hello.cmd",
    "hello.ps1",
    "hello.c",
];

fn binfo(extra: &[&str]) -> (i32, String, String) {
    let output = extkit()
        .current_dir(repo_root().join("crates/extkit-binfmt/tests/fixtures"))
        .arg("binfo")
        .args(FIXTURES)
        .args(extra)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn table_names_format_os_and_cpus_of_every_fixture() {
    let (code, stdout, stderr) = binfo(&[]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    insta::assert_snapshot!(stdout);
}

#[test]
fn json_has_every_field_for_every_file() {
    let (code, stdout, _) = binfo(&["--format", "json"]);
    assert_eq!(code, 0);
    let entries: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(entries.as_array().unwrap().len(), FIXTURES.len());
    assert_eq!(
        entries[2],
        serde_json::json!({
            "path": "hello-darwin-universal",
            "format": "mach-o-universal",
            "os": "darwin",
            "architectures": ["amd64", "arm64"],
            "details": {"linking": null, "interpreter": null, "min_macos": "10.13", "subsystem": null},
            "error": null
        })
    );
    insta::assert_snapshot!(stdout);
}

#[test]
fn a_file_that_cannot_be_read_is_an_entry_with_an_error_and_exit_1() {
    let (code, stdout, stderr) = binfo(&["missing-file", "--format", "json"]);
    assert_eq!(code, 1);
    let entries: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        entries[FIXTURES.len()],
        serde_json::json!({
            "path": "missing-file",
            "format": null,
            "os": null,
            "architectures": [],
            "details": null,
            "error": "cannot open `missing-file`: No such file or directory (os error 2)"
        })
    );
    assert_eq!(stderr, "");

    let (code, stdout, stderr) = binfo(&["missing-file"]);
    assert_eq!(code, 1);
    assert!(
        stdout.ends_with(
            "missing-file                  error              -         -               -\n"
        ),
        "{stdout}"
    );
    assert_eq!(
        stderr,
        "error: cannot open `missing-file`: No such file or directory (os error 2)\n"
    );
}

#[test]
fn a_fifo_is_an_entry_with_an_error_not_a_hang() {
    let scratch = tempfile::tempdir().unwrap();
    let fifo = scratch.path().join("pipe");
    common::make_fifo(&fifo);
    let output = extkit()
        .current_dir(scratch.path())
        .args(["binfo", "pipe", "--format", "json"])
        .timeout(std::time::Duration::from_secs(10))
        .output()
        .unwrap();
    let code = output
        .status
        .code()
        .expect("`extkit binfo` on a FIFO finishes within 10 s");
    assert_eq!(code, 1);
    let entries: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        entries,
        serde_json::json!([{
            "path": "pipe",
            "format": null,
            "os": null,
            "architectures": [],
            "details": null,
            "error": "cannot read `pipe`: not a regular file (a FIFO)"
        }])
    );
    assert_eq!(String::from_utf8(output.stderr).unwrap(), "");
}
