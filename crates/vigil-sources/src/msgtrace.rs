//! Exchange Online message trace rows: the Reporting Web Service's MessageTrace shape
//! (`"Received": "/Date(1643691351000)/"`), the same rows exported with ISO timestamps
//! (Get-MessageTrace | ConvertTo-Json, CSV-to-JSON converters), and Graph's camelCase
//! messageTrace fields.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Deserialize;
use vigil_event::{Event, EventKind, Format, MessageTrace, Outcome, Source};

use crate::lenient::{parse_address, parse_client_ip, Int, Text};
use crate::FieldError;

#[derive(Deserialize)]
pub(crate) struct MessageTraceRow<'a> {
    #[serde(
        borrow,
        rename = "MessageTraceId",
        alias = "messageTraceId",
        alias = "id"
    )]
    message_trace_id: Option<Text<'a>>,
    #[serde(borrow, rename = "MessageId", alias = "messageId")]
    message_id: Option<Text<'a>>,
    #[serde(
        borrow,
        rename = "Received",
        alias = "received",
        alias = "receivedDateTime"
    )]
    received: Option<Text<'a>>,
    #[serde(borrow, rename = "SenderAddress", alias = "senderAddress")]
    sender: Option<Text<'a>>,
    #[serde(borrow, rename = "RecipientAddress", alias = "recipientAddress")]
    recipient: Option<Text<'a>>,
    #[serde(borrow, rename = "Subject", alias = "subject")]
    subject: Option<Text<'a>>,
    #[serde(borrow, rename = "Status", alias = "status")]
    status: Option<Text<'a>>,
    #[serde(borrow, rename = "FromIP", alias = "fromIP", alias = "fromIp")]
    from_ip: Option<Text<'a>>,
    #[serde(borrow, rename = "ToIP", alias = "toIP", alias = "toIp")]
    to_ip: Option<Text<'a>>,
    #[serde(rename = "Size", alias = "size", default)]
    size: Int,
}

fn text<'s>(t: &'s Option<Text>) -> Option<&'s str> {
    t.as_ref()
        .map(Text::as_str)
        .map(vigil_event::text::trim)
        .filter(|s| !s.is_empty())
}

/// Deserialises a row into its typed form and nothing more (benchmark baseline).
pub fn deserialize_only(raw: &str) -> Result<(), serde_json::Error> {
    serde_json::from_str::<MessageTraceRow>(raw).map(drop)
}

/// Parses one message trace row. Its id is the trace id and the recipient, because the service
/// writes one row per recipient under one MessageTraceId.
pub fn parse(raw: &str) -> Result<Event, FieldError> {
    parse_shared(raw, None)
}

/// [`parse`], keeping `shared` as the event's raw text when it holds exactly `raw`.
pub fn parse_shared(raw: &str, shared: Option<&Arc<str>>) -> Result<Event, FieldError> {
    let row: MessageTraceRow = serde_json::from_str(raw).map_err(FieldError::json)?;
    from_row(row, raw, shared)
}

/// The second step of [`parse_shared`]: the typed row (deserialised from `raw`) as an event.
pub(crate) fn from_row(
    row: MessageTraceRow<'_>,
    raw: &str,
    shared: Option<&Arc<str>>,
) -> Result<Event, FieldError> {
    let received = text(&row.received).ok_or_else(|| FieldError::missing("Received"))?;
    let time = vigil_event::time::parse_timestamp(received)
        .map_err(|reason| FieldError::new("Received", reason))?;
    let format = if received.starts_with("/Date(") {
        Format::MessageTraceReporting
    } else {
        Format::MessageTraceIso
    };
    let sender = text(&row.sender).and_then(parse_address);
    let recipient = text(&row.recipient).and_then(parse_address);
    if sender.is_none() && recipient.is_none() {
        return Err(FieldError::missing("RecipientAddress"));
    }
    let trace_or_message = text(&row.message_trace_id)
        .or(text(&row.message_id))
        .ok_or_else(|| FieldError::missing("MessageTraceId"))?;
    let id: Box<str> = match &recipient {
        Some(r) => [trace_or_message, ":", &r.address].concat().into(),
        None => trace_or_message.into(),
    };
    let status = text(&row.status);
    let is = |s: &str, names: &[&str]| names.iter().any(|n| n.eq_ignore_ascii_case(s));
    let outcome = match status {
        Some(s) if is(s, &["delivered", "expanded", "resolved"]) => Outcome::Success,
        Some(s) if is(s, &["failed"]) => Outcome::Failure,
        _ => Outcome::Unknown,
    };
    let from_ip = text(&row.from_ip).and_then(parse_client_ip);
    Ok(Event {
        id,
        alias_ids: Vec::new(),
        linked_to: None,
        time,
        source: Source::MessageTrace,
        format,
        operation: Cow::Borrowed("MessageTrace"),
        workload: Some(Cow::Borrowed("Exchange")),
        outcome,
        user: sender.as_ref().map(|s| s.address.clone()),
        ip: from_ip,
        user_agent: None,
        request_id: None,
        correlation_id: None,
        kind: EventKind::MessageTrace(MessageTrace {
            message_id: text(&row.message_id).map(Into::into),
            message_trace_id: text(&row.message_trace_id).map(Into::into),
            sender,
            recipient,
            subject: text(&row.subject).map(Into::into),
            status: status.map(Into::into),
            from_ip,
            to_ip: text(&row.to_ip).and_then(parse_client_ip),
            size: row.size.0.and_then(|s| u64::try_from(s).ok()),
        }),
        enrichment: Default::default(),
        late: false,
        raw: crate::share(raw, shared),
    })
}
