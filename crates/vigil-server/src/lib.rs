//! `vigil serve`: the engine running live behind an HTTP API and a server-rendered console.
//!
//! One process: the store (SQLite in the data directory), one ingest thread that owns the
//! engine ([`ingest`]), a directory watcher, and the HTTP server ([`api`] under `/api/v1`,
//! [`console`] for people). Handlers only read the store, so the console stays quick however
//! busy ingest is.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use tokio::sync::{mpsc, oneshot};
use vigil_engine::EngineConfig;
use vigil_enrich::{EnrichConfig, Enricher};
use vigil_report::ActionMode;
use vigil_store::{Role, SqliteStore, Store};

pub mod api;
pub mod auth;
pub mod console;
pub mod ingest;
pub mod profile;
pub mod respond;

pub use ingest::{Job, JobReport};

/// How `vigil serve` runs.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Holds the store (`vigil.db`), ingest state and the spool of posted bodies.
    pub data_dir: PathBuf,
    /// Where to listen; loopback unless configured otherwise.
    pub listen: SocketAddr,
    pub engine: EngineConfig,
    pub enrich: EnrichConfig,
    pub ingest: vigil_ingest::IngestConfig,
    /// A directory to watch for new log files.
    pub watch: Option<PathBuf>,
    pub watch_every: Duration,
    /// Largest body `POST /api/v1/events` accepts.
    pub max_body_bytes: usize,
    /// Ingest jobs that may wait; beyond this, posted bodies are refused with 503.
    pub queue_len: usize,
    /// TLS certificate chain and private key (PEM).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Password for the `admin` user created on first run; generated when not given.
    pub admin_password: Option<String>,
    /// How long (wall time, from when the server first stored it) a pending action waits for
    /// an analyst before it expires; `None`: it waits until someone decides.
    pub confirm_window: Option<Duration>,
    /// Executors through Microsoft Graph (the `[respond]` section `vigil collect` uses);
    /// `None`: actions are planned and decided, never executed.
    pub respond: Option<RespondSettings>,
}

/// What `vigil serve` needs to act: the `[respond]` section and, from `[collect]`, the
/// endpoints and the application's credentials (the same ones `vigil collect` signs in with).
#[derive(Clone, Debug)]
pub struct RespondSettings {
    pub config: vigil_respond::RespondConfig,
    pub endpoints: vigil_collect::Endpoints,
    pub credentials: vigil_collect::CredentialsConfig,
    /// How often reversible actions past their duration are undone.
    pub undo_every: Duration,
}

impl RespondSettings {
    pub fn new(
        config: vigil_respond::RespondConfig,
        endpoints: vigil_collect::Endpoints,
        credentials: vigil_collect::CredentialsConfig,
    ) -> RespondSettings {
        RespondSettings {
            config,
            endpoints,
            credentials,
            undo_every: respond::UNDO_EVERY,
        }
    }
}

impl ServerConfig {
    pub fn new(data_dir: PathBuf) -> ServerConfig {
        ServerConfig {
            data_dir,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            engine: EngineConfig::default(),
            enrich: EnrichConfig::default(),
            ingest: vigil_ingest::IngestConfig::default(),
            watch: None,
            watch_every: Duration::from_secs(2),
            max_body_bytes: 16 << 20,
            queue_len: 8,
            tls: None,
            admin_password: None,
            confirm_window: Some(Duration::from_secs(24 * 3600)),
            respond: None,
        }
    }
}

/// HTTP counters for `/metrics`.
#[derive(Debug, Default)]
pub struct HttpStats {
    pub requests: AtomicU64,
    pub errors_4xx: AtomicU64,
    pub errors_5xx: AtomicU64,
    pub micros: AtomicU64,
}

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub jobs: mpsc::Sender<Job>,
    pub ingest: Arc<ingest::IngestStats>,
    pub http: HttpStats,
    pub limiter: auth::LoginLimiter,
    pub spool_dir: PathBuf,
    pub spool_seq: AtomicU64,
    pub max_body_bytes: usize,
    pub secure_cookies: bool,
    /// The configured global response mode (the default cap of every model's autonomy).
    pub global_mode: ActionMode,
    pub started: Instant,
    /// The executors, when `[respond]` is configured: autonomous actions are executed as
    /// they are planned, confirmed ones when an analyst confirms them.
    pub responder: Option<respond::Responder>,
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Runs a store call on the blocking pool (SQLite is synchronous).
    pub async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> vigil_store::Result<T> + Send + 'static,
    ) -> vigil_store::Result<T> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&*store))
            .await
            .unwrap_or_else(|e| Err(vigil_store::StoreError::Open(format!("store task: {e}"))))
    }
}

async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let mut res = next.run(req).await;
    let micros = started.elapsed().as_micros() as u64;
    let h = &state.http;
    h.requests.fetch_add(1, Ordering::Relaxed);
    h.micros.fetch_add(micros, Ordering::Relaxed);
    match res.status().as_u16() {
        400..=499 => h.errors_4xx.fetch_add(1, Ordering::Relaxed),
        500..=599 => h.errors_5xx.fetch_add(1, Ordering::Relaxed),
        _ => 0,
    };
    let headers = res.headers_mut();
    // Server time of the request, for benchmarks and for anyone curious.
    headers.insert("x-response-time-us", HeaderValue::from(micros));
    // The console loads nothing from elsewhere, so the policy can be strict.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    res
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(console::routes())
        .nest("/api/v1", api::routes(state.max_body_bytes))
        .route("/metrics", axum::routing::get(api::metrics))
        .fallback(console::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// A started server.
pub struct Running {
    pub addr: SocketAddr,
    /// The generated password of the `admin` user, on the first run only.
    pub generated_admin_password: Option<String>,
    pub state: AppState,
    handle: axum_server::Handle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    watcher: Option<tokio::task::JoinHandle<()>>,
    expiry: Option<tokio::task::JoinHandle<()>>,
    respond_tasks: Option<respond::Tasks>,
    ingest_thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Queues files for ingest; the receiver tells when they are in the store.
    pub async fn ingest_files(
        &self,
        paths: Vec<PathBuf>,
    ) -> anyhow::Result<oneshot::Receiver<Result<JobReport, String>>> {
        let (tx, rx) = oneshot::channel();
        self.state
            .jobs
            .send(Job::Files {
                paths,
                checkpoint: true,
                reply: Some(tx),
            })
            .await
            .map_err(|_| anyhow::anyhow!("the ingest thread has stopped"))?;
        Ok(rx)
    }

    /// Serves until the server stops (it stops on [`Running::shutdown`]).
    pub async fn wait(self) -> anyhow::Result<()> {
        let r = self.server.await;
        // The ingest thread stops once every job sender is gone: the watcher's and the state's.
        for task in [self.watcher, self.expiry].into_iter().flatten() {
            task.abort();
            let _ = task.await;
        }
        drop(self.state);
        if let Some(t) = self.ingest_thread {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
        // Then the executors: what ingest submitted last is taken, executions in flight
        // finish (up to 10 s), and what they did is stored.
        if let Some(t) = self.respond_tasks {
            t.stop(Duration::from_secs(10)).await;
        }
        r.context("server task")?.context("server")
    }

    /// Stops accepting connections, lets requests in flight finish (up to 5 s), and stops.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.handle.graceful_shutdown(Some(Duration::from_secs(5)));
        self.wait().await
    }
}

/// Creates the `admin` user on first run. Returns the password when it was generated.
pub fn bootstrap_admin(
    store: &dyn Store,
    password: Option<&str>,
) -> anyhow::Result<Option<String>> {
    if !store.users()?.is_empty() {
        return Ok(None);
    }
    let (password, generated) = match password {
        Some(p) if p.len() < 8 => {
            anyhow::bail!("the admin password must have at least 8 characters")
        }
        Some(p) => (p.to_string(), false),
        None => (auth::random_token(9), true),
    };
    store.create_user("admin", Role::Admin, &auth::hash_password(&password)?)?;
    Ok(generated.then_some(password))
}

/// Once a minute, expires the pending actions whose confirmation window has passed.
async fn expire_pending_actions(store: Arc<dyn Store>, window: Duration) {
    // Short windows (tests) are checked more often than once a minute.
    let every = window.clamp(Duration::from_millis(100), Duration::from_secs(60));
    let window = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
    loop {
        let now = chrono::Utc::now();
        let store = store.clone();
        let expired = tokio::task::spawn_blocking(move || {
            store.expire_pending(now.checked_sub_signed(window).unwrap_or(now), now)
        })
        .await;
        match expired {
            Ok(Ok(ids)) if !ids.is_empty() => {
                tracing::info!(?ids, "pending actions expired unanswered")
            }
            Ok(Err(e)) => tracing::warn!("cannot expire pending actions: {e}"),
            _ => {}
        }
        tokio::time::sleep(every).await;
    }
}

/// Opens the store, restores the engine, starts ingest, the watcher and the HTTP server.
pub async fn start(config: ServerConfig) -> anyhow::Result<Running> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let spool_dir = config.data_dir.join("spool");
    std::fs::create_dir_all(&spool_dir)
        .with_context(|| format!("cannot create {}", spool_dir.display()))?;
    let db = config.data_dir.join("vigil.db");
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&db)
            .with_context(|| format!("cannot open the store {}", db.display()))?,
    );
    let generated_admin_password = bootstrap_admin(&*store, config.admin_password.as_deref())?;

    let mut enrich = config.enrich.clone();
    enrich.resolve_defaults();
    let enricher = Arc::new(Enricher::load(&enrich).context("cannot load enrichment data")?);
    if !enricher.has_country_data() {
        tracing::warn!(
            "no IP country database found; run scripts/fetch-ip-data.sh (searched {:?})",
            EnrichConfig::default_data_dirs()
        );
    }
    let (responder, respond_tasks) = match config.respond.as_ref().filter(|r| r.config.enabled) {
        Some(r) => {
            let credentials = vigil_collect::Credentials::resolve(&r.credentials)
                .context("[respond] needs the application's credentials ([collect.credentials] or VIGIL_M365_*)")?;
            let tokens = Arc::new(vigil_collect::client::TokenSource::new(
                vigil_collect::client::http_client(),
                &r.endpoints.login,
                credentials,
            ));
            let ledger = config.data_dir.join("respond");
            let (responder, tasks) = respond::start(
                store.clone(),
                |sink| {
                    vigil_respond::Executor::new(
                        tokens,
                        &r.endpoints.graph,
                        r.config.clone(),
                        Some(ledger.clone()),
                        Some(sink),
                    )
                },
                r.undo_every,
            )
            .with_context(|| {
                format!(
                    "cannot start the executors (ledger in {})",
                    ledger.display()
                )
            })?;
            tracing::info!(
                "response connected: actions are executed through {}",
                r.endpoints.graph
            );
            (Some(responder), Some(tasks))
        }
        None => (None, None),
    };
    let stats = Arc::new(ingest::IngestStats::default());
    let options = vigil_ingest::ReplayOptions {
        ingest: config.ingest.clone(),
        state_dir: Some(config.data_dir.join("ingest")),
        ..Default::default()
    };
    let ingestor = ingest::Ingestor::new(
        store.clone(),
        config.engine.clone(),
        enricher,
        options,
        stats.clone(),
        responder.clone(),
    )?;
    let (jobs, rx) = mpsc::channel(config.queue_len.max(1));
    let ingest_thread = ingest::spawn(ingestor, rx);
    // Bodies accepted (202) but not yet read when the last run stopped are read first.
    let mut leftovers: Vec<PathBuf> = std::fs::read_dir(&spool_dir)
        .with_context(|| format!("cannot read {}", spool_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    leftovers.sort();
    for spool in leftovers {
        tracing::info!("reading {} left from the last run", spool.display());
        let (reply, _) = oneshot::channel();
        jobs.send(Job::Posted { spool, reply })
            .await
            .map_err(|_| anyhow::anyhow!("the ingest thread has stopped"))?;
    }
    let mut watcher = None;
    if let Some(dir) = &config.watch {
        anyhow::ensure!(dir.is_dir(), "--watch {}: not a directory", dir.display());
        watcher = Some(tokio::spawn(ingest::watch(
            dir.clone(),
            config.watch_every,
            store.clone(),
            jobs.clone(),
        )));
    }

    let expiry = config.confirm_window.map(|window| {
        let store = store.clone();
        tokio::spawn(expire_pending_actions(store, window))
    });

    let state = AppState(Arc::new(Inner {
        store,
        jobs,
        ingest: stats,
        http: HttpStats::default(),
        limiter: auth::LoginLimiter::default(),
        spool_dir,
        spool_seq: AtomicU64::new(0),
        max_body_bytes: config.max_body_bytes,
        secure_cookies: config.tls.is_some(),
        global_mode: config.engine.response.mode,
        started: Instant::now(),
        responder,
    }));
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let listener = std::net::TcpListener::bind(config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let handle = axum_server::Handle::new();
    let server = match &config.tls {
        Some((cert, key)) => {
            // One crypto provider for the process; a second install is a no-op error.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .with_context(|| {
                    format!(
                        "cannot load the TLS certificate {} and key {}",
                        cert.display(),
                        key.display()
                    )
                })?;
            let server = axum_server::from_tcp_rustls(listener, tls).handle(handle.clone());
            tokio::spawn(async move { server.serve(app).await })
        }
        None => {
            let server = axum_server::from_tcp(listener).handle(handle.clone());
            tokio::spawn(async move { server.serve(app).await })
        }
    };
    Ok(Running {
        addr,
        generated_admin_password,
        state,
        handle,
        server,
        watcher,
        expiry,
        respond_tasks,
        ingest_thread: Some(ingest_thread),
    })
}
