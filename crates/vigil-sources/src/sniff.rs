//! A cheap guess at the event time of a file's first record, so that a replay can merge files
//! by event time without reading them first.
//!
//! The guess is the value of the first time-carrying key in the file's first 64 KiB. It only
//! decides when a file is opened during the merge: a wrong guess costs ordering quality
//! (records counted late), never records.
//!
//! A replay sniffs every file before it reads any, so this is on the ingest path: the head is
//! read (and, for gzip, inflated) a few KiB at a time and scanned once, stopping at the first
//! key, rather than read whole and searched once per key.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use vigil_event::Timestamp;

/// Keys that carry a record's event time, in the shapes Vigil reads.
const TIME_KEYS: &[&[u8]] = &[
    b"\"CreationTime\"",
    b"\"creationtime\"",
    b"\"createdDateTime\"",
    b"\"CreatedDateTime\"",
    b"\"activityDateTime\"",
    b"\"ActivityDateTime\"",
    b"\"Received\"",
    b"\"receivedDateTime\"",
    b"\"TimeGenerated\"",
    b"\"time\"",
];

/// How much of a file's head is searched.
const SNIFF_BYTES: usize = 1 << 16;

/// How much more of the head is read when what was read so far settles nothing.
const STEP: u64 = 4 << 10;

/// The event time of a file's first record, from its first [`SNIFF_BYTES`] (decompressed);
/// `None` when the file cannot be read or no time is found there.
pub fn sniff_first_time(path: &Path) -> Option<Timestamp> {
    let reader = crate::decompressed(Box::new(File::open(path).ok()?));
    let mut head = reader.take(SNIFF_BYTES as u64);
    let mut buf = Vec::with_capacity(STEP as usize);
    loop {
        let read = (&mut head).take(STEP).read_to_end(&mut buf).ok()?;
        // A short read is the end of the file (or of the part searched).
        let complete = read < STEP as usize || buf.len() >= SNIFF_BYTES;
        match first_time_in(&buf, complete) {
            Sniffed::Time(t) => return t,
            Sniffed::NeedMore if !complete => continue,
            Sniffed::NeedMore => return None,
        }
    }
}

/// What a prefix of the head tells.
#[derive(Debug, PartialEq)]
enum Sniffed {
    /// Settled: the first key's time, or `None` when its value is not a readable time.
    Time(Option<Timestamp>),
    /// The prefix settles nothing yet.
    NeedMore,
}

/// The time the first key in `head` carries. With `complete` false, `head` is a prefix of the
/// bytes to search and the answer is given only when no longer prefix could change it. A key
/// cut off by the end of the prefix is the last candidate in it (keys hold quotes only at their
/// ends, so no later quote starts another), so the first key found whole is the first key; its
/// value is accepted only once it is closed.
fn first_time_in(head: &[u8], complete: bool) -> Sniffed {
    for at in memchr::memchr_iter(b'"', head) {
        let Some(key) = TIME_KEYS.iter().find(|k| head[at..].starts_with(k)) else {
            continue;
        };
        return match value_after(&head[at + key.len()..]) {
            Some(value) => Sniffed::Time(value),
            None if complete => Sniffed::Time(None),
            None => Sniffed::NeedMore,
        };
    }
    if complete {
        Sniffed::Time(None)
    } else {
        Sniffed::NeedMore
    }
}

/// The time in `: "…"` at the start of `rest`; `None` while the value's closing quote is not in
/// `rest`, `Some(None)` when what follows the key is not a readable time.
fn value_after(rest: &[u8]) -> Option<Option<Timestamp>> {
    // The value is settled by the text up to its closing quote, the second quote after the key.
    let mut quotes = memchr::memchr_iter(b'"', rest);
    let _opening = quotes.next()?;
    let closing = quotes.next()?;
    // Both ends are ASCII, so this piece decodes as it would within the whole head.
    let piece = String::from_utf8_lossy(&rest[..=closing]);
    let value = piece
        .trim_start()
        .strip_prefix(':')
        .map(str::trim_start)
        .and_then(|r| r.strip_prefix('"'))
        .and_then(|r| r.strip_suffix('"'));
    Some(value.and_then(|v| vigil_event::time::parse_timestamp(v).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition, as first written: decode the whole head, search it once per key, take
    /// the earliest key and read the string value after it.
    fn reference(head: &[u8]) -> Option<Timestamp> {
        let text = String::from_utf8_lossy(head);
        let (pos, key) = TIME_KEYS
            .iter()
            .map(|k| std::str::from_utf8(k).expect("keys are ASCII"))
            .filter_map(|k| text.find(k).map(|p| (p, k)))
            .min_by_key(|(p, _)| *p)?;
        let rest = text[pos + key.len()..].trim_start().strip_prefix(':')?;
        let rest = rest.trim_start().strip_prefix('"')?;
        let value = &rest[..rest.find('"')?];
        vigil_event::time::parse_timestamp(value).ok()
    }

    /// Feeds `head` in steps of `step` bytes, as [`sniff_first_time`] reads it.
    fn incremental(head: &[u8], step: usize) -> Option<Timestamp> {
        let mut end = 0;
        loop {
            end = (end + step).min(head.len());
            match first_time_in(&head[..end], end == head.len()) {
                Sniffed::Time(t) => return t,
                Sniffed::NeedMore => assert!(end < head.len(), "a complete head settles"),
            }
        }
    }

    fn time(s: &str) -> Option<Timestamp> {
        vigil_event::time::parse_timestamp(s).ok()
    }

    #[test]
    fn the_first_key_of_any_shape_gives_the_time() {
        let audit = br#"[{"Id":"x","CreationTime":"2024-03-01T10:00:00","Operation":"Send"}]"#;
        assert_eq!(incremental(audit, 7), time("2024-03-01T10:00:00"));
        let graph = br#"{"value":[{"id":"1","createdDateTime" : "2024-03-01T10:00:05Z"}]}"#;
        assert_eq!(incremental(graph, 3), time("2024-03-01T10:00:05Z"));
        // The earliest key wins, whichever key it is.
        let both = br#"{"time":"2024-03-02T00:00:00Z","properties":{"createdDateTime":"2024-01-01T00:00:00Z"}}"#;
        assert_eq!(incremental(both, 5), time("2024-03-02T00:00:00Z"));
    }

    #[test]
    fn a_key_whose_value_is_not_a_time_settles_on_none() {
        let head = br#"{"CreationTime":12,"TimeGenerated":"2024-03-01T10:00:00Z"}"#;
        assert_eq!(incremental(head, 4), None);
        assert_eq!(reference(head), None);
    }

    #[test]
    fn a_key_cut_by_the_end_of_a_read_is_found_after_the_next() {
        let head = br#"{"a":"bbbbbbbbbbbbbbbbbbbb","ActivityDateTime":"2024-03-01T10:00:00Z"}"#;
        for step in 1..head.len() {
            assert_eq!(
                incremental(head, step),
                time("2024-03-01T10:00:00Z"),
                "step {step}"
            );
        }
    }

    #[test]
    fn files_are_sniffed_plain_and_gzipped() {
        use std::io::Write;
        let dir = tempfile::tempdir().expect("tempdir");
        let body = format!(
            "{}{{\"CreationTime\":\"2024-03-01T10:00:00\"}}",
            " ".repeat(3 * STEP as usize)
        );
        let plain = dir.path().join("a.json");
        std::fs::write(&plain, &body).expect("write");
        let gz = dir.path().join("b.json.gz");
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).expect("create"),
            flate2::Compression::fast(),
        );
        enc.write_all(body.as_bytes()).expect("write");
        enc.finish().expect("finish");
        assert_eq!(sniff_first_time(&plain), time("2024-03-01T10:00:00"));
        assert_eq!(sniff_first_time(&gz), time("2024-03-01T10:00:00"));
        // Beyond the first 64 KiB nothing is searched.
        let far = dir.path().join("c.json");
        std::fs::write(&far, format!("{}{body}", " ".repeat(SNIFF_BYTES))).expect("write");
        assert_eq!(sniff_first_time(&far), None);
        assert_eq!(sniff_first_time(&dir.path().join("missing.json")), None);
    }

    /// Heads made of the pieces that matter (keys, quotes, colons, times, white space, bytes
    /// that are not UTF-8) in any order.
    fn head() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            proptest::sample::select(TIME_KEYS).prop_map(|k| k.to_vec()),
            Just(b"\"".to_vec()),
            Just(b":".to_vec()),
            Just(b" ".to_vec()),
            Just("\u{3000}".as_bytes().to_vec()),
            Just(b"\"2024-03-01T10:00:00Z\"".to_vec()),
            Just(b"2024-03-01T10:00:00".to_vec()),
            Just(b"\"time".to_vec()),
            Just(vec![0xff, 0xc3]),
            proptest::collection::vec(any::<u8>(), 0..6),
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn reading_in_steps_finds_what_the_whole_head_holds(head in head(), step in 1usize..40) {
            prop_assert_eq!(incremental(&head, step), reference(&head));
        }
    }
}
