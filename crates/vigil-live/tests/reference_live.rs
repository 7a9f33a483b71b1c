//! End to end, live: a simulated tenant's history and then the reference attack's first login
//! arrive through the collectors from the Microsoft 365 stand-in; the engine (global mode
//! autonomous) detects the login and the executor disables account A through Graph within one
//! second of the login record's arrival at the collector.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use vigil_report::ActionMode;
use vigil_respond::ActionStatus;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_attack_arrives_live_and_account_a_is_disabled_within_a_second() {
    let s = scenario();
    let svc = Service::start(&s).await;
    let state_dir = s.scratch.path().join("state");
    let mut live = svc.live(s.truth.start, &state_dir, Default::default(), 60);
    let a = s.a.clone();

    // History: each day's records appear at the day's end, up to the instant before the login.
    feed_days(
        &svc,
        &s.tenant,
        &mut live,
        s.truth.start,
        s.first_login,
        |_| {},
    )
    .await;
    let history_events = live.stats().events;
    assert!(history_events > 10_000, "{:?}", live.stats());
    assert_eq!(
        svc.standin.user_enabled(&a),
        Some(true),
        "A not touched before the attack"
    );
    assert!(live
        .action_traces()
        .iter()
        .all(|t| !s.compromised.contains(&t.target)));

    // The attacker's first login as A: its audit record and its Entra sign-in appear.
    let login_end = s.first_login + chrono::Duration::seconds(1);
    let mine = |v: &[Rec]| -> Vec<Value> {
        v.iter()
            .filter(|r| r.time >= s.first_login && r.time < login_end && r.user == a)
            .map(|r| r.value.clone())
            .collect()
    };
    svc.set_now(s.first_login + chrono::Duration::seconds(2));
    let mut login_records = 0;
    for (ct, recs) in &s.tenant.audit {
        let records = mine(recs);
        if !records.is_empty() {
            login_records += records.len();
            svc.standin.publish_blob(ct, &records);
        }
    }
    let sign_ins = mine(&s.tenant.sign_ins);
    login_records += sign_ins.len();
    svc.standin.add_sign_ins(sign_ins);
    assert!(login_records >= 1, "the login is in the simulated logs");
    let published = Instant::now();

    // Poll as `vigil collect` would, every 100 ms, until A is disabled.
    let deadline = published + Duration::from_secs(10);
    while svc.standin.user_enabled(&a) != Some(false) {
        assert!(
            Instant::now() < deadline,
            "A was not disabled within 10 s; actions: {:?}",
            live.action_traces()
        );
        live.poll_once().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let patch = svc
        .standin
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
    assert_eq!(planned.time, s.first_login);
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
    let metrics = std::fs::read_to_string(state_dir.join("metrics.prom")).unwrap();
    assert!(
        metrics.contains("vigil_actions_dispatched_total "),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"vigil_collect_lag_seconds{source="management_activity",stream="Audit.AzureActiveDirectory"}"#),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_confirm_mode_the_same_login_waits_for_an_analyst() {
    let s = scenario();
    let svc = Service::start(&s).await;
    let state_dir = s.scratch.path().join("state");
    let mut live = svc.live_with_mode(
        s.truth.start,
        &state_dir,
        Default::default(),
        60,
        ActionMode::Confirm,
    );
    let through_login = s.first_login + chrono::Duration::seconds(1);
    feed_days(
        &svc,
        &s.tenant,
        &mut live,
        s.truth.start,
        through_login,
        |_| {},
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pending = live
        .engine()
        .actions_detailed()
        .into_iter()
        .find(|p| p.kind == "disable_user" && p.target == s.a)
        .expect("containment of A planned at the login");
    assert_eq!(pending.mode, ActionMode::Confirm);
    assert_eq!(pending.state, "pending");
    assert!(live.stats().actions_pending_confirmation >= 1);
    assert_eq!(live.stats().actions_dispatched, 0);
    assert_eq!(svc.standin.user_enabled(&s.a), Some(true));
    assert!(
        svc.standin.mutations().is_empty(),
        "nothing changed in the tenant"
    );

    // The analyst confirms (what the console will do): the executor carries it out.
    let exec = live.executor().unwrap().clone();
    let status = exec
        .execute(vigil_respond::ActionRequest::from_planned(&pending).unwrap())
        .await;
    assert_eq!(status, ActionStatus::Executed);
    assert_eq!(svc.standin.user_enabled(&s.a), Some(false));
}
