//! The report `vigil replay --report-json` writes. Its shape is a contract, documented in
//! docs/report.md: fields are only ever added, never renamed or removed.
//!
//! Invariant: plain data, no behaviour beyond (de)serialisation and formatting.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The whole report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub summary: Summary,
    pub breaches: Vec<Breach>,
    pub incidents: Vec<Incident>,
    pub actions: Vec<Action>,
}

/// What the ingest did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub files: u64,
    /// Bytes read from disk (compressed size for gzip files).
    pub bytes: u64,
    /// Records met in the input: events produced, duplicates and rejected records.
    pub records_read: u64,
    /// Events passed on after deduplication.
    pub events: u64,
    pub typed: u64,
    pub generic: u64,
    /// Per source and format: records read and how many were typed.
    pub by_source: Vec<SourceCount>,
    /// Records dropped because a record with the same id was already seen (this run or a
    /// previous one, within the deduplication horizon).
    pub duplicates_dropped: u64,
    /// Sign-ins that arrived both from the audit log and from Entra and were counted once.
    pub logons_linked: u64,
    /// Sign-ins whose other record arrived after the first had been passed on: passed on too
    /// (counted in `events`), marked `linked_to` the first.
    pub logons_linked_after_release: u64,
    /// Records whose event time was already behind the reordering window when they arrived.
    /// They are passed on, out of order, and counted here.
    pub late: u64,
    pub reordering_window_seconds: u64,
    pub rejected: u64,
    /// The first rejections, as `file:line: field `X`: reason`.
    pub first_rejections: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_event: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_event: Option<DateTime<Utc>>,
    pub elapsed_seconds: f64,
    pub records_per_second: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCount {
    pub source: String,
    pub format: String,
    pub records: u64,
    pub typed: u64,
    pub generic: u64,
}

/// A metric's value and the baseline it was compared with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    pub value: serde_json::Value,
    pub baseline: serde_json::Value,
}

/// One model breach.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Breach {
    pub id: String,
    pub model: String,
    /// 0 to 100.
    pub score: f64,
    pub time: DateTime<Utc>,
    /// Account UPN in lower case, or `ip:…`, `app:…`, `device:…`.
    pub entity: String,
    pub event_ids: Vec<String>,
    pub reason: String,
    pub metrics: BTreeMap<String, Metric>,
}

/// A group of related breaches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: String,
    pub title: String,
    pub score: f64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub entities: Vec<String>,
    pub breach_ids: Vec<String>,
    pub summary: String,
}

/// How much autonomy an action had.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionMode {
    Autonomous,
    Confirm,
    Off,
}

/// A response action taken, or that would have been taken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub id: String,
    pub kind: String,
    pub target: String,
    /// The event time at which it was, or would have been, taken.
    pub time: DateTime<Utc>,
    pub mode: ActionMode,
    pub state: String,
    pub incident_id: String,
}

impl Summary {
    /// A few lines for people, printed at the end of a run.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "read {} records from {} files ({:.1} MB) in {:.2}s: {:.0} records/s",
            self.records_read,
            self.files,
            self.bytes as f64 / 1e6,
            self.elapsed_seconds,
            self.records_per_second
        );
        for c in &self.by_source {
            let _ = writeln!(
                s,
                "  {:<16} {:<30} {:>10} records  {:>10} typed  {:>10} generic",
                c.source, c.format, c.records, c.typed, c.generic
            );
        }
        let _ = writeln!(
            s,
            "events {} ({} typed, {} generic); duplicates dropped {}; logons linked across sources {} (+{} after release); late (beyond the {}s window) {}; rejected {}",
            self.events,
            self.typed,
            self.generic,
            self.duplicates_dropped,
            self.logons_linked,
            self.logons_linked_after_release,
            self.reordering_window_seconds,
            self.late,
            self.rejected
        );
        if let (Some(a), Some(b)) = (self.first_event, self.last_event) {
            let _ = writeln!(
                s,
                "event time {} .. {}",
                a.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                b.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
        }
        if !self.first_rejections.is_empty() {
            let _ = writeln!(s, "first rejections:");
            for r in &self.first_rejections {
                let _ = writeln!(s, "  {r}");
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_report_has_the_contract_keys() {
        let v = serde_json::to_value(Report::default()).unwrap();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, vec!["actions", "breaches", "incidents", "summary"]);
        for k in ["breaches", "incidents", "actions"] {
            assert!(v[k].as_array().unwrap().is_empty());
        }
    }

    #[test]
    fn breach_incident_action_serialise_with_contract_names() {
        let t = "2022-02-01T04:55:51Z".parse::<DateTime<Utc>>().unwrap();
        let report = Report {
            summary: Summary::default(),
            breaches: vec![Breach {
                id: "b1".into(),
                model: "SaaS / Access / Suspicious Login User-Agent".into(),
                score: 87.0,
                time: t,
                entity: "a@contoso.com".into(),
                event_ids: vec!["e1".into()],
                reason: "first sign-in of this account from Nigeria".into(),
                metrics: BTreeMap::from([(
                    "country_rarity".into(),
                    Metric {
                        value: 0.99.into(),
                        baseline: 0.1.into(),
                    },
                )]),
            }],
            incidents: vec![Incident {
                id: "i1".into(),
                title: "Compromise of a@contoso.com".into(),
                score: 90.0,
                start: t,
                end: t,
                entities: vec!["a@contoso.com".into()],
                breach_ids: vec!["b1".into()],
                summary: "…".into(),
            }],
            actions: vec![Action {
                id: "a1".into(),
                kind: "disable_user".into(),
                target: "a@contoso.com".into(),
                time: t,
                mode: ActionMode::Confirm,
                state: "pending".into(),
                incident_id: "i1".into(),
            }],
        };
        let mut v = serde_json::to_value(&report).unwrap();
        v["summary"] = serde_json::Value::Null;
        insta::assert_json_snapshot!(v);
        let back: Report = serde_json::from_value(serde_json::to_value(&report).unwrap()).unwrap();
        assert_eq!(back, report);
    }
}
