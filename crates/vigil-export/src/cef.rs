//! ArcSight Common Event Format: `CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|ext`.
//!
//! Header fields escape `\` and `|`; extension values escape `\`, `=` and line breaks. Severity
//! is 0–10 (the score divided by ten).

use crate::Finding;

/// Escapes a header field.
pub fn escape_header(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|")
}

/// Escapes an extension value.
pub fn escape_value(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('=', "\\=")
        .replace("\r\n", "\\n")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

fn ext(out: &mut String, key: &str, value: &str) {
    if value.is_empty() {
        return;
    }
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(key);
    out.push('=');
    out.push_str(&escape_value(value));
}

/// CEF severity 0–10 from a 0–100 score.
pub fn severity(score: f64) -> u8 {
    (score / 10.0).round().clamp(0.0, 10.0) as u8
}

/// One finding as a CEF record.
pub fn format(finding: Finding<'_>) -> String {
    let mut e = String::new();
    let (signature, name) = match finding {
        Finding::Breach(b) => {
            ext(&mut e, "rt", &b.time.timestamp_millis().to_string());
            if let Some(ip) = b.entity.strip_prefix("ip:") {
                ext(&mut e, "src", ip);
            } else if !b.entity.contains(':') {
                ext(&mut e, "suser", &b.entity);
            } else {
                ext(&mut e, "cs2Label", "entity");
                ext(&mut e, "cs2", &b.entity);
            }
            ext(&mut e, "externalId", &b.id);
            ext(&mut e, "cat", "breach");
            ext(&mut e, "cn1Label", "score");
            ext(&mut e, "cn1", &format!("{:.0}", b.score));
            ext(&mut e, "cs1Label", "events");
            ext(&mut e, "cs1", &b.event_ids.join(","));
            ext(&mut e, "msg", &b.reason);
            (b.model.as_str(), b.model.as_str())
        }
        Finding::Incident(i) => {
            ext(&mut e, "rt", &i.end.timestamp_millis().to_string());
            ext(&mut e, "start", &i.start.timestamp_millis().to_string());
            ext(&mut e, "end", &i.end.timestamp_millis().to_string());
            ext(&mut e, "externalId", &i.id);
            ext(&mut e, "cat", "incident");
            ext(&mut e, "cn1Label", "score");
            ext(&mut e, "cn1", &format!("{:.0}", i.score));
            ext(
                &mut e,
                "suser",
                i.entities.first().map_or("", |s| s.as_str()),
            );
            ext(&mut e, "cs1Label", "entities");
            ext(&mut e, "cs1", &i.entities.join(","));
            ext(&mut e, "cs2Label", "breaches");
            ext(&mut e, "cs2", &i.breach_ids.join(","));
            ext(&mut e, "msg", &i.summary);
            ("incident", i.title.as_str())
        }
    };
    format!(
        "CEF:0|Vigil|Vigil|{}|{}|{}|{}|{e}",
        env!("CARGO_PKG_VERSION"),
        escape_header(signature),
        escape_header(name),
        severity(finding.score())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_headers_and_values() {
        assert_eq!(escape_header(r"a|b\c"), r"a\|b\\c");
        assert_eq!(escape_value("k=v\nnext\\"), r"k\=v\nnext\\");
        assert_eq!(severity(94.6), 9);
        assert_eq!(severity(140.0), 10);
    }

    #[test]
    fn breach_record() {
        let b = vigil_report::Breach {
            id: "b7".into(),
            model: "SaaS / Access / Suspicious Login User-Agent".into(),
            score: 92.0,
            time: "2022-02-01T04:55:51Z".parse().unwrap(),
            entity: "adele@contoso.example".into(),
            event_ids: vec!["e1".into(), "e2".into()],
            reason: "BAV2ROPC, which bypasses MFA; score=high|odd".into(),
            metrics: Default::default(),
        };
        let s = format(Finding::Breach(&b));
        assert!(s.starts_with(
            "CEF:0|Vigil|Vigil|0.1.0|SaaS / Access / Suspicious Login User-Agent|SaaS / Access / Suspicious Login User-Agent|9|rt=1643691351000 suser=adele@contoso.example externalId=b7 cat=breach"
        ), "{s}");
        assert!(
            s.ends_with(r"msg=BAV2ROPC, which bypasses MFA; score\=high|odd"),
            "{s}"
        );
    }
}
