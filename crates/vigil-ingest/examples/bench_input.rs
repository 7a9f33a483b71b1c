//! Writes the mixed benchmark input to a directory, for whole-process runs:
//! `cargo run --release -p vigil-ingest --example bench_input -- DIR [MEGABYTES [FILE_MEGABYTES]]`
//! (the criterion benchmark's input is 48 MB in 4 MB files; the whole-process runs use 16 MB
//! files).

#[path = "../benches/common/mod.rs"]
mod common;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(
        args.next()
            .expect("usage: bench_input DIR [MEGABYTES [FILE_MEGABYTES]]"),
    );
    let megabytes: u64 = args
        .next()
        .map(|m| m.parse().expect("megabytes"))
        .unwrap_or(1024);
    let file_megabytes: u64 = args
        .next()
        .map(|m| m.parse().expect("file megabytes"))
        .unwrap_or(16);
    std::fs::create_dir_all(&dir).expect("create dir");
    let (files, records) =
        common::write_mixed_input(&dir, megabytes << 20, file_megabytes << 20, 7);
    eprintln!(
        "wrote {records} records in {} files to {}",
        files.len(),
        dir.display()
    );
}
