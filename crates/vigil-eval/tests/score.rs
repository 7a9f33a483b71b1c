//! score() on hand-built truth and report pairs.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use vigil_eval::{score, Thresholds};
use vigil_report::{Action, ActionMode, Breach, Incident, Report};
use vigil_sim::{AttackKind, Role, Truth, TruthAccount, TruthAttack, TruthOrg, TruthRecords};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 2, 1, 4, 55, 51)
        .single()
        .unwrap()
}

fn account(upn: &str) -> TruthAccount {
    TruthAccount {
        upn: upn.into(),
        display_name: upn.into(),
        object_id: format!("oid-{upn}"),
        home_country: "GB".into(),
        office_city: "London".into(),
        department: "Sales".into(),
        role: Role::Regular,
        traits: Vec::new(),
        join_time: None,
        trips: Vec::new(),
        new_phone_from: None,
    }
}

fn attack(
    id: &str,
    kind: AttackKind,
    start: DateTime<Utc>,
    minutes: i64,
    victims: &[&str],
    compromised: &[&str],
    ip: &str,
) -> TruthAttack {
    TruthAttack {
        id: id.into(),
        kind,
        day: 10,
        start,
        end: start + Duration::minutes(minutes),
        victims: victims.iter().map(|v| v.to_string()).collect(),
        compromised: compromised.iter().map(|v| v.to_string()).collect(),
        attacker_ips: vec![ip.into()],
        attacker_countries: vec!["NG".into()],
        attacker_asns: vec![64500],
        first_malicious: victims
            .iter()
            .enumerate()
            .map(|(i, v)| (v.to_string(), start + Duration::minutes(i as i64 * 30)))
            .collect(),
        first_action: None,
        first_spam: None,
        app: None,
        rule_names: Vec::new(),
        forward_to: Vec::new(),
        subject: None,
        link_domain: None,
        link_text: None,
        records: TruthRecords {
            audit: vec![format!("{id}-audit-1")],
            sign_in: vec![format!("{id}-signin-1")],
            message_trace: Vec::new(),
        },
        steps: Vec::new(),
    }
}

/// 100 accounts for 10 days: 1000 account-days.
fn truth(attacks: Vec<TruthAttack>) -> Truth {
    let mut accounts: Vec<TruthAccount> = (0..96)
        .map(|i| account(&format!("user{i}@contoso.com")))
        .collect();
    for u in [
        "a@contoso.com",
        "b@contoso.com",
        "c@contoso.com",
        "d@contoso.com",
    ] {
        accounts.push(account(u));
    }
    Truth {
        generator: "test".into(),
        seed: 42,
        start: t0() - Duration::days(10),
        end: t0(),
        days: 10,
        api_quirks: false,
        organization: TruthOrg {
            name: "Contoso".into(),
            domain: "contoso.com".into(),
            tenant_id: "tid".into(),
            tenant_domain: "contoso.onmicrosoft.com".into(),
            offices: Vec::new(),
        },
        accounts,
        attacks,
        noise: Vec::new(),
        record_counts: BTreeMap::new(),
    }
}

fn breach(id: &str, model: &str, time: DateTime<Utc>, entity: &str) -> Breach {
    Breach {
        id: id.into(),
        model: model.into(),
        score: 80.0,
        time,
        entity: entity.into(),
        event_ids: Vec::new(),
        reason: String::new(),
        metrics: BTreeMap::new(),
    }
}

fn incident(id: &str, time: DateTime<Utc>, entities: &[&str], breaches: &[&str]) -> Incident {
    Incident {
        id: id.into(),
        title: format!("incident {id}"),
        score: 90.0,
        start: time,
        end: time + Duration::minutes(5),
        entities: entities.iter().map(|e| e.to_string()).collect(),
        breach_ids: breaches.iter().map(|b| b.to_string()).collect(),
        summary: String::new(),
    }
}

fn action(kind: &str, target: &str, time: DateTime<Utc>) -> Action {
    Action {
        id: format!("{kind}-{target}"),
        kind: kind.into(),
        target: target.into(),
        time,
        mode: ActionMode::Autonomous,
        state: "planned".into(),
        incident_id: "i1".into(),
    }
}

#[test]
fn detected_attack_with_time_to_detect_per_victim() {
    let start = t0();
    let truth = truth(vec![attack(
        "atk-01-bec-forwarding-rule",
        AttackKind::BecForwardingRule,
        start,
        60,
        &["a@contoso.com", "b@contoso.com"],
        &["a@contoso.com", "b@contoso.com"],
        "198.51.100.7",
    )]);
    // a: first malicious at start, breached 90 s later (UPN in other case); b: first malicious
    // at start+30m, breached at +33m; an IP breach at +1m (the attack's first).
    let report = Report {
        breaches: vec![
            breach(
                "b1",
                "SaaS / Compliance / New Email Rule",
                start + Duration::seconds(90),
                "A@Contoso.com",
            ),
            breach(
                "b2",
                "SaaS / Access / Unusual External Source for SaaS Credential Use",
                start + Duration::minutes(33),
                "b@contoso.com",
            ),
            breach(
                "b3",
                "SaaS / Access / Password Spray Source",
                start + Duration::minutes(1),
                "ip:198.51.100.7",
            ),
        ],
        incidents: vec![incident(
            "i1",
            start,
            &["a@contoso.com", "b@contoso.com"],
            &["b1", "b2"],
        )],
        ..Default::default()
    };
    let ev = score(&truth, &report);
    assert_eq!(ev.account_days, 1000);
    let a = &ev.attacks[0];
    assert!(a.detected);
    assert_eq!(a.ttd_seconds, Some(60), "first breach is the IP one at +1m");
    assert_eq!(a.breaches, 3);
    assert_eq!(a.models.len(), 3);
    let ttd: Vec<(String, Option<i64>)> = a
        .victims
        .iter()
        .map(|v| (v.account.clone(), v.ttd_seconds))
        .collect();
    assert_eq!(
        ttd,
        vec![
            ("a@contoso.com".to_string(), Some(90)),
            ("b@contoso.com".to_string(), Some(180)),
        ]
    );
    let k = &ev.per_kind[0];
    assert_eq!((k.attacks, k.detected, k.recall), (1, 1, 1.0));
    assert_eq!(k.median_ttd_minutes, Some(1.0));
    assert_eq!(ev.false_breaches, 0);
    assert_eq!(ev.false_incidents, 0);
    assert_eq!(ev.innocent_disabled, 0);
    assert!(
        ev.check(&Thresholds::default()).is_empty(),
        "{:?}",
        ev.check(&Thresholds::default())
    );
}

#[test]
fn missed_attack_and_breaches_outside_the_window_are_false() {
    let start = t0();
    let truth = truth(vec![
        attack(
            "atk-01-mass-download",
            AttackKind::MassDownload,
            start,
            30,
            &["c@contoso.com"],
            &["c@contoso.com"],
            "203.0.113.9",
        ),
        attack(
            "atk-02-mass-download",
            AttackKind::MassDownload,
            start - Duration::days(2),
            30,
            &["d@contoso.com"],
            &["d@contoso.com"],
            "203.0.113.10",
        ),
    ]);
    let report = Report {
        breaches: vec![
            // The victim, but two days before its attack: false, and does not detect it.
            breach(
                "b1",
                "SaaS / Data / Mass Download",
                start - Duration::days(2),
                "c@contoso.com",
            ),
            // The victim, after the window and its grace (30 min + 1 h): false.
            breach(
                "b2",
                "SaaS / Data / Mass Download",
                start + Duration::minutes(95),
                "c@contoso.com",
            ),
            // Within the grace period: detects the second attack.
            breach(
                "b3",
                "SaaS / Data / Mass Download",
                start - Duration::days(2) + Duration::minutes(80),
                "d@contoso.com",
            ),
            // Someone not involved: false.
            breach(
                "b4",
                "SaaS / Access / Impossible Travel",
                start,
                "user3@contoso.com",
            ),
        ],
        ..Default::default()
    };
    let ev = score(&truth, &report);
    assert!(!ev.attacks[0].detected);
    assert_eq!(ev.attacks[0].ttd_seconds, None);
    assert!(ev.attacks[1].detected);
    assert_eq!(ev.attacks[1].ttd_seconds, Some(80 * 60));
    let k = &ev.per_kind[0];
    assert_eq!(k.kind, AttackKind::MassDownload);
    assert_eq!((k.attacks, k.detected), (2, 1));
    assert_eq!(k.recall, 0.5);
    assert_eq!(k.missed, vec!["atk-01-mass-download".to_string()]);
    assert_eq!(k.median_ttd_minutes, Some(80.0));
    assert_eq!(ev.false_breaches, 3);
    assert!((ev.false_breaches_per_1000_account_days - 3.0).abs() < 1e-9);
    let v = ev.check(&Thresholds::default());
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(v[0].contains("recall of mass-download is 0.50"));
    assert!(v[1].contains("median time to detect mass-download is 80.0 min"));
    let text = ev.to_text();
    assert!(text.contains("MISSED"), "{text}");
}

#[test]
fn a_breach_citing_an_attacker_record_belongs_to_the_attack() {
    let start = t0();
    let truth = truth(vec![attack(
        "atk-01-stolen-session",
        AttackKind::StolenSession,
        start,
        10,
        &["a@contoso.com"],
        &["a@contoso.com"],
        "192.0.2.1",
    )]);
    let mut b = breach(
        "b1",
        "Device / Multiple Model Breaches",
        start + Duration::minutes(2),
        "device:x",
    );
    b.event_ids = vec!["atk-01-stolen-session-signin-1".into()];
    let report = Report {
        breaches: vec![b],
        ..Default::default()
    };
    let ev = score(&truth, &report);
    assert!(ev.attacks[0].detected);
    assert_eq!(ev.attacks[0].ttd_seconds, Some(120));
    assert_eq!(
        ev.attacks[0].victims[0].ttd_seconds, None,
        "not on the account"
    );
    assert_eq!(ev.false_breaches, 0);
}

#[test]
fn false_incident_and_innocent_disabled() {
    let start = t0();
    let truth = truth(vec![attack(
        "atk-01-password-spray",
        AttackKind::PasswordSpray,
        start,
        20,
        &["a@contoso.com", "b@contoso.com"],
        &["b@contoso.com"],
        "198.51.100.200",
    )]);
    let report = Report {
        breaches: vec![
            breach(
                "b1",
                "SaaS / Access / Password Spray",
                start + Duration::minutes(31),
                "b@contoso.com",
            ),
            breach(
                "b2",
                "SaaS / Access / Impossible Travel",
                start - Duration::days(3),
                "user7@contoso.com",
            ),
            breach(
                "b3",
                "SaaS / Access / Impossible Travel",
                start - Duration::days(4),
                "a@contoso.com",
            ),
        ],
        incidents: vec![
            incident(
                "i1",
                start + Duration::minutes(31),
                &["b@contoso.com", "ip:198.51.100.200"],
                &["b1"],
            ),
            // Nobody involved: false.
            incident(
                "i2",
                start - Duration::days(3),
                &["user7@contoso.com"],
                &["b2"],
            ),
            // A victim, but days before the attack and with no attack breach: false.
            incident("i3", start - Duration::days(4), &["a@contoso.com"], &["b3"]),
        ],
        actions: vec![
            action(
                "disable_user",
                "b@contoso.com",
                start + Duration::minutes(31),
            ),
            action(
                "disable_user",
                "user7@contoso.com",
                start - Duration::days(3),
            ),
            action(
                "disable_user",
                "USER7@contoso.com",
                start - Duration::days(2),
            ),
            // A victim the attacker never controlled is innocent too.
            Action {
                mode: ActionMode::Confirm,
                state: "pending".into(),
                ..action("disable_user", "a@contoso.com", start - Duration::days(4))
            },
            action("revoke_sessions", "user8@contoso.com", start),
        ],
        ..Default::default()
    };
    let ev = score(&truth, &report);
    assert!(ev.attacks[0].detected);
    assert_eq!(ev.incidents, 3);
    assert_eq!(ev.false_incidents, 2);
    let ids: Vec<&str> = ev
        .false_incident_list
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(ids, vec!["i2", "i3"]);
    assert!((ev.false_incidents_per_1000_account_days - 2.0).abs() < 1e-9);
    assert_eq!(ev.innocent_disabled, 2, "user7 (twice) and a");
    assert_eq!(ev.innocent_disable_actions.len(), 3);
    assert_eq!(ev.innocent_disable_actions[2].mode, ActionMode::Confirm);
    let v = ev.check(&Thresholds::default());
    assert!(
        v.iter()
            .any(|x| x.contains("2.00 false incidents per 1000")),
        "{v:?}"
    );
    assert!(v.iter().any(|x| x.contains("2 innocent accounts")), "{v:?}");
    let lenient = Thresholds {
        max_false_incidents_per_1000_account_days: 2.0,
        max_innocent_disabled: 2,
        max_median_ttd_minutes: 60.0,
        ..Thresholds::default()
    };
    assert!(ev.check(&lenient).is_empty(), "{:?}", ev.check(&lenient));
    let json = serde_json::to_value(&ev).unwrap();
    assert_eq!(json["innocent_disabled"], 2);
}

#[test]
fn reference_chain_containment_and_one_incident() {
    let start = t0();
    let mut a = attack(
        "atk-01-reference-chain",
        AttackKind::ReferenceChain,
        start,
        24 * 60,
        &["a@contoso.com", "b@contoso.com", "c@contoso.com"],
        &["a@contoso.com", "b@contoso.com", "c@contoso.com"],
        "102.0.0.1",
    );
    a.first_spam = Some(start + Duration::hours(9));
    let truth = truth(vec![a]);
    let breaches = vec![
        breach(
            "b1",
            "SaaS / Access / Suspicious Login User-Agent",
            start,
            "a@contoso.com",
        ),
        breach(
            "b2",
            "SaaS / Access / Unusual External Source for SaaS Credential Use",
            start + Duration::minutes(31),
            "b@contoso.com",
        ),
        breach(
            "b3",
            "SaaS / Access / Unusual External Source for SaaS Credential Use",
            start + Duration::minutes(60),
            "c@contoso.com",
        ),
    ];
    let good = Report {
        breaches: breaches.clone(),
        incidents: vec![
            incident("i1", start, &["a@contoso.com"], &["b1"]),
            incident(
                "i2",
                start,
                &[
                    "a@contoso.com",
                    "b@contoso.com",
                    "c@contoso.com",
                    "user1@contoso.com",
                    "ip:102.0.0.1",
                ],
                &["b1", "b2", "b3"],
            ),
        ],
        actions: vec![
            action("revoke_sessions", "a@contoso.com", start),
            action("disable_user", "a@contoso.com", start),
        ],
        ..Default::default()
    };
    let ev = score(&truth, &good);
    let r = &ev.reference_chain[0];
    assert_eq!(r.account_a, "a@contoso.com");
    assert_eq!(r.a_ttd_seconds, Some(0));
    assert!(r.contained_before_spam);
    assert_eq!(r.containment_time, Some(start));
    assert!(r.held_in_one_incident);
    assert_eq!(r.incident_id.as_deref(), Some("i2"));
    assert_eq!(
        r.innocent_in_incident,
        vec!["user1@contoso.com".to_string()]
    );
    assert_eq!(r.compromised_breached.len(), 3);
    assert!(ev.check(&Thresholds::default()).is_empty());

    // Contained only after the spam, and split over two incidents.
    let late = Report {
        breaches,
        incidents: vec![
            incident(
                "i1",
                start,
                &["a@contoso.com", "b@contoso.com"],
                &["b1", "b2"],
            ),
            incident("i2", start, &["c@contoso.com"], &["b3"]),
        ],
        actions: vec![action(
            "disable_user",
            "a@contoso.com",
            start + Duration::hours(10),
        )],
        ..Default::default()
    };
    let ev = score(&truth, &late);
    let r = &ev.reference_chain[0];
    assert!(!r.contained_before_spam);
    assert!(!r.held_in_one_incident);
    let v = ev.check(&Thresholds::default());
    assert_eq!(v.len(), 2, "{v:?}");
}

#[test]
fn pooling_adds_attacks_and_account_days() {
    let start = t0();
    let truth = truth(vec![attack(
        "atk-01-stolen-session",
        AttackKind::StolenSession,
        start,
        10,
        &["a@contoso.com"],
        &["a@contoso.com"],
        "192.0.2.1",
    )]);
    let hit = Report {
        breaches: vec![breach(
            "b1",
            "SaaS / Access / Activity From Unfamiliar IP",
            start + Duration::minutes(4),
            "a@contoso.com",
        )],
        incidents: vec![incident("i9", start, &["user2@contoso.com"], &[])],
        ..Default::default()
    };
    let a = score(&truth, &hit);
    let b = score(&truth, &Report::default());
    let p = vigil_eval::pool(&[a, b]);
    assert_eq!(p.runs, 2);
    assert_eq!(p.account_days, 2000);
    assert_eq!(p.false_incidents, 1);
    assert!((p.false_incidents_per_1000_account_days - 0.5).abs() < 1e-9);
    let k = &p.per_kind[0];
    assert_eq!((k.attacks, k.detected, k.recall), (2, 1, 0.5));
    assert_eq!(k.median_ttd_minutes, Some(4.0));
    assert_eq!(k.missed, vec!["seed 42 atk-01-stolen-session".to_string()]);
    assert!(p
        .to_markdown()
        .contains("| stolen-session | 2 | 1 | 0.50 | 4.0 |"));
}

#[test]
fn time_to_detect_counts_from_the_first_malicious_action_and_also_from_the_start() {
    // The quiet rule: a sign-in built to look like the account's own at `start`, the rule
    // 25 minutes later, the breach 2 minutes after the rule.
    let start = t0();
    let mut quiet = attack(
        "atk-01-hidden-security-rule",
        AttackKind::HiddenSecurityRule,
        start,
        30,
        &["a@contoso.com"],
        &["a@contoso.com"],
        "192.0.2.10",
    );
    quiet.first_action = Some(start + Duration::minutes(25));
    let truth = truth(vec![quiet]);
    let report = Report {
        breaches: vec![breach(
            "b1",
            "SaaS / Compliance / Hidden Mail Rule",
            start + Duration::minutes(27),
            "a@contoso.com",
        )],
        ..Default::default()
    };
    let ev = score(&truth, &report);
    let a = &ev.attacks[0];
    assert_eq!(a.ttd_seconds, Some(120));
    assert_eq!(a.ttd_from_start_seconds, Some(27 * 60));
    let k = &ev.per_kind[0];
    assert_eq!(k.median_ttd_minutes, Some(2.0));
    assert_eq!(k.median_ttd_from_start_minutes, Some(27.0));
}
