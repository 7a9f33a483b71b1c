//! Loads the enrichment data the way Vigil does and classifies its arguments.
//!
//!     cargo run --release -p vigil-enrich --example enrich_lookup -- 8.8.8.8 bob@mail.example.co.uk "curl/8.0"
//!
//! IP addresses get country and ASN, anything with a dot or an @ gets its registrable domain,
//! everything gets a user-agent class.

use std::time::Instant;

use vigil_enrich::{EnrichConfig, Enricher};

fn main() {
    let mut cfg = EnrichConfig::default();
    cfg.resolve_defaults();
    let started = Instant::now();
    let enricher = match Enricher::load(&cfg) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let report = enricher.load_report();
    println!(
        "loaded in {:.0?}: country db {:?}, {} IPv4 and {} IPv6 ASN ranges, {} malformed rows",
        started.elapsed(),
        report.country_mmdb,
        report.ipv4_ranges,
        report.ipv6_ranges,
        report.malformed_rows()
    );
    for arg in std::env::args().skip(1) {
        if let Ok(ip) = arg.parse() {
            println!("{arg}: {:?}", enricher.ip_info(ip));
            continue;
        }
        if arg.contains('.') || arg.contains('@') {
            println!("{arg}: domain {:?}", enricher.registrable_domain(&arg));
        }
        println!("{arg}: user agent {:?}", enricher.classify_user_agent(&arg));
        if let Some(app) = enricher.classify_client_app(&arg) {
            println!("{arg}: client app {app:?}");
        }
    }
}
