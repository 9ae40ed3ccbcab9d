//! `extkit push` and `extkit pull` against Debian's CNCF registry: the local store on one side,
//! a registry on the other, every platform, digests kept byte for byte.

mod common;

use std::path::Path;
use std::process::Command;

use common::registry::{Mode, Registry, docker_config_with_login};
use common::{digest_of, example_layout, extkit, require_peer, run_peer};

/// The digest of the bundled example's index.
const EXAMPLE_DIGEST: &str =
    "sha256:4864955e443ebf91b4df501d119ce41992e0840bba4893e1592b48066c770612";

/// The digest of the index holding only the example's linux/arm64 image.
const ARM64_ONLY_DIGEST: &str =
    "sha256:084f39c940374de4db5e73e288bad5dc504890910293c86b8b7ca36e0f9783ca";

/// Runs extkit with `EXTKIT_HOME` set to `home` and `DOCKER_CONFIG` to an empty folder unless
/// `docker_config` is given; gives (exit code, stdout, stderr).
fn run_with(home: &Path, docker_config: Option<&Path>, args: &[&str]) -> (i32, String, String) {
    let no_login = tempfile::tempdir().unwrap();
    let output = extkit()
        .env("EXTKIT_HOME", home)
        .env("DOCKER_CONFIG", docker_config.unwrap_or(no_login.path()))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn run(home: &Path, args: &[&str]) -> (i32, String, String) {
    run_with(home, None, args)
}

/// Puts the bundled example into the store at `home` under `name`.
fn store_example(home: &Path, name: &str) {
    let example = format!("oci:{}:latest", example_layout().display());
    let (code, stdout, stderr) = run(home, &["copy", &example, &format!("store:{name}")]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim(), EXAMPLE_DIGEST);
}

/// The digest of the manifest or index skopeo reads at `url`.
fn skopeo_digest(url: &str, credentials: Option<&str>) -> String {
    let mut command = Command::new("skopeo");
    command.args(["inspect", "--raw", "--tls-verify=false"]);
    if let Some(credentials) = credentials {
        command.args(["--creds", credentials]);
    }
    digest_of(&run_peer(command.arg(url)))
}

/// The rows of `extkit images --format json`.
fn images(home: &Path) -> Vec<serde_json::Value> {
    let (code, stdout, stderr) = run(home, &["images", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str::<serde_json::Value>(&stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn push_sends_every_platform_and_pull_brings_them_back_with_the_digest() {
    let Some(registry) = Registry::start(Mode::Plain) else {
        return;
    };
    let name = format!("{}/acme/hello:1.0", registry.address);
    let home = tempfile::tempdir().unwrap();
    store_example(home.path(), &name);

    let (code, stdout, stderr) = run(home.path(), &["push", &name]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, format!("{EXAMPLE_DIGEST}\n"));
    assert!(
        stderr.contains(&format!("pushed store:{name} to docker://{name}: ")),
        "{stderr}"
    );
    if require_peer("skopeo") {
        assert_eq!(
            skopeo_digest(&format!("docker://{name}"), None),
            EXAMPLE_DIGEST
        );
    }

    // Everything is there now: a second push sends no blob.
    let (code, stdout, stderr) = run(home.path(), &["push", &format!("store:{name}")]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim(), EXAMPLE_DIGEST);
    assert!(stderr.contains(": 0 blobs written, "), "{stderr}");

    let fresh = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(fresh.path(), &["pull", &name]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, format!("{EXAMPLE_DIGEST}\n"));
    let listed = images(fresh.path());
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        listed[0]["repository"],
        format!("{}/acme/hello", registry.address)
    );
    assert_eq!(listed[0]["tag"], "1.0");
    assert_eq!(listed[0]["digest"], EXAMPLE_DIGEST);
    assert_eq!(
        listed[0]["platforms"],
        serde_json::json!(["linux/amd64", "linux/arm64"])
    );
    // The pulled image is whole.
    let (code, _, stderr) = run(fresh.path(), &["store", "check"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn push_writes_to_a_destination_with_or_without_the_transport() {
    let Some(registry) = Registry::start(Mode::Plain) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    store_example(home.path(), "acme/hello:dev");
    for destination in [
        format!("docker://{}/acme/hello:1.0", registry.address),
        format!("{}/elsewhere/hello:2", registry.address),
    ] {
        let (code, stdout, stderr) = run(home.path(), &["push", "acme/hello:dev", &destination]);
        assert_eq!(code, 0, "{destination}: {stderr}");
        assert_eq!(stdout.trim(), EXAMPLE_DIGEST);
        if require_peer("skopeo") {
            let url = format!("docker://{}", destination.trim_start_matches("docker://"));
            assert_eq!(skopeo_digest(&url, None), EXAMPLE_DIGEST);
        }
    }

    // By digest, with the digest the store knows.
    let by_digest = format!("{}/acme/hello@{EXAMPLE_DIGEST}", registry.address);
    let (code, stdout, stderr) = run(
        home.path(),
        &["push", &format!("acme/hello@{EXAMPLE_DIGEST}"), &by_digest],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim(), EXAMPLE_DIGEST);
}

#[test]
fn pull_with_platform_stores_only_those_platforms() {
    let Some(registry) = Registry::start(Mode::Plain) else {
        return;
    };
    let name = format!("{}/acme/hello:1.0", registry.address);
    let home = tempfile::tempdir().unwrap();
    store_example(home.path(), &name);
    let (code, _, stderr) = run(home.path(), &["push", &name]);
    assert_eq!(code, 0, "{stderr}");

    let fresh = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(
        fresh.path(),
        &[
            "pull",
            &format!("docker://{name}"),
            "--platform",
            "linux/arm64",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    // The same index `extkit copy --platform linux/arm64` writes from the example layout.
    assert_eq!(stdout, format!("{ARM64_ONLY_DIGEST}\n"));
    let listed = images(fresh.path());
    assert_eq!(listed[0]["digest"], ARM64_ONLY_DIGEST);
    assert_eq!(listed[0]["platforms"], serde_json::json!(["linux/arm64"]));

    let (code, _, stderr) = run(fresh.path(), &["pull", &name, "--platform", "linux/s390x"]);
    assert_eq!(code, 1, "{stderr}");
}

#[test]
fn push_of_a_name_not_in_the_store_is_refused_with_a_hint() {
    let home = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(home.path(), &["push", "acme/missing:1.0"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "error: no image named `acme/missing:1.0` in the local store\n\
         hint: `extkit images` lists the stored images; `extkit build DIR -t acme/missing:1.0` \
         or `extkit copy SOURCE store:acme/missing:1.0` puts one there\n"
    );
}

#[test]
fn push_and_pull_refuse_locations_that_are_not_registries() {
    let home = tempfile::tempdir().unwrap();
    store_example(home.path(), "acme/hello:1.0");
    let (code, _, stderr) = run(home.path(), &["push", "acme/hello:1.0", "oci:/tmp/out:1"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: `extkit push` can only write to a registry, and `oci:/tmp/out:1` is an `oci:` \
         location\nhint: use `extkit copy SOURCE DESTINATION` for other locations\n"
    );
    let (code, _, stderr) = run(home.path(), &["push", "oci:/tmp/in:1"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: `oci:/tmp/in:1` is an `oci:` location, not a name in the local store\n\
         hint: name a stored image like `acme/ext:1.0` or `store:acme/ext:1.0`\n"
    );
    let (code, _, stderr) = run(home.path(), &["pull", "store:acme/hello:1.0"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: `extkit pull` can only read from a registry, and `store:acme/hello:1.0` is a \
         `store:` location\nhint: use `extkit copy SOURCE DESTINATION` for other locations\n"
    );
}

#[test]
fn pull_of_a_missing_tag_fails_and_stores_nothing() {
    let Some(registry) = Registry::start(Mode::Plain) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let name = format!("{}/acme/nothing:1.0", registry.address);
    let (code, stdout, stderr) = run(home.path(), &["pull", &name]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        format!(
            "error: `{name}` was not found in the registry\n\
             hint: check the repository name and the tag or digest\n"
        )
    );
    assert!(images(home.path()).is_empty());
}

#[test]
fn push_to_a_registry_with_basic_auth_uses_docker_config_credentials() {
    let Some(registry) = Registry::start(Mode::Auth) else {
        return;
    };
    let name = format!("{}/private/hello:1.0", registry.address);
    let home = tempfile::tempdir().unwrap();
    store_example(home.path(), &name);

    let (code, stdout, stderr) = run(home.path(), &["push", &name]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains(&format!(
            "registry `{}` requires credentials and none are configured",
            registry.address
        )),
        "{stderr}"
    );

    let login = docker_config_with_login(&registry.address);
    let (code, stdout, stderr) = run_with(home.path(), Some(login.path()), &["push", &name]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim(), EXAMPLE_DIGEST);
    assert!(!stderr.contains("pass"), "a secret was printed: {stderr}");
    if require_peer("skopeo") {
        assert_eq!(
            skopeo_digest(&format!("docker://{name}"), Some("user:pass")),
            EXAMPLE_DIGEST
        );
    }

    let fresh = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run_with(fresh.path(), Some(login.path()), &["pull", &name]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim(), EXAMPLE_DIGEST);
}

/// Runs `extkit ARGS` with its stdin, stdout and stderr on a terminal (`script` from
/// util-linux makes one); gives everything the terminal showed.
fn on_a_terminal(args: &[&str]) -> String {
    let binary = assert_cmd::cargo::cargo_bin("extkit");
    let mut line = format!("'{}'", binary.display());
    for arg in args {
        line.push_str(&format!(" '{arg}'"));
    }
    let output = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(output.status.success(), "{line}: {output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn progress_bars_show_on_a_terminal_only_without_q_and_json() {
    let Some(registry) = Registry::start(Mode::Plain) else {
        return;
    };
    if !require_peer("script") {
        return;
    }
    let example = format!("oci:{}:latest", example_layout().display());
    // A bar per blob uploaded, named by the start of its digest, with the bytes sent.
    let shown = on_a_terminal(&[
        "copy",
        &example,
        &format!("docker://{}/bars:1", registry.address),
    ]);
    assert!(
        shown.contains("upload afc0e5e2341b [") && shown.contains("585 B/585 B"),
        "{shown}"
    );
    // The same copy again (each to a new repository, so blobs are sent) shows none with -q,
    // with --format json, or when stderr is not a terminal.
    for (repository, extra) in [("quiet", "-q"), ("json", "--format=json")] {
        let destination = format!("docker://{}/{repository}:1", registry.address);
        let shown = on_a_terminal(&["copy", extra, &example, &destination]);
        assert!(!shown.contains("upload "), "{extra}: {shown}");
        assert!(shown.contains(EXAMPLE_DIGEST), "{extra}: {shown}");
    }
    let output = extkit()
        .args([
            "copy",
            &example,
            &format!("docker://{}/piped:1", registry.address),
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        format!(
            "copied {example} to docker://{}/piped:1: 5 blobs written, 0 already there\n",
            registry.address
        )
    );
}
