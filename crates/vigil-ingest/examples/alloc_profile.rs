//! Where the ingest path allocates: allocations per record for parsing alone and for the
//! ingest paths with and without the reordering window, by size, the blocks live when the
//! most memory is held, and the call sites of a sample of the full path's allocations.
//!
//! ```sh
//! cargo run --release -p vigil-ingest --example alloc_profile
//! ```
//!
//! The benchmark's input (`benches/common`), the process allocator (`vigil-alloc`) behind a
//! counting wrapper. Counts, not times: they do not move between runs. The figures in
//! docs/benchmarks.md come from here.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;

use vigil_event::Event;
use vigil_ingest::ReplayOptions;

#[path = "../benches/common/mod.rs"]
mod common;

/// Size classes by power of two: class `b` counts sizes below `2^b` (and at least `2^(b-1)`).
const CLASSES: usize = 17;

static COUNT: [AtomicU64; CLASSES] = [const { AtomicU64::new(0) }; CLASSES];
static LIVE_BLOCKS: [AtomicU64; CLASSES] = [const { AtomicU64::new(0) }; CLASSES];
static BLOCKS_AT_PEAK: [AtomicU64; CLASSES] = [const { AtomicU64::new(0) }; CLASSES];
static BYTES: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Every this many allocations of the sampled run, one records its call site.
const SAMPLE_EVERY: u64 = 211;
static SAMPLING: AtomicBool = AtomicBool::new(false);
static TICKS: AtomicU64 = AtomicU64::new(0);
static SAMPLES: Mutex<Vec<(usize, String)>> = Mutex::new(Vec::new());
thread_local!(static IN_SAMPLE: Cell<bool> = const { Cell::new(false) });

fn class(size: usize) -> usize {
    ((usize::BITS - size.leading_zeros()) as usize).min(CLASSES - 1)
}

/// The first two frames of the caller's stack that are this project's code.
fn sample(size: usize) {
    if !SAMPLING.load(Relaxed) || !TICKS.fetch_add(1, Relaxed).is_multiple_of(SAMPLE_EVERY) {
        return;
    }
    IN_SAMPLE.with(|busy| {
        // Capturing and formatting a backtrace allocates: those allocations are not sampled.
        if busy.replace(true) {
            return;
        }
        let trace = std::backtrace::Backtrace::force_capture().to_string();
        let site: Vec<&str> = trace
            .lines()
            .filter_map(|l| l.trim_start().split_once(": ").map(|(_, f)| f))
            .filter(|f| f.starts_with("vigil_") || f.starts_with("<vigil_"))
            .take(2)
            .collect();
        if let Ok(mut samples) = SAMPLES.lock() {
            samples.push((size, site.join(" < ")));
        }
        busy.set(false);
    });
}

struct Counting;

// SAFETY: every call is passed to the process allocator unchanged; the wrapper only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if IN_SAMPLE.with(Cell::get) {
            // The sampler's own allocations are not the program's: not counted.
            // SAFETY: the caller's contract is passed on as it is.
            return unsafe { vigil_alloc::Allocator.alloc(layout) };
        }
        let c = class(layout.size());
        COUNT[c].fetch_add(1, Relaxed);
        LIVE_BLOCKS[c].fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
        if PEAK.fetch_max(live, Relaxed) < live {
            for (at_peak, now) in BLOCKS_AT_PEAK.iter().zip(&LIVE_BLOCKS) {
                at_peak.store(now.load(Relaxed), Relaxed);
            }
        }
        sample(layout.size());
        // SAFETY: the caller's contract is passed on as it is.
        unsafe { vigil_alloc::Allocator.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if IN_SAMPLE.with(Cell::get) {
            // SAFETY: as above.
            return unsafe { vigil_alloc::Allocator.dealloc(ptr, layout) };
        }
        LIVE.fetch_sub(layout.size(), Relaxed);
        LIVE_BLOCKS[class(layout.size())].fetch_sub(1, Relaxed);
        // SAFETY: as above.
        unsafe { vigil_alloc::Allocator.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `work` (which returns how many records it handled) and prints its allocations.
fn measure(name: &str, work: impl FnOnce() -> u64) {
    for c in &COUNT {
        c.store(0, Relaxed);
    }
    BYTES.store(0, Relaxed);
    let live_before = LIVE.load(Relaxed);
    PEAK.store(live_before, Relaxed);
    let blocks_before: Vec<u64> = LIVE_BLOCKS.iter().map(|c| c.load(Relaxed)).collect();
    for (at_peak, before) in BLOCKS_AT_PEAK.iter().zip(&blocks_before) {
        at_peak.store(*before, Relaxed);
    }
    let records = work().max(1) as f64;
    let total: u64 = COUNT.iter().map(|c| c.load(Relaxed)).sum();
    println!(
        "{name}: {records} records, {:.2} allocations and {:.0} bytes allocated a record, {:.1} MB held at most",
        total as f64 / records,
        BYTES.load(Relaxed) as f64 / records,
        (PEAK.load(Relaxed) - live_before) as f64 / 1e6,
    );
    println!("  size below   allocations a record   blocks live at the peak (beyond the start)");
    for (c, count) in COUNT.iter().enumerate() {
        let count = count.load(Relaxed);
        if count > 0 {
            let held = BLOCKS_AT_PEAK[c].load(Relaxed) as i64 - blocks_before[c] as i64;
            println!(
                "  {:>10}   {:>20.2}   {held:>10}",
                1u64 << c,
                count as f64 / records
            );
        }
    }
}

fn main() {
    vigil_alloc::configure();
    let dir = tempfile::tempdir().expect("tempdir");
    let (files, _) = common::write_mixed_input(dir.path(), 48 << 20, 4 << 20, 7);
    let enricher = common::load_enricher();
    let enrich = |e: &mut Event| enricher.enrich(e);
    println!("an Event is {} bytes", std::mem::size_of::<Event>());
    measure("parse_only", || common::parse_only(&files));
    measure("ingest_without_window", || {
        common::replay_counting(&files, &common::without_window(), &enrich)
    });
    measure("ingest", || {
        common::replay_counting(&files, &ReplayOptions::default(), &enrich)
    });
    // Once more for the call sites only: the sampler's bookkeeping would upset the counts.
    SAMPLING.store(true, Relaxed);
    common::replay_counting(&files, &ReplayOptions::default(), &enrich);
    SAMPLING.store(false, Relaxed);

    let samples = SAMPLES.lock().map(|s| s.clone()).unwrap_or_default();
    let mut by_site: HashMap<&str, (usize, usize)> = HashMap::new();
    for (size, site) in &samples {
        let entry = by_site.entry(site).or_default();
        entry.0 += 1;
        entry.1 += size;
    }
    let mut sites: Vec<_> = by_site.into_iter().collect();
    sites.sort_by_key(|(_, (count, _))| std::cmp::Reverse(*count));
    println!(
        "call sites of the full path's allocations ({} sampled, one in {SAMPLE_EVERY}):",
        samples.len()
    );
    for (site, (count, bytes)) in sites.iter().take(20) {
        println!(
            "  {:5.1}%  {:>6} bytes on average  {site}",
            100.0 * *count as f64 / samples.len().max(1) as f64,
            bytes / count
        );
    }
}
