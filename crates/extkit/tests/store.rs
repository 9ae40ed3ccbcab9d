//! The local store: round trips, names, check and gc, concurrent writers and killed writers.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{digest_of, example_layout, extkit, require_peer, run_peer};

const INDEX_DIGEST: &str =
    "sha256:4864955e443ebf91b4df501d119ce41992e0840bba4893e1592b48066c770612";
const ARM64_DIGEST: &str =
    "sha256:23bfe6d1bb13e5f4fe996358bdc80bf1f90ac0d06aaa485d88bd12338d08f4c9";

fn example() -> String {
    format!("oci:{}:latest", example_layout().display())
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

fn digest(home: &Path, location: &str) -> String {
    let (code, stdout, stderr) = run(home, &["inspect", location, "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str::<serde_json::Value>(&stdout).unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn images_round_trip_through_the_store_from_every_transport() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let scratch = tempfile::tempdir().unwrap();
    let archive = format!("oci-archive:{}:v1", scratch.path().join("a.tar").display());
    let saved = format!(
        "docker-archive:{}:acme/hello:arm64",
        scratch.path().join("d.tar").display()
    );
    let layout = format!("oci:{}:out", scratch.path().join("layout").display());

    let steps: &[(&str, &str, &[&str], &str)] = &[
        (&example(), "store:acme/hello:1.0", &[], INDEX_DIGEST),
        ("store:acme/hello:1.0", &archive, &[], INDEX_DIGEST),
        (&archive, "store:acme/hello:from-archive", &[], INDEX_DIGEST),
        (
            "acme/hello:from-archive",
            &saved,
            &["--platform", "linux/arm64"],
            ARM64_DIGEST,
        ),
        (&saved, "store:acme/hello:arm64", &[], ARM64_DIGEST),
        ("store:acme/hello:arm64", &layout, &[], ARM64_DIGEST),
    ];
    for (source, destination, extra, expected) in steps {
        let mut args = vec!["copy", source, destination];
        args.extend_from_slice(extra);
        let (code, stdout, stderr) = run(home, &args);
        assert_eq!(
            (code, stdout.trim()),
            (0, *expected),
            "{source} → {destination}: {stderr}"
        );
        assert_eq!(digest(home, destination), *expected, "{destination}");
    }
}

#[test]
fn images_tag_and_rmi_work_like_docker() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    run(home, &["copy", &example(), "store:acme/hello:1.0"]);

    let (code, stdout, stderr) = run(
        home,
        &["tag", "acme/hello:1.0", "127.0.0.1:5000/acme/hello:dev"],
    );
    assert_eq!((code, stdout.trim()), (0, INDEX_DIGEST), "{stderr}");
    assert_eq!(
        stderr,
        "tagged acme/hello:1.0 as 127.0.0.1:5000/acme/hello:dev\n"
    );

    let (code, stdout, _) = run(home, &["images"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(stdout);

    // A bare reference is read from the store, which the note says.
    let (code, stdout, stderr) = run(home, &["inspect", "acme/hello:1.0"]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("Name:      store:acme/hello:1.0\n"),
        "{stdout}"
    );
    assert_eq!(stderr, "using acme/hello:1.0 from the local store\n");

    let (code, stdout, stderr) = run(home, &["rmi", "acme/hello:1.0", "acme/nothere"]);
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        format!("untagged: acme/hello:1.0 ({INDEX_DIGEST})\n")
    );
    assert_eq!(
        stderr,
        "error: no image named `acme/nothere:latest` in the local store\n"
    );

    let (code, stdout, _) = run(home, &["images", "--format", "json"]);
    assert_eq!(code, 0);
    let listed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["repository"], "127.0.0.1:5000/acme/hello");
    assert_eq!(listed[0]["tag"], "dev");
    assert_eq!(listed[0]["digest"], INDEX_DIGEST);
    assert_eq!(
        listed[0]["platforms"],
        serde_json::json!(["linux/amd64", "linux/arm64"])
    );
    assert_eq!(listed[0]["size"], 4928);
    assert_eq!(listed[0]["created"], "1970-01-01T00:00:00Z");

    // Tagging something that is not there is the answer no.
    let (code, _, stderr) = run(home, &["tag", "acme/nothere:1", "acme/x:1"]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "error: no image named `docker.io/acme/nothere:1` in the local store\n\
         hint: it holds: 127.0.0.1:5000/acme/hello:dev\n"
    );
}

#[test]
fn gc_frees_only_what_no_image_needs() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    run(home, &["copy", &example(), "store:acme/hello:1.0"]);
    run(
        home,
        &[
            "copy",
            &example(),
            "store:acme/hello:arm64",
            "--platform",
            "linux/arm64",
        ],
    );

    // Nothing is unreferenced yet.
    assert_eq!(run(home, &["store", "gc"]).1, "removed 0 files, freed 0B\n");
    run(home, &["rmi", "acme/hello:1.0"]);
    // The amd64 manifest, config and layer and the old index go; arm64 stays whole.
    let (code, stdout, _) = run(home, &["store", "gc"]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "removed 4 files, freed 2.417kB\n")
    );
    let (code, _, stderr) = run(home, &["store", "check"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(digest(home, "store:acme/hello:arm64").len(), 71);
}

#[test]
fn check_names_corrupt_and_missing_blobs() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    run(home, &["copy", &example(), "store:acme/hello:1.0"]);
    let blobs = home.join("store/blobs/sha256");
    let (code, _, stderr) = run(home, &["store", "check"]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            0,
            format!(
                "checked 8 blobs in `{}`: all sound\n",
                home.join("store").display()
            )
            .as_str()
        )
    );

    fs::write(blobs.join(&ARM64_DIGEST[7..]), "tampered").unwrap();
    let layer = "afc0e5e2341b477088f83a5b0e1336728697119bf0adf51f4f3d16cc9757b7a5";
    fs::remove_file(blobs.join(layer)).unwrap();
    let (code, _, stderr) = run(home, &["store", "check"]);
    assert_eq!(code, 1);
    let stderr = stderr.replace(&home.display().to_string(), "[HOME]");
    insta::assert_snapshot!(stderr);
}

/// Flips one byte of a file in place, keeping its size.
fn flip_byte(path: &Path) {
    let mut bytes = fs::read(path).unwrap();
    bytes[0] ^= 0x01;
    fs::write(path, bytes).unwrap();
}

#[test]
fn a_copy_replaces_corrupt_blobs_in_the_store() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    run(home, &["copy", &example(), "store:acme/hello:1.0"]);
    let blobs = home.join("store/blobs/sha256");
    // One layer with a changed byte, one config cut short, one manifest with a changed byte.
    let layer = "afc0e5e2341b477088f83a5b0e1336728697119bf0adf51f4f3d16cc9757b7a5";
    let config = "1db86bb16b944ddaba251625242d2f992a893bb1de45031d863b2aa398c30677";
    flip_byte(&blobs.join(layer));
    fs::write(blobs.join(config), "{}").unwrap();
    flip_byte(&blobs.join(&ARM64_DIGEST[7..]));
    assert_eq!(run(home, &["store", "check"]).0, 1);

    let (code, stdout, stderr) = run(home, &["copy", &example(), "store:acme/hello:1.0"]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, format!("{INDEX_DIGEST}\n").as_str())
    );
    assert_eq!(
        stderr,
        format!(
            "copied {} to store:docker.io/acme/hello:1.0: 2 blobs written (2 of them replacing \
             a corrupt copy), 3 already there\n",
            example()
        )
    );
    let (code, _, stderr) = run(home, &["store", "check"]);
    assert_eq!(code, 0, "{stderr}");
    for name in [layer, config, &ARM64_DIGEST[7..]] {
        assert_eq!(
            fs::read(blobs.join(name)).unwrap(),
            fs::read(example_layout().join("blobs/sha256").join(name)).unwrap(),
            "{name}"
        );
    }
    // No temporary file is left beside them.
    let leftovers: Vec<_> = fs::read_dir(&blobs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn two_writers_at_once_both_land() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    for round in 0..8 {
        let spawn = |name: &str, platform: &str| {
            let mut command = Command::new(assert_cmd::cargo::cargo_bin("extkit"));
            command
                .env("EXTKIT_HOME", home)
                .args([
                    "copy",
                    "-q",
                    &example(),
                    &format!("store:acme/{name}:{round}"),
                    "--platform",
                    platform,
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            command.spawn().unwrap()
        };
        let first = spawn("one", "linux/amd64");
        let second = spawn("two", "linux/arm64");
        for child in [first, second] {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    let (_, stdout, _) = run(home, &["images", "--format", "json"]);
    let listed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 16);
    for round in 0..8 {
        assert_eq!(digest(home, &format!("store:acme/one:{round}")).len(), 71);
        assert_eq!(digest(home, &format!("store:acme/two:{round}")).len(), 71);
    }
    let (code, _, stderr) = run(home, &["store", "check"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_writer_killed_mid_blob_leaves_the_store_sound() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    run(
        home,
        &[
            "copy",
            &example(),
            "store:acme/hello:1.0",
            "--platform",
            "linux/amd64",
        ],
    );
    let before = digest(home, "store:acme/hello:1.0");

    let mut child = Command::new(assert_cmd::cargo::cargo_bin("extkit"))
        .env("EXTKIT_HOME", home)
        .env("EXTKIT_TEST_PAUSE", "blob-written")
        .args(["copy", &example(), "store:acme/hello:1.0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "paused at blob-written\n");
    child.kill().unwrap();
    child.wait().unwrap();

    // The old image is still named and whole; the half-written blob is a temporary file.
    assert_eq!(digest(home, "store:acme/hello:1.0"), before);
    let (code, _, stderr) = run(home, &["store", "check"]);
    assert_eq!(code, 0, "{stderr}");
    let leftovers = |home: &Path| {
        fs::read_dir(home.join("store/blobs/sha256"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".tmp-")
            })
            .count()
    };
    assert_eq!(leftovers(home), 1);
    let (code, stdout, _) = run(home, &["store", "gc"]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("removed 1 files"), "{stdout}");
    assert_eq!(leftovers(home), 0);
}

#[test]
fn skopeo_reads_the_store_as_an_oci_layout() {
    if !require_peer("skopeo") {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    run(home.path(), &["copy", &example(), "store:acme/hello:1.0"]);
    let store = home.path().join("store");
    let raw = run_peer(Command::new("skopeo").args([
        "inspect",
        "--raw",
        &format!("oci:{}:docker.io/acme/hello:1.0", store.display()),
    ]));
    assert_eq!(digest_of(&raw), INDEX_DIGEST);
}

#[test]
fn gc_rmi_and_check_print_json_when_asked() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    run(home, &["copy", &example(), "store:acme/hello:1.0"]);
    let json = |stdout: &str| serde_json::from_str::<serde_json::Value>(stdout).unwrap();

    let (code, stdout, stderr) = run(home, &["store", "check", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        json(&stdout),
        serde_json::json!({"ok": true, "checked": 8, "broken": []})
    );

    let (code, stdout, _) = run(home, &["store", "gc", "--format", "json"]);
    assert_eq!(code, 0);
    assert_eq!(
        json(&stdout),
        serde_json::json!({"removed_files": 0, "freed_bytes": 0})
    );

    let (code, stdout, stderr) = run(
        home,
        &[
            "rmi",
            "acme/hello:1.0",
            "acme/hello:nothere",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(
        json(&stdout),
        serde_json::json!({"untagged": [{"image": "acme/hello:1.0", "digest": INDEX_DIGEST}]})
    );
    assert_eq!(
        stderr,
        "error: no image named `acme/hello:nothere` in the local store\n"
    );

    let (code, stdout, _) = run(home, &["store", "gc", "--format", "json"]);
    assert_eq!(code, 0);
    assert_eq!(
        json(&stdout),
        serde_json::json!({"removed_files": 8, "freed_bytes": 4928})
    );

    // A broken store: a blob no image needs now is still checked.
    run(home, &["copy", &example(), "store:acme/hello:1.0"]);
    fs::write(
        home.join("store/blobs/sha256").join(&ARM64_DIGEST[7..]),
        "tampered",
    )
    .unwrap();
    let (code, stdout, _) = run(home, &["store", "check", "--format", "json"]);
    assert_eq!(code, 1);
    let value = json(&stdout);
    assert_eq!(
        (&value["ok"], &value["checked"]),
        (&serde_json::json!(false), &serde_json::json!(8))
    );
    assert_eq!(
        value["broken"],
        serde_json::json!([{
            "digest": ARM64_DIGEST,
            "kind": "corrupt",
            "problem": format!(
                "digest mismatch for `{}`: expected `{ARM64_DIGEST}` but found `{}`",
                home.join("store/blobs/sha256").join(&ARM64_DIGEST[7..]).display(),
                digest_of(b"tampered"),
            ),
        }])
    );
}

#[test]
fn a_bare_name_neither_stored_nor_reachable_says_both() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    // Nothing listens on port 1: the connection is refused at once.
    for command in ["inspect", "validate"] {
        let (code, stdout, stderr) = run(home, &["-q", command, "127.0.0.1:1/big:1"]);
        assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
        let mut lines = stderr.lines();
        assert_eq!(
            lines.next(),
            Some(
                "error: `127.0.0.1:1/big:1` is not in the local store, and 127.0.0.1:1 could \
                 not be reached"
            )
        );
        assert_eq!(
            lines.next(),
            Some("caused by: cannot connect to registry `127.0.0.1:1`")
        );
        assert_eq!(
            lines.last(),
            Some(
                "hint: `extkit images` lists the store; build the image with \
                 `extkit build -t 127.0.0.1:1/big:1`, or check the network and the name"
            )
        );
    }
}

#[test]
fn images_q_lists_what_rmi_takes_and_rmi_removes_untagged_images_by_digest() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    run(&home, &["copy", &example(), "store:acme/hello:1.0"]);
    let context = scratch.path().join("ctx");
    fs::create_dir(&context).unwrap();
    fs::write(context.join("Dockerfile"), "FROM scratch\nCOPY a.txt /\n").unwrap();
    fs::write(context.join("a.txt"), "a\n").unwrap();
    let context_text = context.to_str().unwrap();
    // Built without `-t`: an untagged image.
    let (code, built, stderr) = run(&home, &["build", context_text, "--no-validate"]);
    assert_eq!(code, 0, "{stderr}");
    let built = built.trim();

    let (code, stdout, _) = run(&home, &["images", "-q"]);
    assert_eq!((code, stdout), (0, format!("acme/hello:1.0\n{built}\n")));

    let (code, stdout, stderr) = run(&home, &["rmi", INDEX_DIGEST]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert_eq!(
        stderr,
        format!("error: `{INDEX_DIGEST}` is the image named acme/hello:1.0; remove it by name\n")
    );
    // By the short form `images` shows, as `docker rmi` takes short IDs.
    let (code, stdout, stderr) = run(&home, &["rmi", &built[..19]]);
    assert_eq!(
        (code, stdout),
        (0, format!("deleted: {built} (untagged)\n")),
        "{stderr}"
    );
    let (code, _, stderr) = run(&home, &["rmi", built]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        format!("error: no untagged image with digest `{built}` in the local store\n")
    );

    // Built again with a tag, the same image is listed once, under its tag.
    let (code, _, stderr) = run(&home, &["build", context_text, "--no-validate"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(
        &home,
        &["build", context_text, "--no-validate", "-t", "t:1"],
    );
    assert_eq!(code, 0, "{stderr}");
    let (_, names, _) = run(&home, &["images", "-q"]);
    assert_eq!(names, "acme/hello:1.0\nt:1\n");
    // ...and a build without a tag adds no untagged copy beside it.
    run(&home, &["build", context_text, "--no-validate"]);
    assert_eq!(run(&home, &["images", "-q"]).1, "acme/hello:1.0\nt:1\n");
    assert_eq!(run(&home, &["rmi", "t:1"]).0, 0);

    // What `images -q` prints, `rmi` takes.
    let (_, names, _) = run(&home, &["images", "-q"]);
    let names: Vec<&str> = names.lines().collect();
    assert_eq!(names, ["acme/hello:1.0"]);
    let mut args = vec!["rmi"];
    args.extend(&names);
    assert_eq!(run(&home, &args).0, 0);
    assert_eq!(run(&home, &["images", "-q"]).1, "");
}

#[test]
fn a_destination_digest_must_be_the_one_written() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let zeros = format!("sha256:{}", "0".repeat(64));
    let (code, stdout, stderr) = run(
        home,
        &["copy", &example(), &format!("store:acme/x@{zeros}")],
    );
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        format!(
            "error: `store:acme/x@{zeros}` names the digest `{zeros}`, but the image is \
             `{INDEX_DIGEST}`\nhint: give the destination a tag (`NAME:TAG`); the digest \
             written is printed\n"
        )
    );
    assert_eq!(run(home, &["images", "-q"]).1, "");
    // With --platform the new index's digest is not known before: refused too.
    let (code, _, stderr) = run(
        home,
        &[
            "copy",
            &example(),
            &format!("store:acme/x@{INDEX_DIGEST}"),
            "--platform",
            "linux/amd64",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    // The right digest is written, and listed under the repository's name.
    let (code, stdout, stderr) = run(
        home,
        &["copy", &example(), &format!("store:acme/x@{INDEX_DIGEST}")],
    );
    assert_eq!((code, stdout.trim()), (0, INDEX_DIGEST), "{stderr}");
    let (_, listed, _) = run(home, &["images", "--format", "json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed[0]["repository"], "acme/x");
    assert_eq!(listed[0]["tag"], "<none>");
    // `images -q` names it so that `rmi` takes it.
    let (_, names, _) = run(home, &["images", "-q"]);
    assert_eq!(names, format!("acme/x@{INDEX_DIGEST}\n"));
    assert_eq!(run(home, &["rmi", names.trim()]).0, 0);
    assert_eq!(run(home, &["images", "-q"]).1, "");
}
