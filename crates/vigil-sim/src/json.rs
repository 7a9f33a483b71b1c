//! A small, fast JSON writer: the simulator writes records field by field, in the order the
//! real APIs use, without building intermediate trees.

use std::fmt::Write;

/// Appends `s` as a JSON string literal.
///
/// The fast path looks only for quotes, backslashes and newlines: every string the simulator
/// writes comes from its own catalogues, which hold no other control characters (the tests parse
/// every file back).
pub(crate) fn push_str(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    if memchr::memchr3(b'"', b'\\', b'\n', bytes).is_none() {
        out.reserve(bytes.len() + 2);
        out.push('"');
        out.push_str(s);
        out.push('"');
        return;
    }
    out.push('"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// A JSON string literal of `s`.
pub(crate) fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_str(&mut out, s);
    out
}

/// Writes one object.
pub(crate) struct Obj<'a> {
    b: &'a mut String,
    first: bool,
}

impl<'a> Obj<'a> {
    pub fn new(b: &'a mut String) -> Obj<'a> {
        b.push('{');
        Obj { b, first: true }
    }

    fn key(&mut self, k: &str) {
        self.b.push_str(if self.first { "\"" } else { ",\"" });
        self.first = false;
        self.b.push_str(k);
        self.b.push_str("\":");
    }

    pub fn str(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k);
        push_str(self.b, v);
        self
    }

    pub fn opt_str(&mut self, k: &str, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.str(k, v),
            None => self.null(k),
        }
    }

    pub fn int(&mut self, k: &str, v: i64) -> &mut Self {
        self.key(k);
        self.b.push_str(itoa::Buffer::new().format(v));
        self
    }

    /// An integer, or the same integer as a string (an API habit).
    pub fn int_maybe_str(&mut self, k: &str, v: i64, as_str: bool) -> &mut Self {
        self.key(k);
        let mut buf = itoa::Buffer::new();
        if as_str {
            self.b.push('"');
            self.b.push_str(buf.format(v));
            self.b.push('"');
        } else {
            self.b.push_str(buf.format(v));
        }
        self
    }

    pub fn float(&mut self, k: &str, v: f64) -> &mut Self {
        self.key(k);
        let _ = write!(self.b, "{v}");
        self
    }

    pub fn bool(&mut self, k: &str, v: bool) -> &mut Self {
        self.key(k);
        self.b.push_str(if v { "true" } else { "false" });
        self
    }

    pub fn null(&mut self, k: &str) -> &mut Self {
        self.key(k);
        self.b.push_str("null");
        self
    }

    /// A value that is already JSON text.
    pub fn raw(&mut self, k: &str, json: &str) -> &mut Self {
        self.key(k);
        self.b.push_str(json);
        self
    }

    pub fn obj(&mut self, k: &str, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        self.key(k);
        let mut o = Obj::new(self.b);
        f(&mut o);
        o.end();
        self
    }

    pub fn arr(&mut self, k: &str, f: impl FnOnce(&mut Arr<'_>)) -> &mut Self {
        self.key(k);
        let mut a = Arr::new(self.b);
        f(&mut a);
        a.end();
        self
    }

    pub fn end(self) {
        self.b.push('}');
    }

    /// Ends without the closing brace (the sink appends fields later).
    pub fn end_open(self) {}
}

/// Writes one array.
pub(crate) struct Arr<'a> {
    b: &'a mut String,
    first: bool,
}

impl<'a> Arr<'a> {
    pub fn new(b: &'a mut String) -> Arr<'a> {
        b.push('[');
        Arr { b, first: true }
    }

    fn sep(&mut self) {
        if !self.first {
            self.b.push(',');
        }
        self.first = false;
    }

    pub fn obj(&mut self, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        self.sep();
        let mut o = Obj::new(self.b);
        f(&mut o);
        o.end();
        self
    }

    pub fn str(&mut self, v: &str) -> &mut Self {
        self.sep();
        push_str(self.b, v);
        self
    }

    pub fn end(self) {
        self.b.push(']');
    }
}

/// Renders a Name/Value list (`Parameters`, `ExtendedProperties`, `OperationProperties`).
/// `lower` writes the keys as `name`/`value`, as some API paths do.
pub(crate) fn name_values(pairs: &[(&str, String)], lower: bool) -> String {
    let (n, v) = if lower {
        ("name", "value")
    } else {
        ("Name", "Value")
    };
    let mut out = String::with_capacity(32 * pairs.len() + 2);
    let mut a = Arr::new(&mut out);
    for (name, value) in pairs {
        a.obj(|o| {
            o.str(n, name).str(v, value);
        });
    }
    a.end();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_valid_json_with_escapes() {
        let mut s = String::new();
        let mut o = Obj::new(&mut s);
        o.str("a", "q\"uo\\te\n\u{1}é")
            .int("b", -3)
            .int_maybe_str("c", 12, true)
            .bool("d", true)
            .null("e")
            .obj("f", |o| {
                o.float("g", 1.5);
            })
            .arr("h", |a| {
                a.str("x").obj(|o| {
                    o.str("y", "z");
                });
            })
            .raw("i", &name_values(&[("Name", ".".to_string())], true));
        o.end();
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["a"], "q\"uo\\te\n\u{1}é");
        assert_eq!(v["c"], "12");
        assert_eq!(v["f"]["g"], 1.5);
        assert_eq!(v["h"][1]["y"], "z");
        assert_eq!(v["i"][0]["name"], "Name");
    }
}
