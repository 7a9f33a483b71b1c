//! From files to one clean event stream: merge files by event time, deduplicate by record id
//! across files and runs, enrich, link the same sign-in seen by the audit log and by Entra, and
//! release events in event-time order within a bounded reordering window.
//!
//! Invariants: nothing is dropped silently (every record is an event, a counted duplicate, a
//! counted linked logon, or a counted rejection); memory is bounded by the reordering buffer
//! cap, the deduplication horizon and the files open at once, not by the input size.

pub mod dedup;
pub mod pipeline;
mod prefetch;
pub mod replay;
pub mod stats;

pub use dedup::Deduplicator;
pub use pipeline::{Ingest, IngestConfig};
pub use replay::{replay, NoProgress, Progress, ReplayError, ReplayOptions};
pub use stats::Stats;
