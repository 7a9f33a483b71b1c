//! Exports of breaches and incidents to the SOC's tools:
//!
//! - [`syslog`]: RFC 5424 messages over TCP or TLS with octet-counting framing (RFC 6587 §3.4.1),
//!   whose MSG is a [`cef`] (ArcSight Common Event Format) record;
//! - [`webhook`]: a JSON POST signed with HMAC-SHA256 over `timestamp.body`
//!   (`X-Vigil-Signature: sha256=…`, `X-Vigil-Timestamp`), retried with back-off;
//! - [`ocsf`]: OCSF Detection Finding (class 2004) objects as JSON lines.
//!
//! Each exporter is independent; [`Exporter`] holds whichever are configured and sends one
//! finding to all of them, counting failures instead of stopping detection.

use serde::{Deserialize, Serialize};
use vigil_report::{Breach, Incident};

pub mod cef;
pub mod ocsf;
pub mod syslog;
pub mod webhook;

/// Why an export failed (after retries).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("syslog {address}: {message}")]
    Syslog { address: String, message: String },
    #[error("webhook {url}: {message}")]
    Webhook { url: String, message: String },
    #[error("OCSF file {path}: {source}")]
    Ocsf {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("configuration: {0}")]
    Config(String),
}

/// One finding to export.
#[derive(Clone, Copy, Debug)]
pub enum Finding<'a> {
    Breach(&'a Breach),
    Incident(&'a Incident),
}

impl Finding<'_> {
    pub fn id(&self) -> &str {
        match self {
            Finding::Breach(b) => &b.id,
            Finding::Incident(i) => &i.id,
        }
    }

    pub fn score(&self) -> f64 {
        match self {
            Finding::Breach(b) => b.score,
            Finding::Incident(i) => i.score,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Finding::Breach(_) => "breach",
            Finding::Incident(_) => "incident",
        }
    }
}

/// Which exports are configured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExportConfig {
    pub syslog: Option<syslog::SyslogConfig>,
    pub webhook: Option<webhook::WebhookConfig>,
    pub ocsf: Option<ocsf::OcsfConfig>,
}

/// Every configured exporter.
pub struct Exporter {
    pub syslog: Option<syslog::SyslogSender>,
    pub webhook: Option<webhook::Webhook>,
    pub ocsf: Option<ocsf::OcsfWriter>,
    /// Exports that failed after their retries, per exporter.
    pub failures: std::collections::BTreeMap<&'static str, u64>,
}

impl Exporter {
    pub fn new(cfg: &ExportConfig) -> Result<Exporter, ExportError> {
        Ok(Exporter {
            syslog: cfg
                .syslog
                .clone()
                .map(syslog::SyslogSender::new)
                .transpose()?,
            webhook: cfg.webhook.clone().map(webhook::Webhook::new).transpose()?,
            ocsf: cfg.ocsf.as_ref().map(ocsf::OcsfWriter::new),
            failures: Default::default(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.syslog.is_none() && self.webhook.is_none() && self.ocsf.is_none()
    }

    /// Sends one finding everywhere; failures are logged and counted, never returned, so that
    /// one broken receiver does not hold up the others.
    pub async fn export(&mut self, finding: Finding<'_>) {
        if let Some(s) = &self.syslog {
            if let Err(e) = s.send(&[syslog::format_finding(s.config(), finding)]).await {
                tracing::error!("{e}");
                *self.failures.entry("syslog").or_default() += 1;
            }
        }
        if let Some(w) = &self.webhook {
            if let Err(e) = w.send(&webhook::payload(finding)).await {
                tracing::error!("{e}");
                *self.failures.entry("webhook").or_default() += 1;
            }
        }
        if let Some(o) = &mut self.ocsf {
            if let Err(e) = o.write(finding) {
                tracing::error!("{e}");
                *self.failures.entry("ocsf").or_default() += 1;
            }
        }
    }
}
