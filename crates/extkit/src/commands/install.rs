//! `extkit install`, `update`, `ls` and `rm`: extensions installed as Docker Desktop does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;

use extkit_extension::{
    HostOs, Options, Severity, collect_facts, parse_compose, parse_metadata, wanted_files,
};
use extkit_install::{Host, InstallRoot, Installed, Plan, folder_name, read_plan};
use extkit_oci::transport::{ImageSource, Location};
use serde_json::json;

use super::{RegistrySettings, open_image};
use crate::cli::{InstallArgs, OutputFormat, RemoveArgs, RootArgs};
use crate::failure::Refusal;
use crate::output::{Printer, plain_table, render_table};

fn install_root(args: &RootArgs) -> anyhow::Result<InstallRoot> {
    let root = match &args.root {
        Some(path) => InstallRoot::at(path),
        None => InstallRoot::open_default()?,
    };
    root.check_folder()?;
    Ok(root)
}

/// The folder name and the full repository of the image at `location`.
fn identity(location: &Location, source: &dyn ImageSource) -> (String, String) {
    let reference = match location {
        Location::Named(reference) | Location::Store(reference) | Location::Registry(reference) => {
            Some(reference)
        }
        Location::DockerArchive { reference, .. } => reference.as_ref(),
        Location::Oci { .. } | Location::OciArchive { .. } => None,
    };
    match reference {
        Some(reference) => (folder_name(reference), reference.name()),
        None => {
            // A layout or archive has no repository: its file name stands for one.
            let path = match location {
                Location::Oci { path, .. }
                | Location::OciArchive { path, .. }
                | Location::DockerArchive { path, .. } => path,
                _ => unreachable!("references were handled above"),
            };
            let stem = Path::new(path)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let name: String = stem
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let name = if name.is_empty() || name.starts_with('.') {
                format!("x{name}")
            } else {
                name
            };
            let _ = source;
            (
                name,
                format!("{}:{}", location.transport_name(), path.display()),
            )
        }
    }
}

pub fn install(
    args: &InstallArgs,
    printer: Printer,
    settings: &RegistrySettings,
    update: bool,
) -> anyhow::Result<ExitCode> {
    let host: Host = match &args.host {
        Some(text) => text.parse()?,
        None => Host::current(),
    };
    let root = install_root(&args.root)?;
    let (location, source) = open_image(&args.image, settings)?;
    let (name, repository) = identity(&location, source.as_ref());
    let previous = root.get(&name)?;
    if update && previous.is_none() {
        return Err(extkit_install::InstallError::NotInstalled {
            name,
            root: root.path().to_path_buf(),
        }
        .into());
    }

    let plan = read_plan(source.as_ref(), &args.image, &host, &name)?;
    if let Some(previous) = previous.as_ref().filter(|_| update && !args.dry_run)
        && previous.record.digest == plan.digest.to_string()
        && previous.record.host == plan.host.to_string()
    {
        root.tidy(&name)?;
        printer.note(&format!(
            "`{name}` is already up to date: {} ({} image, host binaries for {})",
            plan.digest, previous.record.platform, host.os
        ));
        if printer.format == OutputFormat::Json {
            let platform = &previous.record.platform;
            printer.json(&outcome(&name, &previous.path, &plan, platform, None))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let overridden = check_rules(source.as_ref(), &plan, printer, args.force)?;

    if args.dry_run {
        printer.data(&describe_plan(&plan, &root.path().join(&name)))?;
        return Ok(ExitCode::SUCCESS);
    }
    // Read before the switch: afterwards the extension's folder shows the new version.
    let previous_binaries = match &previous {
        Some(previous) if update => Some(host_files(&previous.path)?),
        _ => None,
    };
    let installed = root.install(&name, &repository, &plan, update)?;
    if overridden > 0 {
        printer.note(&format!(
            "warning: --force: installed despite {overridden} error(s)"
        ));
    }
    let verb = if update { "updated" } else { "installed" };
    printer.note(&format!(
        "{verb} {} ({} image, host binaries for {}) in `{}`",
        args.image,
        plan.platform,
        host.os,
        installed.path.display()
    ));
    let changed = match (previous, previous_binaries) {
        (Some(previous), Some(old)) => Some(changes(&previous, &old, &installed)?),
        _ => None,
    };
    match (printer.format, &changed) {
        (OutputFormat::Json, _) => {
            let changes = changed.unwrap_or_default();
            let platform = plan.platform.to_string();
            printer.json(&outcome(
                &name,
                &installed.path,
                &plan,
                &platform,
                Some(changes),
            ))?;
        }
        (OutputFormat::Table, Some(lines)) => {
            for line in lines {
                printer.data(&format!("{line}\n"))?;
            }
        }
        (OutputFormat::Table, None) => {
            printer.data(&format!("{}\n", installed.path.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What `install` and `update` print with `--format json`; `changes` is `None` when nothing
/// was written (already up to date).
fn outcome(
    name: &str,
    path: &Path,
    plan: &Plan,
    platform: &str,
    changes: Option<Vec<String>>,
) -> serde_json::Value {
    json!({
        "name": name,
        "path": path,
        "digest": plan.digest.to_string(),
        "platform": platform,
        "host": plan.host.to_string(),
        "changed": changes.is_some(),
        "changes": changes.unwrap_or_default(),
    })
}

/// Runs the rules and keeps those that decide this install: findings about the chosen variant
/// or the whole image, except those about other OSes' host binaries. Errors among them
/// refuse the install unless `force`; gives how many errors were overridden.
fn check_rules(
    source: &dyn ImageSource,
    plan: &Plan,
    printer: Printer,
    force: bool,
) -> anyhow::Result<usize> {
    let facts = collect_facts(source, None, &wanted_files)?;
    let report = extkit_extension::validate(&facts, &Options::default());
    let platform = plan.platform.normalize().to_string();
    let host_os = host_os(&plan.host);
    let other_binaries: BTreeSet<String> = parse_metadata(&plan.metadata)
        .map(|metadata| {
            metadata
                .binaries
                .iter()
                .filter(|binary| binary.os != host_os)
                .map(|binary| format!("/{}", extkit_layer::clean(&binary.path)))
                .collect()
        })
        .unwrap_or_default();

    let mut errors = Vec::new();
    for finding in &report.findings {
        let about_this_variant = finding.platform.as_deref().is_none_or(|p| p == platform);
        let about_other_os = finding
            .path
            .as_ref()
            .is_some_and(|path| other_binaries.contains(path));
        let deciding = about_this_variant && !about_other_os;
        let place = finding.platform.as_deref().unwrap_or("image");
        match (deciding, finding.severity) {
            (true, Severity::Error) => {
                errors.push(format!("[{}] {place}: {}", finding.rule, finding.message))
            }
            // Problems of other users' variants do not stop this install, but are worth saying.
            _ => printer.note(&format!(
                "warning[{}] {place}: {}",
                finding.rule, finding.message
            )),
        }
    }
    if errors.is_empty() {
        return Ok(0);
    }
    if force {
        for error in &errors {
            printer.note(&format!("warning: --force overrides error{error}"));
        }
        return Ok(errors.len());
    }
    Err(Refusal {
        message: format!(
            "refusing to install {} on {}: {}",
            plan.reference,
            plan.host,
            errors
                .iter()
                .map(|e| format!("\n  error{e}"))
                .collect::<String>()
        ),
        hint: Some(
            "fix the image (`extkit validate` shows every problem), or install anyway \
            with `--force`"
                .into(),
        ),
        is_answer: true,
    }
    .into())
}

fn host_os(host: &Host) -> HostOs {
    match host.os.as_str() {
        "darwin" => HostOs::Darwin,
        "windows" => HostOs::Windows,
        _ => HostOs::Linux,
    }
}

/// What a dry run prints: where each file would land.
fn describe_plan(plan: &Plan, folder: &Path) -> String {
    let mut text = format!(
        "would install {} ({} image for {}) into `{}`:\n  metadata.json\n  labels.json\n",
        plan.reference,
        plan.platform,
        plan.host,
        folder.display()
    );
    if let Some((file_name, _)) = &plan.icon {
        text.push_str(&format!("  {file_name}\n"));
    }
    if !plan.ui.is_empty() {
        text.push_str(&format!("  ui/ ({} entries)\n", plan.ui.len()));
    }
    for (file_name, content) in &plan.binaries {
        let info = extkit_binfmt::inspect_bytes(content, Some(file_name));
        text.push_str(&format!(
            "  host/{file_name} ({} {})\n",
            info.format,
            info.architectures.join(",")
        ));
    }
    if plan.compose.is_some() {
        text.push_str("  vm/docker-compose.yaml\n");
    }
    text.push_str("  install.json\n");
    text
}

/// What an update changed: the digest, and host binaries added, removed or changed.
fn changes(
    before: &Installed,
    old: &BTreeMap<String, Vec<u8>>,
    after: &Installed,
) -> anyhow::Result<Vec<String>> {
    let mut lines = vec![format!(
        "digest: {} -> {}",
        before.record.digest, after.record.digest
    )];
    let new = host_files(&after.path)?;
    for (name, content) in &new {
        match old.get(name) {
            None => lines.push(format!("added: host/{name}")),
            Some(previous) if previous != content => lines.push(format!("changed: host/{name}")),
            Some(_) => {}
        }
    }
    for name in old.keys().filter(|name| !new.contains_key(*name)) {
        lines.push(format!("removed: host/{name}"));
    }
    Ok(lines)
}

/// The files of an installed version's `host/` folder, by name.
fn host_files(folder: &Path) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    let host = folder.join("host");
    if host.is_dir() {
        for entry in fs_err::read_dir(&host)? {
            let entry = entry?;
            files.insert(
                entry.file_name().to_string_lossy().into_owned(),
                fs_err::read(entry.path())?,
            );
        }
    }
    Ok(files)
}

pub fn list(args: &RootArgs, printer: Printer) -> anyhow::Result<ExitCode> {
    let root = install_root(args)?;
    let mut rows = Vec::new();
    for installed in root.list()? {
        let labels: BTreeMap<String, String> =
            serde_json::from_slice(&fs_err::read(installed.path.join("labels.json"))?)
                .unwrap_or_default();
        let metadata = fs_err::read(installed.path.join("metadata.json"))?;
        let tab = parse_metadata(&metadata)
            .ok()
            .and_then(|m| m.dashboard_tab)
            .map(|tab| tab.title.unwrap_or_default());
        let compose = installed.path.join("vm/docker-compose.yaml");
        let services = match fs_err::read(&compose) {
            Ok(bytes) => parse_compose(&bytes).map(|c| c.services.len()).unwrap_or(0),
            Err(_) => 0,
        };
        let binaries = match fs_err::read_dir(installed.path.join("host")) {
            Ok(entries) => entries.count(),
            Err(_) => 0,
        };
        // The tag it was installed from, as `docker extension ls` shows; else its digest.
        let location: Option<Location> = installed.record.reference.parse().ok();
        let version = location
            .as_ref()
            .and_then(super::validate::tag_of)
            .unwrap_or_else(|| {
                installed
                    .record
                    .digest
                    .get(..19)
                    .unwrap_or_default()
                    .to_string()
            });
        rows.push((installed, labels, tab, services, binaries, version));
    }

    match printer.format {
        OutputFormat::Json => {
            let entries: Vec<_> = rows
                .iter()
                .map(|(installed, labels, tab, services, binaries, version)| {
                    json!({
                        "id": installed.name,
                        "reference": installed.record.reference,
                        "provider": labels.get("org.opencontainers.image.vendor"),
                        "version": version,
                        "ui": tab,
                        "vm": services,
                        "host": binaries,
                        "platform": installed.record.platform,
                        "digest": installed.record.digest,
                        "path": installed.path,
                    })
                })
                .collect();
            printer.json(&serde_json::Value::Array(entries))?;
        }
        OutputFormat::Table => {
            let mut table = plain_table(&["ID", "PROVIDER", "VERSION", "UI", "VM", "HOST"]);
            for (installed, labels, tab, services, binaries, version) in &rows {
                table.add_row(vec![
                    installed.name.clone(),
                    labels
                        .get("org.opencontainers.image.vendor")
                        .cloned()
                        .unwrap_or_else(|| "-".into()),
                    version.clone(),
                    tab.as_ref()
                        .map_or_else(|| "-".into(), |title| format!("1 tab({title})")),
                    services.to_string(),
                    binaries.to_string(),
                ]);
            }
            printer.data(&render_table(&table))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn remove(args: &RemoveArgs, printer: Printer) -> anyhow::Result<ExitCode> {
    let root = install_root(&args.root)?;
    // NAME is a folder name, or the reference the extension was installed from.
    let from_reference = match args.name.parse::<Location>() {
        Ok(
            Location::Named(reference) | Location::Store(reference) | Location::Registry(reference),
        ) => Some(folder_name(&reference)),
        _ => None,
    };
    let name = match (root.get(&args.name)?, from_reference) {
        (Some(_), _) => args.name.clone(),
        (None, Some(folder)) if root.get(&folder)?.is_some() => folder,
        // Neither a folder nor a reference that maps to one: name it as the user wrote it.
        (None, _) => {
            return Err(extkit_install::InstallError::NotInstalled {
                name: args.name.clone(),
                root: root.path().to_path_buf(),
            }
            .into());
        }
    };
    let removed = root.remove(&name)?;
    printer.data(&format!(
        "removed {} ({})\n",
        removed.name, removed.record.reference
    ))?;
    Ok(ExitCode::SUCCESS)
}
