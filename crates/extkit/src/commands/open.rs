//! Opening image locations with the global options: local transports through `extkit-oci`,
//! registries through `extkit-registry`.

mod progress;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use extkit_oci::transport::{self, ImageDestination, ImageSource, Location, Store};
use extkit_oci::{Digest, ImageReference};
use extkit_registry::{RegistryDestination, RegistryOptions, RegistrySource};

use crate::cli::{GlobalArgs, OutputFormat};
use crate::failure::{Explained, Refusal, registry_error};

/// What opening a registry location needs from the global options.
#[derive(Clone, Debug, Default)]
pub struct RegistrySettings {
    /// `--insecure`: HTTPS without certificate checks, falling back to plain HTTP.
    pub insecure: bool,
    /// `--ca-cert`: extra certificate authorities.
    pub ca_certs: Vec<PathBuf>,
    /// `--quiet`: no notes and no progress.
    pub quiet: bool,
    /// Whether transfers draw progress bars: stderr is a terminal, without `-q` or
    /// `--format json`.
    pub progress: bool,
}

impl RegistrySettings {
    /// The settings the global options ask for.
    pub fn new(global: &GlobalArgs) -> Self {
        RegistrySettings {
            insecure: global.insecure,
            ca_certs: global.ca_cert.iter().cloned().collect(),
            quiet: global.quiet,
            progress: !global.quiet
                && global.format == OutputFormat::Table
                && std::io::stderr().is_terminal(),
        }
    }

    /// The registry client's options: Docker's defaults and environment, these settings.
    fn registry_options(&self) -> RegistryOptions {
        let mut options = RegistryOptions::from_environment();
        options.insecure = self.insecure;
        options.ca_certs = self.ca_certs.clone();
        if self.progress {
            options.progress = Some(Arc::new(progress::Bars::new()));
        }
        options
    }

    fn note(&self, text: &str) {
        if !self.quiet {
            crate::output::note(text);
        }
    }
}

/// Parses an image location and opens it for reading.
pub fn open_image(
    text: &str,
    settings: &RegistrySettings,
) -> anyhow::Result<(Location, Box<dyn ImageSource>)> {
    let location: Location = text.parse()?;
    let source = match open_source(&location, settings) {
        Ok(source) => source,
        // Already says what it could not read, and why.
        Err(error) if error.is::<Explained>() => return Err(error),
        Err(error) => return Err(error.context(format!("cannot read `{text}`"))),
    };
    Ok((location, source))
}

/// Opens a location for reading.
pub fn open_source(
    location: &Location,
    settings: &RegistrySettings,
) -> anyhow::Result<Box<dyn ImageSource>> {
    match location {
        Location::Named(reference) => {
            // A bare reference is looked up in the local store first, as Docker does, then
            // in its registry.
            let store = Store::open_default()?;
            if store.find(reference)?.is_some() {
                settings.note(&format!(
                    "using {} from the local store",
                    reference.familiar()
                ));
                return Ok(Box::new(store.source(reference)?));
            }
            settings.note(&format!(
                "{} is not in the local store; reading it from the registry",
                reference.familiar()
            ));
            open_registry_source(reference, settings)
                .map_err(|error| not_in_store(reference, error).into())
        }
        Location::Registry(reference) => open_registry_source(reference, settings),
        local => Ok(transport::open_source(local)?),
    }
}

/// The error for a bare name the store does not hold and its registry did not give: it
/// says both, since `-q` hides the note that the store was looked in first.
fn not_in_store(reference: &ImageReference, error: anyhow::Error) -> Explained {
    let unreachable = error.chain().any(|cause| {
        matches!(
            registry_error(cause),
            Some(extkit_registry::Error::Connection { .. })
        )
    });
    let name = reference.familiar();
    let registry = reference.registry();
    let message = if unreachable {
        format!("`{name}` is not in the local store, and {registry} could not be reached")
    } else {
        format!("`{name}` is not in the local store, and reading it from {registry} failed")
    };
    let hint = format!(
        "`extkit images` lists the store; build the image with `extkit build -t {name}`, or \
         check the network and the name"
    );
    Explained {
        message,
        hint: Some(hint),
        source: error.into(),
    }
}

fn open_registry_source(
    reference: &ImageReference,
    settings: &RegistrySettings,
) -> anyhow::Result<Box<dyn ImageSource>> {
    Ok(Box::new(RegistrySource::open(
        reference,
        &settings.registry_options(),
    )?))
}

/// Parses an image location and opens it for writing; a bare reference means its registry,
/// as in `crane copy`. For a copy from `source`, a registry destination mounts blobs from the
/// source's repository when both are in the same registry.
pub fn open_output(
    text: &str,
    settings: &RegistrySettings,
    source: Option<&Location>,
) -> anyhow::Result<(Location, Box<dyn ImageDestination>)> {
    let location: Location = text.parse()?;
    // `x.tar` is a valid image name, but as a destination it is surely a file.
    if let Location::Named(_) = &location
        && [".tar", ".tgz", ".tar.gz"]
            .iter()
            .any(|end| text.ends_with(end))
    {
        return Err(Refusal {
            message: format!("`{text}` looks like a file name, not an image to push"),
            hint: Some(format!(
                "write `oci-archive:{text}` for an OCI archive or `docker-archive:{text}` for \
                 `docker load`; `docker://{text}` if it really is a registry name"
            )),
            is_answer: false,
        }
        .into());
    }
    let destination = match &location {
        Location::Registry(reference) | Location::Named(reference) => {
            open_registry_destination(reference, settings, source)
        }
        local => transport::open_destination(local).map_err(anyhow::Error::from),
    }
    .with_context(|| format!("cannot write `{text}`"))?;
    Ok((location, destination))
}

/// Refuses a destination `text` whose reference names a digest other than the one that will
/// be `written` (`None` when it is not known before the write, as for a build or a copy of
/// chosen platforms): a registry would store the image under its own digest, and the name
/// asked for would not exist. `written` is asked only when a digest is named, since finding
/// it may cost a request.
pub(super) fn refuse_other_digest(
    location: &Location,
    text: &str,
    written: impl FnOnce() -> anyhow::Result<Option<Digest>>,
) -> anyhow::Result<()> {
    let (Location::Registry(reference) | Location::Named(reference) | Location::Store(reference)) =
        location
    else {
        return Ok(());
    };
    let Some(named) = reference.digest() else {
        return Ok(());
    };
    let message = match written()? {
        Some(written) if written == *named => return Ok(()),
        Some(written) => {
            format!("`{text}` names the digest `{named}`, but the image is `{written}`")
        }
        None => format!(
            "`{text}` names a digest, and the digest of what is written is not known before"
        ),
    };
    Err(Refusal {
        message,
        hint: Some("give the destination a tag (`NAME:TAG`); the digest written is printed".into()),
        is_answer: false,
    }
    .into())
}

fn open_registry_destination(
    reference: &ImageReference,
    settings: &RegistrySettings,
    source: Option<&Location>,
) -> anyhow::Result<Box<dyn ImageDestination>> {
    let mut destination = RegistryDestination::open(reference, &settings.registry_options())?;
    if let Some(Location::Registry(source) | Location::Named(source)) = source {
        destination.mount_from(source);
    }
    Ok(Box::new(destination))
}
