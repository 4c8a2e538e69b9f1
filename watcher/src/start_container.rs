//! `fpm-watcher start-container SITE`, the `ExecStart` of `fpm@SITE.service`: starts the site's
//! container and returns once it runs. On a cold request's path: it needs Docker only.

use fpm_shared::docker::{ContainerRuntime, DockerError};
use fpm_shared::{Layout, Site};

/// Starts the site's container (one already running is left as it is) and logs it.
pub async fn start_container<R: ContainerRuntime>(
    layout: &Layout,
    docker: &R,
    site: &Site,
) -> Result<(), DockerError> {
    let container = layout.container(site);
    let unit = layout.fpm_unit(site);
    docker.start(&container).await?;
    tracing::info!(site = %site, unit, container, "container started");
    Ok(())
}
