//! Native multi-platform builds of Dockerfiles whose target stage only copies files.
//!
//! The Dockerfile is parsed once (`parse-dockerfile`, syntax only); each platform's target
//! stage is then built in its own thread: `FROM` (nothing, an earlier stage, a named context
//! or a base image whose layers are kept as stored), arguments with BuildKit's automatic
//! platform arguments, the configuration instructions, and `COPY`/`ADD` from the context (less
//! its `.dockerignore`), a stage, a named context, an image or (`ADD`) a URL. A `RUN` the target needs is
//! refused with its line. Layers are reproducible: fixed order, owners from the instruction,
//! every time from `SOURCE_DATE_EPOCH`; a layer shared by platforms is made and compressed
//! once, in chunks on every core.

mod build;
mod compress;
mod config;
mod context;
mod copy;
mod cycles;
mod dockerfile;
mod download;
mod error;
mod expand;
mod ignore;
mod image;
mod stage;
mod tree;

pub use build::{BuildOptions, DockerfileInput, build, host_platform, parse_assignment};
pub use download::UrlFetcher;
pub use error::{BrokenLink, BuildError};
pub use image::ImageOpener;
