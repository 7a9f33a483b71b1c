//! Counting what the ingest did, for the run summary.

use vigil_event::Event;
use vigil_report::{SourceCount, Summary};
use vigil_sources::RecordError;

/// How many rejections are quoted in the summary.
pub const QUOTED_REJECTIONS: usize = 20;

#[derive(Default)]
pub struct Stats {
    pub summary: Summary,
    /// Indexed by format (each format belongs to one source).
    per_format: Vec<Option<SourceCount>>,
}

impl Stats {
    /// A parsed record, before deduplication.
    pub fn record_read(&mut self, e: &Event) {
        self.summary.records_read += 1;
        let index = e.format as usize;
        if self.per_format.len() <= index {
            self.per_format.resize(index + 1, None);
        }
        let c = self.per_format[index].get_or_insert_with(|| SourceCount {
            source: e.source.as_str().into(),
            format: e.format.as_str().into(),
            ..Default::default()
        });
        c.records += 1;
        if e.is_typed() {
            c.typed += 1;
        } else {
            c.generic += 1;
        }
    }

    /// An event passed on.
    pub fn record_emitted(&mut self, e: &Event) {
        let s = &mut self.summary;
        s.events += 1;
        if e.is_typed() {
            s.typed += 1;
        } else {
            s.generic += 1;
        }
        s.first_event = Some(s.first_event.map_or(e.time, |f| f.min(e.time)));
        s.last_event = Some(s.last_event.map_or(e.time, |l| l.max(e.time)));
    }

    /// A record that could not be read.
    pub fn record_rejected(&mut self, e: &RecordError) {
        self.summary.records_read += 1;
        self.summary.rejected += 1;
        if self.summary.first_rejections.len() < QUOTED_REJECTIONS {
            self.summary.first_rejections.push(e.to_string());
        }
    }

    /// The summary with the per-source table filled in.
    pub fn finish(mut self, elapsed_seconds: f64) -> Summary {
        let mut by_source: Vec<SourceCount> = self.per_format.into_iter().flatten().collect();
        by_source.sort_by(|a, b| (&a.source, &a.format).cmp(&(&b.source, &b.format)));
        self.summary.by_source = by_source;
        self.summary.elapsed_seconds = elapsed_seconds;
        self.summary.records_per_second = if elapsed_seconds > 0.0 {
            self.summary.records_read as f64 / elapsed_seconds
        } else {
            0.0
        };
        self.summary
    }
}
