//! Record-id deduplication across files and across runs.
//!
//! The Management Activity API repeats records by design. Ids are kept as 64-bit hashes with
//! the event time they belong to, for a horizon of event time (at least 8 days, so that a record
//! re-delivered within the API's 7-day window is still recognised), and saved to the state
//! directory between runs.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use vigil_event::Source;

use crate::prefetch;

const MAGIC: &[u8; 8] = b"VGLDDUP1";

/// The set of record ids seen within the horizon.
pub struct Deduplicator {
    seen: IdTable,
    horizon_secs: i64,
    newest: i64,
    inserts_since_prune: usize,
}

impl Deduplicator {
    pub fn new(horizon_days: u32) -> Self {
        Deduplicator {
            seen: IdTable::default(),
            horizon_secs: i64::from(horizon_days.max(8)) * 86_400,
            newest: i64::MIN,
            inserts_since_prune: 0,
        }
    }

    /// The hash of the source's byte followed by the id: the same id from two sources is two
    /// records. Saved state holds these keys, so they must not change between versions. Ids
    /// that fit are hashed in one shot from a stack copy (the streaming hasher, which gives
    /// the same value, costs several times more, and this runs for every record).
    pub fn key(source: Source, id: &str) -> u64 {
        let mut buf = [0u8; 128];
        match buf.get_mut(1..=id.len()) {
            Some(rest) => {
                rest.copy_from_slice(id.as_bytes());
                buf[0] = source as u8;
                xxhash_rust::xxh3::xxh3_64(&buf[..=id.len()])
            }
            None => {
                let mut h = xxhash_rust::xxh3::Xxh3::new();
                h.update(&[source as u8]);
                h.update(id.as_bytes());
                h.digest()
            }
        }
    }

    /// Records the id; returns `false` when it was already seen.
    pub fn first_sighting(&mut self, source: Source, id: &str, time_secs: i64) -> bool {
        self.first_sighting_of(Self::key(source, id), time_secs)
    }

    /// Asks for the cache line where the id of `key` ([`Deduplicator::key`]) sits or would
    /// sit. The set outgrows the caches (hundreds of thousands of ids), so each probe misses;
    /// asked for a few records ahead, those misses overlap instead of following one another.
    pub fn prefetch(&self, key: u64) {
        self.seen.prefetch(key);
    }

    /// [`Deduplicator::first_sighting`] of an id by its [`Deduplicator::key`].
    pub fn first_sighting_of(&mut self, key: u64, time_secs: i64) -> bool {
        if !self.seen.insert_if_absent(key, time_secs) {
            return false;
        }
        self.newest = self.newest.max(time_secs);
        self.inserts_since_prune += 1;
        // Amortised: prune once the map could have doubled since the last pass.
        if self.inserts_since_prune > 1024 && self.inserts_since_prune > self.seen.len() / 2 {
            self.prune();
        }
        true
    }

    /// Forgets ids whose event time is older than the horizon behind the newest event.
    pub fn prune(&mut self) {
        let cutoff = self.newest.saturating_sub(self.horizon_secs);
        self.seen.retain(|t| t >= cutoff);
        self.inserts_since_prune = 0;
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.len() == 0
    }

    /// Writes the set atomically (a temporary file renamed into place).
    pub fn save(&mut self, path: &Path) -> io::Result<()> {
        self.prune();
        let tmp = path.with_extension("tmp");
        {
            let mut w = BufWriter::new(File::create(&tmp)?);
            w.write_all(MAGIC)?;
            w.write_all(&(self.seen.len() as u64).to_le_bytes())?;
            for (k, t) in self.seen.iter() {
                w.write_all(&k.to_le_bytes())?;
                w.write_all(&t.to_le_bytes())?;
            }
            w.flush()?;
            w.get_ref().sync_all()?;
        }
        std::fs::rename(&tmp, path)
    }

    /// Loads a saved set; a missing file is an empty set.
    pub fn load(path: &Path, horizon_days: u32) -> io::Result<Self> {
        let mut d = Deduplicator::new(horizon_days);
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(d),
            Err(e) => return Err(e),
        };
        let mut r = BufReader::new(file);
        let mut magic = [0u8; 8];
        r.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: not a Vigil deduplication state file", path.display()),
            ));
        }
        let mut n = [0u8; 8];
        r.read_exact(&mut n)?;
        let count = u64::from_le_bytes(n);
        let mut buf = [0u8; 16];
        for _ in 0..count {
            r.read_exact(&mut buf)?;
            let k = u64::from_le_bytes(buf[..8].try_into().expect("8 bytes"));
            let t = i64::from_le_bytes(buf[8..].try_into().expect("8 bytes"));
            d.seen.insert_if_absent(k, t);
            d.newest = d.newest.max(t);
        }
        Ok(d)
    }
}

/// Id keys and their event times in one open-addressed table (linear probing, a power-of-two
/// number of slots, at most 7/8 full), rather than a `HashMap`, so that a key's slot can be
/// fetched ahead of the probe ([`IdTable::prefetch`]). Keys are already uniform hashes, so
/// their low bits index the table. The key 0 marks an empty slot; an id whose key is 0 is
/// kept aside.
#[derive(Default)]
struct IdTable {
    slots: Vec<(u64, i64)>,
    len: usize,
    zero: Option<i64>,
}

const EMPTY: u64 = 0;

impl IdTable {
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    fn prefetch(&self, key: u64) {
        if let Some(slot) = self.slots.get(key as usize & self.mask()) {
            prefetch::line(std::ptr::from_ref(slot).cast());
        }
    }

    /// Inserts `key` with its time unless it is present; returns whether it was inserted.
    fn insert_if_absent(&mut self, key: u64, time: i64) -> bool {
        if key == EMPTY {
            let absent = self.zero.is_none();
            self.zero.get_or_insert(time);
            return absent;
        }
        if (self.len + 1) * 8 > self.slots.len() * 7 {
            self.grow();
        }
        let mask = self.mask();
        let mut i = key as usize & mask;
        loop {
            let slot = &mut self.slots[i];
            if slot.0 == key {
                return false;
            }
            if slot.0 == EMPTY {
                *slot = (key, time);
                self.len += 1;
                return true;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let capacity = (self.slots.len() * 2).max(1024);
        self.rebuild(capacity, |_| true);
    }

    /// Keeps the entries whose time passes `keep`, halving the table while they would fill
    /// less than an eighth of it.
    fn retain(&mut self, keep: impl Fn(i64) -> bool) {
        self.zero = self.zero.filter(|t| keep(*t));
        let kept = self
            .slots
            .iter()
            .filter(|(k, t)| *k != EMPTY && keep(*t))
            .count();
        let mut capacity = self.slots.len();
        while capacity > 1024 && kept * 8 < capacity {
            capacity /= 2;
        }
        self.rebuild(capacity, keep);
    }

    fn rebuild(&mut self, capacity: usize, keep: impl Fn(i64) -> bool) {
        let old = std::mem::replace(&mut self.slots, vec![(EMPTY, 0); capacity]);
        self.len = 0;
        for (k, t) in old {
            if k != EMPTY && keep(t) {
                self.insert_if_absent(k, t);
            }
        }
    }

    fn len(&self) -> usize {
        self.len + usize::from(self.zero.is_some())
    }

    fn iter(&self) -> impl Iterator<Item = (u64, i64)> + '_ {
        let zero = self.zero.map(|t| (EMPTY, t));
        zero.into_iter()
            .chain(self.slots.iter().copied().filter(|(k, _)| *k != EMPTY))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_streaming_hash_of_source_and_id_for_every_length() {
        // Saved state from earlier versions holds these keys.
        for len in [0, 1, 36, 126, 127, 128, 300] {
            let id = "x".repeat(len);
            let mut h = xxhash_rust::xxh3::Xxh3::new();
            h.update(&[Source::SignIn as u8]);
            h.update(id.as_bytes());
            assert_eq!(
                Deduplicator::key(Source::SignIn, &id),
                h.digest(),
                "length {len}"
            );
        }
    }

    #[test]
    fn repeats_are_caught_and_sources_do_not_collide() {
        let mut d = Deduplicator::new(8);
        assert!(d.first_sighting(Source::Audit, "a", 100));
        assert!(!d.first_sighting(Source::Audit, "a", 100));
        assert!(d.first_sighting(Source::SignIn, "a", 100));
    }

    #[test]
    fn ids_older_than_the_horizon_are_forgotten_and_recent_ones_kept() {
        let mut d = Deduplicator::new(8);
        d.first_sighting(Source::Audit, "old", 0);
        d.first_sighting(Source::Audit, "recent", 9 * 86_400 - 10);
        d.first_sighting(Source::Audit, "new", 9 * 86_400);
        d.prune();
        assert!(d.first_sighting(Source::Audit, "old", 0));
        assert!(!d.first_sighting(Source::Audit, "recent", 0));
    }

    #[test]
    fn horizon_is_never_below_eight_days() {
        let mut d = Deduplicator::new(1);
        d.first_sighting(Source::Audit, "x", 0);
        d.first_sighting(Source::Audit, "y", 8 * 86_400 - 1);
        d.prune();
        assert!(!d.first_sighting(Source::Audit, "x", 0));
    }

    #[test]
    fn survives_save_and_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dedup.bin");
        let mut d = Deduplicator::new(8);
        for i in 0..5000 {
            d.first_sighting(Source::Audit, &format!("id-{i}"), 1_000_000 + i);
        }
        d.save(&path).unwrap();
        let mut back = Deduplicator::load(&path, 8).unwrap();
        assert_eq!(back.len(), 5000);
        assert!(!back.first_sighting(Source::Audit, "id-42", 1_000_042));
        assert!(back.first_sighting(Source::Audit, "id-5000", 1_005_000));
        std::fs::write(&path, b"garbage!").unwrap();
        assert!(Deduplicator::load(&path, 8).is_err());
    }

    proptest::proptest! {
        /// The table answers as a map would, through growth, pruning and the key 0.
        #[test]
        fn the_id_table_behaves_as_a_map(
            ops in proptest::collection::vec((0u64..3000, 0i64..100, 0u8..40), 1..3000)
        ) {
            let mut table = IdTable::default();
            let mut model = std::collections::HashMap::new();
            for (key, time, op) in ops {
                // Spread keys over the bits the table indexes by, and hit 0 now and then.
                let key = if key % 97 == 0 { 0 } else { key.wrapping_mul(0x9E37_79B9_7F4A_7C15) };
                if op == 0 {
                    let cutoff = time;
                    table.retain(|t| t >= cutoff);
                    model.retain(|_, t| *t >= cutoff);
                } else {
                    let inserted = table.insert_if_absent(key, time);
                    let expected = !model.contains_key(&key);
                    model.entry(key).or_insert(time);
                    proptest::prop_assert_eq!(inserted, expected);
                }
                proptest::prop_assert_eq!(table.len(), model.len());
            }
            let mut entries: Vec<_> = table.iter().collect();
            entries.sort_unstable();
            let mut expected: Vec<_> = model.into_iter().collect();
            expected.sort_unstable();
            proptest::prop_assert_eq!(entries, expected);
        }
    }
}
