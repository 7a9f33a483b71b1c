//! Vigil's store: everything `vigil serve` must not lose across a restart.
//!
//! Breaches, incidents (with their timelines), actions and the analysts' decisions about them,
//! models with their versions and settings, users, sessions and API tokens, the engine's snapshot
//! and the ingest checkpoints. [`Store`] is the contract (a PostgreSQL backend will implement it
//! later); [`SqliteStore`] is the embedded implementation: one file in the data directory, WAL
//! mode so readers (the console) never wait for the writer (ingest), and numbered migrations.
//!
//! Invariants: everything detection produces is upserted by its stable id, so replaying the
//! same findings twice stores them once; an analyst's decision is never overwritten by detection;
//! one ingest step (findings + engine snapshot + checkpoints) commits in one transaction, so a
//! crash leaves either all of it or none.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use vigil_report::{Action, ActionMode, Breach, Incident};

mod sqlite;

pub use sqlite::SqliteStore;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("stored JSON is not readable: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("cannot open the store: {0}")]
    Open(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Roles, in increasing power: viewers read, analysts also decide on actions, admins also
/// change models, users and tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Analyst,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "analyst" => Some(Role::Analyst),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

pub fn mode_str(m: ActionMode) -> &'static str {
    match m {
        ActionMode::Autonomous => "autonomous",
        ActionMode::Confirm => "confirm",
        ActionMode::Off => "off",
    }
}

pub fn parse_mode(s: &str) -> Option<ActionMode> {
    match s {
        "autonomous" => Some(ActionMode::Autonomous),
        "confirm" => Some(ActionMode::Confirm),
        "off" => Some(ActionMode::Off),
        _ => None,
    }
}

/// An incident as stored: the report's fields, the engine's detail (timeline, infrastructure,
/// links) as JSON, and whether it is still open or was merged into another.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentRecord {
    #[serde(flatten)]
    pub incident: Incident,
    /// The engine's detailed incident (timeline, ips, networks, countries, apps, links).
    pub detail: serde_json::Value,
    /// `open`, or `merged` (then `merged_into` names the incident that holds it).
    pub status: String,
    pub merged_into: Option<String>,
    pub updated: DateTime<Utc>,
}

/// One row of the incident queue (no timeline: the queue must stay cheap).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentSummary {
    pub id: String,
    pub title: String,
    pub score: f64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub entities: Vec<String>,
    pub breaches: u64,
    pub pending_actions: u64,
    pub status: String,
}

/// Filters of the incident queue.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IncidentFilter {
    pub min_score: Option<f64>,
    /// Incidents involving this entity (account UPN, `ip:…`, or an IP/infrastructure value
    /// found in the incident's detail).
    pub entity: Option<String>,
    /// Only incidents whose span overlaps [since, until].
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Include merged incidents.
    pub include_merged: bool,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub total: u64,
    pub items: Vec<T>,
}

/// Filters of breach listings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BreachFilter {
    pub entity: Option<String>,
    pub model: Option<String>,
    pub incident: Option<String>,
    pub min_score: Option<f64>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// An action with its decision, if an analyst made one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionRecord {
    #[serde(flatten)]
    pub action: Action,
    pub breach_id: String,
    pub model: String,
    pub expires: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// When the response side took the action over (`executing`) or recorded its outcome
    /// (`executed`, `failed`, `undone`, `undo_failed`); from then on detection never changes
    /// its state.
    pub outcome_at: Option<DateTime<Utc>>,
    /// What the execution came to: what was done, or why it failed.
    pub outcome: Option<String>,
    /// Every attempt at executing or undoing it, oldest first.
    pub attempts: Vec<AttemptRecord>,
}

/// One attempt at executing or undoing an action through Microsoft Graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptRecord {
    pub action_id: String,
    /// `execute` or `undo`.
    pub operation: String,
    /// 1 for the first attempt of an operation.
    pub attempt: u32,
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    /// `succeeded`, `already_done`, `will_retry`, `failed` or `not_reversible`.
    pub result: String,
    pub http_status: Option<u16>,
    /// The service's error code, e.g. `generalException`.
    pub error_code: Option<String>,
    pub detail: String,
}

/// An action as the engine planned it, with the fields the report leaves out.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedActionRow {
    pub action: Action,
    pub breach_id: String,
    pub model: String,
    pub expires: DateTime<Utc>,
}

/// What an analyst decides about a pending action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionDecision {
    Confirm,
    Decline,
    Expire,
}

impl ActionDecision {
    /// The state the action moves to.
    pub fn state(self) -> &'static str {
        match self {
            ActionDecision::Confirm => "confirmed",
            ActionDecision::Decline => "declined",
            ActionDecision::Expire => "expired",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ActionDecision::Confirm => "confirm",
            ActionDecision::Decline => "decline",
            ActionDecision::Expire => "expire",
        }
    }
}

/// One recorded decision: who did what to which thing, when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user: String,
    /// `action`, `model`, `user` or `token`.
    pub subject_kind: String,
    pub subject_id: String,
    pub decision: String,
    pub detail: String,
}

/// A model as the server knows it: what the library says plus the admins' settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    pub name: String,
    pub version: u32,
    pub kind: String,
    pub description: String,
    /// The library's autonomy for the model's actions, if it has any.
    pub default_autonomy: Option<ActionMode>,
    pub enabled: bool,
    /// An admin's override of the autonomy.
    pub autonomy: Option<ActionMode>,
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A model as the library describes it (registered at start; versions are kept).
#[derive(Clone, Debug, PartialEq)]
pub struct ModelDefinition {
    pub name: String,
    pub version: u32,
    pub kind: String,
    pub description: String,
    pub default_autonomy: Option<ActionMode>,
}

/// A change an admin makes to a model.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelChange {
    pub enabled: Option<bool>,
    /// `Some(None)` clears the override.
    pub autonomy: Option<Option<ActionMode>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// Argon2 PHC string.
    #[serde(skip_serializing)]
    pub password_hash: String,
    pub created: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub user: String,
    pub role: Role,
    pub csrf: String,
    pub expires: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_by: String,
    pub created: DateTime<Utc>,
}

/// A file ingest has read completely (so a restart does not read it again).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub source: String,
    pub size: u64,
    pub modified: i64,
    pub at: DateTime<Utc>,
}

/// The engine's state at the end of an ingest step.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub at: DateTime<Utc>,
    pub events: u64,
    pub bytes: Vec<u8>,
}

/// One ingest step's results, committed together.
#[derive(Clone, Debug, Default)]
pub struct IngestBatch {
    pub breaches: Vec<Breach>,
    /// Incidents created or changed, with the engine's detail as JSON.
    pub incidents: Vec<(Incident, serde_json::Value)>,
    /// Incidents that were merged into another: (merged, into).
    pub merged: Vec<(String, String)>,
    pub actions: Vec<PlannedActionRow>,
    /// Account profiles (pattern of life for the console) that changed, as JSON.
    pub profiles: Vec<(String, serde_json::Value)>,
    pub snapshot: Option<Snapshot>,
    pub checkpoints: Vec<Checkpoint>,
}

/// Counts for health and metrics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub incidents: u64,
    pub breaches: u64,
    pub actions_pending: u64,
    pub actions: u64,
    /// Executed through Graph (and possibly undone since).
    pub actions_executed: u64,
    /// Failed after the executors' retries.
    pub actions_failed: u64,
    pub decisions: u64,
    pub users: u64,
}

/// The store's contract.
pub trait Store: Send + Sync {
    /// Commits one ingest step atomically. Upserts by id; never overwrites the state of an
    /// action an analyst decided or the response side took over.
    fn apply(&self, batch: &IngestBatch) -> Result<()>;

    fn incidents(&self, filter: &IncidentFilter) -> Result<Page<IncidentSummary>>;
    fn incident(&self, id: &str) -> Result<Option<IncidentRecord>>;
    /// Ids of incidents that are open (not merged).
    fn open_incident_ids(&self) -> Result<Vec<String>>;
    fn breaches(&self, filter: &BreachFilter) -> Result<Page<Breach>>;
    fn breach(&self, id: &str) -> Result<Option<Breach>>;

    fn actions(&self, state: Option<&str>, incident: Option<&str>) -> Result<Vec<ActionRecord>>;
    fn action(&self, id: &str) -> Result<Option<ActionRecord>>;
    /// Moves a pending action to the decision's state and records who and when. An action that
    /// is no longer pending is a conflict.
    fn decide_action(
        &self,
        id: &str,
        decision: ActionDecision,
        user: &str,
        at: DateTime<Utc>,
        note: &str,
    ) -> Result<ActionRecord>;

    /// Expires every action still pending that the store first saw before `stored_before`
    /// (its confirmation window has passed), recorded as decided by `vigil`. Returns their ids.
    fn expire_pending(
        &self,
        stored_before: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<Vec<String>>;

    /// Moves an action whose state is one of `from` to `executing` (the response side took it
    /// over); false when it is in another state (taken already, or decided otherwise).
    fn claim_action(&self, id: &str, from: &[&str], at: DateTime<Utc>) -> Result<bool>;
    /// Records what an execution or undo came to: the state (`executed`, `failed`, `undone`,
    /// `undo_failed`) and the executor's detail (what was done, or why it failed).
    fn set_action_outcome(
        &self,
        id: &str,
        state: &str,
        outcome: &str,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// Appends one attempt to the action's record.
    fn record_attempt(&self, attempt: &AttemptRecord) -> Result<()>;
    /// The action's attempts, oldest first.
    fn attempts(&self, action_id: &str) -> Result<Vec<AttemptRecord>>;

    fn record_decision(
        &self,
        at: DateTime<Utc>,
        user: &str,
        subject_kind: &str,
        subject_id: &str,
        decision: &str,
        detail: &str,
    ) -> Result<()>;
    fn decisions(&self, subject_id: Option<&str>, limit: u32) -> Result<Vec<Decision>>;

    /// Registers the library's models (new versions are recorded; settings are kept).
    fn register_models(&self, models: &[ModelDefinition], at: DateTime<Utc>) -> Result<()>;
    fn models(&self) -> Result<Vec<ModelRecord>>;
    fn change_model(
        &self,
        name: &str,
        change: &ModelChange,
        user: &str,
        at: DateTime<Utc>,
    ) -> Result<ModelRecord>;
    /// Every version of a model the store has seen, oldest first.
    fn model_versions(&self, name: &str) -> Result<Vec<(u32, DateTime<Utc>)>>;

    fn profile(&self, account: &str) -> Result<Option<serde_json::Value>>;
    fn profiles(&self) -> Result<Vec<(String, serde_json::Value)>>;
    fn latest_snapshot(&self) -> Result<Option<Snapshot>>;
    fn checkpoints(&self) -> Result<Vec<Checkpoint>>;

    fn create_user(&self, name: &str, role: Role, password_hash: &str) -> Result<User>;
    fn user(&self, name: &str) -> Result<Option<User>>;
    fn users(&self) -> Result<Vec<User>>;
    fn create_session(
        &self,
        token_hash: &str,
        user: &str,
        csrf: &str,
        expires: DateTime<Utc>,
    ) -> Result<()>;
    fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>>;
    fn delete_session(&self, token_hash: &str) -> Result<()>;
    fn create_token(
        &self,
        name: &str,
        role: Role,
        token_hash: &str,
        created_by: &str,
    ) -> Result<ApiToken>;
    fn token(&self, token_hash: &str) -> Result<Option<ApiToken>>;
    fn tokens(&self) -> Result<Vec<ApiToken>>;

    fn counts(&self) -> Result<Counts>;
}
