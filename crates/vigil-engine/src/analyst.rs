//! The analyst: groups breaches into incidents per account, and merges incidents of accounts
//! linked by a shared rare source IP or network, a shared rare OAuth app, or a phishing chain
//! (B received mail from A shortly before B's unusual login). Incidents update as events arrive.

use std::collections::{BTreeMap, BTreeSet};

use chrono::SecondsFormat;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use vigil_event::Timestamp;

use crate::util::{Min, DAY, HOUR};

/// What the analyst knows about a breach beyond the report's fields.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BreachMeta {
    pub model: String,
    pub unusual_login: bool,
    pub account: Option<String>,
    pub ip: Option<String>,
    pub country: Option<String>,
    pub asn: Option<u32>,
    /// The IP was used by at most a few accounts before this breach.
    pub ip_rare: bool,
    /// The /24 (/48) and its AS were used by at most a few accounts before.
    pub prefix: Option<String>,
    pub prefix_rare: bool,
    pub app: Option<String>,
    pub app_rare: bool,
    pub reason: String,
}

/// One line of an incident's timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub time: Timestamp,
    pub entity: String,
    pub what: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub breach_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub event_id: Option<String>,
}

/// An incident, richer than the report's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: String,
    pub title: String,
    pub score: f64,
    pub start: Timestamp,
    pub end: Timestamp,
    pub entities: BTreeSet<String>,
    pub breach_ids: Vec<String>,
    /// Highest score per model.
    pub model_scores: BTreeMap<String, f64>,
    pub timeline: Vec<TimelineEntry>,
    pub ips: BTreeSet<String>,
    pub networks: BTreeSet<String>,
    pub countries: BTreeSet<String>,
    pub apps: BTreeSet<String>,
    /// Why accounts were grouped.
    pub links: Vec<String>,
    pub summary: String,
    /// Whether it has reached the score at which incidents are reported.
    pub visible: bool,
    /// Merged into another incident (kept for id redirection).
    pub merged_into: Option<String>,
    /// Evidence for the score: (model, first event id, highest score) per breach.
    #[serde(default)]
    pub evidence: Vec<(String, String, f64)>,
}

const TIMELINE_CAP: usize = 200;
/// The evidence family of every model marked `unusual_login`.
const LOGIN_FAMILY: &str = "unusual login";
/// Beyond this many pieces of evidence an incident's score no longer moves.
const EVIDENCE_CAP: usize = 256;

impl Incident {
    pub fn to_report(&self) -> vigil_report::Incident {
        vigil_report::Incident {
            id: self.id.clone(),
            title: self.title.clone(),
            score: (self.score * 10.0).round() / 10.0,
            start: self.start,
            end: self.end,
            entities: self.entities.iter().cloned().collect(),
            breach_ids: self.breach_ids.clone(),
            summary: self.summary.clone(),
        }
    }

    /// Notes a breach as evidence (deduplicated by model and event).
    fn add_evidence(&mut self, model: &str, event: &str, score: f64) {
        let n = self.evidence.len();
        match self
            .evidence
            .iter_mut()
            .find(|(m, e, _)| m == model && e == event)
        {
            Some(x) => x.2 = x.2.max(score),
            None if n < EVIDENCE_CAP => {
                self.evidence
                    .push((model.to_string(), event.to_string(), score))
            }
            None => {}
        }
    }

    /// Independent pieces of evidence: breaches of one model, or breaches raised by one event
    /// (a login that is both a new country and impossible travel; a rule that is both new and
    /// forwarding), say one thing once. Each group counts with its highest score.
    fn independent_scores(&self) -> Vec<f64> {
        let ev = &self.evidence;
        crate::util::strongest_of_each_group(
            ev.len(),
            |i, j| ev[i].0 == ev[j].0 || (!ev[i].1.is_empty() && ev[i].1 == ev[j].1),
            |i| ev[i].2,
        )
        .into_iter()
        .map(|i| ev[i].2)
        .collect()
    }

    fn rescore(&mut self) {
        let mut scores: Vec<f64> = if self.evidence.is_empty() {
            self.model_scores.values().copied().collect()
        } else {
            self.independent_scores()
        };
        scores.sort_by(|a, b| b.total_cmp(a));
        let Some(top) = scores.first().copied() else {
            return;
        };
        let rest: f64 = scores[1..].iter().map(|s| 1.0 - 0.5 * s / 100.0).product();
        self.score = (100.0 * (1.0 - (1.0 - top / 100.0) * rest)).clamp(0.0, 100.0);
    }

    fn accounts(&self) -> Vec<&String> {
        self.entities.iter().filter(|e| e.contains('@')).collect()
    }

    fn retitle(&mut self) {
        let accts = self.accounts();
        let top = self
            .model_scores
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(m, _)| m.rsplit(" / ").next().unwrap_or(m).to_string())
            .unwrap_or_default();
        let list = |v: &[&String]| {
            let mut s: Vec<String> = v.iter().take(3).map(|x| x.to_string()).collect();
            if v.len() > 3 {
                s.push(format!("{} more", v.len() - 3));
            }
            s.join(", ")
        };
        self.title = if accts.len() > 1 {
            format!("Multi-account compromise: {}", list(&accts))
        } else if let Some(a) = accts.first() {
            if self.score >= 80.0 {
                format!("Account compromise: {a}")
            } else {
                format!("{top}: {a}")
            }
        } else {
            let e: Vec<&String> = self.entities.iter().collect();
            format!("{top}: {}", list(&e))
        };
    }

    /// Writes the summary; `actions` are lines about the response plan.
    pub fn resummarise(&mut self, actions: &[String]) {
        let fmt = |t: &Timestamp| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        let mut s = String::new();
        let accts = self.accounts();
        if accts.len() > 1 {
            s.push_str(&format!(
                "{} accounts appear compromised by the same actor: {}. ",
                accts.len(),
                accts
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(first) = self.timeline.iter().find(|e| e.breach_id.is_some()) {
            s.push_str(&format!(
                "It began at {} on {}: {}. ",
                fmt(&first.time),
                first.entity,
                first.what
            ));
        }
        let later: Vec<String> = self
            .timeline
            .iter()
            .filter(|e| e.breach_id.is_some())
            .skip(1)
            .take(8)
            .map(|e| {
                format!(
                    "{} {} ({})",
                    e.time.format("%m-%d %H:%M"),
                    e.what.split(':').next().unwrap_or(&e.what),
                    e.entity
                )
            })
            .collect();
        if !later.is_empty() {
            s.push_str(&format!("Then: {}. ", later.join("; ")));
        }
        let n = self.breach_ids.len();
        s.push_str(&format!(
            "{n} breach{} of {} model{}, score {}. ",
            if n == 1 { "" } else { "es" },
            self.model_scores.len(),
            if self.model_scores.len() == 1 {
                ""
            } else {
                "s"
            },
            self.score.round()
        ));
        if !self.ips.is_empty() || !self.apps.is_empty() {
            let mut infra = Vec::new();
            if !self.ips.is_empty() {
                infra.push(format!(
                    "IPs {}",
                    self.ips
                        .iter()
                        .take(5)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !self.networks.is_empty() {
                infra.push(format!(
                    "networks {}",
                    self.networks
                        .iter()
                        .take(5)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !self.countries.is_empty() {
                infra.push(format!(
                    "countries {}",
                    self.countries
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !self.apps.is_empty() {
                infra.push(format!(
                    "apps {}",
                    self.apps.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
            s.push_str(&format!("Attacker infrastructure: {}. ", infra.join("; ")));
        }
        if !self.links.is_empty() {
            s.push_str(&format!("Grouped because {}. ", self.links.join("; ")));
        }
        if !actions.is_empty() {
            s.push_str(&format!("Response: {}.", actions.join("; ")));
        }
        self.summary = s.trim().to_string();
    }
}

/// Analyst state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Analyst {
    pub incidents: Vec<Incident>,
    by_entity: FxHashMap<String, usize>,
    by_ip: FxHashMap<String, usize>,
    by_prefix: FxHashMap<String, usize>,
    by_app: FxHashMap<String, usize>,
    /// Internal recipient → (minute, incident) of the last mail from a compromised account.
    mailed_by: FxHashMap<String, (Min, usize)>,
    /// Account → minute of its first high-confidence breach (when it became compromised).
    #[serde(default)]
    compromised_at: FxHashMap<String, Min>,
}

/// A breach at least this score is high confidence: its account counts as compromised, and the
/// IPs, networks and apps it used count as attacker infrastructure. Weaker breaches may join an
/// incident (by the account, or by using that infrastructure) but never extend it, so that
/// infrastructure does not cascade through accounts grouped by weaker evidence.
pub const HIGH_CONFIDENCE: f64 = 80.0;

/// How long an incident stays open for new breaches of its accounts.
const OPEN_FOR: Min = 7 * DAY;
/// B's unusual login counts as part of A's incident if B received mail from A this recently.
const PHISH_WINDOW: Min = 48 * HOUR;

impl Analyst {
    /// Where the incident `id` is. Ids are `i<position + 1>` (see `on_breach`), so this is a
    /// parse, not a search: a search per lookup made grouping quadratic in the incidents.
    fn index_of(&self, id: &str) -> Option<usize> {
        let i = id
            .strip_prefix('i')?
            .parse::<usize>()
            .ok()?
            .checked_sub(1)?;
        (self.incidents.get(i)?.id == id).then_some(i)
    }

    fn root(&self, mut i: usize) -> usize {
        // Merges only ever point at an older or newer incident that is itself not merged at the
        // time; a bound on the hops keeps a corrupted snapshot from looping.
        for _ in 0..self.incidents.len() {
            let Some(target) = &self.incidents[i].merged_into else {
                break;
            };
            match self.index_of(target) {
                Some(j) if j != i => i = j,
                _ => break,
            }
        }
        i
    }

    /// The id an incident id now lives under (after merges).
    pub fn resolve(&self, id: &str) -> String {
        match self.index_of(id) {
            Some(i) => self.incidents[self.root(i)].id.clone(),
            None => id.to_string(),
        }
    }

    pub fn incident_of(&self, entity: &str) -> Option<&Incident> {
        self.by_entity
            .get(entity)
            .map(|i| &self.incidents[self.root(*i)])
    }

    /// Adds a breach; returns the index of the incident it is in (after merges).
    pub fn on_breach(
        &mut self,
        b: &vigil_report::Breach,
        meta: &BreachMeta,
        t: Min,
        min_score: f64,
        new: bool,
    ) -> usize {
        let mut candidates: Vec<(usize, String)> = Vec::new();
        let open = |inc: &Incident| t.saturating_sub(crate::util::minute(&inc.end)) <= OPEN_FOR;
        let mut own = None;
        if let Some(&i) = self.by_entity.get(&b.entity) {
            let r = self.root(i);
            if open(&self.incidents[r]) {
                candidates.push((r, String::new()));
                own = Some(r);
            }
        }
        let mut link =
            |map: &FxHashMap<String, usize>, key: &Option<String>, rare: bool, why: &str| {
                if let (Some(k), true) = (key, rare) {
                    if let Some(&i) = map.get(k) {
                        candidates.push((i, format!("{} shares {why} {k}", b.entity)));
                    }
                }
            };
        // An IP is in `by_ip` only if it was rare when a high-confidence breach used it; the
        // attacker's own use of it since (on the accounts it took over) does not make it
        // common, so a later breach from it links whatever its rarity is now.
        link(&self.by_ip, &meta.ip, true, "the rare IP");
        link(
            &self.by_prefix,
            &meta.prefix,
            meta.prefix_rare,
            "the rare network",
        );
        link(&self.by_app, &meta.app, meta.app_rare, "the rare app");
        if meta.unusual_login {
            if let Some(&(at, i)) = self.mailed_by.get(&b.entity) {
                // Mail from a compromised account is opportunity, not proof: an attacker sends
                // it to many, and some recipients travel. The login must itself point at the
                // actor: high confidence on its own, or from a network the actor's
                // high-confidence breaches used.
                let inc = &self.incidents[self.root(i)];
                let actor = b.score >= HIGH_CONFIDENCE
                    || meta
                        .asn
                        .is_some_and(|a| inc.networks.contains(&format!("AS{a}")));
                if actor && t.saturating_sub(at) <= PHISH_WINDOW && t >= at {
                    candidates.push((
                        i,
                        format!(
                            "{} received mail from a compromised account {} minutes before this unusual login",
                            b.entity,
                            t - at
                        ),
                    ));
                }
            }
        }
        let mut roots: Vec<(usize, String)> = Vec::new();
        for (i, mut why) in candidates {
            let r = self.root(i);
            if !open(&self.incidents[r]) {
                continue;
            }
            if self.incidents[r].entities.contains(&b.entity) {
                why.clear(); // already part of it: not a new link
            }
            match roots.iter_mut().find(|(x, _)| *x == r) {
                Some(x) if x.1.is_empty() => x.1 = why,
                Some(_) => {}
                None => roots.push((r, why)),
            }
        }
        // An earlier weak incident of this account (no high-confidence breach, begun before
        // the linked compromise) is an unrelated false positive: it stays apart.
        if let Some(own) = own {
            let own_weak = !self.incidents[own]
                .model_scores
                .values()
                .any(|&s| s >= HIGH_CONFIDENCE);
            let own_start = crate::util::minute(&self.incidents[own].start);
            let later_attack = roots.iter().any(|(r, why)| {
                *r != own
                    && !why.is_empty()
                    && self.compromise_time(*r).is_some_and(|c| own_start < c)
            });
            if own_weak && later_attack {
                roots.retain(|(r, _)| *r != own);
            }
        }
        roots.sort_by_key(|(r, _)| *r);
        let target = match roots.first() {
            Some((r, _)) => *r,
            None => {
                let id = format!("i{}", self.incidents.len() + 1);
                self.incidents.push(Incident {
                    id,
                    title: String::new(),
                    score: 0.0,
                    start: b.time,
                    end: b.time,
                    entities: BTreeSet::new(),
                    breach_ids: Vec::new(),
                    model_scores: BTreeMap::new(),
                    timeline: Vec::new(),
                    ips: BTreeSet::new(),
                    networks: BTreeSet::new(),
                    countries: BTreeSet::new(),
                    apps: BTreeSet::new(),
                    links: Vec::new(),
                    summary: String::new(),
                    visible: false,
                    merged_into: None,
                    evidence: Vec::new(),
                });
                self.incidents.len() - 1
            }
        };
        for (r, why) in &roots[roots.len().min(1)..] {
            self.merge(*r, target);
            if !why.is_empty() {
                self.incidents[target].links.push(why.clone());
            }
        }
        if let Some((_, why)) = roots.first() {
            if !why.is_empty() && !self.incidents[target].links.contains(why) {
                self.incidents[target].links.push(why.clone());
            }
        }
        let inc = &mut self.incidents[target];
        if new {
            inc.breach_ids.push(b.id.clone());
            if inc.timeline.len() < TIMELINE_CAP {
                inc.timeline.push(TimelineEntry {
                    time: b.time,
                    entity: b.entity.clone(),
                    what: format!("{}: {}", b.model, b.reason),
                    breach_id: Some(b.id.clone()),
                    event_id: b.event_ids.first().cloned(),
                });
            }
        }
        inc.entities.insert(b.entity.clone());
        if let Some(a) = &meta.account {
            inc.entities.insert(a.clone());
        }
        let e = inc.model_scores.entry(b.model.clone()).or_insert(0.0);
        *e = e.max(b.score);
        // Login anomalies of one incident (new country, impossible travel, unfamiliar IP,
        // odd client) describe one fact, where the account was; they count once.
        inc.add_evidence(
            if meta.unusual_login {
                LOGIN_FAMILY
            } else {
                &b.model
            },
            b.event_ids.first().map_or("", |x| x.as_str()),
            b.score,
        );
        inc.start = inc.start.min(b.time);
        inc.end = inc.end.max(b.time);
        let high = b.score >= HIGH_CONFIDENCE;
        if high {
            let t0 = self.compromised_at.entry(b.entity.clone()).or_insert(t);
            *t0 = (*t0).min(t);
        }
        let inc = &mut self.incidents[target];
        if meta.ip_rare && high {
            if let Some(ip) = &meta.ip {
                inc.ips.insert(ip.clone());
                if let Some(c) = &meta.country {
                    inc.countries.insert(c.clone());
                }
                if let Some(a) = meta.asn {
                    inc.networks.insert(format!("AS{a}"));
                }
            }
        }
        if meta.app_rare && high {
            if let Some(app) = &meta.app {
                inc.apps.insert(app.clone());
            }
        }
        inc.timeline.sort_by_key(|a| a.time);
        inc.rescore();
        inc.retitle();
        if inc.score >= min_score {
            inc.visible = true;
        }
        inc.resummarise(&[]);
        self.by_entity.insert(b.entity.clone(), target);
        if let Some(a) = &meta.account {
            self.by_entity.insert(a.clone(), target);
        }
        if high {
            if let (Some(ip), true) = (&meta.ip, meta.ip_rare) {
                self.by_ip.insert(ip.clone(), target);
            }
            if let (Some(p), true) = (&meta.prefix, meta.prefix_rare) {
                self.by_prefix.insert(p.clone(), target);
            }
            if let (Some(a), true) = (&meta.app, meta.app_rare) {
                self.by_app.insert(a.clone(), target);
            }
        }
        target
    }

    /// When the first account of an incident became compromised (its first high-confidence
    /// breach), if any has.
    fn compromise_time(&self, r: usize) -> Option<Min> {
        self.incidents[r]
            .entities
            .iter()
            .filter_map(|e| self.compromised_at.get(e).copied())
            .min()
    }

    fn merge(&mut self, from: usize, into: usize) {
        if from == into {
            return;
        }
        let src = self.incidents[from].clone();
        let into_id = self.incidents[into].id.clone();
        let dst = &mut self.incidents[into];
        dst.entities.extend(src.entities.iter().cloned());
        dst.breach_ids.extend(src.breach_ids.iter().cloned());
        for (m, s) in &src.model_scores {
            let e = dst.model_scores.entry(m.clone()).or_insert(0.0);
            *e = e.max(*s);
        }
        for (m, e, sc) in &src.evidence {
            dst.add_evidence(m, e, *sc);
        }
        dst.timeline.extend(src.timeline.iter().cloned());
        dst.timeline.sort_by_key(|a| a.time);
        dst.timeline.truncate(TIMELINE_CAP);
        dst.ips.extend(src.ips.iter().cloned());
        dst.networks.extend(src.networks.iter().cloned());
        dst.countries.extend(src.countries.iter().cloned());
        dst.apps.extend(src.apps.iter().cloned());
        dst.links.extend(src.links.iter().cloned());
        dst.start = dst.start.min(src.start);
        dst.end = dst.end.max(src.end);
        dst.visible |= src.visible;
        let f = &mut self.incidents[from];
        f.merged_into = Some(into_id);
        f.visible = false;
        f.breach_ids.clear();
        for map in [
            &mut self.by_entity,
            &mut self.by_ip,
            &mut self.by_prefix,
            &mut self.by_app,
        ] {
            for v in map.values_mut() {
                if *v == from {
                    *v = into;
                }
            }
        }
        for v in self.mailed_by.values_mut() {
            if v.1 == from {
                v.1 = into;
            }
        }
    }

    /// Notes mail from an account with an incident to an internal recipient (phishing chain).
    pub fn on_mail(&mut self, sender: &str, recipient: &str, t: Min) {
        let Some(&i) = self.by_entity.get(sender) else {
            return;
        };
        let r = self.root(i);
        // Only an account already compromised (a high-confidence breach before this mail, and
        // recent enough that its incident is still open) spreads a phishing chain; an old or
        // weak anomaly of the sender is not a reason to suspect its recipients.
        let compromised = self
            .compromised_at
            .get(sender)
            .is_some_and(|&c| c <= t && t - c <= OPEN_FOR);
        if !compromised || sender == recipient {
            return;
        }
        self.mailed_by.insert(recipient.to_string(), (t, r));
        if self.mailed_by.len() > 1 << 17 {
            let horizon = t.saturating_sub(PHISH_WINDOW);
            self.mailed_by.retain(|_, (at, _)| *at >= horizon);
        }
    }

    /// Adds a key event (rule, consent, file viewed, ...) of an account in a visible incident.
    pub fn on_key_event(&mut self, account: &str, time: Timestamp, what: String, event_id: &str) {
        let Some(&i) = self.by_entity.get(account) else {
            return;
        };
        let r = self.root(i);
        let inc = &mut self.incidents[r];
        if !inc.visible || inc.timeline.len() >= TIMELINE_CAP || time < inc.start {
            return;
        }
        if crate::util::minute(&time).saturating_sub(crate::util::minute(&inc.end)) > OPEN_FOR {
            return;
        }
        inc.timeline.push(TimelineEntry {
            time,
            entity: account.to_string(),
            what,
            breach_id: None,
            event_id: Some(event_id.to_string()),
        });
    }

    /// Visible incidents, merged ones excluded.
    pub fn visible(&self) -> impl Iterator<Item = &Incident> {
        self.incidents
            .iter()
            .filter(|i| i.visible && i.merged_into.is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(min: Min) -> Timestamp {
        chrono::DateTime::from_timestamp(min as i64 * 60, 0).unwrap()
    }

    fn breach(id: &str, who: &str, model: &str, score: f64, t: Min) -> vigil_report::Breach {
        vigil_report::Breach {
            id: id.into(),
            model: model.into(),
            score,
            time: at(t),
            entity: who.into(),
            event_ids: vec![format!("e-{id}")],
            reason: String::new(),
            metrics: BTreeMap::new(),
        }
    }

    fn login(ip: &str, asn: u32) -> BreachMeta {
        BreachMeta {
            model: "login".into(),
            unusual_login: true,
            ip: Some(ip.into()),
            ip_rare: true,
            asn: Some(asn),
            ..BreachMeta::default()
        }
    }

    const T0: Min = 27_000_000;

    #[test]
    fn merged_incidents_resolve_to_the_one_they_live_in() {
        let mut a = Analyst::default();
        // Three accounts, three incidents; then one IP ties the first two together, and a
        // breach of the third from it ties all three.
        for (n, who) in ["a@x.com", "b@x.com", "c@x.com"].iter().enumerate() {
            let ip = format!("10.0.0.{n}");
            a.on_breach(
                &breach(&format!("b{n}"), who, "SUA", 95.0, T0 + n as Min),
                &login(&ip, n as u32),
                T0 + n as Min,
                65.0,
                true,
            );
        }
        assert_eq!(a.incidents.len(), 3);
        let i = a.on_breach(
            &breach("b9", "b@x.com", "SUA", 95.0, T0 + 10),
            &login("10.0.0.0", 0),
            T0 + 10,
            65.0,
            true,
        );
        let j = a.on_breach(
            &breach("b10", "c@x.com", "SUA", 95.0, T0 + 20),
            &login("10.0.0.0", 0),
            T0 + 20,
            65.0,
            true,
        );
        assert_eq!(i, j);
        let root = a.incidents[i].id.clone();
        for id in ["i1", "i2", "i3"] {
            assert_eq!(a.resolve(id), root, "{id}");
        }
        assert_eq!(a.incidents[i].entities.len(), 3);
        // Ids that are not incidents resolve to themselves.
        for id in ["i0", "i99", "x1", "", "i-1"] {
            assert_eq!(a.resolve(id), id);
            assert_eq!(a.index_of(id), None);
        }
    }

    #[test]
    fn phishing_chain_needs_a_compromised_sender_and_a_login_of_the_actor() {
        let mut a = Analyst::default();
        // An old weak anomaly of the sender: its mail links nobody.
        a.on_breach(
            &breach("b1", "s@x.com", "UES", 60.0, T0),
            &login("1.1.1.1", 1),
            T0,
            65.0,
            true,
        );
        a.on_mail("s@x.com", "r@x.com", T0 + 60);
        let i = a.on_breach(
            &breach("b2", "r@x.com", "UES", 60.0, T0 + 120),
            &login("2.2.2.2", 2),
            T0 + 120,
            65.0,
            true,
        );
        assert_eq!(a.incidents[i].entities.len(), 1);
        // A compromised sender, and a login from the actor's network: linked.
        a.on_breach(
            &breach("b3", "s@x.com", "SUA", 95.0, T0 + 200),
            &login("3.3.3.3", 3),
            T0 + 200,
            65.0,
            true,
        );
        a.on_mail("s@x.com", "r2@x.com", T0 + 210);
        let j = a.on_breach(
            &breach("b4", "r2@x.com", "UES", 60.0, T0 + 300),
            &login("4.4.4.4", 3),
            T0 + 300,
            65.0,
            true,
        );
        assert!(a.incidents[j].entities.contains("s@x.com"));
        // A recipient's own trip from elsewhere: not linked.
        a.on_mail("s@x.com", "r3@x.com", T0 + 210);
        let k = a.on_breach(
            &breach("b5", "r3@x.com", "UES", 60.0, T0 + 300),
            &login("5.5.5.5", 5),
            T0 + 300,
            65.0,
            true,
        );
        assert_eq!(a.incidents[k].entities.len(), 1);
    }

    #[test]
    fn weak_breaches_add_no_infrastructure_and_login_anomalies_count_once() {
        let mut a = Analyst::default();
        let i = a.on_breach(
            &breach("b1", "t@x.com", "UES", 60.0, T0),
            &login("1.1.1.1", 1),
            T0,
            65.0,
            true,
        );
        let mut it = breach("b2", "t@x.com", "Impossible Travel", 60.0, T0);
        it.event_ids = vec!["e-b1".into()];
        a.on_breach(&it, &login("1.1.1.1", 1), T0, 65.0, true);
        let inc = &a.incidents[i];
        assert!(inc.ips.is_empty());
        assert!(!inc.visible, "one trip is one weak anomaly: {}", inc.score);
        // Another account from the same IP is not pulled in by it.
        let j = a.on_breach(
            &breach("b3", "u@x.com", "UES", 60.0, T0 + 10),
            &login("1.1.1.1", 1),
            T0 + 10,
            65.0,
            true,
        );
        assert_ne!(i, j);
    }
}
