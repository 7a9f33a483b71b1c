//! Response while serving: actions executed through Microsoft Graph (vigil-respond), when the
//! configuration has a `[respond]` section.
//!
//! The ingest thread and the request handlers never wait for Graph. They hand an action id to
//! [`Responder::submit`], which only puts it on a bounded queue; one task on the runtime takes
//! ids off it and runs at most [`CONCURRENT`] executions at once. An action is first claimed in
//! the store (`planned` or `confirmed` → `executing`), so it runs once however often it is
//! submitted, and detection no longer changes its state. Every attempt the executor makes and
//! the outcome (`executed`, `failed` with the reason) are written to the store in the order they
//! happen, by one recorder task. Reversible actions are undone when their duration is over
//! (`undone`, or `undo_failed`), checked every [`UNDO_EVERY`].

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{mpsc, Semaphore};
use vigil_respond::{
    ActionAttempt, ActionKind, ActionRequest, ActionStatus, AttemptResult, AttemptSink, Executor,
    Operation,
};
use vigil_store::{AttemptRecord, Store};

/// Executions in flight at once.
pub const CONCURRENT: usize = 4;
/// Actions that may wait for an execution slot; beyond this an action is marked failed (and
/// says why) rather than queued without bound.
pub const QUEUE: usize = 1024;
/// How often reversible actions past their duration are looked for.
pub const UNDO_EVERY: Duration = Duration::from_secs(30);

/// What the store is told, in order.
enum Record {
    Attempt(AttemptRecord),
    Outcome {
        id: String,
        state: &'static str,
        detail: String,
    },
    /// Answered once everything sent before it is in the store.
    Flush(tokio::sync::oneshot::Sender<()>),
}

fn attempt_record(a: &ActionAttempt) -> AttemptRecord {
    let result = match a.result {
        AttemptResult::Succeeded => "succeeded",
        AttemptResult::AlreadyDone => "already_done",
        AttemptResult::WillRetry => "will_retry",
        AttemptResult::Failed => "failed",
        AttemptResult::NotReversible => "not_reversible",
    };
    AttemptRecord {
        action_id: a.action_id.clone(),
        operation: match a.operation {
            Operation::Execute => "execute",
            Operation::Undo => "undo",
        }
        .into(),
        attempt: a.attempt,
        started: a.started_at,
        finished: a.finished_at,
        result: result.into(),
        http_status: a.http_status,
        error_code: a.error_code.clone(),
        detail: a.detail.clone(),
    }
}

/// The executor's sink: attempts go to the recorder, never straight to SQLite (the executor
/// calls it on the runtime).
struct Sink(mpsc::UnboundedSender<Record>);

impl AttemptSink for Sink {
    fn record(&self, attempt: &ActionAttempt) {
        let _ = self.0.send(Record::Attempt(attempt_record(attempt)));
    }
}

/// The store state an executor status is shown as (`None`: still running elsewhere).
fn state_of(status: ActionStatus) -> Option<&'static str> {
    match status {
        ActionStatus::Executing => None,
        ActionStatus::Executed | ActionStatus::NotReversible => Some("executed"),
        ActionStatus::Failed => Some("failed"),
        ActionStatus::Undone => Some("undone"),
        ActionStatus::UndoFailed => Some("undo_failed"),
    }
}

/// Hands actions to the executors; cheap to clone, never blocks.
#[derive(Clone)]
pub struct Responder {
    queue: mpsc::Sender<(String, bool)>,
    records: mpsc::UnboundedSender<Record>,
}

impl Responder {
    /// Queues an action (autonomous and just planned, or just confirmed) for execution.
    pub fn submit(&self, id: &str) {
        self.send(id, false);
    }

    fn send(&self, id: &str, resume: bool) {
        if let Err(e) = self.queue.try_send((id.to_string(), resume)) {
            let why = match e {
                mpsc::error::TrySendError::Full(_) => {
                    format!("not executed: {QUEUE} actions were already waiting for the executors")
                }
                mpsc::error::TrySendError::Closed(_) => {
                    "not executed: the executors have stopped".to_string()
                }
            };
            tracing::error!("action {id}: {why}");
            let _ = self.records.send(Record::Outcome {
                id: id.to_string(),
                state: "failed",
                detail: why,
            });
        }
    }
}

/// The response side's tasks, stopped with [`Tasks::stop`].
pub struct Tasks {
    recorder: tokio::task::JoinHandle<()>,
    loops: Vec<tokio::task::JoinHandle<()>>,
    slots: Arc<Semaphore>,
    records: mpsc::UnboundedSender<Record>,
    queue: mpsc::Sender<(String, bool)>,
}

impl Tasks {
    /// Executes what is queued, lets the executions in flight finish (within `grace`), writes
    /// what they recorded to the store, and stops. An execution cut short stays `executing`
    /// and is executed again at the next start.
    pub async fn stop(self, grace: Duration) {
        let _ = tokio::time::timeout(grace, async {
            while self.queue.capacity() < self.queue.max_capacity() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            // Fair: the loop's own wait for a slot comes first.
            let _ = self.slots.acquire_many(CONCURRENT as u32).await;
        })
        .await;
        for t in &self.loops {
            t.abort();
        }
        let (done, wait) = tokio::sync::oneshot::channel();
        if self.records.send(Record::Flush(done)).is_ok() {
            let _ = tokio::time::timeout(grace, wait).await;
        }
        self.recorder.abort();
        for t in self.loops.into_iter().chain([self.recorder]) {
            let _ = t.await;
        }
    }
}

/// Starts the recorder, the execution loop and the undo loop on the current runtime. Actions a
/// stop interrupted while `executing` are executed again (the executor's ledger knows which
/// were done, and every step checks the tenant first).
pub fn start(
    store: Arc<dyn Store>,
    make_executor: impl FnOnce(Arc<dyn AttemptSink>) -> std::io::Result<Executor>,
    undo_every: Duration,
) -> std::io::Result<(Responder, Tasks)> {
    let (records, records_rx) = mpsc::unbounded_channel();
    let executor = Arc::new(make_executor(Arc::new(Sink(records.clone())))?);
    let (queue, queue_rx) = mpsc::channel(QUEUE);
    let responder = Responder {
        queue: queue.clone(),
        records: records.clone(),
    };
    let slots = Arc::new(Semaphore::new(CONCURRENT));
    let tasks = Tasks {
        recorder: tokio::spawn(record(store.clone(), records_rx)),
        loops: vec![
            tokio::spawn(execute_queued(
                store.clone(),
                executor.clone(),
                responder.clone(),
                slots.clone(),
                queue_rx,
            )),
            tokio::spawn(undo_expired(executor, responder.clone(), undo_every)),
        ],
        slots,
        records,
        queue,
    };
    let resume = responder.clone();
    tokio::spawn(async move {
        let interrupted =
            tokio::task::spawn_blocking(move || store.actions(Some("executing"), None)).await;
        if let Ok(Ok(actions)) = interrupted {
            for a in actions {
                tracing::info!("resuming action {} interrupted by a stop", a.action.id);
                resume.send(&a.action.id, true);
            }
        }
    });
    Ok((responder, tasks))
}

/// Writes attempts and outcomes to the store, in the order they were made.
async fn record(store: Arc<dyn Store>, mut rx: mpsc::UnboundedReceiver<Record>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        let store = store.clone();
        let _ = tokio::task::spawn_blocking(move || {
            for r in batch {
                let result = match r {
                    Record::Attempt(a) => store.record_attempt(&a),
                    Record::Outcome { id, state, detail } => {
                        store.set_action_outcome(&id, state, &detail, Utc::now())
                    }
                    Record::Flush(done) => {
                        let _ = done.send(());
                        Ok(())
                    }
                };
                if let Err(e) = result {
                    tracing::error!("cannot record an action's execution: {e}");
                }
            }
        })
        .await;
    }
}

async fn execute_queued(
    store: Arc<dyn Store>,
    executor: Arc<Executor>,
    responder: Responder,
    slots: Arc<Semaphore>,
    mut rx: mpsc::Receiver<(String, bool)>,
) {
    while let Some((id, resume)) = rx.recv().await {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let store = store.clone();
        let executor = executor.clone();
        let responder = responder.clone();
        tokio::spawn(async move {
            execute_one(store, &executor, &responder, id, resume).await;
            drop(slot);
        });
    }
}

async fn execute_one(
    store: Arc<dyn Store>,
    executor: &Executor,
    responder: &Responder,
    id: String,
    resume: bool,
) {
    let from: &'static [&'static str] = if resume {
        &["executing"]
    } else {
        &["planned", "confirmed"]
    };
    let claimed = {
        let store = store.clone();
        let id = id.clone();
        tokio::task::spawn_blocking(move || {
            let Some(action) = store.action(&id)? else {
                return Ok(None);
            };
            Ok(store.claim_action(&id, from, Utc::now())?.then_some(action))
        })
        .await
        .unwrap_or_else(|e| Err(vigil_store::StoreError::Open(format!("store task: {e}"))))
    };
    let action = match claimed {
        Ok(Some(a)) => a,
        Ok(None) => return,
        Err(e) => {
            tracing::error!("action {id}: cannot claim it: {e}");
            return;
        }
    };
    let a = &action.action;
    let Some(kind) = ActionKind::parse(&a.kind) else {
        let _ = responder.records.send(Record::Outcome {
            id,
            state: "failed",
            detail: format!("no executor for action kind {:?}", a.kind),
        });
        return;
    };
    let secs = (action.expires - a.time).num_seconds();
    let req = ActionRequest {
        action_id: a.id.clone(),
        incident_id: a.incident_id.clone(),
        kind,
        target: a.target.clone(),
        duration_secs: (secs > 0).then_some(secs),
    };
    let status = executor.execute(req).await;
    report(executor, responder, &id, status).await;
}

async fn report(executor: &Executor, responder: &Responder, id: &str, status: ActionStatus) {
    let Some(state) = state_of(status) else {
        return;
    };
    let detail = executor
        .record(id)
        .await
        .map(|r| r.detail)
        .unwrap_or_default();
    if state == "failed" {
        tracing::warn!("action {id} failed: {detail}");
    }
    let _ = responder.records.send(Record::Outcome {
        id: id.to_string(),
        state,
        detail,
    });
}

async fn undo_expired(executor: Arc<Executor>, responder: Responder, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        for id in executor.undo_due(Utc::now()).await {
            if let Some(r) = executor.record(&id).await {
                report(&executor, &responder, &id, r.status).await;
            }
        }
    }
}
