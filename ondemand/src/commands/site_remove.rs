//! `fpm-ondemand site remove SITE [--keep-container] [--force]`.

use crate::site_remove::{remove, RemoveError, RemoveOptions};
use fpm_shared::{Layout, Site};
use std::process::ExitCode;

/// Removes the site, printing each step done; a refusal exits 2 with why.
pub async fn run(
    layout: &Layout,
    site: &Site,
    keep_container: bool,
    force: bool,
) -> anyhow::Result<ExitCode> {
    let (docker, systemd) = (super::docker(layout).await?, super::systemd().await?);
    let opts = RemoveOptions {
        keep_container,
        force,
    };
    let mut done = |line: String| println!("ok    {line}");
    match remove(layout, &docker, &systemd, site, opts, &mut done).await {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(
            e @ (RemoveError::NotASite { .. }
            | RemoveError::InUse { .. }
            | RemoveError::Nginx { .. }),
        ) => {
            eprintln!("fpm-ondemand: {e}");
            Ok(ExitCode::from(2))
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("removing site {site}"))),
    }
}
