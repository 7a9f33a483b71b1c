//! The response plan: which actions a breach calls for, with what autonomy, and the event time at
//! which each was (or would have been) taken. Executing them is the connectors' job.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use vigil_event::Timestamp;
use vigil_report::ActionMode;

use crate::model::ResponsePolicy;
use crate::util::{h64, minute, Min};

fn mode_rank(m: ActionMode) -> u8 {
    match m {
        ActionMode::Off => 0,
        ActionMode::Confirm => 1,
        ActionMode::Autonomous => 2,
    }
}

fn mode_min(a: ActionMode, b: ActionMode) -> ActionMode {
    if mode_rank(a) <= mode_rank(b) {
        a
    } else {
        b
    }
}

/// Per-model changes to a model's response policy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyOverride {
    pub autonomy: Option<ActionMode>,
    pub min_score: Option<f64>,
    pub actions: Option<Vec<String>>,
    /// Hours.
    pub duration_hours: Option<u32>,
}

/// Response configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResponseConfig {
    /// Global mode: the most autonomy any action gets. `confirm` by default.
    pub mode: ActionMode,
    /// Optional schedule: autonomy applies only between these UTC hours (start inclusive, end
    /// exclusive; may wrap midnight); outside, autonomous actions need confirmation.
    pub autonomous_hours: Option<[u8; 2]>,
    /// Per model name.
    pub models: BTreeMap<String, PolicyOverride>,
    /// Accounts never disabled (break-glass administrators); actions on them are recorded as off.
    pub protected_accounts: Vec<String>,
}

impl Default for ResponseConfig {
    fn default() -> Self {
        ResponseConfig {
            mode: ActionMode::Confirm,
            autonomous_hours: None,
            models: BTreeMap::new(),
            protected_accounts: Vec::new(),
        }
    }
}

/// A planned action, richer than the report's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedAction {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub time: Timestamp,
    pub mode: ActionMode,
    pub state: String,
    pub incident_id: String,
    pub breach_id: String,
    pub model: String,
    pub expires: Timestamp,
}

impl PlannedAction {
    pub fn to_report(&self) -> vigil_report::Action {
        vigil_report::Action {
            id: self.id.clone(),
            kind: self.kind.clone(),
            target: self.target.clone(),
            time: self.time,
            mode: self.mode,
            state: self.state.clone(),
            incident_id: self.incident_id.clone(),
        }
    }

    pub fn describe(&self) -> String {
        let verb = match self.state.as_str() {
            "planned" => "taken autonomously",
            "pending" => "awaiting confirmation",
            _ => "not taken (mode off), would have been",
        };
        format!(
            "{} {} {} at {}",
            self.kind,
            self.target,
            verb,
            self.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    }
}

/// What the response plan needs to know about a breach.
pub struct BreachForResponse<'a> {
    pub breach_id: &'a str,
    pub model: &'a str,
    pub score: f64,
    pub time: Timestamp,
    pub account: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub rule: Option<&'a str>,
    pub forwarding: bool,
    pub app: Option<&'a str>,
    pub incident_id: &'a str,
}

/// Response plan state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Responder {
    pub actions: Vec<PlannedAction>,
    /// (kind, target) hash → minute until which an equal action is already in force.
    active: FxHashMap<u64, Min>,
}

impl Responder {
    pub fn plan(
        &mut self,
        cfg: &ResponseConfig,
        policy: Option<&ResponsePolicy>,
        b: &BreachForResponse<'_>,
    ) -> Vec<PlannedAction> {
        let mut out = Vec::new();
        let Some(p) = policy else {
            return out;
        };
        let ov = cfg.models.get(b.model);
        let min_score = ov.and_then(|o| o.min_score).unwrap_or(p.min_score);
        if b.score < min_score {
            return out;
        }
        let autonomy = ov.and_then(|o| o.autonomy).unwrap_or(p.autonomy);
        let mut mode = mode_min(cfg.mode, autonomy);
        if let (ActionMode::Autonomous, Some([start, end])) = (mode, cfg.autonomous_hours) {
            let h = (b.time.timestamp().rem_euclid(86_400) / 3600) as u8;
            let inside = if start <= end {
                h >= start && h < end
            } else {
                h >= start || h < end
            };
            if !inside {
                mode = ActionMode::Confirm;
            }
        }
        let duration = ov
            .and_then(|o| o.duration_hours)
            .map_or(p.duration, |h| h * 60);
        let kinds = ov
            .and_then(|o| o.actions.clone())
            .unwrap_or(p.actions.clone());
        let t = minute(&b.time);
        for kind in kinds {
            let target = match kind.as_str() {
                "disable_user" | "revoke_sessions" => b.account.map(str::to_string),
                "remove_inbox_rule" => match (b.account, b.rule, b.forwarding) {
                    (Some(a), Some(r), _) => Some(format!("{a}/inbox-rule/{r}")),
                    (Some(a), None, true) => Some(format!("{a}/mailbox-forwarding")),
                    _ => None,
                },
                "revoke_oauth_grant" => match (b.account, b.app) {
                    (Some(a), Some(app)) => Some(format!("{a}/oauth-grant/{app}")),
                    _ => None,
                },
                "block_ip" => b.ip.map(str::to_string),
                _ => None,
            };
            let Some(target) = target else {
                continue;
            };
            let key = h64(&kind) ^ h64(&target).rotate_left(11);
            if self.active.get(&key).is_some_and(|until| t < *until) {
                continue;
            }
            self.active.insert(key, t.saturating_add(duration));
            let protected = b.account.is_some_and(|a| {
                cfg.protected_accounts
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(a))
            }) && matches!(kind.as_str(), "disable_user" | "revoke_sessions");
            let mode = if protected { ActionMode::Off } else { mode };
            let state = match mode {
                ActionMode::Autonomous => "planned",
                ActionMode::Confirm => "pending",
                ActionMode::Off => "not_taken",
            };
            let a = PlannedAction {
                id: format!("a{}", self.actions.len() + 1),
                kind: kind.clone(),
                target,
                time: b.time,
                mode,
                state: state.to_string(),
                incident_id: b.incident_id.to_string(),
                breach_id: b.breach_id.to_string(),
                model: b.model.to_string(),
                expires: b.time + chrono::Duration::minutes(duration as i64),
            };
            self.actions.push(a.clone());
            out.push(a);
        }
        if self.active.len() > 1 << 16 {
            self.active.retain(|_, until| *until > t);
        }
        out
    }
}
