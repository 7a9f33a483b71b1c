//! Scores Vigil's report against the simulator's ground truth.
//!
//! Invariant: reads only the report and the truth, and never tunes anything. What it measures:
//!
//! - per attack: detected or missed, time to detect (per attack and per victim), the models that
//!   fired;
//! - per attack kind: recall and median time to detect;
//! - false breaches and false incidents per 1000 account-days (accounts × days);
//! - innocent accounts that autonomous mode would have disabled;
//! - for the reference chain: contained before its first spam message, held in one incident, and
//!   which innocent accounts that incident swallowed.
//!
//! # How a breach is attributed to an attack
//!
//! A breach belongs to an attack when either
//! - its entity is one of the attack's accounts (victims and compromised, compared in lower
//!   case) or its infrastructure (`ip:` an attacker address, `app:` the attacker's app id or
//!   name), and its time lies in the attack's window: from [`START_TOLERANCE_SECONDS`] before the
//!   first attacker record (breaches of sequence and accumulation models carry whole-minute
//!   times) to the grace period ([`ScoreOptions::grace`], 1 hour by default) after the last; or
//! - it cites one of the attack's record ids in `event_ids`.
//!
//! Every other breach is a false breach. An attack is detected when at least one breach belongs
//! to it and falls in its window. Its time to detect is the first such breach's time minus the
//! attack's start (its first attacker record), never below zero; a victim's time to detect is the
//! first such breach *on that victim's account* minus that victim's first attacker record. The
//! median per kind is over the detected attacks of that kind.
//!
//! An incident is true when it holds a breach that belongs to an attack, or when one of its
//! entities is one of an attack's accounts or infrastructure and its span overlaps that attack's
//! window; every other incident is a false incident.
//!
//! Innocent accounts disabled: targets of `disable_user` actions that no attack compromised, in
//! whatever mode the action was planned (a report made in `confirm` mode lists what autonomous
//! mode would have done; [`run_end_to_end`] forces `autonomous`). Counted per distinct account.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use vigil_report::{ActionMode, Breach, Report};
use vigil_sim::{AttackKind, Truth, TruthAttack};

mod e2e;

pub use e2e::{run_end_to_end, run_end_to_end_with, EndToEndOptions, EvalError};

/// How far before an attack's first record a breach may be and still belong to it: breaches of
/// sequence and accumulation models carry whole-minute times.
pub const START_TOLERANCE_SECONDS: i64 = 60;

/// Scoring settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreOptions {
    /// How long after an attack's last record a breach still counts as detecting it.
    pub grace: Duration,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        ScoreOptions {
            grace: Duration::hours(1),
        }
    }
}

/// The whole evaluation of one report against one truth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub seed: u64,
    pub accounts: usize,
    pub days: u32,
    /// Accounts × days: the denominator of the false-alarm rates.
    pub account_days: u64,
    pub grace_minutes: i64,
    pub attacks: Vec<AttackResult>,
    /// One row per attack kind present in the truth, in [`AttackKind::ALL`] order.
    pub per_kind: Vec<KindResult>,
    pub breaches: usize,
    pub false_breaches: usize,
    pub false_breaches_per_1000_account_days: f64,
    /// False breaches per model, most frequent first.
    pub false_breaches_by_model: Vec<(String, usize)>,
    pub incidents: usize,
    pub false_incidents: usize,
    pub false_incidents_per_1000_account_days: f64,
    pub false_incident_list: Vec<FalseIncident>,
    /// Distinct innocent accounts with a `disable_user` action.
    pub innocent_disabled: usize,
    /// Every `disable_user` action on an innocent account.
    pub innocent_disable_actions: Vec<InnocentAction>,
    /// One entry per reference-chain attack.
    pub reference_chain: Vec<ReferenceResult>,
}

/// One attack of the truth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttackResult {
    pub id: String,
    pub kind: AttackKind,
    pub day: u32,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub detected: bool,
    /// Time of the first breach that belongs to the attack, within its window.
    pub first_breach: Option<DateTime<Utc>>,
    /// `first_breach` minus the attack's first malicious action (`first_action`, else `start`),
    /// at least zero: the time to detect the thresholds apply to.
    pub ttd_seconds: Option<i64>,
    /// `first_breach - start`, at least zero: charged for any quiet lead-in as well.
    #[serde(default)]
    pub ttd_from_start_seconds: Option<i64>,
    pub victims: Vec<VictimResult>,
    /// Distinct models of the breaches that belong to the attack, sorted.
    pub models: Vec<String>,
    /// Breaches that belong to the attack.
    pub breaches: usize,
}

/// One victim of an attack.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VictimResult {
    pub account: String,
    pub compromised: bool,
    pub first_malicious: Option<DateTime<Utc>>,
    /// First breach on this account that belongs to the attack, at or after its first attacker
    /// record (less the start tolerance).
    pub first_breach: Option<DateTime<Utc>>,
    pub ttd_seconds: Option<i64>,
}

/// Recall and time to detect of one attack kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KindResult {
    pub kind: AttackKind,
    pub attacks: usize,
    pub detected: usize,
    pub recall: f64,
    /// Median over the detected attacks; `None` when none was detected.
    pub median_ttd_minutes: Option<f64>,
    /// The same from each attack's first attacker record.
    #[serde(default)]
    pub median_ttd_from_start_minutes: Option<f64>,
    pub missed: Vec<String>,
}

impl KindResult {
    /// Recall and both medians over `of`, the attacks of `kind`.
    fn of(kind: AttackKind, of: &[&AttackResult], missed: Vec<String>) -> KindResult {
        let detected = of.iter().filter(|a| a.detected).count();
        let minutes = |pick: fn(&AttackResult) -> Option<i64>| -> Vec<f64> {
            of.iter()
                .filter_map(|a| pick(a))
                .map(|s| s as f64 / 60.0)
                .collect()
        };
        KindResult {
            kind,
            attacks: of.len(),
            detected,
            recall: detected as f64 / of.len() as f64,
            median_ttd_minutes: median(&mut minutes(|a| a.ttd_seconds)),
            median_ttd_from_start_minutes: median(&mut minutes(|a| a.ttd_from_start_seconds)),
            missed,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FalseIncident {
    pub id: String,
    pub title: String,
    pub score: f64,
    pub start: DateTime<Utc>,
    pub entities: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InnocentAction {
    pub target: String,
    pub time: DateTime<Utc>,
    pub mode: ActionMode,
    pub state: String,
    pub incident_id: String,
}

/// The reference chain's acceptance questions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferenceResult {
    pub attack_id: String,
    /// The first account the attacker took over (earliest first attacker record).
    pub account_a: String,
    pub a_first_login: Option<DateTime<Utc>>,
    /// First breach on A in the attack's window minus A's first attacker record.
    pub a_ttd_seconds: Option<i64>,
    pub first_spam: Option<DateTime<Utc>>,
    /// The earliest `disable_user` or `revoke_sessions` on A from the attack's start on.
    pub containment_kind: Option<String>,
    pub containment_time: Option<DateTime<Utc>>,
    /// A containment action at or before the first spam message (or at all, when there was no
    /// spam).
    pub contained_before_spam: bool,
    /// Compromised accounts with at least one breach that belongs to the attack.
    pub compromised_breached: Vec<String>,
    pub compromised_missed: Vec<String>,
    /// The smallest incident holding every compromised account.
    pub incident_id: Option<String>,
    pub held_in_one_incident: bool,
    /// Accounts in that incident that no attack touched.
    pub innocent_in_incident: Vec<String>,
}

/// Acceptance thresholds (from the detection issue).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Per attack kind.
    pub min_recall: f64,
    pub max_median_ttd_minutes: f64,
    pub max_false_incidents_per_1000_account_days: f64,
    pub max_innocent_disabled: usize,
    /// Every reference chain contained before its spam and held in one incident.
    pub require_reference_chain: bool,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_recall: 1.0,
            max_median_ttd_minutes: 5.0,
            max_false_incidents_per_1000_account_days: 1.0,
            max_innocent_disabled: 0,
            require_reference_chain: true,
        }
    }
}

fn norm_entity(e: &str) -> String {
    let e = e.trim().to_ascii_lowercase();
    if let Some(ip) = e.strip_prefix("ip:") {
        if let Ok(ip) = ip.parse::<std::net::IpAddr>() {
            return format!("ip:{ip}");
        }
    }
    e
}

fn is_account(entity: &str) -> bool {
    entity.contains('@') && !entity.contains(':')
}

/// What belongs to one attack.
struct Scope<'a> {
    attack: &'a TruthAttack,
    accounts: BTreeSet<String>,
    entities: BTreeSet<String>,
    records: HashSet<&'a str>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl<'a> Scope<'a> {
    fn new(attack: &'a TruthAttack, opts: &ScoreOptions) -> Scope<'a> {
        let accounts: BTreeSet<String> = attack
            .victims
            .iter()
            .chain(&attack.compromised)
            .map(|a| a.to_ascii_lowercase())
            .collect();
        let mut entities = accounts.clone();
        for ip in &attack.attacker_ips {
            entities.insert(norm_entity(&format!("ip:{ip}")));
        }
        if let Some(app) = &attack.app {
            entities.insert(format!("app:{}", app.id.to_ascii_lowercase()));
            entities.insert(format!("app:{}", app.name.to_ascii_lowercase()));
        }
        let r = &attack.records;
        let records = r
            .audit
            .iter()
            .chain(&r.sign_in)
            .chain(&r.message_trace)
            .map(String::as_str)
            .collect();
        Scope {
            attack,
            accounts,
            entities,
            records,
            from: attack.start - Duration::seconds(START_TOLERANCE_SECONDS),
            to: attack.end + opts.grace,
        }
    }

    fn in_window(&self, t: DateTime<Utc>) -> bool {
        t >= self.from && t <= self.to
    }

    /// The breach is the attack's (not a false breach).
    fn owns(&self, b: &Breach) -> bool {
        (self.in_window(b.time) && self.entities.contains(&norm_entity(&b.entity)))
            || b.event_ids
                .iter()
                .any(|id| self.records.contains(id.as_str()))
    }

    /// The breach is the attack's and in its window: it detects it.
    fn detects(&self, b: &Breach) -> bool {
        self.in_window(b.time) && self.owns(b)
    }
}

fn per_1000(n: usize, account_days: u64) -> f64 {
    if account_days == 0 {
        0.0
    } else {
        n as f64 * 1000.0 / account_days as f64
    }
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Scores `report` against `truth` with the default options (1 hour grace).
pub fn score(truth: &Truth, report: &Report) -> Evaluation {
    score_with(truth, report, &ScoreOptions::default())
}

/// Scores `report` against `truth`.
pub fn score_with(truth: &Truth, report: &Report, opts: &ScoreOptions) -> Evaluation {
    let scopes: Vec<Scope> = truth.attacks.iter().map(|a| Scope::new(a, opts)).collect();
    let account_days = truth.accounts.len() as u64 * truth.days as u64;
    let attacked: BTreeSet<&str> = scopes
        .iter()
        .flat_map(|s| s.accounts.iter().map(String::as_str))
        .collect();
    let compromised: BTreeSet<String> = truth
        .attacks
        .iter()
        .flat_map(|a| a.compromised.iter().map(|c| c.to_ascii_lowercase()))
        .collect();

    // Attacks.
    let mut attacks = Vec::new();
    for s in &scopes {
        let a = s.attack;
        let owned: Vec<&Breach> = report.breaches.iter().filter(|b| s.owns(b)).collect();
        let detecting: Vec<&Breach> = owned.iter().copied().filter(|b| s.detects(b)).collect();
        let first_breach = detecting.iter().map(|b| b.time).min();
        let models: BTreeSet<String> = owned.iter().map(|b| b.model.clone()).collect();
        let victims = a
            .victims
            .iter()
            .chain(a.compromised.iter().filter(|c| !a.victims.contains(c)))
            .map(|v| {
                let lv = v.to_ascii_lowercase();
                let fm = a.first_malicious.get(v).copied();
                let since = fm.map_or(s.from, |t| t - Duration::seconds(START_TOLERANCE_SECONDS));
                let first = detecting
                    .iter()
                    .filter(|b| norm_entity(&b.entity) == lv && b.time >= since)
                    .map(|b| b.time)
                    .min();
                VictimResult {
                    account: v.clone(),
                    compromised: a.compromised.contains(v),
                    first_malicious: fm,
                    first_breach: first,
                    ttd_seconds: match (first, fm) {
                        (Some(b), Some(m)) => Some((b - m).num_seconds().max(0)),
                        _ => None,
                    },
                }
            })
            .collect();
        attacks.push(AttackResult {
            id: a.id.clone(),
            kind: a.kind,
            day: a.day,
            start: a.start,
            end: a.end,
            detected: first_breach.is_some(),
            first_breach,
            ttd_seconds: first_breach
                .map(|b| (b - a.first_action.unwrap_or(a.start)).num_seconds().max(0)),
            ttd_from_start_seconds: first_breach.map(|b| (b - a.start).num_seconds().max(0)),
            victims,
            models: models.into_iter().collect(),
            breaches: owned.len(),
        });
    }

    // Per kind.
    let mut per_kind = Vec::new();
    for kind in AttackKind::ALL {
        let of: Vec<&AttackResult> = attacks.iter().filter(|a| a.kind == kind).collect();
        if of.is_empty() {
            continue;
        }
        let missed = of
            .iter()
            .filter(|a| !a.detected)
            .map(|a| a.id.clone())
            .collect();
        per_kind.push(KindResult::of(kind, &of, missed));
    }

    // False breaches.
    let mut owned_ids: HashSet<&str> = HashSet::new();
    let mut by_model: BTreeMap<&str, usize> = BTreeMap::new();
    let mut false_breaches = 0;
    for b in &report.breaches {
        if scopes.iter().any(|s| s.owns(b)) {
            owned_ids.insert(b.id.as_str());
        } else {
            false_breaches += 1;
            *by_model.entry(b.model.as_str()).or_default() += 1;
        }
    }
    let mut false_breaches_by_model: Vec<(String, usize)> = by_model
        .into_iter()
        .map(|(m, n)| (m.to_string(), n))
        .collect();
    false_breaches_by_model.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

    // False incidents.
    let false_incident_list: Vec<FalseIncident> = report
        .incidents
        .iter()
        .filter(|i| {
            let holds_owned = i.breach_ids.iter().any(|b| owned_ids.contains(b.as_str()));
            let shares = scopes.iter().any(|s| {
                i.start <= s.to
                    && i.end >= s.from
                    && i.entities
                        .iter()
                        .any(|e| s.entities.contains(&norm_entity(e)))
            });
            !holds_owned && !shares
        })
        .map(|i| FalseIncident {
            id: i.id.clone(),
            title: i.title.clone(),
            score: i.score,
            start: i.start,
            entities: i.entities.clone(),
        })
        .collect();

    // Innocent accounts disabled.
    let innocent_disable_actions: Vec<InnocentAction> = report
        .actions
        .iter()
        .filter(|a| a.kind == "disable_user" && !compromised.contains(&norm_entity(&a.target)))
        .map(|a| InnocentAction {
            target: a.target.clone(),
            time: a.time,
            mode: a.mode,
            state: a.state.clone(),
            incident_id: a.incident_id.clone(),
        })
        .collect();
    let innocent_disabled = innocent_disable_actions
        .iter()
        .map(|a| norm_entity(&a.target))
        .collect::<BTreeSet<_>>()
        .len();

    // Reference chains.
    let reference_chain = scopes
        .iter()
        .zip(&attacks)
        .filter(|(s, _)| s.attack.kind == AttackKind::ReferenceChain)
        .map(|(s, r)| reference_result(s, r, report, &attacked))
        .collect();

    Evaluation {
        seed: truth.seed,
        accounts: truth.accounts.len(),
        days: truth.days,
        account_days,
        grace_minutes: opts.grace.num_minutes(),
        attacks,
        per_kind,
        breaches: report.breaches.len(),
        false_breaches,
        false_breaches_per_1000_account_days: per_1000(false_breaches, account_days),
        false_breaches_by_model,
        incidents: report.incidents.len(),
        false_incidents: false_incident_list.len(),
        false_incidents_per_1000_account_days: per_1000(false_incident_list.len(), account_days),
        false_incident_list,
        innocent_disabled,
        innocent_disable_actions,
        reference_chain,
    }
}

fn reference_result(
    s: &Scope<'_>,
    r: &AttackResult,
    report: &Report,
    attacked: &BTreeSet<&str>,
) -> ReferenceResult {
    let a = s.attack;
    let account_a = a
        .compromised
        .iter()
        .min_by_key(|c| a.first_malicious.get(*c).copied().unwrap_or(a.end))
        .cloned()
        .unwrap_or_default();
    let la = account_a.to_ascii_lowercase();
    let a_first_login = a.first_malicious.get(&account_a).copied();
    let a_ttd_seconds = r
        .victims
        .iter()
        .find(|v| v.account == account_a)
        .and_then(|v| v.ttd_seconds);
    let containment = report
        .actions
        .iter()
        .filter(|x| {
            (x.kind == "disable_user" || x.kind == "revoke_sessions")
                && norm_entity(&x.target) == la
                && x.time >= s.from
        })
        .min_by_key(|x| x.time);
    let contained_before_spam = match (containment, a.first_spam) {
        (Some(c), Some(spam)) => c.time <= spam,
        (Some(_), None) => true,
        (None, _) => false,
    };
    let (compromised_breached, compromised_missed): (Vec<String>, Vec<String>) =
        a.compromised.iter().cloned().partition(|c| {
            r.victims
                .iter()
                .any(|v| v.account == *c && v.first_breach.is_some())
        });
    let want: Vec<String> = a
        .compromised
        .iter()
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let incident = report
        .incidents
        .iter()
        .filter(|i| {
            let ents: BTreeSet<String> = i.entities.iter().map(|e| norm_entity(e)).collect();
            !want.is_empty() && want.iter().all(|w| ents.contains(w))
        })
        .min_by_key(|i| i.entities.len());
    let innocent_in_incident = incident
        .map(|i| {
            i.entities
                .iter()
                .map(|e| norm_entity(e))
                .filter(|e| is_account(e) && !attacked.contains(e.as_str()))
                .collect()
        })
        .unwrap_or_default();
    ReferenceResult {
        attack_id: a.id.clone(),
        account_a,
        a_first_login,
        a_ttd_seconds,
        first_spam: a.first_spam,
        containment_kind: containment.map(|c| c.kind.clone()),
        containment_time: containment.map(|c| c.time),
        contained_before_spam,
        compromised_breached,
        compromised_missed,
        incident_id: incident.map(|i| i.id.clone()),
        held_in_one_incident: incident.is_some(),
        innocent_in_incident,
    }
}

fn fmt_minutes(m: Option<f64>) -> String {
    match m {
        Some(m) => format!("{m:.1}"),
        None => "-".into(),
    }
}

fn fmt_secs(s: Option<i64>) -> String {
    match s {
        Some(s) if s < 120 => format!("{s}s"),
        Some(s) => format!("{:.1}m", s as f64 / 60.0),
        None => "-".into(),
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

impl Evaluation {
    /// Threshold violations, one sentence each; empty when every threshold holds.
    pub fn check(&self, t: &Thresholds) -> Vec<String> {
        let mut v = Vec::new();
        for k in &self.per_kind {
            if k.recall + 1e-9 < t.min_recall {
                v.push(format!(
                    "recall of {} is {:.2} (< {:.2}): missed {}",
                    k.kind,
                    k.recall,
                    t.min_recall,
                    k.missed.join(", ")
                ));
            }
            if let Some(m) = k.median_ttd_minutes {
                if m > t.max_median_ttd_minutes {
                    v.push(format!(
                        "median time to detect {} is {m:.1} min (> {:.1})",
                        k.kind, t.max_median_ttd_minutes
                    ));
                }
            }
        }
        if self.false_incidents_per_1000_account_days > t.max_false_incidents_per_1000_account_days
        {
            v.push(format!(
                "{:.2} false incidents per 1000 account-days (> {:.2}): {} in {} account-days",
                self.false_incidents_per_1000_account_days,
                t.max_false_incidents_per_1000_account_days,
                self.false_incidents,
                self.account_days
            ));
        }
        if self.innocent_disabled > t.max_innocent_disabled {
            let names: Vec<String> = self
                .innocent_disable_actions
                .iter()
                .map(|a| norm_entity(&a.target))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            v.push(format!(
                "{} innocent accounts would have been disabled (> {}): {}",
                self.innocent_disabled,
                t.max_innocent_disabled,
                names.join(", ")
            ));
        }
        if t.require_reference_chain {
            for r in &self.reference_chain {
                if !r.contained_before_spam {
                    v.push(format!(
                        "{}: account A ({}) not contained before the first spam",
                        r.attack_id, r.account_a
                    ));
                }
                if !r.held_in_one_incident {
                    v.push(format!(
                        "{}: the compromised accounts are not held in one incident",
                        r.attack_id
                    ));
                }
            }
        }
        v
    }

    /// A compact report for people.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "seed {}: {} accounts x {} days = {} account-days; grace {} min",
            self.seed, self.accounts, self.days, self.account_days, self.grace_minutes
        );
        if !self.per_kind.is_empty() {
            let _ = writeln!(
                s,
                "{:<22} {:>7} {:>8} {:>6} {:>16} {:>18}",
                "kind", "attacks", "detected", "recall", "median TTD (min)", "from first record"
            );
            for k in &self.per_kind {
                let _ = writeln!(
                    s,
                    "{:<22} {:>7} {:>8} {:>6.2} {:>16} {:>18}",
                    k.kind.as_str(),
                    k.attacks,
                    k.detected,
                    k.recall,
                    fmt_minutes(k.median_ttd_minutes),
                    fmt_minutes(k.median_ttd_from_start_minutes)
                );
            }
        }
        for a in &self.attacks {
            let breached = a
                .victims
                .iter()
                .filter(|v| v.first_breach.is_some())
                .count();
            let _ = writeln!(
                s,
                "  {:<28} day {:>2} {:<8} TTD {:>6}  victims {}/{} breached  models: {}",
                a.id,
                a.day,
                if a.detected { "detected" } else { "MISSED" },
                fmt_secs(a.ttd_seconds),
                breached,
                a.victims.len(),
                if a.models.is_empty() {
                    "-".to_string()
                } else {
                    a.models.join("; ")
                }
            );
        }
        let _ = writeln!(
            s,
            "breaches {}: false {} ({:.2} per 1000 account-days)",
            self.breaches, self.false_breaches, self.false_breaches_per_1000_account_days
        );
        for (m, n) in self.false_breaches_by_model.iter().take(5) {
            let _ = writeln!(s, "  {n:>5}  {m}");
        }
        let _ = writeln!(
            s,
            "incidents {}: false {} ({:.2} per 1000 account-days)",
            self.incidents, self.false_incidents, self.false_incidents_per_1000_account_days
        );
        for i in self.false_incident_list.iter().take(10) {
            let _ = writeln!(
                s,
                "  {} {:.0} {} [{}]",
                i.id,
                i.score,
                i.title,
                i.entities.join(", ")
            );
        }
        let _ = writeln!(
            s,
            "innocent accounts autonomous mode would have disabled: {}",
            self.innocent_disabled
        );
        for a in self.innocent_disable_actions.iter().take(10) {
            let _ = writeln!(
                s,
                "  {} at {} ({:?}, {})",
                a.target,
                a.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                a.mode,
                a.incident_id
            );
        }
        for r in &self.reference_chain {
            let lead = match (r.containment_time, r.first_spam) {
                (Some(c), Some(sp)) => format!(
                    ", {} before the first spam",
                    fmt_secs(Some((sp - c).num_seconds()))
                ),
                _ => String::new(),
            };
            let _ = writeln!(
                s,
                "reference chain {}: A {} breached {} after its first login; contained before spam: {}{}; compromised breached {}/{}; one incident: {}{}; innocent accounts in it: {}",
                r.attack_id,
                r.account_a,
                fmt_secs(r.a_ttd_seconds),
                yes(r.contained_before_spam),
                match (&r.containment_kind, r.containment_time) {
                    (Some(k), Some(t)) => format!(" ({k} at {}{lead})", t.format("%m-%d %H:%M:%S")),
                    _ => String::new(),
                },
                r.compromised_breached.len(),
                r.compromised_breached.len() + r.compromised_missed.len(),
                yes(r.held_in_one_incident),
                r.incident_id
                    .as_ref()
                    .map(|i| format!(" ({i})"))
                    .unwrap_or_default(),
                if r.innocent_in_incident.is_empty() {
                    "none".to_string()
                } else {
                    r.innocent_in_incident.join(", ")
                }
            );
        }
        s
    }

    /// A Markdown section: per-kind table and the false-alarm and reference-chain figures.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        if !self.per_kind.is_empty() {
            let _ = writeln!(
                s,
                "| kind | attacks | detected | recall | median TTD (min) | from first record (min) | models that fired |"
            );
            let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---|");
            for k in &self.per_kind {
                let models: BTreeSet<&str> = self
                    .attacks
                    .iter()
                    .filter(|a| a.kind == k.kind)
                    .flat_map(|a| a.models.iter().map(String::as_str))
                    .collect();
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {:.2} | {} | {} | {} |",
                    k.kind,
                    k.attacks,
                    k.detected,
                    k.recall,
                    fmt_minutes(k.median_ttd_minutes),
                    fmt_minutes(k.median_ttd_from_start_minutes),
                    models.into_iter().collect::<Vec<_>>().join("; ")
                );
            }
            let _ = writeln!(s);
        }
        let _ = writeln!(
            s,
            "| account-days | breaches | false breaches /1000 acct-days | incidents | false incidents | false incidents /1000 acct-days | innocent disabled |"
        );
        let _ = writeln!(s, "|---:|---:|---:|---:|---:|---:|---:|");
        let _ = writeln!(
            s,
            "| {} | {} | {:.2} | {} | {} | {:.2} | {} |",
            self.account_days,
            self.breaches,
            self.false_breaches_per_1000_account_days,
            self.incidents,
            self.false_incidents,
            self.false_incidents_per_1000_account_days,
            self.innocent_disabled
        );
        let _ = writeln!(s);
        for r in &self.reference_chain {
            let _ = writeln!(
                s,
                "Reference chain {}: A breached {} after its first attacker login; contained before spam: **{}**{}; B and C breached: {}/{}; held in one incident: **{}**; innocent accounts in that incident: {}.",
                r.attack_id,
                fmt_secs(r.a_ttd_seconds),
                yes(r.contained_before_spam),
                match (&r.containment_kind, r.containment_time, r.first_spam) {
                    (Some(k), Some(t), Some(sp)) => format!(" ({k}, {} before the first spam)", fmt_secs(Some((sp - t).num_seconds()))),
                    (Some(k), _, _) => format!(" ({k})"),
                    _ => String::new(),
                },
                r.compromised_breached.len(),
                r.compromised_breached.len() + r.compromised_missed.len(),
                yes(r.held_in_one_incident),
                if r.innocent_in_incident.is_empty() {
                    "none".to_string()
                } else {
                    r.innocent_in_incident.len().to_string()
                }
            );
            let _ = writeln!(s);
        }
        if !self.false_breaches_by_model.is_empty() {
            let top: Vec<String> = self
                .false_breaches_by_model
                .iter()
                .take(4)
                .map(|(m, n)| format!("{m} ({n})"))
                .collect();
            let _ = writeln!(s, "False breaches by model (top): {}.", top.join(", "));
            let _ = writeln!(s);
        }
        if !self.false_incident_list.is_empty() {
            let titles: Vec<String> = self
                .false_incident_list
                .iter()
                .take(5)
                .map(|i| format!("{} ({:.0})", i.title, i.score))
                .collect();
            let _ = writeln!(s, "False incidents: {}.", titles.join("; "));
            let _ = writeln!(s);
        }
        s
    }
}

/// Several runs taken together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pooled {
    pub runs: usize,
    /// Recall and median time to detect per kind over every attack of every run.
    pub per_kind: Vec<KindResult>,
    pub account_days: u64,
    pub false_incidents: usize,
    pub false_incidents_per_1000_account_days: f64,
    pub innocent_disabled: usize,
    pub reference_chains: usize,
    pub reference_contained_before_spam: usize,
    pub reference_held_in_one_incident: usize,
}

/// Pools several evaluations: per-kind recall and median time to detect over all their attacks,
/// and the false-incident rate over all their account-days.
pub fn pool(evals: &[Evaluation]) -> Pooled {
    let mut per_kind = Vec::new();
    for kind in AttackKind::ALL {
        let of: Vec<&AttackResult> = evals
            .iter()
            .flat_map(|e| e.attacks.iter())
            .filter(|a| a.kind == kind)
            .collect();
        if of.is_empty() {
            continue;
        }
        let missed = evals
            .iter()
            .flat_map(|e| {
                e.attacks
                    .iter()
                    .filter(|a| a.kind == kind && !a.detected)
                    .map(move |a| format!("seed {} {}", e.seed, a.id))
            })
            .collect();
        per_kind.push(KindResult::of(kind, &of, missed));
    }
    let account_days = evals.iter().map(|e| e.account_days).sum();
    let false_incidents = evals.iter().map(|e| e.false_incidents).sum();
    let refs = evals.iter().flat_map(|e| e.reference_chain.iter());
    Pooled {
        runs: evals.len(),
        per_kind,
        account_days,
        false_incidents,
        false_incidents_per_1000_account_days: per_1000(false_incidents, account_days),
        innocent_disabled: evals.iter().map(|e| e.innocent_disabled).sum(),
        reference_chains: refs.clone().count(),
        reference_contained_before_spam: refs.clone().filter(|r| r.contained_before_spam).count(),
        reference_held_in_one_incident: refs.filter(|r| r.held_in_one_incident).count(),
    }
}

impl Pooled {
    /// Markdown: the per-kind table and one line of false alarms.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        if !self.per_kind.is_empty() {
            let _ = writeln!(
                s,
                "| kind | attacks | detected | recall | median TTD (min) | from first record (min) | missed |"
            );
            let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---|");
            for k in &self.per_kind {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {:.2} | {} | {} | {} |",
                    k.kind,
                    k.attacks,
                    k.detected,
                    k.recall,
                    fmt_minutes(k.median_ttd_minutes),
                    fmt_minutes(k.median_ttd_from_start_minutes),
                    if k.missed.is_empty() {
                        "-".to_string()
                    } else {
                        k.missed.join(", ")
                    }
                );
            }
            let _ = writeln!(s);
        }
        let refs = if self.reference_chains == 0 {
            String::new()
        } else {
            format!(
                "; reference chains contained before spam {}/{}, held in one incident {}/{}",
                self.reference_contained_before_spam,
                self.reference_chains,
                self.reference_held_in_one_incident,
                self.reference_chains
            )
        };
        let _ = writeln!(
            s,
            "{} runs, {} account-days: {} false incidents ({:.2} per 1000 account-days); innocent accounts autonomous mode would have disabled: {}{refs}.",
            self.runs,
            self.account_days,
            self.false_incidents,
            self.false_incidents_per_1000_account_days,
            self.innocent_disabled,
        );
        s
    }
}
