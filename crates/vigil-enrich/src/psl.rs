//! Registrable domains ("eTLD+1") from the Public Suffix List.
//!
//! # Which sections of the list
//!
//! Vigil uses the whole list, ICANN **and** private sections, as browsers do and as the list's own
//! test cases expect. The private section names platforms where anyone can take a subdomain
//! (`blogspot.com`, `github.io`, `azurewebsites.net`, `web.app`, `workers.dev`, ...). Whoever
//! controls `evil.github.io` does not control `github.io`, so for "is this forwarding target
//! outside the organisation" and "first time we see this domain" questions, the owner boundary is
//! `evil.github.io`; collapsing it to `github.io` would merge unrelated owners and turn an allow
//! list entry for one site into an allow list entry for the whole platform.
//!
//! On top of the list, Vigil treats the Microsoft 365 tenant domains as public suffixes
//! ([`TENANT_SUFFIXES`]): `contoso.onmicrosoft.com` and `contoso.sharepoint.com` belong to the
//! Contoso tenant, not to Microsoft, and mail forwarded to `attacker@evil.onmicrosoft.com` must not
//! look like it stays in the victim's own `victim.onmicrosoft.com`.
//!
//! # Output form
//!
//! Domains come back in lower-case ASCII; internationalised names in punycode (`bücher.example`
//! and `xn--bcher-kva.example` both give `xn--bcher-kva.example`), so that equal domains compare
//! equal and look-alike characters cannot hide in them.

use std::sync::{Arc, OnceLock};

use publicsuffix::{List, Psl};

/// The vendored list (third_party/publicsuffix, MPL-2.0), used unless configured otherwise.
pub(crate) const EMBEDDED_LIST: &str =
    include_str!("../../../third_party/publicsuffix/public_suffix_list.dat");

/// Microsoft 365 domains under which every tenant gets its own subdomain; appended to the list as
/// private-section rules.
pub const TENANT_SUFFIXES: &[&str] = &[
    "onmicrosoft.com",
    "mail.onmicrosoft.com",
    "onmicrosoft.us",
    "mail.onmicrosoft.us",
    "onmschina.cn",
    "sharepoint.com",
    "sharepoint.us",
    "sharepoint-mil.us",
    "sharepoint.cn",
];

/// Parses a list in the publicsuffix.org format and adds [`TENANT_SUFFIXES`].
pub(crate) fn parse_list(text: &str) -> Result<List, String> {
    // The parser ignores rules outside the section markers, so a file without them would
    // silently come out empty.
    if !text.contains("===BEGIN ICANN DOMAINS===") {
        return Err("no \"===BEGIN ICANN DOMAINS===\" section marker".to_string());
    }
    let mut full = String::with_capacity(text.len() + 256);
    full.push_str(text);
    full.push_str("\n// ===BEGIN PRIVATE DOMAINS===\n// Vigil: Microsoft 365 tenant domains\n");
    for suffix in TENANT_SUFFIXES {
        full.push_str(suffix);
        full.push('\n');
    }
    full.push_str("// ===END PRIVATE DOMAINS===\n");
    full.parse().map_err(|e: publicsuffix::Error| e.to_string())
}

/// The embedded list, parsed once per process.
pub(crate) fn embedded_list() -> Arc<List> {
    static LIST: OnceLock<Arc<List>> = OnceLock::new();
    LIST.get_or_init(|| {
        // The embedded file is checked by the tests; a failure here is a build defect.
        Arc::new(parse_list(EMBEDDED_LIST).unwrap_or_default())
    })
    .clone()
}

/// A set of bytes as a table: one lookup per byte rather than one comparison per member.
type ByteSet = [bool; 256];

const fn byte_set(members: &[u8]) -> ByteSet {
    let mut set = [false; 256];
    let mut i = 0;
    while i < members.len() {
        set[members[i] as usize] = true;
        i += 1;
    }
    set
}

/// What ends the host of a URL or bare host name, and of an e-mail address.
const URL_HOST_END: ByteSet = byte_set(b"/?#\\");
const ADDRESS_HOST_END: ByteSet = byte_set(b"/?#>;,");

/// Finds the host in an e-mail address, URL or bare host name. Returns `None` for IP literals.
///
/// Runs for every event with an account and for every address in a message, so it searches
/// bytes: every delimiter it looks for is ASCII, so a byte position is a character boundary.
pub(crate) fn extract_host(input: &str) -> Option<&str> {
    let s = vigil_event::text::trim_ascii_set(vigil_event::text::trim(input), b"<>\"'");
    let s = vigil_event::text::trim(s);
    let position = |text: &str, ends: &ByteSet| {
        text.bytes()
            .position(|b| ends[usize::from(b)])
            .unwrap_or(text.len())
    };
    // Most inputs are addresses, with no colon at all: then there is neither a scheme nor a
    // port to look for.
    let has_colon = memchr::memchr(b':', s.as_bytes()).is_some();
    let scheme_end = has_colon
        .then(|| {
            memchr::memchr_iter(b':', s.as_bytes())
                .find(|&i| s.as_bytes().get(i + 1..i + 3) == Some(b"//"))
        })
        .flatten();
    let authority = if let Some(i) = scheme_end {
        let rest = &s[i + 3..];
        let authority = &rest[..position(rest, &URL_HOST_END)];
        // Strip user information (`user:password@`).
        match memchr::memrchr(b'@', authority.as_bytes()) {
            Some(at) => &authority[at + 1..],
            None => authority,
        }
    } else if let Some(at) = memchr::memrchr(b'@', s.as_bytes()) {
        let host = &s[at + 1..];
        &host[..position(host, &ADDRESS_HOST_END)]
    } else {
        &s[..position(s, &URL_HOST_END)]
    };
    if authority.starts_with('[') {
        return None; // [IPv6] literal
    }
    let colon = has_colon
        .then(|| memchr::memchr(b':', authority.as_bytes()))
        .flatten();
    let host = match colon {
        Some(colon) => {
            let port = &authority[colon + 1..];
            if port.bytes().all(|b| b.is_ascii_digit()) {
                &authority[..colon]
            } else {
                return None; // a bare IPv6 address, or junk
            }
        }
        None => authority,
    };
    let host = host.strip_suffix('.').unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

/// Lower-case ASCII (punycode) form of a host name, or `None` when it is not a valid DNS name
/// or is an IP address.
pub(crate) fn normalise_host(host: &str) -> Option<String> {
    if host.len() > 1024 {
        return None;
    }
    let needs_idna = !host.is_ascii()
        || host
            .split('.')
            .any(|label| label.len() >= 4 && label[..4].eq_ignore_ascii_case("xn--"));
    let ascii = if needs_idna {
        idna::domain_to_ascii(host).ok()?
    } else {
        host.to_ascii_lowercase()
    };
    if ascii.is_empty() || ascii.len() > 253 {
        return None;
    }
    let mut last = "";
    for label in ascii.split('.') {
        if label.is_empty()
            || label.len() > 63
            || label.starts_with('-')
            || label.ends_with('-')
            || !label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return None;
        }
        last = label;
    }
    // A numeric top label means an IPv4 address (or a mistyped one); no TLD is all digits.
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(ascii)
}

/// Registrable domain of a normalised host.
pub(crate) fn registrable(list: &List, host: &str) -> Option<Arc<str>> {
    let domain = list.domain(host.as_bytes())?;
    let text = std::str::from_utf8(domain.as_bytes()).ok()?;
    Some(Arc::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_list_parses_and_has_both_sections() {
        assert!(parse_list(EMBEDDED_LIST).is_ok());
        let list = embedded_list();
        assert!(!list.is_empty());
        assert_eq!(
            registrable(&list, "a.b.example.co.uk").as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(
            registrable(&list, "foo.blogspot.com").as_deref(),
            Some("foo.blogspot.com")
        );
        assert_eq!(
            registrable(&list, "x.contoso.sharepoint.com").as_deref(),
            Some("contoso.sharepoint.com")
        );
        assert_eq!(registrable(&list, "co.uk"), None);
    }

    #[test]
    fn host_extraction() {
        assert_eq!(
            extract_host("bob@mail.example.co.uk"),
            Some("mail.example.co.uk")
        );
        assert_eq!(
            extract_host("https://user:pw@x.spikenow.com:8443/a?b#c"),
            Some("x.spikenow.com")
        );
        assert_eq!(extract_host("<bob@example.com>"), Some("example.com"));
        assert_eq!(extract_host("example.com."), Some("example.com"));
        assert_eq!(extract_host("example.com:25"), Some("example.com"));
        assert_eq!(extract_host("http://[2001:db8::1]:80/"), None);
        assert_eq!(extract_host("2001:db8::1"), None);
        assert_eq!(extract_host(""), None);
        assert_eq!(extract_host("https://"), None);
        // Colons in every position the one up-front search must not miss.
        assert_eq!(extract_host("bob@example.com:25"), Some("example.com"));
        assert_eq!(extract_host("a:b@example.com"), Some("example.com"));
        assert_eq!(extract_host("mailto:bob@example.com"), Some("example.com"));
        assert_eq!(
            extract_host("x:y https://h.example.com/p"),
            Some("h.example.com")
        );
        assert_eq!(
            extract_host("note: see https://h.example.com/p"),
            Some("h.example.com")
        );
        assert_eq!(extract_host("https://h.example.com:x/"), None);
        assert_eq!(extract_host("bob@example.com"), Some("example.com"));
        assert_eq!(
            extract_host("host.example.com/path:1"),
            Some("host.example.com")
        );
    }

    #[test]
    fn host_normalisation() {
        assert_eq!(
            normalise_host("WWW.Example.COM").as_deref(),
            Some("www.example.com")
        );
        assert_eq!(
            normalise_host("Bücher.example").as_deref(),
            Some("xn--bcher-kva.example")
        );
        assert_eq!(
            normalise_host("XN--BCHER-KVA.example").as_deref(),
            Some("xn--bcher-kva.example")
        );
        assert_eq!(normalise_host("xn--zz.com"), None);
        assert_eq!(normalise_host("a..b.com"), None);
        assert_eq!(normalise_host(".example.com"), None);
        assert_eq!(normalise_host("exa mple.com"), None);
        assert_eq!(normalise_host("-bad.com"), None);
        assert_eq!(normalise_host("1.2.3.4"), None);
        assert_eq!(normalise_host("1.2.3"), None);
        assert_eq!(
            normalise_host("_dmarc.example.com").as_deref(),
            Some("_dmarc.example.com")
        );
    }
}
