//! Text helpers for the hot path of normalising. Each gives exactly what the standard library
//! call it replaces gives (property tests hold them to it); they only skip work on the ASCII
//! text that nearly every field of a Microsoft 365 record holds.

/// [`str::trim`], without decoding characters when both ends are printable ASCII: a dozen
/// fields of every record are trimmed, and the standard trim decodes a character at each end
/// and looks it up in the Unicode white-space table each time.
#[inline]
pub fn trim(s: &str) -> &str {
    match s.as_bytes() {
        [] => s,
        [first, .., last] if is_printable_ascii(*first) && is_printable_ascii(*last) => s,
        [only] if is_printable_ascii(*only) => s,
        _ => s.trim(),
    }
}

/// Whether the text is empty or white space only, as `s.trim().is_empty()`.
#[inline]
pub fn is_blank(s: &str) -> bool {
    trim(s).is_empty()
}

/// `s.trim_matches(|c| set.contains(c))` for a set of ASCII characters, byte by byte (an
/// ASCII byte in UTF-8 is always that character, so the cut is on a character boundary).
#[inline]
pub fn trim_ascii_set<'s>(s: &'s str, set: &[u8]) -> &'s str {
    debug_assert!(set.is_ascii());
    let b = s.as_bytes();
    let start = b.iter().position(|c| !set.contains(c)).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !set.contains(c))
        .map_or(start, |i| i + 1);
    &s[start..end]
}

/// A byte that is an ASCII character and not white space (nor a control character, which
/// take the general path).
#[inline]
fn is_printable_ascii(b: u8) -> bool {
    b > b' ' && b < 0x7f
}

/// Whether the text holds a white-space character, as `s.contains(char::is_whitespace)`.
/// White space is a byte at or below the space or part of a multi-byte character; text with
/// neither (nearly all) is cleared 16 bytes at a time without a branch per byte, and only
/// the rest is searched character by character.
pub fn has_whitespace(s: &str) -> bool {
    let suspect = s.as_bytes().chunks(16).any(|chunk| {
        chunk
            .iter()
            .fold(false, |any, &b| any | (b <= b' ') | (b >= 0x80))
    });
    suspect && s.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Text drawn from the characters that matter here: ASCII white space and controls, quotes,
    /// letters, and multi-byte characters that are (U+00A0, U+3000, U+2028) and are not (é, 漢)
    /// white space.
    fn mixed_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just(' '),
                Just('\t'),
                Just('\u{0B}'),
                Just('\u{1C}'),
                Just('\r'),
                Just('\n'),
                Just('\u{7f}'),
                Just('"'),
                Just('a'),
                Just('Z'),
                Just('@'),
                Just('\u{A0}'),
                Just('\u{3000}'),
                Just('\u{2028}'),
                Just('\u{85}'),
                Just('é'),
                Just('漢'),
            ],
            0..12,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #[test]
        fn trim_is_the_standard_trim(s in mixed_text()) {
            prop_assert_eq!(trim(&s), s.trim());
            prop_assert_eq!(is_blank(&s), s.trim().is_empty());
        }

        #[test]
        fn has_whitespace_is_the_standard_search(s in mixed_text()) {
            prop_assert_eq!(has_whitespace(&s), s.contains(char::is_whitespace));
        }

        #[test]
        fn trim_ascii_set_is_the_standard_trim_matches(s in mixed_text()) {
            let set = [b'"', b'@', b' '];
            prop_assert_eq!(trim_ascii_set(&s, &set), s.trim_matches(|c| matches!(c, '"' | '@' | ' ')));
        }

        #[test]
        fn trim_is_the_standard_trim_on_any_text(s in "\\PC*") {
            prop_assert_eq!(trim(&s), s.trim());
        }
    }

    #[test]
    fn trims_what_the_standard_trim_trims() {
        assert_eq!(trim("  a b  "), "a b");
        assert_eq!(trim("a"), "a");
        assert_eq!(trim(" "), "");
        assert_eq!(trim("\u{3000}x\u{A0}"), "x");
        assert_eq!(trim("x\u{0B}"), "x");
        assert!(is_blank(" \t\r\n"));
        assert!(!is_blank(" x "));
        assert!(has_whitespace("bob @example.com"));
        assert!(has_whitespace("é\u{A0}"));
        assert!(!has_whitespace("bob@example.com"));
    }
}
