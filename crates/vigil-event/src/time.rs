//! Timestamps as Microsoft's logs write them.
//!
//! Seen in the wild: RFC 3339 with `Z` or an offset; no zone at all (Management Activity API
//! `CreationTime`, which is UTC); a space instead of `T`; 0 to 9 fractional digits (Entra writes
//! 7); and the Reporting Web Service's `/Date(1650000000000)/` with an optional `+0000` suffix.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::Timestamp;

/// Earliest and latest years accepted. Anything outside is an impossible timestamp for an
/// Office 365 log (Exchange writes 0001-01-01 for "never", for example).
const MIN_YEAR: i32 = 1990;
const MAX_YEAR: i32 = 2200;

/// Parses a timestamp in any of the shapes Microsoft 365 logs use. A value without a zone is UTC.
pub fn parse_timestamp(text: &str) -> Result<Timestamp, String> {
    let s = crate::text::trim(text);
    if let Some(rest) = s.strip_prefix("/Date(") {
        return parse_ms_date(rest, text);
    }
    parse_iso(s).ok_or_else(|| format!("cannot read {text:?} as a timestamp"))
}

fn parse_ms_date(rest: &str, original: &str) -> Result<Timestamp, String> {
    let body = rest
        .strip_suffix(")/")
        .ok_or_else(|| format!("unterminated /Date(...)/ in {original:?}"))?;
    // The offset suffix (+0100) only says which zone to display in; the number is UTC epoch ms.
    let digits_end = body
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map(|(i, _)| i)
        .unwrap_or(body.len());
    let millis: i64 = body[..digits_end]
        .parse()
        .map_err(|_| format!("bad milliseconds in {original:?}"))?;
    let ts = Utc
        .timestamp_millis_opt(millis)
        .single()
        .ok_or_else(|| format!("milliseconds out of range in {original:?}"))?;
    check_year(ts, original)
}

fn check_year(ts: Timestamp, original: &str) -> Result<Timestamp, String> {
    use chrono::Datelike;
    if (MIN_YEAR..=MAX_YEAR).contains(&ts.year()) {
        Ok(ts)
    } else {
        Err(format!(
            "impossible timestamp {original:?} (year outside {MIN_YEAR}..{MAX_YEAR})"
        ))
    }
}

fn digits(b: &[u8], from: usize, n: usize) -> Option<u32> {
    let slice = b.get(from..from + n)?;
    let mut v = 0u32;
    for &c in slice {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

fn parse_iso(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let year = digits(b, 0, 4)? as i32;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    if b.len() == 10 {
        let ts = Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?);
        return check_year(ts, s).ok();
    }
    if !matches!(b.get(10), Some(b'T') | Some(b't') | Some(b' ')) {
        return None;
    }
    let hour = digits(b, 11, 2)?;
    if b.get(13) != Some(&b':') {
        return None;
    }
    let minute = digits(b, 14, 2)?;
    let (second, mut i) = if b.get(16) == Some(&b':') {
        (digits(b, 17, 2)?, 19)
    } else {
        (0, 16)
    };
    let mut nanos = 0u32;
    if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return None;
        }
        for _ in n.min(9)..9 {
            nanos *= 10;
        }
    }
    // A leap second (:60) is folded into the next one's nanoseconds by chrono.
    let naive = date.and_hms_nano_opt(hour, minute, second.min(59), nanos)?;
    let offset_seconds: i64 = match &b[i..] {
        [] => 0,
        [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let rest_str = std::str::from_utf8(rest).ok()?;
            let (h, m) = match rest.len() {
                2 => (digits(rest, 0, 2)?, 0),
                4 => (digits(rest, 0, 2)?, digits(rest, 2, 2)?),
                5 if rest[2] == b':' => (digits(rest, 0, 2)?, digits(rest, 3, 2)?),
                _ => {
                    let _ = rest_str;
                    return None;
                }
            };
            if h > 23 || m > 59 {
                return None;
            }
            let total = i64::from(h * 3600 + m * 60);
            if *sign == b'+' {
                total
            } else {
                -total
            }
        }
        _ => return None,
    };
    let utc = Utc.from_utc_datetime(&naive);
    // Subtracting even a zero offset is date arithmetic in chrono; most logs write UTC.
    let utc = match offset_seconds {
        0 => utc,
        offset => utc - chrono::Duration::seconds(offset),
    };
    check_year(utc, s).ok()
}

/// Formats a timestamp as RFC 3339 in UTC with a `Z`, to the second unless it has a fraction.
pub fn to_rfc3339(ts: &Timestamp) -> String {
    ts.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// The Unix epoch, for defaults.
pub fn epoch() -> Timestamp {
    DateTime::<Utc>::UNIX_EPOCH
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(s: &str) -> String {
        to_rfc3339(&parse_timestamp(s).unwrap())
    }

    #[test]
    fn reads_every_shape_microsoft_writes() {
        assert_eq!(iso("2015-06-29T20:03:19"), "2015-06-29T20:03:19Z");
        assert_eq!(iso("2022-12-12 22:19:00"), "2022-12-12T22:19:00Z");
        assert_eq!(
            iso("2023-07-26 22:58:30.983201900"),
            "2023-07-26T22:58:30.983201900Z"
        );
        assert_eq!(
            iso("2025-01-15T09:30:25.1234567Z"),
            "2025-01-15T09:30:25.123456700Z"
        );
        assert_eq!(iso("2021-08-02T13:29:25.983Z"), "2021-08-02T13:29:25.983Z");
        assert_eq!(iso("2022-02-01T06:55:51+02:00"), "2022-02-01T04:55:51Z");
        assert_eq!(iso("2022-02-01T06:55:51+0200"), "2022-02-01T04:55:51Z");
        assert_eq!(iso("2022-02-01T01:55:51-03"), "2022-02-01T04:55:51Z");
        assert_eq!(iso("/Date(1643691351000)/"), "2022-02-01T04:55:51Z");
        assert_eq!(iso("/Date(1643691351000+0000)/"), "2022-02-01T04:55:51Z");
        assert_eq!(iso("2022-02-01"), "2022-02-01T00:00:00Z");
    }

    #[test]
    fn rejects_impossible_and_malformed_timestamps() {
        for bad in [
            "2022-02-30T00:00:00",
            "2022-13-01T00:00:00",
            "2022-01-01T25:00:00",
            "0001-01-01T00:00:00",
            "9999-12-31T23:59:59",
            "yesterday",
            "",
            "/Date(abc)/",
            "/Date(1643691351000",
            "2022-01-01T00:00:00+99:00",
            "2022-01-01T00:00:00.",
            "2022-01-01T00:00:00Zjunk",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
