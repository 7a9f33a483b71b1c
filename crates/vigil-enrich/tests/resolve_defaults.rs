//! EnrichConfig::resolve_defaults with $VIGIL_DATA_DIR. One test only in this binary, because it
//! sets a process-wide environment variable.

mod common;

use vigil_enrich::{EnrichConfig, Enricher, ASN_CSV_FILES, COUNTRY_MMDB_FILE, DATA_DIR_ENV};

#[test]
fn vigil_data_dir_is_searched_first_and_loads() {
    let data = common::data_dir();
    // SAFETY: the only test in this binary; nothing else reads the environment concurrently.
    unsafe { std::env::set_var(DATA_DIR_ENV, &data) };
    let mut cfg = EnrichConfig::default();
    cfg.resolve_defaults();
    assert_eq!(cfg.country_mmdb, Some(data.join(COUNTRY_MMDB_FILE)));
    assert_eq!(
        cfg.asn_csv,
        ASN_CSV_FILES
            .iter()
            .map(|f| data.join(f))
            .collect::<Vec<_>>()
    );
    assert_eq!(cfg.public_suffix_list, None);
    assert_eq!(EnrichConfig::default_data_dirs()[0], data);

    let enricher = Enricher::load(&cfg).unwrap();
    assert_eq!(
        enricher.ip_info("8.8.8.8".parse().unwrap()).asn,
        Some(15169)
    );

    // The parent directory works too (files under its ip/ subdirectory).
    let parent = data.parent().unwrap().to_path_buf();
    unsafe { std::env::set_var(DATA_DIR_ENV, &parent) };
    let mut cfg = EnrichConfig::default();
    cfg.resolve_defaults();
    assert_eq!(
        cfg.country_mmdb,
        Some(parent.join("ip").join(COUNTRY_MMDB_FILE))
    );
}
