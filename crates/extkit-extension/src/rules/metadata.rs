//! Rules about `metadata.json` itself: that it is there, fits the schema, names its sockets
//! well, and is the same everywhere.

use crate::catalogue::ids;
use crate::input::{FileFacts, FileKind};
use crate::metadata::{self, Metadata};
use crate::report::{Finding, Severity};
use crate::rules::{files, host};

/// Where Desktop reads `metadata.json` in an image.
pub(crate) const METADATA_PATH: &str = "/metadata.json";

/// Socket names longer than this risk exceeding the host's socket path limit.
const SOCKET_NAME_LIMIT: usize = 40;

/// Reads an image's `metadata.json`: the parsed document when it is a JSON object, and the
/// findings about the file as a file.
pub(crate) fn read(file: Option<&FileFacts>) -> (Option<Metadata>, Vec<Finding>) {
    let path = METADATA_PATH;
    let Some(file) = file else {
        let finding = Finding::new(
            ids::METADATA_MISSING,
            Some(path),
            format!("the image has no `{path}`"),
        )
        .hint("copy it to the image root, such as with `COPY metadata.json /`");
        return (None, vec![finding]);
    };

    let mut findings = Vec::new();
    if let Some(link) = &file.via_symlink {
        findings.push(files::symlinked(path, link));
    }
    if file.kind != FileKind::File {
        findings.push(
            Finding::new(
                ids::METADATA_INVALID,
                Some(path),
                format!(
                    "`{path}` is {}, not a regular file",
                    files::describe_kind(&file.kind)
                ),
            )
            .hint("copy the file itself to the image root"),
        );
        return (None, findings);
    }
    let Some(content) = &file.content else {
        findings.push(Finding::new(
            ids::METADATA_INVALID,
            Some(path),
            format!("`{path}` could not be read"),
        ));
        return (None, findings);
    };
    let (metadata, document_findings) = check_document(path, content);
    findings.extend(document_findings);
    (metadata, findings)
}

/// Every finding that `metadata.json`'s content alone shows, with `path` naming the file.
pub(crate) fn check_document(path: &str, content: &[u8]) -> (Option<Metadata>, Vec<Finding>) {
    let (metadata, problems) = match metadata::parse(content) {
        Ok(parsed) => parsed,
        Err(unreadable) => {
            let finding = Finding::new(
                ids::METADATA_INVALID,
                Some(path),
                format!("`{path}` {}", unreadable.message),
            )
            .hint(
                "metadata.json must be a JSON object such as `{\"icon\": \"docker.svg\", \
                \"ui\": {…}}`",
            );
            return (None, vec![finding]);
        }
    };

    let mut findings: Vec<Finding> = problems
        .into_iter()
        .map(|problem| {
            let finding = Finding::new(ids::METADATA_INVALID, Some(path), problem.message);
            match problem.hint {
                Some(hint) => finding.hint(hint),
                None => finding,
            }
        })
        .collect();
    findings.extend(check_sockets(path, &metadata));
    findings.extend(host::check(&metadata));
    (Some(metadata), findings)
}

/// `vm.exposes.socket` and `ui.dashboard-tab.backend.socket`.
fn check_sockets(path: &str, metadata: &Metadata) -> Vec<Finding> {
    let mut findings = Vec::new();
    let exposed = metadata
        .vm
        .as_ref()
        .and_then(|vm| vm.exposes_socket.as_deref());
    let backend = metadata
        .dashboard_tab
        .as_ref()
        .and_then(|tab| tab.backend_socket.as_deref());

    for (field, name) in [
        ("vm.exposes.socket", exposed),
        ("ui.dashboard-tab.backend.socket", backend),
    ] {
        let Some(name) = name else { continue };
        if name.contains('/') {
            findings.push(
                Finding::new(
                    ids::SOCKET_INVALID,
                    Some(path),
                    format!("`{field}` is `{name}`, which is not a plain file name"),
                )
                .hint(
                    "give only the name, such as `backend.sock`; Desktop puts it in \
                    `/run/guest-services/`",
                ),
            );
        } else if name.len() > SOCKET_NAME_LIMIT {
            findings.push(
                Finding::new(
                    ids::SOCKET_INVALID,
                    Some(path),
                    format!(
                        "`{field}` is `{name}`, {} bytes long; the host's socket path may exceed \
                            its limit",
                        name.len()
                    ),
                )
                .severity(Severity::Warning)
                .hint(format!(
                    "keep socket names under {SOCKET_NAME_LIMIT} bytes, such as \
                    `backend.sock`"
                )),
            );
        }
    }

    if let (Some(exposed), Some(backend)) = (exposed, backend)
        && exposed != backend
    {
        findings.push(
            Finding::new(
                ids::SOCKET_INVALID,
                Some(path),
                format!(
                    "the UI talks to the socket `{backend}`, but the backend exposes `{exposed}`"
                ),
            )
            .hint("set `ui.dashboard-tab.backend.socket` and `vm.exposes.socket` to the same name"),
        );
    }
    if backend.is_some() && metadata.vm.is_none() {
        findings.push(
            Finding::new(
                ids::SOCKET_INVALID,
                Some(path),
                "`ui.dashboard-tab.backend.socket` is set, but there is no `vm` backend to \
                    listen on it"
                    .to_string(),
            )
            .hint("add a `vm` section, or remove `backend` from the dashboard tab"),
        );
    }
    findings
}

/// One finding when the platforms' `metadata.json` files are not all the same.
pub(crate) fn check_consistency(variants: &[(String, Option<&[u8]>)]) -> Vec<Finding> {
    let Some((first_platform, first)) = variants.first() else {
        return Vec::new();
    };
    let differs = |other: &Option<&[u8]>| match (first, other) {
        (Some(first), Some(other)) => first != other && !json_equal(first, other),
        (None, None) => false,
        _ => true,
    };
    let Some((other_platform, _)) = variants[1..].iter().find(|(_, other)| differs(other)) else {
        return Vec::new();
    };
    vec![
        Finding::new(
            ids::METADATA_DIFFERS,
            Some(METADATA_PATH),
            format!(
                "`{METADATA_PATH}` in the `{other_platform}` image differs from the one in the \
                    `{first_platform}` image"
            ),
        )
        .hint("copy one metadata.json into every platform; only the files it names should differ"),
    ]
}

fn json_equal(first: &[u8], other: &[u8]) -> bool {
    match (
        serde_json::from_slice::<serde_json::Value>(first),
        serde_json::from_slice::<serde_json::Value>(other),
    ) {
        (Ok(first), Ok(other)) => first == other,
        _ => false,
    }
}
