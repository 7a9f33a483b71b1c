//! Talking to Microsoft's APIs as an application: client-credentials tokens (client secret or
//! certificate), one retry policy that honours `Retry-After` and the documented error codes, and
//! a request budget shared by every call to one API.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Where the APIs live. Defaults are Microsoft's public cloud; tests point every one of them at
/// the stand-in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Endpoints {
    /// Identity platform authority, e.g. `https://login.microsoftonline.com`.
    pub login: String,
    /// Office 365 Management Activity API, e.g. `https://manage.office.com`.
    pub manage: String,
    /// Microsoft Graph, e.g. `https://graph.microsoft.com`.
    pub graph: String,
    /// Reporting Web Service, e.g. `https://reports.office365.com`.
    pub reporting: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            login: "https://login.microsoftonline.com".into(),
            manage: "https://manage.office.com".into(),
            graph: "https://graph.microsoft.com".into(),
            reporting: "https://reports.office365.com".into(),
        }
    }
}

impl Endpoints {
    /// Every endpoint at one base URL (the stand-in).
    pub fn all_at(base: &str) -> Endpoints {
        let base = base.trim_end_matches('/').to_string();
        Endpoints {
            login: base.clone(),
            manage: base.clone(),
            graph: base.clone(),
            reporting: base,
        }
    }
}

/// The token audiences (`scope` = audience + `/.default`). They are fixed by Microsoft and do not
/// follow the endpoint URLs.
pub mod scope {
    pub const MANAGE: &str = "https://manage.office.com/.default";
    pub const GRAPH: &str = "https://graph.microsoft.com/.default";
    pub const EXCHANGE: &str = "https://outlook.office365.com/.default";
}

/// Application credentials as configured. Every field may instead come from the environment
/// (`VIGIL_M365_TENANT_ID`, `VIGIL_M365_CLIENT_ID`, `VIGIL_M365_CLIENT_SECRET`,
/// `VIGIL_M365_CERTIFICATE`, `VIGIL_M365_PRIVATE_KEY`), which wins over the file so that
/// secrets need not be written into it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CredentialsConfig {
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// PEM certificate registered on the application (for the `x5t` thumbprint).
    pub certificate: Option<PathBuf>,
    /// PEM PKCS#8 RSA private key of that certificate.
    pub private_key: Option<PathBuf>,
}

/// Why credentials or a token could not be had.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing {0}: set it in [collect.credentials] or the environment variable {1}")]
    Missing(&'static str, &'static str),
    #[error("give either a client secret or a certificate and private key, not both")]
    Ambiguous,
    #[error("{path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("token request failed: {0}")]
    Http(String),
    #[error("token endpoint refused: {status} {error}: {description}")]
    Refused {
        status: u16,
        error: String,
        description: String,
    },
}

#[derive(Clone)]
enum Secret {
    ClientSecret(String),
    Certificate {
        x5t: String,
        key: Arc<ring::signature::RsaKeyPair>,
    },
}

/// Resolved credentials: tenant, client and the proof.
#[derive(Clone)]
pub struct Credentials {
    pub tenant_id: String,
    pub client_id: String,
    secret: Secret,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.secret {
            Secret::ClientSecret(_) => "client secret",
            Secret::Certificate { .. } => "certificate",
        };
        write!(
            f,
            "Credentials {{ tenant {}, client {}, {kind} }}",
            self.tenant_id, self.client_id
        )
    }
}

fn env_or(value: &Option<String>, var: &str) -> Option<String> {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| value.clone())
}

impl Credentials {
    /// Credentials from configuration, overridden by the environment.
    pub fn resolve(cfg: &CredentialsConfig) -> Result<Credentials, AuthError> {
        let tenant_id = env_or(&cfg.tenant_id, "VIGIL_M365_TENANT_ID")
            .ok_or(AuthError::Missing("tenant_id", "VIGIL_M365_TENANT_ID"))?;
        let client_id = env_or(&cfg.client_id, "VIGIL_M365_CLIENT_ID")
            .ok_or(AuthError::Missing("client_id", "VIGIL_M365_CLIENT_ID"))?;
        let secret = env_or(&cfg.client_secret, "VIGIL_M365_CLIENT_SECRET");
        let path = |p: &Option<PathBuf>, var: &str| {
            std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .or_else(|| p.clone())
        };
        let cert = path(&cfg.certificate, "VIGIL_M365_CERTIFICATE");
        let key = path(&cfg.private_key, "VIGIL_M365_PRIVATE_KEY");
        match (secret, cert, key) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(AuthError::Ambiguous),
            (Some(s), None, None) => Ok(Credentials::with_secret(&tenant_id, &client_id, &s)),
            (None, Some(c), Some(k)) => {
                Credentials::with_certificate(&tenant_id, &client_id, &c, &k)
            }
            (None, Some(_), None) => Err(AuthError::Missing(
                "private_key (for the certificate)",
                "VIGIL_M365_PRIVATE_KEY",
            )),
            (None, None, _) => Err(AuthError::Missing(
                "client_secret, or certificate and private_key",
                "VIGIL_M365_CLIENT_SECRET",
            )),
        }
    }

    pub fn with_secret(tenant_id: &str, client_id: &str, secret: &str) -> Credentials {
        Credentials {
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            secret: Secret::ClientSecret(secret.into()),
        }
    }

    /// Certificate credentials: the PEM certificate gives the `x5t` thumbprint, the PEM PKCS#8
    /// RSA key signs the assertion.
    pub fn with_certificate(
        tenant_id: &str,
        client_id: &str,
        certificate: &Path,
        private_key: &Path,
    ) -> Result<Credentials, AuthError> {
        use rustls_pki_types::pem::PemObject;
        let cert = rustls_pki_types::CertificateDer::from_pem_file(certificate).map_err(|e| {
            AuthError::Key {
                path: certificate.into(),
                reason: format!("not a PEM certificate: {e}"),
            }
        })?;
        let key =
            rustls_pki_types::PrivatePkcs8KeyDer::from_pem_file(private_key).map_err(|e| {
                AuthError::Key {
                    path: private_key.into(),
                    reason: format!("not a PEM PKCS#8 private key (BEGIN PRIVATE KEY): {e}"),
                }
            })?;
        let key = ring::signature::RsaKeyPair::from_pkcs8(key.secret_pkcs8_der()).map_err(|e| {
            AuthError::Key {
                path: private_key.into(),
                reason: format!("not an RSA key the identity platform accepts (RS256): {e}"),
            }
        })?;
        Ok(Credentials {
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            secret: Secret::Certificate {
                x5t: certificate_thumbprint(cert.as_ref()),
                key: Arc::new(key),
            },
        })
    }

    /// The form fields that prove the application, for a token request to `token_url`.
    fn proof(&self, token_url: &str) -> Result<Vec<(&'static str, String)>, AuthError> {
        match &self.secret {
            Secret::ClientSecret(s) => Ok(vec![("client_secret", s.clone())]),
            Secret::Certificate { x5t, key } => Ok(vec![
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                ),
                (
                    "client_assertion",
                    client_assertion(&self.client_id, token_url, x5t, key)?,
                ),
            ]),
        }
    }
}

/// `x5t`: base64url of the certificate's SHA-1 digest, as the identity platform expects.
pub fn certificate_thumbprint(cert_der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// A signed RS256 JWT client assertion valid for ten minutes.
fn client_assertion(
    client_id: &str,
    token_url: &str,
    x5t: &str,
    key: &ring::signature::RsaKeyPair,
) -> Result<String, AuthError> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let now = chrono::Utc::now().timestamp();
    let mut jti = [0u8; 16];
    let rng = ring::rand::SystemRandom::new();
    ring::rand::SecureRandom::fill(&rng, &mut jti)
        .map_err(|_| AuthError::Http("no system randomness for the assertion id".into()))?;
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": x5t});
    let claims = serde_json::json!({
        "aud": token_url, "iss": client_id, "sub": client_id,
        "jti": jti.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "nbf": now, "iat": now, "exp": now + 600,
    });
    let signing_input = format!(
        "{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string())
    );
    let mut sig = vec![0u8; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &rng,
        signing_input.as_bytes(),
        &mut sig,
    )
    .map_err(|_| AuthError::Http("cannot sign the client assertion".into()))?;
    Ok(format!("{signing_input}.{}", b64.encode(sig)))
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize, Default)]
struct TokenError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Caches one token per scope and renews it five minutes before it expires.
pub struct TokenSource {
    http: reqwest::Client,
    token_url: String,
    credentials: Credentials,
    cache: Mutex<HashMap<&'static str, (String, Instant)>>,
}

impl TokenSource {
    pub fn new(http: reqwest::Client, login: &str, credentials: Credentials) -> TokenSource {
        TokenSource {
            http,
            token_url: format!(
                "{}/{}/oauth2/v2.0/token",
                login.trim_end_matches('/'),
                credentials.tenant_id
            ),
            credentials,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn tenant_id(&self) -> &str {
        &self.credentials.tenant_id
    }

    /// A valid token for `scope`.
    pub async fn token(&self, scope: &'static str) -> Result<String, AuthError> {
        let mut cache = self.cache.lock().await;
        if let Some((t, exp)) = cache.get(scope) {
            if Instant::now() + Duration::from_secs(300) < *exp {
                return Ok(t.clone());
            }
        }
        let mut form = vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", self.credentials.client_id.clone()),
            ("scope", scope.to_string()),
        ];
        form.extend(self.credentials.proof(&self.token_url)?);
        let resp = self
            .http
            .post(&self.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| AuthError::Http(e.to_string()))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| AuthError::Http(e.to_string()))?;
        if !status.is_success() {
            let e: TokenError = serde_json::from_str(&text).unwrap_or_default();
            return Err(AuthError::Refused {
                status: status.as_u16(),
                error: e.error,
                description: e.error_description,
            });
        }
        let t: TokenResponse = serde_json::from_str(&text)
            .map_err(|e| AuthError::Http(format!("unreadable token response: {e}")))?;
        let exp = Instant::now() + Duration::from_secs(t.expires_in);
        cache.insert(scope, (t.access_token.clone(), exp));
        Ok(t.access_token)
    }

    /// Forgets the token for `scope` (after a 401), so the next call fetches a new one.
    pub async fn invalidate(&self, scope: &'static str) {
        self.cache.lock().await.remove(scope);
    }
}

/// How failures are retried.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First back-off when the service gives no `Retry-After`; doubled per attempt.
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
    /// Back-off after `AF20023` (the subscription was disabled): an administrator has to act,
    /// so hammering the API helps nobody.
    pub disabled_subscription_delay_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay_ms: 1000,
            max_delay_ms: 120_000,
            disabled_subscription_delay_ms: 300_000,
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` (attempt counted from 1).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
        Duration::from_millis(exp.min(self.max_delay_ms))
    }
}

/// Requests per minute for one API, as a token bucket: bursts up to a tenth of a minute's budget,
/// then a steady pace. Microsoft throttles the Management Activity API per tenant and publisher
/// (about 2000 requests a minute); staying under it avoids AF429 instead of reacting to it.
pub struct RequestBudget {
    per_second: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl RequestBudget {
    pub fn per_minute(requests: u32) -> RequestBudget {
        let per_second = (requests.max(1) as f64) / 60.0;
        let burst = (requests as f64 / 10.0).max(1.0);
        RequestBudget {
            per_second,
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// Waits until one request may be sent.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut s = self.state.lock().await;
                let now = Instant::now();
                let refill = now.duration_since(s.1).as_secs_f64() * self.per_second;
                s.0 = (s.0 + refill).min(self.burst);
                s.1 = now;
                if s.0 >= 1.0 {
                    s.0 -= 1.0;
                    return;
                }
                Duration::from_secs_f64((1.0 - s.0) / self.per_second)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// A failed call, after retries.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error("authentication: {0}")]
    Auth(String),
    #[error("{method} {url}: HTTP {status} {code}: {message}")]
    Status {
        method: String,
        url: String,
        status: u16,
        /// The service's error code (`AF20023`, `Request_ResourceNotFound`, …), or empty.
        code: String,
        message: String,
        /// Whether retrying later could succeed (throttling, internal errors, disabled
        /// subscription).
        retriable: bool,
        retry_after: Option<Duration>,
    },
    #[error("{method} {url}: {message}")]
    Transport {
        method: String,
        url: String,
        message: String,
    },
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn code(&self) -> &str {
        match self {
            ApiError::Status { code, .. } => code,
            _ => "",
        }
    }

    pub fn retriable(&self) -> bool {
        match self {
            ApiError::Status { retriable, .. } => *retriable,
            ApiError::Transport { .. } => true,
            ApiError::Auth(_) => false,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Error bodies: Management Activity API and Graph both use `{"error":{"code","message"}}`.
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: ErrorInner,
}

#[derive(Deserialize, Default)]
struct ErrorInner {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// Which failures are worth retrying, and after how long.
fn classify(
    status: u16,
    code: &str,
    retry_after: Option<Duration>,
    policy: &RetryPolicy,
) -> (bool, Option<Duration>) {
    match (status, code) {
        // Not retried in place: the subscription has to be started again, which the
        // Management Activity collector does after this delay.
        (_, "AF20023") => (
            false,
            Some(Duration::from_millis(policy.disabled_subscription_delay_ms)),
        ),
        (429, _) | (_, "AF429") => (true, retry_after),
        (_, "AF50000") => (true, retry_after),
        (500..=599, _) => (true, retry_after),
        _ => (false, None),
    }
}

fn parse_retry_after(h: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = h.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (when.timestamp() - chrono::Utc::now().timestamp()).max(0);
    Some(Duration::from_secs(secs as u64))
}

/// A response read in full.
pub struct ApiResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

/// One API's client: tokens, retries, budget.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub tokens: Arc<TokenSource>,
    pub scope: &'static str,
    pub retry: RetryPolicy,
    pub budget: Option<Arc<RequestBudget>>,
}

/// A request to send: method, URL, optional JSON body.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: reqwest::Method,
    pub url: String,
    pub json: Option<serde_json::Value>,
    pub headers: Vec<(&'static str, String)>,
}

impl Call {
    pub fn get(url: impl Into<String>) -> Call {
        Call {
            method: reqwest::Method::GET,
            url: url.into(),
            json: None,
            headers: Vec::new(),
        }
    }

    pub fn new(method: reqwest::Method, url: impl Into<String>) -> Call {
        Call {
            method,
            url: url.into(),
            json: None,
            headers: Vec::new(),
        }
    }

    pub fn json(mut self, body: serde_json::Value) -> Call {
        self.json = Some(body);
        self
    }
}

/// The shared HTTP client: rustls, sensible timeouts.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .user_agent(concat!("Vigil/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

impl Api {
    /// Sends once: token, budget, request. A 401 renews the token and retries once at once.
    pub async fn send_once(&self, call: &Call) -> Result<ApiResponse, ApiError> {
        let mut renewed = false;
        loop {
            if let Some(b) = &self.budget {
                b.acquire().await;
            }
            let token = self
                .tokens
                .token(self.scope)
                .await
                .map_err(|e| ApiError::Auth(e.to_string()))?;
            let mut req = self
                .http
                .request(call.method.clone(), &call.url)
                .bearer_auth(token);
            for (k, v) in &call.headers {
                req = req.header(*k, v);
            }
            if let Some(j) = &call.json {
                req = req.json(j);
            }
            let transport = |e: reqwest::Error| ApiError::Transport {
                method: call.method.to_string(),
                url: call.url.clone(),
                message: e.to_string(),
            };
            let resp = req.send().await.map_err(transport)?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.text().await.map_err(transport)?;
            if status == 401 && !renewed {
                renewed = true;
                self.tokens.invalidate(self.scope).await;
                continue;
            }
            if (200..300).contains(&status) {
                return Ok(ApiResponse {
                    status,
                    headers,
                    body,
                });
            }
            let e: ErrorBody = serde_json::from_str(&body).unwrap_or_default();
            let retry_after = parse_retry_after(&headers);
            let (retriable, wait) = classify(status, &e.error.code, retry_after, &self.retry);
            let message = if e.error.message.is_empty() {
                body.chars().take(300).collect()
            } else {
                e.error.message
            };
            return Err(ApiError::Status {
                method: call.method.to_string(),
                url: call.url.clone(),
                status,
                code: e.error.code,
                message,
                retriable,
                retry_after: wait,
            });
        }
    }

    /// Sends with retries: waits `Retry-After` when given, else exponential back-off; gives up
    /// after the policy's attempts or at the first error not worth retrying.
    pub async fn send(&self, call: &Call) -> Result<ApiResponse, ApiError> {
        let mut attempt = 1;
        loop {
            match self.send_once(call).await {
                Ok(r) => return Ok(r),
                Err(e) if e.retriable() && attempt < self.retry.max_attempts => {
                    let wait = e
                        .retry_after()
                        .unwrap_or_else(|| self.retry.backoff(attempt));
                    tracing::warn!(
                        "{e}; attempt {attempt} of {}, retrying in {:.1}s",
                        self.retry.max_attempts,
                        wait.as_secs_f64()
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_budget_allows_a_burst_then_paces() {
        // 600 a minute: bursts of 60, then 10 a second.
        let budget = RequestBudget::per_minute(600);
        let t0 = Instant::now();
        for _ in 0..60 {
            budget.acquire().await;
        }
        assert!(
            t0.elapsed() < Duration::from_millis(10),
            "the burst is free"
        );
        for _ in 0..20 {
            budget.acquire().await;
        }
        let paced = t0.elapsed();
        assert!(
            paced >= Duration::from_millis(1900) && paced <= Duration::from_millis(2100),
            "{paced:?}"
        );
    }

    #[test]
    fn failures_are_classified_as_the_services_document_them() {
        let p = RetryPolicy::default();
        assert_eq!(
            classify(429, "", Some(Duration::from_secs(7)), &p),
            (true, Some(Duration::from_secs(7)))
        );
        assert_eq!(classify(403, "AF429", None, &p), (true, None));
        assert_eq!(classify(500, "AF50000", None, &p), (true, None));
        assert_eq!(classify(503, "", None, &p), (true, None));
        assert_eq!(
            classify(400, "AF20023", None, &p),
            (
                false,
                Some(Duration::from_millis(p.disabled_subscription_delay_ms))
            )
        );
        assert_eq!(
            classify(404, "Request_ResourceNotFound", None, &p),
            (false, None)
        );
        assert_eq!(p.backoff(1), Duration::from_secs(1));
        assert_eq!(p.backoff(3), Duration::from_secs(4));
        assert_eq!(p.backoff(30), Duration::from_millis(p.max_delay_ms));
    }
}
