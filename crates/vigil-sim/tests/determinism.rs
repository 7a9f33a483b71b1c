//! Same seed, same bytes; another seed, another tenant.

mod common;

use std::path::Path;

use common::*;
use vigil_sim::{simulate, SimConfig};

fn cfg(seed: u64) -> SimConfig {
    SimConfig {
        accounts: 60,
        days: 3,
        seed,
        attacks: vec![
            "reference-chain@0".parse().unwrap(),
            "illicit-consent".parse().unwrap(),
            "stolen-session@2".parse().unwrap(),
        ],
        ..SimConfig::default()
    }
}

fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for sub in ["audit", "signins", "messagetrace"] {
        let mut names: Vec<_> = std::fs::read_dir(dir.join(sub))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        for n in names {
            out.push((
                format!("{sub}/{n}"),
                std::fs::read(dir.join(sub).join(&n)).unwrap(),
            ));
        }
    }
    out.push((
        "truth.json".into(),
        std::fs::read(dir.join("truth.json")).unwrap(),
    ));
    out
}

#[test]
fn same_seed_gives_identical_files() {
    let a = scratch("det-a");
    let b = scratch("det-b");
    let sa = simulate(&cfg(5), &a, &|_| {}).unwrap();
    let sb = simulate(&cfg(5), &b, &|_| {}).unwrap();
    assert_eq!(sa.records, sb.records);
    let (ta, tb) = (tree(&a), tree(&b));
    assert_eq!(ta.len(), tb.len());
    for ((na, xa), (nb, xb)) in ta.iter().zip(tb.iter()) {
        assert_eq!(na, nb);
        assert!(xa == xb, "{na} differs between runs of the same seed");
    }
    assert!(!a.join(".vigil-sim-spill").exists());
    let leftovers: Vec<_> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "scratch files removed: {leftovers:?}");
}

#[test]
fn another_seed_gives_another_tenant_and_attack() {
    let a = run("seed-a", &cfg(5));
    let b = run("seed-b", &cfg(6));
    let ta = &a.truth;
    let tb = &b.truth;
    assert_ne!(ta.organization.tenant_id, tb.organization.tenant_id);
    let upns_a: Vec<&str> = ta.accounts.iter().map(|x| x.upn.as_str()).collect();
    let upns_b: Vec<&str> = tb.accounts.iter().map(|x| x.upn.as_str()).collect();
    assert_ne!(upns_a, upns_b);
    for (x, y) in ta.attacks.iter().zip(tb.attacks.iter()) {
        assert_eq!(x.kind, y.kind);
        assert_ne!(x.attacker_ips, y.attacker_ips, "{}", x.kind);
        assert_ne!(x.records.audit, y.records.audit);
    }
    let va: Vec<String> = ta
        .attacks
        .iter()
        .flat_map(|x| {
            x.victims
                .iter()
                .map(|v| v.split('@').next().unwrap().to_string())
        })
        .collect();
    let vb: Vec<String> = tb
        .attacks
        .iter()
        .flat_map(|x| {
            x.victims
                .iter()
                .map(|v| v.split('@').next().unwrap().to_string())
        })
        .collect();
    assert_ne!(va, vb);
    a.assert_truth_ids_exist();
    b.assert_truth_ids_exist();
}

#[test]
fn attack_specs_parse_and_print() {
    use vigil_sim::{AttackKind, AttackSpec};
    for k in AttackKind::ALL {
        let s: AttackSpec = format!("{k}@3").parse().unwrap();
        assert_eq!(s.kind, k);
        assert_eq!(s.day, Some(3));
        assert_eq!(s.to_string(), format!("{k}@3"));
        assert_eq!(k.to_string().parse::<AttackKind>().unwrap(), k);
    }
    assert!("nope".parse::<AttackSpec>().is_err());
    assert!("mfa-fatigue@x".parse::<AttackSpec>().is_err());
    let err = simulate(
        &SimConfig {
            accounts: 20,
            days: 2,
            attacks: vec!["mfa-fatigue@2".parse().unwrap()],
            ..SimConfig::default()
        },
        &scratch("bad-day"),
        &|_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("outside"), "{err}");
}

#[test]
fn tiny_tenants_work_or_explain() {
    let one = SimConfig {
        accounts: 1,
        days: 1,
        ..SimConfig::default()
    };
    run("tiny-one", &one);
    let err = simulate(
        &SimConfig {
            attacks: vec!["reference-chain".parse().unwrap()],
            ..one.clone()
        },
        &scratch("tiny-one-attack"),
        &|_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("at least"), "{err}");
    let four = SimConfig {
        accounts: 4,
        days: 2,
        seed: 3,
        attacks: vigil_sim::AttackKind::ALL
            .iter()
            .map(|k| vigil_sim::AttackSpec {
                kind: *k,
                day: None,
            })
            .collect(),
        ..SimConfig::default()
    };
    let out = run("tiny-four", &four);
    out.assert_truth_ids_exist();
    assert_eq!(out.truth.attacks.len(), 8);
    assert!(simulate(
        &SimConfig {
            days: 0,
            ..one.clone()
        },
        &scratch("tiny-zero"),
        &|_| {}
    )
    .is_err());
}
