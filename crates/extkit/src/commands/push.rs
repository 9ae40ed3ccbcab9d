//! `extkit push` (local store → registry) and `extkit pull` (registry → local store), as
//! `docker push` and `docker pull` users expect; both are `extkit copy` with the store on one
//! side.

use std::process::ExitCode;

use anyhow::Context;
use extkit_oci::transport::{Location, Store};
use extkit_oci::{Digest, ImageReference};

use super::copy::{parse_platforms, transfer};
use super::open::{open_source, refuse_other_digest};
use super::store::store_reference;
use super::{RegistrySettings, open_output};
use crate::cli::{PullArgs, PushArgs};
use crate::failure::Refusal;
use crate::output::Printer;

pub fn push(
    args: &PushArgs,
    printer: Printer,
    settings: &RegistrySettings,
) -> anyhow::Result<ExitCode> {
    let reference = store_reference(&args.name)?;
    let store = Store::open_default()?;
    let Some(image) = store.find(&reference)? else {
        return Err(Refusal {
            message: format!(
                "no image named `{}` in the local store",
                reference.familiar()
            ),
            hint: Some(format!(
                "`extkit images` lists the stored images; `extkit build DIR -t {name}` or \
                 `extkit copy SOURCE store:{name}` puts one there",
                name = reference.familiar()
            )),
            is_answer: false,
        }
        .into());
    };
    let source = store
        .open_stored(&image)
        .with_context(|| format!("cannot read `{}` from the local store", args.name))?;

    let destination_text = match &args.destination {
        Some(text) => {
            registry_reference(text, "push", "write to")?;
            text.clone()
        }
        // A name with a digest only is pushed by digest, which registries accept.
        None => {
            format!("docker://{reference}")
        }
    };
    // The store's index names the root by its digest.
    let written = || Ok(Some(Digest::try_from(image.descriptor.digest())?));
    refuse_other_digest(&destination_text.parse()?, &destination_text, written)?;
    let (_, destination) = open_output(&destination_text, settings, None)?;
    transfer(&source, destination, &[], "pushed", printer)
}

pub fn pull(
    args: &PullArgs,
    printer: Printer,
    settings: &RegistrySettings,
) -> anyhow::Result<ExitCode> {
    let reference = registry_reference(&args.reference, "pull", "read from")?;
    let platforms = parse_platforms(&args.platform)?;
    if reference.digest().is_some() && !platforms.is_empty() {
        // The store would name a new index by a digest that is not its own.
        return Err(Refusal {
            message: format!(
                "`{}` names a digest, and --platform would write an index with another digest",
                args.reference
            ),
            hint: Some("pull by tag to choose platforms, or pull every platform".into()),
            is_answer: false,
        }
        .into());
    }
    let source = open_source(&Location::Registry(reference.clone()), settings)
        .with_context(|| format!("cannot read `{}`", args.reference))?;
    let destination = Store::open_default()?
        .destination(Some(&reference))
        .context("cannot write to the local store")?;
    transfer(
        source.as_ref(),
        Box::new(destination),
        &platforms,
        "pulled",
        printer,
    )
}

/// A registry reference, bare or `docker://`; another transport is refused with a hint to
/// `extkit copy`.
fn registry_reference(text: &str, command: &str, action: &str) -> anyhow::Result<ImageReference> {
    match text.parse::<Location>()? {
        Location::Registry(reference) | Location::Named(reference) => Ok(reference),
        other => Err(Refusal {
            message: format!(
                "`extkit {command}` can only {action} a registry, and `{text}` is {}",
                other.kind()
            ),
            hint: Some("use `extkit copy SOURCE DESTINATION` for other locations".into()),
            is_answer: false,
        }
        .into()),
    }
}
