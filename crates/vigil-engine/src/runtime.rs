//! Running models: conditions per event, sequences and accumulations per entity, cooldowns, and
//! the feedback of breaches as events so that models chain. All state here is in event time and
//! serialisable.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::metrics::Metrics;
use crate::model::{name_matches, EntityKind, Input, Model, ModelKind, Step};
use crate::util::{h64, Min, DAY};

/// Entities an event is about, by kind.
#[derive(Clone, Debug, Default)]
pub struct Entities {
    pub account: Option<String>,
    pub ip: Option<String>,
    pub app: Option<String>,
}

impl Entities {
    fn of(&self, k: EntityKind) -> Option<&str> {
        match k {
            EntityKind::Account => self.account.as_deref(),
            EntityKind::Ip => self.ip.as_deref(),
            EntityKind::App => self.app.as_deref(),
        }
    }
}

/// One step of a sequence or accumulation that led to a breach.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepNote {
    pub t: Min,
    pub what: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub breach_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub event_id: Option<String>,
}

/// A model fired (or fired again within its cooldown: `new == false`).
#[derive(Clone, Debug, PartialEq)]
pub struct Fire {
    pub model: usize,
    pub id: String,
    pub new: bool,
    pub entity: String,
    pub score: f64,
    pub t: Min,
    /// Fired by the current event: its metrics explain the breach.
    pub on_event: bool,
    pub steps: Vec<StepNote>,
}

struct BreachIn<'a> {
    name: &'a str,
    own: Option<usize>,
    entity: &'a str,
    score: f64,
    t: Min,
    id: &'a str,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Cooldown {
    t: Min,
    id: String,
    score: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct SeqState {
    model: String,
    entity: String,
    step: usize,
    count: u32,
    start: Min,
    deadline: Option<Min>,
    max_breach: f64,
    notes: Vec<StepNote>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Recent {
    t: Min,
    model: String,
    score: f64,
    id: String,
    accumulating: bool,
    /// Hash of the event whose processing raised the breach (chained breaches included); 0 for
    /// breaches raised by time alone. Breaches of one event are one piece of evidence.
    #[serde(default)]
    event: u64,
}

/// Model runtime state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Runtime {
    next_id: u64,
    watermark: Min,
    cooldowns: FxHashMap<u64, Cooldown>,
    seqs: FxHashMap<u64, SeqState>,
    pending: BTreeSet<(Min, u64)>,
    recent: FxHashMap<String, Vec<Recent>>,
    /// The event being processed (see `Recent::event`); transient between events.
    #[serde(skip)]
    current_event: u64,
}

/// The middle of "Area / Category / Title" ("Admin" of "SaaS / Admin / OAuth Permission Grant");
/// a name of another shape is its own category.
fn model_category(name: &str) -> &str {
    let mut parts = name.split(" / ");
    match (parts.next(), parts.next(), parts.next()) {
        (Some(_), Some(category), Some(_)) => category,
        _ => name,
    }
}

fn key(model: &str, entity: &str) -> u64 {
    h64(model) ^ h64(entity).rotate_left(29)
}

fn describe(kind: &str, m: &Metrics) -> String {
    let s = |n: &str| m.get(n).map(|x| x.value.display()).unwrap_or_default();
    match kind {
        "sign_in" => {
            let ok = m.get("signin_success").is_some_and(|x| x.value.truthy());
            let c = s("country");
            format!(
                "{} sign-in from {}{}",
                if ok { "successful" } else { "failed" },
                s("ip"),
                if c.is_empty() {
                    String::new()
                } else {
                    format!(" ({c})")
                }
            )
        }
        "inbox_rule" => format!("inbox rule \"{}\"", s("rule_name")),
        "app_consent" => format!("consent to {}", s("app_name")),
        "mail_send" | "message_trace" => "mail sent".into(),
        "account_security" => "security info changed".into(),
        "mailbox_forwarding" => "mailbox forwarding set".into(),
        other => other.replace('_', " "),
    }
}

impl Runtime {
    pub fn watermark(&self) -> Min {
        self.watermark
    }

    /// Highest score of breaches on `entity` within `span` before `now`.
    pub fn max_recent_score(&self, entity: &str, now: Min, span: Min) -> f64 {
        self.recent.get(entity).map_or(0.0, |v| {
            v.iter()
                .filter(|r| now.saturating_sub(r.t) <= span)
                .map(|r| r.score)
                .fold(0.0, f64::max)
        })
    }

    /// Moves event time forward; fires "and then nothing" sequences whose quiet period ended.
    pub fn advance(&mut self, models: &[Model], now: Min) -> Vec<Fire> {
        self.watermark = self.watermark.max(now);
        let mut out = Vec::new();
        while let Some(&(deadline, k)) = self.pending.iter().next() {
            if deadline > self.watermark {
                break;
            }
            self.pending.remove(&(deadline, k));
            let Some(st) = self.seqs.remove(&k) else {
                continue;
            };
            if st.deadline != Some(deadline) {
                continue;
            }
            let Some(mi) = models.iter().position(|m| m.name == st.model) else {
                continue;
            };
            let m = &models[mi];
            let inherit = matches!(m.kind, ModelKind::Sequence { inherit: true, .. });
            let mut score = m.score;
            if inherit {
                score = score.max((st.max_breach + 5.0).min(100.0));
            }
            let mut notes = st.notes;
            notes.push(StepNote {
                t: deadline,
                what: "then nothing".into(),
                breach_id: None,
                event_id: None,
            });
            if let Some(f) = self.emit(m, mi, &st.entity, score, deadline, false, notes) {
                out.push(f);
            }
        }
        // Chain the new breaches.
        let mut i = 0;
        while i < out.len() {
            if out[i].new {
                let f = out[i].clone();
                let more = self.feed_breach(models, &f, 0);
                out.extend(more);
            }
            i += 1;
        }
        out
    }

    /// Records a fire (or, within the cooldown, returns an update of the earlier breach).
    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        m: &Model,
        mi: usize,
        entity: &str,
        score: f64,
        t: Min,
        on_event: bool,
        steps: Vec<StepNote>,
    ) -> Option<Fire> {
        let k = key(&m.name, entity);
        let cooldown = match &m.kind {
            ModelKind::Accumulate { window, .. } => m.cooldown.max(*window),
            _ => m.cooldown,
        };
        if let Some(c) = self.cooldowns.get_mut(&k) {
            if t >= c.t && t - c.t < cooldown {
                if score > c.score {
                    c.score = score;
                }
                return Some(Fire {
                    model: mi,
                    id: c.id.clone(),
                    new: false,
                    entity: entity.to_string(),
                    score: c.score,
                    t,
                    on_event,
                    steps,
                });
            }
        }
        self.next_id += 1;
        let id = format!("b{}", self.next_id);
        self.cooldowns.insert(
            k,
            Cooldown {
                t,
                id: id.clone(),
                score,
            },
        );
        if self.cooldowns.len() > 1 << 17 {
            let horizon = t.saturating_sub(30 * DAY);
            self.cooldowns.retain(|_, c| c.t >= horizon);
        }
        let rec = self.recent.entry(entity.to_string()).or_default();
        rec.push(Recent {
            t,
            model: m.name.clone(),
            score,
            id: id.clone(),
            accumulating: matches!(m.kind, ModelKind::Accumulate { .. }),
            event: self.current_event,
        });
        let horizon = t.saturating_sub(7 * DAY);
        rec.retain(|r| r.t >= horizon);
        if rec.len() > 48 {
            rec.remove(0);
        }
        if self.recent.len() > 1 << 17 {
            self.recent
                .retain(|_, v| v.last().is_some_and(|r| r.t >= horizon));
        }
        Some(Fire {
            model: mi,
            id,
            new: true,
            entity: entity.to_string(),
            score,
            t,
            on_event,
            steps,
        })
    }

    /// Runs all models on one event; returns the breaches it caused, chained ones included.
    pub fn feed_event(
        &mut self,
        models: &[Model],
        kind: &str,
        metrics: &Metrics,
        t: Min,
        ents: &Entities,
        event_id: &str,
    ) -> Vec<Fire> {
        self.current_event = 0;
        let mut out = self.advance(models, t);
        // Never 0, which means "raised by time alone".
        self.current_event = h64(event_id) | 1;
        let org_learning = metrics
            .get("org_learning")
            .is_some_and(|x| x.value.truthy());
        let input = Input::Event { kind, metrics, t };
        for (mi, m) in models.iter().enumerate() {
            if m.requires_baseline && org_learning {
                continue;
            }
            let Some(entity) = ents.of(m.entity) else {
                continue;
            };
            match &m.kind {
                ModelKind::Condition { on, when } => {
                    if (!on.is_empty() && !on.iter().any(|k| k == kind))
                        || !when.iter().all(|e| e.eval(metrics))
                    {
                        continue;
                    }
                    let score = m.score_for(metrics);
                    if let Some(f) = self.emit(m, mi, entity, score, t, true, Vec::new()) {
                        out.push(f);
                    }
                }
                ModelKind::Sequence { .. } => {
                    let note = StepNote {
                        t,
                        what: describe(kind, metrics),
                        breach_id: None,
                        event_id: Some(event_id.to_string()),
                    };
                    if let Some(f) = self.seq_step(m, mi, entity, &input, note, Some(metrics)) {
                        out.push(f);
                    }
                }
                ModelKind::Accumulate { .. } => {}
            }
        }
        let mut i = 0;
        while i < out.len() {
            if out[i].new {
                let f = out[i].clone();
                let more = self.feed_breach(models, &f, 0);
                out.extend(more);
            }
            i += 1;
        }
        out
    }

    /// A breach, fed back as an event to sequences and accumulations.
    fn feed_breach(&mut self, models: &[Model], b: &Fire, depth: u32) -> Vec<Fire> {
        let name = models[b.model].name.clone();
        let br = BreachIn {
            name: &name,
            own: Some(b.model),
            entity: &b.entity,
            score: b.score,
            t: b.t,
            id: &b.id,
        };
        self.feed_breach_in(models, &br, depth)
    }

    /// Feeds a breach made outside this runtime (inline tests name other models' breaches).
    pub fn feed_external_breach(
        &mut self,
        models: &[Model],
        name: &str,
        entity: &str,
        score: f64,
        t: Min,
    ) -> Vec<Fire> {
        self.current_event = 0;
        let mut out = self.advance(models, t);
        self.next_id += 1;
        let id = format!("x{}", self.next_id);
        self.recent
            .entry(entity.to_string())
            .or_default()
            .push(Recent {
                t,
                model: name.to_string(),
                score,
                id: id.clone(),
                accumulating: false,
                event: 0,
            });
        let br = BreachIn {
            name,
            own: None,
            entity,
            score,
            t,
            id: &id,
        };
        out.extend(self.feed_breach_in(models, &br, 0));
        out
    }

    fn feed_breach_in(&mut self, models: &[Model], b: &BreachIn<'_>, depth: u32) -> Vec<Fire> {
        if depth > 4 {
            return Vec::new();
        }
        let name = b.name.to_string();
        let input = Input::Breach {
            model: &name,
            score: b.score,
            t: b.t,
        };
        let mut out = Vec::new();
        for (mi, m) in models.iter().enumerate() {
            if Some(mi) == b.own {
                continue;
            }
            match &m.kind {
                ModelKind::Sequence { .. } => {
                    let note = StepNote {
                        t: b.t,
                        what: name.rsplit(" / ").next().unwrap_or(&name).to_string(),
                        breach_id: Some(b.id.to_string()),
                        event_id: None,
                    };
                    if let Some(f) = self.seq_step(m, mi, b.entity, &input, note, None) {
                        out.push(f);
                    }
                }
                ModelKind::Accumulate {
                    window,
                    include,
                    exclude,
                    min_models,
                    min_total,
                } => {
                    let Some(rec) = self.recent.get(b.entity) else {
                        continue;
                    };
                    let counts = |r: &Recent| {
                        b.t.saturating_sub(r.t) <= *window
                            && r.model != m.name
                            && (include.is_empty()
                                || include.iter().any(|p| name_matches(p, &r.model)))
                            && !exclude.iter().any(|p| name_matches(p, &r.model))
                            && (!r.accumulating || include.iter().any(|p| p == &r.model))
                    };
                    if !counts(rec.last().expect("the breach itself")) {
                        continue;
                    }
                    // Login anomalies (models marked unusual_login: new country, impossible
                    // travel, unfamiliar IP, odd client) say one thing, where the account was:
                    // together they count as one model, or one trip would look like three.
                    // Likewise every breach one event raised (a consent that is both "app
                    // administration" and "permission grant"; a rule that is "new", "hidden"
                    // and, after an unusual login, "unusual login and new rule") is one piece
                    // of evidence, counted at its strongest: the noisy-or below assumes the
                    // pieces are independent. So is every breach of one category ("SaaS /
                    // Admin / ..."): a consent writes several records a second apart, and the
                    // models of a category ask one question of them.
                    let family = |model: &str| -> bool {
                        models.iter().any(|x| x.unusual_login && x.name == model)
                    };
                    let items: Vec<&Recent> = rec.iter().filter(|r| counts(r)).collect();
                    let login: Vec<bool> = items.iter().map(|r| family(&r.model)).collect();
                    let category: Vec<&str> =
                        items.iter().map(|r| model_category(&r.model)).collect();
                    let per_model: Vec<(String, f64, String, Min)> =
                        crate::util::strongest_of_each_group(
                            items.len(),
                            |i, j| {
                                category[i] == category[j]
                                    || (login[i] && login[j])
                                    || (items[i].event != 0 && items[i].event == items[j].event)
                            },
                            |i| items[i].score,
                        )
                        .into_iter()
                        .map(|i| {
                            let r = items[i];
                            (r.model.clone(), r.score, r.id.clone(), r.t)
                        })
                        .collect();
                    let total: f64 = per_model.iter().map(|x| x.1).sum();
                    if (per_model.len() as u32) < *min_models || total < *min_total {
                        continue;
                    }
                    let noisy_or = 100.0
                        * (1.0 - per_model.iter().map(|x| 1.0 - x.1 / 100.0).product::<f64>());
                    let score = m.score.max(noisy_or).min(100.0);
                    let notes = per_model
                        .iter()
                        .map(|(model, score, id, t)| StepNote {
                            t: *t,
                            what: format!(
                                "{} ({})",
                                model.rsplit(" / ").next().unwrap_or(model),
                                crate::util::fmt_num(score.round())
                            ),
                            breach_id: Some(id.clone()),
                            event_id: None,
                        })
                        .collect();
                    if let Some(f) = self.emit(m, mi, b.entity, score, b.t, false, notes) {
                        out.push(f);
                    }
                }
                ModelKind::Condition { .. } => {}
            }
        }
        let mut i = 0;
        let n = out.len();
        while i < n {
            if out[i].new {
                let f = out[i].clone();
                let more = self.feed_breach(models, &f, depth + 1);
                out.extend(more);
            }
            i += 1;
        }
        out
    }

    fn seq_step(
        &mut self,
        m: &Model,
        mi: usize,
        entity: &str,
        input: &Input<'_>,
        note: StepNote,
        metrics: Option<&Metrics>,
    ) -> Option<Fire> {
        let ModelKind::Sequence {
            steps,
            within,
            absent,
            inherit,
        } = &m.kind
        else {
            return None;
        };
        let t = input.t();
        let k = key(&m.name, entity);
        // "and then nothing": something happened, so the sequence is off.
        if let Some(st) = self.seqs.get(&k) {
            if let (Some(d), Some((a, _))) = (st.deadline, absent) {
                if t <= d && a.matches(input) {
                    self.pending.remove(&(d, k));
                    self.seqs.remove(&k);
                    return None;
                }
                return None; // waiting for the quiet period; further steps don't matter
            }
            if t.saturating_sub(st.start) > *within {
                self.seqs.remove(&k);
            }
        }
        let breach_score = match input {
            Input::Breach { score, .. } => *score,
            _ => 0.0,
        };
        let matches_step = |s: &Step| s.matches(input);
        match self.seqs.get_mut(&k) {
            Some(st) => {
                if !matches_step(&steps[st.step]) {
                    return None;
                }
                st.count += 1;
                st.max_breach = st.max_breach.max(breach_score);
                if st.notes.len() < 16 {
                    st.notes.push(note);
                }
                if st.count >= steps[st.step].count {
                    st.step += 1;
                    st.count = 0;
                }
            }
            None => {
                if !matches_step(&steps[0]) {
                    return None;
                }
                let done_first = steps[0].count <= 1;
                self.seqs.insert(
                    k,
                    SeqState {
                        model: m.name.clone(),
                        entity: entity.to_string(),
                        step: usize::from(done_first),
                        count: u32::from(!done_first),
                        start: t,
                        deadline: None,
                        max_breach: breach_score,
                        notes: vec![note],
                    },
                );
            }
        }
        let st = self.seqs.get_mut(&k).expect("present");
        if st.step < steps.len() {
            if self.seqs.len() > 1 << 17 {
                let horizon = t.saturating_sub(*within);
                self.seqs
                    .retain(|_, s| s.deadline.is_some() || s.start >= horizon);
            }
            return None;
        }
        if let Some((_, quiet)) = absent {
            let d = t + quiet;
            st.deadline = Some(d);
            self.pending.insert((d, k));
            return None;
        }
        let st = self.seqs.remove(&k).expect("present");
        let mut score = match metrics {
            Some(ms) => m.score_for(ms),
            None => m.score,
        };
        if *inherit {
            score = score.max((st.max_breach + 5.0).min(100.0));
        }
        self.emit(m, mi, entity, score, t, metrics.is_some(), st.notes)
    }
}
