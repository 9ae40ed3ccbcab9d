//! The Dockerfile as the builder needs it: stages of instructions with their line numbers,
//! arguments still raw (variables are expanded per platform when the stage is built).

use parse_dockerfile::{
    Command, Flag, HealthcheckArguments, Instruction, JsonOrStringArray, Source,
};

use std::path::Path;

use crate::error::{BuildError, Place};

/// Reads the Dockerfile at `path`, refusing anything but a regular file before opening it:
/// opening a FIFO would wait for a writer forever.
pub(crate) fn read(path: &Path) -> Result<String, BuildError> {
    let read_error = |source| BuildError::ReadDockerfile {
        path: path.to_path_buf(),
        source,
    };
    let metadata = fs_err::metadata(path).map_err(read_error)?;
    if !metadata.is_file() {
        return Err(BuildError::DockerfileNotAFile {
            path: path.to_path_buf(),
            kind: crate::context::kind_of(&metadata.file_type()),
        });
    }
    fs_err::read_to_string(path).map_err(read_error)
}

/// A parsed Dockerfile.
#[derive(Clone, Debug)]
pub(crate) struct Dockerfile {
    /// The name used in messages, such as `Dockerfile`.
    pub file: String,
    /// The escape character (`\` unless the `escape` directive says otherwise).
    pub escape: char,
    /// `ARG`s before the first `FROM`, raw.
    pub global_args: Vec<Located<String>>,
    /// The stages in order.
    pub stages: Vec<Stage>,
}

/// A value with the line it came from.
#[derive(Clone, Debug)]
pub(crate) struct Located<T> {
    /// The line, from 1.
    pub line: usize,
    /// The value.
    pub value: T,
}

/// One stage: `FROM` and what follows it.
#[derive(Clone, Debug)]
pub(crate) struct Stage {
    /// Its position, from 0.
    pub index: usize,
    /// Its name from `AS NAME`, lower case as Docker compares them.
    pub name: Option<String>,
    /// The line of its `FROM`.
    pub line: usize,
    /// The image, raw.
    pub image: String,
    /// The `--platform` flag of `FROM`, raw.
    pub platform: Option<String>,
    /// Its instructions after `FROM`.
    pub steps: Vec<Located<Step>>,
}

impl Stage {
    /// The stage's name, or its number, for messages.
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.index.to_string())
    }
}

/// An instruction, arguments raw.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    /// `ARG`.
    Arg(String),
    /// `ENV`.
    Env(String),
    /// `LABEL`.
    Label(String),
    /// `COPY`.
    Copy(CopySpec),
    /// `ADD`.
    Add(CopySpec),
    /// `WORKDIR`.
    Workdir(String),
    /// `USER`.
    User(String),
    /// `EXPOSE`.
    Expose(Vec<String>),
    /// `CMD`.
    Cmd(CommandSpec),
    /// `ENTRYPOINT`.
    Entrypoint(CommandSpec),
    /// `SHELL`.
    Shell(Vec<String>),
    /// `STOPSIGNAL`.
    Stopsignal(String),
    /// `HEALTHCHECK`.
    Healthcheck(HealthcheckSpec),
    /// `VOLUME`.
    Volume(Vec<String>),
    /// `ONBUILD`, its instruction's text as written.
    Onbuild(String),
    /// `MAINTAINER`, deprecated, recorded nowhere.
    Maintainer,
    /// `RUN`: needs a container engine.
    Run,
}

/// The arguments of `COPY` or `ADD`.
#[derive(Clone, Debug)]
pub(crate) struct CopySpec {
    /// Flags: name (without `--`) and raw value.
    pub flags: Vec<(String, Option<String>)>,
    /// Sources.
    pub sources: Vec<SourceSpec>,
    /// Destination, raw.
    pub destination: String,
}

/// A `COPY` source.
#[derive(Clone, Debug)]
pub(crate) enum SourceSpec {
    /// A path, glob or URL, raw.
    Path(String),
    /// An inline file.
    HereDoc {
        /// The delimiter, which names the file when the destination is a folder.
        name: String,
        /// The body.
        content: String,
        /// Whether variables in the body are expanded (the delimiter was not quoted).
        expand: bool,
    },
}

/// `CMD`/`ENTRYPOINT` arguments.
#[derive(Clone, Debug)]
pub(crate) enum CommandSpec {
    /// JSON array, run as given.
    Exec(Vec<String>),
    /// A command line for the shell.
    Shell(String),
}

/// `HEALTHCHECK` arguments.
#[derive(Clone, Debug)]
pub(crate) struct HealthcheckSpec {
    /// Flags: name and raw value.
    pub flags: Vec<(String, Option<String>)>,
    /// The command, or `None` for `HEALTHCHECK NONE`.
    pub command: Option<CommandSpec>,
}

/// The line (from 1) of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn flags(list: &[Flag<'_>]) -> Vec<(String, Option<String>)> {
    list.iter()
        .map(|flag| {
            (
                flag.name.value.to_string(),
                flag.value.as_ref().map(|v| v.value.to_string()),
            )
        })
        .collect()
}

fn command(command: &Command<'_>) -> CommandSpec {
    match command {
        Command::Exec(words) => {
            CommandSpec::Exec(words.value.iter().map(|w| w.value.to_string()).collect())
        }
        Command::Shell(text) => CommandSpec::Shell(text.value.to_string()),
        // The enum is non-exhaustive; a form added later is treated as a command line,
        // which is what Docker does with anything that is not a JSON array.
        _ => CommandSpec::Shell(String::new()),
    }
}

/// The delimiters of the heredocs on the instruction's first line, in order (`<<EOF`,
/// `<<-"EOF"`, `<<'EOF'`).
fn heredoc_names(text: &str, start: usize) -> Vec<String> {
    let line = text[start..].lines().next().unwrap_or("");
    let mut names = Vec::new();
    let mut rest = line;
    while let Some(position) = rest.find("<<") {
        rest = &rest[position + 2..];
        let trimmed = rest.strip_prefix('-').unwrap_or(rest);
        let name: String = trimmed
            .trim_start_matches(['"', '\''])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-' || *c == '.')
            .collect();
        if !name.is_empty() {
            names.push(name);
        }
    }
    names
}

fn copy_spec(
    text: &str,
    start: usize,
    options: &[Flag<'_>],
    sources: &[Source<'_>],
    destination: &str,
) -> CopySpec {
    let mut names = heredoc_names(text, start).into_iter();
    let sources = sources
        .iter()
        .map(|source| match source {
            Source::Path(path) => SourceSpec::Path(path.value.to_string()),
            Source::HereDoc(doc) => SourceSpec::HereDoc {
                name: names.next().unwrap_or_else(|| "EOF".into()),
                content: doc.value.to_string(),
                expand: doc.expand,
            },
            _ => SourceSpec::Path(String::new()),
        })
        .collect();
    CopySpec {
        flags: flags(options),
        sources,
        destination: destination.to_string(),
    }
}

fn words(array: &JsonOrStringArray<'_, 1>) -> Vec<String> {
    match array {
        JsonOrStringArray::Json(words) => words.value.iter().map(|w| w.value.to_string()).collect(),
        JsonOrStringArray::String(words) => words.iter().map(|w| w.value.to_string()).collect(),
    }
}

/// The span start of an instruction, for its line.
fn start_of(instruction: &Instruction<'_>) -> usize {
    match instruction {
        Instruction::Add(i) => i.add.span.start,
        Instruction::Arg(i) => i.arg.span.start,
        Instruction::Cmd(i) => i.cmd.span.start,
        Instruction::Copy(i) => i.copy.span.start,
        Instruction::Entrypoint(i) => i.entrypoint.span.start,
        Instruction::Env(i) => i.env.span.start,
        Instruction::Expose(i) => i.expose.span.start,
        Instruction::From(i) => i.from.span.start,
        Instruction::Healthcheck(i) => i.healthcheck.span.start,
        Instruction::Label(i) => i.label.span.start,
        Instruction::Maintainer(i) => i.maintainer.span.start,
        Instruction::Onbuild(i) => i.onbuild.span.start,
        Instruction::Run(i) => i.run.span.start,
        Instruction::Shell(i) => i.shell.span.start,
        Instruction::Stopsignal(i) => i.stopsignal.span.start,
        Instruction::User(i) => i.user.span.start,
        Instruction::Volume(i) => i.volume.span.start,
        Instruction::Workdir(i) => i.workdir.span.start,
        _ => 0,
    }
}

fn step(text: &str, escape: char, instruction: &Instruction<'_>) -> Step {
    match instruction {
        Instruction::Arg(i) => Step::Arg(i.arguments.value.to_string()),
        Instruction::Env(i) => Step::Env(i.arguments.value.to_string()),
        Instruction::Label(i) => Step::Label(i.arguments.value.to_string()),
        Instruction::Copy(i) => Step::Copy(copy_spec(
            text,
            i.copy.span.start,
            &i.options,
            &i.src,
            &i.dest.value,
        )),
        Instruction::Add(i) => Step::Add(copy_spec(
            text,
            i.add.span.start,
            &i.options,
            &i.src,
            &i.dest.value,
        )),
        Instruction::Workdir(i) => Step::Workdir(i.arguments.value.to_string()),
        Instruction::User(i) => Step::User(i.arguments.value.to_string()),
        Instruction::Expose(i) => {
            Step::Expose(i.arguments.iter().map(|w| w.value.to_string()).collect())
        }
        Instruction::Cmd(i) => Step::Cmd(command(&i.arguments)),
        Instruction::Entrypoint(i) => Step::Entrypoint(command(&i.arguments)),
        Instruction::Shell(i) => {
            Step::Shell(i.arguments.iter().map(|w| w.value.to_string()).collect())
        }
        Instruction::Stopsignal(i) => Step::Stopsignal(i.arguments.value.to_string()),
        Instruction::Healthcheck(i) => Step::Healthcheck(HealthcheckSpec {
            flags: flags(&i.options),
            command: match &i.arguments {
                HealthcheckArguments::Cmd { arguments, .. } => Some(command(arguments)),
                _ => None,
            },
        }),
        Instruction::Volume(i) => Step::Volume(words(&i.arguments)),
        Instruction::Onbuild(i) => {
            Step::Onbuild(logical_line(text, start_of(&i.instruction), escape))
        }
        Instruction::Maintainer(_) => Step::Maintainer,
        _ => Step::Run,
    }
}

/// The instruction starting at `start` as one line, as BuildKit stores an `ONBUILD` trigger:
/// each line ending in the escape character is joined to the next without it, and comment
/// and empty lines inside the instruction are left out.
fn logical_line(text: &str, start: usize, escape: char) -> String {
    let mut line = String::new();
    for (number, physical) in text[start..].split('\n').enumerate() {
        let physical = physical.trim_end();
        let inside = number > 0;
        if inside && (physical.trim_start().starts_with('#') || physical.trim().is_empty()) {
            continue;
        }
        match physical.strip_suffix(escape) {
            Some(continued) => line.push_str(continued),
            None => {
                line.push_str(physical);
                break;
            }
        }
    }
    line.trim().to_string()
}

/// Parses a Dockerfile; `file` names it in messages.
pub(crate) fn parse(text: &str, file: &str) -> Result<Dockerfile, BuildError> {
    let parsed = parse_dockerfile::parse(text).map_err(|error| BuildError::Syntax {
        file: file.to_string(),
        line: error.line().max(1),
        message: format!("{error:#}").to_lowercase(),
    })?;
    let escape = parsed
        .parser_directives
        .escape
        .as_ref()
        .map_or('\\', |directive| directive.value.value);
    let global_args = parsed
        .global_args()
        .map(|arg| Located {
            line: line_of(text, arg.arg.span.start),
            value: arg.arguments.value.to_string(),
        })
        .collect();
    let mut stages = Vec::new();
    for (index, stage) in parsed.stages().enumerate() {
        let from = stage.from;
        let platform = from
            .options
            .iter()
            .find(|flag| flag.name.value == "platform")
            .and_then(|flag| flag.value.as_ref().map(|v| v.value.to_string()));
        if let Some(flag) = from
            .options
            .iter()
            .find(|flag| flag.name.value != "platform")
        {
            return Err(Place {
                file: file.to_string(),
                line: line_of(text, from.from.span.start),
            }
            .invalid(format!("`FROM` has no flag `--{}`", flag.name.value)));
        }
        let steps = stage
            .instructions
            .iter()
            .map(|instruction| Located {
                line: line_of(text, start_of(instruction)),
                value: step(text, escape, instruction),
            })
            .collect();
        stages.push(Stage {
            index,
            name: from.as_.as_ref().map(|(_, name)| name.value.to_lowercase()),
            line: line_of(text, from.from.span.start),
            image: from.image.value.to_string(),
            platform,
            steps,
        });
    }
    Ok(Dockerfile {
        file: file.to_string(),
        escape,
        global_args,
        stages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_steps_and_lines() {
        let text = "ARG BASE=scratch\nFROM $BASE AS ui\nCOPY a b\n\nFROM --platform=$BUILDPLATFORM scratch\n\
                    RUN make\nENV A=1\n";
        let dockerfile = parse(text, "Dockerfile").unwrap();
        assert_eq!(dockerfile.global_args[0].value, "BASE=scratch");
        assert_eq!(dockerfile.stages.len(), 2);
        assert_eq!(dockerfile.stages[0].name.as_deref(), Some("ui"));
        assert_eq!(dockerfile.stages[0].image, "$BASE");
        assert_eq!(dockerfile.stages[0].line, 2);
        assert_eq!(
            dockerfile.stages[1].platform.as_deref(),
            Some("$BUILDPLATFORM")
        );
        let lines: Vec<usize> = dockerfile.stages[1].steps.iter().map(|s| s.line).collect();
        assert_eq!(lines, vec![6, 7]);
        assert!(matches!(dockerfile.stages[1].steps[0].value, Step::Run));
    }

    #[test]
    fn heredocs_keep_their_names_and_bodies() {
        let text = "FROM scratch\nCOPY <<EOF <<'RAW' /dest/\nhello $X\nEOF\nraw $X\nRAW\n";
        let dockerfile = parse(text, "Dockerfile").unwrap();
        let Step::Copy(spec) = &dockerfile.stages[0].steps[0].value else {
            panic!("not a copy")
        };
        let SourceSpec::HereDoc {
            name,
            content,
            expand,
        } = &spec.sources[0]
        else {
            panic!("not a heredoc")
        };
        assert_eq!(
            (name.as_str(), content.as_str(), *expand),
            ("EOF", "hello $X\n", true)
        );
        let SourceSpec::HereDoc { name, expand, .. } = &spec.sources[1] else {
            panic!("not a heredoc")
        };
        assert_eq!((name.as_str(), *expand), ("RAW", false));
        assert_eq!(spec.destination, "/dest/");
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let error = parse("FROM scratch\nBOGUS x\n", "Dockerfile").unwrap_err();
        assert!(error.to_string().starts_with("Dockerfile:2: "), "{error}");
    }
}
