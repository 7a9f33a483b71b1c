//! A small, bounded, thread-safe memo table keyed by strings.
//!
//! User agents and mail domains repeat a lot in audit logs, so classification results are
//! remembered. Each thread keeps its own table (no lock on the hot path: enrichment runs for
//! every event, several lookups each); a table that fills up is simply cleared, which keeps
//! memory bounded without bookkeeping. Values are pure functions of their keys, so tables of
//! different threads never disagree.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::hash::Hash;

use rustc_hash::FxHashMap;
use thread_local::ThreadLocal;

/// Keys are hashed with FxHash (fast; these keys are short and a table is small and cleared
/// when full, so a crafted collision can cost at most one table's worth of comparisons).
pub(crate) struct BoundedCache<K: Send, V: Send> {
    tables: ThreadLocal<RefCell<FxHashMap<K, V>>>,
    capacity: usize,
    max_key_len: usize,
}

impl<K: Hash + Eq + Send, V: Clone + Send> BoundedCache<K, V> {
    /// At most `capacity` entries per thread; keys longer than `max_key_len` bytes are never
    /// stored.
    pub(crate) fn new(capacity: usize, max_key_len: usize) -> Self {
        BoundedCache {
            tables: ThreadLocal::new(),
            capacity: capacity.max(1),
            max_key_len,
        }
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
        let table = self.tables.get_or(|| RefCell::new(FxHashMap::default()));
        if let Some(v) = table.borrow().get(key) {
            return v.clone();
        }
        // Computed without the table borrowed, so that computing may use other caches.
        let value = compute();
        let mut table = table.borrow_mut();
        if table.len() >= self.capacity {
            table.clear();
        }
        table.insert(owned(key), value.clone());
        value
    }
}

impl<V: Clone + Send> BoundedCache<Box<str>, V> {
    /// Returns the remembered value for a string key, computing it on a miss.
    pub(crate) fn get_or_insert_with(&self, key: &str, compute: impl FnOnce() -> V) -> V {
        self.get_or_insert(key, key.len(), |k: &str| Box::from(k), compute)
    }

    /// Entries in the calling thread's table.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.tables.get().map_or(0, |t| t.borrow().len())
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
    fn threads_share_the_cache_and_each_stays_bounded() {
        let cache = BoundedCache::new(32, 100);
        std::thread::scope(|scope| {
            for t in 0..4u64 {
                let cache = &cache;
                scope.spawn(move || {
                    for i in 0..1_000u64 {
                        let key = (i % 50).to_string();
                        let v = cache.get_or_insert_with(&key, || (i % 50) * 10);
                        assert_eq!(v, (i % 50) * 10, "thread {t}");
                    }
                    assert!(cache.len() <= 32);
                });
            }
        });
    }

    #[test]
    fn long_keys_are_computed_but_not_stored() {
        let cache = BoundedCache::new(64, 4);
        assert_eq!(cache.get_or_insert_with("too long", || 7), 7);
        assert_eq!(cache.len(), 0);
    }
}
