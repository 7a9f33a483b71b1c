//! Helpers shared by the integration tests: reading fixtures and pulling typed kinds out of events.
#![allow(dead_code)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use vigil_event::{Event, Timestamp};
use vigil_sources::{FileReader, RecordError};

pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn fixture(name: &str) -> PathBuf {
    fixture_dir().join(name)
}

/// Every event and every error of a file, in order of appearance.
pub fn read_path(path: &Path) -> (Vec<Event>, Vec<RecordError>) {
    let reader = FileReader::open(path, None, Arc::new(AtomicU64::new(0)))
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let mut events = Vec::new();
    let mut errors = Vec::new();
    for item in reader {
        match item {
            Ok(e) => events.push(e),
            Err(e) => errors.push(e),
        }
    }
    (events, errors)
}

pub fn read_fixture(name: &str) -> (Vec<Event>, Vec<RecordError>) {
    read_path(&fixture(name))
}

/// The events of a fixture that must read without a single error.
pub fn events(name: &str) -> Vec<Event> {
    let (events, errors) = read_fixture(name);
    assert!(
        errors.is_empty(),
        "{name}: unexpected errors: {:#?}",
        errors.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
    events
}

/// Errors as `path:line: ...` text, with the fixture directory shortened to `fixtures/`.
pub fn error_lines(errors: &[RecordError]) -> Vec<String> {
    let dir = format!("{}/", fixture_dir().display());
    errors
        .iter()
        .map(|e| e.to_string().replacen(&dir, "fixtures/", 1))
        .collect()
}

pub fn by_id<'e>(events: &'e [Event], id: &str) -> &'e Event {
    events
        .iter()
        .find(|e| &*e.id == id)
        .unwrap_or_else(|| panic!("no event with id {id}"))
}

pub fn ts(text: &str) -> Timestamp {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("bad test timestamp {text}: {e}"))
        .with_timezone(&chrono::Utc)
}

pub fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().expect("test ip"))
}

pub fn s(text: &str) -> Option<Box<str>> {
    Some(text.into())
}

/// The events with `raw` blanked, for snapshots: the raw record is the fixture itself.
pub fn without_raw(events: &[Event]) -> Vec<Event> {
    events
        .iter()
        .cloned()
        .map(|mut e| {
            e.raw = Arc::from("");
            e
        })
        .collect()
}

/// Extracts a typed kind or fails naming what the event was instead.
#[macro_export]
macro_rules! kind {
    ($event:expr, $variant:ident) => {
        match &$event.kind {
            vigil_event::EventKind::$variant(k) => k,
            other => panic!(
                "{}: expected {}, got {}",
                $event.id,
                stringify!($variant),
                other.name()
            ),
        }
    };
}
