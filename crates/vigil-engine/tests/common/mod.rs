//! A small generated tenant for engine tests: seeded, randomised names, networks and countries.
#![allow(dead_code, clippy::too_many_arguments)]

use std::net::{IpAddr, Ipv4Addr};

use chrono::{Duration, TimeZone, Utc};
use vigil_event::*;

/// splitmix64: a tiny seeded RNG, enough for tests.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo) as u64) as i64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
    pub fn word(&mut self) -> String {
        const SYL: &[&str] = &[
            "ka", "lo", "mi", "ra", "ten", "vo", "sa", "ne", "tu", "bri", "den", "fa", "gor",
            "hil", "jun", "mar", "pel", "quin", "ros", "wen",
        ];
        let n = 2 + self.below(2);
        (0..n).map(|_| *self.pick(SYL)).collect()
    }
}

pub const HOME_COUNTRIES: &[&str] = &["GB", "DE", "FR", "NL", "US", "SE", "ES", "IT"];
pub const ATTACKER_COUNTRIES: &[&str] = &["NG", "VN", "RU", "BR", "ID", "UA", "KP", "PK", "RO"];

#[derive(Clone, Debug)]
pub struct Account {
    pub upn: String,
    pub home_ip: IpAddr,
    pub home_asn: u32,
}

#[derive(Clone, Debug)]
pub struct Tenant {
    pub domain: String,
    pub country: String,
    pub office_prefix: [u8; 3],
    pub office_asn: u32,
    pub mobile_asn: u32,
    pub mobile_prefix: [u8; 2],
    pub accounts: Vec<Account>,
    pub service_account: String,
    pub start: Timestamp,
    pub days: i64,
    pub seq: u64,
    /// A country some accounts visit on business, and the accounts that went.
    pub trip_country: String,
    pub trip_asn: u32,
    pub travellers: Vec<usize>,
}

pub fn ip4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

impl Tenant {
    pub fn new(rng: &mut Rng, n: usize, days: i64) -> Tenant {
        let domain = format!("{}.example", rng.word());
        let country = rng.pick(HOME_COUNTRIES).to_string();
        let mut trip_country = rng.pick(HOME_COUNTRIES).to_string();
        while trip_country == country {
            trip_country = rng.pick(HOME_COUNTRIES).to_string();
        }
        let office_prefix = [
            rng.range(20, 90) as u8,
            rng.range(1, 250) as u8,
            rng.range(1, 250) as u8,
        ];
        let home_asns: Vec<u32> = (0..4).map(|_| rng.range(1000, 9000) as u32).collect();
        let mut accounts = Vec::new();
        let mut used = std::collections::BTreeSet::new();
        while accounts.len() < n {
            let upn = format!("{}.{}@{}", rng.word(), rng.word(), domain);
            if !used.insert(upn.clone()) {
                continue;
            }
            accounts.push(Account {
                upn,
                home_ip: ip4(
                    rng.range(90, 99) as u8,
                    rng.range(0, 255) as u8,
                    rng.range(0, 255) as u8,
                    rng.range(1, 254) as u8,
                ),
                home_asn: *rng.pick(&home_asns),
            });
        }
        let travellers = (0..n / 5).map(|_| rng.below(n as u64) as usize).collect();
        let start = Utc
            .with_ymd_and_hms(
                2024,
                1 + rng.below(10) as u32,
                1 + rng.below(20) as u32,
                0,
                0,
                0,
            )
            .unwrap();
        Tenant {
            service_account: format!("scanner-{}@{}", rng.word(), domain),
            domain,
            country,
            office_prefix,
            office_asn: rng.range(10000, 20000) as u32,
            mobile_asn: rng.range(20000, 25000) as u32,
            mobile_prefix: [rng.range(100, 120) as u8, rng.range(0, 255) as u8],
            accounts,
            start,
            days,
            seq: 0,
            trip_country,
            trip_asn: rng.range(25000, 26000) as u32,
            travellers,
        }
    }

    pub fn office_ip(&self, rng: &mut Rng) -> IpAddr {
        let p = self.office_prefix;
        ip4(p[0], p[1], p[2], rng.range(2, 40) as u8)
    }

    pub fn mobile_ip(&self, rng: &mut Rng) -> IpAddr {
        let p = self.mobile_prefix;
        ip4(p[0], p[1], rng.range(0, 255) as u8, rng.range(1, 254) as u8)
    }

    pub fn id(&mut self) -> String {
        self.seq += 1;
        format!("rec-{:08}", self.seq)
    }

    pub fn event(
        &mut self,
        time: Timestamp,
        user: &str,
        ip: Option<IpAddr>,
        kind: EventKind,
    ) -> Event {
        let op = kind.name().to_string();
        // Built through serde so that fields added to Event later (with defaults) don't break tests.
        let mut e: Event = serde_json::from_value(serde_json::json!({
            "id": self.id(),
            "time": time,
            "source": "audit",
            "format": "management_api",
            "operation": op,
            "outcome": "success",
            "kind": {"type": "generic"},
            "raw": "{}"
        }))
        .expect("minimal event");
        e.user = Some(user.into());
        e.ip = ip;
        e.kind = kind;
        e
    }

    #[allow(clippy::too_many_arguments)]
    pub fn signin(
        &mut self,
        time: Timestamp,
        user: &str,
        ip: IpAddr,
        country: &str,
        asn: u32,
        ua: (&str, UaClass),
        ok: bool,
        code: i64,
    ) -> Event {
        let mut e = self.event(
            time,
            user,
            Some(ip),
            EventKind::SignIn(SignIn {
                succeeded: ok,
                error_code: Some(code),
                additional_details: (code == 500121)
                    .then(|| "MFA denied; user declined the authentication".into()),
                client_app: Some(
                    if ua.1 == UaClass::LegacyAuth {
                        "Other clients"
                    } else {
                        "Browser"
                    }
                    .into(),
                ),
                ..SignIn::default()
            }),
        );
        e.source = Source::SignIn;
        e.format = Format::GraphSignIn;
        e.outcome = if ok {
            Outcome::Success
        } else {
            Outcome::Failure
        };
        e.enrichment = Enrichment {
            country: CountryCode::new(country),
            asn: Some(asn),
            as_org: Some(format!("Net{asn}").into()),
            ua_class: Some(ua.1),
            ua_family: Some(ua.0.into()),
            ..Enrichment::default()
        };
        e
    }

    pub fn rule(
        &mut self,
        time: Timestamp,
        user: &str,
        ip: IpAddr,
        name: &str,
        folder: Option<&str>,
        read: bool,
        words: &[&str],
    ) -> Event {
        self.event(
            time,
            user,
            Some(ip),
            EventKind::InboxRule(InboxRule {
                change: RuleChange::New,
                mailbox: Some(user.into()),
                rule_name: Some(name.into()),
                forward_to: Vec::new(),
                move_to_folder: folder.map(Into::into),
                deletes: false,
                marks_as_read: read,
                stops_processing: false,
                conditions: words
                    .iter()
                    .map(|w| NameValue {
                        name: "SubjectOrBodyContainsWords".into(),
                        value: (*w).into(),
                    })
                    .collect(),
                parameters: Vec::new(),
            }),
        )
    }

    pub fn consent(
        &mut self,
        time: Timestamp,
        user: &str,
        app: &str,
        app_id: &str,
        scopes: &[&str],
    ) -> Event {
        self.event(
            time,
            user,
            None,
            EventKind::AppConsent(AppConsent {
                consent: ConsentKind::ConsentToApplication,
                app_name: Some(app.into()),
                app_id: Some(app_id.into()),
                scopes: scopes.iter().map(|s| (*s).into()).collect(),
                admin_consent: Some(false),
            }),
        )
    }

    pub fn send(&mut self, time: Timestamp, user: &str, subject: &str, msgid: &str) -> Event {
        self.event(
            time,
            user,
            None,
            EventKind::MailSend(MailSend {
                mode: SendMode::Send,
                mailbox: Some(user.into()),
                subject: Some(subject.into()),
                internet_message_id: Some(msgid.into()),
                client_app_id: None,
            }),
        )
    }

    pub fn trace(
        &mut self,
        time: Timestamp,
        from: &str,
        to: &str,
        subject: &str,
        msgid: &str,
    ) -> Event {
        let mut e = self.event(
            time,
            from,
            None,
            EventKind::MessageTrace(MessageTrace {
                message_id: Some(msgid.into()),
                message_trace_id: None,
                sender: MailAddress::parse(from),
                recipient: MailAddress::parse(to),
                subject: Some(subject.into()),
                status: Some("Delivered".into()),
                from_ip: None,
                to_ip: None,
                size: Some(20_000),
            }),
        );
        e.user = None;
        e.source = Source::MessageTrace;
        e.format = Format::MessageTraceIso;
        e
    }

    pub fn mail_read(
        &mut self,
        time: Timestamp,
        user: &str,
        ip: Option<IpAddr>,
        n: u64,
        app: Option<&str>,
    ) -> Event {
        self.event(
            time,
            user,
            ip,
            EventKind::MailItemsAccessed(MailItemsAccessed {
                access_type: MailAccessType::Bind,
                operation_count: n,
                item_count: n,
                throttled: false,
                mailbox: Some(user.into()),
                app_id: app.map(Into::into),
                client_info: None,
            }),
        )
    }

    pub fn file(&mut self, time: Timestamp, user: &str, ip: IpAddr, name: &str) -> Event {
        self.event(
            time,
            user,
            Some(ip),
            EventKind::FileActivity(FileActivity {
                operation: FileOperation::Downloaded,
                file_name: Some(name.into()),
                object_url: None,
                site_url: None,
                site_domain: None,
                target_user: None,
            }),
        )
    }

    pub fn enrich(&self, e: &mut Event, country: &str, asn: u32) {
        e.enrichment.country = CountryCode::new(country);
        e.enrichment.asn = Some(asn);
    }

    /// `days` of benign life, sorted by time.
    pub fn benign(&mut self, rng: &mut Rng) -> Vec<Event> {
        let mut out = Vec::new();
        let browsers = [("Chrome", UaClass::Browser), ("Edge", UaClass::Browser)];
        let desktop = ("Outlook", UaClass::DesktopClient);
        let phone = ("Outlook-iOS", UaClass::MobileClient);
        let country = self.country.clone();
        let trip_country = self.trip_country.clone();
        let accounts = self.accounts.clone();
        for day in 0..self.days {
            let d0 = self.start + Duration::days(day);
            let weekend = matches!(
                chrono::Datelike::weekday(&d0),
                chrono::Weekday::Sat | chrono::Weekday::Sun
            );
            // service account: SMTP AUTH from the office, every day
            for h in [6i64, 12, 18] {
                let t = d0 + Duration::hours(h) + Duration::seconds(rng.range(0, 600));
                let ip = ip4(
                    self.office_prefix[0],
                    self.office_prefix[1],
                    self.office_prefix[2],
                    250,
                );
                let sa = self.service_account.clone();
                let asn = self.office_asn;
                out.push(self.signin(
                    t,
                    &sa,
                    ip,
                    &country,
                    asn,
                    ("Authenticated SMTP", UaClass::LegacyAuth),
                    true,
                    0,
                ));
            }
            for (i, a) in accounts.iter().enumerate() {
                if weekend && !rng.chance(0.15) {
                    continue;
                }
                let travelling = self.travellers.contains(&i) && (3..=5).contains(&day);
                let n = 2 + rng.below(3);
                for _ in 0..n {
                    let t = d0
                        + Duration::hours(rng.range(7, 18))
                        + Duration::seconds(rng.range(0, 3600));
                    let (ip, c, asn) = if travelling {
                        (
                            ip4(150, (i % 200) as u8, 7, 9),
                            trip_country.clone(),
                            self.trip_asn,
                        )
                    } else {
                        match rng.below(10) {
                            0..=4 => (self.office_ip(rng), country.clone(), self.office_asn),
                            5..=7 => (a.home_ip, country.clone(), a.home_asn),
                            _ => (self.mobile_ip(rng), country.clone(), self.mobile_asn),
                        }
                    };
                    let ua = if asn == self.mobile_asn {
                        phone
                    } else if rng.chance(0.5) {
                        desktop
                    } else {
                        browsers[i % 2]
                    };
                    if rng.chance(0.03) {
                        out.push(self.signin(
                            t - Duration::seconds(30),
                            &a.upn,
                            ip,
                            &c,
                            asn,
                            ua,
                            false,
                            50126,
                        ));
                    }
                    out.push(self.signin(t, &a.upn, ip, &c, asn, ua, true, 0));
                    // activity from the same place
                    let mut r = self.mail_read(
                        t + Duration::minutes(2),
                        &a.upn,
                        Some(ip),
                        1 + rng.below(30),
                        None,
                    );
                    self.enrich(&mut r, &c, asn);
                    out.push(r);
                    if rng.chance(0.5) {
                        let msg = format!("<{}@{}>", self.seq, self.domain);
                        let subj = format!("re: {}", rng.word());
                        out.push(self.send(t + Duration::minutes(5), &a.upn, &subj, &msg));
                        let to = accounts[rng.below(accounts.len() as u64) as usize]
                            .upn
                            .clone();
                        out.push(self.trace(
                            t + Duration::minutes(5) + Duration::seconds(3),
                            &a.upn,
                            &to,
                            &subj,
                            &msg,
                        ));
                        if rng.chance(0.3) {
                            let ext = format!("{}@{}.example", rng.word(), rng.word());
                            out.push(self.trace(
                                t + Duration::minutes(5) + Duration::seconds(4),
                                &a.upn,
                                &ext,
                                &subj,
                                &msg,
                            ));
                        }
                    }
                    if rng.chance(0.3) {
                        let name = format!("{}.docx", rng.word());
                        let mut f = self.file(t + Duration::minutes(9), &a.upn, ip, &name);
                        self.enrich(&mut f, &c, asn);
                        out.push(f);
                    }
                }
            }
        }
        out.sort_by_key(|a| a.time);
        out
    }
}

/// The reference attack: A by BAV2ROPC from an attacker country, rule, consent, spam; B from the
/// same IP after failed attempts; C the next day.
pub struct Attack {
    pub a: String,
    pub b: String,
    pub c: String,
    pub ip: IpAddr,
    pub country: String,
    pub asn: u32,
    pub app: String,
    pub first_login: Timestamp,
    pub first_spam: Timestamp,
    pub events: Vec<Event>,
}

pub fn reference_attack(t: &mut Tenant, rng: &mut Rng) -> Attack {
    let n = t.accounts.len() as u64;
    let ai = rng.below(n) as usize;
    let mut bi = rng.below(n) as usize;
    while bi == ai {
        bi = rng.below(n) as usize;
    }
    let mut ci = rng.below(n) as usize;
    while ci == ai || ci == bi {
        ci = rng.below(n) as usize;
    }
    let (a, b, c) = (
        t.accounts[ai].upn.clone(),
        t.accounts[bi].upn.clone(),
        t.accounts[ci].upn.clone(),
    );
    let country = rng.pick(ATTACKER_COUNTRIES).to_string();
    let ip = ip4(
        rng.range(100, 200) as u8,
        rng.range(0, 255) as u8,
        rng.range(0, 255) as u8,
        rng.range(1, 254) as u8,
    );
    let asn = rng.range(30000, 60000) as u32;
    let app = format!("{} Mail", rng.word());
    let app_id = format!("{:016x}", rng.next());
    let day = t.start + Duration::days(t.days);
    let t0 = day + Duration::hours(rng.range(1, 6)) + Duration::seconds(rng.range(0, 3600));
    let bav = ("BAV2ROPC", UaClass::LegacyAuth);
    let browser = ("Firefox", UaClass::Browser);
    let mut ev = Vec::new();
    ev.push(t.signin(t0, &a, ip, &country, asn, bav, true, 0));
    let t_rule = t0 + Duration::minutes(rng.range(300, 600));
    let folder = *rng.pick(&["RSS Feeds", "Conversation History", "Archive"]);
    let mut r = t.rule(
        t_rule,
        &a,
        ip,
        ".",
        Some(folder),
        false,
        &["invoice", "payment"],
    );
    t.enrich(&mut r, &country, asn);
    ev.push(r);
    let t_consent = t_rule + Duration::minutes(rng.range(10, 40));
    ev.push(t.consent(
        t_consent,
        &a,
        &app,
        &app_id,
        &["Mail.ReadWrite", "Mail.Send", "offline_access"],
    ));
    let t_spam = t_consent + Duration::minutes(rng.range(10, 30));
    let subject = format!("{} shared a file with you", rng.word());
    let recipients: Vec<String> = t
        .accounts
        .iter()
        .map(|x| x.upn.clone())
        .filter(|x| *x != a)
        .collect();
    let burst = 300 + rng.below(300);
    for i in 0..burst {
        let ts = t_spam + Duration::milliseconds((i as i64) * 1000);
        let msg = format!("<spam{i}.{}@{}>", rng.next(), t.domain);
        ev.push(t.send(ts, &a, &subject, &msg));
        let to = if i < recipients.len() as u64 {
            recipients[i as usize].clone()
        } else {
            format!("{}@{}.example", rng.word(), rng.word())
        };
        ev.push(t.trace(ts + Duration::seconds(1), &a, &to, &subject, &msg));
    }
    let t_b = t_spam + Duration::minutes(burst as i64 / 60 + 5);
    for k in 0..3 {
        ev.push(t.signin(
            t_b - Duration::seconds(60 - k * 10),
            &b,
            ip,
            &country,
            asn,
            bav,
            false,
            50126,
        ));
    }
    ev.push(t.signin(t_b, &b, ip, &country, asn, bav, true, 0));
    let mut r = t.rule(
        t_b + Duration::minutes(4),
        &b,
        ip,
        ".",
        Some(folder),
        true,
        &["invoice"],
    );
    t.enrich(&mut r, &country, asn);
    ev.push(r);
    let t_c = day + Duration::days(1) + Duration::hours(14) + Duration::minutes(rng.range(0, 30));
    ev.push(t.signin(t_c, &c, ip, &country, asn, browser, true, 0));
    ev.push(t.signin(
        t_c + Duration::minutes(3),
        &c,
        ip,
        &country,
        asn,
        bav,
        true,
        0,
    ));
    ev.push(t.consent(
        t_c + Duration::minutes(6),
        &c,
        &app,
        &app_id,
        &["Mail.ReadWrite", "Mail.Send", "offline_access"],
    ));
    let mut r = t.rule(
        t_c + Duration::minutes(9),
        &c,
        ip,
        ".",
        Some(folder),
        true,
        &["invoice"],
    );
    t.enrich(&mut r, &country, asn);
    ev.push(r);
    ev.sort_by_key(|x| x.time);
    Attack {
        a,
        b,
        c,
        ip,
        country,
        asn,
        app,
        first_login: t0,
        first_spam: t_spam,
        events: ev,
    }
}
