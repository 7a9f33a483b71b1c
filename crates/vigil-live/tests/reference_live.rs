//! End to end, live: a simulated tenant's history and then the reference attack's first login
//! arrive through the collectors from the Microsoft 365 stand-in; the engine (global mode
//! autonomous) detects the login and the executor disables account A through Graph within one
//! second of the login record's arrival at the collector.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;
use vigil_collect::client::{Credentials, RetryPolicy, TokenSource};
use vigil_collect::Clock;
use vigil_live::{CollectConfig, Live, LiveSettings};
use vigil_m365_standin::{
    content_type_of_file, parse_time, sign_ins_of_file, ClientCredential, StandIn, StandInConfig,
};
use vigil_report::ActionMode;
use vigil_respond::ActionStatus;

fn enricher() -> vigil_enrich::Enricher {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut cfg = vigil_enrich::EnrichConfig::default();
    cfg.resolve_defaults();
    if cfg.country_mmdb.is_none() {
        let mmdb = repo.join("data/ip").join(vigil_enrich::COUNTRY_MMDB_FILE);
        assert!(
            mmdb.is_file(),
            "no IP data in data/ip: run scripts/fetch-ip-data.sh (detection needs countries and ASNs)"
        );
        cfg.country_mmdb = Some(mmdb);
        cfg.asn_csv = vigil_enrich::ASN_CSV_FILES
            .iter()
            .map(|f| repo.join("data/ip").join(f))
            .filter(|p| p.is_file())
            .collect();
    }
    vigil_enrich::Enricher::load(&cfg).unwrap()
}

/// A simulated record with its time and the account it is about.
struct Rec {
    time: DateTime<Utc>,
    user: String,
    value: Value,
}

fn record_time(v: &Value) -> Option<DateTime<Utc>> {
    ["CreationTime", "createdDateTime", "Received"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .and_then(parse_time)
}

fn record_user(v: &Value) -> String {
    ["UserId", "userPrincipalName", "SenderAddress"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn recs(values: Vec<Value>) -> Vec<Rec> {
    values
        .into_iter()
        .filter_map(|value| {
            Some(Rec {
                time: record_time(&value)?,
                user: record_user(&value),
                value,
            })
        })
        .collect()
}

/// The tenant's records by stream: audit per content type, sign-ins, message trace.
struct Tenant {
    audit: BTreeMap<&'static str, Vec<Rec>>,
    sign_ins: Vec<Rec>,
    trace: Vec<Rec>,
}

fn read_tenant(dir: &Path) -> Tenant {
    let mut t = Tenant {
        audit: BTreeMap::new(),
        sign_ins: Vec::new(),
        trace: Vec::new(),
    };
    let files = |sub: &str| {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };
    for f in files("audit") {
        let name = f.file_name().unwrap().to_str().unwrap().to_string();
        let ct = content_type_of_file(&name).unwrap_or_else(|| panic!("content type of {name}"));
        let values: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        t.audit.entry(ct).or_default().extend(recs(values));
    }
    for f in files("signins") {
        t.sign_ins.extend(recs(sign_ins_of_file(
            &std::fs::read_to_string(&f).unwrap(),
        )));
    }
    for f in files("messagetrace") {
        let values: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        t.trace.extend(recs(values));
    }
    t
}

fn in_range(v: &[Rec], from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Value> {
    v.iter()
        .filter(|r| r.time >= from && r.time < to)
        .map(|r| r.value.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_attack_arrives_live_and_account_a_is_disabled_within_a_second() {
    // A tenant with the reference attack on day 8 of 10, as in vigil-eval's end-to-end test.
    let scratch = tempfile::tempdir().unwrap();
    let tenant_dir = scratch.path().join("tenant");
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
    vigil_sim::simulate(&sim, &tenant_dir, &|_| {}).unwrap();
    let truth = vigil_sim::load_truth(&tenant_dir.join("truth.json")).unwrap();
    let attack = truth
        .attacks
        .iter()
        .find(|a| a.kind == vigil_sim::AttackKind::ReferenceChain)
        .unwrap();
    let (a, first_login) = attack
        .first_malicious
        .iter()
        .min_by_key(|(_, t)| **t)
        .map(|(a, t)| (a.to_ascii_lowercase(), *t))
        .unwrap();
    let tenant = read_tenant(&tenant_dir);

    // The stand-in, knowing the three accounts the attacker will take.
    let standin = StandIn::start(StandInConfig::default()).await.unwrap();
    for acct in &attack.compromised {
        standin.add_user(acct);
    }
    let clock = Clock::default();
    let set_now = |t: DateTime<Utc>| {
        clock.set_now(t);
        standin.set_now(t);
    };
    let start = truth.start;
    set_now(start);

    let ClientCredential::Secret(secret) = &standin.config().credential else {
        unreachable!()
    };
    let tokens = Arc::new(TokenSource::new(
        vigil_collect::client::http_client(),
        &standin.base_url(),
        Credentials::with_secret(
            &standin.config().tenant_id,
            &standin.config().client_id,
            secret,
        ),
    ));
    let retry = RetryPolicy {
        base_delay_ms: 50,
        max_delay_ms: 500,
        ..Default::default()
    };
    let mut collect = CollectConfig {
        endpoints: vigil_collect::Endpoints::all_at(&standin.base_url()),
        ..Default::default()
    };
    collect.management.content_types = vigil_m365_standin::CONTENT_TYPES[..4]
        .iter()
        .map(|s| s.to_string())
        .collect();
    collect.management.retry = retry.clone();
    collect.sign_ins.start = Some(start);
    collect.sign_ins.window_minutes = 24 * 60;
    collect.sign_ins.retry = retry.clone();
    collect.message_trace.enabled = true;
    collect.message_trace.start = Some(start);
    collect.message_trace.window_minutes = 24 * 60;
    collect.message_trace.settle_minutes = 0;
    collect.message_trace.retry = retry;
    let mut engine = vigil_engine::EngineConfig::default();
    engine.response.mode = ActionMode::Autonomous;
    let state_dir = scratch.path().join("state");
    let mut live = Live::with_tokens(
        LiveSettings {
            collect,
            respond: vigil_respond::RespondConfig {
                retry_base_delay_ms: 50,
                ..Default::default()
            },
            export: Default::default(),
            ingest: Default::default(),
            engine,
            enricher: Arc::new(enricher()),
            state_dir: state_dir.clone(),
            clock: clock.clone(),
            attempt_sink: None,
        },
        tokens,
    )
    .unwrap();

    // History: each day's records appear at the day's end, up to the instant before the login.
    let publish = |from: DateTime<Utc>, to: DateTime<Utc>| {
        for (ct, recs) in &tenant.audit {
            let records = in_range(recs, from, to);
            if !records.is_empty() {
                standin.publish_blob(ct, &records);
            }
        }
        standin.add_sign_ins(in_range(&tenant.sign_ins, from, to));
        standin.add_message_trace(in_range(&tenant.trace, from, to));
    };
    let mut day_start = start;
    while day_start < first_login {
        let day_end = (day_start + chrono::Duration::days(1)).min(first_login);
        set_now(day_end);
        publish(day_start, day_end);
        loop {
            let report = live.poll_once().await;
            assert!(report.errors.is_empty(), "{:?}", report.errors);
            if report.records == 0 {
                break;
            }
        }
        day_start = day_end;
    }
    let history_events = live.stats().events;
    assert!(history_events > 10_000, "{:?}", live.stats());
    assert_eq!(
        standin.user_enabled(&a),
        Some(true),
        "A not touched before the attack"
    );
    assert!(live
        .action_traces()
        .iter()
        .all(|t| t.target != a && !attack.compromised.contains(&t.target)));

    // The attacker's first login as A: its audit record and its Entra sign-in appear.
    let login_end = first_login + chrono::Duration::seconds(1);
    let mine = |v: &[Rec]| -> Vec<Value> {
        v.iter()
            .filter(|r| r.time >= first_login && r.time < login_end && r.user == a)
            .map(|r| r.value.clone())
            .collect()
    };
    set_now(first_login + chrono::Duration::seconds(2));
    let mut login_records = 0;
    for (ct, recs) in &tenant.audit {
        let records = mine(recs);
        if !records.is_empty() {
            login_records += records.len();
            standin.publish_blob(ct, &records);
        }
    }
    let sign_ins = mine(&tenant.sign_ins);
    login_records += sign_ins.len();
    standin.add_sign_ins(sign_ins);
    assert!(login_records >= 1, "the login is in the simulated logs");
    let published = Instant::now();

    // Poll as `vigil collect` would, every 100 ms, until A is disabled.
    let deadline = published + Duration::from_secs(10);
    while standin.user_enabled(&a) != Some(false) {
        assert!(
            Instant::now() < deadline,
            "A was not disabled within 10 s; actions: {:?}",
            live.action_traces()
        );
        live.poll_once().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let patch = standin
        .mutations()
        .into_iter()
        .find(|m| m.method == "PATCH" && m.path.eq_ignore_ascii_case(&format!("/v1.0/users/{a}")))
        .expect("the disable went through Graph");
    assert_eq!(patch.body["accountEnabled"], false);
    let trace = live
        .action_traces()
        .into_iter()
        .find(|t| t.kind == "disable_user" && t.target == a)
        .expect("the disable was dispatched by the live loop");
    let latency = patch.at.duration_since(trace.record_arrived);
    eprintln!(
        "A disabled {:.0} ms after the login record reached the collector ({:.0} ms after it was published, polling every 100 ms); {} history events",
        latency.as_secs_f64() * 1000.0,
        patch.at.duration_since(published).as_secs_f64() * 1000.0,
        history_events
    );
    assert!(
        latency < Duration::from_secs(1),
        "disabled {latency:?} after arrival"
    );

    // The action is the engine's autonomous containment of the login, recorded as executed.
    let planned = live
        .engine()
        .actions_detailed()
        .into_iter()
        .find(|p| p.id == trace.action_id)
        .unwrap();
    assert_eq!(planned.mode, ActionMode::Autonomous);
    assert_eq!(planned.time, first_login);
    live.shutdown().await;
    let record = live
        .executor()
        .unwrap()
        .record(&trace.action_id)
        .await
        .unwrap();
    assert_eq!(record.status, ActionStatus::Executed);
    assert!(state_dir.join("engine.snapshot.json").is_file());
    assert!(state_dir.join("checkpoint-management.json").is_file());
    assert!(state_dir.join("action-attempts.jsonl").is_file());
}
