//! What `validate` answers: findings, the Desktop matrix, and the options that shape them.

use serde::Serialize;

/// How a validation run is configured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Apply the Marketplace's stricter rules: the Marketplace-only findings become errors.
    pub marketplace: bool,
    /// The Desktop extension SDK version to check `com.docker.desktop.extension.api.version`
    /// against, such as `0.3.4`.
    pub sdk_version: Option<String>,
}

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The extension fails validation.
    Error,
    /// Worth fixing, but the extension passes.
    Warning,
}

impl Severity {
    /// The lower-case name used in JSON and tables: `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem a rule found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The id of the rule, such as `platform-missing`.
    pub rule: &'static str,
    /// How serious it is.
    pub severity: Severity,
    /// The platform image it concerns, such as `linux/arm64`; `None` when it holds for every
    /// platform or for the image as a whole.
    pub platform: Option<String>,
    /// The file in the image, or the label key, it concerns.
    pub path: Option<String>,
    /// What is wrong, in one lower-case sentence.
    pub message: String,
    /// What to do about it, when there is a next step.
    pub hint: Option<String>,
}

/// Whether a host binary can run on a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Runs {
    /// It is built for the host's CPU (or is a script).
    Native,
    /// It runs through the host's emulation: Rosetta 2 on Apple silicon, x64 emulation on
    /// Windows on Arm.
    Emulated,
    /// It cannot run there, or it is missing from the image Desktop would pull.
    No,
}

/// One host binary a Desktop user would receive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Binary {
    /// Its base name, by which the UI calls it.
    pub name: String,
    /// Its path in the image, as metadata.json names it (normalised).
    pub path: String,
    /// Whether it runs on the host.
    pub runs: Runs,
}

/// What Desktop on one kind of host would install.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MatrixRow {
    /// The host, such as `darwin/arm64`.
    pub host: String,
    /// The image platform Desktop would pull there, such as `linux/arm64`; `None` when the
    /// image has none that can run there.
    pub platform: Option<String>,
    /// The host binaries for the host's OS in that image.
    pub binaries: Vec<Binary>,
}

/// The whole answer of a validation run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The image (or file) as the user named it.
    pub reference: String,
    /// The digest of the image's root index or manifest.
    pub digest: Option<String>,
    /// Whether no finding is an error.
    pub ok: bool,
    /// Every finding, ordered by rule, then platform, then path.
    pub findings: Vec<Finding>,
    /// One row per Desktop host.
    pub matrix: Vec<MatrixRow>,
}
