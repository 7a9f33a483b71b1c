//! Every attack kind produces consistent ground truth, whatever the seed and tenant size.

mod common;

use std::collections::HashSet;

use common::*;
use proptest::prelude::*;
use vigil_sim::{AttackKind, AttackSpec, SimConfig};

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn truth_is_consistent(seed in 0u64..1_000_000, kind in 0usize..8, accounts in 12usize..70, days in 1u32..4, pinned in proptest::bool::ANY, quirks in proptest::bool::ANY) {
        let kind = AttackKind::ALL[kind];
        let day = pinned.then_some(days - 1);
        let cfg = SimConfig {
            accounts,
            days,
            seed,
            attacks: vec![AttackSpec { kind, day }],
            api_quirks: quirks,
            ..SimConfig::default()
        };
        let out = run(&format!("prop-{}", std::thread::current().name().unwrap_or("t").replace("::", "-")), &cfg);
        out.assert_truth_ids_exist();
        let t = &out.truth;
        prop_assert_eq!(t.attacks.len(), 1);
        let a = &t.attacks[0];
        prop_assert_eq!(a.kind, kind);
        if let Some(d) = day { prop_assert_eq!(a.day, d); }
        prop_assert!(a.day < days);
        prop_assert!(!a.records.is_empty());
        prop_assert!(!a.victims.is_empty());
        prop_assert!(!a.compromised.is_empty());
        prop_assert!(!a.attacker_ips.is_empty());
        prop_assert_eq!(a.attacker_ips.len(), a.attacker_countries.len());
        prop_assert!(a.start >= t.start && a.end < t.end);
        prop_assert!(a.start <= a.end);
        let upns: HashSet<&str> = t.accounts.iter().map(|x| x.upn.as_str()).collect();
        for v in &a.victims {
            prop_assert!(upns.contains(v.as_str()));
            prop_assert!(a.first_malicious.contains_key(v));
        }
        for c in &a.compromised {
            prop_assert!(a.victims.contains(c));
        }
        let mut all: Vec<&String> = a.records.audit.iter().chain(&a.records.sign_in).chain(&a.records.message_trace).collect();
        let n = all.len();
        all.sort();
        all.dedup();
        prop_assert_eq!(all.len(), n, "record ids are unique");
        // The earliest attacker record is the attack's start.
        let first = a.first_malicious.values().min().unwrap();
        prop_assert!(*first >= a.start);
        if kind == AttackKind::ReferenceChain {
            prop_assert_eq!(a.victims.len(), 3);
            prop_assert!(a.first_spam.unwrap() > a.first_malicious[&a.victims[0]]);
        }
        for ip in &a.attacker_ips {
            prop_assert!(vigil_sim::ipdb::lookup(ip.parse().unwrap()).is_some());
        }
    }
}
