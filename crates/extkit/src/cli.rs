//! The command line: every command, argument and global option, defined once.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Images are named in skopeo's syntax:
  oci:DIR[:TAG]               an OCI image layout folder
  oci-archive:FILE[:TAG]      an OCI image layout in a tar file
  docker-archive:FILE[:REF]   the `docker save` format (one platform per image)
  docker://REF                a registry

Exit codes: 0 success, 1 the answer is no (validation failed, platform missing), 2 the command
could not run.";

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
    /// Show an image's index or manifest: its platforms, digests and sizes.
    #[command(after_help = INSPECT_HELP)]
    Inspect(InspectArgs),

    /// Copy an image between locations, with all its platforms unless told otherwise.
    #[command(after_help = COPY_HELP)]
    Copy(CopyArgs),

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
    #[command(subcommand)]
    Store(StoreCommand),

    /// Tell which OS and CPUs executables are really for, from their headers.
    #[command(after_help = BINFO_HELP)]
    Binfo(BinfoArgs),
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

const IMAGES_HELP: &str = "\
The store is an OCI image layout in `store/` under extkit's data folder ($EXTKIT_HOME, else
$XDG_DATA_HOME/extkit or ~/.local/share/extkit on Linux). Images are named by full reference, so
`skopeo inspect oci:STORE:docker.io/acme/ext:1.0` reads them too.

Examples:
  extkit images
  extkit images --format json

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

Exit codes: 0 every name removed, 1 a name was not in the store, 2 the store could not be
changed.";

/// Arguments of `extkit rmi`.
#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Names of images in the local store.
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
}

/// The `store` subcommands.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Verify every blob's digest and that every image has all its blobs.
    #[command(
        after_help = "Exit codes: 0 the store is sound, 1 a blob is corrupt or missing, 2 the store could not be read."
    )]
    Check,

    /// Remove blobs no image needs and files left by interrupted writes.
    #[command(after_help = "Exit codes: 0 cleaned, 2 the store could not be changed.")]
    Gc,
}

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
