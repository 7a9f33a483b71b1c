//! The versioned JSON API under `/api/v1`, described by `openapi.json` (served by the binary).
//!
//! Errors are `{"error": "..."}` with a status that says what happened: 400 bad input, 401 not
//! logged in, 403 role too low or CSRF token missing, 404, 409 decision on an action no longer
//! pending, 413 body too large, 422 records rejected, 503 ingest queue full (retry later).

use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use vigil_store::{ActionDecision, BreachFilter, IncidentFilter, ModelChange, Role, StoreError};

use crate::auth::{self, Caller};
use crate::ingest::{self, Job};
use crate::AppState;

pub const OPENAPI: &str = include_str!("openapi.json");

pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// An API failure, rendered as `{"error": ...}`.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = error(self.0, self.1);
        if self.0 == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(
                header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("2"),
            );
        }
        res
    }
}

pub fn api_err(status: StatusCode, message: impl Into<String>) -> ApiError {
    ApiError(status, message.into())
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => {
                api_err(StatusCode::NOT_FOUND, format!("{what} not found"))
            }
            StoreError::Conflict(why) => api_err(StatusCode::CONFLICT, why),
            other => {
                tracing::error!("store: {other}");
                api_err(StatusCode::INTERNAL_SERVER_ERROR, format!("store: {other}"))
            }
        }
    }
}

type ApiResult<T = Json<Value>> = Result<T, ApiError>;

fn not_found(what: String) -> ApiError {
    api_err(StatusCode::NOT_FOUND, format!("{what} not found"))
}

/// Checks the caller's role and, for browser sessions, the CSRF token of an unsafe request.
pub fn require(caller: &Caller, role: Role, headers: &HeaderMap) -> Result<(), ApiError> {
    if !caller.can(role) {
        return Err(api_err(
            StatusCode::FORBIDDEN,
            format!(
                "{} has role {}; this needs {}",
                caller.user,
                caller.role.as_str(),
                role.as_str()
            ),
        ));
    }
    let provided = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    if !caller.csrf_ok(provided) {
        return Err(api_err(
            StatusCode::FORBIDDEN,
            "missing or wrong X-CSRF-Token header (required with session cookies)",
        ));
    }
    Ok(())
}

pub fn routes(max_body_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/health", get(health))
        .route("/incidents", get(list_incidents))
        .route("/incidents/{id}", get(get_incident))
        .route("/breaches", get(list_breaches))
        .route("/breaches/{id}", get(get_breach))
        .route("/entities/{entity}", get(get_entity))
        .route("/actions", get(list_actions))
        .route("/actions/{id}", get(get_action))
        .route("/actions/{id}/{decision}", post(decide_action))
        .route("/models", get(list_models))
        .route("/models/{name}", get(get_model).post(change_model))
        .route("/decisions", get(list_decisions))
        .route("/users", get(list_users).post(create_user))
        .route("/tokens", get(list_tokens).post(create_token))
        .route(
            "/events",
            post(post_events).layer(DefaultBodyLimit::max(max_body_bytes)),
        )
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "no such API endpoint; see /api/v1/openapi.json",
            )
        })
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn health(State(state): State<AppState>) -> Json<Value> {
    let s = &state.ingest;
    let last = s.last_event_ms.load(Ordering::Relaxed);
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": state.started.elapsed().as_secs(),
        "response": if state.responder.is_some() { "connected" } else { "not connected" },
        "ingest": {
            "busy": s.busy.load(Ordering::Relaxed),
            "queue_free": state.jobs.capacity(),
            "events": s.events.load(Ordering::Relaxed),
            "jobs": s.jobs.load(Ordering::Relaxed),
            "last_event": (last > 0).then(|| chrono::DateTime::from_timestamp_millis(last)).flatten(),
        }
    }))
}

/// Prometheus text format.
pub async fn metrics(State(state): State<AppState>, _caller: Caller) -> ApiResult<Response> {
    let counts = state.db(|s| s.counts()).await?;
    let i = &state.ingest;
    let h = &state.http;
    let mut out = String::new();
    let mut put = |name: &str, kind: &str, help: &str, value: f64| {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    };
    let c = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed) as f64;
    put(
        "vigil_ingest_records_total",
        "counter",
        "Records read by ingest.",
        c(&i.records),
    );
    put(
        "vigil_ingest_events_total",
        "counter",
        "Events processed by the engine.",
        c(&i.events),
    );
    put(
        "vigil_ingest_rejected_total",
        "counter",
        "Records that could not be read.",
        c(&i.rejected),
    );
    put(
        "vigil_ingest_duplicates_total",
        "counter",
        "Records dropped as duplicates.",
        c(&i.duplicates),
    );
    put(
        "vigil_ingest_jobs_total",
        "counter",
        "Ingest jobs run.",
        c(&i.jobs),
    );
    put(
        "vigil_ingest_jobs_failed_total",
        "counter",
        "Ingest jobs that failed.",
        c(&i.failed_jobs),
    );
    put(
        "vigil_ingest_refused_total",
        "counter",
        "Posted bodies refused because the ingest queue was full.",
        c(&i.refused),
    );
    put(
        "vigil_ingest_busy_seconds_total",
        "counter",
        "Wall time spent in ingest jobs.",
        c(&i.busy_ms) / 1000.0,
    );
    put(
        "vigil_ingest_busy",
        "gauge",
        "1 while an ingest job runs.",
        i.busy.load(Ordering::Relaxed) as u8 as f64,
    );
    put(
        "vigil_ingest_queue_free",
        "gauge",
        "Free places in the ingest queue.",
        state.jobs.capacity() as f64,
    );
    put(
        "vigil_last_event_timestamp_seconds",
        "gauge",
        "Event time of the newest event processed.",
        i.last_event_ms.load(Ordering::Relaxed) as f64 / 1000.0,
    );
    put(
        "vigil_breaches_total",
        "counter",
        "Breaches raised since start.",
        c(&i.breaches),
    );
    put(
        "vigil_incidents_open",
        "gauge",
        "Open incidents in the store.",
        counts.incidents as f64,
    );
    put(
        "vigil_breaches_stored",
        "gauge",
        "Breaches in the store.",
        counts.breaches as f64,
    );
    put(
        "vigil_actions_pending",
        "gauge",
        "Actions awaiting an analyst's decision.",
        counts.actions_pending as f64,
    );
    put(
        "vigil_actions_executed",
        "gauge",
        "Actions executed through Microsoft Graph (undone since included).",
        counts.actions_executed as f64,
    );
    put(
        "vigil_actions_failed",
        "gauge",
        "Actions that failed after the executors' retries.",
        counts.actions_failed as f64,
    );
    put(
        "vigil_decisions_total",
        "counter",
        "Decisions recorded.",
        counts.decisions as f64,
    );
    put(
        "vigil_http_requests_total",
        "counter",
        "HTTP requests served.",
        c(&h.requests),
    );
    put(
        "vigil_http_responses_4xx_total",
        "counter",
        "HTTP responses with a 4xx status.",
        c(&h.errors_4xx),
    );
    put(
        "vigil_http_responses_5xx_total",
        "counter",
        "HTTP responses with a 5xx status.",
        c(&h.errors_5xx),
    );
    put(
        "vigil_http_request_seconds_total",
        "counter",
        "Server time spent on HTTP requests.",
        c(&h.micros) / 1e6,
    );
    put(
        "vigil_uptime_seconds",
        "gauge",
        "Seconds since start.",
        state.started.elapsed().as_secs_f64(),
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IncidentQuery {
    pub min_score: Option<f64>,
    pub entity: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub include_merged: Option<bool>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

fn parse_time(
    name: &str,
    v: &Option<String>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            vigil_event::time::parse_timestamp(s)
                .map_err(|e| api_err(StatusCode::BAD_REQUEST, format!("`{name}`: {e}")))
        })
        .transpose()
}

/// An entity as the store spells it: accounts in lower case, a bare IP as `ip:…`.
pub fn normalise_entity(s: &str) -> String {
    let s = s.trim();
    if s.parse::<std::net::IpAddr>().is_ok() {
        format!("ip:{s}")
    } else {
        s.to_lowercase()
    }
}

impl IncidentQuery {
    pub fn filter(&self) -> Result<IncidentFilter, ApiError> {
        if let Some(s) = self.min_score {
            if !(0.0..=100.0).contains(&s) {
                return Err(api_err(
                    StatusCode::BAD_REQUEST,
                    "`min_score` must be between 0 and 100",
                ));
            }
        }
        Ok(IncidentFilter {
            min_score: self.min_score,
            entity: self
                .entity
                .as_deref()
                .filter(|e| !e.trim().is_empty())
                .map(normalise_entity),
            since: parse_time("since", &self.since)?,
            until: parse_time("until", &self.until)?,
            include_merged: self.include_merged.unwrap_or(false),
            limit: self.limit,
            offset: self.offset,
        })
    }
}

async fn list_incidents(
    State(state): State<AppState>,
    _caller: Caller,
    Query(q): Query<IncidentQuery>,
) -> ApiResult {
    let filter = q.filter()?;
    let page = state.db(move |s| s.incidents(&filter)).await?;
    Ok(Json(serde_json::to_value(page).unwrap_or_default()))
}

/// Everything the incident page shows.
pub async fn incident_view(state: &AppState, id: String) -> Result<Value, ApiError> {
    let view = state
        .db(move |s| {
            let Some(record) = s.incident(&id)? else {
                return Ok(None);
            };
            let breaches = s.breaches(&BreachFilter {
                incident: Some(id.clone()),
                limit: Some(500),
                ..Default::default()
            })?;
            let actions = s.actions(None, Some(&id))?;
            let mut decisions = Vec::new();
            for a in &actions {
                decisions.extend(s.decisions(Some(&a.action.id), 20)?);
            }
            decisions.sort_by_key(|d| std::cmp::Reverse(d.at));
            Ok(Some(json!({
                "incident": record,
                "breaches": breaches.items,
                "breaches_total": breaches.total,
                "actions": actions,
                "decisions": decisions,
            })))
        })
        .await?;
    view.ok_or_else(|| not_found("incident".into()))
}

async fn get_incident(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    Ok(Json(incident_view(&state, id).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BreachQuery {
    entity: Option<String>,
    model: Option<String>,
    incident: Option<String>,
    min_score: Option<f64>,
    limit: Option<u32>,
    offset: Option<u32>,
}

async fn list_breaches(
    State(state): State<AppState>,
    _caller: Caller,
    Query(q): Query<BreachQuery>,
) -> ApiResult {
    let filter = BreachFilter {
        entity: q.entity.as_deref().map(normalise_entity),
        model: q.model,
        incident: q.incident,
        min_score: q.min_score,
        limit: q.limit,
        offset: q.offset,
    };
    let page = state.db(move |s| s.breaches(&filter)).await?;
    Ok(Json(serde_json::to_value(page).unwrap_or_default()))
}

async fn get_breach(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    let lookup = id.clone();
    let b = state.db(move |s| s.breach(&lookup)).await?;
    let b = b.ok_or_else(|| not_found(format!("breach {id}")))?;
    Ok(Json(serde_json::to_value(b).unwrap_or_default()))
}

/// An account's (or IP's) pattern of life, incidents and latest breaches.
pub async fn entity_view(state: &AppState, entity: String) -> Result<Value, ApiError> {
    let entity = normalise_entity(&entity);
    let e = entity.clone();
    let view = state
        .db(move |s| {
            let profile = s.profile(&e)?;
            let incidents = s.incidents(&IncidentFilter {
                entity: Some(e.clone()),
                include_merged: false,
                limit: Some(50),
                ..Default::default()
            })?;
            let total = s.breaches(&BreachFilter {
                entity: Some(e.clone()),
                limit: Some(0),
                ..Default::default()
            })?;
            let offset = total.total.saturating_sub(100) as u32;
            let breaches = s.breaches(&BreachFilter {
                entity: Some(e.clone()),
                limit: Some(100),
                offset: Some(offset),
                ..Default::default()
            })?;
            Ok(json!({
                "entity": e,
                "profile": profile,
                "incidents": incidents.items,
                "breaches": breaches.items,
                "breaches_total": breaches.total,
            }))
        })
        .await?;
    if view["profile"].is_null()
        && view["incidents"].as_array().is_some_and(|a| a.is_empty())
        && view["breaches_total"] == 0
    {
        return Err(not_found(format!("entity {entity}")));
    }
    Ok(view)
}

async fn get_entity(
    State(state): State<AppState>,
    _caller: Caller,
    Path(entity): Path<String>,
) -> ApiResult {
    Ok(Json(entity_view(&state, entity).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ActionQuery {
    state: Option<String>,
    incident: Option<String>,
}

async fn list_actions(
    State(state): State<AppState>,
    _caller: Caller,
    Query(q): Query<ActionQuery>,
) -> ApiResult {
    let actions = state
        .db(move |s| s.actions(q.state.as_deref(), q.incident.as_deref()))
        .await?;
    Ok(Json(json!({ "items": actions })))
}

async fn get_action(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    let lookup = id.clone();
    let a = state.db(move |s| s.action(&lookup)).await?;
    let a = a.ok_or_else(|| not_found(format!("action {id}")))?;
    Ok(Json(serde_json::to_value(a).unwrap_or_default()))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct DecisionBody {
    note: String,
}

pub fn parse_decision(s: &str) -> Result<ActionDecision, ApiError> {
    match s {
        "confirm" => Ok(ActionDecision::Confirm),
        "decline" => Ok(ActionDecision::Decline),
        "expire" => Ok(ActionDecision::Expire),
        _ => Err(api_err(
            StatusCode::NOT_FOUND,
            format!("no decision {s:?}; use confirm, decline or expire"),
        )),
    }
}

/// Records an analyst's decision on a pending action (shared with the console).
pub async fn decide(
    state: &AppState,
    caller: &Caller,
    id: String,
    decision: ActionDecision,
    note: String,
) -> Result<vigil_store::ActionRecord, ApiError> {
    let user = caller.user.clone();
    let record = state
        .db(move |s| s.decide_action(&id, decision, &user, chrono::Utc::now(), &note))
        .await?;
    // A confirmed action is executed now, when the executors are connected: queued, so the
    // answer does not wait for Graph.
    if let (ActionDecision::Confirm, Some(r)) = (decision, &state.responder) {
        r.submit(&record.action.id);
    }
    Ok(record)
}

async fn decide_action(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((id, decision)): Path<(String, String)>,
    body: Option<Json<DecisionBody>>,
) -> ApiResult {
    let decision = parse_decision(&decision)?;
    require(&caller, Role::Analyst, &headers)?;
    let note = body.map(|b| b.0.note).unwrap_or_default();
    let record = decide(&state, &caller, id, decision, note).await?;
    Ok(Json(serde_json::to_value(record).unwrap_or_default()))
}

/// Models with their effective autonomy.
pub async fn models_view(state: &AppState) -> Result<Vec<Value>, ApiError> {
    let global = state.global_mode;
    let models = state.db(|s| s.models()).await?;
    Ok(models
        .into_iter()
        .map(|m| {
            let effective = ingest::effective_autonomy(&m, global).map(vigil_store::mode_str);
            let mut v = serde_json::to_value(&m).unwrap_or_default();
            v["effective_autonomy"] = json!(effective);
            v
        })
        .collect())
}

async fn list_models(State(state): State<AppState>, _caller: Caller) -> ApiResult {
    Ok(Json(json!({ "items": models_view(&state).await? })))
}

async fn get_model(
    State(state): State<AppState>,
    _caller: Caller,
    Path(name): Path<String>,
) -> ApiResult {
    let models = models_view(&state).await?;
    let model = models
        .into_iter()
        .find(|m| m["name"] == name.as_str())
        .ok_or_else(|| not_found(format!("model {name:?}")))?;
    let lookup = name.clone();
    let versions = state.db(move |s| s.model_versions(&lookup)).await?;
    let mut model = model;
    model["versions"] = json!(versions
        .iter()
        .map(|(v, at)| json!({"version": v, "first_seen": at}))
        .collect::<Vec<_>>());
    Ok(Json(model))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ModelChangeBody {
    enabled: Option<bool>,
    /// `autonomous`, `confirm`, `off`, or `default` (clears the switch).
    autonomy: Option<String>,
}

pub fn parse_model_change(
    enabled: Option<bool>,
    autonomy: Option<&str>,
) -> Result<ModelChange, ApiError> {
    let autonomy = match autonomy {
        None => None,
        Some("default") => Some(None),
        Some(a) => Some(Some(vigil_store::parse_mode(a).ok_or_else(|| {
            api_err(
                StatusCode::BAD_REQUEST,
                format!("autonomy {a:?}: expected autonomous, confirm, off or default"),
            )
        })?)),
    };
    if enabled.is_none() && autonomy.is_none() {
        return Err(api_err(
            StatusCode::BAD_REQUEST,
            "give `enabled` or `autonomy`",
        ));
    }
    Ok(ModelChange { enabled, autonomy })
}

/// Applies an admin's model change and tells the engine (shared with the console).
pub async fn apply_model_change(
    state: &AppState,
    caller: &Caller,
    name: String,
    change: ModelChange,
) -> Result<vigil_store::ModelRecord, ApiError> {
    let user = caller.user.clone();
    let record = state
        .db(move |s| s.change_model(&name, &change, &user, chrono::Utc::now()))
        .await?;
    // The engine picks the change up before its next job; a full queue only delays that job,
    // and the reload runs before any job queued after it.
    if state.jobs.send(Job::ReloadModels).await.is_err() {
        return Err(api_err(
            StatusCode::SERVICE_UNAVAILABLE,
            "the ingest thread has stopped",
        ));
    }
    Ok(record)
}

async fn change_model(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Result<Json<ModelChangeBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult {
    require(&caller, Role::Admin, &headers)?;
    let Json(body) = body.map_err(|e| api_err(StatusCode::BAD_REQUEST, e.body_text()))?;
    let change = parse_model_change(body.enabled, body.autonomy.as_deref())?;
    let record = apply_model_change(&state, &caller, name, change).await?;
    Ok(Json(serde_json::to_value(record).unwrap_or_default()))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DecisionQuery {
    subject: Option<String>,
    limit: Option<u32>,
}

async fn list_decisions(
    State(state): State<AppState>,
    _caller: Caller,
    Query(q): Query<DecisionQuery>,
) -> ApiResult {
    let limit = q.limit.unwrap_or(100).min(1000);
    let d = state
        .db(move |s| s.decisions(q.subject.as_deref(), limit))
        .await?;
    Ok(Json(json!({ "items": d })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    name: String,
    role: String,
    password: String,
}

fn parse_role(s: &str) -> Result<Role, ApiError> {
    Role::parse(s).ok_or_else(|| {
        api_err(
            StatusCode::BAD_REQUEST,
            format!("role {s:?}: expected viewer, analyst or admin"),
        )
    })
}

fn valid_name(s: &str) -> Result<(), ApiError> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(api_err(
            StatusCode::BAD_REQUEST,
            "names are 1-64 characters: letters, digits, . _ - @",
        ))
    }
}

async fn list_users(State(state): State<AppState>, caller: Caller) -> ApiResult {
    if !caller.can(Role::Admin) {
        return Err(api_err(StatusCode::FORBIDDEN, "only admins list users"));
    }
    let users = state.db(|s| s.users()).await?;
    Ok(Json(json!({ "items": users })))
}

/// Creates a user (shared with the console).
pub async fn create_user_as(
    state: &AppState,
    caller: &Caller,
    name: String,
    role: &str,
    password: String,
) -> Result<vigil_store::User, ApiError> {
    valid_name(&name)?;
    let role = parse_role(role)?;
    if password.len() < 8 {
        return Err(api_err(
            StatusCode::BAD_REQUEST,
            "passwords have at least 8 characters",
        ));
    }
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| api_err(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| api_err(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let by = caller.user.clone();
    Ok(state
        .db(move |s| {
            let u = s.create_user(&name, role, &hash)?;
            s.record_decision(
                chrono::Utc::now(),
                &by,
                "user",
                &name,
                "create",
                role.as_str(),
            )?;
            Ok(u)
        })
        .await?)
}

async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Json<NewUser>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    require(&caller, Role::Admin, &headers)?;
    let Json(body) = body.map_err(|e| api_err(StatusCode::BAD_REQUEST, e.body_text()))?;
    let user = create_user_as(&state, &caller, body.name, &body.role, body.password).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(user).unwrap_or_default()),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    role: String,
}

async fn list_tokens(State(state): State<AppState>, caller: Caller) -> ApiResult {
    if !caller.can(Role::Admin) {
        return Err(api_err(StatusCode::FORBIDDEN, "only admins list tokens"));
    }
    let t = state.db(|s| s.tokens()).await?;
    Ok(Json(json!({ "items": t })))
}

/// Creates an API token; the secret is shown once (shared with the console).
pub async fn create_token_as(
    state: &AppState,
    caller: &Caller,
    name: String,
    role: &str,
) -> Result<(vigil_store::ApiToken, String), ApiError> {
    valid_name(&name)?;
    let role = parse_role(role)?;
    let secret = format!("vgl_{}", auth::random_token(24));
    let hash = auth::token_hash(&secret);
    let by = caller.user.clone();
    let token = state
        .db(move |s| {
            let t = s.create_token(&name, role, &hash, &by)?;
            s.record_decision(
                chrono::Utc::now(),
                &by,
                "token",
                &name,
                "create",
                role.as_str(),
            )?;
            Ok(t)
        })
        .await?;
    Ok((token, secret))
}

async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Json<NewToken>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    require(&caller, Role::Admin, &headers)?;
    let Json(body) = body.map_err(|e| api_err(StatusCode::BAD_REQUEST, e.body_text()))?;
    let (token, secret) = create_token_as(&state, &caller, body.name, &body.role).await?;
    let mut v = serde_json::to_value(token).unwrap_or_default();
    v["token"] = json!(secret);
    Ok((StatusCode::CREATED, Json(v)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EventsQuery {
    /// `false`: answer 202 as soon as the body is queued.
    wait: Option<bool>,
}

#[derive(Serialize)]
struct Queued {
    queued: bool,
    bytes: usize,
}

async fn post_events(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    require(&caller, Role::Analyst, &headers)?;
    let body = body.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(_) => api_err(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the body is larger than {} bytes; send it in parts",
                state.max_body_bytes
            ),
        ),
        other => api_err(StatusCode::BAD_REQUEST, other.body_text()),
    })?;
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(api_err(
            StatusCode::BAD_REQUEST,
            "the body is empty; send JSON lines of log records",
        ));
    }
    // Refuse early when ingest is saturated, before spending a disk write on the body.
    if state.jobs.capacity() == 0 {
        return Err(busy(&state));
    }
    let n = state.spool_seq.fetch_add(1, Ordering::Relaxed);
    let spool = state.spool_dir.join(format!(
        "post-{}-{n}.jsonl",
        chrono::Utc::now().timestamp_millis()
    ));
    let len = body.len();
    let path = spool.clone();
    tokio::task::spawn_blocking(move || std::fs::write(&path, &body))
        .await
        .map_err(|e| api_err(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| {
            api_err(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot spool the body: {e}"),
            )
        })?;
    let (tx, rx) = oneshot::channel();
    if let Err(e) = state.jobs.try_send(Job::Posted {
        spool: spool.clone(),
        reply: tx,
    }) {
        let _ = std::fs::remove_file(&spool);
        return Err(match e {
            tokio::sync::mpsc::error::TrySendError::Full(_) => busy(&state),
            tokio::sync::mpsc::error::TrySendError::Closed(_) => api_err(
                StatusCode::SERVICE_UNAVAILABLE,
                "the ingest thread has stopped",
            ),
        });
    }
    if q.wait == Some(false) {
        return Ok((
            StatusCode::ACCEPTED,
            Json(Queued {
                queued: true,
                bytes: len,
            }),
        )
            .into_response());
    }
    let report = rx
        .await
        .map_err(|_| {
            api_err(
                StatusCode::SERVICE_UNAVAILABLE,
                "the ingest thread has stopped",
            )
        })?
        .map_err(|e| api_err(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    let status = if report.rejected > 0 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, Json(report)).into_response())
}

fn busy(state: &AppState) -> ApiError {
    state.ingest.refused.fetch_add(1, Ordering::Relaxed);
    api_err(
        StatusCode::SERVICE_UNAVAILABLE,
        "ingest is busy (queue full); retry in a few seconds",
    )
}
