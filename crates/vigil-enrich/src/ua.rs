//! User-agent and client-app classification.
//!
//! `RULES` is an ordered table; the first rule that matches the lower-cased user agent decides
//! its class and family. The order matters and is, from the top:
//!
//! 1. legacy basic-authentication markers (`BAV2ROPC`, `CBAInPROD`);
//! 2. attack and reconnaissance tools that name themselves (AADInternals, ROADtools, ...);
//! 3. known mail and Office clients, some of which embed a browser engine and so also carry
//!    `Mozilla/5.0 ... Chrome/... Safari/...` (Teams, new Outlook);
//! 4. scripting languages, HTTP libraries and command-line tools, some of which also start with
//!    `Mozilla/5.0` (Windows PowerShell);
//! 5. browsers, told apart by their own tokens (Edge before Chrome before Safari);
//! 6. anything else: [`UaClass::Unknown`], with the first product token as the family.

use std::sync::Arc;

use vigil_event::UaClass;

/// How one pattern is matched against the lower-cased user agent.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Pat {
    Contains(&'static str),
    Prefix(&'static str),
    Exact(&'static str),
}

impl Pat {
    fn matches(self, ua: &str) -> bool {
        match self {
            Pat::Contains(p) => ua.contains(p),
            Pat::Prefix(p) => ua.starts_with(p),
            Pat::Exact(p) => ua == p,
        }
    }

    #[cfg(test)]
    fn text(self) -> &'static str {
        match self {
            Pat::Contains(p) | Pat::Prefix(p) | Pat::Exact(p) => p,
        }
    }
}

/// The class a rule gives.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Class {
    Is(UaClass),
    /// [`UaClass::MobileClient`] when the user agent names a phone or tablet platform, this class
    /// otherwise (Teams, Office and OneDrive ship on both).
    MobileOr(UaClass),
}

#[derive(Debug)]
pub(crate) struct Rule {
    /// At least one of these must match (an empty list always matches).
    pub any: &'static [Pat],
    /// All of these must match as well.
    pub all: &'static [Pat],
    pub class: Class,
    pub family: &'static str,
}

use Class::{Is, MobileOr};
use Pat::{Contains as C, Exact as E, Prefix as P};
use UaClass::{Automation, Browser, DesktopClient, LegacyAuth, MobileClient};

const fn r(any: &'static [Pat], class: Class, family: &'static str) -> Rule {
    Rule {
        any,
        all: &[],
        class,
        family,
    }
}

const fn r2(any: &'static [Pat], all: &'static [Pat], class: Class, family: &'static str) -> Rule {
    Rule {
        any,
        all,
        class,
        family,
    }
}

/// Tokens of phone and tablet platforms.
const MOBILE_MARKERS: &[&str] = &[
    "iphone",
    "ipad",
    "ipod",
    "android",
    "ios/",
    "ios ",
    "(ios",
    "ipados",
    "windows phone",
    "mobile",
];

const MOZILLA: &[Pat] = &[P("mozilla/")];

/// The classification table. Every pattern is lower case (a test checks it).
pub(crate) const RULES: &[Rule] = &[
    // 1. Legacy authentication.
    r(&[C("bav2ropc")], Is(LegacyAuth), "BAV2ROPC"),
    r(&[C("cbainprod")], Is(LegacyAuth), "CBAInPROD"),
    // 2. Tools that announce themselves.
    r(&[C("aadinternals")], Is(Automation), "AADInternals"),
    r(
        &[C("roadtools"), C("roadrecon"), C("roadtx"), C("roadlib")],
        Is(Automation),
        "ROADtools",
    ),
    r(&[C("tokentactics")], Is(Automation), "TokenTactics"),
    r(&[C("graphrunner")], Is(Automation), "GraphRunner"),
    r(&[C("teamfiltration")], Is(Automation), "TeamFiltration"),
    r(&[C("msolspray")], Is(Automation), "MSOLSpray"),
    // 3. Mail and Office clients.
    r(
        &[C("outlook-ios"), C("outlook-android")],
        Is(MobileClient),
        "Outlook Mobile",
    ),
    r(
        &[C("microsoft outlook"), C("macoutlook"), C("oneoutlook")],
        Is(DesktopClient),
        "Outlook",
    ),
    r(&[C("microsoft word")], MobileOr(DesktopClient), "Word"),
    r(&[C("microsoft excel")], MobileOr(DesktopClient), "Excel"),
    r(
        &[C("microsoft powerpoint")],
        MobileOr(DesktopClient),
        "PowerPoint",
    ),
    r(
        &[C("microsoft onenote")],
        MobileOr(DesktopClient),
        "OneNote",
    ),
    r(
        &[C("microsoft office")],
        MobileOr(DesktopClient),
        "Microsoft Office",
    ),
    r(&[C("teamsmobile")], Is(MobileClient), "Teams"),
    r(
        &[
            C("teams/"),
            C("msteams"),
            C("microsoftteams"),
            C("microsoft teams"),
        ],
        MobileOr(DesktopClient),
        "Teams",
    ),
    r(
        &[C("onedrivesync"), C("skydrivesync")],
        Is(DesktopClient),
        "OneDrive",
    ),
    r(&[C("onedriveiosapp")], Is(MobileClient), "OneDrive"),
    r(&[C("onedrive")], MobileOr(DesktopClient), "OneDrive"),
    r(
        &[C("authenticator"), C("phonefactor")],
        Is(MobileClient),
        "Microsoft Authenticator",
    ),
    r(
        &[C("windows-azuread-authentication-provider")],
        Is(DesktopClient),
        "Windows Sign-In",
    ),
    r(
        &[C("skype for business"), C("microsoft lync")],
        Is(DesktopClient),
        "Skype for Business",
    ),
    r(&[C("thunderbird")], Is(DesktopClient), "Thunderbird"),
    r(&[C("em client")], Is(DesktopClient), "eM Client"),
    r(&[C("mailbird")], Is(DesktopClient), "Mailbird"),
    r(&[C("postbox")], Is(DesktopClient), "Postbox"),
    r(&[P("evolution/")], Is(DesktopClient), "Evolution"),
    r(&[C("k-9 mail"), C("k9mail")], Is(MobileClient), "K-9 Mail"),
    r(&[C("fairemail")], Is(MobileClient), "FairEmail"),
    r(&[C("bluemail")], MobileOr(DesktopClient), "BlueMail"),
    // Apple: native Mail, Calendar and account set-up (Internet Accounts) on iOS and macOS.
    r(&[C("apple mail")], Is(DesktopClient), "Apple Mail"),
    r2(
        &[C("mac os x"), C("macos"), C("macintosh")],
        &[C("mail/")],
        Is(DesktopClient),
        "Apple Mail",
    ),
    r2(
        &[C("mac os x"), C("macos")],
        &[C("exchangewebservices")],
        Is(DesktopClient),
        "Apple Mail",
    ),
    r2(
        &[C("mac os x"), C("macos")],
        &[C("accountsd")],
        Is(DesktopClient),
        "macOS Accounts",
    ),
    r(&[C("accountsd")], Is(MobileClient), "iOS Accounts"),
    r(
        &[
            C("dataaccessd"),
            C("apple-iphone"),
            C("apple-ipad"),
            C("apple-ipod"),
        ],
        Is(MobileClient),
        "iOS Mail",
    ),
    r(
        &[C("exchangeservicesclient")],
        MobileOr(DesktopClient),
        "Apple Mail",
    ),
    r(
        &[C("android-mail"), C("androidmail")],
        Is(MobileClient),
        "Android Mail",
    ),
    r(&[C("android-gmail")], Is(MobileClient), "Gmail"),
    r(
        &[C("samsung-sm-"), C("samsungemail")],
        Is(MobileClient),
        "Samsung Email",
    ),
    // 4. Scripting, SDKs and command-line tools.
    r(&[C("azurepowershell")], Is(Automation), "Azure PowerShell"),
    r(&[C("powershell")], Is(Automation), "PowerShell"),
    r(
        &[C("azurecli"), C("azure-cli")],
        Is(Automation),
        "Azure CLI",
    ),
    r(&[C("msal.python")], Is(Automation), "MSAL.Python"),
    r(&[C("msal.net")], Is(Automation), "MSAL.NET"),
    r(&[C("msal4j"), C("msal.java")], Is(Automation), "MSAL4J"),
    r(
        &[C("msal-node"), C("msal.node")],
        Is(Automation),
        "MSAL Node",
    ),
    r(&[C("python-requests")], Is(Automation), "python-requests"),
    r(&[C("python-urllib")], Is(Automation), "python-urllib"),
    r(&[C("python-httpx")], Is(Automation), "python-httpx"),
    r(&[C("aiohttp")], Is(Automation), "aiohttp"),
    r(&[P("python/"), E("python")], Is(Automation), "Python"),
    r(&[P("curl/"), E("curl")], Is(Automation), "curl"),
    r(&[P("wget/"), E("wget")], Is(Automation), "Wget"),
    r(&[C("go-http-client")], Is(Automation), "Go-http-client"),
    r(&[P("axios/"), E("axios")], Is(Automation), "axios"),
    r(&[C("okhttp")], Is(Automation), "okhttp"),
    r(
        &[C("apache-httpclient")],
        Is(Automation),
        "Apache-HttpClient",
    ),
    r(
        &[P("java/"), C(" java/"), E("java")],
        Is(Automation),
        "Java",
    ),
    r(&[C("libwww-perl")], Is(Automation), "libwww-perl"),
    r(&[C("postmanruntime")], Is(Automation), "PostmanRuntime"),
    r(&[C("insomnia/")], Is(Automation), "Insomnia"),
    r(
        &[C("node-fetch"), P("undici"), E("node")],
        Is(Automation),
        "Node.js",
    ),
    r(&[P("httpie/")], Is(Automation), "HTTPie"),
    r(&[C("restsharp")], Is(Automation), "RestSharp"),
    r(&[C("guzzlehttp")], Is(Automation), "Guzzle"),
    r(&[C("faraday v"), E("ruby")], Is(Automation), "Ruby"),
    r(
        &[C("zgrab"), C("masscan"), C("nmap")],
        Is(Automation),
        "Scanner",
    ),
    // 5. Browsers (phones and tablets included: the class is the kind of software, not device).
    r2(
        &[C("edg/"), C("edga/"), C("edgios/"), C("edge/")],
        MOZILLA,
        Is(Browser),
        "Edge",
    ),
    r(&[C("opr/"), P("opera/"), C("opera ")], Is(Browser), "Opera"),
    r2(
        &[C("samsungbrowser/")],
        MOZILLA,
        Is(Browser),
        "Samsung Internet",
    ),
    r2(&[C("yabrowser/")], MOZILLA, Is(Browser), "Yandex Browser"),
    r2(&[C("vivaldi/")], MOZILLA, Is(Browser), "Vivaldi"),
    r2(
        &[C("firefox/"), C("fxios/")],
        MOZILLA,
        Is(Browser),
        "Firefox",
    ),
    r2(
        &[C("crios/"), C("chrome/"), C("chromium/")],
        MOZILLA,
        Is(Browser),
        "Chrome",
    ),
    r2(
        &[C("msie "), C("trident/")],
        MOZILLA,
        Is(Browser),
        "Internet Explorer",
    ),
    r2(
        &[C("safari/"), C("applewebkit/")],
        MOZILLA,
        Is(Browser),
        "Safari",
    ),
    r2(&[C("gecko")], MOZILLA, Is(Browser), "Other Browser"),
];

/// Longest user agent examined; longer ones are cut (on a character boundary).
const MAX_UA_LEN: usize = 2048;

/// Pre-built families, so classification hands out shared strings.
pub(crate) struct UaTable {
    families: Vec<Arc<str>>,
    unknown: Arc<str>,
    mozilla: Arc<str>,
}

impl UaTable {
    pub(crate) fn new() -> UaTable {
        UaTable {
            families: RULES.iter().map(|r| Arc::from(r.family)).collect(),
            unknown: Arc::from("Unknown"),
            mozilla: Arc::from("Mozilla"),
        }
    }

    /// Classifies one user agent (uncached).
    pub(crate) fn classify(&self, ua: &str) -> (UaClass, Arc<str>) {
        let ua = vigil_event::text::trim(ua);
        if ua.is_empty() {
            return (UaClass::Unknown, self.unknown.clone());
        }
        let mut cut = ua.len().min(MAX_UA_LEN);
        while !ua.is_char_boundary(cut) {
            cut -= 1;
        }
        let lower = ua[..cut].to_lowercase();
        for (rule, family) in RULES.iter().zip(&self.families) {
            let any = rule.any.is_empty() || rule.any.iter().any(|p| p.matches(&lower));
            if any && rule.all.iter().all(|p| p.matches(&lower)) {
                let class = match rule.class {
                    Is(c) => c,
                    MobileOr(c) => {
                        if MOBILE_MARKERS.iter().any(|m| lower.contains(m)) {
                            UaClass::MobileClient
                        } else {
                            c
                        }
                    }
                };
                return (class, family.clone());
            }
        }
        if lower.starts_with("mozilla/") {
            return (UaClass::Unknown, self.mozilla.clone());
        }
        (
            UaClass::Unknown,
            product_token(ua).unwrap_or_else(|| self.unknown.clone()),
        )
    }
}

/// The first product name of a user agent (`SomeApp` in `SomeApp/1.2 (...)`), when it is a
/// plausible name.
fn product_token(ua: &str) -> Option<Arc<str>> {
    let token = ua
        .split(|c: char| c == '/' || c == '(' || c == ';' || c.is_whitespace())
        .next()?;
    let plausible = !token.is_empty()
        && token.len() <= 40
        && token.bytes().any(|b| b.is_ascii_alphabetic())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+'));
    plausible.then(|| Arc::from(token))
}

/// Entra ID `clientAppUsed` values and what they mean.
///
/// Every value other than "Browser" and "Mobile Apps and Desktop clients" is a legacy
/// authentication protocol, to which multi-factor authentication does not apply (Microsoft's
/// "legacy authentication clients" in Conditional Access).
pub(crate) const CLIENT_APPS: &[(&str, UaClass)] = &[
    ("Browser", UaClass::Browser),
    // Modern authentication from any installed app: cannot tell desktop from mobile here.
    ("Mobile Apps and Desktop clients", UaClass::DesktopClient),
    ("Exchange ActiveSync", UaClass::LegacyAuth),
    ("IMAP4", UaClass::LegacyAuth),
    ("POP3", UaClass::LegacyAuth),
    ("Authenticated SMTP", UaClass::LegacyAuth),
    ("Other clients", UaClass::LegacyAuth),
    ("Exchange Web Services", UaClass::LegacyAuth),
    ("MAPI Over HTTP", UaClass::LegacyAuth),
    ("Offline Address Book", UaClass::LegacyAuth),
    ("AutoDiscover", UaClass::LegacyAuth),
    ("Exchange Online PowerShell", UaClass::LegacyAuth),
    ("Outlook Anywhere (RPC over HTTP)", UaClass::LegacyAuth),
    ("Universal Outlook", UaClass::LegacyAuth),
    ("Reporting Web Services", UaClass::LegacyAuth),
];

/// Older spellings ("Other clients; IMAP") and close variants, mapped to [`CLIENT_APPS`] names.
const CLIENT_APP_ALIASES: &[(&str, &str)] = &[
    ("other clients; imap", "IMAP4"),
    ("other clients; imap4", "IMAP4"),
    ("other clients; pop", "POP3"),
    ("other clients; pop3", "POP3"),
    ("other clients; smtp", "Authenticated SMTP"),
    ("other clients; older office clients", "Other clients"),
    ("imap", "IMAP4"),
    ("pop", "POP3"),
    ("smtp", "Authenticated SMTP"),
    ("activesync", "Exchange ActiveSync"),
    ("ews", "Exchange Web Services"),
    ("mapi over http", "MAPI Over HTTP"),
    ("outlook anywhere", "Outlook Anywhere (RPC over HTTP)"),
    (
        "mobile apps and desktop clients",
        "Mobile Apps and Desktop clients",
    ),
];

pub(crate) struct ClientAppTable {
    entries: Vec<(&'static str, UaClass, Arc<str>)>,
}

impl ClientAppTable {
    pub(crate) fn new() -> ClientAppTable {
        ClientAppTable {
            entries: CLIENT_APPS
                .iter()
                .map(|&(name, class)| (name, class, Arc::from(name)))
                .collect(),
        }
    }

    pub(crate) fn classify(&self, value: &str) -> Option<(UaClass, Arc<str>)> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        let find = |name: &str| {
            self.entries
                .iter()
                .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, class, family)| (*class, family.clone()))
        };
        if let Some(hit) = find(value) {
            return Some(hit);
        }
        if let Some((_, canonical)) = CLIENT_APP_ALIASES
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(value))
        {
            return find(canonical);
        }
        // Any other "Other clients; ..." variant is still legacy authentication.
        if value.len() >= 13
            && value.is_char_boundary(13)
            && value[..13].eq_ignore_ascii_case("other clients")
        {
            return find("Other clients");
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_patterns_are_lower_case_and_non_empty() {
        for rule in RULES {
            assert!(
                !rule.any.is_empty() || !rule.all.is_empty(),
                "{} matches everything",
                rule.family
            );
            for p in rule.any.iter().chain(rule.all) {
                let t = p.text();
                assert!(!t.is_empty(), "{}: empty pattern", rule.family);
                assert_eq!(
                    t,
                    t.to_lowercase(),
                    "{}: pattern {t:?} has capitals",
                    rule.family
                );
            }
        }
        for m in MOBILE_MARKERS {
            assert_eq!(*m, m.to_lowercase());
        }
    }

    #[test]
    fn product_tokens() {
        assert_eq!(product_token("SomeApp/1.2 (x)").as_deref(), Some("SomeApp"));
        assert_eq!(product_token("12345"), None);
        assert_eq!(product_token("/1.0"), None);
        assert_eq!(product_token("a<script>"), None);
    }

    #[test]
    fn client_app_aliases_resolve() {
        let t = ClientAppTable::new();
        assert_eq!(
            t.classify("Other clients; IMAP")
                .map(|(c, f)| (c, f.to_string())),
            Some((UaClass::LegacyAuth, "IMAP4".to_string()))
        );
        assert_eq!(
            t.classify("Other clients; something new")
                .map(|(c, f)| (c, f.to_string())),
            Some((UaClass::LegacyAuth, "Other clients".to_string()))
        );
        assert_eq!(t.classify("   "), None);
        assert_eq!(t.classify("Carrier pigeon"), None);
        for (alias, canonical) in CLIENT_APP_ALIASES {
            let (_, family) = t.classify(alias).unwrap();
            assert_eq!(&*family, *canonical);
        }
    }
}
