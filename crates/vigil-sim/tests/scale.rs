//! A 20,000-account day runs in bounded memory.
//!
//! The day is a Saturday so that the test stays within a few seconds in a debug build; the
//! streaming path is the same as on a weekday (which writes ~30 records per account) and a
//! small memory budget forces every bucket through the scratch files.

mod common;

use chrono::TimeZone;
use vigil_sim::{simulate, SimConfig};

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn twenty_thousand_accounts_one_day() {
    let cfg = SimConfig {
        accounts: 20_000,
        days: 1,
        seed: 11,
        start: chrono::Utc.with_ymd_and_hms(2022, 1, 22, 0, 0, 0).unwrap(),
        attacks: vec!["password-spray@0".parse().unwrap()],
        ..SimConfig::default()
    };
    vigil_sim::set_memory_budget(8 << 20);
    let dir = common::scratch("scale-20k");
    let progress_calls = std::sync::atomic::AtomicU64::new(0);
    let summary = simulate(&cfg, &dir, &|_| {
        progress_calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(summary.accounts, 20_000);
    assert!(summary.records > 10_000, "{} records", summary.records);
    assert!(progress_calls.into_inner() >= 1);
    let truth = vigil_sim::load_truth(&dir.join("truth.json")).unwrap();
    assert_eq!(truth.accounts.len(), 20_000);
    let upns: std::collections::HashSet<&str> =
        truth.accounts.iter().map(|a| a.upn.as_str()).collect();
    assert_eq!(upns.len(), 20_000, "UPNs are unique");
    if let Some(kib) = peak_rss_kib() {
        assert!(kib < 400 * 1024, "peak RSS {kib} KiB");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
