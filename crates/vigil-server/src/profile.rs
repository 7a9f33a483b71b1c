//! An account's pattern of life as a person reads it: which countries, networks and clients it
//! uses, at which hours of the week, and what it did recently.
//!
//! The engine keeps its pattern of life as hashed, decayed frequencies (the right shape for
//! scoring, but it cannot name a country). The console needs the names, so the ingest task keeps
//! this small, bounded summary beside the engine, from the same events.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use vigil_engine::state::Features;
use vigil_event::{Event, EventKind, Timestamp};

/// Values kept per category; the least used is dropped beyond this.
const VALUES_PER_CATEGORY: usize = 12;
/// Recent events kept per account.
const RECENT_ACTIVITY: usize = 40;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValueCount {
    pub value: String,
    pub count: u64,
    pub last: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub time: Timestamp,
    pub kind: String,
    pub ip: Option<String>,
    pub country: Option<String>,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub account: String,
    pub first: Timestamp,
    pub last: Timestamp,
    pub events: u64,
    pub sign_ins: u64,
    pub failed_sign_ins: u64,
    pub countries: Vec<ValueCount>,
    /// "AS1234 Org name".
    pub networks: Vec<ValueCount>,
    /// Client application and user-agent family.
    pub clients: Vec<ValueCount>,
    pub ips: Vec<ValueCount>,
    /// Events per hour of the week, Monday 00:00 UTC first (168 bins).
    pub hours: Vec<u64>,
    pub recent: VecDeque<Activity>,
}

fn bump(values: &mut Vec<ValueCount>, value: String, time: Timestamp) {
    if let Some(v) = values.iter_mut().find(|v| v.value == value) {
        v.count += 1;
        v.last = v.last.max(time);
    } else {
        if values.len() >= VALUES_PER_CATEGORY {
            // Drop the least used (the oldest among equals) to keep the profile bounded.
            if let Some((i, _)) = values
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.count.cmp(&b.1.count).then(a.1.last.cmp(&b.1.last)))
            {
                values.remove(i);
            }
        }
        values.push(ValueCount {
            value,
            count: 1,
            last: time,
        });
    }
    values.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
}

/// Hour of the week of `t`, Monday 00:00 UTC = 0.
pub fn hour_of_week(t: Timestamp) -> usize {
    use chrono::{Datelike, Timelike};
    t.weekday().num_days_from_monday() as usize * 24 + t.hour() as usize
}

fn describe(ev: &Event) -> String {
    match &ev.kind {
        EventKind::SignIn(s) => {
            let outcome = if s.succeeded { "succeeded" } else { "failed" };
            match &s.client_app {
                Some(c) => format!("sign-in {outcome} ({c})"),
                None => format!("sign-in {outcome}"),
            }
        }
        _ if ev.operation.is_empty() => ev.kind.name().replace('_', " "),
        _ => ev.operation.to_string(),
    }
}

impl Profile {
    pub fn new(account: &str, t: Timestamp) -> Profile {
        Profile {
            account: account.to_string(),
            first: t,
            last: t,
            events: 0,
            sign_ins: 0,
            failed_sign_ins: 0,
            countries: Vec::new(),
            networks: Vec::new(),
            clients: Vec::new(),
            ips: Vec::new(),
            hours: vec![0; 168],
            recent: VecDeque::new(),
        }
    }

    pub fn observe(&mut self, ev: &Event, f: &Features) {
        let t = ev.time;
        self.first = self.first.min(t);
        self.last = self.last.max(t);
        self.events += 1;
        if let Some(h) = self.hours.get_mut(hour_of_week(t)) {
            *h += 1;
        }
        if let EventKind::SignIn(s) = &ev.kind {
            self.sign_ins += 1;
            if !s.succeeded {
                self.failed_sign_ins += 1;
            }
        }
        if let Some(c) = f.country {
            bump(&mut self.countries, c.as_str().to_string(), t);
        }
        if let Some(asn) = f.asn {
            let name = match &f.as_org {
                Some(org) => format!("AS{asn} {org}"),
                None => format!("AS{asn}"),
            };
            bump(&mut self.networks, name, t);
        }
        let client = match (&f.client_app, &f.ua_family) {
            (Some(c), Some(u)) => Some(format!("{c} · {u}")),
            (Some(c), None) => Some(c.clone()),
            (None, Some(u)) => Some(u.clone()),
            (None, None) => None,
        };
        if let Some(c) = client {
            bump(&mut self.clients, c, t);
        }
        if let Some(ip) = f.ip.filter(|_| !f.ip_internal) {
            bump(&mut self.ips, ip.to_string(), t);
        }
        self.recent.push_back(Activity {
            time: t,
            kind: ev.kind.name().to_string(),
            ip: f.ip.map(|i| i.to_string()),
            country: f.country.map(|c| c.as_str().to_string()),
            detail: describe(ev),
        });
        while self.recent.len() > RECENT_ACTIVITY {
            self.recent.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn categories_stay_bounded_and_ranked() {
        let t = chrono::Utc.with_ymd_and_hms(2022, 2, 7, 4, 0, 0).unwrap();
        let mut v = Vec::new();
        for i in 0..30 {
            bump(&mut v, format!("v{i}"), t);
        }
        bump(&mut v, "v29".into(), t);
        assert_eq!(v.len(), VALUES_PER_CATEGORY);
        assert_eq!(v[0].value, "v29");
        assert_eq!(v[0].count, 2);
        // Monday 04:00 UTC.
        assert_eq!(hour_of_week(t), 4);
    }
}
