//! `vigil collect` end to end: the real binary against the Microsoft 365 stand-in.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::json;
use vigil_m365_standin::{ClientCredential, StandIn, StandInConfig};

fn config_text(standin: &StandIn, with_secret: bool) -> String {
    let c = standin.config();
    let ClientCredential::Secret(secret) = &c.credential else {
        unreachable!()
    };
    let url = standin.base_url();
    let secret_line = if with_secret {
        format!("client_secret = \"{secret}\"")
    } else {
        String::new()
    };
    format!(
        r#"state_dir = "state"

[collect]
poll_interval_secs = 1

[collect.endpoints]
login = "{url}"
manage = "{url}"
graph = "{url}"
reporting = "{url}"

[collect.credentials]
tenant_id = "{tenant}"
client_id = "{client}"
{secret_line}

[collect.management]
content_types = ["Audit.Exchange"]

[collect.sign_ins]
start = "2022-02-01T00:00:00Z"
window_minutes = 1440
requests_per_minute = 6000

[respond]
enabled = true

[export.ocsf]
path = "findings.jsonl"
"#,
        tenant = c.tenant_id,
        client = c.client_id,
    )
}

async fn vigil_collect(config: &Path) -> Output {
    let config = config.to_path_buf();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(["collect", "--once", "--config"])
            .arg(&config)
            .env_remove("VIGIL_M365_TENANT_ID")
            .env_remove("VIGIL_M365_CLIENT_ID")
            .env_remove("VIGIL_M365_CLIENT_SECRET")
            .env_remove("VIGIL_M365_CERTIFICATE")
            .env_remove("VIGIL_M365_PRIVATE_KEY")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collect_once_reads_new_records_and_resumes_from_its_checkpoints() {
    let standin = StandIn::start(StandInConfig::default()).await.unwrap();
    for i in 0..2 {
        standin.publish_blob(
            "Audit.Exchange",
            &[
                json!({"Id": format!("ex-{i}"), "CreationTime": "2022-02-01T04:55:51",
                      "Operation": "MailItemsAccessed", "Workload": "Exchange", "RecordType": 50,
                      "UserId": "a@contoso.example", "ClientIP": "203.0.113.7"}),
            ],
        );
    }
    standin.add_sign_ins((0..3).map(|i| {
        json!({"id": format!("s-{i}"), "createdDateTime": format!("2022-02-01T00:0{i}:00Z"),
               "userPrincipalName": "a@contoso.example", "ipAddress": "203.0.113.7",
               "isInteractive": true, "status": {"errorCode": 0},
               "appDisplayName": "Office 365 Exchange Online"})
    }));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("vigil.toml");
    std::fs::write(&config, config_text(&standin, true)).unwrap();

    let out = vigil_collect(&config).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(" 5 records"), "{stderr}");
    assert!(stderr.contains("5 events"), "{stderr}");
    assert!(stderr.contains("lag: Audit.Exchange"), "{stderr}");
    let state = dir.path().join("state");
    for f in [
        "checkpoint-management.json",
        "checkpoint-signins.json",
        "engine.snapshot.json",
        "live-dedup.bin",
    ] {
        assert!(state.join(f).is_file(), "{f} missing");
    }

    // The second run starts where the first stopped.
    let out = vigil_collect(&config).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(" 0 records"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collect_without_credentials_says_what_to_set() {
    let standin = StandIn::start(StandInConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("vigil.toml");
    std::fs::write(&config, config_text(&standin, false)).unwrap();
    let out = vigil_collect(&config).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("client_secret") && stderr.contains("VIGIL_M365_CLIENT_SECRET"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn the_deployment_guide_example_configuration_is_valid() {
    let guide = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/deployment.md"),
    )
    .unwrap();
    let start = guide.find("```toml\n").expect("a TOML example") + "```toml\n".len();
    let example = &guide[start..start + guide[start..].find("```").unwrap()];
    assert!(example.contains("[collect.credentials]"));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("vigil.toml");
    std::fs::write(&config, example).unwrap();
    // `models list` loads the whole configuration (unknown keys are errors) without network.
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["models", "list", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
