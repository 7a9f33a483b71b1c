//! Response executors: carry out the engine's planned actions through Microsoft Graph.
//!
//! | kind | execute | undo at expiry |
//! |---|---|---|
//! | `disable_user` | `PATCH /users/{id}` `accountEnabled: false` | re-enable (unless it was already disabled before) |
//! | `revoke_sessions` | `POST /users/{id}/revokeSignInSessions` | not reversible (recorded) |
//! | `remove_inbox_rule` | find by name in `/users/{id}/mailFolders/inbox/messageRules`, `DELETE` | not reversible: the definition is kept in the record |
//! | `revoke_oauth_grant` | find the app's service principal, the user's `oauth2PermissionGrants` for it, `DELETE` | not reversible: the grants are kept in the record |
//! | `block_ip` | add `ip/32` (`/128`) to the configured `ipNamedLocation` that a blocking Conditional Access policy uses | remove it again |
//!
//! Every action is idempotent: an action id executed before is not executed again, and each
//! step checks the tenant's current state first (a rule already gone, an IP already listed is
//! "already done", not an error). Every attempt and its result is an [`ActionAttempt`], kept in
//! the ledger, appended to `action-attempts.jsonl` and handed to an optional [`AttemptSink`]
//! (the console's store). Retriable failures (throttling, 5xx, network) are retried with
//! back-off, honouring `Retry-After`; then the action is marked failed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::Mutex;
use vigil_collect::client::{scope, Api, ApiError, Call, RetryPolicy, TokenSource};

/// Executor settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RespondConfig {
    /// Execute autonomous actions (otherwise they are only planned and reported).
    pub enabled: bool,
    /// Id of the `ipNamedLocation` that `block_ip` adds addresses to. A Conditional Access
    /// policy must block sign-ins from it (see docs/deployment.md).
    pub block_ip_named_location_id: Option<String>,
    /// Graph version for the executors.
    pub api_version: String,
    /// Attempts per action, the first included.
    pub max_attempts: u32,
    pub retry_base_delay_ms: u64,
    pub retry_max_delay_ms: u64,
    /// Undo reversible actions when their duration is over.
    pub undo_at_expiry: bool,
}

impl Default for RespondConfig {
    fn default() -> Self {
        RespondConfig {
            enabled: true,
            block_ip_named_location_id: None,
            api_version: "v1.0".into(),
            max_attempts: 4,
            retry_base_delay_ms: 2000,
            retry_max_delay_ms: 60_000,
            undo_at_expiry: true,
        }
    }
}

/// The action kinds the engine plans.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    DisableUser,
    RevokeSessions,
    RemoveInboxRule,
    RevokeOauthGrant,
    BlockIp,
}

impl ActionKind {
    pub fn parse(s: &str) -> Option<ActionKind> {
        Some(match s {
            "disable_user" => ActionKind::DisableUser,
            "revoke_sessions" => ActionKind::RevokeSessions,
            "remove_inbox_rule" => ActionKind::RemoveInboxRule,
            "revoke_oauth_grant" => ActionKind::RevokeOauthGrant,
            "block_ip" => ActionKind::BlockIp,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::DisableUser => "disable_user",
            ActionKind::RevokeSessions => "revoke_sessions",
            ActionKind::RemoveInboxRule => "remove_inbox_rule",
            ActionKind::RevokeOauthGrant => "revoke_oauth_grant",
            ActionKind::BlockIp => "block_ip",
        }
    }

    /// Whether undoing it at expiry is possible.
    pub fn reversible(self) -> bool {
        matches!(self, ActionKind::DisableUser | ActionKind::BlockIp)
    }
}

/// An action to execute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionRequest {
    /// The engine's action id: the idempotency key.
    pub action_id: String,
    pub incident_id: String,
    pub kind: ActionKind,
    /// As the engine writes it: `user@domain`, `user@domain/inbox-rule/{name}`,
    /// `user@domain/oauth-grant/{app id or name}`, or an IP address.
    pub target: String,
    /// How long the action stays in force before it is undone (`None`: until an analyst acts).
    pub duration_secs: Option<i64>,
}

/// A request the executors cannot carry out.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    #[error("unknown action kind {0:?}")]
    UnknownKind(String),
}

impl ActionRequest {
    /// From the engine's plan; the duration is the plan's `expires - time`.
    pub fn from_planned(a: &vigil_engine::response::PlannedAction) -> Result<Self, RequestError> {
        let kind =
            ActionKind::parse(&a.kind).ok_or_else(|| RequestError::UnknownKind(a.kind.clone()))?;
        let secs = (a.expires - a.time).num_seconds();
        Ok(ActionRequest {
            action_id: a.id.clone(),
            incident_id: a.incident_id.clone(),
            kind,
            target: a.target.clone(),
            duration_secs: (secs > 0).then_some(secs),
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Execute,
    Undo,
}

/// What one attempt came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptResult {
    Succeeded,
    /// The tenant was already in the wanted state (rule gone, IP listed, account disabled).
    AlreadyDone,
    /// Failed, will be retried.
    WillRetry,
    /// Failed for good.
    Failed,
    /// Undo asked of an action that cannot be undone; recorded so the analyst knows.
    NotReversible,
}

/// One attempt at executing or undoing an action: the log type the store persists.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionAttempt {
    pub action_id: String,
    pub incident_id: String,
    pub kind: ActionKind,
    pub target: String,
    pub operation: Operation,
    /// 1 for the first attempt.
    pub attempt: u32,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub result: AttemptResult,
    pub http_status: Option<u16>,
    /// The service's error code, e.g. `Request_ResourceNotFound`.
    pub error_code: Option<String>,
    pub detail: String,
}

/// Where an action stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Executing,
    Executed,
    Failed,
    Undone,
    UndoFailed,
    /// Executed; its undo is not possible (recorded at expiry).
    NotReversible,
}

/// The ledger's record of an action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionRecord {
    pub request: ActionRequest,
    pub status: ActionStatus,
    pub executed_at: Option<DateTime<Utc>>,
    pub undo_due: Option<DateTime<Utc>>,
    pub undone_at: Option<DateTime<Utc>>,
    /// What the action removed or found (rule definitions, grants, the account's prior state),
    /// so that the analyst can restore it by hand.
    pub saved: Vec<Value>,
    pub detail: String,
}

/// Receives every attempt as it is made (the console's store implements it).
pub trait AttemptSink: Send + Sync {
    fn record(&self, attempt: &ActionAttempt);
}

#[derive(Default, Serialize, Deserialize)]
struct Ledger {
    records: BTreeMap<String, ActionRecord>,
    #[serde(skip)]
    attempts: Vec<ActionAttempt>,
}

/// Why one attempt failed.
#[derive(Debug)]
enum StepError {
    Api(ApiError),
    /// Not worth retrying: bad target, missing configuration, unsupported.
    Invalid(String),
}

impl From<ApiError> for StepError {
    fn from(e: ApiError) -> Self {
        StepError::Api(e)
    }
}

/// A successful step: done now, or found already done.
struct StepOk {
    already: bool,
    detail: String,
    saved: Vec<Value>,
}

/// Carries out actions through Microsoft Graph.
pub struct Executor {
    api: Api,
    graph: String,
    cfg: RespondConfig,
    ledger: Mutex<Ledger>,
    state_dir: Option<PathBuf>,
    sink: Option<Arc<dyn AttemptSink>>,
    /// Named-location updates are read-modify-write; two at once would lose one.
    named_location: Mutex<()>,
}

/// Percent-encodes one path segment (UPNs, Exchange rule ids with `/` and `=`).
fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An OData string literal.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn looks_like_guid(s: &str) -> bool {
    s.len() == 36
        && s.chars().enumerate().all(|(i, c)| {
            matches!(i, 8 | 13 | 18 | 23) == (c == '-') && (c == '-' || c.is_ascii_hexdigit())
        })
}

fn cidr_of(target: &str) -> Result<String, StepError> {
    let ip: std::net::IpAddr = target.trim().parse().map_err(|_| {
        StepError::Invalid(format!("block_ip target {target:?} is not an IP address"))
    })?;
    Ok(match ip {
        std::net::IpAddr::V4(v4) => format!("{v4}/32"),
        std::net::IpAddr::V6(v6) => format!("{v6}/128"),
    })
}

/// A named location must keep at least one range; when the last blocked address is removed, a
/// documentation address (TEST-NET-1, never routed) holds its place.
const PLACEHOLDER_RANGE: &str = "192.0.2.255/32";

fn range_value(cidr: &str) -> Value {
    let t = if cidr.contains(':') {
        "#microsoft.graph.iPv6CidrRange"
    } else {
        "#microsoft.graph.iPv4CidrRange"
    };
    json!({"@odata.type": t, "cidrAddress": cidr})
}

impl Executor {
    /// An executor; with `state_dir`, the ledger (`actions.json`) and the attempt log
    /// (`action-attempts.jsonl`) live there and survive restarts.
    pub fn new(
        tokens: Arc<TokenSource>,
        graph_endpoint: &str,
        cfg: RespondConfig,
        state_dir: Option<PathBuf>,
        sink: Option<Arc<dyn AttemptSink>>,
    ) -> std::io::Result<Executor> {
        let mut ledger: Ledger = match &state_dir {
            Some(d) => vigil_collect::load_checkpoint(&d.join("actions.json"))?,
            None => Ledger::default(),
        };
        // An action still executing when the ledger was last written was cut short by a crash:
        // it counts as failed, so that running it again executes it (each step checks the
        // tenant's state first, so what was already done is found done).
        for r in ledger.records.values_mut() {
            if r.status == ActionStatus::Executing {
                r.status = ActionStatus::Failed;
                r.detail = "interrupted by a restart before it finished".into();
            }
        }
        Ok(Executor {
            api: Api {
                http: vigil_collect::client::http_client(),
                tokens,
                scope: scope::GRAPH,
                // One request per attempt: the executor retries itself so that every attempt
                // is recorded.
                retry: RetryPolicy {
                    max_attempts: 1,
                    ..RetryPolicy::default()
                },
                budget: None,
            },
            graph: format!(
                "{}/{}",
                graph_endpoint.trim_end_matches('/'),
                cfg.api_version
            ),
            cfg,
            ledger: Mutex::new(ledger),
            state_dir,
            sink,
            named_location: Mutex::new(()),
        })
    }

    /// Every record, by action id.
    pub async fn records(&self) -> BTreeMap<String, ActionRecord> {
        self.ledger.lock().await.records.clone()
    }

    pub async fn record(&self, action_id: &str) -> Option<ActionRecord> {
        self.ledger.lock().await.records.get(action_id).cloned()
    }

    /// Attempts made by this process (earlier ones are in `action-attempts.jsonl`).
    pub async fn attempts(&self) -> Vec<ActionAttempt> {
        self.ledger.lock().await.attempts.clone()
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let ms = self
            .cfg
            .retry_base_delay_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(16));
        Duration::from_millis(ms.min(self.cfg.retry_max_delay_ms))
    }

    async fn log_attempt(&self, a: ActionAttempt) {
        if let Some(s) = &self.sink {
            s.record(&a);
        }
        if let Some(d) = &self.state_dir {
            let line = serde_json::to_string(&a).unwrap_or_default();
            let r = std::fs::create_dir_all(d).and_then(|_| {
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(d.join("action-attempts.jsonl"))?;
                writeln!(f, "{line}")
            });
            if let Err(e) = r {
                tracing::error!("cannot append to the action attempt log: {e}");
            }
        }
        self.ledger.lock().await.attempts.push(a);
    }

    async fn save(&self) {
        if let Some(d) = &self.state_dir {
            let ledger = self.ledger.lock().await;
            if let Err(e) = vigil_collect::save_checkpoint(&d.join("actions.json"), &*ledger) {
                tracing::error!("cannot save the action ledger: {e}");
            }
        }
    }

    /// Executes an action once. Running it again (same action id) after it was executed is a
    /// no-op that returns the recorded status; a failed action may be executed again.
    pub async fn execute(&self, req: ActionRequest) -> ActionStatus {
        {
            let mut ledger = self.ledger.lock().await;
            if let Some(r) = ledger.records.get(&req.action_id) {
                if r.status != ActionStatus::Failed {
                    return r.status;
                }
            }
            ledger.records.insert(
                req.action_id.clone(),
                ActionRecord {
                    request: req.clone(),
                    status: ActionStatus::Executing,
                    executed_at: None,
                    undo_due: None,
                    undone_at: None,
                    saved: Vec::new(),
                    detail: String::new(),
                },
            );
        }
        let (outcome, detail, saved) = self.run(&req, Operation::Execute, Vec::new()).await;
        let status = {
            let mut ledger = self.ledger.lock().await;
            let now = Utc::now();
            let r = ledger
                .records
                .get_mut(&req.action_id)
                .expect("inserted above");
            r.detail = detail;
            r.saved = saved;
            if outcome {
                r.status = ActionStatus::Executed;
                r.executed_at = Some(now);
                r.undo_due = req
                    .duration_secs
                    .filter(|_| self.cfg.undo_at_expiry)
                    .map(|s| now + chrono::Duration::seconds(s));
            } else {
                r.status = ActionStatus::Failed;
            }
            r.status
        };
        self.save().await;
        status
    }

    /// Undoes an executed action now (at expiry, or when an analyst releases it).
    pub async fn undo(&self, action_id: &str) -> Option<ActionStatus> {
        let (req, saved) = {
            let ledger = self.ledger.lock().await;
            let r = ledger.records.get(action_id)?;
            if r.status != ActionStatus::Executed {
                return Some(r.status);
            }
            (r.request.clone(), r.saved.clone())
        };
        let status = if req.kind.reversible() {
            let (ok, detail, _) = self.run(&req, Operation::Undo, saved).await;
            let mut ledger = self.ledger.lock().await;
            let r = ledger.records.get_mut(action_id)?;
            r.status = if ok {
                r.undone_at = Some(Utc::now());
                ActionStatus::Undone
            } else {
                ActionStatus::UndoFailed
            };
            r.detail = detail;
            r.status
        } else {
            let detail = match req.kind {
                ActionKind::RevokeSessions => {
                    "revoked sessions cannot be restored; the user signs in again".to_string()
                }
                ActionKind::RemoveInboxRule => {
                    "a removed inbox rule is not recreated automatically; its definition is kept in the action record".to_string()
                }
                _ => "a revoked consent is not granted again automatically; the grants are kept in the action record".to_string(),
            };
            let now = Utc::now();
            self.log_attempt(ActionAttempt {
                action_id: req.action_id.clone(),
                incident_id: req.incident_id.clone(),
                kind: req.kind,
                target: req.target.clone(),
                operation: Operation::Undo,
                attempt: 1,
                started_at: now,
                finished_at: now,
                result: AttemptResult::NotReversible,
                http_status: None,
                error_code: None,
                detail: detail.clone(),
            })
            .await;
            let mut ledger = self.ledger.lock().await;
            let r = ledger.records.get_mut(action_id)?;
            r.status = ActionStatus::NotReversible;
            r.detail = detail;
            r.status
        };
        self.save().await;
        Some(status)
    }

    /// Undoes every executed action whose time is up; returns the action ids handled.
    pub async fn undo_due(&self, now: DateTime<Utc>) -> Vec<String> {
        let due: Vec<String> = self
            .ledger
            .lock()
            .await
            .records
            .values()
            .filter(|r| r.status == ActionStatus::Executed && r.undo_due.is_some_and(|t| t <= now))
            .map(|r| r.request.action_id.clone())
            .collect();
        for id in &due {
            self.undo(id).await;
        }
        due
    }

    /// The attempt loop shared by execute and undo: returns success, the last detail, and what
    /// the step saved.
    async fn run(
        &self,
        req: &ActionRequest,
        op: Operation,
        saved_in: Vec<Value>,
    ) -> (bool, String, Vec<Value>) {
        let max = self.cfg.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            let started_at = Utc::now();
            let result = match op {
                Operation::Execute => self.execute_step(req).await,
                Operation::Undo => self.undo_step(req, &saved_in).await,
            };
            let finished_at = Utc::now();
            let mut a = ActionAttempt {
                action_id: req.action_id.clone(),
                incident_id: req.incident_id.clone(),
                kind: req.kind,
                target: req.target.clone(),
                operation: op,
                attempt,
                started_at,
                finished_at,
                result: AttemptResult::Succeeded,
                http_status: None,
                error_code: None,
                detail: String::new(),
            };
            match result {
                Ok(ok) => {
                    a.result = if ok.already {
                        AttemptResult::AlreadyDone
                    } else {
                        AttemptResult::Succeeded
                    };
                    a.detail = ok.detail.clone();
                    self.log_attempt(a).await;
                    let saved = if ok.saved.is_empty() {
                        saved_in
                    } else {
                        ok.saved
                    };
                    return (true, ok.detail, saved);
                }
                Err(StepError::Invalid(msg)) => {
                    a.result = AttemptResult::Failed;
                    a.detail = msg.clone();
                    self.log_attempt(a).await;
                    return (false, msg, saved_in);
                }
                Err(StepError::Api(e)) => {
                    a.http_status = e.status();
                    a.error_code = Some(e.code().to_string()).filter(|c| !c.is_empty());
                    a.detail = e.to_string();
                    let retry = e.retriable() && attempt < max;
                    a.result = if retry {
                        AttemptResult::WillRetry
                    } else {
                        AttemptResult::Failed
                    };
                    self.log_attempt(a).await;
                    if !retry {
                        let why = if e.retriable() {
                            format!("gave up after {attempt} attempts: {e}")
                        } else {
                            e.to_string()
                        };
                        return (false, why, saved_in);
                    }
                    tokio::time::sleep(e.retry_after().unwrap_or_else(|| self.backoff(attempt)))
                        .await;
                    attempt += 1;
                }
            }
        }
    }

    fn split_target<'a>(
        &self,
        target: &'a str,
        marker: &str,
    ) -> Result<(&'a str, &'a str), StepError> {
        target
            .split_once(marker)
            .filter(|(u, r)| !u.is_empty() && !r.is_empty())
            .ok_or_else(|| StepError::Invalid(format!("target {target:?} is not user{marker}NAME")))
    }

    async fn get_json(&self, url: &str) -> Result<Value, StepError> {
        let r = self.api.send(&Call::get(url)).await?;
        serde_json::from_str(&r.body)
            .map_err(|e| StepError::Invalid(format!("GET {url}: unreadable response: {e}")))
    }

    /// DELETEs every item (by its `id`) at the URL `url_of` gives; one already gone (404) is
    /// what was wanted.
    async fn delete_each(
        &self,
        items: &[Value],
        url_of: impl Fn(&str) -> String,
    ) -> Result<(), StepError> {
        for item in items {
            let id = item["id"].as_str().unwrap_or_default();
            match self
                .api
                .send(&Call::new(reqwest::Method::DELETE, url_of(id)))
                .await
            {
                Ok(_) => {}
                Err(e) if e.status() == Some(404) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    async fn execute_step(&self, req: &ActionRequest) -> Result<StepOk, StepError> {
        let g = &self.graph;
        match req.kind {
            ActionKind::DisableUser => {
                let user = req.target.trim();
                let url = format!("{g}/users/{}", seg(user));
                let current = self
                    .get_json(&format!("{url}?$select=id,accountEnabled"))
                    .await?;
                if current["accountEnabled"] == false {
                    // Remember it, so that undo does not enable an account someone else disabled.
                    return Ok(StepOk {
                        already: true,
                        detail: format!("{user} was already disabled"),
                        saved: vec![json!({"accountEnabledBefore": false})],
                    });
                }
                self.api
                    .send(
                        &Call::new(reqwest::Method::PATCH, &url)
                            .json(json!({"accountEnabled": false})),
                    )
                    .await?;
                Ok(StepOk {
                    already: false,
                    detail: format!("disabled {user}"),
                    saved: vec![json!({"accountEnabledBefore": true})],
                })
            }
            ActionKind::RevokeSessions => {
                let user = req.target.trim();
                self.api
                    .send(&Call::new(
                        reqwest::Method::POST,
                        format!("{g}/users/{}/revokeSignInSessions", seg(user)),
                    ))
                    .await?;
                Ok(StepOk {
                    already: false,
                    detail: format!("revoked the sign-in sessions and refresh tokens of {user}"),
                    saved: Vec::new(),
                })
            }
            ActionKind::RemoveInboxRule => {
                if req.target.ends_with("/mailbox-forwarding") {
                    return Err(StepError::Invalid(
                        "mailbox-level forwarding (ForwardingSmtpAddress) is set through Exchange Online, which Microsoft Graph does not expose; remove it with Set-Mailbox".into(),
                    ));
                }
                let (user, name) = self.split_target(&req.target, "/inbox-rule/")?;
                let list_url = format!("{g}/users/{}/mailFolders/inbox/messageRules", seg(user));
                let rules = self.get_json(&list_url).await?;
                let matching: Vec<Value> = rules["value"]
                    .as_array()
                    .map(|v| {
                        v.iter()
                            .filter(|r| r["displayName"].as_str() == Some(name))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                if matching.is_empty() {
                    return Ok(StepOk {
                        already: true,
                        detail: format!(
                            "{user} has no inbox rule named {name:?} (already removed)"
                        ),
                        saved: Vec::new(),
                    });
                }
                self.delete_each(&matching, |id| format!("{list_url}/{}", seg(id)))
                    .await?;
                Ok(StepOk {
                    already: false,
                    detail: format!(
                        "removed {} inbox rule(s) named {name:?} of {user}",
                        matching.len()
                    ),
                    saved: matching,
                })
            }
            ActionKind::RevokeOauthGrant => {
                let (user, app) = self.split_target(&req.target, "/oauth-grant/")?;
                let principal = self
                    .get_json(&format!("{g}/users/{}?$select=id", seg(user)))
                    .await?;
                let principal = principal["id"]
                    .as_str()
                    .ok_or_else(|| StepError::Invalid(format!("user {user} has no id")))?
                    .to_string();
                let field = if looks_like_guid(app) {
                    "appId"
                } else {
                    "displayName"
                };
                let mut sp_url = url::Url::parse(&format!("{g}/servicePrincipals"))
                    .map_err(|e| StepError::Invalid(e.to_string()))?;
                sp_url
                    .query_pairs_mut()
                    .append_pair("$filter", &format!("{field} eq {}", lit(app)));
                let sps = self.get_json(sp_url.as_str()).await?;
                let mut grants = Vec::new();
                for sp in sps["value"].as_array().into_iter().flatten() {
                    let Some(sp_id) = sp["id"].as_str() else {
                        continue;
                    };
                    let mut u = url::Url::parse(&format!("{g}/oauth2PermissionGrants"))
                        .map_err(|e| StepError::Invalid(e.to_string()))?;
                    u.query_pairs_mut().append_pair(
                        "$filter",
                        &format!(
                            "clientId eq {} and principalId eq {}",
                            lit(sp_id),
                            lit(&principal)
                        ),
                    );
                    let found = self.get_json(u.as_str()).await?;
                    grants.extend(found["value"].as_array().cloned().unwrap_or_default());
                }
                if grants.is_empty() {
                    return Ok(StepOk {
                        already: true,
                        detail: format!("{user} has no delegated grant to {app} (already revoked)"),
                        saved: Vec::new(),
                    });
                }
                self.delete_each(&grants, |id| {
                    format!("{g}/oauth2PermissionGrants/{}", seg(id))
                })
                .await?;
                Ok(StepOk {
                    already: false,
                    detail: format!("revoked {} grant(s) of {user} to {app}", grants.len()),
                    saved: grants,
                })
            }
            ActionKind::BlockIp => {
                let cidr = cidr_of(&req.target)?;
                let _guard = self.named_location.lock().await;
                let (url, mut ranges) = self.named_location_ranges().await?;
                if ranges.iter().any(|r| r["cidrAddress"] == cidr.as_str()) {
                    return Ok(StepOk {
                        already: true,
                        detail: format!("{cidr} is already in the blocked named location"),
                        saved: Vec::new(),
                    });
                }
                ranges.retain(|r| r["cidrAddress"] != PLACEHOLDER_RANGE);
                ranges.push(range_value(&cidr));
                self.patch_ranges(&url, ranges).await?;
                Ok(StepOk {
                    already: false,
                    detail: format!("added {cidr} to the blocked named location"),
                    saved: Vec::new(),
                })
            }
        }
    }

    async fn named_location_ranges(&self) -> Result<(String, Vec<Value>), StepError> {
        let id = self.cfg.block_ip_named_location_id.as_deref().ok_or_else(|| {
            StepError::Invalid(
                "block_ip needs [respond] block_ip_named_location_id: the ipNamedLocation a Conditional Access policy blocks".into(),
            )
        })?;
        let url = format!(
            "{}/identity/conditionalAccess/namedLocations/{}",
            self.graph,
            seg(id)
        );
        let loc = self.get_json(&url).await?;
        if loc["@odata.type"] != "#microsoft.graph.ipNamedLocation" {
            return Err(StepError::Invalid(format!(
                "named location {id} is not an IP named location"
            )));
        }
        Ok((url, loc["ipRanges"].as_array().cloned().unwrap_or_default()))
    }

    async fn patch_ranges(&self, url: &str, ranges: Vec<Value>) -> Result<(), StepError> {
        self.api
            .send(&Call::new(reqwest::Method::PATCH, url).json(json!({
                "@odata.type": "#microsoft.graph.ipNamedLocation",
                "ipRanges": ranges,
            })))
            .await?;
        Ok(())
    }

    async fn undo_step(&self, req: &ActionRequest, saved: &[Value]) -> Result<StepOk, StepError> {
        match req.kind {
            ActionKind::DisableUser => {
                let user = req.target.trim();
                if saved.iter().any(|s| s["accountEnabledBefore"] == false) {
                    return Ok(StepOk {
                        already: true,
                        detail: format!("{user} was disabled before Vigil acted; left disabled"),
                        saved: Vec::new(),
                    });
                }
                self.api
                    .send(
                        &Call::new(
                            reqwest::Method::PATCH,
                            format!("{}/users/{}", self.graph, seg(user)),
                        )
                        .json(json!({"accountEnabled": true})),
                    )
                    .await?;
                Ok(StepOk {
                    already: false,
                    detail: format!("enabled {user} again"),
                    saved: Vec::new(),
                })
            }
            ActionKind::BlockIp => {
                let cidr = cidr_of(&req.target)?;
                let _guard = self.named_location.lock().await;
                let (url, mut ranges) = self.named_location_ranges().await?;
                let before = ranges.len();
                ranges.retain(|r| r["cidrAddress"] != cidr.as_str());
                if ranges.len() == before {
                    return Ok(StepOk {
                        already: true,
                        detail: format!("{cidr} was no longer in the blocked named location"),
                        saved: Vec::new(),
                    });
                }
                if ranges.is_empty() {
                    ranges.push(range_value(PLACEHOLDER_RANGE));
                }
                self.patch_ranges(&url, ranges).await?;
                Ok(StepOk {
                    already: false,
                    detail: format!("removed {cidr} from the blocked named location"),
                    saved: Vec::new(),
                })
            }
            _ => Err(StepError::Invalid(format!(
                "{} cannot be undone",
                req.kind.as_str()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_and_literals_are_escaped() {
        assert_eq!(seg("a.b@contoso.example"), "a.b@contoso.example");
        assert_eq!(seg("AQAAAJ5d/Z+q="), "AQAAAJ5d%2FZ%2Bq%3D");
        assert_eq!(lit("O'Brien"), "'O''Brien'");
        assert!(looks_like_guid("3fa85f64-5717-4562-b3fc-2c963f66afa6"));
        assert!(!looks_like_guid("spike"));
    }

    #[test]
    fn cidrs_for_both_families_and_bad_targets() {
        assert_eq!(cidr_of("203.0.113.7").unwrap(), "203.0.113.7/32");
        assert_eq!(cidr_of("2001:db8::1").unwrap(), "2001:db8::1/128");
        assert!(matches!(cidr_of("a@b"), Err(StepError::Invalid(m)) if m.contains("not an IP")));
    }

    #[test]
    fn kinds_round_trip() {
        for k in [
            ActionKind::DisableUser,
            ActionKind::RevokeSessions,
            ActionKind::RemoveInboxRule,
            ActionKind::RevokeOauthGrant,
            ActionKind::BlockIp,
        ] {
            assert_eq!(ActionKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ActionKind::parse("wipe_laptop"), None);
    }
}
