//! Print what extkit-binfmt finds in each file named on the command line, as JSON lines.

use std::io::Write;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut output = std::io::stdout().lock();
    for argument in std::env::args().skip(1) {
        let info = extkit_binfmt::inspect_path(Path::new(&argument))?;
        writeln!(output, "{argument}: {}", serde_json::to_string(&info)?)?;
    }
    Ok(())
}
