//! Loads a simulator output directory back, checking every file's shape on the way.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;
use vigil_sim::{load_truth, simulate, SimConfig, Truth};

pub struct Output {
    pub dir: PathBuf,
    /// (file name, record), duplicates included, in file order.
    pub audit: Vec<(String, Value)>,
    /// Graph signIn objects (unwrapped from Event Hub envelopes), with their file name.
    pub signins: Vec<(String, Value)>,
    /// Event Hub envelope records as written.
    pub envelopes: Vec<Value>,
    pub graph_pages: usize,
    pub traces: Vec<(String, Value)>,
    pub truth: Truth,
}

pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("vigil-sim-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub fn run(name: &str, cfg: &SimConfig) -> Output {
    let dir = scratch(name);
    let summary = simulate(cfg, &dir, &|_| {}).expect("simulation runs");
    assert!(summary.files.iter().all(|f| f.exists()));
    assert_eq!(
        summary.files.last().unwrap().file_name().unwrap(),
        "truth.json"
    );
    let out = load(&dir);
    let total = out.audit.len() + out.signins.len() + out.traces.len();
    assert_eq!(
        total as u64, summary.records,
        "summary counts every record written"
    );
    out
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

pub fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

pub fn audit_time(r: &Value) -> DateTime<Utc> {
    let s = r["CreationTime"].as_str().expect("CreationTime");
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
        .unwrap_or_else(|e| panic!("bad CreationTime {s}: {e}"))
        .and_utc()
}

pub fn graph_time(r: &Value) -> DateTime<Utc> {
    let s = r["createdDateTime"].as_str().expect("createdDateTime");
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub fn date_ms(s: &str) -> i64 {
    let inner = s
        .strip_prefix("/Date(")
        .and_then(|x| x.strip_suffix(")/"))
        .unwrap_or_else(|| panic!("not a /Date()/ value: {s}"));
    inner.parse().unwrap()
}

pub fn trace_time(r: &Value) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(date_ms(r["Received"].as_str().unwrap())).unwrap()
}

/// An integer that may be written as a string.
pub fn int_of(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap(),
        Value::String(s) => s.parse().unwrap(),
        other => panic!("not an integer: {other}"),
    }
}

/// Name/Value pairs of a list that may be a JSON string and may have lower-case keys.
pub fn pairs(v: &Value) -> Vec<(String, String)> {
    let owned;
    let list = match v {
        Value::String(s) => {
            owned = serde_json::from_str::<Value>(s).expect("Parameters string holds JSON");
            &owned
        }
        other => other,
    };
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|o| {
            let get = |k: &str| {
                o.as_object()
                    .unwrap()
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(k))
                    .map(|(_, v)| v.as_str().unwrap().to_string())
                    .unwrap_or_else(|| panic!("{k} missing in {o}"))
            };
            (get("Name"), get("Value"))
        })
        .collect()
}

pub fn pair(v: &Value, name: &str) -> Option<String> {
    pairs(v)
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Operation without a trailing full stop.
pub fn op(r: &Value) -> &str {
    r["Operation"].as_str().unwrap().trim_end_matches('.')
}

pub fn load(dir: &Path) -> Output {
    let truth = load_truth(&dir.join("truth.json")).expect("truth loads");
    let mut audit = Vec::new();
    for f in files(&dir.join("audit")) {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&f).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want_workloads: &[&str] = if name.starts_with("Audit.AzureActiveDirectory-") {
            &["AzureActiveDirectory"]
        } else if name.starts_with("Audit.Exchange-") {
            &["Exchange"]
        } else if name.starts_with("Audit.SharePoint-") {
            &["SharePoint", "OneDrive"]
        } else if name.starts_with("Audit.General-") {
            &["MicrosoftTeams"]
        } else {
            panic!("unexpected audit file {name}")
        };
        for r in v
            .as_array()
            .unwrap_or_else(|| panic!("{name} is not an array"))
        {
            let o = r.as_object().expect("record is an object");
            for k in [
                "Id",
                "RecordType",
                "CreationTime",
                "Operation",
                "OrganizationId",
                "UserType",
                "UserKey",
                "Workload",
                "UserId",
            ] {
                assert!(o.contains_key(k), "{name}: {k} missing in {r}");
            }
            assert!(is_guid(r["Id"].as_str().unwrap()));
            assert_eq!(r["OrganizationId"], truth.organization.tenant_id.as_str());
            audit_time(r);
            int_of(&r["RecordType"]);
            let wl = r["Workload"].as_str().unwrap();
            assert!(want_workloads.contains(&wl), "{name}: workload {wl}");
            audit.push((name.clone(), r.clone()));
        }
    }
    let mut signins = Vec::new();
    let mut envelopes = Vec::new();
    let mut graph_pages = 0;
    for f in files(&dir.join("signins")) {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(!lines.is_empty(), "{name} is empty");
        for (i, line) in lines.iter().enumerate() {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}:{i}: {e}"));
            if name.starts_with("graph-signIns-") {
                graph_pages += 1;
                assert!(v["@odata.context"]
                    .as_str()
                    .unwrap()
                    .contains("auditLogs/signIns"));
                let has_next = v.get("@odata.nextLink").is_some();
                assert_eq!(
                    has_next,
                    i + 1 < lines.len(),
                    "{name}: nextLink on all pages but the last"
                );
                let page = v["value"].as_array().unwrap();
                assert!(page.len() <= 1000);
                for r in page {
                    signins.push((name.clone(), r.clone()));
                }
            } else if name.starts_with("eventhub-signInLogs-") {
                for e in v["records"].as_array().expect("records array") {
                    let p = &e["properties"];
                    assert_eq!(e["operationName"], "Sign-in activity");
                    let cat = e["category"].as_str().unwrap();
                    assert!(cat == "SignInLogs" || cat == "NonInteractiveUserSignInLogs");
                    assert_eq!(cat == "SignInLogs", p["isInteractive"].as_bool().unwrap());
                    let rt = e["resultType"].as_str().expect("resultType is a string");
                    assert_eq!(rt, p["status"]["errorCode"].as_i64().unwrap().to_string());
                    assert_eq!(e["callerIpAddress"], p["ipAddress"]);
                    assert_eq!(e["correlationId"], p["correlationId"]);
                    assert!(e["time"].as_str().unwrap().ends_with('Z'));
                    envelopes.push(e.clone());
                    signins.push((name.clone(), p.clone()));
                }
            } else {
                panic!("unexpected sign-in file {name}");
            }
        }
    }
    for (_, r) in &signins {
        for k in [
            "id",
            "createdDateTime",
            "userPrincipalName",
            "userId",
            "appDisplayName",
            "appId",
            "ipAddress",
            "clientAppUsed",
            "userAgent",
            "correlationId",
            "isInteractive",
            "status",
            "location",
            "authenticationRequirement",
            "authenticationProtocol",
            "deviceDetail",
        ] {
            assert!(r.get(k).is_some(), "{k} missing in sign-in {r}");
        }
        assert!(is_guid(r["id"].as_str().unwrap()));
        assert!(r["status"]["errorCode"].is_i64());
        graph_time(r);
    }
    let mut traces = Vec::new();
    for f in files(&dir.join("messagetrace")) {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for (i, r) in v.as_array().unwrap().iter().enumerate() {
            for k in [
                "Organization",
                "MessageId",
                "Received",
                "SenderAddress",
                "RecipientAddress",
                "Subject",
                "Status",
                "ToIP",
                "FromIP",
                "Size",
                "MessageTraceId",
                "StartDate",
                "EndDate",
                "Index",
            ] {
                assert!(r.get(k).is_some(), "{name}: {k} missing in {r}");
            }
            assert_eq!(r["Index"].as_u64().unwrap(), i as u64);
            let start = date_ms(r["StartDate"].as_str().unwrap());
            let end = date_ms(r["EndDate"].as_str().unwrap());
            assert_eq!(end - start, 86_400_000);
            date_ms(r["Received"].as_str().unwrap());
            traces.push((name.clone(), r.clone()));
        }
    }
    Output {
        dir: dir.to_path_buf(),
        audit,
        signins,
        envelopes,
        graph_pages,
        traces,
        truth,
    }
}

impl Output {
    pub fn audit_by_id(&self) -> HashMap<&str, &Value> {
        self.audit
            .iter()
            .map(|(_, r)| (r["Id"].as_str().unwrap(), r))
            .collect()
    }

    pub fn signin_by_id(&self) -> HashMap<&str, &Value> {
        self.signins
            .iter()
            .map(|(_, r)| (r["id"].as_str().unwrap(), r))
            .collect()
    }

    pub fn trace_by_id(&self) -> HashMap<String, &Value> {
        self.traces
            .iter()
            .map(|(_, r)| {
                (
                    format!(
                        "{}:{}",
                        r["MessageTraceId"].as_str().unwrap(),
                        r["RecipientAddress"].as_str().unwrap()
                    ),
                    r,
                )
            })
            .collect()
    }

    pub fn attack(&self, kind: vigil_sim::AttackKind) -> &vigil_sim::TruthAttack {
        self.truth
            .attacks
            .iter()
            .find(|a| a.kind == kind)
            .unwrap_or_else(|| panic!("no {kind} in truth"))
    }

    /// Every truth id resolves to a record.
    pub fn assert_truth_ids_exist(&self) {
        let audit = self.audit_by_id();
        let signin = self.signin_by_id();
        let trace = self.trace_by_id();
        for a in &self.truth.attacks {
            for id in &a.records.audit {
                assert!(
                    audit.contains_key(id.as_str()),
                    "{}: audit {id} missing",
                    a.id
                );
            }
            for id in &a.records.sign_in {
                assert!(
                    signin.contains_key(id.as_str()),
                    "{}: sign-in {id} missing",
                    a.id
                );
            }
            for id in &a.records.message_trace {
                assert!(trace.contains_key(id), "{}: trace {id} missing", a.id);
            }
        }
    }
}
