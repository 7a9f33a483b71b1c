//! The SQLite store against its contract: upserts by id, decisions kept, restart loses nothing.

use chrono::{TimeZone, Utc};
use vigil_report::{Action, ActionMode, Breach, Incident};
use vigil_store::*;

fn t(h: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 2, 1, h, 0, 0).unwrap()
}

fn breach(id: &str, score: f64) -> Breach {
    Breach {
        id: id.into(),
        model: "SaaS / Access / Suspicious Login User-Agent".into(),
        score,
        time: t(4),
        entity: "a@contoso.com".into(),
        event_ids: vec!["e1".into()],
        reason: "legacy basic authentication from a new country".into(),
        metrics: Default::default(),
    }
}

fn incident(id: &str, score: f64, breaches: &[&str]) -> Incident {
    Incident {
        id: id.into(),
        title: format!("Account compromise {id}"),
        score,
        start: t(4),
        end: t(15),
        entities: vec!["a@contoso.com".into()],
        breach_ids: breaches.iter().map(|b| b.to_string()).collect(),
        summary: "one account".into(),
    }
}

fn action(id: &str, incident: &str) -> PlannedActionRow {
    PlannedActionRow {
        action: Action {
            id: id.into(),
            kind: "disable_user".into(),
            target: "a@contoso.com".into(),
            time: t(4),
            mode: ActionMode::Confirm,
            state: "pending".into(),
            incident_id: incident.into(),
        },
        breach_id: "b1".into(),
        model: "m".into(),
        expires: t(10),
    }
}

fn batch() -> IngestBatch {
    IngestBatch {
        breaches: vec![breach("b1", 70.0), breach("b2", 50.0)],
        incidents: vec![(
            incident("i1", 90.0, &["b1", "b2"]),
            serde_json::json!({"ips": ["198.51.100.7"], "timeline": []}),
        )],
        actions: vec![action("a1", "i1")],
        snapshot: Some(Snapshot {
            at: t(16),
            events: 42,
            bytes: b"engine".to_vec(),
        }),
        checkpoints: vec![Checkpoint {
            source: "/logs/a.json".into(),
            size: 10,
            modified: 5,
            at: t(16),
        }],
        ..Default::default()
    }
}

#[test]
fn applying_the_same_findings_twice_stores_them_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("vigil.db")).unwrap();
    store.apply(&batch()).unwrap();
    store.apply(&batch()).unwrap();
    let c = store.counts().unwrap();
    assert_eq!(
        (c.incidents, c.breaches, c.actions, c.actions_pending),
        (1, 2, 1, 1)
    );
    let page = store.incidents(&IncidentFilter::default()).unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].breaches, 2);
    assert_eq!(page.items[0].pending_actions, 1);
}

#[test]
fn a_decision_survives_detection_replanning_and_a_second_decision_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("vigil.db")).unwrap();
    store.apply(&batch()).unwrap();
    let decided = store
        .decide_action("a1", ActionDecision::Confirm, "alice", t(17), "contain")
        .unwrap();
    assert_eq!(decided.action.state, "confirmed");
    assert_eq!(decided.decided_by.as_deref(), Some("alice"));
    store.apply(&batch()).unwrap();
    let a = store.action("a1").unwrap().unwrap();
    assert_eq!(
        a.action.state, "confirmed",
        "detection must not undo a decision"
    );
    let err = store
        .decide_action("a1", ActionDecision::Decline, "bob", t(18), "")
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert!(err.to_string().contains("alice"), "{err}");
    let log = store.decisions(Some("a1"), 10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].user.as_str(), log[0].decision.as_str()),
        ("alice", "confirm")
    );
    assert!(matches!(
        store.decide_action("nope", ActionDecision::Confirm, "alice", t(18), ""),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn execution_outcomes_and_attempts_survive_detection_replanning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vigil.db");
    let store = SqliteStore::open(&path).unwrap();
    let mut b = batch();
    b.actions[0].action.mode = ActionMode::Autonomous;
    b.actions[0].action.state = "planned".into();
    store.apply(&b).unwrap();
    assert!(!store.claim_action("a1", &["confirmed"], t(17)).unwrap());
    assert!(store.claim_action("a1", &["planned"], t(17)).unwrap());
    assert!(
        !store.claim_action("a1", &["planned"], t(17)).unwrap(),
        "claimed once"
    );
    store.apply(&b).unwrap();
    assert_eq!(
        store.action("a1").unwrap().unwrap().action.state,
        "executing",
        "detection does not take back an action being executed"
    );
    for (n, result, status) in [(1, "will_retry", Some(503)), (2, "failed", Some(500))] {
        store
            .record_attempt(&AttemptRecord {
                action_id: "a1".into(),
                operation: "execute".into(),
                attempt: n,
                started: t(17),
                finished: t(17),
                result: result.into(),
                http_status: status,
                error_code: Some("generalException".into()),
                detail: format!("attempt {n}"),
            })
            .unwrap();
    }
    store
        .set_action_outcome("a1", "failed", "gave up after 2 attempts", t(18))
        .unwrap();
    store.apply(&b).unwrap();
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    let a = store.action("a1").unwrap().unwrap();
    assert_eq!(a.action.state, "failed");
    assert_eq!(a.outcome.as_deref(), Some("gave up after 2 attempts"));
    assert_eq!(a.outcome_at, Some(t(18)));
    let results: Vec<(u32, &str, Option<u16>)> = a
        .attempts
        .iter()
        .map(|x| (x.attempt, x.result.as_str(), x.http_status))
        .collect();
    assert_eq!(
        results,
        vec![(1, "will_retry", Some(503)), (2, "failed", Some(500))]
    );
    assert_eq!(
        store.actions(None, Some("i1")).unwrap()[0].attempts.len(),
        2
    );
    assert_eq!(store.attempts("a1").unwrap().len(), 2);
    assert!(matches!(
        store.set_action_outcome("nope", "executed", "", t(18)),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn reopening_the_store_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vigil.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        store.apply(&batch()).unwrap();
        store
            .create_user("alice", Role::Analyst, "$argon2id$x")
            .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), 2);
    let snap = store.latest_snapshot().unwrap().unwrap();
    assert_eq!((snap.events, snap.bytes.as_slice()), (42, &b"engine"[..]));
    assert_eq!(store.checkpoints().unwrap()[0].source, "/logs/a.json");
    let inc = store.incident("i1").unwrap().unwrap();
    assert_eq!(inc.incident.breach_ids.len(), 2);
    assert_eq!(inc.detail["ips"][0], "198.51.100.7");
    assert_eq!(store.user("alice").unwrap().unwrap().role, Role::Analyst);
}

#[test]
fn incidents_filter_by_entity_attacker_ip_score_and_merge_state() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("vigil.db")).unwrap();
    let mut b = batch();
    b.incidents
        .push((incident("i2", 40.0, &[]), serde_json::json!({})));
    store.apply(&b).unwrap();
    let by_ip = store
        .incidents(&IncidentFilter {
            entity: Some("ip:198.51.100.7".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        by_ip.items.iter().map(|i| &*i.id).collect::<Vec<_>>(),
        ["i1"]
    );
    let high = store
        .incidents(&IncidentFilter {
            min_score: Some(60.0),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(high.total, 1);
    let all = store.incidents(&IncidentFilter::default()).unwrap();
    assert_eq!(all.items[0].id, "i1", "ranked by score");
    store
        .apply(&IngestBatch {
            merged: vec![("i2".into(), "i1".into())],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        store.incidents(&IncidentFilter::default()).unwrap().total,
        1
    );
    assert_eq!(
        store
            .incident("i2")
            .unwrap()
            .unwrap()
            .merged_into
            .as_deref(),
        Some("i1")
    );
}

#[test]
fn model_settings_are_kept_across_registrations_and_every_change_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("vigil.db")).unwrap();
    let def = |v| ModelDefinition {
        name: "m".into(),
        version: v,
        kind: "condition".into(),
        description: "d".into(),
        default_autonomy: Some(ActionMode::Confirm),
    };
    store.register_models(&[def(1)], t(1)).unwrap();
    let changed = store
        .change_model(
            "m",
            &ModelChange {
                enabled: Some(false),
                autonomy: Some(Some(ActionMode::Autonomous)),
            },
            "root",
            t(2),
        )
        .unwrap();
    assert!(!changed.enabled);
    store.register_models(&[def(2)], t(3)).unwrap();
    let m = &store.models().unwrap()[0];
    assert_eq!(
        (m.version, m.enabled, m.autonomy),
        (2, false, Some(ActionMode::Autonomous))
    );
    assert_eq!(
        store
            .model_versions("m")
            .unwrap()
            .iter()
            .map(|v| v.0)
            .collect::<Vec<_>>(),
        [1, 2]
    );
    let log = store.decisions(Some("m"), 10).unwrap();
    assert_eq!(log[0].decision, "disable, autonomy autonomous");
    assert!(matches!(
        store.change_model("nope", &ModelChange::default(), "root", t(2)),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn sessions_expire_and_duplicate_users_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("vigil.db")).unwrap();
    store.create_user("alice", Role::Viewer, "h").unwrap();
    assert!(matches!(
        store.create_user("alice", Role::Admin, "h"),
        Err(StoreError::Conflict(_))
    ));
    store.create_session("tok", "alice", "csrf", t(12)).unwrap();
    assert_eq!(store.session("tok", t(11)).unwrap().unwrap().csrf, "csrf");
    assert!(store.session("tok", t(13)).unwrap().is_none());
    let tok = store
        .create_token("ci", Role::Analyst, "th", "alice")
        .unwrap();
    assert_eq!(store.token("th").unwrap().unwrap().id, tok.id);
    assert!(store.token("other").unwrap().is_none());
}

#[test]
fn pending_actions_expire_once_their_confirmation_window_has_passed() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("vigil.db")).unwrap();
    let mut b = batch();
    b.actions.push(action("a2", "i1"));
    store.apply(&b).unwrap();
    store
        .decide_action("a2", ActionDecision::Confirm, "alice", Utc::now(), "")
        .unwrap();
    let an_hour_ago = Utc::now() - chrono::Duration::hours(1);
    assert!(
        store
            .expire_pending(an_hour_ago, Utc::now())
            .unwrap()
            .is_empty(),
        "still in its window"
    );
    let later = Utc::now() + chrono::Duration::seconds(1);
    assert_eq!(
        store.expire_pending(later, later).unwrap(),
        ["a1"],
        "a decided action stays decided"
    );
    let a1 = store.action("a1").unwrap().unwrap();
    assert_eq!(
        (a1.action.state.as_str(), a1.decided_by.as_deref()),
        ("expired", Some("vigil"))
    );
    assert_eq!(
        store.decisions(Some("a1"), 5).unwrap()[0].decision,
        "expire"
    );
    assert_eq!(
        store.action("a2").unwrap().unwrap().action.state,
        "confirmed"
    );
    store.apply(&b).unwrap();
    assert_eq!(
        store.action("a1").unwrap().unwrap().action.state,
        "expired",
        "re-planning does not revive it"
    );
}
