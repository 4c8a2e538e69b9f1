//! `fpm-watcher start-container SITE`: the `ExecStart` of fpm@SITE.service.

use crate::start_container::{start_container, Started};
use anyhow::Context as _;
use fpm_shared::{Layout, Site};
use std::process::ExitCode;

/// Starts the site's container (asking the admission first when a budget is set); exits
/// [`fpm_shared::budget::NO_ROOM_EXIT`] when no room was made in time.
pub async fn run(layout: &Layout, site: &Site) -> anyhow::Result<ExitCode> {
    // On a cold request's path: no D-Bus connection, which starting does not need.
    let docker = super::docker(layout).await?;
    let started = start_container(layout, &docker, site)
        .await
        .with_context(|| format!("starting {}", layout.container(site)))?;
    Ok(match started {
        Started::Running => ExitCode::SUCCESS,
        Started::NoRoom => ExitCode::from(fpm_shared::budget::NO_ROOM_EXIT as u8),
    })
}
