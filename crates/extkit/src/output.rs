//! The one place that writes to the terminal: data on stdout, everything else on stderr.

use std::io::{self, Write};

use crate::cli::{GlobalArgs, OutputFormat};

/// Writes a command's data and notes the way the global options ask.
#[derive(Clone, Copy, Debug)]
pub struct Printer {
    /// Table or JSON.
    pub format: OutputFormat,
    quiet: bool,
}

impl Printer {
    /// A printer for the global options given.
    pub fn new(global: &GlobalArgs) -> Self {
        Printer {
            format: global.format,
            quiet: global.quiet,
        }
    }

    /// Whether `-q` was given: no notes, and for listings (as `docker images -q`), names only.
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// Writes data to stdout.
    pub fn data(&self, text: &str) -> io::Result<()> {
        let mut stdout = io::stdout().lock();
        stdout.write_all(text.as_bytes())?;
        stdout.flush()
    }

    /// Writes raw bytes to stdout.
    pub fn bytes(&self, bytes: &[u8]) -> io::Result<()> {
        let mut stdout = io::stdout().lock();
        stdout.write_all(bytes)?;
        stdout.flush()
    }

    /// Writes a JSON value to stdout, indented, with a final newline.
    pub fn json(&self, value: &serde_json::Value) -> io::Result<()> {
        let mut text = serde_json::to_string_pretty(value).expect("a JSON value serialises");
        text.push('\n');
        self.data(&text)
    }

    /// Writes an `error: …` line to stderr for a failure that does not stop the command.
    pub fn error_line(&self, text: &str) {
        let _ = writeln!(io::stderr(), "error: {text}");
    }

    /// Writes a note for people to stderr, unless `--quiet` was given.
    pub fn note(&self, text: &str) {
        if !self.quiet {
            note(text);
        }
    }
}

/// Writes a note for people to stderr; callers check `--quiet` first.
pub fn note(text: &str) {
    let _ = writeln!(io::stderr(), "{text}");
}

/// Prints an error with its causes and a hint, as `error: …`, `caused by: …`, `hint: …`.
pub fn print_error(error: &anyhow::Error) {
    let mut stderr = io::stderr().lock();
    let _ = writeln!(stderr, "error: {error}");
    for cause in error.chain().skip(1) {
        let _ = writeln!(stderr, "caused by: {cause}");
    }
    if let Some(hint) = crate::failure::hint(error) {
        let _ = writeln!(stderr, "hint: {hint}");
    }
}

/// A table in the plain style of `docker ls`: no borders, columns separated by spaces.
pub fn plain_table(header: &[&str]) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table
        .load_style(comfy_table::presets::NOTHING)
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
        .set_header(header.iter().copied());
    for column in table.column_iter_mut() {
        column.set_padding((0, 3));
    }
    table
}

/// Renders a table as text lines without trailing spaces.
pub fn render_table(table: &comfy_table::Table) -> String {
    let mut text = String::new();
    for line in table.lines() {
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}
