//! A crash in the middle of the reference attack: the restarted loop loses nothing (every
//! breach and incident an uninterrupted run exports is exported) and raises nothing twice
//! (each finding is exported as often as in the uninterrupted run, and A is disabled once).

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use serde_json::Value;

fn ocsf(path: &Path) -> vigil_export::ExportConfig {
    vigil_export::ExportConfig {
        ocsf: Some(vigil_export::ocsf::OcsfConfig {
            path: path.to_path_buf(),
        }),
        ..Default::default()
    }
}

/// How many times each finding (kind, uid) was exported.
fn exported(path: &Path) -> BTreeMap<(String, String), usize> {
    let mut m = BTreeMap::new();
    for line in std::fs::read_to_string(path).unwrap_or_default().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let kind = v["finding_info"]["types"][0].as_str().unwrap().to_string();
        let uid = v["finding_info"]["uid"].as_str().unwrap().to_string();
        *m.entry((kind, uid)).or_default() += 1;
    }
    m
}

fn disables_of(svc: &Service, a: &str) -> usize {
    svc.standin
        .mutations()
        .iter()
        .filter(|m| {
            m.method == "PATCH"
                && m.path.eq_ignore_ascii_case(&format!("/v1.0/users/{a}"))
                && m.body["accountEnabled"] == false
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_attack_loses_nothing_and_raises_nothing_twice() {
    let s = scenario();
    let start = s.truth.start;
    let end = start + chrono::Duration::days(10);
    let attack_day = start + chrono::Duration::days(8);

    // Uninterrupted.
    let svc = Service::start(&s).await;
    let out = s.scratch.path().join("uninterrupted.jsonl");
    let mut live = svc.live(start, &s.scratch.path().join("u"), ocsf(&out), 0);
    feed_days(&svc, &s.tenant, &mut live, start, end, |_| {}).await;
    live.shutdown().await;
    let reference = exported(&out);
    assert!(
        reference.keys().any(|(k, _)| k == "Incident"),
        "the attack is an incident: {reference:?}"
    );
    assert_eq!(disables_of(&svc, &s.a), 1);

    // Saved after each day until the attack day; the attack day is processed (A disabled,
    // findings made) and then the process dies before its next save.
    let svc = Service::start(&s).await;
    let out = s.scratch.path().join("interrupted.jsonl");
    let state = s.scratch.path().join("i");
    let mut live = svc.live(start, &state, ocsf(&out), 3600);
    feed_days(&svc, &s.tenant, &mut live, start, attack_day, |l| {
        l.save().unwrap();
    })
    .await;
    live.flush_exports().await;
    let saved_before_crash = exported(&out);
    svc.set_now(attack_day + chrono::Duration::days(1));
    svc.publish(
        &s.tenant,
        attack_day,
        attack_day + chrono::Duration::days(1),
    );
    poll_until_idle(&mut live).await;
    // Let the containment finish, as it would in the second before a crash.
    for _ in 0..50 {
        if disables_of(&svc, &s.a) == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(disables_of(&svc, &s.a), 1, "A disabled before the crash");
    live.flush_exports().await;
    assert_eq!(
        exported(&out),
        saved_before_crash,
        "nothing of the unsaved attack day was exported yet"
    );
    drop(live);

    // Restart from the saved state: the attack day is collected again, then the last day.
    let mut live = svc.live(start, &state, ocsf(&out), 0);
    poll_until_idle(&mut live).await;
    feed_days(
        &svc,
        &s.tenant,
        &mut live,
        attack_day + chrono::Duration::days(1),
        end,
        |_| {},
    )
    .await;
    live.shutdown().await;
    let after = exported(&out);
    let missing: Vec<_> = reference
        .keys()
        .filter(|k| !after.contains_key(*k))
        .collect();
    assert!(missing.is_empty(), "lost: {missing:?}");
    let twice: Vec<_> = after
        .iter()
        .filter(|(k, n)| reference.get(*k).is_some_and(|r| *n > r))
        .collect();
    assert!(
        twice.is_empty(),
        "raised more often than uninterrupted: {twice:?}"
    );
    assert_eq!(after, reference);
    assert_eq!(
        disables_of(&svc, &s.a),
        1,
        "the re-planned disable was not sent again"
    );
}
