//! `extkit build`: native multi-platform builds, written to the local store or any writable
//! location, then validated.

mod download;
mod memory;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use extkit_build::{BuildOptions, DockerfileInput, ImageOpener, parse_assignment};
use extkit_extension::{Options, collect_facts, wanted_files};
use extkit_oci::transport::{ImageDestination, ImageSource, Location, Store, copy_image};
use extkit_oci::{Compression, ImageReference, Platform};

use super::open::refuse_other_digest;
use super::validate::{render_report, tag_of};
use super::{RegistrySettings, open_output};
use crate::cli::{BuildArgs, LayerCompression, OutputFormat};
use crate::failure::Refusal;
use crate::output::Printer;
use memory::MemoryImage;

/// The environment variable that fixes every time in the image, as in reproducible-builds.org.
const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";

pub fn run(
    args: &BuildArgs,
    printer: Printer,
    settings: &RegistrySettings,
) -> anyhow::Result<ExitCode> {
    let options = Inputs::read(args)?;
    let mut tags: Vec<ImageReference> = Vec::new();
    for text in &args.tags {
        let tag = text.parse::<ImageReference>()?;
        if tag.digest().is_some() {
            return Err(Refusal {
                message: format!("`-t {text}` names a digest; an image is named by a tag"),
                hint: Some(
                    "write it as `NAME:TAG`; the digest is printed when the build ends".into(),
                ),
                is_answer: false,
            }
            .into());
        }
        // Named twice, it is written and reported once.
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    // The output is opened first, so a wrong name, an unreachable registry or missing
    // credentials stop the command before the build rather than after it.
    let output = match &args.output {
        Some(text) => {
            refuse_other_digest(&text.parse()?, text, || Ok(None))?;
            let (location, destination) = open_output(text, settings, None)?;
            if destination.holds_one_platform() && options.platforms.len() > 1 {
                return Err(Refusal {
                    message: format!(
                        "`{text}` holds one platform per image, and the build makes {}",
                        options.platforms.len()
                    ),
                    hint: Some(
                        "build one with `--platform`, such as `--platform linux/amd64`, or write \
                         to `oci:` or `oci-archive:`, which keep them all"
                            .into(),
                    ),
                    is_answer: false,
                }
                .into());
            }
            Some((location, destination))
        }
        None => None,
    };

    // Base images are read like any other command's images; each is announced once, though
    // every platform opens it.
    let announced = Mutex::new(BTreeSet::new());
    let opener =
        |name: &str| -> Result<Box<dyn ImageSource>, Box<dyn std::error::Error + Send + Sync>> {
            let location: Location = name.parse()?;
            let first = announced
                .lock()
                .expect("no thread panics holding the names")
                .insert(name.to_string());
            let mut quiet = settings.clone();
            quiet.quiet |= !first;
            quiet.progress &= first;
            Ok(super::open::open_source(&location, &quiet)?)
        };
    let open_image: &ImageOpener<'_> = &opener;

    let started = Instant::now();
    let writer = extkit_build::build(&BuildOptions {
        context: args.context.clone(),
        dockerfile: options.dockerfile,
        platforms: options.platforms.clone(),
        build_args: options.build_args,
        named_contexts: options.named_contexts,
        labels: options.labels,
        target: args.target.clone(),
        compression: match args.compression {
            LayerCompression::Gzip => Compression::Gzip,
            LayerCompression::Zstd => Compression::Zstd,
        },
        source_date_epoch: options.source_date_epoch,
        open_image,
        fetch_url: &|url| download::fetch(url, settings),
        warn: &|message| printer.note(&format!("warning: {message}")),
    })?;
    let image = MemoryImage::default();
    let root = writer.write(image.destination())?;
    drop(writer);
    printer.note(&format!(
        "built {} in {:.2} s",
        options
            .platforms
            .iter()
            .map(Platform::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        started.elapsed().as_secs_f64()
    ));

    // Write everywhere asked before validating, so an invalid image can still be inspected.
    let mut written = Vec::new();
    if let Some((location, destination)) = output {
        let name = destination.describe();
        // A docker-archive takes the one platform's manifest rather than an index.
        let one_platform = destination
            .holds_one_platform()
            .then_some(options.platforms.as_slice());
        copy_image(&image, destination, one_platform)?;
        written.push((name, tag_of(&location)));
    }
    if !tags.is_empty() || args.output.is_none() {
        let store = Store::open_default()?;
        let destination = store.destination(tags.first())?;
        let name = destination.describe();
        copy_image(&image, Box::new(destination), None)?;
        for other in tags.iter().skip(1) {
            store.tag(&tags[0], other)?;
        }
        let mut names: Vec<String> = tags
            .iter()
            .map(|t| format!("store:{}", t.familiar()))
            .collect();
        if names.is_empty() {
            names.push(name);
        }
        let tag = tags.first().and_then(|t| t.tag().map(str::to_string));
        written.push((names.join(", "), tag));
    }
    for (name, _) in &written {
        printer.note(&format!("wrote {}", name));
    }
    let names: Vec<String> = written.iter().map(|(name, _)| name.clone()).collect();
    let summary = |validation: Option<&extkit_extension::Report>| {
        serde_json::json!({
            "digest": root.digest.to_string(),
            "platforms": options.platforms.iter().map(Platform::to_string).collect::<Vec<_>>(),
            "written": names,
            "validation": validation,
        })
    };
    if printer.format == OutputFormat::Table {
        printer.data(&format!("{}\n", root.digest))?;
    }

    if args.no_validate {
        if printer.format == OutputFormat::Json {
            printer.json(&summary(None))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let (name, tag) = written.swap_remove(0);
    let facts = collect_facts(&image, tag.as_deref(), &wanted_files)?;
    let mut report = extkit_extension::validate(&facts, &Options::default());
    report.reference = name;
    match printer.format {
        OutputFormat::Json => printer.json(&summary(Some(&report)))?,
        OutputFormat::Table if !report.ok || !settings.quiet => {
            crate::output::note(render_report(&report).trim_end());
        }
        OutputFormat::Table => {}
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The largest Dockerfile read from standard input.
const MAX_STDIN_DOCKERFILE: u64 = 16 << 20;

/// The Dockerfile given on standard input.
fn read_stdin() -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MAX_STDIN_DOCKERFILE + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_STDIN_DOCKERFILE {
        return Err(Refusal {
            message: "the Dockerfile on standard input is larger than 16 MiB".into(),
            hint: Some("check what is piped into `extkit build -f -`".into()),
            is_answer: false,
        }
        .into());
    }
    String::from_utf8(bytes).map_err(|error| {
        Refusal {
            message: format!(
                "the Dockerfile on standard input is not UTF-8: byte {} starts an invalid \
                 sequence",
                error.utf8_error().valid_up_to()
            ),
            hint: Some("save the Dockerfile as UTF-8".into()),
            is_answer: false,
        }
        .into()
    })
}

/// The command line and environment turned into the builder's inputs.
struct Inputs {
    dockerfile: DockerfileInput,
    platforms: Vec<Platform>,
    build_args: BTreeMap<String, String>,
    named_contexts: BTreeMap<String, PathBuf>,
    labels: BTreeMap<String, String>,
    source_date_epoch: u64,
}

impl Inputs {
    fn read(args: &BuildArgs) -> anyhow::Result<Self> {
        if !args.context.is_dir() {
            return Err(Refusal {
                message: format!(
                    "the build context `{}` is not a folder",
                    args.context.display()
                ),
                hint: Some("give the folder the Dockerfile's COPY paths are relative to".into()),
                is_answer: false,
            }
            .into());
        }
        let dockerfile = match &args.file {
            // `-f -`, as `docker build` and buildx read it.
            Some(path) if path.as_os_str() == "-" => DockerfileInput::Text(read_stdin()?),
            Some(path) => DockerfileInput::File(path.clone()),
            None => DockerfileInput::File(args.context.join("Dockerfile")),
        };

        let mut platforms: Vec<Platform> = Vec::new();
        for text in &args.platform {
            let platform = text.trim().parse::<Platform>()?;
            if !platforms.contains(&platform) {
                platforms.push(platform);
            }
        }

        let mut build_args = BTreeMap::new();
        for text in &args.build_args {
            match parse_assignment("--build-arg", text)? {
                (key, Some(value)) => {
                    build_args.insert(key, value);
                }
                // `--build-arg KEY` takes the value from the environment, or is ignored, as
                // in Docker.
                (key, None) => {
                    if let Ok(value) = std::env::var(&key) {
                        build_args.insert(key, value);
                    }
                }
            }
        }

        let mut labels = BTreeMap::new();
        for text in &args.labels {
            let (key, value) = parse_assignment("--label", text)?;
            labels.insert(key, value.unwrap_or_default());
        }

        let mut named_contexts = BTreeMap::new();
        for text in &args.build_contexts {
            let (name, Some(folder)) = parse_assignment("--build-context", text)? else {
                return Err(Refusal {
                    message: format!("invalid --build-context `{text}`: it has no `=DIR`"),
                    hint: Some("write `--build-context NAME=DIR`".into()),
                    is_answer: false,
                }
                .into());
            };
            let path = PathBuf::from(&folder);
            if !path.is_dir() {
                return Err(Refusal {
                    message: format!(
                        "invalid --build-context `{text}`: `{folder}` is not a folder"
                    ),
                    hint: Some(
                        "a named context is a local folder; images are named in the \
                         Dockerfile itself (`COPY --from=oci:DIR:TAG`)"
                            .into(),
                    ),
                    is_answer: false,
                }
                .into());
            }
            named_contexts.insert(name, path);
        }

        let source_date_epoch = match std::env::var(SOURCE_DATE_EPOCH) {
            Err(_) => 0,
            Ok(text) if text.trim().is_empty() => 0,
            Ok(text) => text.trim().parse::<u64>().map_err(|_| Refusal {
                message: format!(
                    "invalid {SOURCE_DATE_EPOCH} `{text}`: it is not a whole number \
                    of seconds"
                ),
                hint: Some(
                    "set it to seconds since 1970, such as `$(git log -1 --format=%ct)`, \
                    or unset it"
                        .into(),
                ),
                is_answer: false,
            })?,
        };

        Ok(Inputs {
            dockerfile,
            platforms,
            build_args,
            named_contexts,
            labels,
            source_date_epoch,
        })
    }
}
