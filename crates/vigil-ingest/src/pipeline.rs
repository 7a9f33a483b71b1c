//! The ordering stage: deduplicate, enrich, link the same sign-in across sources, and release
//! events in event-time order within a bounded reordering window.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::Deserialize;
use smallvec::SmallVec;
use vigil_event::{Event, EventKind, Source, Timestamp};

use crate::dedup::Deduplicator;
use crate::prefetch;
use crate::stats::Stats;

/// Settings of the ordering stage.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// How far behind the newest event an event may arrive and still be put in order.
    pub reorder_window_secs: u64,
    /// Upper bound on events held for reordering; beyond it the oldest are released early.
    pub max_buffered_events: usize,
    /// How long record ids are remembered, in days of event time (at least 8).
    pub dedup_horizon_days: u32,
    /// How far apart in time an audit-log logon and an Entra sign-in without a shared request
    /// id may be and still be the same logon (same account, IP and outcome).
    pub logon_link_tolerance_secs: i64,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            reorder_window_secs: 2 * 3600,
            max_buffered_events: 2_000_000,
            dedup_horizon_days: 9,
            logon_link_tolerance_secs: 10,
        }
    }
}

/// How many records ahead of its probe an id's slot in the deduplication set is fetched: enough
/// for the misses to overlap, few enough that the lines are still there when probed.
const PROBES_AHEAD: usize = 8;

/// An event time as integers that order as the time does.
type TimeKey = (i64, u32);

fn time_key(t: Timestamp) -> TimeKey {
    (t.timestamp(), t.timestamp_subsec_nanos())
}

/// Where a sign-in went: still buffered (slot and sequence check) or already released.
#[derive(Clone)]
struct LogonRef {
    /// Id of the event the sign-in went out as; shared by the two maps that find it.
    id: Arc<str>,
    time: i64,
    source: Source,
    slot: usize,
    seq: u64,
}

/// Hash of (account, IP, outcome): the maps hold hashes, not copies of the strings.
type LogonKey = u64;

fn logon_key(user: &str, ip: IpAddr, succeeded: bool) -> LogonKey {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    user.hash(&mut h);
    ip.hash(&mut h);
    succeeded.hash(&mut h);
    h.finish()
}

fn request_key(request_id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(request_id.as_bytes())
}

/// Links the audit log's UserLoggedIn/UserLoginFailed to Entra's record of the same sign-in.
#[derive(Default)]
struct LogonLinker {
    by_request: FxHashMap<u64, LogonRef>,
    /// Most keys (account, IP, outcome) see one sign-in within the horizon: kept inline.
    by_key: FxHashMap<LogonKey, SmallVec<[LogonRef; 1]>>,
    inserts_since_prune: usize,
}

impl LogonLinker {
    fn find(&self, e: &Event, tolerance: i64) -> Option<LogonRef> {
        let EventKind::SignIn(s) = &e.kind else {
            return None;
        };
        let t = e.time.timestamp();
        if let Some(r) = e
            .request_id
            .as_deref()
            .and_then(|id| self.by_request.get(&request_key(id)))
        {
            if r.source != e.source {
                return Some(r.clone());
            }
        }
        let key = logon_key(e.user.as_deref()?, e.ip?, s.succeeded);
        self.by_key.get(&key).and_then(|refs| {
            refs.iter()
                .filter(|r| r.source != e.source && (r.time - t).abs() <= tolerance)
                .min_by_key(|r| (r.time - t).abs())
                .cloned()
        })
    }

    fn insert(&mut self, e: &Event, slot: usize, seq: u64) {
        let EventKind::SignIn(s) = &e.kind else {
            return;
        };
        let r = LogonRef {
            id: Arc::from(&*e.id),
            time: e.time.timestamp(),
            source: e.source,
            slot,
            seq,
        };
        if let Some(id) = &e.request_id {
            self.by_request.insert(request_key(id), r.clone());
        }
        if let (Some(user), Some(ip)) = (&e.user, e.ip) {
            self.by_key
                .entry(logon_key(user, ip, s.succeeded))
                .or_default()
                .push(r);
        }
        self.inserts_since_prune += 1;
    }

    fn prune(&mut self, before: i64) {
        self.by_request.retain(|_, r| r.time >= before);
        self.by_key.retain(|_, refs| {
            refs.retain(|r| r.time >= before);
            !refs.is_empty()
        });
        self.inserts_since_prune = 0;
    }
}

/// The events held for reordering, as (time, arrival sequence, slab slot), released smallest
/// first. Nearly every event arrives no earlier than the one before it, so those are kept in
/// arrival order in a queue (no sifting, and the next releases are known, so they can be
/// fetched ahead); only the others go to a heap. The smaller of the two fronts goes first,
/// which is the order one heap of all of them would give.
#[derive(Default)]
struct Held {
    in_order: VecDeque<(TimeKey, u64, usize)>,
    stragglers: BinaryHeap<Reverse<(TimeKey, u64, usize)>>,
}

impl Held {
    fn push(&mut self, entry: (TimeKey, u64, usize)) {
        // Sequences only grow, so an equal time still sorts after the queue's last entry.
        if self.in_order.back().is_none_or(|last| entry.0 >= last.0) {
            self.in_order.push_back(entry);
        } else {
            self.stragglers.push(Reverse(entry));
        }
    }

    fn first(&self) -> Option<(TimeKey, u64, usize)> {
        match (self.in_order.front(), self.stragglers.peek()) {
            (Some(&a), Some(&Reverse(b))) => Some(a.min(b)),
            (Some(&a), None) => Some(a),
            (None, Some(&Reverse(b))) => Some(b),
            (None, None) => None,
        }
    }

    fn pop(&mut self) -> Option<(TimeKey, u64, usize)> {
        let first = self.first()?;
        if self.in_order.front() == Some(&first) {
            self.in_order.pop_front()
        } else {
            self.stragglers.pop().map(|Reverse(e)| e)
        }
    }

    fn len(&self) -> usize {
        self.in_order.len() + self.stragglers.len()
    }
}

/// Folds a second record of the same sign-in into the first. Entra's record is richer (client
/// app, protocol, location), so it becomes the event and the audit record's id an alias.
fn merge_logon(kept: &mut Event, other: Event) {
    if kept.source == Source::Audit && other.source == Source::SignIn {
        let audit = std::mem::replace(kept, other);
        kept.alias_ids.push(audit.id);
        kept.alias_ids.extend(audit.alias_ids);
        if kept.user_agent.is_none() {
            kept.user_agent = audit.user_agent;
        }
    } else {
        kept.alias_ids.push(other.id);
        kept.alias_ids.extend(other.alias_ids);
        if kept.user_agent.is_none() {
            kept.user_agent = other.user_agent;
        }
    }
}

/// Deduplicates, enriches, links and reorders; call [`Ingest::push`] for every parsed event and
/// [`Ingest::finish`] at the end. Released events go to the sink in event-time order, except
/// late ones (flagged [`Event::late`]).
pub struct Ingest<'e> {
    config: IngestConfig,
    dedup: Deduplicator,
    enrich: &'e (dyn Fn(&mut Event) + Sync),
    linker: LogonLinker,
    /// The held events, in release order: see [`Held`].
    held: Held,
    slab: Vec<Option<(u64, Box<Event>)>>,
    free: Vec<usize>,
    seq: u64,
    /// The newest event time seen so far.
    newest: Option<TimeKey>,
    pub stats: Stats,
}

impl<'e> Ingest<'e> {
    pub fn new(
        config: IngestConfig,
        dedup: Deduplicator,
        enrich: &'e (dyn Fn(&mut Event) + Sync),
    ) -> Self {
        let mut stats = Stats::default();
        stats.summary.reordering_window_seconds = config.reorder_window_secs;
        Ingest {
            config,
            dedup,
            enrich,
            linker: LogonLinker::default(),
            held: Held::default(),
            slab: Vec::new(),
            free: Vec::new(),
            seq: 0,
            newest: None,
            stats,
        }
    }

    /// The window in seconds, as the signed integer time arithmetic uses.
    fn window_secs(&self) -> i64 {
        i64::try_from(self.config.reorder_window_secs).unwrap_or(i64::MAX)
    }

    /// Events older than this are late: the newest time seen, less the window. In integers,
    /// because it is computed for every event (and a window of any size cannot overflow).
    fn watermark(&self) -> Option<TimeKey> {
        let window = self.window_secs();
        self.newest
            .map(|(secs, nanos)| (secs.saturating_sub(window), nanos))
    }

    /// Takes one parsed event.
    pub fn push(&mut self, event: Event, sink: &mut dyn FnMut(Event)) {
        self.push_boxed(Box::new(event), sink);
    }

    /// [`Ingest::push`] for an event that is already boxed, as the file readers give them: it
    /// stays in its box until it is released.
    pub fn push_boxed(&mut self, mut event: Box<Event>, sink: &mut dyn FnMut(Event)) {
        if self.admit(&event) {
            (self.enrich)(&mut event);
            self.order(event, sink);
        }
    }

    /// Takes a run of parsed events (leaving `batch` empty), with the same result as pushing
    /// them one by one: each step runs over the whole run before the next, so that its code
    /// stays in the instruction cache. The steps can be separated because deduplication
    /// depends only on the ids before an event and enrichment only on the event itself.
    pub fn push_batch(&mut self, batch: &mut Vec<Box<Event>>, sink: &mut dyn FnMut(Event)) {
        let keys: SmallVec<[u64; 64]> = batch
            .iter()
            .map(|e| Deduplicator::key(e.source, &e.id))
            .collect();
        for &key in keys.iter().take(PROBES_AHEAD) {
            self.dedup.prefetch(key);
        }
        let mut index = 0;
        batch.retain(|event| {
            if let Some(&ahead) = keys.get(index + PROBES_AHEAD) {
                self.dedup.prefetch(ahead);
            }
            let first = self.admit_keyed(event, keys[index]);
            index += 1;
            first
        });
        for event in batch.iter_mut() {
            (self.enrich)(event);
        }
        for event in batch.drain(..) {
            self.order(event, sink);
        }
    }

    /// Counts the event as read and tells whether it is the first sighting of its id
    /// (a repeat is counted as a duplicate and goes no further).
    fn admit(&mut self, event: &Event) -> bool {
        self.admit_keyed(event, Deduplicator::key(event.source, &event.id))
    }

    /// [`Ingest::admit`] with the event's [`Deduplicator::key`] computed already.
    fn admit_keyed(&mut self, event: &Event, key: u64) -> bool {
        self.stats.record_read(event);
        let first = self.dedup.first_sighting_of(key, event.time.timestamp());
        if !first {
            self.stats.summary.duplicates_dropped += 1;
        }
        first
    }

    /// Links, holds and releases an admitted, enriched event.
    fn order(&mut self, mut event: Box<Event>, sink: &mut dyn FnMut(Event)) {
        let tolerance = self.config.logon_link_tolerance_secs;
        if let Some(r) = self.linker.find(&event, tolerance) {
            if let Some(Some((seq, kept))) = self.slab.get_mut(r.slot) {
                if *seq == r.seq {
                    self.stats.summary.logons_linked += 1;
                    merge_logon(kept, *event);
                    return;
                }
            }
            // The first record has already been passed on: this one goes on too, so that its
            // id is not lost, marked as the same logon.
            event.linked_to = Some(Box::from(&*r.id));
            self.stats.summary.logons_linked_after_release += 1;
        }
        let time = time_key(event.time);
        if self.watermark().is_some_and(|w| time < w) {
            event.late = true;
            self.stats.summary.late += 1;
            self.linker.insert(&event, usize::MAX, u64::MAX);
            self.emit(event, sink);
            return;
        }
        self.newest = Some(self.newest.map_or(time, |n| n.max(time)));
        self.seq += 1;
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slab.push(None);
                self.slab.len() - 1
            }
        };
        self.linker.insert(&event, slot, self.seq);
        self.held.push((time, self.seq, slot));
        self.slab[slot] = Some((self.seq, event));
        self.release(false, sink);
        if self.linker.inserts_since_prune > 4096 {
            if let Some((n, _)) = self.newest {
                let keep = self
                    .window_secs()
                    .saturating_add(tolerance)
                    .saturating_add(3600);
                self.linker.prune(n.saturating_sub(keep));
            }
        }
    }

    fn release(&mut self, all: bool, sink: &mut dyn FnMut(Event)) {
        let watermark = self.watermark();
        while let Some((time, _, slot)) = self.held.first() {
            let over_capacity = self.held.len() > self.config.max_buffered_events;
            if !(all || over_capacity || watermark.is_some_and(|w| time <= w)) {
                break;
            }
            self.held.pop();
            self.prefetch_next_releases();
            if let Some((_, event)) = self.slab[slot].take() {
                self.free.push(slot);
                self.emit(event, sink);
            }
        }
    }

    /// A held event has left the cache by the time the window releases it (two hours of
    /// event time later), and releasing it touches the event and every string it owns:
    /// one cache miss after another. Asking for the next ones early lets those misses
    /// overlap. The event after next is fetched first, so that its strings' addresses are
    /// in cache when its turn to be the next comes.
    fn prefetch_next_releases(&self) {
        let slot_event = |i: usize| {
            self.held
                .in_order
                .get(i)
                .and_then(|&(_, _, slot)| self.slab[slot].as_ref())
                .map(|(_, e)| &**e)
        };
        if let Some(e) = slot_event(1) {
            prefetch::owned_parts(e);
        }
        if let Some(e) = slot_event(2) {
            prefetch::bytes(std::ptr::from_ref(e).cast(), std::mem::size_of::<Event>());
        }
    }

    fn emit(&mut self, event: Box<Event>, sink: &mut dyn FnMut(Event)) {
        self.stats.record_emitted(&event);
        sink(*event);
    }

    /// Releases everything still buffered.
    pub fn finish(&mut self, sink: &mut dyn FnMut(Event)) {
        self.release(true, sink);
    }

    /// Events currently held for reordering.
    pub fn buffered(&self) -> usize {
        self.held.len()
    }

    /// The deduplication state, to be saved while the stream goes on (live collection saves it
    /// before it moves its checkpoints, so that a restart's repeats are recognised).
    pub fn dedup_mut(&mut self) -> &mut Deduplicator {
        &mut self.dedup
    }

    pub fn into_dedup(self) -> Deduplicator {
        self.dedup
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use vigil_event::{Format, Outcome, SignIn};
    use vigil_report::Summary;

    fn at(s: &str) -> Timestamp {
        vigil_event::time::parse_timestamp(s).unwrap()
    }

    fn ev(id: &str, time: &str, source: Source) -> Event {
        Event {
            id: id.into(),
            alias_ids: vec![],
            linked_to: None,
            time: at(time),
            source,
            format: match source {
                Source::SignIn => Format::GraphSignIn,
                _ => Format::ManagementApi,
            },
            operation: "x".into(),
            workload: None,
            outcome: Outcome::Success,
            user: Some("a@contoso.com".into()),
            ip: Some("102.89.0.1".parse().unwrap()),
            user_agent: None,
            request_id: None,
            correlation_id: None,
            kind: EventKind::Generic,
            enrichment: Default::default(),
            late: false,
            raw: Arc::from("{}"),
        }
    }

    fn logon(id: &str, time: &str, source: Source, request: Option<&str>) -> Event {
        let mut e = ev(id, time, source);
        e.kind = EventKind::SignIn(SignIn {
            succeeded: true,
            ..Default::default()
        });
        e.request_id = request.map(Into::into);
        e
    }

    fn run(config: IngestConfig, events: Vec<Event>) -> (Vec<Event>, Stats) {
        let noop = |_: &mut Event| {};
        let mut ingest = Ingest::new(config, Deduplicator::new(8), &noop);
        let mut out = Vec::new();
        for e in events {
            ingest.push(e, &mut |e| out.push(e));
        }
        ingest.finish(&mut |e| out.push(e));
        (out, ingest.stats)
    }

    #[test]
    fn out_of_order_within_the_window_comes_out_in_order() {
        let (out, stats) = run(
            IngestConfig::default(),
            vec![
                ev("3", "2022-02-01T03:00:00Z", Source::Audit),
                ev("1", "2022-02-01T01:30:00Z", Source::Audit),
                ev("2", "2022-02-01T02:00:00Z", Source::Audit),
            ],
        );
        let ids: Vec<_> = out.iter().map(|e| &*e.id).collect();
        assert_eq!(ids, ["1", "2", "3"]);
        assert_eq!(stats.summary.late, 0);
    }

    #[test]
    fn later_than_the_window_is_counted_and_kept() {
        let (out, stats) = run(
            IngestConfig::default(),
            vec![
                ev("new", "2022-02-01T10:00:00Z", Source::Audit),
                ev("old", "2022-02-01T05:00:00Z", Source::Audit),
            ],
        );
        assert_eq!(out.len(), 2);
        assert_eq!(stats.summary.late, 1);
        assert!(out.iter().find(|e| &*e.id == "old").unwrap().late);
    }

    #[test]
    fn duplicates_by_id_are_dropped() {
        let (out, stats) = run(
            IngestConfig::default(),
            vec![
                ev("1", "2022-02-01T01:00:00Z", Source::Audit),
                ev("1", "2022-02-01T01:00:00Z", Source::Audit),
            ],
        );
        assert_eq!(out.len(), 1);
        assert_eq!(stats.summary.duplicates_dropped, 1);
    }

    #[test]
    fn the_same_logon_from_audit_and_entra_counts_once() {
        // Linked by request id, the Entra record arriving second.
        let (out, stats) = run(
            IngestConfig::default(),
            vec![
                logon(
                    "audit-1",
                    "2022-02-01T04:55:52Z",
                    Source::Audit,
                    Some("req-1"),
                ),
                logon(
                    "entra-1",
                    "2022-02-01T04:55:51Z",
                    Source::SignIn,
                    Some("req-1"),
                ),
            ],
        );
        assert_eq!(out.len(), 1);
        assert_eq!(&*out[0].id, "entra-1");
        assert_eq!(out[0].alias_ids, vec![Box::from("audit-1")]);
        assert_eq!(stats.summary.logons_linked, 1);
        // Linked by account, IP and time when there is no request id.
        let (out, _) = run(
            IngestConfig::default(),
            vec![
                logon("entra-2", "2022-02-01T04:55:51Z", Source::SignIn, None),
                logon("audit-2", "2022-02-01T04:55:55Z", Source::Audit, None),
            ],
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].alias_ids, vec![Box::from("audit-2")]);
    }

    #[test]
    fn a_second_record_after_release_is_kept_and_marked() {
        let config = IngestConfig {
            reorder_window_secs: 60,
            ..Default::default()
        };
        let (out, stats) = run(
            config,
            vec![
                logon(
                    "entra-1",
                    "2022-02-01T04:55:51Z",
                    Source::SignIn,
                    Some("req-1"),
                ),
                ev("later", "2022-02-01T06:00:00Z", Source::Audit),
                logon(
                    "audit-1",
                    "2022-02-01T04:55:52Z",
                    Source::Audit,
                    Some("req-1"),
                ),
            ],
        );
        assert_eq!(out.len(), 3);
        let audit = out.iter().find(|e| &*e.id == "audit-1").unwrap();
        assert_eq!(audit.linked_to.as_deref(), Some("entra-1"));
        assert_eq!(stats.summary.logons_linked, 0);
        assert_eq!(stats.summary.logons_linked_after_release, 1);
    }

    #[test]
    fn two_entra_sign_ins_or_distant_logons_stay_separate() {
        let (out, stats) = run(
            IngestConfig::default(),
            vec![
                logon("e1", "2022-02-01T04:55:51Z", Source::SignIn, None),
                logon("e2", "2022-02-01T04:55:52Z", Source::SignIn, None),
                logon("a1", "2022-02-01T05:30:00Z", Source::Audit, None),
            ],
        );
        assert_eq!(out.len(), 3);
        assert_eq!(stats.summary.logons_linked, 0);
    }

    #[test]
    fn a_window_of_any_size_holds_events_without_overflowing() {
        for secs in [u64::MAX, i64::MAX as u64, 1 << 62] {
            let config = IngestConfig {
                reorder_window_secs: secs,
                ..Default::default()
            };
            let events = vec![
                ev("b", "2022-02-01T02:00:00Z", Source::Audit),
                ev("a", "2022-02-01T01:00:00Z", Source::Audit),
                ev("c", "2099-12-31T23:59:59Z", Source::Audit),
            ];
            let (out, stats) = run(config, events);
            let ids: Vec<&str> = out.iter().map(|e| &*e.id).collect();
            assert_eq!(ids, ["a", "b", "c"], "window {secs}");
            assert_eq!(stats.summary.late, 0);
        }
    }

    #[test]
    fn buffer_is_bounded() {
        let config = IngestConfig {
            max_buffered_events: 10,
            reorder_window_secs: 1_000_000,
            ..Default::default()
        };
        let noop = |_: &mut Event| {};
        let mut ingest = Ingest::new(config, Deduplicator::new(8), &noop);
        let mut n = 0;
        for i in 0..100 {
            ingest.push(
                ev(&i.to_string(), "2022-02-01T01:00:00Z", Source::Audit),
                &mut |_| n += 1,
            );
            assert!(ingest.buffered() <= 10);
        }
        assert_eq!(n, 90);
    }

    proptest::proptest! {
        /// Pushes and pops in any interleaving give what one heap of every entry gives.
        #[test]
        fn held_events_leave_in_the_order_of_one_heap(
            steps in proptest::collection::vec((0i64..50, 0u32..3, proptest::bool::ANY), 1..300)
        ) {
            let mut held = Held::default();
            let mut reference = BinaryHeap::new();
            for (seq, (secs, nanos, pop)) in steps.into_iter().enumerate() {
                let entry = ((secs, nanos), seq as u64, seq);
                held.push(entry);
                reference.push(Reverse(entry));
                if pop {
                    proptest::prop_assert_eq!(held.pop(), reference.pop().map(|Reverse(e)| e));
                }
                proptest::prop_assert_eq!(held.len(), reference.len());
            }
            while let Some(Reverse(expected)) = reference.pop() {
                proptest::prop_assert_eq!(held.pop(), Some(expected));
            }
            proptest::prop_assert_eq!(held.pop(), None);
        }
    }

    /// Marks an event with what it is, so that a test can see enrichment was applied.
    fn mark(e: &mut Event) {
        e.enrichment.asn = Some(e.id.len() as u32);
    }

    /// Pushes `events` in runs of the given sizes (one by one when `runs` is empty).
    fn run_in_runs(
        config: IngestConfig,
        events: Vec<Event>,
        runs: &[usize],
    ) -> (Vec<Event>, Summary) {
        let enrich = mark;
        let mut ingest = Ingest::new(config, Deduplicator::new(8), &enrich);
        let mut out = Vec::new();
        let mut events = events.into_iter().map(Box::new).peekable();
        if runs.is_empty() {
            events.for_each(|e| ingest.push_boxed(e, &mut |e| out.push(e)));
        } else {
            for &size in runs.iter().cycle() {
                if events.peek().is_none() {
                    break;
                }
                let mut batch: Vec<_> = events.by_ref().take(size).collect();
                ingest.push_batch(&mut batch, &mut |e| out.push(e));
                assert!(batch.is_empty(), "the run is taken whole");
            }
        }
        ingest.finish(&mut |e| out.push(e));
        let elapsed = 1.0;
        (out, std::mem::take(&mut ingest.stats).finish(elapsed))
    }

    proptest::proptest! {
        /// Runs of any sizes give exactly what pushing one event at a time gives: the same
        /// events, enriched, linked and ordered alike, and the same counts. The inputs repeat
        /// ids, mix audit logons with Entra sign-ins (by request id or by account and IP) and
        /// arrive out of order, some later than the window.
        #[test]
        fn runs_of_events_give_what_single_events_give(
            records in proptest::collection::vec(
                (0u8..40, 0i64..5_000, proptest::bool::ANY, 0u8..4, 0u8..3, 0u8..3),
                1..150,
            ),
            runs in proptest::collection::vec(1usize..70, 1..5),
        ) {
            let base = at("2022-02-01T00:00:00Z");
            let events: Vec<Event> = records.iter().map(|&(id, offset, entra, request, user, kind)| {
                let source = if entra { Source::SignIn } else { Source::Audit };
                let request = format!("r{request}");
                let mut e = match kind {
                    0 => ev(&id.to_string(), "2022-02-01T00:00:00Z", source),
                    _ => logon(&id.to_string(), "2022-02-01T00:00:00Z", source, (kind == 1).then_some(request.as_str())),
                };
                e.time = base + chrono::Duration::seconds(offset);
                e.user = Some(format!("u{user}@contoso.com").into());
                e
            }).collect();
            let config = IngestConfig { reorder_window_secs: 600, ..Default::default() };
            let (one_by_one, counts) = run_in_runs(config.clone(), events.clone(), &[]);
            let (in_runs, run_counts) = run_in_runs(config, events, &runs);
            proptest::prop_assert!(one_by_one.iter().all(|e| e.enrichment.asn.is_some()));
            proptest::prop_assert_eq!(in_runs, one_by_one);
            proptest::prop_assert_eq!(run_counts, counts);
        }
    }

    proptest::proptest! {
        #[test]
        fn output_is_sorted_unless_late_and_nothing_is_lost(offsets in proptest::collection::vec(0i64..20_000, 1..200)) {
            let base = at("2022-02-01T00:00:00Z");
            let events: Vec<Event> = offsets.iter().enumerate().map(|(i, o)| {
                let mut e = ev(&i.to_string(), "2022-02-01T00:00:00Z", Source::Audit);
                e.time = base + chrono::Duration::seconds(*o);
                e
            }).collect();
            let config = IngestConfig { reorder_window_secs: 3600, ..Default::default() };
            let (out, stats) = run(config, events);
            proptest::prop_assert_eq!(out.len(), offsets.len());
            let in_order: Vec<_> = out.iter().filter(|e| !e.late).map(|e| e.time).collect();
            proptest::prop_assert!(in_order.windows(2).all(|w| w[0] <= w[1]));
            proptest::prop_assert_eq!(stats.summary.late as usize, out.iter().filter(|e| e.late).count());
        }
    }
}
