//! `vigil replay` end to end: the real binary on real files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

fn vigil() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
}

fn shared_data() -> PathBuf {
    if let Ok(dir) = std::env::var("VIGIL_SHARED_DATA") {
        return PathBuf::from(dir);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        dir.is_dir(),
        "the public samples are expected in {} (or set VIGIL_SHARED_DATA)",
        dir.display()
    );
    dir
}

fn run(args: &[&str]) -> (Output, Value) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let mut cmd = vigil();
    cmd.arg("replay")
        .arg("--quiet")
        .arg("--report-json")
        .arg(&report);
    cmd.args(args);
    let out = cmd.output().unwrap();
    let value = std::fs::read_to_string(&report)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    (out, value)
}

fn n(v: &Value, key: &str) -> u64 {
    v["summary"][key]
        .as_u64()
        .unwrap_or_else(|| panic!("summary.{key} missing in {v}"))
}

fn assert_accounting(report: &Value) {
    assert_eq!(
        n(report, "records_read"),
        n(report, "rejected")
            + n(report, "duplicates_dropped")
            + n(report, "logons_linked")
            + n(report, "events"),
        "every record is accounted for: {}",
        report["summary"]
    );
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn write_gz(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&p).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
    p
}

/// Runs `vigil simulate --quiet ARGS --out DIR/tenant` and returns the tenant directory.
fn simulate(dir: &Path, args: &[&str]) -> PathBuf {
    let tenant = dir.join("tenant");
    let out = vigil()
        .args(["simulate", "--quiet"])
        .args(args)
        .arg("--out")
        .arg(&tenant)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    tenant
}

fn audit_logon(id: &str, time: &str, user: &str, ip: &str, request: &str) -> Value {
    json!({
        "CreationTime": time, "Id": id, "Operation": "UserLoggedIn", "RecordType": 15,
        "ResultStatus": "Success", "UserId": user, "ClientIP": ip, "Workload": "AzureActiveDirectory",
        "IntraSystemId": request, "InterSystemsId": "corr-1",
        "ExtendedProperties": [{"Name": "UserAgent", "Value": "BAV2ROPC"}]
    })
}

fn graph_sign_in(id: &str, time: &str, user: &str, ip: &str) -> Value {
    json!({
        "id": id, "createdDateTime": time, "userPrincipalName": user, "ipAddress": ip,
        "appDisplayName": "Office 365 Exchange Online", "clientAppUsed": "Other clients",
        "userAgent": "BAV2ROPC", "status": {"errorCode": 0}, "correlationId": "corr-1",
        "isInteractive": false
    })
}

#[test]
fn public_samples_are_read_with_the_report_contract() {
    let data = shared_data().join("m365");
    let (out, report) = run(&[data.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys: Vec<_> = report.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["actions", "breaches", "incidents", "summary"]);
    assert_accounting(&report);
    // Every JSON file's records are read; the YAML dataset description is one rejection.
    assert_eq!(n(&report, "rejected"), 1, "{}", report["summary"]);
    assert!(n(&report, "events") >= 13);
    let sources: Vec<String> = report["summary"]["by_source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}/{}",
                c["source"].as_str().unwrap(),
                c["format"].as_str().unwrap()
            )
        })
        .collect();
    for expected in [
        "audit/management_api",
        "audit/office_activity_table",
        "sign_in/azure_monitor_sign_in",
        "directory_audit/log_analytics_audit_logs",
    ] {
        assert!(
            sources.iter().any(|s| s == expected),
            "{expected} in {sources:?}"
        );
    }
}

#[test]
fn mixed_directory_with_bad_records_goes_on_and_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let blob = json!([
        audit_logon("a1", "2022-02-01T04:55:51", "A@Contoso.com", "102.89.1.10:51234", "r1"),
        {"CreationTime": "2022-02-30T00:00:00", "Id": "bad-time", "Operation": "Send"},
        {"Id": "no-op", "CreationTime": "2022-02-01T05:00:00"},
    ])
    .to_string();
    write(dir.path(), "Audit.AzureActiveDirectory.json", &blob);
    let lines = [
        json!({"Received": "/Date(1643692000000)/", "SenderAddress": "a@contoso.com",
               "RecipientAddress": "b@fabrikam.com", "MessageTraceId": "m1", "Subject": "hi",
               "Status": "Delivered", "FromIP": "102.89.1.10", "Size": "1234"})
        .to_string(),
        "this line is not json".to_string(),
    ];
    write_gz(dir.path(), "trace.jsonl.gz", &lines.join("\n"));
    let (out, report) = run(&[dir.path().to_str().unwrap()]);
    assert!(out.status.success());
    assert_accounting(&report);
    assert_eq!(n(&report, "events"), 2);
    assert_eq!(n(&report, "rejected"), 3);
    let rejections: Vec<&str> = report["summary"]["first_rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        rejections
            .iter()
            .any(|r| r.contains(
                "Audit.AzureActiveDirectory.json:1: field `CreationTime`: impossible timestamp"
            ) || r.contains("Audit.AzureActiveDirectory.json:1: field `CreationTime`")),
        "{rejections:?}"
    );
    assert!(
        rejections.iter().any(|r| r.contains("field `Operation`")),
        "{rejections:?}"
    );
    assert!(
        rejections
            .iter()
            .any(|r| r.contains("trace.jsonl.gz:2: not JSON")),
        "{rejections:?}"
    );

    let (out, _) = run(&["--strict", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--strict"));
}

#[test]
fn duplicates_across_files_and_runs_are_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let rec = audit_logon(
        "dup-1",
        "2022-02-01T04:55:51",
        "a@contoso.com",
        "1.2.3.4",
        "r",
    );
    write(dir.path(), "one.json", &json!([rec, rec]).to_string());
    write(dir.path(), "two.json", &json!([rec]).to_string());
    let state_arg = state.path().to_str().unwrap();
    let (out, report) = run(&["--state-dir", state_arg, dir.path().to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(n(&report, "events"), 1);
    assert_eq!(n(&report, "duplicates_dropped"), 2);
    let (_, again) = run(&["--state-dir", state_arg, dir.path().to_str().unwrap()]);
    assert_eq!(n(&again, "events"), 0);
    assert_eq!(n(&again, "duplicates_dropped"), 3);
    // Without state, a new run starts afresh.
    let (_, fresh) = run(&[dir.path().to_str().unwrap()]);
    assert_eq!(n(&fresh, "events"), 1);
}

#[test]
fn the_same_logon_from_audit_and_entra_is_one_event_and_files_merge_by_time() {
    let dir = tempfile::tempdir().unwrap();
    // Two days of audit and two days of sign-ins in separate files: read one after the other,
    // every sign-in would be a day late; merged by event time, none is.
    let audit = json!([
        audit_logon(
            "a1",
            "2022-02-01T04:55:52",
            "a@contoso.com",
            "102.89.1.10",
            "req-1"
        ),
        audit_logon(
            "a2",
            "2022-02-02T09:00:00",
            "c@contoso.com",
            "8.8.8.8",
            "req-2"
        ),
    ]);
    let signins = json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns",
        "value": [
            graph_sign_in("req-1", "2022-02-01T04:55:51Z", "a@contoso.com", "102.89.1.10"),
            graph_sign_in("s-3", "2022-02-01T12:00:00Z", "b@contoso.com", "102.89.1.10"),
            graph_sign_in("s-4", "2022-02-02T10:00:00Z", "b@contoso.com", "102.89.1.10"),
        ]
    });
    write(dir.path(), "audit.json", &audit.to_string());
    write(dir.path(), "signins.json", &signins.to_string());
    let events_path = dir.path().join("events.jsonl");
    let (out, report) = run(&[
        "--events",
        events_path.to_str().unwrap(),
        dir.path().join("audit.json").to_str().unwrap(),
        dir.path().join("signins.json").to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert_accounting(&report);
    assert_eq!(n(&report, "logons_linked"), 1);
    assert_eq!(n(&report, "late"), 0);
    let events: Vec<Value> = std::fs::read_to_string(&events_path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 4);
    let times: Vec<&str> = events.iter().map(|e| e["time"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "events come out in event-time order");
    assert_eq!(events[0]["id"], "req-1");
    assert_eq!(events[0]["alias_ids"], json!(["a1"]));
    assert_eq!(events[0]["enrichment"]["ua_class"], "legacy_auth");
}

#[test]
fn records_later_than_the_window_are_counted_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let blob = json!([
        audit_logon(
            "n1",
            "2022-02-01T12:00:00",
            "a@contoso.com",
            "1.2.3.4",
            "r1"
        ),
        audit_logon(
            "o1",
            "2022-02-01T06:00:00",
            "a@contoso.com",
            "1.2.3.4",
            "r2"
        ),
        audit_logon(
            "o2",
            "2022-02-01T11:30:00",
            "a@contoso.com",
            "1.2.3.4",
            "r3"
        ),
    ]);
    write(dir.path(), "blob.json", &blob.to_string());
    let (_, report) = run(&[dir.path().to_str().unwrap()]);
    assert_eq!(n(&report, "events"), 3);
    assert_eq!(
        n(&report, "late"),
        1,
        "only the record 6h behind is late with a 2h window"
    );
    assert_eq!(report["summary"]["reordering_window_seconds"], 7200);
}

#[test]
fn config_file_errors_name_the_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "vigil.toml", "[ingest]\nreorder_window = 5\n");
    let data = write(dir.path(), "x.json", "[]");
    let out = vigil()
        .args(["replay", "--config"])
        .arg(&cfg)
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("vigil.toml") && err.contains("reorder_window"),
        "{err}"
    );
}

#[test]
fn unknown_format_name_is_refused_with_the_list() {
    let out = vigil()
        .args(["replay", "--format", "csv", "x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("management_api"));
}

#[test]
fn a_simulated_tenant_replays_without_loss_and_every_attacker_record_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = simulate(
        dir.path(),
        &[
            "--accounts",
            "60",
            "--days",
            "4",
            "--seed",
            "11",
            "--attack",
            "reference-chain@2",
            "--attack",
            "password-spray@3",
            "--attack",
            "bec-forwarding-rule@1",
            "--attack",
            "illicit-consent@2",
        ],
    );
    let events_path = dir.path().join("events.jsonl");
    let (out, report) = run(&[
        "--events",
        events_path.to_str().unwrap(),
        tenant.join("audit").to_str().unwrap(),
        tenant.join("signins").to_str().unwrap(),
        tenant.join("messagetrace").to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert_accounting(&report);
    assert_eq!(n(&report, "rejected"), 0, "{}", report["summary"]);
    assert!(
        n(&report, "duplicates_dropped") > 0,
        "the simulator repeats records"
    );
    assert!(
        n(&report, "logons_linked") > 0,
        "audit and Entra both record sign-ins"
    );
    let mut ids = std::collections::HashSet::new();
    for line in std::fs::read_to_string(&events_path).unwrap().lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        ids.insert(e["id"].as_str().unwrap().to_string());
        for a in e["alias_ids"].as_array().into_iter().flatten() {
            ids.insert(a.as_str().unwrap().to_string());
        }
    }
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(tenant.join("truth.json")).unwrap()).unwrap();
    let attacks = truth["attacks"].as_array().unwrap();
    assert_eq!(attacks.len(), 4);
    for attack in attacks {
        let records = &attack["records"];
        let mut count = 0;
        for kind in ["audit", "sign_in", "message_trace"] {
            for id in records[kind].as_array().unwrap() {
                let id = id.as_str().unwrap();
                // Message trace ids are normalised to a lower-case recipient.
                let found = ids.contains(id) || ids.contains(&id.to_lowercase());
                assert!(
                    found,
                    "attacker record {id} of {} reached the stream",
                    attack["id"]
                );
                count += 1;
            }
        }
        assert!(count > 0, "{} has attacker records", attack["id"]);
    }
}

/// The reference case end to end on simulated tenants (seeds not used to build the models):
/// account A is breached at the second of its first attacker login, disabling or revoking A is
/// planned at that second, before the first spam; B and C are breached; one incident holds all
/// three.
#[test]
fn reference_attack_is_caught_at_the_first_login_and_held_in_one_incident() {
    for seed in [3u64, 17] {
        let dir = tempfile::tempdir().unwrap();
        let seed = seed.to_string();
        let tenant = simulate(
            dir.path(),
            &[
                "--accounts",
                "200",
                "--days",
                "14",
                "--seed",
                &seed,
                "--attack",
                "reference-chain@12",
            ],
        );
        let (out, report) = run(&[
            tenant.join("audit").to_str().unwrap(),
            tenant.join("signins").to_str().unwrap(),
            tenant.join("messagetrace").to_str().unwrap(),
        ]);
        assert!(out.status.success());
        let truth: Value =
            serde_json::from_str(&std::fs::read_to_string(tenant.join("truth.json")).unwrap())
                .unwrap();
        let attack = &truth["attacks"][0];
        let accounts: Vec<&str> = attack["compromised"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let (a, b, c) = (accounts[0], accounts[1], accounts[2]);
        let first_login = attack["first_malicious"][a].as_str().unwrap();
        let first_login: chrono::DateTime<chrono::Utc> = first_login.parse().unwrap();
        let first_spam: chrono::DateTime<chrono::Utc> =
            attack["first_spam"].as_str().unwrap().parse().unwrap();
        let time_of =
            |v: &Value| -> chrono::DateTime<chrono::Utc> { v.as_str().unwrap().parse().unwrap() };
        let breaches = report["breaches"].as_array().unwrap();
        let at_first_login: Vec<&str> = breaches
            .iter()
            .filter(|br| {
                br["entity"] == a && time_of(&br["time"]).timestamp() == first_login.timestamp()
            })
            .map(|br| br["model"].as_str().unwrap())
            .collect();
        assert!(
            at_first_login.contains(&"SaaS / Access / Suspicious Login User-Agent")
                && at_first_login
                    .contains(&"SaaS / Access / Unusual External Source for SaaS Credential Use"),
            "seed {seed}: A breached at its first attacker login: {at_first_login:?}"
        );
        let containment = report["actions"].as_array().unwrap().iter().find(|x| {
            x["target"] == a && (x["kind"] == "disable_user" || x["kind"] == "revoke_sessions")
        });
        let containment = containment.expect("a containment action for A");
        let when = time_of(&containment["time"]);
        assert_eq!(when.timestamp(), first_login.timestamp(), "seed {seed}");
        assert!(when < first_spam);
        for account in [b, c] {
            assert!(
                breaches.iter().any(|br| br["entity"] == account),
                "seed {seed}: {account} breached"
            );
        }
        let holds_all = report["incidents"].as_array().unwrap().iter().any(|i| {
            let e: Vec<&str> = i["entities"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            [a, b, c].iter().all(|x| e.contains(x))
        });
        assert!(holds_all, "seed {seed}: one incident holds A, B and C");
    }
}

#[test]
fn demo_prints_the_incident_timeline_and_actions() {
    let dir = tempfile::tempdir().unwrap();
    let out = vigil()
        .args(["demo", "--accounts", "100", "--days", "12", "--seed", "4"])
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("== "), "an incident heading: {text}");
    assert!(text.contains("timeline:"), "{text}");
    assert!(
        text.contains("disable_user") || text.contains("revoke_sessions"),
        "{text}"
    );
    assert!(text.contains("before the first spam"), "{text}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    assert!(!report["incidents"].as_array().unwrap().is_empty());
}

#[test]
fn eval_scores_a_replay_against_the_ground_truth() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = simulate(
        dir.path(),
        &[
            "--accounts",
            "100",
            "--days",
            "12",
            "--seed",
            "9",
            "--attack",
            "bec-forwarding-rule@10",
        ],
    );
    let report_path = dir.path().join("report.json");
    let out = vigil()
        .args(["replay", "--quiet", "--report-json"])
        .arg(&report_path)
        .args(["audit", "signins", "messagetrace"].map(|d| tenant.join(d)))
        .output()
        .unwrap();
    assert!(out.status.success());
    let json_path = dir.path().join("eval.json");
    let out = vigil()
        .args(["eval", "--truth"])
        .arg(tenant.join("truth.json"))
        .arg("--report")
        .arg(&report_path)
        .arg("--json")
        .arg(&json_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("bec-forwarding-rule"), "{text}");
    let eval: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(eval["account_days"], 1200);
    let bec = eval["per_kind"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "bec-forwarding-rule")
        .expect("the attack kind is scored");
    assert_eq!(bec["attacks"], 1);
}
