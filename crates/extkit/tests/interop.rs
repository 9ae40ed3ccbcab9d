//! Interoperability with real peers: what buildah, skopeo and umoci write, extkit reads with
//! the digests they report; what extkit writes, skopeo and umoci read.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{digest_of, example_layout, extkit, require_peer, run_peer};
use extkit_oci::transport::{Location, copy_image, join_manifests, open_destination, open_source};
use extkit_oci::{Platform, RawManifest};
use serde_json::Value;

/// A two-platform image built by buildah from a `FROM scratch` Dockerfile that picks a file
/// with `TARGETARCH`, pushed into an OCI layout (`format` is `oci` or `v2s2`).
///
/// Gives the layout and the index digest buildah reports.
fn buildah_layout(scratch: &Path, format: &str) -> (PathBuf, String) {
    let context = scratch.join("context");
    for architecture in ["amd64", "arm64"] {
        let folder = context.join("files").join(architecture);
        fs::create_dir_all(&folder).unwrap();
        fs::write(folder.join("hello"), format!("hello from {architecture}\n")).unwrap();
    }
    fs::write(
        context.join("Dockerfile"),
        "FROM scratch\nARG TARGETARCH\nLABEL org.opencontainers.image.title=Hello\n\
         COPY files/${TARGETARCH}/hello /hello\n",
    )
    .unwrap();
    let buildah = || {
        let mut command = Command::new("buildah");
        command
            .arg("--root")
            .arg(scratch.join("storage"))
            .arg("--runroot")
            .arg(scratch.join("run"))
            .args(["--storage-driver", "vfs"]);
        command
    };
    run_peer(
        buildah()
            .args([
                "build",
                "--isolation",
                "chroot",
                "--platform",
                "linux/amd64,linux/arm64",
            ])
            .args(["--manifest", "localhost/ext:multi", "-f"])
            .arg(context.join("Dockerfile"))
            .arg(&context),
    );
    let layout = scratch.join("layout");
    let digest_file = scratch.join("pushed-digest");
    run_peer(
        buildah()
            .args([
                "manifest",
                "push",
                "--all",
                "--format",
                format,
                "--digestfile",
            ])
            .arg(&digest_file)
            .arg("localhost/ext:multi")
            .arg(format!("oci:{}:latest", layout.display())),
    );
    let pushed = fs::read_to_string(&digest_file).unwrap();
    (layout, pushed.trim().to_string())
}

fn skopeo(args: &[&str]) -> Vec<u8> {
    run_peer(Command::new("skopeo").args(args))
}

fn extkit_json(args: &[&str]) -> Value {
    let output = extkit()
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn extkit_raw(location: &str) -> Vec<u8> {
    let output = extkit()
        .args(["inspect", location, "--raw"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// extkit reports the index, manifest and config digests skopeo reports for `location`,
/// whose index entries must be for `architectures`, in any order.
fn assert_same_digests_as_skopeo(location: &str, architectures: &[&str], index_type: &str) {
    let skopeo_raw = skopeo(&["inspect", "--raw", location]);
    let ours = extkit_json(&["inspect", location]);
    assert_eq!(
        ours["digest"],
        digest_of(&skopeo_raw),
        "index digest of {location}"
    );
    assert_eq!(ours["mediaType"], index_type);
    assert_eq!(extkit_raw(location), skopeo_raw);

    let index: Value = serde_json::from_slice(&skopeo_raw).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    let mut listed: Vec<&str> = entries
        .iter()
        .map(|e| e["platform"]["architecture"].as_str().unwrap())
        .collect();
    listed.sort();
    assert_eq!(listed, architectures);
    for entry in entries {
        let architecture = entry["platform"]["architecture"].as_str().unwrap();
        let chosen = extkit_json(&[
            "inspect",
            location,
            "--platform",
            &format!("linux/{architecture}"),
        ]);
        assert_eq!(
            chosen["digest"], entry["digest"],
            "{architecture} manifest of {location}"
        );
        let config = skopeo(&[
            "inspect",
            "--config",
            "--raw",
            "--override-arch",
            architecture,
            location,
        ]);
        assert_eq!(
            chosen["manifest"]["config"]["digest"],
            digest_of(&config),
            "{architecture} config"
        );
        assert_eq!(chosen["image"]["architecture"], architecture);
    }
}

#[test]
fn buildah_oci_layouts_are_read_with_skopeos_digests() {
    if !require_peer("buildah") || !require_peer("skopeo") {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let (layout, pushed) = buildah_layout(scratch.path(), "oci");
    let location = format!("oci:{}:latest", layout.display());
    assert_same_digests_as_skopeo(
        &location,
        &["amd64", "arm64"],
        "application/vnd.oci.image.index.v1+json",
    );
    assert_eq!(extkit_json(&["inspect", &location])["digest"], pushed);
}

#[test]
fn buildah_docker_manifest_lists_are_read_with_skopeos_digests() {
    if !require_peer("buildah") || !require_peer("skopeo") {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    // skopeo 1.9 finds only OCI media types in a layout's index.json, so buildah's own report
    // of the digest is the reference here.
    let (layout, pushed) = buildah_layout(scratch.path(), "v2s2");
    let location = format!("oci:{}:latest", layout.display());
    let index = extkit_json(&["inspect", &location]);
    assert_eq!(index["digest"], pushed);
    assert_eq!(
        index["mediaType"],
        "application/vnd.docker.distribution.manifest.list.v2+json"
    );
    for entry in index["manifests"].as_array().unwrap() {
        let architecture = entry["platform"]["architecture"].as_str().unwrap();
        let chosen = extkit_json(&[
            "inspect",
            &location,
            "--platform",
            &format!("linux/{architecture}"),
        ]);
        assert_eq!(chosen["digest"], entry["digest"]);
        assert_eq!(
            chosen["manifest"]["mediaType"],
            "application/vnd.docker.distribution.manifest.v2+json"
        );
        assert_eq!(
            chosen["manifest"]["config"]["mediaType"],
            "application/vnd.docker.container.image.v1+json"
        );
        assert_eq!(chosen["image"]["architecture"], architecture);
        assert_eq!(
            chosen["image"]["config"]["Labels"]["org.opencontainers.image.title"],
            "Hello"
        );
    }
}

#[test]
fn skopeo_archives_are_read_with_skopeos_digests() {
    if !require_peer("buildah") || !require_peer("skopeo") {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let (layout, _) = buildah_layout(scratch.path(), "oci");
    let source = format!("oci:{}:latest", layout.display());

    let archive = format!(
        "oci-archive:{}:v1",
        scratch.path().join("ext.tar").display()
    );
    skopeo(&["copy", "--all", &source, &archive]);
    assert_same_digests_as_skopeo(
        &archive,
        &["amd64", "arm64"],
        "application/vnd.oci.image.index.v1+json",
    );

    // A docker-archive holds one platform: skopeo picks arm64 here.
    let saved = scratch.path().join("saved.tar");
    let docker_archive = format!("docker-archive:{}:localhost/ext:arm64", saved.display());
    skopeo(&["copy", "--override-arch", "arm64", &source, &docker_archive]);
    let chosen = extkit_json(&["inspect", &docker_archive, "--platform", "linux/arm64"]);
    let config = skopeo(&["inspect", "--config", "--raw", &docker_archive]);
    assert_eq!(chosen["manifest"]["config"]["digest"], digest_of(&config));
    assert_eq!(chosen["image"]["architecture"], "arm64");
    // skopeo makes up the same manifest from `manifest.json` as extkit does.
    let skopeo_manifest = skopeo(&["inspect", "--raw", &docker_archive]);
    assert_eq!(chosen["digest"], digest_of(&skopeo_manifest));
    // Without a name, the only image in the archive is used.
    let unnamed = extkit_json(&["inspect", &format!("docker-archive:{}", saved.display())]);
    assert_eq!(unnamed["digest"], digest_of(&skopeo_manifest));
}

/// Two single-platform images made with umoci, each with one file.
fn umoci_images(scratch: &Path) -> PathBuf {
    let layout = scratch.join("umoci");
    run_peer(
        Command::new("umoci")
            .args(["init", "--layout"])
            .arg(&layout),
    );
    for architecture in ["amd64", "arm64"] {
        let image = format!("{}:{architecture}", layout.display());
        run_peer(Command::new("umoci").args(["new", "--image", &image]));
        let file = scratch.join(format!("hello-{architecture}"));
        fs::write(&file, format!("hello from {architecture}\n")).unwrap();
        run_peer(
            Command::new("umoci")
                .args(["insert", "--image", &image])
                .arg(&file)
                .arg("/hello"),
        );
        run_peer(
            Command::new("umoci")
                .args(["config", "--image", &image, "--os", "linux"])
                .args([
                    "--architecture",
                    architecture,
                    "--config.label",
                    "org.opencontainers.image.title=Hello",
                ]),
        );
    }
    layout
}

fn oci(path: &Path, tag: &str) -> Location {
    Location::Oci {
        path: path.to_path_buf(),
        tag: Some(tag.to_string()),
    }
}

#[test]
fn umoci_images_joined_by_extkit_are_read_by_skopeo_and_umoci() {
    if !require_peer("umoci") || !require_peer("skopeo") {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let images = umoci_images(scratch.path());
    let amd64 = open_source(&oci(&images, "amd64")).unwrap();
    let arm64 = open_source(&oci(&images, "arm64")).unwrap();
    let joined_path = scratch.path().join("joined");
    let destination = open_destination(&oci(&joined_path, "latest")).unwrap();
    let index = join_manifests(&[amd64.as_ref(), arm64.as_ref()], destination).unwrap();

    let location = format!("oci:{}:latest", joined_path.display());
    assert_same_digests_as_skopeo(
        &location,
        &["amd64", "arm64"],
        "application/vnd.oci.image.index.v1+json",
    );
    assert_eq!(
        extkit_json(&["inspect", &location])["digest"],
        index.digest.to_string()
    );
    // The joined manifests are umoci's own, byte for byte.
    let umoci_manifest = amd64.root().unwrap();
    let chosen = extkit_json(&["inspect", &location, "--platform", "linux/amd64"]);
    assert_eq!(chosen["digest"], umoci_manifest.digest.to_string());

    assert_umoci_unpacks(&joined_path, &location, "arm64", scratch.path());
}

/// Tags one platform of an index (umoci cannot unpack an index) and unpacks it with umoci.
fn assert_umoci_unpacks(layout: &Path, location: &str, architecture: &str, scratch: &Path) {
    let tagged = format!("oci:{}:{architecture}", layout.display());
    skopeo(&["copy", "--override-arch", architecture, location, &tagged]);
    let bundle = scratch.join(format!("bundle-{architecture}"));
    run_peer(
        Command::new("umoci")
            .args([
                "unpack",
                "--rootless",
                "--image",
                &format!("{}:{architecture}", layout.display()),
            ])
            .arg(&bundle),
    );
    let hello = fs::read_to_string(bundle.join("rootfs/hello"))
        .or_else(|_| fs::read_to_string(bundle.join("rootfs/linux/hello")))
        .unwrap();
    assert!(
        hello.contains(&format!("hello from {architecture}")),
        "{hello}"
    );
}

#[test]
fn what_extkit_writes_skopeo_and_umoci_read() {
    if !require_peer("umoci") || !require_peer("skopeo") {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let example = open_source(&oci(&example_layout(), "latest")).unwrap();
    let example_root: RawManifest = example.root().unwrap();

    // An OCI layout: the index is copied byte for byte.
    let layout = scratch.path().join("copy");
    copy_image(
        example.as_ref(),
        open_destination(&oci(&layout, "v1")).unwrap(),
        None,
    )
    .unwrap();
    let location = format!("oci:{}:v1", layout.display());
    assert_eq!(
        digest_of(&skopeo(&["inspect", "--raw", &location])),
        example_root.digest.to_string()
    );
    assert_same_digests_as_skopeo(
        &location,
        &["amd64", "arm64"],
        "application/vnd.oci.image.index.v1+json",
    );
    assert_umoci_unpacks(&layout, &location, "arm64", scratch.path());

    // An OCI archive.
    let archive = scratch.path().join("ext.tar");
    let archive_location = Location::OciArchive {
        path: archive.clone(),
        tag: Some("v1".into()),
    };
    copy_image(
        example.as_ref(),
        open_destination(&archive_location).unwrap(),
        None,
    )
    .unwrap();
    let text = format!("oci-archive:{}:v1", archive.display());
    assert_same_digests_as_skopeo(
        &text,
        &["amd64", "arm64"],
        "application/vnd.oci.image.index.v1+json",
    );

    // A docker-archive of one platform, read back by skopeo with the same config.
    let saved = scratch.path().join("saved.tar");
    let docker_location: Location = format!("docker-archive:{}:acme/hello:arm64", saved.display())
        .parse()
        .unwrap();
    let arm64 = Platform::linux_arm64();
    let report = copy_image(
        example.as_ref(),
        open_destination(&docker_location).unwrap(),
        Some(std::slice::from_ref(&arm64)),
    )
    .unwrap();
    let docker_text = docker_location.to_string();
    let chosen = extkit_json(&[
        "inspect",
        &format!("oci:{}:latest", example_layout().display()),
        "--platform",
        "linux/arm64",
    ]);
    assert_eq!(
        report.digest.unwrap().to_string(),
        chosen["digest"].as_str().unwrap()
    );
    let config = skopeo(&["inspect", "--config", "--raw", &docker_text]);
    assert_eq!(chosen["manifest"]["config"]["digest"], digest_of(&config));
    // skopeo finds the image by the name extkit gave it in `manifest.json`.
    let summary: Value = serde_json::from_slice(&skopeo(&["inspect", &docker_text])).unwrap();
    assert_eq!(summary["Architecture"], "arm64");
    let wrong_name = format!("docker-archive:{}:acme/other:arm64", saved.display());
    let output = Command::new("skopeo")
        .args(["inspect", &wrong_name])
        .output()
        .unwrap();
    assert!(!output.status.success());
    // extkit reads its own docker-archive through the embedded layout, keeping the digest.
    let ours = extkit_json(&["inspect", &docker_text]);
    assert_eq!(ours["digest"], chosen["digest"]);
}

#[test]
fn writing_an_index_to_a_docker_archive_asks_for_a_platform() {
    let scratch = tempfile::tempdir().unwrap();
    let example = open_source(&oci(&example_layout(), "latest")).unwrap();
    let target: Location = format!(
        "docker-archive:{}:acme/hello:1",
        scratch.path().join("x.tar").display()
    )
    .parse()
    .unwrap();
    let error = copy_image(example.as_ref(), open_destination(&target).unwrap(), None).unwrap_err();
    assert_eq!(
        error.to_string(),
        "a docker-archive holds one platform per image, but \
         `sha256:4864955e443ebf91b4df501d119ce41992e0840bba4893e1592b48066c770612` is an index"
    );
    assert!(!scratch.path().join("x.tar").exists());
    // Nothing is left behind in the folder either.
    assert_eq!(fs::read_dir(scratch.path()).unwrap().count(), 0);
}
