//! Small helpers: event-time minutes, deterministic hashing, exponential decay, network prefixes.

use std::net::IpAddr;

use vigil_event::Timestamp;

/// Event time in whole minutes since the Unix epoch. `u32` covers the next eight thousand years
/// and keeps per-value state small.
pub type Min = u32;

pub const HOUR: Min = 60;
pub const DAY: Min = 24 * 60;

pub fn minute(t: &Timestamp) -> Min {
    (t.timestamp().max(0) / 60).min(u32::MAX as i64) as Min
}

/// Stable 64-bit hash of a string (xxh3): the same on every machine and run, so snapshots and
/// replays agree.
pub fn h64(s: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(s.as_bytes())
}

/// The key of an IP address in the pattern of life: a hash of its octets (not of its text, which
/// would cost a formatting per lookup on the hottest path).
pub fn ip_key(ip: &IpAddr) -> u64 {
    match ip {
        IpAddr::V4(v4) => xxhash_rust::xxh3::xxh3_64(&v4.octets()),
        IpAddr::V6(v6) => xxhash_rust::xxh3::xxh3_64(&v6.octets()),
    }
}

/// Pieces of evidence that say the same thing, counted once: groups the items `0..n` that are
/// `linked`, directly or through other items, and returns the index of the strongest item
/// (by `score`; the earlier on ties) of each group, groups in the order of their first item.
/// Pairwise, for the short lists evidence comes in (an incident's is capped, an account's
/// recent breaches are a few dozen).
pub fn strongest_of_each_group(
    n: usize,
    linked: impl Fn(usize, usize) -> bool,
    score: impl Fn(usize) -> f64,
) -> Vec<usize> {
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut parent: Vec<usize> = (0..n).collect();
    for i in 0..n {
        for j in 0..i {
            if linked(i, j) {
                let (ri, rj) = (root(&mut parent, i), root(&mut parent, j));
                parent[ri] = rj;
            }
        }
    }
    let mut best: Vec<(usize, usize)> = Vec::new(); // (group root, strongest item)
    for i in 0..n {
        let r = root(&mut parent, i);
        match best.iter_mut().find(|(g, _)| *g == r) {
            Some((_, b)) if score(i) > score(*b) => *b = i,
            Some(_) => {}
            None => best.push((r, i)),
        }
    }
    best.into_iter().map(|(_, b)| b).collect()
}

/// `w` observed at `from`, decayed to `to` with the given half-life (minutes).
pub fn decay(w: f32, from: Min, to: Min, half_life: f32) -> f32 {
    if to <= from || w == 0.0 {
        w
    } else {
        let dt = (to - from) as f32;
        w * (-dt * std::f32::consts::LN_2 / half_life).exp()
    }
}

/// The network an address belongs to for rarity: /24 for IPv4, /48 for IPv6.
pub fn prefix(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

/// Parses durations such as `90s`, `15m`, `8h`, `7d` into minutes (seconds are rounded up).
pub fn parse_duration_min(s: &str) -> Option<Min> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u32 = num.parse().ok()?;
    match unit.trim() {
        "s" => Some(n.div_ceil(60)),
        "m" | "min" => Some(n),
        "h" => n.checked_mul(60),
        "d" => n.checked_mul(DAY),
        "w" => n.checked_mul(7 * DAY),
        _ => None,
    }
}

/// A number as people read it: integers without decimals, others with up to two.
pub fn fmt_num(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else if x.is_finite() {
        let s = format!("{x:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        "∞".to_string()
    }
}

/// Application ids Microsoft publishes for its own first-party apps and resources (Graph,
/// Exchange, SharePoint, Teams, Office, Azure portal, PowerShell, ...).
const FIRST_PARTY_APP_IDS: &[&str] = &[
    "00000003-0000-0000-c000-000000000000", // Microsoft Graph
    "00000002-0000-0000-c000-000000000000", // Azure AD Graph
    "00000002-0000-0ff1-ce00-000000000000", // Office 365 Exchange Online
    "00000003-0000-0ff1-ce00-000000000000", // Office 365 SharePoint Online
    "00000004-0000-0ff1-ce00-000000000000", // Skype for Business Online
    "00000006-0000-0ff1-ce00-000000000000", // Microsoft Office 365 Portal
    "00000007-0000-0ff1-ce00-000000000000", // Dynamics CRM
    "d3590ed6-52b3-4102-aeff-aad2292ab01c", // Microsoft Office
    "1fec8e78-bce4-4aaf-ab1b-5451cc387264", // Microsoft Teams
    "5e3ce6c0-2b1f-4285-8d4b-75ee78787346", // Microsoft Teams web
    "4765445b-32c6-49b0-83e6-1d93765276ca", // OfficeHome
    "27922004-5251-4030-b22d-91ecd9a37ea4", // Outlook Mobile
    "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", // Azure Portal
    "fb78d390-0c51-40cd-8e17-fdbfab77341b", // Exchange REST API based PowerShell
    "a0c73c16-a7e3-4564-9a95-2bdf47383716", // Exchange Online Remote PowerShell
    "ab9b8c07-8f02-4f72-87fa-80105867a763", // OneDrive SyncEngine
    "19db86c3-b2b9-44cc-b339-36da233a3be2", // My Signins
    "1b730954-1685-4b74-9bfd-dac224a7b894", // Azure Active Directory PowerShell
    "04b07795-8ddb-461a-bbee-02f9e1bf7b46", // Microsoft Azure CLI
    "1950a258-227b-4e31-a9cf-717495945fc2", // Microsoft Azure PowerShell
    "00b41c95-dab0-4487-9791-b9d2c32c80f2", // Office 365 Management
    "797f4846-ba00-4fd7-ba43-dac1f8f63013", // Windows Azure Service Management API
    "0000000c-0000-0000-c000-000000000000", // Microsoft App Access Panel
    "89bee1f7-5e6e-4d8a-9f3d-ecd601259da7", // Office 365 Exchange Microservices
    "57fb890c-0dab-4253-a5e0-7188c88b2bb4", // SharePoint Online Client
    "08e18876-6177-487e-b8b5-cf950c1e598c", // SharePoint Online Web Client Extensibility
    "9199bf20-a13f-4107-85dc-02114787ef48", // One Outlook Web
    "00000005-0000-0ff1-ce00-000000000000", // Microsoft Yammer
];

/// Display names of Microsoft's first-party apps and resources, for records without an id.
const FIRST_PARTY_APP_NAMES: &[&str] = &[
    "microsoft graph",
    "windows azure active directory",
    "office 365 exchange online",
    "office 365 sharepoint online",
    "officehome",
    "outlook mobile",
    "azure portal",
    "onedrive syncengine",
    "my signins",
    "azure active directory powershell",
    "one outlook web",
];

/// A Microsoft first-party app or resource: never attacker infrastructure, whatever its
/// rarity in one organisation (it is rare only because few people grant it explicitly).
pub fn is_first_party_app(id_or_name: &str) -> bool {
    let s = id_or_name.trim().to_ascii_lowercase();
    FIRST_PARTY_APP_IDS.contains(&s.as_str())
        // Microsoft's reserved first-party ranges: 0000000x-0000-0ff1-ce00-… and …-c000-000000000000
        || (s.len() == 36
            && s.starts_with("0000")
            && (s.ends_with("-0000-0ff1-ce00-000000000000")
                || s.ends_with("-0000-0000-c000-000000000000")))
        // Exact names only: a look-alike name ("Microsoft Outlook Sync") is a phishing lure.
        || FIRST_PARTY_APP_NAMES.contains(&s.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration_min("15m"), Some(15));
        assert_eq!(parse_duration_min("8h"), Some(480));
        assert_eq!(parse_duration_min("2d"), Some(2880));
        assert_eq!(parse_duration_min("30s"), Some(1));
        assert_eq!(parse_duration_min("5x"), None);
        assert_eq!(parse_duration_min("h"), None);
    }

    #[test]
    fn decay_halves_at_half_life() {
        let w = decay(8.0, 100, 100 + 60, 60.0);
        assert!((w - 4.0).abs() < 1e-4, "{w}");
        assert_eq!(decay(8.0, 100, 50, 60.0), 8.0);
    }

    #[test]
    fn prefixes() {
        assert_eq!(prefix(&"10.1.2.3".parse().unwrap()), "10.1.2.0/24");
        assert_eq!(
            prefix(&"2001:db8:1:2::5".parse().unwrap()),
            "2001:db8:1::/48"
        );
        assert_eq!(fmt_num(3.0), "3");
        assert_eq!(fmt_num(0.126), "0.13");
    }

    #[test]
    fn first_party_apps() {
        assert!(is_first_party_app("00000003-0000-0000-C000-000000000000"));
        assert!(is_first_party_app("Microsoft Graph"));
        assert!(is_first_party_app("00000002-0000-0ff1-ce00-000000000000"));
        assert!(!is_first_party_app("34a45aba-c7cc-4437-acd2-bea59a9b2e51"));
        assert!(!is_first_party_app("eM Client"));
        assert!(!is_first_party_app("Microsoft Outlook Sync"));
    }
}
