//! `extkit copy` between the local transports.

mod common;

use std::fs;

use common::{example_layout, extkit};

const INDEX_DIGEST: &str =
    "sha256:4864955e443ebf91b4df501d119ce41992e0840bba4893e1592b48066c770612";
const ARM64_DIGEST: &str =
    "sha256:23bfe6d1bb13e5f4fe996358bdc80bf1f90ac0d06aaa485d88bd12338d08f4c9";

fn example() -> String {
    format!("oci:{}:latest", example_layout().display())
}

fn copy(args: &[&str]) -> (i32, String, String) {
    let output = extkit().arg("copy").args(args).output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn root_digest(location: &str) -> String {
    let output = extkit()
        .args(["inspect", location, "--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    value["digest"].as_str().unwrap().to_string()
}

#[test]
fn every_platform_is_copied_and_the_digest_kept_through_each_transport() {
    let scratch = tempfile::tempdir().unwrap();
    let archive = format!(
        "oci-archive:{}:v1",
        scratch.path().join("ext.tar").display()
    );
    let layout = format!("oci:{}:v2", scratch.path().join("layout").display());

    let (code, stdout, stderr) = copy(&[&example(), &archive]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, format!("{INDEX_DIGEST}\n").as_str()),
        "{stderr}"
    );
    assert!(
        stderr.contains("5 blobs written, 0 already there"),
        "{stderr}"
    );
    let (code, stdout, _) = copy(&[&archive, &layout]);
    assert_eq!((code, stdout.trim()), (0, INDEX_DIGEST));
    assert_eq!(root_digest(&layout), INDEX_DIGEST);

    // A second copy into the same layout finds every blob there.
    let (code, _, stderr) = copy(&[&archive, &layout]);
    assert_eq!(code, 0);
    assert!(
        stderr.contains("0 blobs written, 5 already there"),
        "{stderr}"
    );
}

#[test]
fn one_platform_into_a_docker_archive_and_back() {
    let scratch = tempfile::tempdir().unwrap();
    let saved = format!(
        "docker-archive:{}:acme/hello:1.0",
        scratch.path().join("hello.tar").display()
    );
    let (code, stdout, stderr) = copy(&[&example(), &saved, "--platform", "linux/arm64/v8"]);
    assert_eq!((code, stdout.trim()), (0, ARM64_DIGEST), "{stderr}");
    assert_eq!(root_digest(&saved), ARM64_DIGEST);

    let back = format!("oci:{}:arm64", scratch.path().join("back").display());
    let (code, stdout, _) = copy(&[&saved, &back]);
    assert_eq!((code, stdout.trim()), (0, ARM64_DIGEST));
}

#[test]
fn chosen_platforms_make_a_new_index_with_only_them() {
    let scratch = tempfile::tempdir().unwrap();
    let layout = format!("oci:{}:amd64", scratch.path().join("layout").display());
    let (code, stdout, _) = copy(&[&example(), &layout, "--platform", "linux/amd64"]);
    assert_eq!(code, 0);
    let digest = stdout.trim().to_string();
    assert_ne!(digest, INDEX_DIGEST);
    let output = extkit()
        .args(["inspect", &layout, "--format", "json"])
        .output()
        .unwrap();
    let index: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(index["digest"], digest.as_str());
    let platforms: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["platform"]["architecture"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["amd64"]);
}

#[test]
fn a_missing_platform_writes_nothing() {
    let scratch = tempfile::tempdir().unwrap();
    let target = scratch.path().join("layout");
    let (code, stdout, stderr) = copy(&[
        &example(),
        &format!("oci:{}:x", target.display()),
        "--platform",
        "linux/amd64,linux/riscv64",
    ]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert!(
        stderr.ends_with("has no linux/riscv64 image\nhint: it has linux/amd64, linux/arm64\n"),
        "{stderr}"
    );
    assert!(!target.exists());
    assert_eq!(fs::read_dir(scratch.path()).unwrap().count(), 0);
}

#[test]
fn an_index_into_a_docker_archive_asks_for_a_platform() {
    let scratch = tempfile::tempdir().unwrap();
    let saved = format!(
        "docker-archive:{}:acme/hello:1.0",
        scratch.path().join("hello.tar").display()
    );
    let (code, stdout, stderr) = copy(&[&example(), &saved]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        format!(
            "error: a docker-archive holds one platform per image, but `{INDEX_DIGEST}` is an index\n\
             hint: choose one platform with `--platform`, or write to `oci-archive:` which keeps them all\n"
        )
    );
    assert_eq!(fs::read_dir(scratch.path()).unwrap().count(), 0);
}

#[test]
fn a_copy_into_a_layout_replaces_a_corrupt_blob() {
    let scratch = tempfile::tempdir().unwrap();
    let folder = scratch.path().join("layout");
    let layout = format!("oci:{}:v1", folder.display());
    assert_eq!(copy(&[&example(), &layout]).0, 0);
    let layer = "afc0e5e2341b477088f83a5b0e1336728697119bf0adf51f4f3d16cc9757b7a5";
    let path = folder.join("blobs/sha256").join(layer);
    let mut bytes = fs::read(&path).unwrap();
    bytes[10] ^= 0x80;
    fs::write(&path, bytes).unwrap();

    let (code, _, stderr) = copy(&[&example(), &layout]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.ends_with("1 blob written (replacing a corrupt copy), 4 already there\n"),
        "{stderr}"
    );
    assert_eq!(
        fs::read(&path).unwrap(),
        fs::read(example_layout().join("blobs/sha256").join(layer)).unwrap()
    );
}

#[test]
fn a_failed_copy_into_a_new_layout_removes_only_what_it_created() {
    let scratch = tempfile::tempdir().unwrap();
    // A source whose arm64 manifest is damaged: the copy fails after the amd64 blobs.
    let source_folder = scratch.path().join("source");
    let (code, _, stderr) = copy(&[
        &example(),
        &format!("oci:{}:latest", source_folder.display()),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let manifest = source_folder.join("blobs/sha256").join(&ARM64_DIGEST[7..]);
    let mut bytes = fs::read(&manifest).unwrap();
    bytes[0] ^= 0x01;
    fs::write(&manifest, bytes).unwrap();
    let source = format!("oci:{}:latest", source_folder.display());

    let new = scratch.path().join("new");
    let (code, stdout, stderr) =
        copy(&[&source, &format!("oci:{}:v1", new.join("deeper").display())]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(
        stderr.starts_with(&format!(
            "error: digest mismatch for manifest `{ARM64_DIGEST}`"
        )),
        "{stderr}"
    );
    assert!(!new.exists(), "the folders the copy made are left");

    // An empty folder that was there stays, empty.
    let empty = scratch.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let (code, _, _) = copy(&[&source, &format!("oci:{}", empty.display())]);
    assert_eq!(code, 2);
    assert_eq!(fs::read_dir(&empty).unwrap().count(), 0);
}

#[test]
fn a_file_that_is_not_a_tar_is_named_so() {
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("notes.tar");
    fs::write(&file, vec![0xA5u8; 2048]).unwrap();
    for transport in ["oci-archive", "docker-archive"] {
        let location = format!("{transport}:{}", file.display());
        let out = format!("oci:{}", scratch.path().join("out").display());
        let (code, stdout, stderr) = copy(&[&location, &out]);
        assert_eq!((code, stdout.as_str()), (2, ""));
        assert_eq!(
            stderr,
            format!(
                "error: cannot read `{location}`\n\
                 caused by: `{}` is not a tar archive\n\
                 hint: `oci-archive:` and `docker-archive:` name tar files, as `extkit copy` or \
                 `docker save` write them; for an image layout folder use `oci:DIR`\n",
                file.display()
            )
        );
    }
}

#[test]
fn a_new_tag_in_an_oci_archive_keeps_the_others() {
    let scratch = tempfile::tempdir().unwrap();
    let path = scratch.path().join("ext.tar");
    let tagged = |tag: &str| format!("oci-archive:{}:{tag}", path.display());
    assert_eq!(copy(&[&example(), &tagged("v1")]).0, 0);
    let (code, stdout, stderr) = copy(&[&example(), &tagged("v2"), "--platform", "linux/arm64"]);
    assert_eq!(code, 0, "{stderr}");
    let v2 = stdout.trim().to_string();
    assert_ne!(v2, INDEX_DIGEST);
    assert_eq!(root_digest(&tagged("v1")), INDEX_DIGEST);
    assert_eq!(root_digest(&tagged("v2")), v2);

    // The same tag again replaces only that tag's image.
    let (code, _, stderr) = copy(&[&example(), &tagged("v2")]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(root_digest(&tagged("v2")), INDEX_DIGEST);
    assert_eq!(root_digest(&tagged("v1")), INDEX_DIGEST);
    // A `docker save` archive (which also holds an OCI layout) keeps its `manifest.json`.
    let docker = scratch.path().join("docker.tar");
    let saved = format!("docker-archive:{}:acme/ext:1", docker.display());
    let (code, amd64, _) = copy(&[&example(), &saved, "--platform", "linux/amd64"]);
    assert_eq!(code, 0);
    let oci_tag = format!("oci-archive:{}:v1", docker.display());
    assert_eq!(copy(&[&example(), &oci_tag]).0, 0);
    assert_eq!(root_digest(&oci_tag), INDEX_DIGEST);
    assert_eq!(root_digest(&saved), amd64.trim());

    let (code, _, stderr) = copy(&[&tagged("v3"), "oci-archive:/nowhere.tar"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.ends_with("hint: it holds: v1, v2\n"), "{stderr}");
}

#[test]
fn a_file_that_is_not_an_oci_archive_is_not_replaced() {
    let scratch = tempfile::tempdir().unwrap();
    let notes = scratch.path().join("notes.txt");
    fs::write(&notes, "keep me\n").unwrap();
    let (code, stdout, stderr) = copy(&[&example(), &format!("oci-archive:{}", notes.display())]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        format!(
            "error: cannot write `oci-archive:{0}`\ncaused by: `{0}` exists and is not an OCI \
             archive (it is not a tar file); extkit will not replace it\nhint: remove the file \
             or write to another one\n",
            notes.display()
        )
    );
    assert_eq!(fs::read_to_string(&notes).unwrap(), "keep me\n");
    // An empty file, with nothing to lose, is written over.
    let empty = scratch.path().join("empty.tar");
    fs::write(&empty, "").unwrap();
    let (code, _, stderr) = copy(&[&example(), &format!("oci-archive:{}", empty.display())]);
    assert_eq!(code, 0, "{stderr}");
    fs::remove_file(&empty).unwrap();
    // Nor as a docker archive.
    let docker = format!("docker-archive:{}:acme/ext:1", notes.display());
    let (code, _, stderr) = copy(&[&example(), &docker, "--platform", "linux/amd64"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(&format!(
            "`{}` exists and is not a docker archive (it is not a tar file); extkit will not \
             replace it",
            notes.display()
        )),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(&notes).unwrap(), "keep me\n");

    // Nor is a tar that holds no OCI layout.
    let folder = scratch.path().join("folder");
    fs::create_dir(&folder).unwrap();
    fs::write(folder.join("a.txt"), "a\n").unwrap();
    let plain = scratch.path().join("plain.tar");
    let status = std::process::Command::new("tar")
        .arg("-cf")
        .arg(&plain)
        .arg("-C")
        .arg(&folder)
        .arg("a.txt")
        .status()
        .unwrap();
    assert!(status.success());
    fs::remove_dir_all(&folder).unwrap();
    let before = fs::read(&plain).unwrap();
    let (code, _, stderr) = copy(&[&example(), &format!("oci-archive:{}", plain.display())]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("is not an OCI archive (it has no `oci-layout` and `index.json`)"),
        "{stderr}"
    );
    assert_eq!(fs::read(&plain).unwrap(), before);
    // Nothing is left beside them.
    let mut names: Vec<String> = fs::read_dir(scratch.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["notes.txt", "plain.tar"]);
}

#[test]
fn copy_prints_json_when_asked() {
    let scratch = tempfile::tempdir().unwrap();
    let layout = format!("oci:{}:v1", scratch.path().join("layout").display());
    let (code, stdout, stderr) = copy(&[&example(), &layout, "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        value,
        serde_json::json!({
            "digest": INDEX_DIGEST,
            "source": example(),
            "destination": layout,
            "blobs_written": 5,
            "blobs_mounted": 0,
            "blobs_already_there": 0,
            "blobs_repaired": 0,
        })
    );
}

/// Writes `bytes` as a blob of the layout at `folder`; gives its descriptor's digest.
fn put_blob(folder: &std::path::Path, bytes: &[u8]) -> String {
    let digest = common::digest_of(bytes);
    fs::write(folder.join("blobs/sha256").join(&digest[7..]), bytes).unwrap();
    digest
}

#[test]
fn chosen_platforms_keep_their_attestations_and_only_theirs() {
    // The example with a BuildKit-style attestation manifest for each platform.
    let scratch = tempfile::tempdir().unwrap();
    let folder = scratch.path().join("attested");
    fs::create_dir_all(folder.join("blobs/sha256")).unwrap();
    for entry in fs::read_dir(example_layout().join("blobs/sha256")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(
            entry.path(),
            folder.join("blobs/sha256").join(entry.file_name()),
        )
        .unwrap();
    }
    fs::copy(
        example_layout().join("oci-layout"),
        folder.join("oci-layout"),
    )
    .unwrap();
    let index: serde_json::Value = serde_json::from_slice(
        &fs::read(
            example_layout()
                .join("blobs/sha256")
                .join(&INDEX_DIGEST[7..]),
        )
        .unwrap(),
    )
    .unwrap();
    let mut entries = index["manifests"].as_array().unwrap().clone();
    for platform in entries.clone() {
        let config = put_blob(&folder, br#"{"architecture":"unknown","os":"unknown"}"#);
        let statement = format!(
            r#"{{"subject":"{}"}}"#,
            platform["digest"].as_str().unwrap()
        );
        let layer = put_blob(&folder, statement.as_bytes());
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": config, "size": 41},
            "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": layer,
                        "size": statement.len()}],
        }))
        .unwrap();
        let digest = put_blob(&folder, &manifest);
        entries.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest,
            "size": manifest.len(),
            "platform": {"architecture": "unknown", "os": "unknown"},
            "annotations": {
                "vnd.docker.reference.digest": platform["digest"],
                "vnd.docker.reference.type": "attestation-manifest",
            },
        }));
    }
    let mut attested = index.clone();
    attested["manifests"] = serde_json::Value::Array(entries.clone());
    let attested = serde_json::to_vec(&attested).unwrap();
    let root = put_blob(&folder, &attested);
    fs::write(
        folder.join("index.json"),
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
                           "digest": root, "size": attested.len(),
                           "annotations": {"org.opencontainers.image.ref.name": "latest"}}],
        }))
        .unwrap(),
    )
    .unwrap();

    let out = format!("oci:{}:arm", scratch.path().join("out").display());
    let source = format!("oci:{}:latest", folder.display());
    let (code, stdout, stderr) = copy(&[&source, &out, "--platform", "linux/arm64"]);
    assert_eq!(code, 0, "{stderr}");
    let written: serde_json::Value = serde_json::from_slice(
        &fs::read(
            scratch
                .path()
                .join("out/blobs/sha256")
                .join(&stdout.trim()[7..]),
        )
        .unwrap(),
    )
    .unwrap();
    // The arm64 entry and the attestation that describes it, each exactly as stored.
    assert_eq!(
        written["manifests"],
        serde_json::json!([entries[1].clone(), entries[3].clone()])
    );
    assert_eq!(entries[1]["digest"], ARM64_DIGEST);
    assert_eq!(
        entries[3]["annotations"]["vnd.docker.reference.digest"],
        ARM64_DIGEST
    );
    // The attestation's manifest came along, and the amd64 one did not.
    let blob = |entry: &serde_json::Value| {
        let digest = entry["digest"].as_str().unwrap();
        scratch.path().join("out/blobs/sha256").join(&digest[7..])
    };
    assert!(blob(&entries[3]).is_file());
    assert!(!blob(&entries[2]).exists());
}

#[test]
fn a_corrupt_blob_of_an_oci_archive_is_written_again_not_trusted() {
    let scratch = tempfile::tempdir().unwrap();
    let path = scratch.path().join("ext.tar");
    let tagged = |tag: &str| format!("oci-archive:{}:{tag}", path.display());
    assert_eq!(copy(&[&example(), &tagged("one")]).0, 0);
    // Flip a byte of the shared layer inside the tar.
    let layer = "afc0e5e2341b477088f83a5b0e1336728697119bf0adf51f4f3d16cc9757b7a5";
    let original = fs::read(example_layout().join("blobs/sha256").join(layer)).unwrap();
    let mut archive = fs::read(&path).unwrap();
    let at = archive
        .windows(original.len())
        .position(|window| window == original.as_slice())
        .unwrap();
    archive[at + 10] ^= 0x80;
    fs::write(&path, archive).unwrap();

    let (code, _, stderr) = copy(&[&example(), &tagged("two")]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.ends_with(": 1 blob written (replacing a corrupt copy), 4 already there\n"),
        "{stderr}"
    );
    // Both tags read back whole.
    let out = scratch.path().join("out");
    for tag in ["one", "two"] {
        let target = format!("oci:{}:{tag}", out.display());
        let (code, stdout, stderr) = copy(&[&tagged(tag), &target]);
        assert_eq!((code, stdout.trim()), (0, INDEX_DIGEST), "{stderr}");
    }
}

#[test]
fn a_destination_that_looks_like_a_file_is_not_pushed_to_docker_hub() {
    let (code, stdout, stderr) = copy(&[&example(), "ext.tar"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        "error: `ext.tar` looks like a file name, not an image to push\n\
         hint: write `oci-archive:ext.tar` for an OCI archive or `docker-archive:ext.tar` for \
         `docker load`; `docker://ext.tar` if it really is a registry name\n"
    );
}

#[test]
fn a_docker_archive_keeps_its_other_images_and_a_name_moves_to_the_new_one() {
    let scratch = tempfile::tempdir().unwrap();
    let path = scratch.path().join("saved.tar");
    let named = |name: &str| format!("docker-archive:{}:{name}", path.display());
    let (code, amd64, stderr) =
        copy(&[&example(), &named("acme/a:1"), "--platform", "linux/amd64"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, arm64, stderr) =
        copy(&[&example(), &named("acme/b:1"), "--platform", "linux/arm64"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(arm64.trim(), ARM64_DIGEST);
    assert_eq!(root_digest(&named("acme/a:1")), amd64.trim());
    assert_eq!(root_digest(&named("acme/b:1")), ARM64_DIGEST);

    // `acme/a:1` now names the arm64 image; the amd64 one stays, nameless.
    let (code, _, stderr) = copy(&[&example(), &named("acme/a:1"), "--platform", "linux/arm64"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(root_digest(&named("acme/a:1")), ARM64_DIGEST);
    assert_eq!(root_digest(&named("acme/b:1")), ARM64_DIGEST);
    let listing = std::process::Command::new("tar")
        .arg("-xOf")
        .arg(&path)
        .arg("manifest.json")
        .output()
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&listing.stdout).unwrap();
    let tags: Vec<&serde_json::Value> = manifest
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| &entry["RepoTags"])
        .collect();
    assert_eq!(
        tags,
        [
            &serde_json::Value::Null,
            &serde_json::json!(["acme/a:1", "acme/b:1"])
        ]
    );
}
