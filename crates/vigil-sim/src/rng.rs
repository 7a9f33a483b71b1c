//! Seeded randomness. Every part of the simulation draws from its own ChaCha stream, derived
//! from the seed and a few integers naming the part (account, day, attack), so that one part's
//! draws never shift another's.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Names of the independent random streams.
pub(crate) mod tag {
    pub const WORLD: u64 = 1;
    pub const ACCOUNT: u64 = 2;
    pub const DAY: u64 = 3;
    pub const HOME_IP: u64 = 4;
    pub const PEERS: u64 = 5;
    pub const TRIP: u64 = 6;
    pub const ATTACK: u64 = 7;
    pub const QUIRKS_DELIVERY: u64 = 8;
    pub const QUIRKS_SHUFFLE: u64 = 9;
    pub const QUIRKS_FRAMING: u64 = 10;
    pub const QUIRKS_FIELDS: u64 = 11;
    pub const PLAN: u64 = 12;
    pub const MOBILE_IP: u64 = 14;
}

/// splitmix64 finaliser.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

pub(crate) fn rng_for(seed: u64, tag: u64, a: u64, b: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    let words = [
        mix(seed ^ mix(tag)),
        mix(seed.rotate_left(17) ^ mix(a ^ 0x5151)),
        mix(mix(b ^ 0xabcd) ^ tag.rotate_left(31)),
        mix(seed ^ a.rotate_left(7) ^ b.rotate_left(41) ^ tag),
    ];
    for (i, w) in words.iter().enumerate() {
        key[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
    }
    ChaCha8Rng::from_seed(key)
}

fn format_guid(bytes: [u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 36];
    let mut j = 0;
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out[j] = b'-';
            j += 1;
        }
        out[j] = HEX[(b >> 4) as usize];
        out[j + 1] = HEX[(b & 0xf) as usize];
        j += 2;
    }
    String::from_utf8(out.to_vec()).expect("ascii")
}

/// A random (version 4) GUID, lower case.
pub(crate) fn guid<R: Rng + ?Sized>(rng: &mut R) -> String {
    let mut bytes: [u8; 16] = rng.random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    format_guid(bytes)
}

/// A GUID fixed by a name (for well-known application ids that are not Microsoft's).
pub(crate) fn stable_guid(name: &str) -> String {
    let mut h1: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h1 = (h1 ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    let h2 = mix(h1 ^ 0x1234_5678);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&mix(h1).to_le_bytes());
    bytes[8..].copy_from_slice(&h2.to_le_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    format_guid(bytes)
}

/// `n` random upper-case hex digits.
pub(crate) fn hex_upper<R: Rng + ?Sized>(rng: &mut R, n: usize) -> String {
    const D: &[u8; 16] = b"0123456789ABCDEF";
    (0..n).map(|_| D[rng.random_range(0..16)] as char).collect()
}

/// Poisson-distributed count (Knuth; fine for the small means used here).
pub(crate) fn poisson<R: Rng + ?Sized>(rng: &mut R, lambda: f64) -> u32 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda > 30.0 {
        // Normal approximation.
        let u1: f64 = rng.random::<f64>().max(1e-12);
        let u2: f64 = rng.random();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        return (lambda + z * lambda.sqrt()).round().max(0.0) as u32;
    }
    let l = (-lambda).exp();
    let mut k = 0;
    let mut p = 1.0;
    loop {
        p *= rng.random::<f64>();
        if p <= l {
            return k;
        }
        k += 1;
    }
}

pub(crate) fn pick<'a, T, R: Rng + ?Sized>(rng: &mut R, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

pub(crate) fn pick_weighted<'a, T, R: Rng + ?Sized>(rng: &mut R, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|(_, w)| *w).sum();
    let mut x = rng.random_range(0..total);
    for (item, w) in items {
        if x < *w {
            return item;
        }
        x -= *w;
    }
    &items[items.len() - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_deterministic_and_distinct() {
        let a: u64 = rng_for(1, 2, 3, 4).random();
        let b: u64 = rng_for(1, 2, 3, 4).random();
        let c: u64 = rng_for(1, 2, 3, 5).random();
        let d: u64 = rng_for(2, 2, 3, 4).random();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn guids_look_like_guids() {
        let mut r = rng_for(0, 0, 0, 0);
        let g = guid(&mut r);
        assert_eq!(g.len(), 36);
        assert_eq!(&g[14..15], "4");
        assert_eq!(stable_guid("Spike"), stable_guid("Spike"));
        assert_ne!(stable_guid("Spike"), stable_guid("Spark"));
    }

    #[test]
    fn poisson_mean_is_close() {
        let mut r = rng_for(9, 9, 9, 9);
        let n = 20_000;
        let sum: u64 = (0..n).map(|_| poisson(&mut r, 4.0) as u64).sum();
        let mean = sum as f64 / n as f64;
        assert!((mean - 4.0).abs() < 0.1, "{mean}");
    }
}
