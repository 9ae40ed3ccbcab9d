//! The registry transport against Debian's CNCF registry: round trips that keep digests,
//! interoperability with skopeo and buildah, authentication and TLS.

mod common;

use std::path::Path;
use std::process::Command;

use common::registry::{Mode, Registry, docker_config_with_login};
use common::{example_layout, extkit, require_peer, run_peer};

/// The digest of the bundled example's index.
const EXAMPLE_DIGEST: &str =
    "sha256:4864955e443ebf91b4df501d119ce41992e0840bba4893e1592b48066c770612";

fn example() -> String {
    format!("oci:{}:latest", example_layout().display())
}

/// Runs `extkit copy` and gives the digest it printed; panics with stderr on failure.
fn copy(from: &str, to: &str) -> String {
    let output = extkit().args(["copy", from, to]).output().unwrap();
    assert!(
        output.status.success(),
        "extkit copy {from} {to} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

fn skopeo_raw(url: &str) -> Vec<u8> {
    run_peer(Command::new("skopeo").args(["inspect", "--raw", "--tls-verify=false", url]))
}

fn layout_root_digest(layout: &Path) -> String {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn an_index_pushed_by_extkit_is_read_by_skopeo_and_pulled_back_unchanged() {
    let Some(registry) = Registry::start(Mode::Plain) else {
        return;
    };
    let url = registry.url("ext:1");
    assert_eq!(copy(&example(), &url), EXAMPLE_DIGEST);

    if require_peer("skopeo") {
        let raw = skopeo_raw(&url);
        assert_eq!(common::digest_of(&raw), EXAMPLE_DIGEST);
    }

    let scratch = tempfile::tempdir().unwrap();
    let layout = scratch.path().join("pulled");
    let pulled = copy(&url, &format!("oci:{}:v1", layout.display()));
    assert_eq!(pulled, EXAMPLE_DIGEST);
    assert_eq!(layout_root_digest(&layout), EXAMPLE_DIGEST);

    let inspect = extkit().args(["inspect", &url]).output().unwrap();
    assert!(inspect.status.success());
    let text = String::from_utf8(inspect.stdout).unwrap();
    assert!(
        text.contains("2 platforms runnable: linux/amd64, linux/arm64"),
        "{text}"
    );
}

#[test]
fn one_platform_can_be_pulled_from_a_registry() {
    let Some(registry) = Registry::start(Mode::Plain) else {
        return;
    };
    let url = registry.url("ext:1");
    copy(&example(), &url);
    let scratch = tempfile::tempdir().unwrap();
    let archive = scratch.path().join("arm64.tar");
    let output = extkit()
        .args(["copy", &url])
        .arg(format!("docker-archive:{}:acme/ext:1", archive.display()))
        .args(["--platform", "linux/arm64"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8(output.stdout).unwrap().trim(),
        "sha256:23bfe6d1bb13e5f4fe996358bdc80bf1f90ac0d06aaa485d88bd12338d08f4c9"
    );

    let missing = extkit()
        .args([
            "copy",
            &url,
            "oci:/nonexistent/never",
            "--platform",
            "linux/s390x",
        ])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn an_index_pushed_by_skopeo_is_pulled_with_its_digest() {
    let Some(registry) = Registry::start(Mode::Plain) else {
        return;
    };
    if !require_peer("skopeo") {
        return;
    }
    let url = registry.url("by-skopeo:1");
    run_peer(Command::new("skopeo").args([
        "copy",
        "--all",
        "--dest-tls-verify=false",
        &example(),
        &url,
    ]));
    let pushed = common::digest_of(&skopeo_raw(&url));

    let scratch = tempfile::tempdir().unwrap();
    let layout = scratch.path().join("pulled");
    assert_eq!(copy(&url, &format!("oci:{}:v1", layout.display())), pushed);
    assert_eq!(layout_root_digest(&layout), pushed);
}

#[test]
fn a_docker_manifest_list_round_trips_unchanged() {
    let Some(registry) = Registry::start(Mode::Plain) else {
        return;
    };
    if !require_peer("skopeo") {
        return;
    }
    let source = registry.url("list:1");
    run_peer(Command::new("skopeo").args([
        "copy",
        "--all",
        "--format",
        "v2s2",
        "--dest-tls-verify=false",
        &example(),
        &source,
    ]));
    let original = skopeo_raw(&source);
    let parsed: serde_json::Value = serde_json::from_slice(&original).unwrap();
    assert_eq!(
        parsed["mediaType"],
        "application/vnd.docker.distribution.manifest.list.v2+json"
    );

    let target = registry.url("list-copy:1");
    assert_eq!(copy(&source, &target), common::digest_of(&original));
    assert_eq!(skopeo_raw(&target), original);
}

#[test]
fn an_index_pushed_by_buildah_is_pulled_with_its_digest() {
    let Some(registry) = Registry::start(Mode::Plain) else {
        return;
    };
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
    run_peer(buildah().args(["manifest", "create", "localhost/ext:multi"]));
    run_peer(buildah().args([
        "manifest",
        "add",
        "--all",
        "localhost/ext:multi",
        &example(),
    ]));
    let digest_file = scratch.path().join("digest");
    let url = registry.url("by-buildah:1");
    run_peer(
        buildah()
            .args([
                "manifest",
                "push",
                "--all",
                "--tls-verify=false",
                "--digestfile",
            ])
            .arg(&digest_file)
            .arg("localhost/ext:multi")
            .arg(&url),
    );
    let pushed = std::fs::read_to_string(&digest_file)
        .unwrap()
        .trim()
        .to_string();

    let layout = scratch.path().join("pulled");
    assert_eq!(copy(&url, &format!("oci:{}:v1", layout.display())), pushed);
    assert_eq!(layout_root_digest(&layout), pushed);
}

#[test]
fn a_missing_tag_is_a_clear_error() {
    let Some(registry) = Registry::start(Mode::Plain) else {
        return;
    };
    let output = extkit()
        .args(["inspect", &registry.url("nothing:here")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("was not found in the registry"), "{stderr}");
    assert!(
        stderr.contains("hint: check the repository name"),
        "{stderr}"
    );
}

#[test]
fn a_registry_that_is_not_running_is_a_clear_error() {
    let port = common::registry::free_port();
    let output = extkit()
        .args(["inspect", &format!("docker://127.0.0.1:{port}/x:1")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(&format!("cannot connect to registry `127.0.0.1:{port}`")),
        "{stderr}"
    );
}

#[test]
fn basic_auth_needs_credentials_from_docker_config() {
    let Some(registry) = Registry::start(Mode::Auth) else {
        return;
    };
    let url = registry.url("private:1");
    let empty = tempfile::tempdir().unwrap();
    let refused = extkit()
        .env("DOCKER_CONFIG", empty.path())
        .args(["copy", &example(), &url])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8(refused.stderr).unwrap();
    let address = &registry.address;
    assert!(
        stderr.contains(&format!(
            "registry `{address}` requires credentials and none are configured"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("hint: log in with `docker login {address}`")),
        "{stderr}"
    );

    let login = docker_config_with_login(address);
    let pushed = extkit()
        .env("DOCKER_CONFIG", login.path())
        .args(["copy", &example(), &url])
        .output()
        .unwrap();
    assert!(
        pushed.status.success(),
        "{}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    assert_eq!(
        String::from_utf8(pushed.stdout).unwrap().trim(),
        EXAMPLE_DIGEST
    );

    let wrong = tempfile::tempdir().unwrap();
    // "user:nope" in base64.
    std::fs::write(
        wrong.path().join("config.json"),
        format!(r#"{{"auths":{{"{address}":{{"auth":"dXNlcjpub3Bl"}}}}}}"#),
    )
    .unwrap();
    let rejected = extkit()
        .env("DOCKER_CONFIG", wrong.path())
        .args(["inspect", &url])
        .output()
        .unwrap();
    assert_eq!(rejected.status.code(), Some(2));
    let stderr = String::from_utf8(rejected.stderr).unwrap();
    assert!(stderr.contains("refused access to `private`"), "{stderr}");
}

#[test]
fn tls_needs_the_certificate_authority() {
    let Some(registry) = Registry::start(Mode::Tls) else {
        return;
    };
    let url = registry.url("secure:1");
    let empty = tempfile::tempdir().unwrap();
    let refused = extkit()
        .env("DOCKER_CONFIG", empty.path())
        .args(["copy", &example(), &url])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8(refused.stderr).unwrap();
    assert!(
        stderr.contains(&format!(
            "the certificate of registry `{}` is not trusted",
            registry.address
        )),
        "{stderr}"
    );
    assert!(stderr.contains("`--ca-cert FILE`"), "{stderr}");
    assert!(stderr.contains("certs.d"), "{stderr}");

    let with_ca = extkit()
        .env("DOCKER_CONFIG", empty.path())
        .arg("--ca-cert")
        .arg(registry.certificate())
        .args(["copy", &example(), &url])
        .output()
        .unwrap();
    assert!(
        with_ca.status.success(),
        "{}",
        String::from_utf8_lossy(&with_ca.stderr)
    );
    assert_eq!(
        String::from_utf8(with_ca.stdout).unwrap().trim(),
        EXAMPLE_DIGEST
    );

    let insecure = extkit()
        .env("DOCKER_CONFIG", empty.path())
        .args(["--insecure", "inspect", "--raw", &url])
        .output()
        .unwrap();
    assert!(
        insecure.status.success(),
        "{}",
        String::from_utf8_lossy(&insecure.stderr)
    );
    assert_eq!(common::digest_of(&insecure.stdout), EXAMPLE_DIGEST);

    // Docker's certs.d layout under DOCKER_CONFIG.
    let config = tempfile::tempdir().unwrap();
    let certs = config.path().join("certs.d").join(&registry.address);
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::copy(registry.certificate(), certs.join("ca.crt")).unwrap();
    let with_certs_d = extkit()
        .env("DOCKER_CONFIG", config.path())
        .args(["inspect", "--raw", &url])
        .output()
        .unwrap();
    assert!(
        with_certs_d.status.success(),
        "{}",
        String::from_utf8_lossy(&with_certs_d.stderr)
    );
}

// TODO(registry): Docker and skopeo trust a self-signed certificate that is also a CA (what
// `openssl req -x509` makes by default) when it is given as the registry's CA; rustls refuses
// it as a server certificate (`CaUsedAsEndEntity`). extkit should accept it when the very same
// certificate is trusted; until then it refuses with a hint saying how to make one it takes.
#[test]
fn a_ca_certificate_used_by_the_server_is_refused_with_a_hint() {
    let Some(registry) = Registry::start(Mode::TlsCaAsServer) else {
        return;
    };
    let empty = tempfile::tempdir().unwrap();
    let output = extkit()
        .env("DOCKER_CONFIG", empty.path())
        .arg("--ca-cert")
        .arg(registry.certificate())
        .args(["inspect", &registry.url("secure:1")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("presents a CA certificate as its own"),
        "{stderr}"
    );
    assert!(stderr.contains("basicConstraints=CA:FALSE"), "{stderr}");

    let insecure = extkit()
        .env("DOCKER_CONFIG", empty.path())
        .args(["--insecure", "copy", &example(), &registry.url("secure:1")])
        .output()
        .unwrap();
    assert!(
        insecure.status.success(),
        "{}",
        String::from_utf8_lossy(&insecure.stderr)
    );
}
