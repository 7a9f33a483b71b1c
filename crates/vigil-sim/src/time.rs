//! Millisecond timestamps and the exact text forms each log uses.

use std::fmt::Write;

use chrono::{DateTime, Utc};

pub(crate) const SECOND_MS: i64 = 1000;
pub(crate) const MINUTE: i64 = 60_000;
pub(crate) const HOUR: i64 = 3_600_000;
pub(crate) const DAY: i64 = 86_400_000;

/// (year, month, day) from days since 1970-01-01 (proleptic Gregorian).
pub(crate) fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

pub(crate) fn year_of(ms: i64) -> i32 {
    civil_from_days(ms.div_euclid(DAY)).0
}

fn parts(ms: i64) -> (i32, u32, u32, i64, i64, i64, i64) {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY));
    let rem = ms.rem_euclid(DAY);
    (
        y,
        m,
        d,
        rem / HOUR,
        (rem / MINUTE) % 60,
        (rem / 1000) % 60,
        rem % 1000,
    )
}

/// `2022-02-01T04:55:51` (Management Activity API CreationTime: no zone).
pub(crate) fn push_audit(out: &mut String, ms: i64) {
    let (y, mo, d, h, mi, s, _) = parts(ms);
    let _ = write!(out, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
}

/// `2022-02-01T04:55:51Z` (Graph).
pub(crate) fn push_graph(out: &mut String, ms: i64) {
    push_audit(out, ms);
    out.push('Z');
}

/// `2022-02-01T04:55:51.1234567Z` (Azure Monitor): seven fractional digits.
pub(crate) fn push_hub(out: &mut String, ms: i64, sub_ms_ticks: u32) {
    let (y, mo, d, h, mi, s, milli) = parts(ms);
    let _ = write!(
        out,
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}{:04}Z",
        sub_ms_ticks % 10_000
    );
}

/// `20220201`.
pub(crate) fn ymd(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY));
    format!("{y:04}{m:02}{d:02}")
}

#[cfg(test)]
pub(crate) fn audit_string(ms: i64) -> String {
    let mut s = String::with_capacity(20);
    push_audit(&mut s, ms);
    s
}

pub(crate) fn graph_string(ms: i64) -> String {
    let mut s = String::with_capacity(21);
    push_graph(&mut s, ms);
    s
}

pub(crate) fn to_datetime(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).expect("timestamp in range")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_chrono() {
        for ms in [
            0i64,
            1_643_691_351_000,
            1_643_691_351_327,
            951_782_400_000,
            4_102_444_799_999,
        ] {
            let dt = to_datetime(ms);
            assert_eq!(audit_string(ms), dt.format("%Y-%m-%dT%H:%M:%S").to_string());
            assert_eq!(
                graph_string(ms),
                dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            );
            assert_eq!(ymd(ms), dt.format("%Y%m%d").to_string());
        }
        let mut s = String::new();
        push_hub(&mut s, 1_643_691_351_327, 4567);
        assert_eq!(s, "2022-02-01T04:55:51.3274567Z");
    }
}
