//! `extkit build`: native multi-platform builds.

use std::process::ExitCode;

use super::RegistrySettings;
use crate::cli::BuildArgs;
use crate::failure::Refusal;
use crate::output::Printer;

// TODO(build): the native builder is being written; until it lands this command refuses.
pub fn run(
    _args: &BuildArgs,
    _printer: Printer,
    _settings: &RegistrySettings,
) -> anyhow::Result<ExitCode> {
    Err(Refusal {
        message: "`extkit build` is not available yet".into(),
        hint: Some("build with buildx or buildah and read the result with `oci:DIR:TAG`".into()),
        is_answer: false,
    }
    .into())
}
