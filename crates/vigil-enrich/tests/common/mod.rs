//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::TimeZone;
use vigil_event::{Event, EventKind, Format, Outcome, Source};

/// The repository's `data/ip/`, filled by `scripts/fetch-ip-data.sh`. Panics with instructions
/// when the files are missing: tests that need the real data must not pass without it.
pub fn data_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("data")
        .join("ip");
    let missing: Vec<&str> = [
        vigil_enrich::COUNTRY_MMDB_FILE,
        vigil_enrich::ASN_CSV_FILES[0],
        vigil_enrich::ASN_CSV_FILES[1],
    ]
    .into_iter()
    .filter(|f| !dir.join(f).is_file())
    .collect();
    assert!(
        missing.is_empty(),
        "IP data missing from {}: {}. Run scripts/fetch-ip-data.sh from the repository root \
         to download it (these tests need the real files).",
        dir.display(),
        missing.join(", ")
    );
    dir
}

pub fn real_config() -> vigil_enrich::EnrichConfig {
    let dir = data_dir();
    vigil_enrich::EnrichConfig {
        country_mmdb: Some(dir.join(vigil_enrich::COUNTRY_MMDB_FILE)),
        asn_csv: vigil_enrich::ASN_CSV_FILES
            .iter()
            .map(|f| dir.join(f))
            .collect(),
        public_suffix_list: None,
    }
}

pub fn event(kind: EventKind) -> Event {
    Event {
        id: "test-1".into(),
        alias_ids: Vec::new(),
        linked_to: None,
        time: chrono::Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
        source: Source::Audit,
        format: Format::ManagementApi,
        operation: "Test".into(),
        workload: None,
        outcome: Outcome::Success,
        user: None,
        ip: None,
        user_agent: None,
        request_id: None,
        correlation_id: None,
        kind,
        enrichment: Default::default(),
        late: false,
        raw: Arc::from("{}"),
    }
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}
