//! The address table agrees with the IP database enrichment uses (`data/ip`, fetched by
//! `scripts/fetch-ip-data.sh`; the test is skipped when it is absent): every address of every
//! range has the listed country, and the ranges' ends belong to the listed AS.

use std::net::IpAddr;
use std::path::PathBuf;

#[derive(serde::Deserialize)]
struct Country {
    country_code: Option<String>,
}

fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("VIGIL_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/ip"));
    dir.join("geo-whois-asn-country.mmdb")
        .exists()
        .then_some(dir)
}

fn as_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    }
}

fn from_u128(x: u128, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(x.into())
    } else {
        IpAddr::V4((x as u32).into())
    }
}

#[test]
fn every_range_has_the_listed_country_and_as() {
    let Some(dir) = data_dir() else {
        eprintln!("data/ip not present: run scripts/fetch-ip-data.sh to check the address table");
        return;
    };
    let reader = maxminddb::Reader::open_readfile(dir.join("geo-whois-asn-country.mmdb")).unwrap();
    let mut checked = 0;
    for r in vigil_sim::ipdb::ranges() {
        let v6 = r.first.is_ipv6();
        let bits = if v6 { 128 } else { 32 };
        let (mut cur, end) = (as_u128(r.first), as_u128(r.last));
        loop {
            let res = reader.lookup(from_u128(cur, v6)).unwrap();
            let net = res.network().unwrap();
            let c = res
                .decode::<Country>()
                .unwrap()
                .and_then(|c| c.country_code);
            assert_eq!(
                c.as_deref(),
                Some(r.country),
                "{} ({} AS{}) in {}-{}",
                from_u128(cur, v6),
                r.org,
                r.asn,
                r.first,
                r.last
            );
            let size = 1u128 << (bits - net.prefix() as u32).min(127);
            let net_end = as_u128(net.network()).saturating_add(size - 1);
            if net_end >= end {
                break;
            }
            cur = net_end + 1;
        }
        checked += 1;
    }
    assert!(checked > 400);

    // AS numbers: both ends of every range fall in a row of the AS table with the listed AS.
    for (file, v6) in [("asn-ipv4.csv", false), ("asn-ipv6.csv", true)] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let mut rows: Vec<(u128, u128, u32)> = Vec::new();
        for line in text.lines() {
            let mut it = line.splitn(4, ',');
            let (Some(a), Some(b), Some(asn)) = (it.next(), it.next(), it.next()) else {
                continue;
            };
            let (Ok(a), Ok(b), Ok(asn)) =
                (a.parse::<IpAddr>(), b.parse::<IpAddr>(), asn.parse::<u32>())
            else {
                continue;
            };
            rows.push((as_u128(a), as_u128(b), asn));
        }
        rows.sort();
        for r in vigil_sim::ipdb::ranges()
            .iter()
            .filter(|r| r.first.is_ipv6() == v6)
        {
            for x in [as_u128(r.first), as_u128(r.last)] {
                let i = rows.partition_point(|row| row.0 <= x);
                assert!(i > 0, "{} not in {file}", r.first);
                let row = rows[i - 1];
                assert!(
                    row.0 <= x && x <= row.1,
                    "{} not covered by {file}",
                    from_u128(x, v6)
                );
                assert_eq!(
                    row.2,
                    r.asn,
                    "{} is AS{} in {file}, table says AS{}",
                    from_u128(x, v6),
                    row.2,
                    r.asn
                );
            }
        }
    }
}
