//! End-to-end checks on a simulated tenant with every attack kind.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::OnceLock;

use chrono::{DateTime, Duration, Utc};
use common::*;
use serde_json::Value;
use vigil_sim::ipdb::{self, NetKind};
use vigil_sim::{AttackKind, AttackSpec, Role, SimConfig};

fn config(quirks: bool) -> SimConfig {
    let mut attacks: Vec<AttackSpec> = vec!["reference-chain@1".parse().unwrap()];
    attacks.extend(AttackKind::ALL[1..].iter().map(|k| AttackSpec {
        kind: *k,
        day: None,
    }));
    SimConfig {
        accounts: 150,
        days: 6,
        seed: 42,
        attacks,
        api_quirks: quirks,
        ..SimConfig::default()
    }
}

fn with_quirks() -> &'static Output {
    static OUT: OnceLock<Output> = OnceLock::new();
    OUT.get_or_init(|| run("main-quirks", &config(true)))
}

fn without_quirks() -> &'static Output {
    static OUT: OnceLock<Output> = OnceLock::new();
    OUT.get_or_init(|| run("main-plain", &config(false)))
}

fn ip_of(text: &str) -> IpAddr {
    let t = text.trim();
    if let Some(rest) = t.strip_prefix('[') {
        return rest.split(']').next().unwrap().parse().unwrap();
    }
    if let Ok(ip) = t.parse() {
        return ip;
    }
    t.rsplit_once(':').unwrap().0.parse().unwrap()
}

fn audit_ip(r: &Value) -> Option<IpAddr> {
    r.get("ClientIP")
        .or_else(|| r.get("ClientIPAddress"))
        .and_then(|v| v.as_str())
        .map(ip_of)
}

fn records_of<'a>(out: &'a Output, ids: &[String]) -> Vec<&'a Value> {
    let by = out.audit_by_id();
    ids.iter().map(|i| by[i.as_str()]).collect()
}

fn signins_of<'a>(out: &'a Output, ids: &[String]) -> Vec<&'a Value> {
    let by = out.signin_by_id();
    let mut v: Vec<&Value> = ids.iter().map(|i| by[i.as_str()]).collect();
    v.sort_by_key(|r| graph_time(r));
    v
}

#[test]
fn truth_ids_exist_and_attacks_are_labelled() {
    let out = with_quirks();
    assert_eq!(out.truth.attacks.len(), 8);
    let ids: BTreeSet<&str> = out.truth.attacks.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids.len(), 8, "attack ids are unique");
    out.assert_truth_ids_exist();
    for a in &out.truth.attacks {
        assert!(!a.records.is_empty(), "{} has records", a.id);
        assert!(!a.victims.is_empty() && !a.attacker_ips.is_empty());
        assert!(
            a.start >= out.truth.start && a.end < out.truth.end,
            "{} inside the period",
            a.id
        );
        for (upn, t) in &a.first_malicious {
            assert!(a.victims.contains(upn));
            assert!(*t >= a.start && *t <= a.end);
        }
        for c in &a.compromised {
            assert!(a.victims.contains(c));
        }
        if a.kind != AttackKind::ReferenceChain {
            assert!(
                a.day >= 4,
                "{} lands after 60% of the period (day {})",
                a.id,
                a.day
            );
        }
    }
    // Attack records act on victims only (the spray's guessed names aside).
    let upns: HashSet<&str> = out.truth.accounts.iter().map(|a| a.upn.as_str()).collect();
    for a in &out.truth.attacks {
        for r in records_of(out, &a.records.audit) {
            let user = r["UserId"].as_str().unwrap();
            if upns.contains(user) {
                assert!(a.victims.iter().any(|v| v == user), "{}: {user}", a.id);
            }
        }
    }
}

#[test]
fn reference_chain_follows_the_february_2022_case() {
    let out = with_quirks();
    let atk = out.attack(AttackKind::ReferenceChain);
    assert_eq!(atk.victims.len(), 3);
    assert_eq!(atk.attacker_ips.len(), 1);
    let ip: IpAddr = atk.attacker_ips[0].parse().unwrap();
    let (a, b, c) = (&atk.victims[0], &atk.victims[1], &atk.victims[2]);
    let offices: HashSet<&str> = out
        .truth
        .organization
        .offices
        .iter()
        .map(|o| o.country.as_str())
        .collect();
    assert!(
        !offices.contains(atk.attacker_countries[0].as_str()),
        "rare country"
    );
    assert_eq!(ipdb::lookup(ip).unwrap().country, atk.attacker_countries[0]);

    let signins = signins_of(out, &atk.records.sign_in);
    let audit = records_of(out, &atk.records.audit);
    let first_spam = atk.first_spam.expect("first spam time");

    // A's first record: a BAV2ROPC sign-in at about 04:55, before any spam.
    let a_first = signins
        .iter()
        .find(|s| s["userPrincipalName"] == a.as_str())
        .unwrap();
    assert_eq!(a_first["userAgent"], "BAV2ROPC");
    assert_eq!(a_first["clientAppUsed"], "Other clients");
    assert_eq!(a_first["authenticationProtocol"], "ropc");
    assert_eq!(
        a_first["authenticationRequirement"],
        "singleFactorAuthentication"
    );
    assert_eq!(a_first["ipAddress"], ip.to_string());
    let t0 = graph_time(a_first);
    assert_eq!(t0, atk.first_malicious[a]);
    let day_start = out.truth.start + Duration::days(atk.day as i64);
    assert!(t0 >= day_start + Duration::hours(4) && t0 <= day_start + Duration::hours(6));
    assert!(t0 < first_spam);
    // The audit log has the same sign-in: IntraSystemId is the Entra request id.
    let logged: Vec<&&Value> = audit
        .iter()
        .filter(|r| r["IntraSystemId"] == a_first["id"])
        .collect();
    assert_eq!(logged.len(), 1);
    assert_eq!(op(logged[0]), "UserLoggedIn");
    assert_eq!(
        pair(&logged[0]["ExtendedProperties"], "UserAgent").unwrap(),
        "BAV2ROPC"
    );

    // A's rule: "." style name with the reference parameters.
    let rules: Vec<&&Value> = audit.iter().filter(|r| op(r) == "New-InboxRule").collect();
    let a_rule = rules.iter().find(|r| r["UserId"] == a.as_str()).unwrap();
    let names: BTreeSet<String> = pairs(&a_rule["Parameters"])
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    for p in [
        "AlwaysDeleteOutlookRulesBlob",
        "Force",
        "MoveToFolder",
        "Name",
        "SubjectOrBodyContainsWords",
        "StopProcessingRules",
    ] {
        assert!(names.contains(p), "A's rule has {p}");
    }
    let rule_name = pair(&a_rule["Parameters"], "Name").unwrap();
    assert!(
        rule_name.chars().all(|c| c.is_ascii_punctuation()),
        "{rule_name:?}"
    );
    let t_rule = audit_time(a_rule);
    assert!(t_rule - t0 > Duration::hours(8) && t_rule - t0 < Duration::hours(11));

    // Consent to a mail app with send and write permissions.
    let consent = audit
        .iter()
        .find(|r| op(r) == "Consent to application" && r["UserId"] == a.as_str())
        .unwrap();
    let mods = consent["ModifiedProperties"].as_array().unwrap();
    let perms = mods
        .iter()
        .find(|m| {
            m["Name"] == "ConsentAction.Permissions" || m["name"] == "ConsentAction.Permissions"
        })
        .unwrap();
    let perms = perms
        .get("NewValue")
        .or_else(|| perms.get("newValue"))
        .unwrap()
        .as_str()
        .unwrap();
    assert!(
        perms.contains("Mail.ReadWrite") && perms.contains("Mail.Send"),
        "{perms}"
    );
    let app = atk.app.as_ref().unwrap();
    let targets = consent["Target"].as_array().unwrap();
    assert!(targets
        .iter()
        .any(|t| t["ID"] == app.name.as_str() && t["Type"] == 1));
    assert!(targets
        .iter()
        .any(|t| t["ID"] == app.id.as_str() && t["Type"] == 2));
    assert!(audit_time(consent) > t_rule && audit_time(consent) < first_spam);

    // ~800 messages, one subject, within about 15 minutes, internal and external recipients.
    let sends: Vec<&&Value> = audit
        .iter()
        .filter(|r| op(r) == "Send" && r["UserId"] == a.as_str())
        .collect();
    let ids: HashSet<&str> = sends.iter().map(|r| r["Id"].as_str().unwrap()).collect();
    assert!((700..=900).contains(&ids.len()), "{} sends", ids.len());
    let subjects: HashSet<&str> = sends
        .iter()
        .map(|r| r["Item"]["Subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects.len(), 1);
    let first = sends.iter().map(|r| audit_time(r)).min().unwrap();
    let last = sends.iter().map(|r| audit_time(r)).max().unwrap();
    assert_eq!(first, first_spam.with_nanosecond_zero());
    assert!(last - first <= Duration::minutes(17));
    let traces: Vec<&Value> = {
        let by = out.trace_by_id();
        atk.records.message_trace.iter().map(|i| by[i]).collect()
    };
    assert_eq!(traces.len(), ids.len());
    let domain = &out.truth.organization.domain;
    let internal: Vec<&str> = traces
        .iter()
        .map(|r| r["RecipientAddress"].as_str().unwrap())
        .filter(|r| r.ends_with(&format!("@{domain}")))
        .collect();
    assert!(
        internal.len() >= 2 && internal.len() < traces.len(),
        "internal and external recipients"
    );
    assert!(traces.iter().all(|r| r["FromIP"] == ip.to_string()));
    assert!(internal.contains(&b.as_str()), "B received A's message");
    assert!(!atk.link_domain.as_deref().unwrap().is_empty());

    // B: failures then a success from the same address, then a rule with From and MarkAsRead.
    let b_signins: Vec<&&Value> = signins
        .iter()
        .filter(|s| s["userPrincipalName"] == b.as_str())
        .collect();
    let first_ok = b_signins
        .iter()
        .position(|s| s["status"]["errorCode"] == 0)
        .unwrap();
    assert!(first_ok >= 1);
    assert!(b_signins[..first_ok]
        .iter()
        .all(|s| s["status"]["errorCode"] == 50126));
    assert!(b_signins.iter().all(|s| s["ipAddress"] == ip.to_string()));
    assert!(graph_time(b_signins[0]) > first_spam);
    let b_rule = rules.iter().find(|r| r["UserId"] == b.as_str()).unwrap();
    assert_eq!(pair(&b_rule["Parameters"], "Name").unwrap(), rule_name);
    assert_eq!(pair(&b_rule["Parameters"], "From").unwrap(), *a);
    assert_eq!(pair(&b_rule["Parameters"], "MarkAsRead").unwrap(), "True");

    // C: next day, same address, once with a browser and once with BAV2ROPC; same app, same rule.
    let c_signins: Vec<&&Value> = signins
        .iter()
        .filter(|s| s["userPrincipalName"] == c.as_str())
        .collect();
    assert!(c_signins.iter().all(|s| s["ipAddress"] == ip.to_string()));
    assert!(c_signins.iter().any(|s| s["userAgent"] == "BAV2ROPC"));
    assert!(c_signins
        .iter()
        .any(|s| s["userAgent"].as_str().unwrap().starts_with("Mozilla/5.0")));
    assert!(graph_time(c_signins[0]) >= day_start + Duration::days(1));
    let c_consent = audit
        .iter()
        .find(|r| op(r) == "Consent to application" && r["UserId"] == c.as_str())
        .unwrap();
    assert!(c_consent["Target"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["ID"] == app.id.as_str()));
    let c_rule = rules.iter().find(|r| r["UserId"] == c.as_str()).unwrap();
    assert_eq!(pair(&c_rule["Parameters"], "Name").unwrap(), rule_name);
}

trait NoNanos {
    fn with_nanosecond_zero(self) -> Self;
}

impl NoNanos for DateTime<Utc> {
    fn with_nanosecond_zero(self) -> Self {
        DateTime::from_timestamp(self.timestamp(), 0).unwrap()
    }
}

#[test]
fn password_spray_fails_widely_then_succeeds_once() {
    let out = with_quirks();
    let atk = out.attack(AttackKind::PasswordSpray);
    assert!(
        (20..=60).contains(&atk.victims.len()) || atk.victims.len() == out.truth.accounts.len()
    );
    assert_eq!(atk.compromised.len(), 1);
    let ip = &atk.attacker_ips[0];
    let signins = signins_of(out, &atk.records.sign_in);
    assert!(signins.iter().all(|s| s["ipAddress"] == ip.as_str()));
    let fails = signins
        .iter()
        .filter(|s| s["status"]["errorCode"] == 50126)
        .count();
    assert!(fails >= atk.victims.len());
    let ok: Vec<&&Value> = signins
        .iter()
        .filter(|s| s["status"]["errorCode"] == 0)
        .collect();
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0]["userPrincipalName"], atk.compromised[0].as_str());
    let last_fail = signins
        .iter()
        .filter(|s| s["status"]["errorCode"] != 0)
        .map(|s| graph_time(s))
        .max()
        .unwrap();
    assert!(graph_time(ok[0]) > last_fail);
    let window = graph_time(ok[0]) - graph_time(signins[0]);
    assert!(window < Duration::hours(3), "short window: {window}");
    let reads: Vec<&Value> = records_of(out, &atk.records.audit)
        .into_iter()
        .filter(|r| op(r) == "MailItemsAccessed")
        .collect();
    assert!(!reads.is_empty());
    assert!(reads
        .iter()
        .all(|r| r["UserId"] == atk.compromised[0].as_str()));
    assert!(reads
        .iter()
        .all(|r| audit_ip(r).unwrap().to_string() == *ip));
}

#[test]
fn mfa_fatigue_denies_then_approves_then_registers() {
    let out = with_quirks();
    let atk = out.attack(AttackKind::MfaFatigue);
    let signins = signins_of(out, &atk.records.sign_in);
    let denied: Vec<&&Value> = signins
        .iter()
        .filter(|s| s["status"]["errorCode"] == 500121)
        .collect();
    assert!((10..=30).contains(&denied.len()));
    assert!(denied.iter().all(
        |s| s["status"]["additionalDetails"] == "MFA denied; user declined the authentication"
    ));
    let span = graph_time(denied[denied.len() - 1]) - graph_time(denied[0]);
    assert!(span <= Duration::minutes(20));
    let last = signins.last().unwrap();
    assert_eq!(last["status"]["errorCode"], 0);
    let reg = records_of(out, &atk.records.audit)
        .into_iter()
        .find(|r| op(r) == "User registered security info")
        .expect("security info registered");
    assert!(audit_time(reg) > graph_time(last).with_nanosecond_zero() - Duration::seconds(1));
}

#[test]
fn bec_rule_forwards_outside() {
    let out = with_quirks();
    let atk = out.attack(AttackKind::BecForwardingRule);
    let dest = &atk.forward_to[0];
    assert!(!dest.ends_with(&out.truth.organization.domain));
    let recs = records_of(out, &atk.records.audit);
    let fwd = recs
        .iter()
        .find(|r| matches!(op(r), "New-InboxRule" | "Set-Mailbox"))
        .unwrap();
    let params = pairs(&fwd["Parameters"]);
    assert!(params.iter().any(|(k, v)| matches!(
        k.as_str(),
        "ForwardTo" | "RedirectTo" | "ForwardAsAttachmentTo" | "ForwardingSmtpAddress"
    ) && v.contains(dest.as_str())));
    let login = signins_of(out, &atk.records.sign_in)[0];
    assert!(graph_time(login) <= audit_time(fwd));
}

#[test]
fn illicit_consent_then_bulk_access_by_the_app() {
    let out = with_quirks();
    let atk = out.attack(AttackKind::IllicitConsent);
    let app = atk.app.as_ref().unwrap();
    assert!(app.scopes.iter().any(|s| s == "Mail.Read"));
    assert!(app.scopes.iter().any(|s| s == "Files.Read.All"));
    let recs = records_of(out, &atk.records.audit);
    assert!(recs.iter().any(|r| op(r) == "Consent to application"));
    let mia: Vec<&&Value> = recs
        .iter()
        .filter(|r| op(r) == "MailItemsAccessed")
        .collect();
    let dl: Vec<&&Value> = recs.iter().filter(|r| op(r) == "FileDownloaded").collect();
    assert!(mia.len() >= 20 && dl.len() >= 50);
    assert!(mia
        .iter()
        .all(|r| r["AppId"] == app.id.as_str() && r["ClientAppId"] == app.id.as_str()));
    assert!(dl.iter().all(|r| r["ApplicationId"] == app.id.as_str()));
    let cloud = atk.attacker_ips[0].parse().unwrap();
    assert!(matches!(ipdb::lookup(cloud).unwrap().kind, NetKind::Cloud));
}

#[test]
fn mass_download_is_hundreds_in_an_hour() {
    let out = with_quirks();
    let atk = out.attack(AttackKind::MassDownload);
    let recs = records_of(out, &atk.records.audit);
    let dl: Vec<&&Value> = recs
        .iter()
        .filter(|r| matches!(op(r), "FileDownloaded" | "FileSyncDownloadedFull"))
        .collect();
    assert!(dl.len() >= 200);
    let first = dl.iter().map(|r| audit_time(r)).min().unwrap();
    let last = dl.iter().map(|r| audit_time(r)).max().unwrap();
    assert!(last - first <= Duration::minutes(61));
}

#[test]
fn stolen_session_has_activity_but_no_sign_in_from_the_cloud_address() {
    let out = with_quirks();
    let atk = out.attack(AttackKind::StolenSession);
    assert!(atk.records.sign_in.is_empty());
    let ip: IpAddr = atk.attacker_ips[0].parse().unwrap();
    let r = ipdb::lookup(ip).unwrap();
    assert_eq!(r.kind, NetKind::Cloud);
    assert!([16509, 14618, 14061].contains(&r.asn));
    assert!(out
        .signins
        .iter()
        .all(|(_, s)| s["ipAddress"] != ip.to_string()));
    let recs = records_of(out, &atk.records.audit);
    assert!(recs.iter().any(|r| op(r) == "MailItemsAccessed"));
    assert!(recs
        .iter()
        .any(|r| op(r) == "FileAccessed" || op(r) == "FileDownloaded"));
    assert!(recs.iter().all(|r| audit_ip(r) == Some(ip)));
}

#[test]
fn hidden_security_rule_comes_from_a_familiar_network() {
    let out = with_quirks();
    let atk = out.attack(AttackKind::HiddenSecurityRule);
    let victim = &atk.victims[0];
    let login = signins_of(out, &atk.records.sign_in)[0];
    let ip: IpAddr = login["ipAddress"].as_str().unwrap().parse().unwrap();
    let account = out
        .truth
        .accounts
        .iter()
        .find(|a| &a.upn == victim)
        .unwrap();
    assert_eq!(
        login["location"]["countryOrRegion"],
        account.home_country.as_str()
    );
    let prefix = |ip: IpAddr| match ip {
        IpAddr::V4(v) => format!("{}", u32::from(v) >> 8),
        IpAddr::V6(v) => format!("{}", u128::from(v) >> 64),
    };
    // Some benign sign-in of the victim shares the /24 (or /64).
    let benign_ips: HashSet<String> = out
        .signins
        .iter()
        .filter(|(_, s)| {
            s["userPrincipalName"] == victim.as_str()
                && !atk
                    .records
                    .sign_in
                    .contains(&s["id"].as_str().unwrap().to_string())
        })
        .map(|(_, s)| prefix(s["ipAddress"].as_str().unwrap().parse().unwrap()))
        .collect();
    assert!(benign_ips.contains(&prefix(ip)), "usual prefix");
    let rule = records_of(out, &atk.records.audit)
        .into_iter()
        .find(|r| matches!(op(r), "New-InboxRule" | "Set-InboxRule"))
        .unwrap();
    let words = pair(&rule["Parameters"], "SubjectOrBodyContainsWords").unwrap();
    for w in ["security", "password", "phish", "MFA"] {
        assert!(words.contains(w), "{words}");
    }
    assert_eq!(pair(&rule["Parameters"], "MarkAsRead").unwrap(), "True");
    let folder = pair(&rule["Parameters"], "MoveToFolder").unwrap();
    assert!(["RSS Feeds", "Conversation History", "Archive"].contains(&folder.as_str()));
}

#[test]
fn user_login_failed_keeps_the_api_result_status() {
    let out = with_quirks();
    let failed: Vec<&Value> = out
        .audit
        .iter()
        .map(|(_, r)| r)
        .filter(|r| op(r) == "UserLoginFailed")
        .collect();
    assert!(!failed.is_empty());
    for r in failed {
        assert_eq!(r["ResultStatus"], "Success");
        assert_eq!(int_of(&r["RecordType"]), 15);
        let code = r["ErrorNumber"].as_str().expect("ErrorNumber is a string");
        assert_ne!(code, "0");
        assert!(r.get("LogonError").is_some());
    }
}

#[test]
fn addresses_come_from_the_table_with_the_reported_country() {
    let out = with_quirks();
    for (_, s) in &out.signins {
        let ip: IpAddr = s["ipAddress"].as_str().unwrap().parse().unwrap();
        let r = ipdb::lookup(ip).unwrap_or_else(|| panic!("{ip} not in the table"));
        assert_eq!(s["location"]["countryOrRegion"], r.country, "{ip}");
    }
    for (_, r) in &out.audit {
        if let Some(ip) = audit_ip(r) {
            assert!(ipdb::lookup(ip).is_some(), "{ip} not in the table");
        }
    }
}

#[test]
fn benign_noise_is_present() {
    let out = with_quirks();
    let t = &out.truth;
    let kinds: BTreeSet<&str> = t.noise.iter().map(|n| n.kind.as_str()).collect();
    for k in [
        "legacy_smtp_service",
        "mail_merge",
        "mistyped_password",
        "legacy_imap",
    ] {
        assert!(kinds.contains(k), "noise {k} missing: {kinds:?}");
    }
    let roles: BTreeSet<Role> = t.accounts.iter().map(|a| a.role).collect();
    for r in [
        Role::Regular,
        Role::Admin,
        Role::Service,
        Role::Imap,
        Role::NewStarter,
        Role::Traveller,
    ] {
        assert!(roles.contains(&r), "{r:?}");
    }

    // Service account: SMTP AUTH with BAV2ROPC from an office address, every day.
    let office_ips: HashSet<&str> = t
        .organization
        .offices
        .iter()
        .flat_map(|o| o.ips.iter().map(|s| s.as_str()))
        .collect();
    let service: Vec<&str> = t
        .accounts
        .iter()
        .filter(|a| a.role == Role::Service)
        .map(|a| a.upn.as_str())
        .collect();
    let mut smtp_days: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
    for (_, s) in &out.signins {
        let upn = s["userPrincipalName"].as_str().unwrap();
        if service.contains(&upn) {
            assert_eq!(s["clientAppUsed"], "Authenticated SMTP");
            assert_eq!(s["userAgent"], "BAV2ROPC");
            assert!(office_ips.contains(s["ipAddress"].as_str().unwrap()));
            let day = (graph_time(s) - t.start).num_days();
            smtp_days.entry(upn).or_default().insert(day);
        }
    }
    for upn in &service {
        assert_eq!(smtp_days[upn].len() as u32, t.days, "{upn} sends every day");
    }

    // Mail merge: hundreds of same-subject messages from one account within an hour.
    let mut by_subject: HashMap<(&str, &str), Vec<DateTime<Utc>>> = HashMap::new();
    for (_, r) in &out.traces {
        by_subject
            .entry((
                r["SenderAddress"].as_str().unwrap(),
                r["Subject"].as_str().unwrap(),
            ))
            .or_default()
            .push(trace_time(r));
    }
    let merge = t
        .accounts
        .iter()
        .find(|a| a.traits.iter().any(|x| x == "mail_merge"))
        .unwrap();
    let bursts: Vec<usize> = by_subject
        .iter()
        .filter(|((s, _), _)| *s == merge.upn)
        .map(|(_, v)| v.len())
        .filter(|n| *n >= 200)
        .collect();
    assert!(!bursts.is_empty(), "mail merge burst");

    // Travel: travellers sign in from their destination during trips, including countries
    // attackers use.
    let mut seen_abroad = 0;
    for a in t.accounts.iter().filter(|a| !a.trips.is_empty()) {
        let countries: BTreeSet<&str> = out
            .signins
            .iter()
            .filter(|(_, s)| s["userPrincipalName"] == a.upn.as_str())
            .map(|(_, s)| s["location"]["countryOrRegion"].as_str().unwrap())
            .collect();
        if a.trips
            .iter()
            .any(|tr| countries.contains(tr.country.as_str()))
        {
            seen_abroad += 1;
        }
    }
    assert!(seen_abroad >= 3, "travellers abroad: {seen_abroad}");

    // Benign inbox rules and consents exist somewhere across seeds; here check the forms exist
    // in a busier tenant cheaply: mistyped passwords pair a 50126 with a later success.
    let mistyped = t
        .noise
        .iter()
        .find(|n| n.kind == "mistyped_password")
        .unwrap();
    let by = out.signin_by_id();
    let fail = by[mistyped.record_ids[0].as_str()];
    let ok = by[mistyped.record_ids.last().unwrap().as_str()];
    assert_eq!(fail["status"]["errorCode"], 50126);
    assert_eq!(ok["status"]["errorCode"], 0);
    assert!(graph_time(ok) > graph_time(fail));

    // Both sign-in shapes appear.
    assert!(out.graph_pages > 0 && !out.envelopes.is_empty());
    // VPN and cloud exits appear in benign sign-ins too.
    let hosted = out
        .signins
        .iter()
        .filter(|(_, s)| {
            let ip: IpAddr = s["ipAddress"].as_str().unwrap().parse().unwrap();
            matches!(
                ipdb::lookup(ip).unwrap().kind,
                NetKind::Vpn | NetKind::Cloud
            )
        })
        .count();
    assert!(hosted > 0);
}

#[test]
fn quirks_present_when_enabled() {
    let out = with_quirks();
    let mut seen = HashMap::new();
    let mut dup = 0;
    let mut cross_file_dup = 0;
    for (f, r) in &out.audit {
        let id = r["Id"].as_str().unwrap();
        if let Some(prev) = seen.insert(id, f) {
            dup += 1;
            if prev != f {
                cross_file_dup += 1;
            }
        }
    }
    assert!(
        dup > 0 && cross_file_dup > 0,
        "{dup} duplicates, {cross_file_dup} across files"
    );
    let late = out
        .audit
        .iter()
        .filter(|(f, r)| !f.contains(&audit_time(r).format("%Y%m%d").to_string()))
        .count();
    assert!(late > 0, "records delivered in the next day's file");
    let rt_str = out
        .audit
        .iter()
        .filter(|(_, r)| r["RecordType"].is_string())
        .count();
    assert!(rt_str > 0);
    let oc_str = out
        .audit
        .iter()
        .filter(|(_, r)| r.get("OperationCount").is_some_and(|v| v.is_string()))
        .count();
    assert!(oc_str > 0);
    let params_str = out
        .audit
        .iter()
        .filter(|(_, r)| r.get("Parameters").is_some_and(|v| v.is_string()))
        .count();
    assert!(params_str > 0);
    let no_dot = out
        .audit
        .iter()
        .filter(|(_, r)| {
            r["Operation"] == "Update user"
                || r["Operation"] == "Consent to application"
                || r["Operation"] == "User registered security info"
        })
        .count();
    assert!(no_dot > 0);
    let lower = out
        .audit
        .iter()
        .filter(|(_, r)| {
            ["ExtendedProperties", "Parameters", "OperationProperties"]
                .iter()
                .any(|k| {
                    r.get(*k)
                        .and_then(|v| v.as_array())
                        .and_then(|a| a.first())
                        .is_some_and(|o| o.get("name").is_some())
                })
        })
        .count();
    assert!(lower > 0);
    // Shuffled: some file is not in time order.
    let mut unordered = false;
    let mut by_file: BTreeMap<&str, Vec<DateTime<Utc>>> = BTreeMap::new();
    for (f, r) in &out.audit {
        by_file.entry(f).or_default().push(audit_time(r));
    }
    for times in by_file.values() {
        if times.windows(2).any(|w| w[0] > w[1]) {
            unordered = true;
        }
    }
    assert!(unordered);
}

#[test]
fn quirks_absent_when_disabled_and_content_unchanged() {
    let plain = without_quirks();
    let mut ids = HashSet::new();
    for (f, r) in &plain.audit {
        assert!(
            ids.insert(r["Id"].as_str().unwrap()),
            "duplicate {}",
            r["Id"]
        );
        assert!(r["RecordType"].is_i64() && r["UserType"].is_i64());
        if let Some(v) = r.get("OperationCount") {
            assert!(v.is_i64());
        }
        if let Some(v) = r.get("Parameters") {
            assert!(v.is_array());
        }
        for k in ["ExtendedProperties", "Parameters", "OperationProperties"] {
            if let Some(list) = r.get(k).and_then(|v| v.as_array()) {
                assert!(list
                    .iter()
                    .all(|o| o.get("Name").is_some() && o.get("Value").is_some()));
            }
        }
        let o = r["Operation"].as_str().unwrap();
        if o.contains(' ') {
            assert!(o.ends_with('.'), "{o}");
        }
        assert!(
            f.contains(&audit_time(r).format("%Y%m%d").to_string()),
            "{f} holds its own day only"
        );
    }
    let mut by_file: BTreeMap<&str, Vec<DateTime<Utc>>> = BTreeMap::new();
    for (f, r) in &plain.audit {
        by_file.entry(f).or_default().push(audit_time(r));
    }
    for (f, times) in by_file {
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{f} in time order");
    }
    let mut sids = HashSet::new();
    for (_, s) in &plain.signins {
        assert!(sids.insert(s["id"].as_str().unwrap()));
    }
    // The same seed with habits on describes exactly the same events.
    let quirky = with_quirks();
    let q: HashSet<&str> = quirky
        .audit
        .iter()
        .map(|(_, r)| r["Id"].as_str().unwrap())
        .collect();
    assert_eq!(q, ids);
    let qs: HashSet<&str> = quirky
        .signins
        .iter()
        .map(|(_, r)| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(qs, sids);
    assert_eq!(quirky.truth.attacks, plain.truth.attacks);
}

#[test]
fn memory_budget_does_not_change_output() {
    let cfg = SimConfig {
        accounts: 40,
        days: 2,
        seed: 9,
        attacks: vec!["bec-forwarding-rule@1".parse().unwrap()],
        ..SimConfig::default()
    };
    let a = scratch("budget-a");
    vigil_sim::simulate(&cfg, &a, &|_| {}).unwrap();
    // A tiny budget forces every bucket through the scratch files.
    vigil_sim::set_memory_budget(4096);
    let b = scratch("budget-b");
    let res = vigil_sim::simulate(&cfg, &b, &|_| {});
    vigil_sim::set_memory_budget(256 << 20);
    res.unwrap();
    assert_same_tree(&a, &b);
}

pub fn assert_same_tree(a: &std::path::Path, b: &std::path::Path) {
    for sub in ["audit", "signins", "messagetrace"] {
        let mut names: Vec<_> = std::fs::read_dir(a.join(sub))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        let mut other: Vec<_> = std::fs::read_dir(b.join(sub))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        other.sort();
        assert_eq!(names, other);
        for n in names {
            let x = std::fs::read(a.join(sub).join(&n)).unwrap();
            let y = std::fs::read(b.join(sub).join(&n)).unwrap();
            assert!(x == y, "{sub}/{n:?} differs");
        }
    }
    assert_eq!(
        std::fs::read(a.join("truth.json")).unwrap(),
        std::fs::read(b.join("truth.json")).unwrap()
    );
}
