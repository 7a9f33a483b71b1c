//! The public sample records in shared/data/m365 (read where they are: `$VIGIL_SHARED_DATA`, or
//! `shared/data` beside the repository). Every record of every JSON file there must become an
//! event, with the typed kinds the samples are known for.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use vigil_event::{ConsentKind, EventKind, Format, MailAccessType, Outcome, PrincipalKind};

fn shared_m365() -> PathBuf {
    let root = std::env::var_os("VIGIL_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let dir = root.join("m365");
    assert!(
        dir.is_dir(),
        "the public sample data is missing: {} does not exist. Set VIGIL_SHARED_DATA to the \
         shared/data folder (the one holding m365/), or put shared/ beside the repository.",
        dir.display()
    );
    dir
}

/// Files and how many records each holds (counted from the samples themselves).
const EXPECTED: &[(&str, usize)] = &[
    ("ms-docs/content_blob_sample_response.json", 3),
    ("otrf/OfficeActivityEvents.json", 1),
    ("otrf/AADAuditEvents.json", 4),
    ("panther/azure_legacyauth_tests.json", 3),
    ("panther/azure_ropc_login_no_mfa_tests.json", 2),
    (
        "panther/microsoft365_brute_force_login_by_user_tests.json",
        2,
    ),
    (
        "panther/microsoft_exchange_external_forwarding_tests.json",
        10,
    ),
];

fn read_sample(rel: &str) -> Vec<vigil_event::Event> {
    let path = shared_m365().join(rel);
    let (events, errors) = read_path(&path);
    assert!(
        errors.is_empty(),
        "{rel}: {:#?}",
        errors.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
    events
}

#[test]
fn every_record_of_every_json_sample_is_an_event() {
    let dir = shared_m365();
    let mut found: Vec<String> = Vec::new();
    for path in vigil_sources::collect_files(std::slice::from_ref(&dir)).unwrap() {
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let rel = path
            .strip_prefix(&dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        found.push(rel.clone());
        let expected = EXPECTED
            .iter()
            .find(|(name, _)| *name == rel)
            .unwrap_or_else(|| panic!("{rel}: a sample this test does not know; add its count"))
            .1;
        // Count the records independently of the reader: array elements, test-case `log`s
        // and JSON lines.
        let text = std::fs::read_to_string(&path).unwrap();
        let independent = match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Array(items)) => items.len(),
            _ => text.lines().filter(|l| !l.trim().is_empty()).count(),
        };
        assert_eq!(independent, expected, "{rel}: the sample changed");
        let events = read_sample(&rel);
        assert_eq!(events.len(), expected, "{rel}");
    }
    found.sort();
    let mut known: Vec<String> = EXPECTED.iter().map(|(n, _)| n.to_string()).collect();
    known.sort();
    assert_eq!(found, known, "every known sample is still there");
}

#[test]
fn a_non_json_sample_is_one_error_not_a_crash() {
    let path = shared_m365().join("otrf/GoldenSAMLADFSMailAccess.yaml");
    let (events, errors) = read_path(&path);
    assert!(events.is_empty());
    assert_eq!(errors.len(), 1);
    assert!(errors[0].to_string().contains("not a JSON log file"));
}

#[test]
fn management_api_content_blob_sample() {
    let events = read_sample("ms-docs/content_blob_sample_response.json");
    assert!(events.iter().all(|e| e.format == Format::ManagementApi));
    assert_eq!(events[0].time, ts("2015-06-29T20:03:19Z"), "no zone: UTC");
    let failed = kind!(&events[0], SignIn);
    assert!(
        !failed.succeeded,
        "PasswordLogonInitialAuthUsingPassword, failed"
    );
    assert!(failed
        .failure_reason
        .as_deref()
        .unwrap()
        .contains("PP_E_BAD_PASSWORD"));
    assert_eq!(events[0].ip, ip("134.170.188.221"));
    assert!(kind!(&events[1], SignIn).succeeded);
    assert_eq!(&*events[2].operation, "Add User");
    assert_eq!(events[2].kind, EventKind::Generic);
}

#[test]
fn panther_legacy_auth_sample_has_a_bav2ropc_sign_in() {
    let events = read_sample("panther/azure_legacyauth_tests.json");
    assert!(events
        .iter()
        .all(|e| e.format == Format::AzureMonitorSignIn));
    let sp = kind!(&events[0], SignIn);
    assert_eq!(sp.principal, PrincipalKind::ServicePrincipal);
    assert_eq!(sp.error_code, Some(7000215));
    assert_eq!(events[0].user, s("some-service-principal"));
    let legacy = &events[1];
    assert_eq!(legacy.user_agent, s("BAV2ROPC"));
    assert_eq!(legacy.user, s("eve@lexcorp.com"));
    assert_eq!(legacy.outcome, Outcome::Success);
    assert_eq!(legacy.time, ts("2023-07-21T05:03:52.1605624Z"));
    let k = kind!(legacy, SignIn);
    assert_eq!(k.client_app, s("Authenticated SMTP"));
    assert_eq!(k.reported_country, s("US"));
    assert_eq!(events[2].user, s("homer.simpson@springfield.org"));
}

#[test]
fn panther_ropc_sample() {
    let events = read_sample("panther/azure_ropc_login_no_mfa_tests.json");
    let ok = kind!(&events[0], SignIn);
    assert!(ok.succeeded, "resultType \"0\" on the envelope, no status");
    assert_eq!(ok.auth_protocol, s("ropc"));
    assert_eq!(events[0].user_agent, s("python-requests/2.28.1"));
    assert!(events[0].id.starts_with("xxh3:"), "no id: a content hash");
    let failed = kind!(&events[1], SignIn);
    assert_eq!(failed.error_code, Some(50126));
    assert_eq!(events[1].outcome, Outcome::Failure);
}

#[test]
fn panther_brute_force_sample() {
    let events = read_sample("panther/microsoft365_brute_force_login_by_user_tests.json");
    assert_eq!(&*events[0].operation, "UserLoginFailed");
    assert_eq!(
        events[0].outcome,
        Outcome::Failure,
        "ResultStatus Success on UserLoginFailed"
    );
    assert_eq!(
        kind!(&events[0], SignIn).failure_reason,
        s("InvalidUserNameOrPassword")
    );
    assert_eq!(events[1].outcome, Outcome::Success);
}

#[test]
fn panther_exchange_sample_has_forwarding() {
    let events = read_sample("panther/microsoft_exchange_external_forwarding_tests.json");
    let forwarding: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::MailboxForwarding(f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(forwarding.len(), 7);
    assert_eq!(
        forwarding[0]
            .forward_to
            .iter()
            .map(|a| &*a.address)
            .collect::<Vec<_>>(),
        ["peter.griffin@familyguy.com"]
    );
    let rules: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::InboxRule(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(rules.len(), 3);
    assert!(rules.iter().any(|r| !r.forward_to.is_empty()));
    assert_eq!(
        events[9].ip,
        ip("1.2.3.4"),
        "clientip with a port; not the originatingserver"
    );
}

#[test]
fn otrf_office_activity_sample_has_mail_items_accessed() {
    let events = read_sample("otrf/OfficeActivityEvents.json");
    let e = &events[0];
    assert_eq!(e.format, Format::OfficeActivityTable);
    assert_eq!(
        e.ip,
        ip("1.2.3.4"),
        "Client_IPAddress, not OriginatingServer"
    );
    let k = kind!(e, MailItemsAccessed);
    assert_eq!(k.access_type, MailAccessType::Bind);
    assert_eq!(k.item_count, 7);
    assert_eq!(k.app_id, s("00000003-0000-0000-c000-000000000000"));
}

#[test]
fn otrf_aad_audit_sample_has_a_delegated_permission_grant() {
    let events = read_sample("otrf/AADAuditEvents.json");
    assert!(events
        .iter()
        .all(|e| e.format == Format::LogAnalyticsAuditLogs));
    let creds = kind!(&events[0], ServicePrincipal);
    assert_eq!(
        creds.change,
        vigil_event::ServicePrincipalChangeKind::CredentialsAdded
    );
    assert_eq!(creds.app_name, s("SimuLandApp"));
    let grant = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::AppConsent(c) if c.consent == ConsentKind::DelegatedPermissionGrant => {
                Some(c)
            }
            _ => None,
        })
        .expect("a delegated permission grant");
    assert_eq!(
        grant.scopes.iter().map(|s| &**s).collect::<Vec<_>>(),
        ["User.Read", "Mail.ReadWrite"]
    );
    assert_eq!(events[3].user, s("pgustavo@simulandlabs.com"));
}
