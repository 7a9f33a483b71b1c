//! Microsoft Graph sign-ins (`/auditLogs/signIns`), interactive and non-interactive.
//!
//! Each event type is listed in `createdDateTime` windows (`ge` start, `lt` end), following
//! `@odata.nextLink`. Graph lists newest first, so a window is read completely and delivered
//! sorted by time. Sign-ins can appear a few minutes after their `createdDateTime`; the next
//! window therefore starts an overlap before the last one ended, and ids already delivered
//! inside the overlap are skipped. `signInEventTypes` is a beta property: the default API
//! version is `beta` (with `v1.0`, only interactive sign-ins are listed and no event-type filter
//! is sent).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::client::{scope, Api, ApiError, Call, RequestBudget, RetryPolicy, TokenSource};
use crate::{
    iso_time, lag_of, load_checkpoint, parse_time, save_checkpoint, Batch, Clock, Lag, PollReport,
    SourceKind, WindowCursor,
};

/// Settings of the sign-in collector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignInConfig {
    pub enabled: bool,
    /// `interactiveUser`, `nonInteractiveUser` (also `servicePrincipal`,
    /// `managedIdentity`).
    pub event_types: Vec<String>,
    /// `beta` (needed for non-interactive sign-ins) or `v1.0`.
    pub api_version: String,
    /// Window length in minutes.
    pub window_minutes: i64,
    /// Re-listed span before the last window's end, in minutes (covers late sign-ins).
    pub overlap_minutes: i64,
    /// `$top`: records per page (Graph allows up to 1000).
    pub page_size: u32,
    /// Where the first run starts; default 24 hours ago.
    pub start: Option<DateTime<Utc>>,
    /// Windows per event type per poll at most (catching up after downtime goes on next poll).
    pub max_windows_per_poll: usize,
    /// Request budget per minute. Graph throttles its reporting APIs (sign-ins among them) far
    /// harder than the rest of Graph; pacing below it avoids 429s instead of waiting them out.
    pub requests_per_minute: u32,
    pub retry: RetryPolicy,
}

impl Default for SignInConfig {
    fn default() -> Self {
        SignInConfig {
            enabled: true,
            event_types: vec!["interactiveUser".into(), "nonInteractiveUser".into()],
            api_version: "beta".into(),
            window_minutes: 60,
            overlap_minutes: 15,
            page_size: 1000,
            start: None,
            max_windows_per_poll: 24,
            requests_per_minute: 60,
            retry: RetryPolicy::default(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SignInCheckpoint {
    pub event_types: BTreeMap<String, WindowCursor>,
}

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow, default)]
    value: Vec<&'a RawValue>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

#[derive(Deserialize)]
struct IdAndTime {
    #[serde(default)]
    id: Option<String>,
    #[serde(rename = "createdDateTime", default)]
    created: Option<String>,
}

pub struct SignInCollector {
    api: Api,
    graph: String,
    cfg: SignInConfig,
    clock: Clock,
    checkpoint_path: PathBuf,
    state: SignInCheckpoint,
}

impl SignInCollector {
    pub fn new(
        tokens: Arc<TokenSource>,
        graph_endpoint: &str,
        cfg: SignInConfig,
        clock: Clock,
        checkpoint_path: PathBuf,
    ) -> std::io::Result<SignInCollector> {
        Ok(SignInCollector {
            api: Api {
                http: crate::client::http_client(),
                tokens,
                scope: scope::GRAPH,
                retry: cfg.retry.clone(),
                budget: Some(Arc::new(RequestBudget::per_minute(cfg.requests_per_minute))),
            },
            graph: graph_endpoint.trim_end_matches('/').to_string(),
            state: load_checkpoint(&checkpoint_path)?,
            cfg,
            clock,
            checkpoint_path,
        })
    }

    pub fn checkpoint(&self) -> &SignInCheckpoint {
        &self.state
    }

    pub fn save_checkpoint(&self) -> std::io::Result<()> {
        save_checkpoint(&self.checkpoint_path, &self.state)
    }

    pub fn lag(&self) -> Vec<Lag> {
        let now = self.clock.now();
        self.cfg
            .event_types
            .iter()
            .map(|t| {
                let newest = self.state.event_types.get(t).and_then(|c| c.newest_record);
                lag_of(SourceKind::SignIns, t, newest, now)
            })
            .collect()
    }

    fn first_url(&self, event_type: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
        let mut filter = format!(
            "createdDateTime ge {} and createdDateTime lt {}",
            iso_time(start),
            iso_time(end)
        );
        if self.cfg.api_version != "v1.0" {
            filter.push_str(&format!(
                " and signInEventTypes/any(t: t eq '{event_type}')"
            ));
        }
        let mut u = url::Url::parse(&format!(
            "{}/{}/auditLogs/signIns",
            self.graph, self.cfg.api_version
        ))
        .unwrap_or_else(|_| url::Url::parse("http://invalid.invalid/").expect("valid"));
        u.query_pairs_mut()
            .append_pair("$filter", &filter)
            .append_pair("$top", &self.cfg.page_size.clamp(1, 1000).to_string());
        u.to_string()
    }

    /// Lists and delivers what is new, one batch per window and event type.
    pub async fn poll(&mut self, deliver: &mut (dyn FnMut(Batch) + Send)) -> PollReport {
        let mut report = PollReport::default();
        let types = if self.cfg.api_version == "v1.0" {
            vec!["interactiveUser".to_string()]
        } else {
            self.cfg.event_types.clone()
        };
        for t in &types {
            if let Err(e) = self.poll_type(t, deliver, &mut report).await {
                report.errors.push(format!("sign-ins {t}: {e}"));
            }
        }
        report
    }

    async fn poll_type(
        &mut self,
        event_type: &str,
        deliver: &mut (dyn FnMut(Batch) + Send),
        report: &mut PollReport,
    ) -> Result<(), ApiError> {
        let now = self.clock.now();
        let overlap = Duration::minutes(self.cfg.overlap_minutes.max(0));
        let window = Duration::minutes(self.cfg.window_minutes.max(1));
        let initial = self.cfg.start.unwrap_or(now - Duration::hours(24));
        let cursor = self
            .state
            .event_types
            .entry(event_type.to_string())
            .or_default();
        let mut start = cursor.next_start(overlap, initial, DateTime::<Utc>::MIN_UTC);
        let mut windows = 0;
        while start < now && windows < self.cfg.max_windows_per_poll.max(1) {
            windows += 1;
            let end = (start + window).min(now);
            let mut url = self.first_url(event_type, start, end);
            let seen = &self
                .state
                .event_types
                .entry(event_type.to_string())
                .or_default()
                .seen;
            let mut items: Vec<(DateTime<Utc>, String, String)> = Vec::new();
            loop {
                report.requests += 1;
                let resp = self.api.send(&Call::get(&url)).await?;
                let page: Page<'_> =
                    serde_json::from_str(&resp.body).map_err(|e| ApiError::Status {
                        method: "GET".into(),
                        url: url.clone(),
                        status: resp.status,
                        code: String::new(),
                        message: format!("unreadable sign-in page: {e}"),
                        retriable: true,
                        retry_after: None,
                    })?;
                for raw in page.value {
                    let key: IdAndTime = serde_json::from_str(raw.get()).unwrap_or(IdAndTime {
                        id: None,
                        created: None,
                    });
                    let t = key.created.as_deref().and_then(parse_time).unwrap_or(start);
                    // Records without an id are keyed by their text, so repeats still match.
                    let id = key.id.unwrap_or_else(|| content_key(raw.get()));
                    if !seen.contains_key(&id) {
                        items.push((t, id, raw.get().to_string()));
                    }
                }
                match page.next_link {
                    Some(next) if !next.is_empty() => url = next,
                    _ => break,
                }
            }
            items.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            let fetched_at = std::time::Instant::now();
            let newest = items.last().map(|i| i.0);
            let mut body = String::from("[");
            for (i, (_, _, raw)) in items.iter().enumerate() {
                if i > 0 {
                    body.push(',');
                }
                body.push_str(raw);
            }
            body.push(']');
            report.batches += 1;
            report.records += items.len();
            deliver(Batch {
                source: SourceKind::SignIns,
                name: format!("signIns/{event_type}/{}", iso_time(start)),
                body,
                records: items.len(),
                fetched_at,
                newest_record: newest,
            });
            let keys: Vec<(String, DateTime<Utc>)> =
                items.into_iter().map(|(t, id, _)| (id, t)).collect();
            let cursor = self
                .state
                .event_types
                .entry(event_type.to_string())
                .or_default();
            cursor.commit_items(&keys, newest);
            cursor.commit_window(end, overlap);
            start = end;
        }
        Ok(())
    }
}

/// A stable key for a record without an id.
pub(crate) fn content_key(raw: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, raw.as_bytes());
    d.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
