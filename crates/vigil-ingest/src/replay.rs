//! Replaying a set of files as one event stream in event-time order.
//!
//! Files are merged by event time rather than read one after the other: a directory holding a
//! month of audit records and a month of sign-ins must interleave, or every sign-in would be a
//! month late. Each file is first peeked for its first event time; files are opened when the
//! merge reaches that time and closed when exhausted, so only files that overlap in time are
//! open together.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use vigil_event::{Event, Format, Timestamp};
use vigil_report::Summary;
use vigil_sources::{FileReader, RecordError};

use crate::dedup::Deduplicator;
use crate::pipeline::{Ingest, IngestConfig};

/// Options of a replay.
#[derive(Clone, Debug, Default)]
pub struct ReplayOptions {
    /// Parse every file as this format instead of recognising it.
    pub format: Option<Format>,
    /// Stop at the first rejected record.
    pub strict: bool,
    pub ingest: IngestConfig,
    /// Where the deduplication state lives between runs; `None` keeps it in memory only.
    pub state_dir: Option<PathBuf>,
}

/// Why a replay stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("stopped at the first bad record (--strict): {0}")]
    Strict(RecordError),
}

/// Receives progress: total bytes once, then bytes read so far.
pub trait Progress {
    fn start(&self, total_bytes: u64, files: usize);
    fn advance(&self, bytes_read: u64, events: u64);
    fn reject(&self, error: &RecordError);
    fn finish(&self);
}

/// Progress that goes nowhere, for tests and libraries.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: u64, _: usize) {}
    fn advance(&self, _: u64, _: u64) {}
    fn reject(&self, _: &RecordError) {}
    fn finish(&self) {}
}

const DEDUP_FILE: &str = "dedup.bin";

/// Events go to the ordering stage in runs of this many. Record by record, parsing and the
/// ordering stage's steps (deduplication, enrichment, linking, the window) took turns and
/// evicted one another's code from the instruction cache; in runs, each step's code stays in
/// cache for the run. The output is the same either way (see [`Ingest::push_batch`]).
const BATCH: usize = 64;

struct Head {
    reader: FileReader,
    next: Box<Event>,
}

/// Reads `files`, feeding every event, deduplicated, enriched and in event-time order, to
/// `sink`. Returns the run's summary.
pub fn replay(
    files: &[PathBuf],
    options: &ReplayOptions,
    enrich: &(dyn Fn(&mut Event) + Sync),
    progress: &dyn Progress,
    sink: &mut dyn FnMut(Event),
) -> Result<Summary, ReplayError> {
    let started = Instant::now();
    let dedup = match &options.state_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|source| ReplayError::Io {
                path: dir.display().to_string(),
                source,
            })?;
            let path = dir.join(DEDUP_FILE);
            Deduplicator::load(&path, options.ingest.dedup_horizon_days).map_err(|source| {
                ReplayError::Io {
                    path: path.display().to_string(),
                    source,
                }
            })?
        }
        None => Deduplicator::new(options.ingest.dedup_horizon_days),
    };
    let mut ingest = Ingest::new(options.ingest.clone(), dedup, enrich);

    let total_bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    progress.start(total_bytes, files.len());
    let bytes_read = Arc::new(AtomicU64::new(0));

    // Each file's first event time: sniffed from its head, or read when that fails.
    let mut order: Vec<(Option<Timestamp>, &Path)> = Vec::with_capacity(files.len());
    for f in files {
        let first = match vigil_sources::sniff_first_time(f) {
            Some(t) => Some(t),
            None => FileReader::open(f, options.format, Arc::new(AtomicU64::new(0)))
                .map_err(|source| ReplayError::Io {
                    path: f.display().to_string(),
                    source,
                })?
                .take(10_000)
                .find_map(Result::ok)
                .map(|e| e.time),
        };
        order.push((first, f));
    }
    // Files without a readable event go first: they only contribute rejections.
    order.sort_by_key(|(t, _)| *t);

    let mut heads: BinaryHeap<Reverse<(Timestamp, usize)>> = BinaryHeap::new();
    let mut open: Vec<Option<Head>> = Vec::new();
    let mut next_file = 0;
    let mut handled: u64 = 0;
    let mut failure: Option<ReplayError> = None;
    let mut batch: Vec<Box<Event>> = Vec::with_capacity(BATCH);

    // Pulls the next event of a reader, handling rejections on the way.
    let advance = |reader: &mut FileReader,
                   ingest: &mut Ingest,
                   failure: &mut Option<ReplayError>|
     -> Option<Box<Event>> {
        while let Some(item) = reader.next_boxed() {
            match item {
                Ok(e) => return Some(e),
                Err(err) => {
                    progress.reject(&err);
                    ingest.stats.record_rejected(&err);
                    if options.strict {
                        *failure = Some(ReplayError::Strict(err));
                        return None;
                    }
                }
            }
        }
        None
    };

    loop {
        // Open every file whose first event is due.
        while next_file < order.len() {
            let (first, path) = order[next_file];
            let due = match (first, heads.peek()) {
                (_, None) => true,
                (None, _) => true,
                (Some(t), Some(Reverse((head, _)))) => t <= *head,
            };
            if !due {
                break;
            }
            next_file += 1;
            let mut reader =
                FileReader::open(path, options.format, bytes_read.clone()).map_err(|source| {
                    ReplayError::Io {
                        path: path.display().to_string(),
                        source,
                    }
                })?;
            ingest.stats.summary.files += 1;
            if let Some(e) = advance(&mut reader, &mut ingest, &mut failure) {
                heads.push(Reverse((e.time, open.len())));
                open.push(Some(Head { reader, next: e }));
            }
            if let Some(f) = failure.take() {
                ingest.push_batch(&mut batch, sink);
                return Err(f);
            }
        }
        let Some(Reverse((_, idx))) = heads.pop() else {
            break;
        };
        // Advanced in place: a reader is large, and moving it per event shows in profiles.
        let Some(head) = open[idx].as_mut() else {
            continue;
        };
        let following = advance(&mut head.reader, &mut ingest, &mut failure);
        if let Some(f) = failure.take() {
            ingest.push_batch(&mut batch, sink);
            return Err(f);
        }
        let event = match following {
            Some(next) => {
                let event = std::mem::replace(&mut head.next, next);
                heads.push(Reverse((head.next.time, idx)));
                event
            }
            None => match open[idx].take() {
                Some(done) => done.next,
                None => continue,
            },
        };
        batch.push(event);
        if batch.len() == BATCH {
            ingest.push_batch(&mut batch, sink);
        }
        handled += 1;
        if handled.is_multiple_of(4096) {
            progress.advance(
                bytes_read.load(Ordering::Relaxed),
                ingest.stats.summary.events,
            );
        }
    }
    ingest.push_batch(&mut batch, sink);
    ingest.finish(sink);
    progress.advance(
        bytes_read.load(Ordering::Relaxed),
        ingest.stats.summary.events,
    );
    progress.finish();

    let elapsed = started.elapsed().as_secs_f64();
    let mut stats = std::mem::take(&mut ingest.stats);
    stats.summary.bytes = bytes_read.load(Ordering::Relaxed);
    let mut dedup = ingest.into_dedup();
    if let Some(dir) = &options.state_dir {
        let path = dir.join(DEDUP_FILE);
        dedup.save(&path).map_err(|source| ReplayError::Io {
            path: path.display().to_string(),
            source,
        })?;
    }
    Ok(stats.finish(elapsed))
}
