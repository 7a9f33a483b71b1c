//! Feeds arbitrary bytes through `vigil_sources::read_bytes`, as detected and with a forced
//! format. The reader must never panic, and every error must name a line inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_event::Format;

fn check(data: &[u8], format: Option<Format>) {
    let is_gzip = data.starts_with(&[0x1f, 0x8b]);
    let lines = data.iter().filter(|b| **b == b'\n').count() as u64 + 1;
    for item in vigil_sources::read_bytes("fuzz", data, format) {
        if let Err(e) = item {
            assert!(e.line >= 1, "line 0: {e}");
            assert!(is_gzip || e.line <= lines, "line past the end: {e}");
            assert!(e.to_string().starts_with(&format!("fuzz:{}: ", e.line)));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check(data, None);
    // The first byte picks a forced format (as `--format` would) for a second pass.
    if let Some(first) = data.first() {
        let formats = Format::ALL;
        check(data, Some(formats[usize::from(*first) % formats.len()]));
    }
});
