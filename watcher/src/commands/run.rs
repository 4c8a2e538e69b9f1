//! `fpm-watcher run` (the default): the daemon of fpm-watcher.service.

use crate::daemon::reload::{on_hangup, LoadConfig};
use crate::daemon::service::{self, Activated};
use crate::daemon::Settings;
use crate::metrics::Metrics;
use fpm_shared::Layout;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Reconciles every site, then follows Docker's events until SIGTERM or SIGINT; on SIGHUP reads
/// the config again with `reload` and puts its budget in force.
pub async fn run(
    layout: &Layout,
    reload: LoadConfig,
    reconcile_every: Duration,
    ping_every: Duration,
) -> anyhow::Result<ExitCode> {
    let (docker, systemd) = (super::docker(layout).await?, super::systemd().await?);
    let settings = Settings {
        reconcile_every,
        ping_every,
        watchdog_every: sd_notify::watchdog_enabled().map(|d| d / 2),
        now_nanos: service::now_nanos,
    };
    let metrics = Arc::new(Metrics::new());
    let ctx = super::ctx(layout, &docker, &systemd, &metrics);
    let token = CancellationToken::new();
    tokio::spawn(super::on_signals(token.clone()));
    let (budget, budget_rx) = watch::channel(layout.budget.clone());
    tokio::spawn(on_hangup(reload, layout.clone(), budget, token.clone()));
    service::serve(
        ctx,
        &settings,
        Activated::from_systemd()?,
        (metrics.clone(), budget_rx),
        &token,
    )
    .await?;
    Ok(ExitCode::SUCCESS)
}
