//! Attack scenarios: each one writes the attacker's records into the same streams as benign
//! life and describes itself in the ground truth, with the id of every record it made.

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, Ipv6Addr};

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::benign::{
    login_base, new_inbox_rule, register_security_info_raw, rule_params, set_inbox_rule, Net,
};
use crate::catalog::{self, ThirdParty};
use crate::geo;
use crate::ipdb::{self, isps, NetKind};
use crate::records::{
    self, consent, exo_cmdlet, file_op, login, mail_access, mail_send, mailbox_identity, trace,
    Access, FileOp, Login, LoginResult, MailClient, TraceTo,
};
use crate::rng::{guid, pick, rng_for, tag};
use crate::sink::Sink;
use crate::time::{self, DAY, HOUR, MINUTE, SECOND_MS};
use crate::truth::{Role, TruthApp, TruthAttack, TruthRecords, TruthStep};
use crate::world::{Account, World, T_MAIL_MERGE, T_REMOTE};
use crate::{AttackKind, SimConfig, SimError};

/// When and what: fixed before the simulation starts.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub index: usize,
    pub kind: AttackKind,
    pub day: u32,
}

pub(crate) fn plan(cfg: &SimConfig) -> Result<Vec<Plan>, SimError> {
    let mut out = Vec::new();
    for (index, spec) in cfg.attacks.iter().enumerate() {
        let day = match spec.day {
            Some(d) if d >= cfg.days => {
                return Err(SimError::Config(format!(
                    "attack {}@{d}: day is outside the {}-day period (days count from 0)",
                    spec.kind, cfg.days
                )))
            }
            Some(d) => d,
            None => {
                let mut r = rng_for(cfg.seed, tag::PLAN, index as u64, spec.kind as u64);
                let lo = ((cfg.days as u64 * 6).div_ceil(10) as u32).min(cfg.days - 1);
                r.random_range(lo..cfg.days)
            }
        };
        out.push(Plan {
            index,
            kind: spec.kind,
            day,
        });
    }
    Ok(out)
}

/// Builds one attack's records and truth.
struct Atk<'a, 'p> {
    w: &'a World,
    s: &'a mut Sink<'p>,
    rng: ChaCha8Rng,
    t: TruthAttack,
    base: i64,
}

impl<'a, 'p> Atk<'a, 'p> {
    fn seen(&mut self, a: &Account, ms: i64) {
        let at = time::to_datetime(ms);
        self.t
            .first_malicious
            .entry(a.upn.clone())
            .and_modify(|t| {
                if at < *t {
                    *t = at
                }
            })
            .or_insert(at);
        if !self.t.victims.contains(&a.upn) {
            self.t.victims.push(a.upn.clone());
        }
        self.span(ms);
    }

    fn span(&mut self, ms: i64) {
        let at = time::to_datetime(ms);
        if at < self.t.start {
            self.t.start = at;
        }
        if at > self.t.end {
            self.t.end = at;
        }
    }

    fn compromised(&mut self, a: &Account) {
        if !self.t.compromised.contains(&a.upn) {
            self.t.compromised.push(a.upn.clone());
        }
    }

    fn step(&mut self, ms: i64, who: &str, what: String) {
        self.t.steps.push(TruthStep {
            time: time::to_datetime(ms),
            upn: who.to_string(),
            what,
        });
    }

    fn attacker(&mut self, net: &Net) {
        let ip = net.ip.to_string();
        if !self.t.attacker_ips.contains(&ip) {
            self.t.attacker_ips.push(ip);
            self.t.attacker_countries.push(net.country.to_string());
            self.t
                .attacker_asns
                .push(ipdb::lookup(net.ip).map(|r| r.asn).unwrap_or(0));
        }
    }

    fn login(&mut self, a: &Account, l: &Login<'_>) -> String {
        debug_assert!(self.s.in_window(l.ms), "attack record outside the period");
        let ids = login(self.w, self.s, &mut self.rng, l);
        self.t.records.sign_in.push(ids.signin_id.clone());
        self.t.records.audit.extend(ids.audit_id);
        self.seen(a, l.ms);
        ids.signin_id
    }

    fn audit(&mut self, a: &Account, ms: i64, id: String) {
        debug_assert!(self.s.in_window(ms));
        self.t.records.audit.push(id);
        self.seen(a, ms);
    }

    /// A victim that is a person with history, not yet used by another attack.
    fn victim(
        &mut self,
        used: &mut HashSet<u32>,
        day: u32,
        exclude: &[u32],
    ) -> Option<&'a Account> {
        let w = self.w;
        let eligible = |a: &Account, strict: bool| {
            let role_ok = match a.role {
                Role::Regular | Role::Traveller => true,
                Role::Admin => !strict,
                Role::NewStarter => !strict && a.join_day + 2 <= day as i32,
                Role::Service | Role::Imap => false,
            };
            role_ok && !a.has(T_MAIL_MERGE) && !exclude.contains(&a.idx)
        };
        for (strict, fresh) in [(true, true), (false, true), (false, false)] {
            let cands: Vec<u32> = w
                .accounts
                .iter()
                .filter(|a| eligible(a, strict) && (!fresh || !used.contains(&a.idx)))
                .map(|a| a.idx)
                .collect();
            if !cands.is_empty() {
                let v = cands[self.rng.random_range(0..cands.len())];
                used.insert(v);
                return Some(&w.accounts[v as usize]);
            }
        }
        None
    }

    /// A residential or mobile address in a country the organisation has no office in.
    fn foreign_net(&mut self, exclude: &[&str]) -> Net {
        let offices: Vec<&str> = self.w.offices.iter().map(|o| o.country).collect();
        let countries: Vec<&'static str> = geo::ATTACKER_COUNTRIES
            .iter()
            .copied()
            .filter(|c| !offices.contains(c) && !exclude.contains(c))
            .collect();
        let country = *pick(&mut self.rng, &countries);
        let mut cands = ipdb::isps_for(country, NetKind::Mobile);
        cands.extend(ipdb::isps_for(country, NetKind::Residential));
        let isp = &isps()[*pick(&mut self.rng, &cands)];
        let cc = geo::country(country);
        Net {
            ip: IpAddr::V4(isp.pick_v4(&mut self.rng)),
            country,
            city: pick(&mut self.rng, cc.cities),
        }
    }

    /// A cloud-hosting or VPN address.
    fn hosted_net(&mut self, vpn: bool) -> Net {
        let mut cands = ipdb::isps_of_kind(NetKind::Cloud);
        if vpn {
            cands.extend(ipdb::isps_of_kind(NetKind::Vpn));
        }
        let isp = &isps()[*pick(&mut self.rng, &cands)];
        Net {
            ip: IpAddr::V4(isp.pick_v4(&mut self.rng)),
            country: isp.country,
            city: &geo::country(isp.country).cities[0],
        }
    }

    fn attacker_browser(&mut self) -> (&'static str, &'static str, &'static str) {
        *pick(&mut self.rng, catalog::ATTACKER_BROWSER_UAS)
    }

    fn browser_login(
        &mut self,
        a: &Account,
        ms: i64,
        net: Net,
        result: LoginResult,
        ua: (&'static str, &'static str, &'static str),
    ) -> String {
        let mut l = login_base(a, ms, net, catalog::OFFICE_HOME, catalog::SPO);
        l.client_app = "Browser";
        l.ua = ua.0;
        l.os = ua.1;
        l.browser = ua.2;
        l.interactive = true;
        l.request_type = "Login:login";
        l.result = result;
        self.login(a, &l)
    }

    fn ropc_login(&mut self, a: &Account, ms: i64, net: Net) -> String {
        let mut l = login_base(a, ms, net, catalog::EXO, catalog::EXO);
        l.client_app = "Other clients";
        l.ua = "BAV2ROPC";
        l.protocol = "ropc";
        l.interactive = true;
        self.login(a, &l)
    }

    fn rule(
        &mut self,
        a: &Account,
        ms: i64,
        name: &str,
        params: &[(&str, String)],
        ip: IpAddr,
    ) -> String {
        let id = if params.iter().any(|(k, _)| *k == "Identity") {
            set_inbox_rule(self.w, self.s, &mut self.rng, ms, a, name, params, ip)
        } else {
            new_inbox_rule(self.w, self.s, &mut self.rng, ms, a, name, params, ip)
        };
        self.audit(a, ms, id.clone());
        if !self.t.rule_names.iter().any(|n| n == name) {
            self.t.rule_names.push(name.to_string());
        }
        id
    }

    fn reads(
        &mut self,
        a: &Account,
        from: i64,
        span: i64,
        n: u32,
        client: &MailClient<'_>,
        big: bool,
    ) {
        for _ in 0..n {
            let ms = from + self.rng.random_range(0..span.max(1));
            let access = if self.rng.random_bool(0.5) {
                Access::Bind
            } else {
                Access::Sync
            };
            let count = if big {
                self.rng.random_range(50..500)
            } else {
                self.rng.random_range(5..80)
            };
            let folder = *pick(
                &mut self.rng,
                &["\\Inbox", "\\Sent Items", "\\Archive", "\\Inbox\\Finance"],
            );
            let id = mail_access(
                self.w,
                self.s,
                &mut self.rng,
                ms,
                a,
                client,
                access,
                count,
                folder,
            );
            self.audit(a, ms, id);
        }
    }

    fn app_truth(&mut self, app: &ThirdParty, id: &str, scopes: &[&str]) {
        self.t.app = Some(TruthApp {
            name: app.name.to_string(),
            id: id.to_string(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        });
    }
}

fn words(rng: &mut ChaCha8Rng, must: &[&str], pool: &[&str]) -> String {
    let mut v: Vec<&str> = must.to_vec();
    let mut extra: Vec<&str> = pool.to_vec();
    extra.shuffle(rng);
    let k = rng.random_range(0..=extra.len().min(4));
    v.extend(extra.into_iter().take(k));
    v.join(";")
}

fn usual_ip(w: &World, a: &Account, ms: i64, rng: &mut ChaCha8Rng) -> IpAddr {
    if a.has(T_REMOTE) || rng.random_bool(0.4) {
        w.home_ip(a, ms)
    } else {
        w.office_ip(a, rng)
    }
}

/// Runs one attack and returns its truth. `used` keeps victims distinct across attacks.
pub(crate) fn run(
    w: &World,
    s: &mut Sink<'_>,
    p: &Plan,
    used: &mut HashSet<u32>,
) -> Result<TruthAttack, SimError> {
    let base = w.start_ms + p.day as i64 * DAY;
    let far = time::to_datetime(base + 400 * DAY);
    let near = time::to_datetime(base - 400 * DAY);
    let mut k = Atk {
        w,
        s,
        rng: rng_for(w.seed, tag::ATTACK, p.index as u64, p.kind as u64),
        t: TruthAttack {
            id: format!("atk-{:02}-{}", p.index + 1, p.kind),
            kind: p.kind,
            day: p.day,
            start: far,
            end: near,
            victims: Vec::new(),
            compromised: Vec::new(),
            attacker_ips: Vec::new(),
            attacker_countries: Vec::new(),
            attacker_asns: Vec::new(),
            first_malicious: BTreeMap::new(),
            first_action: None,
            first_spam: None,
            app: None,
            rule_names: Vec::new(),
            forward_to: Vec::new(),
            subject: None,
            link_domain: None,
            link_text: None,
            records: TruthRecords::default(),
            steps: Vec::new(),
        },
        base,
    };
    let persons = w.accounts.iter().filter(|a| a.is_person()).count();
    let need = match p.kind {
        AttackKind::ReferenceChain => 3,
        AttackKind::PasswordSpray => 2,
        _ => 1,
    };
    if persons < need {
        return Err(SimError::Config(format!(
            "{} needs at least {need} people in the tenant; raise --accounts",
            p.kind
        )));
    }
    match p.kind {
        AttackKind::ReferenceChain => reference_chain(&mut k, p, used),
        AttackKind::PasswordSpray => password_spray(&mut k, p, used),
        AttackKind::MfaFatigue => mfa_fatigue(&mut k, p, used),
        AttackKind::BecForwardingRule => bec_forwarding(&mut k, p, used),
        AttackKind::IllicitConsent => illicit_consent(&mut k, p, used),
        AttackKind::MassDownload => mass_download(&mut k, p, used),
        AttackKind::StolenSession => stolen_session(&mut k, p, used),
        AttackKind::HiddenSecurityRule => hidden_security_rule(&mut k, p, used),
    }
    k.t.steps.sort_by_key(|s| s.time);
    Ok(k.t)
}

/// Keeps `ms` inside the attack day (and the period).
fn clamp_day(k: &Atk<'_, '_>, ms: i64) -> i64 {
    ms.clamp(k.base, k.base + DAY - MINUTE)
}

fn reference_chain(k: &mut Atk<'_, '_>, p: &Plan, used: &mut HashSet<u32>) {
    let w = k.w;
    let a = k.victim(used, p.day, &[]).expect("checked: enough people");
    let net = k.foreign_net(&[]);
    k.attacker(&net);
    let base = k.base;

    // 04:55:51, give or take.
    let t0 = base + 4 * HOUR + 55 * MINUTE + 51 * SECOND_MS + k.rng.random_range(-40..40) * MINUTE;
    k.ropc_login(a, t0, net);
    k.compromised(a);
    k.step(
        t0,
        &a.upn,
        format!(
            "signs in with BAV2ROPC (legacy authentication) from {} ({})",
            net.ip, net.country
        ),
    );
    let ews = MailClient {
        ip: net.ip,
        info: "Client=WebServices;BAV2ROPC;",
        app_id: catalog::EXO.id,
        client_app_id: "",
    };
    let n = k.rng.random_range(1..=3);
    k.reads(a, t0 + 2 * MINUTE, 30 * MINUTE, n, &ews, true);

    // ~9h later: a browser session and the "." rule.
    let t1 = t0 + 9 * HOUR + 21 * MINUTE + k.rng.random_range(-30..30) * MINUTE;
    let ua = k.attacker_browser();
    let tl = t1 - k.rng.random_range(3..9) * MINUTE;
    k.browser_login(a, tl, net, LoginResult::Success, ua);
    let rule_name = if k.rng.random_bool(0.6) {
        "."
    } else {
        *pick(&mut k.rng, &[".", "..", ",", "...", ";"])
    };
    let folder = *pick(&mut k.rng, catalog::HIDING_FOLDERS);
    let rule_words = words(
        &mut k.rng,
        &[],
        &[
            "hacked",
            "phish",
            "phishing",
            "spam",
            "virus",
            "malware",
            "compromised",
            "suspicious",
            "delivery",
        ],
    );
    let rule_words = if rule_words.is_empty() {
        "hacked;phish".to_string()
    } else {
        rule_words
    };
    let a_params = rule_params(vec![
        ("AlwaysDeleteOutlookRulesBlob", "True".to_string()),
        ("Force", "False".to_string()),
        ("MoveToFolder", folder.to_string()),
        ("Name", rule_name.to_string()),
        ("SubjectOrBodyContainsWords", rule_words.clone()),
        ("StopProcessingRules", "False".to_string()),
    ]);
    k.rule(a, t1, rule_name, &a_params, net.ip);
    k.step(
        t1,
        &a.upn,
        format!("creates inbox rule {rule_name:?} moving mail to {folder:?}"),
    );

    // ~30 minutes later: consent to a mail app.
    let app = if k.rng.random_bool(0.5) {
        &catalog::CHAIN_APPS[0]
    } else {
        pick(&mut k.rng, catalog::CHAIN_APPS)
    };
    let app_id = crate::rng::stable_guid(app.name);
    let t2 = t1 + 28 * MINUTE + k.rng.random_range(-5..5) * MINUTE;
    let mut l = login_base(a, t2 - 50 * SECOND_MS, net, catalog::GRAPH, catalog::GRAPH);
    l.app_name = app.name;
    l.app_id = &app_id;
    l.client_app = "Browser";
    l.ua = ua.0;
    l.os = ua.1;
    l.browser = ua.2;
    l.interactive = true;
    l.request_type = "OAuth2:Authorize";
    k.login(a, &l);
    let ids = consent(
        w, k.s, &mut k.rng, t2, a, app.name, &app_id, app.domain, app.scopes, true, net.ip, ua.0,
    );
    for id in ids {
        k.audit(a, t2, id);
    }
    k.app_truth(app, &app_id, app.scopes);
    k.step(
        t2,
        &a.upn,
        format!("consents to {} ({})", app.name, app.scopes.join(" ")),
    );

    // ~20 minutes later: ~800 messages in ~15 minutes.
    let t3 = t2 + 18 * MINUTE + k.rng.random_range(-4..6) * MINUTE;
    let n = k.rng.random_range(700..=900usize);
    let span = k.rng.random_range(13..=16) * MINUTE;
    let subject = *pick(&mut k.rng, catalog::SPAM_SUBJECTS);
    k.t.subject = Some(subject.to_string());
    k.t.link_domain = Some(app.domain.to_string());
    k.t.link_text = Some("View Shared Link".to_string());
    let mut internal: Vec<u32> = w
        .accounts
        .iter()
        .filter(|x| x.is_person() && x.idx != a.idx)
        .map(|x| x.idx)
        .collect();
    internal.shuffle(&mut k.rng);
    let n_internal = (n / 4).min(internal.len()).max(2.min(internal.len()));
    internal.truncate(n_internal);
    let contacts = w.contacts(a);
    let (firsts, lasts) = geo::names(geo::Names::English);
    let mut recipients: Vec<(String, Option<u32>)> = internal
        .iter()
        .map(|&i| (w.accounts[i as usize].upn.clone(), Some(i)))
        .collect();
    let mut extra = 0;
    while recipients.len() < n {
        let addr = if extra < contacts.len() {
            contacts[extra].clone()
        } else {
            let domain = if k.rng.random_bool(0.5) {
                pick(&mut k.rng, catalog::FREEMAIL).to_string()
            } else {
                w.partners[k.rng.random_range(0..w.partners.len())]
                    .domain
                    .clone()
            };
            format!(
                "{}.{}{}@{domain}",
                pick(&mut k.rng, firsts).to_ascii_lowercase(),
                pick(&mut k.rng, lasts).to_ascii_lowercase(),
                k.rng.random_range(1..999)
            )
        };
        extra += 1;
        if !recipients.iter().any(|(x, _)| *x == addr) {
            recipients.push((addr, None));
        }
    }
    recipients.shuffle(&mut k.rng);
    let spam_client = MailClient {
        ip: net.ip,
        info: "Client=REST;Client=RESTSystem;;",
        app_id: &app_id,
        client_app_id: &app_id,
    };
    let mut sent_to: BTreeMap<u32, i64> = BTreeMap::new();
    for (i, (addr, idx)) in recipients.iter().enumerate() {
        let ms = t3 + span * i as i64 / n as i64 + k.rng.random_range(0..800);
        let imid = records::internet_message_id(w, &mut k.rng);
        let size = k.rng.random_range(18_000..24_000);
        let id = mail_send(
            w,
            k.s,
            &mut k.rng,
            ms,
            a,
            &spam_client,
            subject,
            &imid,
            size,
        );
        k.audit(a, ms, id);
        if k.t.first_spam.is_none() {
            k.t.first_spam = Some(time::to_datetime(ms));
        }
        let status = match idx {
            Some(_) => "Delivered",
            None => match k.rng.random_range(0..100) {
                0..=89 => "Delivered",
                90..=96 => "FilteredAsSpam",
                _ => "Failed",
            },
        };
        let to_ip = idx.is_none().then(|| w.mx_for(addr));
        let ids = trace(
            w,
            k.s,
            &mut k.rng,
            ms,
            &a.upn,
            &[TraceTo {
                address: addr,
                to_ip,
                status,
            }],
            subject,
            Some(net.ip),
            size,
            &imid,
        );
        k.t.records.message_trace.extend(ids);
        if let Some(ix) = idx {
            sent_to.insert(*ix, ms);
        }
    }
    k.step(
        t3,
        &a.upn,
        format!(
            "sends {n} messages {subject:?} with a link to {} in {} minutes",
            app.domain,
            span / MINUTE
        ),
    );

    // B: one of the internal recipients; failed sign-ins from the same IP, then success and a
    // rule with From and MarkAsRead.
    let b_cands: Vec<u32> = sent_to
        .keys()
        .copied()
        .filter(|i| {
            let x = &w.accounts[*i as usize];
            matches!(x.role, Role::Regular | Role::Traveller | Role::Admin) && !used.contains(i)
        })
        .collect();
    let pick_from = |k: &mut Atk<'_, '_>, cands: &[u32], fallback: &[u32]| -> u32 {
        if !cands.is_empty() {
            cands[k.rng.random_range(0..cands.len())]
        } else {
            fallback[k.rng.random_range(0..fallback.len())]
        }
    };
    let all_internal: Vec<u32> = sent_to.keys().copied().collect();
    let b_idx = pick_from(k, &b_cands, &all_internal);
    used.insert(b_idx);
    let b = &w.accounts[b_idx as usize];
    let b_got = sent_to[&b_idx];
    let t4 = (t3 + span + k.rng.random_range(0..6) * MINUTE).max(b_got + 3 * MINUTE);
    let fails = k.rng.random_range(2..=5);
    let b_ua = k.attacker_browser();
    let mut t = t4;
    for _ in 0..fails {
        k.browser_login(b, t, net, LoginResult::BadPassword, b_ua);
        t += k.rng.random_range(30..100) * SECOND_MS;
    }
    k.browser_login(b, t, net, LoginResult::Success, b_ua);
    k.compromised(b);
    k.step(
        t4,
        &b.upn,
        format!("{fails} failed sign-ins from {} then a success", net.ip),
    );
    let tb = t + k.rng.random_range(3..10) * MINUTE;
    let mut b_params = a_params.clone();
    b_params.push(("From", a.upn.clone()));
    b_params.push(("MarkAsRead", "True".to_string()));
    let b_params = rule_params(b_params);
    k.rule(b, tb, rule_name, &b_params, net.ip);
    k.step(
        tb,
        &b.upn,
        format!(
            "creates inbox rule {rule_name:?} with From {} and MarkAsRead",
            a.upn
        ),
    );

    // C: next day (or late the same day when the period ends), same IP, browser then BAV2ROPC,
    // consent to the same app, the same rule.
    let c_cands: Vec<u32> = b_cands.iter().copied().filter(|i| *i != b_idx).collect();
    let c_fallback: Vec<u32> = all_internal
        .iter()
        .copied()
        .filter(|i| *i != b_idx)
        .collect();
    let c_idx = if c_fallback.is_empty() {
        // Tiny tenant: anyone else.
        w.accounts
            .iter()
            .find(|x| x.is_person() && x.idx != a.idx && x.idx != b_idx)
            .map(|x| x.idx)
            .unwrap_or(b_idx)
    } else {
        pick_from(k, &c_cands, &c_fallback)
    };
    used.insert(c_idx);
    let c = &w.accounts[c_idx as usize];
    let next_day = p.day + 1 < w.days;
    let c_base = if next_day { base + DAY } else { base };
    let tc = if next_day {
        c_base + 14 * HOUR + 25 * MINUTE + k.rng.random_range(-30..30) * MINUTE
    } else {
        (tb + 2 * HOUR).min(base + DAY - 30 * MINUTE)
    };
    let c_ua = k.attacker_browser();
    k.browser_login(c, tc, net, LoginResult::Success, c_ua);
    k.compromised(c);
    let tc2 = tc + k.rng.random_range(2..6) * MINUTE;
    k.ropc_login(c, tc2, net);
    k.step(
        tc,
        &c.upn,
        format!(
            "signed into from {} with a browser, then with BAV2ROPC",
            net.ip
        ),
    );
    let tc3 = tc2 + k.rng.random_range(2..5) * MINUTE;
    let ids = consent(
        w, k.s, &mut k.rng, tc3, c, app.name, &app_id, app.domain, app.scopes, false, net.ip,
        c_ua.0,
    );
    for id in ids {
        k.audit(c, tc3, id);
    }
    k.step(tc3, &c.upn, format!("consents to {}", app.name));
    let tc4 = (tc3 + k.rng.random_range(4..9) * MINUTE).min(c_base + DAY - MINUTE);
    k.rule(c, tc4, rule_name, &a_params, net.ip);
    k.step(
        tc4,
        &c.upn,
        format!("creates the same inbox rule {rule_name:?}"),
    );
}

fn password_spray(k: &mut Atk<'_, '_>, p: &Plan, used: &mut HashSet<u32>) {
    let w = k.w;
    let net = if k.rng.random_bool(0.5) {
        k.foreign_net(&[])
    } else {
        k.hosted_net(true)
    };
    k.attacker(&net);
    let t0 = k.base + k.rng.random_range(0..20 * 60) * MINUTE;
    let want = k.rng.random_range(20..=60usize);
    let mut targets: Vec<&Account> = Vec::new();
    for _ in 0..want {
        match k.victim(
            used,
            p.day,
            &targets.iter().map(|a| a.idx).collect::<Vec<_>>(),
        ) {
            Some(v) if !targets.iter().any(|t| t.idx == v.idx) => targets.push(v),
            _ => break,
        }
    }
    let ua = *pick(&mut k.rng, catalog::SPRAY_UAS);
    let app = *pick(
        &mut k.rng,
        &[catalog::EXO, catalog::AAD_PS, catalog::OFFICE],
    );
    let client = if ua == "BAV2ROPC" {
        "Other clients"
    } else {
        "Browser"
    };
    let (os, browser) = if ua.starts_with("Mozilla") {
        ("Windows 10", "Chrome 90.0.4430")
    } else {
        ("", "")
    };
    let mut t = t0;
    let spray_login = |k: &mut Atk<'_, '_>, a: &Account, ms: i64, result: LoginResult| {
        let mut l = login_base(a, ms, net, app, app);
        l.client_app = client;
        l.ua = ua;
        l.os = os;
        l.browser = browser;
        l.interactive = true;
        l.protocol = if ua == "BAV2ROPC" { "ropc" } else { "none" };
        l.result = result;
        k.login(a, &l)
    };
    for a in &targets {
        let tries = if k.rng.random_bool(0.8) { 1 } else { 2 };
        for _ in 0..tries {
            spray_login(k, a, t, LoginResult::BadPassword);
            t += k.rng.random_range(10..70) * SECOND_MS;
        }
    }
    // Guessed names that do not exist.
    let ghosts = k.rng.random_range(0..=5);
    let (firsts, lasts) = geo::names(geo::Names::English);
    for _ in 0..ghosts {
        let upn = format!(
            "{}.{}@{}",
            pick(&mut k.rng, firsts).to_ascii_lowercase(),
            pick(&mut k.rng, lasts).to_ascii_lowercase(),
            w.domain
        );
        if w.accounts.iter().any(|a| a.upn == upn) {
            continue;
        }
        let mut l = login_base(targets[0], t, net, app, app);
        l.upn = &upn;
        l.user_id = "";
        l.display = "";
        l.user_key = &upn;
        l.client_app = client;
        l.ua = ua;
        l.interactive = true;
        l.result = LoginResult::UnknownUser;
        let ids = login(w, k.s, &mut k.rng, &l);
        k.t.records.sign_in.push(ids.signin_id);
        k.t.records.audit.extend(ids.audit_id);
        t += k.rng.random_range(10..70) * SECOND_MS;
    }
    k.step(
        t0,
        "",
        format!(
            "password spray from {} ({}) against {} accounts",
            net.ip,
            net.country,
            targets.len()
        ),
    );
    let winner = targets[k.rng.random_range(0..targets.len())];
    let tw = t + k.rng.random_range(1..10) * MINUTE;
    let tw = clamp_day(k, tw);
    spray_login(k, winner, tw, LoginResult::Success);
    k.compromised(winner);
    k.step(
        tw,
        &winner.upn,
        "password guessed: successful sign-in".to_string(),
    );
    let client = MailClient {
        ip: net.ip,
        info: if ua == "BAV2ROPC" {
            "Client=WebServices;BAV2ROPC;"
        } else {
            "Client=REST;Client=RESTSystem;;"
        },
        app_id: app.id,
        client_app_id: "",
    };
    let n = k.rng.random_range(3..=8);
    let span = (60 * MINUTE).min(k.base + DAY - tw - 2 * MINUTE);
    k.reads(winner, tw + MINUTE, span, n, &client, true);
    k.step(
        tw + MINUTE,
        &winner.upn,
        "mailbox read from the spraying address".to_string(),
    );
}

fn mfa_fatigue(k: &mut Atk<'_, '_>, p: &Plan, used: &mut HashSet<u32>) {
    let a = k.victim(used, p.day, &[]).expect("checked");
    let net = k.foreign_net(&[]);
    k.attacker(&net);
    let t0 = k.base + k.rng.random_range(30..18 * 60) * MINUTE;
    let ua = k.attacker_browser();
    let n = k.rng.random_range(10..=30);
    let span = k.rng.random_range(12..=18) * MINUTE;
    let mut last = t0;
    for i in 0..n {
        let ms = t0 + span * i as i64 / n as i64 + k.rng.random_range(0..20) * SECOND_MS;
        let mut l = login_base(a, ms, net, catalog::OFFICE_HOME, catalog::SPO);
        l.client_app = "Browser";
        l.ua = ua.0;
        l.os = ua.1;
        l.browser = ua.2;
        l.interactive = true;
        l.request_type = "Login:login";
        l.result = LoginResult::MfaDenied;
        l.mfa = true;
        k.login(a, &l);
        last = ms;
    }
    k.step(
        t0,
        &a.upn,
        format!(
            "{n} MFA prompts denied for sign-ins from {} ({})",
            net.ip, net.country
        ),
    );
    let ts = last + k.rng.random_range(1..4) * MINUTE;
    let mut l = login_base(a, ts, net, catalog::OFFICE_HOME, catalog::SPO);
    l.client_app = "Browser";
    l.ua = ua.0;
    l.os = ua.1;
    l.browser = ua.2;
    l.interactive = true;
    l.request_type = "Login:login";
    l.mfa = true;
    k.login(a, &l);
    k.compromised(a);
    k.step(
        ts,
        &a.upn,
        "user approves a prompt: successful sign-in".to_string(),
    );
    let tr = ts + k.rng.random_range(5..20) * MINUTE;
    let ids = register_security_info_raw(k.w, k.s, &mut k.rng, a, tr, net.ip);
    for id in ids {
        k.audit(a, tr, id);
    }
    k.step(
        tr,
        &a.upn,
        "attacker registers its own authenticator (User registered security info.)".to_string(),
    );
    let owa = MailClient {
        ip: net.ip,
        info: "Client=OWA;Action=ViaProxy",
        app_id: catalog::EXO.id,
        client_app_id: "",
    };
    let n = k.rng.random_range(1..=4);
    k.reads(a, tr + MINUTE, 30 * MINUTE, n, &owa, false);
}

fn bec_forwarding(k: &mut Atk<'_, '_>, p: &Plan, used: &mut HashSet<u32>) {
    let w = k.w;
    let a = k.victim(used, p.day, &[]).expect("checked");
    let net = if k.rng.random_bool(0.7) {
        k.foreign_net(&[])
    } else {
        k.hosted_net(true)
    };
    k.attacker(&net);
    let t0 = k.base + k.rng.random_range(30..20 * 60) * MINUTE;
    let ua = k.attacker_browser();
    k.browser_login(a, t0, net, LoginResult::Success, ua);
    k.compromised(a);
    k.step(
        t0,
        &a.upn,
        format!("signs in from {} ({})", net.ip, net.country),
    );
    let owa = MailClient {
        ip: net.ip,
        info: "Client=OWA;Action=ViaProxy",
        app_id: catalog::EXO.id,
        client_app_id: "",
    };
    let n = k.rng.random_range(1..=4);
    k.reads(a, t0 + MINUTE, 10 * MINUTE, n, &owa, false);
    let (firsts, lasts) = geo::names(geo::Names::English);
    let dest = format!(
        "{}.{}{}@{}",
        pick(&mut k.rng, firsts).to_ascii_lowercase(),
        pick(&mut k.rng, lasts).to_ascii_lowercase(),
        k.rng.random_range(1..9999),
        pick(&mut k.rng, catalog::ATTACKER_FREEMAIL)
    );
    k.t.forward_to.push(dest.clone());
    let t1 = t0 + k.rng.random_range(10..60) * MINUTE;
    let t1 = clamp_day(k, t1);
    if k.rng.random_bool(0.7) {
        let name = *pick(
            &mut k.rng,
            &[".", "..", "fwd", "Invoices", " ", "RSS", "Sync"],
        );
        let how = *pick(
            &mut k.rng,
            &["ForwardTo", "RedirectTo", "ForwardAsAttachmentTo"],
        );
        let mut params: Vec<(&'static str, String)> = vec![
            ("AlwaysDeleteOutlookRulesBlob", "False".to_string()),
            ("Force", "False".to_string()),
            (how, dest.clone()),
            ("Name", name.to_string()),
            ("StopProcessingRules", "True".to_string()),
        ];
        if k.rng.random_bool(0.6) {
            let wds = words(
                &mut k.rng,
                &["invoice", "payment"],
                &["wire", "transfer", "bank", "remittance", "iban"],
            );
            params.push(("SubjectOrBodyContainsWords", wds));
        }
        if k.rng.random_bool(0.4) {
            params.push(("DeleteMessage", "True".to_string()));
        }
        let params = rule_params(params);
        k.rule(a, t1, name, &params, net.ip);
        k.step(
            t1,
            &a.upn,
            format!("creates inbox rule {name:?}: {how} {dest}"),
        );
    } else {
        let object = mailbox_identity(w, a);
        let id = exo_cmdlet(
            w,
            k.s,
            &mut k.rng,
            t1,
            a,
            "Set-Mailbox",
            &object,
            &[
                ("Identity", a.upn.clone()),
                ("ForwardingSmtpAddress", format!("smtp:{dest}")),
                ("DeliverToMailboxAndForward", "False".to_string()),
            ],
            Some(net.ip),
            false,
        );
        k.audit(a, t1, id);
        k.step(t1, &a.upn, format!("sets mailbox forwarding to {dest}"));
    }
}

fn illicit_consent(k: &mut Atk<'_, '_>, p: &Plan, used: &mut HashSet<u32>) {
    let w = k.w;
    let a = k.victim(used, p.day, &[]).expect("checked");
    let app = pick(&mut k.rng, catalog::ILLICIT_APPS);
    let app_id = guid(&mut k.rng);
    let scopes: &[&str] =
        catalog::ILLICIT_SCOPES[k.rng.random_range(0..catalog::ILLICIT_SCOPES.len())];
    let t0 = k.base + k.rng.random_range(7 * 60..16 * 60) * MINUTE;
    let own_ip = usual_ip(w, a, t0, &mut k.rng);
    let city = w.office_city(a);
    let ua = catalog::browser_ua(a.desktop, a.browser);
    let own = Net {
        ip: own_ip,
        country: a.country,
        city,
    };
    let mut l = login_base(a, t0 - 40 * SECOND_MS, own, catalog::GRAPH, catalog::GRAPH);
    l.app_name = app.name;
    l.app_id = &app_id;
    l.client_app = "Browser";
    l.ua = ua;
    l.os = catalog::os_name(a.desktop);
    l.browser = catalog::browser_name(a.browser);
    l.interactive = true;
    l.request_type = "OAuth2:Authorize";
    k.login(a, &l);
    let ids = consent(
        w, k.s, &mut k.rng, t0, a, app.name, &app_id, app.domain, scopes, true, own_ip, ua,
    );
    for id in ids {
        k.audit(a, t0, id);
    }
    k.app_truth(app, &app_id, scopes);
    k.compromised(a);
    k.step(
        t0,
        &a.upn,
        format!(
            "consents to {} ({}) from the usual address",
            app.name,
            scopes.join(" ")
        ),
    );

    let net = k.hosted_net(false);
    k.attacker(&net);
    let t1 = t0 + k.rng.random_range(5..30) * MINUTE;
    let span = (k.rng.random_range(60..180) * MINUTE).min(k.base + DAY - t1 - MINUTE);
    for i in 0..k.rng.random_range(2..=4) {
        let ms = t1 + span * i / 4;
        let mut l = login_base(a, ms, net, catalog::GRAPH, catalog::GRAPH);
        l.app_name = app.name;
        l.app_id = &app_id;
        l.ua = app.agent;
        l.interactive = false;
        l.audit = i == 0;
        k.login(a, &l);
    }
    let client = MailClient {
        ip: net.ip,
        info: "Client=REST;Client=RESTSystem;;",
        app_id: &app_id,
        client_app_id: &app_id,
    };
    let n = k.rng.random_range(20..=80);
    k.reads(a, t1, span, n, &client, true);
    let files = k.rng.random_range(50..=200);
    for _ in 0..files {
        let ms = t1 + k.rng.random_range(0..span.max(1));
        let (site, rel, name, od) = crate::benign::some_file(w, a, &mut k.rng);
        let id = file_op(
            w,
            k.s,
            &mut k.rng,
            a,
            &FileOp {
                ms,
                op: "FileDownloaded",
                onedrive: od,
                site_url: &site,
                rel_url: &rel,
                file_name: &name,
                ip: net.ip,
                ua: app.agent,
                app: Some((&app_id, app.name)),
            },
        );
        k.audit(a, ms, id);
    }
    k.step(
        t1,
        &a.upn,
        format!(
            "{} reads {n} mail batches and downloads {files} files from {} ({})",
            app.name, net.ip, net.country
        ),
    );
}

fn mass_download(k: &mut Atk<'_, '_>, p: &Plan, used: &mut HashSet<u32>) {
    let w = k.w;
    let a = k.victim(used, p.day, &[]).expect("checked");
    let t0 = k.base + k.rng.random_range(8 * 60..21 * 60) * MINUTE;
    let insider = k.rng.random_bool(0.5);
    let (net, ua) = if insider {
        let ip = usual_ip(w, a, t0, &mut k.rng);
        (
            Net {
                ip,
                country: a.country,
                city: w.office_city(a),
            },
            catalog::browser_ua(a.desktop, a.browser),
        )
    } else {
        let net = k.foreign_net(&[]);
        let ua = k.attacker_browser();
        let tl = t0 - k.rng.random_range(2..10) * MINUTE;
        k.browser_login(a, tl, net, LoginResult::Success, ua);
        (net, ua.0)
    };
    k.attacker(&net);
    k.compromised(a);
    let n = k.rng.random_range(200..=800);
    let span = k.rng.random_range(40..=60) * MINUTE;
    for i in 0..n {
        let ms = t0 + span * i as i64 / n as i64 + k.rng.random_range(0..2000);
        let dept = *pick(&mut k.rng, catalog::DEPARTMENTS);
        let (kind, ext) = *pick(&mut k.rng, catalog::DOC_KINDS);
        let name = format!(
            "{dept} {kind} {}-{:03}.{ext}",
            2018 + k.rng.random_range(0..5),
            k.rng.random_range(1..999)
        );
        let site = format!("{}/sites/{dept}/", w.sp_root());
        let op = if insider && k.rng.random_bool(0.2) {
            "FileSyncDownloadedFull"
        } else {
            "FileDownloaded"
        };
        let id = file_op(
            w,
            k.s,
            &mut k.rng,
            a,
            &FileOp {
                ms,
                op,
                onedrive: false,
                site_url: &site,
                rel_url: "Shared Documents",
                file_name: &name,
                ip: net.ip,
                ua,
                app: None,
            },
        );
        k.audit(a, ms, id);
    }
    k.step(
        t0,
        &a.upn,
        format!(
            "downloads {n} files in {} minutes from {} ({})",
            span / MINUTE,
            net.ip,
            if insider {
                "the usual address"
            } else {
                net.country
            }
        ),
    );
}

fn stolen_session(k: &mut Atk<'_, '_>, p: &Plan, used: &mut HashSet<u32>) {
    let w = k.w;
    let a = k.victim(used, p.day, &[]).expect("checked");
    // Token replay from a cloud host: AWS or DigitalOcean mostly.
    let preferred: Vec<usize> = ipdb::isps_of_kind(NetKind::Cloud)
        .into_iter()
        .filter(|&i| matches!(isps()[i].asn, 16509 | 14618 | 14061))
        .collect();
    let isp = &isps()[*pick(&mut k.rng, &preferred)];
    let net = Net {
        ip: IpAddr::V4(isp.pick_v4(&mut k.rng)),
        country: isp.country,
        city: &geo::country(isp.country).cities[0],
    };
    k.attacker(&net);
    k.compromised(a);
    let t0 = k.base + k.rng.random_range(6 * 60..20 * 60) * MINUTE;
    let span = (k.rng.random_range(60..120) * MINUTE).min(k.base + DAY - t0 - MINUTE);
    let owa = MailClient {
        ip: net.ip,
        info: "Client=OWA;Action=ViaProxy",
        app_id: catalog::EXO.id,
        client_app_id: "",
    };
    let n = k.rng.random_range(10..=40);
    k.reads(a, t0, span, n, &owa, false);
    let ua = catalog::browser_ua(a.desktop, a.browser);
    let files = k.rng.random_range(15..=50);
    for _ in 0..files {
        let ms = t0 + k.rng.random_range(0..span.max(1));
        let (site, rel, name, od) = crate::benign::some_file(w, a, &mut k.rng);
        let op = if k.rng.random_bool(0.6) {
            "FileAccessed"
        } else {
            "FileDownloaded"
        };
        let id = file_op(
            w,
            k.s,
            &mut k.rng,
            a,
            &FileOp {
                ms,
                op,
                onedrive: od,
                site_url: &site,
                rel_url: &rel,
                file_name: &name,
                ip: net.ip,
                ua,
                app: None,
            },
        );
        k.audit(a, ms, id);
    }
    k.step(
        t0,
        &a.upn,
        format!("session replayed from {} ({}, AS{}) with no sign-in: {n} mail reads, {files} file operations", net.ip, net.country, isp.asn),
    );
}

fn hidden_security_rule(k: &mut Atk<'_, '_>, p: &Plan, used: &mut HashSet<u32>) {
    let w = k.w;
    let a = k.victim(used, p.day, &[]).expect("checked");
    let t0 = k.base + k.rng.random_range(7 * 60..19 * 60) * MINUTE;
    let usual = usual_ip(w, a, t0, &mut k.rng);
    // Same /24 (or /64) as an address the account uses, another host.
    let ip = match usual {
        IpAddr::V4(v4) => {
            let base = u32::from(v4) & !0xff;
            let mut host = k.rng.random_range(2..254);
            if host == u32::from(v4) & 0xff {
                host = if host == 253 { 2 } else { host + 1 };
            }
            IpAddr::V4((base | host).into())
        }
        IpAddr::V6(v6) => {
            let hi = u128::from(v6) >> 64;
            IpAddr::V6(Ipv6Addr::from((hi << 64) | k.rng.random::<u64>() as u128))
        }
    };
    let net = Net {
        ip,
        country: a.country,
        city: w.office_city(a),
    };
    k.attacker(&net);
    let ua = if k.rng.random_bool(0.5) {
        (
            catalog::browser_ua(a.desktop, a.browser),
            catalog::os_name(a.desktop),
            catalog::browser_name(a.browser),
        )
    } else {
        k.attacker_browser()
    };
    k.browser_login(a, t0, net, LoginResult::Success, ua);
    k.compromised(a);
    k.step(
        t0,
        &a.upn,
        format!("signs in from {ip}, next to a usual address ({usual})"),
    );
    let t1 = t0 + k.rng.random_range(5..40) * MINUTE;
    let t1 = clamp_day(k, t1);
    let name = *pick(
        &mut k.rng,
        &[
            "Security",
            "RSS",
            ".",
            "Notifications",
            "Admin",
            "..",
            "Spam",
        ],
    );
    let folder = *pick(
        &mut k.rng,
        &["RSS Feeds", "Conversation History", "Archive"],
    );
    let wds = words(
        &mut k.rng,
        &["security", "password", "phish", "MFA"],
        &["suspicious", "compromised", "hacked", "verify", "sign-in"],
    );
    let mut params = vec![
        ("AlwaysDeleteOutlookRulesBlob", "False".to_string()),
        ("Force", "False".to_string()),
        ("MarkAsRead", "True".to_string()),
        ("MoveToFolder", folder.to_string()),
        ("SubjectOrBodyContainsWords", wds.clone()),
        ("StopProcessingRules", "True".to_string()),
    ];
    // Sometimes an existing rule is changed rather than a new one made.
    let (verb, name) = if k.rng.random_bool(0.3) {
        let existing = *pick(&mut k.rng, &["Newsletters", "Receipts", "Junk filter"]);
        params.push(("Identity", format!("{}\\{existing}", a.upn)));
        ("changes rule", existing)
    } else {
        params.push(("Name", name.to_string()));
        ("creates rule", name)
    };
    let params = rule_params(params);
    k.rule(a, t1, name, &params, ip);
    k.t.first_action = Some(time::to_datetime(t1));
    k.step(
        t1,
        &a.upn,
        format!("{verb} {name:?} moving mail about {wds} to {folder:?}, marked read"),
    );
}
