//! The reference multi-account compromise on generated tenants.

mod common;

use common::*;
use vigil_engine::{Engine, EngineConfig};
use vigil_report::ActionMode;

const REFERENCE_MODELS: &[&str] = &[
    "SaaS / Access / Suspicious Login User-Agent",
    "SaaS / Access / Unusual External Source for SaaS Credential Use",
    "SaaS / Compliance / New Email Rule",
    "SaaS / Compromise / Unusual Login and New Email Rule",
    "IaaS / Admin / Azure Application Administration Activities",
    "SaaS / Admin / OAuth Permission Grant",
    "Device / Multiple Model Breaches",
    "SaaS / Compliance / Multiple Unusual SaaS Activities",
    "SaaS / Email Nexus / Possible Outbound Email Spam",
    "SaaS / Compromise / Unusual Login and Outbound Email Spam",
];

fn run(seed: u64, accounts: usize) {
    let mut rng = Rng::new(seed);
    let mut tenant = Tenant::new(&mut rng, accounts, 14);
    let benign = tenant.benign(&mut rng);
    let attack = reference_attack(&mut tenant, &mut rng);
    let mut engine = Engine::new(EngineConfig::default()).unwrap();
    for e in &benign {
        let out = engine.process(e);
        assert!(
            out.incidents.is_empty(),
            "seed {seed}: benign history raised {:#?}",
            out.incidents
        );
    }
    let benign_breaches = engine.finish().breaches.len();
    let mut first_login_out = None;
    for e in &attack.events {
        let out = engine.process(e);
        if e.time == attack.first_login && e.user.as_deref() == Some(attack.a.as_str()) {
            first_login_out = Some(out);
        }
    }
    let f = engine.finish();
    let first = first_login_out.expect("first login processed");

    // A is breached at the second of the first login, by both access models, with the reasons.
    let ua = first
        .breaches
        .iter()
        .find(|b| b.model == "SaaS / Access / Suspicious Login User-Agent")
        .unwrap_or_else(|| {
            panic!(
                "seed {seed}: no UA breach at first login: {:#?}",
                first.breaches
            )
        });
    assert_eq!(ua.time, attack.first_login);
    assert_eq!(ua.entity, attack.a);
    assert!(ua.score >= 85.0, "seed {seed}: {}", ua.score);
    assert_eq!(ua.metrics["country_first_for_account"].value, true);
    assert_eq!(ua.metrics["ua_legacy_auth"].value, true);
    assert_eq!(ua.metrics["asn_org_accounts"].value, 0);
    assert_eq!(
        ua.metrics["asn_org_accounts"].baseline,
        accounts as u64 + 1,
        "N includes the service account"
    );
    let cname = vigil_engine::geo::country_name(&attack.country);
    assert!(
        ua.reason.contains(&format!(
            "first sign-in of this account from {cname} and from AS{}",
            attack.asn
        )),
        "{}",
        ua.reason
    );
    assert!(
        ua.reason.contains("BAV2ROPC, which bypasses MFA"),
        "{}",
        ua.reason
    );
    assert!(
        ua.reason
            .contains(&format!("none of the {} accounts", accounts + 1)),
        "{}",
        ua.reason
    );
    assert!(first
        .breaches
        .iter()
        .any(|b| b.model == "SaaS / Access / Unusual External Source for SaaS Credential Use"));

    // A containment action for A planned at that very second, before the first spam.
    let contain = first
        .actions
        .iter()
        .find(|a| (a.kind == "disable_user" || a.kind == "revoke_sessions") && a.target == attack.a)
        .expect("containment planned at first login");
    assert_eq!(contain.time, attack.first_login);
    assert!(contain.time < attack.first_spam);
    assert_eq!(
        contain.mode,
        ActionMode::Confirm,
        "default global mode is confirm"
    );
    assert_eq!(contain.state, "pending");

    // Every reference detection is present.
    for m in REFERENCE_MODELS {
        assert!(
            f.breaches.iter().any(|b| b.model == *m),
            "seed {seed}: missing {m}; got {:?}",
            f.breaches
                .iter()
                .map(|b| (&b.model, &b.entity, b.score))
                .collect::<Vec<_>>()
        );
    }
    // B and C breached.
    for who in [&attack.b, &attack.c] {
        assert!(
            f.breaches
                .iter()
                .any(|b| &b.entity == who && b.score >= 50.0),
            "seed {seed}: {who} not breached"
        );
    }
    // One incident holds A, B and C.
    let inc: Vec<_> = f
        .incidents
        .iter()
        .filter(|i| i.entities.contains(&attack.a))
        .collect();
    assert_eq!(inc.len(), 1, "seed {seed}: {inc:#?}");
    let inc = inc[0];
    for who in [&attack.a, &attack.b, &attack.c] {
        assert!(
            inc.entities.contains(who),
            "seed {seed}: {who} not in {:#?}",
            inc
        );
    }
    assert!(inc.score >= 90.0);
    assert!(
        inc.summary.contains(&attack.ip.to_string()),
        "{}",
        inc.summary
    );
    assert!(inc.summary.contains(&attack.app), "{}", inc.summary);
    // Actions' incident ids point at reported incidents.
    for a in &f.actions {
        assert!(
            f.incidents.iter().any(|i| i.id == a.incident_id),
            "dangling {a:?}"
        );
    }
    // Nothing else: the benign history raised few breaches and no incident besides the attack.
    assert_eq!(f.incidents.len(), 1, "seed {seed}: {:#?}", f.incidents);
    assert!(
        benign_breaches <= accounts / 5,
        "seed {seed}: {benign_breaches} benign breaches"
    );
}

#[test]
fn reference_attack_is_caught_at_first_login_and_held_in_one_incident() {
    for seed in [1u64, 7, 42] {
        run(seed, 40 + (seed as usize % 3) * 10);
    }
}

#[test]
fn autonomous_mode_acts_at_the_first_login() {
    let mut rng = Rng::new(99);
    let mut tenant = Tenant::new(&mut rng, 30, 14);
    let benign = tenant.benign(&mut rng);
    let attack = reference_attack(&mut tenant, &mut rng);
    let mut cfg = EngineConfig::default();
    cfg.response.mode = ActionMode::Autonomous;
    let mut engine = Engine::new(cfg).unwrap();
    for e in benign.iter().chain(&attack.events) {
        engine.process(e);
    }
    let f = engine.finish();
    let disable = f
        .actions
        .iter()
        .find(|a| a.kind == "disable_user" && a.target == attack.a)
        .expect("disable A");
    assert_eq!(disable.mode, ActionMode::Autonomous);
    assert_eq!(disable.time, attack.first_login);
    assert_eq!(disable.state, "planned");
    // No innocent account disabled.
    for a in f.actions.iter().filter(|a| a.kind == "disable_user") {
        assert!(
            [&attack.a, &attack.b, &attack.c].contains(&&a.target),
            "innocent {a:?}"
        );
    }
}
