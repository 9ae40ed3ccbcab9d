//! Writing a plan into a new folder, through a directory handle no path can escape.

use std::path::Path;

use cap_std::ambient_authority;
use cap_std::fs::Dir;

use crate::plan::UiEntry;
use crate::root::InstallRecord;
use crate::{InstallError, Plan};

/// Writes everything the plan holds into the empty folder `folder`:
/// `metadata.json`, `labels.json`, the icon, `ui/`, `host/`, `vm/docker-compose.yaml` and
/// `install.json`.
pub(crate) fn write_plan(
    folder: &Path,
    plan: &Plan,
    record: &InstallRecord,
    name: &str,
) -> Result<(), InstallError> {
    let dir = Dir::open_ambient_dir(folder, ambient_authority())?;
    // cap-std makes up a "permission denied" of its own, with no OS error code, for a path
    // that would leave the folder; anything else is the file system's answer.
    let failed = |error: std::io::Error, path: &str| {
        if error.kind() == std::io::ErrorKind::PermissionDenied && error.raw_os_error().is_none() {
            InstallError::Hostile {
                reason: format!(
                    "cannot write `{path}` inside the install folder of `{name}`: {error}"
                ),
            }
        } else {
            InstallError::WriteFile {
                name: name.to_string(),
                path: path.to_string(),
                source: error,
            }
        }
    };

    dir.write("metadata.json", &plan.metadata)
        .map_err(|e| failed(e, "metadata.json"))?;
    let labels = serde_json::to_vec_pretty(&plan.labels).expect("labels serialise");
    dir.write("labels.json", labels)
        .map_err(|e| failed(e, "labels.json"))?;
    if let Some((file_name, content)) = &plan.icon {
        dir.write(file_name, content)
            .map_err(|e| failed(e, file_name))?;
    }

    if !plan.ui.is_empty() {
        dir.create_dir("ui").map_err(|e| failed(e, "ui"))?;
        let ui = dir.open_dir("ui").map_err(|e| failed(e, "ui"))?;
        for (path, entry) in &plan.ui {
            let written = match entry {
                UiEntry::Directory => ui.create_dir_all(path),
                UiEntry::File(content, mode) => write_file(&ui, path, content, *mode & 0o777),
                UiEntry::Symlink(target) => make_symlink(&ui, target, path),
            };
            written.map_err(|e| failed(e, &format!("ui/{path}")))?;
        }
    }

    if !plan.binaries.is_empty() {
        dir.create_dir("host").map_err(|e| failed(e, "host"))?;
        let host = dir.open_dir("host").map_err(|e| failed(e, "host"))?;
        for (file_name, content) in &plan.binaries {
            write_file(&host, file_name, content, 0o755)
                .map_err(|e| failed(e, &format!("host/{file_name}")))?;
        }
    }

    if let Some(compose) = &plan.compose {
        dir.create_dir("vm").map_err(|e| failed(e, "vm"))?;
        dir.write("vm/docker-compose.yaml", compose)
            .map_err(|e| failed(e, "vm/docker-compose.yaml"))?;
    }

    let record = serde_json::to_vec_pretty(record).expect("the record serialises");
    dir.write("install.json", record)
        .map_err(|e| failed(e, "install.json"))?;
    Ok(())
}

/// Writes a file with its folders and mode; the mode applies on Unix only.
fn write_file(dir: &Dir, path: &str, content: &[u8], mode: u32) -> std::io::Result<()> {
    if let Some((parent, _)) = path.rsplit_once('/') {
        dir.create_dir_all(parent)?;
    }
    dir.write(path, content)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let permissions = std::fs::Permissions::from_mode(mode);
        dir.set_permissions(path, cap_std::fs::Permissions::from_std(permissions))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    Ok(())
}

#[cfg(unix)]
fn make_symlink(dir: &Dir, target: &str, path: &str) -> std::io::Result<()> {
    if let Some((parent, _)) = path.rsplit_once('/') {
        dir.create_dir_all(parent)?;
    }
    dir.symlink(target, path)
}

// TODO(install): links in a UI folder are skipped on Windows, where making them needs
// Developer Mode; copying the linked file would serve the UI the same way.
#[cfg(not(unix))]
fn make_symlink(_dir: &Dir, _target: &str, _path: &str) -> std::io::Result<()> {
    Ok(())
}
