//! `vigil serve`: the store, live ingest and detection, the API and the console in one process.
//! With `--demo`, a generated tenant with the reference attack is replayed into it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::Config;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); see docs/configuration.md.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory: the store (vigil.db), ingest state, spooled posts, the demo tenant.
    #[arg(long, default_value = ".vigil")]
    data: PathBuf,
    /// Address to listen on. Loopback by default; anything else exposes the console.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Watch this directory for new log files (any format `vigil replay` reads).
    #[arg(long, value_name = "DIR")]
    watch: Option<PathBuf>,
    /// Generate a tenant with the reference attack (as `vigil demo` does) and replay it into
    /// the server, so the incident is there within a minute.
    #[arg(long)]
    demo: bool,
    /// Accounts in the demo tenant.
    #[arg(long, default_value_t = 200)]
    demo_accounts: usize,
    /// Days of history in the demo tenant; the attack starts two days before the end.
    #[arg(long, default_value_t = 21)]
    demo_days: u32,
    #[arg(long, default_value_t = 2022)]
    demo_seed: u64,
    /// Global response mode: the most autonomy a model gets unless an admin switches it.
    #[arg(long, value_parser = ["confirm", "autonomous", "off"])]
    mode: Option<String>,
    /// Password of the `admin` user created on the first run (at least 8 characters);
    /// generated and printed once when not given.
    #[arg(long, env = "VIGIL_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: Option<String>,
    /// TLS certificate chain (PEM); with --tls-key, the server speaks HTTPS only.
    #[arg(long, requires = "tls_key", value_name = "PEM")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert", value_name = "PEM")]
    tls_key: Option<PathBuf>,
    /// Hours a pending action waits for an analyst before it expires (0: until someone decides).
    #[arg(long, default_value_t = 24)]
    confirm_window_hours: u64,
    /// Largest body POST /api/v1/events accepts, in MiB.
    #[arg(long, default_value_t = 16)]
    max_body_mib: usize,
}

pub fn serve(args: ServeArgs) -> Result<ExitCode> {
    let config = Config::load(args.config.as_deref())?;
    let mut server = vigil_server::ServerConfig::new(args.data.clone());
    server.listen = args.listen;
    server.engine = config.engine()?;
    if let Some(mode) = &args.mode {
        server.engine.response.mode =
            vigil_store::parse_mode(mode).context("--mode: confirm, autonomous or off")?;
    }
    server.enrich = config.enrich.clone();
    server.ingest = config.ingest.clone();
    server.watch = args.watch.clone();
    server.max_body_bytes = args.max_body_mib.max(1) << 20;
    server.tls = args.tls_cert.clone().zip(args.tls_key.clone());
    server.admin_password = args.admin_password.clone();
    // The `[respond]` section `vigil collect` uses, with its endpoints and credentials
    // (`[collect.endpoints]`, `[collect.credentials]` or VIGIL_M365_*): serve executes actions.
    server.respond = config.respond.clone().map(|r| {
        vigil_server::RespondSettings::new(
            r,
            config.collect.endpoints.clone(),
            config.collect.credentials.clone(),
        )
    });
    server.confirm_window = (args.confirm_window_hours > 0)
        .then(|| std::time::Duration::from_secs(args.confirm_window_hours * 3600));
    anyhow::ensure!(
        !args.demo || args.demo_days >= 3,
        "--demo-days must be at least 3"
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run(args, server))
}

async fn run(args: ServeArgs, config: vigil_server::ServerConfig) -> Result<ExitCode> {
    let tls = config.tls.is_some();
    let running = vigil_server::start(config).await?;
    match &running.state.responder {
        Some(_) => eprintln!("vigil: response connected: actions are executed through Microsoft Graph ([respond])"),
        None => eprintln!("vigil: response not connected: actions are planned and decided, not executed (add [respond] to act)"),
    }
    let scheme = if tls { "https" } else { "http" };
    let url = format!("{scheme}://{}/", running.addr);
    eprintln!(
        "vigil: console at {url}  (API under {url}api/v1, OpenAPI at {url}api/v1/openapi.json)"
    );
    if !running.addr.ip().is_loopback() {
        eprintln!(
            "vigil: listening on {}, reachable from other machines",
            running.addr
        );
    }
    match &running.generated_admin_password {
        Some(p) => eprintln!(
            "vigil: created user `admin` with password {p}  (shown once; set VIGIL_ADMIN_PASSWORD to choose it)"
        ),
        None if args.admin_password.is_some() => {}
        None => eprintln!("vigil: log in with an existing user (the store in {} has users)", args.data.display()),
    }
    // Printed for scripts (the browser test reads it) once the server accepts connections.
    println!("listening {}", running.addr);

    let demo = if args.demo {
        Some(start_demo(&args, &running).await?)
    } else {
        None
    };
    let state = running.state.clone();
    let waiter = tokio::spawn(async move {
        if let Some(rx) = demo {
            match rx.await {
                Ok(Ok(report)) => {
                    let counts = state.db(|s| s.counts()).await;
                    let incidents = counts.map(|c| c.incidents).unwrap_or(0);
                    eprintln!(
                        "vigil: demo replayed: {} records, {} events, {} breaches; {incidents} incidents in the queue",
                        report.records, report.events, report.breaches
                    );
                }
                Ok(Err(e)) => eprintln!("vigil: the demo replay failed: {e}"),
                Err(_) => eprintln!("vigil: the demo replay was interrupted"),
            }
        }
    });
    stop_signal().await?;
    eprintln!("vigil: stopping");
    waiter.abort();
    running.shutdown().await?;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or SIGTERM (what service managers and `kill` send): both stop gracefully.
async fn stop_signal() -> Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("cannot listen for SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("cannot listen for Ctrl-C"),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .context("cannot listen for Ctrl-C")
    }
}

/// Generates the demo tenant (once per data directory) and queues the files not yet read.
async fn start_demo(
    args: &ServeArgs,
    running: &vigil_server::Running,
) -> Result<tokio::sync::oneshot::Receiver<Result<vigil_server::JobReport, String>>> {
    let tenant = args.data.join("demo-tenant");
    if !tenant.join("truth.json").exists() {
        eprintln!(
            "vigil: generating the demo tenant: {} accounts x {} days, the reference attack on day {} ...",
            args.demo_accounts,
            args.demo_days,
            args.demo_days - 2
        );
        let sim = vigil_sim::SimConfig::reference_demo(
            args.demo_accounts,
            args.demo_days,
            args.demo_seed,
        );
        let dir = tenant.clone();
        tokio::task::spawn_blocking(move || vigil_sim::simulate(&sim, &dir, &|_| {}))
            .await
            .context("the simulator stopped")?
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let paths: Vec<PathBuf> = ["audit", "signins", "messagetrace"]
        .iter()
        .map(|d| tenant.join(d))
        .collect();
    // A restart with the same data directory does not read the tenant again: its files are
    // checkpointed, and their records would only be counted as duplicates.
    let done: std::collections::HashSet<String> = running
        .state
        .db(|s| s.checkpoints())
        .await?
        .into_iter()
        .map(|c| c.source)
        .collect();
    let files: Vec<PathBuf> = vigil_sources::collect_files(&paths)?
        .into_iter()
        .filter(|f| !done.contains(&f.display().to_string()))
        .collect();
    if files.is_empty() {
        eprintln!("vigil: the demo tenant is already in the store");
    } else {
        eprintln!(
            "vigil: replaying the demo tenant ({} files) into the store; the console shows the incident when it is done",
            files.len()
        );
    }
    let started = std::time::Instant::now();
    let rx = running.ingest_files(files).await?;
    let (tx, out) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let r = rx.await.unwrap_or_else(|_| Err("interrupted".into()));
        if r.is_ok() {
            eprintln!(
                "vigil: demo ingest took {:.1}s",
                started.elapsed().as_secs_f64()
            );
        }
        let _ = tx.send(r);
    });
    Ok(out)
}
