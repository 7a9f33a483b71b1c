//! User-agent and clientAppUsed classification.

use std::sync::Arc;

use vigil_enrich::Enricher;
use vigil_event::UaClass::{self, *};

fn check(cases: &[(&str, UaClass, &str)]) {
    let e = Enricher::without_ip_data();
    let mut failures = Vec::new();
    for &(ua, class, family) in cases {
        let (got_class, got_family) = e.classify_user_agent(ua);
        if got_class != class || &*got_family != family {
            failures.push(format!(
                "{ua:?}: expected ({class:?}, {family:?}), got ({got_class:?}, {got_family:?})"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn legacy_basic_auth_markers() {
    check(&[
        ("BAV2ROPC", LegacyAuth, "BAV2ROPC"),
        ("bav2ropc", LegacyAuth, "BAV2ROPC"),
        ("CBAInPROD", LegacyAuth, "CBAInPROD"),
        ("Mozilla/5.0 BAV2ROPC", LegacyAuth, "BAV2ROPC"),
    ]);
}

#[test]
fn office_and_outlook_clients() {
    check(&[
        (
            "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
            DesktopClient,
            "Outlook",
        ),
        (
            "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro) MSAL.NET/4.58.1",
            DesktopClient,
            "Outlook",
        ),
        ("MacOutlook/16.80.23121017 (Intelx64 Mac OS X 14.2.1 (Build 23C71))", DesktopClient, "Outlook"),
        ("Outlook-iOS/2.0", MobileClient, "Outlook Mobile"),
        ("Outlook-Android/2.0", MobileClient, "Outlook Mobile"),
        (
            "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Word 16.0.17328; Pro)",
            DesktopClient,
            "Word",
        ),
        (
            "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Office 16.0.17328; Pro)",
            DesktopClient,
            "Microsoft Office",
        ),
        ("Microsoft Office/16.0 (iOS 17.2; Microsoft Excel 2.80)", MobileClient, "Excel"),
    ]);
}

#[test]
fn teams_onedrive_and_authenticator() {
    check(&[
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Teams/1.6.00.4472 Chrome/98.0.4758.141 Electron/17.4.11 Safari/537.36",
            DesktopClient,
            "Teams",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 TeamsMobile-iOS",
            MobileClient,
            "Teams",
        ),
        ("Teams/1416/1.0.0.2023121201 (Android 14; SM-S911B)", MobileClient, "Teams"),
        (
            "Microsoft SkyDriveSync 23.226.1031.0001 ship; Windows NT 10.0 (19045)",
            DesktopClient,
            "OneDrive",
        ),
        ("OneDriveSync/23.226.1031.0001", DesktopClient, "OneDrive"),
        ("OneDriveiOSApp/15.3 (iPhone; iOS 17.2)", MobileClient, "OneDrive"),
        (
            "Microsoft Authenticator/6.2401.0119 (iOS 17.2.1)",
            MobileClient,
            "Microsoft Authenticator",
        ),
        ("PhoneFactor/6.2401.0119 (Android 14)", MobileClient, "Microsoft Authenticator"),
    ]);
}

#[test]
fn browsers_on_desktop_and_phones() {
    check(&[
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            Browser,
            "Chrome",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
            Browser,
            "Edge",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
            Browser,
            "Firefox",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
            Browser,
            "Safari",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
            Browser,
            "Safari",
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
            Browser,
            "Chrome",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
            Browser,
            "Chrome",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/120.2210.150 Mobile/15E148 Safari/605.1.15",
            Browser,
            "Edge",
        ),
        (
            "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0",
            Browser,
            "Firefox",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko",
            Browser,
            "Internet Explorer",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0",
            Browser,
            "Opera",
        ),
    ]);
}

#[test]
fn scripts_sdks_and_tools_are_automation() {
    check(&[
        ("python-requests/2.31.0", Automation, "python-requests"),
        ("PYTHON-REQUESTS/2.31.0", Automation, "python-requests"),
        ("curl/8.4.0", Automation, "curl"),
        ("Go-http-client/1.1", Automation, "Go-http-client"),
        ("Go-http-client/2.0", Automation, "Go-http-client"),
        (
            "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.3803",
            Automation,
            "PowerShell",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Microsoft Windows 10.0.19045; en-US) PowerShell/7.4.0",
            Automation,
            "PowerShell",
        ),
        ("axios/1.6.2", Automation, "axios"),
        ("okhttp/4.12.0", Automation, "okhttp"),
        ("Python-urllib/3.11", Automation, "python-urllib"),
        ("Java/17.0.2", Automation, "Java"),
        ("libwww-perl/6.72", Automation, "libwww-perl"),
        ("Wget/1.21.4", Automation, "Wget"),
        ("PostmanRuntime/7.36.0", Automation, "PostmanRuntime"),
        ("AADInternals", Automation, "AADInternals"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AADInternals WindowsPowerShell/5.1",
            Automation,
            "AADInternals",
        ),
        ("ROADtools/1.0", Automation, "ROADtools"),
        ("roadrecon/1.2.0", Automation, "ROADtools"),
        ("MSAL.Python/1.26.0", Automation, "MSAL.Python"),
        ("MSAL.NET/4.58.1", Automation, "MSAL.NET"),
    ]);
}

#[test]
fn mail_clients_and_activesync_devices() {
    check(&[
        ("iOS/17.2 (21C62) accountsd/1.0", MobileClient, "iOS Accounts"),
        ("macOS/14.2 (23C64) accountsd/1.0", DesktopClient, "macOS Accounts"),
        (
            "Mac OS X/10.15.7 (19H2026); ExchangeWebServices/10.0 (333); Mail/16.0 (3696.120.41.1.1)",
            DesktopClient,
            "Apple Mail",
        ),
        ("Apple Mail (16.0)", DesktopClient, "Apple Mail"),
        ("iOS/16.6 (20G75) dataaccessd/1.0", MobileClient, "iOS Mail"),
        ("Apple-iPhone15C2/2102.1.4", MobileClient, "iOS Mail"),
        ("Android-Mail/2023.12.03.590041234.Release", MobileClient, "Android Mail"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.6.0",
            DesktopClient,
            "Thunderbird",
        ),
    ]);
}

#[test]
fn empty_and_unrecognised_user_agents_are_unknown() {
    check(&[
        ("", Unknown, "Unknown"),
        ("   ", Unknown, "Unknown"),
        ("SomeCustomAgent/1.0 (build 7)", Unknown, "SomeCustomAgent"),
        ("Mozilla/5.0", Unknown, "Mozilla"),
        ("%%%", Unknown, "Unknown"),
    ]);
}

#[test]
fn repeated_user_agents_share_the_cached_family() {
    let e = Enricher::without_ip_data();
    let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";
    let (_, a) = e.classify_user_agent(ua);
    let (_, b) = e.classify_user_agent(ua);
    assert!(Arc::ptr_eq(&a, &b));
    // Different user agents of one family share the table's string too.
    let (_, c) = e.classify_user_agent(
        "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    );
    assert!(Arc::ptr_eq(&a, &c));
}

#[test]
fn very_long_user_agents_are_classified() {
    let e = Enricher::without_ip_data();
    let long = format!("python-requests/2.31.0 {}", "x".repeat(100_000));
    assert_eq!(e.classify_user_agent(&long).0, Automation);
}

#[test]
fn client_apps() {
    let e = Enricher::without_ip_data();
    let cases: &[(&str, UaClass, &str)] = &[
        ("Browser", Browser, "Browser"),
        (
            "Mobile Apps and Desktop clients",
            DesktopClient,
            "Mobile Apps and Desktop clients",
        ),
        ("Exchange ActiveSync", LegacyAuth, "Exchange ActiveSync"),
        ("IMAP4", LegacyAuth, "IMAP4"),
        ("imap4", LegacyAuth, "IMAP4"),
        ("POP3", LegacyAuth, "POP3"),
        ("Authenticated SMTP", LegacyAuth, "Authenticated SMTP"),
        ("Other clients", LegacyAuth, "Other clients"),
        ("Exchange Web Services", LegacyAuth, "Exchange Web Services"),
        ("MAPI Over HTTP", LegacyAuth, "MAPI Over HTTP"),
        ("Offline Address Book", LegacyAuth, "Offline Address Book"),
        ("AutoDiscover", LegacyAuth, "AutoDiscover"),
        (
            "Exchange Online PowerShell",
            LegacyAuth,
            "Exchange Online PowerShell",
        ),
        (
            "Outlook Anywhere (RPC over HTTP)",
            LegacyAuth,
            "Outlook Anywhere (RPC over HTTP)",
        ),
        ("Universal Outlook", LegacyAuth, "Universal Outlook"),
        (" Other clients; IMAP ", LegacyAuth, "IMAP4"),
    ];
    for &(app, class, family) in cases {
        let got = e.classify_client_app(app);
        assert_eq!(
            got.as_ref().map(|(c, f)| (*c, &**f)),
            Some((class, family)),
            "{app:?}"
        );
    }
    assert_eq!(e.classify_client_app(""), None);
    assert_eq!(e.classify_client_app("Something new"), None);
}
