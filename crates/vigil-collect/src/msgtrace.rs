//! Message trace from the Reporting Web Service
//! (`/ecp/reportingwebservice/reporting.svc/MessageTrace`).
//!
//! Listed in windows of `StartDate`/`EndDate` (OData `datetime'…'` literals), following the
//! OData `__next` link (a `$skiptoken`). Message trace rows become available with a delay, so a
//! window is only listed once it ended `settle_minutes` ago, and the next window starts an
//! overlap earlier with rows already delivered skipped (rows have no single id: the key is
//! message trace id, recipient and received time).

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::client::{scope, Api, ApiError, Call, RetryPolicy, TokenSource};
use crate::signins::content_key;
use crate::{
    lag_of, load_checkpoint, parse_time, save_checkpoint, Batch, Clock, Lag, PollReport,
    SourceKind, WindowCursor,
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MessageTraceConfig {
    pub enabled: bool,
    pub window_minutes: i64,
    /// How long after a window's end it is first listed (message trace is not instant).
    pub settle_minutes: i64,
    pub overlap_minutes: i64,
    /// Where the first run starts; default 24 hours ago.
    pub start: Option<DateTime<Utc>>,
    pub max_windows_per_poll: usize,
    pub retry: RetryPolicy,
}

impl Default for MessageTraceConfig {
    fn default() -> Self {
        MessageTraceConfig {
            enabled: false,
            window_minutes: 60,
            settle_minutes: 15,
            overlap_minutes: 60,
            start: None,
            max_windows_per_poll: 24,
            retry: RetryPolicy::default(),
        }
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    d: ODataPage<'a>,
}

#[derive(Deserialize)]
struct ODataPage<'a> {
    #[serde(borrow, default)]
    results: Vec<&'a RawValue>,
    #[serde(rename = "__next", default)]
    next: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RowKey {
    #[serde(default)]
    message_trace_id: Option<String>,
    #[serde(default)]
    recipient_address: Option<String>,
    #[serde(default)]
    received: Option<String>,
}

pub struct MessageTraceCollector {
    api: Api,
    endpoint: String,
    cfg: MessageTraceConfig,
    clock: Clock,
    checkpoint_path: PathBuf,
    state: WindowCursor,
}

fn odata_time(t: DateTime<Utc>) -> String {
    format!("datetime'{}'", t.format("%Y-%m-%dT%H:%M:%SZ"))
}

impl MessageTraceCollector {
    pub fn new(
        tokens: Arc<TokenSource>,
        reporting_endpoint: &str,
        cfg: MessageTraceConfig,
        clock: Clock,
        checkpoint_path: PathBuf,
    ) -> std::io::Result<MessageTraceCollector> {
        Ok(MessageTraceCollector {
            api: Api {
                http: crate::client::http_client(),
                tokens,
                scope: scope::EXCHANGE,
                retry: cfg.retry.clone(),
                budget: None,
            },
            endpoint: format!(
                "{}/ecp/reportingwebservice/reporting.svc/MessageTrace",
                reporting_endpoint.trim_end_matches('/')
            ),
            state: load_checkpoint(&checkpoint_path)?,
            cfg,
            clock,
            checkpoint_path,
        })
    }

    pub fn checkpoint(&self) -> &WindowCursor {
        &self.state
    }

    pub fn save_checkpoint(&self) -> std::io::Result<()> {
        save_checkpoint(&self.checkpoint_path, &self.state)
    }

    pub fn lag(&self) -> Vec<Lag> {
        vec![lag_of(
            SourceKind::MessageTrace,
            "MessageTrace",
            self.state.newest_record,
            self.clock.now(),
        )]
    }

    pub async fn poll(&mut self, deliver: &mut (dyn FnMut(Batch) + Send)) -> PollReport {
        let mut report = PollReport::default();
        if let Err(e) = self.poll_windows(deliver, &mut report).await {
            report.errors.push(format!("message trace: {e}"));
        }
        report
    }

    async fn poll_windows(
        &mut self,
        deliver: &mut (dyn FnMut(Batch) + Send),
        report: &mut PollReport,
    ) -> Result<(), ApiError> {
        let settled = self.clock.now() - Duration::minutes(self.cfg.settle_minutes.max(0));
        let overlap = Duration::minutes(self.cfg.overlap_minutes.max(0));
        let window = Duration::minutes(self.cfg.window_minutes.max(1));
        let initial = self.cfg.start.unwrap_or(settled - Duration::hours(24));
        let mut start = self
            .state
            .next_start(overlap, initial, DateTime::<Utc>::MIN_UTC);
        let mut windows = 0;
        while start < settled && windows < self.cfg.max_windows_per_poll.max(1) {
            windows += 1;
            let end = (start + window).min(settled);
            let mut u = url::Url::parse(&self.endpoint)
                .unwrap_or_else(|_| url::Url::parse("http://invalid.invalid/").expect("valid"));
            u.query_pairs_mut()
                .append_pair("$format", "Json")
                .append_pair(
                    "$filter",
                    &format!(
                        "StartDate eq {} and EndDate eq {}",
                        odata_time(start),
                        odata_time(end)
                    ),
                );
            let mut url = u.to_string();
            let mut rows: Vec<(DateTime<Utc>, String, String)> = Vec::new();
            loop {
                report.requests += 1;
                let resp = self.api.send(&Call::get(&url)).await?;
                let page: Envelope<'_> =
                    serde_json::from_str(&resp.body).map_err(|e| ApiError::Status {
                        method: "GET".into(),
                        url: url.clone(),
                        status: resp.status,
                        code: String::new(),
                        message: format!("unreadable message trace page: {e}"),
                        retriable: true,
                        retry_after: None,
                    })?;
                for raw in page.d.results {
                    let k: RowKey = serde_json::from_str(raw.get()).unwrap_or_default();
                    let t = k.received.as_deref().and_then(parse_time).unwrap_or(start);
                    let key = match (&k.message_trace_id, &k.recipient_address) {
                        (Some(m), Some(r)) => format!("{m}|{r}|{}", t.timestamp_millis()),
                        _ => content_key(raw.get()),
                    };
                    if !self.state.seen.contains_key(&key) {
                        rows.push((t, key, raw.get().to_string()));
                    }
                }
                match page.d.next {
                    Some(next) if !next.is_empty() => url = next,
                    _ => break,
                }
            }
            rows.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            let newest = rows.last().map(|r| r.0);
            let mut body = String::from("[");
            for (i, (_, _, raw)) in rows.iter().enumerate() {
                if i > 0 {
                    body.push(',');
                }
                body.push_str(raw);
            }
            body.push(']');
            report.batches += 1;
            report.records += rows.len();
            deliver(Batch {
                source: SourceKind::MessageTrace,
                name: format!("MessageTrace/{}", odata_time(start)),
                body,
                records: rows.len(),
                fetched_at: std::time::Instant::now(),
                newest_record: newest,
            });
            let keys: Vec<(String, DateTime<Utc>)> =
                rows.into_iter().map(|(t, k, _)| (k, t)).collect();
            self.state.commit_items(&keys, newest);
            self.state.commit_window(end, overlap);
            start = end;
        }
        Ok(())
    }
}
