//! Metrics: for each event, named numbers (with the baseline they were judged against and a
//! phrase a person reads), computed against what was known *before* the event.
//!
//! Learned rarity and volume sit next to fixed knowledge of attacker tradecraft (legacy-auth
//! clients, punctuation-only rule names, hiding folders, mail-permission consents).

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};
use vigil_event::{ConsentKind, Event, EventKind, InboxRule, RuleChange, SecurityChange, UaClass};

use crate::geo;
use crate::state::{consent_key, AccountState, Features, FreqTable, State, StateConfig};
use crate::util::{decay, fmt_num, h64, ip_key, Min, DAY, HOUR};

/// A metric's value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Num(f64),
    Str(String),
}

impl Value {
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Num(x) => Some(*x),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Value::Str(_) => None,
        }
    }
    pub fn truthy(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Num(x) => *x != 0.0,
            Value::Str(s) => !s.is_empty(),
        }
    }
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Bool(b) => (*b).into(),
            Value::Num(x) if x.is_finite() => {
                let r = (x * 1000.0).round() / 1000.0;
                if r.fract() == 0.0 && r.abs() < 9e15 {
                    (r as i64).into()
                } else {
                    r.into()
                }
            }
            Value::Num(_) => serde_json::Value::Null,
            Value::Str(s) => s.clone().into(),
        }
    }
    pub fn display(&self) -> String {
        match self {
            Value::Bool(b) => b.to_string(),
            Value::Num(x) => fmt_num(*x),
            Value::Str(s) => s.clone(),
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<f64> for Value {
    fn from(x: f64) -> Value {
        Value::Num(x)
    }
}
impl From<u32> for Value {
    fn from(x: u32) -> Value {
        Value::Num(x as f64)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

/// One metric of one event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    pub value: Value,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub baseline: Option<Value>,
    /// What it means, for the breach's sentence (only when the metric is notable).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub text: Option<String>,
}

/// All metrics of one event, by name. A hash map sized for a whole event at once: every event
/// builds one and every model condition reads it, so this is on the engine's hottest path.
#[derive(Clone, Debug, PartialEq)]
pub struct Metrics {
    pub map: FxHashMap<&'static str, Metric>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            map: FxHashMap::with_capacity_and_hasher(96, Default::default()),
        }
    }
}

impl Metrics {
    pub fn get(&self, name: &str) -> Option<&Metric> {
        self.map.get(name)
    }
    fn put(&mut self, name: &'static str, value: impl Into<Value>) -> &mut Metric {
        debug_assert!(metric_def(name).is_some(), "unregistered metric {name}");
        let metric = Metric {
            value: value.into(),
            baseline: None,
            text: None,
        };
        match self.map.entry(name) {
            std::collections::hash_map::Entry::Occupied(mut o) => {
                o.insert(metric);
                o.into_mut()
            }
            std::collections::hash_map::Entry::Vacant(v) => v.insert(metric),
        }
    }
}

impl Metric {
    fn base(&mut self, b: impl Into<Value>) -> &mut Metric {
        self.baseline = Some(b.into());
        self
    }
    fn text_if(&mut self, cond: bool, t: impl FnOnce() -> String) -> &mut Metric {
        if cond {
            self.text = Some(t());
        }
        self
    }
}

/// The type of a metric, for validating models.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricType {
    Bool,
    Num,
    Str,
}

/// A metric the engine can compute.
pub struct MetricDef {
    pub name: &'static str,
    pub ty: MetricType,
    pub doc: &'static str,
}

macro_rules! defs {
    ($( $name:literal : $ty:ident = $doc:literal ),* $(,)?) => {
        /// Every metric the engine computes, with its type and meaning.
        pub const METRICS: &[MetricDef] = &[ $( MetricDef { name: $name, ty: MetricType::$ty, doc: $doc } ),* ];
    };
}

defs! {
    // context
    "event_kind": Str = "kind of the event: sign_in, inbox_rule, app_consent, mail_send, ...",
    "operation": Str = "operation name as the source spells it",
    "has_account": Bool = "the event names an account",
    "account_learning": Bool = "the account has too little history to judge by (baseline: days of history)",
    "org_learning": Bool = "the organisation is still in its learning period",
    "org_accounts": Num = "accounts known to the organisation (the N of k-of-N)",
    "account_breach_score_24h": Num = "highest breach score of this account in the last 24 hours",
    "hour_rarity": Num = "0..1: how unusual this hour of the week is for the account (1 = never active then)",
    // location
    "ip": Str = "client IP address",
    "ip_internal": Bool = "the IP is private or otherwise not routable",
    "country": Str = "country of the IP (ISO code)",
    "asn": Num = "autonomous system number of the IP",
    "ip_first_for_account": Bool = "the account never signed in from this IP (baseline: IPs known)",
    "prefix_first_for_account": Bool = "the account never signed in from this /24 (/48) network",
    "asn_first_for_account": Bool = "the account never signed in from this autonomous system",
    "country_first_for_account": Bool = "the account never signed in from this country",
    "ip_org_accounts": Num = "accounts that have signed in from this IP (baseline: accounts in the organisation)",
    "prefix_org_accounts": Num = "accounts that have signed in from this network prefix",
    "asn_org_accounts": Num = "accounts that have signed in from this autonomous system",
    "country_org_accounts": Num = "accounts that have signed in from this country",
    "country_account_prob": Num = "calibrated probability of this country for the account, smoothed toward the organisation",
    "asn_account_prob": Num = "calibrated probability of this network (AS) for the account, smoothed toward the organisation",
    "login_rarity": Num = "0..1: combined rarity of the location (a new country weighs more than a new AS, a new AS more than a new /24, a new /24 more than a new IP)",
    "country_unusual": Bool = "new country for an established account, or a country few accounts use for a learning one",
    "network_unusual": Bool = "new AS for an established account, or an AS almost no account uses for a learning one",
    "network_rare_in_org": Bool = "at most one account (or 1%) has used this AS, and no other account this /24",
    "travel_kmh": Num = "speed needed to travel from the previous sign-in's country (km/h)",
    "impossible_travel": Bool = "previous sign-in from a far country too recently to have travelled",
    "activity_ip_never_signed_in": Bool = "an activity (not a sign-in) from an IP, network and AS this account never signed in from",
    // sign-in
    "signin_success": Bool = "the sign-in succeeded",
    "signin_failed": Bool = "the sign-in failed",
    "mfa_denied": Bool = "the sign-in failed at multi-factor authentication (denied or not answered)",
    "bad_password": Bool = "the sign-in failed for a wrong password",
    "single_factor": Bool = "the sign-in satisfied only a single factor",
    "ua_legacy_auth": Bool = "legacy basic-auth client (BAV2ROPC, IMAP, POP, SMTP AUTH, ...): MFA does not apply",
    "ua_family": Str = "client family (Chrome, Outlook, BAV2ROPC, python-requests, ...)",
    "ua_class": Str = "client class (browser, desktop_client, mobile_client, legacy_auth, automation, unknown)",
    "ua_family_first_for_account": Bool = "the account never signed in with this client family",
    "ua_family_org_accounts": Num = "accounts that have signed in with this client family",
    "ua_automation": Bool = "script or automation client (python-requests, curl, PowerShell SDKs, ...)",
    "client_app_first_for_account": Bool = "the account never used this client app / protocol",
    "failed_logons_1h": Num = "failed sign-ins of the account in the last hour, this one included (baseline: usual peak)",
    "mfa_denied_1h": Num = "MFA denials of the account in the hour before this event",
    "ip_failed_accounts_1h": Num = "distinct accounts that failed to sign in from this IP in the last hour",
    "ip_failed_logons_1h": Num = "failed sign-ins from this IP in the last hour",
    // inbox rules, forwarding
    "rule_new": Bool = "an inbox rule was created or changed (not removed or disabled)",
    "rule_name": Str = "the inbox rule's name",
    "rule_name_punctuation_only": Bool = "the rule name is empty, punctuation or whitespace (\".\", \",,\", \" \")",
    "rule_moves_to_hiding_folder": Bool = "the rule moves mail to RSS Feeds, RSS Subscriptions, Conversation History, Archive, Junk or Deleted Items",
    "rule_deletes": Bool = "the rule deletes mail",
    "rule_marks_read": Bool = "the rule marks mail as read",
    "rule_hides_mail": Bool = "the rule hides mail (hiding folder, delete, or mark as read with a move)",
    "rule_security_keywords": Bool = "the rule matches security words (hack, phish, password, compromised, security, invoice, payment, ...)",
    "rule_forwards_external": Bool = "the rule forwards or redirects to an address outside the organisation",
    "forwards_external": Bool = "forwarding to an external address (inbox rule, mailbox forwarding or transport rule)",
    "forward_target": Str = "the external forwarding address",
    "rules_created_before": Num = "inbox rules this account created before",
    "transport_rule_change": Bool = "a transport (mail flow) rule was created or changed",
    "mailbox_forwarding_set": Bool = "mailbox-level forwarding was set",
    // consent and apps
    "consent": Bool = "permissions were granted to an application",
    "app_name": Str = "the application's name",
    "consent_scopes": Str = "the scopes granted",
    "consent_mail_scopes": Bool = "mail permissions (Mail.Read, Mail.ReadWrite, Mail.Send, EWS, IMAP/SMTP ...)",
    "consent_files_scopes": Bool = "file permissions (Files.*, Sites.*)",
    "consent_offline_access": Bool = "offline_access: the app keeps access without the user",
    "consent_sensitive_scopes": Bool = "any of mail, file, offline access or directory write permissions",
    "admin_consent": Bool = "an administrator consented for every user",
    "app_org_accounts": Num = "accounts that have used or consented to this app before",
    "app_rare_in_org": Bool = "at most two accounts have used or consented to this app before",
    "app_first_for_account": Bool = "the account never used this app before",
    "app_admin_first_for_account": Bool = "the account never administered applications before",
    "service_principal_change": Bool = "an application or service principal was added or changed",
    "app_recently_consented": Bool = "this account consented to this app in the last 7 days",
    "app_consent_hours": Num = "hours since this account consented to this app",
    // mail volume
    "send_count_15m": Num = "messages sent by the account in the last 15 minutes (baseline: its usual busiest 15 minutes)",
    "send_ratio_15m": Num = "send_count_15m over the larger of the account's and the organisation's usual peak",
    "recipients_15m": Num = "recipients (message trace rows) in the last 15 minutes",
    "external_recipients_15m": Num = "external recipients in the last 15 minutes",
    "same_subject_15m": Num = "messages with this subject in the current 15-minute burst",
    "recipient_internal": Bool = "message trace: the recipient is inside the organisation",
    // reads and downloads
    "mail_read_1h": Num = "mail items accessed by the account in the last hour (baseline: usual peak)",
    "mail_read_ratio_1h": Num = "mail_read_1h over the usual peak",
    "downloads_1h": Num = "files downloaded by the account in the last hour (baseline: usual peak)",
    "downloads_ratio_1h": Num = "downloads_1h over the usual peak",
    "downloads_10m": Num = "files downloaded by the account in the last 10 minutes",
    "downloads_pace_ratio": Num = "the hourly pace of the last 10 minutes' downloads over the usual peak hour",
    // account security
    "security_info_registered": Bool = "a new MFA method or security info was registered",
    "mfa_weakened": Bool = "MFA was disabled or security info deleted",
    "password_changed": Bool = "the password was reset or changed",
    "role_added": Bool = "a directory role was granted",
    "role": Str = "the directory role",
}

pub fn metric_def(name: &str) -> Option<&'static MetricDef> {
    METRICS.iter().find(|m| m.name == name)
}

const HIDING_FOLDERS: &[&str] = &[
    "rss feeds",
    "rss subscriptions",
    "conversation history",
    "archive",
    "junk",
    "junk email",
    "junk e-mail",
    "deleted items",
    "notes",
];

const SECURITY_WORDS: &[&str] = &[
    "hack",
    "phish",
    "password",
    "compromis",
    "security",
    "suspicious",
    "fraud",
    "spam",
    "malware",
    "virus",
    "invoice",
    "payment",
    "wire",
    "helpdesk",
    "it support",
];

/// Permissions that let an app read or send mail, read files, act offline, or write the directory.
pub fn is_sensitive_scope(s: &str) -> bool {
    is_mail_scope(s)
        || is_files_scope(s)
        || s.eq_ignore_ascii_case("offline_access")
        || s.to_ascii_lowercase().contains("directory.readwrite")
}

fn is_mail_scope(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    s.starts_with("mail.")
        || s.contains("mailboxsettings.readwrite")
        || s.contains("ews.accessasuser")
        || s.contains("imap.accessasuser")
        || s.contains("pop.accessasuser")
        || s.contains("smtp.send")
        || s == "full_access_as_app"
        || s.contains("exchange.manage")
}

fn is_files_scope(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    s.starts_with("files.") || s.starts_with("sites.")
}

pub fn punctuation_only(name: &str) -> bool {
    name.chars()
        .all(|c| c.is_whitespace() || c.is_ascii_punctuation() || c.is_control())
}

/// What the engine knows about the account from earlier breaches (supplied by the model runtime).
#[derive(Clone, Copy, Debug, Default)]
pub struct Context {
    pub account_breach_score_24h: f64,
}

const ALPHA: f32 = 2.0;

/// Probability of a value for an account, smoothed toward the organisation: the fraction of
/// accounts that used it acts as a prior worth `ALPHA` observations.
fn account_prob(t: &FreqTable, key: u64, org_k: u32, n: u32, now: Min, hl: f32) -> f32 {
    let prior = (org_k.min(n) as f32 + 0.5) / (n as f32 + 1.0);
    (t.weight(key, now, hl) + ALPHA * prior) / (t.total(now, hl) + ALPHA)
}

/// Rarity of a value from its calibrated probability: a value that makes up a tenth or more of
/// what the account does is fully familiar (0); one it never used and few accounts use is 1.
fn rarity(p: f32) -> f32 {
    1.0 - (p / 0.1).min(1.0)
}

fn unusual_hour(acct: &AccountState, org: &crate::state::OrgState, t: Min, hl: f32) -> f64 {
    // Decay both profiles to now and smooth the account toward the organisation.
    let a_f = decay(1.0, acct.hours.at, t, hl);
    let o_f = decay(1.0, org.hours.at, t, hl);
    let a_tot = acct.hours.total() * a_f;
    let o_tot = (org.hours.total() * o_f).max(1e-6);
    let o_share = |x: f32| x * o_f / o_tot;
    let here = acct.hours.around(t) * a_f + ALPHA * 4.0 * o_share(org.hours.around(t));
    let peak = acct.hours.max_around() * a_f + ALPHA * 4.0 * o_share(org.hours.max_around());
    if a_tot + o_tot < 1.0 || peak <= 0.0 {
        return 0.0;
    }
    (1.0 - (here / peak).min(1.0)).clamp(0.0, 1.0) as f64
}

/// Computes the metrics of `ev` against `state` as it was before the event.
pub fn compute(
    ev: &Event,
    f: &Features,
    state: &State,
    cfg: &StateConfig,
    ctx: &Context,
) -> Metrics {
    let mut m = Metrics::default();
    let t = f.t;
    let hl = cfg.hl();
    let phl = cfg.peak_hl();
    let org = &state.org;
    let n = state.n_accounts();
    let acct = f.account.as_deref().and_then(|a| state.account(a));
    // Only an account seen for the first time needs a blank state to be judged against; making
    // one allocates (the hour-of-week profile), so not for every event.
    let empty;
    let a = match acct {
        Some(a) => a,
        None => {
            empty = AccountState::new(t);
            &empty
        }
    };
    let learning = acct.is_none_or(|a| a.learning(t, cfg));
    let org_learning = org.learning(t, cfg);

    m.put("event_kind", ev.kind.name());
    m.put("operation", &*ev.operation);
    m.put("has_account", f.account.is_some());
    m.put("account_learning", learning)
        .base(fmt_num((t.saturating_sub(a.first) / DAY) as f64));
    m.put("org_learning", org_learning);
    m.put("org_accounts", n);
    m.put("account_breach_score_24h", ctx.account_breach_score_24h);

    // ---- location -------------------------------------------------------------------------
    let public_ip = f.ip.is_some() && !f.ip_internal;
    let ip_s = f.ip.map(|i| i.to_string()).unwrap_or_default();
    if f.ip.is_some() {
        m.put("ip", ip_s.as_str());
        m.put("ip_internal", f.ip_internal);
    }
    if public_ip {
        let ipk = f.ip.as_ref().map_or(0, ip_key);
        let ip_new = a.ip.get(ipk).is_none();
        let ip_k = org.ip.accounts(ipk).min(n);
        m.put("ip_first_for_account", ip_new)
            .base(a.ip.len() as u32);
        m.put("ip_org_accounts", ip_k).base(n);
        let r_ip = rarity(account_prob(&a.ip, ipk, ip_k, n, t, hl));

        let mut r_prefix = 0.0;
        let mut prefix_k = 0;
        let mut prefix_new = true;
        if let Some(p) = &f.prefix {
            let pk = h64(p);
            prefix_new = a.prefix.get(pk).is_none();
            prefix_k = org.prefix.accounts(pk).min(n);
            m.put("prefix_first_for_account", prefix_new)
                .base(a.prefix.len() as u32);
            m.put("prefix_org_accounts", prefix_k).base(n);
            r_prefix = rarity(account_prob(&a.prefix, pk, prefix_k, n, t, hl));
        }
        let mut r_asn = 0.0;
        let mut asn_new = true;
        let mut asn_k = 0;
        if let Some(asn) = f.asn {
            let k = asn as u64;
            asn_new = a.asn.get(k).is_none();
            asn_k = org.asn.accounts(k).min(n);
            m.put("asn", asn);
            m.put("asn_first_for_account", asn_new)
                .base(a.asn.len() as u32)
                .text_if(asn_new && !learning, || {
                    format!("first sign-in of this account from AS{asn}")
                });
            m.put("asn_org_accounts", asn_k)
                .base(n)
                .text_if(asn_k == 0 && n > 0, || {
                    let org_name = f
                        .as_org
                        .as_deref()
                        .map(|o| format!(" ({o})"))
                        .unwrap_or_default();
                    format!(
                        "none of the {n} accounts has used this network (AS{asn}{org_name}) before"
                    )
                });
            let p = account_prob(&a.asn, k, asn_k, n, t, hl);
            r_asn = rarity(p);
            m.put("asn_account_prob", p as f64);
        }
        let mut r_country = 0.0;
        if let Some(c) = f.country {
            let k = h64(c.as_str());
            let new = a.country.get(k).is_none();
            let ck = org.country.accounts(k).min(n);
            let name = geo::country_name(c.as_str());
            m.put("country", c.as_str());
            m.put("country_first_for_account", new)
                .base(a.country.len() as u32)
                .text_if(new && !learning, || {
                    format!("first sign-in of this account from {name}")
                });
            m.put("country_org_accounts", ck).base(n).text_if(
                (ck as f32) < (n as f32 * 0.02).max(1.0),
                || match ck {
                    0 => format!("no account of the organisation has signed in from {name} before"),
                    k => format!("only {k} of {n} accounts have signed in from {name}"),
                },
            );
            let p = account_prob(&a.country, k, ck, n, t, hl);
            r_country = rarity(p);
            m.put("country_account_prob", p as f64);
            let unusual = if learning {
                !org_learning && (ck as f32) < (n as f32 * 0.05).max(1.0)
            } else {
                new
            };
            m.put("country_unusual", unusual);
            // Travel from the previous sign-in.
            if let (Some(si), Some(prev)) = (f.signin, a.last_login) {
                if si.success && prev.country != c {
                    if let Some(d) = geo::distance_km(prev.country.as_str(), c.as_str()) {
                        let hours = (t.saturating_sub(prev.at) as f32 / 60.0).max(1.0 / 60.0);
                        let kmh = d / hours;
                        m.put("travel_kmh", kmh.round() as f64).base(900.0).text_if(
                            kmh > 900.0,
                            || {
                                format!(
                                    "signed in from {} {} minutes earlier, {} km away",
                                    geo::country_name(prev.country.as_str()),
                                    t.saturating_sub(prev.at),
                                    fmt_num(d.round() as f64)
                                )
                            },
                        );
                        m.put("impossible_travel", kmh > 900.0 && d > 800.0);
                    }
                }
            }
        }
        let net_unusual = if learning {
            !org_learning && asn_k <= 1
        } else {
            asn_new
        };
        m.put("network_unusual", net_unusual);
        m.put(
            "network_rare_in_org",
            (asn_k as f32) <= (n as f32 * 0.01).max(1.0) && prefix_k <= 1,
        );
        let rarity = r_country
            .max(0.75 * r_asn)
            .max(0.45 * r_prefix)
            .max(0.25 * r_ip);
        m.put("login_rarity", rarity as f64);

        // A non-sign-in activity from somewhere the account never signed in from.
        if f.signin.is_none()
            && f.account.is_some()
            && !matches!(ev.kind, EventKind::MessageTrace(_))
        {
            let never = !learning && ip_new && prefix_new && asn_new;
            m.put("activity_ip_never_signed_in", never)
                .text_if(never, || {
                    format!("activity from {ip_s}, an address and network this account never signed in from")
                });
        }
    }

    // ---- hour of week -----------------------------------------------------------------------
    if f.account.is_some()
        && (f.signin.is_some_and(|s| s.success) || matches!(ev.kind, EventKind::MailSend(_)))
    {
        let r = unusual_hour(a, org, t, hl);
        m.put("hour_rarity", r);
    }

    // ---- sign-in ----------------------------------------------------------------------------
    if let Some(si) = f.signin {
        m.put("signin_success", si.success);
        m.put("signin_failed", !si.success);
        m.put("mfa_denied", si.mfa_denied);
        m.put("bad_password", si.bad_password);
        m.put("single_factor", si.single_factor);
        let fam = f.ua_family.clone().unwrap_or_else(|| "unknown".into());
        m.put("ua_legacy_auth", si.legacy).text_if(si.legacy, || {
            format!("legacy basic-auth client {fam}, which bypasses MFA")
        });
        m.put("ua_family", fam.as_str());
        m.put("ua_class", f.ua_class.map_or("unknown", |c| c.as_str()));
        m.put("ua_automation", f.ua_class == Some(UaClass::Automation))
            .text_if(f.ua_class == Some(UaClass::Automation), || {
                format!("scripted client {fam}")
            });
        if let Some(u) = &f.ua_family {
            let k = h64(&u.to_ascii_lowercase());
            let new = a.ua_family.get(k).is_none();
            m.put("ua_family_first_for_account", new)
                .base(a.ua_family.len() as u32)
                .text_if(new && !learning, || {
                    format!("first use of {u} by this account")
                });
            m.put("ua_family_org_accounts", org.ua_family.accounts(k).min(n))
                .base(n);
        }
        if let Some(c) = &f.client_app {
            let k = h64(&c.to_ascii_lowercase());
            m.put(
                "client_app_first_for_account",
                a.client_app.get(k).is_none(),
            )
            .base(a.client_app.len() as u32);
        }
        let failed_before = a.failed.sum(t);
        let failed = failed_before + u32::from(!si.success);
        m.put("failed_logons_1h", failed)
            .base(a.peak_failed.value(t, phl).round() as f64);
        let denials = a.mfa_denied.sum(t) + u32::from(si.mfa_denied);
        m.put("mfa_denied_1h", denials).text_if(denials >= 3, || {
            format!("{denials} MFA prompts denied within the hour")
        });
        if let Some(ip) = f.ip {
            let ipk = ip_key(&ip);
            let (accts, logons) = match org.ip_failures.get(&ipk) {
                Some(x) => {
                    let mut k = x.distinct_accounts(t, HOUR);
                    let me = f.account.as_deref().map(h64);
                    if !si.success
                        && !x
                            .accounts
                            .iter()
                            .any(|(a, at)| Some(*a) == me && t.saturating_sub(*at) <= HOUR)
                    {
                        k += 1;
                    }
                    (k, x.failed.sum(t) + u32::from(!si.success))
                }
                None => (u32::from(!si.success), u32::from(!si.success)),
            };
            m.put("ip_failed_accounts_1h", accts)
                .text_if(accts >= 5, || {
                    format!("{accts} accounts failed to sign in from {ip} within the hour")
                });
            m.put("ip_failed_logons_1h", logons);
        }
    }

    // ---- by kind ----------------------------------------------------------------------------
    match &ev.kind {
        EventKind::InboxRule(r) => rule_metrics(&mut m, r, a, state, cfg),
        EventKind::MailboxForwarding(fw) => {
            let set = !fw.cleared;
            m.put("mailbox_forwarding_set", set);
            let ext: Vec<&str> = fw
                .forward_to
                .iter()
                .map(|x| &*x.address)
                .filter(|x| !org.is_internal_address(x, cfg))
                .collect();
            let fx = set && !ext.is_empty();
            m.put("forwards_external", fx).text_if(fx, || {
                format!("mailbox forwarding to external {}", ext.join(", "))
            });
            if let Some(x) = ext.first() {
                m.put("forward_target", *x);
            }
        }
        EventKind::TransportRule(tr) => {
            m.put("transport_rule_change", true);
            let ext: Vec<&str> = tr
                .forward_to
                .iter()
                .map(|x| &*x.address)
                .filter(|x| !org.is_internal_address(x, cfg))
                .collect();
            m.put("forwards_external", !ext.is_empty())
                .text_if(!ext.is_empty(), || {
                    format!("transport rule sending mail to external {}", ext.join(", "))
                });
            if let Some(x) = ext.first() {
                m.put("forward_target", *x);
            }
        }
        EventKind::AppConsent(c) => {
            m.put("consent", true);
            let name = c
                .app_name
                .as_deref()
                .or(c.app_id.as_deref())
                .unwrap_or("an unnamed app")
                .to_string();
            m.put("app_name", name.as_str());
            let scopes: Vec<&str> = c.scopes.iter().map(|s| &**s).collect();
            m.put("consent_scopes", scopes.join(" "));
            let mail = scopes.iter().any(|s| is_mail_scope(s));
            let files = scopes.iter().any(|s| is_files_scope(s));
            let offline = scopes
                .iter()
                .any(|s| s.eq_ignore_ascii_case("offline_access"));
            m.put("consent_mail_scopes", mail).text_if(mail, || {
                let ms: Vec<&str> = scopes
                    .iter()
                    .copied()
                    .filter(|s| is_mail_scope(s))
                    .collect();
                format!("{name} was granted mail permissions ({})", ms.join(", "))
            });
            m.put("consent_files_scopes", files)
                .text_if(files, || format!("{name} was granted file permissions"));
            m.put("consent_offline_access", offline);
            m.put(
                "consent_sensitive_scopes",
                scopes.iter().any(|s| is_sensitive_scope(s)),
            );
            m.put("admin_consent", c.admin_consent.unwrap_or(false));
            m.put("app_admin_first_for_account", a.app_admin == 0)
                .base(a.app_admin);
            let _ = ConsentKind::ConsentToApplication;
        }
        EventKind::ServicePrincipal(_) => {
            m.put("service_principal_change", true);
            m.put("app_admin_first_for_account", a.app_admin == 0)
                .base(a.app_admin);
            if let Some(nm) = &f.app_name {
                m.put("app_name", nm.as_str());
            }
        }
        EventKind::MailSend(_) | EventKind::MessageTrace(_) => {
            let new_msg = f
                .message_id
                .as_deref()
                .is_none_or(|id| !a.recent_msgs.contains(&h64(id)));
            let new_msg =
                new_msg && (f.message_id.is_some() || matches!(ev.kind, EventKind::MailSend(_)));
            let count = a.sends.sum(t) + u32::from(new_msg);
            let peak = a.peak_sends.value(t, phl) as f64;
            let floor = (org.send_peak_q as f64).max(10.0);
            let ratio = count as f64 / peak.max(floor);
            m.put("send_count_15m", count)
                .base(peak.round())
                .text_if(ratio >= 3.0, || {
                    format!(
                        "{count} messages in 15 minutes where this account's busiest 15 minutes held about {}",
                        fmt_num(peak.round())
                    )
                });
            m.put("send_ratio_15m", (ratio * 100.0).round() / 100.0)
                .base(1.0);
            let s = h64(f.subject.as_deref().unwrap_or("").trim());
            let same = a.subject_burst(s, t) + u32::from(new_msg);
            m.put("same_subject_15m", same)
                .base(a.peak_subject.value(t, phl).round() as f64)
                .text_if(same >= 50, || {
                    format!(
                        "{same} messages with the same subject \"{}\"",
                        f.subject
                            .as_deref()
                            .unwrap_or("")
                            .chars()
                            .take(60)
                            .collect::<String>()
                    )
                });
            let rcpt = u32::from(f.recipient.is_some());
            let ext = f
                .recipient
                .as_deref()
                .is_some_and(|r| !org.is_internal_address(r, cfg));
            m.put("recipients_15m", a.recipients.sum(t) + rcpt)
                .base(a.peak_recipients.value(t, phl).round() as f64);
            m.put(
                "external_recipients_15m",
                a.ext_recipients.sum(t) + u32::from(ext),
            )
            .base(a.peak_ext.value(t, phl).round() as f64);
            if f.recipient.is_some() {
                m.put("recipient_internal", !ext);
            }
        }
        EventKind::MailItemsAccessed(_) => {
            let x = a.mail_read.sum(t) + f.mail_read_items;
            let peak = a.peak_mail_read.value(t, phl) as f64;
            let ratio = x as f64 / peak.max(org.mail_read_peak_q as f64).max(50.0);
            m.put("mail_read_1h", x)
                .base(peak.round())
                .text_if(ratio >= 5.0, || {
                    format!(
                        "{x} mail items read within the hour, about {}x the usual peak",
                        fmt_num(ratio.round())
                    )
                });
            m.put("mail_read_ratio_1h", (ratio * 100.0).round() / 100.0)
                .base(1.0);
        }
        EventKind::FileActivity(_) => {
            let x = a.downloads.sum(t) + f.downloads;
            let peak = a.peak_downloads.value(t, phl) as f64;
            // The hour both ratios are judged against: the account's usual peak, or the
            // organisation's, and never fewer than 20 files.
            let usual = peak.max(org.downloads_peak_q as f64).max(20.0);
            let ratio = x as f64 / usual;
            m.put("downloads_1h", x).base(peak.round()).text_if(
                ratio >= 5.0 && f.downloads > 0,
                || {
                    format!(
                        "{x} files downloaded within the hour, about {}x the usual peak",
                        fmt_num(ratio.round())
                    )
                },
            );
            m.put("downloads_ratio_1h", (ratio * 100.0).round() / 100.0)
                .base(1.0);
            // A burst is judged by its pace, so that it is caught minutes in rather than once
            // an hour's worth has piled up.
            let x10 = a.downloads_10m.sum(t) + f.downloads;
            let pace = 6.0 * x10 as f64 / usual;
            m.put("downloads_10m", x10).text_if(
                pace >= 5.0 && ratio < 5.0 && f.downloads > 0,
                || {
                    format!(
                        "{x10} files downloaded within 10 minutes, a pace of about {}x the usual peak hour",
                        fmt_num(pace.round())
                    )
                },
            );
            m.put("downloads_pace_ratio", (pace * 100.0).round() / 100.0)
                .base(1.0);
        }
        EventKind::AccountSecurity(s) => {
            let reg = matches!(
                s.change,
                SecurityChange::SecurityInfoRegistered
                    | SecurityChange::StrongAuthenticationChanged
            );
            m.put("security_info_registered", reg)
                .text_if(reg, || "a new MFA method was registered".to_string());
            m.put(
                "mfa_weakened",
                matches!(
                    s.change,
                    SecurityChange::StrongAuthenticationDisabled
                        | SecurityChange::SecurityInfoDeleted
                ),
            );
            m.put(
                "password_changed",
                matches!(
                    s.change,
                    SecurityChange::PasswordReset | SecurityChange::PasswordChanged
                ),
            );
        }
        EventKind::RoleMembership(r) => {
            m.put("role_added", r.added);
            if let Some(role) = &r.role {
                m.put("role", &**role);
            }
        }
        _ => {}
    }

    // ---- applications -------------------------------------------------------------------------
    if let Some(app) = &f.app {
        let k = h64(app);
        let ak = org.app.accounts(k).min(n);
        let label = f.app_name.clone().unwrap_or_else(|| app.clone());
        m.put("app_org_accounts", ak).base(n);
        // Microsoft's own apps and resources (Graph, Exchange, ...) are rare in a tenant only
        // because few people grant them explicitly; they are not an unknown app.
        let first_party = crate::util::is_first_party_app(app)
            || f.app_name
                .as_deref()
                .is_some_and(crate::util::is_first_party_app);
        let rare = ak <= 2 && !first_party;
        m.put("app_rare_in_org", rare).text_if(
            rare && matches!(ev.kind, EventKind::AppConsent(_)),
            || match ak {
                0 => format!("no other account uses {label}"),
                k => format!("only {k} of {n} accounts use {label}"),
            },
        );
        m.put("app_first_for_account", a.app.get(k).is_none());
        if let Some(acct_name) = &f.account {
            if let Some(c) = org.consents.get(&consent_key(acct_name, app)) {
                let hours = t.saturating_sub(c.at) as f64 / 60.0;
                let recent = !matches!(ev.kind, EventKind::AppConsent(_)) && hours <= 24.0 * 7.0;
                m.put("app_recently_consented", recent).text_if(recent, || {
                    format!(
                        "by {label}, consented to {} hours earlier",
                        fmt_num(hours.round())
                    )
                });
                m.put("app_consent_hours", hours.round());
            }
        }
    }
    m
}

fn rule_metrics(
    m: &mut Metrics,
    r: &InboxRule,
    a: &AccountState,
    state: &State,
    cfg: &StateConfig,
) {
    let live = matches!(
        r.change,
        RuleChange::New | RuleChange::Set | RuleChange::Update | RuleChange::Enable
    );
    m.put("rule_new", live);
    let name = r.rule_name.as_deref().unwrap_or("");
    m.put("rule_name", name);
    let punct = live && punctuation_only(name);
    m.put("rule_name_punctuation_only", punct)
        .text_if(punct, || {
            format!("inbox rule named \"{name}\", punctuation only")
        });
    let folder = r.move_to_folder.as_deref().unwrap_or("");
    let folder_l = folder.trim().trim_start_matches('\\').to_ascii_lowercase();
    let hiding = live
        && HIDING_FOLDERS
            .iter()
            .any(|h| folder_l == *h || folder_l.ends_with(&format!("\\{h}")));
    m.put("rule_moves_to_hiding_folder", hiding)
        .text_if(hiding, || format!("moves mail to {folder}"));
    m.put("rule_deletes", live && r.deletes);
    m.put("rule_marks_read", live && r.marks_as_read);
    let hides = hiding || (live && r.deletes) || (live && r.marks_as_read && !folder.is_empty());
    m.put("rule_hides_mail", hides)
        .text_if(hides && !hiding, || {
            if r.deletes {
                "the rule deletes mail".to_string()
            } else {
                "the rule marks mail as read and moves it away".to_string()
            }
        });
    let words: Vec<&str> = r.conditions.iter().map(|c| &*c.value).collect();
    let sec = live
        && words.iter().any(|w| {
            let w = w.to_ascii_lowercase();
            SECURITY_WORDS.iter().any(|k| w.contains(k))
        });
    m.put("rule_security_keywords", sec).text_if(sec, || {
        format!(
            "it matches security words ({})",
            words.join(", ").chars().take(80).collect::<String>()
        )
    });
    let ext: Vec<&str> = r
        .forward_to
        .iter()
        .map(|x| &*x.address)
        .filter(|x| !state.org.is_internal_address(x, cfg))
        .collect();
    let fx = live && !ext.is_empty();
    m.put("rule_forwards_external", fx).text_if(fx, || {
        format!("the rule forwards mail to external {}", ext.join(", "))
    });
    m.put("forwards_external", fx);
    if let Some(x) = ext.first() {
        m.put("forward_target", *x);
    }
    m.put("rules_created_before", a.rules_created);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_has_unique_names() {
        let mut names: Vec<_> = METRICS.iter().map(|m| m.name).collect();
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }

    #[test]
    fn tradecraft_knowledge() {
        assert!(punctuation_only("."));
        assert!(punctuation_only(",,, "));
        assert!(punctuation_only(""));
        assert!(!punctuation_only("Newsletters"));
        assert!(is_sensitive_scope("Mail.ReadWrite"));
        assert!(is_sensitive_scope("offline_access"));
        assert!(is_sensitive_scope("Files.Read.All"));
        assert!(!is_sensitive_scope("User.Read"));
    }
}
