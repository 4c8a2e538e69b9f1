//! `fpm-watcher start-container SITE`, the `ExecStart` of `fpm@SITE.service`: starts the site's
//! container and returns once it runs. On a cold request's path: it needs Docker only, and the
//! watcher's admission when a budget of awake sites is set.

use fpm_docker::{ContainerRuntime, DockerError};
use fpm_shared::admission::client::{self, Answer};
use fpm_shared::conf::{self, ListError};
use fpm_shared::error::chain;
use fpm_shared::{Layout, Site};
use std::path::PathBuf;

/// Why a site's container was not started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The site has no conf: not a managed site (a retired one, a typo, another tenant's name).
    #[error("{site} has no conf in {}: not a managed site, not started", dir.display())]
    NotManaged {
        /// The site.
        site: Site,
        /// The conf folder.
        dir: PathBuf,
    },
    /// The conf folder cannot be read or is not trusted.
    #[error(transparent)]
    Confs(#[from] ListError),
    /// Docker did not start it.
    #[error(transparent)]
    Docker(#[from] DockerError),
}

/// Ok when `site` has a conf in `layout`'s folder: only a managed site is ever started.
pub fn managed(layout: &Layout, site: &Site) -> Result<(), StartError> {
    match conf::conf_of(layout, site)? {
        Some(_) => Ok(()),
        None => Err(StartError::NotManaged {
            site: site.clone(),
            dir: layout.conf_dir.clone(),
        }),
    }
}

/// How a start ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// The container runs.
    Running,
    /// The budget is full and no room was made within the wait: nothing was started.
    NoRoom,
}

/// Starts the site's container (one already running is left as it is) and logs it; only a
/// managed site's (one with a conf). With a budget set, it first waits to be let in by the
/// watcher's admission (which may stop a quiet site to make room); if the watcher cannot be
/// asked, it starts anyway.
pub async fn start_container<R: ContainerRuntime>(
    layout: &Layout,
    docker: &R,
    site: &Site,
) -> Result<Started, StartError> {
    managed(layout, site)?;
    let container = layout.container(site);
    let unit = layout.fpm_unit(site);
    let budget = &layout.budget;
    // Held until the container runs: the admission counts the start until then.
    let _admitted = if budget.enabled() {
        match client::ask(&layout.admission_socket, site, budget.wait()).await {
            Answer::Admitted(connection) => Some(connection),
            Answer::NoRoom => {
                tracing::warn!(site = %site, %unit, %container, max_awake = budget.max_awake, waited_secs = budget.wait_secs,
                    "no room for the site within the wait: not started (the waker answers 503)");
                return Ok(Started::NoRoom);
            }
            Answer::Unavailable(e) => {
                let socket = layout.admission_socket.display();
                tracing::warn!(site = %site, %unit, %container, error = chain(&e),
                    "the watcher's admission ({socket}) cannot be asked: starting without it");
                None
            }
        }
    } else {
        None
    };
    docker.start(&container).await?;
    tracing::info!(site = %site, %unit, %container, "container started");
    Ok(Started::Running)
}
