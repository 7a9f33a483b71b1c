//! Simulate, replay through ingest, enrichment and the engine, and score: the same path as
//! `vigil simulate` followed by `vigil replay`.

use std::path::{Path, PathBuf};

use vigil_enrich::{EnrichConfig, Enricher, ASN_CSV_FILES, COUNTRY_MMDB_FILE};
use vigil_event::Event;
use vigil_ingest::{NoProgress, ReplayOptions};
use vigil_report::{ActionMode, Report};

use crate::{score_with, Evaluation, ScoreOptions};

/// Why an end-to-end run failed.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("simulation: {0}")]
    Sim(#[from] vigil_sim::SimError),
    #[error("enrichment data: {0}")]
    Enrich(#[from] vigil_enrich::EnrichError),
    #[error("no IP country database found (searched {0}); run scripts/fetch-ip-data.sh: without it the measurement would not be the product's")]
    NoIpData(String),
    #[error("models: {0}")]
    Models(#[from] vigil_engine::ModelError),
    #[error("replay: {0}")]
    Replay(#[from] vigil_ingest::ReplayError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Settings of an end-to-end run beyond the simulation and the engine.
#[derive(Clone, Debug, Default)]
pub struct EndToEndOptions {
    /// Enrichment data; `None` resolves the defaults (`$VIGIL_DATA_DIR`, next to the executable,
    /// `./data/ip`), then the repository's `data/ip` this crate was built from.
    pub enrich: Option<EnrichConfig>,
    pub score: ScoreOptions,
    /// Remove the simulated tenant's log directories afterwards (`truth.json` stays).
    pub remove_logs: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> EvalError + '_ {
    move |source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn enrich_config(given: Option<&EnrichConfig>) -> EnrichConfig {
    if let Some(c) = given {
        return c.clone();
    }
    let mut c = EnrichConfig::default();
    c.resolve_defaults();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("data")
        .join("ip");
    if c.country_mmdb.is_none() {
        c.country_mmdb = Some(repo.join(COUNTRY_MMDB_FILE)).filter(|p| p.is_file());
    }
    if c.asn_csv.is_empty() {
        c.asn_csv = ASN_CSV_FILES
            .iter()
            .map(|f| repo.join(f))
            .filter(|p| p.is_file())
            .collect();
    }
    c
}

/// Simulates `sim` into `scratch/tenant` (cleared first), replays its `audit/`, `signins/` and
/// `messagetrace/` with enrichment and the engine, and scores the report against the truth.
/// The engine's global response mode is forced to `autonomous`, so that what autonomous mode
/// would have done (disabling innocent accounts among it) is measured.
pub fn run_end_to_end(
    sim: &vigil_sim::SimConfig,
    scratch: &Path,
    engine: vigil_engine::EngineConfig,
) -> Result<(Evaluation, Report), EvalError> {
    run_end_to_end_with(sim, scratch, engine, &EndToEndOptions::default())
}

/// [`run_end_to_end`] with options.
pub fn run_end_to_end_with(
    sim: &vigil_sim::SimConfig,
    scratch: &Path,
    mut engine: vigil_engine::EngineConfig,
    opts: &EndToEndOptions,
) -> Result<(Evaluation, Report), EvalError> {
    let cfg = enrich_config(opts.enrich.as_ref());
    let enricher = Enricher::load(&cfg)?;
    if !enricher.has_country_data() {
        return Err(EvalError::NoIpData(format!(
            "{:?}",
            EnrichConfig::default_data_dirs()
        )));
    }

    let tenant = scratch.join("tenant");
    if tenant.exists() {
        std::fs::remove_dir_all(&tenant).map_err(io(&tenant))?;
    }
    vigil_sim::simulate(sim, &tenant, &|_| {})?;
    let truth = vigil_sim::load_truth(&tenant.join("truth.json"))?;

    engine.response.mode = ActionMode::Autonomous;
    let mut engine = vigil_engine::Engine::new(engine)?;
    let dirs: Vec<PathBuf> = ["audit", "signins", "messagetrace"]
        .iter()
        .map(|d| tenant.join(d))
        .filter(|d| d.is_dir())
        .collect();
    let files = vigil_sources::collect_files(&dirs).map_err(io(&tenant))?;
    let enrich = |e: &mut Event| enricher.enrich(e);
    let mut sink = |e: Event| {
        engine.process(&e);
    };
    let summary = vigil_ingest::replay(
        &files,
        &ReplayOptions::default(),
        &enrich,
        &NoProgress,
        &mut sink,
    )?;
    let mut report = Report {
        summary,
        ..Default::default()
    };
    engine.fill_report(&mut report);
    if opts.remove_logs {
        for d in &dirs {
            std::fs::remove_dir_all(d).map_err(io(d))?;
        }
    }
    Ok((score_with(&truth, &report, &opts.score), report))
}
