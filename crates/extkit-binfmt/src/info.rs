//! The result types: what a file is, which OS and CPUs it targets, and header details.

use std::fmt;

use serde::Serialize;

/// The container format of an inspected file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// An ELF executable, shared object or object file.
    Elf,
    /// A thin (single-architecture) Mach-O file.
    MachO,
    /// A universal ("fat") Mach-O file holding one slice per architecture.
    MachOUniversal,
    /// A Windows Portable Executable.
    Pe,
    /// A text script starting with a `#!` line.
    Script,
    /// A Windows script recognised by its `.cmd`, `.bat` or `.ps1` file name.
    WindowsScript,
    /// None of the above, or too malformed to tell.
    Unknown,
}

impl Format {
    /// The name used in JSON and in human-readable output, e.g. `mach-o-universal`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Elf => "elf",
            Format::MachO => "mach-o",
            Format::MachOUniversal => "mach-o-universal",
            Format::Pe => "pe",
            Format::Script => "script",
            Format::WindowsScript => "windows-script",
            Format::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The operating system a file runs on, in OCI platform form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    /// Linux (ELF with the System V or GNU OS ABI).
    Linux,
    /// macOS (any Mach-O file).
    Darwin,
    /// Windows (PE files and Windows scripts).
    Windows,
    /// Any OS that honours `#!` lines.
    Any,
}

impl Os {
    /// The lower-case name used in JSON and in human-readable output.
    pub fn as_str(self) -> &'static str {
        match self {
            Os::Linux => "linux",
            Os::Darwin => "darwin",
            Os::Windows => "windows",
            Os::Any => "any",
        }
    }
}

impl fmt::Display for Os {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// How an ELF executable gets its libraries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Linking {
    /// Runs without a dynamic loader (no `PT_INTERP`, no `DT_NEEDED`).
    Static,
    /// Needs a dynamic loader or shared libraries.
    Dynamic,
}

impl Linking {
    /// The lower-case name used in JSON and in human-readable output.
    pub fn as_str(self) -> &'static str {
        match self {
            Linking::Static => "static",
            Linking::Dynamic => "dynamic",
        }
    }
}

impl fmt::Display for Linking {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The Windows subsystem a PE file asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Subsystem {
    /// A console program (`IMAGE_SUBSYSTEM_WINDOWS_CUI`).
    Console,
    /// A windowed program (`IMAGE_SUBSYSTEM_WINDOWS_GUI`).
    Gui,
}

impl Subsystem {
    /// The lower-case name used in JSON and in human-readable output.
    pub fn as_str(self) -> &'static str {
        match self {
            Subsystem::Console => "console",
            Subsystem::Gui => "gui",
        }
    }
}

impl fmt::Display for Subsystem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// What an inspection found out about one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BinaryInfo {
    /// The container format.
    pub format: Format,
    /// The target OS, or `None` when it cannot be told.
    pub os: Option<Os>,
    /// One OCI architecture (with variant, e.g. `arm/v7`) per slice, in header order.
    pub architectures: Vec<String>,
    /// Format-specific facts; fields that do not apply are `None`.
    pub details: Details,
}

impl BinaryInfo {
    /// An answer for a file that is none of the known formats.
    pub fn unknown() -> Self {
        BinaryInfo {
            format: Format::Unknown,
            os: None,
            architectures: Vec::new(),
            details: Details::default(),
        }
    }
}

/// Format-specific facts. Every field is always serialized, as `null` when absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Details {
    /// ELF only: static or dynamic linking.
    pub linking: Option<Linking>,
    /// The ELF `PT_INTERP` path, or the interpreter line of a `#!` script.
    pub interpreter: Option<String>,
    /// Mach-O only: the minimum macOS version such as `11.0` (of the first slice when universal).
    pub min_macos: Option<String>,
    /// PE only: console or GUI.
    pub subsystem: Option<Subsystem>,
}
