//! `vigil collect`: live collection from Microsoft 365 through detection to response and
//! exports, from the configuration file's `[collect]`, `[respond]` and `[export]` sections
//! (docs/deployment.md). Runs until SIGINT or SIGTERM (systemd's stop), then finishes the
//! actions in flight, flushes the exports and saves its state.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use vigil_enrich::{EnrichConfig, Enricher};
use vigil_live::{Live, LiveSettings};

use crate::Config;

#[derive(clap::Args)]
pub struct CollectArgs {
    /// Configuration file (TOML) with [collect], [respond] and [export]; see
    /// docs/deployment.md.
    #[arg(long)]
    pub config: PathBuf,
    /// Where checkpoints, engine state, deduplication ids and the action ledger live
    /// (overrides the configuration's state_dir).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Poll every collector once, process, save and exit (for cron-style runs and checks).
    #[arg(long)]
    pub once: bool,
}

/// Makes the live sections' relative paths relative to the configuration file, as the other
/// sections' are.
pub fn resolve_relative_paths(config: &mut Config, base: &Path) {
    let rel = |p: &mut PathBuf| {
        if p.is_relative() {
            *p = base.join(&*p);
        }
    };
    let creds = &mut config.collect.credentials;
    creds.certificate.iter_mut().for_each(rel);
    creds.private_key.iter_mut().for_each(rel);
    if let Some(s) = config.export.syslog.as_mut() {
        s.ca_file.iter_mut().for_each(rel);
    }
    if let Some(o) = config.export.ocsf.as_mut() {
        rel(&mut o.path);
    }
}

pub fn run(args: CollectArgs) -> Result<ExitCode> {
    let config = Config::load(Some(&args.config))?;
    let state_dir = args
        .state_dir
        .clone()
        .or_else(|| config.state_dir.clone())
        .context("give --state-dir or state_dir in the configuration: live collection keeps checkpoints and engine state there")?;
    let mut enrich_config = config.enrich.clone();
    enrich_config.resolve_defaults();
    let enricher = Enricher::load(&enrich_config).context("cannot load enrichment data")?;
    if !enricher.has_country_data() {
        eprintln!(
            "warning: no IP country database found; run scripts/fetch-ip-data.sh (searched {:?})",
            EnrichConfig::default_data_dirs()
        );
    }
    let settings = LiveSettings {
        collect: config.collect.clone(),
        respond: config.respond.clone().unwrap_or_default(),
        export: config.export.clone(),
        ingest: config.ingest.clone(),
        engine: config.engine()?,
        enricher: Arc::new(enricher),
        state_dir: state_dir.clone(),
        clock: vigil_collect::Clock::default(),
        attempt_sink: None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let mut live = Live::new(settings).map_err(|e| anyhow::anyhow!("{e}"))?;
        eprintln!(
            "collecting into {} (mode {:?}); stop with Ctrl-C or SIGTERM",
            state_dir.display(),
            live.engine_config().response.mode
        );
        if args.once {
            let report = live.poll_once().await;
            live.shutdown().await;
            eprintln!("{}", status_line(&live, &report));
            for e in &report.errors {
                eprintln!("error: {e}");
            }
            return Ok(if report.errors.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        live.run(shutdown_signal()).await;
        eprintln!("stopped; state saved in {}", state_dir.display());
        Ok(ExitCode::SUCCESS)
    })
}

/// One line for people: what arrived, what was found, how far behind each stream is.
fn status_line(live: &Live, report: &vigil_collect::PollReport) -> String {
    let s = live.stats();
    let lag: Vec<String> = live
        .lag()
        .iter()
        .filter_map(|l| {
            l.lag_seconds
                .map(|secs| format!("{} {:.0}s", l.stream, secs))
        })
        .collect();
    format!(
        "{} batches, {} records, {} requests; {} events, {} rejected, {} breaches, {} incidents, {} actions ({} executed autonomously, {} awaiting confirmation); lag: {}",
        report.batches,
        report.records,
        report.requests,
        s.events,
        s.rejected,
        s.breaches,
        s.incidents,
        s.actions_planned,
        s.actions_dispatched,
        s.actions_pending_confirmation,
        if lag.is_empty() { "-".to_string() } else { lag.join(", ") }
    )
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
