//! Small helpers: event-time minutes, deterministic hashing, exponential decay, network prefixes.

use std::net::IpAddr;

use vigil_event::Timestamp;

/// Event time in whole minutes since the Unix epoch. `u32` covers the next eight thousand years
/// and keeps per-value state small.
pub type Min = u32;

pub const HOUR: Min = 60;
pub const DAY: Min = 24 * 60;

pub fn minute(t: &Timestamp) -> Min {
    (t.timestamp().max(0) / 60).min(u32::MAX as i64) as Min
}

/// Stable 64-bit hash of a string (xxh3): the same on every machine and run, so snapshots and
/// replays agree.
pub fn h64(s: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(s.as_bytes())
}

/// `w` observed at `from`, decayed to `to` with the given half-life (minutes).
pub fn decay(w: f32, from: Min, to: Min, half_life: f32) -> f32 {
    if to <= from || w == 0.0 {
        w
    } else {
        let dt = (to - from) as f32;
        w * (-dt * std::f32::consts::LN_2 / half_life).exp()
    }
}

/// The network an address belongs to for rarity: /24 for IPv4, /48 for IPv6.
pub fn prefix(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

/// Parses durations such as `90s`, `15m`, `8h`, `7d` into minutes (seconds are rounded up).
pub fn parse_duration_min(s: &str) -> Option<Min> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u32 = num.parse().ok()?;
    match unit.trim() {
        "s" => Some(n.div_ceil(60)),
        "m" | "min" => Some(n),
        "h" => n.checked_mul(60),
        "d" => n.checked_mul(DAY),
        "w" => n.checked_mul(7 * DAY),
        _ => None,
    }
}

/// A number as people read it: integers without decimals, others with up to two.
pub fn fmt_num(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else if x.is_finite() {
        let s = format!("{x:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        "∞".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration_min("15m"), Some(15));
        assert_eq!(parse_duration_min("8h"), Some(480));
        assert_eq!(parse_duration_min("2d"), Some(2880));
        assert_eq!(parse_duration_min("30s"), Some(1));
        assert_eq!(parse_duration_min("5x"), None);
        assert_eq!(parse_duration_min("h"), None);
    }

    #[test]
    fn decay_halves_at_half_life() {
        let w = decay(8.0, 100, 100 + 60, 60.0);
        assert!((w - 4.0).abs() < 1e-4, "{w}");
        assert_eq!(decay(8.0, 100, 50, 60.0), 8.0);
    }

    #[test]
    fn prefixes() {
        assert_eq!(prefix(&"10.1.2.3".parse().unwrap()), "10.1.2.0/24");
        assert_eq!(
            prefix(&"2001:db8:1:2::5".parse().unwrap()),
            "2001:db8:1::/48"
        );
        assert_eq!(fmt_num(3.0), "3");
        assert_eq!(fmt_num(0.126), "0.13");
    }
}
