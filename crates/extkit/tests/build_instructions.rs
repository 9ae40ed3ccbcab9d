//! `extkit build`, instruction by instruction, end to end: what each Dockerfile feature puts in
//! the image, compared with what Docker (BuildKit) documents and does.
//!
//! Every test runs the real binary on a context in a temporary folder, writes the image to an
//! OCI layout (or the store, or an archive) and reads it back: the files of each platform with
//! their type, mode and content, the exact `config` object, the layer tars' owners, the
//! manifests' media types and digests.
//!
//! - config instructions (`SHELL`, `STOPSIGNAL`, `HEALTHCHECK`, `VOLUME`, `ONBUILD`, `USER`,
//!   `WORKDIR`, `CMD`, `ENTRYPOINT`, `EXPOSE`) and how stages inherit them;
//! - heredocs, quoted and not, with `<<-`;
//! - `ADD` of local archives and of other files;
//! - images from an OCI layout, for `COPY --from` and `FROM`, per platform;
//! - the automatic platform arguments and `FROM --platform=$BUILDPLATFORM`;
//! - `--build-context`;
//! - outputs and naming: tags, `oci-archive:`, `--compression zstd`, `--label`, `COPY --link`;
//! - `COPY --chown` and `--chmod`, read from the layer tars.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::build::{Unpacked, run_within, unpack, write_files};
use common::example_layout;
use serde_json::{Value, json};

/// The `PATH` every image built from nothing gets, as Docker gives it.
const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Runs extkit in the folder `dir` with its store in `home`, killed after 60 s so that a build
/// which hangs fails the test instead of the suite; gives (exit code, stdout, stderr).
fn run_in(dir: &Path, home: &Path, args: &[&str]) -> (i32, String, String) {
    run_within(dir, home, args, std::time::Duration::from_secs(60))
}

/// Runs a command that must succeed, and gives the digest it prints.
fn build_ok(dir: &Path, home: &Path, args: &[&str]) -> String {
    let (code, stdout, stderr) = run_in(dir, home, args);
    assert_eq!(code, 0, "`extkit {}` failed:\n{stderr}", args.join(" "));
    let digest = stdout.trim().to_string();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "not a digest: {stdout:?}"
    );
    digest
}

/// `oci:DIR:1` for the folder `name` in `scratch`.
fn layout_in(scratch: &Path, name: &str) -> String {
    format!("oci:{}:1", scratch.join(name).display())
}

/// The bundled two-platform example, as an image reference.
fn example_image() -> String {
    format!("oci:{}:latest", example_layout().display())
}

/// The architecture this test runs on, in OCI terms: what `BUILDARCH` must be.
fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => panic!("no expected BUILDARCH for the host architecture {other}"),
    }
}

/// `(path, description)` pairs as an owned map, for comparing with `Unpacked::files`.
fn files(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
    entries
        .iter()
        .map(|(path, what)| (path.to_string(), what.to_string()))
        .collect()
}

/// A blob of the OCI layout folder `layout`, by digest.
fn blob_path(layout: &Path, digest: &str) -> PathBuf {
    layout
        .join("blobs/sha256")
        .join(digest.strip_prefix("sha256:").unwrap())
}

fn json_blob(layout: &Path, digest: &str) -> Value {
    serde_json::from_slice(&fs::read(blob_path(layout, digest)).unwrap()).unwrap()
}

/// The manifests of the image tagged `tag` in the layout folder `layout`, by architecture.
fn manifests(layout: &Path, tag: &str) -> BTreeMap<String, Value> {
    let index: Value =
        serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    let tagged = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap_or_else(|| panic!("no image tagged {tag} in {}", layout.display()));
    let image_index = json_blob(layout, tagged["digest"].as_str().unwrap());
    image_index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["platform"]["architecture"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                json_blob(layout, entry["digest"].as_str().unwrap()),
            )
        })
        .collect()
}

/// The digests of a manifest's layers, in order.
fn layer_digests(manifest: &Value) -> Vec<String> {
    manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|layer| layer["digest"].as_str().unwrap().to_string())
        .collect()
}

/// `gzip -dc` of a file (the tests have no gzip crate; every system has gzip).
fn gunzip(path: &Path) -> Vec<u8> {
    let output = Command::new("gzip")
        .arg("-dc")
        .stdin(fs::File::open(path).unwrap())
        .stderr(Stdio::inherit())
        .output()
        .expect("gzip runs");
    assert!(
        output.status.success(),
        "gzip -dc {} failed",
        path.display()
    );
    output.stdout
}

/// `gzip -nc` of a file: compressed, with no name or time in the header.
fn gzip(path: &Path) -> Vec<u8> {
    let output = Command::new("gzip")
        .arg("-nc")
        .stdin(fs::File::open(path).unwrap())
        .stderr(Stdio::inherit())
        .output()
        .expect("gzip runs");
    assert!(
        output.status.success(),
        "gzip -nc {} failed",
        path.display()
    );
    output.stdout
}

/// The entries of each layer of `manifest` (gzip layers of the layout `layout`), as
/// `path -> "KIND MODE UID:GID"`, read from the tar headers themselves.
fn layer_entries(layout: &Path, manifest: &Value) -> Vec<BTreeMap<String, String>> {
    layer_digests(manifest)
        .iter()
        .map(|digest| {
            let tar = gunzip(&blob_path(layout, digest));
            let mut archive = tar::Archive::new(&tar[..]);
            archive
                .entries()
                .unwrap()
                .map(|entry| {
                    let entry = entry.unwrap();
                    let header = entry.header();
                    let kind = match header.entry_type() {
                        tar::EntryType::Regular => "file",
                        tar::EntryType::Directory => "dir",
                        tar::EntryType::Symlink => "symlink",
                        other => panic!("unexpected entry type {other:?}"),
                    };
                    let path = entry.path().unwrap().to_string_lossy().into_owned();
                    (
                        path.trim_end_matches('/').to_string(),
                        format!(
                            "{kind} {:o} {}:{}",
                            header.mode().unwrap(),
                            header.uid().unwrap(),
                            header.gid().unwrap()
                        ),
                    )
                })
                .collect()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 1. Config instructions
// ---------------------------------------------------------------------------------------------

const CONFIG_DOCKERFILE: &str = r#"FROM scratch AS base
SHELL ["/bin/bash", "-c"]
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s CMD ["/healthcheck"]
VOLUME ["/data"]
USER 1000:1000
WORKDIR /app
WORKDIR sub
EXPOSE 8080/udp
ENTRYPOINT echo "hi $HOME"
CMD ["--flag"]

FROM base AS child
HEALTHCHECK NONE
CMD run now
ENTRYPOINT ["/bin/tool"]

FROM base AS entrypoint-only
ENTRYPOINT ["/bin/tool", "--json"]

FROM scratch AS triggers
ONBUILD COPY a /a
"#;

/// Builds the stage `target` of `CONFIG_DOCKERFILE` for both platforms.
fn build_config_stage(scratch: &Path, target: &str) -> BTreeMap<String, Unpacked> {
    let output = layout_in(scratch, target);
    build_ok(
        scratch,
        &scratch.join("home"),
        &[
            "build",
            "ctx",
            "--no-validate",
            "--target",
            target,
            "--output",
            &output,
        ],
    );
    let images = unpack(&output);
    assert_eq!(images.keys().collect::<Vec<_>>(), ["amd64", "arm64"]);
    images
}

#[test]
fn config_instructions_are_stored_in_every_platforms_config() {
    let scratch = tempfile::tempdir().unwrap();
    write_files(
        &scratch.path().join("ctx"),
        &[
            ("Dockerfile", CONFIG_DOCKERFILE, 0o644),
            ("a", "a\n", 0o644),
        ],
    );
    // WORKDIR makes its folders, relative to the previous one.
    let workdirs = files(&[("app", "dir 755"), ("app/sub", "dir 755")]);

    let base = json!({
        "Cmd": ["--flag"],
        // The shell form runs in the SHELL, unexpanded.
        "Entrypoint": ["/bin/bash", "-c", "echo \"hi $HOME\""],
        "Env": [DEFAULT_PATH],
        "ExposedPorts": {"8080/udp": {}},
        "Healthcheck": {"Test": ["CMD", "/healthcheck"], "Interval": 5_000_000_000u64},
        "Shell": ["/bin/bash", "-c"],
        "StopSignal": "SIGTERM",
        "User": "1000:1000",
        "Volumes": {"/data": {}},
        "WorkingDir": "/app/sub",
    });
    for (architecture, image) in build_config_stage(scratch.path(), "base") {
        assert_eq!(image.config["config"], base, "{architecture}");
        assert_eq!(image.config["architecture"], architecture.as_str());
        assert_eq!(image.files, workdirs, "{architecture}");
    }

    // A stage built from it inherits everything; HEALTHCHECK NONE disables the check, the
    // inherited SHELL wraps the shell-form CMD, and an ENTRYPOINT after this stage's CMD keeps
    // that CMD.
    let mut child = base.clone();
    child["Healthcheck"] = json!({"Test": ["NONE"]});
    child["Cmd"] = json!(["/bin/bash", "-c", "run now"]);
    child["Entrypoint"] = json!(["/bin/tool"]);
    for (architecture, image) in build_config_stage(scratch.path(), "child") {
        assert_eq!(image.config["config"], child, "{architecture}");
        assert_eq!(image.files, workdirs, "{architecture}");
    }

    // An ENTRYPOINT with no CMD in its stage drops the inherited CMD.
    let mut entrypoint_only = base.clone();
    entrypoint_only["Entrypoint"] = json!(["/bin/tool", "--json"]);
    entrypoint_only.as_object_mut().unwrap().remove("Cmd");
    for (architecture, image) in build_config_stage(scratch.path(), "entrypoint-only") {
        assert_eq!(image.config["config"], entrypoint_only, "{architecture}");
        assert_eq!(image.files, workdirs, "{architecture}");
    }

    // ONBUILD is stored for images built from this one, not run: no `/a`.
    for (architecture, image) in build_config_stage(scratch.path(), "triggers") {
        assert_eq!(
            image.config["config"],
            json!({"Env": [DEFAULT_PATH], "OnBuild": ["COPY a /a"]}),
            "{architecture}"
        );
        assert_eq!(image.files, BTreeMap::new(), "{architecture}");
    }
}

/// BuildKit runs the `ONBUILD` triggers of a stage in every stage built `FROM` it (its
/// `resolveStages` gathers the base stage's `ONBUILD` commands), and the triggers are not
/// passed on further.
#[test]
fn onbuild_triggers_of_a_stage_run_in_the_stage_built_from_it() {
    let scratch = tempfile::tempdir().unwrap();
    write_files(
        &scratch.path().join("ctx"),
        &[
            (
                "Dockerfile",
                "FROM scratch AS triggers\nONBUILD COPY a /a\n\nFROM triggers\nCOPY b /b\n",
                0o644,
            ),
            ("a", "a\n", 0o644),
            ("b", "b\n", 0o644),
        ],
    );
    let output = layout_in(scratch.path(), "out");
    build_ok(
        scratch.path(),
        &scratch.path().join("home"),
        &["build", "ctx", "--no-validate", "--output", &output],
    );
    for (architecture, image) in unpack(&output) {
        assert_eq!(
            image.files,
            files(&[("a", "file 644 a\n"), ("b", "file 644 b\n")]),
            "{architecture}"
        );
        assert_eq!(
            image.config["config"],
            json!({"Env": [DEFAULT_PATH]}),
            "{architecture}"
        );
    }
}

/// BuildKit stores the whole logical line after `ONBUILD`, continuation lines joined (the
/// parser's `Original`, with `ONBUILD` cut off), so that the trigger parses when it runs.
#[test]
fn an_onbuild_trigger_continued_on_the_next_line_is_stored_whole() {
    let scratch = tempfile::tempdir().unwrap();
    write_files(
        &scratch.path().join("ctx"),
        &[(
            "Dockerfile",
            "FROM scratch\nONBUILD COPY a \\\n/a\nONBUILD LABEL x=1 \\\ny=2\n",
            0o644,
        )],
    );
    let output = layout_in(scratch.path(), "out");
    build_ok(
        scratch.path(),
        &scratch.path().join("home"),
        &["build", "ctx", "--no-validate", "--output", &output],
    );
    for (architecture, image) in unpack(&output) {
        assert_eq!(
            image.config["config"],
            json!({"Env": [DEFAULT_PATH], "OnBuild": ["COPY a /a", "LABEL x=1 y=2"]}),
            "{architecture}"
        );
    }
}

/// BuildKit makes the `WORKDIR` folder with the stage's `USER` as owner (`dispatchWorkdir`
/// passes `llb.WithUser(user)` to its `Mkdir`), so that the user can write in it.
#[test]
fn a_workdir_made_after_user_belongs_to_that_user() {
    let scratch = tempfile::tempdir().unwrap();
    write_files(
        &scratch.path().join("ctx"),
        &[(
            "Dockerfile",
            "FROM scratch\nUSER 1000:1000\nWORKDIR /app\n",
            0o644,
        )],
    );
    let layout = scratch.path().join("out");
    let output = format!("oci:{}:1", layout.display());
    build_ok(
        scratch.path(),
        &scratch.path().join("home"),
        &["build", "ctx", "--no-validate", "--output", &output],
    );
    for (architecture, manifest) in manifests(&layout, "1") {
        assert_eq!(
            layer_entries(&layout, &manifest),
            [BTreeMap::from([(
                "app".to_string(),
                "dir 755 1000:1000".to_string()
            )])],
            "{architecture}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Heredocs
// ---------------------------------------------------------------------------------------------

#[test]
fn heredocs_make_files_expanded_unless_the_delimiter_is_quoted_and_dash_strips_tabs() {
    let scratch = tempfile::tempdir().unwrap();
    let dockerfile = "FROM scratch\n\
                      ARG NAME=world\n\
                      ENV GREETING=hi\n\
                      COPY <<EOF /hello.txt\n\
                      hello $NAME\n  \"quoted\" ${GREETING}\n\
                      EOF\n\
                      COPY <<-\"EOT\" /tab.txt\n\
                      \t\tindented $NAME\n\tkeep\n\
                      EOT\n\
                      COPY <<-EOT /tab-expanded.txt\n\
                      \tunquoted $NAME\n\
                      EOT\n\
                      COPY <<EOF <<-'RAW' /multi/\n\
                      one $NAME\n\
                      EOF\n\
                      \traw ${NAME}\n\
                      RAW\n";
    write_files(
        &scratch.path().join("ctx"),
        &[("Dockerfile", dockerfile, 0o644)],
    );
    let output = layout_in(scratch.path(), "out");
    build_ok(
        scratch.path(),
        &scratch.path().join("home"),
        &["build", "ctx", "--no-validate", "--output", &output],
    );
    let expected = files(&[
        // Unquoted: variables expanded, quotes kept as they are (BuildKit skips quote
        // processing in heredoc bodies).
        ("hello.txt", "file 644 hello world\n  \"quoted\" hi\n"),
        // `<<-`: leading tabs stripped; quoted delimiter: no expansion.
        ("tab.txt", "file 644 indented $NAME\nkeep\n"),
        ("tab-expanded.txt", "file 644 unquoted world\n"),
        // Into a folder, each heredoc is a file named after its delimiter.
        ("multi", "dir 755"),
        ("multi/EOF", "file 644 one world\n"),
        ("multi/RAW", "file 644 raw ${NAME}\n"),
    ]);
    let images = unpack(&output);
    assert_eq!(images.keys().collect::<Vec<_>>(), ["amd64", "arm64"]);
    for (architecture, image) in images {
        assert_eq!(image.files, expected, "{architecture}");
    }
}

// ---------------------------------------------------------------------------------------------
// 3. ADD of local files
// ---------------------------------------------------------------------------------------------

/// A tar with a folder of its own mode, an executable, a private file under a folder it does
/// not list, and a symbolic link.
fn sample_tar() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut add = |path: &str, kind: tar::EntryType, mode: u32, data: &[u8], link: Option<&str>| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_size(data.len() as u64);
        if let Some(target) = link {
            header.set_link_name(target).unwrap();
        }
        builder.append_data(&mut header, path, data).unwrap();
    };
    add("bin/", tar::EntryType::Directory, 0o750, b"", None);
    add("bin/tool", tar::EntryType::Regular, 0o755, b"tool\n", None);
    add("etc/conf", tar::EntryType::Regular, 0o600, b"conf\n", None);
    add(
        "current",
        tar::EntryType::Symlink,
        0o777,
        b"",
        Some("bin/tool"),
    );
    builder.into_inner().unwrap()
}

#[test]
fn add_extracts_local_tar_and_tar_gz_archives_and_copies_other_files_as_they_are() {
    let scratch = tempfile::tempdir().unwrap();
    let context = scratch.path().join("ctx");
    write_files(
        &context,
        &[
            (
                "Dockerfile",
                "FROM scratch\n\
                 ADD plain.tar /plain/\n\
                 ADD packed.tar.gz /packed\n\
                 ADD notes.txt notes.txt.gz empty.tar.gz /docs/\n",
                0o644,
            ),
            ("notes.txt", "notes\n", 0o644),
            // Docker tells archives by their content, not their name.
            ("empty.tar.gz", "", 0o644),
        ],
    );
    fs::write(context.join("plain.tar"), sample_tar()).unwrap();
    let packed = gzip(&context.join("plain.tar"));
    assert_eq!(&packed[..2], [0x1f, 0x8b]);
    fs::write(context.join("packed.tar.gz"), &packed).unwrap();
    // Compressed, but not a tar: copied, not decompressed.
    let notes_gz = gzip(&context.join("notes.txt"));
    fs::write(context.join("notes.txt.gz"), &notes_gz).unwrap();

    let output = layout_in(scratch.path(), "out");
    build_ok(
        scratch.path(),
        &scratch.path().join("home"),
        &["build", "ctx", "--no-validate", "--output", &output],
    );
    let notes_gz_entry = format!("file 644 {}", String::from_utf8_lossy(&notes_gz));
    let mut expected = BTreeMap::new();
    for root in ["plain", "packed"] {
        for (path, what) in [
            ("", "dir 755"),
            ("/bin", "dir 750"),
            ("/bin/tool", "file 755 tool\n"),
            ("/current", "symlink -> bin/tool"),
            ("/etc", "dir 755"),
            ("/etc/conf", "file 600 conf\n"),
        ] {
            expected.insert(format!("{root}{path}"), what.to_string());
        }
    }
    expected.extend(files(&[
        ("docs", "dir 755"),
        ("docs/notes.txt", "file 644 notes\n"),
        ("docs/notes.txt.gz", &notes_gz_entry),
        ("docs/empty.tar.gz", "file 644 "),
    ]));
    let images = unpack(&output);
    assert_eq!(images.keys().collect::<Vec<_>>(), ["amd64", "arm64"]);
    for (architecture, image) in images {
        assert_eq!(image.files, expected, "{architecture}");
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Images from an OCI layout
// ---------------------------------------------------------------------------------------------

/// The example's `linux/hello` of each platform: it differs between them.
fn example_host_binaries() -> BTreeMap<String, Unpacked> {
    let example = unpack(&example_image());
    assert_eq!(
        example["amd64"].files["linux/hello"],
        "file 755 #!/bin/sh\necho 'hello from amd64'\n"
    );
    assert_eq!(
        example["arm64"].files["linux/hello"],
        "file 755 #!/bin/sh\necho 'hello from arm64'\n"
    );
    example
}

#[test]
fn copy_from_a_layout_image_takes_each_platforms_variant() {
    let example = example_host_binaries();
    let scratch = tempfile::tempdir().unwrap();
    write_files(
        &scratch.path().join("ctx"),
        &[(
            "Dockerfile",
            &format!(
                "FROM scratch\nCOPY --from={} /linux/hello /bin/hello\n",
                example_image()
            ),
            0o644,
        )],
    );
    let output = layout_in(scratch.path(), "out");
    build_ok(
        scratch.path(),
        &scratch.path().join("home"),
        &["build", "ctx", "--no-validate", "--output", &output],
    );
    let images = unpack(&output);
    assert_eq!(images.keys().collect::<Vec<_>>(), ["amd64", "arm64"]);
    for (architecture, image) in images {
        assert_eq!(
            image.files,
            files(&[
                ("bin", "dir 755"),
                ("bin/hello", &example[&architecture].files["linux/hello"]),
            ]),
            "{architecture}"
        );
    }
}

#[test]
fn a_layout_image_as_base_gives_each_platform_its_own_layers_and_config() {
    let example = example_host_binaries();
    let example_manifests = manifests(&example_layout(), "latest");
    let scratch = tempfile::tempdir().unwrap();
    write_files(
        &scratch.path().join("ctx"),
        &[
            (
                "Dockerfile",
                &format!("FROM {}\nCOPY extra.txt /\n", example_image()),
                0o644,
            ),
            ("extra.txt", "extra\n", 0o644),
        ],
    );
    let layout = scratch.path().join("out");
    let output = format!("oci:{}:1", layout.display());
    build_ok(
        scratch.path(),
        &scratch.path().join("home"),
        &["build", "ctx", "--no-validate", "--output", &output],
    );
    let images = unpack(&output);
    let built_manifests = manifests(&layout, "1");
    assert_eq!(images.keys().collect::<Vec<_>>(), ["amd64", "arm64"]);
    for (architecture, image) in images {
        let mut expected_files = example[&architecture].files.clone();
        expected_files.insert("extra.txt".into(), "file 644 extra\n".into());
        assert_eq!(image.files, expected_files, "{architecture}");

        // The base's layers are this platform's, kept as they are, and one more.
        let base_layers = layer_digests(&example_manifests[&architecture]);
        let built_layers = layer_digests(&built_manifests[&architecture]);
        assert_eq!(built_layers.len(), base_layers.len() + 1, "{architecture}");
        assert_eq!(
            built_layers[..base_layers.len()],
            base_layers[..],
            "{architecture}"
        );

        // The config is the base's, with the PATH Docker always sets.
        let mut expected_config = example[&architecture].config["config"].clone();
        expected_config["Env"] = json!([DEFAULT_PATH]);
        assert_eq!(image.config["config"], expected_config, "{architecture}");
    }
    let base_layers_differ =
        layer_digests(&example_manifests["amd64"]) != layer_digests(&example_manifests["arm64"]);
    assert!(
        base_layers_differ,
        "the example's platforms share every layer"
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Automatic platform arguments
// ---------------------------------------------------------------------------------------------

#[test]
fn automatic_platform_arguments_take_each_platforms_values_once_declared() {
    let host = host_architecture();
    let example = example_host_binaries();
    let scratch = tempfile::tempdir().unwrap();
    let dockerfile = format!(
        "FROM --platform=$BUILDPLATFORM scratch AS tools\n\
         ARG TARGETARCH\n\
         COPY tool-${{TARGETARCH}} /tool\n\
         \n\
         FROM --platform=$BUILDPLATFORM {example} AS host\n\
         \n\
         FROM scratch\n\
         ARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM BUILDOS BUILDARCH\n\
         LABEL target=$TARGETPLATFORM os=$TARGETOS arch=$TARGETARCH variant=[$TARGETVARIANT] \\\n\
         \x20     build=$BUILDPLATFORM build-os=$BUILDOS build-arch=$BUILDARCH \\\n\
         \x20     build-variant=[$BUILDVARIANT]\n\
         ENV TARGET_ARCH=$TARGETARCH\n\
         COPY --from=tools /tool /tool\n\
         COPY --from=host /linux/hello /build-hello\n",
        example = example_image()
    );
    write_files(
        &scratch.path().join("ctx"),
        &[
            ("Dockerfile", &dockerfile, 0o644),
            ("tool-amd64", "amd64 tool\n", 0o644),
            ("tool-arm64", "arm64 tool\n", 0o644),
            ("tool-arm", "arm tool\n", 0o644),
        ],
    );
    let output = layout_in(scratch.path(), "out");
    build_ok(
        scratch.path(),
        &scratch.path().join("home"),
        &[
            "build",
            "ctx",
            "--no-validate",
            "--platform",
            "linux/amd64,linux/arm64,linux/arm/v7",
            "--output",
            &output,
        ],
    );
    let images = unpack(&output);
    assert_eq!(images.keys().collect::<Vec<_>>(), ["amd64", "arm", "arm64"]);
    let build_hello = &example[host].files["linux/hello"];
    for (architecture, target, variant) in [
        ("amd64", "linux/amd64", ""),
        ("arm64", "linux/arm64", ""),
        ("arm", "linux/arm/v7", "v7"),
    ] {
        let image = &images[architecture];
        assert_eq!(
            image.config["config"],
            json!({
                "Env": [DEFAULT_PATH, format!("TARGET_ARCH={architecture}")],
                "Labels": {
                    "target": target,
                    "os": "linux",
                    "arch": architecture,
                    "variant": format!("[{variant}]"),
                    "build": format!("linux/{host}"),
                    "build-os": "linux",
                    "build-arch": host,
                    // Not declared in the stage: empty, as Docker documents.
                    "build-variant": "[]",
                },
            }),
            "{architecture}"
        );
        assert_eq!(
            image.files,
            files(&[
                // A stage on the build platform still sees the target's TARGETARCH.
                ("tool", &format!("file 644 {architecture} tool\n")),
                // An image on the build platform is the build platform's variant.
                ("build-hello", build_hello),
            ]),
            "{architecture}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Named build contexts
// ---------------------------------------------------------------------------------------------

#[test]
fn a_build_context_is_copied_from_by_its_name() {
    let scratch = tempfile::tempdir().unwrap();
    write_files(
        &scratch.path().join("ctx"),
        &[(
            "Dockerfile",
            "FROM scratch\nCOPY --from=assets logo.txt /x\nCOPY --from=assets sub /sub/\n",
            0o644,
        )],
    );
    let assets = scratch.path().join("assets");
    write_files(
        &assets,
        &[
            ("logo.txt", "the logo\n", 0o644),
            ("sub/run.sh", "#!/bin/sh\n", 0o755),
            ("sub/deeper/data.json", "{}\n", 0o644),
        ],
    );
    let output = layout_in(scratch.path(), "out");
    let context_flag = format!("assets={}", assets.display());
    build_ok(
        scratch.path(),
        &scratch.path().join("home"),
        &[
            "build",
            "ctx",
            "--no-validate",
            "--build-context",
            &context_flag,
            "--output",
            &output,
        ],
    );
    let expected = files(&[
        ("x", "file 644 the logo\n"),
        ("sub", "dir 755"),
        ("sub/run.sh", "file 755 #!/bin/sh\n"),
        ("sub/deeper", "dir 755"),
        ("sub/deeper/data.json", "file 644 {}\n"),
    ]);
    for (architecture, image) in unpack(&output) {
        assert_eq!(image.files, expected, "{architecture}");
    }
}

#[test]
fn a_build_context_named_like_a_stage_stands_for_that_stage() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    write_files(
        &scratch.path().join("ctx"),
        &[(
            "Dockerfile",
            "FROM scratch AS ui\nCOPY not-in-context.html /index.html\n\n\
             FROM scratch\nCOPY --from=ui /index.html /ui/index.html\n",
            0o644,
        )],
    );
    // Without the named context the stage is built, and fails.
    let (code, stdout, stderr) = run_in(scratch.path(), &home, &["build", "ctx", "--no-validate"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        "error: Dockerfile:2: `not-in-context.html` is not in the build context\n\
         hint: paths are relative to the context folder; check it and `.dockerignore`\n"
    );

    // With it, the folder replaces the stage, which is never built.
    let built_ui = scratch.path().join("built-ui");
    write_files(
        &built_ui,
        &[("index.html", "<p>from the named context</p>\n", 0o644)],
    );
    let output = layout_in(scratch.path(), "out");
    let context_flag = format!("ui={}", built_ui.display());
    build_ok(
        scratch.path(),
        &home,
        &[
            "build",
            "ctx",
            "--no-validate",
            "--build-context",
            &context_flag,
            "--output",
            &output,
        ],
    );
    for (architecture, image) in unpack(&output) {
        assert_eq!(
            image.files,
            files(&[
                ("ui", "dir 755"),
                ("ui/index.html", "file 644 <p>from the named context</p>\n"),
            ]),
            "{architecture}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Outputs and naming
// ---------------------------------------------------------------------------------------------

/// A context of a few files in two layers, in `scratch/ctx`.
fn small_context(scratch: &Path, dockerfile: &str) {
    write_files(
        &scratch.join("ctx"),
        &[
            ("Dockerfile", dockerfile, 0o644),
            ("ui/index.html", "<p>hi</p>\n", 0o644),
            ("ui/app.js", "run()\n", 0o644),
            ("notes.txt", "notes\n", 0o644),
        ],
    );
}

const SMALL_DOCKERFILE: &str = "FROM scratch\nCOPY ui /ui\nCOPY notes.txt /\n";

#[test]
fn every_tag_names_the_same_image_in_the_store() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    small_context(scratch.path(), SMALL_DOCKERFILE);
    let digest = build_ok(
        scratch.path(),
        &home,
        &[
            "build",
            "ctx",
            "--no-validate",
            "-t",
            "acme/one:1",
            "-t",
            "acme/two:2.0",
            "-t",
            "localhost:5000/three",
        ],
    );
    let (code, stdout, stderr) = run_in(scratch.path(), &home, &["images", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let images: Value = serde_json::from_str(&stdout).unwrap();
    let mut listed: Vec<(String, String, String)> = images
        .as_array()
        .unwrap()
        .iter()
        .map(|image| {
            (
                image["repository"].as_str().unwrap().to_string(),
                image["tag"].as_str().unwrap().to_string(),
                image["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    listed.sort();
    let expected: Vec<(String, String, String)> = [
        ("acme/one", "1"),
        ("acme/two", "2.0"),
        ("localhost:5000/three", "latest"),
    ]
    .iter()
    .map(|(repository, tag)| (repository.to_string(), tag.to_string(), digest.clone()))
    .collect();
    assert_eq!(listed, expected);
}

#[test]
fn an_oci_archive_output_holds_the_printed_digest() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    small_context(scratch.path(), SMALL_DOCKERFILE);
    let archive = format!(
        "oci-archive:{}:v1",
        scratch.path().join("ext.tar").display()
    );
    let digest = build_ok(
        scratch.path(),
        &home,
        &["build", "ctx", "--no-validate", "--output", &archive],
    );
    let (code, stdout, stderr) = run_in(
        scratch.path(),
        &home,
        &["inspect", &archive, "--format", "json"],
    );
    assert_eq!(code, 0, "{stderr}");
    let inspected: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(inspected["digest"], digest.as_str());
    // The same build into the store is the same image.
    assert_eq!(
        build_ok(scratch.path(), &home, &["build", "ctx", "--no-validate"]),
        digest
    );
}

#[test]
fn zstd_compression_changes_the_layers_media_type_and_digest_not_the_files() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    small_context(scratch.path(), SMALL_DOCKERFILE);
    let mut digests = BTreeMap::new();
    let mut unpacked = BTreeMap::new();
    let mut built = BTreeMap::new();
    for compression in ["gzip", "zstd"] {
        let layout = scratch.path().join(compression);
        let output = format!("oci:{}:1", layout.display());
        let digest = build_ok(
            scratch.path(),
            &home,
            &[
                "build",
                "ctx",
                "--no-validate",
                "--compression",
                compression,
                "--output",
                &output,
            ],
        );
        digests.insert(compression, digest);
        unpacked.insert(compression, unpack(&output));
        built.insert(compression, manifests(&layout, "1"));
    }
    assert_ne!(digests["gzip"], digests["zstd"]);
    assert_eq!(unpacked["gzip"], unpacked["zstd"]);
    for architecture in ["amd64", "arm64"] {
        for (compression, media_type) in [
            ("gzip", "application/vnd.oci.image.layer.v1.tar+gzip"),
            ("zstd", "application/vnd.oci.image.layer.v1.tar+zstd"),
        ] {
            let media_types: Vec<&str> = built[compression][architecture]["layers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|layer| layer["mediaType"].as_str().unwrap())
                .collect();
            assert_eq!(media_types, [media_type, media_type], "{architecture}");
        }
        let gzip_layers = layer_digests(&built["gzip"][architecture]);
        let zstd_layers = layer_digests(&built["zstd"][architecture]);
        assert!(
            gzip_layers.iter().all(|layer| !zstd_layers.contains(layer)),
            "{architecture}: {gzip_layers:?} {zstd_layers:?}"
        );
        // The uncompressed layers are the same: so is the config, which lists their digests.
        assert_eq!(
            built["gzip"][architecture]["config"], built["zstd"][architecture]["config"],
            "{architecture}"
        );
    }
}

#[test]
fn label_flags_are_added_to_every_platforms_labels_over_the_dockerfiles() {
    let scratch = tempfile::tempdir().unwrap();
    small_context(
        scratch.path(),
        "FROM scratch\nLABEL k=dockerfile keep=yes\nCOPY notes.txt /\n",
    );
    let output = layout_in(scratch.path(), "out");
    build_ok(
        scratch.path(),
        &scratch.path().join("home"),
        &[
            "build",
            "ctx",
            "--no-validate",
            "--label",
            "k=v",
            "--label",
            "org.example.extra=with spaces",
            "--output",
            &output,
        ],
    );
    let images = unpack(&output);
    assert_eq!(images.keys().collect::<Vec<_>>(), ["amd64", "arm64"]);
    for (architecture, image) in images {
        assert_eq!(
            image.config["config"]["Labels"],
            json!({"k": "v", "keep": "yes", "org.example.extra": "with spaces"}),
            "{architecture}"
        );
    }
}

#[test]
fn copy_link_gives_the_same_image_as_copy() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    small_context(scratch.path(), SMALL_DOCKERFILE);
    write_files(
        &scratch.path().join("ctx"),
        &[(
            "Dockerfile.link",
            "FROM scratch\nCOPY --link ui /ui\nCOPY --link notes.txt /\n",
            0o644,
        )],
    );
    let plain_output = layout_in(scratch.path(), "plain");
    let plain = build_ok(
        scratch.path(),
        &home,
        &["build", "ctx", "--no-validate", "--output", &plain_output],
    );
    let linked_output = layout_in(scratch.path(), "linked");
    let linked = build_ok(
        scratch.path(),
        &home,
        &[
            "build",
            "ctx",
            "-f",
            "ctx/Dockerfile.link",
            "--no-validate",
            "--output",
            &linked_output,
        ],
    );
    let expected = files(&[
        ("notes.txt", "file 644 notes\n"),
        ("ui", "dir 755"),
        ("ui/app.js", "file 644 run()\n"),
        ("ui/index.html", "file 644 <p>hi</p>\n"),
    ]);
    for (architecture, image) in unpack(&linked_output) {
        assert_eq!(image.files, expected, "{architecture}");
    }
    assert_eq!(unpack(&plain_output), unpack(&linked_output));
    assert_eq!(linked, plain);
}

// ---------------------------------------------------------------------------------------------
// 8. Owners and modes
// ---------------------------------------------------------------------------------------------

#[test]
fn copy_chown_and_chmod_set_the_owner_and_mode_of_every_copied_entry() {
    let scratch = tempfile::tempdir().unwrap();
    write_files(
        &scratch.path().join("ctx"),
        &[
            (
                "Dockerfile",
                "FROM scratch\n\
                 COPY --chown=1000:1000 --chmod=0700 ui /srv/\n\
                 COPY ui /plain/\n\
                 COPY --chown=33 notes.txt /owned\n",
                0o644,
            ),
            ("ui/index.html", "<p>hi</p>\n", 0o644),
            ("ui/js/app.js", "run()\n", 0o755),
            ("notes.txt", "notes\n", 0o644),
        ],
    );
    let layout = scratch.path().join("out");
    let output = format!("oci:{}:1", layout.display());
    build_ok(
        scratch.path(),
        &scratch.path().join("home"),
        &["build", "ctx", "--no-validate", "--output", &output],
    );
    let layers = |entries: &[&[(&str, &str)]]| -> Vec<BTreeMap<String, String>> {
        entries.iter().map(|layer| files(layer)).collect()
    };
    let expected = layers(&[
        // The folder the copy makes is 755 and the new owner's; every copied entry, folders
        // too, takes the mode and the owner.
        &[
            ("srv", "dir 755 1000:1000"),
            ("srv/index.html", "file 700 1000:1000"),
            ("srv/js", "dir 700 1000:1000"),
            ("srv/js/app.js", "file 700 1000:1000"),
        ],
        // Without the flags: root's, modes kept.
        &[
            ("plain", "dir 755 0:0"),
            ("plain/index.html", "file 644 0:0"),
            ("plain/js", "dir 755 0:0"),
            ("plain/js/app.js", "file 755 0:0"),
        ],
        // A lone user id is the group id too.
        &[("owned", "file 644 33:33")],
    ]);
    let built = manifests(&layout, "1");
    assert_eq!(built.keys().collect::<Vec<_>>(), ["amd64", "arm64"]);
    for (architecture, manifest) in built {
        assert_eq!(
            layer_entries(&layout, &manifest),
            expected,
            "{architecture}"
        );
    }
}
