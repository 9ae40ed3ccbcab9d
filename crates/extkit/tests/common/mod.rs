//! Helpers shared by the integration tests: running extkit, finding peers, filtering output.

#![allow(dead_code, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `extkit` binary built for these tests, run with a clean environment for logs.
pub fn extkit() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::cargo_bin("extkit").expect("the extkit binary is built");
    command.env_remove("RUST_LOG").env("NO_COLOR", "1");
    command
}

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The bundled example layout.
pub fn example_layout() -> PathBuf {
    repo_root().join("examples/hello-layout")
}

/// Whether a peer program is installed. When it is not: under `CI` the test fails, since CI
/// installs every peer; elsewhere the test is skipped with a message saying how to install it.
pub fn require_peer(program: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .is_ok_and(|output| output.status.success());
    if found {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("`{program}` is not installed, and CI must run every interoperability test");
    }
    eprintln!(
        "skipped: `{program}` is not installed (run ./scripts/test, which installs the test peers)"
    );
    false
}

/// Runs a peer command and gives its stdout; panics with its stderr when it fails.
pub fn run_peer(command: &mut Command) -> Vec<u8> {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Makes a FIFO (named pipe) at `path`; opening it for reading waits for a writer, so
/// whatever runs on it must do so under a timeout.
pub fn make_fifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {} failed", path.display());
}

/// The SHA-256 digest of bytes, as `sha256:…`.
pub fn digest_of(bytes: &[u8]) -> String {
    extkit_oci::sha256_digest(bytes).to_string()
}

/// Output with a temporary folder's path replaced by `[TMP]`, for snapshots.
pub fn filter_path(text: &str, path: &Path) -> String {
    text.replace(&path.display().to_string(), "[TMP]")
}

pub mod build;
pub mod extension;
pub mod registry;
