//! What `extkit pull` asks a registry for, counted by a proxy between them: blobs downloaded
//! a few at a time, each once, nothing the store already holds.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use common::registry::{CountingProxy, Mode, Registry, noise};
use common::{example_layout, extkit};
use extkit_layer::{Compression, LayerBuilder};
use extkit_oci::transport::LayoutDestination;
use extkit_oci::{ImageWriter, Platform, PlatformImage};

/// The example's shared layer, in both platforms.
const SHARED_LAYER: &str =
    "sha256:afc0e5e2341b477088f83a5b0e1336728697119bf0adf51f4f3d16cc9757b7a5";

/// Distinct blobs of the example: two configs, two host layers and the shared layer.
const EXAMPLE_BLOBS: usize = 5;

/// How long the proxy holds back each blob download, so that downloads made at the same time
/// overlap whatever the machine's load.
const BLOB_DELAY: Duration = Duration::from_millis(300);

/// Runs extkit with `EXTKIT_HOME` set to `home` and an empty Docker config; gives (exit code,
/// stdout, stderr).
fn run(home: &Path, args: &[&str]) -> (i32, String, String) {
    let no_login = tempfile::tempdir().unwrap();
    let output = extkit()
        .env("EXTKIT_HOME", home)
        .env("DOCKER_CONFIG", no_login.path())
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// Copies `from` to `to` with a scratch home; gives the digest written.
fn copy(from: &str, to: &str) -> String {
    let home = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(home.path(), &["copy", from, to]);
    assert_eq!(code, 0, "extkit copy {from} {to} failed:\n{stderr}");
    stdout.trim().to_string()
}

/// Pulls `reference` into the store at `home`, checks the store, and gives the digest
/// pulled.
fn pull(home: &Path, reference: &str) -> String {
    let (code, stdout, stderr) = run(home, &["pull", reference]);
    assert_eq!(code, 0, "extkit pull {reference} failed:\n{stderr}");
    let (code, _, stderr) = run(home, &["store", "check"]);
    assert_eq!(code, 0, "extkit store check failed after a pull:\n{stderr}");
    stdout.trim().to_string()
}

/// How many times each blob was downloaded.
fn downloads(proxy: &CountingProxy) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for request in proxy.requests() {
        if request.shape() == "GET blob" {
            assert_eq!(request.status, 200, "{request:?}");
            let digest = request.target.rsplit('/').next().unwrap().to_string();
            *counts.entry(digest).or_default() += 1;
        }
    }
    counts
}

/// Writes a one-platform image of `layers` layers, each an uncompressed tar of `size` bytes
/// of noise, tagged `latest`.
fn write_layered_layout(path: &Path, layers: usize, size: usize) {
    let layers = (0..layers)
        .map(|index| {
            let mut layer = LayerBuilder::new(0);
            let name = format!("part-{index}.bin");
            layer
                .add_file(&name, noise(size, index as u64 + 11), 0o644)
                .unwrap();
            layer.build(Compression::None).unwrap()
        })
        .collect();
    let mut writer = ImageWriter::new();
    writer.add(PlatformImage {
        platform: Platform::new("linux", "amd64", None),
        config: serde_json::json!({ "Cmd": ["/bin/true"] }),
        created: Some("1970-01-01T00:00:00Z".into()),
        layers,
    });
    let destination = LayoutDestination::create(path, Some("latest".into())).unwrap();
    writer.write(Box::new(destination)).unwrap();
}

#[test]
fn a_pull_downloads_several_blobs_at_once_each_once() {
    let Some(registry) = Registry::start(Mode::Plain) else {
        return;
    };
    let proxy = CountingProxy::start_slow(&registry.address, BLOB_DELAY);
    let scratch = tempfile::tempdir().unwrap();
    let layout = scratch.path().join("layers");
    write_layered_layout(&layout, 4, 1 << 20);
    let pushed = copy(
        &format!("oci:{}:latest", layout.display()),
        &proxy.url("layers:1"),
    );
    proxy.reset();

    let home = tempfile::tempdir().unwrap();
    let reference = format!("{}/layers:1", proxy.address);
    assert_eq!(pull(home.path(), &reference), pushed);
    let counts = downloads(&proxy);
    // The config and four layers, each downloaded once.
    assert_eq!(counts.len(), 5, "{counts:#?}");
    assert!(counts.values().all(|count| *count == 1), "{counts:#?}");
    assert!(
        proxy.most_at_once("GET blob") >= 2,
        "blob downloads did not overlap: {:#?}",
        proxy.requests()
    );

    // A second pull finds every blob in the store and downloads none.
    proxy.reset();
    assert_eq!(pull(home.path(), &reference), pushed);
    assert_eq!(proxy.count("GET blob"), 0, "{:#?}", proxy.requests());
}

#[test]
fn a_pull_downloads_a_layer_two_platforms_share_once() {
    let Some(registry) = Registry::start(Mode::Plain) else {
        return;
    };
    let proxy = CountingProxy::start_slow(&registry.address, BLOB_DELAY);
    let example = format!("oci:{}:latest", example_layout().display());
    let pushed = copy(&example, &proxy.url("ext:1"));
    proxy.reset();

    let home = tempfile::tempdir().unwrap();
    assert_eq!(
        pull(home.path(), &format!("{}/ext:1", proxy.address)),
        pushed
    );
    let counts = downloads(&proxy);
    assert_eq!(counts.len(), EXAMPLE_BLOBS, "{counts:#?}");
    assert!(counts.values().all(|count| *count == 1), "{counts:#?}");
    assert_eq!(counts.get(SHARED_LAYER), Some(&1), "{counts:#?}");
    assert!(
        proxy.most_at_once("GET blob") >= 2,
        "{:#?}",
        proxy.requests()
    );
}

#[test]
fn a_pull_into_a_store_holding_some_blobs_downloads_only_the_others() {
    let Some(registry) = Registry::start(Mode::Plain) else {
        return;
    };
    let proxy = CountingProxy::start(&registry.address);
    let example = format!("oci:{}:latest", example_layout().display());
    let pushed = copy(&example, &proxy.url("ext:1"));
    let home = tempfile::tempdir().unwrap();
    // The store holds the linux/amd64 image: its config, its host layer and the shared layer.
    let (code, _, stderr) = run(
        home.path(),
        &[
            "copy",
            "--platform",
            "linux/amd64",
            &example,
            "store:local:1",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    proxy.reset();

    assert_eq!(
        pull(home.path(), &format!("{}/ext:1", proxy.address)),
        pushed
    );
    let counts = downloads(&proxy);
    // Only the linux/arm64 config and host layer.
    assert_eq!(counts.len(), 2, "{counts:#?}");
    assert!(counts.values().all(|count| *count == 1), "{counts:#?}");
    assert!(!counts.contains_key(SHARED_LAYER), "{counts:#?}");
}
