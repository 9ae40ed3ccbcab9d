//! Building stages for one platform: `FROM`, arguments and variables, and every instruction
//! that only copies files or changes the configuration. Stages are built when the target
//! needs them, so a `RUN` in a stage nobody copies from is never looked at.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use extkit_oci::{LayerBlob, Platform};
use serde_json::json;
use tracing::debug;

use crate::config::{Config, parse_duration, ports};
use crate::copy::{CopyLayer, CopyOptions, Destination};
use crate::dockerfile::{
    CommandSpec, CopySpec, Dockerfile, HealthcheckSpec, SourceSpec, Stage, Step,
};
use crate::download::Downloads;
use crate::error::{BuildError, Place};
use crate::expand::{ExpandError, MAX_VALUE_LEN, Quotes, Variables, expand_word, name_values};
use crate::image::{self, BaseImage, ImageOpener};
use crate::tree::{Node, Tree, clean};

/// A layer of a stage: kept as stored from a base image, or made by an instruction.
#[derive(Clone, Debug)]
pub(crate) enum PendingLayer {
    /// A base image's layer, copied as it is.
    Stored(Arc<LayerBlob>),
    /// Entries an instruction adds.
    Built(Arc<Tree>),
}

/// A built stage.
#[derive(Clone, Debug)]
pub(crate) struct StageResult {
    /// Its layers, base first.
    pub layers: Vec<PendingLayer>,
    /// Its configuration.
    pub config: Config,
    /// What is known of its file system without reading base image layers.
    pub known: Tree,
}

impl StageResult {
    /// The whole file system, base image layers read.
    fn tree(&self) -> Result<Tree, Box<dyn std::error::Error + Send + Sync>> {
        let mut tree = Tree::new();
        for layer in &self.layers {
            match layer {
                PendingLayer::Stored(blob) => image::apply_layer(&mut tree, &blob.bytes[..], "")?,
                PendingLayer::Built(entries) => tree.overlay(entries),
            }
        }
        Ok(tree)
    }
}

/// What every platform's build shares.
pub(crate) struct Shared<'a> {
    /// The Dockerfile.
    pub dockerfile: &'a Dockerfile,
    /// The build context.
    pub context: &'a Arc<Tree>,
    /// Named contexts (`--build-context NAME=DIR`).
    pub named: &'a BTreeMap<String, Arc<Tree>>,
    /// `--build-arg`s.
    pub build_args: &'a BTreeMap<String, String>,
    /// Opens base images.
    pub open_image: &'a ImageOpener<'a>,
    /// Fetches `ADD` URLs, once each.
    pub downloads: &'a Downloads<'a>,
    /// The platform the build runs on.
    pub build_platform: Platform,
}

/// Builds the stages one platform needs.
pub(crate) struct Evaluator<'a> {
    shared: &'a Shared<'a>,
    platform: Platform,
    /// Variables for `FROM` lines: automatic platform arguments and global `ARG`s.
    globals: Variables,
    stages: HashMap<usize, Arc<StageResult>>,
    stage_trees: HashMap<usize, Arc<Tree>>,
    images: HashMap<(String, Platform), Arc<BaseImage>>,
    image_trees: HashMap<(String, Platform), Arc<Tree>>,
    building: Vec<usize>,
}

/// `linux/arm64/v8` parts for the automatic arguments.
fn platform_arguments(prefix: &str, platform: &Platform, variables: &mut Variables) {
    variables.insert(format!("{prefix}PLATFORM"), platform.to_string());
    variables.insert(format!("{prefix}OS"), platform.os.clone());
    variables.insert(format!("{prefix}ARCH"), platform.architecture.clone());
    variables.insert(
        format!("{prefix}VARIANT"),
        platform.variant.clone().unwrap_or_default(),
    );
}

impl<'a> Evaluator<'a> {
    /// An evaluator for the target platform `platform`.
    pub fn new(shared: &'a Shared<'a>, platform: Platform) -> Result<Evaluator<'a>, BuildError> {
        crate::cycles::check(shared.dockerfile, &|name| shared.named.contains_key(name))?;
        let mut globals = Variables::new();
        platform_arguments("TARGET", &platform, &mut globals);
        platform_arguments("BUILD", &shared.build_platform, &mut globals);
        let dockerfile = shared.dockerfile;
        for arg in &dockerfile.global_args {
            let place = Place {
                file: dockerfile.file.clone(),
                line: arg.line,
            };
            for (key, default) in name_values(&arg.value, dockerfile.escape, false) {
                let key = expand(&place, &key, &globals, dockerfile.escape)?;
                let value = match (shared.build_args.get(&key), default) {
                    (Some(value), _) => Some(value.clone()),
                    (None, Some(default)) => {
                        Some(expand(&place, &default, &globals, dockerfile.escape)?)
                    }
                    (None, None) => None,
                };
                if let Some(value) = value {
                    globals.insert(key, value);
                }
            }
        }
        Ok(Evaluator {
            shared,
            platform,
            globals,
            stages: HashMap::new(),
            stage_trees: HashMap::new(),
            images: HashMap::new(),
            image_trees: HashMap::new(),
            building: Vec::new(),
        })
    }

    fn place(&self, line: usize) -> Place {
        Place {
            file: self.shared.dockerfile.file.clone(),
            line,
        }
    }

    /// The stage a name stands for: `AS` names (compared in lower case) or numbers, only
    /// among the stages before `before`.
    fn find_stage(&self, name: &str, before: usize) -> Option<usize> {
        let lower = name.to_lowercase();
        let stages = &self.shared.dockerfile.stages[..before];
        stages
            .iter()
            .find(|stage| stage.name.as_deref() == Some(lower.as_str()))
            .or_else(|| name.parse::<usize>().ok().and_then(|n| stages.get(n)))
            .map(|stage| stage.index)
    }

    /// Builds the stage `index` (once per platform).
    pub fn stage(&mut self, index: usize) -> Result<Arc<StageResult>, BuildError> {
        if let Some(done) = self.stages.get(&index) {
            return Ok(done.clone());
        }
        let dockerfile = self.shared.dockerfile;
        let stage = &dockerfile.stages[index];
        if self.building.contains(&index) {
            return Err(self
                .place(stage.line)
                .invalid("stages depend on each other in a loop"));
        }
        self.building.push(index);
        let result = self.build_stage(stage);
        self.building.pop();
        let result = Arc::new(result?);
        self.stages.insert(index, result.clone());
        Ok(result)
    }

    fn build_stage(&mut self, stage: &Stage) -> Result<StageResult, BuildError> {
        // A RUN is refused before anything is read, so no base image is fetched in vain.
        if let Some(run) = stage
            .steps
            .iter()
            .find(|step| matches!(step.value, Step::Run))
        {
            return Err(BuildError::NeedsEngine {
                file: self.place(run.line).file,
                line: run.line,
                instruction: "RUN".into(),
                stage: stage.label(),
                in_target: false,
            });
        }
        let escape = self.shared.dockerfile.escape;
        let place = self.place(stage.line);
        let name = expand(&place, &stage.image, &self.globals, escape)?;
        let platform = match &stage.platform {
            Some(raw) => {
                let text = expand(&place, raw, &self.globals, escape)?;
                text.parse::<Platform>()
                    .map_err(|error| place.invalid(format!("`FROM --platform={text}`: {error}")))?
            }
            None => self.platform.clone(),
        };
        debug!(stage = stage.label(), base = name, %platform, "building a stage");
        let (mut state, triggers) = self.base(&place, &name, &platform, stage.index)?;
        let mut cmd_set = false;
        // The base's ONBUILD triggers run first, as BuildKit runs them; errors name the FROM.
        for trigger in triggers {
            let step = self.trigger_step(&place, &format!("`{name}`"), &trigger)?;
            self.step(&place, stage, &step, &mut state, &mut cmd_set)
                .map_err(|error| BuildError::Trigger {
                    file: place.file.clone(),
                    line: place.line,
                    trigger: trigger.clone(),
                    base: name.clone(),
                    source: Box::new(error),
                })?;
        }
        for step in &stage.steps {
            let place = self.place(step.line);
            self.step(&place, stage, &step.value, &mut state, &mut cmd_set)?;
        }
        Ok(StageResult {
            layers: state.layers,
            config: state.config,
            known: state.known,
        })
    }

    /// The starting point of a stage: nothing, a named context, an earlier stage or an image;
    /// with the base's `ONBUILD` triggers, which the new stage runs and does not keep.
    fn base(
        &mut self,
        place: &Place,
        name: &str,
        platform: &Platform,
        index: usize,
    ) -> Result<(State, Vec<String>), BuildError> {
        if name == "scratch" {
            let state = State::new(Vec::new(), Config::scratch(), Tree::new());
            return Ok((state, Vec::new()));
        }
        if let Some(folder) = self.shared.named.get(name) {
            debug!(name, "the stage starts from a named context");
            let layer = PendingLayer::Built(folder.clone());
            let state = State::new(vec![layer], Config::scratch(), (**folder).clone());
            return Ok((state, Vec::new()));
        }
        if let Some(earlier) = self.find_stage(name, index) {
            let result = self.stage(earlier)?;
            let mut config = result.config.clone();
            let triggers = config.strings("OnBuild");
            config.remove("OnBuild");
            let state = State::new(result.layers.clone(), config, result.known.clone());
            return Ok((state, triggers));
        }
        let image = self.image(place, name, platform)?;
        let layers = image
            .layers
            .iter()
            .map(|layer| PendingLayer::Stored(Arc::new(layer.clone())))
            .collect();
        let known = image.folders(place, name)?;
        let state = State::new(layers, Config::inherit(&image.config), known);
        Ok((state, Config::triggers(&image.config)))
    }

    /// An `ONBUILD` trigger of the base `name`, parsed as the instruction it is.
    fn trigger_step(&self, place: &Place, name: &str, trigger: &str) -> Result<Step, BuildError> {
        let invalid = |reason: String| {
            place.invalid(format!(
                "the ONBUILD trigger `{trigger}` of {name} cannot run: {reason}"
            ))
        };
        let first = trigger.split_whitespace().next().unwrap_or_default();
        if ["ONBUILD", "FROM", "MAINTAINER"]
            .iter()
            .any(|word| first.eq_ignore_ascii_case(word))
        {
            return Err(invalid(format!("{first} is not allowed as a trigger")));
        }
        if trigger.contains("<<") {
            // A trigger is stored as one line, and a here-document's body is not on it.
            return Err(invalid("here-documents cannot be ONBUILD triggers".into()));
        }
        let parsed = crate::dockerfile::parse(&format!("FROM scratch\n{trigger}\n"), &place.file)
            .map_err(|error| invalid(error.to_string()))?;
        match parsed.stages.into_iter().next().map(|stage| stage.steps) {
            Some(steps) if steps.len() == 1 => {
                Ok(steps.into_iter().next().expect("one step").value)
            }
            _ => Err(invalid("it is not one instruction".into())),
        }
    }

    fn image(
        &mut self,
        place: &Place,
        name: &str,
        platform: &Platform,
    ) -> Result<Arc<BaseImage>, BuildError> {
        let key = (name.to_string(), platform.clone());
        if let Some(found) = self.images.get(&key) {
            return Ok(found.clone());
        }
        let image_error = |source| BuildError::Image {
            file: place.file.clone(),
            line: place.line,
            image: name.to_string(),
            source,
        };
        let source = (self.shared.open_image)(name).map_err(image_error)?;
        let loaded = Arc::new(image::load(source.as_ref(), platform).map_err(image_error)?);
        self.images.insert(key, loaded.clone());
        Ok(loaded)
    }

    /// The file system `COPY --from=NAME` reads, with a description and whether its files
    /// are root's. `NAME` may be any stage before `before`: `COPY --from` names later stages
    /// too, as in BuildKit (loops are refused first, by `cycles::check`).
    fn copy_source(
        &mut self,
        place: &Place,
        name: &str,
        before: usize,
    ) -> Result<(Arc<Tree>, String, bool), BuildError> {
        if let Some(folder) = self.shared.named.get(name) {
            return Ok((folder.clone(), format!("the build context `{name}`"), true));
        }
        if let Some(index) = self.find_stage(name, before) {
            if let Some(tree) = self.stage_trees.get(&index) {
                return Ok((tree.clone(), format!("stage `{name}`"), false));
            }
            let result = self.stage(index)?;
            let tree = Arc::new(result.tree().map_err(|error| {
                image::layer_error(place, &format!("stage `{name}`"), error, |error| {
                    place.invalid(format!("cannot read stage `{name}`: {error}"))
                })
            })?);
            self.stage_trees.insert(index, tree.clone());
            return Ok((tree, format!("stage `{name}`"), false));
        }
        let key = (name.to_string(), self.platform.clone());
        if let Some(tree) = self.image_trees.get(&key) {
            return Ok((tree.clone(), format!("the image `{name}`"), false));
        }
        let platform = self.platform.clone();
        let image = self.image(place, name, &platform)?;
        let tree = Arc::new(image::tree_of(&image.layers).map_err(|error| {
            image::layer_error(place, &format!("the image `{name}`"), error, |source| {
                BuildError::Image {
                    file: place.file.clone(),
                    line: place.line,
                    image: name.to_string(),
                    source,
                }
            })
        })?);
        self.image_trees.insert(key, tree.clone());
        Ok((tree, format!("the image `{name}`"), false))
    }

    fn step(
        &mut self,
        place: &Place,
        stage: &Stage,
        step: &Step,
        state: &mut State,
        cmd_set: &mut bool,
    ) -> Result<(), BuildError> {
        let escape = self.shared.dockerfile.escape;
        let variables = state.variables();
        let word = |text: &str| expand(place, text, &variables, escape);
        match step {
            Step::Run => {
                return Err(BuildError::NeedsEngine {
                    file: place.file.clone(),
                    line: place.line,
                    instruction: "RUN".into(),
                    stage: stage.label(),
                    in_target: false,
                });
            }
            Step::Arg(raw) => {
                for (key, default) in name_values(raw, escape, false) {
                    let key = word(&key)?;
                    let value = match (self.shared.build_args.get(&key), default) {
                        (Some(value), _) => Some(value.clone()),
                        (None, Some(default)) => Some(word(&default)?),
                        (None, None) => self.globals.get(&key).cloned(),
                    };
                    debug!(key, ?value, "stage argument");
                    match value {
                        Some(value) => state.args.insert(key, value),
                        None => state.args.remove(&key),
                    };
                }
            }
            Step::Env(raw) => {
                for (key, value) in name_values(raw, escape, true) {
                    let value = word(value.as_deref().unwrap_or(""))?;
                    state.config.set_env(&word(&key)?, &value);
                }
            }
            Step::Label(raw) => {
                for (key, value) in name_values(raw, escape, true) {
                    let value = word(value.as_deref().unwrap_or(""))?;
                    state.config.set_label(&word(&key)?, &value);
                }
            }
            Step::Copy(spec) => self.copy(place, spec, state, &variables, false)?,
            Step::Add(spec) => self.copy(place, spec, state, &variables, true)?,
            Step::Workdir(raw) => {
                let path = word(raw)?;
                no_nul(place, &path)?;
                let path = if path.starts_with('/') {
                    clean(&path)
                } else {
                    clean(&format!(
                        "{}/{path}",
                        state.config.string("WorkingDir").unwrap_or("/")
                    ))
                };
                state.config.set_string("WorkingDir", &format!("/{path}"));
                if !path.is_empty() && state.known.get(&path).is_none() {
                    // Made for the stage's user, as BuildKit makes it, so it can write there.
                    let (uid, gid) = user_ids(state.config.string("User").unwrap_or(""));
                    let mut layer = Tree::new();
                    layer.insert(
                        &path,
                        Node {
                            uid,
                            gid,
                            ..Node::directory(0o755)
                        },
                    );
                    for (parent, node) in state.known.entries() {
                        if path.starts_with(&format!("{parent}/")) && node.is_directory() {
                            layer.insert(parent, node.clone());
                        }
                    }
                    state.known.overlay(&layer);
                    state.layers.push(PendingLayer::Built(Arc::new(layer)));
                }
            }
            Step::User(raw) => state.config.set_string("User", &word(raw)?),
            Step::Expose(raw) => {
                for text in raw {
                    for port in word(text)?.split_whitespace() {
                        for port in ports(port)
                            .map_err(|reason| place.invalid(format!("`EXPOSE` {reason}")))?
                        {
                            state.config.expose(&port);
                        }
                    }
                }
            }
            Step::Cmd(command) => {
                let command = command_line(command, &state.config);
                state.config.set_strings("Cmd", &command);
                *cmd_set = true;
            }
            Step::Entrypoint(command) => {
                let command = command_line(command, &state.config);
                state.config.set_strings("Entrypoint", &command);
                if !*cmd_set {
                    state.config.remove("Cmd");
                }
            }
            Step::Shell(words) => state.config.set_strings("Shell", words),
            Step::Stopsignal(raw) => state.config.set_string("StopSignal", &word(raw)?),
            Step::Healthcheck(spec) => {
                let value = healthcheck(place, spec, &state.config)?;
                state.config.set_value("Healthcheck", value);
            }
            Step::Volume(raw) => {
                for text in raw {
                    state.config.add_volume(&word(text)?);
                }
            }
            Step::Onbuild(text) => {
                // Refused here, as BuildKit refuses it, rather than in every image built on it.
                self.trigger_step(place, "this stage", text)?;
                state.config.add_trigger(text);
            }
            Step::Maintainer => {}
        }
        if matches!(step, Step::Arg(_) | Step::Env(_) | Step::Label(_))
            && state.variables_len() > MAX_VARIABLES_LEN
        {
            return Err(BuildError::VariablesTooLarge {
                file: place.file.clone(),
                line: place.line,
                limit: mebibytes(MAX_VARIABLES_LEN),
            });
        }
        Ok(())
    }

    fn copy(
        &mut self,
        place: &Place,
        spec: &CopySpec,
        state: &mut State,
        variables: &Variables,
        is_add: bool,
    ) -> Result<(), BuildError> {
        let escape = self.shared.dockerfile.escape;
        let word = |text: &str| expand(place, text, variables, escape);
        let instruction = if is_add { "ADD" } else { "COPY" };
        let mut options = CopyOptions {
            extract: is_add,
            from_context: true,
            ..CopyOptions::default()
        };
        let mut from = None;
        let mut checksum = None;
        for (flag, value) in &spec.flags {
            let value = value.as_deref().map(word).transpose()?;
            match (flag.as_str(), value) {
                ("from", Some(value)) => from = Some(value),
                ("checksum", Some(value)) if is_add => {
                    let digest = value.parse::<extkit_oci::Digest>().map_err(|_| {
                        place.invalid(format!(
                            "`--checksum={value}` is not a digest such as `sha256:` and 64 hex \
                             digits"
                        ))
                    })?;
                    checksum = Some(digest);
                }
                ("chmod", Some(value)) => {
                    let mode = u32::from_str_radix(&value, 8)
                        .ok()
                        .filter(|mode| *mode <= 0o7777)
                        .ok_or_else(|| {
                            place.invalid(format!("`--chmod={value}` is not an octal mode"))
                        })?;
                    options.chmod = Some(mode);
                }
                ("chown", Some(value)) => options.chown = Some(owner(place, &value)?),
                ("link", _) => {}
                (other, _) => {
                    return Err(place.unsupported(format!("`{instruction} --{other}`")));
                }
            }
        }
        let (source, origin) = match &from {
            Some(name) => {
                let (tree, origin, from_context) =
                    self.copy_source(place, name, self.shared.dockerfile.stages.len())?;
                options.from_context = from_context;
                (tree, origin)
            }
            None => (self.shared.context.clone(), "the build context".to_string()),
        };
        let destination_text = word(&spec.destination)?;
        no_nul(place, &destination_text)?;
        let destination_path = if destination_text.starts_with('/') {
            destination_text.clone()
        } else {
            let workdir = state.config.string("WorkingDir").unwrap_or("/");
            format!("{}/{destination_text}", workdir.trim_end_matches('/'))
        };
        let destination = Destination {
            path: destination_path,
            existing: &state.known,
        };
        let mut layer = CopyLayer::new();
        let mut patterns = Vec::new();
        let checksum_refused = || place.invalid("`--checksum` needs one source, a URL");
        if checksum.is_some() && spec.sources.len() != 1 {
            return Err(checksum_refused());
        }
        for source_spec in &spec.sources {
            match source_spec {
                SourceSpec::Path(raw) => {
                    let path = word(raw)?;
                    no_nul(place, &path)?;
                    let lower = path.to_ascii_lowercase();
                    let http = lower.starts_with("http://") || lower.starts_with("https://");
                    // BuildKit clones such URLs (`….git`, `….git#REF`) rather than download them.
                    let git = lower
                        .split(['#', '?'])
                        .next()
                        .is_some_and(|u| u.ends_with(".git"));
                    if http && git && is_add {
                        // TODO(build): `ADD` of Git repositories.
                        return Err(
                            place.unsupported(format!("`ADD` of the Git repository `{path}`"))
                        );
                    }
                    if checksum.is_some() && !http {
                        return Err(checksum_refused());
                    }
                    if http && is_add && from.is_none() {
                        if spec.sources.len() > 1 && !destination.is_folder() {
                            return Err(place.invalid(format!(
                                "with several sources the destination `{}` must be a folder \
                                 ending in `/`",
                                destination.path
                            )));
                        }
                        self.shared.downloads.add(
                            place,
                            &path,
                            checksum.as_ref(),
                            &destination,
                            &options,
                            &mut layer,
                        )?;
                        continue;
                    }
                    if http && !is_add {
                        return Err(place.invalid(format!(
                            "COPY takes no URL (`{path}`); use ADD to download a file"
                        )));
                    }
                    if path.contains("://") || path.starts_with("git@") {
                        // TODO(build): `ADD` of Git repositories.
                        return Err(
                            place.unsupported(format!("`{instruction}` of the URL `{path}`"))
                        );
                    }
                    patterns.push(path);
                }
                SourceSpec::HereDoc {
                    name,
                    content,
                    expand,
                } => {
                    let content = if *expand {
                        expand_word(content, variables, escape, Quotes::Keep)
                            .map_err(|error| expand_error(place, error))?
                    } else {
                        content.clone()
                    };
                    layer.inline(name, content, &destination, &options);
                }
            }
        }
        if !patterns.is_empty() {
            layer.copy(place, &source, &origin, &patterns, &destination, &options)?;
        }
        let entries = layer.finish(&state.known);
        state.known.overlay(&entries);
        state.layers.push(PendingLayer::Built(Arc::new(entries)));
        Ok(())
    }
}

/// Refuses a path with a NUL byte, which no file name can hold (the layer writer would
/// stop at it with a message cut off at the NUL).
fn no_nul(place: &Place, path: &str) -> Result<(), BuildError> {
    if !path.contains('\0') {
        return Ok(());
    }
    Err(BuildError::NulInPath {
        file: place.file.clone(),
        line: place.line,
        path: path.replace('\0', "\\0"),
    })
}

/// A stage being built.
struct State {
    layers: Vec<PendingLayer>,
    config: Config,
    known: Tree,
    args: Variables,
}

impl State {
    fn new(layers: Vec<PendingLayer>, config: Config, known: Tree) -> State {
        State {
            layers,
            config,
            known,
            args: Variables::new(),
        }
    }

    /// The bytes the arguments, environment and labels take, keys and values.
    fn variables_len(&self) -> usize {
        let args: usize = self.args.iter().map(|(k, v)| k.len() + v.len()).sum();
        args + self.config.variables_len()
    }

    /// Arguments overlaid by the environment, which wins, as in Docker.
    fn variables(&self) -> Variables {
        let mut variables = self.args.clone();
        variables.extend(self.config.env());
        variables
    }
}

fn expand(
    place: &Place,
    text: &str,
    variables: &Variables,
    escape: char,
) -> Result<String, BuildError> {
    expand_word(text, variables, escape, Quotes::Remove).map_err(|error| expand_error(place, error))
}

fn expand_error(place: &Place, error: ExpandError) -> BuildError {
    match error {
        ExpandError::Invalid(reason) => place.invalid(reason),
        ExpandError::TooLong { variable } => BuildError::ValueTooLong {
            file: place.file.clone(),
            line: place.line,
            variable,
            limit: mebibytes(MAX_VALUE_LEN),
        },
    }
}

/// The most the arguments, environment and labels of a stage may take together.
const MAX_VARIABLES_LEN: usize = 16 << 20;

/// A size in whole mebibytes, for messages.
fn mebibytes(bytes: usize) -> String {
    format!("{} MiB", bytes >> 20)
}

/// A numeric `--chown=UID[:GID]`; a lone UID is also the GID, as in Docker.
fn owner(place: &Place, text: &str) -> Result<(u64, u64), BuildError> {
    let id = |part: &str| match part {
        "root" => Some(0),
        other => other.parse::<u64>().ok(),
    };
    let (user, group) = text.split_once(':').unwrap_or((text, text));
    match (id(user), id(group)) {
        (Some(uid), Some(gid)) => Ok((uid, gid)),
        // TODO(build): look user and group names up in the stage's /etc/passwd and /etc/group.
        _ => Err(place.unsupported(format!("`--chown={text}` with names (use numeric ids)"))),
    }
}

/// The owner a `USER` value gives the folders `WORKDIR` makes: `UID[:GID]` in numbers (group 0
/// when none is given, as for a user missing from `/etc/passwd`).
/// TODO(build): look user names up in the stage's /etc/passwd; until then they give root.
fn user_ids(user: &str) -> (u64, u64) {
    let (user, group) = match user.split_once(':') {
        Some((user, group)) => (user, Some(group)),
        None => (user, None),
    };
    match (user.parse::<u64>(), group.map(str::parse::<u64>)) {
        (Ok(uid), None) => (uid, 0),
        (Ok(uid), Some(Ok(gid))) => (uid, gid),
        _ => (0, 0),
    }
}

fn command_line(command: &CommandSpec, config: &Config) -> Vec<String> {
    match command {
        CommandSpec::Exec(words) => words.clone(),
        CommandSpec::Shell(text) => {
            let mut line = config.shell();
            line.push(text.clone());
            line
        }
    }
}

fn healthcheck(
    place: &Place,
    spec: &HealthcheckSpec,
    config: &Config,
) -> Result<serde_json::Value, BuildError> {
    let Some(command) = &spec.command else {
        return Ok(json!({"Test": ["NONE"]}));
    };
    let test: Vec<String> = match command {
        CommandSpec::Exec(words) => std::iter::once("CMD".to_string())
            .chain(words.iter().cloned())
            .collect(),
        CommandSpec::Shell(text) => vec!["CMD-SHELL".into(), text.clone()],
    };
    let _ = config;
    let mut value = json!({ "Test": test });
    for (flag, text) in &spec.flags {
        let text = text.clone().unwrap_or_default();
        let field = match flag.as_str() {
            "interval" => "Interval",
            "timeout" => "Timeout",
            "start-period" => "StartPeriod",
            "start-interval" => "StartInterval",
            "retries" => {
                let retries: u64 = text
                    .parse()
                    .map_err(|_| place.invalid(format!("`--retries={text}` is not a number")))?;
                value["Retries"] = json!(retries);
                continue;
            }
            other => return Err(place.invalid(format!("`HEALTHCHECK` has no flag `--{other}`"))),
        };
        let nanoseconds = parse_duration(&text)
            .ok_or_else(|| place.invalid(format!("`--{flag}={text}` is not a duration")))?;
        value[field] = json!(nanoseconds);
    }
    Ok(value)
}
