//! The command line: every command, argument and global option, defined once.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Examples:
  extkit init my-ext --name acme/my-ext        start a new extension
  extkit build my-ext -t acme/my-ext:1.0.0     build linux/amd64 and linux/arm64, then validate
  extkit validate acme/my-ext:1.0.0            what each Docker Desktop user would get
  extkit install acme/my-ext:1.0.0 --host darwin/arm64 --root /tmp/ext
  extkit copy acme/my-ext:1.0.0 docker://registry.example.com/acme/my-ext:1.0.0

Images are named in skopeo's syntax:
  NAME[:TAG]                  read: the local store, else the registry; written: the registry
  store:NAME[:TAG]            the local store only
  docker://REF                a registry
  oci:DIR[:TAG]               an OCI image layout folder
  oci-archive:FILE[:TAG]      an OCI image layout in a tar file
  docker-archive:FILE[:REF]   the `docker save` format (one platform per image)

Exit codes: 0 success, 1 the answer is no (validation failed, platform missing), 2 the command
could not run.

Run `extkit help COMMAND` for a command's options and examples, and `extkit completions SHELL`
for tab completion.";

/// Build, check, publish and install multi-architecture Docker Desktop extensions.
#[derive(Debug, Parser)]
#[command(name = "extkit", version, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    /// Options every command understands.
    #[command(flatten)]
    pub global: GlobalArgs,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command understands.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Show debug logs on stderr; twice for trace logs.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Print no progress and no notes; only data and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Talk to registries over HTTPS without checking certificates, falling back to plain
    /// HTTP (Docker's insecure-registry setting).
    #[arg(long, global = true)]
    pub insecure: bool,

    /// Trust the certificate authorities in FILE (PEM) for registries, beside the system's.
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// Output format of commands that print data.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// How data is printed on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned text for people.
    Table,
    /// JSON for programs; field names are stable.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a new extension project that builds for both platforms and validates.
    #[command(after_help = INIT_HELP)]
    Init(InitArgs),

    /// Build a Dockerfile for several platforms at once, natively, reproducibly.
    #[command(after_help = BUILD_HELP)]
    Build(BuildArgs),

    /// Show an image's index or manifest: its platforms, digests and sizes.
    #[command(after_help = INSPECT_HELP)]
    Inspect(InspectArgs),

    /// Check an extension image (or a metadata.json) against every rule Docker Desktop and the
    /// Marketplace apply, and show what each Desktop user would receive.
    #[command(after_help = VALIDATE_HELP)]
    Validate(ValidateArgs),

    /// Install an extension as Docker Desktop does, for this machine or a simulated one.
    #[command(after_help = INSTALL_HELP)]
    Install(InstallArgs),

    /// Install a new version of an installed extension and say what changed.
    #[command(after_help = UPDATE_HELP)]
    Update(InstallArgs),

    /// List installed extensions.
    #[command(name = "ls", after_help = LS_HELP)]
    List(RootArgs),

    /// Remove an installed extension.
    #[command(name = "rm", after_help = RM_HELP)]
    Remove(RemoveArgs),

    /// Copy an image between locations, with all its platforms unless told otherwise.
    #[command(after_help = COPY_HELP)]
    Copy(CopyArgs),

    /// Send an image from the local store to a registry, with all its platforms.
    #[command(after_help = PUSH_HELP)]
    Push(PushArgs),

    /// Fetch an image from a registry into the local store, with all its platforms.
    #[command(after_help = PULL_HELP)]
    Pull(PullArgs),

    /// List the images in the local store.
    #[command(after_help = IMAGES_HELP)]
    Images,

    /// Give an image in the local store another name.
    #[command(after_help = TAG_HELP)]
    Tag(TagArgs),

    /// Remove names from the local store (the content goes at the next `store gc`).
    #[command(after_help = RMI_HELP)]
    Rmi(RmiArgs),

    /// Check or clean the local store.
    #[command(subcommand, after_help = STORE_HELP)]
    Store(StoreCommand),

    /// Tell which OS and CPUs executables are really for, from their headers.
    #[command(after_help = BINFO_HELP)]
    Binfo(BinfoArgs),

    /// Print a tab-completion script for a shell.
    #[command(after_help = COMPLETIONS_HELP)]
    Completions(CompletionsArgs),
}

const INIT_HELP: &str = "\
Writes into DIR (created when missing; refused when not empty): a Dockerfile whose only stage
copies files, picking per-CPU files with TARGETARCH; metadata.json; icon.svg; ui/index.html; a
.dockerignore; and a Makefile with build-extension, validate, install-extension and
push-extension targets (IMAGE and TAG variables; EXTKIT names the extkit binary). The labels
hold placeholders that `extkit validate` reports as label-placeholder warnings until they are
filled in. With --host-binary NAME, metadata.json names NAME for macOS, Linux and Windows and
host/{amd64,arm64}/{darwin,linux,windows}/ hold placeholder scripts to replace with the real
binaries. Prints the files written on stdout.

Examples:
  extkit init my-ext
  extkit init my-ext --name acme/my-ext --host-binary my-cli
  extkit init my-ext && extkit build my-ext -t my-ext:0.1.0
  make -C my-ext push-extension IMAGE=registry.example.com/acme/my-ext TAG=0.1.0

Exit codes: 0 written, 2 the folder is not empty or could not be written.";

/// Arguments of `extkit init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The new project's folder.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// The image name, such as `acme/my-ext` (default: the folder's name); the title is its
    /// last part.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Add a host binary of this file name for macOS, Linux and Windows, as placeholders.
    #[arg(long, value_name = "NAME")]
    pub host_binary: Option<String>,
}

const COMPLETIONS_HELP: &str = "\
Examples:
  extkit completions bash > ~/.local/share/bash-completion/completions/extkit
  extkit completions zsh > ~/.zfunc/_extkit
  extkit completions fish > ~/.config/fish/completions/extkit.fish

Exit codes: 0 printed, 2 bad arguments.";

/// Arguments of `extkit completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write the script for.
    #[arg(value_name = "SHELL", value_enum)]
    pub shell: clap_complete::Shell,
}

const VALIDATE_HELP: &str = "\
Every variant is checked: labels from the configs; from the layers only the files metadata.json
names (icon, UI, compose file, host binaries), whose headers must match the variant's CPU. The
Desktop matrix then shows, for macOS, Windows and Linux on amd64 and arm64, the variant Desktop
would pull and whether each host binary runs natively, emulated, or not at all.

Examples:
  extkit validate oci:build/layout:latest
  extkit validate acme/my-ext:1.0.0 --marketplace --format json
  extkit validate metadata.json
  extkit validate --list-rules

Exit codes: 0 no error (warnings allowed), 1 at least one error, 2 validation could not run.";

/// Arguments of `extkit validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The image, or a metadata.json file (an existing file wins over a reference spelled the
    /// same).
    #[arg(value_name = "IMAGE|PATH", required_unless_present = "list_rules")]
    pub image: Option<String>,

    /// Apply the Marketplace's rules too: its recommendations become errors.
    #[arg(long)]
    pub marketplace: bool,

    /// Check the `com.docker.desktop.extension.api.version` label against this SDK version.
    #[arg(long, value_name = "VERSION")]
    pub sdk_version: Option<String>,

    /// Print every rule with its id and severity, and exit.
    #[arg(long)]
    pub list_rules: bool,
}

const INSTALL_HELP: &str = "\
Desktop pulls the linux image for the user's CPU and copies the host binaries for the user's OS.
`--host darwin/arm64` shows what an Apple silicon Mac gets, from any machine. Files land in one
folder per extension (`acme/my-ext` → `acme_my-ext`) under the install root: metadata.json,
labels.json, the icon, ui/, host/, vm/docker-compose.yaml and install.json. The root is
`extensions/` in extkit's data folder ($EXTKIT_HOME), never Docker Desktop's own folder.

Examples:
  extkit install acme/my-ext:1.0.0
  extkit install oci:build/layout:latest --host darwin/arm64 --root /tmp/ext
  extkit install acme/my-ext:1.0.0 --dry-run

Exit codes: 0 installed, 1 refused (no image for the host's CPU, errors in the rules that concern
this host, already installed), 2 the install could not run.";

const UPDATE_HELP: &str = "\
Examples:
  extkit update acme/my-ext:1.1.0

Exit codes: 0 updated, 1 refused, 2 the update could not run.";

const LS_HELP: &str = "\
Examples:
  extkit ls
  extkit ls --root /tmp/ext --format json

Exit codes: 0 listed, 2 the install root could not be read.";

const RM_HELP: &str = "\
NAME is the reference the extension was installed from or its folder name.

Examples:
  extkit rm acme/my-ext
  extkit rm acme_my-ext --root /tmp/ext

Exit codes: 0 removed, 1 not installed, 2 the root could not be changed.";

/// Arguments of `extkit install` and `extkit update`.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The extension image.
    #[arg(value_name = "IMAGE")]
    pub image: String,

    /// The Desktop user's machine to install for, such as `darwin/arm64`; this machine by
    /// default.
    #[arg(long, value_name = "OS/ARCH")]
    pub host: Option<String>,

    /// Install even when the rules find errors, saying what was overridden.
    #[arg(long)]
    pub force: bool,

    /// Show what would be installed, and write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Where extensions are installed.
    #[command(flatten)]
    pub root: RootArgs,
}

/// The install root option shared by install, update, ls and rm.
#[derive(Debug, Args)]
pub struct RootArgs {
    /// The folder extensions are installed in.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

/// Arguments of `extkit rm`.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The extension: the reference it was installed from, or its folder name.
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Where extensions are installed.
    #[command(flatten)]
    pub root: RootArgs,
}

const COPY_HELP: &str = "\
Unlike `skopeo copy`, every platform is copied by default and the index is written byte for
byte, so its digest is kept. `--platform` writes a new index with only those platforms (and
their attestations); a docker-archive holds one platform, so writing to one needs it.

Examples:
  extkit copy oci:build/layout:latest oci-archive:ext.tar:1.0.0
  extkit copy oci:layout:latest docker-archive:ext-arm64.tar:acme/ext:1.0.0 --platform linux/arm64

Prints the digest written on stdout.

Exit codes: 0 copied, 1 a platform asked for is missing, 2 the copy could not run.";

/// Arguments of `extkit copy`.
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// Where to read the image.
    #[arg(value_name = "SOURCE")]
    pub source: String,

    /// Where to write it.
    #[arg(value_name = "DESTINATION")]
    pub destination: String,

    /// Copy only these platforms, comma-separated, such as `linux/amd64,linux/arm64`.
    #[arg(long, value_name = "PLATFORMS", value_delimiter = ',')]
    pub platform: Vec<String>,
}

const PUSH_HELP: &str = "\
Reads NAME from the local store (as `docker push` reads Docker's) and writes it, every platform,
to the registry NAME names, or to DESTINATION when given. The index is sent byte for byte, so its
digest is kept; blobs the registry already has are not sent again. Credentials come from
Docker's config.json ($DOCKER_CONFIG, `docker login`).

Examples:
  extkit push registry.example.com/acme/my-ext:1.0.0
  extkit push acme/my-ext:1.0.0 registry.example.com/acme/my-ext:1.0.0
  extkit build . -t 127.0.0.1:5000/acme/my-ext:dev && extkit push 127.0.0.1:5000/acme/my-ext:dev

Prints the digest written on stdout.

Exit codes: 0 pushed, 2 NAME is not in the store or the push could not run.";

/// Arguments of `extkit push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// An image in the local store, such as `acme/my-ext:1.0.0` or `store:acme/my-ext:1.0.0`.
    #[arg(value_name = "NAME[:TAG]")]
    pub name: String,

    /// The registry reference to write, with or without `docker://` (default: NAME).
    #[arg(value_name = "DESTINATION")]
    pub destination: Option<String>,
}

const PULL_HELP: &str = "\
Unlike `docker pull`, every platform is fetched by default and the index is kept byte for byte,
so its digest is the registry's. The image is named in the store by its full reference
(`acme/ext` is `docker.io/acme/ext:latest`); `--platform` stores a new index with only those
platforms (and their attestations) and prints its digest.

Examples:
  extkit pull registry.example.com/acme/my-ext:1.0.0
  extkit pull docker://127.0.0.1:5000/acme/my-ext:dev --platform linux/arm64
  extkit pull acme/my-ext@sha256:4864955e443ebf91b4df501d119ce41992e0840bba4893e1592b48066c770612

Prints the digest stored on stdout.

Exit codes: 0 pulled, 1 a platform asked for is missing, 2 the pull could not run.";

/// Arguments of `extkit pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// The registry reference, with or without `docker://`.
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Pull only these platforms, comma-separated, such as `linux/amd64,linux/arm64`.
    #[arg(long, value_name = "PLATFORMS", value_delimiter = ',')]
    pub platform: Vec<String>,
}

const IMAGES_HELP: &str = "\
The store is an OCI image layout in `store/` under extkit's data folder ($EXTKIT_HOME, else
$XDG_DATA_HOME/extkit or ~/.local/share/extkit on Linux). Images are named by full reference, so
`skopeo inspect oci:STORE:docker.io/acme/ext:1.0` reads them too.

Examples:
  extkit images
  extkit images --format json
  extkit rmi $(extkit images -q)        -q lists names only (digests of untagged images)

Exit codes: 0 listed, 2 the store could not be read.";

const TAG_HELP: &str = "\
Examples:
  extkit tag acme/ext:dev acme/ext:1.0.0
  extkit tag store:acme/ext:dev 127.0.0.1:5000/acme/ext:1.0.0

Exit codes: 0 tagged, 1 SOURCE is not in the store, 2 bad arguments.";

/// Arguments of `extkit tag`.
#[derive(Debug, Args)]
pub struct TagArgs {
    /// An image in the local store.
    #[arg(value_name = "SOURCE")]
    pub source: String,

    /// The new name.
    #[arg(value_name = "TARGET")]
    pub target: String,
}

const RMI_HELP: &str = "\
Examples:
  extkit rmi acme/ext:dev
  extkit rmi acme/ext:1.0.0 acme/ext:1.0.1 && extkit store gc
  extkit rmi sha256:4864955e…           an untagged image (a build without -t), by digest

Exit codes: 0 every name removed, 1 a name was not in the store, 2 the store could not be
changed.";

/// Arguments of `extkit rmi`.
#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Names of images in the local store, or digests (`sha256:…`) of untagged ones.
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
}

/// The `store` subcommands.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Verify every blob's digest and that every image has all its blobs.
    #[command(after_help = STORE_CHECK_HELP)]
    Check,

    /// Remove blobs no image needs and files left by interrupted writes.
    #[command(after_help = STORE_GC_HELP)]
    Gc,
}

const STORE_HELP: &str = "\
Examples:
  extkit store check
  extkit rmi acme/ext:dev && extkit store gc

Exit codes: 0 done, 1 `store check` found a corrupt or missing blob, 2 the store could not be
read or changed.";

const STORE_CHECK_HELP: &str = "\
Examples:
  extkit store check

Exit codes: 0 the store is sound, 1 a blob is corrupt or missing, 2 the store could not be read.";

const STORE_GC_HELP: &str = "\
Examples:
  extkit store gc

Exit codes: 0 cleaned, 2 the store could not be changed.";

const BINFO_HELP: &str = "\
Formats: elf, mach-o, mach-o-universal, pe, script (#!), windows-script (.cmd, .bat, .ps1),
unknown. Architectures are in OCI platform form (amd64, arm64, arm/v7, 386, ...), one per slice
of a universal binary. Only the headers are read, however large the file.

Examples:
  extkit binfo bin/darwin/kubectl bin/windows/kubectl.exe
  extkit binfo --format json host/*

Exit codes: 0 every file was read, 1 a file could not be read, 2 bad arguments.";

/// Arguments of `extkit binfo`.
#[derive(Debug, Args)]
pub struct BinfoArgs {
    /// The files to inspect.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

const BUILD_HELP: &str = "\
Stages that only copy files (the usual final stage of an extension) are built natively for every
platform at once, with no emulation; a RUN the target stage needs is refused with its line
number and a hint to feed that part in with --build-context. The same context always gives the
same digest (timestamps come from SOURCE_DATE_EPOCH, default 0).

Examples:
  extkit build . -t acme/my-ext:1.0.0
  extkit build . --build-context ui=ui/build --output oci:out:latest

Exit codes: 0 built and valid, 1 built but validation found errors, 2 the build failed.";

/// Arguments of `extkit build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The build context folder.
    #[arg(value_name = "CONTEXT")]
    pub context: PathBuf,

    /// The Dockerfile (default: CONTEXT/Dockerfile); `-` reads it from standard input.
    #[arg(short = 'f', long = "file", value_name = "DOCKERFILE")]
    pub file: Option<PathBuf>,

    /// Target platforms, comma-separated.
    #[arg(
        long,
        value_name = "PLATFORMS",
        value_delimiter = ',',
        default_value = "linux/amd64,linux/arm64"
    )]
    pub platform: Vec<String>,

    /// Name the result in the local store; repeat for several names.
    #[arg(short = 't', long = "tag", value_name = "NAME:TAG")]
    pub tags: Vec<String>,

    /// Set a build argument.
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,

    /// A named folder that stands for a stage or image of that name.
    #[arg(long = "build-context", value_name = "NAME=DIR")]
    pub build_contexts: Vec<String>,

    /// Add a label to the image.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,

    /// Build this stage instead of the last one.
    #[arg(long, value_name = "STAGE")]
    pub target: Option<String>,

    /// Write the image here instead of the local store, such as `oci:out:latest`.
    #[arg(long, value_name = "LOCATION")]
    pub output: Option<String>,

    /// Layer compression.
    #[arg(long, value_enum, default_value_t = LayerCompression::Gzip)]
    pub compression: LayerCompression,

    /// Do not validate the image after building it.
    #[arg(long)]
    pub no_validate: bool,
}

/// Layer compression for `extkit build`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LayerCompression {
    /// gzip at a fast level, read by every tool.
    Gzip,
    /// zstd, smaller and faster; needs a recent engine to pull.
    Zstd,
}

const INSPECT_HELP: &str = "\
Examples:
  extkit inspect oci:examples/hello-layout:latest
  extkit inspect oci:layout:latest --platform linux/arm64 --format json
  extkit inspect oci-archive:ext.tar --raw | sha256sum

Exit codes: 0 shown, 1 the image has no variant for --platform, 2 the image could not be read.";

/// Arguments of `extkit inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The image, such as `oci:DIR:TAG`.
    #[arg(value_name = "IMAGE")]
    pub image: String,

    /// Print the stored bytes of the index or manifest, unchanged.
    #[arg(long)]
    pub raw: bool,

    /// Show the manifest and config chosen for this platform, as a container engine would
    /// choose it.
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
}
