//! Vigil's detection engine: pattern of life, metrics, declarative models, the analyst and the
//! response plan.
//!
//! Invariant: pure and deterministic. The engine never touches files, the network or clocks; it
//! is driven by event time only. The same events in the same order give the same breaches,
//! incidents and actions, whether the run was uninterrupted or resumed from a snapshot.
//!
//! For each event: extract [`state::Features`], compute [`metrics`] against the state as it was
//! *before* the event, run the [`model`]s (conditions, then sequences and accumulations, with
//! breaches fed back as events), group breaches into incidents ([`analyst`]), plan the response
//! ([`response`]), and only then learn from the event.

use std::collections::BTreeMap;

use chrono::TimeZone;
use serde::{Deserialize, Serialize};
use vigil_event::{Event, EventKind};
use vigil_report::{Action, Breach, Incident};

pub mod analyst;
pub mod expr;
pub mod geo;
pub mod metrics;
pub mod model;
pub mod response;
pub mod runtime;
pub mod state;
pub mod util;

pub use model::{Model, ModelError, TestOutcome};
pub use response::ResponseConfig;
pub use state::StateConfig;

use analyst::{Analyst, BreachMeta};
use metrics::{Context, Metrics};
use response::{BreachForResponse, Responder};
use runtime::{Entities, Fire, Runtime};
use state::{Features, State};
use util::{Min, DAY};

/// Engine configuration. Model sources are passed in as text: the engine reads no files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    pub state: StateConfig,
    pub response: ResponseConfig,
    /// Incidents are reported once their score reaches this.
    pub incident_min_score: f64,
    /// Load the built-in model library.
    pub builtin_models: bool,
    /// Extra model files as (name for errors, TOML text).
    pub model_sources: Vec<(String, String)>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            state: StateConfig::default(),
            response: ResponseConfig::default(),
            incident_min_score: 65.0,
            builtin_models: true,
            model_sources: Vec::new(),
        }
    }
}

/// What one event changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EngineOutput {
    /// New breaches, and earlier ones updated (same id) by a repeat within the model's cooldown.
    pub breaches: Vec<Breach>,
    /// Incidents created or changed (only those at or above the reporting score).
    pub incidents: Vec<Incident>,
    /// Actions planned.
    pub actions: Vec<Action>,
}

impl EngineOutput {
    pub fn is_empty(&self) -> bool {
        self.breaches.is_empty() && self.incidents.is_empty() && self.actions.is_empty()
    }
}

/// Everything at the end of a run, in the report's types.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Findings {
    pub breaches: Vec<Breach>,
    pub incidents: Vec<Incident>,
    pub actions: Vec<Action>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct StoredBreach {
    breach: Breach,
    meta: BreachMeta,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Persisted {
    format: u32,
    events: u64,
    state: State,
    runtime: Runtime,
    analyst: Analyst,
    responder: Responder,
    breaches: Vec<StoredBreach>,
    breach_index: BTreeMap<String, usize>,
}

const SNAPSHOT_FORMAT: u32 = 1;
const MAX_EVENT_IDS: usize = 50;

/// The engine.
pub struct Engine {
    cfg: EngineConfig,
    models: Vec<Model>,
    p: Persisted,
}

fn to_time(t: Min) -> vigil_event::Timestamp {
    chrono::Utc
        .timestamp_opt(t as i64 * 60, 0)
        .single()
        .unwrap_or_default()
}

/// Joins metric phrases into one sentence, merging "first sign-in of this account from X" and
/// "... from Y" into "... from X and from Y".
fn join_phrases(phrases: Vec<String>) -> String {
    const P: &str = "first sign-in of this account from ";
    let mut out: Vec<String> = Vec::new();
    for ph in phrases {
        if out.contains(&ph) {
            continue;
        }
        if let Some(rest) = ph.strip_prefix(P) {
            if let Some(prev) = out.iter_mut().find(|x| x.starts_with(P)) {
                prev.push_str(&format!(" and from {rest}"));
                continue;
            }
        }
        out.push(ph);
    }
    out.join("; ")
}

fn render(template: &str, m: &Metrics) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let Some(j) = rest[i..].find('}') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let name = &rest[i + 1..i + j];
        let (name, part) = name.split_once('.').unwrap_or((name, "value"));
        let v = m.get(name).and_then(|x| match part {
            "baseline" => x.baseline.as_ref().map(|b| b.display()),
            _ => Some(x.value.display()),
        });
        out.push_str(&v.unwrap_or_else(|| "?".into()));
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    out
}

impl Engine {
    /// An engine with the built-in library (if configured) and the configured model sources.
    pub fn new(cfg: EngineConfig) -> Result<Engine, ModelError> {
        let mut models = if cfg.builtin_models {
            model::builtin()?
        } else {
            Vec::new()
        };
        for (name, src) in &cfg.model_sources {
            models.extend(model::load_str(name, src)?);
        }
        model::validate_set(&models)?;
        Ok(Engine::with_models(cfg, models))
    }

    /// An engine with exactly these models.
    pub fn with_models(cfg: EngineConfig, models: Vec<Model>) -> Engine {
        Engine {
            cfg,
            models,
            p: Persisted {
                format: SNAPSHOT_FORMAT,
                ..Persisted::default()
            },
        }
    }

    pub fn models(&self) -> &[Model] {
        &self.models
    }

    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// Pattern-of-life state (read only).
    pub fn state(&self) -> &State {
        &self.p.state
    }

    /// Incidents with their timelines (merged ones excluded).
    pub fn incidents_detailed(&self) -> Vec<analyst::Incident> {
        let mut v: Vec<analyst::Incident> = self.p.analyst.visible().cloned().collect();
        for inc in &mut v {
            inc.resummarise(&self.action_lines(&inc.id));
        }
        v
    }

    pub fn actions_detailed(&self) -> Vec<response::PlannedAction> {
        let mut v = self.p.responder.actions.clone();
        for a in &mut v {
            a.incident_id = self.p.analyst.resolve(&a.incident_id);
        }
        v
    }

    fn action_lines(&self, incident_id: &str) -> Vec<String> {
        self.p
            .responder
            .actions
            .iter()
            .filter(|a| self.p.analyst.resolve(&a.incident_id) == incident_id)
            .take(10)
            .map(|a| a.describe())
            .collect()
    }

    /// Computes the metrics an event would get now, without learning from it or running models.
    pub fn metrics_for(&self, ev: &Event) -> Metrics {
        let f = Features::of(ev);
        let ctx = self.context(&f);
        metrics::compute(ev, &f, &self.p.state, &self.cfg.state, &ctx)
    }

    fn context(&self, f: &Features) -> Context {
        Context {
            account_breach_score_24h: f
                .account
                .as_deref()
                .map_or(0.0, |a| self.p.runtime.max_recent_score(a, f.t, DAY)),
        }
    }

    /// Scores one event against what was known before it, then learns from it.
    pub fn process(&mut self, ev: &Event) -> EngineOutput {
        self.p.events += 1;
        if ev.linked_to.is_some() {
            // The same logon as an event already processed under another id: count it once.
            return EngineOutput::default();
        }
        let f = Features::of(ev);
        let ctx = self.context(&f);
        let m = metrics::compute(ev, &f, &self.p.state, &self.cfg.state, &ctx);
        let ents = Entities {
            account: f.account.clone().filter(|a| {
                // message trace rows from outside senders are not about an account of ours
                !matches!(ev.kind, EventKind::MessageTrace(_))
                    || self.p.state.accounts.contains_key(a)
            }),
            ip: f.ip.map(|i| format!("ip:{i}")),
            app: f.app.as_ref().map(|a| format!("app:{a}")),
        };
        let fires = self
            .p
            .runtime
            .feed_event(&self.models, ev.kind.name(), &m, f.t, &ents, &ev.id);
        let mut out = EngineOutput::default();
        let mut touched: Vec<usize> = Vec::new();
        for fire in fires {
            self.apply_fire(ev, &f, &m, fire, &mut out, &mut touched);
        }

        // Phishing chain and incident timelines.
        if let EventKind::MessageTrace(mt) = &ev.kind {
            if let (Some(s), Some(r)) = (&f.account, &mt.recipient) {
                if self
                    .p
                    .state
                    .org
                    .is_internal_address(&r.address, &self.cfg.state)
                {
                    self.p.analyst.on_mail(s, &r.address, f.t);
                }
            }
        }
        if let Some(a) = &f.account {
            let what = match &ev.kind {
                EventKind::InboxRule(r) => Some(format!(
                    "inbox rule \"{}\" {:?}",
                    r.rule_name.as_deref().unwrap_or(""),
                    r.change
                )),
                EventKind::AppConsent(c) => Some(format!(
                    "consent to {} ({})",
                    c.app_name.as_deref().or(c.app_id.as_deref()).unwrap_or("?"),
                    c.scopes.iter().map(|s| &**s).collect::<Vec<_>>().join(" ")
                )),
                EventKind::FileActivity(fa) => Some(format!(
                    "file {:?}: {}",
                    fa.operation,
                    fa.file_name
                        .as_deref()
                        .or(fa.object_url.as_deref())
                        .unwrap_or("?")
                )),
                EventKind::MailboxForwarding(_) => Some("mailbox forwarding changed".into()),
                EventKind::AccountSecurity(s) => Some(format!("security change {:?}", s.change)),
                EventKind::SignIn(s) if out.breaches.is_empty() => {
                    let inc = self.p.analyst.incident_of(a);
                    let from_infra =
                        inc.is_some_and(|i| f.ip.is_some_and(|ip| i.ips.contains(&ip.to_string())));
                    from_infra.then(|| {
                        format!(
                            "{} sign-in from attacker IP {}",
                            if s.succeeded { "successful" } else { "failed" },
                            f.ip.map(|i| i.to_string()).unwrap_or_default()
                        )
                    })
                }
                _ => None,
            };
            if let Some(w) = what {
                if !out
                    .breaches
                    .iter()
                    .any(|b| b.event_ids.contains(&ev.id.to_string()))
                {
                    self.p.analyst.on_key_event(a, ev.time, w, &ev.id);
                }
            }
        }

        self.p.state.learn(ev, &f, &self.cfg.state);

        touched.sort_unstable();
        touched.dedup();
        for i in touched {
            let inc = &self.p.analyst.incidents[i];
            if inc.visible && inc.merged_into.is_none() {
                let mut inc = inc.clone();
                inc.resummarise(&self.action_lines(&inc.id));
                out.incidents.push(inc.to_report());
            }
        }
        out
    }

    fn apply_fire(
        &mut self,
        ev: &Event,
        f: &Features,
        m: &Metrics,
        fire: Fire,
        out: &mut EngineOutput,
        touched: &mut Vec<usize>,
    ) {
        let model = &self.models[fire.model];
        let time = if fire.t == f.t {
            ev.time
        } else {
            to_time(fire.t)
        };
        if !fire.new {
            // A repeat within the cooldown: add the record, raise the score.
            if let Some(&i) = self.p.breach_index.get(&fire.id) {
                let sb = &mut self.p.breaches[i];
                let mut changed = false;
                if fire.on_event
                    && sb.breach.event_ids.len() < MAX_EVENT_IDS
                    && !sb.breach.event_ids.iter().any(|x| **x == *ev.id)
                {
                    sb.breach.event_ids.push(ev.id.to_string());
                    changed = true;
                }
                if fire.score > sb.breach.score {
                    sb.breach.score = fire.score;
                    changed = true;
                }
                if changed {
                    let b = sb.breach.clone();
                    let meta = sb.meta.clone();
                    let idx = self.p.analyst.on_breach(
                        &b,
                        &meta,
                        fire.t,
                        self.cfg.incident_min_score,
                        false,
                    );
                    touched.push(idx);
                    out.breaches.push(b);
                }
            }
            return;
        }

        // Metrics and reason.
        let mut metrics = BTreeMap::new();
        let mut reason;
        let mut event_ids: Vec<String> = Vec::new();
        let account = if fire.entity.contains('@') {
            Some(fire.entity.clone())
        } else {
            f.account.clone()
        };
        let mut meta = BreachMeta {
            model: model.name.clone(),
            unusual_login: model.unusual_login,
            account,
            ..BreachMeta::default()
        };
        if fire.on_event {
            let mut names = model.referenced_metrics();
            for extra in [
                "ip",
                "country",
                "asn",
                "ua_family",
                "app_name",
                "rule_name",
                "ip_org_accounts",
            ] {
                if !names.contains(&extra) {
                    names.push(extra);
                }
            }
            for n in &names {
                if let Some(x) = m.get(n) {
                    metrics.insert(
                        n.to_string(),
                        vigil_report::Metric {
                            value: x.value.to_json(),
                            baseline: x
                                .baseline
                                .as_ref()
                                .map_or(serde_json::Value::Null, |b| b.to_json()),
                        },
                    );
                }
            }
            let mut order: Vec<&str> = model.explain.clone();
            for n in model.referenced_metrics() {
                if !order.contains(&n) {
                    order.push(n);
                }
            }
            let phrases: Vec<String> = order
                .iter()
                .filter_map(|n| m.get(n).and_then(|x| x.text.clone()))
                .collect();
            let joined = join_phrases(phrases);
            reason = match &model.reason {
                Some(t) if joined.is_empty() => render(t, m),
                Some(t) => format!("{}; {joined}", render(t, m)),
                None if joined.is_empty() => model.description.to_lowercase(),
                None => joined,
            };
            event_ids.push(ev.id.to_string());
            event_ids.extend(ev.alias_ids.iter().map(|x| x.to_string()));
            let num = |n: &str| m.get(n).and_then(|x| x.value.as_f64());
            let ip_k = num("ip_org_accounts").unwrap_or(f64::MAX);
            let prefix_k = num("prefix_org_accounts").unwrap_or(f64::MAX);
            let asn_k = num("asn_org_accounts").unwrap_or(f64::MAX);
            meta.ip = f.ip.filter(|_| !f.ip_internal).map(|i| i.to_string());
            meta.ip_rare = ip_k <= 3.0;
            meta.prefix = f.prefix.clone().filter(|_| !f.ip_internal);
            meta.prefix_rare = prefix_k <= 3.0 && asn_k <= 3.0;
            meta.country = f.country.map(|c| c.as_str().to_string());
            meta.asn = f.asn;
            meta.app = f.app_name.clone().or(f.app.clone());
            // A Microsoft first-party app is rare only because few grant it explicitly; it is
            // never attacker infrastructure that links accounts.
            let first_party = [&f.app, &f.app_name]
                .iter()
                .any(|a| a.as_deref().is_some_and(util::is_first_party_app));
            meta.app_rare = !first_party && num("app_org_accounts").is_some_and(|k| k <= 3.0);
        } else {
            reason = String::new();
        }
        if !fire.steps.is_empty() {
            let steps: Vec<String> = fire
                .steps
                .iter()
                .map(|s| format!("{} at {}", s.what, to_time(s.t).format("%m-%d %H:%M")))
                .collect();
            let lead = match &model.kind {
                model::ModelKind::Accumulate { window, .. } => format!(
                    "{} models breached within {}",
                    fire.steps.len(),
                    util::fmt_num(*window as f64 / 60.0) + "h"
                ),
                _ => model.description.to_lowercase(),
            };
            let seq = format!("{lead}: {}", steps.join(", then "));
            reason = if reason.is_empty() || !fire.on_event {
                seq
            } else {
                format!("{seq}; {reason}")
            };
            for s in &fire.steps {
                if let Some(e) = &s.event_id {
                    if !event_ids.contains(e) {
                        event_ids.push(e.clone());
                    }
                }
                if let Some(bid) = &s.breach_id {
                    if let Some(&i) = self.p.breach_index.get(bid) {
                        let prev = &self.p.breaches[i];
                        for e in &prev.breach.event_ids {
                            if !event_ids.contains(e) && event_ids.len() < MAX_EVENT_IDS {
                                event_ids.push(e.clone());
                            }
                        }
                        // Inherit infrastructure from the steps.
                        if meta.ip.is_none() {
                            meta.ip = prev.meta.ip.clone();
                            meta.ip_rare = prev.meta.ip_rare;
                            meta.prefix = prev.meta.prefix.clone();
                            meta.prefix_rare = prev.meta.prefix_rare;
                            meta.country = prev.meta.country.clone();
                            meta.asn = prev.meta.asn;
                        }
                    }
                }
            }
            metrics.insert(
                "steps".to_string(),
                vigil_report::Metric {
                    value: fire.steps.len().into(),
                    baseline: match &model.kind {
                        model::ModelKind::Sequence { steps, .. } => steps.len().into(),
                        model::ModelKind::Accumulate { min_models, .. } => (*min_models).into(),
                        _ => serde_json::Value::Null,
                    },
                },
            );
        }
        meta.reason = reason.clone();
        let breach = Breach {
            id: fire.id.clone(),
            model: model.name.clone(),
            score: (fire.score * 10.0).round() / 10.0,
            time,
            entity: fire.entity.clone(),
            event_ids,
            reason,
            metrics,
        };
        let idx =
            self.p
                .analyst
                .on_breach(&breach, &meta, fire.t, self.cfg.incident_min_score, true);
        touched.push(idx);
        let incident_id = self.p.analyst.incidents[idx].id.clone();
        let rule = m.get("rule_name").map(|x| x.value.display());
        let forwarding = matches!(ev.kind, EventKind::MailboxForwarding(_));
        let actions = self.p.responder.plan(
            &self.cfg.response,
            model.response.as_ref(),
            &BreachForResponse {
                breach_id: &breach.id,
                model: &model.name,
                score: breach.score,
                time,
                account: meta.account.as_deref(),
                ip: meta.ip.as_deref(),
                rule: if fire.on_event { rule.as_deref() } else { None },
                forwarding: fire.on_event && forwarding,
                app: meta.app.as_deref(),
                incident_id: &incident_id,
            },
        );
        out.actions.extend(actions.iter().map(|a| a.to_report()));
        self.p
            .breach_index
            .insert(breach.id.clone(), self.p.breaches.len());
        out.breaches.push(breach.clone());
        self.p.breaches.push(StoredBreach { breach, meta });
    }

    /// Everything found so far, in the report's types (incident ids resolved after merges).
    pub fn finish(&self) -> Findings {
        let breaches = self.p.breaches.iter().map(|b| b.breach.clone()).collect();
        let incidents = self
            .incidents_detailed()
            .iter()
            .map(|i| i.to_report())
            .collect();
        let actions = self
            .actions_detailed()
            .iter()
            .map(|a| a.to_report())
            .collect();
        Findings {
            breaches,
            incidents,
            actions,
        }
    }

    /// Fills a report's breaches, incidents and actions.
    pub fn fill_report(&self, report: &mut vigil_report::Report) {
        let f = self.finish();
        report.breaches = f.breaches;
        report.incidents = f.incidents;
        report.actions = f.actions;
    }

    /// Serialises the whole engine state (not the models or configuration).
    pub fn snapshot(&self) -> Vec<u8> {
        serde_json::to_vec(&self.p).expect("engine state serialises")
    }

    /// An engine with `cfg`'s models and the state of a snapshot.
    pub fn restore(cfg: EngineConfig, bytes: &[u8]) -> Result<Engine, RestoreError> {
        let p: Persisted =
            serde_json::from_slice(bytes).map_err(|e| RestoreError::Corrupt(e.to_string()))?;
        if p.format != SNAPSHOT_FORMAT {
            return Err(RestoreError::Format(p.format));
        }
        let mut e = Engine::new(cfg)?;
        e.p = p;
        Ok(e)
    }

    /// Events processed.
    pub fn events(&self) -> u64 {
        self.p.events
    }
}

/// A snapshot that cannot be restored.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("snapshot is not readable: {0}")]
    Corrupt(String),
    #[error("snapshot format {0} is not supported")]
    Format(u32),
    #[error(transparent)]
    Model(#[from] ModelError),
}
