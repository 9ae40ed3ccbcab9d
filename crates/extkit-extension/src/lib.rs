//! Docker Desktop extensions: what `metadata.json` and the labels mean, the rules Desktop and
//! the Marketplace apply, and what each Desktop user would receive.
//!
//! The rules work on [`ImageFacts`]: plain data gathered from an image by [`collect`], or from
//! a lone `metadata.json`. They do no I/O, so every rule can be tested on hand-made facts.

mod collect;
mod input;

pub use collect::{CollectError, collect_facts};
pub use input::{
    EntryFacts, EntryKind, FileFacts, FileKind, ImageFacts, ReadKind, VariantFacts, WantedFile,
};

mod catalogue;
mod compose;
mod labels;
mod matrix;
mod metadata;
mod paths;
mod report;
mod rules;
mod validate;
mod wanted;

pub use catalogue::{Rule, rules, rules_markdown};
pub use compose::{Compose, Service, parse as parse_compose};
pub use labels::{PLACEHOLDER_PREFIX, PLACEHOLDER_URL};
pub use metadata::{DashboardTab, HostBinary, HostOs, Metadata, Unreadable, Vm, parse_metadata};
pub use report::{Binary, Finding, MatrixRow, Options, Report, Runs, Severity};
pub use validate::{validate, validate_metadata_file};
pub use wanted::wanted_files;
