//! Simulate, replay and score a small tenant with the reference chain (10 days: the engine
//! learns the organisation for its first 7).

use std::collections::BTreeSet;

use vigil_eval::run_end_to_end;
use vigil_report::ActionMode;
use vigil_sim::{AttackKind, AttackSpec, SimConfig};

#[test]
fn reference_chain_end_to_end_is_detected_and_the_numbers_agree_with_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimConfig {
        accounts: 60,
        days: 10,
        seed: 5,
        attacks: vec![AttackSpec {
            kind: AttackKind::ReferenceChain,
            day: Some(8),
        }],
        ..SimConfig::default()
    };
    let (ev, report) =
        run_end_to_end(&sim, dir.path(), vigil_engine::EngineConfig::default()).unwrap();

    // The run is what was asked for.
    assert_eq!((ev.accounts, ev.days, ev.account_days), (60, 10, 600));
    assert!(report.summary.events > 1000, "{}", report.summary.events);
    assert!(dir.path().join("tenant/truth.json").is_file());

    // The reference chain is detected, A contained before its spam, all three in one incident.
    assert_eq!(ev.attacks.len(), 1);
    let atk = &ev.attacks[0];
    assert_eq!(atk.kind, AttackKind::ReferenceChain);
    assert!(atk.detected, "{}", ev.to_text());
    assert_eq!(ev.per_kind[0].recall, 1.0);
    let r = &ev.reference_chain[0];
    assert!(r.contained_before_spam, "{}", ev.to_text());
    assert!(r.held_in_one_incident, "{}", ev.to_text());
    assert_eq!(r.compromised_breached.len(), 3, "{}", ev.to_text());

    // Autonomous mode was forced.
    assert!(!report.actions.is_empty());
    assert!(report
        .actions
        .iter()
        .any(|a| a.mode == ActionMode::Autonomous));

    // The evaluation's numbers agree with the report.
    assert_eq!(ev.breaches, report.breaches.len());
    assert_eq!(ev.incidents, report.incidents.len());
    assert_eq!(ev.false_breaches + atk.breaches, report.breaches.len());
    let fb: usize = ev.false_breaches_by_model.iter().map(|(_, n)| n).sum();
    assert_eq!(fb, ev.false_breaches);
    assert!(
        (ev.false_breaches_per_1000_account_days - ev.false_breaches as f64 * 1000.0 / 600.0).abs()
            < 1e-9
    );
    assert!(
        (ev.false_incidents_per_1000_account_days - ev.false_incidents as f64 * 1000.0 / 600.0)
            .abs()
            < 1e-9
    );
    let report_incidents: BTreeSet<&str> = report.incidents.iter().map(|i| i.id.as_str()).collect();
    for f in &ev.false_incident_list {
        assert!(report_incidents.contains(f.id.as_str()));
    }
    let incident = report
        .incidents
        .iter()
        .find(|i| Some(&i.id) == r.incident_id.as_ref())
        .expect("the reference incident is in the report");
    for c in r.compromised_breached.iter().chain(&r.compromised_missed) {
        assert!(incident.entities.contains(c));
    }
    let containment = report
        .actions
        .iter()
        .find(|a| {
            a.target == r.account_a
                && Some(&a.kind) == r.containment_kind.as_ref()
                && Some(a.time) == r.containment_time
        })
        .expect("the containment action is in the report");
    assert!(containment.time <= r.first_spam.unwrap());
    let disabled_innocents: BTreeSet<&str> = report
        .actions
        .iter()
        .filter(|a| a.kind == "disable_user" && !atk.victims.iter().any(|v| v.account == a.target))
        .map(|a| a.target.as_str())
        .collect();
    assert_eq!(ev.innocent_disabled, disabled_innocents.len());
    // Every model named for the attack fired on a breach of the report.
    for m in &atk.models {
        assert!(report.breaches.iter().any(|b| &b.model == m));
    }
    assert!(ev
        .to_text()
        .contains("reference chain atk-01-reference-chain"));
}
