//! The simulated organisation: offices, accounts and the people behind them, partners.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

use rand::seq::SliceRandom;
use rand::Rng;

use crate::catalog::{Browser, Desktop, Phone, DEPARTMENTS, ORG_NAMES, PHONE_MODELS};
use crate::geo::{self, City, Tz};
use crate::ipdb::{self, isps};
use crate::rng::{guid, pick, pick_weighted, rng_for, tag};
use crate::time::{DAY, MINUTE};
use crate::truth::Role;
use crate::{SimConfig, SimError};

pub(crate) const T_HYBRID: u16 = 1;
pub(crate) const T_REMOTE: u16 = 2;
pub(crate) const T_VPN: u16 = 4;
pub(crate) const T_MAIL_MERGE: u16 = 8;
pub(crate) const T_LATE_HOURS: u16 = 16;
pub(crate) const T_HOLIDAY_ABROAD: u16 = 32;

pub(crate) fn trait_names(t: u16) -> Vec<String> {
    let mut v = Vec::new();
    for (bit, name) in [
        (T_HYBRID, "hybrid"),
        (T_REMOTE, "remote"),
        (T_VPN, "vpn_user"),
        (T_MAIL_MERGE, "mail_merge"),
        (T_LATE_HOURS, "late_hours"),
        (T_HOLIDAY_ABROAD, "holiday_abroad"),
    ] {
        if t & bit != 0 {
            v.push(name.to_string());
        }
    }
    v
}

#[derive(Debug)]
pub(crate) struct Office {
    pub country: &'static str,
    pub city: &'static City,
    pub isp: usize,
    pub ips: Vec<Ipv4Addr>,
}

#[derive(Debug)]
pub(crate) struct Partner {
    pub domain: String,
    pub mx: IpAddr,
}

#[derive(Clone, Debug)]
pub(crate) struct Trip {
    /// First and last local day (inclusive).
    pub start: i32,
    pub end: i32,
    pub country: &'static str,
    pub city: u8,
    pub isp: u16,
}

#[derive(Debug)]
pub(crate) struct Account {
    pub idx: u32,
    pub upn: String,
    pub display: String,
    pub object_id: String,
    /// Exchange's UserKey for the account (a Passport unique id in hex).
    pub puid: String,
    pub sid: String,
    pub mailbox_guid: String,
    pub office: u16,
    pub country: &'static str,
    pub dept: u8,
    pub role: Role,
    pub traits: u16,
    pub home_isp: u16,
    pub home_v6: bool,
    pub mobile_isp: u16,
    pub vpn_isp: Option<u16>,
    pub desktop: Desktop,
    pub browser: Browser,
    pub phone: Option<Phone>,
    /// Local day from which a new phone is used, and that phone.
    pub new_phone: Option<(i32, Phone)>,
    /// First local day the account exists (negative: before the period).
    pub join_day: i32,
    /// Usual start of the working day, local minutes after midnight.
    pub start_min: u16,
    pub trips: Vec<Trip>,
}

impl Account {
    pub fn has(&self, t: u16) -> bool {
        self.traits & t != 0
    }

    pub fn is_person(&self) -> bool {
        self.role != Role::Service
    }

    pub fn phone_on(&self, g: i32) -> Option<Phone> {
        match self.new_phone {
            Some((day, p)) if g >= day => Some(p),
            _ => self.phone,
        }
    }

    pub fn trip_on(&self, g: i32) -> Option<&Trip> {
        self.trips.iter().find(|t| t.start <= g && g <= t.end)
    }
}

pub(crate) struct World {
    pub seed: u64,
    pub start_ms: i64,
    pub days: u32,
    pub org_name: String,
    pub domain: String,
    pub tenant: String,
    /// `tenant.onmicrosoft.com`.
    pub tenant_domain: String,
    pub tenant_id: String,
    /// Exchange Online forest part of mailbox object ids, e.g. `EURPR01A002`.
    pub exo_forest: String,
    /// Mailbox server name prefix, e.g. `AM6PR01`.
    pub server_prefix: String,
    /// Region part of message ids, e.g. `eurprd01`.
    pub prod_region: String,
    pub offices: Vec<Office>,
    pub accounts: Vec<Account>,
    pub office_members: Vec<Vec<u32>>,
    pub admins: Vec<u32>,
    pub partners: Vec<Partner>,
    /// Day of week (0 = Monday) of the weekly mail merge.
    pub merge_weekday: u32,
}

fn ascii_lower(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

impl World {
    pub fn build(cfg: &SimConfig) -> Result<World, SimError> {
        let seed = cfg.seed;
        let mut rng = rng_for(seed, tag::WORLD, 0, 0);
        let start_ms = cfg.start.timestamp_millis();
        let days = cfg.days;

        // The organisation and its partners.
        let mut orgs: Vec<usize> = (0..ORG_NAMES.len()).collect();
        orgs.shuffle(&mut rng);
        let (org_name, domain) = ORG_NAMES[orgs[0]];
        let tenant = ascii_lower(domain.split('.').next().unwrap_or(domain));
        let tenant_id = guid(&mut rng);

        // Offices.
        let hq_weights: &[(&str, u32)] = &[
            ("US", 5),
            ("GB", 5),
            ("DE", 3),
            ("FR", 2),
            ("NL", 2),
            ("AU", 2),
            ("CA", 2),
            ("IE", 1),
            ("ES", 1),
            ("SG", 1),
            ("IN", 1),
            ("JP", 1),
            ("ZA", 1),
        ];
        let hq = *pick_weighted(&mut rng, hq_weights);
        let n_offices = match cfg.accounts {
            0..=49 => rng.random_range(1..=2),
            50..=499 => rng.random_range(2..=3),
            _ => rng.random_range(3..=5),
        };
        let mut office_countries = vec![hq];
        let mut pool: Vec<&str> = geo::OFFICE_COUNTRIES
            .iter()
            .copied()
            .filter(|c| *c != hq)
            .collect();
        pool.shuffle(&mut rng);
        office_countries.extend(pool.into_iter().take(n_offices - 1));
        let mut offices = Vec::new();
        for c in office_countries {
            let country = geo::country(c);
            let city = pick(&mut rng, country.cities);
            let candidates = ipdb::office_isps(c);
            let isp = *pick(&mut rng, &candidates);
            let base = u32::from(isps()[isp].pick_v4(&mut rng)) & !0xff;
            let mut hosts: Vec<u32> = (2..250).collect();
            hosts.shuffle(&mut rng);
            let n_ips = rng.random_range(2..=4);
            let mut ips: Vec<Ipv4Addr> = hosts[..n_ips]
                .iter()
                .map(|h| Ipv4Addr::from(base | h))
                .collect();
            ips.sort();
            offices.push(Office {
                country: c,
                city,
                isp,
                ips,
            });
        }

        let n = rng.random_range(1..=9);
        let m = rng.random_range(1..=9);
        let (exo_forest, server_prefix, prod_region) = match hq {
            "US" | "CA" => (
                format!("NAMPR0{n}A00{m}"),
                format!("BN{}PR0{n}", rng.random_range(6..=9)),
                format!("namprd0{n}"),
            ),
            "AU" => (
                format!("AUSPR01A00{m}"),
                "SY4PR01".to_string(),
                "ausprd01".to_string(),
            ),
            "SG" | "IN" | "JP" => (
                format!("APCPR0{n}A00{m}"),
                format!("SG2PR0{n}"),
                format!("apcprd0{n}"),
            ),
            _ => (
                format!("EURPR0{n}A00{m}"),
                format!("AM{}PR0{n}", rng.random_range(5..=9)),
                format!("eurprd0{n}"),
            ),
        };

        let partners: Vec<Partner> = orgs[1..]
            .iter()
            .take(rng.random_range(12..=18))
            .map(|&i| {
                let pc = *pick(&mut rng, geo::OFFICE_COUNTRIES);
                let cands = ipdb::office_isps(pc);
                let isp = &isps()[*pick(&mut rng, &cands)];
                Partner {
                    domain: ORG_NAMES[i].1.to_string(),
                    mx: IpAddr::V4(isp.pick_v4(&mut rng)),
                }
            })
            .collect();

        let merge_weekday = rng.random_range(1..=3);

        // Roles.
        let na = cfg.accounts;
        let mut order: Vec<usize> = (0..na).collect();
        order.shuffle(&mut rng);
        let mut roles = vec![Role::Regular; na];
        let mut traits = vec![0u16; na];
        let mut cursor = 0;
        let mut take =
            |count: usize, role: Role, t: u16, roles: &mut Vec<Role>, traits: &mut Vec<u16>| {
                for _ in 0..count {
                    if cursor >= na {
                        return;
                    }
                    roles[order[cursor]] = role;
                    traits[order[cursor]] |= t;
                    cursor += 1;
                }
            };
        if na >= 10 {
            take(
                (na / 1000).clamp(1, 20),
                Role::Service,
                0,
                &mut roles,
                &mut traits,
            );
            take(
                (na / 2000).clamp(1, 10),
                Role::Imap,
                0,
                &mut roles,
                &mut traits,
            );
            take(
                (na / 150).clamp(2, 60),
                Role::Admin,
                0,
                &mut roles,
                &mut traits,
            );
            take(
                (na / 5000).clamp(1, 5),
                Role::Regular,
                T_MAIL_MERGE,
                &mut roles,
                &mut traits,
            );
            if days >= 3 {
                take(
                    (na / 50).max(1),
                    Role::NewStarter,
                    0,
                    &mut roles,
                    &mut traits,
                );
            }
            take(
                (na * 6 / 100).max(1),
                Role::Traveller,
                0,
                &mut roles,
                &mut traits,
            );
        } else {
            take(
                usize::from(na >= 4),
                Role::Service,
                0,
                &mut roles,
                &mut traits,
            );
            take(
                usize::from(na >= 2),
                Role::Admin,
                0,
                &mut roles,
                &mut traits,
            );
        }

        // Offices get half the people at headquarters and the rest evenly.
        let mut accounts = Vec::with_capacity(na);
        let mut used: HashSet<String> = HashSet::with_capacity(na * 2);
        let mut office_members = vec![Vec::new(); offices.len()];
        let mut service_seen = 0usize;
        for idx in 0..na {
            let mut ar = rng_for(seed, tag::ACCOUNT, idx as u64, 0);
            let role = roles[idx];
            let office = if offices.len() == 1 || ar.random_bool(0.5) {
                0
            } else {
                ar.random_range(1..offices.len())
            };
            let off = &offices[office];
            let country = geo::country(off.country);
            let (upn, display) = if role == Role::Service {
                service_seen += 1;
                let city = ascii_lower(off.city.name);
                let (local, disp) = if service_seen == 1 {
                    ("scanner".to_string(), "Scanner".to_string())
                } else if ar.random_bool(0.5) {
                    (
                        format!("scanner.{city}{service_seen}"),
                        format!("Scanner {} {service_seen}", off.city.name),
                    )
                } else {
                    (
                        format!("svc-smtp-{city}{service_seen}"),
                        format!("SMTP relay {} {service_seen}", off.city.name),
                    )
                };
                let mut upn = format!("{local}@{domain}");
                let mut k = 2;
                while used.contains(&upn) {
                    upn = format!("{local}{k}@{domain}");
                    k += 1;
                }
                (upn, disp)
            } else {
                let (firsts, lasts) = geo::names(country.names);
                let first = *pick(&mut ar, firsts);
                let last = *pick(&mut ar, lasts);
                let base = format!("{}.{}", ascii_lower(first), ascii_lower(last));
                let mut local = base.clone();
                let mut tries = 0u32;
                while used.contains(&format!("{local}@{domain}")) {
                    tries += 1;
                    local = if tries <= 26 {
                        let initial = (b'a' + (tries - 1) as u8) as char;
                        format!("{}.{initial}.{}", ascii_lower(first), ascii_lower(last))
                    } else {
                        format!("{base}{}", tries - 25)
                    };
                }
                (format!("{local}@{domain}"), format!("{first} {last}"))
            };
            used.insert(upn.clone());

            let consumer = ipdb::consumer_isps(off.country);
            let home_isp = *pick(&mut ar, &consumer) as u16;
            let home_v6 = isps()[home_isp as usize].has_v6() && ar.random_bool(0.25);
            let mobiles = ipdb::mobile_isps(off.country);
            let mobile_isp = *pick(&mut ar, &mobiles) as u16;
            let desktop = if ar.random_bool(0.8) {
                Desktop::Windows
            } else {
                Desktop::Mac
            };
            let browser = match (desktop, ar.random_range(0..10)) {
                (Desktop::Windows, 0..=4) => Browser::Chrome,
                (Desktop::Windows, 5..=8) => Browser::Edge,
                (Desktop::Windows, _) => Browser::Firefox,
                (Desktop::Mac, 0..=4) => Browser::Safari,
                (Desktop::Mac, _) => Browser::Chrome,
            };
            let person = role != Role::Service;
            let phone = (person && ar.random_bool(0.75)).then(|| Phone {
                ios: ar.random_bool(0.55),
                model: ar.random_range(0..PHONE_MODELS),
            });
            let new_phone = match phone {
                Some(p) if days >= 2 && ar.random_bool(0.04) => {
                    let day = ar.random_range(1..days as i32);
                    let ios = if ar.random_bool(0.2) { !p.ios } else { p.ios };
                    Some((
                        day,
                        Phone {
                            ios,
                            model: (p.model + 1) % PHONE_MODELS,
                        },
                    ))
                }
                _ => None,
            };
            let mut t = traits[idx];
            if person {
                let r: f64 = ar.random();
                if r < 0.10 {
                    t |= T_REMOTE;
                } else if r < 0.70 {
                    t |= T_HYBRID;
                }
                if ar.random_bool(0.04) {
                    t |= T_VPN;
                }
                if ar.random_bool(0.02) {
                    t |= T_LATE_HOURS;
                }
            }
            let vpn_isp = (t & T_VPN != 0).then(|| {
                let v = ipdb::isps_of_kind(ipdb::NetKind::Vpn);
                *pick(&mut ar, &v) as u16
            });
            let join_day = if role == Role::NewStarter {
                let lo = (days as i32 / 5).max(1);
                let hi = (days as i32 * 4 / 5).max(lo);
                ar.random_range(lo..=hi)
            } else {
                -30
            };
            let start_min = if t & T_LATE_HOURS != 0 {
                ar.random_range(630..=720)
            } else {
                ar.random_range(450..=585)
            };
            let mut trips = Vec::new();
            let mut trip_count = 0;
            if role == Role::Traveller {
                trip_count = (days as usize / 14).clamp(1, 6);
            } else if person && role != Role::NewStarter && days >= 5 && ar.random_bool(0.01) {
                t |= T_HOLIDAY_ABROAD;
                trip_count = 1;
            }
            let mut cursor_day = 0i32;
            for _ in 0..trip_count {
                let len = ar.random_range(2..=6);
                let latest = days as i32 - 1;
                if cursor_day > latest {
                    break;
                }
                let start = ar.random_range(cursor_day..=latest);
                let end = (start + len - 1).min(latest);
                let dest = loop {
                    let c = *pick_weighted(&mut ar, geo::TRAVEL_DESTINATIONS);
                    if c != off.country {
                        break c;
                    }
                };
                let dc = geo::country(dest);
                let city = ar.random_range(0..dc.cities.len()) as u8;
                let hotels = ipdb::consumer_isps(dest);
                let isp = *pick(&mut ar, &hotels) as u16;
                trips.push(Trip {
                    start,
                    end,
                    country: dest,
                    city,
                    isp,
                });
                cursor_day = end + 3;
            }
            let dept = if t & T_MAIL_MERGE != 0 {
                3
            } else if role == Role::Admin {
                7
            } else {
                ar.random_range(0..DEPARTMENTS.len()) as u8
            };
            let puid = format!("10032{:011X}", ar.random::<u64>() & 0xFFF_FFFF_FFFF);
            let sid = format!(
                "S-1-5-21-{}-{}-{}-{}",
                ar.random_range(1_000_000_000u64..4_000_000_000),
                ar.random_range(1_000_000_000u64..4_000_000_000),
                ar.random_range(1_000_000_000u64..4_000_000_000),
                ar.random_range(1_000_000u64..90_000_000)
            );
            office_members[office].push(idx as u32);
            accounts.push(Account {
                idx: idx as u32,
                upn,
                display,
                object_id: guid(&mut ar),
                puid,
                sid,
                mailbox_guid: guid(&mut ar),
                office: office as u16,
                country: off.country,
                dept,
                role,
                traits: t,
                home_isp,
                home_v6,
                mobile_isp,
                vpn_isp,
                desktop,
                browser,
                phone,
                new_phone,
                join_day,
                start_min,
                trips,
            });
        }
        let admins = accounts
            .iter()
            .filter(|a| a.role == Role::Admin)
            .map(|a| a.idx)
            .collect();

        Ok(World {
            seed,
            start_ms,
            days,
            org_name: org_name.to_string(),
            domain: domain.to_string(),
            tenant_domain: format!("{tenant}.onmicrosoft.com"),
            tenant,
            tenant_id,
            exo_forest,
            server_prefix,
            prod_region,
            offices,
            accounts,
            office_members,
            admins,
            partners,
            merge_weekday,
        })
    }

    pub fn sp_root(&self) -> String {
        format!("https://{}.sharepoint.com", self.tenant)
    }

    pub fn od_root(&self) -> String {
        format!("https://{}-my.sharepoint.com", self.tenant)
    }

    /// UTC instant of local midnight on local day `g` in zone `tz`.
    pub fn local_midnight(&self, tz: Tz, g: i32) -> i64 {
        let date_ms = self.start_ms.div_euclid(DAY) * DAY + g as i64 * DAY;
        let offset = tz.offset_at(date_ms + DAY / 2 - tz.std_min as i64 * MINUTE);
        date_ms - offset as i64 * MINUTE
    }

    /// Home address of `a` at time `ms`: stable within a calendar month, new the next.
    pub fn home_ip(&self, a: &Account, ms: i64) -> IpAddr {
        let (y, m, _) = crate::time::civil_from_days(ms.div_euclid(DAY));
        let month = y as u64 * 12 + m as u64;
        let mut r = rng_for(self.seed, tag::HOME_IP, a.idx as u64, month);
        isps()[a.home_isp as usize].pick(&mut r, a.home_v6)
    }

    /// Colleagues `a` mails most: people in the same office, stable over the period.
    pub fn peers(&self, a: &Account) -> Vec<u32> {
        let mut r = rng_for(self.seed, tag::PEERS, a.idx as u64, 0);
        let members = &self.office_members[a.office as usize];
        let mut out = Vec::new();
        let want = r
            .random_range(6..=20)
            .min(self.accounts.len().saturating_sub(1));
        let mut guard = 0;
        while out.len() < want && guard < want * 6 {
            guard += 1;
            // Mostly the same office, some people elsewhere.
            let cand = if r.random_bool(0.8) && members.len() > 1 {
                members[r.random_range(0..members.len())]
            } else {
                r.random_range(0..self.accounts.len()) as u32
            };
            if cand != a.idx && !out.contains(&cand) && self.accounts[cand as usize].is_person() {
                out.push(cand);
            }
        }
        out
    }

    /// External correspondents of `a`.
    pub fn contacts(&self, a: &Account) -> Vec<String> {
        let mut r = rng_for(self.seed, tag::PEERS, a.idx as u64, 1);
        let n = r.random_range(4..=12);
        let (firsts, lasts) = geo::names(geo::Names::English);
        (0..n)
            .map(|_| {
                let first = ascii_lower(firsts[r.random_range(0..firsts.len())]);
                let last = ascii_lower(lasts[r.random_range(0..lasts.len())]);
                if r.random_bool(0.12) {
                    format!(
                        "{first}.{last}{}@{}",
                        r.random_range(1..99),
                        pick(&mut r, crate::catalog::FREEMAIL)
                    )
                } else {
                    let p = &self.partners[r.random_range(0..self.partners.len())];
                    format!("{first}.{last}@{}", p.domain)
                }
            })
            .collect()
    }

    /// The mail server address that receives mail for an external address.
    pub fn mx_for(&self, address: &str) -> IpAddr {
        let domain = address.rsplit('@').next().unwrap_or(address);
        if let Some(p) = self.partners.iter().find(|p| p.domain == domain) {
            return p.mx;
        }
        // Freemail and unknown domains: a big mail provider's range.
        static MAIL: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();
        let mails = MAIL.get_or_init(|| ipdb::isps_of_kind(ipdb::NetKind::Mail));
        let h = crate::rng::mix(
            domain
                .bytes()
                .fold(self.seed, |h, b| h.wrapping_mul(31).wrapping_add(b as u64)),
        );
        let isp = &isps()[mails[(h % mails.len() as u64) as usize]];
        IpAddr::V4(isp.v4_at(crate::rng::mix(h)))
    }

    pub fn office_ip<R: Rng + ?Sized>(&self, a: &Account, rng: &mut R) -> IpAddr {
        let ips = &self.offices[a.office as usize].ips;
        // People mostly come out of the same address of the office's NAT pool.
        let i = if rng.random_bool(0.8) {
            a.idx as usize % ips.len()
        } else {
            rng.random_range(0..ips.len())
        };
        IpAddr::V4(ips[i])
    }

    pub fn office_city(&self, a: &Account) -> &'static City {
        self.offices[a.office as usize].city
    }
}
