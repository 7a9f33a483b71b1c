//! Syslog over TCP or TLS: RFC 5424 messages with octet-counting framing (RFC 6587 §3.4.1,
//! also what RFC 5425 prescribes for TLS): `MSG-LEN SP SYSLOG-MSG`.
//!
//! Message: `<PRI>1 TIMESTAMP HOSTNAME vigil PROCID MSGID [vigil@32473 kind=".." id=".."] CEF:0|…`.
//! `32473` is the private enterprise number RFC 5612 reserves for documentation; operators
//! with their own number can set `sd_id`. The connection is opened on first use and reopened
//! after a failure; each send is retried with back-off.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::Mutex;

use crate::{ExportError, Finding};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    Tcp,
    Tls,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyslogConfig {
    /// `host:port` of the receiver.
    pub address: String,
    pub transport: Transport,
    /// PEM file of the CA(s) that signed the receiver's certificate (TLS); default: the
    /// public web PKI roots.
    pub ca_file: Option<PathBuf>,
    /// Name to check the receiver's certificate against; default: the host of `address`.
    pub server_name: Option<String>,
    /// HOSTNAME field; default: this machine's name.
    pub hostname: Option<String>,
    /// Syslog facility (RFC 5424 table 1); 10 = security/authorization (authpriv).
    pub facility: u8,
    /// SD-ID of the structured data element.
    pub sd_id: String,
    pub max_attempts: u32,
    pub retry_base_delay_ms: u64,
}

impl Default for SyslogConfig {
    fn default() -> Self {
        SyslogConfig {
            address: String::new(),
            transport: Transport::Tcp,
            ca_file: None,
            server_name: None,
            hostname: None,
            facility: 10,
            sd_id: "vigil@32473".into(),
            max_attempts: 4,
            retry_base_delay_ms: 500,
        }
    }
}

/// Syslog severity from a 0–100 score: 2 critical, 3 error, 4 warning, 5 notice.
pub fn severity(score: f64) -> u8 {
    match score {
        s if s >= 90.0 => 2,
        s if s >= 70.0 => 3,
        s if s >= 50.0 => 4,
        _ => 5,
    }
}

/// PRINTUSASCII without space, `=`, `]`, `"`, as RFC 5424 wants for names; anything else
/// becomes `_`.
fn header_field(s: &str, max: usize) -> String {
    let f: String = s
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .take(max)
        .collect();
    if f.is_empty() {
        "-".into()
    } else {
        f
    }
}

fn sd_value(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace(']', "\\]")
}

fn local_hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "-".into())
}

/// One RFC 5424 message (without framing) carrying `msg`.
pub fn format_message(
    cfg: &SyslogConfig,
    severity: u8,
    msgid: &str,
    structured: &[(&str, &str)],
    msg: &str,
) -> String {
    let pri = (cfg.facility.min(23) as u16) * 8 + severity.min(7) as u16;
    let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let host = header_field(cfg.hostname.as_deref().unwrap_or(&local_hostname()), 255);
    let mut sd = format!("[{}", header_field(&cfg.sd_id, 32));
    for (k, v) in structured {
        sd.push_str(&format!(" {}=\"{}\"", header_field(k, 32), sd_value(v)));
    }
    sd.push(']');
    format!(
        "<{pri}>1 {ts} {host} vigil {} {} {sd} {msg}",
        std::process::id(),
        header_field(msgid, 32)
    )
}

/// The syslog message for a finding: CEF in MSG.
pub fn format_finding(cfg: &SyslogConfig, finding: Finding<'_>) -> String {
    format_message(
        cfg,
        severity(finding.score()),
        finding.kind(),
        &[("kind", finding.kind()), ("id", finding.id())],
        &crate::cef::format(finding),
    )
}

/// Octet-counting frame: the byte length, a space, the message.
pub fn frame(msg: &str) -> Vec<u8> {
    let mut v = format!("{} ", msg.len()).into_bytes();
    v.extend_from_slice(msg.as_bytes());
    v
}

type Conn = Box<dyn AsyncWrite + Unpin + Send>;

pub struct SyslogSender {
    cfg: SyslogConfig,
    tls: Option<(
        tokio_rustls::TlsConnector,
        rustls_pki_types::ServerName<'static>,
    )>,
    conn: Mutex<Option<Conn>>,
}

impl SyslogSender {
    pub fn new(cfg: SyslogConfig) -> Result<SyslogSender, ExportError> {
        let bad = |m: String| ExportError::Config(format!("syslog: {m}"));
        let host = cfg
            .address
            .rsplit_once(':')
            .map(|(h, _)| h.trim_start_matches('[').trim_end_matches(']').to_string())
            .ok_or_else(|| bad(format!("address {:?} is not host:port", cfg.address)))?;
        let tls = match cfg.transport {
            Transport::Tcp => None,
            Transport::Tls => {
                let mut roots = rustls::RootCertStore::empty();
                match &cfg.ca_file {
                    Some(path) => {
                        use rustls_pki_types::pem::PemObject;
                        let certs: Vec<_> = rustls_pki_types::CertificateDer::pem_file_iter(path)
                            .map_err(|e| bad(format!("{}: {e}", path.display())))?
                            .collect::<Result<_, _>>()
                            .map_err(|e| bad(format!("{}: {e}", path.display())))?;
                        if certs.is_empty() {
                            return Err(bad(format!("{}: no certificate in it", path.display())));
                        }
                        for c in certs {
                            roots
                                .add(c)
                                .map_err(|e| bad(format!("{}: {e}", path.display())))?;
                        }
                    }
                    None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
                }
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|e| bad(e.to_string()))?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                let name = cfg.server_name.clone().unwrap_or(host);
                let server_name = rustls_pki_types::ServerName::try_from(name.clone())
                    .map_err(|_| bad(format!("{name:?} is not a valid server name")))?;
                Some((
                    tokio_rustls::TlsConnector::from(Arc::new(config)),
                    server_name,
                ))
            }
        };
        Ok(SyslogSender {
            cfg,
            tls,
            conn: Mutex::new(None),
        })
    }

    pub fn config(&self) -> &SyslogConfig {
        &self.cfg
    }

    async fn connect(&self) -> Result<Conn, String> {
        let tcp = tokio::time::timeout(
            Duration::from_secs(10),
            tokio::net::TcpStream::connect(&self.cfg.address),
        )
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| format!("connect: {e}"))?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None => Ok(Box::new(tcp)),
            Some((connector, name)) => {
                let tls = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|e| format!("TLS handshake: {e}"))?;
                Ok(Box::new(tls))
            }
        }
    }

    /// Sends messages, framed, in order; reconnects and retries on failure.
    pub async fn send(&self, messages: &[String]) -> Result<(), ExportError> {
        let mut bytes = Vec::new();
        for m in messages {
            bytes.extend(frame(m));
        }
        let mut conn = self.conn.lock().await;
        let max = self.cfg.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            let result = async {
                if conn.is_none() {
                    *conn = Some(self.connect().await?);
                }
                let c = conn.as_mut().expect("connected above");
                c.write_all(&bytes)
                    .await
                    .map_err(|e| format!("write: {e}"))?;
                c.flush().await.map_err(|e| format!("flush: {e}"))
            }
            .await;
            match result {
                Ok(()) => return Ok(()),
                Err(message) => {
                    *conn = None;
                    if attempt >= max {
                        return Err(ExportError::Syslog {
                            address: self.cfg.address.clone(),
                            message: format!("{message}; gave up after {attempt} attempts"),
                        });
                    }
                    let wait = self
                        .cfg
                        .retry_base_delay_ms
                        .saturating_mul(1 << (attempt - 1).min(16));
                    tokio::time::sleep(Duration::from_millis(wait.min(60_000))).await;
                    attempt += 1;
                }
            }
        }
    }

    /// Closes the connection cleanly (TLS close_notify), so the receiver keeps everything sent.
    pub async fn close(&self) {
        if let Some(mut c) = self.conn.lock().await.take() {
            let _ = c.shutdown().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_shape_and_framing() {
        let cfg = SyslogConfig {
            address: "127.0.0.1:6514".into(),
            hostname: Some("vigil host".into()),
            ..Default::default()
        };
        let m = format_message(&cfg, 2, "breach", &[("id", "b\"1]")], "CEF:0|x");
        assert!(m.starts_with("<82>1 "), "{m}");
        assert!(m.contains(" vigil_host vigil "), "{m}");
        assert!(
            m.contains(r#" breach [vigil@32473 id="b\"1\]"] CEF:0|x"#),
            "{m}"
        );
        let f = frame("héllo");
        assert_eq!(f, b"6 h\xc3\xa9llo");
    }

    #[test]
    fn bad_configuration_is_explained() {
        let err = SyslogSender::new(SyslogConfig {
            address: "nowhere".into(),
            ..Default::default()
        })
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("host:port"), "{err}");
    }
}
