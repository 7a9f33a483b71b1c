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

/// Per-thread memo of what is known about IP addresses, laid out to stay in cache: an address
/// maps to a 32-bit index into the few distinct answers (country, AS and internal flag; an
/// organisation's addresses share one), so an IPv4 entry is 8 bytes. Looked up for every event,
/// where a wide table's entries had left the cache between uses of the same address. Cleared
/// when full, like [`BoundedCache`].
pub(crate) struct IpCache<V: Send> {
    tables: ThreadLocal<RefCell<IpTable<V>>>,
    capacity: usize,
}

struct IpTable<V> {
    v4: FxHashMap<u32, u32>,
    v6: FxHashMap<u128, u32>,
    answers: Vec<V>,
    answer_index: FxHashMap<V, u32>,
}

impl<V> Default for IpTable<V> {
    fn default() -> Self {
        IpTable {
            v4: FxHashMap::default(),
            v6: FxHashMap::default(),
            answers: Vec::new(),
            answer_index: FxHashMap::default(),
        }
    }
}

impl<V: Clone + Hash + Eq + Send> IpCache<V> {
    /// At most `capacity` addresses per thread.
    pub(crate) fn new(capacity: usize) -> Self {
        IpCache {
            tables: ThreadLocal::new(),
            capacity: capacity.max(1),
        }
    }

    /// The remembered answer for `ip`, computing and remembering it on a miss.
    pub(crate) fn get_or_insert(&self, ip: std::net::IpAddr, compute: impl FnOnce() -> V) -> V {
        use std::net::IpAddr;
        let cell = self.tables.get_or(RefCell::default);
        let found = {
            let table = cell.borrow();
            match ip {
                IpAddr::V4(a) => table.v4.get(&a.to_bits()).copied(),
                IpAddr::V6(a) => table.v6.get(&a.to_bits()).copied(),
            }
            .and_then(|i| table.answers.get(i as usize).cloned())
        };
        if let Some(answer) = found {
            return answer;
        }
        // Computed without the table borrowed, so that computing may use other caches.
        let answer = compute();
        let mut table = cell.borrow_mut();
        if table.v4.len() + table.v6.len() >= self.capacity {
            *table = IpTable::default();
        }
        let table = &mut *table;
        let index = match table.answer_index.get(&answer) {
            Some(&i) => i,
            None => {
                let i = u32::try_from(table.answers.len()).unwrap_or(u32::MAX);
                table.answers.push(answer.clone());
                table.answer_index.insert(answer.clone(), i);
                i
            }
        };
        match ip {
            IpAddr::V4(a) => table.v4.insert(a.to_bits(), index),
            IpAddr::V6(a) => table.v6.insert(a.to_bits(), index),
        };
        answer
    }

    /// Addresses in the calling thread's table.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.tables
            .get()
            .map_or(0, |t| t.borrow().v4.len() + t.borrow().v6.len())
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

    #[test]
    fn addresses_share_answers_and_the_table_stays_bounded() {
        let cache: IpCache<u8> = IpCache::new(100);
        let mut computed = 0;
        for round in 0..2 {
            for i in 0..50u32 {
                let v4 = std::net::IpAddr::from(std::net::Ipv4Addr::from_bits(0x0a00_0000 + i));
                let v6 = std::net::IpAddr::from(std::net::Ipv6Addr::from_bits(u128::from(i) << 64));
                let answer = (i % 3) as u8;
                assert_eq!(
                    cache.get_or_insert(v4, || {
                        computed += 1;
                        answer
                    }),
                    answer
                );
                assert_eq!(
                    cache.get_or_insert(v6, || {
                        computed += 1;
                        answer + 10
                    }),
                    answer + 10
                );
            }
            // 100 addresses fit: the second round is answered from the table.
            assert_eq!(computed, 100, "round {round}");
        }
        // Six distinct answers for a hundred addresses.
        let answers = cache.tables.get().map(|t| t.borrow().answers.len());
        assert_eq!(answers, Some(6));
        for i in 0..1000u32 {
            let ip = std::net::IpAddr::from(std::net::Ipv4Addr::from_bits(i));
            assert_eq!(cache.get_or_insert(ip, || (i % 7) as u8), (i % 7) as u8);
            assert!(cache.len() <= 100);
        }
    }
}
