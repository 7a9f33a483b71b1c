//! Registrable domains from the Public Suffix List.

use vigil_enrich::{EnrichConfig, EnrichError, Enricher};

fn rd(e: &Enricher, input: &str) -> Option<String> {
    e.registrable_domain(input).map(|d| d.to_string())
}

fn check(cases: &[(&str, Option<&str>)]) {
    let e = Enricher::without_ip_data();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|&(input, want)| {
            let got = rd(&e, input);
            (got.as_deref() != want).then(|| format!("{input:?}: expected {want:?}, got {got:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn hosts_addresses_and_urls() {
    check(&[
        ("example.com", Some("example.com")),
        ("www.example.co.uk", Some("example.co.uk")),
        ("bob@mail.example.co.uk", Some("example.co.uk")),
        ("SMTP:Bob@Mail.Example.CO.UK", Some("example.co.uk")),
        ("<bob@example.org>", Some("example.org")),
        ("https://x.spikenow.com/a?b", Some("spikenow.com")),
        (
            "https://user:pass@www.Example.com:8443/path?q=1#f",
            Some("example.com"),
        ),
        ("http://example.com:80", Some("example.com")),
        ("example.com:443/path", Some("example.com")),
        ("mailto:alice@sub.example.net", Some("example.net")),
        ("a.b.c.example.com.au", Some("example.com.au")),
    ]);
}

#[test]
fn trailing_dots_and_upper_case() {
    check(&[
        ("example.com.", Some("example.com")),
        ("www.example.co.uk.", Some("example.co.uk")),
        ("WWW.EXAMPLE.COM", Some("example.com")),
        ("bob@EXAMPLE.COM.", Some("example.com")),
        ("example.com..", None),
    ]);
}

#[test]
fn ip_hosts_give_none() {
    check(&[
        ("8.8.8.8", None),
        ("http://8.8.8.8/x", None),
        ("http://8.8.8.8:8080/x", None),
        ("bob@[10.0.0.1]", None),
        ("bob@192.168.1.1", None),
        ("http://[2001:db8::1]/", None),
        ("http://[2001:db8::1]:443/", None),
        ("2001:db8::1", None),
        ("::1", None),
    ]);
}

#[test]
fn invalid_inputs_and_bare_suffixes_give_none() {
    check(&[
        ("", None),
        ("   ", None),
        ("not a domain", None),
        ("a..b.com", None),
        ("-x.com", None),
        ("com", None),
        ("co.uk", None),
        ("localhost", None),
        ("https://", None),
        ("bob@", None),
        (".example.com", None),
        ("exa$mple.com", None),
    ]);
}

#[test]
fn internationalised_names_come_back_as_punycode() {
    check(&[
        ("bücher.de", Some("xn--bcher-kva.de")),
        ("www.BÜCHER.de", Some("xn--bcher-kva.de")),
        ("xn--bcher-kva.de", Some("xn--bcher-kva.de")),
        ("XN--BCHER-KVA.DE", Some("xn--bcher-kva.de")),
        ("bob@bücher.de", Some("xn--bcher-kva.de")),
        (
            "https://www.食狮.公司.cn/x",
            Some("xn--85x722f.xn--55qx5d.cn"),
        ),
        (
            "www.xn--85x722f.xn--55qx5d.cn",
            Some("xn--85x722f.xn--55qx5d.cn"),
        ),
        ("xn--zz.com", None),
    ]);
}

#[test]
fn private_section_and_microsoft_tenant_domains() {
    check(&[
        // The list's private section: whoever owns the subdomain owns the site.
        ("foo.blogspot.com", Some("foo.blogspot.com")),
        ("https://evil.github.io/login", Some("evil.github.io")),
        ("phish.azurewebsites.net", Some("phish.azurewebsites.net")),
        // Vigil's additions: one registrable domain per Microsoft 365 tenant.
        (
            "bob@contoso.onmicrosoft.com",
            Some("contoso.onmicrosoft.com"),
        ),
        (
            "bob@contoso.mail.onmicrosoft.com",
            Some("contoso.mail.onmicrosoft.com"),
        ),
        (
            "https://contoso.sharepoint.com/sites/Finance",
            Some("contoso.sharepoint.com"),
        ),
        (
            "https://contoso-my.sharepoint.com/personal/bob",
            Some("contoso-my.sharepoint.com"),
        ),
        ("onmicrosoft.com", None),
        ("sharepoint.com", None),
    ]);
}

/// The list's own test cases (third_party/publicsuffix/test_psl.txt).
#[test]
fn official_public_suffix_list_test_cases() {
    let text = include_str!("../../../third_party/publicsuffix/test_psl.txt");
    let e = Enricher::without_ip_data();
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in text.lines() {
        let Some(args) = line
            .trim()
            .strip_prefix("checkPublicSuffix(")
            .and_then(|r| r.strip_suffix(");"))
        else {
            continue;
        };
        let parse = |s: &str| -> Option<String> {
            let s = s.trim();
            (s != "null").then(|| s.trim_matches('\'').to_string())
        };
        let (input, expected) = args.split_once(',').expect("two arguments");
        let (Some(input), expected) = (parse(input), parse(expected)) else {
            continue; // checkPublicSuffix(null, null)
        };
        // Vigil returns the ASCII form.
        let expected = expected.map(|d| idna::domain_to_ascii(&d).expect("valid expected domain"));
        let got = rd(&e, &input);
        if got != expected {
            failures.push(format!("{input:?}: expected {expected:?}, got {got:?}"));
        }
        checked += 1;
    }
    assert!(checked > 60, "only {checked} cases found");
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn a_configured_list_replaces_the_built_in_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("public_suffix_list.dat");
    std::fs::write(
        &path,
        "// ===BEGIN ICANN DOMAINS===\ncom\nuk\nco.uk\n// ===END ICANN DOMAINS===\n\
         // ===BEGIN PRIVATE DOMAINS===\nexample.com\n// ===END PRIVATE DOMAINS===\n",
    )
    .unwrap();
    let cfg = EnrichConfig {
        public_suffix_list: Some(path.clone()),
        ..EnrichConfig::default()
    };
    let e = Enricher::load(&cfg).unwrap();
    assert_eq!(rd(&e, "a.b.example.com").as_deref(), Some("b.example.com"));
    assert_eq!(rd(&e, "www.other.com").as_deref(), Some("other.com"));
    // Tenant domains are added to configured lists too.
    assert_eq!(
        rd(&e, "bob@contoso.onmicrosoft.com").as_deref(),
        Some("contoso.onmicrosoft.com")
    );
    assert_eq!(
        e.load_report().public_suffix_list.as_deref(),
        Some(path.as_path())
    );
}

#[test]
fn a_configured_list_without_sections_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("psl.dat");
    std::fs::write(&path, "com\nco.uk\n").unwrap();
    let cfg = EnrichConfig {
        public_suffix_list: Some(path.clone()),
        ..EnrichConfig::default()
    };
    let err = Enricher::load(&cfg).unwrap_err();
    assert!(matches!(err, EnrichError::PublicSuffixList { .. }), "{err}");
    assert!(err.to_string().contains("psl.dat"), "{err}");
}
