//! Live collection from Microsoft 365.
//!
//! Three collectors, each polled in a loop by its owner (`vigil collect`, later `vigil serve`):
//!
//! - [`management::ManagementCollector`]: the Office 365 Management Activity API. Starts the
//!   subscriptions, lists content in windows of at most 24 hours inside the 7-day horizon
//!   following `NextPageUri`, fetches blobs concurrently within a request budget with
//!   `PublisherIdentifier` set, and backs off on throttling, disabled subscriptions and
//!   internal errors.
//! - [`signins::SignInCollector`]: Microsoft Graph `auditLogs/signIns`, interactive and
//!   non-interactive, by `createdDateTime` windows, following `@odata.nextLink`.
//! - [`msgtrace::MessageTraceCollector`]: the Reporting Web Service's `MessageTrace`, by
//!   `StartDate`/`EndDate` windows, following `__next`.
//!
//! Delivery contract: a poll hands each [`Batch`] (JSON text of records, in the service's own
//! format, which vigil-sources reads) to the caller's `deliver` callback in order, and marks it
//! committed in memory once the callback returns. Nothing is written until the caller calls
//! `save_checkpoint`, which it does only after persisting whatever it derived from the batches
//! (deduplication ids, engine state). A crash therefore re-delivers at most what was delivered
//! since the last save, and vigil-ingest's persisted deduplication drops those repeats: nothing
//! is lost and nothing is raised twice.

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub mod client;
pub mod management;
pub mod msgtrace;
pub mod signins;

pub use client::{Api, ApiError, Credentials, CredentialsConfig, Endpoints, RetryPolicy};

/// The collectors' clock: wall time plus an offset. Production never moves it; tests move it to
/// the simulated tenant's time so that event times and query windows agree.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Makes the clock read `now` at this instant and run on from there.
    pub fn set_now(&self, now: DateTime<Utc>) {
        let offset = (now - Utc::now()).num_milliseconds();
        self.offset_ms.store(offset, Ordering::Relaxed);
    }
}

/// Which collector a batch came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    ManagementActivity,
    SignIns,
    MessageTrace,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::ManagementActivity => "management_activity",
            SourceKind::SignIns => "sign_ins",
            SourceKind::MessageTrace => "message_trace",
        }
    }
}

/// Records fetched from a service, as JSON text in the service's format.
#[derive(Debug)]
pub struct Batch {
    pub source: SourceKind,
    /// Where it came from, for error messages: `Audit.Exchange/{contentId}`,
    /// `signIns/interactiveUser/{window}`, …
    pub name: String,
    /// A JSON array of records (or an empty array for a window with nothing new).
    pub body: String,
    pub records: usize,
    /// When the collector had the records in hand: the "arrival" of every record in it.
    pub fetched_at: std::time::Instant,
    /// The newest record time in the batch, for the lag metric.
    pub newest_record: Option<DateTime<Utc>>,
}

/// What one poll did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PollReport {
    pub batches: usize,
    pub records: usize,
    pub requests: usize,
    /// Failures that stopped part of the poll (that part is retried at the next poll).
    pub errors: Vec<String>,
}

impl PollReport {
    pub fn merge(&mut self, other: PollReport) {
        self.batches += other.batches;
        self.records += other.records;
        self.requests += other.requests;
        self.errors.extend(other.errors);
    }
}

/// Collection lag of one stream: now minus the newest record delivered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lag {
    pub source: SourceKind,
    /// Content type or sign-in event type.
    pub stream: String,
    pub newest_record: Option<DateTime<Utc>>,
    pub lag_seconds: Option<f64>,
}

fn lag_of(
    source: SourceKind,
    stream: &str,
    newest: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Lag {
    Lag {
        source,
        stream: stream.to_string(),
        newest_record: newest,
        lag_seconds: newest.map(|n| (now - n).num_milliseconds() as f64 / 1000.0),
    }
}

/// Reads a checkpoint file; a missing file is a fresh start.
pub fn load_checkpoint<T: DeserializeOwned + Default>(path: &Path) -> std::io::Result<T> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: unreadable checkpoint: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(e),
    }
}

/// Writes a checkpoint atomically: a temporary file in the same directory, synced, renamed over
/// the old one, directory synced. A crash leaves either the old or the new checkpoint, never a
/// torn one.
pub fn save_checkpoint<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    save_checkpoint_bytes(
        path,
        &serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?,
    )
}

/// [`save_checkpoint`] for bytes already serialised.
pub fn save_checkpoint_bytes(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(d) = dir {
        std::fs::create_dir_all(d)?;
    }
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(d) = dir {
        if let Ok(f) = std::fs::File::open(d) {
            let _ = f.sync_all();
        }
    }
    Ok(())
}

/// How far a windowed stream got: the end of the last window listed completely, the ids seen
/// inside the overlap (so that re-listing it re-delivers nothing), and the newest record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowCursor {
    pub listed_until: Option<DateTime<Utc>>,
    pub seen: std::collections::BTreeMap<String, DateTime<Utc>>,
    pub newest_record: Option<DateTime<Utc>>,
}

impl WindowCursor {
    /// Where the next listing starts: the overlap before the last complete window's end, never
    /// before `floor`; `initial` when nothing was listed yet.
    pub fn next_start(
        &self,
        overlap: chrono::Duration,
        initial: DateTime<Utc>,
        floor: DateTime<Utc>,
    ) -> DateTime<Utc> {
        self.listed_until
            .map_or(initial, |l| l - overlap)
            .max(floor)
    }

    /// Records a delivered item; `prune_before` drops ids too old to be listed again.
    pub fn commit_items(
        &mut self,
        items: &[(String, DateTime<Utc>)],
        newest: Option<DateTime<Utc>>,
    ) {
        for (id, t) in items {
            self.seen.insert(id.clone(), *t);
        }
        if let Some(n) = newest {
            self.newest_record = Some(self.newest_record.map_or(n, |o| o.max(n)));
        }
    }

    /// Marks everything before `until` listed and forgets ids before the overlap.
    pub fn commit_window(&mut self, until: DateTime<Utc>, overlap: chrono::Duration) {
        self.listed_until = Some(self.listed_until.map_or(until, |l| l.max(until)));
        let keep_from = until - overlap - chrono::Duration::minutes(1);
        self.seen.retain(|_, t| *t >= keep_from);
    }
}

/// The time format the Management Activity API takes (`YYYY-MM-DDTHH:MM:SS`, UTC).
pub(crate) fn manage_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// ISO 8601 with `Z`, as Graph filters take it.
pub(crate) fn iso_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Parses any timestamp the services write.
pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Some(ms) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        let digits: String = ms
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '-')
            .collect();
        return DateTime::from_timestamp_millis(digits.parse().ok()?);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    chrono::NaiveDateTime::parse_from_str(s.trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_round_trip_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/cp.json");
        let fresh: WindowCursor = load_checkpoint(&path).unwrap();
        assert_eq!(fresh, WindowCursor::default());
        let mut c = WindowCursor::default();
        let t = parse_time("2022-02-01T04:55:51Z").unwrap();
        c.commit_items(&[("a".into(), t)], Some(t));
        c.commit_window(t, chrono::Duration::minutes(10));
        save_checkpoint(&path, &c).unwrap();
        assert_eq!(load_checkpoint::<WindowCursor>(&path).unwrap(), c);
        assert!(!path.with_extension("tmp").exists());
        std::fs::write(&path, b"{not json").unwrap();
        let err = load_checkpoint::<WindowCursor>(&path).unwrap_err();
        assert!(err.to_string().contains("unreadable checkpoint"), "{err}");
    }

    #[test]
    fn cursor_overlap_prunes_and_floors() {
        let t = parse_time("2022-02-01T12:00:00Z").unwrap();
        let overlap = chrono::Duration::minutes(10);
        let mut c = WindowCursor::default();
        c.commit_items(
            &[
                ("old".into(), t - chrono::Duration::hours(1)),
                ("new".into(), t - chrono::Duration::minutes(5)),
            ],
            None,
        );
        c.commit_window(t, overlap);
        assert!(c.seen.contains_key("new") && !c.seen.contains_key("old"));
        assert_eq!(
            c.next_start(overlap, t, t - chrono::Duration::days(7)),
            t - overlap
        );
        assert_eq!(c.next_start(overlap, t, t), t, "never before the horizon");
    }

    #[test]
    fn times_of_every_service() {
        let t = parse_time("2022-02-01T04:55:51Z").unwrap();
        assert_eq!(parse_time("/Date(1643691351000)/"), Some(t));
        assert_eq!(parse_time("2022-02-01T04:55:51.000"), Some(t));
        assert_eq!(manage_time(t), "2022-02-01T04:55:51");
        assert_eq!(iso_time(t), "2022-02-01T04:55:51Z");
    }
}
