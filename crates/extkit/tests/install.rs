//! `extkit install`, `update`, `ls` and `rm` against local layouts, with exact files and
//! modes, hostile layers and killed installs.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use common::extension::{Extension, binary};
use common::{extkit, filter_path};
use extkit_oci::transport::LayoutDestination;
use extkit_oci::{ImageWriter, LayerBlob, Platform, PlatformImage, media_types, sha256_digest};
use serde_json::json;

/// Runs extkit; gives (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let output = extkit().args(args).output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// Every file under `folder` (links not followed) as (relative path, mode, content or link).
fn listing(folder: &Path) -> Vec<(String, u32, String)> {
    let mut found = Vec::new();
    let mut stack = vec![folder.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in fs::read_dir(&current).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let relative = path.strip_prefix(folder).unwrap().display().to_string();
            let metadata = fs::symlink_metadata(&path).unwrap();
            let mode = metadata.permissions().mode() & 0o777;
            if metadata.file_type().is_symlink() {
                found.push((
                    relative,
                    0,
                    format!("-> {}", fs::read_link(&path).unwrap().display()),
                ));
            } else if metadata.is_dir() {
                found.push((relative.clone() + "/", mode, String::new()));
                stack.push(path);
            } else {
                let content = fs::read(&path).unwrap();
                let shown = match String::from_utf8(content.clone()) {
                    Ok(text) if text.len() < 200 => text,
                    _ => format!("{} bytes {}", content.len(), sha256_digest(&content)),
                };
                found.push((relative, mode, shown));
            }
        }
    }
    found.sort();
    found
}

fn extension_with_backend() -> Extension {
    let mut extension = Extension::good();
    extension.metadata["vm"] = json!({"image": "${DESKTOP_PLUGIN_IMAGE}"});
    extension
}

#[test]
fn every_desktop_user_gets_the_right_files() {
    let scratch = tempfile::tempdir().unwrap();
    let location = extension_with_backend().write(&scratch.path().join("layout"), "1.0.0");
    let expected = [
        (
            "darwin/amd64",
            "darwin-universal",
            "hello",
            "mach-o-universal",
            "amd64,arm64",
        ),
        (
            "darwin/arm64",
            "darwin-universal",
            "hello",
            "mach-o-universal",
            "amd64,arm64",
        ),
        ("windows/amd64", "windows-amd64", "hello.exe", "pe", "amd64"),
        ("windows/arm64", "windows-arm64", "hello.exe", "pe", "arm64"),
        ("linux/amd64", "linux-amd64", "hello", "elf", "amd64"),
        ("linux/arm64", "linux-arm64", "hello", "elf", "arm64"),
    ];
    for (host, fixture, file_name, format, architectures) in expected {
        let root = scratch.path().join(host.replace('/', "-"));
        let (code, stdout, stderr) = run(&[
            "install",
            &location,
            "--host",
            host,
            "--root",
            root.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{host}: {stderr}");
        let folder = root.join("layout");
        assert_eq!(stdout, format!("{}\n", folder.display()));

        // The host binary: the variant's file for this OS, byte for byte, mode 0755.
        let installed = folder.join("host").join(file_name);
        assert_eq!(fs::read(&installed).unwrap(), binary(fixture), "{host}");
        assert_eq!(
            fs::metadata(&installed).unwrap().permissions().mode() & 0o777,
            0o755
        );
        let info = extkit_binfmt::inspect_path(&installed).unwrap();
        assert_eq!(info.format.to_string(), format, "{host}");
        assert_eq!(info.architectures.join(","), architectures, "{host}");

        let record: serde_json::Value =
            serde_json::from_slice(&fs::read(folder.join("install.json")).unwrap()).unwrap();
        assert_eq!(record["host"], host);
        assert_eq!(
            record["platform"],
            format!("linux/{}", &host[host.len() - 5..])
        );
    }

    // The whole folder for one user, exactly.
    let folder = scratch.path().join("darwin-arm64/layout");
    let mut files = listing(&folder);
    for (path, _, content) in &mut files {
        if path == "install.json" {
            // Shown whole, whatever its length, with the temporary folder filtered out.
            let text = fs::read_to_string(folder.join("install.json")).unwrap();
            *content = filter_path(&text, scratch.path());
            let at = content.find("\"installed_at\"").unwrap();
            content.replace_range(at.., "\"installed_at\": [TIME]\n}");
        }
    }
    insta::assert_debug_snapshot!(files);
}

#[test]
fn an_amd64_only_extension_installs_on_amd64_with_a_warning_and_nowhere_else() {
    let scratch = tempfile::tempdir().unwrap();
    let mut extension = Extension::good();
    extension.platforms = vec![Platform::linux_amd64()];
    let location = extension.write(&scratch.path().join("layout"), "1.0.0");
    let root = scratch.path().join("root");
    let root_text = root.to_str().unwrap();

    let (code, stdout, stderr) = run(&[
        "install",
        &location,
        "--host",
        "darwin/arm64",
        "--root",
        root_text,
    ]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert_eq!(
        filter_path(&stderr, scratch.path()),
        "error: oci:[TMP]/layout:1.0.0 has no linux/arm64 image, so Docker Desktop cannot install it on this machine\n\
         hint: it has linux/amd64; build and push it with `--platform linux/amd64,linux/arm64`\n"
    );
    assert!(!root.exists(), "nothing may be written");

    let (code, _, stderr) = run(&[
        "install",
        &location,
        "--host",
        "linux/amd64",
        "--root",
        root_text,
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("warning[platform-missing]"), "{stderr}");
    assert!(root.join("layout/host/hello").is_file());
}

#[test]
fn install_refuses_a_second_install_and_update_says_what_changed() {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().join("root");
    let root_text = root.to_str().unwrap();
    let first = Extension::good().write(&scratch.path().join("layout"), "1.0.0");
    let (code, _, stderr) = run(&[
        "install",
        &first,
        "--host",
        "linux/arm64",
        "--root",
        root_text,
    ]);
    assert_eq!(code, 0, "{stderr}");

    let (code, _, stderr) = run(&[
        "install",
        &first,
        "--host",
        "linux/arm64",
        "--root",
        root_text,
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.ends_with("hint: use `extkit update` to install a new version\n"),
        "{stderr}"
    );

    let mut newer = Extension::good();
    newer.set_file("arm64", "linux/hello", binary("linux-amd64"), 0o755);
    newer.set_file("arm64", "linux/tool", binary("linux-arm64"), 0o755);
    newer.metadata["host"]["binaries"][0]["linux"] =
        json!([{"path": "/linux/hello"}, {"path": "/linux/tool"}]);
    let second = newer.write(&scratch.path().join("layout"), "1.0.0");
    // The new linux binary is for the wrong CPU: refused, the old install stays.
    let (code, _, stderr) = run(&[
        "update",
        &second,
        "--host",
        "linux/arm64",
        "--root",
        root_text,
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("error[binary-arch-mismatch] linux/arm64"),
        "{stderr}"
    );
    assert_eq!(
        fs::read(root.join("layout/host/hello")).unwrap(),
        binary("linux-arm64")
    );

    let (code, stdout, stderr) = run(&[
        "update",
        &second,
        "--host",
        "linux/arm64",
        "--root",
        root_text,
        "--force",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("digest: sha256:"), "{stdout}");
    assert_eq!(&lines[1..], ["changed: host/hello", "added: host/tool"]);
    assert_eq!(
        fs::read(root.join("layout/host/tool")).unwrap(),
        binary("linux-arm64")
    );

    // The same image again changes nothing, not even the install time.
    let record = fs::read(root.join("layout/install.json")).unwrap();
    let digest = lines[0].rsplit(' ').next().unwrap();
    let (code, stdout, stderr) = run(&[
        "update",
        &second,
        "--host",
        "linux/arm64",
        "--root",
        root_text,
    ]);
    assert_eq!((code, stdout.as_str()), (0, ""), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "`layout` is already up to date: {digest} (linux/arm64 image, host binaries for \
             linux)\n"
        )
    );
    assert_eq!(fs::read(root.join("layout/install.json")).unwrap(), record);

    let (code, stdout, _) = run(&["ls", "--root", root_text]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        "ID       PROVIDER   VERSION   UI             VM   HOST\n\
         layout   extkit     1.0.0     1 tab(Hello)   0    2\n",
    );
}

#[test]
fn rm_removes_one_extension() {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().join("root");
    let root_text = root.to_str().unwrap();
    let location = Extension::good().write(&scratch.path().join("one"), "1.0.0");
    let other = Extension::good().write(&scratch.path().join("two"), "1.0.0");
    for image in [&location, &other] {
        let (code, _, stderr) = run(&[
            "install",
            image,
            "--host",
            "linux/amd64",
            "--root",
            root_text,
        ]);
        assert_eq!(code, 0, "{image}: {stderr}");
    }

    let (code, stdout, _) = run(&["rm", "one", "--root", root_text]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, format!("removed one ({location})\n").as_str())
    );
    assert!(!root.join("one").exists());
    assert!(root.join("two/host/hello").is_file());
    let (code, _, stderr) = run(&["rm", "one", "--root", root_text]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("error: no extension named `one` is installed"),
        "{stderr}"
    );
}

/// An image whose one layer is `entries` written raw (tar headers made by hand), with the
/// good extension's metadata in a layer below.
fn hostile_image(folder: &Path, raw_layer: Vec<u8>, metadata: serde_json::Value) -> String {
    let mut base = extkit_layer::LayerBuilder::new(0);
    base.add_file(
        "metadata.json",
        serde_json::to_vec(&metadata).unwrap(),
        0o644,
    )
    .unwrap();
    let base = base.build(extkit_layer::Compression::None).unwrap();
    let diff_id = sha256_digest(&raw_layer);
    let hostile = LayerBlob::new(media_types::OCI_LAYER, raw_layer, diff_id);
    let mut writer = ImageWriter::new();
    for platform in [Platform::linux_amd64(), Platform::linux_arm64()] {
        writer.add(PlatformImage {
            platform,
            config: json!({"Labels": common::extension::good_labels()}),
            created: None,
            layers: vec![base.clone(), hostile.clone()],
        });
    }
    writer
        .write(Box::new(
            LayoutDestination::create(folder, Some("1".into())).unwrap(),
        ))
        .unwrap();
    format!("oci:{}:1", folder.display())
}

/// A tar of raw entries: (name written as is, type, link target, content).
fn raw_tar(entries: &[(&str, tar::EntryType, &str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, kind, link, content) in entries {
        let mut header = tar::Header::new_gnu();
        header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_entry_type(*kind);
        header.set_mode(0o755);
        header.set_size(content.len() as u64);
        if !link.is_empty() {
            header.as_gnu_mut().unwrap().linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        header.set_cksum();
        builder.append(&header, *content).unwrap();
    }
    builder.into_inner().unwrap()
}

#[test]
fn hostile_layers_are_refused_and_nothing_lands_outside_the_root() {
    let scratch = tempfile::tempdir().unwrap();
    let ui_metadata = json!({"icon": "icon.svg", "ui": {"dashboard-tab": {"title": "T", "root": "/ui", "src": "index.html"}}});
    let icon = ("icon.svg", tar::EntryType::Regular, "", &b"<svg/>"[..]);
    let cases: Vec<(&str, Vec<u8>, serde_json::Value, &str)> = vec![
        (
            "parent",
            raw_tar(&[icon, ("../../escape", tar::EntryType::Regular, "", b"x")]),
            ui_metadata.clone(),
            "refusing to install: the entry `../../escape` lies outside the image root",
        ),
        (
            "absolute",
            raw_tar(&[icon, ("/etc/escape", tar::EntryType::Regular, "", b"x")]),
            ui_metadata.clone(),
            "refusing to install: the entry `/etc/escape` lies outside the image root",
        ),
        (
            "symlink",
            raw_tar(&[
                icon,
                ("ui/index.html", tar::EntryType::Regular, "", b"<p>"),
                ("ui/out", tar::EntryType::Symlink, "/tmp", b""),
                ("ui/out/escape", tar::EntryType::Regular, "", b"x"),
            ]),
            ui_metadata.clone(),
            "refusing to install: the UI link `/ui/out` points outside the UI folder, to `/tmp`",
        ),
        (
            "hardlink",
            raw_tar(&[
                icon,
                (
                    "ui/passwd",
                    tar::EntryType::Link,
                    "../../../etc/passwd",
                    b"",
                ),
            ]),
            ui_metadata.clone(),
            "refusing to install: the hard link `ui/passwd` points outside the image root, to `../../../etc/passwd`",
        ),
        (
            "device",
            raw_tar(&[
                icon,
                ("ui/index.html", tar::EntryType::Regular, "", b"<p>"),
                ("ui/null", tar::EntryType::Char, "", b""),
            ]),
            ui_metadata.clone(),
            "refusing to install: `/ui/null` is a device or other special file",
        ),
        (
            "dot-dot-binary",
            raw_tar(&[("linux/x", tar::EntryType::Regular, "", b"#!/bin/sh\n")]),
            json!({"host": {"binaries": [{"linux": [{"path": "/linux/.."}]}]}}),
            "refusing to install: `/linux/..` has no usable file name",
        ),
    ];
    for (name, layer, metadata, message) in cases {
        let location = hostile_image(&scratch.path().join(name), layer, metadata);
        let root = scratch.path().join(format!("root-{name}"));
        let (code, stdout, stderr) = run(&[
            "install",
            &location,
            "--host",
            "linux/amd64",
            "--root",
            root.to_str().unwrap(),
            "--force",
        ]);
        assert_eq!((code, stdout.as_str()), (1, ""), "{name}: {stderr}");
        // Entries refused while reading a layer also name the layer.
        let first_line = stderr.lines().next().unwrap();
        let expected = format!("error: {message}");
        assert!(
            first_line == expected
                || first_line.starts_with(&format!("{expected} (in layer `sha256:")),
            "{name}: {first_line}"
        );
        assert!(!root.join(name).exists(), "{name}: nothing installed");
    }
    // Nothing was written anywhere outside the roots.
    assert!(!Path::new("/etc/escape").exists());
    assert!(!Path::new("/tmp/escape").exists());
}

/// Starts an install that stops at `step` and waits to be killed; kills it there.
fn kill_install_at(step: &str, location: &str, root: &Path) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("extkit"))
        .env("EXTKIT_TEST_PAUSE", step)
        .args([
            "update",
            location,
            "--host",
            "linux/arm64",
            "--root",
            root.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Warnings about the image may come first; wait for the pause.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert_ne!(
            stderr.read_line(&mut line).unwrap(),
            0,
            "ended without pausing: {seen}"
        );
        if line == format!("paused at {step}\n") {
            break;
        }
        seen.push_str(&line);
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_killed_install_leaves_the_old_or_the_new_never_a_mix() {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().join("root");
    let root_text = root.to_str().unwrap();
    let old = Extension::good().write(&scratch.path().join("layout"), "1.0.0");
    let (code, _, stderr) = run(&[
        "install",
        &old,
        "--host",
        "linux/arm64",
        "--root",
        root_text,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let old_files = listing(&root.join("layout"));

    let mut changed = Extension::good();
    changed.set_file("arm64", "linux/extra", b"#!/bin/sh\n", 0o755);
    changed.metadata["host"]["binaries"][0]["linux"] =
        json!([{"path": "/linux/hello"}, {"path": "/linux/extra"}]);
    let new = changed.write(&scratch.path().join("layout"), "1.0.0");

    // Killed after staging: the old install is whole.
    kill_install_at("install-staged", &new, &root);
    assert_eq!(listing(&root.join("layout")), old_files);

    // Killed right after the switch: the new install is whole.
    kill_install_at("install-switched", &new, &root);
    let switched = listing(&root.join("layout"));
    assert!(
        switched.iter().any(|(path, _, _)| path == "host/extra"),
        "{switched:?}"
    );

    // The next run cleans what the killed ones left behind.
    let versions = root.join(".versions/layout");
    assert!(fs::read_dir(&versions).unwrap().count() > 1);
    let (code, _, stderr) = run(&["update", &new, "--host", "linux/arm64", "--root", root_text]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(fs::read_dir(&versions).unwrap().count(), 1);
    let leftovers: Vec<_> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".link-"))
        .collect();
    assert_eq!(leftovers, Vec::<String>::new());
}

#[test]
fn a_failed_install_leaves_no_version_folder_and_names_the_path() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let root = scratch.path().join("root");
    let root_text = root.to_str().unwrap();
    let location = Extension::good().write(&scratch.path().join("layout"), "1.0.0");
    let in_home = |args: &[&str]| {
        let output = extkit()
            .env("EXTKIT_HOME", &home)
            .args(args)
            .output()
            .unwrap();
        (
            output.status.code().unwrap(),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    };
    assert_eq!(in_home(&["copy", &location, "store:myext:0.1.0"]).0, 0);
    // The folder name (241 characters) fits, but the temporary link beside it does not.
    let long = format!("{}/{}:1", "a".repeat(120), "b".repeat(120));
    assert_eq!(in_home(&["tag", "myext:0.1.0", &long]).0, 0);

    let (code, stdout, stderr) = in_home(&[
        "install",
        &long,
        "--host",
        "linux/amd64",
        "--root",
        root_text,
    ]);
    let name = format!("{}_{}", "a".repeat(120), "b".repeat(120));
    let prefix = format!("error: cannot write `{}/.link-{name}-", root.display());
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    let (note, error) = stderr.split_once('\n').unwrap();
    assert_eq!(note, format!("using {long} from the local store"));
    let (first, rest) = error.split_once('\n').unwrap();
    assert!(
        first.starts_with(&prefix) && first.ends_with('`'),
        "{stderr}"
    );
    assert_eq!(
        rest,
        "caused by: File name too long (os error 36)\n\
         hint: the extension's folder name, made from the image's repository, is too long for \
         this file system; name the image more briefly with `extkit tag` and install that\n"
    );
    // Nothing of the install is left but the lock folder.
    let left: Vec<_> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, [".locks"]);
}

#[test]
fn a_root_that_is_a_file_is_named_before_anything_is_read() {
    let scratch = tempfile::tempdir().unwrap();
    let location = Extension::good().write(&scratch.path().join("layout"), "1.0.0");
    let file = scratch.path().join("afile");
    fs::write(&file, "not a folder").unwrap();
    for args in [
        vec![
            "install",
            location.as_str(),
            "--root",
            file.to_str().unwrap(),
        ],
        vec!["ls", "--root", file.to_str().unwrap()],
    ] {
        let (code, stdout, stderr) = run(&args);
        assert_eq!((code, stdout.as_str()), (2, ""), "{args:?}");
        assert_eq!(
            stderr,
            format!(
                "error: the install root `{}` is not a folder\n\
                 hint: give `--root` a folder, or a path that does not exist yet (it is created)\n",
                file.display()
            )
        );
    }
    assert_eq!(fs::read_to_string(&file).unwrap(), "not a folder");
}

#[test]
fn a_file_the_file_system_refuses_is_named_and_nothing_is_installed() {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().join("root");
    let mut extension = Extension::good();
    // Longer than the 255 bytes a file name may have on Linux file systems.
    let long = format!("ui/{}.js", "a".repeat(300));
    extension.shared.push((long.clone(), b"x".to_vec(), 0o644));
    let image = extension.write(&scratch.path().join("layout"), "1.0.0");
    let (code, stdout, stderr) = run(&[
        "install",
        &image,
        "--host",
        "linux/amd64",
        "--root",
        root.to_str().unwrap(),
    ]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        format!(
            "error: cannot write `{long}` of the extension `layout`\n\
             caused by: File name too long (os error 36)\n\
             hint: a name in the image is too long for this file system\n"
        )
    );
    // Nothing is left: no extension, no version folder, no staging folder.
    let (code, stdout, _) = run(&["ls", "--root", root.to_str().unwrap()]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "ID   PROVIDER   VERSION   UI   VM   HOST\n")
    );
    let left: Vec<_> = fs::read_dir(&root)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, [".locks"]);
}

#[test]
fn install_and_update_print_json_when_asked() {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().join("root");
    let image = Extension::good().write(&scratch.path().join("layout"), "1.0.0");
    let args = |command: &'static str| {
        vec![
            command.to_string(),
            image.clone(),
            "--host".into(),
            "linux/arm64".into(),
            "--root".into(),
            root.display().to_string(),
            "--format".into(),
            "json".into(),
        ]
    };
    let run_json = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = run(&refs);
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str::<serde_json::Value>(&stdout).unwrap()
    };
    let installed = run_json(args("install"));
    assert_eq!(installed["name"], "layout");
    assert_eq!(installed["path"], root.join("layout").display().to_string());
    assert_eq!(installed["platform"], "linux/arm64");
    assert_eq!(installed["host"], "linux/arm64");
    assert_eq!(installed["changed"], true);
    assert_eq!(installed["changes"], json!([]));
    let updated = run_json(args("update"));
    assert_eq!(updated["digest"], installed["digest"]);
    assert_eq!(updated["changed"], false);
}
