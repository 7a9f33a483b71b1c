//! Runs the simulator and reports throughput.
//!
//! `cargo run --release -p vigil-sim --example simulate -- ACCOUNTS DAYS SEED OUT_DIR [ATTACK[@DAY]]...`

use std::path::PathBuf;
use std::time::Instant;

use vigil_sim::{simulate, AttackSpec, SimConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |i: usize, d: &str| args.get(i).cloned().unwrap_or_else(|| d.to_string());
    let accounts: usize = get(0, "10000").parse().expect("accounts");
    let days: u32 = get(1, "1").parse().expect("days");
    let seed: u64 = get(2, "1").parse().expect("seed");
    let out = PathBuf::from(get(3, "/tmp/vigil-sim-out"));
    let attacks: Vec<AttackSpec> = args
        .iter()
        .skip(4)
        .map(|a| a.parse().expect("attack spec"))
        .collect();
    let cfg = SimConfig {
        accounts,
        days,
        seed,
        attacks,
        ..SimConfig::default()
    };
    let started = Instant::now();
    let summary = simulate(&cfg, &out, &|_| {}).expect("simulation");
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} accounts x {} days: {} records in {} files, {:.2} s, {:.0} records/s",
        summary.accounts,
        summary.days,
        summary.records,
        summary.files.len(),
        secs,
        summary.records as f64 / secs
    );
}
