//! `extkit build`: the same images as buildah from the same Dockerfiles, reproducible digests,
//! layers shared by platforms stored once, and a clear refusal of `RUN`.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::build::{run_within, write_files};
use common::{extkit, make_fifo, require_peer, run_peer};
use serde_json::Value;

/// Runs extkit with its store in `home`; gives (exit code, stdout, stderr).
fn run(home: &Path, args: &[&str]) -> (i32, String, String) {
    run_with(home, args, &[])
}

fn run_with(home: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = extkit();
    command
        .env("EXTKIT_HOME", home)
        .env_remove("SOURCE_DATE_EPOCH");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.args(args).output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// Runs extkit in the folder `dir` with its store in `home`, killed after 10 s so that a
/// build which hangs (on a FIFO, say) fails the test instead of the suite; gives (exit code,
/// stdout, stderr).
fn run_in(dir: &Path, home: &Path, args: &[&str]) -> (i32, String, String) {
    run_within(dir, home, args, std::time::Duration::from_secs(10))
}

/// One platform's image, unpacked: every path with its type, mode and content; and the
/// config fields the comparison is about.
#[derive(Debug, PartialEq, Eq)]
struct Unpacked {
    files: BTreeMap<String, String>,
    config: BTreeMap<&'static str, Value>,
}

const COMPARED_FIELDS: [&str; 7] = [
    "Env",
    "Cmd",
    "Entrypoint",
    "WorkingDir",
    "User",
    "Labels",
    "ExposedPorts",
];

/// Every platform of the image at `location`, by architecture, with the compared config
/// fields.
fn unpack(location: &str) -> BTreeMap<String, Unpacked> {
    common::build::unpack(location)
        .into_iter()
        .map(|(architecture, image)| {
            let mut fields = BTreeMap::new();
            for field in COMPARED_FIELDS {
                let mut value = image.config["config"]
                    .get(field)
                    .cloned()
                    .unwrap_or(Value::Null);
                // buildah signs its images with its version; nothing else differs.
                if let Some(labels) = value.as_object_mut() {
                    labels.remove("io.buildah.version");
                }
                if value == Value::Object(Default::default())
                    || value == Value::String(String::new())
                {
                    value = Value::Null;
                }
                fields.insert(field, value);
            }
            let unpacked = Unpacked {
                files: image.files,
                config: fields,
            };
            (architecture, unpacked)
        })
        .collect()
}

/// Builds `dockerfile` in `context` with buildah for both platforms into an OCI layout.
fn buildah_build(scratch: &Path, context: &Path, extra: &[&str]) -> String {
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
            .args(["build", "--isolation", "chroot", "--platform"])
            .args(["linux/amd64,linux/arm64", "--manifest", "localhost/diff:1"])
            .args(extra)
            .arg(context),
    );
    let layout = scratch.join("buildah-layout");
    run_peer(
        buildah()
            .args(["manifest", "push", "--all", "localhost/diff:1"])
            .arg(format!("oci:{}:1", layout.display())),
    );
    format!("oci:{}:1", layout.display())
}

/// Builds with buildah and with extkit and asserts both images are the same per platform.
fn assert_same_as_buildah(
    files: &[(&str, &str, u32)],
    extra: &[&str],
) -> BTreeMap<String, Unpacked> {
    let scratch = tempfile::tempdir().unwrap();
    let context = scratch.path().join("context");
    write_files(&context, files);
    let theirs = unpack(&buildah_build(scratch.path(), &context, extra));

    let home = scratch.path().join("home");
    let layout = format!("oci:{}:1", scratch.path().join("extkit-layout").display());
    let mut args = vec![
        "build",
        context.to_str().unwrap(),
        "--output",
        &layout,
        "--no-validate",
    ];
    args.extend(extra);
    let (code, _, stderr) = run(&home, &args);
    assert_eq!(code, 0, "{stderr}");
    let ours = unpack(&layout);
    assert_eq!(ours.keys().collect::<Vec<_>>(), ["amd64", "arm64"]);
    for architecture in ["amd64", "arm64"] {
        assert_eq!(
            ours[architecture].files, theirs[architecture].files,
            "files of {architecture}"
        );
        assert_eq!(
            ours[architecture].config, theirs[architecture].config,
            "config of {architecture}"
        );
    }
    ours
}

const RICH_DOCKERFILE: &str = r#"ARG VERSION=1.0.0

FROM scratch AS host
ARG TARGETARCH
COPY host/${TARGETARCH}/ /bin/

FROM scratch
ARG TARGETARCH
ARG TARGETOS
ARG VERSION
LABEL org.opencontainers.image.title="Differential" \
      version="${VERSION}" arch=${TARGETOS}-${TARGETARCH}
ENV APP_HOME=/app GREETING="hello world"
ENV PATH=/usr/local/bin
WORKDIR /app
COPY metadata.json icon.svg ./
COPY ui ui
COPY --chmod=0755 --from=host /bin/tool /usr/local/bin/tool
COPY --chmod=0640 notes.txt /etc/notes.txt
USER 1000:1000
EXPOSE 8080 9090/udp
ENTRYPOINT ["/usr/local/bin/tool"]
CMD ["--serve", "$GREETING"]
"#;

fn rich_context() -> Vec<(&'static str, &'static str, u32)> {
    vec![
        ("Dockerfile", RICH_DOCKERFILE, 0o644),
        (
            ".dockerignore",
            "**/*.map\nui/drafts\n!ui/drafts/keep.html\n",
            0o644,
        ),
        ("metadata.json", "{\"ui\": {}}\n", 0o644),
        ("icon.svg", "<svg/>\n", 0o644),
        ("notes.txt", "notes\n", 0o644),
        ("ui/index.html", "<p>hi</p>\n", 0o644),
        ("ui/app.js", "run()\n", 0o644),
        ("ui/app.js.map", "{}\n", 0o644),
        ("ui/assets/logo.txt", "logo\n", 0o644),
        ("ui/assets/current", "->logo.txt", 0),
        ("ui/drafts/old.html", "old\n", 0o644),
        ("ui/drafts/keep.html", "keep\n", 0o644),
        ("ui/run.sh", "#!/bin/sh\n", 0o755),
        ("host/amd64/tool", "amd64 tool\n", 0o644),
        ("host/arm64/tool", "arm64 tool\n", 0o644),
    ]
}

#[test]
fn a_multi_stage_dockerfile_gives_buildahs_files_and_config() {
    if !require_peer("buildah") {
        return;
    }
    let ours = assert_same_as_buildah(&rich_context(), &[]);
    // The comparison is about something: the platforms differ where TARGETARCH says.
    assert_eq!(
        ours["arm64"].files["usr/local/bin/tool"],
        "file 755 arm64 tool\n"
    );
    assert_eq!(
        ours["amd64"].config["Labels"]["arch"],
        Value::String("linux-amd64".into())
    );
    assert!(!ours["amd64"].files.contains_key("app/ui/app.js.map"));
    assert_eq!(
        ours["amd64"].files["app/ui/assets/current"],
        "symlink -> logo.txt"
    );
}

#[test]
fn build_args_labels_and_shell_forms_give_buildahs_config() {
    if !require_peer("buildah") {
        return;
    }
    let dockerfile = "FROM scratch\nARG TARGETARCH\nARG NAME=default\n\
                      LABEL name=$NAME\nCOPY files/*.txt /data/\n\
                      COPY --chmod=755 bin/${TARGETARCH} /bin/tool\n\
                      ENTRYPOINT /bin/tool --name $NAME\nCMD run\nWORKDIR relative\n";
    let files = [
        ("Dockerfile", dockerfile, 0o644),
        ("files/a.txt", "a\n", 0o644),
        ("files/b.txt", "b\n", 0o644),
        ("files/c.md", "c\n", 0o644),
        ("bin/amd64", "x86\n", 0o644),
        ("bin/arm64", "arm\n", 0o644),
    ];
    let ours = assert_same_as_buildah(&files, &["--build-arg", "NAME=chosen"]);
    assert_eq!(
        ours["amd64"].config["Labels"]["name"],
        Value::String("chosen".into())
    );
}

/// The digest `extkit build` prints for `context`.
fn build_digest(home: &Path, context: &Path, env: &[(&str, &str)]) -> String {
    let (code, stdout, stderr) = run_with(
        home,
        &["build", context.to_str().unwrap(), "--no-validate"],
        env,
    );
    assert_eq!(code, 0, "{stderr}");
    stdout.trim().to_string()
}

fn set_mtime(root: &Path, seconds: i64) {
    for entry in walk(root) {
        let time = fs::FileTimes::new()
            .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds as u64));
        if !entry.is_symlink() {
            fs::File::options()
                .write(!entry.is_dir())
                .read(entry.is_dir())
                .open(&entry)
                .unwrap()
                .set_times(time)
                .unwrap();
        }
    }
}

fn walk(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() && !path.is_symlink() {
            found.extend(walk(&path));
        }
        found.push(path);
    }
    found
}

const RICH_DIGEST: &str = "sha256:22639f352155af022ff5b596a6d60045e1b6be3e697e2713e55825cbe5920496";

#[test]
fn the_same_context_gives_the_same_digest_wherever_whenever_and_whatever_the_umask() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let first = scratch.path().join("a/checkout");
    write_files(&first, &rich_context());
    set_mtime(&first, 1_000_000);
    let digest = build_digest(&home, &first, &[]);
    assert_eq!(digest, RICH_DIGEST);

    // Another folder, other times, and the modes a checkout under umask 077 would have.
    let second = scratch.path().join("elsewhere/deeper/copy");
    let mut files = rich_context();
    for (_, _, mode) in &mut files {
        *mode &= 0o700;
    }
    write_files(&second, &files);
    set_mtime(&second, 1_700_000_000);
    assert_eq!(build_digest(&home, &second, &[]), RICH_DIGEST);
    assert_eq!(
        build_digest(&home, &second, &[("SOURCE_DATE_EPOCH", "0")]),
        RICH_DIGEST
    );

    let later = build_digest(&home, &first, &[("SOURCE_DATE_EPOCH", "1700000000")]);
    assert_ne!(later, RICH_DIGEST);
    assert_eq!(
        build_digest(&home, &second, &[("SOURCE_DATE_EPOCH", "1700000000")]),
        later
    );
}

/// The files in a layout's `blobs/sha256`.
fn blob_count(layout: &Path) -> usize {
    fs::read_dir(layout.join("blobs/sha256")).unwrap().count()
}

#[test]
fn a_layer_the_same_for_every_platform_is_stored_once() {
    let scratch = tempfile::tempdir().unwrap();
    let context = scratch.path().join("context");
    write_files(
        &context,
        &[
            (
                "Dockerfile",
                "FROM scratch\nARG TARGETARCH\nCOPY ui /ui\nCOPY host/${TARGETARCH} /host\n",
                0o644,
            ),
            ("ui/index.html", "<p>shared</p>\n", 0o644),
            ("host/amd64", "amd64\n", 0o755),
            ("host/arm64", "arm64\n", 0o755),
        ],
    );
    let layout = scratch.path().join("layout");
    let output = format!("oci:{}:1", layout.display());
    let (code, _, stderr) = run(
        &scratch.path().join("home"),
        &[
            "build",
            context.to_str().unwrap(),
            "--output",
            &output,
            "--no-validate",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    // One shared ui layer, two host layers, two configs, two manifests, one index.
    assert_eq!(blob_count(&layout), 8);
    let images = unpack(&output);
    assert_eq!(
        images["amd64"].files["ui/index.html"],
        "file 644 <p>shared</p>\n"
    );
    assert_eq!(images["arm64"].files["host"], "file 755 arm64\n");
}

#[test]
fn a_run_the_target_needs_is_refused_with_its_line() {
    let scratch = tempfile::tempdir().unwrap();
    let context = scratch.path().join("context");
    write_files(
        &context,
        &[
            (
                "Dockerfile",
                "FROM alpine AS ui\nRUN npm ci\n\nFROM scratch\nCOPY --from=ui /out /ui\n",
                0o644,
            ),
            (
                "Dockerfile.final",
                "FROM scratch\nCOPY . /\n\nRUN chmod -R a+r /\n",
                0o644,
            ),
        ],
    );
    let home = scratch.path().join("home");
    let (code, stdout, stderr) = run(&home, &["build", context.to_str().unwrap()]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        "error: Dockerfile:2: RUN needs a container engine, which `extkit build` does not use\n\
         hint: build stage `ui` with a container engine and pass its output with \
         `--build-context ui=DIR`, or build the whole Dockerfile with `docker buildx build` \
         or `buildah build`\n"
    );

    let dockerfile = context.join("Dockerfile.final");
    let (code, _, stderr) = run(
        &home,
        &[
            "build",
            context.to_str().unwrap(),
            "-f",
            dockerfile.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: Dockerfile.final:4: RUN needs a container engine, which `extkit build` does not \
         use\n\
         hint: the target stage `0` runs it itself: move the RUN into a stage of its own, pass \
         that stage's output with `--build-context NAME=DIR` and `COPY --from=NAME`, or build \
         the whole Dockerfile with `docker buildx build` or `buildah build`\n"
    );

    // The folder built elsewhere stands for the stage, and nothing is run.
    let built_ui = scratch.path().join("built-ui");
    write_files(&built_ui, &[("out/index.html", "<p>built</p>\n", 0o644)]);
    let (code, stdout, stderr) = run(
        &home,
        &[
            "build",
            context.to_str().unwrap(),
            "--build-context",
            &format!("ui={}", built_ui.display()),
            "--no-validate",
            "-t",
            "acme/ui:1",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let (_, images, _) = run(&home, &["images", "--format", "json"]);
    let images: Value = serde_json::from_str(&images).unwrap();
    assert_eq!(images[0]["digest"], Value::String(stdout.trim().into()));
    assert_eq!(images[0]["repository"], "acme/ui");
}

#[test]
fn an_invalid_extension_exits_1_and_is_still_stored_and_base_images_come_from_the_store() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let base = scratch.path().join("base");
    write_files(
        &base,
        &[
            ("Dockerfile", "FROM scratch\nCOPY base.txt /\n", 0o644),
            ("base.txt", "base\n", 0o644),
        ],
    );
    let (code, base_digest, stderr) = run(
        &home,
        &["build", base.to_str().unwrap(), "-t", "acme/base:1"],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.ends_with("invalid: 10 errors and 3 warnings\n"),
        "{stderr}"
    );
    let (_, images, _) = run(&home, &["images", "--format", "json"]);
    let images: Value = serde_json::from_str(&images).unwrap();
    assert_eq!(
        images[0]["digest"],
        Value::String(base_digest.trim().into())
    );

    let child = scratch.path().join("child");
    write_files(
        &child,
        &[
            ("Dockerfile", "FROM acme/base:1\nCOPY child.txt /\n", 0o644),
            ("child.txt", "child\n", 0o644),
        ],
    );
    let layout = format!("oci:{}:1", scratch.path().join("layout").display());
    let (code, _, stderr) = run(
        &home,
        &[
            "build",
            child.to_str().unwrap(),
            "--output",
            &layout,
            "--no-validate",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    // Both platforms read the base; it is announced once.
    assert_eq!(
        stderr
            .matches("using acme/base:1 from the local store\n")
            .count(),
        1,
        "{stderr}"
    );
    let images = unpack(&layout);
    assert_eq!(
        images["arm64"].files,
        BTreeMap::from([
            ("base.txt".to_string(), "file 644 base\n".to_string()),
            ("child.txt".to_string(), "file 644 child\n".to_string()),
        ])
    );
}

#[test]
fn a_fifo_dockerfile_or_dockerignore_is_refused_not_read() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let context = scratch.path().join("ctx");
    fs::create_dir(&context).unwrap();
    make_fifo(&context.join("Dockerfile"));
    let (code, stdout, stderr) = run_in(scratch.path(), &home, &["build", "ctx"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        "error: the Dockerfile `ctx/Dockerfile` is not a regular file\n\
         hint: it is a FIFO; write the Dockerfile to a file and name it with `-f FILE`\n"
    );

    make_fifo(&scratch.path().join("fifo.Dockerfile"));
    let (code, _, stderr) = run_in(
        scratch.path(),
        &home,
        &["build", "ctx", "-f", "fifo.Dockerfile"],
    );
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: the Dockerfile `fifo.Dockerfile` is not a regular file\n\
         hint: it is a FIFO; write the Dockerfile to a file and name it with `-f FILE`\n"
    );

    fs::remove_file(context.join("Dockerfile")).unwrap();
    write_files(
        &context,
        &[("Dockerfile", "FROM scratch\nCOPY . /\n", 0o644)],
    );
    make_fifo(&context.join(".dockerignore"));
    let (code, _, stderr) = run_in(scratch.path(), &home, &["build", "ctx"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: `ctx/.dockerignore` is not a regular file\n\
         hint: it is a FIFO; make `.dockerignore` a file listing what to leave out, or remove \
         it\n"
    );
}

#[test]
fn variables_that_repeat_one_another_are_capped_not_expanded_to_gigabytes() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let context = scratch.path().join("ctx");
    // Each argument is the previous one ten times: `I` would be 1 GB.
    let mut dockerfile = String::from("FROM scratch\nARG A=aaaaaaaaaa\n");
    for (previous, name) in ["A", "B", "C", "D", "E", "F", "G", "H"]
        .iter()
        .zip(["B", "C", "D", "E", "F", "G", "H", "I"])
    {
        dockerfile += &format!("ARG {name}={}\n", format!("${{{previous}}}").repeat(10));
    }
    dockerfile += "LABEL x=$I\n";
    write_files(&context, &[("Dockerfile", &dockerfile, 0o644)]);
    let (code, stdout, stderr) = run_in(scratch.path(), &home, &["build", "ctx"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        "error: Dockerfile:8: expanding `$F` makes a value longer than 1 MiB\n\
         hint: values that repeat other variables grow fast; shorten the `ARG`, `ENV` or \
         `--build-arg` values they are made of\n"
    );

    // Values under the limit each, but too many of them together.
    let mut dockerfile = String::from("FROM scratch\nARG A=aaaaaaaaaa\n");
    for (previous, name) in ["A", "B", "C", "D", "E"]
        .iter()
        .zip(["B", "C", "D", "E", "F"])
    {
        dockerfile += &format!("ARG {name}={}\n", format!("${previous}").repeat(10));
    }
    for index in 0..20 {
        dockerfile += &format!("ENV V{index}=$F\n");
    }
    write_files(&context, &[("Dockerfile", &dockerfile, 0o644)]);
    let (code, _, stderr) = run_in(scratch.path(), &home, &["build", "ctx"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: Dockerfile:23: the arguments, environment and labels of the stage take more \
         than 16 MiB\n\
         hint: values that repeat other variables grow fast; shorten the `ARG`, `ENV` or \
         `--build-arg` values they are made of\n"
    );
}

#[test]
fn a_name_that_is_not_utf8_is_refused_not_merged_with_another() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let context = scratch.path().join("ctx");
    write_files(
        &context,
        &[("Dockerfile", "FROM scratch\nCOPY . /\n", 0o644)],
    );
    for name in [&b"bad\xff"[..], &b"bad\xfe"[..]] {
        fs::write(context.join(OsStr::from_bytes(name)), name).unwrap();
    }
    let (code, stdout, stderr) = run_in(scratch.path(), &home, &["build", "ctx"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        "error: the name of `bad\u{FFFD}` in the build context is not UTF-8\n\
         hint: rename it (`convmv` converts names to UTF-8), or leave it out with \
         `.dockerignore`\n"
    );
}

#[test]
fn stages_that_copy_from_each_other_are_refused_before_any_image_is_opened() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let context = scratch.path().join("ctx");
    let hint = "hint: a stage can only copy from stages that do not need it; to copy from an \
                image named like a stage, name it in full (`docker.io/library/NAME:TAG`)\n";
    write_files(
        &context,
        &[(
            "Dockerfile",
            "FROM scratch AS a\nCOPY --from=a /x /y\n",
            0o644,
        )],
    );
    let (code, stdout, stderr) = run_in(scratch.path(), &home, &["build", "ctx"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        format!(
            "error: Dockerfile:2: stage `a` copies from itself (a circular dependency)\n{hint}"
        )
    );

    write_files(
        &context,
        &[(
            "Dockerfile",
            "FROM scratch AS a\nCOPY --from=b /x /y\n\nFROM scratch AS b\nCOPY --from=a /x /y\n",
            0o644,
        )],
    );
    let (code, _, stderr) = run_in(scratch.path(), &home, &["build", "ctx"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        format!(
            "error: Dockerfile:5: stages `a` and `b` copy from each other (a circular \
             dependency)\n{hint}"
        )
    );

    // A later stage is a stage, not an image, as in BuildKit.
    write_files(
        &context,
        &[
            (
                "Dockerfile",
                "FROM scratch AS a\nCOPY --from=b /x /y\n\nFROM scratch AS b\nCOPY x /x\n",
                0o644,
            ),
            ("x", "x\n", 0o644),
        ],
    );
    let layout = format!("oci:{}:1", scratch.path().join("layout").display());
    let (code, _, stderr) = run_in(
        scratch.path(),
        &home,
        &[
            "build",
            "ctx",
            "--target",
            "a",
            "--output",
            &layout,
            "--no-validate",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        unpack(&layout)["arm64"].files,
        BTreeMap::from([("y".to_string(), "file 644 x\n".to_string())])
    );
}

#[test]
fn a_source_link_out_of_the_context_is_named_not_called_missing() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let context = scratch.path().join("ctx");
    write_files(
        &context,
        &[
            ("Dockerfile", "FROM scratch\nCOPY passwd /\n", 0o644),
            ("passwd", "->/etc/passwd", 0),
            ("up", "->../../outside", 0),
            ("dangling", "->nowhere", 0),
        ],
    );
    let (code, stdout, stderr) = run_in(scratch.path(), &home, &["build", "ctx"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    let outside_hint = "hint: links are followed only inside the build context, as Docker \
                        does; copy the file itself into the context, or pass its folder with \
                        `--build-context NAME=DIR` and `COPY --from=NAME`\n";
    assert_eq!(
        stderr,
        format!(
            "error: Dockerfile:2: `passwd` is a symbolic link to `/etc/passwd`, outside the \
             build context\n{outside_hint}"
        )
    );

    write_files(
        &context,
        &[("Dockerfile", "FROM scratch\n\nCOPY up/passwd /\n", 0o644)],
    );
    let (code, _, stderr) = run_in(scratch.path(), &home, &["build", "ctx"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        format!(
            "error: Dockerfile:3: `up/passwd` goes through `up`, a symbolic link to \
             `../../outside`, outside the build context\n{outside_hint}"
        )
    );

    write_files(
        &context,
        &[("Dockerfile", "FROM scratch\nCOPY dangling /\n", 0o644)],
    );
    let (code, _, stderr) = run_in(scratch.path(), &home, &["build", "ctx"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: Dockerfile:2: `dangling` is a symbolic link to `nowhere`, which is not in the \
         build context\n\
         hint: paths are relative to the context folder; check it and `.dockerignore`\n"
    );
}

#[test]
fn a_fifo_source_is_named_not_called_missing() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let context = scratch.path().join("ctx");
    write_files(
        &context,
        &[
            ("Dockerfile", "FROM scratch\nCOPY pipe /\n", 0o644),
            ("link", "->dir/pipe", 0),
        ],
    );
    make_fifo(&context.join("pipe"));
    fs::create_dir(context.join("dir")).unwrap();
    make_fifo(&context.join("dir/pipe"));
    let hint = "hint: only files, folders and symbolic links are copied; put a file in its \
                place, or copy something else\n";
    let (code, stdout, stderr) = run_in(scratch.path(), &home, &["build", "ctx"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        format!("error: Dockerfile:2: `pipe` is not a regular file or folder (a FIFO)\n{hint}")
    );

    // Reached through a link, it is named as written.
    write_files(
        &context,
        &[("Dockerfile", "FROM scratch\nCOPY link /x\n", 0o644)],
    );
    let (code, _, stderr) = run_in(scratch.path(), &home, &["build", "ctx"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        format!("error: Dockerfile:2: `link` is not a regular file or folder (a FIFO)\n{hint}")
    );
}

#[test]
fn a_nul_byte_in_a_copy_path_is_refused_with_its_line() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let context = scratch.path().join("ctx");
    let hint = "hint: no file name can hold a NUL byte; remove it from the path, or from the \
                `ARG` or `ENV` value the path uses\n";
    write_files(
        &context,
        &[
            (
                "Dockerfile",
                "FROM scratch\nCOPY [\"a\\u0000b\", \"/\"]\n",
                0o644,
            ),
            ("a", "a\n", 0o644),
        ],
    );
    let (code, stdout, stderr) = run_in(scratch.path(), &home, &["build", "ctx"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        format!("error: Dockerfile:2: the path `a\\0b` contains a NUL byte\n{hint}")
    );

    // A raw NUL in the Dockerfile, through an argument, into the destination.
    write_files(
        &context,
        &[(
            "Dockerfile",
            "FROM scratch\nARG DIR=/x\0y\nCOPY a $DIR/\n",
            0o644,
        )],
    );
    let (code, _, stderr) = run_in(scratch.path(), &home, &["build", "ctx"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        format!("error: Dockerfile:3: the path `/x\\0y/` contains a NUL byte\n{hint}")
    );
}

#[test]
fn a_name_in_an_archive_that_is_not_utf8_is_refused_not_merged_with_another() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let context = scratch.path().join("ctx");
    write_files(
        &context,
        &[("Dockerfile", "FROM scratch\nADD names.tar /\n", 0o644)],
    );
    // `bad\xff` and `bad\xfe` would both be `bad\u{FFFD}` if read lossily.
    let mut builder = tar::Builder::new(Vec::new());
    for name in [&b"bad\xff"[..], &b"bad\xfe"[..]] {
        let mut header = tar::Header::new_gnu();
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(1);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_cksum();
        builder.append(&header, &b"x"[..]).unwrap();
    }
    fs::write(context.join("names.tar"), builder.into_inner().unwrap()).unwrap();
    let (code, stdout, stderr) = run_in(scratch.path(), &home, &["build", "ctx"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        "error: Dockerfile:2: the name of `bad\u{FFFD}` in the archive `names.tar` is not UTF-8\n\
         hint: names are read as UTF-8 so that no two of them merge; rename it where the \
         archive `names.tar` is made, or build this Dockerfile with `docker buildx build` or \
         `buildah build`\n"
    );
}

/// A wildcard source that matches nothing copies nothing, as BuildKit does (it allows empty
/// wildcards, so `COPY package*.json yarn.lock* ./` works without a yarn.lock); buildah
/// refuses such a COPY, so this case is pinned here rather than in the differential tests.
#[test]
fn a_wildcard_that_matches_nothing_copies_nothing() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let context = scratch.path().join("ctx");
    write_files(
        &context,
        &[
            (
                "Dockerfile",
                "FROM scratch\nCOPY package*.json yarn.lock* /app/\nCOPY nothing*.txt /\n",
                0o644,
            ),
            ("package.json", "{}\n", 0o644),
        ],
    );
    let output = format!("oci:{}:1", scratch.path().join("out").display());
    let (code, stdout, stderr) = run_in(
        scratch.path(),
        &home,
        &["-q", "build", "ctx", "--no-validate", "--output", &output],
    );
    assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");
    for (architecture, unpacked) in unpack(&output) {
        assert_eq!(
            unpacked
                .files
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            ["app", "app/package.json"],
            "{architecture}"
        );
    }
}

#[test]
fn a_source_date_epoch_past_the_year_9999_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let context = scratch.path().join("ctx");
    write_files(
        &context,
        &[("Dockerfile", "FROM scratch\nLABEL a=b\n", 0o644)],
    );
    let context = context.display().to_string();
    let (code, stdout, stderr) = run_with(
        &home,
        &["build", &context, "--no-validate"],
        &[("SOURCE_DATE_EPOCH", "253402300799")],
    );
    assert_eq!(
        (code, stderr.lines().last()),
        (0, Some("wrote the local store (untagged)"))
    );
    assert!(stdout.starts_with("sha256:"), "{stdout}");

    let (code, stdout, stderr) = run_with(
        &home,
        &["build", &context, "--no-validate"],
        &[("SOURCE_DATE_EPOCH", "253402300800")],
    );
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        "error: `SOURCE_DATE_EPOCH` 253402300800 is past the year 9999\n\
         hint: set it to seconds since 1970, such as `$(git log -1 --format=%ct)`, or unset it\n"
    );
}

#[test]
fn a_fifo_inside_a_copied_folder_is_left_out_with_a_warning() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let context = scratch.path().join("ctx");
    write_files(
        &context,
        &[
            ("Dockerfile", "FROM scratch\nCOPY ui /ui\n", 0o644),
            ("ui/index.html", "<html>\n", 0o644),
        ],
    );
    make_fifo(&context.join("ui/dev.pipe"));
    let layout = scratch.path().join("out");
    let output = format!("oci:{}:latest", layout.display());
    let args = [
        "build",
        "ctx",
        "--no-validate",
        "--platform",
        "linux/amd64",
        "--output",
        &output,
    ];
    let (code, stdout, stderr) = run_in(scratch.path(), &home, &args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("sha256:"), "{stdout}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("warning:"))
        .collect();
    assert_eq!(
        warnings,
        [
            "warning: `ctx/ui/dev.pipe` is a FIFO, which a layer cannot hold: COPY leaves it out \
          (list it in `.dockerignore` to say so)"
        ]
    );
    let files: Vec<String> = unpack(&output)["amd64"].files.keys().cloned().collect();
    assert_eq!(files, ["ui", "ui/index.html"]);

    // Left out on purpose, it is not worth a word.
    write_files(&context, &[(".dockerignore", "ui/*.pipe\n", 0o644)]);
    fs::remove_dir_all(&layout).unwrap();
    let (code, _, stderr) = run_in(scratch.path(), &home, &args);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[test]
fn a_dockerfile_on_standard_input_is_read_with_f_dash() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let context = scratch.path().join("ctx");
    write_files(&context, &[("hello.txt", "hello\n", 0o644)]);
    let build = |stdin: &[u8]| {
        let output = extkit()
            .current_dir(scratch.path())
            .env("EXTKIT_HOME", &home)
            .env_remove("SOURCE_DATE_EPOCH")
            .args(["build", "ctx", "-f", "-", "--no-validate"])
            .args(["--platform", "linux/amd64", "-t", "stdin/ext:1"])
            .write_stdin(stdin.to_vec())
            .timeout(std::time::Duration::from_secs(10))
            .output()
            .unwrap();
        (
            output.status.code().unwrap(),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    };
    let (code, stdout, stderr) = build(b"FROM scratch\nCOPY hello.txt /\n");
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("sha256:"), "{stdout}");
    // The same Dockerfile from a file gives the same image.
    write_files(
        &context,
        &[("Dockerfile", "FROM scratch\nCOPY hello.txt /\n", 0o644)],
    );
    let (code, from_file, _) = run_in(
        scratch.path(),
        &home,
        &["build", "ctx", "--no-validate", "--platform", "linux/amd64"],
    );
    assert_eq!((code, from_file), (0, stdout));

    let (code, _, stderr) = build(b"FROM scratch\nCOPY missing.txt /\n");
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: Dockerfile:2: "),
        "messages name it `Dockerfile`: {stderr}"
    );

    let (code, stdout, stderr) = build(b"FROM scratch\nLABEL a=\xff\n");
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        "error: the Dockerfile on standard input is not UTF-8: byte 21 starts an invalid \
         sequence\nhint: save the Dockerfile as UTF-8\n"
    );

    let (code, _, stderr) = build(&vec![b'#'; (16 << 20) + 1]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            2,
            "error: the Dockerfile on standard input is larger than 16 MiB\n\
             hint: check what is piped into `extkit build -f -`\n"
        )
    );
}

#[test]
fn add_downloads_a_url_checks_its_checksum_and_never_extracts_it() {
    use common::registry::{Mode, Registry};
    let Some(registry) = Registry::start(Mode::Plain) else {
        return;
    };
    let example = format!("oci:{}:latest", common::example_layout().display());
    let pushed = extkit()
        .args([
            "copy",
            &example,
            &format!("docker://{}/ext:1", registry.address),
        ])
        .output()
        .unwrap();
    assert!(
        pushed.status.success(),
        "{}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    // A gzip layer of the example, served by the registry as a plain HTTP download.
    let layer = "sha256:afc0e5e2341b477088f83a5b0e1336728697119bf0adf51f4f3d16cc9757b7a5";
    let bytes = fs::read(
        common::example_layout()
            .join("blobs/sha256")
            .join(&layer[7..]),
    )
    .unwrap();
    let url = format!("http://{}/v2/ext/blobs/{layer}", registry.address);

    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let context = scratch.path().join("ctx");
    let dockerfile = format!(
        "FROM scratch\nADD --checksum={layer} {url} /downloads/layer.tar.gz\nADD {url} /dir/\n\
         ADD --chmod=0644 {url} /public.tgz\n"
    );
    write_files(&context, &[("Dockerfile", &dockerfile, 0o644)]);
    let output = format!("oci:{}:latest", scratch.path().join("out").display());
    let (code, _, stderr) = run_in(
        scratch.path(),
        &home,
        &["build", "ctx", "--no-validate", "--output", &output],
    );
    assert_eq!(code, 0, "{stderr}");
    let content = String::from_utf8_lossy(&bytes);
    for platform in unpack(&output).values() {
        let files: Vec<(&str, &str)> = platform
            .files
            .iter()
            .map(|(path, what)| (path.as_str(), what.as_str()))
            .collect();
        assert_eq!(
            files,
            [
                ("dir", "dir 755"),
                (
                    &format!("dir/{layer}")[..],
                    &format!("file 600 {content}")[..]
                ),
                ("downloads", "dir 755"),
                ("downloads/layer.tar.gz", &format!("file 600 {content}")[..]),
                ("public.tgz", &format!("file 644 {content}")[..]),
            ]
        );
    }

    let wrong = format!("sha256:{}", "0".repeat(64));
    write_files(
        &context,
        &[(
            "Dockerfile",
            &format!("FROM scratch\nADD --checksum={wrong} {url} /x\n"),
            0o644,
        )],
    );
    let (code, _, stderr) = run_in(scratch.path(), &home, &["build", "ctx", "--no-validate"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        format!(
            "error: Dockerfile:2: `{url}` has the digest `{layer}`, not the `--checksum` `{wrong}`\n"
        )
    );

    let missing = format!("http://{}/v2/ext/blobs/{wrong}", registry.address);
    let cases = [
        (
            format!("ADD {missing} /x"),
            format!(
                "error: Dockerfile:2: cannot download `{missing}`: the server answered 404 Not \
                 Found\nhint: check the URL and the network; `--ca-cert FILE` adds a certificate \
                 authority for downloads too, and `--insecure` skips their certificate checks\n"
            ),
        ),
        (
            format!("COPY {url} /x"),
            format!(
                "error: Dockerfile:2: COPY takes no URL (`{url}`); use ADD to download a file\n"
            ),
        ),
        (
            format!("ADD --checksum={layer} ctx.txt /x"),
            "error: Dockerfile:2: `--checksum` needs one source, a URL\n".to_string(),
        ),
    ];
    for (instruction, expected) in cases {
        write_files(
            &context,
            &[(
                "Dockerfile",
                &format!("FROM scratch\n{instruction}\n"),
                0o644,
            )],
        );
        let (code, _, stderr) = run_in(scratch.path(), &home, &["build", "ctx", "--no-validate"]);
        assert_eq!((code, stderr), (2, expected), "{instruction}");
    }
}

#[test]
fn outputs_are_checked_before_the_build_and_named_once() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let context = scratch.path().join("ctx");
    write_files(
        &context,
        &[
            ("Dockerfile", "FROM scratch\nCOPY a.txt /\n", 0o644),
            ("a.txt", "a\n", 0o644),
        ],
    );
    let zeros = format!("sha256:{}", "0".repeat(64));
    let refused = [
        (
            vec!["-t".to_string(), format!("acme/d@{zeros}")],
            format!(
                "error: `-t acme/d@{zeros}` names a digest; an image is named by a tag\n\
                 hint: write it as `NAME:TAG`; the digest is printed when the build ends\n"
            ),
        ),
        (
            vec!["--output".to_string(), "/tmp/plain".to_string()],
            "error: invalid image location `/tmp/plain`: it is a path, and a path needs its \
             transport: `oci:PATH` for a layout folder, `oci-archive:PATH` for a tar file\n\
             hint: use `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:REF]` \
             or `docker://REF`\n"
                .to_string(),
        ),
        (
            vec![
                "--output".to_string(),
                "docker-archive:d.tar:acme/b:1".to_string(),
            ],
            "error: `docker-archive:d.tar:acme/b:1` holds one platform per image, and the build \
             makes 2\nhint: build one with `--platform`, such as `--platform linux/amd64`, or \
             write to `oci:` or `oci-archive:`, which keep them all\n"
                .to_string(),
        ),
        (
            vec![
                "--output".to_string(),
                format!("docker://127.0.0.1:1/x@{zeros}"),
            ],
            format!(
                "error: `docker://127.0.0.1:1/x@{zeros}` names a digest, and the digest of what \
                 is written is not known before\nhint: give the destination a tag (`NAME:TAG`); \
                 the digest written is printed\n"
            ),
        ),
    ];
    for (extra, expected) in refused {
        let mut args = vec!["build", "ctx", "--no-validate"];
        args.extend(extra.iter().map(String::as_str));
        let (code, stdout, stderr) = run_in(scratch.path(), &home, &args);
        // Refused before anything is built (no "built … in" note) or written.
        assert_eq!(
            (code, stdout.as_str(), stderr),
            (2, "", expected),
            "{extra:?}"
        );
        assert!(!home.join("store").exists(), "{extra:?}");
    }

    // One platform goes into a docker-archive as its manifest; a tag given twice is one name.
    let (code, stdout, stderr) = run_in(
        scratch.path(),
        &home,
        &[
            "build",
            "ctx",
            "--no-validate",
            "--platform",
            "linux/arm64",
            "-t",
            "acme/b:1",
            "-t",
            "acme/b:1",
            "--output",
            "docker-archive:d.tar:acme/b:1",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let wrote: Vec<&str> = stderr.lines().filter(|l| l.starts_with("wrote ")).collect();
    assert_eq!(
        wrote,
        [
            "wrote docker-archive:d.tar:acme/b:1",
            "wrote store:acme/b:1"
        ]
    );
    let archive = format!(
        "docker-archive:{}:acme/b:1",
        scratch.path().join("d.tar").display()
    );
    let inspected = extkit()
        .args(["inspect", &archive, "--format", "json"])
        .output()
        .unwrap();
    let inspected: Value = serde_json::from_slice(&inspected.stdout).unwrap();
    assert_eq!(
        inspected["mediaType"], "application/vnd.oci.image.manifest.v1+json",
        "{inspected}"
    );
    // The archive's manifest is the arm64 entry of the stored index.
    let stored = extkit()
        .env("EXTKIT_HOME", &home)
        .args(["inspect", "store:acme/b:1", "--format", "json"])
        .output()
        .unwrap();
    let stored: Value = serde_json::from_slice(&stored.stdout).unwrap();
    assert_eq!(stored["digest"], stdout.trim());
    assert_eq!(
        stored["manifests"][0]["digest"], inspected["digest"],
        "{stored}"
    );
}

#[test]
fn build_prints_json_when_asked() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let context = scratch.path().join("ctx");
    write_files(
        &context,
        &[
            ("Dockerfile", "FROM scratch\nCOPY a.txt /\n", 0o644),
            ("a.txt", "a\n", 0o644),
        ],
    );
    let (code, table, _) = run_in(
        scratch.path(),
        &home,
        &["build", "ctx", "--no-validate", "-t", "j:1"],
    );
    assert_eq!(code, 0);
    let (code, stdout, stderr) = run_in(
        scratch.path(),
        &home,
        &["build", "ctx", "-t", "j:1", "--format", "json"],
    );
    // Not an extension: validation fails, exit 1, and the report is in the JSON.
    assert_eq!(code, 1, "{stderr}");
    let value: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["digest"], table.trim());
    assert_eq!(
        value["platforms"],
        serde_json::json!(["linux/amd64", "linux/arm64"])
    );
    assert_eq!(value["written"], serde_json::json!(["store:j:1"]));
    assert_eq!(value["validation"]["ok"], false);
    assert!(
        value["validation"]["findings"].as_array().unwrap().len() > 1,
        "{value}"
    );
}

#[test]
fn the_onbuild_triggers_of_a_base_image_run_in_the_new_context() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    write_files(
        &scratch.path().join("base"),
        &[(
            "Dockerfile",
            "FROM scratch\nONBUILD COPY app.txt /app/\nONBUILD LABEL from=trigger\n",
            0o644,
        )],
    );
    let base = format!("oci:{}:1", scratch.path().join("base-image").display());
    let (code, _, stderr) = run_in(
        scratch.path(),
        &home,
        &["build", "base", "--no-validate", "--output", &base],
    );
    assert_eq!(code, 0, "{stderr}");
    write_files(
        &scratch.path().join("app"),
        &[
            ("Dockerfile", &format!("FROM {base}\nCOPY b.txt /\n"), 0o644),
            ("app.txt", "from the app's context\n", 0o644),
            ("b.txt", "b\n", 0o644),
        ],
    );
    let output = format!("oci:{}:1", scratch.path().join("out").display());
    let (code, _, stderr) = run_in(
        scratch.path(),
        &home,
        &["build", "app", "--no-validate", "--output", &output],
    );
    assert_eq!(code, 0, "{stderr}");
    for image in unpack(&output).values() {
        let files: Vec<(&str, &str)> = image
            .files
            .iter()
            .map(|(path, what)| (path.as_str(), what.as_str()))
            .collect();
        assert_eq!(
            files,
            [
                ("app", "dir 755"),
                ("app/app.txt", "file 644 from the app's context\n"),
                ("b.txt", "file 644 b\n"),
            ]
        );
        assert_eq!(
            image.config["Labels"],
            serde_json::json!({"from": "trigger"})
        );
    }

    // A trigger that runs a command needs an engine, said at the FROM that brings it.
    write_files(
        &scratch.path().join("base"),
        &[("Dockerfile", "FROM scratch\nONBUILD RUN make\n", 0o644)],
    );
    fs::remove_dir_all(scratch.path().join("base-image")).unwrap();
    let (code, _, stderr) = run_in(
        scratch.path(),
        &home,
        &["build", "base", "--no-validate", "--output", &base],
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run_in(scratch.path(), &home, &["build", "app", "--no-validate"]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with(&format!(
            "error: Dockerfile:1: the ONBUILD trigger `RUN make` of `{base}` failed\n\
             caused by: Dockerfile:1: RUN needs a container engine"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("\nhint: "), "{stderr}");
}

#[test]
fn an_unknown_target_lists_the_stage_names_only() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let context = scratch.path().join("ctx");
    let hint = "hint: name a stage with `FROM … AS NAME` or drop `--target`\n";
    for (dockerfile, target, expected) in [
        (
            "FROM scratch\nFROM scratch AS based\n",
            "0",
            "error: the target stage `0` is not in the Dockerfile (stages: `based`)\n",
        ),
        (
            "FROM scratch\n",
            "x",
            "error: the target stage `x` is not in the Dockerfile (it names no stage)\n",
        ),
    ] {
        write_files(&context, &[("Dockerfile", dockerfile, 0o644)]);
        let (code, _, stderr) =
            run_in(scratch.path(), &home, &["build", "ctx", "--target", target]);
        assert_eq!((code, stderr), (2, format!("{expected}{hint}")));
    }
}

#[test]
fn triggers_that_could_never_run_are_refused_where_they_are_written() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let context = scratch.path().join("ctx");
    let cases = [
        (
            "ONBUILD FROM scratch",
            "the ONBUILD trigger `FROM scratch` of this stage cannot run: FROM is not allowed as a \
             trigger",
        ),
        (
            "ONBUILD MAINTAINER me",
            "the ONBUILD trigger `MAINTAINER me` of this stage cannot run: MAINTAINER is not \
             allowed as a trigger",
        ),
        (
            "ONBUILD COPY <<EOF /h.txt\nhello\nEOF",
            "the ONBUILD trigger `COPY <<EOF /h.txt` of this stage cannot run: here-documents \
             cannot be ONBUILD triggers",
        ),
    ];
    for (instruction, expected) in cases {
        write_files(
            &context,
            &[(
                "Dockerfile",
                &format!("FROM scratch\n{instruction}\n"),
                0o644,
            )],
        );
        let (code, stdout, stderr) =
            run_in(scratch.path(), &home, &["build", "ctx", "--no-validate"]);
        assert_eq!(
            (code, stdout.as_str(), stderr),
            (2, "", format!("error: Dockerfile:2: {expected}\n")),
            "{instruction}"
        );
    }
}

#[test]
fn a_download_that_stalls_fails_and_git_urls_are_not_downloaded() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let context = scratch.path().join("ctx");
    // A server that takes the connection and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for connection in listener.incoming() {
            held.push(connection);
        }
    });
    let url = format!("http://{address}/file");
    write_files(
        &context,
        &[(
            "Dockerfile",
            &format!("FROM scratch\nADD {url} /f\n"),
            0o644,
        )],
    );
    let started = std::time::Instant::now();
    let output = extkit()
        .current_dir(scratch.path())
        .env("EXTKIT_HOME", &home)
        .env("EXTKIT_READ_TIMEOUT", "1")
        .args(["build", "ctx", "--no-validate"])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(&format!("error: Dockerfile:2: cannot download `{url}`: ")),
        "{stderr}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(15));

    for source in [
        "https://example.com/repo.git",
        "https://example.com/repo.git#main",
    ] {
        write_files(
            &context,
            &[(
                "Dockerfile",
                &format!("FROM scratch\nADD {source} /src/\n"),
                0o644,
            )],
        );
        let (code, _, stderr) = run_in(scratch.path(), &home, &["build", "ctx", "--no-validate"]);
        assert_eq!(code, 2);
        assert!(
            stderr.starts_with(&format!(
                "error: Dockerfile:2: `ADD` of the Git repository `{source}`"
            )),
            "{stderr}"
        );
    }

    // Layouts name images by tag: a digest after the path is refused, not made a folder.
    let digest = format!("sha256:{}", "0".repeat(64));
    let target = format!("oci:{}@{digest}", scratch.path().join("out").display());
    let (code, _, stderr) = run_in(
        scratch.path(),
        &home,
        &["build", "ctx", "--no-validate", "--output", &target],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("images in a layout or archive are named by tag, not digest"),
        "{stderr}"
    );
    assert!(!scratch.path().join("out@sha256").exists());
}

#[test]
fn copy_onto_a_folder_of_the_base_image_copies_into_it() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let context = scratch.path().join("ctx");
    let base = format!("oci:{}:latest", common::example_layout().display());
    write_files(
        &context,
        &[
            (
                "Dockerfile",
                &format!("FROM {base}\nCOPY extra.js /ui\n"),
                0o644,
            ),
            ("extra.js", "more\n", 0o644),
        ],
    );
    let output = format!("oci:{}:1", scratch.path().join("out").display());
    let (code, _, stderr) = run_in(
        scratch.path(),
        &home,
        &["build", "ctx", "--no-validate", "--output", &output],
    );
    assert_eq!(code, 0, "{stderr}");
    for (architecture, image) in unpack(&output) {
        assert_eq!(image.files["ui"], "dir 755", "{architecture}");
        assert_eq!(
            image.files["ui/extra.js"], "file 644 more\n",
            "{architecture}"
        );
        assert_eq!(
            image.files["ui/index.html"]
                .split(' ')
                .take(2)
                .collect::<Vec<_>>(),
            ["file", "644"],
            "{architecture}: the base's UI is still there"
        );
    }
}
