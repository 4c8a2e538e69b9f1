//! `fpm-ondemand site check SITE`.

use crate::site_check::{gather, judge, print};
use fpm_shared::{Layout, Site};
use std::process::ExitCode;

/// Checks every link of the site's chain; exit 1 when one fails.
pub async fn run(layout: &Layout, site: &Site) -> anyhow::Result<ExitCode> {
    let (docker, systemd) = (super::docker(layout).await?, super::systemd().await?);
    let facts = gather(layout, &docker, &systemd, site).await;
    Ok(ExitCode::from(print(site, &judge(layout, site, &facts))))
}
