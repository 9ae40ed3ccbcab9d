//! The install root: one folder per extension, each a link to a versioned folder that is
//! switched atomically.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use extkit_oci::ImageReference;
use serde::{Deserialize, Serialize};
use tracing::debug;

use crate::stage::write_plan;
use crate::{InstallError, Plan};

/// Where versioned folders live, under the root.
const VERSIONS: &str = ".versions";
/// Where lock files live, under the root.
const LOCKS: &str = ".locks";

/// The folder name Desktop uses for an extension: its repository path without the registry
/// host, `/` replaced by `_` (`docker.io/acme/my-ext` → `acme_my-ext`).
pub fn folder_name(reference: &ImageReference) -> String {
    reference.repository().replace('/', "_")
}

/// `install.json`: where an installed extension came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallRecord {
    /// The reference it was installed from.
    pub reference: String,
    /// The full repository name (registry and path), to tell apart same-named extensions.
    pub repository: String,
    /// The digest of the image's root.
    pub digest: String,
    /// The variant installed.
    pub platform: String,
    /// The host installed for.
    pub host: String,
    /// When, RFC 3339 in UTC.
    pub installed_at: String,
}

/// One installed extension.
#[derive(Clone, Debug)]
pub struct Installed {
    /// Its folder name.
    pub name: String,
    /// Its folder (the link to the current version).
    pub path: PathBuf,
    /// Its `install.json`.
    pub record: InstallRecord,
}

/// A folder holding installed extensions.
#[derive(Clone, Debug)]
pub struct InstallRoot {
    root: PathBuf,
}

impl InstallRoot {
    /// The root at `path`.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        InstallRoot { root: path.into() }
    }

    /// The default root: `extensions/` in extkit's data folder (never Docker Desktop's own
    /// folder, which Desktop manages).
    pub fn open_default() -> Result<Self, InstallError> {
        Ok(InstallRoot::at(
            extkit_oci::transport::data_folder()?.join("extensions"),
        ))
    }

    /// The root folder.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Refuses a root that exists and is not a folder (links to folders are followed).
    pub fn check_folder(&self) -> Result<(), InstallError> {
        if self.root.exists() && !self.root.is_dir() {
            return Err(InstallError::RootNotAFolder {
                root: self.root.clone(),
            });
        }
        Ok(())
    }

    /// Every installed extension, by name.
    pub fn list(&self) -> Result<Vec<Installed>, InstallError> {
        self.check_folder()?;
        let mut installed = Vec::new();
        if !self.root.exists() {
            return Ok(installed);
        }
        for entry in fs_err::read_dir(&self.root)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if let Some(found) = self.get(&name)? {
                installed.push(found);
            }
        }
        installed.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(installed)
    }

    /// The installed extension named `name`, if any.
    pub fn get(&self, name: &str) -> Result<Option<Installed>, InstallError> {
        self.check_folder()?;
        let path = self.root.join(name);
        let record_path = path.join("install.json");
        let bytes = match fs_err::read(&record_path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        let record: InstallRecord = serde_json::from_slice(&bytes).map_err(|error| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("`{}` is malformed: {error}", record_path.display()),
            )
        })?;
        Ok(Some(Installed {
            name: name.to_string(),
            path,
            record,
        }))
    }

    /// Installs `plan` under `name`. With `replace`, an installed extension of the same
    /// repository is replaced (an update); otherwise it is refused.
    pub fn install(
        &self,
        name: &str,
        repository: &str,
        plan: &Plan,
        replace: bool,
    ) -> Result<Installed, InstallError> {
        self.check_folder()?;
        let _lock = self.lock(name)?;
        self.clean_leftovers(name)?;

        if let Some(existing) = self.get(name)? {
            if existing.record.repository != repository {
                return Err(InstallError::NameTaken {
                    name: name.to_string(),
                    installed: existing.record.repository,
                    wanted: repository.to_string(),
                });
            }
            if !replace {
                return Err(InstallError::AlreadyInstalled {
                    name: name.to_string(),
                    reference: existing.record.reference,
                });
            }
        }

        // Write the new version beside the old one, then switch the name to it. On any
        // failure before the switch, what this run wrote goes.
        let versions = self.root.join(VERSIONS).join(name);
        let created_top = !self.root.join(VERSIONS).exists();
        let created_versions = !versions.exists();
        let mut final_folder = None;
        let version =
            match self.write_and_switch(name, repository, plan, &versions, &mut final_folder) {
                Ok(version) => version,
                Err(error) => {
                    if let Some(folder) = final_folder {
                        let _ = fs_err::remove_dir_all(folder);
                    }
                    if created_versions {
                        // Only when empty: another run's folder is never removed here.
                        let _ = std::fs::remove_dir(&versions);
                    }
                    if created_top {
                        let _ = std::fs::remove_dir(self.root.join(VERSIONS));
                    }
                    return Err(error);
                }
            };
        extkit_oci::pause_point("install-switched");
        self.clean_leftovers(name)?;
        debug!(name, version, "installed");
        Ok(self.get(name)?.expect("the switch just named it"))
    }

    /// Writes the plan into a new version folder under `versions` and points `name` at it;
    /// gives the version. `final_folder` is set once the version folder exists under its final
    /// name (before that, the staging folder removes itself when dropped).
    fn write_and_switch(
        &self,
        name: &str,
        repository: &str,
        plan: &Plan,
        versions: &Path,
        final_folder: &mut Option<PathBuf>,
    ) -> Result<String, InstallError> {
        let write_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source: io::Error| InstallError::Write { path, source }
        };
        std::fs::create_dir_all(versions).map_err(write_error(versions))?;
        let staging = tempfile::Builder::new()
            .prefix(".staging-")
            .tempdir_in(versions)
            .map_err(write_error(versions))?;
        let record = InstallRecord {
            reference: plan.reference.clone(),
            repository: repository.to_string(),
            digest: plan.digest.to_string(),
            platform: plan.platform.to_string(),
            host: plan.host.to_string(),
            installed_at: now_rfc3339(),
        };
        write_plan(staging.path(), plan, &record, name)?;
        extkit_oci::pause_point("install-staged");

        let version = format!("{}-{}", plan.digest.short(), unique_suffix());
        let target = versions.join(&version);
        std::fs::rename(staging.path(), &target).map_err(write_error(&target))?;
        // Renamed: the staging folder's name is gone, so dropping it must not try to remove it.
        let _ = staging.keep();
        *final_folder = Some(target);
        self.switch(name, &Path::new(VERSIONS).join(name).join(&version))?;
        Ok(version)
    }

    /// Removes the installed extension `name`.
    pub fn remove(&self, name: &str) -> Result<Installed, InstallError> {
        self.check_folder()?;
        let _lock = self.lock(name)?;
        let Some(installed) = self.get(name)? else {
            return Err(InstallError::NotInstalled {
                name: name.to_string(),
                root: self.root.clone(),
            });
        };
        // The name goes first, so a crash leaves no half-removed extension visible.
        remove_link(&self.root.join(name))?;
        let versions = self.root.join(VERSIONS).join(name);
        if versions.exists() {
            fs_err::remove_dir_all(&versions)?;
        }
        Ok(installed)
    }

    /// Points `name` at `target` (relative to the root) in one atomic step: a new link is
    /// made under a temporary name and renamed over the old one.
    fn switch(&self, name: &str, target: &Path) -> Result<(), InstallError> {
        let temporary = self.root.join(format!(".link-{name}-{}", unique_suffix()));
        make_link(target, &temporary).map_err(|source| InstallError::Write {
            path: temporary.clone(),
            source,
        })?;
        let link = self.root.join(name);
        if let Err(source) = replace_link(&temporary, &link) {
            let _ = remove_link(&temporary);
            return Err(InstallError::Write { path: link, source });
        }
        Ok(())
    }

    /// Removes what interrupted runs left for `name`, as every install does first; for a run
    /// that finds nothing else to do.
    pub fn tidy(&self, name: &str) -> Result<(), InstallError> {
        self.check_folder()?;
        let _lock = self.lock(name)?;
        self.clean_leftovers(name)
    }

    /// Removes what interrupted runs left: staging folders, versions no name points at, and
    /// temporary links.
    fn clean_leftovers(&self, name: &str) -> Result<(), InstallError> {
        let current = fs_err::read_link(self.root.join(name)).ok();
        let versions = self.root.join(VERSIONS).join(name);
        if versions.exists() {
            for entry in fs_err::read_dir(&versions)? {
                let entry = entry?;
                let relative = Path::new(VERSIONS).join(name).join(entry.file_name());
                if current.as_deref() != Some(relative.as_path()) {
                    debug!(path = %entry.path().display(), "removing a leftover of an earlier run");
                    fs_err::remove_dir_all(entry.path())?;
                }
            }
        }
        for entry in fs_err::read_dir(&self.root)? {
            let entry = entry?;
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if file_name.starts_with(&format!(".link-{name}-")) {
                remove_link(&entry.path())?;
            }
        }
        Ok(())
    }

    /// Takes the lock of extension `name`, so one command at a time changes it.
    fn lock(&self, name: &str) -> Result<File, InstallError> {
        let folder = self.root.join(LOCKS);
        fs_err::create_dir_all(&folder)?;
        let file: File = fs_err::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(folder.join(format!("{name}.lock")))?
            .into();
        file.lock()?;
        Ok(file)
    }
}

#[cfg(unix)]
fn make_link(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

// TODO(install): on Windows, making a directory link needs Developer Mode or administrator
// rights; a junction (which needs neither) would be the better choice there.
#[cfg(windows)]
fn make_link(target: &Path, link: &Path) -> io::Result<()> {
    std::os::windows::fs::symlink_dir(target, link)
}

/// Renames a link over another: atomic on Unix, where `rename` replaces the target.
fn replace_link(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(windows)]
    if to.exists() {
        // TODO(install): Windows cannot rename a link over another; this gap is not atomic.
        remove_link(to)?;
    }
    fs_err::rename(from, to)
}

fn remove_link(path: &Path) -> io::Result<()> {
    #[cfg(windows)]
    {
        return fs_err::remove_dir(path).or_else(|_| fs_err::remove_file(path));
    }
    #[cfg(not(windows))]
    fs_err::remove_file(path)
}

/// A suffix that makes names unique between runs: the process id and the time.
fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{}-{nanos}", std::process::id())
}

/// The current time as RFC 3339 in UTC, to the second.
fn now_rfc3339() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    // A clock past the year 9999 is not worth an error of its own.
    extkit_oci::rfc3339(seconds).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_drop_the_registry() {
        let name = |text: &str| folder_name(&text.parse().unwrap());
        assert_eq!(name("docker.io/acme/my-ext:1"), "acme_my-ext");
        assert_eq!(name("127.0.0.1:5000/a/b"), "a_b");
        assert_eq!(name("alpine"), "library_alpine");
    }
}
