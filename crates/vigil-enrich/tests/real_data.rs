//! Country and ASN look-ups against the real ip-location-db files in data/ip/.
//! Run scripts/fetch-ip-data.sh first; these tests fail (they do not skip) without the data.

mod common;

use std::sync::{Arc, OnceLock};

use common::{event, ip, real_config};
use vigil_enrich::{EnrichConfig, EnrichError, Enricher};
use vigil_event::{EventKind, UaClass};

fn enricher() -> &'static Enricher {
    static E: OnceLock<Enricher> = OnceLock::new();
    E.get_or_init(|| match Enricher::load(&real_config()) {
        Ok(e) => e,
        Err(e) => panic!("loading the real IP data failed: {e}"),
    })
}

#[test]
fn google_dns_v4_is_us_and_as15169() {
    let info = enricher().ip_info(ip("8.8.8.8"));
    assert_eq!(
        info.country.map(|c| c.as_str().to_string()).as_deref(),
        Some("US")
    );
    assert_eq!(info.asn, Some(15169));
    assert_eq!(info.as_org.as_deref(), Some("Google LLC"));
    assert!(!info.internal);
}

#[test]
fn cloudflare_dns_is_as13335() {
    let info = enricher().ip_info(ip("1.1.1.1"));
    assert_eq!(info.asn, Some(13335));
    assert!(
        info.as_org.as_deref().unwrap_or("").contains("Cloudflare"),
        "{:?}",
        info.as_org
    );
    assert!(info.country.is_some(), "1.1.1.1 should have a country");
}

#[test]
fn google_dns_v6_is_us_and_as15169() {
    let info = enricher().ip_info(ip("2001:4860:4860::8888"));
    assert_eq!(info.asn, Some(15169));
    assert_eq!(
        info.country.map(|c| c.as_str().to_string()).as_deref(),
        Some("US")
    );
}

#[test]
fn ipv4_mapped_ipv6_is_looked_up_as_ipv4() {
    let info = enricher().ip_info(ip("::ffff:8.8.8.8"));
    assert_eq!(info.asn, Some(15169));
    assert_eq!(
        info.country.map(|c| c.as_str().to_string()).as_deref(),
        Some("US")
    );
}

#[test]
fn private_addresses_are_internal_without_country_or_asn() {
    for addr in [
        "10.0.0.1",
        "192.168.0.10",
        "127.0.0.1",
        "fd12:3456::1",
        "::1",
    ] {
        let info = enricher().ip_info(ip(addr));
        assert!(info.internal, "{addr}");
        assert_eq!(info.country, None, "{addr}");
        assert_eq!(info.asn, None, "{addr}");
        assert_eq!(info.as_org, None, "{addr}");
    }
}

#[test]
fn microsoft_exchange_online_range_is_microsoft() {
    // 40.92.0.0/15 and 52.96.0.0/12 are Exchange Online's published ranges.
    let info = enricher().ip_info(ip("52.97.1.1"));
    assert_eq!(info.asn, Some(8075), "{info:?}");
}

#[test]
fn organisation_names_are_shared() {
    let a = enricher().ip_info(ip("8.8.8.8")).as_org.unwrap();
    let b = enricher().ip_info(ip("8.8.4.4")).as_org.unwrap();
    assert!(Arc::ptr_eq(&a, &b));
}

#[test]
fn load_report_describes_the_real_files() {
    let report = enricher().load_report();
    assert_eq!(report.malformed_rows(), 0, "{:?}", report.asn_files);
    assert_eq!(report.asn_files.len(), 2);
    assert!(report.ipv4_ranges > 300_000, "{report:?}");
    assert!(report.ipv6_ranges > 80_000, "{report:?}");
    assert!(report.country_build_epoch.unwrap_or(0) > 1_700_000_000);
    assert!(enricher().has_country_data() && enricher().has_asn_data());
}

#[test]
fn enrich_fills_country_asn_and_user_agent() {
    let mut e = event(EventKind::Generic);
    e.ip = Some(ip("8.8.8.8"));
    e.user = Some("alice@contoso.com".into());
    e.user_agent = Some("python-requests/2.31.0".into());
    enricher().enrich(&mut e);
    assert_eq!(
        e.enrichment
            .country
            .map(|c| c.as_str().to_string())
            .as_deref(),
        Some("US")
    );
    assert_eq!(e.enrichment.asn, Some(15169));
    assert_eq!(e.enrichment.as_org.as_deref(), Some("Google LLC"));
    assert!(!e.enrichment.ip_internal);
    assert_eq!(e.enrichment.ua_class, Some(UaClass::Automation));
    assert_eq!(e.enrichment.ua_family.as_deref(), Some("python-requests"));
    assert_eq!(e.enrichment.user_domain.as_deref(), Some("contoso.com"));

    e.ip = Some(ip("10.1.2.3"));
    enricher().enrich(&mut e);
    assert!(e.enrichment.ip_internal);
    assert_eq!(e.enrichment.country, None);
    assert_eq!(e.enrichment.asn, None);
}

#[test]
fn missing_file_error_names_it_and_says_how_to_get_it() {
    let cfg = EnrichConfig {
        country_mmdb: Some("/nonexistent/geo-whois-asn-country.mmdb".into()),
        ..EnrichConfig::default()
    };
    let err = Enricher::load(&cfg).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, EnrichError::Io { .. }));
    assert!(
        text.contains("/nonexistent/geo-whois-asn-country.mmdb"),
        "{text}"
    );
    assert!(text.contains("scripts/fetch-ip-data.sh"), "{text}");
}

#[test]
fn a_csv_given_as_country_database_is_rejected() {
    let cfg = EnrichConfig {
        country_mmdb: Some(common::data_dir().join("asn-ipv4.csv")),
        ..EnrichConfig::default()
    };
    let err = Enricher::load(&cfg).unwrap_err();
    assert!(matches!(err, EnrichError::CountryDb { .. }), "{err}");
    assert!(err.to_string().contains("asn-ipv4.csv"), "{err}");
}

#[test]
fn a_directory_given_as_country_database_is_an_io_error_naming_it() {
    let dir = common::data_dir();
    let cfg = EnrichConfig {
        country_mmdb: Some(dir.clone()),
        ..EnrichConfig::default()
    };
    let err = Enricher::load(&cfg).unwrap_err();
    assert!(matches!(err, EnrichError::Io { .. }), "{err}");
    assert!(
        err.to_string().contains(&dir.display().to_string()),
        "{err}"
    );
}
