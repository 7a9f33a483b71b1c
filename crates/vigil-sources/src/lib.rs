//! Reading Microsoft 365, Entra ID and message-trace logs exactly as they arrive.
//!
//! [`FileReader`] opens one file (plain or gzip, recognised by its magic bytes), splits it into
//! JSON records whatever its layout (JSON lines, arrays, content blobs, pretty-printed objects,
//! Graph `value` pages, Event Hub `records` envelopes), recognises the shape from the content
//! and yields one [`Event`] per record, or a [`RecordError`] naming the file, line, field and
//! reason. It never panics on any input and never stops at a bad record.
//!
//! Invariant: this crate reads files and parses; it keeps no state across files (deduplication,
//! ordering and enrichment happen downstream in vigil-ingest and vigil-enrich).

use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use vigil_event::{Event, Format};

pub mod audit;
pub mod directory;
pub mod lenient;
pub mod msgtrace;
pub mod signin;
mod sniff;
pub mod split;
mod steps;

pub use sniff::sniff_first_time;

use split::{RecordSplitter, SplitItem};

/// Why one record could not be read, relative to the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Option<String>,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: &str, reason: impl Into<String>) -> Self {
        FieldError {
            field: Some(field.to_owned()),
            reason: reason.into(),
        }
    }

    pub fn missing(field: &str) -> Self {
        FieldError::new(field, "required field is missing or empty")
    }

    pub fn json(e: serde_json::Error) -> Self {
        let reason = if e.is_syntax() || e.is_eof() {
            format!("not JSON: {e}")
        } else {
            format!("unexpected JSON: {e}")
        };
        FieldError {
            field: None,
            reason,
        }
    }
}

/// A rejected record: where it is and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    pub path: Arc<str>,
    pub line: u64,
    pub field: Option<String>,
    pub reason: String,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.path, self.line)?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.reason)
    }
}

impl std::error::Error for RecordError {}

/// How the records of a file are to be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// Management Activity API records or the OfficeActivity table.
    Audit(Format),
    /// Azure Monitor envelope: the record's category picks sign-in, directory audit or generic.
    AzureMonitor,
    GraphSignIn,
    LogAnalyticsSignIn,
    GraphDirectoryAudit,
    LogAnalyticsAuditLogs,
    /// Message trace, Reporting Web Service or ISO timestamps (chosen per row).
    MessageTrace,
}

impl Shape {
    /// The shape a `--format` override names.
    pub fn from_format(format: Format) -> Shape {
        match format {
            Format::ManagementApi | Format::OfficeActivityTable => Shape::Audit(format),
            Format::GraphSignIn => Shape::GraphSignIn,
            Format::AzureMonitorSignIn | Format::AzureMonitorDirectoryAudit => Shape::AzureMonitor,
            Format::LogAnalyticsSignIn => Shape::LogAnalyticsSignIn,
            Format::GraphDirectoryAudit => Shape::GraphDirectoryAudit,
            Format::LogAnalyticsAuditLogs => Shape::LogAnalyticsAuditLogs,
            Format::MessageTraceReporting | Format::MessageTraceIso => Shape::MessageTrace,
        }
    }

    /// Recognises a record's shape from its keys (matched case-insensitively).
    pub fn detect(record: &serde_json::Map<String, Value>) -> Option<Shape> {
        let has = |k: &str| lenient::get_ci(record, k).is_some();
        let str_of = |k: &str| {
            lenient::get_ci(record, k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_ascii_lowercase()
        };
        let table = str_of("Type");
        if has("properties") && (has("category") || has("operationName")) {
            return Some(Shape::AzureMonitor);
        }
        if table == "officeactivity" || has("OfficeWorkload") {
            return Some(Shape::Audit(Format::OfficeActivityTable));
        }
        if table.ends_with("signinlogs") {
            return Some(Shape::LogAnalyticsSignIn);
        }
        if table == "auditlogs" {
            return Some(Shape::LogAnalyticsAuditLogs);
        }
        if has("MessageTraceId") || (has("SenderAddress") && has("RecipientAddress")) {
            return Some(Shape::MessageTrace);
        }
        if record.contains_key("activityDisplayName") {
            return Some(Shape::GraphDirectoryAudit);
        }
        if record.contains_key("ActivityDisplayName") {
            return Some(Shape::LogAnalyticsAuditLogs);
        }
        if record.contains_key("createdDateTime")
            && (has("userPrincipalName") || has("status") || has("ipAddress"))
        {
            return Some(Shape::GraphSignIn);
        }
        if record.contains_key("ResultType") && has("UserPrincipalName") {
            return Some(Shape::LogAnalyticsSignIn);
        }
        // Keys lower-cased by a pipeline (Splunk, Logstash, a custom table): the same sign-in
        // fields, whichever service wrote them; Log Analytics rows keep their result type.
        if record.contains_key("createddatetime")
            && (record.contains_key("userprincipalname") || record.contains_key("ipaddress"))
        {
            return Some(if record.contains_key("resulttype") {
                Shape::LogAnalyticsSignIn
            } else {
                Shape::GraphSignIn
            });
        }
        if has("CreationTime") && has("Operation") {
            return Some(Shape::Audit(Format::ManagementApi));
        }
        None
    }

    /// Deserialises one record into this shape's typed record without normalising it: the
    /// "parsing alone" baseline of the ingest benchmark.
    pub fn deserialize_only(self, raw: &str) -> Result<(), serde_json::Error> {
        match self {
            Shape::Audit(_) => audit::deserialize_only(raw),
            Shape::AzureMonitor => signin::deserialize_azure_monitor_only(raw),
            Shape::GraphSignIn | Shape::LogAnalyticsSignIn => signin::deserialize_sign_in_only(raw),
            Shape::GraphDirectoryAudit | Shape::LogAnalyticsAuditLogs => {
                signin::deserialize_directory_audit_only(raw)
            }
            Shape::MessageTrace => msgtrace::deserialize_only(raw),
        }
    }

    /// Parses one record of this shape.
    pub fn parse(self, raw: &str) -> Result<Event, FieldError> {
        self.parse_shared(raw, None)
    }

    /// [`Shape::parse`], keeping `shared` as the event's raw text when it holds exactly `raw`
    /// (saves copying every record a second time).
    pub fn parse_shared(self, raw: &str, shared: Option<&Arc<str>>) -> Result<Event, FieldError> {
        match self {
            Shape::Audit(format) => audit::parse_shared(raw, shared, format),
            Shape::AzureMonitor => signin::parse_azure_monitor_shared(raw, shared),
            Shape::GraphSignIn => signin::parse_sign_in(raw, Format::GraphSignIn),
            Shape::LogAnalyticsSignIn => signin::parse_sign_in(raw, Format::LogAnalyticsSignIn),
            Shape::GraphDirectoryAudit => {
                signin::parse_directory_audit(raw, Format::GraphDirectoryAudit)
            }
            Shape::LogAnalyticsAuditLogs => {
                signin::parse_directory_audit(raw, Format::LogAnalyticsAuditLogs)
            }
            Shape::MessageTrace => msgtrace::parse_shared(raw, shared),
        }
    }
}

/// The raw text for an event: the shared unit when it is exactly this record, else a copy.
pub(crate) fn share(raw: &str, shared: Option<&Arc<str>>) -> Arc<str> {
    match shared {
        Some(arc) if std::ptr::eq(arc.as_ptr(), raw.as_ptr()) && arc.len() == raw.len() => {
            arc.clone()
        }
        _ => Arc::from(raw),
    }
}

/// A stable id for a record that carries none: a hash of its exact text, so repeats of it are
/// still recognised as duplicates.
pub fn content_id(raw: &str) -> Box<str> {
    format!("xxh3:{:032x}", xxhash_rust::xxh3::xxh3_128(raw.as_bytes())).into()
}

/// Counts bytes as they are read, for progress bars.
struct CountingReader<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// How the units of a file wrap their records. Decided from the first unit that is an object.
#[derive(Debug, Clone, Copy, Default)]
struct Layout {
    decided: bool,
    /// `{"name":..,"expected":..,"log":{record}}`, as detection-rule test suites write them.
    test_case_wrapper: bool,
    /// `{"records":[...]}` (Event Hub, diagnostic settings), `{"value":[...]}` (Graph pages) or
    /// `{"d":{"results":[...]}}` / `{"d":[...]}` (the Reporting Web Service's OData JSON).
    envelope: bool,
}

#[derive(Deserialize)]
struct TestCase<'a> {
    #[serde(borrow)]
    log: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct LayoutProbe<'a> {
    #[serde(borrow)]
    log: Option<&'a RawValue>,
    #[serde(borrow)]
    name: Option<&'a RawValue>,
    #[serde(borrow)]
    expected: Option<&'a RawValue>,
    #[serde(borrow, alias = "Records")]
    records: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    value: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    d: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct EnvelopeDoc<'a> {
    #[serde(borrow, alias = "Records")]
    records: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    value: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    d: Option<&'a RawValue>,
}

impl<'a> EnvelopeDoc<'a> {
    /// The records the envelope wraps, if it is one.
    fn into_items(self) -> Option<Vec<&'a RawValue>> {
        self.records.or(self.value).or_else(|| odata_items(self.d))
    }
}

#[derive(Deserialize)]
struct ODataResults<'a> {
    #[serde(borrow)]
    results: Vec<&'a RawValue>,
}

/// OData verbose JSON keeps the rows under `"d"`: `{"results":[...], "__next":..}` (v2) or the
/// list itself (v1). Anything else under `"d"` is not an envelope.
fn odata_items(d: Option<&RawValue>) -> Option<Vec<&RawValue>> {
    let d = d?.get();
    serde_json::from_str::<Vec<&RawValue>>(d).ok().or_else(|| {
        serde_json::from_str::<ODataResults>(d)
            .ok()
            .map(|r| r.results)
    })
}

/// Reads the records of one file.
pub struct FileReader {
    path: Arc<str>,
    splitter: RecordSplitter<BufReader<Box<dyn Read + Send>>>,
    layout: Layout,
    shape: Option<Shape>,
    /// The shape was given (`--format`), not recognised: never second-guess it.
    shape_forced: bool,
    /// Boxed: an `Event` is about 500 bytes, and moving it by value through the queue, the
    /// merge and the reordering window showed in profiles.
    queue: VecDeque<Result<Box<Event>, RecordError>>,
    /// Benchmark baseline mode: deserialise records, count them, produce nothing.
    deserialize_only: Option<u64>,
    /// How many records go through each parse step together (see `steps.rs`).
    run: usize,
}

/// Records parsed together, step by step: enough that each step's code stays in the
/// instruction cache over the run, few enough that their typed records (up to about 900 bytes
/// each) stay in the data cache between the steps.
const RUN: usize = 16;

/// A run also ends once its records reach this many bytes, so that a file of huge records
/// holds one of them (and at most this much before it) at a time.
const RUN_BYTES: usize = 1 << 20;

/// One record to parse: its text, the line it starts on and, when the record is a whole unit,
/// the unit's shared text.
#[derive(Clone, Copy)]
struct RecordRef<'u> {
    text: &'u str,
    line: u64,
    shared: Option<&'u Arc<str>>,
}

impl FileReader {
    /// Opens a file, recognising gzip by its magic bytes. `bytes_read` counts the bytes taken
    /// from disk (compressed), for progress.
    pub fn open(
        path: &Path,
        format: Option<Format>,
        bytes_read: Arc<AtomicU64>,
    ) -> io::Result<FileReader> {
        let file = File::open(path)?;
        let counting = CountingReader {
            inner: file,
            counter: bytes_read,
        };
        Ok(Self::from_reader(
            &path.display().to_string(),
            Box::new(counting),
            format,
        ))
    }

    /// Reads from any byte source; `name` is used in error messages.
    pub fn from_reader(
        name: &str,
        reader: Box<dyn Read + Send>,
        format: Option<Format>,
    ) -> FileReader {
        let decoded = decompressed(reader);
        FileReader {
            path: name.into(),
            splitter: RecordSplitter::new(BufReader::with_capacity(1 << 18, decoded)),
            layout: Layout::default(),
            shape: format.map(Shape::from_format),
            shape_forced: format.is_some(),
            queue: VecDeque::new(),
            deserialize_only: None,
            run: RUN,
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The shape recognised so far (or forced).
    pub fn shape(&self) -> Option<Shape> {
        self.shape
    }

    fn error(&self, line: u64, e: FieldError) -> RecordError {
        RecordError {
            path: self.path.clone(),
            line,
            field: e.field,
            reason: e.reason,
        }
    }

    fn decide_layout(&mut self, unit: &str) {
        // Probe with borrowed raw values: an envelope can be megabytes, and only its first
        // record is needed to recognise the shape.
        let Ok(probe) = serde_json::from_str::<LayoutProbe>(unit) else {
            return;
        };
        self.layout.decided = true;
        let test_case_log = probe
            .log
            .filter(|_| probe.name.is_some() || probe.expected.is_some())
            .filter(|log| log.get().starts_with('{'));
        let (items, record) = match test_case_log {
            Some(log) => {
                self.layout.test_case_wrapper = true;
                let inner: EnvelopeDoc = serde_json::from_str(log.get()).unwrap_or_default();
                (inner.into_items(), log.get())
            }
            None => {
                let inner = EnvelopeDoc {
                    records: probe.records,
                    value: probe.value,
                    d: probe.d,
                };
                (inner.into_items(), unit)
            }
        };
        match items {
            Some(items) => {
                self.layout.envelope = true;
                if let Some(first) = items.first() {
                    self.detect_from(first.get());
                }
            }
            None => self.detect_from(record),
        }
    }

    fn detect_from(&mut self, record: &str) {
        if self.shape.is_none() {
            self.shape = Self::own_shape(record);
        }
    }

    fn handle_unit(&mut self, unit: &Arc<str>, line: u64) {
        let text: &str = unit;
        if !self.layout.decided {
            self.decide_layout(text);
        }
        let mut body = text;
        if self.layout.test_case_wrapper {
            match serde_json::from_str::<TestCase>(text) {
                Ok(TestCase { log: Some(log) }) => body = log.get(),
                Ok(TestCase { log: None }) => {
                    let e = self.error(line, FieldError::missing("log"));
                    self.queue.push_back(Err(e));
                    return;
                }
                Err(e) => {
                    let e = self.error(line, FieldError::json(e));
                    self.queue.push_back(Err(e));
                    return;
                }
            }
        }
        if self.layout.envelope {
            if let Ok(doc) = serde_json::from_str::<EnvelopeDoc>(body) {
                if let Some(items) = doc.into_items() {
                    // Lines are counted incrementally: an envelope can hold thousands of records.
                    let (mut counted_to, mut item_line) = (0, line);
                    let records: Vec<RecordRef> = items
                        .iter()
                        .map(|item| {
                            let offset = item.get().as_ptr() as usize - text.as_ptr() as usize;
                            item_line +=
                                memchr::memchr_iter(b'\n', &text.as_bytes()[counted_to..offset])
                                    .count() as u64;
                            counted_to = offset;
                            RecordRef {
                                text: item.get(),
                                line: item_line,
                                shared: None,
                            }
                        })
                        .collect();
                    self.handle_records(&records);
                    return;
                }
            }
        }
        self.handle_record(body, line, Some(unit));
    }

    fn handle_record(&mut self, record: &str, line: u64, shared: Option<&Arc<str>>) {
        // A scalar or an array where a record belongs (`[{...}, 42, {...}]`): say so plainly
        // rather than with the typed parser's "expected struct ..." message.
        if !is_object(record) {
            if self.deserialize_only.is_none() {
                let e = match serde_json::from_str::<Value>(record) {
                    Ok(v) => FieldError {
                        field: None,
                        reason: format!("expected a JSON object (a record), found {}", kind_of(&v)),
                    },
                    Err(e) => FieldError::json(e),
                };
                let e = self.error(line, e);
                self.queue.push_back(Err(e));
            }
            return;
        }
        if self.shape.is_none() {
            self.shape = Self::own_shape(record);
        }
        if let (Some(count), Some(shape)) = (self.deserialize_only.as_mut(), self.shape) {
            if shape.deserialize_only(record).is_ok() {
                *count += 1;
            }
            return;
        }
        let first = self.shape.map(|shape| shape.parse_shared(record, shared));
        self.finish_record(record, line, shared, first);
    }

    /// Queues a record's event or error, given the result of parsing it with the file's
    /// shape (`None` while the file's shape is unknown).
    fn finish_record(
        &mut self,
        record: &str,
        line: u64,
        shared: Option<&Arc<str>>,
        first: Option<Result<Event, FieldError>>,
    ) {
        let result = match (self.shape, first) {
            (Some(shape), Some(first)) => match first {
                Ok(event) => Ok(event),
                // Exports are homogeneous per file, but not always: a SIEM dump or a
                // concatenation can mix audit records with sign-ins. A record the file's shape
                // rejects is recognised on its own before it is called bad.
                Err(e) if !self.shape_forced => match Self::own_shape(record) {
                    Some(other) if other != shape => other.parse_shared(record, shared),
                    _ => Err(e),
                },
                Err(e) => Err(e),
            },
            _ => match serde_json::from_str::<Value>(record) {
                Ok(Value::Object(_)) => Err(FieldError {
                    field: None,
                    reason: "record of an unknown shape (not Management Activity, Entra sign-in, directory audit or message trace); use --format".into(),
                }),
                Ok(v) => Err(FieldError {
                    field: None,
                    reason: format!("expected a JSON object (a record), found {}", kind_of(&v)),
                }),
                Err(e) => Err(FieldError::json(e)),
            },
        };
        let item = result.map(Box::new).map_err(|e| self.error(line, e));
        self.queue.push_back(item);
    }
}

impl FileReader {
    /// Handles records in order, as [`FileReader::handle_record`] does one by one; for the
    /// shapes with [`steps`], a run at a time, step by step.
    fn handle_records(&mut self, records: &[RecordRef]) {
        use steps::{AuditSteps, SignInSteps, TraceSteps};
        // The steps are those `Shape::parse_shared` takes in one call; the other shapes (Azure
        // Monitor envelopes, directory audits) go record by record.
        match self.shape.filter(|_| self.deserialize_only.is_none()) {
            Some(Shape::Audit(format)) => self.in_steps(&AuditSteps(format), records),
            Some(Shape::MessageTrace) => self.in_steps(&TraceSteps, records),
            Some(Shape::GraphSignIn) => self.in_steps(&SignInSteps(Format::GraphSignIn), records),
            Some(Shape::LogAnalyticsSignIn) => {
                self.in_steps(&SignInSteps(Format::LogAnalyticsSignIn), records)
            }
            _ => {
                for r in records {
                    self.handle_record(r.text, r.line, r.shared);
                }
            }
        }
    }

    /// Deserialises a run of records, then normalises them, queueing the results in record
    /// order; what is not an object goes through [`FileReader::handle_record`] in its place.
    fn in_steps<S: steps::Steps>(&mut self, steps: &S, records: &[RecordRef]) {
        for run in records.chunks(self.run.max(1)) {
            let typed: Vec<_> = run
                .iter()
                .map(|r| is_object(r.text).then(|| S::deserialize(r.text)))
                .collect();
            for (r, typed) in run.iter().zip(typed) {
                match typed {
                    None => self.handle_record(r.text, r.line, r.shared),
                    Some(typed) => {
                        let first = typed
                            .map_err(FieldError::json)
                            .and_then(|record| steps.normalise(record, r.text, r.shared));
                        self.finish_record(r.text, r.line, r.shared, Some(first));
                    }
                }
            }
        }
    }
}

/// Whether the text starts (after white space) as a JSON object does.
fn is_object(record: &str) -> bool {
    record.trim_start().starts_with('{')
}

impl FileReader {
    /// The shape of one record on its own, for records the file's shape rejected.
    fn own_shape(record: &str) -> Option<Shape> {
        match serde_json::from_str::<Value>(record) {
            Ok(Value::Object(obj)) => Shape::detect(&obj),
            _ => None,
        }
    }

    /// Reads the whole file doing only what "parsing alone" does: split, unwrap envelopes and
    /// deserialise each record into its shape's typed record. Returns how many deserialised.
    /// This is the baseline the ingest benchmark measures the full path against.
    pub fn deserialize_only(mut self) -> u64 {
        self.deserialize_only = Some(0);
        while let Some(item) = self.splitter.next() {
            if let SplitItem::Unit(unit) = item {
                self.handle_unit(&unit.text, unit.line);
                self.queue.clear();
            }
        }
        self.deserialize_only.unwrap_or(0)
    }
}

impl FileReader {
    /// The next event, boxed (what [`Iterator::next`] unboxes): for the ingest pipeline, which
    /// holds events for reordering and moves them several times.
    pub fn next_boxed(&mut self) -> Option<Result<Box<Event>, RecordError>> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(item);
            }
            // A run of units, up to the first splitting error (queued after them, in order).
            let mut units = Vec::with_capacity(self.run);
            let (mut error, mut bytes) = (None, 0);
            while units.len() < self.run.max(1) && bytes < RUN_BYTES {
                match self.splitter.next() {
                    Some(SplitItem::Unit(unit)) => {
                        bytes += unit.text.len();
                        units.push(unit);
                    }
                    Some(SplitItem::Error { line, reason }) => {
                        error = Some(RecordError {
                            path: self.path.clone(),
                            line,
                            field: None,
                            reason,
                        });
                        break;
                    }
                    None => break,
                }
            }
            if units.is_empty() && error.is_none() {
                return None;
            }
            self.handle_units(&units);
            self.queue.extend(error.map(Err));
        }
    }

    /// [`FileReader::handle_unit`] for each unit in turn; once the file is known to hold one
    /// record per unit, as one run of records.
    fn handle_units(&mut self, units: &[split::Unit]) {
        let one_record_each =
            self.layout.decided && !self.layout.test_case_wrapper && !self.layout.envelope;
        if one_record_each {
            let records: Vec<RecordRef> = units
                .iter()
                .map(|u| RecordRef {
                    text: &u.text,
                    line: u.line,
                    shared: Some(&u.text),
                })
                .collect();
            self.handle_records(&records);
        } else {
            for unit in units {
                self.handle_unit(&unit.text, unit.line);
            }
        }
    }
}

impl Iterator for FileReader {
    type Item = Result<Event, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_boxed().map(|item| item.map(|event| *event))
    }
}

/// The bytes of a file, gunzipped when they start with gzip's magic number (whatever the name
/// says; concatenated gzip members are read as one stream).
fn decompressed(reader: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
    let mut peek = BufReader::with_capacity(1 << 16, reader);
    let is_gzip = matches!(peek.fill_buf(), Ok(b) if b.starts_with(&[0x1f, 0x8b]));
    if is_gzip {
        Box::new(flate2::bufread::MultiGzDecoder::new(peek))
    } else {
        Box::new(peek)
    }
}

/// Lists the files under the given paths (files as they are, directories recursively, in name
/// order), skipping hidden files.
pub fn collect_files(paths: &[PathBuf]) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads every record of an in-memory input, for tests and fuzzing.
pub fn read_bytes(
    name: &str,
    bytes: &[u8],
    format: Option<Format>,
) -> Vec<Result<Event, RecordError>> {
    FileReader::from_reader(name, Box::new(io::Cursor::new(bytes.to_vec())), format).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reads `bytes` taking `run` records through each parse step together.
    fn read_in_runs(
        bytes: &[u8],
        format: Option<Format>,
        run: usize,
    ) -> Vec<Result<Event, RecordError>> {
        let mut reader =
            FileReader::from_reader("in", Box::new(io::Cursor::new(bytes.to_vec())), format);
        reader.run = run;
        std::iter::from_fn(|| reader.next_boxed())
            .map(|item| item.map(|event| *event))
            .collect()
    }

    fn fixtures() -> Vec<(String, Vec<u8>)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("fixtures")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|p| (p.display().to_string(), std::fs::read(&p).expect("read")))
            .collect()
    }

    #[test]
    fn runs_read_every_fixture_as_records_one_at_a_time() {
        for (name, bytes) in fixtures() {
            let one_by_one = read_in_runs(&bytes, None, 1);
            assert!(!one_by_one.is_empty(), "{name}");
            for run in [2, 3, RUN, 64] {
                assert_eq!(
                    read_in_runs(&bytes, None, run),
                    one_by_one,
                    "{name}, run {run}"
                );
            }
        }
    }

    proptest! {
        /// Files spliced from fixture lines (records of every shape, bad lines, blank lines, a
        /// line cut short) read the same in runs of any size as one record at a time, whether
        /// the shape is recognised or forced.
        #[test]
        fn spliced_files_read_the_same_in_runs(
            picks in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), 0u8..10), 1..60),
            run in 2usize..40,
            forced in proptest::option::of(proptest::sample::select(Format::ALL.to_vec())),
        ) {
            let lines: Vec<Vec<u8>> = fixtures()
                .into_iter()
                .flat_map(|(_, bytes)| bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect::<Vec<_>>())
                .collect();
            let mut file = Vec::new();
            for (file_pick, cut, mangle) in &picks {
                let line = &lines[file_pick.index(lines.len())];
                match mangle {
                    0 => file.extend_from_slice(&line[..cut.index(line.len() + 1)]),
                    1 => file.extend_from_slice(b"not json at all"),
                    2 => file.extend_from_slice(b"[1, \"x\", {\"a\": 2}]"),
                    _ => file.extend_from_slice(line),
                }
                file.push(b'\n');
            }
            let one_by_one = read_in_runs(&file, forced, 1);
            prop_assert_eq!(read_in_runs(&file, forced, run), one_by_one);
        }
    }
}
