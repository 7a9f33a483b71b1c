//! The live loop: collectors → vigil-sources → vigil-ingest → vigil-engine → executors and
//! exports.
//!
//! One [`Live`] owns the collectors, the ingest stage and the engine. Each [`Live::poll_once`]
//! polls every enabled collector, parses what arrived, puts the round's events in event-time
//! order (sources arrive with different delays), runs them through ingest and the engine, and
//! hands what the engine found on at once: autonomous actions to the executor (spawned, so
//! that containment does not wait for the rest of the round), breaches and incidents to the
//! exporters (a background task, so that a slow SIEM never delays detection).
//!
//! State, saved every `save_interval_secs` and at shutdown, in this order: engine snapshot,
//! deduplication ids, then the collectors' checkpoints. A crash between two saves re-delivers
//! the records collected since the last save, and the engine, restored to that save, processes
//! them again: nothing is lost. Nothing is raised twice either: breaches and incidents are
//! exported only once the state that produced them is saved (so a crash loses them together with
//! that state, and the re-run raises them once), and actions, which cannot wait for a save, are
//! idempotent by action id in the executor's ledger (the re-run plans the same ids, and the
//! executor does not act twice).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use vigil_collect::client::{http_client, TokenSource};
use vigil_collect::management::{ManagementCollector, ManagementConfig};
use vigil_collect::msgtrace::{MessageTraceCollector, MessageTraceConfig};
use vigil_collect::signins::{SignInCollector, SignInConfig};
use vigil_collect::{Batch, Clock, Credentials, CredentialsConfig, Endpoints, Lag, PollReport};
use vigil_engine::{Engine, EngineConfig, EngineOutput};
use vigil_enrich::Enricher;
use vigil_event::Event;
use vigil_export::{ExportConfig, Exporter, Finding};
use vigil_ingest::{Deduplicator, Ingest, IngestConfig};
use vigil_report::{ActionMode, Breach, Incident};
use vigil_respond::{ActionRequest, AttemptSink, Executor, RespondConfig};

/// `[collect]`: what to collect, from where, how often.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollectConfig {
    pub poll_interval_secs: u64,
    /// How often state is saved (engine, deduplication, checkpoints). Breaches and incidents
    /// are exported after the save that covers them, so this is also their export delay;
    /// actions are not delayed.
    pub save_interval_secs: u64,
    /// Ingest's reordering window for live data. Live detection cannot wait hours for late
    /// records, so the default is 0: events go on as soon as they arrive (each poll round is
    /// still put in time order), and late ones are flagged as such.
    pub reorder_window_secs: u64,
    pub endpoints: Endpoints,
    pub credentials: CredentialsConfig,
    pub management: ManagementConfig,
    pub sign_ins: SignInConfig,
    pub message_trace: MessageTraceConfig,
}

impl Default for CollectConfig {
    fn default() -> Self {
        CollectConfig {
            poll_interval_secs: 60,
            save_interval_secs: 60,
            reorder_window_secs: 0,
            endpoints: Endpoints::default(),
            credentials: CredentialsConfig::default(),
            management: ManagementConfig::default(),
            sign_ins: SignInConfig::default(),
            message_trace: MessageTraceConfig::default(),
        }
    }
}

/// Why the live loop could not start or save.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("credentials: {0}")]
    Credentials(#[from] vigil_collect::client::AuthError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("engine: {0}")]
    Engine(String),
    #[error("exports: {0}")]
    Export(#[from] vigil_export::ExportError),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> LiveError + '_ {
    move |source| LiveError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Everything a [`Live`] needs.
pub struct LiveSettings {
    pub collect: CollectConfig,
    pub respond: RespondConfig,
    pub export: ExportConfig,
    pub ingest: IngestConfig,
    pub engine: EngineConfig,
    pub enricher: Arc<Enricher>,
    pub state_dir: PathBuf,
    pub clock: Clock,
    /// Receives every action attempt (the console's store).
    pub attempt_sink: Option<Arc<dyn AttemptSink>>,
}

/// One autonomous action's path from the record that caused it to its execution, for the
/// latency the issue asks about (and the console's timeline).
#[derive(Clone, Debug)]
pub struct ActionTrace {
    pub action_id: String,
    pub kind: String,
    pub target: String,
    /// When the collector had the record that caused the action.
    pub record_arrived: Instant,
    pub planned: Instant,
    pub finished: Option<Instant>,
    pub status: Option<vigil_respond::ActionStatus>,
}

/// Counters since start.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LiveStats {
    pub polls: u64,
    pub batches: u64,
    pub records: u64,
    pub rejected: u64,
    pub events: u64,
    pub breaches: u64,
    pub incidents: u64,
    pub actions_planned: u64,
    pub actions_dispatched: u64,
    pub actions_pending_confirmation: u64,
    pub collector_errors: u64,
}

enum OwnedFinding {
    Breach(Box<Breach>),
    Incident(Box<Incident>),
    /// Answered once everything sent before it has been exported.
    Flush(tokio::sync::oneshot::Sender<()>),
}

pub struct Live {
    management: Option<ManagementCollector>,
    sign_ins: Option<SignInCollector>,
    message_trace: Option<MessageTraceCollector>,
    ingest: Ingest<'static>,
    engine: Engine,
    engine_config: EngineConfig,
    executor: Option<Arc<Executor>>,
    exports: Option<tokio::sync::mpsc::UnboundedSender<OwnedFinding>>,
    /// Findings waiting for the next save before they are exported.
    unsaved_findings: Vec<OwnedFinding>,
    export_task: Option<tokio::task::JoinHandle<Exporter>>,
    in_flight: tokio::task::JoinSet<()>,
    undo_running: Arc<AtomicBool>,
    traces: Arc<Mutex<Vec<ActionTrace>>>,
    /// Whether autonomous actions of the restored engine still need checking against the
    /// executor's ledger (done once, at the first poll).
    reconcile_pending: bool,
    clock: Clock,
    stats: LiveStats,
    state_dir: PathBuf,
    collect: CollectConfig,
    last_save: Instant,
}

const ENGINE_SNAPSHOT: &str = "engine.snapshot.json";
const DEDUP_STATE: &str = "live-dedup.bin";

impl Live {
    /// Builds the loop, resuming from `state_dir` when it holds earlier state.
    pub fn new(s: LiveSettings) -> Result<Live, LiveError> {
        let credentials = Credentials::resolve(&s.collect.credentials)?;
        let tokens = Arc::new(TokenSource::new(
            http_client(),
            &s.collect.endpoints.login,
            credentials,
        ));
        Self::with_tokens(s, tokens)
    }

    /// As [`Live::new`], with a token source made elsewhere. Both must be called inside a tokio
    /// runtime (the export task is spawned here).
    pub fn with_tokens(s: LiveSettings, tokens: Arc<TokenSource>) -> Result<Live, LiveError> {
        let dir = &s.state_dir;
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let ep = &s.collect.endpoints;
        let cp = |name: &str| dir.join(name);
        let management = s
            .collect
            .management
            .enabled
            .then(|| {
                ManagementCollector::new(
                    tokens.clone(),
                    &ep.manage,
                    s.collect.management.clone(),
                    s.clock.clone(),
                    cp("checkpoint-management.json"),
                )
                .map_err(io_err(&cp("checkpoint-management.json")))
            })
            .transpose()?;
        let sign_ins = s
            .collect
            .sign_ins
            .enabled
            .then(|| {
                SignInCollector::new(
                    tokens.clone(),
                    &ep.graph,
                    s.collect.sign_ins.clone(),
                    s.clock.clone(),
                    cp("checkpoint-signins.json"),
                )
                .map_err(io_err(&cp("checkpoint-signins.json")))
            })
            .transpose()?;
        let message_trace = s
            .collect
            .message_trace
            .enabled
            .then(|| {
                MessageTraceCollector::new(
                    tokens.clone(),
                    &ep.reporting,
                    s.collect.message_trace.clone(),
                    s.clock.clone(),
                    cp("checkpoint-messagetrace.json"),
                )
                .map_err(io_err(&cp("checkpoint-messagetrace.json")))
            })
            .transpose()?;

        let snapshot = cp(ENGINE_SNAPSHOT);
        let engine = match std::fs::read(&snapshot) {
            Ok(bytes) => Engine::restore(s.engine.clone(), &bytes)
                .map_err(|e| LiveError::Engine(format!("{}: {e}", snapshot.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Engine::new(s.engine.clone()).map_err(|e| LiveError::Engine(e.to_string()))?
            }
            Err(e) => return Err(io_err(&snapshot)(e)),
        };
        let mut ingest_config = s.ingest.clone();
        ingest_config.reorder_window_secs = s.collect.reorder_window_secs;
        let dedup_path = cp(DEDUP_STATE);
        let dedup = Deduplicator::load(&dedup_path, ingest_config.dedup_horizon_days)
            .map_err(io_err(&dedup_path))?;
        // Ingest borrows its enrichment function for as long as it lives; a live loop lives as
        // long as the process, so the closure is leaked once instead of threading a lifetime
        // through every owner.
        let enricher = s.enricher.clone();
        let enrich: &'static (dyn Fn(&mut Event) + Sync) =
            Box::leak(Box::new(move |e: &mut Event| enricher.enrich(e)));
        let ingest = Ingest::new(ingest_config, dedup, enrich);

        let executor = s
            .respond
            .enabled
            .then(|| {
                Executor::new(
                    tokens.clone(),
                    &ep.graph,
                    s.respond.clone(),
                    Some(dir.clone()),
                    s.attempt_sink.clone(),
                )
                .map(Arc::new)
                .map_err(io_err(&dir.join("actions.json")))
            })
            .transpose()?;

        let exporter = Exporter::new(&s.export)?;
        let (exports, export_task) = if exporter.is_empty() {
            (None, None)
        } else {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<OwnedFinding>();
            let task = tokio::spawn(async move {
                let mut exporter = exporter;
                while let Some(f) = rx.recv().await {
                    match f {
                        OwnedFinding::Breach(b) => exporter.export(Finding::Breach(&b)).await,
                        OwnedFinding::Incident(i) => exporter.export(Finding::Incident(&i)).await,
                        OwnedFinding::Flush(done) => {
                            let _ = done.send(());
                        }
                    }
                }
                if let Some(s) = &exporter.syslog {
                    s.close().await;
                }
                exporter
            });
            (Some(tx), Some(task))
        };

        Ok(Live {
            management,
            sign_ins,
            message_trace,
            ingest,
            engine,
            engine_config: s.engine,
            executor,
            exports,
            unsaved_findings: Vec::new(),
            export_task,
            in_flight: tokio::task::JoinSet::new(),
            undo_running: Arc::new(AtomicBool::new(false)),
            traces: Arc::new(Mutex::new(Vec::new())),
            reconcile_pending: true,
            clock: s.clock,
            stats: LiveStats::default(),
            state_dir: s.state_dir,
            collect: s.collect,
            last_save: Instant::now(),
        })
    }

    pub fn stats(&self) -> &LiveStats {
        &self.stats
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn executor(&self) -> Option<&Arc<Executor>> {
        self.executor.as_ref()
    }

    /// Autonomous actions dispatched so far, with their timings.
    pub fn action_traces(&self) -> Vec<ActionTrace> {
        self.traces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Collection lag of every stream.
    pub fn lag(&self) -> Vec<Lag> {
        let mut v = Vec::new();
        if let Some(c) = &self.management {
            v.extend(c.lag());
        }
        if let Some(c) = &self.sign_ins {
            v.extend(c.lag());
        }
        if let Some(c) = &self.message_trace {
            v.extend(c.lag());
        }
        v
    }

    /// Executes the restored engine's autonomous actions that are still in force but that the
    /// ledger does not show as done: the engine state was saved after it planned them, and the
    /// process stopped before the executor finished, so they would never be planned again.
    async fn reconcile_actions(&mut self) {
        self.reconcile_pending = false;
        let Some(exec) = self.executor.clone() else {
            return;
        };
        let now = self.clock.now();
        let records = exec.records().await;
        let planned = self.engine.actions_detailed();
        for p in planned {
            let open = p.mode == ActionMode::Autonomous && p.expires > now;
            let done = records
                .get(&p.id)
                .is_some_and(|r| r.status != vigil_respond::ActionStatus::Failed);
            if !open || done {
                continue;
            }
            let Ok(req) = ActionRequest::from_planned(&p) else {
                continue;
            };
            tracing::info!("resuming action {} {} {}", p.id, p.kind, p.target);
            self.stats.actions_dispatched += 1;
            let exec = exec.clone();
            self.in_flight.spawn(async move {
                exec.execute(req).await;
            });
        }
    }

    /// Polls every collector once and processes what arrived.
    pub async fn poll_once(&mut self) -> PollReport {
        if self.reconcile_pending {
            self.reconcile_actions().await;
        }
        let mut report = PollReport::default();
        let mut batches: Vec<Batch> = Vec::new();
        if let Some(c) = &mut self.management {
            report.merge(c.poll(&mut |b| batches.push(b)).await);
        }
        if let Some(c) = &mut self.sign_ins {
            report.merge(c.poll(&mut |b| batches.push(b)).await);
        }
        if let Some(c) = &mut self.message_trace {
            report.merge(c.poll(&mut |b| batches.push(b)).await);
        }
        for e in &report.errors {
            tracing::warn!("collection: {e}");
        }
        self.stats.polls += 1;
        self.stats.collector_errors += report.errors.len() as u64;
        self.process(batches);
        self.undo_expired();
        if self.last_save.elapsed() >= Duration::from_secs(self.collect.save_interval_secs) {
            if let Err(e) = self.save() {
                tracing::error!("cannot save state: {e}");
            }
        }
        report
    }

    fn process(&mut self, batches: Vec<Batch>) {
        let mut events: Vec<(Event, Instant)> = Vec::new();
        for b in batches {
            self.stats.batches += 1;
            if b.records == 0 {
                continue;
            }
            self.stats.records += b.records as u64;
            for r in vigil_sources::read_bytes(&b.name, b.body.as_bytes(), None) {
                match r {
                    Ok(e) => events.push((e, b.fetched_at)),
                    Err(err) => {
                        tracing::warn!("rejected: {err}");
                        self.stats.rejected += 1;
                        self.ingest.stats.record_rejected(&err);
                    }
                }
            }
        }
        if events.is_empty() {
            return;
        }
        // Sources arrive with different delays; one round in event-time order is what the
        // engine learns best from (stable: equal times keep arrival order).
        events.sort_by_key(|(e, _)| e.time);
        let arrivals: HashMap<Box<str>, Instant> =
            events.iter().map(|(e, t)| (e.id.clone(), *t)).collect();
        let round_start = events.iter().map(|(_, t)| *t).min();
        let mut outputs: Vec<(Instant, EngineOutput)> = Vec::new();
        let engine = &mut self.engine;
        let stats = &mut self.stats;
        let mut sink = |e: Event| {
            stats.events += 1;
            let out = engine.process(&e);
            if !out.is_empty() {
                let arrived = std::iter::once(&e.id)
                    .chain(e.alias_ids.iter())
                    .filter_map(|id| arrivals.get(id))
                    .min()
                    .copied()
                    .or(round_start)
                    .unwrap_or_else(Instant::now);
                outputs.push((arrived, out));
            }
        };
        for (e, _) in events {
            self.ingest.push(e, &mut sink);
        }
        for (arrived, out) in outputs {
            self.dispatch(arrived, out);
        }
    }

    fn dispatch(&mut self, arrived: Instant, out: EngineOutput) {
        // Containment first: it is what the 1-second budget is for.
        for a in &out.actions {
            self.stats.actions_planned += 1;
            match (a.mode, &self.executor) {
                (ActionMode::Autonomous, Some(exec)) => {
                    let Some(planned) = self
                        .engine
                        .actions_detailed()
                        .into_iter()
                        .find(|p| p.id == a.id)
                    else {
                        continue;
                    };
                    let req = match ActionRequest::from_planned(&planned) {
                        Ok(r) => r,
                        Err(e) => {
                            tracing::error!("action {}: {e}", a.id);
                            continue;
                        }
                    };
                    self.stats.actions_dispatched += 1;
                    let index = {
                        let mut t = self.traces.lock().unwrap_or_else(|e| e.into_inner());
                        t.push(ActionTrace {
                            action_id: a.id.clone(),
                            kind: a.kind.clone(),
                            target: a.target.clone(),
                            record_arrived: arrived,
                            planned: Instant::now(),
                            finished: None,
                            status: None,
                        });
                        t.len() - 1
                    };
                    let exec = exec.clone();
                    let traces = self.traces.clone();
                    self.in_flight.spawn(async move {
                        let status = exec.execute(req).await;
                        let mut t = traces.lock().unwrap_or_else(|e| e.into_inner());
                        t[index].finished = Some(Instant::now());
                        t[index].status = Some(status);
                    });
                }
                (ActionMode::Confirm, _) => {
                    self.stats.actions_pending_confirmation += 1;
                    tracing::info!(
                        "action {} {} {} awaits confirmation (incident {})",
                        a.id,
                        a.kind,
                        a.target,
                        a.incident_id
                    );
                }
                _ => {}
            }
        }
        self.stats.breaches += out.breaches.len() as u64;
        self.stats.incidents += out.incidents.len() as u64;
        if self.exports.is_some() {
            self.unsaved_findings.extend(
                out.breaches
                    .into_iter()
                    .map(|b| OwnedFinding::Breach(Box::new(b))),
            );
            self.unsaved_findings.extend(
                out.incidents
                    .into_iter()
                    .map(|i| OwnedFinding::Incident(Box::new(i))),
            );
        }
        // Finished executions need not be kept in the set.
        while self.in_flight.try_join_next().is_some() {}
    }

    fn undo_expired(&mut self) {
        let Some(exec) = self.executor.clone() else {
            return;
        };
        if self.undo_running.swap(true, Ordering::AcqRel) {
            return;
        }
        let flag = self.undo_running.clone();
        self.in_flight.spawn(async move {
            exec.undo_due(chrono::Utc::now()).await;
            flag.store(false, Ordering::Release);
        });
    }

    /// Saves engine, deduplication and checkpoints, in that order.
    pub fn save(&mut self) -> Result<(), LiveError> {
        let snapshot = self.state_dir.join(ENGINE_SNAPSHOT);
        vigil_collect::save_checkpoint_bytes(&snapshot, &self.engine.snapshot())
            .map_err(io_err(&snapshot))?;
        let dedup = self.state_dir.join(DEDUP_STATE);
        self.ingest
            .dedup_mut()
            .save(&dedup)
            .map_err(io_err(&dedup))?;
        if let Some(c) = &self.management {
            c.save_checkpoint()
                .map_err(io_err(&self.state_dir.join("checkpoint-management.json")))?;
        }
        if let Some(c) = &self.sign_ins {
            c.save_checkpoint()
                .map_err(io_err(&self.state_dir.join("checkpoint-signins.json")))?;
        }
        if let Some(c) = &self.message_trace {
            c.save_checkpoint()
                .map_err(io_err(&self.state_dir.join("checkpoint-messagetrace.json")))?;
        }
        self.last_save = Instant::now();
        let metrics = self.state_dir.join("metrics.prom");
        if let Err(e) =
            vigil_collect::save_checkpoint_bytes(&metrics, self.metrics_text().as_bytes())
        {
            // Monitoring output: worth a warning, never worth stopping for.
            tracing::warn!("cannot write {}: {e}", metrics.display());
        }
        // Only now are the findings safe to send: a crash before this point re-raises them.
        // A breach or incident changed several times since the last save is sent once, as it
        // is now.
        if let Some(tx) = &self.exports {
            let key = |f: &OwnedFinding| match f {
                OwnedFinding::Breach(b) => (1, b.id.clone()),
                OwnedFinding::Incident(i) => (2, i.id.clone()),
                OwnedFinding::Flush(_) => (0, String::new()),
            };
            let latest: HashMap<(u8, String), usize> = self
                .unsaved_findings
                .iter()
                .enumerate()
                .map(|(i, f)| (key(f), i))
                .collect();
            for (i, f) in self.unsaved_findings.drain(..).enumerate() {
                if latest.get(&key(&f)) == Some(&i) {
                    let _ = tx.send(f);
                }
            }
        }
        Ok(())
    }

    /// Waits until every finding released by the last save has been handed to the exporters.
    pub async fn flush_exports(&self) {
        if let Some(tx) = &self.exports {
            let (done, wait) = tokio::sync::oneshot::channel();
            if tx.send(OwnedFinding::Flush(done)).is_ok() {
                let _ = wait.await;
            }
        }
    }

    /// Counters and lag in the Prometheus text format, as written to `metrics.prom` in the
    /// state directory at every save (for node_exporter's textfile collector, or any scraper).
    pub fn metrics_text(&self) -> String {
        use std::fmt::Write;
        let s = &self.stats;
        let mut out = String::new();
        let counters = [
            ("polls", s.polls, "collector poll rounds"),
            ("records", s.records, "records collected"),
            ("rejected", s.rejected, "records that could not be read"),
            ("events", s.events, "events processed by the engine"),
            ("breaches", s.breaches, "breaches raised or updated"),
            ("incidents", s.incidents, "incidents created or changed"),
            ("actions_planned", s.actions_planned, "actions planned"),
            (
                "actions_dispatched",
                s.actions_dispatched,
                "autonomous actions sent to the executor",
            ),
            (
                "collector_errors",
                s.collector_errors,
                "collector failures (retried next poll)",
            ),
        ];
        for (name, value, help) in counters {
            let _ = writeln!(out, "# HELP vigil_{name}_total {help}\n# TYPE vigil_{name}_total counter\nvigil_{name}_total {value}");
        }
        let _ = writeln!(
            out,
            "# HELP vigil_collect_lag_seconds now minus the newest record collected\n# TYPE vigil_collect_lag_seconds gauge"
        );
        for l in self.lag() {
            if let Some(secs) = l.lag_seconds {
                let _ = writeln!(
                    out,
                    "vigil_collect_lag_seconds{{source=\"{}\",stream=\"{}\"}} {secs}",
                    l.source.as_str(),
                    l.stream
                );
            }
        }
        out
    }

    /// Polls every `poll_interval_secs` until `shutdown` completes, then waits for actions in
    /// flight (at most 30 s), flushes the exports and saves.
    pub async fn run(&mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let interval = Duration::from_secs(self.collect.poll_interval_secs.max(1));
        loop {
            let started = Instant::now();
            let report = self.poll_once().await;
            let lag: Vec<String> = self
                .lag()
                .iter()
                .filter_map(|l| l.lag_seconds.map(|s| format!("{} {s:.0}s", l.stream)))
                .collect();
            tracing::info!(
                "poll: {} batches, {} records, {} requests, {} errors; {} events, {} breaches, {} incidents, {} actions; lag {}",
                report.batches,
                report.records,
                report.requests,
                report.errors.len(),
                self.stats.events,
                self.stats.breaches,
                self.stats.incidents,
                self.stats.actions_planned,
                lag.join(", ")
            );
            let wait = interval.saturating_sub(started.elapsed());
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = &mut shutdown => break,
            }
        }
        self.shutdown().await;
    }

    /// Waits for actions in flight, flushes exports, saves.
    pub async fn shutdown(&mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(30), async {
            while self.in_flight.join_next().await.is_some() {}
        })
        .await;
        if let Err(e) = self.save() {
            tracing::error!("cannot save state: {e}");
        }
        self.exports = None;
        if let Some(task) = self.export_task.take() {
            if let Ok(exporter) = task.await {
                for (name, n) in &exporter.failures {
                    tracing::warn!("{n} exports to {name} failed");
                }
            }
        }
    }

    /// The engine configuration this loop runs with.
    pub fn engine_config(&self) -> &EngineConfig {
        &self.engine_config
    }
}
