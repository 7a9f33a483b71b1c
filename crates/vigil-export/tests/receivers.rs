//! Exports against real receivers started here: rsyslog from Debian (imtcp, plain and with the
//! gtls driver and a certificate generated for the test) and an HTTP receiver that checks the
//! webhook's HMAC. rsyslog must be installed (`apt-get install -y rsyslog rsyslog-gnutls`, as
//! .ci/run does); without it these tests fail saying so rather than pass without testing.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use vigil_export::syslog::{SyslogConfig, SyslogSender, Transport};
use vigil_export::webhook::{Webhook, WebhookConfig};
use vigil_export::{ExportConfig, Exporter, Finding};
use vigil_report::{Breach, Incident};

fn breach() -> Breach {
    Breach {
        id: "b1".into(),
        model: "SaaS / Access / Suspicious Login User-Agent".into(),
        score: 93.0,
        time: "2022-02-01T04:55:51Z".parse().unwrap(),
        entity: "adele.vance@contoso.example".into(),
        event_ids: vec!["e1".into()],
        reason: "first sign-in of this account from Nigeria; BAV2ROPC, which bypasses MFA; café=1"
            .into(),
        metrics: Default::default(),
    }
}

fn incident() -> Incident {
    Incident {
        id: "i1".into(),
        title: "Multi-account compromise".into(),
        score: 97.0,
        start: "2022-02-01T04:55:51Z".parse().unwrap(),
        end: "2022-02-02T14:38:00Z".parse().unwrap(),
        entities: vec![
            "adele.vance@contoso.example".into(),
            "ben@contoso.example".into(),
        ],
        breach_ids: vec!["b1".into(), "b2".into()],
        summary: "Three accounts signed into from one rare IP.\nThen inbox rules.".into(),
    }
}

fn rsyslogd() -> PathBuf {
    ["/usr/sbin/rsyslogd", "/sbin/rsyslogd", "/usr/bin/rsyslogd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!(
                "rsyslogd not found: these tests need a real rsyslog receiver. Install it with \
                 `apt-get install -y rsyslog rsyslog-gnutls` (.ci/run does this)."
            )
        })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An rsyslogd in the foreground with a generated configuration; killed on drop.
struct Rsyslog {
    child: Child,
    out: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TlsFiles {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

/// A CA and a server certificate for 127.0.0.1 / localhost signed by it.
fn make_certificates(dir: &Path) -> TlsFiles {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Vigil test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let cert = params.signed_by(&server_key, &ca).unwrap();
    let files = TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server-key.pem"),
    };
    std::fs::write(&files.ca, ca.pem()).unwrap();
    std::fs::write(&files.cert, cert.pem()).unwrap();
    std::fs::write(&files.key, server_key.serialize_pem()).unwrap();
    files
}

impl Rsyslog {
    fn start(tls: bool) -> (Rsyslog, Option<TlsFiles>) {
        let bin = rsyslogd();
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let out = dir.path().join("received.log");
        let files = tls.then(|| make_certificates(dir.path()));
        let (global_tls, module) = match &files {
            Some(f) => (
                format!(
                    " defaultNetstreamDriverCAFile=\"{}\" defaultNetstreamDriverCertFile=\"{}\" defaultNetstreamDriverKeyFile=\"{}\"",
                    f.ca.display(),
                    f.cert.display(),
                    f.key.display()
                ),
                r#"module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")"#
                    .to_string(),
            ),
            None => (String::new(), r#"module(load="imtcp")"#.to_string()),
        };
        // Parsed RFC 5424 fields, one line per message, so the test sees what rsyslog understood.
        let conf = format!(
            r#"global(workDirectory="{work}"{global_tls})
{module}
input(type="imtcp" port="{port}" address="127.0.0.1")
template(name="fields" type="string" string="%protocol-version%|%syslogfacility%|%syslogseverity%|%hostname%|%app-name%|%msgid%|%structured-data%|%msg%\n")
*.* action(type="omfile" file="{out}" template="fields")
"#,
            work = dir.path().display(),
            out = out.display(),
        );
        let conf_path = dir.path().join("rsyslog.conf");
        std::fs::write(&conf_path, conf).unwrap();
        // rsyslog's own complaints (the readiness probe, the distrustful client) go to a file,
        // not into the test output.
        let log = std::fs::File::create(dir.path().join("rsyslogd.stderr")).unwrap();
        let child = Command::new(&bin)
            .arg("-n")
            .arg("-f")
            .arg(&conf_path)
            .arg("-i")
            .arg(dir.path().join("rsyslog.pid"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let r = Rsyslog {
            child,
            out,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "rsyslogd did not listen on port {port} within 15 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        (r, files)
    }

    /// Waits for `n` lines in the output file.
    async fn lines(&self, n: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let text = std::fs::read_to_string(&self.out).unwrap_or_default();
            let lines: Vec<String> = text.lines().map(str::to_string).collect();
            if lines.len() >= n {
                return lines;
            }
            assert!(
                Instant::now() < deadline,
                "rsyslog wrote {} of {n} messages: {lines:?}",
                lines.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn check_received(lines: &[String]) {
    let b: Vec<&str> = lines[0].splitn(8, '|').collect();
    assert_eq!(b[0], "1", "RFC 5424 version: {}", lines[0]);
    assert_eq!(b[1], "10", "facility authpriv");
    assert_eq!(b[2], "2", "critical for score 93");
    assert_eq!(b[3], "vigil-test-host");
    assert_eq!(b[4], "vigil");
    assert_eq!(b[5], "breach");
    assert_eq!(b[6], r#"[vigil@32473 kind="breach" id="b1"]"#);
    assert!(
        b[7].starts_with(
            "CEF:0|Vigil|Vigil|0.1.0|SaaS / Access / Suspicious Login User-Agent|SaaS / Access / Suspicious Login User-Agent|9|"
        ),
        "{}",
        b[7]
    );
    // The whole message arrived: octet counting framed the multi-byte character correctly.
    assert!(b[7].ends_with(r"café\=1"), "{}", b[7]);
    let i: Vec<&str> = lines[1].splitn(8, '|').collect();
    assert_eq!(i[5], "incident");
    assert!(i[7].contains("cat=incident"), "{}", i[7]);
    assert!(
        i[7].contains(r"msg=Three accounts signed into from one rare IP.\nThen inbox rules."),
        "{}",
        i[7]
    );
}

fn syslog_config(port: u16, transport: Transport, ca: Option<PathBuf>) -> SyslogConfig {
    SyslogConfig {
        address: format!("127.0.0.1:{port}"),
        transport,
        ca_file: ca,
        server_name: Some("localhost".into()),
        hostname: Some("vigil-test-host".into()),
        max_attempts: 3,
        retry_base_delay_ms: 50,
        ..Default::default()
    }
}

#[tokio::test]
async fn rsyslog_receives_cef_over_tcp_with_octet_counting() {
    let (rsyslog, _) = Rsyslog::start(false);
    let cfg = syslog_config(rsyslog.port, Transport::Tcp, None);
    let mut exporter = Exporter::new(&ExportConfig {
        syslog: Some(cfg),
        ..Default::default()
    })
    .unwrap();
    let (b, i) = (breach(), incident());
    exporter.export(Finding::Breach(&b)).await;
    exporter.export(Finding::Incident(&i)).await;
    assert!(exporter.failures.is_empty(), "{:?}", exporter.failures);
    check_received(&rsyslog.lines(2).await);
}

#[tokio::test]
async fn rsyslog_receives_cef_over_tls() {
    let (rsyslog, files) = Rsyslog::start(true);
    let files = files.unwrap();
    let sender = SyslogSender::new(syslog_config(
        rsyslog.port,
        Transport::Tls,
        Some(files.ca.clone()),
    ))
    .unwrap();
    let (b, i) = (breach(), incident());
    let cfg = sender.config().clone();
    sender
        .send(&[
            vigil_export::syslog::format_finding(&cfg, Finding::Breach(&b)),
            vigil_export::syslog::format_finding(&cfg, Finding::Incident(&i)),
        ])
        .await
        .unwrap();
    sender.close().await;
    check_received(&rsyslog.lines(2).await);

    // A client that does not trust the receiver's CA refuses to send.
    let other_dir = tempfile::tempdir().unwrap();
    let other = make_certificates(other_dir.path());
    let distrustful = SyslogSender::new(SyslogConfig {
        max_attempts: 1,
        ..syslog_config(rsyslog.port, Transport::Tls, Some(other.ca))
    })
    .unwrap();
    let err = distrustful
        .send(&["x".into()])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("TLS handshake"), "{err}");
}

#[tokio::test]
async fn syslog_retries_until_the_receiver_is_there_then_gives_up_clearly() {
    let port = free_port();
    let sender = SyslogSender::new(SyslogConfig {
        max_attempts: 2,
        ..syslog_config(port, Transport::Tcp, None)
    })
    .unwrap();
    let err = sender.send(&["x".into()]).await.unwrap_err().to_string();
    assert!(err.contains("gave up after 2 attempts"), "{err}");
}

/// What the HTTP receiver saw.
#[derive(Default)]
struct Received {
    verified: Vec<Value>,
    rejected: usize,
    requests: usize,
    deliveries: Vec<String>,
}

async fn start_receiver(secret: &'static str, fail_first: usize) -> (String, Arc<Mutex<Received>>) {
    use axum::http::{HeaderMap, StatusCode};
    let state = Arc::new(Mutex::new(Received::default()));
    let s = state.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let s = s.clone();
            async move {
                let mut r = s.lock().unwrap();
                r.requests += 1;
                if r.requests <= fail_first {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                let ok = vigil_export::webhook::verify(
                    secret.as_bytes(),
                    &h("X-Vigil-Timestamp"),
                    &h("X-Vigil-Signature"),
                    &body,
                    chrono::Utc::now().timestamp(),
                    300,
                );
                if ok.is_err() {
                    r.rejected += 1;
                    return StatusCode::UNAUTHORIZED;
                }
                r.deliveries.push(h("X-Vigil-Delivery"));
                r.verified.push(serde_json::from_slice(&body).unwrap());
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, state)
}

fn webhook(url: &str, secret: &str) -> Webhook {
    Webhook::new(WebhookConfig {
        url: url.into(),
        secret: Some(secret.into()),
        secret_env: "VIGIL_TEST_WEBHOOK_SECRET_UNSET".into(),
        max_attempts: 4,
        retry_base_delay_ms: 20,
        timeout_secs: 5,
    })
    .unwrap()
}

#[tokio::test]
async fn webhook_is_signed_and_retried_through_server_errors() {
    let (url, state) = start_receiver("hook-secret", 2).await;
    let hook = webhook(&url, "hook-secret");
    let b = breach();
    let d = hook
        .send(&vigil_export::webhook::payload(Finding::Breach(&b)))
        .await
        .unwrap();
    assert_eq!(d.attempts, 3, "two 503s, then delivered");
    assert_eq!(d.status, 204);
    let r = state.lock().unwrap();
    assert_eq!(r.verified.len(), 1);
    assert_eq!(r.verified[0]["type"], "breach");
    assert_eq!(r.verified[0]["data"]["id"], "b1");
    assert_eq!(r.deliveries[0].len(), 24);
}

#[tokio::test]
async fn webhook_with_the_wrong_secret_is_rejected_and_not_retried() {
    let (url, state) = start_receiver("hook-secret", 0).await;
    let hook = webhook(&url, "not-the-secret");
    let i = incident();
    let err = hook
        .send(&vigil_export::webhook::payload(Finding::Incident(&i)))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("HTTP 401, not retried"), "{err}");
    let r = state.lock().unwrap();
    assert_eq!((r.requests, r.rejected), (1, 1));
}

#[test]
fn webhook_without_a_secret_is_a_configuration_error() {
    let err = Webhook::new(WebhookConfig {
        url: "https://siem.example/hook".into(),
        secret_env: "VIGIL_TEST_WEBHOOK_SECRET_UNSET".into(),
        ..Default::default()
    })
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("VIGIL_TEST_WEBHOOK_SECRET_UNSET"), "{err}");
}

#[tokio::test]
async fn ocsf_detection_findings_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("findings/ocsf.jsonl");
    let mut exporter = Exporter::new(&ExportConfig {
        ocsf: Some(vigil_export::ocsf::OcsfConfig { path: path.clone() }),
        ..Default::default()
    })
    .unwrap();
    let (b, mut i) = (breach(), incident());
    exporter.export(Finding::Breach(&b)).await;
    exporter.export(Finding::Incident(&i)).await;
    i.score = 99.0;
    exporter.export(Finding::Incident(&i)).await;
    let lines: Vec<Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for l in &lines {
        // The attributes OCSF 1.3 requires of a Detection Finding.
        for field in [
            "activity_id",
            "category_uid",
            "class_uid",
            "finding_info",
            "metadata",
            "severity_id",
            "time",
            "type_uid",
        ] {
            assert!(l.get(field).is_some(), "{field} missing in {l}");
        }
        assert_eq!(l["class_uid"], 2004);
        assert_eq!(l["category_uid"], 2);
        assert!(l["finding_info"]["uid"].is_string() && l["finding_info"]["title"].is_string());
        assert!(l["metadata"]["product"]["name"] == "Vigil" && l["metadata"]["version"] == "1.3.0");
    }
    assert_eq!(lines[0]["type_uid"], 200401);
    assert_eq!(lines[0]["severity_id"], 5);
    assert_eq!(lines[0]["time"], 1643691351000i64);
    assert_eq!(lines[0]["finding_info"]["analytic"]["name"], b.model);
    assert_eq!(lines[0]["resources"][0]["type"], "User");
    assert_eq!(lines[1]["finding_info"]["types"][0], "Incident");
    assert_eq!(lines[1]["finding_info"]["related_events"][1]["uid"], "b2");
    assert_eq!(lines[1]["type_uid"], 200401);
    assert_eq!(
        lines[2]["type_uid"], 200402,
        "the incident's second version is an update"
    );
    assert_eq!(lines[2]["risk_score"], 99);
}
