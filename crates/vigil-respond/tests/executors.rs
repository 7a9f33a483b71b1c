//! The executors against the Microsoft 365 stand-in: each action, idempotency, undo at
//! expiry, retries then failure, and the attempt log.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use vigil_collect::client::{Credentials, TokenSource};
use vigil_m365_standin::{ClientCredential, Fault, Route, StandIn, StandInConfig};
use vigil_respond::{
    ActionAttempt, ActionKind, ActionRequest, ActionStatus, AttemptResult, AttemptSink, Executor,
    Operation, RespondConfig,
};

const A: &str = "adele.vance@contoso.example";

fn tokens(standin: &StandIn) -> Arc<TokenSource> {
    let c = standin.config();
    let ClientCredential::Secret(secret) = &c.credential else {
        unreachable!("secret configured")
    };
    Arc::new(TokenSource::new(
        vigil_collect::client::http_client(),
        &standin.base_url(),
        Credentials::with_secret(&c.tenant_id, &c.client_id, secret),
    ))
}

#[derive(Default)]
struct Collected(Mutex<Vec<ActionAttempt>>);

impl AttemptSink for Collected {
    fn record(&self, a: &ActionAttempt) {
        self.0.lock().unwrap().push(a.clone());
    }
}

fn config(location: Option<String>) -> RespondConfig {
    RespondConfig {
        block_ip_named_location_id: location,
        max_attempts: 3,
        retry_base_delay_ms: 20,
        retry_max_delay_ms: 100,
        ..Default::default()
    }
}

fn request(id: &str, kind: ActionKind, target: &str, duration_secs: Option<i64>) -> ActionRequest {
    ActionRequest {
        action_id: id.into(),
        incident_id: "i1".into(),
        kind,
        target: target.into(),
        duration_secs,
    }
}

#[tokio::test]
async fn disable_user_is_idempotent_and_undone_at_expiry() {
    let standin = StandIn::start(StandInConfig::default()).await.unwrap();
    standin.add_user(A);
    let dir = tempfile::tempdir().unwrap();
    let sink = Arc::new(Collected::default());
    let exec = Executor::new(
        tokens(&standin),
        &standin.base_url(),
        config(None),
        Some(dir.path().to_path_buf()),
        Some(sink.clone()),
    )
    .unwrap();
    let req = request("a1", ActionKind::DisableUser, A, Some(3600));
    assert_eq!(exec.execute(req.clone()).await, ActionStatus::Executed);
    assert_eq!(standin.user_enabled(A), Some(false));
    let patches: Vec<_> = standin
        .mutations()
        .into_iter()
        .filter(|m| m.method == "PATCH")
        .collect();
    assert_eq!(patches.len(), 1);
    assert_eq!(patches[0].path, format!("/v1.0/users/{A}"));
    assert_eq!(patches[0].body["accountEnabled"], false);

    // Re-running it is a no-op: no request at all.
    let before = standin.requests().len();
    assert_eq!(exec.execute(req.clone()).await, ActionStatus::Executed);
    assert_eq!(standin.requests().len(), before);

    // A restarted executor remembers it too.
    drop(exec);
    let exec = Executor::new(
        tokens(&standin),
        &standin.base_url(),
        config(None),
        Some(dir.path().to_path_buf()),
        None,
    )
    .unwrap();
    assert_eq!(exec.execute(req).await, ActionStatus::Executed);
    assert_eq!(standin.mutations().len(), 1);

    // Not yet due, then due: re-enabled.
    let record = exec.record("a1").await.unwrap();
    let due = record.undo_due.unwrap();
    assert!(exec
        .undo_due(due - chrono::Duration::seconds(1))
        .await
        .is_empty());
    assert_eq!(exec.undo_due(due).await, ["a1"]);
    assert_eq!(standin.user_enabled(A), Some(true));
    assert_eq!(
        exec.record("a1").await.unwrap().status,
        ActionStatus::Undone
    );
    assert!(exec.undo_due(due).await.is_empty(), "undone once");

    let attempts = sink.0.lock().unwrap().clone();
    assert_eq!(attempts.len(), 1, "the first executor's one attempt");
    assert_eq!(attempts[0].result, AttemptResult::Succeeded);
    let log = std::fs::read_to_string(dir.path().join("action-attempts.jsonl")).unwrap();
    let lines: Vec<ActionAttempt> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "execute and undo, across both executors");
    assert_eq!(lines[1].operation, Operation::Undo);
    assert_eq!(lines[1].result, AttemptResult::Succeeded);
}

#[tokio::test]
async fn an_account_disabled_before_vigil_acted_stays_disabled_after_undo() {
    let standin = StandIn::start(StandInConfig::default()).await.unwrap();
    standin.add_user(A);
    let exec = Executor::new(
        tokens(&standin),
        &standin.base_url(),
        config(None),
        None,
        None,
    )
    .unwrap();
    exec.execute(request("x", ActionKind::DisableUser, A, Some(60)))
        .await;
    // Someone else's action, then a second Vigil action on the same account.
    assert_eq!(
        exec.execute(request("y", ActionKind::DisableUser, A, Some(60)))
            .await,
        ActionStatus::Executed
    );
    let attempts = exec.attempts().await;
    assert_eq!(attempts[1].result, AttemptResult::AlreadyDone);
    let far = chrono::Utc::now() + chrono::Duration::hours(1);
    exec.undo("y").await;
    assert_eq!(standin.user_enabled(A), Some(false), "y found it disabled");
    exec.undo_due(far).await;
    assert_eq!(
        standin.user_enabled(A),
        Some(true),
        "x disabled it, x enables it"
    );
}

#[tokio::test]
async fn throttling_is_retried_then_persistent_failure_is_marked_failed() {
    let standin = StandIn::start(StandInConfig::default()).await.unwrap();
    standin.add_user(A);
    let exec = Executor::new(
        tokens(&standin),
        &standin.base_url(),
        config(None),
        None,
        None,
    )
    .unwrap();
    standin.fail_next(
        Route::GraphObjects,
        Fault::Throttle {
            retry_after_secs: 1,
        },
        1,
    );
    let started = std::time::Instant::now();
    assert_eq!(
        exec.execute(request("r1", ActionKind::RevokeSessions, A, None))
            .await,
        ActionStatus::Executed
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(standin.sessions_revoked(A), 1);
    let attempts = exec.attempts().await;
    assert_eq!(
        attempts.iter().map(|a| a.result).collect::<Vec<_>>(),
        [AttemptResult::WillRetry, AttemptResult::Succeeded]
    );
    assert_eq!(attempts[0].http_status, Some(429));
    assert_eq!(attempts[0].error_code.as_deref(), Some("TooManyRequests"));

    // Three 500s in a row: three attempts, then failed with the reason.
    standin.fail_next(Route::GraphObjects, Fault::InternalError, 3);
    assert_eq!(
        exec.execute(request("d1", ActionKind::DisableUser, A, None))
            .await,
        ActionStatus::Failed
    );
    assert_eq!(standin.user_enabled(A), Some(true));
    let d1: Vec<_> = exec
        .attempts()
        .await
        .into_iter()
        .filter(|a| a.action_id == "d1")
        .collect();
    assert_eq!(
        d1.iter().map(|a| a.result).collect::<Vec<_>>(),
        [
            AttemptResult::WillRetry,
            AttemptResult::WillRetry,
            AttemptResult::Failed
        ]
    );
    let record = exec.record("d1").await.unwrap();
    assert!(
        record.detail.contains("gave up after 3 attempts"),
        "{}",
        record.detail
    );
    // A failed action may be run again, and then succeeds.
    assert_eq!(
        exec.execute(request("d1", ActionKind::DisableUser, A, None))
            .await,
        ActionStatus::Executed
    );
    assert_eq!(standin.user_enabled(A), Some(false));

    // Not found is not retried.
    let status = exec
        .execute(request(
            "d2",
            ActionKind::DisableUser,
            "nobody@contoso.example",
            None,
        ))
        .await;
    assert_eq!(status, ActionStatus::Failed);
    let last = exec.attempts().await.pop().unwrap();
    assert_eq!(last.attempt, 1);
    assert_eq!(last.http_status, Some(404));
    assert_eq!(last.error_code.as_deref(), Some("Request_ResourceNotFound"));
}

#[tokio::test]
async fn inbox_rule_found_by_name_removed_once_and_recorded_as_not_reversible() {
    let standin = StandIn::start(StandInConfig::default()).await.unwrap();
    standin.add_user(A);
    standin.add_inbox_rule(A, "Weekly report");
    standin.add_inbox_rule(A, ".");
    let exec = Executor::new(
        tokens(&standin),
        &standin.base_url(),
        config(None),
        None,
        None,
    )
    .unwrap();
    let target = format!("{A}/inbox-rule/.");
    assert_eq!(
        exec.execute(request("r", ActionKind::RemoveInboxRule, &target, Some(60)))
            .await,
        ActionStatus::Executed
    );
    assert_eq!(standin.inbox_rules(A), ["Weekly report"]);
    let record = exec.record("r").await.unwrap();
    assert_eq!(record.saved.len(), 1);
    assert_eq!(
        record.saved[0]["displayName"], ".",
        "definition kept for the analyst"
    );
    // The same rule name again under another action id: found gone, already done.
    exec.execute(request("r2", ActionKind::RemoveInboxRule, &target, None))
        .await;
    assert_eq!(exec.attempts().await[1].result, AttemptResult::AlreadyDone);
    // Undo at expiry cannot recreate it: recorded as such.
    exec.undo_due(chrono::Utc::now() + chrono::Duration::hours(1))
        .await;
    assert_eq!(
        exec.record("r").await.unwrap().status,
        ActionStatus::NotReversible
    );
    let last = exec.attempts().await.pop().unwrap();
    assert_eq!(
        (last.operation, last.result),
        (Operation::Undo, AttemptResult::NotReversible)
    );
    // Mailbox forwarding cannot be removed through Graph: failed, with the reason, no retry.
    let status = exec
        .execute(request(
            "f",
            ActionKind::RemoveInboxRule,
            &format!("{A}/mailbox-forwarding"),
            None,
        ))
        .await;
    assert_eq!(status, ActionStatus::Failed);
    assert!(exec
        .record("f")
        .await
        .unwrap()
        .detail
        .contains("Set-Mailbox"));
}

#[tokio::test]
async fn oauth_grant_revoked_by_app_name_or_id() {
    let standin = StandIn::start(StandInConfig::default()).await.unwrap();
    standin.add_user(A);
    standin.add_user("b@contoso.example");
    let app_id = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
    let sp = standin.add_service_principal(app_id, "Spike");
    let mine = standin.add_oauth_grant(&sp, A, "Mail.ReadWrite Mail.Send");
    let theirs = standin.add_oauth_grant(&sp, "b@contoso.example", "Mail.Read");
    let exec = Executor::new(
        tokens(&standin),
        &standin.base_url(),
        config(None),
        None,
        None,
    )
    .unwrap();
    // The engine writes the app in lower case.
    let status = exec
        .execute(request(
            "g1",
            ActionKind::RevokeOauthGrant,
            &format!("{A}/oauth-grant/spike"),
            None,
        ))
        .await;
    assert_eq!(status, ActionStatus::Executed);
    assert_eq!(standin.oauth_grant_ids(), [theirs]);
    assert_eq!(
        exec.record("g1").await.unwrap().saved[0]["id"],
        mine.as_str()
    );
    let status = exec
        .execute(request(
            "g2",
            ActionKind::RevokeOauthGrant,
            &format!("b@contoso.example/oauth-grant/{app_id}"),
            None,
        ))
        .await;
    assert_eq!(status, ActionStatus::Executed);
    assert!(standin.oauth_grant_ids().is_empty());
}

#[tokio::test]
async fn block_ip_adds_to_the_named_location_and_removes_at_expiry() {
    let standin = StandIn::start(StandInConfig::default()).await.unwrap();
    let location = standin.add_ip_named_location("Vigil blocked", &["192.0.2.255/32"]);
    let exec = Executor::new(
        tokens(&standin),
        &standin.base_url(),
        config(Some(location.clone())),
        None,
        None,
    )
    .unwrap();
    let a = request("b1", ActionKind::BlockIp, "102.89.0.7", Some(600));
    let b = request("b2", ActionKind::BlockIp, "2001:db8::7", Some(1200));
    // Two at once: the read-modify-write of the location must keep both.
    let (sa, sb) = tokio::join!(exec.execute(a.clone()), exec.execute(b));
    assert_eq!((sa, sb), (ActionStatus::Executed, ActionStatus::Executed));
    let mut cidrs = standin.named_location_cidrs(&location);
    cidrs.sort();
    assert_eq!(
        cidrs,
        ["102.89.0.7/32", "2001:db8::7/128"],
        "placeholder replaced"
    );
    let patch = standin.mutations().pop().unwrap();
    assert_eq!(
        patch.body["@odata.type"],
        "#microsoft.graph.ipNamedLocation"
    );

    // Idempotent under another id: already listed, no PATCH.
    let patches = standin.mutations().len();
    exec.execute(request("b3", ActionKind::BlockIp, "102.89.0.7", None))
        .await;
    assert_eq!(standin.mutations().len(), patches);

    let due_a = exec.record("b1").await.unwrap().undo_due.unwrap();
    assert_eq!(exec.undo_due(due_a).await, ["b1"]);
    assert_eq!(standin.named_location_cidrs(&location), ["2001:db8::7/128"]);
    let due_b = exec.record("b2").await.unwrap().undo_due.unwrap();
    assert!(due_b - due_a >= chrono::Duration::seconds(599));
    assert_eq!(exec.undo_due(due_b).await, ["b2"]);
    assert_eq!(
        standin.named_location_cidrs(&location),
        ["192.0.2.255/32"],
        "a named location keeps one range"
    );

    // Without the named location configured: failed, saying what to set.
    let exec = Executor::new(
        tokens(&standin),
        &standin.base_url(),
        config(None),
        None,
        None,
    )
    .unwrap();
    assert_eq!(
        exec.execute(request("b4", ActionKind::BlockIp, "198.51.100.1", None))
            .await,
        ActionStatus::Failed
    );
    assert!(exec
        .record("b4")
        .await
        .unwrap()
        .detail
        .contains("block_ip_named_location_id"));
}

#[test]
fn requests_from_the_engine_plan() {
    let t = chrono::Utc::now();
    let planned = vigil_engine::response::PlannedAction {
        id: "a7".into(),
        kind: "disable_user".into(),
        target: A.into(),
        time: t,
        mode: vigil_report::ActionMode::Autonomous,
        state: "planned".into(),
        incident_id: "inc-1".into(),
        breach_id: "b1".into(),
        model: "m".into(),
        expires: t + chrono::Duration::hours(24),
    };
    let r = ActionRequest::from_planned(&planned).unwrap();
    assert_eq!(r.kind, ActionKind::DisableUser);
    assert_eq!(r.duration_secs, Some(86_400));
    let bad = vigil_engine::response::PlannedAction {
        kind: "wipe".into(),
        ..planned
    };
    assert!(ActionRequest::from_planned(&bad)
        .unwrap_err()
        .to_string()
        .contains("wipe"));
}

#[tokio::test]
async fn an_action_cut_short_by_a_crash_is_executed_again_after_restart() {
    let standin = StandIn::start(StandInConfig::default()).await.unwrap();
    standin.add_user(A);
    let dir = tempfile::tempdir().unwrap();
    let make = || {
        Executor::new(
            tokens(&standin),
            &standin.base_url(),
            config(None),
            Some(dir.path().to_path_buf()),
            None,
        )
        .unwrap()
    };
    let exec = make();
    let req = request("c1", ActionKind::DisableUser, A, None);
    exec.execute(req.clone()).await;
    drop(exec);
    // As the ledger looks when the process died between the PATCH and the ledger's update.
    let path = dir.path().join("actions.json");
    let ledger = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, ledger.replace("\"executed\"", "\"executing\"")).unwrap();
    let exec = make();
    let record = exec.record("c1").await.unwrap();
    assert_eq!(record.status, ActionStatus::Failed);
    assert!(record.detail.contains("interrupted"), "{}", record.detail);
    assert_eq!(exec.execute(req).await, ActionStatus::Executed);
    assert_eq!(
        exec.attempts().await[0].result,
        AttemptResult::AlreadyDone,
        "the tenant state shows the first run's change"
    );
    let patches = standin
        .mutations()
        .iter()
        .filter(|m| m.method == "PATCH")
        .count();
    assert_eq!(patches, 1, "not sent twice");
}
