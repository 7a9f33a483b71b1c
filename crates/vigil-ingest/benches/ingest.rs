//! Ingest throughput against parsing alone, on the same mixed input in the same run.
//!
//! `parse_only`: split files into records, unwrap envelopes and deserialise each record with
//! serde_json into its typed record (`FileReader::deserialize_only`).
//! `ingest`: the whole path of `vigil replay`: read, decompress, parse, normalise, deduplicate,
//! enrich (country, ASN, user agent, domains), link logons, reorder.
//! `ingest_without_window`: the stages the ingest issue names (read, decompress, parse,
//! normalise, deduplicate, enrich) and logon linking, with a reordering window of 0.
//!
//! cargo bench -p vigil-ingest --bench ingest

use std::hint::black_box;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vigil_ingest::ReplayOptions;
use vigil_sources::FileReader;

mod common;

// The same allocator as the `vigil` binary.
#[global_allocator]
static GLOBAL: vigil_alloc::Allocator = vigil_alloc::Allocator;

fn bench(c: &mut Criterion) {
    vigil_alloc::configure();
    let dir = tempfile::tempdir().expect("tempdir");
    let (files, records) = common::write_mixed_input(dir.path(), 48 << 20, 4 << 20, 7);
    let enricher = common::load_enricher();
    let enrich = |e: &mut vigil_event::Event| enricher.enrich(e);

    let mut group = c.benchmark_group("ingest_48MB_mixed");
    group.sample_size(10);
    group.throughput(Throughput::Elements(records));
    group.bench_function("parse_only", |b| {
        b.iter(|| black_box(common::parse_only(&files)))
    });
    group.bench_function("parse_and_normalise", |b| {
        b.iter(|| {
            let mut n = 0;
            for f in &files {
                for e in FileReader::open(f, None, Arc::new(AtomicU64::new(0))).expect("open") {
                    n += 1;
                    black_box(e.ok());
                }
            }
            black_box(n)
        })
    });
    let full = ReplayOptions::default();
    group.bench_function("ingest", |b| {
        b.iter(|| black_box(common::replay_counting(&files, &full, &enrich)))
    });
    let no_window = common::without_window();
    group.bench_function("ingest_without_window", |b| {
        b.iter(|| black_box(common::replay_counting(&files, &no_window, &enrich)))
    });
    // The same path without enrichment, to show what enrichment costs.
    let no_enrich = |_: &mut vigil_event::Event| {};
    group.bench_function("ingest_without_enrichment", |b| {
        b.iter(|| black_box(common::replay_counting(&files, &full, &no_enrich)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
