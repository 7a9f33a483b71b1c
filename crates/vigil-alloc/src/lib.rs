//! The allocator of Vigil's processes and its settings, in one place for the `vigil` binary and
//! for the benchmarks that must measure what it runs.
//!
//! Ingest allocates many small, short-lived strings per record; mimalloc handles that pattern
//! markedly better than glibc's allocator (docs/benchmarks.md). Its one setting changed here is
//! how long freed memory waits before it is returned to the operating system: by default one
//! second. A replay's reordering window frees and refills tens of megabytes continuously, so
//! memory returned after a second was faulted straight back in, and the kernel zeroed each
//! page again: 53,000 to 69,000 page faults on a 1 GB replay, against about 460 with a delay of
//! ten seconds (docs/benchmarks.md). After ten seconds idle the memory still goes back.
//!
//! Invariant: [`configure`] changes performance only, never what the program computes.

use libmimalloc_sys::{mi_option_get, mi_option_set, mi_option_t};

pub use mimalloc::MiMalloc as Allocator;

/// The position of `purge_delay` in mimalloc 3's `mi_option_e` (`mimalloc.h`); the sys crate
/// names no constant for it. A test checks it against the option's documented default.
const PURGE_DELAY: mi_option_t = 15;

/// How long freed memory stays with the process before it is returned, in milliseconds.
pub const PURGE_DELAY_MS: i64 = 10_000;

/// Applies Vigil's allocator settings; call it first thing in `main`.
pub fn configure() {
    // SAFETY: setting an option is a plain store into mimalloc's option table; it may be done at
    // any time, from any thread.
    unsafe { mi_option_set(PURGE_DELAY, PURGE_DELAY_MS as _) }
}

/// The purge delay now in force, in milliseconds.
// `c_long` is 32 bits on some targets, where the conversion is not useless.
#[allow(clippy::useless_conversion)]
pub fn purge_delay_ms() -> i64 {
    // SAFETY: reading an option is a plain load from mimalloc's option table.
    i64::from(unsafe { mi_option_get(PURGE_DELAY) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_is_the_purge_delay_and_configure_sets_it() {
        // mimalloc 3 documents a default purge delay of 1000 ms: if the index named another
        // option, this would read that option's value instead. (Unless the environment sets
        // the option, as mimalloc lets it.)
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(
                purge_delay_ms(),
                1000,
                "option {PURGE_DELAY} is not purge_delay"
            );
        }
        configure();
        assert_eq!(purge_delay_ms(), PURGE_DELAY_MS);
    }
}
