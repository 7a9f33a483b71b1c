//! Models: declarative TOML files, validated at load, with inline test cases. See docs/models.md.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use vigil_report::ActionMode;

use crate::expr::{self, Expr};
use crate::metrics::{metric_def, Metric, Metrics, Value};
use crate::util::{parse_duration_min, Min, DAY, HOUR};

/// The built-in library, embedded at build time.
pub const BUILTIN: &[(&str, &str)] = &[
    ("access.toml", include_str!("../models/access.toml")),
    ("compliance.toml", include_str!("../models/compliance.toml")),
    ("compromise.toml", include_str!("../models/compromise.toml")),
    ("admin.toml", include_str!("../models/admin.toml")),
    ("email.toml", include_str!("../models/email.toml")),
    ("data.toml", include_str!("../models/data.toml")),
    ("multiple.toml", include_str!("../models/multiple.toml")),
];

/// A model file that does not load, with where.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ModelError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Event kinds a model may name in `on`.
pub const EVENT_KINDS: &[&str] = &[
    "sign_in",
    "inbox_rule",
    "mailbox_forwarding",
    "transport_rule",
    "app_consent",
    "service_principal",
    "mail_send",
    "mail_items_accessed",
    "mail_delete",
    "file_activity",
    "account_security",
    "role_membership",
    "message_trace",
    "generic",
];

/// Response action kinds.
pub const ACTION_KINDS: &[&str] = &[
    "disable_user",
    "revoke_sessions",
    "remove_inbox_rule",
    "revoke_oauth_grant",
    "block_ip",
];

/// What a breach is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntityKind {
    Account,
    Ip,
    App,
}

/// A score addition when a condition holds.
#[derive(Clone, Debug)]
pub struct Boost {
    pub cond: Expr,
    pub add: f64,
}

/// An event step of a sequence, or a breach step.
#[derive(Clone, Debug)]
pub struct Step {
    pub on: Vec<String>,
    pub when: Vec<Expr>,
    /// Breach model names (a trailing `*` matches a prefix).
    pub breach: Vec<String>,
    pub min_score: f64,
    pub count: u32,
}

impl Step {
    pub(crate) fn matches(&self, input: &Input<'_>) -> bool {
        match input {
            Input::Event { kind, metrics, .. } => {
                self.breach.is_empty()
                    && (self.on.is_empty() || self.on.iter().any(|k| k == kind))
                    && self.when.iter().all(|e| e.eval(metrics))
            }
            Input::Breach { model, score, .. } => {
                !self.breach.is_empty()
                    && *score >= self.min_score
                    && self.breach.iter().any(|p| name_matches(p, model))
            }
        }
    }
}

pub fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// The kinds of model.
#[derive(Clone, Debug)]
pub enum ModelKind {
    /// Conditions on the metrics of one event.
    Condition { on: Vec<String>, when: Vec<Expr> },
    /// Ordered steps by the same entity within `within`; optionally "and then nothing" for `for`.
    Sequence {
        steps: Vec<Step>,
        within: Min,
        absent: Option<(Step, Min)>,
        inherit: bool,
    },
    /// Breach scores of one entity accumulated over a window.
    Accumulate {
        window: Min,
        include: Vec<String>,
        exclude: Vec<String>,
        min_models: u32,
        min_total: f64,
    },
}

/// Response policy of a model.
#[derive(Clone, Debug, PartialEq)]
pub struct ResponsePolicy {
    pub actions: Vec<String>,
    pub autonomy: ActionMode,
    pub min_score: f64,
    pub duration: Min,
}

/// An inline test case.
#[derive(Clone, Debug)]
pub struct TestCase {
    pub name: String,
    pub inputs: Vec<TestInput>,
    pub expect_breach: bool,
    pub min_score: f64,
    pub max_score: f64,
    pub line: usize,
}

#[derive(Clone, Debug)]
pub struct TestInput {
    pub at: Min,
    pub kind: String,
    pub metrics: Metrics,
    pub breach: Option<(String, f64)>,
}

/// One loaded model.
#[derive(Clone, Debug)]
pub struct Model {
    pub name: String,
    pub version: u32,
    pub description: String,
    pub entity: EntityKind,
    pub kind: ModelKind,
    pub score: f64,
    pub boosts: Vec<Boost>,
    pub cooldown: Min,
    /// Don't fire while the organisation is still learning.
    pub requires_baseline: bool,
    /// Metrics whose phrases make the reason, in order.
    pub explain: Vec<&'static str>,
    pub reason: Option<String>,
    /// Breaches of this model count as an unusual login for the analyst (phishing-chain links).
    pub unusual_login: bool,
    pub response: Option<ResponsePolicy>,
    pub tests: Vec<TestCase>,
    pub file: String,
    pub line: usize,
}

impl Model {
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            ModelKind::Condition { .. } => "condition",
            ModelKind::Sequence { .. } => "sequence",
            ModelKind::Accumulate { .. } => "accumulate",
        }
    }

    /// Metrics a breach of this model reports.
    pub fn referenced_metrics(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        let add = |e: &Expr, v: &mut Vec<&'static str>| e.metrics(v);
        match &self.kind {
            ModelKind::Condition { when, .. } => when.iter().for_each(|e| add(e, &mut v)),
            ModelKind::Sequence { steps, .. } => steps
                .iter()
                .flat_map(|s| s.when.iter())
                .for_each(|e| add(e, &mut v)),
            ModelKind::Accumulate { .. } => {}
        }
        self.boosts.iter().for_each(|b| add(&b.cond, &mut v));
        for e in &self.explain {
            if !v.contains(e) {
                v.push(e);
            }
        }
        v
    }

    /// Score from the base and the boosts that hold.
    pub fn score_for(&self, m: &Metrics) -> f64 {
        let s = self.score
            + self
                .boosts
                .iter()
                .filter(|b| b.cond.eval(m))
                .map(|b| b.add)
                .sum::<f64>();
        s.clamp(0.0, 100.0)
    }
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    model: Vec<Spanned<RawModel>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    name: Spanned<String>,
    #[serde(default = "one")]
    version: u32,
    #[serde(default)]
    description: String,
    kind: Spanned<String>,
    #[serde(default)]
    entity: Option<Spanned<String>>,
    #[serde(default)]
    on: Vec<Spanned<String>>,
    #[serde(default)]
    when: Vec<Spanned<String>>,
    #[serde(default)]
    score: f64,
    #[serde(default)]
    boost: Vec<RawBoost>,
    #[serde(default)]
    cooldown: Option<Spanned<String>>,
    #[serde(default = "yes")]
    requires_baseline: bool,
    #[serde(default)]
    explain: Vec<Spanned<String>>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    unusual_login: bool,
    // sequence
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
    #[serde(default)]
    within: Option<Spanned<String>>,
    #[serde(default)]
    then_nothing: Option<Spanned<RawAbsent>>,
    #[serde(default)]
    inherit: bool,
    // accumulate
    #[serde(default)]
    window: Option<Spanned<String>>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    min_models: u32,
    #[serde(default)]
    min_total: f64,
    #[serde(default)]
    response: Option<Spanned<RawResponse>>,
    #[serde(default)]
    test: Vec<Spanned<RawTest>>,
}

fn one() -> u32 {
    1
}
fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBoost {
    #[serde(rename = "if")]
    cond: Spanned<String>,
    add: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    #[serde(default)]
    on: Vec<Spanned<String>>,
    #[serde(default)]
    when: Vec<Spanned<String>>,
    #[serde(default)]
    breach: Vec<String>,
    #[serde(default)]
    min_score: f64,
    #[serde(default = "one")]
    count: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAbsent {
    #[serde(default)]
    on: Vec<Spanned<String>>,
    #[serde(default)]
    when: Vec<Spanned<String>>,
    #[serde(rename = "for")]
    for_: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResponse {
    actions: Vec<Spanned<String>>,
    #[serde(default)]
    autonomy: Option<Spanned<String>>,
    #[serde(default)]
    min_score: f64,
    #[serde(default)]
    duration: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    name: String,
    #[serde(default)]
    metrics: Option<toml::Table>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    inputs: Vec<RawTestInput>,
    expect: String,
    #[serde(default)]
    min_score: f64,
    #[serde(default = "hundred")]
    max_score: f64,
}

fn hundred() -> f64 {
    100.0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTestInput {
    #[serde(default)]
    at: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metrics: Option<toml::Table>,
    #[serde(default)]
    breach: Option<String>,
    #[serde(default)]
    score: Option<f64>,
}

struct Ctx<'a> {
    file: &'a str,
    src: &'a str,
}

impl Ctx<'_> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> ModelError {
        let (line, column) = line_col(self.src, span.start);
        ModelError {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
        }
    }
    fn cond(&self, s: &Spanned<String>) -> Result<Expr, ModelError> {
        expr::parse(s.get_ref())
            .map_err(|e| self.err(s.span(), format!("in condition `{}`: {e}", s.get_ref())))
    }
    fn conds(&self, v: &[Spanned<String>]) -> Result<Vec<Expr>, ModelError> {
        v.iter().map(|s| self.cond(s)).collect()
    }
    fn kinds(&self, v: &[Spanned<String>]) -> Result<Vec<String>, ModelError> {
        v.iter()
            .map(|k| {
                if EVENT_KINDS.contains(&k.get_ref().as_str()) {
                    Ok(k.get_ref().clone())
                } else {
                    Err(self.err(
                        k.span(),
                        format!(
                            "unknown event kind `{}` (one of: {})",
                            k.get_ref(),
                            EVENT_KINDS.join(", ")
                        ),
                    ))
                }
            })
            .collect()
    }
    fn duration(&self, s: &Spanned<String>) -> Result<Min, ModelError> {
        parse_duration_min(s.get_ref())
            .filter(|d| *d > 0)
            .ok_or_else(|| {
                self.err(
                    s.span(),
                    format!("bad duration `{}` (write 90s, 15m, 8h, 7d)", s.get_ref()),
                )
            })
    }
}

fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    (line, col)
}

fn metrics_from_table(
    ctx: &Ctx<'_>,
    span: Range<usize>,
    t: &toml::Table,
) -> Result<Metrics, ModelError> {
    let mut m = Metrics::default();
    for (k, v) in t {
        let def = metric_def(k)
            .ok_or_else(|| ctx.err(span.clone(), format!("test names unknown metric `{k}`")))?;
        let value = match v {
            toml::Value::Boolean(b) => Value::Bool(*b),
            toml::Value::Integer(i) => Value::Num(*i as f64),
            toml::Value::Float(x) => Value::Num(*x),
            toml::Value::String(s) => Value::Str(s.clone()),
            _ => {
                return Err(ctx.err(
                    span.clone(),
                    format!("test metric `{k}` must be a bool, number or string"),
                ))
            }
        };
        m.map.insert(
            def.name,
            Metric {
                value,
                baseline: None,
                text: None,
            },
        );
    }
    Ok(m)
}

/// Loads the models of one TOML file.
pub fn load_str(file: &str, src: &str) -> Result<Vec<Model>, ModelError> {
    let ctx = Ctx { file, src };
    let raw: RawFile = toml::from_str(src)
        .map_err(|e| ctx.err(e.span().unwrap_or(0..0), e.message().trim().to_string()))?;
    let mut out = Vec::new();
    for rm in raw.model {
        let span = rm.span();
        let rm = rm.into_inner();
        let name = rm.name.get_ref().trim().to_string();
        if name.is_empty() {
            return Err(ctx.err(rm.name.span(), "model name is empty"));
        }
        let entity = match rm.entity.as_ref().map(|e| e.get_ref().as_str()) {
            None | Some("account") => EntityKind::Account,
            Some("ip") => EntityKind::Ip,
            Some("app") => EntityKind::App,
            Some(other) => {
                return Err(ctx.err(
                    rm.entity.as_ref().map_or(span.clone(), |e| e.span()),
                    format!("unknown entity `{other}` (account, ip or app)"),
                ))
            }
        };
        if !(0.0..=100.0).contains(&rm.score) {
            return Err(ctx.err(
                span.clone(),
                format!("score {} is outside 0..100", rm.score),
            ));
        }
        let kind = match rm.kind.get_ref().as_str() {
            "condition" => {
                if rm.when.is_empty() {
                    return Err(ctx.err(rm.kind.span(), "a condition model needs `when`"));
                }
                ModelKind::Condition {
                    on: ctx.kinds(&rm.on)?,
                    when: ctx.conds(&rm.when)?,
                }
            }
            "sequence" => {
                if rm.step.len() < 2 && rm.then_nothing.is_none() {
                    return Err(ctx.err(
                        rm.kind.span(),
                        "a sequence needs at least two `[[model.step]]` (or one and `then_nothing`)",
                    ));
                }
                let within = match &rm.within {
                    Some(w) => ctx.duration(w)?,
                    None => return Err(ctx.err(rm.kind.span(), "a sequence needs `within`")),
                };
                let mut steps = Vec::new();
                for s in &rm.step {
                    let sp = s.span();
                    let s = s.get_ref();
                    if s.breach.is_empty() && s.on.is_empty() && s.when.is_empty() {
                        return Err(ctx.err(sp, "a step needs `breach`, `on` or `when`"));
                    }
                    if !s.breach.is_empty() && (!s.on.is_empty() || !s.when.is_empty()) {
                        return Err(
                            ctx.err(sp, "a step matches either breaches or events, not both")
                        );
                    }
                    steps.push(Step {
                        on: ctx.kinds(&s.on)?,
                        when: ctx.conds(&s.when)?,
                        breach: s.breach.clone(),
                        min_score: s.min_score,
                        count: s.count.max(1),
                    });
                }
                let absent = match &rm.then_nothing {
                    Some(a) => {
                        let a = a.get_ref();
                        Some((
                            Step {
                                on: ctx.kinds(&a.on)?,
                                when: ctx.conds(&a.when)?,
                                breach: Vec::new(),
                                min_score: 0.0,
                                count: 1,
                            },
                            ctx.duration(&a.for_)?,
                        ))
                    }
                    None => None,
                };
                ModelKind::Sequence {
                    steps,
                    within,
                    absent,
                    inherit: rm.inherit,
                }
            }
            "accumulate" => {
                let window = match &rm.window {
                    Some(w) => ctx.duration(w)?,
                    None => return Err(ctx.err(rm.kind.span(), "an accumulation needs `window`")),
                };
                if rm.min_models == 0 && rm.min_total <= 0.0 {
                    return Err(ctx.err(
                        rm.kind.span(),
                        "an accumulation needs `min_models` or `min_total`",
                    ));
                }
                ModelKind::Accumulate {
                    window,
                    include: rm.include.clone(),
                    exclude: rm.exclude.clone(),
                    min_models: rm.min_models,
                    min_total: rm.min_total,
                }
            }
            other => {
                return Err(ctx.err(
                    rm.kind.span(),
                    format!("unknown kind `{other}` (condition, sequence or accumulate)"),
                ))
            }
        };
        let mut boosts = Vec::new();
        for b in &rm.boost {
            boosts.push(Boost {
                cond: ctx.cond(&b.cond)?,
                add: b.add,
            });
        }
        let mut explain = Vec::new();
        for e in &rm.explain {
            explain.push(
                metric_def(e.get_ref())
                    .ok_or_else(|| ctx.err(e.span(), format!("unknown metric `{}`", e.get_ref())))?
                    .name,
            );
        }
        let cooldown = match &rm.cooldown {
            Some(c) => ctx.duration(c)?,
            None => HOUR,
        };
        let response = match &rm.response {
            Some(r) => {
                let sp = r.span();
                let r = r.get_ref();
                let mut actions = Vec::new();
                for a in &r.actions {
                    if !ACTION_KINDS.contains(&a.get_ref().as_str()) {
                        return Err(ctx.err(
                            a.span(),
                            format!(
                                "unknown action `{}` (one of: {})",
                                a.get_ref(),
                                ACTION_KINDS.join(", ")
                            ),
                        ));
                    }
                    actions.push(a.get_ref().clone());
                }
                let autonomy = match r.autonomy.as_ref().map(|a| a.get_ref().as_str()) {
                    None | Some("confirm") => ActionMode::Confirm,
                    Some("autonomous") => ActionMode::Autonomous,
                    Some("off") => ActionMode::Off,
                    Some(other) => {
                        return Err(ctx.err(
                            r.autonomy.as_ref().map_or(sp, |a| a.span()),
                            format!("unknown autonomy `{other}` (autonomous, confirm or off)"),
                        ))
                    }
                };
                Some(ResponsePolicy {
                    actions,
                    autonomy,
                    min_score: r.min_score,
                    duration: match &r.duration {
                        Some(d) => ctx.duration(d)?,
                        None => DAY,
                    },
                })
            }
            None => None,
        };
        let mut tests = Vec::new();
        for t in &rm.test {
            let sp = t.span();
            let (line, _) = line_col(src, sp.start);
            let t = t.get_ref();
            let mut inputs = Vec::new();
            if let Some(m) = &t.metrics {
                inputs.push(TestInput {
                    at: 0,
                    kind: t.kind.clone().unwrap_or_default(),
                    metrics: metrics_from_table(&ctx, sp.clone(), m)?,
                    breach: None,
                });
            }
            for i in &t.inputs {
                let at = match &i.at {
                    Some(a) if a == "0" => 0,
                    Some(a) => parse_duration_min(a)
                        .ok_or_else(|| ctx.err(sp.clone(), format!("bad test time `{a}`")))?,
                    None => 0,
                };
                inputs.push(TestInput {
                    at,
                    kind: i.kind.clone().unwrap_or_default(),
                    metrics: match &i.metrics {
                        Some(m) => metrics_from_table(&ctx, sp.clone(), m)?,
                        None => Metrics::default(),
                    },
                    breach: i.breach.clone().map(|b| (b, i.score.unwrap_or(50.0))),
                });
            }
            if inputs.is_empty() {
                return Err(ctx.err(sp, "a test needs `metrics` or `inputs`"));
            }
            let expect_breach = match t.expect.as_str() {
                "breach" => true,
                "quiet" => false,
                other => {
                    return Err(ctx.err(
                        sp,
                        format!("expect must be \"breach\" or \"quiet\", not `{other}`"),
                    ))
                }
            };
            tests.push(TestCase {
                name: t.name.clone(),
                inputs,
                expect_breach,
                min_score: t.min_score,
                max_score: t.max_score,
                line,
            });
        }
        let (line, _) = line_col(src, span.start);
        out.push(Model {
            name,
            version: rm.version,
            description: rm.description.trim().to_string(),
            entity,
            kind,
            score: rm.score,
            boosts,
            cooldown,
            requires_baseline: rm.requires_baseline,
            explain,
            reason: rm.reason.clone(),
            unusual_login: rm.unusual_login,
            response,
            tests,
            file: file.to_string(),
            line,
        });
    }
    Ok(out)
}

/// Checks a set of models together: unique names, breach references that exist.
pub fn validate_set(models: &[Model]) -> Result<(), ModelError> {
    let mut seen: BTreeMap<&str, &Model> = BTreeMap::new();
    for m in models {
        if let Some(prev) = seen.insert(&m.name, m) {
            return Err(ModelError {
                file: m.file.clone(),
                line: m.line,
                column: 1,
                message: format!(
                    "model `{}` is defined twice (also at {}:{})",
                    m.name, prev.file, prev.line
                ),
            });
        }
    }
    for m in models {
        let refs: Vec<&String> = match &m.kind {
            ModelKind::Sequence { steps, .. } => {
                steps.iter().flat_map(|s| s.breach.iter()).collect()
            }
            ModelKind::Accumulate {
                include, exclude, ..
            } => include.iter().chain(exclude).collect(),
            ModelKind::Condition { .. } => Vec::new(),
        };
        for r in refs {
            if !models.iter().any(|x| name_matches(r, &x.name)) {
                return Err(ModelError {
                    file: m.file.clone(),
                    line: m.line,
                    column: 1,
                    message: format!("model `{}` refers to `{r}`, which matches no model", m.name),
                });
            }
        }
    }
    Ok(())
}

/// The built-in library.
pub fn builtin() -> Result<Vec<Model>, ModelError> {
    let mut all = Vec::new();
    for (file, src) in BUILTIN {
        all.extend(load_str(&format!("models/{file}"), src)?);
    }
    validate_set(&all)?;
    Ok(all)
}

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

/// What a model sees: an event's metrics, or an earlier breach.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Input<'a> {
    Event {
        kind: &'a str,
        metrics: &'a Metrics,
        t: Min,
    },
    Breach {
        model: &'a str,
        score: f64,
        t: Min,
    },
}

impl Input<'_> {
    pub fn t(&self) -> Min {
        match self {
            Input::Event { t, .. } | Input::Breach { t, .. } => *t,
        }
    }
}

/// Result of running one inline test.
#[derive(Clone, Debug, PartialEq)]
pub struct TestOutcome {
    pub model: String,
    pub test: String,
    pub passed: bool,
    pub detail: String,
    pub file: String,
    pub line: usize,
}

/// Runs every inline test of `models`, each model on its own.
pub fn run_tests(models: &[Model]) -> Vec<TestOutcome> {
    let mut out = Vec::new();
    for m in models {
        for t in &m.tests {
            let mut rt = crate::runtime::Runtime::default();
            let single = std::slice::from_ref(m);
            let base: Min = 28_000_000; // an arbitrary event time, minutes since the epoch
            let mut fired: Vec<f64> = Vec::new();
            for inp in &t.inputs {
                let at = base + inp.at;
                let entity = "test@example.com";
                let ents = crate::runtime::Entities {
                    account: Some(entity.into()),
                    ip: Some("ip:192.0.2.1".into()),
                    app: Some("app:test".into()),
                };
                let fires = match &inp.breach {
                    Some((name, score)) => {
                        rt.feed_external_breach(single, name, entity, *score, at)
                    }
                    None => {
                        let kind = if inp.kind.is_empty() {
                            infer_kind(m)
                        } else {
                            &inp.kind
                        };
                        rt.feed_event(single, kind, &inp.metrics, at, &ents, "test")
                    }
                };
                fired.extend(fires.iter().filter(|f| f.new).map(|f| f.score));
            }
            let last = base + t.inputs.iter().map(|i| i.at).max().unwrap_or(0);
            fired.extend(
                rt.advance(single, last + 366 * DAY)
                    .iter()
                    .filter(|f| f.new)
                    .map(|f| f.score),
            );
            let best = fired.iter().copied().fold(f64::NAN, f64::max);
            let passed = if t.expect_breach {
                !fired.is_empty() && best >= t.min_score && best <= t.max_score
            } else {
                fired.is_empty()
            };
            let detail = if fired.is_empty() {
                "no breach".to_string()
            } else {
                format!("breach, score {}", crate::util::fmt_num(best))
            };
            out.push(TestOutcome {
                model: m.name.clone(),
                test: t.name.clone(),
                passed,
                detail,
                file: m.file.clone(),
                line: t.line,
            });
        }
    }
    out
}

fn infer_kind(m: &Model) -> &str {
    match &m.kind {
        ModelKind::Condition { on, .. } => on.first().map_or("generic", |s| s.as_str()),
        _ => "generic",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_library_loads_and_its_tests_pass() {
        let models = builtin().unwrap();
        let outcomes = run_tests(&models);
        let failed: Vec<_> = outcomes.iter().filter(|o| !o.passed).collect();
        assert!(failed.is_empty(), "{failed:#?}");
        assert!(outcomes.len() >= models.len(), "every model has a test");
        for m in &models {
            assert!(!m.tests.is_empty(), "{} has no test", m.name);
        }
    }

    #[test]
    fn errors_point_at_the_line() {
        let src = "[[model]]\nname = \"x\"\nkind = \"condition\"\nwhen = [\"signin_success\",\n  \"no_such_metric > 3\"]\n";
        let e = load_str("f.toml", src).unwrap_err();
        assert_eq!(e.line, 5, "{e}");
        assert!(e.message.contains("unknown metric"), "{e}");

        let src =
            "[[model]]\nname = \"x\"\nkind = \"condition\"\nwhen = [\"signin_success\"]\nfoo = 1\n";
        let e = load_str("f.toml", src).unwrap_err();
        assert_eq!(e.line, 5, "{e}");

        let src = "[[model]]\nname = \"x\"\nkind = \"sequence\"\nwithin = \"8 hours\"\n[[model.step]]\non=[\"sign_in\"]\n[[model.step]]\non=[\"inbox_rule\"]\n";
        let e = load_str("f.toml", src).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("duration"));

        let src = "[[model]]\nname = \"x\"\nkind = \"condition\"\non = [\"signin\"]\nwhen = [\"signin_success\"]\n";
        let e = load_str("f.toml", src).unwrap_err();
        assert_eq!(e.line, 4, "{e}");

        let src = "[[model]]\nname = \"x\"\nkind = \"condition\"\nwhen = [\"signin_success\"]\n[model.response]\nactions = [\"nuke\"]\n";
        let e = load_str("f.toml", src).unwrap_err();
        assert_eq!(e.line, 6, "{e}");

        let src = "[[model]]\nname = \"x\"\nkind = \"condition\"\nwhen = [\"signin_success\"\n";
        assert!(load_str("f.toml", src).is_err());
    }

    #[test]
    fn set_validation_catches_dangling_references() {
        let src = "[[model]]\nname = \"acc\"\nkind = \"accumulate\"\nwindow = \"1d\"\nmin_models = 2\ninclude = [\"Nope / *\"]\n";
        let ms = load_str("f.toml", src).unwrap();
        let e = validate_set(&ms).unwrap_err();
        assert!(e.message.contains("matches no model"), "{e}");
    }

    #[test]
    fn a_failing_inline_test_is_reported() {
        let src = r#"
[[model]]
name = "x"
kind = "condition"
on = ["sign_in"]
when = ["ua_legacy_auth"]
score = 50
[[model.test]]
name = "wrong expectation"
metrics = { ua_legacy_auth = false }
expect = "breach"
"#;
        let ms = load_str("f.toml", src).unwrap();
        let out = run_tests(&ms);
        assert_eq!(out.len(), 1);
        assert!(!out[0].passed);
        assert_eq!(out[0].line, 8);
    }
}
