//! Ingest while serving: one thread owns the engine and feeds it files (from the watched
//! directory, the demo, or bodies posted to the API), then commits what changed to the store in
//! one transaction per job.
//!
//! Why a thread of its own: ingest and detection are CPU-bound and synchronous; on the async
//! runtime they would stall the console. Jobs arrive through a bounded channel, so a flood of
//! posted events meets back-pressure (503) instead of unbounded memory.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use chrono::Utc;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use vigil_engine::state::Features;
use vigil_engine::{Engine, EngineConfig};
use vigil_enrich::Enricher;
use vigil_event::{Event, EventKind};
use vigil_ingest::{Progress, ReplayOptions};
use vigil_report::{ActionMode, Breach};
use vigil_sources::RecordError;
use vigil_store::{
    Checkpoint, IngestBatch, ModelDefinition, ModelRecord, PlannedActionRow, Snapshot, Store,
};

use crate::profile::Profile;

/// The file `vigil_ingest::replay` keeps its deduplication ids in, inside its state directory.
const DEDUP_FILE: &str = "dedup.bin";

/// Rejections kept per job for the response (the rest are counted).
const REJECTIONS_KEPT: usize = 1000;

/// One record that could not be read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LineError {
    pub line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub reason: String,
}

/// What a job did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct JobReport {
    pub files: u64,
    pub records: u64,
    pub events: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// The first rejected records, with their line within the file or posted body.
    pub errors: Vec<LineError>,
    pub breaches: u64,
    pub incidents: u64,
    pub actions: u64,
}

pub type JobReply = oneshot::Sender<Result<JobReport, String>>;

pub enum Job {
    /// Read these files (or directories); with `checkpoint`, record them as done.
    Files {
        paths: Vec<PathBuf>,
        checkpoint: bool,
        reply: Option<JobReply>,
    },
    /// A body posted to the API, spooled to this file; deleted once read.
    Posted { spool: PathBuf, reply: JobReply },
    /// Model settings changed in the store: rebuild the engine's response configuration.
    ReloadModels,
}

/// Counters shared with the API (health, metrics).
#[derive(Debug, Default)]
pub struct IngestStats {
    pub jobs: AtomicU64,
    pub failed_jobs: AtomicU64,
    pub records: AtomicU64,
    pub events: AtomicU64,
    pub rejected: AtomicU64,
    pub duplicates: AtomicU64,
    pub breaches: AtomicU64,
    /// Event time of the newest event processed (ms since the epoch), 0 before any.
    pub last_event_ms: AtomicI64,
    pub busy: AtomicBool,
    /// Jobs refused because the queue was full.
    pub refused: AtomicU64,
    /// Wall time spent in jobs, milliseconds.
    pub busy_ms: AtomicU64,
}

struct CollectRejections {
    kept: Mutex<Vec<LineError>>,
}

impl Progress for CollectRejections {
    fn start(&self, _: u64, _: usize) {}
    fn advance(&self, _: u64, _: u64) {}
    fn reject(&self, e: &RecordError) {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() < REJECTIONS_KEPT {
            kept.push(LineError {
                line: e.line,
                field: e.field.clone(),
                reason: e.reason.clone(),
            });
        }
    }
    fn finish(&self) {}
}

/// The library's models as the store registers them.
pub fn model_definitions(engine: &Engine) -> Vec<ModelDefinition> {
    engine
        .models()
        .iter()
        .map(|m| ModelDefinition {
            name: m.name.clone(),
            version: m.version,
            kind: m.kind_name().to_string(),
            description: m.description.clone(),
            default_autonomy: m.response.as_ref().map(|r| r.autonomy),
        })
        .collect()
}

fn rank(m: ActionMode) -> u8 {
    match m {
        ActionMode::Off => 0,
        ActionMode::Confirm => 1,
        ActionMode::Autonomous => 2,
    }
}

/// The autonomy a model's actions get: the admin's switch if set, else the library's autonomy
/// capped by the configured global mode; a disabled model takes no action.
pub fn effective_autonomy(m: &ModelRecord, global: ActionMode) -> Option<ActionMode> {
    if !m.enabled {
        return m.default_autonomy.map(|_| ActionMode::Off);
    }
    m.autonomy.or(m
        .default_autonomy
        .map(|d| if rank(d) <= rank(global) { d } else { global }))
}

/// The engine configuration with the admins' model settings applied. The engine caps every
/// model by its global mode, so the global mode is opened to autonomous and each model with a
/// response policy gets its effective autonomy explicitly: the switches then mean what they say.
pub fn configure(base: &EngineConfig, models: &[ModelRecord]) -> (EngineConfig, HashSet<String>) {
    let mut cfg = base.clone();
    let global = base.response.mode;
    cfg.response.mode = ActionMode::Autonomous;
    let mut disabled = HashSet::new();
    for m in models {
        if !m.enabled {
            disabled.insert(m.name.clone());
        }
        if let Some(mode) = effective_autonomy(m, global) {
            let over = cfg.response.models.entry(m.name.clone()).or_default();
            // An autonomy set in the configuration file wins over the library, not over an
            // admin's switch.
            over.autonomy = Some(match (m.autonomy, over.autonomy, m.enabled) {
                (None, Some(configured), true) => configured,
                _ => mode,
            });
        }
    }
    (cfg, disabled)
}

pub struct Ingestor {
    engine: Engine,
    base_config: EngineConfig,
    disabled: HashSet<String>,
    enricher: Arc<Enricher>,
    store: Arc<dyn Store>,
    options: ReplayOptions,
    profiles: HashMap<String, Profile>,
    stats: Arc<IngestStats>,
    responder: Option<crate::respond::Responder>,
}

fn file_identity(path: &Path) -> Option<(u64, i64)> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as i64);
    Some((meta.len(), modified))
}

impl Ingestor {
    /// Restores the engine from the store's snapshot (or starts a fresh one) and registers the
    /// library's models.
    pub fn new(
        store: Arc<dyn Store>,
        base_config: EngineConfig,
        enricher: Arc<Enricher>,
        options: ReplayOptions,
        stats: Arc<IngestStats>,
        responder: Option<crate::respond::Responder>,
    ) -> anyhow::Result<Ingestor> {
        let library = Engine::new(base_config.clone()).map_err(|e| anyhow::anyhow!("{e}"))?;
        store.register_models(&model_definitions(&library), Utc::now())?;
        let (cfg, disabled) = configure(&base_config, &store.models()?);
        let engine = match store.latest_snapshot()? {
            Some(s) => {
                let engine = Engine::restore(cfg, &s.bytes).map_err(|e| {
                    anyhow::anyhow!("cannot restore the engine from the store's snapshot: {e}")
                })?;
                tracing::info!(events = engine.events(), "engine restored from snapshot");
                engine
            }
            None => Engine::new(cfg).map_err(|e| anyhow::anyhow!("{e}"))?,
        };
        stats.events.store(engine.events(), Ordering::Relaxed);
        let mut profiles = HashMap::new();
        for (account, json) in store.profiles()? {
            match serde_json::from_value::<Profile>(json) {
                Ok(p) => {
                    profiles.insert(account, p);
                }
                Err(e) => {
                    tracing::warn!(%account, "stored profile unreadable, starting afresh: {e}")
                }
            }
        }
        Ok(Ingestor {
            engine,
            base_config,
            disabled,
            enricher,
            store,
            options,
            profiles,
            stats,
            responder,
        })
    }

    /// Copies the committed deduplication file into a work directory for one job. Returns
    /// (work directory, work file, committed file), or `None` when no state directory is set.
    fn stage_dedup(&self) -> anyhow::Result<Option<(PathBuf, PathBuf, PathBuf)>> {
        let Some(dir) = &self.options.state_dir else {
            return Ok(None);
        };
        let work_dir = dir.join("work");
        std::fs::create_dir_all(&work_dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", work_dir.display()))?;
        let committed = dir.join(DEDUP_FILE);
        let work = work_dir.join(DEDUP_FILE);
        if committed.exists() {
            std::fs::copy(&committed, &work)
                .map_err(|e| anyhow::anyhow!("cannot stage {}: {e}", committed.display()))?;
        } else if work.exists() {
            std::fs::remove_file(&work)?;
        }
        Ok(Some((work_dir, work, committed)))
    }

    fn reload_models(&mut self) -> anyhow::Result<()> {
        let (cfg, disabled) = configure(&self.base_config, &self.store.models()?);
        self.engine = Engine::restore(cfg, &self.engine.snapshot())
            .map_err(|e| anyhow::anyhow!("cannot apply the model settings: {e}"))?;
        self.disabled = disabled;
        Ok(())
    }

    /// Reads `files` through ingest and detection and commits the results.
    pub fn run(&mut self, paths: &[PathBuf], checkpoint: bool) -> anyhow::Result<JobReport> {
        let started = std::time::Instant::now();
        self.stats.busy.store(true, Ordering::Relaxed);
        let result = self.run_inner(paths, checkpoint);
        self.stats.busy.store(false, Ordering::Relaxed);
        self.stats
            .busy_ms
            .fetch_add(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        self.stats.jobs.fetch_add(1, Ordering::Relaxed);
        if result.is_err() {
            self.stats.failed_jobs.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    fn run_inner(&mut self, paths: &[PathBuf], checkpoint: bool) -> anyhow::Result<JobReport> {
        let files = vigil_sources::collect_files(paths)?;
        // Deduplication state is committed with the store, not before it: the job works on a
        // copy, which replaces the committed file only once the store has the job's findings.
        // A crash in between leaves both as they were, so a file read again is not taken for
        // duplicates of records whose findings were never stored.
        let staged = self.stage_dedup()?;
        let mut options = self.options.clone();
        options.state_dir = staged.as_ref().map(|(dir, _, _)| dir.clone());
        let identities: Vec<(PathBuf, Option<(u64, i64)>)> = files
            .iter()
            .map(|f| (f.clone(), file_identity(f)))
            .collect();
        let progress = CollectRejections {
            kept: Mutex::new(Vec::new()),
        };
        let mut breaches: BTreeMap<String, Breach> = BTreeMap::new();
        let mut touched: BTreeSet<String> = BTreeSet::new();
        let mut new_actions = 0u64;
        let mut autonomous: Vec<String> = Vec::new();
        let mut changed_profiles: BTreeSet<String> = BTreeSet::new();
        let mut last_event_ms = self.stats.last_event_ms.load(Ordering::Relaxed);
        let engine = &mut self.engine;
        let profiles = &mut self.profiles;
        let mut sink = |ev: Event| {
            let out = engine.process(&ev);
            last_event_ms = last_event_ms.max(ev.time.timestamp_millis());
            let f = Features::of(&ev);
            if let Some(account) = f.account.as_deref() {
                // A message trace row names outside senders too; only our accounts get a profile.
                let ours = !matches!(ev.kind, EventKind::MessageTrace(_))
                    || engine.state().account(account).is_some();
                if ours && ev.linked_to.is_none() {
                    profiles
                        .entry(account.to_string())
                        .or_insert_with(|| Profile::new(account, ev.time))
                        .observe(&ev, &f);
                    changed_profiles.insert(account.to_string());
                }
            }
            for b in out.breaches {
                breaches.insert(b.id.clone(), b);
            }
            touched.extend(out.incidents.into_iter().map(|i| i.id));
            new_actions += out.actions.len() as u64;
            autonomous.extend(
                out.actions
                    .iter()
                    .filter(|a| a.mode == ActionMode::Autonomous)
                    .map(|a| a.id.clone()),
            );
        };
        let enricher = self.enricher.clone();
        let enrich = move |e: &mut Event| enricher.enrich(e);
        let summary = vigil_ingest::replay(&files, &options, &enrich, &progress, &mut sink)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        self.stats
            .last_event_ms
            .store(last_event_ms, Ordering::Relaxed);

        let mut batch = IngestBatch::default();
        let breach_count = breaches.len() as u64;
        batch.breaches = breaches
            .into_values()
            .filter(|b| !self.disabled.contains(&b.model))
            .collect();
        let detailed = self.engine.incidents_detailed();
        let visible: HashSet<&str> = detailed.iter().map(|i| i.id.as_str()).collect();
        for inc in detailed.iter().filter(|i| touched.contains(&i.id)) {
            batch
                .incidents
                .push((inc.to_report(), serde_json::to_value(inc)?));
        }
        if !touched.is_empty() {
            // An incident the engine merged into another is no longer visible under its id:
            // mark it merged, pointing at the incident that now holds its breaches.
            for stale in self.store.open_incident_ids()? {
                if visible.contains(stale.as_str()) {
                    continue;
                }
                let held: HashSet<String> = self
                    .store
                    .incident(&stale)?
                    .map(|r| r.incident.breach_ids.into_iter().collect())
                    .unwrap_or_default();
                let into = detailed
                    .iter()
                    .find(|i| i.breach_ids.iter().any(|b| held.contains(b)))
                    .map_or_else(String::new, |i| i.id.clone());
                batch.merged.push((stale, into));
            }
        }
        if new_actions > 0 || !touched.is_empty() {
            batch.actions = self
                .engine
                .actions_detailed()
                .into_iter()
                .map(|a| PlannedActionRow {
                    breach_id: a.breach_id.clone(),
                    model: a.model.clone(),
                    expires: a.expires,
                    action: a.to_report(),
                })
                .collect();
        }
        for account in &changed_profiles {
            if let Some(p) = self.profiles.get(account) {
                batch
                    .profiles
                    .push((account.clone(), serde_json::to_value(p)?));
            }
        }
        batch.snapshot = Some(Snapshot {
            at: Utc::now(),
            events: self.engine.events(),
            bytes: self.engine.snapshot(),
        });
        if checkpoint {
            for (path, identity) in identities {
                if let Some((size, modified)) = identity {
                    batch.checkpoints.push(Checkpoint {
                        source: path.display().to_string(),
                        size,
                        modified,
                        at: Utc::now(),
                    });
                }
            }
        }
        self.store.apply(&batch)?;
        // Stored as `planned`: now the executors may take them (queued, never waited for).
        if let Some(r) = &self.responder {
            for id in &autonomous {
                r.submit(id);
            }
        }
        if let Some((_, work, committed)) = staged {
            if work.exists() {
                std::fs::rename(&work, &committed)
                    .map_err(|e| anyhow::anyhow!("cannot commit {}: {e}", committed.display()))?;
            }
        }

        let s = &self.stats;
        s.records.fetch_add(summary.records_read, Ordering::Relaxed);
        s.events.store(self.engine.events(), Ordering::Relaxed);
        s.rejected.fetch_add(summary.rejected, Ordering::Relaxed);
        s.duplicates
            .fetch_add(summary.duplicates_dropped, Ordering::Relaxed);
        s.breaches.fetch_add(breach_count, Ordering::Relaxed);
        Ok(JobReport {
            files: summary.files,
            records: summary.records_read,
            events: summary.events,
            duplicates: summary.duplicates_dropped,
            rejected: summary.rejected,
            errors: progress
                .kept
                .into_inner()
                .unwrap_or_else(|p| p.into_inner()),
            breaches: breach_count,
            incidents: batch.incidents.len() as u64,
            actions: new_actions,
        })
    }
}

/// Runs jobs until every sender is gone.
pub fn spawn(mut ingestor: Ingestor, mut jobs: mpsc::Receiver<Job>) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("vigil-ingest".into())
        .spawn(move || {
            while let Some(job) = jobs.blocking_recv() {
                match job {
                    Job::Files {
                        paths,
                        checkpoint,
                        reply,
                    } => {
                        let r = ingestor
                            .run(&paths, checkpoint)
                            .map_err(|e| format!("{e:#}"));
                        if let Err(e) = &r {
                            tracing::error!("ingest of {paths:?} failed: {e}");
                        }
                        if let Some(reply) = reply {
                            let _ = reply.send(r);
                        }
                    }
                    Job::Posted { spool, reply } => {
                        let r = ingestor
                            .run(std::slice::from_ref(&spool), false)
                            .map_err(|e| format!("{e:#}"));
                        if let Err(e) = std::fs::remove_file(&spool) {
                            tracing::warn!("cannot remove {}: {e}", spool.display());
                        }
                        let _ = reply.send(r);
                    }
                    Job::ReloadModels => {
                        if let Err(e) = ingestor.reload_models() {
                            tracing::error!("{e:#}");
                        }
                    }
                }
            }
        })
        .expect("the ingest thread starts")
}

/// Polls `dir` for files not yet read (or grown since) and queues them. A file is taken once
/// its size and modification time held still between two polls, so a file being written is
/// not read half-way.
pub async fn watch(dir: PathBuf, every: Duration, store: Arc<dyn Store>, jobs: mpsc::Sender<Job>) {
    let mut queued: HashMap<PathBuf, (u64, i64)> = HashMap::new();
    let mut seen_last_poll: HashMap<PathBuf, (u64, i64)> = HashMap::new();
    loop {
        let files = {
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || vigil_sources::collect_files(&[dir]))
                .await
                .ok()
                .and_then(|r| r.ok())
                .unwrap_or_default()
        };
        let done: HashMap<String, (u64, i64)> = match store.checkpoints() {
            Ok(c) => c
                .into_iter()
                .map(|c| (c.source, (c.size, c.modified)))
                .collect(),
            Err(e) => {
                tracing::warn!("cannot read checkpoints: {e}");
                HashMap::new()
            }
        };
        let mut ready = Vec::new();
        let mut this_poll = HashMap::new();
        for f in files {
            let Some(id) = file_identity(&f) else {
                continue;
            };
            this_poll.insert(f.clone(), id);
            let already =
                done.get(&f.display().to_string()) == Some(&id) || queued.get(&f) == Some(&id);
            if !already && seen_last_poll.get(&f) == Some(&id) {
                ready.push((f, id));
            }
        }
        seen_last_poll = this_poll;
        if !ready.is_empty() {
            let paths: Vec<PathBuf> = ready.iter().map(|(p, _)| p.clone()).collect();
            let job = Job::Files {
                paths,
                checkpoint: true,
                reply: None,
            };
            // Waits while the queue is full: the watcher is the one producer that may wait.
            if jobs.send(job).await.is_err() {
                return;
            }
            queued.extend(ready);
        }
        tokio::time::sleep(every).await;
    }
}
