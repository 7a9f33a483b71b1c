//! Output: one file per content type (or log) per UTC day, written as the simulation goes.
//!
//! Records are spilled into hour buckets per day and stream (in memory until a bucket grows
//! past a few tens of kilobytes, then appended to a scratch file), so memory stays bounded by
//! one hour of one stream. When a day can receive no more records, its files are written: each
//! hour bucket is sorted by event time, or shuffled when API habits are on, and framed in the
//! shape of its source (content blob array, Graph pages, Event Hub batches, message trace rows).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::rng::{rng_for, tag};
use crate::time::{self, DAY, HOUR, MINUTE};
use crate::SimError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stream {
    AuditAad,
    AuditExchange,
    AuditSharePoint,
    AuditGeneral,
    SignIn,
    MessageTrace,
}

impl Stream {
    const ALL: [Stream; 6] = [
        Stream::AuditAad,
        Stream::AuditExchange,
        Stream::AuditSharePoint,
        Stream::AuditGeneral,
        Stream::SignIn,
        Stream::MessageTrace,
    ];

    fn idx(self) -> usize {
        self as usize
    }
}

const STREAMS: usize = 6;
const BUCKETS: usize = 24;
/// Above this many bytes held in memory, every bucket is appended to its scratch file.
pub(crate) static MEM_BUDGET: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(256 << 20);
const GRAPH_PAGE: usize = 1000;
const PROGRESS_EVERY: u64 = 10_000;

/// Fields of the Azure Monitor envelope around a sign-in.
pub(crate) struct HubFields<'a> {
    pub category: &'static str,
    pub result_type: i64,
    pub result_description: Option<&'a str>,
    pub caller_ip: &'a str,
    pub correlation_id: &'a str,
    pub identity: &'a str,
    pub country: &'a str,
}

struct DayBuf {
    bufs: Vec<String>,
    spilled: Vec<bool>,
}

impl DayBuf {
    fn new() -> DayBuf {
        DayBuf {
            bufs: (0..STREAMS * BUCKETS).map(|_| String::new()).collect(),
            spilled: vec![false; STREAMS * BUCKETS],
        }
    }
}

pub(crate) struct Sink<'p> {
    out: PathBuf,
    spill: PathBuf,
    start_ms: i64,
    days: u32,
    seed: u64,
    quirks: bool,
    qrng: ChaCha8Rng,
    frng: ChaCha8Rng,
    open: BTreeMap<u32, DayBuf>,
    /// Days below this one have been written.
    done_below: u32,
    /// Bytes held in bucket buffers.
    mem: usize,
    budget: usize,
    /// First scratch-file error, reported when the next day is written.
    error: Option<SimError>,
    records: u64,
    files: Vec<PathBuf>,
    progress: &'p dyn Fn(u64),
    next_progress: u64,
    tenant_id: String,
    /// Written so far per stream: used by tests and the summary.
    pub per_stream: [u64; STREAMS],
}

fn io_err(path: &Path, e: std::io::Error) -> SimError {
    SimError::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

impl<'p> Sink<'p> {
    pub fn new(
        out: &Path,
        start_ms: i64,
        days: u32,
        seed: u64,
        quirks: bool,
        tenant_id: String,
        progress: &'p dyn Fn(u64),
    ) -> Result<Sink<'p>, SimError> {
        for sub in ["audit", "signins", "messagetrace"] {
            let p = out.join(sub);
            fs::create_dir_all(&p).map_err(|e| io_err(&p, e))?;
        }
        let spill = out.join(format!(".vigil-sim-spill-{}", std::process::id()));
        fs::create_dir_all(&spill).map_err(|e| io_err(&spill, e))?;
        Ok(Sink {
            out: out.to_path_buf(),
            spill,
            start_ms,
            days,
            seed,
            quirks,
            qrng: rng_for(seed, tag::QUIRKS_DELIVERY, 0, 0),
            frng: rng_for(seed, tag::QUIRKS_FIELDS, 0, 0),
            open: BTreeMap::new(),
            done_below: 0,
            mem: 0,
            budget: MEM_BUDGET.load(std::sync::atomic::Ordering::Relaxed),
            error: None,
            records: 0,
            files: Vec::new(),
            progress,
            next_progress: PROGRESS_EVERY,
            tenant_id,
            per_stream: [0; STREAMS],
        })
    }

    /// Whether to apply an in-record API habit of probability `p` (never when habits are off).
    pub fn quirk(&mut self, p: f64) -> bool {
        self.quirks && self.frng.random_bool(p)
    }

    pub fn in_window(&self, ms: i64) -> bool {
        ms >= self.start_ms && ms < self.start_ms + self.days as i64 * DAY
    }

    fn day_of(&self, ms: i64) -> u32 {
        let d = (ms - self.start_ms).div_euclid(DAY);
        d.clamp(0, self.days as i64 - 1) as u32
    }

    /// Whether sign-ins delivered on `day` are written as Event Hub envelopes rather than Graph
    /// pages (about one day in three).
    pub fn hub_day(&self, day: u32) -> bool {
        (day as u64 + self.seed % 3) % 3 == 2
    }

    /// When the record (and its duplicate, if any) reaches the collector.
    fn deliveries(&mut self, ms: i64, dup_p: f64) -> ([i64; 2], usize) {
        if !self.quirks {
            return ([ms, 0], 1);
        }
        let mut first = ms;
        if self.qrng.random_bool(0.015) {
            first += self.qrng.random_range(HOUR..10 * HOUR);
        }
        if self.qrng.random_bool(dup_p) {
            let second = first + self.qrng.random_range(MINUTE..8 * HOUR);
            ([first, second], 2)
        } else {
            ([first, 0], 1)
        }
    }

    fn place(&mut self, stream: Stream, event_ms: i64, deliver_ms: i64, text: &str) {
        let mut day = self.day_of(deliver_ms);
        let mut hour =
            ((deliver_ms - self.start_ms - day as i64 * DAY) / HOUR).clamp(0, 23) as usize;
        if day < self.done_below {
            // Cannot happen with the generation order; keep the record rather than lose it.
            debug_assert!(false, "record for a day already written");
            day = self.done_below;
            hour = 0;
        }
        let slot = stream.idx() * BUCKETS + hour;
        let buf = self.open.entry(day).or_insert_with(DayBuf::new);
        let b = &mut buf.bufs[slot];
        let before = b.len();
        b.push_str(itoa::Buffer::new().format(event_ms));
        b.push('\t');
        b.push_str(text);
        b.push('\n');
        self.mem += b.len() - before;
        if self.mem > self.budget {
            self.spill_all();
        }
        self.records += 1;
        self.per_stream[stream.idx()] += 1;
        if self.records >= self.next_progress {
            self.next_progress += PROGRESS_EVERY;
            (self.progress)(self.records);
        }
    }

    /// Appends every non-empty bucket to its scratch file.
    fn spill_all(&mut self) {
        for (day, buf) in self.open.iter_mut() {
            for slot in 0..STREAMS * BUCKETS {
                let b = &mut buf.bufs[slot];
                if b.is_empty() {
                    continue;
                }
                let path = self.spill.join(format!("{day}-{slot}"));
                let res = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .and_then(|mut f| f.write_all(b.as_bytes()));
                match res {
                    Ok(()) => {
                        self.mem -= b.len();
                        *b = String::new();
                        buf.spilled[slot] = true;
                    }
                    Err(e) => {
                        if self.error.is_none() {
                            self.error = Some(io_err(&path, e));
                        }
                        return;
                    }
                }
            }
        }
    }

    /// An audit record (Management Activity API). Returns false if it falls outside the
    /// simulated period and was dropped.
    pub fn audit(&mut self, stream: Stream, ms: i64, text: &str) -> bool {
        if !self.in_window(ms) {
            return false;
        }
        let (times, n) = self.deliveries(ms, 0.025);
        for &t in &times[..n] {
            self.place(stream, ms, t, text);
        }
        true
    }

    /// A sign-in: `props` is the Graph signIn object; the envelope is added on Event Hub days.
    pub fn signin(&mut self, ms: i64, sub_ticks: u32, props: &str, hub: &HubFields<'_>) -> bool {
        if !self.in_window(ms) {
            return false;
        }
        let (times, n) = self.deliveries(ms, 0.005);
        for &t in &times[..n] {
            let day = self.day_of(t).max(self.done_below);
            if self.hub_day(day) {
                let mut s = String::with_capacity(props.len() + 400);
                let mut o = crate::json::Obj::new(&mut s);
                let mut when = String::with_capacity(28);
                time::push_hub(&mut when, ms, sub_ticks);
                o.str("time", &when)
                    .str(
                        "resourceId",
                        &format!("/tenants/{}/providers/Microsoft.aadiam", self.tenant_id),
                    )
                    .str("operationName", "Sign-in activity")
                    .str("operationVersion", "1.0")
                    .str("category", hub.category)
                    .str("tenantId", &self.tenant_id)
                    .str("resultType", &hub.result_type.to_string())
                    .str(
                        "resultSignature",
                        if hub.result_type == 0 {
                            "None"
                        } else {
                            "FAILURE"
                        },
                    );
                if let Some(d) = hub.result_description {
                    o.str("resultDescription", d);
                }
                o.int("durationMs", 0)
                    .str("callerIpAddress", hub.caller_ip)
                    .str("correlationId", hub.correlation_id)
                    .str("identity", hub.identity)
                    .int("Level", 4)
                    .str("location", hub.country)
                    .raw("properties", props);
                o.end();
                self.place(Stream::SignIn, ms, t, &s);
            } else {
                self.place(Stream::SignIn, ms, t, props);
            }
        }
        true
    }

    /// A message trace row without its closing brace: StartDate, EndDate (the query window of
    /// the day it is delivered in) and Index (its position in the file) are added here.
    pub fn trace(&mut self, ms: i64, open_row: &str) -> bool {
        if !self.in_window(ms) {
            return false;
        }
        let (times, n) = self.deliveries(ms, 0.005);
        for &t in &times[..n] {
            let day = self.day_of(t).max(self.done_below);
            let from = self.start_ms + day as i64 * DAY;
            let mut s = String::with_capacity(open_row.len() + 64);
            s.push_str(open_row);
            let _ = write!(
                s,
                ",\"StartDate\":\"/Date({from})/\",\"EndDate\":\"/Date({})/\"",
                from + DAY
            );
            self.place(Stream::MessageTrace, ms, t, &s);
        }
        true
    }

    /// Writes every day before `day` (days that can receive no more records).
    pub fn finish_below(&mut self, day: i64) -> Result<(), SimError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let day = day.clamp(0, self.days as i64) as u32;
        while self.done_below < day {
            let d = self.done_below;
            self.write_day(d)?;
            self.done_below += 1;
        }
        Ok(())
    }

    /// Writes the remaining days and removes the scratch directory.
    pub fn finish(mut self) -> Result<(u64, Vec<PathBuf>), SimError> {
        self.finish_below(self.days as i64)?;
        let _ = fs::remove_dir_all(&self.spill);
        (self.progress)(self.records);
        Ok((self.records, self.files))
    }

    fn file_for(&self, stream: Stream, day: u32) -> PathBuf {
        let ymd = time::ymd(self.start_ms + day as i64 * DAY);
        match stream {
            Stream::AuditAad => self
                .out
                .join("audit")
                .join(format!("Audit.AzureActiveDirectory-{ymd}.json")),
            Stream::AuditExchange => self
                .out
                .join("audit")
                .join(format!("Audit.Exchange-{ymd}.json")),
            Stream::AuditSharePoint => self
                .out
                .join("audit")
                .join(format!("Audit.SharePoint-{ymd}.json")),
            Stream::AuditGeneral => self
                .out
                .join("audit")
                .join(format!("Audit.General-{ymd}.json")),
            Stream::SignIn => {
                if self.hub_day(day) {
                    self.out
                        .join("signins")
                        .join(format!("eventhub-signInLogs-{ymd}.jsonl"))
                } else {
                    self.out
                        .join("signins")
                        .join(format!("graph-signIns-{ymd}.jsonl"))
                }
            }
            Stream::MessageTrace => self
                .out
                .join("messagetrace")
                .join(format!("MessageTrace-{ymd}.json")),
        }
    }

    fn write_day(&mut self, day: u32) -> Result<(), SimError> {
        let mut buf = self.open.remove(&day).unwrap_or_else(DayBuf::new);
        for stream in Stream::ALL {
            let path = self.file_for(stream, day);
            let file = File::create(&path).map_err(|e| io_err(&path, e))?;
            let mut w = Framer::new(
                stream,
                self.hub_day(day),
                BufWriter::with_capacity(1 << 20, file),
            );
            w.rng = rng_for(
                self.seed,
                tag::QUIRKS_FRAMING,
                day as u64,
                stream.idx() as u64,
            );
            for hour in 0..BUCKETS {
                let slot = stream.idx() * BUCKETS + hour;
                let mut text = String::new();
                if buf.spilled[slot] {
                    let sp = self.spill.join(format!("{day}-{slot}"));
                    text = fs::read_to_string(&sp).map_err(|e| io_err(&sp, e))?;
                    let _ = fs::remove_file(&sp);
                }
                let held = std::mem::take(&mut buf.bufs[slot]);
                self.mem -= held.len();
                if text.is_empty() {
                    text = held;
                } else {
                    text.push_str(&held);
                }
                if text.is_empty() {
                    continue;
                }
                let mut lines: Vec<(i64, &str)> = text
                    .lines()
                    .filter_map(|l| {
                        let (ms, rec) = l.split_once('\t')?;
                        Some((ms.parse().ok()?, rec))
                    })
                    .collect();
                if self.quirks {
                    let mut rng = rng_for(self.seed, tag::QUIRKS_SHUFFLE, day as u64, slot as u64);
                    lines.shuffle(&mut rng);
                } else {
                    lines.sort_by_key(|(ms, _)| *ms);
                }
                for (_, rec) in lines {
                    w.push(rec).map_err(|e| io_err(&path, e))?;
                }
            }
            w.finish().map_err(|e| io_err(&path, e))?;
            self.files.push(path);
        }
        Ok(())
    }
}

/// Frames records into the shape of one source.
struct Framer<W: Write> {
    stream: Stream,
    hub: bool,
    w: W,
    n: u64,
    page: Vec<String>,
    batch_left: usize,
    rng: ChaCha8Rng,
}

impl<W: Write> Framer<W> {
    fn new(stream: Stream, hub: bool, w: W) -> Framer<W> {
        Framer {
            stream,
            hub,
            w,
            n: 0,
            page: Vec::new(),
            batch_left: 0,
            rng: rng_for(0, 0, 0, 0),
        }
    }

    fn push(&mut self, rec: &str) -> std::io::Result<()> {
        match self.stream {
            Stream::SignIn if self.hub => {
                if self.batch_left == 0 {
                    if self.n > 0 {
                        self.w.write_all(b"]}\n")?;
                    }
                    self.w.write_all(b"{\"records\":[")?;
                    self.batch_left = self.rng.random_range(20..=100);
                } else {
                    self.w.write_all(b",")?;
                }
                self.w.write_all(rec.as_bytes())?;
                self.batch_left -= 1;
            }
            Stream::SignIn => {
                if self.page.len() == GRAPH_PAGE {
                    self.write_page(true)?;
                }
                self.page.push(rec.to_string());
            }
            Stream::MessageTrace => {
                self.w.write_all(if self.n == 0 { b"[" } else { b",\n" })?;
                self.w.write_all(rec.as_bytes())?;
                write!(self.w, ",\"Index\":{}}}", self.n)?;
            }
            _ => {
                self.w.write_all(if self.n == 0 { b"[" } else { b",\n" })?;
                self.w.write_all(rec.as_bytes())?;
            }
        }
        self.n += 1;
        Ok(())
    }

    fn write_page(&mut self, more: bool) -> std::io::Result<()> {
        self.w.write_all(
            b"{\"@odata.context\":\"https://graph.microsoft.com/beta/$metadata#auditLogs/signIns\",\"value\":[",
        )?;
        for (i, rec) in self.page.iter().enumerate() {
            if i > 0 {
                self.w.write_all(b",")?;
            }
            self.w.write_all(rec.as_bytes())?;
        }
        self.w.write_all(b"]")?;
        if more {
            let token: u128 = self.rng.random();
            write!(
                self.w,
                ",\"@odata.nextLink\":\"https://graph.microsoft.com/beta/auditLogs/signIns?$top={GRAPH_PAGE}&$skiptoken={token:032x}\""
            )?;
        }
        self.w.write_all(b"}\n")?;
        self.page.clear();
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<()> {
        match self.stream {
            Stream::SignIn if self.hub => {
                if self.n > 0 {
                    self.w.write_all(b"]}\n")?;
                }
            }
            Stream::SignIn => self.write_page(false)?,
            _ => {
                self.w
                    .write_all(if self.n == 0 { b"[]\n" } else { b"]\n" })?;
            }
        }
        self.w.flush()
    }
}
