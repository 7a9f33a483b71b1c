//! The criterion benchmark's paths, run round-robin so that each ratio compares runs taken
//! moments apart (this machine's speed drifts by ±25% over minutes):
//! `cargo run --release -p vigil-ingest --example ingest_ratio -- [ROUNDS [PATH]]`.
//! Prints each path's fastest and median run and its ratio to parse-only. PATH keeps only the
//! paths whose name contains it (and parse-only); `=NAME` keeps only that one. Each path is its
//! own function (`path_parse_only`, `path_ingest`, ...) so that a profiler can attribute costs
//! to it, e.g.
//! `valgrind --tool=callgrind --cache-sim=yes --toggle-collect='*path_*' ...`.

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

use vigil_event::Event;
use vigil_ingest::ReplayOptions;
use vigil_sources::FileReader;

#[path = "../benches/common/mod.rs"]
mod common;

#[global_allocator]
static GLOBAL: vigil_alloc::Allocator = vigil_alloc::Allocator;

type Enrich<'a> = &'a (dyn Fn(&mut Event) + Sync);

#[inline(never)]
fn path_parse_only(files: &[PathBuf], _: Enrich) -> u64 {
    common::parse_only(files)
}

#[inline(never)]
fn path_parse_and_normalise(files: &[PathBuf], _: Enrich) -> u64 {
    let mut n = 0;
    for f in files {
        for e in FileReader::open(f, None, Arc::new(AtomicU64::new(0))).expect("open") {
            n += 1;
            std::hint::black_box(e.ok());
        }
    }
    n
}

fn replay(files: &[PathBuf], options: &ReplayOptions, enrich: Enrich) -> u64 {
    common::replay_counting(files, options, enrich)
}

#[inline(never)]
fn path_ingest_without_window_or_enrichment(files: &[PathBuf], _: Enrich) -> u64 {
    replay(files, &common::without_window(), &|_| {})
}

/// The stages the ingest issue names (read, decompress, parse, normalise, deduplicate,
/// enrich), with logon linking, and without holding events for reordering.
#[inline(never)]
fn path_ingest_without_window(files: &[PathBuf], enrich: Enrich) -> u64 {
    replay(files, &common::without_window(), enrich)
}

#[inline(never)]
fn path_ingest_without_enrichment(files: &[PathBuf], _: Enrich) -> u64 {
    replay(files, &ReplayOptions::default(), &|_| {})
}

#[inline(never)]
fn path_ingest(files: &[PathBuf], enrich: Enrich) -> u64 {
    replay(files, &ReplayOptions::default(), enrich)
}

type PathFn = fn(&[PathBuf], Enrich) -> u64;

fn main() {
    vigil_alloc::configure();
    let rounds: usize = std::env::args()
        .nth(1)
        .map(|r| r.parse().expect("rounds"))
        .unwrap_or(9);
    let only = std::env::args().nth(2);
    let dir = tempfile::tempdir().expect("tempdir");
    let (files, records) = common::write_mixed_input(dir.path(), 48 << 20, 4 << 20, 7);
    let enricher = common::load_enricher();
    let enrich = |e: &mut Event| enricher.enrich(e);

    let paths: Vec<(&str, PathFn)> = [
        ("parse_only", path_parse_only as PathFn),
        ("parse_and_normalise", path_parse_and_normalise),
        (
            "ingest_without_window_or_enrichment",
            path_ingest_without_window_or_enrichment,
        ),
        ("ingest_without_window", path_ingest_without_window),
        ("ingest_without_enrichment", path_ingest_without_enrichment),
        ("ingest", path_ingest),
    ]
    .into_iter()
    .enumerate()
    .filter(|(i, (name, _))| {
        *i == 0
            || only.as_deref().is_none_or(|o| match o.strip_prefix('=') {
                Some(exact) => *name == exact,
                None => name.contains(o),
            })
    })
    .map(|(_, p)| p)
    .collect();
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); paths.len()];
    for _ in 0..rounds {
        for (i, (_, run)) in paths.iter().enumerate() {
            let started = Instant::now();
            std::hint::black_box(run(&files, &enrich));
            times[i].push(started.elapsed().as_secs_f64());
        }
    }
    let stat = |t: &mut Vec<f64>| {
        t.sort_by(f64::total_cmp);
        (t[0], t[t.len() / 2])
    };
    let (base_min, base_median) = stat(&mut times[0].clone());
    println!("{records} records, {rounds} rounds; fastest and median run of each path");
    for (i, (name, _)) in paths.iter().enumerate() {
        let (min, median) = stat(&mut times[i]);
        println!(
            "{name:<38} {:>7.0}k rec/s (median {:>5.0}k)  ratio {:.2} (median {:.2})",
            records as f64 / min / 1e3,
            records as f64 / median / 1e3,
            base_min / min,
            base_median / median
        );
    }
}
