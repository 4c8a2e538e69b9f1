//! `fpm-ondemand renew SITE`.

use crate::renew::{print, renew};
use fpm_shared::{Layout, Site};
use std::process::ExitCode;

/// Resets the site step by step, printing each step; exit 1 when one failed.
pub async fn run(layout: &Layout, site: &Site) -> anyhow::Result<ExitCode> {
    let systemd = super::systemd().await?;
    let steps = renew(layout, &systemd, site).await;
    Ok(ExitCode::from(print(&steps)))
}
