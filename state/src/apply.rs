//! Carrying out one [`Action`] of the diff: through systemd, or on the socket folder by its rules.

use crate::diff::Action;
use fpm_shared::error::Chain;
use fpm_shared::socket_folder::{self, SocketError};
use fpm_shared::{Layout, ServiceManager, Site, SystemdError};

/// Why an action (or one of `renew`'s steps) failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A systemd job or call failed.
    #[error(transparent)]
    Systemd(#[from] SystemdError),
    /// The stale socket was not removed.
    #[error(transparent)]
    Socket(#[from] SocketError),
}

/// Carries out one action for `site`.
pub async fn apply<S: ServiceManager>(
    layout: &Layout,
    systemd: &S,
    site: &Site,
    action: Action,
) -> Result<(), ApplyError> {
    let (l, sd) = (layout, systemd);
    match action {
        Action::StopWakerService => sd.stop_unit(&l.waker_service_unit(site)).await?,
        Action::StopFpmUnit => sd.stop_unit(&l.fpm_unit(site)).await?,
        Action::StartFpmUnit => {
            let unit = l.fpm_unit(site);
            reset_failed(sd, site, &unit).await;
            sd.start_unit(&unit).await?
        }
        Action::RearmWakerSocket => {
            // The service's start-limit counter too, or the socket fails again at once.
            reset_failed(sd, site, &l.waker_service_unit(site)).await;
            let unit = l.waker_socket_unit(site);
            reset_failed(sd, site, &unit).await;
            sd.start_unit(&unit).await?
        }
        Action::RemoveStaleSocket => {
            socket_folder::remove_stale(&l.socket_dir(site), &l.fpm_socket_path(site)).await?
        }
    }
    Ok(())
}

/// Clears a unit's failed state before it is started; a failure is logged, and the start that
/// follows says whether it mattered.
async fn reset_failed<S: ServiceManager>(systemd: &S, site: &Site, unit: &str) {
    if let Err(e) = systemd.reset_failed(unit).await {
        tracing::warn!(site = %site, unit, error = %Chain(&e), "cannot clear the unit's failed state");
    }
}
