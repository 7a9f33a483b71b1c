//! The API against a real server on a loopback port: the reference attack replayed into it,
//! then every endpoint as a client sees it (status codes, roles, CSRF, decisions, restarts).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use vigil_server::{Running, ServerConfig};

const ADMIN_PASSWORD: &str = "correct-horse-battery";

/// A response as the test reads it.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A minimal HTTP/1.1 client (one request per connection), so the test needs no client crate.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16)
                .unwrap_or(0);
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
            rest = &rest[eol + 2 + size + 2..];
        }
        body = out;
    }
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    }
}

fn get(addr: SocketAddr, path: &str, auth: &[(&str, &str)]) -> Reply {
    request(addr, "GET", path, auth, b"")
}

fn post_json(addr: SocketAddr, path: &str, auth: &[(&str, &str)], body: &Value) -> Reply {
    let mut h = auth.to_vec();
    h.push(("Content-Type", "application/json"));
    request(addr, "POST", path, &h, body.to_string().as_bytes())
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A browser session: the cookie and the page's CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

fn login(addr: SocketAddr, user: &str, password: &str) -> Result<Session, Reply> {
    // The login form carries a CSRF token that must match its cookie.
    let page = get(addr, "/login", &[]);
    assert_eq!(page.status, 200);
    let login_cookie = page
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .expect("a login cookie")
        .to_string();
    let token = page
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a CSRF token in the login form")
        .to_string();
    let form = format!(
        "username={}&password={}&next=%2F&csrf={token}",
        url_encode(user),
        url_encode(password)
    );
    let r = request(
        addr,
        "POST",
        "/login",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", &login_cookie),
        ],
        form.as_bytes(),
    );
    if r.status != 303 {
        return Err(r);
    }
    let cookie = r
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string();
    assert!(r.header("set-cookie").unwrap().contains("HttpOnly"));
    let page = get(addr, "/", &[("Cookie", &cookie)]);
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a CSRF token in the page")
        .to_string();
    Ok(Session { cookie, csrf })
}

fn tenant(dir: &Path) -> (PathBuf, vigil_sim::TruthAttack) {
    let out = dir.join("tenant");
    let sim = vigil_sim::SimConfig {
        accounts: 100,
        days: 12,
        seed: 4,
        attacks: vec![vigil_sim::AttackSpec {
            kind: vigil_sim::AttackKind::ReferenceChain,
            day: Some(10),
        }],
        ..Default::default()
    };
    vigil_sim::simulate(&sim, &out, &|_| {}).expect("simulate");
    let truth = vigil_sim::load_truth(&out.join("truth.json")).unwrap();
    let attack = truth
        .attacks
        .into_iter()
        .next()
        .expect("the reference attack");
    (out, attack)
}

fn config(data: &Path) -> ServerConfig {
    let mut c = ServerConfig::new(data.to_path_buf());
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.admin_password = Some(ADMIN_PASSWORD.into());
    // The repository's IP data (scripts/fetch-ip-data.sh), so profiles name countries.
    let ip = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/ip");
    c.enrich.country_mmdb = Some(ip.join("geo-whois-asn-country.mmdb"));
    c.enrich.asn_csv = vec![ip.join("asn-ipv4.csv"), ip.join("asn-ipv6.csv")];
    c
}

async fn ingest(server: &Running, tenant: &Path) -> vigil_server::JobReport {
    let paths = ["audit", "signins", "messagetrace"]
        .iter()
        .map(|d| tenant.join(d))
        .collect();
    server
        .ingest_files(paths)
        .await
        .unwrap()
        .await
        .unwrap()
        .expect("ingest")
}

/// Runs blocking HTTP calls off the runtime that serves them.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_incident_through_the_api_with_roles_csrf_and_recorded_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let (tenant_dir, attack) = tenant(dir.path());
    let server = vigil_server::start(config(&dir.path().join("data")))
        .await
        .unwrap();
    let report = ingest(&server, &tenant_dir).await;
    assert!(report.events > 10_000 && report.breaches > 0, "{report:?}");
    let addr = server.addr;
    let compromised = attack.compromised.clone();

    blocking(move || {
        // Public: health and the OpenAPI document; everything else needs a login.
        let health = get(addr, "/api/v1/health", &[]);
        assert_eq!(health.status, 200);
        assert!(health.json()["ingest"]["events"].as_u64().unwrap() > 10_000);
        assert_eq!(
            health.json()["response"],
            "not connected",
            "without [respond], serve plans and never acts"
        );
        let openapi = get(addr, "/api/v1/openapi.json", &[]).json();
        for path in [
            "/incidents",
            "/incidents/{id}",
            "/breaches",
            "/entities/{entity}",
            "/actions/{id}/{decision}",
            "/models/{name}",
            "/events",
            "/health",
        ] {
            assert!(
                openapi["paths"][path].is_object(),
                "OpenAPI documents {path}"
            );
        }
        let anonymous = get(addr, "/api/v1/incidents", &[]);
        assert_eq!(anonymous.status, 401);
        assert!(anonymous.json()["error"]
            .as_str()
            .unwrap()
            .contains("Bearer"));
        assert_eq!(
            get(addr, "/incidents/i1", &[]).status,
            303,
            "the console redirects to login"
        );
        assert_eq!(get(addr, "/metrics", &[]).status, 401);
        let nowhere = get(addr, "/no/such/page", &[]);
        assert_eq!(nowhere.status, 404);
        assert!(nowhere.body.contains("no such page"), "{}", nowhere.body);
        let no_endpoint = get(addr, "/api/v1/nothing", &[]);
        assert_eq!(no_endpoint.status, 404);
        assert!(no_endpoint.json()["error"]
            .as_str()
            .unwrap()
            .contains("openapi.json"));

        // A login post without the form's CSRF token is refused.
        let forged = request(
            addr,
            "POST",
            "/login",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            format!("username=admin&password={ADMIN_PASSWORD}").as_bytes(),
        );
        assert_eq!(forged.status, 403, "{}", forged.body);
        assert!(forged.body.contains("login form expired"));
        // The admin logs in; unsafe API calls with the cookie need the CSRF header.
        let admin = login(addr, "admin", ADMIN_PASSWORD)
            .unwrap_or_else(|r| panic!("{} {}", r.status, r.body));
        let cookie = [("Cookie", admin.cookie.as_str())];
        let no_csrf = post_json(
            addr,
            "/api/v1/tokens",
            &cookie,
            &json!({"name": "ci", "role": "analyst"}),
        );
        assert_eq!(no_csrf.status, 403, "{}", no_csrf.body);
        let with_csrf = [
            ("Cookie", admin.cookie.as_str()),
            ("X-CSRF-Token", admin.csrf.as_str()),
        ];
        let analyst = post_json(
            addr,
            "/api/v1/tokens",
            &with_csrf,
            &json!({"name": "ci", "role": "analyst"}),
        );
        assert_eq!(analyst.status, 201, "{}", analyst.body);
        let analyst = format!("Bearer {}", analyst.json()["token"].as_str().unwrap());
        let viewer = post_json(
            addr,
            "/api/v1/tokens",
            &with_csrf,
            &json!({"name": "wall", "role": "viewer"}),
        );
        let viewer = format!("Bearer {}", viewer.json()["token"].as_str().unwrap());
        let bad_role = post_json(
            addr,
            "/api/v1/tokens",
            &with_csrf,
            &json!({"name": "x", "role": "root"}),
        );
        assert_eq!(bad_role.status, 400);
        assert!(bad_role.json()["error"]
            .as_str()
            .unwrap()
            .contains("viewer, analyst or admin"));
        let as_analyst = [("Authorization", analyst.as_str())];
        let as_viewer = [("Authorization", viewer.as_str())];

        // The queue: the reference attack is one incident holding A, B and C, ranked first.
        let queue = get(addr, "/api/v1/incidents", &as_viewer).json();
        let top = &queue["items"][0];
        let entities: Vec<&str> = top["entities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for account in &compromised {
            assert!(
                entities.contains(&account.as_str()),
                "{account} in the top incident {entities:?}"
            );
        }
        let scores: Vec<f64> = queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["score"].as_f64().unwrap())
            .collect();
        assert!(
            scores.windows(2).all(|w| w[0] >= w[1]),
            "ranked by score: {scores:?}"
        );
        let id = top["id"].as_str().unwrap().to_string();
        let by_account = get(
            addr,
            &format!("/api/v1/incidents?entity={}", url_encode(&compromised[1])),
            &as_viewer,
        )
        .json();
        assert!(by_account["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == id.as_str()));
        assert_eq!(
            get(addr, "/api/v1/incidents?min_score=500", &as_viewer).status,
            400
        );
        let bad_time = get(addr, "/api/v1/incidents?since=yesterday-ish", &as_viewer);
        assert_eq!(bad_time.status, 400);
        assert!(bad_time.json()["error"].as_str().unwrap().contains("since"));

        // The incident: timeline across the accounts, breaches with reasons, pending actions.
        let detail = get(addr, &format!("/api/v1/incidents/{id}"), &as_viewer).json();
        let timeline = detail["incident"]["detail"]["timeline"].as_array().unwrap();
        let lanes: std::collections::BTreeSet<&str> = timeline
            .iter()
            .map(|e| e["entity"].as_str().unwrap())
            .collect();
        assert!(
            compromised.iter().all(|a| lanes.contains(a.as_str())),
            "{lanes:?}"
        );
        assert!(detail["breaches"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| !b["reason"].as_str().unwrap().is_empty()));
        assert!(
            !detail["incident"]["detail"]["ips"]
                .as_array()
                .unwrap()
                .is_empty(),
            "attacker IPs"
        );
        assert_eq!(get(addr, "/api/v1/incidents/nope", &as_viewer).status, 404);
        let pending: Vec<&Value> = detail["actions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["state"] == "pending")
            .collect();
        assert!(!pending.is_empty(), "confirm mode leaves actions pending");
        let action = pending[0]["id"].as_str().unwrap().to_string();

        // A viewer cannot decide; an analyst can, once; the decision is recorded with who.
        let denied = post_json(
            addr,
            &format!("/api/v1/actions/{action}/confirm"),
            &as_viewer,
            &json!({}),
        );
        assert_eq!(denied.status, 403);
        let confirmed = post_json(
            addr,
            &format!("/api/v1/actions/{action}/confirm"),
            &as_analyst,
            &json!({"note": "contain A"}),
        );
        assert_eq!(confirmed.status, 200, "{}", confirmed.body);
        assert_eq!(confirmed.json()["state"], "confirmed");
        assert_eq!(confirmed.json()["decided_by"], "token:ci");
        // Without [respond] a confirmed action stays confirmed: nothing executes it, and the
        // console says so.
        std::thread::sleep(Duration::from_millis(200));
        let still = get(addr, &format!("/api/v1/actions/{action}"), &as_viewer).json();
        assert_eq!(still["state"], "confirmed", "{still}");
        assert!(still["attempts"].as_array().unwrap().is_empty(), "{still}");
        let page = get(addr, &format!("/incidents/{id}"), &as_viewer);
        assert_eq!(page.status, 200);
        assert!(
            page.body.contains("Response not connected"),
            "{}",
            page.body
        );
        let again = post_json(
            addr,
            &format!("/api/v1/actions/{action}/decline"),
            &as_analyst,
            &json!({}),
        );
        assert_eq!(again.status, 409);
        assert!(again.json()["error"]
            .as_str()
            .unwrap()
            .contains("confirmed"));
        assert_eq!(
            post_json(
                addr,
                &format!("/api/v1/actions/{action}/approve"),
                &as_analyst,
                &json!({})
            )
            .status,
            404
        );
        let log = get(
            addr,
            &format!("/api/v1/decisions?subject={action}"),
            &as_viewer,
        )
        .json();
        assert_eq!(log["items"][0]["user"], "token:ci");
        assert!(log["items"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("contain A"));
        let still_pending = get(addr, "/api/v1/actions?state=pending", &as_viewer).json();
        assert!(still_pending["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["id"] != action.as_str()));

        // The account's pattern of life.
        let a = &compromised[0];
        let entity = get(
            addr,
            &format!("/api/v1/entities/{}", url_encode(a)),
            &as_viewer,
        )
        .json();
        let profile = &entity["profile"];
        assert_eq!(profile["hours"].as_array().unwrap().len(), 168);
        assert!(!profile["countries"].as_array().unwrap().is_empty());
        assert!(!profile["clients"].as_array().unwrap().is_empty());
        assert!(!profile["recent"].as_array().unwrap().is_empty());
        assert!(entity["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == id.as_str()));
        assert_eq!(
            get(
                addr,
                "/api/v1/entities/nobody%40nowhere.example",
                &as_viewer
            )
            .status,
            404
        );

        // Models: only admins change them; names with slashes go URL-encoded; changes logged.
        let models = get(addr, "/api/v1/models", &as_viewer).json();
        let m = models["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| {
                m["name"].as_str().unwrap().contains(" / ") && !m["default_autonomy"].is_null()
            })
            .expect("a model with actions and slashes in its name")
            .clone();
        let name = m["name"].as_str().unwrap().to_string();
        let name = name.as_str();
        assert_eq!(m["enabled"], true);
        let path = format!("/api/v1/models/{}", url_encode(name));
        assert_eq!(
            post_json(addr, &path, &as_analyst, &json!({"enabled": false})).status,
            403
        );
        let bad = post_json(addr, &path, &with_csrf, &json!({"autonomy": "sometimes"}));
        assert_eq!(bad.status, 400);
        let changed = post_json(
            addr,
            &path,
            &with_csrf,
            &json!({"enabled": false, "autonomy": "autonomous"}),
        );
        assert_eq!(changed.status, 200, "{}", changed.body);
        let m = get(addr, &path, &as_viewer).json();
        assert_eq!(
            (m["enabled"].as_bool(), m["autonomy"].as_str()),
            (Some(false), Some("autonomous"))
        );
        assert_eq!(
            m["effective_autonomy"], "off",
            "a disabled model takes no action"
        );
        assert!(!m["versions"].as_array().unwrap().is_empty());
        let log = get(
            addr,
            &format!("/api/v1/decisions?subject={}", url_encode(name)),
            &as_viewer,
        )
        .json();
        assert_eq!(log["items"][0]["user"], "admin");

        // Metrics in the Prometheus text format.
        let metrics = get(addr, "/metrics", &as_viewer);
        assert_eq!(metrics.status, 200);
        assert!(metrics
            .header("content-type")
            .unwrap()
            .starts_with("text/plain"));
        let line = metrics
            .body
            .lines()
            .find(|l| l.starts_with("vigil_ingest_events_total "))
            .unwrap();
        assert!(line.split(' ').nth(1).unwrap().parse::<f64>().unwrap() > 10_000.0);
        assert!(metrics.body.contains("# TYPE vigil_actions_pending gauge"));
    })
    .await;
    server.shutdown().await.unwrap();
}

const GOOD_AND_BAD_LINES: &str = concat!(
    r#"{"CreationTime":"2024-03-11T10:00:00","Id":"post0000-0000-4000-8000-000000000001","Operation":"FileAccessed","RecordType":6,"UserId":"alice.smith@contoso.com","Workload":"SharePoint","ClientIP":"203.0.113.10","ObjectId":"https://contoso.sharepoint.com/sites/Finance/Shared Documents/a.docx","SourceFileName":"a.docx","SiteUrl":"https://contoso.sharepoint.com/sites/Finance/"}"#,
    "\nthis line is not JSON\n",
    r#"{"CreationTime":"2024-03-11T10:00:02","Id":"post0000-0000-4000-8000-000000000003","Operation":"FileAccessed","RecordType":6,"UserId":"alice.smith@contoso.com","Workload":"SharePoint","ClientIP":"203.0.113.10","ObjectId":"https://contoso.sharepoint.com/sites/Finance/Shared Documents/a.docx","SourceFileName":"a.docx","SiteUrl":"https://contoso.sharepoint.com/sites/Finance/"}"#,
    "\n"
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posted_events_answer_per_line_with_limits_back_pressure_and_login_throttling() {
    let dir = tempfile::tempdir().unwrap();
    let (tenant_dir, _) = tenant(dir.path());
    let mut cfg = config(&dir.path().join("data"));
    cfg.max_body_bytes = 64 * 1024;
    cfg.queue_len = 1;
    let server = vigil_server::start(cfg).await.unwrap();
    let addr = server.addr;
    let token = blocking(move || {
        let admin = login(addr, "admin", ADMIN_PASSWORD).unwrap_or_else(|r| panic!("{}", r.body));
        let h = [
            ("Cookie", admin.cookie.as_str()),
            ("X-CSRF-Token", admin.csrf.as_str()),
        ];
        let t = post_json(
            addr,
            "/api/v1/tokens",
            &h,
            &json!({"name": "collector", "role": "analyst"}),
        );
        format!("Bearer {}", t.json()["token"].as_str().unwrap())
    })
    .await;

    let t = token.clone();
    blocking(move || {
        let auth = [("Authorization", t.as_str())];
        let r = request(
            addr,
            "POST",
            "/api/v1/events",
            &auth,
            GOOD_AND_BAD_LINES.as_bytes(),
        );
        assert_eq!(r.status, 422, "{}", r.body);
        let report = r.json();
        assert_eq!(report["events"], 2, "the good lines are ingested: {report}");
        assert_eq!(report["rejected"], 1);
        assert_eq!(
            report["errors"][0]["line"], 2,
            "the bad line is named: {report}"
        );
        let again = request(
            addr,
            "POST",
            "/api/v1/events",
            &auth,
            GOOD_AND_BAD_LINES.as_bytes(),
        )
        .json();
        assert_eq!(
            again["duplicates"], 2,
            "posting the same records twice counts them once: {again}"
        );
        let empty = request(addr, "POST", "/api/v1/events", &auth, b"  \n");
        assert_eq!(empty.status, 400);
        let big = vec![b' '; 65 * 1024];
        let too_large = request(addr, "POST", "/api/v1/events", &auth, &big);
        assert_eq!(too_large.status, 413, "{}", too_large.body);
        assert!(too_large.json()["error"]
            .as_str()
            .unwrap()
            .contains("larger than"));
        let viewer_cannot = request(
            addr,
            "POST",
            "/api/v1/events",
            &[],
            GOOD_AND_BAD_LINES.as_bytes(),
        );
        assert_eq!(viewer_cannot.status, 401);
    })
    .await;

    // Back-pressure: while the tenant is being ingested and one post waits in the queue (of
    // one), the next post is refused with 503 and Retry-After instead of piling up.
    let busy = server.ingest_files(vec![tenant_dir.clone()]).await.unwrap();
    let t = token.clone();
    let (queued, refused) = blocking(move || {
        let auth = [("Authorization", t.as_str())];
        let queued = request(
            addr,
            "POST",
            "/api/v1/events?wait=false",
            &auth,
            GOOD_AND_BAD_LINES.as_bytes(),
        );
        let refused = request(
            addr,
            "POST",
            "/api/v1/events",
            &auth,
            GOOD_AND_BAD_LINES.as_bytes(),
        );
        // Meanwhile the console and the API answer at once: handlers only read the store.
        let started = std::time::Instant::now();
        let queue = get(addr, "/api/v1/incidents", &auth);
        let health = get(addr, "/api/v1/health", &[]).json();
        assert_eq!(queue.status, 200);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?} while ingesting: {health}",
            started.elapsed()
        );
        (queued, refused)
    })
    .await;
    busy.await.unwrap().unwrap();
    // The queue is taken by the tenant job or the first post; which one is a race, so only
    // the outcome that matters is asserted: nothing accepted beyond capacity.
    assert!(matches!(queued.status, 202 | 503), "{}", queued.body);
    if queued.status == 202 {
        assert_eq!(refused.status, 503, "{}", refused.body);
        assert_eq!(refused.header("retry-after"), Some("2"));
    }

    blocking(move || {
        // Five wrong passwords, then even the right one is refused for a while.
        for _ in 0..5 {
            let r = login(addr, "admin", "wrong-password")
                .err()
                .expect("refused");
            assert_eq!(r.status, 401);
        }
        let throttled = login(addr, "admin", ADMIN_PASSWORD)
            .err()
            .expect("throttled");
        assert_eq!(throttled.status, 429);
        assert!(throttled.body.contains("Too many failed logins"));
    })
    .await;
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_loses_nothing_and_raises_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (tenant_dir, _) = tenant(dir.path());
    let data = dir.path().join("data");
    let server = vigil_server::start(config(&data)).await.unwrap();
    ingest(&server, &tenant_dir).await;
    let addr = server.addr;
    let (before, action) = blocking(move || {
        let admin = login(addr, "admin", ADMIN_PASSWORD).unwrap_or_else(|r| panic!("{}", r.body));
        let h = [
            ("Cookie", admin.cookie.as_str()),
            ("X-CSRF-Token", admin.csrf.as_str()),
        ];
        let pending = get(addr, "/api/v1/actions?state=pending", &h).json();
        let action = pending["items"][0]["id"].as_str().unwrap().to_string();
        let r = post_json(
            addr,
            &format!("/api/v1/actions/{action}/decline"),
            &h,
            &json!({}),
        );
        assert_eq!(r.status, 200);
        (get(addr, "/api/v1/incidents?limit=500", &h).json(), action)
    })
    .await;
    let events_before = server
        .state
        .ingest
        .events
        .load(std::sync::atomic::Ordering::Relaxed);
    let counts_before = server.state.store.counts().unwrap();
    server.shutdown().await.unwrap();

    // Same data directory: the engine comes back from its snapshot, and reading the same
    // files again adds no breach, incident or action.
    let server = vigil_server::start(config(&data)).await.unwrap();
    assert!(
        server.generated_admin_password.is_none(),
        "the admin is not created twice"
    );
    assert_eq!(
        server
            .state
            .ingest
            .events
            .load(std::sync::atomic::Ordering::Relaxed),
        events_before,
        "the engine is restored, not rebuilt"
    );
    // Records within the deduplication horizon (8 days of event time) are dropped as
    // duplicates; older ones reach the engine again, which raises nothing for them twice.
    let again = ingest(&server, &tenant_dir).await;
    assert!(again.duplicates > again.records / 2, "{again:?}");
    assert_eq!((again.breaches, again.actions), (0, 0), "{again:?}");
    assert_eq!(server.state.store.counts().unwrap(), counts_before);
    let addr = server.addr;
    blocking(move || {
        let admin = login(addr, "admin", ADMIN_PASSWORD).unwrap_or_else(|r| panic!("{}", r.body));
        let h = [("Cookie", admin.cookie.as_str())];
        let after = get(addr, "/api/v1/incidents?limit=500", &h).json();
        assert_eq!(after["total"], before["total"]);
        assert_eq!(after["items"], before["items"]);
        let a = get(addr, &format!("/api/v1/actions/{action}"), &h).json();
        assert_eq!(
            (a["state"].as_str(), a["decided_by"].as_str()),
            (Some("declined"), Some("admin"))
        );
    })
    .await;
    server.shutdown().await.unwrap();
}

/// The test certificate and key in tests/fixtures were made for this test only (self-signed for
/// localhost and 127.0.0.1, `openssl req -x509 -newkey ec ...`); they protect nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_https_only_with_the_given_certificate() {
    use rustls::pki_types::{pem::PemObject, CertificateDer, ServerName};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let (cert, key) = (fixtures.join("tls-cert.pem"), fixtures.join("tls-key.pem"));
    let dir = tempfile::tempdir().unwrap();

    let mut missing = config(&dir.path().join("missing"));
    missing.tls = Some((dir.path().join("nope.pem"), key.clone()));
    let err = vigil_server::start(missing)
        .await
        .err()
        .expect("no certificate, no server");
    assert!(
        format!("{err:#}").contains("cannot load the TLS certificate"),
        "{err:#}"
    );

    let mut cfg = config(&dir.path().join("data"));
    cfg.tls = Some((cert.clone(), key));
    let server = vigil_server::start(cfg).await.unwrap();
    let addr = server.addr;

    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(&cert).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let client = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(client));
    let https = |request: String| {
        let connector = connector.clone();
        async move {
            let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            let name = ServerName::try_from("localhost").unwrap();
            let mut tls = connector.connect(name, tcp).await.expect("TLS handshake");
            tls.write_all(request.as_bytes()).await.unwrap();
            let mut out = Vec::new();
            let _ = tls.read_to_end(&mut out).await;
            String::from_utf8_lossy(&out).to_string()
        }
    };
    let health =
        https("GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".into())
            .await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains(r#""status":"ok""#), "{health}");
    let login =
        https("GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".into()).await;
    let cookie = login
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("a login cookie: {login}"));
    assert!(
        cookie.contains("; Secure"),
        "cookies are Secure under TLS: {cookie}"
    );

    // Plain HTTP on the TLS port gets no HTTP answer.
    let plain = blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = s.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        out
    })
    .await;
    assert!(
        !plain.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&plain)
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_directory_is_read_once_and_autonomy_switches_reach_the_engine() {
    use std::sync::atomic::Ordering;
    let dir = tempfile::tempdir().unwrap();
    let (tenant_dir, _) = tenant(dir.path());
    let data = dir.path().join("data");
    let watched = dir.path().join("incoming");
    std::fs::create_dir_all(&watched).unwrap();
    let mut cfg = config(&data);
    cfg.watch = Some(watched.clone());
    cfg.watch_every = Duration::from_millis(200);
    let server = vigil_server::start(cfg.clone()).await.unwrap();
    let addr = server.addr;
    let model = "SaaS / Access / Suspicious Login User-Agent";

    // Before any log arrives, an admin makes one model autonomous.
    blocking(move || {
        let admin = login(addr, "admin", ADMIN_PASSWORD).unwrap_or_else(|r| panic!("{}", r.body));
        let h = [
            ("Cookie", admin.cookie.as_str()),
            ("X-CSRF-Token", admin.csrf.as_str()),
        ];
        let path = format!("/api/v1/models/{}", url_encode(model));
        let r = post_json(addr, &path, &h, &json!({"autonomy": "autonomous"}));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["autonomy"], "autonomous");
    })
    .await;

    // The tenant's logs land in the watched directory.
    std::fs::rename(&tenant_dir, watched.join("tenant")).unwrap();
    let files = vigil_sources::collect_files(std::slice::from_ref(&watched))
        .unwrap()
        .len();
    let deadline = std::time::Instant::now() + Duration::from_secs(240);
    loop {
        let done = server.state.store.checkpoints().unwrap().len();
        if done == files && !server.state.ingest.busy.load(Ordering::Relaxed) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{done} of {files} files read in time"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(server.state.ingest.events.load(Ordering::Relaxed) > 10_000);
    let actions = server.state.store.actions(None, None).unwrap();
    let (switched, others): (Vec<_>, Vec<_>) = actions.iter().partition(|a| a.model == model);
    assert!(!switched.is_empty(), "the switched model planned actions");
    assert!(
        switched.iter().all(|a| a.action.state == "planned"
            && a.action.mode == vigil_report::ActionMode::Autonomous),
        "taken autonomously: {switched:?}"
    );
    assert!(
        others.iter().any(|a| a.action.state == "pending"),
        "the others still wait for an analyst"
    );
    let counts = server.state.store.counts().unwrap();
    server.shutdown().await.unwrap();

    // After a restart the watcher finds every file checkpointed and reads none again.
    let server = vigil_server::start(cfg).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        server.state.ingest.jobs.load(Ordering::Relaxed),
        0,
        "no file read twice"
    );
    assert_eq!(server.state.store.counts().unwrap(), counts);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_actions_expire_when_nobody_decides_within_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let (tenant_dir, _) = tenant(dir.path());
    let mut cfg = config(&dir.path().join("data"));
    cfg.confirm_window = Some(Duration::from_millis(300));
    let server = vigil_server::start(cfg).await.unwrap();
    ingest(&server, &tenant_dir).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let actions = server.state.store.actions(None, None).unwrap();
        assert!(!actions.is_empty());
        if actions.iter().all(|a| a.action.state != "pending") {
            let expired: Vec<_> = actions
                .iter()
                .filter(|a| a.action.state == "expired")
                .collect();
            assert!(
                !expired.is_empty(),
                "confirm mode planned pending actions, now expired"
            );
            assert!(expired
                .iter()
                .all(|a| a.decided_by.as_deref() == Some("vigil")));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "pending actions expired in time"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = server.state.store.decisions(None, 100).unwrap();
    assert!(log
        .iter()
        .any(|d| d.user == "vigil" && d.decision == "expire"));
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posted_body_left_unread_by_a_stop_is_read_at_the_next_start() {
    use std::sync::atomic::Ordering;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let spool = data.join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    let left = spool.join("post-1-0.jsonl");
    std::fs::write(&left, GOOD_AND_BAD_LINES).unwrap();
    let server = vigil_server::start(config(&data)).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while left.exists() || server.state.ingest.jobs.load(Ordering::Relaxed) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the left-over body was read"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(server.state.ingest.events.load(Ordering::Relaxed), 2);
    assert_eq!(server.state.ingest.rejected.load(Ordering::Relaxed), 1);
    server.shutdown().await.unwrap();
}
