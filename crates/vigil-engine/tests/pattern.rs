//! Pattern of life: calibrated rarity, benign variations, bounded memory, snapshot and resume.

mod common;

use chrono::Duration;
use common::*;
use vigil_engine::{Engine, EngineConfig, EngineOutput};
use vigil_event::UaClass;

fn history(seed: u64, n: usize) -> (Rng, Tenant, Engine) {
    let mut rng = Rng::new(seed);
    let mut tenant = Tenant::new(&mut rng, n, 14);
    let benign = tenant.benign(&mut rng);
    let mut engine = Engine::new(EngineConfig::default()).unwrap();
    for e in &benign {
        engine.process(e);
    }
    (rng, tenant, engine)
}

fn num(m: &vigil_engine::metrics::Metrics, k: &str) -> f64 {
    m.get(k)
        .and_then(|x| x.value.as_f64())
        .unwrap_or_else(|| panic!("no {k}"))
}

#[test]
fn rarity_is_graded_by_how_far_from_known_networks() {
    for seed in [3u64, 11] {
        let (mut rng, mut t, engine) = history(seed, 30);
        let who = t.accounts[rng.below(30) as usize].clone();
        let when = t.start + Duration::days(14) + Duration::hours(10);
        let browser = ("Chrome", UaClass::Browser);
        let country = t.country.clone();
        // a new IP in the office /24
        let office = ip4(
            t.office_prefix[0],
            t.office_prefix[1],
            t.office_prefix[2],
            200,
        );
        let e1 = t.signin(
            when,
            &who.upn,
            office,
            &country,
            t.office_asn,
            browser,
            true,
            0,
        );
        // a new network in the home country
        let e2 = t.signin(
            when,
            &who.upn,
            ip4(77, 1, 2, 3),
            &country,
            64000,
            browser,
            true,
            0,
        );
        // a new country
        let far = *rng.pick(ATTACKER_COUNTRIES);
        let e3 = t.signin(
            when,
            &who.upn,
            ip4(41, 1, 2, 3),
            far,
            64001,
            browser,
            true,
            0,
        );
        let (m1, m2, m3) = (
            engine.metrics_for(&e1),
            engine.metrics_for(&e2),
            engine.metrics_for(&e3),
        );
        let (r1, r2, r3) = (
            num(&m1, "login_rarity"),
            num(&m2, "login_rarity"),
            num(&m3, "login_rarity"),
        );
        assert!(
            r1 < 0.3 && r1 < r2 && r2 < r3 && r3 > 0.9,
            "seed {seed}: {r1} {r2} {r3}"
        );
        assert!(num(&m1, "prefix_org_accounts") >= 20.0, "office is shared");
        assert_eq!(num(&m3, "country_org_accounts"), 0.0);
        assert_eq!(
            m3.get("country_first_for_account").unwrap().value.as_f64(),
            Some(1.0)
        );
        assert_eq!(
            m1.get("ip_first_for_account").unwrap().value.as_f64(),
            Some(1.0)
        );
        // the calibrated probability of the home country is high, of the new one low
        assert!(
            num(&m1, "country_account_prob") > 0.6,
            "{}",
            num(&m1, "country_account_prob")
        );
        assert!(num(&m3, "country_account_prob") < 0.05);
    }
}

#[test]
fn benign_variations_stay_quiet() {
    for seed in [5u64, 6, 8] {
        let (mut rng, mut t, mut engine) = history(seed, 40);
        let day = t.start + Duration::days(14) + Duration::hours(9);
        let mut evs = Vec::new();
        // travel to a country the account has been to
        let traveller = t.accounts[t.travellers[0]].upn.clone();
        let trip = t.trip_country.clone();
        let trip_asn = t.trip_asn;
        evs.push(t.signin(
            day,
            &traveller,
            ip4(150, (t.travellers[0] % 200) as u8, 7, 10),
            &trip,
            trip_asn,
            ("Chrome", UaClass::Browser),
            true,
            0,
        ));
        // a new phone on the carrier everybody uses
        let other = t.accounts[rng.below(40) as usize].upn.clone();
        let ip = t.mobile_ip(&mut rng);
        let c = t.country.clone();
        evs.push(t.signin(
            day + Duration::minutes(5),
            &other,
            ip,
            &c,
            t.mobile_asn,
            ("Samsung Email", UaClass::MobileClient),
            true,
            0,
        ));
        // a new IP in the office /24
        let third = t.accounts[rng.below(40) as usize].upn.clone();
        let office = ip4(
            t.office_prefix[0],
            t.office_prefix[1],
            t.office_prefix[2],
            77,
        );
        evs.push(t.signin(
            day + Duration::minutes(9),
            &third,
            office,
            &c,
            t.office_asn,
            ("Edge", UaClass::Browser),
            true,
            0,
        ));
        // an ordinary rule and a mail merge-sized send by an account that never... no: a normal send
        let mut r = t.rule(
            day + Duration::minutes(20),
            &third,
            office,
            "Newsletters",
            Some("Archive"),
            false,
            &["newsletter"],
        );
        t.enrich(&mut r, &c, t.office_asn);
        evs.push(r);
        for e in &evs {
            let out: EngineOutput = engine.process(e);
            let loud: Vec<_> = out.breaches.iter().filter(|b| b.score >= 50.0).collect();
            assert!(loud.is_empty(), "seed {seed}: {:#?}", loud);
            assert!(out.incidents.is_empty());
            assert!(out.actions.is_empty());
        }
    }
}

#[test]
fn new_tenant_is_quiet_while_learning() {
    let mut rng = Rng::new(21);
    let mut t = Tenant::new(&mut rng, 20, 3);
    let mut evs = t.benign(&mut rng);
    // a legacy login from abroad on day 1: the organisation is still learning
    let who = t.accounts[0].upn.clone();
    let when = t.start + Duration::hours(30);
    evs.push(t.signin(
        when,
        &who,
        ip4(41, 5, 6, 7),
        "NG",
        36873,
        ("BAV2ROPC", UaClass::LegacyAuth),
        true,
        0,
    ));
    evs.sort_by_key(|e| e.time);
    let mut engine = Engine::new(EngineConfig::default()).unwrap();
    for e in &evs {
        assert!(engine.process(e).breaches.is_empty());
    }
}

#[test]
fn snapshot_and_resume_give_exactly_the_uninterrupted_result() {
    for seed in [2u64, 13] {
        let mut rng = Rng::new(seed);
        let mut t = Tenant::new(&mut rng, 25, 14);
        let mut evs = t.benign(&mut rng);
        let attack = reference_attack(&mut t, &mut rng);
        evs.extend(attack.events.iter().cloned());
        let cfg = EngineConfig::default();
        let mut whole = Engine::new(cfg.clone()).unwrap();
        let outs: Vec<EngineOutput> = evs.iter().map(|e| whole.process(e)).collect();
        let expected = whole.finish();
        assert!(!expected.breaches.is_empty());
        for _ in 0..2 {
            // cut somewhere, including inside the attack
            let cut = rng.below(evs.len() as u64) as usize;
            let mut first = Engine::new(cfg.clone()).unwrap();
            let mut got: Vec<EngineOutput> = evs[..cut].iter().map(|e| first.process(e)).collect();
            let snap = first.snapshot();
            drop(first);
            let mut second = Engine::restore(cfg.clone(), &snap).unwrap();
            got.extend(evs[cut..].iter().map(|e| second.process(e)));
            assert_eq!(got.len(), outs.len());
            for (i, (a, b)) in got.iter().zip(&outs).enumerate() {
                assert_eq!(a, b, "seed {seed} cut {cut}: event {i} differs");
            }
            assert_eq!(second.finish(), expected, "seed {seed} cut {cut}");
            // and a snapshot of the restored engine is the same state
            assert_eq!(
                Engine::restore(cfg.clone(), &second.snapshot())
                    .unwrap()
                    .snapshot()
                    .len(),
                second.snapshot().len()
            );
        }
    }
    assert!(Engine::restore(EngineConfig::default(), b"not json").is_err());
}

#[test]
fn account_state_is_bounded() {
    use vigil_engine::state::{AccountState, Features, State, StateConfig};
    // An account that meets hundreds of distinct IPs, networks, countries, clients and apps.
    let mut rng = Rng::new(77);
    let mut t = Tenant::new(&mut rng, 1, 1);
    let upn = t.accounts[0].upn.clone();
    let cfg = StateConfig::default();
    let mut st = State::default();
    let countries = [
        "GB", "DE", "FR", "NL", "US", "SE", "ES", "IT", "NG", "VN", "BR", "JP",
    ];
    for i in 0..2000u32 {
        let when = t.start + Duration::minutes(i as i64 * 7);
        let c = countries[(i % 12) as usize];
        let fam = format!("client{}", i % 40);
        let e = t.signin(
            when,
            &upn,
            ip4(10 + (i % 200) as u8, (i / 7) as u8, i as u8, 1),
            c,
            1000 + i % 300,
            (&fam, UaClass::Browser),
            true,
            0,
        );
        st.learn(&e, &Features::of(&e), &cfg);
        let app = format!("app{}", i % 50);
        let e = t.consent(when, &upn, &app, &app, &["User.Read"]);
        st.learn(&e, &Features::of(&e), &cfg);
        let msg = format!("<{i}@x>");
        let e = t.send(when, &upn, "s", &msg);
        st.learn(&e, &Features::of(&e), &cfg);
    }
    let a: &AccountState = st.account(&upn).unwrap();
    let est = a.size_estimate();
    let ser = serde_json::to_vec(a).unwrap().len();
    assert!(est <= 4096, "in-memory estimate {est} bytes");
    assert!(ser <= 8192, "serialised {ser} bytes");
    assert!(a.ip.len() <= vigil_engine::state::CAP_IP);
}

#[test]
fn memory_per_account_across_a_tenant() {
    // Per-account cost including the organisation tables, from a generated tenant.
    let (_, t, engine) = history(31, 300);
    let st = engine.state();
    let n = st.accounts.len();
    let accounts = st.accounts_size_estimate();
    let org = serde_json::to_vec(&st.org).unwrap().len();
    let per_account = (accounts + org) / n;
    assert!(n >= t.accounts.len());
    assert!(per_account <= 4096, "{per_account} bytes per account");
}
