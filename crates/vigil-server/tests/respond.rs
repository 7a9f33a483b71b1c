//! `vigil serve` acting: with `[respond]` pointing at the Microsoft 365 stand-in (on a loopback
//! port, started here), the reference attack posted to the API is contained through Graph in
//! autonomous mode, waits for an analyst in confirm mode, and a persistent Graph failure ends as
//! a `failed` action with its reason in the API and on the incident page.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;
use vigil_m365_standin::{ClientCredential, Fault, Route, StandIn, StandInConfig};
use vigil_report::ActionMode;
use vigil_server::{RespondSettings, Running, ServerConfig};

struct Reply {
    status: u16,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }
}

/// One request per connection; the server answers `Connection: close`, unchunked enough for
/// these checks (chunked bodies are decoded).
fn request(addr: SocketAddr, method: &str, path: &str, token: &str, body: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
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
        body: String::from_utf8_lossy(&body).to_string(),
    }
}

/// The reference tenant split at the attack: the history as one file for ingest, the attack's
/// records (from six hours before the first malicious login to the end) as a JSON-lines body
/// to post, both in event-time order with every stream mixed, as a SIEM forwards them.
struct Attack {
    history: std::path::PathBuf,
    body: Vec<u8>,
    a: String,
    compromised: Vec<String>,
}

fn attack(dir: &Path) -> Attack {
    let tenant = dir.join("tenant");
    let sim = vigil_sim::SimConfig {
        accounts: 60,
        days: 10,
        seed: 5,
        attacks: vec![vigil_sim::AttackSpec {
            kind: vigil_sim::AttackKind::ReferenceChain,
            day: Some(8),
        }],
        ..Default::default()
    };
    vigil_sim::simulate(&sim, &tenant, &|_| {}).unwrap();
    let truth = vigil_sim::load_truth(&tenant.join("truth.json")).unwrap();
    let attack = truth.attacks.into_iter().next().unwrap();
    let (a, first_login) = attack
        .first_malicious
        .iter()
        .min_by_key(|(_, t)| **t)
        .map(|(a, t)| (a.to_ascii_lowercase(), *t))
        .unwrap();
    let mut records: Vec<(DateTime<Utc>, Value)> = Vec::new();
    let files = |sub: &str| {
        let mut v: Vec<_> = std::fs::read_dir(tenant.join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };
    let time_of = |v: &Value| {
        ["CreationTime", "createdDateTime", "Received"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str))
            .and_then(vigil_m365_standin::parse_time)
    };
    let mut add = |values: Vec<Value>| {
        for v in values {
            if let Some(t) = time_of(&v) {
                records.push((t, v));
            }
        }
    };
    for f in files("audit").into_iter().chain(files("messagetrace")) {
        add(serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap());
    }
    for f in files("signins") {
        add(vigil_m365_standin::sign_ins_of_file(
            &std::fs::read_to_string(&f).unwrap(),
        ));
    }
    records.sort_by_key(|(t, _)| *t);
    let cut = first_login - chrono::Duration::hours(6);
    let mut history = String::new();
    let mut body = String::new();
    for (t, v) in &records {
        let out = if *t < cut { &mut history } else { &mut body };
        out.push_str(&v.to_string());
        out.push('\n');
    }
    let history_file = dir.join("history.jsonl");
    std::fs::write(&history_file, history).unwrap();
    Attack {
        history: history_file,
        body: body.into_bytes(),
        a,
        compromised: attack.compromised,
    }
}

fn respond_settings(standin: &StandIn) -> RespondSettings {
    let c = standin.config();
    let ClientCredential::Secret(secret) = &c.credential else {
        unreachable!()
    };
    let credentials = vigil_collect::CredentialsConfig {
        tenant_id: Some(c.tenant_id.clone()),
        client_id: Some(c.client_id.clone()),
        client_secret: Some(secret.clone()),
        ..Default::default()
    };
    let config = vigil_respond::RespondConfig {
        max_attempts: 3,
        retry_base_delay_ms: 20,
        retry_max_delay_ms: 50,
        ..Default::default()
    };
    RespondSettings::new(
        config,
        vigil_collect::Endpoints::all_at(&standin.base_url()),
        credentials,
    )
}

fn server_config(data: &Path, mode: ActionMode, standin: &StandIn) -> ServerConfig {
    let mut c = ServerConfig::new(data.to_path_buf());
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.admin_password = Some("correct-horse-battery".into());
    let ip = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/ip");
    c.enrich.country_mmdb = Some(ip.join("geo-whois-asn-country.mmdb"));
    c.enrich.asn_csv = vec![ip.join("asn-ipv4.csv"), ip.join("asn-ipv6.csv")];
    c.engine.response.mode = mode;
    c.respond = Some(respond_settings(standin));
    c
}

/// An analyst's API token, made in the store as an admin would.
fn analyst_token(server: &Running) -> String {
    let token = vigil_server::auth::random_token(16);
    server
        .state
        .store
        .create_token(
            "soc",
            vigil_store::Role::Analyst,
            &vigil_server::auth::token_hash(&token),
            "admin",
        )
        .unwrap();
    token
}

/// Starts the stand-in (knowing the compromised accounts) and the server, ingests the history
/// and posts the attack. Returns the disable_user action on A as the API shows it.
async fn serve_and_post_attack(
    dir: &Path,
    mode: ActionMode,
    before_post: impl FnOnce(&StandIn),
) -> (StandIn, Running, String, Attack, Value) {
    let attack = attack(dir);
    let standin = StandIn::start(StandInConfig::default()).await.unwrap();
    for acct in &attack.compromised {
        standin.add_user(acct);
    }
    let server = vigil_server::start(server_config(&dir.join("data"), mode, &standin))
        .await
        .unwrap();
    assert!(server.state.responder.is_some(), "response connected");
    server
        .ingest_files(vec![attack.history.clone()])
        .await
        .unwrap()
        .await
        .unwrap()
        .expect("history ingested");
    before_post(&standin);
    let token = analyst_token(&server);
    let addr = server.addr;
    let (t, body) = (token.clone(), attack.body.clone());
    let posted =
        tokio::task::spawn_blocking(move || request(addr, "POST", "/api/v1/events", &t, &body))
            .await
            .unwrap();
    assert_eq!(posted.status, 200, "{}", posted.body);
    let report = posted.json();
    assert_eq!(report["rejected"], 0, "{report}");
    assert!(report["breaches"].as_u64().unwrap() > 0, "{report}");
    let a = attack.a.clone();
    let (t, action) = (token.clone(), a.clone());
    let action = tokio::task::spawn_blocking(move || {
        let all = request(addr, "GET", "/api/v1/actions", &t, b"").json();
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["kind"] == "disable_user" && x["target"] == action.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("a disable_user action on {action}: {all}"))
    })
    .await
    .unwrap();
    (standin, server, token, attack, action)
}

/// Polls the action until its state is `want` (or 30 s pass).
async fn wait_for_state(addr: SocketAddr, token: &str, id: &str, want: &str) -> Value {
    let started = Instant::now();
    loop {
        let (t, path) = (token.to_string(), format!("/api/v1/actions/{id}"));
        let a = tokio::task::spawn_blocking(move || request(addr, "GET", &path, &t, b"").json())
            .await
            .unwrap();
        if a["state"] == want {
            return a;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "action {id} never became {want}: {a}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A store holding one `disable_user` action "a1" of incident "i1" on `user`, as detection
/// would have left it.
fn seed_disable_user(
    data: &Path,
    user: &str,
    t: chrono::DateTime<Utc>,
    mode: ActionMode,
    state: &str,
    expires: chrono::DateTime<Utc>,
) -> vigil_store::SqliteStore {
    use vigil_store::Store;
    let store = vigil_store::SqliteStore::open(&data.join("vigil.db")).unwrap();
    store
        .apply(&vigil_store::IngestBatch {
            actions: vec![vigil_store::PlannedActionRow {
                action: vigil_report::Action {
                    id: "a1".into(),
                    kind: "disable_user".into(),
                    target: user.into(),
                    time: t,
                    mode,
                    state: state.into(),
                    incident_id: "i1".into(),
                },
                breach_id: "b1".into(),
                model: "m".into(),
                expires,
            }],
            ..Default::default()
        })
        .unwrap();
    store
}

fn disable_patches(standin: &StandIn, user: &str) -> Vec<Value> {
    standin
        .mutations()
        .into_iter()
        .filter(|m| {
            m.method == "PATCH" && m.path.eq_ignore_ascii_case(&format!("/v1.0/users/{user}"))
        })
        .map(|m| m.body)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autonomous_mode_disables_the_account_through_graph_and_records_the_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let (standin, server, token, attack, action) =
        serve_and_post_attack(dir.path(), ActionMode::Autonomous, |_| {}).await;
    assert_eq!(action["mode"], "autonomous", "{action}");
    let addr = server.addr;
    let health =
        tokio::task::spawn_blocking(move || request(addr, "GET", "/api/v1/health", "-", b""))
            .await
            .unwrap();
    assert_eq!(health.json()["response"], "connected");
    let id = action["id"].as_str().unwrap().to_string();
    let done = wait_for_state(server.addr, &token, &id, "executed").await;
    let patches = disable_patches(&standin, &attack.a);
    assert_eq!(
        patches,
        vec![serde_json::json!({"accountEnabled": false})],
        "one PATCH of A's account"
    );
    assert_eq!(standin.user_enabled(&attack.a), Some(false));
    let attempts = done["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "{done}");
    assert_eq!(attempts[0]["result"], "succeeded");
    assert_eq!(attempts[0]["operation"], "execute");
    assert_eq!(attempts[0]["attempt"], 1);
    assert!(
        done["outcome"].as_str().unwrap().contains("disabled"),
        "{done}"
    );
    // Detection running again (a re-post is all duplicates) does not take the state back.
    let addr = server.addr;
    let (t, body) = (token.clone(), attack.body.clone());
    tokio::task::spawn_blocking(move || request(addr, "POST", "/api/v1/events", &t, &body))
        .await
        .unwrap();
    let again = wait_for_state(addr, &token, &id, "executed").await;
    assert_eq!(again["attempts"].as_array().unwrap().len(), 1);
    // The console shows it executed, with its attempt.
    let (t, path) = (token.clone(), "/actions".to_string());
    let page = tokio::task::spawn_blocking(move || request(addr, "GET", &path, &t, b""))
        .await
        .unwrap();
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Response connected"), "{}", page.body);
    assert!(
        page.body
            .contains(&format!("id=\"action-{id}\" data-state=\"executed\"")),
        "{}",
        page.body
    );
    assert!(page.body.contains("execute #1"), "{}", page.body);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirm_mode_sends_nothing_until_an_analyst_confirms() {
    let dir = tempfile::tempdir().unwrap();
    let (standin, server, token, attack, action) =
        serve_and_post_attack(dir.path(), ActionMode::Confirm, |_| {}).await;
    assert_eq!(action["state"], "pending", "{action}");
    let id = action["id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        standin.mutations().is_empty(),
        "nothing is changed before a decision: {:?}",
        standin.mutations()
    );
    assert_eq!(standin.user_enabled(&attack.a), Some(true));
    let addr = server.addr;
    let (t, path) = (token.clone(), format!("/api/v1/actions/{id}/confirm"));
    let confirmed = tokio::task::spawn_blocking(move || request(addr, "POST", &path, &t, b"{}"))
        .await
        .unwrap();
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert_eq!(confirmed.json()["decided_by"], "token:soc");
    let done = wait_for_state(addr, &token, &id, "executed").await;
    assert_eq!(done["decided_by"], "token:soc", "the decision is kept");
    assert_eq!(
        disable_patches(&standin, &attack.a),
        vec![serde_json::json!({"accountEnabled": false})]
    );
    assert_eq!(standin.user_enabled(&attack.a), Some(false));
    assert_eq!(done["attempts"][0]["result"], "succeeded");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistent_graph_failure_ends_failed_with_its_reason_in_the_api_and_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let (standin, server, token, attack, action) =
        serve_and_post_attack(dir.path(), ActionMode::Autonomous, |s| {
            s.fail_next(Route::GraphObjects, Fault::InternalError, 10_000)
        })
        .await;
    let id = action["id"].as_str().unwrap().to_string();
    let failed = wait_for_state(server.addr, &token, &id, "failed").await;
    assert!(disable_patches(&standin, &attack.a).is_empty());
    assert_eq!(standin.user_enabled(&attack.a), Some(true));
    let reason = failed["outcome"].as_str().unwrap().to_string();
    assert!(reason.contains("gave up after 3 attempts"), "{failed}");
    let attempts = failed["attempts"].as_array().unwrap();
    let results: Vec<&str> = attempts
        .iter()
        .map(|a| a["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["will_retry", "will_retry", "failed"], "{failed}");
    assert!(attempts.iter().all(|a| a["http_status"] == 500), "{failed}");
    let addr = server.addr;
    let t = token.clone();
    let metrics = tokio::task::spawn_blocking(move || request(addr, "GET", "/metrics", &t, b""))
        .await
        .unwrap();
    let failed_gauge: f64 = metrics
        .body
        .lines()
        .find_map(|l| l.strip_prefix("vigil_actions_failed "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{}", metrics.body));
    assert!(failed_gauge >= 1.0, "{}", metrics.body);
    let incident = failed["incident_id"].as_str().unwrap().to_string();
    let (t, path) = (token.clone(), format!("/incidents/{incident}"));
    let page = tokio::task::spawn_blocking(move || request(addr, "GET", &path, &t, b""))
        .await
        .unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains(&format!("id=\"action-{id}\" data-state=\"failed\"")),
        "{}",
        page.body
    );
    let marked = page
        .body
        .split(&format!("data-failure=\"{id}\""))
        .nth(1)
        .expect("the failure is marked on the incident page");
    assert!(
        marked[..600.min(marked.len())].contains("gave up after 3 attempts"),
        "{marked}"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_a_stop_interrupted_while_executing_is_executed_at_the_next_start() {
    use vigil_store::Store;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let user = "a@contoso.example";
    {
        // What a stop leaves: the action claimed by the executors, nothing sent yet.
        let t = Utc::now();
        let store = seed_disable_user(
            &data,
            user,
            t,
            ActionMode::Autonomous,
            "planned",
            t + chrono::Duration::hours(4),
        );
        assert!(store.claim_action("a1", &["planned"], t).unwrap());
    }
    let standin = StandIn::start(StandInConfig::default()).await.unwrap();
    standin.add_user(user);
    let server = vigil_server::start(server_config(&data, ActionMode::Autonomous, &standin))
        .await
        .unwrap();
    let token = analyst_token(&server);
    let done = wait_for_state(server.addr, &token, "a1", "executed").await;
    assert_eq!(standin.user_enabled(user), Some(false));
    assert_eq!(disable_patches(&standin, user).len(), 1);
    assert_eq!(done["attempts"].as_array().unwrap().len(), 1, "{done}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmed_reversible_action_is_undone_when_its_duration_is_over() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let user = "b@contoso.example";
    let t = Utc::now();
    seed_disable_user(
        &data,
        user,
        t,
        ActionMode::Confirm,
        "pending",
        t + chrono::Duration::seconds(2),
    );
    let standin = StandIn::start(StandInConfig::default()).await.unwrap();
    standin.add_user(user);
    let mut cfg = server_config(&data, ActionMode::Confirm, &standin);
    if let Some(r) = cfg.respond.as_mut() {
        r.undo_every = Duration::from_millis(100);
    }
    let server = vigil_server::start(cfg).await.unwrap();
    let token = analyst_token(&server);
    let addr = server.addr;
    let t = token.clone();
    let confirmed = tokio::task::spawn_blocking(move || {
        request(addr, "POST", "/api/v1/actions/a1/confirm", &t, b"{}")
    })
    .await
    .unwrap();
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    wait_for_state(addr, &token, "a1", "executed").await;
    assert_eq!(standin.user_enabled(user), Some(false));
    let undone = wait_for_state(addr, &token, "a1", "undone").await;
    assert_eq!(standin.user_enabled(user), Some(true), "enabled again");
    assert_eq!(
        disable_patches(&standin, user),
        vec![
            serde_json::json!({"accountEnabled": false}),
            serde_json::json!({"accountEnabled": true})
        ]
    );
    let ops: Vec<(&str, &str)> = undone["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["operation"].as_str().unwrap(),
                a["result"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ops,
        [("execute", "succeeded"), ("undo", "succeeded")],
        "{undone}"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_right_after_a_confirmation_finishes_the_execution_and_stores_it() {
    use vigil_store::Store;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let user = "c@contoso.example";
    let t = Utc::now();
    seed_disable_user(
        &data,
        user,
        t,
        ActionMode::Confirm,
        "pending",
        t + chrono::Duration::hours(4),
    );
    let standin = StandIn::start(StandInConfig::default()).await.unwrap();
    standin.add_user(user);
    // The first two attempts fail: the execution is still retrying when the stop comes.
    standin.fail_next(Route::GraphObjects, Fault::Unavailable, 2);
    let server = vigil_server::start(server_config(&data, ActionMode::Confirm, &standin))
        .await
        .unwrap();
    let token = analyst_token(&server);
    let addr = server.addr;
    let confirmed = tokio::task::spawn_blocking(move || {
        request(addr, "POST", "/api/v1/actions/a1/confirm", &token, b"{}")
    })
    .await
    .unwrap();
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    server.shutdown().await.unwrap();
    assert_eq!(standin.user_enabled(user), Some(false));
    let store = vigil_store::SqliteStore::open(&data.join("vigil.db")).unwrap();
    let a = store.action("a1").unwrap().unwrap();
    assert_eq!(a.action.state, "executed", "{a:?}");
    let results: Vec<&str> = a.attempts.iter().map(|x| x.result.as_str()).collect();
    assert_eq!(results, ["will_retry", "will_retry", "succeeded"], "{a:?}");
}
