//! Every shape, typed operation and quirk of the logs vigil-sources reads, one fixture each
//! (tests/fixtures/, hand-written after Microsoft's public schemas), with assertions on the
//! normalised events and insta snapshots of the main fixtures.

mod common;

use std::io::Write;

use common::*;
use vigil_event::{
    ConsentKind, DeleteMode, Event, EventKind, FileOperation, Format, MailAccessType, Outcome,
    PrincipalKind, RuleChange, SecurityChange, SendMode, ServicePrincipalChangeKind, Source,
};
use vigil_sources::read_bytes;

fn addresses(list: &[vigil_event::MailAddress]) -> Vec<&str> {
    list.iter().map(|a| &*a.address).collect()
}

fn snapshot(name: &str, events: &[Event]) {
    insta::assert_json_snapshot!(name, without_raw(events));
}

// ---------------------------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------------------------

/// The same three Audit.AzureActiveDirectory records as a content blob (one compact line, no
/// trailing newline, as the API returns it), a pretty-printed array and JSON lines.
const LOGON_LAYOUTS: [&str; 3] = [
    "shape_content_blob.json",
    "shape_pretty_array.json",
    "shape_lines.jsonl",
];

fn check_logons(events: &[Event]) {
    assert_eq!(events.len(), 3);
    let ok = &events[0];
    assert_eq!(&*ok.id, "5b8e1c6a-1f0e-4c55-9d6e-0c3a1e2f4a01");
    assert_eq!(ok.time, ts("2024-03-04T08:15:22Z"));
    assert_eq!(ok.source, Source::Audit);
    assert_eq!(ok.format, Format::ManagementApi);
    assert_eq!(&*ok.operation, "UserLoggedIn");
    assert_eq!(ok.workload.as_deref(), Some("AzureActiveDirectory"));
    assert_eq!(ok.outcome, Outcome::Success);
    assert_eq!(ok.user, s("alice.smith@contoso.com"), "user is lower-cased");
    assert_eq!(ok.ip, ip("203.0.113.10"));
    assert!(ok.user_agent.as_deref().unwrap().contains("Chrome/122"));
    assert_eq!(ok.request_id, s("0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"));
    assert_eq!(ok.correlation_id, s("7d3e2f10-5a6b-4c7d-8e9f-0a1b2c3d4e5f"));
    let sign_in = kind!(ok, SignIn);
    assert!(sign_in.succeeded);
    assert_eq!(sign_in.error_code, Some(0));
    assert_eq!(sign_in.app_id, s("89bee1f7-5e6e-4d8a-9f3d-ecd601259da7"));
    assert_eq!(sign_in.request_type, s("OAuth2:Authorize"));

    let failed = &events[1];
    assert_eq!(&*failed.operation, "UserLoginFailed");
    assert_eq!(failed.outcome, Outcome::Failure);
    assert_eq!(failed.user_agent, s("BAV2ROPC"));
    let sign_in = kind!(failed, SignIn);
    assert!(!sign_in.succeeded);
    assert_eq!(sign_in.error_code, Some(50126));
    assert_eq!(sign_in.failure_reason, s("InvalidUserNameOrPassword"));
    assert_eq!(sign_in.request_type, s("Login:login"));

    let add_user = &events[2];
    assert_eq!(
        &*add_user.operation, "Add user",
        "trailing full stop dropped"
    );
    assert_eq!(add_user.kind, EventKind::Generic);
    assert_eq!(add_user.ip, None);
}

#[test]
fn content_blob_pretty_array_and_json_lines_read_the_same_events() {
    let all: Vec<Vec<Event>> = LOGON_LAYOUTS.iter().map(|f| events(f)).collect();
    for events in &all {
        check_logons(events);
    }
    assert_eq!(without_raw(&all[0]), without_raw(&all[1]));
    assert_eq!(without_raw(&all[0]), without_raw(&all[2]));
    // The raw record is the record's own text, whatever the layout around it.
    let compact: serde_json::Value = serde_json::from_str(&all[0][1].raw).unwrap();
    let pretty: serde_json::Value = serde_json::from_str(&all[1][1].raw).unwrap();
    assert_eq!(compact, pretty);
    assert!(!all[0][1].raw.contains('\n'));
    assert!(all[1][1].raw.contains('\n'));
    snapshot("shape_logons", &all[1]);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn gzip_of_every_layout_reads_like_the_plain_file() {
    let dir = tempfile::tempdir().unwrap();
    for name in LOGON_LAYOUTS {
        let plain = std::fs::read(fixture(name)).unwrap();
        let gz = dir.path().join(format!("{name}.gz"));
        std::fs::write(&gz, gzip(&plain)).unwrap();
        let (from_gz, errors) = read_path(&gz);
        assert!(errors.is_empty(), "{name}.gz: {errors:?}");
        assert_eq!(
            without_raw(&from_gz),
            without_raw(&events(name)),
            "{name}.gz"
        );
        // The name does not matter: gzip is recognised by its magic bytes.
        let disguised = dir.path().join(format!("disguised-{name}"));
        std::fs::write(&disguised, gzip(&plain)).unwrap();
        assert_eq!(read_path(&disguised).0.len(), 3, "{name} without .gz");
    }
}

#[test]
fn multi_member_gzip_is_read_to_the_end() {
    // `cat a.gz b.gz > c.gz`, as log shippers append.
    let plain = std::fs::read(fixture("shape_lines.jsonl")).unwrap();
    let mut both = gzip(&plain);
    both.extend(gzip(&plain));
    let got = read_bytes("both.gz", &both, None);
    assert_eq!(got.len(), 6);
    assert!(got.iter().all(Result::is_ok));
}

#[test]
fn truncated_gzip_keeps_what_was_read_and_reports_the_rest() {
    let plain = std::fs::read(fixture("audit_directory.jsonl")).unwrap();
    let gz = gzip(&plain);
    let cut = &gz[..gz.len() * 2 / 3];
    let got = read_bytes("cut.jsonl.gz", cut, None);
    let errors: Vec<String> = got
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(ToString::to_string)
        .collect();
    assert!(got.iter().filter(|r| r.is_ok()).count() >= 1);
    assert!(
        errors.iter().any(|e| e.contains("read error")),
        "a cut gzip stream must be reported: {errors:?}"
    );
}

#[test]
fn graph_sign_ins_page() {
    let events = events("graph_signins_page.json");
    assert_eq!(
        events.len(),
        3,
        "the value list, not the page, holds the records"
    );
    for e in &events {
        assert_eq!(e.source, Source::SignIn);
        assert_eq!(e.format, Format::GraphSignIn);
        assert_eq!(&*e.operation, "Sign-in activity");
        assert_eq!(e.request_id.as_deref(), Some(&*e.id));
    }
    let alice = &events[0];
    assert_eq!(alice.time, ts("2024-03-04T08:15:21.5543219Z"));
    assert_eq!(alice.user, s("alice.smith@contoso.com"));
    assert_eq!(alice.outcome, Outcome::Success);
    let k = kind!(alice, SignIn);
    assert_eq!(k.error_code, Some(0));
    assert_eq!(k.failure_reason, None, "Graph's \"Other.\" is not a reason");
    assert_eq!(
        k.additional_details,
        s("MFA requirement satisfied by claim in the token")
    );
    assert_eq!(k.interactive, Some(true));
    assert_eq!(k.client_app, s("Browser"));
    assert_eq!(k.auth_requirement, s("multiFactorAuthentication"));
    assert_eq!(k.reported_country, s("GB"));
    assert_eq!(k.device_os, s("Windows10"));
    assert_eq!(k.browser, s("Chrome 122.0.0"));

    let bob = &events[1];
    assert_eq!(bob.outcome, Outcome::Failure);
    assert_eq!(bob.user_agent, s("BAV2ROPC"));
    let k = kind!(bob, SignIn);
    assert_eq!(k.error_code, Some(50126));
    assert_eq!(k.client_app, s("Authenticated SMTP"));
    assert_eq!(k.auth_protocol, s("ropc"));
    assert_eq!(k.interactive, Some(false));
    assert_eq!(k.reported_country, s("NG"));
    assert_eq!(k.device_os, None, "empty strings are absent");

    let carol = &events[2];
    assert_eq!(carol.ip, ip("2001:db8:85a3::8a2e:370:7334"));
    let k = kind!(carol, SignIn);
    assert_eq!(k.error_code, Some(50074));
    assert_eq!(
        k.additional_details,
        s("MFA denied; user declined the authentication")
    );
    assert_eq!(k.auth_protocol, s("deviceCode"));
    snapshot("graph_signins_page", &events);
}

#[test]
fn azure_monitor_envelope_dispatches_on_category() {
    let events = events("azure_monitor_eventhub.jsonl");
    assert_eq!(events.len(), 5, "two envelopes of 2 and 3 records");

    let interactive = by_id(&events, "77ea54eb-6301-4ee5-be62-ff5a759b0200");
    assert_eq!(interactive.format, Format::AzureMonitorSignIn);
    assert_eq!(interactive.time, ts("2024-03-04T09:00:00.1234567Z"));
    let k = kind!(interactive, SignIn);
    assert_eq!(k.principal, PrincipalKind::User);
    assert_eq!(k.interactive, Some(true));
    assert!(k.succeeded);

    let non_interactive = by_id(&events, "77ea54eb-6301-4ee5-be62-ff5a759b0201");
    let k = kind!(non_interactive, SignIn);
    assert_eq!(
        k.interactive,
        Some(false),
        "the NonInteractiveUserSignInLogs category says it"
    );
    assert_eq!(k.client_app, s("Mobile Apps and Desktop clients"));

    let sp = by_id(&events, "77ea54eb-6301-4ee5-be62-ff5a759b0202");
    assert_eq!(sp.outcome, Outcome::Failure);
    assert_eq!(sp.user, s("mail helper pro"));
    assert_eq!(sp.ip, ip("192.0.2.44"));
    let k = kind!(sp, SignIn);
    assert_eq!(k.principal, PrincipalKind::ServicePrincipal);
    assert_eq!(k.error_code, Some(7000215));
    assert_eq!(k.failure_reason, s("Invalid client secret is provided."));
    assert_eq!(k.app_id, s("8a1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"));

    let audit = by_id(
        &events,
        "Directory_1a2b3c4d-0000-4000-8000-000000000300_ABCDE_1234567",
    );
    assert_eq!(audit.source, Source::DirectoryAudit);
    assert_eq!(audit.format, Format::AzureMonitorDirectoryAudit);
    assert_eq!(audit.user, s("admin@contoso.com"));
    assert_eq!(audit.ip, ip("203.0.113.99"));
    assert_eq!(audit.outcome, Outcome::Success);
    let k = kind!(audit, RoleMembership);
    assert!(k.added);
    assert_eq!(k.role, s("Global Administrator"));
    assert_eq!(k.target_user, s("eve.intruder@contoso.com"));

    let risky = by_id(&events, "8b8b8b8b-0000-4000-8000-000000000400");
    assert_eq!(risky.kind, EventKind::Generic);
    assert_eq!(&*risky.operation, "RiskyUsers");
    assert_eq!(risky.time, ts("2024-03-04T09:03:00Z"));
    assert_eq!(risky.ip, None);
    assert_eq!(
        risky.field("properties.riskLevel"),
        Some(serde_json::json!("high")),
        "a generic record keeps every field"
    );
    snapshot("azure_monitor_eventhub", &events);
}

#[test]
fn log_analytics_sign_in_rows() {
    let events = events("la_signinlogs.json");
    assert_eq!(events.len(), 3);
    let failed = &events[0];
    assert_eq!(failed.format, Format::LogAnalyticsSignIn);
    assert_eq!(
        failed.time,
        ts("2024-03-04T10:00:00.7654321Z"),
        "CreatedDateTime, not TimeGenerated"
    );
    assert_eq!(failed.outcome, Outcome::Failure);
    assert_eq!(failed.user_agent, None);
    let k = kind!(failed, SignIn);
    assert_eq!(
        k.error_code,
        Some(50126),
        "ResultType \"50126\" and Status as a JSON string"
    );
    assert_eq!(
        k.failure_reason,
        s("Error validating credentials due to invalid username or password.")
    );
    assert_eq!(
        k.reported_country,
        s("NG"),
        "LocationDetails as a JSON string"
    );
    assert_eq!(k.device_os, s("Windows10"), "DeviceDetail as a JSON string");
    assert_eq!(k.client_app, s("IMAP4"));
    assert_eq!(k.interactive, Some(true));

    let ok = &events[1];
    assert_eq!(ok.outcome, Outcome::Success);
    assert_eq!(kind!(ok, SignIn).error_code, Some(0));

    let non_interactive = &events[2];
    let k = kind!(non_interactive, SignIn);
    assert_eq!(k.interactive, Some(false));
    assert_eq!(k.principal, PrincipalKind::User);
    snapshot("la_signinlogs", &events);
}

#[test]
fn graph_directory_audits_page() {
    let events = events("graph_directory_audits.json");
    assert_eq!(events.len(), 9);
    assert!(events
        .iter()
        .all(|e| e.format == Format::GraphDirectoryAudit && e.source == Source::DirectoryAudit));

    let consent = &events[0];
    assert_eq!(consent.time, ts("2024-03-06T12:00:00.1234567Z"));
    assert_eq!(consent.user, s("alice.smith@contoso.com"));
    assert_eq!(consent.ip, ip("203.0.113.10"));
    assert_eq!(consent.user_agent, s("EvoSTS"));
    let k = kind!(consent, AppConsent);
    assert_eq!(k.consent, ConsentKind::ConsentToApplication);
    assert_eq!(k.app_name, s("Mail Helper Pro"));
    assert_eq!(
        k.app_id,
        s("8a1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"),
        "the app id from TargetId.ServicePrincipalNames, not the service principal's object id"
    );
    assert_eq!(
        k.scopes.iter().map(|s| &**s).collect::<Vec<_>>(),
        ["Mail.Read", "Files.Read.All", "offline_access"]
    );
    assert_eq!(k.admin_consent, Some(true));

    let grant = kind!(&events[1], AppConsent);
    assert_eq!(grant.consent, ConsentKind::DelegatedPermissionGrant);
    assert_eq!(grant.scopes.len(), 3);

    let added = kind!(&events[2], ServicePrincipal);
    assert_eq!(added.change, ServicePrincipalChangeKind::Added);
    assert_eq!(
        added.app_id,
        s("8a1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"),
        "AppPrincipalId"
    );
    let creds = kind!(&events[3], ServicePrincipal);
    assert_eq!(creds.change, ServicePrincipalChangeKind::CredentialsAdded);
    assert_eq!(creds.app_name, s("Mail Helper Pro"));

    let registered = &events[4];
    assert_eq!(registered.user, s("carol.white@contoso.com"));
    assert_eq!(registered.ip, ip("198.51.100.23"));
    let k = kind!(registered, AccountSecurity);
    assert_eq!(k.change, SecurityChange::SecurityInfoRegistered);
    assert_eq!(k.target_user, s("carol.white@contoso.com"));

    let reset = &events[5];
    assert_eq!(reset.outcome, Outcome::Failure, "result \"failure\"");
    assert_eq!(
        kind!(reset, AccountSecurity).change,
        SecurityChange::PasswordReset
    );

    let removed = kind!(&events[6], RoleMembership);
    assert!(!removed.added);
    assert_eq!(
        removed.role,
        s("Exchange Administrator"),
        "a removal names the role in oldValue"
    );
    assert_eq!(removed.target_user, s("eve.intruder@contoso.com"));

    let update = kind!(&events[7], AccountSecurity);
    assert_eq!(update.change, SecurityChange::StrongAuthenticationChanged);
    assert_eq!(update.target_user, s("dave@contoso.com"));

    let by_app = &events[8];
    assert_eq!(
        by_app.user,
        s("microsoft azure ad connect"),
        "an app initiator with a null servicePrincipalName is named by its displayName"
    );
    let k = kind!(by_app, AppConsent);
    assert_eq!(k.consent, ConsentKind::AppRoleAssignment);
    assert_eq!(
        k.scopes.iter().map(|s| &**s).collect::<Vec<_>>(),
        ["Mail.ReadWrite"]
    );
    snapshot("graph_directory_audits", &events);
}

#[test]
fn log_analytics_audit_logs_rows() {
    let events = events("la_auditlogs.jsonl");
    assert_eq!(events.len(), 3);
    assert!(events
        .iter()
        .all(|e| e.format == Format::LogAnalyticsAuditLogs));
    let disable = &events[0];
    assert_eq!(disable.time, ts("2024-03-06T13:00:00.123Z"));
    assert_eq!(
        disable.user,
        s("admin@contoso.com"),
        "InitiatedBy as a JSON string"
    );
    assert_eq!(disable.ip, ip("203.0.113.99"));
    assert_eq!(
        disable.user_agent,
        s("Mozilla/5.0 (Windows NT 10.0) WindowsPowerShell/5.1")
    );
    let k = kind!(disable, AccountSecurity);
    assert_eq!(k.change, SecurityChange::StrongAuthenticationDisabled);
    assert_eq!(
        k.target_user,
        s("dave@contoso.com"),
        "TargetResources as a JSON string"
    );
    let role = kind!(&events[1], RoleMembership);
    assert_eq!(role.role, s("Privileged Role Administrator"));
    assert_eq!(events[1].ip, None, "ipAddress null");
    let other = &events[2];
    assert_eq!(other.kind, EventKind::Generic);
    assert_eq!(other.user, s("microsoft graph powershell"));
    snapshot("la_auditlogs", &events);
}

#[test]
fn office_activity_table_rows() {
    let events = events("office_activity.jsonl");
    assert_eq!(events.len(), 3);
    assert!(events
        .iter()
        .all(|e| e.format == Format::OfficeActivityTable));

    let rule = &events[0];
    assert_eq!(
        &*rule.id, "aa000000-0000-4000-8000-000000000001",
        "OfficeId"
    );
    assert_eq!(rule.time, ts("2024-03-05T10:01:07Z"), "TimeGenerated");
    assert_eq!(rule.workload.as_deref(), Some("Exchange"), "OfficeWorkload");
    assert_eq!(rule.ip, ip("198.51.100.77"));
    let k = kind!(rule, InboxRule);
    assert_eq!(k.change, RuleChange::New);
    assert_eq!(k.rule_name, s("Security"), "Parameters as a JSON string");
    assert_eq!(k.move_to_folder, s("Conversation History"));
    assert!(k.marks_as_read && k.stops_processing && !k.deletes);
    assert_eq!(
        k.mailbox,
        s("alice.smith@contoso.com"),
        "from OfficeObjectId"
    );

    let read = &events[1];
    assert_eq!(read.ip, ip("203.0.113.10"), "Client_IPAddress");
    let k = kind!(read, MailItemsAccessed);
    assert_eq!(k.access_type, MailAccessType::Bind);
    assert_eq!(k.operation_count, 12);
    assert_eq!(k.item_count, 2, "Folders as a JSON string");
    assert_eq!(k.app_id, s("00000003-0000-0000-c000-000000000000"));

    let download = &events[2];
    assert_eq!(download.workload.as_deref(), Some("SharePoint"));
    assert_eq!(download.outcome, Outcome::Unknown, "empty ResultStatus");
    let k = kind!(download, FileActivity);
    assert_eq!(k.operation, FileOperation::Downloaded);
    assert_eq!(
        k.object_url,
        s("https://contoso.sharepoint.com/sites/Finance/Shared Documents/Budget 2024.xlsx"),
        "OfficeObjectId"
    );
    assert_eq!(
        k.site_url,
        s("https://contoso.sharepoint.com/sites/Finance/"),
        "Site_Url"
    );
    snapshot("office_activity", &events);
}

#[test]
fn message_trace_reporting_web_service() {
    let events = events("message_trace_reporting.json");
    assert_eq!(
        events.len(),
        4,
        "the rows of {{\"d\":{{\"results\":[...]}}}}"
    );
    assert!(events
        .iter()
        .all(|e| e.format == Format::MessageTraceReporting));
    let first = &events[0];
    assert_eq!(
        &*first.id,
        "a7c1e0f2-1111-4222-8333-000000000001:exfil@fabrikam.example"
    );
    assert_eq!(
        first.time,
        ts("2024-03-07T09:00:00.250Z"),
        "\\/Date(ms)\\/ is UTC epoch milliseconds"
    );
    assert_eq!(first.user, s("alice.smith@contoso.com"));
    assert_eq!(first.ip, ip("203.0.113.10"));
    assert_eq!(first.outcome, Outcome::Success);
    let k = kind!(first, MessageTrace);
    assert_eq!(k.subject, s("Q1 invoice"));
    assert_eq!(k.size, Some(48213));
    assert_eq!(k.to_ip, None, "ToIP null");
    // One trace id, two recipients: two events with distinct ids.
    assert_eq!(
        &*events[1].id,
        "a7c1e0f2-1111-4222-8333-000000000001:bob.jones@contoso.com"
    );
    assert_eq!(events[2].outcome, Outcome::Unknown, "FilteredAsSpam");
    let failed = &events[3];
    assert_eq!(failed.outcome, Outcome::Failure);
    assert_eq!(kind!(failed, MessageTrace).to_ip, ip("2001:db8:1::25"));
    snapshot("message_trace_reporting", &events);
}

#[test]
fn message_trace_with_iso_timestamps() {
    let events = events("message_trace_iso.json");
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.format == Format::MessageTraceIso));
    assert_eq!(
        events[0].time,
        ts("2024-03-07T10:15:30.1234567Z"),
        "no zone: UTC"
    );
    assert_eq!(
        events[1].time,
        ts("2024-03-07T10:15:30Z"),
        "+01:00 converted to UTC"
    );
    assert_eq!(
        kind!(&events[0], MessageTrace).size,
        Some(23456),
        "Size \"23456\""
    );
    assert_eq!(kind!(&events[1], MessageTrace).to_ip, None, "ToIP \"\"");
    assert_eq!(kind!(&events[1], MessageTrace).status, s("Quarantined"));
    snapshot("message_trace_iso", &events);
}

#[test]
fn sentinel_lower_cased_keys() {
    let events = events("sentinel_lowercase.json");
    assert_eq!(events.len(), 2);
    let rule = &events[0];
    assert_eq!(rule.format, Format::ManagementApi);
    assert_eq!(rule.time, ts("2024-03-05T10:30:00Z"));
    assert_eq!(rule.user, s("alice.smith@contoso.com"));
    assert_eq!(
        rule.ip,
        ip("2001:db8::5"),
        "not the originatingserver's 15.20.1.2"
    );
    let k = kind!(rule, InboxRule);
    assert_eq!(addresses(&k.forward_to), ["drop@fabrikam.example"]);
    assert_eq!(k.mailbox, s("alice.smith@contoso.com"));

    let failed = &events[1];
    assert_eq!(failed.outcome, Outcome::Failure);
    assert_eq!(failed.user_agent, s("python-requests/2.31.0"));
    assert_eq!(failed.request_id, s("0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a99"));
    let k = kind!(failed, SignIn);
    assert_eq!(k.error_code, Some(50053));
    assert_eq!(k.failure_reason, s("IdsLocked"));
    assert_eq!(k.request_type, s("OAuth2:Token"));
    snapshot("sentinel_lowercase", &events);
}

// ---------------------------------------------------------------------------------------------
// Typed events
// ---------------------------------------------------------------------------------------------

#[test]
fn inbox_rule_operations() {
    let events = events("audit_inbox_rules.jsonl");
    let changes: Vec<RuleChange> = events.iter().map(|e| kind!(e, InboxRule).change).collect();
    assert_eq!(
        changes,
        [
            RuleChange::New,
            RuleChange::Set,
            RuleChange::Remove,
            RuleChange::Enable,
            RuleChange::Disable,
            // UpdateInboxRules with RuleOperation AddMailboxRule
            RuleChange::New,
        ]
    );
    let new = kind!(&events[0], InboxRule);
    assert_eq!(new.rule_name, s("."));
    assert_eq!(addresses(&new.forward_to), ["exfil@fabrikam.example"]);
    assert!(new.deletes && new.marks_as_read && new.stops_processing);
    assert_eq!(new.conditions.len(), 1);
    assert_eq!(&*new.conditions[0].name, "SubjectOrBodyContainsWords");
    assert_eq!(&*new.conditions[0].value, "invoice;payment;wire transfer");
    assert_eq!(new.mailbox, s("alice.smith@contoso.com"));
    assert_eq!(new.parameters.len(), 8);
    assert_eq!(events[0].ip, ip("198.51.100.77"), "ClientIP with a port");

    let set = kind!(&events[1], InboxRule);
    assert_eq!(set.rule_name, s("Invoices"), "from Identity mailbox\\rule");
    assert_eq!(
        addresses(&set.forward_to),
        ["eve@fabrikam.example"],
        "\"Eve Example\" [SMTP:Eve@Fabrikam.example]"
    );
    assert_eq!(set.move_to_folder, s("RSS Subscriptions"));
    assert!(!set.deletes);

    let enable = kind!(&events[3], InboxRule);
    assert_eq!(
        enable.mailbox,
        s("bob.jones@contoso.com"),
        "the rule's mailbox, not the admin"
    );
    assert_eq!(events[3].user, s("admin@contoso.com"));

    let update = &events[5];
    let k = kind!(update, InboxRule);
    assert_eq!(k.rule_name, s("Move to RSS"));
    assert_eq!(
        k.move_to_folder,
        s("RSS Subscriptions"),
        "from RuleActions JSON"
    );
    assert_eq!(addresses(&k.forward_to), ["drop@fabrikam.example"]);
    assert_eq!(k.mailbox, s("alice.smith@contoso.com"));
    snapshot("audit_inbox_rules", &events);
}

#[test]
fn mailbox_forwarding_and_transport_rules() {
    let events = events("audit_forwarding.jsonl");
    assert_eq!(events.len(), 6);
    let smtp = kind!(&events[0], MailboxForwarding);
    assert_eq!(
        addresses(&smtp.forward_to),
        ["alice.personal@fabrikam.example"]
    );
    assert_eq!(smtp.deliver_and_forward, Some(true));
    assert_eq!(smtp.mailbox, s("alice.smith@contoso.com"));
    assert!(!smtp.cleared);

    let recipient = kind!(&events[1], MailboxForwarding);
    assert!(recipient.forward_to.is_empty());
    assert_eq!(recipient.forwarding_recipient, s("External Contact Eve"));
    assert_eq!(recipient.deliver_and_forward, Some(false));
    assert!(!recipient.cleared);

    let deliver_only = kind!(&events[2], MailboxForwarding);
    assert_eq!(deliver_only.deliver_and_forward, Some(true));
    assert!(
        !deliver_only.cleared,
        "DeliverToMailboxAndForward alone does not remove forwarding"
    );

    let cleared = kind!(&events[3], MailboxForwarding);
    assert!(cleared.cleared, "ForwardingSmtpAddress set to null");
    assert!(cleared.forward_to.is_empty());

    assert_eq!(
        events[4].kind,
        EventKind::Generic,
        "Set-Mailbox without forwarding"
    );

    let transport = kind!(&events[5], TransportRule);
    assert_eq!(transport.rule_name, s("Route finance mail"));
    assert_eq!(
        addresses(&transport.forward_to),
        ["collector@fabrikam.example"]
    );
    assert!(!transport.deletes);
    snapshot("audit_forwarding", &events);
}

#[test]
fn directory_operations_from_the_management_api() {
    let events = events("audit_directory.jsonl");
    assert_eq!(events.len(), 11);
    let app_id = s("8a1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");

    let consent = kind!(&events[0], AppConsent);
    assert_eq!(&*events[0].operation, "Consent to application");
    assert_eq!(consent.consent, ConsentKind::ConsentToApplication);
    assert_eq!(
        consent.app_name,
        s("Mail Helper Pro"),
        "target of type 1 (name)"
    );
    assert_eq!(
        consent.app_id, app_id,
        "target of type 4 (SPN) or TargetId.ServicePrincipalNames, not the object id"
    );
    assert_eq!(
        consent.scopes.iter().map(|s| &**s).collect::<Vec<_>>(),
        ["Mail.ReadWrite", "Mail.Send", "offline_access", "User.Read"]
    );
    assert_eq!(consent.admin_consent, Some(false));

    let grant = kind!(&events[1], AppConsent);
    assert_eq!(grant.consent, ConsentKind::DelegatedPermissionGrant);
    assert_eq!(grant.app_id, app_id, "ServicePrincipal.AppId");
    assert_eq!(grant.scopes.len(), 4);

    let added = kind!(&events[2], ServicePrincipal);
    assert_eq!(added.change, ServicePrincipalChangeKind::Added);
    assert_eq!(added.app_id, app_id);
    assert_eq!(added.app_name, s("Mail Helper Pro"));

    let role_assignment = kind!(&events[3], AppConsent);
    assert_eq!(role_assignment.consent, ConsentKind::AppRoleAssignment);
    assert_eq!(
        role_assignment
            .scopes
            .iter()
            .map(|s| &**s)
            .collect::<Vec<_>>(),
        ["Mail.ReadWrite"]
    );

    let creds = kind!(&events[4], ServicePrincipal);
    assert_eq!(creds.change, ServicePrincipalChangeKind::CredentialsAdded);
    assert_eq!(creds.app_id, app_id);

    let security: Vec<(SecurityChange, Option<Box<str>>)> = events[5..9]
        .iter()
        .map(|e| {
            let k = kind!(e, AccountSecurity);
            (k.change, k.target_user.clone())
        })
        .collect();
    assert_eq!(
        security,
        [
            (
                SecurityChange::SecurityInfoRegistered,
                s("carol.white@contoso.com")
            ),
            (
                SecurityChange::StrongAuthenticationChanged,
                s("carol.white@contoso.com")
            ),
            (
                SecurityChange::StrongAuthenticationDisabled,
                s("dave@contoso.com")
            ),
            (SecurityChange::PasswordReset, s("dave@contoso.com")),
        ]
    );
    let update = kind!(&events[6], AccountSecurity);
    assert!(update
        .properties
        .iter()
        .any(|p| &**p == "StrongAuthenticationMethod"));

    let add = kind!(&events[9], RoleMembership);
    assert!(add.added);
    assert_eq!(add.role, s("Global Administrator"));
    assert_eq!(add.target_user, s("eve.intruder@contoso.com"));
    let remove = kind!(&events[10], RoleMembership);
    assert!(!remove.added);
    assert_eq!(remove.role, s("Global Administrator"));
    snapshot("audit_directory", &events);
}

#[test]
fn mailbox_item_operations() {
    let events = events("audit_mailbox.jsonl");
    assert_eq!(events.len(), 8);
    let modes: Vec<SendMode> = events[..3]
        .iter()
        .map(|e| kind!(e, MailSend).mode)
        .collect();
    assert_eq!(
        modes,
        [SendMode::Send, SendMode::SendAs, SendMode::SendOnBehalf]
    );
    let send = kind!(&events[0], MailSend);
    assert_eq!(send.subject, s("Q1 invoice"), "Item.Subject");
    assert_eq!(send.internet_message_id, s("<AM0PR01MB1234.1@contoso.com>"));
    assert_eq!(
        send.client_app_id,
        s("d3590ed6-52b3-4102-aeff-aad2292ab01c")
    );
    let send_as = kind!(&events[1], MailSend);
    assert_eq!(send_as.mailbox, s("ceo@contoso.com"));
    assert_eq!(events[1].user, s("bob.jones@contoso.com"));
    assert_eq!(
        kind!(&events[2], MailSend).subject,
        s("Updated bank details")
    );

    let bind = kind!(&events[3], MailItemsAccessed);
    assert_eq!(bind.access_type, MailAccessType::Bind);
    assert_eq!(bind.operation_count, 3, "OperationCount \"3\"");
    assert_eq!(bind.item_count, 3, "FolderItems across two folders");
    assert!(!bind.throttled);
    assert_eq!(events[3].ip, ip("203.0.113.10"), "ClientIPAddress");
    let sync = kind!(&events[4], MailItemsAccessed);
    assert_eq!(sync.access_type, MailAccessType::Sync);
    assert_eq!(sync.operation_count, 1);
    assert_eq!(sync.item_count, 0);
    assert!(sync.throttled);

    let deletes: Vec<(DeleteMode, u64)> = events[5..]
        .iter()
        .map(|e| {
            let k = kind!(e, MailDelete);
            (k.mode, k.item_count)
        })
        .collect();
    assert_eq!(
        deletes,
        [
            (DeleteMode::SoftDelete, 2),
            (DeleteMode::HardDelete, 1),
            (DeleteMode::MoveToDeletedItems, 3)
        ]
    );
    assert_eq!(
        kind!(&events[5], MailDelete)
            .subjects
            .iter()
            .map(|s| &**s)
            .collect::<Vec<_>>(),
        ["Security alert: new sign-in", "MFA method added"]
    );
    snapshot("audit_mailbox", &events);
}

#[test]
fn sharepoint_file_operations() {
    let events = events("audit_sharepoint.jsonl");
    let ops: Vec<FileOperation> = events
        .iter()
        .map(|e| kind!(e, FileActivity).operation)
        .collect();
    assert_eq!(
        ops,
        [
            FileOperation::Accessed,
            FileOperation::Downloaded,
            FileOperation::SyncDownloadedFull,
            FileOperation::Uploaded,
            FileOperation::Deleted,
            FileOperation::SharingSet,
            FileOperation::AnonymousLinkCreated,
        ]
    );
    let download = kind!(&events[1], FileActivity);
    assert_eq!(download.file_name, s("Budget 2024.xlsx"));
    assert_eq!(
        download.object_url,
        s("https://contoso.sharepoint.com/sites/Finance/Shared Documents/Budget 2024.xlsx")
    );
    assert_eq!(
        download.site_url,
        s("https://contoso.sharepoint.com/sites/Finance/")
    );
    let sharing = kind!(&events[5], FileActivity);
    assert_eq!(sharing.target_user, s("eve.partner@fabrikam.example"));
    assert!(events[2]
        .user_agent
        .as_deref()
        .unwrap()
        .starts_with("Microsoft SkyDriveSync"));
    snapshot("audit_sharepoint", &events);
}

#[test]
fn unknown_operation_stays_generic_and_keeps_its_fields() {
    let events = events("audit_generic.json");
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.kind, EventKind::Generic);
    assert!(!e.is_typed());
    assert_eq!(&*e.operation, "Set-OrganizationConfig");
    assert_eq!(
        e.field("Parameters.AuditDisabled"),
        Some(serde_json::json!("True"))
    );
    assert_eq!(
        e.field("parameters.mailtipsexternalrecipientstipsenabled"),
        Some(serde_json::json!("False")),
        "case-insensitive"
    );
    assert_eq!(
        e.field("OrganizationName"),
        Some(serde_json::json!("contoso.onmicrosoft.com"))
    );
    assert_eq!(e.field("Parameters.Missing"), None);
}

// ---------------------------------------------------------------------------------------------
// Quirks
// ---------------------------------------------------------------------------------------------

#[test]
fn quirk_numbers_as_strings() {
    let events = events("quirk_numbers_as_strings.jsonl");
    assert_eq!(events.len(), 4);
    assert_eq!(
        kind!(&events[0], SignIn).error_code,
        Some(50126),
        "ErrorNumber \"50126\""
    );
    assert_eq!(
        kind!(&events[1], SignIn).error_code,
        Some(50053),
        "ErrorNumber as a number"
    );
    assert_eq!(kind!(&events[2], MailItemsAccessed).operation_count, 7);
    assert_eq!(
        kind!(&events[3], MailItemsAccessed).operation_count,
        2,
        "\" 2 \""
    );
}

#[test]
fn quirk_parameters_delivered_as_a_string() {
    let events = events("quirk_parameters_string.jsonl");
    let rule = kind!(&events[0], InboxRule);
    assert_eq!(rule.rule_name, s("fwd"));
    assert_eq!(addresses(&rule.forward_to), ["exfil@fabrikam.example"]);
    assert!(rule.stops_processing);
    assert_eq!(
        rule.mailbox,
        s("alice.smith@contoso.com"),
        "Mailbox parameter"
    );
    let fwd = kind!(&events[1], MailboxForwarding);
    assert_eq!(addresses(&fwd.forward_to), ["out@fabrikam.example"]);
}

#[test]
fn quirk_client_ip_shapes() {
    let events = events("quirk_client_ip.jsonl");
    let ips: Vec<Option<std::net::IpAddr>> = events.iter().map(|e| e.ip).collect();
    assert_eq!(
        ips,
        [
            ip("198.51.100.7"), // with a port
            ip("2001:db8::7"),  // [IPv6]:port
            ip("2001:db8::9"),  // [IPv6]
            ip("2001:db8::8"),  // bare IPv6, upper case
            ip("192.0.2.5"),    // IPv4-mapped IPv6
            ip("203.0.113.9"),  // empty ClientIP, ClientIPAddress set
            None,               // empty
            None,               // missing
            None,               // null
            ip("203.0.113.11"), // padded
        ]
    );
}

#[test]
fn quirk_values_that_look_like_ips_are_not_event_ips() {
    let events = events("quirk_ip_lookalike.jsonl");
    assert_eq!(events.len(), 5);
    for e in &events {
        assert_eq!(e.ip, None, "{}: {:?}", e.id, e.ip);
    }
}

#[test]
fn quirk_operation_names_with_and_without_full_stop() {
    let events = events("quirk_operation_full_stop.jsonl");
    let ops: Vec<&str> = events.iter().map(|e| &*e.operation).collect();
    assert_eq!(
        ops,
        [
            "Add member to role",
            "Add member to role",
            "Remove member from role",
            "Reset user password",
            "Reset user password"
        ]
    );
    assert_eq!(without_raw(&events[..1])[0].kind, events[1].kind);
    assert!(kind!(&events[0], RoleMembership).added);
    assert!(!kind!(&events[2], RoleMembership).added);
    assert_eq!(
        kind!(&events[2], RoleMembership).role,
        s("Security Administrator")
    );
    assert_eq!(events[3].kind, events[4].kind);
    assert_eq!(
        kind!(&events[3], AccountSecurity).change,
        SecurityChange::PasswordReset
    );
}

#[test]
fn quirk_name_value_pairs_in_any_case() {
    let events = events("quirk_name_value_case.jsonl");
    let fwd = kind!(&events[0], MailboxForwarding);
    assert_eq!(
        addresses(&fwd.forward_to),
        ["a@fabrikam.example"],
        "name/value"
    );
    assert_eq!(fwd.mailbox, s("alice.smith@contoso.com"));
    let rule = kind!(&events[1], InboxRule);
    assert_eq!(rule.rule_name, s("caps"), "NAME/VALUE");
    assert_eq!(addresses(&rule.forward_to), ["b@fabrikam.example"]);
    assert!(rule.deletes, "VALUE true as a JSON boolean");
    assert_eq!(
        kind!(&events[2], RoleMembership).role,
        s("Exchange Administrator"),
        "name/newvalue"
    );
    assert_eq!(
        events[3].user_agent,
        s("Mozilla/5.0 (X11; Linux x86_64) Firefox/123.0")
    );
    assert_eq!(kind!(&events[3], SignIn).request_type, s("Login:reprocess"));
}

#[test]
fn quirk_error_number_and_error_code() {
    let events = events("quirk_error_number_vs_code.jsonl");
    let codes: Vec<Option<i64>> = events.iter().map(|e| kind!(e, SignIn).error_code).collect();
    assert_eq!(
        codes,
        [Some(50126), Some(50053), Some(50126), Some(0)],
        "ErrorNumber, then ErrorCode, ErrorNumber first when both, 0 for a success"
    );
}

#[test]
fn quirk_user_login_failed_with_result_status_success() {
    let events = events("quirk_success_on_failed_logon.jsonl");
    assert_eq!(events[0].outcome, Outcome::Failure, "ResultStatus Success");
    assert!(!kind!(&events[0], SignIn).succeeded);
    assert_eq!(
        events[1].outcome,
        Outcome::Failure,
        "ResultStatus Succeeded"
    );
    assert_eq!(
        kind!(&events[1], SignIn).failure_reason,
        s("InvalidUserNameOrPassword")
    );
    assert_eq!(events[2].outcome, Outcome::Success);
}

#[test]
fn quirk_creation_time_without_a_zone_is_utc() {
    let events = events("quirk_time_without_zone.jsonl");
    let times: Vec<_> = events.iter().map(|e| e.time).collect();
    assert_eq!(
        times,
        [
            ts("2024-03-04T08:15:22Z"),
            ts("2024-03-04T08:15:22Z"),
            ts("2024-03-04T08:15:22.1234567Z"),
            ts("2024-03-04T08:15:22Z"),
            ts("2024-03-04T08:15:22Z"),
        ]
    );
}

#[test]
fn quirk_utf8_byte_order_mark() {
    for name in ["quirk_bom_lines.jsonl", "quirk_bom_array.json"] {
        let events = events(name);
        assert_eq!(events.len(), 2, "{name}");
        assert_eq!(&*events[0].id, "qa000000-0000-4000-8000-000000000001");
        assert!(!events[0].raw.starts_with('\u{feff}'));
    }
}

#[test]
fn quirk_crlf_line_endings() {
    let (events, errors) = read_fixture("quirk_crlf.jsonl");
    assert_eq!(events.len(), 2);
    assert!(!events[0].raw.ends_with('\r'));
    assert_eq!(
        error_lines(&errors),
        ["fixtures/quirk_crlf.jsonl:2: not JSON: expected ident at line 1 column 2"]
    );
    let (events, errors) = read_fixture("quirk_crlf_array.json");
    assert!(errors.is_empty());
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].time, ts("2024-03-10T15:00:02Z"));
}

#[test]
fn quirk_management_record_copied_into_a_log_analytics_table() {
    // CreationTime beside TimeGenerated, Workload beside OfficeWorkload: serde aliases would
    // reject these as duplicate fields.
    let events = events("quirk_duplicate_columns.jsonl");
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0].time,
        ts("2024-03-10T16:00:00Z"),
        "CreationTime wins over TimeGenerated"
    );
    assert_eq!(events[1].workload.as_deref(), Some("SharePoint"));
}

#[test]
fn quirk_json_lines_with_a_cut_first_line() {
    let (events, errors) = read_fixture("quirk_first_line_truncated.jsonl");
    assert_eq!(events.len(), 2, "the records after the cut line are read");
    assert_eq!(&*events[0].id, "qd000000-0000-4000-8000-000000000002");
    assert_eq!(
        error_lines(&errors),
        ["fixtures/quirk_first_line_truncated.jsonl:1: not JSON: EOF while parsing a string at line 1 column 57"]
    );
}

#[test]
fn quirk_json_lines_with_a_junk_first_line() {
    let input = b"exported by a script at 2024-03-10\n{\"CreationTime\":\"2024-03-10T10:00:00\",\"Id\":\"j1\",\"Operation\":\"FileAccessed\"}\n{\"CreationTime\":\"2024-03-10T10:00:01\",\"Id\":\"j2\",\"Operation\":\"FileAccessed\"}\n";
    let got = read_bytes("junk.jsonl", input, None);
    let errors: Vec<String> = got
        .iter()
        .filter_map(|r| r.as_ref().err().map(ToString::to_string))
        .collect();
    assert_eq!(
        errors,
        ["junk.jsonl:1: not JSON: expected value at line 1 column 1"]
    );
    assert_eq!(got.iter().filter(|r| r.is_ok()).count(), 2);
    // A file that is not JSON at all is still one error, not one per line.
    let got = read_bytes("notes.md", b"# Notes\n\nsome text\n{\"a\":1}\n", None);
    assert_eq!(got.len(), 1);
}

#[test]
fn a_pretty_envelope_with_one_record_per_line_is_not_mistaken_for_json_lines() {
    let record = std::fs::read_to_string(fixture("shape_lines.jsonl")).unwrap();
    let first = record.lines().next().unwrap();
    let input = format!("{{\"value\": [\n{first}\n]}}\n");
    let got = read_bytes("page.json", input.as_bytes(), None);
    assert_eq!(got.len(), 1);
    assert!(got[0].is_ok(), "{:?}", got[0]);
}

// ---------------------------------------------------------------------------------------------
// Bad input: each bad record is a RecordError `path:line: [field `X`: ]reason`; the good
// records around it are read.
// ---------------------------------------------------------------------------------------------

fn good_ids(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| &*e.id).collect()
}

#[test]
fn bad_lines_that_are_not_json() {
    let (events, errors) = read_fixture("bad_not_json.jsonl");
    assert_eq!(
        good_ids(&events),
        [
            "bad00000-0000-4000-8000-000000000001",
            "bad00000-0000-4000-8000-000000000003",
            "bad00000-0000-4000-8000-000000000006"
        ]
    );
    assert_eq!(
        error_lines(&errors),
        [
            "fixtures/bad_not_json.jsonl:2: not JSON: expected ident at line 1 column 2",
            "fixtures/bad_not_json.jsonl:4: not JSON: expected value at line 1 column 8",
        ]
    );
    assert!(errors.iter().all(|e| e.field.is_none()));
}

#[test]
fn bad_records_without_required_fields() {
    let (events, errors) = read_fixture("bad_missing_fields.jsonl");
    assert_eq!(
        good_ids(&events),
        [
            "bad00000-0000-4000-8000-000000000001",
            "bad00000-0000-4000-8000-000000000007"
        ]
    );
    assert_eq!(
        error_lines(&errors),
        [
            "fixtures/bad_missing_fields.jsonl:2: field `Id`: required field is missing or empty",
            "fixtures/bad_missing_fields.jsonl:3: field `CreationTime`: required field is missing or empty",
            "fixtures/bad_missing_fields.jsonl:4: field `Operation`: required field is missing or empty",
            "fixtures/bad_missing_fields.jsonl:5: field `Id`: required field is missing or empty",
            "fixtures/bad_missing_fields.jsonl:6: field `Operation`: required field is missing or empty",
        ]
    );
    assert_eq!(errors[0].field.as_deref(), Some("Id"));
    assert_eq!(errors[0].line, 2);
}

#[test]
fn bad_impossible_timestamps() {
    let (events, errors) = read_fixture("bad_impossible_time.jsonl");
    assert_eq!(
        good_ids(&events),
        [
            "bad00000-0000-4000-8000-000000000001",
            "bad00000-0000-4000-8000-000000000005"
        ]
    );
    assert_eq!(
        error_lines(&errors),
        [
            "fixtures/bad_impossible_time.jsonl:2: field `CreationTime`: cannot read \"2022-02-30T10:00:00\" as a timestamp",
            "fixtures/bad_impossible_time.jsonl:3: field `CreationTime`: cannot read \"0001-01-01T00:00:00\" as a timestamp",
            "fixtures/bad_impossible_time.jsonl:4: field `CreationTime`: cannot read \"2024-03-11T25:00:00\" as a timestamp",
        ]
    );
}

#[test]
fn bad_truncated_file() {
    let (events, errors) = read_fixture("bad_truncated.json");
    assert_eq!(
        good_ids(&events),
        [
            "bad00000-0000-4000-8000-000000000001",
            "bad00000-0000-4000-8000-000000000002"
        ]
    );
    // The third record starts on line 26 of the pretty-printed array.
    assert_eq!(
        error_lines(&errors),
        ["fixtures/bad_truncated.json:26: input ends inside this record (truncated file?)"]
    );
}

#[test]
fn bad_scalars_in_an_array() {
    let (events, errors) = read_fixture("bad_scalar_in_array.json");
    assert_eq!(
        good_ids(&events),
        [
            "bad00000-0000-4000-8000-000000000001",
            "bad00000-0000-4000-8000-000000000006"
        ]
    );
    assert_eq!(
        error_lines(&errors),
        [
            "fixtures/bad_scalar_in_array.json:14: expected a JSON object (a record), found a number",
            "fixtures/bad_scalar_in_array.json:15: expected a JSON object (a record), found a string",
            "fixtures/bad_scalar_in_array.json:16: expected a JSON object (a record), found null",
            "fixtures/bad_scalar_in_array.json:17: expected a JSON object (a record), found an array",
        ]
    );
}

#[test]
fn bad_records_inside_an_envelope_carry_their_own_line() {
    let input = "{\"value\": [\n  {\"id\": \"a\", \"createdDateTime\": \"2024-03-04T08:00:00Z\", \"userPrincipalName\": \"a@contoso.com\", \"status\": {\"errorCode\": 0}},\n  {\"id\": \"b\", \"createdDateTime\": \"2024-02-30T08:00:00Z\", \"userPrincipalName\": \"b@contoso.com\"},\n  7,\n  {\"id\": \"c\", \"createdDateTime\": \"2024-03-04T08:00:02Z\", \"userPrincipalName\": \"c@contoso.com\"}\n]}\n";
    let got = read_bytes("page.json", input.as_bytes(), None);
    let lines: Vec<String> = got
        .iter()
        .map(|r| match r {
            Ok(e) => format!("ok {}", e.id),
            Err(e) => e.to_string(),
        })
        .collect();
    assert_eq!(
        lines,
        [
            "ok a",
            "page.json:3: field `createdDateTime`: cannot read \"2024-02-30T08:00:00Z\" as a timestamp",
            "page.json:4: expected a JSON object (a record), found a number",
            "ok c",
        ]
    );
}

#[test]
fn a_non_ascii_display_name_in_a_forwarding_address_does_not_panic() {
    // vigil_event::MailAddress::parse used to slice at byte 5, inside the "ç" of "Françoise".
    let input = "{\"CreationTime\":\"2024-03-05T10:01:00\",\"Id\":\"x\",\"Operation\":\"New-InboxRule\",\"Parameters\":[{\"Name\":\"ForwardTo\",\"Value\":\"Françoise Dupont [SMTP:francoise@fabrikam.example]\"}]}\n";
    let got = read_bytes("rule.json", input.as_bytes(), None);
    let event = got[0].as_ref().unwrap();
    assert_eq!(
        addresses(&kind!(event, InboxRule).forward_to),
        ["francoise@fabrikam.example"]
    );
}

#[test]
fn sign_ins_with_lower_cased_keys() {
    let events = events("quirk_signin_lowercase.jsonl");
    assert_eq!(events.len(), 2);
    let ropc = &events[0];
    assert_eq!(ropc.format, Format::GraphSignIn);
    assert_eq!(ropc.time, ts("2024-03-06T09:12:44.1234567Z"));
    assert_eq!(ropc.user.as_deref(), Some("bob.jones@contoso.com"));
    assert_eq!(ropc.ip, ip("198.51.100.23"));
    assert_eq!(ropc.user_agent.as_deref(), Some("BAV2ROPC"));
    assert_eq!(ropc.outcome, Outcome::Success);
    let k = kind!(ropc, SignIn);
    assert_eq!(k.client_app, s("Other clients"));
    assert_eq!(k.reported_country, s("NG"), "nested keys lower-cased too");
    assert_eq!(k.interactive, Some(true));

    let failed = &events[1];
    assert_eq!(failed.outcome, Outcome::Failure);
    let k = kind!(failed, SignIn);
    assert_eq!(k.error_code, Some(50126), "errorcode as a string");
    assert_eq!(k.failure_reason, s("Invalid username or password."));
}

/// A file that mixes shapes (a SIEM dump, a concatenation): each record the file's first shape
/// rejects is recognised on its own; only the record no shape fits is an error.
#[test]
fn a_file_of_mixed_shapes_reads_every_record_in_its_own_shape() {
    let (events, errors) = read_fixture("quirk_mixed_shapes.jsonl");
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(
        kinds,
        [
            "inbox_rule",
            "sign_in",
            "message_trace",
            "mailbox_forwarding"
        ]
    );
    assert_eq!(events[0].format, Format::ManagementApi);
    assert_eq!(events[1].format, Format::GraphSignIn);
    assert_eq!(events[1].source, Source::SignIn);
    assert_eq!(events[2].source, Source::MessageTrace);
    assert_eq!(events[3].format, Format::ManagementApi);
    let lines = error_lines(&errors);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("fixtures/quirk_mixed_shapes.jsonl:5:"),
        "{lines:?}"
    );

    // With the shape forced, records of other shapes are errors, not guesses.
    let bytes = std::fs::read(fixture("quirk_mixed_shapes.jsonl")).unwrap();
    let forced = read_bytes("mixed.jsonl", &bytes, Some(Format::ManagementApi));
    assert_eq!(forced.iter().filter(|r| r.is_ok()).count(), 2);
}
