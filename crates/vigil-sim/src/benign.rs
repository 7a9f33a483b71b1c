//! Benign life: what each account does on one local day.

use std::net::IpAddr;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::catalog::{self, App, Phone};
use crate::geo::{self, City};
use crate::ipdb::isps;
use crate::records::{
    self, consent, dir_op, exo_cmdlet, file_op, login, mail_access, mail_send, mailbox_identity,
    teams_session, trace, user_targets, Access, DirOp, FileOp, Login, LoginResult, MailClient,
    TraceTo,
};
use crate::rng::{guid, pick, poisson, rng_for, tag};
use crate::sink::Sink;
use crate::time::{self, DAY, MINUTE, SECOND_MS};
use crate::truth::{NoiseEvent, Role};
use crate::world::{Account, World, T_HYBRID, T_MAIL_MERGE, T_REMOTE, T_VPN};

/// Where a device is on the network.
#[derive(Clone, Copy)]
pub(crate) struct Net {
    pub ip: IpAddr,
    pub country: &'static str,
    pub city: &'static City,
}

pub(crate) struct Ctx<'a, 'p> {
    pub w: &'a World,
    pub s: &'a mut Sink<'p>,
    pub noise: &'a mut Vec<NoiseEvent>,
}

impl Ctx<'_, '_> {
    fn note(&mut self, kind: &str, a: &Account, ms: i64, detail: String, ids: Vec<String>) {
        if self.s.in_window(ms) {
            self.noise.push(NoiseEvent {
                kind: kind.to_string(),
                upn: a.upn.clone(),
                time: time::to_datetime(ms),
                detail,
                record_ids: ids,
            });
        }
    }
}

/// One day of one account.
struct Day<'a> {
    a: &'a Account,
    midnight: i64,
    start: i64,
    end: i64,
    laptop: Net,
    mobile: Net,
    phone: Option<Phone>,
}

fn t_between(rng: &mut ChaCha8Rng, a: i64, b: i64) -> i64 {
    if b <= a {
        a
    } else {
        rng.random_range(a..b)
    }
}

fn first_city(country: &str) -> &'static City {
    &geo::country(country).cities[0]
}

/// Local day index → weekday (0 = Monday).
fn weekday(w: &World, g: i32) -> u32 {
    let date_ms = w.start_ms.div_euclid(DAY) * DAY + g as i64 * DAY;
    geo::weekday_of(date_ms).num_days_from_monday()
}

pub(crate) fn account_day(c: &mut Ctx<'_, '_>, a: &Account, g: i32) {
    let w = c.w;
    let mut rng = rng_for(w.seed, tag::DAY, a.idx as u64, (g + 10_000) as u64);
    if g < a.join_day - 1 {
        return;
    }
    // Skip local days that cannot reach into the simulated period (activity runs from local
    // midnight to a few hours past the next one).
    let tz = match a.trip_on(g) {
        Some(t) => {
            let cc = geo::country(t.country);
            cc.cities[t.city as usize % cc.cities.len()].tz
        }
        None => w.office_city(a).tz,
    };
    let midnight = w.local_midnight(tz, g);
    let end = w.start_ms + w.days as i64 * DAY;
    if midnight + DAY + 4 * 60 * MINUTE <= w.start_ms || midnight - 3 * 60 * MINUTE >= end {
        return;
    }
    if g == a.join_day - 1 {
        onboarding(c, &mut rng, a, g);
        return;
    }
    match a.role {
        Role::Service => service_day(c, &mut rng, a, g),
        _ => person_day(c, &mut rng, a, g),
    }
}

pub(crate) fn login_base<'a>(
    a: &'a Account,
    ms: i64,
    net: Net,
    app: App,
    resource: App,
) -> Login<'a> {
    Login {
        ms,
        upn: &a.upn,
        user_id: &a.object_id,
        display: &a.display,
        user_key: &a.object_id,
        ip: net.ip,
        country: net.country,
        city: net.city,
        app_name: app.name,
        app_id: app.id,
        resource,
        client_app: "Mobile Apps and Desktop clients",
        ua: "",
        os: "",
        browser: "",
        interactive: false,
        result: LoginResult::Success,
        mfa: false,
        protocol: "none",
        request_type: "OAuth2:Token",
        correlation: None,
        audit: true,
    }
}

fn person_day(c: &mut Ctx<'_, '_>, rng: &mut ChaCha8Rng, a: &Account, g: i32) {
    let w = c.w;
    let trip = a.trip_on(g);
    let home_city = w.office_city(a);
    let (tz, city) = match trip {
        Some(t) => {
            let cc = geo::country(t.country);
            let city = &cc.cities[t.city as usize % cc.cities.len()];
            (city.tz, city)
        }
        None => (home_city.tz, home_city),
    };
    let midnight = w.local_midnight(tz, g);
    let wd = weekday(w, g);
    let weekend = wd >= 5;
    let first_day = g == a.join_day;
    let leave = !weekend && !first_day && rng.random_bool(0.04);
    let light = weekend || leave;
    if light && !rng.random_bool(if trip.is_some() { 0.6 } else { 0.2 }) {
        return;
    }

    // Networks for the day.
    let mut at_office = false;
    let laptop = match trip {
        Some(t) => {
            let mut tr = rng_for(w.seed, tag::TRIP, a.idx as u64, t.start as u64);
            Net {
                ip: IpAddr::V4(isps()[t.isp as usize].pick_v4(&mut tr)),
                country: t.country,
                city,
            }
        }
        None => {
            let home = a.has(T_REMOTE) || light || (a.has(T_HYBRID) && rng.random_bool(0.4));
            if home {
                match a.vpn_isp {
                    Some(v) if a.has(T_VPN) && rng.random_bool(0.5) => {
                        let isp = &isps()[v as usize];
                        Net {
                            ip: IpAddr::V4(isp.pick_v4(rng)),
                            country: isp.country,
                            city: first_city(isp.country),
                        }
                    }
                    _ => Net {
                        ip: w.home_ip(a, midnight),
                        country: a.country,
                        city: home_city,
                    },
                }
            } else {
                at_office = true;
                Net {
                    ip: w.office_ip(a, rng),
                    country: a.country,
                    city: home_city,
                }
            }
        }
    };
    let mut mr = rng_for(w.seed, tag::MOBILE_IP, a.idx as u64, (g + 10_000) as u64);
    let mobile = match trip {
        // Roaming phones usually come out of the home carrier's network.
        Some(t) if !mr.random_bool(0.6) => {
            let local = crate::ipdb::mobile_isps(t.country);
            let isp = &isps()[*pick(&mut mr, &local)];
            Net {
                ip: isp.pick(&mut mr, false),
                country: t.country,
                city,
            }
        }
        _ if at_office && mr.random_bool(0.5) => laptop,
        _ => Net {
            ip: {
                let v6 = mr.random_bool(0.3);
                isps()[a.mobile_isp as usize].pick(&mut mr, v6)
            },
            country: a.country,
            city: home_city,
        },
    };
    let start = midnight + (a.start_min as i64 + rng.random_range(-25..25)) * MINUTE;
    let end = start + rng.random_range(450..600) * MINUTE;
    let d = Day {
        a,
        midnight,
        start,
        end,
        laptop,
        mobile,
        phone: a.phone_on(g),
    };

    if light {
        weekend_check(c, rng, &d);
        return;
    }

    if first_day {
        // A new starter's first sign-in and MFA registration.
        let ms = start + rng.random_range(5..40) * MINUTE;
        let mut l = login_base(a, ms, laptop, catalog::MY_SIGNINS, catalog::MY_SIGNINS);
        l.client_app = "Browser";
        l.ua = catalog::browser_ua(a.desktop, a.browser);
        l.os = catalog::os_name(a.desktop);
        l.browser = catalog::browser_name(a.browser);
        l.interactive = true;
        l.request_type = "Login:login";
        let ids = login(w, c.s, rng, &l);
        let reg = register_security_info(c, rng, a, ms + 3 * MINUTE, laptop.ip);
        let mut noted = vec![ids.signin_id];
        noted.extend(reg);
        c.note("new_starter_first_sign_in", a, ms, String::new(), noted);
    }

    if Some(g) == a.new_phone.map(|(day, _)| day) {
        let ms = t_between(rng, start, end);
        let ids = register_security_info(c, rng, a, ms, mobile.ip);
        c.note(
            "new_phone_mfa_registration",
            a,
            ms,
            catalog::phone_os(d.phone.unwrap_or(Phone {
                ios: true,
                model: 0,
            }))
            .to_string(),
            ids,
        );
    }

    // Desktop mail client.
    if a.role == Role::Imap {
        imap_client(c, rng, &d);
    } else {
        let ms = start + rng.random_range(0..10) * MINUTE;
        let mut l = login_base(a, ms, laptop, catalog::OFFICE, catalog::EXO);
        l.ua = catalog::outlook_ua(a.desktop);
        l.os = catalog::os_name(a.desktop);
        l.interactive = rng.random_bool(0.15);
        l.mfa = l.interactive || trip.is_some();
        login(w, c.s, rng, &l);
        let syncs = rng.random_range(1..=3);
        for i in 0..syncs {
            let t = if i == 0 {
                ms + rng.random_range(5..90) * SECOND_MS
            } else {
                t_between(rng, start, end)
            };
            let count = rng.random_range(3..60);
            mail_access(
                w,
                c.s,
                rng,
                t,
                a,
                &MailClient {
                    ip: laptop.ip,
                    info: "Client=MSExchangeRPC",
                    app_id: catalog::OFFICE.id,
                    client_app_id: "",
                },
                Access::Sync,
                count,
                "\\Inbox",
            );
        }
    }

    // Teams.
    let ms = start + rng.random_range(1..15) * MINUTE;
    let mut l = login_base(a, ms, laptop, catalog::TEAMS, catalog::GRAPH);
    l.ua = catalog::teams_ua(a.desktop);
    l.os = catalog::os_name(a.desktop);
    l.audit = false;
    login(w, c.s, rng, &l);
    teams_session(
        w,
        c.s,
        rng,
        ms + 20 * SECOND_MS,
        a,
        laptop.ip,
        catalog::teams_ua(a.desktop),
    );

    // Browser: Office portal, SharePoint, OWA. Sometimes a mistyped password first.
    let browser_sessions = if rng.random_bool(0.6) { 1 } else { 2 };
    for i in 0..browser_sessions {
        let ms = if i == 0 {
            start + rng.random_range(10..150) * MINUTE
        } else {
            t_between(rng, start + 3 * 60 * MINUTE, end)
        };
        let typo = i == 0 && rng.random_bool(0.03);
        browser_login(c, rng, &d, ms, typo);
        if rng.random_bool(0.35) {
            let reads = rng.random_range(1..=3);
            for _ in 0..reads {
                let t = ms + rng.random_range(1..60) * MINUTE;
                let count = rng.random_range(1..20);
                mail_access(
                    w,
                    c.s,
                    rng,
                    t,
                    a,
                    &MailClient {
                        ip: laptop.ip,
                        info: "Client=OWA;Action=ViaProxy",
                        app_id: catalog::EXO.id,
                        client_app_id: "",
                    },
                    Access::Bind,
                    count,
                    "\\Inbox",
                );
            }
        }
    }

    // Phone.
    if let Some(p) = d.phone {
        let n = rng.random_range(1..=3);
        for _ in 0..n {
            let ms = t_between(rng, start - 90 * MINUTE, end + 180 * MINUTE);
            phone_check(c, rng, &d, p, ms);
        }
    }

    // Mail.
    let lambda = match a.dept {
        2 => 8.0, // Sales
        9 => 7.0, // Executive
        _ => 5.0,
    };
    let sends = poisson(rng, lambda);
    let peers = w.peers(a);
    let contacts = w.contacts(a);
    for _ in 0..sends {
        let ms = t_between(rng, start, end);
        if c.s.in_window(ms) {
            send_mail(c, rng, &d, ms, &peers, &contacts);
        }
    }
    let inbound = poisson(rng, 2.0);
    for _ in 0..inbound {
        let ms = midnight + rng.random_range(0..DAY);
        if c.s.in_window(ms) {
            receive_mail(c, rng, a, ms, &contacts);
        }
    }

    // Files.
    let files = poisson(rng, 4.0);
    for _ in 0..files {
        let ms = t_between(rng, start, end);
        let op = match rng.random_range(0..100) {
            0..=59 => "FileAccessed",
            60..=74 => "FileModified",
            75..=89 => "FileDownloaded",
            _ => "FileUploaded",
        };
        if !c.s.in_window(ms) {
            continue;
        }
        file_activity(
            c,
            rng,
            a,
            ms,
            op,
            laptop.ip,
            catalog::browser_ua(a.desktop, a.browser),
        );
    }

    // Rare things people do.
    if rng.random_bool(0.003) {
        benign_rule(c, rng, &d, &peers);
    }
    if rng.random_bool(0.0015) {
        benign_rule_edit(c, rng, &d);
    }
    if rng.random_bool(0.0015) {
        benign_consent(c, rng, &d);
    }
    if rng.random_bool(0.002) {
        let ms = t_between(rng, start, end);
        let ids = vec![dir_op(
            w,
            c.s,
            rng,
            &DirOp {
                ms,
                op: "Change user password.",
                actor: a,
                object_id: &a.upn,
                targets: user_targets(a),
                modified: vec![],
                extended: vec![("extendedAuditEventCategory", "User".to_string())],
                client_ip: Some(laptop.ip),
            },
        )];
        c.note("password_change", a, ms, String::new(), ids);
    }
    if rng.random_bool(0.001) {
        sync_burst(c, rng, &d);
    }

    // Role-specific work.
    if a.role == Role::Admin {
        admin_work(c, rng, &d);
    }
    if a.has(T_MAIL_MERGE) && wd == w.merge_weekday {
        mail_merge(c, rng, &d);
    }
}

fn browser_login(c: &mut Ctx<'_, '_>, rng: &mut ChaCha8Rng, d: &Day<'_>, ms: i64, typo: bool) {
    let a = d.a;
    let app = if rng.random_bool(0.6) {
        catalog::OFFICE_HOME
    } else {
        catalog::EXO
    };
    let mut l = login_base(
        a,
        ms,
        d.laptop,
        app,
        if app == catalog::EXO {
            catalog::EXO
        } else {
            catalog::SPO
        },
    );
    l.client_app = "Browser";
    l.ua = catalog::browser_ua(a.desktop, a.browser);
    l.os = catalog::os_name(a.desktop);
    l.browser = catalog::browser_name(a.browser);
    l.interactive = true;
    l.request_type = "Login:login";
    let mut t = ms;
    let mut ids = Vec::new();
    if typo {
        failed_attempt(
            c,
            rng,
            &mut l,
            &mut t,
            LoginResult::BadPassword,
            15..120,
            &mut ids,
        );
    }
    l.mfa = rng.random_bool(0.3) || typo;
    // Now and then the phone is in another room: a prompt or a few go unanswered or are
    // declined by mistake before the user approves one. Real tenants are full of these, and
    // they are what MFA-fatigue detection has to stay quiet through.
    let missed = if l.mfa && rng.random_bool(0.02) {
        rng.random_range(1..=4)
    } else {
        0
    };
    let mut denied_ids = Vec::new();
    for _ in 0..missed {
        failed_attempt(
            c,
            rng,
            &mut l,
            &mut t,
            LoginResult::MfaDenied,
            20..180,
            &mut denied_ids,
        );
    }
    l.ms = t;
    l.result = LoginResult::Success;
    let r = login(c.w, c.s, rng, &l);
    if typo {
        ids.push(r.signin_id.clone());
        c.note("mistyped_password", a, ms, String::new(), ids);
    }
    if missed > 0 {
        denied_ids.push(r.signin_id);
        c.note(
            "missed_mfa_prompt",
            a,
            ms,
            format!("{missed} MFA prompts missed or declined before approving"),
            denied_ids,
        );
    }
}

/// One failed sign-in at `t` (its record ids into `ids`); the user tries again `gap_secs` later,
/// in a new attempt (a new correlation id).
fn failed_attempt(
    c: &mut Ctx<'_, '_>,
    rng: &mut ChaCha8Rng,
    l: &mut Login<'_>,
    t: &mut i64,
    result: LoginResult,
    gap_secs: std::ops::Range<i64>,
    ids: &mut Vec<String>,
) {
    l.ms = *t;
    l.result = result;
    let r = login(c.w, c.s, rng, l);
    ids.push(r.signin_id);
    ids.extend(r.audit_id);
    *t += rng.random_range(gap_secs) * SECOND_MS;
    l.correlation = None;
}

fn phone_check(c: &mut Ctx<'_, '_>, rng: &mut ChaCha8Rng, d: &Day<'_>, p: Phone, ms: i64) {
    let a = d.a;
    let mut l = login_base(a, ms, d.mobile, catalog::OUTLOOK_MOBILE, catalog::EXO);
    l.ua = catalog::phone_ua(p);
    l.os = catalog::phone_os(p);
    l.audit = rng.random_bool(0.5);
    login(c.w, c.s, rng, &l);
    let t = ms + rng.random_range(2..60) * SECOND_MS;
    let count = rng.random_range(1..15);
    mail_access(
        c.w,
        c.s,
        rng,
        t,
        a,
        &MailClient {
            ip: d.mobile.ip,
            info: "Client=REST;Client=RESTSystem;;",
            app_id: catalog::OUTLOOK_MOBILE.id,
            client_app_id: catalog::OUTLOOK_MOBILE.id,
        },
        Access::Bind,
        count,
        "\\Inbox",
    );
}

fn weekend_check(c: &mut Ctx<'_, '_>, rng: &mut ChaCha8Rng, d: &Day<'_>) {
    let from = d.midnight + 8 * 60 * MINUTE;
    let to = d.midnight + 22 * 60 * MINUTE;
    match d.phone {
        Some(p) => {
            for _ in 0..rng.random_range(1..=2) {
                let ms = t_between(rng, from, to);
                phone_check(c, rng, d, p, ms);
            }
            if rng.random_bool(0.2) {
                let ms = t_between(rng, from, to);
                let peers = c.w.peers(d.a);
                let contacts = c.w.contacts(d.a);
                send_mail(c, rng, d, ms, &peers, &contacts);
            }
        }
        None => {
            let ms = t_between(rng, from, to);
            browser_login(c, rng, d, ms, false);
        }
    }
}

fn imap_client(c: &mut Ctx<'_, '_>, rng: &mut ChaCha8Rng, d: &Day<'_>) {
    let a = d.a;
    let n = rng.random_range(3..=8);
    let mut first = None;
    for _ in 0..n {
        let ms = t_between(rng, d.start - 60 * MINUTE, d.end + 120 * MINUTE);
        let mut l = login_base(a, ms, d.laptop, catalog::EXO, catalog::EXO);
        l.client_app = "IMAP4";
        l.ua = "BAV2ROPC";
        l.protocol = "ropc";
        l.interactive = true;
        let ids = login(c.w, c.s, rng, &l);
        if first.is_none() {
            first = Some((ms, ids.signin_id));
        }
        let t = ms + rng.random_range(1..30) * SECOND_MS;
        let count = rng.random_range(5..80);
        mail_access(
            c.w,
            c.s,
            rng,
            t,
            a,
            &MailClient {
                ip: d.laptop.ip,
                info: "Client=IMAP4;Protocol=IMAP4",
                app_id: "",
                client_app_id: "",
            },
            Access::Sync,
            count,
            "\\Inbox",
        );
    }
    if let Some((ms, id)) = first {
        c.note(
            "legacy_imap",
            a,
            ms,
            "IMAP4 with basic authentication".to_string(),
            vec![id],
        );
    }
}

fn pick_recipients(
    rng: &mut ChaCha8Rng,
    w: &World,
    peers: &[u32],
    contacts: &[String],
) -> Vec<(String, bool)> {
    let n = match rng.random_range(0..100) {
        0..=59 => 1,
        60..=84 => 2,
        _ => rng.random_range(3..=6),
    };
    let mut out: Vec<(String, bool)> = Vec::with_capacity(n);
    for _ in 0..n {
        let internal = !peers.is_empty() && (contacts.is_empty() || rng.random_bool(0.75));
        let r = if internal {
            (w.accounts[*pick(rng, peers) as usize].upn.clone(), true)
        } else if !contacts.is_empty() {
            (pick(rng, contacts).clone(), false)
        } else {
            continue;
        };
        if !out.iter().any(|(x, _)| *x == r.0) {
            out.push(r);
        }
    }
    out
}

fn subject(rng: &mut ChaCha8Rng) -> String {
    let base = *pick(rng, catalog::SUBJECTS);
    match rng.random_range(0..10) {
        0..=2 => format!("RE: {base}"),
        3 => format!("FW: {base}"),
        _ => base.to_string(),
    }
}

fn send_mail(
    c: &mut Ctx<'_, '_>,
    rng: &mut ChaCha8Rng,
    d: &Day<'_>,
    ms: i64,
    peers: &[u32],
    contacts: &[String],
) {
    let a = d.a;
    let w = c.w;
    let recipients = pick_recipients(rng, w, peers, contacts);
    if recipients.is_empty() {
        return;
    }
    let (ip, info, app_id) = match (rng.random_range(0..100), d.phone) {
        (0..=69, _) if a.role != Role::Imap => {
            (d.laptop.ip, "Client=MSExchangeRPC", catalog::OFFICE.id)
        }
        (70..=84, _) | (_, None) => (d.laptop.ip, "Client=OWA;Action=ViaProxy", catalog::EXO.id),
        (_, Some(_)) => (
            d.mobile.ip,
            "Client=REST;Client=RESTSystem;;",
            catalog::OUTLOOK_MOBILE.id,
        ),
    };
    let subj = subject(rng);
    let imid = records::internet_message_id(w, rng);
    let size = rng.random_range(6_000..900_000u64);
    if a.role == Role::Imap {
        // Submitted over SMTP AUTH: a legacy sign-in and the trace, no mailbox audit record.
        let mut l = login_base(a, ms - 2 * SECOND_MS, d.laptop, catalog::EXO, catalog::EXO);
        l.client_app = "Authenticated SMTP";
        l.ua = "BAV2ROPC";
        l.protocol = "ropc";
        l.interactive = true;
        login(w, c.s, rng, &l);
    } else {
        mail_send(
            w,
            c.s,
            rng,
            ms,
            a,
            &MailClient {
                ip,
                info,
                app_id,
                client_app_id: "",
            },
            &subj,
            &imid,
            size,
        );
    }
    let to: Vec<TraceTo<'_>> = recipients
        .iter()
        .map(|(addr, internal)| TraceTo {
            address: addr,
            to_ip: (!internal).then(|| w.mx_for(addr)),
            status: if *internal || rng.random_bool(0.98) {
                "Delivered"
            } else {
                "Failed"
            },
        })
        .collect();
    trace(w, c.s, rng, ms, &a.upn, &to, &subj, Some(ip), size, &imid);
}

fn receive_mail(
    c: &mut Ctx<'_, '_>,
    rng: &mut ChaCha8Rng,
    a: &Account,
    ms: i64,
    contacts: &[String],
) {
    let w = c.w;
    let sender = match rng.random_range(0..10) {
        0..=4 if !contacts.is_empty() => pick(rng, contacts).clone(),
        5..=7 => pick(rng, catalog::SAAS_SENDERS).to_string(),
        _ => {
            let p = &w.partners[rng.random_range(0..w.partners.len())];
            format!("newsletter@{}", p.domain)
        }
    };
    let status = match rng.random_range(0..100) {
        0..=91 => "Delivered",
        92..=97 => "FilteredAsSpam",
        _ => "Quarantined",
    };
    let subj = if sender.starts_with("newsletter@") {
        "Our latest news and offers".to_string()
    } else {
        subject(rng)
    };
    let imid = format!(
        "<{}@{}>",
        guid(rng),
        sender.rsplit('@').next().unwrap_or("mail")
    );
    let from_ip = w.mx_for(&sender);
    let size = rng.random_range(4_000..400_000);
    trace(
        w,
        c.s,
        rng,
        ms,
        &sender,
        &[TraceTo {
            address: &a.upn,
            to_ip: None,
            status,
        }],
        &subj,
        Some(from_ip),
        size,
        &imid,
    );
}

/// A file on the account's department site or OneDrive: (site url, relative folder, name).
pub(crate) fn some_file(
    w: &World,
    a: &Account,
    rng: &mut ChaCha8Rng,
) -> (String, String, String, bool) {
    let onedrive = rng.random_bool(0.3);
    let (kind, ext) = *pick(rng, catalog::DOC_KINDS);
    let dept = catalog::DEPARTMENTS[a.dept as usize];
    let year = 2019 + rng.random_range(0..4);
    let name = format!("{dept} {kind} {year}-{:02}.{ext}", rng.random_range(1..13));
    if onedrive {
        let me = a.upn.replace(['.', '@'], "_");
        (
            format!("{}/personal/{me}/", w.od_root()),
            "Documents".to_string(),
            name,
            true,
        )
    } else {
        let site = if rng.random_bool(0.8) {
            dept
        } else {
            *pick(rng, catalog::DEPARTMENTS)
        };
        (
            format!("{}/sites/{site}/", w.sp_root()),
            "Shared Documents".to_string(),
            name,
            false,
        )
    }
}

fn file_activity(
    c: &mut Ctx<'_, '_>,
    rng: &mut ChaCha8Rng,
    a: &Account,
    ms: i64,
    op: &str,
    ip: IpAddr,
    ua: &str,
) -> String {
    let (site, rel, name, od) = some_file(c.w, a, rng);
    file_op(
        c.w,
        c.s,
        rng,
        a,
        &FileOp {
            ms,
            op,
            onedrive: od,
            site_url: &site,
            rel_url: &rel,
            file_name: &name,
            ip,
            ua,
            app: None,
        },
    )
}

/// "User registered security info." plus the "Update user." that records the new method.
pub(crate) fn register_security_info(
    c: &mut Ctx<'_, '_>,
    rng: &mut ChaCha8Rng,
    a: &Account,
    ms: i64,
    ip: IpAddr,
) -> Vec<String> {
    register_security_info_raw(c.w, c.s, rng, a, ms, ip)
}

pub(crate) fn register_security_info_raw(
    w: &World,
    s: &mut Sink<'_>,
    rng: &mut ChaCha8Rng,
    a: &Account,
    ms: i64,
    ip: IpAddr,
) -> Vec<String> {
    let first = dir_op(
        w,
        s,
        rng,
        &DirOp {
            ms,
            op: "User registered security info.",
            actor: a,
            object_id: &a.upn,
            targets: user_targets(a),
            modified: vec![],
            extended: vec![
                (
                    "resultReason",
                    "User registered Authenticator App with Notification and Code".to_string(),
                ),
                ("extendedAuditEventCategory", "UserManagement".to_string()),
            ],
            client_ip: Some(ip),
        },
    );
    let device = format!("{:x}", rng.random::<u64>());
    let second = dir_op(
        w,
        s,
        rng,
        &DirOp {
            ms: ms + 2 * SECOND_MS,
            op: "Update user.",
            actor: a,
            object_id: &a.upn,
            targets: user_targets(a),
            modified: vec![
                (
                    "StrongAuthenticationPhoneAppDetail",
                    format!("[{{\"DeviceName\":\"Mobile\",\"DeviceToken\":\"{device}\",\"NotificationType\":\"APNS\"}}]"),
                    "[]".to_string(),
                ),
                (
                    "Included Updated Properties",
                    "StrongAuthenticationPhoneAppDetail".to_string(),
                    String::new(),
                ),
            ],
            extended: vec![("extendedAuditEventCategory", "User".to_string())],
            client_ip: Some(ip),
        },
    );
    vec![first, second]
}

/// Parameters of an inbox rule, in the order the audit log lists them.
pub(crate) fn rule_params(mut p: Vec<(&'static str, String)>) -> Vec<(&'static str, String)> {
    p.sort_by_key(|(k, _)| (*k == "StopProcessingRules", *k));
    p
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn new_inbox_rule(
    w: &World,
    s: &mut Sink<'_>,
    rng: &mut ChaCha8Rng,
    ms: i64,
    a: &Account,
    name: &str,
    params: &[(&str, String)],
    ip: IpAddr,
) -> String {
    let object = format!("{}\\{name}", mailbox_identity(w, a));
    exo_cmdlet(
        w,
        s,
        rng,
        ms,
        a,
        "New-InboxRule",
        &object,
        params,
        Some(ip),
        false,
    )
}

/// Set-InboxRule on an existing rule (`Identity` names it).
#[allow(clippy::too_many_arguments)]
pub(crate) fn set_inbox_rule(
    w: &World,
    s: &mut Sink<'_>,
    rng: &mut ChaCha8Rng,
    ms: i64,
    a: &Account,
    name: &str,
    params: &[(&str, String)],
    ip: IpAddr,
) -> String {
    let object = format!("{}\\{name}", mailbox_identity(w, a));
    exo_cmdlet(
        w,
        s,
        rng,
        ms,
        a,
        "Set-InboxRule",
        &object,
        params,
        Some(ip),
        false,
    )
}

fn benign_rule_edit(c: &mut Ctx<'_, '_>, rng: &mut ChaCha8Rng, d: &Day<'_>) {
    let a = d.a;
    let name = *pick(
        rng,
        &[
            "Newsletters",
            "Receipts",
            "Jira notifications",
            "Auto archive",
        ],
    );
    let (k, v) = match rng.random_range(0..3) {
        0 => ("Enabled", "False".to_string()),
        1 => ("MoveToFolder", format!("Inbox\\{name}")),
        _ => ("StopProcessingRules", "True".to_string()),
    };
    let params = rule_params(vec![
        ("AlwaysDeleteOutlookRulesBlob", "False".to_string()),
        ("Force", "False".to_string()),
        ("Identity", format!("{}\\{name}", a.upn)),
        (k, v),
    ]);
    let ms = t_between(rng, d.start, d.end);
    let id = set_inbox_rule(c.w, c.s, rng, ms, a, name, &params, d.laptop.ip);
    c.note(
        "benign_inbox_rule_change",
        a,
        ms,
        format!("{name}: {k}"),
        vec![id],
    );
}

fn benign_rule(c: &mut Ctx<'_, '_>, rng: &mut ChaCha8Rng, d: &Day<'_>, peers: &[u32]) {
    let w = c.w;
    let a = d.a;
    let p = &w.partners[rng.random_range(0..w.partners.len())];
    let mut params: Vec<(&'static str, String)> = vec![
        ("AlwaysDeleteOutlookRulesBlob", "False".to_string()),
        ("Force", "False".to_string()),
    ];
    let (name, detail) = match rng.random_range(0..100) {
        0..=29 => {
            params.push(("From", format!("newsletter@{}", p.domain)));
            params.push(("MoveToFolder", "Newsletters".to_string()));
            params.push(("StopProcessingRules", "True".to_string()));
            ("Newsletters", "move newsletters to a folder")
        }
        30..=44 => {
            params.push(("From", "jira@atlassian.net".to_string()));
            params.push(("MoveToFolder", "Jira".to_string()));
            ("Jira notifications", "move notifications to a folder")
        }
        45..=59 => {
            params.push((
                "SubjectContainsWords",
                "receipt;order confirmation".to_string(),
            ));
            params.push(("MoveToFolder", "Receipts".to_string()));
            ("Receipts", "move receipts to a folder")
        }
        60..=71 => {
            params.push(("SubjectOrBodyContainsWords", "unsubscribe".to_string()));
            params.push(("MoveToFolder", "Newsletters".to_string()));
            params.push(("MarkAsRead", "True".to_string()));
            ("Mark newsletters read", "move and mark newsletters read")
        }
        72..=81 => {
            params.push(("SubjectContainsWords", "[automated]".to_string()));
            params.push(("MoveToFolder", "Archive".to_string()));
            ("Auto archive", "move automated mail to Archive")
        }
        82..=93 if !peers.is_empty() => {
            let to = &w.accounts[*pick(rng, peers) as usize].upn;
            params.push(("ForwardTo", to.clone()));
            params.push(("SubjectContainsWords", "invoice;purchase order".to_string()));
            ("Forward invoices to colleague", "internal forward")
        }
        _ => {
            let local = a.upn.split('@').next().unwrap_or("me").replace('.', "");
            params.push((
                "ForwardTo",
                format!("{local}{}@gmail.com", rng.random_range(1..99)),
            ));
            ("Copy to personal", "forward to a personal address")
        }
    };
    params.push(("Name", name.to_string()));
    let params = rule_params(params);
    let ms = t_between(rng, d.start, d.end);
    let id = new_inbox_rule(w, c.s, rng, ms, a, name, &params, d.laptop.ip);
    c.note(
        "benign_inbox_rule",
        a,
        ms,
        format!("{name}: {detail}"),
        vec![id],
    );
}

fn benign_consent(c: &mut Ctx<'_, '_>, rng: &mut ChaCha8Rng, d: &Day<'_>) {
    let w = c.w;
    let a = d.a;
    let app = pick(rng, catalog::BENIGN_APPS);
    let app_id = crate::rng::stable_guid(app.name);
    let ms = t_between(rng, d.start, d.end);
    let ua = catalog::browser_ua(a.desktop, a.browser);
    // The consent prompt follows an interactive sign-in to the app.
    let mut l = login_base(
        a,
        ms - 40 * SECOND_MS,
        d.laptop,
        catalog::GRAPH,
        catalog::GRAPH,
    );
    l.app_name = app.name;
    l.app_id = &app_id;
    l.client_app = "Browser";
    l.ua = ua;
    l.os = catalog::os_name(a.desktop);
    l.browser = catalog::browser_name(a.browser);
    l.interactive = true;
    l.request_type = "OAuth2:Authorize";
    let signed = login(w, c.s, rng, &l);
    let add_sp = rng.random_bool(0.3);
    let ids = consent(
        w,
        c.s,
        rng,
        ms,
        a,
        app.name,
        &app_id,
        app.domain,
        app.scopes,
        add_sp,
        d.laptop.ip,
        ua,
    );
    let mut noted = vec![signed.signin_id];
    noted.extend(ids);
    c.note(
        "benign_consent",
        a,
        ms,
        format!("{} ({})", app.name, app.scopes.join(" ")),
        noted,
    );
}

fn sync_burst(c: &mut Ctx<'_, '_>, rng: &mut ChaCha8Rng, d: &Day<'_>) {
    let a = d.a;
    let start = t_between(rng, d.start, d.end - 60 * MINUTE);
    let n = rng.random_range(100..=300);
    let mut l = login_base(
        a,
        start - 30 * SECOND_MS,
        d.laptop,
        catalog::ONEDRIVE_SYNC,
        catalog::SPO,
    );
    l.ua = catalog::SYNC_UA;
    l.os = catalog::os_name(a.desktop);
    let signed = login(c.w, c.s, rng, &l);
    let mut first = vec![signed.signin_id];
    for i in 0..n {
        let ms = start + rng.random_range(0..45 * MINUTE);
        let id = file_activity(
            c,
            rng,
            a,
            ms,
            "FileSyncDownloadedFull",
            d.laptop.ip,
            catalog::SYNC_UA,
        );
        if i < 2 {
            first.push(id);
        }
    }
    c.note(
        "onedrive_sync_setup",
        a,
        start,
        format!("{n} files synced"),
        first,
    );
}

fn admin_work(c: &mut Ctx<'_, '_>, rng: &mut ChaCha8Rng, d: &Day<'_>) {
    let w = c.w;
    let a = d.a;
    let n = poisson(rng, 2.0);
    if n == 0 {
        return;
    }
    let ms0 = t_between(rng, d.start, d.end - 60 * MINUTE);
    let portal = *pick(
        rng,
        &[
            catalog::AZURE_PORTAL,
            catalog::ADMIN_PORTAL,
            catalog::EXO_PS,
        ],
    );
    let mut l = login_base(a, ms0, d.laptop, portal, catalog::GRAPH);
    l.client_app = "Browser";
    l.ua = catalog::browser_ua(a.desktop, a.browser);
    l.os = catalog::os_name(a.desktop);
    l.browser = catalog::browser_name(a.browser);
    l.interactive = true;
    l.mfa = true;
    l.request_type = "Login:login";
    login(w, c.s, rng, &l);
    let people: Vec<u32> = w.office_members[a.office as usize].clone();
    for i in 0..n {
        let ms = ms0 + (i as i64 + 1) * rng.random_range(2..20) * MINUTE;
        let target = &w.accounts[*pick(rng, &people) as usize];
        match rng.random_range(0..100) {
            0..=29 => {
                dir_op(
                    w,
                    c.s,
                    rng,
                    &DirOp {
                        ms,
                        op: "Reset user password.",
                        actor: a,
                        object_id: &target.upn,
                        targets: user_targets(target),
                        modified: vec![],
                        extended: vec![("extendedAuditEventCategory", "User".to_string())],
                        client_ip: Some(d.laptop.ip),
                    },
                );
            }
            30..=54 => {
                let dept = catalog::DEPARTMENTS[rng.random_range(0..catalog::DEPARTMENTS.len())];
                dir_op(
                    w,
                    c.s,
                    rng,
                    &DirOp {
                        ms,
                        op: "Update user.",
                        actor: a,
                        object_id: &target.upn,
                        targets: user_targets(target),
                        modified: vec![
                            ("Department", format!("[\"{dept}\"]"), "[]".to_string()),
                            (
                                "Included Updated Properties",
                                "Department".to_string(),
                                String::new(),
                            ),
                        ],
                        extended: vec![("extendedAuditEventCategory", "User".to_string())],
                        client_ip: Some(d.laptop.ip),
                    },
                );
            }
            55..=74 => {
                let (k, v) = match rng.random_range(0..3) {
                    0 => (
                        "ProhibitSendQuota",
                        "49.5 GB (53,150,220,288 bytes)".to_string(),
                    ),
                    1 => ("HiddenFromAddressListsEnabled", "True".to_string()),
                    _ => ("GrantSendOnBehalfTo", target.upn.clone()),
                };
                let id_target = mailbox_identity(w, target);
                exo_cmdlet(
                    w,
                    c.s,
                    rng,
                    ms,
                    a,
                    "Set-Mailbox",
                    &id_target,
                    &[("Identity", target.upn.clone()), (k, v)],
                    Some(d.laptop.ip),
                    true,
                );
            }
            75..=84 => {
                let other = &w.accounts[*pick(rng, &people) as usize];
                let id_target = mailbox_identity(w, target);
                exo_cmdlet(
                    w,
                    c.s,
                    rng,
                    ms,
                    a,
                    "Add-MailboxPermission",
                    &id_target,
                    &[
                        ("Identity", target.upn.clone()),
                        ("User", other.upn.clone()),
                        ("AccessRights", "FullAccess".to_string()),
                        ("InheritanceType", "All".to_string()),
                    ],
                    Some(d.laptop.ip),
                    true,
                );
            }
            85..=91 => {
                let role = *pick(rng, catalog::ROLES);
                let added = rng.random_bool(0.7);
                let id = dir_op(
                    w,
                    c.s,
                    rng,
                    &DirOp {
                        ms,
                        op: if added {
                            "Add member to role."
                        } else {
                            "Remove member from role."
                        },
                        actor: a,
                        object_id: &target.upn,
                        targets: user_targets(target),
                        modified: vec![
                            ("Role.DisplayName", role.to_string(), String::new()),
                            (
                                "Role.WellKnownObjectName",
                                role.replace(' ', ""),
                                String::new(),
                            ),
                        ],
                        extended: vec![("extendedAuditEventCategory", "Role".to_string())],
                        client_ip: Some(d.laptop.ip),
                    },
                );
                c.note(
                    "admin_role_change",
                    a,
                    ms,
                    format!("{role} for {}", target.upn),
                    vec![id],
                );
            }
            _ => {
                // A leaver's mail forwarded to a colleague: benign mailbox forwarding.
                let other = &w.accounts[*pick(rng, &people) as usize];
                let id_target = mailbox_identity(w, target);
                let id = exo_cmdlet(
                    w,
                    c.s,
                    rng,
                    ms,
                    a,
                    "Set-Mailbox",
                    &id_target,
                    &[
                        ("Identity", target.upn.clone()),
                        ("ForwardingSmtpAddress", format!("smtp:{}", other.upn)),
                        ("DeliverToMailboxAndForward", "True".to_string()),
                    ],
                    Some(d.laptop.ip),
                    true,
                );
                c.note(
                    "admin_internal_forwarding",
                    a,
                    ms,
                    format!("{} to {}", target.upn, other.upn),
                    vec![id],
                );
            }
        }
    }
}

fn mail_merge(c: &mut Ctx<'_, '_>, rng: &mut ChaCha8Rng, d: &Day<'_>) {
    let w = c.w;
    let a = d.a;
    let n = rng.random_range(200..=600);
    let start = d.midnight + rng.random_range(9 * 60..11 * 60) * MINUTE;
    let span = rng.random_range(20..45) * MINUTE;
    let (_, m, _) = time::civil_from_days(d.midnight.div_euclid(DAY) + 1);
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let subj = if rng.random_bool(0.5) {
        format!("{} newsletter - {}", w.org_name, MONTHS[(m - 1) as usize])
    } else {
        format!("Invitation: {} customer webinar", w.org_name)
    };
    let (firsts, lasts) = geo::names(geo::Names::English);
    let mut first = Vec::new();
    for i in 0..n {
        let ms = start + span * i as i64 / n as i64 + rng.random_range(0..3000);
        let domain = if rng.random_bool(0.6) {
            pick(rng, catalog::FREEMAIL).to_string()
        } else {
            w.partners[rng.random_range(0..w.partners.len())]
                .domain
                .clone()
        };
        let to = format!(
            "{}.{}@{domain}",
            pick(rng, firsts).to_ascii_lowercase(),
            pick(rng, lasts).to_ascii_lowercase()
        );
        let imid = records::internet_message_id(w, rng);
        let size = rng.random_range(40_000..60_000);
        let id = mail_send(
            w,
            c.s,
            rng,
            ms,
            a,
            &MailClient {
                ip: d.laptop.ip,
                info: "Client=MSExchangeRPC",
                app_id: catalog::OFFICE.id,
                client_app_id: "",
            },
            &subj,
            &imid,
            size,
        );
        let to_ip = w.mx_for(&to);
        let status = if rng.random_bool(0.97) {
            "Delivered"
        } else {
            "Failed"
        };
        trace(
            w,
            c.s,
            rng,
            ms,
            &a.upn,
            &[TraceTo {
                address: &to,
                to_ip: Some(to_ip),
                status,
            }],
            &subj,
            Some(d.laptop.ip),
            size,
            &imid,
        );
        if i < 3 {
            first.push(id);
        }
    }
    c.note(
        "mail_merge",
        a,
        start,
        format!("{n} messages: {subj}"),
        first,
    );
}

fn service_day(c: &mut Ctx<'_, '_>, rng: &mut ChaCha8Rng, a: &Account, g: i32) {
    let w = c.w;
    let office = &w.offices[a.office as usize];
    let midnight = w.local_midnight(office.city.tz, g);
    let wd = weekday(w, g);
    let scans = if wd < 5 {
        rng.random_range(5..=25)
    } else {
        rng.random_range(1..=3)
    };
    let ip = IpAddr::V4(office.ips[0]);
    let net = Net {
        ip,
        country: office.country,
        city: office.city,
    };
    let members = &w.office_members[a.office as usize];
    let device = format!(
        "RNP{:012X}",
        crate::rng::mix(a.idx as u64 ^ w.seed) & 0xFFFF_FFFF_FFFF
    );
    let mut first = None;
    for _ in 0..scans {
        let ms =
            midnight + rng.random_range(7 * 60..19 * 60) * MINUTE + rng.random_range(0..60_000);
        let mut l = login_base(a, ms, net, catalog::EXO, catalog::EXO);
        l.client_app = "Authenticated SMTP";
        l.ua = "BAV2ROPC";
        l.protocol = "ropc";
        l.interactive = true;
        let ids = login(w, c.s, rng, &l);
        if first.is_none() && ids.written {
            first = Some((ms, ids.signin_id.clone()));
        }
        let people: Vec<&Account> = (0..rng.random_range(1..=2))
            .filter_map(|_| {
                let p = &w.accounts[members[rng.random_range(0..members.len())] as usize];
                p.is_person().then_some(p)
            })
            .collect();
        if people.is_empty() {
            continue;
        }
        let to: Vec<TraceTo<'_>> = people
            .iter()
            .map(|p| TraceTo {
                address: &p.upn,
                to_ip: None,
                status: "Delivered",
            })
            .collect();
        let subj = if rng.random_bool(0.5) {
            format!("Message from \"{device}\"")
        } else {
            format!("Scanned from {}", a.display)
        };
        let imid = format!("<{}@{}>", guid(rng), w.domain);
        let size = rng.random_range(80_000..4_000_000);
        trace(
            w,
            c.s,
            rng,
            ms + 3 * SECOND_MS,
            &a.upn,
            &to,
            &subj,
            Some(ip),
            size,
            &imid,
        );
    }
    if let Some((ms, id)) = first {
        c.note(
            "legacy_smtp_service",
            a,
            ms,
            format!("{scans} SMTP AUTH (BAV2ROPC) submissions from the office"),
            vec![id],
        );
    }
}

fn onboarding(c: &mut Ctx<'_, '_>, rng: &mut ChaCha8Rng, a: &Account, g: i32) {
    let w = c.w;
    let Some(&admin_idx) = w.admins.first() else {
        return;
    };
    let admin = &w.accounts[admin_idx as usize];
    let tz = w.office_city(admin).tz;
    let ms = w.local_midnight(tz, g) + rng.random_range(10 * 60..16 * 60) * MINUTE;
    let ip = w.office_ip(admin, rng);
    let id = dir_op(
        w,
        c.s,
        rng,
        &DirOp {
            ms,
            op: "Add user.",
            actor: admin,
            object_id: &a.upn,
            targets: user_targets(a),
            modified: vec![
                ("AccountEnabled", "[true]".to_string(), "[]".to_string()),
                (
                    "DisplayName",
                    format!("[\"{}\"]", a.display),
                    "[]".to_string(),
                ),
                (
                    "UserPrincipalName",
                    format!("[\"{}\"]", a.upn),
                    "[]".to_string(),
                ),
                (
                    "Included Updated Properties",
                    "AccountEnabled, DisplayName, UserPrincipalName".to_string(),
                    String::new(),
                ),
            ],
            extended: vec![("extendedAuditEventCategory", "User".to_string())],
            client_ip: Some(ip),
        },
    );
    c.note(
        "account_created",
        a,
        ms,
        format!("by {}", admin.upn),
        vec![id],
    );
}
