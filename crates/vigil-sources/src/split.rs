//! Splits a byte stream into JSON records without holding the whole file in memory.
//!
//! Accepts what exporters actually write: JSON lines (one object per line, blank lines allowed),
//! a JSON array (compact on one line, as the Management Activity API returns a content blob, or
//! pretty-printed over many lines), several arrays back to back, and pretty-printed objects one
//! after another. A UTF-8 byte-order mark is skipped.
//!
//! Every unit carries the line on which it starts, so that errors can name it. A line that is not
//! JSON is reported and skipped; the stream goes on.

use std::io::BufRead;

/// Units larger than this are skipped with an error rather than buffered.
pub const MAX_UNIT_BYTES: usize = 64 << 20;

/// One top-level JSON value (or array element) and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Shared, so that events can keep the record without copying it again.
    pub text: std::sync::Arc<str>,
    pub line: u64,
}

/// What the splitter yields: a unit, or a reason a part of the input could not be made one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitItem {
    Unit(Unit),
    Error { line: u64, reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Undecided,
    /// One JSON value per physical line.
    Lines,
    /// Values spread over lines: scan brackets.
    Scan,
    Finished,
}

/// Streaming splitter over any buffered reader.
pub struct RecordSplitter<R> {
    reader: R,
    mode: Mode,
    line: u64,
    line_buf: Vec<u8>,
    scan: ScanState,
    pending: std::collections::VecDeque<SplitItem>,
    io_error: Option<String>,
}

#[derive(Default)]
struct ScanState {
    depth: u32,
    /// Whether the current top-level value is an array whose elements are the units.
    top_is_array: bool,
    /// Depth at which the unit being collected started.
    unit_depth: u32,
    collecting: bool,
    /// The unit being collected is a scalar array element (ends at `,` or `]`).
    scalar: bool,
    oversized: bool,
    in_string: bool,
    escape: bool,
    /// Skip the rest of a physical line after junk at the top level.
    skip_line: bool,
    current: Vec<u8>,
    unit_line: u64,
}

/// Outcome of reading one physical line with a size cap.
enum LineRead {
    /// A line (possibly without its final newline) is in `line_buf`.
    Line,
    /// The line was longer than [`MAX_UNIT_BYTES`]; it was consumed and not kept.
    TooLong,
    /// End of input (or a read error, kept in `io_error`).
    End,
}

impl<R: BufRead> RecordSplitter<R> {
    pub fn new(reader: R) -> Self {
        RecordSplitter {
            reader,
            mode: Mode::Undecided,
            line: 1,
            line_buf: Vec::with_capacity(4096),
            scan: ScanState::default(),
            pending: Default::default(),
            io_error: None,
        }
    }

    /// Reads one physical line into `line_buf`, never holding more than [`MAX_UNIT_BYTES`] of it:
    /// a longer line is consumed to its end and reported as [`LineRead::TooLong`].
    fn read_line_capped(&mut self) -> LineRead {
        self.line_buf.clear();
        let mut too_long = false;
        let mut read_any = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.io_error = Some(e.to_string());
                    return LineRead::End;
                }
            };
            if available.is_empty() {
                break;
            }
            read_any = true;
            let (take, done) = match memchr::memchr(b'\n', available) {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            if !too_long {
                if self.line_buf.len() + take > MAX_UNIT_BYTES + 1 {
                    too_long = true;
                    self.line_buf = Vec::with_capacity(4096);
                } else {
                    self.line_buf.extend_from_slice(&available[..take]);
                }
            }
            self.reader.consume(take);
            if done {
                break;
            }
        }
        match (read_any, too_long) {
            (false, _) => LineRead::End,
            (true, true) => LineRead::TooLong,
            (true, false) => LineRead::Line,
        }
    }

    /// Skips a byte-order mark and leading white space, counting lines, and returns the first
    /// other byte without consuming it.
    fn skip_leading_space(&mut self) -> Option<u8> {
        let mut at_start = true;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.io_error = Some(e.to_string());
                    return None;
                }
            };
            if available.is_empty() {
                return None;
            }
            let mut skip = 0;
            if at_start && available.starts_with(&[0xEF, 0xBB, 0xBF]) {
                skip = 3;
            }
            at_start = false;
            while skip < available.len() && available[skip].is_ascii_whitespace() {
                if available[skip] == b'\n' {
                    self.line += 1;
                }
                skip += 1;
            }
            if skip < available.len() {
                let first = available[skip];
                self.reader.consume(skip);
                return Some(first);
            }
            let n = available.len();
            self.reader.consume(n);
        }
    }

    /// Decides between line mode and bracket scanning from the first non-blank line.
    fn decide(&mut self) {
        // An array (a content blob, often one enormous line) is scanned straight away, without
        // reading its first line into memory.
        match self.skip_leading_space() {
            None => {
                self.mode = Mode::Finished;
                return;
            }
            Some(b'[') => {
                self.mode = Mode::Scan;
                return;
            }
            Some(_) => {}
        }
        loop {
            match self.read_line_capped() {
                LineRead::End => {
                    self.mode = Mode::Finished;
                    return;
                }
                LineRead::TooLong => {
                    self.pending.push_back(SplitItem::Error {
                        line: self.line,
                        reason: format!("line longer than {} MiB skipped", MAX_UNIT_BYTES >> 20),
                    });
                    self.line += 1;
                    self.mode = Mode::Lines;
                    return;
                }
                LineRead::Line => {}
            }
            let mut start = 0;
            if self.line_buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
                start = 3;
            }
            let trimmed = trim_ascii(&self.line_buf[start..]);
            if trimmed.is_empty() {
                self.line += 1;
                continue;
            }
            let complete_object = is_complete_object(trimmed);
            if !complete_object && trimmed[0] != b'[' {
                self.decide_after_bad_first_line(start);
                return;
            }
            if complete_object {
                self.mode = Mode::Lines;
                let line = self.line;
                self.line += 1;
                let unit = to_unit(trimmed, line);
                self.pending.push_back(unit);
            } else {
                self.mode = Mode::Scan;
                let chunk = std::mem::take(&mut self.line_buf);
                self.scan_chunk(&chunk[start..]);
                self.line_buf = chunk;
            }
            return;
        }
    }

    /// The first line is neither a complete object nor the start of an array: the first line of a
    /// pretty-printed object, a JSON-lines file whose first line is cut off or is junk, or not a
    /// JSON log at all. Up to two more non-blank lines decide: when they are complete objects (or
    /// one is, then the input ends) the file is JSON lines and the first line is a bad record like
    /// any other; otherwise brackets are scanned (or, for a first line that is not JSON, the file
    /// is skipped with one error).
    fn decide_after_bad_first_line(&mut self, start: usize) {
        let first = std::mem::take(&mut self.line_buf);
        let mut ahead: Vec<Vec<u8>> = Vec::new();
        let (mut non_blank, mut objects, mut at_end) = (0, 0, false);
        while non_blank < 2 && non_blank == objects {
            let mut buf = Vec::new();
            match self.reader.read_until(b'\n', &mut buf) {
                Ok(0) => at_end = true,
                Ok(_) => {}
                Err(e) => {
                    self.io_error = Some(e.to_string());
                    at_end = true;
                }
            }
            if at_end {
                break;
            }
            let t = trim_ascii(&buf);
            if !t.is_empty() {
                non_blank += 1;
                objects += usize::from(is_complete_object(t));
            }
            ahead.push(buf);
        }
        let json_lines = objects > 0 && objects == non_blank && (non_blank == 2 || at_end);
        let first_text = trim_ascii(&first[start..]);
        if json_lines {
            self.mode = Mode::Lines;
            let mut line = self.line;
            self.pending.push_back(to_unit(first_text, line));
            for buf in &ahead {
                line += 1;
                let t = trim_ascii(buf);
                if !t.is_empty() {
                    self.pending.push_back(to_unit(t, line));
                }
            }
            self.line = line + 1;
        } else if first_text[0] == b'{' {
            self.mode = Mode::Scan;
            self.scan_chunk(&first[start..]);
            for buf in &ahead {
                self.scan_chunk(buf);
            }
        } else {
            // Not a JSON log at all (a YAML manifest, a CSV, a README): one error for the file
            // rather than one per line.
            self.pending.push_back(SplitItem::Error {
                line: self.line,
                reason: "not a JSON log file (it does not start with `{` or `[`); file skipped"
                    .into(),
            });
            self.mode = Mode::Finished;
            return;
        }
        if self.io_error.is_some() && self.mode == Mode::Lines {
            self.mode = Mode::Finished;
        }
        self.line_buf = first;
    }

    fn next_line_unit(&mut self) {
        loop {
            let line = self.line;
            match self.read_line_capped() {
                LineRead::End => {
                    self.mode = Mode::Finished;
                    return;
                }
                LineRead::TooLong => {
                    self.line += 1;
                    self.pending.push_back(SplitItem::Error {
                        line,
                        reason: format!("record larger than {} MiB skipped", MAX_UNIT_BYTES >> 20),
                    });
                    return;
                }
                LineRead::Line => {}
            }
            self.line += 1;
            let mut trimmed = trim_ascii(&self.line_buf);
            // Some exporters write a JSON array one element per line with trailing commas.
            if let Some(stripped) = trimmed.strip_suffix(b",") {
                trimmed = trim_ascii(stripped);
            }
            if trimmed.is_empty() || trimmed == b"[" || trimmed == b"]" {
                continue;
            }
            if trimmed.len() > MAX_UNIT_BYTES {
                self.pending.push_back(SplitItem::Error {
                    line,
                    reason: format!("record larger than {} MiB skipped", MAX_UNIT_BYTES >> 20),
                });
                return;
            }
            let unit = to_unit(trimmed, line);
            self.pending.push_back(unit);
            return;
        }
    }

    fn next_scan_units(&mut self) {
        let mut chunk = Vec::new();
        loop {
            let available = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.io_error = Some(e.to_string());
                    self.finish_scan();
                    return;
                }
            };
            if available.is_empty() {
                self.finish_scan();
                return;
            }
            chunk.clear();
            chunk.extend_from_slice(available);
            let n = chunk.len();
            self.reader.consume(n);
            self.scan_chunk(&chunk);
            if !self.pending.is_empty() {
                return;
            }
        }
    }

    fn finish_scan(&mut self) {
        self.mode = Mode::Finished;
        let s = &mut self.scan;
        if s.collecting {
            if s.scalar && !s.in_string {
                let item = to_unit(s.current.trim_ascii(), s.unit_line);
                s.current.clear();
                s.collecting = false;
                self.pending.push_back(item);
            } else {
                self.pending.push_back(SplitItem::Error {
                    line: s.unit_line,
                    reason: "input ends inside this record (truncated file?)".into(),
                });
            }
        } else if s.depth > 0 {
            self.pending.push_back(SplitItem::Error {
                line: self.line,
                reason: "input ends inside a JSON array (missing `]`)".into(),
            });
        }
    }

    fn scan_chunk(&mut self, chunk: &[u8]) {
        // Bytes of the unit being collected are copied slice by slice: `copy_from` marks where
        // the not-yet-copied part of the current unit starts in this chunk.
        let mut copy_from: Option<usize> = self.scan.collecting.then_some(0);
        let mut i = 0;
        while i < chunk.len() {
            let s = &mut self.scan;
            if s.skip_line {
                match memchr::memchr(b'\n', &chunk[i..]) {
                    Some(off) => {
                        i += off + 1;
                        self.line += 1;
                        self.scan.skip_line = false;
                    }
                    None => i = chunk.len(),
                }
                continue;
            }
            if s.in_string {
                if s.escape {
                    s.escape = false;
                    if chunk[i] == b'\n' {
                        self.line += 1;
                    }
                    i += 1;
                    continue;
                }
                // Jump to the next quote, backslash or newline.
                match memchr::memchr3(b'"', b'\\', b'\n', &chunk[i..]) {
                    Some(off) => {
                        i += off;
                        match chunk[i] {
                            b'\n' => self.line += 1,
                            b'\\' => s.escape = true,
                            _ => s.in_string = false,
                        }
                        i += 1;
                    }
                    None => i = chunk.len(),
                }
                continue;
            }
            let b = chunk[i];
            i += 1;
            if b == b'\n' {
                self.line += 1;
            }
            if s.collecting {
                if s.scalar && s.depth == s.unit_depth && (b == b',' || b == b']') {
                    // The terminator is not part of the scalar.
                    if let Some(from) = copy_from.take() {
                        append(s, &chunk[from..i - 1]);
                    }
                    s.collecting = false;
                    s.scalar = false;
                    let line = s.unit_line;
                    if b == b']' {
                        s.depth -= 1;
                    }
                    let item = finish_unit(s, line, true);
                    self.pending.push_back(item);
                    continue;
                }
                match b {
                    b'"' => s.in_string = true,
                    b'{' | b'[' => s.depth += 1,
                    b'}' | b']' => {
                        s.depth = s.depth.saturating_sub(1);
                        if s.depth == s.unit_depth {
                            if let Some(from) = copy_from.take() {
                                append(s, &chunk[from..i]);
                            }
                            s.collecting = false;
                            let line = s.unit_line;
                            let item = finish_unit(s, line, false);
                            self.pending.push_back(item);
                        }
                    }
                    _ => {}
                }
                continue;
            }
            if b.is_ascii_whitespace() {
                continue;
            }
            let at_unit_level = (s.depth == 0) || (s.depth == 1 && s.top_is_array);
            if !at_unit_level {
                continue;
            }
            match b {
                b'[' if s.depth == 0 => {
                    s.depth = 1;
                    s.top_is_array = true;
                }
                b']' if s.depth == 1 => {
                    s.depth = 0;
                    s.top_is_array = false;
                }
                b',' if s.depth == 1 => {}
                b'{' | b'[' => {
                    s.unit_depth = s.depth;
                    s.depth += 1;
                    s.collecting = true;
                    // An earlier scalar element that ran into a `{` may have left this set.
                    s.scalar = false;
                    s.oversized = false;
                    s.unit_line = self.line;
                    s.current.clear();
                    copy_from = Some(i - 1);
                }
                _ if s.depth == 1 => {
                    // A scalar inside the top-level array: collect it so the parser can say why
                    // it is not a record.
                    s.unit_depth = 1;
                    s.collecting = true;
                    s.scalar = true;
                    s.oversized = false;
                    s.unit_line = self.line;
                    s.current.clear();
                    copy_from = Some(i - 1);
                    if b == b'"' {
                        s.in_string = true;
                    }
                }
                _ => {
                    self.pending.push_back(SplitItem::Error {
                        line: self.line,
                        reason: "not JSON: expected `{` or `[` at the start of a record".into(),
                    });
                    s.skip_line = true;
                }
            }
        }
        if let Some(from) = copy_from {
            if self.scan.collecting {
                append(&mut self.scan, &chunk[from..]);
            }
        }
    }
}

fn append(s: &mut ScanState, bytes: &[u8]) {
    if s.oversized {
        return;
    }
    if s.current.len() + bytes.len() > MAX_UNIT_BYTES {
        s.oversized = true;
        s.current = Vec::new();
    } else {
        s.current.extend_from_slice(bytes);
    }
}

fn finish_unit(s: &mut ScanState, line: u64, trim: bool) -> SplitItem {
    if s.oversized {
        s.oversized = false;
        s.current.clear();
        return SplitItem::Error {
            line,
            reason: format!("record larger than {} MiB skipped", MAX_UNIT_BYTES >> 20),
        };
    }
    // `current` keeps its capacity for the next unit.
    let bytes = if trim {
        s.current.trim_ascii()
    } else {
        &s.current[..]
    };
    let item = to_unit(bytes, line);
    s.current.clear();
    item
}

fn to_unit(bytes: &[u8], line: u64) -> SplitItem {
    match std::str::from_utf8(bytes) {
        Ok(text) => SplitItem::Unit(Unit {
            text: text.into(),
            line,
        }),
        Err(e) => SplitItem::Error {
            line,
            reason: format!("not valid UTF-8 (byte {} of the record)", e.valid_up_to()),
        },
    }
}

/// A whole JSON object on its own (one JSON-lines record).
fn is_complete_object(b: &[u8]) -> bool {
    b.first() == Some(&b'{') && serde_json::from_slice::<serde::de::IgnoredAny>(b).is_ok()
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

impl<R: BufRead> Iterator for RecordSplitter<R> {
    type Item = SplitItem;

    fn next(&mut self) -> Option<SplitItem> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if let Some(err) = self.io_error.take() {
                return Some(SplitItem::Error {
                    line: self.line,
                    reason: format!("read error: {err}"),
                });
            }
            match self.mode {
                Mode::Undecided => self.decide(),
                Mode::Lines => self.next_line_unit(),
                Mode::Scan => self.next_scan_units(),
                Mode::Finished => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &str) -> Vec<SplitItem> {
        RecordSplitter::new(std::io::BufReader::with_capacity(7, input.as_bytes())).collect()
    }

    fn units(input: &str) -> Vec<(String, u64)> {
        split(input)
            .into_iter()
            .map(|i| match i {
                SplitItem::Unit(u) => (u.text.to_string(), u.line),
                SplitItem::Error { line, reason } => (format!("ERR {reason}"), line),
            })
            .collect()
    }

    #[test]
    fn json_lines_with_blank_and_bad_lines() {
        let got = units("{\"a\":1}\n\n{\"b\":2}\nnot json\n{\"c\":\n");
        assert_eq!(got[0], ("{\"a\":1}".into(), 1));
        assert_eq!(got[1], ("{\"b\":2}".into(), 3));
        // Bad lines become units the parser rejects with their own line numbers.
        assert_eq!(got[2], ("not json".into(), 4));
        assert_eq!(got[3], ("{\"c\":".into(), 5));
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn compact_array_on_one_line() {
        let got = units("[{\"a\":\"x]}\"},{\"b\":[1,{\"c\":2}]}]");
        assert_eq!(
            got,
            vec![
                ("{\"a\":\"x]}\"}".into(), 1),
                ("{\"b\":[1,{\"c\":2}]}".into(), 1)
            ]
        );
    }

    #[test]
    fn pretty_array_reports_start_lines() {
        let input = "\u{feff}[\n  {\n    \"a\": \"q\\\"{\"\n  },\n  {\n    \"b\": 2\n  }\n]\n";
        let got = units(input);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1, 2);
        assert_eq!(got[1].1, 5);
        assert!(got[0].0.contains("q\\\"{"));
    }

    #[test]
    fn pretty_objects_back_to_back_and_concatenated_arrays() {
        let got = units("{\n\"a\": 1\n}\n{\n\"b\": 2\n}\n");
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].1, 4);
        let got = units("[{\"a\":1}][{\"b\":2}]");
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn truncated_array_is_reported() {
        let got = units("[\n{\"a\":1},\n{\"b\":");
        assert_eq!(got[0].0, "{\"a\":1}");
        assert!(got[1].0.starts_with("ERR input ends inside this record"));
        assert_eq!(got[1].1, 3);
    }

    #[test]
    fn scalars_in_array_become_units() {
        let got = units("[1, \"x,y\", {\"a\":1}]");
        assert_eq!(got[0].0, "1");
        assert_eq!(got[1].0, "\"x,y\"");
        assert_eq!(got[2].0, "{\"a\":1}");
    }

    #[test]
    fn junk_between_pretty_objects_is_reported_with_its_line() {
        let got = units("{\n\"a\":1\n}\ngarbage here\n{\n\"b\":2\n}");
        assert_eq!(
            got[1],
            (
                "ERR not JSON: expected `{` or `[` at the start of a record".into(),
                4
            )
        );
        assert_eq!(got[2].1, 5);
    }

    #[test]
    fn a_file_that_is_not_json_is_one_error() {
        let got = units("title: x\nid: 1\n{\"a\":1}\n");
        assert_eq!(got.len(), 1);
        assert!(got[0].0.contains("not a JSON log file"));
    }

    #[test]
    fn an_oversized_line_is_skipped_and_the_next_one_read() {
        let big = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_UNIT_BYTES + 10));
        let input = format!("{{\"first\":1}}\n{big}\n{{\"after\":2}}\n");
        let got = units(&input);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].0, "{\"first\":1}");
        assert!(
            got[1].0.starts_with("ERR record larger than"),
            "{}",
            &got[1].0[..40]
        );
        assert_eq!(got[1].1, 2);
        assert_eq!(got[2], ("{\"after\":2}".into(), 3));
    }

    #[test]
    fn invalid_utf8_is_an_error_not_a_panic() {
        let bytes = b"{\"a\":\"\xff\"}\n{\"b\":1}\n";
        let items: Vec<_> = RecordSplitter::new(&bytes[..]).collect();
        assert!(matches!(items[0], SplitItem::Error { line: 1, .. }));
        assert!(matches!(items[1], SplitItem::Unit(_)));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_always_terminates(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let items: Vec<_> = RecordSplitter::new(&bytes[..]).collect();
            proptest::prop_assert!(items.len() <= bytes.len() + 1);
        }

        #[test]
        fn arrays_of_objects_split_into_the_same_objects(values in proptest::collection::vec("[a-z\\\\\"{}\\[\\], ]{0,12}", 0..20), pretty in proptest::bool::ANY) {
            let objects: Vec<String> = values.iter().map(|v| serde_json::json!({"k": v}).to_string()).collect();
            let sep = if pretty { ",\n  " } else { "," };
            let input = format!("[{}]", objects.join(sep));
            let got: Vec<String> = RecordSplitter::new(std::io::BufReader::with_capacity(5, input.as_bytes()))
                .map(|i| match i { SplitItem::Unit(u) => u.text.to_string(), SplitItem::Error { reason, .. } => reason })
                .collect();
            proptest::prop_assert_eq!(got, objects);
        }
    }
}
