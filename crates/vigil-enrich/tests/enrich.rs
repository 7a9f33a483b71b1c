//! Enricher::enrich on events, without the IP data files.

mod common;

use common::{event, ip};
use vigil_enrich::{EnrichConfig, EnrichError, Enricher};
use vigil_event::{
    EventKind, FileActivity, FileOperation, InboxRule, MailAddress, MailboxForwarding,
    MessageTrace, RuleChange, SignIn, TransportRule, UaClass,
};

fn addr(s: &str) -> MailAddress {
    MailAddress::parse(s).unwrap()
}

fn domains(list: &[MailAddress]) -> Vec<Option<&str>> {
    list.iter().map(|a| a.domain.as_deref()).collect()
}

#[test]
fn inbox_rule_forward_targets_get_domains() {
    let mut e = event(EventKind::InboxRule(InboxRule {
        change: RuleChange::New,
        mailbox: Some("alice@contoso.com".into()),
        rule_name: Some(".".into()),
        forward_to: vec![
            addr("SMTP:attacker@Mail.Evil.co.uk"),
            addr("\"X\" <x@contoso.com>"),
            addr("someone@192.168.1.5"),
        ],
        move_to_folder: None,
        deletes: true,
        marks_as_read: true,
        stops_processing: true,
        conditions: Vec::new(),
        parameters: Vec::new(),
    }));
    e.user = Some("alice@contoso.com".into());
    Enricher::without_ip_data().enrich(&mut e);
    let EventKind::InboxRule(rule) = &e.kind else {
        unreachable!()
    };
    assert_eq!(
        domains(&rule.forward_to),
        vec![Some("evil.co.uk"), Some("contoso.com"), None]
    );
    assert_eq!(e.enrichment.user_domain.as_deref(), Some("contoso.com"));
}

#[test]
fn mailbox_forwarding_transport_rule_and_message_trace_addresses_get_domains() {
    let enricher = Enricher::without_ip_data();

    let mut fwd = event(EventKind::MailboxForwarding(MailboxForwarding {
        mailbox: Some("bob".into()),
        forward_to: vec![addr("drop@evil.onmicrosoft.com")],
        forwarding_recipient: None,
        deliver_and_forward: Some(false),
        cleared: false,
        parameters: Vec::new(),
    }));
    enricher.enrich(&mut fwd);
    let EventKind::MailboxForwarding(f) = &fwd.kind else {
        unreachable!()
    };
    assert_eq!(domains(&f.forward_to), vec![Some("evil.onmicrosoft.com")]);

    let mut tr = event(EventKind::TransportRule(TransportRule {
        rule_name: Some("bcc".into()),
        forward_to: vec![addr("a@x.example.com"), addr("b@gmail.com")],
        deletes: false,
        parameters: Vec::new(),
    }));
    enricher.enrich(&mut tr);
    let EventKind::TransportRule(t) = &tr.kind else {
        unreachable!()
    };
    assert_eq!(
        domains(&t.forward_to),
        vec![Some("example.com"), Some("gmail.com")]
    );

    let mut mt = event(EventKind::MessageTrace(MessageTrace {
        message_id: None,
        message_trace_id: None,
        sender: Some(addr("ceo@contoso.com")),
        recipient: Some(addr("someone@partner.com.au")),
        subject: None,
        status: None,
        from_ip: None,
        to_ip: None,
        size: None,
    }));
    enricher.enrich(&mut mt);
    let EventKind::MessageTrace(m) = &mt.kind else {
        unreachable!()
    };
    assert_eq!(
        m.sender.as_ref().unwrap().domain.as_deref(),
        Some("contoso.com")
    );
    assert_eq!(
        m.recipient.as_ref().unwrap().domain.as_deref(),
        Some("partner.com.au")
    );
}

#[test]
fn file_activity_gets_its_site_domain() {
    let mut e = event(EventKind::FileActivity(FileActivity {
        operation: FileOperation::Downloaded,
        file_name: Some("payroll.xlsx".into()),
        object_url: Some(
            "https://contoso.sharepoint.com/sites/HR/Shared Documents/payroll.xlsx".into(),
        ),
        site_url: Some("https://contoso.sharepoint.com/sites/HR/".into()),
        site_domain: None,
        target_user: None,
    }));
    Enricher::without_ip_data().enrich(&mut e);
    let EventKind::FileActivity(f) = &e.kind else {
        unreachable!()
    };
    assert_eq!(f.site_domain.as_deref(), Some("contoso.sharepoint.com"));

    // Falls back to the object URL.
    let mut e = event(EventKind::FileActivity(FileActivity {
        operation: FileOperation::Accessed,
        file_name: None,
        object_url: Some("https://fabrikam-my.sharepoint.com/personal/x/doc.docx".into()),
        site_url: None,
        site_domain: None,
        target_user: None,
    }));
    Enricher::without_ip_data().enrich(&mut e);
    let EventKind::FileActivity(f) = &e.kind else {
        unreachable!()
    };
    assert_eq!(f.site_domain.as_deref(), Some("fabrikam-my.sharepoint.com"));
}

fn sign_in(
    client_app: Option<&str>,
    user_agent: Option<&str>,
    protocol: Option<&str>,
) -> (Option<UaClass>, Option<String>) {
    let mut e = event(EventKind::SignIn(SignIn {
        client_app: client_app.map(Into::into),
        auth_protocol: protocol.map(Into::into),
        ..SignIn::default()
    }));
    e.user_agent = user_agent.map(Into::into);
    Enricher::without_ip_data().enrich(&mut e);
    (
        e.enrichment.ua_class,
        e.enrichment.ua_family.map(|f| f.to_string()),
    )
}

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

#[test]
fn sign_in_class_from_user_agent_and_client_app() {
    // No user agent: the client app decides.
    assert_eq!(
        sign_in(Some("IMAP4"), None, None),
        (Some(UaClass::LegacyAuth), Some("IMAP4".into()))
    );
    assert_eq!(
        sign_in(Some("Browser"), Some("  "), None),
        (Some(UaClass::Browser), Some("Browser".into()))
    );
    // Both: the user agent decides...
    assert_eq!(
        sign_in(Some("Browser"), Some(CHROME), None),
        (Some(UaClass::Browser), Some("Chrome".into()))
    );
    assert_eq!(
        sign_in(
            Some("Mobile Apps and Desktop clients"),
            Some("Outlook-iOS/2.0"),
            None
        ),
        (Some(UaClass::MobileClient), Some("Outlook Mobile".into()))
    );
    // ...except that a legacy protocol wins.
    for app in [
        "IMAP4",
        "POP3",
        "Authenticated SMTP",
        "Other clients",
        "Exchange ActiveSync",
    ] {
        assert_eq!(
            sign_in(Some(app), Some(CHROME), None),
            (Some(UaClass::LegacyAuth), Some(app.into())),
            "{app}"
        );
    }
    // A user agent that is itself a legacy marker keeps its more specific family.
    assert_eq!(
        sign_in(Some("Other clients"), Some("BAV2ROPC"), None),
        (Some(UaClass::LegacyAuth), Some("BAV2ROPC".into()))
    );
    // An unrecognised user agent gives way to the client app.
    assert_eq!(
        sign_in(Some("Browser"), Some("Mozilla/5.0"), None),
        (Some(UaClass::Browser), Some("Browser".into()))
    );
    // Neither.
    assert_eq!(sign_in(None, None, None), (None, None));
    assert_eq!(sign_in(Some("Something new"), None, None), (None, None));
}

#[test]
fn activesync_with_modern_authentication_is_not_legacy() {
    assert_eq!(
        sign_in(
            Some("Exchange ActiveSync"),
            Some("Apple-iPhone15C2/2102.1.4"),
            Some("oAuth2")
        ),
        (Some(UaClass::MobileClient), Some("iOS Mail".into()))
    );
    assert_eq!(
        sign_in(Some("Exchange ActiveSync"), None, Some("oAuth2")),
        (
            Some(UaClass::MobileClient),
            Some("Exchange ActiveSync".into())
        )
    );
    assert_eq!(
        sign_in(
            Some("Exchange ActiveSync"),
            Some("Apple-iPhone15C2/2102.1.4"),
            Some("none")
        ),
        (
            Some(UaClass::LegacyAuth),
            Some("Exchange ActiveSync".into())
        )
    );
}

#[test]
fn client_app_is_ignored_outside_sign_ins() {
    let mut e = event(EventKind::Generic);
    e.user_agent = Some(CHROME.into());
    Enricher::without_ip_data().enrich(&mut e);
    assert_eq!(e.enrichment.ua_class, Some(UaClass::Browser));
}

#[test]
fn enrich_is_idempotent_and_clears_stale_values() {
    let enricher = Enricher::without_ip_data();
    let mut e = event(EventKind::Generic);
    e.user = Some("svc-app-id".into());
    e.ip = Some(ip("192.168.10.10"));
    e.user_agent = Some("curl/8.0".into());
    enricher.enrich(&mut e);
    let first = e.enrichment.clone();
    enricher.enrich(&mut e);
    assert_eq!(e.enrichment, first);
    assert!(first.ip_internal);
    assert_eq!(first.user_domain, None, "a user without @ has no domain");
    assert_eq!(first.ua_class, Some(UaClass::Automation));

    e.ip = None;
    e.user_agent = None;
    enricher.enrich(&mut e);
    assert!(!e.enrichment.ip_internal);
    assert_eq!(e.enrichment.ua_class, None);
    assert_eq!(e.enrichment.ua_family, None);
}

#[test]
fn without_ip_data_still_knows_internal_addresses() {
    let e = Enricher::without_ip_data();
    assert!(!e.has_country_data() && !e.has_asn_data());
    let info = e.ip_info(ip("10.0.0.1"));
    assert!(info.internal);
    let info = e.ip_info(ip("8.8.8.8"));
    assert!(!info.internal);
    assert_eq!((info.country, info.asn), (None, None));
}

#[test]
fn asn_csv_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("asn-small.csv");
    std::fs::write(
        &good,
        "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\nbroken row\n2001:db8::,2001:db8::ffff,64500,\"Doc, Net\"\n",
    )
    .unwrap();
    let cfg = EnrichConfig {
        asn_csv: vec![good.clone()],
        ..EnrichConfig::default()
    };
    let enricher = Enricher::load(&cfg).unwrap();
    let report = enricher.load_report();
    assert_eq!(report.malformed_rows(), 1);
    assert_eq!(report.asn_files[0].rows, 2);
    assert!(
        report.asn_files[0].errors[0].contains("asn-small.csv:2:"),
        "{:?}",
        report.asn_files[0].errors
    );
    let info = enricher.ip_info(ip("1.0.0.1"));
    assert_eq!(info.asn, Some(13335));
    assert_eq!(info.as_org.as_deref(), Some("Cloudflare, Inc."));
    // 2001:db8::/32 is documentation space, so internal and never looked up.
    assert!(enricher.ip_info(ip("2001:db8::1")).internal);

    let bad = dir.path().join("asn-garbage.csv");
    std::fs::write(&bad, "hello\nworld\n").unwrap();
    let cfg = EnrichConfig {
        asn_csv: vec![good, bad],
        ..EnrichConfig::default()
    };
    let err = Enricher::load(&cfg).unwrap_err();
    assert!(matches!(err, EnrichError::AsnCsv { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("asn-garbage.csv"), "{text}");
    assert!(text.contains("no usable row"), "{text}");
}
