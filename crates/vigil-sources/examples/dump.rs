//! Prints every event or error of the files given, one JSON line each: `cargo run --example dump -- FILE...`.
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

fn main() {
    for path in std::env::args().skip(1) {
        let reader =
            vigil_sources::FileReader::open(path.as_ref(), None, Arc::new(AtomicU64::new(0)))
                .expect("open");
        for item in reader {
            match item {
                Ok(mut e) => {
                    e.raw = Arc::from("");
                    println!("{}", serde_json::to_string(&e).unwrap());
                }
                Err(e) => eprintln!("{e}"),
            }
        }
    }
}
