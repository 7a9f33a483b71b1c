//! Field types that accept what Microsoft's logs really contain: numbers written as strings,
//! strings written as numbers, lists delivered as a JSON string, Name/Value pairs in any case.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use vigil_event::{MailAddress, NameValue};

/// The non-string scalar `visit_*` methods of a lenient visitor: each gives `$value` (what an
/// odd shape reads as) instead of an error, so that a field of an unexpected type never rejects
/// its record.
macro_rules! scalars_read_as {
    ($ty:ty, $value:expr) => {
        fn visit_unit<E>(self) -> Result<$ty, E> {
            Ok($value)
        }
        fn visit_bool<E>(self, _: bool) -> Result<$ty, E> {
            Ok($value)
        }
        fn visit_i64<E>(self, _: i64) -> Result<$ty, E> {
            Ok($value)
        }
        fn visit_u64<E>(self, _: u64) -> Result<$ty, E> {
            Ok($value)
        }
        fn visit_f64<E>(self, _: f64) -> Result<$ty, E> {
            Ok($value)
        }
    };
}
pub(crate) use scalars_read_as;

/// Reads past the rest of a list a lenient visitor has no use for.
pub(crate) fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<de::IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Reads past the rest of an object a lenient visitor has no use for.
pub(crate) fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map
        .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
        .is_some()
    {}
    Ok(())
}

/// A value of type `T` parsed from a string that holds its JSON text (`"[{\"Name\":...}]"`),
/// when the text starts with `open` (`[` or `{`); `None` otherwise or when it does not parse.
pub(crate) fn json_in_string<'t, T: Deserialize<'t>>(text: &'t str, open: char) -> Option<T> {
    let inner = text.trim();
    if !inner.starts_with(open) {
        return None;
    }
    serde_json::from_str(inner).ok()
}

/// Any scalar read as text. Objects and arrays are kept as their JSON text, so a record with an
/// unexpected shape in one field is still read rather than rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<'a>(pub Cow<'a, str>);

impl<'a> Text<'a> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("text")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(if v { "True" } else { "False" })))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let v = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                let v = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(Text(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

/// An integer written as a number or as a string ("15", " 12 "). Anything else reads as absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Int(pub Option<i64>);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Int, E> {
                Ok(Int(Some(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Int, E> {
                Ok(Int(i64::try_from(v).ok()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Int, E> {
                Ok(Int(
                    (v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15).then_some(v as i64)
                ))
            }
            fn visit_str<E>(self, v: &str) -> Result<Int, E> {
                Ok(Int(v.trim().parse().ok()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_unit<E>(self) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_none<E>(self) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Int, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Int(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Int, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Int(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A boolean written as true/false, "True"/"False", "1"/"0" or 1/0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bool(pub Option<bool>);

impl<'de> Deserialize<'de> for Bool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = Option::<Text>::deserialize(d)?;
        Ok(Bool(t.and_then(|t| parse_bool(t.as_str()))))
    }
}

pub fn parse_bool(s: &str) -> Option<bool> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("true") || s == "1" || s.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") || s == "0" || s.eq_ignore_ascii_case("no") {
        Some(false)
    } else {
        None
    }
}

/// Reads a JSON value that may arrive as itself or as a string holding its JSON text
/// (`"Parameters": "[{\"Name\":...}]"`).
pub fn json_or_string(raw: Option<&RawValue>) -> Option<Value> {
    let raw = raw?;
    let v: Value = serde_json::from_str(raw.get()).ok()?;
    match v {
        Value::String(s) => {
            let t = s.trim();
            if t.starts_with('[') || t.starts_with('{') {
                serde_json::from_str(t).ok()
            } else {
                Some(Value::String(s))
            }
        }
        Value::Null => None,
        other => Some(other),
    }
}

/// The names a [`Fields`] reads, in the order of its values.
pub trait FieldNames<const N: usize> {
    const NAMES: [&'static str; N];
}

/// The named fields of a JSON object (a sign-in's `status`, a message's `Item`), read in the
/// record's own pass rather than kept as raw text and parsed again. Keys match as [`get_ci`]
/// matches them (the exact name first, otherwise any case); the object may also arrive as a
/// string holding its JSON text. Values are read as [`Text`]; `null`, absent fields and
/// anything that is not an object leave them `None`: an odd shape here never rejects the record.
pub struct Fields<'a, T, const N: usize> {
    pub values: [Option<Text<'a>>; N],
    names: std::marker::PhantomData<T>,
}

impl<T, const N: usize> Default for Fields<'_, T, N> {
    fn default() -> Self {
        Fields {
            values: std::array::from_fn(|_| None),
            names: std::marker::PhantomData,
        }
    }
}

impl<'a, T, const N: usize> Fields<'a, T, N> {
    fn of(values: [Option<Text<'a>>; N]) -> Self {
        Fields {
            values,
            names: std::marker::PhantomData,
        }
    }
}

impl<'de: 'a, 'a, T: FieldNames<N>, const N: usize> Deserialize<'de> for Fields<'a, T, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FieldsVisitor::<T, N>(std::marker::PhantomData))
    }
}

struct FieldsVisitor<T, const N: usize>(std::marker::PhantomData<T>);

impl<'de, T: FieldNames<N>, const N: usize> Visitor<'de> for FieldsVisitor<T, N> {
    type Value = Fields<'de, T, N>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut values: [Option<Text<'de>>; N] = std::array::from_fn(|_| None);
        let mut exact = [false; N];
        // `Text` borrows the key from the input (serde's own `Cow` always copies it).
        while let Some(key) = map.next_key::<Text<'de>>()? {
            let key = key.as_str();
            let exact_at = T::NAMES.iter().position(|n| *n == key);
            let found = exact_at.or_else(|| {
                T::NAMES
                    .iter()
                    .position(|n| n.eq_ignore_ascii_case(key))
                    .filter(|&i| !exact[i])
            });
            match found {
                Some(i) => {
                    values[i] = map.next_value::<Option<Text<'de>>>()?;
                    exact[i] |= exact_at.is_some();
                }
                None => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(Fields::of(values))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        // The values borrow the string, which does not outlive this call: they are copied.
        Ok(json_in_string::<Fields<T, N>>(v, '{')
            .map(|fields| {
                Fields::of(
                    fields
                        .values
                        .map(|f| f.map(|t| Text(Cow::Owned(t.0.into_owned())))),
                )
            })
            .unwrap_or_default())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        skip_seq(seq).map(|()| Fields::default())
    }

    scalars_read_as!(Self::Value, Fields::default());
}

/// Renders a JSON scalar as text the way the Name/Value lists mean it.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Reads Name/Value pairs from a list (`[{"Name":..,"Value":..}]`, keys in any case, or
/// Graph's `key`/`value` and `displayName`/`newValue`) whether it arrives as an array or a string.
pub fn name_values(raw: Option<&RawValue>) -> Vec<NameValue> {
    // Fast path for the common case, a real array: typed, no intermediate `Value` tree.
    if let Some(r) = raw.filter(|r| r.get().starts_with('[')) {
        if let Ok(pairs) = serde_json::from_str::<Pairs>(r.get()) {
            return pairs.to_name_values();
        }
    }
    match json_or_string(raw) {
        Some(v) => name_values_of(&v),
        None => Vec::new(),
    }
}

/// One `{"Name":..,"Value":..}` element read directly (keys in any case), borrowing its text
/// from the input where it can, for [`Pairs`].
struct FastPair<'a> {
    name: Option<Cow<'a, str>>,
    value: Option<Cow<'a, str>>,
}

/// Reads one Name/Value object: Exchange's Name/Value, Graph's key/value and
/// displayName/newValue, keys in any case.
fn read_pair<'de, A: MapAccess<'de>>(mut map: A) -> Result<FastPair<'de>, A::Error> {
    let mut pair = FastPair {
        name: None,
        value: None,
    };
    // `Text` borrows the key (serde's own `Cow` always copies it).
    while let Some(key) = map.next_key::<Text<'de>>()? {
        let key = key.as_str();
        if key.eq_ignore_ascii_case("name")
            || key.eq_ignore_ascii_case("key")
            || key.eq_ignore_ascii_case("displayName")
        {
            pair.name = Some(map.next_value::<ValueText>()?.0);
        } else if key.eq_ignore_ascii_case("value") || key.eq_ignore_ascii_case("newValue") {
            pair.value = Some(map.next_value::<ValueText>()?.0);
        } else {
            map.next_value::<de::IgnoredAny>()?;
        }
    }
    Ok(pair)
}

/// A Name/Value list (`OperationProperties`, `ExtendedProperties`) read in the record's own
/// pass, borrowing its text from the input where it can: the same pairs [`name_values`]
/// finds, for the few a typed event needs from every record. An array, or a string holding
/// one; anything else is an empty list, and elements that are not objects are skipped.
#[derive(Default)]
pub struct Pairs<'a>(Vec<FastPair<'a>>);

impl<'a> Pairs<'a> {
    /// Every pair, owned.
    pub fn to_name_values(&self) -> Vec<NameValue> {
        self.0
            .iter()
            .filter_map(|p| {
                Some(NameValue {
                    name: p.name.as_deref()?.into(),
                    value: p.value.as_deref().unwrap_or("").into(),
                })
            })
            .collect()
    }

    /// The value of the first pair of each name (names in any case); a pair without a value
    /// has the empty value.
    pub fn values<const N: usize>(&self, names: [&str; N]) -> [Option<&str>; N] {
        let mut found: [Option<&str>; N] = [None; N];
        for pair in &self.0 {
            let Some(name) = pair.name.as_deref() else {
                continue;
            };
            if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(name)) {
                found[i].get_or_insert(pair.value.as_deref().unwrap_or(""));
            }
        }
        found
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Pairs<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a Name/Value list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Pairs<'de>, A::Error> {
                let mut pairs = Vec::new();
                while let Some(element) = seq.next_element::<MaybePair<'de>>()? {
                    pairs.extend(element.0.filter(|p| p.name.is_some()));
                }
                Ok(Pairs(pairs))
            }
            fn visit_str<E>(self, v: &str) -> Result<Pairs<'de>, E> {
                // The pairs borrow the string, which does not outlive this call: they are copied.
                let owned = |c: Option<Cow<str>>| c.map(|c| Cow::Owned(c.into_owned()));
                Ok(json_in_string::<Pairs>(v, '[')
                    .map(|pairs| {
                        Pairs(
                            pairs
                                .0
                                .into_iter()
                                .map(|p| FastPair {
                                    name: owned(p.name),
                                    value: owned(p.value),
                                })
                                .collect(),
                        )
                    })
                    .unwrap_or_default())
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Pairs<'de>, A::Error> {
                skip_map(map).map(|()| Pairs::default())
            }
            scalars_read_as!(Pairs<'de>, Pairs::default());
        }
        d.deserialize_any(V)
    }
}

/// A list element that is a Name/Value object, or anything else (`None`).
struct MaybePair<'a>(Option<FastPair<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for MaybePair<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybePair<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<MaybePair<'de>, A::Error> {
                read_pair(map).map(|p| MaybePair(Some(p)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<MaybePair<'de>, A::Error> {
                skip_seq(seq).map(|()| MaybePair(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<MaybePair<'de>, E> {
                Ok(MaybePair(None))
            }
            scalars_read_as!(MaybePair<'de>, MaybePair(None));
        }
        d.deserialize_any(V)
    }
}

/// Any JSON value as [`value_text`] renders it, read without building a `Value` for scalars and
/// borrowing strings without escapes.
struct ValueText<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for ValueText<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ValueText<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<ValueText<'de>, E> {
                Ok(ValueText(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<ValueText<'de>, E> {
                Ok(ValueText(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<ValueText<'de>, E> {
                Ok(ValueText(Cow::Owned(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<ValueText<'de>, E> {
                Ok(ValueText(Cow::Owned(v.to_string())))
            }
            fn visit_u64<E>(self, v: u64) -> Result<ValueText<'de>, E> {
                Ok(ValueText(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E>(self, v: f64) -> Result<ValueText<'de>, E> {
                Ok(ValueText(Cow::Owned(Value::from(v).to_string())))
            }
            fn visit_bool<E>(self, v: bool) -> Result<ValueText<'de>, E> {
                Ok(ValueText(Cow::Borrowed(if v { "true" } else { "false" })))
            }
            fn visit_unit<E>(self) -> Result<ValueText<'de>, E> {
                Ok(ValueText(Cow::Borrowed("")))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ValueText<'de>, A::Error> {
                let v = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(ValueText(Cow::Owned(v.to_string())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ValueText<'de>, A::Error> {
                let v = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(ValueText(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

pub fn name_values_of(v: &Value) -> Vec<NameValue> {
    pairs_of(v, &["value", "newValue"])
}

/// The previous values of a ModifiedProperties list (`OldValue` / Graph's `oldValue`), by name.
/// A removal ("Remove member from role") names what it removed only there.
pub fn old_values_of(v: &Value) -> Vec<NameValue> {
    pairs_of(v, &["oldValue"])
}

/// [`old_values_of`] for a list that may arrive as an array or as a string.
pub fn old_values(raw: Option<&RawValue>) -> Vec<NameValue> {
    match json_or_string(raw) {
        Some(v) => old_values_of(&v),
        None => Vec::new(),
    }
}

fn pairs_of(v: &Value, value_keys: &[&str]) -> Vec<NameValue> {
    let Value::Array(items) = v else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let obj = item.as_object()?;
            let mut name = None;
            let mut value = None;
            for (k, v) in obj {
                if k.eq_ignore_ascii_case("name")
                    || k.eq_ignore_ascii_case("key")
                    || k.eq_ignore_ascii_case("displayName")
                {
                    name = Some(value_text(v));
                } else if value_keys.iter().any(|vk| k.eq_ignore_ascii_case(vk)) {
                    value = Some(value_text(v));
                }
            }
            Some(NameValue {
                name: name?.into(),
                value: value.unwrap_or_default().into(),
            })
        })
        .collect()
}

/// A field of a JSON object, matched case-insensitively.
pub fn get_ci<'v>(obj: &'v serde_json::Map<String, Value>, key: &str) -> Option<&'v Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Reads a client address as the audit log writes it: `1.2.3.4`, `1.2.3.4:50000`,
/// `[2001:db8::1]:443`, `2001:db8::1`, `::ffff:1.2.3.4`, empty or missing. Values that merely
/// contain an address (OriginatingServer's `HOST (15.20.1.2)`) are not addresses.
///
/// An IPv6 address with a port and no brackets (`2001:db8::1:443`) cannot be told apart from an
/// address whose last group is 443, so it is read as that address: the only reading that is
/// never wrong about a valid address.
pub fn parse_client_ip(text: &str) -> Option<IpAddr> {
    let s = vigil_event::text::trim(text);
    if s.is_empty() || s == "-" || s.eq_ignore_ascii_case("<null>") {
        return None;
    }
    if let Some(rest) = s.strip_prefix('[') {
        let end = rest.find(']')?;
        let after = &rest[end + 1..];
        if !(after.is_empty() || after.starts_with(':')) {
            return None;
        }
        return rest[..end].parse::<IpAddr>().ok().map(canonical_ip);
    }
    // The number of colons says which form it can be, so that the audit log's usual
    // `1.2.3.4:50000` is parsed once rather than tried as IPv4, then IPv6, then split.
    let first_colon = memchr::memchr(b':', s.as_bytes());
    match first_colon {
        // IPv4 (or nothing).
        None => s.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4),
        // IPv4 with a port: exactly one colon (an IPv6 address has at least two).
        Some(i) if memchr::memrchr(b':', s.as_bytes()) == Some(i) => {
            let (host, port) = (&s[..i], &s[i + 1..]);
            if port.parse::<u16>().is_err() {
                return None;
            }
            host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
        }
        Some(_) => s.parse::<IpAddr>().ok().map(canonical_ip),
    }
}

/// IPv4-mapped IPv6 addresses are the IPv4 address.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// An address as Exchange writes it; see [`MailAddress::parse`] (one implementation of the rules).
pub fn parse_address(text: &str) -> Option<MailAddress> {
    MailAddress::parse(text)
}

/// Every e-mail address in a value such as `smtp:a@b.com;c@d.com`, `"A" [SMTP:a@b.com]` or a
/// JSON list of addresses.
pub fn extract_addresses(text: &str) -> Vec<MailAddress> {
    let mut out: Vec<MailAddress> = Vec::new();
    for token in text.split(|c: char| {
        matches!(
            c,
            ';' | ',' | '[' | ']' | '<' | '>' | '"' | '\'' | '(' | ')' | '{' | '}'
        ) || c.is_whitespace()
    }) {
        if let Some(a) = MailAddress::parse(token) {
            if !out.iter().any(|o| o.address == a.address) {
                out.push(a);
            }
        }
    }
    out
}

/// Lower-cases a user identity and drops what is not a principal name.
pub fn normalise_user(text: &str) -> Option<Box<str>> {
    let t = vigil_event::text::trim(text);
    if t.is_empty() || t == "-" || t.eq_ignore_ascii_case("null") {
        return None;
    }
    Some(t.to_lowercase().into())
}

/// Operation names with and without the trailing full stop are the same operation.
pub fn normalise_operation(op: &str) -> &str {
    let t = vigil_event::text::trim(op);
    t.strip_suffix('.').unwrap_or(t).trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_event::find_value;

    struct StatusNames;
    impl FieldNames<4> for StatusNames {
        const NAMES: [&'static str; 4] =
            ["errorCode", "failureReason", "additionalDetails", "missing"];
    }
    struct BrowserName;
    impl FieldNames<1> for BrowserName {
        const NAMES: [&'static str; 1] = ["browser"];
    }

    fn fields<T: FieldNames<N>, const N: usize>(json: &str) -> [Option<String>; N] {
        let f: Fields<T, N> = serde_json::from_str(json).unwrap();
        f.values.map(|v| v.map(|t| t.as_str().to_owned()))
    }

    #[test]
    fn fields_match_like_get_ci() {
        let json = r#"{"ErrorCode":"1","errorCode":50126,"FAILUREREASON":"Bad","additionalDetails":null,"x":{"a":[1]}}"#;
        assert_eq!(
            fields::<StatusNames, 4>(json),
            [Some("50126".into()), Some("Bad".into()), None, None]
        );
        // The exact name wins over another case, whichever comes first.
        assert_eq!(
            fields::<BrowserName, 1>(r#"{"browser":"Edge","Browser":"Chrome"}"#),
            [Some("Edge".into())]
        );
        assert_eq!(
            fields::<BrowserName, 1>(r#"{"Browser":"Chrome","browser":"Edge"}"#),
            [Some("Edge".into())]
        );
        let value: Value = serde_json::from_str(json).unwrap();
        let obj = value.as_object().unwrap();
        assert_eq!(get_ci(obj, "errorCode").unwrap(), &Value::from(50126));
        assert_eq!(get_ci(obj, "failureReason").unwrap(), &Value::from("Bad"));
    }

    #[test]
    fn fields_read_an_object_inside_a_string_and_nothing_else() {
        let json = r#""{\"browser\":\"Edge 98\",\"city\":\"London\"}""#;
        assert_eq!(fields::<BrowserName, 1>(json), [Some("Edge 98".into())]);
        for other in [
            r#"[1,2]"#,
            r#""not json""#,
            r#""{broken""#,
            "null",
            "42",
            "true",
        ] {
            assert_eq!(fields::<BrowserName, 1>(other), [None], "{other}");
        }
    }

    #[test]
    fn pairs_read_what_name_values_reads() {
        for text in [
            r#"[{"Name":"MailAccessType","Value":"Bind"},{"name":"IsThrottled","value":false},7,{"Value":"no name"}]"#,
            r#""[{\"Name\":\"MailAccessType\",\"Value\":\"Bind\"}]""#,
            r#"{"Name":"MailAccessType","Value":"Bind"}"#,
            r#""plain text""#,
            "null",
        ] {
            let pairs: Pairs = serde_json::from_str(text).unwrap();
            let raw = RawValue::from_string(text.to_owned()).unwrap();
            let general = name_values(Some(&raw));
            assert_eq!(pairs.to_name_values(), general, "{text}");
            let [access, throttled] = pairs.values(["mailaccesstype", "ISTHROTTLED"]);
            assert_eq!(access, find_value(&general, "MailAccessType"), "{text}");
            assert_eq!(throttled, find_value(&general, "IsThrottled"), "{text}");
        }
    }

    /// The reading before it was made to count colons first, kept as the reference.
    fn parse_client_ip_reference(text: &str) -> Option<IpAddr> {
        let s = text.trim();
        if s.is_empty() || s == "-" || s.eq_ignore_ascii_case("<null>") {
            return None;
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Some(canonical_ip(ip));
        }
        if let Some(rest) = s.strip_prefix('[') {
            let end = rest.find(']')?;
            let after = &rest[end + 1..];
            if !(after.is_empty() || after.starts_with(':')) {
                return None;
            }
            return rest[..end].parse::<IpAddr>().ok().map(canonical_ip);
        }
        if let Some((host, port)) = s.rsplit_once(':') {
            if !host.contains(':') && port.parse::<u16>().is_ok() {
                return host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4);
            }
        }
        None
    }

    proptest::proptest! {
        #[test]
        fn client_ip_reads_as_the_reference_does(text in "[0-9a-f.:\\[\\] f]{0,24}") {
            proptest::prop_assert_eq!(parse_client_ip(&text), parse_client_ip_reference(&text));
        }

        #[test]
        fn client_ip_reads_real_addresses_with_ports(a: [u8; 4], v6: [u16; 8], port: u16) {
            let v4 = std::net::Ipv4Addr::from(a).to_string();
            let v6 = std::net::Ipv6Addr::from(v6).to_string();
            for text in [v4.clone(), format!("{v4}:{port}"), v6.clone(), format!("[{v6}]:{port}"), format!("::ffff:{v4}")] {
                proptest::prop_assert_eq!(parse_client_ip(&text), parse_client_ip_reference(&text), "{}", text);
            }
        }
    }

    #[test]
    fn client_ip_shapes() {
        assert_eq!(parse_client_ip("1.2.3.4"), Some("1.2.3.4".parse().unwrap()));
        assert_eq!(
            parse_client_ip("1.2.3.4:50123"),
            Some("1.2.3.4".parse().unwrap())
        );
        assert_eq!(
            parse_client_ip("[2001:db8::1]:443"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            parse_client_ip("[2001:db8::1]"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            parse_client_ip("2001:db8::1"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            parse_client_ip("::ffff:10.1.2.3"),
            Some("10.1.2.3".parse().unwrap())
        );
        assert_eq!(parse_client_ip(""), None);
        assert_eq!(parse_client_ip("  "), None);
        assert_eq!(parse_client_ip("QWERTY (1.2.3.4)"), None);
        assert_eq!(parse_client_ip("AB1CD23EF4567 (15.20.4200.000)\r\n"), None);
        assert_eq!(parse_client_ip("1.2.3.4:99999"), None);
        assert_eq!(parse_client_ip("[2001:db8::1]x"), None);
    }

    #[test]
    fn name_values_any_case_and_string_delivery() {
        let raw: Box<RawValue> = serde_json::from_str(
            r#""[{\"name\":\"ForwardTo\",\"value\":\"a@b.c\"},{\"NAME\":\"Force\",\"VALUE\":true}]""#,
        )
        .unwrap();
        let nv = name_values(Some(&raw));
        assert_eq!(vigil_event::find_value(&nv, "forwardto"), Some("a@b.c"));
        assert_eq!(vigil_event::find_value(&nv, "Force"), Some("true"));
    }

    #[test]
    fn fast_and_general_name_value_readers_agree() {
        for text in [
            r#"[{"Name":"A","Value":"x"},{"name":"B","value":true},{"NAME":"C","VALUE":1.5}]"#,
            r#"[{"Name":"D","Value":null},{"Value":"no name"},{"Name":"E","Value":{"k":[1,2]}}]"#,
            r#"[{"displayName":"F","oldValue":"o","newValue":"[\"n\"]"},{"key":"G","value":7}]"#,
            r#"[]"#,
        ] {
            let raw: Box<RawValue> = serde_json::from_str(text).unwrap();
            let general = name_values_of(&serde_json::from_str::<Value>(text).unwrap());
            assert_eq!(name_values(Some(&raw)), general, "{text}");
        }
    }

    #[test]
    fn addresses_from_exchange_values() {
        let got = extract_addresses("\"Peter\" [SMTP:Peter@Example.com];smtp:x@y.org, x@y.org");
        let list: Vec<_> = got.iter().map(|a| &*a.address).collect();
        assert_eq!(list, vec!["peter@example.com", "x@y.org"]);
    }

    #[test]
    fn loose_numbers_and_bools() {
        #[derive(Deserialize)]
        struct T {
            a: Int,
            b: Int,
            c: Int,
            d: Bool,
            e: Bool,
        }
        let t: T = serde_json::from_str(r#"{"a":"15","b":7,"c":"x","d":"True","e":0}"#).unwrap();
        assert_eq!((t.a.0, t.b.0, t.c.0), (Some(15), Some(7), None));
        assert_eq!((t.d.0, t.e.0), (Some(true), Some(false)));
    }

    #[test]
    fn operations_with_and_without_full_stop() {
        assert_eq!(
            normalise_operation("Consent to application."),
            "Consent to application"
        );
        assert_eq!(
            normalise_operation("Consent to application"),
            "Consent to application"
        );
    }
}
