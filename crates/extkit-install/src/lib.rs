//! Installing Docker Desktop extensions as Desktop does, into a folder extkit owns.
//!
//! An install picks the image variant for the host's CPU with the same platform matching a
//! container engine uses, reads from its layers only the files an extension needs, writes them
//! into a new versioned folder through a directory handle that cannot be escaped, and then
//! switches the extension's name to that folder in one atomic step. Killing the process at any
//! moment leaves the old install or the new one, never a mix.

mod error;
mod host;
mod plan;
mod root;
mod stage;

pub use error::InstallError;
pub use host::Host;
pub use plan::{Plan, read_plan};
pub use root::{InstallRecord, InstallRoot, Installed, folder_name};
