//! Who is calling: local users with argon2 password hashes, session cookies with a CSRF token
//! per session, API bearer tokens for machines, roles, and a limit on failed logins.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use blake2::{Blake2s256, Digest};
use vigil_store::Role;

use crate::AppState;

pub const SESSION_COOKIE: &str = "vigil_session";
pub const SESSION_HOURS: i64 = 12;
/// Failed logins allowed per client address and user name within [`FAILURE_WINDOW`].
pub const MAX_FAILURES: u32 = 5;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no random bytes: {e}"))?;
    let salt = SaltString::encode_b64(&bytes).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random secret, hex encoded (session ids, CSRF tokens, API tokens, generated passwords).
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system provides random bytes");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Session ids and API tokens are stored hashed, so a copy of the database opens no session.
/// They are long random strings, so a fast hash is enough (argon2 is for guessable passwords).
pub fn token_hash(token: &str) -> String {
    Blake2s256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Constant-time comparison for CSRF tokens.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Counts failed logins per key and refuses further attempts once the limit is reached, until
/// the window has passed since the first failure.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginLimiter {
    /// Whether another attempt is allowed now; when not, how long until it is.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        f.retain(|_, (_, since)| now.duration_since(*since) < FAILURE_WINDOW);
        match f.get(key) {
            Some((n, since)) if *n >= MAX_FAILURES => {
                Err(FAILURE_WINDOW.saturating_sub(now.duration_since(*since)))
            }
            _ => Ok(()),
        }
    }

    pub fn failed(&self, key: &str) {
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let e = f.entry(key.to_string()).or_insert((0, Instant::now()));
        e.0 += 1;
    }

    pub fn succeeded(&self, key: &str) {
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        f.remove(key);
    }
}

/// How the caller proved who they are.
#[derive(Clone, Debug, PartialEq)]
pub enum Credential {
    /// A browser session; unsafe requests must carry its CSRF token.
    Session { csrf: String, token_hash: String },
    /// An API token (no cookies involved, so no CSRF).
    Token { id: i64 },
}

/// An authenticated caller.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: String,
    pub role: Role,
    pub credential: Credential,
}

impl Caller {
    pub fn csrf(&self) -> &str {
        match &self.credential {
            Credential::Session { csrf, .. } => csrf,
            Credential::Token { .. } => "",
        }
    }

    /// Whether an unsafe request from this caller carries what CSRF protection requires.
    pub fn csrf_ok(&self, provided: Option<&str>) -> bool {
        match &self.credential {
            Credential::Session { csrf, .. } => provided.is_some_and(|p| same_secret(p, csrf)),
            Credential::Token { .. } => true,
        }
    }

    pub fn can(&self, role: Role) -> bool {
        self.role >= role
    }
}

/// A cookie's value from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Why a request is not authenticated.
#[derive(Debug)]
pub struct Unauthenticated {
    pub api: bool,
    pub path: String,
}

impl axum::response::IntoResponse for Unauthenticated {
    fn into_response(self) -> axum::response::Response {
        if self.api {
            crate::api::error(
                StatusCode::UNAUTHORIZED,
                "log in, or send an API token as `Authorization: Bearer <token>`",
            )
        } else {
            let next = crate::console::url_encode(&self.path);
            axum::response::Redirect::to(&format!("/login?next={next}")).into_response()
        }
    }
}

pub fn authenticate(state: &AppState, headers: &HeaderMap) -> Option<Caller> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let token = auth.to_str().ok()?.strip_prefix("Bearer ")?.trim();
        let t = state.store.token(&token_hash(token)).ok()??;
        return Some(Caller {
            user: format!("token:{}", t.name),
            role: t.role,
            credential: Credential::Token { id: t.id },
        });
    }
    let session = cookie(headers, SESSION_COOKIE)?;
    let hash = token_hash(session);
    let s = state.store.session(&hash, chrono::Utc::now()).ok()??;
    Some(Caller {
        user: s.user,
        role: s.role,
        credential: Credential::Session {
            csrf: s.csrf,
            token_hash: hash,
        },
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Unauthenticated;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let state = state.clone();
        // Nested routers see their path without the prefix; the original URI has it.
        let uri = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or_else(|| parts.uri.clone(), |o| o.0.clone());
        let api = uri.path().starts_with("/api/") || uri.path() == "/metrics";
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
        // SQLite lookups are quick but blocking; keep them off the async workers.
        let headers = parts.headers.clone();
        tokio::task::spawn_blocking(move || authenticate(&state, &headers))
            .await
            .ok()
            .flatten()
            .ok_or(Unauthenticated { api, path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn the_limiter_refuses_after_five_failures_and_forgets_on_success() {
        let l = LoginLimiter::default();
        for _ in 0..MAX_FAILURES {
            assert!(l.check("k").is_ok());
            l.failed("k");
        }
        assert!(l.check("k").is_err());
        assert!(l.check("other").is_ok());
        l.succeeded("k");
        assert!(l.check("k").is_ok());
    }

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let a = random_token(16);
        assert_eq!(a.len(), 32);
        assert_ne!(a, random_token(16));
        assert_eq!(token_hash("x"), token_hash("x"));
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("a", "ab"));
    }
}
