//! Every other attack kind of the detection issue, on generated tenants with randomised details.

mod common;

use chrono::Duration;
use common::*;
use vigil_engine::{model, Engine, EngineConfig};
use vigil_event::*;

fn history(seed: u64, n: usize) -> (Rng, Tenant, Engine) {
    let mut rng = Rng::new(seed);
    let mut tenant = Tenant::new(&mut rng, n, 14);
    let benign = tenant.benign(&mut rng);
    let mut engine = Engine::new(EngineConfig::default()).unwrap();
    for e in &benign {
        assert!(engine.process(e).incidents.is_empty());
    }
    (rng, tenant, engine)
}

/// Runs the events; returns the first breach of `model` on `entity` and its delay after `start`.
fn detect(
    engine: &mut Engine,
    evs: &[Event],
    model: &str,
    entity: &str,
) -> Option<(vigil_report::Breach, i64)> {
    let start = evs.first()?.time;
    for e in evs {
        for b in engine.process(e).breaches {
            if b.model == model && b.entity == entity {
                let delay = (b.time - start).num_seconds();
                return Some((b, delay));
            }
        }
    }
    None
}

fn victim(rng: &mut Rng, t: &Tenant) -> String {
    t.accounts[rng.below(t.accounts.len() as u64) as usize]
        .upn
        .clone()
}

fn attacker_ip(rng: &mut Rng) -> (std::net::IpAddr, String, u32) {
    (
        ip4(
            rng.range(100, 200) as u8,
            rng.range(0, 255) as u8,
            rng.range(0, 255) as u8,
            rng.range(1, 254) as u8,
        ),
        rng.pick(ATTACKER_COUNTRIES).to_string(),
        rng.range(30000, 60000) as u32,
    )
}

#[test]
fn password_spray_then_success() {
    for seed in [1u64, 2] {
        let (mut rng, mut t, mut engine) = history(seed, 40);
        let (ip, c, asn) = attacker_ip(&mut rng);
        let t0 = t.start + Duration::days(14) + Duration::hours(rng.range(0, 20));
        let mut evs = Vec::new();
        let accts: Vec<String> = t.accounts.iter().map(|a| a.upn.clone()).collect();
        for (i, a) in accts.iter().enumerate().take(15 + rng.below(10) as usize) {
            evs.push(t.signin(
                t0 + Duration::seconds(i as i64 * 20),
                a,
                ip,
                &c,
                asn,
                ("python-requests", UaClass::Automation),
                false,
                50126,
            ));
        }
        let win = accts[rng.below(accts.len() as u64) as usize].clone();
        evs.push(t.signin(
            t0 + Duration::minutes(12),
            &win,
            ip,
            &c,
            asn,
            ("python-requests", UaClass::Automation),
            true,
            0,
        ));
        let src = format!("ip:{ip}");
        let mut e2 = Engine::restore(EngineConfig::default(), &engine.snapshot()).unwrap();
        let (b, delay) = detect(&mut engine, &evs, "SaaS / Access / Password Spray", &win)
            .expect("spray success");
        assert!(b.score >= 80.0 && delay < 300 * 3, "{b:?}");
        assert!(
            b.reason.contains("accounts failed to sign in from"),
            "{}",
            b.reason
        );
        assert!(detect(&mut e2, &evs, "SaaS / Access / Password Spray Source", &src).is_some());
        let f = engine.finish();
        assert!(f
            .actions
            .iter()
            .any(|a| a.kind == "block_ip" && a.target == ip.to_string()));
    }
}

#[test]
fn mfa_fatigue_then_new_mfa_method() {
    let (mut rng, mut t, mut engine) = history(3, 30);
    let who = victim(&mut rng, &t);
    let (ip, c, asn) = attacker_ip(&mut rng);
    let t0 = t.start + Duration::days(14) + Duration::hours(2);
    let mut evs = Vec::new();
    let k = 4 + rng.below(5) as i64;
    for i in 0..k {
        evs.push(t.signin(
            t0 + Duration::minutes(i * 2),
            &who,
            ip,
            &c,
            asn,
            ("Chrome", UaClass::Browser),
            false,
            500121,
        ));
    }
    evs.push(t.signin(
        t0 + Duration::minutes(k * 2 + 1),
        &who,
        ip,
        &c,
        asn,
        ("Chrome", UaClass::Browser),
        true,
        0,
    ));
    evs.push(t.event(
        t0 + Duration::minutes(k * 2 + 6),
        &who,
        Some(ip),
        EventKind::AccountSecurity(AccountSecurity {
            change: SecurityChange::SecurityInfoRegistered,
            target_user: Some(who.clone().into()),
            properties: Vec::new(),
        }),
    ));
    let mut all = Vec::new();
    for e in &evs {
        all.extend(engine.process(e).breaches);
    }
    let fat = all
        .iter()
        .find(|b| b.model == "SaaS / Access / MFA Fatigue")
        .expect("fatigue");
    assert_eq!(fat.entity, who);
    // Four or more denials from a network nobody in the organisation uses, in a new country.
    assert!(fat.score >= 75.0, "{}", fat.score);
    assert!(fat.reason.contains("MFA prompts denied"), "{}", fat.reason);
    assert!(all.iter().any(
        |b| b.model == "SaaS / Access / New MFA Method After Unusual Login" && b.entity == who
    ));
}

#[test]
fn external_forwarding_and_hidden_rules() {
    let (mut rng, mut t, mut engine) = history(4, 30);
    let who = victim(&mut rng, &t);
    let t0 = t.start + Duration::days(14) + Duration::hours(11);
    let ext = format!("{}@{}.example", rng.word(), rng.word());
    let fwd = t.event(
        t0,
        &who,
        None,
        EventKind::MailboxForwarding(MailboxForwarding {
            mailbox: Some(who.clone().into()),
            forward_to: vec![MailAddress::parse(&ext).unwrap()],
            forwarding_recipient: None,
            deliver_and_forward: Some(false),
            cleared: false,
            parameters: Vec::new(),
        }),
    );
    let out = engine.process(&fwd);
    let b = out
        .breaches
        .iter()
        .find(|b| b.model == "SaaS / Compliance / External Mail Forwarding")
        .expect("forwarding");
    assert!(b.reason.contains(&ext), "{}", b.reason);
    // A quiet same-country rule that hides security mail, from the office.
    let office = ip4(
        t.office_prefix[0],
        t.office_prefix[1],
        t.office_prefix[2],
        5,
    );
    let name = rng.word();
    let word = *rng.pick(&[
        "phishing",
        "security alert",
        "password reset",
        "suspicious sign-in",
    ]);
    let mut r = t.rule(
        t0 + Duration::hours(1),
        &who,
        office,
        &name,
        Some("RSS Subscriptions"),
        true,
        &[word],
    );
    let c = t.country.clone();
    t.enrich(&mut r, &c, t.office_asn);
    let out = engine.process(&r);
    let h = out
        .breaches
        .iter()
        .find(|b| b.model == "SaaS / Compliance / Hidden Mail Rule")
        .expect("hidden rule");
    assert!(h.score >= 70.0, "{h:?}");
    assert!(out
        .actions
        .iter()
        .any(|a| a.kind == "remove_inbox_rule" && a.target.ends_with(&name)));
}

#[test]
fn illicit_consent_then_bulk_access_by_the_app() {
    let (mut rng, mut t, mut engine) = history(5, 30);
    let who = victim(&mut rng, &t);
    let t0 = t.start + Duration::days(14) + Duration::hours(10);
    let app = format!("{} Sync", rng.word());
    let app_id = format!("{:016x}", rng.next());
    let mut evs = vec![t.consent(
        t0,
        &who,
        &app,
        &app_id,
        &["Mail.Read", "Files.Read.All", "offline_access"],
    )];
    for i in 0..20 {
        evs.push(t.mail_read(
            t0 + Duration::minutes(20 + i),
            &who,
            None,
            60 + rng.below(40),
            Some(&app_id),
        ));
    }
    let mut all = Vec::new();
    for e in &evs {
        all.extend(engine.process(e).breaches);
    }
    assert!(all
        .iter()
        .any(|b| b.model == "SaaS / Admin / OAuth Permission Grant"));
    let bulk = all
        .iter()
        .find(|b| b.model == "SaaS / Data / Illicit Consent App Bulk Access")
        .expect("bulk");
    assert!((bulk.time - t0).num_minutes() <= 30);
    let f = engine.finish();
    assert!(
        f.actions
            .iter()
            .any(|a| a.kind == "revoke_oauth_grant" && a.target.contains(&app_id)),
        "{:#?}",
        f.actions
    );
}

#[test]
fn mass_download_and_stolen_session() {
    let (mut rng, mut t, mut engine) = history(6, 30);
    let who = victim(&mut rng, &t);
    let (ip, c, asn) = attacker_ip(&mut rng);
    let t0 = t.start + Duration::days(14) + Duration::hours(13);
    let mut evs = Vec::new();
    // a stolen session: mail read from a cloud host the account never signed in from
    let mut r = t.mail_read(t0, &who, Some(ip), 20, None);
    t.enrich(&mut r, &c, asn);
    evs.push(r);
    for i in 0..(150 + rng.below(200)) {
        let name = format!("{}-{i}.xlsx", rng.word());
        let mut f = t.file(t0 + Duration::seconds(5 + i as i64 * 8), &who, ip, &name);
        t.enrich(&mut f, &c, asn);
        evs.push(f);
    }
    let mut e2 = Engine::restore(EngineConfig::default(), &engine.snapshot()).unwrap();
    let (b, delay) = detect(
        &mut engine,
        &evs,
        "SaaS / Access / Activity From Unfamiliar IP",
        &who,
    )
    .expect("stolen session");
    assert_eq!(delay, 0);
    assert!(b.score >= 70.0);
    let (_, delay) =
        detect(&mut e2, &evs, "SaaS / Data / Mass Download", &who).expect("mass download");
    assert!(delay < 20 * 60, "{delay}");
}

#[test]
fn impossible_travel() {
    let (mut rng, mut t, mut engine) = history(7, 30);
    let who = victim(&mut rng, &t);
    let t0 = t.start + Duration::days(14) + Duration::hours(9);
    let a = t.accounts.iter().find(|a| a.upn == who).unwrap().clone();
    let c = t.country.clone();
    let far = *rng.pick(&["NG", "VN", "BR", "ID", "KP"]);
    let evs = vec![
        t.signin(
            t0,
            &who,
            a.home_ip,
            &c,
            a.home_asn,
            ("Chrome", UaClass::Browser),
            true,
            0,
        ),
        t.signin(
            t0 + Duration::minutes(20 + rng.range(0, 30)),
            &who,
            ip4(41, 7, 8, 9),
            far,
            37000,
            ("Chrome", UaClass::Browser),
            true,
            0,
        ),
    ];
    let (b, _) =
        detect(&mut engine, &evs, "SaaS / Access / Impossible Travel", &who).expect("travel");
    assert!(b.metrics["travel_kmh"].value.as_f64().unwrap() > 900.0);
}

#[test]
fn then_nothing_sequence_fires_after_the_quiet_period() {
    let src = r#"
[[model]]
name = "Test / Failed then silence"
kind = "sequence"
within = "1h"
requires_baseline = false
score = 40
[[model.step]]
on = ["sign_in"]
when = ["signin_failed"]
count = 3
[model.then_nothing]
on = ["sign_in"]
when = ["signin_success"]
for = "30m"
[[model.test]]
name = "three failures then nothing"
inputs = [
  { at = "0m", kind = "sign_in", metrics = { signin_failed = true } },
  { at = "1m", kind = "sign_in", metrics = { signin_failed = true } },
  { at = "2m", kind = "sign_in", metrics = { signin_failed = true } },
]
expect = "breach"
[[model.test]]
name = "three failures then a success"
inputs = [
  { at = "0m", kind = "sign_in", metrics = { signin_failed = true } },
  { at = "1m", kind = "sign_in", metrics = { signin_failed = true } },
  { at = "2m", kind = "sign_in", metrics = { signin_failed = true } },
  { at = "10m", kind = "sign_in", metrics = { signin_success = true } },
]
expect = "quiet"
"#;
    let models = model::load_str("t.toml", src).unwrap();
    let outcomes = model::run_tests(&models);
    assert!(outcomes.iter().all(|o| o.passed), "{outcomes:#?}");
    // and through the engine, with event time only
    let mut rng = Rng::new(8);
    let mut t = Tenant::new(&mut rng, 3, 1);
    let who = t.accounts[0].upn.clone();
    let mut engine = Engine::with_models(EngineConfig::default(), models);
    let t0 = t.start;
    for i in 0..3 {
        let e = t.signin(
            t0 + Duration::minutes(i),
            &who,
            ip4(1, 2, 3, 4),
            "GB",
            1,
            ("Chrome", UaClass::Browser),
            false,
            50126,
        );
        assert!(engine.process(&e).breaches.is_empty());
    }
    // an unrelated event 40 minutes later moves event time past the quiet period
    let other = t.accounts[1].upn.clone();
    let e = t.signin(
        t0 + Duration::minutes(45),
        &other,
        ip4(1, 2, 3, 5),
        "GB",
        1,
        ("Chrome", UaClass::Browser),
        true,
        0,
    );
    let out = engine.process(&e);
    assert_eq!(out.breaches.len(), 1, "{out:#?}");
    assert_eq!(out.breaches[0].entity, who);
    assert_eq!((out.breaches[0].time - t0).num_minutes(), 32);
}

#[test]
fn phishing_chain_links_accounts_without_shared_infrastructure() {
    let (mut rng, mut t, mut engine) = history(9, 30);
    let a = victim(&mut rng, &t);
    let mut b = victim(&mut rng, &t);
    while b == a {
        b = victim(&mut rng, &t);
    }
    let (ip1, c1, asn1) = attacker_ip(&mut rng);
    let ip2 = ip4(201, rng.range(0, 255) as u8, 3, 4);
    let c2 = if c1 == "VN" { "BR" } else { "VN" };
    let t0 = t.start + Duration::days(14) + Duration::hours(3);
    let bav = ("BAV2ROPC", UaClass::LegacyAuth);
    let mut evs = vec![t.signin(t0, &a, ip1, &c1, asn1, bav, true, 0)];
    let subj = format!("{} invoice", rng.word());
    evs.push(t.trace(t0 + Duration::minutes(30), &a, &b, &subj, "<phish@x>"));
    evs.push(t.signin(t0 + Duration::minutes(90), &b, ip2, c2, 45000, bav, true, 0));
    for e in &evs {
        engine.process(e);
    }
    let f = engine.finish();
    let inc: Vec<_> = f
        .incidents
        .iter()
        .filter(|i| i.entities.contains(&a))
        .collect();
    assert_eq!(inc.len(), 1, "{:#?}", f.incidents);
    assert!(inc[0].entities.contains(&b), "{:#?}", inc[0]);
    assert!(
        inc[0].summary.contains("received mail"),
        "{}",
        inc[0].summary
    );
    assert_eq!(f.incidents.len(), 1);
}

/// A trip and, hours later, a consent that two models see (application administration and a
/// permission grant) are two pieces of evidence, not three: no "Multiple Model Breaches" and
/// nothing autonomous mode would disable. A rule at a third moment makes it three.
#[test]
fn breaches_of_one_event_count_once_toward_multiple_model_breaches() {
    let (mut rng, mut t, mut engine) = history(9, 30);
    let who = victim(&mut rng, &t);
    let (ip, c, asn) = attacker_ip(&mut rng);
    let t0 = t.start + Duration::days(14) + Duration::hours(3);
    let login = t.signin(t0, &who, ip, &c, asn, ("Chrome", UaClass::Browser), true, 0);
    let consent = t.consent(
        t0 + Duration::hours(5),
        &who,
        &format!("{} Mail", rng.word()),
        &format!("{:08x}-0000-4000-8000-000000000001", rng.next() as u32),
        &["Mail.ReadWrite", "offline_access"],
    );
    let mut seen = Vec::new();
    for e in [&login, &consent] {
        seen.extend(engine.process(e).breaches);
    }
    let at_consent: Vec<&str> = seen
        .iter()
        .filter(|b| b.time == consent.time)
        .map(|b| b.model.as_str())
        .collect();
    assert!(
        at_consent.len() >= 2,
        "the consent should raise two models: {at_consent:?}"
    );
    assert!(
        !seen
            .iter()
            .any(|b| b.model == "Device / Multiple Model Breaches"),
        "{:?}",
        seen.iter().map(|b| &b.model).collect::<Vec<_>>()
    );
    assert!(!engine
        .finish()
        .actions
        .iter()
        .any(|a| a.kind == "disable_user" && a.target == who));

    let rule = t.rule(
        t0 + Duration::hours(6),
        &who,
        ip,
        ".",
        Some("RSS Feeds"),
        true,
        &["security", "password"],
    );
    let more = engine.process(&rule).breaches;
    assert!(
        more.iter()
            .any(|b| b.model == "Device / Multiple Model Breaches" && b.entity == who),
        "{:?}",
        more.iter().map(|b| &b.model).collect::<Vec<_>>()
    );
}
