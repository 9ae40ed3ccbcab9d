//! Feed arbitrary bytes to both entry points: neither may panic, and they must agree.

#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;

/// File names that switch on the name-based rules (Windows scripts) or leave them off.
const FILE_NAMES: [Option<&str>; 3] = [None, Some("tool.exe"), Some("setup.cmd")];

fuzz_target!(|data: &[u8]| {
    // The first byte picks the file name, so the fuzzer can explore both rules.
    let file_name = FILE_NAMES[usize::from(data.first().copied().unwrap_or(0)) % FILE_NAMES.len()];

    let from_bytes = extkit_binfmt::inspect_bytes(data, file_name);
    let from_reader = extkit_binfmt::inspect_reader(Cursor::new(data), file_name)
        .expect("reading from memory cannot fail");
    assert_eq!(from_bytes, from_reader);
});
