//! One module per subcommand of `fpm-watcher`, each with its `run`; and what they share:
//! connecting to Docker and systemd, and cancelling on SIGTERM or SIGINT.

pub mod run;
pub mod start_container;
pub mod start_site;
pub mod stop_container;

use crate::actor::Ctx;
use crate::metrics::Metrics;
use fpm_docker::DockerClient;
use fpm_shared::{Layout, Systemd};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The Docker engine the config names, its API version agreed.
async fn docker(layout: &Layout) -> anyhow::Result<DockerClient> {
    Ok(DockerClient::connect(&layout.docker_socket, layout.docker_timeout()).await?)
}

/// systemd's manager over D-Bus. Its jobs end at the units' own timeouts; 90 s only guards a
/// lost answer.
async fn systemd() -> anyhow::Result<Systemd> {
    Ok(Systemd::connect(Duration::from_secs(90)).await?)
}

fn ctx<'a>(
    layout: &'a Layout,
    docker: &'a DockerClient,
    systemd: &'a Systemd,
    metrics: &'a Metrics,
) -> Ctx<'a, DockerClient, Systemd> {
    Ctx {
        layout,
        docker,
        systemd,
        metrics,
    }
}

/// Cancels `token` on SIGTERM or SIGINT, telling systemd the service is stopping.
async fn on_signals(token: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers");
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: finishing the current site, then exiting"),
        _ = int.recv() => tracing::info!("SIGINT: finishing the current site, then exiting"),
    }
    if let Err(e) = sd_notify::notify(&[sd_notify::NotifyState::Stopping]) {
        tracing::debug!(error = %e, "cannot notify STOPPING=1");
    }
    token.cancel();
}
