//! One site's state as Docker, systemd and its socket folder show it ([`observe`]), what would
//! make them agree ([`diff`]), and carrying that out ([`apply`]): what the watcher acts on,
//! `fpm-ondemand status` shows and `renew` does by hand.

pub mod apply;
pub mod diff;

pub use apply::{apply, ApplyError};
pub use diff::{diff, Action, SiteView};

use fpm_docker::{ContainerRuntime, ContainerState};
use fpm_shared::error::chain;
use fpm_shared::{conf, socket_folder, Layout, ServiceManager, Site, UnitState};

/// The sites that have a conf (whatever its header says): the only ones ever acted on.
pub fn managed_sites(layout: &Layout) -> Result<Vec<Site>, conf::ListError> {
    Ok(conf::list_confs(layout)?
        .iter()
        .filter_map(|path| conf::site_of_conf(path).ok())
        .collect())
}

/// Reads everything about a site; what cannot be read is `Unknown` with the reason.
pub async fn observe<R: ContainerRuntime, S: ServiceManager>(
    layout: &Layout,
    docker: &R,
    systemd: &S,
    site: &Site,
) -> SiteView {
    let container = match docker.state(&layout.container(site)).await {
        Ok(state) => state,
        Err(e) => ContainerState::Unknown(chain(&e)),
    };
    SiteView {
        container,
        fpm_unit: unit_state(systemd, &layout.fpm_unit(site)).await,
        waker_socket: unit_state(systemd, &layout.waker_socket_unit(site)).await,
        waker_service: unit_state(systemd, &layout.waker_service_unit(site)).await,
        fpm_socket: socket_folder::probe(&layout.fpm_socket_path(site)).await,
    }
}

async fn unit_state<S: ServiceManager>(systemd: &S, unit: &str) -> UnitState {
    match systemd.active_state(unit).await {
        Ok(state) => state,
        Err(e) => UnitState::Unknown(chain(&e)),
    }
}
