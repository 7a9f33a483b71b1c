//! One end-to-end evaluation run: simulate a tenant, replay it through Vigil, score the report.
//!
//! ```text
//! cargo run --release -p vigil-eval --example evaluate -- \
//!     --accounts 200 --days 21 --seed 7 --attack reference-chain@19 --attack password-spray \
//!     [--label NAME] [--scratch DIR] [--json FILE] [--report FILE] [--markdown FILE] [--summary FILE] [--keep] [--check]
//! ```
//!
//! Prints the evaluation for people on stdout. `--markdown` and `--summary` append a section
//! and a summary-table row (for docs/evaluation.md); `--json` writes the evaluation and `--report` the report; `--check`
//! exits with status 2 when a threshold of the detection issue is crossed.
//!
//! `evaluate pool FILE.json...` prints, as Markdown, per-kind recall and median time to detect
//! pooled over the evaluations written with `--json`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use vigil_eval::{run_end_to_end_with, EndToEndOptions, Evaluation, Thresholds};
use vigil_sim::{AttackSpec, SimConfig};

struct Args {
    sim: SimConfig,
    label: Option<String>,
    scratch: PathBuf,
    json: Option<PathBuf>,
    report: Option<PathBuf>,
    markdown: Option<PathBuf>,
    summary: Option<PathBuf>,
    keep: bool,
    check: bool,
    /// `pool FILE...`: pool evaluation JSON files instead of running.
    pool: Vec<String>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        sim: SimConfig::default(),
        label: None,
        scratch: PathBuf::from("target/eval"),
        json: None,
        report: None,
        markdown: None,
        summary: None,
        keep: false,
        check: false,
        pool: Vec::new(),
    };
    let mut it = std::env::args().skip(1).peekable();
    if it.peek().map(String::as_str) == Some("pool") {
        it.next();
        a.pool = it.collect();
        return Ok(a);
    }
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--accounts" => a.sim.accounts = val()?.parse().map_err(|e| format!("{e}"))?,
            "--days" => a.sim.days = val()?.parse().map_err(|e| format!("{e}"))?,
            "--seed" => a.sim.seed = val()?.parse().map_err(|e| format!("{e}"))?,
            "--attack" => a.sim.attacks.push(val()?.parse::<AttackSpec>()?),
            "--label" => a.label = Some(val()?),
            "--scratch" => a.scratch = PathBuf::from(val()?),
            "--json" => a.json = Some(PathBuf::from(val()?)),
            "--report" => a.report = Some(PathBuf::from(val()?)),
            "--markdown" => a.markdown = Some(PathBuf::from(val()?)),
            "--summary" => a.summary = Some(PathBuf::from(val()?)),
            "--keep" => a.keep = true,
            "--check" => a.check = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(a)
}

fn append(path: &PathBuf, text: &str) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(text.as_bytes())
}

fn summary_row(label: &str, ev: &Evaluation, violations: usize, secs: f64) -> String {
    let attacks: usize = ev.per_kind.iter().map(|k| k.attacks).sum();
    let detected: usize = ev.per_kind.iter().map(|k| k.detected).sum();
    let worst_ttd = ev
        .per_kind
        .iter()
        .filter_map(|k| k.median_ttd_minutes)
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
    let refc = |f: fn(&vigil_eval::ReferenceResult) -> bool| {
        if ev.reference_chain.is_empty() {
            "-".to_string()
        } else {
            let n = ev.reference_chain.iter().filter(|r| f(r)).count();
            format!("{n}/{}", ev.reference_chain.len())
        }
    };
    format!(
        "| {label} | {}×{} | {} | {} | {} | {:.2} | {:.2} ({}) | {} | {} | {} | {} | {:.0} |\n",
        ev.accounts,
        ev.days,
        ev.seed,
        if attacks == 0 {
            "-".to_string()
        } else {
            format!("{detected}/{attacks}")
        },
        worst_ttd.map_or("-".to_string(), |m| format!("{m:.1}")),
        ev.false_breaches_per_1000_account_days,
        ev.false_incidents_per_1000_account_days,
        ev.false_incidents,
        ev.innocent_disabled,
        refc(|r| r.contained_before_spam),
        refc(|r| r.held_in_one_incident),
        violations,
        secs
    )
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(64);
        }
    };
    if !args.pool.is_empty() {
        let mut evals = Vec::new();
        for p in &args.pool {
            let ev = std::fs::read(p)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<Evaluation>(&b).map_err(|e| e.to_string()));
            match ev {
                Ok(ev) => evals.push(ev),
                Err(e) => {
                    eprintln!("error: {p}: {e}");
                    return ExitCode::from(1);
                }
            }
        }
        print!("{}", vigil_eval::pool(&evals).to_markdown());
        return ExitCode::SUCCESS;
    }
    let label = args.label.clone().unwrap_or_else(|| {
        format!(
            "{}x{} seed {}",
            args.sim.accounts, args.sim.days, args.sim.seed
        )
    });
    let started = Instant::now();
    let opts = EndToEndOptions {
        remove_logs: !args.keep,
        ..Default::default()
    };
    let scratch = args.scratch.join(label.replace([' ', '/', '@'], "_"));
    let (ev, report) = match run_end_to_end_with(
        &args.sim,
        &scratch,
        vigil_engine::EngineConfig::default(),
        &opts,
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let secs = started.elapsed().as_secs_f64();
    let violations = ev.check(&Thresholds::default());
    print!("{}", ev.to_text());
    println!("threshold violations: {}", violations.len());
    for v in &violations {
        println!("  {v}");
    }
    println!("({secs:.0}s)");
    let attacks: Vec<String> = args.sim.attacks.iter().map(|a| a.to_string()).collect();
    let result = (|| -> std::io::Result<()> {
        if let Some(p) = &args.report {
            std::fs::write(p, serde_json::to_vec_pretty(&report)?)?;
        }
        if let Some(p) = &args.json {
            std::fs::write(p, serde_json::to_vec_pretty(&ev)?)?;
        }
        if let Some(p) = &args.markdown {
            let mut cmd = vec![format!(
                "--accounts {} --days {} --seed {}",
                args.sim.accounts, args.sim.days, args.sim.seed
            )];
            cmd.extend(attacks.iter().map(|a| format!("--attack {a}")));
            let mut s = format!(
                "### {label}\n\n`cargo run --release -p vigil-eval --example evaluate -- {}`\n\n{} accounts × {} days, seed {}, attacks: {}. {secs:.0} s.\n\n",
                cmd.join(" "),
                ev.accounts,
                ev.days,
                ev.seed,
                if attacks.is_empty() {
                    "none (benign only)".to_string()
                } else {
                    attacks.join(", ")
                }
            );
            s.push_str(&ev.to_markdown());
            if violations.is_empty() {
                s.push_str("Thresholds of the detection issue: all met.\n\n");
            } else {
                s.push_str("Thresholds of the detection issue crossed:\n\n");
                for v in &violations {
                    s.push_str(&format!("- {v}\n"));
                }
                s.push('\n');
            }
            append(p, &s)?;
        }
        if let Some(p) = &args.summary {
            append(p, &summary_row(&label, &ev, violations.len(), secs))?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    if args.check && !violations.is_empty() {
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}
