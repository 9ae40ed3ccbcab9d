//! What extkit sends to a registry, counted by a proxy between them: nothing uploaded twice,
//! mounts inside one registry, chunk counts.

mod common;

use common::registry::{CountingProxy, Mode, Registry, write_large_layout};
use common::{example_layout, extkit};

/// The example's shared layer, in both platforms.
const SHARED_LAYER: &str =
    "sha256:afc0e5e2341b477088f83a5b0e1336728697119bf0adf51f4f3d16cc9757b7a5";

/// Distinct blobs of the example: two configs, two host layers, the shared layer, and the
/// empty tar some tools add is absent, so five.
const EXAMPLE_BLOBS: usize = 5;

fn example() -> String {
    format!("oci:{}:latest", example_layout().display())
}

fn copy(from: &str, to: &str) {
    let output = extkit().args(["copy", from, to]).output().unwrap();
    assert!(
        output.status.success(),
        "extkit copy {from} {to} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn start() -> Option<(Registry, CountingProxy)> {
    let registry = Registry::start(Mode::Plain)?;
    let proxy = CountingProxy::start(&registry.address);
    Some((registry, proxy))
}

#[test]
fn a_first_push_uploads_each_blob_once_even_when_platforms_share_it() {
    let Some((_registry, proxy)) = start() else {
        return;
    };
    copy(&example(), &proxy.url("ext:1"));
    assert_eq!(proxy.count("HEAD blob"), EXAMPLE_BLOBS);
    assert_eq!(proxy.count("POST upload"), EXAMPLE_BLOBS);
    assert_eq!(proxy.count("PUT upload"), EXAMPLE_BLOBS);
    assert_eq!(proxy.count("PATCH upload"), 0, "small blobs go in one PUT");
    let shared_uploads = proxy
        .requests()
        .iter()
        .filter(|r| {
            r.shape() == "PUT upload"
                && r.target.contains(SHARED_LAYER.replace(':', "%3A").as_str())
        })
        .count();
    assert_eq!(shared_uploads, 1);
    // Two platform manifests, the index by digest, then the tag.
    assert_eq!(proxy.count("PUT manifest"), 4);
    // Only the existence checks may answer 404 on a first push.
    assert!(
        proxy
            .requests()
            .iter()
            .all(|r| r.status < 400 || (r.shape() == "HEAD blob" && r.status == 404)),
        "{:#?}",
        proxy.requests()
    );
}

#[test]
fn a_push_of_what_the_registry_has_uploads_nothing() {
    let Some((_registry, proxy)) = start() else {
        return;
    };
    copy(&example(), &proxy.url("ext:1"));
    proxy.reset();
    copy(&example(), &proxy.url("ext:1"));
    let uploads: Vec<_> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.shape().ends_with("upload") || r.shape().ends_with("mount"))
        .collect();
    assert!(uploads.is_empty(), "{uploads:#?}");
    assert_eq!(proxy.count("HEAD blob"), EXAMPLE_BLOBS);
}

#[test]
fn a_copy_between_repositories_of_one_registry_mounts_blobs() {
    let Some((_registry, proxy)) = start() else {
        return;
    };
    copy(&example(), &proxy.url("ext:1"));
    proxy.reset();
    let output = extkit()
        .args(["copy", &proxy.url("ext:1"), &proxy.url("other/ext:2")])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .ends_with(": 0 blobs written, 5 mounted from another repository, 0 already there\n")
    );
    let mounts: Vec<_> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.shape() == "POST mount")
        .collect();
    assert_eq!(mounts.len(), EXAMPLE_BLOBS);
    assert!(mounts.iter().all(|r| r.status == 201), "{mounts:#?}");
    assert!(
        mounts.iter().all(|r| r.target.contains("from=ext")),
        "{mounts:#?}"
    );
    assert_eq!(proxy.count("POST upload"), 0);
    assert_eq!(
        proxy.count("GET blob"),
        0,
        "mounted blobs are not downloaded"
    );
}

#[test]
fn a_large_blob_is_sent_in_chunks_of_the_configured_size() {
    let Some((_registry, proxy)) = start() else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let layout = scratch.path().join("large");
    let stored = write_large_layout(&layout, 1 << 20);
    let chunk = 256 * 1024;
    let output = extkit()
        .env("EXTKIT_REGISTRY_CHUNK_SIZE", chunk.to_string())
        .args([
            "copy",
            &format!("oci:{}:latest", layout.display()),
            &proxy.url("large:1"),
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected = stored.div_ceil(chunk);
    assert_eq!(
        expected, 5,
        "a 1 MiB file in a tar is a little over four chunks"
    );
    assert_eq!(proxy.count("PATCH upload") as u64, expected);
    // The layer in chunks, the config (small) in one request.
    assert_eq!(proxy.count("PUT upload"), 2);
}

#[test]
fn a_blob_of_several_chunks_goes_in_one_request_by_default() {
    let Some((_registry, proxy)) = start() else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let layout = scratch.path().join("large");
    // Larger than one 4 MiB chunk, smaller than the 64 MiB above which blobs are chunked.
    let stored = write_large_layout(&layout, 6 << 20);
    assert!(stored > 4 << 20);
    copy(
        &format!("oci:{}:latest", layout.display()),
        &proxy.url("large:1"),
    );
    assert_eq!(proxy.count("PATCH upload"), 0);
    // The layer and the config, each in one streamed PUT.
    assert_eq!(proxy.count("PUT upload"), 2);
}

#[test]
fn a_refused_mount_falls_back_to_an_upload() {
    let Some(registry) = Registry::start(Mode::Plain) else {
        return;
    };
    let proxy = CountingProxy::start_refusing_mounts(&registry.address);
    copy(&example(), &proxy.url("ext:1"));
    proxy.reset();
    let output = extkit()
        .args(["copy", &proxy.url("ext:1"), &proxy.url("other/ext:2")])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.ends_with(": 5 blobs written, 0 already there\n"),
        "{stderr}"
    );
    let mounts: Vec<_> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.shape() == "POST mount")
        .collect();
    assert_eq!(mounts.len(), EXAMPLE_BLOBS);
    assert!(mounts.iter().all(|r| r.status == 202), "{mounts:#?}");
    // Each blob is then read from the source and uploaded, once.
    assert_eq!(proxy.count("GET blob"), EXAMPLE_BLOBS);
    assert_eq!(proxy.count("POST upload"), EXAMPLE_BLOBS);
    assert_eq!(proxy.count("PUT upload"), EXAMPLE_BLOBS);
    let digest = extkit()
        .args(["inspect", &proxy.url("other/ext:2"), "--format", "json"])
        .output()
        .unwrap();
    let digest: serde_json::Value = serde_json::from_slice(&digest.stdout).unwrap();
    assert_eq!(
        digest["digest"],
        "sha256:4864955e443ebf91b4df501d119ce41992e0840bba4893e1592b48066c770612"
    );
}
