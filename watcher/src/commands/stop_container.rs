//! `fpm-watcher stop-container SITE`: the `ExecStop` of fpm@SITE.service (the drained stop).

use crate::metrics::Metrics;
use crate::stop_container::stop_container;
use anyhow::Context as _;
use fpm_shared::{Layout, Site};
use std::process::ExitCode;
use std::time::Duration;

/// Stops the site's container once its running requests are answered, `grace` at most.
pub async fn run(layout: &Layout, site: &Site, grace: Duration) -> anyhow::Result<ExitCode> {
    let (docker, systemd) = (super::docker(layout).await?, super::systemd().await?);
    let metrics = Metrics::new();
    let ctx = super::ctx(layout, &docker, &systemd, &metrics);
    stop_container(ctx, site, grace, chrono::Utc::now())
        .await
        .with_context(|| format!("stopping {}", layout.container(site)))?;
    Ok(ExitCode::SUCCESS)
}
