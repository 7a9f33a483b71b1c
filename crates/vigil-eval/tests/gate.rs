//! The CI gate of the detection issue: a small evaluation, end to end (simulate, replay through
//! ingest, enrichment and the engine, score), that fails when recall, time to detect, the
//! false-incident rate, innocent accounts disabled or the reference chain cross the thresholds.
//! The seeds are CI's own: neither in the development matrix nor the held-out seeds of
//! docs/evaluation.md.

use vigil_eval::{run_end_to_end, Thresholds};
use vigil_sim::{AttackKind, AttackSpec, SimConfig};

fn gate(sim: SimConfig) {
    let dir = tempfile::tempdir().unwrap();
    let (ev, _) = run_end_to_end(&sim, dir.path(), vigil_engine::EngineConfig::default()).unwrap();
    let violations = ev.check(&Thresholds::default());
    assert!(
        violations.is_empty(),
        "thresholds crossed:\n{}\n\n{}",
        violations.join("\n"),
        ev.to_text()
    );
}

#[test]
fn every_attack_kind_is_detected_in_time_without_false_alarms() {
    gate(SimConfig {
        accounts: 200,
        days: 14,
        seed: 7001,
        attacks: AttackKind::ALL
            .iter()
            .map(|&kind| AttackSpec { kind, day: None })
            .collect(),
        ..SimConfig::default()
    });
}

#[test]
fn a_benign_month_raises_few_incidents_and_disables_nobody() {
    gate(SimConfig {
        accounts: 300,
        days: 30,
        seed: 7002,
        ..SimConfig::default()
    });
}
