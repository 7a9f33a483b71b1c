//! A local stand-in for the Microsoft 365 APIs Vigil uses, following their public contracts:
//!
//! - identity platform: `POST /{tenant}/oauth2/v2.0/token` (client credentials with a client
//!   secret or a signed JWT client assertion, `scope` = `{resource}/.default`);
//! - Office 365 Management Activity API: `/api/v1.0/{tenant}/activity/feed/subscriptions/
//!   start|stop|list|content` with the `NextPageUri` paging header, content blobs, the 24-hour
//!   window and 7-day horizon rules, and the documented `AF…` error codes;
//! - Microsoft Graph (`/v1.0` and `/beta`): `auditLogs/signIns` with `$filter`, `$top` and
//!   `@odata.nextLink`, users (`accountEnabled`, `revokeSignInSessions`), inbox
//!   `messageRules`, `oauth2PermissionGrants`, `servicePrincipals`, and
//!   `identity/conditionalAccess/namedLocations`, with Graph's error JSON;
//! - Reporting Web Service: `/ecp/reportingwebservice/reporting.svc/MessageTrace` with
//!   `StartDate`/`EndDate` in `$filter` and `__next` paging.
//!
//! Tests drive it through [`StandIn`]: publish data, inject faults (throttling with
//! `Retry-After`, disabled subscriptions, internal errors), move its clock, and read back every
//! request and every change it received.

// Handlers short-circuit with the error `Response` itself; boxing it would only add noise to a
// test server.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use chrono::{DateTime, Duration, NaiveDateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

/// Which API a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    Token,
    SubscriptionStart,
    ContentList,
    ContentBlob,
    SignIns,
    MessageTrace,
    /// Any other Microsoft Graph call, read or write (users, rules, grants, service
    /// principals, named locations).
    GraphObjects,
}

/// A failure to answer with instead of the normal response.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// 429 with `Retry-After` (seconds) and the API's throttling code (`AF429` on the
    /// Management Activity API, `TooManyRequests` on Graph).
    Throttle { retry_after_secs: u64 },
    /// `AF20023`: the subscription has been disabled (Management Activity API only).
    SubscriptionDisabled,
    /// `AF50000`: internal error, retry the request (Management Activity API), or Graph's
    /// `generalException` with 500.
    InternalError,
    /// A bare 503 with no useful body.
    Unavailable,
}

/// One request the stand-in received.
#[derive(Clone, Debug)]
pub struct RequestRecord {
    pub method: String,
    /// Path and query as sent.
    pub uri: String,
    pub status: u16,
    pub at: Instant,
    pub publisher_identifier: Option<String>,
}

/// One change made through Graph (PATCH, POST, DELETE that succeeded).
#[derive(Clone, Debug)]
pub struct Mutation {
    pub method: String,
    pub path: String,
    pub body: Value,
    pub at: Instant,
}

/// How the registered application proves itself.
#[derive(Clone, Debug)]
pub enum ClientCredential {
    Secret(String),
    /// `x5t` is the base64url SHA-1 thumbprint of the certificate; `rsa_public_key_der` is the
    /// PKCS#1 RSAPublicKey the assertion's RS256 signature is checked with.
    Certificate {
        x5t: String,
        rsa_public_key_der: Vec<u8>,
    },
}

/// Settings fixed at start.
#[derive(Clone, Debug)]
pub struct StandInConfig {
    pub tenant_id: String,
    pub client_id: String,
    pub credential: ClientCredential,
    /// Blobs per page of a content listing before `NextPageUri` is set.
    pub content_page_size: usize,
    /// Default and maximum page size of Graph sign-in listings.
    pub graph_page_size: usize,
    pub message_trace_page_size: usize,
    pub token_lifetime_secs: u64,
}

impl Default for StandInConfig {
    fn default() -> Self {
        StandInConfig {
            tenant_id: "00000000-0000-0000-0000-00000000c0de".into(),
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            credential: ClientCredential::Secret("stand-in-secret".into()),
            content_page_size: 100,
            graph_page_size: 1000,
            message_trace_page_size: 1000,
            token_lifetime_secs: 3599,
        }
    }
}

/// Management Activity API content types.
pub const CONTENT_TYPES: [&str; 5] = [
    "Audit.AzureActiveDirectory",
    "Audit.Exchange",
    "Audit.SharePoint",
    "Audit.General",
    "DLP.All",
];

const MANAGE_AUDIENCE: &str = "https://manage.office.com";
const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";
const OUTLOOK_AUDIENCE: &str = "https://outlook.office365.com";

struct Blob {
    id: String,
    content_type: String,
    created: DateTime<Utc>,
    body: String,
}

#[derive(Clone, Debug)]
struct User {
    id: String,
    upn: String,
    enabled: bool,
    sessions_revoked: u32,
}

#[derive(Default)]
struct Inner {
    clock_offset: Duration,
    tokens: HashMap<String, (String, DateTime<Utc>)>,
    tokens_issued: u64,
    subscriptions: BTreeMap<String, SubscriptionState>,
    blobs: Vec<Blob>,
    sign_ins: Vec<(DateTime<Utc>, Value)>,
    message_trace: Vec<(DateTime<Utc>, Value)>,
    users: Vec<User>,
    /// user id → rules
    rules: HashMap<String, Vec<Value>>,
    grants: Vec<Value>,
    service_principals: Vec<Value>,
    named_locations: HashMap<String, Value>,
    faults: HashMap<Route, VecDeque<Fault>>,
    requests: Vec<RequestRecord>,
    mutations: Vec<Mutation>,
    next_id: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SubscriptionState {
    Enabled,
    Disabled,
}

impl Inner {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.clock_offset
    }

    fn fresh_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{:012x}", self.next_id)
    }

    fn user_index(&self, key: &str) -> Option<usize> {
        self.users
            .iter()
            .position(|u| u.id == key || u.upn.eq_ignore_ascii_case(key))
    }
}

struct Shared {
    config: StandInConfig,
    base_url: String,
    inner: Mutex<Inner>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic in one handler must not wedge every later test request.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running stand-in on a loopback port. Dropping it stops the server.
pub struct StandIn {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl StandIn {
    /// Binds an ephemeral port on 127.0.0.1 and serves in the background of the current tokio
    /// runtime.
    pub async fn start(config: StandInConfig) -> std::io::Result<StandIn> {
        Self::start_on("127.0.0.1:0".parse().expect("valid address"), config).await
    }

    pub async fn start_on(addr: SocketAddr, config: StandInConfig) -> std::io::Result<StandIn> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            config,
            base_url: format!("http://{addr}"),
            inner: Mutex::new(Inner::default()),
        });
        let app = router(shared.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(StandIn {
            shared,
            addr,
            _shutdown: tx,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the base of every endpoint (login, manage, graph, reporting).
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn config(&self) -> &StandInConfig {
        &self.shared.config
    }

    /// The stand-in's idea of now (wall clock plus the offset set by [`StandIn::set_now`]).
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.lock().now()
    }

    /// Moves the stand-in's clock so that it reads `now` at this instant and runs on from there.
    pub fn set_now(&self, now: DateTime<Utc>) {
        self.shared.lock().clock_offset = now - Utc::now();
    }

    /// Publishes a content blob created now; returns its content id.
    pub fn publish_blob(&self, content_type: &str, records: &[Value]) -> String {
        let body = serde_json::to_string(records).expect("records serialise");
        self.publish_blob_text(content_type, body)
    }

    /// Publishes a content blob whose body is already JSON text (an array of records).
    pub fn publish_blob_text(&self, content_type: &str, body: String) -> String {
        let mut inner = self.shared.lock();
        let created = inner.now();
        let id = format!(
            "{}${}",
            created.format("%Y%m%d%H%M%S%3f"),
            inner.fresh_id("blob")
        );
        inner.blobs.push(Blob {
            id: id.clone(),
            content_type: content_type.to_string(),
            created,
            body,
        });
        id
    }

    /// Content blobs published so far.
    pub fn blob_count(&self) -> usize {
        self.shared.lock().blobs.len()
    }

    /// Adds sign-in records (Graph signIn objects) to `auditLogs/signIns`.
    pub fn add_sign_ins(&self, records: impl IntoIterator<Item = Value>) {
        let mut inner = self.shared.lock();
        for r in records {
            let t = r
                .get("createdDateTime")
                .and_then(Value::as_str)
                .and_then(parse_time)
                .unwrap_or_else(|| inner.now());
            inner.sign_ins.push((t, r));
        }
    }

    /// Adds message trace rows; their `Received` (`/Date(ms)/` or ISO) decides the window.
    pub fn add_message_trace(&self, rows: impl IntoIterator<Item = Value>) {
        let mut inner = self.shared.lock();
        for r in rows {
            let t = r
                .get("Received")
                .and_then(Value::as_str)
                .and_then(parse_time)
                .unwrap_or_else(|| inner.now());
            inner.message_trace.push((t, r));
        }
    }

    /// Registers a user (enabled); returns its object id.
    pub fn add_user(&self, upn: &str) -> String {
        let mut inner = self.shared.lock();
        if let Some(i) = inner.user_index(upn) {
            return inner.users[i].id.clone();
        }
        let id = guid_like(&mut inner);
        inner.users.push(User {
            id: id.clone(),
            upn: upn.to_string(),
            enabled: true,
            sessions_revoked: 0,
        });
        id
    }

    /// `accountEnabled` of a user, by UPN or id.
    pub fn user_enabled(&self, user: &str) -> Option<bool> {
        let inner = self.shared.lock();
        inner.user_index(user).map(|i| inner.users[i].enabled)
    }

    /// How many times `revokeSignInSessions` was called for a user.
    pub fn sessions_revoked(&self, user: &str) -> u32 {
        let inner = self.shared.lock();
        inner
            .user_index(user)
            .map_or(0, |i| inner.users[i].sessions_revoked)
    }

    /// Adds an inbox rule for a user; returns the rule id.
    pub fn add_inbox_rule(&self, user: &str, display_name: &str) -> String {
        let mut inner = self.shared.lock();
        let user_id = match inner.user_index(user) {
            Some(i) => inner.users[i].id.clone(),
            None => panic!("add_inbox_rule: unknown user {user}"),
        };
        let id = inner.fresh_id("AQAAAJ5dZ");
        let rule = json!({
            "id": id,
            "displayName": display_name,
            "sequence": 1,
            "isEnabled": true,
            "conditions": {"subjectContains": ["invoice"]},
            "actions": {"moveToFolder": "RSS Feeds", "stopProcessingRules": false},
        });
        inner.rules.entry(user_id).or_default().push(rule);
        id
    }

    /// Display names of a user's inbox rules.
    pub fn inbox_rules(&self, user: &str) -> Vec<String> {
        let inner = self.shared.lock();
        let Some(i) = inner.user_index(user) else {
            return Vec::new();
        };
        inner
            .rules
            .get(&inner.users[i].id)
            .map(|rs| {
                rs.iter()
                    .filter_map(|r| r["displayName"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Adds a service principal for an application; returns its object id.
    pub fn add_service_principal(&self, app_id: &str, display_name: &str) -> String {
        let mut inner = self.shared.lock();
        let id = guid_like(&mut inner);
        inner.service_principals.push(json!({
            "id": id, "appId": app_id, "displayName": display_name,
        }));
        id
    }

    /// Adds a delegated permission grant of `client_sp_id` by `user`; returns its id.
    pub fn add_oauth_grant(&self, client_sp_id: &str, user: &str, scope: &str) -> String {
        let mut inner = self.shared.lock();
        let principal = match inner.user_index(user) {
            Some(i) => inner.users[i].id.clone(),
            None => panic!("add_oauth_grant: unknown user {user}"),
        };
        let id = inner.fresh_id("grant");
        inner.grants.push(json!({
            "id": id, "clientId": client_sp_id, "consentType": "Principal",
            "principalId": principal, "resourceId": "00000003-0000-0000-c000-000000000000",
            "scope": scope,
        }));
        id
    }

    /// Grants left.
    pub fn oauth_grant_ids(&self) -> Vec<String> {
        self.shared
            .lock()
            .grants
            .iter()
            .filter_map(|g| g["id"].as_str().map(str::to_string))
            .collect()
    }

    /// Adds an IP named location with these CIDR ranges; returns its id.
    pub fn add_ip_named_location(&self, display_name: &str, cidrs: &[&str]) -> String {
        let mut inner = self.shared.lock();
        let id = guid_like(&mut inner);
        let ranges: Vec<Value> = cidrs.iter().map(|c| cidr_range(c)).collect();
        inner.named_locations.insert(
            id.clone(),
            json!({
                "@odata.type": "#microsoft.graph.ipNamedLocation",
                "id": id, "displayName": display_name, "isTrusted": false,
                "ipRanges": ranges,
            }),
        );
        id
    }

    /// The CIDR ranges of an IP named location.
    pub fn named_location_cidrs(&self, id: &str) -> Vec<String> {
        self.shared
            .lock()
            .named_locations
            .get(id)
            .and_then(|l| l["ipRanges"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|r| r["cidrAddress"].as_str().map(str::to_string))
            .collect()
    }

    /// Queues `count` faults for the next requests to `route`.
    pub fn fail_next(&self, route: Route, fault: Fault, count: usize) {
        let mut inner = self.shared.lock();
        let q = inner.faults.entry(route).or_default();
        for _ in 0..count {
            q.push_back(fault.clone());
        }
    }

    /// Marks a content type's subscription disabled (as an administrator or Microsoft would),
    /// so that listing it answers `AF20023` until it is started again.
    pub fn disable_subscription(&self, content_type: &str) {
        self.shared
            .lock()
            .subscriptions
            .insert(content_type.to_string(), SubscriptionState::Disabled);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.lock().requests.clone()
    }

    /// Every successful change made through Graph so far.
    pub fn mutations(&self) -> Vec<Mutation> {
        self.shared.lock().mutations.clone()
    }

    /// Invalidates every token issued (as a key rollover or a revoked consent would), so the
    /// next call with one answers 401.
    pub fn revoke_tokens(&self) {
        self.shared.lock().tokens.clear();
    }

    /// Tokens issued so far.
    pub fn tokens_issued(&self) -> u64 {
        self.shared.lock().tokens_issued
    }
}

fn guid_like(inner: &mut Inner) -> String {
    inner.next_id += 1;
    let n = inner.next_id;
    format!("{:08x}-0000-4000-8000-{:012x}", n as u32, n)
}

fn cidr_range(cidr: &str) -> Value {
    let kind = if cidr.contains(':') {
        "#microsoft.graph.iPv6CidrRange"
    } else {
        "#microsoft.graph.iPv4CidrRange"
    };
    json!({"@odata.type": kind, "cidrAddress": cidr})
}

/// Parses the timestamps these APIs accept and write: ISO 8601 with or without `Z` and
/// fractions, date-only, and the Reporting Web Service's `/Date(ms)/`.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Some(ms) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        let digits: String = ms
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '-')
            .collect();
        return DateTime::from_timestamp_millis(digits.parse().ok()?);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let naive = s.trim_end_matches('Z');
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, f) {
            return Some(t.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(naive, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

type Q = Query<HashMap<String, String>>;
type S = State<Arc<Shared>>;

fn router(shared: Arc<Shared>) -> Router {
    let feed = "/api/v1.0/{tenant}/activity/feed";
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route(&format!("{feed}/subscriptions/start"), post(sub_start))
        .route(&format!("{feed}/subscriptions/stop"), post(sub_stop))
        .route(&format!("{feed}/subscriptions/list"), get(sub_list))
        .route(&format!("{feed}/subscriptions/content"), get(content_list))
        .route(&format!("{feed}/audit/{{id}}"), get(content_blob))
        .route("/{version}/auditLogs/signIns", get(sign_ins))
        .route("/{version}/users/{user}", get(user_get).patch(user_patch))
        .route(
            "/{version}/users/{user}/revokeSignInSessions",
            post(revoke_sessions),
        )
        .route(
            "/{version}/users/{user}/mailFolders/inbox/messageRules",
            get(rules_list),
        )
        .route(
            "/{version}/users/{user}/mailFolders/inbox/messageRules/{rule}",
            get(rule_get).delete(rule_delete),
        )
        .route("/{version}/servicePrincipals", get(sp_list))
        .route("/{version}/oauth2PermissionGrants", get(grants_list))
        .route(
            "/{version}/oauth2PermissionGrants/{id}",
            axum::routing::delete(grant_delete),
        )
        .route(
            "/{version}/identity/conditionalAccess/namedLocations/{id}",
            get(location_get).patch(location_patch),
        )
        .route(
            "/ecp/reportingwebservice/reporting.svc/MessageTrace",
            get(message_trace),
        )
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            record_request,
        ))
        .with_state(shared)
}

async fn record_request(
    State(shared): S,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let method = req.method().to_string();
    let uri = req.uri().to_string();
    let publisher = req.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "PublisherIdentifier")
            .map(|(_, v)| v.into_owned())
    });
    let at = Instant::now();
    let resp = next.run(req).await;
    shared.lock().requests.push(RequestRecord {
        method,
        uri,
        status: resp.status().as_u16(),
        at,
        publisher_identifier: publisher,
    });
    resp
}

async fn not_found(uri: Uri) -> Response {
    graph_error(
        StatusCode::NOT_FOUND,
        "UnknownError",
        &format!("no route for {}", uri.path()),
    )
}

fn manage_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    let now = iso(Utc::now());
    (
        status,
        axum::Json(json!({"error": {
            "code": code,
            "message": message,
            "innerError": {"date": now, "request-id": "00000000-0000-0000-0000-000000000000",
                            "client-request-id": "00000000-0000-0000-0000-000000000000"}
        }})),
    )
        .into_response()
}

fn with_retry_after(mut resp: Response, secs: u64) -> Response {
    resp.headers_mut().insert(
        "Retry-After",
        HeaderValue::from_str(&secs.to_string()).expect("digits"),
    );
    resp
}

/// The queued fault for `route`, rendered in that API's dialect.
fn take_fault(shared: &Shared, route: Route) -> Option<Response> {
    let fault = shared.lock().faults.get_mut(&route)?.pop_front()?;
    let manage = matches!(
        route,
        Route::SubscriptionStart | Route::ContentList | Route::ContentBlob
    );
    Some(match (fault, manage) {
        (Fault::Throttle { retry_after_secs }, true) => with_retry_after(
            manage_error(
                StatusCode::TOO_MANY_REQUESTS,
                "AF429",
                "Too many requests. Method=GetBlob, PublisherId=00000000-0000-0000-0000-000000000000",
            ),
            retry_after_secs,
        ),
        (Fault::Throttle { retry_after_secs }, false) => with_retry_after(
            graph_error(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Too many requests.",
            ),
            retry_after_secs,
        ),
        (Fault::SubscriptionDisabled, _) => manage_error(
            StatusCode::BAD_REQUEST,
            "AF20023",
            "The subscription was disabled by the tenant administrator.",
        ),
        (Fault::InternalError, true) => manage_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "AF50000",
            "An internal error occurred. Retry the request.",
        ),
        (Fault::InternalError, false) => graph_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "generalException",
            "An internal server error occurred.",
        ),
        (Fault::Unavailable, _) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    })
}

/// Checks the bearer token's audience; `Err` is the 401 to send.
fn authorize(shared: &Shared, headers: &HeaderMap, audience: &str) -> Result<(), Response> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let inner = shared.lock();
    let now = inner.now();
    let ok = token
        .and_then(|t| inner.tokens.get(t))
        .is_some_and(|(aud, exp)| aud == audience && *exp > now);
    if ok {
        return Ok(());
    }
    drop(inner);
    Err(if audience == MANAGE_AUDIENCE {
        manage_error(
            StatusCode::UNAUTHORIZED,
            "AF10001",
            "The permission set () sent in the request does not include the expected permission.",
        )
    } else {
        graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token is empty, expired or for another audience.",
        )
    })
}

fn token_error(code: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(
            json!({"error": code, "error_description": description, "error_codes": [7000215]}),
        ),
    )
        .into_response()
}

async fn token(State(shared): S, Path(tenant): Path<String>, body: Bytes) -> Response {
    if let Some(r) = take_fault(&shared, Route::Token) {
        return r;
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let cfg = &shared.config;
    if tenant != cfg.tenant_id {
        return token_error(
            "invalid_request",
            &format!("AADSTS90002: Tenant '{tenant}' not found."),
        );
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return token_error(
            "unsupported_grant_type",
            "AADSTS70003: only client_credentials here",
        );
    }
    if form.get("client_id") != Some(&cfg.client_id) {
        return token_error(
            "unauthorized_client",
            "AADSTS700016: Application not found in the directory.",
        );
    }
    let token_url = format!("{}/{}/oauth2/v2.0/token", shared.base_url, tenant);
    let proven = match &cfg.credential {
        ClientCredential::Secret(secret) => form.get("client_secret") == Some(secret),
        ClientCredential::Certificate {
            x5t,
            rsa_public_key_der,
        } => {
            form.get("client_assertion_type").map(String::as_str)
                == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                && form.get("client_assertion").is_some_and(|a| {
                    check_assertion(a, x5t, rsa_public_key_der, &cfg.client_id, &token_url)
                })
        }
    };
    if !proven {
        return token_error(
            "invalid_client",
            "AADSTS7000215: Invalid client secret or client assertion provided.",
        );
    }
    let audience = match form.get("scope").and_then(|s| s.strip_suffix("/.default")) {
        Some(a) if [MANAGE_AUDIENCE, GRAPH_AUDIENCE, OUTLOOK_AUDIENCE].contains(&a) => {
            a.to_string()
        }
        _ => return token_error(
            "invalid_scope",
            "AADSTS1002012: The provided value for scope is not valid; use {resource}/.default.",
        ),
    };
    let mut inner = shared.lock();
    inner.tokens_issued += 1;
    let issued = inner.tokens_issued;
    let token = format!("standin.{issued}.{}", inner.fresh_id("t"));
    let exp = inner.now() + Duration::seconds(cfg.token_lifetime_secs as i64);
    inner.tokens.insert(token.clone(), (audience, exp));
    axum::Json(json!({
        "token_type": "Bearer",
        "expires_in": cfg.token_lifetime_secs,
        "ext_expires_in": cfg.token_lifetime_secs,
        "access_token": token,
    }))
    .into_response()
}

/// Verifies an RS256 client assertion as the identity platform does: header `x5t`, claims
/// `aud` (the token endpoint), `iss` = `sub` = client id, unexpired, and the signature.
fn check_assertion(jwt: &str, x5t: &str, key: &[u8], client_id: &str, token_url: &str) -> bool {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = jwt.split('.').collect();
    let [h, c, s] = parts[..] else {
        return false;
    };
    let (Ok(header), Ok(claims), Ok(sig)) = (b64.decode(h), b64.decode(c), b64.decode(s)) else {
        return false;
    };
    let (Ok(header), Ok(claims)) = (
        serde_json::from_slice::<Value>(&header),
        serde_json::from_slice::<Value>(&claims),
    ) else {
        return false;
    };
    let now = Utc::now().timestamp();
    header["alg"] == "RS256"
        && header["x5t"] == x5t
        && claims["aud"] == token_url
        && claims["iss"] == client_id
        && claims["sub"] == client_id
        && claims["exp"].as_i64().is_some_and(|e| e > now)
        && ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            key,
        )
        .verify(format!("{h}.{c}").as_bytes(), &sig)
        .is_ok()
}

fn content_type_param(q: &HashMap<String, String>) -> Result<String, Response> {
    match q.get("contentType") {
        Some(ct) if CONTENT_TYPES.contains(&ct.as_str()) => Ok(ct.clone()),
        Some(ct) => Err(manage_error(
            StatusCode::BAD_REQUEST,
            "AF20010",
            &format!("The content type specified is invalid: {ct}"),
        )),
        None => Err(manage_error(
            StatusCode::BAD_REQUEST,
            "AF20011",
            "The content type is missing.",
        )),
    }
}

async fn sub_start(State(shared): S, headers: HeaderMap, Query(q): Q) -> Response {
    if let Err(r) = authorize(&shared, &headers, MANAGE_AUDIENCE) {
        return r;
    }
    if let Some(r) = take_fault(&shared, Route::SubscriptionStart) {
        return r;
    }
    let ct = match content_type_param(&q) {
        Ok(ct) => ct,
        Err(r) => return r,
    };
    let mut inner = shared.lock();
    if inner.subscriptions.get(&ct) == Some(&SubscriptionState::Enabled) {
        return manage_error(
            StatusCode::BAD_REQUEST,
            "AF20024",
            "The subscription is already enabled. No property change.",
        );
    }
    inner
        .subscriptions
        .insert(ct.clone(), SubscriptionState::Enabled);
    axum::Json(json!({"contentType": ct, "status": "enabled", "webhook": null})).into_response()
}

async fn sub_stop(State(shared): S, headers: HeaderMap, Query(q): Q) -> Response {
    if let Err(r) = authorize(&shared, &headers, MANAGE_AUDIENCE) {
        return r;
    }
    let ct = match content_type_param(&q) {
        Ok(ct) => ct,
        Err(r) => return r,
    };
    shared
        .lock()
        .subscriptions
        .insert(ct, SubscriptionState::Disabled);
    StatusCode::NO_CONTENT.into_response()
}

async fn sub_list(State(shared): S, headers: HeaderMap) -> Response {
    if let Err(r) = authorize(&shared, &headers, MANAGE_AUDIENCE) {
        return r;
    }
    let inner = shared.lock();
    let list: Vec<Value> = inner
        .subscriptions
        .iter()
        .map(|(ct, s)| {
            json!({"contentType": ct, "status": if *s == SubscriptionState::Enabled {"enabled"} else {"disabled"}, "webhook": null})
        })
        .collect();
    axum::Json(list).into_response()
}

async fn content_list(State(shared): S, headers: HeaderMap, Query(q): Q) -> Response {
    if let Err(r) = authorize(&shared, &headers, MANAGE_AUDIENCE) {
        return r;
    }
    if let Some(r) = take_fault(&shared, Route::ContentList) {
        return r;
    }
    let ct = match content_type_param(&q) {
        Ok(ct) => ct,
        Err(r) => return r,
    };
    let inner = shared.lock();
    match inner.subscriptions.get(&ct) {
        None => {
            return manage_error(
                StatusCode::BAD_REQUEST,
                "AF20022",
                "No subscription found for the specified content type.",
            )
        }
        Some(SubscriptionState::Disabled) => {
            return manage_error(
                StatusCode::BAD_REQUEST,
                "AF20023",
                "The subscription was disabled by the tenant administrator.",
            )
        }
        Some(SubscriptionState::Enabled) => {}
    }
    let now = inner.now();
    let window_rule = "Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time no more than 7 days in the past.";
    let (start, end) = match (q.get("startTime"), q.get("endTime")) {
        (None, None) => (now - Duration::hours(24), now),
        (Some(s), Some(e)) => match (parse_time(s), parse_time(e)) {
            (Some(s), Some(e)) => (s, e),
            _ => {
                return manage_error(
                    StatusCode::BAD_REQUEST,
                    "AF20055",
                    &format!("{window_rule} Unreadable time."),
                )
            }
        },
        _ => return manage_error(StatusCode::BAD_REQUEST, "AF20055", window_rule),
    };
    if end <= start || end - start > Duration::hours(24) || start < now - Duration::days(7) {
        return manage_error(StatusCode::BAD_REQUEST, "AF20055", window_rule);
    }
    let offset: usize = q.get("nextPage").and_then(|p| p.parse().ok()).unwrap_or(0);
    let mut matching: Vec<&Blob> = inner
        .blobs
        .iter()
        .filter(|b| b.content_type == ct && b.created >= start && b.created < end)
        .collect();
    matching.sort_by_key(|b| b.created);
    let page_size = shared.config.content_page_size.max(1);
    let tenant = &shared.config.tenant_id;
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(page_size)
        .map(|b| {
            json!({
                "contentType": b.content_type,
                "contentId": b.id,
                "contentUri": format!("{}/api/v1.0/{tenant}/activity/feed/audit/{}", shared.base_url, b.id),
                "contentCreated": iso(b.created),
                "contentExpiration": iso(b.created + Duration::days(7)),
            })
        })
        .collect();
    let mut resp = axum::Json(page).into_response();
    if offset + page_size < matching.len() {
        // NextPageUri repeats the query with the page marker, as the service does.
        let next = next_page_url(
            &format!(
                "{}/api/v1.0/{tenant}/activity/feed/subscriptions/content",
                shared.base_url
            ),
            &q,
            "nextPage",
            offset + page_size,
        );
        resp.headers_mut().insert(
            "NextPageUri",
            HeaderValue::from_str(next.as_str()).expect("ascii url"),
        );
    }
    resp
}

/// The next page's address: the request's query again, with `marker` set to `at`.
fn next_page_url(base: &str, q: &HashMap<String, String>, marker: &str, at: usize) -> url::Url {
    let mut next = url::Url::parse(base).expect("valid url");
    {
        let mut pairs = next.query_pairs_mut();
        for (k, v) in q {
            if k != marker {
                pairs.append_pair(k, v);
            }
        }
        pairs.append_pair(marker, &at.to_string());
    }
    next
}

async fn content_blob(
    State(shared): S,
    headers: HeaderMap,
    Path((_tenant, id)): Path<(String, String)>,
) -> Response {
    if let Err(r) = authorize(&shared, &headers, MANAGE_AUDIENCE) {
        return r;
    }
    if let Some(r) = take_fault(&shared, Route::ContentBlob) {
        return r;
    }
    let inner = shared.lock();
    match inner.blobs.iter().find(|b| b.id == id) {
        Some(b) => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            b.body.clone(),
        )
            .into_response(),
        None => manage_error(
            StatusCode::NOT_FOUND,
            "AF20051",
            "Content requested with the key does not exist.",
        ),
    }
}

/// The parts of an OData `$filter` these endpoints support: comparisons of one time field
/// joined by `and`, and `signInEventTypes/any(t: t eq '…' [or t eq '…'])`.
#[derive(Default, Debug)]
struct TimeFilter {
    ge: Option<DateTime<Utc>>,
    lt: Option<DateTime<Utc>>,
    event_types: Vec<String>,
}

fn parse_filter(filter: &str, field: &str) -> Result<TimeFilter, String> {
    let mut f = TimeFilter::default();
    for clause in split_and(filter) {
        let clause = clause.trim().trim_start_matches('(').trim_end_matches(')');
        if let Some(rest) = clause.strip_prefix("signInEventTypes/any(") {
            for alt in rest.split(" or ") {
                let v = alt
                    .split_once(" eq ")
                    .map(|(_, v)| v.trim().trim_end_matches(')').trim_matches('\''));
                match v {
                    Some(v) => f.event_types.push(v.to_string()),
                    None => return Err(format!("unsupported any() clause: {clause}")),
                }
            }
            continue;
        }
        let mut words = clause.splitn(3, ' ');
        let (Some(name), Some(op), Some(value)) = (words.next(), words.next(), words.next()) else {
            return Err(format!("unsupported clause: {clause}"));
        };
        if name != field {
            return Err(format!("unsupported property in $filter: {name}"));
        }
        let value = value
            .trim()
            .trim_start_matches("datetime")
            .trim_matches('\'');
        let t = parse_time(value).ok_or_else(|| format!("invalid time {value}"))?;
        match op {
            "ge" => f.ge = Some(t),
            "gt" => f.ge = Some(t + Duration::milliseconds(1)),
            "lt" => f.lt = Some(t),
            "le" => f.lt = Some(t + Duration::milliseconds(1)),
            "eq" if field == "StartDate" => f.ge = Some(t),
            "eq" if field == "EndDate" => f.lt = Some(t),
            _ => return Err(format!("unsupported operator {op}")),
        }
    }
    Ok(f)
}

/// Splits on ` and ` outside parentheses.
fn split_and(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b' ' if depth == 0 && s[i..].starts_with(" and ") => {
                out.push(&s[start..i]);
                i += 5;
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

fn sign_in_event_types(r: &Value) -> Vec<String> {
    if let Some(a) = r.get("signInEventTypes").and_then(Value::as_array) {
        return a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
    }
    match r.get("isInteractive").and_then(Value::as_bool) {
        Some(false) => vec!["nonInteractiveUser".into()],
        _ => vec!["interactiveUser".into()],
    }
}

async fn sign_ins(
    State(shared): S,
    headers: HeaderMap,
    Path(version): Path<String>,
    Query(q): Q,
) -> Response {
    if let Err(r) = authorize(&shared, &headers, GRAPH_AUDIENCE) {
        return r;
    }
    if let Some(r) = take_fault(&shared, Route::SignIns) {
        return r;
    }
    let filter = match q.get("$filter").map(|f| parse_filter(f, "createdDateTime")) {
        Some(Err(e)) => {
            return graph_error(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", &e)
        }
        Some(Ok(f)) => f,
        None => TimeFilter::default(),
    };
    if !filter.event_types.is_empty() && version == "v1.0" {
        // signInEventTypes is a beta property.
        return graph_error(
            StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            "Could not find a property named 'signInEventTypes' on type 'microsoft.graph.signIn'.",
        );
    }
    let top = q
        .get("$top")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(shared.config.graph_page_size)
        .clamp(1, shared.config.graph_page_size.max(1));
    let skip: usize = q
        .get("$skiptoken")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let inner = shared.lock();
    let types = if filter.event_types.is_empty() {
        vec!["interactiveUser".to_string()]
    } else {
        filter.event_types.clone()
    };
    let mut matching: Vec<&(DateTime<Utc>, Value)> = inner
        .sign_ins
        .iter()
        .filter(|(t, r)| {
            filter.ge.is_none_or(|g| *t >= g)
                && filter.lt.is_none_or(|l| *t < l)
                && sign_in_event_types(r).iter().any(|e| types.contains(e))
        })
        .collect();
    // Graph lists sign-ins newest first.
    matching.sort_by_key(|r| std::cmp::Reverse(r.0));
    let page: Vec<Value> = matching
        .iter()
        .skip(skip)
        .take(top)
        .map(|(_, r)| r.clone())
        .collect();
    let mut body = json!({
        "@odata.context": format!("{}/{version}/$metadata#auditLogs/signIns", shared.base_url),
        "value": page,
    });
    if skip + top < matching.len() {
        let mut next = url::Url::parse(&format!("{}/{version}/auditLogs/signIns", shared.base_url))
            .expect("valid url");
        {
            let mut pairs = next.query_pairs_mut();
            for (k, v) in &q {
                if k != "$skiptoken" {
                    pairs.append_pair(k, v);
                }
            }
            pairs.append_pair("$skiptoken", &(skip + top).to_string());
        }
        body["@odata.nextLink"] = Value::String(next.to_string());
    }
    axum::Json(body).into_response()
}

async fn message_trace(State(shared): S, headers: HeaderMap, Query(q): Q) -> Response {
    if let Err(r) = authorize(&shared, &headers, OUTLOOK_AUDIENCE) {
        return r;
    }
    if let Some(r) = take_fault(&shared, Route::MessageTrace) {
        return r;
    }
    let mut filter = TimeFilter::default();
    if let Some(f) = q.get("$filter") {
        for clause in split_and(f) {
            let field = clause.split_whitespace().next().unwrap_or("");
            match parse_filter(clause, field) {
                Ok(part) if field == "StartDate" => filter.ge = part.ge,
                Ok(part) if field == "EndDate" => filter.lt = part.lt,
                Ok(_) => {
                    return graph_error(
                        StatusCode::BAD_REQUEST,
                        "InvalidFilter",
                        &format!("unsupported property {field}"),
                    )
                }
                Err(e) => return graph_error(StatusCode::BAD_REQUEST, "InvalidFilter", &e),
            }
        }
    }
    let skip: usize = q
        .get("$skiptoken")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let inner = shared.lock();
    let mut rows: Vec<&(DateTime<Utc>, Value)> = inner
        .message_trace
        .iter()
        .filter(|(t, _)| filter.ge.is_none_or(|g| *t >= g) && filter.lt.is_none_or(|l| *t < l))
        .collect();
    rows.sort_by_key(|(t, _)| *t);
    let page_size = shared.config.message_trace_page_size.max(1);
    let page: Vec<Value> = rows
        .iter()
        .skip(skip)
        .take(page_size)
        .map(|(_, r)| r.clone())
        .collect();
    let mut d = json!({"results": page});
    if skip + page_size < rows.len() {
        let next = next_page_url(
            &format!(
                "{}/ecp/reportingwebservice/reporting.svc/MessageTrace",
                shared.base_url
            ),
            &q,
            "$skiptoken",
            skip + page_size,
        );
        d["__next"] = Value::String(next.to_string());
    }
    axum::Json(json!({ "d": d })).into_response()
}

/// The prologue of the Graph PATCH endpoints: token, queued fault, then the JSON body.
fn graph_guarded_json(
    shared: &Shared,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, Response> {
    graph_guard(shared, headers)?;
    serde_json::from_slice::<Value>(body).map_err(|_| {
        graph_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Unable to read JSON request payload.",
        )
    })
}

/// Shared prologue of the Graph object endpoints: token, queued fault.
fn graph_guard(shared: &Shared, headers: &HeaderMap) -> Result<(), Response> {
    authorize(shared, headers, GRAPH_AUDIENCE)?;
    match take_fault(shared, Route::GraphObjects) {
        Some(r) => Err(r),
        None => Ok(()),
    }
}

fn user_not_found(user: &str) -> Response {
    graph_error(
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &format!("Resource '{user}' does not exist or one of its queried reference-property objects are not present."),
    )
}

fn user_json(u: &User) -> Value {
    json!({"id": u.id, "userPrincipalName": u.upn, "accountEnabled": u.enabled})
}

async fn user_get(
    State(shared): S,
    headers: HeaderMap,
    Path((_v, user)): Path<(String, String)>,
) -> Response {
    if let Err(r) = graph_guard(&shared, &headers) {
        return r;
    }
    let inner = shared.lock();
    match inner.user_index(&user) {
        Some(i) => axum::Json(user_json(&inner.users[i])).into_response(),
        None => user_not_found(&user),
    }
}

fn record_mutation(inner: &mut Inner, method: &Method, path: &str, body: Value) {
    inner.mutations.push(Mutation {
        method: method.to_string(),
        path: path.to_string(),
        body,
        at: Instant::now(),
    });
}

async fn user_patch(
    State(shared): S,
    headers: HeaderMap,
    method: Method,
    uri: Uri,
    Path((_v, user)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let patch = match graph_guarded_json(&shared, &headers, &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mut inner = shared.lock();
    let Some(i) = inner.user_index(&user) else {
        return user_not_found(&user);
    };
    if let Some(obj) = patch.as_object() {
        for (k, v) in obj {
            match (k.as_str(), v) {
                ("accountEnabled", Value::Bool(b)) => inner.users[i].enabled = *b,
                _ => {
                    return graph_error(
                        StatusCode::BAD_REQUEST,
                        "Request_BadRequest",
                        &format!("Property '{k}' is not supported by this stand-in."),
                    )
                }
            }
        }
    }
    record_mutation(&mut inner, &method, uri.path(), patch);
    StatusCode::NO_CONTENT.into_response()
}

async fn revoke_sessions(
    State(shared): S,
    headers: HeaderMap,
    method: Method,
    uri: Uri,
    Path((_v, user)): Path<(String, String)>,
) -> Response {
    if let Err(r) = graph_guard(&shared, &headers) {
        return r;
    }
    let mut inner = shared.lock();
    let Some(i) = inner.user_index(&user) else {
        return user_not_found(&user);
    };
    inner.users[i].sessions_revoked += 1;
    record_mutation(&mut inner, &method, uri.path(), Value::Null);
    axum::Json(json!({"@odata.context": "$metadata#Edm.Boolean", "value": true})).into_response()
}

async fn rules_list(
    State(shared): S,
    headers: HeaderMap,
    Path((_v, user)): Path<(String, String)>,
) -> Response {
    if let Err(r) = graph_guard(&shared, &headers) {
        return r;
    }
    let inner = shared.lock();
    let Some(i) = inner.user_index(&user) else {
        return user_not_found(&user);
    };
    let rules = inner
        .rules
        .get(&inner.users[i].id)
        .cloned()
        .unwrap_or_default();
    axum::Json(json!({ "value": rules })).into_response()
}

async fn rule_get(
    State(shared): S,
    headers: HeaderMap,
    Path((_v, user, rule)): Path<(String, String, String)>,
) -> Response {
    if let Err(r) = graph_guard(&shared, &headers) {
        return r;
    }
    let inner = shared.lock();
    let Some(i) = inner.user_index(&user) else {
        return user_not_found(&user);
    };
    match inner
        .rules
        .get(&inner.users[i].id)
        .and_then(|rs| rs.iter().find(|r| r["id"] == rule.as_str()))
    {
        Some(r) => axum::Json(r.clone()).into_response(),
        None => graph_error(
            StatusCode::NOT_FOUND,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        ),
    }
}

async fn rule_delete(
    State(shared): S,
    headers: HeaderMap,
    method: Method,
    uri: Uri,
    Path((_v, user, rule)): Path<(String, String, String)>,
) -> Response {
    if let Err(r) = graph_guard(&shared, &headers) {
        return r;
    }
    let mut inner = shared.lock();
    let Some(i) = inner.user_index(&user) else {
        return user_not_found(&user);
    };
    let uid = inner.users[i].id.clone();
    let rules = inner.rules.entry(uid).or_default();
    let before = rules.len();
    rules.retain(|r| r["id"] != rule.as_str());
    if rules.len() == before {
        return graph_error(
            StatusCode::NOT_FOUND,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        );
    }
    record_mutation(&mut inner, &method, uri.path(), Value::Null);
    StatusCode::NO_CONTENT.into_response()
}

/// `$filter=prop eq 'v' [and prop eq 'v']`, the only form these lists need.
fn eq_filter(filter: Option<&String>) -> Vec<(String, String)> {
    filter
        .map(|f| {
            split_and(f)
                .into_iter()
                .filter_map(|c| {
                    let (k, v) = c.split_once(" eq ")?;
                    Some((
                        k.trim().to_string(),
                        v.trim().trim_matches('\'').to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn matches_eq(v: &Value, conds: &[(String, String)]) -> bool {
    conds
        .iter()
        // Directory string comparisons are case-insensitive.
        .all(|(k, want)| {
            v.get(k)
                .and_then(Value::as_str)
                .is_some_and(|have| have.eq_ignore_ascii_case(want))
        })
}

async fn sp_list(State(shared): S, headers: HeaderMap, Query(q): Q) -> Response {
    if let Err(r) = graph_guard(&shared, &headers) {
        return r;
    }
    let conds = eq_filter(q.get("$filter"));
    let inner = shared.lock();
    let v: Vec<Value> = inner
        .service_principals
        .iter()
        .filter(|sp| matches_eq(sp, &conds))
        .cloned()
        .collect();
    axum::Json(json!({ "value": v })).into_response()
}

async fn grants_list(State(shared): S, headers: HeaderMap, Query(q): Q) -> Response {
    if let Err(r) = graph_guard(&shared, &headers) {
        return r;
    }
    let conds = eq_filter(q.get("$filter"));
    let inner = shared.lock();
    let v: Vec<Value> = inner
        .grants
        .iter()
        .filter(|g| matches_eq(g, &conds))
        .cloned()
        .collect();
    axum::Json(json!({ "value": v })).into_response()
}

async fn grant_delete(
    State(shared): S,
    headers: HeaderMap,
    method: Method,
    uri: Uri,
    Path((_v, id)): Path<(String, String)>,
) -> Response {
    if let Err(r) = graph_guard(&shared, &headers) {
        return r;
    }
    let mut inner = shared.lock();
    let before = inner.grants.len();
    inner.grants.retain(|g| g["id"] != id.as_str());
    if inner.grants.len() == before {
        return graph_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!("Resource '{id}' does not exist."),
        );
    }
    record_mutation(&mut inner, &method, uri.path(), Value::Null);
    StatusCode::NO_CONTENT.into_response()
}

async fn location_get(
    State(shared): S,
    headers: HeaderMap,
    Path((_v, id)): Path<(String, String)>,
) -> Response {
    if let Err(r) = graph_guard(&shared, &headers) {
        return r;
    }
    let inner = shared.lock();
    match inner.named_locations.get(&id) {
        Some(l) => axum::Json(l.clone()).into_response(),
        None => graph_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!("Named location '{id}' does not exist."),
        ),
    }
}

async fn location_patch(
    State(shared): S,
    headers: HeaderMap,
    method: Method,
    uri: Uri,
    Path((_v, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let patch = match graph_guarded_json(&shared, &headers, &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    // The service requires the derived type on PATCH of a named location.
    if patch["@odata.type"] != "#microsoft.graph.ipNamedLocation" {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "The @odata.type property is required and must be #microsoft.graph.ipNamedLocation.",
        );
    }
    let ranges = match patch.get("ipRanges").and_then(Value::as_array) {
        Some(r) if !r.is_empty() => r.clone(),
        _ => {
            return graph_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "ipRanges must contain at least one range.",
            )
        }
    };
    let mut inner = shared.lock();
    let Some(loc) = inner.named_locations.get_mut(&id) else {
        return graph_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!("Named location '{id}' does not exist."),
        );
    };
    loc["ipRanges"] = Value::Array(ranges);
    record_mutation(&mut inner, &method, uri.path(), patch);
    StatusCode::NO_CONTENT.into_response()
}

/// The content type a `vigil simulate` audit file belongs to, from its name
/// (`Audit.Exchange-2022-02-01.json`).
pub fn content_type_of_file(name: &str) -> Option<&'static str> {
    CONTENT_TYPES
        .iter()
        .copied()
        .find(|ct| name.starts_with(&format!("{ct}-")))
}

/// Graph sign-in objects in a `vigil simulate` sign-in file: Graph pages (`value`) or Event Hub
/// envelopes (`records[].properties`, which hold the Graph object).
pub fn sign_ins_of_file(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(doc) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if let Some(v) = doc.get("value").and_then(Value::as_array) {
            out.extend(v.iter().cloned());
        } else if let Some(r) = doc.get("records").and_then(Value::as_array) {
            out.extend(r.iter().filter_map(|r| r.get("properties").cloned()));
        } else if doc.get("createdDateTime").is_some() {
            out.push(doc);
        }
    }
    out
}

/// Publishes a simulated tenant: every audit file as one content blob, every sign-in and
/// message trace row. Returns the number of records.
pub fn load_tenant_dir(standin: &StandIn, dir: &std::path::Path) -> anyhow::Result<usize> {
    use anyhow::Context as _;
    let mut n = 0;
    let read_dir = |sub: &str| -> anyhow::Result<Vec<std::path::PathBuf>> {
        let d = dir.join(sub);
        let mut v: Vec<_> = std::fs::read_dir(&d)
            .with_context(|| format!("cannot read {}", d.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        v.sort();
        Ok(v)
    };
    for path in read_dir("audit")? {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let Some(ct) = content_type_of_file(name) else {
            continue;
        };
        let text = std::fs::read_to_string(&path)?;
        let records: Vec<Value> = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a JSON array", path.display()))?;
        n += records.len();
        standin.publish_blob(ct, &records);
    }
    for path in read_dir("signins")? {
        let records = sign_ins_of_file(&std::fs::read_to_string(&path)?);
        n += records.len();
        standin.add_sign_ins(records);
    }
    for path in read_dir("messagetrace")? {
        let text = std::fs::read_to_string(&path)?;
        let rows: Vec<Value> = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a JSON array", path.display()))?;
        n += rows.len();
        standin.add_message_trace(rows);
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_time_shape() {
        let t = parse_time("2022-02-01T04:55:51Z").unwrap();
        assert_eq!(parse_time("2022-02-01T04:55:51").unwrap(), t);
        assert_eq!(parse_time("/Date(1643691351000)/").unwrap(), t);
        assert_eq!(
            parse_time("2022-02-01").unwrap(),
            t - Duration::seconds(4 * 3600 + 55 * 60 + 51)
        );
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn filter_with_event_types_and_window() {
        let f = parse_filter(
            "createdDateTime ge 2022-02-01T00:00:00Z and createdDateTime lt 2022-02-02T00:00:00Z and (signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser'))",
            "createdDateTime",
        )
        .unwrap();
        assert_eq!(f.ge, parse_time("2022-02-01"));
        assert_eq!(f.lt, parse_time("2022-02-02"));
        assert_eq!(f.event_types, ["interactiveUser", "nonInteractiveUser"]);
        assert!(parse_filter("userId eq 'x'", "createdDateTime").is_err());
    }
}
