//! IP-to-ASN ranges loaded from ip-location-db's CSV files.
//!
//! Rows look like `start_ip,end_ip,asn,org` with inclusive ranges; `org` is quoted when it holds a
//! comma (`"Cloudflare, Inc."`) and doubles its quotes inside (`"LLC ""SPUTNIK"""`). IPv4 and
//! IPv6 rows may sit in the same or in different files: each row's addresses say which it is.
//!
//! The ranges end up in sorted, non-overlapping vectors (`u32` keys for IPv4, `u128` for IPv6)
//! searched by binary search, with the organisation names interned in one string table.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How many malformed-row messages are kept per file (all of them are counted).
const MAX_REPORTED_ERRORS: usize = 20;

/// What loading one ASN CSV file found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AsnFileReport {
    pub path: PathBuf,
    /// Rows accepted.
    pub rows: usize,
    pub ipv4_rows: usize,
    pub ipv6_rows: usize,
    /// Rows skipped because they could not be parsed.
    pub malformed: usize,
    /// `file:line: reason` for the first malformed rows.
    pub errors: Vec<String>,
}

/// One parsed row. `org` indexes the parser's local string table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Row<T> {
    pub start: T,
    pub end: T,
    pub asn: u32,
    pub org: u32,
}

/// The rows of one file, before merging.
#[derive(Debug, Default)]
pub(crate) struct ParsedCsv {
    pub v4: Vec<Row<u32>>,
    pub v6: Vec<Row<u128>>,
    pub orgs: Vec<Box<str>>,
    pub report: AsnFileReport,
}

/// Parses the text of one CSV file. `path` is used only in messages.
pub(crate) fn parse_csv(path: &Path, text: &str) -> ParsedCsv {
    let mut out = ParsedCsv {
        report: AsnFileReport {
            path: path.to_path_buf(),
            ..AsnFileReport::default()
        },
        ..ParsedCsv::default()
    };
    let mut org_index: HashMap<Box<str>, u32> = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = if line_no == 1 {
            line.strip_prefix('\u{feff}').unwrap_or(line)
        } else {
            line
        };
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_row(line) {
            Ok(parsed) => {
                let org = match parsed.org {
                    Some(name) => match org_index.get(&*name) {
                        Some(&i) => i,
                        None => {
                            let i = out.orgs.len() as u32;
                            let name: Box<str> = name.into();
                            out.orgs.push(name.clone());
                            org_index.insert(name, i);
                            i
                        }
                    },
                    None => NO_ORG,
                };
                match parsed.range {
                    Range::V4(start, end) => {
                        out.v4.push(Row {
                            start,
                            end,
                            asn: parsed.asn,
                            org,
                        });
                        out.report.ipv4_rows += 1;
                    }
                    Range::V6(start, end) => {
                        out.v6.push(Row {
                            start,
                            end,
                            asn: parsed.asn,
                            org,
                        });
                        out.report.ipv6_rows += 1;
                    }
                }
                out.report.rows += 1;
            }
            Err(_) if line_no == 1 && looks_like_header(line) => {}
            Err(e) => {
                out.report.malformed += 1;
                if out.report.errors.len() < MAX_REPORTED_ERRORS {
                    out.report.errors.push(format!(
                        "{}:{}: {}",
                        path.display(),
                        line_no,
                        e.message()
                    ));
                }
            }
        }
    }
    out
}

/// Marks a range without an organisation name.
pub(crate) const NO_ORG: u32 = u32::MAX;

enum Range {
    V4(u32, u32),
    V6(u128, u128),
}

struct ParsedRow<'a> {
    range: Range,
    asn: u32,
    org: Option<Cow<'a, str>>,
}

struct RowError(String);

impl RowError {
    fn message(&self) -> &str {
        &self.0
    }
}

fn bad(message: impl Into<String>) -> RowError {
    RowError(message.into())
}

/// A first line such as `start_ip,end_ip,asn,org`: a first field with letters and no digit.
fn looks_like_header(line: &str) -> bool {
    let first = line
        .split(',')
        .next()
        .unwrap_or("")
        .trim()
        .trim_matches('"');
    first.bytes().any(|b| b.is_ascii_alphabetic()) && !first.bytes().any(|b| b.is_ascii_digit())
}

fn parse_row(line: &str) -> Result<ParsedRow<'_>, RowError> {
    let fields = split_csv_line(line).map_err(bad)?;
    if fields.len() < 3 {
        return Err(bad(format!(
            "expected start_ip,end_ip,asn,org but found {} field(s)",
            fields.len()
        )));
    }
    let start_text = fields[0].trim();
    let start: IpAddr = start_text
        .parse()
        .map_err(|_| bad(format!("start address {start_text:?} is not an IP address")))?;
    let end_text = fields[1].trim();
    let end: IpAddr = end_text
        .parse()
        .map_err(|_| bad(format!("end address {end_text:?} is not an IP address")))?;
    let range = match (start, end) {
        (IpAddr::V4(s), IpAddr::V4(e)) => {
            let (s, e) = (u32::from(s), u32::from(e));
            if s > e {
                return Err(bad(format!("start {start} is after end {end}")));
            }
            Range::V4(s, e)
        }
        (IpAddr::V6(s), IpAddr::V6(e)) => {
            let (s, e) = (u128::from(s), u128::from(e));
            if s > e {
                return Err(bad(format!("start {start} is after end {end}")));
            }
            Range::V6(s, e)
        }
        _ => {
            return Err(bad(format!(
                "start {start} and end {end} mix IPv4 and IPv6"
            )))
        }
    };
    let asn_text = fields[2].trim();
    let digits = asn_text
        .strip_prefix("AS")
        .or_else(|| asn_text.strip_prefix("as"))
        .unwrap_or(asn_text);
    let asn: u32 = digits
        .parse()
        .map_err(|_| bad(format!("AS number {asn_text:?} is not a number below 2^32")))?;
    let org = match fields.len() {
        3 => None,
        4 => Some(fields.into_iter().nth(3).unwrap_or_default()),
        // An unquoted name that itself holds commas: take the rest of the line.
        _ => Some(Cow::Owned(
            fields[3..]
                .iter()
                .map(|f| f.as_ref())
                .collect::<Vec<_>>()
                .join(","),
        )),
    };
    let org = org
        .map(|o| match o {
            Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
            Cow::Owned(s) => Cow::Owned(s.trim().to_string()),
        })
        .filter(|o| !o.is_empty());
    Ok(ParsedRow { range, asn, org })
}

/// Splits one CSV line (RFC 4180 quoting, no embedded line breaks).
fn split_csv_line(line: &str) -> Result<Vec<Cow<'_, str>>, String> {
    let mut fields = Vec::with_capacity(4);
    let mut rest = line;
    loop {
        if let Some(after_quote) = rest.strip_prefix('"') {
            // Quoted field: runs to the next quote that is not doubled.
            let mut value: Option<String> = None;
            let mut i = 0;
            let bytes = after_quote.as_bytes();
            let end = loop {
                match memchr_quote(&bytes[i..]) {
                    None => return Err("unterminated quoted field".to_string()),
                    Some(j) => {
                        let q = i + j;
                        if bytes.get(q + 1) == Some(&b'"') {
                            value
                                .get_or_insert_with(String::new)
                                .push_str(&after_quote[i..=q]);
                            i = q + 2;
                        } else {
                            break q;
                        }
                    }
                }
            };
            let field = match value {
                None => Cow::Borrowed(&after_quote[..end]),
                Some(mut v) => {
                    v.push_str(&after_quote[i..end]);
                    Cow::Owned(v)
                }
            };
            fields.push(field);
            let after = &after_quote[end + 1..];
            if after.is_empty() {
                return Ok(fields);
            }
            match after.strip_prefix(',') {
                Some(r) => rest = r,
                None => {
                    return Err(format!(
                        "unexpected text {:?} after a quoted field",
                        truncate(after, 20)
                    ))
                }
            }
        } else {
            match rest.find(',') {
                Some(i) => {
                    fields.push(Cow::Borrowed(&rest[..i]));
                    rest = &rest[i + 1..];
                }
                None => {
                    fields.push(Cow::Borrowed(rest));
                    return Ok(fields);
                }
            }
        }
    }
}

fn memchr_quote(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'"')
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Sorted, non-overlapping ranges of one address family.
#[derive(Debug, Default)]
pub(crate) struct RangeTable<T> {
    starts: Vec<T>,
    ends: Vec<T>,
    asns: Vec<u32>,
    orgs: Vec<u32>,
    /// `buckets[k]` is the first range whose start has `k` as its top 16 bits (65,537 entries,
    /// the last one `starts.len()`): a lookup searches only its bucket. A binary search over
    /// half a million starts takes about ten cache misses per address; the bucket takes one or
    /// two, and enrichment runs for every record.
    buckets: Vec<u32>,
}

/// Unsigned integer keys of a range table.
pub(crate) trait Key: Copy + Ord + std::fmt::Debug {
    fn checked_next(self) -> Option<Self>;
    fn prev(self) -> Self;
    /// The top 16 bits.
    fn bucket(self) -> usize;
}

impl Key for u32 {
    fn checked_next(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn prev(self) -> Self {
        self - 1
    }
    fn bucket(self) -> usize {
        (self >> 16) as usize
    }
}

impl Key for u128 {
    fn checked_next(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn prev(self) -> Self {
        self - 1
    }
    fn bucket(self) -> usize {
        (self >> 112) as usize
    }
}

impl<T: Key> RangeTable<T> {
    /// Builds the table from rows in any order. Where ranges overlap, the range that starts later
    /// (the more specific one, in this data) wins over its span; the enclosing range resumes after
    /// it. Returns the table and how many rows overlapped an earlier one.
    pub(crate) fn build(mut rows: Vec<Row<T>>) -> (RangeTable<T>, usize) {
        rows.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        let mut table = RangeTable {
            starts: Vec::with_capacity(rows.len()),
            ends: Vec::with_capacity(rows.len()),
            asns: Vec::with_capacity(rows.len()),
            orgs: Vec::with_capacity(rows.len()),
            buckets: Vec::new(),
        };
        let mut overlaps = 0;
        // Ranges that enclose the current position, innermost last.
        let mut open: Vec<Row<T>> = Vec::new();
        // First address not yet emitted; None once the top of the address space was emitted.
        let mut cursor: Option<T> = None;
        for row in rows {
            while let Some(top) = open.last().copied() {
                if top.end >= row.start {
                    break;
                }
                if let Some(c) = cursor {
                    if c <= top.end {
                        table.push(c, top.end, &top);
                        // top.end < row.start, so this cannot overflow.
                        cursor = top.end.checked_next();
                    }
                }
                open.pop();
            }
            if let Some(top) = open.last().copied() {
                overlaps += 1;
                if let Some(c) = cursor {
                    if c < row.start {
                        table.push(c, row.start.prev(), &top);
                    }
                }
            }
            cursor = Some(row.start);
            open.push(row);
        }
        while let Some(top) = open.pop() {
            if let Some(c) = cursor {
                if c <= top.end {
                    table.push(c, top.end, &top);
                    cursor = top.end.checked_next();
                }
            }
        }
        table.index_buckets();
        (table, overlaps)
    }

    fn index_buckets(&mut self) {
        const BUCKETS: usize = 1 << 16;
        let mut buckets = Vec::with_capacity(BUCKETS + 1);
        let mut i = 0;
        for k in 0..=BUCKETS {
            while i < self.starts.len() && self.starts[i].bucket() < k {
                i += 1;
            }
            buckets.push(i as u32);
        }
        self.buckets = buckets;
    }

    fn push(&mut self, start: T, end: T, row: &Row<T>) {
        self.starts.push(start);
        self.ends.push(end);
        self.asns.push(row.asn);
        self.orgs.push(row.org);
    }

    /// The AS number and organisation index of the range holding `ip`.
    pub(crate) fn find(&self, ip: T) -> Option<(u32, u32)> {
        // Every start in an earlier bucket is <= ip and every start in a later one is > ip, so
        // the answer lies in ip's own bucket.
        let k = ip.bucket();
        let i = match (self.buckets.get(k), self.buckets.get(k + 1)) {
            (Some(&lo), Some(&hi)) => {
                let (lo, hi) = (lo as usize, hi as usize);
                lo + self.starts[lo..hi].partition_point(|&s| s <= ip)
            }
            _ => self.starts.partition_point(|&s| s <= ip),
        };
        if i == 0 {
            return None;
        }
        let i = i - 1;
        (ip <= self.ends[i]).then(|| (self.asns[i], self.orgs[i]))
    }

    pub(crate) fn len(&self) -> usize {
        self.starts.len()
    }
}

/// The merged ASN database.
#[derive(Debug, Default)]
pub(crate) struct AsnDb {
    v4: RangeTable<u32>,
    v6: RangeTable<u128>,
    orgs: Vec<Arc<str>>,
    /// Rows that overlapped an earlier range (resolved in favour of the later-starting one).
    pub overlaps: usize,
}

impl AsnDb {
    /// Merges the rows of several files, interning organisation names once.
    pub(crate) fn from_parsed(files: Vec<ParsedCsv>) -> AsnDb {
        let mut orgs: Vec<Arc<str>> = Vec::new();
        let mut org_index: HashMap<Arc<str>, u32> = HashMap::new();
        let mut v4_rows = Vec::new();
        let mut v6_rows = Vec::new();
        for file in files {
            let map: Vec<u32> = file
                .orgs
                .into_iter()
                .map(|name| {
                    let name: Arc<str> = name.into();
                    *org_index.entry(name.clone()).or_insert_with(|| {
                        orgs.push(name);
                        (orgs.len() - 1) as u32
                    })
                })
                .collect();
            let remap = |org: u32| {
                if org == NO_ORG {
                    NO_ORG
                } else {
                    map[org as usize]
                }
            };
            v4_rows.extend(file.v4.into_iter().map(|r| Row {
                org: remap(r.org),
                ..r
            }));
            v6_rows.extend(file.v6.into_iter().map(|r| Row {
                org: remap(r.org),
                ..r
            }));
        }
        let (v4, o4) = RangeTable::build(v4_rows);
        let (v6, o6) = RangeTable::build(v6_rows);
        AsnDb {
            v4,
            v6,
            orgs,
            overlaps: o4 + o6,
        }
    }

    pub(crate) fn lookup(&self, ip: IpAddr) -> Option<(u32, Option<Arc<str>>)> {
        let (asn, org) = match ip {
            IpAddr::V4(v4) => self.v4.find(u32::from(v4))?,
            IpAddr::V6(v6) => self.v6.find(u128::from(v6))?,
        };
        let org = (org != NO_ORG)
            .then(|| self.orgs.get(org as usize).cloned())
            .flatten();
        Some((asn, org))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.v4.len() == 0 && self.v6.len() == 0
    }

    pub(crate) fn range_counts(&self) -> (usize, usize) {
        (self.v4.len(), self.v6.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bucketed lookup agrees with a plain search over the same ranges, for ranges that
    /// span buckets, sit at bucket edges, and leave gaps.
    #[test]
    fn bucketed_lookup_agrees_with_a_plain_search() {
        use proptest::prelude::*;
        let reference = |t: &RangeTable<u32>, ip: u32| -> Option<(u32, u32)> {
            let i = t.starts.partition_point(|&s| s <= ip).checked_sub(1)?;
            (ip <= t.ends[i]).then(|| (t.asns[i], t.orgs[i]))
        };
        let rows = proptest::collection::vec((any::<u32>(), 0u32..300_000, 1u32..65_000), 1..200);
        proptest!(|(rows in rows, probes in proptest::collection::vec(any::<u32>(), 50))| {
            let rows: Vec<Row<u32>> = rows
                .into_iter()
                .map(|(start, len, asn)| Row { start, end: start.saturating_add(len), asn, org: NO_ORG })
                .collect();
            let edges: Vec<u32> = rows
                .iter()
                .flat_map(|r| [r.start, r.end, r.start.wrapping_sub(1), r.end.wrapping_add(1), r.start & 0xffff_0000, r.start | 0xffff])
                .collect();
            let (table, _) = RangeTable::build(rows);
            prop_assert_eq!(table.buckets.len(), (1 << 16) + 1);
            for ip in probes.into_iter().chain(edges).chain([0, u32::MAX]) {
                prop_assert_eq!(table.find(ip), reference(&table, ip), "ip {}", ip);
            }
        });
    }

    fn db(text: &str) -> (AsnDb, AsnFileReport) {
        let parsed = parse_csv(Path::new("test.csv"), text);
        let report = parsed.report.clone();
        (AsnDb::from_parsed(vec![parsed]), report)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn quoted_org_names_with_commas_and_doubled_quotes() {
        let (db, report) = db(concat!(
            "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n",
            "2.26.200.0,2.26.215.255,201907,\"LLC \"\"SPUTNIK\"\"\"\n",
            "8.8.8.0,8.8.8.255,15169,Google LLC\r\n",
            "9.9.9.0,9.9.9.255,19281,\"Quad9\"\n",
        ));
        assert_eq!(report.malformed, 0, "{:?}", report.errors);
        assert_eq!(report.rows, 4);
        let (asn, org) = db.lookup(ip("1.0.0.77")).unwrap();
        assert_eq!((asn, org.as_deref()), (13335, Some("Cloudflare, Inc.")));
        let (asn, org) = db.lookup(ip("2.26.201.1")).unwrap();
        assert_eq!((asn, org.as_deref()), (201907, Some("LLC \"SPUTNIK\"")));
        let (_, org) = db.lookup(ip("8.8.8.8")).unwrap();
        assert_eq!(org.as_deref(), Some("Google LLC"), "CR must be stripped");
        let (_, org) = db.lookup(ip("9.9.9.9")).unwrap();
        assert_eq!(org.as_deref(), Some("Quad9"));
    }

    #[test]
    fn range_bounds_are_inclusive() {
        let (db, _) = db("10.0.0.0,10.0.0.255,64500,Example\n10.0.2.0,10.0.2.255,64501,Other\n");
        assert_eq!(db.lookup(ip("10.0.0.0")).unwrap().0, 64500);
        assert_eq!(db.lookup(ip("10.0.0.255")).unwrap().0, 64500);
        assert!(db.lookup(ip("10.0.1.0")).is_none());
        assert!(db.lookup(ip("9.255.255.255")).is_none());
        assert_eq!(db.lookup(ip("10.0.2.0")).unwrap().0, 64501);
        assert!(db.lookup(ip("10.0.3.0")).is_none());
        assert!(db.lookup(ip("255.255.255.255")).is_none());
    }

    #[test]
    fn malformed_rows_are_skipped_counted_and_located() {
        let (db, report) = db(concat!(
            "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n",
            "not-an-ip,1.0.1.255,1,X\n",
            "1.0.2.0,1.0.2.255,notanumber,X\n",
            "1.0.3.0,1.0.3.255,4,\"unterminated\n",
            "1.0.5.255,1.0.5.0,5,Backwards\n",
            "1.0.6.0,2001:db8::,6,Mixed\n",
            "1.0.7.0,1.0.7.255\n",
            "1.0.8.0,1.0.8.255,8,\"quoted\"junk\n",
            "\n",
            "1.0.9.0,1.0.9.255,99999999999,Too big\n",
            "1.0.10.0,1.0.10.255,10,Fine\n",
        ));
        assert_eq!(report.rows, 2);
        assert_eq!(report.malformed, 8);
        assert_eq!(report.errors.len(), 8);
        assert!(
            report.errors[0].starts_with("test.csv:2: "),
            "{}",
            report.errors[0]
        );
        assert!(
            report.errors[0].contains("not-an-ip"),
            "{}",
            report.errors[0]
        );
        assert!(report.errors[2].starts_with("test.csv:4: unterminated"));
        assert!(report.errors.last().unwrap().starts_with("test.csv:10: "));
        assert_eq!(db.lookup(ip("1.0.10.1")).unwrap().0, 10);
        assert!(db.lookup(ip("1.0.2.1")).is_none());
    }

    #[test]
    fn header_row_and_bom_are_not_errors() {
        let (db, report) = db("\u{feff}start_ip,end_ip,asn,org\n1.2.3.0,1.2.3.255,7,\"A\"\n");
        assert_eq!(report.malformed, 0, "{:?}", report.errors);
        assert_eq!(db.lookup(ip("1.2.3.4")).unwrap().0, 7);
    }

    #[test]
    fn ipv6_ranges_and_unnamed_orgs() {
        let (db, report) = db(concat!(
            "2001:4860::,2001:4860:4804:ffff:ffff:ffff:ffff:ffff,15169,Google LLC\n",
            "2001:4860:4805::,2001:4860:4805:ffff:ffff:ffff:ffff:ffff,43515,Google Ireland Limited\n",
            "2001:4860:480d::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC\n",
            "2c0f:fff0::,2c0f:fff0:ffff:ffff:ffff:ffff:ffff:ffff,37125,\n",
            "ffff::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,64512,Top\n",
            "1.1.1.0,1.1.1.255,13335,\"Cloudflare, Inc.\"\n",
        ));
        assert_eq!((report.ipv4_rows, report.ipv6_rows), (1, 5));
        let (asn, org) = db.lookup(ip("2001:4860:4860::8888")).unwrap();
        assert_eq!((asn, org.as_deref()), (15169, Some("Google LLC")));
        assert_eq!(db.lookup(ip("2001:4860:4805::1")).unwrap().0, 43515);
        assert!(db.lookup(ip("2001:4860:4806::1")).is_none());
        assert_eq!(db.lookup(ip("2001:4860:4804:ffff::1")).unwrap().0, 15169);
        assert_eq!(db.lookup(ip("2c0f:fff0::1")).unwrap(), (37125, None));
        assert_eq!(
            db.lookup(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))
                .unwrap()
                .0,
            64512
        );
        assert_eq!(db.lookup(ip("1.1.1.1")).unwrap().0, 13335);
        assert_eq!(db.range_counts(), (1, 5));
    }

    #[test]
    fn unquoted_org_with_commas_keeps_the_whole_name() {
        let (db, report) = db("5.5.5.0,5.5.5.255,5,Foo, Bar, Baz\n");
        assert_eq!(report.malformed, 0);
        assert_eq!(
            db.lookup(ip("5.5.5.5")).unwrap().1.as_deref(),
            Some("Foo, Bar, Baz")
        );
    }

    #[test]
    fn overlapping_ranges_prefer_the_more_specific_one() {
        // The real asn-ipv4.csv has one such pair (DoD 214.95.0.0-215.0.255.255 and
        // 215.0.0.0-215.1.3.255).
        let (db, _) = db(concat!(
            "10.0.0.0,10.0.255.255,1,Outer\n",
            "10.0.1.0,10.0.1.255,2,Inner\n",
            "10.0.200.0,10.1.0.255,3,Straddling\n",
            "10.0.1.0,10.0.1.15,4,Innermost\n",
        ));
        assert_eq!(db.lookup(ip("10.0.0.5")).unwrap().0, 1);
        assert_eq!(db.lookup(ip("10.0.1.5")).unwrap().0, 4);
        assert_eq!(db.lookup(ip("10.0.1.16")).unwrap().0, 2);
        assert_eq!(db.lookup(ip("10.0.2.0")).unwrap().0, 1);
        assert_eq!(db.lookup(ip("10.0.199.255")).unwrap().0, 1);
        assert_eq!(db.lookup(ip("10.0.200.0")).unwrap().0, 3);
        assert_eq!(db.lookup(ip("10.1.0.255")).unwrap().0, 3);
        assert!(db.lookup(ip("10.1.1.0")).is_none());
        assert_eq!(db.overlaps, 3);
    }

    #[test]
    fn org_names_are_interned_across_files() {
        let a = parse_csv(Path::new("a.csv"), "1.0.0.0,1.0.0.255,1,Same Org\n");
        let b = parse_csv(
            Path::new("b.csv"),
            "2001:db8::,2001:db8::ffff,1,Same Org\n2.0.0.0,2.0.0.255,2,Other\n",
        );
        let db = AsnDb::from_parsed(vec![a, b]);
        let x = db.lookup(ip("1.0.0.1")).unwrap().1.unwrap();
        let y = db.lookup(ip("2001:db8::1")).unwrap().1.unwrap();
        assert!(Arc::ptr_eq(&x, &y));
        assert_eq!(&*db.lookup(ip("2.0.0.1")).unwrap().1.unwrap(), "Other");
    }

    #[test]
    fn csv_splitter() {
        assert_eq!(split_csv_line("a,b,,c").unwrap(), vec!["a", "b", "", "c"]);
        assert_eq!(
            split_csv_line("\"a,b\",\"\"\"\",c").unwrap(),
            vec!["a,b", "\"", "c"]
        );
        assert_eq!(split_csv_line("x,\"\"").unwrap(), vec!["x", ""]);
        assert!(split_csv_line("x,\"abc").is_err());
        assert!(split_csv_line("x,\"a\"b").is_err());
    }
}
