//! The analyst's console: server-rendered pages (askama), one small vendored script and one
//! stylesheet, nothing from elsewhere. Every page reads the store only.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use vigil_store::{ActionRecord, IncidentSummary, Role};

use crate::api::{self, ApiError, IncidentQuery};
use crate::auth::{self, Caller, Credential};
use crate::AppState;

const CSS: &str = include_str!("../static/console.css");
const JS: &str = include_str!("../static/console.js");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(queue))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/search", get(search))
        .route("/incidents/{id}", get(incident_page))
        .route("/accounts/{account}", get(account_page))
        .route("/actions", get(actions_page))
        .route("/actions/{id}/{decision}", post(decide_form))
        .route("/models", get(models_page))
        .route("/models/{name}", post(model_form))
        .route("/admin", get(admin_page))
        .route("/admin/users", post(user_form))
        .route("/admin/tokens", post(token_form))
        .route(
            "/static/console.css",
            get(|| async { asset("text/css", CSS) }),
        )
        .route(
            "/static/console.js",
            get(|| async { asset("text/javascript", JS) }),
        )
}

/// Any other path: a page that says so (the API has its own JSON fallback).
pub async fn not_found() -> PageError {
    PageError(StatusCode::NOT_FOUND, "There is no such page here.".into())
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// Percent-encodes a path segment or query value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Escapes text for HTML and SVG built outside the templates.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub fn fmt_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn fmt_json_time(v: &Value) -> String {
    v.as_str()
        .and_then(|s| s.parse::<DateTime<Utc>>().ok())
        .map(|t| fmt_time(&t))
        .unwrap_or_default()
}

/// A redirect target from a form: only paths on this site.
fn local_path(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

/// What every page's header needs.
pub struct Nav {
    pub user: String,
    pub role: String,
    pub csrf: String,
    pub is_admin: bool,
    pub page: &'static str,
    pub query: String,
}

impl Nav {
    fn new(caller: &Caller, page: &'static str) -> Nav {
        Nav {
            user: caller.user.clone(),
            role: caller.role.as_str().to_string(),
            csrf: caller.csrf().to_string(),
            is_admin: caller.can(Role::Admin),
            page,
            query: String::new(),
        }
    }
}

/// A page that could not be shown.
pub struct PageError(StatusCode, String);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError(e.0, e.1)
    }
}

impl From<vigil_store::StoreError> for PageError {
    fn from(e: vigil_store::StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        PageError(StatusCode::INTERNAL_SERVER_ERROR, format!("template: {e}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    reason: String,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            status: self.0.as_u16(),
            reason: self.0.canonical_reason().unwrap_or("").to_string(),
            message: self.1,
        };
        let body = page.render().unwrap_or_else(|_| "error".to_string());
        (self.0, Html(body)).into_response()
    }
}

type PageResult = Result<Response, PageError>;

fn html(t: impl Template) -> PageResult {
    Ok(Html(t.render()?).into_response())
}

// ---------------------------------------------------------------------------------------------
// Login

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    next: String,
    message: String,
    csrf: String,
}

/// The login form's CSRF token travels twice: in a short-lived cookie and in the form. A
/// page elsewhere can make a browser post the form but cannot read or set the cookie, so it
/// cannot log the browser in to an account of its choosing.
const LOGIN_COOKIE: &str = "vigil_login";

/// A login page with a fresh CSRF token, as a response with its cookie.
fn login_response(state: &AppState, status: StatusCode, next: &str, message: String) -> PageResult {
    let csrf = auth::random_token(16);
    let body = LoginPage {
        next: local_path(next).to_string(),
        message,
        csrf: csrf.clone(),
    }
    .render()?;
    let cookie = format!(
        "{LOGIN_COOKIE}={csrf}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        if state.secure_cookies { "; Secure" } else { "" }
    );
    let mut res = (status, Html(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NextQuery {
    next: String,
}

async fn login_page(State(state): State<AppState>, Query(q): Query<NextQuery>) -> PageResult {
    login_response(&state, StatusCode::OK, &q.next, String::new())
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    Form(form): Form<LoginForm>,
) -> PageResult {
    let next = local_path(&form.next).to_string();
    let key = format!("{}|{}", peer.ip(), form.username);
    let refuse =
        |status: StatusCode, message: String| login_response(&state, status, &next, message);
    let cookie_token = auth::cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if form.csrf.is_empty() || !auth::same_secret(&form.csrf, cookie_token) {
        return refuse(
            StatusCode::FORBIDDEN,
            "The login form expired; please log in again.".into(),
        );
    }
    if let Err(wait) = state.limiter.check(&key) {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed logins; try again in {} minutes.",
                wait.as_secs().div_ceil(60)
            ),
        );
    }
    let name = form.username.clone();
    let user = state.db(move |s| s.user(&name)).await?;
    let password = form.password;
    let ok = match user {
        Some(u) => {
            let hash = u.password_hash.clone();
            tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
                .await
                .unwrap_or(false)
        }
        None => {
            // Spend the same time as a real check, so timing does not reveal which names exist.
            let _ =
                tokio::task::spawn_blocking(move || auth::verify_password(&password, DUMMY_HASH))
                    .await;
            false
        }
    };
    if !ok {
        state.limiter.failed(&key);
        tracing::warn!(user = %form.username, peer = %peer.ip(), "failed login");
        return refuse(
            StatusCode::UNAUTHORIZED,
            "Wrong user name or password.".into(),
        );
    }
    state.limiter.succeeded(&key);
    let token = auth::random_token(32);
    let csrf = auth::random_token(16);
    let expires = Utc::now() + chrono::Duration::hours(auth::SESSION_HOURS);
    let (hash, user) = (auth::token_hash(&token), form.username.clone());
    state
        .db(move |s| s.create_session(&hash, &user, &csrf, expires))
        .await?;
    let cookie = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        auth::SESSION_COOKIE,
        auth::SESSION_HOURS * 3600,
        if state.secure_cookies { "; Secure" } else { "" }
    );
    let mut res = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("vigil_login=; Path=/login; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(res)
}

/// An argon2 hash of a random string, verified against when the user does not exist.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Y2bRZ0pnsw3+Cq9B7o2Hc7mHfHx6w7uV0gKXrgqG1Eo";

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    if !caller.csrf_ok(Some(&form.csrf)) {
        return Err(PageError(
            StatusCode::FORBIDDEN,
            "The form is stale; reload the page.".into(),
        ));
    }
    if let Credential::Session { token_hash, .. } = &caller.credential {
        let h = token_hash.clone();
        state.db(move |s| s.delete_session(&h)).await?;
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("vigil_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(res)
}

// ---------------------------------------------------------------------------------------------
// Incident queue

pub struct QueueRow {
    pub id: String,
    pub href: String,
    pub title: String,
    pub score: String,
    pub severity: &'static str,
    pub start: String,
    pub end: String,
    pub accounts: Vec<(String, String)>,
    pub others: usize,
    pub breaches: u64,
    pub pending: u64,
}

fn severity(score: f64) -> &'static str {
    if score >= 90.0 {
        "critical"
    } else if score >= 75.0 {
        "high"
    } else if score >= 50.0 {
        "medium"
    } else {
        "low"
    }
}

fn queue_row(i: &IncidentSummary) -> QueueRow {
    let accounts: Vec<(String, String)> = i
        .entities
        .iter()
        .filter(|e| e.contains('@'))
        .take(4)
        .map(|a| (a.clone(), format!("/accounts/{}", url_encode(a))))
        .collect();
    QueueRow {
        id: i.id.clone(),
        href: format!("/incidents/{}", url_encode(&i.id)),
        title: i.title.clone(),
        score: format!("{:.0}", i.score),
        severity: severity(i.score),
        start: fmt_time(&i.start),
        end: fmt_time(&i.end),
        others: i.entities.len() - accounts.len(),
        accounts,
        breaches: i.breaches,
        pending: i.pending_actions,
    }
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    nav: Nav,
    rows: Vec<QueueRow>,
    total: u64,
    min_score: String,
    entity: String,
    since: String,
    until: String,
    showing: String,
    prev: Option<String>,
    next: Option<String>,
    ingest: String,
}

/// Renders the incident queue; public for the benchmark.
pub async fn render_queue(state: &AppState, caller: &Caller, q: IncidentQuery) -> PageResult {
    let filter = q.filter()?;
    let limit = filter.limit.unwrap_or(50).clamp(1, 500);
    let offset = filter.offset.unwrap_or(0);
    let f = vigil_store::IncidentFilter {
        limit: Some(limit),
        offset: Some(offset),
        ..filter
    };
    let page = state.db(move |s| s.incidents(&f)).await?;
    let link = |offset: u32| {
        let mut s = format!("/?offset={offset}&limit={limit}");
        if let Some(m) = q.min_score {
            let _ = write!(s, "&min_score={m}");
        }
        for (k, v) in [
            ("entity", &q.entity),
            ("since", &q.since),
            ("until", &q.until),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                let _ = write!(s, "&{k}={}", url_encode(v));
            }
        }
        s
    };
    let shown = page.items.len() as u32;
    let s = &state.ingest;
    let busy = s.busy.load(std::sync::atomic::Ordering::Relaxed);
    let events = s.events.load(std::sync::atomic::Ordering::Relaxed);
    let last = s.last_event_ms.load(std::sync::atomic::Ordering::Relaxed);
    let ingest = format!(
        "{}{} events processed{}",
        if busy { "Ingesting… " } else { "" },
        events,
        DateTime::from_timestamp_millis(last)
            .filter(|_| last > 0)
            .map(|t| format!(", newest {}", fmt_time(&t)))
            .unwrap_or_default()
    );
    let mut nav = Nav::new(caller, "queue");
    nav.query = q.entity.clone().unwrap_or_default();
    html(QueuePage {
        nav,
        rows: page.items.iter().map(queue_row).collect(),
        total: page.total,
        min_score: q.min_score.map(|m| m.to_string()).unwrap_or_default(),
        entity: q.entity.clone().unwrap_or_default(),
        since: q.since.clone().unwrap_or_default(),
        until: q.until.clone().unwrap_or_default(),
        showing: if shown == 0 {
            String::new()
        } else {
            format!("{}–{} of {}", offset + 1, offset + shown, page.total)
        },
        prev: (offset > 0).then(|| link(offset.saturating_sub(limit))),
        next: ((offset + shown) < page.total as u32).then(|| link(offset + limit)),
        ingest,
    })
}

async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<IncidentQuery>,
) -> PageResult {
    render_queue(&state, &caller, q).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SearchQuery {
    q: String,
}

async fn search(
    State(state): State<AppState>,
    _caller: Caller,
    Query(q): Query<SearchQuery>,
) -> PageResult {
    let q = q.q.trim().to_string();
    if q.is_empty() {
        return Ok(Redirect::to("/").into_response());
    }
    let entity = api::normalise_entity(&q);
    let e = entity.clone();
    let has_profile = state.db(move |s| s.profile(&e)).await?.is_some();
    if has_profile {
        return Ok(Redirect::to(&format!("/accounts/{}", url_encode(&entity))).into_response());
    }
    Ok(Redirect::to(&format!("/?entity={}", url_encode(&entity))).into_response())
}

// ---------------------------------------------------------------------------------------------
// Incident page

pub struct BreachRow {
    pub id: String,
    pub time: String,
    pub model: String,
    pub score: String,
    pub severity: &'static str,
    pub entity: String,
    pub entity_href: String,
    pub reason: String,
}

pub struct ActionRow {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub time: String,
    pub mode: String,
    pub state: String,
    pub pending: bool,
    pub decided: String,
    pub incident_href: String,
    pub model: String,
    pub failed: bool,
    /// What the executors did, or why they failed.
    pub outcome: String,
    pub attempts: Vec<AttemptRow>,
}

/// One attempt at executing or undoing an action.
pub struct AttemptRow {
    pub operation: String,
    pub attempt: u32,
    pub time: String,
    pub result: String,
    pub status: String,
    pub detail: String,
}

fn action_row(a: &ActionRecord) -> ActionRow {
    ActionRow {
        id: a.action.id.clone(),
        kind: a.action.kind.replace('_', " "),
        target: a.action.target.clone(),
        time: fmt_time(&a.action.time),
        mode: vigil_store::mode_str(a.action.mode).to_string(),
        state: a.action.state.clone(),
        pending: a.action.state == "pending",
        decided: match (&a.decided_by, &a.decided_at) {
            (Some(u), Some(t)) => format!("{} by {u} at {}", a.action.state, fmt_time(t)),
            _ => String::new(),
        },
        incident_href: format!("/incidents/{}", url_encode(&a.action.incident_id)),
        model: a.model.clone(),
        failed: matches!(a.action.state.as_str(), "failed" | "undo_failed"),
        outcome: a.outcome.clone().unwrap_or_default(),
        attempts: a
            .attempts
            .iter()
            .map(|t| AttemptRow {
                operation: t.operation.clone(),
                attempt: t.attempt,
                time: fmt_time(&t.started),
                result: t.result.replace('_', " "),
                status: match (t.http_status, &t.error_code) {
                    (Some(s), Some(c)) => format!("HTTP {s} {c}"),
                    (Some(s), None) => format!("HTTP {s}"),
                    (None, Some(c)) => c.clone(),
                    (None, None) => String::new(),
                },
                detail: t.detail.clone(),
            })
            .collect(),
    }
}

pub struct TimelineRow {
    pub time: String,
    pub entity: String,
    pub what: String,
    pub breach: bool,
    pub anchor: String,
}

pub struct Infra {
    pub label: &'static str,
    pub values: Vec<(String, Option<String>)>,
}

#[derive(Template)]
#[template(path = "incident.html")]
struct IncidentPage {
    nav: Nav,
    id: String,
    title: String,
    score: String,
    severity: &'static str,
    start: String,
    end: String,
    status: String,
    merged_into: Option<(String, String)>,
    summary: Vec<SummaryPart>,
    accounts: Vec<(String, String)>,
    infra: Vec<Infra>,
    timeline_svg: String,
    timeline: Vec<TimelineRow>,
    breaches: Vec<BreachRow>,
    breaches_total: u64,
    actions: Vec<ActionRow>,
    can_decide: bool,
    response_connected: bool,
    decisions: Vec<(String, String, String, String)>,
    here: String,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A lane label that fits its column: long addresses keep their start and domain.
fn short_label(s: &str) -> String {
    const MAX: usize = 38;
    if s.chars().count() <= MAX {
        return s.to_string();
    }
    match s.split_once('@') {
        Some((local, domain)) if domain.len() < MAX - 6 => {
            let keep = MAX - domain.len() - 2;
            format!("{}…@{domain}", local.chars().take(keep).collect::<String>())
        }
        _ => format!("{}…", s.chars().take(MAX - 1).collect::<String>()),
    }
}

/// One part of an incident summary: a label ("Then", "Response", ...) and its items.
pub struct SummaryPart {
    pub label: String,
    pub items: Vec<String>,
    pub list: bool,
}

/// Splits the analyst's one-paragraph summary into the parts it is written in, so the page can
/// show the opening as prose and the sequences (what happened next, the response) as lists.
/// Text that does not match the known parts stays as prose.
fn summary_parts(summary: &str) -> Vec<SummaryPart> {
    const MARKERS: &[(&str, &str, bool)] = &[
        ("Then: ", "Then", true),
        (
            "Attacker infrastructure: ",
            "Attacker infrastructure",
            false,
        ),
        ("Grouped because ", "Grouped because", true),
        ("Response: ", "Response", true),
    ];
    let mut cuts: Vec<(usize, usize)> = MARKERS
        .iter()
        .enumerate()
        .filter_map(|(m, (marker, _, _))| summary.find(marker).map(|at| (at, m)))
        .collect();
    cuts.sort_unstable();
    let mut parts = Vec::new();
    let lead_end = cuts.first().map_or(summary.len(), |c| c.0);
    let lead = summary[..lead_end].trim();
    if !lead.is_empty() {
        parts.push(SummaryPart {
            label: String::new(),
            items: vec![lead.to_string()],
            list: false,
        });
    }
    for (i, (at, m)) in cuts.iter().enumerate() {
        let (marker, label, list) = MARKERS[*m];
        let end = cuts.get(i + 1).map_or(summary.len(), |c| c.0);
        let mut body = summary[at + marker.len()..end].trim();
        // A list ends at its sentence's full stop; what follows is prose (e.g. the counts).
        let mut trailing = "";
        if list {
            if let Some(stop) = body.find(". ") {
                trailing = body[stop + 2..].trim();
                body = &body[..stop];
            }
        }
        let body = body.trim_end_matches('.');
        let items = if list {
            body.split("; ").map(|x| x.trim().to_string()).collect()
        } else {
            vec![body.to_string()]
        };
        parts.push(SummaryPart {
            label: label.to_string(),
            items,
            list,
        });
        if !trailing.is_empty() {
            parts.push(SummaryPart {
                label: String::new(),
                items: vec![trailing.to_string()],
                list: false,
            });
        }
    }
    parts
}

/// The timeline as one lane per account: every entry a mark at its time, breaches in the
/// colour of their score, other key events in grey-blue; day boundaries as rules.
fn timeline_svg(
    entries: &[(DateTime<Utc>, String, String, Option<f64>)],
    lanes: &[String],
) -> String {
    const LABEL_W: f64 = 280.0;
    const PLOT_W: f64 = 900.0;
    const LANE_H: f64 = 44.0;
    const TOP: f64 = 26.0;
    let (Some(first), Some(last)) = (
        entries.iter().map(|e| e.0).min(),
        entries.iter().map(|e| e.0).max(),
    ) else {
        return String::new();
    };
    let span = (last - first).num_seconds().max(60) as f64;
    // Pad the span by 3% each side so marks at the ends are not cut.
    let t0 = first.timestamp() as f64 - span * 0.03;
    let span = span * 1.06;
    let x = |t: &DateTime<Utc>| LABEL_W + (t.timestamp() as f64 - t0) / span * PLOT_W;
    let height = TOP + LANE_H * lanes.len() as f64 + 8.0;
    let width = LABEL_W + PLOT_W + 10.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="timeline" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="Timeline, one lane per account">"#
    );
    for (i, lane) in lanes.iter().enumerate() {
        let y = TOP + LANE_H * i as f64;
        let _ = write!(
            s,
            r##"<rect x="0" y="{y}" width="{width}" height="{LANE_H}" fill="{}"/><text x="8" y="{}" class="lane-label">{}</text><line x1="{LABEL_W}" x2="{}" y1="{}" y2="{}" stroke="#c9d3e0"/>"##,
            if i % 2 == 0 { "#f6f8fb" } else { "#ffffff" },
            y + LANE_H / 2.0 + 4.0,
            esc(&short_label(lane)),
            LABEL_W + PLOT_W,
            y + LANE_H / 2.0,
            y + LANE_H / 2.0
        );
    }
    // Ticks: every 6 hours when the span is under 3 days, else every day.
    let step_h: i64 = if span < 3.0 * 86400.0 { 6 } else { 24 };
    let mut tick = first
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or(first);
    while tick <= last + chrono::Duration::hours(step_h) {
        let tx = x(&tick);
        if (LABEL_W..=LABEL_W + PLOT_W).contains(&tx) {
            let midnight = tick.format("%H").to_string() == "00";
            let label = if midnight {
                tick.format("%b %d").to_string()
            } else {
                tick.format("%H:%M").to_string()
            };
            let _ = write!(
                s,
                r##"<line x1="{tx}" x2="{tx}" y1="{}" y2="{}" stroke="{}" stroke-dasharray="{}"/><text x="{tx}" y="16" class="tick{}">{label}</text>"##,
                TOP - 4.0,
                height - 4.0,
                if midnight { "#8a9bb3" } else { "#dde4ee" },
                if midnight { "0" } else { "3 3" },
                if midnight { " day" } else { "" }
            );
        }
        tick += chrono::Duration::hours(step_h);
    }
    for (n, (t, entity, what, score)) in entries.iter().enumerate() {
        let Some(lane) = lanes
            .iter()
            .position(|l| l == entity)
            .or_else(|| lanes.iter().position(|l| l == "other"))
        else {
            continue;
        };
        let cy = TOP + LANE_H * lane as f64 + LANE_H / 2.0;
        let cx = x(t);
        let (fill, r) = match score {
            Some(sc) if *sc >= 90.0 => ("#c62828", 7.0),
            Some(sc) if *sc >= 75.0 => ("#ef6c00", 6.5),
            Some(_) => ("#f9a825", 6.0),
            None => ("#5c7cfa", 4.5),
        };
        let _ = write!(
            s,
            r##"<a href="#t{n}"><circle cx="{cx:.1}" cy="{cy}" r="{r}" fill="{fill}" fill-opacity="0.85" stroke="#fff" stroke-width="1.5"><title>{} {}: {}</title></circle></a>"##,
            fmt_time(t),
            esc(entity),
            esc(what)
        );
    }
    s.push_str("</svg>");
    s
}

/// Renders an incident page; public for the benchmark.
pub async fn render_incident(state: &AppState, caller: &Caller, id: String) -> PageResult {
    let view = api::incident_view(state, id.clone()).await?;
    let inc = &view["incident"];
    let detail = &inc["detail"];
    let score = inc["score"].as_f64().unwrap_or(0.0);
    let breaches: Vec<vigil_report::Breach> =
        serde_json::from_value(view["breaches"].clone()).unwrap_or_default();
    let scores: BTreeMap<&str, f64> = breaches.iter().map(|b| (b.id.as_str(), b.score)).collect();
    let entities = strings(&inc["entities"]);
    let mut lanes: Vec<String> = Vec::new();
    let mut entries = Vec::new();
    let mut timeline = Vec::new();
    for (n, e) in detail["timeline"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Some(t) = e["time"]
            .as_str()
            .and_then(|s| s.parse::<DateTime<Utc>>().ok())
        else {
            continue;
        };
        let entity = e["entity"].as_str().unwrap_or("").to_string();
        let what = e["what"].as_str().unwrap_or("").to_string();
        let breach = e["breach_id"].as_str();
        let lane = if entity.contains('@') {
            entity.clone()
        } else {
            "other".to_string()
        };
        if !lanes.contains(&lane) {
            lanes.push(lane);
        }
        entries.push((
            t,
            entity.clone(),
            what.clone(),
            breach.map(|b| scores.get(b).copied().unwrap_or(70.0)),
        ));
        timeline.push(TimelineRow {
            time: fmt_time(&t),
            entity,
            what,
            breach: breach.is_some(),
            anchor: format!("t{n}"),
        });
    }
    // Accounts first in order of appearance; anything else in one lane at the bottom.
    if let Some(i) = lanes.iter().position(|l| l == "other") {
        let other = lanes.remove(i);
        lanes.push(other);
    }
    let account_links = |v: &Vec<String>| -> Vec<(String, Option<String>)> {
        v.iter().map(|x| (x.clone(), None)).collect()
    };
    let infra = vec![
        Infra {
            label: "IP addresses",
            values: strings(&detail["ips"])
                .into_iter()
                .map(|ip| {
                    let href = format!("/?entity={}", url_encode(&format!("ip:{ip}")));
                    (ip, Some(href))
                })
                .collect(),
        },
        Infra {
            label: "Networks",
            values: account_links(&strings(&detail["networks"])),
        },
        Infra {
            label: "Countries",
            values: account_links(&strings(&detail["countries"])),
        },
        Infra {
            label: "OAuth apps",
            values: account_links(&strings(&detail["apps"])),
        },
    ]
    .into_iter()
    .filter(|i| !i.values.is_empty())
    .collect();
    let actions: Vec<ActionRecord> =
        serde_json::from_value(view["actions"].clone()).unwrap_or_default();
    let decisions = view["decisions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            (
                fmt_json_time(&d["at"]),
                d["user"].as_str().unwrap_or("").to_string(),
                d["decision"].as_str().unwrap_or("").to_string(),
                d["detail"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let merged_into = inc["merged_into"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(|m| (m.to_string(), format!("/incidents/{}", url_encode(m))));
    html(IncidentPage {
        nav: Nav::new(caller, "queue"),
        here: format!("/incidents/{}", url_encode(&id)),
        id,
        title: inc["title"].as_str().unwrap_or("").to_string(),
        score: format!("{score:.0}"),
        severity: severity(score),
        start: fmt_json_time(&inc["start"]),
        end: fmt_json_time(&inc["end"]),
        status: inc["status"].as_str().unwrap_or("").to_string(),
        merged_into,
        summary: summary_parts(inc["summary"].as_str().unwrap_or("")),
        accounts: entities
            .iter()
            .filter(|e| e.contains('@'))
            .map(|a| (a.clone(), format!("/accounts/{}", url_encode(a))))
            .collect(),
        infra,
        timeline_svg: timeline_svg(&entries, &lanes),
        timeline,
        breaches: breaches
            .iter()
            .map(|b| BreachRow {
                id: b.id.clone(),
                time: fmt_time(&b.time),
                model: b.model.clone(),
                score: format!("{:.0}", b.score),
                severity: severity(b.score),
                entity: b.entity.clone(),
                entity_href: if b.entity.contains('@') {
                    format!("/accounts/{}", url_encode(&b.entity))
                } else {
                    format!("/?entity={}", url_encode(&b.entity))
                },
                reason: b.reason.clone(),
            })
            .collect(),
        breaches_total: view["breaches_total"].as_u64().unwrap_or(0),
        actions: actions.iter().map(action_row).collect(),
        can_decide: caller.can(Role::Analyst),
        response_connected: state.responder.is_some(),
        decisions,
    })
}

async fn incident_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> PageResult {
    render_incident(&state, &caller, id).await
}

// ---------------------------------------------------------------------------------------------
// Account page

pub struct ValueBar {
    pub value: String,
    pub count: u64,
    pub share: String,
    pub last: String,
}

pub struct ActivityRow {
    pub time: String,
    pub kind: String,
    pub detail: String,
    pub ip: String,
    pub country: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Nav,
    account: String,
    has_profile: bool,
    first: String,
    last: String,
    events: u64,
    sign_ins: u64,
    failed: u64,
    countries: Vec<ValueBar>,
    networks: Vec<ValueBar>,
    clients: Vec<ValueBar>,
    ips: Vec<ValueBar>,
    heatmap: String,
    recent: Vec<ActivityRow>,
    incidents: Vec<QueueRow>,
    breaches: Vec<BreachRow>,
}

fn bars(v: &Value) -> Vec<ValueBar> {
    let items = v.as_array().cloned().unwrap_or_default();
    let total: u64 = items.iter().filter_map(|x| x["count"].as_u64()).sum();
    items
        .iter()
        .map(|x| {
            let count = x["count"].as_u64().unwrap_or(0);
            ValueBar {
                value: x["value"].as_str().unwrap_or("").to_string(),
                count,
                share: format!("{:.0}", 100.0 * count as f64 / total.max(1) as f64),
                last: fmt_json_time(&x["last"]),
            }
        })
        .collect()
}

/// Hour-of-week heat map: 7 rows (Monday first) of 24 hours, darker for more activity.
fn heatmap_svg(hours: &[u64]) -> String {
    const CELL: f64 = 26.0;
    const LEFT: f64 = 40.0;
    const TOP: f64 = 18.0;
    let max = hours.iter().copied().max().unwrap_or(0).max(1) as f64;
    let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let w = LEFT + CELL * 24.0;
    let h = TOP + CELL * 7.0;
    let mut s = format!(
        r#"<svg class="heatmap" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="Activity by hour of week (UTC)">"#
    );
    for hour in (0..24).step_by(3) {
        let _ = write!(
            s,
            r#"<text x="{}" y="12" class="tick">{hour:02}</text>"#,
            LEFT + CELL * hour as f64 + 2.0
        );
    }
    for (d, day) in days.iter().enumerate() {
        let y = TOP + CELL * d as f64;
        let _ = write!(
            s,
            r#"<text x="0" y="{}" class="tick">{day}</text>"#,
            y + CELL * 0.65
        );
        for hour in 0..24 {
            let n = hours.get(d * 24 + hour).copied().unwrap_or(0);
            // Square-root scale: a few busy hours should not wash out the rest.
            let level = (n as f64 / max).sqrt();
            let fill = if n == 0 {
                "#eef1f6".to_string()
            } else {
                let r = (232.0 - 200.0 * level) as u8;
                let g = (240.0 - 160.0 * level) as u8;
                let b = (250.0 - 70.0 * level) as u8;
                format!("#{r:02x}{g:02x}{b:02x}")
            };
            let _ = write!(
                s,
                r#"<rect x="{}" y="{y}" width="{}" height="{}" rx="3" fill="{fill}"><title>{day} {hour:02}:00 UTC: {n} events</title></rect>"#,
                LEFT + CELL * hour as f64,
                CELL - 3.0,
                CELL - 3.0
            );
        }
    }
    s.push_str("</svg>");
    s
}

async fn account_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
) -> PageResult {
    let view = api::entity_view(&state, account).await?;
    let p = &view["profile"];
    let incidents: Vec<IncidentSummary> =
        serde_json::from_value(view["incidents"].clone()).unwrap_or_default();
    let breaches: Vec<vigil_report::Breach> =
        serde_json::from_value(view["breaches"].clone()).unwrap_or_default();
    let hours: Vec<u64> = serde_json::from_value(p["hours"].clone()).unwrap_or_default();
    let recent = p["recent"]
        .as_array()
        .into_iter()
        .flatten()
        .rev()
        .map(|a| ActivityRow {
            time: fmt_json_time(&a["time"]),
            kind: a["kind"].as_str().unwrap_or("").replace('_', " "),
            detail: a["detail"].as_str().unwrap_or("").to_string(),
            ip: a["ip"].as_str().unwrap_or("").to_string(),
            country: a["country"].as_str().unwrap_or("").to_string(),
        })
        .collect();
    html(AccountPage {
        nav: Nav::new(&caller, "queue"),
        account: view["entity"].as_str().unwrap_or("").to_string(),
        has_profile: !p.is_null(),
        first: fmt_json_time(&p["first"]),
        last: fmt_json_time(&p["last"]),
        events: p["events"].as_u64().unwrap_or(0),
        sign_ins: p["sign_ins"].as_u64().unwrap_or(0),
        failed: p["failed_sign_ins"].as_u64().unwrap_or(0),
        countries: bars(&p["countries"]),
        networks: bars(&p["networks"]),
        clients: bars(&p["clients"]),
        ips: bars(&p["ips"]),
        heatmap: heatmap_svg(&hours),
        recent,
        incidents: incidents.iter().map(queue_row).collect(),
        breaches: breaches
            .iter()
            .rev()
            .take(30)
            .map(|b| BreachRow {
                id: b.id.clone(),
                time: fmt_time(&b.time),
                model: b.model.clone(),
                score: format!("{:.0}", b.score),
                severity: severity(b.score),
                entity: b.entity.clone(),
                entity_href: String::new(),
                reason: b.reason.clone(),
            })
            .collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// Actions

#[derive(Template)]
#[template(path = "actions.html")]
struct ActionsPage {
    nav: Nav,
    pending: Vec<ActionRow>,
    executed: Vec<ActionRow>,
    decided: Vec<ActionRow>,
    can_decide: bool,
    response_connected: bool,
    here: String,
}

async fn actions_page(State(state): State<AppState>, caller: Caller) -> PageResult {
    let all = state.db(|s| s.actions(None, None)).await?;
    let pending = all
        .iter()
        .filter(|a| a.action.state == "pending")
        .map(action_row)
        .collect();
    let mut decided: Vec<&ActionRecord> = all.iter().filter(|a| a.decided_by.is_some()).collect();
    decided.sort_by_key(|a| std::cmp::Reverse(a.decided_at));
    let mut executed: Vec<&ActionRecord> = all.iter().filter(|a| a.outcome_at.is_some()).collect();
    executed.sort_by_key(|a| std::cmp::Reverse(a.outcome_at));
    html(ActionsPage {
        nav: Nav::new(&caller, "actions"),
        pending,
        executed: executed.into_iter().take(50).map(action_row).collect(),
        response_connected: state.responder.is_some(),
        decided: decided.into_iter().take(50).map(action_row).collect(),
        can_decide: caller.can(Role::Analyst),
        here: "/actions".into(),
    })
}

#[derive(Deserialize)]
struct DecisionForm {
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    note: String,
}

async fn decide_form(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, decision)): Path<(String, String)>,
    Form(form): Form<DecisionForm>,
) -> PageResult {
    if !caller.csrf_ok(Some(&form.csrf)) {
        return Err(PageError(
            StatusCode::FORBIDDEN,
            "The form is stale; reload the page and try again.".into(),
        ));
    }
    if !caller.can(Role::Analyst) {
        return Err(PageError(
            StatusCode::FORBIDDEN,
            "Only analysts and admins decide on actions.".into(),
        ));
    }
    let decision = api::parse_decision(&decision)?;
    api::decide(&state, &caller, id, decision, form.note).await?;
    Ok(Redirect::to(local_path(&form.next)).into_response())
}

// ---------------------------------------------------------------------------------------------
// Models

pub struct ModelRow {
    pub name: String,
    pub action: String,
    pub version: u64,
    pub kind: String,
    pub description: String,
    pub enabled: bool,
    pub has_response: bool,
    pub effective: String,
    pub switch: String,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "models.html")]
struct ModelsPage {
    nav: Nav,
    models: Vec<ModelRow>,
    can_change: bool,
    global: String,
}

async fn models_page(State(state): State<AppState>, caller: Caller) -> PageResult {
    let models = api::models_view(&state).await?;
    let rows = models
        .iter()
        .map(|m| {
            let name = m["name"].as_str().unwrap_or("").to_string();
            ModelRow {
                action: format!("/models/{}", url_encode(&name)),
                name,
                version: m["version"].as_u64().unwrap_or(0),
                kind: m["kind"].as_str().unwrap_or("").to_string(),
                description: m["description"].as_str().unwrap_or("").to_string(),
                enabled: m["enabled"].as_bool().unwrap_or(true),
                has_response: !m["default_autonomy"].is_null(),
                effective: m["effective_autonomy"].as_str().unwrap_or("").to_string(),
                switch: m["autonomy"].as_str().unwrap_or("default").to_string(),
                updated: match (m["updated_by"].as_str(), m["updated_at"].as_str()) {
                    (Some(u), Some(_)) => format!("{u}, {}", fmt_json_time(&m["updated_at"])),
                    _ => String::new(),
                },
            }
        })
        .collect();
    html(ModelsPage {
        nav: Nav::new(&caller, "models"),
        models: rows,
        can_change: caller.can(Role::Admin),
        global: vigil_store::mode_str(state.global_mode).to_string(),
    })
}

#[derive(Deserialize)]
struct ModelForm {
    csrf: String,
    #[serde(default)]
    enabled: Option<String>,
    #[serde(default)]
    autonomy: Option<String>,
}

async fn model_form(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Form(form): Form<ModelForm>,
) -> PageResult {
    if !caller.csrf_ok(Some(&form.csrf)) {
        return Err(PageError(
            StatusCode::FORBIDDEN,
            "The form is stale; reload the page and try again.".into(),
        ));
    }
    if !caller.can(Role::Admin) {
        return Err(PageError(
            StatusCode::FORBIDDEN,
            "Only admins change models.".into(),
        ));
    }
    let enabled = match form.enabled.as_deref() {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    };
    let change =
        api::parse_model_change(enabled, form.autonomy.as_deref().filter(|a| !a.is_empty()))?;
    api::apply_model_change(&state, &caller, name, change).await?;
    Ok(Redirect::to("/models").into_response())
}

// ---------------------------------------------------------------------------------------------
// Admin: users, API tokens, the decision log

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    nav: Nav,
    users: Vec<(String, String, String)>,
    tokens: Vec<(String, String, String, String)>,
    decisions: Vec<(String, String, String, String, String)>,
    new_token: Option<String>,
    message: String,
}

async fn render_admin(
    state: &AppState,
    caller: &Caller,
    new_token: Option<String>,
    message: String,
) -> PageResult {
    if !caller.can(Role::Admin) {
        return Err(PageError(
            StatusCode::FORBIDDEN,
            "Only admins manage users and tokens.".into(),
        ));
    }
    let (users, tokens, decisions) = state
        .db(|s| Ok((s.users()?, s.tokens()?, s.decisions(None, 100)?)))
        .await?;
    html(AdminPage {
        nav: Nav::new(caller, "admin"),
        users: users
            .iter()
            .map(|u| {
                (
                    u.name.clone(),
                    u.role.as_str().to_string(),
                    fmt_time(&u.created),
                )
            })
            .collect(),
        tokens: tokens
            .iter()
            .map(|t| {
                (
                    t.name.clone(),
                    t.role.as_str().to_string(),
                    t.created_by.clone(),
                    fmt_time(&t.created),
                )
            })
            .collect(),
        decisions: decisions
            .iter()
            .map(|d| {
                (
                    fmt_time(&d.at),
                    d.user.clone(),
                    d.subject_kind.clone(),
                    d.subject_id.clone(),
                    format!("{} {}", d.decision, d.detail),
                )
            })
            .collect(),
        new_token,
        message,
    })
}

async fn admin_page(State(state): State<AppState>, caller: Caller) -> PageResult {
    render_admin(&state, &caller, None, String::new()).await
}

#[derive(Deserialize)]
struct UserForm {
    csrf: String,
    name: String,
    role: String,
    password: String,
}

async fn user_form(
    State(state): State<AppState>,
    caller: Caller,
    Form(form): Form<UserForm>,
) -> PageResult {
    if !caller.csrf_ok(Some(&form.csrf)) || !caller.can(Role::Admin) {
        return Err(PageError(
            StatusCode::FORBIDDEN,
            "Only admins create users (or the form is stale).".into(),
        ));
    }
    let message = match api::create_user_as(
        &state,
        &caller,
        form.name.clone(),
        &form.role,
        form.password,
    )
    .await
    {
        Ok(u) => format!("User {} created with role {}.", u.name, u.role.as_str()),
        Err(e) => e.1,
    };
    render_admin(&state, &caller, None, message).await
}

#[derive(Deserialize)]
struct TokenForm {
    csrf: String,
    name: String,
    role: String,
}

async fn token_form(
    State(state): State<AppState>,
    caller: Caller,
    Form(form): Form<TokenForm>,
) -> PageResult {
    if !caller.csrf_ok(Some(&form.csrf)) || !caller.can(Role::Admin) {
        return Err(PageError(
            StatusCode::FORBIDDEN,
            "Only admins create tokens (or the form is stale).".into(),
        ));
    }
    match api::create_token_as(&state, &caller, form.name, &form.role).await {
        Ok((t, secret)) => {
            render_admin(
                &state,
                &caller,
                Some(secret),
                format!(
                    "Token {} created; copy it now, it is not shown again.",
                    t.name
                ),
            )
            .await
        }
        Err(e) => render_admin(&state, &caller, None, e.1).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_this_site() {
        assert_eq!(local_path("/incidents/i1"), "/incidents/i1");
        assert_eq!(local_path("//evil.example/"), "/");
        assert_eq!(local_path("https://evil.example/"), "/");
        assert_eq!(local_path("/\\evil"), "/");
    }

    #[test]
    fn model_names_survive_url_encoding() {
        assert_eq!(url_encode("SaaS / Access"), "SaaS%20%2F%20Access");
        assert_eq!(esc("<a href=\"x\">&"), "&lt;a href=&quot;x&quot;&gt;&amp;");
    }

    #[test]
    fn a_summary_splits_into_prose_and_lists() {
        let parts = summary_parts("2 accounts appear compromised by the same actor: a, b. It began at T on a: x. Then: 01-27 14:19 rule (a); 01-27 15:22 rule (b). 5 breaches of 3 models, score 100. Attacker infrastructure: IPs 1.2.3.4. Grouped because a and b share the rare IP 1.2.3.4. Response: disable_user a awaiting confirmation; revoke_sessions a awaiting confirmation.");
        let labels: Vec<&str> = parts.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "",
                "Then",
                "",
                "Attacker infrastructure",
                "Grouped because",
                "Response"
            ]
        );
        assert!(parts[0].items[0].ends_with("on a: x."));
        assert_eq!(
            parts[1].items,
            ["01-27 14:19 rule (a)", "01-27 15:22 rule (b)"]
        );
        assert_eq!(parts[2].items, ["5 breaches of 3 models, score 100."]);
        assert_eq!(parts[5].items[1], "revoke_sessions a awaiting confirmation");
        let plain = summary_parts("One account.");
        assert_eq!(plain.len(), 1);
        assert_eq!(
            short_label("zoe.vanleeuwen.longer.name@margiestravel.com")
                .chars()
                .count(),
            38
        );
    }

    #[test]
    fn the_timeline_has_one_lane_per_account_and_a_mark_per_entry() {
        let t = |h| {
            "2022-02-19T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::hours(h)
        };
        let entries = vec![
            (t(4), "a@x.com".to_string(), "login".to_string(), Some(95.0)),
            (t(14), "a@x.com".to_string(), "rule".to_string(), None),
            (
                t(38),
                "c@x.com".to_string(),
                "consent <Spike>".to_string(),
                Some(80.0),
            ),
        ];
        let lanes = vec!["a@x.com".to_string(), "c@x.com".to_string()];
        let svg = timeline_svg(&entries, &lanes);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert_eq!(svg.matches("class=\"lane-label\"").count(), 2);
        assert!(svg.contains("consent &lt;Spike&gt;"), "text is escaped");
        assert!(svg.contains("Feb 20"), "a day boundary is drawn");
    }
}
