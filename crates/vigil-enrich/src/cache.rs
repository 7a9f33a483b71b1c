//! A small, bounded, thread-safe memo table keyed by strings.
//!
//! User agents and mail domains repeat a lot in audit logs, so classification results are
//! remembered. The table is split into shards, each behind its own mutex; a shard that fills up is
//! simply cleared, which keeps memory bounded without bookkeeping on the hot path.

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};
use std::sync::{Mutex, MutexGuard};

use rustc_hash::{FxBuildHasher, FxHashMap};

const SHARDS: usize = 16;

type Shard<K, V> = Mutex<FxHashMap<K, V>>;

/// Keys are hashed once with FxHash (fast; these keys are short and a shard is small and cleared
/// when full, so a crafted collision can cost at most one shard's worth of comparisons).
pub(crate) struct BoundedCache<K, V> {
    shards: Box<[Shard<K, V>]>,
    per_shard: usize,
    max_key_len: usize,
}

impl<K: Hash + Eq, V: Clone> BoundedCache<K, V> {
    /// `capacity` entries in all; keys longer than `max_key_len` bytes are never stored.
    pub(crate) fn new(capacity: usize, max_key_len: usize) -> Self {
        let per_shard = capacity.div_ceil(SHARDS).max(1);
        BoundedCache {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(FxHashMap::default()))
                .collect(),
            per_shard,
            max_key_len,
        }
    }

    fn shard<Q: Hash + ?Sized>(&self, key: &Q) -> MutexGuard<'_, FxHashMap<K, V>> {
        let index = (FxBuildHasher.hash_one(key) >> 59) as usize % SHARDS;
        // A panic while holding the lock cannot leave a HashMap half-updated in a way that
        // matters here, so a poisoned lock is simply taken over.
        self.shards[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Returns the remembered value for `key`, computing and remembering it on a miss.
    /// `key_len` is compared with the maximum key length; `owned` makes the stored key.
    pub(crate) fn get_or_insert<Q>(
        &self,
        key: &Q,
        key_len: usize,
        owned: impl FnOnce(&Q) -> K,
        compute: impl FnOnce() -> V,
    ) -> V
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if key_len > self.max_key_len {
            return compute();
        }
        if let Some(v) = self.shard(key).get(key) {
            return v.clone();
        }
        // Computed without the lock held: two threads may race to compute the same value, which
        // is harmless (both results are equal).
        let value = compute();
        let mut shard = self.shard(key);
        if shard.len() >= self.per_shard {
            shard.clear();
        }
        shard.insert(owned(key), value.clone());
        value
    }
}

impl<V: Clone> BoundedCache<Box<str>, V> {
    /// Returns the remembered value for a string key, computing it on a miss.
    pub(crate) fn get_or_insert_with(&self, key: &str, compute: impl FnOnce() -> V) -> V {
        self.get_or_insert(key, key.len(), |k: &str| Box::from(k), compute)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map(|m| m.len()).unwrap_or(0))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_values_and_stays_bounded() {
        let cache = BoundedCache::new(64, 100);
        let mut calls = 0;
        assert_eq!(
            cache.get_or_insert_with("a", || {
                calls += 1;
                1
            }),
            1
        );
        assert_eq!(
            cache.get_or_insert_with("a", || {
                calls += 1;
                2
            }),
            1
        );
        assert_eq!(calls, 1);
        for i in 0..10_000 {
            cache.get_or_insert_with(&i.to_string(), || i);
        }
        assert!(cache.len() <= 64, "cache grew to {}", cache.len());
    }

    #[test]
    fn long_keys_are_computed_but_not_stored() {
        let cache = BoundedCache::new(64, 4);
        assert_eq!(cache.get_or_insert_with("too long", || 7), 7);
        assert_eq!(cache.len(), 0);
    }
}
