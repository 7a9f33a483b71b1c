//! A JSON webhook signed with HMAC-SHA256.
//!
//! Each POST carries `X-Vigil-Timestamp` (Unix seconds), `X-Vigil-Delivery` (unique per
//! finding version, the same on every retry so receivers can drop repeats) and
//! `X-Vigil-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`. Signing the
//! timestamp with the body lets a receiver refuse replays older than its tolerance
//! ([`verify`]). 5xx, 429 and network failures are retried with exponential back-off
//! (honouring `Retry-After`); other 4xx are not.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{ExportError, Finding};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    /// The shared secret; better given through the environment variable named by `secret_env`.
    pub secret: Option<String>,
    pub secret_env: String,
    pub max_attempts: u32,
    pub retry_base_delay_ms: u64,
    pub timeout_secs: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            url: String::new(),
            secret: None,
            secret_env: "VIGIL_WEBHOOK_SECRET".into(),
            max_attempts: 5,
            retry_base_delay_ms: 1000,
            timeout_secs: 10,
        }
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `"{timestamp}.{body}"`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Why a delivery does not verify.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing or malformed X-Vigil-Timestamp")]
    Timestamp,
    #[error("timestamp outside the tolerance (replayed or clock skew)")]
    Stale,
    #[error("signature does not match")]
    Signature,
}

/// Verifies a delivery as a receiver should: the timestamp is within `tolerance_secs` of
/// `now`, and the signature matches (compared in constant time).
pub fn verify(
    secret: &[u8],
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::Timestamp)?;
    if (now - ts).abs() > tolerance_secs {
        return Err(VerifyError::Stale);
    }
    let hex = signature
        .trim()
        .strip_prefix("sha256=")
        .ok_or(VerifyError::Signature)?;
    let tag: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    let tag = tag.ok_or(VerifyError::Signature)?;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let mut msg = ts.to_string().into_bytes();
    msg.push(b'.');
    msg.extend_from_slice(body);
    ring::hmac::verify(&key, &msg, &tag).map_err(|_| VerifyError::Signature)
}

/// The webhook body for a finding: `{"type": "breach"|"incident", "data": {...}}`.
pub fn payload(finding: Finding<'_>) -> Value {
    let data = match finding {
        Finding::Breach(b) => serde_json::to_value(b),
        Finding::Incident(i) => serde_json::to_value(i),
    }
    .unwrap_or(Value::Null);
    json!({"type": finding.kind(), "data": data})
}

pub struct Webhook {
    http: reqwest::Client,
    cfg: WebhookConfig,
    secret: Vec<u8>,
}

/// What a successful delivery took.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub attempts: u32,
    pub status: u16,
}

impl Webhook {
    pub fn new(cfg: WebhookConfig) -> Result<Webhook, ExportError> {
        if !cfg.url.starts_with("https://") && !cfg.url.starts_with("http://") {
            return Err(ExportError::Config(format!(
                "webhook url {:?} is not an http(s) URL",
                cfg.url
            )));
        }
        let secret = std::env::var(&cfg.secret_env)
            .ok()
            .filter(|s| !s.is_empty())
            .or_else(|| cfg.secret.clone())
            .ok_or_else(|| {
                ExportError::Config(format!(
                    "webhook needs a secret: set {} or [export.webhook] secret",
                    cfg.secret_env
                ))
            })?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(cfg.timeout_secs.max(1)))
            .user_agent(concat!("Vigil/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ExportError::Config(e.to_string()))?;
        Ok(Webhook {
            http,
            cfg,
            secret: secret.into_bytes(),
        })
    }

    /// POSTs `payload`, retrying as described in the module documentation.
    pub async fn send(&self, payload: &Value) -> Result<Delivery, ExportError> {
        let body = payload.to_string();
        let delivery_id = {
            let d = ring::digest::digest(&ring::digest::SHA256, body.as_bytes());
            d.as_ref()[..12]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        let fail = |message: String| ExportError::Webhook {
            url: self.cfg.url.clone(),
            message,
        };
        let max = self.cfg.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            let ts = chrono::Utc::now().timestamp();
            let result = self
                .http
                .post(&self.cfg.url)
                .header("Content-Type", "application/json")
                .header("X-Vigil-Timestamp", ts.to_string())
                .header("X-Vigil-Delivery", &delivery_id)
                .header("X-Vigil-Signature", sign(&self.secret, ts, body.as_bytes()))
                .body(body.clone())
                .send()
                .await;
            let (retriable, retry_after, why) = match result {
                Ok(r) if r.status().is_success() => {
                    return Ok(Delivery {
                        attempts: attempt,
                        status: r.status().as_u16(),
                    })
                }
                Ok(r) => {
                    let status = r.status().as_u16();
                    let retry_after = r
                        .headers()
                        .get("Retry-After")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    (
                        status == 429 || status >= 500,
                        retry_after,
                        format!("HTTP {status}"),
                    )
                }
                Err(e) => (true, None, e.to_string()),
            };
            if !retriable {
                return Err(fail(format!("{why}, not retried")));
            }
            if attempt >= max {
                return Err(fail(format!("{why}; gave up after {attempt} attempts")));
            }
            let backoff = Duration::from_millis(
                self.cfg
                    .retry_base_delay_ms
                    .saturating_mul(1 << (attempt - 1).min(16)),
            );
            tokio::time::sleep(retry_after.unwrap_or(backoff).min(Duration::from_secs(300))).await;
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify() {
        let sig = sign(b"s3cret", 1_700_000_000, b"{\"a\":1}");
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
        assert_eq!(
            verify(
                b"s3cret",
                "1700000000",
                &sig,
                b"{\"a\":1}",
                1_700_000_100,
                300
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                b"other",
                "1700000000",
                &sig,
                b"{\"a\":1}",
                1_700_000_000,
                300
            ),
            Err(VerifyError::Signature)
        );
        assert_eq!(
            verify(
                b"s3cret",
                "1700000000",
                &sig,
                b"{\"a\":2}",
                1_700_000_000,
                300
            ),
            Err(VerifyError::Signature)
        );
        assert_eq!(
            verify(
                b"s3cret",
                "1700000000",
                &sig,
                b"{\"a\":1}",
                1_700_009_000,
                300
            ),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify(b"s3cret", "soon", &sig, b"", 0, 300),
            Err(VerifyError::Timestamp)
        );
        assert_eq!(
            verify(
                b"s3cret",
                "1700000000",
                "sha256=zz",
                b"",
                1_700_000_000,
                300
            ),
            Err(VerifyError::Signature)
        );
    }
}
