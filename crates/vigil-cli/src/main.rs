//! `vigil`: the command-line entry point. Thin by design: parsing arguments, loading the
//! configuration, wiring the crates together, and talking to the terminal.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Deserialize;
use vigil_enrich::{EnrichConfig, Enricher};
use vigil_event::{Event, Format};
use vigil_ingest::{IngestConfig, Progress, ReplayOptions};
use vigil_report::Report;
use vigil_sources::RecordError;

mod collect;
mod serve;

// mimalloc, with the settings vigil-alloc documents.
#[global_allocator]
static GLOBAL: vigil_alloc::Allocator = vigil_alloc::Allocator;

#[derive(Parser)]
#[command(
    name = "vigil",
    version,
    about = "Self-learning threat detection and response for Microsoft 365"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read logs (files or directories, any mix of formats, plain or .gz) and report.
    Replay(ReplayArgs),
    /// Write a realistic Microsoft 365 tenant's logs, with labelled attacks, in the real formats.
    Simulate(SimulateArgs),
    /// Generate a tenant with the reference attack, replay it, and show the incident, its
    /// timeline and the actions with the times they would have been taken.
    Demo(DemoArgs),
    /// Score a report against a simulator's ground truth (or simulate, replay and score).
    Eval(EvalArgs),
    /// Collect live from Microsoft 365, detect, respond and export (docs/deployment.md).
    Collect(collect::CollectArgs),
    /// Run the store, live detection, the API and the console (`--demo` replays the reference
    /// attack into it).
    Serve(serve::ServeArgs),
    /// List the detection models or run their inline tests.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Every model with its kind, category, autonomy and source.
    List {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Run every model's inline test cases.
    Test {
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct SimulateArgs {
    /// Number of accounts.
    #[arg(long, default_value_t = 200)]
    accounts: usize,
    /// Days of activity.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Random seed: the same seed gives byte-identical output.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// An attack to stage, as KIND or KIND@DAY (day counted from 0). Repeatable. Kinds:
    /// reference-chain, password-spray, mfa-fatigue, bec-forwarding-rule, illicit-consent,
    /// mass-download, stolen-session, hidden-security-rule.
    #[arg(long = "attack", value_name = "KIND[@DAY]")]
    attacks: Vec<vigil_sim::AttackSpec>,
    /// First day of the simulated period (UTC), e.g. 2022-01-17.
    #[arg(long, value_parser = parse_day)]
    start: Option<chrono::DateTime<chrono::Utc>>,
    /// Write records cleanly: no duplicates, late delivery or string-typed numbers.
    #[arg(long)]
    no_quirks: bool,
    /// Output directory (audit/, signins/, messagetrace/, truth.json).
    #[arg(long)]
    out: PathBuf,
    /// Print no progress and no summary.
    #[arg(long, short)]
    quiet: bool,
}

fn parse_day(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    vigil_event::time::parse_timestamp(s)
}

fn simulate(args: SimulateArgs) -> Result<ExitCode> {
    let mut config = vigil_sim::SimConfig {
        accounts: args.accounts,
        days: args.days,
        seed: args.seed,
        attacks: args.attacks,
        api_quirks: !args.no_quirks,
        ..Default::default()
    };
    if let Some(start) = args.start {
        config.start = start;
    }
    let target = if args.quiet || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(None, target);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {pos} records ({per_sec})")
            .expect("valid template"),
    );
    let started = std::time::Instant::now();
    let summary = vigil_sim::simulate(&config, &args.out, &|n| bar.set_position(n))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();
    if !args.quiet {
        eprintln!(
            "wrote {} records for {} accounts over {} days with {} attacks to {} in {:.1}s ({} files; ground truth in truth.json)",
            summary.records,
            summary.accounts,
            summary.days,
            summary.attacks,
            args.out.display(),
            started.elapsed().as_secs_f64(),
            summary.files.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
struct ReplayArgs {
    /// Configuration file (TOML); see docs/configuration.md.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Write the report (summary, breaches, incidents, actions) as JSON here; `-` for stdout.
    #[arg(long, value_name = "PATH")]
    report_json: Option<PathBuf>,
    /// Write the normalised event stream as JSON lines here; `-` for stdout.
    #[arg(long, value_name = "PATH")]
    events: Option<PathBuf>,
    /// Parse every file as this format instead of recognising it by content. One of:
    /// management_api, office_activity_table, graph_sign_in, azure_monitor_sign_in,
    /// log_analytics_sign_in, graph_directory_audit, azure_monitor_directory_audit,
    /// log_analytics_audit_logs, message_trace_reporting, message_trace_iso.
    #[arg(long, value_parser = parse_format)]
    format: Option<Format>,
    /// Stop at the first record that cannot be read.
    #[arg(long)]
    strict: bool,
    /// Keep deduplication state here between runs (overrides the configuration's state_dir).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Benchmark baseline: only split and deserialise records (no normalising, deduplication,
    /// enrichment or ordering), then print how many and how fast.
    #[arg(long)]
    parse_only: bool,
    /// Print no progress bar and no summary.
    #[arg(long, short)]
    quiet: bool,
    /// Ingest only: no detection (for measuring ingest alone).
    #[arg(long)]
    no_detect: bool,
    /// Files or directories to read.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::parse(s).ok_or_else(|| {
        let names: Vec<_> = Format::ALL.iter().map(|f| f.as_str()).collect();
        format!("unknown format {s:?}; expected one of {}", names.join(", "))
    })
}

/// The configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Config {
    /// Where state (deduplication ids) is kept between runs.
    state_dir: Option<PathBuf>,
    ingest: IngestConfig,
    enrich: EnrichConfig,
    engine: vigil_engine::EngineConfig,
    /// Extra model files (TOML), added to the built-in library.
    models: Vec<PathBuf>,
    /// Live collection (`vigil collect`).
    collect: vigil_live::CollectConfig,
    /// Response executors (`vigil collect`, and `vigil serve` when the section is present).
    respond: Option<vigil_respond::RespondConfig>,
    /// Exports to the SOC's tools (`vigil collect`).
    export: vigil_export::ExportConfig,
}

impl Config {
    fn load(path: Option<&Path>) -> Result<Config> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read configuration {}", path.display()))?;
        let mut config: Config =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        // Relative paths in the file are relative to the file.
        let base = path.parent().unwrap_or(Path::new("."));
        let rel = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(p) = config.state_dir.as_mut() {
            rel(p);
        }
        if let Some(p) = config.enrich.country_mmdb.as_mut() {
            rel(p);
        }
        config.enrich.asn_csv.iter_mut().for_each(rel);
        if let Some(p) = config.enrich.public_suffix_list.as_mut() {
            rel(p);
        }
        config.models.iter_mut().for_each(rel);
        collect::resolve_relative_paths(&mut config, base);
        Ok(config)
    }

    /// The engine configuration with the extra model files read in (the engine reads no files).
    fn engine(&self) -> Result<vigil_engine::EngineConfig> {
        let mut engine = self.engine.clone();
        for path in &self.models {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read model file {}", path.display()))?;
            engine
                .model_sources
                .push((path.display().to_string(), text));
        }
        Ok(engine)
    }
}

/// Progress on a terminal: a bar over the bytes of all files; rejections printed above it.
struct TerminalProgress {
    bar: ProgressBar,
    printed: AtomicU64,
}

const PRINTED_REJECTIONS: u64 = 50;

impl TerminalProgress {
    fn new(quiet: bool) -> Self {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(Some(0), target);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta}) {msg}",
            )
            .expect("valid template"),
        );
        TerminalProgress {
            bar,
            printed: AtomicU64::new(0),
        }
    }
}

impl Progress for TerminalProgress {
    fn start(&self, total_bytes: u64, files: usize) {
        self.bar.set_length(total_bytes);
        self.bar.set_message(format!("{files} files"));
    }

    fn advance(&self, bytes_read: u64, events: u64) {
        self.bar.set_position(bytes_read);
        self.bar.set_message(format!("{events} events"));
    }

    fn reject(&self, error: &RecordError) {
        let n = self.printed.fetch_add(1, Ordering::Relaxed);
        if n < PRINTED_REJECTIONS {
            self.bar.suspend(|| eprintln!("rejected: {error}"));
        } else if n == PRINTED_REJECTIONS {
            self.bar.suspend(|| {
                eprintln!("(further rejections are counted in the summary, not printed)")
            });
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn open_output(path: &Path) -> Result<Box<dyn Write>> {
    if path == Path::new("-") {
        Ok(Box::new(std::io::BufWriter::new(std::io::stdout().lock())))
    } else {
        let f = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Box::new(std::io::BufWriter::with_capacity(1 << 20, f)))
    }
}

fn parse_only(args: &ReplayArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let files = vigil_sources::collect_files(&args.paths)?;
    let bytes = std::sync::Arc::new(AtomicU64::new(0));
    let mut records = 0;
    for f in &files {
        let reader = vigil_sources::FileReader::open(f, args.format, bytes.clone())
            .with_context(|| format!("cannot open {}", f.display()))?;
        records += reader.deserialize_only();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "parse-only: {records} records from {} files ({:.1} MB) in {secs:.2}s: {:.0} records/s",
        files.len(),
        bytes.load(Ordering::Relaxed) as f64 / 1e6,
        records as f64 / secs
    );
    Ok(ExitCode::SUCCESS)
}

/// What a replay produced: the report and, when detection ran, the engine with its details.
struct ReplayRun {
    report: Report,
    engine: Option<vigil_engine::Engine>,
}

/// Reads `paths` through ingest and (unless `engine_config` is `None`) detection. Returns
/// `Ok(None)` when the replay stopped on a bad record (`--strict`) or an I/O error, already
/// reported on stderr.
fn run_replay(
    paths: &[PathBuf],
    config: &Config,
    options: &ReplayOptions,
    engine_config: Option<vigil_engine::EngineConfig>,
    events: Option<&Path>,
    quiet: bool,
) -> Result<Option<ReplayRun>> {
    let mut enrich_config = config.enrich.clone();
    enrich_config.resolve_defaults();
    let enricher = Enricher::load(&enrich_config).context("cannot load enrichment data")?;
    if !enricher.has_country_data() && !quiet {
        eprintln!(
            "warning: no IP country database found; run scripts/fetch-ip-data.sh (searched {:?})",
            EnrichConfig::default_data_dirs()
        );
    }
    let files = vigil_sources::collect_files(paths)?;
    let mut engine = engine_config
        .map(|c| vigil_engine::Engine::new(c).map_err(|e| anyhow::anyhow!("{e}")))
        .transpose()?;
    let mut events_out = events.map(open_output).transpose()?;
    let mut write_error: Option<std::io::Error> = None;
    let mut sink = |e: Event| {
        if let Some(engine) = engine.as_mut() {
            engine.process(&e);
        }
        if let Some(w) = events_out.as_mut() {
            if write_error.is_none() {
                let r = serde_json::to_writer(&mut *w, &e)
                    .map_err(std::io::Error::from)
                    .and_then(|_| w.write_all(b"\n"));
                if let Err(err) = r {
                    write_error = Some(err);
                }
            }
        }
    };
    let progress = TerminalProgress::new(quiet);
    let enrich = |e: &mut Event| enricher.enrich(e);
    let summary = vigil_ingest::replay(&files, options, &enrich, &progress, &mut sink);
    if let Some(w) = events_out.as_mut() {
        w.flush()?;
    }
    if let Some(err) = write_error {
        return Err(err).context("cannot write the event stream");
    }
    let summary = match summary {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(None);
        }
    };
    let mut report = Report {
        summary,
        ..Default::default()
    };
    if let Some(engine) = &engine {
        engine.fill_report(&mut report);
    }
    Ok(Some(ReplayRun { report, engine }))
}

fn replay(args: ReplayArgs) -> Result<ExitCode> {
    if args.parse_only {
        return parse_only(&args);
    }
    let config = Config::load(args.config.as_deref())?;
    let options = ReplayOptions {
        format: args.format,
        strict: args.strict,
        ingest: config.ingest.clone(),
        state_dir: args.state_dir.clone().or(config.state_dir.clone()),
    };
    let engine_config = (!args.no_detect).then(|| config.engine()).transpose()?;
    let detect = engine_config.is_some();
    let Some(run) = run_replay(
        &args.paths,
        &config,
        &options,
        engine_config,
        args.events.as_deref(),
        args.quiet,
    )?
    else {
        return Ok(ExitCode::from(1));
    };
    if !args.quiet {
        eprint!("{}", run.report.summary.to_text());
        if detect {
            eprint!("{}", detection_text(&run.report));
        }
        if let Some(engine) = &run.engine {
            let state = engine.state();
            let accounts = state.accounts.len();
            let bytes = state.accounts_size_estimate();
            eprintln!(
                "pattern of life: {accounts} accounts, {:.1} MB ({} bytes per account)",
                bytes as f64 / 1e6,
                bytes.checked_div(accounts).unwrap_or(0)
            );
        }
    }
    if let Some(path) = &args.report_json {
        let mut w = open_output(path)?;
        serde_json::to_writer_pretty(&mut w, &run.report)?;
        w.write_all(b"\n")?;
        w.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
struct EvalArgs {
    /// Ground truth written by `vigil simulate` (truth.json).
    #[arg(long, requires = "report", conflicts_with = "simulate")]
    truth: Option<PathBuf>,
    /// Report written by `vigil replay --report-json`.
    #[arg(long)]
    report: Option<PathBuf>,
    /// End to end: simulate a tenant (see `vigil simulate`), replay it in autonomous mode, score.
    #[arg(long)]
    simulate: bool,
    #[arg(long, default_value_t = 200)]
    accounts: usize,
    #[arg(long, default_value_t = 21)]
    days: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long = "attack", value_name = "KIND[@DAY]")]
    attacks: Vec<vigil_sim::AttackSpec>,
    /// Also write the evaluation as JSON here (`-` for stdout).
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Exit 1 when the detection issue's thresholds are not met (recall 1.0 per kind, median
    /// time to detect under 5 minutes, at most 1 false incident per 1000 account-days, no
    /// innocent account disabled, reference chain contained and held in one incident).
    #[arg(long)]
    check: bool,
}

fn eval(args: EvalArgs) -> Result<ExitCode> {
    let evaluation = if args.simulate {
        let sim = vigil_sim::SimConfig {
            accounts: args.accounts,
            days: args.days,
            seed: args.seed,
            attacks: args.attacks.clone(),
            ..Default::default()
        };
        let scratch = tempfile::tempdir().context("cannot create a scratch directory")?;
        let engine = Config::default().engine()?;
        let (evaluation, _) = vigil_eval::run_end_to_end(&sim, scratch.path(), engine)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        evaluation
    } else {
        let (Some(truth), Some(report)) = (&args.truth, &args.report) else {
            anyhow::bail!("give --truth and --report, or --simulate");
        };
        let truth = vigil_sim::load_truth(truth).map_err(|e| anyhow::anyhow!("{e}"))?;
        let text = std::fs::read_to_string(report)
            .with_context(|| format!("cannot read {}", report.display()))?;
        let report: Report = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: not a Vigil report: {e}", report.display()))?;
        vigil_eval::score(&truth, &report)
    };
    print!("{}", evaluation.to_text());
    if let Some(path) = &args.json {
        let mut w = open_output(path)?;
        serde_json::to_writer_pretty(&mut w, &evaluation)?;
        w.write_all(b"\n")?;
        w.flush()?;
    }
    if args.check {
        let violations = evaluation.check(&vigil_eval::Thresholds::default());
        for v in &violations {
            eprintln!("threshold not met: {v}");
        }
        if !violations.is_empty() {
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
struct DemoArgs {
    /// Accounts in the generated tenant.
    #[arg(long, default_value_t = 200)]
    accounts: usize,
    /// Days of history; the attack starts two days before the end.
    #[arg(long, default_value_t = 21)]
    days: u32,
    #[arg(long, default_value_t = 2022)]
    seed: u64,
    /// Global response mode: confirm (the reference organisation's) or autonomous.
    #[arg(long, default_value = "confirm", value_parser = ["confirm", "autonomous", "off"])]
    mode: String,
    /// Where the tenant and report go (default: a directory under target/).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn demo(args: DemoArgs) -> Result<ExitCode> {
    anyhow::ensure!(args.days >= 3, "--days must be at least 3");
    let out = args.out.unwrap_or_else(|| PathBuf::from("target/demo"));
    let tenant = out.join("tenant");
    if tenant.exists() {
        std::fs::remove_dir_all(&tenant)
            .with_context(|| format!("cannot clear {}", tenant.display()))?;
    }
    let sim = vigil_sim::SimConfig::reference_demo(args.accounts, args.days, args.seed);
    eprintln!(
        "generating {} accounts x {} days with the reference attack on day {} ...",
        args.accounts,
        args.days,
        args.days - 2
    );
    vigil_sim::simulate(&sim, &tenant, &|_| {}).map_err(|e| anyhow::anyhow!("{e}"))?;
    let truth =
        vigil_sim::load_truth(&tenant.join("truth.json")).map_err(|e| anyhow::anyhow!("{e}"))?;
    let config = Config::default();
    let mut engine_config = config.engine()?;
    engine_config.response.mode = match args.mode.as_str() {
        "autonomous" => vigil_report::ActionMode::Autonomous,
        "off" => vigil_report::ActionMode::Off,
        _ => vigil_report::ActionMode::Confirm,
    };
    let paths = ["audit", "signins", "messagetrace"].map(|d| tenant.join(d));
    let options = ReplayOptions {
        ingest: config.ingest.clone(),
        ..Default::default()
    };
    let Some(run) = run_replay(&paths, &config, &options, Some(engine_config), None, false)? else {
        return Ok(ExitCode::from(1));
    };
    eprint!("{}", run.report.summary.to_text());
    let report_path = out.join("report.json");
    let mut w = open_output(&report_path)?;
    serde_json::to_writer_pretty(&mut w, &run.report)?;
    w.flush()?;
    let engine = run.engine.expect("detection ran");
    let attack = truth
        .attacks
        .iter()
        .find(|a| a.kind == vigil_sim::AttackKind::ReferenceChain)
        .context("the simulated tenant has no reference attack")?;
    print!("{}", demo_text(&engine, attack));
    println!(
        "\nreport: {}   tenant and ground truth: {}",
        report_path.display(),
        tenant.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The reference incident as a person reads it: summary, timeline, actions.
fn demo_text(engine: &vigil_engine::Engine, attack: &vigil_sim::TruthAttack) -> String {
    use std::fmt::Write;
    let secs =
        |t: &chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut s = String::new();
    let incidents = engine.incidents_detailed();
    let incident = incidents
        .iter()
        .filter(|i| i.visible && i.merged_into.is_none())
        .filter(|i| attack.compromised.iter().any(|a| i.entities.contains(a)))
        .max_by(|a, b| a.score.total_cmp(&b.score));
    let Some(incident) = incident else {
        let _ = writeln!(
            s,
            "\nno incident holds the attacked accounts {:?}",
            attack.compromised
        );
        return s;
    };
    let _ = writeln!(s, "\n== {} (score {:.0})", incident.title, incident.score);
    let _ = writeln!(s, "{} .. {}", secs(&incident.start), secs(&incident.end));
    let _ = writeln!(
        s,
        "accounts: {}",
        incident
            .entities
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );
    let infra: Vec<String> = incident
        .ips
        .iter()
        .chain(&incident.networks)
        .chain(&incident.countries)
        .chain(&incident.apps)
        .cloned()
        .collect();
    let _ = writeln!(s, "attacker infrastructure: {}", infra.join(", "));
    for link in &incident.links {
        let _ = writeln!(s, "grouped because: {link}");
    }
    let _ = writeln!(s, "\n{}\n\ntimeline:", incident.summary);
    for entry in incident.timeline.iter().take(60) {
        let _ = writeln!(
            s,
            "  {}  {:<32} {}",
            secs(&entry.time),
            entry.entity,
            entry.what
        );
    }
    if incident.timeline.len() > 60 {
        let _ = writeln!(
            s,
            "  ... {} more entries in the report",
            incident.timeline.len() - 60
        );
    }
    let _ = writeln!(
        s,
        "\nactions (event time at which each was, or would have been, taken):"
    );
    for a in engine
        .actions_detailed()
        .iter()
        .filter(|a| a.incident_id == incident.id)
    {
        let before_spam = attack
            .first_spam
            .map(|spam| {
                let minutes = (spam - a.time).num_minutes();
                if minutes >= 0 {
                    format!(", {minutes} min before the first spam")
                } else {
                    format!(", {} min after the first spam", -minutes)
                }
            })
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "  {}  {:<18} {:<45} {:?}/{}{}",
            secs(&a.time),
            a.kind,
            a.target,
            a.mode,
            a.state,
            before_spam
        );
    }
    s
}

/// A few lines on what detection found, for people.
fn detection_text(report: &Report) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "detection: {} breaches, {} incidents, {} actions",
        report.breaches.len(),
        report.incidents.len(),
        report.actions.len()
    );
    let mut incidents: Vec<_> = report.incidents.iter().collect();
    incidents.sort_by(|a, b| b.score.total_cmp(&a.score));
    for i in incidents.iter().take(10) {
        let _ = writeln!(
            s,
            "  [{:>3.0}] {} ({} .. {}): {}",
            i.score,
            i.title,
            i.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            i.end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            i.entities.join(", ")
        );
    }
    s
}

fn models(command: ModelsCommand) -> Result<ExitCode> {
    match command {
        ModelsCommand::List { config } => {
            let config = Config::load(config.as_deref())?;
            let engine =
                vigil_engine::Engine::new(config.engine()?).map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut out = std::io::stdout().lock();
            for m in engine.models() {
                writeln!(
                    out,
                    "{:<60} {:<10} v{:<3} {}:{}",
                    m.name,
                    m.kind_name(),
                    m.version,
                    m.file,
                    m.line
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Test { config } => {
            let config = Config::load(config.as_deref())?;
            let engine =
                vigil_engine::Engine::new(config.engine()?).map_err(|e| anyhow::anyhow!("{e}"))?;
            let outcomes = vigil_engine::model::run_tests(engine.models());
            let failed = outcomes.iter().filter(|o| !o.passed).count();
            let mut out = std::io::stdout().lock();
            for o in &outcomes {
                let status = if o.passed { "ok  " } else { "FAIL" };
                writeln!(
                    out,
                    "{status} {} / {} ({}:{})",
                    o.model, o.test, o.file, o.line
                )?;
                if !o.passed {
                    writeln!(out, "     {}", o.detail)?;
                }
            }
            writeln!(out, "{} passed, {} failed", outcomes.len() - failed, failed)?;
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

fn main() -> ExitCode {
    vigil_alloc::configure();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VIGIL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay(args) => replay(args),
        Command::Simulate(args) => simulate(args),
        Command::Models { command } => models(command),
        Command::Demo(args) => demo(args),
        Command::Eval(args) => eval(args),
        Command::Collect(args) => collect::run(args),
        Command::Serve(args) => serve::serve(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
