//! Pattern of life: what is normal, per account and for the whole organisation.
//!
//! Everything here is driven by event time and decays with it. Per-account state is a fixed set
//! of small, capped tables (values are kept as 64-bit hashes; the event being scored supplies the
//! readable value), so an account costs a bounded number of bytes whatever it does. Organisation
//! tables are capped too and pruned by decayed weight. All decisions that walk a map sort first,
//! so a state restored from a snapshot behaves exactly like the one that was saved.

use std::net::IpAddr;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use vigil_event::{CountryCode, Event, EventKind, FileOperation, UaClass};

use crate::util::{decay, h64, ip_key, minute, prefix, Min, DAY, HOUR};

/// Tunables of the pattern of life. Part of [`crate::EngineConfig`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateConfig {
    /// Half-life of categorical frequencies (IP, network, country, client, app), in days.
    pub half_life_days: f32,
    /// Half-life of volume peaks (the "usual busiest window"), in days.
    pub peak_half_life_days: f32,
    /// An account is learning until it has this many days of history ...
    pub account_learning_days: u32,
    /// ... and this many successful sign-ins.
    pub account_learning_signins: u32,
    /// The organisation is learning for its first days of event time.
    pub org_learning_days: u32,
    /// Most accounts kept; the least recently active are evicted beyond it.
    pub max_accounts: usize,
    /// Cap on organisation-wide distinct values per dimension (IPs, networks, ...).
    pub max_org_values: usize,
    /// Cap on source IPs tracked for failed logons.
    pub max_failure_ips: usize,
    /// The organisation's own mail domains; learned from account names when empty.
    pub org_domains: Vec<String>,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            half_life_days: 30.0,
            peak_half_life_days: 21.0,
            account_learning_days: 7,
            account_learning_signins: 10,
            org_learning_days: 7,
            max_accounts: 2_000_000,
            max_org_values: 1 << 18,
            max_failure_ips: 1 << 16,
            org_domains: Vec::new(),
        }
    }
}

impl StateConfig {
    pub(crate) fn hl(&self) -> f32 {
        self.half_life_days * DAY as f32
    }
    pub(crate) fn peak_hl(&self) -> f32 {
        self.peak_half_life_days * DAY as f32
    }
}

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

/// One categorical value seen by an account.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub key: u64,
    /// Decayed weight as of `last`.
    pub w: f32,
    pub first: Min,
    pub last: Min,
    pub n: u32,
}

/// A small, capped, decayed frequency table of hashed values.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FreqTable {
    pub entries: Vec<Entry>,
    /// Decayed total weight of everything ever observed (evicted values included), as of `at`.
    pub total: f32,
    pub at: Min,
}

impl FreqTable {
    pub fn get(&self, key: u64) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    pub fn weight(&self, key: u64, now: Min, hl: f32) -> f32 {
        self.get(key).map_or(0.0, |e| decay(e.w, e.last, now, hl))
    }

    pub fn total(&self, now: Min, hl: f32) -> f32 {
        decay(self.total, self.at, now, hl)
    }

    /// Records one observation; returns whether the value was new to the table.
    pub fn observe(&mut self, key: u64, now: Min, hl: f32, cap: usize) -> bool {
        self.total = decay(self.total, self.at, now, hl) + 1.0;
        self.at = self.at.max(now);
        if let Some(e) = self.entries.iter_mut().find(|e| e.key == key) {
            e.w = decay(e.w, e.last, now, hl) + 1.0;
            e.last = e.last.max(now);
            e.first = e.first.min(now);
            e.n = e.n.saturating_add(1);
            return false;
        }
        if self.entries.len() >= cap {
            // Evict the weakest value now (ties: least recent, then smallest key).
            if let Some((i, _)) = self.entries.iter().enumerate().min_by(|(_, a), (_, b)| {
                decay(a.w, a.last, now, hl)
                    .total_cmp(&decay(b.w, b.last, now, hl))
                    .then(a.last.cmp(&b.last))
                    .then(a.key.cmp(&b.key))
            }) {
                self.entries.swap_remove(i);
            }
        }
        self.entries.push(Entry {
            key,
            w: 1.0,
            first: now,
            last: now,
            n: 1,
        });
        true
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Event counts in a sliding window made of `n` buckets of `width` minutes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub b: [u32; 6],
    /// Index (minute / width) of the newest bucket.
    pub head: u32,
    pub width: u8,
    pub n: u8,
}

impl Window {
    const fn of(width: u8, n: u8) -> Window {
        Window {
            b: [0; 6],
            head: 0,
            width,
            n,
        }
    }
    /// 15 minutes in 3-minute buckets.
    pub const fn m15() -> Window {
        Window::of(3, 5)
    }
    /// Ten minutes in 2-minute buckets: the pace of a burst, before an hour has passed.
    pub const fn m10() -> Window {
        Window::of(2, 5)
    }
    /// One hour in 10-minute buckets.
    pub const fn h1() -> Window {
        Window::of(10, 6)
    }

    pub fn span(&self) -> Min {
        self.width as Min * self.n as Min
    }

    pub fn add(&mut self, now: Min, v: u32) {
        let n = self.n as u32;
        let idx = now / self.width as u32;
        if idx > self.head {
            if idx - self.head >= n {
                self.b = [0; 6];
            } else {
                for i in self.head + 1..=idx {
                    self.b[(i % n) as usize] = 0;
                }
            }
            self.head = idx;
        } else if self.head - idx >= n {
            return; // older than the window: nothing to count it in
        }
        let slot = &mut self.b[(idx % n) as usize];
        *slot = slot.saturating_add(v);
    }

    /// Count over the window ending at `now`.
    pub fn sum(&self, now: Min) -> u32 {
        let n = self.n as u32;
        let idx = now / self.width as u32;
        let mut s = 0u32;
        for k in 0..n {
            let Some(j) = self.head.checked_sub(k) else {
                break;
            };
            if j <= idx && j + n > idx {
                s = s.saturating_add(self.b[(j % n) as usize]);
            }
        }
        s
    }
}

/// A decayed maximum: "the busiest window this account usually has". Observations are grouped
/// in epochs as long as the window; an epoch counts toward the baseline only once it is over, so
/// a burst is never judged against itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Peak {
    pub v: f32,
    pub at: Min,
    /// Largest value in the current epoch, and when it started.
    pub cur: f32,
    pub epoch: Min,
}

impl Peak {
    /// The baseline: the decayed peak of past epochs.
    pub fn value(&self, now: Min, hl: f32) -> f32 {
        decay(self.v, self.at, now, hl)
    }
    /// Records `x`; returns the largest value of the epoch this closes, if it closes one.
    pub fn update(&mut self, x: f32, now: Min, hl: f32, span: Min) -> Option<f32> {
        let mut closed = None;
        if now >= self.epoch.saturating_add(span) || self.epoch == 0 {
            closed = (self.cur > 0.0).then_some(self.cur);
            let past = self.value(self.epoch.max(self.at), hl);
            let committed = past.max(self.cur);
            if committed > 0.0 {
                self.v = committed;
                self.at = self.epoch.max(self.at);
            }
            self.cur = 0.0;
            self.epoch = now;
        }
        self.cur = self.cur.max(x);
        closed
    }
}

/// 168 decayed hour-of-week bins (UTC), stored as f32.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HourProfile {
    pub bins: Vec<f32>,
    pub at: Min,
}

impl Default for HourProfile {
    fn default() -> Self {
        HourProfile {
            bins: vec![0.0; 168],
            at: 0,
        }
    }
}

/// Hour of week (0 = Monday 00:00 UTC) of a minute timestamp.
pub fn hour_of_week(t: Min) -> usize {
    // 1970-01-01 was a Thursday: day index 3 when Monday is 0.
    let hours = t / 60;
    let day = (hours / 24 + 3) % 7;
    (day * 24 + hours % 24) as usize
}

impl HourProfile {
    pub fn observe(&mut self, t: Min, hl: f32) {
        if t > self.at {
            let f = decay(1.0, self.at, t, hl);
            for b in &mut self.bins {
                *b *= f;
            }
            self.at = t;
        }
        let h = hour_of_week(t);
        self.bins[h] += 1.0;
    }

    pub fn total(&self) -> f32 {
        self.bins.iter().sum()
    }

    /// Weight of the hour around `t` (the hour itself and half of each neighbour), at `self.at`.
    pub fn around(&self, t: Min) -> f32 {
        let h = hour_of_week(t);
        self.bins[h] + 0.5 * (self.bins[(h + 1) % 168] + self.bins[(h + 167) % 168])
    }

    pub fn max_around(&self) -> f32 {
        (0..168)
            .map(|h| self.bins[h] + 0.5 * (self.bins[(h + 1) % 168] + self.bins[(h + 167) % 168]))
            .fold(0.0, f32::max)
    }
}

// ---------------------------------------------------------------------------------------------
// Features: what one event says about pattern of life, extracted once.
// ---------------------------------------------------------------------------------------------

/// What kind of sign-in an event is.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SignInFeatures {
    pub success: bool,
    pub mfa_denied: bool,
    pub bad_password: bool,
    pub legacy: bool,
    pub single_factor: bool,
    pub interactive: bool,
}

/// The parts of an event the pattern of life and the metrics use.
#[derive(Clone, Debug, Default)]
pub struct Features {
    pub t: Min,
    /// The account the event is about (lower case UPN); for message trace, the internal sender.
    pub account: Option<String>,
    pub ip: Option<IpAddr>,
    pub ip_internal: bool,
    pub prefix: Option<String>,
    pub asn: Option<u32>,
    pub as_org: Option<String>,
    pub country: Option<CountryCode>,
    pub ua_family: Option<String>,
    pub ua_class: Option<UaClass>,
    pub client_app: Option<String>,
    /// OAuth application involved (id, or name when no id), lower case.
    pub app: Option<String>,
    pub app_name: Option<String>,
    pub signin: Option<SignInFeatures>,
    /// Internet message id of a message this account sent.
    pub message_id: Option<String>,
    pub subject: Option<String>,
    /// Message trace recipient and whether it is outside the organisation.
    pub recipient: Option<String>,
    pub mail_read_items: u32,
    pub downloads: u32,
}

pub fn is_legacy_client_app(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    [
        "imap",
        "pop",
        "smtp",
        "activesync",
        "other clients",
        "exchange web services",
        "mapi",
        "autodiscover",
        "powershell",
    ]
    .iter()
    .any(|k| s.contains(k))
}

impl Features {
    pub fn of(ev: &Event) -> Features {
        let t = minute(&ev.time);
        let en = &ev.enrichment;
        let mut f = Features {
            t,
            account: ev.user.as_deref().map(|u| u.to_ascii_lowercase()),
            ip: ev.ip,
            ip_internal: en.ip_internal,
            prefix: ev.ip.as_ref().map(prefix),
            asn: en.asn,
            as_org: en.as_org.as_deref().map(str::to_string),
            country: en.country,
            ua_family: en.ua_family.as_deref().map(str::to_string),
            ua_class: en.ua_class,
            ..Features::default()
        };
        match &ev.kind {
            EventKind::SignIn(s) => {
                let details = s
                    .additional_details
                    .as_deref()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let reason = s
                    .failure_reason
                    .as_deref()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let code = s.error_code.unwrap_or(0);
                let legacy = en.ua_class == Some(UaClass::LegacyAuth)
                    || s.client_app.as_deref().is_some_and(is_legacy_client_app)
                    || s.auth_protocol
                        .as_deref()
                        .is_some_and(|p| p.eq_ignore_ascii_case("ropc"));
                f.signin = Some(SignInFeatures {
                    success: s.succeeded,
                    mfa_denied: !s.succeeded
                        && (code == 500121
                            || details.contains("mfa denied")
                            || reason.contains("strong authentication")),
                    bad_password: !s.succeeded
                        && (code == 50126 || code == 50053 || reason.contains("password")),
                    legacy,
                    single_factor: s
                        .auth_requirement
                        .as_deref()
                        .is_some_and(|a| a.to_ascii_lowercase().contains("single")),
                    interactive: s.interactive.unwrap_or(true),
                });
                f.client_app = s.client_app.as_deref().map(str::to_string);
                f.app = s
                    .app_id
                    .as_deref()
                    .or(s.app_name.as_deref())
                    .map(|a| a.to_ascii_lowercase());
                f.app_name = s.app_name.as_deref().map(str::to_string);
            }
            EventKind::AppConsent(c) => {
                f.app = c
                    .app_id
                    .as_deref()
                    .or(c.app_name.as_deref())
                    .map(|a| a.to_ascii_lowercase());
                f.app_name = c.app_name.as_deref().map(str::to_string);
            }
            EventKind::ServicePrincipal(c) => {
                f.app = c
                    .app_id
                    .as_deref()
                    .or(c.app_name.as_deref())
                    .map(|a| a.to_ascii_lowercase());
                f.app_name = c.app_name.as_deref().map(str::to_string);
            }
            EventKind::MailSend(m) => {
                f.message_id = m.internet_message_id.as_deref().map(str::to_string);
                f.subject = m.subject.as_deref().map(str::to_string);
                if let Some(a) = &m.client_app_id {
                    f.app = Some(a.to_ascii_lowercase());
                }
            }
            EventKind::MailItemsAccessed(m) => {
                f.mail_read_items = m.operation_count.max(m.item_count).clamp(1, 1 << 20) as u32;
                f.app = m.app_id.as_deref().map(|a| a.to_ascii_lowercase());
            }
            EventKind::FileActivity(fa) => {
                if matches!(
                    fa.operation,
                    FileOperation::Downloaded | FileOperation::SyncDownloadedFull
                ) {
                    f.downloads = 1;
                }
            }
            EventKind::MessageTrace(m) => {
                f.account = m
                    .sender
                    .as_ref()
                    .map(|s| s.address.to_string())
                    .or(f.account);
                f.message_id = m.message_id.as_deref().map(str::to_string);
                f.subject = m.subject.as_deref().map(str::to_string);
                f.recipient = m.recipient.as_ref().map(|r| r.address.to_string());
                // The trace's from_ip is the sending server or client; not a sign-in location.
                f.ip = None;
                f.prefix = None;
            }
            _ => {}
        }
        f
    }
}

// ---------------------------------------------------------------------------------------------
// Per account
// ---------------------------------------------------------------------------------------------

/// Caps of the per-account tables.
pub const CAP_IP: usize = 12;
pub const CAP_PREFIX: usize = 8;
pub const CAP_ASN: usize = 6;
pub const CAP_COUNTRY: usize = 6;
pub const CAP_UA_FAMILY: usize = 6;
pub const CAP_UA_CLASS: usize = 4;
pub const CAP_CLIENT_APP: usize = 4;
pub const CAP_APP: usize = 8;
pub const CAP_RECENT_MSGS: usize = 8;

/// Where and when the account last signed in successfully.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LastLogin {
    pub at: Min,
    pub country: CountryCode,
    pub ip: u64,
    pub asn: u32,
}

/// Pattern of life of one account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountState {
    pub first: Min,
    pub last: Min,
    pub signins: u32,
    pub failures: u32,
    pub ip: FreqTable,
    pub prefix: FreqTable,
    pub asn: FreqTable,
    pub country: FreqTable,
    pub ua_family: FreqTable,
    pub ua_class: FreqTable,
    pub client_app: FreqTable,
    pub app: FreqTable,
    pub hours: HourProfile,
    pub last_login: Option<LastLogin>,
    /// Distinct messages sent (Send audit or message trace, deduplicated by message id).
    pub sends: Window,
    pub recipients: Window,
    pub ext_recipients: Window,
    pub mail_read: Window,
    pub downloads: Window,
    #[serde(default = "Window::m10")]
    pub downloads_10m: Window,
    pub failed: Window,
    pub mfa_denied: Window,
    /// Same-subject burst: subject hash, messages with it, minute of the first.
    pub subject: (u64, u32, Min),
    pub recent_msgs: Vec<u64>,
    pub peak_sends: Peak,
    pub peak_recipients: Peak,
    pub peak_ext: Peak,
    pub peak_subject: Peak,
    pub peak_mail_read: Peak,
    pub peak_downloads: Peak,
    pub peak_failed: Peak,
    pub rules_created: u32,
    pub consents: u32,
    pub app_admin: u32,
    pub security_changes: u32,
}

impl AccountState {
    pub fn new(t: Min) -> AccountState {
        AccountState {
            first: t,
            last: t,
            signins: 0,
            failures: 0,
            ip: FreqTable::default(),
            prefix: FreqTable::default(),
            asn: FreqTable::default(),
            country: FreqTable::default(),
            ua_family: FreqTable::default(),
            ua_class: FreqTable::default(),
            client_app: FreqTable::default(),
            app: FreqTable::default(),
            hours: HourProfile::default(),
            last_login: None,
            sends: Window::m15(),
            recipients: Window::m15(),
            ext_recipients: Window::m15(),
            mail_read: Window::h1(),
            downloads: Window::h1(),
            downloads_10m: Window::m10(),
            failed: Window::h1(),
            mfa_denied: Window::h1(),
            subject: (0, 0, 0),
            recent_msgs: Vec::new(),
            peak_sends: Peak::default(),
            peak_recipients: Peak::default(),
            peak_ext: Peak::default(),
            peak_subject: Peak::default(),
            peak_mail_read: Peak::default(),
            peak_downloads: Peak::default(),
            peak_failed: Peak::default(),
            rules_created: 0,
            consents: 0,
            app_admin: 0,
            security_changes: 0,
        }
    }

    /// Approximate bytes this account holds in memory (struct plus heap).
    pub fn size_estimate(&self) -> usize {
        let tables = [
            &self.ip,
            &self.prefix,
            &self.asn,
            &self.country,
            &self.ua_family,
            &self.ua_class,
            &self.client_app,
            &self.app,
        ];
        std::mem::size_of::<AccountState>()
            + tables
                .iter()
                .map(|t| t.entries.capacity() * std::mem::size_of::<Entry>())
                .sum::<usize>()
            + self.hours.bins.capacity() * 4
            + self.recent_msgs.capacity() * 8
    }

    /// Whether this account's own history is still too short to judge it by.
    pub fn learning(&self, now: Min, cfg: &StateConfig) -> bool {
        now.saturating_sub(self.first) < cfg.account_learning_days * DAY
            || self.signins < cfg.account_learning_signins
    }

    /// Same-subject messages in the current burst (15 minutes from its first message).
    pub fn subject_burst(&self, subject: u64, now: Min) -> u32 {
        if self.subject.0 == subject && now.saturating_sub(self.subject.2) <= 15 {
            self.subject.1
        } else {
            0
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Organisation-wide
// ---------------------------------------------------------------------------------------------

/// One value across the organisation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrgValue {
    /// Accounts that have used it (an account that forgot it and meets it again counts twice;
    /// capped at the number of accounts when read).
    pub accounts: u32,
    pub w: f32,
    pub first: Min,
    pub last: Min,
}

/// Organisation-wide values of one dimension.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OrgTable {
    pub map: FxHashMap<u64, OrgValue>,
}

impl OrgTable {
    pub fn get(&self, key: u64) -> Option<&OrgValue> {
        self.map.get(&key)
    }

    pub fn accounts(&self, key: u64) -> u32 {
        self.map.get(&key).map_or(0, |v| v.accounts)
    }

    pub fn observe(&mut self, key: u64, new_for_account: bool, now: Min, hl: f32, cap: usize) {
        let v = self.map.entry(key).or_insert(OrgValue {
            accounts: 0,
            w: 0.0,
            first: now,
            last: now,
        });
        v.w = decay(v.w, v.last, now, hl) + 1.0;
        v.last = v.last.max(now);
        v.first = v.first.min(now);
        if new_for_account {
            v.accounts = v.accounts.saturating_add(1);
        }
        if self.map.len() > cap {
            self.prune(now, hl, cap * 3 / 4);
        }
    }

    /// Keeps the `keep` values with the highest decayed weight (ties: most recent, then key).
    fn prune(&mut self, now: Min, hl: f32, keep: usize) {
        let mut all: Vec<(u64, OrgValue)> = self.map.iter().map(|(k, v)| (*k, *v)).collect();
        all.sort_by(|(ka, a), (kb, b)| {
            decay(b.w, b.last, now, hl)
                .total_cmp(&decay(a.w, a.last, now, hl))
                .then(b.last.cmp(&a.last))
                .then(ka.cmp(kb))
        });
        all.truncate(keep);
        self.map = all.into_iter().collect();
    }
}

/// Failed logons from one source address.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IpFailures {
    pub failed: Window,
    /// Accounts that failed from here, with the minute of their last failure (at most 64).
    pub accounts: Vec<(u64, Min)>,
    pub last: Min,
}

impl IpFailures {
    pub fn distinct_accounts(&self, now: Min, span: Min) -> u32 {
        self.accounts
            .iter()
            .filter(|(_, t)| now.saturating_sub(*t) <= span)
            .count() as u32
    }
}

/// A recent consent to an application.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsentRecord {
    pub at: Min,
    pub mail_scopes: bool,
    pub rare: bool,
}

/// The organisation's pattern of life.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrgState {
    pub first: Option<Min>,
    pub last: Min,
    pub ip: OrgTable,
    pub prefix: OrgTable,
    pub asn: OrgTable,
    pub country: OrgTable,
    pub ua_family: OrgTable,
    pub client_app: OrgTable,
    pub app: OrgTable,
    pub hours: HourProfile,
    pub ip_failures: FxHashMap<u64, IpFailures>,
    /// Recent consents per (account hash ^ app hash): when, and what they allowed.
    pub consents: FxHashMap<u64, ConsentRecord>,
    /// Mail domains of the organisation with how many accounts use them.
    pub domains: Vec<(String, u32)>,
    /// Typical busiest-15-minute send count across accounts (a running quantile).
    pub send_peak_q: f32,
    pub mail_read_peak_q: f32,
    pub downloads_peak_q: f32,
}

impl Default for OrgState {
    fn default() -> Self {
        OrgState {
            first: None,
            last: 0,
            ip: OrgTable::default(),
            prefix: OrgTable::default(),
            asn: OrgTable::default(),
            country: OrgTable::default(),
            ua_family: OrgTable::default(),
            client_app: OrgTable::default(),
            app: OrgTable::default(),
            hours: HourProfile::default(),
            ip_failures: FxHashMap::default(),
            consents: FxHashMap::default(),
            domains: Vec::new(),
            send_peak_q: 0.0,
            mail_read_peak_q: 0.0,
            downloads_peak_q: 0.0,
        }
    }
}

/// Moves a running estimate of the 90th percentile towards `x`.
fn quantile_step(q: &mut f32, x: f32) {
    let step = (q.abs() * 0.02).max(0.05);
    if x > *q {
        *q += step * 0.9;
    } else if x < *q {
        *q -= step * 0.1;
    }
    *q = q.max(0.0);
}

impl OrgState {
    pub fn learning(&self, now: Min, cfg: &StateConfig) -> bool {
        match self.first {
            None => true,
            Some(f) => now.saturating_sub(f) < cfg.org_learning_days * DAY,
        }
    }

    /// Whether an address (or its domain) belongs to the organisation.
    pub fn is_internal_address(&self, address: &str, cfg: &StateConfig) -> bool {
        let host = address.rsplit('@').next().unwrap_or("");
        let matches = |d: &str| host == d || host.ends_with(&format!(".{d}"));
        if !cfg.org_domains.is_empty() {
            return cfg
                .org_domains
                .iter()
                .any(|d| matches(&d.to_ascii_lowercase()));
        }
        self.domains.iter().any(|(d, n)| *n >= 1 && matches(d))
    }
}

// ---------------------------------------------------------------------------------------------
// The whole state
// ---------------------------------------------------------------------------------------------

/// Pattern of life of every account and of the organisation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub accounts: FxHashMap<String, AccountState>,
    pub org: OrgState,
}

pub fn consent_key(account: &str, app: &str) -> u64 {
    h64(account) ^ h64(app).rotate_left(17)
}

impl State {
    pub fn account(&self, name: &str) -> Option<&AccountState> {
        self.accounts.get(name)
    }

    /// Number of accounts known (the N of "k of N accounts").
    pub fn n_accounts(&self) -> u32 {
        self.accounts.len() as u32
    }

    /// Approximate bytes the per-account pattern of life holds in memory: each account's state
    /// and name plus the map's own slot. The organisation's tables are bounded separately
    /// (`max_org_values`) and not counted here.
    pub fn accounts_size_estimate(&self) -> usize {
        // A hashbrown slot holds the key (String: 24 bytes) and the value, plus a control
        // byte; the value's inline size is already in `size_estimate`.
        let slot_overhead = std::mem::size_of::<String>() + 1;
        self.accounts
            .iter()
            .map(|(k, v)| k.capacity() + v.size_estimate() + slot_overhead)
            .sum::<usize>()
            + (self.accounts.capacity() - self.accounts.len())
                * (std::mem::size_of::<(String, AccountState)>() + 1)
    }

    /// Learns from one event. Call after its metrics were computed.
    pub fn learn(&mut self, ev: &Event, f: &Features, cfg: &StateConfig) {
        let t = f.t;
        let hl = cfg.hl();
        let phl = cfg.peak_hl();
        let cap = cfg.max_org_values;
        let org = &mut self.org;
        if org.first.is_none_or(|x| t < x) {
            org.first = Some(t);
        }
        org.last = org.last.max(t);

        // Failed logons per source IP.
        if let (Some(si), Some(ip)) = (f.signin, f.ip) {
            if !si.success {
                let key = ip_key(&ip);
                let e = org.ip_failures.entry(key).or_insert(IpFailures {
                    failed: Window::h1(),
                    accounts: Vec::new(),
                    last: t,
                });
                e.failed.add(t, 1);
                e.last = e.last.max(t);
                if let Some(a) = &f.account {
                    let ah = h64(a);
                    if let Some(x) = e.accounts.iter_mut().find(|(k, _)| *k == ah) {
                        x.1 = x.1.max(t);
                    } else {
                        if e.accounts.len() >= 64 {
                            // forget the oldest
                            if let Some((i, _)) = e
                                .accounts
                                .iter()
                                .enumerate()
                                .min_by_key(|(_, (k, at))| (*at, *k))
                            {
                                e.accounts.swap_remove(i);
                            }
                        }
                        e.accounts.push((ah, t));
                    }
                }
                if org.ip_failures.len() > cfg.max_failure_ips {
                    let mut all: Vec<(u64, Min)> =
                        org.ip_failures.iter().map(|(k, v)| (*k, v.last)).collect();
                    all.sort_by_key(|(k, last)| (std::cmp::Reverse(*last), *k));
                    let keep: rustc_hash::FxHashSet<u64> = all
                        .into_iter()
                        .take(cfg.max_failure_ips * 3 / 4)
                        .map(|(k, _)| k)
                        .collect();
                    org.ip_failures.retain(|k, _| keep.contains(k));
                }
            }
        }

        let Some(name) = f.account.clone() else {
            return;
        };
        // Message trace rows name external senders too: only internal senders have a pattern.
        if matches!(ev.kind, EventKind::MessageTrace(_))
            && !self.accounts.contains_key(&name)
            && !self.org.is_internal_address(&name, cfg)
        {
            return;
        }
        if !self.accounts.contains_key(&name) && self.accounts.len() >= cfg.max_accounts {
            self.evict_accounts(cfg.max_accounts.saturating_sub(1) * 15 / 16);
        }
        let org = &mut self.org;
        let acct = self
            .accounts
            .entry(name.clone())
            .or_insert_with(|| AccountState::new(t));
        acct.first = acct.first.min(t);
        acct.last = acct.last.max(t);

        match &ev.kind {
            EventKind::SignIn(_) => {
                let si = f.signin.unwrap_or_default();
                if si.success {
                    acct.signins = acct.signins.saturating_add(1);
                    if acct.signins == 1 {
                        if let Some(d) = name.rsplit_once('@').map(|(_, d)| d.to_string()) {
                            if let Some(x) = org.domains.iter_mut().find(|(x, _)| *x == d) {
                                x.1 += 1;
                            } else if org.domains.len() < 32 {
                                org.domains.push((d, 1));
                            }
                        }
                    }
                    if let Some(ip) = f.ip {
                        let k = ip_key(&ip);
                        let new = acct.ip.observe(k, t, hl, CAP_IP);
                        org.ip.observe(k, new, t, hl, cap);
                    }
                    if let Some(p) = &f.prefix {
                        let k = h64(p);
                        let new = acct.prefix.observe(k, t, hl, CAP_PREFIX);
                        org.prefix.observe(k, new, t, hl, cap);
                    }
                    if let Some(a) = f.asn {
                        let k = a as u64;
                        let new = acct.asn.observe(k, t, hl, CAP_ASN);
                        org.asn.observe(k, new, t, hl, cap);
                    }
                    if let Some(c) = f.country {
                        let k = h64(c.as_str());
                        let new = acct.country.observe(k, t, hl, CAP_COUNTRY);
                        org.country.observe(k, new, t, hl, cap);
                        acct.last_login = Some(LastLogin {
                            at: t,
                            country: c,
                            ip: f.ip.map(|i| ip_key(&i)).unwrap_or(0),
                            asn: f.asn.unwrap_or(0),
                        });
                    }
                    if let Some(u) = &f.ua_family {
                        let k = h64(&u.to_ascii_lowercase());
                        let new = acct.ua_family.observe(k, t, hl, CAP_UA_FAMILY);
                        org.ua_family.observe(k, new, t, hl, cap);
                    }
                    if let Some(c) = f.ua_class {
                        acct.ua_class.observe(c as u64, t, hl, CAP_UA_CLASS);
                    }
                    if let Some(c) = &f.client_app {
                        let k = h64(&c.to_ascii_lowercase());
                        let new = acct.client_app.observe(k, t, hl, CAP_CLIENT_APP);
                        org.client_app.observe(k, new, t, hl, cap);
                    }
                    acct.hours.observe(t, hl);
                    org.hours.observe(t, hl);
                } else {
                    acct.failures = acct.failures.saturating_add(1);
                    acct.failed.add(t, 1);
                    if si.mfa_denied {
                        acct.mfa_denied.add(t, 1);
                    }
                    let x = acct.failed.sum(t) as f32;
                    acct.peak_failed.update(x, t, phl, 60);
                }
            }
            EventKind::MailSend(_) | EventKind::MessageTrace(_) => {
                let new_msg = match &f.message_id {
                    Some(m) => {
                        let k = h64(m);
                        if acct.recent_msgs.contains(&k) {
                            false
                        } else {
                            if acct.recent_msgs.len() >= CAP_RECENT_MSGS {
                                acct.recent_msgs.remove(0);
                            }
                            acct.recent_msgs.push(k);
                            true
                        }
                    }
                    None => matches!(ev.kind, EventKind::MailSend(_)),
                };
                if new_msg {
                    acct.sends.add(t, 1);
                    let s = h64(f.subject.as_deref().unwrap_or("").trim());
                    if acct.subject_burst(s, t) > 0 {
                        acct.subject.1 += 1;
                    } else {
                        acct.subject = (s, 1, t);
                    }
                    let x = acct.sends.sum(t) as f32;
                    acct.peak_sends.update(x, t, phl, 15);
                    acct.peak_subject.update(acct.subject.1 as f32, t, phl, 15);
                    quantile_step(&mut org.send_peak_q, x);
                }
                if let Some(r) = &f.recipient {
                    acct.recipients.add(t, 1);
                    acct.peak_recipients
                        .update(acct.recipients.sum(t) as f32, t, phl, 15);
                    if !org.is_internal_address(r, cfg) {
                        acct.ext_recipients.add(t, 1);
                        acct.peak_ext
                            .update(acct.ext_recipients.sum(t) as f32, t, phl, 15);
                    }
                }
                if matches!(ev.kind, EventKind::MailSend(_)) {
                    acct.hours.observe(t, hl);
                }
            }
            EventKind::MailItemsAccessed(_) => {
                acct.mail_read.add(t, f.mail_read_items);
                let x = acct.mail_read.sum(t) as f32;
                acct.peak_mail_read.update(x, t, phl, 60);
                quantile_step(&mut org.mail_read_peak_q, x);
            }
            EventKind::FileActivity(_) if f.downloads > 0 => {
                acct.downloads.add(t, f.downloads);
                acct.downloads_10m.add(t, f.downloads);
                let x = acct.downloads.sum(t) as f32;
                // The organisation's usual peak learns from each account-hour's peak once the
                // hour is over, not from every download: a burst of hundreds of downloads
                // would otherwise raise it step by step as it happens and hide itself.
                if let Some(peak) = acct.peak_downloads.update(x, t, phl, 60) {
                    quantile_step(&mut org.downloads_peak_q, peak);
                }
            }
            EventKind::InboxRule(_) => acct.rules_created = acct.rules_created.saturating_add(1),
            EventKind::AppConsent(_) => {
                acct.consents = acct.consents.saturating_add(1);
                acct.app_admin = acct.app_admin.saturating_add(1);
            }
            EventKind::ServicePrincipal(_) => acct.app_admin = acct.app_admin.saturating_add(1),
            EventKind::AccountSecurity(_) => {
                acct.security_changes = acct.security_changes.saturating_add(1)
            }
            _ => {}
        }

        // Applications: consented, signed into, or reading mail.
        if let Some(app) = &f.app {
            let k = h64(app);
            let new = acct.app.observe(k, t, hl, CAP_APP);
            org.app.observe(k, new, t, hl, cap);
            if let EventKind::AppConsent(c) = &ev.kind {
                let rare = org.app.accounts(k) <= 2;
                org.consents.insert(
                    consent_key(&name, app),
                    ConsentRecord {
                        at: t,
                        mail_scopes: c
                            .scopes
                            .iter()
                            .any(|s| crate::metrics::is_sensitive_scope(s)),
                        rare,
                    },
                );
                if org.consents.len() > 4096 {
                    let horizon = t.saturating_sub(30 * DAY);
                    org.consents.retain(|_, r| r.at >= horizon);
                }
            }
        }
        let _ = HOUR;
    }

    fn evict_accounts(&mut self, keep: usize) {
        let mut all: Vec<(&String, Min)> = self.accounts.iter().map(|(k, v)| (k, v.last)).collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let drop: Vec<String> = all.into_iter().skip(keep).map(|(k, _)| k.clone()).collect();
        for k in drop {
            self.accounts.remove(&k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_slides() {
        let mut w = Window::m15();
        w.add(1000, 1);
        w.add(1001, 2);
        w.add(1010, 4);
        assert_eq!(w.sum(1010), 7);
        assert_eq!(w.sum(1012), 7);
        // 1000 and 1001 fall out of the 15-minute window (3-minute buckets)
        assert_eq!(w.sum(1017), 4);
        assert_eq!(w.sum(1040), 0);
        // late event inside the window still counts
        w.add(1009, 1);
        assert_eq!(w.sum(1011), 8);
        w.add(2000, 1);
        assert_eq!(w.sum(2000), 1);
    }

    #[test]
    fn freq_table_caps_and_evicts_weakest() {
        let mut t = FreqTable::default();
        let hl = 30.0 * DAY as f32;
        for _ in 0..10 {
            t.observe(1, 100, hl, 3);
        }
        t.observe(2, 100, hl, 3);
        t.observe(3, 100, hl, 3);
        t.observe(2, 101, hl, 3);
        assert!(t.observe(4, 102, hl, 3));
        assert_eq!(t.len(), 3);
        assert!(t.get(1).is_some() && t.get(2).is_some() && t.get(4).is_some());
        assert!(t.get(3).is_none());
        assert!(!t.observe(1, 103, hl, 3));
        assert!((t.total(103, hl) - 15.0).abs() < 0.01);
    }

    #[test]
    fn hour_of_week_monday_zero() {
        // 2024-01-01 was a Monday.
        let t: vigil_event::Timestamp = "2024-01-01T05:30:00Z".parse().unwrap();
        assert_eq!(hour_of_week(minute(&t)), 5);
        let t: vigil_event::Timestamp = "2024-01-07T23:10:00Z".parse().unwrap();
        assert_eq!(hour_of_week(minute(&t)), 167);
    }

    #[test]
    fn peak_decays() {
        let mut p = Peak::default();
        let hl = 10.0 * DAY as f32;
        p.update(100.0, 1000, hl, 15);
        // the current epoch is not yet part of the baseline
        assert_eq!(p.value(1005, hl), 0.0);
        p.update(10.0, 1000 + 10 * DAY, hl, 15);
        assert!((p.value(1000 + 10 * DAY, hl) - 50.0).abs() < 0.1, "{p:?}");
        // a burst is not judged against itself
        for i in 0..500 {
            p.update(i as f32, 1000 + 10 * DAY + 20 + i / 100, hl, 15);
        }
        assert!(p.value(1000 + 10 * DAY + 25, hl) < 51.0);
    }
}
