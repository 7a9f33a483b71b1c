//! The collectors against the Microsoft 365 stand-in: paging, windows, throttling, disabled
//! subscriptions, certificate credentials, checkpoints and restarts.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use vigil_collect::client::{Credentials, RetryPolicy, TokenSource};
use vigil_collect::management::{ManagementCollector, ManagementConfig};
use vigil_collect::msgtrace::{MessageTraceCollector, MessageTraceConfig};
use vigil_collect::signins::{SignInCollector, SignInConfig};
use vigil_collect::{Batch, Clock};
use vigil_m365_standin::{ClientCredential, Fault, Route, StandIn, StandInConfig};

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        base_delay_ms: 20,
        max_delay_ms: 200,
        disabled_subscription_delay_ms: 200,
    }
}

fn tokens(standin: &StandIn) -> Arc<TokenSource> {
    let c = standin.config();
    let secret = match &c.credential {
        ClientCredential::Secret(s) => s.clone(),
        ClientCredential::Certificate { .. } => unreachable!("secret configured"),
    };
    Arc::new(TokenSource::new(
        vigil_collect::client::http_client(),
        &standin.base_url(),
        Credentials::with_secret(&c.tenant_id, &c.client_id, &secret),
    ))
}

fn management(standin: &StandIn, dir: &Path, cfg: ManagementConfig) -> ManagementCollector {
    ManagementCollector::new(
        tokens(standin),
        &standin.base_url(),
        cfg,
        Clock::default(),
        dir.join("management.json"),
    )
    .unwrap()
}

fn mgmt_config(types: &[&str]) -> ManagementConfig {
    ManagementConfig {
        content_types: types.iter().map(|s| s.to_string()).collect(),
        retry: fast_retry(),
        overlap_minutes: 10,
        ..Default::default()
    }
}

fn audit_record(id: &str, t: &str) -> Value {
    json!({"Id": id, "CreationTime": t, "Operation": "MailItemsAccessed", "Workload": "Exchange",
           "UserId": "a@contoso.example", "RecordType": 50})
}

/// Every record id delivered, in order.
fn ids_of(batches: &[Batch]) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            serde_json::from_str::<Vec<Value>>(&b.body)
                .unwrap()
                .into_iter()
                .map(|r| {
                    r.get("Id")
                        .or(r.get("id"))
                        .or(r.get("MessageTraceId"))
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_string()
                })
        })
        .collect()
}

async fn poll_mgmt(c: &mut ManagementCollector) -> (Vec<Batch>, vigil_collect::PollReport) {
    let mut got = Vec::new();
    let report = c.poll(&mut |b| got.push(b)).await;
    (got, report)
}

#[tokio::test]
async fn management_pages_checkpoints_and_restarts_without_loss_or_repeat() {
    let standin = StandIn::start(StandInConfig {
        content_page_size: 3,
        ..Default::default()
    })
    .await
    .unwrap();
    for i in 0..7 {
        standin.publish_blob(
            "Audit.Exchange",
            &[audit_record(&format!("ex-{i}"), "2022-02-01T04:55:51")],
        );
    }
    standin.publish_blob(
        "Audit.AzureActiveDirectory",
        &[audit_record("aad-0", "2022-02-01T04:55:52")],
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = mgmt_config(&["Audit.Exchange", "Audit.AzureActiveDirectory"]);
    let mut c = management(&standin, dir.path(), cfg.clone());
    let (batches, report) = poll_mgmt(&mut c).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let mut expected: Vec<String> = (0..7).map(|i| format!("ex-{i}")).collect();
    expected.push("aad-0".into());
    assert_eq!(
        ids_of(&batches),
        expected,
        "every blob once, in contentCreated order"
    );

    // Seven Exchange blobs at three per page: the listing followed NextPageUri twice.
    let requests = standin.requests();
    let exchange_lists = requests
        .iter()
        .filter(|r| r.uri.contains("subscriptions/content") && r.uri.contains("Audit.Exchange"))
        .count();
    assert_eq!(exchange_lists, 3);
    assert!(requests
        .iter()
        .any(|r| r.uri.contains("subscriptions/content") && r.uri.contains("nextPage=")));
    // PublisherIdentifier on every Management Activity call, listing and download alike.
    let manage: Vec<_> = requests
        .iter()
        .filter(|r| r.uri.starts_with("/api/v1.0/"))
        .collect();
    assert!(manage.len() >= 7 + 3 + 2);
    assert!(
        manage
            .iter()
            .all(|r| r.publisher_identifier.as_deref() == Some(standin.config().tenant_id.as_str())),
        "PublisherIdentifier missing somewhere"
    );
    assert!(requests
        .iter()
        .any(|r| r.uri.contains("subscriptions/start") && r.uri.contains("Audit.Exchange")));

    c.save_checkpoint().unwrap();
    drop(c);

    // Restart: nothing old again, only what appeared meanwhile.
    standin.publish_blob(
        "Audit.Exchange",
        &[audit_record("ex-7", "2022-02-01T05:00:00")],
    );
    let mut c = management(&standin, dir.path(), cfg.clone());
    let (batches, _) = poll_mgmt(&mut c).await;
    assert_eq!(ids_of(&batches), ["ex-7"]);
    // A poll with nothing new delivers nothing.
    let (batches, _) = poll_mgmt(&mut c).await;
    assert!(ids_of(&batches).is_empty());
    c.save_checkpoint().unwrap();

    // A crash before the checkpoint is saved re-delivers what came after the last save (the
    // caller's persisted deduplication drops those repeats), and never loses anything.
    standin.publish_blob(
        "Audit.Exchange",
        &[audit_record("ex-8", "2022-02-01T05:00:01")],
    );
    let (batches, _) = poll_mgmt(&mut c).await;
    assert_eq!(ids_of(&batches), ["ex-8"]);
    drop(c); // no save
    let mut c = management(&standin, dir.path(), cfg);
    let (batches, _) = poll_mgmt(&mut c).await;
    assert_eq!(ids_of(&batches), ["ex-8"]);
    c.save_checkpoint().unwrap();
    let saved = std::fs::read_to_string(dir.path().join("management.json")).unwrap();
    assert!(saved.contains("listed_until"), "{saved}");

    // Lag: now minus the newest record delivered.
    let lag = c.lag();
    let ex = lag.iter().find(|l| l.stream == "Audit.Exchange").unwrap();
    assert_eq!(
        ex.newest_record,
        Some("2022-02-01T05:00:01Z".parse::<DateTime<Utc>>().unwrap())
    );
    assert!(ex.lag_seconds.unwrap() > 86_400.0 * 365.0);
}

#[tokio::test]
async fn management_backs_off_on_throttling_internal_errors_and_5xx() {
    let standin = StandIn::start(StandInConfig::default()).await.unwrap();
    for i in 0..4 {
        standin.publish_blob(
            "Audit.General",
            &[audit_record(&format!("g-{i}"), "2022-02-01T04:55:51")],
        );
    }
    standin.fail_next(Route::ContentList, Fault::InternalError, 1);
    standin.fail_next(Route::ContentList, Fault::Unavailable, 1);
    standin.fail_next(
        Route::ContentBlob,
        Fault::Throttle {
            retry_after_secs: 1,
        },
        2,
    );
    let dir = tempfile::tempdir().unwrap();
    let mut c = management(&standin, dir.path(), mgmt_config(&["Audit.General"]));
    let started = Instant::now();
    let (batches, report) = poll_mgmt(&mut c).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(ids_of(&batches), ["g-0", "g-1", "g-2", "g-3"]);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was not honoured ({:?})",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_millis(1900),
        "the two throttled downloads should wait side by side, not one after the other ({:?})",
        started.elapsed()
    );
    let statuses: Vec<u16> = standin.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 2);
    assert!(statuses.contains(&500) && statuses.contains(&503));
}

#[tokio::test]
async fn management_gives_up_after_the_attempts_and_resumes_next_poll() {
    let standin = StandIn::start(StandInConfig::default()).await.unwrap();
    standin.publish_blob(
        "Audit.General",
        &[audit_record("g-0", "2022-02-01T04:55:51")],
    );
    standin.fail_next(Route::ContentBlob, Fault::InternalError, 5);
    let dir = tempfile::tempdir().unwrap();
    let mut c = management(&standin, dir.path(), mgmt_config(&["Audit.General"]));
    let (batches, report) = poll_mgmt(&mut c).await;
    assert!(
        batches.is_empty(),
        "{:?}",
        batches.iter().map(|b| &b.name).collect::<Vec<_>>()
    );
    assert_eq!(report.errors.len(), 1);
    assert!(report.errors[0].contains("AF50000"), "{:?}", report.errors);
    let (batches, report) = poll_mgmt(&mut c).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(ids_of(&batches), ["g-0"]);
}

#[tokio::test]
async fn management_restarts_a_disabled_subscription_after_backing_off() {
    let standin = StandIn::start(StandInConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut c = management(&standin, dir.path(), mgmt_config(&["Audit.SharePoint"]));
    let (_, report) = poll_mgmt(&mut c).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    standin.disable_subscription("Audit.SharePoint");
    standin.publish_blob(
        "Audit.SharePoint",
        &[audit_record("sp-0", "2022-02-01T04:55:51")],
    );
    let (batches, report) = poll_mgmt(&mut c).await;
    assert!(batches.iter().all(|b| b.records == 0));
    assert!(
        report.errors.iter().any(|e| e.contains("AF20023")),
        "{:?}",
        report.errors
    );
    // Within the back-off nothing is asked of the API for that content type.
    let before = standin.requests().len();
    let _ = poll_mgmt(&mut c).await;
    assert_eq!(standin.requests().len(), before);
    tokio::time::sleep(Duration::from_millis(250)).await;
    let (batches, report) = poll_mgmt(&mut c).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(ids_of(&batches), ["sp-0"]);
    let starts = standin
        .requests()
        .iter()
        .filter(|r| r.uri.contains("subscriptions/start"))
        .count();
    assert_eq!(starts, 2, "started at first use and again after AF20023");
}

#[tokio::test]
async fn management_windows_are_at_most_24_hours_inside_the_7_day_horizon() {
    let standin = StandIn::start(StandInConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = mgmt_config(&["Audit.Exchange"]);
    cfg.initial_lookback_hours = 30 * 24; // asks for more than the API keeps
    let mut c = management(&standin, dir.path(), cfg);
    let (_, report) = poll_mgmt(&mut c).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let now = Utc::now();
    let lists: Vec<_> = standin
        .requests()
        .into_iter()
        .filter(|r| r.uri.contains("subscriptions/content"))
        .collect();
    assert_eq!(lists.len(), 7, "7 days in 24-hour windows");
    for r in &lists {
        assert_eq!(r.status, 200, "{}", r.uri);
        let q: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(r.uri.split_once('?').unwrap().1.as_bytes())
                .into_owned()
                .collect();
        let s = vigil_m365_standin::parse_time(&q["startTime"]).unwrap();
        let e = vigil_m365_standin::parse_time(&q["endTime"]).unwrap();
        assert!(e > s && e - s <= chrono::Duration::hours(24));
        assert!(s >= now - chrono::Duration::days(7));
    }
}

#[tokio::test]
async fn certificate_credentials_sign_a_client_assertion() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let cert_pem = std::fs::read_to_string(fixtures.join("test-app-cert.pem")).unwrap();
    let der = {
        use rustls_pki_types::pem::PemObject;
        rustls_pki_types::CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap()
    };
    let config = StandInConfig {
        credential: ClientCredential::Certificate {
            x5t: vigil_collect::client::certificate_thumbprint(der.as_ref()),
            rsa_public_key_der: std::fs::read(fixtures.join("test-app-rsapublickey.der")).unwrap(),
        },
        ..Default::default()
    };
    let standin = StandIn::start(config).await.unwrap();
    let c = standin.config();
    let creds = Credentials::with_certificate(
        &c.tenant_id,
        &c.client_id,
        &fixtures.join("test-app-cert.pem"),
        &fixtures.join("test-app-key.pem"),
    )
    .unwrap();
    let source = TokenSource::new(
        vigil_collect::client::http_client(),
        &standin.base_url(),
        creds,
    );
    let token = source
        .token(vigil_collect::client::scope::MANAGE)
        .await
        .unwrap();
    assert!(token.starts_with("standin."));
    // Cached: a second call does not ask again.
    source
        .token(vigil_collect::client::scope::MANAGE)
        .await
        .unwrap();
    assert_eq!(standin.tokens_issued(), 1);

    // A client secret is refused when the application only has a certificate.
    let wrong = TokenSource::new(
        vigil_collect::client::http_client(),
        &standin.base_url(),
        Credentials::with_secret(&c.tenant_id, &c.client_id, "guess"),
    );
    let err = wrong
        .token(vigil_collect::client::scope::GRAPH)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("invalid_client") && err.contains("AADSTS7000215"),
        "{err}"
    );

    // Bad key files are named in the error.
    let err = Credentials::with_certificate(
        "t",
        "c",
        &fixtures.join("test-app-cert.pem"),
        &fixtures.join("test-app-cert.pem"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("test-app-cert.pem") && err.contains("PKCS#8"),
        "{err}"
    );
}

#[test]
fn credentials_need_one_proof() {
    let cfg = vigil_collect::CredentialsConfig {
        tenant_id: Some("t".into()),
        client_id: Some("c".into()),
        ..Default::default()
    };
    let err = Credentials::resolve(&cfg).unwrap_err().to_string();
    assert!(err.contains("client_secret"), "{err}");
    let both = vigil_collect::CredentialsConfig {
        client_secret: Some("s".into()),
        certificate: Some("c.pem".into()),
        ..cfg
    };
    assert!(Credentials::resolve(&both)
        .unwrap_err()
        .to_string()
        .contains("not both"));
}

fn sign_in(id: &str, t: &str, interactive: bool) -> Value {
    json!({"id": id, "createdDateTime": t, "userPrincipalName": "a@contoso.example",
           "ipAddress": "203.0.113.7", "isInteractive": interactive,
           "signInEventTypes": [if interactive {"interactiveUser"} else {"nonInteractiveUser"}],
           "status": {"errorCode": 0}, "appDisplayName": "Office 365 Exchange Online"})
}

#[tokio::test]
async fn sign_ins_page_by_next_link_both_event_types_and_overlap_without_repeats() {
    let standin = StandIn::start(StandInConfig {
        graph_page_size: 4,
        ..Default::default()
    })
    .await
    .unwrap();
    let base = "2022-02-01T04:00:00Z".parse::<DateTime<Utc>>().unwrap();
    let at = |m: i64| (base + chrono::Duration::minutes(m)).to_rfc3339();
    standin.add_sign_ins((0..10).map(|i| sign_in(&format!("i{i:02}"), &at(i * 5), true)));
    standin.add_sign_ins((0..3).map(|i| sign_in(&format!("n{i:02}"), &at(i * 7), false)));
    let clock = Clock::default();
    clock.set_now(base + chrono::Duration::minutes(60));
    standin.set_now(base + chrono::Duration::minutes(60));
    standin.fail_next(
        Route::SignIns,
        Fault::Throttle {
            retry_after_secs: 1,
        },
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = SignInConfig {
        start: Some(base),
        window_minutes: 30,
        overlap_minutes: 15,
        requests_per_minute: 6000,
        retry: fast_retry(),
        ..Default::default()
    };
    let make = || {
        SignInCollector::new(
            tokens(&standin),
            &standin.base_url(),
            cfg.clone(),
            clock.clone(),
            dir.path().join("signins.json"),
        )
        .unwrap()
    };
    let mut c = make();
    let mut got = Vec::new();
    let report = c.poll(&mut |b| got.push(b)).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let ids = ids_of(&got);
    let interactive: Vec<_> = ids.iter().filter(|i| i.starts_with('i')).cloned().collect();
    assert_eq!(
        interactive,
        (0..10).map(|i| format!("i{i:02}")).collect::<Vec<_>>(),
        "oldest first, each once"
    );
    assert_eq!(ids.iter().filter(|i| i.starts_with('n')).count(), 3);
    let requests = standin.requests();
    assert!(requests.iter().any(|r| r.status == 429));
    assert!(requests.iter().any(|r| r.uri.contains("%24skiptoken")));
    assert!(requests
        .iter()
        .any(|r| r.uri.contains("nonInteractiveUser") && r.uri.contains("beta")));
    c.save_checkpoint().unwrap();

    // A sign-in that shows up late, inside the overlap, is delivered once after a restart;
    // nothing delivered before comes again.
    standin.add_sign_ins([sign_in("late", &at(50), true)]);
    clock.set_now(base + chrono::Duration::minutes(62));
    let mut c = make();
    let mut got = Vec::new();
    c.poll(&mut |b| got.push(b)).await;
    assert_eq!(ids_of(&got), ["late"]);
    let lag = c.lag();
    assert!(lag.iter().all(|l| l.lag_seconds.is_some()));
}

#[tokio::test]
async fn message_trace_pages_by_next_and_settles() {
    let standin = StandIn::start(StandInConfig {
        message_trace_page_size: 5,
        ..Default::default()
    })
    .await
    .unwrap();
    let base = "2022-02-01T15:00:00Z".parse::<DateTime<Utc>>().unwrap();
    standin.add_message_trace((0..12).map(|i| {
        let ms = (base + chrono::Duration::minutes(i)).timestamp_millis();
        json!({"MessageTraceId": format!("m{i:02}"), "RecipientAddress": "b@contoso.example",
               "SenderAddress": "a@contoso.example", "Received": format!("/Date({ms})/"),
               "Subject": "View Shared Link", "Status": "Delivered", "Size": 2048,
               "FromIP": "203.0.113.7", "ToIP": null})
    }));
    let clock = Clock::default();
    clock.set_now(base + chrono::Duration::minutes(40));
    let dir = tempfile::tempdir().unwrap();
    let cfg = MessageTraceConfig {
        enabled: true,
        start: Some(base),
        window_minutes: 60,
        settle_minutes: 15,
        overlap_minutes: 30,
        retry: fast_retry(),
        ..Default::default()
    };
    let mut c = MessageTraceCollector::new(
        tokens(&standin),
        &standin.base_url(),
        cfg.clone(),
        clock.clone(),
        dir.path().join("mt.json"),
    )
    .unwrap();
    let mut got = Vec::new();
    let report = c.poll(&mut |b| got.push(b)).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    // Settled up to minute 25: rows 0..=11 are all before it; three pages of five.
    assert_eq!(
        ids_of(&got),
        (0..12).map(|i| format!("m{i:02}")).collect::<Vec<_>>()
    );
    let pages = standin
        .requests()
        .iter()
        .filter(|r| r.uri.contains("MessageTrace"))
        .count();
    assert_eq!(pages, 3);
    assert!(standin
        .requests()
        .iter()
        .any(|r| r.uri.contains("StartDate") && r.uri.contains("datetime")));
    c.save_checkpoint().unwrap();
    clock.set_now(base + chrono::Duration::minutes(50));
    let mut got = Vec::new();
    c.poll(&mut |b| got.push(b)).await;
    assert!(ids_of(&got).is_empty(), "the overlap re-delivers nothing");
}

#[tokio::test]
async fn a_backlog_larger_than_the_poll_budget_is_delivered_over_polls_in_order_once() {
    let standin = StandIn::start(StandInConfig {
        content_page_size: 4,
        ..Default::default()
    })
    .await
    .unwrap();
    for i in 0..10 {
        standin.publish_blob(
            "Audit.Exchange",
            &[audit_record(&format!("ex-{i:02}"), "2022-02-01T04:55:51")],
        );
        standin.publish_blob(
            "Audit.General",
            &[audit_record(&format!("g-{i:02}"), "2022-02-01T04:55:51")],
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = mgmt_config(&["Audit.Exchange", "Audit.General"]);
    cfg.max_blobs_per_poll = 3;
    cfg.max_concurrent_fetches = 3;
    let mut c = management(&standin, dir.path(), cfg.clone());
    let mut all = Vec::new();
    let mut polls = 0;
    loop {
        let (batches, report) = poll_mgmt(&mut c).await;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        polls += 1;
        let ids = ids_of(&batches);
        assert!(ids.len() <= 3, "the per-poll budget holds: {ids:?}");
        if polls == 2 {
            assert!(
                all.iter().chain(&ids).any(|i: &String| i.starts_with('g')),
                "the second content type is not starved by the first's backlog"
            );
        }
        if ids.is_empty() {
            break;
        }
        all.extend(ids);
        c.save_checkpoint().unwrap();
        // Restart every other poll: the checkpoint carries the partial window.
        if polls % 2 == 0 {
            c = management(&standin, dir.path(), cfg.clone());
        }
    }
    let mut ex: Vec<_> = all
        .iter()
        .filter(|i| i.starts_with("ex"))
        .cloned()
        .collect();
    let g: Vec<_> = all.iter().filter(|i| i.starts_with('g')).cloned().collect();
    assert_eq!(ex.len(), 10, "{all:?}");
    assert_eq!(g.len(), 10, "{all:?}");
    let sorted = {
        let mut v = ex.clone();
        v.sort();
        v
    };
    assert_eq!(ex, sorted, "in contentCreated order");
    ex.dedup();
    assert_eq!(ex.len(), 10, "no repeats");
}

#[tokio::test]
async fn a_rejected_token_is_renewed_once_and_the_call_goes_through() {
    let standin = StandIn::start(StandInConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut c = management(&standin, dir.path(), mgmt_config(&["Audit.Exchange"]));
    let (_, report) = poll_mgmt(&mut c).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(standin.tokens_issued(), 1);
    standin.revoke_tokens();
    standin.publish_blob(
        "Audit.Exchange",
        &[audit_record("ex-0", "2022-02-01T04:55:51")],
    );
    let (batches, report) = poll_mgmt(&mut c).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(ids_of(&batches), ["ex-0"]);
    assert_eq!(standin.tokens_issued(), 2, "renewed after the 401");
    assert!(standin.requests().iter().any(|r| r.status == 401));
}
