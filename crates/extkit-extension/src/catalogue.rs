//! The list of rules: their ids, default severities and what each checks. `docs/rules.md` is
//! generated from it.

use crate::report::Severity;

/// One rule of `extkit validate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The stable kebab-case id findings carry, such as `platform-missing`.
    pub id: &'static str,
    /// The severity of its findings unless a finding says otherwise.
    pub severity: Severity,
    /// Whether only the Marketplace requires it: a warning normally, an error with
    /// `--marketplace`.
    pub marketplace_only: bool,
    /// What it checks, in one or two sentences.
    pub summary: &'static str,
}

/// The rule ids, so that a typo in one is a compile error rather than a silent new rule.
pub(crate) mod ids {
    pub const INDEX_NOT_MULTIPLATFORM: &str = "index-not-multiplatform";
    pub const PLATFORM_MISSING: &str = "platform-missing";
    pub const PLATFORM_NOT_LINUX: &str = "platform-not-linux";
    pub const CONFIG_PLATFORM_MISMATCH: &str = "config-platform-mismatch";
    pub const ATTESTATION_DANGLING: &str = "attestation-dangling";
    pub const TAG_NOT_SEMVER: &str = "tag-not-semver";
    pub const LABEL_MISSING: &str = "label-missing";
    pub const LABEL_EMPTY: &str = "label-empty";
    pub const LABEL_INVALID: &str = "label-invalid";
    pub const LABEL_UNKNOWN: &str = "label-unknown";
    pub const LABEL_PLACEHOLDER: &str = "label-placeholder";
    pub const LABELS_DIFFER: &str = "labels-differ";
    pub const METADATA_MISSING: &str = "metadata-missing";
    pub const METADATA_INVALID: &str = "metadata-invalid";
    pub const METADATA_DIFFERS: &str = "metadata-differs";
    pub const SOCKET_INVALID: &str = "socket-invalid";
    pub const PATH_NOT_ABSOLUTE: &str = "path-not-absolute";
    pub const HOST_BINARIES_MISSING_FOR_OS: &str = "host-binaries-missing-for-os";
    pub const WINDOWS_BINARY_EXTENSION: &str = "windows-binary-extension";
    pub const FILE_MISSING: &str = "file-missing";
    pub const FILE_WRONG_TYPE: &str = "file-wrong-type";
    pub const SYMLINKED_FILE: &str = "symlinked-file";
    pub const COMPOSE_INVALID: &str = "compose-invalid";
    pub const BACKEND_WITHOUT_COMMAND: &str = "backend-without-command";
    pub const COMPOSE_DOCKER_SOCKET: &str = "compose-docker-socket";
    pub const COMPOSE_RELATIVE_BIND: &str = "compose-relative-bind";
    pub const BINARY_FORMAT_MISMATCH: &str = "binary-format-mismatch";
    pub const BINARY_ARCH_MISMATCH: &str = "binary-arch-mismatch";
    pub const BINARY_NOT_EXECUTABLE: &str = "binary-not-executable";
    pub const BINARY_NAME_CLASH: &str = "binary-name-clash";
}

const fn rule(
    id: &'static str,
    severity: Severity,
    marketplace_only: bool,
    summary: &'static str,
) -> Rule {
    Rule {
        id,
        severity,
        marketplace_only,
        summary,
    }
}

use Severity::{Error, Warning};

/// Every rule in report order. Checks 6 and 7 of the spec (media types, sizes and digests)
/// happen while the image is read, 42 is the Desktop matrix, and 44 belongs to `install`.
static RULES: &[Rule] = &[
    rule(
        ids::INDEX_NOT_MULTIPLATFORM,
        Warning,
        true,
        "The image is an index (or Docker manifest list), not a single manifest.",
    ),
    rule(
        ids::PLATFORM_MISSING,
        Error,
        false,
        "The index has a runnable `linux/amd64` and a `linux/arm64` entry (after normalising, \
         so `linux/arm64/v8` counts as `linux/arm64`).",
    ),
    rule(
        ids::PLATFORM_NOT_LINUX,
        Error,
        false,
        "Every runnable entry is for `linux`: Desktop runs extensions as Linux containers.",
    ),
    rule(
        ids::CONFIG_PLATFORM_MISMATCH,
        Error,
        false,
        "Each image config's `os`, `architecture` and `variant` equal its index entry's \
         platform (normalised).",
    ),
    rule(
        ids::ATTESTATION_DANGLING,
        Warning,
        false,
        "Each attestation describes a manifest that is in the index.",
    ),
    rule(
        ids::TAG_NOT_SEMVER,
        Warning,
        true,
        "The tag is a semantic version such as `1.2.3` (a leading `v` is accepted).",
    ),
    rule(
        ids::LABEL_MISSING,
        Error,
        false,
        "The required labels are set. `com.docker.extension.categories` is Marketplace-only \
         and a missing `com.docker.extension.additional-urls` is a warning.",
    ),
    rule(
        ids::LABEL_EMPTY,
        Error,
        false,
        "The required labels are not empty. An empty `com.docker.extension.categories` is \
         Marketplace-only.",
    ),
    rule(
        ids::LABEL_INVALID,
        Error,
        false,
        "Label values have their format: known categories; `api.version` a version or \
         constraint (satisfied by `--sdk-version` when given); icon and publisher URLs \
         `http(s)` (an icon that is not .svg, .png or .jpg is a warning); screenshots and \
         additional URLs JSON arrays of complete items (no screenshots is a warning). \
         An `account-info` other than `required` and a title containing \"extension\" are \
         warnings.",
    ),
    rule(
        ids::LABEL_UNKNOWN,
        Warning,
        false,
        "Every label in the `com.docker.desktop.extension.` and `com.docker.extension.` \
         namespaces is one Desktop reads; a near miss is named.",
    ),
    rule(
        ids::LABEL_PLACEHOLDER,
        Warning,
        false,
        "No label still holds a placeholder written by `extkit init`: a value starting with \
         `TODO:` or a URL under `https://example.com/TODO`.",
    ),
    rule(
        ids::LABELS_DIFFER,
        Warning,
        false,
        "Every platform's image has the same labels: Desktop reads them before it chooses \
         a platform.",
    ),
    rule(
        ids::METADATA_MISSING,
        Error,
        false,
        "Each platform's image has `/metadata.json`.",
    ),
    rule(
        ids::METADATA_INVALID,
        Error,
        false,
        "`metadata.json` is a regular file holding a JSON object with only the keys Desktop \
         knows, at every level (so the obsolete `name` and `provider` are refused), of the \
         right types, with `icon`, at least one of `ui`, `vm` and `host`, a complete \
         `dashboard-tab`, and exactly one of `vm.image` and `vm.composefile`.",
    ),
    rule(
        ids::METADATA_DIFFERS,
        Warning,
        false,
        "`metadata.json` is the same in every platform's image: only the files it names \
         should differ.",
    ),
    rule(
        ids::SOCKET_INVALID,
        Error,
        false,
        "`vm.exposes.socket` and `ui.dashboard-tab.backend.socket` are plain file names, \
         equal when both are set, and a backend socket comes with a `vm`. A name longer \
         than 40 bytes is a warning.",
    ),
    rule(
        ids::PATH_NOT_ABSOLUTE,
        Warning,
        false,
        "Host binary paths are absolute; a path that climbs out of the image with `..` is \
         an error.",
    ),
    rule(
        ids::HOST_BINARIES_MISSING_FOR_OS,
        Warning,
        false,
        "When some OS has host binaries, `darwin`, `linux` and `windows` all have some.",
    ),
    rule(
        ids::WINDOWS_BINARY_EXTENSION,
        Warning,
        false,
        "Windows host binaries end in `.exe`, `.cmd`, `.bat` or `.ps1`.",
    ),
    rule(
        ids::FILE_MISSING,
        Error,
        false,
        "Every file `metadata.json` names (icon, UI root and entry file, compose file, \
         host binaries) is in each platform's image. A Windows binary missing from a \
         non-amd64 image is a warning (Windows on Arm users lose it).",
    ),
    rule(
        ids::FILE_WRONG_TYPE,
        Error,
        false,
        "The UI root is a folder; the icon, UI entry file, compose file and host binaries \
         are regular files.",
    ),
    rule(
        ids::SYMLINKED_FILE,
        Warning,
        false,
        "No file `metadata.json` names is reached through a symbolic link: how Desktop \
         copies links is unknown.",
    ),
    rule(
        ids::COMPOSE_INVALID,
        Error,
        false,
        "The compose file is YAML with a non-empty `services` mapping.",
    ),
    rule(
        ids::BACKEND_WITHOUT_COMMAND,
        Warning,
        false,
        "A backend that runs `${DESKTOP_PLUGIN_IMAGE}` has a command: the image's `CMD` or \
         `ENTRYPOINT`, or the service's `command` or `entrypoint`.",
    ),
    rule(
        ids::COMPOSE_DOCKER_SOCKET,
        Warning,
        false,
        "The compose file mounts `/var/run/docker.sock.raw`, not `/var/run/docker.sock`.",
    ),
    rule(
        ids::COMPOSE_RELATIVE_BIND,
        Warning,
        false,
        "The compose file binds no relative host path: it would resolve inside Desktop's \
         own folder.",
    ),
    rule(
        ids::BINARY_FORMAT_MISMATCH,
        Error,
        false,
        "Each host binary's format suits its OS: `darwin` Mach-O or `#!` script, `linux` \
         ELF or `#!` script, `windows` PE or `.cmd`/`.bat`/`.ps1` script.",
    ),
    rule(
        ids::BINARY_ARCH_MISMATCH,
        Error,
        false,
        "Each host binary is built for its image's architecture (a universal Mach-O needs \
         that slice); scripts are skipped. An x64 Windows binary in an arm64 image is a \
         warning, as Windows on Arm emulates it.",
    ),
    rule(
        ids::BINARY_NOT_EXECUTABLE,
        Error,
        false,
        "`darwin` and `linux` host binaries have an execute bit.",
    ),
    rule(
        ids::BINARY_NAME_CLASH,
        Error,
        false,
        "No two host binaries of one OS share a base name: Desktop copies them into one \
         folder.",
    ),
];

/// Every rule of `extkit validate`, in the order findings are reported.
pub fn rules() -> &'static [Rule] {
    RULES
}

/// The position of a rule in [`rules`], for ordering findings.
pub(crate) fn rule_position(id: &str) -> usize {
    RULES
        .iter()
        .position(|rule| rule.id == id)
        .unwrap_or(RULES.len())
}

/// The default severity of a rule.
pub(crate) fn default_severity(id: &str) -> Severity {
    RULES
        .iter()
        .find(|rule| rule.id == id)
        .map_or(Severity::Error, |rule| rule.severity)
}

/// `docs/rules.md`: the rule table as Markdown.
pub fn rules_markdown() -> String {
    let mut text = String::from(
        "# Validation rules\n\
         \n\
         <!-- Generated from `extkit_extension::rules()`; run \
         `EXTKIT_BLESS=1 cargo test -p extkit-extension --test rules_doc` after changing it. -->\n\
         \n\
         `extkit validate` runs these rules on every platform's image. An error fails \
         validation; a warning does not. Marketplace-only rules are warnings unless \
         `--marketplace` is given, which makes them errors. A finding may carry another \
         severity than its rule's default where the rule says so.\n\
         \n\
         | Rule | Default | Marketplace-only | What it checks |\n\
         |---|---|---|---|\n",
    );
    for rule in RULES {
        let marketplace = if rule.marketplace_only { "yes" } else { "no" };
        text.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            rule.id,
            rule.severity.as_str(),
            marketplace,
            rule.summary.replace('|', "\\|"),
        ));
    }
    text.push_str(
        "\n\
         Not checked here: media types, sizes and digests (checked while the image is read), \
         the platform Desktop would pull on each host (the matrix after the findings), and \
         where `install` puts the files.\n",
    );
    text
}
