//! Properties of the reader: it never panics and always terminates, whatever the bytes (random,
//! mutated fixtures, arbitrary JSON of every shape); a record's id and time do not depend on the
//! layout around it; timestamps round-trip.

mod common;

use std::io::Write;
use std::sync::OnceLock;

use chrono::{DateTime, Duration, SecondsFormat, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use vigil_event::{Event, Format};
use vigil_sources::{read_bytes, RecordError};

/// Reads and checks what must hold of any output: errors name a line inside the input.
fn read_checked(
    name: &str,
    bytes: &[u8],
    format: Option<Format>,
) -> Vec<Result<Event, RecordError>> {
    let out = read_bytes(name, bytes, format);
    let is_gzip = bytes.starts_with(&[0x1f, 0x8b]);
    let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64 + 1;
    for item in &out {
        if let Err(e) = item {
            assert!(e.line >= 1, "line 0 in {e}");
            if !is_gzip {
                assert!(
                    e.line <= lines,
                    "line {} past the end ({lines} lines): {e}",
                    e.line
                );
            }
            assert!(e.to_string().starts_with(&format!("{name}:{}: ", e.line)));
        }
    }
    out
}

fn any_format() -> impl Strategy<Value = Option<Format>> {
    prop_oneof![
        3 => Just(None),
        1 => proptest::sample::select(Format::ALL.to_vec()).prop_map(Some),
    ]
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Every fixture, plain, as the seed of mutations.
fn fixtures() -> &'static Vec<Vec<u8>> {
    static CELL: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CELL.get_or_init(|| {
        let mut names: Vec<_> = std::fs::read_dir(common::fixture_dir())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
            .collect();
        names.sort();
        names.iter().map(|p| std::fs::read(p).unwrap()).collect()
    })
}

/// Every record object of every fixture, as seeds for structured mutations.
fn fixture_records() -> &'static Vec<Map<String, Value>> {
    static CELL: OnceLock<Vec<Map<String, Value>>> = OnceLock::new();
    CELL.get_or_init(|| {
        let mut out = Vec::new();
        for bytes in fixtures() {
            let text = String::from_utf8_lossy(bytes);
            let text = text.trim_start_matches('\u{feff}');
            let mut values = Vec::new();
            match serde_json::from_str::<Value>(text) {
                Ok(v) => values.push(v),
                Err(_) => values.extend(
                    text.lines()
                        .filter_map(|l| serde_json::from_str::<Value>(l).ok()),
                ),
            }
            for v in values {
                collect_records(v, &mut out);
            }
        }
        assert!(out.len() > 50);
        out
    })
}

fn collect_records(v: Value, out: &mut Vec<Map<String, Value>>) {
    match v {
        Value::Array(items) => items.into_iter().for_each(|i| collect_records(i, out)),
        Value::Object(mut o) => {
            for key in ["records", "value"] {
                if let Some(Value::Array(items)) = o.remove(key) {
                    items.into_iter().for_each(|i| collect_records(i, out));
                    return;
                }
            }
            if let Some(Value::Object(mut d)) = o.remove("d") {
                if let Some(results) = d.remove("results") {
                    return collect_records(results, out);
                }
            }
            out.push(o);
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop_oneof![
        proptest::collection::vec(any::<u8>(), 1..8),
        proptest::sample::select(vec![
            b"{".to_vec(),
            b"}".to_vec(),
            b"[".to_vec(),
            b"]".to_vec(),
            b"\"".to_vec(),
            b"\\".to_vec(),
            b"\n".to_vec(),
            b"\r\n".to_vec(),
            b",".to_vec(),
            b"\xef\xbb\xbf".to_vec(),
            "ç".as_bytes().to_vec(),
            b"\xff".to_vec(),
            b"null".to_vec(),
            b"\"records\":[".to_vec(),
            b"{\"d\":{\"results\":[".to_vec(),
        ]),
    ];
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, x)| Mutation::Flip(i, x | 1)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), interesting).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1..64usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), 1..256usize).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len().max(1);
    match m {
        Mutation::Flip(i, x) => {
            if !bytes.is_empty() {
                bytes[i % len] ^= x;
            }
        }
        Mutation::Truncate(i) => bytes.truncate(i % (len + 1)),
        Mutation::Insert(i, b) => {
            let at = i % (bytes.len() + 1);
            bytes.splice(at..at, b.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let at = i % (bytes.len() + 1);
            let end = (at + n).min(bytes.len());
            bytes.drain(at..end);
        }
        Mutation::Duplicate(i, n) => {
            let at = i % (bytes.len() + 1);
            let end = (at + n).min(bytes.len());
            let copy = bytes[at..end].to_vec();
            bytes.splice(end..end, copy);
        }
    }
}

const KEYS: &[&str] = &[
    "Id",
    "id",
    "CreationTime",
    "creationtime",
    "TimeGenerated",
    "Operation",
    "operation",
    "Workload",
    "OfficeWorkload",
    "ResultStatus",
    "UserId",
    "ClientIP",
    "ClientIPAddress",
    "Client_IPAddress",
    "ActorIpAddress",
    "ObjectId",
    "OfficeObjectId",
    "Parameters",
    "parameters",
    "OperationProperties",
    "ExtendedProperties",
    "ModifiedProperties",
    "Target",
    "Folders",
    "AffectedItems",
    "Item",
    "ErrorNumber",
    "ErrorCode",
    "OperationCount",
    "MailboxOwnerUPN",
    "SiteUrl",
    "Site_Url",
    "records",
    "value",
    "d",
    "results",
    "log",
    "name",
    "expected",
    "properties",
    "category",
    "time",
    "resultType",
    "callerIpAddress",
    "createdDateTime",
    "userPrincipalName",
    "status",
    "errorCode",
    "location",
    "deviceDetail",
    "ResultType",
    "Status",
    "LocationDetails",
    "Type",
    "activityDisplayName",
    "activityDateTime",
    "initiatedBy",
    "user",
    "app",
    "targetResources",
    "modifiedProperties",
    "displayName",
    "newValue",
    "oldValue",
    "Name",
    "Value",
    "NAME",
    "VALUE",
    "MessageTraceId",
    "Received",
    "SenderAddress",
    "RecipientAddress",
    "FromIP",
    "Size",
    "RuleActions",
    "RuleOperation",
    "ForwardTo",
    "ForwardingSmtpAddress",
    "ForwardingAddress",
    "DeliverToMailboxAndForward",
    "RedirectMessageTo",
    "Role.DisplayName",
    "ConsentAction.Permissions",
    "ConsentContext.IsAdminConsent",
    "AppPrincipalId",
    "TargetId.ServicePrincipalNames",
];

fn interesting_string() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "2024-03-04T08:15:22",
            "2024-03-04T08:15:22.1234567Z",
            "2022-02-30T00:00:00",
            "0001-01-01T00:00:00",
            "/Date(1709802000000)/",
            "/Date(-99999999999999999)/",
            "/Date(1709802000000+0100)/",
            "/Date(",
            "1.2.3.4:80",
            "[2001:db8::1]:443",
            "[::1",
            "SERVER (15.20.4200.000)",
            "smtp:a@b.example",
            "Françoise Dupont [SMTP:f@x.example]",
            "abcdé@x.example",
            "[{\"Name\":\"ForwardTo\",\"Value\":\"x@y.example\"}]",
            "[{\"name\":\"Role.DisplayName\",\"newValue\":\"\\\"Admin\\\"\"}]",
            "{\"user\":{\"userPrincipalName\":\"a@b.c\"}}",
            "[] => [[Id: a, Scope: Mail.Read offline_access, X: ]]",
            "Scope:",
            "UserLoginFailed",
            "New-InboxRule",
            "UpdateInboxRules",
            "Set-Mailbox",
            "Consent to application.",
            "Add member to role.",
            "MailItemsAccessed",
            "SignInLogs",
            "AuditLogs",
            "ServicePrincipalSignInLogs",
            "OfficeActivity",
            "SigninLogs",
            "5",
            "4",
            "",
            " ",
            "\u{feff}",
        ])
        .prop_map(str::to_owned),
        ".{0,24}",
        // Multi-byte characters next to the punctuation the parsers split and slice on.
        "[a-zé€ç😀@.:;,<>\\[\\]\" ]{0,16}",
    ]
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        interesting_string().prop_map(Value::String),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(KEYS.to_vec()).prop_map(str::to_owned),
        1 => "[A-Za-z_.]{0,12}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Name/Value lists (`Parameters`, `ModifiedProperties`, ...) with keys in any case, as an array
/// or as a string holding the array, the way the services deliver them.
fn name_value_list() -> impl Strategy<Value = Value> {
    let pair_keys = proptest::sample::select(vec![
        ("Name", "Value"),
        ("name", "value"),
        ("NAME", "VALUE"),
        ("Name", "NewValue"),
        ("displayName", "newValue"),
        ("displayName", "oldValue"),
        ("key", "value"),
    ]);
    let value = prop_oneof![
        3 => interesting_string().prop_map(Value::String),
        1 => json_value(),
    ];
    let name = prop_oneof![
        4 => proptest::sample::select(NV_NAMES.to_vec()).prop_map(str::to_owned),
        1 => key(),
    ];
    let pair = (pair_keys, name, value).prop_map(|((nk, vk), name, v)| {
        let mut o = Map::new();
        o.insert(nk.to_owned(), Value::String(name));
        o.insert(vk.to_owned(), v);
        Value::Object(o)
    });
    (proptest::collection::vec(pair, 0..6), any::<bool>()).prop_map(|(pairs, as_text)| {
        let list = Value::Array(pairs);
        if as_text {
            Value::String(list.to_string())
        } else {
            list
        }
    })
}

/// Names the parsers look for in Name/Value lists.
const NV_NAMES: &[&str] = &[
    "ForwardTo",
    "RedirectTo",
    "ForwardAsAttachmentTo",
    "ForwardingSmtpAddress",
    "ForwardingAddress",
    "DeliverToMailboxAndForward",
    "RedirectMessageTo",
    "BlindCopyTo",
    "Name",
    "Identity",
    "Mailbox",
    "MoveToFolder",
    "DeleteMessage",
    "MarkAsRead",
    "StopProcessingRules",
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
    "User-Agent",
];

const LIST_KEYS: &[&str] = &[
    "Parameters",
    "parameters",
    "OperationProperties",
    "ExtendedProperties",
    "ModifiedProperties",
    "AdditionalDetails",
    "Target",
];

fn field_change() -> impl Strategy<Value = (String, Value)> {
    prop_oneof![
        2 => (key(), json_value()),
        2 => (proptest::sample::select(LIST_KEYS.to_vec()).prop_map(str::to_owned), name_value_list()),
        2 => (key(), interesting_string().prop_map(Value::String)),
    ]
}

/// Text the parsers split, slice and search: addresses with multi-byte characters around the
/// `@`, brackets, separators.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        interesting_string(),
        r#"[a-z"<\[ ]{0,6}[éç€😀][a-zé]{0,3}@[a-z]{1,6}\.example[>\];, ]{0,2}"#,
        r"(smtp|SMTP):[a-zé€]{0,6}@[a-z]{1,4}\.example",
    ]
}

/// Rewrites the value of one pair of an existing Name/Value list (array or JSON text) of a
/// record: where the meaningful values of real records live.
fn rewrite_pair(rec: &mut Map<String, Value>, pick: prop::sample::Index, text: String) {
    let lists: Vec<String> = rec
        .iter()
        .filter(|(_, v)| match v {
            Value::Array(a) => a.iter().any(Value::is_object),
            Value::String(t) => t.trim_start().starts_with("[{"),
            _ => false,
        })
        .map(|(k, _)| k.clone())
        .collect();
    if lists.is_empty() {
        return;
    }
    let key = &lists[pick.index(lists.len())];
    let (mut list, as_text) = match &rec[key] {
        Value::String(t) => match serde_json::from_str::<Value>(t) {
            Ok(v) => (v, true),
            Err(_) => return,
        },
        v => (v.clone(), false),
    };
    if let Value::Array(items) = &mut list {
        let objects: Vec<usize> = (0..items.len()).filter(|i| items[*i].is_object()).collect();
        if objects.is_empty() {
            return;
        }
        let item = items[objects[pick.index(objects.len())]]
            .as_object_mut()
            .unwrap();
        let value_key = item
            .keys()
            .find(|k| {
                ["value", "newvalue", "id"]
                    .iter()
                    .any(|v| k.eq_ignore_ascii_case(v))
            })
            .cloned()
            .unwrap_or_else(|| "Value".into());
        item.insert(value_key, Value::String(text));
    }
    rec.insert(
        key.clone(),
        if as_text {
            Value::String(list.to_string())
        } else {
            list
        },
    );
}

/// A real record with some fields replaced, added or removed.
fn mutated_record() -> impl Strategy<Value = Value> {
    let n = fixture_records().len();
    (
        0..n,
        proptest::collection::vec(field_change(), 0..4),
        proptest::collection::vec(any::<prop::sample::Index>(), 0..3),
        proptest::collection::vec((any::<prop::sample::Index>(), hostile_text()), 0..3),
    )
        .prop_map(|(i, set, remove, rewrites)| {
            let mut rec = fixture_records()[i].clone();
            for (pick, text) in rewrites {
                rewrite_pair(&mut rec, pick, text);
            }
            for idx in remove {
                if !rec.is_empty() {
                    let k = rec.keys().nth(idx.index(rec.len())).unwrap().clone();
                    rec.remove(&k);
                }
            }
            for (k, v) in set {
                rec.insert(k, v);
            }
            Value::Object(rec)
        })
}

#[derive(Debug, Clone, Copy)]
enum Layout {
    CompactArray,
    PrettyArray,
    Lines,
    Records,
    GraphPage,
    ODataPage,
    TestCases,
}

fn layout() -> impl Strategy<Value = Layout> {
    proptest::sample::select(vec![
        Layout::CompactArray,
        Layout::PrettyArray,
        Layout::Lines,
        Layout::Records,
        Layout::GraphPage,
        Layout::ODataPage,
        Layout::TestCases,
    ])
}

fn render(values: &[Value], layout: Layout) -> String {
    match layout {
        Layout::CompactArray => serde_json::to_string(values).unwrap(),
        Layout::PrettyArray => serde_json::to_string_pretty(values).unwrap(),
        Layout::Lines => values
            .iter()
            .map(|v| serde_json::to_string(v).unwrap() + "\n")
            .collect(),
        Layout::Records => serde_json::to_string(&json!({ "records": values })).unwrap(),
        Layout::GraphPage => serde_json::to_string_pretty(
            &json!({"@odata.context": "x", "value": values, "@odata.nextLink": "y"}),
        )
        .unwrap(),
        Layout::ODataPage => serde_json::to_string(&json!({"d": {"results": values}})).unwrap(),
        Layout::TestCases => serde_json::to_string_pretty(
            &values
                .iter()
                .map(|v| json!({"name": "case", "expected": true, "log": v}))
                .collect::<Vec<_>>(),
        )
        .unwrap(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..1500),
        format in any_format(),
    ) {
        let out = read_checked("bytes", &bytes, format);
        prop_assert!(out.len() <= bytes.len() + 1);
    }

    #[test]
    fn never_panics_on_mutated_fixtures(
        index in any::<prop::sample::Index>(),
        mutations in proptest::collection::vec(mutation(), 1..6),
        gz in proptest::bool::weighted(0.15),
        format in any_format(),
    ) {
        let mut bytes = fixtures()[index.index(fixtures().len())].clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        if gz {
            // Mutate the compressed stream too, sometimes.
            bytes = gzip(&bytes);
            if let Some(m) = mutations.first() {
                apply(&mut bytes, m);
            }
        }
        read_checked("mutated", &bytes, format);
    }

    #[test]
    fn never_panics_on_arbitrary_json(
        values in proptest::collection::vec(json_value(), 0..5),
        layout in layout(),
        format in any_format(),
    ) {
        let text = render(&values, layout);
        read_checked("json", text.as_bytes(), format);
    }

}

proptest! {
    // The generator that reaches the parsers' field handling: more cases (about a second).
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_records_with_arbitrary_fields(
        values in proptest::collection::vec(mutated_record(), 1..5),
        layout in layout(),
        format in any_format(),
    ) {
        let text = render(&values, layout);
        read_checked("records", text.as_bytes(), format);
    }
}

// ---------------------------------------------------------------------------------------------
// Id and time survive reformatting; timestamps round-trip.
// ---------------------------------------------------------------------------------------------

fn any_time() -> impl Strategy<Value = DateTime<Utc>> {
    // 1990-01-01 .. 2199-12-31, with nanoseconds.
    (631_152_000i64..7_258_032_000i64, 0u32..1_000_000_000u32)
        .prop_map(|(secs, nanos)| Utc.timestamp_opt(secs, nanos).unwrap())
}

#[derive(Debug, Clone, Copy)]
enum TimeStyle {
    Zulu(u8),
    NoZone(u8),
    Space(u8),
    Offset(u8, i32),
    MsDate,
    MsDateOffset,
}

fn time_style() -> impl Strategy<Value = TimeStyle> {
    prop_oneof![
        (0u8..=9).prop_map(TimeStyle::Zulu),
        (0u8..=9).prop_map(TimeStyle::NoZone),
        (0u8..=9).prop_map(TimeStyle::Space),
        ((0u8..=9), (-14 * 4..=14 * 4)).prop_map(|(d, q)| TimeStyle::Offset(d, q * 15)),
        Just(TimeStyle::MsDate),
        Just(TimeStyle::MsDateOffset),
    ]
}

/// Writes `t` in a style, returning the text and the instant the text denotes (fractions beyond
/// the written digits are dropped).
fn write_time(t: DateTime<Utc>, style: TimeStyle) -> (String, DateTime<Utc>) {
    let truncate = |digits: u8| {
        let unit = 10u32.pow(9 - u32::from(digits));
        let nanos = t.timestamp_subsec_nanos() / unit * unit;
        Utc.timestamp_opt(t.timestamp(), nanos).unwrap()
    };
    let frac = |t: DateTime<Utc>, digits: u8| {
        if digits == 0 {
            String::new()
        } else {
            let all = format!("{:09}", t.timestamp_subsec_nanos());
            format!(".{}", &all[..usize::from(digits)])
        }
    };
    match style {
        TimeStyle::Zulu(d) | TimeStyle::NoZone(d) | TimeStyle::Space(d) => {
            let exact = truncate(d);
            let sep = if matches!(style, TimeStyle::Space(_)) {
                ' '
            } else {
                'T'
            };
            let zone = if matches!(style, TimeStyle::Zulu(_)) {
                "Z"
            } else {
                ""
            };
            let text = format!(
                "{}{sep}{}{}{zone}",
                exact.format("%Y-%m-%d"),
                exact.format("%H:%M:%S"),
                frac(exact, d)
            );
            (text, exact)
        }
        TimeStyle::Offset(d, minutes) => {
            let exact = truncate(d);
            let offset = chrono::FixedOffset::east_opt(minutes * 60).unwrap();
            let local = exact.with_timezone(&offset);
            let sign = if minutes < 0 { '-' } else { '+' };
            let text = format!(
                "{}{}{sign}{:02}:{:02}",
                local.format("%Y-%m-%dT%H:%M:%S"),
                frac(exact, d),
                minutes.abs() / 60,
                minutes.abs() % 60
            );
            (text, exact)
        }
        TimeStyle::MsDate | TimeStyle::MsDateOffset => {
            let ms = t.timestamp_millis();
            let exact = Utc.timestamp_millis_opt(ms).unwrap();
            let suffix = if matches!(style, TimeStyle::MsDateOffset) {
                "+0100"
            } else {
                ""
            };
            (format!("/Date({ms}{suffix})/"), exact)
        }
    }
}

/// Ids as they come: GUIDs, Entra's Directory_..., and anything with escapes or non-ASCII text.
fn any_id() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "Directory_[0-9a-f-]{8,36}_[A-Z0-9]{5}_[0-9]{1,9}",
        "[^\\s]{1}[\\PC]{0,20}[^\\s]{1}",
    ]
    .prop_filter("ids are trimmed", |s| s.trim() == s && !s.is_empty())
}

#[derive(Debug, Clone, Copy)]
enum RecordShape {
    Audit,
    GraphSignIn,
    GraphDirectoryAudit,
}

const OPERATIONS: [&str; 5] = [
    "UserLoggedIn",
    "New-InboxRule",
    "FileAccessed",
    "Add member to role.",
    "Whatever",
];

fn record_of(shape: RecordShape, id: &str, time: &str, n: usize) -> Value {
    match shape {
        RecordShape::Audit => json!({
            "CreationTime": time, "Id": id,
            "Operation": OPERATIONS[n % OPERATIONS.len()],
            "RecordType": 1, "UserId": "a@contoso.com", "ClientIP": "203.0.113.1:4431",
            "Parameters": [{"Name": "Name", "Value": "x"}]
        }),
        RecordShape::GraphSignIn => json!({
            "id": id, "createdDateTime": time, "userPrincipalName": "a@contoso.com",
            "ipAddress": "2001:db8::1", "status": {"errorCode": n % 2}
        }),
        RecordShape::GraphDirectoryAudit => json!({
            "id": id, "activityDateTime": time, "activityDisplayName": "Reset user password",
            "result": "success", "initiatedBy": {"user": {"userPrincipalName": "a@contoso.com"}},
            "targetResources": [{"type": "User", "userPrincipalName": "b@contoso.com"}]
        }),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn id_and_time_survive_reformatting(
        records in proptest::collection::vec((any_id(), any_time(), time_style()), 1..8),
        shape in proptest::sample::select(vec![
            RecordShape::Audit, RecordShape::GraphSignIn, RecordShape::GraphDirectoryAudit,
        ]),
    ) {
        let mut values = Vec::new();
        let mut expected = Vec::new();
        for (n, (id, t, style)) in records.iter().enumerate() {
            let (text, exact) = write_time(*t, *style);
            values.push(record_of(shape, id, &text, n));
            expected.push((id.clone(), exact));
        }
        let mut layouts: Vec<(String, Vec<u8>)> = [
            Layout::CompactArray, Layout::PrettyArray, Layout::Lines, Layout::Records,
            Layout::GraphPage, Layout::ODataPage, Layout::TestCases,
        ]
        .iter()
        .map(|l| (format!("{l:?}"), render(&values, *l).into_bytes()))
        .collect();
        let crlf = String::from_utf8(layouts[2].1.clone()).unwrap().replace('\n', "\r\n");
        layouts.push(("CrlfLines".into(), crlf.into_bytes()));
        let bom = [&b"\xef\xbb\xbf"[..], &layouts[1].1].concat();
        layouts.push(("BomPretty".into(), bom));
        layouts.push(("GzipLines".into(), gzip(&layouts[2].1)));
        for (name, bytes) in &layouts {
            let out = read_checked(name, bytes, None);
            let got: Vec<(String, DateTime<Utc>)> = out
                .into_iter()
                .map(|r| r.map(|e| (e.id.to_string(), e.time)))
                .collect::<Result<_, _>>()
                .map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
            prop_assert_eq!(&got, &expected, "layout {}", name);
        }
    }

    #[test]
    fn timestamps_round_trip(t in any_time(), style in time_style()) {
        let (text, exact) = write_time(t, style);
        let parsed = vigil_event::time::parse_timestamp(&text)
            .map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(parsed, exact, "{}", text);
        // What Vigil writes, it reads back.
        let written = vigil_event::time::to_rfc3339(&parsed);
        prop_assert_eq!(vigil_event::time::parse_timestamp(&written), Ok(parsed));
        // And through a whole record and an Event's JSON.
        let line = serde_json::to_string(&json!({
            "CreationTime": text, "Id": "r", "Operation": "FileAccessed"
        })).unwrap();
        let out = read_bytes("t.json", line.as_bytes(), None);
        let event = out[0].as_ref().map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(event.time, exact);
        let back: Event = serde_json::from_str(&serde_json::to_string(event).unwrap()).unwrap();
        prop_assert_eq!(back.time, exact);
    }

    #[test]
    fn out_of_range_years_are_rejected_not_wrapped(
        // Days since 1970 before 1990-01-01 (day 7305) or from 2201-01-01 (day 84371) on.
        days in prop_oneof![-700_000i64..7_305, 84_371i64..2_000_000],
        secs in 0i64..86_400,
        style in time_style(),
    ) {
        // Before 1990 or after 2200: an impossible timestamp for these logs.
        let t = Utc.timestamp_opt(0, 0).unwrap() + Duration::days(days) + Duration::seconds(secs);
        let (text, _) = write_time(t, style);
        prop_assert!(vigil_event::time::parse_timestamp(&text).is_err(), "{}", text);
    }
}

#[test]
fn seconds_format_used_by_the_tests_matches_vigil() {
    let t = Utc.timestamp_opt(1_709_802_000, 250_000_000).unwrap();
    assert_eq!(
        vigil_event::time::to_rfc3339(&t),
        t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    );
}
