//! OCSF Detection Finding (class_uid 2004, category Findings) objects, one JSON object per line.
//!
//! Breaches and incidents are both findings: a breach is one analytic's detection
//! (`finding_info.analytic` names the model), an incident groups breaches
//! (`finding_info.related_events` lists them, `finding_info.types` says `Incident`). The first
//! time an id is written the activity is Create (1); later versions of it are Update (2).

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{ExportError, Finding};

pub const CLASS_UID: u32 = 2004;
pub const CATEGORY_UID: u32 = 2;
/// The OCSF schema version these objects follow.
pub const SCHEMA_VERSION: &str = "1.3.0";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OcsfConfig {
    /// JSON lines file, appended to.
    pub path: PathBuf,
}

/// OCSF severity_id: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical.
pub fn severity(score: f64) -> (u8, &'static str) {
    match score {
        s if s >= 90.0 => (5, "Critical"),
        s if s >= 70.0 => (4, "High"),
        s if s >= 50.0 => (3, "Medium"),
        s if s >= 25.0 => (2, "Low"),
        _ => (1, "Informational"),
    }
}

/// The Detection Finding for one breach or incident; `update` selects activity Update.
pub fn detection_finding(finding: Finding<'_>, update: bool) -> Value {
    let (activity_id, activity_name) = if update { (2, "Update") } else { (1, "Create") };
    let (severity_id, severity_name) = severity(finding.score());
    let product =
        json!({"name": "Vigil", "vendor_name": "Vigil", "version": env!("CARGO_PKG_VERSION")});
    let mut v = json!({
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "activity_id": activity_id,
        "activity_name": activity_name,
        "type_uid": CLASS_UID * 100 + activity_id,
        "type_name": format!("Detection Finding: {activity_name}"),
        "severity_id": severity_id,
        "severity": severity_name,
        "status_id": 1,
        "status": "New",
        "risk_score": finding.score().round() as i64,
        "metadata": {"version": SCHEMA_VERSION, "product": product, "uid": finding.id()},
    });
    match finding {
        Finding::Breach(b) => {
            let ms = b.time.timestamp_millis();
            v["time"] = json!(ms);
            v["message"] = json!(b.reason);
            v["finding_info"] = json!({
                "uid": b.id,
                "title": b.model,
                "desc": b.reason,
                "types": ["Model Breach"],
                "created_time": ms,
                "first_seen_time": ms,
                "last_seen_time": ms,
                // Models compare behaviour with a learned pattern of life.
                "analytic": {"name": b.model, "type_id": 2, "type": "Behavioral"},
                "related_events": b.event_ids.iter().map(|id| json!({"uid": id})).collect::<Vec<_>>(),
            });
            v["resources"] = json!([entity_resource(&b.entity)]);
            v["unmapped"] = json!({"metrics": b.metrics});
        }
        Finding::Incident(i) => {
            v["time"] = json!(i.end.timestamp_millis());
            v["message"] = json!(i.summary);
            v["finding_info"] = json!({
                "uid": i.id,
                "title": i.title,
                "desc": i.summary,
                "types": ["Incident"],
                "created_time": i.start.timestamp_millis(),
                "first_seen_time": i.start.timestamp_millis(),
                "last_seen_time": i.end.timestamp_millis(),
                "related_events": i.breach_ids.iter().map(|id| json!({"uid": id, "type": "Model Breach"})).collect::<Vec<_>>(),
            });
            v["resources"] = Value::Array(i.entities.iter().map(|e| entity_resource(e)).collect());
        }
    }
    v
}

fn entity_resource(entity: &str) -> Value {
    match entity.split_once(':') {
        Some(("ip", ip)) => json!({"type": "IP Address", "uid": ip, "name": ip}),
        Some(("app", app)) => json!({"type": "Application", "uid": app, "name": app}),
        Some((kind, rest)) => json!({"type": kind, "uid": rest, "name": rest}),
        None => json!({"type": "User", "uid": entity, "name": entity}),
    }
}

/// Appends findings to a JSON lines file.
pub struct OcsfWriter {
    path: PathBuf,
    written: HashSet<String>,
}

impl OcsfWriter {
    pub fn new(cfg: &OcsfConfig) -> OcsfWriter {
        OcsfWriter {
            path: cfg.path.clone(),
            written: HashSet::new(),
        }
    }

    pub fn write(&mut self, finding: Finding<'_>) -> Result<(), ExportError> {
        let key = format!("{}:{}", finding.kind(), finding.id());
        let update = !self.written.insert(key);
        let line = detection_finding(finding, update).to_string();
        let err = |source| ExportError::Ocsf {
            path: self.path.display().to_string(),
            source,
        };
        if let Some(d) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(d).map_err(err)?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(err)?;
        // One write per line, so that readers tailing the file never see half a finding.
        f.write_all(format!("{line}\n").as_bytes()).map_err(err)
    }
}
