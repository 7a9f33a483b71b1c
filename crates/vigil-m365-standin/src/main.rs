//! `vigil-m365-standin [--listen ADDR] [--tenant DIR]`: serves the stand-in for manual trials of
//! `vigil collect` (point the configuration's endpoints at the printed URL). With `--tenant`,
//! the audit/, signins/ and messagetrace/ files written by `vigil simulate` are published at
//! start.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use vigil_m365_standin::{load_tenant_dir, StandIn, StandInConfig};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let mut listen = "127.0.0.1:8365".to_string();
    let mut tenant: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next().context("--listen needs ADDR:PORT")?,
            "--tenant" => tenant = Some(args.next().context("--tenant needs a directory")?.into()),
            "-h" | "--help" => {
                println!("usage: vigil-m365-standin [--listen 127.0.0.1:8365] [--tenant DIR]");
                return Ok(());
            }
            other => bail!("unknown argument {other:?}; try --help"),
        }
    }
    let config = StandInConfig::default();
    let standin = StandIn::start_on(listen.parse().context("--listen: not ADDR:PORT")?, config)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    if let Some(dir) = &tenant {
        let n = load_tenant_dir(&standin, dir)?;
        eprintln!("published {n} records from {}", dir.display());
    }
    let c = standin.config();
    let secret = match &c.credential {
        vigil_m365_standin::ClientCredential::Secret(s) => s.clone(),
        vigil_m365_standin::ClientCredential::Certificate { .. } => "(certificate)".into(),
    };
    println!(
        "stand-in at {}  tenant_id={} client_id={} client_secret={}",
        standin.base_url(),
        c.tenant_id,
        c.client_id,
        secret
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
