//! Shared by the live end-to-end tests: a simulated tenant read back record by record, the
//! stand-in serving it day by day, and a live loop pointed at the stand-in.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use vigil_collect::client::{Credentials, RetryPolicy, TokenSource};
use vigil_collect::Clock;
use vigil_live::{CollectConfig, Live, LiveSettings};
use vigil_m365_standin::{
    content_type_of_file, parse_time, sign_ins_of_file, ClientCredential, StandIn, StandInConfig,
};
use vigil_report::ActionMode;

pub fn enricher() -> vigil_enrich::Enricher {
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
pub struct Rec {
    pub time: DateTime<Utc>,
    pub user: String,
    pub value: Value,
}

pub fn record_time(v: &Value) -> Option<DateTime<Utc>> {
    ["CreationTime", "createdDateTime", "Received"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .and_then(parse_time)
}

pub fn record_user(v: &Value) -> String {
    ["UserId", "userPrincipalName", "SenderAddress"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .unwrap_or("")
        .to_ascii_lowercase()
}

pub fn recs(values: Vec<Value>) -> Vec<Rec> {
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
pub struct Tenant {
    pub audit: BTreeMap<&'static str, Vec<Rec>>,
    pub sign_ins: Vec<Rec>,
    pub trace: Vec<Rec>,
}

pub fn read_tenant(dir: &Path) -> Tenant {
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

pub fn in_range(v: &[Rec], from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Value> {
    v.iter()
        .filter(|r| r.time >= from && r.time < to)
        .map(|r| r.value.clone())
        .collect()
}

/// The reference tenant of vigil-eval's end-to-end test: 60 accounts, 10 days, the attack on
/// day 8.
pub struct Scenario {
    pub scratch: tempfile::TempDir,
    pub truth: vigil_sim::Truth,
    pub tenant: Tenant,
    /// Account A and the time of the attacker's first login as A.
    pub a: String,
    pub first_login: DateTime<Utc>,
    pub compromised: Vec<String>,
}

pub fn scenario() -> Scenario {
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
        .unwrap()
        .clone();
    let (a, first_login) = attack
        .first_malicious
        .iter()
        .min_by_key(|(_, t)| **t)
        .map(|(a, t)| (a.to_ascii_lowercase(), *t))
        .unwrap();
    let tenant = read_tenant(&tenant_dir);
    Scenario {
        scratch,
        truth,
        tenant,
        a,
        first_login,
        compromised: attack.compromised,
    }
}

/// A stand-in knowing the compromised accounts, and a clock shared with the collectors.
pub struct Service {
    pub standin: StandIn,
    pub clock: Clock,
}

impl Service {
    pub async fn start(s: &Scenario) -> Service {
        let standin = StandIn::start(StandInConfig::default()).await.unwrap();
        for acct in &s.compromised {
            standin.add_user(acct);
        }
        let svc = Service {
            standin,
            clock: Clock::default(),
        };
        svc.set_now(s.truth.start);
        svc
    }

    /// Moves both clocks (the service's and the collectors').
    pub fn set_now(&self, t: DateTime<Utc>) {
        self.clock.set_now(t);
        self.standin.set_now(t);
    }

    /// Publishes every record with a time in `[from, to)`: audit records as one blob per
    /// content type, sign-ins, message trace rows.
    pub fn publish(&self, tenant: &Tenant, from: DateTime<Utc>, to: DateTime<Utc>) {
        for (ct, recs) in &tenant.audit {
            let records = in_range(recs, from, to);
            if !records.is_empty() {
                self.standin.publish_blob(ct, &records);
            }
        }
        self.standin
            .add_sign_ins(in_range(&tenant.sign_ins, from, to));
        self.standin
            .add_message_trace(in_range(&tenant.trace, from, to));
    }

    pub fn tokens(&self) -> Arc<TokenSource> {
        let c = self.standin.config();
        let ClientCredential::Secret(secret) = &c.credential else {
            unreachable!()
        };
        Arc::new(TokenSource::new(
            vigil_collect::client::http_client(),
            &self.standin.base_url(),
            Credentials::with_secret(&c.tenant_id, &c.client_id, secret),
        ))
    }

    /// A live loop on this service, global mode autonomous, state in `state_dir`.
    pub fn live(
        &self,
        start: DateTime<Utc>,
        state_dir: &Path,
        export: vigil_export::ExportConfig,
        save_interval_secs: u64,
    ) -> Live {
        self.live_with_mode(
            start,
            state_dir,
            export,
            save_interval_secs,
            ActionMode::Autonomous,
        )
    }

    /// [`Service::live`] with another global response mode.
    pub fn live_with_mode(
        &self,
        start: DateTime<Utc>,
        state_dir: &Path,
        export: vigil_export::ExportConfig,
        save_interval_secs: u64,
        mode: ActionMode,
    ) -> Live {
        let retry = RetryPolicy {
            base_delay_ms: 50,
            max_delay_ms: 500,
            ..Default::default()
        };
        let mut collect = CollectConfig {
            endpoints: vigil_collect::Endpoints::all_at(&self.standin.base_url()),
            save_interval_secs,
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
        collect.sign_ins.requests_per_minute = 60_000;
        collect.message_trace.enabled = true;
        collect.message_trace.start = Some(start);
        collect.message_trace.window_minutes = 24 * 60;
        collect.message_trace.settle_minutes = 0;
        collect.message_trace.retry = retry;
        let mut engine = vigil_engine::EngineConfig::default();
        engine.response.mode = mode;
        Live::with_tokens(
            LiveSettings {
                collect,
                respond: vigil_respond::RespondConfig {
                    retry_base_delay_ms: 50,
                    ..Default::default()
                },
                export,
                ingest: Default::default(),
                engine,
                enricher: Arc::new(enricher()),
                state_dir: state_dir.to_path_buf(),
                clock: self.clock.clone(),
                attempt_sink: None,
            },
            self.tokens(),
        )
        .unwrap()
    }
}

/// Polls until a poll brings nothing new.
pub async fn poll_until_idle(live: &mut Live) {
    loop {
        let report = live.poll_once().await;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        if report.records == 0 {
            return;
        }
    }
}

/// Publishes day by day from `from` to `to` (each day appearing at its end) and polls until
/// idle after each; `after_day` runs after each day's polls.
pub async fn feed_days(
    svc: &Service,
    tenant: &Tenant,
    live: &mut Live,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    mut after_day: impl FnMut(&mut Live),
) {
    let mut day_start = from;
    while day_start < to {
        let day_end = (day_start + chrono::Duration::days(1)).min(to);
        svc.set_now(day_end);
        svc.publish(tenant, day_start, day_end);
        poll_until_idle(live).await;
        after_day(live);
        day_start = day_end;
    }
}
