//! Opening image locations with the global options: local transports through `extkit-oci`,
//! registries through the registry client.

use std::path::PathBuf;

use anyhow::Context;
use extkit_oci::transport::{self, ImageDestination, ImageSource, Location, Store};

use crate::cli::GlobalArgs;
use crate::failure::Refusal;

/// What opening a registry location needs from the global options.
// TODO(registry): read by the registry client once `docker://` is wired up.
#[allow(dead_code)]
#[derive(Clone, Debug, Default)]
pub struct RegistrySettings {
    /// `--insecure`: HTTPS without certificate checks, falling back to plain HTTP.
    pub insecure: bool,
    /// `--ca-cert`: extra certificate authorities.
    pub ca_certs: Vec<PathBuf>,
    /// `--quiet`: no notes and no progress.
    pub quiet: bool,
}

impl RegistrySettings {
    /// The settings the global options ask for.
    pub fn new(global: &GlobalArgs) -> Self {
        RegistrySettings {
            insecure: global.insecure,
            ca_certs: global.ca_cert.iter().cloned().collect(),
            quiet: global.quiet,
        }
    }
}

/// Parses an image location and opens it for reading.
pub fn open_image(
    text: &str,
    settings: &RegistrySettings,
) -> anyhow::Result<(Location, Box<dyn ImageSource>)> {
    let location: Location = text.parse()?;
    let source =
        open_source(&location, settings).with_context(|| format!("cannot read `{text}`"))?;
    Ok((location, source))
}

/// Opens a location for reading.
pub fn open_source(
    location: &Location,
    settings: &RegistrySettings,
) -> anyhow::Result<Box<dyn ImageSource>> {
    match location {
        Location::Named(reference) => {
            // A bare reference is looked up in the local store first, as Docker does.
            let store = Store::open_default()?;
            if store.find(reference)?.is_some() {
                if !settings.quiet {
                    crate::output::note(&format!(
                        "using {} from the local store",
                        reference.familiar()
                    ));
                }
                return Ok(Box::new(store.source(reference)?));
            }
            Err(registry_missing(settings).into())
        }
        Location::Registry(_) => Err(registry_missing(settings).into()),
        local => Ok(transport::open_source(local)?),
    }
}

/// Parses an image location and opens it for writing.
pub fn open_output(
    text: &str,
    settings: &RegistrySettings,
) -> anyhow::Result<(Location, Box<dyn ImageDestination>)> {
    let location: Location = text.parse()?;
    let destination = match &location {
        Location::Registry(_) | Location::Named(_) => Err(registry_missing(settings).into()),
        local => transport::open_destination(local).map_err(anyhow::Error::from),
    }
    .with_context(|| format!("cannot write `{text}`"))?;
    Ok((location, destination))
}

// TODO(registry): the `docker://` transport is not wired to a registry client yet, so a
// registry location is refused here with exit code 2.
fn registry_missing(_settings: &RegistrySettings) -> Refusal {
    Refusal {
        message: "registries are not supported yet".into(),
        hint: Some("use a local location: `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]` or `docker-archive:FILE[:REF]`".into()),
        is_answer: false,
    }
}
