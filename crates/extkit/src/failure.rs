//! How errors become exit codes and hints.

use std::process::ExitCode;

/// An error whose message is complete and which carries its own hint.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// What went wrong.
    pub message: String,
    /// What to do next.
    pub hint: Option<String>,
    /// Whether this is the answer "no" (exit 1) rather than a failure to run (exit 2).
    pub is_answer: bool,
}

/// An error whose message says in full what went wrong, with its causes kept below it and
/// its own hint, which comes before any hint of its causes.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Explained {
    /// What went wrong.
    pub message: String,
    /// What to do next.
    pub hint: Option<String>,
    /// Why.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync + 'static>,
}

/// The exit code for an error: 1 when the answer is "no", 2 when the command could not run.
pub fn exit_code(error: &anyhow::Error) -> ExitCode {
    for cause in error.chain() {
        // A build that could not finish failed to run, whatever stopped it.
        if cause.downcast_ref::<extkit_build::BuildError>().is_some() {
            return ExitCode::from(2);
        }
        if let Some(refusal) = cause.downcast_ref::<Refusal>() {
            return if refusal.is_answer {
                ExitCode::from(1)
            } else {
                ExitCode::from(2)
            };
        }
        if let Some(extkit_oci::Error::PlatformMissing { .. }) = cause.downcast_ref() {
            return ExitCode::from(1);
        }
        if let Some(error) = cause.downcast_ref::<extkit_install::InstallError>() {
            return if error.is_refusal() {
                ExitCode::from(1)
            } else {
                ExitCode::from(2)
            };
        }
    }
    ExitCode::from(2)
}

/// The hint of the first error in the chain that has one.
pub fn hint(error: &anyhow::Error) -> Option<String> {
    error.chain().find_map(|cause| {
        if let Some(explained) = cause.downcast_ref::<Explained>() {
            return explained.hint.clone();
        }
        if let Some(refusal) = cause.downcast_ref::<Refusal>() {
            return refusal.hint.clone();
        }
        if let Some(error) = registry_error(cause) {
            return error.hint();
        }
        if let Some(error) = cause.downcast_ref::<extkit_build::BuildError>()
            && let Some(hint) = error.hint()
        {
            return Some(hint);
        }
        if let Some(error) = cause.downcast_ref::<extkit_oci::Error>() {
            return error.hint();
        }
        if let Some(error) = cause.downcast_ref::<extkit_install::InstallError>() {
            return error.hint();
        }
        if let Some(extkit_extension::CollectError::Image(error)) = cause.downcast_ref() {
            return error.hint();
        }
        let layer_error = matches!(
            cause.downcast_ref(),
            Some(extkit_extension::CollectError::Layer(_))
        ) || cause.downcast_ref::<extkit_layer::ReadError>().is_some();
        if layer_error {
            return Some(
                "a layer of the image is damaged or not a tar; copy the image again from its source"
                    .into(),
            );
        }
        if let Some(error) = cause.downcast_ref::<std::io::Error>()
            && error.kind() == std::io::ErrorKind::NotFound
        {
            return Some("check that the path exists".into());
        }
        None
    })
}

/// The registry error a cause is or carries: registry failures cross the image traits as
/// I/O errors inside `extkit_oci::Error`.
pub(crate) fn registry_error<'a>(
    cause: &'a (dyn std::error::Error + 'static),
) -> Option<&'a extkit_registry::Error> {
    cause.downcast_ref::<extkit_registry::Error>().or_else(|| {
        cause
            .downcast_ref::<extkit_oci::Error>()
            .and_then(extkit_registry::registry_error)
    })
}
