//! `fpm-ondemand report [--since 24h]`.

use crate::cli::Format;
use crate::report::{compute, journal, sites_now};
use anyhow::Context as _;
use fpm_shared::Layout;
use std::process::ExitCode;
use std::time::Duration;

/// Prints what each site cost over the period, read from the journal.
pub async fn run(layout: &Layout, since: Duration, format: Format) -> anyhow::Result<ExitCode> {
    let docker = super::docker(layout).await?;
    let now = chrono::Utc::now();
    let since = now - chrono::Duration::from_std(since).context("--since is too long")?;
    let sites = sites_now(layout, &docker).await?;
    let (units, wakes) = journal::read(layout, since).context("reading the journal")?;
    let report = compute(since, now, &sites, &units, &wakes);
    match format {
        Format::Text => print!("{}", report.to_text()),
        Format::Json => print!("{}", report.to_json()),
    }
    Ok(ExitCode::SUCCESS)
}
