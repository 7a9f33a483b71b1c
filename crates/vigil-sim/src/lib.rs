//! Vigil's tenant simulator.
//!
//! Generates a Microsoft 365 organisation's logs, deterministically from a seed, in the formats
//! the real services deliver them — Management Activity API content blobs, Entra sign-ins as
//! Graph pages or Azure Monitor Event Hub batches, message trace rows — with realistic benign
//! life (time zones, offices, homes, phones, travel, VPNs, legacy-auth service accounts, mail
//! merges, admins, new starters) and attack scenarios, plus a ground-truth file that names
//! every attacker-made record.
//!
//! ```no_run
//! use vigil_sim::{simulate, AttackSpec, SimConfig};
//! let cfg = SimConfig {
//!     accounts: 500,
//!     days: 30,
//!     seed: 7,
//!     attacks: vec!["reference-chain@20".parse().unwrap(), "password-spray".parse().unwrap()],
//!     ..SimConfig::default()
//! };
//! let summary = simulate(&cfg, std::path::Path::new("out"), &|n| eprintln!("{n} records")).unwrap();
//! println!("{} records in {} files", summary.records, summary.files.len());
//! ```
//!
//! Output layout (under the output directory; files of the same names are overwritten, others
//! are left alone):
//! - `audit/Audit.{AzureActiveDirectory,Exchange,SharePoint,General}-YYYYMMDD.json`: one
//!   Management Activity API content blob (a JSON array, one record per line) per content type
//!   per UTC day.
//! - `signins/graph-signIns-YYYYMMDD.jsonl`: Graph (beta) `/auditLogs/signIns` response pages of
//!   up to 1000 sign-ins, one page per line, `@odata.nextLink` on all but the last. About one day
//!   in three is written instead as `signins/eventhub-signInLogs-YYYYMMDD.jsonl`: Azure Monitor
//!   Event Hub messages `{"records":[...]}` (categories SignInLogs and
//!   NonInteractiveUserSignInLogs), one message per line.
//! - `messagetrace/MessageTrace-YYYYMMDD.json`: Reporting Web Service MessageTrace rows (a JSON
//!   array), one row per recipient.
//! - `truth.json`: [`Truth`]: the organisation, every account (role, traits, trips, join time),
//!   every attack with the id of every record it made, and notable benign events ([`NoiseEvent`]:
//!   `mistyped_password`, `missed_mfa_prompt`, `legacy_smtp_service`, `legacy_imap`, `mail_merge`,
//!   `benign_inbox_rule`, `benign_inbox_rule_change`, `benign_consent`, `onedrive_sync_setup`,
//!   `new_phone_mfa_registration`, `new_starter_first_sign_in`, `account_created`,
//!   `password_change`, `admin_role_change`, `admin_internal_forwarding`).
//!
//! With [`SimConfig::api_quirks`] the files carry the APIs' habits: a few per cent of records
//! duplicated (same id, sometimes in the next day's file), some delivered hours late (into the
//! next day's file), order shuffled within each hour, RecordType/UserType/OperationCount
//! sometimes as strings, Parameters sometimes as a JSON string, operation names sometimes
//! without their full stop, Name/Value keys sometimes lower case. Without it every record appears
//! once, in its own day's file, in time order. The events are the same either way.
//!
//! Addresses come from [`ipdb`], a table of real allocations per country and AS that agrees
//! with the country and AS databases enrichment uses.
//!
//! Memory stays bounded: records are buffered per day, stream and hour and spilled to scratch
//! files beyond a budget ([`set_memory_budget`]), and each day's files are written once the day
//! can receive nothing more.

use std::fmt;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

mod attacks;
mod benign;
mod catalog;
mod geo;
pub mod ipdb;
mod json;
mod records;
mod rng;
mod sink;
mod time;
pub mod truth;
mod world;

pub use truth::{
    load_truth, NoiseEvent, Role, Truth, TruthAccount, TruthApp, TruthAttack, TruthOffice,
    TruthOrg, TruthRecords, TruthStep, TruthTrip,
};

/// What to simulate.
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    pub accounts: usize,
    pub days: u32,
    pub seed: u64,
    /// Start of the first day (UTC). Days are 24-hour windows from here.
    pub start: DateTime<Utc>,
    pub attacks: Vec<AttackSpec>,
    /// Reproduce the APIs' habits: duplicates, late and shuffled delivery, numbers as strings,
    /// Parameters as a JSON string, operation names without their full stop, lower-case keys.
    pub api_quirks: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            accounts: 200,
            days: 30,
            seed: 1,
            start: Utc
                .with_ymd_and_hms(2022, 1, 17, 0, 0, 0)
                .single()
                .expect("valid default start"),
            attacks: Vec::new(),
            api_quirks: true,
        }
    }
}

impl SimConfig {
    /// The demo tenant: `accounts` × `days` with the reference chain on the day before the last
    /// (so that the engine has learnt the organisation and the cascade to C fits in the period).
    pub fn reference_demo(accounts: usize, days: u32, seed: u64) -> SimConfig {
        SimConfig {
            accounts,
            days,
            seed,
            attacks: vec![AttackSpec {
                kind: AttackKind::ReferenceChain,
                day: Some(days.saturating_sub(2)),
            }],
            ..SimConfig::default()
        }
    }
}

/// One attack to stage: a kind and, optionally, the day index (0-based) it starts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttackSpec {
    pub kind: AttackKind,
    pub day: Option<u32>,
}

impl FromStr for AttackSpec {
    type Err = String;

    /// `KIND` or `KIND@DAY`, e.g. `reference-chain@20`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, day) = match s.split_once('@') {
            Some((k, d)) => (
                k,
                Some(
                    d.trim()
                        .parse::<u32>()
                        .map_err(|_| format!("bad day {d:?} in attack {s:?}"))?,
                ),
            ),
            None => (s, None),
        };
        Ok(AttackSpec {
            kind: kind.trim().parse()?,
            day,
        })
    }
}

impl fmt::Display for AttackSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.day {
            Some(d) => write!(f, "{}@{d}", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttackKind {
    /// The reference case: legacy-auth login from a rare country, hiding rule, mail-app
    /// consent, ~800 spam messages, then two more accounts taken over from the same address.
    ReferenceChain,
    PasswordSpray,
    MfaFatigue,
    BecForwardingRule,
    IllicitConsent,
    MassDownload,
    StolenSession,
    HiddenSecurityRule,
}

impl AttackKind {
    pub const ALL: [AttackKind; 8] = [
        AttackKind::ReferenceChain,
        AttackKind::PasswordSpray,
        AttackKind::MfaFatigue,
        AttackKind::BecForwardingRule,
        AttackKind::IllicitConsent,
        AttackKind::MassDownload,
        AttackKind::StolenSession,
        AttackKind::HiddenSecurityRule,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AttackKind::ReferenceChain => "reference-chain",
            AttackKind::PasswordSpray => "password-spray",
            AttackKind::MfaFatigue => "mfa-fatigue",
            AttackKind::BecForwardingRule => "bec-forwarding-rule",
            AttackKind::IllicitConsent => "illicit-consent",
            AttackKind::MassDownload => "mass-download",
            AttackKind::StolenSession => "stolen-session",
            AttackKind::HiddenSecurityRule => "hidden-security-rule",
        }
    }
}

impl fmt::Display for AttackKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AttackKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let want = s.trim().to_ascii_lowercase().replace('_', "-");
        AttackKind::ALL
            .into_iter()
            .find(|k| k.as_str() == want)
            .ok_or_else(|| {
                let names: Vec<&str> = AttackKind::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "unknown attack kind {s:?}; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// What a run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimSummary {
    /// Records written, duplicates included.
    pub records: u64,
    /// Every file written, `truth.json` last.
    pub files: Vec<PathBuf>,
    pub accounts: usize,
    pub days: u32,
    pub attacks: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid simulation settings: {0}")]
    Config(String),
    #[error("ground truth: {0}")]
    Truth(String),
}

/// Sets how many bytes of generated output may be held in memory before buffers are appended
/// to scratch files in the output directory (default 256 MiB). Output is the same whatever the
/// budget; only memory use and scratch-file traffic change. Applies to runs started afterwards.
pub fn set_memory_budget(bytes: usize) {
    sink::MEM_BUDGET.store(bytes.max(1), std::sync::atomic::Ordering::Relaxed);
}

/// Simulates the tenant described by `cfg` into `out_dir` (created if missing; files of the
/// same names are overwritten). `progress` is called with the number of records written so far,
/// every ten thousand records and at the end.
pub fn simulate(
    cfg: &SimConfig,
    out_dir: &Path,
    progress: &dyn Fn(u64),
) -> Result<SimSummary, SimError> {
    if cfg.days == 0 {
        return Err(SimError::Config("days must be at least 1".into()));
    }
    if cfg.accounts == 0 {
        return Err(SimError::Config("accounts must be at least 1".into()));
    }
    if cfg.days > 3660 {
        return Err(SimError::Config("days must be at most 3660".into()));
    }
    let plans = attacks::plan(cfg)?;
    let w = world::World::build(cfg)?;
    std::fs::create_dir_all(out_dir).map_err(|e| SimError::Io {
        path: out_dir.to_path_buf(),
        source: e,
    })?;
    let mut sink = sink::Sink::new(
        out_dir,
        w.start_ms,
        cfg.days,
        cfg.seed,
        cfg.api_quirks,
        w.tenant_id.clone(),
        progress,
    )?;
    let mut noise = Vec::new();
    let mut truths: Vec<(usize, TruthAttack)> = Vec::new();
    let mut used = std::collections::HashSet::new();

    // Local day g covers, across the world's zones, UTC from g-14h to g+1d+12h; after local day
    // g has been generated, UTC days before g are complete.
    for g in -1..=cfg.days as i32 {
        let mut todays: Vec<&attacks::Plan> = plans.iter().filter(|p| p.day as i32 == g).collect();
        todays.sort_by_key(|p| p.index);
        for p in todays {
            let t = attacks::run(&w, &mut sink, p, &mut used)?;
            truths.push((p.index, t));
        }
        let mut ctx = benign::Ctx {
            w: &w,
            s: &mut sink,
            noise: &mut noise,
        };
        for a in &w.accounts {
            benign::account_day(&mut ctx, a, g);
        }
        sink.finish_below(g as i64)?;
    }
    let counts = sink.per_stream;
    let (records, mut files) = sink.finish()?;
    truths.sort_by_key(|(i, _)| *i);
    noise.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.upn.cmp(&b.upn)));

    let truth = build_truth(
        &w,
        cfg,
        truths.into_iter().map(|(_, t)| t).collect(),
        noise,
        counts,
    );
    let path = out_dir.join("truth.json");
    let file = std::fs::File::create(&path).map_err(|e| SimError::Io {
        path: path.clone(),
        source: e,
    })?;
    let mut out = BufWriter::new(file);
    serde_json::to_writer_pretty(&mut out, &truth).map_err(|e| SimError::Truth(e.to_string()))?;
    out.write_all(b"\n")
        .and_then(|_| out.flush())
        .map_err(|e| SimError::Io {
            path: path.clone(),
            source: e,
        })?;
    files.push(path);
    Ok(SimSummary {
        records,
        files,
        accounts: cfg.accounts,
        days: cfg.days,
        attacks: cfg.attacks.len(),
    })
}

fn build_truth(
    w: &world::World,
    cfg: &SimConfig,
    attacks: Vec<TruthAttack>,
    noise: Vec<NoiseEvent>,
    counts: [u64; 6],
) -> Truth {
    let day0 = w.start_ms.div_euclid(time::DAY) * time::DAY;
    let date = |g: i32| {
        let (y, m, d) = time::civil_from_days((day0 + g as i64 * time::DAY).div_euclid(time::DAY));
        format!("{y:04}-{m:02}-{d:02}")
    };
    let accounts = w
        .accounts
        .iter()
        .map(|a| TruthAccount {
            upn: a.upn.clone(),
            display_name: a.display.clone(),
            object_id: a.object_id.clone(),
            home_country: a.country.to_string(),
            office_city: w.office_city(a).name.to_string(),
            department: catalog::DEPARTMENTS[a.dept as usize].to_string(),
            role: a.role,
            traits: world::trait_names(a.traits),
            join_time: (a.role == Role::NewStarter)
                .then(|| time::to_datetime(w.local_midnight(w.office_city(a).tz, a.join_day))),
            trips: a
                .trips
                .iter()
                .map(|t| {
                    let c = geo::country(t.country);
                    TruthTrip {
                        country: t.country.to_string(),
                        city: c.cities[t.city as usize % c.cities.len()].name.to_string(),
                        first_day: date(t.start),
                        last_day: date(t.end),
                    }
                })
                .collect(),
            new_phone_from: a
                .new_phone
                .map(|(g, _)| time::to_datetime(w.local_midnight(w.office_city(a).tz, g))),
        })
        .collect();
    let names = [
        "audit_azure_active_directory",
        "audit_exchange",
        "audit_sharepoint",
        "audit_general",
        "sign_in",
        "message_trace",
    ];
    Truth {
        generator: format!("vigil-sim {}", env!("CARGO_PKG_VERSION")),
        seed: cfg.seed,
        start: time::to_datetime(w.start_ms),
        end: time::to_datetime(w.start_ms + cfg.days as i64 * time::DAY),
        days: cfg.days,
        api_quirks: cfg.api_quirks,
        organization: TruthOrg {
            name: w.org_name.clone(),
            domain: w.domain.clone(),
            tenant_id: w.tenant_id.clone(),
            tenant_domain: w.tenant_domain.clone(),
            offices: w
                .offices
                .iter()
                .map(|o| TruthOffice {
                    city: o.city.name.to_string(),
                    country: o.country.to_string(),
                    asn: ipdb::isp_as(o.isp).0,
                    as_org: ipdb::isp_as(o.isp).1.to_string(),
                    ips: o.ips.iter().map(|i| i.to_string()).collect(),
                })
                .collect(),
        },
        accounts,
        attacks,
        noise,
        record_counts: names
            .iter()
            .zip(counts)
            .map(|(n, c)| (n.to_string(), c))
            .collect(),
    }
}
