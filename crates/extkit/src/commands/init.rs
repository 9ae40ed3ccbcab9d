//! `extkit init`: a new extension project that builds for both platforms and validates with
//! no error from its first commit.
//!
//! The templates are the files under `init/`; `{{NAME}}`, `{{TITLE}}` and the host binary
//! parts are filled in here.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use extkit_oci::ImageReference;
use serde_json::json;

use crate::cli::{InitArgs, OutputFormat};
use crate::failure::Refusal;
use crate::output::Printer;

const DOCKERFILE: &str = include_str!("init/Dockerfile");
const METADATA: &str = include_str!("init/metadata.json");
const ICON: &str = include_str!("init/icon.svg");
const INDEX_HTML: &str = include_str!("init/ui/index.html");
const DOCKERIGNORE: &str = include_str!("init/dockerignore");
const MAKEFILE: &str = include_str!("init/Makefile");

/// The Dockerfile lines that copy the host binaries of the build's CPU.
const HOST_COPY: &str = "
# Host binaries: Desktop copies those for the user's OS to the user's machine. Each
# platform's image gets the ones built for its CPU, at the same paths.
COPY --chmod=0755 host/${TARGETARCH}/ /host/
";

/// The CPUs and operating systems an extension's host binaries are built for.
const ARCHITECTURES: [&str; 2] = ["amd64", "arm64"];
const SYSTEMS: [&str; 3] = ["darwin", "linux", "windows"];

/// One file of the new project.
struct File {
    /// Relative to the project folder, with `/` separators.
    path: String,
    content: String,
    executable: bool,
}

/// Writes a new extension project into an empty or missing folder.
pub fn run(args: &InitArgs, printer: Printer) -> anyhow::Result<ExitCode> {
    let name = match &args.name {
        Some(name) => name.clone(),
        None => default_name(&args.dir)?,
    };
    check_name(&name)?;
    if let Some(binary) = &args.host_binary {
        check_binary_name(binary)?;
    }
    check_empty(&args.dir)?;

    let files = project(&name, args.host_binary.as_deref());
    write(&args.dir, &files)?;

    match printer.format {
        OutputFormat::Json => printer.json(&json!({
            "dir": args.dir.display().to_string(),
            "name": name,
            "files": files.iter().map(|file| file.path.as_str()).collect::<Vec<_>>(),
        }))?,
        OutputFormat::Table => {
            let mut text = String::new();
            for file in &files {
                text.push_str(&file.path);
                text.push('\n');
            }
            printer.data(&text)?;
        }
    }
    let dir = args.dir.display();
    let mut next = format!(
        "created the extension `{name}` in {dir}\n\
         next: fill in the labels marked TODO in {dir}/Dockerfile, then\n  \
         extkit build {dir} -t {name}:0.1.0"
    );
    if let Some(binary) = &args.host_binary {
        next.push_str(&format!(
            "\nthe files in {dir}/host/ are placeholder scripts: replace each with {binary} \
             built for that CPU and OS (a Windows .exe also needs its name changed in \
             metadata.json)"
        ));
    }
    printer.note(&next);
    Ok(ExitCode::SUCCESS)
}

/// The project's files, in the order they are listed.
fn project(name: &str, host_binary: Option<&str>) -> Vec<File> {
    let title = name.rsplit('/').next().unwrap_or(name);
    let fill = |template: &str| {
        template
            .replace("{{NAME}}", name)
            .replace("{{TITLE}}", title)
    };
    let (host_copy, host_metadata) = match host_binary {
        Some(binary) => (
            HOST_COPY.to_string(),
            format!(
                ",\n  \"host\": {{\n    \"binaries\": [\n      {{\n        \
                 \"darwin\": [{{ \"path\": \"/host/darwin/{binary}\" }}],\n        \
                 \"linux\": [{{ \"path\": \"/host/linux/{binary}\" }}],\n        \
                 \"windows\": [{{ \"path\": \"/host/windows/{binary}.cmd\" }}]\n      \
                 }}\n    ]\n  }}"
            ),
        ),
        None => (String::new(), String::new()),
    };
    let dockerfile = fill(DOCKERFILE).replace("{{HOST_COPY}}\n", &host_copy);
    let metadata = fill(METADATA).replace("{{HOST_METADATA}}", &host_metadata);

    let mut files = vec![
        file(".dockerignore", DOCKERIGNORE.to_string(), false),
        file("Dockerfile", dockerfile, false),
        file("Makefile", fill(MAKEFILE), false),
    ];
    if let Some(binary) = host_binary {
        for architecture in ARCHITECTURES {
            for system in SYSTEMS {
                let (path, content) = placeholder(binary, architecture, system);
                files.push(file(&path, content, true));
            }
        }
    }
    files.push(file("icon.svg", ICON.to_string(), false));
    files.push(file("metadata.json", metadata, false));
    files.push(file("ui/index.html", fill(INDEX_HTML), false));
    files
}

fn file(path: &str, content: String, executable: bool) -> File {
    File {
        path: path.to_string(),
        content,
        executable,
    }
}

/// A placeholder host binary: a script the validator accepts for its OS (a `#!` script for
/// macOS and Linux, a `.cmd` for Windows) that says it must be replaced and fails.
fn placeholder(binary: &str, architecture: &str, system: &str) -> (String, String) {
    let folder = format!("host/{architecture}/{system}");
    if system == "windows" {
        let path = format!("{folder}/{binary}.cmd");
        let content = format!(
            "@echo off\r\n\
             rem TODO: replace this placeholder with {binary}.exe built for windows/{architecture},\r\n\
             rem and rename it in metadata.json.\r\n\
             echo {binary}: a placeholder; replace {path} with the real program 1>&2\r\n\
             exit /b 1\r\n"
        );
        (path, content)
    } else {
        let path = format!("{folder}/{binary}");
        let content = format!(
            "#!/bin/sh\n\
             # TODO: replace this placeholder with {binary} built for {system}/{architecture}.\n\
             echo \"{binary}: a placeholder; replace {path} with the real program\" >&2\n\
             exit 1\n"
        );
        (path, content)
    }
}

/// The folder's own name, as the extension's name when `--name` is not given.
fn default_name(dir: &Path) -> anyhow::Result<String> {
    let absolute =
        std::path::absolute(dir).with_context(|| format!("cannot resolve `{}`", dir.display()))?;
    absolute
        .file_name()
        .and_then(|name| name.to_str())
        .map(str::to_string)
        .ok_or_else(|| {
            Refusal {
                message: format!(
                    "`{}` has no folder name to name the extension after",
                    dir.display()
                ),
                hint: Some("give the name with --name, such as `--name acme/my-ext`".into()),
                is_answer: false,
            }
            .into()
        })
}

/// The name must be an image repository (it is the Makefile's `IMAGE`), without tag or digest.
fn check_name(name: &str) -> anyhow::Result<()> {
    // With a tag of our own, a tag or digest in the name cannot parse.
    let valid = format!("{name}:0.1.0")
        .parse::<ImageReference>()
        .is_ok_and(|reference| reference.tag() == Some("0.1.0") && reference.digest().is_none());
    if valid {
        return Ok(());
    }
    Err(Refusal {
        message: format!("`{name}` is not an image name"),
        hint: Some(
            "use lower-case letters, digits, `.`, `_`, `-` and `/`, such as `--name acme/my-ext`"
                .into(),
        ),
        is_answer: false,
    }
    .into())
}

/// A host binary is called by its file name, so it must be a plain one.
fn check_binary_name(binary: &str) -> anyhow::Result<()> {
    let valid = !binary.is_empty()
        && !binary.starts_with('.')
        && binary
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if valid {
        return Ok(());
    }
    Err(Refusal {
        message: format!("`{binary}` is not a plain file name for a host binary"),
        hint: Some(
            "use letters, digits, `.`, `_` and `-`, without a folder or a `.exe`, such as \
                `--host-binary my-cli`"
                .into(),
        ),
        is_answer: false,
    }
    .into())
}

/// Refuses a folder that holds anything, or a path that is not a folder.
fn check_empty(dir: &Path) -> anyhow::Result<()> {
    let entries = match fs_err::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(_) if dir.exists() && !dir.is_dir() => {
            return Err(Refusal {
                message: format!("`{}` is not a folder", dir.display()),
                hint: Some("give a new or empty folder".into()),
                is_answer: false,
            }
            .into());
        }
        Err(error) => return Err(error.into()),
    };
    if entries.into_iter().next().is_some() {
        return Err(Refusal {
            message: format!("`{}` is not empty", dir.display()),
            hint: Some(
                "give a new or empty folder; extkit init never changes existing files".into(),
            ),
            is_answer: false,
        }
        .into());
    }
    Ok(())
}

/// Writes every file, making folders on the way.
fn write(dir: &Path, files: &[File]) -> anyhow::Result<()> {
    for file in files {
        let path: PathBuf = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent)?;
        }
        fs_err::write(&path, &file.content)?;
        if file.executable {
            make_executable(&path)?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn make_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> std::io::Result<()> {
    // The Dockerfile's `COPY --chmod=0755` sets the execute bit in the image.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_json_with_and_without_host_binaries() {
        for binary in [None, Some("my-cli")] {
            let files = project("acme/my-ext", binary);
            let metadata = files.iter().find(|f| f.path == "metadata.json").unwrap();
            let value: serde_json::Value = serde_json::from_str(&metadata.content).unwrap();
            assert_eq!(value["ui"]["dashboard-tab"]["title"], "my-ext");
            assert_eq!(value.get("host").is_some(), binary.is_some());
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("acme/my-ext").is_ok());
        assert!(check_name("localhost:5000/x").is_ok());
        assert!(check_name("acme/my-ext:1.0").is_err());
        assert!(check_name("My Ext").is_err());
        assert!(check_binary_name("my-cli").is_ok());
        assert!(check_binary_name("bin/my-cli").is_err());
        assert!(check_binary_name(".hidden").is_err());
    }
}
