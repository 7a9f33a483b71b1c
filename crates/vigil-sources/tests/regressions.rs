//! Replays every input in tests/regressions/ (crashes found by fuzzing and property tests): the
//! reader must not panic on any of them, detected or with any forced format.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use vigil_event::Format;

#[test]
fn every_regression_input_reads_without_panicking() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            p.is_file() && !name.starts_with('.') && name != "README.md"
        })
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no regression inputs in {}",
        dir.display()
    );
    let mut failures = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let formats = std::iter::once(None).chain(Format::ALL.into_iter().map(Some));
        for format in formats {
            let run = catch_unwind(AssertUnwindSafe(|| {
                for item in vigil_sources::read_bytes("regression", &bytes, format) {
                    if let Err(e) = item {
                        assert!(e.line >= 1, "{e}");
                    }
                }
            }));
            if run.is_err() {
                failures.push(format!("{} (format {format:?})", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "panicked on: {failures:#?}");
}

#[test]
fn the_mail_address_regression_still_reads_its_records() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/regressions/proptest-mailaddress-multibyte-at-byte-5.jsonl");
    let bytes = std::fs::read(path).unwrap();
    let events: Vec<_> = vigil_sources::read_bytes("r.jsonl", &bytes, None)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].kind.name(), "inbox_rule");
    assert_eq!(events[1].kind.name(), "mailbox_forwarding");
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/regressions/proptest-mailaddress-multibyte-message-trace.jsonl");
    let bytes = std::fs::read(path).unwrap();
    let events: Vec<_> = vigil_sources::read_bytes("m.jsonl", &bytes, None)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind.name(), "message_trace");
}
