//! Structure-aware companion of `read_records`: takes a real record from the fixtures, lets the
//! fuzzer choose field values, Name/Value pairs and removals, writes the records in one of the
//! layouts, and reads them back. Byte-level mutation rarely lands a multi-byte character inside
//! a forwarding address; this target puts fuzzer strings exactly where the parsers look.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};
use vigil_event::Format;

const FIXTURES: &[&str] = &[
    include_str!("../../crates/vigil-sources/tests/fixtures/audit_inbox_rules.jsonl"),
    include_str!("../../crates/vigil-sources/tests/fixtures/audit_forwarding.jsonl"),
    include_str!("../../crates/vigil-sources/tests/fixtures/audit_directory.jsonl"),
    include_str!("../../crates/vigil-sources/tests/fixtures/audit_mailbox.jsonl"),
    include_str!("../../crates/vigil-sources/tests/fixtures/audit_sharepoint.jsonl"),
    include_str!("../../crates/vigil-sources/tests/fixtures/shape_lines.jsonl"),
    include_str!("../../crates/vigil-sources/tests/fixtures/office_activity.jsonl"),
    include_str!("../../crates/vigil-sources/tests/fixtures/la_auditlogs.jsonl"),
    include_str!("../../crates/vigil-sources/tests/fixtures/azure_monitor_eventhub.jsonl"),
    include_str!("../../crates/vigil-sources/tests/fixtures/graph_signins_page.json"),
    include_str!("../../crates/vigil-sources/tests/fixtures/graph_directory_audits.json"),
    include_str!("../../crates/vigil-sources/tests/fixtures/la_signinlogs.json"),
    include_str!("../../crates/vigil-sources/tests/fixtures/message_trace_reporting.json"),
    include_str!("../../crates/vigil-sources/tests/fixtures/message_trace_iso.json"),
    include_str!("../../crates/vigil-sources/tests/fixtures/sentinel_lowercase.json"),
];

const KEYS: &[&str] = &[
    "Id",
    "CreationTime",
    "Operation",
    "UserId",
    "ClientIP",
    "ClientIPAddress",
    "ObjectId",
    "ResultStatus",
    "ErrorNumber",
    "ErrorCode",
    "OperationCount",
    "MailboxOwnerUPN",
    "Item",
    "Folders",
    "AffectedItems",
    "Parameters",
    "OperationProperties",
    "ExtendedProperties",
    "ModifiedProperties",
    "Target",
    "TimeGenerated",
    "OfficeObjectId",
    "Site_Url",
    "SiteUrl",
    "id",
    "createdDateTime",
    "userPrincipalName",
    "ipAddress",
    "status",
    "location",
    "deviceDetail",
    "ResultType",
    "Status",
    "LocationDetails",
    "Category",
    "Type",
    "activityDateTime",
    "activityDisplayName",
    "initiatedBy",
    "targetResources",
    "additionalDetails",
    "Received",
    "SenderAddress",
    "RecipientAddress",
    "FromIP",
    "ToIP",
    "Size",
    "MessageTraceId",
    "time",
    "category",
    "properties",
    "resultType",
    "callerIpAddress",
];

/// Fields that hold Name/Value lists.
const LISTS: &[&str] = &[
    "Parameters",
    "parameters",
    "OperationProperties",
    "ExtendedProperties",
    "ModifiedProperties",
    "Target",
    "additionalDetails",
];

const NAMES: &[&str] = &[
    "ForwardTo",
    "RedirectTo",
    "ForwardAsAttachmentTo",
    "ForwardingSmtpAddress",
    "ForwardingAddress",
    "DeliverToMailboxAndForward",
    "RedirectMessageTo",
    "Name",
    "Identity",
    "Mailbox",
    "MoveToFolder",
    "DeleteMessage",
    "MarkAsRead",
    "RuleActions",
    "RuleOperation",
    "RuleName",
    "MailAccessType",
    "IsThrottled",
    "UserAgent",
    "RequestType",
    "LoginError",
    "Role.DisplayName",
    "ConsentAction.Permissions",
    "ConsentContext.IsAdminConsent",
    "DelegatedPermissionGrant.Scope",
    "AppRole.Value",
    "AppId",
    "AppPrincipalId",
    "ServicePrincipal.AppId",
    "TargetId.ServicePrincipalNames",
    "StrongAuthenticationMethod",
];

fn records() -> &'static Vec<Map<String, Value>> {
    static CELL: OnceLock<Vec<Map<String, Value>>> = OnceLock::new();
    CELL.get_or_init(|| {
        let mut out = Vec::new();
        for text in FIXTURES {
            let values: Vec<Value> = match serde_json::from_str::<Value>(text) {
                Ok(v) => vec![v],
                Err(_) => text
                    .lines()
                    .filter_map(|l| serde_json::from_str(l).ok())
                    .collect(),
            };
            for v in values {
                collect(v, &mut out);
            }
        }
        out
    })
}

fn collect(v: Value, out: &mut Vec<Map<String, Value>>) {
    match v {
        Value::Array(items) => items.into_iter().for_each(|i| collect(i, out)),
        Value::Object(mut o) => {
            for key in ["records", "value"] {
                if let Some(Value::Array(items)) = o.remove(key) {
                    return items.into_iter().for_each(|i| collect(i, out));
                }
            }
            if let Some(Value::Object(mut d)) = o.remove("d") {
                if let Some(results) = d.remove("results") {
                    return collect(results, out);
                }
            }
            out.push(o);
        }
        _ => {}
    }
}

#[derive(Arbitrary, Debug)]
enum Change {
    /// A field set to a string.
    Text {
        key: u8,
        value: String,
    },
    /// A field set to a number or boolean.
    Scalar {
        key: u8,
        number: i64,
        boolean: Option<bool>,
    },
    /// A field set to JSON text the fuzzer wrote (parsed when it is JSON, a string otherwise).
    Raw {
        key: u8,
        json: String,
    },
    /// A Name/Value list, as an array or as a string holding it, with key names in some case.
    Pairs {
        key: u8,
        pairs: Vec<(u8, String)>,
        as_text: bool,
        case: u8,
    },
    Remove {
        key: u8,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    records: Vec<(u16, Vec<Change>)>,
    layout: u8,
    format: Option<u8>,
}

fn pick<'a>(list: &[&'a str], i: u8) -> &'a str {
    list[usize::from(i) % list.len()]
}

fn build(base: u16, changes: Vec<Change>) -> Value {
    let all = records();
    let mut rec = all[usize::from(base) % all.len()].clone();
    for change in changes {
        match change {
            Change::Text { key, value } => {
                rec.insert(pick(KEYS, key).into(), Value::String(value));
            }
            Change::Scalar {
                key,
                number,
                boolean,
            } => {
                let v = boolean.map_or(Value::from(number), Value::Bool);
                rec.insert(pick(KEYS, key).into(), v);
            }
            Change::Raw { key, json } => {
                let v = serde_json::from_str(&json).unwrap_or(Value::String(json));
                rec.insert(pick(KEYS, key).into(), v);
            }
            Change::Pairs {
                key,
                pairs,
                as_text,
                case,
            } => {
                let (nk, vk) = [
                    ("Name", "Value"),
                    ("name", "value"),
                    ("NAME", "VALUE"),
                    ("Name", "NewValue"),
                    ("displayName", "newValue"),
                    ("displayName", "oldValue"),
                ][usize::from(case) % 6];
                let list = Value::Array(
                    pairs
                        .into_iter()
                        .map(|(n, v)| json!({ nk: pick(NAMES, n), vk: v }))
                        .collect(),
                );
                let v = if as_text {
                    Value::String(list.to_string())
                } else {
                    list
                };
                rec.insert(pick(LISTS, key).into(), v);
            }
            Change::Remove { key } => {
                rec.remove(pick(KEYS, key));
            }
        }
    }
    Value::Object(rec)
}

fn render(values: &[Value], layout: u8) -> String {
    match layout % 6 {
        0 => serde_json::to_string(values).unwrap(),
        1 => serde_json::to_string_pretty(values).unwrap(),
        2 => values.iter().map(|v| v.to_string() + "\n").collect(),
        3 => json!({ "records": values }).to_string(),
        4 => json!({ "value": values }).to_string(),
        _ => json!({ "d": { "results": values } }).to_string(),
    }
}

fuzz_target!(|input: Input| {
    if records().is_empty() || input.records.is_empty() {
        return;
    }
    let values: Vec<Value> = input
        .records
        .into_iter()
        .take(8)
        .map(|(base, changes)| build(base, changes))
        .collect();
    let text = render(&values, input.layout);
    let format = input
        .format
        .map(|f| Format::ALL[usize::from(f) % Format::ALL.len()]);
    for item in vigil_sources::read_bytes("fields", text.as_bytes(), format) {
        if let Err(e) = item {
            assert!(e.line >= 1, "{e}");
        }
    }
});
