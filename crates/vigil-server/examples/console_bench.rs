//! Console speed with a large store: fills a fresh store with 10 000 incidents and 1 000 000
//! breaches (100 per incident, each incident with a 200-entry timeline and three actions), starts
//! the server on a loopback port and measures the server time of the incident queue and of an
//! incident page (the `x-response-time-us` header the server sets, plus the wall time of the
//! request over loopback).
//!
//! ```sh
//! cargo run --release -p vigil-server --example console_bench            # 10k incidents, 1M breaches
//! cargo run --release -p vigil-server --example console_bench -- 1000 10 # smaller: incidents, breaches each
//! ```

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use serde_json::json;
use vigil_report::{Action, ActionMode, Breach, Incident, Metric};
use vigil_store::{IngestBatch, PlannedActionRow, Role, SqliteStore, Store};

fn breach(i: usize, j: usize, t: chrono::DateTime<Utc>) -> Breach {
    let mut metrics = std::collections::BTreeMap::new();
    metrics.insert(
        "country".to_string(),
        Metric {
            value: json!("NG"),
            baseline: json!(["GB", "NL"]),
        },
    );
    metrics.insert(
        "ip_org_accounts".to_string(),
        Metric {
            value: json!(1),
            baseline: json!(null),
        },
    );
    Breach {
        id: format!("b{i}-{j}"),
        model: [
            "SaaS / Access / Suspicious Login User-Agent",
            "SaaS / Compliance / New Email Rule",
            "SaaS / Admin / OAuth Permission Grant",
            "SaaS / Email Nexus / Possible Outbound Email Spam",
        ][j % 4]
            .to_string(),
        score: 50.0 + ((i * 7 + j * 13) % 50) as f64,
        time: t + chrono::Duration::minutes(j as i64 * 7),
        entity: format!("user{}@contoso.com", (i * 3 + j % 3) % 5000),
        event_ids: vec![format!("e{i}-{j}"), format!("e{i}-{j}-alias")],
        reason: "first sign-in of this account from Nigeria and from AS36873; legacy basic-auth client BAV2ROPC, which bypasses MFA".to_string(),
        metrics,
    }
}

fn request(addr: SocketAddr, path: &str, token: &str) -> (u16, Duration, Option<u64>, usize) {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let wall = started.elapsed();
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let server_us = text
        .lines()
        .find_map(|l| l.strip_prefix("x-response-time-us: "))
        .and_then(|v| v.trim().parse().ok());
    (status, wall, server_us, raw.len())
}

fn measure(addr: SocketAddr, label: &str, path: &str, token: &str, runs: usize) {
    let mut server = Vec::new();
    let mut wall = Vec::new();
    let mut bytes = 0;
    for _ in 0..runs {
        let (status, w, s, n) = request(addr, path, token);
        assert_eq!(status, 200, "{path}");
        wall.push(w.as_secs_f64() * 1000.0);
        server.push(s.unwrap_or(0) as f64 / 1000.0);
        bytes = n;
    }
    let pct = |v: &mut Vec<f64>, p: f64| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[((v.len() - 1) as f64 * p).round() as usize]
    };
    println!(
        "{label:<28} server median {:>7.2} ms  p95 {:>7.2} ms   wall median {:>7.2} ms   {:>7} bytes",
        pct(&mut server, 0.5),
        pct(&mut server, 0.95),
        pct(&mut wall, 0.5),
        bytes
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("arguments: INCIDENTS BREACHES_PER_INCIDENT ({e})"))?;
    let incidents = args.first().copied().unwrap_or(10_000);
    let per_incident = args.get(1).copied().unwrap_or(100);
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data)?;

    let fill = Instant::now();
    {
        let store = SqliteStore::open(&data.join("vigil.db"))?;
        let t0 = Utc.with_ymd_and_hms(2022, 1, 1, 0, 0, 0).unwrap();
        let chunk = 500;
        for start in (0..incidents).step_by(chunk) {
            let mut batch = IngestBatch::default();
            for i in start..(start + chunk).min(incidents) {
                let t = t0 + chrono::Duration::minutes(i as i64 * 13);
                let breaches: Vec<Breach> = (0..per_incident).map(|j| breach(i, j, t)).collect();
                let accounts: Vec<String> = (0..3)
                    .map(|k| format!("user{}@contoso.com", (i * 3 + k) % 5000))
                    .collect();
                let timeline: Vec<_> = (0..200)
                    .map(|k| {
                        json!({
                            "time": t + chrono::Duration::minutes(k * 5),
                            "entity": accounts[k as usize % 3],
                            "what": "SaaS / Compliance / New Email Rule: new inbox rule \".\", punctuation only",
                            "breach_id": breaches.get(k as usize).map(|b| b.id.clone()),
                        })
                    })
                    .collect();
                let inc = Incident {
                    id: format!("i{i}"),
                    title: format!("Multi-account compromise: {}", accounts.join(", ")),
                    score: 40.0 + (i * 37 % 600) as f64 / 10.0,
                    start: t,
                    end: t + chrono::Duration::hours(16),
                    entities: accounts.clone(),
                    breach_ids: breaches.iter().map(|b| b.id.clone()).collect(),
                    summary: "3 accounts appear compromised by the same actor. It began at ... Then: 01-27 14:19 rule (a); 01-27 15:22 rule (b). Response: disable_user a awaiting confirmation.".into(),
                };
                let detail = json!({
                    "timeline": timeline,
                    "ips": [format!("198.51.{}.{}", i % 250, i % 200)],
                    "networks": ["AS36873"],
                    "countries": ["NG"],
                    "apps": ["Spike"],
                    "links": ["b shares the rare IP with a"],
                });
                batch.incidents.push((inc, detail));
                for (k, kind) in ["disable_user", "revoke_sessions", "remove_inbox_rule"]
                    .iter()
                    .enumerate()
                {
                    batch.actions.push(PlannedActionRow {
                        action: Action {
                            id: format!("a{i}-{k}"),
                            kind: kind.to_string(),
                            target: accounts[k].clone(),
                            time: t,
                            mode: ActionMode::Confirm,
                            state: "pending".into(),
                            incident_id: format!("i{i}"),
                        },
                        breach_id: breaches[0].id.clone(),
                        model: breaches[0].model.clone(),
                        expires: t + chrono::Duration::hours(24),
                    });
                }
                batch.breaches.extend(breaches);
            }
            store.apply(&batch)?;
        }
        store.create_token(
            "bench",
            Role::Viewer,
            &vigil_server::auth::token_hash("bench-token"),
            "bench",
        )?;
        let c = store.counts()?;
        println!(
            "filled a store with {} incidents, {} breaches, {} actions in {:.1}s ({:.0} MB)",
            c.incidents,
            c.breaches,
            c.actions,
            fill.elapsed().as_secs_f64(),
            std::fs::metadata(data.join("vigil.db"))
                .map(|m| m.len())
                .unwrap_or(0) as f64
                / 1e6
        );
    }

    let mut cfg = vigil_server::ServerConfig::new(data.clone());
    cfg.listen = "127.0.0.1:0".parse()?;
    cfg.admin_password = Some("bench-password".into());
    let server = vigil_server::start(cfg).await?;
    let addr = server.addr;
    let mid = incidents / 2;
    tokio::task::spawn_blocking(move || {
        let token = "bench-token";
        // Warm the page cache and the prepared statements once.
        request(addr, "/", token);
        measure(addr, "incident queue (page 1)", "/", token, 30);
        measure(
            addr,
            "incident queue (page 100)",
            "/?offset=4950",
            token,
            30,
        );
        measure(
            addr,
            "queue filtered by account",
            "/?entity=user42%40contoso.com",
            token,
            30,
        );
        measure(
            addr,
            "incident page",
            &format!("/incidents/i{mid}"),
            token,
            30,
        );
        measure(addr, "API incident list", "/api/v1/incidents", token, 30);
        measure(
            addr,
            "API incident detail",
            &format!("/api/v1/incidents/i{mid}"),
            token,
            30,
        );
    })
    .await?;
    server.shutdown().await?;
    Ok(())
}
