//! Offline enrichment of Vigil events.
//!
//! [`Enricher`] adds to each [`Event`] what can be learnt without the network:
//!
//! * the country and autonomous system of its IP address, from the ip-location-db files that
//!   `scripts/fetch-ip-data.sh` puts in `data/ip/` (see `data/README.md` for sources and
//!   licences), and whether the address is internal;
//! * the class and family of its user agent (or of Entra's `clientAppUsed`), see [`ua`];
//! * the registrable domain of the acting user and of every mail address and SharePoint site the
//!   event names, from the Public Suffix List (see [`psl`] for the choices made).
//!
//! Loading reads everything into memory; lookups then take no locks except for the small caches
//! in front of user-agent and domain classification. An [`Enricher`] is `Send + Sync`: build one
//! and share it through an `Arc`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use vigil_event::{CountryCode, Event, EventKind, MailAddress, UaClass};

mod asn;
mod cache;
mod ip;
pub mod psl;
pub mod ua;

pub use asn::AsnFileReport;
pub use psl::TENANT_SUFFIXES;

use asn::AsnDb;
use cache::{BoundedCache, IpCache};

/// File name of the country database in the data directory.
pub const COUNTRY_MMDB_FILE: &str = "geo-whois-asn-country.mmdb";
/// File names of the ASN tables in the data directory.
pub const ASN_CSV_FILES: [&str; 2] = ["asn-ipv4.csv", "asn-ipv6.csv"];
/// Environment variable naming the IP data directory.
pub const DATA_DIR_ENV: &str = "VIGIL_DATA_DIR";

const FETCH_HINT: &str = "run scripts/fetch-ip-data.sh to download the IP data";

/// Where the enrichment data lives. Every field is optional: a missing country database or ASN
/// table leaves those fields of [`vigil_event::Enrichment`] empty, and a missing public suffix
/// list means the copy built into the binary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct EnrichConfig {
    /// MaxMind DB file with a `country_code` per network (ip-location-db's
    /// `geo-whois-asn-country.mmdb`, IPv4 and IPv6).
    pub country_mmdb: Option<PathBuf>,
    /// ip-location-db ASN CSV files (`asn-ipv4.csv`, `asn-ipv6.csv`); IPv4 and IPv6 rows may be in
    /// any of them.
    pub asn_csv: Vec<PathBuf>,
    /// A newer `public_suffix_list.dat` than the one built in.
    pub public_suffix_list: Option<PathBuf>,
}

impl EnrichConfig {
    /// Fills `country_mmdb` (when unset) and `asn_csv` (when empty) from the first data
    /// directory that holds the files, in this order:
    ///
    /// 1. `$VIGIL_DATA_DIR` (the files directly in it, or in its `ip/` subdirectory);
    /// 2. `<directory of the running executable>/../../data/ip` (the repository's `data/ip/` for
    ///    `target/{debug,release}/vigil`);
    /// 3. `./data/ip`.
    ///
    /// Paths already set are kept. Fields stay unset when no directory has the files;
    /// [`Enricher::load`] then runs without that data. `public_suffix_list` is never filled in:
    /// the built-in list is the default.
    pub fn resolve_defaults(&mut self) {
        let dirs = Self::candidate_dirs(
            std::env::var_os(DATA_DIR_ENV).map(PathBuf::from),
            std::env::current_exe().ok(),
        );
        self.resolve_defaults_in(&dirs);
    }

    /// The directories [`EnrichConfig::resolve_defaults`] searches, in order.
    pub fn default_data_dirs() -> Vec<PathBuf> {
        Self::candidate_dirs(
            std::env::var_os(DATA_DIR_ENV).map(PathBuf::from),
            std::env::current_exe().ok(),
        )
    }

    fn candidate_dirs(env_dir: Option<PathBuf>, exe: Option<PathBuf>) -> Vec<PathBuf> {
        let mut dirs = Vec::new();
        if let Some(dir) = env_dir.filter(|d| !d.as_os_str().is_empty()) {
            dirs.push(dir.clone());
            dirs.push(dir.join("ip"));
        }
        if let Some(exe_dir) = exe.as_deref().and_then(Path::parent) {
            dirs.push(exe_dir.join("..").join("..").join("data").join("ip"));
        }
        dirs.push(PathBuf::from("data").join("ip"));
        dirs
    }

    fn resolve_defaults_in(&mut self, dirs: &[PathBuf]) {
        if self.country_mmdb.is_none() {
            self.country_mmdb = dirs
                .iter()
                .map(|d| d.join(COUNTRY_MMDB_FILE))
                .find(|p| p.is_file());
        }
        if self.asn_csv.is_empty() {
            if let Some(files) = dirs.iter().find_map(|d| {
                let files: Vec<PathBuf> = ASN_CSV_FILES
                    .iter()
                    .map(|f| d.join(f))
                    .filter(|p| p.is_file())
                    .collect();
                (!files.is_empty()).then_some(files)
            }) {
                self.asn_csv = files;
            }
        }
        tracing::debug!(
            country_mmdb = ?self.country_mmdb,
            asn_csv = ?self.asn_csv,
            "resolved enrichment data paths"
        );
    }
}

/// Why [`Enricher::load`] failed. Each variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    #[error("cannot read {}: {source}{}", path.display(), hint.map(|h| format!(" ({h})")).unwrap_or_default())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
        hint: Option<&'static str>,
    },
    #[error("{}: not a usable country database: {message}", path.display())]
    CountryDb { path: PathBuf, message: String },
    #[error("{}: not a usable ASN table: {message}", path.display())]
    AsnCsv { path: PathBuf, message: String },
    #[error("{}: not a usable public suffix list: {message}", path.display())]
    PublicSuffixList { path: PathBuf, message: String },
}

/// What [`Enricher::load`] loaded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    pub country_mmdb: Option<PathBuf>,
    /// The country database's build time, seconds since the Unix epoch.
    pub country_build_epoch: Option<u64>,
    pub asn_files: Vec<AsnFileReport>,
    /// Ranges after merging and removing overlaps.
    pub ipv4_ranges: usize,
    pub ipv6_ranges: usize,
    /// Rows whose range overlapped an earlier one (the later-starting, more specific one wins).
    pub asn_overlaps: usize,
    /// `None` for the built-in list.
    pub public_suffix_list: Option<PathBuf>,
}

impl LoadReport {
    /// Malformed ASN rows skipped, over all files.
    pub fn malformed_rows(&self) -> usize {
        self.asn_files.iter().map(|f| f.malformed).sum()
    }
}

/// What is known about one IP address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct IpInfo {
    pub country: Option<CountryCode>,
    pub asn: Option<u32>,
    pub as_org: Option<Arc<str>>,
    /// Private, loopback, link-local, CGNAT, documentation, multicast or otherwise reserved.
    pub internal: bool,
}

/// Offline enrichment data and the logic that applies it. Cheap to share: wrap it in an `Arc`.
pub struct Enricher {
    country: Option<maxminddb::Reader<Vec<u8>>>,
    asn: AsnDb,
    psl: Arc<publicsuffix::List>,
    ua_table: ua::UaTable,
    client_apps: ua::ClientAppTable,
    ua_cache: BoundedCache<Box<str>, (UaClass, Arc<str>)>,
    domain_cache: BoundedCache<Box<str>, Option<Arc<str>>>,
    /// Client addresses repeat heavily (offices, homes); lookups are remembered.
    ip_cache: IpCache<IpInfo>,
    report: LoadReport,
}

impl std::fmt::Debug for Enricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enricher")
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

const UA_CACHE_ENTRIES: usize = 4096;
const UA_CACHE_MAX_KEY: usize = 1024;
const DOMAIN_CACHE_ENTRIES: usize = 8192;
const IP_CACHE_ENTRIES: usize = 65_536;
const DOMAIN_CACHE_MAX_KEY: usize = 255;

impl Enricher {
    fn with_parts(
        country: Option<maxminddb::Reader<Vec<u8>>>,
        asn: AsnDb,
        psl: Arc<publicsuffix::List>,
        report: LoadReport,
    ) -> Enricher {
        Enricher {
            country,
            asn,
            psl,
            ua_table: ua::UaTable::new(),
            client_apps: ua::ClientAppTable::new(),
            ua_cache: BoundedCache::new(UA_CACHE_ENTRIES, UA_CACHE_MAX_KEY),
            domain_cache: BoundedCache::new(DOMAIN_CACHE_ENTRIES, DOMAIN_CACHE_MAX_KEY),
            ip_cache: IpCache::new(IP_CACHE_ENTRIES),
            report,
        }
    }

    /// Loads the files `cfg` names (it does not look for defaults: call
    /// [`EnrichConfig::resolve_defaults`] first). The country database and the ASN files are
    /// read in parallel. Malformed ASN rows are skipped, counted in [`Enricher::load_report`]
    /// and logged; a file with no usable row at all is an error.
    pub fn load(cfg: &EnrichConfig) -> Result<Enricher, EnrichError> {
        let started = std::time::Instant::now();
        let (country, parsed, psl) = std::thread::scope(|s| {
            let country = cfg
                .country_mmdb
                .as_deref()
                .map(|path| s.spawn(move || load_country(path)));
            let asn: Vec<_> = cfg
                .asn_csv
                .iter()
                .map(|path| s.spawn(move || load_asn_file(path)))
                .collect();
            let psl = match cfg.public_suffix_list.as_deref() {
                Some(path) => load_psl(path),
                None => Ok(psl::embedded_list()),
            };
            let country = country.map(join).transpose();
            let asn: Result<Vec<_>, _> = asn.into_iter().map(join).collect();
            (country, asn, psl)
        });
        let country = country?;
        let parsed = parsed?;
        let psl = psl?;

        let mut report = LoadReport {
            country_mmdb: cfg.country_mmdb.clone(),
            country_build_epoch: country.as_ref().map(|r| r.metadata().build_epoch),
            public_suffix_list: cfg.public_suffix_list.clone(),
            ..LoadReport::default()
        };
        for file in &parsed {
            if file.report.malformed > 0 {
                tracing::warn!(
                    file = %file.report.path.display(),
                    malformed = file.report.malformed,
                    first = ?file.report.errors.first(),
                    "skipped malformed ASN rows"
                );
            }
            report.asn_files.push(file.report.clone());
        }
        let asn = AsnDb::from_parsed(parsed);
        (report.ipv4_ranges, report.ipv6_ranges) = asn.range_counts();
        report.asn_overlaps = asn.overlaps;
        if country.is_none() {
            tracing::warn!("no country database configured: events get no country ({FETCH_HINT})");
        }
        if asn.is_empty() {
            tracing::warn!("no ASN table configured: events get no AS number ({FETCH_HINT})");
        }
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            ipv4_ranges = report.ipv4_ranges,
            ipv6_ranges = report.ipv6_ranges,
            "enrichment data loaded"
        );
        Ok(Enricher::with_parts(country, asn, psl, report))
    }

    /// User-agent classification and registrable domains only; [`Enricher::ip_info`] then knows
    /// only whether an address is internal.
    pub fn without_ip_data() -> Enricher {
        Enricher::with_parts(
            None,
            AsnDb::default(),
            psl::embedded_list(),
            LoadReport::default(),
        )
    }

    /// What was loaded, with malformed-row counts.
    pub fn load_report(&self) -> &LoadReport {
        &self.report
    }

    /// Whether a country database is loaded.
    pub fn has_country_data(&self) -> bool {
        self.country.is_some()
    }

    /// Whether any ASN range is loaded.
    pub fn has_asn_data(&self) -> bool {
        !self.asn.is_empty()
    }

    /// Country and autonomous system of an address. Internal addresses are not looked up.
    pub fn ip_info(&self, ip: IpAddr) -> IpInfo {
        let ip = ip::canonical(ip);
        self.ip_cache.get_or_insert(ip, || self.look_up_ip(ip))
    }

    fn look_up_ip(&self, ip: IpAddr) -> IpInfo {
        if ip::is_internal(ip) {
            return IpInfo {
                internal: true,
                ..IpInfo::default()
            };
        }
        let country = self.country.as_ref().and_then(|reader| {
            let result = reader.lookup(ip).ok()?;
            let code: Option<&str> = result
                .decode_path(&[maxminddb::PathElement::Key("country_code")])
                .ok()
                .flatten();
            code.and_then(CountryCode::new)
        });
        let (asn, as_org) = match self.asn.lookup(ip) {
            Some((asn, org)) => (Some(asn), org),
            None => (None, None),
        };
        IpInfo {
            country,
            asn,
            as_org,
            internal: false,
        }
    }

    /// Class and family of a user agent. Never panics; results are cached.
    pub fn classify_user_agent(&self, ua: &str) -> (UaClass, Arc<str>) {
        self.ua_cache
            .get_or_insert_with(ua, || self.ua_table.classify(ua))
    }

    /// Class and canonical name of an Entra `clientAppUsed` value, `None` for values it does not
    /// know. Every value except "Browser" and "Mobile Apps and Desktop clients" is legacy
    /// authentication.
    pub fn classify_client_app(&self, client_app_used: &str) -> Option<(UaClass, Arc<str>)> {
        self.client_apps.classify(client_app_used)
    }

    /// Registrable domain of a host name, e-mail address or URL, in lower-case ASCII (punycode
    /// for internationalised names): `bob@mail.example.co.uk` gives `example.co.uk`,
    /// `https://x.spikenow.com/a?b` gives `spikenow.com`. `None` for IP addresses, public
    /// suffixes themselves and anything that is not a valid host name. See [`psl`] for how the
    /// list's private section and Microsoft 365 tenant domains are treated.
    pub fn registrable_domain(&self, host_or_address_or_url: &str) -> Option<Arc<str>> {
        let host = psl::extract_host(host_or_address_or_url)?;
        self.domain_cache.get_or_insert_with(host, || {
            let normalised = psl::normalise_host(host)?;
            psl::registrable(&self.psl, &normalised)
        })
    }

    fn fill_address(&self, address: &mut MailAddress) {
        address.domain = self.registrable_domain(&address.address);
    }

    /// Fills [`Event::enrichment`], the `domain` of every [`MailAddress`] in the event's kind and
    /// [`vigil_event::FileActivity::site_domain`]. Running it twice gives the same result.
    ///
    /// For sign-ins, the user agent decides the class; Entra's `clientAppUsed` decides it when
    /// there is no user agent, and also when it names a legacy protocol (IMAP4, POP3,
    /// Authenticated SMTP, "Other clients", ...): the protocol is what matters for MFA. Exchange
    /// ActiveSync counts as legacy unless the sign-in's authentication protocol says it was a
    /// modern one (OAuth 2.0 and the like).
    pub fn enrich(&self, event: &mut Event) {
        let info = event.ip.map(|ip| self.ip_info(ip)).unwrap_or_default();
        let enrichment = &mut event.enrichment;
        enrichment.country = info.country;
        enrichment.asn = info.asn;
        enrichment.as_org = info.as_org;
        enrichment.ip_internal = info.internal;

        let from_ua = event
            .user_agent
            .as_deref()
            .filter(|ua| !vigil_event::text::is_blank(ua))
            .map(|ua| self.classify_user_agent(ua));
        let from_app = match &event.kind {
            EventKind::SignIn(sign_in) => sign_in.client_app.as_deref().and_then(|app| {
                let (class, family) = self.classify_client_app(app)?;
                let modern_activesync = &*family == "Exchange ActiveSync"
                    && sign_in
                        .auth_protocol
                        .as_deref()
                        .is_some_and(is_modern_auth_protocol);
                if modern_activesync {
                    Some((UaClass::MobileClient, family))
                } else {
                    Some((class, family))
                }
            }),
            _ => None,
        };
        let chosen = match (from_ua, from_app) {
            (Some(ua), Some(app))
                if app.0 == UaClass::LegacyAuth && ua.0 != UaClass::LegacyAuth =>
            {
                Some(app)
            }
            (Some(ua), Some(app)) if ua.0 == UaClass::Unknown && app.0 != UaClass::Unknown => {
                Some(app)
            }
            (Some(ua), _) => Some(ua),
            (None, app) => app,
        };
        enrichment.ua_class = chosen.as_ref().map(|c| c.0);
        enrichment.ua_family = chosen.map(|c| c.1);
        enrichment.user_domain = event
            .user
            .as_deref()
            .filter(|u| u.contains('@'))
            .and_then(|u| self.registrable_domain(u));

        match &mut event.kind {
            EventKind::InboxRule(rule) => {
                rule.forward_to
                    .iter_mut()
                    .for_each(|a| self.fill_address(a));
            }
            EventKind::MailboxForwarding(fwd) => {
                fwd.forward_to.iter_mut().for_each(|a| self.fill_address(a));
            }
            EventKind::TransportRule(rule) => {
                rule.forward_to
                    .iter_mut()
                    .for_each(|a| self.fill_address(a));
            }
            EventKind::MessageTrace(trace) => {
                if let Some(a) = trace.sender.as_mut() {
                    self.fill_address(a);
                }
                if let Some(a) = trace.recipient.as_mut() {
                    self.fill_address(a);
                }
            }
            EventKind::FileActivity(file) => {
                file.site_domain = file
                    .site_url
                    .as_deref()
                    .or(file.object_url.as_deref())
                    .and_then(|url| self.registrable_domain(url));
            }
            _ => {}
        }
    }
}

/// Entra `authenticationProtocol` values that are not basic authentication.
fn is_modern_auth_protocol(protocol: &str) -> bool {
    let p = protocol.trim();
    !(p.is_empty()
        || p.eq_ignore_ascii_case("none")
        || p.eq_ignore_ascii_case("ropc")
        || p.eq_ignore_ascii_case("unknownFutureValue"))
}

fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    match handle.join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

fn read_file(path: &Path, hint: Option<&'static str>) -> Result<Vec<u8>, EnrichError> {
    std::fs::read(path).map_err(|source| EnrichError::Io {
        path: path.to_path_buf(),
        hint: hint.filter(|_| source.kind() == std::io::ErrorKind::NotFound),
        source,
    })
}

fn load_country(path: &Path) -> Result<maxminddb::Reader<Vec<u8>>, EnrichError> {
    let bytes = read_file(path, Some(FETCH_HINT))?;
    let bad = |message: String| EnrichError::CountryDb {
        path: path.to_path_buf(),
        message,
    };
    let reader = maxminddb::Reader::from_source(bytes).map_err(|e| bad(e.to_string()))?;
    if reader.metadata().ip_version != 6 {
        return Err(bad(format!(
            "it covers IPv{} only; the IPv4+IPv6 file ({COUNTRY_MMDB_FILE}) is needed",
            reader.metadata().ip_version
        )));
    }
    // Check the record layout on an address every country database covers.
    let probe: IpAddr = IpAddr::from([8, 8, 8, 8]);
    let result = reader.lookup(probe).map_err(|e| bad(e.to_string()))?;
    let code: Option<&str> = result
        .decode_path(&[maxminddb::PathElement::Key("country_code")])
        .map_err(|e| bad(format!("reading the record of {probe}: {e}")))?;
    if code.and_then(CountryCode::new).is_none() {
        return Err(bad(format!(
            "the record of {probe} has no two-letter `country_code` field (database type {:?})",
            reader.metadata().database_type
        )));
    }
    Ok(reader)
}

fn load_asn_file(path: &Path) -> Result<asn::ParsedCsv, EnrichError> {
    let bytes = read_file(path, Some(FETCH_HINT))?;
    let text = String::from_utf8_lossy(&bytes);
    let parsed = asn::parse_csv(path, &text);
    if parsed.report.rows == 0 {
        let message = match parsed.report.errors.first() {
            Some(first) => format!(
                "no usable row ({} malformed; first: {first})",
                parsed.report.malformed
            ),
            None => "the file has no rows".to_string(),
        };
        return Err(EnrichError::AsnCsv {
            path: path.to_path_buf(),
            message,
        });
    }
    Ok(parsed)
}

fn load_psl(path: &Path) -> Result<Arc<publicsuffix::List>, EnrichError> {
    let bytes = read_file(path, None)?;
    let bad = |message: String| EnrichError::PublicSuffixList {
        path: path.to_path_buf(),
        message,
    };
    let text = std::str::from_utf8(&bytes).map_err(|e| bad(format!("not UTF-8: {e}")))?;
    psl::parse_list(text).map(Arc::new).map_err(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enricher_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Enricher>();
        check::<Arc<Enricher>>();
    }

    #[test]
    fn candidate_dirs_order() {
        let dirs = EnrichConfig::candidate_dirs(
            Some(PathBuf::from("/opt/vigil")),
            Some(PathBuf::from("/repo/target/release/vigil")),
        );
        assert_eq!(
            dirs,
            vec![
                PathBuf::from("/opt/vigil"),
                PathBuf::from("/opt/vigil/ip"),
                PathBuf::from("/repo/target/release/../../data/ip"),
                PathBuf::from("data/ip"),
            ]
        );
        let dirs = EnrichConfig::candidate_dirs(Some(PathBuf::new()), None);
        assert_eq!(dirs, vec![PathBuf::from("data/ip")]);
    }

    #[test]
    fn resolve_defaults_takes_the_first_directory_with_files_and_keeps_set_paths() {
        let empty = tempfile::tempdir().unwrap();
        let full = tempfile::tempdir().unwrap();
        std::fs::write(full.path().join(COUNTRY_MMDB_FILE), b"x").unwrap();
        std::fs::write(full.path().join("asn-ipv4.csv"), b"x").unwrap();
        std::fs::write(full.path().join("asn-ipv6.csv"), b"x").unwrap();
        let dirs = [empty.path().to_path_buf(), full.path().to_path_buf()];

        let mut cfg = EnrichConfig::default();
        cfg.resolve_defaults_in(&dirs);
        assert_eq!(cfg.country_mmdb, Some(full.path().join(COUNTRY_MMDB_FILE)));
        assert_eq!(
            cfg.asn_csv,
            vec![
                full.path().join("asn-ipv4.csv"),
                full.path().join("asn-ipv6.csv")
            ]
        );
        assert_eq!(cfg.public_suffix_list, None);

        let mut cfg = EnrichConfig {
            country_mmdb: Some(PathBuf::from("/elsewhere.mmdb")),
            asn_csv: vec![PathBuf::from("/mine.csv")],
            public_suffix_list: None,
        };
        cfg.resolve_defaults_in(&dirs);
        assert_eq!(cfg.country_mmdb, Some(PathBuf::from("/elsewhere.mmdb")));
        assert_eq!(cfg.asn_csv, vec![PathBuf::from("/mine.csv")]);

        let mut cfg = EnrichConfig::default();
        cfg.resolve_defaults_in(&[empty.path().to_path_buf()]);
        assert_eq!(cfg, EnrichConfig::default());
    }

    #[test]
    fn config_deserialises_with_defaults() {
        let cfg: EnrichConfig = toml::from_str(
            "country_mmdb = \"/d/geo.mmdb\"\nasn_csv = [\"/d/a4.csv\", \"/d/a6.csv\"]\n",
        )
        .unwrap();
        assert_eq!(cfg.country_mmdb, Some(PathBuf::from("/d/geo.mmdb")));
        assert_eq!(cfg.asn_csv.len(), 2);
        assert_eq!(cfg.public_suffix_list, None);
        let empty: EnrichConfig = toml::from_str("").unwrap();
        assert_eq!(empty, EnrichConfig::default());
    }

    #[test]
    fn modern_auth_protocols() {
        assert!(is_modern_auth_protocol("oAuth2"));
        assert!(is_modern_auth_protocol("deviceCode"));
        assert!(!is_modern_auth_protocol("none"));
        assert!(!is_modern_auth_protocol("ROPC"));
        assert!(!is_modern_auth_protocol(""));
    }
}
