//! The Office 365 Management Activity API collector.
//!
//! Per content type: start the subscription (once per process, and again after `AF20022` /
//! `AF20023`), list available content from the checkpoint in windows of at most 24 hours
//! (never before the 7-day horizon), follow `NextPageUri`, fetch the blobs concurrently within
//! the request budget and deliver them in `contentCreated` order.
//!
//! Checkpoint: per content type, the end of the last window listed completely and the content
//! ids seen within the overlap before it. The next listing starts an overlap earlier (content
//! is listed by `contentCreated`, which the API only resolves to the second), and ids already
//! seen are skipped, so a restart neither loses nor re-delivers a blob.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::client::{scope, Api, ApiError, Call, RequestBudget, RetryPolicy, TokenSource};
use crate::{
    lag_of, load_checkpoint, manage_time, parse_time, save_checkpoint, Batch, Clock, Lag,
    PollReport, SourceKind, WindowCursor,
};

/// Settings of the Management Activity collector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ManagementConfig {
    pub enabled: bool,
    pub content_types: Vec<String>,
    /// Sent on every request so that throttling counts against this publisher's own quota.
    /// Microsoft asks for the tenant id of the publisher; defaults to the tenant id.
    pub publisher_identifier: Option<String>,
    /// Blob downloads in flight at once.
    pub max_concurrent_fetches: usize,
    /// Request budget per minute across listing and downloads (the service allows about 2000
    /// per tenant and publisher).
    pub requests_per_minute: u32,
    /// How far back the first run starts, in hours (at most the 7-day horizon).
    pub initial_lookback_hours: i64,
    /// Re-listed span before the checkpoint, in minutes.
    pub overlap_minutes: i64,
    /// Blobs delivered per poll at most, so that one poll holds a bounded amount in memory.
    pub max_blobs_per_poll: usize,
    pub retry: RetryPolicy,
}

impl Default for ManagementConfig {
    fn default() -> Self {
        ManagementConfig {
            enabled: true,
            content_types: [
                "Audit.AzureActiveDirectory",
                "Audit.Exchange",
                "Audit.SharePoint",
                "Audit.General",
            ]
            .map(String::from)
            .to_vec(),
            publisher_identifier: None,
            max_concurrent_fetches: 8,
            requests_per_minute: 1800,
            initial_lookback_hours: 24,
            overlap_minutes: 10,
            max_blobs_per_poll: 64,
            retry: RetryPolicy::default(),
        }
    }
}

/// The persisted state: one cursor per content type.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ManagementCheckpoint {
    pub content: BTreeMap<String, WindowCursor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContentEntry {
    content_id: String,
    content_uri: String,
    content_created: String,
}

#[derive(Deserialize)]
struct CreationTimeOnly {
    #[serde(rename = "CreationTime", alias = "creationTime", default)]
    creation_time: Option<String>,
}

/// The Management Activity API's 7-day horizon, less a margin so that a window computed now is
/// still inside it when the request arrives.
const HORIZON: Duration = Duration::days(7);
const HORIZON_MARGIN: Duration = Duration::minutes(5);
const MAX_WINDOW: Duration = Duration::hours(24);

pub struct ManagementCollector {
    api: Api,
    feed: String,
    publisher: String,
    cfg: ManagementConfig,
    clock: Clock,
    checkpoint_path: PathBuf,
    state: ManagementCheckpoint,
    started: HashSet<String>,
    /// Content types whose subscription was disabled, and when to try starting them again.
    disabled_until: HashMap<String, DateTime<Utc>>,
    /// Which content type the next poll starts with: the per-poll blob budget is shared, and
    /// rotating keeps one type's backlog from starving the others.
    next_first: usize,
}

impl ManagementCollector {
    /// A collector resuming from `checkpoint_path` (a missing file is a fresh start).
    pub fn new(
        tokens: Arc<TokenSource>,
        manage_endpoint: &str,
        cfg: ManagementConfig,
        clock: Clock,
        checkpoint_path: PathBuf,
    ) -> std::io::Result<ManagementCollector> {
        let state = load_checkpoint(&checkpoint_path)?;
        let tenant = tokens.tenant_id().to_string();
        let api = Api {
            http: crate::client::http_client(),
            tokens,
            scope: scope::MANAGE,
            retry: cfg.retry.clone(),
            budget: Some(Arc::new(RequestBudget::per_minute(cfg.requests_per_minute))),
        };
        Ok(ManagementCollector {
            api,
            feed: format!(
                "{}/api/v1.0/{tenant}/activity/feed",
                manage_endpoint.trim_end_matches('/')
            ),
            publisher: cfg.publisher_identifier.clone().unwrap_or(tenant),
            cfg,
            clock,
            checkpoint_path,
            state,
            started: HashSet::new(),
            disabled_until: HashMap::new(),
            next_first: 0,
        })
    }

    pub fn checkpoint(&self) -> &ManagementCheckpoint {
        &self.state
    }

    /// Persists the checkpoint (call after persisting what was derived from the batches).
    pub fn save_checkpoint(&self) -> std::io::Result<()> {
        save_checkpoint(&self.checkpoint_path, &self.state)
    }

    /// Lag per content type.
    pub fn lag(&self) -> Vec<Lag> {
        let now = self.clock.now();
        self.cfg
            .content_types
            .iter()
            .map(|ct| {
                let newest = self.state.content.get(ct).and_then(|c| c.newest_record);
                lag_of(SourceKind::ManagementActivity, ct, newest, now)
            })
            .collect()
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> String {
        let mut u = url::Url::parse(&format!("{}/{path}", self.feed))
            .unwrap_or_else(|_| url::Url::parse("http://invalid.invalid/").expect("valid"));
        {
            let mut q = u.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
            q.append_pair("PublisherIdentifier", &self.publisher);
        }
        u.to_string()
    }

    async fn start_subscription(&mut self, ct: &str, report: &mut PollReport) -> bool {
        if self.started.contains(ct) {
            return true;
        }
        let call = Call::new(
            reqwest::Method::POST,
            self.url("subscriptions/start", &[("contentType", ct)]),
        );
        report.requests += 1;
        match self.api.send(&call).await {
            Ok(_) => {}
            // AF20024: already enabled. That is the state we want.
            Err(e) if e.code() == "AF20024" => {}
            Err(e) => {
                report
                    .errors
                    .push(format!("{ct}: cannot start the subscription: {e}"));
                return false;
            }
        }
        self.started.insert(ct.to_string());
        true
    }

    /// Lists, fetches and delivers what is new. Each delivered batch is committed in memory
    /// when `deliver` returns; call [`ManagementCollector::save_checkpoint`] to persist.
    pub async fn poll(&mut self, deliver: &mut (dyn FnMut(Batch) + Send)) -> PollReport {
        let mut report = PollReport::default();
        let mut types = self.cfg.content_types.clone();
        if !types.is_empty() {
            let n = types.len();
            types.rotate_left(self.next_first % n);
            self.next_first = (self.next_first + 1) % n;
        }
        let mut budget = self.cfg.max_blobs_per_poll.max(1);
        for ct in &types {
            let now = self.clock.now();
            if self.disabled_until.get(ct).is_some_and(|t| now < *t) {
                continue;
            }
            if !self.start_subscription(ct, &mut report).await {
                continue;
            }
            match self.poll_type(ct, &mut budget, deliver, &mut report).await {
                Ok(()) => {}
                Err(e) if matches!(e.code(), "AF20022" | "AF20023") => {
                    // The subscription is gone or disabled: start it again, later.
                    self.started.remove(ct);
                    let wait = e.retry_after().unwrap_or(std::time::Duration::from_millis(
                        self.cfg.retry.disabled_subscription_delay_ms,
                    ));
                    let wait = Duration::from_std(wait).unwrap_or(Duration::minutes(5));
                    self.disabled_until.insert(ct.clone(), now + wait);
                    report.errors.push(format!(
                        "{ct}: {e}; starting the subscription again in {}s",
                        wait.num_seconds()
                    ));
                }
                Err(e) => report.errors.push(format!("{ct}: {e}")),
            }
            if budget == 0 {
                break;
            }
        }
        report
    }

    async fn poll_type(
        &mut self,
        ct: &str,
        budget: &mut usize,
        deliver: &mut (dyn FnMut(Batch) + Send),
        report: &mut PollReport,
    ) -> Result<(), ApiError> {
        let now = self.clock.now();
        // The API takes whole seconds. Rounding the end up keeps content created in the current
        // second inside this window; whatever appears later in that second is still within the
        // next listing's overlap.
        let now =
            now - Duration::nanoseconds(now.timestamp_subsec_nanos() as i64) + Duration::seconds(1);
        let overlap = Duration::minutes(self.cfg.overlap_minutes.max(0));
        let floor = now - HORIZON + HORIZON_MARGIN;
        let initial = now - Duration::hours(self.cfg.initial_lookback_hours.clamp(0, 7 * 24));
        let cursor = self.state.content.entry(ct.to_string()).or_default();
        let mut start = cursor.next_start(overlap, initial, floor);
        while start < now && *budget > 0 {
            let end = (start + MAX_WINDOW).min(now);
            let complete = self
                .deliver_window(ct, start, end, budget, deliver, report)
                .await?;
            if !complete {
                return Ok(());
            }
            let cursor = self.state.content.entry(ct.to_string()).or_default();
            cursor.commit_window(end, overlap);
            deliver(Batch {
                source: SourceKind::ManagementActivity,
                name: format!("{ct}/window-until-{}", manage_time(end)),
                body: "[]".into(),
                records: 0,
                fetched_at: std::time::Instant::now(),
                newest_record: None,
            });
            start = end;
        }
        Ok(())
    }

    /// Lists one window and delivers its new blobs; `Ok(false)` when the per-poll budget cut it
    /// short (the rest comes next poll).
    async fn deliver_window(
        &mut self,
        ct: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        budget: &mut usize,
        deliver: &mut (dyn FnMut(Batch) + Send),
        report: &mut PollReport,
    ) -> Result<bool, ApiError> {
        let (s, e) = (manage_time(start), manage_time(end));
        let mut url = self.url(
            "subscriptions/content",
            &[("contentType", ct), ("startTime", &s), ("endTime", &e)],
        );
        let seen = &self.state.content.entry(ct.to_string()).or_default().seen;
        let mut entries: Vec<(DateTime<Utc>, ContentEntry)> = Vec::new();
        loop {
            report.requests += 1;
            let resp = self.api.send(&Call::get(&url)).await?;
            let page: Vec<ContentEntry> =
                serde_json::from_str(&resp.body).map_err(|err| ApiError::Status {
                    method: "GET".into(),
                    url: url.clone(),
                    status: resp.status,
                    code: String::new(),
                    message: format!("unreadable content listing: {err}"),
                    retriable: true,
                    retry_after: None,
                })?;
            for entry in page {
                if seen.contains_key(&entry.content_id) {
                    continue;
                }
                let created = parse_time(&entry.content_created).unwrap_or(start);
                entries.push((created, entry));
            }
            match resp
                .headers
                .get("NextPageUri")
                .and_then(|v| v.to_str().ok())
            {
                Some(next) if !next.is_empty() => url = next.to_string(),
                _ => break,
            }
        }
        entries.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.1.content_id.cmp(&b.1.content_id))
        });
        let complete = entries.len() <= *budget;
        entries.truncate(*budget);
        let last_created = entries.last().map(|e| e.0);
        let api = self.api.clone();
        let publisher = self.publisher.clone();
        let mut fetches = futures::stream::iter(entries.into_iter().map(|(created, entry)| {
            let api = api.clone();
            let url = with_publisher(&entry.content_uri, &publisher);
            async move {
                let r = api.send(&Call::get(&url)).await;
                (created, entry, r, std::time::Instant::now())
            }
        }))
        .buffered(self.cfg.max_concurrent_fetches.max(1));
        while let Some((created, entry, result, fetched_at)) = fetches.next().await {
            report.requests += 1;
            // Stop at the first failure: later blobs are delivered next poll, in order.
            let resp = result?;
            let (records, newest) = count_and_newest(&resp.body);
            *budget -= 1;
            report.batches += 1;
            report.records += records;
            deliver(Batch {
                source: SourceKind::ManagementActivity,
                name: format!("{ct}/{}", entry.content_id),
                body: resp.body,
                records,
                fetched_at,
                newest_record: newest,
            });
            let cursor = self.state.content.entry(ct.to_string()).or_default();
            cursor.commit_items(&[(entry.content_id, created)], newest);
        }
        if let (false, Some(last)) = (complete, last_created) {
            // Everything created before the last delivered blob is delivered (the listing is
            // sorted): the next poll lists from there instead of from the window's start.
            let overlap = Duration::minutes(self.cfg.overlap_minutes.max(0));
            let cursor = self.state.content.entry(ct.to_string()).or_default();
            cursor.commit_window(last, overlap);
        }
        Ok(complete)
    }
}

fn with_publisher(uri: &str, publisher: &str) -> String {
    match url::Url::parse(uri) {
        Ok(mut u) => {
            if !u.query_pairs().any(|(k, _)| k == "PublisherIdentifier") {
                u.query_pairs_mut()
                    .append_pair("PublisherIdentifier", publisher);
            }
            u.to_string()
        }
        Err(_) => uri.to_string(),
    }
}

/// Records in a blob and the newest `CreationTime` (for the lag metric).
fn count_and_newest(body: &str) -> (usize, Option<DateTime<Utc>>) {
    match serde_json::from_str::<Vec<CreationTimeOnly>>(body) {
        Ok(v) => {
            let newest = v
                .iter()
                .filter_map(|r| r.creation_time.as_deref().and_then(parse_time))
                .max();
            (v.len(), newest)
        }
        // Not an array: vigil-sources will say what is wrong with it, record by record.
        Err(_) => (0, None),
    }
}
